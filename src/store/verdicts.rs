//! Compliance history and latest verdicts (`verdicts` tree).
//!
//! Keys: `h` + resource + rule + \0 + capture time + sequence → [`VerdictRecord`], so one
//! resource's history is a prefix scan grouped by rule and ordered in time;
//! `l` + rule + \0 + resource → [`LatestVerdict`], so one rule's results are a prefix scan;
//! `e` + rule → [`RuleErrors`], the rule's failures counted as they are recorded;
//! `d` + `YYYY-MM-DD` → [`ComplianceDay`], pairs that turned non-compliant and back that day;
//! `s` + state + resource + rule → nothing: the latest verdicts by compliance, so "what is
//! non-compliant" and the counts per state read keys only, in resource order (built once
//! for stores written before it, see [`Store::ensure_verdict_state_index`]).

use std::collections::HashMap;
use std::ops::Bound;

use super::kv::{Batch as _, Db as _, Tree as _};
use super::{decode_json as decode, encode_json as encode, keys, EngineBatch, Store, StoreError};
use crate::model::ResourceKey;
use crate::model::{
    Compliance, ComplianceDay, LatestVerdict, RuleErrors, Timestamp, VerdictRecord,
};

const HISTORY: u8 = b'h';
const LATEST: u8 = b'l';
const ERRORS: u8 = b'e';
const DAYS: u8 = b'd';
const BY_STATE: u8 = b's';
/// Set once the by-state index holds every latest verdict.
const BY_STATE_BUILT: &[u8] = b"S";

fn state_byte(compliance: Compliance) -> u8 {
    match compliance {
        Compliance::NonCompliant => b'N',
        Compliance::Compliant => b'C',
        Compliance::NotApplicable => b'A',
    }
}

fn state_prefix(compliance: Compliance) -> Vec<u8> {
    vec![BY_STATE, state_byte(compliance)]
}

fn state_key(compliance: Compliance, resource: &ResourceKey, rule: &str) -> Vec<u8> {
    let mut out = state_prefix(compliance);
    out.extend_from_slice(&keys::resource(resource));
    out.extend_from_slice(rule.as_bytes());
    out
}

fn day_key(day: &str) -> Vec<u8> {
    let mut out = vec![DAYS];
    out.extend_from_slice(day.as_bytes());
    out
}

/// The UTC day of a time, as day keys spell it.
pub fn day_of(t: &Timestamp) -> String {
    t.format("%Y-%m-%d").to_string()
}

fn errors_key(rule: &str) -> Vec<u8> {
    let mut out = vec![ERRORS];
    out.extend_from_slice(rule.as_bytes());
    out
}

fn history_prefix(resource: &ResourceKey) -> Vec<u8> {
    keys::family_resource(HISTORY, resource)
}

fn latest_key(rule: &str, resource: &ResourceKey) -> Vec<u8> {
    let mut out = vec![LATEST];
    out.extend_from_slice(rule.as_bytes());
    out.push(0);
    out.extend_from_slice(&keys::resource(resource));
    out
}

