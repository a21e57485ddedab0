//! The HTTP API over real HTTP on 127.0.0.1: `conftrail serve` as a process, ureq as the client.

mod common;

use common::server::{Server, ADMIN, INGEST, READ};

const WEB_SG: &str = common::WEB_SG[1];
use common::{describe, repo};
use serde_json::Value;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .build()
        .into()
}

/// (status, JSON body) of a GET.
fn get(base: &str, path: &str, token: Option<&str>) -> (u16, Value) {
    let mut request = agent().get(format!("{base}{path}"));
    if let Some(token) = token {
        request = request.header("Authorization", format!("Bearer {token}"));
    }
    let mut response = request.call().expect("request");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn post(base: &str, path: &str, token: &str, body: &[u8]) -> (u16, Value) {
    let mut response = agent()
        .post(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {token}"))
        .send(body)
        .expect("request");
    let status = response.status().as_u16();
    let text = response.body_mut().read_to_string().expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn read_and_ingest_routes_with_roles_and_json_errors() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&tmp.path().join("data"));
    let base = server.base.clone();

    let (status, body) = get(&base, "/healthz", None);
    assert_eq!((status, body), (200, Value::String("ok".into())));
    let (status, body) = get(&base, "/v1/resources", None);
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "unauthorized");
    let (status, body) = get(&base, "/v1/resources", Some("wrong-token"));
    assert_eq!(status, 401, "{body}");

    // A read token cannot ingest; an ingest token can.
    let snapshot = std::fs::read(repo("examples/data/01-config-snapshot.json")).expect("example");
    let (status, body) = post(&base, "/v1/ingest", READ, &snapshot);
    assert_eq!(status, 403, "{body}");
    assert_eq!(body["error"], "forbidden");
    let (status, body) = post(&base, "/v1/ingest", INGEST, &snapshot);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["newVersions"], 3);
    for name in [
        "03-notifications.jsonl",
        "04-config-history-late.json",
        "05-cloudtrail.json",
    ] {
        let bytes = std::fs::read(repo(&format!("examples/data/{name}"))).expect("example");
        let (status, body) = post(&base, "/v1/ingest", INGEST, &bytes);
        assert_eq!(status, 200, "{name}: {body}");
    }
    let (status, body) = post(&base, "/v1/ingest", INGEST, b"{not json");
    assert_eq!(status, 400, "nothing usable in the body: {body}");
    assert_eq!(body["errors"], 1, "the broken record is reported: {body}");

    let (status, body) = get(
        &base,
        "/v1/resources?type=AWS::EC2::SecurityGroup",
        Some(READ),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["resources"].as_array().map(Vec::len), Some(3));

    let sg = format!("/v1/resources/AWS::EC2::SecurityGroup/{WEB_SG}");
    let (status, page) = get(&base, &format!("{sg}/history?limit=2"), Some(READ));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["configurationItems"].as_array().map(Vec::len), Some(2));
    let next = page["nextToken"].as_str().expect("a next page");
    let (_, rest) = get(
        &base,
        &format!("{sg}/history?limit=2&next={next}"),
        Some(READ),
    );
    // Four versions: two pages of two, the last without a token.
    assert_eq!(rest["configurationItems"].as_array().map(Vec::len), Some(2));
    assert!(rest.get("nextToken").is_none(), "{rest}");

    let (status, item) = get(&base, &format!("{sg}/versions/2"), Some(READ));
    assert_eq!(status, 200, "{item}");
    assert_eq!(
        item["configurationItemCaptureTime"],
        "2024-05-02T14:03:12.000Z"
    );
    assert_eq!(
        item["relatedEvents"][0],
        "0d6a7c1e-8b2f-4c55-9e1a-000000000004"
    );
    let (status, body) = get(&base, &format!("{sg}/versions/99"), Some(READ));
    assert_eq!(status, 404, "{body}");
    assert_eq!(body["error"], "notFound");
    let (status, body) = get(
        &base,
        "/v1/resources/AWS::EC2::SecurityGroup/sg-nope",
        Some(READ),
    );
    assert_eq!(status, 404, "{body}");
    let (status, diff) = get(&base, &format!("{sg}/diff?from=4&to=2"), Some(READ));
    assert_eq!(status, 200, "{diff}");
    assert!(diff["configurationItemDiff"]["changedProperties"]
        .get("Configuration.IpPermissions.3")
        .is_some());
    let (status, timeline) = get(&base, &format!("{sg}/timeline"), Some(READ));
    assert_eq!(status, 200, "{timeline}");
    let linked: Vec<&Value> = timeline["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .flat_map(|e| e["apiCalls"].as_array().into_iter().flatten())
        .collect();
    assert!(
        linked.iter().any(|c| c["username"] == "dev-alice"),
        "{timeline}"
    );

    let (status, compliance) = get(&base, "/v1/compliance?state=NON_COMPLIANT", Some(READ));
    assert_eq!(status, 200, "{compliance}");
    assert!(compliance["verdicts"]
        .as_array()
        .is_some_and(|v| !v.is_empty()));
    let (status, jobs) = get(&base, "/v1/remediation/jobs?state=failed", Some(READ));
    assert_eq!(
        (status, jobs["jobs"].as_array().map(Vec::len)),
        (200, Some(0))
    );

    let (status, body) = get(&base, &format!("{sg}/history?order=sideways"), Some(READ));
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("sideways")),
        "{body}"
    );
    let (status, body) = get(&base, "/v1/nothing-here", Some(READ));
    assert_eq!(
        (status, &body["error"]),
        (404, &Value::String("notFound".into()))
    );
    server.stop();
}

