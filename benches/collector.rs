//! Collector benchmark (release): `cargo bench --bench collector`.
//!
//! Starts a moto server (the tests' virtual environment, `target/moto-venv`, made if missing),
//! seeds `BENCH_GROUPS` (1000) security groups, a tenth of them open to SSH, and
//! `BENCH_BUCKETS` (100) buckets in several states (public ACLs, versioning, encryption, Block
//! Public Access), then measures in this process, on a fresh store with the managed rules:
//! - a full sweep of the groups, the buckets and the account's Block Public Access (list every
//!   page, describe, map, record, judge, flush), then a second sweep where nothing changed
//!   (the rules compiled first, as a fresh store does once and every later run reuses);
//! - Cloud Custodian's scan of the same account with a security-group and a bucket policy
//!   (`custodian run --cache-period 0`, from `pip install c7n` in `target/c7n-venv`, made if
//!   missing), as the issue's yardstick;
//! - re-describe latency, `BENCH_REDESCRIBES` (20) times each: from a CloudTrail record's
//!   ingest to the re-described version's verdict (a live call: the collector waits 1 s to
//!   coalesce bursts); from a trail log file's arrival in the bucket to that verdict, found by
//!   the 1 s poll; and found through an SQS notification with the poll at an hour.

mod common;

use common::env_usize;

#[path = "../tests/common/moto.rs"]
#[allow(dead_code)]
mod moto;

// moto.rs starts servers with it.
#[path = "../tests/common/server.rs"]
#[allow(dead_code)]
mod server;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_credential_types::Credentials;
use conftrail::app::collect::CollectRequest;
use conftrail::app::collector::{AccountTrail, Collector, CollectorAccount};
use conftrail::app::App;
use conftrail::collector::aws::{AwsClient, ClientSettings, CredentialChain, Endpoints};
use conftrail::collector::trail::TrailSource;
use conftrail::model::ResourceKey;
use conftrail::runtime::collector_worker;
use conftrail::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A client of moto, with moto's fixed test credentials and no pacing (moto is local).
fn client(moto: &moto::Moto) -> AwsClient {
    let credentials = CredentialChain::fixed(
        Credentials::new("testing", "testing", None, None, "bench"),
        Some("us-east-1".into()),
    );
    let settings = ClientSettings {
        rates: BTreeMap::new(),
        ..ClientSettings::default()
    };
    AwsClient::new(
        credentials,
        Endpoints {
            configured: Some(moto.url.clone()),
            ..Endpoints::default()
        },
        settings,
    )
}

fn request() -> CollectRequest {
    CollectRequest {
        regions: vec!["us-east-1".into()],
        types: vec![
            "AWS::EC2::SecurityGroup".into(),
            "AWS::S3::AccountPublicAccessBlock".into(),
            "AWS::S3::Bucket".into(),
        ],
        evaluate: true,
    }
}

/// Cloud Custodian's `custodian`, installed into `target/c7n-venv` if missing.
fn custodian() -> std::path::PathBuf {
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/c7n-venv");
    let bin = venv.join("bin/custodian");
    if !bin.exists() {
        let ok = Command::new("python3")
            .args(["-m", "venv"])
            .arg(&venv)
            .status()
            .is_ok_and(|s| s.success())
            && Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "c7n"])
                .status()
                .is_ok_and(|s| s.success());
        assert!(ok, "could not install c7n into {}", venv.display());
    }
    bin
}

/// Runs Custodian's security-group and bucket policies over the account; its wall time and the
/// groups and buckets they matched.
fn custodian_scan(moto: &moto::Moto, work: &Path) -> (Duration, usize, usize) {
    let policy = work.join("policy.yml");
    std::fs::write(
        &policy,
        "policies:\n  - name: sg-open-ssh\n    resource: aws.security-group\n    filters:\n      - type: ingress\n        Ports: [22]\n        Cidr:\n          value: 0.0.0.0/0\n\
         \x20 - name: s3-public-grants\n    resource: aws.s3\n    filters:\n      - type: global-grants\n",
    )
    .expect("write policy");
    let out = work.join("c7n-out");
    let started = Instant::now();
    let run = Command::new(custodian())
        .args(["run", "--cache-period", "0", "-r", "us-east-1", "-s"])
        .arg(&out)
        .arg(&policy)
        .envs(moto.env())
        .output()
        .expect("run custodian");
    let took = started.elapsed();
    assert!(
        run.status.success(),
        "custodian failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let matched = |policy: &str| {
        let resources: serde_json::Value = serde_json::from_slice(
            &std::fs::read(out.join(policy).join("resources.json")).expect("custodian resources"),
        )
        .expect("json");
        resources.as_array().map_or(0, Vec::len)
    };
    (took, matched("sg-open-ssh"), matched("s3-public-grants"))
}

