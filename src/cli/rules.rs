//! `conftrail rules …` and `conftrail compliance …`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::backend::{read_rule_file, Backend};
use crate::app::RuleChange;
use crate::config_file::RuleSettings;
use crate::model::TagFilter;
use crate::rules::definition::parse_parameters;
use crate::rules::{AddRule, Trigger};

/// The `rules` subcommands.
#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// List managed and custom rules with scope, triggers and version.
    List(JsonFlag),
    /// Run a rule file on items from a file, without a store.
    Test(super::rule_test::TestArgs),
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
    pub triggers: Option<Vec<Trigger>>,
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
    pub triggers: Option<Vec<Trigger>>,
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

/// Runs a `rules` subcommand.
pub fn run_rules(
    out: &mut dyn Write,
    open: impl FnOnce() -> Result<Backend>,
    command: RulesCommand,
) -> Result<u8> {
    match command {
        RulesCommand::Test(args) => return super::rule_test::test_rule(out, args),
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
                let list = crate::app::lists::RuleList { rules };
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
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
                triggers: args.triggers,
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
                triggers: args.triggers,
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
    // A rule that failed on everything it judged is broken, whatever was registered.
    match &change.evaluations {
        Some(counts) if counts.evaluations > 0 && counts.errors == counts.evaluations => {
            eprintln!(
                "error: every evaluation of {} failed ({}); see `conftrail rules list` for the last error",
                definition.name, counts.errors
            );
            Ok(1)
        }
        _ => Ok(0),
    }
}
