//! Console page benchmark (release): `cargo bench --bench console`.
//!
//! Builds a store with `BENCH_RESOURCES` (100000) security groups, every one judged by the
//! managed rules, plus one of them with `BENCH_VERSIONS` (1000) versions and `BENCH_CALLS`
//! (10000) API calls linked to it; then serves the console in this process on 127.0.0.1 and
//! times whole page requests over real HTTP (`BENCH_ROUNDS`, 20, each): that resource's page,
//! the inventory's first page unfiltered and filtered, and the dashboard. Target: under 50 ms
//! each for the resource page and the inventory.

mod common;

use std::time::{Duration, Instant};

use common::{env_usize, security_group, ACCOUNT};
use conftrail::app::App;
use conftrail::store::Store;
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Items per ingest batch while building the store.
const BATCH: usize = 5_000;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// An API call on group 0, `minutes` after the first version.
fn call(n: usize, minutes: i64, group_id: &str) -> Value {
    let time = chrono::DateTime::from_timestamp(1_735_689_600 + minutes * 60 + (n % 50) as i64, 0)
        .unwrap_or_default();
    json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": ACCOUNT,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/dev-{}", n % 17), "userName": format!("dev-{}", n % 17)},
        "eventTime": conftrail::model::format_time(&time),
        "eventSource": "ec2.amazonaws.com",
        "eventName": if n.is_multiple_of(2) { "AuthorizeSecurityGroupIngress" } else { "RevokeSecurityGroupIngress" },
        "awsRegion": "us-east-1",
        "sourceIPAddress": format!("198.51.100.{}", n % 250),
        "userAgent": "aws-cli/2.15.0",
        "requestParameters": {"groupId": group_id, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 20_000 + n, "toPort": 20_000 + n}]}},
        "responseElements": {"_return": true},
        "requestID": format!("req-{n:08}"),
        "eventID": format!("00000000-0000-4000-8000-{n:012}"),
        "readOnly": false,
        "eventType": "AwsApiCall",
        "recipientAccountId": ACCOUNT,
    })
}

fn ingest(app: &App, body: &Value) {
    let report = app
        .ingest_bytes("bench", body.to_string().as_bytes(), true)
        .expect("ingest");
    assert!(report.problems.is_empty(), "{:?}", report.problems);
}

fn build(app: &App, resources: usize, versions: usize, calls: usize) -> String {
    let started = Instant::now();
    for start in (0..resources).step_by(BATCH) {
        let items: Vec<Value> = (start..(start + BATCH).min(resources))
            .map(|g| security_group(g, 0))
            .collect();
        ingest(app, &json!({ "configurationItems": items }));
    }
    println!(
        "store: {resources} resources judged in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let started = Instant::now();
    let items: Vec<Value> = (1..versions)
        .map(|round| security_group(0, round))
        .collect();
    for chunk in items.chunks(BATCH) {
        ingest(app, &json!({ "configurationItems": chunk }));
    }
    let group_id = security_group(0, 0)["resourceId"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    let per_version = calls.div_ceil(versions.max(1)).max(1);
    let records: Vec<Value> = (0..calls)
        .map(|n| call(n, (n / per_version) as i64 * 60 - 1, &group_id))
        .collect();
    for chunk in records.chunks(BATCH) {
        ingest(app, &json!({ "Records": chunk }));
    }
    println!(
        "store: {group_id} has {versions} versions and {calls} calls ({:.1} s)",
        started.elapsed().as_secs_f64()
    );
    group_id
}

fn time_page(agent: &ureq::Agent, base: &str, label: &str, path: &str, rounds: usize) {
    let mut times = Vec::with_capacity(rounds);
    let mut bytes = 0;
    for _ in 0..rounds {
        let started = Instant::now();
        let mut response = agent.get(format!("{base}{path}")).call().expect("GET");
        let body = response.body_mut().read_to_string().expect("body");
        times.push(started.elapsed());
        assert_eq!(response.status().as_u16(), 200, "{path}: {body}");
        bytes = body.len();
    }
    times.sort();
    println!(
        "{label:<44} p50 {:>6.1} ms  max {:>6.1} ms  ({} KB)",
        percentile(&times, 0.5).as_secs_f64() * 1e3,
        times.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        bytes / 1024
    );
}

fn main() {
    let resources = env_usize("BENCH_RESOURCES", 100_000);
    let versions = env_usize("BENCH_VERSIONS", 1_000);
    let calls = env_usize("BENCH_CALLS", 10_000);
    let rounds = env_usize("BENCH_ROUNDS", 20);
    let tmp = tempfile::tempdir().expect("tempdir");
    let app = App::new(Store::open_with(tmp.path(), 64).expect("store")).expect("app");
    let group_id = build(&app, resources, versions, calls);

    let served = common::serve::Served::start(app);
    let base = served.base.clone();
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into();
    let resource = format!("/resource?type=AWS::EC2::SecurityGroup&id={group_id}");
    time_page(
        &agent,
        &base,
        "resource page (newest 20 versions)",
        &resource,
        rounds,
    );
    time_page(
        &agent,
        &base,
        "resource page, every evaluation",
        &format!("{resource}&all=1"),
        rounds,
    );
    time_page(&agent, &base, "inventory, first page", "/inventory", rounds);
    time_page(
        &agent,
        &base,
        "inventory, type + text filter",
        "/inventory?type=AWS::EC2::SecurityGroup&text=app-0999",
        rounds,
    );
    time_page(
        &agent,
        &base,
        "inventory, tag filter",
        "/inventory?tag=team%3Dops",
        rounds,
    );
    time_page(
        &agent,
        &base,
        "inventory, non-compliant",
        "/inventory?compliance=NON_COMPLIANT",
        rounds,
    );
    time_page(&agent, &base, "dashboard", "/", rounds.min(5));
    served.stop();
}
