//! Turns observed configurations into versions: a new version only when something changed.
//!
//! An item is compared with the version just before it in capture time (and, when it arrives
//! late, the one just after it). Equal content there means nothing new happened: the item is
//! counted, not stored. So history never holds two neighbouring versions with the same content,
//! re-delivery is a no-op, and a late item takes its place in time without becoming "latest".
//! A late item equal to the version after it is an earlier sighting of that version: the
//! version moves back to the earlier capture time (keeping its number).

pub mod canonical;

use crate::model::{ConfigurationItem, ResourceKey};
use crate::store::{EncodedItem, LatestState, PendingWrites, Store, StoreError, VersionHead};
use std::collections::HashMap;
use std::sync::MutexGuard;

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
    /// The content equals the next version, seen earlier: that version now starts here.
    Backdated {
        /// The version moved to the earlier capture time.
        version: u64,
    },
}

/// An item with its content hash, which needs no store, so the parsing thread computes it.
pub struct PreparedItem {
    item: ConfigurationItem,
    content_hash: [u8; 32],
}

/// Hashes an item for [`Recorder::record`].
pub fn prepare(item: ConfigurationItem) -> PreparedItem {
    let content_hash = canonical::content_hash(&item);
    PreparedItem { item, content_hash }
}

impl PreparedItem {
    /// The item.
    pub fn item(&self) -> &ConfigurationItem {
        &self.item
    }
}

/// Versions written per atomic batch; sled's cost per write falls steeply with batch size.
const BATCH_VERSIONS: usize = 128;

/// Records configuration items into a [`Store`], batching writes.
///
/// Holds the store's writer lock while it lives. Call [`Recorder::finish`] to write what is
/// still pending; then [`Store::flush`] before acknowledging.
pub struct Recorder<'s> {
    store: &'s Store,
    _writer: MutexGuard<'s, ()>,
    pending: PendingWrites,
    /// Latest state of every resource with a pending write, as it will be once applied.
    pending_states: HashMap<ResourceKey, LatestState>,
}

impl<'s> Recorder<'s> {
    /// A recorder writing into `store` (waits while another recorder is writing).
    pub fn new(store: &'s Store) -> Self {
        Recorder {
            store,
            _writer: store.lock_config_writes(),
            pending: PendingWrites::new(),
            pending_states: HashMap::new(),
        }
    }

    /// Records one item: a new version if its content is new at its place in time.
    pub fn record(&mut self, prepared: PreparedItem) -> Result<Recorded, StoreError> {
        let PreparedItem {
            item,
            content_hash: hash,
        } = prepared;
        let key = item.key();
        let time_ms = item.configuration_item_capture_time.timestamp_millis();
        let latest = match self.pending_states.get(&key) {
            Some(state) => Some(state.clone()),
            None => self.store.latest_state(&key)?,
        };

        // Common case first: newer than everything stored, compared with the latest only.
        let (before, after) = match &latest {
            None => (None, None),
            Some(state) if state.latest.time_ms < time_ms => (Some(state.latest), None),
            Some(_) => {
                // Looking back in history reads the store, which must hold this resource's writes.
                if self.pending_states.contains_key(&key) {
                    self.commit()?;
                }
                self.store.neighbours(&key, time_ms)?
            }
        };
        if let Some(before) = before {
            if before.content_hash == hash {
                return Ok(Recorded::Unchanged {
                    same_as: before.version,
                });
            }
            // Several versions may share a capture time; a re-delivery of any of them is a no-op.
            if before.time_ms == time_ms {
                if let Some(same) = self
                    .store
                    .heads_at(&key, time_ms)?
                    .into_iter()
                    .find(|h| h.content_hash == hash)
                {
                    return Ok(Recorded::Unchanged {
                        same_as: same.version,
                    });
                }
            }
        }
        let outcome = match (latest, after) {
            (Some(state), Some(after)) if after.content_hash == hash => {
                // Encoding waits until a write is certain: most re-deliveries need none.
                let encoded = EncodedItem::new(&item, hash)?;
                self.backdate(key, &encoded, state, after, time_ms)?
            }
            (latest, after) => {
                let encoded = EncodedItem::new(&item, hash)?;
                self.insert(key, &item, &encoded, latest, after.is_none())?
            }
        };
        if self.pending.len() >= BATCH_VERSIONS {
            self.commit()?;
        }
        Ok(outcome)
    }

    /// Writes everything still pending (not yet flushed to disk: see [`Store::flush`]).
    pub fn finish(mut self) -> Result<(), StoreError> {
        self.commit()
    }

    /// Writes pending versions to the store now (not yet flushed to disk), so readers see them.
    pub fn commit(&mut self) -> Result<(), StoreError> {
        if !self.pending.is_empty() {
            self.store.apply(&mut self.pending)?;
        }
        self.pending_states.clear();
        Ok(())
    }

    fn insert(
        &mut self,
        key: ResourceKey,
        item: &ConfigurationItem,
        encoded: &EncodedItem,
        latest: Option<LatestState>,
        becomes_latest: bool,
    ) -> Result<Recorded, StoreError> {
        let time_ms = item.configuration_item_capture_time.timestamp_millis();
        let version = latest.as_ref().map_or(1, |s| s.next_version);
        let head = VersionHead {
            version,
            time_ms,
            content_hash: encoded.content_hash(),
        };
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
                details: Some(crate::store::LatestDetails::of(item)),
            },
        };
        self.pending.put_version(&key, &head, encoded, &state)?;
        self.pending_states.insert(key, state);
        Ok(Recorded::NewVersion {
            version,
            latest: becomes_latest,
            deletion,
        })
    }

    fn backdate(
        &mut self,
        key: ResourceKey,
        encoded: &EncodedItem,
        state: LatestState,
        after: VersionHead,
        time_ms: i64,
    ) -> Result<Recorded, StoreError> {
        let moved = VersionHead { time_ms, ..after };
        let state = LatestState {
            latest: if state.latest.version == after.version {
                moved
            } else {
                state.latest
            },
            first_time_ms: state.first_time_ms.min(time_ms),
            ..state
        };
        self.pending
            .move_version(&key, &after, time_ms, encoded, &state)?;
        self.pending_states.insert(key, state);
        Ok(Recorded::Backdated {
            version: after.version,
        })
    }
}

impl Drop for Recorder<'_> {
    /// Pending versions are consistent writes: keep them even when `finish` was not reached.
    fn drop(&mut self) {
        if let Err(e) = self.commit() {
            tracing::warn!(error = %e, "pending versions could not be written");
        }
    }
}
