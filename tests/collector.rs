//! The collector against a real moto server (`moto[server]` from PyPI, see tests/common/moto.rs):
//! `conftrail collect` sweeps an account seeded through boto3, records and judges what it
//! finds, records nothing for what did not change, records deletions only from complete
//! listings, and rides out throttling. A fault-injecting proxy in front of moto plays the
//! failures moto cannot.

mod common;

use common::fault_proxy::FaultProxy;
use common::moto::{Moto, ACCOUNT};
use common::{describe, json};
use serde_json::Value;
use std::path::Path;

const SG: &str = "AWS::EC2::SecurityGroup";

/// Creates a group with the ingress rules given (Python list literal) and prints its id.
fn create_group(moto: &Moto, name: &str, ingress: &str) -> String {
    moto.python(&format!(
        "vpc = ec2.describe_vpcs()['Vpcs'][0]['VpcId']\n\
         g = ec2.create_security_group(GroupName='{name}', Description='{name} group', VpcId=vpc)['GroupId']\n\
         ec2.create_tags(Resources=[g], Tags=[{{'Key': 'Name', 'Value': '{name}'}}])\n\
         ingress = {ingress}\n\
         if ingress: ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=ingress)\n\
         print(g)"
    ))
}

fn open_ssh() -> &'static str {
    "[{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{'CidrIp': '0.0.0.0/0'}]}]"
}

fn collect(moto: &Moto, data: &Path, extra: &[&str]) -> (Option<i32>, Value, String) {
    let mut args = vec!["collect", "--regions", "us-east-1", "--json"];
    args.extend_from_slice(extra);
    let out = moto.conftrail(data, &args);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("report is not JSON ({e}): {}", describe(&out)));
    (out.status.code(), report, describe(&out))
}

/// Asserts that a sweep ended incomplete (exit status 4) with `why` in its first scope's
/// errors and nothing deleted; returns what it printed.
fn assert_incomplete((code, report, shown): (Option<i32>, Value, String), why: &str) -> String {
    assert_eq!(code, Some(4), "{shown}");
    let scope = &report["scopes"][0];
    assert_eq!(scope["complete"], false, "{shown}");
    assert_eq!(scope["deleted"], 0, "{shown}");
    assert!(
        scope["errors"][0].as_str().is_some_and(|e| e.contains(why)),
        "{why} in: {shown}"
    );
    shown
}

fn group_ids(moto: &Moto) -> Vec<String> {
    let out = moto.python(
        "print(json.dumps([g['GroupId'] for g in ec2.describe_security_groups()['SecurityGroups']]))",
    );
    serde_json::from_str(&out).expect("ids")
}

