//! Settings (from the configuration file or an API request body, which share keys) turned into
//! what the store keeps: rule settings, remediation configurations, subscriptions.

use std::collections::BTreeMap;

use crate::config_file::{check_remediation, check_subscription};
use crate::config_file::{
    ActionKind, ConfigFile, RemediationSettings, RuleSettings, SubscriptionSettings,
};
use crate::model::now_millis;
use crate::model::{format_duration, parse_duration, Backoff, Jitter};
use crate::model::{Action, AwsAction, CommandAction, WebhookAction};
use crate::notify::Subscription;
use crate::remediation::{
    ParameterSource, RemediationConfig, DEFAULT_BACKOFF, DEFAULT_CONCURRENCY, DEFAULT_MAX_ATTEMPTS,
    DEFAULT_TIMEOUT_MS,
};
use crate::rules::{RuleDefinition, RuleError, RuleRegistry, TagFilter, UpdateRule};
use crate::scheduler::CronSchedule;
use crate::store::{Store, StoreError};

/// Default backoff of webhook subscriptions.
const SUBSCRIPTION_BACKOFF: Backoff = Backoff {
    base_ms: 1_000,
    max_ms: 600_000,
    jitter: Jitter::Full,
};

/// Why settings could not be applied; `key` names the setting.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    /// A value is not acceptable.
    #[error("{key}: {message}")]
    Invalid {
        /// Dotted key, e.g. `remediation.restricted-ssh.backoff`.
        key: String,
        /// What is wrong.
        message: String,
    },
    /// The rule registry refused (unknown rule, bad parameters).
    #[error("{key}: {error}")]
    Rule {
        /// Dotted key.
        key: String,
        /// The registry's reason (in the message, not a separate cause, so it is said once).
        error: RuleError,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn invalid(key: impl Into<String>, message: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key: key.into(),
        message: message.into(),
    }
}

fn backoff(key: &str, text: Option<&str>, default: Backoff) -> Result<Backoff, SettingsError> {
    match text {
        Some(text) => Backoff::parse(text).map_err(|e| invalid(format!("{key}.backoff"), e)),
        None => Ok(default),
    }
}

impl RemediationSettings {
    /// The remediation configuration of `rule`; `key` prefixes error messages. `stored` is the
    /// configuration it replaces: its creation time is kept, and so are the secrets these
    /// settings show as `***` (a configuration read with GET and sent back).
    pub fn to_config(
        &self,
        rule: &str,
        key: &str,
        stored: Option<&RemediationConfig>,
    ) -> Result<RemediationConfig, SettingsError> {
        check_remediation(key, self).map_err(|(key, message)| invalid(key, message))?;
        // Checked above: a webhook has a url and no command, a command a program and no url,
        // an aws action its operation.
        let action = match (self.action, self.command.as_deref(), self.operation) {
            (ActionKind::Command, Some([program, args @ ..]), _) => {
                Action::Command(CommandAction {
                    program: program.clone(),
                    args: args.to_vec(),
                    no_retry_exit_codes: self.no_retry_exit_codes.clone(),
                })
            }
            (ActionKind::Aws, _, Some(operation)) => Action::Aws(AwsAction { operation }),
            _ => {
                let mut webhook = WebhookAction {
                    url: self.url.clone().unwrap_or_default(),
                    headers: self.headers.clone().into_iter().collect(),
                    header_env: self.header_env.clone(),
                    header_file: self.header_file.clone(),
                    signing_secret: self.signing_secret.clone(),
                    signing_secret_env: self.signing_secret_env.clone(),
                    signing_secret_file: self.signing_secret_file.clone(),
                };
                let stored = stored.and_then(|config| match &config.action {
                    Action::Webhook(webhook) => Some(webhook),
                    Action::Command(_) | Action::Aws(_) => None,
                });
                webhook.keep_redacted(stored).map_err(|e| invalid(key, e))?;
                Action::Webhook(webhook)
            }
        };
        let parameters: BTreeMap<String, ParameterSource> = self
            .parameters
            .iter()
            .map(|(name, source)| {
                ParameterSource::parse(source)
                    .map(|s| (name.clone(), s))
                    .map_err(|e| invalid(format!("{key}.parameters.{name}"), e))
            })
            .collect::<Result<_, _>>()?;
        let mut backoff = backoff(key, self.backoff.as_deref(), DEFAULT_BACKOFF)?;
        if let Some(jitter) = self.jitter {
            backoff.jitter = jitter;
        }
        let timeout_ms = match &self.timeout {
            Some(text) => parse_duration(text)
                .map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
                .map_err(|e| invalid(format!("{key}.timeout"), e))?,
            None => DEFAULT_TIMEOUT_MS,
        };
        let now = now_millis();
        let config = RemediationConfig {
            rule_name: rule.to_string(),
            action,
            parameters,
            automatic: self.automatic.unwrap_or(false),
            max_attempts: self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
            backoff,
            timeout_ms,
            concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
            created_at: stored.map_or(now, |old| old.created_at),
            updated_at: now,
        };
        config.validate().map_err(|e| invalid(key, e))?;
        Ok(config)
    }
}

