//! Read-side questions over the store (which resource, which version, what changed), answered
//! in the documented JSON shapes that the CLI prints and the HTTP API will serve.

use crate::diff::{diff_items, unified_diff, ItemDiff};
use crate::model::{format_time, ConfigurationItem, EvaluatedResource, ResourceKey, Timestamp};
use crate::store::{HistoryPage, HistoryQuery, ResourceSummary, Store, StoreError};
use serde::{Deserialize, Serialize};

/// Errors answering a question.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// No such resource was ever recorded.
    #[error("no resource {resource_type} {resource_id} has been recorded")]
    NotFound {
        /// The type asked for.
        resource_type: String,
        /// The id asked for.
        resource_id: String,
    },
    /// The type and id exist in several accounts or regions.
    #[error("{resource_type} {resource_id} exists in several accounts/regions ({}); pass --account and/or --region", .candidates.iter().map(|k| format!("{}/{}", k.account_id, k.region)).collect::<Vec<_>>().join(", "))]
    Ambiguous {
        /// The type asked for.
        resource_type: String,
        /// The id asked for.
        resource_id: String,
        /// The matching resources.
        candidates: Vec<ResourceKey>,
    },
    /// The resource has no such version number.
    #[error("{key} has no version {version} (it has versions 1 to {max})")]
    NoSuchVersion {
        /// The resource.
        key: ResourceKey,
        /// The version asked for.
        version: u64,
        /// The highest version number.
        max: u64,
    },
    /// Nothing was recorded at or before the time asked for.
    #[error("{key} has no version captured at or before {}", format_time(.at))]
    NothingAt {
        /// The resource.
        key: ResourceKey,
        /// The time asked for.
        at: Timestamp,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Characters left as they are in a path segment (RFC 3986 unreserved, and `:` for types).
const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b':');

/// An API path from its segments, each percent-encoded (`["", "v1", "resources", type, id]`).
pub fn api_path(segments: &[&str]) -> String {
    segments
        .iter()
        .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
        .collect::<Vec<_>>()
        .join("/")
}

/// `/v1/resources/{type}/{id}` and what follows it, for a recorded resource: account and
/// region in the query, so the path names exactly one resource.
pub fn resource_api_path(key: &ResourceKey, rest: &[&str]) -> String {
    let mut segments = vec!["", "v1", "resources", &key.resource_type, &key.resource_id];
    segments.extend_from_slice(rest);
    let query = serde_urlencoded::to_string([
        ("account", key.account_id.as_str()),
        ("region", key.region.as_str()),
    ])
    .unwrap_or_default();
    format!("{}?{query}", api_path(&segments))
}

/// Which resource: type and id, narrowed by account and region when ids repeat.
#[derive(Debug, Clone, Default)]
pub struct ResourceSelector {
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Account, when several have the id.
    pub account_id: Option<String>,
    /// Region, when several have the id.
    pub region: Option<String>,
}

/// Finds the one recorded resource a selector means.
pub fn resolve(store: &Store, sel: &ResourceSelector) -> Result<ResourceKey, QueryError> {
    let mut found = store.find_resources(&sel.resource_type, &sel.resource_id)?;
    found.retain(|k| {
        sel.account_id.as_ref().is_none_or(|a| *a == k.account_id)
            && sel.region.as_ref().is_none_or(|r| *r == k.region)
    });
    match found.len() {
        0 => Err(QueryError::NotFound {
            resource_type: sel.resource_type.clone(),
            resource_id: sel.resource_id.clone(),
        }),
        1 => Ok(found.remove(0)),
        _ => Err(QueryError::Ambiguous {
            resource_type: sel.resource_type.clone(),
            resource_id: sel.resource_id.clone(),
            candidates: found,
        }),
    }
}

/// One line of the resource listing.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResourceEntry {
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Account id.
    pub account_id: String,
    /// Region.
    pub aws_region: String,
    /// Name of the latest version.
    pub resource_name: Option<String>,
    /// Status of the latest version.
    pub configuration_item_status: String,
    /// Capture time of the latest version.
    pub configuration_item_capture_time: String,
    /// Number of the latest version.
    pub latest_version: u64,
    /// How many versions are stored.
    pub version_count: u64,
    /// Capture time of the earliest version.
    pub first_capture_time: String,
}

