//! Webhook subscriptions: which notifications go where.

use serde::{Deserialize, Serialize};

use super::hub::Notification;
use crate::model::ApiEvent;
use crate::remediation::backoff::Backoff;

/// The kinds of notification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
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

/// Which calls' outcome a pattern accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ErrorMatch {
    /// Successful and failed calls.
    #[default]
    Any,
    /// Only calls that failed (with an errorCode).
    Only,
    /// Only successful calls.
    None,
}

/// A pattern on CloudTrail calls, like an EventBridge rule: every non-empty list must match.
/// Keys as in the configuration file (`[subscriptions.api_events]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiEventPattern {
    /// e.g. `s3.amazonaws.com`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_sources: Vec<String>,
    /// e.g. `DeleteBucket`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub event_names: Vec<String>,
    /// User names or ARNs (the caller's, or its role's).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub users: Vec<String>,
    /// Successful calls, failed ones, or both.
    #[serde(default)]
    pub errors: ErrorMatch,
}

impl ApiEventPattern {
    /// Whether the call matches.
    pub fn matches(&self, event: &ApiEvent) -> bool {
        let listed =
            |list: &[String], value: &str| list.is_empty() || list.iter().any(|v| v == value);
        let identity = &event.user_identity;
        let user_ok = self.users.is_empty()
            || [
                Some(event.username.as_str()),
                identity.user_name.as_deref(),
                identity.arn.as_deref(),
                identity.session_issuer_arn.as_deref(),
                identity.session_issuer_name.as_deref(),
            ]
            .into_iter()
            .flatten()
            .any(|name| self.users.iter().any(|u| u == name));
        let error_ok = match self.errors {
            ErrorMatch::Any => true,
            ErrorMatch::Only => event.error_code.is_some(),
            ErrorMatch::None => event.error_code.is_none(),
        };
        listed(&self.event_sources, &event.event_source)
            && listed(&self.event_names, &event.event_name)
            && user_ok
            && error_ok
    }

    /// Whether the pattern constrains anything (an empty one would match every call).
    pub fn is_empty(&self) -> bool {
        self.event_sources.is_empty() && self.event_names.is_empty() && self.users.is_empty()
    }
}

/// A webhook that receives notifications.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Unique name.
    pub name: String,
    /// Where notifications are POSTed.
    pub url: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: Vec<(String, String)>,
    /// What it receives.
    pub kinds: Vec<NotificationKind>,
    /// Only these resource types (empty: all).
    #[serde(default)]
    pub resource_types: Vec<String>,
    /// Only these rules, for compliance and remediation (empty: all).
    #[serde(default)]
    pub rules: Vec<String>,
    /// Only these new compliance types, e.g. NON_COMPLIANT (empty: all).
    #[serde(default)]
    pub compliance: Vec<String>,
    /// The calls it receives, for `api-event`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_events: Option<ApiEventPattern>,
    /// Attempts per notification before giving up.
    pub max_attempts: u32,
    /// Delays between attempts.
    pub backoff: Backoff,
}

impl Subscription {
    /// Checks what cannot be expressed in types; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.len() > 128 || self.name.contains(['/', '\0']) {
            return Err(format!(
                "name: {:?} must be 1 to 128 characters without '/'",
                self.name
            ));
        }
        crate::remediation::action::Action::Webhook(crate::remediation::action::WebhookAction {
            url: self.url.clone(),
            headers: self.headers.clone(),
        })
        .validate()?;
        if self.kinds.is_empty() {
            return Err("kinds: at least one kind is needed".into());
        }
        if self.kinds.contains(&NotificationKind::ApiEvent)
            && self
                .api_events
                .as_ref()
                .is_none_or(ApiEventPattern::is_empty)
        {
            return Err(
                "apiEvents: kind api-event needs a pattern with eventSources, eventNames or users"
                    .into(),
            );
        }
        if self.max_attempts == 0 {
            return Err("maxAttempts: must be at least 1".into());
        }
        Ok(())
    }

    /// Whether this subscription wants the notification.
    pub fn wants(&self, notification: &Notification, event: Option<&ApiEvent>) -> bool {
        if !self.kinds.contains(&notification.kind) {
            return false;
        }
        if notification.kind == NotificationKind::ApiEvent {
            return match (&self.api_events, event) {
                (Some(pattern), Some(event)) => pattern.matches(event),
                _ => false,
            };
        }
        let filter = |list: &[String], value: &Option<String>| {
            list.is_empty() || value.as_ref().is_some_and(|v| list.contains(v))
        };
        filter(&self.resource_types, &notification.resource_type)
            && (notification.kind == NotificationKind::Configuration
                || filter(&self.rules, &notification.rule))
            && (notification.kind != NotificationKind::Compliance
                || filter(&self.compliance, &notification.compliance))
    }
}
