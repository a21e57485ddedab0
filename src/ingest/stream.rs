//! Reading one document as a stream of records within fixed bounds, so that memory follows the
//! largest record rather than the size of the document.
//!
//! A document of at most [`MAX_RECORD_BYTES`] is read whole and parsed from memory (the fast
//! path, and most files). A larger one is decompressed and parsed as it is read: the elements
//! of a top-level array, of the lists of known envelopes (`configurationItems`,
//! `baseConfigurationItems`, `Records`, `Events`, and EC2's `SecurityGroups`, `Reservations`,
//! `Vpcs` and `Subnets`) and the lines of JSON lines are each parsed, classified and handed on
//! before the next is read. Every record, and whatever else a document
//! holds besides those lists, is at most [`MAX_RECORD_BYTES`] of JSON and takes at most
//! [`MAX_RECORD_MEMORY`](super::MAX_RECORD_MEMORY) once parsed; a document holds at most
//! [`MAX_RECORDS_PER_DOCUMENT`] records and nests at most [`MAX_NESTING`] levels deep.

use super::budget::{self, Bounded, Budget};
use super::files::{too_large_reason, MAX_DOCUMENT_BYTES};
use super::shapes;
use super::{ParsedRecord, RecordOutcome};
use flate2::bufread::MultiGzDecoder;
use serde::de::{DeserializeSeed, Error as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_json::{Map, Value};
use std::cell::{Cell, RefCell};
use std::fmt;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::ops::ControlFlow;
use std::rc::Rc;

/// Largest record (an array or list element, a line, or a document that is neither), in bytes
/// of JSON. A parsed record takes several times its text in memory, so this bounds memory.
pub const MAX_RECORD_BYTES: usize = 4 * 1024 * 1024;

/// Most records read from one document; the rest is reported as not read.
pub const MAX_RECORDS_PER_DOCUMENT: usize = 1_000_000;

/// Deepest nesting accepted, in arrays and objects (serde_json's recursion limit of 128 stops
/// the 128th level).
pub const MAX_NESTING: usize = 127;

/// Buffer between the decompressor and the parser: also the precision of the record limit.
const BUFFER_BYTES: usize = 64 * 1024;

/// Receives each record of a document as it is parsed, with its weight: the estimated memory
/// of the JSON it came from (the first record of a value that holds several carries it all),
/// for bounding what is held in batches. `Break` stops reading.
pub type RecordSink<'a> = dyn FnMut(ParsedRecord, u64) -> ControlFlow<()> + 'a;

/// Reads one document (gzip recognised by its magic bytes) and hands each record to `sink` as
/// soon as it is parsed. Nothing is returned: a document that cannot be read, or stops being
/// readable, ends with an invalid record saying why (with an empty location for the document
/// as a whole).
pub fn read_records(input: impl Read, sink: &mut RecordSink<'_>) {
    let tracker = Rc::new(Tracker::new());
    let mut emit = Emitter::new(sink, tracker.clone());
    let mut input = BufReader::with_capacity(BUFFER_BYTES, input);
    let mut magic = Vec::with_capacity(2);
    if let Err(e) = (&mut input).take(2).read_to_end(&mut magic) {
        emit.last(String::new(), e.to_string());
        return;
    }
    let gzip = magic.starts_with(&[0x1f, 0x8b]);
    let head = Cursor::new(magic).chain(input);
    if gzip {
        read_decoded(
            Source::new(MultiGzDecoder::new(head), true, &tracker),
            &mut emit,
        );
    } else {
        read_decoded(Source::new(head, false, &tracker), &mut emit);
    }
}

fn read_decoded(mut source: impl Read, emit: &mut Emitter<'_>) {
    let mut prefix = Vec::new();
    loop {
        prefix.clear();
        if (&mut source)
            .take(MAX_RECORD_BYTES as u64 + 1)
            .read_to_end(&mut prefix)
            .is_err()
        {
            emit.report_failure();
            return;
        }
        // Whitespace before the first value is no record: more than a record's worth is read
        // past (up to the document cap) instead of being refused as a record too large.
        if prefix.len() <= MAX_RECORD_BYTES || !prefix.iter().all(u8::is_ascii_whitespace) {
            break;
        }
    }
    let start = if prefix.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    if prefix.len() <= MAX_RECORD_BYTES {
        let text = &prefix[start..];
        if text.iter().all(u8::is_ascii_whitespace) {
            emit.last(String::new(), "empty document".to_string());
        } else if is_json_lines(text) {
            read_lines(Cursor::new(text), emit);
        } else {
            // Checked first (cheaply: nothing is built), so invalid JSON rejects a document
            // read whole entirely, rather than after some of its records.
            let mut de = serde_json::Deserializer::from_slice(text);
            match Check.deserialize(&mut de).and_then(|()| de.end()) {
                Ok(()) => parse_single(serde_json::Deserializer::from_slice(text), emit),
                Err(e) => emit.last(String::new(), not_valid_json(&e)),
            }
        }
        return;
    }
    let lines = is_json_lines(&prefix[start..]);
    let mut head = Cursor::new(prefix);
    head.set_position(start as u64);
    let tracker = emit.tracker.clone();
    let reader = BufReader::with_capacity(
        BUFFER_BYTES,
        Position {
            inner: head.chain(source),
            tracker,
        },
    );
    if lines {
        read_lines(reader, emit);
    } else {
        parse_single(serde_json::Deserializer::from_reader(reader), emit);
    }
}

/// JSON lines when there is more than one non-blank line and the first one is a record of its
/// own: a complete value, a line whose brackets balance (a value a parser refuses: `NaN`, a
/// number out of range, bad UTF-8…), or a broken line (the document is not one value, and not
/// for want of an ending) followed by a complete value. A document that is one value spread
/// over several lines starts with a bracket left open, and reads on as one value.
fn is_json_lines(text: &[u8]) -> bool {
    let Some(first_start) = text.iter().position(|b| !b.is_ascii_whitespace()) else {
        return false;
    };
    let text = &text[first_start..];
    let Some(end) = text.iter().position(|b| *b == b'\n') else {
        return false;
    };
    let (first, rest) = (&text[..end], &text[end + 1..]);
    if rest.iter().all(u8::is_ascii_whitespace) {
        return false;
    }
    if is_complete_value(first) || brackets_balance(first) {
        return true;
    }
    match IgnoredAny::deserialize(&mut serde_json::Deserializer::from_slice(text)) {
        Ok(_) => false,
        Err(e) => {
            !e.is_eof()
                && rest
                    .split(|b| *b == b'\n')
                    .find(|line| !line.iter().all(u8::is_ascii_whitespace))
                    .is_some_and(is_complete_value)
        }
    }
}

fn is_complete_value(line: &[u8]) -> bool {
    serde_json::from_slice::<IgnoredAny>(line).is_ok()
}

/// Whether every bracket opened on the line is closed on it (outside strings), none closed
/// that was not opened, and no string is left open.
fn brackets_balance(line: &[u8]) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in line {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match b {
                b'"' => in_string = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => match depth.checked_sub(1) {
                    Some(d) => depth = d,
                    None => return false,
                },
                _ => {}
            }
        }
    }
    depth == 0 && !in_string
}

