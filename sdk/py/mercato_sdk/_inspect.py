"""What a built component imports and how much linear memory it starts
with, read from its binary; and the host's sandbox policy on imports."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

#: What every plugin may import (the host's install check).
COMMON_IMPORTS = (
    "mercato:plugin/types",
    "mercato:plugin/log",
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:clocks/wall-clock",
    "wasi:clocks/monotonic-clock",
    "wasi:random/random",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
)

#: Imports one extension point adds to the common set.
EXTRA_IMPORTS: Dict[str, Tuple[str, ...]] = {
    "payment": ("wasi:http/types", "wasi:http/outgoing-handler"),
    "recommendations": ("mercato:plugin/catalog",),
}


def import_allowed(point: str, contract: str, name: str) -> bool:
    """Whether a component of ``point`` speaking mercato:plugin@``contract``
    may import ``name`` (``ns:pkg/iface@version``)."""
    base, _, version = name.partition("@")
    listed = base in COMMON_IMPORTS or base in EXTRA_IMPORTS.get(point, ())
    if not listed or not version:
        return False
    return version == contract if base.startswith("mercato:") else version.startswith("0.2.")


def _leb(b: bytes, p: int) -> Tuple[int, int]:
    result = shift = 0
    while True:
        byte = b[p]
        p += 1
        result |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return result, p


def _name(b: bytes, p: int) -> Tuple[str, int]:
    n, p = _leb(b, p)
    return b[p : p + n].decode("utf-8"), p + n


def _limits(b: bytes, p: int) -> Tuple[int, Optional[int], int]:
    flags = b[p]
    p += 1
    lo, p = _leb(b, p)
    hi = None
    if flags & 1:
        hi, p = _leb(b, p)
    return lo, hi, p


def _core(b: bytes, start: int, end: int, memories: List[Dict[str, Any]]) -> None:
    p = start + 8
    while p < end:
        section = b[p]
        size, p = _leb(b, p + 1)
        nxt = p + size
        if section == 2:
            n, p = _leb(b, p)
            for _ in range(n):
                module, p = _name(b, p)
                field, p = _name(b, p)
                kind = b[p]
                p += 1
                if kind == 0:
                    _, p = _leb(b, p)
                elif kind == 1:
                    _, _, p = _limits(b, p + 1)
                elif kind == 2:
                    lo, _, p = _limits(b, p)
                    memories.append({"imported": f"{module}.{field}", "min_pages": lo})
                elif kind == 3:
                    p += 2
                elif kind == 4:
                    _, p = _leb(b, p + 1)
        elif section == 5:
            n, p = _leb(b, p)
            for _ in range(n):
                lo, hi, p = _limits(b, p)
                memories.append({"min_pages": lo, "max_pages": hi})
        p = nxt


def _walk(b: bytes, start: int, end: int, top: bool, imports: List[str], memories: List[Dict[str, Any]]) -> None:
    p = start + 8
    while p < end:
        section = b[p]
        size, p = _leb(b, p + 1)
        nxt = p + size
        if section == 1:
            _core(b, p, nxt, memories)
        elif section == 4:
            _walk(b, p, nxt, False, imports, memories)
        elif section == 10 and top:
            n, p = _leb(b, p)
            for _ in range(n):
                form = b[p]
                name, p = _name(b, p + 1)
                if form == 0x01:
                    _, p = _name(b, p)  # a version suffix
                imports.append(name)
                kind = b[p]
                p += 1
                if kind == 0x00:
                    _, p = _leb(b, p + 1)
                elif kind in (0x02, 0x03):
                    sub = b[p]
                    p += 1
                    if not (kind == 0x03 and sub == 0x01):
                        _, p = _leb(b, p)
                else:
                    _, p = _leb(b, p)
        p = nxt


def inspect_component(data: bytes) -> Dict[str, Any]:
    """Reads a component binary: its size, imports, memories and initial
    linear memory (the defined memories' minimum sizes, in bytes)."""
    if len(data) < 8 or data[:4] != b"\0asm" or data[6:8] != b"\x01\x00":
        raise ValueError("not a WebAssembly component")
    imports: List[str] = []
    memories: List[Dict[str, Any]] = []
    _walk(data, 0, len(data), True, imports, memories)
    initial = sum(m["min_pages"] * 65536 for m in memories if "imported" not in m)
    return {"size": len(data), "imports": imports, "memories": memories, "initial_memory_bytes": initial}
