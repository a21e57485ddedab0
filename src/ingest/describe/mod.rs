//! AWS API describe, list and get output → configuration items in AWS Config's own shape.
//!
//! Parsing only, like the rest of `ingest`: the same mapping reads describe output files at
//! ingest and serves a collector that describes resources itself. Each described resource
//! becomes an item in the stream spelling, item version 1.3, with `configuration` spelled as
//! AWS Config spells it, so a rule judges it as it judges AWS Config's item for the same
//! resource; the item then passes the checks every other item passes.
//!
//! Supported so far: EC2 `DescribeSecurityGroups` ([`ec2`]), `DescribeInstances`
//! ([`ec2_instance`]), `DescribeVpcs` and `DescribeSubnets` ([`ec2_network`]); S3 buckets,
//! from the answers of S3's per-bucket calls, and the account's Block Public Access settings
//! ([`s3`]); IAM users, roles and customer managed policies from `get-account-authorization-details`
//! output or the collector's IAM calls ([`iam`]); CloudTrail trails ([`cloudtrail`]).

pub mod cloudtrail;
pub mod deleted;
pub mod ec2;
pub mod ec2_instance;
pub mod ec2_network;
pub mod iam;
pub mod s3;

use super::config_item::{arn_part, parse_item, region_of_zone};
use super::json_type::type_name;
use crate::model::{
    format_time, looks_like_region, parse_timestamp_text, ConfigurationItem, Timestamp,
};
use serde_json::{json, Map, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The configuration item version the mapping writes (AWS Config's current one).
pub const ITEM_VERSION: &str = "1.3";

/// AWS Config's name for a resource's link to the VPC it is in.
const IN_VPC: &str = "Is contained in Vpc";

/// The resource type of VPCs, also the type of the VPC a resource is contained in.
const VPC_TYPE: &str = "AWS::EC2::VPC";

/// A configuration item mapped from describe output, with notes on what had to be left out.
#[derive(Debug, Clone)]
pub struct DescribedItem {
    /// The item.
    pub item: ConfigurationItem,
    /// What the output does not say and the item leaves empty (the region, say).
    pub warnings: Vec<String>,
}

impl DescribedItem {
    /// The item as a parsed record to ingest, located by its resource id.
    pub fn into_record(self) -> super::ParsedRecord {
        super::ParsedRecord {
            location: self.item.resource_id.clone(),
            outcome: super::RecordOutcome::Item(Box::new(self.item)),
            warnings: self.warnings,
        }
    }
}

/// Why a described resource could not become a configuration item.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DescribeError {
    /// The resource is not a JSON object.
    #[error("expected {what} (an object), found {found}")]
    NotAnObject {
        /// What was expected (`a security group`).
        what: &'static str,
        /// The JSON type found.
        found: &'static str,
    },
    /// A required field is absent or null.
    #[error("missing {0}")]
    Missing(String),
    /// A required text field is empty.
    #[error("{0}: empty")]
    Empty(String),
    /// A field has the wrong JSON type.
    #[error("{field}: expected {expected}, found {found}")]
    WrongType {
        /// Its path in the resource (`IpPermissions[0].FromPort`).
        field: String,
        /// The type wanted.
        expected: &'static str,
        /// The type found.
        found: &'static str,
    },
    /// A text field has the right type but cannot be read (a time that is not one).
    #[error("{field}: expected {expected}, found {found:?}")]
    Unreadable {
        /// Its path in the resource (`LaunchTime`).
        field: String,
        /// What was wanted.
        expected: &'static str,
        /// The text found, cut to [`SHOWN_TEXT`] characters.
        found: String,
    },
    /// The item built from it failed the checks every configuration item passes.
    #[error("{0}")]
    Item(String),
}

/// How much of an unreadable text an error shows.
const SHOWN_TEXT: usize = 40;

/// How a member of describe output is written into `configuration`: AWS Config writes what EC2
/// returns, keys in camelCase, times in its own form.
#[derive(Debug, Clone, Copy)]
enum Kind {
    /// A string, as it is.
    Text,
    /// An integer.
    Integer,
    /// A boolean.
    Boolean,
    /// A time (ISO 8601, as the CLI prints it), written as AWS Config writes times
    /// (`2017-04-05T22:15:53.000Z`).
    Time,
    /// An object with these members.
    Object(&'static [Member]),
    /// A list of objects with these members, left out when EC2 leaves it out.
    Objects(&'static [Member]),
    /// A list of objects with these members that AWS Config writes on every item: written
    /// empty when EC2 leaves it out (EC2 leaves out lists it has nothing in, `Tags` say).
    ObjectsOrEmpty(&'static [Member]),
}

/// A member of describe output that AWS Config shows: its name in the output and its kind.
/// Members not listed are not copied.
type Member = (&'static str, Kind);

/// One JSON object of describe output, read field by field; errors name the field by its path
/// in the described resource.
struct Fields {
    obj: Map<String, Value>,
    /// Path of the object itself: empty for the resource, `IpPermissions[0]` below it.
    path: String,
}

impl Fields {
    /// The object at `path`, or why `value` is not one.
    fn of(value: Value, path: String) -> Result<Fields, DescribeError> {
        match value {
            Value::Object(obj) => Ok(Fields { obj, path }),
            other => Err(DescribeError::WrongType {
                field: path,
                expected: "an object",
                found: type_name(&other),
            }),
        }
    }

    /// The described resource itself, or [`DescribeError::NotAnObject`] naming `what` it should
    /// be.
    fn resource(value: Value, what: &'static str) -> Result<Fields, DescribeError> {
        match value {
            Value::Object(obj) => Ok(Fields {
                obj,
                path: String::new(),
            }),
            other => Err(DescribeError::NotAnObject {
                what,
                found: type_name(&other),
            }),
        }
    }

    /// The path of one of its fields.
    fn path(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// Removes a field; null counts as absent (SDKs write absent members as null).
    fn take(&mut self, key: &str) -> Option<Value> {
        self.obj.remove(key).filter(|v| !v.is_null())
    }

    fn wrong(&self, key: &str, expected: &'static str, found: &Value) -> DescribeError {
        DescribeError::WrongType {
            field: self.path(key),
            expected,
            found: type_name(found),
        }
    }

    /// An optional text field.
    fn text(&mut self, key: &str) -> Result<Option<String>, DescribeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(self.wrong(key, "a string", &other)),
        }
    }

    /// A text field that must be there and not be empty.
    fn required_text(&mut self, key: &str) -> Result<String, DescribeError> {
        match self.text(key)? {
            Some(s) if !s.is_empty() => Ok(s),
            Some(_) => Err(DescribeError::Empty(self.path(key))),
            None => Err(DescribeError::Missing(self.path(key))),
        }
    }

    /// An optional object field, to read in turn; its fields' paths start with its own.
    fn object(&mut self, key: &str) -> Result<Option<Fields>, DescribeError> {
        match self.take(key) {
            None => Ok(None),
            Some(value) => Fields::of(value, self.path(key)).map(Some),
        }
    }

    /// An object field that must be there.
    fn required_object(&mut self, key: &str) -> Result<Fields, DescribeError> {
        self.object(key)?
            .ok_or_else(|| DescribeError::Missing(self.path(key)))
    }

    /// [`DescribeError::Unreadable`] for a text field that holds `found`.
    fn unreadable(&self, key: &str, expected: &'static str, found: &str) -> DescribeError {
        DescribeError::Unreadable {
            field: self.path(key),
            expected,
            found: found.chars().take(SHOWN_TEXT).collect(),
        }
    }

    /// An optional integer field (ports, ICMP types and codes).
    fn integer(&mut self, key: &str) -> Result<Option<i64>, DescribeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Number(n)) if n.is_i64() => Ok(n.as_i64()),
            Some(other) => Err(self.wrong(key, "an integer", &other)),
        }
    }

    /// An optional boolean field.
    fn boolean(&mut self, key: &str) -> Result<Option<bool>, DescribeError> {
        match self.take(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(b)),
            Some(other) => Err(self.wrong(key, "a boolean", &other)),
        }
    }

    /// An optional time field: ISO 8601 text (`2017-04-05T22:15:53+00:00` from the CLI, or
    /// `2017-04-05 22:15:53+00:00` from Python's `str`).
    fn time(&mut self, key: &str) -> Result<Option<Timestamp>, DescribeError> {
        match self.text(key)? {
            None => Ok(None),
            Some(text) => match parse_timestamp_text(&text) {
                Some(t) => Ok(Some(t)),
                None => Err(DescribeError::Unreadable {
                    field: self.path(key),
                    expected: "an ISO 8601 time",
                    found: text.chars().take(SHOWN_TEXT).collect(),
                }),
            },
        }
    }

    /// An optional list field, empty when absent; each element with its path.
    fn list(&mut self, key: &str) -> Result<Vec<(String, Value)>, DescribeError> {
        match self.take(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => {
                let path = self.path(key);
                Ok(items
                    .into_iter()
                    .enumerate()
                    .map(|(i, v)| (format!("{path}[{i}]"), v))
                    .collect())
            }
            Some(other) => Err(self.wrong(key, "an array", &other)),
        }
    }

    /// A list field that must be there (it may be empty); each element with its path.
    fn required_list(&mut self, key: &str) -> Result<Vec<(String, Value)>, DescribeError> {
        if self.obj.get(key).is_none_or(Value::is_null) {
            return Err(DescribeError::Missing(self.path(key)));
        }
        self.list(key)
    }

    /// A list of objects that must be there (it may be empty), each read by `read`.
    fn required_objects<T>(
        &mut self,
        key: &str,
        mut read: impl FnMut(Fields) -> Result<T, DescribeError>,
    ) -> Result<Vec<T>, DescribeError> {
        self.required_list(key)?
            .into_iter()
            .map(|(path, v)| read(Fields::of(v, path)?))
            .collect()
    }

    /// A list of objects, each read by `read`.
    fn objects<T>(
        &mut self,
        key: &str,
        mut read: impl FnMut(Fields) -> Result<T, DescribeError>,
    ) -> Result<Vec<T>, DescribeError> {
        self.list(key)?
            .into_iter()
            .map(|(path, v)| read(Fields::of(v, path)?))
            .collect()
    }

    /// Copies `members` into `out` as AWS Config writes them (see [`Kind`]); members EC2
    /// leaves out (or writes null) stay out, and members not listed are not copied.
    fn copy(
        &mut self,
        members: &[Member],
        out: &mut Map<String, Value>,
    ) -> Result<(), DescribeError> {
        for &(key, kind) in members {
            let value = match kind {
                Kind::Text => self.text(key)?.map(Value::from),
                Kind::Integer => self.integer(key)?.map(Value::from),
                Kind::Boolean => self.boolean(key)?.map(Value::from),
                Kind::Time => self.time(key)?.map(|t| Value::from(format_time(&t))),
                Kind::Object(inner) => match self.take(key) {
                    None => None,
                    Some(value) => Some(Fields::of(value, self.path(key))?.copied(inner)?),
                },
                Kind::Objects(inner) | Kind::ObjectsOrEmpty(inner) => {
                    let present = self.obj.get(key).is_some_and(|v| !v.is_null());
                    let list = self.objects(key, |f| f.copied(inner))?;
                    (present || matches!(kind, Kind::ObjectsOrEmpty(_))).then(|| list.into())
                }
            };
            if let Some(value) = value {
                out.insert(camel(key), value);
            }
        }
        Ok(())
    }

    /// The object with `members` copied as AWS Config writes them.
    fn copied(mut self, members: &[Member]) -> Result<Value, DescribeError> {
        let mut out = Map::new();
        self.copy(members, &mut out)?;
        Ok(Value::Object(out))
    }
}

