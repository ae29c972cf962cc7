#!/usr/bin/env python3
"""Builds a Python plugin into a WebAssembly component:

    python3 sdk/py/build.py <plugin-dir> [-o <out.wasm>] [--componentize-py <path>] [--wit <dir>]

1. reads <plugin-dir>/pyproject.toml ([project] name, version, description;
   [tool.mercato] module, default ``plugin``) and imports the plugin
   natively to learn its extension point;
2. stages, in a temporary directory, the plugin's files (not its fixtures),
   the SDK package and an entry module whose classes are the component's
   exports (``Plugin``, ``Tax``, …), each forwarding to the SDK's glue;
3. componentizes the entry against the world with componentize-py,
   ``--stub-wasi`` (the component imports only its world's interfaces:
   WASI calls trap);
4. checks the component's imports against the host's sandbox policy and
   prints its size, imports and initial linear memory.

Test-only: with ``[tool.mercato] keep_wasi = true`` in pyproject.toml, step 3
runs without ``--stub-wasi`` (the component imports WASI interfaces its world
does not allow) and step 4 warns instead of failing, so the host's install
check can be tested against such a component
(tests/components/hostile-py-imports).

Defaults: the output is <repo>/target/plugins/<dir-name>.wasm,
componentize-py the one in <repo>/target/toolchains/py (installed from
sdk/py/requirements.lock), the WIT <repo>/wit; <repo> is two levels above
this file. MERCATO_COMPONENTIZE_PY and MERCATO_WIT override the last two.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

SDK_DIR = Path(__file__).resolve().parent
REPO = SDK_DIR.parent.parent
sys.dont_write_bytecode = True  # leave no __pycache__ in the SDK or plugin directories
sys.path.insert(0, str(SDK_DIR))

from mercato_sdk._glue import METHODS, WORLDS  # noqa: E402
from mercato_sdk._inspect import import_allowed, inspect_component  # noqa: E402
from mercato_sdk.testing import componentize_py, load_plugin, read_manifest, wit_dir  # noqa: E402

#: The export class componentize-py expects for each point's interface.
EXPORT_CLASSES = {
    "pricing": "Pricing",
    "tax": "Tax",
    "shipping": "Shipping",
    "payment": "Payment",
    "recommendations": "Recommendations",
}

#: What is not copied from a plugin directory into the component.
IGNORED = shutil.ignore_patterns("fixtures", "__pycache__", ".*", "*.wasm", "pyproject.toml", "*.md")


def keep_wasi(directory: Path) -> bool:
    """Whether ``<directory>/pyproject.toml`` asks, for a test component, to
    keep WASI: ``[tool.mercato] keep_wasi = true``."""
    import tomllib

    path = directory / "pyproject.toml"
    keep = tomllib.loads(path.read_text(encoding="utf-8")).get("tool", {}).get("mercato", {}).get("keep_wasi", False)
    if not isinstance(keep, bool):
        raise ValueError(f"{path}: [tool.mercato] keep_wasi must be true or false")
    return keep


def entry_source(point: str, module: str, meta: dict) -> str:
    """The entry module: the world's export classes, forwarding to the glue."""
    lines = [
        f'"""The component entry of {meta["name"]}, written by sdk/py/build.py."""',
        "",
        "import sys",
        "",
        "from wit_world import exports",
        "",
        "from mercato_sdk import _glue",
        "",
        "# There is no standard output in the sandbox: print() goes to the host's log.",
        'sys.stdout = _glue.LogStream("info")',
        'sys.stderr = _glue.LogStream("warn")',
        "",
        f"import {module} as _plugin_module",
        "",
        f"_impl = _glue.component(_plugin_module.PLUGIN, {json.dumps(meta)})",
        "",
        "",
        "class Plugin(exports.Plugin):",
        "    def describe(self):",
        "        return _impl.describe()",
        "",
        "",
        f"class {EXPORT_CLASSES[point]}(exports.{EXPORT_CLASSES[point]}):",
    ]
    for method in METHODS[point]:
        lines += [
            f"    def {method}(self, config, request):",
            f"        return _impl.{method}(config, request)",
            "",
        ]
    return "\n".join(lines)


