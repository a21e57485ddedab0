//! `conftrail rules new`: a rule crate from a template that builds as-is, anywhere.
//!
//! The crate gets a copy of the rule SDK and the WIT world (embedded in this binary), so it
//! builds without network access to a registry that hosts the SDK.

use std::path::Path;

use anyhow::{bail, Context, Result};
use include_dir::{include_dir, Dir};

static SDK_SOURCES: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/rules-wasm/sdk/src");
const WIT: &str = include_str!("../../rules-wasm/wit/rule.wit");
const SDK_VERSION: &str = "1.0.0";

/// Creates the rule crate `name` in `dir` (which must not exist or be empty).
pub fn create(dir: &Path, name: &str) -> Result<()> {
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
    if !valid {
        bail!("rule name {name:?} must start with a lower-case letter and contain only a-z, 0-9, '-' and '_'");
    }
    if dir.exists()
        && dir
            .read_dir()
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_some()
    {
        bail!("{} exists and is not empty", dir.display());
    }
    let files = [
        ("Cargo.toml", cargo_toml(name)),
        (".cargo/config.toml", CARGO_CONFIG.to_string()),
        (".gitignore", "/target\n".to_string()),
        ("src/lib.rs", LIB_RS.replace("{name}", name)),
        (
            "README.md",
            README
                .replace("{name}", name)
                .replace("{file}", &name.replace('-', "_")),
        ),
        (
            "conftrail-rule-sdk/Cargo.toml",
            SDK_CARGO_TOML.replace("{version}", SDK_VERSION),
        ),
        ("wit/rule.wit", WIT.to_string()),
    ];
    for (path, text) in files {
        write(&dir.join(path), text.as_bytes())?;
    }
    write_dir(&SDK_SOURCES, &dir.join("conftrail-rule-sdk/src"))?;
    Ok(())
}

fn write_dir(source: &Dir<'_>, target: &Path) -> Result<()> {
    for file in source.files() {
        write(
            &target.join(
                file.path()
                    .strip_prefix(source.path())
                    .unwrap_or(file.path()),
            ),
            file.contents(),
        )?;
    }
    for sub in source.dirs() {
        write_dir(
            sub,
            &target.join(sub.path().strip_prefix(source.path()).unwrap_or(sub.path())),
        )?;
    }
    Ok(())
}

fn write(path: &Path, bytes: &[u8]) -> Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    std::fs::write(path, bytes).with_context(|| format!("cannot write {}", path.display()))
}

fn cargo_toml(name: &str) -> String {
    format!(
        r#"[package]
name = "{name}"
version = "0.1.0"
edition = "2021"
publish = false

[lib]
crate-type = ["cdylib", "rlib"]

[dependencies]
conftrail-rule-sdk = {{ path = "conftrail-rule-sdk" }}
serde = {{ version = "1", features = ["derive"] }}

# Small, fast rules; panics abort (the SDK reports their message to conftrail first).
[profile.release]
opt-level = 3
lto = true
codegen-units = 1
panic = "abort"
strip = true

# This crate is its own workspace, wherever it is created.
[workspace]
"#
    )
}

const CARGO_CONFIG: &str = r#"# Rules are WebAssembly: `cargo build --release` builds for wasm32-unknown-unknown.
# Run the native unit tests with `cargo test --target x86_64-unknown-linux-gnu` (or your host).
[build]
target = "wasm32-unknown-unknown"
"#;

const SDK_CARGO_TOML: &str = r#"[package]
name = "conftrail-rule-sdk"
version = "{version}"
edition = "2021"
publish = false
description = "Write conftrail compliance rules in Rust (copy made by `conftrail rules new`)."

[lib]
name = "conftrail_rule_sdk"

[features]
test-support = []

[dependencies]
wit-bindgen = { version = "=0.60.0", default-features = false, features = ["macros", "realloc"] }
serde = { version = "1", default-features = false, features = ["std", "derive"] }
serde_json = { version = "1", default-features = false, features = ["std", "raw_value"] }
"#;

const LIB_RS: &str = include_str!("scaffold_template.rs");

const README: &str = r#"# {name}

A conftrail compliance rule, written with the conftrail rule SDK (`conftrail-rule-sdk/`, a copy
made by `conftrail rules new`; `wit/rule.wit` is the interface it implements).

```sh
rustup target add wasm32-unknown-unknown        # once
cargo build --release                           # builds target/wasm32-unknown-unknown/release/{file}.wasm
conftrail rules test target/wasm32-unknown-unknown/release/{file}.wasm --item some-config-item.json
conftrail rules add  target/wasm32-unknown-unknown/release/{file}.wasm
conftrail compliance --rule {name}
```

`src/lib.rs` holds the rule: `metadata()` says what it judges and which parameters it takes,
`evaluate()` returns COMPLIANT, NON_COMPLIANT or NOT_APPLICABLE with an annotation (cut at 256
characters). Parse only the configuration fields you need (`item.configuration::<YourView>()`):
that is what keeps a rule at a few microseconds per evaluation.
"#;
