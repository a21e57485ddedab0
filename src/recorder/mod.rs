//! Turns observed configurations into versions: a new version only when something changed.
//!
//! An item is compared with the version just before it in capture time (and, when it arrives
//! late, the one just after it). Equal content there means nothing new happened: the item is
//! counted, not stored. So history never holds two neighbouring versions with the same content,
//! re-delivery is a no-op, and a late item takes its place in time without becoming "latest".

pub mod canonical;

use crate::model::{ConfigurationItem, VersionMeta};
use crate::store::{LatestState, Store, StoreError, VersionHead};

/// What recording one item did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    /// A new version was stored.
    NewVersion {
        /// Its number.
        version: u64,
        /// Whether it is now the latest version (false for late, out-of-order items).
        latest: bool,
        /// Whether it records a deletion.
        deletion: bool,
    },
    /// The content equals a neighbouring version: nothing stored.
    Unchanged {
        /// The version it equals.
        same_as: u64,
    },
}

/// Records configuration items into a [`Store`].
pub struct Recorder<'s> {
    store: &'s Store,
}

impl<'s> Recorder<'s> {
    /// A recorder writing into `store`.
    pub fn new(store: &'s Store) -> Self {
        Recorder { store }
    }

    /// Records one item: stores a new version if its content is new at its place in time.
    ///
    /// Writes are batched atomically per item but not flushed; call [`Store::flush`] before
    /// acknowledging.
    pub fn record(&self, mut item: ConfigurationItem) -> Result<Recorded, StoreError> {
        let key = item.key();
        let hash = canonical::content_hash(&item);
        let time_ms = item.configuration_item_capture_time.timestamp_millis();
        let _guard = self.store.lock_config_writes();
        let latest = self.store.latest_state(&key)?;

        // Common case first: newer than everything stored, compared with the latest only.
        let (before, after) = match &latest {
            None => (None, None),
            Some(state) if state.latest.time_ms < time_ms => (Some(state.latest), None),
            Some(_) => self.store.neighbours(&key, time_ms)?,
        };
        for neighbour in [before, after].into_iter().flatten() {
            if neighbour.content_hash == hash {
                return Ok(Recorded::Unchanged {
                    same_as: neighbour.version,
                });
            }
        }

        let version = latest.as_ref().map_or(1, |s| s.next_version);
        let head = VersionHead {
            version,
            time_ms,
            content_hash: hash,
        };
        let becomes_latest = after.is_none();
        let deletion = item.configuration_item_status.is_deletion();
        let state = match latest {
            Some(old) if !becomes_latest => LatestState {
                version_count: old.version_count + 1,
                next_version: old.next_version + 1,
                first_time_ms: old.first_time_ms.min(time_ms),
                ..old
            },
            old => LatestState {
                latest: head,
                status: item.configuration_item_status.as_str().to_string(),
                resource_name: item.resource_name.clone(),
                version_count: old.as_ref().map_or(0, |s| s.version_count) + 1,
                next_version: version + 1,
                first_time_ms: old.map_or(time_ms, |s| s.first_time_ms.min(time_ms)),
            },
        };
        item.meta = Some(VersionMeta {
            version,
            content_hash: canonical::hex(&hash),
            recorded_at: crate::model::now_millis(),
        });
        let json = serde_json::to_vec(&item).map_err(|e| StoreError::Encode {
            what: "configuration item",
            detail: e.to_string(),
        })?;
        self.store.write_version(&key, &head, &json, &state)?;
        Ok(Recorded::NewVersion {
            version,
            latest: becomes_latest,
            deletion,
        })
    }
}
