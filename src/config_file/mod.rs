//! The server's TOML configuration file: its schema, parsing, and the checks that need more than
//! types (one of two keys, URL schemes, unique names).
//!
//! Every table denies unknown keys, so a misspelt key is an error with its line instead of a
//! setting silently left at its default. Values the server parses with its own code (cron
//! strings, durations, backoff ranges) are kept as strings here so there is one parser for the
//! command line and the file. Defaults the server already has elsewhere stay `None` here, so they
//! are not written down twice.

mod checks;
mod toml_errors;

use checks::{check_collector, check_subscriptions, check_tokens};
pub(crate) use checks::{check_remediation, check_subscription};
pub use checks::{parse_sweep_interval, parse_trail_poll, MIN_SWEEP_INTERVAL};
use toml_errors::key_segment;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::model::{hash_hex, MIN_SECRET_CHARS};
pub use crate::model::{ActionKind, AwsOperation, Jitter, Role};

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
    /// What the HTTP API allows beyond the roles.
    pub api: ApiSettings,
    /// Per-rule settings, keyed by rule name.
    pub rules: BTreeMap<String, RuleSettings>,
    /// Per-rule remediation, keyed by rule name.
    pub remediation: BTreeMap<String, RemediationSettings>,
    /// Webhook subscriptions, in file order.
    pub subscriptions: Vec<SubscriptionSettings>,
    /// AWS accounts the server sweeps by itself.
    pub collector: CollectorSettings,
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
    api: ApiSettings,
    #[serde(default)]
    rules: BTreeMap<String, RuleSettings>,
    #[serde(default)]
    remediation: BTreeMap<String, RemediationSettings>,
    #[serde(default)]
    subscriptions: Vec<SubscriptionSettings>,
    #[serde(default)]
    collector: CollectorSettings,
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
    /// The name logs and the audit trail use: `name`, or `tokens[i]` when it has none.
    pub fn label(&self) -> String {
        self.name
            .clone()
            .unwrap_or_else(|| format!("tokens[{}]", self.place.index))
    }

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
        if secret.chars().count() < MIN_SECRET_CHARS {
            return Err(invalid(format!(
                "environment variable {var} holds fewer than {MIN_SECRET_CHARS} characters; use a long random secret"
            )));
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

/// The collector: AWS accounts the server sweeps by itself (`[collector]` and
/// `[[collector.accounts]]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorSettings {
    /// Time between sweeps of an account that sets none, e.g. `15m` (the default), at least `1m`.
    pub interval: Option<String>,
    /// Send every request here (an emulator such as moto); `AWS_ENDPOINT_URL` and
    /// `AWS_ENDPOINT_URL_<SERVICE>` are honoured too.
    pub endpoint_url: Option<String>,
    /// The accounts, in file order.
    #[serde(default)]
    pub accounts: Vec<CollectorAccountSettings>,
}

/// One account the collector sweeps.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CollectorAccountSettings {
    /// A name for logs, status and `POST /v1/collector/sweeps?account=`.
    pub name: String,
    /// Profile of the shared AWS config and credentials files; the standard chain without one.
    pub profile: Option<String>,
    /// Role to assume with those credentials (the account's own, for a central collector).
    pub role_arn: Option<String>,
    /// External id the role's trust policy requires.
    pub external_id: Option<String>,
    /// Regions to sweep; the profile's (or AWS_REGION) when empty.
    #[serde(default)]
    pub regions: Vec<String>,
    /// Resource types to sweep; every type the collector describes when empty.
    #[serde(default)]
    pub types: Vec<String>,
    /// Time between sweeps, e.g. `5m`; the `[collector]` interval when absent.
    pub interval: Option<String>,
    /// Endpoint for this account's requests, beating `[collector]`'s.
    pub endpoint_url: Option<String>,
    /// Where the account's CloudTrail trail delivers its log files, read as they arrive.
    pub trail: Option<TrailSettings>,
}

