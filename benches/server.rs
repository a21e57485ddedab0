//! HTTP server load benchmark (release): `cargo bench --bench server`.
//!
//! Starts the server in this process on 127.0.0.1 (fresh store, managed rules, worker off) and
//! drives it with client threads over real HTTP:
//! - verdict latency: `BENCH_CLIENTS` (4) clients each post one configuration item at a time,
//!   at `BENCH_RATE` (100) items/s in total, `BENCH_LATENCY_ITEMS` (500) each, and poll the
//!   resource's compliance (from the moment the POST starts) until the new version's
//!   restricted-ssh verdict is visible; p50/p99 of that, and of the POST's acknowledgement
//!   (durable: after the disk sync);
//! - ingest throughput: the same clients post batches of `BENCH_BATCH` (500) items as fast as
//!   they can, `BENCH_ITEMS` (20000) in all; items/s with every version judged by every rule,
//!   then the peak resident set of the process (`BENCH_CACHE_MIB`, 64: the store's cache).

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::env_usize;
use common::security_group;
use conftrail::app::App;
use conftrail::store::Store;
use serde_json::{json, Value};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(i).copied().unwrap_or_default()
}

/// An HTTP client that returns error statuses as responses.
fn client() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

fn post(agent: &ureq::Agent, url: &str, body: &[u8]) -> Value {
    let mut response = agent.post(url).send(body).expect("POST");
    assert_eq!(response.status().as_u16(), 200);
    serde_json::from_str(&response.body_mut().read_to_string().expect("body")).expect("json")
}

fn main() {
    let clients = env_usize("BENCH_CLIENTS", 4);
    let rate = env_usize("BENCH_RATE", 100);
    let per_client = env_usize("BENCH_LATENCY_ITEMS", 500);
    let batch = env_usize("BENCH_BATCH", 500);
    let total = env_usize("BENCH_ITEMS", 20_000);
    let tmp = tempfile::tempdir().expect("tempdir");
    let served = common::serve::Served::start(
        App::new(
            Store::open_with(tmp.path(), env_usize("BENCH_CACHE_MIB", 64) as u64).expect("store"),
        )
        .expect("app"),
    );
    let base = Arc::new(served.base.clone());
    println!("server on {base}; {clients} clients");

    // Verdict latency at a moderate rate.
    let interval = Duration::from_secs_f64(clients as f64 / rate as f64);
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let base = base.clone();
            std::thread::spawn(move || {
                let agent = client();
                let mut latencies = Vec::with_capacity(per_client);
                let mut next = Instant::now();
                for round in 0..per_client {
                    std::thread::sleep(next.saturating_duration_since(Instant::now()));
                    next += interval;
                    let item = security_group(c, round + 1);
                    let id = item["resourceId"].as_str().unwrap_or_default().to_string();
                    let body = json!({"configurationItems": [item]}).to_string();
                    let url = format!(
                        "{base}/v1/resources/AWS::EC2::SecurityGroup/{id}/compliance?rule=restricted-ssh&history=false"
                    );
                    let t0 = Instant::now();
                    // The POST answers once the item is durable; the verdict is visible to
                    // readers as soon as it is written, so a reader polls meanwhile.
                    let (visible, acked) = std::thread::scope(|scope| {
                        let posting = scope.spawn(|| {
                            let agent = client();
                            post(&agent, &format!("{base}/v1/ingest"), body.as_bytes());
                            t0.elapsed()
                        });
                        let visible = loop {
                            let mut r = agent.get(&url).call().expect("GET");
                            let v: Value =
                                serde_json::from_str(&r.body_mut().read_to_string().expect("body"))
                                    .expect("json");
                            let seen = v["latest"].as_array().is_some_and(|l| {
                                l.iter().any(|x| {
                                    x["ruleName"] == "restricted-ssh"
                                        && x["configurationVersion"] == round + 1
                                })
                            });
                            if seen {
                                break t0.elapsed();
                            }
                            std::thread::sleep(Duration::from_micros(100));
                        };
                        (visible, posting.join().expect("post"))
                    });
                    latencies.push((visible, acked));
                }
                latencies
            })
        })
        .collect();
    let pairs: Vec<(Duration, Duration)> = handles
        .into_iter()
        .flat_map(|h| h.join().expect("client"))
        .collect();
    let took = started.elapsed();
    let report = |what: &str, mut list: Vec<Duration>| {
        list.sort();
        println!(
            "{what} ({} items at {:.0} items/s): p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
            list.len(),
            list.len() as f64 / took.as_secs_f64(),
            percentile(&list, 0.5).as_secs_f64() * 1e3,
            percentile(&list, 0.99).as_secs_f64() * 1e3,
            list.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
        );
    };
    report(
        "verdict visible through the API",
        pairs.iter().map(|p| p.0).collect(),
    );
    report(
        "POST acknowledged (durable)",
        pairs.iter().map(|p| p.1).collect(),
    );

    // Sustained ingest throughput: batches, as fast as the clients can post.
    let batches_per_client = total / batch / clients;
    let started = Instant::now();
    let handles: Vec<_> = (0..clients)
        .map(|c| {
            let base = base.clone();
            std::thread::spawn(move || {
                let agent = client();
                let mut items = 0;
                for b in 0..batches_per_client {
                    let docs: Vec<Value> = (0..batch)
                        .map(|i| security_group(1000 + c * 100_000 + b * batch + i, 1))
                        .collect();
                    let body = json!({"configurationItems": docs}).to_string();
                    let report = post(&agent, &format!("{base}/v1/ingest"), body.as_bytes());
                    items += report["newVersions"].as_u64().unwrap_or(0);
                }
                items
            })
        })
        .collect();
    let items: u64 = handles.into_iter().map(|h| h.join().expect("client")).sum();
    let took = started.elapsed();
    println!(
        "ingest over HTTP: {items} items in {:.2} s = {:.0} items/s (batches of {batch}, each judged by the managed rules, flushed before the answer)",
        took.as_secs_f64(),
        items as f64 / took.as_secs_f64()
    );
    // The whole process: server, clients and their buffers (the store's cache among it).
    let peak = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(|l| l.trim_start_matches("VmHWM:").trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into());
    println!("peak resident set (VmHWM): {peak}");
    served.stop();
}
