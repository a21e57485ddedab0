//! Resource policies (S3 bucket policies) and what they let the public do.
//!
//! A statement is *public* when it is an `Allow` whose principal is everyone — `"*"`,
//! `{"AWS": "*"}`, `{"AWS": ["*", …]}` or any `NotPrincipal` — and whose conditions do not
//! restrict who can use it. `Deny` statements never make a bucket public.
//!
//! Restricting conditions (a deliberate, documented approximation of AWS's analysis): a
//! condition restricts when it tests one of the keys in [`RESTRICTING_CONDITION_KEYS`] with a
//! positive operator (not `…Not…`, not `…IfExists`) and none of its values is a wildcard
//! (`*`, `0.0.0.0/0`, `::/0`). Conditions on other keys (`aws:SecureTransport`, …) do not
//! restrict who can call.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use crate::json::{OneOrMany, Scalar};

/// A policy document.
#[derive(Debug, Clone, Deserialize, Default)]
pub struct PolicyDocument {
    /// `2012-10-17`
    #[serde(rename = "Version", default)]
    pub version: Option<String>,
    /// Policy id.
    #[serde(rename = "Id", default)]
    pub id: Option<String>,
    /// Statements (a single statement object is accepted too).
    #[serde(rename = "Statement", default)]
    pub statement: OneOrMany<Statement>,
}

/// One statement.
#[derive(Debug, Clone, Deserialize)]
pub struct Statement {
    /// Statement id.
    #[serde(rename = "Sid", default)]
    pub sid: Option<String>,
    /// `Allow` or `Deny`.
    #[serde(rename = "Effect", default)]
    pub effect: String,
    /// Who.
    #[serde(rename = "Principal", default)]
    pub principal: Option<Principal>,
    /// Everyone but.
    #[serde(rename = "NotPrincipal", default)]
    pub not_principal: Option<Principal>,
    /// Actions.
    #[serde(rename = "Action", default)]
    pub action: OneOrMany<String>,
    /// All actions but.
    #[serde(rename = "NotAction", default)]
    pub not_action: OneOrMany<String>,
    /// Resources.
    #[serde(rename = "Resource", default)]
    pub resource: OneOrMany<String>,
    /// Conditions: operator → key → values.
    #[serde(rename = "Condition", default)]
    pub condition: BTreeMap<String, BTreeMap<String, OneOrMany<Scalar>>>,
}

/// A principal: `"*"` or a map such as `{"AWS": ["arn:…", "*"], "Service": "…"}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// `"*"`: everyone.
    Everyone,
    /// Type → values.
    Map(BTreeMap<String, Vec<String>>),
}

impl<'de> Deserialize<'de> for Principal {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Principal;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("\"*\" or a map of principal types")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Principal, E> {
                Ok(if v.trim() == "*" {
                    Principal::Everyone
                } else {
                    Principal::Map(BTreeMap::from([("AWS".to_string(), vec![v.to_string()])]))
                })
            }
            fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Principal, A::Error> {
                let mut m = BTreeMap::new();
                while let Some((k, v)) = a.next_entry::<String, OneOrMany<String>>()? {
                    m.insert(k, v.0);
                }
                Ok(Principal::Map(m))
            }
        }
        d.deserialize_any(V)
    }
}

impl Principal {
    /// Whether the principal is everyone: `"*"` or `{"AWS": "*"}` / `{"AWS": [.., "*", ..]}`
    /// (also `CanonicalUser: "*"`).
    pub fn is_everyone(&self) -> bool {
        match self {
            Principal::Everyone => true,
            Principal::Map(m) => m.iter().any(|(k, vs)| {
                (k == "AWS" || k == "CanonicalUser") && vs.iter().any(|v| v.trim() == "*")
            }),
        }
    }
}

/// Condition keys that limit who can use a statement.
pub const RESTRICTING_CONDITION_KEYS: &[&str] = &[
    "aws:SourceIp",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceOwner",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:userid",
    "aws:username",
    "aws:VpcSourceIp",
    "s3:DataAccessPointAccount",
    "s3:DataAccessPointArn",
];

