//! Webhook subscriptions: which notifications go where.

use serde::{Deserialize, Serialize};

use super::backoff::Backoff;
use super::notification::{Notification, NotificationKind};
use super::ApiEvent;

/// Which calls' outcome a pattern accepts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ApiEventPattern {
    /// e.g. `s3.amazonaws.com`.
    #[serde(
        alias = "event_sources",
        default,
        skip_serializing_if = "Vec::is_empty"
    )]
    pub event_sources: Vec<String>,
    /// e.g. `DeleteBucket`.
    #[serde(alias = "event_names", default, skip_serializing_if = "Vec::is_empty")]
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
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    /// Unique name.
    pub name: String,
    /// Where notifications are POSTed, with which headers, signed with which secret.
    #[serde(flatten)]
    pub webhook: super::action::WebhookAction,
    /// What it receives.
    pub kinds: Vec<NotificationKind>,
    /// Only these resource types (empty: all; left out then, so the answer can be sent back).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_types: Vec<String>,
    /// Only these rules, for compliance and remediation (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<String>,
    /// Only these new compliance types, e.g. NON_COMPLIANT (empty: all).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
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
    /// The subscription as answers show it: header values and stored secrets hidden.
    pub fn redacted(&self) -> Subscription {
        Subscription {
            webhook: self.webhook.redacted(),
            ..self.clone()
        }
    }

    /// Checks what cannot be expressed in types; the message names the field.
    pub fn validate(&self) -> Result<(), String> {
        if self.name.is_empty() || self.name.len() > 128 || self.name.contains(['/', '\0']) {
            return Err(format!(
                "name: {:?} must be 1 to 128 characters without '/'",
                self.name
            ));
        }
        self.webhook.validate()?;
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
                "api_events: kind api-event needs a pattern with event_sources, event_names or users"
                    .into(),
            );
        }
        if self.max_attempts == 0 {
            return Err("max_attempts: must be at least 1".into());
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Jitter;
    use crate::model::UserIdentity;

    fn event(source: &str, name: &str, user: &str, error: Option<&str>) -> ApiEvent {
        ApiEvent {
            event_id: "e".into(),
            event_time: crate::model::now_millis(),
            event_source: source.into(),
            event_name: name.into(),
            aws_region: "eu-west-1".into(),
            account_id: "444455556666".into(),
            user_identity: UserIdentity {
                arn: Some(format!("arn:aws:iam::444455556666:user/{user}")),
                user_name: Some(user.into()),
                ..UserIdentity::default()
            },
            username: user.into(),
            source_ip_address: None,
            user_agent: None,
            access_key_id: None,
            error_code: error.map(str::to_string),
            error_message: None,
            read_only: false,
            event_type: None,
            request_id: None,
            resources: vec![],
            record: serde_json::Value::Null,
        }
    }

    fn subscription(kinds: Vec<NotificationKind>) -> Subscription {
        Subscription {
            name: "s".into(),
            webhook: crate::model::WebhookAction::to("http://127.0.0.1:9/hook"),
            kinds,
            resource_types: vec![],
            rules: vec!["restricted-ssh".into()],
            compliance: vec!["NON_COMPLIANT".into()],
            api_events: Some(ApiEventPattern {
                event_names: vec!["DeleteBucket".into()],
                ..ApiEventPattern::default()
            }),
            max_attempts: 3,
            backoff: Backoff {
                base_ms: 1,
                max_ms: 1,
                jitter: Jitter::None,
            },
        }
    }

    #[test]
    fn api_event_patterns_match_like_eventbridge_rules() {
        let delete = ApiEventPattern {
            event_sources: vec!["s3.amazonaws.com".into()],
            event_names: vec!["DeleteBucket".into()],
            ..ApiEventPattern::default()
        };
        assert!(delete.matches(&event("s3.amazonaws.com", "DeleteBucket", "bob", None)));
        assert!(!delete.matches(&event("s3.amazonaws.com", "PutBucketPolicy", "bob", None)));
        assert!(!delete.matches(&event("ec2.amazonaws.com", "DeleteBucket", "bob", None)));
        let failed_by_bob = ApiEventPattern {
            users: vec!["arn:aws:iam::444455556666:user/bob".into()],
            errors: ErrorMatch::Only,
            ..ApiEventPattern::default()
        };
        assert!(failed_by_bob.matches(&event(
            "s3.amazonaws.com",
            "DeleteBucket",
            "bob",
            Some("BucketNotEmpty")
        )));
        assert!(!failed_by_bob.matches(&event("s3.amazonaws.com", "DeleteBucket", "bob", None)));
        assert!(!failed_by_bob.matches(&event(
            "s3.amazonaws.com",
            "DeleteBucket",
            "alice",
            Some("X")
        )));
        assert!(ApiEventPattern::default().is_empty());
    }

    #[test]
    fn subscriptions_filter_by_kind_rule_and_new_compliance() {
        let sub = subscription(vec![
            NotificationKind::Compliance,
            NotificationKind::ApiEvent,
        ]);
        assert_eq!(sub.validate(), Ok(()));
        let compliance = |rule: &str, verdict: &str| Notification {
            kind: NotificationKind::Compliance,
            resource_type: Some("AWS::EC2::SecurityGroup".into()),
            rule: Some(rule.into()),
            compliance: Some(verdict.into()),
            body: serde_json::Value::Null,
        };
        assert!(sub.wants(&compliance("restricted-ssh", "NON_COMPLIANT"), None));
        assert!(!sub.wants(&compliance("restricted-ssh", "COMPLIANT"), None));
        assert!(!sub.wants(&compliance("required-tags", "NON_COMPLIANT"), None));
        let call = Notification {
            kind: NotificationKind::ApiEvent,
            resource_type: None,
            rule: None,
            compliance: None,
            body: serde_json::Value::Null,
        };
        let e = event("s3.amazonaws.com", "DeleteBucket", "bob", None);
        assert!(sub.wants(&call, Some(&e)));
        let configuration = Notification {
            kind: NotificationKind::Configuration,
            ..compliance("restricted-ssh", "NON_COMPLIANT")
        };
        assert!(!sub.wants(&configuration, None), "kind not subscribed");

        let mut bad = subscription(vec![NotificationKind::ApiEvent]);
        bad.api_events = None;
        assert!(bad.validate().is_err_and(|e| e.starts_with("api_events")));
        let mut bad = subscription(vec![NotificationKind::Compliance]);
        bad.webhook.url = "ftp://x".into();
        assert!(bad.validate().is_err());
    }
}
