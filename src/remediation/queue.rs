//! The durable queue's rules: which verdicts start jobs, which jobs may run, what an attempt's
//! result does, and how jobs interrupted by a crash are picked up again.

use std::collections::HashMap;

use crate::model::{
    ActionResult, AttemptEnd, Compliance, EvaluatedResource, JobOrigin, JobState, JobVerdict,
    RemediationConfig, RemediationJob, ResourceKey, Timestamp, VerdictRecord,
};
use crate::store::{Store, StoreError};

/// Why a manual run could not be queued.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The rule has no remediation configuration.
    #[error("rule {0} has no remediation configured (conftrail remediation set {0} ...)")]
    NotConfigured(String),
    /// The rule has not judged the resource yet.
    #[error("rule {rule} has no verdict on {resource} yet (run conftrail evaluate --rule {rule})")]
    NoVerdict {
        /// The rule.
        rule: String,
        /// The resource, for the message.
        resource: String,
    },
    /// A store error.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Starts jobs for new NON_COMPLIANT verdicts (automatic remediation) and settles succeeded jobs
/// once the next version of their resource has been judged. Called with every batch of verdicts;
/// returns the jobs it created or settled.
pub fn on_verdicts(
    store: &Store,
    records: &[VerdictRecord],
) -> Result<Vec<RemediationJob>, StoreError> {
    let mut changed = Vec::new();
    let mut configs: HashMap<String, Option<RemediationConfig>> = HashMap::new();
    let now = crate::model::now_millis();
    for record in records {
        let Some(compliance) = record.report.outcome.compliance() else {
            continue;
        };
        let resource = record.resource.key();
        changed.extend(settle_succeeded_job(
            store, record, compliance, &resource, now,
        )?);
        if compliance != Compliance::NonCompliant {
            continue;
        }
        let config = match configs.get(&record.rule_name) {
            Some(c) => c.clone(),
            None => {
                let c = store.remediation_config(&record.rule_name)?;
                configs.insert(record.rule_name.clone(), c.clone());
                c
            }
        };
        let Some(config) = config.filter(|c| c.automatic) else {
            continue;
        };
        if let Some(exception) = store.exception(&record.rule_name, &resource)? {
            if exception.is_active(now) {
                continue;
            }
        }
        let created = store.create_job_once(
            &record.rule_name,
            &resource,
            record.configuration_version,
            |id| {
                RemediationJob::new(
                    id,
                    &config,
                    record.resource.clone(),
                    record.configuration_version,
                    verdict_of(record, compliance),
                    JobOrigin::Automatic,
                    now,
                )
            },
        )?;
        if let Some(job) = created {
            tracing::info!(job = job.id, rule = %job.rule_name, resource = %job.resource.resource_id, version = job.configuration_version, "remediation job queued");
            changed.push(job);
        }
    }
    Ok(changed)
}

fn verdict_of(record: &VerdictRecord, compliance: Compliance) -> JobVerdict {
    JobVerdict {
        compliance,
        annotation: record.report.outcome.annotation().map(str::to_string),
        configuration_item_capture_time: record.configuration_item_capture_time,
    }
}

/// A verdict on a later version settles the job waiting for it: verified or not effective.
/// Returns the settled job.
fn settle_succeeded_job(
    store: &Store,
    record: &VerdictRecord,
    compliance: Compliance,
    resource: &ResourceKey,
    now: Timestamp,
) -> Result<Option<RemediationJob>, StoreError> {
    let Some(mut job) = store.job_awaiting_verification(&record.rule_name, resource)? else {
        return Ok(None);
    };
    if record.configuration_version == job.configuration_version
        || record.configuration_item_capture_time < job.verdict.configuration_item_capture_time
    {
        return Ok(None);
    }
    job.verify(compliance, record.configuration_version, now);
    if compliance == Compliance::NonCompliant {
        // The fix did not hold: that version is this job's outcome, not a reason for another
        // job that would run the same action again (and again).
        store.reserve_job_version(
            &record.rule_name,
            resource,
            record.configuration_version,
            job.id,
        )?;
    }
    tracing::info!(
        job = job.id,
        state = job.state.as_str(),
        "remediation job settled"
    );
    store.save_job(&job)?;
    Ok(Some(job))
}

