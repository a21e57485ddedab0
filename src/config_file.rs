//! The server's TOML configuration file: its schema, parsing, and the checks that need more than
//! types (one of two keys, URL schemes, unique names).
//!
//! Every table denies unknown keys, so a misspelt key is an error with its line instead of a
//! setting silently left at its default. Values the server parses with its own code (cron
//! strings, durations, backoff ranges) are kept as strings here so there is one parser for the
//! command line and the file. Defaults the server already has elsewhere stay `None` here, so they
//! are not written down twice.

use std::collections::{BTreeMap, HashSet};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use toml::de::{DeTable, DeValue};
use toml::Spanned;

use crate::model::hash_hex;
pub use crate::model::{ActionKind, Jitter, Role};

pub use crate::model::{ApiEventPattern, ErrorMatch, NotificationKind};

/// Why a configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    /// The file could not be read.
    #[error("cannot read configuration file {}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// What the system said.
        source: std::io::Error,
    },
    /// The file is not TOML, or does not fit the schema (unknown key, wrong type, missing key).
    #[error("{}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Line, column, dotted key when known, and what is wrong.
        message: String,
    },
    /// The file fits the schema but a value is not acceptable.
    #[error("{}: {key}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Dotted path of the offending key, e.g. `subscriptions[1].url`.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The whole configuration file, after checks; absent keys are `None` or empty.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ConfigFile {
    /// Address the HTTP API listens on.
    pub listen: Option<SocketAddr>,
    /// Data directory, already resolved against the file's directory.
    pub data_dir: Option<PathBuf>,
    /// Extra event-resource table, already resolved against the file's directory.
    pub event_map: Option<PathBuf>,
    /// Log output format.
    pub log_format: Option<LogFormatName>,
    /// Bearer tokens accepted by the API.
    pub tokens: Vec<TokenEntry>,
    /// Retention of API events.
    pub retention: Retention,
    /// Remediation worker settings.
    pub worker: WorkerSettings,
    /// Per-rule settings, keyed by rule name.
    pub rules: BTreeMap<String, RuleSettings>,
    /// Per-rule remediation, keyed by rule name.
    pub remediation: BTreeMap<String, RemediationSettings>,
    /// Webhook subscriptions, in file order.
    pub subscriptions: Vec<SubscriptionSettings>,
}

/// The file as deserialised; `listen` stays text so a bad address is reported with its key.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfigFile {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    event_map: Option<PathBuf>,
    log_format: Option<LogFormatName>,
    #[serde(default)]
    tokens: Vec<TokenEntry>,
    #[serde(default)]
    retention: Retention,
    #[serde(default)]
    worker: WorkerSettings,
    #[serde(default)]
    rules: BTreeMap<String, RuleSettings>,
    #[serde(default)]
    remediation: BTreeMap<String, RemediationSettings>,
    #[serde(default)]
    subscriptions: Vec<SubscriptionSettings>,
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormatName {
    /// Plain text for a terminal.
    Human,
    /// One JSON object per line.
    Json,
}

/// One bearer token: its role and where its secret's hash comes from.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenEntry {
    /// Label shown in logs instead of the token.
    pub name: Option<String>,
    /// What the token may do.
    pub role: Role,
    /// Hex SHA-256 of the secret (so the file never holds the secret itself).
    pub sha256: Option<String>,
    /// Environment variable holding the secret, read at start.
    pub secret_env: Option<String>,
    /// Where the entry came from, so `secret_sha256` can name `tokens[i]` in its error.
    #[serde(skip)]
    place: TokenPlace,
}

/// The file and index of a token entry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct TokenPlace {
    path: PathBuf,
    index: usize,
}

impl TokenEntry {
    /// Lowercase hex SHA-256 of the secret: `sha256` as given, or the hash of `secret_env`'s value.
    pub fn secret_sha256(&self) -> Result<String, ConfigFileError> {
        if let Some(hash) = &self.sha256 {
            return Ok(hash.to_ascii_lowercase());
        }
        let key = format!("tokens[{}].secret_env", self.place.index);
        let invalid = |message: String| ConfigFileError::Invalid {
            path: self.place.path.clone(),
            key: key.clone(),
            message,
        };
        let Some(var) = &self.secret_env else {
            return Err(invalid("neither sha256 nor secret_env is set".into()));
        };
        // The value is never put in a message: it is the secret.
        let secret = match std::env::var(var) {
            Ok(secret) => secret,
            Err(std::env::VarError::NotPresent) => {
                return Err(invalid(format!("environment variable {var} is not set")))
            }
            Err(std::env::VarError::NotUnicode(_)) => {
                return Err(invalid(format!(
                    "environment variable {var} is not valid UTF-8"
                )))
            }
        };
        if secret.is_empty() {
            return Err(invalid(format!("environment variable {var} is empty")));
        }
        // A bearer token cannot hold whitespace, so a trailing newline from `$(cat file)` or an
        // editor would make a token no client can ever present: refuse rather than trim silently.
        if secret.trim() != secret {
            return Err(invalid(format!(
                "environment variable {var} starts or ends with whitespace"
            )));
        }
        Ok(hash_hex(&Sha256::digest(secret.as_bytes())))
    }
}

