//! The notifier: fans notifications out to live listeners and queues webhook deliveries.

use std::sync::{Arc, RwLock};

use tokio::sync::broadcast;

use crate::model::{ApiEvent, Delivery, Notification, NotificationKind, Subscription};
use crate::store::{Store, StoreError};

/// Notifications buffered per live listener; a listener that falls further behind is told how
/// many it missed rather than slowing writers down.
const LIVE_BUFFER: usize = 1024;

/// Shared by every clone of a [`Store`]: live listeners and the subscription list.
pub struct Notifier {
    live: broadcast::Sender<Arc<Notification>>,
    subscriptions: RwLock<Arc<Vec<Subscription>>>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier {
            live: broadcast::channel(LIVE_BUFFER).0,
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
    pub fn listen(&self) -> broadcast::Receiver<Arc<Notification>> {
        self.live.subscribe()
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
        (kind != NotificationKind::ApiEvent && self.live.receiver_count() > 0)
            || self.subscriptions().iter().any(|s| s.kinds.contains(&kind))
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
        if notification.kind != NotificationKind::ApiEvent {
            // No listener is not an error.
            let _ = self.live.send(Arc::new(notification));
        }
        Ok(queued)
    }
}
