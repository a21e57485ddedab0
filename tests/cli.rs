//! The `conftrail` binary end to end: real processes, a real data directory.

mod common;

use common::{conftrail, examples, json, ok_stdout, WEB_SG};
use serde_json::Value;
use std::path::Path;
use std::process::Command;

#[test]
fn ingest_then_query_every_command() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    let summary = ok_stdout(&conftrail(data, &["ingest", &examples()]));
    assert!(
        summary.contains("read 5 documents: 10 items, 8 new versions, 1 unchanged, 1 deleted, 1 out of order, 8 API events (8 new, 0 already stored), 0 skipped, 0 errors"),
        "{summary}"
    );

    let listed = json(&conftrail(data, &["resources", "--json"]));
    let resources = listed["resources"].as_array().expect("array");
    assert_eq!(resources.len(), 4);
    let sgs = json(&conftrail(
        data,
        &["resources", "--type", WEB_SG[0], "--json"],
    ));
    assert_eq!(sgs["resources"].as_array().expect("array").len(), 3);
    let web = sgs["resources"]
        .as_array()
        .expect("array")
        .iter()
        .find(|r| r["resourceId"] == WEB_SG[1])
        .expect("web sg listed");
    assert_eq!(web["versionCount"], 4);
    assert_eq!(web["latestVersion"], 3);
    let table = ok_stdout(&conftrail(data, &["resources"]));
    assert!(table.starts_with("TYPE"), "{table}");
    assert!(
        table.contains("acme-invoices") && table.contains("4 resources"),
        "{table}"
    );

    // History, newest first, one per page, following the token.
    let mut versions = Vec::new();
    let mut args: Vec<String> = vec![
        "history".into(),
        WEB_SG[0].into(),
        WEB_SG[1].into(),
        "--limit".into(),
        "1".into(),
        "--json".into(),
    ];
    loop {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let page = json(&conftrail(data, &argv));
        let items = page["configurationItems"].as_array().expect("items");
        assert_eq!(items.len(), 1);
        versions.push(items[0]["conftrail"]["version"].as_u64().expect("version"));
        match page["nextToken"].as_str() {
            Some(token) => {
                args.truncate(6);
                args.extend(["--next".to_string(), token.to_string()]);
            }
            None => break,
        }
    }
    assert_eq!(versions, vec![3, 2, 4, 1]);
    let window = json(&conftrail(
        data,
        &[
            "history",
            WEB_SG[0],
            WEB_SG[1],
            "--since",
            "2024-05-02",
            "--until",
            "2024-05-02T23:59:59Z",
            "--order",
            "forward",
            "--json",
        ],
    ));
    let in_window: Vec<u64> = window["configurationItems"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|i| i["conftrail"]["version"].as_u64())
        .collect();
    assert_eq!(in_window, vec![4, 2]);

    let shown = json(&conftrail(
        data,
        &["show", WEB_SG[0], WEB_SG[1], "--version", "1", "--json"],
    ));
    assert_eq!(
        shown["configurationItemCaptureTime"],
        "2024-05-01T09:00:00.000Z"
    );
    assert_eq!(shown["configuration"]["groupName"], "web-frontend");
    let at = json(&conftrail(
        data,
        &[
            "show",
            WEB_SG[0],
            WEB_SG[1],
            "--at",
            "2024-05-02T14:30:00Z",
            "--json",
        ],
    ));
    assert_eq!(at["conftrail"]["version"], 2);
    let text = ok_stdout(&conftrail(data, &["show", WEB_SG[0], WEB_SG[1]]));
    assert!(
        text.contains("version 3") && text.contains("\"groupName\": \"web-frontend\""),
        "{text}"
    );

    // The API-spelled bucket: supplementary values decoded, the double-encoded ACL too.
    let bucket = json(&conftrail(
        data,
        &["show", "AWS::S3::Bucket", "acme-invoices", "--json"],
    ));
    assert_eq!(
        bucket["supplementaryConfiguration"]["AccessControlList"]["grantList"][1]["grantee"],
        "AllUsers"
    );

    let diff = json(&conftrail(data, &["diff", WEB_SG[0], WEB_SG[1], "--json"]));
    assert_eq!(
        (diff["fromVersion"].as_u64(), diff["toVersion"].as_u64()),
        (Some(2), Some(3))
    );
    let change =
        &diff["configurationItemDiff"]["changedProperties"]["Configuration.IpPermissions.3"];
    assert_eq!(change["changeType"], "UPDATE");
    assert_eq!(
        change["previousValue"]["ipv4Ranges"][0]["cidrIp"],
        "0.0.0.0/0"
    );
    assert_eq!(
        change["updatedValue"]["ipv4Ranges"][0]["cidrIp"],
        "10.20.0.0/16"
    );
    assert!(diff["unifiedDiff"]
        .as_str()
        .expect("text")
        .contains("+          \"10.20.0.0/16\""));
    let first = json(&conftrail(
        data,
        &["diff", WEB_SG[0], WEB_SG[1], "--to", "1", "--json"],
    ));
    assert_eq!(first["configurationItemDiff"]["changeType"], "CREATE");
    assert!(first["fromVersion"].is_null());
    let bucket_diff = json(&conftrail(
        data,
        &[
            "diff",
            "AWS::S3::Bucket",
            "acme-invoices",
            "--from",
            "1",
            "--to",
            "2",
            "--json",
        ],
    ));
    assert!(
        bucket_diff["configurationItemDiff"]["changedProperties"]
            .get("SupplementaryConfiguration.AccessControlList.GrantList.1")
            .is_some(),
        "{bucket_diff}"
    );

    // Re-ingesting is idempotent.
    let again = ok_stdout(&conftrail(data, &["ingest", &examples()]));
    assert!(
        again.contains("0 new versions, 10 unchanged, 0 deleted"),
        "{again}"
    );
}