/// Retention of API events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Retention {
    /// Days API events are kept; 0 keeps everything.
    pub event_days: Option<u32>,
    /// Cron string for the purge, or "off" (checked by the caller).
    pub purge_schedule: Option<String>,
}

/// Remediation worker settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Whether the server runs remediation jobs.
    pub enabled: Option<bool>,
    /// Actions running at once across all rules.
    pub max_concurrent_actions: Option<usize>,
}

/// Settings of one rule (managed or added).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSettings {
    /// Whether the rule is evaluated.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// Rule parameters; TOML datetimes become strings, as rule parameters are text in AWS Config.
    #[serde(
        skip_serializing_if = "Option::is_none",
        default,
        deserialize_with = "json_parameters"
    )]
    pub parameters: Option<Map<String, Value>>,
    /// Cron string for periodic evaluation (checked by the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schedule: Option<String>,
    /// Per-evaluation deadline in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_limit_mib: Option<u64>,
    /// Resource types it judges (default: the rule's own list).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<String>>,
    /// Only resources with this tag: `KEY` or `KEY=VALUE`; empty clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Only this resource id; empty clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// When it runs (default: the rule's own triggers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<crate::model::Trigger>>,
}

/// Remediation of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct RemediationSettings {
    /// Webhook or command.
    pub action: ActionKind,
    /// Webhook URL (webhook only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// Extra webhook request headers (webhook only).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Program and arguments (command only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Exit codes meaning "retrying will not help" (command only).
    #[serde(default)]
    pub no_retry_exit_codes: Vec<i32>,
    /// Parameter name to source (`RESOURCE_ID`, `$.path`, a fixed value), parsed by the caller.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Whether non-compliant verdicts queue a job without an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic: Option<bool>,
    /// Attempts per job, at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_attempts: Option<u32>,
    /// Retry delay range such as "2s..5m" (parsed by the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff: Option<String>,
    /// Retry delay randomisation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter: Option<Jitter>,
    /// Per-attempt timeout such as "30s" (parsed by the caller).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout: Option<String>,
    /// Jobs of this rule running at once, at least 1.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
}

/// The kinds a subscription gets when `kinds` is left out.
fn default_kinds() -> Vec<NotificationKind> {
    vec![
        NotificationKind::Configuration,
        NotificationKind::Compliance,
        NotificationKind::Remediation,
    ]
}

/// One webhook subscription.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionSettings {
    /// Unique name.
    pub name: String,
    /// Target URL (http:// or https://).
    pub url: String,
    /// Extra request headers.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// What is sent; configuration, compliance and remediation when left out.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<NotificationKind>,
    /// Only these resource types (configuration, compliance, remediation); `None` = all.
    pub resource_types: Option<Vec<String>>,
    /// Only these rules (compliance, remediation); `None` = all.
    pub rules: Option<Vec<String>>,
    /// Only these new compliance types; `None` = all.
    pub compliance: Option<Vec<String>>,
    /// Delivery attempts, at least 1.
    pub max_attempts: Option<u32>,
    /// Retry delay range such as "1s..10m" (parsed by the caller).
    pub backoff: Option<String>,
    /// Which CloudTrail calls are sent; required when `kinds` has "api-event".
    pub api_events: Option<ApiEventPattern>,
}

/// Compliance types a subscription can filter on.
const COMPLIANCE_TYPES: [&str; 4] = [
    "COMPLIANT",
    "NON_COMPLIANT",
    "NOT_APPLICABLE",
    "INSUFFICIENT_DATA",
];

/// Reads and checks the configuration file at `path`.
pub fn load(path: &Path) -> Result<ConfigFile, ConfigFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse(&text, path)
}