/// JSON lines: each line is parsed on its own, so a bad line is one invalid record.
fn read_lines(mut reader: impl BufRead, emit: &mut Emitter<'_>) {
    let mut line = Vec::new();
    let mut number = 0usize;
    loop {
        line.clear();
        let read = match read_line_bounded(&mut reader, &mut line) {
            Ok(read) => read,
            Err(_) => {
                emit.report_failure();
                return;
            }
        };
        let too_long = match read {
            LineRead::End => return,
            LineRead::Line => false,
            LineRead::TooLong => true,
        };
        number += 1;
        if !too_long && line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let location = format!("line {number}");
        let flow = if too_long {
            emit.push(
                invalid(
                    location,
                    format!("longer than {MAX_RECORD_BYTES} bytes, the most a record may be"),
                ),
                0,
            )
        } else {
            let budget = Budget::record();
            let mut de = serde_json::Deserializer::from_slice(&line);
            match Bounded(&budget)
                .deserialize(&mut de)
                .and_then(|value| de.end().map(|()| value))
            {
                Ok(_) if budget.exceeded() => {
                    emit.push(invalid(location, budget::too_much_memory_reason()), 0)
                }
                Ok(value) => emit.classify(budget.spent(), |out| {
                    shapes::classify(value, location, 0, out)
                }),
                Err(e) => emit.push(invalid(location, not_valid_json(&e)), 0),
            }
        };
        if flow.is_break() {
            emit.report_stop();
            return;
        }
    }
}

