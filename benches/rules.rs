//! Rule evaluation benchmark (release): `cargo bench --bench rules`.
//!
//! Measures, with real wasmtime and the committed managed rules:
//! - µs per evaluation of each managed rule on a realistic item, with a reused instance
//!   (the item converted once, as the evaluator does for all rules of one version),
//! - the same for a native Rust restricted-ssh (serde typed parse + check), for comparison,
//! - the cost of converting a recorded item into the rule interface's shape,
//! - evaluations/s of restricted-ssh on 1 and 2 threads (one instance per thread),
//! - evaluations/s through the evaluator (2 workers, verdicts written to a sled store),
//! - a scheduled run of restricted-ssh over 1,000 stored security groups (`BENCH_SCHEDULE_GROUPS`):
//!   the rule work alone and the whole run (store reads, rule, verdict writes).
//!
//! `BENCH_SECTION=schedule` runs only the scheduled-run figures.
//! `BENCH_EVALS` scales the iteration counts; `BENCH_RULE=NAME` measures one managed rule only;
//! `BENCH_EMPTY_ITEM=1` strips the security group (no tags, relationships, permissions) to show
//! the fixed cost of a call.

mod common;

use std::sync::Arc;
use std::time::{Duration, Instant};

use common::security_group;
use conftrail::app::ingest::ingest_bytes;
use conftrail::evaluator::{Evaluator, Job};
use conftrail::ingest::{parse_document, RecordOutcome};
use conftrail::model::ConfigurationItem;
use conftrail::rules::managed::MANAGED_RULES;
use conftrail::rules::registry::inspect;
use conftrail::rules::{
    Limits, Outcome, RuleCall, RuleEngine, RuleInput, RuleInstance, RuleRegistry, Trigger,
};
use conftrail::store::Store;
use serde::Deserialize;

/// The same allocator as the `conftrail` binary, so the figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn evals() -> usize {
    std::env::var("BENCH_EVALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000)
}

fn item_from(value: serde_json::Value) -> ConfigurationItem {
    let bytes = serde_json::to_vec(&value).unwrap_or_default();
    parse_item(&bytes)
}

fn parse_item(bytes: &[u8]) -> ConfigurationItem {
    parse_document(bytes)
        .into_iter()
        .find_map(|r| match r.outcome {
            RecordOutcome::Item(item) => Some(*item),
            _ => None,
        })
        .unwrap_or_else(|| panic!("no item in benchmark input"))
}

fn realdata(path: &str) -> ConfigurationItem {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/realdata/config_items")
        .join(path);
    parse_item(&std::fs::read(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display())))
}

/// The item each rule is measured on.
fn item_for(rule: &str, sg: &ConfigurationItem) -> ConfigurationItem {
    match rule {
        r if r.starts_with("s3-") => realdata("custodian/config__s3-website.json"),
        "ec2-instance-no-public-ip" | "ec2-instance-no-world-open-ssh" => {
            realdata("rdk_example_ci/AWS_EC2_Instance.json")
        }
        "iam-user-mfa-enabled" => realdata("rdk_example_ci/AWS_IAM_User.json"),
        _ => sg.clone(),
    }
}

fn params_for(rule: &str) -> &'static str {
    match rule {
        "required-tags" => r#"{"tag1Key":"team","tag2Key":"env","tag2Value":"prod,dev"}"#,
        "vpc-sg-open-only-to-authorized-ports" => r#"{"authorizedTcpPorts":"443,1020-1025"}"#,
        _ => "{}",
    }
}

/// Native restricted-ssh: the same typed parse the SDK does, run as host code.
mod native {
    use super::Deserialize;

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Group<'a> {
        #[serde(borrow, default)]
        ip_permissions: Vec<Permission<'a>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Permission<'a> {
        #[serde(borrow)]
        ip_protocol: &'a str,
        from_port: Option<i64>,
        to_port: Option<i64>,
        #[serde(borrow, default)]
        ip_ranges: Vec<&'a str>,
        #[serde(borrow, default)]
        ipv4_ranges: Vec<V4<'a>>,
        #[serde(borrow, default)]
        ipv6_ranges: Vec<V6<'a>>,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct V4<'a> {
        #[serde(borrow)]
        cidr_ip: &'a str,
    }

    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct V6<'a> {
        #[serde(borrow)]
        cidr_ipv6: &'a str,
    }

    /// True when port 22 is open to the world.
    pub fn restricted_ssh(configuration: &str) -> bool {
        let Ok(group) = serde_json::from_str::<Group<'_>>(configuration) else {
            return false;
        };
        group.ip_permissions.iter().any(|p| {
            let ports = match p.ip_protocol {
                "-1" | "all" => true,
                "tcp" | "6" => p.from_port.unwrap_or(0) <= 22 && 22 <= p.to_port.unwrap_or(65535),
                _ => false,
            };
            ports
                && (p.ip_ranges.contains(&"0.0.0.0/0")
                    || p.ipv4_ranges.iter().any(|r| r.cidr_ip == "0.0.0.0/0")
                    || p.ipv6_ranges.iter().any(|r| r.cidr_ipv6 == "::/0"))
        })
    }
}

