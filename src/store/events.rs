//! API events (`events` tree): the records, an id index for de-duplication, lookup indexes and
//! the per-resource index the linker reads.
//!
//! Keys (times big-endian, sign-flipped, so byte order is time order):
//! - `E` time eventID → the event (format byte, postcard, LZ4-compressed record JSON);
//! - `I` eventID → time, so a re-delivered event is recognised with one read;
//! - `X` attribute value \0 time eventID → (), one per lookup attribute value;
//! - `L` type \0 identifier \0 account \0 region \0 time eventID → (), for successful writes only.
//!
//! Every lookup attribute's entries are ordered by (time, eventID), the same suffix as `E`, so
//! several filters are intersected by leapfrogging between index ranges: each step is one
//! seek, never a scan of entries that cannot match.

use super::{corrupt, keys, Store, StoreError};
use crate::model::{ApiEvent, Effect, EventResource, Timestamp, TouchedResource, UserIdentity};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Bound;

const EVENT: u8 = b'E';
const EVENT_ID: u8 = b'I';
const INDEX: u8 = b'X';
const LINK: u8 = b'L';
const FORMAT_V1: u8 = 1;

/// A lookup attribute, as CloudTrail's event history offers them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EventAttribute {
    /// `eventName`.
    EventName,
    /// The user name, the caller's ARN or the session issuer's ARN or name.
    Username,
    /// The type of a resource the event names.
    ResourceType,
    /// The id, name or ARN of a resource the event names.
    ResourceName,
    /// `eventSource`.
    EventSource,
    /// `userIdentity.accessKeyId`.
    AccessKeyId,
    /// `readOnly` as `true` / `false`.
    ReadOnly,
}

impl EventAttribute {
    fn tag(self) -> u8 {
        match self {
            EventAttribute::EventName => b'n',
            EventAttribute::Username => b'u',
            EventAttribute::ResourceType => b't',
            EventAttribute::ResourceName => b'r',
            EventAttribute::EventSource => b's',
            EventAttribute::AccessKeyId => b'k',
            EventAttribute::ReadOnly => b'o',
        }
    }
}

/// An event as stored, with the resources it was found to touch when it was ingested.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// The event.
    pub event: ApiEvent,
    /// The resources it names (from `resources[]` and the event-resource table).
    pub touched: Vec<TouchedResource>,
}

impl StoredEvent {
    /// Every (attribute, value) pair this event is found under.
    pub fn index_values(&self) -> Vec<(EventAttribute, &str)> {
        let e = &self.event;
        let mut out: Vec<(EventAttribute, &str)> = vec![
            (EventAttribute::EventName, &e.event_name),
            (EventAttribute::EventSource, &e.event_source),
            (
                EventAttribute::ReadOnly,
                if e.read_only { "true" } else { "false" },
            ),
        ];
        let id = &e.user_identity;
        for who in [
            Some(&e.username),
            id.arn.as_ref(),
            id.session_issuer_arn.as_ref(),
            id.session_issuer_name.as_ref(),
            id.user_name.as_ref(),
        ]
        .into_iter()
        .flatten()
        {
            out.push((EventAttribute::Username, who));
        }
        if let Some(key) = &e.access_key_id {
            out.push((EventAttribute::AccessKeyId, key));
        }
        for t in &self.touched {
            out.push((EventAttribute::ResourceType, &t.resource_type));
            out.push((EventAttribute::ResourceName, &t.identifier));
        }
        for r in &e.resources {
            if let Some(arn) = &r.arn {
                out.push((EventAttribute::ResourceName, arn));
            }
            if let Some(t) = &r.resource_type {
                out.push((EventAttribute::ResourceType, t));
            }
        }
        out.retain(|(_, v)| !v.is_empty());
        let mut seen = HashSet::new();
        out.retain(|pair| seen.insert(*pair));
        out
    }

    /// Whether a successful write: only those are linked to configuration versions.
    fn links(&self) -> bool {
        self.event.is_successful_write()
    }
}

/// What storing a batch of events did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventWrites {
    /// Events stored.
    pub stored: usize,
    /// Events already stored (same eventID): not stored again.
    pub duplicates: usize,
}

/// Position after which the next page of a lookup starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventPageToken(Vec<u8>);

impl EventPageToken {
    /// The token as text (`e1.` + hex).
    pub fn encode(&self) -> String {
        format!("e1.{}", crate::model::hash_hex(&self.0))
    }

