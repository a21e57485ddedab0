//! Where a command's data lives: the local store (through the application's use cases) or a
//! running server (through its HTTP API). Both answer with the same types, so every command
//! renders the same output, tables, `--json` and exit codes, in either mode.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use serde_json::{json, Value};

use super::client::{server_error, Body, Client};
use crate::app::events::{EventsPage, LookupEvent, PurgeReport};
use crate::app::ingest::IngestProgress;
use crate::app::lists::{
    AuditList, Evaluations, ExceptionList, JobList, QueuedRemediation, RemediationConfigList,
    ResourceList, RuleList, RuleView,
};
use crate::app::queries::{JobFilter, ResourceComplianceView};
use crate::app::{App, IngestReport, RuleChange};
use crate::config_file::{RemediationSettings, RuleSettings};
use crate::evaluator::{ComplianceFilter, ComplianceSummary, EvaluationCounts, ScopeFilter};
use crate::model::{
    format_time, AuditEntry, ConfigurationItem, JobState, RemediationConfig, RemediationException,
    RemediationJob, Timestamp,
};
use crate::query::{
    DiffResponse, EventLookup, HistoryResponse, ResourceEntry, ResourceSelector, VersionSelector,
};
use crate::rules::AddRule;
use crate::store::{HistoryOrder, HistoryQuery};
use crate::timeline::Timeline;

/// Events asked of a server per request of an export.
const REMOTE_EXPORT_PAGE: u32 = 1000;

/// The query string of `GET /v1/events` for a lookup.
fn event_params(lookup: &EventLookup) -> Params {
    Params::default()
        .add("eventName", lookup.event_name.as_ref())
        .add("user", lookup.user.as_ref())
        .add("resourceType", lookup.resource_type.as_ref())
        .add("resourceName", lookup.resource_name.as_ref())
        .add("eventSource", lookup.event_source.as_ref())
        .add("accessKey", lookup.access_key.as_ref())
        .add("readOnly", lookup.read_only.as_ref())
        .add("eventId", lookup.event_id.as_ref())
        .add("since", lookup.since.as_ref())
        .add("until", lookup.until.as_ref())
        .add("limit", lookup.limit)
        .add("next", lookup.next.as_ref())
}

/// How long `remediation run` waits for a server's worker to make the attempt.
const RUN_WAIT: Duration = Duration::from_secs(120);

/// The local store or a running server.
pub enum Backend {
    /// The store in the data directory, opened by this process.
    Local(App),
    /// A `conftrail serve` reached over HTTP.
    Remote(Client),
}

