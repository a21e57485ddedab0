//! The collect use case: one sweep of an account. For each region and resource type (and once
//! for each global type, IAM's, in the region `global`), list every resource through the
//! collector, record what it found (unchanged resources record
//! nothing), record a deletion for each resource a *complete* listing no longer has, judge the
//! new versions, and report per scope. A listing that failed or was cut short deletes nothing,
//! and an error on one scope does not stop the others.

pub use super::accounts::CollectRequest;
use super::ingest::IngestReport;
use super::{App, AppError};
use crate::collector::aws::{sts, AwsClient};
use crate::collector::{is_global, list_resources, Listing, COLLECTED_TYPES, GLOBAL_REGION};
use crate::evaluator::EvaluationCounts;
use crate::ingest::describe::deleted::deleted_item;
use crate::ingest::describe::DescribedItem;
use crate::ingest::{ParsedRecord, RecordOutcome};
use crate::model::{format_time, looks_like_region, ItemStatus, ScopeSweep, Timestamp};
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;
use std::time::Instant;

/// The outcome of a sweep.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SweepReport {
    /// The account swept.
    pub account_id: String,
    /// When it started.
    pub started_at: String,
    /// How long it took, in milliseconds.
    pub duration_ms: u64,
    /// Each (region, resource type), in the order swept.
    pub scopes: Vec<ScopeSweep>,
    /// API requests sent, retries included.
    pub requests: u64,
    /// Retries after throttling.
    pub throttled: u64,
    /// What the rules said about the new versions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<EvaluationCounts>,
}

impl SweepReport {
    /// Whether every scope was listed completely and every resource recorded.
    pub fn is_clean(&self) -> bool {
        self.scopes
            .iter()
            .all(|s| s.complete && s.errors.is_empty())
    }

    /// Totals over the scopes, one line.
    pub fn summary(&self) -> String {
        let sum = |f: fn(&ScopeSweep) -> usize| self.scopes.iter().map(f).sum::<usize>();
        let failed = self.scopes.iter().filter(|s| !s.complete).count();
        format!(
            "swept account {} in {} scope{} ({} incomplete): {} resources, {} new versions, {} unchanged, {} deleted, {} requests ({} throttled), {:.1} s",
            self.account_id,
            self.scopes.len(),
            if self.scopes.len() == 1 { "" } else { "s" },
            failed,
            sum(|s| s.resources),
            sum(|s| s.new_versions),
            sum(|s| s.unchanged),
            sum(|s| s.deleted),
            self.requests,
            self.throttled,
            self.duration_ms as f64 / 1000.0
        )
    }
}