impl From<&RuleDefinition> for RuleSettings {
    /// Every setting of a registered rule, so that a rule read back can be sent again.
    fn from(rule: &RuleDefinition) -> RuleSettings {
        RuleSettings {
            enabled: Some(rule.enabled),
            // Left out when empty: a rule waiting for a required value stays as it is.
            parameters: (!rule.parameters.is_empty()).then(|| rule.parameters.clone()),
            schedule: Some(rule.schedule.clone().unwrap_or_default()),
            deadline_ms: Some(rule.deadline_ms),
            memory_limit_mib: Some(rule.memory_limit_mib),
            resource_types: rule.scope.resource_types.clone(),
            tag: Some(
                rule.scope
                    .tag
                    .as_ref()
                    .map_or_else(String::new, |tag| match &tag.value {
                        Some(value) => format!("{}={value}", tag.key),
                        None => tag.key.clone(),
                    }),
            ),
            resource_id: Some(rule.scope.resource_id.clone().unwrap_or_default()),
            triggers: Some(rule.triggers.clone()),
        }
    }
}

impl RuleSettings {
    /// A request body: the settings of `[rules.NAME]`, or a rule as answers carry it (with its
    /// `metadata`), so that what GET answers can be sent back with PATCH.
    pub fn from_body(body: serde_json::Value) -> Result<RuleSettings, String> {
        if body.get("metadata").is_some() {
            let rule: RuleDefinition = serde_json::from_value(body).map_err(|e| e.to_string())?;
            Ok(RuleSettings::from(&rule))
        } else {
            serde_json::from_value(body).map_err(|e| e.to_string())
        }
    }
}

impl From<&RemediationConfig> for RemediationSettings {
    /// The settings a stored configuration was made from (the inverse of `to_config`), so
    /// that a configuration read back can be sent again.
    fn from(config: &RemediationConfig) -> RemediationSettings {
        let (webhook, command, no_retry_exit_codes) = match &config.action {
            Action::Webhook(webhook) => (webhook.clone(), None, Vec::new()),
            Action::Aws(_) => (WebhookAction::default(), None, Vec::new()),
            Action::Command(command) => (
                WebhookAction::default(),
                Some(
                    std::iter::once(command.program.clone())
                        .chain(command.args.iter().cloned())
                        .collect(),
                ),
                command.no_retry_exit_codes.clone(),
            ),
        };
        RemediationSettings {
            action: match config.action {
                Action::Webhook(_) => ActionKind::Webhook,
                Action::Command(_) => ActionKind::Command,
                Action::Aws(_) => ActionKind::Aws,
            },
            operation: match &config.action {
                Action::Aws(aws) => Some(aws.operation),
                _ => None,
            },
            url: (!webhook.url.is_empty()).then_some(webhook.url),
            headers: webhook.headers.into_iter().collect(),
            header_env: webhook.header_env,
            header_file: webhook.header_file,
            signing_secret: webhook.signing_secret,
            signing_secret_env: webhook.signing_secret_env,
            signing_secret_file: webhook.signing_secret_file,
            command,
            no_retry_exit_codes,
            parameters: config
                .parameters
                .iter()
                .map(|(name, source)| (name.clone(), source.describe()))
                .collect(),
            automatic: Some(config.automatic),
            max_attempts: Some(config.max_attempts),
            backoff: Some(config.backoff.describe()),
            jitter: Some(config.backoff.jitter),
            timeout: Some(format_duration(std::time::Duration::from_millis(
                config.timeout_ms,
            ))),
            concurrency: Some(config.concurrency),
        }
    }
}

impl RemediationSettings {
    /// A request body: the settings of `[remediation.RULE]`, or a configuration as answers
    /// carry it (its `action` an object), so that what GET answers can be sent back with PUT.
    pub fn from_body(body: serde_json::Value) -> Result<RemediationSettings, String> {
        if body.get("action").is_some_and(serde_json::Value::is_object) {
            let config: RemediationConfig =
                serde_json::from_value(body).map_err(|e| e.to_string())?;
            Ok(RemediationSettings::from(&config))
        } else {
            serde_json::from_value(body).map_err(|e| e.to_string())
        }
    }
}

