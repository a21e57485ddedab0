//! Remediation and schedules end to end: the real binary, a real HTTP server on 127.0.0.1 as the
//! webhook, real shell scripts as command actions, and `conftrail worker` as a real process that
//! is stopped with SIGTERM or killed with SIGKILL.

mod common;

use common::{conftrail, describe, json, ok_stdout};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const ACCOUNT: &str = "111122223333";
const REGION: &str = "eu-west-1";
const SG: &str = "sg-0aa11bb22cc33dd44";
const OTHER_SG: &str = "sg-0ff99ee88dd77cc66";

// ---------------------------------------------------------------------------------------------
// A scripted webhook receiver.

/// One scripted answer.
#[derive(Clone, Copy)]
struct Reply {
    status: u16,
    delay: Duration,
}

fn reply(status: u16) -> Reply {
    Reply {
        status,
        delay: Duration::ZERO,
    }
}

/// A request as received, with the status it was answered with.
#[derive(Debug, Clone)]
struct Received {
    body: Value,
    idempotency_key: String,
    status: u16,
}

/// An HTTP server answering each POST with the next scripted reply (200 once the script is done).
struct WebhookServer {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    /// (requests being answered now, the most at any time).
    in_flight: Arc<Mutex<(usize, usize)>>,
}

impl WebhookServer {
    fn start(script: Vec<Reply>) -> WebhookServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!(
            "http://127.0.0.1:{}/fix",
            listener.local_addr().expect("addr").port()
        );
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(Mutex::new(script.into_iter()));
        let log = received.clone();
        let in_flight = Arc::new(Mutex::new((0, 0)));
        let busy = in_flight.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (log, script, busy) = (log.clone(), script.clone(), busy.clone());
                // One thread per connection: a slow reply must not hold up the next request.
                std::thread::spawn(move || serve(stream, &log, &script, &busy));
            }
        });
        WebhookServer {
            url,
            received,
            in_flight,
        }
    }

    fn most_at_once(&self) -> usize {
        self.in_flight.lock().expect("lock").1
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }
}

fn serve(
    stream: TcpStream,
    log: &Mutex<Vec<Received>>,
    script: &Mutex<std::vec::IntoIter<Reply>>,
    busy: &Mutex<(usize, usize)>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let (mut length, mut key) = (0usize, String::new());
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.trim().parse().unwrap_or(0),
                "idempotency-key" => key = value.trim().to_string(),
                _ => {}
            }
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    {
        let mut busy = busy.lock().expect("lock");
        busy.0 += 1;
        busy.1 = busy.1.max(busy.0);
    }
    let answer = {
        let mut log = log.lock().expect("lock");
        let answer = script.lock().expect("lock").next().unwrap_or(reply(200));
        log.push(Received {
            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
            idempotency_key: key,
            status: answer.status,
        });
        answer
    };
    std::thread::sleep(answer.delay);
    let mut stream = stream;
    busy.lock().expect("lock").0 -= 1;
    let _ = write!(
        stream,
        "HTTP/1.1 {} Scripted\r\nContent-Type: text/plain\r\nContent-Length: 8\r\nConnection: close\r\n\r\nscripted",
        answer.status
    );
}

// ---------------------------------------------------------------------------------------------
// The worker as a process.

struct Worker {
    child: Child,
    log: Arc<Mutex<String>>,
}

impl Worker {
    fn start(data: &Path) -> Worker {
        Worker::start_with(data, &[])
    }