#[test]
fn bad_records_are_reported_with_file_and_place_and_set_the_exit_code() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inputs = dir.path().join("inputs");
    std::fs::create_dir_all(inputs.join("nested")).expect("mkdir");
    std::fs::write(
        inputs.join("nested/mixed.jsonl"),
        "{\"resourceType\":\"AWS::S3::Bucket\",\"resourceId\":\"b1\",\"configuration\":{}}\n{\"resourceType\":\"AWS::S3::Bucket\"}\n",
    )
    .expect("write");
    std::fs::write(
        inputs.join("notes.txt"),
        "not picked up in a directory walk",
    )
    .expect("write");
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(
        &mut gz,
        b"{\"resourceType\":\"AWS::S3::Bucket\",\"resourceId\":\"b2\"}",
    )
    .expect("gz");
    std::fs::write(inputs.join("b2.json.gz"), gz.finish().expect("gz")).expect("write");
    let data = dir.path().join("data");
    let out = conftrail(&data, &["ingest", inputs.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("mixed.jsonl: line 2: missing resourceId"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("read 2 documents: 2 items, 2 new versions"),
        "{stdout}"
    );
    assert!(stdout.contains("1 errors"), "{stdout}");

    let report: Value = {
        let out = conftrail(&data, &["ingest", "--json", inputs.to_str().expect("utf8")]);
        assert_eq!(out.status.code(), Some(3));
        serde_json::from_slice(&out.stdout).expect("json report")
    };
    assert_eq!(report["unchanged"], 2);
    assert_eq!(report["problems"][0]["location"], "line 2");
    assert_eq!(report["problems"][0]["kind"], "error");

    let missing = conftrail(&data, &["ingest", "/definitely/not/here"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("/definitely/not/here"));
}

#[test]
fn query_errors_are_clear() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    ok_stdout(&conftrail(data, &["ingest", &examples()]));
    let cases: [(&[&str], &str); 6] = [
        (
            &[
                "history",
                WEB_SG[0],
                WEB_SG[1],
                "--since",
                "2024-05-03",
                "--until",
                "2024-05-01",
            ],
            "--since (2024-05-03T00:00:00.000Z) is after --until (2024-05-01T23:59:59.999Z)",
        ),
        (
            &["show", "AWS::EC2::SecurityGroup", "sg-nope"],
            "no resource AWS::EC2::SecurityGroup sg-nope has been recorded",
        ),
        (
            &["show", WEB_SG[0], WEB_SG[1], "--version", "9"],
            "has no version 9 (it has versions 1 to 4)",
        ),
        (
            &["show", WEB_SG[0], WEB_SG[1], "--at", "2020-01-01"],
            "has no version captured at or before 2020-01-01T00:00:00.000Z",
        ),
        (
            &["history", WEB_SG[0], WEB_SG[1], "--next", "garbage"],
            "invalid page token",
        ),
        (
            &["history", WEB_SG[0], WEB_SG[1], "--since", "last tuesday"],
            "invalid time \"last tuesday\"",
        ),
    ];
    for (args, want) in cases {
        let out = conftrail(data, args);
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(want), "{args:?}: {stderr}");
    }
}

