//! Ingest progress on stderr: on a terminal one line redrawn in place, otherwise (when asked
//! for) one line per update; at most four updates a second, so it never slows the ingest.

use std::io::Write;
use std::time::{Duration, Instant};

use crate::app::ingest::IngestProgress;

/// Time between two updates.
const EVERY: Duration = Duration::from_millis(250);

/// Draws ingest progress.
#[derive(Debug)]
pub struct ProgressLine {
    terminal: bool,
    last: Option<Instant>,
    last_document: usize,
}

impl ProgressLine {
    /// Progress redrawn in place (`terminal`) or written line by line.
    pub fn new(terminal: bool) -> Self {
        ProgressLine {
            terminal,
            last: None,
            last_document: 0,
        }
    }

    /// Shows `progress` if the last update is old enough (a new document always shows).
    pub fn update(&mut self, progress: &IngestProgress) {
        // The first update and the last document's start always show: short ingests say
        // something, and the count of files ends right.
        let last_document_starts =
            progress.document == progress.documents && progress.document != self.last_document;
        if !last_document_starts && self.last.is_some_and(|t| t.elapsed() < EVERY) {
            return;
        }
        self.last = Some(Instant::now());
        self.last_document = progress.document;
        let line = describe(progress);
        let mut err = std::io::stderr().lock();
        // Progress is a courtesy: a closed stderr must not fail the ingest.
        let _ = if self.terminal {
            write!(err, "\r\x1b[K{line}")
        } else {
            writeln!(err, "{line}")
        };
        let _ = err.flush();
    }

    /// Clears the line on a terminal, so the report starts on a clean one.
    pub fn finish(&mut self) {
        if self.terminal && self.last.is_some() {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K");
        }
    }
}

/// `ingesting 3/120 files: 4512 items (12 new versions), 80 events, 2 errors`.
fn describe(progress: &IngestProgress) -> String {
    let r = progress.report;
    format!(
        "ingesting {}/{} files: {} items ({} new versions), {} events, {} errors",
        progress.document,
        progress.documents,
        r.items,
        r.new_versions + r.deleted,
        r.events,
        r.errors
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::IngestReport;

    #[test]
    fn the_line_says_where_it_is_and_what_it_counted() {
        let report = IngestReport {
            items: 4512,
            new_versions: 10,
            deleted: 2,
            events: 80,
            errors: 2,
            ..IngestReport::default()
        };
        let line = describe(&IngestProgress {
            document: 3,
            documents: 120,
            report: &report,
        });
        assert_eq!(
            line,
            "ingesting 3/120 files: 4512 items (12 new versions), 80 events, 2 errors"
        );
    }
}
