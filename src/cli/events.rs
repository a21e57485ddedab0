//! `events` (lookup, export, purge) and `timeline`.

use super::backend::Backend;
use super::render::table;
use super::ResourceArgs;
use crate::app::events::{CsvWriter, EventsPage, LookupEvent, PurgeReport};
use crate::model::{format_time, parse_time_arg, Timestamp};
use crate::query;
use crate::rules::Outcome;
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
    /// Delete events whose event time is older than the retention period (--dry-run to see
    /// what would go first).
    Purge(PurgeArgs),
}

/// Arguments of `events purge`.
#[derive(Debug, Args)]
struct PurgeArgs {
    /// Keep events of the last N days, counted from each event's time; 0 keeps every event.
    /// Required: nothing is purged unless a retention is given.
    #[arg(long, env = "CONFTRAIL_EVENT_RETENTION_DAYS")]
    retention_days: u32,
    /// Say what would be deleted, and delete nothing.
    #[arg(long)]
    dry_run: bool,
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
    /// Latest event time (a bare date: the end of that day).
    #[arg(long, value_parser = crate::model::parse_until_arg)]
    until: Option<Timestamp>,
    /// Events per page: 50 for the table; csv and json write every match unless given.
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    limit: Option<u32>,
    /// Continue from a previous page's NextToken.
    #[arg(long, value_name = "TOKEN", value_parser = EventPageToken::decode)]
    next: Option<EventPageToken>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = EventFormat::Table)]
    format: EventFormat,
    /// The same as `--format json`, as other commands take it.
    #[arg(long, conflicts_with = "format")]
    json: bool,
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
            limit: self.limit,
            next: self.next.as_ref().map(EventPageToken::encode),
            format: None,
        }
    }
}

/// Runs `events`.
pub fn run_events(out: &mut impl Write, backend: &Backend, args: EventsArgs) -> Result<u8> {
    if let Some(EventsCommand::Purge(purge)) = args.command {
        let report = backend.purge_events(purge.retention_days, purge.dry_run)?;
        purge_text(out, &report)?;
        return Ok(0);
    }
    let lookup = args.lookup.lookup();
    // Checked here, so that a bad filter is named by its flag before anything is written.
    lookup
        .to_query()
        .map_err(|e| anyhow::anyhow!("--{}", e.replacen("readOnly", "read-only", 1)))?;
    let format = if args.lookup.json {
        EventFormat::Json
    } else {
        args.lookup.format
    };
    let next = match format {
        EventFormat::Table => {
            let page = backend.events(&query::EventLookup {
                limit: Some(lookup.limit.unwrap_or(TABLE_PAGE)),
                ..lookup
            });
            let page = page?;
            events_table(out, &page)?;
            page.next_token
        }
        // Exports: every match, written as it is read, unless --limit asks for a page.
        EventFormat::Csv => {
            let mut csv = CsvWriter::new(&mut *out)?;
            let next = backend.export_events(&lookup, |events| Ok(csv.write(events)?))?;
            csv.finish()?;
            next
        }
        EventFormat::Json => {
            let mut json = JsonExport::start(&mut *out)?;
            let next = backend.export_events(&lookup, |events| json.write(events))?;
            json.finish(next.as_deref())?;
            next
        }
    };
    // On stderr, so that an export redirected to a file still says it is not everything.
    if let Some(next) = next {
        eprintln!("more: --next {next}");
    }
    Ok(0)
}

/// What a purge removed, or would remove.
fn purge_text(out: &mut impl Write, report: &PurgeReport) -> Result<()> {
    let days = report.retention_days;
    let Some(before) = &report.before else {
        writeln!(out, "retention is {days} days: every event is kept")?;
        return Ok(());
    };
    let span = match (&report.oldest, &report.newest) {
        (Some(oldest), Some(newest)) => format!(", event times {oldest} to {newest}"),
        _ => String::new(),
    };
    if report.dry_run {
        writeln!(
            out,
            "dry run: would purge {} events older than {before} ({days} days){span}; nothing was deleted",
            report.purged
        )?;
    } else {
        writeln!(
            out,
            "purged {} events older than {before} ({days} days){span}",
            report.purged
        )?;
    }
    Ok(())
}

/// Events in a table page unless --limit says otherwise.
const TABLE_PAGE: u32 = 50;

/// LookupEvents' shape written event by event, the same text as the whole page pretty-printed.
struct JsonExport<W: Write> {
    out: W,
    first: bool,
}

