//! The ordered key-value interface the families are written against, so that the engine under
//! the store can change without touching them. sled ([`super::sled_backend`]) is the one engine.
//!
//! Keys and values are byte strings; a tree iterates in the byte order of its keys, which is
//! what every key encoding of the store relies on.

use std::ops::{Deref, RangeBounds};
use std::path::Path;

/// A failure inside the storage engine (I/O, damage it detected), opaque to the families.
#[derive(Debug, thiserror::Error)]
#[error(transparent)]
pub struct EngineError(Box<dyn std::error::Error + Send + Sync>);

impl EngineError {
    /// Wraps an engine's own error, keeping its message and source chain.
    pub(super) fn new(error: impl std::error::Error + Send + Sync + 'static) -> Self {
        EngineError(Box::new(error))
    }
}

/// Why a database could not be opened.
#[derive(Debug)]
pub enum OpenError {
    /// Another process holds the directory.
    Locked,
    /// Anything else.
    Failed(EngineError),
}

/// A database: named trees sharing one durability domain and one id counter.
pub trait Db: Clone + Send + Sync + Sized {
    /// The engine's tree.
    type Tree: Tree;

    /// Opens (creating if needed) the database in `dir`, with at most `cache_bytes` of pages
    /// cached in memory.
    fn open(dir: &Path, cache_bytes: u64) -> Result<Self, OpenError>;

    /// The tree every database has; store-wide records (the layout version) live there.
    fn default_tree(&self) -> Self::Tree;

    /// Opens (creating if needed) the tree called `name`.
    fn open_tree(&self, name: &str) -> Result<Self::Tree, EngineError>;

    /// A new id, greater than every id handed out before (also across restarts).
    fn generate_id(&self) -> Result<u64, EngineError>;

    /// Makes everything written so far, to any tree, durable.
    fn flush(&self) -> Result<(), EngineError>;
}

/// One ordered map of byte-string keys to byte-string values.
pub trait Tree: Clone + Send + Sync {
    /// A value (or key) read back; cheap to keep, readable as bytes.
    type Value: Deref<Target = [u8]> + AsRef<[u8]>;
    /// Writes collected to be applied to this tree at once.
    type Batch: Batch;
    /// Entries of a range in key order, from either end.
    type Iter: DoubleEndedIterator<Item = Result<(Self::Value, Self::Value), EngineError>>;

    /// The value under `key`.
    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<Self::Value>, EngineError>;

    /// Whether `key` has a value.
    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError>;

    /// Sets the value under `key`.
    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError>;

    /// Removes `key`; whether it had a value.
    fn remove(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError>;

    /// The entries with keys in `range`.
    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> Self::Iter;

    /// The entries whose keys start with `prefix`.
    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> Self::Iter;

    /// Applies every write of `batch` at once: neither a single read nor recovery after a crash
    /// sees some of them without the others (a scan reads entry by entry, so it may).
    fn apply_batch(&self, batch: Self::Batch) -> Result<(), EngineError>;
}

/// Inserts and removes for one tree, applied together by [`Tree::apply_batch`].
pub trait Batch: Default {
    /// Sets the value under `key`; of several writes to one key, the last counts.
    fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>);

    /// Removes `key`; of several writes to one key, the last counts.
    fn remove(&mut self, key: impl AsRef<[u8]>);
}