/// Queues a job for the resource's latest judged version now (`remediation run`): a new job,
/// or the existing one for that version run again with a fresh attempt budget. Returns the job
/// and whether it was queued (false: it is already queued or running).
pub fn request_run(
    store: &Store,
    rule: &str,
    resource: &ResourceKey,
) -> Result<(RemediationJob, bool), RunError> {
    let config = store
        .remediation_config(rule)?
        .ok_or_else(|| RunError::NotConfigured(rule.to_string()))?;
    let verdict = store
        .latest_verdict(rule, resource)?
        .ok_or_else(|| RunError::NoVerdict {
            rule: rule.to_string(),
            resource: resource.to_string(),
        })?;
    let now = crate::model::now_millis();
    let version = verdict.configuration_version;
    if let Some(mut job) = store.job_for_version(rule, resource, version)? {
        if !job.state.is_final() {
            return Ok((job, false));
        }
        job.verdict = JobVerdict {
            compliance: verdict.compliance,
            annotation: verdict.annotation.clone(),
            configuration_item_capture_time: verdict.configuration_item_capture_time,
        };
        job.rerun(config.max_attempts, now);
        store.save_job(&job)?;
        return Ok((job, true));
    }
    let created = store.create_job_once(rule, resource, version, |id| {
        RemediationJob::new(
            id,
            &config,
            EvaluatedResource::from(resource),
            version,
            JobVerdict {
                compliance: verdict.compliance,
                annotation: verdict.annotation.clone(),
                configuration_item_capture_time: verdict.configuration_item_capture_time,
            },
            JobOrigin::Manual,
            now,
        )
    })?;
    match created {
        Some(job) => Ok((job, true)),
        // Another writer created it in between: report that one.
        None => match store.job_for_version(rule, resource, version)? {
            Some(job) => Ok((job, false)),
            None => Err(RunError::Store(StoreError::Corrupt {
                what: "remediation job",
                detail: "job index without job".into(),
            })),
        },
    }
}

/// What to do with a due job right before an attempt.
pub enum Admission {
    /// Run it: the job (now in progress) and the configuration to use.
    Run(Box<RemediationJob>, Box<RemediationConfig>),
    /// It no longer needs fixing: the job as cancelled.
    Skip(Box<RemediationJob>),
}

/// Re-checks a due job and, if it still needs fixing, marks an attempt as started (durably,
/// before the action runs, so a crash during the action is seen on restart).
pub fn admit(store: &Store, mut job: RemediationJob) -> Result<Admission, StoreError> {
    let now = crate::model::now_millis();
    let resource = job.resource.key();
    let cancel = |job: &mut RemediationJob, reason: String| -> Result<Admission, StoreError> {
        job.cancel(reason.clone(), now);
        store.save_job(job)?;
        tracing::info!(job = job.id, %reason, "remediation job cancelled");
        Ok(Admission::Skip(Box::new(job.clone())))
    };
    let Some(config) = store.remediation_config(&job.rule_name)? else {
        return cancel(
            &mut job,
            "remediation is no longer configured for this rule".into(),
        );
    };
    if let Some(latest) = store.latest_verdict(&job.rule_name, &resource)? {
        if latest.compliance != Compliance::NonCompliant {
            return cancel(
                &mut job,
                format!(
                    "the resource is {} now (version {})",
                    latest.compliance.as_str(),
                    latest.configuration_version
                ),
            );
        }
        // A newer non-compliant version has its own job (automatic remediation starts one per
        // version); running this one too would apply the fix twice.
        if job.origin == JobOrigin::Automatic
            && latest.configuration_version != job.configuration_version
            && latest.configuration_item_capture_time > job.verdict.configuration_item_capture_time
        {
            return cancel(
                &mut job,
                format!(
                    "superseded by version {}, judged since",
                    latest.configuration_version
                ),
            );
        }
    }
    if job.origin == JobOrigin::Automatic {
        if let Some(exception) = store.exception(&job.rule_name, &resource)? {
            if exception.is_active(now) {
                return cancel(&mut job, format!("exception: {}", exception.reason));
            }
        }
    }
    job.start_attempt(now);
    store.save_job(&job)?;
    Ok(Admission::Run(Box::new(job), Box::new(config)))
}

