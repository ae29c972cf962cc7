"""Merchant configuration: JSON checked against the plugin's JSON Schema.

Every call gets the merchant's configuration as a JSON string. The SDK
parses it (an empty string counts as ``{}``), checks it against the schema
the plugin declares in its metadata (``config-schema``), fills in the
``default`` of every missing property, and hands the result to the plugin's
``load_config`` for checks a schema cannot express. Any failure is a
:class:`~mercato_sdk.PluginError` ``invalid_config``.
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any, Dict, List, Union

from .errors import PluginError

#: The JSON Schema keywords the SDK checks. Other keywords (``title``,
#: ``description``, ``examples``, ``$schema``, ``$comment``, ``format``,
#: ``default``, …) are annotations for people and tools.
CHECKED_KEYWORDS = (
    "type", "enum", "const", "properties", "required", "additionalProperties",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf",
    "minLength", "maxLength", "pattern", "items", "minItems", "maxItems",
    "uniqueItems", "anyOf", "oneOf", "allOf", "not",
)

Schema = Union[Dict[str, Any], bool]


def _type_of(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _has_type(value: Any, wanted: str) -> bool:
    actual = _type_of(value)
    if wanted == "number":
        return actual in ("number", "integer")
    if wanted == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return actual == wanted


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return a == b
    if type(a) is not type(b):
        return False
    if isinstance(a, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return bool(a == b)


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)


_patterns: Dict[str, "re.Pattern[str]"] = {}


def _regex(pattern: str) -> "re.Pattern[str]":
    compiled = _patterns.get(pattern)
    if compiled is None:
        compiled = re.compile(pattern)
        _patterns[pattern] = compiled
    return compiled


def validate(schema: Schema, value: Any, path: str = "") -> Any:
    """Checks ``value`` against ``schema`` and returns it with the defaults of
    missing object properties filled in (a copy; ``value`` is not changed).
    Raises :class:`PluginError` ``invalid_config`` naming the first problem."""

    def fail(message: str) -> "PluginError":
        return PluginError.invalid_config(message if path == "" else f"{path}: {message}")

    if schema is True or schema is None:
        return value
    if schema is False:
        raise fail("is not allowed")
    if "type" in schema:
        types: List[str] = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
        if not any(_has_type(value, t) for t in types):
            raise fail(f"expected {' or '.join(types)}, got {_type_of(value)} {_show(value)}")
    if "enum" in schema and not any(_equal(v, value) for v in schema["enum"]):
        raise fail(f"{_show(value)} is not one of {', '.join(_show(v) for v in schema['enum'])}")
    if "const" in schema and not _equal(schema["const"], value):
        raise fail(f"must be {_show(schema['const'])}")
    out = value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise fail(f"{value} is less than the minimum {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            raise fail(f"{value} is more than the maximum {schema['maximum']}")
        if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
            raise fail(f"{value} must be more than {schema['exclusiveMinimum']}")
        if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
            raise fail(f"{value} must be less than {schema['exclusiveMaximum']}")
        if "multipleOf" in schema and (value / schema["multipleOf"]) % 1 != 0:
            raise fail(f"{value} is not a multiple of {schema['multipleOf']}")
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            raise fail(f"must be at least {schema['minLength']} characters long")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise fail(f"must be at most {schema['maxLength']} characters long")
        if "pattern" in schema and not _regex(schema["pattern"]).search(value):
            raise fail(f"{_show(value)} does not match {schema['pattern']}")
    if isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            raise fail(f"must have at least {schema['minItems']} item(s)")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise fail(f"must have at most {schema['maxItems']} item(s)")
        if schema.get("uniqueItems") and any(
            any(_equal(v, w) for w in value[:i]) for i, v in enumerate(value)
        ):
            raise fail("items must be unique")
        if "items" in schema:
            out = [validate(schema["items"], v, f"{path}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        props: Dict[str, Any] = schema.get("properties", {})
        for name in schema.get("required", []):
            if name not in value:
                raise fail(f"missing required property {_show(name)}")
        result: Dict[str, Any] = {}
        extra = schema.get("additionalProperties")
        for name, v in value.items():
            sub = f"{path}.{name}" if path else name
            if name in props:
                result[name] = validate(props[name], v, sub)
            elif extra is False:
                known = ", ".join(_show(k) for k in props)
                raise fail(f"unknown property {_show(name)}" + (f" (expected one of {known})" if known else ""))
            elif extra is not None:
                result[name] = validate(extra, v, sub)
            else:
                result[name] = v
        for name, sub_schema in props.items():
            if name not in result and isinstance(sub_schema, dict) and "default" in sub_schema:
                result[name] = copy.deepcopy(sub_schema["default"])
        out = result
    for sub_schema in schema.get("allOf", []):
        out = validate(sub_schema, out, path)
    if "anyOf" in schema:
        passing = [s for s in schema["anyOf"] if _passes(s, out, path)]
        if not passing:
            raise fail("does not match any of the allowed forms")
        out = validate(passing[0], out, path)
    if "oneOf" in schema:
        passing = [s for s in schema["oneOf"] if _passes(s, out, path)]
        if len(passing) != 1:
            raise fail("does not match any of the allowed forms" if not passing else "matches more than one of the allowed forms")
        out = validate(passing[0], out, path)
    if "not" in schema and _passes(schema["not"], out, path):
        raise fail("matches a form that is not allowed")
    return out


def _passes(schema: Schema, value: Any, path: str) -> bool:
    try:
        validate(schema, value, path)
        return True
    except PluginError:
        return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_config(text: str, schema: Schema = None) -> Any:  # type: ignore[assignment]
    """Parses a configuration document the way the runtime does (an empty
    string counts as ``{}``) and checks it against ``schema``
    (``{"type": "object"}`` when unset). Raises ``invalid_config``."""
    trimmed = (text or "").strip()
    try:
        value = json.loads(trimmed or "{}", parse_constant=_no_constants)
    except ValueError as e:
        raise PluginError.invalid_config(f"the configuration is not JSON: {e}") from None
    return validate({"type": "object"} if schema is None else schema, value)


def schema_text(schema: Union[Dict[str, Any], str, None]) -> str:
    """The schema as the metadata carries it: a JSON string."""
    if schema is None:
        return '{"type":"object"}'
    if isinstance(schema, str):
        json.loads(schema)  # must be JSON
        return schema
    return json.dumps(schema, separators=(",", ":"), ensure_ascii=False)
