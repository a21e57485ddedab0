//! The remediation page: jobs with every attempt, the configurations (which action, automatic
//! or not) and the exceptions. Admins run a rule's remediation on a resource now and add or
//! remove exceptions.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;

use super::format::{judged_link, query_string, Badge, Time};
use super::page::{render, Layout};
use super::viewer::Write;
use super::which::Which;
use super::{blocking, ConsoleState, PageError, Viewer};
use crate::app::queries::JobFilter;
use crate::model::{
    now_millis, parse_time_arg, Action, Attempt, JobOrigin, JobState, RemediationConfig,
    RemediationException, RemediationJob, Timestamp,
};
use crate::query::ResourceSelector;

/// Jobs listed at most.
const MAX_JOBS: usize = 200;

/// The remediation pages' routes.
pub(super) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/remediation", get(page))
        .route("/remediation/run", post(run))
        .route("/remediation/exceptions", post(add_exception))
        .route("/remediation/exceptions/remove", post(remove_exception))
}

// ---------------------------------------------------------------------------------------------
// GET /remediation

#[derive(Template)]
#[template(path = "remediation.html")]
struct RemediationPage {
    layout: Layout,
    notice: Option<String>,
    /// (value, label, selected) of the state filter.
    states: Vec<(String, String, bool)>,
    /// (name, selected) of the rule filter.
    rules: Vec<(String, bool)>,
    /// Rules that have remediation configured (for the run form).
    configured: Vec<String>,
    filtered: bool,
    jobs: Vec<JobRow>,
    matching: usize,
    capped: bool,
    configs: Vec<ConfigRow>,
    exceptions: Vec<ExceptionRow>,
}

struct JobRow {
    id: u64,
    rule: String,
    resource_id: String,
    resource_type: String,
    link: String,
    badge: Badge,
    reason: Option<String>,
    origin: &'static str,
    version: u64,
    created: Time,
    updated: Time,
    next_attempt: Option<Time>,
    max_attempts: u32,
    attempts: Vec<AttemptRow>,
}

struct AttemptRow {
    number: u32,
    started: Time,
    ended: Option<Time>,
    outcome: Badge,
    message: String,
    /// `HTTP 500`, `exit 3`, or empty.
    result: String,
    output: String,
}

struct ConfigRow {
    rule: String,
    kind: &'static str,
    target: String,
    automatic: bool,
    max_attempts: u32,
    timeout_ms: u64,
    link: String,
}

struct ExceptionRow {
    rule: String,
    resource_type: String,
    resource_id: String,
    account: String,
    region: String,
    link: String,
    reason: String,
    expires: Option<Time>,
    created: Time,
    badge: Badge,
}

/// The page's query: filters, and what the last write did.
#[derive(Deserialize, Default)]
struct PageQuery {
    state: Option<String>,
    rule: Option<String>,
    done: Option<String>,
    job: Option<String>,
}

impl PageQuery {
    /// The notice (fixed wording; only a job number is taken from the query).
    fn notice(&self) -> Option<String> {
        let job = self
            .job
            .as_deref()
            .and_then(|j| j.parse::<u64>().ok())
            .map_or_else(String::new, |id| format!(" (job {id})"));
        Some(match self.done.as_deref()? {
            "queued" => format!("Remediation queued{job}; the worker runs it next."),
            "already" => format!("A run is already queued or in progress{job}."),
            "exception-added" => {
                "Exception added: automatic remediation skips the resource.".into()
            }
            "exception-removed" => "Exception removed.".into(),
            _ => return None,
        })
    }
}

/// An attempt's outcome as a badge (running while it has none).
fn attempt_badge(attempt: &Attempt) -> Badge {
    use crate::model::AttemptEnd;
    match attempt.outcome {
        None => Badge {
            class: "busy",
            icon: "…",
            word: "Running",
        },
        Some(AttemptEnd::Succeeded) => Badge {
            class: "good",
            icon: "✓",
            word: "Succeeded",
        },
        Some(AttemptEnd::Retryable) => Badge {
            class: "bad",
            icon: "↻",
            word: "Failed, retryable",
        },
        Some(AttemptEnd::Permanent) => Badge {
            class: "bad",
            icon: "✗",
            word: "Failed permanently",
        },
        Some(AttemptEnd::Interrupted) => Badge {
            class: "quiet",
            icon: "?",
            word: "Interrupted",
        },
    }
}

/// Whether an exception applies now.
fn exception_badge(active: bool) -> Badge {
    if active {
        Badge {
            class: "good",
            icon: "●",
            word: "Active",
        }
    } else {
        Badge {
            class: "quiet",
            icon: "○",
            word: "Expired",
        }
    }
}

