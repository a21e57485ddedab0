//! A minimal JSON scanner for hot paths: walks the text once, hands out borrowed strings and
//! skips everything it is not asked about, without building values and without allocating
//! (except to decode strings that contain escapes).
//!
//! It assumes well-formed JSON (the host serialises the configuration it passes) and reports
//! [`ScanError`] on anything unexpected; views built on it then fall back to `serde_json`,
//! which gives a precise error message. Strings are skipped eight bytes at a time.
//!
//! ```ignore
//! let mut s = Scanner::new(r#"{"a": [1, 2], "b": "x"}"#);
//! let mut b = None;
//! s.object(|s, key| {
//!     if key == "b" { b = Some(s.string()?); } else { s.skip_value()?; }
//!     Ok(())
//! })?;
//! ```

use std::borrow::Cow;

use crate::json::Text;

/// The text is not JSON of the shape expected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanError {
    /// Byte offset where scanning stopped.
    pub at: usize,
}

impl std::fmt::Display for ScanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "unexpected JSON at byte {}", self.at)
    }
}

/// A cursor over JSON text.
pub struct Scanner<'a> {
    text: &'a str,
    pos: usize,
}

/// An object key, as written (escapes not decoded).
#[derive(Debug, Clone, Copy)]
pub struct Key<'a> {
    raw: &'a str,
    escaped: bool,
}

impl<'a> Key<'a> {
    /// The key text (decoded when it had escapes).
    pub fn text(&self) -> Cow<'a, str> {
        if self.escaped {
            Cow::Owned(decode_escaped(self.raw).unwrap_or_default())
        } else {
            Cow::Borrowed(self.raw)
        }
    }
}

impl PartialEq<&str> for Key<'_> {
    fn eq(&self, other: &&str) -> bool {
        if self.escaped {
            self.text() == *other
        } else {
            self.raw == *other
        }
    }
}

const fn splat(b: u8) -> u64 {
    (b as u64) * 0x0101_0101_0101_0101
}
const LO: u64 = splat(0x01);
const HI: u64 = splat(0x80);

/// Non-zero when one of the eight bytes of `x` is zero.
#[inline(always)]
fn has_zero_byte(x: u64) -> u64 {
    x.wrapping_sub(LO) & !x & HI
}

impl<'a> Scanner<'a> {
    /// A scanner at the start of `text`.
    pub fn new(text: &'a str) -> Self {
        Scanner { text, pos: 0 }
    }

    /// The current byte offset.
    pub fn position(&self) -> usize {
        self.pos
    }

    fn err(&self) -> ScanError {
        ScanError { at: self.pos }
    }

