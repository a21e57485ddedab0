//! Actions against real processes and a real HTTP server on 127.0.0.1.

use super::command::OUTPUT_KEEP_BYTES;
use super::*;
use crate::model::{CommandAction, WebhookAction};
use serde_json::json;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

/// One scripted response of the test server.
struct Reply {
    status: u16,
    delay: Duration,
    extra_headers: Vec<(&'static str, &'static str)>,
    body: String,
}

fn reply(status: u16, body: &str) -> Reply {
    Reply {
        status,
        delay: Duration::ZERO,
        extra_headers: Vec::new(),
        body: body.to_string(),
    }
}

/// What the test server received.
struct Received {
    request_line: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A minimal HTTP/1.1 server answering `replies` in order, one connection each.
fn serve(replies: Vec<Reply>) -> (String, mpsc::Receiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        for reply in replies {
            let Ok((mut stream, _)) = listener.accept() else {
                return;
            };
            let Some(received) = read_request(&mut stream) else {
                return;
            };
            let _ = tx.send(received);
            thread::sleep(reply.delay);
            let mut response = format!(
                "HTTP/1.1 {} Scripted\r\nContent-Length: {}\r\nConnection: close\r\n",
                reply.status,
                reply.body.len()
            );
            for (name, value) in &reply.extra_headers {
                response.push_str(&format!("{name}: {value}\r\n"));
            }
            response.push_str("\r\n");
            response.push_str(&reply.body);
            let _ = stream.write_all(response.as_bytes());
        }
    });
    (url, rx)
}

fn read_request(stream: &mut TcpStream) -> Option<Received> {
    let mut data = Vec::new();
    let mut buf = [0u8; 4096];
    let header_end = loop {
        if let Some(pos) = data.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    };
    let head = String::from_utf8_lossy(&data[..header_end]).to_string();
    let mut lines = head.lines();
    let request_line = lines.next()?.to_string();
    let headers: Vec<(String, String)> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    while data.len() < header_end + length {
        let n = stream.read(&mut buf).ok()?;
        if n == 0 {
            return None;
        }
        data.extend_from_slice(&buf[..n]);
    }
    Some(Received {
        request_line,
        headers,
        body: data[header_end..header_end + length].to_vec(),
    })
}

fn webhook(url: &str) -> Action {
    Action::Webhook(WebhookAction {
        url: url.to_string(),
        headers: vec![("X-Team".to_string(), "platform".to_string())],
        ..WebhookAction::default()
    })
}

fn attempt(action: &Action, timeout: Duration) -> ActionResult {
    let document = json!({"resource": "sshd_config", "rule": "no-root-login"});
    run_action(
        action,
        &ActionRequest {
            document: &document,
            env: &[],
            idempotency_key: "key-123",
            timeout,
            aws: None,
        },
    )
}

fn received(rx: &mpsc::Receiver<Received>) -> Received {
    rx.recv_timeout(Duration::from_secs(5)).unwrap()
}

#[test]
fn webhook_200_succeeds_and_sends_document_and_headers() {
    let (url, rx) = serve(vec![reply(200, "ok thanks")]);
    let result = attempt(&webhook(&url), Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Succeeded, "{result:?}");
    assert_eq!(result.http_status, Some(200));
    assert_eq!(result.message, "HTTP 200 OK: ok thanks");
    assert_eq!(result.output, "");
    let req = received(&rx);
    assert_eq!(req.request_line, "POST /hook HTTP/1.1");
    assert_eq!(req.header("idempotency-key"), Some("key-123"));
    assert_eq!(req.header("x-team"), Some("platform"));
    assert_eq!(req.header("content-type"), Some("application/json"));
    assert_eq!(req.header("user-agent"), Some("conftrail-remediation"));
    let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
    assert_eq!(
        body,
        json!({"resource": "sshd_config", "rule": "no-root-login"})
    );
}

#[test]
fn webhook_500_is_retryable_with_body_excerpt() {
    let (url, _rx) = serve(vec![reply(500, "  database down\n")]);
    let result = attempt(&webhook(&url), Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.http_status, Some(500));
    assert_eq!(
        result.message,
        "HTTP 500 Internal Server Error: database down"
    );
    assert_eq!(result.retry_after, None);
}

