//! `conftrail rules …` and `conftrail compliance …`.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use serde::Serialize;

use super::backend::{read_rule_file, Backend};
use super::{ResourceArgs, EXIT_RECORDS_REJECTED};
use crate::app::RuleChange;
use crate::config_file::RuleSettings;
use crate::evaluator::{ComplianceFilter, SummaryState};
use crate::ingest::{self, RecordOutcome};
use crate::model::ConfigurationItem;
use crate::model::{with_defaults, TagFilter};
use crate::rules::definition::{check_parameters, parse_parameters};
use crate::rules::registry::inspect;
use crate::rules::{
    AddRule, EvaluationReport, Limits, Outcome, ResourceLookup, RuleCall, RuleEngine, RuleInput,
    RuleInstance, Trigger,
};

/// The `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List managed and custom rules with scope, triggers and version.
    List(JsonFlag),
    /// Run a rule file on items from a file, without a store.
    Test(TestArgs),
    /// Register a custom rule (core module or component) and evaluate everything in its scope.
    Add(AddArgs),
    /// Change a rule's binary or settings and evaluate everything in its scope again.
    Update(UpdateArgs),
    /// Enable a rule and evaluate everything in its scope.
    Enable(NameArgs),
    /// Disable a rule (its verdicts are kept).
    Disable(NameArgs),
    /// Remove a custom rule (its compliance history is kept).
    Remove(NameArgs),
    /// Evaluate a rule periodically on every resource in its scope (`conftrail worker` runs it).
    Schedule(ScheduleArgs),
    /// Create a new rule crate from a template that builds as-is.
    New(NewArgs),
}

/// Arguments of `evaluate`.
#[derive(Debug, Args)]
pub struct EvaluateArgs {
    /// Only this rule (default: every enabled rule).
    #[arg(long)]
    pub rule: Option<String>,
    /// Only resources of this type.
    #[arg(long = "type", value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only the resource with this id.
    #[arg(long = "id", value_name = "ID")]
    pub resource_id: Option<String>,
    /// Print the counts as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs `evaluate`: a manual evaluation of the latest versions in scope.
pub fn run_evaluate(out: &mut dyn Write, backend: &Backend, args: EvaluateArgs) -> Result<u8> {
    let filter = crate::evaluator::ScopeFilter {
        resource_type: args.resource_type,
        resource_id: args.resource_id,
    };
    let counts = backend.evaluate(args.rule.as_deref(), &filter)?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&counts)?)?;
    } else {
        writeln!(out, "{}", counts.summary())?;
    }
    Ok(0)
}

/// Arguments of `rules schedule`.
#[derive(Debug, Args)]
pub struct ScheduleArgs {
    /// Registered rule name.
    pub name: String,
    /// Cron expression, seconds first (`0 */15 * * * *`: every 15 minutes); a five-field
    /// crontab expression is read with seconds 0.
    #[arg(required_unless_present = "clear", conflicts_with = "clear")]
    pub cron: Option<String>,
    /// Remove the schedule.
    #[arg(long)]
    pub clear: bool,
}

/// `--json` alone.
#[derive(Debug, Args)]
pub struct JsonFlag {
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// A rule name.
#[derive(Debug, Args)]
pub struct NameArgs {
    /// Registered rule name.
    pub name: String,
}

/// Trigger names for the CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TriggerArg {
    /// A configuration change.
    Change,
    /// A schedule.
    Schedule,
    /// A manual evaluation.
    Manual,
}

impl From<TriggerArg> for Trigger {
    fn from(t: TriggerArg) -> Trigger {
        match t {
            TriggerArg::Change => Trigger::Change,
            TriggerArg::Schedule => Trigger::Schedule,
            TriggerArg::Manual => Trigger::Manual,
        }
    }
}

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
    #[arg(long, value_enum, default_value_t = TriggerArg::Change)]
    pub trigger: TriggerArg,
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

/// Arguments of `rules add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The rule: a core module built with the SDK, or a component.
    pub wasm: PathBuf,
    /// Name to register it under (default: the rule's own name).
    #[arg(long)]
    pub name: Option<String>,
    /// Resource types in scope, comma-separated (default: the rule's own).
    #[arg(long, value_delimiter = ',')]
    pub resource_types: Option<Vec<String>>,
    /// Only resources with this tag (KEY or KEY=VALUE).
    #[arg(long)]
    pub tag: Option<String>,
    /// Only this resource id.
    #[arg(long)]
    pub resource_id: Option<String>,
    /// Parameters as a JSON object.
    #[arg(long)]
    pub params: Option<String>,
    /// Triggers, comma-separated (default: the rule's own).
    #[arg(long, value_enum, value_delimiter = ',')]
    pub triggers: Option<Vec<TriggerArg>>,
    /// Deadline per evaluation in milliseconds [default: 1000].
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB [default: 64].
    #[arg(long)]
    pub memory_mib: Option<u64>,
    /// Register without enabling (nothing is evaluated).
    #[arg(long)]
    pub disabled: bool,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `rules update`.
