//! Notify: tells the outside world what changed. Every configuration change, compliance change,
//! remediation job update and (for pattern subscriptions) API call becomes a [`Notification`]
//! in AWS's shapes; live clients get it from the [`Notifier`] (server-sent events), webhook
//! [`Subscription`]s get it as a durable [`Delivery`] retried by the worker.

mod delivery;
mod hub;
mod message;

pub use crate::model::{
    ApiEventPattern, Delivery, DeliveryState, ErrorMatch, Notification, NotificationKind,
    Subscription,
};
pub use delivery::{deliver, recover_interrupted_deliveries};
pub use hub::{Listener, LiveNotification, Notifier, Resumed};
pub use message::{api_calls, compliance_changes, configuration_changes, job_updated};
