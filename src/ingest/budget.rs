//! How much memory a record may take once parsed, charged while its JSON tree is built.
//!
//! A parsed tree takes from a few times its text (typical records) to some forty times (an
//! array of small numbers), so a limit on text alone does not bound memory. Each value built is
//! charged an estimate of what it holds; once a record is over [`MAX_RECORD_MEMORY`], nothing
//! more of it is built, the rest of its text is only read past, and it is refused. JSON
//! embedded in strings (a `configuration` or SNS `Message` given as text) is charged to the
//! record it is decoded for.

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};
use std::cell::Cell;
use std::fmt;

/// Most memory one record may take once parsed (estimated, see [`Budget`]).
pub const MAX_RECORD_MEMORY: usize = 32 * 1024 * 1024;

/// Charged for every value: its slot (32 bytes), a container's spare capacity, allocation
/// overhead.
const VALUE_COST: usize = 64;

/// Charged for every member of an object, besides its value: the key and its map node share.
const MEMBER_COST: usize = 64;

thread_local! {
    /// What the record being classified on this thread may still spend on embedded JSON.
    static LEFT: Cell<usize> = const { Cell::new(MAX_RECORD_MEMORY) };
}

/// The estimated memory spent on one record so far, against a limit.
pub(super) struct Budget {
    spent: Cell<usize>,
    limit: usize,
}

impl Budget {
    /// A budget of `limit` estimated bytes.
    pub(super) fn new(limit: usize) -> Self {
        Budget {
            spent: Cell::new(0),
            limit,
        }
    }

    /// A record's full budget.
    pub(super) fn record() -> Self {
        Budget::new(MAX_RECORD_MEMORY)
    }

    /// Estimated bytes spent so far.
    pub(super) fn spent(&self) -> usize {
        self.spent.get()
    }

    /// Whether the record went over its limit (and was not built whole).
    pub(super) fn exceeded(&self) -> bool {
        self.spent.get() > self.limit
    }

    /// Charges an object member's key (the value is charged as it is built).
    pub(super) fn charge_key(&self, key: &str) {
        self.charge(MEMBER_COST + key.len());
    }

    /// Charges `cost`; whether the record is still within its limit.
    fn charge(&self, cost: usize) -> bool {
        self.spent.set(self.spent.get().saturating_add(cost));
        !self.exceeded()
    }
}

/// Why a record was refused for its size once parsed.
pub(super) fn too_much_memory_reason() -> String {
    format!(
        "takes more than {MAX_RECORD_MEMORY} bytes of memory once parsed (estimated), the most \
         a record may take"
    )
}

/// Runs `classify` for a record whose tree cost `spent`, with the rest of the record's budget
/// for the JSON it decodes from strings; returns what was classified and the total spent.
pub(super) fn classify_within<T>(spent: usize, classify: impl FnOnce() -> T) -> (T, usize) {
    let left = MAX_RECORD_MEMORY.saturating_sub(spent);
    LEFT.with(|cell| cell.set(left));
    let out = classify();
    let embedded = left - LEFT.with(|cell| cell.replace(MAX_RECORD_MEMORY));
    (out, spent + embedded)
}

/// Why JSON embedded in a string could not be decoded.
#[derive(Debug, thiserror::Error)]
pub(super) enum EmbeddedError {
    /// The string is not valid JSON.
    #[error("string is not valid JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// The decoded JSON would take more than the record has left.
    #[error(
        "string holds JSON that takes more than {MAX_RECORD_MEMORY} bytes of memory once \
         parsed (estimated, with the rest of the record), the most a record may take"
    )]
    TooLarge,
}

/// Decodes JSON embedded in a string of the record being classified, charged to its budget.
pub(super) fn parse_embedded(text: &str) -> Result<Value, EmbeddedError> {
    let budget = Budget::new(LEFT.with(Cell::get));
    let mut de = serde_json::Deserializer::from_str(text);
    let value = Bounded(&budget).deserialize(&mut de)?;
    de.end()?;
    if budget.exceeded() {
        return Err(EmbeddedError::TooLarge);
    }
    LEFT.with(|cell| cell.set(cell.get().saturating_sub(budget.spent())));
    Ok(value)
}