#[test]
fn without_tokens_only_loopback_is_allowed() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(tmp.path())
        .args(["serve", "--listen", "0.0.0.0:0"])
        .env_remove("CONFTRAIL_API_TOKENS")
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("refusing to listen on 0.0.0.0:0 without tokens"),
        "{}",
        describe(&out)
    );
}

/// (status, body as JSON or text) of any request.
fn send(
    base: &str,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> (u16, Value) {
    let url = format!("{base}{path}");
    let auth = token.map(|t| format!("Bearer {t}"));
    let agent = agent();
    let result = match (method, body) {
        ("GET", _) => {
            let mut r = agent.get(&url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        ("DELETE", _) => {
            let mut r = agent.delete(&url);
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.call()
        }
        (m, body) => {
            let mut r = match m {
                "PUT" => agent.put(&url),
                "PATCH" => agent.patch(&url),
                _ => agent.post(&url),
            };
            if let Some(a) = &auth {
                r = r.header("Authorization", a);
            }
            r.header("Content-Type", "application/json")
                .send(body.unwrap_or_default())
        }
    };
    let mut response = result.expect("request");
    let status = response.status().as_u16();
    let text = response
        .body_mut()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .expect("body");
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

fn json_body(value: Value) -> Vec<u8> {
    value.to_string().into_bytes()
}

#[test]
fn write_routes_events_openapi_metrics_and_error_statuses() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&tmp.path().join("data"));
    let base = server.base.clone();
    for name in ["01-config-snapshot.json", "05-cloudtrail.json"] {
        let bytes = std::fs::read(repo(&format!("examples/data/{name}"))).expect("example");
        // The CloudTrail file goes gzipped, as CloudTrail delivers it.
        let body = if name.ends_with("cloudtrail.json") {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(&bytes).expect("gzip");
            gz.finish().expect("gzip")
        } else {
            bytes
        };
        let (status, report) = post(&base, "/v1/ingest", INGEST, &body);
        assert_eq!(status, 200, "{name}: {report}");
        assert_eq!(report["errors"], 0, "{name}: {report}");
    }
    let (status, body) = post(&base, "/v1/ingest", INGEST, &[0x1f, 0x8b, 1, 2, 3]);
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"].as_str().is_some_and(|m| m.contains("gzip")),
        "{body}"
    );

    // Every documented route exists: none answers 404 "no such route" or 405.
    let (status, doc) = get(&base, "/v1/openapi.json", None);
    assert_eq!(status, 200, "{doc}");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 25, "{}", paths.len());
    for (path, methods) in paths {
        let concrete = path
            .replace("{type}", "AWS::EC2::SecurityGroup")
            .replace("{id}", WEB_SG)
            .replace("{n}", "1")
            .replace("{name}", "restricted-ssh")
            .replace("{rule}", "restricted-ssh");
        for method in methods.as_object().expect("methods").keys() {
            if method != "get" || concrete.ends_with("/stream") {
                continue;
            }
            let (status, body) = get(&base, &concrete, Some(READ));
            assert!(
                status != 405
                    && !(status == 404
                        && body["message"]
                            .as_str()
                            .is_some_and(|m| m.starts_with("no such route"))),
                "{method} {concrete}: {status} {body}"
            );
        }
    }
    assert!(doc["paths"]["/v1/events"]["get"]["parameters"]
        .as_array()
        .is_some_and(|p| p.iter().any(|q| q["name"] == "eventName")));

    // Roles: read cannot change rules; admin can.
    let patch_body =
        json_body(serde_json::json!({"parameters": {"authorizedTcpPorts": "443,8080"}}));
    let path = "/v1/rules/vpc-sg-open-only-to-authorized-ports";
    assert_eq!(
        send(&base, "PATCH", path, Some(READ), Some(&patch_body)).0,
        403
    );
    assert_eq!(send(&base, "PATCH", path, None, Some(&patch_body)).0, 401);
    let (status, body) = send(&base, "PATCH", path, Some(ADMIN), Some(&patch_body));
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rule"]["parameters"]["authorizedTcpPorts"], "443,8080");
    let (status, body) = send(
        &base,
        "PATCH",
        path,
        Some(ADMIN),
        Some(br#"{"enabld": true}"#),
    );
    assert_eq!(status, 400, "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("enabld")),
        "{body}"
    );

    // Rules: a hostile or broken upload is 422; a real component is registered and judged.
    let (status, body) = send(
        &base,
        "POST",
        "/v1/rules",
        Some(ADMIN),
        Some(b"not wasm at all"),
    );
    assert_eq!(
        (status, body["error"].as_str()),
        (422, Some("invalidRule")),
        "{body}"
    );
    let echo = std::fs::read(repo("rules-wasm/dist/test/test-echo.wasm")).expect("test rule");
    let (status, body) = send(
        &base,
        "POST",
        "/v1/rules?name=echo&types=AWS::EC2::SecurityGroup",
        Some(ADMIN),
        Some(&echo),
    );
    assert_eq!(status, 201, "{body}");
    assert_eq!(body["rule"]["name"], "echo");
    let (status, _) = send(
        &base,
        "POST",
        "/v1/rules?name=echo",
        Some(ADMIN),
        Some(&echo),
    );
    assert_eq!(status, 409, "a second rule with the same name conflicts");
    let (status, body) = send(&base, "POST", "/v1/rules/echo/evaluate", Some(ADMIN), None);
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["evaluations"]["evaluations"], 3, "{body}");
    assert_eq!(
        send(
            &base,
            "PATCH",
            "/v1/rules/echo",
            Some(ADMIN),
            Some(br#"{"enabled": false}"#)
        )
        .0,
        200
    );
    assert_eq!(
        send(&base, "POST", "/v1/rules/echo/evaluate", Some(ADMIN), None).0,
        409
    );
    assert_eq!(
        send(&base, "DELETE", "/v1/rules/echo", Some(ADMIN), None).0,
        204
    );
    assert_eq!(
        send(
            &base,
            "DELETE",
            "/v1/rules/restricted-ssh",
            Some(ADMIN),
            None
        )
        .0,
        409,
        "managed rules stay"
    );
    assert_eq!(get(&base, "/v1/rules/echo", Some(READ)).0, 404);

    // Remediation configurations, exceptions, run now.
    let config = json_body(serde_json::json!({
        "action": "webhook", "url": "http://127.0.0.1:9/fix", "max_attempts": 2, "backoff": "1s..1s"
    }));
    let (status, body) = send(
        &base,
        "PUT",
        "/v1/remediation/configurations/restricted-ssh",
        Some(ADMIN),
        Some(&config),
    );
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["maxAttempts"], 2);
    let (status, body) = send(
        &base,
        "PUT",
        "/v1/remediation/configurations/restricted-ssh",
        Some(ADMIN),
        Some(br#"{"action": "webhook"}"#),
    );
    assert_eq!(status, 400, "a webhook needs a url: {body}");
    let (status, body) = get(&base, "/v1/remediation/configurations", Some(READ));
    assert_eq!(
        (status, body["configurations"].as_array().map(Vec::len)),
        (200, Some(1))
    );
    let exception = json_body(serde_json::json!({
        "rule": "restricted-ssh", "resource_type": "AWS::EC2::SecurityGroup", "resource_id": WEB_SG,
        "reason": "load test window", "expires": "2999-01-01"
    }));
    assert_eq!(
        send(
            &base,
            "PUT",
            "/v1/remediation/exceptions",
            Some(ADMIN),
            Some(&exception)
        )
        .0,
        200
    );
    let (_, body) = get(&base, "/v1/remediation/exceptions", Some(READ));
    assert_eq!(body["exceptions"][0]["reason"], "load test window");
    let target = format!("/v1/remediation/exceptions?rule=restricted-ssh&resource_type=AWS::EC2::SecurityGroup&resource_id={WEB_SG}");
    assert_eq!(send(&base, "DELETE", &target, Some(ADMIN), None).0, 204);
    assert_eq!(send(&base, "DELETE", &target, Some(ADMIN), None).0, 404);
    let run = json_body(
        serde_json::json!({"rule": "restricted-ssh", "resource_type": "AWS::EC2::SecurityGroup", "resource_id": WEB_SG}),
    );
    let (status, body) = send(
        &base,
        "POST",
        "/v1/remediation/run",
        Some(ADMIN),
        Some(&run),
    );
    assert_eq!(status, 202, "{body}");
    let id = body["job"]["id"].as_u64().expect("job id");
    let (status, body) = get(&base, &format!("/v1/remediation/jobs/{id}"), Some(READ));
    assert_eq!(
        (status, body["ruleName"].as_str()),
        (200, Some("restricted-ssh")),
        "{body}"
    );
    assert_eq!(
        send(
            &base,
            "DELETE",
            "/v1/remediation/configurations/restricted-ssh",
            Some(ADMIN),
            None
        )
        .0,
        204
    );

    // Events: filters, paging, CSV; a bad filter is named.
    let (status, page) = get(&base, "/v1/events?user=dev-alice&limit=1", Some(READ));
    assert_eq!(status, 200, "{page}");
    assert_eq!(page["Events"].as_array().map(Vec::len), Some(1));
    let next = page["NextToken"].as_str().expect("next page");
    let (status, rest) = get(
        &base,
        &format!("/v1/events?user=dev-alice&limit=50&next={next}"),
        Some(READ),
    );
    assert_eq!(status, 200);
    assert!(rest["Events"].as_array().is_some_and(|e| !e.is_empty()));
    let (status, csv) = get(
        &base,
        "/v1/events?eventName=AuthorizeSecurityGroupIngress&format=csv",
        Some(READ),
    );
    assert_eq!(status, 200);
    let csv = csv.as_str().expect("csv text");
    assert!(
        csv.starts_with("Event ID,Event time,User name,Event name"),
        "{csv}"
    );
    assert!(csv.lines().count() >= 3, "{csv}");
    let (status, body) = get(&base, "/v1/events?readOnly=maybe", Some(READ));
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("readOnly")),
        "{body}"
    );
    let (status, body) = get(&base, "/v1/events?colour=red", Some(READ));
    assert_eq!(status, 400);
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("colour")),
        "{body}"
    );

    // Per-resource compliance with history.
    let (status, body) = get(
        &base,
        &format!("/v1/resources/AWS::EC2::SecurityGroup/{WEB_SG}/compliance"),
        Some(READ),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body["latest"]
        .as_array()
        .is_some_and(|l| l.iter().any(|v| v["ruleName"] == "restricted-ssh")));
    assert!(body["history"].as_array().is_some_and(|h| !h.is_empty()));

    // Size limit: 413 as JSON, and the store still answers.
    // Raw HTTP: the server answers once the body passes the limit, before it is all sent.
    let addr = base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&addr).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    let size = 33 * 1024 * 1024;
    write!(
        stream,
        "POST /v1/ingest HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {INGEST}\r\nConnection: close\r\nContent-Length: {size}\r\n\r\n"
    )
    .expect("write");
    let mut writer = stream.try_clone().expect("clone");
    let sending = std::thread::spawn(move || {
        let chunk = vec![b' '; 1024 * 1024];
        for _ in 0..33 {
            if writer.write_all(&chunk).is_err() {
                break;
            }
        }
    });
    let mut answer = String::new();
    let _ = std::io::Read::read_to_string(&mut stream, &mut answer);
    let _ = sending.join();
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("\"error\":\"tooLarge\""), "{answer}");
    assert_eq!(get(&base, "/v1/resources", Some(READ)).0, 200);
    let (status, body) = send(&base, "PUT", "/v1/resources", Some(ADMIN), Some(b"{}"));
    assert_eq!(
        (status, body["error"].as_str()),
        (405, Some("methodNotAllowed")),
        "{body}"
    );

    // Metrics count what happened.
    let (status, metrics) = get(&base, "/metrics", Some(READ));
    assert_eq!(status, 200);
    let metrics = metrics.as_str().expect("text");
    assert!(
        metrics.contains("conftrail_ingest_records_total{kind=\"item\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains(
            "conftrail_evaluations_total{rule=\"restricted-ssh\",verdict=\"COMPLIANT\"} 3"
        ),
        "{metrics}"
    );
    assert!(
        metrics.contains("conftrail_ingest_request_seconds_count 2"),
        "{metrics}"
    );
    assert!(
        metrics.contains("conftrail_remediation_queue_depth"),
        "{metrics}"
    );
    server.stop();
}

