//! The notifier: fans notifications out to live listeners and queues webhook deliveries.
//!
//! Live notifications are numbered `RUN-SEQ` (RUN: when this process started, in epoch ms;
//! SEQ: publish order) and the latest few are kept, so a listener that reconnects with the last
//! id it saw gets what it missed, or is told that it cannot.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use tokio::sync::broadcast;

use crate::model::{ApiEvent, Delivery, Notification, NotificationKind, Subscription};
use crate::store::{Store, StoreError};

/// Notifications buffered per live listener, and kept for listeners that reconnect; a listener
/// that falls further behind is told how many it missed rather than slowing writers down.
const LIVE_BUFFER: usize = 1024;

/// How long after the last listener left notifications are still built and kept, so that it can
/// reconnect and resume.
const RESUME_WINDOW_MS: i64 = 10 * 60 * 1000;

/// A notification as live listeners get it, with its id.
#[derive(Debug)]
pub struct LiveNotification {
    /// Publish order within this run.
    pub seq: u64,
    /// `RUN-SEQ`, as sent in the stream's `id:` field.
    pub id: String,
    /// What happened.
    pub notification: Notification,
}

/// What a listener resuming after an id gets before the live notifications.
#[derive(Debug, Default)]
pub struct Resumed {
    /// The kept notifications after that id, oldest first.
    pub backlog: Vec<Arc<LiveNotification>>,
    /// Notifications it missed that are no longer kept (`None`: unknown, the server restarted).
    pub missed: Option<Option<u64>>,
}

/// A live listener: receives every notification published from its start; marks the time it
/// left, so notifications are kept for it to resume.
pub struct Listener {
    /// The live notifications.
    pub receiver: broadcast::Receiver<Arc<LiveNotification>>,
    left_at: Arc<AtomicI64>,
}

impl Drop for Listener {
    fn drop(&mut self) {
        self.left_at.store(
            crate::model::now_millis().timestamp_millis(),
            Ordering::Relaxed,
        );
    }
}

/// Shared by every clone of a [`Store`]: live listeners and the subscription list.
pub struct Notifier {
    live: broadcast::Sender<Arc<LiveNotification>>,
    recent: Mutex<VecDeque<Arc<LiveNotification>>>,
    run: i64,
    next_seq: AtomicU64,
    left_at: Arc<AtomicI64>,
    subscriptions: RwLock<Arc<Vec<Subscription>>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier {
            live: broadcast::channel(LIVE_BUFFER).0,
            recent: Mutex::new(VecDeque::with_capacity(LIVE_BUFFER)),
            run: crate::model::now_millis().timestamp_millis(),
            next_seq: AtomicU64::new(1),
            left_at: Arc::new(AtomicI64::new(i64::MIN)),
            subscriptions: RwLock::new(Arc::new(Vec::new())),
        }
    }
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("listeners", &self.live.receiver_count())
            .finish_non_exhaustive()
    }
}

impl Notifier {
    /// A new live listener: receives every notification published from now on.
    pub fn listen(&self) -> Listener {
        Listener {
            receiver: self.live.subscribe(),
            left_at: self.left_at.clone(),
        }
    }

    /// A new live listener that saw up to `last_id` before: the kept notifications after it,
    /// and how many it missed beyond those. Live notifications it also gets in the backlog
    /// have a `seq` no greater than the backlog's last.
    pub fn resume(&self, last_id: &str) -> (Listener, Resumed) {
        // Listen first: a notification published meanwhile is then in the backlog, the live
        // feed or both, never in neither.
        let listener = self.listen();
        let recent = self
            .recent
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let last_seq = last_id
            .split_once('-')
            .filter(|(run, _)| run.parse::<i64>().ok() == Some(self.run))
            .and_then(|(_, seq)| seq.parse::<u64>().ok());
        let Some(last_seq) = last_seq else {
            // An id of another run (or none we made): what came since is unknown.
            let resumed = Resumed {
                backlog: recent.iter().cloned().collect(),
                missed: Some(None),
            };
            return (listener, resumed);
        };
        let oldest = recent
            .front()
            .map_or(self.next_seq.load(Ordering::Relaxed), |n| n.seq);
        let missed = oldest.saturating_sub(last_seq + 1);
        let resumed = Resumed {
            backlog: recent
                .iter()
                .filter(|n| n.seq > last_seq)
                .cloned()
                .collect(),
            missed: (missed > 0).then_some(Some(missed)),
        };
        (listener, resumed)
    }

    /// Live listeners connected now.
    pub fn listeners(&self) -> usize {
        self.live.receiver_count()
    }

    /// Replaces the subscription list (the store keeps it; this is its in-memory copy).
    pub fn set_subscriptions(&self, subscriptions: Vec<Subscription>) {
        let mut guard = self
            .subscriptions
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = Arc::new(subscriptions);
    }

    /// The current subscriptions.
    pub fn subscriptions(&self) -> Arc<Vec<Subscription>> {
        self.subscriptions
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Whether anyone would receive a notification of this kind: building one costs store
    /// reads (the previous version for a diff), so producers ask first.
    pub fn wants(&self, kind: NotificationKind) -> bool {
        (kind != NotificationKind::ApiEvent && self.live_wanted())
            || self.subscriptions().iter().any(|s| s.kinds.contains(&kind))
    }

    /// Whether a listener is connected, or left recently enough to come back and resume.
    fn live_wanted(&self) -> bool {
        self.live.receiver_count() > 0
            || crate::model::now_millis().timestamp_millis()
                < self
                    .left_at
                    .load(Ordering::Relaxed)
                    .saturating_add(RESUME_WINDOW_MS)
    }

    /// Queues a delivery for every matching subscription (durably), then tells live listeners.
    /// Returns how many deliveries were queued.
    pub fn publish(
        &self,
        store: &Store,
        notification: Notification,
        event: Option<&ApiEvent>,
    ) -> Result<usize, StoreError> {
        let mut queued = 0;
        for subscription in self.subscriptions().iter() {
            if subscription.wants(&notification, event) {
                let delivery = Delivery::new(store.next_id()?, subscription, &notification);
                store.save_delivery(&delivery)?;
                queued += 1;
                tracing::debug!(subscription = %subscription.name, delivery = delivery.id, kind = notification.kind.as_str(), "delivery queued");
            }
        }
        // API calls go to subscriptions only: they are not changes to the recorded state.
        if notification.kind != NotificationKind::ApiEvent && self.live_wanted() {
            let mut recent = self
                .recent
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            // Numbered under the lock so that the kept ones are in order.
            let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
            let live = Arc::new(LiveNotification {
                seq,
                id: format!("{}-{seq}", self.run),
                notification,
            });
            if recent.len() == LIVE_BUFFER {
                recent.pop_front();
            }
            recent.push_back(live.clone());
            // No listener is not an error.
            let _ = self.live.send(live);
        }
        Ok(queued)
    }
}
