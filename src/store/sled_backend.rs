//! sled 0.34 behind the [`kv`](super::kv) interface: the only file of the store that names sled.

use super::kv::{self, EngineError, OpenError};
use std::ops::RangeBounds;
use std::path::Path;

impl From<sled::Error> for EngineError {
    fn from(error: sled::Error) -> Self {
        EngineError::new(error)
    }
}

/// A sled database; clones share it.
#[derive(Clone)]
pub struct SledDb(sled::Db);

/// A sled tree; clones share it.
#[derive(Clone)]
pub struct SledTree(sled::Tree);

/// A sled batch.
#[derive(Default)]
pub struct SledBatch(sled::Batch);

/// A sled range scan with the engine's errors wrapped.
pub struct SledIter(sled::Iter);

impl kv::Db for SledDb {
    type Tree = SledTree;

    fn open(dir: &Path, cache_bytes: u64) -> Result<Self, OpenError> {
        let db = sled::Config::new()
            .path(dir)
            .cache_capacity(cache_bytes)
            .open()
            .map_err(|error| match &error {
                // sled takes an exclusive file lock; it reports a held lock as an I/O error,
                // worded differently across platforms.
                sled::Error::Io(io)
                    if io.kind() == std::io::ErrorKind::WouldBlock
                        || io.to_string().contains("could not acquire lock") =>
                {
                    OpenError::Locked
                }
                _ => OpenError::Failed(error.into()),
            })?;
        tracing::debug!(recovered = db.was_recovered(), "sled database open");
        Ok(SledDb(db))
    }

    fn default_tree(&self) -> SledTree {
        // A sled database is its default tree.
        SledTree(sled::Tree::clone(&self.0))
    }

    fn open_tree(&self, name: &str) -> Result<SledTree, EngineError> {
        Ok(SledTree(self.0.open_tree(name)?))
    }

    fn generate_id(&self) -> Result<u64, EngineError> {
        Ok(self.0.generate_id()?)
    }

    fn flush(&self) -> Result<(), EngineError> {
        // Trees share one page cache: flushing the database flushes every tree.
        self.0.flush()?;
        Ok(())
    }
}

impl kv::Tree for SledTree {
    // IVec: small values inline, large ones reference-counted, so reads return without copying.
    type Value = sled::IVec;
    type Batch = SledBatch;
    type Iter = SledIter;

    fn get(&self, key: impl AsRef<[u8]>) -> Result<Option<sled::IVec>, EngineError> {
        Ok(self.0.get(key)?)
    }

    fn contains_key(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError> {
        Ok(self.0.contains_key(key)?)
    }

    fn insert(&self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) -> Result<(), EngineError> {
        self.0.insert(key, value.as_ref())?;
        Ok(())
    }

    fn remove(&self, key: impl AsRef<[u8]>) -> Result<bool, EngineError> {
        Ok(self.0.remove(key)?.is_some())
    }

    fn range<K: AsRef<[u8]>, R: RangeBounds<K>>(&self, range: R) -> SledIter {
        SledIter(self.0.range(range))
    }

    fn scan_prefix(&self, prefix: impl AsRef<[u8]>) -> SledIter {
        SledIter(self.0.scan_prefix(prefix))
    }

    fn apply_batch(&self, batch: SledBatch) -> Result<(), EngineError> {
        self.0.apply_batch(batch.0)?;
        Ok(())
    }
}

impl kv::Batch for SledBatch {
    // One copy into an IVec either way: sled copies a `Vec` into its own allocation too.
    fn insert(&mut self, key: impl AsRef<[u8]>, value: impl AsRef<[u8]>) {
        self.0.insert(key.as_ref(), value.as_ref());
    }

    fn remove(&mut self, key: impl AsRef<[u8]>) {
        self.0.remove(key.as_ref());
    }
}

impl Iterator for SledIter {
    type Item = Result<(sled::IVec, sled::IVec), EngineError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.0.next().map(|entry| entry.map_err(EngineError::from))
    }
}

impl DoubleEndedIterator for SledIter {
    fn next_back(&mut self) -> Option<Self::Item> {
        self.0
            .next_back()
            .map(|entry| entry.map_err(EngineError::from))
    }
}