/// Records how an attempt ended and moves the job on (success, retry after a backoff, failure).
pub fn finish(
    store: &Store,
    config: &RemediationConfig,
    mut job: RemediationJob,
    result: &ActionResult,
) -> Result<RemediationJob, StoreError> {
    let now = crate::model::now_millis();
    let end = AttemptEnd::from(result.outcome);
    let next = job.attempts.len() as u32 + 1;
    let mut delay = config.backoff.delay(next);
    if let Some(after) = result.retry_after {
        delay = delay.max(after);
    }
    let retry_at = now + chrono::Duration::from_std(delay).unwrap_or(chrono::Duration::MAX);
    job.finish_attempt(end, Some(result), result.message.clone(), now, retry_at);
    if job.state == JobState::Succeeded {
        // The next version may have been judged while the action ran: settle at once.
        if let Some(latest) = store.latest_verdict(&job.rule_name, &job.resource.key())? {
            if latest.configuration_version != job.configuration_version
                && latest.configuration_item_capture_time
                    > job.verdict.configuration_item_capture_time
            {
                job.verify(latest.compliance, latest.configuration_version, now);
            }
        }
    }
    store.save_job(&job)?;
    crate::metrics::remediation_attempt(end.as_str());
    tracing::info!(job = job.id, attempt = job.attempts.len(), outcome = ?end, state = job.state.as_str(), message = %result.message, "remediation attempt finished");
    Ok(job)
}

/// Ends an attempt that could not start (its parameters could not be resolved): permanent.
pub fn fail_before_action(
    store: &Store,
    mut job: RemediationJob,
    message: String,
) -> Result<RemediationJob, StoreError> {
    let now = crate::model::now_millis();
    job.finish_attempt(AttemptEnd::Permanent, None, message, now, now);
    store.save_job(&job)?;
    Ok(job)
}

