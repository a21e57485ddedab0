//! Canonical JSON (object keys sorted, no whitespace) and the content hash built on it.

use crate::model::ConfigurationItem;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::io::{self, Write};

/// Writes `value` as canonical JSON: keys sorted bytewise at every level, no whitespace.
pub fn write_canonical<W: Write>(value: &Value, out: &mut W) -> io::Result<()> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // serde_json's map may keep insertion order (a feature another crate can switch on).
            entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
            out.write_all(b"{")?;
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.write_all(b",")?;
                }
                serde_json::to_writer(&mut *out, k)?;
                out.write_all(b":")?;
                write_canonical(v, out)?;
            }
            out.write_all(b"}")
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

/// Canonical JSON text of a value.
pub fn canonical_string(value: &Value) -> String {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_canonical(value, &mut out);
    String::from_utf8(out).unwrap_or_default()
}

struct HashWriter(Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// SHA-256 over what makes a version different from another: status, tags, relationships,
/// configuration and supplementary configuration. Capture time and AWS's ids are left out.
pub fn content_hash(item: &ConfigurationItem) -> [u8; 32] {
    let mut w = HashWriter(Sha256::new());
    // HashWriter never fails, so neither can this.
    let _ = write_hashed_content(item, &mut w);
    w.0.finalize().into()
}

/// The hashed content as one canonical JSON object.
fn write_hashed_content<W: Write>(item: &ConfigurationItem, w: &mut W) -> io::Result<()> {
    let to_value = |v: Result<Value, serde_json::Error>| v.map_err(io::Error::from);
    let status = Value::String(item.configuration_item_status.as_str().to_string());
    let relationships = to_value(serde_json::to_value(&item.relationships))?;
    let supplementary = to_value(serde_json::to_value(&item.supplementary_configuration))?;
    let tags = to_value(serde_json::to_value(&item.tags))?;
    let parts: [(&str, &Value); 5] = [
        ("configuration", &item.configuration),
        ("configurationItemStatus", &status),
        ("relationships", &relationships),
        ("supplementaryConfiguration", &supplementary),
        ("tags", &tags),
    ];
    w.write_all(b"{")?;
    for (i, (name, value)) in parts.iter().enumerate() {
        if i > 0 {
            w.write_all(b",")?;
        }
        write!(w, "\"{name}\":")?;
        write_canonical(value, w)?;
    }
    w.write_all(b"}")
}

/// Lowercase hex of a hash.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_keys_at_every_level() {
        let v = json!({"b": 1, "a": {"d": [3, {"z": 1, "y": 2}], "c": "x"}});
        assert_eq!(
            canonical_string(&v),
            r#"{"a":{"c":"x","d":[3,{"y":2,"z":1}]},"b":1}"#
        );
    }
}
