//! Compliance rules: WebAssembly components hosted with wasmtime.
//!
//! [`component`] checks uploads, [`engine`] compiles and keeps artifacts, [`instance`] runs one
//! rule in its sandbox, [`registry`] keeps definitions in the store, and [`managed`] ships the
//! rules built from `rules-wasm/`.

mod bindings;
pub mod component;
pub mod definition;
pub mod engine;
pub mod instance;
pub mod managed;
pub mod registry;

pub use crate::model::{
    Compliance, EvaluationReport, FailureKind, LogLine, Outcome, RuleDefinition, RuleMetadata,
    RuleParameter, RuleScope, TagFilter, Trigger, Verdict,
};
pub use engine::RuleEngine;
pub use instance::{Limits, ResourceLookup, RuleCall, RuleInput, RuleInstance};
pub use registry::{AddRule, RuleRegistry, UpdateRule};

use crate::store::StoreError;

/// Errors about rules.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The uploaded rule or its settings are not acceptable.
    #[error("invalid rule: {reason}")]
    Invalid {
        /// What is wrong, and where.
        reason: String,
    },
    /// No rule has this name.
    #[error("no rule named {name:?} (see `conftrail rules list`)")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// A rule with this name exists already.
    #[error(
        "a rule named {name:?} exists already (use `conftrail rules update {name}` or --name)"
    )]
    Exists {
        /// The name.
        name: String,
    },
    /// Managed rules can be configured, enabled and disabled but not removed.
    #[error(
        "{name:?} is a managed rule; it cannot be removed (use `conftrail rules disable {name}`)"
    )]
    Managed {
        /// The name.
        name: String,
    },
    /// The WebAssembly engine could not be set up.
    #[error("rule engine: {0}")]
    Engine(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}
