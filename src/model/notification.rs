//! A notification: what changed, the fields subscriptions filter on, and the message sent.

use serde_json::Value;

use super::subscription::NotificationKind;

/// One notification: its kind, the fields subscriptions filter on, and the JSON sent.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification {
    /// What happened.
    pub kind: NotificationKind,
    /// The resource type concerned, if any.
    pub resource_type: Option<String>,
    /// The rule concerned, if any.
    pub rule: Option<String>,
    /// The new compliance type, for compliance changes.
    pub compliance: Option<String>,
    /// The message, in AWS's shape for its kind.
    pub body: Value,
}