    #[inline(always)]
    fn bytes(&self) -> &'a [u8] {
        self.text.as_bytes()
    }

    /// Skips whitespace and returns the next byte, without consuming it.
    #[inline(always)]
    pub fn peek(&mut self) -> Option<u8> {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if matches!(c, b' ' | b'\n' | b'\r' | b'\t') {
                self.pos += 1;
            } else {
                return Some(c);
            }
        }
        None
    }

    #[inline(always)]
    fn expect(&mut self, c: u8) -> Result<(), ScanError> {
        if self.peek() == Some(c) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.err())
        }
    }

    /// Whether the scanner is at the end (whitespace aside).
    pub fn at_end(&mut self) -> bool {
        self.peek().is_none()
    }

    /// Consumes `null` if it is next.
    pub fn null(&mut self) -> bool {
        if self.peek() == Some(b'n') && self.bytes()[self.pos..].starts_with(b"null") {
            self.pos += 4;
            true
        } else {
            false
        }
    }

    /// Reads a string's raw content (escapes not decoded); the scanner must be at its opening
    /// quote. Returns the content and whether it has escapes.
    #[inline(always)]
    fn raw_string(&mut self) -> Result<(&'a str, bool), ScanError> {
        self.expect(b'"')?;
        let start = self.pos;
        let (end, escaped) = self.string_end(start)?;
        self.pos = end + 1;
        // `start` and `end` are at ASCII quote boundaries, so this is a valid str slice
        Ok((&self.text[start..end], escaped))
    }

    /// The index of the quote closing the string whose content starts at `i`, and whether the
    /// string has escapes.
    #[inline(always)]
    fn string_end(&self, mut i: usize) -> Result<(usize, bool), ScanError> {
        let b = self.bytes();
        let mut escaped = false;
        loop {
            // eight bytes at a time: the lowest flagged byte is the first quote or backslash
            // (has_zero_byte may also flag bytes after the first match, never before)
            if let Some(chunk) = b.get(i..i + 8) {
                let w = u64::from_le_bytes(chunk.try_into().unwrap());
                let hits = has_zero_byte(w ^ splat(b'"')) | has_zero_byte(w ^ splat(b'\\'));
                if hits == 0 {
                    i += 8;
                    continue;
                }
                i += (hits.trailing_zeros() / 8) as usize;
            }
            match b.get(i) {
                None => return Err(ScanError { at: i }),
                Some(b'"') => return Ok((i, escaped)),
                Some(b'\\') => {
                    escaped = true;
                    i += 2;
                }
                Some(_) => i += 1,
            }
        }
    }

    /// Reads a string (decoding escapes only when there are some).
    pub fn string(&mut self) -> Result<Text<'a>, ScanError> {
        let at = self.pos;
        let (raw, escaped) = self.raw_string()?;
        if escaped {
            decode_escaped(raw)
                .map(|s| Text(Cow::Owned(s)))
                .ok_or(ScanError { at })
        } else {
            Ok(Text(Cow::Borrowed(raw)))
        }
    }

    /// Reads a string or null; numbers and booleans give their text (lenient, like `Text`).
    pub fn opt_text(&mut self) -> Result<Option<Text<'a>>, ScanError> {
        match self.peek() {
            Some(b'"') => self.string().map(Some),
            Some(b'n') if self.null() => Ok(None),
            Some(b'-' | b'0'..=b'9' | b't' | b'f') => {
                let start = self.pos;
                self.skip_value()?;
                Ok(Some(Text(Cow::Borrowed(&self.text[start..self.pos]))))
            }
            _ => Err(self.err()),
        }
    }

    /// Reads a number that may be written as a number, a numeric string, or null (`None`;
    /// anything else is skipped and also gives `None`), like [`crate::json::lenient_i64`].
    pub fn lenient_i64(&mut self) -> Result<Option<i64>, ScanError> {
        match self.peek() {
            Some(b'"') => {
                let t = self.string()?;
                Ok(t.trim().parse().ok())
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                self.skip_scalar();
                let t = &self.text[start..self.pos];
                Ok(match t.parse::<i64>() {
                    Ok(v) => Some(v),
                    Err(_) => t
                        .parse::<f64>()
                        .ok()
                        .filter(|v| v.fract() == 0.0 && v.abs() < 9.0e15)
                        .map(|v| v as i64),
                })
            }
            Some(_) => {
                self.skip_value()?;
                Ok(None)
            }
            None => Err(self.err()),
        }
    }

    fn skip_scalar(&mut self) {
        let b = self.bytes();
        while let Some(&c) = b.get(self.pos) {
            if matches!(c, b',' | b'}' | b']' | b' ' | b'\n' | b'\r' | b'\t') {
                break;
            }
            self.pos += 1;
        }
    }

    /// Skips one value of any kind.
    pub fn skip_value(&mut self) -> Result<(), ScanError> {
        match self.peek() {
            Some(b'"') => self.raw_string().map(|_| ()),
            Some(b'{' | b'[') => {
                let b = self.bytes();
                let mut depth = 0usize;
                let mut i = self.pos;
                loop {
                    match b.get(i) {
                        None => return Err(ScanError { at: i }),
                        Some(b'"') => i = self.string_end(i + 1)?.0,
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.pos = i + 1;
                                return Ok(());
                            }
                        }
                        Some(_) => {}
                    }
                    i += 1;
                }
            }
            Some(b'-' | b'0'..=b'9' | b't' | b'f' | b'n') => {
                let start = self.pos;
                self.skip_scalar();
                if self.pos == start {
                    Err(self.err())
                } else {
                    Ok(())
                }
            }
            _ => Err(self.err()),
        }
    }

    /// Reads any value and returns its JSON text, unparsed (for scanning later).
    pub fn raw_value(&mut self) -> Result<&'a str, ScanError> {
        self.peek();
        let start = self.pos;
        self.skip_value()?;
        Ok(&self.text[start..self.pos])
    }

    /// Walks an object: for each key, `f` must consume the value (read it or
    /// [`skip_value`](Self::skip_value)). `null` is read as an empty object.
    pub fn object<F>(&mut self, mut f: F) -> Result<(), ScanError>
    where
        F: FnMut(&mut Self, Key<'a>) -> Result<(), ScanError>,
    {
        self.object_while(|s, k| f(s, k).map(|_| true))
    }

    /// Like [`object`](Self::object), but stops as soon as `f` returns `false`, leaving the
    /// rest of the object unread (the scanner is then inside it).
    pub fn object_while<F>(&mut self, mut f: F) -> Result<(), ScanError>
    where
        F: FnMut(&mut Self, Key<'a>) -> Result<bool, ScanError>,
    {
        if self.null() {
            return Ok(());
        }
        self.expect(b'{')?;
        if self.peek() == Some(b'}') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if self.peek() != Some(b'"') {
                return Err(self.err());
            }
            let (raw, escaped) = self.raw_string()?;
            self.expect(b':')?;
            if !f(self, Key { raw, escaped })? {
                return Ok(());
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b'}') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err()),
            }
        }
    }

    /// Walks an array: `f` must consume each element. `null` is read as an empty array.
    pub fn array<F>(&mut self, mut f: F) -> Result<(), ScanError>
    where
        F: FnMut(&mut Self) -> Result<(), ScanError>,
    {
        self.array_while(|s| f(s).map(|_| true))
    }

    /// Like [`array`](Self::array), but stops as soon as `f` returns `false`.
    pub fn array_while<F>(&mut self, mut f: F) -> Result<(), ScanError>
    where
        F: FnMut(&mut Self) -> Result<bool, ScanError>,
    {
        if self.null() {
            return Ok(());
        }
        self.expect(b'[')?;
        if self.peek() == Some(b']') {
            self.pos += 1;
            return Ok(());
        }
        loop {
            if !f(self)? {
                return Ok(());
            }
            match self.peek() {
                Some(b',') => self.pos += 1,
                Some(b']') => {
                    self.pos += 1;
                    return Ok(());
                }
                _ => return Err(self.err()),
            }
        }
    }
}

