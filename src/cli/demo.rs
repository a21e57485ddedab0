//! `conftrail demo`: records the bundled example data and shows history, diffs, verdicts and
//! the CloudTrail calls behind each change.

use super::render;
use crate::evaluator::{compliance_summary, ComplianceFilter, Evaluator};
use crate::model::parse_time_arg;
use crate::pipeline;
use crate::query::{self, ResourceSelector, VersionSelector};
use crate::store::{HistoryOrder, HistoryQuery, Store};
use anyhow::{Context, Result};
use std::io::Write;
use std::path::Path;

/// The example documents, embedded so the demo runs from any directory.
const EXAMPLES: [(&str, &[u8]); 5] = [
    (
        "examples/data/01-config-snapshot.json",
        include_bytes!("../../examples/data/01-config-snapshot.json"),
    ),
    (
        "examples/data/02-bucket-history-api.json",
        include_bytes!("../../examples/data/02-bucket-history-api.json"),
    ),
    (
        "examples/data/03-notifications.jsonl",
        include_bytes!("../../examples/data/03-notifications.jsonl"),
    ),
    (
        "examples/data/04-config-history-late.json",
        include_bytes!("../../examples/data/04-config-history-late.json"),
    ),
    (
        "examples/data/05-cloudtrail.json",
        include_bytes!("../../examples/data/05-cloudtrail.json"),
    ),
];

const WEB_SG: (&str, &str) = ("AWS::EC2::SecurityGroup", "sg-0a1b2c3d4e5f60718");
/// When, in the example data, SSH was opened to the world.
const SSH_OPENED_AT: &str = "2024-05-02T14:03:12Z";

/// Runs the demo in `data_dir`, or in a temporary directory removed afterwards.
pub fn run(out: &mut impl Write, data_dir: Option<&Path>) -> Result<u8> {
    let temp;
    let dir = match data_dir {
        Some(dir) => dir,
        None => {
            temp = tempfile::Builder::new()
                .prefix("conftrail-demo-")
                .tempdir()
                .context("creating a temporary data directory")?;
            temp.path()
        }
    };
    let store = Store::open(dir)?;
    writeln!(
        out,
        "== Recording the example data into {}, judging every new version with the managed rules ==",
        dir.display()
    )?;
    let registry = super::rules::open_registry(&store)?;
    let mut evaluator = Evaluator::new(&registry, &store, super::rules::worker_count())?;
    for (name, bytes) in EXAMPLES {
        let report = pipeline::ingest_bytes_evaluated(
            &store,
            name,
            bytes,
            &crate::linker::EventMap::builtin(),
            Some(&mut evaluator),
        )?;
        writeln!(out, "{name}: {}", report.summary())?;
        if let Some(line) = report.evaluation_summary() {
            writeln!(out, "  {line}")?;
        }
        for problem in &report.problems {
            writeln!(out, "  {problem}")?;
        }
    }

    writeln!(out, "\n== Resources (latest state) ==")?;
    render::resources_table(out, query::resources(&store, None))?;

    let key = query::resolve(
        &store,
        &ResourceSelector {
            resource_type: WEB_SG.0.to_string(),
            resource_id: WEB_SG.1.to_string(),
            ..Default::default()
        },
    )?;
    writeln!(
        out,
        "\n== History, newest first (version 4 arrived late and sits at its place in time) =="
    )?;
    let page = query::history(
        &store,
        &key,
        &HistoryQuery {
            order: HistoryOrder::Reverse,
            limit: 100,
            ..Default::default()
        },
    )?;
    render::history_table(out, &key, &page)?;

    writeln!(out, "\n== What changed in the latest version ==")?;
    render::diff_text(out, &query::diff(&store, &key, None, None)?)?;

    let at = parse_time_arg(SSH_OPENED_AT).map_err(anyhow::Error::msg)?;
    let opened = query::show(&store, &key, VersionSelector::At(at))?;
    writeln!(out, "\n== The change that opened SSH to the world ==")?;
    render::diff_text(
        out,
        &query::diff(&store, &key, None, opened.version_number())?,
    )?;
    writeln!(
        out,
        "\n== Compliance now (latest verdict per rule and resource) =="
    )?;
    let summary = compliance_summary(
        &store,
        &store.rule_definitions()?,
        &ComplianceFilter::default(),
    )?;
    render::compliance_text(out, &summary, false)?;

    writeln!(
        out,
        "\n== restricted-ssh on the web group over time (opened, then closed again) =="
    )?;
    let mut records = store.verdict_history(&key)?;
    records.retain(|r| r.rule_name == "restricted-ssh");
    render::compliance_history_text(out, &key, &records)?;

    writeln!(
        out,
        "\n== Who changed the web group: each version with the CloudTrail calls that caused it =="
    )?;
    super::events::timeline_text(out, &crate::timeline::timeline(&store, &key)?)?;

    if data_dir.is_none() {
        writeln!(
            out,
            "\nThe demo store was temporary. Keep one to explore: conftrail --data-dir ./demo-data demo, then\n  conftrail --data-dir ./demo-data history {} {}\n  conftrail --data-dir ./demo-data compliance --state NON_COMPLIANT\n  conftrail --data-dir ./demo-data compliance history {} {}\n  conftrail --data-dir ./demo-data events --user dev-alice",
            WEB_SG.0, WEB_SG.1, WEB_SG.0, WEB_SG.1
        )?;
    }
    Ok(0)
}
