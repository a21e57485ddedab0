//! Refused authentications in the audit trail, for the API and the console alike: at most one
//! a second, so a flood of bad tokens cannot fill the disk, written off the async threads.

use std::sync::atomic::{AtomicI64, Ordering};

use super::Denied;
use crate::app::App;
use crate::model::Actor;

/// The second of the last refusal recorded.
#[derive(Debug, Default)]
pub struct Refusals {
    last_recorded: AtomicI64,
}

impl Refusals {
    /// Records that `target` (`METHOD /path`) was refused to a client at `source`, unless one
    /// was recorded this second already. Must be called within a tokio runtime.
    pub fn record(&self, app: &App, target: String, source: Option<String>, denied: Denied) {
        let second = crate::model::now_millis().timestamp();
        if self.last_recorded.swap(second, Ordering::Relaxed) == second {
            tracing::debug!("refused authentication not recorded (one a second)");
            return;
        }
        let why = match denied {
            Denied::Unauthenticated => "no valid token".to_string(),
            Denied::Forbidden(role) => format!("the token's role is {}", role.as_str()),
        };
        let actor = Actor {
            name: match denied {
                Denied::Unauthenticated => "unauthenticated".into(),
                Denied::Forbidden(role) => format!("a {} token", role.as_str()),
            },
            source,
        };
        let app = app.clone();
        tokio::task::spawn_blocking(move || {
            if let Err(e) = app.audit_refused(&actor, &target, &why) {
                tracing::warn!(error = %e, "cannot record a refused authentication");
            }
        });
    }
}