#[test]
fn config_file_sse_stream_and_webhook_subscription_retried_after_a_failure() {
    let tmp = tempfile::tempdir().expect("tempdir");
    // A subscriber that answers 500 to the first request and 200 after.
    let (hook, received) = common::receiver::start(|n| if n == 0 { 500 } else { 200 });
    let config = tmp.path().join("conftrail.toml");
    std::fs::write(
        &config,
        format!(
            "[rules.restricted-ssh]\nschedule = \"0 0 * * * *\"\n\n[[subscriptions]]\nname = \"hook\"\nurl = \"{hook}\"\nkinds = [\"compliance\"]\nrules = [\"restricted-ssh\"]\ncompliance = [\"NON_COMPLIANT\"]\nmax_attempts = 3\nbackoff = \"100ms..100ms\"\n"
        ),
    )
    .expect("config");
    let server = Server::start_with(
        &tmp.path().join("data"),
        &["--config", &config.display().to_string()],
    );
    let base = server.base.clone();
    let (status, rule) = get(&base, "/v1/rules/restricted-ssh", Some(READ));
    assert_eq!(
        (status, rule["schedule"].as_str()),
        (200, Some("0 0 * * * *")),
        "{rule}"
    );

    // A live client: its stream is registered once the response headers arrive.
    let response = agent()
        .get(format!("{base}/v1/stream?kinds=compliance"))
        .header("Authorization", format!("Bearer {READ}"))
        .call()
        .expect("stream");
    assert_eq!(response.status().as_u16(), 200);
    let (lines_tx, lines) = std::sync::mpsc::channel::<String>();
    std::thread::spawn(move || {
        let reader = BufReader::new(response.into_body().into_reader());
        for line in reader.lines().map_while(Result::ok) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });

    for name in ["01-baseline-items.json", "03-changes-items.json"] {
        let bytes = std::fs::read(repo(&format!("examples/scenario/{name}"))).expect("scenario");
        assert_eq!(post(&base, "/v1/ingest", INGEST, &bytes).0, 200, "{name}");
    }

    // The SSE client sees restricted-ssh turn NON_COMPLIANT on the web group.
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut event = String::new();
    let seen = loop {
        let line = lines
            .recv_timeout(deadline.saturating_duration_since(Instant::now()))
            .expect("an SSE line before the deadline");
        if let Some(name) = line.strip_prefix("event: ") {
            event = name.to_string();
        } else if let Some(data) = line.strip_prefix("data: ") {
            let n: Value = serde_json::from_str(data).expect("json data");
            if event == "compliance"
                && n["configRuleName"] == "restricted-ssh"
                && n["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
            {
                break n;
            }
        }
    };
    assert_eq!(seen["messageType"], "ComplianceChangeNotification");
    assert_eq!(seen["resourceId"], "sg-0d3m0web00000001");
    assert_eq!(seen["oldEvaluationResult"]["complianceType"], "COMPLIANT");

    // The webhook fails once, then gets the same notification again.
    let first = received
        .recv_timeout(Duration::from_secs(30))
        .expect("first delivery");
    let second = received
        .recv_timeout(Duration::from_secs(30))
        .expect("retry");
    assert_eq!((first.status, second.status), (500, 200));
    let (body1, body2) = (first.json(), second.json());
    assert_eq!(body1, body2);
    assert_eq!(body2["messageType"], "ComplianceChangeNotification");
    assert_eq!(body2["configRuleName"], "restricted-ssh");
    assert_eq!(
        body2["newEvaluationResult"]["complianceType"],
        "NON_COMPLIANT"
    );
    let deliveries = loop {
        let (_, body) = get(&base, "/v1/subscriptions/hook/deliveries", Some(READ));
        let list = body["deliveries"].as_array().cloned().unwrap_or_default();
        if list.iter().any(|d| d["state"] == "delivered") {
            break list;
        }
        assert!(Instant::now() < deadline, "{body}");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(
        deliveries.len(),
        1,
        "only the NON_COMPLIANT change matches: {deliveries:?}"
    );
    let statuses: Vec<&Value> = deliveries[0]["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| &a["httpStatus"])
        .collect();
    assert_eq!(statuses, [&Value::from(500), &Value::from(200)]);
    server.stop();
}

#[test]
fn the_example_configuration_file_runs_as_it_is() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start_with(
        &tmp.path().join("data"),
        &["--config", &repo("examples/conftrail.toml")],
    );
    let base = server.base.clone();
    let (status, body) = get(
        &base,
        "/v1/subscriptions",
        Some("example-admin-secret-0123456789"),
    );
    assert_eq!(status, 200, "the file's secret_env token works: {body}");
    let names: Vec<&str> = body["subscriptions"]
        .as_array()
        .expect("subscriptions")
        .iter()
        .filter_map(|s| s["name"].as_str())
        .collect();
    assert_eq!(names, ["audit-archive", "secops-webhook"]);
    let (_, config) = get(
        &base,
        "/v1/remediation/configurations/restricted-ssh",
        Some(READ),
    );
    assert_eq!(config["automatic"], true, "{config}");
    let (_, rule) = get(
        &base,
        "/v1/rules/vpc-sg-open-only-to-authorized-ports",
        Some(READ),
    );
    assert_eq!(rule["parameters"]["authorizedTcpPorts"], "443", "{rule}");
    server.stop();
}

#[test]
fn config_file_unknown_key_is_named() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let config = tmp.path().join("bad.toml");
    std::fs::write(
        &config,
        "listen = \"127.0.0.1:0\"\n\n[worker]\nenabeld = true\n",
    )
    .expect("write");
    let out = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(tmp.path().join("data"))
        .args(["serve", "--config"])
        .arg(&config)
        .output()
        .expect("run");
    assert!(!out.status.success(), "{}", describe(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("enabeld") && stderr.contains("line 4"),
        "{}",
        describe(&out)
    );
    assert!(
        !tmp.path().join("data").exists(),
        "nothing is created before the file is valid"
    );
}

#[test]
fn demo_once_plays_the_scenario_through_the_api() {
    let out = Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .args(["demo", "--listen", "127.0.0.1:0", "--once"])
        .output()
        .expect("run demo");
    assert!(out.status.success(), "{}", describe(&out));
    let story = String::from_utf8_lossy(&out.stdout);
    for expected in [
        "PUT /v1/remediation/configurations/restricted-ssh: automatic",
        "03-changes-items.json",
        "4 items (4 new versions), 0 events; 4 non-compliant verdicts",
        "fixer: restricted-ssh on sg-0d3m0web00000001",
        "restricted-ssh on sg-0d3m0web00000001: verified after 1 attempt(s) (version 3 is compliant)",
        "s3-bucket-level-public-access-prohibited on acme-demo-assets: verified",
        "aws.s3 DeleteBucket by contractor-bob at 2025-03-10T10:50:00.000Z (failed: BucketNotEmpty)",
        "overall: COMPLIANT",
        "AuthorizeSecurityGroupIngress by dev-alice",
        "PutBucketPolicy by contractor-bob",
        "RevokeSecurityGroupIngress by ConftrailRemediation",
        "/v1/openapi.json",
    ] {
        assert!(story.contains(expected), "missing {expected:?} in:\n{story}");
    }
}

/// Runs `conftrail ARGS...` with `env`, killed after two minutes (a demo on someone's store
/// could wait for jobs that never settle).
fn run_bounded(args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    use wait_timeout::ChildExt;
    let logs = tempfile::tempdir().expect("tempdir");
    let (stdout, stderr) = (logs.path().join("stdout"), logs.path().join("stderr"));
    let mut command = Command::new(env!("CARGO_BIN_EXE_conftrail"));
    command
        .args(args)
        .env_remove("CONFTRAIL_DATA_DIR")
        .env_remove("CONFTRAIL_SERVER")
        .stdout(std::fs::File::create(&stdout).expect("stdout file"))
        .stderr(std::fs::File::create(&stderr).expect("stderr file"));
    for (key, value) in env {
        command.env(key, value);
    }
    let mut child = command.spawn().expect("run conftrail");
    let status = match child.wait_timeout(Duration::from_secs(120)).expect("wait") {
        Some(status) => status,
        None => {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "conftrail {args:?} did not finish in 2 minutes; stdout:\n{}",
                std::fs::read_to_string(&stdout).unwrap_or_default()
            );
        }
    };
    std::process::Output {
        status,
        stdout: std::fs::read(&stdout).expect("stdout"),
        stderr: std::fs::read(&stderr).expect("stderr"),
    }
}

#[test]
fn demo_never_plays_in_an_existing_store() {
    use common::{conftrail, ok_stdout};
    let tmp = tempfile::tempdir().expect("tempdir");
    let mine = tmp.path().join("mine");
    ok_stdout(&conftrail(&mine, &["ingest", &common::examples()]));
    ok_stdout(&conftrail(
        &mine,
        &[
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "command",
            "--",
            "/bin/true",
        ],
    ));
    ok_stdout(&conftrail(
        &mine,
        &[
            "rules",
            "update",
            "vpc-sg-open-only-to-authorized-ports",
            "--params",
            r#"{"authorizedTcpPorts":"8443"}"#,
        ],
    ));
    let snapshot = || {
        [
            vec!["resources", "--json"],
            vec!["rules", "list", "--json"],
            vec!["remediation", "show", "restricted-ssh", "--json"],
            vec!["remediation", "list", "--json"],
            vec!["compliance", "--json"],
        ]
        .iter()
        .map(|args| ok_stdout(&conftrail(&mine, args)))
        .collect::<Vec<_>>()
    };
    let before = snapshot();
    assert!(!before[0].contains("sg-0d3m0web00000001"));

    // CONFTRAIL_DATA_DIR names the user's store: the demo plays elsewhere, in a temporary one.
    let out = run_bounded(
        &["demo", "--listen", "127.0.0.1:0", "--once"],
        &[("CONFTRAIL_DATA_DIR", &mine)],
    );
    assert!(out.status.success(), "{}", describe(&out));
    let story = String::from_utf8_lossy(&out.stdout);
    assert!(story.contains("overall: COMPLIANT"), "{story}");
    assert!(!story.contains(&*mine.to_string_lossy()), "{story}");
    assert_eq!(snapshot(), before, "the user's store is untouched");

    // Named explicitly, a non-empty directory is refused.
    let out = run_bounded(
        &[
            "--data-dir",
            &mine.to_string_lossy(),
            "demo",
            "--listen",
            "127.0.0.1:0",
            "--once",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not empty"),
        "{}",
        describe(&out)
    );
    assert_eq!(snapshot(), before, "the user's store is untouched");

    // A new directory named explicitly is used, and kept.
    let fresh = tmp.path().join("fresh");
    let out = run_bounded(
        &[
            "demo",
            "--data-dir",
            &fresh.to_string_lossy(),
            "--listen",
            "127.0.0.1:0",
            "--once",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", describe(&out));
    assert!(ok_stdout(&conftrail(&fresh, &["resources"])).contains("sg-0d3m0web00000001"));
}

/// The events of a live stream (fields of each, e.g. `id`, `event`, `data`), read on a thread.
fn sse_events(
    base: &str,
    path: &str,
    last_event_id: Option<&str>,
) -> std::sync::mpsc::Receiver<std::collections::BTreeMap<String, String>> {
    let mut request = agent()
        .get(format!("{base}{path}"))
        .header("Authorization", format!("Bearer {READ}"));
    if let Some(id) = last_event_id {
        request = request.header("Last-Event-ID", id);
    }
    let response = request.call().expect("stream");
    assert_eq!(response.status().as_u16(), 200);
    let (events_tx, events) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let reader = BufReader::new(response.into_body().into_reader());
        let mut fields = std::collections::BTreeMap::new();
        for line in reader.lines().map_while(Result::ok) {
            if line.is_empty() {
                if !fields.is_empty() && events_tx.send(std::mem::take(&mut fields)).is_err() {
                    break;
                }
            } else if let Some((name, value)) = line.split_once(": ") {
                fields.insert(name.to_string(), value.to_string());
            }
        }
    });
    events
}

fn next_event(
    events: &std::sync::mpsc::Receiver<std::collections::BTreeMap<String, String>>,
) -> std::collections::BTreeMap<String, String> {
    events
        .recv_timeout(Duration::from_secs(30))
        .expect("an event within 30 s")
}

#[test]
fn the_live_stream_numbers_its_events_and_resumes_after_last_event_id() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let server = Server::start(&tmp.path().join("data"));
    let base = server.base.clone();
    let ingest = |name: &str| {
        let bytes = std::fs::read(repo(&format!("examples/scenario/{name}"))).expect("scenario");
        assert_eq!(post(&base, "/v1/ingest", INGEST, &bytes).0, 200, "{name}");
    };
    let path = "/v1/stream?kinds=configuration";
    let first = sse_events(&base, path, None);
    ingest("01-baseline-items.json");
    let seen = next_event(&first);
    assert_eq!(seen.get("event").map(String::as_str), Some("configuration"));
    let seen_id = seen.get("id").cloned().expect("an id");
    let (run, seq) = seen_id.split_once('-').expect("RUN-SEQ");
    let seq: u64 = seq.parse().expect("a number");

    // Everything published after that id comes back, in order, to a client that resumes.
    ingest("03-changes-items.json");
    let resumed = sse_events(&base, path, Some(&seen_id));
    let mut ids = Vec::new();
    let mut resources = Vec::new();
    for _ in 0..3 {
        let event = next_event(&resumed);
        assert_eq!(
            event.get("event").map(String::as_str),
            Some("configuration"),
            "{event:?}"
        );
        ids.push(event.get("id").cloned().unwrap_or_default());
        let data: Value = serde_json::from_str(event.get("data").map_or("", |d| d)).expect("json");
        resources.push(data["configurationItem"]["resourceId"].clone());
    }
    let expected: Vec<String> = (1..=3).map(|n| format!("{run}-{}", seq + n)).collect();
    assert_eq!(ids, expected, "{resources:?}");

    // An id from another run (the server restarted): the client is told it missed an unknown
    // number, then gets what is kept.
    let other_run = sse_events(&base, path, Some("1-1"));
    let lagged = next_event(&other_run);
    assert_eq!(lagged.get("event").map(String::as_str), Some("lagged"));
    assert_eq!(
        lagged.get("data").map(String::as_str),
        Some("{\"missed\":null}")
    );
    assert_eq!(
        next_event(&other_run).get("id").map(String::as_str),
        Some(format!("{run}-1").as_str())
    );
    server.stop();
}
