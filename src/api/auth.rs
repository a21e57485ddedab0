//! Bearer tokens and roles. Tokens are kept only as SHA-256 hashes and never logged.

use crate::model::MIN_SECRET_CHARS;
use sha2::{Digest, Sha256};

pub use crate::model::Role;

/// The configured tokens; none configured means open access (loopback only).
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    hashed: Vec<([u8; 32], Role)>,
}

/// Why a request was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denied {
    /// No token, or an unknown one.
    Unauthenticated,
    /// A known token whose role is too low.
    Forbidden(Role),
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

impl Tokens {
    /// Parses `role:secret` pairs separated by commas (`CONFTRAIL_API_TOKENS`).
    pub fn parse(text: &str) -> Result<Tokens, String> {
        let mut tokens = Tokens::default();
        for entry in text.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            let (role, secret) = entry.split_once(':').ok_or_else(|| {
                "a token is role:secret (the secret itself is not shown here)".to_string()
            })?;
            if secret.chars().count() < MIN_SECRET_CHARS {
                return Err(format!(
                    "the {role} token is shorter than {MIN_SECRET_CHARS} characters; use a long random secret"
                ));
            }
            tokens.hashed.push((hash(secret), Role::parse(role)?));
        }
        Ok(tokens)
    }

    /// Adds a token given as the hex SHA-256 of its secret (as the configuration file keeps it).
    pub fn add_hashed(&mut self, sha256_hex: &str, role: Role) -> Result<(), String> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(sha256_hex, &mut hash)
            .map_err(|_| "a token hash must be 64 hex digits".to_string())?;
        self.hashed.push((hash, role));
        Ok(())
    }

    /// Whether any token is configured.
    pub fn is_enabled(&self) -> bool {
        !self.hashed.is_empty()
    }

    /// Checks an `Authorization` header value against the role a route needs.
    pub fn check(&self, authorization: Option<&str>, needed: Role) -> Result<(), Denied> {
        if !self.is_enabled() {
            return Ok(());
        }
        let secret = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Denied::Unauthenticated)?;
        let presented = hash(secret);
        // Hash comparison: the secret's bytes are never compared directly.
        let role = self
            .hashed
            .iter()
            .find(|(h, _)| *h == presented)
            .map(|(_, role)| *role)
            .ok_or(Denied::Unauthenticated)?;
        if role >= needed {
            Ok(())
        } else {
            Err(Denied::Forbidden(role))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_include_lower_roles_and_unknown_tokens_are_refused() {
        let tokens = Tokens::parse("read:reader-secret-0123456789,admin:admin-secret-0123456789")
            .expect("tokens");
        let bearer = |s: &str| format!("Bearer {s}");
        assert_eq!(
            tokens.check(Some(&bearer("reader-secret-0123456789")), Role::Read),
            Ok(())
        );
        assert_eq!(
            tokens.check(Some(&bearer("reader-secret-0123456789")), Role::Ingest),
            Err(Denied::Forbidden(Role::Read))
        );
        assert_eq!(
            tokens.check(Some(&bearer("admin-secret-0123456789")), Role::Ingest),
            Ok(())
        );
        assert_eq!(tokens.check(None, Role::Read), Err(Denied::Unauthenticated));
        assert_eq!(
            tokens.check(Some(&bearer("guess")), Role::Read),
            Err(Denied::Unauthenticated)
        );
        assert!(Tokens::parse("root:0123456789abcdefg").is_err());
        assert!(Tokens::parse("read:short").is_err());
        assert_eq!(Tokens::default().check(None, Role::Admin), Ok(()));
    }

    #[test]
    fn hashed_tokens_take_64_hex_digits_in_either_case() {
        let secret = "hashed-secret-0123456789";
        let hex = crate::model::hash_hex(&hash(secret));
        for text in [hex.clone(), hex.to_ascii_uppercase()] {
            let mut tokens = Tokens::default();
            tokens.add_hashed(&text, Role::Admin).expect("hash");
            assert_eq!(
                tokens.check(Some(&format!("Bearer {secret}")), Role::Admin),
                Ok(())
            );
        }
        let mut tokens = Tokens::default();
        for bad in [&hex[..62], &hex[..63], &format!("{}zz", &hex[..62]), ""] {
            assert!(tokens.add_hashed(bad, Role::Read).is_err(), "{bad:?}");
        }
    }
}
