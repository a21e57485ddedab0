//! Webhook subscriptions and their deliveries (`remediation` tree, beside the jobs: one queue,
//! one worker).
//!
//! Keys:
//! - `n name` → [`Subscription`]
//! - `d id` → [`Delivery`]
//! - `Q due id` → (): queued deliveries by due time
//! - `P id` → (): deliveries with an attempt running, retried after a crash

use super::kv::{Batch as _, Db as _, Tree as _};
use super::remediation::{id_from, id_key, named, QUEUE};
use super::{decode_json as decode, encode_json as encode, keys, EngineBatch, Store, StoreError};
use crate::model::Timestamp;
use crate::model::{Delivery, DeliveryState, Subscription};

const SUBSCRIPTION: u8 = b'n';
const DELIVERY: u8 = b'd';
const DELIVERY_QUEUE: u8 = b'Q';
const DELIVERY_RUNNING: u8 = b'P';

fn due_key(due: Timestamp, id: u64) -> Vec<u8> {
    let mut out = vec![DELIVERY_QUEUE];
    out.extend_from_slice(&keys::time(due.timestamp_millis()));
    out.extend_from_slice(&id.to_be_bytes());
    out
}

fn index_entries(delivery: &Delivery) -> Vec<Vec<u8>> {
    match (delivery.state, delivery.next_attempt_at) {
        (DeliveryState::Queued, Some(due)) => vec![due_key(due, delivery.id)],
        (DeliveryState::InProgress, _) => vec![id_key(DELIVERY_RUNNING, delivery.id)],
        _ => vec![],
    }
}

impl Store {
    /// Adds or replaces a subscription, and makes it live at once.
    pub fn put_subscription(&self, subscription: &Subscription) -> Result<(), StoreError> {
        self.remediation.insert(
            named(SUBSCRIPTION, &subscription.name),
            encode("subscription", subscription)?,
        )?;
        self.db.flush()?;
        Ok(())
    }

    /// Every subscription, by name.
    pub fn subscriptions(&self) -> Result<Vec<Subscription>, StoreError> {
        self.remediation
            .scan_prefix([SUBSCRIPTION])
            .map(|entry| decode("subscription", &entry?.1))
            .collect()
    }

    /// Removes a subscription (its queued deliveries still go out); false if there was none.
    pub fn delete_subscription(&self, name: &str) -> Result<bool, StoreError> {
        let existed = self.remediation.remove(named(SUBSCRIPTION, name))?;
        self.db.flush()?;
        Ok(existed)
    }

    /// One delivery.
    pub fn delivery(&self, id: u64) -> Result<Option<Delivery>, StoreError> {
        self.remediation
            .get(id_key(DELIVERY, id))?
            .map(|v| decode("delivery", &v))
            .transpose()
    }

    /// Writes a delivery and moves its queue entries with its state, atomically and durably.
    pub fn save_delivery(&self, delivery: &Delivery) -> Result<(), StoreError> {
        let _writer = self.lock_remediation_writes();
        let mut batch = EngineBatch::default();
        if let Some(old) = self.delivery(delivery.id)? {
            for entry in index_entries(&old) {
                batch.remove(entry);
            }
        }
        batch.insert(id_key(DELIVERY, delivery.id), encode("delivery", delivery)?);
        for entry in index_entries(delivery) {
            batch.insert(entry, []);
        }
        self.remediation.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Every delivery, oldest first.
    pub fn deliveries(&self) -> impl Iterator<Item = Result<Delivery, StoreError>> + '_ {
        self.remediation
            .scan_prefix([DELIVERY])
            .map(|entry| decode("delivery", &entry?.1))
    }

    /// Queued deliveries due at or before `now`, soonest first, at most `limit`.
    pub fn due_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let end = due_key(now, u64::MAX);
        let mut out = Vec::new();
        for entry in self.remediation.range(vec![DELIVERY_QUEUE]..=end) {
            if out.len() >= limit {
                break;
            }
            if let Some(delivery) = self.delivery(id_from(&entry?.0)?)? {
                out.push(delivery);
            }
        }
        Ok(out)
    }

    /// When the soonest queued delivery is due.
    pub fn next_delivery_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.first_due(DELIVERY_QUEUE)
    }

    /// Deliveries with an attempt marked running.
    pub fn running_deliveries(&self) -> Result<Vec<Delivery>, StoreError> {
        let mut out = Vec::new();
        for entry in self.remediation.scan_prefix([DELIVERY_RUNNING]) {
            if let Some(delivery) = self.delivery(id_from(&entry?.0)?)? {
                out.push(delivery);
            }
        }
        Ok(out)
    }

    /// Queued deliveries and jobs: the worker's backlog, for metrics.
    pub fn queue_depth(&self) -> (usize, usize) {
        (
            self.remediation.scan_prefix([QUEUE]).count(),
            self.remediation.scan_prefix([DELIVERY_QUEUE]).count(),
        )
    }
}
