//! The HTTP API over real HTTP on 127.0.0.1: `conftrail serve` as a process, ureq as the client.

mod common;

use common::{describe, repo};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const READ: &str = "reader-0123456789abcdef";
const INGEST: &str = "ingester-0123456789abcdef";
const WEB_SG: &str = "sg-0a1b2c3d4e5f60718";

struct Server {
    child: Child,
    base: String,
}

impl Server {
    fn start(data: &Path) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conftrail"))
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .env(
                "CONFTRAIL_API_TOKENS",
                format!("read:{READ},ingest:{INGEST}"),
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server");
        let stdout = child.stdout.take().expect("stdout");
        let mut reader = BufReader::new(stdout);
        let mut line = String::new();
        reader.read_line(&mut line).expect("first line");
        // Keep reading, so the server's last line ("stopped") has somewhere to go.
        std::thread::spawn(move || std::io::copy(&mut reader, &mut std::io::sink()));
        let base = line
            .trim()
            .strip_prefix("listening on ")
            .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
            .to_string();
        Server { child, base }
    }

    fn stop(mut self) {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: sends a signal to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                assert!(status.success(), "server exited with {status:?}");
                return;
            }
            assert!(Instant::now() < deadline, "server did not stop");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

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
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["errors"], 1,
        "a broken record is reported, not fatal: {body}"
    );

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
