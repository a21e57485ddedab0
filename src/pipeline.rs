//! Runs the pipeline over documents: ingest (parse) → record, then flush before reporting.

use crate::evaluator::{EvaluationCounts, Evaluator, Job};
use crate::ingest::{self, FileError, RecordOutcome};
use crate::model::ConfigurationItem;
use crate::recorder::{prepare, PreparedItem, Recorded, Recorder};
use crate::rules::Trigger;
use crate::store::{Store, StoreError};
use serde::Serialize;
use std::path::PathBuf;

/// At most this many problems are listed in a report; all are counted.
pub const MAX_LISTED_PROBLEMS: usize = 1000;

/// Whether a problem rejected a record or only skipped one that carries nothing to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// The record was rejected.
    Error,
    /// The record carries no configuration item.
    Skipped,
    /// The record was recorded, but a malformed optional field was left empty.
    Warning,
}

/// One rejected, skipped or warned-about record, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Error, skipped or warning.
    pub kind: ProblemKind,
    /// The file (or request) the record came from.
    pub source: String,
    /// Where in it: `line 3`, `configurationItems[2]`; empty for the whole document.
    pub location: String,
    /// What was wrong, or why it was skipped.
    pub reason: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.kind {
            ProblemKind::Error => "error",
            ProblemKind::Skipped => "skipped",
            ProblemKind::Warning => "warning",
        };
        if self.location.is_empty() {
            write!(f, "{kind}: {}: {}", self.source, self.reason)
        } else {
            write!(
                f,
                "{kind}: {}: {}: {}",
                self.source, self.location, self.reason
            )
        }
    }
}

/// Counts of what an ingest did. `records = items + skipped + errors` and
/// `items = new_versions + deleted + unchanged`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct IngestReport {
    /// Documents (files or bodies) read.
    pub documents: usize,
    /// Configuration items read.
    pub items: usize,
    /// New versions stored (deletions not included).
    pub new_versions: usize,
    /// Deletion versions stored.
    pub deleted: usize,
    /// Items whose content equalled a neighbouring version: not stored.
    pub unchanged: usize,
    /// Of the unchanged, those seen earlier than the version they equal: it now starts earlier.
    pub backdated: usize,
    /// New versions (or deletions) that arrived after a later version: placed in history, not latest.
    pub out_of_order: usize,
    /// Records that carry no configuration item.
    pub skipped: usize,
    /// Records (or whole documents) rejected.
    pub errors: usize,
    /// Recorded items with a malformed optional field left empty.
    pub warnings: usize,
    /// The first [`MAX_LISTED_PROBLEMS`] errors, skips and warnings.
    pub problems: Vec<Problem>,
    /// What the rules said about the new versions (when rules were evaluated).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<EvaluationCounts>,
}

impl IngestReport {
    /// The one-line summary printed after an ingest.
    pub fn summary(&self) -> String {
        format!(
            "read {} document{}: {} items, {} new versions, {} unchanged, {} deleted, {} out of order, {} skipped, {} errors, {} warnings",
            self.documents,
            if self.documents == 1 { "" } else { "s" },
            self.items,
            self.new_versions,
            self.unchanged,
            self.deleted,
            self.out_of_order,
            self.skipped,
            self.errors,
            self.warnings
        )
    }

    fn note(&mut self, kind: ProblemKind, source: &str, location: String, reason: String) {
        match kind {
            ProblemKind::Error => self.errors += 1,
            ProblemKind::Skipped => self.skipped += 1,
            ProblemKind::Warning => self.warnings += 1,
        }
        if self.problems.len() < MAX_LISTED_PROBLEMS {
            self.problems.push(Problem {
                kind,
                source: source.to_string(),
                location,
                reason,
            });
        }
    }
}

