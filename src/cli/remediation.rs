//! `remediation` (configurations, jobs, manual runs, exceptions) and `worker`.

use crate::app::lists::{ExceptionList, JobList, QueuedRemediation, RemediationConfigList};
use std::collections::BTreeMap;
use std::io::Write;

use anyhow::{bail, Context, Result};
use clap::{Args, Subcommand};

use super::backend::Backend;
use super::render::table;
use super::ResourceArgs;
use crate::app::queries::JobFilter;
use crate::config_file::RemediationSettings;
use crate::model::format_duration;
use crate::model::{format_time, now_millis, parse_time_arg, Timestamp};
use crate::model::{ActionKind, AwsOperation, Jitter};
use crate::remediation::{
    JobState, RemediationConfig, RemediationJob, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS,
};

/// `remediation` subcommands.
#[derive(Debug, Subcommand)]
pub enum RemediationCommand {
    /// Configure the action that fixes a rule's non-compliant resources (replaces the rule's
    /// whole configuration; what changed from before is listed on stderr).
    Set(SetArgs),
    /// Show remediation configurations.
    Show(ShowArgs),
    /// Remove a rule's remediation configuration (queued jobs are cancelled when due).
    Remove(RuleName),
    /// Run the remediation of one resource now (one attempt here; retries go to the worker).
    Run(RunArgs),
    /// List jobs with their attempts.
    List(ListArgs),
    /// Exceptions: no automatic remediation of a rule on a resource.
    #[command(subcommand)]
    Exception(ExceptionCommand),
}

/// Arguments of `remediation set`.
#[derive(Debug, Args)]
pub struct SetArgs {
    /// The rule whose NON_COMPLIANT verdicts this remediates.
    pub rule: String,
    /// What to run.
    #[arg(long, value_enum)]
    pub action: ActionKind,
    /// Webhook URL (http or https).
    #[arg(long, required_if_eq("action", "webhook"))]
    pub url: Option<String>,
    /// What an aws action changes, with the collector's credentials for the resource's account.
    #[arg(long, value_enum, required_if_eq("action", "aws"))]
    pub operation: Option<AwsOperation>,
    /// Extra webhook header, `Name: value` or `Name=value` (repeatable).
    #[arg(long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Extra webhook header read from the server's environment when sent, `Name=VARIABLE`
    /// (repeatable): the value is never stored.
    #[arg(long = "header-env", value_name = "NAME=VARIABLE")]
    pub header_env: Vec<String>,
    /// Sign each webhook request (X-Conftrail-Signature) with the secret in this environment
    /// variable of the server.
    #[arg(long, value_name = "VARIABLE", conflicts_with = "signing_secret_file")]
    pub signing_secret_env: Option<String>,
    /// Sign each webhook request with the secret in this file (read when sent).
    #[arg(long, value_name = "PATH")]
    pub signing_secret_file: Option<std::path::PathBuf>,
    /// A parameter, `name=VALUE`: VALUE is RESOURCE_ID, RESOURCE_TYPE, ACCOUNT_ID, REGION, a JSON
    /// path into the item ($.configuration.groupId) or a fixed value (repeatable).
    #[arg(long = "param", value_name = "NAME=VALUE")]
    pub params: Vec<String>,
    /// Start a job by itself for every new NON_COMPLIANT verdict.
    #[arg(long)]
    pub automatic: bool,
    /// Attempts before giving up.
    #[arg(long, default_value_t = DEFAULT_MAX_ATTEMPTS)]
    pub max_attempts: u32,
    /// Delay between attempts, base..max, doubling (e.g. 2s..5m).
    #[arg(long, default_value = "2s..5m")]
    pub backoff: String,
    /// Randomise delays between 0 and the backoff (full) or not (none).
    #[arg(long, value_enum, default_value_t = Jitter::Full)]
    pub jitter: Jitter,
    /// Per-attempt timeout (e.g. 10s, 500ms).
    #[arg(long, default_value = "10s")]
    pub timeout: String,
    /// Jobs of this rule running at once.
    #[arg(long, default_value_t = DEFAULT_CONCURRENCY)]
    pub concurrency: u32,
    /// Command exit codes that mean "do not retry" (comma-separated).
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    pub no_retry_exit_codes: Vec<i32>,
    /// Print the configuration as JSON.
    #[arg(long)]
    pub json: bool,
    /// The program and its arguments (command action), after `--`.
    #[arg(last = true, value_name = "PROGRAM")]
    pub command: Vec<String>,
}

/// A rule name.
#[derive(Debug, Args)]
pub struct RuleName {
    /// Rule name.
    pub rule: String,
}