    /// Parses a token produced by [`EventPageToken::encode`].
    pub fn decode(text: &str) -> Result<EventPageToken, String> {
        let bad = || format!("invalid page token {text:?}: pass the nextToken of a previous page");
        let hex = text.strip_prefix("e1.").ok_or_else(bad)?;
        if hex.len() % 2 != 0 || hex.len() < 18 {
            return Err(bad());
        }
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(hex.get(i..i + 2).unwrap_or("zz"), 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|_| bad())?;
        Ok(EventPageToken(bytes))
    }
}

/// An event lookup: every filter given must hold (AND); newest first.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Attribute filters, all of which must match.
    pub filters: Vec<(EventAttribute, String)>,
    /// Only this event.
    pub event_id: Option<String>,
    /// Earliest event time included.
    pub since: Option<Timestamp>,
    /// Latest event time included.
    pub until: Option<Timestamp>,
    /// Page size (at least 1).
    pub limit: usize,
    /// Continue after this position.
    pub after: Option<EventPageToken>,
}

/// One page of a lookup.
#[derive(Debug, Clone)]
pub struct EventPage {
    /// The events, newest first.
    pub events: Vec<StoredEvent>,
    /// Token for the next page, when there may be one.
    pub next: Option<EventPageToken>,
}

/// A successful write on a resource, found through the per-resource index.
#[derive(Debug, Clone, PartialEq)]
pub struct ResourceCall {
    /// The event.
    pub event: ApiEvent,
    /// What the event does to this resource.
    pub effect: Effect,
}

/// The postcard form of a stored event; the record JSON is LZ4-compressed.
#[derive(Serialize, Deserialize)]
struct EventValue {
    event_id: String,
    time_ms: i64,
    event_source: String,
    event_name: String,
    aws_region: String,
    account_id: String,
    identity: [Option<String>; 8],
    username: String,
    source_ip_address: Option<String>,
    user_agent: Option<String>,
    access_key_id: Option<String>,
    error_code: Option<String>,
    error_message: Option<String>,
    read_only: bool,
    event_type: Option<String>,
    request_id: Option<String>,
    resources: Vec<[Option<String>; 3]>,
    touched: Vec<TouchValue>,
    record: Vec<u8>,
}

#[derive(Serialize, Deserialize)]
struct TouchValue {
    resource_type: String,
    identifier: String,
    account_id: String,
    region: String,
    /// 0 unknown, 1 create, 2 delete, 3 modify.
    effect: u8,
    changes: Vec<String>,
}

fn encode_event(stored: &StoredEvent) -> Result<Vec<u8>, StoreError> {
    let e = &stored.event;
    let id = &e.user_identity;
    let record = serde_json::to_vec(&e.record).map_err(|err| StoreError::Encode {
        what: "API event",
        detail: err.to_string(),
    })?;
    let value = EventValue {
        event_id: e.event_id.clone(),
        time_ms: e.event_time.timestamp_millis(),
        event_source: e.event_source.clone(),
        event_name: e.event_name.clone(),
        aws_region: e.aws_region.clone(),
        account_id: e.account_id.clone(),
        identity: [
            id.identity_type.clone(),
            id.principal_id.clone(),
            id.arn.clone(),
            id.account_id.clone(),
            id.user_name.clone(),
            id.session_issuer_arn.clone(),
            id.session_issuer_name.clone(),
            id.invoked_by.clone(),
        ],
        username: e.username.clone(),
        source_ip_address: e.source_ip_address.clone(),
        user_agent: e.user_agent.clone(),
        access_key_id: e.access_key_id.clone(),
        error_code: e.error_code.clone(),
        error_message: e.error_message.clone(),
        read_only: e.read_only,
        event_type: e.event_type.clone(),
        request_id: e.request_id.clone(),
        resources: e
            .resources
            .iter()
            .map(|r| [r.arn.clone(), r.resource_type.clone(), r.account_id.clone()])
            .collect(),
        touched: stored
            .touched
            .iter()
            .map(|t| {
                let (effect, changes) = match &t.effect {
                    Effect::Unknown => (0, Vec::new()),
                    Effect::Create => (1, Vec::new()),
                    Effect::Delete => (2, Vec::new()),
                    Effect::Modify(paths) => (3, paths.clone()),
                };
                TouchValue {
                    resource_type: t.resource_type.clone(),
                    identifier: t.identifier.clone(),
                    account_id: t.account_id.clone(),
                    region: t.region.clone(),
                    effect,
                    changes,
                }
            })
            .collect(),
        record: lz4_flex::compress_prepend_size(&record),
    };
    let out = vec![FORMAT_V1];
    postcard::to_extend(&value, out).map_err(|err| StoreError::Encode {
        what: "API event",
        detail: err.to_string(),
    })
}

