//! Peak memory of child processes: a watchdog that kills a process passing a bound (so a
//! regression fails the test instead of exhausting the machine), and the peak resident set
//! size as the kernel reports it.

use std::io::Read;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// A field of `/proc/PID/status` in kB (`VmRSS`, `VmHWM`), while the process lives.
pub fn status_kb(pid: u32, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|line| line.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Kills a process whose resident set passes `limit_kb`, checking every 10 ms until stopped.
pub struct Watchdog {
    stop: Arc<AtomicBool>,
    killed: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Watchdog {
    /// Starts watching `pid`.
    pub fn start(pid: u32, limit_kb: u64) -> Watchdog {
        let stop = Arc::new(AtomicBool::new(false));
        let killed = Arc::new(AtomicBool::new(false));
        let (stop_flag, killed_flag) = (stop.clone(), killed.clone());
        let thread = std::thread::spawn(move || {
            while !stop_flag.load(Ordering::SeqCst) {
                if status_kb(pid, "VmRSS").is_some_and(|rss| rss > limit_kb) {
                    killed_flag.store(true, Ordering::SeqCst);
                    // SAFETY: signals our own child process, which has not been reaped (the
                    // watchdog is stopped before it is).
                    unsafe { libc::kill(pid as i32, libc::SIGKILL) };
                    return;
                }
                std::thread::sleep(Duration::from_millis(10));
            }
        });
        Watchdog {
            stop,
            killed,
            thread: Some(thread),
        }
    }

    /// Stops watching; whether the process was killed for passing the limit.
    pub fn stop(mut self) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        self.killed.load(Ordering::SeqCst)
    }
}

/// What a measured run did.
pub struct Measured {
    /// Exit code (`None` when killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Peak resident set size in kB (`ru_maxrss` of the process, from `wait4`).
    pub peak_kb: u64,
    /// Whether the watchdog killed it for passing the limit.
    pub killed: bool,
}

impl Measured {
    /// Exit code and both streams, for assertion messages.
    pub fn describe(&self) -> String {
        format!(
            "exit {:?}, peak {} MB, killed by the watchdog: {}\nstdout:\n{}\nstderr:\n{}",
            self.code,
            self.peak_kb / 1024,
            self.killed,
            tail(&self.stdout),
            tail(&self.stderr)
        )
    }
}

fn tail(text: &str) -> &str {
    let start = text.len().saturating_sub(4000);
    let start = (start..text.len())
        .find(|i| text.is_char_boundary(*i))
        .unwrap_or(text.len());
    &text[start..]
}

/// Runs a command to its end, killed if its resident set passes `limit_kb`, and measures its
/// peak resident set size.
pub fn run_measured(command: &mut Command, limit_kb: u64) -> Measured {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let pid = child.id();
    let watchdog = Watchdog::start(pid, limit_kb);
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reading_out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = out.read_to_string(&mut text);
        text
    });
    let reading_err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = err.read_to_string(&mut text);
        text
    });
    // Wait without reaping, so the watchdog never signals a recycled pid; then reap with
    // wait4, which reports this child's own peak.
    // SAFETY: a zeroed siginfo_t is a valid value; waitid only writes into it.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: waits for our own child; WNOWAIT leaves it to be reaped below.
    let rc = unsafe { libc::waitid(libc::P_PID, pid, &mut info, libc::WEXITED | libc::WNOWAIT) };
    assert_eq!(rc, 0, "waitid: {}", std::io::Error::last_os_error());
    let killed = watchdog.stop();
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value; wait4 only writes into it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: reaps our own child, which has exited.
    let reaped = unsafe { libc::wait4(pid as i32, &mut status, 0, &mut usage) };
    assert_eq!(
        reaped,
        pid as i32,
        "wait4: {}",
        std::io::Error::last_os_error()
    );
    // std's Child was not told; it neither waits nor kills on drop.
    drop(child);
    let code = libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status));
    Measured {
        code,
        stdout: reading_out.join().expect("stdout"),
        stderr: reading_err.join().expect("stderr"),
        peak_kb: u64::try_from(usage.ru_maxrss).unwrap_or(0),
        killed,
    }
}
