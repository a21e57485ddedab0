//! Configuration use cases: remediation configurations, exceptions and webhook subscriptions,
//! each checked by the same conversion the configuration file goes through.

use super::{App, AppError};
use crate::config_file::{RemediationSettings, SubscriptionSettings};
use crate::model::{
    now_millis, EvaluatedResource, RemediationConfig, RemediationException, Subscription, Timestamp,
};
use crate::query::ResourceSelector;

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
        Ok(config.redacted())
    }

    /// Removes a rule's remediation; queued jobs are cancelled when they come due.
    pub fn remove_remediation(&self, rule: &str) -> Result<(), AppError> {
        if !self.store().delete_remediation_config(rule)? {
            return Err(AppError::NotFound(format!(
                "rule {rule} has no remediation configured"
            )));
        }
        self.store().flush()?;
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
        Ok(subscription.redacted())
    }

    /// Removes a subscription (its queued deliveries still go out).
    pub fn remove_subscription(&self, name: &str) -> Result<(), AppError> {
        let deleted = self.store().delete_subscription(name)?;
        self.reload_subscriptions()?;
        if deleted {
            Ok(())
        } else {
            Err(AppError::NotFound(format!("no subscription named {name}")))
        }
    }
}
