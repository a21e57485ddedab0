//! The configuration family: versions in time order, a version-number index, latest state.

use super::keys::{self, LATEST, VERSION, VERSION_NUMBER};
use super::kv::{Batch as _, Tree as _};
use super::{corrupt, EngineBatch, Store, StoreError};
use crate::model::{hash_hex, now_millis, ConfigurationItem, ResourceKey, Timestamp, VersionMeta};
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use std::ops::Bound;

/// Format byte in front of every stored value of this family.
const FORMAT_V1: u8 = 1;
/// Latest states with [`LatestDetails`] (versions are still format 1).
const FORMAT_V2: u8 = 2;
const HASH_LEN: usize = 32;

/// Where one version sits: its number, capture time and content hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionHead {
    /// Version number (order of arrival, from 1).
    pub version: u64,
    /// Capture time in epoch milliseconds.
    pub time_ms: i64,
    /// SHA-256 of the version's canonical content.
    pub content_hash: [u8; HASH_LEN],
}

/// What the store keeps per resource to answer "latest" without a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestState {
    /// The version latest in capture time.
    pub latest: VersionHead,
    /// Its status (`OK`, `ResourceDeleted`, …).
    pub status: String,
    /// Its resource name.
    pub resource_name: Option<String>,
    /// How many versions are stored.
    pub version_count: u64,
    /// The number the next version will get.
    pub next_version: u64,
    /// Capture time of the earliest version, epoch milliseconds.
    pub first_time_ms: i64,
    /// The latest version's ARN and tags, so listings filter on them without reading the
    /// version (none in states written before they were kept).
    pub details: Option<LatestDetails>,
}

/// What listings filter on besides the id and name.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LatestDetails {
    /// The ARN.
    pub arn: Option<String>,
    /// The tags.
    pub tags: std::collections::BTreeMap<String, String>,
}

impl LatestDetails {
    /// The details of an item.
    pub fn of(item: &ConfigurationItem) -> LatestDetails {
        LatestDetails {
            arn: item.arn.clone(),
            tags: item.tags.clone(),
        }
    }
}

/// A latest state as format 1 wrote it (before the details).
#[derive(Deserialize)]
struct LatestStateV1 {
    latest: VersionHead,
    status: String,
    resource_name: Option<String>,
    version_count: u64,
    next_version: u64,
    first_time_ms: i64,
}

/// A resource and its latest state, as listed by [`Store::resources`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSummary {
    /// The resource.
    pub key: ResourceKey,
    /// Its latest state.
    pub state: LatestState,
}

/// Order of a history listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum HistoryOrder {
    /// Oldest first.
    Forward,
    /// Newest first (AWS's default).
    #[default]
    Reverse,
}

/// Position after which the next page starts (opaque to users).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageToken {
    time_ms: i64,
    version: u64,
}

impl PageToken {
    /// The position of a version (pages continue after it).
    pub fn at(time_ms: i64, version: u64) -> PageToken {
        PageToken { time_ms, version }
    }

    /// The version it points at.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// The textual form handed to users.
    pub fn encode(&self) -> String {
        format!("{:016x}{:016x}", self.time_ms as u64, self.version)
    }

    /// Parses a token produced by [`PageToken::encode`].
    pub fn decode(text: &str) -> Result<PageToken, String> {
        let bad = || {
            format!("invalid page token {text:?}: pass the nextToken of a previous page unchanged")
        };
        if text.len() != 32 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let time = u64::from_str_radix(&text[..16], 16).map_err(|_| bad())?;
        let version = u64::from_str_radix(&text[16..], 16).map_err(|_| bad())?;
        if version == 0 {
            return Err(bad());
        }
        Ok(PageToken {
            time_ms: time as i64,
            version,
        })
    }
}

/// A history request, as AWS's GetResourceConfigHistory takes it.
#[derive(Debug, Clone, Default)]
pub struct HistoryQuery {
    /// Earliest capture time included.
    pub since: Option<Timestamp>,
    /// Latest capture time included.
    pub until: Option<Timestamp>,
    /// Order of the listing.
    pub order: HistoryOrder,
    /// Page size.
    pub limit: usize,
    /// Continue after this position.
    pub after: Option<PageToken>,
}

