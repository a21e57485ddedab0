//! Remediation configurations, the durable job queue, exceptions and task run times
//! (`remediation` tree).
//!
//! Keys:
//! - `c rule` → [`RemediationConfig`]
//! - `j id` → [`RemediationJob`] (engine ids, big-endian, so listing is in creation order)
//! - `k rule \0 resource version` → job id: one job per (rule, resource, configuration version)
//! - `q due id` → (): queued jobs by due time, so "what is due" is a range scan
//! - `p id` → (): jobs with an attempt running, retried after a crash
//! - `w rule \0 resource` → job id: the succeeded job waiting for the next version's verdict
//! - `r resource id` → (): a resource's jobs, for its timeline
//! - `x rule \0 resource` → [`RemediationException`]
//! - `s name` → last run time of a scheduled task
//!
//! Every job write goes through [`Store::save_job`], which moves the index entries with the
//! state in one atomic batch.

use super::kv::{Batch as _, Db as _, Tree as _};
use super::{
    corrupt, decode_json as decode, encode_json as encode, keys, EngineBatch, Store, StoreError,
};
use crate::model::JobState;
use crate::model::{RemediationConfig, RemediationException, RemediationJob};
use crate::model::{ResourceKey, Timestamp};

const CONFIG: u8 = b'c';
const JOB: u8 = b'j';
const JOB_KEY: u8 = b'k';
pub(super) const QUEUE: u8 = b'q';
const RUNNING: u8 = b'p';
const WAITING: u8 = b'w';
const BY_RESOURCE: u8 = b'r';
const EXCEPTION: u8 = b'x';
const LAST_RUN: u8 = b's';

pub(super) fn named(family: u8, name: &str) -> Vec<u8> {
    let mut out = vec![family];
    out.extend_from_slice(name.as_bytes());
    out
}

fn rule_resource(family: u8, rule: &str, resource: &ResourceKey) -> Vec<u8> {
    let mut out = vec![family];
    out.extend_from_slice(rule.as_bytes());
    out.push(0);
    out.extend_from_slice(&keys::resource(resource));
    out
}

/// `family id`: ids big-endian, so a family lists in id order.
pub(super) fn id_key(family: u8, id: u64) -> Vec<u8> {
    let mut out = vec![family];
    out.extend_from_slice(&id.to_be_bytes());
    out
}

fn job_key(id: u64) -> Vec<u8> {
    id_key(JOB, id)
}

fn queue_key(due: Timestamp, id: u64) -> Vec<u8> {
    let mut out = vec![QUEUE];
    out.extend_from_slice(&keys::time(due.timestamp_millis()));
    out.extend_from_slice(&id.to_be_bytes());
    out
}

fn running_key(id: u64) -> Vec<u8> {
    id_key(RUNNING, id)
}

fn by_resource_key(resource: &ResourceKey, id: u64) -> Vec<u8> {
    let mut out = keys::family_resource(BY_RESOURCE, resource);
    out.extend_from_slice(&id.to_be_bytes());
    out
}

fn version_key(rule: &str, resource: &ResourceKey, version: u64) -> Vec<u8> {
    let mut out = rule_resource(JOB_KEY, rule, resource);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

pub(super) fn id_from(bytes: &[u8]) -> Result<u64, StoreError> {
    let tail: [u8; 8] = bytes
        .get(bytes.len().saturating_sub(8)..)
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| corrupt("remediation index", "short key"))?;
    Ok(u64::from_be_bytes(tail))
}

/// The index entries a job has in a given state.
fn index_entries(job: &RemediationJob) -> Vec<Vec<u8>> {
    let resource = job.resource.key();
    let mut out = vec![by_resource_key(&resource, job.id)];
    match job.state {
        JobState::Queued => {
            if let Some(due) = job.next_attempt_at {
                out.push(queue_key(due, job.id));
            }
        }
        JobState::InProgress => out.push(running_key(job.id)),
        JobState::Succeeded => out.push(rule_resource(WAITING, &job.rule_name, &resource)),
        _ => {}
    }
    out
}

impl Store {
    /// Saves a rule's remediation configuration.
    pub fn put_remediation_config(&self, config: &RemediationConfig) -> Result<(), StoreError> {
        self.remediation.insert(
            named(CONFIG, &config.rule_name),
            encode("remediation configuration", config)?,
        )?;
        Ok(())
    }

