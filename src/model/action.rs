//! Remediation actions as configured (webhook, command, AWS API) and what an attempt produced.

use std::time::Duration;

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::secret::{Secret, MIN_SECRET_CHARS, REDACTED};

/// Headers conftrail sets itself; letting configuration duplicate them would be ambiguous.
const RESERVED_HEADERS: [&str; 3] = ["content-type", "idempotency-key", "x-conftrail-signature"];

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
    /// Change the resource through AWS's API with the collector's credentials.
    Aws,
}

/// What a remediation does.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// POST the document to a URL.
    Webhook(WebhookAction),
    /// Run a local program with the document on stdin.
    Command(CommandAction),
    /// Change the resource through AWS's API.
    Aws(AwsAction),
}

/// A change made through AWS's API, with the credentials the collector uses for the
/// resource's account, equivalent to one of AWS's common remediation documents.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AwsAction {
    /// What to change.
    pub operation: AwsOperation,
}

/// The changes an [`AwsAction`] makes.
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
#[serde(rename_all = "kebab-case")]
pub enum AwsOperation {
    /// A security group: revoke the ingress permissions open to 0.0.0.0/0 or ::/0 on the
    /// ports given by the `ports` parameter (all world-open ones without it), nothing else
    /// (AWS-DisablePublicAccessForSecurityGroup).
    RevokeWorldOpenIngress,
    /// A bucket: block all public access (AWS-ConfigureS3BucketPublicAccessBlock).
    PutPublicAccessBlock,
    /// A bucket: default encryption, SSE-S3, or SSE-KMS with the `kmsKeyId` parameter
    /// (AWS-EnableS3BucketEncryption).
    EnableDefaultEncryption,
    /// A bucket: versioning enabled (AWS-ConfigureS3BucketVersioning).
    EnableVersioning,
    /// A bucket: the ACL's grants to everyone and to any authenticated AWS user removed,
    /// the others kept (AWS-DisableS3BucketPublicReadWrite, ACL part).
    RemovePublicAclGrants,
    /// An IAM user: its active access keys older than the `maxAgeDays` parameter (default
    /// 90) deactivated (AWSConfigRemediation-RevokeUnusedIAMUserCredentials, key part).
    DeactivateOldAccessKeys,
}

impl AwsOperation {
    /// The configuration's spelling, e.g. `revoke-world-open-ingress`.
    pub fn as_str(self) -> &'static str {
        match self {
            AwsOperation::RevokeWorldOpenIngress => "revoke-world-open-ingress",
            AwsOperation::PutPublicAccessBlock => "put-public-access-block",
            AwsOperation::EnableDefaultEncryption => "enable-default-encryption",
            AwsOperation::EnableVersioning => "enable-versioning",
            AwsOperation::RemovePublicAclGrants => "remove-public-acl-grants",
            AwsOperation::DeactivateOldAccessKeys => "deactivate-old-access-keys",
        }
    }

    /// The resource type the operation changes.
    pub fn resource_type(self) -> &'static str {
        match self {
            AwsOperation::RevokeWorldOpenIngress => "AWS::EC2::SecurityGroup",
            AwsOperation::DeactivateOldAccessKeys => "AWS::IAM::User",
            _ => "AWS::S3::Bucket",
        }
    }
}

/// A webhook: where it goes, with which headers, signed with which secret. Remediation
/// actions, subscriptions and deliveries share it; its keys are those of the settings, so an
/// answer can be sent back as a request.
#[derive(
    Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct WebhookAction {
    /// Target URL (http:// or https://).
    pub url: String,
    /// Extra request headers (name, value); answers show every value as `***`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<(String, String)>,
    /// Extra request headers read from environment variables when sent: name → variable.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub header_env: BTreeMap<String, String>,
    /// Extra request headers read from files when sent: name → path.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schema(value_type = BTreeMap<String, String>)]
    pub header_file: BTreeMap<String, PathBuf>,
    /// Secret of the `X-Conftrail-Signature` header; answers show `***`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// The signing secret from this environment variable, read when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_secret_env: Option<String>,
    /// The signing secret from this file, read when sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub signing_secret_file: Option<PathBuf>,
}

impl WebhookAction {
    /// A webhook to `url` with no extra headers, unsigned.
    pub fn to(url: impl Into<String>) -> WebhookAction {
        WebhookAction {
            url: url.into(),
            ..WebhookAction::default()
        }
    }

