//! The rules pages: every rule with where it applies, how it is set and what it found, and one
//! rule's page with the resources it judges. Admins enable or disable a rule, edit its
//! parameters and evaluate it now.

use std::collections::HashSet;
use std::sync::Arc;

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::format::{judged_link, rule_link, Badge, Time};
use super::page::{render, Layout};
use super::viewer::Write;
use super::{blocking, ConsoleState, PageError, Viewer};
use crate::config_file::RuleSettings;
use crate::evaluator::{ComplianceFilter, ScopeFilter, SummaryState};
use crate::model::{Compliance, EvaluatedResource, RuleDefinition};

/// Resources listed on a rule's page at most.
const MAX_RESOURCES: usize = 500;

/// The rules pages' routes.
pub(super) fn routes() -> Router<Arc<ConsoleState>> {
    Router::new()
        .route("/rules", get(list))
        .route("/rules/{name}", get(detail))
        .route("/rules/{name}/settings", post(settings))
        .route("/rules/{name}/evaluate", post(evaluate))
}

// ---------------------------------------------------------------------------------------------
// GET /rules

#[derive(Template)]
#[template(path = "rules.html")]
struct RulesPage {
    layout: Layout,
    rules: Vec<RuleRow>,
}

struct RuleRow {
    name: String,
    link: String,
    managed: bool,
    state: Badge,
    compliance: Badge,
    non_compliant_first: bool,
    scope: Scope,
    parameters: String,
    triggers: String,
    schedule: Option<String>,
    compliant: usize,
    non_compliant: usize,
    not_applicable: usize,
    errors: u64,
    last_error: Option<String>,
}

/// Where a rule applies, as words.
struct Scope {
    types: String,
    tag: Option<String>,
    resource_id: Option<String>,
}

impl Scope {
    fn of(rule: &RuleDefinition) -> Scope {
        let types = rule.resource_types();
        Scope {
            types: if types.is_empty() {
                "every type".into()
            } else {
                types.join(", ")
            },
            tag: rule.scope.tag.as_ref().map(|t| match &t.value {
                Some(v) => format!("{}={v}", t.key),
                None => t.key.clone(),
            }),
            resource_id: rule.scope.resource_id.clone(),
        }
    }
}

