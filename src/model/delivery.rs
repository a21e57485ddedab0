//! Webhook deliveries as stored: one durable record per (subscription, notification), retried with the
//! subscription's backoff by the same worker and queue (`remediation` tree) as remediation jobs.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::backoff::Backoff;
use super::notification::{Notification, NotificationKind};
use super::remediation_job::{Attempt, AttemptEnd};
use super::subscription::Subscription;
use super::{now_millis, time_serde, Timestamp};

/// Where a delivery is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum DeliveryState {
    /// Waiting for its (next) attempt.
    Queued,
    /// An attempt is running.
    InProgress,
    /// The subscriber answered 2xx.
    Delivered,
    /// Gave up (attempts exhausted, or a permanent 4xx).
    Failed,
}

/// One notification on its way to one subscriber.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Delivery {
    /// Unique id (shared id space with jobs).
    pub id: u64,
    /// The subscription's name.
    pub subscription: String,
    /// Where it goes, with which headers and signing secret (copied: the subscription may
    /// change while it waits).
    #[serde(flatten)]
    pub webhook: super::action::WebhookAction,
    /// The notification kind.
    pub kind: NotificationKind,
    /// The JSON sent.
    pub body: Value,
    /// State.
    pub state: DeliveryState,
    /// Why it is in this state, for failures.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    /// When the next attempt is due, while queued.
    #[serde(default, with = "super::opt_time_serde")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub next_attempt_at: Option<Timestamp>,
    /// Attempts before giving up.
    pub max_attempts: u32,
    /// Delays between attempts.
    pub backoff: Backoff,
    /// Every attempt.
    pub attempts: Vec<Attempt>,
    /// When it was queued.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

impl Delivery {
    /// The delivery as answers show it: header values and stored secrets hidden.
    pub fn redacted(&self) -> Delivery {
        Delivery {
            webhook: self.webhook.redacted(),
            ..self.clone()
        }
    }

    /// A delivery of `notification` to `subscription`, due now.
    pub fn new(id: u64, subscription: &Subscription, notification: &Notification) -> Delivery {
        let now = now_millis();
        Delivery {
            id,
            subscription: subscription.name.clone(),
            webhook: subscription.webhook.clone(),
            kind: notification.kind,
            body: notification.body.clone(),
            state: DeliveryState::Queued,
            state_reason: None,
            next_attempt_at: Some(now),
            max_attempts: subscription.max_attempts,
            backoff: subscription.backoff,
            attempts: Vec::new(),
            created_at: now,
        }
    }

    /// Starts an attempt (recorded before the request is sent).
    pub fn start_attempt(&mut self, now: Timestamp) {
        self.attempts
            .push(Attempt::started(self.attempts.len() as u32 + 1, now));
        self.state = DeliveryState::InProgress;
        self.next_attempt_at = None;
    }

    /// Ends the running attempt: delivered, retried after the backoff, or failed.
    pub fn finish_attempt(
        &mut self,
        end: AttemptEnd,
        message: String,
        http_status: Option<u16>,
        retry_after: Option<Duration>,
        now: Timestamp,
    ) {
        if let Some(attempt) = self.attempts.last_mut() {
            attempt.ended_at = Some(now);
            attempt.outcome = Some(end);
            attempt.message = message.clone();
            attempt.http_status = http_status;
        }
        let made = self.attempts.len() as u32;
        match end {
            AttemptEnd::Succeeded => {
                self.state = DeliveryState::Delivered;
                self.state_reason = None;
            }
            AttemptEnd::Permanent => {
                self.state = DeliveryState::Failed;
                self.state_reason = Some(format!("permanent failure: {message}"));
            }
            AttemptEnd::Retryable | AttemptEnd::Interrupted if made >= self.max_attempts => {
                self.state = DeliveryState::Failed;
                self.state_reason = Some(format!("gave up after {made} attempts: {message}"));
            }
            AttemptEnd::Retryable | AttemptEnd::Interrupted => {
                let delay = self
                    .backoff
                    .delay(made + 1)
                    .max(retry_after.unwrap_or_default());
                self.state = DeliveryState::Queued;
                self.state_reason = None;
                self.next_attempt_at =
                    Some(now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Jitter;

    fn delivery(max_attempts: u32) -> Delivery {
        let subscription = Subscription {
            name: "s".into(),
            webhook: crate::model::WebhookAction::to("http://127.0.0.1:9/"),
            kinds: vec![NotificationKind::Compliance],
            resource_types: vec![],
            rules: vec![],
            compliance: vec![],
            api_events: None,
            max_attempts,
            backoff: Backoff {
                base_ms: 1000,
                max_ms: 1000,
                jitter: Jitter::None,
            },
        };
        let notification = Notification {
            kind: NotificationKind::Compliance,
            resource_type: None,
            rule: None,
            compliance: None,
            body: Value::Null,
        };
        Delivery::new(1, &subscription, &notification)
    }

    #[test]
    fn retries_with_backoff_then_gives_up() {
        let mut d = delivery(2);
        let now = now_millis();
        d.start_attempt(now);
        d.finish_attempt(AttemptEnd::Retryable, "500".into(), Some(500), None, now);
        assert_eq!(d.state, DeliveryState::Queued);
        assert_eq!(d.next_attempt_at, Some(now + chrono::Duration::seconds(1)));
        d.start_attempt(now);
        d.finish_attempt(AttemptEnd::Retryable, "500".into(), Some(500), None, now);
        assert_eq!(d.state, DeliveryState::Failed);
        assert_eq!(d.attempts.len(), 2);
        assert!(d
            .state_reason
            .as_deref()
            .is_some_and(|r| r.contains("gave up after 2")));
    }

    #[test]
    fn permanent_failure_and_success_end_at_once() {
        let mut d = delivery(5);
        let now = now_millis();
        d.start_attempt(now);
        d.finish_attempt(AttemptEnd::Permanent, "404".into(), Some(404), None, now);
        assert_eq!(d.state, DeliveryState::Failed);
        let mut d = delivery(5);
        d.start_attempt(now);
        d.finish_attempt(AttemptEnd::Succeeded, "200".into(), Some(200), None, now);
        assert_eq!(d.state, DeliveryState::Delivered);
        assert_eq!(d.attempts[0].http_status, Some(200));
    }
}
