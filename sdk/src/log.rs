//! Bounded logging. Inside the sandbox the host keeps at most 32 messages of
//! 1 KiB per call and attaches them to the call's trace; natively (in tests)
//! messages go to standard error.

pub use crate::types::Level;

/// Logs `message` at `level`.
pub fn log(level: Level, message: &str) {
    crate::__private::emit_log(level, message);
}

/// Logs at debug level.
pub fn debug(message: &str) {
    log(Level::Debug, message);
}

/// Logs at info level.
pub fn info(message: &str) {
    log(Level::Info, message);
}

/// Logs at warn level.
pub fn warn(message: &str) {
    log(Level::Warn, message);
}

/// Logs at error level.
pub fn error(message: &str) {
    log(Level::Error, message);
}
