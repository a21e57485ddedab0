//! The collector worker: sweeps each configured account when its interval has passed (the
//! first time at start), and the configured accounts built from the file.

use crate::app::collect::CollectRequest;
use crate::app::collector::{Collector, CollectorAccount};
use crate::app::{App, AppError};
use crate::collector::aws::{
    AwsClient, ClientSettings, CredentialChain, CredentialSettings, Endpoints,
};
use crate::config_file::{parse_sweep_interval, CollectorSettings};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Time between sweeps of an account when the file sets none.
pub const DEFAULT_SWEEP_INTERVAL: Duration = Duration::from_secs(15 * 60);

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
        accounts.push(std::sync::Arc::new(CollectorAccount::new(
            account.name.clone(),
            client,
            CollectRequest {
                regions,
                types,
                evaluate: true,
            },
            interval,
        )));
    }
    Ok(Collector::new(accounts))
}

/// Until `stop`: describes again the resources API calls named (a second after the last
/// call), and sweeps each account when its interval has passed. Woken early when calls arrive.
pub(super) fn run_collector(app: &App, stop: &AtomicBool, sweeps: &AtomicUsize) {
    let collector = app.collector();
    if collector.accounts.is_empty() {
        return;
    }
    let mut due: Vec<Instant> = vec![Instant::now(); collector.accounts.len()];
    while !stop.load(Ordering::SeqCst) {
        if let Err(e) = app.redescribe_due() {
            tracing::error!(error = %e, "re-describe failed");
        }
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
            // Calls that arrived during a long sweep are not kept waiting for the others.
            if let Err(e) = app.redescribe_due() {
                tracing::error!(error = %e, "re-describe failed");
            }
        }
        let earliest = due
            .iter()
            .min()
            .copied()
            .into_iter()
            .chain(collector.next_redescribe())
            .min()
            .unwrap_or_else(Instant::now);
        collector
            .wake
            .wait(earliest.saturating_duration_since(Instant::now()));
    }
}
