//! The IAM mappings: AWS Config's own items for the same user, role and policy, documents
//! decoded whichever way they come, MFA devices, keys and login profile where the rule and
//! readers look for them, field errors, and a file of authorization details.

use super::*;
use crate::ingest::{parse_document, RecordOutcome};
use crate::model::{parse_timestamp_text, ConfigurationItem};
use serde_json::json;

fn at() -> Timestamp {
    parse_timestamp_text("2025-03-01T10:00:00.123Z").expect("a time")
}

/// The one configuration item of a real-data file, as ingest reads it.
fn aws_item(path: &str) -> ConfigurationItem {
    let path = format!(
        "{}/tests/data/realdata/config_items/{path}",
        env!("CARGO_MANIFEST_DIR")
    );
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let mut records = parse_document(&bytes);
    assert_eq!(records.len(), 1, "{path}");
    match records.remove(0).outcome {
        RecordOutcome::Item(item) => *item,
        other => panic!("{path}: {other:?}"),
    }
}

/// The relationships of an item as (type, id, name, relationship) for comparing.
fn relationships(item: &ConfigurationItem) -> Vec<(String, String, String, String)> {
    let mut out: Vec<_> = item
        .relationships
        .iter()
        .map(|r| {
            (
                r.resource_type.clone(),
                r.resource_id.clone().unwrap_or_default(),
                r.resource_name.clone().unwrap_or_default(),
                r.name.clone(),
            )
        })
        .collect();
    out.sort();
    out
}

fn document(action: &str) -> Value {
    json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
}

/// IAM's answers URL-encode documents: `%7B%22Version%22…`.
fn url_encoded(document: &Value) -> String {
    percent_encoding::utf8_percent_encode(&document.to_string(), percent_encoding::NON_ALPHANUMERIC)
        .to_string()
}