/// Arguments of `remediation show`.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// Only this rule.
    pub rule: Option<String>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `remediation run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Rule name.
    pub rule: String,
    #[command(flatten)]
    pub resource: ResourceArgs,
    /// Print the job as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `remediation list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only jobs in this state (queued, in-progress, succeeded, verified, not-effective, failed, cancelled).
    #[arg(long, value_parser = parse_state)]
    pub state: Option<JobState>,
    /// Only this rule's jobs.
    #[arg(long)]
    pub rule: Option<String>,
    /// Print JSON (every attempt included).
    #[arg(long)]
    pub json: bool,
}

fn parse_state(text: &str) -> Result<JobState, String> {
    JobState::parse(text).ok_or_else(|| {
        let names: Vec<&str> = JobState::ALL.iter().map(|s| s.as_str()).collect();
        format!(
            "unknown state {text:?}: expected one of {}",
            names.join(", ")
        )
    })
}

/// `remediation exception` subcommands.
#[derive(Debug, Subcommand)]
pub enum ExceptionCommand {
    /// Stop automatic remediation of a rule on a resource, with a reason.
    Add(ExceptionAddArgs),
    /// List exceptions (expired ones are marked).
    List(super::rules::JsonFlag),
    /// Remove an exception.
    Remove(ExceptionTarget),
}

/// Rule and resource of an exception.
#[derive(Debug, Args)]
pub struct ExceptionTarget {
    /// Rule name.
    pub rule: String,
    #[command(flatten)]
    pub resource: ResourceArgs,
}

/// Arguments of `remediation exception add`.
#[derive(Debug, Args)]
pub struct ExceptionAddArgs {
    #[command(flatten)]
    pub target: ExceptionTarget,
    /// Why the resource is exempt.
    #[arg(long)]
    pub reason: String,
    /// When the exception stops applying (RFC 3339, date or epoch seconds).
    #[arg(long, value_parser = parse_time_arg)]
    pub expires: Option<Timestamp>,
}

/// Runs a `remediation` subcommand.
pub fn run_remediation(
    out: &mut impl Write,
    backend: &Backend,
    command: RemediationCommand,
) -> Result<u8> {
    match command {
        RemediationCommand::Set(args) => {
            let json = args.json;
            let rule = args.rule.clone();
            let settings = settings_of(args)?;
            // Only to say what the replacement dropped: a failure here leaves nothing to compare.
            let before = backend
                .remediation_configs(Some(&rule))
                .ok()
                .and_then(|mut configs| configs.pop());
            let config = backend
                .set_remediation(&rule, &settings)
                .map_err(|e| anyhow::anyhow!("{}", flag_message(&e.to_string())))?;
            if let Some(before) = before {
                let changes = replaced_settings(&before, &config);
                if !changes.is_empty() {
                    eprintln!(
                        "note: remediation set replaces the whole configuration of {rule}; changed from before:\n  {}",
                        changes.join("\n  ")
                    );
                }
            }
            if json {
                writeln!(out, "{}", serde_json::to_string_pretty(&config)?)?;
            } else {
                writeln!(out, "remediation of {} set:", config.rule_name)?;
                configs_table(out, &[config])?;
            }
            Ok(0)
        }
        RemediationCommand::Show(args) => {
            let configs = backend.remediation_configs(args.rule.as_deref())?;
            if args.json {
                // As the API answers: one rule's configuration, or the list of them all.
                let text = match (args.rule.is_some(), configs.as_slice()) {
                    (true, [config]) => serde_json::to_string_pretty(config)?,
                    _ => serde_json::to_string_pretty(&RemediationConfigList {
                        configurations: configs.clone(),
                    })?,
                };
                writeln!(out, "{text}")?;
            } else {
                configs_table(out, &configs)?;
            }
            Ok(0)
        }
        RemediationCommand::Remove(args) => {
            backend.remove_remediation(&args.rule)?;
            writeln!(out, "remediation of {} removed", args.rule)?;
            Ok(0)
        }
        RemediationCommand::Run(args) => {
            let (job, queued) = backend.run_remediation(&args.rule, &args.resource.selector())?;
            let status = match job.state {
                JobState::Failed => 3,
                _ => 0,
            };
            if args.json {
                let answer = QueuedRemediation { queued, job };
                writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
            } else {
                if !queued {
                    writeln!(out, "job {} is already {}", job.id, job.state.as_str())?;
                }
                job_text(out, &job)?;
            }
            Ok(status)
        }
        RemediationCommand::List(args) => {
            let jobs = backend.jobs(&JobFilter {
                state: args.state,
                rule: args.rule,
            })?;
            if args.json {
                writeln!(out, "{}", serde_json::to_string_pretty(&JobList { jobs })?)?;
            } else {
                jobs_table(out, &jobs)?;
            }
            Ok(0)
        }
        RemediationCommand::Exception(command) => run_exception(out, backend, command),
    }
}

