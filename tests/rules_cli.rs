//! Rules and compliance end to end: the `conftrail` binary, a real store, real wasm rules.

mod common;

use common::{conftrail, describe, failed_with, json, ok_stdout, repo, WEB_SG};
use serde_json::Value;
use std::path::PathBuf;

fn test_rule(name: &str) -> String {
    repo(&format!("rules-wasm/dist/test/{name}.wasm"))
}

fn latest<'a>(summary: &'a Value, rule: &str, resource_id: &str) -> Option<&'a Value> {
    summary["verdicts"]
        .as_array()?
        .iter()
        .find(|v| v["ruleName"] == rule && v["resourceId"] == resource_id)
}

#[test]
fn ingest_evaluates_new_versions_and_compliance_shows_verdicts_and_history() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let out = ok_stdout(&conftrail(data, &["ingest", &repo("examples/data")]));
    assert!(out.contains("rules: "), "{out}");
    assert!(out.contains("non-compliant"), "{out}");

    let summary = json(&conftrail(data, &["compliance", "--json"]));
    assert_eq!(summary["compliance"], "NON_COMPLIANT");
    // SSH was opened to the world on 2024-05-02 and closed again on 2024-05-03.
    let ssh = latest(&summary, "restricted-ssh", WEB_SG[1]).expect("verdict for web sg");
    assert_eq!(ssh["compliance"], "COMPLIANT", "{ssh}");
    assert_eq!(
        ssh["configurationItemCaptureTime"], "2024-05-03T08:30:00.000Z",
        "{ssh}"
    );
    let bucket = latest(
        &summary,
        "s3-bucket-public-read-prohibited",
        "acme-invoices",
    )
    .expect("verdict for the bucket");
    assert_eq!(bucket["compliance"], "NON_COMPLIANT", "{bucket}");
    // The deleted group's last version is not applicable.
    let deleted = latest(&summary, "restricted-ssh", "sg-0123456789abcdef0").expect("deleted sg");
    assert_eq!(deleted["compliance"], "NOT_APPLICABLE", "{deleted}");
    // required-tags needs tag1Key, so it is installed but disabled: no data yet.
    let required = summary["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .find(|r| r["ruleName"] == "required-tags")
        .expect("required-tags listed");
    assert_eq!(required["compliance"], "INSUFFICIENT_DATA");
    assert_eq!(required["enabled"], false);

    // Filters.
    let failing = json(&conftrail(
        data,
        &[
            "compliance",
            "--state",
            "non-compliant",
            "--type",
            WEB_SG[0],
            "--json",
        ],
    ));
    let verdicts = failing["verdicts"].as_array().expect("verdicts");
    assert!(!verdicts.is_empty());
    assert!(verdicts
        .iter()
        .all(|v| v["compliance"] == "NON_COMPLIANT" && v["resourceType"] == WEB_SG[0]));
    let table = ok_stdout(&conftrail(
        data,
        &["compliance", "--rule", "restricted-ssh"],
    ));
    assert!(
        table.contains("restricted-ssh") && table.contains("NON_COMPLIANT"),
        "{table}"
    );

    // History: the web group was compliant, then SSH was opened to the world.
    let history = json(&conftrail(
        data,
        &[
            "compliance",
            "history",
            WEB_SG[0],
            WEB_SG[1],
            "--rule",
            "restricted-ssh",
            "--json",
        ],
    ));
    let records = history.as_array().expect("records");
    let states: Vec<&str> = records
        .iter()
        .map(|r| r["compliance"].as_str().unwrap_or("?"))
        .collect();
    assert_eq!(states.first(), Some(&"COMPLIANT"), "{states:?}");
    assert!(states.contains(&"NON_COMPLIANT"), "{states:?}");
    let opened = records
        .iter()
        .find(|r| r["compliance"] == "NON_COMPLIANT")
        .expect("transition");
    assert_eq!(opened["changedFrom"], "COMPLIANT", "{opened}");
    assert_eq!(opened["trigger"], "change");
    assert_eq!(
        opened["configurationItemCaptureTime"],
        "2024-05-02T14:03:12.000Z"
    );
    assert!(
        opened["annotation"]
            .as_str()
            .unwrap_or_default()
            .contains("0.0.0.0/0"),
        "{opened}"
    );
    let text = ok_stdout(&conftrail(
        data,
        &["compliance", "history", WEB_SG[0], WEB_SG[1]],
    ));
    assert!(text.contains("[COMPLIANT -> NON_COMPLIANT]"), "{text}");
    assert!(text.contains("[NON_COMPLIANT -> COMPLIANT]"), "{text}");

    // Re-ingesting the same data records nothing new and evaluates nothing.
    let again = json(&conftrail(
        data,
        &["ingest", &repo("examples/data"), "--json"],
    ));
    assert_eq!(again["evaluations"]["evaluations"], 0, "{again}");
}