fn decode_event(bytes: &[u8]) -> Result<StoredEvent, StoreError> {
    let body = match bytes.split_first() {
        Some((&FORMAT_V1, body)) => body,
        Some((other, _)) => {
            return Err(corrupt("API event", format!("unknown format byte {other}")))
        }
        None => return Err(corrupt("API event", "empty value")),
    };
    let v: EventValue =
        postcard::from_bytes(body).map_err(|e| corrupt("API event", e.to_string()))?;
    let json = lz4_flex::decompress_size_prepended(&v.record)
        .map_err(|e| corrupt("API event", e.to_string()))?;
    let record = serde_json::from_slice(&json).map_err(|e| corrupt("API event", e.to_string()))?;
    let event_time = chrono::DateTime::from_timestamp_millis(v.time_ms)
        .ok_or_else(|| corrupt("API event", "bad event time"))?;
    let [identity_type, principal_id, arn, account_id, user_name, session_issuer_arn, session_issuer_name, invoked_by] =
        v.identity;
    Ok(StoredEvent {
        event: ApiEvent {
            event_id: v.event_id,
            event_time,
            event_source: v.event_source,
            event_name: v.event_name,
            aws_region: v.aws_region,
            account_id: v.account_id,
            user_identity: UserIdentity {
                identity_type,
                principal_id,
                arn,
                account_id,
                user_name,
                session_issuer_arn,
                session_issuer_name,
                invoked_by,
            },
            username: v.username,
            source_ip_address: v.source_ip_address,
            user_agent: v.user_agent,
            access_key_id: v.access_key_id,
            error_code: v.error_code,
            error_message: v.error_message,
            read_only: v.read_only,
            event_type: v.event_type,
            request_id: v.request_id,
            resources: v
                .resources
                .into_iter()
                .map(|[arn, resource_type, account_id]| EventResource {
                    arn,
                    resource_type,
                    account_id,
                })
                .collect(),
            record,
        },
        touched: v
            .touched
            .into_iter()
            .map(|t| TouchedResource {
                resource_type: t.resource_type,
                identifier: t.identifier,
                account_id: t.account_id,
                region: t.region,
                effect: match t.effect {
                    1 => Effect::Create,
                    2 => Effect::Delete,
                    3 => Effect::Modify(t.changes),
                    _ => Effect::Unknown,
                },
            })
            .collect(),
    })
}

/// `time eventID`: the suffix every event key ends with.
fn suffix(time_ms: i64, event_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + event_id.len());
    out.extend_from_slice(&keys::time(time_ms));
    out.extend_from_slice(event_id.as_bytes());
    out
}

fn with_prefix(prefix: &[u8], suffix: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + suffix.len());
    out.extend_from_slice(prefix);
    out.extend_from_slice(suffix);
    out
}

/// `X attribute value \0`. NUL bytes in values are dropped: they would break the separator.
fn index_prefix(attribute: EventAttribute, value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 3);
    out.push(INDEX);
    out.push(attribute.tag());
    out.extend(value.bytes().filter(|b| *b != 0));
    out.push(0);
    out
}

/// `L type \0 identifier \0 account \0 region \0`.
fn link_prefix(resource_type: &str, identifier: &str, account: &str, region: &str) -> Vec<u8> {
    let mut out = vec![LINK];
    for part in [resource_type, identifier, account, region] {
        out.extend(part.bytes().filter(|b| *b != 0));
        out.push(0);
    }
    out
}

fn id_key(event_id: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(event_id.len() + 1);
    out.push(EVENT_ID);
    out.extend_from_slice(event_id.as_bytes());
    out
}

