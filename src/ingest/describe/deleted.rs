//! The item that records a resource's deletion, as AWS Config writes it: status
//! `ResourceDeleted`, no configuration, no relationships.

use super::ITEM_VERSION;
use crate::model::{ConfigurationItem, ItemStatus, ResourceKey, Timestamp};
use serde_json::Value;
use std::collections::BTreeMap;

/// The deletion of `key`, noticed at `noticed_at` (a complete listing no longer had it).
/// The name and ARN are those of its last recorded version.
pub fn deleted_item(
    key: &ResourceKey,
    resource_name: Option<String>,
    arn: Option<String>,
    noticed_at: Timestamp,
) -> ConfigurationItem {
    ConfigurationItem {
        item_version: Some(ITEM_VERSION.to_string()),
        account_id: key.account_id.clone(),
        configuration_item_capture_time: crate::model::truncate_to_millis(noticed_at),
        configuration_item_status: ItemStatus::ResourceDeleted,
        configuration_state_id: None,
        md5_hash: Some(String::new()),
        arn,
        resource_type: key.resource_type.clone(),
        resource_id: key.resource_id.clone(),
        resource_name,
        aws_region: key.region.clone(),
        availability_zone: None,
        resource_creation_time: None,
        tags: BTreeMap::new(),
        related_events: Vec::new(),
        relationships: Vec::new(),
        configuration: Value::Null,
        supplementary_configuration: BTreeMap::new(),
        recording_frequency: None,
        configuration_item_delivery_time: None,
        meta: None,
    }
}