#[test]
fn a_sweep_records_judges_skips_the_unchanged_and_records_deletions() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let open = create_group(&moto, "bastion", open_ssh());
    let closed = create_group(
        &moto,
        "internal",
        "[{'IpProtocol': 'tcp', 'FromPort': 443, 'ToPort': 443, 'IpRanges': [{'CidrIp': '10.0.0.0/8'}]}]",
    );
    let all = group_ids(&moto);
    assert!(all.len() >= 3, "moto's default group plus ours: {all:?}");

    // First sweep: every group is a new version, judged.
    let (code, report, shown) = collect(&moto, &data, &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(report["accountId"], ACCOUNT, "{shown}");
    let scope = &report["scopes"][0];
    assert_eq!(scope["resourceType"], SG);
    assert_eq!(scope["region"], "us-east-1");
    assert_eq!(scope["complete"], true);
    assert_eq!(scope["resources"], all.len(), "{shown}");
    assert_eq!(scope["newVersions"], all.len(), "{shown}");
    assert_eq!(scope["errors"], serde_json::json!([]), "{shown}");
    assert_eq!(
        moto.verdict(&data, "restricted-ssh", &open),
        "NON_COMPLIANT"
    );
    assert_eq!(moto.verdict(&data, "restricted-ssh", &closed), "COMPLIANT");

    // The item is AWS Config's shape, with the region and account the sweep knows.
    let item = json(&moto.conftrail(&data, &["show", SG, &open, "--json"]));
    assert_eq!(item["awsRegion"], "us-east-1");
    assert_eq!(item["awsAccountId"], ACCOUNT);
    assert_eq!(
        item["ARN"],
        format!("arn:aws:ec2:us-east-1:{ACCOUNT}:security-group/{open}")
    );
    assert_eq!(item["resourceName"], "bastion");
    assert_eq!(item["tags"]["Name"], "bastion");
    assert_eq!(item["configuration"]["ipPermissions"][0]["fromPort"], 22);
    assert_eq!(
        item["configuration"]["ipPermissions"][0]["ipv4Ranges"][0]["cidrIp"],
        "0.0.0.0/0"
    );
    assert_eq!(item["relationships"][0]["resourceType"], "AWS::EC2::VPC");

    // Nothing changed: nothing recorded.
    let (code, report, shown) = collect(&moto, &data, &[]);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(report["scopes"][0]["newVersions"], 0, "{shown}");
    assert_eq!(report["scopes"][0]["unchanged"], all.len(), "{shown}");

    // The open group is fixed and the internal one deleted.
    moto.python(&format!(
        "ec2.revoke_security_group_ingress(GroupId='{open}', IpPermissions={})\n\
         ec2.delete_security_group(GroupId='{closed}')",
        open_ssh()
    ));
    let (code, report, shown) = collect(&moto, &data, &[]);
    assert_eq!(code, Some(0), "{shown}");
    let scope = &report["scopes"][0];
    assert_eq!(scope["newVersions"], 1, "{shown}");
    assert_eq!(scope["deleted"], 1, "{shown}");
    assert_eq!(scope["resources"], all.len() - 1, "{shown}");
    assert_eq!(moto.verdict(&data, "restricted-ssh", &open), "COMPLIANT");
    let history = json(&moto.conftrail(&data, &["history", SG, &closed, "--json"]));
    let latest = &history["configurationItems"][0];
    assert_eq!(
        latest["configurationItemStatus"], "ResourceDeleted",
        "{history}"
    );
    assert_eq!(latest["resourceName"], "internal", "{history}");
    assert_eq!(latest["configuration"], Value::Null, "{history}");

    // A deleted resource stays deleted: the next sweep records nothing more for it.
    let (_, report, shown) = collect(&moto, &data, &[]);
    assert_eq!(report["scopes"][0]["deleted"], 0, "{shown}");
    assert_eq!(report["scopes"][0]["newVersions"], 0, "{shown}");
}

#[test]
fn a_failed_listing_deletes_nothing_and_throttling_is_retried() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let proxy = FaultProxy::start(&moto.url);
    let endpoint = ["--endpoint-url", proxy.url.as_str()];
    let group = create_group(&moto, "web", open_ssh());
    let (code, report, shown) = collect(&moto, &data, &endpoint);
    assert_eq!(code, Some(0), "{shown}");
    let listed = report["scopes"][0]["resources"].clone();

    // EC2 fails every listing; STS still answers. The group is gone from moto too, but an
    // incomplete listing proves nothing: no deletion, an error, exit status 4.
    moto.python(&format!("ec2.delete_security_group(GroupId='{group}')"));
    proxy.set_rule(|seen| {
        seen.body.contains("Action=DescribeSecurityGroups").then(|| {
            (
                500,
                "<Response><Errors><Error><Code>InternalError</Code><Message>injected</Message></Error></Errors></Response>"
                    .to_string(),
            )
        })
    });
    let shown = assert_incomplete(collect(&moto, &data, &endpoint), "InternalError: injected");
    assert!(
        shown.contains("INCOMPLETE") || shown.contains("InternalError"),
        "{shown}"
    );
    let history = json(&moto.conftrail(&data, &["history", SG, &group, "--json"]));
    assert_eq!(
        history["configurationItems"][0]["configurationItemStatus"], "OK",
        "{history}"
    );

    // Throttled twice, then answered: the sweep completes, and says it was throttled.
    let mut throttles = 2;
    proxy.set_rule(move |seen| {
        (seen.body.contains("Action=DescribeSecurityGroups") && throttles > 0).then(|| {
            throttles -= 1;
            (
                503,
                "<Response><Errors><Error><Code>RequestLimitExceeded</Code><Message>Request limit exceeded.</Message></Error></Errors></Response>"
                    .to_string(),
            )
        })
    });
    let (code, report, shown) = collect(&moto, &data, &endpoint);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(report["throttled"], 2, "{shown}");
    let scope = &report["scopes"][0];
    assert_eq!(scope["complete"], true, "{shown}");
    // Now the complete listing lacks the group: its deletion is recorded.
    assert_eq!(scope["deleted"], 1, "{shown}");
    assert_eq!(
        scope["resources"].as_u64(),
        listed.as_u64().map(|n| n - 1),
        "{shown}"
    );
    let describes = proxy
        .seen()
        .iter()
        .filter(|s| s.body.contains("Action=DescribeSecurityGroups"))
        .count();
    assert!(
        describes >= 3,
        "the throttled calls were sent again: {describes}"
    );
}

