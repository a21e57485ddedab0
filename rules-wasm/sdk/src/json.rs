//! Lenient pieces for typed views: AWS Config is not consistent about types (ports as numbers or
//! strings, booleans as strings, lists given as a single value, objects given as JSON text).
//!
//! Use them with serde's `deserialize_with` in your own views:
//!
//! ```ignore
//! #[derive(serde::Deserialize)]
//! #[serde(rename_all = "camelCase")]
//! struct Listener {
//!     #[serde(default, deserialize_with = "conftrail_rule_sdk::json::lenient_i64")]
//!     port: Option<i64>,
//! }
//! ```

use serde_json::value::RawValue;
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, Deserializer, IgnoredAny, SeqAccess, Visitor};
use serde::Deserialize;

/// A JSON string borrowed from the input when it has no escapes (zero-copy), owned otherwise.
/// Derefs to `str`. (serde's own `Cow<str>` always copies unless the field is marked
/// `#[serde(borrow)]` and is not inside an `Option`/`Vec`; `Text` borrows everywhere.)
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Text<'a>(pub Cow<'a, str>);

impl<'a> Text<'a> {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::ops::Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Text<'_> {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&*self.0, f)
    }
}

impl fmt::Display for Text<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl PartialEq<str> for Text<'_> {
    fn eq(&self, other: &str) -> bool {
        *self.0 == *other
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v)))
            }
            // Lenient: numbers and booleans where a string is expected keep their text.
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                Ok(Text(Cow::Owned(v.to_string())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A number that may be written as a number, a string (`"22"`), or be null. Anything else
/// (a non-numeric string, a fraction) reads as `None`.
pub fn lenient_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<i64>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a number, a numeric string or null")
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            Ok(i64::try_from(v).ok())
        }
        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
            Ok(if v.fract() == 0.0 && v.abs() < 9.0e15 {
                Some(v as i64)
            } else {
                None
            })
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(v.trim().parse().ok())
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// A boolean that may be written as `true`/`false`, as a string (`"true"`, case-insensitive),
/// or be null. Anything else reads as `None`.
pub fn lenient_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("a boolean, \"true\"/\"false\" or null")
        }
        fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            Ok(parse_bool(v))
        }
        fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_map<A: de::MapAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
            while a.next_element::<IgnoredAny>()?.is_some() {}
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

/// `true` / `false` (trimmed, case-insensitive), else `None`.
pub fn parse_bool(s: &str) -> Option<bool> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

/// A list that may be null (read as empty).
pub fn null_as_empty<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A list whose absence matters, on an `Option<Vec<T>>` field with
/// `#[serde(default, deserialize_with = "nullable_list")]`: no key gives `None` (the `default`:
/// the item does not show the list), `null` gives `Some(vec![])` (recorded, empty), a list
/// gives `Some(list)`.
pub fn nullable_list<'de, D, T>(d: D) -> Result<Option<Vec<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Some(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default()))
}

/// A value whose absence matters, on a field with `#[serde(default)]`: [`Field::Absent`] when
/// the key is not there (the item does not show it), [`Field::Null`] when it is `null`
/// (recorded, no value), else [`Field::Value`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    /// No such key.
    #[default]
    Absent,
    /// The key, with `null`.
    Null,
    /// The key, with a value.
    Value(T),
}

impl<T> Field<T> {
    /// The value, if there is one.
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }

    /// Whether the key is missing.
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Field<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(Option::<T>::deserialize(d)?.map_or(Field::Null, Field::Value))
    }
}

/// A list that may also be given as a single value or null (IAM policies: `"Action": "s3:*"`
/// or `"Action": ["s3:GetObject"]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OneOrMany<T>(pub Vec<T>);

impl<T> Default for OneOrMany<T> {
    fn default() -> Self {
        OneOrMany(Vec::new())
    }
}

