//! The data types every other module speaks: resource identity, configuration items, statuses.

mod api_event;
mod configuration_item;
mod resource_key;
mod timestamp;
mod touched_resource;

pub use api_event::{arn_last_part, resolve_username, ApiEvent, EventResource, UserIdentity};
pub use configuration_item::{
    hash_hex, opt_time_serde, time_serde, ConfigurationItem, ItemStatus, Relationship, VersionMeta,
};
pub use resource_key::ResourceKey;
pub use timestamp::{
    epoch_to_time, format_time, now_millis, parse_time_arg, parse_timestamp_text,
    truncate_to_millis, Timestamp,
};
pub use touched_resource::{Effect, TouchedResource};