#[test]
fn custom_rules_can_be_added_tested_updated_disabled_and_removed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    ok_stdout(&conftrail(
        data,
        &["ingest", &repo("examples/data"), "--no-evaluate"],
    ));

    // rules test needs no store.
    let tested = json(&conftrail(
        data,
        &[
            "rules",
            "test",
            &test_rule("test-echo"),
            "--item",
            &repo("tests/data/realdata/config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json"),
            "--params",
            r#"{"greeting":"hi"}"#,
            "--json",
        ],
    ));
    assert_eq!(tested[0]["compliance"], "NON_COMPLIANT", "{tested}");
    assert!(tested[0]["annotation"]
        .as_str()
        .unwrap_or_default()
        .contains("sg-1d56fc66"));

    // Added under another name with a tag scope: evaluates only what is in scope.
    let added = json(&conftrail(
        data,
        &[
            "rules",
            "add",
            &test_rule("test-echo"),
            "--name",
            "echo",
            "--tag",
            "team=web",
            "--json",
        ],
    ));
    assert_eq!(added["rule"]["name"], "echo");
    assert_eq!(added["rule"]["managed"], false);
    let judged = added["evaluations"]["evaluations"].as_u64().unwrap_or(0);
    assert!(judged >= 1, "{added}");
    let listed = json(&conftrail(data, &["rules", "list", "--json"]));
    let names: Vec<&str> = listed["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert!(
        names.contains(&"echo") && names.contains(&"restricted-ssh"),
        "{names:?}"
    );
    assert_eq!(names.len(), 13, "{names:?}");

    // The same name twice is refused.
    failed_with(
        &conftrail(
            data,
            &["rules", "add", &test_rule("test-echo"), "--name", "echo"],
        ),
        "exists already",
    );
    // Scope widened by update: more resources judged, revision bumped.
    let updated = json(&conftrail(
        data,
        &["rules", "update", "echo", "--clear-tag", "--json"],
    ));
    assert_eq!(updated["rule"]["revision"], 2);
    assert!(
        updated["evaluations"]["evaluations"].as_u64().unwrap_or(0) > judged,
        "{updated}"
    );

    ok_stdout(&conftrail(data, &["rules", "disable", "echo"]));
    let listed = ok_stdout(&conftrail(data, &["rules", "list"]));
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with("echo") && l.contains("disabled")),
        "{listed}"
    );
    ok_stdout(&conftrail(data, &["rules", "remove", "echo"]));
    failed_with(
        &conftrail(data, &["rules", "remove", "echo"]),
        "no rule named \"echo\"",
    );
    failed_with(
        &conftrail(data, &["rules", "remove", "restricted-ssh"]),
        "managed rule",
    );
}

