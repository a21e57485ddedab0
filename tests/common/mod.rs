//! Helpers shared by the end-to-end tests that run the `conftrail` binary.

#![allow(dead_code)]

pub mod memory;
pub mod server;

use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// The example account's web security group, whose SSH was opened and closed again.
pub const WEB_SG: [&str; 2] = ["AWS::EC2::SecurityGroup", "sg-0a1b2c3d4e5f60718"];

/// Runs `conftrail --data-dir DIR ARGS...`.
pub fn conftrail(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .arg("--data-dir")
        .arg(data_dir)
        .args(args)
        .output()
        .expect("run conftrail")
}

/// Runs `conftrail ARGS...` without a data directory.
pub fn conftrail_without_store(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conftrail"))
        .args(args)
        .output()
        .expect("run conftrail")
}

/// Exit code and both streams, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Standard output of a successful run.
pub fn ok_stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", describe(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Standard output of a successful run, parsed as JSON.
pub fn json(out: &Output) -> Value {
    serde_json::from_str(&ok_stdout(out)).expect("stdout is JSON")
}

/// Asserts that the run failed with `needle` in its standard error.
pub fn failed_with(out: &Output, needle: &str) {
    assert!(!out.status.success(), "{}", describe(out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(needle),
        "expected {needle:?} in:\n{}",
        describe(out)
    );
}

/// A path inside the repository.
pub fn repo(path: &str) -> String {
    format!("{}/{path}", env!("CARGO_MANIFEST_DIR"))
}

/// The bundled example data.
pub fn examples() -> String {
    repo("examples/data")
}