/// Parses and checks text read from `origin`; relative paths resolve against its directory.
pub fn parse(text: &str, origin: &Path) -> Result<ConfigFile, ConfigFileError> {
    let raw: RawConfigFile = toml::from_str(text).map_err(|err| ConfigFileError::Syntax {
        path: origin.to_path_buf(),
        message: syntax_message(text, &err),
    })?;
    let invalid = |key: String, message: String| ConfigFileError::Invalid {
        path: origin.to_path_buf(),
        key,
        message,
    };

    let listen = match &raw.listen {
        Some(text) => Some(text.parse::<SocketAddr>().map_err(|_| {
            invalid(
                "listen".into(),
                format!("{text:?} is not an address and port such as \"127.0.0.1:8080\""),
            )
        })?),
        None => None,
    };
    // Relative to the file rather than the working directory, so the server behaves the same
    // whichever directory it is started from.
    let base = origin.parent().unwrap_or(Path::new(""));
    let resolve = |key: &str, value: Option<PathBuf>| match value {
        Some(p) if p.as_os_str().is_empty() => Err(invalid(key.into(), "is empty".into())),
        Some(p) => Ok(Some(base.join(p))),
        None => Ok(None),
    };
    let data_dir = resolve("data_dir", raw.data_dir)?;
    let event_map = resolve("event_map", raw.event_map)?;

    let mut tokens = raw.tokens;
    check_tokens(&tokens).map_err(|(key, message)| invalid(key, message))?;
    for (index, token) in tokens.iter_mut().enumerate() {
        token.place = TokenPlace {
            path: origin.to_path_buf(),
            index,
        };
    }
    if raw.worker.max_concurrent_actions == Some(0) {
        return Err(invalid(
            "worker.max_concurrent_actions".into(),
            "must be at least 1".into(),
        ));
    }
    for (rule, settings) in &raw.remediation {
        check_remediation(&format!("remediation.{}", key_segment(rule)), settings)
            .map_err(|(key, message)| invalid(key, message))?;
    }
    check_subscriptions(&raw.subscriptions).map_err(|(key, message)| invalid(key, message))?;

    Ok(ConfigFile {
        listen,
        data_dir,
        event_map,
        log_format: raw.log_format,
        tokens,
        retention: raw.retention,
        worker: raw.worker,
        rules: raw.rules,
        remediation: raw.remediation,
        subscriptions: raw.subscriptions,
    })
}

/// A failed check: dotted key and message.
type Problem = (String, String);

/// Each token has one source of its hash, a well-formed hash, and a unique hash and name.
fn check_tokens(tokens: &[TokenEntry]) -> Result<(), Problem> {
    let mut hashes = HashSet::new();
    let mut names = HashSet::new();
    for (i, token) in tokens.iter().enumerate() {
        let at = format!("tokens[{i}]");
        match (&token.sha256, &token.secret_env) {
            (Some(_), Some(_)) => {
                return Err((at, "set only one of sha256 and secret_env".into()));
            }
            (None, None) => {
                return Err((at, "set one of sha256 and secret_env".into()));
            }
            (Some(hash), None) => {
                if hex::decode_to_slice(hash, &mut [0u8; 32]).is_err() {
                    return Err((
                        format!("{at}.sha256"),
                        "must be 64 hex digits (the SHA-256 of the secret)".into(),
                    ));
                }
                // One secret with two roles would make the role depend on entry order.
                if !hashes.insert(hash.to_ascii_lowercase()) {
                    return Err((
                        format!("{at}.sha256"),
                        "the same hash is given for an earlier token".into(),
                    ));
                }
            }
            (None, Some(var)) => {
                if var.trim().is_empty() || var.contains('=') || var.contains('\0') {
                    return Err((
                        format!("{at}.secret_env"),
                        "is not an environment variable name".into(),
                    ));
                }
            }
        }
        if let Some(name) = &token.name {
            if name.trim().is_empty() {
                return Err((format!("{at}.name"), "is empty".into()));
            }
            // The name stands for the token in logs, so two tokens must not share one.
            if !names.insert(name.as_str()) {
                return Err((
                    format!("{at}.name"),
                    format!("{name:?} is used by an earlier token"),
                ));
            }
        }
    }
    Ok(())
}

/// Keys fit the action kind; counts are at least 1. The one check of a rule's remediation,
/// whether it comes from this file, an API request body or the CLI's flags.
pub(crate) fn check_remediation(at: &str, settings: &RemediationSettings) -> Result<(), Problem> {
    let key = |name: &str| format!("{at}.{name}");
    match settings.action {
        ActionKind::Webhook => {
            let Some(url) = &settings.url else {
                return Err((key("url"), "is required for a webhook action".into()));
            };
            check_url(url).map_err(|m| (key("url"), m))?;
            check_headers(&settings.headers).map_err(|m| (key("headers"), m))?;
            if settings.command.is_some() {
                return Err((key("command"), "is for command actions only".into()));
            }
            if !settings.no_retry_exit_codes.is_empty() {
                return Err((
                    key("no_retry_exit_codes"),
                    "is for command actions only".into(),
                ));
            }
        }
        ActionKind::Command => {
            match &settings.command {
                None => {
                    return Err((key("command"), "is required for a command action".into()));
                }
                Some(command) => match command.first() {
                    None => return Err((key("command"), "is empty".into())),
                    Some(program) if program.trim().is_empty() => {
                        return Err((key("command"), "the program name is empty".into()));
                    }
                    Some(_) => {}
                },
            }
            if settings.url.is_some() {
                return Err((key("url"), "is for webhook actions only".into()));
            }
            if !settings.headers.is_empty() {
                return Err((key("headers"), "is for webhook actions only".into()));
            }
        }
    }
    if settings.max_attempts == Some(0) {
        return Err((key("max_attempts"), "must be at least 1".into()));
    }
    if settings.concurrency == Some(0) {
        return Err((key("concurrency"), "must be at least 1".into()));
    }
    Ok(())
}

