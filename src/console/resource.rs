//! A resource's page: its merged timeline newest first (versions with changed paths and a
//! diff on request, the API calls linked to each, verdict transitions, remediation jobs with
//! every attempt, exceptions), the configuration and compliance "as of" a chosen time, its
//! relationships, and each version's JSON to copy.

use std::collections::BTreeMap;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::diff_view::{self, SplitRow, UnifiedLine};
use super::format::{dom_id, query_string, resource_link, Badge, Time};
use super::page::{render, Layout};
use super::which::Which;
use super::{blocking, ConsoleState, PageError, Viewer};
use crate::app::AppError;
use crate::model::{
    parse_time_arg, parse_until_arg, ConfigurationItem, Outcome, RemediationJob, Timestamp,
};
use crate::query::{ResourceSelector, VersionSelector};
use crate::timeline::{ApiCallView, TimelineEntry, TimelinePage};

/// Versions per timeline page (with their evaluations, jobs and exceptions).
const PAGE_VERSIONS: usize = 20;

/// The page's options.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub(super) struct PageParams {
    #[serde(flatten)]
    which: Which,
    /// Show the configuration and compliance at this time.
    #[serde(rename = "asOf")]
    as_of: String,
    /// Entries older than this token (a previous page's).
    before: String,
    /// Every evaluation, not only the transitions.
    all: Option<String>,
    /// A notice after a write.
    done: String,
}

struct CallRow {
    time: Time,
    event_name: String,
    user: String,
    user_arn: String,
    source_ip: String,
    user_agent: String,
    effect: String,
    likely_cause: bool,
    record_link: String,
    record_fragment: String,
    dom_id: String,
}

fn call_row(call: &ApiCallView) -> CallRow {
    let id = super::format::encode(&call.event_id);
    CallRow {
        time: Time::text(&call.event_time),
        event_name: call.event_name.clone(),
        user: call.username.clone(),
        user_arn: call.user_arn.clone().unwrap_or_default(),
        source_ip: call.source_ip_address.clone().unwrap_or_default(),
        user_agent: call.user_agent.clone().unwrap_or_default(),
        effect: call.effect.clone(),
        likely_cause: call.likely_cause,
        record_link: format!("/events?eventId={id}"),
        record_fragment: format!("/events/record?id={id}"),
        dom_id: dom_id("rec", &call.event_id),
    }
}

struct AttemptRow {
    number: u32,
    started: Time,
    outcome: String,
    detail: String,
}

/// One entry as the page shows it.
enum Entry {
    Version {
        time: Time,
        version: u64,
        change_type: String,
        status: String,
        paths: Vec<String>,
        calls: Vec<CallRow>,
        diff_link: String,
        json_link: String,
    },
    Evaluation {
        time: Time,
        rule: String,
        badge: Badge,
        from: Option<Badge>,
        annotation: String,
        trigger: String,
        version: u64,
        error: String,
    },
    Job {
        time: Time,
        id: u64,
        rule: String,
        badge: Badge,
        reason: String,
        attempts: Vec<AttemptRow>,
    },
    Exception {
        time: Time,
        rule: String,
        reason: String,
        expires: String,
        active: bool,
    },
}

struct Relation {
    name: String,
    resource_type: String,
    resource: String,
    link: Option<String>,
}

struct RuleState {
    rule: String,
    badge: Badge,
    annotation: String,
    since: Time,
}

#[derive(Template)]
#[template(path = "resource.html")]
struct Page {
    layout: Layout,
    which: Which,
    self_link: String,
    name: String,
    arn: String,
    status: String,
    as_of: Option<Time>,
    as_of_text: String,
    shown_version: Option<u64>,
    shown_json: String,
    compliance: Vec<RuleState>,
    relations: Vec<Relation>,
    entries: Vec<Entry>,
    pending: Vec<CallRow>,
    older: Option<String>,
    newest: Option<String>,
    all: bool,
    toggle_all: String,
    rules: Vec<String>,
    done: String,
}

