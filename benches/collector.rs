//! Collector benchmark (release): `cargo bench --bench collector`.
//!
//! Starts a moto server (the tests' virtual environment, `target/moto-venv`, made if missing),
//! seeds `BENCH_GROUPS` (1000) security groups, a tenth of them open to SSH, then measures in
//! this process, on a fresh store with the managed rules:
//! - a full sweep of the groups (list every page, map, record, judge, flush), then a second
//!   sweep where nothing changed;
//! - Cloud Custodian's scan of the same account with a security-group policy (`custodian run
//!   --cache-period 0`, from `pip install c7n` in `target/c7n-venv`, made if missing), as the
//!   issue's yardstick: the same listing, filtered in Python;
//! - re-describe latency: from a CloudTrail record's ingest to the re-described version's
//!   verdict, `BENCH_REDESCRIBES` (20) times (the collector waits 1 s after a call on purpose,
//!   to coalesce bursts; that wait is part of the figure).

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
use conftrail::app::collector::{Collector, CollectorAccount};
use conftrail::app::App;
use conftrail::collector::aws::{AwsClient, ClientSettings, CredentialChain, Endpoints};
use conftrail::model::ResourceKey;
use conftrail::store::Store;

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
        types: vec!["AWS::EC2::SecurityGroup".into()],
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