impl From<ResourceSummary> for ResourceEntry {
    fn from(s: ResourceSummary) -> Self {
        let time = |ms: i64| {
            chrono::DateTime::from_timestamp_millis(ms)
                .map(|t| format_time(&t))
                .unwrap_or_default()
        };
        ResourceEntry {
            resource_type: s.key.resource_type,
            resource_id: s.key.resource_id,
            account_id: s.key.account_id,
            aws_region: s.key.region,
            resource_name: s.state.resource_name,
            configuration_item_status: s.state.status,
            configuration_item_capture_time: time(s.state.latest.time_ms),
            latest_version: s.state.latest.version,
            version_count: s.state.version_count,
            first_capture_time: time(s.state.first_time_ms),
        }
    }
}

/// Every recorded resource (of a type, when given), streamed from the store.
pub fn resources<'s>(
    store: &'s Store,
    resource_type: Option<&str>,
) -> impl Iterator<Item = Result<ResourceEntry, QueryError>> + 's {
    store
        .resources(resource_type)
        .map(|r| r.map(ResourceEntry::from).map_err(QueryError::from))
}

/// A history page in GetResourceConfigHistory's shape.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HistoryResponse {
    /// The resource.
    #[serde(flatten)]
    pub resource: EvaluatedResource,
    /// The versions.
    pub configuration_items: Vec<ConfigurationItem>,
    /// Pass as `--next` for the following page; absent on the last page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_token: Option<String>,
}

/// One page of a resource's history.
pub fn history(
    store: &Store,
    key: &ResourceKey,
    query: &HistoryQuery,
) -> Result<HistoryResponse, QueryError> {
    let HistoryPage { items, next } = store.history(key, query)?;
    Ok(HistoryResponse {
        resource: EvaluatedResource::from(key),
        configuration_items: items,
        next_token: next.map(|t| t.encode()),
    })
}

/// Which version of a resource.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum VersionSelector {
    /// The latest in capture time.
    #[default]
    Latest,
    /// By number.
    Number(u64),
    /// The one in force at a time.
    At(Timestamp),
}

/// One version of a resource.
pub fn show(
    store: &Store,
    key: &ResourceKey,
    which: VersionSelector,
) -> Result<ConfigurationItem, QueryError> {
    let state = store
        .latest_state(key)?
        .ok_or_else(|| QueryError::NotFound {
            resource_type: key.resource_type.clone(),
            resource_id: key.resource_id.clone(),
        })?;
    let number = |n: u64| -> Result<ConfigurationItem, QueryError> {
        store
            .version(key, n)?
            .ok_or_else(|| QueryError::NoSuchVersion {
                key: key.clone(),
                version: n,
                max: state.next_version.saturating_sub(1),
            })
    };
    match which {
        VersionSelector::Latest => number(state.latest.version),
        VersionSelector::Number(n) => number(n),
        VersionSelector::At(at) => store.version_at(key, at)?.ok_or(QueryError::NothingAt {
            key: key.clone(),
            at,
        }),
    }
}

/// The difference between two versions, in AWS's shape plus a unified text diff.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DiffResponse {
    /// Resource type.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Account id.
    pub account_id: String,
    /// Region.
    pub aws_region: String,
    /// The older side's version number (absent when diffing the first version).
    pub from_version: Option<u64>,
    /// The newer side's version number.
    pub to_version: u64,
    /// The older side's capture time.
    pub from_capture_time: Option<String>,
    /// The newer side's capture time.
    pub to_capture_time: String,
    /// `{changeType, changedProperties}` as in AWS change notifications.
    pub configuration_item_diff: ItemDiff,
    /// Unified diff of the pretty-printed items.
    pub unified_diff: String,
}