#[test]
fn a_listing_cut_short_after_its_first_page_deletes_nothing() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let proxy = FaultProxy::start(&moto.url);
    let endpoint = [
        "--endpoint-url",
        proxy.url.as_str(),
        "--types",
        "AWS::EC2::SecurityGroup",
    ];
    let kept = create_group(&moto, "kept", "[]");
    let gone = create_group(&moto, "gone", "[]");
    let (code, _, shown) = collect(&moto, &data, &endpoint);
    assert_eq!(code, Some(0), "{shown}");

    // `gone` is deleted. EC2 answers the first page (moto's real answer, which lacks it)
    // with a token for a second page, and the second page fails: what was missing from the
    // first page proves nothing.
    moto.python(&format!("ec2.delete_security_group(GroupId='{gone}')"));
    let upstream = moto.url.clone();
    proxy.set_rule(move |seen| {
        if !seen.body.contains("Action=DescribeSecurityGroups") {
            return None;
        }
        if seen.body.contains("NextToken=") {
            return Some((
                500,
                "<Response><Errors><Error><Code>InternalError</Code><Message>page 2 lost</Message></Error></Errors></Response>"
                    .to_string(),
            ));
        }
        // moto routes by the signing scope; it does not check signatures.
        let first = ureq::post(&upstream)
            .header("content-type", "application/x-www-form-urlencoded")
            .header(
                "authorization",
                "AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/ec2/aws4_request, SignedHeaders=host, Signature=0",
            )
            .send(&seen.body)
            .expect("moto")
            .body_mut()
            .read_to_string()
            .expect("body");
        let with_token = first.replacen(
            "</DescribeSecurityGroupsResponse>",
            "<nextToken>page-2</nextToken></DescribeSecurityGroupsResponse>",
            1,
        );
        assert_ne!(first, with_token, "moto's answer has the expected root: {first}");
        Some((200, with_token))
    });
    assert_incomplete(collect(&moto, &data, &endpoint), "page 2 lost");
    let pages: Vec<String> = proxy
        .seen()
        .into_iter()
        .filter(|s| s.body.contains("Action=DescribeSecurityGroups"))
        .map(|s| s.body)
        .collect();
    assert!(
        pages.iter().any(|b| b.contains("NextToken=page-2")),
        "the second page was asked for: {pages:?}"
    );
    for group in [&kept, &gone] {
        let history = json(&moto.conftrail(&data, &["history", SG, group, "--json"]));
        assert_eq!(
            history["configurationItems"][0]["configurationItemStatus"], "OK",
            "{group}: {history}"
        );
    }
}

#[test]
fn a_type_the_collector_does_not_describe_is_refused_before_any_call() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let out = moto.conftrail(
        &dir.path().join("data"),
        &[
            "collect",
            "--regions",
            "us-east-1",
            "--types",
            "AWS::EC2::SecurityGrop",
        ],
    );
    common::failed_with(&out, "did you mean AWS::EC2::SecurityGroup?");
    let out = moto.conftrail(
        &dir.path().join("data"),
        &[
            "collect",
            "--regions",
            "us-east-1",
            "--types",
            "AWS::Lambda::Function",
        ],
    );
    common::failed_with(
        &out,
        "the collector does not describe AWS::Lambda::Function",
    );
}

