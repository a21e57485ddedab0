//! The collector: describes resources through the cloud's APIs and maps them to configuration
//! items in AWS Config's shape, so conftrail records an account by itself.
//!
//! [`aws`] is the client (credentials, signing, pacing, retries, endpoints); [`listing`] lists
//! every resource of a type in a region as items, saying which resources exist even where
//! one could not be mapped; [`trail`] finds a CloudTrail trail's log files not read yet. What
//! is recorded, judged and deleted is decided by the use case in
//! `app::collect`.

pub mod aws;
pub mod each;
pub mod listing;
pub mod trail;

pub use listing::{
    describe_one, is_global, list_resources, named_by_name, redescribe_target, Listing,
    COLLECTED_TYPES, GLOBAL_REGION,
};
