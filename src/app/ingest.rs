//! The ingest use case: parse documents → record configuration items and store API events (with
//! the resources they touch) → announce and judge new versions, then flush before reporting.

use super::follow_up::FollowUp;
use super::{App, AppError};
use crate::evaluator::{EvaluationCounts, Evaluator, Job};
use crate::ingest::{self, FileError, RecordOutcome};
use crate::linker::EventMap;
use crate::model::{ConfigurationItem, ResourceKey};
use crate::recorder::{prepare, PreparedItem, Recorded, Recorder};
use crate::rules::Trigger;
use crate::store::{Store, StoreError, StoredEvent};
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::mpsc::SyncSender;

/// At most this many problems are listed in a report; all are counted. Problems with a whole
/// document (why it could not be read, or stopped being read) are listed up to twice this, so
/// a document's last word is not lost behind its bad records.
pub const MAX_LISTED_PROBLEMS: usize = 1000;

/// Whether a problem rejected a record or only skipped one that carries nothing to record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProblemKind {
    /// The record was rejected.
    Error,
    /// The record carries no configuration item.
    Skipped,
    /// The record was recorded, but an optional field was left empty (malformed, or not in
    /// the source).
    Warning,
}

/// One rejected, skipped or warned-about record, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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

/// Counts of what an ingest did. `records = items + events + skipped + errors`,
/// `items = new_versions + deleted + unchanged` and `events = new_events + duplicate_events`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
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
    /// API events (CloudTrail records) read.
    pub events: usize,
    /// API events stored.
    pub new_events: usize,
    /// API events already stored (same eventID): not stored again.
    pub duplicate_events: usize,
    /// Records that carry neither a configuration item nor an API event.
    pub skipped: usize,
    /// Records (or whole documents) rejected.
    pub errors: usize,
    /// Recorded items with an optional field left empty (malformed, or not in the source).
    pub warnings: usize,
    /// The first [`MAX_LISTED_PROBLEMS`] errors, skips and warnings.
    pub problems: Vec<Problem>,
    /// What the rules said about the new versions (when rules were evaluated).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluations: Option<EvaluationCounts>,
}

impl IngestReport {
    /// Adds the counts and problems of another report (another document of the same ingest).
    pub fn merge(&mut self, other: IngestReport) {
        self.documents += other.documents;
        self.items += other.items;
        self.new_versions += other.new_versions;
        self.deleted += other.deleted;
        self.unchanged += other.unchanged;
        self.backdated += other.backdated;
        self.out_of_order += other.out_of_order;
        self.events += other.events;
        self.new_events += other.new_events;
        self.duplicate_events += other.duplicate_events;
        self.skipped += other.skipped;
        self.errors += other.errors;
        self.warnings += other.warnings;
        for problem in other.problems {
            if self.has_room_for(&problem) {
                self.problems.push(problem);
            }
        }
        if let Some(counts) = other.evaluations {
            self.evaluations
                .get_or_insert_with(Default::default)
                .merge(counts);
        }
    }

    /// The report of a document that could not be read at all.
    pub fn unreadable(source: &str, reason: String) -> IngestReport {
        let mut report = IngestReport {
            documents: 1,
            ..IngestReport::default()
        };
        report.note(ProblemKind::Error, source, String::new(), reason);
        report
    }

    /// Counts one problem, listing it while there is room.
    fn note_problem(&mut self, problem: Problem) {
        match problem.kind {
            ProblemKind::Error => self.errors += 1,
            ProblemKind::Skipped => self.skipped += 1,
            ProblemKind::Warning => self.warnings += 1,
        }
        if self.has_room_for(&problem) {
            self.problems.push(problem);
        }
    }

    /// Whether the list of problems still takes this one.
    fn has_room_for(&self, problem: &Problem) -> bool {
        let listed = self.problems.len();
        listed < MAX_LISTED_PROBLEMS
            || (problem.location.is_empty() && listed < 2 * MAX_LISTED_PROBLEMS)
    }

    /// The rule evaluations line, when rules ran and there was something to judge (API events
    /// alone are not judged, and "0 evaluations" would only be noise).
    pub fn evaluation_summary(&self) -> Option<String> {
        self.evaluations
            .as_ref()
            .filter(|c| self.items > 0 || c.evaluations > 0)
            .map(|c| format!("rules: {}", c.summary()))
    }

