//! Error messages that name the line, column and dotted key of a TOML problem.

use std::fmt::Write as _;

use serde::Deserialize;
use serde_path_to_error::{Path, Segment};

/// Deserialises TOML `text`, or says in one line where and why it does not fit (see
/// [`syntax_message`]).
pub(super) fn from_str<'de, T: Deserialize<'de>>(text: &'de str) -> Result<T, String> {
    // Not TOML at all: there is no key to name yet.
    let deserializer =
        toml::Deserializer::parse(text).map_err(|err| syntax_message(text, &err, None))?;
    // serde_path_to_error records the path serde was at when the error arose, which toml's own
    // error does not carry (it knows only a byte span).
    serde_path_to_error::deserialize(deserializer).map_err(|err| {
        let key = dotted(err.path());
        syntax_message(text, err.inner(), key.as_deref())
    })
}

/// One line: "line L, column C, key `a.b[0].c`: <toml's message>".
///
/// toml's own Display is a multi-line snippet that names the line but not the key path (for
/// `listen = 8080` it says only "invalid type: integer `8080`, expected a string").
fn syntax_message(text: &str, err: &toml::de::Error, key: Option<&str>) -> String {
    let Some(start) = err.span().map(|s| s.start) else {
        // No position: toml's Display then names the keys itself ("in `a.b`").
        return err
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
    };
    let before = text.get(..start).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().unwrap_or("").chars().count() + 1;
    let message = err.message().trim();
    match key {
        Some(key) => format!("line {line}, column {column}, key `{key}`: {message}"),
        None => format!("line {line}, column {column}: {message}"),
    }
}

/// The path as TOML writes it (`remediation."a.b".command[1]`); `None` for the whole document.
///
/// Not the path's own Display, which leaves keys such as `a.b` unquoted and so ambiguous.
fn dotted(path: &Path) -> Option<String> {
    let mut out = String::new();
    for segment in path {
        match segment {
            Segment::Seq { index } => {
                // Writing to a String cannot fail.
                let _ = write!(out, "[{index}]");
            }
            Segment::Map { key } | Segment::Enum { variant: key } => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(&key_segment(key));
            }
            // A key that is not a string; TOML keys always are, so this is only for completeness.
            Segment::Unknown => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push('?');
            }
        }
    }
    (!out.is_empty()).then_some(out)
}

/// A key as written in TOML: bare when it can be, quoted otherwise.
pub(super) fn key_segment(key: &str) -> String {
    let bare = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
    if bare {
        key.to_string()
    } else {
        format!("{key:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::super::{parse, ConfigFileError};
    use std::path::Path;

    /// The message of the `Syntax` error for `text`, which must fail.
    fn message(text: &str) -> String {
        match parse(text, Path::new("c.toml")) {
            Err(ConfigFileError::Syntax { message, .. }) => message,
            other => panic!("expected a Syntax error, got {other:?}"),
        }
    }

    #[test]
    fn nested_key_in_second_table_of_array_is_named_with_its_line() {
        let text = "[[subscriptions]]\nname = \"a\"\nurl = \"https://x\"\n\
                    [subscriptions.api_events]\nerrors = \"any\"\n\n\
                    [[subscriptions]]\nname = \"b\"\nurl = \"https://y\"\n\
                    kinds = [\"api-event\"]\n[subscriptions.api_events]\n\
                    event_names = [\"DeleteBucket\"]\nerrors = 3\n";
        assert_eq!(
            message(text),
            "line 13, column 10, key `subscriptions[1].api_events.errors`: \
             wanted string or table"
        );
    }

    #[test]
    fn odd_keys_are_quoted_and_indices_bracketed() {
        let text = "[remediation.\"a.b\"]\naction = \"command\"\ncommand = [\"/bin/x\", 3]\n";
        assert_eq!(
            message(text),
            "line 3, column 22, key `remediation.\"a.b\".command[1]`: \
             invalid type: integer `3`, expected a string"
        );
    }

    #[test]
    fn text_that_is_not_toml_names_no_key() {
        assert_eq!(
            message("listen = \"a\"\nlisten = \"b\"\n"),
            "line 2, column 1: duplicate key"
        );
    }
}
