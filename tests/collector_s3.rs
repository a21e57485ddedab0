//! The collector's S3 buckets and account-level Block Public Access against a real moto server
//! (see tests/common/moto.rs): buckets seeded through boto3 in several states are recorded in
//! AWS Config's shape and judged by the managed S3 rules; a sweep with nothing changed records
//! nothing; a deleted bucket is recorded deleted; a bucket made public gets a new,
//! non-compliant version; a CloudTrail call on a bucket gets it described again at once.

mod common;

use common::moto::{Moto, ACCOUNT};
use common::{describe, json};
use serde_json::{json, Value};
use std::path::Path;

const BUCKET: &str = "AWS::S3::Bucket";
const ACCOUNT_BLOCK: &str = "AWS::S3::AccountPublicAccessBlock";

/// Seeds the account: buckets in the states the rules tell apart, one bucket in another region,
/// and the account's Block Public Access with only BlockPublicPolicy on.
const SEED: &str = r#"
for name in ['plain', 'public-read', 'public-write', 'public-policy', 'versioned', 'encrypted', 'blocked', 'mostly-blocked']:
    s3.create_bucket(Bucket=name)
s3.create_bucket(Bucket='elsewhere', CreateBucketConfiguration={'LocationConstraint': 'eu-west-1'})
s3.put_bucket_acl(Bucket='public-read', ACL='public-read')
# One grant per permission, as S3 answers (moto shows only the first of a canned ACL's two).
acl = s3.get_bucket_acl(Bucket='public-write')
s3.put_bucket_acl(Bucket='public-write', AccessControlPolicy={'Owner': acl['Owner'], 'Grants': acl['Grants'] + [
    {'Grantee': {'Type': 'Group', 'URI': 'http://acs.amazonaws.com/groups/global/AuthenticatedUsers'}, 'Permission': 'WRITE'}]})
s3.put_bucket_policy(Bucket='public-policy', Policy=json.dumps({'Version': '2012-10-17', 'Statement': [
    {'Sid': 'Everyone', 'Effect': 'Allow', 'Principal': '*', 'Action': 's3:GetObject',
     'Resource': 'arn:aws:s3:::public-policy/*'}]}))
s3.put_bucket_versioning(Bucket='versioned', VersioningConfiguration={'Status': 'Enabled'})
s3.put_bucket_tagging(Bucket='versioned', Tagging={'TagSet': [{'Key': 'team', 'Value': 'data'}]})
s3.put_bucket_encryption(Bucket='encrypted', ServerSideEncryptionConfiguration={'Rules': [
    {'ApplyServerSideEncryptionByDefault': {'SSEAlgorithm': 'AES256'}}]})
