//! The accounts a server sweeps and the resources waiting to be described again: shared by
//! the collector worker, the API and the ingest follow-up (which queues resources that API
//! calls named), and depending on none of them.

use super::Wake;
use crate::collector::aws::AwsClient;
use crate::collector::trail::TrailSource;
use crate::collector::{redescribe_target, COLLECTED_TYPES};
use crate::model::{ResourceKey, TouchedResource};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, OnceLock};
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

/// A call made this long before it arrives (as in a trail's log file, delivered minutes after
/// the calls it holds) belongs to a burst that is over: its resource is described at once.
pub const SETTLED_AFTER: Duration = Duration::from_secs(60);

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
    /// Its CloudTrail trail's delivery, read as files arrive.
    pub trail: Option<AccountTrail>,
    /// The account id, learnt once (the credentials' account does not change).
    pub(super) account_id: OnceLock<String>,
    /// Serialises this account's sweeps (the worker's and those asked for by the API).
    pub(super) sweeping: Mutex<()>,
    /// What is known about its sweeps; locked only briefly, so that status, re-describes and
    /// remediation never wait for a sweep.
    pub(super) state: Mutex<AccountState>,
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
    /// Its trail's reading, when it has a trail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trail: Option<TrailState>,
}

/// How an account's trail is read.
#[derive(Debug)]
pub struct AccountTrail {
    /// Where the files are.
    pub source: TrailSource,
    /// Time between looks for new files.
    pub poll: Duration,
    /// SQS queue notified of new files, which wakes the reader at once.
    pub queue_url: Option<String>,
    /// Set when a notification came: look now.
    pub(super) notified: AtomicBool,
}

impl AccountTrail {
    /// Whether a notification asked for a look now.
    pub fn is_notified(&self) -> bool {
        self.notified.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// A trail looked at every `poll`, and at once on a message of `queue_url`.
    pub fn new(source: TrailSource, poll: Duration, queue_url: Option<String>) -> AccountTrail {
        AccountTrail {
            source,
            poll,
            queue_url,
            notified: AtomicBool::new(false),
        }
    }
}

/// What is known about reading an account's trail since the server started.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TrailState {
    /// `s3://bucket/prefix` of the account's files.
    pub location: String,
    /// Seconds between looks.
    pub poll_seconds: u64,
    /// Whether an SQS queue wakes the reader.
    pub notified_by_queue: bool,
    /// Files read since the server started.
    pub files_read: u64,
    /// When it last looked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_look_at: Option<String>,
    /// Why the last look failed, if it did (the next look tries again from the same file).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
    /// Records (or whole files) rejected since the server started: read, reported, passed.
    pub rejected: u64,
    /// The last of them, with its file and place.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_rejected: Option<String>,
}

impl CollectorAccount {
    /// An account to sweep every `interval`, and whose trail to read, if it has one.
    pub fn new(
        name: String,
        client: AwsClient,
        request: CollectRequest,
        interval: Duration,
        trail: Option<AccountTrail>,
    ) -> CollectorAccount {
        let state = AccountState {
            name: name.clone(),
            regions: request.regions.clone(),
            resource_types: request.types.clone(),
            interval_seconds: interval.as_secs(),
            trail: trail.as_ref().map(|t| TrailState {
                location: format!("s3://{}/{}", t.source.bucket, t.source.prefix),
                poll_seconds: t.poll.as_secs(),
                notified_by_queue: t.queue_url.is_some(),
                ..TrailState::default()
            }),
            ..AccountState::default()
        };
        CollectorAccount {
            name,
            client,
            request,
            interval,
            trail,
            account_id: OnceLock::new(),
            sweeping: Mutex::new(()),
            state: Mutex::new(state),
        }
    }

    /// What is known about its sweeps.
    pub fn state(&self) -> AccountState {
        match self.state.lock() {
            Ok(state) => state.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }
}

/// The accounts, the resources waiting to be described again, and the workers' wake-up calls.
#[derive(Debug, Default)]
pub struct Collector {
    /// In configuration order.
    pub accounts: Vec<Arc<CollectorAccount>>,
    /// Wakes the worker that follows changes (calls to follow up, trail files notified, or
    /// it should stop).
    pub wake: Wake,
    /// Wakes the worker that sweeps (it should stop).
    pub sweep_wake: Wake,
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
    pub fn note_calls<'t>(
        &self,
        touched: impl IntoIterator<Item = &'t TouchedResource>,
        delay: Duration,
    ) {
        if self.accounts.is_empty() {
            return;
        }
        let due = Instant::now() + delay;
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
            .find(|a| a.account_id.get().is_some_and(|id| id == account_id))
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

    /// Notes that new files of an account's trail were announced: its trail is read at once.
    pub fn notify_trail(&self, account: &CollectorAccount) {
        if let Some(trail) = &account.trail {
            trail
                .notified
                .store(true, std::sync::atomic::Ordering::SeqCst);
            self.wake.notify();
        }
    }
}
