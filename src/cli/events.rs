//! `events` (lookup, export, purge) and `timeline`.

use super::backend::Backend;
use super::render::table;
use super::ResourceArgs;
use crate::app::events::EventsPage;
use crate::model::{format_time, parse_time_arg, Timestamp};
use crate::query;
use crate::rules::Outcome;
use crate::runtime::DEFAULT_RETENTION_DAYS;
use crate::store::EventPageToken;
use crate::timeline::{ApiCallView, Timeline, TimelineEntry};
use anyhow::Result;
use clap::{Args, Subcommand, ValueEnum};
use std::io::Write;

/// Arguments of `events`: a lookup by any combination of filters, or `events purge`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct EventsArgs {
    /// `purge`; without it, look events up.
    #[command(subcommand)]
    command: Option<EventsCommand>,
    #[command(flatten)]
    lookup: LookupArgs,
}

/// `events` subcommands.
#[derive(Debug, Subcommand)]
enum EventsCommand {
    /// Delete events older than the retention period.
    Purge(PurgeArgs),
}

/// Arguments of `events purge`.
#[derive(Debug, Args)]
struct PurgeArgs {
    /// Keep events of the last N days; 0 keeps every event.
    #[arg(long, env = "CONFTRAIL_EVENT_RETENTION_DAYS", default_value_t = DEFAULT_RETENTION_DAYS)]
    retention_days: u32,
}

/// Output formats of a lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum EventFormat {
    /// Columns for people.
    Table,
    /// LookupEvents' shape: `{"Events": [...], "NextToken"}`.
    Json,
    /// The columns of CloudTrail's event history download.
    Csv,
}

/// Lookup filters: every one given must hold.
#[derive(Debug, Args)]
struct LookupArgs {
    /// eventName, e.g. AuthorizeSecurityGroupIngress.
    #[arg(long)]
    event_name: Option<String>,
    /// User name, user or role ARN, or session issuer name.
    #[arg(long)]
    user: Option<String>,
    /// Type of a resource the event names, e.g. AWS::S3::Bucket.
    #[arg(long)]
    resource_type: Option<String>,
    /// Id, name or ARN of a resource the event names.
    #[arg(long)]
    resource_name: Option<String>,
    /// eventSource, e.g. ec2.amazonaws.com.
    #[arg(long)]
    event_source: Option<String>,
    /// Access key id the call was signed with.
    #[arg(long)]
    access_key: Option<String>,
    /// Only read-only (true) or only write (false) events.
    #[arg(long, value_name = "true|false")]
    read_only: Option<bool>,
    /// One event by its eventID.
    #[arg(long)]
    event_id: Option<String>,
    /// Earliest event time (RFC 3339, date, or epoch seconds).
    #[arg(long, value_parser = parse_time_arg)]
    since: Option<Timestamp>,
    /// Latest event time.
    #[arg(long, value_parser = parse_time_arg)]
    until: Option<Timestamp>,
    /// Events per page.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: u32,
    /// Continue from a previous page's NextToken.
    #[arg(long, value_name = "TOKEN", value_parser = EventPageToken::decode)]
    next: Option<EventPageToken>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EventFormat::Table)]
    format: EventFormat,
}

impl LookupArgs {
    fn lookup(&self) -> query::EventLookup {
        query::EventLookup {
            event_name: self.event_name.clone(),
            user: self.user.clone(),
            resource_type: self.resource_type.clone(),
            resource_name: self.resource_name.clone(),
            event_source: self.event_source.clone(),
            access_key: self.access_key.clone(),
            read_only: self.read_only.map(|b| b.to_string()),
            event_id: self.event_id.clone(),
            since: self.since.map(|t| format_time(&t)),
            until: self.until.map(|t| format_time(&t)),
            limit: Some(self.limit),
            next: self.next.as_ref().map(EventPageToken::encode),
            format: None,
        }
    }
}

/// Runs `events`.
pub fn run_events(out: &mut impl Write, backend: &Backend, args: EventsArgs) -> Result<u8> {
    if let Some(EventsCommand::Purge(purge)) = args.command {
        let report = backend.purge_events(purge.retention_days)?;
        match &report.before {
            None => writeln!(
                out,
                "retention is {} days: every event is kept",
                report.retention_days
            )?,
            Some(before) => writeln!(
                out,
                "purged {} events older than {before} ({} days)",
                report.purged, report.retention_days
            )?,
        }
        return Ok(0);
    }
    let page = backend
        .events(&args.lookup.lookup())
        .map_err(|e| anyhow::anyhow!("--{}", e.to_string().replacen("readOnly", "read-only", 1)))?;
    match args.lookup.format {
        EventFormat::Table => events_table(out, &page)?,
        EventFormat::Json => writeln!(out, "{}", serde_json::to_string_pretty(&page)?)?,
        EventFormat::Csv => page.write_csv(&mut *out)?,
    }
    if let (Some(next), EventFormat::Table) = (&page.next_token, args.lookup.format) {
        eprintln!("more: --next {next}");
    }
    Ok(0)
}