/// One page of history.
#[derive(Debug, Clone)]
pub struct HistoryPage {
    /// The versions, each with its `conftrail` metadata.
    pub items: Vec<ConfigurationItem>,
    /// Token for the next page, when there is one.
    pub next: Option<PageToken>,
}

fn encode_latest(state: &LatestState) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![FORMAT_V2];
    let body = postcard::to_allocvec(state).map_err(|e| StoreError::Encode {
        what: "latest state",
        detail: e.to_string(),
    })?;
    out.extend_from_slice(&body);
    Ok(out)
}

fn decode_latest(bytes: &[u8]) -> Result<LatestState, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_V2, body)) => {
            postcard::from_bytes(body).map_err(|e| corrupt("latest state", e.to_string()))
        }
        Some((&FORMAT_V1, body)) => {
            let old: LatestStateV1 =
                postcard::from_bytes(body).map_err(|e| corrupt("latest state", e.to_string()))?;
            Ok(LatestState {
                latest: old.latest,
                status: old.status,
                resource_name: old.resource_name,
                version_count: old.version_count,
                next_version: old.next_version,
                first_time_ms: old.first_time_ms,
                details: None,
            })
        }
        Some((other, _)) => Err(corrupt(
            "latest state",
            format!("unknown format byte {other}"),
        )),
        None => Err(corrupt("latest state", "empty value")),
    }
}

/// An item encoded for storage (canonical JSON, LZ4-compressed) with its content hash.
///
/// Independent of the version number and arrival time, which live in the key and the value
/// header, so it can be prepared on another thread before the recorder decides anything.
#[derive(Debug, Clone)]
pub struct EncodedItem {
    content_hash: [u8; HASH_LEN],
    compressed: Vec<u8>,
}

impl EncodedItem {
    /// Encodes `item` (its `conftrail` metadata is not stored) with its content hash.
    pub fn new(item: &ConfigurationItem, content_hash: [u8; HASH_LEN]) -> Result<Self, StoreError> {
        let json = if item.meta.is_some() {
            let mut plain = item.clone();
            plain.meta = None;
            serde_json::to_vec(&plain)
        } else {
            serde_json::to_vec(item)
        }
        .map_err(|e| StoreError::Encode {
            what: "configuration item",
            detail: e.to_string(),
        })?;
        // JSON repeats its keys; LZ4 shrinks an item about 3x for a few microseconds.
        Ok(EncodedItem {
            content_hash,
            compressed: lz4_flex::compress_prepend_size(&json),
        })
    }

    /// The content hash.
    pub fn content_hash(&self) -> [u8; HASH_LEN] {
        self.content_hash
    }
}

/// The parts of a stored version value: `format, hash[32], recorded_at_ms[8], lz4(json)`.
struct VersionValue<'a> {
    content_hash: [u8; HASH_LEN],
    recorded_at_ms: i64,
    compressed: &'a [u8],
}

const VALUE_HEADER_LEN: usize = 1 + HASH_LEN + 8;

fn encode_version_value(item: &EncodedItem, recorded_at_ms: i64) -> Vec<u8> {
    let mut value = Vec::with_capacity(VALUE_HEADER_LEN + item.compressed.len());
    value.push(FORMAT_V1);
    value.extend_from_slice(&item.content_hash);
    value.extend_from_slice(&recorded_at_ms.to_be_bytes());
    value.extend_from_slice(&item.compressed);
    value
}

