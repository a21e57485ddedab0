//! `conftrail collect`: one sweep of an AWS account, recorded in the local store.

use super::backend::Backend;
use crate::app::collect::{CollectRequest, SweepReport};
use crate::collector::aws::{
    AwsClient, ClientSettings, CredentialChain, CredentialSettings, Endpoints,
};
use anyhow::{bail, Result};
use clap::Args;
use std::collections::BTreeMap;
use std::io::Write;

/// Exit code when a sweep left a scope incomplete or a resource unrecorded.
pub const EXIT_SWEEP_INCOMPLETE: u8 = 4;

/// Arguments of `collect`.
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Profile of the shared AWS config and credentials files [default: the standard chain:
    /// environment, default profile, SSO, web identity, instance metadata].
    #[arg(long, env = "AWS_PROFILE")]
    pub profile: Option<String>,
    /// Role to assume with those credentials (e.g. in another account).
    #[arg(long, value_name = "ARN")]
    pub role_arn: Option<String>,
    /// External id the role's trust policy requires.
    #[arg(long, requires = "role_arn", value_name = "ID")]
    pub external_id: Option<String>,
    /// Regions to sweep, comma-separated [default: the profile's or AWS_REGION].
    #[arg(long, value_delimiter = ',', value_name = "REGION,...")]
    pub regions: Vec<String>,
    /// Resource types to sweep, comma-separated [default: every type the collector describes].
    #[arg(long, value_delimiter = ',', value_name = "TYPE,...")]
    pub types: Vec<String>,
    /// Send every request here instead of AWS (a local emulator); AWS_ENDPOINT_URL and
    /// AWS_ENDPOINT_URL_<SERVICE> are honoured too.
    #[arg(long, value_name = "URL")]
    pub endpoint_url: Option<String>,
    /// Record only; do not evaluate rules on the new versions.
    #[arg(long)]
    pub no_evaluate: bool,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

/// Runs one sweep and prints its report.
pub fn run_collect(out: &mut impl Write, backend: &Backend, args: CollectArgs) -> Result<u8> {
    let app = backend.local("collect")?;
    let credentials = CredentialChain::load(&CredentialSettings {
        profile: args.profile.clone(),
        role_arn: args.role_arn.clone(),
        external_id: args.external_id.clone(),
    })?;
    let regions = if args.regions.is_empty() {
        match credentials.default_region() {
            Some(region) => vec![region.to_string()],
            None => bail!(
                "no region to sweep: give --regions, or set AWS_REGION or the profile's region"
            ),
        }
    } else {
        args.regions.clone()
    };
    let endpoints = Endpoints::from_environment(args.endpoint_url.clone(), BTreeMap::new());
    let client = AwsClient::new(credentials, endpoints, ClientSettings::default());
    let report = app.collect(
        &client,
        &CollectRequest {
            regions,
            types: args.types.clone(),
            evaluate: !args.no_evaluate,
        },
    )?;
    if args.json {
        writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    } else {
        print_report(out, &report)?;
    }
    Ok(if report.is_clean() {
        0
    } else {
        EXIT_SWEEP_INCOMPLETE
    })
}

fn print_report(out: &mut impl Write, report: &SweepReport) -> Result<()> {
    for scope in &report.scopes {
        let state = if scope.complete { "" } else { " INCOMPLETE" };
        let line = format!(
            "{} {}: {} resources, {} new versions, {} unchanged, {} deleted, {} ms{state}",
            scope.region,
            scope.resource_type,
            scope.resources,
            scope.new_versions,
            scope.unchanged,
            scope.deleted,
            scope.duration_ms
        );
        writeln!(out, "{line}")?;
        for error in &scope.errors {
            eprintln!("error: {} {}: {error}", scope.region, scope.resource_type);
        }
    }
    writeln!(out, "{}", report.summary())?;
    if let Some(counts) = &report.evaluations {
        writeln!(out, "rules: {}", counts.summary())?;
    }
    Ok(())
}
