//! A readable diff of two versions' JSON: unified (one column) or side by side, in hunks with
//! a few lines of context, from the `similar` crate's line diff.

use similar::{ChangeTag, TextDiff};

/// Unchanged lines kept around each change.
const CONTEXT: usize = 3;

/// One line of a unified diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnifiedLine {
    /// `same`, `add`, `del` or `gap` (lines left out between hunks).
    pub kind: &'static str,
    /// `+`, `-`, or a space.
    pub sign: &'static str,
    /// Line number on the older side.
    pub old: Option<usize>,
    /// Line number on the newer side.
    pub new: Option<usize>,
    /// The line, without its newline.
    pub text: String,
}

/// One row of a side-by-side diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitRow {
    /// The older side: kind, line number, text (none: nothing on that side).
    pub left: Option<(&'static str, usize, String)>,
    /// The newer side.
    pub right: Option<(&'static str, usize, String)>,
    /// A gap between hunks.
    pub gap: bool,
}

fn kind(tag: ChangeTag) -> &'static str {
    match tag {
        ChangeTag::Equal => "same",
        ChangeTag::Insert => "add",
        ChangeTag::Delete => "del",
    }
}

/// The unified diff of `old` against `new`.
pub fn unified(old: &str, new: &str) -> Vec<UnifiedLine> {
    let diff = TextDiff::from_lines(old, new);
    let mut lines = Vec::new();
    for (i, group) in diff.grouped_ops(CONTEXT).iter().enumerate() {
        if i > 0 {
            lines.push(UnifiedLine {
                kind: "gap",
                sign: " ",
                old: None,
                new: None,
                text: "…".into(),
            });
        }
        for op in group {
            for change in diff.iter_changes(op) {
                lines.push(UnifiedLine {
                    kind: kind(change.tag()),
                    sign: match change.tag() {
                        ChangeTag::Equal => " ",
                        ChangeTag::Insert => "+",
                        ChangeTag::Delete => "-",
                    },
                    old: change.old_index().map(|n| n + 1),
                    new: change.new_index().map(|n| n + 1),
                    text: change.value().trim_end_matches('\n').to_string(),
                });
            }
        }
    }
    lines
}

/// The side-by-side diff: deletions and insertions of one change face each other.
pub fn split(old: &str, new: &str) -> Vec<SplitRow> {
    let mut rows = Vec::new();
    let mut deleted: Vec<(usize, String)> = Vec::new();
    let mut inserted: Vec<(usize, String)> = Vec::new();
    let flush = |rows: &mut Vec<SplitRow>,
                 deleted: &mut Vec<(usize, String)>,
                 inserted: &mut Vec<(usize, String)>| {
        let n = deleted.len().max(inserted.len());
        let mut d = deleted.drain(..);
        let mut a = inserted.drain(..);
        for _ in 0..n {
            rows.push(SplitRow {
                left: d.next().map(|(no, text)| ("del", no, text)),
                right: a.next().map(|(no, text)| ("add", no, text)),
                gap: false,
            });
        }
    };
    for line in unified(old, new) {
        match (line.kind, line.old, line.new) {
            ("del", Some(no), _) => deleted.push((no, line.text)),
            ("add", _, Some(no)) => inserted.push((no, line.text)),
            ("same", Some(o), Some(n)) => {
                flush(&mut rows, &mut deleted, &mut inserted);
                rows.push(SplitRow {
                    left: Some(("same", o, line.text.clone())),
                    right: Some(("same", n, line.text)),
                    gap: false,
                });
            }
            _ => {
                flush(&mut rows, &mut deleted, &mut inserted);
                rows.push(SplitRow {
                    left: None,
                    right: None,
                    gap: true,
                });
            }
        }
    }
    flush(&mut rows, &mut deleted, &mut inserted);
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    const OLD: &str = "{\n  \"a\": 1,\n  \"b\": 2,\n  \"c\": 3\n}\n";
    const NEW: &str = "{\n  \"a\": 1,\n  \"b\": 20,\n  \"c\": 3,\n  \"d\": 4\n}\n";

    #[test]
    fn unified_marks_added_and_removed_lines_with_their_numbers() {
        let lines = unified(OLD, NEW);
        let changed: Vec<(&str, Option<usize>, Option<usize>, &str)> = lines
            .iter()
            .filter(|l| l.kind != "same")
            .map(|l| (l.kind, l.old, l.new, l.text.as_str()))
            .collect();
        assert_eq!(
            changed,
            vec![
                ("del", Some(3), None, "  \"b\": 2,"),
                ("del", Some(4), None, "  \"c\": 3"),
                ("add", None, Some(3), "  \"b\": 20,"),
                ("add", None, Some(4), "  \"c\": 3,"),
                ("add", None, Some(5), "  \"d\": 4"),
            ]
        );
    }

    #[test]
    fn split_pairs_a_change_across_the_columns() {
        let rows = split(OLD, NEW);
        let paired = rows
            .iter()
            .find(|r| r.left.as_ref().is_some_and(|l| l.0 == "del"))
            .expect("a changed row");
        assert_eq!(paired.left, Some(("del", 3, "  \"b\": 2,".into())));
        assert_eq!(paired.right, Some(("add", 3, "  \"b\": 20,".into())));
        assert!(rows.iter().any(|r| r.left.is_none() && r.right.is_some()));
    }

    #[test]
    fn far_apart_changes_are_separate_hunks() {
        let old: String = (0..40).map(|i| format!("{i}\n")).collect();
        let new = old.replace("2\n", "two\n").replace("35\n", "thirty-five\n");
        assert!(unified(&old, &new).iter().any(|l| l.kind == "gap"));
        assert!(split(&old, &new).iter().any(|r| r.gap));
    }
}
