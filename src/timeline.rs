//! A resource's timeline: every version with what changed and the API calls that changed it,
//! and every rule evaluation, in time order. The JSON shape is documented in
//! `docs/json-output.md` and kept stable.

use crate::diff::{diff_items, ChangeType, ItemDiff};
use crate::evaluator::VerdictRecord;
use crate::linker::{self, LinkedCall, VersionSpan};
use crate::model::{format_time, ApiEvent, ConfigurationItem, ResourceKey};
use crate::remediation::{RemediationException, RemediationJob};
use crate::rules::Trigger;
use crate::store::{HistoryOrder, HistoryQuery, ResourceCall, Store, StoreError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// One API call as the timeline shows it: when, what, who, from where.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiCallView {
    /// `eventID`.
    #[serde(rename = "eventID")]
    pub event_id: String,
    /// `eventTime`.
    pub event_time: String,
    /// `eventName`.
    pub event_name: String,
    /// `eventSource`.
    pub event_source: String,
    /// The user name as CloudTrail's console shows it.
    pub username: String,
    /// `userIdentity.type`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_type: Option<String>,
    /// The caller's ARN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_arn: Option<String>,
    /// The role or user that issued the caller's session.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_issuer: Option<String>,
    /// `sourceIPAddress`.
    #[serde(rename = "sourceIPAddress", skip_serializing_if = "Option::is_none")]
    pub source_ip_address: Option<String>,
    /// `userAgent`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// What the call does to the resource: create, delete, modify or unknown.
    pub effect: String,
    /// Whether it is the kind of change the version made.
    pub likely_cause: bool,
}

impl ApiCallView {
    fn new(event: &ApiEvent, effect: &'static str, likely_cause: bool) -> Self {
        ApiCallView {
            event_id: event.event_id.clone(),
            event_time: format_time(&event.event_time),
            event_name: event.event_name.clone(),
            event_source: event.event_source.clone(),
            username: event.username.clone(),
            user_type: event.user_identity.identity_type.clone(),
            user_arn: event.user_identity.arn.clone(),
            session_issuer: event.user_identity.session_issuer_arn.clone(),
            source_ip_address: event.source_ip_address.clone(),
            user_agent: event.user_agent.clone(),
            effect: effect.to_string(),
            likely_cause,
        }
    }

    fn linked(link: &LinkedCall) -> Self {
        ApiCallView::new(
            &link.call.event,
            link.call.effect.as_str(),
            link.likely_cause,
        )
    }

    fn pending(call: &ResourceCall) -> Self {
        ApiCallView::new(&call.event, call.effect.as_str(), false)
    }
}

/// A configuration version on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionEntry {
    /// Capture time.
    pub time: String,
    /// Version number.
    pub version: u64,
    /// `configurationItemStatus`.
    pub configuration_item_status: String,
    /// CREATE for the first version, DELETE for a deletion, else UPDATE.
    pub change_type: ChangeType,
    /// Paths that changed against the version before (`Configuration.IpPermissions.0`, …).
    pub changed_properties: Vec<String>,
    /// API calls linked to this version, in time order.
    pub api_calls: Vec<ApiCallView>,
}

/// A rule evaluation on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EvaluationEntry {
    /// The ordering time: the capture time judged (change triggers) or when it ran.
    pub time: String,
    /// The evaluation, in `compliance history`'s shape.
    #[serde(flatten)]
    pub evaluation: VerdictRecord,
}

/// One entry of a timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum TimelineEntry {
    /// A configuration version with its linked calls.
    Configuration(VersionEntry),
    /// A rule evaluation.
    Evaluation(EvaluationEntry),
    /// A remediation job (at its creation) with every attempt.
    Remediation(RemediationEntry),
    /// A remediation exception (at its creation).
    Exception(ExceptionEntry),
}

/// A remediation job on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RemediationEntry {
    /// When the job was created.
    pub time: String,
    /// The job, in `remediation list --json`'s shape.
    #[serde(flatten)]
    pub job: RemediationJob,
}

/// An exception on the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExceptionEntry {
    /// When it was added.
    pub time: String,
    /// Whether it applies now.
    pub active: bool,
    /// The exception.
    #[serde(flatten)]
    pub exception: RemediationException,
}

/// A resource's timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Account.
    #[serde(rename = "awsAccountId")]
    pub account_id: String,
    /// Region.
    pub aws_region: String,
    /// Name of the latest version.
    pub resource_name: Option<String>,
    /// Versions and evaluations, oldest first.
    pub entries: Vec<TimelineEntry>,
    /// Calls after the latest version: their configuration item has not arrived yet.
    pub pending_api_calls: Vec<ApiCallView>,
}

/// Versions fetched per page while building a timeline.
const PAGE: usize = 500;

/// Every version of a resource, oldest first.
fn all_versions(store: &Store, key: &ResourceKey) -> Result<Vec<ConfigurationItem>, StoreError> {
    let mut items = Vec::new();
    let mut query = HistoryQuery {
        since: None,
        until: None,
        order: HistoryOrder::Forward,
        limit: PAGE,
        after: None,
    };
    loop {
        let page = store.history(key, &query)?;
        items.extend(page.items);
        match page.next {
            Some(token) => query.after = Some(token),
            None => return Ok(items),
        }
    }
}