/// The flags of `remediation set` as the settings of `[remediation.RULE]` in the file.
fn settings_of(args: SetArgs) -> Result<RemediationSettings> {
    if args.action != ActionKind::Command && !args.command.is_empty() {
        bail!("only a command action takes a program after --");
    }
    let headers = args
        .headers
        .iter()
        .map(|h| {
            let (name, value) = h
                .split_once(':')
                .or_else(|| h.split_once('='))
                .with_context(|| format!("--header {h:?}: expected Name: value"))?;
            Ok((name.trim().to_string(), value.trim().to_string()))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    let header_env = args
        .header_env
        .iter()
        .map(|h| {
            let (name, variable) = h
                .split_once('=')
                .with_context(|| format!("--header-env {h:?}: expected Name=VARIABLE"))?;
            Ok((name.trim().to_string(), variable.trim().to_string()))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    let parameters = args
        .params
        .iter()
        .map(|p| {
            let (name, value) = p
                .split_once('=')
                .with_context(|| format!("--param {p:?}: expected name=VALUE"))?;
            Ok((name.trim().to_string(), value.to_string()))
        })
        .collect::<Result<BTreeMap<_, _>>>()?;
    Ok(RemediationSettings {
        action: args.action,
        url: args.url.clone(),
        headers,
        header_env,
        header_file: BTreeMap::new(),
        signing_secret: None,
        signing_secret_env: args.signing_secret_env.clone(),
        signing_secret_file: args.signing_secret_file.clone(),
        command: (!args.command.is_empty()).then(|| args.command.clone()),
        no_retry_exit_codes: args.no_retry_exit_codes.clone(),
        operation: args.operation,
        parameters,
        automatic: Some(args.automatic),
        max_attempts: Some(args.max_attempts),
        backoff: Some(args.backoff.clone()),
        jitter: Some(args.jitter),
        timeout: Some(args.timeout.clone()),
        concurrency: Some(args.concurrency),
    })
}

/// The settings a replacing `remediation set` changed, one `path: before → after` line each
/// (secrets as shown, redacted).
fn replaced_settings(before: &RemediationConfig, after: &RemediationConfig) -> Vec<String> {
    fn flatten(path: &str, value: &serde_json::Value, out: &mut BTreeMap<String, String>) {
        match value {
            serde_json::Value::Object(map) => {
                for (key, v) in map {
                    let path = if path.is_empty() {
                        key.clone()
                    } else {
                        format!("{path}.{key}")
                    };
                    flatten(&path, v, out);
                }
            }
            other => {
                out.insert(path.to_string(), other.to_string());
            }
        }
    }
    let settings = |config: &RemediationConfig| {
        let mut out = BTreeMap::new();
        if let Ok(serde_json::Value::Object(mut map)) = serde_json::to_value(config.redacted()) {
            map.remove("createdAt");
            map.remove("updatedAt");
            flatten("", &serde_json::Value::Object(map), &mut out);
        }
        out
    };
    let (old, new) = (settings(before), settings(after));
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    let none = "(none)".to_string();
    paths
        .into_iter()
        .filter(|p| old.get(*p) != new.get(*p))
        .map(|p| {
            let (was, now) = (old.get(p).unwrap_or(&none), new.get(p).unwrap_or(&none));
            format!("{p}: {was} → {now}")
        })
        .collect()
}

/// A settings error in the command line's words: `.backoff: …` becomes `--backoff: …`.
fn flag_message(message: &str) -> String {
    let message = message.strip_prefix("body").unwrap_or(message);
    match message.strip_prefix('.') {
        Some(rest) => match rest.strip_prefix("parameters.") {
            Some(param) => format!("--param {param}"),
            None => format!("--{}", rest.replacen('_', "-", 2)),
        },
        None => message.trim_start_matches(": ").to_string(),
    }
}

fn configs_table(out: &mut impl Write, configs: &[RemediationConfig]) -> Result<()> {
    let rows: Vec<Vec<String>> = configs
        .iter()
        .map(|c| {
            vec![
                c.rule_name.clone(),
                c.action.describe(),
                if c.automatic { "automatic" } else { "manual" }.to_string(),
                c.parameters
                    .iter()
                    .map(|(k, v)| format!("{k}={}", v.describe()))
                    .collect::<Vec<_>>()
                    .join(" "),
                c.max_attempts.to_string(),
                c.backoff.describe(),
                format_duration(std::time::Duration::from_millis(c.timeout_ms)),
                c.concurrency.to_string(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "RULE",
            "ACTION",
            "MODE",
            "PARAMETERS",
            "ATTEMPTS",
            "BACKOFF",
            "TIMEOUT",
            "CONCURRENCY",
        ],
        &rows,
    )?;
    Ok(())
}

fn last_result(job: &RemediationJob) -> String {
    job.attempts
        .last()
        .map(|a| {
            let text = match a.outcome {
                None => "running".to_string(),
                Some(_) => a.message.clone(),
            };
            text.lines()
                .next()
                .unwrap_or_default()
                .chars()
                .take(60)
                .collect()
        })
        .unwrap_or_default()
}

fn jobs_table(out: &mut impl Write, jobs: &[RemediationJob]) -> Result<()> {
    let rows: Vec<Vec<String>> = jobs
        .iter()
        .map(|j| {
            vec![
                j.id.to_string(),
                j.rule_name.clone(),
                format!("{} {}", j.resource.resource_type, j.resource.resource_id),
                j.configuration_version.to_string(),
                j.state.as_str().to_string(),
                j.attempts.len().to_string(),
                last_result(j),
                j.next_attempt_at
                    .map(|t| format_time(&t))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    table(
        out,
        &[
            "JOB",
            "RULE",
            "RESOURCE",
            "VERSION",
            "STATE",
            "ATTEMPTS",
            "LAST RESULT",
            "NEXT ATTEMPT",
        ],
        &rows,
    )?;
    writeln!(out, "{} jobs", jobs.len())?;
    Ok(())
}

/// One line per attempt of a job (shared by `remediation run` and `timeline`).
pub(super) fn attempt_lines(
    out: &mut impl Write,
    job: &RemediationJob,
    indent: &str,
) -> Result<()> {
    for a in &job.attempts {
        let outcome = a
            .outcome
            .map(|o| format!("{o:?}").to_lowercase())
            .unwrap_or_else(|| "running".into());
        writeln!(
            out,
            "{indent}attempt {} at {}: {outcome}: {}",
            a.number,
            format_time(&a.started_at),
            a.message
        )?;
    }
    Ok(())
}

/// A job for people: state and every attempt.
pub(super) fn job_text(out: &mut impl Write, job: &RemediationJob) -> Result<()> {
    writeln!(
        out,
        "job {} {} on {} {} version {}: {}{}",
        job.id,
        job.rule_name,
        job.resource.resource_type,
        job.resource.resource_id,
        job.configuration_version,
        job.state.as_str(),
        job.state_reason
            .as_ref()
            .map(|r| format!(" ({r})"))
            .unwrap_or_default()
    )?;
    attempt_lines(out, job, "  ")?;
    if let Some(next) = job.next_attempt_at {
        writeln!(
            out,
            "  next attempt at {} (conftrail worker runs the queue)",
            format_time(&next)
        )?;
    }
    Ok(())
}

fn run_exception(out: &mut impl Write, backend: &Backend, command: ExceptionCommand) -> Result<u8> {
    match command {
        ExceptionCommand::Add(args) => {
            let sel = args.target.resource.selector();
            let exception = backend
                .add_exception(&args.target.rule, &sel, &args.reason, args.expires)
                .map_err(|e| anyhow::anyhow!("--{e}"))?;
            writeln!(
                out,
                "exception added: no automatic {} remediation on {}{}",
                exception.rule_name,
                exception.resource.key(),
                exception
                    .expires_at
                    .map(|t| format!(" until {}", format_time(&t)))
                    .unwrap_or_default()
            )?;
            Ok(0)
        }
        ExceptionCommand::List(flag) => {
            let exceptions = backend.exceptions()?;
            if flag.json {
                let list = ExceptionList { exceptions };
                writeln!(out, "{}", serde_json::to_string_pretty(&list)?)?;
                return Ok(0);
            }
            let now = now_millis();
            let rows: Vec<Vec<String>> = exceptions
                .iter()
                .map(|e| {
                    vec![
                        e.rule_name.clone(),
                        format!("{} {}", e.resource.resource_type, e.resource.resource_id),
                        e.reason.clone(),
                        e.expires_at.map(|t| format_time(&t)).unwrap_or_default(),
                        if e.is_active(now) {
                            "active"
                        } else {
                            "expired"
                        }
                        .to_string(),
                    ]
                })
                .collect();
            table(
                out,
                &["RULE", "RESOURCE", "REASON", "EXPIRES", "STATE"],
                &rows,
            )?;
            Ok(0)
        }
        ExceptionCommand::Remove(target) => {
            backend.remove_exception(&target.rule, &target.resource.selector())?;
            writeln!(out, "exception removed")?;
            Ok(0)
        }
    }
}