#[derive(Debug, Args)]
pub struct UpdateArgs {
    /// Registered rule name.
    pub name: String,
    /// A new binary.
    #[arg(long)]
    pub wasm: Option<PathBuf>,
    /// Resource types in scope, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub resource_types: Option<Vec<String>>,
    /// Only resources with this tag (KEY or KEY=VALUE).
    #[arg(long, conflicts_with = "clear_tag")]
    pub tag: Option<String>,
    /// Drop the tag filter.
    #[arg(long)]
    pub clear_tag: bool,
    /// Only this resource id.
    #[arg(long, conflicts_with = "clear_resource_id")]
    pub resource_id: Option<String>,
    /// Drop the resource id filter.
    #[arg(long)]
    pub clear_resource_id: bool,
    /// Parameters as a JSON object (replaces the old ones).
    #[arg(long)]
    pub params: Option<String>,
    /// Triggers, comma-separated.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub triggers: Option<Vec<TriggerArg>>,
    /// Deadline per evaluation in milliseconds.
    #[arg(long)]
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB.
    #[arg(long)]
    pub memory_mib: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `rules new`.
#[derive(Debug, Args)]
pub struct NewArgs {
    /// Rule (and crate) name, e.g. my-rule.
    pub name: String,
    /// Directory to create (default: ./NAME).
    #[arg(long)]
    pub dir: Option<PathBuf>,
}

/// Arguments of `compliance`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct ComplianceArgs {
    /// Compliance history of one resource.
    #[command(subcommand)]
    pub history: Option<ComplianceCommand>,
    /// Only this rule.
    #[arg(long)]
    pub rule: Option<String>,
    /// Only this resource type.
    #[arg(long = "type", value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Only this state: COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE or INSUFFICIENT_DATA.
    #[arg(long, value_parser = parse_state)]
    pub state: Option<SummaryState>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

fn parse_state(text: &str) -> Result<SummaryState, String> {
    SummaryState::parse(text).ok_or_else(|| {
        format!("unknown state {text:?}: use COMPLIANT, NON_COMPLIANT, NOT_APPLICABLE or INSUFFICIENT_DATA")
    })
}

/// `compliance history`.
#[derive(Debug, Subcommand)]
pub enum ComplianceCommand {
    /// Verdicts over time for one resource, per rule (errors included).
    History(ComplianceHistoryArgs),
}

/// Arguments of `compliance history`.
#[derive(Debug, Args)]
pub struct ComplianceHistoryArgs {
    #[command(flatten)]
    resource: ResourceArgs,
    /// Only this rule.
    #[arg(long)]
    rule: Option<String>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs a `rules` subcommand.
pub fn run_rules(
    out: &mut dyn Write,
    open: impl FnOnce() -> Result<Backend>,
    command: RulesCommand,
) -> Result<u8> {
    match command {
        RulesCommand::Test(args) => return test_rule(out, args),
        RulesCommand::New(args) => {
            let dir = args
                .dir
                .clone()
                .unwrap_or_else(|| PathBuf::from(&args.name));
            super::scaffold::create(&dir, &args.name)?;
            writeln!(
                out,
                "created rule crate {name} in {dir}\nbuild it:  cargo build --release --target wasm32-unknown-unknown --manifest-path {dir}/Cargo.toml\nthen:      conftrail rules test {dir}/target/wasm32-unknown-unknown/release/{file}.wasm --item ITEM.json",
                name = args.name,
                dir = dir.display(),
                file = args.name.replace('-', "_"),
            )?;
            return Ok(0);
        }
        _ => {}
    }
    let backend = open()?;
    match command {
        RulesCommand::List(flag) => {
            let rules = backend.rules()?;
            if flag.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&rules)?)?;
            } else {
                super::render::rules_table(out, &rules)?;
            }
            Ok(0)
        }
        RulesCommand::Add(args) => {
            let wasm = read_rule_file(&args.wasm)?;
            let options = AddRule {
                name: args.name,
                resource_types: args.resource_types,
                tag: args.tag.as_deref().map(TagFilter::parse).transpose()?,
                resource_id: args.resource_id,
                parameters: args.params.as_deref().map(parse_parameters).transpose()?,
                triggers: args
                    .triggers
                    .map(|t| t.into_iter().map(Trigger::from).collect()),
                deadline_ms: args.deadline_ms,
                memory_limit_mib: args.memory_mib,
                disabled: args.disabled,
            };
            report_change(out, "added", &backend.add_rule(&wasm, options)?, args.json)
        }
        RulesCommand::Update(args) => {
            let wasm = args.wasm.as_deref().map(read_rule_file).transpose()?;
            let settings = RuleSettings {
                resource_types: args.resource_types,
                tag: if args.clear_tag {
                    Some(String::new())
                } else {
                    args.tag
                },
                resource_id: if args.clear_resource_id {
                    Some(String::new())
                } else {
                    args.resource_id
                },
                parameters: args.params.as_deref().map(parse_parameters).transpose()?,
                triggers: args
                    .triggers
                    .map(|t| t.into_iter().map(Trigger::from).collect()),
                deadline_ms: args.deadline_ms,
                memory_limit_mib: args.memory_mib,
                ..RuleSettings::default()
            };
            let change = backend.change_rule(&args.name, wasm, &settings)?;
            report_change(out, "updated", &change, args.json)
        }
        RulesCommand::Enable(args) => {
            let settings = RuleSettings {
                enabled: Some(true),
                ..RuleSettings::default()
            };
            let change = backend.change_rule(&args.name, None, &settings)?;
            report_change(out, "enabled", &change, false)
        }
        RulesCommand::Schedule(args) => {
            let settings = RuleSettings {
                schedule: Some(args.cron.clone().unwrap_or_default()),
                ..RuleSettings::default()
            };
            let change = backend
                .change_rule(&args.name, None, &settings)
                .map_err(|e| {
                    anyhow::anyhow!("{}", e.to_string().trim_start_matches(".schedule: "))
                })?;
            let definition = change.rule;
            match definition
                .schedule
                .as_deref()
                .map(crate::scheduler::CronSchedule::parse)
            {
                Some(Ok(s)) => {
                    let next = s
                        .next_after(crate::model::now_millis())
                        .map(|t| crate::model::format_time(&t))
                        .unwrap_or_default();
                    writeln!(
                        out,
                        "scheduled {} at \"{}\" (next run {next}; conftrail worker runs schedules)",
                        definition.name,
                        s.as_str()
                    )?;
                }
                _ => writeln!(out, "schedule of {} cleared", definition.name)?,
            }
            Ok(0)
        }
        RulesCommand::Disable(args) => {
            let settings = RuleSettings {
                enabled: Some(false),
                ..RuleSettings::default()
            };
            backend.change_rule(&args.name, None, &settings)?;
            writeln!(out, "disabled {}", args.name)?;
            Ok(0)
        }
        RulesCommand::Remove(args) => {
            backend.remove_rule(&args.name)?;
            writeln!(
                out,
                "removed {} (its compliance history is kept)",
                args.name
            )?;
            Ok(0)
        }
        RulesCommand::Test(_) | RulesCommand::New(_) => Ok(0),
    }
}

