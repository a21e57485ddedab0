//! What follows a write, decided in one place: the stages and the store only report what they
//! changed, and these functions turn that into notifications, remediation jobs and wake-ups of
//! the background workers.

use crate::evaluator::VerdictSink;
use crate::model::{RemediationJob, ResourceKey, VerdictRecord};
use crate::notify::{self, Notifier};
use crate::store::{Store, StoreError, StoredEvent};

use super::accounts::{Collector, REDESCRIBE_DELAY, SETTLED_AFTER};
use super::{App, Wakes};
use std::time::Duration;

/// Who is told, and what is woken: the parts of the application a follow-up needs.
#[derive(Clone)]
pub struct FollowUp {
    store: Store,
    notifier: std::sync::Arc<Notifier>,
    wakes: std::sync::Arc<Wakes>,
    collector: std::sync::Arc<Collector>,
}

impl FollowUp {
    /// The follow-ups of an application.
    pub fn of(app: &App) -> FollowUp {
        FollowUp {
            store: app.store().clone(),
            notifier: app.notifier().clone(),
            wakes: app.wakes().clone(),
            collector: app.collector(),
        }
    }

    /// No one told and nothing woken (recording alone, for tools, tests and benchmarks).
    pub fn none(store: &Store) -> FollowUp {
        FollowUp {
            store: store.clone(),
            notifier: std::sync::Arc::default(),
            wakes: std::sync::Arc::default(),
            collector: std::sync::Arc::default(),
        }
    }

    /// Whether new versions will be announced (building the announcement costs store reads).
    pub fn wants_versions(&self) -> bool {
        self.notifier
            .wants(crate::model::NotificationKind::Configuration)
    }

    /// New configuration versions (already written): a change notification for each.
    pub fn after_versions(&self, versions: &[(ResourceKey, u64)]) -> Result<(), StoreError> {
        let queued = notify::configuration_changes(&self.notifier, &self.store, versions)?;
        self.deliveries_queued(queued);
        Ok(())
    }

    /// Newly stored API calls: delivered to the subscriptions whose pattern they match, and
    /// the resources that successful changing calls name described again by the collector.
    pub fn after_api_events<'e>(
        &self,
        events: impl IntoIterator<Item = &'e StoredEvent> + Clone,
    ) -> Result<(), StoreError> {
        let queued = notify::api_calls(
            &self.notifier,
            &self.store,
            events.clone().into_iter().map(|stored| &stored.event),
        )?;
        self.deliveries_queued(queued);
        // Calls that arrive long after they were made (a trail's log file) are described at
        // once; live ones a moment after the last of their burst.
        let settled_before = chrono::Utc::now()
            - chrono::Duration::from_std(SETTLED_AFTER)
                .unwrap_or_else(|_| chrono::Duration::zero());
        let changing = events
            .into_iter()
            .filter(|stored| stored.event.error_code.is_none() && !stored.event.read_only);
        let (settled, live): (Vec<&StoredEvent>, Vec<&StoredEvent>) =
            changing.partition(|stored| stored.event.event_time < settled_before);
        for (calls, delay) in [(settled, Duration::ZERO), (live, REDESCRIBE_DELAY)] {
            if !calls.is_empty() {
                self.collector
                    .note_calls(calls.iter().flat_map(|stored| stored.touched.iter()), delay);
            }
        }
        Ok(())
    }

    /// Stored verdicts: compliance-change notifications, then remediation (new NON_COMPLIANT
    /// verdicts may start jobs, later verdicts settle succeeded ones), each job change announced.
    pub fn after_verdicts(&self, records: &[VerdictRecord]) -> Result<(), StoreError> {
        let queued = notify::compliance_changes(&self.notifier, &self.store, records)?;
        self.deliveries_queued(queued);
        let jobs = crate::remediation::on_verdicts(&self.store, records)?;
        for job in &jobs {
            self.after_job(job)?;
        }
        Ok(())
    }

    /// A remediation job as just saved: announced, and the remediation worker woken when it
    /// waits in the queue.
    pub fn after_job(&self, job: &RemediationJob) -> Result<(), StoreError> {
        let queued = notify::job_updated(&self.notifier, &self.store, job)?;
        self.deliveries_queued(queued);
        if job.state == crate::model::JobState::Queued {
            self.wakes.jobs.notify();
        }
        Ok(())
    }

    fn deliveries_queued(&self, queued: usize) {
        if queued > 0 {
            self.wakes.deliveries.notify();
        }
    }
}

/// The evaluator's sink: every batch of stored verdicts goes through [`FollowUp::after_verdicts`].
pub fn verdict_sink(app: &App) -> VerdictSink {
    let follow_up = FollowUp::of(app);
    std::sync::Arc::new(move |records: &[VerdictRecord]| follow_up.after_verdicts(records))
}
