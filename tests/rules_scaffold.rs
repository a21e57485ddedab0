//! `conftrail rules new` makes a crate that builds as-is: the test builds it with cargo for
//! wasm32-unknown-unknown (installing the target with rustup when missing, as
//! rules-wasm/build.sh does) and runs the result with `conftrail rules test`.

mod common;

use common::{conftrail_without_store as conftrail, describe};
use std::path::Path;
use std::process::Command;

fn ensure_wasm_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains("wasm32-unknown-unknown"))
        .unwrap_or(false);
    if !installed {
        let status = Command::new("rustup")
            .args(["target", "add", "wasm32-unknown-unknown"])
            .status()
            .expect("rustup");
        assert!(
            status.success(),
            "cannot install the wasm32-unknown-unknown target"
        );
    }
}

#[test]
fn a_new_rule_crate_builds_as_is_and_judges_items() {
    let dir = tempfile::tempdir().expect("tempdir");
    let crate_dir = dir.path().join("described-groups");
    let out = conftrail(&[
        "rules",
        "new",
        "described-groups",
        "--dir",
        crate_dir.to_str().unwrap_or_default(),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "README.md",
        "wit/rule.wit",
        "conftrail-rule-sdk/src/lib.rs",
    ] {
        assert!(crate_dir.join(file).is_file(), "{file} missing");
    }

    ensure_wasm_target();
    // The crate's .cargo/config.toml selects the wasm target: a plain `cargo build` is enough.
    let build = Command::new(env!("CARGO"))
        .arg("build")
        .current_dir(&crate_dir)
        .env("CARGO_TARGET_DIR", dir.path().join("target"))
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .output()
        .expect("cargo build");
    assert!(build.status.success(), "{}", describe(&build));
    let wasm = dir
        .path()
        .join("target/wasm32-unknown-unknown/debug/described_groups.wasm");
    assert!(wasm.is_file(), "no {}", wasm.display());

    let item = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/realdata/config_items/rdk_example_ci/AWS_EC2_SecurityGroup.json");
    let tested = conftrail(&[
        "rules",
        "test",
        wasm.to_str().unwrap_or_default(),
        "--item",
        item.to_str().unwrap_or_default(),
    ]);
    let text = String::from_utf8_lossy(&tested.stdout);
    assert!(tested.status.success(), "{}", describe(&tested));
    assert!(
        text.contains("sg-1d56fc66: NON_COMPLIANT") && text.contains("launch-wizard-7"),
        "{text}"
    );
    // The template's parameter works.
    let tested = conftrail(&[
        "rules",
        "test",
        wasm.to_str().unwrap_or_default(),
        "--item",
        item.to_str().unwrap_or_default(),
        "--params",
        r#"{"forbiddenPrefix":"auto-"}"#,
    ]);
    let text = String::from_utf8_lossy(&tested.stdout);
    assert!(
        text.contains("sg-1d56fc66: COMPLIANT"),
        "{}",
        describe(&tested)
    );
}

#[test]
fn rules_new_refuses_bad_names_and_non_empty_directories() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = conftrail(&[
        "rules",
        "new",
        "Bad Name",
        "--dir",
        dir.path().join("x").to_str().unwrap_or_default(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("must start with a lower-case letter"),
        "{}",
        describe(&out)
    );
    std::fs::write(dir.path().join("keep.txt"), "mine").expect("write");
    let out = conftrail(&[
        "rules",
        "new",
        "ok-name",
        "--dir",
        dir.path().to_str().unwrap_or_default(),
    ]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("is not empty"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("keep.txt"))
            .ok()
            .as_deref(),
        Some("mine")
    );
}
