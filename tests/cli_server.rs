//! The CLI against a running server (`--server`, `--token`): every command family, with the same
//! output as the same command run locally on a store holding the same data. The server is a real
//! `conftrail serve` on 127.0.0.1; the local store is another data directory.

mod common;

use std::path::Path;
use std::process::Output;

use common::server::{Server, ADMIN, READ};
use common::{
    conftrail, conftrail_without_store, describe, examples, failed_with, json, ok_stdout,
};
use common::{repo, WEB_SG};

/// Runs `conftrail --server URL --token TOKEN ARGS...`.
fn remote(server: &Server, token: &str, args: &[&str]) -> Output {
    let mut all = vec!["--server", &server.base, "--token", token];
    all.extend_from_slice(args);
    conftrail_without_store(&all)
}

/// Asserts that a command prints the same thing locally and against the server (but for when
/// each store recorded its copy of a version).
fn same(local: &Path, server: &Server, args: &[&str]) -> String {
    let here = without_recording_times(&ok_stdout(&conftrail(local, args)));
    let there = without_recording_times(&ok_stdout(&remote(server, ADMIN, args)));
    assert_eq!(
        here,
        there,
        "`{}` differs between local and --server",
        args.join(" ")
    );
    here
}

fn without_recording_times(text: &str) -> String {
    text.lines()
        .filter(|line| !line.contains("\"recordedAt\""))
        .map(|line| match line.find("  recorded ") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The lines of a timeline that come from the data (evaluation lines carry the time they ran).
fn data_lines(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.contains("  version ") || l.trim_start().starts_with("<-"))
        .map(str::to_string)
        .collect()
}

#[test]
fn every_command_family_works_against_a_running_server_as_it_does_locally() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let local = tmp.path().join("local");
    let served = tmp.path().join("served");
    // Command remediations are set through the API below, which the server must allow.
    let server = Server::start_with(&served, &["--allow-command-actions"]);
    let examples = examples();

    // Ingest: files streamed to POST /v1/ingest, the same summary and exit code.
    let here = conftrail(&local, &["ingest", &examples]);
    let there = remote(&server, ADMIN, &["ingest", &examples]);
    assert_eq!(
        here.status.code(),
        there.status.code(),
        "{}",
        describe(&there)
    );
    assert_eq!(ok_stdout(&here), ok_stdout(&there));

    // Reads.
    let [kind, id] = WEB_SG;
    assert!(same(&local, &server, &["resources"]).contains(id));
    same(&local, &server, &["resources", "--type", kind, "--json"]);
    same(&local, &server, &["history", kind, id]);
    same(
        &local,
        &server,
        &["history", kind, id, "--order", "forward", "--limit", "1"],
    );
    same(&local, &server, &["show", kind, id, "--version", "1"]);
    same(
        &local,
        &server,
        &["show", kind, id, "--at", "2024-05-02T12:00:00Z", "--json"],
    );
    same(&local, &server, &["diff", kind, id]);
    same(
        &local,
        &server,
        &["diff", kind, id, "--from", "1", "--to", "2", "--json"],
    );
    same(&local, &server, &["events", "--limit", "5"]);
    same(
        &local,
        &server,
        &["events", "--user", "dev-alice", "--format", "json"],
    );
    let csv = same(
        &local,
        &server,
        &["events", "--format", "csv", "--limit", "1000"],
    );
    assert!(csv.starts_with("Event ID,Event time,"), "{csv}");
    let here = ok_stdout(&conftrail(&local, &["timeline", kind, id]));
    let there = ok_stdout(&remote(&server, READ, &["timeline", kind, id]));
    assert!(!data_lines(&here).is_empty(), "{here}");
    assert_eq!(data_lines(&here), data_lines(&there));
    same(&local, &server, &["compliance", "--rule", "restricted-ssh"]);
    let history = json(&remote(
        &server,
        READ,
        &[
            "compliance",
            "history",
            kind,
            id,
            "--rule",
            "restricted-ssh",
            "--json",
        ],
    ));
    assert!(
        history.as_array().is_some_and(|h| !h.is_empty()),
        "{history}"
    );
    same(&local, &server, &["rules", "list"]);

    // Errors read as they do locally.
    failed_with(
        &remote(&server, READ, &["show", kind, "sg-nope"]),
        "sg-nope",
    );
    failed_with(
        &remote(&server, READ, &["compliance", "--rule", "nope"]),
        "no rule named \"nope\"",
    );
    failed_with(
        &remote(&server, READ, &["rules", "disable", "restricted-ssh"]),
        "admin",
    );
    failed_with(
        &conftrail_without_store(&["--server", &server.base, "resources"]),
        "--token",
    );

    // Rules: add, update, schedule, disable, enable, evaluate, remove.
    let echo = repo("rules-wasm/dist/test/test-echo.wasm");
    let added = json(&remote(
        &server,
        ADMIN,
        &[
            "rules",
            "add",
            &echo,
            "--name",
            "echo",
            "--resource-types",
            kind,
            "--json",
        ],
    ));
    assert_eq!(added["rule"]["name"], "echo", "{added}");
    assert!(
        added["evaluations"]["evaluations"].as_u64() > Some(0),
        "{added}"
    );
    let updated = json(&remote(
        &server,
        ADMIN,
        &[
            "rules",
            "update",
            "echo",
            "--wasm",
            &echo,
            "--deadline-ms",
            "900",
            "--json",
        ],
    ));
    assert_eq!(updated["rule"]["deadlineMs"], 900, "{updated}");
    assert!(updated["rule"]["revision"].as_u64() > Some(1), "{updated}");
    let scheduled = ok_stdout(&remote(
        &server,
        ADMIN,
        &["rules", "schedule", "echo", "0 0 * * * *"],
    ));
    assert!(scheduled.starts_with("scheduled echo at"), "{scheduled}");
    failed_with(
        &remote(&server, ADMIN, &["rules", "schedule", "echo", "not cron"]),
        "invalid cron expression",
    );
    assert_eq!(
        ok_stdout(&remote(&server, ADMIN, &["rules", "disable", "echo"])),
        "disabled echo\n"
    );
    assert!(
        ok_stdout(&remote(&server, ADMIN, &["rules", "enable", "echo"]))
            .contains("evaluated its scope")
    );
    let counts = json(&remote(
        &server,
        ADMIN,
        &[
            "evaluate", "--rule", "echo", "--type", kind, "--id", id, "--json",
        ],
    ));
    assert_eq!(counts["evaluations"]["evaluations"], 1, "{counts}");
    assert!(
        ok_stdout(&remote(&server, ADMIN, &["rules", "remove", "echo"]))
            .starts_with("removed echo")
    );
    failed_with(
        &remote(&server, ADMIN, &["rules", "remove", "echo"]),
        "no rule named \"echo\"",
    );

    // Remediation: configure, run (the server's worker makes the attempt), list, exceptions.
    let set = json(&remote(
        &server,
        ADMIN,
        &[
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "command",
            "--max-attempts",
            "2",
            "--json",
            "--",
            "/bin/true",
        ],
    ));
    assert_eq!(set["maxAttempts"], 2, "{set}");
    failed_with(
        &remote(
            &server,
            ADMIN,
            &[
                "remediation",
                "set",
                "restricted-ssh",
                "--action",
                "webhook",
                "--url",
                "http://127.0.0.1:9/",
                "--backoff",
                "soon",
            ],
        ),
        "--backoff",
    );
    assert!(ok_stdout(&remote(
        &server,
        READ,
        &["remediation", "show", "restricted-ssh"]
    ))
    .contains("command /bin/true"));
    // The web group is compliant at its latest version: a run is queued, then cancelled by
    // the worker, or succeeds; either way it is no longer waiting when the command returns.
    let run = remote(
        &server,
        ADMIN,
        &["remediation", "run", "restricted-ssh", kind, id, "--json"],
    );
    let answer = json(&run);
    let job = &answer["job"];
    assert!(answer["queued"].is_boolean(), "{answer}");
    assert!(
        ["succeeded", "cancelled", "verified", "notEffective"]
            .contains(&job["state"].as_str().unwrap_or_default()),
        "{job}"
    );
    let jobs = json(&remote(&server, READ, &["remediation", "list", "--json"]));
    assert_eq!(jobs["jobs"][0]["id"], job["id"], "{jobs}");
    let added = remote(
        &server,
        ADMIN,
        &[
            "remediation",
            "exception",
            "add",
            "restricted-ssh",
            kind,
            id,
            "--reason",
            "bastion",
        ],
    );
    assert!(
        ok_stdout(&added).starts_with("exception added"),
        "{}",
        describe(&added)
    );
    failed_with(
        &remote(
            &server,
            ADMIN,
            &[
                "remediation",
                "exception",
                "add",
                "restricted-ssh",
                kind,
                id,
                "--reason",
                " ",
            ],
        ),
        "--reason",
    );
    assert!(ok_stdout(&remote(
        &server,
        READ,
        &["remediation", "exception", "list"]
    ))
    .contains("bastion"));
    // `--json` prints what the API answers, wrappers included.
    for (args, path) in [
        (&["resources", "--json"][..], "/v1/resources"),
        (&["rules", "list", "--json"], "/v1/rules"),
        (
            &["remediation", "show", "--json"],
            "/v1/remediation/configurations",
        ),
        (
            &["remediation", "show", "restricted-ssh", "--json"],
            "/v1/remediation/configurations/restricted-ssh",
        ),
        (&["remediation", "list", "--json"], "/v1/remediation/jobs"),
        (
            &["remediation", "exception", "list", "--json"],
            "/v1/remediation/exceptions",
        ),
    ] {
        let printed = json(&remote(&server, READ, args));
        let (status, body) = request(&server, "GET", path, None);
        assert_eq!(status, 200, "{path}: {body}");
        let answered: serde_json::Value = serde_json::from_str(&body).expect("json");
        assert_eq!(printed, answered, "`{}` and GET {path}", args.join(" "));
    }
    ok_stdout(&remote(
        &server,
        ADMIN,
        &[
            "remediation",
            "exception",
            "remove",
            "restricted-ssh",
            kind,
            id,
        ],
    ));
    ok_stdout(&remote(
        &server,
        ADMIN,
        &["remediation", "remove", "restricted-ssh"],
    ));
    failed_with(
        &remote(&server, ADMIN, &["remediation", "show", "restricted-ssh"]),
        "has no remediation configured",
    );

    // Housekeeping through the API; the worker and serve itself stay local.
    assert_eq!(
        ok_stdout(&remote(
            &server,
            ADMIN,
            &["events", "purge", "--retention-days", "0"]
        )),
        "retention is 0 days: every event is kept\n"
    );
    failed_with(&remote(&server, ADMIN, &["worker"]), "drop --server");

    // The store the server holds is locked; the error says how to reach it instead.
    failed_with(&conftrail(&served, &["resources"]), "--server");
    server.stop();
}