impl<W: Write> JsonExport<W> {
    fn start(mut out: W) -> Result<JsonExport<W>> {
        out.write_all(b"{\n  \"Events\": [")?;
        Ok(JsonExport { out, first: true })
    }

    fn write(&mut self, events: &[LookupEvent]) -> Result<()> {
        for event in events {
            let text = serde_json::to_string_pretty(event)?;
            // JSON strings hold no raw newlines: every one is the printer's, to indent.
            let text = text.replace('\n', "\n    ");
            let separator = if self.first { "\n    " } else { ",\n    " };
            write!(self.out, "{separator}{text}")?;
            self.first = false;
        }
        Ok(())
    }

    fn finish(mut self, next: Option<&str>) -> Result<()> {
        if !self.first {
            self.out.write_all(b"\n  ")?;
        }
        self.out.write_all(b"]")?;
        if let Some(next) = next {
            write!(
                self.out,
                ",\n  \"NextToken\": {}",
                serde_json::to_string(next)?
            )?;
        }
        self.out.write_all(b"\n}\n")?;
        self.out.flush()?;
        Ok(())
    }
}

/// Widest RESOURCES cell of the events table; `--format json` or csv has every name.
const RESOURCES_CELL_CHARS: usize = 60;

/// The names that fit in [`RESOURCES_CELL_CHARS`], then how many more there are.
fn resources_cell(names: &[&str]) -> String {
    let all = names.join(",");
    if all.chars().count() <= RESOURCES_CELL_CHARS {
        return all;
    }
    let mut cell = String::new();
    let mut shown = 0;
    for name in names {
        let next = if cell.is_empty() {
            name.to_string()
        } else {
            format!("{cell},{name}")
        };
        if next.chars().count() > RESOURCES_CELL_CHARS - 12 {
            break;
        }
        cell = next;
        shown += 1;
    }
    if shown == 0 {
        cell = names
            .first()
            .map(|n| {
                n.chars()
                    .take(RESOURCES_CELL_CHARS - 12)
                    .collect::<String>()
                    + "…"
            })
            .unwrap_or_default();
        shown = 1;
    }
    format!("{cell} (+{} more)", names.len() - shown)
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
            let names: Vec<&str> = e
                .resources
                .iter()
                .map(|r| r.resource_name.as_str())
                .collect();
            let resources = resources_cell(&names);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::events::LookupResource;

    #[test]
    fn the_resources_cell_is_bounded_and_says_how_many_are_left_out() {
        assert_eq!(resources_cell(&["a", "b"]), "a,b");
        let many: Vec<String> = (0..100).map(|i| format!("bucket-{i:03}")).collect();
        let names: Vec<&str> = many.iter().map(String::as_str).collect();
        let cell = resources_cell(&names);
        assert!(cell.chars().count() <= RESOURCES_CELL_CHARS, "{cell}");
        assert!(
            cell.starts_with("bucket-000,") && cell.ends_with(" more)"),
            "{cell}"
        );
        let long = "x".repeat(500);
        let cell = resources_cell(&[&long]);
        assert!(cell.chars().count() <= RESOURCES_CELL_CHARS, "{cell}");
    }

    fn event(id: &str) -> LookupEvent {
        LookupEvent {
            event_id: id.to_string(),
            event_name: "PutBucketAcl".to_string(),
            read_only: "false".to_string(),
            access_key_id: None,
            event_time: "2024-05-02T15:10:02.000Z".to_string(),
            event_source: "s3.amazonaws.com".to_string(),
            username: "bob".to_string(),
            resources: vec![LookupResource {
                resource_type: "AWS::S3::Bucket".to_string(),
                resource_name: "acme\ninvoices".to_string(),
            }],
            cloud_trail_event: "{\"a\": [1, {\"b\": \"\\n\"}]}".to_string(),
        }
    }

    #[test]
    fn the_streamed_json_export_is_the_page_pretty_printed() {
        for (events, next) in [
            (vec![], None),
            (vec![], Some("e1.token")),
            (vec![event("one")], None),
            (
                vec![event("one"), event("two"), event("three")],
                Some("e1.t\"ok"),
            ),
        ] {
            let mut streamed = Vec::new();
            let mut json = JsonExport::start(&mut streamed).unwrap();
            // Pages of any size make the same text.
            for chunk in events.chunks(2) {
                json.write(chunk).unwrap();
            }
            json.finish(next).unwrap();
            let page = EventsPage {
                events,
                next_token: next.map(str::to_string),
            };
            let whole = format!("{}\n", serde_json::to_string_pretty(&page).unwrap());
            assert_eq!(String::from_utf8(streamed).unwrap(), whole);
        }
    }
}