#[cfg(test)]
mod tests {
    /// Cache of the test databases.
    const TEST_CACHE: u64 = 8 << 20;
    use super::*;
    use kv::{Batch as _, Db as _, Tree as _};

    fn open() -> (tempfile::TempDir, SledDb) {
        let dir = tempfile::tempdir().unwrap();
        let db = SledDb::open(dir.path(), TEST_CACHE).unwrap();
        (dir, db)
    }

    /// The keys of a scan, as byte strings.
    fn keys(
        iter: impl Iterator<Item = Result<(sled::IVec, sled::IVec), EngineError>>,
    ) -> Vec<Vec<u8>> {
        iter.map(|entry| entry.unwrap().0.to_vec()).collect()
    }

    fn tree_with(db: &SledDb, keys: &[&[u8]]) -> SledTree {
        let tree = db.open_tree("t").unwrap();
        for key in keys {
            tree.insert(key, key).unwrap();
        }
        tree
    }

    #[test]
    fn point_reads_and_writes() {
        let (_dir, db) = open();
        let tree = db.open_tree("t").unwrap();
        assert_eq!(tree.get(b"k").unwrap(), None);
        assert!(!tree.contains_key(b"k").unwrap());
        tree.insert(b"k", b"v1").unwrap();
        tree.insert(b"k", vec![b'v'; 100]).unwrap();
        assert_eq!(tree.get(b"k").unwrap().as_deref(), Some(&[b'v'; 100][..]));
        assert!(tree.contains_key(b"k").unwrap());
        assert!(tree.remove(b"k").unwrap());
        assert!(!tree.remove(b"k").unwrap());
        assert_eq!(tree.get(b"k").unwrap(), None);
        // Trees are separate key spaces.
        assert_eq!(db.default_tree().get(b"k").unwrap(), None);
    }

    #[test]
    fn ranges_run_both_ways_within_their_bounds() {
        use std::ops::Bound::{Excluded, Included, Unbounded};
        let (_dir, db) = open();
        let tree = tree_with(&db, &[b"a", b"b", b"b\0", b"c", b"d"]);
        let all: Vec<Vec<u8>> = ["a", "b", "b\0", "c", "d"].map(|k| k.into()).to_vec();
        assert_eq!(keys(tree.range::<&[u8], _>(..)), all);
        let mut reversed = all.clone();
        reversed.reverse();
        assert_eq!(keys(tree.range::<&[u8], _>(..).rev()), reversed);
        assert_eq!(
            keys(tree.range(b"b".as_slice()..b"d".as_slice())),
            [&b"b"[..], b"b\0", b"c"]
        );
        assert_eq!(
            keys(tree.range(b"b".to_vec()..=b"d".to_vec()).rev()),
            [&b"d"[..], b"c", b"b\0", b"b"]
        );
        assert_eq!(
            keys(tree.range::<Vec<u8>, _>((Excluded(b"b".to_vec()), Excluded(b"d".to_vec())))),
            [&b"b\0"[..], b"c"]
        );
        assert_eq!(
            keys(
                tree.range::<Vec<u8>, _>((Included(b"bb".to_vec()), Unbounded))
                    .rev()
            ),
            [&b"d"[..], b"c"]
        );
        // The newest entry at or before a key: the store's "version in force" lookup.
        let last = tree
            .range(b"a".as_slice()..=b"c\xff".as_slice())
            .next_back();
        assert_eq!(last.unwrap().unwrap().0.as_ref(), b"c");
        // One scan taken from both ends: the ends do not cross.
        let mut both = tree.range::<&[u8], _>(..);
        assert_eq!(both.next().unwrap().unwrap().0.as_ref(), b"a");
        assert_eq!(both.next_back().unwrap().unwrap().0.as_ref(), b"d");
        assert_eq!(keys(both), [&b"b"[..], b"b\0", b"c"]);
        assert!(keys(tree.range(b"x".as_slice()..)).is_empty());
    }

