//! Helpers shared by the end-to-end tests that run the `conftrail` binary.

#![allow(dead_code)]

pub mod fault_proxy;
pub mod memory;
pub mod moto;
pub mod receiver;
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

/// Overwrites the machine code (the ELF `.text` section) of a precompiled rule artifact with
/// trapping instructions, leaving its headers and metadata intact, as a damaged disk or an
/// attacker would: wasmtime accepts the file and running it traps natively (SIGILL).
pub fn plant_traps_in_code(artifact: &Path) {
    let mut bytes = std::fs::read(artifact).expect("read artifact");
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
    let u64_at = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().unwrap()) as usize;
    assert_eq!(
        &bytes[..4],
        b"\x7fELF",
        "{} is an ELF file",
        artifact.display()
    );
    let (table, entry_size, count, names) =
        (u64_at(0x28), u16_at(0x3a), u16_at(0x3c), u16_at(0x3e));
    let header = |index: usize| table + index * entry_size;
    let names_at = u64_at(header(names) + 0x18);
    let text = (0..count)
        .map(header)
        .find(|&h| {
            let name = names_at + u32_at(h);
            bytes[name..].starts_with(b".text\0")
        })
        .expect("a .text section");
    let (offset, size) = (u64_at(text + 0x18), u64_at(text + 0x20));
    assert!(size > 0, "code to damage");
    // ud2 on x86-64; zero words are permanently undefined instructions on aarch64.
    let trap: &[u8] = if cfg!(target_arch = "x86_64") {
        &[0x0f, 0x0b]
    } else {
        &[0, 0, 0, 0]
    };
    for (i, byte) in bytes[offset..offset + size].iter_mut().enumerate() {
        *byte = trap[i % trap.len()];
    }
    std::fs::write(artifact, bytes).expect("write artifact");
}

/// The precompiled rule artifacts of a data directory.
pub fn rule_artifacts(data_dir: &Path) -> Vec<std::path::PathBuf> {
    let mut found: Vec<_> = std::fs::read_dir(data_dir.join("rule-artifacts"))
        .expect("artifact directory")
        .map(|entry| entry.expect("entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    found.sort();
    found
}