/// Diffs version `to` (default latest) against `from` (default the version just before `to`).
pub fn diff(
    store: &Store,
    key: &ResourceKey,
    from: Option<u64>,
    to: Option<u64>,
) -> Result<DiffResponse, QueryError> {
    let to_item = show(
        store,
        key,
        to.map_or(VersionSelector::Latest, VersionSelector::Number),
    )?;
    let from_item = match from {
        Some(n) => Some(show(store, key, VersionSelector::Number(n))?),
        None => store.previous_version(&to_item)?,
    };
    let label = |item: &ConfigurationItem| {
        format!(
            "version {} ({})",
            item.version_number().unwrap_or(0),
            format_time(&item.configuration_item_capture_time)
        )
    };
    let from_label = from_item.as_ref().map_or("(nothing)".to_string(), label);
    Ok(DiffResponse {
        resource_type: key.resource_type.clone(),
        resource_id: key.resource_id.clone(),
        account_id: key.account_id.clone(),
        aws_region: key.region.clone(),
        from_version: from_item
            .as_ref()
            .and_then(ConfigurationItem::version_number),
        to_version: to_item.version_number().unwrap_or(0),
        from_capture_time: from_item
            .as_ref()
            .map(|i| format_time(&i.configuration_item_capture_time)),
        to_capture_time: format_time(&to_item.configuration_item_capture_time),
        configuration_item_diff: diff_items(from_item.as_ref(), &to_item),
        unified_diff: unified_diff(from_item.as_ref(), &to_item, &from_label, &label(&to_item)),
    })
}

/// An API event lookup as text filters (HTTP query string; the CLI fills it from its flags).
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct EventLookup {
    /// eventName.
    pub event_name: Option<String>,
    /// User name, user or role ARN, or session issuer name.
    pub user: Option<String>,
    /// Type of a resource the event names.
    pub resource_type: Option<String>,
    /// Id, name or ARN of a resource the event names.
    pub resource_name: Option<String>,
    /// eventSource.
    pub event_source: Option<String>,
    /// Access key id.
    pub access_key: Option<String>,
    /// "true" or "false".
    #[param(pattern = "^(true|false)$")]
    pub read_only: Option<String>,
    /// One event by id.
    pub event_id: Option<String>,
    /// Earliest event time.
    pub since: Option<String>,
    /// Latest event time (a bare date: the end of that day).
    pub until: Option<String>,
    /// Events per page (1 to 100000, default 50).
    #[param(minimum = 1, maximum = 100000)]
    pub limit: Option<u32>,
    /// A previous page's NextToken.
    pub next: Option<String>,
    /// Output format (HTTP only): json or csv.
    #[param(pattern = "^(json|csv)$")]
    pub format: Option<String>,
}

impl EventLookup {
    /// The store query; the error names the bad filter.
    pub fn to_query(&self) -> Result<crate::store::EventQuery, String> {
        use crate::store::{EventAttribute, EventPageToken, EventQuery};
        let time = |name: &str, text: &Option<String>, parse: fn(&str) -> Result<_, String>| {
            text.as_deref()
                .map(|t| parse(t).map_err(|e| format!("{name}: {e}")))
                .transpose()
        };
        let since = time("since", &self.since, crate::model::parse_time_arg)?;
        let until = time("until", &self.until, crate::model::parse_until_arg)?;
        if let (Some(since), Some(until)) = (since, until) {
            if since > until {
                return Err(format!(
                    "since ({}) is after until ({})",
                    format_time(&since),
                    format_time(&until)
                ));
            }
        }
        let mut filters = Vec::new();
        for (attribute, value) in [
            (EventAttribute::EventName, &self.event_name),
            (EventAttribute::Username, &self.user),
            (EventAttribute::ResourceType, &self.resource_type),
            (EventAttribute::ResourceName, &self.resource_name),
            (EventAttribute::EventSource, &self.event_source),
            (EventAttribute::AccessKeyId, &self.access_key),
        ] {
            if let Some(value) = value {
                filters.push((attribute, value.clone()));
            }
        }
        if let Some(read_only) = &self.read_only {
            match read_only.as_str() {
                "true" | "false" => filters.push((EventAttribute::ReadOnly, read_only.clone())),
                other => return Err(format!("readOnly: {other:?} is not true or false")),
            }
        }
        let limit = self.limit.unwrap_or(50);
        if !(1..=100_000).contains(&limit) {
            return Err(format!("limit: {limit} is not between 1 and 100000"));
        }
        Ok(EventQuery {
            filters,
            event_id: self.event_id.clone(),
            since,
            until,
            limit: limit as usize,
            after: self
                .next
                .as_deref()
                .map(EventPageToken::decode)
                .transpose()
                .map_err(|e| format!("next: {e}"))?,
        })
    }
}