/// Query parameters, absent ones left out.
#[derive(Default)]
struct Params(Vec<(&'static str, String)>);

impl Params {
    fn add(mut self, name: &'static str, value: Option<impl ToString>) -> Params {
        if let Some(value) = value {
            self.0.push((name, value.to_string()));
        }
        self
    }

    fn at(self, sel: &ResourceSelector) -> Params {
        self.add("account", sel.account_id.as_ref())
            .add("region", sel.region.as_ref())
    }
}

impl serde::Serialize for Params {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(serializer)
    }
}

/// `/v1/resources/{type}/{id}` and what follows it.
fn resource_path(sel: &ResourceSelector, rest: &[&str]) -> String {
    let mut segments = vec!["", "v1", "resources", &sel.resource_type, &sel.resource_id];
    segments.extend_from_slice(rest);
    Client::path(&segments)
}

impl Backend {
    /// The application, for what only runs where the store is (the worker, `serve`).
    pub fn local(&self, what: &str) -> Result<&App> {
        match self {
            Backend::Local(app) => Ok(app),
            Backend::Remote(_) => bail!(
                "{what} runs where the data directory is, not against a server (drop --server)"
            ),
        }
    }

    /// Records files and directories (judging new versions unless `evaluate` is false). A
    /// server gets each document as one `POST /v1/ingest`, named by its path, as it is stored
    /// (gzip stays compressed: the server decompresses it, within its own bounds).
    /// `progress` hears how far it got (per document from a server, per batch locally).
    pub fn ingest(
        &self,
        paths: &[PathBuf],
        evaluate: bool,
        progress: &mut dyn FnMut(&IngestProgress),
    ) -> Result<IngestReport> {
        let client = match self {
            Backend::Local(app) => {
                return Ok(app.ingest_paths_reporting(paths, evaluate, progress)?)
            }
            Backend::Remote(client) => client,
        };
        let mut report = IngestReport::default();
        let files = crate::ingest::collect_files(paths)?;
        let documents = files.len();
        for (i, file) in files.into_iter().enumerate() {
            progress(&IngestProgress {
                document: i + 1,
                documents,
                report: &report,
            });
            let source = file.display().to_string();
            let bytes = match read_request_body(&file) {
                Ok(bytes) => bytes,
                Err(reason) => {
                    report.merge(IngestReport::unreadable(&source, reason));
                    continue;
                }
            };
            let content_type = if bytes.starts_with(&[0x1f, 0x8b]) {
                "application/gzip"
            } else {
                "application/json"
            };
            let params = Params::default()
                .add("source", Some(&source))
                .add("evaluate", (!evaluate).then_some(false));
            let (status, text) = client.exchange(
                "POST",
                "/v1/ingest",
                &params,
                Body::Bytes(&bytes, content_type),
            )?;
            // 400 with a report: nothing usable in the document, which the report says why.
            match serde_json::from_str::<IngestReport>(&text) {
                Ok(answer) if status < 300 || status == 400 => report.merge(answer),
                // A document the server could not read at all (broken gzip, too large once
                // decompressed): one problem of that file, as when it is read locally.
                _ if status == 400 || status == 413 => match unreadable_reason(&text, &source) {
                    Some(reason) => report.merge(IngestReport::unreadable(&source, reason)),
                    None => {
                        return Err(
                            server_error(status, &text).context(format!("ingesting {source}"))
                        )
                    }
                },
                _ => return Err(server_error(status, &text).context(format!("ingesting {source}"))),
            }
        }
        Ok(report)
    }

    /// Every recorded resource (of a type, when given).
    pub fn resources(&self, resource_type: Option<&str>) -> Result<Vec<ResourceEntry>> {
        match self {
            Backend::Local(app) => Ok(app.resources(resource_type)?),
            Backend::Remote(client) => {
                let list: ResourceList = client.get(
                    "/v1/resources",
                    &Params::default().add("type", resource_type),
                )?;
                Ok(list.resources)
            }
        }
    }

    /// One page of a resource's versions.
    pub fn history(&self, sel: &ResourceSelector, q: &HistoryQuery) -> Result<HistoryResponse> {
        match self {
            Backend::Local(app) => Ok(app.history(sel, q)?),
            Backend::Remote(client) => {
                let params = Params::default()
                    .at(sel)
                    .add("since", q.since.as_ref().map(format_time))
                    .add("until", q.until.as_ref().map(format_time))
                    .add(
                        "order",
                        Some(match q.order {
                            HistoryOrder::Forward => "forward",
                            HistoryOrder::Reverse => "reverse",
                        }),
                    )
                    .add("limit", Some(q.limit))
                    .add("next", q.after.as_ref().map(|t| t.encode()));
                client.get(&resource_path(sel, &["history"]), &params)
            }
        }
    }

    /// One version, with the API calls linked to it.
    pub fn show(
        &self,
        sel: &ResourceSelector,
        which: VersionSelector,
    ) -> Result<ConfigurationItem> {
        match self {
            Backend::Local(app) => Ok(app.show(sel, which)?),
            Backend::Remote(client) => match which {
                VersionSelector::Latest => {
                    client.get(&resource_path(sel, &[]), &Params::default().at(sel))
                }
                VersionSelector::At(at) => client.get(
                    &resource_path(sel, &[]),
                    &Params::default().at(sel).add("at", Some(format_time(&at))),
                ),
                VersionSelector::Number(n) => client.get(
                    &resource_path(sel, &["versions", &n.to_string()]),
                    &Params::default().at(sel),
                ),
            },
        }
    }

    /// What changed between two versions.
    pub fn diff(
        &self,
        sel: &ResourceSelector,
        from: Option<u64>,
        to: Option<u64>,
    ) -> Result<DiffResponse> {
        match self {
            Backend::Local(app) => Ok(app.diff(sel, from, to)?),
            Backend::Remote(client) => client.get(
                &resource_path(sel, &["diff"]),
                &Params::default().at(sel).add("from", from).add("to", to),
            ),
        }
    }

    /// A resource's timeline.
    pub fn timeline(&self, sel: &ResourceSelector) -> Result<Timeline> {
        match self {
            Backend::Local(app) => Ok(app.timeline(sel)?),
            Backend::Remote(client) => client.get(
                &resource_path(sel, &["timeline"]),
                &Params::default().at(sel),
            ),
        }
    }

    /// API events matching a lookup.
    pub fn events(&self, lookup: &EventLookup) -> Result<EventsPage> {
        match self {
            Backend::Local(app) => Ok(app.events(lookup)?),
            Backend::Remote(client) => client.get("/v1/events", &event_params(lookup)),
        }
    }

    /// Hands every API event matching a lookup (or its first `lookup.limit`) to `each`, a page
    /// at a time; the next page's token when the limit left events out.
    pub fn export_events(
        &self,
        lookup: &EventLookup,
        mut each: impl FnMut(&[LookupEvent]) -> Result<()>,
    ) -> Result<Option<String>> {
        match self {
            Backend::Local(app) => {
                let mut export = app.export_events(lookup)?;
                for page in export.by_ref() {
                    each(&page?)?;
                }
                Ok(export.next_token())
            }
            Backend::Remote(client) => {
                let mut lookup = lookup.clone();
                let mut remaining = lookup.limit;
                loop {
                    lookup.limit =
                        Some(remaining.map_or(REMOTE_EXPORT_PAGE, |r| r.min(REMOTE_EXPORT_PAGE)));
                    let page: EventsPage = client.get("/v1/events", &event_params(&lookup))?;
                    each(&page.events)?;
                    if let Some(r) = &mut remaining {
                        *r = r.saturating_sub(page.events.len() as u32);
                    }
                    match page.next_token {
                        Some(next) if remaining != Some(0) => lookup.next = Some(next),
                        next => return Ok(next),
                    }
                }
            }
        }
    }

    /// Removes API events older than the retention (or says what that would remove).
    pub fn purge_events(&self, retention_days: u32, dry_run: bool) -> Result<PurgeReport> {
        match self {
            Backend::Local(app) => Ok(app.purge_events(retention_days, dry_run)?),
            Backend::Remote(client) => client.send(
                "POST",
                "/v1/events/purge",
                &Params::default()
                    .add("retentionDays", Some(retention_days))
                    .add("dryRun", dry_run.then_some(true)),
                Body::None,
            ),
        }
    }

    /// Latest verdicts summarised per rule and resource.
    pub fn compliance(&self, filter: &ComplianceFilter) -> Result<ComplianceSummary> {
        match self {
            Backend::Local(app) => Ok(app.compliance(filter)?),
            Backend::Remote(client) => client.get(
                "/v1/compliance",
                &Params::default()
                    .add("rule", filter.rule.as_ref())
                    .add("type", filter.resource_type.as_ref())
                    .add("state", filter.state.map(|s| s.as_str())),
            ),
        }
    }

    /// A resource's verdicts over time (of one rule, when given).
    pub fn resource_compliance(
        &self,
        sel: &ResourceSelector,
        rule: Option<&str>,
    ) -> Result<ResourceComplianceView> {
        match self {
            Backend::Local(app) => Ok(app.resource_compliance(sel, rule, true)?),
            Backend::Remote(client) => client.get(
                &resource_path(sel, &["compliance"]),
                &Params::default().at(sel).add("rule", rule),
            ),
        }
    }

    /// Every rule.
    pub fn rules(&self) -> Result<Vec<RuleView>> {
        match self {
            Backend::Local(app) => Ok(app.rule_views()?),
            Backend::Remote(client) => {
                let list: RuleList = client.get("/v1/rules", &Params::default())?;
                Ok(list.rules)
            }
        }
    }

    /// Registers a rule, then judges its scope.
    pub fn add_rule(&self, wasm: &[u8], options: AddRule) -> Result<RuleChange> {
        let client = match self {
            Backend::Local(app) => return Ok(app.add_rule(wasm, options)?),
            Backend::Remote(client) => client,
        };
        let tag = options.tag.map(|t| match t.value {
            Some(value) => format!("{}={value}", t.key),
            None => t.key,
        });
        let params = Params::default()
            .add("name", options.name)
            .add("types", options.resource_types.map(|t| t.join(",")))
            .add("tag", tag)
            .add("resourceId", options.resource_id)
            .add(
                "params",
                options.parameters.map(|p| Value::Object(p).to_string()),
            )
            .add(
                "triggers",
                options
                    .triggers
                    .map(|t| t.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")),
            )
            .add("deadlineMs", options.deadline_ms)
            .add("memoryLimitMib", options.memory_limit_mib)
            .add("disabled", options.disabled.then_some(true));
        client.send(
            "POST",
            "/v1/rules",
            &params,
            Body::Bytes(wasm, "application/wasm"),
        )
    }

    /// Changes a rule's settings and, when given, its binary; judges its scope again when that
    /// can change verdicts.
    pub fn change_rule(
        &self,
        name: &str,
        wasm: Option<Vec<u8>>,
        settings: &RuleSettings,
    ) -> Result<RuleChange> {
        let client = match self {
            Backend::Local(app) => return Ok(app.change_rule(name, wasm, settings, "")?),
            Backend::Remote(client) => client,
        };
        let path = Client::path(&["", "v1", "rules", name]);
        let mut change = None;
        if let Some(wasm) = &wasm {
            change = Some(client.send(
                "PUT",
                &path,
                &Params::default(),
                Body::Bytes(wasm, "application/wasm"),
            )?);
        }
        if wasm.is_none() || *settings != RuleSettings::default() {
            let body = serde_json::to_value(settings)?;
            change = Some(client.send("PATCH", &path, &Params::default(), Body::Json(body))?);
        }
        change.context("nothing to change")
    }

    /// Removes an added rule.
    pub fn remove_rule(&self, name: &str) -> Result<()> {
        match self {
            Backend::Local(app) => Ok(app.remove_rule(name)?),
            Backend::Remote(client) => {
                let path = Client::path(&["", "v1", "rules", name]);
                client.call("DELETE", &path, &Params::default(), Body::None)?;
                Ok(())
            }
        }
    }

    /// Judges the latest versions in scope now (of one rule, or of every enabled rule).
    pub fn evaluate(&self, rule: Option<&str>, filter: &ScopeFilter) -> Result<EvaluationCounts> {
        match self {
            Backend::Local(app) => Ok(app.evaluate_now(rule, filter)?),
            Backend::Remote(client) => {
                let answer: Evaluations = client.send(
                    "POST",
                    "/v1/evaluate",
                    &Params::default()
                        .add("rule", rule)
                        .add("resourceType", filter.resource_type.as_ref())
                        .add("resourceId", filter.resource_id.as_ref()),
                    Body::None,
                )?;
                Ok(answer.evaluations)
            }
        }
    }

    /// Remediation configurations (of one rule, when given).
    pub fn remediation_configs(&self, rule: Option<&str>) -> Result<Vec<RemediationConfig>> {
        match (self, rule) {
            (Backend::Local(app), _) => Ok(app.remediation_configs(rule)?),
            (Backend::Remote(client), None) => {
                let list: RemediationConfigList =
                    client.get("/v1/remediation/configurations", &Params::default())?;
                Ok(list.configurations)
            }
            (Backend::Remote(client), Some(rule)) => Ok(vec![client.get(
                &Client::path(&["", "v1", "remediation", "configurations", rule]),
                &Params::default(),
            )?]),
        }
    }

    /// Sets a rule's remediation.
    pub fn set_remediation(
        &self,
        rule: &str,
        settings: &RemediationSettings,
    ) -> Result<RemediationConfig> {
        match self {
            Backend::Local(app) => Ok(app.set_remediation(rule, settings, "")?),
            Backend::Remote(client) => client.send(
                "PUT",
                &Client::path(&["", "v1", "remediation", "configurations", rule]),
                &Params::default(),
                Body::Json(serde_json::to_value(settings)?),
            ),
        }
    }

    /// Removes a rule's remediation.
    pub fn remove_remediation(&self, rule: &str) -> Result<()> {
        match self {
            Backend::Local(app) => Ok(app.remove_remediation(rule)?),
            Backend::Remote(client) => {
                let path = Client::path(&["", "v1", "remediation", "configurations", rule]);
                client.call("DELETE", &path, &Params::default(), Body::None)?;
                Ok(())
            }
        }
    }

    /// Queues a remediation run of a resource and makes its attempt: here, or by the server's
    /// worker (waited for). Returns the job after the attempt and whether it was queued.
    pub fn run_remediation(
        &self,
        rule: &str,
        sel: &ResourceSelector,
    ) -> Result<(RemediationJob, bool)> {
        let client = match self {
            Backend::Local(app) => {
                app.rule(rule)?;
                let key = app.resolve(sel)?;
                let (job, queued) = app.queue_remediation(rule, &key)?;
                let job = if queued { app.attempt_job(job)? } else { job };
                return Ok((job, queued));
            }
            Backend::Remote(client) => client,
        };
        let body = exception_target(rule, sel);
        let QueuedRemediation { queued, mut job } = client.send(
            "POST",
            "/v1/remediation/run",
            &Params::default(),
            Body::Json(body),
        )?;
        if !queued {
            return Ok((job, false));
        }
        // The server's worker runs the attempt; wait until it has.
        let attempts = job.attempts.len();
        let path = Client::path(&["", "v1", "remediation", "jobs", &job.id.to_string()]);
        let started = Instant::now();
        while started.elapsed() < RUN_WAIT
            && (job.state == JobState::InProgress
                || (job.state == JobState::Queued && job.attempts.len() == attempts))
        {
            std::thread::sleep(Duration::from_millis(100));
            job = client.get(&path, &Params::default())?;
        }
        Ok((job, true))
    }

    /// Remediation jobs.
    pub fn jobs(&self, filter: &JobFilter) -> Result<Vec<RemediationJob>> {
        match self {
            Backend::Local(app) => Ok(app.jobs(filter)?),
            Backend::Remote(client) => {
                let list: JobList = client.get(
                    "/v1/remediation/jobs",
                    &Params::default()
                        .add("state", filter.state.map(|s| s.as_str()))
                        .add("rule", filter.rule.as_ref()),
                )?;
                Ok(list.jobs)
            }
        }
    }

    /// Exempts a resource from a rule's automatic remediation.
    pub fn add_exception(
        &self,
        rule: &str,
        sel: &ResourceSelector,
        reason: &str,
        expires: Option<Timestamp>,
    ) -> Result<RemediationException> {
        match self {
            Backend::Local(app) => Ok(app.add_exception(rule, sel, reason, expires)?),
            Backend::Remote(client) => {
                let mut body = exception_target(rule, sel);
                body["reason"] = json!(reason);
                if let Some(expires) = expires {
                    body["expires"] = json!(format_time(&expires));
                }
                client.send(
                    "PUT",
                    "/v1/remediation/exceptions",
                    &Params::default(),
                    Body::Json(body),
                )
            }
        }
    }

    /// Removes an exception.
    pub fn remove_exception(&self, rule: &str, sel: &ResourceSelector) -> Result<()> {
        match self {
            Backend::Local(app) => Ok(app.remove_exception(rule, sel)?),
            Backend::Remote(client) => {
                let params = Params::default()
                    .add("rule", Some(rule))
                    .add("resourceType", Some(&sel.resource_type))
                    .add("resourceId", Some(&sel.resource_id))
                    .add("account", sel.account_id.as_ref())
                    .add("region", sel.region.as_ref());
                client.call("DELETE", "/v1/remediation/exceptions", &params, Body::None)?;
                Ok(())
            }
        }
    }

    /// Entries of the audit trail.
    pub fn audit(&self, since: Option<Timestamp>, limit: Option<usize>) -> Result<Vec<AuditEntry>> {
        match self {
            Backend::Local(app) => Ok(app.audit_entries(since, limit)?),
            Backend::Remote(client) => {
                let list: AuditList = client.get(
                    "/v1/audit",
                    &Params::default()
                        .add("since", since.map(|t| format_time(&t)))
                        .add("limit", limit),
                )?;
                Ok(list.entries)
            }
        }
    }

    /// Every exception.
    pub fn exceptions(&self) -> Result<Vec<RemediationException>> {
        match self {
            Backend::Local(app) => Ok(app.exceptions()?),
            Backend::Remote(client) => {
                let list: ExceptionList =
                    client.get("/v1/remediation/exceptions", &Params::default())?;
                Ok(list.exceptions)
            }
        }
    }
}

/// The (rule, resource) pair of the exception and run routes.
fn exception_target(rule: &str, sel: &ResourceSelector) -> Value {
    json!({
        "rule": rule,
        "resourceType": sel.resource_type,
        "resourceId": sel.resource_id,
        "account": sel.account_id,
        "region": sel.region,
    })
}

/// Reads a rule binary named on the command line.
pub fn read_rule_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read rule {}", path.display()))
}

/// Why the server could not read a document, from its error answer (`{"error", "message"}`,
/// the message starting with the source's name), without the name.
fn unreadable_reason(answer: &str, source: &str) -> Option<String> {
    let answer: Value = serde_json::from_str(answer).ok()?;
    let message = answer.get("message")?.as_str()?;
    let reason = message
        .strip_prefix(source)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message);
    Some(reason.to_string())
}

/// A file as it is stored, for one `POST /v1/ingest`: at most what a server takes in a request.
fn read_request_body(path: &Path) -> std::result::Result<Vec<u8>, String> {
    use std::io::Read;
    let limit = crate::api::MAX_BODY_BYTES;
    let mut bytes = Vec::new();
    crate::ingest::open_input(path)
        .map_err(|e| e.reason())?
        .take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() > limit {
        return Err(format!(
            "larger than {limit} bytes, the most a server takes in one request: split it, or \
             ingest it where the data directory is"
        ));
    }
    Ok(bytes)
}