/// Runs a Custodian security-group policy over the account; its wall time and the groups it
/// matched.
fn custodian_scan(moto: &moto::Moto, work: &Path) -> (Duration, usize) {
    let policy = work.join("policy.yml");
    std::fs::write(
        &policy,
        "policies:\n  - name: sg-open-ssh\n    resource: aws.security-group\n    filters:\n      - type: ingress\n        Ports: [22]\n        Cidr:\n          value: 0.0.0.0/0\n",
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
    let resources: serde_json::Value = serde_json::from_slice(
        &std::fs::read(out.join("sg-open-ssh/resources.json")).expect("custodian resources"),
    )
    .expect("json");
    (took, resources.as_array().map_or(0, Vec::len))
}

fn main() {
    let groups = env_usize("BENCH_GROUPS", 1000);
    let redescribes = env_usize("BENCH_REDESCRIBES", 20);
    let moto = moto::Moto::start();
    let seeded = Instant::now();
    moto.python(&format!(
        "vpc = ec2.describe_vpcs()['Vpcs'][0]['VpcId']\n\
         for i in range({groups}):\n\
         \x20   g = ec2.create_security_group(GroupName=f'bench-{{i}}', Description='bench', VpcId=vpc)['GroupId']\n\
         \x20   port = 22 if i % 10 == 0 else 443\n\
         \x20   ec2.authorize_security_group_ingress(GroupId=g, IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': port, 'ToPort': port, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])\n"
    ));
    println!(
        "seeded {groups} security groups in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = App::new(Store::open(&tmp.path().join("data")).expect("store")).expect("app");
    let client = client(&moto);
    // moto builds its EC2 backend on the first call: not the collector's time.
    let warm = Instant::now();
    moto.python("ec2.describe_security_groups(MaxResults=5)");
    println!("moto warm-up: {:.1} s", warm.elapsed().as_secs_f64());

    let mut sweeps = Vec::new();
    for round in ["first sweep (all new)", "second sweep (unchanged)"] {
        let started = Instant::now();
        let report = app.collect(&client, &request()).expect("sweep");
        let took = started.elapsed();
        let scope = &report.scopes[0];
        assert!(scope.complete, "{scope:?}");
        println!(
            "{round}: {} groups, {} new versions, {} unchanged, {} requests: {:.2} s ({:.0} groups/s)",
            scope.resources,
            scope.new_versions,
            scope.unchanged,
            report.requests,
            took.as_secs_f64(),
            scope.resources as f64 / took.as_secs_f64()
        );
        sweeps.push(took);
    }
    let (custodian_took, matched) = custodian_scan(&moto, tmp.path());
    println!(
        "custodian run (aws.security-group, ingress 22 from 0.0.0.0/0, --cache-period 0): {:.2} s, {matched} groups matched",
        custodian_took.as_secs_f64()
    );

    // Re-describe latency, in process: a collector account for moto, its id known.
    let account = Arc::new(CollectorAccount::new(
        "bench".into(),
        client,
        request(),
        Duration::from_secs(3600),
        None,
    ));
    app.set_collector(Collector::new(vec![account.clone()]));
    app.sweep_account(&account).expect("sweep");
    let ids: Vec<String> = serde_json::from_str(&moto.python(&format!(
        "print(json.dumps([g['GroupId'] for g in ec2.describe_security_groups(Filters=[{{'Name': 'group-name', 'Values': ['bench-{{}}'.format(i) for i in range(1, {})]}}])['SecurityGroups']]))",
        redescribes + 1
    )))
    .expect("ids");
    let worker = {
        let app = app.clone();
        std::thread::spawn(move || {
            let collector = app.collector();
            let deadline = Instant::now() + Duration::from_secs(600);
            while Instant::now() < deadline && Arc::strong_count(&collector) > 1 {
                let _ = app.redescribe_due();
                let next = collector
                    .next_redescribe()
                    .unwrap_or_else(|| Instant::now() + Duration::from_millis(200));
                collector
                    .wake
                    .wait(next.saturating_duration_since(Instant::now()));
            }
        })
    };
    let mut latencies = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        // A port no seeded group opens, so each call changes its group.
        let port = 8000 + i;
        moto.python(&format!(
            "ec2.authorize_security_group_ingress(GroupId='{id}', IpPermissions=[{{'IpProtocol': 'tcp', 'FromPort': {port}, 'ToPort': {port}, 'IpRanges': [{{'CidrIp': '0.0.0.0/0'}}]}}])"
        ));
        let key = ResourceKey::new("123456789012", "us-east-1", "AWS::EC2::SecurityGroup", id);
        let before = app
            .store()
            .latest_state(&key)
            .expect("state")
            .map_or(0, |s| s.latest.version);
        let record = serde_json::json!({"Records": [{
            "eventVersion": "1.08", "eventTime": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "eventSource": "ec2.amazonaws.com", "eventName": "AuthorizeSecurityGroupIngress",
            "awsRegion": "us-east-1", "sourceIPAddress": "203.0.113.7",
            "userIdentity": {"type": "IAMUser", "accountId": "123456789012", "userName": "bench"},
            "requestParameters": {"groupId": id}, "eventID": format!("bench-{i}"),
            "eventType": "AwsApiCall", "readOnly": false, "recipientAccountId": "123456789012"
        }]});
        let started = Instant::now();
        app.ingest_bytes("bench", record.to_string().as_bytes(), true)
            .expect("ingest");
        loop {
            let state = app.store().latest_state(&key).expect("state");
            let version = state.map_or(0, |s| s.latest.version);
            if version > before
                && app
                    .store()
                    .latest_verdict("restricted-ssh", &key)
                    .expect("verdict")
                    .is_some_and(|v| v.configuration_version == version)
            {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no re-describe of {id}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
        latencies.push(started.elapsed());
    }
    app.set_collector(Collector::default());
    drop(app);
    let _ = worker.join();
    latencies.sort();
    let pick = |p: f64| latencies[((latencies.len() - 1) as f64 * p).round() as usize];
    println!(
        "CloudTrail record ingested → re-described version's verdict ({} calls, 1 s coalescing wait included): p50 {:.0} ms, max {:.0} ms",
        latencies.len(),
        pick(0.5).as_secs_f64() * 1000.0,
        pick(1.0).as_secs_f64() * 1000.0
    );
    println!(
        "\n| what | conftrail | Cloud Custodian |\n|---|---|---|\n| full sweep of {groups} security groups on moto (listing + judging) | {:.2} s | {:.2} s |\n| sweep with nothing changed | {:.2} s | — |",
        sweeps[0].as_secs_f64(),
        custodian_took.as_secs_f64(),
        sweeps[1].as_secs_f64()
    );
}