#[test]
fn data_dir_comes_from_the_environment() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .env("CONFTRAIL_DATA_DIR", dir.path())
        .args(["ingest", &examples()])
        .output()
        .expect("run");
    ok_stdout(&out);
    let listed = json(&conftrail(dir.path(), &["resources", "--json"]));
    assert_eq!(listed["resources"].as_array().expect("array").len(), 4);
}

#[test]
fn example_data_shows_history_and_the_change_that_opened_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = conftrail(dir.path(), &["ingest", &examples()]);
    let text = ok_stdout(&out);
    assert!(text.contains("0 errors"), "{text}");
    let out = conftrail(
        dir.path(),
        &[
            "diff",
            "AWS::EC2::SecurityGroup",
            "sg-0a1b2c3d4e5f60718",
            "--from",
            "4",
            "--to",
            "2",
        ],
    );
    let text = ok_stdout(&out);
    assert!(
        text.contains(
            "version 4 (2024-05-02T10:00:00.000Z) -> version 2 (2024-05-02T14:03:12.000Z): UPDATE"
        ),
        "{text}"
    );
    assert!(
        text.contains("CREATE Configuration.IpPermissions.3"),
        "{text}"
    );
    // The CloudTrail example links the opening of SSH to the user who did it.
    let out = conftrail(
        dir.path(),
        &[
            "timeline",
            "AWS::EC2::SecurityGroup",
            "sg-0a1b2c3d4e5f60718",
        ],
    );
    let text = ok_stdout(&out);
    assert!(
        text.contains("AuthorizeSecurityGroupIngress by dev-alice (arn:aws:iam::111122223333:user/dev-alice) from 198.51.100.77 [likely cause]"),
        "{text}"
    );
}

