//! Remediation actions (webhooks and local commands), executed one attempt at a time.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::model::{
    format_duration, Action, ActionResult, AttemptOutcome, CommandAction, WebhookAction,
};

/// How much of a webhook response body goes into the message.
const BODY_EXCERPT_BYTES: usize = 300;
/// How much of each command output stream is kept.
const OUTPUT_KEEP_BYTES: usize = 4096;
/// How much of the end of stderr is kept to find its last line.
const STDERR_TAIL_BYTES: usize = 1024;
/// How often a running command is checked for exit.
const POLL_INTERVAL: Duration = Duration::from_millis(10);
/// How long to wait for output pipes to close once the command has ended.
const PIPE_GRACE: Duration = Duration::from_secs(1);
/// User-Agent sent with every webhook.
const USER_AGENT: &str = "conftrail-remediation";

/// One attempt's input.
pub struct ActionRequest<'a> {
    /// The JSON document sent (webhook body / command stdin).
    pub document: &'a serde_json::Value,
    /// Extra environment variables for commands (name, value).
    pub env: &'a [(String, String)],
    /// Sent as the `Idempotency-Key` header / CONFTRAIL_IDEMPOTENCY_KEY.
    pub idempotency_key: &'a str,
    /// Per-attempt timeout.
    pub timeout: Duration,
}

/// Runs one attempt. Never panics; every failure is an ActionResult.
pub fn run_action(action: &Action, request: &ActionRequest<'_>) -> ActionResult {
    // A bug in a dependency must not take the recorder down with it.
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match action {
        Action::Webhook(webhook) => run_webhook(webhook, request),
        Action::Command(command) => run_command(command, request),
    }))
    .unwrap_or_else(|_| {
        ActionResult::plain(
            AttemptOutcome::Permanent,
            "internal error: remediation attempt panicked".to_string(),
        )
    });
    tracing::debug!(
        action = %action.describe(),
        outcome = ?result.outcome,
        message = %result.message,
        "remediation attempt finished"
    );
    result
}

/// The result for an attempt that ran out of time.
fn timed_out(timeout: Duration) -> ActionResult {
    ActionResult::plain(
        AttemptOutcome::Retryable,
        format!("timed out after {}", format_duration(timeout)),
    )
}

/// POSTs the document and classifies the response.
fn run_webhook(webhook: &WebhookAction, request: &ActionRequest<'_>) -> ActionResult {
    let body = match serde_json::to_vec(request.document) {
        Ok(body) => body,
        Err(e) => {
            return ActionResult::plain(
                AttemptOutcome::Permanent,
                format!("cannot encode document: {e}"),
            );
        }
    };
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(request.timeout))
        // Status codes are classified below, not treated as transport errors.
        .http_status_as_error(false)
        // A redirect would re-send (or drop) the body somewhere unconfigured.
        .max_redirects(0)
        .user_agent(USER_AGENT)
        .build()
        .into();
    let mut builder = agent
        .post(webhook.url.as_str())
        .header("Content-Type", "application/json")
        .header("Idempotency-Key", request.idempotency_key);
    for (name, value) in &webhook.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    match builder.send(&body[..]) {
        Ok(mut response) => classify_response(&mut response),
        Err(ureq::Error::Timeout(_)) => timed_out(request.timeout),
        Err(ureq::Error::Io(e)) if e.kind() == std::io::ErrorKind::TimedOut => {
            timed_out(request.timeout)
        }
        Err(e) => {
            // Bad configuration fails identically every time; network trouble may pass.
            let outcome = match e {
                ureq::Error::BadUri(_)
                | ureq::Error::Http(_)
                | ureq::Error::RequireHttpsOnly(_)
                | ureq::Error::InvalidProxyUrl => AttemptOutcome::Permanent,
                _ => AttemptOutcome::Retryable,
            };
            ActionResult::plain(outcome, format!("POST {} failed: {e}", webhook.url))
        }
    }
}

