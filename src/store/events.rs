//! API events (`events` tree): the records, an id index for de-duplication, lookup indexes and
//! the per-resource index the linker reads.
//!
//! Keys (times big-endian, sign-flipped, so byte order is time order):
//! - `E` time eventID → the event (format byte, postcard, LZ4-compressed record JSON); a
//!   re-delivered event has the same key, so it is recognised with one read;
//! - `X` attribute value \0 hour batch → a segment: the sorted `time eventID` suffixes of the
//!   batch's events with that attribute value in that hour. Grouping entries per batch makes an
//!   event cost about two store writes instead of one per attribute value, which is what
//!   bounds ingest speed (the engine's cost is per write). `i` (a hash of the eventID) is one of
//!   the attributes, for lookups by id;
//! - `L` type \0 identifier \0 account \0 region \0 time eventID → (), for successful writes only.
//!
//! Every index lists suffixes ordered by (time, eventID), the same order as `E`, so several
//! filters are intersected by leapfrogging between them: each step is one seek (an hour's
//! segments are read once), never a scan of entries that cannot match.

use super::kv::{Batch as _, Db as _, Tree as _};
use super::{corrupt, keys, EngineBatch, EngineTree, Store, StoreError};
use crate::model::{ApiEvent, Effect, EventResource, Timestamp, TouchedResource, UserIdentity};
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::ops::Bound;

const EVENT: u8 = b'E';
/// Index attribute tag of the event-id hash groups.
const ID_HASH: u8 = b'i';
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
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventWrites {
    /// Events stored.
    pub stored: usize,
    /// Their positions in the batch given (for telling subscribers about new calls only).
    pub stored_positions: Vec<usize>,
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

/// Events older than a time: how many, and the event times of the oldest and the newest.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventSpan {
    /// How many.
    pub count: usize,
    /// Event time of the oldest.
    pub oldest: Option<Timestamp>,
    /// Event time of the newest.
    pub newest: Option<Timestamp>,
}