impl<T> OneOrMany<T> {
    /// The values.
    pub fn iter(&self) -> std::slice::Iter<'_, T> {
        self.0.iter()
    }
    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<'a, T> IntoIterator for &'a OneOrMany<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for OneOrMany<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = OneOrMany<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or a list of values")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some(v) = a.next_element()? {
                    out.push(v);
                }
                Ok(OneOrMany(out))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(OneOrMany(Vec::new()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                T::deserialize(de::value::StrDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                T::deserialize(de::value::BorrowedStrDeserializer::new(v))
                    .map(|t| OneOrMany(vec![t]))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                T::deserialize(de::value::StringDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
                T::deserialize(de::value::BoolDeserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                T::deserialize(de::value::I64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                T::deserialize(de::value::U64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
                T::deserialize(de::value::F64Deserializer::new(v)).map(|t| OneOrMany(vec![t]))
            }
            fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(a)).map(|t| OneOrMany(vec![t]))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A scalar read as text: strings as they are, numbers and booleans as their JSON text
/// (IAM condition values: `"aws:SecureTransport": false` or `"false"`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar(pub String);

impl Scalar {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<'de> Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string, number or boolean")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(String::new()))
            }
        }
        d.deserialize_any(V)
    }
}

/// A value that may be given as itself or as JSON text holding it (possibly encoded more than
/// once), like `BucketPolicy.policyText` or AWS's string-encoded supplementary values.
/// `null` and empty text read as `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct Embedded<T>(pub Option<T>);

impl<T> Default for Embedded<T> {
    fn default() -> Self {
        Embedded(None)
    }
}

impl<'de, T: DeserializeOwned> Deserialize<'de> for Embedded<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: DeserializeOwned> Visitor<'de> for V<T> {
            type Value = Embedded<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value or JSON text holding it")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                let text = decode_embedded(v);
                let text = text.trim();
                if text.is_empty() || text == "null" {
                    return Ok(Embedded(None));
                }
                serde_json::from_str(text)
                    .map(|t| Embedded(Some(t)))
                    .map_err(E::custom)
            }
            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded(None))
            }
            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(Embedded(None))
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(self)
            }
            fn visit_map<A: de::MapAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::MapAccessDeserializer::new(a)).map(|t| Embedded(Some(t)))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, a: A) -> Result<Self::Value, A::Error> {
                T::deserialize(de::value::SeqAccessDeserializer::new(a)).map(|t| Embedded(Some(t)))
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// Decodes JSON text given as a string literal (`"{\"a\":1}"` → `{"a":1}`), repeatedly, as long
/// as the decoded text is itself JSON that is not a plain string. Text that is not a string
/// literal, or a string that is just a word (`"Enabled"`), is returned as it is.
///
/// `s` is JSON text, e.g. a raw supplementary value.
pub fn decode_json_text(s: &str) -> Cow<'_, str> {
    let mut current: Cow<'_, str> = Cow::Borrowed(s);
    loop {
        let trimmed = current.trim();
        if !trimmed.starts_with('"') {
            return current;
        }
        let Ok(inner) = serde_json::from_str::<String>(trimmed) else {
            return current;
        };
        if !looks_like_json_text(&inner) {
            return current;
        }
        current = Cow::Owned(inner);
    }
}

/// Decodes a string that holds JSON text (possibly JSON text of a string holding JSON text...),
/// e.g. the value of `policyText`. Returns the innermost JSON text.
pub fn decode_embedded(s: &str) -> Cow<'_, str> {
    let trimmed = s.trim();
    if trimmed.starts_with('"') {
        if let Ok(inner) = serde_json::from_str::<String>(trimmed) {
            return Cow::Owned(decode_embedded(&inner).into_owned());
        }
    }
    Cow::Borrowed(s)
}

/// Whether decoded string content should be parsed again as JSON: objects, arrays, strings,
/// and the JSON literals / numbers (`"false"` for `IsRequesterPaysEnabled`).
fn looks_like_json_text(s: &str) -> bool {
    let t = s.trim();
    match t.as_bytes().first() {
        Some(b'{') | Some(b'[') | Some(b'"') => serde_json::from_str::<IgnoredAny>(t).is_ok(),
        Some(_) => {
            matches!(t, "true" | "false" | "null")
                || (t.parse::<f64>().is_ok() && serde_json::from_str::<IgnoredAny>(t).is_ok())
        }
        None => false,
    }
}

/// A JSON object's entries in order, values left as raw JSON text (nothing is parsed twice).
pub(crate) struct RawEntries<'a>(pub(crate) Vec<(String, &'a RawValue)>);