fn split_version_value(bytes: &[u8]) -> Result<VersionValue<'_>, StoreError> {
    match bytes.first() {
        Some(&FORMAT_V1) if bytes.len() >= VALUE_HEADER_LEN => {
            let mut content_hash = [0; HASH_LEN];
            content_hash.copy_from_slice(&bytes[1..1 + HASH_LEN]);
            let mut recorded = [0; 8];
            recorded.copy_from_slice(&bytes[1 + HASH_LEN..VALUE_HEADER_LEN]);
            Ok(VersionValue {
                content_hash,
                recorded_at_ms: i64::from_be_bytes(recorded),
                compressed: &bytes[VALUE_HEADER_LEN..],
            })
        }
        Some(&FORMAT_V1) => Err(corrupt("configuration version", "truncated value")),
        Some(other) => Err(corrupt(
            "configuration version",
            format!("unknown format byte {other}"),
        )),
        None => Err(corrupt("configuration version", "empty value")),
    }
}

/// A stored version as an item with its `conftrail` metadata (number from the key).
fn decode_item(
    prefix_len: usize,
    key: &[u8],
    value: &[u8],
) -> Result<ConfigurationItem, StoreError> {
    let head = head_from_entry(prefix_len, key, value)?;
    let parts = split_version_value(value)?;
    let json = lz4_flex::decompress_size_prepended(parts.compressed)
        .map_err(|e| corrupt("configuration version", e.to_string()))?;
    let mut item: ConfigurationItem = serde_json::from_slice(&json)
        .map_err(|e| corrupt("configuration version", e.to_string()))?;
    item.meta = Some(VersionMeta {
        version: head.version,
        content_hash: hash_hex(&head.content_hash),
        recorded_at: DateTime::from_timestamp_millis(parts.recorded_at_ms)
            .ok_or_else(|| corrupt("configuration version", "bad recorded time"))?,
    });
    Ok(item)
}

fn head_from_entry(prefix_len: usize, key: &[u8], value: &[u8]) -> Result<VersionHead, StoreError> {
    let (time_ms, version) = key
        .get(prefix_len..)
        .and_then(keys::decode_version_suffix)
        .ok_or_else(|| corrupt("configuration version key", "bad suffix"))?;
    Ok(VersionHead {
        version,
        time_ms,
        content_hash: split_version_value(value)?.content_hash,
    })
}

/// Version writes collected for one atomic batch (writes cost the engine far less in batches).
#[derive(Default)]
pub(crate) struct PendingWrites {
    batch: EngineBatch,
    versions: usize,
}

impl PendingWrites {
    /// No writes yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many versions are pending.
    pub fn len(&self) -> usize {
        self.versions
    }

    /// Whether nothing is pending.
    pub fn is_empty(&self) -> bool {
        self.versions == 0
    }

    /// Adds a version, its number-index entry and the resource's new latest state.
    pub fn put_version(
        &mut self,
        key: &ResourceKey,
        head: &VersionHead,
        item: &EncodedItem,
        state: &LatestState,
    ) -> Result<(), StoreError> {
        let version_key = keys::version(
            &keys::family_resource(VERSION, key),
            head.time_ms,
            head.version,
        );
        let number_key =
            keys::version_number(&keys::family_resource(VERSION_NUMBER, key), head.version);
        let value = encode_version_value(item, now_millis().timestamp_millis());
        self.batch.insert(version_key, value);
        let mut index_value = vec![FORMAT_V1];
        index_value.extend_from_slice(&keys::time(head.time_ms));
        self.batch.insert(number_key, index_value);
        self.batch
            .insert(keys::family_resource(LATEST, key), encode_latest(state)?);
        self.versions += 1;
        Ok(())
    }

    /// Moves a version to an earlier capture time (an earlier sighting of the same content),
    /// replacing its stored item; its index entry and the latest state follow.
    pub fn move_version(
        &mut self,
        key: &ResourceKey,
        old: &VersionHead,
        new_time_ms: i64,
        item: &EncodedItem,
        state: &LatestState,
    ) -> Result<(), StoreError> {
        let moved = VersionHead {
            time_ms: new_time_ms,
            ..*old
        };
        self.put_version(key, &moved, item, state)?;
        let prefix = keys::family_resource(VERSION, key);
        self.batch
            .remove(keys::version(&prefix, old.time_ms, old.version));
        Ok(())
    }
}