fn per_eval(elapsed: Duration, n: usize) -> f64 {
    elapsed.as_secs_f64() * 1e6 / n as f64
}

fn main() {
    let n = evals();
    let engine = RuleEngine::new().unwrap_or_else(|e| panic!("engine: {e}"));
    if std::env::var("BENCH_SECTION").is_ok_and(|s| s == "schedule") {
        scheduled_run(&engine);
        return;
    }
    let mut sg = item_from(security_group(7, 1));
    if std::env::var("BENCH_EMPTY_ITEM").is_ok() {
        sg.tags.clear();
        sg.relationships.clear();
        sg.arn = None;
        sg.resource_name = None;
        sg.configuration = serde_json::json!({"ipPermissions": []});
    }
    let sg_bytes = sg.configuration.to_string().len();
    println!("rules benchmark: {n} evaluations per figure (BENCH_EVALS), security group configuration {sg_bytes} bytes");

    // Conversion of a recorded item into the interface's shape (once per version).
    let started = Instant::now();
    for _ in 0..n / 10 {
        std::hint::black_box(RuleInput::from_item(std::hint::black_box(&sg)));
    }
    println!(
        "  item conversion (per version, shared by all rules): {:.2} µs",
        per_eval(started.elapsed(), n / 10)
    );

    println!("\nµs per evaluation, reused instance (median of 3 runs):");
    let mut ssh_wasm = 0.0;
    let only = std::env::var("BENCH_RULE").ok();
    for rule in MANAGED_RULES {
        if only.as_deref().is_some_and(|o| o != rule.name) {
            continue;
        }
        let inspected = inspect(&engine, None, rule.wasm).unwrap_or_else(|e| panic!("{e}"));
        let lookup = Arc::new(vec![sg.clone()]);
        let mut instance =
            RuleInstance::new(&engine, &inspected.component, lookup, Limits::default())
                .unwrap_or_else(|e| panic!("{e}"));
        let item = item_for(rule.name, &sg);
        let input = RuleInput::from_item(&item);
        let call = RuleCall {
            rule_name: rule.name,
            parameters: params_for(rule.name),
            trigger: Trigger::Change,
            previous: None,
        };
        let first = instance.evaluate(&call, &input);
        let verdict = match &first.outcome {
            Outcome::Verdict(v) => v.compliance.as_str().to_string(),
            Outcome::Error { reason, .. } => panic!("{}: {reason}", rule.name),
        };
        let count = if rule.name == "restricted-ssh" {
            n
        } else {
            n / 4
        };
        let mut runs: Vec<f64> = (0..3)
            .map(|_| {
                let started = Instant::now();
                for _ in 0..count {
                    std::hint::black_box(instance.evaluate(&call, &input));
                }
                per_eval(started.elapsed(), count)
            })
            .collect();
        runs.sort_by(f64::total_cmp);
        if rule.name == "restricted-ssh" {
            ssh_wasm = runs[1];
        }
        println!(
            "  {:<42} {:>6.2} µs  ({:.2}-{:.2}; {} on {} {}, {} bytes)",
            rule.name,
            runs[1],
            runs[0],
            runs[2],
            verdict,
            item.resource_type,
            item.resource_id,
            item.configuration.to_string().len()
        );
    }

    let configuration = sg.configuration.to_string();
    let mut runs: Vec<f64> = (0..3)
        .map(|_| {
            let started = Instant::now();
            for _ in 0..n {
                std::hint::black_box(native::restricted_ssh(std::hint::black_box(&configuration)));
            }
            per_eval(started.elapsed(), n)
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "  {:<42} {:>6.2} µs  (wasm/native = {:.1}x)",
        "native Rust restricted-ssh (same typed parse)",
        runs[1],
        ssh_wasm / runs[1]
    );

    if only.is_some() {
        return;
    }

    // Throughput on 1 and 2 threads, one instance per thread.
    let ssh = MANAGED_RULES
        .iter()
        .find(|r| r.name == "restricted-ssh")
        .unwrap_or_else(|| panic!("restricted-ssh missing"));
    let component = inspect(&engine, None, ssh.wasm)
        .unwrap_or_else(|e| panic!("{e}"))
        .component;
    println!("\nrestricted-ssh throughput (one instance per thread):");
    for threads in [1usize, 2] {
        let started = Instant::now();
        std::thread::scope(|scope| {
            for _ in 0..threads {
                let engine = engine.clone();
                let component = component.clone();
                let sg = sg.clone();
                scope.spawn(move || {
                    let mut instance = RuleInstance::new(
                        &engine,
                        &component,
                        Arc::new(Vec::<ConfigurationItem>::new()),
                        Limits::default(),
                    )
                    .unwrap_or_else(|e| panic!("{e}"));
                    let input = RuleInput::from_item(&sg);
                    let call = RuleCall {
                        rule_name: "restricted-ssh",
                        parameters: "{}",
                        trigger: Trigger::Change,
                        previous: None,
                    };
                    for _ in 0..n {
                        std::hint::black_box(instance.evaluate(&call, &input));
                    }
                });
            }
        });
        let rate = (threads * n) as f64 / started.elapsed().as_secs_f64();
        println!("  {threads} thread(s): {rate:>10.0} evaluations/s");
    }

    // Through the evaluator: every enabled managed rule in scope, verdicts written to sled.
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let registry = RuleRegistry::open(&store, engine.clone()).unwrap_or_else(|e| panic!("{e}"));
    let groups = (n / 20).max(100);
    let mut jobs = Vec::with_capacity(groups);
    let mut document = Vec::new();
    for g in 0..groups {
        let item = item_from(security_group(g, 1));
        document.push(serde_json::to_value(&item).unwrap_or_default());
        jobs.push(Job {
            item,
            version: 1,
            trigger: Trigger::Change,
        });
    }
    // Record the groups so verdicts refer to real versions.
    let bytes = serde_json::to_vec(&document).unwrap_or_default();
    ingest_bytes(&store, "bench", &bytes).unwrap_or_else(|e| panic!("{e}"));
    for workers in [1usize, 2] {
        let mut evaluator =
            Evaluator::new(&registry, &store, workers).unwrap_or_else(|e| panic!("{e}"));
        let started = Instant::now();
        let counts = evaluator
            .evaluate(jobs.clone())
            .unwrap_or_else(|e| panic!("{e}"));
        let elapsed = started.elapsed();
        println!(
            "evaluator, {workers} worker(s): {} versions x {} rules in scope = {} evaluations in {:.2} s: {:.0} evaluations/s including verdict writes",
            groups,
            counts.evaluations / groups,
            counts.evaluations,
            elapsed.as_secs_f64(),
            counts.evaluations as f64 / elapsed.as_secs_f64()
        );
    }
}

fn median(mut runs: Vec<Duration>) -> Duration {
    runs.sort();
    runs[runs.len() / 2]
}

/// A scheduled evaluation of restricted-ssh over every stored security group, as the worker runs it.
fn scheduled_run(engine: &Arc<RuleEngine>) {
    let groups: usize = std::env::var("BENCH_SCHEDULE_GROUPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let store = Store::open(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let registry = RuleRegistry::open(&store, engine.clone()).unwrap_or_else(|e| panic!("{e}"));
    let items: Vec<ConfigurationItem> = (0..groups)
        .map(|g| item_from(security_group(g, 1)))
        .collect();
    let document: Vec<serde_json::Value> = items
        .iter()
        .map(|i| serde_json::to_value(i).unwrap_or_default())
        .collect();
    let bytes = serde_json::to_vec(&document).unwrap_or_default();
    ingest_bytes(&store, "bench", &bytes).unwrap_or_else(|e| panic!("{e}"));
    println!("\nscheduled run of restricted-ssh over {groups} stored security groups (median of 7 runs):");

    // The rule work: one instance, inputs converted beforehand.
    let rule = MANAGED_RULES
        .iter()
        .find(|r| r.name == "restricted-ssh")
        .unwrap_or_else(|| panic!("restricted-ssh is managed"));
    let inspected = inspect(engine, None, rule.wasm).unwrap_or_else(|e| panic!("{e}"));
    let mut instance = RuleInstance::new(
        engine,
        &inspected.component,
        Arc::new(Vec::<ConfigurationItem>::new()),
        Limits::default(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let inputs: Vec<RuleInput> = items.iter().map(RuleInput::from_item).collect();
    let call = RuleCall {
        rule_name: rule.name,
        parameters: params_for(rule.name),
        trigger: Trigger::Schedule,
        previous: None,
    };
    let rule_only = median(
        (0..7)
            .map(|_| {
                let started = Instant::now();
                for input in &inputs {
                    std::hint::black_box(instance.evaluate(&call, input));
                }
                started.elapsed()
            })
            .collect(),
    );
    println!(
        "  rule work (wasm calls, one thread):             {:>8.2} ms",
        rule_only.as_secs_f64() * 1e3
    );
    let convert = median(
        (0..7)
            .map(|_| {
                let started = Instant::now();
                for item in &items {
                    std::hint::black_box(RuleInput::from_item(item));
                }
                started.elapsed()
            })
            .collect(),
    );
    println!(
        "  item conversion for the rule (one thread):      {:>8.2} ms",
        convert.as_secs_f64() * 1e3
    );
    for workers in [1usize, 2] {
        let mut evaluator =
            Evaluator::new(&registry, &store, workers).unwrap_or_else(|e| panic!("{e}"));
        let whole = median(
            (0..7)
                .map(|_| {
                    let started = Instant::now();
                    let counts = evaluator
                        .evaluate_rule_scope_with("restricted-ssh", Trigger::Schedule)
                        .unwrap_or_else(|e| panic!("{e}"));
                    assert_eq!(counts.evaluations, groups);
                    started.elapsed()
                })
                .collect(),
        );
        println!(
            "  whole run, {workers} worker(s) (read, judge, write):   {:>8.2} ms",
            whole.as_secs_f64() * 1e3
        );
    }
}