/// The kind of public access asked about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Reading objects or listing the bucket.
    Read,
    /// Writing or deleting objects, or changing the bucket's ACL or policy.
    Write,
}

impl Access {
    /// Actions that stand for this access; a statement grants the access when it allows one.
    pub fn actions(self) -> &'static [&'static str] {
        match self {
            Access::Read => &[
                "s3:GetObject",
                "s3:GetObjectVersion",
                "s3:ListBucket",
                "s3:ListBucketVersions",
            ],
            Access::Write => &[
                "s3:PutObject",
                "s3:DeleteObject",
                "s3:DeleteObjectVersion",
                "s3:PutObjectAcl",
                "s3:PutBucketAcl",
                "s3:PutBucketPolicy",
                "s3:DeleteBucket",
                "s3:DeleteBucketPolicy",
            ],
        }
    }

    /// `read` or `write`.
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Read => "read",
            Access::Write => "write",
        }
    }
}

/// IAM-style wildcard match (`*`, `?`), case-insensitive (actions are case-insensitive).
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern
        .trim()
        .chars()
        .flat_map(char::to_lowercase)
        .collect();
    let t: Vec<char> = text.chars().flat_map(char::to_lowercase).collect();
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None::<usize>, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == '*' {
        pi += 1;
    }
    pi == p.len()
}

impl Statement {
    /// Whether the effect is Allow.
    pub fn is_allow(&self) -> bool {
        self.effect.trim().eq_ignore_ascii_case("allow")
    }

    /// Whether the effect is Deny.
    pub fn is_deny(&self) -> bool {
        self.effect.trim().eq_ignore_ascii_case("deny")
    }

    /// Whether the statement applies to `action` (`Action` matches it, or `NotAction` is given
    /// and does not).
    pub fn covers_action(&self, action: &str) -> bool {
        if !self.action.is_empty() {
            self.action.iter().any(|p| wildcard_match(p, action))
        } else if !self.not_action.is_empty() {
            !self.not_action.iter().any(|p| wildcard_match(p, action))
        } else {
            false
        }
    }

    /// Whether the statement's principal is everyone (or it uses `NotPrincipal`).
    pub fn is_for_everyone(&self) -> bool {
        self.not_principal.is_some() || self.principal.as_ref().is_some_and(Principal::is_everyone)
    }

    /// The first condition that restricts who can use the statement, as `operator key`.
    pub fn restricting_condition(&self) -> Option<String> {
        for (op, keys) in &self.condition {
            let base = op.rsplit(':').next().unwrap_or(op);
            if base.contains("Not") || base.ends_with("IfExists") {
                continue;
            }
            for (key, values) in keys {
                let restricting = RESTRICTING_CONDITION_KEYS
                    .iter()
                    .any(|k| k.eq_ignore_ascii_case(key.trim()));
                let wildcard = values
                    .iter()
                    .any(|v| matches!(v.as_str().trim(), "*" | "0.0.0.0/0" | "::/0"));
                if restricting && !wildcard && !values.is_empty() {
                    return Some(format!("{op} {key}"));
                }
            }
        }
        None
    }