/// The JSON of a version as `conftrail show --json` writes it.
fn pretty(item: &ConfigurationItem) -> Result<String, PageError> {
    serde_json::to_string_pretty(item)
        .map_err(|e| PageError::internal(format!("cannot show the version as JSON: {e}")))
}

fn time_arg(name: &str, text: &str, until: bool) -> Result<Option<Timestamp>, PageError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let parsed = if until {
        parse_until_arg(text)
    } else {
        parse_time_arg(text)
    };
    parsed
        .map(Some)
        .map_err(|e| PageError::bad_request(format!("{name}: {e}")))
}

fn attempts(job: &RemediationJob) -> Vec<AttemptRow> {
    job.attempts
        .iter()
        .map(|a| {
            let mut detail = a.message.clone();
            if let Some(status) = a.http_status {
                detail.push_str(&format!(" (HTTP {status})"));
            }
            if let Some(code) = a.exit_code {
                detail.push_str(&format!(" (exit {code})"));
            }
            AttemptRow {
                number: a.number,
                started: Time::of(&a.started_at),
                outcome: a
                    .outcome
                    .map_or("running".to_string(), |o| o.as_str().to_string()),
                detail,
            }
        })
        .collect()
}

fn entry(which: &Which, e: TimelineEntry) -> Entry {
    match e {
        TimelineEntry::Configuration(v) => {
            let version = v.version.to_string();
            let link = |path: &str| {
                format!(
                    "{path}?{}",
                    query_string([
                        ("type", which.resource_type.as_str()),
                        ("id", &which.id),
                        ("account", &which.account),
                        ("region", &which.region),
                        ("version", &version),
                    ])
                )
            };
            Entry::Version {
                time: Time::text(&v.time),
                version: v.version,
                change_type: format!("{:?}", v.change_type).to_uppercase(),
                status: v.configuration_item_status,
                paths: v.changed_properties,
                calls: v.api_calls.iter().map(call_row).collect(),
                diff_link: link("/resource/diff"),
                json_link: link("/resource/version"),
            }
        }
        TimelineEntry::Evaluation(e) => {
            let record = e.evaluation;
            let (badge, annotation, error) = match &record.report.outcome {
                Outcome::Verdict(v) => (
                    Badge::compliance(v.compliance.as_str()),
                    v.annotation.clone().unwrap_or_default(),
                    String::new(),
                ),
                Outcome::Error { reason, .. } => (
                    Badge {
                        class: "bad",
                        icon: "!",
                        word: "Rule failed",
                    },
                    String::new(),
                    reason.clone(),
                ),
            };
            Entry::Evaluation {
                time: Time::text(&e.time),
                rule: record.rule_name,
                badge,
                from: record.changed_from.map(|c| Badge::compliance(c.as_str())),
                annotation,
                trigger: record.trigger.as_str().to_string(),
                version: record.configuration_version,
                error,
            }
        }
        TimelineEntry::Remediation(r) => Entry::Job {
            time: Time::text(&r.time),
            id: r.job.id,
            rule: r.job.rule_name.clone(),
            badge: Badge::job(r.job.state),
            reason: r.job.state_reason.clone().unwrap_or_default(),
            attempts: attempts(&r.job),
        },
        TimelineEntry::Exception(x) => Entry::Exception {
            time: Time::text(&x.time),
            rule: x.exception.rule_name,
            reason: x.exception.reason,
            expires: x
                .exception
                .expires_at
                .map_or("never".to_string(), |t| Time::of(&t).shown),
            active: x.active,
        },
    }
}

/// Whether a timeline entry is shown: every version, job and exception; of evaluations, the
/// transitions and failures unless all are asked for.
fn shown(entry: &TimelineEntry, all: bool) -> bool {
    match entry {
        TimelineEntry::Evaluation(e) => {
            all || e.evaluation.compliance_changed
                || e.evaluation.report.outcome.compliance().is_none()
        }
        _ => true,
    }
}

