//! One observed configuration of one resource, in AWS Config's stream spelling.

use super::{format_time, ResourceKey, Timestamp};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use std::collections::BTreeMap;
use std::fmt;

/// `configurationItemStatus` values. Unknown future values are kept as they are.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ItemStatus {
    /// The resource exists and was recorded.
    Ok,
    /// The resource was seen for the first time.
    ResourceDiscovered,
    /// The resource exists but its type is not recorded.
    ResourceNotRecorded,
    /// The resource was deleted.
    ResourceDeleted,
    /// The resource was deleted and its type is not recorded.
    ResourceDeletedNotRecorded,
    /// A status ingest no longer accepts, read from a store written before it checked.
    Other(String),
}

impl ItemStatus {
    /// The AWS spelling.
    pub fn as_str(&self) -> &str {
        match self {
            ItemStatus::Ok => "OK",
            ItemStatus::ResourceDiscovered => "ResourceDiscovered",
            ItemStatus::ResourceNotRecorded => "ResourceNotRecorded",
            ItemStatus::ResourceDeleted => "ResourceDeleted",
            ItemStatus::ResourceDeletedNotRecorded => "ResourceDeletedNotRecorded",
            ItemStatus::Other(s) => s,
        }
    }

    /// Whether this status records the resource's deletion.
    pub fn is_deletion(&self) -> bool {
        matches!(
            self,
            ItemStatus::ResourceDeleted | ItemStatus::ResourceDeletedNotRecorded
        )
    }
}

impl ItemStatus {
    /// The statuses AWS Config writes, in its spelling.
    pub const KNOWN: [&'static str; 5] = [
        "OK",
        "ResourceDiscovered",
        "ResourceNotRecorded",
        "ResourceDeleted",
        "ResourceDeletedNotRecorded",
    ];

    /// One of the statuses AWS Config writes (`OK` in any case), or none.
    pub fn parse(s: &str) -> Option<ItemStatus> {
        match s {
            "OK" | "Ok" | "ok" => Some(ItemStatus::Ok),
            "ResourceDiscovered" => Some(ItemStatus::ResourceDiscovered),
            "ResourceNotRecorded" => Some(ItemStatus::ResourceNotRecorded),
            "ResourceDeleted" => Some(ItemStatus::ResourceDeleted),
            "ResourceDeletedNotRecorded" => Some(ItemStatus::ResourceDeletedNotRecorded),
            _ => None,
        }
    }
}

/// Reading a stored status: one ingest now refuses is kept as it was stored.
impl From<&str> for ItemStatus {
    fn from(s: &str) -> Self {
        ItemStatus::parse(s).unwrap_or_else(|| ItemStatus::Other(s.to_string()))
    }
}

impl fmt::Display for ItemStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for ItemStatus {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// Documented as text: the known statuses and any other the source sends.
impl utoipa::PartialSchema for ItemStatus {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        <String as utoipa::PartialSchema>::schema()
    }
}

impl utoipa::ToSchema for ItemStatus {}

impl<'de> Deserialize<'de> for ItemStatus {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Ok(ItemStatus::from(s.as_str()))
    }
}

/// A link from one resource to another (`Is contained in Vpc`, `Is attached to Instance`, …).
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "camelCase")]
pub struct Relationship {
    /// Type of the related resource.
    pub resource_type: String,
    /// Id of the related resource (absent for some relationships AWS reports by name only).
    pub resource_id: Option<String>,
    /// Name of the related resource, when AWS gives one.
    pub resource_name: Option<String>,
    /// The relationship, e.g. `Is contained in Vpc` (`relationshipName` in the API spelling).
    pub name: String,
}

/// Lowercase hex of a content hash, as [`VersionMeta::content_hash`] shows it.
pub fn hash_hex(bytes: &[u8]) -> String {
    hex::encode(bytes)
}

/// What conftrail adds to a stored item: its version number, content hash and arrival time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VersionMeta {
    /// Version number: 1 for the first version conftrail recorded, then in order of arrival.
    pub version: u64,
    /// SHA-256 (hex) of the canonical status, tags, relationships, configuration and supplementary configuration.
    pub content_hash: String,
    /// When conftrail recorded this version (or last moved it to an earlier sighting).
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub recorded_at: Timestamp,
}