impl Store {
    /// Records evaluations in one atomic batch and updates the latest verdicts. Returns the
    /// records as stored (with `compliance_changed` and `changed_from` set).
    pub fn record_verdicts(
        &self,
        records: Vec<VerdictRecord>,
    ) -> Result<Vec<VerdictRecord>, StoreError> {
        if records.is_empty() {
            return Ok(records);
        }
        // Read-fold-write of latest verdicts must not interleave with another writer.
        let _writer = self
            .verdict_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut latest: HashMap<Vec<u8>, Option<LatestVerdict>> = HashMap::new();
        let mut errors: HashMap<String, RuleErrors> = HashMap::new();
        let mut days: HashMap<String, ComplianceDay> = HashMap::new();
        let mut batch = EngineBatch::default();
        let mut stored = Vec::with_capacity(records.len());
        for mut record in records {
            let resource = record.resource.key();
            let latest_key = latest_key(&record.rule_name, &resource);
            let current = match latest.remove(&latest_key) {
                Some(pending) => pending,
                None => self
                    .verdicts
                    .get(&latest_key)?
                    .map(|v| decode("latest verdict", &v))
                    .transpose()?,
            };
            let previous = current.as_ref().map(|c| c.compliance);
            let (next, changed) = LatestVerdict::fold(current, &record);
            if changed {
                if let Some(before) = previous {
                    batch.remove(state_key(before, &resource, &record.rule_name));
                }
                if let Some(now) = next.as_ref().map(|n| n.compliance) {
                    batch.insert(state_key(now, &resource, &record.rule_name), []);
                }
                record.compliance_changed = true;
                record.changed_from = previous;
                let now_bad = record.report.outcome.compliance() == Some(Compliance::NonCompliant);
                let was_bad = previous == Some(Compliance::NonCompliant);
                if now_bad != was_bad {
                    let day = self.pending_day(&mut days, day_of(&record.evaluated_at))?;
                    if now_bad {
                        day.became_non_compliant += 1;
                    } else {
                        day.left_non_compliant += 1;
                    }
                }
            }
            let mut key = history_prefix(&resource);
            key.extend_from_slice(record.rule_name.as_bytes());
            key.push(0);
            key.extend_from_slice(&keys::time(
                record.configuration_item_capture_time.timestamp_millis(),
            ));
            key.extend_from_slice(&self.db.generate_id()?.to_be_bytes());
            batch.insert(key, encode("verdict record", &record)?);
            if let Some(next) = &next {
                batch.insert(latest_key.clone(), encode("latest verdict", next)?);
            }
            latest.insert(latest_key, next);
            if record.report.outcome.compliance().is_none() {
                let counted = match errors.get_mut(&record.rule_name) {
                    Some(counted) => counted,
                    None => {
                        let known = self.rule_errors(&record.rule_name)?;
                        errors.entry(record.rule_name.clone()).or_insert(known)
                    }
                };
                counted.add(&record);
            }
            stored.push(record);
        }
        for (rule, counted) in &errors {
            batch.insert(errors_key(rule), encode("rule errors", counted)?);
        }
        for (day, counted) in &days {
            batch.insert(day_key(day), encode("compliance day", counted)?);
        }
        self.verdicts.apply_batch(batch)?;
        Ok(stored)
    }

    /// A resource's compliance history: every evaluation, grouped by rule, oldest first.
    pub fn verdict_history(
        &self,
        resource: &ResourceKey,
    ) -> Result<Vec<VerdictRecord>, StoreError> {
        self.verdicts
            .scan_prefix(history_prefix(resource))
            .map(|entry| decode("verdict record", &entry?.1))
            .collect()
    }