fn triggers(rule: &RuleDefinition) -> String {
    if rule.triggers.is_empty() {
        return "none".into();
    }
    rule.triggers
        .iter()
        .map(|t| t.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

fn compact(parameters: &Map<String, Value>) -> String {
    Value::Object(parameters.clone()).to_string()
}

/// `GET /rules`.
async fn list(
    State(state): State<Arc<ConsoleState>>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let views = state.app.rule_views()?;
        let summary = state.app.compliance(&ComplianceFilter::default())?;
        let mut rules: Vec<RuleRow> = views
            .into_iter()
            .map(|view| {
                let rule = view.rule;
                let found = summary.rules.iter().find(|r| r.rule_name == rule.name);
                let counts = found.map(|r| r.resources).unwrap_or_default();
                let compliance = found.map_or(SummaryState::InsufficientData, |r| r.compliance);
                RuleRow {
                    link: rule_link(&rule.name),
                    managed: rule.managed,
                    state: Badge::enabled(rule.enabled),
                    compliance: Badge::compliance(compliance.as_str()),
                    non_compliant_first: compliance == SummaryState::NonCompliant,
                    scope: Scope::of(&rule),
                    parameters: compact(&rule.parameters),
                    triggers: triggers(&rule),
                    schedule: rule.schedule.clone(),
                    compliant: counts.compliant,
                    non_compliant: counts.non_compliant,
                    not_applicable: counts.not_applicable,
                    errors: view.evaluation_errors.errors,
                    last_error: view.evaluation_errors.last_error,
                    name: rule.name,
                }
            })
            .collect();
        rules.sort_by(|a, b| {
            (
                !a.non_compliant_first,
                std::cmp::Reverse(a.non_compliant),
                &a.name,
            )
                .cmp(&(
                    !b.non_compliant_first,
                    std::cmp::Reverse(b.non_compliant),
                    &b.name,
                ))
        });
        render(&RulesPage {
            layout: Layout::new("Rules", &viewer, "rules"),
            rules,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// GET /rules/{name}

#[derive(Template)]
#[template(path = "rule.html")]
struct RulePage {
    layout: Layout,
    notice: Option<String>,
    name: String,
    description: String,
    version: String,
    managed: bool,
    enabled: bool,
    state: Badge,
    compliance: Badge,
    scope: Scope,
    parameters: String,
    parameters_pretty: String,
    declared: Vec<Declared>,
    triggers: String,
    schedule: Option<String>,
    deadline_ms: u64,
    memory_limit_mib: u64,
    revision: u32,
    updated: Time,
    compliant: usize,
    non_compliant: usize,
    not_applicable: usize,
    errors: u64,
    last_error: Option<String>,
    last_error_at: Option<Time>,
    resources: Vec<VerdictRow>,
    judged: usize,
    capped: bool,
    settings_action: String,
    evaluate_action: String,
}

/// A parameter the rule declares.
struct Declared {
    name: String,
    description: String,
    default: Option<String>,
    required: bool,
}

struct VerdictRow {
    resource_type: String,
    resource_id: String,
    place: String,
    link: String,
    badge: Badge,
    annotation: Option<String>,
    since: Time,
    evaluated: Time,
    exempt: bool,
    last_error: Option<String>,
}

/// What the page says after a write.
#[derive(Deserialize, Default)]
struct Done {
    done: Option<String>,
    evaluations: Option<String>,
    non_compliant: Option<String>,
    errors: Option<String>,
}

impl Done {
    /// The notice (fixed wording: nothing from the query is shown but counts).
    fn notice(&self) -> Option<String> {
        let count = |v: &Option<String>| {
            v.as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0)
        };
        Some(match self.done.as_deref()? {
            "enabled" => "The rule is enabled; its scope was judged again.".into(),
            "disabled" => "The rule is disabled; it judges nothing until enabled again.".into(),
            "parameters" => "Parameters saved; the rule's scope was judged again.".into(),
            "settings" => "Settings saved.".into(),
            "evaluated" => format!(
                "Evaluated now: {} evaluations, {} non-compliant, {} errors.",
                count(&self.evaluations),
                count(&self.non_compliant),
                count(&self.errors)
            ),
            _ => return None,
        })
    }
}

/// Order of verdicts on the page: non-compliant first.
fn verdict_rank(c: Compliance) -> u8 {
    match c {
        Compliance::NonCompliant => 0,
        Compliance::Compliant => 1,
        Compliance::NotApplicable => 2,
    }
}

/// `GET /rules/{name}`.
async fn detail(
    State(state): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
    Query(done): Query<Done>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let view = state.app.rule_view(&name)?;
        let summary = state.app.compliance(&ComplianceFilter {
            rule: Some(name.clone()),
            ..ComplianceFilter::default()
        })?;
        let rule = view.rule;
        let found = summary.rules.iter().find(|r| r.rule_name == rule.name);
        let counts = found.map(|r| r.resources).unwrap_or_default();
        let compliance = found.map_or(SummaryState::InsufficientData, |r| r.compliance);
        let exempt: HashSet<&EvaluatedResource> =
            summary.exceptions.iter().map(|e| &e.resource).collect();
        let mut verdicts: Vec<_> = summary
            .verdicts
            .iter()
            .filter(|v| v.rule_name == rule.name)
            .collect();
        verdicts.sort_by(|a, b| {
            (
                verdict_rank(a.compliance),
                std::cmp::Reverse(a.since),
                &a.resource,
            )
                .cmp(&(
                    verdict_rank(b.compliance),
                    std::cmp::Reverse(b.since),
                    &b.resource,
                ))
        });
        let judged = verdicts.len();
        let resources = verdicts
            .into_iter()
            .take(MAX_RESOURCES)
            .map(|v| VerdictRow {
                resource_type: v.resource.resource_type.clone(),
                resource_id: v.resource.resource_id.clone(),
                place: format!("{} {}", v.resource.account_id, v.resource.aws_region),
                link: judged_link(&v.resource),
                badge: Badge::compliance(v.compliance.as_str()),
                annotation: v.annotation.clone(),
                since: Time::of(&v.since),
                evaluated: Time::of(&v.evaluated_at),
                exempt: exempt.contains(&v.resource),
                last_error: v.last_error.clone(),
            })
            .collect();
        let path = rule_link(&rule.name);
        render(&RulePage {
            layout: Layout::new(format!("Rule {}", rule.name), &viewer, "rules"),
            notice: done.notice(),
            description: rule.metadata.description.clone(),
            version: rule.metadata.version.clone(),
            managed: rule.managed,
            enabled: rule.enabled,
            state: Badge::enabled(rule.enabled),
            compliance: Badge::compliance(compliance.as_str()),
            scope: Scope::of(&rule),
            parameters: compact(&rule.parameters),
            parameters_pretty: serde_json::to_string_pretty(&rule.parameters)
                .unwrap_or_else(|_| "{}".into()),
            declared: rule
                .metadata
                .parameters
                .iter()
                .map(|p| Declared {
                    name: p.name.clone(),
                    description: p.description.clone(),
                    default: p.default.clone(),
                    required: p.required,
                })
                .collect(),
            triggers: triggers(&rule),
            schedule: rule.schedule.clone(),
            deadline_ms: rule.deadline_ms,
            memory_limit_mib: rule.memory_limit_mib,
            revision: rule.revision,
            updated: Time::of(&rule.updated_at),
            compliant: counts.compliant,
            non_compliant: counts.non_compliant,
            not_applicable: counts.not_applicable,
            errors: view.evaluation_errors.errors,
            last_error: view.evaluation_errors.last_error.clone(),
            last_error_at: view.evaluation_errors.last_error_at.as_ref().map(Time::of),
            resources,
            judged,
            capped: judged > MAX_RESOURCES,
            settings_action: format!("{path}/settings"),
            evaluate_action: format!("{path}/evaluate"),
            name: rule.name,
        })
    })
    .await
}

// ---------------------------------------------------------------------------------------------
// Writes

/// The settings form: `enabled=true|false` and/or `parameters=<a JSON object>`.
#[derive(Deserialize, Default)]
struct SettingsForm {
    enabled: Option<String>,
    parameters: Option<String>,
}

/// The settings a form asks for, and the notice key of the change.
fn settings_of(form: &SettingsForm) -> Result<(RuleSettings, &'static str), PageError> {
    let mut settings = RuleSettings::default();
    let mut done = None;
    if let Some(enabled) = &form.enabled {
        let enabled = match enabled.trim() {
            "true" => true,
            "false" => false,
            other => {
                return Err(PageError::bad_request(format!(
                    "enabled: expected true or false, got {other:?}"
                )))
            }
        };
        settings.enabled = Some(enabled);
        done = Some(if enabled { "enabled" } else { "disabled" });
    }
    if let Some(text) = &form.parameters {
        let text = text.trim();
        let value: Value = if text.is_empty() {
            Value::Object(Map::new())
        } else {
            serde_json::from_str(text)
                .map_err(|e| PageError::bad_request(format!("parameters: not valid JSON ({e})")))?
        };
        let Value::Object(map) = value else {
            return Err(PageError::bad_request(
                "parameters: must be a JSON object, e.g. {\"maxAgeDays\": \"90\"}",
            ));
        };
        settings.parameters = Some(map);
        done = Some(if done.is_some() {
            "settings"
        } else {
            "parameters"
        });
    }
    match done {
        Some(done) => Ok((settings, done)),
        None => Err(PageError::bad_request(
            "the form changes nothing: give enabled or parameters",
        )),
    }
}

/// `POST /rules/{name}/settings`.
async fn settings(
    State(state): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
    write: Write<SettingsForm>,
) -> Result<Response, PageError> {
    let (settings, done) = settings_of(&write.form)?;
    let app = write.viewer.app(&state.app);
    let rule = name.clone();
    blocking(move || {
        app.change_rule(&rule, None, &settings, "form")?;
        Ok(())
    })
    .await?;
    Ok(Redirect::to(&format!("{}?done={done}", rule_link(&name))).into_response())
}

/// `POST /rules/{name}/evaluate`.
async fn evaluate(
    State(state): State<Arc<ConsoleState>>,
    Path(name): Path<String>,
    write: Write<super::viewer::CsrfOnly>,
) -> Result<Response, PageError> {
    let app = write.viewer.app(&state.app);
    let rule = name.clone();
    let counts =
        blocking(move || Ok(app.evaluate_now(Some(&rule), &ScopeFilter::default())?)).await?;
    Ok(Redirect::to(&format!(
        "{}?done=evaluated&evaluations={}&non_compliant={}&errors={}",
        rule_link(&name),
        counts.evaluations,
        counts.non_compliant,
        counts.errors
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(enabled: Option<&str>, parameters: Option<&str>) -> SettingsForm {
        SettingsForm {
            enabled: enabled.map(str::to_string),
            parameters: parameters.map(str::to_string),
        }
    }

    fn message(result: Result<(RuleSettings, &'static str), PageError>) -> String {
        match result {
            Err(PageError::Status(status, message)) => {
                assert_eq!(status.as_u16(), 400, "{message}");
                message
            }
            Err(other) => panic!("unexpected {other:?}"),
            Ok((settings, done)) => panic!("accepted {settings:?} ({done})"),
        }
    }

    #[test]
    fn enabling_and_disabling_are_read_from_the_form() {
        let (settings, done) = settings_of(&form(Some("false"), None)).expect("valid");
        assert_eq!((settings.enabled, done), (Some(false), "disabled"));
        assert!(settings.parameters.is_none());
        let (settings, done) = settings_of(&form(Some("true"), None)).expect("valid");
        assert_eq!((settings.enabled, done), (Some(true), "enabled"));
        assert!(message(settings_of(&form(Some("yes"), None))).starts_with("enabled:"));
    }

    #[test]
    fn parameters_must_be_a_json_object() {
        let (settings, done) =
            settings_of(&form(None, Some(" {\"maxAgeDays\": \"90\"} "))).expect("valid");
        assert_eq!(done, "parameters");
        assert_eq!(
            settings.parameters.expect("parameters")["maxAgeDays"],
            Value::from("90")
        );
        assert!(settings.enabled.is_none());
        // Empty clears them.
        let (settings, _) = settings_of(&form(None, Some(""))).expect("valid");
        assert_eq!(settings.parameters, Some(Map::new()));
        let bad = message(settings_of(&form(None, Some("{maxAgeDays: 90"))));
        assert!(bad.starts_with("parameters: not valid JSON"), "{bad}");
        let array = message(settings_of(&form(None, Some("[1, 2]"))));
        assert!(
            array.starts_with("parameters: must be a JSON object"),
            "{array}"
        );
    }

    #[test]
    fn a_form_that_changes_nothing_is_refused() {
        assert!(message(settings_of(&form(None, None))).contains("changes nothing"));
        let (_, done) = settings_of(&form(Some("true"), Some("{}"))).expect("valid");
        assert_eq!(done, "settings");
    }

    #[test]
    fn notices_are_fixed_wording_with_counts_only() {
        let done = Done {
            done: Some("evaluated".into()),
            evaluations: Some("3".into()),
            non_compliant: Some("<b>".into()),
            errors: None,
        };
        assert_eq!(
            done.notice().as_deref(),
            Some("Evaluated now: 3 evaluations, 0 non-compliant, 0 errors.")
        );
        let unknown = Done {
            done: Some("<script>".into()),
            ..Done::default()
        };
        assert_eq!(unknown.notice(), None);
    }

    #[test]
    fn rule_links_keep_dashes_and_encode_the_rest() {
        assert_eq!(rule_link("restricted-ssh"), "/rules/restricted-ssh");
        assert_eq!(rule_link("a/b c"), "/rules/a%2Fb%20c");
    }
}
