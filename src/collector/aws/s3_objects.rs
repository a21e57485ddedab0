//! S3 objects: the keys under a prefix, in S3's (lexicographic) order, and one object's bytes.
//! The collector reads CloudTrail's log files with these.

use super::s3::percent_encode;
use super::{xml, AwsClient, AwsError, Request, Service};

/// Keys asked for per `ListObjectsV2` page (S3's maximum).
const PAGE_SIZE: usize = 1000;

/// Every key under `prefix` in `bucket` that sorts after `start_after`, in order, at most
/// `limit` of them (`ListObjectsV2`, every page needed).
pub fn list_keys(
    client: &AwsClient,
    region: &str,
    bucket: &str,
    prefix: &str,
    start_after: Option<&str>,
    limit: usize,
) -> Result<Vec<String>, AwsError> {
    const OPERATION: &str = "ListObjectsV2";
    let unreadable = |reason: String| AwsError::Answer {
        operation: OPERATION,
        reason,
    };
    let mut keys = Vec::new();
    let mut token: Option<String> = None;
    while keys.len() < limit {
        let mut path = format!(
            "/?list-type=2&max-keys={}&prefix={}",
            PAGE_SIZE.min(limit - keys.len()),
            percent_encode(prefix)
        );
        match &token {
            Some(token) => path.push_str(&format!("&continuation-token={}", percent_encode(token))),
            None => {
                if let Some(after) = start_after {
                    path.push_str(&format!("&start-after={}", percent_encode(after)));
                }
            }
        }
        let request = Request::rest(Service::S3, region, OPERATION, path).in_bucket(bucket);
        let answer = client.send(&request)?;
        let page = xml::parse(&answer.body).map_err(|e| unreadable(e.to_string()))?;
        for contents in page.children.iter().filter(|c| c.name == "Contents") {
            let key = contents
                .find_text("Key")
                .ok_or_else(|| unreadable("an object without a Key".into()))?;
            keys.push(key.to_string());
        }
        token = match page.find_text("IsTruncated") {
            Some("true") => Some(
                page.find_text("NextContinuationToken")
                    .ok_or_else(|| unreadable("truncated without a NextContinuationToken".into()))?
                    .to_string(),
            ),
            _ => None,
        };
        if token.is_none() {
            break;
        }
    }
    Ok(keys)
}

/// The bytes of one object (`GetObject`).
pub fn get_object(
    client: &AwsClient,
    region: &str,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>, AwsError> {
    let path: Vec<String> = key.split('/').map(percent_encode).collect();
    let request = Request::rest(
        Service::S3,
        region,
        "GetObject",
        format!("/{}", path.join("/")),
    )
    .in_bucket(bucket);
    Ok(client.send(&request)?.body)
}