    /// If the statement gives everyone `access`, the first action it allows for it.
    pub fn public_action(&self, access: Access) -> Option<&'static str> {
        if !self.is_allow() || !self.is_for_everyone() || self.restricting_condition().is_some() {
            return None;
        }
        access
            .actions()
            .iter()
            .copied()
            .find(|a| self.covers_action(a))
    }

    /// `statement "Sid"` or `statement #n` for annotations (n counts from 1).
    pub fn label(&self, index: usize) -> String {
        match self.sid.as_deref().filter(|s| !s.is_empty()) {
            Some(sid) => format!("statement {sid:?}"),
            None => format!("statement #{}", index + 1),
        }
    }

    /// Whether the statement denies `s3:PutObject` requests that do not ask for server-side
    /// encryption (AES256 / aws:kms / aws:kms:dsse), the pre-2023 way to enforce encryption:
    /// `StringNotEquals s3:x-amz-server-side-encryption [AES256, aws:kms]` or
    /// `Null s3:x-amz-server-side-encryption true`.
    pub fn denies_unencrypted_puts(&self) -> bool {
        if !self.is_deny() || !self.covers_action("s3:PutObject") {
            return false;
        }
        self.condition.iter().any(|(op, keys)| {
            keys.iter().any(|(key, values)| {
                if !key
                    .trim()
                    .eq_ignore_ascii_case("s3:x-amz-server-side-encryption")
                    || values.is_empty()
                {
                    return false;
                }
                let op = op.trim();
                if op.eq_ignore_ascii_case("Null") {
                    values
                        .iter()
                        .all(|v| v.as_str().trim().eq_ignore_ascii_case("true"))
                } else if op.eq_ignore_ascii_case("StringNotEquals")
                    || op.eq_ignore_ascii_case("StringNotEqualsIgnoreCase")
                {
                    values.iter().all(|v| {
                        matches!(
                            v.as_str().trim().to_ascii_lowercase().as_str(),
                            "aes256" | "aws:kms" | "aws:kms:dsse"
                        )
                    })
                } else {
                    false
                }
            })
        })
    }
}

/// A public statement found in a policy.
#[derive(Debug, Clone)]
pub struct PublicStatement<'p> {
    /// The statement.
    pub statement: &'p Statement,
    /// Its index in the policy.
    pub index: usize,
    /// The action it lets everyone perform.
    pub action: &'static str,
}

impl fmt::Display for PublicStatement<'_> {
    /// `statement "Sid" allows s3:GetObject to everyone`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} allows {} to everyone",
            self.statement.label(self.index),
            self.action
        )
    }
}

impl PolicyDocument {
    /// Parses policy text (e.g. `BucketPolicy.policyText`), also when it is JSON inside a string.
    pub fn parse(text: &str) -> Result<PolicyDocument, String> {
        let t = crate::json::decode_embedded(text);
        serde_json::from_str(&t).map_err(|e| format!("not a valid policy document: {e}"))
    }

