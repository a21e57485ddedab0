//! Remediation use cases: queue a run, make one attempt of a job, pick up what a crash
//! interrupted. Every job change is announced through [`FollowUp::after_job`].

use super::follow_up::FollowUp;
use super::{App, AppError};
use serde_json::{json, Map, Value};

use crate::collector::named_by_name;
use crate::model::{Action, JobState, RemediationJob, ResourceKey};
use crate::query::{api_path, resource_api_path, ResourceSelector};
use crate::remediation::{self, Admission};
use crate::timeline::TimelineEntry;

impl App {
    /// Queues a job for the resource's latest judged version (a new job, or the existing one
    /// run again with a fresh attempt budget). Returns the job and whether it was queued (false:
    /// it is already queued or running).
    pub fn queue_remediation(
        &self,
        rule: &str,
        resource: &ResourceKey,
    ) -> Result<(RemediationJob, bool), AppError> {
        let (job, queued) = remediation::request_run(self.store(), rule, resource)?;
        if queued {
            FollowUp::of(self).after_job(&job)?;
            self.store().flush()?;
            self.audit(
                "remediation.run",
                &format!("{rule} {resource}"),
                json!({ "jobId": job.id, "configurationVersion": job.configuration_version }),
            )?;
        }
        Ok((job, queued))
    }

    /// Makes the next attempt of a due job now, in this thread: re-checks that it still needs
    /// fixing (else it is cancelled), runs the action and records the result. Returns the job
    /// as it stands after.
    pub fn attempt_job(&self, job: RemediationJob) -> Result<RemediationJob, AppError> {
        let follow_up = FollowUp::of(self);
        let (job, config) = match remediation::admit(self.store(), job)? {
            Admission::Run(job, config) => (job, config),
            Admission::Skip(job) => {
                follow_up.after_job(&job)?;
                return Ok(*job);
            }
        };
        follow_up.after_job(&job)?;
        let context = self.action_context(&job)?;
        let collector = self.collector();
        let account = collector.account(&job.resource.account_id);
        let client = account.map(|a| &a.client);
        let job = remediation::execute(self.store(), *job, &config, context, client)?;
        follow_up.after_job(&job)?;
        if let (Action::Aws(_), JobState::Succeeded, Some(account)) =
            (&config.action, job.state, account)
        {
            // Verify at once rather than at the next sweep: the new version is judged, and
            // its verdict settles the job (verified, or not effective).
            self.redescribe(account, &self.described_as(&job)?)?;
            if let Some(settled) = self.store().job(job.id)? {
                return Ok(settled);
            }
        }
        Ok(job)
    }

    /// The key the collector describes the job's resource by: its name for the types API
    /// calls name by name (IAM), as the judged version recorded it; else its id.
    fn described_as(&self, job: &RemediationJob) -> Result<ResourceKey, AppError> {
        let mut key = job.resource.key();
        if named_by_name(&key.resource_type) {
            let judged = self.store().version(&key, job.configuration_version)?;
            if let Some(name) = judged.and_then(|item| item.resource_name) {
                key.resource_id = name;
            }
        }
        Ok(key)
    }

    /// What the action is told besides the job: the API calls linked to the version judged
    /// (who changed it, when, from where) and where the resource is in the API.
    fn action_context(&self, job: &RemediationJob) -> Result<Map<String, Value>, AppError> {
        let key = job.resource.key();
        let sel = ResourceSelector {
            resource_type: key.resource_type.clone(),
            resource_id: key.resource_id.clone(),
            account_id: Some(key.account_id.clone()),
            region: Some(key.region.clone()),
        };
        let api_calls = self
            .timeline(&sel)?
            .entries
            .into_iter()
            .find_map(|entry| match entry {
                TimelineEntry::Configuration(v) if v.version == job.configuration_version => {
                    Some(v.api_calls)
                }
                _ => None,
            })
            .unwrap_or_default();
        let mut context = Map::new();
        context.insert(
            "apiCalls".into(),
            serde_json::to_value(api_calls).unwrap_or_default(),
        );
        context.insert(
            "links".into(),
            json!({
                "resource": resource_api_path(&key, &[]),
                "timeline": resource_api_path(&key, &["timeline"]),
                "job": api_path(&["", "v1", "remediation", "jobs", &job.id.to_string()]),
            }),
        );
        Ok(context)
    }

    /// After a crash: attempts of jobs and deliveries that were running are recorded as
    /// interrupted and queued again. Returns how many were picked up.
    pub fn recover_interrupted(&self) -> Result<usize, AppError> {
        let follow_up = FollowUp::of(self);
        let jobs = remediation::recover_interrupted(self.store())?;
        for job in &jobs {
            follow_up.after_job(job)?;
        }
        let deliveries = crate::notify::recover_interrupted_deliveries(self.store())?;
        if deliveries > 0 {
            self.wakes().deliveries.notify();
        }
        Ok(jobs.len() + deliveries)
    }
}
