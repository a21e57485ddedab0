//! The dashboard: compliance at a glance, how it moved, the latest changes and remediation
//! outcomes; its panels reload when the server announces a change.

use std::convert::Infallible;
use std::sync::Arc;

use askama::Template;
use axum::extract::State;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use futures_util::StreamExt as _;

use super::format::{encode, judged_link, rule_link, Badge, Time};
use super::page::{render, Layout};
use super::{blocking, ConsoleState, PageError, Viewer};
use crate::app::overview::{Dashboard, NEWEST_NON_COMPLIANCE_SCAN};
use crate::evaluator::SummaryState;

/// Days the compliance chart covers.
const TREND_DAYS: u32 = 14;

#[derive(Template)]
#[template(path = "dashboard.html")]
struct DashboardPage {
    layout: Layout,
    panels: Panels,
}

/// The parts that reload live.
#[derive(Template)]
#[template(path = "dashboard_panels.html")]
struct Panels {
    resources_recorded: usize,
    overall: Badge,
    resource_states: Vec<(Badge, usize, String)>,
    rules: Vec<RuleRow>,
    chart: Chart,
    changes: Vec<ChangeRow>,
    verdicts: Vec<ResourceRow>,
    verdicts_partial: bool,
    verdicts_scanned: usize,
    jobs: Vec<ResourceRow>,
}

struct RuleRow {
    name: String,
    link: String,
    badge: Badge,
    non_compliant: usize,
    compliant: usize,
    enabled: bool,
}

struct ChangeRow {
    time: Time,
    event_name: String,
    user: String,
    resources: Vec<(String, String)>,
    record_link: String,
}

/// A rule's verdict or job on a resource, as the dashboard lists it.
struct ResourceRow {
    time: Time,
    rule: String,
    resource: String,
    link: String,
    badge: Badge,
}

impl ResourceRow {
    fn new(
        time: &crate::model::Timestamp,
        rule: &str,
        resource: &crate::model::EvaluatedResource,
        badge: Badge,
    ) -> ResourceRow {
        ResourceRow {
            time: Time::of(time),
            rule: rule.to_string(),
            resource: resource.resource_id.clone(),
            link: judged_link(resource),
            badge,
        }
    }
}

/// The compliance chart: a bar per day, drawn as SVG on the server (no script needed).
struct Chart {
    bars: Vec<Bar>,
    max: u64,
    summary: String,
}

struct Bar {
    x: u32,
    y: u32,
    height: u32,
    label: String,
    title: String,
}

/// Chart drawing height in SVG units.
const CHART_HEIGHT: u32 = 120;

