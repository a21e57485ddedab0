//! The collector reading a CloudTrail trail's S3 delivery against a real moto server
//! (`moto[server]` from PyPI, see tests/common/moto.rs). moto writes no CloudTrail logs: the
//! tests write log files into a moto bucket in CloudTrail's own layout and format.

mod common;

use common::moto::{trail_record, Moto, ACCOUNT};
use common::server::{timeline_versions, Server, READ};
use serde_json::{json, Value};
use std::time::Duration;

const SG: &str = "AWS::EC2::SecurityGroup";
const BUCKET: &str = "trail-logs";

/// The key CloudTrail gives a log file of us-east-1 for 2026-12-07 at `hhmm`.
fn log_key(hhmm: &str, tag: &str) -> String {
    format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/07/{ACCOUNT}_CloudTrail_us-east-1_20261207T{hhmm}Z_{tag}.json.gz"
    )
}

/// Writes log files (key → records) gzipped into the trail bucket, in one Python run.
fn put_log_files(moto: &Moto, files: &[(String, Vec<Value>)]) {
    let files: Vec<Value> = files
        .iter()
        .map(|(key, records)| json!([key, json!({ "Records": records }).to_string()]))
        .collect();
    // Through a file: a large batch does not fit on a command line.
    let batch = tempfile::NamedTempFile::new().expect("temp file");
    std::fs::write(batch.path(), Value::from(files).to_string()).expect("write batch");
    let script = format!(
        "import gzip\nfor key, body in json.load(open({:?})):\n    s3.put_object(Bucket='{BUCKET}', Key=key, Body=gzip.compress(body.encode()))",
        batch.path().to_str().expect("utf8")
    );
    moto.python(&script);
}

