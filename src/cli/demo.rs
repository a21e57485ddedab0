//! `conftrail demo`: starts the server on a fresh data directory and plays the bundled scenario
//! (`examples/scenario/`) through the public HTTP API: a small account, changes by named people
//! with their CloudTrail calls (some late), two violations, automatic remediation by a small
//! local webhook that applies the fix and sends the resulting item and call back, and the
//! verified outcome. Then it prints the story and keeps serving until Ctrl-C (or exits, `--once`).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use axum::extract::State;
use axum::routing::post;
use axum::Json;
use serde_json::{json, Value};

use super::client::{Body, Client, NO_QUERY};
use crate::api::Tokens;
use crate::app::App;
use crate::config_file::ConfigFile;
use crate::query::{self, ResourceSelector};
use crate::runtime::server::{Server, ServerSettings};
use crate::runtime::RuntimeOptions;
use crate::store::Store;

/// The scenario, embedded so the demo runs from any directory.
const SCENARIO: [(&str, &str, &[u8]); 5] = [
    (
        "01-baseline-items.json",
        "09:00 AWS Config records the stack: 3 security groups, 2 buckets, 1 instance",
        include_bytes!("../../examples/scenario/01-baseline-items.json"),
    ),
    (
        "02-baseline-events.json",
        "the Terraform run (role Deployer) that built it",
        include_bytes!("../../examples/scenario/02-baseline-events.json"),
    ),
    (
        "03-changes-items.json",
        "10:06-10:42 four changes: logs bucket tagged, SSH opened on web, db rule added, assets bucket made public",
        include_bytes!("../../examples/scenario/03-changes-items.json"),
    ),
    (
        "04-changes-events.json",
        "the calls behind them: dev-alice, contractor-bob, Deployer (and a failed and a read-only call)",
        include_bytes!("../../examples/scenario/04-changes-events.json"),
    ),
    (
        "05-late-events.json",
        "late CloudTrail delivery: bob's 10:05 tagging call and a failed DeleteBucket at 10:50",
        include_bytes!("../../examples/scenario/05-late-events.json"),
    ),
];

const WEB_SG: (&str, &str) = ("AWS::EC2::SecurityGroup", "sg-0d3m0web00000001");
const ASSETS: (&str, &str) = ("AWS::S3::Bucket", "acme-demo-assets");
const FIXER_ROLE: &str =
    "arn:aws:sts::444455556666:assumed-role/ConftrailRemediation/conftrail-fixer";

/// Arguments of `demo`.
#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Address to serve the console and the API on while and after the scenario plays.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Exit after the scenario instead of serving until Ctrl-C.
    #[arg(long)]
    pub once: bool,
}

/// What the demo's local webhook saw.
#[derive(Default)]
struct Fixer {
    api: String,
    fixes: Vec<String>,
    alerts: Vec<String>,
}

/// Runs the demo in a store of its own: `data_dir` when it is new or empty (a non-empty one is
/// refused, it may be someone's real store), else a temporary directory removed afterwards.
pub fn run(out: &mut impl Write, data_dir: Option<&Path>, args: DemoArgs) -> Result<u8> {
    let temp;
    let dir = match data_dir {
        Some(dir) => {
            refuse_non_empty(dir)?;
            dir
        }
        None => {
            temp = tempfile::Builder::new()
                .prefix("conftrail-demo-")
                .tempdir()
                .context("creating a temporary data directory")?;
            temp.path()
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(args.listen))
        .with_context(|| {
            format!(
                "cannot listen on {} (try --listen 127.0.0.1:0)",
                args.listen
            )
        })?;
    let base = format!("http://{}", listener.local_addr()?);
    let server = Server::start(
        App::new(Store::open(dir)?)?,
        ServerSettings {
            listen: listener.local_addr()?,
            tokens: Tokens::default(),
            workers: true,
            runtime: RuntimeOptions::default(),
            file: ConfigFile::default(),
        },
    )?;
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let serving = runtime.spawn(server.serve(listener, async {
        let _ = stop_rx.await;
    }));
    let fixer = Arc::new(Mutex::new(Fixer {
        api: base.clone(),
        ..Fixer::default()
    }));
    let fixer_listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let fixer_url = format!("http://{}", fixer_listener.local_addr()?);
    let fixer_app = axum::Router::new()
        .route("/fix", post(fix))
        .route("/alerts", post(alert))
        .with_state(fixer.clone());
    runtime.spawn(async move { axum::serve(fixer_listener, fixer_app).await });

    writeln!(out, "Console: {base}/ (open it in a browser)")?;
    out.flush()?;
    let played = play(
        out,
        dir,
        &base,
        &fixer_url,
        server.state.app.store(),
        &fixer,
    );
    if played.is_ok() && !args.once {
        let signals = runtime
            .block_on(async { crate::runtime::signals::StopSignals::listen() })
            .context("catching stop signals")?;
        writeln!(
            out,
            "\nServing until Ctrl-C: the console at {base}/, the API under {base}/v1."
        )?;
        out.flush()?;
        runtime.block_on(signals.stopped());
    }
    let _ = stop_tx.send(());
    let _ = runtime.block_on(serving);
    server.stop()?;
    played?;
    Ok(0)
}

/// The demo rewrites rules, remediation and subscriptions and adds fake resources: it never
/// plays in a directory that holds anything.
fn refuse_non_empty(dir: &Path) -> Result<()> {
    let mut entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", dir.display())),
    };
    if entries.next().is_some() {
        bail!(
            "{} is not empty; the demo plays only in a store of its own (give it a new or empty \
             directory, or no --data-dir for a temporary one)",
            dir.display()
        );
    }
    Ok(())
}

