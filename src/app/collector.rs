//! The accounts a server sweeps by itself, shared by the collector worker (on each account's
//! interval) and the API (`POST /v1/collector/sweeps`, `GET /v1/collector/status`).

use super::collect::{CollectRequest, SweepReport};
use super::{App, AppError, Wake};
use crate::collector::aws::AwsClient;
use crate::model::{format_time, ScopeSweep, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use std::time::Duration;

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

/// The accounts, and the worker's wake-up call.
#[derive(Debug, Default)]
pub struct Collector {
    /// In configuration order.
    pub accounts: Vec<Arc<CollectorAccount>>,
    /// Wakes the worker (its accounts changed, or it should stop).
    pub wake: Wake,
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