impl SubscriptionSettings {
    /// The subscription; `key` prefixes error messages. `stored` is the subscription it
    /// replaces, whose secrets these settings may show as `***` (read with GET, sent back).
    pub fn to_subscription(
        &self,
        key: &str,
        stored: Option<&Subscription>,
    ) -> Result<Subscription, SettingsError> {
        check_subscription(key, self).map_err(|(key, message)| invalid(key, message))?;
        let mut webhook = WebhookAction {
            url: self.url.clone(),
            headers: self.headers.clone().into_iter().collect(),
            header_env: self.header_env.clone(),
            header_file: self.header_file.clone(),
            signing_secret: self.signing_secret.clone(),
            signing_secret_env: self.signing_secret_env.clone(),
            signing_secret_file: self.signing_secret_file.clone(),
        };
        webhook
            .keep_redacted(stored.map(|s| &s.webhook))
            .map_err(|e| invalid(key, e))?;
        let subscription = Subscription {
            name: self.name.clone(),
            webhook,
            kinds: self.kinds.clone(),
            resource_types: self.resource_types.clone().unwrap_or_default(),
            rules: self.rules.clone().unwrap_or_default(),
            compliance: self.compliance.clone().unwrap_or_default(),
            api_events: self.api_events.clone(),
            max_attempts: self.max_attempts.unwrap_or(DEFAULT_MAX_ATTEMPTS),
            backoff: backoff(key, self.backoff.as_deref(), SUBSCRIPTION_BACKOFF)?,
        };
        subscription.validate().map_err(|e| invalid(key, e))?;
        Ok(subscription)
    }
}

/// Applies one rule's settings (only the keys given) and, when given, a new binary, as one
/// update; returns the rule as stored.
pub fn apply_rule_settings(
    registry: &RuleRegistry,
    name: &str,
    settings: &RuleSettings,
    key: &str,
    wasm: Option<Vec<u8>>,
) -> Result<RuleDefinition, SettingsError> {
    let rule_error = |error| SettingsError::Rule {
        key: key.to_string(),
        error,
    };
    let mut definition = registry.get(name).map_err(rule_error)?;
    let tag = match settings.tag.as_deref() {
        None => None,
        Some("") => Some(None),
        Some(text) => Some(Some(TagFilter::parse(text).map_err(|error| {
            SettingsError::Rule {
                key: format!("{key}.tag"),
                error,
            }
        })?)),
    };
    let changes = UpdateRule {
        parameters: settings.parameters.clone(),
        deadline_ms: settings.deadline_ms,
        memory_limit_mib: settings.memory_limit_mib,
        resource_types: settings.resource_types.clone(),
        tag,
        resource_id: settings
            .resource_id
            .as_ref()
            .map(|id| Some(id.clone()).filter(|id| !id.is_empty())),
        triggers: settings.triggers.clone(),
        wasm,
    };
    if changes.wasm.is_some()
        || changes.parameters.is_some()
        || changes.deadline_ms.is_some()
        || changes.memory_limit_mib.is_some()
        || changes.resource_types.is_some()
        || changes.tag.is_some()
        || changes.resource_id.is_some()
        || changes.triggers.is_some()
    {
        definition = registry.update(name, changes).map_err(rule_error)?;
    }
    if let Some(schedule) = &settings.schedule {
        let parsed = match schedule.as_str() {
            "" | "off" => None,
            text => {
                Some(CronSchedule::parse(text).map_err(|e| invalid(format!("{key}.schedule"), e))?)
            }
        };
        if definition.schedule.as_deref() != parsed.as_ref().map(CronSchedule::as_str) {
            definition = registry
                .set_schedule(name, parsed.as_ref())
                .map_err(rule_error)?;
        }
    }
    if let Some(enabled) = settings.enabled {
        definition = registry.set_enabled(name, enabled).map_err(rule_error)?;
    }
    Ok(definition)
}

/// What applying a configuration file changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Applied {
    /// Rules whose settings were applied.
    pub rules: usize,
    /// Remediation configurations written.
    pub remediations: usize,
    /// Subscriptions written.
    pub subscriptions: usize,
}

/// Applies the file's rule settings, remediation configurations and subscriptions to the store
/// (the file wins over earlier API changes to the same entries; other entries are kept).
/// Everything is checked before anything is written.
pub fn apply_file(
    file: &ConfigFile,
    store: &Store,
    registry: &RuleRegistry,
) -> Result<Applied, SettingsError> {
    let mut remediations = Vec::new();
    for (rule, settings) in &file.remediation {
        let key = format!("remediation.{rule}");
        registry.get(rule).map_err(|error| SettingsError::Rule {
            key: key.clone(),
            error,
        })?;
        let stored = store.remediation_config(rule)?;
        remediations.push(settings.to_config(rule, &key, stored.as_ref())?);
    }
    let stored_subscriptions = store.subscriptions()?;
    let subscriptions = file
        .subscriptions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let stored = stored_subscriptions.iter().find(|old| old.name == s.name);
            s.to_subscription(&format!("subscriptions[{i}]"), stored)
        })
        .collect::<Result<Vec<_>, _>>()?;
    for (name, settings) in &file.rules {
        apply_rule_settings(registry, name, settings, &format!("rules.{name}"), None)?;
    }
    for config in &remediations {
        store.put_remediation_config(config)?;
    }
    for subscription in &subscriptions {
        store.put_subscription(subscription)?;
    }
    Ok(Applied {
        rules: file.rules.len(),
        remediations: remediations.len(),
        subscriptions: subscriptions.len(),
    })
}
