//! Reading a collector account's CloudTrail trail: each log file not read yet, oldest first,
//! ingested like any file (its calls stored and linked, the resources they changed described
//! again), then its cursor kept durably. A restart resumes at the cursor.

use super::accounts::{CollectorAccount, TrailState};
use super::ingest::{IngestReport, ProblemKind};
use super::{App, AppError};
use crate::collector::aws::{s3_objects, sqs};
use crate::collector::trail::unread_log_files;
use crate::model::format_time;
use serde::{Deserialize, Serialize};
use std::sync::atomic::Ordering;

/// Seconds a receive of the trail's queue waits for a message: short enough that a stopping
/// server is not kept waiting long.
const QUEUE_WAIT_SECONDS: u32 = 5;

/// What one look at a trail did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailLook {
    /// Log files read.
    pub files: usize,
    /// What ingesting them did.
    pub ingest: IngestReport,
    /// Regions whose reading stopped, with why (they go on from there at the next look).
    pub errors: Vec<String>,
}

impl App {
    /// Reads every log file of the account's trail not read yet, region by region, oldest
    /// first. A file that cannot be fetched stops its region for this look (the next look
    /// starts from it again); one that cannot be parsed is reported by the ingest and passed.
    pub fn read_trail(&self, account: &CollectorAccount) -> Result<TrailLook, AppError> {
        let mut look = TrailLook::default();
        let Some(trail) = &account.trail else {
            return Ok(look);
        };
        trail.notified.store(false, Ordering::SeqCst);
        let started = chrono::Utc::now();
        let outcome = self.read_trail_regions(account, &mut look);
        let mut state = account
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(trail_state) = state.trail.as_mut() {
            note_look(trail_state, &look, &outcome, format_time(&started));
        }
        drop(state);
        outcome.map(|()| look)
    }

    fn read_trail_regions(
        &self,
        account: &CollectorAccount,
        look: &mut TrailLook,
    ) -> Result<(), AppError> {
        let Some(trail) = &account.trail else {
            return Ok(());
        };
        let account_id = match account.account_id.get() {
            Some(id) => id.clone(),
            None => {
                let id = self.account_of(&account.client, &account.request)?;
                account.account_id.get_or_init(|| id).clone()
            }
        };
        let source = &trail.source;
        for region in &account.request.regions {
            let mut cursor = self.store().trail_cursor(&account_id, region)?;
            let files = match unread_log_files(&account.client, source, &cursor) {
                Ok(files) => files,
                Err(e) => {
                    look.errors.push(format!("{region}: {e}"));
                    crate::metrics::trail_file("error");
                    continue;
                }
            };
            for key in files {
                let bytes = match s3_objects::get_object(
                    &account.client,
                    &source.region,
                    &source.bucket,
                    &key,
                ) {
                    Ok(bytes) => bytes,
                    Err(e) => {
                        look.errors
                            .push(format!("{region}: {}: {e}", source.url(&key)));
                        crate::metrics::trail_file("error");
                        break;
                    }
                };
                let report = self.ingest_bytes(&source.url(&key), &bytes, true)?;
                cursor.mark_read(&key, format_time(&chrono::Utc::now()));
                self.store().put_trail_cursor(&cursor)?;
                crate::metrics::trail_file("read");
                look.files += 1;
                look.ingest.merge(report);
            }
        }
        if look.files > 0 {
            tracing::info!(
                account = %account.name,
                files = look.files,
                events = look.ingest.new_events,
                "trail files read"
            );
        }
        Ok(())
    }

    /// Waits up to a few seconds for messages on the account's trail queue; when any came,
    /// deletes them and has the trail read at once. Returns how many came.
    pub fn watch_trail_queue(&self, account: &CollectorAccount) -> Result<usize, AppError> {
        let Some(queue_url) = account.trail.as_ref().and_then(|t| t.queue_url.as_deref()) else {
            return Ok(0);
        };
        let region = queue_region(queue_url)
            .or_else(|| account.trail.as_ref().map(|t| t.source.region.clone()))
            .unwrap_or_default();
        let messages = sqs::receive(&account.client, &region, queue_url, QUEUE_WAIT_SECONDS)?;
        for message in &messages {
            // Only a wake-up call: the listing decides what to read, so a lost or repeated
            // message costs nothing.
            sqs::delete(&account.client, &region, queue_url, &message.receipt_handle)?;
        }
        if !messages.is_empty() {
            self.collector().notify_trail(account);
        }
        Ok(messages.len())
    }
}

fn note_look(state: &mut TrailState, look: &TrailLook, outcome: &Result<(), AppError>, at: String) {
    state.files_read += look.files as u64;
    state.last_look_at = Some(at);
    state.rejected += look.ingest.errors as u64;
    if let Some(problem) = look
        .ingest
        .problems
        .iter()
        .rev()
        .find(|p| p.kind == ProblemKind::Error)
    {
        state.last_rejected = Some(problem.to_string());
    }
    state.last_error = match outcome {
        Err(e) => Some(e.to_string()),
        Ok(()) => (!look.errors.is_empty()).then(|| look.errors.join("; ")),
    };
}

/// The region of an SQS queue URL (`https://sqs.eu-west-1.amazonaws.com/…`), if it names one.
fn queue_region(queue_url: &str) -> Option<String> {
    let host = queue_url.split("://").nth(1)?.split('/').next()?;
    let mut labels = host.split('.');
    match (labels.next(), labels.next()) {
        (Some("sqs"), Some(region)) if crate::model::looks_like_region(region) => {
            Some(region.to_string())
        }
        (Some(region), Some("queue")) if crate::model::looks_like_region(region) => {
            Some(region.to_string())
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_urls_name_their_region() {
        let cases = [
            (
                "https://sqs.eu-west-1.amazonaws.com/111122223333/trail",
                Some("eu-west-1"),
            ),
            (
                "https://eu-west-1.queue.amazonaws.com/111122223333/trail",
                Some("eu-west-1"),
            ),
            ("http://127.0.0.1:5000/123456789012/trail", None),
        ];
        for (url, region) in cases {
            assert_eq!(queue_region(url).as_deref(), region, "{url}");
        }
    }
}
