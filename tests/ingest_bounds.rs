//! Ingest within bounds, end to end with real processes, files and HTTP on 127.0.0.1: gzip and
//! array bombs over the CLI and over HTTP, with each process's peak resident set measured and
//! kept under the bound the README documents; and JSON lines whose first line is bad.

mod common;

use common::memory::{run_measured, status_kb, Measured, Watchdog};
use common::server::{Server, INGEST, READ};
use common::{conftrail, describe, json};
use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The README's bound on the peak resident set of one process ingesting any single input
/// (512 MB), in kB. A process passing it is killed, so a regression fails here instead of
/// exhausting the machine.
const BOUND_KB: u64 = 512 * 1024;

/// The heavy tests run one at a time: each measures its own processes, and the machine has few
/// cores to share.
static HEAVY: Mutex<()> = Mutex::new(());

fn heavy() -> std::sync::MutexGuard<'static, ()> {
    HEAVY
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `head`, then `body` `times` times, then `tail`, as concatenated gzip members compressed
/// once each: a huge document that costs little to make.
fn gzip_members(head: &[u8], body: &[u8], times: usize, tail: &[u8]) -> Vec<u8> {
    let member = |bytes: &[u8]| {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::best());
        encoder.write_all(bytes).expect("compress");
        encoder.finish().expect("compress")
    };
    let body = member(body);
    let mut out = member(head);
    for _ in 0..times {
        out.extend_from_slice(&body);
    }
    out.extend_from_slice(&member(tail));
    out
}

/// The array bomb of the issue: ~510 KB of gzip, `[{},{},…]`, about 500 MB decompressed (under
/// the 512 MiB document cap).
fn array_bomb() -> Vec<u8> {
    gzip_members(b"[", &b"{},".repeat(1 << 20), 166, b"{}]")
}

/// A 4 MB gzip bomb: 4 GiB of whitespace (caught by the document cap) or of `[{},{},…`
/// (caught by the record cap).
fn four_mb_bomb(whitespace: bool) -> Vec<u8> {
    if whitespace {
        gzip_members(b" ", &vec![b' '; 1 << 20], 4096, b" ")
    } else {
        gzip_members(b"[", &b"{},".repeat(1 << 20), 1365, b"{}]")
    }
}

const RECORD_CAP: &str =
    "more than 1000000 records in one document: the rest was not read; split it";
const DOCUMENT_CAP: &str = "larger than 536870912 bytes (after decompression); split it";
const RECORD_TOO_LARGE: &str = "larger than 4194304 bytes of JSON, the most a record may be";

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let path = dir.join(name);
    std::fs::write(&path, bytes).expect("write input");
    path.display().to_string()
}

/// `conftrail --data-dir DIR ARGS...`, measured and kept under the bound.
fn measured_conftrail(data_dir: &Path, args: &[&str]) -> Measured {
    let mut command = Command::new(env!("CARGO_BIN_EXE_conftrail"));
    command.arg("--data-dir").arg(data_dir).args(args);
    run_measured(&mut command, BOUND_KB)
}

/// Asserts an ingest exited 3 (records rejected), under the bound, having said `needle`.
fn rejected_within_bound(run: &Measured, needle: &str) {
    assert!(
        !run.killed && run.peak_kb < BOUND_KB,
        "over the memory bound: {}",
        run.describe()
    );
    assert_eq!(run.code, Some(3), "{}", run.describe());
    assert!(
        run.stderr.contains(needle),
        "expected {needle:?}: {}",
        run.describe()
    );
}

#[test]
fn array_bomb_over_the_cli_stays_under_the_memory_bound() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let bomb = write(tmp.path(), "bomb.json.gz", &array_bomb());
    let run = measured_conftrail(&tmp.path().join("data"), &["ingest", &bomb]);
    rejected_within_bound(&run, &format!("error: {bomb}: {RECORD_CAP}"));
    assert!(
        run.stdout.contains("0 items") && run.stdout.contains("1000001 errors"),
        "{}",
        run.describe()
    );
    eprintln!("array bomb, CLI: peak {} MB", run.peak_kb / 1024);
}

