// Bounded logging. Inside the sandbox the messages go to the host's
// `mercato:plugin/log` import, which keeps at most 32 messages of 1 KiB per
// call and attaches them to the call's trace; natively (in the fixture
// runner) they go to a stand-in. `console` goes nowhere inside the sandbox:
// log with these functions.

/** @typedef {'debug'|'info'|'warn'|'error'} Level */

/** The WIT `level` enum cases. */
export const LEVELS = Object.freeze(['debug', 'info', 'warn', 'error']);

let sink = (level, message) => {
  if (typeof console !== 'undefined') console.error(`[${level}] ${message}`);
};

/**
 * Sends messages to `fn(level, message)` from now on: the generated
 * component entry passes the host's `log` import, the fixture runner its
 * stand-in.
 * @param {(level: Level, message: string) => void} fn
 */
export function setLogSink(fn) {
  sink = fn;
}

/**
 * Logs `message` at `level`.
 * @param {Level} level
 * @param {string} message
 */
export function log(level, message) {
  if (!LEVELS.includes(level)) throw new TypeError(`log level must be one of ${LEVELS.join(', ')}, got ${String(level)}`);
  sink(level, String(message));
}

/** Logs at debug level: detail for the plugin author. */
export function debug(message) {
  log('debug', message);
}

/** Logs at info level: normal operation. */
export function info(message) {
  log('info', message);
}

/** Logs at warn level: something looks wrong but the call goes on. */
export function warn(message) {
  log('warn', message);
}

/** Logs at error level: the call is failing. */
export function error(message) {
  log('error', message);
}
