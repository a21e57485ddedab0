//! The audit trail: every change made through a use case is recorded with who made it (the
//! token's name, `local cli`, `configuration file`), from where, and what changed; each entry
//! is logged at info as well.

use serde_json::Value;

use super::{App, AppError};
use crate::model::{now_millis, Actor, AuditEntry, Timestamp};

/// Most entries one query returns.
pub const MAX_AUDIT_ENTRIES: usize = 10_000;

impl App {
    /// The same application, recording its changes as made by `actor`.
    pub fn acting_as(&self, actor: Actor) -> App {
        App {
            inner: self.inner.clone(),
            actor,
        }
    }

    /// Who this handle's changes are recorded as.
    pub fn actor(&self) -> &Actor {
        &self.actor
    }

    /// Records a change made by this handle's actor, durably (changes are rare; the record
    /// must not be lost when the change is kept).
    pub(super) fn audit(&self, action: &str, target: &str, detail: Value) -> Result<(), AppError> {
        record(self, &self.actor, action, target, detail)?;
        self.store().flush()?;
        Ok(())
    }

    /// Records an authentication the API refused (and flushes: nothing else will).
    pub fn audit_refused(&self, actor: &Actor, target: &str, why: &str) -> Result<(), AppError> {
        record(
            self,
            actor,
            "auth.refused",
            target,
            Value::String(why.into()),
        )?;
        self.store().flush()?;
        Ok(())
    }

    /// Entries at or after `since`, oldest first, at most `limit` (and [`MAX_AUDIT_ENTRIES`]).
    pub fn audit_entries(
        &self,
        since: Option<Timestamp>,
        limit: Option<usize>,
    ) -> Result<Vec<AuditEntry>, AppError> {
        let limit = limit.unwrap_or(MAX_AUDIT_ENTRIES).min(MAX_AUDIT_ENTRIES);
        Ok(self.store().audit_entries(since, limit)?)
    }
}

fn record(
    app: &App,
    actor: &Actor,
    action: &str,
    target: &str,
    detail: Value,
) -> Result<(), AppError> {
    let entry = AuditEntry {
        id: app.store().next_id()?,
        time: now_millis(),
        actor: actor.clone(),
        action: action.to_string(),
        target: target.to_string(),
        detail,
    };
    tracing::info!(
        actor = %entry.actor.name,
        source = entry.actor.source.as_deref().unwrap_or("-"),
        action = %entry.action,
        target = %entry.target,
        "audit"
    );
    app.store().append_audit(&entry)?;
    Ok(())
}
