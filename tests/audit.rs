//! The audit trail: every change made through the API, the CLI or the configuration file, and
//! refused authentications, recorded with who, from where and what; shown by `GET /v1/audit`
//! (admin) and `conftrail audit`, and logged. A real `conftrail serve` on 127.0.0.1.

mod common;

use std::process::Stdio;

use common::server::{Server, ADMIN, READ};
use common::{conftrail, examples, json, ok_stdout};
use serde_json::{json, Value};

/// The secret `tests/common/server.rs` gives `CONFTRAIL_ADMIN_TOKEN`.
const OPS_ADMIN: &str = "example-admin-secret-0123456789";
const HEADER_SECRET: &str = "header-secret-value-0123";

fn call(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let body = body.map(|b| b.to_string());
    let (status, text) = server.request(token, method, path, body.as_deref());
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

#[test]
fn changes_and_refusals_are_recorded_with_who_and_from_where() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    ok_stdout(&conftrail(&data, &["ingest", &examples(), "--no-evaluate"]));
    let config = tmp.path().join("conftrail.toml");
    std::fs::write(
        &config,
        "[[tokens]]\nname = \"ops-admin\"\nrole = \"admin\"\nsecret_env = \"CONFTRAIL_ADMIN_TOKEN\"\n\
         [remediation.restricted-ssh]\naction = \"webhook\"\nurl = \"http://127.0.0.1:9/fix\"\n",
    )
    .expect("write");
    let log = tmp.path().join("server.log");
    let server = Server::start_logging(
        &data,
        &["--config", &config.display().to_string()],
        Stdio::from(std::fs::File::create(&log).expect("log file")),
    );

    // Changes by the named token.
    let subscription =
        json!({"url": "http://127.0.0.1:9/hook", "headers": {"X-Key": HEADER_SECRET}});
    assert_eq!(
        call(
            &server,
            OPS_ADMIN,
            "PUT",
            "/v1/subscriptions/ops",
            Some(subscription)
        )
        .0,
        200
    );
    assert_eq!(
        call(
            &server,
            OPS_ADMIN,
            "DELETE",
            "/v1/remediation/configurations/restricted-ssh",
            None
        )
        .0,
        204
    );
    assert_eq!(
        call(
            &server,
            OPS_ADMIN,
            "POST",
            "/v1/evaluate?rule=restricted-ssh",
            None
        )
        .0,
        200
    );
    // A bad token, and a token whose role is too low.
    assert_eq!(
        call(
            &server,
            "not-a-token-0123456789",
            "DELETE",
            "/v1/rules/x",
            None
        )
        .0,
        401
    );

    // Readers cannot see the trail; admins can.
    assert_eq!(call(&server, READ, "GET", "/v1/audit", None).0, 403);
    assert_eq!(
        call(&server, ADMIN, "GET", "/v1/audit?limit=10001", None).0,
        400
    );
    let (status, trail) = call(&server, ADMIN, "GET", "/v1/audit", None);
    assert_eq!(status, 200, "{trail}");
    let entries = trail["entries"].as_array().expect("entries");
    let summary: Vec<(String, String, String)> = entries
        .iter()
        .map(|e| {
            (
                e["actor"]["name"].as_str().unwrap_or_default().to_string(),
                e["action"].as_str().unwrap_or_default().to_string(),
                e["target"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    let expected = [
        ("configuration file", "settings.apply", "configuration file"),
        ("ops-admin", "subscription.put", "ops"),
        ("ops-admin", "remediation.remove", "restricted-ssh"),
        ("ops-admin", "rules.evaluate", "restricted-ssh"),
        ("unauthenticated", "auth.refused", "DELETE /v1/rules/x"),
    ];
    for (who, what, target) in expected {
        assert!(
            summary
                .iter()
                .any(|(w, a, t)| w == who && a == what && t == target),
            "no {who} {what} {target} in {summary:?}"
        );
    }
    // From where: the client's address; what: the change, secrets hidden.
    let put = entries
        .iter()
        .find(|e| e["action"] == "subscription.put")
        .expect("subscription.put");
    assert!(
        put["actor"]["source"]
            .as_str()
            .is_some_and(|s| s.starts_with("127.0.0.1:")),
        "{put}"
    );
    assert_eq!(put["detail"]["headers"], json!([["X-Key", "***"]]), "{put}");
    assert!(!trail.to_string().contains(HEADER_SECRET), "{trail}");
    // Oldest first.
    let times: Vec<&str> = entries.iter().filter_map(|e| e["time"].as_str()).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "{times:?}");
    server.stop();

    // Each entry was logged at info with the token's name.
    let logged = std::fs::read_to_string(&log).expect("log");
    assert!(
        logged.lines().any(|l| l.contains("audit")
            && l.contains("ops-admin")
            && l.contains("subscription.put")),
        "{logged}"
    );

    // The CLI on the host is recorded as such, and shows the same trail.
    ok_stdout(&conftrail(
        &data,
        &[
            "remediation",
            "exception",
            "add",
            "restricted-ssh",
            common::WEB_SG[0],
            common::WEB_SG[1],
            "--reason",
            "bastion host",
        ],
    ));
    let listed = json(&conftrail(&data, &["audit", "--json"]));
    let last = listed["entries"]
        .as_array()
        .and_then(|e| e.last())
        .cloned()
        .unwrap_or_default();
    assert_eq!(last["actor"]["name"], "local cli", "{last}");
    assert_eq!(last["action"], "exception.add", "{last}");
    assert_eq!(last["detail"]["reason"], "bastion host", "{last}");
    let table = ok_stdout(&conftrail(&data, &["audit", "--limit", "3"]));
    assert!(
        table.starts_with("TIME") && table.contains("configuration file"),
        "{table}"
    );
}
