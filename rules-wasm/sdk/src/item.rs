//! One recorded configuration version of a resource, with typed views of its JSON.

use std::cell::OnceCell;
use std::ops::Range;

use serde::Deserialize;
use serde_json::value::RawValue;

use crate::raw::{self, Relationship, ResourceIdentity};

/// One configuration item (a recorded version of a resource).
///
/// Typed views parse only what they name, straight from the JSON text (strings borrowed where
/// possible). The configuration and the supplementary values are also accepted when they arrive
/// as JSON *strings* holding JSON (the host decodes these already; the SDK copes anyway).
#[derive(Debug, Clone)]
pub struct Item {
    raw: raw::Item,
    /// Decoded configuration text when the raw one is a JSON string literal.
    configuration: OnceCell<Option<String>>,
    /// Index of the supplementary configuration: key → value text.
    supplementary: OnceCell<Result<Vec<(String, SupText)>, String>>,
}

#[derive(Debug, Clone)]
enum SupText {
    /// A slice of the raw supplementary text.
    Raw(Range<usize>),
    /// The value was JSON text inside a string; decoded.
    Decoded(String),
}

impl Item {
    /// Wraps the record the host passed.
    pub fn from_raw(raw: raw::Item) -> Item {
        Item {
            raw,
            configuration: OnceCell::new(),
            supplementary: OnceCell::new(),
        }
    }

    /// The record the host passed.
    pub fn raw(&self) -> &raw::Item {
        &self.raw
    }

    /// Unwraps the record.
    pub fn into_raw(self) -> raw::Item {
        self.raw
    }

    /// Account, region, type, id, name, ARN.
    pub fn identity(&self) -> &ResourceIdentity {
        &self.raw.identity
    }
    /// The account id.
    pub fn account_id(&self) -> &str {
        &self.raw.identity.account_id
    }
    /// The region (`global` for IAM).
    pub fn region(&self) -> &str {
        &self.raw.identity.region
    }
    /// e.g. `AWS::EC2::SecurityGroup`.
    pub fn resource_type(&self) -> &str {
        &self.raw.identity.resource_type
    }
    /// e.g. `sg-0123456789abcdef0`.
    pub fn resource_id(&self) -> &str {
        &self.raw.identity.resource_id
    }
    /// The resource name, when AWS records one.
    pub fn resource_name(&self) -> Option<&str> {
        self.raw.identity.resource_name.as_deref()
    }
    /// The ARN, when AWS records one.
    pub fn arn(&self) -> Option<&str> {
        self.raw.identity.arn.as_deref()
    }
    /// A name for annotations: the resource name if any, else the id.
    pub fn display_name(&self) -> &str {
        self.resource_name()
            .filter(|n| !n.is_empty())
            .unwrap_or(self.resource_id())
    }

    /// `configurationItemStatus`: OK, ResourceDiscovered, ResourceNotRecorded, ResourceDeleted
    /// or ResourceDeletedNotRecorded.
    pub fn status(&self) -> &str {
        &self.raw.status
    }
    /// Whether the resource is deleted (ResourceDeleted or ResourceDeletedNotRecorded).
    pub fn is_deleted(&self) -> bool {
        matches!(
            self.status(),
            "ResourceDeleted" | "ResourceDeletedNotRecorded"
        )
    }
    /// Whether the configuration is recorded (not ResourceNotRecorded nor
    /// ResourceDeletedNotRecorded).
    pub fn is_recorded(&self) -> bool {
        !matches!(
            self.status(),
            "ResourceNotRecorded" | "ResourceDeletedNotRecorded"
        )
    }
    /// `configurationItemCaptureTime`, RFC 3339 in UTC.
    pub fn capture_time(&self) -> &str {
        &self.raw.capture_time
    }

    /// The resource's tags (the configuration item's `tags`).
    pub fn tags(&self) -> &[(String, String)] {
        &self.raw.tags
    }
    /// The item's tags, or an error when it has none while its configuration lists some
    /// (`tags` or `Tags`, `[{key, value}]`): the item is then not in AWS Config's shape (which
    /// copies a resource's tags into the item's `tags`), and its tags cannot be judged.
    pub fn recorded_tags(&self) -> Result<&[(String, String)], String> {
        if !self.raw.tags.is_empty() || !self.has_configuration() {
            return Ok(&self.raw.tags);
        }
        #[derive(Deserialize)]
        struct Keyed {
            #[serde(default, alias = "Key")]
            key: Option<serde::de::IgnoredAny>,
        }
        for name in ["tags", "Tags"] {
            let Ok(Some(raw)) = crate::scan::find_key(self.configuration_json(), name) else {
                continue;
            };
            // Only a list of {key, value}: other types use `tags` for other things.
            let listed = serde_json::from_str::<Vec<Keyed>>(raw)
                .map(|tags| tags.iter().filter(|t| t.key.is_some()).count())
                .unwrap_or(0);
            if listed > 0 {
                return Err(format!(
                    "tags: the item has none, but configuration.{name} lists {listed} (is the item in AWS Config's shape? it records a resource's tags in the item's tags)"
                ));
            }
        }
        Ok(&self.raw.tags)
    }