#[test]
fn ingest_proceeds_while_a_slow_manual_evaluation_runs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&tmp.path().join("data"));
    ok_stdout(&remote(&server, ADMIN, &["ingest", &examples()]));
    // A rule that loops until its deadline on every security group: judging the example's
    // three takes at least two deadlines of 5 s on two evaluation threads.
    let looping = repo("rules-wasm/dist/test/test-endless-loop.wasm");
    ok_stdout(&remote(
        &server,
        ADMIN,
        &[
            "rules",
            "add",
            &looping,
            "--name",
            "slow",
            "--resource-types",
            "AWS::EC2::SecurityGroup",
            "--deadline-ms",
            "5000",
            "--disabled",
        ],
    ));
    let evaluation = {
        let base = server.base.clone();
        std::thread::spawn(move || {
            conftrail_without_store(&[
                "--server", &base, "--token", ADMIN, "rules", "enable", "slow",
            ])
        })
    };
    // Give the evaluation time to start: it holds its evaluator for many seconds.
    std::thread::sleep(std::time::Duration::from_millis(500));
    let item = tmp.path().join("item.json");
    std::fs::write(
        &item,
        r#"{"resourceType":"AWS::S3::Bucket","resourceId":"during-evaluation","awsAccountId":"123456789012","awsRegion":"us-east-1","configurationItemCaptureTime":"2024-06-01T00:00:00Z","configurationItemStatus":"OK","configuration":{}}"#,
    )
    .expect("write item");
    let ingested = remote(&server, ADMIN, &["ingest", &item.display().to_string()]);
    assert!(
        !evaluation.is_finished(),
        "the ingest waited for the slow evaluation to finish"
    );
    assert!(
        ok_stdout(&ingested).contains("1 new versions"),
        "{}",
        describe(&ingested)
    );
    // Every evaluation timed out: the rule is enabled, and the command says it is broken.
    let enabled = evaluation.join().expect("evaluation thread");
    assert_eq!(enabled.status.code(), Some(1), "{}", describe(&enabled));
    assert!(
        String::from_utf8_lossy(&enabled.stdout).contains("errors")
            && String::from_utf8_lossy(&enabled.stderr).contains("every evaluation of slow failed"),
        "{}",
        describe(&enabled)
    );
    server.stop();
}