fn report_change(out: &mut dyn Write, what: &str, change: &RuleChange, json: bool) -> Result<u8> {
    let definition = &change.rule;
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(change)?)?;
    } else {
        writeln!(
            out,
            "{what} {} (version {}, revision {})",
            definition.name, definition.metadata.version, definition.revision
        )?;
        if let Some(counts) = &change.evaluations {
            writeln!(out, "evaluated its scope: {}", counts.summary())?;
        }
    }
    Ok(0)
}

/// Reads every configuration item of a file (any shape `ingest` accepts).
fn read_items(path: &Path) -> Result<Vec<ConfigurationItem>> {
    let bytes = ingest::read_document(path).map_err(|e| anyhow::anyhow!(e.reason()))?;
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

fn test_rule(out: &mut dyn Write, args: TestArgs) -> Result<u8> {
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
                trigger: args.trigger.into(),
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

/// Runs `compliance` or `compliance history`.
pub fn run_compliance(out: &mut dyn Write, backend: &Backend, args: ComplianceArgs) -> Result<u8> {
    match args.history {
        Some(ComplianceCommand::History(h)) => {
            let view = backend.resource_compliance(&h.resource.selector(), h.rule.as_deref())?;
            let records = view.history.unwrap_or_default();
            if h.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&records)?)?;
            } else {
                super::render::compliance_history_text(out, &view.resource.key(), &records)?;
            }
        }
        None => {
            // The table leaves out NOT_APPLICABLE verdicts unless they were asked for.
            let show_not_applicable = args.state == Some(SummaryState::NotApplicable);
            let filter = ComplianceFilter {
                rule: args.rule,
                resource_type: args.resource_type,
                state: args.state,
            };
            let summary = backend.compliance(&filter)?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&summary)?)?;
            } else {
                super::render::compliance_text(out, &summary, show_not_applicable)?;
            }
        }
    }
    Ok(0)
}