/// `GET /resource`.
pub(super) async fn page(
    State(state): State<Arc<ConsoleState>>,
    viewer: Viewer,
    Query(params): Query<PageParams>,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let app = &state.app;
        let key = app.resolve(&params.which.selector()?)?;
        // Links name the resource exactly, even when the request left account or region out.
        let which = Which {
            resource_type: key.resource_type.clone(),
            id: key.resource_id.clone(),
            account: key.account_id.clone(),
            region: key.region.clone(),
        };
        let sel = which.selector()?;
        let all = params.all.is_some();
        let as_of = time_arg("asOf", &params.as_of, true)?;
        let before = Some(params.before.trim().to_string()).filter(|b| !b.is_empty());
        let mut page: TimelinePage = app.timeline_page(&sel, before.as_deref(), PAGE_VERSIONS)?;
        page.entries.retain(|e| shown(e, all));
        let latest = app.stored_version(&sel, VersionSelector::Latest)?;
        let shown_item = match as_of {
            Some(t) => match app.stored_version(&sel, VersionSelector::At(t)) {
                Ok(item) => Some(item),
                Err(AppError::Query(_)) => None,
                Err(e) => return Err(e.into()),
            },
            None => Some(latest.clone()),
        };
        let compliance = compliance_at(app, &sel, as_of)?;
        let link_with = |extra: &[(&str, &str)]| {
            let mut pairs = vec![
                ("type", which.resource_type.as_str()),
                ("id", which.id.as_str()),
                ("account", which.account.as_str()),
                ("region", which.region.as_str()),
                ("asOf", params.as_of.as_str()),
                ("all", if all { "1" } else { "" }),
            ];
            pairs.extend_from_slice(extra);
            format!("/resource?{}", query_string(pairs))
        };
        let older = page.older.as_deref().map(|t| link_with(&[("before", t)]));
        let newest = before.as_ref().map(|_| link_with(&[]));
        let toggle_all = format!(
            "/resource?{}",
            query_string([
                ("type", which.resource_type.as_str()),
                ("id", which.id.as_str()),
                ("account", which.account.as_str()),
                ("region", which.region.as_str()),
                ("asOf", params.as_of.as_str()),
                ("all", if all { "" } else { "1" }),
            ])
        );
        let relations = latest
            .relationships
            .iter()
            .map(|r| Relation {
                name: r.name.clone(),
                resource_type: r.resource_type.clone(),
                resource: r
                    .resource_id
                    .clone()
                    .or_else(|| r.resource_name.clone())
                    .unwrap_or_default(),
                link: r.resource_id.as_ref().map(|id| {
                    resource_link(&r.resource_type, id, &latest.account_id, &latest.aws_region)
                }),
            })
            .collect();
        let rules = app.rules()?.into_iter().map(|r| r.name).collect();
        render(&Page {
            layout: Layout::new(
                format!("{} {}", which.resource_type, which.id),
                &viewer,
                "inventory",
            ),
            self_link: which.link(),
            name: latest.resource_name.clone().unwrap_or_default(),
            arn: latest.arn.clone().unwrap_or_default(),
            status: latest.configuration_item_status.as_str().to_string(),
            as_of: as_of.as_ref().map(Time::of),
            as_of_text: params.as_of.clone(),
            shown_version: shown_item.as_ref().and_then(|i| i.version_number()),
            shown_json: shown_item
                .as_ref()
                .map(pretty)
                .transpose()?
                .unwrap_or_default(),
            compliance,
            relations,
            entries: page.entries.into_iter().map(|e| entry(&which, e)).collect(),
            pending: page.pending_api_calls.iter().map(call_row).collect(),
            older,
            newest,
            all,
            toggle_all,
            rules,
            done: params.done.clone(),
            which,
        })
    })
    .await
}

