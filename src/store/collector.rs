//! What the collector keeps (`collector` tree): the last sweep of each scope, and how far each
//! region's trail logs were read.
//!
//! Keys:
//! - `s account \0 region \0 type` → [`ScopeSweep`]
//! - `t account \0 region` → [`TrailCursor`]

use super::kv::Tree as _;
use super::{decode_json as decode, encode_json as encode, Store, StoreError};
use crate::model::{ScopeSweep, TrailCursor};

const SWEEP: u8 = b's';
const TRAIL: u8 = b't';

fn sweep_key(account_id: &str, region: &str, resource_type: &str) -> Vec<u8> {
    key(SWEEP, &[account_id, region, resource_type])
}

fn key(family: u8, parts: &[&str]) -> Vec<u8> {
    let mut key = vec![family];
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            key.push(0);
        }
        key.extend_from_slice(part.as_bytes());
    }
    key
}

impl Store {
    /// Keeps the last sweep of its scope, replacing the one before.
    pub fn put_scope_sweep(&self, sweep: &ScopeSweep) -> Result<(), StoreError> {
        self.collector.insert(
            sweep_key(&sweep.account_id, &sweep.region, &sweep.resource_type),
            encode("scope sweep", sweep)?,
        )?;
        Ok(())
    }

    /// The last sweep of every scope ever swept, by account, region and type.
    pub fn scope_sweeps(&self) -> Result<Vec<ScopeSweep>, StoreError> {
        self.collector
            .scan_prefix([SWEEP])
            .map(|entry| decode("scope sweep", &entry?.1))
            .collect()
    }

    /// How far the trail logs of an (account, region) were read; at the start when never.
    pub fn trail_cursor(&self, account_id: &str, region: &str) -> Result<TrailCursor, StoreError> {
        match self.collector.get(key(TRAIL, &[account_id, region]))? {
            Some(bytes) => decode("trail cursor", &bytes),
            None => Ok(TrailCursor::new(account_id, region)),
        }
    }

    /// Every trail cursor, by account and region.
    pub fn trail_cursors(&self) -> Result<Vec<TrailCursor>, StoreError> {
        self.collector
            .scan_prefix([TRAIL])
            .map(|entry| decode("trail cursor", &entry?.1))
            .collect()
    }

    /// Keeps a trail cursor, durably (flushed) before it returns: a file it names read is
    /// never read again after a restart.
    pub fn put_trail_cursor(&self, cursor: &TrailCursor) -> Result<(), StoreError> {
        self.collector.insert(
            key(TRAIL, &[&cursor.account_id, &cursor.region]),
            encode("trail cursor", cursor)?,
        )?;
        self.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trail_cursors_are_kept_per_account_and_region_and_start_empty() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let fresh = store.trail_cursor("123456789012", "us-east-1").unwrap();
        assert_eq!(fresh, TrailCursor::new("123456789012", "us-east-1"));
        let mut cursor = fresh.clone();
        cursor.mark_read(
            "AWSLogs/123456789012/CloudTrail/us-east-1/a.json.gz",
            "t".into(),
        );
        store.put_trail_cursor(&cursor).unwrap();
        store
            .put_trail_cursor(&TrailCursor::new("123456789012", "eu-west-1"))
            .unwrap();
        drop(store);
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.trail_cursor("123456789012", "us-east-1").unwrap(),
            cursor
        );
        let all = store.trail_cursors().unwrap();
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].region, "eu-west-1");
        assert_eq!(
            store.scope_sweeps().unwrap(),
            Vec::new(),
            "a separate family"
        );
    }

    #[test]
    fn the_last_sweep_of_each_scope_is_kept() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(dir.path()).unwrap();
        let sweep = |region: &str, resources| ScopeSweep {
            account_id: "123456789012".into(),
            region: region.into(),
            resource_type: "AWS::EC2::SecurityGroup".into(),
            resources,
            complete: true,
            ..ScopeSweep::default()
        };
        store.put_scope_sweep(&sweep("us-east-1", 3)).unwrap();
        store.put_scope_sweep(&sweep("eu-west-1", 1)).unwrap();
        store.put_scope_sweep(&sweep("us-east-1", 5)).unwrap();
        let kept = store.scope_sweeps().unwrap();
        assert_eq!(kept, vec![sweep("eu-west-1", 1), sweep("us-east-1", 5)]);
    }
}