    /// A rule's remediation configuration.
    pub fn remediation_config(&self, rule: &str) -> Result<Option<RemediationConfig>, StoreError> {
        self.remediation
            .get(named(CONFIG, rule))?
            .map(|v| decode("remediation configuration", &v))
            .transpose()
    }

    /// Every remediation configuration, by rule name.
    pub fn remediation_configs(&self) -> Result<Vec<RemediationConfig>, StoreError> {
        self.remediation
            .scan_prefix([CONFIG])
            .map(|entry| decode("remediation configuration", &entry?.1))
            .collect()
    }

    /// Removes a rule's remediation configuration; queued jobs are cancelled when they come due.
    pub fn delete_remediation_config(&self, rule: &str) -> Result<bool, StoreError> {
        Ok(self.remediation.remove(named(CONFIG, rule))?)
    }

    /// The job already started for (rule, resource, version), if any.
    pub fn job_for_version(
        &self,
        rule: &str,
        resource: &ResourceKey,
        version: u64,
    ) -> Result<Option<RemediationJob>, StoreError> {
        match self.remediation.get(version_key(rule, resource, version))? {
            Some(id) => self.job(id_from(&id)?),
            None => Ok(None),
        }
    }

    /// Creates the job for (rule, resource, version) unless one exists; `make` gets the new id.
    /// Returns the new job, or `None` when there already was one.
    pub fn create_job_once(
        &self,
        rule: &str,
        resource: &ResourceKey,
        version: u64,
        make: impl FnOnce(u64) -> RemediationJob,
    ) -> Result<Option<RemediationJob>, StoreError> {
        let _writer = self.lock_remediation_writes();
        let key = version_key(rule, resource, version);
        if self.remediation.contains_key(&key)? {
            return Ok(None);
        }
        let job = make(self.db.generate_id()?);
        let mut batch = EngineBatch::default();
        batch.insert(key, job.id.to_be_bytes());
        batch.insert(job_key(job.id), encode("remediation job", &job)?);
        for entry in index_entries(&job) {
            batch.insert(entry, job.id.to_be_bytes());
        }
        self.remediation.apply_batch(batch)?;
        drop(_writer);
        Ok(Some(job))
    }

    /// Marks (rule, resource, version) as handled by an existing job, so no new job starts for it.
    pub fn reserve_job_version(
        &self,
        rule: &str,
        resource: &ResourceKey,
        version: u64,
        job_id: u64,
    ) -> Result<(), StoreError> {
        self.remediation
            .insert(version_key(rule, resource, version), job_id.to_be_bytes())?;
        Ok(())
    }

    /// One job.
    pub fn job(&self, id: u64) -> Result<Option<RemediationJob>, StoreError> {
        self.remediation
            .get(job_key(id))?
            .map(|v| decode("remediation job", &v))
            .transpose()
    }

    /// Writes a job and moves its index entries to match its state, atomically and durably
    /// (flushed: an attempt is marked started before the action runs, whatever happens next).
    pub fn save_job(&self, job: &RemediationJob) -> Result<(), StoreError> {
        let _writer = self.lock_remediation_writes();
        let mut batch = EngineBatch::default();
        if let Some(old) = self.job(job.id)? {
            for entry in index_entries(&old) {
                batch.remove(entry);
            }
        }
        batch.insert(job_key(job.id), encode("remediation job", job)?);
        for entry in index_entries(job) {
            batch.insert(entry, job.id.to_be_bytes());
        }
        self.remediation.apply_batch(batch)?;
        self.db.flush()?;
        Ok(())
    }

    /// Queued jobs due at or before `now`, soonest first, at most `limit`.
    pub fn due_jobs(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<RemediationJob>, StoreError> {
        let end = queue_key(now, u64::MAX);
        let mut out = Vec::new();
        for entry in self.remediation.range(vec![QUEUE]..=end) {
            if out.len() >= limit {
                break;
            }
            let (key, _) = entry?;
            if let Some(job) = self.job(id_from(&key)?)? {
                out.push(job);
            }
        }
        Ok(out)
    }

    /// When the soonest queued job is due.
    pub fn next_due(&self) -> Result<Option<Timestamp>, StoreError> {
        self.first_due(QUEUE)
    }

    /// The due time of the first entry of a queue family (`family due id` keys).
    pub(super) fn first_due(&self, family: u8) -> Result<Option<Timestamp>, StoreError> {
        let Some(entry) = self.remediation.scan_prefix([family]).next() else {
            return Ok(None);
        };
        let (key, _) = entry?;
        let time: [u8; 8] = key
            .get(1..9)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| corrupt("remediation queue", "short key"))?;
        Ok(chrono::DateTime::from_timestamp_millis(keys::decode_time(
            time,
        )))
    }