enum LineRead {
    End,
    Line,
    TooLong,
}

/// Reads one line (without its newline) into `line`, or skips it when it is longer than
/// [`MAX_RECORD_BYTES`].
fn read_line_bounded(reader: &mut impl BufRead, line: &mut Vec<u8>) -> io::Result<LineRead> {
    let mut any = false;
    let mut too_long = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(buf) => buf,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            break;
        }
        any = true;
        let newline = buf.iter().position(|b| *b == b'\n');
        let chunk = &buf[..newline.unwrap_or(buf.len())];
        if !too_long {
            if line.len() + chunk.len() > MAX_RECORD_BYTES {
                too_long = true;
                line.clear();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = newline.map_or(buf.len(), |i| i + 1);
        reader.consume(used);
        if newline.is_some() {
            break;
        }
    }
    Ok(match (any, too_long) {
        (false, _) => LineRead::End,
        (true, false) => LineRead::Line,
        (true, true) => LineRead::TooLong,
    })
}

/// One JSON value: a top-level array and the lists of known envelopes are streamed; anything
/// else is one record, classified once the whole document proved valid.
fn parse_single<'de, R: serde_json::de::Read<'de>>(
    mut de: serde_json::Deserializer<R>,
    emit: &mut Emitter<'_>,
) {
    emit.begin(String::new());
    let parsed = Streaming {
        emit: &mut *emit,
        list: None,
    }
    .deserialize(&mut de)
    .and_then(|value| de.end().map(|()| value));
    match parsed {
        Ok(Some(_)) if emit.envelope.exceeded() => {
            emit.last(String::new(), budget::too_much_memory_reason());
        }
        Ok(Some(value)) => {
            let spent = emit.envelope.spent();
            if emit
                .classify(spent, |out| shapes::classify(value, String::new(), 0, out))
                .is_break()
            {
                emit.report_stop();
            }
        }
        Ok(None) => {}
        Err(e) => emit.report_error(&e),
    }
}

/// Reads a JSON value as building one would (the same checks, errors and positions: strings
/// decoded, numbers in range, nesting counted) without building anything.
struct Check;

impl<'de> DeserializeSeed<'de> for Check {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Check {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_none<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(Check)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key_seed(Check)?.is_some() {
            map.next_value_seed(Check)?;
        }
        Ok(())
    }
}

/// Deserializes the top of a document (`list: None`) or the value of an envelope's list,
/// handing on each element of an array as it is read. Returns the value when it is not an
/// array to stream (for the caller to classify), `None` when it was streamed.
struct Streaming<'e, 's> {
    emit: &'e mut Emitter<'s>,
    list: Option<&'static str>,
}

impl<'de> DeserializeSeed<'de> for Streaming<'_, '_> {
    type Value = Option<Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Streaming<'_, '_> {
    type Value = Option<Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(Value::Bool(v)))
    }

    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Some(Value::from(v)))
    }

    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v.to_string())))
    }

    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(Value::String(v)))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Some(Value::Null))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let (emit, list) = (self.emit, self.list);
        let mut index = 0usize;
        loop {
            emit.begin(match list {
                Some(key) => format!("{key}[{index}]"),
                None => format!("[{index}]"),
            });
            let budget = Budget::record();
            let Some(value) = seq.next_element_seed(Bounded(&budget))? else {
                break;
            };
            let location = emit.location.clone();
            let flow = if budget.exceeded() {
                emit.push(invalid(location, budget::too_much_memory_reason()), 0)
            } else {
                emit.classify(budget.spent(), |out| match list {
                    Some(key) => shapes::classify_list_entry(key, value, location, out),
                    // As the elements of any array: one level down.
                    None => shapes::classify(value, location, 1, out),
                })
            };
            if flow.is_break() {
                return Err(A::Error::custom("stopped"));
            }
            index += 1;
        }
        // What follows the list in an envelope has a budget of its own.
        emit.begin(String::new());
        Ok(None)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let emit = self.emit;
        if self.list.is_some() {
            // A list that is not an array: classify_object reports it like any other value.
            let value = Bounded(&emit.envelope)
                .deserialize(serde::de::value::MapAccessDeserializer::new(map))?;
            return Ok(Some(value));
        }
        let mut obj = Map::new();
        let (mut seen_list, mut streamed) = (false, false);
        while let Some(key) = map.next_key::<String>()? {
            emit.envelope.charge_key(&key);
            match shapes::list_key(&key) {
                Some(list) if !seen_list => {
                    seen_list = true;
                    let seed = Streaming {
                        emit: &mut *emit,
                        list: Some(list),
                    };
                    match map.next_value_seed(seed)? {
                        Some(value) => {
                            obj.insert(key, value);
                        }
                        None => streamed = true,
                    }
                }
                // classify_object reads one list per envelope; the first one here (documents
                // hold only one).
                Some(_) => {
                    map.next_value::<IgnoredAny>()?;
                }
                None => {
                    let value = map.next_value_seed(Bounded(&emit.envelope))?;
                    obj.insert(key, value);
                }
            }
        }
        Ok((!streamed).then_some(Value::Object(obj)))
    }
}