/// Errors that stop an ingest (as opposed to bad records, which are reported and skipped).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    /// A named input path cannot be read.
    #[error(transparent)]
    Input(#[from] FileError),
    /// The store failed; what was acknowledged before is intact.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The parsing thread could not be started.
    #[error("cannot start the parsing thread: {0}")]
    Thread(std::io::Error),
}

/// Ingests files and directory trees, then flushes. Unreadable files and bad records are reported.
///
/// Files are read and parsed on a second thread while this one records, so parsing the next
/// file overlaps with writing the previous one.
pub fn ingest_paths(store: &Store, paths: &[PathBuf]) -> Result<IngestReport, IngestError> {
    ingest_paths_evaluated(store, paths, None)
}

/// [`ingest_paths`], judging every new version with the evaluator's rules.
pub fn ingest_paths_evaluated(
    store: &Store,
    paths: &[PathBuf],
    evaluator: Option<&mut Evaluator>,
) -> Result<IngestReport, IngestError> {
    let files = ingest::collect_files(paths)?;
    let mut report = IngestReport::default();
    let mut recorder = Recorder::new(store);
    let mut queue = EvaluationQueue::new(evaluator);
    std::thread::scope(|scope| -> Result<(), IngestError> {
        // A small bound keeps at most a couple of parsed files in memory.
        let (tx, rx) = std::sync::mpsc::sync_channel(2);
        let parse = move || {
            for file in files {
                let parsed =
                    ingest::read_document(&file).map(|bytes| stage(ingest::parse_document(&bytes)));
                if tx.send((file, parsed)).is_err() {
                    // The recorder stopped (a store error); nothing more to parse.
                    return;
                }
            }
        };
        std::thread::Builder::new()
            .name("conftrail-parse".to_string())
            .spawn_scoped(scope, parse)
            .map_err(IngestError::Thread)?;
        for (file, parsed) in rx {
            let source = file.display().to_string();
            tracing::debug!(file = %source, "recording");
            report.documents += 1;
            match parsed {
                Ok(records) => {
                    record_records(&mut recorder, &mut queue, &source, records, &mut report)?
                }
                Err(e) => report.note(ProblemKind::Error, &source, String::new(), e.reason()),
            }
        }
        Ok(())
    })?;
    recorder.finish()?;
    queue.finish(&mut report)?;
    store.flush()?;
    log_report(&report);
    Ok(report)
}

fn log_report(report: &IngestReport) {
    tracing::info!(
        documents = report.documents,
        items = report.items,
        new_versions = report.new_versions,
        deleted = report.deleted,
        unchanged = report.unchanged,
        errors = report.errors,
        "ingest flushed"
    );
}

/// Ingests one in-memory document (already decompressed), then flushes.
pub fn ingest_bytes(store: &Store, source: &str, bytes: &[u8]) -> Result<IngestReport, StoreError> {
    ingest_bytes_evaluated(store, source, bytes, None)
}

/// [`ingest_bytes`], judging every new version with the evaluator's rules.
pub fn ingest_bytes_evaluated(
    store: &Store,
    source: &str,
    bytes: &[u8],
    evaluator: Option<&mut Evaluator>,
) -> Result<IngestReport, StoreError> {
    let mut report = IngestReport::default();
    let mut recorder = Recorder::new(store);
    let mut queue = EvaluationQueue::new(evaluator);
    record_document(&mut recorder, &mut queue, source, bytes, &mut report)?;
    recorder.finish()?;
    queue.finish(&mut report)?;
    store.flush()?;
    log_report(&report);
    Ok(report)
}

fn record_document(
    recorder: &mut Recorder<'_>,
    queue: &mut EvaluationQueue<'_>,
    source: &str,
    bytes: &[u8],
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    report.documents += 1;
    record_records(
        recorder,
        queue,
        source,
        stage(ingest::parse_document(bytes)),
        report,
    )
}

/// A parsed record, its item (if any) hashed, ready for the recorder.
struct StagedRecord {
    location: String,
    warnings: Vec<String>,
    outcome: Staged,
}

