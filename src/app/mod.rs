//! The application layer: one function per use case, shared by every front end (the CLI, the
//! HTTP API). A use case calls the pipeline stages and the store, and is the one place that
//! decides what follows a write: verdicts after new versions, notifications after changes,
//! remediation jobs after verdicts, wake-ups of the background workers (see [`follow_up`]).

mod accounts;
pub mod audit;
pub mod collect;
pub mod collector;
mod configure;
mod evaluate;
mod evaluators;
pub mod events;
pub mod follow_up;
pub mod ingest;
pub mod lists;
pub mod overview;
pub mod queries;
mod remediation;
mod rules;
pub mod trail;
pub mod wake;

use std::path::Path;
use std::sync::{Arc, OnceLock};

pub use evaluators::EvaluatorPool;
pub use ingest::{IngestError, IngestReport, Problem, ProblemKind};
pub use rules::RuleChange;
pub use wake::Wake;

use crate::linker::EventMap;
use crate::model::Actor;
use crate::notify::Notifier;
use crate::rules::{RuleEngine, RuleError, RuleRegistry};
use crate::store::{Store, StoreError};

/// Why a use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// The store failed; what was acknowledged before is intact.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A rule, its upload or its settings.
    #[error(transparent)]
    Rule(#[from] RuleError),
    /// Settings that do not pass the checks.
    #[error(transparent)]
    Settings(#[from] crate::settings::SettingsError),
    /// A resource or version that is not there, or ambiguous.
    #[error(transparent)]
    Query(#[from] crate::query::QueryError),
    /// A remediation run that cannot be queued.
    #[error(transparent)]
    Run(#[from] crate::remediation::RunError),
    /// An ingest that could not run.
    #[error(transparent)]
    Ingest(#[from] IngestError),
    /// The request conflicts with the current state (e.g. evaluating a disabled rule).
    #[error("{0}")]
    Conflict(String),
    /// Something named does not exist.
    #[error("{0}")]
    NotFound(String),
    /// A request that is not acceptable as given.
    #[error("{0}")]
    Invalid(String),
    /// A cloud API call that a whole operation depends on failed (who the account is, say).
    #[error(transparent)]
    Cloud(#[from] crate::collector::aws::AwsError),
}

/// Evaluation threads per evaluator: one per core.
pub fn default_evaluation_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The background workers' wake-up calls, set by the use cases that make work for them.
#[derive(Debug, Default)]
pub struct Wakes {
    /// A remediation job was queued or became due.
    pub jobs: Wake,
    /// A webhook delivery was queued.
    pub deliveries: Wake,
    /// Rules (and so schedules) changed.
    pub rules: Wake,
}

/// The application: the store and everything the use cases share. Clones share it all.
#[derive(Clone)]
pub struct App {
    inner: Arc<Inner>,
    /// Who the changes made through this handle are recorded as (see [`App::acting_as`]).
    actor: Actor,
}

struct Inner {
    store: Store,
    notifier: Arc<Notifier>,
    event_map: EventMap,
    registry: OnceLock<RuleRegistry>,
    evaluation_workers: usize,
    evaluators: EvaluatorPool,
    wakes: Arc<Wakes>,
    /// The accounts a server sweeps (empty elsewhere).
    collector: std::sync::RwLock<Arc<collector::Collector>>,
}

impl App {
    /// The application over an open store, with the built-in event-resource table.
    pub fn new(store: Store) -> Result<App, AppError> {
        App::with_event_map(store, EventMap::builtin())
    }

    /// The application over an open store, with a given event-resource table. Loads the
    /// subscriptions, so that every change made through it is delivered.
    pub fn with_event_map(store: Store, event_map: EventMap) -> Result<App, AppError> {
        let notifier = Arc::new(Notifier::default());
        notifier.set_subscriptions(store.subscriptions()?);
        Ok(App {
            inner: Arc::new(Inner {
                store,
                notifier,
                event_map,
                registry: OnceLock::new(),
                evaluation_workers: default_evaluation_workers(),
                evaluators: EvaluatorPool::default(),
                wakes: Arc::default(),
                collector: Default::default(),
            }),
            actor: Actor::local_cli(),
        })
    }

    /// Opens the store in `dir` (caching at most `cache_mib` MiB) and the application over it.
    pub fn open(dir: &Path, event_map: EventMap, cache_mib: u64) -> Result<App, AppError> {
        App::with_event_map(Store::open_with(dir, cache_mib)?, event_map)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// Live listeners and webhook subscriptions.
    pub fn notifier(&self) -> &Arc<Notifier> {
        &self.inner.notifier
    }

    /// The event-resource table used by ingest.
    pub fn event_map(&self) -> &EventMap {
        &self.inner.event_map
    }

    /// The background workers' wake-up calls.
    pub fn wakes(&self) -> &Arc<Wakes> {
        &self.inner.wakes
    }

    /// The rule registry, opened (and the managed rules installed) on first use.
    pub fn registry(&self) -> Result<&RuleRegistry, AppError> {
        if let Some(registry) = self.inner.registry.get() {
            return Ok(registry);
        }
        let registry = RuleRegistry::open(&self.inner.store, RuleEngine::new()?)?;
        // Another thread may have opened it meanwhile; either copy is the same registry.
        Ok(self.inner.registry.get_or_init(|| registry))
    }

    /// Runs `f` with an evaluator of the current rules, taken from the pool (or built): each
    /// caller has its own, so ingests, manual evaluations and schedules never wait for one
    /// another, and a slow rule delays only the work that runs it.
    pub fn with_evaluator<T>(
        &self,
        f: impl FnOnce(&mut crate::evaluator::Evaluator) -> T,
    ) -> Result<T, AppError> {
        self.inner.evaluators.with(
            || {
                let registry = self.registry()?;
                let evaluator = crate::evaluator::Evaluator::new(
                    registry,
                    &self.inner.store,
                    self.inner.evaluation_workers,
                )?;
                Ok(evaluator.with_sink(follow_up::verdict_sink(self)))
            },
            f,
        )
    }

    /// Runs `f` with an evaluator when `evaluate` is true, else without one (recording only).
    pub fn maybe_with_evaluator<T>(
        &self,
        evaluate: bool,
        f: impl FnOnce(Option<&mut crate::evaluator::Evaluator>) -> T,
    ) -> Result<T, AppError> {
        if evaluate {
            self.with_evaluator(|evaluator| f(Some(evaluator)))
        } else {
            Ok(f(None))
        }
    }

    /// After rules changed: evaluators are rebuilt on next use and the schedules reloaded.
    pub fn rules_changed(&self) {
        self.inner.evaluators.invalidate();
        self.inner.wakes.rules.notify();
    }

    /// Replaces the live subscription list with the stored one (after a change).
    pub fn reload_subscriptions(&self) -> Result<(), AppError> {
        self.inner
            .notifier
            .set_subscriptions(self.inner.store.subscriptions()?);
        Ok(())
    }
}
