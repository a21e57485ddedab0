//! Recorder benchmark (release): `cargo bench --bench recorder`.
//!
//! Measures, on a real sled store in a temporary directory:
//! - ingest throughput of changed items (1.5 KB security groups, each a new version),
//! - ingest throughput of unchanged re-deliveries,
//! - time of a 100-item history page on a resource with 10,000 versions,
//! - bytes on disk per version.
//!
//! Items follow the shape of `shared/bench/gen_security_groups.py` (legacy `ipRanges` strings,
//! `ipv4Ranges`, `ipv6Ranges`, protocol `-1` without ports), generated here so the benchmark
//! needs nothing outside the repository. `BENCH_GROUPS` and `BENCH_ROUNDS` scale it.

use conftrail::app::ingest::{ingest_bytes, ingest_paths};
use conftrail::query;
use conftrail::store::{HistoryOrder, HistoryQuery, Store};
mod common;

use common::env_usize;
use common::security_group;
use serde_json::Value;
use std::time::{Duration, Instant};

/// The same allocator as the `conftrail` binary, so the figures match it.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const ITEMS_PER_DOCUMENT: usize = 1000;
const HISTORY_VERSIONS: usize = 10_000;
const HISTORY_PAGE: usize = 100;
const PAGE_REPEATS: usize = 300;
/// Runs per throughput figure; the median is reported with the range.
const REPEATS: usize = 3;

/// Documents of [`ITEMS_PER_DOCUMENT`] items each, as JSON bytes (serialised before timing).
fn documents(items: impl Iterator<Item = Value>) -> (Vec<Vec<u8>>, usize, usize) {
    let mut docs = Vec::new();
    let mut batch = Vec::new();
    let (mut count, mut bytes) = (0, 0);
    for item in items {
        let text = item.to_string();
        bytes += text.len();
        count += 1;
        batch.push(text);
        if batch.len() == ITEMS_PER_DOCUMENT {
            docs.push(format!("[{}]", batch.join(",")).into_bytes());
            batch.clear();
        }
    }
    if !batch.is_empty() {
        docs.push(format!("[{}]", batch.join(",")).into_bytes());
    }
    (docs, count, bytes)
}

fn ingest_all(store: &Store, docs: &[Vec<u8>]) -> (Duration, conftrail::app::ingest::IngestReport) {
    let mut total = conftrail::app::ingest::IngestReport::default();
    let start = Instant::now();
    for doc in docs {
        let r = ingest_bytes(store, "bench", doc).expect("ingest");
        total.items += r.items;
        total.new_versions += r.new_versions;
        total.unchanged += r.unchanged;
        total.errors += r.errors;
    }
    (start.elapsed(), total)
}

fn dir_bytes(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| match e.metadata() {
                    Ok(m) if m.is_dir() => dir_bytes(&e.path()),
                    Ok(m) => m.len(),
                    Err(_) => 0,
                })
                .sum()
        })
        .unwrap_or(0)
}

