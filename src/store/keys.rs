//! Key encoding: byte strings whose byte order (the order trees keep) is the query order.
//!
//! A resource is `type \0 id \0 account \0 region \0`: type first so that "all resources of a type"
//! and "every account's copy of this id" are prefix scans. Times are big-endian with the sign bit
//! flipped so that byte order is time order.

use crate::model::ResourceKey;

/// Family prefix: a configuration version, `v resource time version`.
pub const VERSION: u8 = b'v';
/// Family prefix: version-number index, `n resource version` → time.
pub const VERSION_NUMBER: u8 = b'n';
/// Family prefix: latest state of a resource, `l resource`.
pub const LATEST: u8 = b'l';

const SEP: u8 = 0;

/// The encoded resource part of a key.
pub fn resource(key: &ResourceKey) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        key.resource_type.len()
            + key.resource_id.len()
            + key.account_id.len()
            + key.region.len()
            + 4,
    );
    for part in [
        &key.resource_type,
        &key.resource_id,
        &key.account_id,
        &key.region,
    ] {
        out.extend_from_slice(part.as_bytes());
        out.push(SEP);
    }
    out
}

/// A family prefix followed by the encoded resource.
pub fn family_resource(family: u8, key: &ResourceKey) -> Vec<u8> {
    let mut out = vec![family];
    out.extend_from_slice(&resource(key));
    out
}

/// Prefix of every resource of a type (or all resources when `None`) within a family.
pub fn family_type_prefix(family: u8, resource_type: Option<&str>) -> Vec<u8> {
    let mut out = vec![family];
    if let Some(t) = resource_type {
        out.extend_from_slice(t.as_bytes());
        out.push(SEP);
    }
    out
}

/// Prefix of every account/region copy of one type and id within a family.
pub fn family_type_id_prefix(family: u8, resource_type: &str, resource_id: &str) -> Vec<u8> {
    let mut out = family_type_prefix(family, Some(resource_type));
    out.extend_from_slice(resource_id.as_bytes());
    out.push(SEP);
    out
}

/// Decodes the resource part at the start of `bytes`; returns it and the rest.
pub fn decode_resource(bytes: &[u8]) -> Option<(ResourceKey, &[u8])> {
    let mut parts = Vec::with_capacity(4);
    let mut rest = bytes;
    for _ in 0..4 {
        let end = rest.iter().position(|b| *b == SEP)?;
        parts.push(String::from_utf8(rest[..end].to_vec()).ok()?);
        rest = &rest[end + 1..];
    }
    let region = parts.pop()?;
    let account = parts.pop()?;
    let id = parts.pop()?;
    let rtype = parts.pop()?;
    Some((ResourceKey::new(account, region, rtype, id), rest))
}

/// Time in milliseconds as 8 bytes that sort like the times.
pub fn time(ms: i64) -> [u8; 8] {
    ((ms as u64) ^ (1 << 63)).to_be_bytes()
}

/// Inverse of [`time`].
pub fn decode_time(bytes: [u8; 8]) -> i64 {
    (u64::from_be_bytes(bytes) ^ (1 << 63)) as i64
}

/// Full key of one configuration version.
pub fn version(prefix: &[u8], time_ms: i64, version: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 16);
    out.extend_from_slice(prefix);
    out.extend_from_slice(&time(time_ms));
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// Splits the `time version` suffix of a version key.
pub fn decode_version_suffix(suffix: &[u8]) -> Option<(i64, u64)> {
    let time: [u8; 8] = suffix.get(..8)?.try_into().ok()?;
    let version: [u8; 8] = suffix.get(8..16)?.try_into().ok()?;
    Some((decode_time(time), u64::from_be_bytes(version)))
}

/// Key of a version-number index entry.
pub fn version_number(prefix: &[u8], version: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(prefix.len() + 8);
    out.extend_from_slice(prefix);
    out.extend_from_slice(&version.to_be_bytes());
    out
}

/// The smallest key greater than every key starting with `prefix`.
pub fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < u8::MAX {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_order_is_byte_order() {
        let times = [i64::MIN, -5, -1, 0, 1, 1_700_000_000_000, i64::MAX];
        for pair in times.windows(2) {
            assert!(time(pair[0]) < time(pair[1]), "{pair:?}");
            assert_eq!(decode_time(time(pair[0])), pair[0]);
        }
    }

    #[test]
    fn resource_round_trips_and_prefixes_nest() {
        let key = ResourceKey::new(
            "111122223333",
            "us-east-1",
            "AWS::EC2::SecurityGroup",
            "sg-1",
        );
        let enc = family_resource(VERSION, &key);
        let (decoded, rest) = decode_resource(&enc[1..]).unwrap();
        assert_eq!(decoded, key);
        assert!(rest.is_empty());
        assert!(enc.starts_with(&family_type_id_prefix(
            VERSION,
            "AWS::EC2::SecurityGroup",
            "sg-1"
        )));
        // "sg-1" must not be a prefix match for "sg-10".
        let other = ResourceKey::new(
            "111122223333",
            "us-east-1",
            "AWS::EC2::SecurityGroup",
            "sg-10",
        );
        assert!(
            !family_resource(VERSION, &other).starts_with(&family_type_id_prefix(
                VERSION,
                "AWS::EC2::SecurityGroup",
                "sg-1"
            ))
        );
    }

    #[test]
    fn prefix_end_bounds_the_prefix() {
        assert_eq!(prefix_end(b"ab"), Some(b"ac".to_vec()));
        assert_eq!(prefix_end(&[1, 255]), Some(vec![2]));
        assert_eq!(prefix_end(&[255]), None);
    }
}
