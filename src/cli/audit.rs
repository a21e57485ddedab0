//! `conftrail audit`: who changed what, when, from where.

use std::io::Write;

use anyhow::Result;
use clap::Args;

use super::backend::Backend;
use super::render::table;
use crate::app::lists::AuditList;
use crate::model::{format_time, Timestamp};

/// Arguments of `audit`.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Entries at or after this time (RFC 3339, date, or epoch seconds).
    #[arg(long, value_parser = crate::model::parse_time_arg)]
    pub since: Option<Timestamp>,
    /// At most this many entries (default and most: 10000).
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=10_000))]
    pub limit: Option<u16>,
    /// Print `{"entries": [...]}` as `GET /v1/audit` answers.
    #[arg(long)]
    pub json: bool,
}

/// Runs `audit`.
pub fn run_audit(out: &mut impl Write, backend: &Backend, args: AuditArgs) -> Result<u8> {
    let entries = backend.audit(args.since, args.limit.map(usize::from))?;
    if args.json {
        writeln!(
            out,
            "{}",
            serde_json::to_string_pretty(&AuditList { entries })?
        )?;
        return Ok(0);
    }
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            vec![
                format_time(&e.time),
                e.actor.name.clone(),
                e.actor.source.clone().unwrap_or_else(|| "-".into()),
                e.action.clone(),
                e.target.clone(),
            ]
        })
        .collect();
    table(out, &["TIME", "WHO", "FROM", "ACTION", "TARGET"], &rows)?;
    Ok(0)
}
