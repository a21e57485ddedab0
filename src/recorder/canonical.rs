//! Canonical JSON (object keys sorted, no whitespace) and the content hash built on it.

use crate::model::ConfigurationItem;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Writes `value` as canonical JSON: keys sorted bytewise at every level, no whitespace.
pub fn write_canonical<W: Write>(value: &Value, out: &mut W) -> io::Result<()> {
    match value {
        Value::Object(map) => {
            // serde_json's map may keep insertion order (a feature another crate can switch on);
            // its default map iterates sorted already, so sort only when needed.
            if map.keys().is_sorted_by(|a, b| a.as_bytes() <= b.as_bytes()) {
                write_object(map.iter(), out)
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                write_object(entries.into_iter(), out)
            }
        }
        Value::Array(items) => {
            out.write_all(b"[")?;
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                write_canonical(v, out)?;
            }
            out.write_all(b"]")
        }
        scalar => serde_json::to_writer(&mut *out, scalar).map_err(io::Error::from),
    }
}

/// Writes `{"key":value,…}` from entries already in canonical order.
fn write_object<'a, W: Write>(
    entries: impl Iterator<Item = (&'a String, &'a Value)>,
    out: &mut W,
) -> io::Result<()> {
    out.write_all(b"{")?;
    for (i, (k, v)) in entries.enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        serde_json::to_writer(&mut *out, k)?;
        out.write_all(b":")?;
        write_canonical(v, out)?;
    }
    out.write_all(b"}")
}

/// Canonical JSON text of a value.
pub fn canonical_string(value: &Value) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_canonical(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

/// SHA-256 over what makes a version different from another: status, tags, relationships,
/// configuration and supplementary configuration. Capture time and AWS's ids are left out.
pub fn content_hash(item: &ConfigurationItem) -> [u8; 32] {
    // One buffer hashed at once is faster than many small hasher updates.
    let mut buf = Vec::with_capacity(2048);
    // Writing into a Vec never fails.
    let _ = write_hashed_content(item, &mut buf);
    Sha256::digest(&buf).into()
}

/// The hashed content as one canonical JSON object.
fn write_hashed_content<W: Write>(item: &ConfigurationItem, w: &mut W) -> io::Result<()> {
    // Keys in sorted order, as write_canonical would put them.
    w.write_all(b"{\"configuration\":")?;
    write_canonical(&item.configuration, w)?;
    w.write_all(b",\"configurationItemStatus\":")?;
    serde_json::to_writer(&mut *w, item.configuration_item_status.as_str())?;
    w.write_all(b",\"relationships\":")?;
    // Relationship is a flat struct whose fields serialize in a fixed order.
    serde_json::to_writer(&mut *w, &item.relationships)?;
    w.write_all(b",\"supplementaryConfiguration\":")?;
    write_object(item.supplementary_configuration.iter(), w)?;
    w.write_all(b",\"tags\":")?;
    serde_json::to_writer(&mut *w, &item.tags)?;
    w.write_all(b"}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn content_hash_is_stable() {
        // Stored hashes are compared with new ones: this pins the definition across releases.
        let item: ConfigurationItem = serde_json::from_value(json!({
            "configurationItemVersion": "1.3", "awsAccountId": "1", "configurationItemCaptureTime": "2024-01-01T00:00:00.000Z",
            "configurationItemStatus": "OK", "configurationStateId": null, "configurationStateMd5Hash": null, "ARN": null,
            "resourceType": "AWS::EC2::SecurityGroup", "resourceId": "sg-1", "resourceName": null, "awsRegion": "r",
            "availabilityZone": null, "resourceCreationTime": null, "tags": {"b": "2", "a": "1"}, "relatedEvents": [],
            "relationships": [{"resourceType": "AWS::EC2::VPC", "resourceId": "vpc-1", "resourceName": null, "name": "Is contained in Vpc"}],
            "configuration": {"z": [1, {"y": true, "x": null}], "a": "s"},
            "supplementaryConfiguration": {"S": {"b": 1, "a": 2}}
        }))
        .expect("item");
        let mut text = Vec::new();
        write_hashed_content(&item, &mut text).expect("write");
        assert_eq!(
            String::from_utf8(text).expect("utf8"),
            r#"{"configuration":{"a":"s","z":[1,{"x":null,"y":true}]},"configurationItemStatus":"OK","relationships":[{"resourceType":"AWS::EC2::VPC","resourceId":"vpc-1","resourceName":null,"name":"Is contained in Vpc"}],"supplementaryConfiguration":{"S":{"a":2,"b":1}},"tags":{"a":"1","b":"2"}}"#
        );
        assert_eq!(crate::model::hash_hex(&[0x00, 0xab, 0xff]), "00abff");
    }

    #[test]
    fn canonical_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [3, {"z": 1, "y": 2}], "c": "x"}});
        assert_eq!(
            canonical_string(&v),
            r#"{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}"#
        );
    }
}