/// Names unique in the file, and each subscription checked.
fn check_subscriptions(subscriptions: &[SubscriptionSettings]) -> Result<(), Problem> {
    let mut names = HashSet::new();
    for (i, sub) in subscriptions.iter().enumerate() {
        let at = format!("subscriptions[{i}]");
        check_subscription(&at, sub)?;
        if !names.insert(sub.name.as_str()) {
            return Err((
                format!("{at}.name"),
                format!("{:?} is used by an earlier subscription", sub.name),
            ));
        }
    }
    Ok(())
}

/// URL http(s), filters non-empty and known, API event patterns present where needed. The
/// one check of a subscription, whether it comes from this file or an API request body.
pub(crate) fn check_subscription(at: &str, sub: &SubscriptionSettings) -> Result<(), Problem> {
    let key = |name: &str| format!("{at}.{name}");
    if sub.name.trim().is_empty() {
        return Err((key("name"), "is empty".into()));
    }
    check_url(&sub.url).map_err(|m| (key("url"), m))?;
    check_headers(&sub.headers).map_err(|m| (key("headers"), m))?;
    if sub.kinds.is_empty() {
        return Err((key("kinds"), "is empty, so nothing would be sent".into()));
    }
    // An empty filter list would match nothing; leaving the key out is how to match all.
    for (name, list) in [
        ("resource_types", &sub.resource_types),
        ("rules", &sub.rules),
        ("compliance", &sub.compliance),
    ] {
        if list.as_ref().is_some_and(Vec::is_empty) {
            return Err((
                key(name),
                "is empty, so nothing would match; leave it out to match all".into(),
            ));
        }
    }
    if let Some(bad) = sub
        .compliance
        .iter()
        .flatten()
        .find(|c| !COMPLIANCE_TYPES.contains(&c.as_str()))
    {
        return Err((
            key("compliance"),
            format!("{bad:?} is not one of {}", COMPLIANCE_TYPES.join(", ")),
        ));
    }
    if sub.max_attempts == Some(0) {
        return Err((key("max_attempts"), "must be at least 1".into()));
    }
    let wants_api_events = sub.kinds.contains(&NotificationKind::ApiEvent);
    match &sub.api_events {
        None if wants_api_events => {
            return Err((
                key("api_events"),
                "is required when kinds has \"api-event\"".into(),
            ));
        }
        // Otherwise the pattern would be ignored, which is never what its author meant.
        Some(_) if !wants_api_events => {
            return Err((
                key("kinds"),
                "does not have \"api-event\", so api_events would be ignored".into(),
            ));
        }
        // An empty pattern would send every CloudTrail call, which is more likely a mistake
        // than a wish.
        Some(pattern) if pattern.is_empty() => {
            return Err((
                key("api_events"),
                "needs at least one of event_sources, event_names, users".into(),
            ));
        }
        _ => {}
    }
    Ok(())
}

/// An http:// or https:// URL with something after the scheme.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"));
    match rest {
        Some(rest) if !rest.is_empty() && !rest.starts_with('/') => Ok(()),
        Some(_) => Err(format!("{url:?} has no host")),
        None => Err(format!("{url:?} does not start with http:// or https://")),
    }
}

/// Header names are HTTP tokens and values hold no line breaks, so a header cannot smuggle
/// another one; caught here rather than at the first delivery.
fn check_headers(headers: &BTreeMap<String, String>) -> Result<(), String> {
    for (name, value) in headers {
        let token_char = |c: char| c.is_ascii_alphanumeric() || "!#$%&'*+-.^_`|~".contains(c);
        if name.is_empty() || !name.chars().all(token_char) {
            return Err(format!("{name:?} is not a header name"));
        }
        if value.contains(['\r', '\n', '\0']) {
            return Err(format!("the value of {name:?} contains a line break"));
        }
    }
    Ok(())
}

/// Rule parameters as JSON, which is how rules receive them.
fn json_parameters<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Map<String, Value>>, D::Error> {
    let table = toml::Table::deserialize(deserializer)?;
    table_to_json(table).map(Some).map_err(D::Error::custom)
}

/// A TOML table as a JSON object.
fn table_to_json(table: toml::Table) -> Result<Map<String, Value>, String> {
    table
        .into_iter()
        .map(|(k, v)| Ok((k, toml_to_json(v)?)))
        .collect()
}