fn ingress_record(group: &str, event_id: &str) -> Value {
    let parameters = json!({"groupId": group, "ipPermissions": {"items": [{"ipProtocol": "tcp",
        "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}});
    trail_record(
        "ec2.amazonaws.com",
        "AuthorizeSecurityGroupIngress",
        parameters,
        json!({"responseElements": {"_return": true}}),
        event_id,
    )
}

/// A read-only call, which nothing follows up.
fn describe_record(event_id: &str) -> Value {
    trail_record(
        "ec2.amazonaws.com",
        "DescribeInstances",
        json!({"instancesSet": {}}),
        json!({"readOnly": true}),
        event_id,
    )
}

/// Polls the collector's status until `done` holds (a minute at most).
fn wait_status(server: &Server, what: &str, done: impl Fn(&Value) -> bool) -> Value {
    server.wait_json("/v1/collector/status", what, done)
}

fn files_read(status: &Value) -> u64 {
    status["trails"][0]["filesRead"].as_u64().unwrap_or(0)
}

fn config(extra_trail: &str) -> String {
    format!(
        "[collector]\ninterval = \"1h\"\n\n[[collector.accounts]]\nname = \"sandbox\"\nregions = [\"us-east-1\"]\ntypes = [\"{SG}\"]\n\n\
         [collector.accounts.trail]\nbucket = \"{BUCKET}\"\n{extra_trail}"
    )
}

#[test]
fn a_call_in_a_new_trail_file_gets_its_group_described_again_and_no_file_is_read_twice() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let group = moto.python(&format!(
        "s3.create_bucket(Bucket='{BUCKET}')\n\
         vpc = ec2.describe_vpcs()['Vpcs'][0]['VpcId']\n\
         print(ec2.create_security_group(GroupName='web', Description='web', VpcId=vpc)['GroupId'])"
    ));
    let server = moto.serve(dir.path(), &config("poll = \"1s\"\n"));
    wait_status(&server, "the first sweep", |s| {
        s["accounts"][0]["sweeps"].as_u64() >= Some(1)
    });

    // mallory opens SSH; CloudTrail delivers the record, with another file beside it that is
    // not a log file.
    moto.python(&format!(
        "ec2.authorize_security_group_ingress(GroupId='{group}', IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': 22, 'ToPort': 22, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])\n\
         s3.put_object(Bucket='{BUCKET}', Key='AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2026/12/07/README.txt', Body=b'not a log')"
    ));
    let opened = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0";
    put_log_files(
        &moto,
        &[(log_key("1005", "a1"), vec![ingress_record(&group, opened)])],
    );
    let timeline_path = format!("/v1/resources/{SG}/{group}/timeline");
    let timeline = server.wait_json(&timeline_path, "a second version", |t| {
        timeline_versions(t).len() == 2
    });
    let latest = &timeline_versions(&timeline)[1];
    assert!(
        latest["apiCalls"]
            .as_array()
            .is_some_and(|calls| calls.iter().any(|c| c["eventID"] == opened)),
        "the new version is linked to the call in the trail file: {latest}"
    );
    let (_, body) = server.request(
        READ,
        "GET",
        &format!("/v1/resources/{SG}/{group}/compliance"),
        None,
    );
    assert!(body.contains("NON_COMPLIANT"), "{body}");

    // A file that is not JSON is reported and passed; the file after it is read too; none is
    // read again on the next looks.
    moto.python(&format!(
        "import gzip\ns3.put_object(Bucket='{BUCKET}', Key='{}', Body=gzip.compress(b'{{\"Records\": [not json'))",
        log_key("1007", "broken")
    ));
    let described = "1c2d3e4f-5061-7283-94a5-b6c7d8e9f0a1";
    put_log_files(
        &moto,
        &[(log_key("1010", "b2"), vec![describe_record(described)])],
    );
    let status = wait_status(&server, "the two later files", |s| files_read(s) == 3);
    let trail = &status["accounts"][0]["trail"];
    assert_eq!(trail["rejected"], 1, "{status}");
    assert!(
        trail["lastRejected"]
            .as_str()
            .is_some_and(|p| p.contains("_broken.json.gz")),
        "the rejected file is named: {status}"
    );
    let cursor = &status["trails"][0];
    assert_eq!(cursor["accountId"], ACCOUNT, "{status}");
    assert_eq!(cursor["lastFile"], log_key("1010", "b2"), "{status}");
    assert_eq!(
        status["accounts"][0]["trail"]["location"],
        format!("s3://{BUCKET}/AWSLogs/")
    );
    std::thread::sleep(Duration::from_secs(3));
    let (_, metrics) = server.request(READ, "GET", "/metrics", None);
    assert!(
        metrics.contains("conftrail_collector_trail_files_total{outcome=\"read\"} 3\n"),
        "{metrics}"
    );
    let (_, events) = server.request(
        READ,
        "GET",
        &format!("/v1/events?eventId={described}"),
        None,
    );
    assert!(events.contains("DescribeInstances"), "{events}");
    server.stop();
}

#[test]
fn a_restart_during_a_trail_read_resumes_at_its_cursor() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    moto.python(&format!("s3.create_bucket(Bucket='{BUCKET}')"));
    // 300 files of 20 events: long enough a read to stop it halfway.
    const FILES: usize = 300;
    const PER_FILE: usize = 20;
    let files: Vec<(String, Vec<Value>)> = (0..FILES)
        .map(|f| {
            let records = (0..PER_FILE)
                .map(|e| describe_record(&format!("00000000-0000-4000-8000-{f:06}{e:06}")))
                .collect();
            (
                log_key(&format!("{:02}{:02}", f / 60, f % 60), &format!("f{f:03}")),
                records,
            )
        })
        .collect();
    put_log_files(&moto, &files);

    let server = moto.serve(dir.path(), &config("poll = \"1s\"\n"));
    let before = files_read(&wait_status(&server, "some files read", |s| {
        files_read(s) >= 10
    }));
    eprintln!("{before} of {FILES} files read at the kill");
    // SIGKILL, mid-read.
    drop(server);
    assert!(
        before < FILES as u64,
        "every file was read before the kill ({before}): the restart was not tested"
    );

    let server = moto.serve(dir.path(), &config("poll = \"1s\"\n"));
    let status = wait_status(&server, "every file read after the restart", |s| {
        files_read(s) == FILES as u64
    });
    assert_eq!(status["trails"][0]["lastFile"], log_key("0459", "f299"));
    let (_, metrics) = server.request(READ, "GET", "/metrics", None);
    let read_now: u64 = metrics
        .lines()
        .find_map(|l| l.strip_prefix("conftrail_collector_trail_files_total{outcome=\"read\"} "))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{metrics}"));
    // The restart read only what the cursor had not (at least `before` files were behind it
    // at the kill; the one file in flight may be read again), and every file was marked read
    // exactly once (the cursor's count above).
    let at_most = FILES as u64 - before + 1;
    assert!(
        (1..=at_most).contains(&read_now),
        "read {read_now} after the restart; at most {at_most} were left"
    );
    server.stop();
    // Every event is stored exactly once.
    let out = moto.conftrail(&dir.path().join("data"), &["events", "--json"]);
    let events: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", common::describe(&out)));
    let events = events["Events"].as_array().expect("events");
    let ids: std::collections::BTreeSet<&str> = events
        .iter()
        .filter_map(|e| e["EventId"].as_str())
        .collect();
    assert_eq!(ids.len(), FILES * PER_FILE);
    assert_eq!(events.len(), FILES * PER_FILE);
}

#[test]
fn a_queue_notification_has_the_trail_read_at_once() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let queue = moto.python(&format!(
        "s3.create_bucket(Bucket='{BUCKET}')\n\
         sqs = boto3.client('sqs')\n\
         print(sqs.create_queue(QueueName='trail-files')['QueueUrl'])"
    ));
    // Looks every hour: only the notification can make it read in time.
    let server = moto.serve(
        dir.path(),
        &config(&format!("poll = \"1h\"\nqueue_url = \"{queue}\"\n")),
    );
    let first = wait_status(&server, "the first look", |s| {
        s["accounts"][0]["trail"]["lastLookAt"].is_string()
    });
    assert_eq!(files_read(&first), 0, "{first}");
    let event = "2d3e4f50-6172-8394-a5b6-c7d8e9f0a1b2";
    let key = log_key("1105", "q1");
    put_log_files(&moto, &[(key.clone(), vec![describe_record(event)])]);
    // S3's notification of the new object, as the bucket would send it.
    let notification = json!({"Records": [{"eventSource": "aws:s3", "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": BUCKET}, "object": {"key": key}}}]});
    moto.python(&format!(
        "sqs = boto3.client('sqs')\nsqs.send_message(QueueUrl='{queue}', MessageBody={:?})",
        notification.to_string()
    ));
    let status = wait_status(&server, "the notified file", |s| files_read(s) == 1);
    assert_eq!(status["accounts"][0]["trail"]["notifiedByQueue"], true);
    let (_, events) = server.request(READ, "GET", &format!("/v1/events?eventId={event}"), None);
    assert!(events.contains("DescribeInstances"), "{events}");
    // The message was taken off the queue.
    let left = moto.python(&format!(
        "sqs = boto3.client('sqs')\nprint(sqs.get_queue_attributes(QueueUrl='{queue}', AttributeNames=['All'])['Attributes']['ApproximateNumberOfMessages'])"
    ));
    assert_eq!(left, "0");
    server.stop();
}