fn job_row(job: &RemediationJob) -> JobRow {
    let r = &job.resource;
    JobRow {
        id: job.id,
        rule: job.rule_name.clone(),
        resource_id: r.resource_id.clone(),
        resource_type: r.resource_type.clone(),
        link: judged_link(r),
        badge: Badge::job(job.state),
        reason: job.state_reason.clone(),
        origin: match job.origin {
            JobOrigin::Automatic => "automatic",
            JobOrigin::Manual => "manual",
        },
        version: job.configuration_version,
        created: Time::of(&job.created_at),
        updated: Time::of(&job.updated_at),
        next_attempt: job.next_attempt_at.as_ref().map(Time::of),
        max_attempts: job.max_attempts,
        attempts: job
            .attempts
            .iter()
            .map(|a| AttemptRow {
                number: a.number,
                started: Time::of(&a.started_at),
                ended: a.ended_at.as_ref().map(Time::of),
                outcome: attempt_badge(a),
                message: a.message.clone(),
                result: match (a.http_status, a.exit_code) {
                    (Some(status), _) => format!("HTTP {status}"),
                    (None, Some(code)) => format!("exit {code}"),
                    (None, None) => String::new(),
                },
                output: a.output.clone(),
            })
            .collect(),
    }
}

fn config_row(config: &RemediationConfig) -> ConfigRow {
    let (kind, target) = match &config.action {
        Action::Webhook(w) => ("webhook", w.url.clone()),
        Action::Command(c) => {
            let mut words = vec![c.program.clone()];
            words.extend(c.args.iter().cloned());
            ("command", words.join(" "))
        }
        Action::Aws(a) => ("aws", a.operation.as_str().to_string()),
    };
    ConfigRow {
        rule: config.rule_name.clone(),
        kind,
        target,
        automatic: config.automatic,
        max_attempts: config.max_attempts,
        timeout_ms: config.timeout_ms,
        link: super::format::rule_link(&config.rule_name),
    }
}

fn exception_row(e: &RemediationException, now: Timestamp) -> ExceptionRow {
    let r = &e.resource;
    ExceptionRow {
        rule: e.rule_name.clone(),
        resource_type: r.resource_type.clone(),
        resource_id: r.resource_id.clone(),
        account: r.account_id.clone(),
        region: r.aws_region.clone(),
        link: judged_link(r),
        reason: e.reason.clone(),
        expires: e.expires_at.as_ref().map(Time::of),
        created: Time::of(&e.created_at),
        badge: exception_badge(e.is_active(now)),
    }
}