#[test]
fn a_second_process_on_the_same_data_dir_is_told_why_it_cannot_open() {
    let dir = tempfile::tempdir().expect("tempdir");
    let _held = conftrail::store::Store::open(dir.path()).expect("open");
    let out = conftrail(dir.path(), &["resources"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("in use by another conftrail process"),
        "{stderr}"
    );
}

#[test]
fn logs_go_to_stderr_as_json_on_request() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = conftrail(
        dir.path(),
        &[
            "--log-level",
            "info",
            "--log-format",
            "json",
            "ingest",
            &examples(),
        ],
    );
    ok_stdout(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<Value> = stderr
        .lines()
        .map(|l| serde_json::from_str(l).expect("every log line is JSON"))
        .collect();
    // Installing the managed rules into the new store is logged first.
    assert!(lines
        .iter()
        .any(|l| l["fields"]["message"] == "installed managed rule"));
    let line = lines
        .iter()
        .find(|l| l["fields"]["message"] == "ingest flushed")
        .expect("the ingest line");
    assert_eq!(line["level"], "INFO");
    assert_eq!(line["fields"]["message"], "ingest flushed");
    assert_eq!(line["fields"]["new_versions"], 8);
    let human = conftrail(dir.path(), &["--log-level", "info", "ingest", &examples()]);
    let stderr = String::from_utf8_lossy(&human.stderr);
    assert!(
        stderr.contains("INFO")
            && stderr.contains("ingest flushed")
            && !stderr.trim_start().starts_with('{'),
        "{stderr}"
    );
}

#[test]
fn history_output_ingests_back_with_the_same_content() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = dir.path().join("first");
    ok_stdout(&conftrail(&first, &["ingest", &examples()]));
    let exported = ok_stdout(&conftrail(
        &first,
        &[
            "history", WEB_SG[0], WEB_SG[1], "--order", "forward", "--json",
        ],
    ));
    let export_file = dir.path().join("export.json");
    std::fs::write(&export_file, &exported).expect("write export");

    let second = dir.path().join("second");
    let summary = ok_stdout(&conftrail(
        &second,
        &["ingest", export_file.to_str().expect("utf8")],
    ));
    assert!(summary.contains("4 items, 4 new versions"), "{summary}");
    let hashes = |data: &Path| -> Vec<String> {
        let page = json(&conftrail(
            data,
            &[
                "history", WEB_SG[0], WEB_SG[1], "--order", "forward", "--json",
            ],
        ));
        page["configurationItems"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                i["conftrail"]["contentHash"]
                    .as_str()
                    .expect("hash")
                    .to_string()
            })
            .collect()
    };
    assert_eq!(hashes(&first), hashes(&second));
}

#[test]
fn ingest_reads_standard_input() {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut child = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(dir.path())
        .args(["ingest", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    // As `aws configservice get-resource-config-history` prints it: epoch seconds, string configuration.
    let doc = r#"{"configurationItems": [{"version": "1.3", "accountId": "1", "configurationItemCaptureTime": 1714554000.5,
        "configurationItemStatus": "OK", "resourceType": "AWS::S3::Bucket", "resourceId": "piped", "awsRegion": "eu-west-1",
        "configuration": "{\"name\": \"piped\"}", "supplementaryConfiguration": {}}]}"#;
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(doc.as_bytes())
        .expect("write stdin");
    let out = child.wait_with_output().expect("wait");
    let summary = ok_stdout(&out);
    assert!(summary.contains("1 items, 1 new versions"), "{summary}");
    let shown = json(&conftrail(
        dir.path(),
        &["show", "AWS::S3::Bucket", "piped", "--json"],
    ));
    assert_eq!(shown["configuration"]["name"], "piped");
    assert_eq!(
        shown["configurationItemCaptureTime"],
        "2024-05-01T09:00:00.500Z"
    );
}