    /// The (resource, rule) pairs whose latest verdict is `state`, in resource order, from
    /// just after the resource `after` (keys only: nothing is decoded but the names).
    pub fn pairs_in_state(
        &self,
        state: Compliance,
        after: Option<&ResourceKey>,
    ) -> impl Iterator<Item = Result<(ResourceKey, String), StoreError>> + '_ {
        let prefix = state_prefix(state);
        let from = match after {
            // Past every rule of that resource: its encoding ends with a separator, and no
            // rule name starts with 0xff.
            Some(resource) => {
                let mut past = prefix.clone();
                past.extend_from_slice(&keys::resource(resource));
                past.push(0xff);
                Bound::Included(past)
            }
            None => Bound::Included(prefix.clone()),
        };
        let to = keys::prefix_end(&prefix).map_or(Bound::Unbounded, Bound::Excluded);
        self.verdicts.range((from, to)).map(move |entry| {
            let (key, _) = entry?;
            key.get(2..)
                .and_then(keys::decode_resource)
                .and_then(|(resource, rule)| {
                    String::from_utf8(rule.to_vec()).ok().map(|r| (resource, r))
                })
                .ok_or_else(|| super::corrupt("verdict state key", "undecodable"))
        })
    }

    /// Whether any rule's latest verdict on `resource` is `state`.
    pub fn has_pair_in_state(
        &self,
        state: Compliance,
        resource: &ResourceKey,
    ) -> Result<bool, StoreError> {
        let mut prefix = state_prefix(state);
        prefix.extend_from_slice(&keys::resource(resource));
        Ok(self
            .verdicts
            .scan_prefix(prefix)
            .next()
            .transpose()?
            .is_some())
    }

    /// Builds the by-state index of latest verdicts if this store predates it (once).
    pub fn ensure_verdict_state_index(&self) -> Result<(), StoreError> {
        if self.verdicts.get(BY_STATE_BUILT)?.is_some() {
            return Ok(());
        }
        let _writer = self
            .verdict_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut batch = EngineBatch::default();
        let mut indexed = 0usize;
        for verdict in self.latest_verdicts(None) {
            let verdict = verdict?;
            batch.insert(
                state_key(
                    verdict.compliance,
                    &verdict.resource.key(),
                    &verdict.rule_name,
                ),
                [],
            );
            indexed += 1;
        }
        batch.insert(BY_STATE_BUILT, []);
        self.verdicts.apply_batch(batch)?;
        tracing::info!(indexed, "latest verdicts indexed by compliance");
        Ok(())
    }

    /// A resource's evaluations of versions captured from `from_ms` to `to_ms` (inclusive),
    /// grouped by rule, oldest first: only those records are decoded.
    pub fn verdict_history_between(
        &self,
        resource: &ResourceKey,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<VerdictRecord>, StoreError> {
        let mut records = Vec::new();
        for entry in self.verdicts.scan_prefix(history_prefix(resource)) {
            let (key, value) = entry?;
            // The key ends with the capture time and a sequence number, 8 bytes each.
            let time = key
                .len()
                .checked_sub(16)
                .and_then(|at| key.get(at..at + 8))
                .and_then(|bytes| <[u8; 8]>::try_from(bytes).ok())
                .map(keys::decode_time)
                .ok_or_else(|| super::corrupt("verdict record key", "too short"))?;
            if (from_ms..=to_ms).contains(&time) {
                records.push(decode("verdict record", &value)?);
            }
        }
        Ok(records)
    }

    /// Latest verdicts, of one rule or of all.
    pub fn latest_verdicts(
        &self,
        rule: Option<&str>,
    ) -> impl Iterator<Item = Result<LatestVerdict, StoreError>> + '_ {
        let mut prefix = vec![LATEST];
        if let Some(rule) = rule {
            prefix.extend_from_slice(rule.as_bytes());
            prefix.push(0);
        }
        self.verdicts
            .scan_prefix(prefix)
            .map(|entry| decode("latest verdict", &entry?.1))
    }

    /// The latest verdict of one rule on one resource.
    pub fn latest_verdict(
        &self,
        rule: &str,
        resource: &ResourceKey,
    ) -> Result<Option<LatestVerdict>, StoreError> {
        self.verdicts
            .get(latest_key(rule, resource))?
            .map(|v| decode("latest verdict", &v))
            .transpose()
    }

    /// The day's counts as stored, taken into `pending` (where this batch adds to them).
    fn pending_day<'p>(
        &self,
        pending: &'p mut HashMap<String, ComplianceDay>,
        day: String,
    ) -> Result<&'p mut ComplianceDay, StoreError> {
        use std::collections::hash_map::Entry;
        match pending.entry(day) {
            Entry::Occupied(known) => Ok(known.into_mut()),
            Entry::Vacant(new) => {
                let stored = self.compliance_day(new.key())?;
                Ok(new.insert(stored))
            }
        }
    }

    /// One UTC day's compliance movement (zeros when nothing moved).
    pub fn compliance_day(&self, day: &str) -> Result<ComplianceDay, StoreError> {
        Ok(self
            .verdicts
            .get(day_key(day))?
            .map(|v| decode("compliance day", &v))
            .transpose()?
            .unwrap_or_else(|| ComplianceDay {
                day: day.to_string(),
                ..ComplianceDay::default()
            }))
    }

    /// A rule's failures so far.
    pub fn rule_errors(&self, rule: &str) -> Result<RuleErrors, StoreError> {
        Ok(self
            .verdicts
            .get(errors_key(rule))?
            .map(|v| decode("rule errors", &v))
            .transpose()?
            .unwrap_or_default())
    }

    /// Forgets every verdict of a rule (when the rule is removed).
    pub fn delete_verdicts_of_rule(&self, rule: &str) -> Result<(), StoreError> {
        self.verdicts.remove(errors_key(rule))?;
        let mut prefix = vec![LATEST];
        prefix.extend_from_slice(rule.as_bytes());
        prefix.push(0);
        let mut left = 0;
        for entry in self.verdicts.scan_prefix(prefix) {
            let (key, value) = entry?;
            let verdict: LatestVerdict = decode("latest verdict", &value)?;
            if verdict.compliance == Compliance::NonCompliant {
                left += 1;
            }
            self.verdicts.remove(state_key(
                verdict.compliance,
                &verdict.resource.key(),
                &verdict.rule_name,
            ))?;
            self.verdicts.remove(key)?;
        }
        if left > 0 {
            let _writer = self
                .verdict_writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let mut day = self.compliance_day(&day_of(&crate::model::now_millis()))?;
            day.left_non_compliant += left;
            self.verdicts
                .insert(day_key(&day.day), encode("compliance day", &day)?)?;
        }
        Ok(())
    }
}