    /// The one-line summary printed after an ingest.
    pub fn summary(&self) -> String {
        let events = if self.events > 0 {
            format!(
                ", {} API events ({} new, {} already stored)",
                self.events, self.new_events, self.duplicate_events
            )
        } else {
            String::new()
        };
        format!(
            "read {} document{}: {} items, {} new versions, {} unchanged, {} deleted, {} out of order{}, {} skipped, {} errors, {} warnings",
            self.documents,
            if self.documents == 1 { "" } else { "s" },
            self.items,
            self.new_versions,
            self.unchanged,
            self.deleted,
            self.out_of_order,
            events,
            self.skipped,
            self.errors,
            self.warnings
        )
    }

    fn note(&mut self, kind: ProblemKind, source: &str, location: String, reason: String) {
        self.note_problem(Problem {
            kind,
            source: source.to_string(),
            location,
            reason,
        });
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

/// How far an ingest got: the documents it has, and what it has counted so far.
#[derive(Debug)]
pub struct IngestProgress<'r> {
    /// The document being read (from 1).
    pub document: usize,
    /// Documents to read in all.
    pub documents: usize,
    /// The counts so far.
    pub report: &'r IngestReport,
}

impl App {
    /// Ingests files and directory trees (judging new versions unless `evaluate` is false),
    /// then flushes. Unreadable files and bad records are reported.
    pub fn ingest_paths(
        &self,
        paths: &[PathBuf],
        evaluate: bool,
    ) -> Result<IngestReport, AppError> {
        self.ingest_paths_reporting(paths, evaluate, &mut |_| {})
    }

    /// [`App::ingest_paths`], telling `progress` how far it got as each document starts and
    /// after each batch of records.
    pub fn ingest_paths_reporting(
        &self,
        paths: &[PathBuf],
        evaluate: bool,
        progress: &mut dyn FnMut(&IngestProgress),
    ) -> Result<IngestReport, AppError> {
        let follow_up = FollowUp::of(self);
        Ok(self.maybe_with_evaluator(evaluate, |evaluator| {
            ingest_paths_with(
                self.store(),
                &follow_up,
                paths,
                self.event_map(),
                evaluator,
                progress,
            )
        })??)
    }

    /// Ingests one in-memory document (gzip recognised by content), judges the new versions
    /// (unless `evaluate` is false) and flushes: what it reports is durable.
    pub fn ingest_bytes(
        &self,
        source: &str,
        bytes: &[u8],
        evaluate: bool,
    ) -> Result<IngestReport, AppError> {
        let follow_up = FollowUp::of(self);
        let report = self.maybe_with_evaluator(evaluate, |evaluator| {
            ingest_bytes_unflushed(
                self.store(),
                &follow_up,
                source,
                bytes,
                self.event_map(),
                evaluator,
            )
        })??;
        // After the evaluator is back in the pool: concurrent requests share this sync.
        self.store().flush()?;
        Ok(report)
    }

    /// Records items already parsed (collected from an API), judges the new versions (unless
    /// `evaluate` is false) and flushes, as [`App::ingest_bytes`] does for a document.
    pub fn ingest_records(
        &self,
        source: &str,
        records: Vec<ingest::ParsedRecord>,
        evaluate: bool,
    ) -> Result<IngestReport, AppError> {
        let follow_up = FollowUp::of(self);
        let report = self.maybe_with_evaluator(evaluate, |evaluator| {
            let inputs = vec![Input::Records { source, records }];
            let report = ingest_inputs(
                self.store(),
                &follow_up,
                inputs,
                self.event_map(),
                evaluator,
                &mut |_| {},
            )?;
            log_report(&report);
            Ok::<_, IngestError>(report)
        })??;
        self.store().flush()?;
        Ok(report)
    }
}

/// Records files and directory trees without judging or announcing anything, then flushes
/// (for tools, tests and benchmarks that only record).
pub fn ingest_paths(store: &Store, paths: &[PathBuf]) -> Result<IngestReport, IngestError> {
    ingest_paths_with(
        store,
        &FollowUp::none(store),
        paths,
        &EventMap::builtin(),
        None,
        &mut |_| {},
    )
}

/// Records files and directory trees, then flushes.
fn ingest_paths_with(
    store: &Store,
    follow_up: &FollowUp,
    paths: &[PathBuf],
    event_map: &EventMap,
    evaluator: Option<&mut Evaluator>,
    progress: &mut dyn FnMut(&IngestProgress),
) -> Result<IngestReport, IngestError> {
    let inputs = ingest::collect_files(paths)?
        .into_iter()
        .map(Input::Path)
        .collect();
    let report = ingest_inputs(store, follow_up, inputs, event_map, evaluator, progress)?;
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
        events = report.events,
        new_events = report.new_events,
        errors = report.errors,
        "ingest flushed"
    );
}

