//! Evaluation use cases: judge a rule's scope now (manual, or on its schedule).

use super::{App, AppError};
use crate::evaluator::{EvaluationCounts, ScopeFilter};
use crate::model::Trigger;

impl App {
    /// Judges the latest version of every resource in a rule's scope (narrowed by `filter`)
    /// with an evaluator of its own, then flushes.
    pub fn evaluate_rule(
        &self,
        rule: &str,
        filter: &ScopeFilter,
        trigger: Trigger,
    ) -> Result<EvaluationCounts, AppError> {
        let counts =
            self.with_evaluator(|evaluator| evaluator.evaluate_scope(rule, filter, trigger))??;
        self.store().flush()?;
        Ok(counts)
    }
}