/// The JSON text of the value of `key` in the top-level object `json`, scanning only up to
/// it; `None` when the key is absent or the document is `null`.
pub fn find_key<'a>(json: &'a str, key: &str) -> Result<Option<&'a str>, ScanError> {
    let mut s = Scanner::new(json);
    let mut found = None;
    s.object_while(|s, k| {
        if k == key {
            found = Some(s.raw_value()?);
            Ok(false)
        } else {
            s.skip_value().map(|_| true)
        }
    })?;
    Ok(found)
}

/// Decodes the content of a JSON string that has escapes.
fn decode_escaped(raw: &str) -> Option<String> {
    let mut quoted = String::with_capacity(raw.len() + 2);
    quoted.push('"');
    quoted.push_str(raw);
    quoted.push('"');
    serde_json::from_str(&quoted).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_objects_and_arrays() {
        let text = r#" { "a" : [1, -2.5e3, "x\"y", {"n": null}, [], {}], "b":"plain", "c":true, "d" : {"e":[[["]"]]]}, "k\u0065y": 7 } "#;
        let mut s = Scanner::new(text);
        let mut seen = Vec::new();
        s.object(|s, key| {
            seen.push(key.text().into_owned());
            match key.text().as_ref() {
                "b" => assert_eq!(s.string()?.as_str(), "plain"),
                "key" => assert_eq!(s.lenient_i64()?, Some(7)),
                "a" => {
                    let mut n = 0;
                    s.array(|s| {
                        n += 1;
                        if n == 3 {
                            assert_eq!(s.string()?.as_str(), "x\"y");
                            Ok(())
                        } else {
                            s.skip_value()
                        }
                    })?;
                    assert_eq!(n, 6);
                }
                _ => s.skip_value()?,
            }
            Ok(())
        })
        .unwrap();
        assert!(s.at_end());
        assert_eq!(seen, vec!["a", "b", "c", "d", "key"]);
    }

    #[test]
    fn long_strings_use_the_fast_path() {
        let long = "x".repeat(100);
        let text = format!(r#"{{"{long}": "{long}\\{long}\"", "z": 1}}"#);
        let mut s = Scanner::new(&text);
        let mut z = None;
        s.object(|s, key| {
            if key == "z" {
                z = s.lenient_i64()?;
                Ok(())
            } else {
                let t = s.string()?;
                assert_eq!(t.as_str(), format!("{long}\\{long}\""));
                Ok(())
            }
        })
        .unwrap();
        assert_eq!(z, Some(1));
    }

    #[test]
    fn early_exits() {
        let json = r#"{"a": 1, "b": [1, {"c": "d"}], "c": oops-not-json"#;
        assert_eq!(find_key(json, "b").unwrap(), Some(r#"[1, {"c": "d"}]"#));
        assert_eq!(find_key(r#"{"a":1}"#, "b").unwrap(), None);
        assert_eq!(find_key("null", "b").unwrap(), None);
        assert!(find_key(json, "z").is_err());
        let mut s = Scanner::new("[1, 2, 3, x");
        let mut n = 0;
        s.array_while(|s| {
            n += 1;
            s.skip_value()?;
            Ok(n < 2)
        })
        .unwrap();
        assert_eq!(n, 2);
    }

    #[test]
    fn lenient_numbers() {
        for (text, expected) in [
            ("22", Some(22)),
            ("\"22\"", Some(22)),
            ("null", None),
            ("-1", Some(-1)),
            ("22.0", Some(22)),
            ("\"x\"", None),
            ("[1]", None),
            ("true", None),
        ] {
            assert_eq!(
                Scanner::new(text).lenient_i64().unwrap(),
                expected,
                "{text}"
            );
        }
    }

    #[test]
    fn errors() {
        for text in [
            r#"{"a" 1}"#,
            r#"{"a":1"#,
            r#"{"a":"x}"#,
            r#"[1 2]"#,
            r#"{a:1}"#,
            "",
            r#"{"a":}"#,
        ] {
            let mut s = Scanner::new(text);
            let r = s.object(|s, _| s.skip_value());
            assert!(r.is_err(), "{text}");
        }
    }
}