/// Records one in-memory document (gzip recognised by content) without judging or announcing
/// anything, then flushes.
pub fn ingest_bytes(
    store: &Store,
    source: &str,
    bytes: &[u8],
) -> Result<IngestReport, IngestError> {
    let report = ingest_bytes_unflushed(
        store,
        &FollowUp::none(store),
        source,
        bytes,
        &EventMap::builtin(),
        None,
    )?;
    store.flush()?;
    Ok(report)
}

/// Records one document without the final flush: what it wrote is visible but not yet durable.
/// The caller must call [`Store::flush`] before acknowledging.
fn ingest_bytes_unflushed(
    store: &Store,
    follow_up: &FollowUp,
    source: &str,
    bytes: &[u8],
    event_map: &EventMap,
    evaluator: Option<&mut Evaluator>,
) -> Result<IngestReport, IngestError> {
    let inputs = vec![Input::Bytes { source, bytes }];
    let report = ingest_inputs(store, follow_up, inputs, event_map, evaluator, &mut |_| {})?;
    log_report(&report);
    Ok(report)
}

/// A document to ingest.
enum Input<'a> {
    /// A file, or `-` for standard input.
    Path(PathBuf),
    /// A document in memory (a request body), named `source` in the report.
    Bytes { source: &'a str, bytes: &'a [u8] },
    /// Records already parsed (by the collector), named `source` in the report.
    Records {
        source: &'a str,
        records: Vec<ingest::ParsedRecord>,
    },
}

/// Memory weight assumed for a record that did not come from JSON text (a collected item):
/// about the size of a security group's item.
const PARSED_RECORD_WEIGHT: u64 = 2048;

/// What the parsing thread hands the recording one.
enum Parsed {
    /// The records that follow come from this document.
    Document(String),
    /// The next records of the current document.
    Records(Vec<StagedRecord>),
}

/// Records per message from the parsing thread.
const PARSED_BATCH: usize = 256;

/// Estimated memory of the records in one message from the parsing thread: with
/// [`PARSED_BATCH`] and the channel's bound, this bounds what is parsed ahead of the recorder,
/// whatever the size of a document.
const PARSED_BATCH_MEMORY: u64 = 4 * 1024 * 1024;

/// Documents are read and parsed on a second thread while this one records, so parsing
/// overlaps with writing. Records cross in small batches as they are parsed, so memory follows
/// the batch, not the document. Does not flush.
fn ingest_inputs(
    store: &Store,
    follow_up: &FollowUp,
    inputs: Vec<Input<'_>>,
    event_map: &EventMap,
    evaluator: Option<&mut Evaluator>,
    progress: &mut dyn FnMut(&IngestProgress),
) -> Result<IngestReport, IngestError> {
    let documents = inputs.len();
    let mut report = IngestReport::default();
    let mut recorder = Recorder::new(store);
    let mut queue = EvaluationQueue::new(follow_up, evaluator);
    let mut events = EventBatch::new(store, follow_up);
    std::thread::scope(|scope| -> Result<(), IngestError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        std::thread::Builder::new()
            .name("conftrail-parse".to_string())
            .spawn_scoped(scope, move || parse_inputs(inputs, event_map, &tx))
            .map_err(IngestError::Thread)?;
        let mut source = String::new();
        for parsed in rx {
            match parsed {
                Parsed::Document(name) => {
                    tracing::debug!(file = %name, "recording");
                    report.documents += 1;
                    source = name;
                }
                Parsed::Records(records) => record_records(
                    &mut recorder,
                    &mut queue,
                    &mut events,
                    &source,
                    records,
                    &mut report,
                )?,
            }
            progress(&IngestProgress {
                document: report.documents,
                documents,
                report: &report,
            });
        }
        Ok(())
    })?;
    recorder.finish()?;
    queue.finish(&mut report)?;
    events.finish(&mut report)?;
    Ok(report)
}

