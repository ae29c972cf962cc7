"""Bounded logging.

Inside the sandbox the messages go to the host's ``mercato:plugin/log``
import, which keeps at most 32 messages of 1 KiB per call and attaches them
to the call's trace; natively (in the fixture runner) they go to a
stand-in. ``print`` goes nowhere inside the sandbox (standard output is a
trapping stub there): log with these functions.
"""

from __future__ import annotations

import sys
from typing import Callable

#: The WIT ``level`` enum cases.
LEVELS = ("debug", "info", "warn", "error")


def _stderr(level: str, message: str) -> None:
    print(f"[{level}] {message}", file=sys.stderr)


_sink: Callable[[str, str], None] = _stderr


def set_sink(fn: Callable[[str, str], None]) -> None:
    """Sends messages to ``fn(level, message)`` from now on: the generated
    component entry passes the host's import, the fixture runner a stand-in."""
    global _sink
    _sink = fn


def log(level: str, message: str) -> None:
    """Logs ``message`` at ``level`` (``"debug"``, ``"info"``, ``"warn"`` or ``"error"``)."""
    if level not in LEVELS:
        raise ValueError(f"log level must be one of {', '.join(LEVELS)}, got {level!r}")
    _sink(level, str(message))


def debug(message: str) -> None:
    """Logs at debug level: detail for the plugin author."""
    log("debug", message)


def info(message: str) -> None:
    """Logs at info level: normal operation."""
    log("info", message)


def warn(message: str) -> None:
    """Logs at warn level: something looks wrong but the call goes on."""
    log("warn", message)


def error(message: str) -> None:
    """Logs at error level: the call is failing."""
    log("error", message)
