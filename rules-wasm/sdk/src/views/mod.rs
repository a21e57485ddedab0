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
}

/// Tags written inside a configuration: a list of `{key, value}` (or `{Key, Value}`) or a map.
///
/// ```ignore
/// #[derive(serde::Deserialize)]
/// struct WithTags<'a> { #[serde(borrow, default)] tags: Tags<'a> }
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
