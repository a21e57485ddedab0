//! API event use cases: lookup by any combination of filters, export (LookupEvents' JSON, or
//! the CSV of CloudTrail's event history download), and the retention purge.

use serde::{Deserialize, Serialize};

use super::{App, AppError};
use crate::model::format_time;
use crate::query::EventLookup;
use crate::store::{EventPage, StoredEvent};

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

/// What a retention purge removed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PurgeReport {
    /// Events removed.
    pub purged: usize,
    /// Events older than this were removed (absent when the retention keeps everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<String>,
    /// The retention applied, in days (0 keeps everything).
    pub retention_days: u32,
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
        let mut writer = csv::Writer::from_writer(out);
        writer.write_record(CSV_HEADER)?;
        for event in &self.events {
            writer.write_record(event.csv_row())?;
        }
        writer.flush()?;
        Ok(())
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

    /// Removes API events older than `retention_days` (0 keeps everything), then flushes.
    pub fn purge_events(&self, retention_days: u32) -> Result<PurgeReport, AppError> {
        // A retention longer than the calendar reaches back before every event: nothing to do.
        let cutoff = chrono::TimeDelta::try_days(i64::from(retention_days))
            .and_then(|days| crate::model::now_millis().checked_sub_signed(days));
        let Some(cutoff) = cutoff.filter(|_| retention_days > 0) else {
            return Ok(PurgeReport {
                purged: 0,
                before: None,
                retention_days,
            });
        };
        let purged = self.store().purge_events_before(cutoff)?;
        self.store().flush()?;
        Ok(PurgeReport {
            purged,
            before: Some(format_time(&cutoff)),
            retention_days,
        })
    }
}
