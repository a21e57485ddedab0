//! Configuration use cases: remediation configurations, exceptions and webhook subscriptions,
//! each checked by the same conversion the configuration file goes through.

use serde_json::{json, Value};

use super::{App, AppError};
use crate::config_file::{ConfigFile, RemediationSettings, SubscriptionSettings};
use crate::model::{
    format_time, now_millis, EvaluatedResource, RemediationConfig, RemediationException,
    Subscription, Timestamp,
};
use crate::query::ResourceSelector;
use crate::settings::Applied;

impl App {
    /// Sets a rule's remediation (replacing any earlier one, whose creation time is kept).
    /// `key` prefixes error messages (`remediation.RULE` in the file, `body` in the API).
    pub fn set_remediation(
        &self,
        rule: &str,
        settings: &RemediationSettings,
        key: &str,
    ) -> Result<RemediationConfig, AppError> {
        self.rule(rule)?;
        let stored = self.store().remediation_config(rule)?;
        let config = settings.to_config(rule, key, stored.as_ref())?;
        self.store().put_remediation_config(&config)?;
        self.store().flush()?;
        let shown = config.redacted();
        self.audit("remediation.set", rule, json!(shown))?;
        Ok(shown)
    }

    /// Applies a configuration file's rule settings, remediations and subscriptions (the file
    /// wins over earlier API changes to the same entries) and records what it set.
    pub fn apply_file(&self, file: &ConfigFile) -> Result<Applied, AppError> {
        let applied = crate::settings::apply_file(file, self.store(), self.registry()?)?;
        self.store().flush()?;
        if applied != Applied::default() {
            self.audit(
                "settings.apply",
                "configuration file",
                json!({
                    "rules": file.rules.keys().collect::<Vec<_>>(),
                    "remediation": file.remediation.keys().collect::<Vec<_>>(),
                    "subscriptions": file.subscriptions.iter().map(|s| &s.name).collect::<Vec<_>>(),
                }),
            )?;
        }
        Ok(applied)
    }

    /// Removes a rule's remediation; queued jobs are cancelled when they come due.
    pub fn remove_remediation(&self, rule: &str) -> Result<(), AppError> {
        if !self.store().delete_remediation_config(rule)? {
            return Err(AppError::NotFound(format!(
                "rule {rule} has no remediation configured"
            )));
        }
        self.store().flush()?;
        self.audit("remediation.remove", rule, Value::Null)?;
        Ok(())
    }

    /// Exempts a resource from a rule's automatic remediation (until `expires_at`, if given).
    pub fn add_exception(
        &self,
        rule: &str,
        sel: &ResourceSelector,
        reason: &str,
        expires_at: Option<Timestamp>,
    ) -> Result<RemediationException, AppError> {
        let now = now_millis();
        if expires_at.is_some_and(|t| t <= now) {
            return Err(AppError::Invalid("expires: is in the past".into()));
        }
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(AppError::Invalid(
                "reason: must say why the resource is exempt".into(),
            ));
        }
        self.rule(rule)?;
        let key = self.resolve(sel)?;
        let exception = RemediationException {
            rule_name: rule.to_string(),
            resource: EvaluatedResource::from(&key),
            reason: reason.to_string(),
            expires_at,
            created_at: now,
        };
        self.store().put_exception(&exception)?;
        self.store().flush()?;
        self.audit(
            "exception.add",
            &format!("{rule} {key}"),
            json!({ "reason": exception.reason, "expiresAt": exception.expires_at.map(|t| format_time(&t)) }),
        )?;
        Ok(exception)
    }

    /// Removes an exception.
    pub fn remove_exception(&self, rule: &str, sel: &ResourceSelector) -> Result<(), AppError> {
        self.rule(rule)?;
        let key = self.resolve(sel)?;
        if !self.store().delete_exception(rule, &key)? {
            return Err(AppError::NotFound(format!(
                "no exception for {rule} on {key}"
            )));
        }
        self.store().flush()?;
        self.audit("exception.remove", &format!("{rule} {key}"), Value::Null)?;
        Ok(())
    }

    /// Adds or replaces a webhook subscription; it receives notifications at once.
    pub fn put_subscription(
        &self,
        settings: &SubscriptionSettings,
        key: &str,
    ) -> Result<Subscription, AppError> {
        let stored = self
            .store()
            .subscriptions()?
            .into_iter()
            .find(|s| s.name == settings.name);
        let subscription = settings.to_subscription(key, stored.as_ref())?;
        self.store().put_subscription(&subscription)?;
        self.reload_subscriptions()?;
        let shown = subscription.redacted();
        self.audit("subscription.put", &shown.name, json!(shown))?;
        Ok(shown)
    }

    /// Removes a subscription (its queued deliveries still go out).
    pub fn remove_subscription(&self, name: &str) -> Result<(), AppError> {
        let deleted = self.store().delete_subscription(name)?;
        self.reload_subscriptions()?;
        if deleted {
            self.audit("subscription.remove", name, Value::Null)?;
            Ok(())
        } else {
            Err(AppError::NotFound(format!("no subscription named {name}")))
        }
    }
}