#[test]
fn small_things_a_user_hit_are_right() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let trails = common::repo("tests/data/realdata/cloudtrail");
    // Some of these records are refused on purpose; the rest is recorded.
    let _ = conftrail(&data, &["ingest", &trails]);

    // A reader that stops early (`| head -1`) ends the command quietly, not with an error.
    let mut child = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(&data)
        .args(["events", "--format", "json", "--limit", "100000"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().expect("stdout"), &mut first).expect("read");
    drop(child.stdout.take());
    let ended = child.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&ended.stderr);
    assert!(ended.status.success(), "{:?} {stderr}", ended.status);
    assert!(!stderr.contains("Broken pipe"), "{stderr}");

    // A missing path is named once, with the system's reason once.
    let missing = conftrail(&data, &["ingest", "/nonexistent"]);
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert_eq!(
        stderr.matches("No such file or directory").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("/nonexistent"), "{stderr}");

    // `rules test --item` names the file it cannot read.
    let rule = common::repo("rules-wasm/dist/test/test-panic.wasm");
    let untested = conftrail(
        &data,
        &["rules", "test", &rule, "--item", "missing-item.json"],
    );
    assert!(
        String::from_utf8_lossy(&untested.stderr).contains("missing-item.json"),
        "{}",
        common::describe(&untested)
    );

    // `events --json`, as other commands take it.
    let events = json(&conftrail(&data, &["events", "--json", "--limit", "2"]));
    assert_eq!(
        events["Events"].as_array().map(Vec::len),
        Some(2),
        "{events}"
    );

    // `--until` with a bare date means the end of that day: from D until D is all of day D.
    let example = tmp.path().join("example");
    ok_stdout(&conftrail(
        &example,
        &["ingest", &examples(), "--no-evaluate"],
    ));
    let day = json(&conftrail(
        &example,
        &[
            "events",
            "--since",
            "2024-05-02",
            "--until",
            "2024-05-02",
            "--json",
        ],
    ));
    let names: Vec<&str> = day["Events"]
        .as_array()
        .map(|events| {
            events
                .iter()
                .filter_map(|e| e["EventName"].as_str())
                .collect()
        })
        .unwrap_or_default();
    assert!(names.contains(&"PutBucketAcl"), "{day}");
    let history = json(&conftrail(
        &example,
        &[
            "history",
            "AWS::S3::Bucket",
            "acme-invoices",
            "--since",
            "2024-05-02",
            "--until",
            "2024-05-02",
            "--json",
        ],
    ));
    assert!(
        history.to_string().contains("2024-05-02T15:10:45"),
        "{history}"
    );
    // …and each version in a history carries the calls linked to it, as `show` does.
    let related = &history["configurationItems"][0]["relatedEvents"];
    assert!(
        related
            .to_string()
            .contains("0d6a7c1e-8b2f-4c55-9e1a-000000000005"),
        "{history}"
    );
}

#[test]
fn the_store_cache_is_a_setting() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let refused = conftrail(&data, &["--cache-mib", "0", "resources"]);
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--cache-mib"),
        "{}",
        common::describe(&refused)
    );
    let small = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(&data)
        .args(["ingest", &examples()])
        .env("CONFTRAIL_CACHE_MIB", "8")
        .output()
        .expect("run");
    assert!(
        ok_stdout(&small).contains("new versions"),
        "{}",
        common::describe(&small)
    );
}

#[test]
fn typos_in_resource_types_are_caught_with_the_closest_type() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    ok_stdout(&conftrail(&data, &["ingest", &examples(), "--no-evaluate"]));
    let [sg_type, sg_id] = WEB_SG;

    for args in [
        vec!["resources", "--type", "AWS::EC2::SecurityGrop"],
        vec!["history", "AWS::EC2::SecurityGrop", sg_id],
        vec!["compliance", "--type", "AWS::EC2::SecurityGrop"],
    ] {
        common::failed_with(
            &conftrail(&data, &args),
            "unknown resource type \"AWS::EC2::SecurityGrop\": did you mean AWS::EC2::SecurityGroup?",
        );
    }
    // Any case finds the type AWS spells.
    let listed = json(&conftrail(
        &data,
        &["resources", "--type", "aws::ec2::securitygroup", "--json"],
    ));
    assert!(listed.to_string().contains(sg_id), "{listed}");
    let history = ok_stdout(&conftrail(
        &data,
        &["history", &sg_type.to_lowercase(), sg_id],
    ));
    assert!(history.contains(sg_id), "{history}");

    // A rule cannot be scoped to a type it does not judge, or to a typo.
    let scope = |types: &str| {
        conftrail(
            &data,
            &[
                "rules",
                "update",
                "restricted-ssh",
                "--resource-types",
                types,
            ],
        )
    };
    common::failed_with(
        &scope("AWS::S3::Bucket"),
        "rule restricted-ssh judges only AWS::EC2::SecurityGroup; it cannot be scoped to AWS::S3::Bucket",
    );
    common::failed_with(
        &scope("AWS::EC2::SecurityGrop"),
        "(did you mean AWS::EC2::SecurityGroup?)",
    );
}