/// A TOML value as JSON; fails only for NaN and infinities, which JSON cannot hold.
fn toml_to_json(value: toml::Value) -> Result<Value, String> {
    Ok(match value {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| format!("{f} cannot be a rule parameter (no JSON form)"))?,
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(toml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        toml::Value::Table(t) => Value::Object(table_to_json(t)?),
    })
}

/// One line: "line L, column C, key `a.b[0].c`: <toml's message>".
///
/// toml's own Display is a multi-line snippet that names the line but not the key path (for
/// `listen = 8080` it says only "invalid type: integer `8080`, expected a string"), so the key is
/// found here from the error's span.
fn syntax_message(text: &str, err: &toml::de::Error) -> String {
    let Some(start) = err.span().map(|s| s.start) else {
        // No position: toml's Display then names the keys itself ("in `a.b`").
        return err
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
    };
    let before = text.get(..start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let message = err.message().trim();
    match key_at(text, start) {
        Some(key) => format!("line {line}, column {column}, key `{key}`: {message}"),
        None => format!("line {line}, column {column}: {message}"),
    }
}

/// Dotted path of the innermost key or value at byte `pos`, when the text is valid TOML.
fn key_at(text: &str, pos: usize) -> Option<String> {
    let document = DeTable::parse(text).ok()?;
    find_in_table(document.get_ref(), pos, "")
}

/// Searches a table's entries; a table made by a `[header]` may not span its keys, so every
/// entry is searched rather than only those whose span holds `pos`.
fn find_in_table(table: &DeTable<'_>, pos: usize, prefix: &str) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let segment = key_segment(key.get_ref());
        let path = if prefix.is_empty() {
            segment
        } else {
            format!("{prefix}.{segment}")
        };
        if key.span().contains(&pos) {
            return Some(path);
        }
        find_in_value(value, pos, path)
    })
}

/// The deepest path inside `value` at `pos`, else `path` itself when `value` spans `pos`.
fn find_in_value(value: &Spanned<DeValue<'_>>, pos: usize, path: String) -> Option<String> {
    let deeper = match value.get_ref() {
        DeValue::Table(table) => find_in_table(table, pos, &path),
        DeValue::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_in_value(item, pos, format!("{path}[{i}]"))),
        _ => None,
    };
    deeper.or_else(|| value.span().contains(&pos).then_some(path))
}