/// One tag `{Key, Value}`; a missing value reads as empty, as AWS shows it.
fn tag(mut t: Fields) -> Result<(String, String), DescribeError> {
    let key = t.required_text("Key")?;
    Ok((key, t.text("Value")?.unwrap_or_default()))
}

/// `CidrIpv6` → `cidrIpv6`: EC2's member names with the first letter lowered, as AWS Config
/// writes them.
fn camel(key: &str) -> String {
    let mut chars = key.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// What a mapping knows of a described resource, for [`item`] to make AWS Config's item of.
struct Described {
    resource_type: &'static str,
    resource_id: String,
    resource_name: Option<String>,
    account_id: String,
    /// The ARN's resource part (`security-group/sg-…`).
    arn_resource: String,
    /// The resource's own ARN, when the output gives it (`SecurityGroupArn`, `SubnetArn`).
    own_arn: Option<String>,
    /// The region the caller says the output came from.
    region: Option<String>,
    /// `availabilityZone` as AWS Config writes it for the type (`Not Applicable`, the zone).
    availability_zone: Option<String>,
    /// `Tags` of the output, in order.
    tags: Vec<(String, String)>,
    /// (resource type, resource id, relationship name), as AWS Config names them.
    relationships: Vec<(&'static str, String, &'static str)>,
    /// `configuration` without `tags` (added from `tags`).
    configuration: Map<String, Value>,
}

/// AWS Config's configuration item (1.3, stream spelling) for a described resource.
///
/// The region is the caller's, else the one the output shows: the resource's own ARN, then its
/// availability zone. Without one, `awsRegion` is left empty, the ARN has no region, and a
/// warning says so. The ARN is the resource's own when it is in that region, else it is built
/// in the region's partition.
fn item(d: Described, captured_at: Timestamp) -> Result<DescribedItem, DescribeError> {
    let Described {
        resource_type,
        resource_id,
        resource_name,
        account_id,
        arn_resource,
        own_arn,
        region,
        availability_zone,
        tags,
        relationships,
        mut configuration,
    } = d;
    let mut warnings = Vec::new();
    let region = region
        .filter(|r| !r.is_empty())
        .or_else(|| arn_part(own_arn.as_deref(), 3).filter(|r| looks_like_region(r)))
        .or_else(|| region_of_zone(availability_zone.as_deref()));
    let arn = match (&region, own_arn) {
        // EC2's own ARN also names the partition.
        (Some(r), Some(arn)) if arn_part(Some(&arn), 3).as_ref() == Some(r) => arn,
        (Some(r), _) => format!("arn:{}:ec2:{r}:{account_id}:{arn_resource}", partition(r)),
        (None, _) => {
            warnings.push(
                "awsRegion: describe output does not say which region it came from; left \
                 empty, and the ARN has no region"
                    .to_string(),
            );
            format!("arn:aws:ec2::{account_id}:{arn_resource}")
        }
    };
    configuration.insert(
        "tags".into(),
        tags.iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect(),
    );
    // AWS Config names each related resource once.
    let relationships: BTreeSet<_> = relationships.into_iter().collect();
    let relationships: Vec<Value> = relationships
        .into_iter()
        .map(|(resource_type, id, name)| {
            json!({"resourceId": id, "resourceName": null, "resourceType": resource_type, "name": name})
        })
        .collect();
    finish_item(
        Envelope {
            status: "OK",
            resource_type,
            resource_id,
            resource_name,
            account_id,
            arn: Some(arn),
            region: region.unwrap_or_default(),
            availability_zone,
            creation_time: None,
            tags: tags.into_iter().collect(),
            relationships,
            configuration: configuration.into(),
            supplementary: Map::new(),
        },
        captured_at,
        warnings,
    )
}

/// The members of a configuration item every mapping fills in.
struct Envelope {
    /// `configurationItemStatus`.
    status: &'static str,
    resource_type: &'static str,
    resource_id: String,
    resource_name: Option<String>,
    account_id: String,
    arn: Option<String>,
    region: String,
    availability_zone: Option<String>,
    /// `resourceCreationTime`, as AWS Config writes times.
    creation_time: Option<String>,
    tags: BTreeMap<String, String>,
    relationships: Vec<Value>,
    configuration: Value,
    supplementary: Map<String, Value>,
}

/// AWS Config's item (1.3, stream spelling) with these members, through the checks every
/// configuration item passes; its warnings join `warnings`.
fn finish_item(
    e: Envelope,
    captured_at: Timestamp,
    mut warnings: Vec<String>,
) -> Result<DescribedItem, DescribeError> {
    let mut item = Map::new();
    let mut set = |key: &str, value: Value| item.insert(key.to_string(), value);
    set("configurationItemVersion", ITEM_VERSION.into());
    set(
        "configurationItemCaptureTime",
        format_time(&captured_at).into(),
    );
    set("configurationItemStatus", e.status.into());
    // Empty in every 1.3 item. The state id is AWS Config's own counter: there is none here.
    set("configurationStateMd5Hash", "".into());
    set("awsAccountId", e.account_id.into());
    if let Some(arn) = e.arn {
        set("ARN", arn.into());
    }
    set("resourceType", e.resource_type.into());
    set("resourceId", e.resource_id.into());
    if let Some(name) = e.resource_name {
        set("resourceName", name.into());
    }
    set("awsRegion", e.region.into());
    if let Some(zone) = e.availability_zone {
        set("availabilityZone", zone.into());
    }
    if let Some(created) = e.creation_time {
        set("resourceCreationTime", created.into());
    }
    set("tags", json!(e.tags));
    set("relatedEvents", json!([]));
    set("relationships", e.relationships.into());
    set("configuration", e.configuration);
    set("supplementaryConfiguration", e.supplementary.into());
    let parsed = parse_item(item).map_err(DescribeError::Item)?;
    warnings.extend(parsed.warnings);
    Ok(DescribedItem {
        item: parsed.item,
        warnings,
    })
}

/// The partition of a region's ARNs (`aws-cn` for `cn-north-1`, …).
fn partition(region: &str) -> &'static str {
    // The isolated partitions' prefixes, longest first so `us-isob-` is not read as `us-iso-`.
    const PREFIXES: [(&str, &str); 6] = [
        ("cn-", "aws-cn"),
        ("us-gov-", "aws-us-gov"),
        ("us-isob-", "aws-iso-b"),
        ("us-isof-", "aws-iso-f"),
        ("us-iso-", "aws-iso"),
        ("eu-isoe-", "aws-iso-e"),
    ];
    PREFIXES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map_or("aws", |(_, partition)| partition)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_follow_the_region() {
        assert_eq!(partition("us-east-1"), "aws");
        assert_eq!(partition("cn-northwest-1"), "aws-cn");
        assert_eq!(partition("us-gov-west-1"), "aws-us-gov");
        assert_eq!(partition("us-isob-east-1"), "aws-iso-b");
        assert_eq!(partition("us-iso-east-1"), "aws-iso");
    }
}
