//! `aws iam get-account-authorization-details` and `aws cloudtrail describe-trails` output
//! ingested end to end: the `conftrail` binary on the files under `tests/data/describe/iam/`
//! (made with moto and boto3, see the folder's README), the items it stores, and what
//! iam-user-mfa-enabled says of users whose MFA devices a file does not tell.

mod common;

use common::{conftrail, json, repo};
use serde_json::{json, Value};

const ALICE: &str = "0nuk9g40wfm1avpcjyhr";
const BOB: &str = "328z4jvclqr1ojud38ic";
const APP: &str = "AROARZPUZDIKD5FMNKWLT";
const OPS_READ: &str = "AN1TZWWRGTZI4G1JXOWEV";

#[test]
fn authorization_details_and_trails_are_recorded_in_aws_configs_shape() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let details = repo("tests/data/describe/iam/get-account-authorization-details.json");
    let trails = repo("tests/data/describe/iam/describe-trails.json");
    let out = conftrail(&data, &["ingest", &details, &trails, "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", common::describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    // Two users, a role, a policy, two trails; the group is read for its id, not recorded.
    assert_eq!(report["newVersions"], 6, "{report}");
    let skipped: Vec<&Value> = report["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .filter(|p| p["kind"] == "skipped")
        .map(|p| &p["location"])
        .collect();
    assert_eq!(skipped, vec![&json!("GroupDetailList[0]")], "{report}");

    let show = |resource_type: &str, id: &str| {
        json(&conftrail(&data, &["show", resource_type, id, "--json"]))
    };
    let alice = show("AWS::IAM::User", ALICE);
    assert_eq!(
        (&alice["resourceName"], &alice["awsRegion"], &alice["ARN"]),
        (
            &json!("alice"),
            &json!("global"),
            &json!("arn:aws:iam::123456789012:user/alice")
        ),
        "{alice}"
    );
    assert_eq!(
        alice["configuration"]["groupList"],
        json!(["admins"]),
        "{alice}"
    );
    assert!(
        alice["configuration"].get("mfaDevices").is_none(),
        "the file does not say: {alice}"
    );
    let names: Vec<&Value> = alice["relationships"]
        .as_array()
        .expect("relationships")
        .iter()
        .map(|r| &r["name"])
        .collect();
    assert_eq!(
        names.len(),
        2,
        "a group and a customer managed policy: {alice}"
    );
    let app = show("AWS::IAM::Role", APP);
    assert_eq!(
        app["configuration"]["assumeRolePolicyDocument"]["Statement"][0]["Action"],
        "sts:AssumeRole",
        "{app}"
    );
    let policy = show("AWS::IAM::Policy", OPS_READ);
    assert_eq!(
        policy["configuration"]["policyVersionList"][0]["versionId"], "v2",
        "{policy}"
    );
    let audit = show("AWS::CloudTrail::Trail", "audit");
    assert_eq!(
        audit["configuration"]["isMultiRegionTrail"], true,
        "{audit}"
    );
    assert_eq!(audit["awsRegion"], "us-east-1", "{audit}");

    // Without MFA devices in the item, the rule cannot tell: NOT_APPLICABLE by default.
    let summary = json(&conftrail(
        &data,
        &["compliance", "--rule", "iam-user-mfa-enabled", "--json"],
    ));
    for user in [ALICE, BOB] {
        let verdict = summary["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .find(|v| v["resourceId"] == user)
            .unwrap_or_else(|| panic!("no verdict on {user}: {summary}"));
        assert_eq!(verdict["compliance"], "NOT_APPLICABLE", "{summary}");
    }

    // The same file again: nothing new.
    let out = conftrail(&data, &["ingest", &details, "--json"]);
    let report: Value = serde_json::from_slice(&out.stdout).expect("json report");
    assert_eq!(report["newVersions"], 0, "{report}");
    assert_eq!(report["unchanged"], 4, "{report}");
}