/// A request with the admin token and an optional JSON body; the status and the answer's text.
fn request(server: &Server, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    server.request(ADMIN, method, path, body)
}

/// PUTs a JSON body with the admin token.
fn put(server: &Server, path: &str, body: &str) -> (u16, String) {
    request(server, "PUT", path, Some(body))
}

#[test]
fn the_file_the_api_and_the_cli_reject_the_same_bad_settings() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start_with(&tmp.path().join("data"), &["--allow-command-actions"]);
    let file = tmp.path().join("conftrail.toml");
    let serve_with = |text: &str| {
        std::fs::write(&file, text).expect("write config");
        let config = file.display().to_string();
        let other = tmp.path().join("other").display().to_string();
        conftrail_without_store(&[
            "--data-dir",
            &other,
            "serve",
            "--config",
            &config,
            "--listen",
            "127.0.0.1:0",
        ])
    };

    // A remediation with no attempts (the API body in camelCase, as its answers are).
    let from_file = serve_with(
        "[remediation.restricted-ssh]\naction = \"command\"\ncommand = [\"/bin/true\"]\nmax_attempts = 0\n",
    );
    failed_with(&from_file, "remediation.restricted-ssh.max_attempts");
    failed_with(&from_file, "must be at least 1");
    let (status, answer) = put(
        &server,
        "/v1/remediation/configurations/restricted-ssh",
        r#"{"action": "command", "command": ["/bin/true"], "maxAttempts": 0}"#,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("max_attempts: must be at least 1"),
        "{answer}"
    );
    let from_cli = remote(
        &server,
        ADMIN,
        &[
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "command",
            "--max-attempts",
            "0",
            "--",
            "/bin/true",
        ],
    );
    failed_with(&from_cli, "--max-attempts: must be at least 1");

    // A subscription filtering on a compliance type that does not exist.
    let from_file = serve_with(
        "[[subscriptions]]\nname = \"s\"\nurl = \"http://127.0.0.1:9/\"\ncompliance = [\"BOGUS\"]\n",
    );
    failed_with(&from_file, "subscriptions[0].compliance");
    failed_with(&from_file, "\"BOGUS\" is not one of");
    let (status, answer) = put(
        &server,
        "/v1/subscriptions/s",
        r#"{"url": "http://127.0.0.1:9/", "compliance": ["BOGUS"]}"#,
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer.contains("compliance: \\\"BOGUS\\\" is not one of"),
        "{answer}"
    );
    // Good settings in camelCase are taken.
    let (status, answer) = put(
        &server,
        "/v1/subscriptions/s",
        r#"{"url": "http://127.0.0.1:9/", "kinds": ["api-event"], "maxAttempts": 2,
            "apiEvents": {"eventNames": ["DeleteBucket"]}}"#,
    );
    assert_eq!(status, 200, "{answer}");
    assert!(answer.contains("\"maxAttempts\":2"), "{answer}");
    // What GET answers can be sent back with PUT.
    let (status, read) = put(&server, "/v1/subscriptions/s", &answer);
    assert_eq!((status, &read), (200, &answer));
    let mut copy: serde_json::Value = serde_json::from_str(&answer).expect("json");
    copy["headers"] = serde_json::json!([["X-Team", "web"]]);
    let (status, copied) = put(&server, "/v1/subscriptions/s2", &copy.to_string());
    assert_eq!(status, 200, "{copied}");
    let copied: serde_json::Value = serde_json::from_str(&copied).expect("json");
    assert_eq!(copied["name"], "s2");
    assert_eq!(copied["backoff"], copy["backoff"], "{copied}");
    // Header values are stored, never shown back.
    assert_eq!(
        copied["headers"],
        serde_json::json!([["X-Team", "***"]]),
        "{copied}"
    );

    // So can a remediation configuration.
    let (status, stored) = put(
        &server,
        "/v1/remediation/configurations/restricted-ssh",
        r#"{"action": "webhook", "url": "http://127.0.0.1:9/fix", "headers": {"X-Team": "web"},
            "parameters": {"group": "RESOURCE_ID", "owner": "$.tags.owner"}, "automatic": true,
            "maxAttempts": 3, "backoff": "2s..5m", "jitter": "none", "timeout": "1m",
            "concurrency": 2}"#,
    );
    assert_eq!(status, 200, "{stored}");
    let (status, again) = put(
        &server,
        "/v1/remediation/configurations/restricted-ssh",
        &stored,
    );
    assert_eq!(status, 200, "{again}");
    let (stored, again): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&stored).expect("json"),
        serde_json::from_str(&again).expect("json"),
    );
    for key in [
        "action",
        "parameters",
        "automatic",
        "maxAttempts",
        "backoff",
        "timeoutMs",
        "concurrency",
    ] {
        assert_eq!(stored[key], again[key], "{key}: {stored} then {again}");
    }
    assert_eq!(again["backoff"]["jitter"], "none", "{again}");

    // And a rule's settings: what GET answers can be PATCHed back, changing nothing.
    let (status, rule) = request(&server, "GET", "/v1/rules/restricted-ssh", None);
    assert_eq!(status, 200, "{rule}");
    let (status, patched) = request(&server, "PATCH", "/v1/rules/restricted-ssh", Some(&rule));
    assert_eq!(status, 200, "{patched}");
    let (rule, patched): (serde_json::Value, serde_json::Value) = (
        serde_json::from_str(&rule).expect("json"),
        serde_json::from_str(&patched).expect("json"),
    );
    for key in [
        "enabled",
        "parameters",
        "scope",
        "triggers",
        "deadlineMs",
        "memoryLimitMib",
    ] {
        assert_eq!(
            rule[key], patched["rule"][key],
            "{key}: {rule} then {patched}"
        );
    }
    server.stop();
}
