//! Parsing only: every real-world shape of configuration items and CloudTrail records in, model
//! types out.
//!
//! AWS API describe output (EC2 `DescribeSecurityGroups`) is read too: [`describe`] maps each
//! resource to the configuration item AWS Config would record for it (and maps S3's answers
//! about a bucket, for a collector that asks them).
//!
//! A document (one file or request body) holds records. Each record either becomes a
//! [`ConfigurationItem`] or an [`ApiEvent`], is skipped with a note (it carries neither: a
//! scheduled notification, a CloudTrail digest file, …), or is invalid with a reason. One bad
//! record never stops the others.

mod budget;
mod cloudtrail;
mod config_item;
pub mod describe;
mod files;
mod json_type;
mod limits;
mod shapes;
mod stream;

pub use budget::MAX_RECORD_MEMORY;
pub use files::{
    check_document, collect_files, open_input, read_document, FileError, MAX_DOCUMENT_BYTES,
};
pub use stream::{
    read_records, RecordSink, MAX_NESTING, MAX_RECORDS_PER_DOCUMENT, MAX_RECORD_BYTES,
};

use crate::model::{ApiEvent, ConfigurationItem};

/// What became of one record of a document.
#[derive(Debug, Clone)]
pub enum RecordOutcome {
    /// A configuration item to record.
    Item(Box<ConfigurationItem>),
    /// An API call (a CloudTrail record) to store and link.
    Event(Box<ApiEvent>),
    /// A record that carries neither a configuration item nor an API event (a scheduled
    /// notification, a CloudTrail digest or delivery notification, …), and why.
    Skipped(String),
    /// A record that could not be read, and why.
    Invalid(String),
}

/// One record of a document with where it sits in the document.
#[derive(Debug, Clone)]
pub struct ParsedRecord {
    /// Where the record is: `line 3`, `configurationItems[2]`, `Message > configurationItem`,
    /// `Records[4]`, `Events[0] > CloudTrailEvent`; empty for the document as a whole.
    pub location: String,
    /// What became of it.
    pub outcome: RecordOutcome,
    /// Optional fields of an item or event that were missing or malformed and left empty (or,
    /// for an event id, derived).
    pub warnings: Vec<String>,
}

/// Parses one document's bytes (gzipped or not) into its records, within the same bounds as
/// [`read_records`].
///
/// Accepts a single JSON value of any supported shape, or JSON lines (one value per line).
pub fn parse_document(bytes: &[u8]) -> Vec<ParsedRecord> {
    let mut out = Vec::new();
    read_records(bytes, &mut |record, _| {
        out.push(record);
        std::ops::ControlFlow::Continue(())
    });
    out
}

#[cfg(test)]
mod cloudtrail_tests;
#[cfg(test)]
mod stream_tests;
#[cfg(test)]
mod tests;