    /// Jobs with an attempt marked running.
    pub fn running_jobs(&self) -> Result<Vec<RemediationJob>, StoreError> {
        let mut out = Vec::new();
        for entry in self.remediation.scan_prefix([RUNNING]) {
            if let Some(job) = self.job(id_from(&entry?.0)?)? {
                out.push(job);
            }
        }
        Ok(out)
    }

    /// The succeeded job of (rule, resource) waiting for the next version's verdict.
    pub fn job_awaiting_verification(
        &self,
        rule: &str,
        resource: &ResourceKey,
    ) -> Result<Option<RemediationJob>, StoreError> {
        match self
            .remediation
            .get(rule_resource(WAITING, rule, resource))?
        {
            Some(id) => self.job(id_from(&id)?),
            None => Ok(None),
        }
    }

    /// Every job, oldest first.
    pub fn jobs(&self) -> impl DoubleEndedIterator<Item = Result<RemediationJob, StoreError>> + '_ {
        self.remediation
            .scan_prefix([JOB])
            .map(|entry| decode("remediation job", &entry?.1))
    }

    /// A resource's jobs, oldest first.
    pub fn jobs_of_resource(
        &self,
        resource: &ResourceKey,
    ) -> Result<Vec<RemediationJob>, StoreError> {
        let mut out = Vec::new();
        for entry in self
            .remediation
            .scan_prefix(keys::family_resource(BY_RESOURCE, resource))
        {
            if let Some(job) = self.job(id_from(&entry?.0)?)? {
                out.push(job);
            }
        }
        Ok(out)
    }

    /// Adds or replaces the exception of (rule, resource).
    pub fn put_exception(&self, exception: &RemediationException) -> Result<(), StoreError> {
        self.remediation.insert(
            rule_resource(EXCEPTION, &exception.rule_name, &exception.resource.key()),
            encode("remediation exception", exception)?,
        )?;
        Ok(())
    }

    /// The exception of (rule, resource), active or expired.
    pub fn exception(
        &self,
        rule: &str,
        resource: &ResourceKey,
    ) -> Result<Option<RemediationException>, StoreError> {
        self.remediation
            .get(rule_resource(EXCEPTION, rule, resource))?
            .map(|v| decode("remediation exception", &v))
            .transpose()
    }

    /// Every exception, active or expired.
    pub fn exceptions(&self) -> Result<Vec<RemediationException>, StoreError> {
        self.remediation
            .scan_prefix([EXCEPTION])
            .map(|entry| decode("remediation exception", &entry?.1))
            .collect()
    }

    /// The exceptions on one resource, any rule.
    pub fn exceptions_of_resource(
        &self,
        resource: &ResourceKey,
    ) -> Result<Vec<RemediationException>, StoreError> {
        // Keyed by rule first (the lookup on the hot path); a resource's few are filtered here.
        Ok(self
            .exceptions()?
            .into_iter()
            .filter(|e| e.resource.key() == *resource)
            .collect())
    }

    /// Removes the exception of (rule, resource).
    pub fn delete_exception(&self, rule: &str, resource: &ResourceKey) -> Result<bool, StoreError> {
        Ok(self
            .remediation
            .remove(rule_resource(EXCEPTION, rule, resource))?)
    }

    /// When a scheduled task last ran (or was set up).
    pub fn last_run(&self, task: &str) -> Result<Option<Timestamp>, StoreError> {
        let Some(v) = self.remediation.get(named(LAST_RUN, task))? else {
            return Ok(None);
        };
        let bytes: [u8; 8] = v
            .as_ref()
            .try_into()
            .map_err(|_| corrupt("task run time", "not 8 bytes"))?;
        Ok(chrono::DateTime::from_timestamp_millis(i64::from_be_bytes(
            bytes,
        )))
    }

    /// Records when a scheduled task ran.
    pub fn set_last_run(&self, task: &str, at: Timestamp) -> Result<(), StoreError> {
        self.remediation
            .insert(named(LAST_RUN, task), at.timestamp_millis().to_be_bytes())?;
        Ok(())
    }

    pub(super) fn lock_remediation_writes(&self) -> std::sync::MutexGuard<'_, ()> {
        // A poisoned lock only means another writer panicked; the tree itself is consistent.
        self.remediation_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