    fn start_with(data: &Path, extra: &[&str]) -> Worker {
        let mut child = Command::new(env!("CARGO_BIN_EXE_conftrail"))
            .arg("--data-dir")
            .arg(data)
            .args(["--log-level", "info", "--log-format", "json", "worker"])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start worker");
        let log = Arc::new(Mutex::new(String::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().expect("stderr");
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let mut log = sink.lock().expect("lock");
                log.push_str(&line);
                log.push('\n');
            }
        });
        Worker { child, log }
    }

    fn log(&self) -> String {
        self.log.lock().expect("lock").clone()
    }

    /// SIGTERM, then waits for a clean exit.
    fn stop(mut self) -> String {
        let pid = i32::try_from(self.child.id()).expect("pid");
        // SAFETY: sends a signal to our own child process.
        unsafe { libc::kill(pid, libc::SIGTERM) };
        let status = wait_for_exit(&mut self.child);
        let log = self.log();
        assert!(status.success(), "worker exited with {status:?}:\n{log}");
        log
    }

    /// SIGKILL: no chance to clean up.
    fn kill(mut self) {
        self.child.kill().expect("kill");
        wait_for_exit(&mut self.child);
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for_exit(child: &mut Child) -> std::process::ExitStatus {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        assert!(Instant::now() < deadline, "worker did not exit");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Polls `done` every 20 ms for up to 30 s.
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Data.

fn sg_item(id: &str, time: &str, ssh_from: &str) -> Value {
    json!({
        "configurationItemVersion": "1.3", "awsAccountId": ACCOUNT, "configurationItemCaptureTime": time,
        "configurationItemStatus": "OK", "resourceType": "AWS::EC2::SecurityGroup", "resourceId": id,
        "resourceName": "web", "awsRegion": REGION, "availabilityZone": "Not Applicable",
        "ARN": format!("arn:aws:ec2:{REGION}:{ACCOUNT}:security-group/{id}"),
        "tags": {}, "relatedEvents": [], "relationships": [],
        "configuration": {"groupId": id, "groupName": "web", "description": format!("web tier {time}"), "vpcId": "vpc-1",
            "ownerId": ACCOUNT, "ipPermissionsEgress": [], "tags": [],
            "ipPermissions": [{"ipProtocol": "tcp", "fromPort": 22, "toPort": 22, "ipRanges": [ssh_from],
                "ipv4Ranges": [{"cidrIp": ssh_from}], "ipv6Ranges": [], "prefixListIds": [], "userIdGroupPairs": []}]},
        "supplementaryConfiguration": {}
    })
}

/// Ingests one item (evaluating it unless `evaluate` is false).
fn ingest(data: &Path, dir: &Path, item: &Value, evaluate: bool) {
    let path = dir.join(format!(
        "item-{}.json",
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("clock")
            .as_nanos()
    ));
    std::fs::write(&path, serde_json::to_vec(item).expect("json")).expect("write");
    let mut args = vec!["ingest", path.to_str().expect("utf-8")];
    if !evaluate {
        args.push("--no-evaluate");
    }
    ok_stdout(&conftrail(data, &args));
}

fn jobs(data: &Path) -> Vec<Value> {
    json(&conftrail(data, &["remediation", "list", "--json"]))["jobs"]
        .as_array()
        .expect("jobs")
        .clone()
}

fn only_job(data: &Path) -> Value {
    let jobs = jobs(data);
    assert_eq!(jobs.len(), 1, "{jobs:#?}");
    jobs[0].clone()
}

fn outcomes(job: &Value) -> Vec<String> {
    job["attempts"]
        .as_array()
        .expect("attempts")
        .iter()
        .map(|a| a["outcome"].as_str().unwrap_or("running").to_string())
        .collect()
}

fn set_webhook(data: &Path, url: &str, extra: &[&str]) {
    let mut args = vec![
        "remediation",
        "set",
        "restricted-ssh",
        "--action",
        "webhook",
        "--url",
        url,
        "--param",
        "groupId=RESOURCE_ID",
        "--param",
        "port=22",
        "--param",
        "vpc=$.configuration.vpcId",
        "--header",
        "X-Team: secops",
    ];
    args.extend_from_slice(extra);
    ok_stdout(&conftrail(data, &args));
}

fn setup() -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("tempdir");
    let data = tmp.path().join("data");
    (tmp, data)
}

// ---------------------------------------------------------------------------------------------

#[test]
fn webhook_is_retried_after_500_and_timeout_then_verified_by_the_next_version() {
    let (tmp, data) = setup();
    let server = WebhookServer::start(vec![
        reply(500),
        Reply {
            status: 200,
            delay: Duration::from_secs(3),
        },
        reply(200),
    ]);
    set_webhook(
        &data,
        &server.url,
        &[
            "--automatic",
            "--max-attempts",
            "5",
            "--backoff",
            "100ms..200ms",
            "--jitter",
            "none",
            "--timeout",
            "700ms",
        ],
    );
    // SSH open to the world: NON_COMPLIANT, so a job is queued at once, before any worker runs.
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        true,
    );
    let queued = only_job(&data);
    assert_eq!(queued["state"], "queued");
    assert_eq!(queued["origin"], "automatic");
    assert_eq!(queued["configurationVersion"], 1);

    let worker = Worker::start(&data);
    wait_until("three webhook calls", || server.received().len() >= 3);
    wait_until("the success to be recorded", || {
        worker.log().contains("\"state\":\"succeeded\"")
    });
    worker.stop();

    let job = only_job(&data);
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert_eq!(outcomes(&job), ["retryable", "retryable", "succeeded"]);
    let attempts = job["attempts"].as_array().expect("attempts");
    assert_eq!(attempts[0]["httpStatus"], 500);
    assert!(
        attempts[1]["message"]
            .as_str()
            .is_some_and(|m| m.contains("timed out after 700ms")),
        "{job:#}"
    );
    assert_eq!(attempts[2]["httpStatus"], 200);

    // Every call carried the same idempotency key and the resolved parameters.
    let calls = server.received();
    assert_eq!(calls.len(), 3);
    let key = job["idempotencyKey"].as_str().expect("key");
    for (n, call) in calls.iter().enumerate() {
        assert_eq!(call.idempotency_key, key);
        assert_eq!(call.body["attempt"], n + 1);
        assert_eq!(call.body["ruleName"], "restricted-ssh");
        assert_eq!(call.body["resourceId"], SG);
        assert_eq!(call.body["compliance"], "NON_COMPLIANT");
        assert_eq!(
            call.body["parameters"],
            json!({"groupId": SG, "port": "22", "vpc": "vpc-1"})
        );
    }

    // The fix shows up as a new version: COMPLIANT, so the job is verified.
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:05:00Z", "10.0.0.0/8"),
        true,
    );
    let job = only_job(&data);
    assert_eq!(job["state"], "verified", "{job:#}");
    assert_eq!(job["verifiedByVersion"], 2);

    // The timeline shows the job with its attempts.
    let timeline = json(&conftrail(
        &data,
        &["timeline", "AWS::EC2::SecurityGroup", SG, "--json"],
    ));
    let remediation: Vec<&Value> = timeline["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .filter(|e| e["kind"] == "remediation")
        .collect();
    assert_eq!(remediation.len(), 1);
    assert_eq!(remediation[0]["state"], "verified");
    assert_eq!(remediation[0]["attempts"].as_array().map(Vec::len), Some(3));
    let text = ok_stdout(&conftrail(
        &data,
        &["timeline", "AWS::EC2::SecurityGroup", SG],
    ));
    assert!(text.contains("remediation job"), "{text}");
    assert!(text.contains("attempt 2"), "{text}");
}