/// A CloudTrail trail's S3 delivery, read by the collector (`[collector.accounts.trail]`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrailSettings {
    /// The bucket the trail delivers to.
    pub bucket: String,
    /// What comes before `<account id>/CloudTrail/` in the keys: `AWSLogs/` (the default); the
    /// trail's own key prefix goes before it (`audit/AWSLogs/`), an organization trail's id
    /// after it (`AWSLogs/o-abc123/`).
    pub prefix: Option<String>,
    /// The bucket's region; the account's first region when absent.
    pub region: Option<String>,
    /// How often to look for new files, e.g. `1m` (the default), at least `1s`.
    pub poll: Option<String>,
    /// URL of an SQS queue that gets the bucket's `s3:ObjectCreated:*` notifications: each
    /// message wakes the reader at once (messages are deleted once received).
    pub queue_url: Option<String>,
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

/// What the HTTP API allows beyond the roles.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    /// Whether an admin token may set a `command` remediation (a program run on this host)
    /// through the API; off by default. The file and the local CLI can always set one.
    pub allow_command_actions: Option<bool>,
}

/// Settings of one rule (managed or added).
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
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
    #[serde(alias = "deadline_ms", skip_serializing_if = "Option::is_none")]
    pub deadline_ms: Option<u64>,
    /// Memory cap in MiB.
    #[serde(alias = "memory_limit_mib", skip_serializing_if = "Option::is_none")]
    pub memory_limit_mib: Option<u64>,
    /// Resource types it judges (default: the rule's own list).
    #[serde(alias = "resource_types", skip_serializing_if = "Option::is_none")]
    pub resource_types: Option<Vec<String>>,
    /// Only resources with this tag: `KEY` or `KEY=VALUE`; empty clears it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<String>,
    /// Only this resource id; empty clears it.
    #[serde(alias = "resource_id", skip_serializing_if = "Option::is_none")]
    pub resource_id: Option<String>,
    /// When it runs (default: the rule's own triggers).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub triggers: Option<Vec<crate::model::Trigger>>,
}