    /// The first statement that gives everyone `access`.
    pub fn public_statement(&self, access: Access) -> Option<PublicStatement<'_>> {
        self.statement.iter().enumerate().find_map(|(index, s)| {
            s.public_action(access).map(|action| PublicStatement {
                statement: s,
                index,
                action,
            })
        })
    }

    /// Whether a statement denies unencrypted uploads (see [`Statement::denies_unencrypted_puts`]).
    pub fn denies_unencrypted_puts(&self) -> bool {
        self.statement
            .iter()
            .any(Statement::denies_unencrypted_puts)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(s: &str) -> PolicyDocument {
        PolicyDocument::parse(s).unwrap()
    }

    #[test]
    fn wildcards() {
        assert!(wildcard_match("s3:*", "s3:GetObject"));
        assert!(wildcard_match("*", "s3:GetObject"));
        assert!(wildcard_match("s3:Get*", "s3:getobject"));
        assert!(wildcard_match("s3:GetObj?ct", "s3:GetObject"));
        assert!(wildcard_match("S3:GETOBJECT", "s3:GetObject"));
        assert!(!wildcard_match("s3:Put*", "s3:GetObject"));
        assert!(!wildcard_match("s3:GetObject", "s3:GetObjectVersion"));
        assert!(wildcard_match("s3:*Object", "s3:GetObject"));
    }

    #[test]
    fn principals() {
        for p in [
            r#""*""#,
            r#"{"AWS":"*"}"#,
            r#"{"AWS":["arn:aws:iam::1:root","*"]}"#,
            r#"{"CanonicalUser":"*"}"#,
        ] {
            let p: Principal = serde_json::from_str(p).unwrap();
            assert!(p.is_everyone(), "{p:?}");
        }
        for p in [
            r#"{"AWS":"arn:aws:iam::1:root"}"#,
            r#"{"Service":"*"}"#,
            r#""arn:aws:iam::1:root""#,
        ] {
            let p: Principal = serde_json::from_str(p).unwrap();
            assert!(!p.is_everyone(), "{p:?}");
        }
    }

    #[test]
    fn public_read_allow_star() {
        let d = doc(
            r#"{"Statement":[{"Sid":"Pub","Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::b/*"}]}"#,
        );
        let p = d.public_statement(Access::Read).unwrap();
        assert_eq!(
            p.to_string(),
            r#"statement "Pub" allows s3:GetObject to everyone"#
        );
        assert!(d.public_statement(Access::Write).is_none());
    }

    #[test]
    fn deny_star_is_not_public() {
        let d = doc(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        );
        assert!(d.public_statement(Access::Read).is_none());
        assert!(d.public_statement(Access::Write).is_none());
    }

    #[test]
    fn conditions() {
        let restricted = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":{"AWS":["*"]},"Action":["s3:*"],"Condition":{"IpAddress":{"aws:SourceIp":["203.0.113.0/24"]}}}}"#,
        );
        assert!(restricted.public_statement(Access::Read).is_none());
        assert_eq!(
            restricted.statement.0[0].restricting_condition().unwrap(),
            "IpAddress aws:SourceIp"
        );
        let org = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-123"}}}}"#,
        );
        assert!(org.public_statement(Access::Write).is_none());
        let open_ip = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"IpAddress":{"aws:SourceIp":"0.0.0.0/0"}}}}"#,
        );
        assert!(open_ip.public_statement(Access::Read).is_some());
        let negated = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"StringNotEquals":{"aws:SourceVpce":"vpce-1"}}}}"#,
        );
        assert!(negated.public_statement(Access::Read).is_some());
        let if_exists = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"StringEqualsIfExists":{"aws:SourceVpce":"vpce-1"}}}}"#,
        );
        assert!(if_exists.public_statement(Access::Read).is_some());
        let tls_only = doc(
            r#"{"Statement":{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Condition":{"Bool":{"aws:SecureTransport":true}}}}"#,
        );
        assert!(tls_only.public_statement(Access::Read).is_some());
    }

    #[test]
    fn actions_and_not_actions() {
        let d =
            doc(r#"{"Statement":[{"Effect":"Allow","Principal":"*","NotAction":"s3:GetObject"}]}"#);
        assert_eq!(
            d.public_statement(Access::Read).unwrap().action,
            "s3:GetObjectVersion"
        );
        assert_eq!(
            d.public_statement(Access::Write).unwrap().action,
            "s3:PutObject"
        );
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"arn:aws:iam::1:root"},"Action":"s3:Delete*"}]}"#,
        );
        assert_eq!(
            d.public_statement(Access::Write).unwrap().action,
            "s3:DeleteObject"
        );
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetBucketLocation"}]}"#,
        );
        assert!(d.public_statement(Access::Read).is_none());
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::1:root"},"Action":"*"}]}"#,
        );
        assert!(d.public_statement(Access::Read).is_none());
    }

    #[test]
    fn encrypted_put_enforcement() {
        let d = doc(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":["AES256","aws:kms"]}}}]}"#,
        );
        assert!(d.denies_unencrypted_puts());
        let d = doc(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:PutObject","Condition":{"Null":{"s3:x-amz-server-side-encryption":"true"}}}]}"#,
        );
        assert!(d.denies_unencrypted_puts());
        let d = doc(
            r#"{"Statement":[{"Effect":"Deny","Principal":"*","Action":"s3:*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}]}"#,
        );
        assert!(!d.denies_unencrypted_puts());
        let d = doc(
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:PutObject","Condition":{"StringNotEquals":{"s3:x-amz-server-side-encryption":"AES256"}}}]}"#,
        );
        assert!(!d.denies_unencrypted_puts());
    }

    #[test]
    fn embedded_policy_text() {
        let inner = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject"}]}"#;
        let encoded = serde_json::to_string(inner).unwrap();
        assert!(PolicyDocument::parse(&encoded)
            .unwrap()
            .public_statement(Access::Read)
            .is_some());
        assert!(PolicyDocument::parse("{not json")
            .unwrap_err()
            .starts_with("not a valid policy document"));
    }
}
