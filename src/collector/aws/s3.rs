//! S3: the account's buckets, and each bucket's settings asked one call at a time, as boto3
//! would return the answers; S3 Control: the account's Block Public Access settings.
//!
//! `ListBuckets` answers for every region: it is sent to the sweep's region. Each bucket's
//! settings are asked of its own region's endpoint (S3 answers a request for a bucket of
//! another region with a redirect), the bucket in the host on AWS and in the path on a
//! configured endpoint ([`HostLabel`](super::HostLabel)).

use super::{decode_rest_answer, model, xml, AwsClient, AwsError, Request, Service};
use crate::ingest::describe::s3::BucketDescription;
use crate::model::parse_timestamp_text;
use serde_json::Value;

/// Buckets asked for per `ListBuckets` page.
const PAGE_SIZE: usize = 1000;

/// Pages followed at most: a service that keeps answering a token cannot loop forever.
const MAX_PAGES: usize = 10_000;

/// The answer of a call about a bucket that says the bucket is gone.
pub const NO_SUCH_BUCKET: &str = "NoSuchBucket";

/// A bucket as `ListBuckets` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedBucket {
    /// Its name.
    pub name: String,
    /// `CreationDate`, as S3 wrote it.
    pub creation_date: Option<String>,
    /// `BucketRegion`, which AWS adds to a `ListBuckets` answer when the request has a
    /// parameter (this one asks for `max-buckets`); emulators may leave it out.
    pub region: Option<String>,
}

/// Every bucket of the account, every page (`ListBuckets`, sent to `region`). Only those whose
/// name starts with `prefix`, when one is given.
pub fn list_buckets(
    client: &AwsClient,
    region: &str,
    prefix: Option<&str>,
) -> Result<Vec<ListedBucket>, AwsError> {
    const OPERATION: &str = "ListBuckets";
    let model = model::s3()?;
    let mut buckets = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..MAX_PAGES {
        let mut path = format!("/?max-buckets={PAGE_SIZE}");
        if let Some(prefix) = prefix {
            path.push_str(&format!("&prefix={}", percent_encode(prefix)));
        }
        if let Some(token) = &token {
            path.push_str(&format!("&continuation-token={}", percent_encode(token)));
        }
        let answer = client.send(&Request::rest(Service::S3, region, OPERATION, path))?;
        let page = decode_rest_answer(model, OPERATION, &answer.body)?;
        for bucket in page
            .get("Buckets")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let Some(name) = text(bucket, "Name") else {
                return Err(AwsError::Answer {
                    operation: OPERATION,
                    reason: "a bucket without a Name".into(),
                });
            };
            buckets.push(ListedBucket {
                name,
                creation_date: text(bucket, "CreationDate"),
                region: text(bucket, "BucketRegion"),
            });
        }
        token = text(&page, "ContinuationToken");
        if token.is_none() {
            return Ok(buckets);
        }
    }
    Err(AwsError::Answer {
        operation: OPERATION,
        reason: format!("still paginating after {MAX_PAGES} pages"),
    })
}

/// The region of a bucket (`GetBucketLocation`, sent to `region`), normalised; `None` when S3
/// says there is no such bucket.
pub fn bucket_location(
    client: &AwsClient,
    region: &str,
    bucket: &str,
) -> Result<Option<String>, AwsError> {
    const OPERATION: &str = "GetBucketLocation";
    let request = Request::rest(Service::S3, region, OPERATION, "/?location").in_bucket(bucket);
    let answer = match client.send(&request) {
        Ok(answer) => answer,
        Err(e) if e.code() == Some(NO_SUCH_BUCKET) => return Ok(None),
        Err(e) => return Err(e),
    };
    location_of(&answer.body).map(Some)
}

/// Reads a `GetBucketLocation` answer: its root element is the `LocationConstraint` (boto3 reads
/// it apart from the model for that reason), empty for `us-east-1`.
fn location_of(body: &[u8]) -> Result<String, AwsError> {
    let unreadable = |reason: String| AwsError::Answer {
        operation: "GetBucketLocation",
        reason,
    };
    let root = xml::parse(body).map_err(|e| unreadable(e.to_string()))?;
    if root.name != "LocationConstraint" {
        return Err(unreadable(format!(
            "expected a LocationConstraint element, found {}",
            root.name
        )));
    }
    Ok(normalise_location(Some(root.text.trim())))
}

