//! A pool of evaluators: each user takes one for the duration of its work, so no one waits for
//! another's evaluation (one global evaluator let a slow manual evaluation hold up every ingest).
//! Each evaluator keeps its rule instances warm between uses; a rule change retires them all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use super::AppError;
use crate::evaluator::Evaluator;

/// Idle evaluators kept for reuse; more users than this at once build their own.
const MAX_IDLE: usize = 4;

/// Evaluators of the current rules, idle between uses.
#[derive(Default)]
pub struct EvaluatorPool {
    /// Bumped by every rule change: evaluators built before it are dropped, not reused.
    generation: AtomicU64,
    idle: Mutex<Vec<(u64, Evaluator)>>,
}

impl EvaluatorPool {
    /// Runs `f` with an idle evaluator of the current rules, or a new one from `build`, and
    /// keeps it for the next user unless the rules changed meanwhile.
    pub fn with<T>(
        &self,
        build: impl FnOnce() -> Result<Evaluator, AppError>,
        f: impl FnOnce(&mut Evaluator) -> T,
    ) -> Result<T, AppError> {
        let generation = self.generation.load(Ordering::SeqCst);
        let reused = {
            let mut idle = self.lock();
            idle.retain(|(g, _)| *g == generation);
            idle.pop()
        };
        let mut evaluator = match reused {
            Some((_, evaluator)) => evaluator,
            None => build()?,
        };
        let out = f(&mut evaluator);
        if self.generation.load(Ordering::SeqCst) == generation {
            let mut idle = self.lock();
            if idle.len() < MAX_IDLE {
                idle.push((generation, evaluator));
            }
        }
        Ok(out)
    }

    /// Retires every evaluator: the next user builds one with the current rules.
    pub fn invalidate(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        self.lock().clear();
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(u64, Evaluator)>> {
        // A panic while holding the list leaves it valid (it only pushes and pops).
        self.idle
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
