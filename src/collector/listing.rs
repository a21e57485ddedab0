//! One complete listing of a resource type in a region: every resource AWS reports, mapped to
//! its configuration item; and one resource described again.

mod ec2;
mod s3;

use super::aws::{AwsClient, AwsError};
use crate::ingest::describe::ec2_instance::INSTANCE;
use crate::ingest::describe::ec2_network::{SUBNET, VPC};
use crate::ingest::describe::{ec2 as describe_ec2, s3 as describe_s3};
use crate::ingest::describe::{DescribeError, DescribedItem};
use crate::model::Timestamp;
use serde_json::Value;
use std::collections::BTreeSet;

/// The resource types the collector describes, in the order a sweep of all of them goes: the
/// account's Block Public Access before the buckets, so that the rules judging a bucket find
/// the account's settings of the same sweep.
pub const COLLECTED_TYPES: &[&str] = &[
    describe_ec2::SECURITY_GROUP,
    INSTANCE,
    VPC,
    SUBNET,
    describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK,
    describe_s3::BUCKET,
];

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
}

/// Lists every resource of `resource_type` in `region` of the account `account_id` (the one
/// `client` signs for), every page. An error means the listing is incomplete and nothing may be
/// concluded from what is missing.
pub fn list_resources(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    resource_type: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    match resource_type {
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
