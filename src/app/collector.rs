//! The accounts a server sweeps by itself, shared by the collector worker (on each account's
//! interval) and the API (`POST /v1/collector/sweeps`, `GET /v1/collector/status`).

use super::collect::{is_deletion, CollectRequest, SweepReport};
use super::ingest::IngestReport;
use super::{App, AppError, Wake};
use crate::collector::aws::AwsClient;
use crate::collector::{describe_one, COLLECTED_TYPES};
use crate::ingest::{ParsedRecord, RecordOutcome};
use crate::model::{format_time, ResourceKey, ScopeSweep, Timestamp, TouchedResource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// A resource named by API calls is described again this long after the last of them, so a
/// burst of calls (a console edit makes several) costs one describe.
pub const REDESCRIBE_DELAY: Duration = Duration::from_secs(1);

/// One account the server sweeps: its client and what to sweep, how often.
#[derive(Debug)]
pub struct CollectorAccount {
    /// Its name in the configuration.
    pub name: String,
    /// Signs for the account.
    pub client: AwsClient,
    /// Regions and types.
    pub request: CollectRequest,
    /// Time between sweeps.
    pub interval: Duration,
    /// Serialises this account's sweeps (the worker's and those asked for by the API).
    sweeping: Mutex<AccountState>,
}

/// What is known about an account's sweeps so far.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AccountState {
    /// The account's name in the configuration.
    pub name: String,
    /// The account id, once a sweep learnt it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    /// Regions swept.
    pub regions: Vec<String>,
    /// Resource types swept.
    pub resource_types: Vec<String>,
    /// Seconds between sweeps.
    pub interval_seconds: u64,
    /// Sweeps finished since the server started.
    pub sweeps: u64,
    /// When the last sweep started.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_sweep_at: Option<String>,
    /// How long it took, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_duration_ms: Option<u64>,
    /// Why the last sweep could not run at all (its scopes' own errors are in the scopes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

impl CollectorAccount {
    /// An account to sweep every `interval`.
    pub fn new(
        name: String,
        client: AwsClient,
        request: CollectRequest,
        interval: Duration,
    ) -> CollectorAccount {
        let state = AccountState {
            name: name.clone(),
            regions: request.regions.clone(),
            resource_types: request.types.clone(),
            interval_seconds: interval.as_secs(),
            ..AccountState::default()
        };
        CollectorAccount {
            name,
            client,
            request,
            interval,
            sweeping: Mutex::new(state),
        }
    }

    /// What is known about its sweeps.
    pub fn state(&self) -> AccountState {
        match self.sweeping.lock() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The accounts, the resources waiting to be described again, and the worker's wake-up call.
#[derive(Debug, Default)]
pub struct Collector {
    /// In configuration order.
    pub accounts: Vec<Arc<CollectorAccount>>,
    /// Wakes the worker (work arrived, or it should stop).
    pub wake: Wake,
    /// Resources named by API calls → when to describe them again.
    pending: Mutex<BTreeMap<ResourceKey, Instant>>,
}

impl Collector {
    /// A collector of these accounts, with nothing pending.
    pub fn new(accounts: Vec<Arc<CollectorAccount>>) -> Collector {
        Collector {
            accounts,
            ..Collector::default()
        }
    }

    /// Notes the resources successful calls changed: each of a type the collector describes,
    /// in a configured account, is described again [`REDESCRIBE_DELAY`] after its last call.
    pub fn note_calls<'t>(&self, touched: impl IntoIterator<Item = &'t TouchedResource>) {
        if self.accounts.is_empty() {
            return;
        }
        let due = Instant::now() + REDESCRIBE_DELAY;
        let mut noted = false;
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for resource in touched {
            if !COLLECTED_TYPES.contains(&resource.resource_type.as_str())
                || resource.identifier.starts_with("arn:")
                || !self.has_account(&resource.account_id)
            {
                continue;
            }
            let key = ResourceKey::new(
                resource.account_id.clone(),
                resource.region.clone(),
                resource.resource_type.clone(),
                resource.identifier.clone(),
            );
            pending.insert(key, due);
            noted = true;
        }
        drop(pending);
        if noted {
            self.wake.notify();
        }
    }

    /// Whether a configured account has this id (known once it was swept).
    fn has_account(&self, account_id: &str) -> bool {
        self.account(account_id).is_some()
    }

    /// The configured account with this id.
    fn account(&self, account_id: &str) -> Option<&Arc<CollectorAccount>> {
        self.accounts
            .iter()
            .find(|a| a.state().account_id.as_deref() == Some(account_id))
    }

    /// Takes the resources due to be described again by now.
    fn take_due(&self, now: Instant) -> Vec<ResourceKey> {
        let mut pending = self
            .pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let due: Vec<ResourceKey> = pending
            .iter()
            .filter(|(_, at)| **at <= now)
            .map(|(key, _)| key.clone())
            .collect();
        for key in &due {
            pending.remove(key);
        }
        due
    }

    /// When the next resource is due to be described again.
    pub fn next_redescribe(&self) -> Option<Instant> {
        self.pending
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .values()
            .min()
            .copied()
    }
}

/// What the collector did and is set to do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectorStatus {
    /// The configured accounts.
    pub accounts: Vec<AccountState>,
    /// The last sweep of every scope ever swept (by `collect` too), by account, region, type.
    pub scopes: Vec<ScopeSweep>,
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
        })
    }

    /// Sweeps one configured account now (waiting for a sweep of it already running), and
    /// notes the outcome in its state.
    pub fn sweep_account(&self, account: &CollectorAccount) -> Result<SweepReport, AppError> {
        let mut state = account
            .sweeping
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let started: Timestamp = chrono::Utc::now();
        let outcome = self.collect(&account.client, &account.request);
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
            Ok(Some(described)) => ParsedRecord {
                location: key.resource_id.clone(),
                outcome: RecordOutcome::Item(Box::new(described.item)),
                warnings: described.warnings,
            },
            Ok(None) => match self.store().latest_state(key)? {
                Some(state) if !is_deletion(&state.status) => {
                    self.deletion_record(key, state.latest.version, now)?
                }
                // Never recorded, or already deleted: nothing to say.
                _ => return Ok(None),
            },
            Err(e) => {
                tracing::warn!(resource = %key.resource_id, error = %e, "re-describe failed");
                return Ok(None);
            }
        };
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
