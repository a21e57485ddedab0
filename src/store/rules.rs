//! Rule definitions and their component binaries (`rules` tree).
//!
//! Keys: `d` + rule name → definition (format byte + JSON); `c` + content hash → component bytes.

use super::kv::{Batch as _, Tree as _};
use super::{corrupt, EngineBatch, Store, StoreError};
use crate::model::RuleDefinition;

const DEFINITION: u8 = b'd';
const COMPONENT: u8 = b'c';
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
