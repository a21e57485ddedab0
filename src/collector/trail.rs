//! A CloudTrail trail's S3 delivery: where an account's log files of a region are, and which
//! of them a cursor has not read yet. What is done with them is the use case's (`app::trail`).

use super::aws::s3_objects::list_keys;
use super::aws::{AwsClient, AwsError};
use crate::model::TrailCursor;

/// Keys listed per look, beyond those already read inside the cursor's window: a backlog is
/// read over several looks, oldest first.
const LOOK_LIMIT: usize = 1000;

/// Where a trail delivers its log files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrailSource {
    /// The bucket.
    pub bucket: String,
    /// What comes before `<account id>/CloudTrail/` in the keys (`AWSLogs/`).
    pub prefix: String,
    /// The bucket's region.
    pub region: String,
}

impl TrailSource {
    /// The key prefix of one account's log files of one region:
    /// `{prefix}{account}/CloudTrail/{region}/`.
    pub fn region_prefix(&self, account_id: &str, region: &str) -> String {
        format!("{}{account_id}/CloudTrail/{region}/", self.prefix)
    }

    /// `s3://bucket/key`, for reports and ingest sources.
    pub fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

/// The log files of the cursor's (account, region) not read yet, oldest first: every
/// `.json.gz` (or `.json`) key after the cursor's start not among those it read.
pub fn unread_log_files(
    client: &AwsClient,
    source: &TrailSource,
    cursor: &TrailCursor,
) -> Result<Vec<String>, AwsError> {
    let prefix = source.region_prefix(&cursor.account_id, &cursor.region);
    let keys = list_keys(
        client,
        &source.region,
        &source.bucket,
        &prefix,
        cursor.after.as_deref(),
        LOOK_LIMIT + cursor.recent.len(),
    )?;
    Ok(keys
        .into_iter()
        .filter(|key| is_log_file(key) && cursor.is_new(key))
        .collect())
}

/// CloudTrail's log files, not the other objects a bucket may hold under the same prefix.
fn is_log_file(key: &str) -> bool {
    key.ends_with(".json.gz") || key.ends_with(".json")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_follow_cloudtrails_layout() {
        let source = |prefix: &str| TrailSource {
            bucket: "logs".into(),
            prefix: prefix.into(),
            region: "us-east-1".into(),
        };
        let cases = [
            ("AWSLogs/", "AWSLogs/111122223333/CloudTrail/eu-west-1/"),
            (
                "audit/AWSLogs/",
                "audit/AWSLogs/111122223333/CloudTrail/eu-west-1/",
            ),
            (
                "AWSLogs/o-abc123/",
                "AWSLogs/o-abc123/111122223333/CloudTrail/eu-west-1/",
            ),
        ];
        for (prefix, expected) in cases {
            assert_eq!(
                source(prefix).region_prefix("111122223333", "eu-west-1"),
                expected
            );
        }
        assert_eq!(
            source("AWSLogs/").url("a/b.json.gz"),
            "s3://logs/a/b.json.gz"
        );
        assert!(is_log_file(
            "x/1_CloudTrail_us-east-1_20261207T1805Z_a.json.gz"
        ));
        assert!(!is_log_file(
            "x/1_CloudTrail-Digest_us-east-1_20261207T1805Z.json.gz.sig"
        ));
    }
}
