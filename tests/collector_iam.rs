//! The collector's IAM users, roles and customer managed policies and its CloudTrail trails
//! against a real moto server (see tests/common/moto.rs): an account seeded through boto3 is
//! swept (IAM once, in the region `global`, whatever the regions; trails per region), each item
//! checked against AWS Config's shape; iam-user-mfa-enabled judges the users by the MFA devices
//! collected; a sweep with nothing changed records nothing; a deleted user is recorded deleted;
//! a file of the same account's authorization details gives the same items; CloudTrail calls on
//! a user and a trail get them described again at once.

mod common;

use common::moto::{Moto, ACCOUNT};
use common::{describe, json};
use serde_json::{json, Value};
use std::path::Path;

const USER: &str = "AWS::IAM::User";
const ROLE: &str = "AWS::IAM::Role";
const POLICY: &str = "AWS::IAM::Policy";
const TRAIL: &str = "AWS::CloudTrail::Trail";

/// Seeds the account: alice with an MFA device, a login profile, a group and the customer
/// managed policy ops-read (two versions, v2 the default); bob with an access key and an
/// inline policy, no MFA; the role app trusting EC2, with ops-read and an inline policy; the
/// trails audit (multi-region, logging, custom selectors) and paused (never started).
const SEED: &str = r#"
ct = boto3.client('cloudtrail')
doc = lambda action: json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': action, 'Resource': '*'}]})
iam.create_user(UserName='alice', Tags=[{'Key': 'team', 'Value': 'ops'}])
iam.create_user(UserName='bob')
mfa = iam.create_virtual_mfa_device(VirtualMFADeviceName='alice-mfa')['VirtualMFADevice']['SerialNumber']
iam.enable_mfa_device(UserName='alice', SerialNumber=mfa, AuthenticationCode1='123456', AuthenticationCode2='654321')
iam.create_access_key(UserName='bob')
iam.create_login_profile(UserName='alice', Password='Correct-Horse-1')
iam.put_user_policy(UserName='bob', PolicyName='s3-read', PolicyDocument=doc('s3:GetObject'))
p = iam.create_policy(PolicyName='ops-read', Path='/team/', PolicyDocument=doc('ec2:Describe*'))['Policy']
iam.create_policy_version(PolicyArn=p['Arn'], PolicyDocument=doc(['ec2:Describe*', 's3:List*']), SetAsDefault=True)
iam.attach_user_policy(UserName='alice', PolicyArn=p['Arn'])
iam.create_group(GroupName='admins')
iam.add_user_to_group(GroupName='admins', UserName='alice')
trust = json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Principal': {'Service': 'ec2.amazonaws.com'}, 'Action': 'sts:AssumeRole'}]})
iam.create_role(RoleName='app', AssumeRolePolicyDocument=trust, Description='the app')
iam.attach_role_policy(RoleName='app', PolicyArn=p['Arn'])
iam.put_role_policy(RoleName='app', PolicyName='logs', PolicyDocument=doc('logs:PutLogEvents'))
s3.create_bucket(Bucket='trail-logs')
ct.create_trail(Name='audit', S3BucketName='trail-logs', IsMultiRegionTrail=True)
ct.start_logging(Name='audit')
ct.put_event_selectors(TrailName='audit', EventSelectors=[{'ReadWriteType': 'WriteOnly', 'IncludeManagementEvents': True}])
ct.create_trail(Name='paused', S3BucketName='trail-logs')
"#;

const POLICY_ARN: &str = "arn:aws:iam::123456789012:policy/team/ops-read";

fn collect(moto: &Moto, data: &Path) -> (Option<i32>, Value, String) {
    let types = [USER, ROLE, POLICY, TRAIL].join(",");
    let out = moto.conftrail(
        data,
        &[
            "collect",
            "--regions",
            "us-east-1,eu-west-1",
            "--types",
            &types,
            "--json",
        ],
    );
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {}", describe(&out)));
    (out.status.code(), report, describe(&out))
}

/// The report's scope of a resource type in a region.
fn scope<'r>(report: &'r Value, resource_type: &str, region: &str) -> &'r Value {
    report["scopes"]
        .as_array()
        .and_then(|scopes| {
            scopes
                .iter()
                .find(|s| s["resourceType"] == resource_type && s["region"] == region)
        })
        .unwrap_or_else(|| panic!("no {resource_type} scope in {region}: {report}"))
}

