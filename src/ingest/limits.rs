//! Length limits on the fields conftrail indexes, shows in tables or matches on: AWS's own
//! limits where it states one, generous ones elsewhere. A record over a limit is refused with
//! the field, its length and the limit, so a hostile 10 MB name never reaches the store.

use crate::model::{ApiEvent, ConfigurationItem, MAX_RESOURCE_TYPE_CHARS};

/// Resource names (AWS has no single limit; the longest real ones are a few hundred).
const MAX_RESOURCE_NAME_CHARS: usize = 1024;
/// ARNs (IAM's limit).
const MAX_ARN_CHARS: usize = 2048;
/// Account ids, regions, zones, versions, hashes, frequencies: short codes.
const MAX_CODE_CHARS: usize = 128;
/// Tag keys (AWS's tag limit).
const MAX_TAG_KEY_CHARS: usize = 128;
/// Tag values (AWS's tag limit).
const MAX_TAG_VALUE_CHARS: usize = 256;
/// Event names, event sources, relationship names, event ids.
const MAX_NAME_CHARS: usize = 256;
/// User names and principal ids (role sessions and federated users can be long).
const MAX_PRINCIPAL_CHARS: usize = 2048;

/// The field and its limit when `value` is longer than `max` characters.
fn within(field: &str, value: &str, max: usize) -> Result<(), String> {
    // Bytes bound characters from above: only long text needs counting.
    if value.len() > max && value.chars().count() > max {
        return Err(format!(
            "{field}: {} characters, more than the {max} allowed",
            value.chars().count()
        ));
    }
    Ok(())
}

fn within_opt(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    value.map_or(Ok(()), |v| within(field, v, max))
}

/// Checks a configuration item's identity, names, tags and relationships.
pub(super) fn check_item(item: &ConfigurationItem) -> Result<(), String> {
    within("resourceType", &item.resource_type, MAX_RESOURCE_TYPE_CHARS)?;
    within_opt(
        "resourceName",
        item.resource_name.as_deref(),
        MAX_RESOURCE_NAME_CHARS,
    )?;
    within_opt("ARN", item.arn.as_deref(), MAX_ARN_CHARS)?;
    within("awsAccountId", &item.account_id, MAX_CODE_CHARS)?;
    within("awsRegion", &item.aws_region, MAX_CODE_CHARS)?;
    for (field, value) in [
        ("availabilityZone", &item.availability_zone),
        ("configurationItemVersion", &item.item_version),
        ("configurationStateMd5Hash", &item.md5_hash),
        ("recordingFrequency", &item.recording_frequency),
    ] {
        within_opt(field, value.as_deref(), MAX_CODE_CHARS)?;
    }
    for (key, value) in &item.tags {
        within("tags: a key", key, MAX_TAG_KEY_CHARS)?;
        within(&format!("tags.{key}"), value, MAX_TAG_VALUE_CHARS)?;
    }
    for (i, id) in item.related_events.iter().enumerate() {
        within(&format!("relatedEvents[{i}]"), id, MAX_NAME_CHARS)?;
    }
    for (i, r) in item.relationships.iter().enumerate() {
        let field = |name: &str| format!("relationships[{i}].{name}");
        within(
            &field("resourceType"),
            &r.resource_type,
            MAX_RESOURCE_TYPE_CHARS,
        )?;
        within_opt(
            &field("resourceId"),
            r.resource_id.as_deref(),
            MAX_RESOURCE_NAME_CHARS,
        )?;
        within_opt(
            &field("resourceName"),
            r.resource_name.as_deref(),
            MAX_RESOURCE_NAME_CHARS,
        )?;
        within(&field("name"), &r.name, MAX_NAME_CHARS)?;
    }
    Ok(())
}

/// Checks an API event's name, source, region, account, caller and resources.
pub(super) fn check_event(event: &ApiEvent) -> Result<(), String> {
    within("eventId", &event.event_id, MAX_NAME_CHARS)?;
    within("eventName", &event.event_name, MAX_NAME_CHARS)?;
    within("eventSource", &event.event_source, MAX_NAME_CHARS)?;
    within("awsRegion", &event.aws_region, MAX_CODE_CHARS)?;
    within("recipientAccountId", &event.account_id, MAX_CODE_CHARS)?;
    let who = &event.user_identity;
    within(
        "userIdentity.userName",
        &event.username,
        MAX_PRINCIPAL_CHARS,
    )?;
    for (field, value, max) in [
        ("userIdentity.type", &who.identity_type, MAX_CODE_CHARS),
        (
            "userIdentity.principalId",
            &who.principal_id,
            MAX_PRINCIPAL_CHARS,
        ),
        ("userIdentity.arn", &who.arn, MAX_ARN_CHARS),
        ("userIdentity.accountId", &who.account_id, MAX_CODE_CHARS),
        ("userIdentity.userName", &who.user_name, MAX_PRINCIPAL_CHARS),
        (
            "userIdentity.sessionContext.sessionIssuer.arn",
            &who.session_issuer_arn,
            MAX_ARN_CHARS,
        ),
        (
            "userIdentity.accessKeyId",
            &event.access_key_id,
            MAX_CODE_CHARS,
        ),
        ("eventType", &event.event_type, MAX_CODE_CHARS),
        ("requestID", &event.request_id, MAX_NAME_CHARS),
        ("sourceIPAddress", &event.source_ip_address, MAX_NAME_CHARS),
        ("errorCode", &event.error_code, MAX_NAME_CHARS),
    ] {
        within_opt(field, value.as_deref(), max)?;
    }
    for (i, r) in event.resources.iter().enumerate() {
        let field = |name: &str| format!("resources[{i}].{name}");
        within_opt(&field("ARN"), r.arn.as_deref(), MAX_ARN_CHARS)?;
        within_opt(
            &field("type"),
            r.resource_type.as_deref(),
            MAX_RESOURCE_TYPE_CHARS,
        )?;
        within_opt(&field("accountId"), r.account_id.as_deref(), MAX_CODE_CHARS)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_text_names_its_field_length_and_limit() {
        assert_eq!(within("eventName", "GetObject", 256), Ok(()));
        // 128 two-byte characters (256 bytes) are within a 128-character limit.
        assert_eq!(within("tags: a key", &"é".repeat(128), 128), Ok(()));
        assert_eq!(
            within("eventName", &"x".repeat(300), 256),
            Err("eventName: 300 characters, more than the 256 allowed".to_string())
        );
    }
}