#[test]
fn webhook_404_is_permanent() {
    let (url, _rx) = serve(vec![reply(404, "")]);
    let result = attempt(&webhook(&url), Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Permanent);
    assert_eq!(result.message, "HTTP 404 Not Found");
}

#[test]
fn webhook_408_and_429_are_retryable_with_retry_after() {
    let mut r408 = reply(408, "");
    r408.extra_headers.push(("Retry-After", "7"));
    let mut r429 = reply(429, "slow down");
    r429.extra_headers.push(("Retry-After", " 120 "));
    let mut r503 = reply(503, "");
    r503.extra_headers
        .push(("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT"));
    let (url, _rx) = serve(vec![r408, r429, r503]);
    let action = webhook(&url);

    let result = attempt(&action, Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.retry_after, Some(Duration::from_secs(7)));

    let result = attempt(&action, Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.http_status, Some(429));
    assert_eq!(result.retry_after, Some(Duration::from_secs(120)));
    assert_eq!(result.message, "HTTP 429 Too Many Requests: slow down");

    // Only the seconds form is understood.
    let result = attempt(&action, Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.retry_after, None);
}

#[test]
fn webhook_redirect_is_not_followed() {
    let mut moved = reply(302, "");
    moved.extra_headers.push(("Location", "http://elsewhere/"));
    let (url, rx) = serve(vec![moved]);
    let result = attempt(&webhook(&url), Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Permanent);
    assert_eq!(
        result.message,
        "HTTP 302 Found: redirect not followed: Location http://elsewhere/"
    );
    received(&rx);
}

#[test]
fn webhook_body_excerpt_is_bounded() {
    let (url, _rx) = serve(vec![reply(502, &"é".repeat(1_000))]);
    let result = attempt(&webhook(&url), Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    let excerpt = result
        .message
        .strip_prefix("HTTP 502 Bad Gateway: ")
        .unwrap();
    assert_eq!(excerpt, "é".repeat(150));
}

#[test]
fn webhook_slower_than_timeout_times_out() {
    let mut slow = reply(200, "late");
    slow.delay = Duration::from_secs(3);
    let (url, _rx) = serve(vec![slow]);
    let started = Instant::now();
    let result = attempt(&webhook(&url), Duration::from_millis(300));
    assert!(started.elapsed() < Duration::from_secs(2));
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.message, "timed out after 300ms");
    assert_eq!(result.http_status, None);
}

#[test]
fn webhook_connection_refused_is_retryable() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let result = attempt(&webhook(&url), Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Retryable, "{result:?}");
    assert!(
        result.message.starts_with(&format!("POST {url} failed: ")),
        "{}",
        result.message
    );
    assert!(result.message.contains("refused"), "{}", result.message);
}

#[test]
fn webhook_bad_header_value_is_permanent() {
    let action = Action::Webhook(WebhookAction {
        url: "http://127.0.0.1:9/".to_string(),
        headers: vec![("X-Bad".to_string(), "a\nb".to_string())],
        ..WebhookAction::default()
    });
    assert!(action.validate().is_err());
    let result = attempt(&action, Duration::from_secs(5));
    assert_eq!(result.outcome, AttemptOutcome::Permanent, "{result:?}");
}

#[test]
fn validate_rejects_bad_configuration() {
    let err = webhook("ftp://x").validate().unwrap_err();
    assert_eq!(
        err,
        "webhook.url \"ftp://x\" must use http:// or https://, not ftp://"
    );
    let err = webhook("not a url").validate().unwrap_err();
    assert!(
        err.starts_with("webhook.url \"not a url\" is not a valid URL"),
        "{err}"
    );
    let err = webhook("/relative/path").validate().unwrap_err();
    assert!(err.contains("must be an absolute"), "{err}");
    let err = Action::Command(CommandAction {
        program: String::new(),
        args: vec![],
        no_retry_exit_codes: vec![],
    })
    .validate()
    .unwrap_err();
    assert_eq!(err, "command.program must not be empty (got \"\")");
    let reserved = Action::Webhook(WebhookAction {
        url: "https://example.com/hook".to_string(),
        headers: vec![("idempotency-key".to_string(), "x".to_string())],
        ..WebhookAction::default()
    });
    assert!(reserved
        .validate()
        .unwrap_err()
        .contains("set by conftrail"));
    let bad_name = Action::Webhook(WebhookAction {
        url: "https://example.com/hook".to_string(),
        headers: vec![("bad name".to_string(), "x".to_string())],
        ..WebhookAction::default()
    });
    assert!(bad_name
        .validate()
        .unwrap_err()
        .contains("invalid header name \"bad name\""));
    assert_eq!(webhook("https://example.com:8443/a?b=c").validate(), Ok(()));
    assert_eq!(webhook("http://127.0.0.1/").validate(), Ok(()));
}

