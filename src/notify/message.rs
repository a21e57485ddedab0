//! Notifications in AWS's shapes, built only when someone listens.

use super::hub::Notifier;

use serde_json::{json, Value};

use crate::diff::diff_items;
use crate::evaluator::VerdictRecord;
use crate::model::{
    format_time, now_millis, ApiEvent, Notification, NotificationKind, ResourceKey,
};
use crate::remediation::RemediationJob;
use crate::store::{Store, StoreError};

/// Publishes a `ConfigurationItemChangeNotification` (with `configurationItemDiff` against the
/// version before) for each new version.
pub fn configuration_changes(
    notifier: &Notifier,
    store: &Store,
    versions: &[(ResourceKey, u64)],
) -> Result<usize, StoreError> {
    if versions.is_empty() || !notifier.wants(NotificationKind::Configuration) {
        return Ok(0);
    }
    let mut queued = 0;
    for (key, version) in versions {
        let Some(item) = store.version(key, *version)? else {
            continue;
        };
        let previous = store.previous_version(&item)?;
        let body = json!({
            "messageType": "ConfigurationItemChangeNotification",
            "notificationCreationTime": format_time(&now_millis()),
            "recordVersion": "1.3",
            "configurationItemDiff": diff_items(previous.as_ref(), &item),
            "configurationItem": item,
        });
        queued += notifier.publish(
            store,
            Notification {
                kind: NotificationKind::Configuration,
                resource_type: Some(key.resource_type.clone()),
                rule: None,
                compliance: None,
                body,
            },
            None,
        )?;
    }
    Ok(queued)
}

/// Publishes a `ComplianceChangeNotification` for each record that changed a resource's
/// compliance, with the old and new evaluation results.
pub fn compliance_changes(
    notifier: &Notifier,
    store: &Store,
    records: &[VerdictRecord],
) -> Result<usize, StoreError> {
    if !notifier.wants(NotificationKind::Compliance) {
        return Ok(0);
    }
    let mut queued = 0;
    for record in records.iter().filter(|r| r.compliance_changed) {
        let Some(compliance) = record.report.outcome.compliance() else {
            continue;
        };
        let result = |compliance: &str, annotation: Option<&str>| {
            json!({
                "evaluationResultIdentifier": {
                    "evaluationResultQualifier": {
                        "configRuleName": record.rule_name,
                        "resourceType": record.resource.resource_type,
                        "resourceId": record.resource.resource_id,
                    },
                    "orderingTimestamp": format_time(&record.configuration_item_capture_time),
                },
                "complianceType": compliance,
                "resultRecordedTime": format_time(&record.evaluated_at),
                "configRuleInvokedTime": format_time(&record.evaluated_at),
                "annotation": annotation,
            })
        };
        let old = record
            .changed_from
            .map_or(Value::Null, |c| result(c.as_str(), None));
        let body = json!({
            "messageType": "ComplianceChangeNotification",
            "notificationCreationTime": format_time(&now_millis()),
            "recordVersion": "1.0",
            "awsAccountId": record.resource.account_id,
            "awsRegion": record.resource.aws_region,
            "configRuleName": record.rule_name,
            "resourceType": record.resource.resource_type,
            "resourceId": record.resource.resource_id,
            "configurationVersion": record.configuration_version,
            "newEvaluationResult": result(compliance.as_str(), record.report.outcome.annotation()),
            "oldEvaluationResult": old,
        });
        queued += notifier.publish(
            store,
            Notification {
                kind: NotificationKind::Compliance,
                resource_type: Some(record.resource.resource_type.clone()),
                rule: Some(record.rule_name.clone()),
                compliance: Some(compliance.as_str().to_string()),
                body,
            },
            None,
        )?;
    }
    Ok(queued)
}

/// Publishes a `RemediationJobChangeNotification` with the job as stored.
pub fn job_updated(
    notifier: &Notifier,
    store: &Store,
    job: &RemediationJob,
) -> Result<usize, StoreError> {
    if !notifier.wants(NotificationKind::Remediation) {
        return Ok(0);
    }
    let body = json!({
        "messageType": "RemediationJobChangeNotification",
        "notificationCreationTime": format_time(&now_millis()),
        "recordVersion": "1.0",
        "configRuleName": job.rule_name,
        "resourceType": job.resource.resource_type,
        "resourceId": job.resource.resource_id,
        "awsAccountId": job.resource.account_id,
        "awsRegion": job.resource.aws_region,
        "state": job.state.as_str(),
        "job": job,
    });
    notifier.publish(
        store,
        Notification {
            kind: NotificationKind::Remediation,
            resource_type: Some(job.resource.resource_type.clone()),
            rule: Some(job.rule_name.clone()),
            compliance: None,
            body,
        },
        None,
    )
}

/// Publishes newly stored CloudTrail calls to the subscriptions whose pattern they match, in
/// EventBridge's "AWS API Call via CloudTrail" shape.
pub fn api_calls<'e>(
    notifier: &Notifier,
    store: &Store,
    events: impl IntoIterator<Item = &'e ApiEvent>,
) -> Result<usize, StoreError> {
    if !notifier.wants(NotificationKind::ApiEvent) {
        return Ok(0);
    }
    let mut queued = 0;
    for event in events {
        let source = event
            .event_source
            .strip_suffix(".amazonaws.com")
            .unwrap_or(&event.event_source);
        let body = json!({
            "version": "0",
            "id": event.event_id,
            "detail-type": "AWS API Call via CloudTrail",
            "source": format!("aws.{source}"),
            "account": event.account_id,
            "time": format_time(&event.event_time),
            "region": event.aws_region,
            "resources": event.resources.iter().filter_map(|r| r.arn.clone()).collect::<Vec<_>>(),
            "detail": event.record,
        });
        queued += notifier.publish(
            store,
            Notification {
                kind: NotificationKind::ApiEvent,
                resource_type: None,
                rule: None,
                compliance: None,
                body,
            },
            Some(event),
        )?;
    }
    Ok(queued)
}
