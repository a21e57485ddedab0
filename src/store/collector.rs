//! What the collector keeps (`collector` tree): the last sweep of each scope.
//!
//! Keys:
//! - `s account \0 region \0 type` → [`ScopeSweep`]

use super::kv::Tree as _;
use super::{decode_json as decode, encode_json as encode, Store, StoreError};
use crate::model::ScopeSweep;

const SWEEP: u8 = b's';

fn sweep_key(account_id: &str, region: &str, resource_type: &str) -> Vec<u8> {
    let mut key = vec![SWEEP];
    for (i, part) in [account_id, region, resource_type].iter().enumerate() {
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
}

#[cfg(test)]
mod tests {
    use super::*;

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