/// Hands records to the sink, counting them, and says why a document stopped.
struct Emitter<'s> {
    sink: &'s mut RecordSink<'s>,
    tracker: Rc<Tracker>,
    emitted: usize,
    pending: Vec<ParsedRecord>,
    stop: Option<Stop>,
    /// Where the record being read sits, for an error that stops the document there.
    location: String,
    /// What the document's top value spends besides the lists it streams.
    envelope: Budget,
}

/// Why the emitter stopped a document.
enum Stop {
    /// The sink asked to stop.
    Sink,
    /// [`MAX_RECORDS_PER_DOCUMENT`] records were read and more followed.
    TooManyRecords,
}

impl<'s> Emitter<'s> {
    fn new(sink: &'s mut RecordSink<'s>, tracker: Rc<Tracker>) -> Self {
        Emitter {
            sink,
            tracker,
            emitted: 0,
            pending: Vec::new(),
            stop: None,
            location: String::new(),
            envelope: Budget::record(),
        }
    }

    /// A new record starts here: it gets the full record budget (plus what may already be
    /// buffered ahead of the parser, so a record within the limit always passes).
    fn begin(&mut self, location: String) {
        self.location = location;
        let limit = self.tracker.pos.get() + (MAX_RECORD_BYTES + BUFFER_BYTES) as u64;
        self.tracker.limit.set(limit);
    }

    /// Classifies a value whose tree cost `spent` into records and hands them on.
    fn classify(
        &mut self,
        spent: usize,
        f: impl FnOnce(&mut Vec<ParsedRecord>),
    ) -> ControlFlow<()> {
        let mut pending = std::mem::take(&mut self.pending);
        let ((), spent) = budget::classify_within(spent, || f(&mut pending));
        let mut weight = spent as u64;
        let mut flow = ControlFlow::Continue(());
        for record in pending.drain(..) {
            flow = self.push(record, std::mem::take(&mut weight));
            if flow.is_break() {
                break;
            }
        }
        pending.clear();
        self.pending = pending;
        flow
    }

