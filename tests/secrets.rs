//! Outbound secrets are never shown back, can live outside the store, and sign what is sent;
//! command actions need the server's consent to be set over the network; weak tokens are
//! refused. A real `conftrail serve` on 127.0.0.1, a real webhook receiver, real files.

mod common;

use std::time::Duration;

use common::receiver::Received;
use common::server::{Server, ADMIN, INGEST, READ};
use common::{conftrail, conftrail_without_store, examples, failed_with, ok_stdout};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};

const LITERAL: &str = "literal-header-value-0123";
const FROM_ENV: &str = "Bearer value-from-the-environment-0123";
const SIGNING: &str = "signing-secret-0123456789abcdef";

/// A request with a token and an optional JSON body: the status and the answer as JSON.
fn call(
    server: &Server,
    token: &str,
    method: &str,
    path: &str,
    body: Option<&Value>,
) -> (u16, Value) {
    let body = body.map(Value::to_string);
    let (status, text) = server.request(token, method, path, body.as_deref());
    (
        status,
        serde_json::from_str(&text).unwrap_or(Value::String(text)),
    )
}

/// Checks `X-Conftrail-Signature: t=T,v1=HEX` against HMAC-SHA256(secret, "T.body"), as a
/// receiver following the README would.
fn signature_is_valid(received: &Received, secret: &str) -> bool {
    let Some(header) = received.header("X-Conftrail-Signature") else {
        return false;
    };
    let mut parts = header.split(',');
    let (Some(t), Some(v1)) = (
        parts.next().and_then(|p| p.strip_prefix("t=")),
        parts.next().and_then(|p| p.strip_prefix("v1=")),
    ) else {
        return false;
    };
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(&received.body);
    let expected = hex::decode(v1).unwrap_or_default();
    mac.verify_slice(&expected).is_ok()
}

#[test]
fn secrets_are_redacted_read_from_the_environment_and_sign_deliveries() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let (url, received) = common::receiver::start(|_| 200);
    let server = Server::start_with_env(
        &tmp.path().join("data"),
        &[],
        &[("HOOK_AUTHORIZATION", FROM_ENV)],
    );
    let subscription = json!({
        "url": url,
        "kinds": ["configuration"],
        "headers": {"X-Literal": LITERAL},
        "headerEnv": {"Authorization": "HOOK_AUTHORIZATION"},
        "signingSecret": SIGNING,
    });
    let (status, answer) = call(
        &server,
        ADMIN,
        "PUT",
        "/v1/subscriptions/hook",
        Some(&subscription),
    );
    assert_eq!(status, 200, "{answer}");

    // No role sees a stored value: not in the answer to the write, not in reads.
    for (token, path) in [
        (ADMIN, "/v1/subscriptions"),
        (READ, "/v1/subscriptions"),
        (READ, "/v1/subscriptions/hook"),
    ] {
        let (status, body) = call(&server, token, "GET", path, None);
        assert_eq!(status, 200, "{body}");
        let text = body.to_string();
        assert!(
            !text.contains(LITERAL) && !text.contains(SIGNING),
            "{path}: {text}"
        );
        assert!(
            text.contains("HOOK_AUTHORIZATION"),
            "the variable is named: {text}"
        );
    }
    assert!(!answer.to_string().contains(SIGNING), "{answer}");
    assert_eq!(answer["headers"], json!([["X-Literal", "***"]]), "{answer}");
    assert_eq!(answer["signingSecret"], "***", "{answer}");

    // A change is delivered with the literal header, the one from the environment, and a
    // signature a receiver can check with the secret.
    let ingested = common::conftrail_without_store(&[
        "--server",
        &server.base,
        "--token",
        INGEST,
        "ingest",
        &examples(),
    ]);
    ok_stdout(&ingested);
    let delivered = received
        .recv_timeout(Duration::from_secs(30))
        .expect("a delivery");
    assert_eq!(delivered.header("X-Literal"), Some(LITERAL));
    assert_eq!(delivered.header("Authorization"), Some(FROM_ENV));
    assert!(signature_is_valid(&delivered, SIGNING), "{delivered:?}");
    assert!(!signature_is_valid(&delivered, "another-secret-0123456789"));

    // The deliveries a reader sees do not carry the values either.
    let (_, deliveries) = call(
        &server,
        READ,
        "GET",
        "/v1/subscriptions/hook/deliveries",
        None,
    );
    let text = deliveries.to_string();
    assert!(text.contains("X-Literal") && !text.contains(LITERAL) && !text.contains(SIGNING));

    // What GET answers, sent back with PUT, keeps the stored values behind the `***`.
    let (_, read) = call(&server, READ, "GET", "/v1/subscriptions/hook", None);
    let (status, put_back) = call(&server, ADMIN, "PUT", "/v1/subscriptions/hook", Some(&read));
    assert_eq!((status, &put_back), (200, &read));
    while received.recv_timeout(Duration::from_millis(500)).is_ok() {}
    let bucket = tmp.path().join("bucket.json");
    std::fs::write(
        &bucket,
        json!({"resourceType": "AWS::S3::Bucket", "resourceId": "b-secret-test",
               "awsAccountId": "111122223333", "awsRegion": "eu-west-1",
               "configurationItemCaptureTime": "2024-05-01T00:00:00Z",
               "configuration": {"name": "b-secret-test"}})
        .to_string(),
    )
    .expect("write");
    ok_stdout(&common::conftrail_without_store(&[
        "--server",
        &server.base,
        "--token",
        INGEST,
        "ingest",
        bucket.to_str().unwrap_or_default(),
    ]));
    let again = received
        .recv_timeout(Duration::from_secs(30))
        .expect("a delivery after the round trip");
    assert_eq!(again.header("X-Literal"), Some(LITERAL));
    assert!(signature_is_valid(&again, SIGNING));

    // A `***` with nothing stored behind it is refused, naming the header.
    let mut fresh = read.clone();
    fresh["name"] = json!("fresh");
    let (status, refused) = call(
        &server,
        ADMIN,
        "PUT",
        "/v1/subscriptions/fresh",
        Some(&fresh),
    );
    assert_eq!(status, 400, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("headers.X-Literal")),
        "{refused}"
    );

    // Remediation webhooks: the same, over the API and in the CLI's --json.
    let remediation = json!({"action": "webhook", "url": url, "headers": {"Authorization": LITERAL},
                             "signingSecretEnv": "FIXER_SECRET"});
    let (status, set) = call(
        &server,
        ADMIN,
        "PUT",
        "/v1/remediation/configurations/restricted-ssh",
        Some(&remediation),
    );
    assert_eq!(status, 200, "{set}");
    let (_, listed) = call(&server, READ, "GET", "/v1/remediation/configurations", None);
    assert!(!listed.to_string().contains(LITERAL), "{listed}");
    assert_eq!(
        listed["configurations"][0]["action"]["signingSecretEnv"],
        "FIXER_SECRET"
    );
    let shown = common::conftrail_without_store(&[
        "--server",
        &server.base,
        "--token",
        READ,
        "remediation",
        "show",
        "--json",
    ]);
    assert!(!ok_stdout(&shown).contains(LITERAL));
    server.stop();

    // Locally too (the store holds the value; the CLI never prints it).
    let local = conftrail(&tmp.path().join("data"), &["remediation", "show", "--json"]);
    let text = ok_stdout(&local);
    assert!(!text.contains(LITERAL) && text.contains("***"), "{text}");
}

