//! The collector's workers: one sweeps each configured account when its interval has passed
//! (the first time at start); one follows changes (describes again what API calls named, and
//! reads new trail files on each account's poll interval or at once when notified); one per
//! trail queue waits for its notifications. And the configured accounts built from the file.

use crate::app::collect::CollectRequest;
use crate::app::collector::{AccountTrail, Collector, CollectorAccount};
use crate::app::{App, AppError};
use crate::collector::aws::{
    AwsClient, ClientSettings, CredentialChain, CredentialSettings, Endpoints,
};
use crate::collector::trail::TrailSource;
use crate::config_file::{parse_sweep_interval, parse_trail_poll, CollectorSettings};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Time between sweeps of an account when the file sets none.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(15 * 60);

/// Time between looks for new trail files when the file sets none.
pub const DEFAULT_TRAIL_POLL: Duration = Duration::from_secs(60);

/// The start of CloudTrail's keys when the file sets no prefix.
pub const DEFAULT_TRAIL_PREFIX: &str = "AWSLogs/";

/// The accounts of the file's `[collector]`, each with its credentials loaded and its types
/// checked. An account that cannot be set up stops the server with its name.
pub fn collector_from_file(app: &App, settings: &CollectorSettings) -> Result<Collector, AppError> {
    let default_interval = match &settings.interval {
        Some(text) => parse_sweep_interval(text)
            .map_err(|m| AppError::Invalid(format!("collector.interval: {m}")))?,
        None => DEFAULT_SWEEP_INTERVAL,
    };
    let mut accounts = Vec::new();
    for account in &settings.accounts {
        let at = |what: String| {
            AppError::Invalid(format!("collector account {:?}: {what}", account.name))
        };
        let credentials = CredentialChain::load(&CredentialSettings {
            profile: account.profile.clone(),
            role_arn: account.role_arn.clone(),
            external_id: account.external_id.clone(),
        })
        .map_err(|e| at(e.to_string()))?;
        let regions = if account.regions.is_empty() {
            match credentials.default_region() {
                Some(region) => vec![region.to_string()],
                None => return Err(at(
                    "no regions, and the credential chain names none (set regions, or AWS_REGION)"
                        .into(),
                )),
            }
        } else {
            account.regions.clone()
        };
        let types = app
            .collected_types(&account.types)
            .map_err(|e| at(e.to_string()))?;
        let interval = match &account.interval {
            Some(text) => parse_sweep_interval(text).map_err(at)?,
            None => default_interval,
        };
        let endpoints = Endpoints::from_environment(
            account
                .endpoint_url
                .clone()
                .or_else(|| settings.endpoint_url.clone()),
            BTreeMap::new(),
        );
        let client = AwsClient::new(credentials, endpoints, ClientSettings::default());
        let trail = match &account.trail {
            None => None,
            Some(trail) => Some(AccountTrail::new(
                TrailSource {
                    bucket: trail.bucket.clone(),
                    prefix: trail
                        .prefix
                        .clone()
                        .unwrap_or_else(|| DEFAULT_TRAIL_PREFIX.to_string()),
                    region: trail.region.clone().unwrap_or_else(|| regions[0].clone()),
                },
                match &trail.poll {
                    Some(text) => {
                        parse_trail_poll(text).map_err(|m| at(format!("trail.poll: {m}")))?
                    }
                    None => DEFAULT_TRAIL_POLL,
                },
                trail.queue_url.clone(),
            )),
        };
        accounts.push(std::sync::Arc::new(CollectorAccount::new(
            account.name.clone(),
            client,
            CollectRequest {
                regions,
                types,
                evaluate: true,
            },
            interval,
            trail,
        )));
    }
    Ok(Collector::new(accounts))
}

/// Until `stop`: sweeps each account when its interval has passed (the first time at once).
pub fn run_sweeps(app: &App, stop: &AtomicBool, sweeps: &AtomicUsize) {
    let collector = app.collector();
    if collector.accounts.is_empty() {
        return;
    }
    let mut due: Vec<Instant> = vec![Instant::now(); collector.accounts.len()];
    while !stop.load(Ordering::SeqCst) {
        for (account, next) in collector.accounts.iter().zip(due.iter_mut()) {
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if *next <= Instant::now() {
                // Failures are logged and kept in the account's state; the next sweep retries.
                let _ = app.sweep_account(account);
                sweeps.fetch_add(1, Ordering::SeqCst);
                *next = Instant::now() + account.interval;
            }
        }
        let earliest = due.iter().min().copied().unwrap_or_else(Instant::now);
        collector
            .sweep_wake
            .wait(earliest.saturating_duration_since(Instant::now()));
    }
}

/// Until `stop`: describes again the resources API calls named (a second after the last
/// call), and reads each account's new trail files when its poll interval has passed or its
/// queue announced some. Never waits for a sweep.
pub fn run_follower(app: &App, stop: &AtomicBool) {
    let collector = app.collector();
    if collector.accounts.is_empty() {
        return;
    }
    let mut looks: Vec<Instant> = vec![Instant::now(); collector.accounts.len()];
    while !stop.load(Ordering::SeqCst) {
        if let Err(e) = app.redescribe_due() {
            tracing::error!(error = %e, "re-describe failed");
        }
        for (account, next) in collector.accounts.iter().zip(looks.iter_mut()) {
            let Some(trail) = &account.trail else {
                continue;
            };
            if stop.load(Ordering::SeqCst) {
                return;
            }
            if *next <= Instant::now() || trail.is_notified() {
                *next = Instant::now() + trail.poll;
                if let Err(e) = app.read_trail(account) {
                    tracing::warn!(account = %account.name, error = %e, "trail read failed");
                }
                // Calls in those files are followed up without waiting for the other trails.
                if let Err(e) = app.redescribe_due() {
                    tracing::error!(error = %e, "re-describe failed");
                }
            }
        }
        let trail_looks = collector
            .accounts
            .iter()
            .zip(&looks)
            .filter(|(account, _)| account.trail.is_some())
            .map(|(_, at)| *at);
        let earliest = trail_looks
            .chain(collector.next_redescribe())
            .min()
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        collector
            .wake
            .wait(earliest.saturating_duration_since(Instant::now()));
    }
}

/// Until `stop`: waits for the notifications of `account`'s trail queue, and has its trail
/// read when some come. A failing queue is retried after a pause.
pub fn run_trail_queue(app: &App, account: &CollectorAccount, stop: &AtomicBool) {
    while !stop.load(Ordering::SeqCst) {
        if let Err(e) = app.watch_trail_queue(account) {
            tracing::warn!(account = %account.name, error = %e, "trail queue receive failed");
            std::thread::sleep(Duration::from_secs(5));
        }
    }
}
