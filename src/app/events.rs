//! API event use cases: lookup by any combination of filters, export (LookupEvents' JSON, or
//! the CSV of CloudTrail's event history download), and the retention purge.

use serde::{Deserialize, Serialize};

use super::{App, AppError};
use crate::model::{format_time, Timestamp};
use crate::query::EventLookup;
use crate::store::{EventPage, EventPageToken, EventQuery, EventSpan, Store, StoredEvent};

/// One API event in LookupEvents' shape (`Resources` are those the event was found to touch).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LookupEvent {
    /// eventID.
    pub event_id: String,
    /// eventName.
    pub event_name: String,
    /// "true" or "false".
    pub read_only: String,
    /// The access key the call was signed with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_key_id: Option<String>,
    /// eventTime.
    pub event_time: String,
    /// eventSource.
    pub event_source: String,
    /// Who made the call.
    pub username: String,
    /// The resources it names or touches.
    pub resources: Vec<LookupResource>,
    /// The whole CloudTrail record as JSON text.
    pub cloud_trail_event: String,
}

/// A resource of a [`LookupEvent`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct LookupResource {
    /// Resource type (may be empty when only an ARN is known).
    pub resource_type: String,
    /// Id, name or ARN.
    pub resource_name: String,
}

/// A page of API events in LookupEvents' shape, so it can be ingested again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "PascalCase")]
pub struct EventsPage {
    /// The events, newest first.
    pub events: Vec<LookupEvent>,
    /// Pass as `next` for the following page; absent on the last page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

impl EventsPage {
    fn from_page(page: &EventPage) -> EventsPage {
        EventsPage {
            events: page.events.iter().map(LookupEvent::from_stored).collect(),
            next_token: page.next.as_ref().map(|t| t.encode()),
        }
    }
}

impl LookupEvent {
    fn from_stored(stored: &StoredEvent) -> LookupEvent {
        let e = &stored.event;
        let mut resources: Vec<LookupResource> = stored
            .touched
            .iter()
            .map(|t| LookupResource {
                resource_type: t.resource_type.clone(),
                resource_name: t.identifier.clone(),
            })
            .collect();
        for r in &e.resources {
            if let Some(arn) = &r.arn {
                if !resources.iter().any(|known| known.resource_name == *arn) {
                    resources.push(LookupResource {
                        resource_type: r.resource_type.clone().unwrap_or_default(),
                        resource_name: arn.clone(),
                    });
                }
            }
        }
        LookupEvent {
            event_id: e.event_id.clone(),
            event_name: e.event_name.clone(),
            read_only: e.read_only.to_string(),
            access_key_id: e.access_key_id.clone(),
            event_time: format_time(&e.event_time),
            event_source: e.event_source.clone(),
            username: e.username.clone(),
            resources,
            cloud_trail_event: e.record.to_string(),
        }
    }
}

/// What a retention purge removed, or would remove (a dry run).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    /// Events removed (a dry run: that would be removed).
    pub purged: usize,
    /// Events older than this were removed (absent when the retention keeps everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The retention applied, in days (0 keeps everything).
    pub retention_days: u32,
    /// Event time of the oldest event removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oldest: Option<String>,
    /// Event time of the newest event removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub newest: Option<String>,
    /// Nothing was deleted: the report says what a purge would delete.
    #[serde(default)]
    pub dry_run: bool,
}

impl PurgeReport {
    /// The report of a purge (or dry run) at `cutoff` that found `span`.
    fn of(span: EventSpan, cutoff: Timestamp, retention_days: u32, dry_run: bool) -> PurgeReport {
        PurgeReport {
            purged: span.count,
            before: Some(format_time(&cutoff)),
            retention_days,
            oldest: span.oldest.as_ref().map(format_time),
            newest: span.newest.as_ref().map(format_time),
            dry_run,
        }
    }
}

/// CSV header of CloudTrail's event history download.
pub const CSV_HEADER: [&str; 13] = [
    "Event ID",
    "Event time",
    "User name",
    "Event name",
    "Resource type",
    "Resource name",
    "AWS access key",
    "AWS region",
    "Error code",
    "Source IP address",
    "Event source",
    "Read-only",
    "Request ID",
];

impl EventsPage {
    /// Writes the page as CloudTrail's event history CSV download (header first).
    pub fn write_csv(&self, out: impl std::io::Write) -> Result<(), csv::Error> {
        let mut writer = CsvWriter::new(out)?;
        writer.write(&self.events)?;
        writer.finish()?;
        Ok(())
    }
}

/// Writes events as CloudTrail's event history CSV download, the header first, then rows as
/// they come, so an export of any size is written a page at a time.
pub struct CsvWriter<W: std::io::Write> {
    writer: csv::Writer<W>,
}

impl<W: std::io::Write> CsvWriter<W> {
    /// Starts the CSV with its header.
    pub fn new(out: W) -> Result<CsvWriter<W>, csv::Error> {
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(CSV_HEADER)?;
        Ok(CsvWriter { writer })
    }

    /// Writes one row per event and hands everything so far to the output.
    pub fn write(&mut self, events: &[LookupEvent]) -> Result<(), csv::Error> {
        for event in events {
            self.writer.write_record(event.csv_row())?;
        }
        self.writer.flush()?;
        Ok(())
    }

