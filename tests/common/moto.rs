//! A real moto server (PyPI `moto[server]`) on 127.0.0.1 for the collector's tests, from a
//! virtual environment under `target/moto-venv` (made by `.ci/moto`, or here if missing), and
//! boto3 from the same environment to seed and change the emulated account.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The moto release the tests run against.
pub const MOTO: &str = "moto[server]==5.2.1";

/// moto's fixed account id.
pub const ACCOUNT: &str = "123456789012";

/// The virtual environment: `CONFTRAIL_MOTO_VENV`, or `target/moto-venv`.
pub fn venv() -> PathBuf {
    std::env::var_os("CONFTRAIL_MOTO_VENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target/moto-venv"))
}

/// Makes the virtual environment if it is missing (one test binary at a time).
fn ensure_venv() -> PathBuf {
    let venv = venv();
    let server = venv.join("bin/moto_server");
    if server.exists() {
        return venv;
    }
    let lock = venv.with_extension("lock");
    let started = Instant::now();
    // Another test binary may be installing: wait for its lock to go.
    while std::fs::create_dir_all(venv.parent().unwrap()).is_ok()
        && std::fs::create_dir(&lock).is_err()
    {
        assert!(
            started.elapsed() < Duration::from_secs(600),
            "{} held for 10 minutes",
            lock.display()
        );
        std::thread::sleep(Duration::from_millis(500));
        if server.exists() {
            return venv;
        }
    }
    let run = |cmd: &mut Command| {
        let out = cmd.output().expect("run python3 (needed for moto)");
        assert!(
            out.status.success(),
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    if !server.exists() {
        run(Command::new("python3").args(["-m", "venv"]).arg(&venv));
        run(Command::new(venv.join("bin/pip")).args(["install", "--quiet", MOTO]));
    }
    let _ = std::fs::remove_dir(&lock);
    venv
}

/// A running moto server, stopped when dropped.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    venv: PathBuf,
}

impl Moto {
    /// Starts a moto server on a free port and waits until it answers.
    pub fn start() -> Moto {
        let venv = ensure_venv();
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let child = Command::new(venv.join("bin/moto_server"))
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start moto_server");
        let moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            venv,
        };
        let started = Instant::now();
        loop {
            if ureq::get(format!("{}/moto-api/", moto.url)).call().is_ok() {
                return moto;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "moto did not answer on {} within a minute",
                moto.url
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Wipes every emulated resource.
    pub fn reset(&self) {
        ureq::post(format!("{}/moto-api/reset", self.url))
            .send_empty()
            .expect("reset moto");
    }

    /// The environment a client of this server runs with: fixed test credentials, a region,
    /// every endpoint here.
    pub fn env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("AWS_ACCESS_KEY_ID", "testing".to_string()),
            ("AWS_SECRET_ACCESS_KEY", "testing".to_string()),
            ("AWS_SESSION_TOKEN", "testing".to_string()),
            ("AWS_REGION", "us-east-1".to_string()),
            ("AWS_DEFAULT_REGION", "us-east-1".to_string()),
            ("AWS_ENDPOINT_URL", self.url.clone()),
            // No shared files of the machine's own user.
            ("AWS_CONFIG_FILE", "/nonexistent/conftrail-test".to_string()),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/conftrail-test".to_string(),
            ),
            ("AWS_EC2_METADATA_DISABLED", "true".to_string()),
        ]
    }

    /// Runs a Python script with boto3 against this server (`ec2`, `s3`, `iam` clients are
    /// ready in it as `ec2`, `s3`, `iam`); returns what it printed.
    pub fn python(&self, script: &str) -> String {
        let prelude = "import boto3, json\n\
                       ec2 = boto3.client('ec2')\n\
                       s3 = boto3.client('s3')\n\
                       iam = boto3.client('iam')\n";
        let out = Command::new(self.venv.join("bin/python"))
            .arg("-c")
            .arg(format!("{prelude}{script}"))
            .envs(self.env())
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "script failed:\n{script}\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// A conftrail server on `dir/data` with `config` (TOML) as its configuration file, each
    /// collector account's endpoint set to this server in the file (not through
    /// AWS_ENDPOINT_URL, which the server would also honour).
    pub fn serve(&self, dir: &Path, config: &str) -> super::server::Server {
        let path = dir.join("conftrail.toml");
        let file = config.replace(
            "[[collector.accounts]]\n",
            &format!("[[collector.accounts]]\nendpoint_url = \"{}\"\n", self.url),
        );
        std::fs::write(&path, file).expect("write config");
        let env: Vec<(&str, String)> = self
            .env()
            .into_iter()
            .filter(|(k, _)| *k != "AWS_ENDPOINT_URL")
            .collect();
        let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
        super::server::Server::start_with_env(
            &dir.join("data"),
            &["--config", path.to_str().expect("utf8")],
            &env,
        )
    }

    /// The verdict `rule` gave the resource `id` in the store at `data` (`compliance --json`).
    pub fn verdict(&self, data: &Path, rule: &str, id: &str) -> String {
        let summary = stdout_json(&self.conftrail(data, &["compliance", "--rule", rule, "--json"]));
        summary["verdicts"]
            .as_array()
            .expect("verdicts")
            .iter()
            .find(|v| v["resourceId"] == id)
            .map(|v| v["compliance"].as_str().unwrap_or_default().to_string())
            .unwrap_or_else(|| panic!("no verdict of {rule} on {id}: {summary}"))
    }

    /// The latest item of a resource in the store at `data` (`show --json`).
    pub fn show(&self, data: &Path, resource_type: &str, id: &str) -> serde_json::Value {
        stdout_json(&self.conftrail(data, &["show", resource_type, id, "--json"]))
    }

    /// `conftrail --data-dir DIR ARGS...` with this server's environment.
    pub fn conftrail(&self, data_dir: &Path, args: &[&str]) -> std::process::Output {
        Command::new(env!("CARGO_BIN_EXE_conftrail"))
            .arg("--data-dir")
            .arg(data_dir)
            .args(args)
            .envs(self.env())
            .env_remove("AWS_PROFILE")
            .output()
            .expect("run conftrail")
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CloudTrail record of a successful call by mallory in us-east-1, this second: `event` of
/// `source` (`ec2.amazonaws.com`) with its request parameters, and `extra` members (such as
/// `resources`) added.
pub fn trail_record(
    source: &str,
    event: &str,
    request_parameters: serde_json::Value,
    extra: serde_json::Value,
    event_id: &str,
) -> serde_json::Value {
    // CloudTrail writes whole seconds: rounded up, so a version recorded earlier in this
    // second is not taken for one made after the call.
    let now = (chrono::Utc::now() + chrono::Duration::seconds(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let mut record = serde_json::json!({
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "accountId": ACCOUNT,
            "arn": format!("arn:aws:iam::{ACCOUNT}:user/mallory"), "userName": "mallory"},
        "eventTime": now.to_string(),
        "eventSource": source,
        "eventName": event,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userAgent": "aws-cli/2.15",
        "requestParameters": request_parameters,
        "responseElements": null,
        "eventID": event_id,
        "eventType": "AwsApiCall",
        "readOnly": false,
        "recipientAccountId": ACCOUNT
    });
    if let (Some(record), serde_json::Value::Object(extra)) = (record.as_object_mut(), extra) {
        record.extend(extra);
    }
    record
}

/// A command's standard output as JSON (this file is also part of a benchmark, which has no
/// `common::json`).
fn stdout_json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "output is not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}