fn main() {
    let groups = env_usize("BENCH_GROUPS", 1000);
    let buckets = env_usize("BENCH_BUCKETS", 100);
    let redescribes = env_usize("BENCH_REDESCRIBES", 20);
    let moto = moto::Moto::start();
    let seeded = Instant::now();
    moto.python(&format!(
        "vpc = ec2.describe_vpcs()['Vpcs'][0]['VpcId']\n\
         for i in range({groups}):\n\
         \x20   g = ec2.create_security_group(GroupName=f'bench-{{i}}', Description='bench', VpcId=vpc)['GroupId']\n\
         \x20   port = 22 if i % 10 == 0 else 443\n\
         \x20   ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': port, 'ToPort': port, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])\n\
         for i in range({buckets}):\n\
         \x20   b = f'bench-bucket-{{i:03}}'\n\
         \x20   s3.create_bucket(Bucket=b)\n\
         \x20   if i % 5 == 0: s3.put_bucket_acl(Bucket=b, ACL='public-read')\n\
         \x20   if i % 3 == 0: s3.put_bucket_versioning(Bucket=b, VersioningConfiguration={{'Status': 'Enabled'}})\n\
         \x20   if i % 2 == 0: s3.put_bucket_encryption(Bucket=b, ServerSideEncryptionConfiguration={{'Rules': [{{'ApplyServerSideEncryptionByDefault': {{'SSEAlgorithm': 'AES256'}}}}]}})\n\
         \x20   if i % 4 == 1: s3.put_public_access_block(Bucket=b, PublicAccessBlockConfiguration={{'BlockPublicAcls': True, 'IgnorePublicAcls': True, 'BlockPublicPolicy': True, 'RestrictPublicBuckets': True}})\n"
    ));
    println!(
        "seeded {groups} security groups and {buckets} buckets in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = App::new(Store::open(&tmp.path().join("data")).expect("store")).expect("app");
    let client = client(&moto);
    // moto builds its backends on the first call: not the collector's time.
    let warm = Instant::now();
    moto.python("ec2.describe_security_groups(MaxResults=5)\ns3.list_buckets()");
    println!("moto warm-up: {:.1} s", warm.elapsed().as_secs_f64());

    // A fresh store compiles the managed rules once (later runs load the compiled artifacts
    // it keeps): a cost of the store's first use, not of sweeping.
    let compiled = Instant::now();
    app.with_evaluator(|_| ()).expect("rules");
    println!(
        "managed rules compiled for the fresh store (once per store): {:.2} s",
        compiled.elapsed().as_secs_f64()
    );
    let mut sweeps = Vec::new();
    for round in ["first sweep (all new)", "second sweep (unchanged)"] {
        let started = Instant::now();
        let report = app.collect(&client, &request()).expect("sweep");
        let took = started.elapsed();
        for scope in &report.scopes {
            assert!(scope.complete, "{scope:?}");
            println!(
                "  {}: {} resources, {} new versions, {} unchanged, {:.2} s",
                scope.resource_type,
                scope.resources,
                scope.new_versions,
                scope.unchanged,
                scope.duration_ms as f64 / 1000.0
            );
        }
        println!(
            "{round}: {} requests: {:.2} s",
            report.requests,
            took.as_secs_f64()
        );
        sweeps.push(took);
    }
    let (custodian_took, groups_matched, buckets_matched) = custodian_scan(&moto, tmp.path());
    println!(
        "custodian run (aws.security-group ingress 22 from 0.0.0.0/0; aws.s3 global-grants; --cache-period 0): {:.2} s, {groups_matched} groups and {buckets_matched} buckets matched",
        custodian_took.as_secs_f64()
    );

    let live = latency_of_live_calls(&app, &moto, redescribes);
    report_latency(
        "CloudTrail record ingested → re-described version's verdict (a live call: 1 s coalescing wait included)",
        live.clone(),
    );
    moto.python("s3.create_bucket(Bucket='bench-trail')\nsqs = boto3.client('sqs')\nsqs.create_queue(QueueName='bench-trail')");
    let polled = latency_of_trail_files(&app, &moto, redescribes, false);
    report_latency(
        "trail log file in the bucket → re-described version's verdict (poll every 1 s)",
        polled.clone(),
    );
    let notified = latency_of_trail_files(&app, &moto, redescribes, true);
    report_latency(
        "trail log file in the bucket + SQS notification → re-described version's verdict (poll every hour)",
        notified.clone(),
    );
    let p50 = |l: &[Duration]| percentile(l, 0.5).as_secs_f64() * 1000.0;
    let max = |l: &[Duration]| percentile(l, 1.0).as_secs_f64() * 1000.0;
    println!(
        "\n| what | conftrail | target |\n|---|---|---|\n\
         | full sweep of {groups} security groups + {buckets} buckets on moto (describe, record, judge) | {:.2} s | ≤ Cloud Custodian's {:.2} s |\n\
         | sweep with nothing changed | {:.2} s | — |\n\
         | live CloudTrail record → verdict, p50 / max | {:.0} / {:.0} ms | — |\n\
         | trail file → verdict, 1 s poll, p50 / max | {:.0} / {:.0} ms | ≤ 2 s + poll = 3000 ms |\n\
         | trail file → verdict, SQS notification, p50 / max | {:.0} / {:.0} ms | ≤ 1000 ms |",
        sweeps[0].as_secs_f64(),
        custodian_took.as_secs_f64(),
        sweeps[1].as_secs_f64(),
        p50(&live),
        max(&live),
        p50(&polled),
        max(&polled),
        p50(&notified),
        max(&notified),
    );
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn report_latency(what: &str, latencies: Vec<Duration>) {
    println!(
        "{what} ({} calls): p50 {:.0} ms, max {:.0} ms",
        latencies.len(),
        percentile(&latencies, 0.5).as_secs_f64() * 1000.0,
        percentile(&latencies, 1.0).as_secs_f64() * 1000.0
    );
}

/// The ids of the seeded groups `bench-1` … `bench-{n}`.
fn bench_group_ids(moto: &moto::Moto, n: usize) -> Vec<String> {
    serde_json::from_str(&moto.python(&format!(
        "print(json.dumps([g['GroupId'] for g in ec2.describe_security_groups(Filters=[{{'Name': 'group-name', 'Values': ['bench-{{}}'.format(i) for i in range(1, {})]}}])['SecurityGroups']]))",
        n + 1
    )))
    .expect("ids")
}

/// A CloudTrail record opening `port` on `group`, made `age` ago.
fn ingress_record(
    group: &str,
    port: usize,
    event_id: &str,
    age: chrono::Duration,
) -> serde_json::Value {
    serde_json::json!({
        "eventVersion": "1.08",
        "eventTime": (chrono::Utc::now() - age).format("%Y-%m-%dT%H:%M:%SZ").to_string(),
        "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
        "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
        "userIdentity": {"type": "IAMUser", "accountId": "123456789012", "userName": "bench"},
        "requestParameters": {"groupId": group, "ipPermissions": {"items": [{"ipProtocol": "tcp",
            "fromPort": port, "toPort": port, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}},
        "eventID": event_id,
        "eventType": "AwsApiCall", "readOnly": false, "recipientAccountId": "123456789012"
    })
}

/// Opens `port` on the group through moto; returns the group's key and its version before.
fn open_port(app: &App, moto: &moto::Moto, group: &str, port: usize) -> (ResourceKey, u64) {
    moto.python(&format!(
        "ec2.authorize_security_group_ingress(GroupId='{group}', IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': {port}, 'ToPort': {port}, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])"
    ));
    let key = ResourceKey::new(
        "123456789012",
        "us-east-1",
        "AWS::EC2::SecurityGroup",
        group,
    );
    let before = app
        .store()
        .latest_state(&key)
        .expect("state")
        .map_or(0, |s| s.latest.version);
    (key, before)
}

/// Waits until a version after `before` of `key` has restricted-ssh's verdict.
fn wait_for_verdict(app: &App, key: &ResourceKey, before: u64, started: Instant) -> Duration {
    loop {
        let state = app.store().latest_state(key).expect("state");
        let version = state.map_or(0, |s| s.latest.version);
        if version > before
            && app
                .store()
                .latest_verdict("restricted-ssh", key)
                .expect("verdict")
                .is_some_and(|v| v.configuration_version == version)
        {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "no re-describe of {}",
            key.resource_id
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

/// The collector's own workers for `account` (the follower, and the queue's when it has one),
/// until the returned flag is set; the account's id learnt first.
fn run_workers(
    app: &App,
    account: Arc<CollectorAccount>,
) -> (Arc<AtomicBool>, Vec<std::thread::JoinHandle<()>>) {
    app.set_collector(Collector::new(vec![account.clone()]));
    app.sweep_account(&account).expect("sweep");
    let stop = Arc::new(AtomicBool::new(false));
    let mut threads = Vec::new();
    {
        let (app, stop) = (app.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            collector_worker::run_follower(&app, &stop)
        }));
    }
    if account
        .trail
        .as_ref()
        .is_some_and(|t| t.queue_url.is_some())
    {
        let (app, stop) = (app.clone(), stop.clone());
        threads.push(std::thread::spawn(move || {
            collector_worker::run_trail_queue(&app, &account, &stop)
        }));
    }
    (stop, threads)
}

fn stop_workers(app: &App, stop: Arc<AtomicBool>, threads: Vec<std::thread::JoinHandle<()>>) {
    stop.store(true, Ordering::SeqCst);
    app.collector().wake.notify();
    for thread in threads {
        let _ = thread.join();
    }
    app.set_collector(Collector::default());
}

/// From a live call's record ingested to the re-described version's verdict.
fn latency_of_live_calls(app: &App, moto: &moto::Moto, n: usize) -> Vec<Duration> {
    let account = Arc::new(CollectorAccount::new(
        "bench".into(),
        client(moto),
        sg_request(),
        Duration::from_secs(3600),
        None,
    ));
    let (stop, threads) = run_workers(app, account);
    let mut latencies = Vec::new();
    for (i, id) in bench_group_ids(moto, n).iter().enumerate() {
        // A port no seeded group opens, so each call changes its group.
        let (key, before) = open_port(app, moto, id, 8000 + i);
        let record = ingress_record(
            id,
            8000 + i,
            &format!("bench-live-{i}"),
            chrono::Duration::zero(),
        );
        let started = Instant::now();
        app.ingest_bytes(
            "bench",
            serde_json::json!({ "Records": [record] })
                .to_string()
                .as_bytes(),
            true,
        )
        .expect("ingest");
        latencies.push(wait_for_verdict(app, &key, before, started));
    }
    stop_workers(app, stop, threads);
    latencies.sort();
    latencies
}

/// From a trail log file's arrival in the bucket (with its SQS notification when `notified`)
/// to the re-described version's verdict. The calls were made 5 minutes before, as CloudTrail
/// delivers them.
fn latency_of_trail_files(app: &App, moto: &moto::Moto, n: usize, notified: bool) -> Vec<Duration> {
    let queue_url = format!("{}/123456789012/bench-trail", moto.url);
    let trail = AccountTrail::new(
        TrailSource {
            bucket: "bench-trail".into(),
            prefix: "AWSLogs/".into(),
            region: "us-east-1".into(),
        },
        if notified {
            Duration::from_secs(3600)
        } else {
            Duration::from_secs(1)
        },
        notified.then(|| queue_url.clone()),
    );
    let account = Arc::new(CollectorAccount::new(
        "bench-trail".into(),
        client(moto),
        sg_request(),
        Duration::from_secs(3600),
        Some(trail),
    ));
    let (stop, threads) = run_workers(app, account);
    let mut latencies = Vec::new();
    let offset = if notified { 9000 } else { 8500 };
    let run = if notified { "q" } else { "p" };
    for (i, id) in bench_group_ids(moto, n).iter().enumerate() {
        let port = offset + i;
        let (key, before) = open_port(app, moto, id, port);
        let record = ingress_record(
            id,
            port,
            &format!("bench-{run}-{i}"),
            chrono::Duration::minutes(5),
        );
        let stamp = chrono::Utc::now().format("%Y%m%dT%H%MZ");
        let file_key = format!(
            "AWSLogs/123456789012/CloudTrail/us-east-1/2026/12/07/123456789012_CloudTrail_us-east-1_{stamp}_{run}{i:04}.json.gz"
        );
        let body = serde_json::json!({ "Records": [record] }).to_string();
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut gz, body.as_bytes()).expect("gzip");
        let gz = gz.finish().expect("gzip");
        // Straight to moto (which routes by the signing scope and checks no signature), so
        // the clock starts as the file arrives.
        let auth = |service: &str| {
            format!("AWS4-HMAC-SHA256 Credential=testing/20261207/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0")
        };
        // Files arrive at any point of the poll's cycle, not in step with it.
        std::thread::sleep(Duration::from_millis((i as u64 * 379) % 1000));
        let started = Instant::now();
        ureq::put(format!("{}/bench-trail/{file_key}", moto.url))
            .header("authorization", auth("s3"))
            .send(&gz[..])
            .expect("put the log file");
        if notified {
            let message =
                serde_json::json!({"Records": [{"s3": {"object": {"key": file_key}}}]}).to_string();
            ureq::post(&moto.url)
                .header("authorization", auth("sqs"))
                .send_form([
                    ("Action", "SendMessage"),
                    ("Version", "2012-11-05"),
                    ("QueueUrl", queue_url.as_str()),
                    ("MessageBody", message.as_str()),
                ])
                .expect("notify");
        }
        latencies.push(wait_for_verdict(app, &key, before, started));
    }
    stop_workers(app, stop, threads);
    latencies.sort();
    latencies
}

fn sg_request() -> CollectRequest {
    CollectRequest {
        types: vec!["AWS::EC2::SecurityGroup".into()],
        ..request()
    }
}
