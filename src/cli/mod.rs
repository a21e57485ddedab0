//! The command line: clap definitions and one handler per command. Human output by default,
//! `--json` for scripts (the same shapes the HTTP API serves).

mod audit;
mod backend;
mod client;
mod collect;
mod compliance;
mod demo;
pub(crate) mod events;
mod progress;
mod remediation;
mod render;
mod rule_test;
mod rules;
mod scaffold;
pub mod serve;
mod worker;

use crate::app::{App, AppError};
use crate::linker::EventMap;
use crate::model::parse_time_arg;
use crate::query::{ResourceSelector, VersionSelector};
use crate::store::{HistoryOrder, HistoryQuery, PageToken, StoreError};
use anyhow::Result;
use backend::Backend;
use clap::{Args, Parser, Subcommand, ValueEnum};
use progress::ProgressLine;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit code when some records were rejected (the others were ingested).
pub const EXIT_RECORDS_REJECTED: u8 = 3;

/// Default data directory when neither `--data-dir` nor `CONFTRAIL_DATA_DIR` is given.
pub const DEFAULT_DATA_DIR: &str = "conftrail-data";

/// conftrail records every version of your resources' configuration (AWS Config items and
/// similar) in an embedded store and shows their history and what changed.
#[derive(Debug, Parser)]
#[command(name = "conftrail", version)]
pub struct Cli {
    /// Data directory, created if missing [default: ./conftrail-data].
    #[arg(long, global = true, env = "CONFTRAIL_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Log format on stderr [default: human, or the configuration file's for serve].
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Memory the store may use to cache its pages, in MiB; a long-running server's resident
    /// size stays near this plus what requests hold.
    #[arg(
        long,
        global = true,
        env = "CONFTRAIL_CACHE_MIB",
        default_value_t = crate::store::DEFAULT_CACHE_MIB,
        value_parser = clap::value_parser!(u64).range(1..=1_048_576),
        value_name = "MIB"
    )]
    pub cache_mib: u64,
    /// Extra event-to-resource mappings (JSON, same format as the built-in table) for ingest.
    #[arg(long, global = true, env = "CONFTRAIL_EVENT_MAP", value_name = "FILE")]
    pub event_map: Option<PathBuf>,
    /// Log level filter (also RUST_LOG), e.g. `info` or `conftrail=debug` [default: info for
    /// `serve` and `worker`, whose logs say what they do (the audit trail among it); warn
    /// otherwise].
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    /// Run the command against a running `conftrail serve` at this URL (e.g.
    /// http://127.0.0.1:8080) instead of opening the data directory.
    #[arg(long, global = true, env = "CONFTRAIL_SERVER", value_name = "URL")]
    pub server: Option<String>,
    /// Bearer token for --server (a role:secret's secret).
    #[arg(
        long,
        global = true,
        env = "CONFTRAIL_TOKEN",
        hide_env_values = true,
        value_name = "SECRET"
    )]
    pub token: Option<String>,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
    /// Whether `--data-dir` was typed on the command line (not taken from the environment):
    /// `demo` plays only in a directory given that way.
    #[arg(skip)]
    pub data_dir_on_command_line: bool,
}