#[test]
fn describe_and_serde_shape() {
    let action = Action::Command(CommandAction {
        program: "./fix.sh".to_string(),
        args: vec!["--force".to_string(), "two words".to_string()],
        no_retry_exit_codes: vec![3],
    });
    assert_eq!(action.describe(), "command ./fix.sh --force \"two words\"");
    assert_eq!(
        webhook("https://h/x").describe(),
        "webhook https://h/x".to_string()
    );
    let json = serde_json::to_value(&action).unwrap();
    assert_eq!(
        json,
        json!({"type": "command", "program": "./fix.sh",
               "args": ["--force", "two words"], "noRetryExitCodes": [3]})
    );
    let parsed: Action =
        serde_json::from_value(json!({"type": "webhook", "url": "https://h/x"})).unwrap();
    assert_eq!(
        parsed,
        Action::Webhook(WebhookAction {
            url: "https://h/x".to_string(),
            headers: vec![],
            ..WebhookAction::default()
        })
    );
}

/// A `/bin/sh` command running a script written into `dir`.
fn script(dir: &Path, body: &str) -> CommandAction {
    let path = dir.join("fix.sh");
    std::fs::write(&path, body).unwrap();
    CommandAction {
        program: "/bin/sh".to_string(),
        args: vec![path.display().to_string()],
        no_retry_exit_codes: vec![],
    }
}

fn run_in(dir: &Path, command: CommandAction, timeout: Duration) -> ActionResult {
    let document = json!({"resource": "motd", "expected": "hello"});
    let env = [
        ("DIR".to_string(), dir.display().to_string()),
        ("MY_VAR".to_string(), "my value".to_string()),
    ];
    run_action(
        &Action::Command(command),
        &ActionRequest {
            document: &document,
            env: &env,
            idempotency_key: "key-456",
            timeout,
            aws: None,
        },
    )
}

#[test]
fn command_success_gets_stdin_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(
        dir.path(),
        "cat > \"$DIR/stdin.json\"\n\
         printf '%s|%s' \"$MY_VAR\" \"$CONFTRAIL_IDEMPOTENCY_KEY\" > \"$DIR/env.txt\"\n\
         echo fixed\n\
         echo note >&2\n",
    );
    let result = run_in(dir.path(), command, Duration::from_secs(10));
    assert_eq!(result.outcome, AttemptOutcome::Succeeded, "{result:?}");
    assert_eq!(result.exit_code, Some(0));
    assert_eq!(result.output, "stdout: fixed\nstderr: note");
    let stdin = std::fs::read_to_string(dir.path().join("stdin.json")).unwrap();
    assert!(stdin.ends_with("}\n"), "{stdin:?}");
    let parsed: serde_json::Value = serde_json::from_str(&stdin).unwrap();
    assert_eq!(parsed, json!({"resource": "motd", "expected": "hello"}));
    let env = std::fs::read_to_string(dir.path().join("env.txt")).unwrap();
    assert_eq!(env, "my value|key-456");
}

