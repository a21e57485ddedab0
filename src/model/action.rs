//! Remediation actions as configured (webhook, command) and what an attempt produced.

use std::time::Duration;

/// Headers conftrail sets itself; letting configuration duplicate them would be ambiguous.
const RESERVED_HEADERS: [&str; 2] = ["content-type", "idempotency-key"];

/// The kinds of remediation action, as the configuration file, the API and the CLI name them.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
    utoipa::ToSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// POST a JSON document to a URL.
    Webhook,
    /// Run a program with the JSON document on stdin.
    Command,
}

/// What a remediation does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// POST the document to a URL.
    Webhook(WebhookAction),
    /// Run a local program with the document on stdin.
    Command(CommandAction),
}

/// A webhook remediation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAction {
    /// Target URL (http:// or https://).
    pub url: String,
    /// Extra request headers (name, value).
    #[serde(default)]
    pub headers: Vec<(String, String)>,
}

/// A command remediation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommandAction {
    /// Program to execute (no shell involved).
    pub program: String,
    /// Arguments passed to the program.
    #[serde(default)]
    pub args: Vec<String>,
    /// Exit codes meaning "retrying will not help".
    #[serde(default)]
    pub no_retry_exit_codes: Vec<i32>,
}

/// How an attempt ended.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum AttemptOutcome {
    /// The remediation did its job.
    Succeeded,
    /// Failed, but a later attempt may succeed.
    Retryable,
    /// Failed in a way retrying will not fix.
    Permanent,
}

/// What an attempt produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionResult {
    /// How the attempt ended.
    pub outcome: AttemptOutcome,
    /// Human-readable: "HTTP 500 Internal Server Error: <body start>", "timed out after 2s", "exit code 3; stderr: ...", "cannot start ./fix.sh: No such file or directory (os error 2)".
    pub message: String,
    /// Response status, for webhooks that got a response.
    pub http_status: Option<u16>,
    /// Exit code, for commands that exited normally.
    pub exit_code: Option<i32>,
    /// From a Retry-After header (seconds form) on a retryable response: the earliest the next attempt should run.
    pub retry_after: Option<Duration>,
    /// Bounded output kept from a command ("stdout: …\nstderr: …"), empty for webhooks.
    pub output: String,
}

impl ActionResult {
    /// A result carrying only an outcome and a message.
    pub fn plain(outcome: AttemptOutcome, message: String) -> ActionResult {
        ActionResult {
            outcome,
            message,
            http_status: None,
            exit_code: None,
            retry_after: None,
            output: String::new(),
        }
    }
}

impl Action {
    /// Checks the configuration; error text names the field and the bad value.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Action::Webhook(webhook) => {
                validate_url(&webhook.url)?;
                webhook
                    .headers
                    .iter()
                    .try_for_each(|(name, value)| validate_header(name, value))
            }
            Action::Command(command) => {
                if command.program.trim().is_empty() {
                    Err(format!(
                        "command.program must not be empty (got \"{}\")",
                        command.program
                    ))
                } else {
                    Ok(())
                }
            }
        }
    }

    /// "webhook http://…" / "command ./fix.sh arg1 …" for tables.
    pub fn describe(&self) -> String {
        match self {
            Action::Webhook(webhook) => format!("webhook {}", webhook.url),
            Action::Command(command) => {
                let mut text = format!("command {}", command.program);
                for arg in &command.args {
                    text.push(' ');
                    // Quote only where needed so the common case stays readable.
                    if arg.is_empty() || arg.contains(char::is_whitespace) {
                        text.push_str(&format!("{arg:?}"));
                    } else {
                        text.push_str(arg);
                    }
                }
                text
            }
        }
    }
}

/// Checks that a webhook URL is absolute http(s) with a host.
fn validate_url(url: &str) -> Result<(), String> {
    let uri: ureq::http::Uri = url
        .parse()
        .map_err(|e| format!("webhook.url \"{url}\" is not a valid URL: {e}"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        Some(other) => {
            return Err(format!(
                "webhook.url \"{url}\" must use http:// or https://, not {other}://"
            ));
        }
        None => {
            return Err(format!(
                "webhook.url \"{url}\" must be an absolute http:// or https:// URL"
            ));
        }
    }
    match uri.host() {
        Some(host) if !host.is_empty() => Ok(()),
        _ => Err(format!("webhook.url \"{url}\" has no host")),
    }
}

/// Checks one custom webhook header.
fn validate_header(name: &str, value: &str) -> Result<(), String> {
    if ureq::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
        return Err(format!("webhook.headers: invalid header name \"{name}\""));
    }
    if RESERVED_HEADERS.contains(&name.to_ascii_lowercase().as_str()) {
        return Err(format!(
            "webhook.headers: \"{name}\" is set by conftrail and cannot be overridden"
        ));
    }
    if ureq::http::HeaderValue::from_str(value).is_err() {
        return Err(format!(
            "webhook.headers: invalid value {value:?} for header \"{name}\""
        ));
    }
    Ok(())
}