/// A resource's versions with their diffs and the calls linked to each.
pub struct LinkedHistory {
    /// Versions, oldest first.
    pub versions: Vec<ConfigurationItem>,
    /// Each version's diff against the one before.
    pub diffs: Vec<ItemDiff>,
    /// Calls per version, and pending calls.
    pub links: linker::Links,
}

/// Reads a resource's versions and the calls on it, and links them.
pub fn linked_history(store: &Store, key: &ResourceKey) -> Result<LinkedHistory, StoreError> {
    let versions = all_versions(store, key)?;
    let diffs: Vec<ItemDiff> = versions
        .iter()
        .enumerate()
        .map(|(i, item)| diff_items(i.checked_sub(1).map(|p| &versions[p]), item))
        .collect();
    // Calls name a resource by id, name or ARN; every spelling the versions used counts.
    let mut identifiers = BTreeSet::new();
    identifiers.insert(key.resource_id.as_str());
    for item in &versions {
        identifiers.extend(item.resource_name.as_deref());
        identifiers.extend(item.arn.as_deref());
    }
    let identifiers: Vec<&str> = identifiers.into_iter().collect();
    let calls = store.calls_on_resource(
        &key.resource_type,
        &identifiers,
        &key.account_id,
        &key.region,
        None,
        None,
    )?;
    let spans: Vec<VersionSpan<'_>> = versions
        .iter()
        .zip(&diffs)
        .map(|(item, diff)| VersionSpan {
            version: item.version_number().unwrap_or(0),
            time_ms: item.configuration_item_capture_time.timestamp_millis(),
            diff,
        })
        .collect();
    let links = linker::assign(&spans, calls);
    Ok(LinkedHistory {
        versions,
        diffs,
        links,
    })
}

/// Builds the timeline of a recorded resource.
pub fn timeline(store: &Store, key: &ResourceKey) -> Result<Timeline, StoreError> {
    let LinkedHistory {
        versions,
        diffs,
        links,
    } = linked_history(store, key)?;
    let mut entries: Vec<(i64, u8, TimelineEntry)> = Vec::new();
    for ((item, diff), calls) in versions.iter().zip(diffs).zip(&links.per_version) {
        entries.push((
            item.configuration_item_capture_time.timestamp_millis(),
            0,
            TimelineEntry::Configuration(VersionEntry {
                time: format_time(&item.configuration_item_capture_time),
                version: item.version_number().unwrap_or(0),
                configuration_item_status: item.configuration_item_status.as_str().to_string(),
                change_type: diff.change_type,
                changed_properties: diff.changed_properties.into_keys().collect(),
                api_calls: calls.iter().map(ApiCallView::linked).collect(),
            }),
        ));
    }
    for evaluation in store.verdict_history(key)? {
        let time = match evaluation.trigger {
            Trigger::Change => evaluation.configuration_item_capture_time,
            _ => evaluation.evaluated_at,
        };
        entries.push((
            time.timestamp_millis(),
            1,
            TimelineEntry::Evaluation(EvaluationEntry {
                time: format_time(&time),
                evaluation,
            }),
        ));
    }
    for job in store.jobs_of_resource(key)? {
        entries.push((
            job.created_at.timestamp_millis(),
            2,
            TimelineEntry::Remediation(RemediationEntry {
                time: format_time(&job.created_at),
                job,
            }),
        ));
    }
    let now = crate::model::now_millis();
    for exception in store.exceptions_of_resource(key)? {
        entries.push((
            exception.created_at.timestamp_millis(),
            3,
            TimelineEntry::Exception(ExceptionEntry {
                time: format_time(&exception.created_at),
                active: exception.is_active(now),
                exception,
            }),
        ));
    }
    // Stable: by time, a version before the evaluations of it, then in insertion order.
    entries.sort_by_key(|(time, kind, _)| (*time, *kind));
    Ok(Timeline {
        resource_type: key.resource_type.clone(),
        resource_id: key.resource_id.clone(),
        account_id: key.account_id.clone(),
        aws_region: key.region.clone(),
        resource_name: versions.last().and_then(|item| item.resource_name.clone()),
        entries: entries.into_iter().map(|(_, _, entry)| entry).collect(),
        pending_api_calls: links.pending.iter().map(ApiCallView::pending).collect(),
    })
}

/// The eventIDs linked to one version: the item's own `relatedEvents` and the linked calls.
pub fn related_events(store: &Store, item: &ConfigurationItem) -> Result<Vec<String>, StoreError> {
    let mut items = [item.clone()];
    add_related_events(store, &mut items)?;
    let [item] = items;
    Ok(item.related_events)
}

/// Adds to each of `items`, versions of one resource, the ids of the API calls linked to it
/// (the resource's history is linked once for all of them).
pub fn add_related_events(
    store: &Store,
    items: &mut [ConfigurationItem],
) -> Result<(), StoreError> {
    let Some(first) = items.first() else {
        return Ok(());
    };
    let history = linked_history(store, &first.key())?;
    for item in items.iter_mut() {
        let number = item.version_number();
        let Some(index) = history
            .versions
            .iter()
            .position(|v| v.version_number() == number)
        else {
            continue;
        };
        for link in &history.links.per_version[index] {
            if !item.related_events.contains(&link.call.event.event_id) {
                item.related_events.push(link.call.event.event_id.clone());
            }
        }
    }
    Ok(())
}
