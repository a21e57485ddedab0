//! Outbound secrets (webhook header values, signing secrets): kept in the settings, or read
//! from an environment variable or a file each time they are used, and never shown back.

use std::path::PathBuf;

/// Shortest secret accepted anywhere (API tokens, signing secrets): shorter ones can be guessed.
pub const MIN_SECRET_CHARS: usize = 16;

/// SHA-256 of the empty string: a token hash that any empty bearer token would match.
pub const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// What answers show instead of a secret value; sent back in a request, it means "keep the
/// value stored" (so that what GET answers can be sent back with PUT).
pub const REDACTED: &str = "***";

/// Where a secret comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    /// Written in the settings and stored (answers show [`REDACTED`]).
    Value(String),
    /// Read from this environment variable of the server when used.
    Env(String),
    /// Read from this file when used (a trailing line break is dropped).
    File(PathBuf),
}

impl Secret {
    /// The secret itself; the error names the variable or file that could not be read.
    pub fn reveal(&self) -> Result<String, String> {
        match self {
            Secret::Value(value) => Ok(value.clone()),
            Secret::Env(name) => std::env::var(name)
                .map_err(|_| format!("environment variable {name} is not set (or not UTF-8)")),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|text| text.trim_end_matches(['\r', '\n']).to_string())
                .map_err(|e| format!("cannot read {}: {e}", path.display())),
        }
    }
}

/// The signature header of a signed webhook: `t=<unix seconds>,v1=<hex HMAC-SHA256 of
/// "<t>.<body>">`, as Stripe signs its webhooks.
pub const SIGNATURE_HEADER: &str = "X-Conftrail-Signature";

/// The value of [`SIGNATURE_HEADER`] for `body` sent at `unix_seconds`.
pub fn signature(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    use hmac::{Hmac, Mac};
    // HMAC takes a key of any length, so this cannot fail (an empty signature would fail closed).
    let mut mac = match Hmac::<sha2::Sha256>::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!(
        "t={unix_seconds},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_signature_is_hmac_sha256_of_time_dot_body() {
        // Reference computed with: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec
        assert_eq!(
            signature(b"whsec", 1_700_000_000, br#"{"a":1}"#),
            "t=1700000000,v1=8ad37ba156048ae0e0a5533c75cdf26fee88b07f93cb57ee4c80adb053012032"
        );
    }

    #[test]
    fn a_missing_variable_is_named() {
        let missing = Secret::Env("CONFTRAIL_TEST_SURELY_UNSET_VARIABLE".into()).reveal();
        assert!(missing.is_err_and(|e| e.contains("CONFTRAIL_TEST_SURELY_UNSET_VARIABLE")));
    }
}