/// A bucket's region from its location constraint: none or empty is `us-east-1`, `EU` is
/// `eu-west-1` (buckets made before regions had codes), others are the region.
pub fn normalise_location(constraint: Option<&str>) -> String {
    match constraint.map(str::trim) {
        None | Some("") => "us-east-1".to_string(),
        Some("EU") => "eu-west-1".to_string(),
        Some(region) => region.to_string(),
    }
}

/// What S3 says about a bucket of `region`, call by call, for [`BucketDescription`]; `None`
/// when S3 says the bucket is gone (deleted since it was listed). A setting S3 answers is not
/// configured is `None` in the description; any other error fails the whole bucket.
///
/// `GetBucketPolicyStatus` is not asked: AWS Config's item has no place for it, and it would
/// cost a call per bucket.
pub fn describe_bucket(
    client: &AwsClient,
    bucket: &ListedBucket,
    region: &str,
    account_id: &str,
) -> Result<Option<BucketDescription>, AwsError> {
    match describe_existing(client, bucket, region, account_id) {
        Ok(description) => Ok(Some(description)),
        Err(e) if e.code() == Some(NO_SUCH_BUCKET) => Ok(None),
        Err(e) => Err(e),
    }
}

fn describe_existing(
    client: &AwsClient,
    bucket: &ListedBucket,
    region: &str,
    account_id: &str,
) -> Result<BucketDescription, AwsError> {
    let name = bucket.name.as_str();
    let get = |operation, query| bucket_call(client, region, name, operation, query, None);
    let get_if_set = |operation, query, not_set| {
        bucket_call(client, region, name, operation, query, Some(not_set))
    };
    let acl = get("GetBucketAcl", "acl")?.unwrap_or_default();
    let policy = get_if_set("GetBucketPolicy", "policy", "NoSuchBucketPolicy")?
        .and_then(|answer| text(&answer, "Policy"));
    let public_access_block = get_if_set(
        "GetPublicAccessBlock",
        "publicAccessBlock",
        "NoSuchPublicAccessBlockConfiguration",
    )?;
    let encryption = get_if_set(
        "GetBucketEncryption",
        "encryption",
        "ServerSideEncryptionConfigurationNotFoundError",
    )?;
    let versioning = get("GetBucketVersioning", "versioning")?.unwrap_or_default();
    let logging = get("GetBucketLogging", "logging")?.unwrap_or_default();
    let tagging = get_if_set("GetBucketTagging", "tagging", "NoSuchTagSet")?;
    let ownership_controls = get_if_set(
        "GetBucketOwnershipControls",
        "ownershipControls",
        "OwnershipControlsNotFoundError",
    )?;
    let lifecycle = get_if_set(
        "GetBucketLifecycleConfiguration",
        "lifecycle",
        "NoSuchLifecycleConfiguration",
    )?;
    let creation_date = match &bucket.creation_date {
        None => None,
        Some(date) => Some(parse_timestamp_text(date).ok_or_else(|| AwsError::Answer {
            operation: "ListBuckets",
            reason: format!("{name}: CreationDate {date:?} is not a time"),
        })?),
    };
    Ok(BucketDescription {
        name: name.to_string(),
        creation_date,
        region: region.to_string(),
        account_id: account_id.to_string(),
        acl,
        policy,
        policy_status: None,
        public_access_block,
        encryption,
        versioning,
        logging,
        tagging,
        ownership_controls,
        lifecycle,
    })
}

