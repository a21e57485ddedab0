//! Attribution scenarios: API events and configuration items arriving in either order, linked
//! into one timeline per resource; event lookup, export and retention through the CLI.

mod common;

use common::{conftrail, describe, json, ok_stdout};
use flate2::write::GzEncoder;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};

const ACCOUNT: &str = "111122223333";
const OTHER_ACCOUNT: &str = "444455556666";
const REGION: &str = "eu-west-1";
const SG: &str = "sg-0aa11bb22cc33dd44";

/// Who made a call.
#[derive(Clone, Copy)]
enum Caller {
    /// An IAM user with an access key.
    User(&'static str),
    /// A role session: (role name, session name).
    Role(&'static str, &'static str),
}

fn identity(caller: Caller, account: &str) -> Value {
    match caller {
        Caller::User(name) => json!({
            "type": "IAMUser", "principalId": format!("AIDA{}", name.to_uppercase()),
            "arn": format!("arn:aws:iam::{account}:user/{name}"), "accountId": account,
            "accessKeyId": format!("AKIA{}", name.to_uppercase()), "userName": name
        }),
        Caller::Role(role, session) => json!({
            "type": "AssumedRole", "principalId": format!("AROAROLE:{session}"),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            "accountId": account, "accessKeyId": "ASIATEMPORARY",
            "sessionContext": {
                "sessionIssuer": {"type": "Role", "principalId": "AROAROLE",
                    "arn": format!("arn:aws:iam::{account}:role/{role}"), "accountId": account, "userName": role},
                "attributes": {"creationDate": "2024-05-01T09:00:00Z", "mfaAuthenticated": "false"}
            }
        }),
    }
}

/// A CloudTrail record.
fn call(
    id: &str,
    time: &str,
    (source, name): (&str, &str),
    caller: Caller,
    account: &str,
    request: Value,
    response: Value,
) -> Value {
    let read_only = name.starts_with("Describe") || name.starts_with("Get");
    json!({
        "eventVersion": "1.09", "userIdentity": identity(caller, account), "eventTime": time,
        "eventSource": source, "eventName": name, "awsRegion": REGION,
        "sourceIPAddress": "198.51.100.23", "userAgent": "aws-cli/2.15.0",
        "requestParameters": request, "responseElements": response,
        "requestID": format!("req-{id}"), "eventID": id, "readOnly": read_only,
        "eventType": "AwsApiCall", "managementEvent": true, "recipientAccountId": account,
        "eventCategory": "Management"
    })
}

fn ssh_rule(cidr: &str) -> Value {
    json!({"ipProtocol": "tcp", "fromPort": 22, "toPort": 22,
           "ipRanges": [cidr], "ipv4Ranges": [{"cidrIp": cidr}], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []})
}

fn sg_item(account: &str, time: &str, status: &str, permissions: Value) -> Value {
    let configuration = if status == "ResourceDeleted" {
        Value::Null
    } else {
        json!({"groupId": SG, "groupName": "web", "description": "web tier", "vpcId": "vpc-1",
               "ownerId": account, "ipPermissions": permissions, "ipPermissionsEgress": [], "tags": []})
    };
    json!({
        "configurationItemVersion": "1.3", "awsAccountId": account, "configurationItemCaptureTime": time,
        "configurationItemStatus": status, "resourceType": "AWS::EC2::SecurityGroup", "resourceId": SG,
        "resourceName": "web", "awsRegion": REGION, "availabilityZone": "Not Applicable",
        "ARN": format!("arn:aws:ec2:{REGION}:{account}:security-group/{SG}"),
        "tags": {}, "relatedEvents": [], "relationships": [], "configuration": configuration,
        "supplementaryConfiguration": {}
    })
}

fn write_json(dir: &Path, name: &str, value: &Value) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, serde_json::to_vec_pretty(value).unwrap()).unwrap();
    path
}

/// A CloudTrail delivery file: gzipped `{"Records": [...]}` under an AWSLogs tree.
fn write_trail_file(root: &Path, name: &str, records: Vec<Value>) -> PathBuf {
    let dir = root.join(format!("AWSLogs/{ACCOUNT}/CloudTrail/{REGION}/2024/05/01"));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!(
        "{ACCOUNT}_CloudTrail_{REGION}_20240501T1000Z_{name}.json.gz"
    ));
    let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&serde_json::to_vec(&json!({ "Records": records })).unwrap())
        .unwrap();
    std::fs::write(&path, gz.finish().unwrap()).unwrap();
    path
}

fn ingest(data: &Path, path: &Path) -> Value {
    json(&conftrail(
        data,
        &["ingest", "--json", path.to_str().unwrap()],
    ))
}

