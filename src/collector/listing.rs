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

/// Describes one resource again (a CloudTrail call named it): its item, or `None` when AWS
/// says it does not exist.
pub fn describe_one(
    client: &AwsClient,
    region: &str,
    resource_type: &str,
    resource_id: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let found = match resource_type {
        describe_ec2::SECURITY_GROUP => {
            let filter = [("GroupId.1".to_string(), resource_id.to_string())];
            match ec2::describe_some(client, region, "DescribeSecurityGroups", &filter) {
                Ok(answer) => answer
                    .get(describe_ec2::SECURITY_GROUPS)
                    .and_then(Value::as_array)
                    .and_then(|groups| groups.first().cloned()),
                Err(e) if e.code() == Some("InvalidGroup.NotFound") => None,
                Err(e) => return Err(e),
            }
        }
        other => {
            return Err(AwsError::Request(format!(
                "the collector does not describe {other}"
            )))
        }
    };
    found
        .map(|group| describe_ec2::security_group_item(group, Some(region), captured_at))
        .transpose()
        .map_err(|e| AwsError::Answer {
            operation: "DescribeSecurityGroups",
            reason: format!("{resource_id}: {e}"),
        })
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