def build(plugin_dir: str, out: Path, tool: str) -> None:
    started = time.time()
    manifest = read_manifest(plugin_dir)
    keep = keep_wasi(manifest.dir)
    plugin = load_plugin(manifest)
    point = plugin.point
    contract, world, _ = WORLDS[point]
    wit = wit_dir(contract)
    if not wit.is_dir():
        raise RuntimeError(f"no WIT for mercato:plugin@{contract} at {wit}")
    meta = {"name": manifest.name, "version": manifest.version, "description": manifest.description}

    with tempfile.TemporaryDirectory(prefix="mercato-py-build-") as work:
        app = Path(work) / "app"
        shutil.copytree(manifest.dir, app, ignore=IGNORED)
        shutil.copytree(SDK_DIR / "mercato_sdk", app / "mercato_sdk", ignore=shutil.ignore_patterns("__pycache__"))
        (app / "mercato_component.py").write_text(entry_source(point, manifest.module, meta), encoding="utf-8")
        target = Path(work) / "component.wasm"
        env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
        subprocess.run(
            [
                tool,
                "-q",
                "-d",
                str(wit),
                "-w",
                world,
                "componentize",
                "mercato_component",
                "-p",
                str(app),
                *([] if keep else ["--stub-wasi"]),
                "-o",
                str(target),
            ],
            check=True,
            cwd=work,
            env=env,
        )
        data = target.read_bytes()

    info = inspect_component(data)
    forbidden = [i for i in info["imports"] if not import_allowed(point, contract, i)]
    if forbidden and not keep:
        raise RuntimeError(f"the component imports what the host refuses for a {point} plugin: {', '.join(forbidden)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(data)
    mib = lambda n: f"{n / (1 << 20):.2f} MiB"  # noqa: E731
    print(f"built {out}")
    print(f"  plugin:   {manifest.name} {manifest.version} ({point}, mercato:plugin/{world}@{contract})")
    print(f"  size:     {info['size']} bytes ({mib(info['size'])})")
    print(f"  imports:  {', '.join(info['imports']) or '(none)'}")
    print(f"  memory:   {info['initial_memory_bytes']} bytes initial ({mib(info['initial_memory_bytes'])})")
    print(f"  time:     {time.time() - started:.1f} s")
    if keep:
        print("warning: built with [tool.mercato] keep_wasi = true (test-only): WASI is not stubbed", file=sys.stderr)
        if forbidden:
            print(
                "warning: this component will be refused at install: it imports what the host refuses "
                f"for a {point} plugin: {', '.join(forbidden)}",
                file=sys.stderr,
            )
        else:
            print("warning: keep_wasi is set, yet the component imports nothing the host refuses", file=sys.stderr)


def main(argv: list) -> int:
    parser = argparse.ArgumentParser(description="Build a Python plugin into a WebAssembly component.")
    parser.add_argument("plugin_dir")
    parser.add_argument("-o", "--out", help="output file (default <repo>/target/plugins/<dir-name>.wasm)")
    parser.add_argument("--componentize-py", dest="tool", help="componentize-py executable")
    parser.add_argument("--wit", help="WIT root holding v0.1.0/ and v0.2.0/ (default <repo>/wit)")
    args = parser.parse_args(argv)
    if args.wit:
        os.environ["MERCATO_WIT"] = str(Path(args.wit).resolve())
    plugin_dir = Path(args.plugin_dir).resolve()
    out = Path(args.out).resolve() if args.out else REPO / "target" / "plugins" / f"{plugin_dir.name}.wasm"
    try:
        build(str(plugin_dir), out, args.tool or componentize_py())
    except (RuntimeError, ValueError, subprocess.CalledProcessError) as e:
        print(f"build failed: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
