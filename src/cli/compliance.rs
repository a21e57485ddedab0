//! `compliance`, `compliance history` and `evaluate`.

use std::io::Write;

use anyhow::Result;
use clap::{Args, Subcommand};

use super::backend::Backend;
use super::ResourceArgs;
use crate::evaluator::{ComplianceFilter, SummaryState};

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
        let answer = crate::app::lists::Evaluations {
            evaluations: counts,
        };
        writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    } else {
        writeln!(out, "{}", counts.summary())?;
    }
    Ok(0)
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
