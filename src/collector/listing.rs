//! One complete listing of a resource type in a region: every resource AWS reports, mapped to
//! its configuration item.

use super::aws::{ec2, AwsClient, AwsError};
use crate::ingest::describe::{ec2 as describe_ec2, DescribeError, DescribedItem};
use crate::model::Timestamp;
use serde_json::Value;
use std::collections::BTreeSet;

/// The resource types the collector describes.
pub const COLLECTED_TYPES: &[&str] = &[describe_ec2::SECURITY_GROUP];

/// What a listing found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Resources mapped to items.
    pub items: Vec<DescribedItem>,
    /// The id of every resource AWS listed, mapped or not: what exists. A resource recorded
    /// earlier and not in here is gone.
    pub seen: BTreeSet<String>,
    /// Resources listed that could not be mapped, with why (their id first).
    pub unmapped: Vec<String>,
}

impl Listing {
    fn add(&mut self, id: Option<String>, mapped: Result<DescribedItem, DescribeError>) {
        let id_text = id.clone().unwrap_or_else(|| "(no id)".to_string());
        if let Some(id) = id {
            self.seen.insert(id);
        }
        match mapped {
            Ok(item) => self.items.push(item),
            Err(e) => self.unmapped.push(format!("{id_text}: {e}")),
        }
    }
}

/// Lists every resource of `resource_type` in `region`, every page. An error means the listing
/// is incomplete and nothing may be concluded from what is missing.
pub fn list_resources(
    client: &AwsClient,
    region: &str,
    resource_type: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    let mut listing = Listing::default();
    match resource_type {
        describe_ec2::SECURITY_GROUP => {
            for group in ec2::describe_all(
                client,
                region,
                "DescribeSecurityGroups",
                describe_ec2::SECURITY_GROUPS,
            )? {
                let id = text(&group, "GroupId");
                listing.add(
                    id,
                    describe_ec2::security_group_item(group, Some(region), captured_at),
                );
            }
        }
        other => {
            return Err(AwsError::Request(format!(
                "the collector does not describe {other} (it describes {})",
                COLLECTED_TYPES.join(", ")
            )))
        }
    }
    Ok(listing)
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
