//! The identity of one recorded resource.

use serde::{Deserialize, Serialize};
use std::fmt;

/// Account, region, resource type and resource id: what makes a resource unique.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
pub struct ResourceKey {
    /// AWS account id (empty for sources without accounts).
    pub account_id: String,
    /// Region (empty for global or non-AWS sources).
    pub region: String,
    /// Resource type, e.g. `AWS::EC2::SecurityGroup`.
    pub resource_type: String,
    /// Resource id, e.g. `sg-0123`.
    pub resource_id: String,
}

impl ResourceKey {
    /// Builds a key from its four parts.
    pub fn new(
        account_id: impl Into<String>,
        region: impl Into<String>,
        resource_type: impl Into<String>,
        resource_id: impl Into<String>,
    ) -> Self {
        ResourceKey {
            account_id: account_id.into(),
            region: region.into(),
            resource_type: resource_type.into(),
            resource_id: resource_id.into(),
        }
    }
}

impl fmt::Display for ResourceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dash = |s: &str| {
            if s.is_empty() {
                "-".to_string()
            } else {
                s.to_string()
            }
        };
        write!(
            f,
            "{} {} (account {}, region {})",
            self.resource_type,
            self.resource_id,
            dash(&self.account_id),
            dash(&self.region)
        )
    }
}

/// `us-east-1`, `ap-southeast-2`, `us-gov-west-1`: letters, dashes, a final number.
pub fn looks_like_region(s: &str) -> bool {
    let mut parts = s.split('-');
    let first_ok = parts
        .next()
        .is_some_and(|p| p.len() == 2 && p.bytes().all(|b| b.is_ascii_lowercase()));
    let rest: Vec<&str> = parts.collect();
    first_ok
        && rest.len() >= 2
        && rest[..rest.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_lowercase()))
        && rest[rest.len() - 1].bytes().all(|b| b.is_ascii_digit())
}
