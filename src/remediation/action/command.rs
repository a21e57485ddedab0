//! Command actions: a program in its own process group with the document on stdin, bounded
//! output, a deadline, and exit codes that say whether retrying may help.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use wait_timeout::ChildExt;

use super::{lossy_trimmed, ActionRequest};
use crate::model::{format_duration, ActionResult, AttemptOutcome, CommandAction};

/// How much of each command output stream is kept.
pub(super) const OUTPUT_KEEP_BYTES: usize = 4096;
/// How much of the end of stderr is kept to find its last line.
const STDERR_TAIL_BYTES: usize = 1024;
/// How long to wait for output pipes to close once the command has ended.
const PIPE_GRACE: Duration = Duration::from_secs(1);

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
pub(super) fn run_command(command: &CommandAction, request: &ActionRequest<'_>) -> ActionResult {
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

/// Waits for the child to exit, or until the deadline passes (then kills its group).
fn wait_until(child: &mut Child, deadline: Option<Instant>) -> Waited {
    let waited = match deadline {
        Some(deadline) => child.wait_timeout(deadline.saturating_duration_since(Instant::now())),
        None => child.wait().map(Some),
    };
    let failed = match waited {
        Ok(Some(status)) => return Waited::Exited(status),
        Ok(None) => Waited::TimedOut,
        Err(e) => Waited::Failed(e),
    };
    kill_process_group(child);
    let _ = child.wait();
    failed
}

#[cfg(test)]
mod tests {
    use super::*;

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