#[test]
fn loose_input_is_refused_naming_the_field_and_nothing_is_stored() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let item = |field: &str, value: Value| {
        let mut item = serde_json::json!({
            "resourceType": "AWS::S3::Bucket", "resourceId": "loose",
            "configurationItemCaptureTime": "2024-05-01T09:00:00Z",
            "configurationItemStatus": "OK", "configuration": {}
        });
        item[field] = value;
        item.to_string()
    };
    // Under the 4 MiB record limit, so the field check is what refuses it.
    let huge = "x".repeat(1 << 20);
    let lines = [
        item("resourceType", Value::from(huge.clone())),
        item("tags", serde_json::json!({ "owner": huge })),
        item("configurationItemStatus", Value::from("Whatever")),
        item(
            "configurationItemCaptureTime",
            Value::from("0000-01-01T00:00:00Z"),
        ),
        item(
            "configurationItemCaptureTime",
            Value::from("-2024-05-01T00:00:00Z"),
        ),
        item(
            "configurationItemCaptureTime",
            Value::from(1714554000123000_u64),
        ),
    ];
    let file = tmp.path().join("loose.jsonl");
    std::fs::write(&file, lines.join("\n")).expect("write");
    let out = conftrail(&data, &["ingest", file.to_str().expect("utf8")]);
    assert_eq!(out.status.code(), Some(3), "{}", common::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for want in [
        "line 1: resourceType: 1048576 characters, more than the 196 allowed",
        "line 2: tags.owner: 1048576 characters, more than the 256 allowed",
        "line 3: configurationItemStatus: \"Whatever\" is not one of OK, ResourceDiscovered",
        "line 4: configurationItemCaptureTime: 0000-01-01T00:00:00.000Z is outside the years 1970 to 2199",
        "line 5: configurationItemCaptureTime:",
    ] {
        assert!(stderr.contains(want), "{want}\n{stderr}");
    }
    // Only the last line is recorded: epoch microseconds read as such.
    let history = json(&conftrail(
        &data,
        &["history", "AWS::S3::Bucket", "loose", "--json"],
    ));
    let items = history["configurationItems"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(items.len(), 1, "{history}");
    assert_eq!(
        items[0]["configurationItemCaptureTime"], "2024-05-01T09:00:00.123Z",
        "{history}"
    );
}

#[test]
fn remediation_set_says_what_the_replacement_changed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let url = "http://127.0.0.1:9/hook";
    let first = conftrail(
        &data,
        &[
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "webhook",
            "--url",
            url,
            "--header",
            "Authorization: Bearer hook-secret-0123456789",
            "--automatic",
        ],
    );
    ok_stdout(&first);
    assert!(
        !String::from_utf8_lossy(&first.stderr).contains("replaces"),
        "nothing was replaced: {}",
        common::describe(&first)
    );
    let second = conftrail(
        &data,
        &[
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "webhook",
            "--url",
            url,
        ],
    );
    ok_stdout(&second);
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert!(
        stderr.contains("remediation set replaces the whole configuration of restricted-ssh"),
        "{stderr}"
    );
    assert!(stderr.contains("automatic: true → false"), "{stderr}");
    assert!(stderr.contains("action.headers: "), "{stderr}");
    assert!(
        !stderr.contains("hook-secret"),
        "secrets stay hidden: {stderr}"
    );
}

#[test]
fn remediation_set_takes_an_aws_operation_and_refuses_one_missing() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let set = |extra: &[&str]| {
        let mut args = vec!["remediation", "set", "restricted-ssh", "--action", "aws"];
        args.extend_from_slice(extra);
        conftrail(&data, &args)
    };
    let missing = set(&[]);
    assert!(!missing.status.success(), "{}", common::describe(&missing));
    assert!(
        String::from_utf8_lossy(&missing.stderr).contains("--operation"),
        "{}",
        common::describe(&missing)
    );
    let with_program = set(&["--operation", "enable-versioning", "--", "/bin/true"]);
    assert!(
        !with_program.status.success(),
        "{}",
        common::describe(&with_program)
    );
    ok_stdout(&set(&[
        "--operation",
        "revoke-world-open-ingress",
        "--param",
        "ports=22,3389",
    ]));
    let shown = conftrail(&data, &["remediation", "show", "restricted-ssh", "--json"]);
    let shown = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.contains("\"type\": \"aws\"")
            && shown.contains("\"operation\": \"revoke-world-open-ingress\""),
        "{shown}"
    );
    assert!(shown.contains("22,3389"), "{shown}");
}