#[test]
fn two_gzip_bombs_at_once_over_the_cli_stay_under_the_memory_bound() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let spaces = write(tmp.path(), "spaces.json.gz", &four_mb_bomb(true));
    let array = write(tmp.path(), "array.json.gz", &four_mb_bomb(false));
    let (first, second) = std::thread::scope(|scope| {
        let first =
            scope.spawn(|| measured_conftrail(&tmp.path().join("d1"), &["ingest", &spaces]));
        let second =
            scope.spawn(|| measured_conftrail(&tmp.path().join("d2"), &["ingest", &array]));
        (first.join().expect("first"), second.join().expect("second"))
    });
    rejected_within_bound(&first, &format!("error: {spaces}: {DOCUMENT_CAP}"));
    rejected_within_bound(&second, &format!("error: {array}: {RECORD_CAP}"));
    eprintln!(
        "4 MB gzip bombs at once, CLI: peaks {} MB (whitespace) and {} MB (array)",
        first.peak_kb / 1024,
        second.peak_kb / 1024
    );
}

#[test]
fn one_huge_record_is_refused_at_the_record_limit() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    // One item whose configuration is a 500 MB array of zeros: one line, one record.
    let bomb = gzip_members(
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "b", "configuration": ["#,
        &b"0,".repeat(1 << 20),
        250,
        b"0]}",
    );
    let bomb = write(tmp.path(), "record.json.gz", &bomb);
    let run = measured_conftrail(&tmp.path().join("data"), &["ingest", &bomb]);
    rejected_within_bound(&run, &format!("error: {bomb}: {RECORD_TOO_LARGE}"));
    eprintln!("one huge record, CLI: peak {} MB", run.peak_kb / 1024);
}

#[test]
fn a_large_document_within_the_caps_is_streamed_under_the_memory_bound() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    // 200 MB of CloudTrail `Records`: S3 event notifications, each skipped with a note, so the
    // whole document is parsed without store writes.
    let record = format!(
        r#"{{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put", "s3": {{"bucket": {{"name": "b"}}, "object": {{"key": "{}"}}}}}},"#,
        "k".repeat(380)
    );
    let per_member = 2000;
    let members = 200;
    let bomb = gzip_members(
        br#"{"Records": ["#,
        record.repeat(per_member).as_bytes(),
        members,
        br#"{"eventSource": "aws:s3", "s3": {}}]}"#,
    );
    let bomb = write(tmp.path(), "s3-events.json.gz", &bomb);
    let run = measured_conftrail(&tmp.path().join("data"), &["ingest", &bomb]);
    assert!(
        !run.killed && run.peak_kb < BOUND_KB,
        "over the memory bound: {}",
        run.describe()
    );
    assert_eq!(run.code, Some(0), "{}", run.describe());
    let skipped = per_member * members + 1;
    assert!(
        run.stdout.contains(&format!("{skipped} skipped, 0 errors")),
        "{}",
        run.describe()
    );
    eprintln!(
        "{} MB streamed, CLI: peak {} MB",
        record.len() * skipped / 1_000_000,
        run.peak_kb / 1024
    );
}

/// An item whose configuration is `zeros` zeros: little JSON, a large tree once parsed.
fn zeros_item(id: &str, zeros: usize) -> String {
    format!(
        r#"{{"resourceType": "AWS::S3::Bucket", "resourceId": "{id}", "configuration": {{"z": [{}0]}}}}"#,
        "0,".repeat(zeros)
    )
}

#[test]
fn records_with_large_trees_are_refused_or_recorded_under_the_memory_bound() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    // Eight items just under the memory a record may take once parsed (400,000 numbers, 25.6 MB
    // estimated), four over it (1,000,000 numbers): 16 MB of JSON that would take ~1 GB parsed.
    let items: Vec<String> = (0..12)
        .map(|i| {
            if i % 3 == 2 {
                zeros_item(&format!("over-{i}"), 1_000_000)
            } else {
                zeros_item(&format!("under-{i}"), 400_000)
            }
        })
        .collect();
    let doc = format!("[{}]", items.join(","));
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    encoder.write_all(doc.as_bytes()).expect("compress");
    let path = write(
        tmp.path(),
        "trees.json.gz",
        &encoder.finish().expect("compress"),
    );
    let run = measured_conftrail(&tmp.path().join("data"), &["ingest", &path]);
    rejected_within_bound(
        &run,
        &format!("error: {path}: [2]: takes more than 33554432 bytes of memory once parsed"),
    );
    assert!(
        run.stdout
            .contains("read 1 document: 8 items, 8 new versions")
            && run.stdout.contains("4 errors"),
        "{}",
        run.describe()
    );
    eprintln!("large trees, CLI: peak {} MB", run.peak_kb / 1024);
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(120)))
        .build()
        .into()
}