/// One `GET /{bucket}?{query}` call, decoded; `None` when S3 answers `not_set` (nothing
/// configured).
fn bucket_call(
    client: &AwsClient,
    region: &str,
    bucket: &str,
    operation: &'static str,
    query: &str,
    not_set: Option<&str>,
) -> Result<Option<Value>, AwsError> {
    let request =
        Request::rest(Service::S3, region, operation, format!("/?{query}")).in_bucket(bucket);
    match client.send(&request) {
        Ok(answer) => decode_rest_answer(model::s3()?, operation, &answer.body).map(Some),
        Err(e) if not_set.is_some() && e.code() == not_set => Ok(None),
        Err(e) => Err(e),
    }
}

/// The account's Block Public Access settings (S3 Control's `GetPublicAccessBlock`, asked of
/// `region`): `{PublicAccessBlockConfiguration: {BlockPublicAcls, …}}`, or `None` when none are
/// set (`NoSuchPublicAccessBlockConfiguration`).
pub fn account_public_access_block(
    client: &AwsClient,
    region: &str,
    account_id: &str,
) -> Result<Option<Value>, AwsError> {
    const OPERATION: &str = "GetPublicAccessBlock";
    let request = Request::rest(
        Service::S3Control,
        region,
        OPERATION,
        "/v20180820/configuration/publicAccessBlock",
    )
    .for_account(account_id);
    match client.send(&request) {
        Ok(answer) => decode_rest_answer(model::s3control()?, OPERATION, &answer.body).map(Some),
        Err(e) if e.code() == Some("NoSuchPublicAccessBlockConfiguration") => Ok(None),
        Err(e) => Err(e),
    }
}

fn text(value: &Value, key: &str) -> Option<String> {
    value
        .get(key)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// A query parameter's value, percent-encoded as SigV4 encodes it (all but `A-Za-z0-9-_.~`).
pub(super) fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collector::aws::decode_rest_answer;
    use serde_json::json;

    #[test]
    fn locations_are_normalised_to_region_codes() {
        assert_eq!(normalise_location(None), "us-east-1");
        assert_eq!(normalise_location(Some("")), "us-east-1");
        assert_eq!(normalise_location(Some("EU")), "eu-west-1");
        assert_eq!(normalise_location(Some("eu-central-1")), "eu-central-1");
        let us = br#"<?xml version="1.0" encoding="UTF-8"?>
<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#;
        assert_eq!(location_of(us).unwrap(), "us-east-1");
        let eu = br#"<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">EU</LocationConstraint>"#;
        assert_eq!(location_of(eu).unwrap(), "eu-west-1");
        let other = br#"<LocationConstraint>ap-south-2</LocationConstraint>"#;
        assert_eq!(location_of(other).unwrap(), "ap-south-2");
        let wrong = br#"<ListBucketResult><Name>b</Name></ListBucketResult>"#;
        assert!(location_of(wrong).is_err());
    }

    #[test]
    fn a_payload_answer_is_the_payload_member() {
        let model = model::s3().unwrap();
        // The root element is the payload member's shape.
        let block = br#"<?xml version="1.0" encoding="UTF-8"?>
<PublicAccessBlockConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <BlockPublicAcls>true</BlockPublicAcls><IgnorePublicAcls>false</IgnorePublicAcls>
  <BlockPublicPolicy>true</BlockPublicPolicy><RestrictPublicBuckets>false</RestrictPublicBuckets>
</PublicAccessBlockConfiguration>"#;
        assert_eq!(
            decode_rest_answer(model, "GetPublicAccessBlock", block).unwrap(),
            json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true,
                "IgnorePublicAcls": false, "BlockPublicPolicy": true, "RestrictPublicBuckets": false}})
        );
        // A string payload is the body itself, not XML.
        let policy = br#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#;
        assert_eq!(
            decode_rest_answer(model, "GetBucketPolicy", policy).unwrap(),
            json!({"Policy": String::from_utf8_lossy(policy)})
        );
        let encryption = br#"<ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>aws:kms</SSEAlgorithm>
  <KMSMasterKeyID>arn:aws:kms:eu-west-1:123456789012:key/k</KMSMasterKeyID></ApplyServerSideEncryptionByDefault>
  <BucketKeyEnabled>true</BucketKeyEnabled></Rule>