/// The unique ids IAM gave the seeded resources, by name.
fn unique_ids(moto: &Moto) -> Value {
    let out = moto.python(&format!(
        "print(json.dumps({{'alice': iam.get_user(UserName='alice')['User']['UserId'],\n\
         'bob': iam.get_user(UserName='bob')['User']['UserId'],\n\
         'app': iam.get_role(RoleName='app')['Role']['RoleId'],\n\
         'admins': iam.get_group(GroupName='admins')['Group']['GroupId'],\n\
         'ops-read': iam.get_policy(PolicyArn='{POLICY_ARN}')['Policy']['PolicyId']}}))"
    ));
    serde_json::from_str(&out).expect("ids")
}

/// A relationship as AWS Config writes it (stream spelling).
fn related(resource_type: &str, id: &Value, name: &str, relationship: &str) -> Value {
    json!({"resourceType": resource_type, "resourceId": id, "resourceName": name, "name": relationship})
}

fn statement_actions(document: &Value) -> Value {
    document["Statement"][0]["Action"].clone()
}

#[test]
fn iam_and_trails_are_recorded_judged_and_followed() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    moto.python(SEED);
    let ids = unique_ids(&moto);

    // First sweep: each IAM type once, in `global`, though two regions are swept; trails in
    // each region, those of us-east-1 there only.
    let (code, report, shown) = collect(&moto, &data);
    assert_eq!(code, Some(0), "{shown}");
    let regions: Vec<(String, String)> = report["scopes"]
        .as_array()
        .expect("scopes")
        .iter()
        .map(|s| {
            (
                s["resourceType"].as_str().unwrap_or_default().to_string(),
                s["region"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        (TRAIL, "us-east-1"),
        (TRAIL, "eu-west-1"),
        (USER, "global"),
        (ROLE, "global"),
        (POLICY, "global"),
    ]
    .iter()
    .map(|(t, r)| (t.to_string(), r.to_string()))
    .collect();
    assert_eq!(regions, expected, "{shown}");
    for (resource_type, region, count) in [
        (USER, "global", 2),
        (ROLE, "global", 1),
        (POLICY, "global", 1),
        (TRAIL, "us-east-1", 2),
        (TRAIL, "eu-west-1", 0),
    ] {
        let s = scope(&report, resource_type, region);
        assert_eq!(s["complete"], true, "{resource_type}: {shown}");
        assert_eq!(s["errors"], json!([]), "{resource_type}: {shown}");
        assert_eq!(s["resources"], count, "{resource_type}: {shown}");
        assert_eq!(s["newVersions"], count, "{resource_type}: {shown}");
    }

    // alice: AWS Config's user item, with the MFA device and login profile the collector adds.
    let alice = moto.show(&data, USER, ids["alice"].as_str().expect("id"));
    assert_eq!(alice["resourceName"], "alice", "{alice}");
    assert_eq!(alice["awsRegion"], "global", "{alice}");
    assert_eq!(alice["availabilityZone"], "Not Applicable", "{alice}");
    assert_eq!(alice["awsAccountId"], ACCOUNT, "{alice}");
    assert_eq!(
        alice["ARN"], "arn:aws:iam::123456789012:user/alice",
        "{alice}"
    );
    assert_eq!(alice["tags"], json!({"team": "ops"}), "{alice}");
    let config = &alice["configuration"];
    assert_eq!(config["userName"], "alice", "{alice}");
    assert_eq!(config["userId"], ids["alice"], "{alice}");
    assert_eq!(config["path"], "/", "{alice}");
    assert!(config["createDate"].is_string(), "{alice}");
    assert_eq!(config["groupList"], json!(["admins"]), "{alice}");
    assert_eq!(config["userPolicyList"], json!([]), "{alice}");
    assert_eq!(
        config["attachedManagedPolicies"],
        json!([{"policyName": "ops-read", "policyArn": POLICY_ARN}]),
        "{alice}"
    );
    assert_eq!(
        config["tags"],
        json!([{"key": "team", "value": "ops"}]),
        "{alice}"
    );
    let devices = config["mfaDevices"].as_array().expect("mfaDevices");
    assert_eq!(devices.len(), 1, "{alice}");
    assert_eq!(
        devices[0]["serialNumber"], "arn:aws:iam::123456789012:mfa/alice-mfa",
        "{alice}"
    );
    assert_eq!(devices[0]["userName"], "alice", "{alice}");
    let mut relationships = alice["relationships"].as_array().expect("rels").clone();
    relationships.sort_by_key(|r| r["resourceType"].to_string());
    assert_eq!(
        relationships,
        vec![
            related(
                "AWS::IAM::Group",
                &ids["admins"],
                "admins",
                "Is attached to Group"
            ),
            related(
                POLICY,
                &ids["ops-read"],
                "ops-read",
                "Is attached to CustomerManagedPolicy"
            ),
        ],
        "{alice}"
    );
    let supplementary = &alice["supplementaryConfiguration"];
    assert_eq!(supplementary["AccessKeys"], json!([]), "{alice}");
    assert!(
        supplementary["LoginProfile"]["createDate"].is_string(),
        "{alice}"
    );

    // bob: no MFA (an empty list, not an unknown), an access key, an inline policy decoded.
    let bob = moto.show(&data, USER, ids["bob"].as_str().expect("id"));
    let config = &bob["configuration"];
    assert_eq!(config["mfaDevices"], json!([]), "{bob}");
    let inline = &config["userPolicyList"][0];
    assert_eq!(inline["policyName"], "s3-read", "{bob}");
    assert_eq!(
        statement_actions(&inline["policyDocument"]),
        "s3:GetObject",
        "{bob}"
    );
    assert_eq!(bob["relationships"], json!([]), "{bob}");
    let keys = bob["supplementaryConfiguration"]["AccessKeys"]
        .as_array()
        .expect("AccessKeys");
    assert_eq!(keys.len(), 1, "{bob}");
    assert!(
        keys[0]["accessKeyId"]
            .as_str()
            .is_some_and(|k| k.starts_with("AKIA")),
        "{bob}"
    );
    assert_eq!(keys[0]["status"], "Active", "{bob}");
    assert!(keys[0]["createDate"].is_string(), "{bob}");
    assert!(
        bob["supplementaryConfiguration"]
            .get("LoginProfile")
            .is_none(),
        "no password: {bob}"
    );

    // The role: its trust policy decoded, its policies, the link to the customer policy.
    let app = moto.show(&data, ROLE, ids["app"].as_str().expect("id"));
    assert_eq!(app["resourceName"], "app", "{app}");
    assert_eq!(app["awsRegion"], "global", "{app}");
    let config = &app["configuration"];
    assert_eq!(config["roleName"], "app", "{app}");
    assert_eq!(config["roleId"], ids["app"], "{app}");
    assert_eq!(
        config["assumeRolePolicyDocument"]["Statement"][0]["Principal"],
        json!({"Service": "ec2.amazonaws.com"}),
        "{app}"
    );
    assert_eq!(config["rolePolicyList"][0]["policyName"], "logs", "{app}");
    assert_eq!(
        statement_actions(&config["rolePolicyList"][0]["policyDocument"]),
        "logs:PutLogEvents",
        "{app}"
    );
    assert_eq!(
        config["attachedManagedPolicies"],
        json!([{"policyName": "ops-read", "policyArn": POLICY_ARN}]),
        "{app}"
    );
    assert_eq!(config["instanceProfileList"], json!([]), "{app}");
    assert_eq!(
        app["relationships"],
        json!([related(
            POLICY,
            &ids["ops-read"],
            "ops-read",
            "Is attached to CustomerManagedPolicy"
        )]),
        "{app}"
    );

    // The policy: the default version's document, and who it is attached to.
    let policy = moto.show(&data, POLICY, ids["ops-read"].as_str().expect("id"));
    assert_eq!(policy["ARN"], POLICY_ARN, "{policy}");
    assert_eq!(policy["resourceName"], "ops-read", "{policy}");
    let config = &policy["configuration"];
    assert_eq!(config["policyName"], "ops-read", "{policy}");
    assert_eq!(config["path"], "/team/", "{policy}");
    assert_eq!(config["defaultVersionId"], "v2", "{policy}");
    assert_eq!(config["attachmentCount"], 2, "{policy}");
    assert_eq!(config["isAttachable"], true, "{policy}");
    let versions = config["policyVersionList"].as_array().expect("versions");
    assert_eq!(versions.len(), 1, "the default version only: {policy}");
    assert_eq!(versions[0]["versionId"], "v2", "{policy}");
    assert_eq!(versions[0]["isDefaultVersion"], true, "{policy}");
    assert_eq!(
        statement_actions(&versions[0]["document"]),
        json!(["ec2:Describe*", "s3:List*"]),
        "{policy}"
    );
    let mut relationships = policy["relationships"].as_array().expect("rels").clone();
    relationships.sort_by_key(|r| r["resourceType"].to_string());
    assert_eq!(
        relationships,
        vec![
            related(ROLE, &ids["app"], "app", "Is attached to Role"),
            related(USER, &ids["alice"], "alice", "Is attached to User"),
        ],
        "{policy}"
    );

    // The trails, named by name in their home region, with their status and selectors.
    let audit = moto.show(&data, TRAIL, "audit");
    assert_eq!(audit["awsRegion"], "us-east-1", "{audit}");
    assert_eq!(audit["availabilityZone"], "Regional", "{audit}");
    assert_eq!(
        audit["ARN"], "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit",
        "{audit}"
    );
    let config = &audit["configuration"];
    assert_eq!(config["name"], "audit", "{audit}");
    assert_eq!(config["s3BucketName"], "trail-logs", "{audit}");
    assert_eq!(config["isMultiRegionTrail"], true, "{audit}");
    assert_eq!(config["homeRegion"], "us-east-1", "{audit}");
    assert_eq!(config["trailARN"], audit["ARN"], "{audit}");
    let supplementary = &audit["supplementaryConfiguration"];
    assert_eq!(
        supplementary["TrailStatus"],
        json!({"isLogging": true}),
        "{audit}"
    );
    assert_eq!(
        supplementary["EventSelectors"]["eventSelectors"],
        json!([{"readWriteType": "WriteOnly", "includeManagementEvents": true}]),
        "{audit}"
    );
    assert_eq!(supplementary["Tags"], json!([]), "{audit}");
    let paused = moto.show(&data, TRAIL, "paused");
    assert_eq!(
        paused["supplementaryConfiguration"]["TrailStatus"],
        json!({"isLogging": false}),
        "{paused}"
    );
    assert_eq!(
        paused["configuration"]["isMultiRegionTrail"], false,
        "{paused}"
    );

    // The managed rule reads the MFA devices collected.
    let rule = "iam-user-mfa-enabled";
    assert_eq!(
        moto.verdict(&data, rule, ids["alice"].as_str().expect("id")),
        "COMPLIANT"
    );
    assert_eq!(
        moto.verdict(&data, rule, ids["bob"].as_str().expect("id")),
        "NON_COMPLIANT"
    );

    // A file of the same account's authorization details gives the same items, but for what
    // the file does not hold (MFA, keys, login profile; a role's description and session
    // length) and moto's description of a policy ("" in the file).
    let file = dir.path().join("details.json");
    moto.python(&format!(
        "import datetime\n\
         d = iam.get_account_authorization_details()\n\
         d.pop('ResponseMetadata', None)\n\
         # moto leaves out the names and ids AWS writes.\n\
         for p, l in zip(d['Policies'], iam.list_policies(Scope='Local')['Policies']):\n    p.update(PolicyName=l['PolicyName'], PolicyId=l['PolicyId'])\n\
         open('{}', 'w').write(json.dumps(d, default=lambda t: t.isoformat()))",
        file.display()
    ));
    let ingested = dir.path().join("ingested");
    let out = moto.conftrail(&ingested, &["ingest", file.to_str().expect("utf8")]);
    assert!(out.status.success(), "{}", describe(&out));
    let leave_out = |mut item: Value, keys: &[&str]| {
        for key in keys {
            if let Some(config) = item["configuration"].as_object_mut() {
                config.remove(*key);
            }
        }
        let mut relationships = item["relationships"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        relationships.sort_by_key(|r| r.to_string());
        json!([
            item["resourceId"],
            item["resourceName"],
            item["ARN"],
            item["awsRegion"],
            item["resourceCreationTime"],
            item["tags"],
            item["configuration"],
            relationships
        ])
    };
    for (resource_type, name, keys) in [
        (USER, "alice", &["mfaDevices"][..]),
        (USER, "bob", &["mfaDevices"]),
        (ROLE, "app", &["description", "maxSessionDuration"]),
        (POLICY, "ops-read", &["description"]),
    ] {
        let id = ids[name].as_str().expect("id");
        assert_eq!(
            leave_out(moto.show(&ingested, resource_type, id), keys),
            leave_out(moto.show(&data, resource_type, id), keys),
            "{resource_type} {name}"
        );
    }

    // Nothing changed: nothing recorded.
    let (code, report, shown) = collect(&moto, &data);
    assert_eq!(code, Some(0), "{shown}");
    for s in report["scopes"].as_array().expect("scopes") {
        assert_eq!(s["newVersions"], 0, "{shown}");
        assert_eq!(s["unchanged"], s["resources"], "{shown}");
    }

    // bob is deleted; the audit trail stops logging.
    moto.python(
        "for k in iam.list_access_keys(UserName='bob')['AccessKeyMetadata']:\n    iam.delete_access_key(UserName='bob', AccessKeyId=k['AccessKeyId'])\n\
         iam.delete_user_policy(UserName='bob', PolicyName='s3-read')\n\
         iam.delete_user(UserName='bob')\n\
         boto3.client('cloudtrail').stop_logging(Name='audit')",
    );
    let (code, report, shown) = collect(&moto, &data);
    assert_eq!(code, Some(0), "{shown}");
    let users = scope(&report, USER, "global");
    assert_eq!(
        (
            &users["resources"],
            &users["deleted"],
            &users["newVersions"]
        ),
        (&json!(1), &json!(1), &json!(0)),
        "{shown}"
    );
    assert_eq!(
        scope(&report, TRAIL, "us-east-1")["newVersions"],
        1,
        "{shown}"
    );
    let history = json(&moto.conftrail(
        &data,
        &["history", USER, ids["bob"].as_str().expect("id"), "--json"],
    ));
    let latest = &history["configurationItems"][0];
    assert_eq!(
        latest["configurationItemStatus"], "ResourceDeleted",
        "{history}"
    );
    assert_eq!(latest["resourceName"], "bob", "{history}");
    assert_eq!(
        latest["ARN"], "arn:aws:iam::123456789012:user/bob",
        "{history}"
    );
    let audit = moto.show(&data, TRAIL, "audit");
    assert_eq!(
        audit["supplementaryConfiguration"]["TrailStatus"],
        json!({"isLogging": false}),
        "{audit}"
    );

    // Deleted stays deleted.
    let (_, report, shown) = collect(&moto, &data);
    assert_eq!(scope(&report, USER, "global")["deleted"], 0, "{shown}");
}

/// A CloudTrail record of `event` by mallory, now, with these request parameters.
fn trail_record(source: &str, event: &str, parameters: Value, event_id: &str) -> String {
    let record = common::moto::trail_record(source, event, parameters, json!({}), event_id);
    json!({ "Records": [record] }).to_string()
}

#[test]
fn cloudtrail_calls_on_a_user_and_a_trail_get_them_described_again() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    moto.python(
        "iam.create_user(UserName='carol')\n\
         iam.create_policy(PolicyName='deploy', PolicyDocument=json.dumps({'Version': '2012-10-17', 'Statement': [{'Effect': 'Allow', 'Action': 'ecs:*', 'Resource': '*'}]}))\n\
         s3.create_bucket(Bucket='trail-logs')\n\
         ct = boto3.client('cloudtrail')\n\
         ct.create_trail(Name='audit', S3BucketName='trail-logs')\n\
         ct.start_logging(Name='audit')",
    );
    let carol = moto.python("print(iam.get_user(UserName='carol')['User']['UserId'])");
    let config = dir.path().join("conftrail.toml");
    std::fs::write(
        &config,
        format!(
            "[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"{USER}\", \"{TRAIL}\"]\ninterval = \"1h\"\nendpoint_url = \"{}\"\n",
            moto.url
        ),
    )
    .expect("write config");
    let env: Vec<(&str, String)> = moto
        .env()
        .into_iter()
        .filter(|(k, _)| *k != "AWS_ENDPOINT_URL")
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let server = common::server::Server::start_with_env(
        &data,
        &["--config", config.to_str().expect("utf8")],
        &env,
    );
    let versions = |resource_type: &str, id: &str| -> (Vec<Value>, String) {
        let path = format!("/v1/resources/{resource_type}/{id}/timeline");
        let (_, body) = server.request(common::server::READ, "GET", &path, None);
        let timeline: Value = serde_json::from_str(&body).unwrap_or(Value::Null);
        let versions = timeline["entries"]
            .as_array()
            .map(|entries| {
                entries
                    .iter()
                    .filter(|e| e.get("version").is_some())
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        (versions, body)
    };
    let wait_for = |what: &str, resource_type: &str, id: &str, done: &dyn Fn(&[Value]) -> bool| {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
        loop {
            let (found, body) = versions(resource_type, id);
            if done(&found) {
                return found;
            }
            assert!(std::time::Instant::now() < deadline, "{what}: {body}");
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
    };
    wait_for("the first sweep", USER, &carol, &|v| v.len() == 1);
    wait_for("the first sweep", TRAIL, "audit", &|v| v.len() == 1);
    let latest_item = |resource_type: &str, id: &str| -> Value {
        let path = format!("/v1/resources/{resource_type}/{id}");
        let (code, body) = server.request(common::server::READ, "GET", &path, None);
        assert_eq!(code, 200, "{body}");
        serde_json::from_str(&body).expect("json")
    };
    let ingest = |record: String| {
        let (code, body) =
            server.request(common::server::INGEST, "POST", "/v1/ingest", Some(&record));
        assert_eq!(code, 200, "{body}");
    };

    // mallory attaches a policy to carol; CloudTrail names her by name, the item is recorded
    // under her unique id: she is described again at once and the call linked.
    let arn = "arn:aws:iam::123456789012:policy/deploy";
    moto.python(&format!(
        "iam.attach_user_policy(UserName='carol', PolicyArn='{arn}')"
    ));
    let event_id = "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b";
    ingest(trail_record(
        "iam.amazonaws.com",
        "AttachUserPolicy",
        json!({"userName": "carol", "policyArn": arn}),
        event_id,
    ));
    let found = wait_for("a second version of carol", USER, &carol, &|v| v.len() == 2);
    let latest = found.last().expect("latest");
    assert!(
        latest["apiCalls"]
            .as_array()
            .is_some_and(|calls| calls.iter().any(|c| c["eventID"] == event_id)),
        "the new version is linked to the call: {latest}"
    );
    let item = latest_item(USER, &carol);
    assert_eq!(
        item["configuration"]["attachedManagedPolicies"],
        json!([{"policyName": "deploy", "policyArn": arn}]),
        "{item}"
    );

    // The trail stops logging; the call names it by ARN.
    moto.python("boto3.client('cloudtrail').stop_logging(Name='audit')");
    ingest(trail_record(
        "cloudtrail.amazonaws.com",
        "StopLogging",
        json!({"name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/audit"}),
        "2a3b4c5d-6e7f-4081-9a2b-3c4d5e6f7a8b",
    ));
    wait_for("a second version of the trail", TRAIL, "audit", &|v| {
        v.len() == 2
    });
    let trail = latest_item(TRAIL, "audit");
    assert_eq!(
        trail["supplementaryConfiguration"]["TrailStatus"],
        json!({"isLogging": false}),
        "{trail}"
    );

    // carol is deleted; DeleteUser names her by name, and her deletion is recorded on the
    // resource recorded under her unique id.
    moto.python(&format!(
        "iam.detach_user_policy(UserName='carol', PolicyArn='{arn}')\niam.delete_user(UserName='carol')"
    ));
    ingest(trail_record(
        "iam.amazonaws.com",
        "DeleteUser",
        json!({"userName": "carol"}),
        "3b4c5d6e-7f80-4192-8a3b-4c5d6e7f8a9b",
    ));
    let found = wait_for("carol's deletion", USER, &carol, &|v| {
        v.last()
            .is_some_and(|v| v["configurationItemStatus"] == "ResourceDeleted")
    });
    assert_eq!(found.len(), 3, "{found:?}");
    server.stop();
}