/// The parsing thread: reads each document, staging its records in batches. Stops when the
/// recorder does (a store error).
fn parse_inputs(inputs: Vec<Input<'_>>, event_map: &EventMap, tx: &SyncSender<Parsed>) {
    for input in inputs {
        let source = match &input {
            Input::Path(path) => path.display().to_string(),
            Input::Bytes { source, .. } | Input::Records { source, .. } => source.to_string(),
        };
        if tx.send(Parsed::Document(source)).is_err() {
            return;
        }
        let flow = match input {
            Input::Path(path) => match ingest::open_input(&path) {
                Ok(reader) => parse_input(reader, event_map, tx),
                Err(e) => {
                    let record = StagedRecord {
                        location: String::new(),
                        warnings: Vec::new(),
                        weight: 0,
                        outcome: Staged::Invalid(e.reason()),
                    };
                    send(tx, vec![record])
                }
            },
            Input::Bytes { bytes, .. } => parse_input(bytes, event_map, tx),
            Input::Records { records, .. } => {
                let mut flow = ControlFlow::Continue(());
                let mut records = records.into_iter().peekable();
                while flow.is_continue() && records.peek().is_some() {
                    let batch = records
                        .by_ref()
                        .take(PARSED_BATCH)
                        .map(|r| stage(r, PARSED_RECORD_WEIGHT, event_map))
                        .collect();
                    flow = send(tx, batch);
                }
                flow
            }
        };
        if flow.is_break() {
            return;
        }
    }
}

fn parse_input(
    reader: impl std::io::Read,
    event_map: &EventMap,
    tx: &SyncSender<Parsed>,
) -> ControlFlow<()> {
    let mut batch = Vec::new();
    let mut batch_weight = 0u64;
    let mut flow = ControlFlow::Continue(());
    ingest::read_records(reader, &mut |record, weight| {
        batch.push(stage(record, weight, event_map));
        batch_weight += weight;
        if batch.len() >= PARSED_BATCH || batch_weight >= PARSED_BATCH_MEMORY {
            batch_weight = 0;
            flow = send(tx, std::mem::take(&mut batch));
        }
        flow
    });
    if flow.is_continue() && !batch.is_empty() {
        flow = send(tx, batch);
    }
    flow
}

fn send(tx: &SyncSender<Parsed>, records: Vec<StagedRecord>) -> ControlFlow<()> {
    match tx.send(Parsed::Records(records)) {
        Ok(()) => ControlFlow::Continue(()),
        // The recorder stopped (a store error); nothing more to parse.
        Err(_) => ControlFlow::Break(()),
    }
}

/// A parsed record, its item (if any) hashed, ready for the recorder.
struct StagedRecord {
    location: String,
    warnings: Vec<String>,
    /// Estimated memory of the JSON it came from: weighs the batches that hold it.
    weight: u64,
    outcome: Staged,
}

enum Staged {
    Item(Box<PreparedItem>),
    Event(Box<StoredEvent>),
    Skipped(String),
    Invalid(String),
}

/// Hashes the item of a parsed record or finds the resources an event touches (work that
/// needs no store, so the parsing thread does it).
fn stage(record: ingest::ParsedRecord, weight: u64, event_map: &EventMap) -> StagedRecord {
    StagedRecord {
        location: record.location,
        warnings: record.warnings,
        weight,
        outcome: match record.outcome {
            RecordOutcome::Item(item) => Staged::Item(Box::new(prepare(*item))),
            RecordOutcome::Event(event) => Staged::Event(Box::new(StoredEvent {
                touched: event_map.touched(&event),
                event: *event,
            })),
            RecordOutcome::Skipped(note) => Staged::Skipped(note),
            RecordOutcome::Invalid(reason) => Staged::Invalid(reason),
        },
    }
}

