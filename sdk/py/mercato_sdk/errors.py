"""PluginError: a failure a plugin reports on purpose."""

from __future__ import annotations

#: The code of :meth:`PluginError.outcome_unknown`.
OUTCOME_UNKNOWN = "outcome_unknown"


class PluginError(Exception):
    """A failure a plugin reports on purpose (bad configuration, unsupported
    input). Raise it from a plugin method: the component answers with the
    WIT ``plugin-error`` ``{code, message}``. Any other exception is a bug:
    it is logged and the call traps, as a Rust panic does."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        #: Stable snake_case code, e.g. ``"invalid_config"``.
        self.code = code
        #: For people.
        self.message = message

    @staticmethod
    def invalid_config(message: str) -> "PluginError":
        """The configuration does not fit the plugin."""
        return PluginError("invalid_config", message)

    @staticmethod
    def unsupported(message: str) -> "PluginError":
        """The input is outside what the plugin supports."""
        return PluginError("unsupported", message)

    @staticmethod
    def invalid_input(message: str) -> "PluginError":
        """The input does not fit the extension point."""
        return PluginError("invalid_input", message)

    @staticmethod
    def outcome_unknown(message: str) -> "PluginError":
        """A payment provider may have acted on the request, but the plugin
        cannot tell (a timeout, a lost connection, a 5xx): the host keeps the
        attempt open and asks again later with the same idempotency key,
        where any other error settles it as failed, nothing taken."""
        return PluginError(OUTCOME_UNKNOWN, message)
