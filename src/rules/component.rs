//! Uploaded rule binaries: a core module built with wit-bindgen becomes a component; a ready
//! component is accepted as is. Either way, only conftrail's own imports are allowed.

use wasmtime::component::Component;
use wasmtime::Engine;

use super::RuleError;

/// The interfaces a rule may import; it gets no other capability.
pub const ALLOWED_IMPORTS: [&str; 2] = ["conftrail:rule/host@0.1.0", "conftrail:rule/types@0.1.0"];

/// Uploaded rules larger than this are refused.
pub const MAX_RULE_BYTES: usize = 32 << 20;

/// Turns uploaded bytes into component bytes, refusing anything that is not a rule.
pub fn to_component(bytes: &[u8]) -> Result<Vec<u8>, RuleError> {
    if bytes.len() > MAX_RULE_BYTES {
        return Err(invalid(format!(
            "the rule is {} bytes; the limit is {MAX_RULE_BYTES}",
            bytes.len()
        )));
    }
    if wasmparser::Parser::is_component(bytes) {
        return Ok(bytes.to_vec());
    }
    if !wasmparser::Parser::is_core_wasm(bytes) {
        let start: String = bytes
            .iter()
            .take(8)
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ");
        return Err(invalid(format!(
            "not a WebAssembly module or component (it starts with bytes {start})"
        )));
    }
    check_core_imports(bytes)?;
    let encoder = wit_component::ComponentEncoder::default()
        .module(bytes)
        .map_err(|e| {
            invalid(format!(
                "cannot turn the core module into a component (build it with wit-bindgen for conftrail:rule@0.1.0, e.g. with conftrail-rule-sdk): {e:#}"
            ))
        })?;
    encoder.validate(true).encode().map_err(|e| {
        invalid(format!(
            "cannot turn the core module into a component (build it with wit-bindgen for conftrail:rule@0.1.0, e.g. with conftrail-rule-sdk): {e:#}"
        ))
    })
}

/// Core modules may import only the host interface's functions (as wit-bindgen names them).
fn check_core_imports(bytes: &[u8]) -> Result<(), RuleError> {
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        let payload = payload.map_err(|e| invalid(format!("malformed WebAssembly module: {e}")))?;
        if let wasmparser::Payload::ImportSection(reader) = payload {
            for import in reader.into_imports() {
                let import =
                    import.map_err(|e| invalid(format!("malformed import section: {e}")))?;
                let allowed =
                    import.module == ALLOWED_IMPORTS[0] || import.module.starts_with("[export]");
                if !allowed {
                    return Err(forbidden_import(&format!(
                        "{}::{}",
                        import.module, import.name
                    )));
                }
            }
        }
    }
    Ok(())
}

/// Refuses components that import anything the host does not provide.
pub fn check_component_imports(engine: &Engine, component: &Component) -> Result<(), RuleError> {
    for (name, _) in component.component_type().imports(engine) {
        if !ALLOWED_IMPORTS.contains(&name) {
            return Err(forbidden_import(name));
        }
    }
    Ok(())
}

fn forbidden_import(name: &str) -> RuleError {
    let hint = if name.starts_with("wasi") {
        " (WASI is not offered to rules: build for wasm32-unknown-unknown)"
    } else {
        ""
    };
    invalid(format!(
        "the rule imports `{name}`, which conftrail does not provide{hint}; a rule may import only {}",
        ALLOWED_IMPORTS.join(" and ")
    ))
}

fn invalid(reason: String) -> RuleError {
    RuleError::Invalid { reason }
}
