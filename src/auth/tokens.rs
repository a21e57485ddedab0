//! Bearer tokens and roles. Tokens are kept only as SHA-256 hashes and never logged.

use crate::model::MIN_SECRET_CHARS;
use sha2::{Digest, Sha256};

pub use crate::model::Role;

/// The configured tokens; none configured means open access (loopback only).
#[derive(Debug, Clone, Default)]
pub struct Tokens {
    hashed: Vec<Token>,
}

/// One token: its secret's hash, its role, and the name the audit trail and logs use.
#[derive(Debug, Clone)]
struct Token {
    hash: [u8; 32],
    role: Role,
    name: String,
}

/// Who the changes of a server without tokens are recorded as.
pub const OPEN_ACCESS: &str = "open access (no tokens; loopback only)";

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
        let entries = text.split(',').map(str::trim).filter(|e| !e.is_empty());
        for (index, entry) in entries.enumerate() {
            let (role, secret) = entry.split_once(':').ok_or_else(|| {
                "a token is role:secret (the secret itself is not shown here)".to_string()
            })?;
            if secret.chars().count() < MIN_SECRET_CHARS {
                return Err(format!(
                    "the {role} token is shorter than {MIN_SECRET_CHARS} characters; use a long random secret"
                ));
            }
            tokens.hashed.push(Token {
                hash: hash(secret),
                role: Role::parse(role)?,
                name: format!("CONFTRAIL_API_TOKENS[{index}] ({role})"),
            });
        }
        Ok(tokens)
    }

    /// Adds a token given as the hex SHA-256 of its secret (as the configuration file keeps
    /// it), recorded in the audit trail and logs as `name`.
    pub fn add_hashed(&mut self, sha256_hex: &str, role: Role, name: &str) -> Result<(), String> {
        let mut hash = [0u8; 32];
        hex::decode_to_slice(sha256_hex, &mut hash)
            .map_err(|_| "a token hash must be 64 hex digits".to_string())?;
        self.hashed.push(Token {
            hash,
            role,
            name: name.to_string(),
        });
        Ok(())
    }

    /// Whether any token is configured.
    pub fn is_enabled(&self) -> bool {
        !self.hashed.is_empty()
    }

    /// The name and role of the token whose secret this is (sign-in), if any.
    pub fn identify(&self, secret: &str) -> Option<(&str, Role)> {
        let presented = hash(secret.trim());
        // Hash comparison: the secret's bytes are never compared directly.
        self.hashed
            .iter()
            .find(|t| t.hash == presented)
            .map(|t| (t.name.as_str(), t.role))
    }

    /// Checks an `Authorization` header value against the role a route needs; the name of
    /// the token that passed.
    pub fn check(&self, authorization: Option<&str>, needed: Role) -> Result<&str, Denied> {
        if !self.is_enabled() {
            return Ok(OPEN_ACCESS);
        }
        let secret = authorization
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
            .ok_or(Denied::Unauthenticated)?;
        let (name, role) = self.identify(secret).ok_or(Denied::Unauthenticated)?;
        if role >= needed {
            Ok(name)
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
            Ok("CONFTRAIL_API_TOKENS[0] (read)")
        );
        assert_eq!(
            tokens.check(Some(&bearer("reader-secret-0123456789")), Role::Ingest),
            Err(Denied::Forbidden(Role::Read))
        );
        assert_eq!(
            tokens.check(Some(&bearer("admin-secret-0123456789")), Role::Ingest),
            Ok("CONFTRAIL_API_TOKENS[1] (admin)")
        );
        assert_eq!(tokens.check(None, Role::Read), Err(Denied::Unauthenticated));
        assert_eq!(
            tokens.check(Some(&bearer("guess")), Role::Read),
            Err(Denied::Unauthenticated)
        );
        assert!(Tokens::parse("root:0123456789abcdefg").is_err());
        assert!(Tokens::parse("read:short").is_err());
        assert_eq!(Tokens::default().check(None, Role::Admin), Ok(OPEN_ACCESS));
    }

    #[test]
    fn hashed_tokens_take_64_hex_digits_in_either_case() {
        let secret = "hashed-secret-0123456789";
        let hex = crate::model::hash_hex(&hash(secret));
        for text in [hex.clone(), hex.to_ascii_uppercase()] {
            let mut tokens = Tokens::default();
            tokens.add_hashed(&text, Role::Admin, "ops").expect("hash");
            assert_eq!(
                tokens.check(Some(&format!("Bearer {secret}")), Role::Admin),
                Ok("ops")
            );
        }
        let mut tokens = Tokens::default();
        for bad in [&hex[..62], &hex[..63], &format!("{}zz", &hex[..62]), ""] {
            assert!(tokens.add_hashed(bad, Role::Read, "t").is_err(), "{bad:?}");
        }
    }
}
