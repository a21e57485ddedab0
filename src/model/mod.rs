//! The data types every other module speaks: resource identity, configuration items, API events,
//! rules and their verdicts, remediation configurations and jobs, subscriptions and deliveries.
//! Plain data with the checks and state changes that need nothing but the data itself.

mod action;
mod api_event;
mod audit;
mod backoff;
mod configuration_item;
mod delivery;
mod notification;
mod remediation_config;
mod remediation_job;
mod resource_key;
mod resource_type;
mod role;
mod rule;
mod rule_definition;
mod scope_sweep;
mod secret;
mod subscription;
mod timestamp;
mod touched_resource;
mod trail_cursor;
mod verdict;

pub use action::{
    Action, ActionKind, ActionResult, AttemptOutcome, AwsAction, AwsOperation, CommandAction,
    WebhookAction,
};
pub use api_event::{arn_last_part, resolve_username, ApiEvent, EventResource, UserIdentity};
pub use audit::{Actor, AuditEntry};
pub use backoff::{format_duration, parse_duration, Backoff, Jitter};
pub use configuration_item::{
    hash_hex, opt_time_serde, time_serde, ConfigurationItem, ItemStatus, Relationship, VersionMeta,
};
pub use delivery::{Delivery, DeliveryState};
pub use notification::{Notification, NotificationKind};
pub use remediation_config::{
    ParameterSource, RemediationConfig, DEFAULT_BACKOFF, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_MS, MAX_ATTEMPTS_LIMIT,
};
pub use remediation_job::{
    idempotency_key, Attempt, AttemptEnd, JobOrigin, JobState, JobVerdict, RemediationException,
    RemediationJob,
};
pub use resource_key::{looks_like_region, ResourceKey};
pub use resource_type::{
    aws_resource_types, closest_resource_type, is_aws_resource_type, known_resource_type,
    UnknownResourceType, MAX_RESOURCE_TYPE_CHARS,
};
pub use role::Role;
pub use rule::{
    truncate_annotation, Compliance, EvaluationReport, FailureKind, LogLine, Outcome, RuleMetadata,
    RuleParameter, Trigger, Verdict, MAX_ANNOTATION_CHARS, MAX_LOG_LINES, MAX_LOG_LINE_BYTES,
};
pub use rule_definition::{with_defaults, RuleDefinition, RuleScope, TagFilter};
pub use scope_sweep::ScopeSweep;
pub use secret::{signature, Secret, EMPTY_SHA256, MIN_SECRET_CHARS, REDACTED, SIGNATURE_HEADER};
pub use subscription::{ApiEventPattern, ErrorMatch, Subscription};
pub use timestamp::{
    epoch_to_time, format_time, now_millis, parse_time_arg, parse_timestamp_text, parse_until_arg,
    plausible_time, truncate_to_millis, Timestamp, FIRST_YEAR, LAST_YEAR,
};
pub use touched_resource::{Effect, TouchedResource};
pub use trail_cursor::{name_minutes, TrailCursor};
pub use verdict::{ComplianceDay, EvaluatedResource, LatestVerdict, RuleErrors, VerdictRecord};
