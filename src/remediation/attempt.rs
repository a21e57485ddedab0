//! One attempt of an admitted job: its parameters resolved from the judged version, the action
//! run, the result recorded.

use std::time::Duration;

use serde_json::{Map, Value};

use super::action::{run_action, ActionRequest, AwsTarget};
use super::queue;
use crate::collector::aws::AwsClient;
use crate::model::{ActionResult, RemediationConfig, RemediationJob};
use crate::store::{Store, StoreError};

/// Runs one attempt of an admitted job: resolves its parameters from the judged version,
/// runs the action and records the result. The action's document is the job's, with the
/// judged configuration item and what `context` adds (linked calls, links). An aws action
/// signs with `aws` (the collector's client for the resource's account, if there is one).
pub fn execute(
    store: &Store,
    job: RemediationJob,
    config: &RemediationConfig,
    context: Map<String, Value>,
    aws: Option<&AwsClient>,
) -> Result<RemediationJob, StoreError> {
    let key = job.resource.key();
    let item = match store.version(&key, job.configuration_version)? {
        Some(item) => item,
        None => {
            let message = format!(
                "version {} of the resource is no longer stored",
                job.configuration_version
            );
            return queue::fail_before_action(store, job, message);
        }
    };
    let parameters = match config.resolve_parameters(&item) {
        Ok(p) => p,
        Err(message) => return queue::fail_before_action(store, job, message),
    };
    let attempt = job.attempts.len() as u32;
    let mut document = job.document(&parameters, attempt);
    if let Value::Object(fields) = &mut document {
        fields.insert(
            "configurationItem".into(),
            serde_json::to_value(&item).unwrap_or_default(),
        );
        fields.extend(context);
    }
    let mut env: Vec<(String, String)> = parameters
        .iter()
        .map(|(name, value)| {
            let text = match value {
                serde_json::Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (format!("CONFTRAIL_PARAM_{name}"), text)
        })
        .collect();
    for (name, value) in [
        ("CONFTRAIL_RULE", job.rule_name.clone()),
        (
            "CONFTRAIL_RESOURCE_TYPE",
            job.resource.resource_type.clone(),
        ),
        ("CONFTRAIL_RESOURCE_ID", job.resource.resource_id.clone()),
        ("CONFTRAIL_ACCOUNT_ID", job.resource.account_id.clone()),
        ("CONFTRAIL_REGION", job.resource.aws_region.clone()),
        ("CONFTRAIL_ATTEMPT", attempt.to_string()),
        ("CONFTRAIL_JOB_ID", job.id.to_string()),
    ] {
        env.push((name.to_string(), value));
    }
    let result: ActionResult = run_action(
        &config.action,
        &ActionRequest {
            document: &document,
            env: &env,
            idempotency_key: &job.idempotency_key,
            timeout: Duration::from_millis(config.timeout_ms),
            aws: Some(AwsTarget {
                client: aws,
                item: &item,
                parameters: &parameters,
            }),
        },
    );
    queue::finish(store, config, job, &result)
}