    /// The output, flushed.
    pub fn finish(self) -> Result<W, csv::Error> {
        self.writer
            .into_inner()
            .map_err(|e| csv::Error::from(e.into_error()))
    }
}

/// Events as CSV rows (after the header when `header`), for output sent in pieces.
pub fn csv_rows(events: &[LookupEvent], header: bool) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new()
        .has_headers(false)
        .from_writer(Vec::new());
    if header {
        writer.write_record(CSV_HEADER)?;
    }
    for event in events {
        writer.write_record(event.csv_row())?;
    }
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

/// Events read from the store per page of an export (bounds its memory).
const EXPORT_PAGE: usize = 500;

/// Every API event matching a lookup, or its first `limit`, read from the store a page at a
/// time: an iterator of pages, newest first.
pub struct EventExport {
    store: Store,
    query: EventQuery,
    /// Events still to give when a limit was asked for.
    remaining: Option<usize>,
    /// Where the store said more matches start, once a page said so.
    more: Option<EventPageToken>,
    done: bool,
}

impl EventExport {
    /// After the last page: the token of the events the limit left out, if any.
    pub fn next_token(&self) -> Option<String> {
        self.more
            .as_ref()
            .filter(|_| self.done)
            .map(EventPageToken::encode)
    }
}

impl Iterator for EventExport {
    type Item = Result<Vec<LookupEvent>, AppError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.remaining == Some(0) {
            self.done = true;
            return None;
        }
        self.query.limit = self.remaining.map_or(EXPORT_PAGE, |r| r.min(EXPORT_PAGE));
        let page = match self.store.lookup_events(&self.query) {
            Ok(page) => page,
            Err(e) => {
                self.done = true;
                return Some(Err(e.into()));
            }
        };
        if let Some(remaining) = &mut self.remaining {
            *remaining = remaining.saturating_sub(page.events.len());
        }
        self.more = page.next.clone();
        self.query.after = page.next;
        if self.more.is_none() {
            self.done = true;
        }
        Some(Ok(page
            .events
            .iter()
            .map(LookupEvent::from_stored)
            .collect()))
    }
}

impl LookupEvent {
    /// The CSV columns; those LookupEvents does not carry come from the CloudTrail record.
    fn csv_row(&self) -> [String; 13] {
        let record: serde_json::Value =
            serde_json::from_str(&self.cloud_trail_event).unwrap_or_default();
        let field = |name: &str| record[name].as_str().unwrap_or_default().to_string();
        let join = |pick: fn(&LookupResource) -> &str| {
            self.resources
                .iter()
                .map(pick)
                .collect::<Vec<_>>()
                .join(", ")
        };
        [
            self.event_id.clone(),
            self.event_time.clone(),
            self.username.clone(),
            self.event_name.clone(),
            join(|r| &r.resource_type),
            join(|r| &r.resource_name),
            self.access_key_id.clone().unwrap_or_default(),
            field("awsRegion"),
            field("errorCode"),
            field("sourceIPAddress"),
            self.event_source.clone(),
            self.read_only.clone(),
            field("requestID"),
        ]
    }

    /// The record's errorCode, if the call failed.
    pub fn error_code(&self) -> Option<String> {
        let record: serde_json::Value = serde_json::from_str(&self.cloud_trail_event).ok()?;
        record["errorCode"].as_str().map(str::to_string)
    }
}

impl App {
    /// API events matching a lookup (the error names the bad filter).
    pub fn events(&self, lookup: &EventLookup) -> Result<EventsPage, AppError> {
        let query = lookup.to_query().map_err(AppError::Invalid)?;
        Ok(EventsPage::from_page(&self.store().lookup_events(&query)?))
    }

    /// Every API event matching a lookup, or its first `lookup.limit` when one is given, as
    /// pages read while they are consumed (the error names the bad filter).
    pub fn export_events(&self, lookup: &EventLookup) -> Result<EventExport, AppError> {
        let query = lookup.to_query().map_err(AppError::Invalid)?;
        Ok(EventExport {
            store: self.store().clone(),
            query,
            remaining: lookup.limit.map(|l| l as usize),
            more: None,
            done: false,
        })
    }

    /// Removes API events whose event time is older than `retention_days` (0 keeps
    /// everything), then flushes; with `dry_run`, only says what that would remove.
    pub fn purge_events(
        &self,
        retention_days: u32,
        dry_run: bool,
    ) -> Result<PurgeReport, AppError> {
        // A retention longer than the calendar reaches back before every event: nothing to do.
        let cutoff = chrono::TimeDelta::try_days(i64::from(retention_days))
            .and_then(|days| crate::model::now_millis().checked_sub_signed(days));
        let Some(cutoff) = cutoff.filter(|_| retention_days > 0) else {
            return Ok(PurgeReport {
                purged: 0,
                before: None,
                retention_days,
                oldest: None,
                newest: None,
                dry_run,
            });
        };
        if dry_run {
            let span = self.store().events_before(cutoff)?;
            return Ok(PurgeReport::of(span, cutoff, retention_days, true));
        }
        let span = self.store().purge_events_before(cutoff)?;
        self.store().flush()?;
        let report = PurgeReport::of(span, cutoff, retention_days, false);
        // Only what changed the store is audited; a dry run changes nothing.
        self.audit("events.purge", "API events", serde_json::json!(report))?;
        Ok(report)
    }
}
