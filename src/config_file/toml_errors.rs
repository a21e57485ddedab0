//! Error messages that name the line, column and dotted key of a TOML problem.

use toml::de::{DeTable, DeValue};
use toml::Spanned;

/// One line: "line L, column C, key `a.b[0].c`: <toml's message>".
///
/// toml's own Display is a multi-line snippet that names the line but not the key path (for
/// `listen = 8080` it says only "invalid type: integer `8080`, expected a string"), so the key is
/// found here from the error's span.
pub(super) fn syntax_message(text: &str, err: &toml::de::Error) -> String {
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
    match key_at(text, start) {
        Some(key) => format!("line {line}, column {column}, key `{key}`: {message}"),
        None => format!("line {line}, column {column}: {message}"),
    }
}

/// Dotted path of the innermost key or value at byte `pos`, when the text is valid TOML.
fn key_at(text: &str, pos: usize) -> Option<String> {
    let document = DeTable::parse(text).ok()?;
    find_in_table(document.get_ref(), pos, "")
}

/// Searches a table's entries; a table made by a `[header]` may not span its keys, so every
/// entry is searched rather than only those whose span holds `pos`.
fn find_in_table(table: &DeTable<'_>, pos: usize, prefix: &str) -> Option<String> {
    table.iter().find_map(|(key, value)| {
        let segment = key_segment(key.get_ref());
        let path = if prefix.is_empty() {
            segment
        } else {
            format!("{prefix}.{segment}")
        };
        if key.span().contains(&pos) {
            return Some(path);
        }
        find_in_value(value, pos, path)
    })
}

/// The deepest path inside `value` at `pos`, else `path` itself when `value` spans `pos`.
fn find_in_value(value: &Spanned<DeValue<'_>>, pos: usize, path: String) -> Option<String> {
    let deeper = match value.get_ref() {
        DeValue::Table(table) => find_in_table(table, pos, &path),
        DeValue::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| find_in_value(item, pos, format!("{path}[{i}]"))),
        _ => None,
    };
    deeper.or_else(|| value.span().contains(&pos).then_some(path))
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