impl Store {
    /// Latest state of a resource, if it was ever recorded.
    pub fn latest_state(&self, key: &ResourceKey) -> Result<Option<LatestState>, StoreError> {
        self.config
            .get(keys::family_resource(LATEST, key))?
            .map(|v| decode_latest(&v))
            .transpose()
    }

    /// The version at or before `time_ms` (latest such) and the first version after it.
    pub fn neighbours(
        &self,
        key: &ResourceKey,
        time_ms: i64,
    ) -> Result<(Option<VersionHead>, Option<VersionHead>), StoreError> {
        let prefix = keys::family_resource(VERSION, key);
        let split = keys::version(&prefix, time_ms, u64::MAX);
        let before = self
            .config
            .range(prefix.clone()..=split.clone())
            .next_back()
            .transpose()?
            .map(|(k, v)| head_from_entry(prefix.len(), &k, &v))
            .transpose()?;
        let after = match keys::prefix_end(&prefix) {
            Some(end) => self
                .config
                .range((Bound::Excluded(split), Bound::Excluded(end)))
                .next()
                .transpose()?
                .map(|(k, v)| head_from_entry(prefix.len(), &k, &v))
                .transpose()?,
            None => None,
        };
        Ok((before, after))
    }

    /// Every version captured exactly at `time_ms` (several differ only in content).
    pub fn heads_at(
        &self,
        key: &ResourceKey,
        time_ms: i64,
    ) -> Result<Vec<VersionHead>, StoreError> {
        let prefix = keys::family_resource(VERSION, key);
        let from = keys::version(&prefix, time_ms, 0);
        let to = keys::version(&prefix, time_ms, u64::MAX);
        self.config
            .range(from..=to)
            .map(|entry| {
                let (k, v) = entry?;
                head_from_entry(prefix.len(), &k, &v)
            })
            .collect()
    }

    /// Applies pending writes as one atomic batch and empties them.
    pub(crate) fn apply(&self, writes: &mut PendingWrites) -> Result<(), StoreError> {
        let batch = std::mem::take(&mut writes.batch);
        writes.versions = 0;
        self.config.apply_batch(batch)?;
        Ok(())
    }