/// A key as written in TOML: bare when it can be, quoted otherwise.
fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = include_str!("../examples/conftrail.toml");

    fn origin() -> PathBuf {
        PathBuf::from("/etc/conftrail/conftrail.toml")
    }

    /// The Display of the error for `text`, which must fail.
    fn error(text: &str) -> ConfigFileError {
        match parse(text, &origin()) {
            Ok(config) => panic!("parsed but should not have: {config:?}"),
            Err(err) => err,
        }
    }

    /// The dotted key of an `Invalid` error for `text`.
    fn invalid_key(text: &str) -> String {
        match error(text) {
            ConfigFileError::Invalid { key, .. } => key,
            other => panic!("expected Invalid, got {other}"),
        }
    }

    /// The message of a `Syntax` error for `text`.
    fn syntax(text: &str) -> String {
        match error(text) {
            err @ ConfigFileError::Syntax { .. } => err.to_string(),
            other => panic!("expected Syntax, got {other}"),
        }
    }

    const HASH: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

    #[test]
    fn example_parses() {
        let config = parse(EXAMPLE, &origin()).unwrap();
        assert_eq!(config.listen, Some("127.0.0.1:8080".parse().unwrap()));
        // Commented out in the example, so that it runs as it is.
        assert_eq!(config.data_dir, None);
        assert_eq!(config.event_map, None);
        assert_eq!(config.log_format, Some(LogFormatName::Human));
        assert_eq!(config.tokens.len(), 3);
        assert_eq!(config.tokens[0].role, Role::Ingest);
        assert_eq!(config.retention.event_days, Some(90));
        assert_eq!(config.worker.max_concurrent_actions, Some(8));
        let rule = &config.rules["vpc-sg-open-only-to-authorized-ports"];
        assert_eq!(
            rule.parameters.as_ref().unwrap()["authorizedTcpPorts"],
            Value::String("443".into())
        );
        let fix = &config.remediation["restricted-ssh"];
        assert_eq!(fix.action, ActionKind::Webhook);
        assert_eq!(fix.jitter, Some(Jitter::Full));
        assert_eq!(fix.parameters["GroupId"], "RESOURCE_ID");
        assert_eq!(
            config.remediation["s3-bucket-level-public-access-prohibited"]
                .command
                .as_deref(),
            Some(&["/usr/local/bin/fix-bucket".to_string(), "--dry-run".into()][..])
        );
        assert_eq!(config.subscriptions.len(), 2);
        let api = config.subscriptions[0].api_events.as_ref().unwrap();
        assert_eq!(api.errors, ErrorMatch::Any);
        assert_eq!(api.event_names, ["DeleteBucket", "PutBucketPolicy"]);
        assert_eq!(config.subscriptions[1].kinds, default_kinds());
    }

    #[test]
    fn empty_file_gives_defaults() {
        assert_eq!(parse("", &origin()).unwrap(), ConfigFile::default());
        assert_eq!(
            parse("# nothing\n\n", &origin()).unwrap(),
            ConfigFile::default()
        );
    }

    #[test]
    fn unknown_top_level_key_names_key_and_line() {
        let msg = syntax("listen = \"127.0.0.1:1\"\ndata_dir = \"d\"\nlistn = \"x\"\n");
        assert!(msg.contains("unknown field `listn`"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("key `listn`"), "{msg}");
    }

    #[test]
    fn unknown_key_in_rule_names_key_and_line() {
        let msg = syntax("[rules.restricted-ssh]\nenabled = true\nenabld = false\n");
        assert!(msg.contains("unknown field `enabld`"), "{msg}");
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("rules.restricted-ssh.enabld"), "{msg}");
    }

    #[test]
    fn unknown_key_in_subscription_names_key_and_line() {
        let text = "[[subscriptions]]\nname = \"a\"\nurl = \"http://x\"\n\n\
                    [[subscriptions]]\nname = \"b\"\nurl = \"http://y\"\nretries = 3\n";
        let msg = syntax(text);
        assert!(msg.contains("unknown field `retries`"), "{msg}");
        assert!(msg.contains("line 8"), "{msg}");
        assert!(msg.contains("subscriptions[1].retries"), "{msg}");
    }

    #[test]
    fn unknown_key_in_api_events_names_key_and_line() {
        let text = "[[subscriptions]]\nname = \"a\"\nurl = \"http://x\"\nkinds = [\"api-event\"]\n\
                    [subscriptions.api_events]\nevent_names = [\"DeleteBucket\"]\nuser = [\"bob\"]\n";
        let msg = syntax(text);
        assert!(msg.contains("unknown field `user`"), "{msg}");
        assert!(msg.contains("line 7"), "{msg}");
        assert!(msg.contains("subscriptions[0].api_events.user"), "{msg}");
    }

    #[test]
    fn wrong_type_names_key() {
        let msg = syntax("# comment\nlisten = 8080\n");
        assert!(msg.contains("key `listen`"), "{msg}");
        assert!(msg.contains("line 2"), "{msg}");
        // Inside a multi-line array the line alone would not show the key.
        let msg =
            syntax("[remediation.r]\naction = \"command\"\ncommand = [\n  \"/bin/x\",\n  3,\n]\n");
        assert!(msg.contains("remediation.r.command[1]"), "{msg}");
        assert!(msg.contains("line 5"), "{msg}");
        let msg = syntax("[remediation.r]\naction = \"mail\"\n");
        assert!(msg.contains("remediation.r.action"), "{msg}");
    }

    #[test]
    fn bad_toml_gives_line() {
        let msg = syntax("listen = \"127.0.0.1:1\"\nworker = [\n");
        assert!(msg.contains("line 2") || msg.contains("line 3"), "{msg}");
    }

    #[test]
    fn listen_must_be_socket_addr() {
        assert_eq!(invalid_key("listen = \"localhost\"\n"), "listen");
        let config = parse("listen = \"[::1]:9000\"\n", &origin()).unwrap();
        assert_eq!(config.listen, Some("[::1]:9000".parse().unwrap()));
    }

    #[test]
    fn token_checks() {
        let both = format!(
            "[[tokens]]\nrole = \"read\"\nsha256 = \"{HASH}\"\n\n\
             [[tokens]]\nrole = \"admin\"\nsha256 = \"{HASH}\"\nsecret_env = \"X\"\n"
        );
        assert_eq!(invalid_key(&both), "tokens[1]");
        assert_eq!(invalid_key("[[tokens]]\nrole = \"read\"\n"), "tokens[0]");
        assert_eq!(
            invalid_key("[[tokens]]\nrole = \"read\"\nsha256 = \"9f86d08\"\n"),
            "tokens[0].sha256"
        );
        let not_hex = format!(
            "[[tokens]]\nrole = \"read\"\nsha256 = \"{}\"\n",
            "g".repeat(64)
        );
        assert_eq!(invalid_key(&not_hex), "tokens[0].sha256");
        let twice = format!(
            "[[tokens]]\nrole = \"read\"\nsha256 = \"{HASH}\"\n\
             [[tokens]]\nrole = \"admin\"\nsha256 = \"{}\"\n",
            HASH.to_uppercase()
        );
        assert_eq!(invalid_key(&twice), "tokens[1].sha256");
        assert!(
            syntax("[[tokens]]\nrole = \"root\"\nsecret_env = \"X\"\n").contains("tokens[0].role")
        );
    }

    #[test]
    fn sha256_is_lowercased() {
        let text = format!(
            "[[tokens]]\nrole = \"read\"\nsha256 = \"{}\"\n",
            HASH.to_uppercase()
        );
        let config = parse(&text, &origin()).unwrap();
        assert_eq!(config.tokens[0].secret_sha256().unwrap(), HASH);
    }

    #[test]
    fn secret_env_is_hashed() {
        let var = format!("CONFTRAIL_CONFIG_FILE_TEST_{}", std::process::id());
        let text = format!(
            "[[tokens]]\nrole = \"read\"\nsha256 = \"{HASH}\"\n\
             [[tokens]]\nname = \"ci\"\nrole = \"ingest\"\nsecret_env = \"{var}\"\n"
        );
        let config = parse(&text, &origin()).unwrap();
        let token = &config.tokens[1];
        match token.secret_sha256() {
            Err(ConfigFileError::Invalid { key, message, .. }) => {
                assert_eq!(key, "tokens[1].secret_env");
                assert!(message.contains("not set"), "{message}");
            }
            other => panic!("expected an error for an unset variable, got {other:?}"),
        }
        // The variable name is unique to this test and process, so no other test reads it.
        std::env::set_var(&var, "");
        assert!(matches!(
            token.secret_sha256(),
            Err(ConfigFileError::Invalid { key, .. }) if key == "tokens[1].secret_env"
        ));
        std::env::set_var(&var, "test");
        assert_eq!(token.secret_sha256().unwrap(), HASH);
        std::env::remove_var(&var);
    }

    #[test]
    fn worker_needs_one_action() {
        assert_eq!(
            invalid_key("[worker]\nmax_concurrent_actions = 0\n"),
            "worker.max_concurrent_actions"
        );
    }

    #[test]
    fn remediation_checks() {
        let webhook = "[remediation.restricted-ssh]\naction = \"webhook\"\n";
        assert_eq!(invalid_key(webhook), "remediation.restricted-ssh.url");
        assert_eq!(
            invalid_key(&format!("{webhook}url = \"ftp://x\"\n")),
            "remediation.restricted-ssh.url"
        );
        assert_eq!(
            invalid_key(&format!(
                "{webhook}url = \"http://x\"\ncommand = [\"/bin/x\"]\n"
            )),
            "remediation.restricted-ssh.command"
        );
        assert_eq!(
            invalid_key(&format!(
                "{webhook}url = \"http://x\"\nno_retry_exit_codes = [3]\n"
            )),
            "remediation.restricted-ssh.no_retry_exit_codes"
        );
        assert_eq!(
            invalid_key(&format!(
                "{webhook}url = \"http://x\"\nheaders = {{ \"Bad Name\" = \"v\" }}\n"
            )),
            "remediation.restricted-ssh.headers"
        );
        let command = "[remediation.\"a.b\"]\naction = \"command\"\n";
        assert_eq!(invalid_key(command), "remediation.\"a.b\".command");
        assert_eq!(
            invalid_key(&format!("{command}command = []\n")),
            "remediation.\"a.b\".command"
        );
        assert_eq!(
            invalid_key(&format!(
                "{command}command = [\"/bin/x\"]\nurl = \"http://x\"\n"
            )),
            "remediation.\"a.b\".url"
        );
        assert_eq!(
            invalid_key(&format!(
                "{command}command = [\"/bin/x\"]\nheaders = {{ A = \"b\" }}\n"
            )),
            "remediation.\"a.b\".headers"
        );
        assert_eq!(
            invalid_key(&format!(
                "{command}command = [\"/bin/x\"]\nmax_attempts = 0\n"
            )),
            "remediation.\"a.b\".max_attempts"
        );
        assert_eq!(
            invalid_key(&format!(
                "{command}command = [\"/bin/x\"]\nconcurrency = 0\n"
            )),
            "remediation.\"a.b\".concurrency"
        );
    }

    #[test]
    fn subscription_checks() {
        let first = "[[subscriptions]]\nname = \"a\"\nurl = \"https://x\"\n";
        let second = |extra: &str| format!("{first}[[subscriptions]]\n{extra}\n");
        assert_eq!(
            invalid_key(&second("name = \"a\"\nurl = \"https://y\"")),
            "subscriptions[1].name"
        );
        assert_eq!(
            invalid_key(&second("name = \" \"\nurl = \"https://y\"")),
            "subscriptions[1].name"
        );
        assert_eq!(
            invalid_key(&second("name = \"b\"\nurl = \"hooks.example.com\"")),
            "subscriptions[1].url"
        );
        assert_eq!(
            invalid_key(&second("name = \"b\"\nurl = \"https://\"")),
            "subscriptions[1].url"
        );
        assert_eq!(
            invalid_key(&second(
                "name = \"b\"\nurl = \"https://y\"\nkinds = [\"api-event\"]"
            )),
            "subscriptions[1].api_events"
        );
        assert_eq!(
            invalid_key(&second(
                "name = \"b\"\nurl = \"https://y\"\nkinds = [\"api-event\"]\n\
                 [subscriptions.api_events]\nerrors = \"only\""
            )),
            "subscriptions[1].api_events"
        );
        assert_eq!(
            invalid_key(&second(
                "name = \"b\"\nurl = \"https://y\"\n[subscriptions.api_events]\nusers = [\"bob\"]"
            )),
            "subscriptions[1].kinds"
        );
        assert_eq!(
            invalid_key(&second(
                "name = \"b\"\nurl = \"https://y\"\nmax_attempts = 0"
            )),
            "subscriptions[1].max_attempts"
        );
        assert_eq!(
            invalid_key(&second("name = \"b\"\nurl = \"https://y\"\nkinds = []")),
            "subscriptions[1].kinds"
        );
        assert_eq!(
            invalid_key(&second("name = \"b\"\nurl = \"https://y\"\nrules = []")),
            "subscriptions[1].rules"
        );
        assert_eq!(
            invalid_key(&second(
                "name = \"b\"\nurl = \"https://y\"\ncompliance = [\"BAD\"]"
            )),
            "subscriptions[1].compliance"
        );
        assert_eq!(
            invalid_key(&second(
                "name = \"b\"\nurl = \"https://y\"\nheaders = { X = \"a\\nB: c\" }"
            )),
            "subscriptions[1].headers"
        );
        let msg = syntax(&second("url = \"https://y\""));
        assert!(msg.contains("missing field `name`"), "{msg}");
    }

    #[test]
    fn api_event_pattern_parses() {
        let text = "[[subscriptions]]\nname = \"a\"\nurl = \"https://x\"\n\
                    kinds = [\"api-event\", \"compliance\"]\n\
                    [subscriptions.api_events]\nusers = [\"bob\"]\nerrors = \"none\"\n";
        let config = parse(text, &origin()).unwrap();
        let sub = &config.subscriptions[0];
        assert_eq!(
            sub.kinds,
            [NotificationKind::ApiEvent, NotificationKind::Compliance]
        );
        let api = sub.api_events.as_ref().unwrap();
        assert_eq!(api.errors, ErrorMatch::None);
        assert!(api.event_sources.is_empty());
    }

    #[test]
    fn relative_paths_resolve_against_the_file() {
        let text = "data_dir = \"data\"\nevent_map = \"maps/extra.json\"\n";
        let config = parse(text, Path::new("/srv/ct/conftrail.toml")).unwrap();
        assert_eq!(config.data_dir, Some(PathBuf::from("/srv/ct/data")));
        assert_eq!(
            config.event_map,
            Some(PathBuf::from("/srv/ct/maps/extra.json"))
        );
        let config = parse("data_dir = \"/abs\"\n", Path::new("/srv/ct/c.toml")).unwrap();
        assert_eq!(config.data_dir, Some(PathBuf::from("/abs")));
        // A bare file name has an empty parent: the path stays relative to the working directory,
        // which is the file's directory.
        let config = parse(text, Path::new("conftrail.toml")).unwrap();
        assert_eq!(config.data_dir, Some(PathBuf::from("data")));
        assert_eq!(invalid_key("data_dir = \"\"\n"), "data_dir");
    }

    #[test]
    fn rule_parameters_become_json() {
        let text = "[rules.r]\nparameters = { port = 22, ratio = 0.5, on = 1979-05-27, tags = [\"a\"], nested = { x = true } }\n";
        let config = parse(text, &origin()).unwrap();
        let params = config.rules["r"].parameters.clone().unwrap();
        assert_eq!(
            Value::Object(params),
            serde_json::json!({"port": 22, "ratio": 0.5, "on": "1979-05-27", "tags": ["a"], "nested": {"x": true}})
        );
        let msg = syntax("[rules.r]\nparameters = { x = nan }\n");
        assert!(msg.contains("rules.r.parameters"), "{msg}");
    }

    #[test]
    fn load_reports_read_errors_and_reads_files() {
        let dir = std::env::temp_dir().join(format!("conftrail-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.toml");
        let err = load(&missing).unwrap_err();
        assert!(matches!(err, ConfigFileError::Read { .. }), "{err}");
        assert!(err.to_string().contains("missing.toml"), "{err}");
        let file = dir.join("conftrail.toml");
        std::fs::write(&file, "data_dir = \"state\"\n").unwrap();
        let config = load(&file).unwrap();
        assert_eq!(config.data_dir, Some(dir.join("state")));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