#[test]
fn a_400_is_not_retried_and_a_fix_that_does_not_hold_is_not_effective() {
    let (tmp, data) = setup();
    let server = WebhookServer::start(vec![reply(400), reply(200)]);
    set_webhook(
        &data,
        &server.url,
        &["--automatic", "--backoff", "50ms..100ms"],
    );
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        true,
    );

    // The worker makes one attempt: 400 is permanent.
    let worker = Worker::start(&data);
    wait_until("the 400", || server.received().len() == 1);
    wait_until("the failure to be recorded", || {
        worker.log().contains("\"state\":\"failed\"")
    });
    std::thread::sleep(Duration::from_millis(300));
    worker.stop();
    assert_eq!(server.received().len(), 1, "a 400 must not be retried");
    let job = only_job(&data);
    assert_eq!(job["state"], "failed");
    assert_eq!(outcomes(&job), ["permanent"]);
    assert!(
        job["stateReason"]
            .as_str()
            .is_some_and(|r| r.starts_with("permanent failure: HTTP 400")),
        "{job:#}"
    );

    // Someone fixes the receiver and runs the job by hand: one attempt, here and now.
    let out = conftrail(
        &data,
        &[
            "remediation",
            "run",
            "restricted-ssh",
            "AWS::EC2::SecurityGroup",
            SG,
            "--json",
        ],
    );
    let answer = json(&out);
    assert_eq!(answer["queued"], true, "{answer}");
    let job = &answer["job"];
    assert_eq!(job["state"], "succeeded", "{}", describe(&out));
    assert_eq!(job["origin"], "manual");
    assert_eq!(outcomes(job), ["permanent", "succeeded"]);

    // The next version is still open: the action did not hold. No second job for it.
    let mut still_open = sg_item(SG, "2024-05-01T10:05:00Z", "0.0.0.0/0");
    still_open["tags"] = json!({"touched": "yes"});
    ingest(&data, tmp.path(), &still_open, true);
    let job = only_job(&data);
    assert_eq!(job["state"], "notEffective", "{job:#}");
    assert_eq!(job["verifiedByVersion"], 2);
    let listed = ok_stdout(&conftrail(
        &data,
        &["remediation", "list", "--state", "not-effective"],
    ));
    assert!(
        listed.contains("notEffective") && listed.contains("1 jobs"),
        "{listed}"
    );
    assert_eq!(server.received().len(), 2);
}