s3.put_public_access_block(Bucket='blocked', PublicAccessBlockConfiguration={
    'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True})
# Three of four on the bucket; the fourth (BlockPublicPolicy) is the account's.
s3.put_public_access_block(Bucket='mostly-blocked', PublicAccessBlockConfiguration={
    'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': False, 'RestrictPublicBuckets': True})
s3control.put_public_access_block(AccountId='123456789012', PublicAccessBlockConfiguration={
    'BlockPublicAcls': False, 'IgnorePublicAcls': False, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': False})
"#;

/// An `s3control` client for moto: boto3 puts the account id in the host (as AWS wants), which
/// an emulator on 127.0.0.1 cannot serve; the request goes to moto's own host instead.
const S3CONTROL: &str = r#"
s3control = boto3.client('s3control')
def _moto_host(request, **kwargs):
    request.url = request.url.replace('://123456789012.', '://')
s3control.meta.events.register('before-send.s3-control', _moto_host)
"#;

/// The buckets of us-east-1 the seed makes.
const IN_REGION: usize = 8;

fn collect(moto: &Moto, data: &Path) -> (Option<i32>, Value, String) {
    let out = moto.conftrail(
        data,
        &[
            "collect",
            "--regions",
            "us-east-1",
            "--types",
            "AWS::S3::Bucket,AWS::S3::AccountPublicAccessBlock",
            "--json",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {}", describe(&out)));
    (out.status.code(), report, describe(&out))
}

/// The report's scope of a resource type.
fn scope<'r>(report: &'r Value, resource_type: &str) -> &'r Value {
    report["scopes"]
        .as_array()
        .and_then(|scopes| scopes.iter().find(|s| s["resourceType"] == resource_type))
        .unwrap_or_else(|| panic!("no {resource_type} scope: {report}"))
}

#[test]
fn buckets_and_the_account_block_are_recorded_judged_and_followed() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    moto.python(&format!("{S3CONTROL}{SEED}"));

    // First sweep: the account's settings first (whatever the order asked), then each bucket
    // of us-east-1; the eu-west-1 bucket is another region's.
    let (code, report, shown) = collect(&moto, &data);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(
        report["scopes"][0]["resourceType"], ACCOUNT_BLOCK,
        "{shown}"
    );
    let buckets = scope(&report, BUCKET);
    assert_eq!(buckets["complete"], true, "{shown}");
    assert_eq!(buckets["errors"], json!([]), "{shown}");
    assert_eq!(buckets["resources"], IN_REGION, "{shown}");
    assert_eq!(buckets["newVersions"], IN_REGION, "{shown}");
    let block = scope(&report, ACCOUNT_BLOCK);
    assert_eq!(
        (&block["resources"], &block["newVersions"]),
        (&json!(1), &json!(1)),
        "{shown}"
    );

    // The items are AWS Config's.
    let item = moto.show(&data, BUCKET, "public-read");
    assert_eq!(item["awsRegion"], "us-east-1", "{item}");
    assert_eq!(item["awsAccountId"], ACCOUNT, "{item}");
    assert_eq!(item["ARN"], "arn:aws:s3:::public-read", "{item}");
    assert_eq!(item["resourceName"], "public-read", "{item}");
    assert_eq!(item["configuration"]["name"], "public-read", "{item}");
    assert!(
        item["configuration"]["creationDate"].is_string(),
        "ListBuckets' date: {item}"
    );
    let supplementary = &item["supplementaryConfiguration"];
    let grants = supplementary["AccessControlList"]["grantList"]
        .as_array()
        .expect("grantList");
    assert!(
        grants.contains(&json!({"grantee": "AllUsers", "permission": "Read"})),
        "{item}"
    );
    assert_eq!(
        supplementary["BucketPolicy"],
        json!({"policyText": null}),
        "{item}"
    );
    assert_eq!(
        supplementary["BucketVersioningConfiguration"],
        json!({"status": "Off", "isMfaDeleteEnabled": null}),
        "{item}"
    );
    assert_eq!(
        supplementary["BucketLoggingConfiguration"],
        json!({"destinationBucketName": null, "logFilePrefix": null}),
        "{item}"
    );
    // Not configured: left out, as AWS Config leaves them out.
    for absent in [
        "PublicAccessBlockConfiguration",
        "ServerSideEncryptionConfiguration",
        "BucketTaggingConfiguration",
        "BucketLifecycleConfiguration",
    ] {
        assert!(supplementary.get(absent).is_none(), "{absent}: {item}");
    }

    let item = moto.show(&data, BUCKET, "public-write");
    let grants = item["supplementaryConfiguration"]["AccessControlList"]["grantList"]
        .as_array()
        .expect("grantList");
    assert!(
        grants.contains(&json!({"grantee": "AuthenticatedUsers", "permission": "Write"})),
        "{item}"
    );
    assert!(
        grants.iter().any(|g| g["permission"] == "FullControl"
            && g["grantee"]["id"] == item["configuration"]["owner"]["id"]),
        "the owner's grant: {item}"
    );

    let item = moto.show(&data, BUCKET, "public-policy");
    let policy = item["supplementaryConfiguration"]["BucketPolicy"]["policyText"]
        .as_str()
        .expect("policy text");
    let policy: Value = serde_json::from_str(policy).expect("the policy is JSON");
    assert_eq!(policy["Statement"][0]["Principal"], "*", "{item}");

    let item = moto.show(&data, BUCKET, "versioned");
    assert_eq!(
        item["supplementaryConfiguration"]["BucketVersioningConfiguration"]["status"], "Enabled",
        "{item}"
    );
    assert_eq!(item["tags"], json!({"team": "data"}), "{item}");
    assert_eq!(
        item["supplementaryConfiguration"]["BucketTaggingConfiguration"],
        json!({"tagSets": [{"tags": {"team": "data"}}]}),
        "{item}"
    );

    let item = moto.show(&data, BUCKET, "encrypted");
    assert_eq!(
        item["supplementaryConfiguration"]["ServerSideEncryptionConfiguration"]["rules"][0]
            ["applyServerSideEncryptionByDefault"]["sseAlgorithm"],
        "AES256",
        "{item}"
    );

    let item = moto.show(&data, BUCKET, "blocked");
    assert_eq!(
        item["supplementaryConfiguration"]["PublicAccessBlockConfiguration"],
        json!({"blockPublicAcls": true, "ignorePublicAcls": true,
               "blockPublicPolicy": true, "restrictPublicBuckets": true}),
        "{item}"
    );

    let item = moto.show(&data, ACCOUNT_BLOCK, ACCOUNT);
    assert_eq!(item["awsRegion"], "us-east-1", "{item}");
    assert_eq!(item["configurationItemStatus"], "OK", "{item}");
    assert_eq!(
        item["configuration"],
        json!({"blockPublicAcls": false, "ignorePublicAcls": false,
               "blockPublicPolicy": true, "restrictPublicBuckets": false}),
        "{item}"
    );

    let out = moto.conftrail(&data, &["show", BUCKET, "elsewhere", "--json"]);
    assert!(!out.status.success(), "{}", describe(&out));

    // The managed rules' verdicts.
    const OK: &str = "COMPLIANT";
    const NOT: &str = "NON_COMPLIANT";
    let expected: [(&str, &[(&str, &str)]); 5] = [
        (
            "s3-bucket-public-read-prohibited",
            &[
                ("plain", OK),
                ("public-read", NOT),
                ("public-write", OK),
                ("public-policy", NOT),
            ],
        ),
        (
            "s3-bucket-public-write-prohibited",
            &[
                ("public-read", OK),
                ("public-write", NOT),
                ("public-policy", OK),
            ],
        ),
        (
            "s3-bucket-versioning-enabled",
            &[("versioned", OK), ("plain", NOT)],
        ),
        (
            "s3-bucket-server-side-encryption-enabled",
            &[("encrypted", OK), ("plain", NOT)],
        ),
        (
            "s3-bucket-level-public-access-prohibited",
            // mostly-blocked: three settings on the bucket and the fourth on the account,
            // whose item was recorded before the buckets were judged.
            &[("blocked", OK), ("mostly-blocked", OK), ("plain", NOT)],
        ),
    ];
    for (rule, buckets) in expected {
        for (bucket, compliance) in buckets {
            assert_eq!(
                moto.verdict(&data, rule, bucket),
                *compliance,
                "{rule} on {bucket}"
            );
        }
    }

    // Nothing changed: nothing recorded.
    let (code, report, shown) = collect(&moto, &data);
    assert_eq!(code, Some(0), "{shown}");
    let buckets = scope(&report, BUCKET);
    assert_eq!(buckets["newVersions"], 0, "{shown}");
    assert_eq!(buckets["unchanged"], IN_REGION, "{shown}");
    assert_eq!(scope(&report, ACCOUNT_BLOCK)["newVersions"], 0, "{shown}");
    assert_eq!(scope(&report, ACCOUNT_BLOCK)["unchanged"], 1, "{shown}");

    // A bucket is deleted, one is made public, the account's settings are removed.
    moto.python(&format!(
        "{S3CONTROL}\n\
         s3.delete_bucket(Bucket='plain')\n\
         s3.put_bucket_acl(Bucket='versioned', ACL='public-read')\n\
         s3control.delete_public_access_block(AccountId='{ACCOUNT}')",
    ));
    let (code, report, shown) = collect(&moto, &data);
    assert_eq!(code, Some(0), "{shown}");
    let buckets = scope(&report, BUCKET);
    assert_eq!(buckets["resources"], IN_REGION - 1, "{shown}");
    assert_eq!(buckets["deleted"], 1, "{shown}");
    assert_eq!(buckets["newVersions"], 1, "{shown}");
    let block = scope(&report, ACCOUNT_BLOCK);
    assert_eq!(
        (&block["resources"], &block["deleted"]),
        (&json!(0), &json!(1)),
        "{shown}"
    );

    let history = json(&moto.conftrail(&data, &["history", BUCKET, "plain", "--json"]));
    let latest = &history["configurationItems"][0];
    assert_eq!(
        latest["configurationItemStatus"], "ResourceDeleted",
        "{history}"
    );
    assert_eq!(latest["ARN"], "arn:aws:s3:::plain", "{history}");
    let history = json(&moto.conftrail(&data, &["history", ACCOUNT_BLOCK, ACCOUNT, "--json"]));
    assert_eq!(
        history["configurationItems"][0]["configurationItemStatus"], "ResourceDeleted",
        "{history}"
    );

    let history = json(&moto.conftrail(&data, &["history", BUCKET, "versioned", "--json"]));
    assert_eq!(
        history["configurationItems"].as_array().map(Vec::len),
        Some(2),
        "{history}"
    );
    assert_eq!(
        moto.verdict(&data, "s3-bucket-public-read-prohibited", "versioned"),
        "NON_COMPLIANT"
    );

    // Deleted stays deleted.
    let (_, report, shown) = collect(&moto, &data);
    assert_eq!(scope(&report, BUCKET)["deleted"], 0, "{shown}");
    assert_eq!(scope(&report, BUCKET)["newVersions"], 0, "{shown}");
    assert_eq!(scope(&report, ACCOUNT_BLOCK)["deleted"], 0, "{shown}");
}

/// A CloudTrail record of `event` on a bucket by mallory, now.
fn trail_record(event: &str, bucket: &str, event_id: &str) -> String {
    let parameters = json!({"bucketName": bucket, "acl": [""], "Host": format!("{bucket}.s3.us-east-1.amazonaws.com")});
    let extra = json!({"resources": [{"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": format!("arn:aws:s3:::{bucket}")}]});
    let record = common::moto::trail_record("s3.amazonaws.com", event, parameters, extra, event_id);
    json!({ "Records": [record] }).to_string()
}

#[test]
fn a_cloudtrail_call_on_a_bucket_gets_it_described_again() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    moto.python("s3.create_bucket(Bucket='shared')");
    let server = moto.serve(
        dir.path(),
        "[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"AWS::S3::Bucket\"]\ninterval = \"1h\"\n",
    );
    let timeline_path = format!("/v1/resources/{BUCKET}/shared/timeline");
    let versions = common::server::timeline_versions;
    let wait_for = |what: &str, done: &dyn Fn(&Value) -> bool| -> Value {
        server.wait_json(&timeline_path, what, done)
    };
    wait_for("the first sweep", &|t| versions(t).len() == 1);

    // mallory makes the bucket public; CloudTrail's record of it arrives. The bucket is
    // described again at once, with the creation date the sweep recorded (no spurious change).
    moto.python("s3.put_bucket_acl(Bucket='shared', ACL='public-read')");
    let event_id = "5b2d7c1e-8f3a-4e6b-9c0d-1a2b3c4d5e6f";
    server.ingest(&trail_record("PutBucketAcl", "shared", event_id));
    let timeline = wait_for("a second version", &|t| versions(t).len() == 2);
    let latest = versions(&timeline).pop().expect("latest");
    assert!(
        latest["apiCalls"]
            .as_array()
            .is_some_and(|calls| calls.iter().any(|c| c["eventID"] == event_id)),
        "the new version is linked to the call: {timeline}"
    );
    let (_, body) = server.request(
        common::server::READ,
        "GET",
        &format!("/v1/resources/{BUCKET}/shared/compliance"),
        None,
    );
    assert!(body.contains("NON_COMPLIANT"), "{body}");
    let (_, body) = server.request(
        common::server::READ,
        "GET",
        &format!("/v1/resources/{BUCKET}/shared/diff"),
        None,
    );
    let diff: Value = serde_json::from_str(&body).expect("json");
    let changed: Vec<&String> = diff["configurationItemDiff"]["changedProperties"]
        .as_object()
        .map(|c| c.keys().collect())
        .unwrap_or_default();
    assert!(
        !changed.is_empty()
            && changed
                .iter()
                .all(|p| p.starts_with("SupplementaryConfiguration.AccessControlList")),
        "only the ACL changed: {body}"
    );

    // The bucket is deleted; the DeleteBucket record gets its deletion recorded.
    moto.python("s3.delete_bucket(Bucket='shared')");
    server.ingest(&trail_record(
        "DeleteBucket",
        "shared",
        "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
    ));
    let timeline = wait_for("the deletion", &|t| {
        versions(t)
            .last()
            .is_some_and(|v| v["configurationItemStatus"] == "ResourceDeleted")
    });
    assert_eq!(versions(&timeline).len(), 3, "{timeline}");
    server.stop();
}
