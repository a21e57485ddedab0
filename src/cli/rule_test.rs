//! `rules test`: a rule binary judged against items from a file, in this process, no store.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use clap::Args;
use serde::Serialize;

use super::backend::read_rule_file;
use super::EXIT_RECORDS_REJECTED;
use crate::ingest::{self, RecordOutcome};
use crate::model::with_defaults;
use crate::model::ConfigurationItem;
use crate::rules::definition::{check_parameters, parse_parameters};
use crate::rules::registry::inspect;
use crate::rules::{
    EvaluationReport, Limits, Outcome, ResourceLookup, RuleCall, RuleEngine, RuleInput,
    RuleInstance, Trigger,
};

/// Arguments of `rules test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// The rule: a core module built with the SDK, or a component.
    pub wasm: PathBuf,
    /// Configuration items to judge (any shape `ingest` reads; every item in the file is judged).
    #[arg(long, required = true)]
    pub item: PathBuf,
    /// Parameters as a JSON object, e.g. '{"blockedPort1":"22"}' (defaults fill the rest).
    #[arg(long)]
    pub params: Option<String>,
    /// The previous version of the item (passed as context.previous).
    #[arg(long)]
    pub previous: Option<PathBuf>,
    /// Other resources the rule may look up (cross-resource rules); repeatable.
    #[arg(long = "resource", value_name = "FILE")]
    pub resources: Vec<PathBuf>,
    /// The trigger to pretend.
    #[arg(long, value_enum, default_value_t = Trigger::Change)]
    pub trigger: Trigger,
    /// Deadline per evaluation in milliseconds.
    #[arg(long, default_value_t = 1000)]
    pub deadline_ms: u64,
    /// Memory cap in MiB.
    #[arg(long, default_value_t = 64)]
    pub memory_mib: u64,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Reads every configuration item of a file (any shape `ingest` accepts).
fn read_items(path: &Path) -> Result<Vec<ConfigurationItem>> {
    let bytes = ingest::read_document(path).map_err(|e| anyhow::anyhow!("{e}"))?;
    let mut items = Vec::new();
    for record in ingest::parse_document(&bytes) {
        match record.outcome {
            RecordOutcome::Item(item) => items.push(*item),
            RecordOutcome::Skipped(_) | RecordOutcome::Event(_) => {}
            RecordOutcome::Invalid(reason) => {
                anyhow::bail!("{}: {}: {reason}", path.display(), record.location)
            }
        }
    }
    if items.is_empty() {
        anyhow::bail!("{}: no configuration item found", path.display());
    }
    Ok(items)
}

/// The result of `rules test` for one item.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TestResult {
    resource_type: String,
    resource_id: String,
    #[serde(flatten)]
    report: EvaluationReport,
}

/// Runs `rules test`.
pub fn test_rule(out: &mut dyn Write, args: TestArgs) -> Result<u8> {
    let wasm = read_rule_file(&args.wasm)?;
    let engine = RuleEngine::new()?;
    let inspected = inspect(&engine, None, &wasm)?;
    let given = args.params.as_deref().map(parse_parameters).transpose()?;
    let parameters = check_parameters(&inspected.metadata, given.unwrap_or_default())?;
    let definition_params = with_defaults(&inspected.metadata, parameters);
    let items = read_items(&args.item)?;
    let previous = match &args.previous {
        Some(path) => read_items(path)?
            .into_iter()
            .next()
            .map(|p| RuleInput::from_item(&p)),
        None => None,
    };
    let mut others = Vec::new();
    for path in &args.resources {
        others.extend(read_items(path)?);
    }
    let lookup: Arc<dyn ResourceLookup> = Arc::new(others);
    let limits = Limits {
        deadline: std::time::Duration::from_millis(args.deadline_ms.max(1)),
        memory: (args.memory_mib.max(1) as usize) << 20,
    };
    let mut instance = RuleInstance::new(&engine, &inspected.component, lookup.clone(), limits)?;
    let mut results = Vec::new();
    for item in &items {
        if !instance.is_usable() {
            instance = RuleInstance::new(&engine, &inspected.component, lookup.clone(), limits)?;
        }
        let report = instance.evaluate(
            &RuleCall {
                rule_name: &inspected.metadata.name,
                parameters: &definition_params,
                trigger: args.trigger,
                previous: previous.as_ref(),
            },
            &RuleInput::from_item(item),
        );
        results.push(TestResult {
            resource_type: item.resource_type.clone(),
            resource_id: item.resource_id.clone(),
            report,
        });
    }
    let failed = results
        .iter()
        .any(|r| matches!(r.report.outcome, Outcome::Error { .. }));
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&results)?)?;
    } else {
        for r in &results {
            super::render::evaluation_text(out, &r.resource_type, &r.resource_id, &r.report)?;
        }
    }
    Ok(if failed { EXIT_RECORDS_REJECTED } else { 0 })
}
