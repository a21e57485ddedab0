//! S3 listings: buckets (each with its settings) and the account's Block Public Access.

use super::{unreadable, Found, Listing};
use crate::collector::aws::{s3, AwsClient, AwsError};
use crate::collector::each::describe_each;
use crate::ingest::describe::s3 as describe_s3;
use crate::ingest::describe::DescribedItem;
use crate::model::Timestamp;

/// Every bucket S3 lists, kept when located in `region`, described a few at once. One that S3
/// says is gone by the time it is asked about is not seen; one that fails otherwise (its
/// location or one of its settings) is seen but unmapped, while the others go on.
pub(super) fn list_buckets(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    let buckets = s3::list_buckets(client, region, None)?;
    let found = describe_each(buckets, |bucket| {
        let location = match located(client, region, &bucket) {
            Ok(Some(location)) => location,
            Ok(None) => return Found::Nothing,
            // Perhaps in this region: not to be taken for deleted.
            Err(e) => return Found::Failed(bucket.name, e),
        };
        if location != region {
            return Found::Nothing;
        }
        match s3::describe_bucket(client, &bucket, region, account_id) {
            Ok(Some(description)) => Found::Described(
                bucket.name,
                describe_s3::bucket_item(description, captured_at).map(Box::new),
            ),
            Ok(None) => Found::Nothing,
            Err(e) => Found::Failed(bucket.name, e),
        }
    });
    let mut listing = Listing::default();
    listing.take(found);
    Ok(listing)
}

/// The account's Block Public Access settings: one resource whose id is the account id, not
/// seen when none are set.
pub(super) fn list_account_block(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    let mut listing = Listing::default();
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
    Ok(listing)
}

/// Describes one bucket again. It is looked up in `ListBuckets` (by its name as prefix), which
/// alone says when it was created; a bucket located in another region does not exist in this
/// one.
pub(super) fn describe_bucket(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    name: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let Some(bucket) = s3::list_buckets(client, region, Some(name))?
        .into_iter()
        .find(|b| b.name == name)
    else {
        return Ok(None);
    };
    if located(client, region, &bucket)?.as_deref() != Some(region) {
        return Ok(None);
    }
    let Some(description) = s3::describe_bucket(client, &bucket, region, account_id)? else {
        return Ok(None);
    };
    describe_s3::bucket_item(description, captured_at)
        .map(Some)
        .map_err(|e| unreadable(describe_s3::BUCKET, name, e))
}

/// Describes the account's Block Public Access settings again: `None` when none are set.
pub(super) fn describe_account_block(
    client: &AwsClient,
    region: &str,
    account_id: &str,
    resource_id: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    if resource_id != account_id {
        return Err(AwsError::Request(format!(
            "{} {resource_id} is not the account {account_id} the client signs for",
            describe_s3::ACCOUNT_PUBLIC_ACCESS_BLOCK
        )));
    }
    let mut listing = list_account_block(client, region, account_id, captured_at)?;
    if let Some(problem) = listing.unmapped.pop() {
        return Err(AwsError::Answer {
            operation: "GetPublicAccessBlock",
            reason: problem,
        });
    }
    Ok(listing.items.pop())
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
