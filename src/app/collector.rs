//! The server's collector use cases: its status, a sweep of a configured account now, and
//! describing again the resources API calls named.

pub use super::accounts::{
    AccountState, AccountTrail, Collector, CollectorAccount, TrailState, REDESCRIBE_DELAY,
};
use super::collect::{is_deletion, SweepReport};
use super::ingest::IngestReport;
use super::{App, AppError};
use crate::collector::{describe_one, named_by_name};
use crate::model::{format_time, ResourceKey, ScopeSweep, Timestamp, TrailCursor};
use crate::store::LatestState;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::Instant;

/// What the collector did and is set to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectorStatus {
    /// The configured accounts.
    pub accounts: Vec<AccountState>,
    /// The last sweep of every scope ever swept (by `collect` too), by account, region, type.
    pub scopes: Vec<ScopeSweep>,
    /// How far each (account, region) of a trail was read, by account and region.
    pub trails: Vec<TrailCursor>,
}

impl App {
    /// Sets the accounts this server sweeps.
    pub fn set_collector(&self, collector: Collector) {
        let mut slot = self
            .inner
            .collector
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *slot = Arc::new(collector);
    }

    /// The accounts this server sweeps (none unless configured).
    pub fn collector(&self) -> Arc<Collector> {
        self.inner
            .collector
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// The configured accounts and the last sweep of every scope.
    pub fn collector_status(&self) -> Result<CollectorStatus, AppError> {
        Ok(CollectorStatus {
            accounts: self
                .collector()
                .accounts
                .iter()
                .map(|a| a.state())
                .collect(),
            scopes: self.store().scope_sweeps()?,
            trails: self.store().trail_cursors()?,
        })
    }

    /// Sweeps one configured account now (waiting for a sweep of it already running), and
    /// notes the outcome in its state.
    pub fn sweep_account(&self, account: &CollectorAccount) -> Result<SweepReport, AppError> {
        let _sweeping = account
            .sweeping
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let started: Timestamp = chrono::Utc::now();
        let outcome = match account.account_id.get() {
            Some(id) => Ok(id.clone()),
            None => self
                .account_of(&account.client, &account.request)
                .map(|id| account.account_id.get_or_init(|| id).clone()),
        }
        .and_then(|id| self.collect_account(&account.client, &id, &account.request));
        let mut state = account
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.last_sweep_at = Some(format_time(&started));
        state.sweeps += 1;
        match &outcome {
            Ok(report) => {
                state.account_id = Some(report.account_id.clone());
                state.last_duration_ms = Some(report.duration_ms);
                state.last_error = None;
            }
            Err(e) => {
                state.last_duration_ms = None;
                state.last_error = Some(e.to_string());
                tracing::warn!(account = %account.name, error = %e, "collector sweep failed");
            }
        }
        drop(state);
        outcome
    }

    /// Sweeps the configured accounts now: the one named, or all.
    pub fn sweep_now(&self, name: Option<&str>) -> Result<Vec<SweepReport>, AppError> {
        let collector = self.collector();
        let accounts: Vec<&Arc<CollectorAccount>> = collector
            .accounts
            .iter()
            .filter(|a| name.is_none_or(|n| a.name == n))
            .collect();
        if accounts.is_empty() {
            return Err(match name {
                Some(n) => AppError::NotFound(format!(
                    "no collector account named {n:?} (configured: {})",
                    names(&collector)
                )),
                None => AppError::Conflict(
                    "no collector account is configured ([[collector.accounts]] in the server's file)"
                        .into(),
                ),
            });
        }
        accounts
            .into_iter()
            .map(|a| self.sweep_account(a))
            .collect()
    }
}

impl App {
    /// Describes again every resource due (named by API calls a moment ago) and records what
    /// it is now, or its deletion; returns how many were described.
    pub fn redescribe_due(&self) -> Result<usize, AppError> {
        let collector = self.collector();
        let due = collector.take_due(Instant::now());
        for key in &due {
            let Some(account) = collector.account(&key.account_id) else {
                continue;
            };
            self.redescribe(account, key)?;
        }
        Ok(due.len())
    }

    /// Describes one resource of an account again and records it (a new version only if it
    /// changed), or its deletion if AWS no longer has it. Cloud errors are logged, not raised:
    /// the next sweep catches up.
    pub fn redescribe(
        &self,
        account: &CollectorAccount,
        key: &ResourceKey,
    ) -> Result<Option<IngestReport>, AppError> {
        let now = chrono::Utc::now();
        let record = match describe_one(
            &account.client,
            &key.region,
            &key.account_id,
            &key.resource_type,
            &key.resource_id,
            now,
        ) {
            Ok(Some(described)) => described.into_record(),
            Ok(None) => match self.recorded(key)? {
                Some((recorded, state)) if !is_deletion(&state.status) => {
                    self.deletion_record(&recorded, state.latest.version, now)?
                }
                // Never recorded, or already deleted: nothing to say.
                _ => return Ok(None),
            },
            Err(e) => {
                tracing::warn!(resource = %key.resource_id, error = %e, "re-describe failed");
                return Ok(None);
            }
        };
        crate::metrics::collector_redescribe();
        let source = format!("collector {} {} re-describe", key.account_id, key.region);
        let report = self.ingest_records(&source, vec![record], true)?;
        tracing::info!(
            resource = %key.resource_id,
            new_versions = report.new_versions,
            deleted = report.deleted,
            "re-described after an API call"
        );
        Ok(Some(report))
    }
}

impl App {
    /// The recorded resource a re-describe key names, with its latest state. A key of a type
    /// named by name (IAM's) holds the name, while the resource is recorded under its unique
    /// id: it is found by its `resourceName`, a live one before a deleted one (a name may be
    /// used again after a deletion).
    fn recorded(&self, key: &ResourceKey) -> Result<Option<(ResourceKey, LatestState)>, AppError> {
        if !named_by_name(&key.resource_type) {
            return Ok(self
                .store()
                .latest_state(key)?
                .map(|state| (key.clone(), state)));
        }
        let mut found: Option<(ResourceKey, LatestState)> = None;
        for summary in self.store().resources(Some(&key.resource_type)) {
            let summary = summary?;
            let same = summary.key.account_id == key.account_id
                && summary.key.region == key.region
                && (summary.key.resource_id == key.resource_id
                    || summary.state.resource_name.as_deref() == Some(key.resource_id.as_str()));
            if !same {
                continue;
            }
            let live = !is_deletion(&summary.state.status);
            if live || found.is_none() {
                found = Some((summary.key, summary.state));
            }
            if live {
                break;
            }
        }
        Ok(found)
    }
}

fn names(collector: &Collector) -> String {
    if collector.accounts.is_empty() {
        return "none".into();
    }
    collector
        .accounts
        .iter()
        .map(|a| a.name.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}