/// `rdk_example_ci/AWS_IAM_Role.json`'s role as `RoleDetailList` has it, the trust policy
/// URL-encoded as IAM answers it.
fn rdk_role() -> Value {
    let trust = json!({"Version": "2012-10-17", "Statement": [{"Sid": "", "Effect": "Allow",
        "Principal": {"Service": "config.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    json!({
        "Path": "/service-role/",
        "RoleName": "config-role-ezcrc2",
        "RoleId": "AROAIY7FPU7KRV7IZBNPC",
        "Arn": "arn:aws:iam::264683526309:role/service-role/config-role-ezcrc2",
        "CreateDate": "2016-03-10T23:52:10Z",
        "AssumeRolePolicyDocument": url_encoded(&trust),
        "InstanceProfileList": [],
        "RolePolicyList": [],
        "AttachedManagedPolicies": [
            {"PolicyName": "ELB-policy", "PolicyArn": "arn:aws:iam::264683526309:policy/ELB-policy"},
            {"PolicyName": "config-role-ezcrc2-AWSConfigDeliveryPermissions-us-west-2",
             "PolicyArn": "arn:aws:iam::264683526309:policy/service-role/config-role-ezcrc2-AWSConfigDeliveryPermissions-us-west-2"},
            {"PolicyName": "AWS_ConfigRole", "PolicyArn": "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"}
        ]
    })
}

fn rdk_context() -> IamContext {
    IamContext {
        group_ids: BTreeMap::from([("MyTestGroup".into(), "AGPAJNIBGFRSRIKL7VAD6".into())]),
        policy_ids: BTreeMap::from([
            ("arn:aws:iam::264683526309:policy/ELB-policy".into(), "ANPAIJWML3NX3NT6UAGO4".into()),
            (
                "arn:aws:iam::264683526309:policy/service-role/config-role-ezcrc2-AWSConfigDeliveryPermissions-us-west-2".into(),
                "ANPAILY3GNWH4C77WJ6QM".into(),
            ),
            (
                "arn:aws:iam::264683526309:policy/service-role/config-role-ap-northeast-1_AWSConfigDeliveryPermissions_ap-northeast-1".into(),
                "ANPAJCD3LXS23FNRP2AJY".into(),
            ),
        ]),
    }
}

#[test]
fn a_role_is_aws_configs_item_for_it() {
    let aws = aws_item("rdk_example_ci/AWS_IAM_Role.json");
    let ours = role_item(rdk_role(), &rdk_context(), at()).unwrap().item;
    let mut expected = aws.configuration.clone();
    // AWS Config's newer items carry the role's tags; this role has none.
    expected["tags"] = json!([]);
    assert_eq!(ours.configuration, expected);
    for (field, ours, theirs) in [
        ("resourceId", &ours.resource_id, &aws.resource_id),
        ("resourceType", &ours.resource_type, &aws.resource_type),
        ("awsRegion", &ours.aws_region, &aws.aws_region),
        ("accountId", &ours.account_id, &aws.account_id),
    ] {
        assert_eq!(ours, theirs, "{field}");
    }
    assert_eq!(ours.resource_name, aws.resource_name);
    assert_eq!(ours.arn, aws.arn);
    assert_eq!(ours.availability_zone, aws.availability_zone);
    assert_eq!(ours.resource_creation_time, aws.resource_creation_time);
    // The AWS managed policy has no relationship: AWS Config does not record it.
    assert_eq!(relationships(&ours), relationships(&aws));
}

#[test]
fn a_user_is_aws_configs_item_for_it_with_its_inline_policy_decoded() {
    let aws = aws_item("rdk_example_ci/AWS_IAM_User.json");
    let inline = json!({"Version": "2012-10-17", "Statement": [{"Sid": "Stmt1478454695000",
        "Effect": "Allow", "Action": ["codedeploy:*"], "Resource": ["*"]}]});
    let user = json!({
        "Path": "/",
        "UserName": "johndoe",
        "UserId": "AIDAILEDWOGIPJFAKOJKW",
        "Arn": "arn:aws:iam::112233445566:user/johndoe",
        "CreateDate": "2016-09-22T05:55:07+00:00",
        "UserPolicyList": [{"PolicyName": "policygen-johndoe-201611060951", "PolicyDocument": url_encoded(&inline)}],
        "GroupList": ["MyTestGroup"],
        "AttachedManagedPolicies": [
            {"PolicyName": "ELB-policy", "PolicyArn": "arn:aws:iam::264683526309:policy/ELB-policy"},
            {"PolicyName": "AdministratorAccess", "PolicyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
            {"PolicyName": "config-role-ap-northeast-1_AWSConfigDeliveryPermissions_ap-northeast-1",
             "PolicyArn": "arn:aws:iam::264683526309:policy/service-role/config-role-ap-northeast-1_AWSConfigDeliveryPermissions_ap-northeast-1"}
        ]
    });
    let ours = user_item(user, &rdk_context(), at()).unwrap().item;
    let mut expected = aws.configuration.clone();
    expected["tags"] = json!([]);
    // The RDK's example wraps the document in a list; the mapping writes the document itself.
    expected["userPolicyList"][0]["policyDocument"] = inline;
    assert_eq!(ours.configuration, expected);
    assert_eq!(
        (&ours.resource_id, &ours.resource_name, &ours.aws_region),
        (&aws.resource_id, &aws.resource_name, &aws.aws_region)
    );
    assert_eq!(relationships(&ours), relationships(&aws));
    // Not asked about MFA, keys or a login profile: nothing said, not "none".
    assert!(ours.configuration.get("mfaDevices").is_none());
    assert!(ours.supplementary_configuration.is_empty());
}

#[test]
fn mfa_devices_keys_and_the_login_profile_go_where_readers_look() {
    let user = json!({
        "UserName": "alice", "UserId": "AIDAALICE", "Arn": "arn:aws:iam::123456789012:user/alice",
        "CreateDate": "2024-01-02T03:04:05Z",
        "MFADevices": [{"UserName": "alice", "SerialNumber": "arn:aws:iam::123456789012:mfa/alice",
                        "EnableDate": "2024-01-03T00:00:00Z"}],
        "AccessKeys": [{"UserName": "alice", "AccessKeyId": "AKIAEXAMPLE", "Status": "Inactive",
                        "CreateDate": "2024-01-04T00:00:00Z"}],
        "LoginProfile": {"UserName": "alice", "CreateDate": "2024-01-05T00:00:00Z",
                         "PasswordResetRequired": true}
    });
    let item = user_item(user, &IamContext::default(), at()).unwrap().item;
    assert_eq!(
        item.configuration["mfaDevices"],
        json!([{"userName": "alice", "serialNumber": "arn:aws:iam::123456789012:mfa/alice",
                "enableDate": "2024-01-03T00:00:00.000Z"}])
    );
    assert_eq!(
        item.supplementary_configuration["AccessKeys"],
        json!([{"accessKeyId": "AKIAEXAMPLE", "status": "Inactive", "createDate": "2024-01-04T00:00:00.000Z"}])
    );
    assert_eq!(
        item.supplementary_configuration["LoginProfile"],
        json!({"createDate": "2024-01-05T00:00:00.000Z", "passwordResetRequired": true})
    );
    // Asked, and none: an empty list (no MFA), not an absent one (unknown).
    let bare = json!({"UserName": "bob", "UserId": "AIDABOB", "Arn": "arn:aws:iam::123456789012:user/bob",
                      "MFADevices": [], "AccessKeys": []});
    let item = user_item(bare, &IamContext::default(), at()).unwrap().item;
    assert_eq!(item.configuration["mfaDevices"], json!([]));
    assert_eq!(item.supplementary_configuration["AccessKeys"], json!([]));
    assert!(!item
        .supplementary_configuration
        .contains_key("LoginProfile"));
}

#[test]
fn documents_read_as_objects_json_text_or_url_encoded_text() {
    let doc = document("s3:GetObject");
    for given in [
        doc.clone(),
        Value::String(doc.to_string()),
        Value::String(url_encoded(&doc)),
    ] {
        let role = json!({"RoleName": "r", "RoleId": "AROAR", "Arn": "arn:aws:iam::123456789012:role/r",
                          "AssumeRolePolicyDocument": given});
        let item = role_item(role, &IamContext::default(), at()).unwrap().item;
        assert_eq!(item.configuration["assumeRolePolicyDocument"], doc);
    }
}

#[test]
fn bad_input_names_the_field() {
    let ctx = IamContext::default();
    let cases: [(Value, &str); 5] = [
        (
            json!({"UserId": "AIDA1", "Arn": "arn:aws:iam::1:user/a"}),
            "missing UserName",
        ),
        (
            json!("alice"),
            "expected an IAM user (an object), found a string",
        ),
        (
            json!({"UserName": "a", "UserId": "AIDA1", "Arn": "arn:aws:iam::1:user/a",
                   "UserPolicyList": [{"PolicyName": "p", "PolicyDocument": "%7Bnot json"}]}),
            "UserPolicyList[0].PolicyDocument: expected a JSON policy document",
        ),
        (
            json!({"UserName": "a", "UserId": "AIDA1", "Arn": "arn:aws:iam::1:user/a", "GroupList": [7]}),
            "GroupList[0]: expected a group name, found a number",
        ),
        (
            json!({"UserName": "a", "UserId": "AIDA1", "Arn": "not-an-arn"}),
            "Arn: expected an IAM ARN naming the account",
        ),
    ];
    for (user, expected) in cases {
        let e = user_item(user, &ctx, at()).unwrap_err().to_string();
        assert!(e.contains(expected), "{e} (wanted {expected})");
    }
}

#[test]
fn a_policy_keeps_its_default_version_and_names_who_it_is_attached_to() {
    let policy = json!({
        "PolicyName": "ops-read", "PolicyId": "ANPAOPS", "Arn": "arn:aws:iam::123456789012:policy/team/ops-read",
        "Path": "/team/", "DefaultVersionId": "v2", "AttachmentCount": 2, "IsAttachable": true,
        "CreateDate": "2024-01-01T00:00:00Z", "UpdateDate": "2024-02-01T00:00:00Z",
        "PolicyVersionList": [
            {"Document": document("ec2:Describe*"), "VersionId": "v1", "IsDefaultVersion": false, "CreateDate": "2024-01-01T00:00:00Z"},
            {"Document": url_encoded(&document("s3:List*")), "VersionId": "v2", "IsDefaultVersion": true, "CreateDate": "2024-02-01T00:00:00Z"}
        ]
    });
    let attached = [
        Attachment {
            resource_type: USER,
            id: "AIDAALICE".into(),
            name: "alice".into(),
        },
        Attachment {
            resource_type: ROLE,
            id: "AROAAPP".into(),
            name: "app".into(),
        },
    ];
    let item = policy_item(policy, &attached, at()).unwrap().item;
    assert_eq!(
        item.configuration["policyVersionList"],
        json!([{"document": document("s3:List*"), "versionId": "v2", "isDefaultVersion": true,
                "createDate": "2024-02-01T00:00:00.000Z"}])
    );
    assert_eq!(item.configuration["defaultVersionId"], "v2");
    assert_eq!(item.configuration["attachmentCount"], 2);
    assert_eq!(
        (item.resource_id.as_str(), item.aws_region.as_str()),
        ("ANPAOPS", "global")
    );
    assert_eq!(
        relationships(&item),
        vec![
            (
                "AWS::IAM::Role".into(),
                "AROAAPP".into(),
                "app".into(),
                "Is attached to Role".into()
            ),
            (
                "AWS::IAM::User".into(),
                "AIDAALICE".into(),
                "alice".into(),
                "Is attached to User".into()
            ),
        ]
    );
}

#[test]
fn a_file_of_authorization_details_gives_users_roles_and_customer_policies() {
    let path = format!(
        "{}/tests/data/describe/iam/get-account-authorization-details.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut bytes = std::fs::read(&path).unwrap();
    // An AWS managed policy, as the file has them without --filter: skipped.
    let mut doc: Value = serde_json::from_slice(&bytes).unwrap();
    doc["Policies"].as_array_mut().unwrap().push(json!({
        "PolicyName": "ReadOnlyAccess", "PolicyId": "ANPAILL3HVNFSB6DCOWYQ",
        "Arn": "arn:aws:iam::aws:policy/ReadOnlyAccess", "PolicyVersionList": []}));
    bytes = doc.to_string().into_bytes();
    let records = parse_document(&bytes);
    let outcome = |location: &str| {
        records
            .iter()
            .find(|r| r.location == location)
            .unwrap_or_else(|| panic!("no record at {location}: {records:?}"))
    };
    let item = |location: &str| match &outcome(location).outcome {
        RecordOutcome::Item(item) => item.as_ref().clone(),
        other => panic!("{location}: {other:?}"),
    };
    let alice = item("UserDetailList[0]");
    assert_eq!(
        (alice.resource_type.as_str(), alice.resource_name.as_deref()),
        (USER, Some("alice"))
    );
    // Group and policy ids come from elsewhere in the same file.
    assert_eq!(
        relationships(&alice),
        vec![
            (
                "AWS::IAM::Group".into(),
                "pso96vge7f5bhmy698ya".into(),
                "admins".into(),
                TO_GROUP.into()
            ),
            (
                "AWS::IAM::Policy".into(),
                "AN1TZWWRGTZI4G1JXOWEV".into(),
                "ops-read".into(),
                TO_POLICY.into()
            ),
        ]
    );
    assert!(
        outcome("UserDetailList[0]").warnings.is_empty(),
        "{:?}",
        outcome("UserDetailList[0]")
    );
    let bob = item("UserDetailList[1]");
    assert_eq!(
        bob.configuration["userPolicyList"][0]["policyDocument"]["Statement"][0]["Action"],
        "s3:GetObject"
    );
    let app = item("RoleDetailList[0]");
    assert_eq!(app.resource_id, "AROARZPUZDIKD5FMNKWLT");
    assert_eq!(
        app.configuration["assumeRolePolicyDocument"]["Statement"][0]["Principal"]["Service"],
        "ec2.amazonaws.com"
    );
    let policy = item("Policies[0]");
    assert_eq!(
        policy.configuration["policyVersionList"][0]["versionId"],
        "v2"
    );
    let mut attached: Vec<String> = policy
        .relationships
        .iter()
        .map(|r| r.name.clone())
        .collect();
    attached.sort();
    assert_eq!(attached, vec![TO_ROLE.to_string(), TO_USER.to_string()]);
    for skipped in ["GroupDetailList[0]", "Policies[1]"] {
        assert!(
            matches!(outcome(skipped).outcome, RecordOutcome::Skipped(_)),
            "{skipped}: {:?}",
            outcome(skipped)
        );
    }
}

#[test]
fn documents_are_authorization_details_by_their_lists() {
    let cases = [
        (json!({"UserDetailList": []}), true),
        (json!({"RoleDetailList": [], "IsTruncated": false}), true),
        (
            json!({"Policies": [{"PolicyName": "p", "PolicyVersionList": []}]}),
            true,
        ),
        // ListPolicies output: no versions, not authorization details.
        (
            json!({"Policies": [{"PolicyName": "p"}], "IsTruncated": false}),
            false,
        ),
        (json!({"Users": []}), false),
    ];
    for (doc, expected) in cases {
        let Value::Object(obj) = doc.clone() else {
            panic!("{doc}")
        };
        assert_eq!(is_authorization_details(&obj), expected, "{doc}");
    }
}
