//! One complete listing of a resource type in a region: every resource AWS reports, mapped to
//! its configuration item.

use super::aws::{ec2, s3, AwsClient, AwsError};
use crate::ingest::describe::{
    ec2 as describe_ec2, s3 as describe_s3, DescribeError, DescribedItem,
};
use crate::model::Timestamp;
use serde_json::Value;
use std::collections::BTreeSet;

/// The resource types the collector describes, in the order a sweep of all of them goes: the
/// account's Block Public Access before the buckets, so that the rules judging a bucket find
/// the account's settings of the same sweep.
pub const COLLECTED_TYPES: &[&str] = &[
    describe_ec2::SECURITY_GROUP,
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
///
/// Buckets: every bucket S3 lists, kept when located in `region`; one that S3 says is gone by
/// the time it is asked about is not seen, and one that fails otherwise (its location or one of
/// its settings) is seen but unmapped, while the others go on. The account's Block Public
/// Access settings: one resource whose id is the account id, not seen when none are set.
pub fn list_resources(
    client: &AwsClient,
    region: &str,
    account_id: &str,
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
        describe_s3::BUCKET => {
            for bucket in s3::list_buckets(client, region, None)? {
                let location = match located(client, region, &bucket) {
                    Ok(Some(location)) => location,
                    Ok(None) => continue,
                    Err(e) => {
                        // Perhaps in this region: not to be taken for deleted.
                        listing.failed(bucket.name, &e);
                        continue;
                    }
                };
                if location != region {
                    continue;
                }
                match s3::describe_bucket(client, &bucket, region, account_id) {
                    Ok(Some(description)) => listing.add(
                        Some(bucket.name),
                        describe_s3::bucket_item(description, captured_at),
                    ),
                    Ok(None) => {}
                    Err(e) => listing.failed(bucket.name, &e),
                }
            }
        }
        describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK => {
            if let Some(block) = s3::account_public_access_block(client, region, account_id)? {
                listing.add(
                    Some(account_id.to_string()),
                    describe_s3::account_public_access_block_item(
                        account_id,
                        region,
                        Some(block),
                        captured_at,
                    ),
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

/// Describes one resource of `region` in the account `account_id` again (a CloudTrail call
/// named it): its item, or `None` when AWS says it does not exist there.
///
/// A bucket is looked up in `ListBuckets` (by its name as prefix), which alone says when it was
/// created; a bucket located in another region does not exist in this one. The account's Block
/// Public Access settings are `None` when none are set.
pub fn describe_one(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    resource_type: &str,
    resource_id: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let unreadable = |operation: &'static str, e: DescribeError| AwsError::Answer {
        operation,
        reason: format!("{resource_id}: {e}"),
    };
    let found = match resource_type {
        describe_s3::BUCKET => {
            let Some(bucket) = s3::list_buckets(client, region, Some(resource_id))?
                .into_iter()
                .find(|b| b.name == resource_id)
            else {
                return Ok(None);
            };
            if located(client, region, &bucket)?.as_deref() != Some(region) {
                return Ok(None);
            }
            let Some(description) = s3::describe_bucket(client, &bucket, region, account_id)?
            else {
                return Ok(None);
            };
            return describe_s3::bucket_item(description, captured_at)
                .map(Some)
                .map_err(|e| unreadable(describe_s3::BUCKET, e));
        }
        describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK => {
            if resource_id != account_id {
                return Err(AwsError::Request(format!(
                    "{resource_type} {resource_id} is not the account {account_id} the client signs for"
                )));
            }
            let Some(block) = s3::account_public_access_block(client, region, account_id)? else {
                return Ok(None);
            };
            return describe_s3::account_public_access_block_item(
                account_id,
                region,
                Some(block),
                captured_at,
            )
            .map(Some)
            .map_err(|e| unreadable(describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK, e));
        }
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
        .map_err(|e| unreadable("DescribeSecurityGroups", e))
}

/// A listed bucket's region: `BucketRegion` when `ListBuckets` said it, else
/// `GetBucketLocation`'s (asked of `region`); `None` when S3 says the bucket is gone.
fn located(
    client: &AwsClient,
    region: &str,
    bucket: &s3::ListedBucket,
) -> Result<Option<String>, AwsError> {
    match &bucket.region {
        Some(listed) => Ok(Some(s3::normalise_location(Some(listed)))),
        None => s3::bucket_location(client, region, &bucket.name),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}
