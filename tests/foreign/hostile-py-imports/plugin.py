"""Test-only. A tax plugin for the tax world of mercato:plugin@0.2.0 that
taxes nothing, or, with ``{"mode": "read", "path": "…"}``, first reads a
file. pyproject.toml sets ``[tool.mercato] keep_wasi = true``, so
sdk/py/build.py builds it without ``--stub-wasi``: the component imports
wasi:filesystem, wasi:sockets and more, which the host's install check must
refuse for a tax plugin."""

from mercato_sdk import Rate, log
from mercato_sdk.tax import Tax, TaxInput, TaxOutput


class HostileImports(Tax):
    config_schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Hostile imports",
        "description": 'Test-only: taxes nothing; in "read" mode it first reads a file.',
        "type": "object",
        "properties": {
            "mode": {
                "title": "Mode",
                "description": '"ok" taxes nothing; "read" reads `path` first.',
                "type": "string",
                "enum": ["ok", "read"],
                "default": "ok",
                "examples": ["ok", "read"],
            },
            "path": {
                "title": "Path",
                "description": 'What "read" mode reads.',
                "type": "string",
                "default": "/etc/passwd",
                "examples": ["/etc/passwd"],
            },
        },
    }

    def calculate(self, config: dict, input: TaxInput) -> TaxOutput:
        if config["mode"] == "read":
            with open(config["path"], "rb") as f:
                log.info(f"read {len(f.read())} bytes of {config['path']}")
        out = TaxOutput()
        out.rate(input.ship_to.country, Rate.parse("0"), "none")
        return out


PLUGIN = HostileImports()
