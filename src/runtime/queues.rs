//! The two durable queues the runtime works: remediation jobs (at most each rule's
//! `concurrency` at once) and webhook deliveries.

use super::queue_worker::Queue;
use crate::app::{App, AppError, Wake};
use crate::model::{Delivery, RemediationJob, Timestamp};

/// Remediation jobs, each attempt through [`App::attempt_job`].
pub struct Jobs<'a>(pub &'a App);

impl Queue for Jobs<'_> {
    type Item = RemediationJob;

    fn name(&self) -> &'static str {
        "remediation"
    }

    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<RemediationJob>, AppError> {
        Ok(self.0.store().due_jobs(now, limit)?)
    }

    fn next_due(&self) -> Result<Option<Timestamp>, AppError> {
        Ok(self.0.store().next_due()?)
    }

    fn id(&self, job: &RemediationJob) -> u64 {
        job.id
    }

    fn group_limit(&self, job: &RemediationJob) -> Result<Option<(String, u32)>, AppError> {
        Ok(self
            .0
            .store()
            .remediation_config(&job.rule_name)?
            .map(|config| (job.rule_name.clone(), config.concurrency)))
    }

    fn run(&self, job: RemediationJob) -> Result<(), AppError> {
        self.0.attempt_job(job).map(drop)
    }

    fn wake(&self) -> &Wake {
        &self.0.wakes().jobs
    }
}

/// Webhook deliveries of notifications.
pub struct Deliveries<'a>(pub &'a App);

impl Queue for Deliveries<'_> {
    type Item = Delivery;

    fn name(&self) -> &'static str {
        "deliveries"
    }

    fn due(&self, now: Timestamp, limit: usize) -> Result<Vec<Delivery>, AppError> {
        Ok(self.0.store().due_deliveries(now, limit)?)
    }

    fn next_due(&self) -> Result<Option<Timestamp>, AppError> {
        Ok(self.0.store().next_delivery_due()?)
    }

    fn id(&self, delivery: &Delivery) -> u64 {
        delivery.id
    }

    fn group_limit(&self, _: &Delivery) -> Result<Option<(String, u32)>, AppError> {
        Ok(None)
    }

    fn run(&self, delivery: Delivery) -> Result<(), AppError> {
        crate::notify::deliver(self.0.store(), delivery)?;
        Ok(())
    }

    fn wake(&self) -> &Wake {
        &self.0.wakes().deliveries
    }
}
