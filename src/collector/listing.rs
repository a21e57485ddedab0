//! One complete listing of a resource type in a region: every resource AWS reports, mapped to
//! its configuration item; and one resource described again.

mod cloudtrail;
mod ec2;
mod iam;
mod s3;

use super::aws::{AwsClient, AwsError};
use crate::ingest::describe::cloudtrail::TRAIL;
use crate::ingest::describe::ec2_instance::INSTANCE;
use crate::ingest::describe::ec2_network::{SUBNET, VPC};
use crate::ingest::describe::iam::{GLOBAL, POLICY, ROLE, USER};
use crate::ingest::describe::{ec2 as describe_ec2, s3 as describe_s3};
use crate::ingest::describe::{DescribeError, DescribedItem};
use crate::model::Timestamp;
use serde_json::Value;
use std::collections::BTreeSet;

/// The resource types the collector describes, in the order a sweep of all of them goes: the
/// account's Block Public Access before the buckets, so that the rules judging a bucket find
/// the account's settings of the same sweep; the global (IAM) types last.
pub const COLLECTED_TYPES: &[&str] = &[
    describe_ec2::SECURITY_GROUP,
    INSTANCE,
    VPC,
    SUBNET,
    describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    describe_s3::BUCKET,
    TRAIL,
    USER,
    ROLE,
    POLICY,
];

/// The region AWS Config records global resources (IAM's) in.
pub const GLOBAL_REGION: &str = GLOBAL;

/// Whether AWS Config records `resource_type` in the region `global` (IAM's types): a sweep
/// lists it once per account, in that region, not once per region.
pub fn is_global(resource_type: &str) -> bool {
    matches!(resource_type, USER | ROLE | POLICY)
}

/// Whether API calls name resources of `resource_type` by something other than their recorded
/// id: IAM's calls name users, roles and policies by name (or ARN), while AWS Config records
/// them by their unique id (`AIDA…`). Such a resource is described again by name, and found
/// among the recorded ones by its `resourceName`.
pub fn named_by_name(resource_type: &str) -> bool {
    is_global(resource_type)
}

/// What to describe again when an API call names a resource of `resource_type` by
/// `identifier` in `region`: the region and identifier [`describe_one`] takes, or `None` when
/// the collector cannot describe it by what the call names. IAM resources and trails named by
/// ARN are described by the name the ARN ends with (a trail in the region its ARN names); the
/// other types only by their id.
pub fn redescribe_target(
    resource_type: &str,
    identifier: &str,
    region: &str,
) -> Option<(String, String)> {
    let arn_name = |arn: &str| {
        arn.rsplit_once('/')
            .map(|(_, name)| name.to_string())
            .filter(|name| !name.is_empty())
    };
    let is_arn = identifier.starts_with("arn:");
    match resource_type {
        _ if is_global(resource_type) => {
            let name = if is_arn {
                arn_name(identifier)?
            } else {
                identifier.to_string()
            };
            Some((GLOBAL.to_string(), name))
        }
        TRAIL if is_arn => {
            let region = identifier.split(':').nth(3).filter(|r| !r.is_empty())?;
            Some((region.to_string(), arn_name(identifier)?))
        }
        _ if is_arn => None,
        _ => Some((region.to_string(), identifier.to_string())),
    }
}

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

    /// A resource that exists but could not be described: seen, so not taken for deleted.
    fn failed(&mut self, id: String, why: &AwsError) {
        self.unmapped.push(format!("{id}: {why}"));
        self.seen.insert(id);
    }

    /// Adds what describing each listed resource found, in order.
    fn take(&mut self, found: Vec<Found>) {
        for outcome in found {
            match outcome {
                Found::Nothing => {}
                Found::Unlisted(why) => self.unmapped.push(why),
                Found::Described(id, mapped) => self.add(Some(id), mapped.map(|item| *item)),
                Found::Failed(id, e) => self.failed(id, &e),
            }
        }
    }
}