    /// Every recorded resource (of one type, when given) with its latest state, in key order.
    pub fn resources(
        &self,
        resource_type: Option<&str>,
    ) -> impl Iterator<Item = Result<ResourceSummary, StoreError>> + '_ {
        self.resources_after(resource_type, None)
    }

    /// [`Store::resources`] from just after `after` (a page's last resource).
    pub fn resources_after(
        &self,
        resource_type: Option<&str>,
        after: Option<&ResourceKey>,
    ) -> impl Iterator<Item = Result<ResourceSummary, StoreError>> + '_ {
        let prefix = keys::family_type_prefix(LATEST, resource_type);
        let from = match after {
            Some(key) => Bound::Excluded(keys::family_resource(LATEST, key)),
            None => Bound::Included(prefix.clone()),
        };
        let to = keys::prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        let within = move |k: &[u8]| k.starts_with(&prefix);
        self.config
            .range((from, to))
            .filter(move |entry| entry.as_ref().map_or(true, |(k, _)| within(k)))
            .map(|entry| {
                let (k, v) = entry?;
                let (key, _) = keys::decode_resource(&k[1..])
                    .ok_or_else(|| corrupt("latest state key", "undecodable resource"))?;
                Ok(ResourceSummary {
                    key,
                    state: decode_latest(&v)?,
                })
            })
    }

    /// How many resources are recorded (keys counted, values not decoded).
    pub fn resource_count(&self) -> Result<usize, StoreError> {
        let mut count = 0;
        for entry in self.config.scan_prefix([LATEST]) {
            entry?;
            count += 1;
        }
        Ok(count)
    }

    /// The resource types recorded, sorted: one seek per type, not one read per resource.
    pub fn recorded_types(&self) -> Result<Vec<String>, StoreError> {
        let family = [LATEST];
        let mut types = Vec::new();
        let mut from = family.to_vec();
        loop {
            let Some(entry) = self.config.range(from.as_slice()..).next() else {
                break;
            };
            let (k, _) = entry?;
            if !k.starts_with(&family) {
                break;
            }
            let (key, _) = keys::decode_resource(&k[1..])
                .ok_or_else(|| corrupt("latest state key", "undecodable resource"))?;
            let prefix = keys::family_type_prefix(LATEST, Some(&key.resource_type));
            types.push(key.resource_type);
            match keys::prefix_end(&prefix) {
                Some(end) => from = end,
                None => break,
            }
        }
        Ok(types)
    }

    /// Every account/region copy of a resource type and id.
    pub fn find_resources(
        &self,
        resource_type: &str,
        resource_id: &str,
    ) -> Result<Vec<ResourceKey>, StoreError> {
        let prefix = keys::family_type_id_prefix(LATEST, resource_type, resource_id);
        self.config
            .scan_prefix(prefix)
            .map(|entry| {
                let (k, _) = entry?;
                keys::decode_resource(&k[1..])
                    .map(|(key, _)| key)
                    .ok_or_else(|| corrupt("latest state key", "undecodable resource"))
            })
            .collect()
    }

    /// One version by number.
    pub fn version(
        &self,
        key: &ResourceKey,
        version: u64,
    ) -> Result<Option<ConfigurationItem>, StoreError> {
        let number_key = keys::version_number(&keys::family_resource(VERSION_NUMBER, key), version);
        let Some(time) = self.config.get(number_key)? else {
            return Ok(None);
        };
        let time: [u8; 8] = match time.split_first() {
            Some((&FORMAT_V1, rest)) => rest
                .try_into()
                .map_err(|_| corrupt("version number index", "bad time"))?,
            _ => return Err(corrupt("version number index", "unknown format")),
        };
        let prefix = keys::family_resource(VERSION, key);
        let version_key = keys::version(&prefix, keys::decode_time(time), version);
        self.config
            .get(&version_key)?
            .map(|v| decode_item(prefix.len(), &version_key, &v))
            .transpose()
    }

    /// The version in force at a time: the latest captured at or before it.
    pub fn version_at(
        &self,
        key: &ResourceKey,
        at: Timestamp,
    ) -> Result<Option<ConfigurationItem>, StoreError> {
        let prefix = keys::family_resource(VERSION, key);
        let upper = keys::version(&prefix, at.timestamp_millis(), u64::MAX);
        self.config
            .range(prefix.as_slice()..=upper.as_slice())
            .next_back()
            .transpose()?
            .map(|(k, v)| decode_item(prefix.len(), &k, &v))
            .transpose()
    }

    /// The version just before `item` in capture-time order.
    pub fn previous_version(
        &self,
        item: &ConfigurationItem,
    ) -> Result<Option<ConfigurationItem>, StoreError> {
        let Some(version) = item.version_number() else {
            return Ok(None);
        };
        let prefix = keys::family_resource(VERSION, &item.key());
        let this = keys::version(
            &prefix,
            item.configuration_item_capture_time.timestamp_millis(),
            version,
        );
        self.config
            .range(prefix.as_slice()..this.as_slice())
            .next_back()
            .transpose()?
            .map(|(k, v)| decode_item(prefix.len(), &k, &v))
            .transpose()
    }

    /// One page of a resource's history: a single range scan.
    pub fn history(
        &self,
        key: &ResourceKey,
        query: &HistoryQuery,
    ) -> Result<HistoryPage, StoreError> {
        let prefix = keys::family_resource(VERSION, key);
        let mut lower = Bound::Included(match query.since {
            Some(t) => keys::version(&prefix, t.timestamp_millis(), 0),
            None => prefix.clone(),
        });
        let mut upper = match (query.until, keys::prefix_end(&prefix)) {
            (Some(t), _) => Bound::Included(keys::version(&prefix, t.timestamp_millis(), u64::MAX)),
            (None, Some(end)) => Bound::Excluded(end),
            (None, None) => Bound::Unbounded,
        };
        if let Some(token) = query.after {
            let at = keys::version(&prefix, token.time_ms, token.version);
            match query.order {
                HistoryOrder::Forward => lower = max_lower(lower, at),
                HistoryOrder::Reverse => upper = min_upper(upper, at),
            }
        }
        let limit = query.limit.max(1);
        let mut range = self.config.range::<Vec<u8>, _>((lower, upper));
        let entries = std::iter::from_fn(|| match query.order {
            HistoryOrder::Forward => range.next(),
            HistoryOrder::Reverse => range.next_back(),
        });
        let mut items = Vec::with_capacity(limit.min(1024));
        let mut next = None;
        let mut last_position = None;
        for entry in entries {
            let (k, v) = entry?;
            if items.len() == limit {
                // There is more: the token points at the last item returned.
                next = last_position;
                break;
            }
            let item = decode_item(prefix.len(), &k, &v)?;
            last_position = item.version_number().map(|version| PageToken {
                time_ms: item.configuration_item_capture_time.timestamp_millis(),
                version,
            });
            items.push(item);
        }
        Ok(HistoryPage { items, next })
    }
}