#[test]
fn command_action_gets_the_document_parameters_and_exit_code_rules() {
    let (tmp, data) = setup();
    let outdir = tmp.path().join("out");
    std::fs::create_dir_all(&outdir).expect("mkdir");
    let fix = tmp.path().join("fix.sh");
    std::fs::write(
        &fix,
        "cat > \"$CONFTRAIL_PARAM_out/stdin.json\"\nenv | grep '^CONFTRAIL_' | sort > \"$CONFTRAIL_PARAM_out/env.txt\"\necho fixed \"$CONFTRAIL_PARAM_groupId\"\n",
    )
    .expect("script");
    let fail = tmp.path().join("fail.sh");
    std::fs::write(&fail, "echo 'no permission to change sg' >&2\nexit 3\n").expect("script");
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        true,
    );
    ingest(
        &data,
        tmp.path(),
        &sg_item(OTHER_SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        true,
    );
    let out_param = format!("out={}", outdir.display());
    let set = |script: &Path| {
        ok_stdout(&conftrail(
            &data,
            &[
                "remediation",
                "set",
                "restricted-ssh",
                "--action",
                "command",
                "--param",
                "groupId=RESOURCE_ID",
                "--param",
                &out_param,
                "--no-retry-exit-codes",
                "3",
                "--timeout",
                "5s",
                "--",
                "/bin/sh",
                script.to_str().expect("utf-8"),
            ],
        ))
    };
    set(&fix);
    // Not automatic: nothing was queued by the NON_COMPLIANT verdicts.
    assert!(jobs(&data).is_empty());

    let answer = json(&conftrail(
        &data,
        &[
            "remediation",
            "run",
            "restricted-ssh",
            "AWS::EC2::SecurityGroup",
            SG,
            "--json",
        ],
    ));
    let job = &answer["job"];
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert_eq!(job["attempts"][0]["exitCode"], 0);
    assert!(
        job["attempts"][0]["output"]
            .as_str()
            .is_some_and(|o| o.contains(&format!("fixed {SG}"))),
        "{job:#}"
    );
    let stdin: Value =
        serde_json::from_slice(&std::fs::read(outdir.join("stdin.json")).expect("stdin written"))
            .expect("stdin is JSON");
    assert_eq!(stdin["resourceId"], SG);
    assert_eq!(stdin["parameters"]["groupId"], SG);
    let env = std::fs::read_to_string(outdir.join("env.txt")).expect("env written");
    assert!(
        env.contains(&format!("CONFTRAIL_PARAM_groupId={SG}")),
        "{env}"
    );
    assert!(env.contains("CONFTRAIL_RULE=restricted-ssh"), "{env}");
    assert!(env.contains("CONFTRAIL_IDEMPOTENCY_KEY=ct-"), "{env}");

    // Exit code 3 is listed as "do not retry": one attempt, failed, exit status 3 from `run`.
    set(&fail);
    let out = conftrail(
        &data,
        &[
            "remediation",
            "run",
            "restricted-ssh",
            "AWS::EC2::SecurityGroup",
            OTHER_SG,
            "--json",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("json");
    let job = &answer["job"];
    assert_eq!(job["state"], "failed");
    assert_eq!(job["attempts"][0]["exitCode"], 3);
    assert!(
        job["attempts"][0]["message"]
            .as_str()
            .is_some_and(|m| m.contains("no permission to change sg")),
        "{job:#}"
    );

    // Bad configurations are refused with the reason.
    let out = conftrail(
        &data,
        &[
            "remediation",
            "set",
            "restricted-ssh",
            "--action",
            "webhook",
            "--url",
            "ftp://x/fix",
        ],
    );
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("ftp://x/fix"),
        "{}",
        describe(&out)
    );
    let out = conftrail(
        &data,
        &[
            "remediation",
            "set",
            "no-such-rule",
            "--action",
            "command",
            "--",
            "/bin/true",
        ],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no rule named \"no-such-rule\""),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_worker_killed_during_a_backoff_or_an_attempt_finishes_the_job_once_after_restart() {
    let (tmp, data) = setup();
    // First call fails; its retry is 3 s away. The second call (after the restart) is slow
    // enough for the worker to be killed in the middle of it; the third succeeds.
    let server = WebhookServer::start(vec![
        reply(503),
        Reply {
            status: 200,
            delay: Duration::from_secs(4),
        },
        reply(200),
    ]);
    set_webhook(
        &data,
        &server.url,
        &[
            "--automatic",
            "--backoff",
            "3s",
            "--jitter",
            "none",
            "--timeout",
            "20s",
        ],
    );
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        true,
    );

    let worker = Worker::start(&data);
    wait_until("the first call", || server.received().len() == 1);
    wait_until("the retry to be scheduled", || {
        worker.log().contains("\"state\":\"queued\"")
    });
    worker.kill();
    let job = only_job(&data);
    assert_eq!(job["state"], "queued", "{job:#}");
    assert_eq!(outcomes(&job), ["retryable"]);
    assert!(job["nextAttemptAt"].is_string());

    // Restarted, the worker waits out the backoff, then calls again; killed during that call.
    let worker = Worker::start(&data);
    wait_until("the second call", || server.received().len() == 2);
    worker.kill();
    let job = only_job(&data);
    assert_eq!(job["state"], "inProgress", "{job:#}");

    // Restarted again: the cut-off attempt is recorded as interrupted and retried.
    let worker = Worker::start(&data);
    wait_until("the third call", || server.received().len() == 3);
    wait_until("the success to be recorded", || {
        worker.log().contains("\"state\":\"succeeded\"")
    });
    let log = worker.stop();
    assert!(log.contains("interrupted by a restart"), "{log}");
    let job = only_job(&data);
    assert_eq!(job["state"], "succeeded", "{job:#}");
    assert_eq!(outcomes(&job), ["retryable", "interrupted", "succeeded"]);

    // Exactly once per version: judging the same version again starts nothing new.
    ok_stdout(&conftrail(&data, &["evaluate", "--rule", "restricted-ssh"]));
    let worker = Worker::start(&data);
    std::thread::sleep(Duration::from_millis(500));
    worker.stop();
    assert_eq!(jobs(&data).len(), 1);
    let calls = server.received();
    assert_eq!(calls.len(), 3);
    assert!(calls
        .iter()
        .all(|c| c.idempotency_key == calls[0].idempotency_key));
    assert_eq!(
        calls.iter().filter(|c| c.status == 200).count(),
        2,
        "the interrupted call was answered 200 after the worker was gone; the receiver dedupes by key"
    );
}

#[test]
fn an_exception_stops_automatic_remediation_until_it_expires() {
    let (tmp, data) = setup();
    let server = WebhookServer::start(Vec::new());
    set_webhook(&data, &server.url, &["--automatic"]);
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        false,
    );
    let expires = chrono::Utc::now() + chrono::Duration::seconds(3);
    let expires = expires.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    ok_stdout(&conftrail(
        &data,
        &[
            "remediation",
            "exception",
            "add",
            "restricted-ssh",
            "AWS::EC2::SecurityGroup",
            SG,
            "--reason",
            "bastion host",
            "--expires",
            &expires,
        ],
    ));
    ok_stdout(&conftrail(&data, &["evaluate", "--rule", "restricted-ssh"]));
    assert!(jobs(&data).is_empty(), "no job while the exception applies");

    let compliance = json(&conftrail(&data, &["compliance", "--json"]));
    assert_eq!(compliance["exceptions"][0]["reason"], "bastion host");
    let text = ok_stdout(&conftrail(&data, &["compliance"]));
    assert!(text.contains("[exception: bastion host]"), "{text}");
    let timeline = json(&conftrail(
        &data,
        &["timeline", "AWS::EC2::SecurityGroup", SG, "--json"],
    ));
    assert!(
        timeline["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["kind"] == "exception" && e["active"] == true),
        "{timeline:#}"
    );

    // Expired, it stops applying by itself: the next evaluation starts a job.
    wait_until("the exception to expire", || {
        chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true) > expires
    });
    ok_stdout(&conftrail(
        &data,
        &[
            "evaluate",
            "--rule",
            "restricted-ssh",
            "--type",
            "AWS::EC2::SecurityGroup",
            "--id",
            SG,
        ],
    ));
    assert_eq!(only_job(&data)["state"], "queued");
    let listed = json(&conftrail(
        &data,
        &["remediation", "exception", "list", "--json"],
    ));
    assert_eq!(listed["exceptions"].as_array().map(Vec::len), Some(1));
    let text = ok_stdout(&conftrail(&data, &["remediation", "exception", "list"]));
    assert!(text.contains("expired"), "{text}");
}