/// Turns an HTTP response into a result.
fn classify_response(response: &mut ureq::http::Response<ureq::Body>) -> ActionResult {
    let status = response.status();
    let code = status.as_u16();
    let outcome = match code {
        200..=299 => AttemptOutcome::Succeeded,
        408 | 429 => AttemptOutcome::Retryable,
        300..=499 => AttemptOutcome::Permanent,
        _ => AttemptOutcome::Retryable,
    };
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_string())
    };
    let retry_after = match outcome {
        AttemptOutcome::Retryable => header("retry-after")
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs),
        _ => None,
    };
    let mut message = format!("HTTP {code}");
    if let Some(reason) = status.canonical_reason() {
        message.push(' ');
        message.push_str(reason);
    }
    if status.is_redirection() {
        let location = header("location").unwrap_or_else(|| "(none)".to_string());
        message.push_str(&format!(": redirect not followed: Location {location}"));
    }
    let excerpt = body_excerpt(response.body_mut());
    if !excerpt.is_empty() {
        message.push_str(": ");
        message.push_str(&excerpt);
    }
    ActionResult {
        outcome,
        message,
        http_status: Some(code),
        exit_code: None,
        retry_after,
        output: String::new(),
    }
}

/// The start of a response body as trimmed, lossy UTF-8.
fn body_excerpt(body: &mut ureq::Body) -> String {
    let mut bytes = Vec::with_capacity(BODY_EXCERPT_BYTES);
    // A failed or slow body read leaves whatever arrived; the status already decided the outcome.
    let _ = body
        .as_reader()
        .take(BODY_EXCERPT_BYTES as u64)
        .read_to_end(&mut bytes);
    lossy_trimmed(&bytes)
}

/// Lossy UTF-8 without a replacement character for a multi-byte char cut at the end.
fn lossy_trimmed(bytes: &[u8]) -> String {
    let bytes = match std::str::from_utf8(bytes) {
        Err(e) if e.error_len().is_none() => &bytes[..e.valid_up_to()],
        _ => bytes,
    };
    String::from_utf8_lossy(bytes).trim().to_string()
}

/// Output captured from one stream of a command.
#[derive(Default)]
struct Capture {
    /// The first OUTPUT_KEEP_BYTES bytes.
    head: Vec<u8>,
    /// Bytes read beyond `head`.
    dropped: u64,
    /// The last STDERR_TAIL_BYTES bytes, for the last line.
    tail: Vec<u8>,
}

impl Capture {
    /// Records a chunk read from the pipe.
    fn push(&mut self, chunk: &[u8]) {
        let keep = OUTPUT_KEEP_BYTES
            .saturating_sub(self.head.len())
            .min(chunk.len());
        self.head.extend_from_slice(&chunk[..keep]);
        self.dropped = self.dropped.saturating_add((chunk.len() - keep) as u64);
        let start = chunk.len().saturating_sub(STDERR_TAIL_BYTES);
        self.tail.extend_from_slice(&chunk[start..]);
        let excess = self.tail.len().saturating_sub(STDERR_TAIL_BYTES);
        self.tail.drain(..excess);
    }

    /// The kept text with a note about anything dropped.
    fn text(&self) -> String {
        let mut text = lossy_trimmed(&self.head);
        if self.dropped > 0 {
            text.push_str(&format!(" [… {} bytes dropped]", self.dropped));
        }
        text
    }

    /// The last non-empty line seen.
    fn last_line(&self) -> Option<String> {
        String::from_utf8_lossy(&self.tail)
            .lines()
            .map(str::trim)
            .rfind(|line| !line.is_empty())
            .map(str::to_string)
    }
}