    /// The value of one tag (keys are case-sensitive, as in AWS).
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.raw
            .tags
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }

    /// The item's relationships.
    pub fn relationships(&self) -> &[Relationship] {
        &self.raw.relationships
    }
    /// The relationships to resources of one type.
    pub fn related<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a Relationship> + 'a {
        self.raw
            .relationships
            .iter()
            .filter(move |r| r.resource_type == resource_type)
    }

    /// The configuration as JSON text (`null` when absent). A configuration delivered as a JSON
    /// string holding JSON is decoded.
    pub fn configuration_json(&self) -> &str {
        let decoded = self.configuration.get_or_init(|| {
            let raw = self.raw.configuration.as_str();
            if raw.trim_start().starts_with('"') {
                match crate::json::decode_json_text(raw) {
                    std::borrow::Cow::Owned(s) => Some(s),
                    std::borrow::Cow::Borrowed(_) => None,
                }
            } else {
                None
            }
        });
        decoded.as_deref().unwrap_or(&self.raw.configuration)
    }

    /// Whether there is a configuration (not `null` / empty).
    pub fn has_configuration(&self) -> bool {
        let t = self.configuration_json().trim();
        !(t.is_empty() || t == "null")
    }

    /// Deserializes the configuration into a typed view. Define views with only the fields you
    /// read (unknown fields are skipped) and borrow strings (`Cow<'a, str>` / `&'a str`) to
    /// avoid copies.
    ///
    /// ```ignore
    /// let sg: views::ec2::SecurityGroup = item.configuration()?;
    /// ```
    pub fn configuration<'a, T: Deserialize<'a>>(&'a self) -> Result<T, String> {
        if !self.has_configuration() {
            return Err(format!(
                "configuration: the item has none (status {}, {} {})",
                self.status(),
                self.resource_type(),
                self.resource_id()
            ));
        }
        serde_json::from_str(self.configuration_json()).map_err(|e| format!("configuration: {e}"))
    }

    /// The supplementary configuration as JSON text (`{}` when absent).
    pub fn supplementary_json(&self) -> &str {
        &self.raw.supplementary_configuration
    }

    /// The index of the supplementary configuration, built once.
    fn supplementary_index(&self) -> Result<&[(String, SupText)], String> {
        self.supplementary
            .get_or_init(|| index_supplementary(&self.raw.supplementary_configuration))
            .as_deref()
            .map_err(Clone::clone)
    }

    /// Whether the supplementary configuration has the key (with any value, `null` included).
    pub fn has_supplementary(&self, key: &str) -> Result<bool, String> {
        Ok(self.supplementary_index()?.iter().any(|(k, _)| k == key))
    }

    /// The JSON text of one supplementary value (decoded when it was JSON inside a string), or
    /// `None` when the key is absent or its value is null.
    pub fn supplementary_value_json(&self, key: &str) -> Result<Option<&str>, String> {
        let index = self.supplementary_index()?;
        let Some((_, text)) = index.iter().find(|(k, _)| k == key) else {
            return Ok(None);
        };
        let text = match text {
            SupText::Raw(r) => &self.raw.supplementary_configuration[r.clone()],
            SupText::Decoded(s) => s.as_str(),
        };
        Ok(if text.trim() == "null" {
            None
        } else {
            Some(text)
        })
    }

    /// Deserializes one supplementary value (e.g. `"BucketPolicy"`) into a typed view;
    /// `Ok(None)` when the key is absent or null.
    pub fn supplementary<'a, T: Deserialize<'a>>(&'a self, key: &str) -> Result<Option<T>, String> {
        match self.supplementary_value_json(key)? {
            None => Ok(None),
            Some(text) => serde_json::from_str(text)
                .map(Some)
                .map_err(|e| format!("supplementaryConfiguration.{key}: {e}")),
        }
    }

    /// Deserializes the supplementary value a view names with [`crate::views::Supplementary::KEY`]:
    /// `Ok(None)` when it is null, or absent and the view says absence means "not configured";
    /// an error naming the key when it is absent but AWS Config records it on every item
    /// ([`ALWAYS_RECORDED`](crate::views::Supplementary::ALWAYS_RECORDED)).
    ///
    /// ```ignore
    /// let acl: Option<AccessControlList> = item.supplementary_view()?;
    /// ```
    pub fn supplementary_view<'a, T: Deserialize<'a> + crate::views::Supplementary>(
        &'a self,
    ) -> Result<Option<T>, String> {
        let value = self.supplementary(T::KEY)?;
        if value.is_none() && T::ALWAYS_RECORDED && !self.has_supplementary(T::KEY)? {
            let wanted = crate::views::normalized(T::KEY);
            let found = self
                .supplementary_index()?
                .iter()
                .map(|(k, _)| k.as_str())
                .find(|k| crate::views::normalized(k) == wanted);
            return Err(crate::views::supplementary_absent(T::KEY, found));
        }
        Ok(value)
    }
}