/// Remediation of one rule.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RemediationSettings {
    /// Webhook, command or aws.
    pub action: ActionKind,
    /// Webhook URL (webhook only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(pattern = "^https?://.+")]
    pub url: Option<String>,
    /// Extra webhook request headers (webhook only); answers show each value as `***`.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Extra webhook headers read when sent from environment variables: header name → variable.
    #[serde(
        alias = "header_env",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub header_env: BTreeMap<String, String>,
    /// Extra webhook headers read when sent from files: header name → path.
    #[serde(
        alias = "header_file",
        default,
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    #[schema(value_type = BTreeMap<String, String>)]
    pub header_file: BTreeMap<String, PathBuf>,
    /// Secret that signs each request (`X-Conftrail-Signature`); answers show `***`.
    #[serde(alias = "signing_secret", skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// The signing secret from this environment variable, read when sent.
    #[serde(alias = "signing_secret_env", skip_serializing_if = "Option::is_none")]
    pub signing_secret_env: Option<String>,
    /// The signing secret from this file, read when sent.
    #[serde(alias = "signing_secret_file", skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub signing_secret_file: Option<PathBuf>,
    /// Program and arguments (command only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<Vec<String>>,
    /// Exit codes meaning "retrying will not help" (command only).
    #[serde(alias = "no_retry_exit_codes", default)]
    pub no_retry_exit_codes: Vec<i32>,
    /// What an aws action changes (aws only, required there).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operation: Option<AwsOperation>,
    /// Parameter name to source (`RESOURCE_ID`, `$.path`, a fixed value), parsed by the caller.
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// Whether non-compliant verdicts queue a job without an operator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub automatic: Option<bool>,
    /// Attempts per job, at least 1.
    #[serde(alias = "max_attempts", skip_serializing_if = "Option::is_none")]
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
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SubscriptionSettings {
    /// Unique name.
    pub name: String,
    /// Target URL (http:// or https://).
    #[schema(pattern = "^https?://.+")]
    pub url: String,
    /// Extra request headers: a table, or the `[name, value]` pairs a subscription is read
    /// back with.
    #[serde(default, deserialize_with = "headers_table_or_pairs")]
    pub headers: BTreeMap<String, String>,
    /// Extra webhook headers read when sent from environment variables: header name → variable.
    #[serde(alias = "header_env", default)]
    pub header_env: BTreeMap<String, String>,
    /// Extra webhook headers read when sent from files: header name → path.
    #[serde(alias = "header_file", default)]
    #[schema(value_type = BTreeMap<String, String>)]
    pub header_file: BTreeMap<String, PathBuf>,
    /// Secret that signs each request (`X-Conftrail-Signature`); answers show `***`.
    #[serde(alias = "signing_secret")]
    pub signing_secret: Option<String>,
    /// The signing secret from this environment variable, read when sent.
    #[serde(alias = "signing_secret_env")]
    pub signing_secret_env: Option<String>,
    /// The signing secret from this file, read when sent.
    #[serde(alias = "signing_secret_file")]
    #[schema(value_type = Option<String>)]
    pub signing_secret_file: Option<PathBuf>,
    /// What is sent; configuration, compliance and remediation when left out.
    #[serde(default = "default_kinds")]
    pub kinds: Vec<NotificationKind>,
    /// Only these resource types (configuration, compliance, remediation); `None` = all.
    #[serde(alias = "resource_types")]
    pub resource_types: Option<Vec<String>>,
    /// Only these rules (compliance, remediation); `None` = all.
    pub rules: Option<Vec<String>>,
    /// Only these new compliance types; `None` = all.
    pub compliance: Option<Vec<String>>,
    /// Delivery attempts, at least 1.
    #[serde(alias = "max_attempts")]
    pub max_attempts: Option<u32>,
    /// Retry delay range such as "1s..10m" (parsed by the caller), or the `{baseMs, maxMs}`
    /// a subscription is read back with.
    #[serde(default, deserialize_with = "backoff_text_or_parts")]
    pub backoff: Option<String>,
    /// Which CloudTrail calls are sent; required when `kinds` has "api-event".
    #[serde(alias = "api_events")]
    pub api_events: Option<ApiEventPattern>,
}

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
    let raw: RawConfigFile =
        toml_errors::from_str(text).map_err(|message| ConfigFileError::Syntax {
            path: origin.to_path_buf(),
            message,
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
    check_collector(&raw.collector).map_err(|(key, message)| invalid(key, message))?;

    Ok(ConfigFile {
        listen,
        data_dir,
        event_map,
        log_format: raw.log_format,
        tokens,
        retention: raw.retention,
        worker: raw.worker,
        api: raw.api,
        rules: raw.rules,
        remediation: raw.remediation,
        subscriptions: raw.subscriptions,
        collector: raw.collector,
    })
}

/// Headers as a table (`{name = "value"}`) or as `[name, value]` pairs, the form answers use.
fn headers_table_or_pairs<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Headers {
        Table(BTreeMap<String, String>),
        Pairs(Vec<(String, String)>),
    }
    match Headers::deserialize(deserializer) {
        Ok(Headers::Table(table)) => Ok(table),
        Ok(Headers::Pairs(pairs)) => Ok(pairs.into_iter().collect()),
        Err(_) => Err(D::Error::custom(
            "expected a table of header names to values, or [name, value] pairs",
        )),
    }
}

/// A retry delay range as text (`"1s..10m"`), or as the `{baseMs, maxMs, jitter}` answers use
/// (turned into the same text; subscriptions always use full jitter).
fn backoff_text_or_parts<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum BackoffSetting {
        Text(String),
        Parts(crate::model::Backoff),
    }
    match Option::<BackoffSetting>::deserialize(deserializer) {
        Ok(None) => Ok(None),
        Ok(Some(BackoffSetting::Text(text))) => Ok(Some(text)),
        Ok(Some(BackoffSetting::Parts(backoff))) => Ok(Some(backoff.describe())),
        Err(_) => Err(D::Error::custom(
            "expected a delay range such as \"1s..10m\", or {baseMs, maxMs}",
        )),
    }
}

/// Rule parameters as JSON, which is how rules receive them; JSON `null` (a rule read back
/// with none) leaves them as they are.
fn json_parameters<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Map<String, Value>>, D::Error> {
    match Option::<toml::Table>::deserialize(deserializer)? {
        Some(table) => table_to_json(table).map(Some).map_err(D::Error::custom),
        None => Ok(None),
    }
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

#[cfg(test)]
mod tests;