#[test]
fn failing_rules_leave_error_records_and_other_rules_still_judge() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    ok_stdout(&conftrail(
        data,
        &["ingest", &repo("examples/data"), "--no-evaluate"],
    ));
    // Every evaluation failed: registered, but the command says so and fails.
    let added = conftrail(
        data,
        &[
            "rules",
            "add",
            &test_rule("test-panic"),
            "--name",
            "panicky",
            "--json",
        ],
    );
    assert_eq!(added.status.code(), Some(1), "{}", describe(&added));
    assert!(
        String::from_utf8_lossy(&added.stderr).contains("every evaluation of panicky failed"),
        "{}",
        describe(&added)
    );
    let added: Value = serde_json::from_slice(&added.stdout).expect("json");
    assert!(
        added["evaluations"]["errors"].as_u64().unwrap_or(0) >= 1,
        "{added}"
    );
    assert_eq!(added["evaluations"]["nonCompliant"], 0);
    let looping = conftrail(
        data,
        &[
            "rules",
            "add",
            &test_rule("test-endless-loop"),
            "--name",
            "looping",
            "--deadline-ms",
            "50",
            "--json",
        ],
    );
    let looping: Value = serde_json::from_slice(&looping.stdout).expect("json");
    assert!(
        looping["evaluations"]["errors"].as_u64().unwrap_or(0) >= 1,
        "{looping}"
    );

    let history = json(&conftrail(
        data,
        &["compliance", "history", WEB_SG[0], WEB_SG[1], "--json"],
    ));
    let records = history.as_array().expect("records");
    let panic = records
        .iter()
        .find(|r| r["ruleName"] == "panicky")
        .expect("panic recorded");
    assert_eq!(panic["outcome"], "error");
    assert_eq!(panic["kind"], "panic");
    assert!(
        panic["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("boom"),
        "{panic}"
    );
    let timeout = records
        .iter()
        .find(|r| r["ruleName"] == "looping")
        .expect("timeout recorded");
    assert_eq!(timeout["kind"], "timeout");
    // Errors never become verdicts.
    let summary = json(&conftrail(
        data,
        &["compliance", "--rule", "panicky", "--json"],
    ));
    assert_eq!(summary["verdicts"].as_array().map(Vec::len), Some(0));
    assert_eq!(summary["rules"][0]["compliance"], "INSUFFICIENT_DATA");
    // …but the failures are shown: counted, the last one with its reason and time.
    let failures = &summary["rules"][0]["evaluationErrors"];
    assert!(failures["errors"].as_u64().unwrap_or(0) >= 1, "{summary}");
    assert!(
        failures["lastError"]
            .as_str()
            .is_some_and(|e| e.contains("boom")),
        "{summary}"
    );
    assert!(failures["lastErrorAt"].is_string(), "{summary}");
    let table = ok_stdout(&conftrail(data, &["compliance", "--rule", "panicky"]));
    assert!(
        table.contains("ERRORS") && table.contains("panicky: "),
        "{table}"
    );
    let listed = ok_stdout(&conftrail(data, &["rules", "list"]));
    assert!(
        listed.contains("panicky: ") && listed.contains("evaluations failed, last at"),
        "{listed}"
    );
    let listed = json(&conftrail(data, &["rules", "list", "--json"]));
    let panicky = listed["rules"]
        .as_array()
        .and_then(|rules| rules.iter().find(|r| r["name"] == "panicky"))
        .cloned()
        .unwrap_or_default();
    assert!(
        panicky["evaluationErrors"]["errors"].as_u64().unwrap_or(0) >= 1,
        "{panicky}"
    );

    // A new version is judged by the managed rules as usual, despite the failing ones.
    let late = dir.path().join("new-version.json");
    let mut item: Value = serde_json::from_str(
        &std::fs::read_to_string(repo("examples/data/01-config-snapshot.json")).expect("read"),
    )
    .expect("json");
    let sg = item["configurationItems"]
        .as_array_mut()
        .expect("items")
        .iter_mut()
        .find(|i| i["resourceId"] == WEB_SG[1])
        .expect("web sg")
        .take();
    let mut sg = sg;
    sg["configurationItemCaptureTime"] = Value::from("2030-01-01T00:00:00Z");
    sg["configuration"]["description"] = Value::from("changed");
    item = sg;
    std::fs::write(&late, serde_json::to_vec(&item).expect("json")).expect("write");
    let report = json(&conftrail(
        data,
        &["ingest", late.to_str().unwrap_or_default(), "--json"],
    ));
    assert!(
        report["evaluations"]["errors"].as_u64().unwrap_or(0) >= 2,
        "{report}"
    );
    assert!(
        report["evaluations"]["compliant"].as_u64().unwrap_or(0) >= 1,
        "{report}"
    );
}

