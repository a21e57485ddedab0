//! CloudTrail benchmark (release): `cargo bench --bench events`.
//!
//! Measures, on a real sled store in a temporary directory:
//! - ingest throughput of `.json.gz` CloudTrail delivery files (`{"Records": [...]}`, 1,000
//!   records per file, about 1.3 KB per record as AWS writes them), through the same path as
//!   `conftrail ingest DIR`: read, gunzip, parse, map to resources, write with every index;
//! - lookup latency with `BENCH_EVENTS` (default 1,000,000) stored events for selective filters
//!   (a user and an event name; a resource name; an event id), and for a time-ranged page.
//!
//! Records are generated here (1,000 users and roles, 40 API calls, 20,000 security groups) so
//! the benchmark needs nothing outside the repository.

mod common;

use common::env_usize;

use conftrail::app::ingest::ingest_paths;
use conftrail::ingest::{parse_document, RecordOutcome};
use conftrail::linker::EventMap;
use conftrail::store::{EventAttribute, EventQuery, Store, StoredEvent};
use flate2::write::GzEncoder;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The same allocator as the `conftrail` binary, so the figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const RECORDS_PER_FILE: usize = 1000;
const LOOKUPS: usize = 200;

const NAMES: [(&str, &str); 8] = [
    ("ec2.amazonaws.com", "AuthorizeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "RevokeSecurityGroupIngress"),
    ("ec2.amazonaws.com", "DescribeSecurityGroups"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("s3.amazonaws.com", "PutBucketPolicy"),
    ("s3.amazonaws.com", "GetBucketAcl"),
    ("sts.amazonaws.com", "AssumeRole"),
    ("iam.amazonaws.com", "GetUser"),
];

/// A pseudo-random but reproducible number sequence.
fn mix(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^ (x >> 29)
}

fn record(i: u64) -> Value {
    let r = mix(i);
    let (source, name) = NAMES[(r % NAMES.len() as u64) as usize];
    let user = (r >> 8) % 1000;
    let sg = format!("sg-{:017x}", (r >> 20) % 20_000);
    let time = 1_714_521_600_000i64 + (i as i64) * 50; // 20 events per second from 2024-05-01
    let time = chrono::DateTime::from_timestamp_millis(time)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let identity = if user.is_multiple_of(2) {
        json!({"type": "IAMUser", "principalId": format!("AIDA{user:016}"), "arn": format!("arn:aws:iam::111122223333:user/user-{user:04}"),
               "accountId": "111122223333", "accessKeyId": format!("AKIA{user:016}"), "userName": format!("user-{user:04}")})
    } else {
        json!({"type": "AssumedRole", "principalId": format!("AROA{user:016}:session"),
               "arn": format!("arn:aws:sts::111122223333:assumed-role/role-{user:04}/session"), "accountId": "111122223333",
               "accessKeyId": format!("ASIA{user:016}"),
               "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": format!("AROA{user:016}"),
                   "arn": format!("arn:aws:iam::111122223333:role/role-{user:04}"), "accountId": "111122223333", "userName": format!("role-{user:04}")},
                   "attributes": {"creationDate": time, "mfaAuthenticated": "false"}}})
    };
    let request = if source == "s3.amazonaws.com" {
        json!({"bucketName": format!("bucket-{}", (r >> 20) % 2000), "Host": "s3.eu-west-1.amazonaws.com"})
    } else {
        json!({"groupId": sg, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 443, "toPort": 443,
               "ipRanges": {"items": [{"cidrIp": "10.0.0.0/8"}]}, "ipv6Ranges": {}, "prefixListIds": {}, "groups": {}}]}})
    };
    json!({
        "eventVersion": "1.09", "userIdentity": identity, "eventTime": time, "eventSource": source,
        "eventName": name, "awsRegion": "eu-west-1", "sourceIPAddress": format!("198.51.100.{}", user % 250),
        "userAgent": "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.5.0 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard md/installer#exe md/distrib#ubuntu.22 md/prompt#off md/command#ec2.authorize-security-group-ingress",
        "requestParameters": request, "responseElements": {"requestId": format!("{r:032x}"), "_return": true},
        "requestID": format!("{:032x}", r.rotate_left(7)), "eventID": format!("{:08x}-{:04x}-{:04x}-{:012x}", i, r & 0xffff, (r >> 16) & 0xffff, r >> 16 & 0xffff_ffff_ffff),
        "readOnly": name.starts_with("Describe") || name.starts_with("Get"), "eventType": "AwsApiCall",
        "managementEvent": true, "recipientAccountId": "111122223333", "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "ec2.eu-west-1.amazonaws.com"}
    })
}

/// Writes `.json.gz` delivery files for records `from..to`; returns (files, bytes of JSON).
fn write_files(dir: &Path, from: u64, to: u64) -> (Vec<PathBuf>, usize) {
    std::fs::create_dir_all(dir).expect("bench dir");
    let mut files = Vec::new();
    let mut json_bytes = 0;
    let mut start = from;
    while start < to {
        let end = (start + RECORDS_PER_FILE as u64).min(to);
        let records: Vec<Value> = (start..end).map(record).collect();
        let text = serde_json::to_vec(&json!({ "Records": records })).expect("json");
        json_bytes += text.len();
        let path = dir.join(format!(
            "111122223333_CloudTrail_eu-west-1_{start:010}.json.gz"
        ));
        let mut gz = GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&text).expect("gzip");
        std::fs::write(&path, gz.finish().expect("gzip")).expect("write");
        files.push(path);
        start = end;
    }
    (files, json_bytes)
}

