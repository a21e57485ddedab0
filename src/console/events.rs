//! Event history: every filter of `conftrail events`, combinable, with a time range;
//! read-only calls hidden unless asked for (as in CloudTrail's console); each row opens its
//! record; downloads of everything that matches (CSV or JSON) come from the API.

use std::sync::Arc;

use askama::Template;
use axum::extract::{Query, State};
use axum::response::Html;
use serde::Deserialize;

use super::format::{dom_id, given, query_string, Time};
use super::page::{render, Layout};
use super::{blocking, ConsoleState, PageError, Viewer};
use crate::app::events::LookupEvent;
use crate::query::EventLookup;

/// Events per page.
const PAGE_EVENTS: u32 = 50;

/// Most events a JSON download holds (the API's page limit); CSV has no limit.
const JSON_DOWNLOAD_LIMIT: u32 = 100_000;

/// The filters, as the form and links spell them (the API's names).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct Filters {
    event_name: String,
    user: String,
    resource_type: String,
    resource_name: String,
    event_source: String,
    access_key: String,
    /// `false` (default: read-only calls hidden), `true` (only them) or `all`.
    read_only: String,
    event_id: String,
    since: String,
    until: String,
    next: String,
}

impl Filters {
    /// `false` unless the user chose otherwise (or asked for one event by id).
    fn read_only(&self) -> &str {
        match self.read_only.as_str() {
            "" if self.event_id.trim().is_empty() => "false",
            "" => "all",
            other => other,
        }
    }

    fn lookup(&self, limit: u32) -> EventLookup {
        EventLookup {
            event_name: given(&self.event_name),
            user: given(&self.user),
            resource_type: given(&self.resource_type),
            resource_name: given(&self.resource_name),
            event_source: given(&self.event_source),
            access_key: given(&self.access_key),
            read_only: Some(self.read_only().to_string()).filter(|r| r != "all"),
            event_id: given(&self.event_id),
            since: given(&self.since),
            until: given(&self.until),
            limit: Some(limit),
            next: given(&self.next),
            format: None,
        }
    }

    /// The filters as a query string (page token and read-only choice as given).
    fn pairs<'a>(&'a self, read_only: &'a str) -> Vec<(&'a str, &'a str)> {
        vec![
            ("eventName", self.event_name.as_str()),
            ("user", &self.user),
            ("resourceType", &self.resource_type),
            ("resourceName", &self.resource_name),
            ("eventSource", &self.event_source),
            ("accessKey", &self.access_key),
            ("readOnly", read_only),
            ("eventId", &self.event_id),
            ("since", &self.since),
            ("until", &self.until),
        ]
    }

    /// A download of everything that matches, from the API.
    fn download(&self, format: &str, limit: &str) -> String {
        let read_only = match self.read_only() {
            "all" => "",
            other => other,
        };
        let mut pairs = self.pairs(read_only);
        pairs.push(("format", format));
        pairs.push(("limit", limit));
        format!("/v1/events?{}", query_string(pairs))
    }

    fn with_next(&self, next: &str) -> String {
        let mut pairs = self.pairs(self.read_only());
        pairs.push(("next", next));
        format!("/events?{}", query_string(pairs))
    }
}

struct Row {
    time: Time,
    event_name: String,
    user: String,
    source: String,
    resources: Vec<(String, String)>,
    read_only: bool,
    error_code: String,
    source_ip: String,
    record: String,
    open: bool,
}

fn row(event: &LookupEvent, open: bool) -> Row {
    let record: serde_json::Value =
        serde_json::from_str(&event.cloud_trail_event).unwrap_or_default();
    Row {
        time: Time::text(&event.event_time),
        event_name: event.event_name.clone(),
        user: event.username.clone(),
        source: event.event_source.clone(),
        resources: event
            .resources
            .iter()
            .map(|r| {
                (
                    r.resource_name.clone(),
                    format!(
                        "/inventory?{}",
                        query_string([("text", r.resource_name.as_str())])
                    ),
                )
            })
            .collect(),
        read_only: event.read_only == "true",
        error_code: record["errorCode"].as_str().unwrap_or_default().to_string(),
        source_ip: record["sourceIPAddress"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        record: serde_json::to_string_pretty(&record).unwrap_or_default(),
        open,
    }
}

#[derive(Template)]
#[template(path = "events.html")]
struct Page {
    layout: Layout,
    filters: Filters,
    read_only: String,
    rows: Vec<Row>,
    next: Option<String>,
    first: Option<String>,
    csv: String,
    json: String,
    json_limit: u32,
}

/// `GET /events`.
pub(super) async fn page(
    State(state): State<Arc<ConsoleState>>,
    viewer: Viewer,
    Query(filters): Query<Filters>,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let found = state.app.events(&filters.lookup(PAGE_EVENTS))?;
        let one = !filters.event_id.trim().is_empty();
        render(&Page {
            layout: Layout::new("Event history", &viewer, "events"),
            read_only: filters.read_only().to_string(),
            rows: found.events.iter().map(|e| row(e, one)).collect(),
            next: found.next_token.as_deref().map(|n| filters.with_next(n)),
            first: given(&filters.next).map(|_| filters.with_next("")),
            csv: filters.download("csv", ""),
            json: filters.download("json", &JSON_DOWNLOAD_LIMIT.to_string()),
            json_limit: JSON_DOWNLOAD_LIMIT,
            filters,
        })
    })
    .await
}

/// One event's id.
#[derive(Debug, Deserialize)]
pub(super) struct RecordParams {
    id: String,
}

#[derive(Template)]
#[template(path = "event_record.html")]
struct RecordFragment {
    dom_id: String,
    request: String,
    record: String,
}

/// `GET /events/record?id=`: one event's request and full record (a fragment).
pub(super) async fn record(
    State(state): State<Arc<ConsoleState>>,
    _viewer: Viewer,
    Query(params): Query<RecordParams>,
) -> Result<Html<String>, PageError> {
    blocking(move || {
        let found = state.app.events(&EventLookup {
            event_id: Some(params.id.clone()),
            limit: Some(1),
            ..EventLookup::default()
        })?;
        let event = found
            .events
            .first()
            .ok_or_else(|| PageError::not_found(format!("no API event {}", params.id)))?;
        let record: serde_json::Value =
            serde_json::from_str(&event.cloud_trail_event).unwrap_or_default();
        let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
        render(&RecordFragment {
            dom_id: dom_id("record", &params.id),
            request: pretty(&record["requestParameters"]),
            record: pretty(&record),
        })
    })
    .await
}