/// Every key of one stored event except its `E` record.
fn secondary_keys(stored: &StoredEvent, suffix: &[u8]) -> Vec<Vec<u8>> {
    let mut out = vec![id_key(&stored.event.event_id)];
    for (attribute, value) in stored.index_values() {
        out.push(with_prefix(&index_prefix(attribute, value), suffix));
    }
    if stored.links() {
        let mut seen = HashSet::new();
        for t in &stored.touched {
            let prefix = link_prefix(&t.resource_type, &t.identifier, &t.account_id, &t.region);
            if seen.insert(prefix.clone()) {
                out.push(with_prefix(&prefix, suffix));
            }
        }
    }
    out
}

/// The largest key in `[prefix + low, prefix + high)` (or `..= high` when `inclusive`), as a suffix.
fn seek_back(
    tree: &sled::Tree,
    prefix: &[u8],
    low: &[u8],
    high: &[u8],
    inclusive: bool,
) -> Result<Option<Vec<u8>>, StoreError> {
    let lower = Bound::Included(with_prefix(prefix, low));
    let upper_key = with_prefix(prefix, high);
    let upper = if inclusive {
        Bound::Included(upper_key)
    } else {
        Bound::Excluded(upper_key)
    };
    match tree.range::<Vec<u8>, _>((lower, upper)).next_back() {
        Some(entry) => {
            let (k, _) = entry?;
            Ok(k.get(prefix.len()..).map(<[u8]>::to_vec))
        }
        None => Ok(None),
    }
}

impl Store {
    /// Stores events in one atomic batch, skipping those whose eventID is already stored.
    pub fn put_events(&self, events: &[StoredEvent]) -> Result<EventWrites, StoreError> {
        let _writer = self
            .event_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut writes = EventWrites::default();
        let mut batch = sled::Batch::default();
        let mut in_batch = HashSet::new();
        for stored in events {
            let id = &stored.event.event_id;
            if !in_batch.insert(id.as_str()) || self.events.contains_key(id_key(id))? {
                writes.duplicates += 1;
                continue;
            }
            let suffix = suffix(stored.event.event_time.timestamp_millis(), id);
            batch.insert(with_prefix(&[EVENT], &suffix), encode_event(stored)?);
            let mut secondary = secondary_keys(stored, &suffix).into_iter();
            if let Some(id_entry) = secondary.next() {
                batch.insert(id_entry, &suffix[..8]);
            }
            for key in secondary {
                batch.insert(key, &[]);
            }
            writes.stored += 1;
        }
        self.events.apply_batch(batch)?;
        Ok(writes)
    }

    /// One event by its eventID.
    pub fn event(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let Some(time) = self.events.get(id_key(event_id))? else {
            return Ok(None);
        };
        let time: [u8; 8] = time
            .as_ref()
            .try_into()
            .map_err(|_| corrupt("API event id index", "bad time"))?;
        let mut key = vec![EVENT];
        key.extend_from_slice(&time);
        key.extend_from_slice(event_id.as_bytes());
        self.events.get(key)?.map(|v| decode_event(&v)).transpose()
    }

    /// Events matching every filter of `query`, newest first, one page.
    pub fn lookup_events(&self, query: &EventQuery) -> Result<EventPage, StoreError> {
        let limit = query.limit.max(1);
        if let Some(id) = &query.event_id {
            let found = self.event(id)?.filter(|stored| {
                let values = stored.index_values();
                let t = stored.event.event_time;
                query
                    .filters
                    .iter()
                    .all(|(a, v)| values.iter().any(|(b, w)| a == b && w == v))
                    && query.since.is_none_or(|s| t >= s)
                    && query.until.is_none_or(|u| t <= u)
            });
            return Ok(EventPage {
                events: found
                    .filter(|_| query.after.is_none())
                    .into_iter()
                    .collect(),
                next: None,
            });
        }
        let low = query
            .since
            .map_or_else(Vec::new, |t| keys::time(t.timestamp_millis()).to_vec());
        // Exclusive upper bound on the suffix.
        let mut high = match query.until {
            Some(t) => keys::time(t.timestamp_millis().saturating_add(1)).to_vec(),
            None => vec![0xff; 9],
        };
        if let Some(after) = &query.after {
            if after.0 < high {
                high = after.0.clone();
            }
        }
        let streams: Vec<Vec<u8>> = if query.filters.is_empty() {
            vec![vec![EVENT]]
        } else {
            query
                .filters
                .iter()
                .map(|(a, v)| index_prefix(*a, v))
                .collect()
        };
        let mut events = Vec::with_capacity(limit.min(1024));
        let mut next = None;
        while let Some(found) = self.leapfrog(&streams, &low, &high)? {
            if events.len() == limit {
                next = Some(EventPageToken(high));
                break;
            }
            let key = with_prefix(&[EVENT], &found);
            match self.events.get(&key)? {
                Some(v) => events.push(decode_event(&v)?),
                None => return Err(corrupt("API event index", "entry without its event")),
            }
            high = found;
        }
        Ok(EventPage { events, next })
    }