/// POST /v1/ingest: (status, JSON answer).
fn post_ingest(base: &str, source: &str, body: &[u8]) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{base}/v1/ingest?source={source}"))
        .header("Authorization", format!("Bearer {INGEST}"))
        .send(body)
        .expect("request");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Asserts a report rejected the whole body for `reason`, listed with the source.
fn refused_for(answer: &(u16, Value), source: &str, reason: &str) {
    let (status, body) = answer;
    assert_eq!(*status, 400, "{body}");
    let listed = body["problems"].as_array().is_some_and(|problems| {
        problems
            .iter()
            .any(|p| p["source"] == source && p["reason"] == reason && p["location"] == "")
    });
    assert!(listed, "no {reason:?} for {source}: {}", tail(body));
}

fn tail(body: &Value) -> String {
    let text = body.to_string();
    text[text.len().saturating_sub(2000)..].to_string()
}

#[test]
fn gzip_and_array_bombs_over_http_stay_under_the_memory_bound() {
    let _heavy = heavy();
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&tmp.path().join("data"));
    let pid = server.pid();
    let watchdog = Watchdog::start(pid, BOUND_KB);
    let base = server.base.clone();

    // Two 4 MB gzip bombs at once, while /healthz keeps answering.
    let (spaces, array) = (four_mb_bomb(true), four_mb_bomb(false));
    let mut slowest = Duration::ZERO;
    let (first, second) = std::thread::scope(|scope| {
        let first = scope.spawn(|| post_ingest(&base, "spaces", &spaces));
        let second = scope.spawn(|| post_ingest(&base, "array", &array));
        while !(first.is_finished() && second.is_finished()) {
            let started = Instant::now();
            let status = agent()
                .get(format!("{base}/healthz"))
                .call()
                .map(|r| r.status().as_u16());
            slowest = slowest.max(started.elapsed());
            assert!(matches!(status, Ok(200)), "/healthz: {status:?}");
            std::thread::sleep(Duration::from_millis(50));
        }
        (first.join().expect("first"), second.join().expect("second"))
    });
    // Bodies too large once decompressed are refused whole, as before, without keeping what
    // was decompressed.
    for ((status, body), source) in [(&first, "spaces"), (&second, "array")] {
        assert_eq!(*status, 413, "{body}");
        assert_eq!(body["error"], "tooLarge", "{body}");
        assert_eq!(
            body["message"],
            format!("{source}: {DOCUMENT_CAP}"),
            "{body}"
        );
    }
    assert!(
        slowest < Duration::from_secs(1),
        "/healthz took {slowest:?} while bombs were read"
    );

    // The array bomb of the issue (under the document cap), posted as it is and through the
    // CLI's --server: read up to the record cap.
    let bomb = array_bomb();
    let answer = post_ingest(&base, "bomb", &bomb);
    refused_for(&answer, "bomb", RECORD_CAP);
    assert_eq!(answer.1["errors"], 1_000_001);
    let path = write(tmp.path(), "bomb.json.gz", &bomb);
    let mut command = Command::new(env!("CARGO_BIN_EXE_conftrail"));
    command.args(["--server", &base, "--token", INGEST, "ingest", &path]);
    let client = run_measured(&mut command, BOUND_KB);
    rejected_within_bound(&client, &format!("error: {path}: {RECORD_CAP}"));
    // A file the server refuses whole is one problem of that file, and the next file is read.
    let spaces_path = write(tmp.path(), "spaces.json.gz", &spaces);
    let good = write(
        tmp.path(),
        "good.json",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "after"}"#,
    );
    let mut command = Command::new(env!("CARGO_BIN_EXE_conftrail"));
    command.args([
        "--server",
        &base,
        "--token",
        INGEST,
        "ingest",
        &spaces_path,
        &good,
    ]);
    let client_spaces = run_measured(&mut command, BOUND_KB);
    rejected_within_bound(
        &client_spaces,
        &format!("error: {spaces_path}: {DOCUMENT_CAP}"),
    );
    assert!(
        client_spaces
            .stdout
            .contains("read 2 documents: 1 items, 1 new versions"),
        "{}",
        client_spaces.describe()
    );

    let killed = watchdog.stop();
    let peak = status_kb(pid, "VmHWM").unwrap_or(u64::MAX);
    assert!(
        !killed && peak < BOUND_KB,
        "server over the memory bound: peak {peak} kB"
    );
    // Still serving.
    let mut response = agent()
        .get(format!("{base}/v1/resources"))
        .header("Authorization", format!("Bearer {READ}"))
        .call()
        .expect("request");
    assert_eq!(response.status().as_u16(), 200);
    let _ = response.body_mut().read_to_string();
    eprintln!(
        "bombs over HTTP: server peak {} MB, /healthz slowest {slowest:?}, CLI --server client peak {} MB",
        peak / 1024,
        client.peak_kb / 1024
    );
    server.stop();
}

