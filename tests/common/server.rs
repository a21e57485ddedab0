//! A `conftrail serve` process on 127.0.0.1 with read, ingest and admin tokens, for the tests
//! that go over real HTTP.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A read token.
pub const READ: &str = "reader-0123456789abcdef";
/// An ingest token.
pub const INGEST: &str = "ingester-0123456789abcdef";
/// An admin token.
pub const ADMIN: &str = "administrator-0123456789abcdef";

/// A running server, killed when dropped.
pub struct Server {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub base: String,
}

impl Server {
    /// Starts a server on `data`.
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    /// Starts a server on `data` with extra `serve` arguments.
    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        Server::start_full(data, extra, &[], Stdio::null())
    }

    /// Starts a server on `data` with extra `serve` arguments and environment variables.
    pub fn start_with_env(data: &Path, extra: &[&str], env: &[(&str, &str)]) -> Server {
        Server::start_full(data, extra, env, Stdio::null())
    }

    /// Starts a server on `data` with extra `serve` arguments, its logs going to `stderr`.
    pub fn start_logging(data: &Path, extra: &[&str], stderr: Stdio) -> Server {
        Server::start_full(data, extra, &[], stderr)
    }

    /// Starts a server with extra arguments and environment variables, logs to `stderr`.
    fn start_full(data: &Path, extra: &[&str], env: &[(&str, &str)], stderr: Stdio) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conftrail"))
            .arg("--data-dir")
            .arg(data)
            .args(["serve", "--listen", "127.0.0.1:0"])
            .args(extra)
            .env(
                "CONFTRAIL_API_TOKENS",
                format!("read:{READ},ingest:{INGEST},admin:{ADMIN}"),
            )
            // The secrets examples/conftrail.toml reads from the environment.
            .env("CONFTRAIL_ADMIN_TOKEN", "example-admin-secret-0123456789")
            .env("CONFTRAIL_INGEST_TOKEN", "example-ingest-secret-0123456789")
            .env("CONFTRAIL_READ_TOKEN", "example-read-secret-0123456789")
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(stderr)
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

    /// A request with `token` and an optional JSON body: the status and the answer's text.
    pub fn request(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<&str>,
    ) -> (u16, String) {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .body(body.unwrap_or_default().to_string())
            .expect("request");
        let mut response = agent.run(request).expect("response");
        let status = response.status().as_u16();
        (status, response.body_mut().read_to_string().expect("body"))
    }

    /// POSTs a document to `/v1/ingest` with the ingest token; asserts it was taken.
    pub fn ingest(&self, body: &str) {
        let (code, answer) = self.request(INGEST, "POST", "/v1/ingest", Some(body));
        assert_eq!(code, 200, "{answer}");
    }

    /// GETs `path` (read token) until `done` holds of its JSON answer, a minute at most.
    pub fn wait_json(
        &self,
        path: &str,
        what: &str,
        done: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (_, body) = self.request(READ, "GET", path, None);
            let answer: serde_json::Value =
                serde_json::from_str(&body).unwrap_or(serde_json::Value::Null);
            if done(&answer) {
                return answer;
            }
            assert!(Instant::now() < deadline, "{what}: {body}");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// SIGTERM, then waits for a clean exit.
    pub fn stop(mut self) {
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

/// The configuration versions of a `/v1/resources/{type}/{id}/timeline` answer, oldest first.
pub fn timeline_versions(timeline: &serde_json::Value) -> Vec<serde_json::Value> {
    timeline["entries"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e.get("version").is_some())
        .cloned()
        .collect()
}
