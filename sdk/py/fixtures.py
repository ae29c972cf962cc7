#!/usr/bin/env python3
"""Runs a plugin's fixtures natively in CPython:

    python3 sdk/py/fixtures.py [--verbose] <plugin-dir>...

Each fixtures/<case>.input.json (the friendly JSON form) is turned into the
WIT record the component receives, passed through the same glue the
component runs, and the answer compared with <case>.expected.json. Prints
one line per fixture, the differences of each failure, and
"N passed, N failed"; exits 1 when a fixture fails.

The world's bindings are generated with componentize-py (the toolchain in
target/toolchains/py, see README.md) into target/py-bindings/ the first
time.
"""

import sys
from pathlib import Path

sys.dont_write_bytecode = True  # leave no __pycache__ in the SDK or plugin directories
sys.path.insert(0, str(Path(__file__).resolve().parent))

from mercato_sdk.testing import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