    #[test]
    fn prefix_scans_stop_at_the_prefix() {
        let (_dir, db) = open();
        let tree = tree_with(
            &db,
            &[b"o\xff", b"p", b"p\0a", b"p\xff\xff", b"q", b"\xff\xff"],
        );
        assert_eq!(
            keys(tree.scan_prefix(b"p")),
            [&b"p"[..], b"p\0a", b"p\xff\xff"]
        );
        assert_eq!(
            keys(tree.scan_prefix([b'p']).rev()),
            [&b"p\xff\xff"[..], b"p\0a", b"p"]
        );
        assert_eq!(keys(tree.scan_prefix(b"\xff")), [&b"\xff\xff"[..]]);
        assert_eq!(keys(tree.scan_prefix(b"pz")).len(), 0);
        assert_eq!(keys(tree.scan_prefix(b"")).len(), 6);
    }

    #[test]
    fn batches_apply_every_write_at_once() {
        let (_dir, db) = open();
        let tree = tree_with(&db, &[b"gone", b"kept"]);
        let mut batch = SledBatch::default();
        batch.insert(b"x", b"1");
        batch.insert(b"y", vec![2; 64]);
        batch.remove(b"gone");
        batch.insert(b"z", b"soon removed");
        batch.remove(b"z");
        batch.insert(b"w", b"first");
        batch.insert(b"w", b"last");
        // Nothing is visible before the batch is applied.
        assert_eq!(keys(tree.range::<&[u8], _>(..)), [&b"gone"[..], b"kept"]);
        tree.apply_batch(batch).unwrap();
        assert_eq!(
            keys(tree.range::<&[u8], _>(..)),
            [&b"kept"[..], b"w", b"x", b"y"]
        );
        assert_eq!(tree.get(b"w").unwrap().as_deref(), Some(&b"last"[..]));
        assert_eq!(tree.get(b"y").unwrap().as_deref(), Some(&[2; 64][..]));
        tree.apply_batch(SledBatch::default()).unwrap();
        assert_eq!(keys(tree.range::<&[u8], _>(..)).len(), 4);
    }

    #[test]
    fn readers_never_see_part_of_a_batch() {
        // Each batch writes the same round number under "a" and "b". Reading one key and then
        // the other, the second can never be behind the first unless a batch was half applied.
        const ROUNDS: u64 = 2000;
        let (_dir, db) = open();
        let tree = db.open_tree("t").unwrap();
        let round = |tree: &SledTree, key: &[u8]| {
            tree.get(key)
                .unwrap()
                .map_or(0, |v| u64::from_be_bytes(v.as_ref().try_into().unwrap()))
        };
        let writer = {
            let tree = tree.clone();
            std::thread::spawn(move || {
                for n in 1..=ROUNDS {
                    let mut batch = SledBatch::default();
                    batch.insert(b"a", n.to_be_bytes());
                    batch.insert(b"b", n.to_be_bytes());
                    tree.apply_batch(batch).unwrap();
                }
            })
        };
        let mut reads = 0u64;
        while !writer.is_finished() || reads < 100 {
            let (first, second): (&[u8], &[u8]) = if reads.is_multiple_of(2) {
                (b"a", b"b")
            } else {
                (b"b", b"a")
            };
            let seen = round(&tree, first);
            assert!(
                round(&tree, second) >= seen,
                "half a batch seen at round {seen}"
            );
            reads += 1;
        }
        writer.join().unwrap();
    }

    #[test]
    fn ids_increase_and_data_survives_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let last = {
            let db = SledDb::open(dir.path(), TEST_CACHE).unwrap();
            db.open_tree("t").unwrap().insert(b"k", b"v").unwrap();
            let ids: Vec<u64> = (0..100).map(|_| db.generate_id().unwrap()).collect();
            assert!(ids.windows(2).all(|w| w[0] < w[1]));
            db.flush().unwrap();
            ids[99]
        };
        let db = SledDb::open(dir.path(), TEST_CACHE).unwrap();
        assert!(db.generate_id().unwrap() > last);
        assert_eq!(
            db.open_tree("t").unwrap().get(b"k").unwrap().as_deref(),
            Some(&b"v"[..])
        );
    }

    #[test]
    fn a_held_directory_is_reported_as_locked() {
        let dir = tempfile::tempdir().unwrap();
        let _held = SledDb::open(dir.path(), TEST_CACHE).unwrap();
        assert!(matches!(
            SledDb::open(dir.path(), TEST_CACHE),
            Err(OpenError::Locked)
        ));
    }
}