fn events_table(out: &mut impl Write, page: &EventsPage) -> Result<()> {
    if page.events.is_empty() {
        writeln!(out, "no events match")?;
        return Ok(());
    }
    let rows: Vec<Vec<String>> = page
        .events
        .iter()
        .map(|e| {
            let resources = e
                .resources
                .iter()
                .map(|r| r.resource_name.as_str())
                .collect::<Vec<_>>()
                .join(",");
            vec![
                e.event_time.clone(),
                e.event_name.clone(),
                e.username.clone(),
                e.event_source.clone(),
                resources,
                e.error_code().unwrap_or_default(),
                e.event_id.clone(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "EVENT TIME",
            "EVENT NAME",
            "USER",
            "SOURCE",
            "RESOURCES",
            "ERROR",
            "EVENT ID",
        ],
        &rows,
    )?;
    Ok(())
}

/// Arguments of `timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    #[command(flatten)]
    resource: ResourceArgs,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Runs `timeline`.
pub fn run_timeline(out: &mut impl Write, backend: &Backend, args: TimelineArgs) -> Result<u8> {
    let timeline = backend.timeline(&args.resource.selector())?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&timeline)?)?;
    } else {
        timeline_text(out, &timeline)?;
    }
    Ok(0)
}

fn call_line(call: &ApiCallView) -> String {
    let mut who = call.username.clone();
    if let Some(arn) = call.user_arn.as_ref().or(call.session_issuer.as_ref()) {
        who.push_str(&format!(" ({arn})"));
    }
    let mut line = format!("{} {} by {who}", call.event_time, call.event_name);
    if let Some(ip) = &call.source_ip_address {
        line.push_str(&format!(" from {ip}"));
    }
    if call.likely_cause {
        line.push_str(" [likely cause]");
    }
    line.push_str(&format!("  {}", call.event_id));
    line
}

/// A resource's timeline for people: versions, linked calls and verdict changes in time order.
pub(super) fn timeline_text(out: &mut impl Write, timeline: &Timeline) -> Result<()> {
    writeln!(
        out,
        "{} {} (account {}, region {}){}",
        timeline.resource_type,
        timeline.resource_id,
        timeline.account_id,
        timeline.aws_region,
        timeline
            .resource_name
            .as_ref()
            .map(|n| format!(" \"{n}\""))
            .unwrap_or_default()
    )?;
    let mut quiet = 0usize;
    for entry in &timeline.entries {
        match entry {
            TimelineEntry::Configuration(v) => {
                let paths = if v.changed_properties.is_empty() {
                    String::new()
                } else {
                    format!("  {}", v.changed_properties.join(", "))
                };
                writeln!(
                    out,
                    "{}  version {}  {}  {:?}{paths}",
                    v.time, v.version, v.configuration_item_status, v.change_type
                )?;
                for call in &v.api_calls {
                    writeln!(out, "    <- {}", call_line(call))?;
                }
            }
            TimelineEntry::Evaluation(e) => {
                let r = &e.evaluation;
                let text = match &r.report.outcome {
                    Outcome::Verdict(verdict) if r.compliance_changed => {
                        let from = r
                            .changed_from
                            .map(|c| format!(" (was {})", c.as_str()))
                            .unwrap_or_default();
                        let note = verdict
                            .annotation
                            .as_ref()
                            .map(|a| format!(": {a}"))
                            .unwrap_or_default();
                        Some(format!("{}{from}{note}", verdict.compliance.as_str()))
                    }
                    Outcome::Verdict(_) => None,
                    Outcome::Error { reason, .. } => Some(format!("ERROR: {reason}")),
                };
                match text {
                    Some(text) => writeln!(
                        out,
                        "{}  rule {} on version {}: {text}",
                        e.time, r.rule_name, r.configuration_version
                    )?,
                    None => quiet += 1,
                }
            }
            TimelineEntry::Remediation(r) => {
                let job = &r.job;
                writeln!(
                    out,
                    "{}  remediation job {} ({}) for version {}: {}{}",
                    r.time,
                    job.id,
                    job.rule_name,
                    job.configuration_version,
                    job.state.as_str(),
                    job.state_reason
                        .as_ref()
                        .map(|reason| format!(" ({reason})"))
                        .unwrap_or_default()
                )?;
                super::remediation::attempt_lines(out, job, "    ")?;
            }
            TimelineEntry::Exception(x) => {
                let e = &x.exception;
                writeln!(
                    out,
                    "{}  exception for {}: {}{}{}",
                    x.time,
                    e.rule_name,
                    e.reason,
                    e.expires_at
                        .map(|t| format!(" (until {})", format_time(&t)))
                        .unwrap_or_default(),
                    if x.active { "" } else { " [expired]" }
                )?;
            }
        }
    }
    if !timeline.pending_api_calls.is_empty() {
        writeln!(
            out,
            "after the latest version (its configuration item has not arrived yet):"
        )?;
        for call in &timeline.pending_api_calls {
            writeln!(out, "    <- {}", call_line(call))?;
        }
    }
    if quiet > 0 {
        writeln!(
            out,
            "({quiet} evaluations that did not change compliance are in --json)"
        )?;
    }
    Ok(())
}