fn record_records(
    recorder: &mut Recorder<'_>,
    queue: &mut EvaluationQueue<'_>,
    events: &mut EventBatch<'_>,
    source: &str,
    records: Vec<StagedRecord>,
    report: &mut IngestReport,
) -> Result<(), StoreError> {
    for record in records {
        for warning in record.warnings {
            report.note(
                ProblemKind::Warning,
                source,
                record.location.clone(),
                warning,
            );
        }
        match record.outcome {
            Staged::Item(item) => {
                report.items += 1;
                let copy = queue.wants_items().then(|| item.item().clone());
                let key = queue.announcing().then(|| item.item().key());
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
                        queue.push(recorder, key, copy, version, record.weight)?;
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
            Staged::Event(event) => {
                report.events += 1;
                events.push(*event, record.weight, report)?;
            }
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

/// API events waiting to be written in one batch.
struct EventBatch<'s> {
    store: &'s Store,
    follow_up: &'s FollowUp,
    pending: Vec<StoredEvent>,
    /// Estimated memory of the JSON the pending events came from.
    pending_bytes: u64,
}

/// Events written per atomic batch.
const EVENT_BATCH: usize = 8192;

/// Estimated memory (of the events' records) after which a batch is written sooner, so large
/// events cannot pile up.
const EVENT_BATCH_BYTES: u64 = 32 * 1024 * 1024;

impl<'s> EventBatch<'s> {
    fn new(store: &'s Store, follow_up: &'s FollowUp) -> Self {
        EventBatch {
            store,
            follow_up,
            pending: Vec::new(),
            pending_bytes: 0,
        }
    }

    fn push(
        &mut self,
        event: StoredEvent,
        weight: u64,
        report: &mut IngestReport,
    ) -> Result<(), StoreError> {
        self.pending.push(event);
        self.pending_bytes += weight;
        if self.pending.len() >= EVENT_BATCH || self.pending_bytes >= EVENT_BATCH_BYTES {
            self.write(report)?;
        }
        Ok(())
    }

    fn write(&mut self, report: &mut IngestReport) -> Result<(), StoreError> {
        if !self.pending.is_empty() {
            let writes = self.store.put_events(&self.pending)?;
            report.new_events += writes.stored;
            report.duplicate_events += writes.duplicates;
            self.follow_up.after_api_events(
                writes
                    .stored_positions
                    .iter()
                    .filter_map(|&i| self.pending.get(i)),
            )?;
            self.pending.clear();
            self.pending_bytes = 0;
        }
        Ok(())
    }

    /// Writes what is left (before the store is flushed).
    fn finish(mut self, report: &mut IngestReport) -> Result<(), StoreError> {
        self.write(report)
    }
}

/// New versions waiting to be judged. Evaluation runs after the recorder has written them, so
/// cross-resource rules see the versions recorded before.
struct EvaluationQueue<'e> {
    follow_up: &'e FollowUp,
    evaluator: Option<&'e mut Evaluator>,
    jobs: Vec<Job>,
    /// Estimated memory of the JSON the queued items came from.
    jobs_bytes: u64,
    counts: EvaluationCounts,
    /// New versions to announce (only collected when someone listens).
    announce: Option<Vec<(ResourceKey, u64)>>,
}

/// New versions judged at once (bounds the memory held by the queue).
const EVALUATION_BATCH: usize = 512;

/// Estimated memory (of the queued items) after which the queue is judged sooner, so large
/// items cannot pile up.
const EVALUATION_BATCH_BYTES: u64 = 16 * 1024 * 1024;

impl<'e> EvaluationQueue<'e> {
    fn new(follow_up: &'e FollowUp, evaluator: Option<&'e mut Evaluator>) -> Self {
        EvaluationQueue {
            follow_up,
            evaluator,
            jobs: Vec::new(),
            jobs_bytes: 0,
            counts: EvaluationCounts::default(),
            announce: follow_up.wants_versions().then(Vec::new),
        }
    }

    fn wants_items(&self) -> bool {
        self.evaluator.is_some()
    }

    fn announcing(&self) -> bool {
        self.announce.is_some()
    }

    fn push(
        &mut self,
        recorder: &mut Recorder<'_>,
        key: Option<ResourceKey>,
        item: Option<ConfigurationItem>,
        version: u64,
        weight: u64,
    ) -> Result<(), StoreError> {
        if let (Some(announce), Some(key)) = (&mut self.announce, key) {
            announce.push((key, version));
        }
        if let Some(item) = item {
            self.jobs.push(Job {
                item,
                version,
                trigger: Trigger::Change,
            });
            self.jobs_bytes += weight;
        }
        if self.jobs.len() >= EVALUATION_BATCH
            || self.jobs_bytes >= EVALUATION_BATCH_BYTES
            || self
                .announce
                .as_ref()
                .is_some_and(|a| a.len() >= EVALUATION_BATCH)
        {
            recorder.commit()?;
            self.run()?;
        }
        Ok(())
    }

    /// Announces the new versions (the recorder must have written them), then judges them.
    fn run(&mut self) -> Result<(), StoreError> {
        if let Some(announce) = &mut self.announce {
            self.follow_up.after_versions(&std::mem::take(announce))?;
        }
        self.jobs_bytes = 0;
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
