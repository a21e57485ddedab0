//! EC2: describe calls, every page, as boto3 would return them.

use super::{decode_answer, model, AwsClient, AwsError, Request, Service};
use serde_json::Value;

/// The EC2 API version of the model.
const VERSION: &str = "2016-11-15";

/// Largest page asked for (EC2's maximum for these calls).
const PAGE_SIZE: &str = "1000";

/// Pages followed at most: a service that keeps answering a next token cannot loop forever.
const MAX_PAGES: usize = 10_000;

/// One describe call with the parameters given (ids, filters), its whole answer.
pub fn describe_some(
    client: &AwsClient,
    region: &str,
    operation: &'static str,
    params: &[(String, String)],
) -> Result<Value, AwsError> {
    let request = Request::query(Service::Ec2, region, operation, VERSION, params);
    let answer = client.send(&request)?;
    decode_answer(model::ec2()?, operation, &answer.body)
}

/// Every item of a paginated describe call: the members of `list` (`SecurityGroups`) of each
/// page, following `NextToken` to the end. A failure on any page fails the whole listing, so a
/// listing cut short is never taken for a complete one.
pub fn describe_all(
    client: &AwsClient,
    region: &str,
    operation: &'static str,
    list: &str,
) -> Result<Vec<Value>, AwsError> {
    let model = model::ec2()?;
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut params = vec![("MaxResults".to_string(), PAGE_SIZE.to_string())];
        if let Some(token) = &token {
            params.push(("NextToken".to_string(), token.clone()));
        }
        let request = Request::query(Service::Ec2, region, operation, VERSION, &params);
        let answer = client.send(&request)?;
        let mut page = decode_answer(model, operation, &answer.body)?;
        if let Some(Value::Array(found)) = page.get_mut(list).map(Value::take) {
            items.extend(found);
        }
        token = page
            .get("NextToken")
            .and_then(Value::as_str)
            .filter(|t| !t.is_empty())
            .map(str::to_string);
        if token.is_none() {
            return Ok(items);
        }
    }
    Err(AwsError::Answer {
        operation,
        reason: format!("still paginating after {MAX_PAGES} pages"),
    })
}