#[test]
fn the_server_sweeps_configured_accounts_at_start_and_on_demand() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let open = create_group(&moto, "bastion", open_ssh());
    let server = moto.serve(
        dir.path(),
        "[collector]\ninterval = \"1h\"\n\n[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"aws::ec2::securitygroup\"]\n",
    );
    // The first sweep runs at start.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let status = loop {
        let (code, body) =
            server.request(common::server::READ, "GET", "/v1/collector/status", None);
        assert_eq!(code, 200, "{body}");
        let status: Value = serde_json::from_str(&body).expect("json");
        if status["accounts"][0]["sweeps"].as_u64() >= Some(1) {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no sweep within a minute: {status}"
        );
        std::thread::sleep(std::time::Duration::from_millis(200));
    };
    let account = &status["accounts"][0];
    assert_eq!(account["name"], "sandbox", "{status}");
    assert_eq!(account["accountId"], ACCOUNT, "{status}");
    assert_eq!(account["intervalSeconds"], 3600, "{status}");
    assert_eq!(account["resourceTypes"][0], SG, "{status}");
    let scope = &status["scopes"][0];
    assert_eq!(scope["region"], "us-east-1", "{status}");
    assert_eq!(scope["complete"], true, "{status}");
    assert!(scope["resources"].as_u64() >= Some(2), "{status}");
    let (_, body) = server.request(
        common::server::READ,
        "GET",
        &format!("/v1/resources/{SG}/{open}/compliance"),
        None,
    );
    assert!(body.contains("NON_COMPLIANT"), "{body}");

    // On demand: a change made since is recorded at once.
    moto.python(&format!(
        "ec2.revoke_security_group_ingress(GroupId='{open}', IpPermissions={})",
        open_ssh()
    ));
    let (code, body) = server.request(common::server::READ, "POST", "/v1/collector/sweeps", None);
    assert_eq!(code, 403, "sweeping needs the admin role: {body}");
    let (code, body) = server.request(
        common::server::ADMIN,
        "POST",
        "/v1/collector/sweeps?account=sandbox",
        None,
    );
    assert_eq!(code, 200, "{body}");
    let sweeps: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(
        sweeps["sweeps"][0]["scopes"][0]["newVersions"], 1,
        "{sweeps}"
    );
    let (code, body) = server.request(
        common::server::ADMIN,
        "POST",
        "/v1/collector/sweeps?account=nope",
        None,
    );
    assert_eq!(code, 404, "{body}");
    assert!(body.contains("sandbox"), "{body}");
    let (code, metrics) = server.request(common::server::READ, "GET", "/metrics", None);
    assert_eq!(code, 200, "{metrics}");
    for line in [
        "conftrail_collector_scope_sweeps_total{outcome=\"complete\"} 2",
        "conftrail_collector_resources_total{change=\"new\"}",
        "conftrail_aws_requests_total{service=\"ec2\",outcome=\"ok\"}",
        // The account id is learnt once, not at every sweep.
        "conftrail_aws_requests_total{service=\"sts\",outcome=\"ok\"} 1",
    ] {
        assert!(metrics.contains(line), "{line} in:\n{metrics}");
    }
    server.stop();
}

