//! The only code that touches the storage engine: key encoding, value codecs, one sub-module
//! per family.
//!
//! The families are written against the ordered key-value interface of `kv`; sled
//! (`sled_backend`) is its one implementation, chosen by the `Engine` alias.
//!
//! One tree per family. Configuration versions, their number index and the latest-state
//! records share the `config` tree (under different one-byte prefixes) so that recording a
//! version is a single atomic batch.

mod audit;
mod collector;
mod config_versions;
mod events;
mod keys;
mod kv;
mod notifications;
mod remediation;
mod rules;
mod sled_backend;
mod verdicts;

pub(crate) use config_versions::PendingWrites;
pub use config_versions::{
    EncodedItem, HistoryOrder, HistoryPage, HistoryQuery, LatestDetails, LatestState, PageToken,
    ResourceSummary, VersionHead,
};
pub use events::{
    EventAttribute, EventPage, EventPageToken, EventQuery, EventSpan, EventWrites, ResourceCall,
    StoredEvent,
};
pub use kv::EngineError;
pub use rules::ArtifactCheck;
pub use verdicts::day_of;

use kv::{Db as _, OpenError, Tree as _};

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

/// The storage engine: the one place that picks it.
type Engine = sled_backend::SledDb;
/// A tree of the engine.
type EngineTree = <Engine as kv::Db>::Tree;
/// An atomic batch of writes to one tree of the engine.
type EngineBatch = <EngineTree as kv::Tree>::Batch;

/// Store layout version, written once; a store from a newer conftrail is refused.
const LAYOUT_VERSION: u8 = 1;
const LAYOUT_KEY: &[u8] = b"layout";
/// The store's secret key for the keyed hashes of rule artifacts (see `rules.rs`).
const ARTIFACT_KEY: &[u8] = b"artifact-key";
/// Length of [`ARTIFACT_KEY`]'s value.
const ARTIFACT_KEY_LEN: usize = 32;

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Another process holds the data directory.
    #[error("data directory {path} is in use by another conftrail process")]
    Locked {
        /// The data directory.
        path: PathBuf,
    },
    /// The data directory could not be opened.
    #[error("cannot open data directory {path}: {source}")]
    Open {
        /// The data directory.
        path: PathBuf,
        /// The underlying error.
        source: EngineError,
    },
    /// The data directory was written by a newer conftrail.
    #[error("data directory {path} has layout version {found}; this conftrail reads version {LAYOUT_VERSION}")]
    Layout {
        /// The data directory.
        path: PathBuf,
        /// The layout version found.
        found: u8,
    },
    /// A read or write failed.
    #[error("store I/O error: {0}")]
    Io(#[from] EngineError),
    /// A stored value could not be decoded.
    #[error("corrupt stored record ({what}): {detail}")]
    Corrupt {
        /// Which record.
        what: &'static str,
        /// What is wrong with it.
        detail: String,
    },
    /// The operating system gave no random bytes for the store's artifact key.
    #[error("cannot generate the store's artifact key: {0}")]
    Random(String),
    /// An item cannot be encoded.
    #[error("cannot encode {what}: {detail}")]
    Encode {
        /// Which record.
        what: &'static str,
        /// Why.
        detail: String,
    },
}

/// Pages the store keeps in memory by default, in MiB.
pub const DEFAULT_CACHE_MIB: u64 = 64;

/// The embedded store: a database in a data directory. Clones share the same database.
#[derive(Clone)]
pub struct Store {
    dir: PathBuf,
    db: Engine,
    config: EngineTree,
    rules: EngineTree,
    verdicts: EngineTree,
    events: EngineTree,
    remediation: EngineTree,
    audit: EngineTree,
    collector: EngineTree,
    /// Secret key of the rule artifacts' keyed hashes; never leaves the store.
    artifact_key: Arc<[u8; ARTIFACT_KEY_LEN]>,
    /// Serialises read-compare-write sequences of the recorder.
    config_writer: Arc<Mutex<()>>,
    /// Serialises read-fold-write of latest verdicts.
    verdict_writer: Arc<Mutex<()>>,
    /// Serialises the duplicate check and write of API events.
    event_writer: Arc<Mutex<()>>,
    /// Serialises job writes, which move index entries with the job's state.
    remediation_writer: Arc<Mutex<()>>,
    /// Group commit of [`Store::flush`].
    flush_epochs: Arc<FlushEpochs>,
}

/// Flush requests counted, and how many a finished sync covered.
#[derive(Default)]
struct FlushEpochs {
    asked: AtomicU64,
    done: AtomicU64,
    lock: Mutex<()>,
}

impl Store {
    /// Opens (creating if needed) the store in `dir`, with the default cache.
    pub fn open(dir: &Path) -> Result<Store, StoreError> {
        Store::open_with(dir, DEFAULT_CACHE_MIB)
    }

