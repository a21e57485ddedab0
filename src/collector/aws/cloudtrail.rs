//! CloudTrail (JSON protocol): a region's trails, each one's logging status, event selectors
//! and tags, as boto3 returns them.

use super::{decode_json_answer, model, AwsClient, AwsError, Request, Service};
use serde_json::{json, Value};

/// The `X-Amz-Target` prefix of CloudTrail's operations.
const TARGET_PREFIX: &str = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

/// CloudTrail's error code for a trail that does not exist.
pub const TRAIL_NOT_FOUND: &str = "TrailNotFoundException";

/// One call with `input`, its whole answer.
pub fn call(
    client: &AwsClient,
    region: &str,
    operation: &'static str,
    input: &Value,
) -> Result<Value, AwsError> {
    let request = Request::json(Service::CloudTrail, region, TARGET_PREFIX, operation, input);
    let answer = client.send(&request)?;
    decode_json_answer(model::cloudtrail()?, operation, &answer.body)
}

/// The trails whose home is `region` (`DescribeTrails` without shadow trails, so a
/// multi-region trail is listed once, in its home region), or those named (names or ARNs).
/// One call: `DescribeTrails` does not paginate.
pub fn describe_trails(
    client: &AwsClient,
    region: &str,
    names: &[&str],
) -> Result<Vec<Value>, AwsError> {
    let mut input = json!({"includeShadowTrails": false});
    if !names.is_empty() {
        input["trailNameList"] = json!(names);
    }
    let mut answer = call(client, region, "DescribeTrails", &input)?;
    Ok(match answer.get_mut("trailList").map(Value::take) {
        Some(Value::Array(trails)) => trails,
        _ => Vec::new(),
    })
}

/// A trail's logging status (`GetTrailStatus`), by its ARN.
pub fn trail_status(client: &AwsClient, region: &str, trail_arn: &str) -> Result<Value, AwsError> {
    call(
        client,
        region,
        "GetTrailStatus",
        &json!({"Name": trail_arn}),
    )
}

/// A trail's event selectors (`GetEventSelectors`), by its ARN.
pub fn event_selectors(
    client: &AwsClient,
    region: &str,
    trail_arn: &str,
) -> Result<Value, AwsError> {
    call(
        client,
        region,
        "GetEventSelectors",
        &json!({"TrailName": trail_arn}),
    )
}

/// A trail's tags (`ListTags`), by its ARN: `[{Key, Value}]`.
pub fn tags(client: &AwsClient, region: &str, trail_arn: &str) -> Result<Vec<Value>, AwsError> {
    let mut tags = Vec::new();
    let mut token: Option<String> = None;
    // A handful of pages at most: one trail's tags.
    for _ in 0..100 {
        let mut input = json!({"ResourceIdList": [trail_arn]});
        if let Some(token) = &token {
            input["NextToken"] = json!(token);
        }
        let answer = call(client, region, "ListTags", &input)?;
        if let Some(list) = answer
            .pointer("/ResourceTagList/0/TagsList")
            .and_then(Value::as_array)
        {
            tags.extend(list.iter().cloned());
        }
        token = answer
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(tags);
        }
    }
    Err(AwsError::Answer {
        operation: "ListTags",
        reason: "still paginating after 100 pages".into(),
    })
}
