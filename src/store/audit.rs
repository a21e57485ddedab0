//! The audit trail (`audit` tree): entries in time order.
//!
//! Keys: `time id` → [`AuditEntry`].

use super::kv::Tree as _;
use super::{decode_json as decode, encode_json as encode, keys, Store, StoreError};
use crate::model::{AuditEntry, Timestamp};

fn entry_key(entry: &AuditEntry) -> Vec<u8> {
    let mut out = keys::time(entry.time.timestamp_millis()).to_vec();
    out.extend_from_slice(&entry.id.to_be_bytes());
    out
}

impl Store {
    /// Appends an entry (made durable by the next flush).
    pub fn append_audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        self.audit
            .insert(entry_key(entry), encode("audit entry", entry)?)?;
        Ok(())
    }

    /// Entries at or after `since` (all when `None`), oldest first, at most `limit`.
    pub fn audit_entries(
        &self,
        since: Option<Timestamp>,
        limit: usize,
    ) -> Result<Vec<AuditEntry>, StoreError> {
        let start = since
            .map(|t| keys::time(t.timestamp_millis()).to_vec())
            .unwrap_or_default();
        self.audit
            .range(start..)
            .take(limit)
            .map(|entry| decode("audit entry", &entry?.1))
            .collect()
    }
}
