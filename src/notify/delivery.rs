//! Webhook deliveries: one attempt at a time, recorded before and after, retried by the worker.

use std::time::Duration;

use crate::model::Action;
use crate::model::{now_millis, AttemptEnd, Delivery, DeliveryState};
use crate::remediation::action::{run_action, ActionRequest};
use crate::store::{Store, StoreError};

/// How long one delivery attempt may take.
const DELIVERY_TIMEOUT: Duration = Duration::from_secs(10);

/// Makes one delivery attempt now and records it; returns the delivery as stored after it.
pub fn deliver(store: &Store, mut delivery: Delivery) -> Result<Delivery, StoreError> {
    delivery.start_attempt(now_millis());
    store.save_delivery(&delivery)?;
    let mut webhook = delivery.webhook.clone();
    webhook.headers.push((
        "X-Conftrail-Subscription".into(),
        delivery.subscription.clone(),
    ));
    webhook.headers.push((
        "X-Conftrail-Notification".into(),
        delivery.kind.as_str().into(),
    ));
    let result = run_action(
        &Action::Webhook(webhook),
        &ActionRequest {
            document: &delivery.body,
            env: &[],
            idempotency_key: &format!("delivery-{}", delivery.id),
            timeout: DELIVERY_TIMEOUT,
            aws: None,
        },
    );
    let end = AttemptEnd::from(result.outcome);
    crate::metrics::notification_delivery(end.as_str());
    delivery.finish_attempt(
        end,
        result.message,
        result.http_status,
        result.retry_after,
        now_millis(),
    );
    store.save_delivery(&delivery)?;
    tracing::info!(
        delivery = delivery.id,
        subscription = %delivery.subscription,
        attempt = delivery.attempts.len(),
        state = ?delivery.state,
        "notification delivery attempt"
    );
    Ok(delivery)
}

/// After a crash: attempts that were running are recorded as interrupted and retried.
pub fn recover_interrupted_deliveries(store: &Store) -> Result<usize, StoreError> {
    let running = store.running_deliveries()?;
    let now = now_millis();
    for mut delivery in running.iter().cloned() {
        delivery.finish_attempt(
            AttemptEnd::Interrupted,
            "the worker stopped during this attempt".into(),
            None,
            None,
            now,
        );
        // Retry at once: the interruption was ours, not the subscriber's.
        if delivery.state == DeliveryState::Queued {
            delivery.next_attempt_at = Some(now);
        }
        store.save_delivery(&delivery)?;
    }
    Ok(running.len())
}
