//! Rule definitions and their component binaries (`rules` tree).
//!
//! Keys: `d` + rule name → definition (format byte + JSON); `c` + content hash → component bytes;
//! `a` + artifact name → keyed hash of the precompiled artifact's bytes.
//!
//! An artifact is native code loaded from a file, so it is used only when its bytes have the
//! keyed hash recorded when conftrail wrote it (HMAC-SHA256 under the store's secret key).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::kv::{Batch as _, Tree as _};
use super::{corrupt, EngineBatch, Store, StoreError};
use crate::model::RuleDefinition;

const DEFINITION: u8 = b'd';
const COMPONENT: u8 = b'c';
const ARTIFACT: u8 = b'a';

/// Whether an artifact's bytes are the ones conftrail recorded for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArtifactCheck {
    /// They have the recorded keyed hash.
    Matches,
    /// They differ from what was recorded: damaged or altered.
    Differs,
    /// Nothing was recorded for this artifact.
    Unrecorded,
}
const FORMAT_V1: u8 = 1;

fn key(family: u8, name: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(name.len() + 1);
    out.push(family);
    out.extend_from_slice(name.as_bytes());
    out
}

impl Store {
    /// All rule definitions, by name.
    pub fn rule_definitions(&self) -> Result<Vec<RuleDefinition>, StoreError> {
        self.rules
            .scan_prefix([DEFINITION])
            .map(|entry| decode_definition(&entry?.1))
            .collect()
    }

    /// One rule definition.
    pub fn rule_definition(&self, name: &str) -> Result<Option<RuleDefinition>, StoreError> {
        self.rules
            .get(key(DEFINITION, name))?
            .map(|v| decode_definition(&v))
            .transpose()
    }

    /// Stores a definition together with its component (kept once per content hash).
    pub fn put_rule(
        &self,
        definition: &RuleDefinition,
        component: &[u8],
    ) -> Result<(), StoreError> {
        let mut value = vec![FORMAT_V1];
        serde_json::to_writer(&mut value, definition).map_err(|e| StoreError::Encode {
            what: "rule definition",
            detail: e.to_string(),
        })?;
        let mut batch = EngineBatch::default();
        batch.insert(key(COMPONENT, &definition.component_hash), component);
        batch.insert(key(DEFINITION, &definition.name), value);
        self.rules.apply_batch(batch)?;
        self.drop_unused_components()
    }

    /// Removes a definition (and its component when no other rule uses it).
    pub fn delete_rule(&self, name: &str) -> Result<bool, StoreError> {
        let existed = self.rules.remove(key(DEFINITION, name))?;
        self.drop_unused_components()?;
        Ok(existed)
    }

    /// The component binary with this content hash.
    pub fn rule_component(&self, hash: &str) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.rules.get(key(COMPONENT, hash))?.map(|v| v.to_vec()))
    }

    /// Records the keyed hash of the artifact `name` (a file name that starts with the
    /// component's content hash and a `-`) with these bytes.
    pub fn record_artifact(&self, name: &str, bytes: &[u8]) -> Result<(), StoreError> {
        let tag = self.artifact_mac(name, bytes).finalize().into_bytes();
        self.rules.insert(key(ARTIFACT, name), tag.as_slice())?;
        Ok(())
    }

    /// Checks `bytes` against the keyed hash recorded for the artifact `name`.
    pub fn check_artifact(&self, name: &str, bytes: &[u8]) -> Result<ArtifactCheck, StoreError> {
        let Some(recorded) = self.rules.get(key(ARTIFACT, name))? else {
            return Ok(ArtifactCheck::Unrecorded);
        };
        // Constant-time comparison.
        Ok(
            match self.artifact_mac(name, bytes).verify_slice(&recorded) {
                Ok(()) => ArtifactCheck::Matches,
                Err(_) => ArtifactCheck::Differs,
            },
        )
    }

    /// HMAC-SHA256 of the artifact's name and bytes (the name binds it to its place).
    fn artifact_mac(&self, name: &str, bytes: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(self.artifact_key.as_slice())
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        mac.update(&(name.len() as u64).to_be_bytes());
        mac.update(name.as_bytes());
        mac.update(bytes);
        mac
    }

    fn drop_unused_components(&self) -> Result<(), StoreError> {
        let used: std::collections::BTreeSet<String> = self
            .rule_definitions()?
            .into_iter()
            .map(|d| d.component_hash)
            .collect();
        for entry in self.rules.scan_prefix([COMPONENT]) {
            let (k, _) = entry?;
            let hash = String::from_utf8_lossy(&k[1..]).into_owned();
            if !used.contains(&hash) {
                self.rules.remove(k)?;
            }
        }
        for entry in self.rules.scan_prefix([ARTIFACT]) {
            let (k, _) = entry?;
            let name = String::from_utf8_lossy(&k[1..]).into_owned();
            let hash = name.split('-').next().unwrap_or_default();
            if !used.contains(hash) {
                self.rules.remove(k)?;
            }
        }
        Ok(())
    }
}

fn decode_definition(bytes: &[u8]) -> Result<RuleDefinition, StoreError> {
    match bytes.split_first() {
        Some((&FORMAT_V1, body)) => {
            serde_json::from_slice(body).map_err(|e| corrupt("rule definition", e.to_string()))
        }
        _ => Err(corrupt("rule definition", "unknown format")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_hashes_are_keyed_per_store_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let name = "abc-tag.cwasm";
        {
            let store = Store::open(dir.path()).unwrap();
            assert_eq!(
                store.check_artifact(name, b"code").unwrap(),
                ArtifactCheck::Unrecorded
            );
            store.record_artifact(name, b"code").unwrap();
            assert_eq!(
                store.check_artifact(name, b"code").unwrap(),
                ArtifactCheck::Matches
            );
            assert_eq!(
                store.check_artifact(name, b"cod3").unwrap(),
                ArtifactCheck::Differs
            );
            // No definition uses component "abc": the record goes with unused components.
            store.drop_unused_components().unwrap();
            assert_eq!(
                store.check_artifact(name, b"code").unwrap(),
                ArtifactCheck::Unrecorded
            );
            store.record_artifact(name, b"code").unwrap();
        }
        let store = Store::open(dir.path()).unwrap();
        assert_eq!(
            store.check_artifact(name, b"code").unwrap(),
            ArtifactCheck::Matches
        );
        // Another store has another key: its record would not vouch for these bytes.
        let other_dir = tempfile::tempdir().unwrap();
        let other = Store::open(other_dir.path()).unwrap();
        assert_ne!(
            store.artifact_mac(name, b"code").finalize().into_bytes(),
            other.artifact_mac(name, b"code").finalize().into_bytes()
        );
    }
}