#[test]
fn command_actions_over_the_api_need_the_servers_consent() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    let command = json!({"action": "command", "command": ["/bin/true"]});
    let path = "/v1/remediation/configurations/restricted-ssh";

    let server = Server::start(&data);
    let (status, refused) = call(&server, ADMIN, "PUT", path, Some(&command));
    assert_eq!(status, 403, "{refused}");
    assert!(
        refused["message"]
            .as_str()
            .is_some_and(|m| m.contains("api.allow_command_actions")),
        "{refused}"
    );
    // The CLI against the server is refused the same way; a webhook is fine.
    failed_with(
        &conftrail_without_store(&[
            "--server",
            &server.base,
            "--token",
            ADMIN,
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "command",
            "--",
            "/bin/true",
        ]),
        "api.allow_command_actions",
    );
    let webhook = json!({"action": "webhook", "url": "http://127.0.0.1:9/fix"});
    assert_eq!(call(&server, ADMIN, "PUT", path, Some(&webhook)).0, 200);
    server.stop();

    // The CLI on the server's host can always set one.
    ok_stdout(&conftrail(
        &data,
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
    // So can an operator who allows it, in the file or with the flag.
    let file = tmp.path().join("conftrail.toml");
    std::fs::write(&file, "[api]\nallow_command_actions = true\n").expect("write");
    let config = file.display().to_string();
    let server = Server::start_with(&data, &["--config", &config]);
    let (status, allowed) = call(&server, ADMIN, "PUT", path, Some(&command));
    assert_eq!(status, 200, "{allowed}");
    server.stop();
    let server = Server::start_with(&data, &["--allow-command-actions"]);
    assert_eq!(call(&server, ADMIN, "PUT", path, Some(&command)).0, 200);
    server.stop();
}

#[test]
fn weak_tokens_are_refused_everywhere() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data").display().to_string();
    let serve = |config: &str, env: &[(&str, &str)]| {
        let file = tmp.path().join("conftrail.toml");
        std::fs::write(&file, config).expect("write");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_conftrail"));
        command
            .args([
                "--data-dir",
                &data,
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--config",
            ])
            .arg(&file)
            .env_remove("CONFTRAIL_API_TOKENS")
            .envs(env.iter().copied());
        command.output().expect("run")
    };
    // A one-character secret in the environment.
    let short = serve(
        "[[tokens]]\nrole = \"admin\"\nsecret_env = \"SHORT_SECRET\"\n",
        &[("SHORT_SECRET", "x")],
    );
    failed_with(&short, "tokens[0].secret_env");
    failed_with(&short, "fewer than 16 characters");
    // The hash of the empty secret.
    let empty = serve(
        "[[tokens]]\nrole = \"admin\"\nsha256 = \"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"\n",
        &[],
    );
    failed_with(&empty, "tokens[0].sha256");
    failed_with(&empty, "empty secret");
    // A short secret on the command line's variable, as before.
    let listed =
        conftrail_without_store(&["--data-dir", &data, "serve", "--tokens", "admin:short"]);
    failed_with(&listed, "shorter than 16 characters");
    // A short signing secret.
    let server = Server::start(&tmp.path().join("served"));
    let (status, answer) = call(
        &server,
        ADMIN,
        "PUT",
        "/v1/subscriptions/s",
        Some(&json!({"url": "http://127.0.0.1:9/", "signingSecret": "short"})),
    );
    assert_eq!(status, 400, "{answer}");
    assert!(
        answer["message"]
            .as_str()
            .is_some_and(|m| m.contains("at least 16")),
        "{answer}"
    );
    server.stop();
    // The example configuration holds no usable secret: only variable names.
    let example = std::fs::read_to_string(common::repo("examples/conftrail.toml")).expect("read");
    assert!(
        !example
            .lines()
            .any(|l| l.trim_start().starts_with("sha256 =")),
        "{example}"
    );
}