    /// The newest suffix below `high` (and at least `low`) present in every stream.
    fn leapfrog(
        &self,
        streams: &[Vec<u8>],
        low: &[u8],
        high: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let Some(first) = streams.first() else {
            return Ok(None);
        };
        let Some(mut candidate) = seek_back(&self.events, first, low, high, false)? else {
            return Ok(None);
        };
        let mut agreeing = 1;
        let mut i = 1;
        while agreeing < streams.len() {
            let stream = &streams[i % streams.len()];
            match seek_back(&self.events, stream, low, &candidate, true)? {
                None => return Ok(None),
                Some(found) if found == candidate => agreeing += 1,
                Some(found) => {
                    candidate = found;
                    agreeing = 1;
                }
            }
            i += 1;
        }
        Ok(Some(candidate))
    }

    /// Successful writes on a resource named by any of `identifiers`, in time order, with
    /// event times in `[since, until]`.
    pub fn calls_on_resource(
        &self,
        resource_type: &str,
        identifiers: &[&str],
        account_id: &str,
        region: &str,
        since_ms: Option<i64>,
        until_ms: Option<i64>,
    ) -> Result<Vec<ResourceCall>, StoreError> {
        let mut found: Vec<(Vec<u8>, ResourceCall)> = Vec::new();
        let mut seen = HashSet::new();
        let low = since_ms.map_or_else(Vec::new, |t| keys::time(t).to_vec());
        let high = until_ms.map_or_else(
            || vec![0xff; 9],
            |t| keys::time(t.saturating_add(1)).to_vec(),
        );
        for identifier in identifiers {
            if identifier.is_empty() {
                continue;
            }
            let prefix = link_prefix(resource_type, identifier, account_id, region);
            let range = self
                .events
                .range::<Vec<u8>, _>(with_prefix(&prefix, &low)..with_prefix(&prefix, &high));
            for entry in range {
                let (k, _) = entry?;
                let Some(suffix) = k.get(prefix.len()..) else {
                    continue;
                };
                if !seen.insert(suffix.to_vec()) {
                    continue;
                }
                let Some(value) = self.events.get(with_prefix(&[EVENT], suffix))? else {
                    return Err(corrupt("API event link", "entry without its event"));
                };
                let stored = decode_event(&value)?;
                let effect = stored
                    .touched
                    .iter()
                    .find(|t| {
                        t.resource_type == resource_type
                            && identifiers.contains(&t.identifier.as_str())
                            && t.account_id == account_id
                            && t.region == region
                    })
                    .map_or(Effect::Unknown, |t| t.effect.clone());
                found.push((
                    suffix.to_vec(),
                    ResourceCall {
                        event: stored.event,
                        effect,
                    },
                ));
            }
        }
        found.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(found.into_iter().map(|(_, call)| call).collect())
    }

    /// Deletes events older than `before` with their index entries; returns how many.
    pub fn purge_events_before(&self, before: Timestamp) -> Result<usize, StoreError> {
        let _writer = self
            .event_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let end = with_prefix(&[EVENT], &keys::time(before.timestamp_millis()));
        let mut purged = 0;
        loop {
            // Batches bound the memory a large purge needs.
            let mut batch = sled::Batch::default();
            let mut in_batch = 0;
            for entry in self.events.range::<Vec<u8>, _>(vec![EVENT]..end.clone()) {
                let (k, v) = entry?;
                let stored = decode_event(&v)?;
                let suffix = &k[1..];
                for key in secondary_keys(&stored, suffix) {
                    batch.remove(key);
                }
                batch.remove(k);
                in_batch += 1;
                if in_batch == 1000 {
                    break;
                }
            }
            if in_batch == 0 {
                return Ok(purged);
            }
            self.events.apply_batch(batch)?;
            purged += in_batch;
        }
    }
}

#[cfg(test)]
mod tests;