impl App {
    /// The resource types to sweep: those asked for, each one the collector describes, once
    /// each and in the collector's order (the account's Block Public Access before the buckets
    /// whose rules read it).
    pub fn collected_types(&self, asked: &[String]) -> Result<Vec<String>, AppError> {
        if asked.is_empty() {
            return Ok(COLLECTED_TYPES.iter().map(|t| t.to_string()).collect());
        }
        let mut types = asked
            .iter()
            .map(|given| {
                let known = self.known_type(given).map_err(|e| match e {
                    AppError::NotFound(m) => AppError::Invalid(m),
                    other => other,
                })?;
                if COLLECTED_TYPES.contains(&known.as_str()) {
                    Ok(known)
                } else {
                    Err(AppError::Invalid(format!(
                        "the collector does not describe {known}; it describes {}",
                        COLLECTED_TYPES.join(", ")
                    )))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        types.sort_by_key(|t| COLLECTED_TYPES.iter().position(|c| c == t));
        types.dedup();
        Ok(types)
    }

    /// Sweeps the account `client` signs for: every region and type of `request`, and each
    /// global type once.
    pub fn collect(
        &self,
        client: &AwsClient,
        request: &CollectRequest,
    ) -> Result<SweepReport, AppError> {
        let account_id = self.account_of(client, request)?;
        self.collect_account(client, &account_id, request)
    }

    /// The account `client` signs for, asked of STS in the first region of `request`.
    pub fn account_of(
        &self,
        client: &AwsClient,
        request: &CollectRequest,
    ) -> Result<String, AppError> {
        let first_region = checked_regions(request)?;
        Ok(sts::caller_account(client, first_region)?)
    }

    /// Sweeps the account `account_id` that `client` signs for: every region and type of
    /// `request`.
    pub fn collect_account(
        &self,
        client: &AwsClient,
        account_id: &str,
        request: &CollectRequest,
    ) -> Result<SweepReport, AppError> {
        let types = self.collected_types(&request.types)?;
        checked_regions(request)?;
        let started = Instant::now();
        let started_at = chrono::Utc::now();
        let requests_before = client.counters.requests.load(Ordering::Relaxed);
        let throttled_before = client.counters.throttled.load(Ordering::Relaxed);
        let account_id = account_id.to_string();
        let mut scopes = Vec::new();
        let mut evaluations: Option<EvaluationCounts> = None;
        // Regional types in each region, then each global (IAM) type once, in its own scope.
        let (global, regional): (Vec<&String>, Vec<&String>) =
            types.iter().partition(|t| is_global(t));
        let plan = request
            .regions
            .iter()
            .flat_map(|region| regional.iter().map(move |t| (region.as_str(), t.as_str())))
            .chain(global.iter().map(|t| (GLOBAL_REGION, t.as_str())));
        for (region, resource_type) in plan {
            let (scope, counts) =
                self.sweep_scope(client, &account_id, region, resource_type, request.evaluate)?;
            self.store().put_scope_sweep(&scope)?;
            if let Some(counts) = counts {
                evaluations
                    .get_or_insert_with(Default::default)
                    .merge(counts);
            }
            scopes.push(scope);
        }
        let report = SweepReport {
            account_id,
            started_at: format_time(&started_at),
            duration_ms: started.elapsed().as_millis() as u64,
            scopes,
            requests: client.counters.requests.load(Ordering::Relaxed) - requests_before,
            throttled: client.counters.throttled.load(Ordering::Relaxed) - throttled_before,
            evaluations,
        };
        tracing::info!(summary = %report.summary(), "collector sweep done");
        Ok(report)
    }

    /// Lists, records and judges one (region, type). Only a store failure is an error; what
    /// the cloud did is in the report.
    fn sweep_scope(
        &self,
        client: &AwsClient,
        account_id: &str,
        region: &str,
        resource_type: &str,
        evaluate: bool,
    ) -> Result<(ScopeSweep, Option<EvaluationCounts>), AppError> {
        let started = Instant::now();
        let captured_at = chrono::Utc::now();
        let mut scope = ScopeSweep {
            account_id: account_id.to_string(),
            region: region.to_string(),
            resource_type: resource_type.to_string(),
            started_at: format_time(&captured_at),
            ..ScopeSweep::default()
        };
        let mut evaluations = None;
        match list_resources(client, region, account_id, resource_type, captured_at) {
            Ok(listing) => {
                scope.complete = true;
                scope.resources = listing.seen.len();
                let mut records =
                    self.deletions(account_id, region, resource_type, &listing, captured_at)?;
                scope.errors.extend(listing.unmapped);
                records.extend(listing.items.into_iter().map(DescribedItem::into_record));
                let source = format!("collector {account_id} {region} {resource_type}");
                let report = self.ingest_records(&source, records, evaluate)?;
                evaluations = report.evaluations;
                tally(&mut scope, report);
            }
            Err(e) => {
                tracing::warn!(account_id, region, resource_type, error = %e, "listing failed");
                scope.errors.push(e.to_string());
            }
        }
        scope.duration_ms = started.elapsed().as_millis() as u64;
        crate::metrics::collector_scope_sweep(
            scope.complete,
            started.elapsed(),
            scope.new_versions as u64,
            scope.unchanged as u64,
            scope.deleted as u64,
        );
        Ok((scope, evaluations))
    }

    /// A deletion for each resource of this account, region and type whose latest version is
    /// not a deletion and that the complete listing did not have.
    fn deletions(
        &self,
        account_id: &str,
        region: &str,
        resource_type: &str,
        listing: &Listing,
        noticed_at: Timestamp,
    ) -> Result<Vec<ParsedRecord>, AppError> {
        let mut gone = Vec::new();
        for summary in self.store().resources(Some(resource_type)) {
            let summary = summary?;
            let key = &summary.key;
            if key.account_id != account_id
                || key.region != region
                || listing.seen.contains(&key.resource_id)
                || is_deletion(&summary.state.status)
            {
                continue;
            }
            gone.push((key.clone(), summary.state.latest.version));
        }
        gone.into_iter()
            .map(|(key, latest)| self.deletion_record(&key, latest, noticed_at))
            .collect()
    }

    /// The deletion of a recorded resource whose latest version is `latest`, with the name
    /// and ARN it had.
    pub(super) fn deletion_record(
        &self,
        key: &crate::model::ResourceKey,
        latest: u64,
        noticed_at: Timestamp,
    ) -> Result<ParsedRecord, AppError> {
        let last = self.store().version(key, latest)?;
        let arn = last.as_ref().and_then(|item| item.arn.clone());
        let name = last.and_then(|item| item.resource_name);
        Ok(ParsedRecord {
            location: format!("{} (no longer listed)", key.resource_id),
            outcome: RecordOutcome::Item(Box::new(deleted_item(key, name, arn, noticed_at))),
            warnings: Vec::new(),
        })
    }
}

pub(super) fn is_deletion(status: &str) -> bool {
    matches!(
        ItemStatus::parse(status),
        Some(ItemStatus::ResourceDeleted | ItemStatus::ResourceDeletedNotRecorded)
    )
}

fn tally(scope: &mut ScopeSweep, report: IngestReport) {
    scope.new_versions = report.new_versions;
    scope.unchanged = report.unchanged;
    scope.deleted = report.deleted;
    scope
        .errors
        .extend(report.problems.into_iter().filter_map(|p| {
            (p.kind == super::ingest::ProblemKind::Error)
                .then(|| format!("{}: {}", p.location, p.reason))
        }));
}

/// The first region of `request`, once every region is checked to look like one.
fn checked_regions(request: &CollectRequest) -> Result<&str, AppError> {
    let Some(first_region) = request.regions.first() else {
        return Err(AppError::Invalid(
            "no region to sweep: name one (--regions, or AWS_REGION)".into(),
        ));
    };
    if let Some(bad) = request.regions.iter().find(|r| !looks_like_region(r)) {
        return Err(AppError::Invalid(format!(
            "{bad:?} is not a region such as \"us-east-1\""
        )));
    }
    Ok(first_region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_deletion_statuses_count_as_deleted() {
        assert!(is_deletion("ResourceDeleted"));
        assert!(is_deletion("ResourceDeletedNotRecorded"));
        assert!(!is_deletion("OK"));
        assert!(!is_deletion("ResourceDiscovered"));
    }

    #[test]
    fn the_summary_adds_up_the_scopes() {
        let scope = |resources, new_versions, complete| ScopeSweep {
            resources,
            new_versions,
            complete,
            ..ScopeSweep::default()
        };
        let report = SweepReport {
            account_id: "123456789012".into(),
            scopes: vec![scope(3, 2, true), scope(0, 0, false)],
            requests: 7,
            duration_ms: 1500,
            ..SweepReport::default()
        };
        assert_eq!(
            report.summary(),
            "swept account 123456789012 in 2 scopes (1 incomplete): 3 resources, 2 new versions, 0 unchanged, 0 deleted, 7 requests (0 throttled), 1.5 s"
        );
        assert!(!report.is_clean());
    }
}