impl Panels {
    fn of(d: Dashboard) -> Panels {
        let counts = &d.resource_counts;
        let resource_states = [
            SummaryState::NonCompliant,
            SummaryState::Compliant,
            SummaryState::NotApplicable,
        ]
        .into_iter()
        .map(|s| {
            (
                Badge::compliance(s.as_str()),
                counts.get(s.as_str()).copied().unwrap_or(0),
                format!("/inventory?compliance={}", s.as_str()),
            )
        })
        .collect();
        let mut rules: Vec<RuleRow> = d
            .rules
            .iter()
            .map(|r| RuleRow {
                name: r.rule_name.clone(),
                link: rule_link(&r.rule_name),
                badge: Badge::compliance(r.compliance.as_str()),
                non_compliant: r.resources.non_compliant,
                compliant: r.resources.compliant,
                enabled: r.enabled,
            })
            .collect();
        // Non-compliant first, then by how many resources fail.
        rules.sort_by(|a, b| {
            (
                a.badge.class != "bad",
                std::cmp::Reverse(a.non_compliant),
                &a.name,
            )
                .cmp(&(
                    b.badge.class != "bad",
                    std::cmp::Reverse(b.non_compliant),
                    &b.name,
                ))
        });
        let max = d
            .trend
            .iter()
            .map(|p| p.non_compliant)
            .max()
            .unwrap_or(0)
            .max(1);
        let bars = d
            .trend
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let height = (p.non_compliant * u64::from(CHART_HEIGHT) / max) as u32;
                Bar {
                    x: 30 + i as u32 * 40,
                    y: 10 + CHART_HEIGHT - height,
                    height,
                    label: p.day.get(5..).unwrap_or(&p.day).to_string(),
                    title: format!(
                        "{}: {} non-compliant at day's end (+{} / −{})",
                        p.day, p.non_compliant, p.became, p.left
                    ),
                }
            })
            .collect();
        let summary = match (d.trend.first(), d.trend.last()) {
            (Some(first), Some(last)) => format!(
                "Non-compliant resource–rule pairs went from {} on {} to {} now.",
                first.non_compliant, first.day, last.non_compliant
            ),
            _ => String::new(),
        };
        Panels {
            resources_recorded: d.resources_recorded,
            overall: Badge::compliance(d.compliance.as_str()),
            resource_states,
            rules,
            chart: Chart { bars, max, summary },
            changes: d
                .recent_changes
                .iter()
                .map(|e| ChangeRow {
                    time: Time::text(&e.event_time),
                    event_name: e.event_name.clone(),
                    user: e.username.clone(),
                    resources: e
                        .resources
                        .iter()
                        .map(|r| {
                            (
                                r.resource_name.clone(),
                                format!("/inventory?text={}", encode(&r.resource_name)),
                            )
                        })
                        .collect(),
                    record_link: format!("/events?eventId={}", encode(&e.event_id)),
                })
                .collect(),
            verdicts: d
                .recent_verdicts
                .iter()
                .map(|v| {
                    ResourceRow::new(
                        &v.since,
                        &v.rule_name,
                        &v.resource,
                        Badge::compliance(v.compliance.as_str()),
                    )
                })
                .collect(),
            verdicts_partial: d.recent_verdicts_partial,
            verdicts_scanned: NEWEST_NON_COMPLIANCE_SCAN,
            jobs: d
                .recent_jobs
                .iter()
                .map(|j| {
                    ResourceRow::new(
                        &j.updated_at,
                        &j.rule_name,
                        &j.resource,
                        Badge::job(j.state),
                    )
                })
                .collect(),
        }
    }
}

/// `GET /`.
pub(super) async fn page(
    State(state): State<Arc<ConsoleState>>,
    viewer: Viewer,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let panels = Panels::of(state.app.dashboard(TREND_DAYS)?);
        render(&DashboardPage {
            layout: Layout::new("Dashboard", &viewer, "dashboard"),
            panels,
        })
    })
    .await
}

/// `GET /dashboard/panels`: the panels alone (the live reload).
pub(super) async fn panels(
    State(state): State<Arc<ConsoleState>>,
    _viewer: Viewer,
) -> Result<Html<String>, PageError> {
    blocking(move || render(&Panels::of(state.app.dashboard(TREND_DAYS)?))).await
}

/// `GET /live`: an event each time something was recorded, judged or remediated (no data:
/// the page reloads what it shows), until the server stops.
pub(super) async fn live(State(state): State<Arc<ConsoleState>>, _viewer: Viewer) -> Response {
    let listener = state.app.notifier().listen();
    let closing = state.closing.clone();
    let stream = futures_util::stream::unfold(
        (listener, closing),
        |(mut listener, mut closing)| async move {
            let event = tokio::select! {
                next = listener.receiver.recv() => match next {
                    Ok(_) => Event::default().event("change").data("{}"),
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                        Event::default().event("lagged").data("{}")
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = closing.wait_for(|closing| *closing) => return None,
            };
            Some((Ok::<_, Infallible>(event), (listener, closing)))
        },
    );
    Sse::new(stream.boxed())
        .keep_alive(KeepAlive::default())
        .into_response()
}