    fn push(&mut self, record: ParsedRecord, weight: u64) -> ControlFlow<()> {
        if self.emitted >= MAX_RECORDS_PER_DOCUMENT {
            self.stop = Some(Stop::TooManyRecords);
            return ControlFlow::Break(());
        }
        self.emitted += 1;
        if (self.sink)(record, weight).is_break() {
            self.stop = Some(Stop::Sink);
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    }

    /// The document's last record: why it ended early (not counted against the cap).
    fn last(&mut self, location: String, reason: String) {
        if !matches!(self.stop, Some(Stop::Sink)) {
            let _ = (self.sink)(invalid(location, reason), 0);
        }
    }

    /// After the emitter stopped the document: says why, unless the sink asked.
    fn report_stop(&mut self) {
        if let Some(Stop::TooManyRecords) = self.stop {
            self.last(
                String::new(),
                format!(
                    "more than {MAX_RECORDS_PER_DOCUMENT} records in one document: the rest \
                     was not read; split it"
                ),
            );
        }
    }

    /// After reading failed: the limit hit, the gzip or I/O error.
    fn report_failure(&mut self) {
        let failure = self.tracker.failure.borrow_mut().take();
        let (location, reason) = match failure {
            Some(Failure::DocumentTooLarge) => {
                (String::new(), too_large_reason(MAX_DOCUMENT_BYTES))
            }
            Some(Failure::RecordTooLarge) => (
                self.location.clone(),
                format!(
                    "larger than {MAX_RECORD_BYTES} bytes of JSON, the most a record may be: \
                     the rest of the document was not read; split it"
                ),
            ),
            Some(Failure::Gzip(e)) => (String::new(), format!("not a valid gzip stream: {e}")),
            Some(Failure::Io(e)) => (String::new(), e),
            None => (String::new(), "the document could not be read".to_string()),
        };
        self.last(location, reason);
    }

    /// After the parser failed: because the emitter stopped it, because reading failed, or
    /// because the JSON is not valid.
    fn report_error(&mut self, e: &serde_json::Error) {
        if self.stop.is_some() {
            self.report_stop();
        } else if e.is_io() {
            self.report_failure();
        } else {
            // Invalid JSON is a fault of the document (its line and column say where), even
            // when records before it were read.
            let mut reason = not_valid_json(e);
            if self.emitted > 0 {
                reason.push_str(" (the rest of the document was not read)");
            }
            self.last(String::new(), reason);
        }
    }
}

/// Counts what is read, enforces the limits, and remembers why reading failed (the parser
/// only sees an I/O error).
struct Tracker {
    /// Decompressed bytes read.
    read: Cell<u64>,
    /// Bytes handed to the parser (from the start of the text).
    pos: Cell<u64>,
    /// `pos` may not pass this while the current record is read.
    limit: Cell<u64>,
    failure: RefCell<Option<Failure>>,
}

impl Tracker {
    fn new() -> Self {
        Tracker {
            read: Cell::new(0),
            pos: Cell::new(0),
            limit: Cell::new(u64::MAX),
            failure: RefCell::new(None),
        }
    }

    fn fail(&self, failure: Failure) -> io::Error {
        let message = match &failure {
            Failure::DocumentTooLarge => "document too large",
            Failure::RecordTooLarge => "record too large",
            Failure::Gzip(_) | Failure::Io(_) => "read failed",
        };
        let mut slot = self.failure.borrow_mut();
        if slot.is_none() {
            *slot = Some(failure);
        }
        io::Error::other(message)
    }
}

enum Failure {
    DocumentTooLarge,
    RecordTooLarge,
    Gzip(String),
    Io(String),
}

/// The decompressed stream: enforces [`MAX_DOCUMENT_BYTES`] and tells gzip errors apart.
struct Source<R> {
    inner: R,
    gzip: bool,
    tracker: Rc<Tracker>,
}

impl<R> Source<R> {
    fn new(inner: R, gzip: bool, tracker: &Rc<Tracker>) -> Self {
        Source {
            inner,
            gzip,
            tracker: tracker.clone(),
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = match self.inner.read(buf) {
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
            Err(e) => {
                let text = e.to_string();
                return Err(self.tracker.fail(if self.gzip {
                    Failure::Gzip(text)
                } else {
                    Failure::Io(text)
                }));
            }
        };
        let read = self.tracker.read.get() + n as u64;
        self.tracker.read.set(read);
        if read > MAX_DOCUMENT_BYTES {
            return Err(self.tracker.fail(Failure::DocumentTooLarge));
        }
        Ok(n)
    }
}

/// What the parser reads: counts its position and stops a record that outgrows its budget.
struct Position<R> {
    inner: R,
    tracker: Rc<Tracker>,
}

impl<R: Read> Read for Position<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let pos = self.tracker.pos.get() + n as u64;
        self.tracker.pos.set(pos);
        if pos > self.tracker.limit.get() {
            return Err(self.tracker.fail(Failure::RecordTooLarge));
        }
        Ok(n)
    }
}

fn invalid(location: String, reason: String) -> ParsedRecord {
    ParsedRecord {
        location,
        outcome: RecordOutcome::Invalid(reason),
        warnings: Vec::new(),
    }
}

/// The reason for JSON the parser refused, naming the nesting limit when that is what it hit.
pub(super) fn not_valid_json(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.strip_prefix("recursion limit exceeded") {
        Some(at) => format!(
            "nested deeper than {MAX_NESTING} levels, the most accepted (recursion limit \
             exceeded{at})"
        ),
        None => format!("not valid JSON: {text}"),
    }
}