/// Log output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Lines for people.
    Human,
    /// One JSON object per line.
    Json,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Record configuration items and CloudTrail events from files, directories (recursive,
    /// e.g. AWSLogs trees) or `-` for standard input; the format is detected per document.
    Ingest(IngestArgs),
    /// Sweep an AWS account once: describe every resource in scope, record new versions and
    /// deletions, judge them, report what changed.
    Collect(collect::CollectArgs),
    /// List recorded resources with their latest state.
    Resources(ResourcesArgs),
    /// List a resource's versions (newest first by default).
    History(HistoryArgs),
    /// Print one version of a resource.
    Show(ShowArgs),
    /// Show what changed between two versions (default: latest vs the one before).
    Diff(DiffArgs),
    /// Look up API events by any combination of filters (`events purge` applies retention).
    Events(events::EventsArgs),
    /// A resource's versions with the API calls that caused each change, and its verdicts.
    Timeline(events::TimelineArgs),
    /// Manage compliance rules (WebAssembly): list, test, add, update, enable, disable, remove, new.
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Latest verdicts with summaries per rule and resource; `compliance history TYPE ID`.
    Compliance(compliance::ComplianceArgs),
    /// Evaluate rules now on the latest version of every resource in scope (or a subset).
    Evaluate(compliance::EvaluateArgs),
    /// Remediation of non-compliant resources: configure actions, run, list jobs, exceptions.
    #[command(subcommand)]
    Remediation(remediation::RemediationCommand),
    /// Who changed what, when, from where: rules, remediation, runs, exceptions, subscriptions,
    /// purges, settings applied from the file, refused authentications.
    Audit(audit::AuditArgs),
    /// Run rule schedules, housekeeping and the remediation queue until stopped (Ctrl-C, SIGTERM).
    Worker(worker::WorkerArgs),
    /// Serve the HTTP API (and run the worker) until stopped (Ctrl-C, SIGTERM).
    Serve(serve::ServeArgs),
    /// Start the server on a fresh store and play the bundled scenario through its API: changes
    /// by named people, violations, automatic remediation, the verified outcome. The store is
    /// temporary unless --data-dir names a new or empty directory (CONFTRAIL_DATA_DIR is not
    /// used; a non-empty directory is refused).
    Demo(demo::DemoArgs),
}

/// Arguments of `ingest`.
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or directories to read; `-` reads standard input.
    #[arg(required = true)]
    pub paths: Vec<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// Record only; do not evaluate rules on the new versions.
    #[arg(long)]
    pub no_evaluate: bool,
    /// Show progress on stderr, a line per update (it shows by itself, redrawn in place, when
    /// stderr is a terminal).
    #[arg(long)]
    pub progress: bool,
}

/// Arguments of `resources`.
#[derive(Debug, Args)]
pub struct ResourcesArgs {
    /// Only this resource type, e.g. AWS::EC2::SecurityGroup.
    #[arg(long = "type", value_name = "TYPE")]
    pub resource_type: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Which resource, for commands about one resource.
#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// Resource type, e.g. AWS::EC2::SecurityGroup.
    pub resource_type: String,
    /// Resource id, e.g. sg-0123.
    pub resource_id: String,
    /// Account, when the id exists in several.
    #[arg(long)]
    pub account: Option<String>,
    /// Region, when the id exists in several.
    #[arg(long)]
    pub region: Option<String>,
}

impl ResourceArgs {
    fn selector(&self) -> ResourceSelector {
        ResourceSelector {
            resource_type: self.resource_type.clone(),
            resource_id: self.resource_id.clone(),
            account_id: self.account.clone(),
            region: self.region.clone(),
        }
    }
}

/// Listing order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OrderArg {
    /// Oldest first.
    Forward,
    /// Newest first.
    Reverse,
}

/// Arguments of `history`.
#[derive(Debug, Args)]
pub struct HistoryArgs {
    #[command(flatten)]
    resource: ResourceArgs,
    /// Earliest capture time included (RFC 3339, date, or epoch seconds).
    #[arg(long, value_parser = parse_time_arg)]
    since: Option<crate::model::Timestamp>,
    /// Latest capture time included (a bare date: the end of that day).
    #[arg(long, value_parser = crate::model::parse_until_arg)]
    until: Option<crate::model::Timestamp>,
    /// Order of the listing.
    #[arg(long, value_enum, default_value_t = OrderArg::Reverse)]
    order: OrderArg,
    /// Versions per page (1 to 1000).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u16).range(1..=1000))]
    limit: u16,
    /// Continue from a previous page's nextToken.
    #[arg(long, value_name = "TOKEN", value_parser = PageToken::decode)]
    next: Option<PageToken>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    #[command(flatten)]
    resource: ResourceArgs,
    /// The version in force at this time.
    #[arg(long, value_parser = parse_time_arg, conflicts_with = "version")]
    at: Option<crate::model::Timestamp>,
    /// The version with this number.
    #[arg(long)]
    version: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Arguments of `diff`.
#[derive(Debug, Args)]
pub struct DiffArgs {
    #[command(flatten)]
    resource: ResourceArgs,
    /// Older version number (default: the version before --to).
    #[arg(long)]
    from: Option<u64>,
    /// Newer version number (default: latest).
    #[arg(long)]
    to: Option<u64>,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

impl Cli {
    /// The log filter: `--log-level`, else what suits the command.
    pub fn effective_log_level(&self) -> &str {
        match (&self.log_level, &self.command) {
            (Some(level), _) => level,
            (None, Command::Serve(_) | Command::Worker(_)) => "info",
            (None, _) => "warn",
        }
    }