/// A configuration item with every field AWS Config defines, in the stream spelling.
///
/// `configuration` and `supplementaryConfiguration` values are always decoded JSON, never the
/// JSON strings some inputs carry. `conftrail` is set on items read back from the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationItem {
    /// `configurationItemVersion` (`1.2`, `1.3`), when the source says.
    #[serde(rename = "configurationItemVersion")]
    pub item_version: Option<String>,
    /// Account id (`awsAccountId`).
    #[serde(rename = "awsAccountId")]
    pub account_id: String,
    /// When AWS (or the source) captured this configuration.
    #[serde(with = "time_serde")]
    #[schema(value_type = String, format = DateTime)]
    pub configuration_item_capture_time: Timestamp,
    /// Status: OK, ResourceDiscovered, ResourceDeleted, …
    pub configuration_item_status: ItemStatus,
    /// AWS's own increasing state id: epoch milliseconds as a number, or the source's text
    /// when it is not a number.
    pub configuration_state_id: Option<Value>,
    /// MD5 of the state (empty since item version 1.3).
    #[serde(rename = "configurationStateMd5Hash")]
    pub md5_hash: Option<String>,
    /// ARN of the resource.
    #[serde(rename = "ARN")]
    pub arn: Option<String>,
    /// Resource type, e.g. `AWS::S3::Bucket`.
    pub resource_type: String,
    /// Resource id.
    pub resource_id: String,
    /// Resource name, when it has one.
    pub resource_name: Option<String>,
    /// Region (`awsRegion`).
    pub aws_region: String,
    /// Availability zone (`Not Applicable`, `Regional`, `us-east-1a`, …).
    pub availability_zone: Option<String>,
    /// When the resource was created.
    #[serde(with = "opt_time_serde")]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub resource_creation_time: Option<Timestamp>,
    /// Tags as a map.
    pub tags: BTreeMap<String, String>,
    /// CloudTrail event ids AWS linked to this item (empty since 1.3).
    pub related_events: Vec<String>,
    /// Relationships to other resources, in a canonical order.
    pub relationships: Vec<Relationship>,
    /// The configuration document; `null` for a deleted resource.
    pub configuration: Value,
    /// Supplementary configuration, each value decoded.
    pub supplementary_configuration: BTreeMap<String, Value>,
    /// `CONTINUOUS` or `DAILY`, on newer items.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub recording_frequency: Option<String>,
    /// When AWS delivered the item, on newer items.
    #[serde(
        with = "opt_time_serde",
        skip_serializing_if = "Option::is_none",
        default
    )]
    #[schema(value_type = Option<String>, format = DateTime)]
    pub configuration_item_delivery_time: Option<Timestamp>,
    /// conftrail's version number, content hash and arrival time (only on stored items).
    #[serde(rename = "conftrail", skip_serializing_if = "Option::is_none", default)]
    pub meta: Option<VersionMeta>,
}

impl ConfigurationItem {
    /// The identity of the resource this item describes.
    pub fn key(&self) -> ResourceKey {
        ResourceKey::new(
            self.account_id.clone(),
            self.aws_region.clone(),
            self.resource_type.clone(),
            self.resource_id.clone(),
        )
    }

    /// The stored version number, if this item came from the store.
    pub fn version_number(&self) -> Option<u64> {
        self.meta.as_ref().map(|m| m.version)
    }
}

/// Serde for timestamps as `2024-05-02T14:03:12.000Z`.
pub mod time_serde {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_time(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Timestamp, D::Error> {
        let s = String::deserialize(d)?;
        crate::model::timestamp::parse_timestamp_text(&s)
            .ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {s:?}")))
    }
}

/// Serde for optional timestamps.
pub mod opt_time_serde {
    use super::*;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format_time(t)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        let s = Option::<String>::deserialize(d)?;
        match s {
            None => Ok(None),
            Some(s) => crate::model::timestamp::parse_timestamp_text(&s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid timestamp {s:?}"))),
        }
    }
}