fn play(
    out: &mut impl Write,
    dir: &Path,
    base: &str,
    fixer_url: &str,
    store: &Store,
    fixer: &Mutex<Fixer>,
) -> Result<()> {
    let api = Client::new(base, None)?;
    writeln!(
        out,
        "== conftrail demo: server on {base}, data in {} ==",
        dir.display()
    )?;
    writeln!(out, "\n== Setting up through the API ==")?;
    let _: Value = api.send(
        "PATCH",
        "/v1/rules/vpc-sg-open-only-to-authorized-ports",
        &NO_QUERY,
        Body::Json(json!({"parameters": {"authorizedTcpPorts": "443"}})),
    )?;
    writeln!(out, "PATCH /v1/rules/vpc-sg-open-only-to-authorized-ports: HTTPS (443) may be open to the world")?;
    for rule in ["restricted-ssh", "s3-bucket-level-public-access-prohibited"] {
        let _: Value = api.send(
            "PUT",
            &format!("/v1/remediation/configurations/{rule}"),
            &NO_QUERY,
            Body::Json(json!({
                "action": "webhook", "url": format!("{fixer_url}/fix"), "automatic": true,
                "max_attempts": 3, "backoff": "200ms..2s",
            })),
        )?;
        writeln!(
            out,
            "PUT /v1/remediation/configurations/{rule}: automatic, webhook {fixer_url}/fix"
        )?;
    }
    let _: Value = api.send(
        "PUT",
        "/v1/subscriptions/delete-bucket-alerts",
        &NO_QUERY,
        Body::Json(json!({
            "url": format!("{fixer_url}/alerts"), "kinds": ["api-event"],
            "api_events": {"event_sources": ["s3.amazonaws.com"], "event_names": ["DeleteBucket"]},
        })),
    )?;
    writeln!(out, "PUT /v1/subscriptions/delete-bucket-alerts: tell {fixer_url}/alerts about any DeleteBucket call")?;

    writeln!(
        out,
        "\n== Playing examples/scenario through POST /v1/ingest =="
    )?;
    for (name, what, bytes) in SCENARIO {
        let report = ingest(&api, name, bytes)?;
        let evaluated = report["evaluations"]["nonCompliant"].as_u64().unwrap_or(0);
        writeln!(
            out,
            "{name}: {what}\n    {} items ({} new versions), {} events; {} non-compliant verdicts",
            report["items"], report["newVersions"], report["events"], evaluated
        )?;
    }

    // The worker runs the automatic jobs; the fixer sends the fixed items back; the next
    // verdicts verify the jobs.
    let deadline = Instant::now() + Duration::from_secs(60);
    let jobs = loop {
        let jobs: Value = api.get("/v1/remediation/jobs", &NO_QUERY)?;
        let list = jobs["jobs"].as_array().cloned().unwrap_or_default();
        let settled = !list.is_empty()
            && list.iter().all(|j| {
                matches!(
                    j["state"].as_str(),
                    Some("verified" | "notEffective" | "failed" | "cancelled")
                )
            });
        let alerted = fixer.lock().map(|f| !f.alerts.is_empty()).unwrap_or(false);
        if settled && alerted {
            break list;
        }
        if Instant::now() > deadline {
            bail!(
                "the scenario did not settle within 60 s: jobs {}",
                Value::Array(list)
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };

    writeln!(
        out,
        "\n== Remediation: the local webhook applied each fix and sent the result back =="
    )?;
    if let Ok(f) = fixer.lock() {
        for line in &f.fixes {
            writeln!(out, "{line}")?;
        }
    }
    for job in &jobs {
        writeln!(
            out,
            "job {} {} on {}: {} after {} attempt(s){}",
            job["id"],
            job["ruleName"].as_str().unwrap_or(""),
            job["resourceId"].as_str().unwrap_or(""),
            job["state"].as_str().unwrap_or(""),
            job["attempts"].as_array().map_or(0, Vec::len),
            job["verifiedByVersion"]
                .as_u64()
                .map(|v| format!(" (version {v} is compliant)"))
                .unwrap_or_default()
        )?;
    }
    writeln!(out, "\n== Subscription delete-bucket-alerts received ==")?;
    if let Ok(f) = fixer.lock() {
        for line in &f.alerts {
            writeln!(out, "{line}")?;
        }
    }

    writeln!(out, "\n== Compliance now ==")?;
    let summary = crate::evaluator::compliance_summary(
        store,
        &store.rule_definitions()?,
        &Default::default(),
    )?;
    super::render::compliance_text(out, &summary, false)?;

    for (resource_type, resource_id) in [WEB_SG, ASSETS] {
        let key = query::resolve(
            store,
            &ResourceSelector {
                resource_type: resource_type.into(),
                resource_id: resource_id.into(),
                ..Default::default()
            },
        )?;
        writeln!(out, "\n== Who changed {resource_id}: versions, the calls behind them, verdicts, remediation ==")?;
        super::events::timeline_text(out, &crate::timeline::timeline(store, &key)?)?;
    }

    writeln!(
        out,
        "\nExplore (while it serves):\n  curl {base}/v1/resources/{}/{}/timeline\n  curl {base}/v1/compliance\n  curl '{base}/v1/events?user=contractor-bob&format=csv'\n  curl {base}/v1/remediation/jobs\n  curl -N {base}/v1/stream\n  curl {base}/v1/openapi.json\n  curl {base}/metrics",
        WEB_SG.0, WEB_SG.1
    )?;
    Ok(())
}

/// Sends one document to `POST /v1/ingest`; its report.
fn ingest(api: &Client, source: &str, bytes: &[u8]) -> Result<Value> {
    api.send(
        "POST",
        "/v1/ingest",
        &[("source", source)],
        Body::Bytes(bytes, "application/json"),
    )
}

/// The demo's remediation webhook: reads the resource through the API, applies the fix, and
/// sends the fixed configuration item and the CloudTrail call that made it back to the API.
async fn fix(
    State(fixer): State<Arc<Mutex<Fixer>>>,
    Json(job): Json<Value>,
) -> axum::http::StatusCode {
    let api = match fixer.lock() {
        Ok(f) => f.api.clone(),
        Err(_) => return axum::http::StatusCode::INTERNAL_SERVER_ERROR,
    };
    let applied = tokio::task::spawn_blocking(move || apply_fix(&api, &job)).await;
    match applied {
        Ok(Ok(line)) => {
            if let Ok(mut f) = fixer.lock() {
                f.fixes.push(line);
            }
            axum::http::StatusCode::OK
        }
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "demo fixer failed");
            axum::http::StatusCode::BAD_GATEWAY
        }
        Err(_) => axum::http::StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn apply_fix(api: &str, job: &Value) -> Result<String> {
    let api = Client::new(api, None)?;
    let (rtype, rid) = (
        job["resourceType"].as_str().unwrap_or_default(),
        job["resourceId"].as_str().unwrap_or_default(),
    );
    let mut item: Value = api.get(
        &Client::path(&["", "v1", "resources", rtype, rid]),
        &NO_QUERY,
    )?;
    let captured = chrono::DateTime::parse_from_rfc3339(
        item["configurationItemCaptureTime"]
            .as_str()
            .unwrap_or_default(),
    )
    .context("capture time of the item to fix")?;
    let call_time = captured + chrono::Duration::minutes(3);
    let capture = call_time + chrono::Duration::seconds(20);
    let (event_source, event_name, request, what) = match rtype {
        "AWS::EC2::SecurityGroup" => {
            if let Some(perms) = item["configuration"]["ipPermissions"].as_array_mut() {
                perms.retain(|p| {
                    let port22 = p["fromPort"].as_i64().is_some_and(|f| f <= 22)
                        && p["toPort"].as_i64().is_some_and(|t| t >= 22);
                    let world = p["ipv4Ranges"]
                        .as_array()
                        .is_some_and(|r| r.iter().any(|c| c["cidrIp"] == "0.0.0.0/0"));
                    !(port22 && world)
                });
            }
            (
                "ec2.amazonaws.com",
                "RevokeSecurityGroupIngress",
                json!({"groupId": rid, "ipPermissions": {"items": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": {"items": [{"cidrIp": "0.0.0.0/0"}]}}]}}),
                "revoked tcp 22 from 0.0.0.0/0",
            )
        }
        "AWS::S3::Bucket" => {
            item["supplementaryConfiguration"]["PublicAccessBlockConfiguration"] = json!({
                "blockPublicAcls": true, "ignorePublicAcls": true, "blockPublicPolicy": true, "restrictPublicBuckets": true
            });
            item["supplementaryConfiguration"]["BucketPolicy"] = json!({"policyText": null});
            (
                "s3.amazonaws.com",
                "PutBucketPublicAccessBlock",
                json!({"bucketName": rid, "PublicAccessBlockConfiguration": {"BlockPublicAcls": true, "IgnorePublicAcls": true, "BlockPublicPolicy": true, "RestrictPublicBuckets": true}}),
                "blocked public access and removed the public policy",
            )
        }
        other => bail!("the demo fixer does not know how to fix {other}"),
    };
    item["configurationItemCaptureTime"] =
        json!(capture.to_rfc3339_opts(chrono::SecondsFormat::Millis, true));
    for field in ["configurationItemVersion", "relatedEvents", "version"] {
        if let Some(object) = item.as_object_mut() {
            object.remove(field);
        }
    }
    let event = json!({"Records": [{
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROADEMOFIXER:conftrail-fixer", "arn": FIXER_ROLE,
            "accountId": job["awsAccountId"], "sessionContext": {"sessionIssuer": {"type": "Role",
            "arn": "arn:aws:iam::444455556666:role/ConftrailRemediation", "userName": "ConftrailRemediation"}}},
        "eventTime": call_time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "eventSource": event_source, "eventName": event_name, "awsRegion": job["awsRegion"],
        "sourceIPAddress": "127.0.0.1", "userAgent": "conftrail-demo-fixer",
        "requestParameters": request, "responseElements": null,
        "requestID": format!("fix-{}", job["jobId"]), "eventID": format!("00000000-0000-4000-8000-{:012}", job["jobId"].as_u64().unwrap_or(0)),
        "readOnly": false, "eventType": "AwsApiCall", "managementEvent": true,
        "recipientAccountId": job["awsAccountId"], "eventCategory": "Management",
    }]});
    ingest(&api, "demo-fixer-event", event.to_string().as_bytes())?;
    let items = json!({"configurationItems": [item]});
    ingest(&api, "demo-fixer-item", items.to_string().as_bytes())?;
    Ok(format!(
        "fixer: {} on {rid} ({}): {what}; sent the new configuration item and the {event_name} call",
        job["ruleName"].as_str().unwrap_or(""), rtype
    ))
}

/// The demo's subscription endpoint for DeleteBucket calls.
async fn alert(
    State(fixer): State<Arc<Mutex<Fixer>>>,
    Json(event): Json<Value>,
) -> axum::http::StatusCode {
    let line = format!(
        "{} {} by {} at {}{}",
        event["source"].as_str().unwrap_or(""),
        event["detail"]["eventName"].as_str().unwrap_or(""),
        event["detail"]["userIdentity"]["userName"]
            .as_str()
            .unwrap_or("?"),
        event["time"].as_str().unwrap_or(""),
        event["detail"]["errorCode"]
            .as_str()
            .map(|c| format!(" (failed: {c})"))
            .unwrap_or_default()
    );
    if let Ok(mut f) = fixer.lock() {
        f.alerts.push(line);
    }
    axum::http::StatusCode::OK
}