impl<'de: 'a, 'a> serde::Deserialize<'de> for RawEntries<'a> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = RawEntries<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut a: A,
            ) -> Result<Self::Value, A::Error> {
                let mut out = Vec::new();
                while let Some((k, v)) = a.next_entry::<String, &'de RawValue>()? {
                    out.push((k, v));
                }
                Ok(RawEntries(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Deserialize)]
    struct P {
        #[serde(default, deserialize_with = "lenient_i64")]
        port: Option<i64>,
        #[serde(default, deserialize_with = "lenient_bool")]
        flag: Option<bool>,
        #[serde(default, deserialize_with = "null_as_empty")]
        list: Vec<u8>,
    }

    #[test]
    fn lenient_numbers_and_bools() {
        let p: P = serde_json::from_str(r#"{"port":"22","flag":"TRUE","list":null}"#).unwrap();
        assert_eq!((p.port, p.flag, p.list.len()), (Some(22), Some(true), 0));
        let p: P = serde_json::from_str(r#"{"port":22.0,"flag":false,"list":[1]}"#).unwrap();
        assert_eq!((p.port, p.flag, p.list), (Some(22), Some(false), vec![1]));
        let p: P = serde_json::from_str(r#"{"port":null,"flag":null}"#).unwrap();
        assert_eq!((p.port, p.flag), (None, None));
        let p: P = serde_json::from_str(r#"{"port":"x","flag":"maybe"}"#).unwrap();
        assert_eq!((p.port, p.flag), (None, None));
        let p: P = serde_json::from_str(r#"{"port":-1}"#).unwrap();
        assert_eq!(p.port, Some(-1));
        let p: P = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!((p.port, p.flag), (None, None));
    }

    #[test]
    fn absent_null_and_present_stay_apart() {
        #[derive(Deserialize)]
        struct V {
            #[serde(default, deserialize_with = "nullable_list")]
            list: Option<Vec<u8>>,
            #[serde(default)]
            field: Field<u8>,
        }
        let v: V = serde_json::from_str("{}").unwrap();
        assert_eq!((v.list, v.field), (None, Field::Absent));
        let v: V = serde_json::from_str(r#"{"list":null,"field":null}"#).unwrap();
        assert_eq!((v.list, v.field), (Some(vec![]), Field::Null));
        let v: V = serde_json::from_str(r#"{"list":[1],"field":2}"#).unwrap();
        assert_eq!((v.list, v.field.value()), (Some(vec![1]), Some(&2)));
    }

    #[test]
    fn text_borrows_when_it_can() {
        let t: Text = serde_json::from_str(r#""sg-1""#).unwrap();
        assert!(matches!(t.0, Cow::Borrowed("sg-1")));
        let t: Text = serde_json::from_str(r#""a\"b""#).unwrap();
        assert!(matches!(t.0, Cow::Owned(_)));
        assert_eq!(t, "a\"b");
        let v: Vec<Option<Text>> = serde_json::from_str(r#"["x",null,7]"#).unwrap();
        assert!(matches!(v[0].as_ref().unwrap().0, Cow::Borrowed("x")));
        assert!(v[1].is_none());
        assert_eq!(v[2].as_ref().unwrap().as_str(), "7");
    }

    #[test]
    fn one_or_many() {
        let v: OneOrMany<String> = serde_json::from_str(r#""s3:*""#).unwrap();
        assert_eq!(v.0, vec!["s3:*"]);
        let v: OneOrMany<String> = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(v.0, vec!["a", "b"]);
        let v: OneOrMany<String> = serde_json::from_str("null").unwrap();
        assert!(v.is_empty());
        let v: OneOrMany<Scalar> = serde_json::from_str("false").unwrap();
        assert_eq!(v.0[0].as_str(), "false");
    }

    #[test]
    fn decoding_json_text() {
        assert_eq!(decode_json_text(r#"{"a":1}"#), r#"{"a":1}"#);
        assert_eq!(decode_json_text(r#""{\"a\":1}""#), r#"{"a":1}"#);
        // double-encoded, as custodian's AccessControlList
        let double = serde_json::to_string(&serde_json::to_string(r#"{"a":1}"#).unwrap()).unwrap();
        assert_eq!(decode_json_text(&double), r#"{"a":1}"#);
        assert_eq!(decode_json_text(r#""false""#), "false");
        assert_eq!(decode_json_text(r#""Enabled""#), r#""Enabled""#);
        assert_eq!(decode_json_text(r#""{not json""#), r#""{not json""#);
        assert_eq!(decode_json_text("null"), "null");
    }

    #[test]
    fn embedded_values() {
        #[derive(Deserialize, Debug, PartialEq)]
        struct Doc {
            v: u8,
        }
        #[derive(Deserialize)]
        struct W {
            #[serde(default)]
            d: Embedded<Doc>,
        }
        let w: W = serde_json::from_str(r#"{"d":"{\"v\":1}"}"#).unwrap();
        assert_eq!(w.d.0, Some(Doc { v: 1 }));
        let w: W = serde_json::from_str(r#"{"d":{"v":2}}"#).unwrap();
        assert_eq!(w.d.0, Some(Doc { v: 2 }));
        let w: W = serde_json::from_str(r#"{"d":null}"#).unwrap();
        assert_eq!(w.d.0, None);
        let w: W = serde_json::from_str(r#"{}"#).unwrap();
        assert_eq!(w.d.0, None);
        assert!(serde_json::from_str::<W>(r#"{"d":"{broken"}"#).is_err());
    }
}
