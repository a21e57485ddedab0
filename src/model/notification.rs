//! A notification: what changed, the fields subscriptions filter on, and the message sent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The kinds of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum NotificationKind {
    /// A new configuration version (`ConfigurationItemChangeNotification`).
    Configuration,
    /// A rule's verdict on a resource changed (`ComplianceChangeNotification`).
    Compliance,
    /// A remediation job changed state (`RemediationJobChangeNotification`).
    Remediation,
    /// A CloudTrail call matched a subscription's pattern (EventBridge "AWS API Call via CloudTrail").
    ApiEvent,
}

impl NotificationKind {
    /// The name used in URLs, SSE event names and configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Configuration => "configuration",
            NotificationKind::Compliance => "compliance",
            NotificationKind::Remediation => "remediation",
            NotificationKind::ApiEvent => "api-event",
        }
    }

    /// Parses [`NotificationKind::as_str`]'s names.
    pub fn parse(text: &str) -> Option<NotificationKind> {
        [
            NotificationKind::Configuration,
            NotificationKind::Compliance,
            NotificationKind::Remediation,
            NotificationKind::ApiEvent,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

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
