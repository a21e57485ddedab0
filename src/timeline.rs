//! A resource's timeline: every version with what changed and the API calls that changed it,
//! and every rule evaluation, in time order. The JSON shape is documented in
//! `docs/json-output.md` and kept stable.

use crate::diff::{diff_items, ChangeType, ItemDiff};
use crate::evaluator::VerdictRecord;
use crate::linker::{self, LinkedCall, VersionSpan};
use crate::model::{format_time, ApiEvent, ConfigurationItem, ResourceKey};
use crate::remediation::{RemediationException, RemediationJob};
use crate::rules::Trigger;
use crate::store::{HistoryOrder, HistoryQuery, PageToken, ResourceCall, Store, StoreError};
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

/// One page of a timeline, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TimelinePage {
    /// Entries, newest first.
    pub entries: Vec<TimelineEntry>,
    /// The token of the next (older) page, when there is one.
    pub older: Option<String>,
    /// Calls after the latest version.
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

/// Timeline entries with their ordering keys, before sorting.
type Keyed = Vec<(i64, u8, TimelineEntry)>;

/// The entries of versions (each with its diff and linked calls).
fn version_entries<'a>(
    entries: &mut Keyed,
    versions: impl Iterator<Item = (&'a ConfigurationItem, ItemDiff, &'a [LinkedCall])>,
) {
    for (item, diff, calls) in versions {
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
}

/// The entries of evaluations, jobs and exceptions.
fn other_entries(
    entries: &mut Keyed,
    evaluations: Vec<VerdictRecord>,
    jobs: Vec<RemediationJob>,
    exceptions: Vec<RemediationException>,
) {
    for evaluation in evaluations {
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
    for job in jobs {
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
    for exception in exceptions {
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
}

/// Sorted: by time, a version before the evaluations of it, then in insertion order.
fn sorted(mut entries: Keyed) -> Vec<TimelineEntry> {
    entries.sort_by_key(|(time, kind, _)| (*time, *kind));
    entries.into_iter().map(|(_, _, entry)| entry).collect()
}

/// Builds the timeline of a recorded resource.
pub fn timeline(store: &Store, key: &ResourceKey) -> Result<Timeline, StoreError> {
    let LinkedHistory {
        versions,
        diffs,
        links,
    } = linked_history(store, key)?;
    let mut entries = Keyed::new();
    version_entries(
        &mut entries,
        versions
            .iter()
            .zip(diffs)
            .zip(&links.per_version)
            .map(|((item, diff), calls)| (item, diff, calls.as_slice())),
    );
    other_entries(
        &mut entries,
        store.verdict_history(key)?,
        store.jobs_of_resource(key)?,
        store.exceptions_of_resource(key)?,
    );
    Ok(Timeline {
        resource_type: key.resource_type.clone(),
        resource_id: key.resource_id.clone(),
        account_id: key.account_id.clone(),
        aws_region: key.region.clone(),
        resource_name: versions.last().and_then(|item| item.resource_name.clone()),
        entries: sorted(entries),
        pending_api_calls: links.pending.iter().map(ApiCallView::pending).collect(),
    })
}

/// One page of a resource's timeline, newest first: `versions` versions older than `before`
/// (a previous page's token; none: the newest), each with its diff and linked calls, the
/// evaluations of those versions, and the jobs and exceptions created in their span (on the
/// first page, also every one after). Reads only that window of the history, so a page costs
/// the same on a resource with ten versions or ten thousand; the entries are those the whole
/// [`timeline`] has for that window.
pub fn timeline_window(
    store: &Store,
    key: &ResourceKey,
    before: Option<PageToken>,
    versions: usize,
) -> Result<TimelinePage, StoreError> {
    let versions = versions.max(1);
    // Newest first: the page's versions and two older ones (the diff and the links of the
    // oldest shown need its predecessor and the one before).
    let read = store.history(
        key,
        &HistoryQuery {
            since: None,
            until: None,
            order: HistoryOrder::Reverse,
            limit: versions + 2,
            after: before,
        },
    )?;
    let mut window: Vec<ConfigurationItem> = read.items;
    window.reverse();
    let shown = window.len().min(versions);
    let first_shown = window.len() - shown;
    // The version just newer than the page (the previous page's oldest).
    let newer = match before {
        Some(token) => store.version(key, token.version())?,
        None => None,
    };
    let diffs: Vec<ItemDiff> = window
        .iter()
        .enumerate()
        .map(|(i, item)| diff_items(i.checked_sub(1).map(|p| &window[p]), item))
        .chain(newer.iter().map(|item| diff_items(window.last(), item)))
        .collect();
    // Spans from the version before the shown ones (if any) to the newer one (if any).
    let span_from = first_shown.saturating_sub(1);
    let all_versions: Vec<&ConfigurationItem> = window.iter().chain(newer.iter()).collect();
    let spans: Vec<VersionSpan<'_>> = all_versions
        .iter()
        .zip(&diffs)
        .skip(span_from)
        .map(|(item, diff)| VersionSpan {
            version: item.version_number().unwrap_or(0),
            time_ms: item.configuration_item_capture_time.timestamp_millis(),
            diff,
        })
        .collect();
    let mut identifiers = BTreeSet::new();
    identifiers.insert(key.resource_id.as_str());
    for item in &all_versions {
        identifiers.extend(item.resource_name.as_deref());
        identifiers.extend(item.arn.as_deref());
    }
    let identifiers: Vec<&str> = identifiers.into_iter().collect();
    let time_of =
        |item: &ConfigurationItem| item.configuration_item_capture_time.timestamp_millis();
    // Calls before the version preceding the page belong to it or older ones; calls after the
    // newer version, to it or newer ones.
    let since = (first_shown > 0).then(|| time_of(&window[first_shown - 1]));
    let until = newer.as_ref().map(time_of);
    let calls = store.calls_on_resource(
        &key.resource_type,
        &identifiers,
        &key.account_id,
        &key.region,
        since,
        until,
    )?;
    let links = linker::assign(&spans, calls);
    let page_versions = &window[first_shown..];
    let page_diffs = diffs[first_shown..first_shown + shown].to_vec();
    let page_links = &links.per_version[first_shown - span_from..first_shown - span_from + shown];
    let mut entries = Keyed::new();
    version_entries(
        &mut entries,
        page_versions
            .iter()
            .zip(page_diffs)
            .zip(page_links)
            .map(|((item, diff), calls)| (item, diff, calls.as_slice())),
    );
    let numbers: BTreeSet<u64> = page_versions
        .iter()
        .filter_map(ConfigurationItem::version_number)
        .collect();
    let (low, high) = match (page_versions.first(), page_versions.last()) {
        (Some(oldest), Some(newest)) => (time_of(oldest), time_of(newest)),
        _ => (i64::MIN, i64::MAX),
    };
    let evaluations = store
        .verdict_history_between(key, low, high)?
        .into_iter()
        .filter(|r| numbers.contains(&r.configuration_version))
        .collect();
    // Jobs and exceptions by when they were created: from the oldest shown version up to the
    // newer version (the first page: up to now).
    let older_pages = first_shown > 0;
    let in_span = |t: i64| (!older_pages || t >= low) && until.is_none_or(|u| t < u);
    let jobs = store
        .jobs_of_resource(key)?
        .into_iter()
        .filter(|j| in_span(j.created_at.timestamp_millis()))
        .collect();
    let exceptions = store
        .exceptions_of_resource(key)?
        .into_iter()
        .filter(|x| in_span(x.created_at.timestamp_millis()))
        .collect();
    other_entries(&mut entries, evaluations, jobs, exceptions);
    let mut entries = sorted(entries);
    entries.reverse();
    let older = page_versions
        .first()
        .filter(|_| older_pages)
        .and_then(|oldest| {
            oldest
                .version_number()
                .map(|version| PageToken::at(time_of(oldest), version))
        });
    let pending = if before.is_none() {
        links.pending.iter().map(ApiCallView::pending).collect()
    } else {
        Vec::new()
    };
    Ok(TimelinePage {
        entries,
        older: older.map(|t| t.encode()),
        pending_api_calls: pending,
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