#[test]
fn ingest_shows_progress_when_asked_and_is_quiet_otherwise() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let trails = common::repo("tests/data/realdata/cloudtrail");
    let out = conftrail(&data, &["ingest", "--progress", "--no-evaluate", &trails]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    // The first document shows, and the last, with the number of files the walk picks up.
    let files: usize = stderr
        .split_once("ingesting 1/")
        .and_then(|(_, rest)| rest.split_once(' '))
        .and_then(|(n, _)| n.parse().ok())
        .unwrap_or_else(|| panic!("no first progress line: {stderr}"));
    assert!(files > 10, "{stderr}");
    assert!(
        stderr.contains(&format!("ingesting {files}/{files} files: ")),
        "{stderr}"
    );
    // Not asked and not a terminal: no progress.
    let quiet = conftrail(&data, &["ingest", "--no-evaluate", &trails]);
    assert!(
        !String::from_utf8_lossy(&quiet.stderr).contains("ingesting "),
        "{}",
        common::describe(&quiet)
    );
}

/// The latest verdict of `rule` on `id` in `region`: (compliance, annotation).
fn verdict(summary: &Value, rule: &str, id: &str, region: &str) -> (Value, Value) {
    let found = summary["verdicts"]
        .as_array()
        .expect("verdicts")
        .iter()
        .find(|v| v["ruleName"] == rule && v["resourceId"] == id && v["awsRegion"] == region)
        .unwrap_or_else(|| panic!("no verdict of {rule} on {id} in {region:?}: {summary}"));
    (found["compliance"].clone(), found["annotation"].clone())
}

#[test]
fn ingested_describe_output_gets_the_verdicts_aws_configs_item_gets() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path();
    // cloud-custodian's recordings of sg-a38ed1de (tests/data/realdata/SOURCES.md): the
    // group described after it was patched back to the state AWS Config's history shows.
    let custodian = |file: &str| {
        common::repo(&format!(
            "tests/data/realdata/config_items/custodian/{file}"
        ))
    };
    let describe_file = "placebo__test_sg_config_patch_pitr__ec2.DescribeSecurityGroups_2.json";
    let history_file = "placebo__test_sg_config_patch_pitr__config.GetResourceConfigHistory_1.json";
    let out = conftrail(data, &["ingest", &custodian(describe_file)]);
    assert_eq!(out.status.code(), Some(0), "{}", common::describe(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 items, 1 new versions") && stdout.contains("0 errors, 1 warnings"),
        "{}",
        common::describe(&out)
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "warning: {}: data > SecurityGroups[0]: awsRegion: ",
            custodian(describe_file)
        )),
        "{}",
        common::describe(&out)
    );
    let out = conftrail(data, &["ingest", &custodian(history_file)]);
    assert_eq!(out.status.code(), Some(0), "{}", common::describe(&out));

    // AWS Config's item is in us-east-1; the described one in no known region.
    let shown = json(&conftrail(
        data,
        &[
            "show",
            "AWS::EC2::SecurityGroup",
            "sg-a38ed1de",
            "--region",
            "",
            "--json",
        ],
    ));
    assert_eq!(shown["configurationItemVersion"], "1.3", "{shown}");
    assert_eq!(
        shown["configuration"]["ipPermissions"][0]["ipv4Ranges"][0]["cidrIp"],
        "0.0.0.0/0"
    );
    let summary = json(&conftrail(data, &["compliance", "--json"]));
    for rule in ["restricted-ssh", "vpc-sg-open-only-to-authorized-ports"] {
        let theirs = verdict(&summary, rule, "sg-a38ed1de", "us-east-1");
        assert_eq!(verdict(&summary, rule, "sg-a38ed1de", ""), theirs, "{rule}");
    }
    // Not the same verdict by accident: 8080 is open to the world, 22 is not.
    assert_eq!(
        verdict(&summary, "restricted-ssh", "sg-a38ed1de", "").0,
        "COMPLIANT"
    );
    assert_eq!(
        verdict(
            &summary,
            "vpc-sg-open-only-to-authorized-ports",
            "sg-a38ed1de",
            ""
        )
        .0,
        "NON_COMPLIANT"
    );
}

