//! IAM: list and get calls, every page, as boto3 returns them. IAM is global: every call goes
//! to its one endpoint, signed for us-east-1 (see [`Service::Iam`]).

use super::{decode_answer, model, AwsClient, AwsError, Request, Service};
use serde_json::Value;

/// The IAM API version of the model.
const VERSION: &str = "2010-05-08";

/// The region AWS Config records IAM resources in, and the one IAM requests are made for.
pub const GLOBAL: &str = "global";

/// Largest page asked for (IAM's maximum `MaxItems`).
const PAGE_SIZE: &str = "1000";

/// Pages followed at most: a service that keeps answering `IsTruncated` cannot loop forever.
const MAX_PAGES: usize = 10_000;

/// IAM's error code for a name that does not exist (a user, role, policy or login profile).
pub const NO_SUCH_ENTITY: &str = "NoSuchEntity";

fn params(given: &[(&str, &str)]) -> Vec<(String, String)> {
    given
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// One call with the parameters given, its whole answer.
pub fn call(
    client: &AwsClient,
    operation: &'static str,
    given: &[(&str, &str)],
) -> Result<Value, AwsError> {
    let request = Request::query(Service::Iam, GLOBAL, operation, VERSION, &params(given));
    let answer = client.send(&request)?;
    decode_answer(model::iam()?, operation, &answer.body)
}

/// One call whose `NoSuchEntity` means "none": `None` then.
pub fn call_if_exists(
    client: &AwsClient,
    operation: &'static str,
    given: &[(&str, &str)],
) -> Result<Option<Value>, AwsError> {
    match call(client, operation, given) {
        Ok(answer) => Ok(Some(answer)),
        Err(e) if e.code() == Some(NO_SUCH_ENTITY) => Ok(None),
        Err(e) => Err(e),
    }
}

/// Every item of a paginated list call: the members of `list` (`Users`) of each page. See
/// [`pages`].
pub fn list_all(
    client: &AwsClient,
    operation: &'static str,
    given: &[(&str, &str)],
    list: &str,
) -> Result<Vec<Value>, AwsError> {
    let mut items = Vec::new();
    for mut page in pages(client, operation, given)? {
        if let Some(Value::Array(found)) = page.get_mut(list).map(Value::take) {
            items.extend(found);
        }
    }
    Ok(items)
}

/// Every page of a paginated call, following `Marker` while `IsTruncated`. A failure on any
/// page fails the whole listing, so a listing cut short is never taken for a complete one.
pub fn pages(
    client: &AwsClient,
    operation: &'static str,
    given: &[(&str, &str)],
) -> Result<Vec<Value>, AwsError> {
    let model = model::iam()?;
    let mut pages = Vec::new();
    let mut marker: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut all = params(given);
        all.push(("MaxItems".to_string(), PAGE_SIZE.to_string()));
        if let Some(marker) = &marker {
            all.push(("Marker".to_string(), marker.clone()));
        }
        let request = Request::query(Service::Iam, GLOBAL, operation, VERSION, &all);
        let answer = client.send(&request)?;
        let page = decode_answer(model, operation, &answer.body)?;
        let truncated = page.get("IsTruncated").and_then(Value::as_bool) == Some(true);
        marker = page
            .get("Marker")
            .and_then(Value::as_str)
            .filter(|m| !m.is_empty())
            .map(str::to_string);
        pages.push(page);
        match (truncated, &marker) {
            (false, _) => return Ok(pages),
            (true, None) => {
                return Err(AwsError::Answer {
                    operation,
                    reason: "IsTruncated without a Marker".into(),
                })
            }
            (true, Some(_)) => {}
        }
    }
    Err(AwsError::Answer {
        operation,
        reason: format!("still paginating after {MAX_PAGES} pages"),
    })
}