#[test]
fn bad_rule_input_is_refused_with_a_clear_message() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let not_wasm: PathBuf = dir.path().join("rule.wasm");
    std::fs::write(&not_wasm, b"hello").expect("write");
    failed_with(
        &conftrail(
            data,
            &["rules", "add", not_wasm.to_str().unwrap_or_default()],
        ),
        "not a WebAssembly module or component",
    );
    failed_with(
        &conftrail(data, &["rules", "add", "/nonexistent/rule.wasm"]),
        "cannot read rule /nonexistent/rule.wasm",
    );
    let ssh = repo("rules-wasm/dist/restricted-ssh.wasm");
    failed_with(
        &conftrail(
            data,
            &["rules", "add", &ssh, "--name", "x", "--params", "{not json"],
        ),
        "parameters are not valid JSON",
    );
    let vpc = repo("rules-wasm/dist/vpc-sg-open-only-to-authorized-ports.wasm");
    failed_with(
        &conftrail(
            data,
            &[
                "rules",
                "add",
                &vpc,
                "--name",
                "y",
                "--params",
                r#"{"authorizedTcpPort":"443"}"#,
            ],
        ),
        "unknown parameter \"authorizedTcpPort\"",
    );
    failed_with(
        &conftrail(data, &["rules", "add", &ssh, "--name", "bad name!"]),
        "rule name",
    );
    failed_with(
        &conftrail(
            data,
            &[
                "rules",
                "add",
                &ssh,
                "--name",
                "z",
                "--resource-types",
                "SecurityGroup",
            ],
        ),
        "Provider::Service::Type",
    );
    failed_with(
        &conftrail(data, &["compliance", "--state", "BROKEN"]),
        "unknown state",
    );
    // Nothing was registered by the failed attempts.
    let listed = json(&conftrail(data, &["rules", "list", "--json"]));
    assert_eq!(listed["rules"].as_array().map(Vec::len), Some(12));
}

#[test]
fn the_custom_rule_example_judges_ingested_security_groups() {
    // rules-wasm/dist/examples/custom-rule.wasm is built from examples/custom-rule by build.sh.
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let wasm = repo("rules-wasm/dist/examples/custom-rule.wasm");
    failed_with(
        &conftrail(data, &["rules", "add", &wasm]),
        "needs parameter \"approvedCidrs\"",
    );
    ok_stdout(&conftrail(
        data,
        &[
            "rules",
            "add",
            &wasm,
            "--params",
            r#"{"approvedCidrs":"10.0.0.0/8"}"#,
        ],
    ));
    ok_stdout(&conftrail(data, &["ingest", &repo("examples/data")]));
    let summary = json(&conftrail(
        data,
        &[
            "compliance",
            "--rule",
            "sg-ingress-from-approved-cidrs",
            "--json",
        ],
    ));
    let web = latest(&summary, "sg-ingress-from-approved-cidrs", WEB_SG[1]).expect("web sg judged");
    assert_eq!(web["compliance"], "NON_COMPLIANT", "{web}");
    assert!(
        web["annotation"]
            .as_str()
            .unwrap_or_default()
            .contains("0.0.0.0/0"),
        "{web}"
    );
    let other = latest(
        &summary,
        "sg-ingress-from-approved-cidrs",
        "sg-0fedcba9876543210",
    )
    .expect("internal sg judged");
    assert_eq!(other["compliance"], "COMPLIANT", "{other}");
}

