//! The outcome of one collector listing: a resource type in a region of an account.

use serde::{Deserialize, Serialize};

/// What the last sweep of one (account, region, resource type) found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ScopeSweep {
    /// The account.
    pub account_id: String,
    /// The region.
    pub region: String,
    /// The resource type.
    pub resource_type: String,
    /// When the listing started.
    pub started_at: String,
    /// How long listing and recording took, in milliseconds.
    pub duration_ms: u64,
    /// Whether the listing was complete (deletions are only concluded from complete ones).
    pub complete: bool,
    /// Resources listed.
    pub resources: usize,
    /// New versions recorded.
    pub new_versions: usize,
    /// Resources whose configuration had not changed.
    pub unchanged: usize,
    /// Resources gone since the last sweep, recorded as deleted.
    pub deleted: usize,
    /// What went wrong: the listing's error, or resources that could not be mapped or recorded.
    pub errors: Vec<String>,
}