    /// The webhook as answers show it: header values and the stored signing secret hidden
    /// (variables and files are named, not read).
    pub fn redacted(&self) -> WebhookAction {
        WebhookAction {
            headers: self
                .headers
                .iter()
                .map(|(name, _)| (name.clone(), REDACTED.to_string()))
                .collect(),
            signing_secret: self.signing_secret.as_ref().map(|_| REDACTED.to_string()),
            ..self.clone()
        }
    }

    /// Puts back the values `stored` holds where this one carries the `***` that answers show
    /// (a configuration read with GET and sent back); the error names a placeholder with
    /// nothing stored behind it.
    pub fn keep_redacted(&mut self, stored: Option<&WebhookAction>) -> Result<(), String> {
        let nothing_stored = |key: &str| {
            format!("{key}: {REDACTED:?} stands for a stored value, and none is stored")
        };
        for (name, value) in &mut self.headers {
            if value == REDACTED {
                *value = stored
                    .and_then(|s| s.headers.iter().find(|(n, _)| n == name))
                    .map(|(_, v)| v.clone())
                    .ok_or_else(|| nothing_stored(&format!("headers.{name}")))?;
            }
        }
        if self.signing_secret.as_deref() == Some(REDACTED) {
            self.signing_secret = Some(
                stored
                    .and_then(|s| s.signing_secret.clone())
                    .ok_or_else(|| nothing_stored("signing_secret"))?,
            );
        }
        Ok(())
    }

    /// Where the signing secret comes from, if the webhook is signed.
    pub fn signing(&self) -> Option<Secret> {
        self.signing_secret
            .clone()
            .map(Secret::Value)
            .or_else(|| self.signing_secret_env.clone().map(Secret::Env))
            .or_else(|| self.signing_secret_file.clone().map(Secret::File))
    }

    /// Every header to send, secrets read now; the error names what could not be read.
    pub fn resolved_headers(&self) -> Result<Vec<(String, String)>, String> {
        let mut headers = self.headers.clone();
        let env = self
            .header_env
            .iter()
            .map(|(name, var)| (name, Secret::Env(var.clone())));
        let files = self
            .header_file
            .iter()
            .map(|(name, path)| (name, Secret::File(path.clone())));
        for (name, secret) in env.chain(files) {
            let value = secret.reveal().map_err(|e| format!("header {name}: {e}"))?;
            headers.push((name.clone(), value));
        }
        Ok(headers)
    }

    /// Checks the URL, the headers and the secrets' sources; error text names the field.
    pub fn validate(&self) -> Result<(), String> {
        validate_url(&self.url)?;
        self.headers
            .iter()
            .try_for_each(|(name, value)| validate_header(name, value))?;
        let mut seen: Vec<String> = self
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        let from_secrets = self.header_env.keys().chain(self.header_file.keys());
        for name in from_secrets {
            validate_header(name, "")?;
            let lower = name.to_ascii_lowercase();
            if seen.contains(&lower) {
                return Err(format!(
                    "webhook.headers: \"{name}\" is given twice (headers, header_env, header_file)"
                ));
            }
            seen.push(lower);
        }
        if let Some((name, _)) = self
            .header_env
            .iter()
            .find(|(_, var)| var.trim().is_empty())
        {
            return Err(format!("webhook.header_env.{name}: names no variable"));
        }
        let sources = [
            self.signing_secret.is_some(),
            self.signing_secret_env.is_some(),
            self.signing_secret_file.is_some(),
        ];
        if sources.into_iter().filter(|given| *given).count() > 1 {
            return Err(
                "webhook.signing_secret: give one of signing_secret, signing_secret_env and signing_secret_file"
                    .into(),
            );
        }
        if self
            .signing_secret
            .as_deref()
            .is_some_and(|s| s != REDACTED && s.chars().count() < MIN_SECRET_CHARS)
        {
            return Err(format!(
                "webhook.signing_secret: must be at least {MIN_SECRET_CHARS} characters"
            ));
        }
        Ok(())
    }
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
    /// The action as answers show it: webhook secrets hidden.
    pub fn redacted(&self) -> Action {
        match self {
            Action::Webhook(webhook) => Action::Webhook(webhook.redacted()),
            Action::Command(command) => Action::Command(command.clone()),
            Action::Aws(aws) => Action::Aws(aws.clone()),
        }
    }

    /// Checks the configuration; error text names the field and the bad value.
    pub fn validate(&self) -> Result<(), String> {
        match self {
            Action::Webhook(webhook) => webhook.validate(),
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
            Action::Aws(_) => Ok(()),
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
            Action::Aws(aws) => format!("aws {}", aws.operation.as_str()),
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
