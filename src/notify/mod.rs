//! Notify: tells the outside world what changed. Every configuration change, compliance change,
//! remediation job update and (for pattern subscriptions) API call becomes a [`Notification`]
//! in AWS's shapes; live clients get it from the [`Notifier`] (server-sent events), webhook
//! [`Subscription`]s get it as a durable [`Delivery`] retried by the worker.

mod delivery;
mod hub;
mod message;
mod subscription;

pub use delivery::{deliver, recover_interrupted_deliveries, Delivery, DeliveryState};
pub use hub::{Notification, Notifier};
pub use message::{api_calls, compliance_changes, configuration_changes, job_updated};
pub use subscription::{ApiEventPattern, ErrorMatch, NotificationKind, Subscription};