    /// The log format: the flag, else (for `serve --config`) the file's, else human.
    pub fn effective_log_format(&self) -> LogFormat {
        if let Some(format) = self.log_format {
            return format;
        }
        if let Command::Serve(args) = &self.command {
            if let Ok(file) = serve::load_file(args) {
                if file.log_format == Some(crate::config_file::LogFormatName::Json) {
                    return LogFormat::Json;
                }
            }
        }
        LogFormat::Human
    }
}

impl Cli {
    /// Parses the process's arguments (exiting with clap's message and code when they are bad).
    pub fn parse_command_line() -> Cli {
        let matches = <Cli as clap::CommandFactory>::command().get_matches();
        Cli::from_matches(&matches).unwrap_or_else(|e| e.exit())
    }

    /// The command line in `matches`, noting where `--data-dir` came from.
    pub fn from_matches(matches: &clap::ArgMatches) -> Result<Cli, clap::Error> {
        let mut cli = <Cli as clap::FromArgMatches>::from_arg_matches(matches)?;
        cli.data_dir_on_command_line =
            matches.value_source("data_dir") == Some(clap::parser::ValueSource::CommandLine);
        Ok(cli)
    }
}

/// Runs a parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> Result<u8> {
    let data_dir = cli.data_dir.clone();
    let dir = data_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
    let event_map = cli.event_map.clone();
    let server = cli.server.clone();
    let token = cli.token.clone();
    let cache_mib = cli.cache_mib;
    // The store, or the server: opened only by the commands that need one.
    let backend = || -> Result<Backend> {
        match &server {
            Some(url) => Ok(Backend::Remote(client::Client::new(url, token.clone())?)),
            None => Ok(Backend::Local(open_app(
                &dir,
                EventMap::load(event_map.as_deref())?,
                cache_mib,
            )?)),
        }
    };
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    match cli.command {
        Command::Ingest(args) => {
            let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
            let mut progress = (args.progress || terminal).then(|| ProgressLine::new(terminal));
            let report = backend()?.ingest(&args.paths, !args.no_evaluate, &mut |p| {
                if let Some(line) = progress.as_mut() {
                    line.update(p);
                }
            });
            if let Some(line) = progress.as_mut() {
                line.finish();
            }
            let report = report?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
            } else {
                for problem in &report.problems {
                    eprintln!("{problem}");
                }
                writeln!(out, "{}", report.summary())?;
                if let Some(line) = report.evaluation_summary() {
                    writeln!(out, "{line}")?;
                }
            }
            Ok(if report.errors > 0 {
                EXIT_RECORDS_REJECTED
            } else {
                0
            })
        }
        Command::Audit(args) => audit::run_audit(&mut out, &backend()?, args),
        Command::Collect(args) => collect::run_collect(&mut out, &backend()?, args),
        Command::Resources(args) => {
            let entries = backend()?.resources(args.resource_type.as_deref())?;
            if args.json {
                let list = crate::app::lists::ResourceList { resources: entries };
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
            } else {
                render::resources_table(&mut out, &entries)?;
            }
            Ok(0)
        }
        Command::History(args) => {
            let q = HistoryQuery {
                since: args.since,
                until: args.until,
                order: match args.order {
                    OrderArg::Forward => HistoryOrder::Forward,
                    OrderArg::Reverse => HistoryOrder::Reverse,
                },
                limit: usize::from(args.limit),
                after: args.next,
            };
            let page = backend()?
                .history(&args.resource.selector(), &q)
                .map_err(|e| anyhow::anyhow!("{}", flag_words(&e.to_string())))?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&page)?)?;
            } else {
                render::history_table(&mut out, &page)?;
            }
            Ok(0)
        }
        Command::Show(args) => {
            let which = match (args.at, args.version) {
                (Some(at), _) => VersionSelector::At(at),
                (None, Some(n)) => VersionSelector::Number(n),
                (None, None) => VersionSelector::Latest,
            };
            let item = backend()?.show(&args.resource.selector(), which)?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&item)?)?;
            } else {
                render::item_text(&mut out, &item)?;
            }
            Ok(0)
        }
        Command::Diff(args) => {
            let diff = backend()?.diff(&args.resource.selector(), args.from, args.to)?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&diff)?)?;
            } else {
                render::diff_text(&mut out, &diff)?;
            }
            Ok(0)
        }
        Command::Events(args) => events::run_events(&mut out, &backend()?, args),
        Command::Timeline(args) => events::run_timeline(&mut out, &backend()?, args),
        Command::Rules(command) => rules::run_rules(&mut out, backend, command),
        Command::Compliance(args) => compliance::run_compliance(&mut out, &backend()?, args),
        Command::Evaluate(args) => compliance::run_evaluate(&mut out, &backend()?, args),
        Command::Remediation(command) => {
            remediation::run_remediation(&mut out, &backend()?, command)
        }
        Command::Worker(args) => {
            let backend = backend()?;
            worker::run_worker(&mut out, backend.local("the worker")?, args)
        }
        Command::Serve(args) => {
            refuse_server(&server, "serve")?;
            serve::run_serve(
                &mut out,
                data_dir.as_deref(),
                cli.event_map.as_deref(),
                cli.cache_mib,
                args,
            )
        }
        Command::Demo(args) => {
            refuse_server(&server, "demo")?;
            // CONFTRAIL_DATA_DIR names the user's own store, never a place to play a scenario.
            let explicit = data_dir.as_deref().filter(|_| cli.data_dir_on_command_line);
            demo::run(&mut out, explicit, args)
        }
    }
}