/// After a crash: attempts that were running are recorded as interrupted and retried now.
/// Returns the jobs picked up again, as saved.
pub fn recover_interrupted(store: &Store) -> Result<Vec<RemediationJob>, StoreError> {
    let now = crate::model::now_millis();
    let mut jobs = store.running_jobs()?;
    for job in &mut jobs {
        job.finish_attempt(
            AttemptEnd::Interrupted,
            None,
            "the worker stopped while this attempt ran; its result is unknown".into(),
            now,
            now,
        );
        tracing::warn!(
            job = job.id,
            state = job.state.as_str(),
            "remediation attempt interrupted by a restart"
        );
        store.save_job(job)?;
    }
    Ok(jobs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Action, AttemptOutcome, WebhookAction};
    use crate::remediation::DEFAULT_BACKOFF;
    use crate::rules::{EvaluationReport, Outcome, Trigger, Verdict};

    const RULE: &str = "restricted-ssh";

    fn resource() -> EvaluatedResource {
        EvaluatedResource {
            resource_type: "AWS::EC2::SecurityGroup".into(),
            resource_id: "sg-1".into(),
            account_id: "1".into(),
            aws_region: "eu-west-1".into(),
        }
    }

    fn verdict(version: u64, minute: i64, compliance: Compliance) -> VerdictRecord {
        let at =
            chrono::DateTime::from_timestamp(1_714_557_600 + minute * 60, 0).unwrap_or_default();
        VerdictRecord {
            rule_name: RULE.into(),
            rule_version: "1.0.0".into(),
            rule_revision: 1,
            resource: resource(),
            configuration_version: version,
            configuration_item_capture_time: at,
            trigger: Trigger::Change,
            evaluated_at: crate::model::now_millis(),
            report: EvaluationReport {
                outcome: Outcome::Verdict(Verdict {
                    compliance,
                    annotation: None,
                }),
                logs: Vec::new(),
                logs_dropped: 0,
            },
            compliance_changed: false,
            changed_from: None,
        }
    }

    /// Records verdicts as the evaluator does: stored, then handed to remediation.
    fn judge(store: &Store, records: Vec<VerdictRecord>) {
        let stored = store.record_verdicts(records).expect("record");
        on_verdicts(store, &stored).expect("on verdicts");
    }

    fn setup() -> (tempfile::TempDir, Store) {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(dir.path()).expect("store");
        let now = crate::model::now_millis();
        store
            .put_remediation_config(&RemediationConfig {
                rule_name: RULE.into(),
                action: Action::Webhook(WebhookAction {
                    url: "http://127.0.0.1:9/fix".into(),
                    headers: Vec::new(),
                    ..WebhookAction::default()
                }),
                parameters: Default::default(),
                automatic: true,
                max_attempts: 3,
                backoff: DEFAULT_BACKOFF,
                timeout_ms: 1000,
                concurrency: 1,
                created_at: now,
                updated_at: now,
            })
            .expect("config");
        (dir, store)
    }

    fn all_jobs(store: &Store) -> Vec<RemediationJob> {
        store.jobs().collect::<Result<_, _>>().expect("jobs")
    }

    fn success() -> ActionResult {
        ActionResult {
            outcome: AttemptOutcome::Succeeded,
            message: "HTTP 200 OK".into(),
            http_status: Some(200),
            exit_code: None,
            retry_after: None,
            output: String::new(),
        }
    }

    #[test]
    fn one_job_per_version_and_a_newer_version_supersedes_a_queued_job() {
        let (_dir, store) = setup();
        judge(&store, vec![verdict(1, 0, Compliance::NonCompliant)]);
        // The same verdict again (a schedule, a manual evaluation): no second job.
        judge(&store, vec![verdict(1, 0, Compliance::NonCompliant)]);
        assert_eq!(all_jobs(&store).len(), 1);
        // Version 2 is still open before the first job ran: it gets its own job, and the
        // first one is cancelled when it comes due rather than fixing twice.
        judge(&store, vec![verdict(2, 5, Compliance::NonCompliant)]);
        let jobs = all_jobs(&store);
        assert_eq!(jobs.len(), 2);
        assert!(matches!(
            admit(&store, jobs[0].clone()).expect("admit"),
            Admission::Skip(_)
        ));
        let first = store.job(jobs[0].id).expect("read").expect("job");
        assert_eq!(first.state, JobState::Cancelled);
        assert_eq!(
            first.state_reason.as_deref(),
            Some("superseded by version 2, judged since")
        );
        assert!(matches!(
            admit(&store, jobs[1].clone()).expect("admit"),
            Admission::Run(..)
        ));
    }

    #[test]
    fn a_version_judged_while_the_action_ran_settles_the_job_at_once() {
        let (_dir, store) = setup();
        judge(&store, vec![verdict(1, 0, Compliance::NonCompliant)]);
        let job = all_jobs(&store).remove(0);
        let Admission::Run(job, config) = admit(&store, job).expect("admit") else {
            panic!("job should run");
        };
        // While the webhook is being called, the fixed version arrives and is judged.
        judge(&store, vec![verdict(2, 5, Compliance::Compliant)]);
        let done = finish(&store, &config, *job, &success()).expect("finish");
        assert_eq!(done.state, JobState::Verified);
        assert_eq!(done.verified_by_version, Some(2));
        assert!(store
            .job_awaiting_verification(RULE, &resource().key())
            .expect("read")
            .is_none());
    }

    #[test]
    fn interrupted_attempts_are_recorded_and_requeued() {
        let (_dir, store) = setup();
        judge(&store, vec![verdict(1, 0, Compliance::NonCompliant)]);
        let job = all_jobs(&store).remove(0);
        assert!(matches!(
            admit(&store, job).expect("admit"),
            Admission::Run(..)
        ));
        assert_eq!(store.running_jobs().expect("running").len(), 1);
        assert_eq!(recover_interrupted(&store).expect("recover").len(), 1);
        let job = all_jobs(&store).remove(0);
        assert_eq!(job.state, JobState::Queued);
        assert_eq!(job.attempts[0].outcome, Some(AttemptEnd::Interrupted));
        assert!(store.running_jobs().expect("running").is_empty());
        assert_eq!(
            store
                .due_jobs(crate::model::now_millis(), 10)
                .expect("due")
                .len(),
            1
        );
    }
}
