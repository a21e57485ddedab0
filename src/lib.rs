//! conftrail: a self-hosted configuration compliance recorder.
//!
//! Layers, one direction only (each imports only from those below it):
//! - front ends: [`cli`] (local, or a client of a running server), [`api`] (HTTP) and
//!   [`console`] (web pages); [`auth`] holds the tokens and sessions both servers check;
//! - [`runtime`]: the composition root of long-running processes (the server, the background
//!   workers, signals);
//! - [`app`]: the use cases every front end calls, and the one place that decides what follows
//!   a write (verdicts, notifications, remediation jobs, wake-ups);
//! - pipeline stages: [`ingest`] parses inputs into [`model`] types, the [`recorder`] turns
//!   items into versions, [`linker`] ties API calls to the versions they caused (computed when
//!   read, so a late CloudTrail record links as well as an early one), [`evaluator`] runs the
//!   [`rules`], [`remediation`] holds the job queue's rules and runs actions, [`notify`] builds
//!   notifications and delivers webhooks; [`diff`], [`query`] and [`timeline`] answer questions;
//!   [`scheduler`] parses cron schedules; [`settings`] and [`config_file`] check settings;
//! - [`store`]: the only code that touches the storage engine;
//! - [`model`]: the data types everyone speaks; [`metrics`] and [`http`] (the one outbound
//!   HTTP client) serve every layer.

pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod collector;
pub mod config_file;
pub mod console;
pub mod diff;
pub mod evaluator;
pub mod http;
pub mod ingest;
pub mod linker;
pub mod metrics;
pub mod model;
pub mod notify;
pub mod query;
pub mod recorder;
pub mod remediation;
pub mod rules;
pub mod runtime;
pub mod scheduler;
pub mod settings;
pub mod store;
pub mod timeline;
