//! CloudTrail `DescribeTrails` → `AWS::CloudTrail::Trail` configuration items.
//!
//! AWS Config names a trail by its name and records it in its home region, `configuration`
//! being DescribeTrails' entry in camelCase (see
//! `tests/data/realdata/config_items/rdk_example_ci/AWS_Cloudtrail_Trail.json`), and its tags
//! under `supplementaryConfiguration.Tags`. The collector also asks whether the trail logs
//! (`GetTrailStatus`) and what it logs (`GetEventSelectors`): they go in
//! `supplementaryConfiguration` as `TrailStatus {isLogging}` (the delivery times, which move on
//! every delivery, are left out so an unchanged trail records nothing) and `EventSelectors`
//! (`{eventSelectors, advancedEventSelectors}`). A file of `aws cloudtrail describe-trails`
//! output has none of these, and its items leave them out.

use super::{camel, finish_item, tag, DescribeError, DescribedItem, Envelope, Fields, Kind};
use crate::ingest::config_item::arn_part;
use crate::model::{looks_like_region, Timestamp};
use serde_json::{json, Map, Value};

/// The resource type trails become.
pub const TRAIL: &str = "AWS::CloudTrail::Trail";

/// The list of trails in `DescribeTrails` output.
pub const TRAIL_LIST: &str = "trailList";

/// What CloudTrail's other calls said about a trail, each answer in boto3's output shape;
/// `None` where not asked (a file of describe-trails output).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrailExtras {
    /// `GetTrailStatus`' answer.
    pub status: Option<Value>,
    /// `GetEventSelectors`' answer.
    pub event_selectors: Option<Value>,
    /// `ListTags`' tags of the trail, `[{Key, Value}]`.
    pub tags: Option<Vec<Value>>,
}

/// The members of a DescribeTrails entry AWS Config's configuration shows.
const TRAIL_MEMBERS: &[(&str, Kind)] = &[
    ("Name", Kind::Text),
    ("S3BucketName", Kind::Text),
    ("S3KeyPrefix", Kind::Text),
    ("SnsTopicName", Kind::Text),
    ("SnsTopicARN", Kind::Text),
    ("IncludeGlobalServiceEvents", Kind::Boolean),
    ("IsMultiRegionTrail", Kind::Boolean),
    ("HomeRegion", Kind::Text),
    ("TrailARN", Kind::Text),
    ("LogFileValidationEnabled", Kind::Boolean),
    ("CloudWatchLogsLogGroupArn", Kind::Text),
    ("CloudWatchLogsRoleArn", Kind::Text),
    ("KmsKeyId", Kind::Text),
    ("HasCustomEventSelectors", Kind::Boolean),
    ("HasInsightSelectors", Kind::Boolean),
    ("IsOrganizationTrail", Kind::Boolean),
];

/// AWS Config's item for one trail of DescribeTrails output. Its region is its `HomeRegion`,
/// else `region` (where it was described), else its ARN's.
pub fn trail_item(
    trail: Value,
    region: Option<&str>,
    extras: TrailExtras,
    captured_at: Timestamp,
) -> Result<DescribedItem, DescribeError> {
    let mut t = Fields::resource(trail, "a CloudTrail trail")?;
    let name = t.required_text("Name")?;
    let arn = t.required_text("TrailARN")?;
    t.obj.insert("Name".into(), name.clone().into());
    t.obj.insert("TrailARN".into(), arn.clone().into());
    let configuration = t.copied(TRAIL_MEMBERS)?;
    let account_id = arn_part(Some(&arn), 4).ok_or_else(|| DescribeError::Unreadable {
        field: "TrailARN".into(),
        expected: "a trail ARN naming the account",
        found: arn.chars().take(super::SHOWN_TEXT).collect(),
    })?;
    let home = configuration
        .get("homeRegion")
        .and_then(Value::as_str)
        .map(str::to_string);
    let region = home
        .or_else(|| region.map(str::to_string))
        .or_else(|| arn_part(Some(&arn), 3))
        .filter(|r| looks_like_region(r))
        .ok_or_else(|| DescribeError::Missing("HomeRegion".into()))?;
    let mut supplementary = Map::new();
    let mut tag_map = std::collections::BTreeMap::new();
    if let Some(tags) = extras.tags {
        let mut pairs = Vec::new();
        for (i, t) in tags.into_iter().enumerate() {
            pairs.push(tag(Fields::of(t, format!("Tags[{i}]"))?)?);
        }
        supplementary.insert(
            "Tags".into(),
            pairs
                .iter()
                .map(|(key, value)| json!({"key": key, "value": value}))
                .collect(),
        );
        tag_map = pairs.into_iter().collect();
    }
    if let Some(status) = extras.status {
        let mut s = Fields::of(status, "GetTrailStatus".into())?;
        let logging = s.boolean("IsLogging")?;
        supplementary.insert("TrailStatus".into(), json!({"isLogging": logging}));
    }
    if let Some(selectors) = extras.event_selectors {
        let mut s = Fields::of(selectors, "GetEventSelectors".into())?;
        let mut out = Map::new();
        for key in ["EventSelectors", "AdvancedEventSelectors"] {
            if let Some(value) = s.take(key) {
                out.insert(camel(key), camel_keys(value));
            }
        }
        supplementary.insert("EventSelectors".into(), out.into());
    }
    finish_item(
        Envelope {
            status: "OK",
            resource_type: TRAIL,
            resource_id: name.clone(),
            resource_name: Some(name),
            account_id,
            arn: Some(arn),
            region,
            availability_zone: Some("Regional".into()),
            creation_time: None,
            tags: tag_map,
            relationships: Vec::new(),
            configuration,
            supplementary,
        },
        captured_at,
        Vec::new(),
    )
}

/// Every object key in `value` in camelCase, as AWS Config writes the SDK's objects.
fn camel_keys(value: Value) -> Value {
    match value {
        Value::Object(obj) => obj
            .into_iter()
            .map(|(k, v)| (camel(&k), camel_keys(v)))
            .collect::<Map<String, Value>>()
            .into(),
        Value::Array(items) => items.into_iter().map(camel_keys).collect(),
        other => other,
    }
}

#[cfg(test)]
mod tests;
