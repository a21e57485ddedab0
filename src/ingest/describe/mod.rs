//! AWS API describe, list and get output → configuration items in AWS Config's own shape.
//!
//! Parsing only, like the rest of `ingest`: the same mapping reads describe output files at
//! ingest and serves a collector that describes resources itself. Each described resource
//! becomes an item in the stream spelling, item version 1.3, with `configuration` spelled as
//! AWS Config spells it, so a rule judges it as it judges AWS Config's item for the same
//! resource; the item then passes the checks every other item passes.
//!
//! Supported so far: EC2 `DescribeSecurityGroups` ([`ec2`]); S3 buckets, from the answers of
//! S3's per-bucket calls, and the account's Block Public Access settings ([`s3`]).

pub mod deleted;
pub mod ec2;
pub mod s3;

use super::json_type::type_name;
use crate::model::{parse_timestamp_text, ConfigurationItem, Timestamp};
use serde_json::{Map, Value};

/// The configuration item version the mapping writes (AWS Config's current one).
pub const ITEM_VERSION: &str = "1.3";

/// A configuration item mapped from describe output, with notes on what had to be left out.
#[derive(Debug, Clone)]
pub struct DescribedItem {
    /// The item.
    pub item: ConfigurationItem,
    /// What the output does not say and the item leaves empty (the region, say).
    pub warnings: Vec<String>,
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
}

/// One tag `{Key, Value}`; a missing value reads as empty, as AWS shows it.
fn tag(mut t: Fields) -> Result<(String, String), DescribeError> {
    let key = t.required_text("Key")?;
    Ok((key, t.text("Value")?.unwrap_or_default()))
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