enum Staged {
    Item(Box<PreparedItem>),
    Event(Box<crate::model::ApiEvent>),
    Skipped(String),
    Invalid(String),
}

/// Hashes the items of parsed records (work that needs no store).
fn stage(records: Vec<ingest::ParsedRecord>) -> Vec<StagedRecord> {
    records
        .into_iter()
        .map(|record| StagedRecord {
            location: record.location,
            warnings: record.warnings,
            outcome: match record.outcome {
                RecordOutcome::Item(item) => Staged::Item(Box::new(prepare(*item))),
                RecordOutcome::Event(event) => Staged::Event(event),
                RecordOutcome::Skipped(note) => Staged::Skipped(note),
                RecordOutcome::Invalid(reason) => Staged::Invalid(reason),
            },
        })
        .collect()
}

fn record_records(
    recorder: &mut Recorder<'_>,
    queue: &mut EvaluationQueue<'_>,
    source: &str,
    records: Vec<StagedRecord>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    for record in records {
        match record.outcome {
            Staged::Item(item) => {
                report.items += 1;
                for warning in record.warnings {
                    report.note(
                        ProblemKind::Warning,
                        source,
                        record.location.clone(),
                        warning,
                    );
                }
                let copy = queue.wants_items().then(|| item.item().clone());
                match recorder.record(*item)? {
                    Recorded::Unchanged { .. } => report.unchanged += 1,
                    Recorded::Backdated { .. } => {
                        report.unchanged += 1;
                        report.backdated += 1;
                    }
                    Recorded::NewVersion {
                        latest,
                        deletion,
                        version,
                    } => {
                        if let Some(item) = copy {
                            queue.push(recorder, item, version)?;
                        }
                        if deletion {
                            report.deleted += 1;
                        } else {
                            report.new_versions += 1;
                        }
                        if !latest {
                            report.out_of_order += 1;
                        }
                    }
                }
            }
            Staged::Event(_) => report.skipped += 1,
            Staged::Skipped(note) => {
                report.note(ProblemKind::Skipped, source, record.location, note)
            }
            Staged::Invalid(reason) => {
                report.note(ProblemKind::Error, source, record.location, reason)
            }
        }
    }
    Ok(())
}

/// New versions waiting to be judged. Evaluation runs after the recorder has written them, so
/// cross-resource rules see the versions recorded before.
struct EvaluationQueue<'e> {
    evaluator: Option<&'e mut Evaluator>,
    jobs: Vec<Job>,
    counts: EvaluationCounts,
}

/// New versions judged at once (bounds the memory held by the queue).
const EVALUATION_BATCH: usize = 512;

impl<'e> EvaluationQueue<'e> {
    fn new(evaluator: Option<&'e mut Evaluator>) -> Self {
        EvaluationQueue {
            evaluator,
            jobs: Vec::new(),
            counts: EvaluationCounts::default(),
        }
    }

    fn wants_items(&self) -> bool {
        self.evaluator.is_some()
    }

    fn push(
        &mut self,
        recorder: &mut Recorder<'_>,
        item: ConfigurationItem,
        version: u64,
    ) -> Result<(), StoreError> {
        self.jobs.push(Job {
            item,
            version,
            trigger: Trigger::Change,
        });
        if self.jobs.len() >= EVALUATION_BATCH {
            recorder.commit()?;
            self.run()?;
        }
        Ok(())
    }

    fn run(&mut self) -> Result<(), StoreError> {
        if let Some(evaluator) = self.evaluator.as_deref_mut() {
            let counts = evaluator.evaluate(std::mem::take(&mut self.jobs))?;
            self.counts.merge(counts);
        }
        Ok(())
    }

    /// Judges what is left (the recorder must have finished).
    fn finish(mut self, report: &mut IngestReport) -> Result<(), StoreError> {
        self.run()?;
        if self.evaluator.is_some() {
            report.evaluations = Some(self.counts);
        }
        Ok(())
    }
}