/// The tighter of an existing lower bound and "strictly after `at`".
fn max_lower(current: Bound<Vec<u8>>, at: Vec<u8>) -> Bound<Vec<u8>> {
    match current {
        Bound::Included(k) if k > at => Bound::Included(k),
        Bound::Excluded(k) if k >= at => Bound::Excluded(k),
        _ => Bound::Excluded(at),
    }
}

/// The tighter of an existing upper bound and "strictly before `at`".
fn min_upper(current: Bound<Vec<u8>>, at: Vec<u8>) -> Bound<Vec<u8>> {
    match current {
        Bound::Included(k) if k < at => Bound::Included(k),
        Bound::Excluded(k) if k <= at => Bound::Excluded(k),
        _ => Bound::Excluded(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn damaged_values_are_errors_not_panics() {
        for bad in [&[][..], &[9, 1, 2][..], &[FORMAT_V1, 1, 2][..]] {
            assert!(
                matches!(split_version_value(bad), Err(StoreError::Corrupt { .. })),
                "{bad:?}"
            );
            assert!(
                matches!(decode_latest(bad), Err(StoreError::Corrupt { .. })),
                "{bad:?}"
            );
        }
        let mut value = vec![FORMAT_V1];
        value.extend_from_slice(&[0; HASH_LEN + 8]);
        value.extend_from_slice(b"not lz4");
        let key = keys::version(b"p", 5, 1);
        let err = decode_item(1, &key, &value).expect_err("garbage body");
        assert!(
            err.to_string()
                .contains("corrupt stored record (configuration version)"),
            "{err}"
        );
    }

    #[test]
    fn encoded_items_round_trip_with_metadata_from_key_and_header() {
        let item: ConfigurationItem = serde_json::from_value(serde_json::json!({
            "configurationItemVersion": "1.3", "awsAccountId": "1", "configurationItemCaptureTime": "2024-01-01T00:00:00.000Z",
            "configurationItemStatus": "OK", "configurationStateId": 5, "configurationStateMd5Hash": null, "ARN": null,
            "resourceType": "T", "resourceId": "x", "resourceName": null, "awsRegion": "r", "availabilityZone": null,
            "resourceCreationTime": null, "tags": {}, "relatedEvents": [], "relationships": [],
            "configuration": {"a": [1, 2]}, "supplementaryConfiguration": {}
        }))
        .expect("item");
        let encoded = EncodedItem::new(&item, [7; HASH_LEN]).expect("encode");
        let value = encode_version_value(&encoded, 1_700_000_000_000);
        let key = keys::version(
            b"p",
            item.configuration_item_capture_time.timestamp_millis(),
            42,
        );
        let back = decode_item(1, &key, &value).expect("decode");
        let meta = back.meta.clone().expect("meta");
        assert_eq!(meta.version, 42);
        assert_eq!(meta.content_hash, "07".repeat(HASH_LEN));
        assert_eq!(meta.recorded_at.timestamp_millis(), 1_700_000_000_000);
        assert_eq!(ConfigurationItem { meta: None, ..back }, item);
    }
}
