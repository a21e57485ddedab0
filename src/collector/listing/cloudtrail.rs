//! CloudTrail listings: the trails whose home is a region, each with its logging status, event
//! selectors and tags.

use super::{text, unreadable, Listing};
use crate::collector::aws::cloudtrail::{self, TRAIL_NOT_FOUND};
use crate::collector::aws::{AwsClient, AwsError};
use crate::ingest::describe::cloudtrail::{trail_item, TrailExtras, TRAIL};
use crate::ingest::describe::DescribedItem;
use crate::model::Timestamp;
use serde_json::Value;

/// Every trail whose home is `region`. One that fails to be described further is seen but
/// unmapped, while the others go on.
pub(super) fn list(
    client: &AwsClient,
    region: &str,
    captured_at: Timestamp,
) -> Result<Listing, AwsError> {
    let mut listing = Listing::default();
    for trail in cloudtrail::describe_trails(client, region, &[])? {
        if !at_home(&trail, region) {
            continue;
        }
        let Some(name) = text(&trail, "Name") else {
            listing
                .unmapped
                .push("DescribeTrails: a trail without a name".into());
            continue;
        };
        match describe_trail(client, region, trail, captured_at) {
            Ok(item) => listing.add(Some(name), Ok(item)),
            Err(e) => listing.failed(name, &e),
        }
    }
    Ok(listing)
}

/// Describes one trail of `region` again, by name or ARN: `None` when CloudTrail has no such
/// trail there.
pub(super) fn describe(
    client: &AwsClient,
    region: &str,
    identifier: &str,
    captured_at: Timestamp,
) -> Result<Option<DescribedItem>, AwsError> {
    let trails = match cloudtrail::describe_trails(client, region, &[identifier]) {
        Ok(trails) => trails,
        Err(e) if e.code() == Some(TRAIL_NOT_FOUND) => return Ok(None),
        Err(e) => return Err(e),
    };
    let found = trails.into_iter().find(|t| {
        at_home(t, region)
            && (text(t, "Name").as_deref() == Some(identifier)
                || text(t, "TrailARN").as_deref() == Some(identifier))
    });
    match found {
        Some(trail) => describe_trail(client, region, trail, captured_at).map(Some),
        None => Ok(None),
    }
}

/// Whether a trail's home is `region` (a shadow of a multi-region trail is not).
fn at_home(trail: &Value, region: &str) -> bool {
    text(trail, "HomeRegion").is_none_or(|home| home == region)
}

/// A trail of DescribeTrails with its status, event selectors and tags.
fn describe_trail(
    client: &AwsClient,
    region: &str,
    trail: Value,
    captured_at: Timestamp,
) -> Result<DescribedItem, AwsError> {
    let arn = text(&trail, "TrailARN").ok_or_else(|| AwsError::Answer {
        operation: "DescribeTrails",
        reason: "a trail without a TrailARN".into(),
    })?;
    let extras = TrailExtras {
        status: Some(cloudtrail::trail_status(client, region, &arn)?),
        event_selectors: Some(cloudtrail::event_selectors(client, region, &arn)?),
        tags: Some(cloudtrail::tags(client, region, &arn)?),
    };
    trail_item(trail, Some(region), extras, captured_at).map_err(|e| unreadable(TRAIL, &arn, e))
}
