//! Log lines, kept by the host with the evaluation.
//!
//! ```ignore
//! use conftrail_rule_sdk::log;
//! log::info("checking the bucket policy");
//! log::warn!("group {} is not recorded", id);
//! ```
//!
//! On native targets the lines go to stderr (and to a buffer that
//! [`testing::take_logs`](crate::testing::take_logs) returns).

pub use crate::raw::LogLevel;

/// Logs at the given level.
pub fn log(level: LogLevel, message: &str) {
    crate::host::log(level, message)
}

/// Logs at level debug.
pub fn debug(message: &str) {
    log(LogLevel::Debug, message)
}

/// Logs at level info.
pub fn info(message: &str) {
    log(LogLevel::Info, message)
}

/// Logs at level warn.
pub fn warn(message: &str) {
    log(LogLevel::Warn, message)
}

/// Logs at level error.
pub fn error(message: &str) {
    log(LogLevel::Error, message)
}

pub use crate::{debug, error, info, warn};

/// `debug!("format {}", args)`: formats and logs at level debug.
#[macro_export]
macro_rules! debug {
    ($($arg:tt)*) => { $crate::log::debug(&::std::format!($($arg)*)) };
}

/// `info!("format {}", args)`: formats and logs at level info.
#[macro_export]
macro_rules! info {
    ($($arg:tt)*) => { $crate::log::info(&::std::format!($($arg)*)) };
}

/// `warn!("format {}", args)`: formats and logs at level warn.
#[macro_export]
macro_rules! warn {
    ($($arg:tt)*) => { $crate::log::warn(&::std::format!($($arg)*)) };
}

/// `error!("format {}", args)`: formats and logs at level error.
#[macro_export]
macro_rules! error {
    ($($arg:tt)*) => { $crate::log::error(&::std::format!($($arg)*)) };
}