/// Locks a capture, tolerating poisoning (the data stays usable).
fn lock(capture: &Mutex<Capture>) -> std::sync::MutexGuard<'_, Capture> {
    capture
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Reads a pipe to EOF, keeping a bounded part, then signals `done`.
fn drain(mut pipe: impl Read, capture: Arc<Mutex<Capture>>, done: mpsc::Sender<()>) {
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => lock(&capture).push(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let _ = done.send(());
}

/// Kills the command's whole process group.
fn kill_process_group(child: &mut Child) {
    // Killing only the direct child would leave e.g. a shell script's `sleep` running,
    // still holding the output pipes. The child was started with process_group(0), so
    // its pid is the group id, and it is not reaped yet, so that id cannot be reused.
    let killed = match libc::pid_t::try_from(child.id()) {
        // SAFETY: kill(2) has no memory-safety preconditions.
        Ok(pid) if pid > 0 => (unsafe { libc::kill(-pid, libc::SIGKILL) }) == 0,
        _ => false,
    };
    if !killed {
        let _ = child.kill();
    }
}

/// How waiting for the command ended.
enum Waited {
    /// The command exited or was killed by a signal not sent by us.
    Exited(ExitStatus),
    /// We killed it at the deadline.
    TimedOut,
    /// Waiting itself failed.
    Failed(std::io::Error),
}

/// Spawns the command, feeds stdin, collects output and enforces the timeout.
fn run_command(command: &CommandAction, request: &ActionRequest<'_>) -> ActionResult {
    let mut input = match serde_json::to_vec(request.document) {
        Ok(input) => input,
        Err(e) => {
            return ActionResult::plain(
                AttemptOutcome::Permanent,
                format!("cannot encode document: {e}"),
            );
        }
    };
    input.push(b'\n');
    let started = Instant::now();
    // A timeout too large to represent means "no deadline".
    let deadline = started.checked_add(request.timeout);
    let mut child = match Command::new(&command.program)
        .args(&command.args)
        .envs(request.env.iter().map(|(k, v)| (k, v)))
        .env("CONFTRAIL_IDEMPOTENCY_KEY", request.idempotency_key)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            return ActionResult::plain(
                AttemptOutcome::Permanent,
                format!("cannot start {}: {e}", command.program),
            );
        }
    };

    let stdout = Arc::new(Mutex::new(Capture::default()));
    let stderr = Arc::new(Mutex::new(Capture::default()));
    let (done_tx, done_rx) = mpsc::channel();
    let readers = match start_io_threads(&mut child, input, &stdout, &stderr, done_tx) {
        Ok(readers) => readers,
        Err(e) => {
            kill_process_group(&mut child);
            let _ = child.wait();
            return ActionResult::plain(
                AttemptOutcome::Retryable,
                format!(
                    "cannot run {}: cannot start I/O thread: {e}",
                    command.program
                ),
            );
        }
    };

    let waited = wait_until(&mut child, deadline);

    // Normally the pipes close right after exit; a leftover background process may keep
    // them open, so wait only briefly and leave the reader threads to finish on their own.
    let grace_end = Instant::now() + PIPE_GRACE;
    for _ in 0..readers {
        let left = grace_end.saturating_duration_since(Instant::now());
        if done_rx.recv_timeout(left).is_err() {
            break;
        }
    }

    let stdout = lock(&stdout);
    let stderr = lock(&stderr);
    let output = [("stdout", stdout.text()), ("stderr", stderr.text())]
        .into_iter()
        .filter(|(_, text)| !text.is_empty())
        .map(|(name, text)| format!("{name}: {text}"))
        .collect::<Vec<_>>()
        .join("\n");
    let with_stderr = |message: String| match stderr.last_line() {
        Some(line) => format!("{message}; stderr: {line}"),
        None => message,
    };

    let (outcome, message, exit_code) = match waited {
        Waited::Exited(status) => match (status.code(), status.signal()) {
            (Some(0), _) => (
                AttemptOutcome::Succeeded,
                "exit code 0".to_string(),
                Some(0),
            ),
            (Some(code), _) => {
                let outcome = if command.no_retry_exit_codes.contains(&code) {
                    AttemptOutcome::Permanent
                } else {
                    AttemptOutcome::Retryable
                };
                (
                    outcome,
                    with_stderr(format!("exit code {code}")),
                    Some(code),
                )
            }
            (None, Some(signal)) => (
                AttemptOutcome::Retryable,
                with_stderr(format!("killed by signal {signal}")),
                None,
            ),
            (None, None) => (
                AttemptOutcome::Retryable,
                with_stderr(format!("ended abnormally: {status}")),
                None,
            ),
        },
        Waited::TimedOut => (
            AttemptOutcome::Retryable,
            with_stderr(format!(
                "timed out after {}",
                format_duration(request.timeout)
            )),
            None,
        ),
        Waited::Failed(e) => (
            AttemptOutcome::Retryable,
            format!("cannot wait for {}: {e}", command.program),
            None,
        ),
    };
    ActionResult {
        outcome,
        message,
        http_status: None,
        exit_code,
        retry_after: None,
        output,
    }
}