/// Each rule's verdict on the resource now, or at `as_of` (the latest at or before it).
fn compliance_at(
    app: &crate::app::App,
    sel: &ResourceSelector,
    as_of: Option<Timestamp>,
) -> Result<Vec<RuleState>, PageError> {
    let view = app.resource_compliance(sel, None, as_of.is_some())?;
    let mut states: BTreeMap<String, RuleState> = BTreeMap::new();
    match (as_of, view.history) {
        (Some(at), Some(history)) => {
            for record in history.into_iter().filter(|r| r.evaluated_at <= at) {
                if let Outcome::Verdict(v) = &record.report.outcome {
                    let since = match states.get(&record.rule_name) {
                        Some(known) if known.badge == Badge::compliance(v.compliance.as_str()) => {
                            known.since.clone()
                        }
                        _ => Time::of(&record.evaluated_at),
                    };
                    states.insert(
                        record.rule_name.clone(),
                        RuleState {
                            rule: record.rule_name.clone(),
                            badge: Badge::compliance(v.compliance.as_str()),
                            annotation: v.annotation.clone().unwrap_or_default(),
                            since,
                        },
                    );
                }
            }
        }
        _ => {
            for v in view.latest {
                states.insert(
                    v.rule_name.clone(),
                    RuleState {
                        rule: v.rule_name,
                        badge: Badge::compliance(v.compliance.as_str()),
                        annotation: v.annotation.unwrap_or_default(),
                        since: Time::of(&v.since),
                    },
                );
            }
        }
    }
    let mut states: Vec<RuleState> = states.into_values().collect();
    states.sort_by_key(|s| s.badge.class != "bad");
    Ok(states)
}

/// A version and how to show its diff.
#[derive(Debug, Deserialize)]
pub(super) struct VersionParams {
    #[serde(flatten)]
    which: Which,
    version: u64,
    #[serde(default)]
    mode: String,
}

#[derive(Template)]
#[template(path = "resource_diff.html")]
struct DiffFragment {
    version: u64,
    previous: Option<u64>,
    split: bool,
    paths: Vec<(String, String)>,
    unified: Vec<UnifiedLine>,
    rows: Vec<SplitRow>,
    unified_link: String,
    split_link: String,
}

/// `GET /resource/diff`: a version against the one before, unified or side by side.
pub(super) async fn diff(
    State(state): State<Arc<ConsoleState>>,
    _viewer: Viewer,
    Query(params): Query<VersionParams>,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let app = &state.app;
        let sel = params.which.selector()?;
        let current = app.stored_version(&sel, VersionSelector::Number(params.version))?;
        let answer = app.diff(&sel, None, Some(params.version))?;
        let previous = match answer.from_version {
            Some(n) => Some(app.stored_version(&sel, VersionSelector::Number(n))?),
            None => None,
        };
        let old = previous
            .as_ref()
            .map(pretty)
            .transpose()?
            .unwrap_or_default();
        let new = pretty(&current)?;
        let split = params.mode == "split";
        let mode_link = |mode: &str| {
            format!(
                "/resource/diff?{}",
                query_string([
                    ("type", params.which.resource_type.as_str()),
                    ("id", &params.which.id),
                    ("account", &params.which.account),
                    ("region", &params.which.region),
                    ("version", &params.version.to_string()),
                    ("mode", mode),
                ])
            )
        };
        render(&DiffFragment {
            version: params.version,
            previous: answer.from_version,
            split,
            paths: answer
                .configuration_item_diff
                .changed_properties
                .iter()
                .map(|(path, change)| {
                    (
                        path.clone(),
                        format!("{:?}", change.change_type).to_uppercase(),
                    )
                })
                .collect(),
            unified: if split {
                Vec::new()
            } else {
                diff_view::unified(&old, &new)
            },
            rows: if split {
                diff_view::split(&old, &new)
            } else {
                Vec::new()
            },
            unified_link: mode_link("unified"),
            split_link: mode_link("split"),
        })
    })
    .await
}

#[derive(Template)]
#[template(path = "resource_json.html")]
struct JsonFragment {
    version: u64,
    json: String,
}

/// `GET /resource/version`: one version's JSON, with a copy button.
pub(super) async fn version_json(
    State(state): State<Arc<ConsoleState>>,
    _viewer: Viewer,
    Query(params): Query<VersionParams>,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let sel = params.which.selector()?;
        let item = state
            .app
            .show(&sel, VersionSelector::Number(params.version))?;
        render(&JsonFragment {
            version: params.version,
            json: pretty(&item)?,
        })
    })
    .await
}