fn timeline(data: &Path, account: &str) -> Value {
    json(&conftrail(
        data,
        &[
            "timeline",
            "AWS::EC2::SecurityGroup",
            SG,
            "--account",
            account,
            "--json",
        ],
    ))
}

/// `(version, [(eventName, likelyCause)])` for every version on a timeline.
fn links(timeline: &Value) -> Vec<(u64, Vec<(String, bool)>)> {
    timeline["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "configuration")
        .map(|v| {
            let calls = v["apiCalls"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| {
                    (
                        c["eventName"].as_str().unwrap().to_string(),
                        c["likelyCause"].as_bool().unwrap(),
                    )
                })
                .collect();
            (v["version"].as_u64().unwrap(), calls)
        })
        .collect()
}

fn owned(v: Vec<(u64, Vec<(&str, bool)>)>) -> Vec<(u64, Vec<(String, bool)>)> {
    v.into_iter()
        .map(|(n, calls)| {
            (
                n,
                calls.into_iter().map(|(c, l)| (c.to_string(), l)).collect(),
            )
        })
        .collect()
}

fn ec2(
    id: &str,
    time: &str,
    name: &str,
    caller: Caller,
    account: &str,
    request: Value,
    response: Value,
) -> Value {
    call(
        id,
        time,
        ("ec2.amazonaws.com", name),
        caller,
        account,
        request,
        response,
    )
}

#[test]
fn security_group_opened_by_a_user_and_closed_by_a_role_in_any_arrival_order() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let alice = Caller::User("alice");
    let secops = Caller::Role("SecOps", "bob");
    let group = json!({"groupId": SG});

    // Early events: delivered before any configuration item.
    let early = write_trail_file(
        tmp.path(),
        "early",
        vec![
            ec2(
                "ev-create",
                "2024-05-01T10:00:00Z",
                "CreateSecurityGroup",
                alice,
                ACCOUNT,
                json!({"groupName": "web", "groupDescription": "web tier", "vpcId": "vpc-1"}),
                json!({"_return": true, "groupId": SG}),
            ),
            ec2(
                "ev-open",
                "2024-05-01T10:10:00Z",
                "AuthorizeSecurityGroupIngress",
                alice,
                ACCOUNT,
                json!({"groupId": SG, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
                json!({"_return": true}),
            ),
            ec2(
                "ev-describe",
                "2024-05-01T10:10:01Z",
                "DescribeSecurityGroups",
                alice,
                ACCOUNT,
                json!({"securityGroupIdSet": {"items": [{"groupId": SG}]}}),
                Value::Null,
            ),
        ],
    );
    // A failed attempt inside version 2's interval: stored and searchable, never linked.
    let mut failed = ec2(
        "ev-denied",
        "2024-05-01T10:09:00Z",
        "AuthorizeSecurityGroupIngress",
        Caller::User("mallory"),
        ACCOUNT,
        json!({"groupId": SG, "cidrIp": "0.0.0.0/0", "fromPort": "3389", "toPort": "3389", "ipProtocol": "tcp"}),
        Value::Null,
    );
    failed["errorCode"] = json!("Client.UnauthorizedOperation");
    failed["errorMessage"] = json!("You are not authorized to perform this operation.");
    let failed_file = write_json(tmp.path(), "failed.json", &failed);

    let report = ingest(&data, &early);
    assert_eq!(
        (report["events"].as_u64(), report["newEvents"].as_u64()),
        (Some(3), Some(3)),
        "{report}"
    );
    ingest(&data, &failed_file);

    let items = write_json(
        tmp.path(),
        "items.json",
        &json!({"configurationItems": [
            sg_item(ACCOUNT, "2024-05-01T10:00:05Z", "ResourceDiscovered", json!([])),
            sg_item(ACCOUNT, "2024-05-01T10:10:05Z", "OK", json!([ssh_rule("0.0.0.0/0")])),
            sg_item(ACCOUNT, "2024-05-01T10:20:05Z", "OK", json!([])),
        ]}),
    );
    ingest(&data, &items);
    let before_late = timeline(&data, ACCOUNT);
    assert_eq!(
        links(&before_late),
        owned(vec![
            (1, vec![("CreateSecurityGroup", true)]),
            (2, vec![("AuthorizeSecurityGroupIngress", true)]),
            (3, vec![])
        ])
    );

    // The role's revoke arrives 20 minutes after the configuration item it caused; a deletion
    // call arrives before the item that records the deletion.
    let late = write_trail_file(
        tmp.path(),
        "late",
        vec![
            ec2(
                "ev-close",
                "2024-05-01T10:20:00Z",
                "RevokeSecurityGroupIngress",
                secops,
                ACCOUNT,
                json!({"groupId": SG, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
                json!({"_return": true}),
            ),
            ec2(
                "ev-delete",
                "2024-05-01T10:30:00Z",
                "DeleteSecurityGroup",
                secops,
                ACCOUNT,
                group.clone(),
                json!({"_return": true}),
            ),
        ],
    );
    ingest(&data, &late);
    let pending = timeline(&data, ACCOUNT);
    let waiting: Vec<&str> = pending["pendingApiCalls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["eventID"].as_str().unwrap())
        .collect();
    assert_eq!(waiting, ["ev-delete"], "{pending:#}");

    let deleted = write_json(
        tmp.path(),
        "deleted.json",
        &sg_item(
            ACCOUNT,
            "2024-05-01T10:30:04Z",
            "ResourceDeleted",
            Value::Null,
        ),
    );
    ingest(&data, &deleted);
    let full = timeline(&data, ACCOUNT);
    let expected = owned(vec![
        (1, vec![("CreateSecurityGroup", true)]),
        (2, vec![("AuthorizeSecurityGroupIngress", true)]),
        (3, vec![("RevokeSecurityGroupIngress", true)]),
        (4, vec![("DeleteSecurityGroup", true)]),
    ]);
    assert_eq!(links(&full), expected, "{full:#}");
    assert!(full["pendingApiCalls"].as_array().unwrap().is_empty());

    // Who: the user by name; the role session by its issuer, with both ARNs.
    let versions: Vec<&Value> = full["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "configuration")
        .collect();
    let opened = &versions[1]["apiCalls"][0];
    assert_eq!(opened["username"], "alice");
    assert_eq!(
        opened["userArn"],
        format!("arn:aws:iam::{ACCOUNT}:user/alice")
    );
    assert_eq!(opened["sourceIPAddress"], "198.51.100.23");
    assert_eq!(opened["userAgent"], "aws-cli/2.15.0");
    assert_eq!(opened["eventID"], "ev-open");
    assert_eq!(
        versions[1]["changedProperties"],
        json!(["Configuration.IpPermissions.0", "ConfigurationItemStatus"])
    );
    let closed = &versions[2]["apiCalls"][0];
    assert_eq!(closed["username"], "SecOps");
    assert_eq!(
        closed["userArn"],
        format!("arn:aws:sts::{ACCOUNT}:assumed-role/SecOps/bob")
    );
    assert_eq!(
        closed["sessionIssuer"],
        format!("arn:aws:iam::{ACCOUNT}:role/SecOps")
    );
    // The managed rule's verdicts are on the same timeline.
    let ssh_verdicts: Vec<(u64, String)> = full["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "evaluation" && e["ruleName"] == "restricted-ssh")
        .map(|e| {
            (
                e["configurationVersion"].as_u64().unwrap(),
                e["compliance"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert_eq!(
        ssh_verdicts[..3],
        [
            (1, "COMPLIANT".to_string()),
            (2, "NON_COMPLIANT".to_string()),
            (3, "COMPLIANT".to_string())
        ],
        "{full:#}"
    );

    // relatedEvents of a version lists its linked calls.
    let shown = json(&conftrail(
        &data,
        &[
            "show",
            "AWS::EC2::SecurityGroup",
            SG,
            "--version",
            "2",
            "--json",
        ],
    ));
    assert_eq!(shown["relatedEvents"], json!(["ev-open"]));

    // The human timeline tells the same story.
    let text = ok_stdout(&conftrail(
        &data,
        &["timeline", "AWS::EC2::SecurityGroup", SG],
    ));
    assert!(
        text.contains("AuthorizeSecurityGroupIngress by alice"),
        "{text}"
    );
    assert!(
        text.contains("RevokeSecurityGroupIngress by SecOps"),
        "{text}"
    );
    assert!(!text.contains("mallory"), "{text}");

    // Re-ingesting everything changes nothing.
    for path in [&early, &failed_file, &items, &late, &deleted] {
        let again = ingest(&data, path);
        assert_eq!(again["newEvents"].as_u64(), Some(0), "{again}");
        assert_eq!(again["newVersions"].as_u64(), Some(0), "{again}");
    }
    assert_eq!(timeline(&data, ACCOUNT), full);

    // The failed call is searchable.
    let denied = json(&conftrail(
        &data,
        &["events", "--user", "mallory", "--format", "json"],
    ));
    let events = denied["Events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{denied:#}");
    let record: Value =
        serde_json::from_str(events[0]["CloudTrailEvent"].as_str().unwrap()).unwrap();
    assert_eq!(record["errorCode"], "Client.UnauthorizedOperation");
}

#[test]
fn bucket_made_public_through_a_policy_is_attributed_and_judged() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let bucket = "reports-bucket-2024";
    let policy = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*")}]}).to_string();
    let item = |time: &str, policy: Option<&str>| {
        json!({
            "configurationItemVersion": "1.3", "awsAccountId": ACCOUNT, "configurationItemCaptureTime": time,
            "configurationItemStatus": "OK", "resourceType": "AWS::S3::Bucket", "resourceId": bucket,
            "resourceName": bucket, "awsRegion": REGION, "ARN": format!("arn:aws:s3:::{bucket}"),
            "tags": {}, "relatedEvents": [], "relationships": [],
            "configuration": {"name": bucket, "owner": {"id": "abc"}, "creationDate": "2024-05-01T09:00:00Z"},
            // What AWS Config records for every bucket: the ACL (owner only), the policy, the
            // versioning; without the ACL, public-read could not judge the first version.
            "supplementaryConfiguration": {
                "AccessControlList": {"grantSet": null, "grantList": [{"grantee": {"id": "abc", "displayName": null}, "permission": "FullControl"}], "owner": {"id": "abc", "displayName": null}},
                "BucketPolicy": {"policyText": policy},
                "BucketVersioningConfiguration": {"status": "Off", "isMfaDeleteEnabled": null}
            }
        })
    };
    let put_policy = call(
        "ev-policy",
        "2024-05-01T11:00:00Z",
        ("s3.amazonaws.com", "PutBucketPolicy"),
        Caller::User("dave"),
        ACCOUNT,
        json!({"bucketName": bucket, "policy": policy, "Host": format!("{bucket}.s3.{REGION}.amazonaws.com")}),
        Value::Null,
    );
    // EventBridge delivers the call; the items come in one history file.
    let envelope = json!({"version": "0", "id": "7bf73129", "detail-type": "AWS API Call via CloudTrail",
        "source": "aws.s3", "account": ACCOUNT, "time": "2024-05-01T11:00:00Z", "region": REGION, "detail": put_policy});
    ingest(
        &data,
        &write_json(tmp.path(), "eventbridge.json", &envelope),
    );
    ingest(
        &data,
        &write_json(
            tmp.path(),
            "items.json",
            &json!({"configurationItems": [
                item("2024-05-01T09:00:10Z", None),
                item("2024-05-01T11:00:07Z", Some(&policy)),
            ]}),
        ),
    );
    let t = json(&conftrail(
        &data,
        &["timeline", "AWS::S3::Bucket", bucket, "--json"],
    ));
    let versions: Vec<&Value> = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "configuration")
        .collect();
    assert_eq!(versions.len(), 2, "{t:#}");
    let linked = &versions[1]["apiCalls"][0];
    assert_eq!(
        (
            linked["eventName"].as_str(),
            linked["username"].as_str(),
            linked["likelyCause"].as_bool()
        ),
        (Some("PutBucketPolicy"), Some("dave"), Some(true)),
        "{t:#}"
    );
    let public_read: Vec<&str> = t["entries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| {
            e["kind"] == "evaluation" && e["ruleName"] == "s3-bucket-public-read-prohibited"
        })
        .map(|e| e["compliance"].as_str().unwrap_or("error"))
        .collect();
    assert_eq!(public_read, ["COMPLIANT", "NON_COMPLIANT"], "{t:#}");
    let by_bucket = json(&conftrail(
        &data,
        &[
            "events",
            "--resource-type",
            "AWS::S3::Bucket",
            "--resource-name",
            bucket,
            "--format",
            "json",
        ],
    ));
    assert_eq!(by_bucket["Events"][0]["EventId"], "ev-policy");
}

#[test]
fn the_same_resource_id_in_two_accounts_gets_only_its_own_calls() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let open = |id: &str, account: &str, who: &'static str| {
        ec2(
            id,
            "2024-05-01T10:10:00Z",
            "AuthorizeSecurityGroupIngress",
            Caller::User(who),
            account,
            json!({"groupId": SG, "cidrIp": "0.0.0.0/0", "fromPort": 22, "toPort": 22, "ipProtocol": "tcp"}),
            json!({"_return": true}),
        )
    };
    ingest(
        &data,
        &write_json(
            tmp.path(),
            "events.json",
            &json!([
                open("ev-a", ACCOUNT, "alice"),
                open("ev-b", OTHER_ACCOUNT, "erin")
            ]),
        ),
    );
    ingest(
        &data,
        &write_json(
            tmp.path(),
            "items.json",
            &json!([
                sg_item(
                    ACCOUNT,
                    "2024-05-01T10:00:05Z",
                    "ResourceDiscovered",
                    json!([])
                ),
                sg_item(
                    ACCOUNT,
                    "2024-05-01T10:10:05Z",
                    "OK",
                    json!([ssh_rule("0.0.0.0/0")])
                ),
                sg_item(
                    OTHER_ACCOUNT,
                    "2024-05-01T10:00:05Z",
                    "ResourceDiscovered",
                    json!([])
                ),
                sg_item(
                    OTHER_ACCOUNT,
                    "2024-05-01T10:10:05Z",
                    "OK",
                    json!([ssh_rule("0.0.0.0/0")])
                ),
            ]),
        ),
    );
    for (account, who) in [(ACCOUNT, "alice"), (OTHER_ACCOUNT, "erin")] {
        let t = timeline(&data, account);
        let users: Vec<&str> = t["entries"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|e| e["kind"] == "configuration")
            .flat_map(|v| {
                v["apiCalls"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|c| c["username"].as_str().unwrap())
            })
            .collect();
        assert_eq!(users, [who], "{t:#}");
    }
    // Without --account the id is ambiguous, and the error says how to choose.
    let out = conftrail(&data, &["timeline", "AWS::EC2::SecurityGroup", SG]);
    common::failed_with(&out, "--account");
}

#[test]
fn events_lookup_filters_pages_and_exports() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut records = Vec::new();
    for i in 0..30 {
        let who = if i % 3 == 0 {
            Caller::User("alice")
        } else {
            Caller::Role("Deployer", "ci")
        };
        let name = if i % 2 == 0 {
            "AuthorizeSecurityGroupIngress"
        } else {
            "DescribeSecurityGroups"
        };
        records.push(ec2(
            &format!("ev-{i:02}"),
            &format!("2024-05-01T10:{i:02}:00Z"),
            name,
            who,
            ACCOUNT,
            json!({"groupId": format!("sg-{i:02}")}),
            Value::Null,
        ));
    }
    ingest(&data, &write_trail_file(tmp.path(), "many", records));

    let ids = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["events", "--format", "json"];
        all.extend_from_slice(args);
        json(&conftrail(&data, &all))["Events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["EventId"].as_str().unwrap().to_string())
            .collect()
    };
    // alice's writes: i divisible by 6; newest first.
    assert_eq!(
        ids(&["--user", "alice", "--read-only", "false"]),
        ["ev-24", "ev-18", "ev-12", "ev-06", "ev-00"]
    );
    assert_eq!(
        ids(&[
            "--user",
            "Deployer",
            "--event-name",
            "AuthorizeSecurityGroupIngress",
            "--since",
            "2024-05-01T10:20:00Z",
            "--until",
            "2024-05-01T10:26:00Z"
        ]),
        ["ev-26", "ev-22", "ev-20"]
    );
    assert_eq!(
        ids(&[
            "--resource-name",
            "sg-07",
            "--resource-type",
            "AWS::EC2::SecurityGroup"
        ]),
        Vec::<String>::new(),
        "a read-only Describe names no groupId the table maps"
    );
    assert_eq!(ids(&["--resource-name", "sg-08"]), ["ev-08"]);
    assert_eq!(
        ids(&[
            "--access-key",
            "AKIAALICE",
            "--event-source",
            "ec2.amazonaws.com",
            "--limit",
            "2"
        ]),
        ["ev-27", "ev-24"]
    );
    assert_eq!(ids(&["--event-id", "ev-13"]), ["ev-13"]);

    // Pages: NextToken continues without gaps or repeats.
    let mut seen = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let mut args = vec!["events", "--format", "json", "--limit", "7"];
        if let Some(token) = &next {
            args.extend_from_slice(&["--next", token]);
        }
        let page = json(&conftrail(&data, &args));
        seen.extend(
            page["Events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["EventId"].as_str().unwrap().to_string()),
        );
        match page["NextToken"].as_str() {
            Some(token) => next = Some(token.to_string()),
            None => break,
        }
    }
    let expected: Vec<String> = (0..30).rev().map(|i| format!("ev-{i:02}")).collect();
    assert_eq!(seen, expected);

    // CSV with the event history download's columns.
    let csv = ok_stdout(&conftrail(
        &data,
        &["events", "--format", "csv", "--event-id", "ev-00"],
    ));
    let mut lines = csv.lines();
    assert_eq!(lines.next(), Some("Event ID,Event time,User name,Event name,Resource type,Resource name,AWS access key,AWS region,Error code,Source IP address,Event source,Read-only,Request ID"));
    assert_eq!(lines.next(), Some("ev-00,2024-05-01T10:00:00.000Z,alice,AuthorizeSecurityGroupIngress,AWS::EC2::SecurityGroup,sg-00,AKIAALICE,eu-west-1,,198.51.100.23,ec2.amazonaws.com,false,req-ev-00"));

    // The JSON export is LookupEvents' shape: it ingests into another store as the same events.
    let export = conftrail(&data, &["events", "--format", "json", "--limit", "100"]);
    let export_path = tmp.path().join("export.json");
    std::fs::write(&export_path, &export.stdout).unwrap();
    let copy = tmp.path().join("copy");
    let report = ingest(&copy, &export_path);
    assert_eq!(report["newEvents"].as_u64(), Some(30), "{report}");
    assert_eq!(
        json(&conftrail(
            &copy,
            &[
                "events",
                "--format",
                "json",
                "--user",
                "alice",
                "--read-only",
                "false"
            ]
        ))["Events"]
            .as_array()
            .unwrap()
            .len(),
        5
    );

    // Bad filters are named.
    let out = conftrail(&data, &["events", "--read-only", "maybe"]);
    assert!(!out.status.success(), "{}", describe(&out));
    common::failed_with(
        &conftrail(&data, &["events", "--next", "bogus"]),
        "invalid page token",
    );
}

#[test]
fn purge_keeps_recent_events_only() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let recent = chrono::Utc::now() - chrono::TimeDelta::days(2);
    let recent = recent.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let records = json!([
        ec2(
            "ev-old",
            "2024-01-01T00:00:00Z",
            "CreateTags",
            Caller::User("alice"),
            ACCOUNT,
            json!({}),
            Value::Null
        ),
        ec2(
            "ev-new",
            &recent,
            "CreateTags",
            Caller::User("alice"),
            ACCOUNT,
            json!({}),
            Value::Null
        ),
    ]);
    ingest(&data, &write_json(tmp.path(), "events.json", &records));
    let kept_forever = ok_stdout(&conftrail(
        &data,
        &["events", "purge", "--retention-days", "0"],
    ));
    assert!(
        kept_forever.contains("every event is kept"),
        "{kept_forever}"
    );
    // Longer than the calendar reaches back: nothing to purge (it used to panic).
    let kept_longest = ok_stdout(&conftrail(
        &data,
        &["events", "purge", "--retention-days", "4294967295"],
    ));
    assert!(
        kept_longest.contains("4294967295 days: every event is kept"),
        "{kept_longest}"
    );
    let purged = ok_stdout(&conftrail(
        &data,
        &["events", "purge", "--retention-days", "30"],
    ));
    assert!(purged.starts_with("purged 1 events"), "{purged}");
    let left = json(&conftrail(&data, &["events", "--format", "json"]));
    let ids: Vec<&str> = left["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["ev-new"]);
}

#[test]
fn a_user_event_map_adds_mappings_and_a_bad_one_is_named() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // A call the built-in table does not know: without the user table it touches nothing.
    let record = ec2(
        "ev-custom",
        "2024-05-01T10:00:00Z",
        "AssociateSecurityGroupVpc",
        Caller::User("alice"),
        ACCOUNT,
        json!({"groupId": SG, "vpcId": "vpc-1"}),
        Value::Null,
    );
    let trail = write_trail_file(tmp.path(), "custom", vec![record]);
    let by_group = |data: &Path, extra: &[&str]| -> usize {
        let mut args = extra.to_vec();
        args.extend_from_slice(&["events", "--resource-name", SG, "--format", "json"]);
        json(&conftrail(data, &args))["Events"]
            .as_array()
            .unwrap()
            .len()
    };
    ingest(&data, &trail);
    assert_eq!(
        by_group(&data, &[]),
        0,
        "built-in table has no such mapping"
    );

    let map = write_json(
        tmp.path(),
        "my-map.json",
        &json!({"mappings": [{
            "eventSource": "ec2.amazonaws.com", "eventNames": ["AssociateSecurityGroupVpc"],
            "resourceType": "AWS::EC2::SecurityGroup", "ids": ["requestParameters.groupId"],
            "changes": ["Configuration.VpcId"]
        }]}),
    );
    let mapped = tmp.path().join("mapped");
    let map_arg = map.to_str().unwrap();
    let out = conftrail(
        &mapped,
        &[
            "--event-map",
            map_arg,
            "ingest",
            "--json",
            trail.to_str().unwrap(),
        ],
    );
    ok_stdout(&out);
    assert_eq!(by_group(&mapped, &[]), 1, "{}", describe(&out));
    let found = json(&conftrail(
        &mapped,
        &[
            "events",
            "--resource-type",
            "AWS::EC2::SecurityGroup",
            "--format",
            "json",
        ],
    ));
    assert_eq!(found["Events"][0]["EventId"], "ev-custom");

    // A malformed mapping stops the run before anything is stored, naming the entry and key.
    let bad = write_json(
        tmp.path(),
        "bad-map.json",
        &json!({"mappings": [
            {"eventSource": "ec2.amazonaws.com", "eventNames": ["A"], "resourceType": "AWS::EC2::SecurityGroup", "ids": ["requestParameters.groupId"]},
            {"eventSource": "ec2.amazonaws.com", "eventNames": ["B"], "ids": ["requestParameters.groupId"]}
        ]}),
    );
    let fresh = tmp.path().join("fresh");
    let out = conftrail(
        &fresh,
        &[
            "--event-map",
            bad.to_str().unwrap(),
            "ingest",
            trail.to_str().unwrap(),
        ],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        stderr.contains("bad-map.json")
            && stderr.contains("mappings[1]")
            && stderr.contains("resourceType"),
        "{stderr}"
    );
    assert_eq!(by_group(&fresh, &[]), 0);
}

#[test]
fn exports_write_every_match_and_a_page_says_it_is_not_the_last() {
    use common::server::{Server, READ};
    const N: usize = 1203;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let start = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap();
    let records = (0..N)
        .map(|i| {
            let time = start + chrono::TimeDelta::seconds(37 * i as i64);
            let name = if i % 2 == 0 {
                "DescribeSecurityGroups"
            } else {
                "AuthorizeSecurityGroupIngress"
            };
            ec2(
                &format!("ev-{i:05}"),
                &time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                name,
                Caller::User("alice"),
                ACCOUNT,
                json!({"groupId": SG}),
                Value::Null,
            )
        })
        .collect();
    let report = ingest(&data, &write_trail_file(tmp.path(), "many", records));
    assert_eq!(report["newEvents"].as_u64(), Some(N as u64), "{report}");
    let expected: Vec<String> = (0..N).rev().map(|i| format!("ev-{i:05}")).collect();
    let csv_ids = |text: &str| -> Vec<String> {
        let mut lines = text.lines();
        assert!(lines.next().unwrap().starts_with("Event ID,"), "{text}");
        lines
            .map(|line| line.split(',').next().unwrap().to_string())
            .collect()
    };
    let stderr = |out: &std::process::Output| String::from_utf8_lossy(&out.stderr).into_owned();
    let token_in = |text: &str| -> String {
        text.lines()
            .find_map(|line| line.strip_prefix("more: --next "))
            .unwrap_or_else(|| panic!("no token in {text:?}"))
            .to_string()
    };

    // The command line: csv and json write every match, and nothing says there is more.
    let out = conftrail(&data, &["events", "--format", "csv"]);
    assert_eq!(csv_ids(&ok_stdout(&out)), expected);
    assert!(!stderr(&out).contains("--next"), "{}", describe(&out));
    let out = conftrail(&data, &["events", "--format", "json"]);
    let all = json(&out);
    let ids: Vec<&str> = all["Events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["EventId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, expected);
    assert!(all.get("NextToken").is_none());
    assert!(!stderr(&out).contains("--next"), "{}", describe(&out));
    let out = conftrail(
        &data,
        &[
            "events",
            "--format",
            "csv",
            "--event-name",
            "AuthorizeSecurityGroupIngress",
        ],
    );
    assert_eq!(csv_ids(&ok_stdout(&out)).len(), N / 2);
    // A limit asks for a page: the token of the rest goes to stderr and continues there.
    let out = conftrail(&data, &["events", "--format", "csv", "--limit", "700"]);
    assert_eq!(csv_ids(&ok_stdout(&out)), expected[..700]);
    let token = token_in(&stderr(&out));
    let out = conftrail(
        &data,
        &[
            "events", "--format", "csv", "--limit", "700", "--next", &token,
        ],
    );
    assert_eq!(csv_ids(&ok_stdout(&out)), expected[700..]);
    assert!(!stderr(&out).contains("--next"), "{}", describe(&out));
    // The table stays a page for people, and says so.
    let out = conftrail(&data, &["events"]);
    assert_eq!(ok_stdout(&out).lines().count(), 51, "{}", describe(&out));
    token_in(&stderr(&out));

    // HTTP.
    let server = Server::start(&data);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let get = |query: &str| -> (u16, Option<String>, String) {
        let mut response = agent
            .get(format!("{}/v1/events?{query}", server.base))
            .header("Authorization", format!("Bearer {READ}"))
            .call()
            .unwrap();
        let next = response
            .headers()
            .get("x-next-token")
            .map(|v| v.to_str().unwrap().to_string());
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(1 << 30)
            .read_to_string()
            .unwrap();
        (status, next, body)
    };
    let (status, next, body) = get("format=csv");
    assert_eq!(status, 200, "{body}");
    assert_eq!(csv_ids(&body), expected);
    assert_eq!(next, None);
    let (status, next, body) = get("format=csv&limit=700");
    assert_eq!(status, 200, "{body}");
    assert_eq!(csv_ids(&body), expected[..700]);
    let next = next.expect("X-Next-Token on a page that is not the last");
    let (_, after, body) = get(&format!("format=csv&limit=700&next={next}"));
    assert_eq!(csv_ids(&body), expected[700..]);
    assert_eq!(after, None);
    // JSON keeps LookupEvents' pages (50 by default), its NextToken also in the header.
    let (status, next, body) = get("");
    assert_eq!(status, 200, "{body}");
    let page: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(page["Events"].as_array().unwrap().len(), 50);
    assert_eq!(page["NextToken"].as_str(), next.as_deref());
    assert!(next.is_some());
    let (status, _, body) = get("format=csv&readOnly=maybe");
    assert_eq!(status, 400, "{body}");

    // The command line against the server exports everything too.
    let out = common::conftrail_without_store(&[
        "--server",
        &server.base,
        "--token",
        READ,
        "events",
        "--format",
        "csv",
    ]);
    assert_eq!(csv_ids(&ok_stdout(&out)), expected);
    assert!(!stderr(&out).contains("--next"), "{}", describe(&out));
    server.stop();
}

/// Runs `conftrail worker ARGS...` on `data` for a few seconds, then SIGTERM; its stdout.
fn run_worker_briefly(data: &Path, args: &[&str]) -> String {
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(data)
        .arg("worker")
        .args(args)
        .env_remove("CONFTRAIL_EVENT_RETENTION_DAYS")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The purge schedule fires every second: three chances.
    std::thread::sleep(std::time::Duration::from_secs(3));
    // SAFETY: sends a signal to our own child process.
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn retention_is_opt_in_and_a_purge_can_say_what_it_would_delete() {
    use common::server::{Server, ADMIN, READ};
    const N: usize = 661;
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // An old trail, imported today.
    let start = chrono::DateTime::parse_from_rfc3339("2024-05-01T00:00:00Z").unwrap();
    let records = (0..N)
        .map(|i| {
            let time = start + chrono::TimeDelta::minutes(i as i64);
            ec2(
                &format!("ev-{i:05}"),
                &time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "CreateTags",
                Caller::User("alice"),
                ACCOUNT,
                json!({}),
                Value::Null,
            )
        })
        .collect();
    ingest(&data, &write_trail_file(tmp.path(), "old", records));
    let count = |data: &Path| {
        json(&conftrail(data, &["events", "--format", "json"]))["Events"]
            .as_array()
            .unwrap()
            .len()
    };
    assert_eq!(count(&data), N);

    // The worker, with its purge schedule due every second but no retention, keeps everything.
    let report = run_worker_briefly(&data, &["--purge-schedule", "* * * * * *"]);
    assert!(report.contains(", 0 purges"), "{report}");
    assert_eq!(count(&data), N);

    // A purge needs a retention; a dry run says what it would delete and deletes nothing.
    let out = conftrail(&data, &["events", "purge"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--retention-days"));
    let dry = ok_stdout(&conftrail(
        &data,
        &["events", "purge", "--retention-days", "90", "--dry-run"],
    ));
    assert!(
        dry.starts_with(&format!("dry run: would purge {N} events older than ")),
        "{dry}"
    );
    assert!(
        dry.contains("event times 2024-05-01T00:00:00.000Z to 2024-05-01T11:00:00.000Z"),
        "{dry}"
    );
    assert!(dry.contains("nothing was deleted"), "{dry}");
    assert_eq!(count(&data), N);

    // The server: no [retention] event_days, no purge, whatever the schedule.
    let config = tmp.path().join("conftrail.toml");
    std::fs::write(&config, "[retention]\npurge_schedule = \"* * * * * *\"\n").unwrap();
    let server = Server::start_with(&data, &["--config", config.to_str().unwrap()]);
    std::thread::sleep(std::time::Duration::from_secs(3));
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let mut response = agent
        .post(format!(
            "{}/v1/events/purge?retentionDays=90&dryRun=true",
            server.base
        ))
        .header("Authorization", format!("Bearer {ADMIN}"))
        .send_empty()
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let report: Value =
        serde_json::from_str(&response.body_mut().read_to_string().unwrap()).unwrap();
    assert_eq!(report["purged"], N, "{report}");
    assert_eq!(report["dryRun"], true, "{report}");
    assert_eq!(report["oldest"], "2024-05-01T00:00:00.000Z", "{report}");
    let mut response = agent
        .get(format!("{}/v1/events?format=csv", server.base))
        .header("Authorization", format!("Bearer {READ}"))
        .call()
        .unwrap();
    let csv = response.body_mut().read_to_string().unwrap();
    assert_eq!(csv.lines().count(), N + 1, "the server purged nothing");
    server.stop();

    // Retention asked for: the worker purges by event time.
    let report = run_worker_briefly(
        &data,
        &["--purge-schedule", "* * * * * *", "--retention-days", "90"],
    );
    assert!(!report.contains(", 0 purges"), "{report}");
    assert_eq!(count(&data), 0);
}