/// Events parsed and mapped to resources, as the pipeline's parsing thread hands them over.
fn parse_events(count: u64) -> Vec<StoredEvent> {
    let map = EventMap::builtin();
    let records: Vec<Value> = (0..count).map(|i| record(i + 10_000_000)).collect();
    let doc = serde_json::to_vec(&json!({ "Records": records })).expect("json");
    parse_document(&doc)
        .into_iter()
        .filter_map(|r| match r.outcome {
            RecordOutcome::Event(event) => Some(StoredEvent {
                touched: map.touched(&event),
                event: *event,
            }),
            _ => None,
        })
        .collect()
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index.min(sorted.len() - 1)]
}

fn time_lookups(store: &Store, label: &str, make: impl Fn(usize) -> EventQuery) {
    let mut times = Vec::with_capacity(LOOKUPS);
    let mut found = 0;
    for i in 0..LOOKUPS {
        let query = make(i);
        let start = Instant::now();
        let page = store.lookup_events(&query).expect("lookup");
        times.push(start.elapsed());
        found += page.events.len();
    }
    times.sort();
    println!(
        "  {label:<52} p50 {:>8.1} µs  p99 {:>8.1} µs  ({:.1} events/page)",
        percentile(&times, 0.5).as_secs_f64() * 1e6,
        percentile(&times, 0.99).as_secs_f64() * 1e6,
        found as f64 / LOOKUPS as f64
    );
}

fn main() {
    let total = env_usize("BENCH_EVENTS", 1_000_000) as u64;
    let timed = (env_usize("BENCH_INGEST_EVENTS", 200_000) as u64).min(total);
    let tmp = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&tmp.path().join("data")).expect("store");
    println!("CloudTrail ingest and lookup ({total} events stored; release build)");

    // Timed part: the first `timed` events, from files written beforehand.
    let (files, json_bytes) = write_files(&tmp.path().join("timed"), 0, timed);
    let start = Instant::now();
    let report = ingest_paths(&store, &[tmp.path().join("timed")]).expect("ingest");
    let elapsed = start.elapsed();
    assert_eq!(report.new_events as u64, timed, "{}", report.summary());
    println!(
        "  ingest .json.gz: {timed} events in {} files ({:.0} B/record) in {:.2} s = {:.0} events/s",
        files.len(),
        json_bytes as f64 / timed as f64,
        elapsed.as_secs_f64(),
        timed as f64 / elapsed.as_secs_f64()
    );
    let start = Instant::now();
    let again = ingest_paths(&store, &[tmp.path().join("timed")]).expect("ingest");
    let elapsed = start.elapsed();
    assert_eq!(again.duplicate_events as u64, timed);
    println!(
        "  re-ingest (all duplicates): {:.0} events/s",
        timed as f64 / elapsed.as_secs_f64()
    );
    std::fs::remove_dir_all(tmp.path().join("timed")).ok();

    // Fill up to `total` in chunks, so the files on disk stay small.
    let mut next = timed;
    while next < total {
        let end = (next + 200_000).min(total);
        let dir = tmp.path().join("fill");
        write_files(&dir, next, end);
        ingest_paths(&store, std::slice::from_ref(&dir)).expect("ingest");
        std::fs::remove_dir_all(&dir).ok();
        next = end;
    }

    // The store alone: pre-parsed events written in ingest's batches.
    let parsed = parse_events(timed.min(50_000));
    let fresh = Store::open(&tmp.path().join("store-only")).expect("store");
    let start = Instant::now();
    for batch in parsed.chunks(2048) {
        fresh.put_events(batch).expect("put");
    }
    fresh.flush().expect("flush");
    let elapsed = start.elapsed();
    println!(
        "  store only (parsed events, batches of 2048): {:.0} events/s",
        parsed.len() as f64 / elapsed.as_secs_f64()
    );
    drop(fresh);

    let user_of = |i: usize| format!("user-{:04}", (i * 2) % 1000);
    time_lookups(&store, "user + eventName (selective)", |i| EventQuery {
        filters: vec![
            (EventAttribute::Username, user_of(i)),
            (
                EventAttribute::EventName,
                "AuthorizeSecurityGroupIngress".into(),
            ),
        ],
        limit: 50,
        ..EventQuery::default()
    });
    time_lookups(&store, "resourceName = one security group", |i| {
        EventQuery {
            filters: vec![(
                EventAttribute::ResourceName,
                format!("sg-{:017x}", (i * 97) % 20_000),
            )],
            limit: 50,
            ..EventQuery::default()
        }
    });
    time_lookups(&store, "eventId", |i| EventQuery {
        event_id: Some({
            let n = (i as u64 * 4999) % total;
            record(n)["eventID"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        }),
        limit: 50,
        ..EventQuery::default()
    });
    time_lookups(&store, "user + write-only + 1-hour window", |i| {
        let since = chrono::DateTime::from_timestamp_millis(
            1_714_521_600_000 + (i as i64 % 10) * 3_600_000,
        )
        .unwrap_or_default();
        EventQuery {
            filters: vec![
                (EventAttribute::Username, user_of(i)),
                (EventAttribute::ReadOnly, "false".into()),
            ],
            since: Some(since),
            until: Some(since + chrono::TimeDelta::hours(1)),
            limit: 50,
            ..EventQuery::default()
        }
    });
    time_lookups(&store, "no filter, first page of 50", |_| EventQuery {
        limit: 50,
        ..EventQuery::default()
    });
}
