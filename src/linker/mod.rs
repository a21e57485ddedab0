//! Linking API calls to the resources they touch and the configuration versions they caused.

mod event_map;
mod link;

pub use event_map::{Effect, EventMap, EventMapError, TouchedResource};
pub use link::{assign, LinkedCall, Links, VersionSpan, CLOCK_SKEW_MS};