/// Real `aws ec2 describe-security-groups` output (custodian's placebo recording in the real
/// data), group sg-926a56e8 (tcp 22 open to 0.0.0.0/0), in conftrail's generic shape: keys in
/// the EC2 API's PascalCase, not AWS Config's camelCase.
fn described_security_group() -> Value {
    let response: Value = serde_json::from_slice(
        &std::fs::read(repo("tests/data/realdata/config_items/custodian/placebo__test_sg_config_diff__ec2.DescribeSecurityGroups_1.json"))
            .expect("read"),
    )
    .expect("json");
    let group = response["data"]["SecurityGroups"]
        .as_array()
        .and_then(|groups| groups.iter().find(|g| g["GroupId"] == "sg-926a56e8"))
        .cloned()
        .expect("sg-926a56e8 in the recording");
    serde_json::json!({
        "resourceType": "AWS::EC2::SecurityGroup",
        "resourceId": "sg-926a56e8",
        "accountId": "123456789012",
        "region": "us-east-1",
        "captureTime": "2024-06-01T10:00:00Z",
        "configuration": group,
    })
}

/// Issue 14 item 8: a rule that cannot see the field it judges records an error naming the
/// field, never a verdict; a cross-resource rule that could not check a group does not say
/// COMPLIANT. (Before, restricted-ssh said COMPLIANT for the PascalCase group that opens 22 to
/// the world, and ec2-instance-no-world-open-ssh COMPLIANT for an instance using it.)
#[test]
fn rules_that_cannot_see_a_field_record_errors_not_verdicts() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let instance = serde_json::json!({
        "resourceType": "AWS::EC2::Instance",
        "resourceId": "i-0123456789abcdef0",
        "accountId": "123456789012",
        "region": "us-east-1",
        "captureTime": "2024-06-01T10:05:00Z",
        "configuration": {
            "instanceId": "i-0123456789abcdef0",
            "publicIpAddress": null,
            "networkInterfaces": [],
            "securityGroups": [
                {"groupId": "sg-926a56e8", "groupName": "default"},
                {"groupId": "sg-0000000000000dead", "groupName": "gone"}
            ]
        }
    });
    let file = data.join("generic.json");
    let document =
        serde_json::json!({"configurationItems": [described_security_group(), instance]});
    std::fs::write(&file, document.to_string()).expect("write");
    let report = json(&conftrail(
        data,
        &["ingest", file.to_str().unwrap_or_default(), "--json"],
    ));
    assert_eq!(report["evaluations"]["compliant"], 1, "{report}"); // no public IP: seen, none
    assert_eq!(report["evaluations"]["nonCompliant"], 0, "{report}");
    assert!(
        report["evaluations"]["errors"].as_u64().unwrap_or(0) >= 4,
        "{report}"
    );

    // restricted-ssh: no verdict for the group, an error naming the field and the PascalCase key.
    let summary = json(&conftrail(
        data,
        &["compliance", "--rule", "restricted-ssh", "--json"],
    ));
    assert_eq!(
        summary["verdicts"].as_array().map(Vec::len),
        Some(0),
        "{summary}"
    );
    assert_eq!(summary["rules"][0]["compliance"], "INSUFFICIENT_DATA");
    let last = summary["rules"][0]["evaluationErrors"]["lastError"]
        .as_str()
        .unwrap_or_default();
    assert!(
        last.contains("configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are camelCase; found IpPermissions"),
        "{summary}"
    );
    let table = ok_stdout(&conftrail(
        data,
        &["compliance", "--rule", "restricted-ssh"],
    ));
    assert!(
        table.contains("ERRORS") && table.contains("configuration.ipPermissions is absent"),
        "{table}"
    );
    let history = json(&conftrail(
        data,
        &[
            "compliance",
            "history",
            "AWS::EC2::SecurityGroup",
            "sg-926a56e8",
            "--json",
        ],
    ));
    let records = history.as_array().expect("records");
    for rule in [
        "restricted-ssh",
        "restricted-common-ports",
        "vpc-sg-open-only-to-authorized-ports",
    ] {
        let record = records
            .iter()
            .find(|r| r["ruleName"] == rule)
            .unwrap_or_else(|| panic!("{rule} recorded: {history}"));
        assert_eq!(record["outcome"], "error", "{record}");
        assert!(
            record["reason"]
                .as_str()
                .unwrap_or_default()
                .contains("configuration.ipPermissions is absent"),
            "{record}"
        );
    }
    assert!(
        records.iter().all(|r| r["compliance"].is_null()),
        "{history}"
    );

    // The instance: one group unreadable, one not recorded, none seen open: an error.
    let history = json(&conftrail(
        data,
        &[
            "compliance",
            "history",
            "AWS::EC2::Instance",
            "i-0123456789abcdef0",
            "--rule",
            "ec2-instance-no-world-open-ssh",
            "--json",
        ],
    ));
    let record = &history[0];
    assert_eq!(record["outcome"], "error", "{history}");
    let reason = record["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("could not check security groups not recorded: sg-0000000000000dead")
            && reason.contains(
                "could not read security group sg-926a56e8: configuration.ipPermissions is absent"
            ),
        "{reason}"
    );
    let summary = json(&conftrail(
        data,
        &[
            "compliance",
            "--rule",
            "ec2-instance-no-world-open-ssh",
            "--json",
        ],
    ));
    assert_eq!(
        summary["verdicts"].as_array().map(Vec::len),
        Some(0),
        "{summary}"
    );
}

