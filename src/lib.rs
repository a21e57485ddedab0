//! conftrail: a self-hosted configuration compliance recorder.
//!
//! The pipeline, one module per step: [`ingest`] parses inputs into [`model`] types, the
//! [`recorder`] turns them into versions kept by the [`store`], [`diff`] compares versions, and
//! [`pipeline`] runs the steps over files. [`cli`] sits on top.

pub mod cli;
pub mod diff;
pub mod evaluator;
pub mod ingest;
pub mod model;
pub mod pipeline;
pub mod query;
pub mod recorder;
pub mod rules;
pub mod store;