/// A CloudTrail record of `event` on a group by mallory, now.
fn trail_record(event: &str, group: &str, event_id: &str) -> String {
    let parameters = serde_json::json!({"groupId": group, "ipPermissions": {"items": [{"ipProtocol": "tcp",
        "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
    let extra = serde_json::json!({"responseElements": {"_return": true}});
    let record =
        common::moto::trail_record("ec2.amazonaws.com", event, parameters, extra, event_id);
    serde_json::json!({ "Records": [record] }).to_string()
}

#[test]
fn a_cloudtrail_call_gets_the_resource_described_again_and_linked_to_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let group = create_group(&moto, "web", "[]");
    let server = moto.serve(
        dir.path(),
        "[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ninterval = \"1h\"\n",
    );
    let timeline_path = format!("/v1/resources/{SG}/{group}/timeline");
    let versions = common::server::timeline_versions;
    let wait_for = |what: &str, done: &dyn Fn(&Value) -> bool| -> Value {
        server.wait_json(&timeline_path, what, done)
    };
    wait_for("the first sweep", &|t| versions(t).len() == 1);

    // mallory opens SSH; CloudTrail's record of it arrives (here by POST /v1/ingest, as from
    // an EventBridge target). The group is described again at once, not at the next sweep.
    moto.python(&format!(
        "ec2.authorize_security_group_ingress(GroupId='{group}', IpPermissions={})",
        open_ssh()
    ));
    let event_id = "6f1f0a47-3b0e-4c51-9d2a-5d1c0b1e2f3a";
    server.ingest(&trail_record(
        "AuthorizeSecurityGroupIngress",
        &group,
        event_id,
    ));
    let timeline = wait_for("a second version", &|t| versions(t).len() == 2);
    let latest = versions(&timeline).pop().expect("latest");
    let calls = latest["apiCalls"].as_array().expect("apiCalls");
    assert!(
        calls
            .iter()
            .any(|c| c["eventID"] == event_id && c["username"] == "mallory"),
        "the new version is linked to the call that caused it: {timeline}"
    );
    let (_, body) = server.request(
        common::server::READ,
        "GET",
        &format!("/v1/resources/{SG}/{group}/compliance"),
        None,
    );
    assert!(body.contains("NON_COMPLIANT"), "{body}");

    // The group is deleted; the DeleteSecurityGroup record gets its deletion recorded.
    moto.python(&format!("ec2.delete_security_group(GroupId='{group}')"));
    server.ingest(&trail_record(
        "DeleteSecurityGroup",
        &group,
        "0d6f7c36-9a0b-4a8e-8f53-2b1d3c4e5f60",
    ));
    let timeline = wait_for("the deletion", &|t| {
        versions(t)
            .last()
            .is_some_and(|v| v["configurationItemStatus"] == "ResourceDeleted")
    });
    assert_eq!(versions(&timeline).len(), 3, "{timeline}");
    server.stop();
}

#[test]
fn instances_vpcs_and_subnets_are_collected_and_a_terminated_instance_is_deleted() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let group = create_group(&moto, "ssh-open", open_ssh());
    let instance = moto.python(&format!(
        "image = ec2.describe_images(Owners=['amazon'])['Images'][0]['ImageId']\n\
         subnet = ec2.describe_subnets()['Subnets'][0]['SubnetId']\n\
         r = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, InstanceType='t3.micro',\n\
             SubnetId=subnet, SecurityGroupIds=['{group}'],\n\
             TagSpecifications=[{{'ResourceType': 'instance', 'Tags': [{{'Key': 'Name', 'Value': 'bastion'}}]}}])\n\
         print(r['Instances'][0]['InstanceId'])"
    ));
    let types = "AWS::EC2::SecurityGroup,AWS::EC2::Instance,AWS::EC2::VPC,AWS::EC2::Subnet";
    let (code, report, shown) = collect(&moto, &data, &["--types", types]);
    assert_eq!(code, Some(0), "{shown}");
    let scope = |report: &Value, resource_type: &str| -> Value {
        report["scopes"]
            .as_array()
            .expect("scopes")
            .iter()
            .find(|s| s["resourceType"] == resource_type)
            .cloned()
            .unwrap_or_else(|| panic!("no scope {resource_type}: {report}"))
    };
    assert_eq!(
        scope(&report, "AWS::EC2::Instance")["resources"],
        1,
        "{shown}"
    );
    assert!(
        scope(&report, "AWS::EC2::VPC")["resources"].as_u64() >= Some(1),
        "{shown}"
    );
    assert!(
        scope(&report, "AWS::EC2::Subnet")["resources"].as_u64() >= Some(1),
        "{shown}"
    );

    let item = json(&moto.conftrail(&data, &["show", "AWS::EC2::Instance", &instance, "--json"]));
    assert_eq!(item["tags"]["Name"], "bastion", "{item}");
    assert_eq!(
        item["configuration"]["securityGroups"][0]["groupId"], group,
        "{item}"
    );
    assert!(
        item["relationships"]
            .as_array()
            .expect("relationships")
            .iter()
            .any(|r| r["resourceId"] == group.as_str()
                && r["name"] == "Is associated with SecurityGroup"),
        "{item}"
    );
    assert_eq!(
        moto.verdict(&data, "ec2-instance-no-world-open-ssh", &instance),
        "NON_COMPLIANT"
    );
    assert_eq!(
        moto.verdict(&data, "ec2-instance-no-public-ip", &instance),
        "NON_COMPLIANT"
    );

    // Terminated: EC2 still lists it for a while, AWS Config records it deleted.
    moto.python(&format!(
        "ec2.terminate_instances(InstanceIds=['{instance}'])"
    ));
    let (code, report, shown) = collect(&moto, &data, &["--types", "AWS::EC2::Instance"]);
    assert_eq!(code, Some(0), "{shown}");
    assert_eq!(
        scope(&report, "AWS::EC2::Instance")["deleted"],
        1,
        "{shown}"
    );
    let history = json(&moto.conftrail(
        &data,
        &["history", "AWS::EC2::Instance", &instance, "--json"],
    ));
    assert_eq!(
        history["configurationItems"][0]["configurationItemStatus"], "ResourceDeleted",
        "{history}"
    );
}
