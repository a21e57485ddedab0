//! conftrail: a self-hosted configuration compliance recorder.
//!
//! The pipeline, one module per step: [`ingest`] parses inputs (configuration items and
//! CloudTrail records) into [`model`] types, the [`recorder`] turns items into versions kept by
//! the [`store`], the [`linker`] ties API calls to the versions they caused, [`evaluator`] runs
//! the [`rules`], [`remediation`] fixes what they find non-compliant (with the [`scheduler`]
//! running rules periodically), [`notify`] tells subscribers and live listeners about changes, and [`pipeline`] runs the steps over files. [`diff`], [`query`] and
//! [`timeline`] answer questions; [`cli`] sits on top.

pub mod api;
pub mod cli;
pub mod config_file;
pub mod diff;
pub mod evaluator;
pub mod ingest;
pub mod linker;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod pipeline;
pub mod query;
pub mod recorder;
pub mod remediation;
pub mod rules;
pub mod scheduler;
pub mod settings;
pub mod store;
pub mod timeline;