/// First lines JSON lines writers get wrong, each followed by good lines.
const BAD_FIRST_LINES: [(&str, &[u8]); 6] = [
    ("broken", b"{broken"),
    (
        "cut",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "#,
    ),
    (
        "utf8",
        b"{\"resourceType\": \"AWS::S3::Bucket\", \"resourceId\": \"\xff\xfe\"}",
    ),
    (
        "range",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "r", "configuration": {"n": 1e400}}"#,
    ),
    ("nan", b"NaN"),
    (
        "zero",
        br#"{"resourceType": "AWS::S3::Bucket", "resourceId": "z", "configuration": {"n": 01}}"#,
    ),
];

/// The document: the bad first line, then two good items named after the case.
fn lines_document(name: &str, first: &[u8]) -> Vec<u8> {
    let mut doc = first.to_vec();
    for i in 1..=2 {
        let item = serde_json::json!({"resourceType": "AWS::S3::Bucket",
            "resourceId": format!("{name}-{i}"), "configuration": {"n": i}});
        doc.push(b'\n');
        doc.extend_from_slice(item.to_string().as_bytes());
    }
    doc.push(b'\n');
    doc
}

#[test]
fn json_lines_with_a_bad_first_line_lose_only_that_line() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir(&inputs).expect("mkdir");
    for (name, first) in BAD_FIRST_LINES {
        write(
            &inputs,
            &format!("{name}.jsonl"),
            &lines_document(name, first),
        );
    }
    let data = tmp.path().join("data");
    let out = conftrail(&data, &["ingest", &inputs.display().to_string()]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (name, _) in BAD_FIRST_LINES {
        let path = inputs.join(format!("{name}.jsonl")).display().to_string();
        assert!(
            stderr.contains(&format!("error: {path}: line 1: not valid JSON: ")),
            "{name}: {}",
            describe(&out)
        );
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("read 6 documents: 12 items, 12 new versions")
            && stdout.contains("6 errors"),
        "{}",
        describe(&out)
    );
    let resources = json(&conftrail(&data, &["resources", "--json"]));
    let ids: Vec<&str> = resources["resources"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|r| r["resourceId"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for (name, _) in BAD_FIRST_LINES {
        for i in 1..=2 {
            let id = format!("{name}-{i}");
            assert!(ids.contains(&id.as_str()), "{id} not recorded: {resources}");
        }
    }

    // Over HTTP: the same documents as request bodies.
    let server = Server::start(&tmp.path().join("served"));
    for (name, first) in BAD_FIRST_LINES {
        let (status, body) = post_ingest(&server.base, name, &lines_document(name, first));
        assert_eq!(status, 200, "{name}: {body}");
        assert_eq!(
            (body["items"].as_u64(), body["errors"].as_u64()),
            (Some(2), Some(1)),
            "{name}: {body}"
        );
        assert_eq!(body["problems"][0]["location"], "line 1", "{name}: {body}");
        assert!(
            body["problems"][0]["reason"]
                .as_str()
                .is_some_and(|r| r.starts_with("not valid JSON: ")),
            "{name}: {body}"
        );
    }
    server.stop();
}