#[test]
fn damaged_rule_artifacts_are_compiled_again_not_run() {
    use common::server::{Server, INGEST};
    use common::{describe, plant_traps_in_code, rule_artifacts};
    const WARNING: &str = "rule artifact does not match its recorded hash";
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let example = |name: &str| repo(&format!("examples/data/{name}"));
    ok_stdout(&conftrail(
        &data,
        &["ingest", &example("01-config-snapshot.json")],
    ));
    let damage = || {
        let artifacts = rule_artifacts(&data);
        assert!(artifacts.len() >= 12, "{artifacts:?}");
        artifacts.iter().for_each(|path| plant_traps_in_code(path));
    };

    // The command line: every rule is compiled again from its stored module and judges.
    damage();
    let out = conftrail(
        &data,
        &["ingest", "--json", &example("02-bucket-history-api.json")],
    );
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = json(&out);
    assert!(
        summary["evaluations"]["evaluations"].as_u64() > Some(0),
        "{summary}"
    );
    assert_eq!(summary["evaluations"]["errors"], 0, "{summary}");
    assert!(stderr.contains(WARNING), "{}", describe(&out));
    // The artifacts were written again and are trusted from then on.
    let out = conftrail(&data, &["ingest", &example("03-notifications.jsonl")]);
    ok_stdout(&out);
    assert!(
        !String::from_utf8_lossy(&out.stderr).contains(WARNING),
        "{}",
        describe(&out)
    );

    // The server.
    damage();
    let log = tmp.path().join("server.log");
    let server = Server::start_logging(
        &data,
        &[],
        std::fs::File::create(&log).expect("log file").into(),
    );
    let body = std::fs::read(example("04-config-history-late.json")).expect("example");
    let mut response = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .new_agent()
        .post(format!("{}/v1/ingest", server.base))
        .header("Authorization", format!("Bearer {INGEST}"))
        .send(&body[..])
        .expect("request");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    assert_eq!(status, 200, "{text}");
    let summary: Value = serde_json::from_str(&text).expect("JSON");
    assert!(
        summary["evaluations"]["evaluations"].as_u64() > Some(0),
        "{summary}"
    );
    assert_eq!(summary["evaluations"]["errors"], 0, "{summary}");
    server.stop();
    let log = std::fs::read_to_string(&log).expect("server log");
    assert!(log.contains(WARNING), "{log}");
}