/// `GET /remediation?state=&rule=`.
async fn page(
    State(state): State<Arc<ConsoleState>>,
    Query(query): Query<PageQuery>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    let state_filter = match query.state.as_deref().map(str::trim) {
        None | Some("") => None,
        Some(text) => Some(JobState::parse(text).ok_or_else(|| {
            PageError::bad_request(format!(
                "state: unknown job state {text:?} (one of {})",
                JobState::ALL.map(JobState::as_str).join(", ")
            ))
        })?),
    };
    let rule_filter = query
        .rule
        .as_deref()
        .map(str::trim)
        .filter(|r| !r.is_empty())
        .map(str::to_string);
    blocking(move || {
        let app = &state.app;
        let mut jobs = app.jobs(&JobFilter {
            state: state_filter,
            rule: rule_filter.clone(),
        })?;
        jobs.sort_by_key(|j| std::cmp::Reverse((j.created_at, j.id)));
        let matching = jobs.len();
        let configs = app.remediation_configs(None)?;
        let now = now_millis();
        let names: Vec<String> = app.rules()?.into_iter().map(|r| r.name).collect();
        render(&RemediationPage {
            layout: Layout::new("Remediation", &viewer, "remediation"),
            notice: query.notice(),
            states: JobState::ALL
                .into_iter()
                .map(|s| {
                    (
                        s.as_str().to_string(),
                        Badge::job(s).word.to_string(),
                        state_filter == Some(s),
                    )
                })
                .collect(),
            rules: names
                .iter()
                .map(|n| (n.clone(), rule_filter.as_deref() == Some(n.as_str())))
                .collect(),
            configured: configs.iter().map(|c| c.rule_name.clone()).collect(),
            filtered: state_filter.is_some() || rule_filter.is_some(),
            jobs: jobs.iter().take(MAX_JOBS).map(job_row).collect(),
            matching,
            capped: matching > MAX_JOBS,
            configs: configs.iter().map(config_row).collect(),
            exceptions: app
                .exceptions()?
                .iter()
                .map(|e| exception_row(e, now))
                .collect(),
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Writes

/// The fields of the run, add-exception and remove-exception forms.
#[derive(Deserialize, Default)]
struct TargetForm {
    #[serde(default)]
    rule: String,
    #[serde(flatten)]
    which: Which,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    expires: String,
    /// Where to go afterwards (a page of this site; the remediation page when absent).
    #[serde(default)]
    back: Option<String>,
}

impl TargetForm {
    /// The rule named (required).
    fn rule(&self) -> Result<String, PageError> {
        let rule = self.rule.trim();
        if rule.is_empty() {
            return Err(PageError::bad_request("rule: choose a rule"));
        }
        Ok(rule.to_string())
    }

    /// The resource the form names.
    fn selector(&self) -> Result<ResourceSelector, PageError> {
        self.which.selector()
    }
}

/// When an exception ends: empty for never, a duration from now (`7d`, `12h`) or a time
/// (RFC 3339, a date, epoch seconds).
fn expiry(text: &str, now: Timestamp) -> Result<Option<Timestamp>, PageError> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if let Ok(duration) = humantime::parse_duration(text) {
        let delta = chrono::TimeDelta::from_std(duration)
            .map_err(|_| PageError::bad_request(format!("expires: {text:?} is too far away")))?;
        return now
            .checked_add_signed(delta)
            .map(Some)
            .ok_or_else(|| PageError::bad_request(format!("expires: {text:?} is too far away")));
    }
    parse_time_arg(text).map(Some).map_err(|e| {
        PageError::bad_request(format!("expires: {e}, or a duration from now such as 7d"))
    })
}

fn back(done: &str, job: Option<u64>) -> Response {
    let job = job.map(|j| j.to_string()).unwrap_or_default();
    Redirect::to(&format!(
        "/remediation?{}",
        query_string([("done", done), ("job", job.as_str())])
    ))
    .into_response()
}

/// `POST /remediation/run`: queue the rule's remediation for the resource now.
async fn run(
    State(state): State<Arc<ConsoleState>>,
    write: Write<TargetForm>,
) -> Result<Response, PageError> {
    let rule = write.form.rule()?;
    let selector = write.form.selector()?;
    let app = write.viewer.app(&state.app);
    let (job, queued) = blocking(move || {
        let key = app.resolve(&selector)?;
        Ok(app.queue_remediation(&rule, &key)?)
    })
    .await?;
    Ok(back(
        if queued { "queued" } else { "already" },
        Some(job.id),
    ))
}

/// `POST /remediation/exceptions`.
async fn add_exception(
    State(state): State<Arc<ConsoleState>>,
    write: Write<TargetForm>,
) -> Result<Response, PageError> {
    let rule = write.form.rule()?;
    let selector = write.form.selector()?;
    let expires = expiry(&write.form.expires, now_millis())?;
    let reason = write.form.reason.clone();
    if reason.trim().is_empty() {
        return Err(PageError::bad_request(
            "reason: say why the resource is exempt",
        ));
    }
    let app = write.viewer.app(&state.app);
    blocking(move || {
        app.add_exception(&rule, &selector, &reason, expires)?;
        Ok(())
    })
    .await?;
    Ok(match write.form.back.clone() {
        // From a resource's page: back there, where the exception now shows.
        Some(page) => {
            let page = super::viewer::local_path(Some(page));
            let joiner = if page.contains('?') { '&' } else { '?' };
            Redirect::to(&format!("{page}{joiner}done=exception")).into_response()
        }
        None => back("exception-added", None),
    })
}

/// `POST /remediation/exceptions/remove`.
async fn remove_exception(
    State(state): State<Arc<ConsoleState>>,
    write: Write<TargetForm>,
) -> Result<Response, PageError> {
    let rule = write.form.rule()?;
    let selector = write.form.selector()?;
    let app = write.viewer.app(&state.app);
    blocking(move || {
        app.remove_exception(&rule, &selector)?;
        Ok(())
    })
    .await?;
    Ok(back("exception-removed", None))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(result: Result<impl std::fmt::Debug, PageError>) -> (u16, String) {
        match result {
            Err(PageError::Status(status, message)) => (status.as_u16(), message),
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn expiry_is_a_duration_from_now_or_a_time() {
        let now = parse_time_arg("2026-01-01T00:00:00Z").expect("time");
        assert_eq!(expiry("  ", now).expect("never"), None);
        assert_eq!(
            expiry("7d", now).expect("duration"),
            Some(parse_time_arg("2026-01-08T00:00:00Z").expect("time"))
        );
        assert_eq!(
            expiry("2026-03-01", now).expect("date"),
            Some(parse_time_arg("2026-03-01T00:00:00Z").expect("time"))
        );
        let (code, message) = status(expiry("next tuesday", now));
        assert_eq!(code, 400);
        assert!(message.starts_with("expires: "), "{message}");
    }

    #[test]
    fn the_target_form_names_its_missing_rule() {
        assert!(status(TargetForm::default().rule()).1.starts_with("rule:"));
    }

    #[test]
    fn notices_take_only_a_job_number_from_the_query() {
        let query = PageQuery {
            done: Some("queued".into()),
            job: Some("12".into()),
            ..PageQuery::default()
        };
        assert_eq!(
            query.notice().as_deref(),
            Some("Remediation queued (job 12); the worker runs it next.")
        );
        let odd = PageQuery {
            done: Some("queued".into()),
            job: Some("<b>".into()),
            ..PageQuery::default()
        };
        assert_eq!(
            odd.notice().as_deref(),
            Some("Remediation queued; the worker runs it next.")
        );
        let unknown = PageQuery {
            done: Some("pwned".into()),
            ..PageQuery::default()
        };
        assert_eq!(unknown.notice(), None);
    }

    #[test]
    fn attempts_say_how_they_ended() {
        let now = now_millis();
        let mut attempt = Attempt::started(1, now);
        assert_eq!(attempt_badge(&attempt).word, "Running");
        attempt.outcome = Some(crate::model::AttemptEnd::Retryable);
        assert_eq!(attempt_badge(&attempt).word, "Failed, retryable");
    }
}