#[test]
fn a_schedule_fires_and_judges_every_resource_in_scope() {
    let (tmp, data) = setup();
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        false,
    );
    ingest(
        &data,
        tmp.path(),
        &sg_item(OTHER_SG, "2024-05-01T10:00:00Z", "10.0.0.0/8"),
        false,
    );
    let out = conftrail(
        &data,
        &["rules", "schedule", "restricted-ssh", "every minute"],
    );
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("invalid cron expression"),
        "{}",
        describe(&out)
    );
    let text = ok_stdout(&conftrail(
        &data,
        &["rules", "schedule", "restricted-ssh", "*/1 * * * * *"],
    ));
    assert!(text.contains("next run"), "{text}");
    let rules = ok_stdout(&conftrail(&data, &["rules", "list"]));
    assert!(rules.contains("schedule(*/1 * * * * *)"), "{rules}");

    let worker = Worker::start(&data);
    wait_until("a scheduled run", || {
        worker.log().contains("scheduled evaluation")
    });
    worker.stop();
    for id in [SG, OTHER_SG] {
        let history = json(&conftrail(
            &data,
            &[
                "compliance",
                "history",
                "AWS::EC2::SecurityGroup",
                id,
                "--rule",
                "restricted-ssh",
                "--json",
            ],
        ));
        let triggers: Vec<&str> = history
            .as_array()
            .expect("records")
            .iter()
            .filter_map(|r| r["trigger"].as_str())
            .collect();
        assert!(triggers.contains(&"schedule"), "{id}: {history:#}");
    }
    ok_stdout(&conftrail(
        &data,
        &["rules", "schedule", "restricted-ssh", "--clear"],
    ));
    let rules = ok_stdout(&conftrail(&data, &["rules", "list"]));
    assert!(!rules.contains("schedule("), "{rules}");
}