</ServerSideEncryptionConfiguration>"#;
        assert_eq!(
            decode_rest_answer(model, "GetBucketEncryption", encryption).unwrap(),
            json!({"ServerSideEncryptionConfiguration": {"Rules": [{
                "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms",
                    "KMSMasterKeyID": "arn:aws:kms:eu-west-1:123456789012:key/k"},
                "BucketKeyEnabled": true}]}})
        );
        let control = model::s3control().unwrap();
        let block = br#"<PublicAccessBlockConfiguration><BlockPublicAcls>true</BlockPublicAcls></PublicAccessBlockConfiguration>"#;
        assert_eq!(
            decode_rest_answer(control, "GetPublicAccessBlock", block).unwrap(),
            json!({"PublicAccessBlockConfiguration": {"BlockPublicAcls": true}})
        );
    }

    #[test]
    fn an_answer_without_a_payload_is_the_output_shape() {
        let model = model::s3().unwrap();
        // Grantee types are attributes (`xsi:type`); grants are `Grant` elements under
        // `AccessControlList`.
        let acl = br#"<?xml version="1.0" encoding="UTF-8"?>
<AccessControlPolicy xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
  <Owner><ID>abc123</ID><DisplayName>owner</DisplayName></Owner>
  <AccessControlList>
    <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="CanonicalUser"><ID>abc123</ID><DisplayName>owner</DisplayName></Grantee><Permission>FULL_CONTROL</Permission></Grant>
    <Grant><Grantee xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="Group"><URI>http://acs.amazonaws.com/groups/global/AllUsers</URI></Grantee><Permission>READ</Permission></Grant>
  </AccessControlList>
</AccessControlPolicy>"#;
        assert_eq!(
            decode_rest_answer(model, "GetBucketAcl", acl).unwrap(),
            json!({"Owner": {"ID": "abc123", "DisplayName": "owner"}, "Grants": [
                {"Grantee": {"Type": "CanonicalUser", "ID": "abc123", "DisplayName": "owner"}, "Permission": "FULL_CONTROL"},
                {"Grantee": {"Type": "Group", "URI": "http://acs.amazonaws.com/groups/global/AllUsers"}, "Permission": "READ"}]})
        );
        // Lifecycle rules repeat in place (a flattened list of `Rule`).
        let lifecycle = br#"<LifecycleConfiguration><Rule><ID>old</ID><Filter><Prefix>logs/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule><Rule><ID>tmp</ID><Filter/><Status>Disabled</Status></Rule></LifecycleConfiguration>"#;
        let rules = decode_rest_answer(model, "GetBucketLifecycleConfiguration", lifecycle)
            .unwrap()["Rules"]
            .clone();
        assert_eq!(rules[0]["Expiration"]["Days"], 30);
        assert_eq!(rules[1]["ID"], "tmp");
        // Versioning never enabled: an empty element, or no body at all.
        let never =
            br#"<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>"#;
        assert_eq!(
            decode_rest_answer(model, "GetBucketVersioning", never).unwrap(),
            json!({})
        );
        assert_eq!(
            decode_rest_answer(model, "GetBucketVersioning", b"").unwrap(),
            json!({})
        );
        let list = br#"<ListAllMyBucketsResult><Owner><ID>abc</ID></Owner><Buckets>
  <Bucket><Name>a</Name><CreationDate>2024-05-01T10:00:00.000Z</CreationDate><BucketRegion>eu-west-1</BucketRegion></Bucket>
  <Bucket><Name>b</Name><CreationDate>2024-05-02T10:00:00.000Z</CreationDate></Bucket>
</Buckets><ContinuationToken>next/page+1</ContinuationToken></ListAllMyBucketsResult>"#;
        let page = decode_rest_answer(model, "ListBuckets", list).unwrap();
        assert_eq!(page["Buckets"][0]["BucketRegion"], "eu-west-1");
        assert_eq!(page["Buckets"][1]["Name"], "b");
        assert_eq!(page["ContinuationToken"], "next/page+1");
        assert_eq!(percent_encode("next/page+1 ~x"), "next%2Fpage%2B1%20~x");
    }
}
