//! Bounded logging. Inside the sandbox the host keeps at most 32 messages of
//! 1 KiB per call and attaches them to the call's trace; natively (in tests)
//! messages go to standard error.

/// How important a message is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Level {
    /// Detail for the plugin author.
    Debug,
    /// Normal operation.
    Info,
    /// Something looks wrong but the call goes on.
    Warn,
    /// The call is failing.
    Error,
}

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