#[test]
fn jobs_respect_the_concurrency_limit_and_skip_resources_fixed_meanwhile() {
    let (tmp, data) = setup();
    let slow = Reply {
        status: 200,
        delay: Duration::from_millis(400),
    };
    let server = WebhookServer::start(vec![slow; 3]);
    set_webhook(&data, &server.url, &["--automatic", "--concurrency", "1"]);
    for n in 0..3 {
        let id = format!("sg-00000000000000{n:03}");
        ingest(
            &data,
            tmp.path(),
            &sg_item(&id, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
            true,
        );
    }
    // A fourth group is queued, then fixed before the worker gets to it: no call is made.
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:00:00Z", "0.0.0.0/0"),
        true,
    );
    ingest(
        &data,
        tmp.path(),
        &sg_item(SG, "2024-05-01T10:01:00Z", "10.0.0.0/8"),
        true,
    );
    assert_eq!(jobs(&data).len(), 4);

    let worker = Worker::start(&data);
    wait_until("three calls", || server.received().len() == 3);
    wait_until("three successes", || {
        worker.log().matches("\"state\":\"succeeded\"").count() == 3
    });
    worker.stop();
    assert_eq!(
        server.most_at_once(),
        1,
        "--concurrency 1 allows one call at a time"
    );
    assert!(server.received().iter().all(|c| c.body["resourceId"] != SG));
    let fixed = jobs(&data)
        .into_iter()
        .find(|j| j["resourceId"] == SG)
        .expect("job of the fixed group");
    assert_eq!(fixed["state"], "cancelled", "{fixed:#}");
    assert_eq!(fixed["attempts"].as_array().map(Vec::len), Some(0));
    assert!(
        fixed["stateReason"]
            .as_str()
            .is_some_and(|r| r.contains("COMPLIANT now")),
        "{fixed:#}"
    );
}