/// Starts the stdin writer and the output readers; returns how many readers will report.
fn start_io_threads(
    child: &mut Child,
    input: Vec<u8>,
    stdout: &Arc<Mutex<Capture>>,
    stderr: &Arc<Mutex<Capture>>,
    done: mpsc::Sender<()>,
) -> std::io::Result<usize> {
    if let Some(mut pipe) = child.stdin.take() {
        // Written from a thread because a child that never reads stdin would block us once
        // the pipe buffer fills. A child exiting early gives EPIPE (Rust ignores SIGPIPE).
        thread::Builder::new()
            .name("remediation-stdin".into())
            .spawn(move || {
                let _ = pipe.write_all(&input);
            })?;
    }
    let mut readers = 0;
    if let Some(pipe) = child.stdout.take() {
        let (capture, done) = (Arc::clone(stdout), done.clone());
        thread::Builder::new()
            .name("remediation-stdout".into())
            .spawn(move || drain(pipe, capture, done))?;
        readers += 1;
    }
    if let Some(pipe) = child.stderr.take() {
        let capture = Arc::clone(stderr);
        thread::Builder::new()
            .name("remediation-stderr".into())
            .spawn(move || drain(pipe, capture, done))?;
        readers += 1;
    }
    Ok(readers)
}

/// Polls the child until it exits or the deadline passes (then kills its group).
fn wait_until(child: &mut Child, deadline: Option<Instant>) -> Waited {
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Waited::Exited(status),
            Ok(None) => {}
            Err(e) => {
                kill_process_group(child);
                let _ = child.wait();
                return Waited::Failed(e);
            }
        }
        let now = Instant::now();
        let sleep = match deadline {
            Some(deadline) if now >= deadline => {
                kill_process_group(child);
                let _ = child.wait();
                return Waited::TimedOut;
            }
            Some(deadline) => POLL_INTERVAL.min(deadline - now),
            None => POLL_INTERVAL,
        };
        thread::sleep(sleep);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::net::{TcpListener, TcpStream};
    use std::path::Path;

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
        });
        assert!(reserved
            .validate()
            .unwrap_err()
            .contains("set by conftrail"));
        let bad_name = Action::Webhook(WebhookAction {
            url: "https://example.com/hook".to_string(),
            headers: vec![("bad name".to_string(), "x".to_string())],
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
                headers: vec![]
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

    #[test]
    fn capture_keeps_head_and_counts_dropped() {
        let mut capture = Capture::default();
        capture.push(&[b'a'; 3000]);
        capture.push(&[b'b'; 3000]);
        capture.push(b"\nlast line\n");
        assert_eq!(capture.head.len(), OUTPUT_KEEP_BYTES);
        assert_eq!(capture.dropped, 6011 - OUTPUT_KEEP_BYTES as u64);
        assert_eq!(capture.tail.len(), STDERR_TAIL_BYTES);
        assert_eq!(capture.last_line().as_deref(), Some("last line"));
    }
}