/// "median (min–max)" of a few measurements.
fn spread(values: &mut [f64]) -> String {
    values.sort_by(|a, b| a.total_cmp(b));
    format!(
        "{:.0} ({:.0}-{:.0})",
        values[values.len() / 2],
        values[0],
        values[values.len() - 1]
    )
}

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is accepted and ignored.
    let groups = env_usize("BENCH_GROUPS", 2_000);
    let rounds = env_usize("BENCH_ROUNDS", 10);
    println!("conftrail recorder benchmark ({groups} security groups x {rounds} rounds, {ITEMS_PER_DOCUMENT} items per document)");

    // As `conftrail ingest DIR`: files on disk, one flush at the end. Each figure is the median
    // of REPEATS runs on fresh stores: this machine's timing varies from run to run.
    let inputs = tempfile::tempdir().expect("tempdir");
    let (changed_docs, n, bytes) =
        documents((0..rounds).flat_map(|r| (0..groups).map(move |g| security_group(g, r))));
    for (i, doc) in changed_docs.iter().enumerate() {
        std::fs::write(inputs.path().join(format!("doc-{i:04}.json")), doc).expect("write input");
    }
    let paths = [inputs.path().to_path_buf()];
    let (mut changed, mut unchanged, mut flushed, mut disk) = (vec![], vec![], vec![], vec![]);
    for _ in 0..REPEATS {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open store");
        let start = Instant::now();
        let report = ingest_paths(&store, &paths).expect("ingest");
        changed.push(n as f64 / start.elapsed().as_secs_f64());
        assert_eq!(
            (report.new_versions, report.errors),
            (n, 0),
            "every item must be a new version"
        );
        let start = Instant::now();
        let report = ingest_paths(&store, &paths).expect("ingest");
        unchanged.push(n as f64 / start.elapsed().as_secs_f64());
        assert_eq!(report.unchanged, n, "every re-delivery must be unchanged");
        disk.push(dir_bytes(dir.path()) as f64 / n as f64);
        drop(store);

        // As acknowledged batch requests: every document flushed before the next.
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("open store");
        let (elapsed, report) = ingest_all(&store, &changed_docs);
        assert_eq!(report.new_versions, n);
        flushed.push(n as f64 / elapsed.as_secs_f64());
    }
    println!(
        "items: {n} security groups of {:.0} bytes on average, in {} files of {ITEMS_PER_DOCUMENT}",
        bytes as f64 / n as f64,
        changed_docs.len()
    );
    println!(
        "changed items:     {} items/s (ingest of the files, one flush at the end)",
        spread(&mut changed)
    );
    println!(
        "unchanged items:   {} items/s (the same files again)",
        spread(&mut unchanged)
    );
    println!("changed, flushed:  {} items/s (each {ITEMS_PER_DOCUMENT}-item document flushed, as an acknowledged request)", spread(&mut flushed));
    println!(
        "bytes on disk:     {} per version (whole data directory)",
        spread(&mut disk)
    );

    // One resource with HISTORY_VERSIONS versions.
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(dir.path()).expect("open store");
    let (docs, _, _) = documents((0..HISTORY_VERSIONS).map(|r| security_group(0, r)));
    let (_, report) = ingest_all(&store, &docs);
    assert_eq!(report.new_versions, HISTORY_VERSIONS);
    let key = query::resources(&store, None)
        .next()
        .expect("one resource")
        .expect("read");
    let key = conftrail::model::ResourceKey::new(
        key.account_id,
        key.aws_region,
        key.resource_type,
        key.resource_id,
    );
    let mut timings = Vec::with_capacity(PAGE_REPEATS);
    let mut middle = None;
    for i in 0..PAGE_REPEATS {
        // Alternate the newest page and a page from the middle of the history (via its token).
        let q = HistoryQuery {
            order: HistoryOrder::Reverse,
            limit: HISTORY_PAGE,
            after: if i % 2 == 1 { middle } else { None },
            ..Default::default()
        };
        let start = Instant::now();
        let page = query::history(&store, &key, &q).expect("history");
        timings.push(start.elapsed());
        assert_eq!(page.configuration_items.len(), HISTORY_PAGE);
        if middle.is_none() {
            // Walk to the middle once to get a token there.
            let mut token = None;
            for _ in 0..(HISTORY_VERSIONS / HISTORY_PAGE / 2) {
                let p = store
                    .history(
                        &key,
                        &HistoryQuery {
                            order: HistoryOrder::Reverse,
                            limit: HISTORY_PAGE,
                            after: token,
                            ..Default::default()
                        },
                    )
                    .expect("walk");
                token = p.next;
            }
            middle = token;
        }
    }
    timings.sort();
    let pct = |p: f64| timings[((timings.len() - 1) as f64 * p) as usize].as_secs_f64() * 1e3;
    println!(
        "history page:      {HISTORY_PAGE} of {HISTORY_VERSIONS} versions: median {:.3} ms, p99 {:.3} ms (full items decoded and serialisable)",
        pct(0.5),
        pct(0.99)
    );
}