/// Commands that start a server of their own do not talk to another one.
fn refuse_server(server: &Option<String>, command: &str) -> Result<()> {
    match server {
        Some(_) => anyhow::bail!("{command} starts a server of its own; drop --server"),
        None => Ok(()),
    }
}

/// A use case's words for a parameter (`since (…) is after until`) in the command line's.
fn flag_words(message: &str) -> String {
    message
        .replacen("since (", "--since (", 1)
        .replacen("after until (", "after --until (", 1)
}

/// Opens the application over the store in `dir`.
pub(crate) fn open_app(dir: &Path, event_map: EventMap, cache_mib: u64) -> Result<App> {
    App::open(dir, event_map, cache_mib).map_err(explain_open_error)
}

/// A locked data directory most often means a server runs on it: say how to reach it instead.
fn explain_open_error(error: AppError) -> anyhow::Error {
    match error {
        AppError::Store(StoreError::Locked { path }) => anyhow::anyhow!(
            "data directory {} is in use by another conftrail process (a running `conftrail serve`?); \
             run the command against the server with --server URL (or CONFTRAIL_SERVER), or stop it first",
            path.display()
        ),
        other => other.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Cli {
        let matches = Cli::command().try_get_matches_from(args).unwrap();
        Cli::from_matches(&matches).unwrap()
    }

    #[test]
    fn data_dir_typed_anywhere_on_the_command_line_is_told_apart_from_none() {
        let cli = parse(&["conftrail", "--data-dir", "d", "demo"]);
        assert!(cli.data_dir_on_command_line);
        let cli = parse(&["conftrail", "demo", "--data-dir", "d"]);
        assert!(cli.data_dir_on_command_line);
        assert_eq!(cli.data_dir.as_deref(), Some(Path::new("d")));
        let cli = parse(&["conftrail", "demo", "--once"]);
        assert!(!cli.data_dir_on_command_line);
    }
}