    /// Opens (creating if needed) the store in `dir`, caching at most `cache_mib` MiB of pages
    /// in memory (the engine's own default is 1 GiB, which a long-running server fills).
    pub fn open_with(dir: &Path, cache_mib: u64) -> Result<Store, StoreError> {
        let path = dir.to_path_buf();
        let db =
            Engine::open(dir, cache_mib.saturating_mul(1 << 20)).map_err(|error| match error {
                OpenError::Locked => StoreError::Locked { path: path.clone() },
                OpenError::Failed(source) => StoreError::Open {
                    path: path.clone(),
                    source,
                },
            })?;
        let meta = db.default_tree();
        match meta.get(LAYOUT_KEY)? {
            None => {
                meta.insert(LAYOUT_KEY, [LAYOUT_VERSION])?;
            }
            Some(v) if v.as_ref() == [LAYOUT_VERSION] => {}
            Some(v) => {
                return Err(StoreError::Layout {
                    path,
                    found: v.first().copied().unwrap_or(0),
                })
            }
        }
        let artifact_key = Arc::new(artifact_key(&meta)?);
        let config = db.open_tree("config")?;
        let rules = db.open_tree("rules")?;
        let verdicts = db.open_tree("verdicts")?;
        let events = db.open_tree("events")?;
        let remediation = db.open_tree("remediation")?;
        let audit = db.open_tree("audit")?;
        let collector = db.open_tree("collector")?;
        tracing::debug!(path = %path.display(), "store open");
        let store = Store {
            dir: path,
            db,
            config,
            rules,
            verdicts,
            events,
            remediation,
            audit,
            collector,
            artifact_key,
            config_writer: Arc::new(Mutex::new(())),
            verdict_writer: Arc::new(Mutex::new(())),
            event_writer: Arc::new(Mutex::new(())),
            remediation_writer: Arc::new(Mutex::new(())),
            flush_epochs: Arc::default(),
        };
        store.ensure_verdict_state_index()?;
        Ok(store)
    }

    /// A new unique id (jobs, deliveries).
    pub fn next_id(&self) -> Result<u64, StoreError> {
        Ok(self.db.generate_id()?)
    }

    /// Where precompiled rule artifacts are kept (beside the database, not inside it).
    pub fn artifact_dir(&self) -> PathBuf {
        self.dir.join("rule-artifacts")
    }

    /// Makes everything written so far durable. Ingest calls this before reporting success.
    ///
    /// Group commit: a caller whose writes were covered by a sync that started after it asked
    /// returns without syncing again, so concurrent requests share one disk sync.
    pub fn flush(&self) -> Result<(), StoreError> {
        let wanted = self.flush_epochs.asked.fetch_add(1, Ordering::SeqCst) + 1;
        let _one_at_a_time = self
            .flush_epochs
            .lock
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.flush_epochs.done.load(Ordering::SeqCst) >= wanted {
            return Ok(());
        }
        // Everything asked for up to here was written before its caller asked.
        let covers = self.flush_epochs.asked.load(Ordering::SeqCst);
        self.db.flush()?;
        self.flush_epochs.done.store(covers, Ordering::SeqCst);
        Ok(())
    }

    /// Holds off other writers of configuration versions while a recorder decides and writes.
    pub(crate) fn lock_config_writes(&self) -> MutexGuard<'_, ()> {
        // A poisoned lock only means another writer panicked; the store itself is consistent.
        self.config_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The store's artifact key, made from the operating system's random source on first open.
fn artifact_key(meta: &EngineTree) -> Result<[u8; ARTIFACT_KEY_LEN], StoreError> {
    if let Some(stored) = meta.get(ARTIFACT_KEY)? {
        match <[u8; ARTIFACT_KEY_LEN]>::try_from(stored.as_ref()) {
            Ok(key) => return Ok(key),
            // Only artifacts depend on it: a new key makes them compile again, nothing is lost.
            Err(_) => tracing::warn!("replacing a damaged rule artifact key"),
        }
    }
    let mut key = [0u8; ARTIFACT_KEY_LEN];
    getrandom::fill(&mut key).map_err(|e| StoreError::Random(e.to_string()))?;
    meta.insert(ARTIFACT_KEY, key)?;
    Ok(key)
}

/// Format byte of the JSON-encoded records (verdicts, remediation).
const JSON_FORMAT_V1: u8 = 1;

/// A record as a format byte followed by its JSON.
fn encode_json<T: serde::Serialize>(what: &'static str, value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![JSON_FORMAT_V1];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Encode {
        what,
        detail: e.to_string(),
    })?;
    Ok(out)
}

/// Inverse of [`encode_json`].
fn decode_json<T: serde::de::DeserializeOwned>(
    what: &'static str,
    bytes: &[u8],
) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((&JSON_FORMAT_V1, body)) => {
            serde_json::from_slice(body).map_err(|e| corrupt(what, e.to_string()))
        }
        _ => Err(corrupt(what, "unknown format")),
    }
}

fn corrupt(what: &'static str, detail: impl Into<String>) -> StoreError {
    StoreError::Corrupt {
        what,
        detail: detail.into(),
    }
}
