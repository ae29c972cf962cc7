// PluginError: a failure a plugin reports on purpose.

/** The code of {@link PluginError.outcomeUnknown}. */
export const OUTCOME_UNKNOWN = 'outcome_unknown';

/**
 * A failure a plugin reports on purpose (bad configuration, unsupported
 * input). Throw it from a plugin function: the component answers with the
 * WIT `plugin-error` `{code, message}`. Any other exception is a bug: it is
 * logged and the call traps, as a Rust panic does.
 */
export class PluginError extends Error {
  /**
   * @param {string} code stable snake_case code, e.g. `"invalid_config"`
   * @param {string} message for people
   */
  constructor(code, message) {
    super(message);
    this.name = 'PluginError';
    /** Stable snake_case code. */
    this.code = code;
  }

  /** The configuration does not fit the plugin. */
  static invalidConfig(message) {
    return new PluginError('invalid_config', message);
  }

  /** The input is outside what the plugin supports. */
  static unsupported(message) {
    return new PluginError('unsupported', message);
  }

  /** The input does not fit the extension point. */
  static invalidInput(message) {
    return new PluginError('invalid_input', message);
  }

  /**
   * A payment provider may have acted on the request, but the plugin cannot
   * tell (a timeout, a lost connection, a 5xx): the host keeps the attempt
   * open and asks again later with the same idempotency key, where any
   * other error settles it as failed, nothing taken.
   */
  static outcomeUnknown(message) {
    return new PluginError(OUTCOME_UNKNOWN, message);
  }

  /** `code: message`. */
  toString() {
    return `${this.code}: ${this.message}`;
  }

  /** The WIT record `{code, message}`. */
  toJSON() {
    return { code: this.code, message: this.message };
  }
}

/** Whether `e` is a {@link PluginError} (also across copies of the SDK). */
export function isPluginError(e) {
  return e instanceof PluginError || (e !== null && typeof e === 'object' && e.name === 'PluginError' && typeof e.code === 'string');
}
