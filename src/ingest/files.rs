//! Finding input files in directory trees and reading them, gzipped or not.

use flate2::read::MultiGzDecoder;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Largest document accepted, after decompression; protects against gzip bombs.
pub const MAX_DOCUMENT_BYTES: u64 = 512 * 1024 * 1024;

/// A file that could not be found or read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// The path does not exist or cannot be listed.
    #[error("{path}: {source}")]
    Io {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The gzip stream is corrupt.
    #[error("{path}: not a valid gzip stream: {source}")]
    Gzip {
        /// The path concerned.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The document is larger than [`MAX_DOCUMENT_BYTES`].
    #[error("{path}: larger than {limit} bytes (after decompression); split it")]
    TooLarge {
        /// The path concerned.
        path: PathBuf,
        /// The limit in bytes.
        limit: u64,
    },
}

impl FileError {
    /// What went wrong, without the path.
    pub fn reason(&self) -> String {
        match self {
            FileError::Io { source, .. } => source.to_string(),
            FileError::Gzip { source, .. } => format!("not a valid gzip stream: {source}"),
            FileError::TooLarge { limit, .. } => too_large_reason(*limit),
        }
    }
}

/// Why a document over `limit` bytes (after decompression) is refused.
pub(super) fn too_large_reason(limit: u64) -> String {
    format!("larger than {limit} bytes (after decompression); split it")
}

/// Extensions picked up when walking a directory (a named file is always read).
const INPUT_EXTENSIONS: [&str; 4] = ["json", "jsonl", "ndjson", "gz"];

/// The path that means standard input.
pub const STDIN_PATH: &str = "-";

/// Expands files and directories (recursively) into the files to read, in a stable order.
///
/// Files named directly are always included (`-` is standard input); inside directories only
/// `.json`, `.jsonl`, `.ndjson` and `.gz` files are, and hidden entries are passed over.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, FileError> {
    let mut out = Vec::new();
    for path in paths {
        if path.as_os_str() == STDIN_PATH {
            out.push(path.clone());
            continue;
        }
        let meta = fs::metadata(path).map_err(|source| FileError::Io {
            path: path.clone(),
            source,
        })?;
        if meta.is_dir() {
            walk_dir(path, &mut out)?;
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
}

fn walk_dir(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), FileError> {
    let io_err = |source| FileError::Io {
        path: dir.to_path_buf(),
        source,
    };
    let mut entries: Vec<_> = fs::read_dir(dir)
        .map_err(io_err)?
        .collect::<Result<_, _>>()
        .map_err(io_err)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name();
        if name.to_string_lossy().starts_with('.') {
            continue;
        }
        let path = entry.path();
        // file_type() does not follow symlinks, so a link cannot make the walk loop.
        let file_type = entry.file_type().map_err(|source| FileError::Io {
            path: path.clone(),
            source,
        })?;
        if file_type.is_dir() {
            walk_dir(&path, out)?;
        } else if has_input_extension(&path) {
            out.push(path);
        }
    }
    Ok(())
}

fn has_input_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| INPUT_EXTENSIONS.iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Opens a document for reading as it is stored (`-`: standard input); gzip is recognised and
/// decompressed by [`read_records`](super::read_records).
pub fn open_input(path: &Path) -> Result<Box<dyn Read>, FileError> {
    if path.as_os_str() == STDIN_PATH {
        return Ok(Box::new(std::io::stdin()));
    }
    let file = fs::File::open(path).map_err(|source| FileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(Box::new(file))
}

/// Reads a whole document into memory (`-`: standard input), decompressing gzip (recognised by
/// its magic bytes, not its name); for small inputs such as a rule test's items (ingest streams
/// documents with [`read_records`](super::read_records) instead).
pub fn read_document(path: &Path) -> Result<Vec<u8>, FileError> {
    if path.as_os_str() == STDIN_PATH {
        return read_limited(std::io::stdin().lock(), path);
    }
    let file = fs::File::open(path).map_err(|source| FileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    read_limited(file, path)
}

fn read_limited(reader: impl Read, path: &Path) -> Result<Vec<u8>, FileError> {
    let mut raw = Vec::new();
    reader
        .take(MAX_DOCUMENT_BYTES + 1)
        .read_to_end(&mut raw)
        .map_err(|source| FileError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    decompress(raw, path)
}

/// Checks that a document in memory (a request body) decompresses within
/// [`MAX_DOCUMENT_BYTES`] when it is gzip, keeping nothing of what it decompresses: a broken or
/// oversized body is then refused whole, before any of it is recorded.
pub fn check_document(raw: &[u8], path: &Path) -> Result<(), FileError> {
    let size = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut decoder = MultiGzDecoder::new(raw).take(MAX_DOCUMENT_BYTES + 1);
        std::io::copy(&mut decoder, &mut std::io::sink()).map_err(|source| FileError::Gzip {
            path: path.to_path_buf(),
            source,
        })?
    } else {
        raw.len() as u64
    };
    if size > MAX_DOCUMENT_BYTES {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(())
}

/// A document's bytes, gunzipped when they start with gzip's magic bytes, within the size limit.
fn decompress(raw: Vec<u8>, path: &Path) -> Result<Vec<u8>, FileError> {
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        MultiGzDecoder::new(raw.as_slice())
            .take(MAX_DOCUMENT_BYTES + 1)
            .read_to_end(&mut out)
            .map_err(|source| FileError::Gzip {
                path: path.to_path_buf(),
                source,
            })?;
        out
    } else {
        raw
    };
    if bytes.len() as u64 > MAX_DOCUMENT_BYTES {
        return Err(FileError::TooLarge {
            path: path.to_path_buf(),
            limit: MAX_DOCUMENT_BYTES,
        });
    }
    Ok(bytes)
}
