//! Ready-made typed views of AWS Config configurations.
//!
//! Each view names only the fields rules read; everything else in the JSON is skipped without
//! being built into a value. Strings are [`Text`](crate::json::Text): borrowed from the item's
//! JSON when they have no escapes. Views are lenient where AWS Config is inconsistent (ports as
//! numbers or strings, CIDRs as strings or objects, booleans as strings, null lists).
//!
//! * [`ec2::SecurityGroup`], [`ec2::Instance`]: `item.configuration()`.
//! * [`s3::Bucket`] (`item.configuration()`) and the bucket's supplementary values
//!   ([`s3::AccessControlList`], [`s3::BucketPolicy`], [`s3::PublicAccessBlock`],
//!   [`s3::ServerSideEncryption`], [`s3::BucketVersioning`]): `item.supplementary_view()`.
//! * [`iam::IamUser`], with [`iam::mfa_evidence`].
//! * [`Tags`]: the `tags` list inside a configuration (EC2 style `[{key, value}]`).
//!
//! **Absent is not empty.** A field a rule judges by that is missing from the JSON means the
//! item cannot show it (typically an item not in AWS Config's shape, such as EC2 API output with
//! PascalCase keys), not that it is empty: the views' accessors then return `Err` naming the
//! field (see [`absent`]), which the host records as an evaluation error, never as a verdict.
//! Present and empty (`[]`, and `null`, which AWS Config writes for empty lists) is an answer.
//! Fields that AWS Config itself leaves out when a feature is off (an S3 bucket's
//! `PublicAccessBlockConfiguration` or `ServerSideEncryptionConfiguration`, MFA devices of IAM
//! users) keep their meaning "not configured" / "unknown".

pub mod ec2;
pub mod iam;
pub mod s3;

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use crate::json::Text;

/// A view of one supplementary configuration value, naming its key.
pub trait Supplementary {
    /// The key in `supplementaryConfiguration`, e.g. `"BucketPolicy"`.
    const KEY: &'static str;
    /// Whether AWS Config records the key on every item of the type, so that its absence means
    /// the item cannot show it ([`Item::supplementary_view`](crate::Item::supplementary_view)
    /// returns `Err`) rather than "not configured" (`Ok(None)`).
    const ALWAYS_RECORDED: bool = false;
}

/// The error for a configuration field a rule needs that the item does not have, e.g.
/// `configuration.ipPermissions is absent (is the item in AWS Config's shape? keys are
/// camelCase; found IpPermissions: …)`. `found` is the key the object has instead, if any
/// (see [`other_spelling`]).
pub fn absent(path: &str, found: Option<&str>) -> String {
    let mut message =
        format!("{path} is absent (is the item in AWS Config's shape? keys are camelCase");
    if let Some(found) = found {
        message.push_str(&found_instead(path, found));
    }
    message.push(')');
    message
}

/// The error for a supplementary value that AWS Config records on every item of the type but
/// that the item does not have.
pub(crate) fn supplementary_absent(key: &str, found: Option<&str>) -> String {
    let path = format!("supplementaryConfiguration.{key}");
    let mut message = format!(
        "{path} is absent (is the item in AWS Config's shape? AWS Config records {key} for every item of this resource type"
    );
    if let Some(found) = found {
        message.push_str(&found_instead(&path, found));
    }
    message.push(')');
    message
}

/// `; found IpPermissions: …` for the messages above.
fn found_instead(path: &str, found: &str) -> String {
    let name = path.rsplit('.').next().unwrap_or(path);
    let mut pascal = name.to_string();
    if let Some(first) = pascal.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    if found == pascal && found != name {
        format!("; found {found}: PascalCase, as the AWS APIs and CLI write it (e.g. describe-* output), not AWS Config's {name}")
    } else {
        format!("; found {found}: another spelling of {name}")
    }
}

/// The first top-level key of the JSON object `json` that spells `key` otherwise (other case,
/// `_` or `-`), e.g. `IpPermissions` for `ipPermissions`; `None` when there is none or the text
/// is not an object. For error messages: it reads the whole object.
pub fn other_spelling(json: &str, key: &str) -> Option<String> {
    let wanted = normalized(key);
    let mut found = None;
    let mut s = crate::scan::Scanner::new(json);
    s.object_while(|s, k| {
        let k = k.text();
        if k != key && normalized(&k) == wanted {
            found = Some(k.into_owned());
            return Ok(false);
        }
        s.skip_value().map(|_| true)
    })
    .ok()?;
    found
}

/// Lower case, without `_` and `-`.
pub(crate) fn normalized(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Whether a key was in the JSON, whatever its value (`null` included): marks the PascalCase
/// spelling of a field a view needs, for its error message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Seen(pub(crate) bool);

impl<'de> Deserialize<'de> for Seen {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Seen(true))
    }
}

/// Tags written inside a configuration: a list of `{key, value}` (or `{Key, Value}`) or a map.
/// With `#[serde(default)]` a missing `tags` reads as no tags; when a rule judges by them, use
/// `Option<Tags>` (`None`: absent) or the item's own tags ([`Item::recorded_tags`](crate::Item::recorded_tags)).
///
/// ```ignore
/// #[derive(serde::Deserialize)]
/// struct WithTags<'a> { #[serde(borrow)] tags: Option<Tags<'a>> }
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Tags<'a>(pub Vec<(Text<'a>, Text<'a>)>);

impl<'a> Tags<'a> {
    /// The value of a tag.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.as_str() == key)
            .map(|(_, v)| v.as_str())
    }
    /// The pairs.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Tags<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        struct Pair<'a> {
            #[serde(borrow, alias = "Key")]
            key: Option<Text<'a>>,
            #[serde(borrow, alias = "Value", default)]
            value: Option<Text<'a>>,
        }
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Tags<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a list of {key, value} or a map")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(p) = a.next_element::<Pair<'de>>()? {
                    if let Some(k) = p.key {
                        out.push((k, p.value.unwrap_or(Text(std::borrow::Cow::Borrowed("")))));
                    }
                }
                Ok(Tags(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<Text<'de>, Option<Text<'de>>>()? {
                    out.push((k, v.unwrap_or(Text(std::borrow::Cow::Borrowed("")))));
                }
                Ok(Tags(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Tags::default())
            }
        }
        d.deserialize_any(V)
    }
}

/// Skips a value of any shape (for hand-written visitors).
pub(crate) fn skip<'de, A: MapAccess<'de>>(a: &mut A) -> Result<(), A::Error> {
    a.next_value::<IgnoredAny>().map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_as_list_or_map() {
        let t: Tags =
            serde_json::from_str(r#"[{"key":"Name","value":"web"},{"Key":"env","Value":"prod"}]"#)
                .unwrap();
        assert_eq!(t.get("Name"), Some("web"));
        assert_eq!(t.get("env"), Some("prod"));
        let t: Tags = serde_json::from_str(r#"{"Name":"web","empty":null}"#).unwrap();
        assert_eq!(t.get("Name"), Some("web"));
        assert_eq!(t.get("empty"), Some(""));
        assert_eq!(t.get("missing"), None);
        let t: Tags = serde_json::from_str("null").unwrap();
        assert_eq!(t.iter().count(), 0);
    }
}