/// What describing one listed resource found.
enum Found {
    /// Nothing to record: gone by now, or not in this region.
    Nothing,
    /// A listing entry that names no resource, with why.
    Unlisted(String),
    /// The resource (its id) and its item, or why it could not be mapped.
    Described(String, Result<Box<DescribedItem>, DescribeError>),
    /// The resource (its id) exists but could not be described.
    Failed(String, AwsError),
}

/// Lists every resource of `resource_type` in `region` of the account `account_id` (the one
/// `client` signs for), every page. A global type is listed whatever `region` says. An error means the listing is incomplete and nothing may be
/// concluded from what is missing.
pub fn list_resources(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    resource_type: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    match resource_type {
        _ if is_global(resource_type) => iam::list(client, resource_type, captured_at),
        TRAIL => cloudtrail::list(client, region, captured_at),
        describe_s3::BUCKET => s3::list_buckets(client, region, account_id, captured_at),
        describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK => {
            s3::list_account_block(client, region, account_id, captured_at)
        }
        other => ec2::list(client, region, ec2::kind(other)?, captured_at),
    }
}

/// Describes one resource of `region` in the account `account_id` again (a CloudTrail call
/// named it): its item, or `None` when AWS says it does not exist there.
pub fn describe_one(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    resource_type: &str,
    resource_id: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    match resource_type {
        _ if is_global(resource_type) => {
            iam::describe(client, resource_type, resource_id, captured_at)
        }
        TRAIL => cloudtrail::describe(client, region, resource_id, captured_at),
        describe_s3::BUCKET => {
            s3::describe_bucket(client, region, account_id, resource_id, captured_at)
        }
        describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK => {
            s3::describe_account_block(client, region, account_id, resource_id, captured_at)
        }
        other => ec2::describe(client, region, ec2::kind(other)?, resource_id, captured_at),
    }
}

/// The error for a type the collector does not describe.
fn not_collected(resource_type: &str) -> AwsError {
    AwsError::Request(format!(
        "the collector does not describe {resource_type} (it describes {})",
        COLLECTED_TYPES.join(", ")
    ))
}

/// A described resource that could not be mapped to its item.
fn unreadable(operation: &'static str, resource_id: &str, e: DescribeError) -> AwsError {
    AwsError::Answer {
        operation,
        reason: format!("{resource_id}: {e}"),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calls_name_resources_the_collector_describes_again_by_name_or_id() {
        type Case<'a> = (&'a str, &'a str, &'a str, Option<(&'a str, &'a str)>);
        let cases: [Case; 7] = [
            (USER, "alice", "us-east-1", Some(("global", "alice"))),
            (
                POLICY,
                "arn:aws:iam::123456789012:policy/team/ops-read",
                "global",
                Some(("global", "ops-read")),
            ),
            (
                TRAIL,
                "arn:aws:cloudtrail:eu-west-1:123456789012:trail/audit",
                "us-east-1",
                Some(("eu-west-1", "audit")),
            ),
            (TRAIL, "audit", "us-east-1", Some(("us-east-1", "audit"))),
            (
                describe_s3::BUCKET,
                "logs",
                "us-east-1",
                Some(("us-east-1", "logs")),
            ),
            (describe_s3::BUCKET, "arn:aws:s3:::logs", "us-east-1", None),
            (ROLE, "arn:aws:iam::123456789012:role/", "global", None),
        ];
        for (resource_type, identifier, region, expected) in cases {
            assert_eq!(
                redescribe_target(resource_type, identifier, region),
                expected.map(|(r, i)| (r.to_string(), i.to_string())),
                "{resource_type} {identifier}"
            );
        }
        assert!(is_global(USER) && is_global(POLICY) && !is_global(TRAIL));
        assert!(named_by_name(ROLE) && !named_by_name(describe_s3::BUCKET));
    }
}