/// `aws ec2 describe-security-groups` output: one group opening SSH to the world, one only to
/// the VPC, and one broken.
const CLI_OUTPUT: &str = r#"{
    "SecurityGroups": [
        {
            "Description": "bastion",
            "GroupName": "bastion",
            "IpPermissions": [
                {
                    "FromPort": 22,
                    "IpProtocol": "tcp",
                    "IpRanges": [{"CidrIp": "0.0.0.0/0", "Description": "anyone"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "ToPort": 22,
                    "UserIdGroupPairs": []
                }
            ],
            "OwnerId": "111122223333",
            "GroupId": "sg-0b45710f4d5e6f701",
            "IpPermissionsEgress": [
                {
                    "IpProtocol": "-1",
                    "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "UserIdGroupPairs": []
                }
            ],
            "Tags": [{"Key": "Name", "Value": "bastion"}],
            "VpcId": "vpc-0a1b2c3d"
        },
        {
            "Description": "internal",
            "GroupName": "internal",
            "IpPermissions": [
                {
                    "FromPort": 22,
                    "IpProtocol": "tcp",
                    "IpRanges": [{"CidrIp": "10.0.0.0/16"}],
                    "Ipv6Ranges": [],
                    "PrefixListIds": [],
                    "ToPort": 22,
                    "UserIdGroupPairs": []
                }
            ],
            "OwnerId": "111122223333",
            "GroupId": "sg-0c0ffee0c0ffee001",
            "IpPermissionsEgress": [],
            "VpcId": "vpc-0a1b2c3d"
        },
        {
            "Description": "broken",
            "GroupName": "broken",
            "IpPermissions": [],
            "OwnerId": "111122223333"
        }
    ],
    "NextToken": "eyJ2IjoxfQ=="
}"#;

#[test]
fn aws_cli_describe_output_is_judged_by_restricted_ssh() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("describe-security-groups.json");
    std::fs::write(&file, CLI_OUTPUT).expect("write");
    let data = dir.path().join("data");
    let out = conftrail(&data, &["ingest", file.to_str().expect("utf8")]);
    // The broken group is rejected, naming its place and field; the others are recorded.
    assert_eq!(out.status.code(), Some(3), "{}", common::describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("describe-security-groups.json: SecurityGroups[2]: missing GroupId"),
        "{}",
        common::describe(&out)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("2 items, 2 new versions"),
        "{}",
        common::describe(&out)
    );

    let summary = json(&conftrail(
        &data,
        &["compliance", "--rule", "restricted-ssh", "--json"],
    ));
    let (compliance, annotation) = verdict(&summary, "restricted-ssh", "sg-0b45710f4d5e6f701", "");
    assert_eq!(compliance, "NON_COMPLIANT", "{summary}");
    assert!(
        annotation.as_str().is_some_and(|a| a.contains("0.0.0.0/0")),
        "{annotation}"
    );
    assert_eq!(
        verdict(&summary, "restricted-ssh", "sg-0c0ffee0c0ffee001", "").0,
        "COMPLIANT"
    );
    let shown = json(&conftrail(
        &data,
        &[
            "show",
            "AWS::EC2::SecurityGroup",
            "sg-0b45710f4d5e6f701",
            "--json",
        ],
    ));
    assert_eq!(shown["resourceName"], "bastion");
    assert_eq!(shown["tags"]["Name"], "bastion");
    assert_eq!(
        shown["ARN"],
        "arn:aws:ec2::111122223333:security-group/sg-0b45710f4d5e6f701"
    );
    assert_eq!(shown["relationships"][0]["resourceId"], "vpc-0a1b2c3d");
}