/// Splits the supplementary object into key → value text, without building a JSON tree.
fn index_supplementary(text: &str) -> Result<Vec<(String, SupText)>, String> {
    let t = text.trim();
    if t.is_empty() || t == "{}" || t == "null" {
        return Ok(Vec::new());
    }
    let t = crate::json::decode_json_text(text);
    let owned;
    let (source, base): (&str, Option<&str>) = match &t {
        std::borrow::Cow::Borrowed(s) => (s, Some(text)),
        std::borrow::Cow::Owned(s) => {
            owned = s.clone();
            (owned.as_str(), None)
        }
    };
    let entries: Vec<(String, &RawValue)> = serde_json::from_str::<crate::json::RawEntries>(source)
        .map_err(|e| format!("supplementaryConfiguration: not a JSON object ({e})"))?
        .0;
    let mut out = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let v = value.get();
        let decoded = crate::json::decode_json_text(v);
        let entry = match (decoded, base) {
            (std::borrow::Cow::Borrowed(_), Some(base)) => {
                let start = v.as_ptr() as usize - base.as_ptr() as usize;
                SupText::Raw(start..start + v.len())
            }
            (d, _) => SupText::Decoded(d.into_owned()),
        };
        out.push((key, entry));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw;

    fn item(configuration: &str, supplementary: &str) -> Item {
        Item::from_raw(raw::Item {
            identity: raw::ResourceIdentity {
                account_id: "1".into(),
                region: "r".into(),
                resource_type: "AWS::S3::Bucket".into(),
                resource_id: "b".into(),
                resource_name: None,
                arn: None,
            },
            status: "OK".into(),
            capture_time: String::new(),
            tags: vec![("k".into(), "v".into())],
            relationships: Vec::new(),
            configuration: configuration.into(),
            supplementary_configuration: supplementary.into(),
        })
    }

    #[test]
    fn supplementary_values_in_every_encoding() {
        let acl = r#"{"grantList":[{"grantee":"AllUsers","permission":"Read"}]}"#;
        let once = serde_json::to_string(acl).unwrap();
        let twice = serde_json::to_string(&once).unwrap();
        let sup = format!(
            r#"{{"Plain":{acl},"Once":{once},"Twice":{twice},"Word":"Enabled","Flag":"false","Null":null}}"#
        );
        let it = item("{}", &sup);
        for key in ["Plain", "Once", "Twice"] {
            assert_eq!(
                it.supplementary_value_json(key).unwrap(),
                Some(acl),
                "{key}"
            );
        }
        assert_eq!(
            it.supplementary_value_json("Word").unwrap(),
            Some(r#""Enabled""#)
        );
        assert_eq!(it.supplementary::<bool>("Flag").unwrap(), Some(false));
        assert_eq!(it.supplementary_value_json("Null").unwrap(), None);
        assert_eq!(it.supplementary_value_json("Missing").unwrap(), None);
        let acl: crate::views::s3::AccessControlList = it.supplementary("Twice").unwrap().unwrap();
        assert!(acl.public_grant(crate::policy::Access::Read).is_some());
        // the whole supplementary object given as JSON text
        let it = item("{}", &serde_json::to_string(&sup).unwrap());
        assert_eq!(
            it.supplementary_value_json("Twice").unwrap(),
            Some(acl_text())
        );
        assert!(item("{}", "[1]")
            .supplementary_value_json("x")
            .unwrap_err()
            .starts_with("supplementaryConfiguration: not a JSON object"));
    }

    fn acl_text() -> &'static str {
        r#"{"grantList":[{"grantee":"AllUsers","permission":"Read"}]}"#
    }

    #[test]
    fn configuration_as_object_string_or_null() {
        #[derive(serde::Deserialize, Debug)]
        struct C<'a> {
            #[serde(borrow)]
            name: crate::json::Text<'a>,
        }
        let it = item(r#"{"name":"b"}"#, "{}");
        assert_eq!(it.configuration::<C>().unwrap().name, "b");
        assert!(matches!(
            it.configuration::<C>().unwrap().name.0,
            std::borrow::Cow::Borrowed(_)
        ));
        let it = item(r#""{\"name\":\"c\"}""#, "{}");
        assert_eq!(it.configuration_json(), r#"{"name":"c"}"#);
        assert_eq!(it.configuration::<C>().unwrap().name, "c");
        let it = item("null", "{}");
        assert!(!it.has_configuration());
        assert!(it
            .configuration::<C>()
            .unwrap_err()
            .starts_with("configuration: the item has none"));
        assert!(item("{}", "{}")
            .configuration::<C>()
            .unwrap_err()
            .starts_with("configuration: missing field"));
    }

    #[test]
    fn identity_and_tags() {
        let it = item("{}", "{}");
        assert_eq!(
            (
                it.account_id(),
                it.region(),
                it.resource_id(),
                it.display_name()
            ),
            ("1", "r", "b", "b")
        );
        assert_eq!(it.tag("k"), Some("v"));
        assert_eq!(it.tag("K"), None);
        assert!(!it.is_deleted() && it.is_recorded());
    }
}