/// Builds a [`Value`] while charging a [`Budget`]. Once over, builds nothing more and reads
/// past the rest (the value is then meaningless: check [`Budget::exceeded`]).
pub(super) struct Bounded<'b>(pub(super) &'b Budget);

impl<'de> DeserializeSeed<'de> for Bounded<'_> {
    type Value = Value;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Bounded<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        self.0.charge(VALUE_COST);
        Ok(Value::Bool(v))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        self.0.charge(VALUE_COST);
        Ok(Value::from(v))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        self.0.charge(VALUE_COST);
        Ok(Value::from(v))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        self.0.charge(VALUE_COST);
        Ok(Value::from(v))
    }

    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(if self.0.charge(VALUE_COST + v.len()) {
            Value::String(v.to_string())
        } else {
            Value::Null
        })
    }

    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(if self.0.charge(VALUE_COST + v.len()) {
            Value::String(v)
        } else {
            Value::Null
        })
    }

    fn visit_unit<E>(self) -> Result<Value, E> {
        self.0.charge(VALUE_COST);
        Ok(Value::Null)
    }

    fn visit_none<E>(self) -> Result<Value, E> {
        self.0.charge(VALUE_COST);
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        self.0.charge(VALUE_COST);
        let mut items = Vec::new();
        while !self.0.exceeded() {
            match seq.next_element_seed(Bounded(self.0))? {
                Some(item) => items.push(item),
                None => return Ok(Value::Array(items)),
            }
        }
        drop(items);
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Value::Null)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        self.0.charge(VALUE_COST);
        let mut members = Map::new();
        while !self.0.exceeded() {
            let Some(key) = map.next_key::<String>()? else {
                return Ok(Value::Object(members));
            };
            self.0.charge_key(&key);
            let value = map.next_value_seed(Bounded(self.0))?;
            members.insert(key, value);
        }
        drop(members);
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value::<IgnoredAny>()?;
        }
        Ok(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_the_budget_the_value_is_serde_json_s() {
        let text = r#"{"a": [1, -2, 3.5, true, null, "x\u00e9"], "b": {"c": {}}, "d": [], "e": 18446744073709551615}"#;
        let budget = Budget::record();
        let value = Bounded(&budget)
            .deserialize(&mut serde_json::Deserializer::from_str(text))
            .expect("valid");
        assert_eq!(value, serde_json::from_str::<Value>(text).expect("valid"));
        assert!(!budget.exceeded());
        assert!(budget.spent() > 14 * VALUE_COST);
    }

    #[test]
    fn over_the_budget_the_rest_is_read_past_not_built() {
        let text = format!(r#"[{{"a": [{}0]}}, "after"]"#, "0,".repeat(1000));
        let budget = Budget::new(100 * VALUE_COST);
        let mut de = serde_json::Deserializer::from_str(&text);
        let value = Bounded(&budget).deserialize(&mut de).expect("valid");
        de.end().expect("read to the end");
        assert!(budget.exceeded());
        assert_eq!(value, Value::Null);
        assert!(budget.spent() < 110 * VALUE_COST, "{}", budget.spent());
    }

    #[test]
    fn embedded_json_is_charged_to_the_record() {
        let small = "[1, 2]";
        let big = format!("[{}0]", "0,".repeat(MAX_RECORD_MEMORY / VALUE_COST));
        let ((), spent) = classify_within(1000, || {
            assert_eq!(
                parse_embedded(small).expect("small"),
                serde_json::json!([1, 2])
            );
            assert!(matches!(parse_embedded(&big), Err(EmbeddedError::TooLarge)));
            assert!(matches!(parse_embedded("{"), Err(EmbeddedError::Json(_))));
        });
        assert_eq!(spent, 1000 + 3 * VALUE_COST);
        // Outside a record, the whole budget is there again.
        assert!(parse_embedded(small).is_ok());
        assert_eq!(LEFT.with(Cell::get), MAX_RECORD_MEMORY - 3 * VALUE_COST);
        LEFT.with(|cell| cell.set(MAX_RECORD_MEMORY));
    }
}
