//! The accounts a server sweeps and the resources waiting to be described again: shared by
//! the collector worker, the API and the ingest follow-up (which queues resources that API
//! calls named), and depending on none of them.

use super::Wake;
use crate::collector::aws::AwsClient;
use crate::collector::{redescribe_target, COLLECTED_TYPES};
use crate::model::{ResourceKey, TouchedResource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to sweep.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CollectRequest {
    /// Regions, in order.
    pub regions: Vec<String>,
    /// Resource types (known spellings); all the collector describes when empty. They are
    /// swept in the collector's order ([`COLLECTED_TYPES`]), not the order given.
    pub types: Vec<String>,
    /// Judge new versions with the enabled rules.
    pub evaluate: bool,
}

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
    pub(super) sweeping: Mutex<AccountState>,
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
    /// in a configured account, is described again [`REDESCRIBE_DELAY`] after its last call,
    /// keyed by what the collector describes it by (see `collector::redescribe_target`).
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
                || !self.has_account(&resource.account_id)
            {
                continue;
            }
            // IAM calls name a user by name, a policy by ARN: the key holds what the
            // collector describes it by, which for IAM is not the recorded (unique) id.
            let Some((region, identifier)) = redescribe_target(
                &resource.resource_type,
                &resource.identifier,
                &resource.region,
            ) else {
                continue;
            };
            let key = ResourceKey::new(
                resource.account_id.clone(),
                region,
                resource.resource_type.clone(),
                identifier,
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
    pub(super) fn account(&self, account_id: &str) -> Option<&Arc<CollectorAccount>> {
        self.accounts
            .iter()
            .find(|a| a.state().account_id.as_deref() == Some(account_id))
    }

    /// Takes the resources due to be described again by now.
    pub(super) fn take_due(&self, now: Instant) -> Vec<ResourceKey> {
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