impl EventSpan {
    fn add(&mut self, time: Timestamp) {
        self.count += 1;
        self.oldest = Some(self.oldest.map_or(time, |t| t.min(time)));
        self.newest = Some(self.newest.map_or(time, |t| t.max(time)));
    }
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
fn index_prefix(attribute: u8, value: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 3);
    out.push(INDEX);
    out.push(attribute);
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

/// Index entries are grouped per hour: a segment key is `prefix bucket seq`.
const BUCKET_MS: i64 = 3_600_000;

/// The hour an event time falls in, encoded to sort like times.
fn bucket(time_ms: i64) -> [u8; 8] {
    keys::time(time_ms.div_euclid(BUCKET_MS).saturating_mul(BUCKET_MS))
}

/// The event time at the start of a suffix (`time eventID`).
fn suffix_time(suffix: &[u8]) -> i64 {
    let mut time = [0u8; 8];
    let n = suffix.len().min(8);
    time[..n].copy_from_slice(&suffix[..n]);
    if n < 8 {
        // A short bound such as [0xff; 9] cut to 8 bytes; missing bytes sort lowest.
        time[n..].fill(0);
    }
    keys::decode_time(time)
}

/// The event-id index groups ids by a hash: one entry list per hash value and batch, instead
/// of one store write per event.
fn id_hash(event_id: &str) -> String {
    let mut h: u32 = 0x811c_9dc5;
    for b in event_id.bytes() {
        h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
    }
    format!("{:03x}", h & 0x3ff)
}

/// Every index group (`X attribute value \0 bucket`) an event is listed under.
fn posting_groups(stored: &StoredEvent, time_ms: i64) -> Vec<Vec<u8>> {
    let hour = bucket(time_ms);
    let mut out: Vec<Vec<u8>> = stored
        .index_values()
        .into_iter()
        .map(|(attribute, value)| index_prefix(attribute.tag(), value))
        .collect();
    out.push(index_prefix(ID_HASH, &id_hash(&stored.event.event_id)));
    for group in &mut out {
        group.extend_from_slice(&hour);
    }
    out
}

/// The per-resource link keys of an event (successful writes only).
fn link_keys(stored: &StoredEvent, suffix: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
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

/// A segment value: sorted suffixes, each preceded by its length (u16, big-endian).
fn encode_segment(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 + entries.iter().map(|e| e.len() + 2).sum::<usize>());
    out.push(FORMAT_V1);
    for entry in entries {
        let len = u16::try_from(entry.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&entry[..usize::from(len)]);
    }
    out
}

fn decode_segment(bytes: &[u8], out: &mut Vec<Vec<u8>>) -> Result<(), StoreError> {
    let bad = || corrupt("API event index segment", "truncated entry");
    let mut rest = match bytes.split_first() {
        Some((&FORMAT_V1, rest)) => rest,
        _ => return Err(corrupt("API event index segment", "unknown format")),
    };
    while !rest.is_empty() {
        let len = rest.get(..2).ok_or_else(bad)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        out.push(rest.get(2..2 + len).ok_or_else(bad)?.to_vec());
        rest = &rest[2 + len..];
    }
    Ok(())
}

/// The largest key in `[prefix + low, prefix + high)` (or `..= high` when `inclusive`), as a suffix.
fn seek_back(
    tree: &EngineTree,
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

/// One side of an intersection: every event (the `E` records) or one attribute value's index.
enum Stream {
    /// Every stored event.
    All,
    /// The entries of one `X attribute value` index; one hour's segments are held at a time.
    Index {
        prefix: Vec<u8>,
        hour: Option<[u8; 8]>,
        entries: Vec<Vec<u8>>,
    },
}

impl Stream {
    fn index(prefix: Vec<u8>) -> Stream {
        Stream::Index {
            prefix,
            hour: None,
            entries: Vec::new(),
        }
    }

    /// The largest suffix at least `low` and below `high` (at most, when `inclusive`).
    fn seek(
        &mut self,
        tree: &EngineTree,
        low: &[u8],
        high: &[u8],
        inclusive: bool,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let (prefix, hour, entries) = match self {
            Stream::All => return seek_back(tree, &[EVENT], low, high, inclusive),
            Stream::Index {
                prefix,
                hour,
                entries,
            } => (prefix, hour, entries),
        };
        let low_hour = bucket(suffix_time(low));
        let mut target = bucket(suffix_time(high));
        loop {
            // The newest hour at or before `target` that has entries.
            let mut upper = with_prefix(prefix, &target);
            upper.extend_from_slice(&[0xff; 9]);
            let Some(entry) = tree.range::<Vec<u8>, _>(prefix.clone()..=upper).next_back() else {
                return Ok(None);
            };
            let (key, _) = entry?;
            let found: [u8; 8] = key
                .get(prefix.len()..prefix.len() + 8)
                .and_then(|b| b.try_into().ok())
                .ok_or_else(|| corrupt("API event index", "bad segment key"))?;
            if found < low_hour && !low.is_empty() {
                return Ok(None);
            }
            if *hour != Some(found) {
                entries.clear();
                for segment in tree.scan_prefix(with_prefix(prefix, &found)) {
                    decode_segment(&segment?.1, entries)?;
                }
                entries.sort_unstable();
                entries.dedup();
                *hour = Some(found);
            }
            let end = if inclusive {
                entries.partition_point(|e| e.as_slice() <= high)
            } else {
                entries.partition_point(|e| e.as_slice() < high)
            };
            if let Some(best) = end.checked_sub(1).map(|i| &entries[i]) {
                return Ok((best.as_slice() >= low).then(|| best.clone()));
            }
            // Nothing this hour below the bound: go to the hour before.
            let start = keys::decode_time(found);
            if start == i64::MIN {
                return Ok(None);
            }
            target = bucket(start - 1);
        }
    }
}

impl Store {
    /// Stores events in one atomic batch, skipping those already stored (same eventID and time).
    ///
    /// Each event is one record; its index entries are grouped per (attribute value, hour) into
    /// one segment per batch, so a batch costs far fewer store writes than it has entries.
    pub fn put_events(&self, events: &[StoredEvent]) -> Result<EventWrites, StoreError> {
        let _writer = self
            .event_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut writes = EventWrites::default();
        let mut batch = EngineBatch::default();
        let mut in_batch = HashSet::new();
        let mut groups: std::collections::HashMap<Vec<u8>, Vec<Vec<u8>>> =
            std::collections::HashMap::new();
        for (position, stored) in events.iter().enumerate() {
            let id = &stored.event.event_id;
            let time_ms = stored.event.event_time.timestamp_millis();
            let suffix = suffix(time_ms, id);
            let key = with_prefix(&[EVENT], &suffix);
            if !in_batch.insert(suffix.clone()) || self.events.contains_key(&key)? {
                writes.duplicates += 1;
                continue;
            }
            batch.insert(key, encode_event(stored)?);
            for group in posting_groups(stored, time_ms) {
                groups.entry(group).or_default().push(suffix.clone());
            }
            for key in link_keys(stored, &suffix) {
                batch.insert(key, []);
            }
            writes.stored += 1;
            writes.stored_positions.push(position);
        }
        if !groups.is_empty() {
            let seq = self.db.generate_id()?.to_be_bytes();
            for (group, mut entries) in groups {
                entries.sort_unstable();
                batch.insert(with_prefix(&group, &seq), encode_segment(&entries));
            }
        }
        self.events.apply_batch(batch)?;
        Ok(writes)
    }

    /// One event by its eventID.
    pub fn event(&self, event_id: &str) -> Result<Option<StoredEvent>, StoreError> {
        let mut entries = Vec::new();
        for segment in self
            .events
            .scan_prefix(index_prefix(ID_HASH, &id_hash(event_id)))
        {
            decode_segment(&segment?.1, &mut entries)?;
        }
        for suffix in entries {
            if suffix.get(8..) == Some(event_id.as_bytes()) {
                if let Some(value) = self.events.get(with_prefix(&[EVENT], &suffix))? {
                    return decode_event(&value).map(Some);
                }
            }
        }
        Ok(None)
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
        let mut streams: Vec<Stream> = if query.filters.is_empty() {
            vec![Stream::All]
        } else {
            query
                .filters
                .iter()
                .map(|(a, v)| Stream::index(index_prefix(a.tag(), v)))
                .collect()
        };
        let mut events = Vec::with_capacity(limit.min(1024));
        let mut next = None;
        while let Some(found) = self.leapfrog(&mut streams, &low, &high)? {
            if events.len() == limit {
                next = Some(EventPageToken(high));
                break;
            }
            // An index entry of a purged event (its hour was only partly purged) is passed over.
            if let Some(v) = self.events.get(with_prefix(&[EVENT], &found))? {
                events.push(decode_event(&v)?);
            }
            high = found;
        }
        Ok(EventPage { events, next })
    }

    /// The newest suffix below `high` (and at least `low`) present in every stream.
    fn leapfrog(
        &self,
        streams: &mut [Stream],
        low: &[u8],
        high: &[u8],
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let count = streams.len();
        let Some(first) = streams.first_mut() else {
            return Ok(None);
        };
        let Some(mut candidate) = first.seek(&self.events, low, high, false)? else {
            return Ok(None);
        };
        let mut agreeing = 1;
        let mut i = 1;
        while agreeing < count {
            match streams[i % count].seek(&self.events, low, &candidate, true)? {
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

    /// The events older than `before` (what [`Store::purge_events_before`] would delete).
    pub fn events_before(&self, before: Timestamp) -> Result<EventSpan, StoreError> {
        let end = with_prefix(&[EVENT], &keys::time(before.timestamp_millis()));
        let mut span = EventSpan::default();
        for entry in self.events.range::<Vec<u8>, _>(vec![EVENT]..end) {
            span.add(decode_event(&entry?.1)?.event.event_time);
        }
        Ok(span)
    }

    /// Deletes events older than `before` with their index entries; returns what went.
    pub fn purge_events_before(&self, before: Timestamp) -> Result<EventSpan, StoreError> {
        let _writer = self
            .event_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let cutoff = before.timestamp_millis();
        let end = with_prefix(&[EVENT], &keys::time(cutoff));
        let mut purged = EventSpan::default();
        let mut groups = HashSet::new();
        loop {
            // Batches bound the memory a large purge needs.
            let mut batch = EngineBatch::default();
            let mut in_batch = 0;
            for entry in self.events.range::<Vec<u8>, _>(vec![EVENT]..end.clone()) {
                let (k, v) = entry?;
                let stored = decode_event(&v)?;
                purged.add(stored.event.event_time);
                let suffix = &k[1..];
                groups.extend(posting_groups(&stored, suffix_time(suffix)));
                for key in link_keys(&stored, suffix) {
                    batch.remove(key);
                }
                batch.remove(k);
                in_batch += 1;
                if in_batch == 1000 {
                    break;
                }
            }
            if in_batch == 0 {
                break;
            }
            self.events.apply_batch(batch)?;
        }
        // Index segments of the purged hours: dropped, or rewritten without the purged entries.
        let mut batch = EngineBatch::default();
        for group in groups {
            for segment in self.events.scan_prefix(&group) {
                let (key, value) = segment?;
                let mut entries = Vec::new();
                decode_segment(&value, &mut entries)?;
                entries.retain(|e| suffix_time(e) >= cutoff);
                if entries.is_empty() {
                    batch.remove(key);
                } else {
                    batch.insert(key, encode_segment(&entries));
                }
            }
        }
        self.events.apply_batch(batch)?;
        Ok(purged)
    }
}

#[cfg(test)]
mod tests;