#[test]
fn command_exit_3_is_retryable_unless_listed() {
    let dir = tempfile::tempdir().unwrap();
    let body = "echo first problem >&2\necho last problem >&2\nexit 3\n";
    let result = run_in(
        dir.path(),
        script(dir.path(), body),
        Duration::from_secs(10),
    );
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.exit_code, Some(3));
    assert_eq!(result.message, "exit code 3; stderr: last problem");
    assert_eq!(result.output, "stderr: first problem\nlast problem");

    let mut command = script(dir.path(), body);
    command.no_retry_exit_codes = vec![1, 3];
    let result = run_in(dir.path(), command, Duration::from_secs(10));
    assert_eq!(result.outcome, AttemptOutcome::Permanent);
    assert_eq!(result.exit_code, Some(3));
}

#[test]
fn command_killed_by_signal_is_retryable() {
    let dir = tempfile::tempdir().unwrap();
    let result = run_in(
        dir.path(),
        script(dir.path(), "kill -9 $$\n"),
        Duration::from_secs(10),
    );
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.message, "killed by signal 9");
    assert_eq!(result.exit_code, None);
}

#[test]
fn command_that_cannot_start_is_permanent() {
    let dir = tempfile::tempdir().unwrap();
    let missing = CommandAction {
        program: "/nonexistent/fix.sh".to_string(),
        args: vec![],
        no_retry_exit_codes: vec![],
    };
    let result = run_in(dir.path(), missing, Duration::from_secs(10));
    assert_eq!(result.outcome, AttemptOutcome::Permanent);
    assert_eq!(
        result.message,
        "cannot start /nonexistent/fix.sh: No such file or directory (os error 2)"
    );

    // Written without the executable bit.
    let path = dir.path().join("plain.sh");
    std::fs::write(&path, "exit 0\n").unwrap();
    let not_executable = CommandAction {
        program: path.display().to_string(),
        args: vec![],
        no_retry_exit_codes: vec![],
    };
    let result = run_in(dir.path(), not_executable, Duration::from_secs(10));
    assert_eq!(result.outcome, AttemptOutcome::Permanent);
    assert!(
        result.message.contains("Permission denied"),
        "{}",
        result.message
    );
}

/// True once `pid` no longer runs (gone or a zombie awaiting an absent reaper).
fn process_gone(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z')),
    }
}

#[test]
fn command_timeout_kills_the_whole_process_group() {
    let dir = tempfile::tempdir().unwrap();
    let command = script(
        dir.path(),
        "sleep 30 &\necho $! > \"$DIR/bg.pid\"\necho waiting >&2\nsleep 30\n",
    );
    let started = Instant::now();
    let result = run_in(dir.path(), command, Duration::from_millis(300));
    let elapsed = started.elapsed();
    assert!(elapsed < Duration::from_secs(5), "took {elapsed:?}");
    assert_eq!(result.outcome, AttemptOutcome::Retryable);
    assert_eq!(result.message, "timed out after 300ms; stderr: waiting");
    assert_eq!(result.exit_code, None);

    let pid: i32 = std::fs::read_to_string(dir.path().join("bg.pid"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let check_until = Instant::now() + Duration::from_secs(2);
    while !process_gone(pid) && Instant::now() < check_until {
        thread::sleep(Duration::from_millis(20));
    }
    assert!(process_gone(pid), "background sleep {pid} survived");
}

#[test]
fn command_large_output_is_bounded_without_deadlock() {
    let dir = tempfile::tempdir().unwrap();
    // Both streams exceed a pipe buffer, so the child blocks unless both are drained.
    let command = script(
        dir.path(),
        "yes x | head -c 1048576 >&2\nyes y | head -c 1048576\n",
    );
    let result = run_in(dir.path(), command, Duration::from_secs(20));
    assert_eq!(result.outcome, AttemptOutcome::Succeeded, "{result:?}");
    let dropped = 1_048_576 - OUTPUT_KEEP_BYTES;
    let (stdout, stderr) = result.output.split_once("\nstderr: ").unwrap();
    assert!(stdout.starts_with("stdout: y\ny\n"));
    assert!(stdout.ends_with(&format!("y [… {dropped} bytes dropped]")));
    assert!(stderr.ends_with(&format!("x [… {dropped} bytes dropped]")));
    // 4096 bytes of "y\n" trimmed, plus labels and notes.
    assert!(result.output.len() < 2 * OUTPUT_KEEP_BYTES + 100);
}
