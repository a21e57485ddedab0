//! The host imports (`log`, `lookup`) and the panic hook.
//!
//! On wasm32 they call the host. On other targets (native `cargo test`) there is no host: log
//! lines go to stderr and to a per-thread buffer, and `lookup` answers from a per-thread map
//! that tests fill (see [`crate::testing`]).

use crate::raw::LogLevel;
use crate::Item;

/// The latest recorded configuration of another resource in the same account and region as the
/// item being evaluated; `None` when conftrail has not recorded it or it was deleted.
///
/// ```ignore
/// if let Some(sg) = lookup("AWS::EC2::SecurityGroup", "sg-0123") { /* ... */ }
/// ```
pub fn lookup(resource_type: &str, resource_id: &str) -> Option<Item> {
    imp::lookup(resource_type, resource_id).map(Item::from_raw)
}

/// Sends one log line to the host.
pub(crate) fn log(level: LogLevel, message: &str) {
    imp::log(level, message)
}

/// Installs (once) a panic hook that reports the panic message and location through the host
/// log at level error. With `panic = "abort"` the module traps right after.
pub(crate) fn install_panic_hook() {
    #[cfg(target_arch = "wasm32")]
    {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| {
            std::panic::set_hook(Box::new(|info| {
                let message = info
                    .payload_as_str()
                    .unwrap_or("(non-string panic payload)");
                let text = match info.location() {
                    Some(l) => format!(
                        "panic: {message} (at {}:{}:{})",
                        l.file(),
                        l.line(),
                        l.column()
                    ),
                    None => format!("panic: {message}"),
                };
                log(LogLevel::Error, &text);
            }));
        });
    }
}

#[cfg(target_arch = "wasm32")]
mod imp {
    use crate::bindings::conftrail::rule::host;
    use crate::raw::{self, LogLevel};

    pub fn lookup(resource_type: &str, resource_id: &str) -> Option<raw::Item> {
        host::lookup(resource_type, resource_id)
    }

    pub fn log(level: LogLevel, message: &str) {
        host::log(level, message)
    }
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) mod imp {
    use std::cell::RefCell;
    use std::collections::HashMap;

    use crate::raw::{self, LogLevel};

    thread_local! {
        pub(crate) static LOOKUPS: RefCell<HashMap<(String, String), raw::Item>> = RefCell::new(HashMap::new());
        pub(crate) static LOOKUP_CALLS: RefCell<Vec<(String, String)>> = const { RefCell::new(Vec::new()) };
        pub(crate) static LOGS: RefCell<Vec<(LogLevel, String)>> = const { RefCell::new(Vec::new()) };
        pub(crate) static LOG_TO_STDERR: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
    }

    pub fn lookup(resource_type: &str, resource_id: &str) -> Option<raw::Item> {
        LOOKUP_CALLS.with(|c| {
            c.borrow_mut()
                .push((resource_type.to_string(), resource_id.to_string()))
        });
        LOOKUPS.with(|m| {
            m.borrow()
                .get(&(resource_type.to_string(), resource_id.to_string()))
                .cloned()
        })
    }

    pub fn log(level: LogLevel, message: &str) {
        if LOG_TO_STDERR.with(|c| c.get()) {
            eprintln!("[rule {level}] {message}");
        }
        LOGS.with(|l| l.borrow_mut().push((level, message.to_string())));
    }
}
