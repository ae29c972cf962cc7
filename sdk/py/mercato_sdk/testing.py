"""Fixtures, run natively in CPython.

A fixture is ``fixtures/<case>.input.json`` + ``<case>.expected.json``, with
an optional ``<case>.config.json`` (default ``{}``), as the Rust SDK's
``mercato_sdk::testing`` reads them. The input is the friendly JSON form
every Mercato SDK and the host's tests share (snake_case, the tax lines with
plain string ids). It is turned into the WIT record the component receives
(for tax 0.2.0, one text and byte spans, laid out as the host lays them),
built from the same ``wit_world`` bindings componentize-py generates,
passed through the same glue the component runs (:mod:`mercato_sdk._glue`),
and the WIT answer is turned back into the friendly JSON the expected file
holds — or ``{"error": {"code": ...}}``.

The bindings are generated once per world with ``componentize-py
bindings`` into ``<repo>/target/py-bindings/`` (regenerated when the WIT
changes); the host's imports (``log``, ``catalog``) are stand-ins.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import os
import shutil
import subprocess
import sys
import types as pytypes
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Tuple

from .errors import PluginError
from .money import Currency, Rate, UnknownCurrency

SDK_DIR = Path(__file__).resolve().parent.parent
REPO = SDK_DIR.parent.parent


# ---------------------------------------------------------------------------
# The plugin directory.


@dataclass
class Manifest:
    """A plugin directory's pyproject.toml: ``[project]`` name, version and
    description (its metadata, as Cargo.toml is a Rust plugin's) and
    ``[tool.mercato] module`` (default ``plugin``: ``plugin.py`` beside it)."""

    dir: Path
    name: str
    version: str
    description: str
    module: str


def read_manifest(directory: str) -> Manifest:
    """Reads ``<directory>/pyproject.toml``."""
    try:
        import tomllib
    except ImportError:  # pragma: no cover - Python < 3.11
        raise SystemExit("the Mercato Python SDK tools need Python 3.11 or newer (tomllib)")
    root = Path(directory).resolve()
    path = root / "pyproject.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read {path}: {e}") from None
    project = data.get("project", {})
    for key in ("name", "version"):
        if not isinstance(project.get(key), str) or not project.get(key):
            raise ValueError(f"{path} needs [project] {key}")
    module = data.get("tool", {}).get("mercato", {}).get("module", "plugin")
    return Manifest(root, project["name"], project["version"], project.get("description", ""), module)


def load_plugin(manifest: Manifest) -> Any:
    """Imports the plugin module (the SDK and the plugin directory on the
    path) and returns its ``PLUGIN``."""
    for p in (str(manifest.dir), str(SDK_DIR)):
        if p not in sys.path:
            sys.path.insert(0, p)
    sys.modules.pop(manifest.module, None)
    module = importlib.import_module(manifest.module)
    plugin = getattr(module, "PLUGIN", None)
    from ._glue import WORLDS

    if plugin is None or getattr(plugin, "point", "") not in WORLDS:
        raise ValueError(
            f"{manifest.module}.py must set PLUGIN to an instance of a class derived from "
            "mercato_sdk.tax.Tax, shipping.Shipping, pricing.Pricing, payment.Payment or recommendations.Recommendations"
        )
    return plugin


# ---------------------------------------------------------------------------
# The bindings of a world.

# componentize-py's runtime types, for running its generated bindings outside
# a component (the `bindings` command does not write this module).
_TYPES_SOURCE = '''
from typing import TypeVar, Generic, Union
from dataclasses import dataclass

S = TypeVar("S")
T = TypeVar("T")
E = TypeVar("E")


@dataclass
class Some(Generic[S]):
    value: S


@dataclass
class Ok(Generic[T]):
    value: T


@dataclass(frozen=True)
class Err(Generic[E], Exception):
    value: E


Result = Union[Ok[T], Err[E]]
'''


def componentize_py() -> str:
    """The componentize-py executable: ``$MERCATO_COMPONENTIZE_PY``, the
    toolchain in ``<repo>/target/toolchains/py``, or the one on the PATH."""
    candidates = [
        os.environ.get("MERCATO_COMPONENTIZE_PY"),
        str(REPO / "target" / "toolchains" / "py" / "bin" / "componentize-py"),
        shutil.which("componentize-py"),
    ]
    for c in candidates:
        if c and Path(c).is_file():
            return c
    raise RuntimeError(
        "componentize-py not found: install the toolchain with\n"
        f"  python3 -m venv {REPO}/target/toolchains/py && "
        f"{REPO}/target/toolchains/py/bin/pip install --require-hashes --no-deps -r {SDK_DIR}/requirements.lock"
    )


def wit_dir(contract: str) -> Path:
    """The WIT of a contract version: ``$MERCATO_WIT/v<contract>`` or ``<repo>/wit/v<contract>``."""
    return Path(os.environ.get("MERCATO_WIT") or REPO / "wit") / f"v{contract}"


def bindings_dir(point: str) -> Path:
    """Generates (once per WIT content) the ``wit_world`` bindings of the
    point's world and returns the directory holding them."""
    from ._glue import WORLDS

    contract, world, _ = WORLDS[point]
    wit = wit_dir(contract)
    digest = hashlib.sha256()
    for f in sorted(wit.rglob("*.wit")):
        digest.update(str(f.relative_to(wit)).encode() + b"\0" + f.read_bytes())
    stamp_text = f"{world}@{contract} {digest.hexdigest()}"
    out = Path(os.environ.get("MERCATO_PY_BINDINGS") or REPO / "target" / "py-bindings") / f"v{contract}-{world}"
    stamp = out / ".stamp"
    if not (stamp.is_file() and stamp.read_text() == stamp_text):
        if out.exists():
            shutil.rmtree(out)
        subprocess.run(
            [componentize_py(), "-q", "-d", str(wit), "-w", world, "bindings", str(out)],
            check=True,
        )
        stamp.write_text(stamp_text)
    return out


def use_bindings(point: str) -> None:
    """Puts the point's bindings first on the path (dropping another world's)."""
    directory = str(bindings_dir(point))
    for name in list(sys.modules):
        if name == "wit_world" or name.startswith("wit_world."):
            del sys.modules[name]
    sys.path[:] = [p for p in sys.path if "py-bindings" not in p]
    sys.path.insert(0, directory)
    try:
        importlib.import_module("componentize_py_types")
    except ImportError:
        module = pytypes.ModuleType("componentize_py_types")
        exec(compile(_TYPES_SOURCE, "componentize_py_types", "exec"), module.__dict__)
        sys.modules["componentize_py_types"] = module


# ---------------------------------------------------------------------------
# Friendly JSON -> WIT records, with serde's rules: unknown fields are
# ignored, null or a missing field is None for options, a missing field
# takes its default where the Rust type has one and is an error elsewhere.

_REQUIRED = object()


def _invalid(path: str, message: str) -> PluginError:
    return PluginError.invalid_input(f"input does not fit the extension point: {path}: {message}")


Conv = Callable[[Any, str], Any]


def _string(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise _invalid(path, f"expected a string, got {json.dumps(v)}")
    return v


def _bool(v: Any, path: str) -> bool:
    if not isinstance(v, bool):
        raise _invalid(path, f"expected a boolean, got {json.dumps(v)}")
    return v


def _int(lo: int, hi: int) -> Conv:
    def conv(v: Any, path: str) -> int:
        if isinstance(v, bool) or not isinstance(v, int):
            raise _invalid(path, f"expected an integer, got {json.dumps(v)}")
        if not lo <= v <= hi:
            raise _invalid(path, f"{v} is out of range")
        return v

    return conv


_u8 = _int(0, 255)
_u32 = _int(0, 2**32 - 1)
_s64 = _int(-(2**63), 2**63 - 1)


def _currency(v: Any, path: str) -> str:
    if not isinstance(v, str):
        raise _invalid(path, f"expected a currency code, got {json.dumps(v)}")
    try:
        return Currency.parse(v).code
    except UnknownCurrency as e:
        raise _invalid(path, str(e)) from None


def _list(of: Conv) -> Conv:
    def conv(v: Any, path: str) -> List[Any]:
        if not isinstance(v, list):
            raise _invalid(path, f"expected a list, got {json.dumps(v)}")
        return [of(x, f"{path}[{i}]") for i, x in enumerate(v)]

    return conv


def _option(of: Conv) -> Conv:
    def conv(v: Any, path: str) -> Any:
        return None if v is None else of(v, path)

    conv.optional = True  # type: ignore[attr-defined]
    return conv


def _record(make: Callable[..., Any], fields: List[Tuple[str, Conv, Any]]) -> Conv:
    """``fields``: (name, converter, default); no default: required. ``make``
    is called with the converted fields as keyword arguments."""

    def conv(v: Any, path: str) -> Any:
        if not isinstance(v, dict):
            raise _invalid(path, f"expected an object, got {json.dumps(v)}")
        out: Dict[str, Any] = {}
        for name, c, default in fields:
            value = v.get(name)
            if value is None:
                if getattr(c, "optional", False):
                    out[name] = None
                elif default is _REQUIRED:
                    raise _invalid(path, f"missing field `{name}`")
                else:
                    out[name] = default() if callable(default) else default
            else:
                out[name] = c(value, f"{path}.{name}")
        return make(**out)

    return conv


def _f(name: str, conv: Conv, default: Any = _REQUIRED) -> Tuple[str, Conv, Any]:
    return (name, conv, default)


def _externally_tagged(cases: Dict[str, Tuple[Callable[..., Any], Optional[Conv]]]) -> Conv:
    """serde's externally tagged enum: ``"unit"`` or ``{"case": payload}``."""

    def conv(v: Any, path: str) -> Any:
        if isinstance(v, str) and v in cases and cases[v][1] is None:
            return cases[v][0]()
        if isinstance(v, dict) and len(v) == 1:
            (name, payload), = v.items()
            if name in cases and cases[name][1] is not None:
                make, c = cases[name]
                return make(c(payload, f"{path}.{name}"))  # type: ignore[misc]
        raise _invalid(path, f"expected one of {', '.join(cases)}")

    return conv


def _shared(t: Any) -> Dict[str, Conv]:
    money = _record(t.Money, [_f("amount", _s64), _f("currency", _currency)])
    address = _record(
        t.Address,
        [
            _f("name", _string, ""),
            _f("line1", _string, ""),
            _f("line2", _option(_string)),
            _f("city", _string, ""),
            _f("region", _string, ""),
            _f("postal_code", _string, ""),
            _f("country", _string),
        ],
    )
    customer = _record(
        t.Customer,
        [
            _f("id", _option(_string)),
            _f("email", _option(_string)),
            _f("tags", _list(_string), list),
            _f("tax_exempt", _bool, False),
            _f("vat_id", _option(_string)),
        ],
    )
    cart_line = _record(
        t.CartLine,
        [
            _f("id", _string),
            _f("product_id", _string),
            _f("variant_id", _string),
            _f("sku", _string),
            _f("quantity", _u32),
            _f("unit_price", money),
            _f("tags", _list(_string), list),
            _f("collections", _list(_string), list),
            _f("tax_code", _option(_string)),
            _f("weight_grams", _option(_u32)),
        ],
    )
    return {"money": money, "address": address, "customer": customer, "cart_line": cart_line}


def _tax_input(w: Any, s: Dict[str, Conv]) -> Conv:
    @dataclass
    class Line:
        id: str
        product_id: str
        sku: str
        quantity: int
        amount: int
        tax_code: Optional[str]

    @dataclass
    class Friendly:
        currency: str
        lines: List[Line]
        shipping_amount: int
        ship_from: Any
        ship_to: Any
        customer: Any
        prices_include_tax: bool

    friendly = _record(
        Friendly,
        [
            _f("currency", _currency),
            _f(
                "lines",
                _list(
                    _record(
                        Line,
                        [
                            _f("id", _string),
                            _f("product_id", _string),
                            _f("sku", _string),
                            _f("quantity", _u32),
                            _f("amount", _s64),
                            _f("tax_code", _option(_string)),
                        ],
                    )
                ),
            ),
            _f("shipping_amount", _s64, 0),
            _f("ship_from", _option(s["address"])),
            _f("ship_to", s["address"]),
            _f("customer", _option(s["customer"])),
            _f("prices_include_tax", _bool, False),
        ],
    )

    def conv(v: Any, path: str) -> Any:
        f = friendly(v, path)
        parts: List[str] = []
        offset = 0

        def span(text: str) -> Any:
            nonlocal offset
            size = len(text.encode("utf-8"))
            out = w.Span(offset, size)
            parts.append(text)
            offset += size
            return out

        lines = [
            w.TaxableLine(
                span(l.id),
                span(l.product_id),
                span(l.sku),
                l.quantity,
                l.amount,
                None if l.tax_code is None else span(l.tax_code),
            )
            for l in f.lines
        ]
        return w.TaxInput(
            f.currency, "".join(parts), lines, f.shipping_amount, f.ship_from, f.ship_to, f.customer, f.prices_include_tax
        )

    return conv


# ---------------------------------------------------------------------------
# WIT answers -> friendly JSON (serde's output: None fields omitted).


def _invalid_output(message: str) -> PluginError:
    return PluginError("invalid_output", message)


def _money_json(m: Any) -> Dict[str, Any]:
    try:
        return {"amount": m.amount, "currency": Currency.parse(m.currency).code}
    except UnknownCurrency as e:
        raise _invalid_output(str(e)) from None


def _with(d: Dict[str, Any], name: str, value: Any) -> Dict[str, Any]:
    if value is not None:
        d[name] = value
    return d


def _tax_json(out: Any) -> Any:
    rates = []
    for i, r in enumerate(out.rates):
        rate = Rate.parse(r.rate)
        if rate is None:
            raise _invalid_output(f"rates[{i}]: {json.dumps(r.rate)} is not a decimal")
        rates.append({"jurisdiction": r.jurisdiction, "rate": rate.to_wire(), "label": r.label})
    result: Dict[str, Any] = {
        "rates": rates,
        "lines": [{"line": t.line, "rate": t.rate, "amount": t.amount} for t in out.lines],
    }
    if out.shipping:
        result["shipping"] = [{"rate": t.rate, "amount": t.amount} for t in out.shipping]
    return result


def _shipping_json(out: Any) -> Any:
    options = []
    for o in out.options:
        d = {"code": o.code, "carrier": o.carrier, "service": o.service, "amount": _money_json(o.amount)}
        _with(d, "min_days", o.min_days)
        options.append(_with(d, "max_days", o.max_days))
    return {"options": options}


def _variant_json(v: Any) -> Any:
    # componentize-py names a case class <Variant>_<Case>: Target_Line, Kind_FixedAmount.
    case = type(v).__name__.split("_", 1)[1]
    tag = "".join("_" + c.lower() if c.isupper() else c for c in case).lstrip("_")
    return {tag: v.value} if hasattr(v, "value") else tag


def _status_json(s: Any) -> Any:
    tag = _variant_json(s)
    if isinstance(tag, dict) and "requires_action" in tag:
        action: Dict[str, Any] = {}
        _with(action, "client_secret", s.value.client_secret)
        _with(action, "redirect_url", s.value.redirect_url)
        return {"requires_action": action}
    return tag


@dataclass
class Point:
    """How to call one extension point with a fixture."""

    to_wire: Callable[[Any], Any]
    call: Callable[[Any, str, Any], Any]
    to_json: Callable[[Any, Any], Any]


def points() -> Dict[str, Point]:
    """The extension points, with the bindings now on the path."""
    t = _glue_types()
    s = _shared(t)
    result: Dict[str, Point] = {}
    tax = _module("wit_world.exports.tax")
    if tax is not None:
        conv = _tax_input(tax, s)
        result["tax"] = Point(lambda v: conv(v, "$"), lambda c, cfg, w: c.calculate(cfg, w), lambda out, w: _tax_json(out))
    shipping = _module("wit_world.exports.shipping")
    if shipping is not None:
        item = _record(
            shipping.ShipItem,
            [
                _f("line_id", _string),
                _f("sku", _string),
                _f("quantity", _u32),
                _f("weight_grams", _option(_u32)),
                _f("length_mm", _option(_u32)),
                _f("width_mm", _option(_u32)),
                _f("height_mm", _option(_u32)),
            ],
        )
        conv_s = _record(
            shipping.ShippingInput,
            [_f("currency", _currency), _f("destination", s["address"]), _f("items", _list(item)), _f("subtotal", s["money"])],
        )
        result["shipping"] = Point(lambda v: conv_s(v, "$"), lambda c, cfg, w: c.rates(cfg, w), lambda out, w: _shipping_json(out))
    pricing = _module("wit_world.exports.pricing")
    if pricing is not None:
        result["pricing"] = _pricing_point(pricing, s)
    payment = _module("wit_world.exports.payment")
    if payment is not None:
        result["payment"] = _payment_point(payment, s)
    recs = _module("wit_world.exports.recommendations")
    if recs is not None:
        result["recommendations"] = _recommendations_point(recs, s)
    return result


def _module(name: str) -> Optional[pytypes.ModuleType]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _glue_types() -> Any:
    from ._glue import _types_module

    return _types_module()


def _pricing_point(p: Any, s: Dict[str, Conv]) -> Point:
    target = _externally_tagged(
        {"line": (p.Target_Line, _string), "order": (p.Target_Order, None), "shipping": (p.Target_Shipping, None)}
    )
    kind = _externally_tagged(
        {
            "percent": (p.Kind_Percent, _u32),
            "fixed_amount": (p.Kind_FixedAmount, _s64),
            "fixed_unit_price": (p.Kind_FixedUnitPrice, _s64),
        }
    )
    adjustment = _record(p.Adjustment, [_f("target", target), _f("kind", kind), _f("label", _string), _f("code", _option(_string))])
    applied = _record(p.AppliedAdjustment, [_f("adjustment", adjustment), _f("amount", s["money"])])
    conv = _record(
        p.PricingInput,
        [
            _f("currency", _currency),
            _f("lines", _list(s["cart_line"])),
            _f("customer", _option(s["customer"])),
            _f("discount_codes", _list(_string), list),
            _f("shipping", _option(s["money"])),
            _f("previous", _list(applied), list),
        ],
    )

    def to_json(out: Any, wire: Any) -> Any:
        # Checked the way the host will: every adjustment must apply.
        from ._glue import Component
        from .pricing import Ledger, Refused

        helper = Component.__new__(Component)
        helper.iface = p
        sdk_input = helper._pricing_in(wire)
        adjustments = [helper._adjustment_in(a) for a in out.adjustments]
        try:
            Ledger.from_input(sdk_input).apply_all(adjustments, sdk_input.discount_codes)
        except Refused as e:
            raise _invalid_output(f"the host would refuse this answer: {e}") from None
        return {
            "adjustments": [
                _with({"target": _variant_json(a.target), "kind": _variant_json(a.kind), "label": a.label}, "code", a.code)
                for a in out.adjustments
            ]
        }

    return Point(lambda v: conv(v, "$"), lambda c, cfg, w: c.run(cfg, w), to_json)


def _payment_point(p: Any, s: Dict[str, Conv]) -> Point:
    money = s["money"]
    request = _record(
        p.PaymentRequest,
        [
            _f("amount", money),
            _f("order_reference", _string),
            _f("payment_method_token", _option(_string)),
            _f("idempotency_key", _string),
            _f("capture", _bool, True),
            _f("email", _option(_string)),
        ],
    )
    capture = _record(p.CaptureRequest, [_f("provider_reference", _string), _f("amount", money), _f("idempotency_key", _string)])
    refund = _record(
        p.RefundRequest,
        [_f("provider_reference", _string), _f("amount", money), _f("idempotency_key", _string), _f("reason", _option(_string))],
    )
    void = _record(p.VoidRequest, [_f("provider_reference", _string), _f("idempotency_key", _string)])

    def header(v: Any, path: str) -> Tuple[str, str]:
        if not isinstance(v, list) or len(v) != 2:
            raise _invalid(path, "expected a list of 2")
        return (_string(v[0], f"{path}[0]"), _string(v[1], f"{path}[1]"))

    webhook = _record(
        p.Webhook,
        [_f("headers", _list(header), list), _f("body", lambda v, path: bytes(_list(_u8)(v, path)), bytes)],
    )
    calls = {
        "create_payment": request,
        "capture": capture,
        "refund": refund,
        "void": void,
        "parse_webhook": webhook,
    }

    def to_wire(v: Any) -> Any:
        if not isinstance(v, dict) or len(v) != 1 or next(iter(v)) not in calls:
            raise _invalid("$", "expected one of " + ", ".join(f'{{"{k}": ...}}' for k in calls))
        (name, body), = v.items()
        return (name, calls[name](body, f"$.{name}"))

    def to_json(out: Any, wire: Any) -> Any:
        if wire[0] == "parse_webhook":
            return _with(
                {"provider_reference": out.provider_reference, "status": _status_json(out.status)},
                "amount",
                None if out.amount is None else _money_json(out.amount),
            )
        return _with({"status": _status_json(out.status), "provider_reference": out.provider_reference}, "message", out.message)

    return Point(to_wire, lambda c, cfg, w: getattr(c, w[0])(cfg, w[1]), to_json)


def _recommendations_point(r: Any, s: Dict[str, Conv]) -> Point:
    catalog = importlib.import_module("wit_world.imports.catalog")
    product = _record(
        catalog.Product,
        [
            _f("id", _string),
            _f("title", _string),
            _f("category_ids", _list(_string), list),
            _f("tags", _list(_string), list),
            _f("price", s["money"]),
            _f("available", _bool, True),
        ],
    )
    count = _record(catalog.ProductCount, [_f("product_id", _string), _f("count", _u32)])

    def by_product(v: Any, path: str) -> Dict[str, Any]:
        if not isinstance(v, dict):
            raise _invalid(path, "expected an object")
        return {k: _list(count)(x, f"{path}.{k}") for k, x in v.items()}

    @dataclass
    class Data:
        products: List[Any]
        bought_together: Dict[str, List[Any]]
        bestsellers: List[Any]

    @dataclass
    class Input:
        context: Any
        catalog: Data

    context = _record(
        r.Context,
        [
            _f("product_id", _option(_string)),
            _f("cart_product_ids", _list(_string), list),
            _f("customer", _option(s["customer"])),
            _f("limit", _u32),
        ],
    )
    data = _record(
        Data,
        [_f("products", _list(product), list), _f("bought_together", by_product, dict), _f("bestsellers", _list(count), list)],
    )
    conv = _record(Input, [_f("context", context), _f("catalog", data, lambda: Data([], {}, []))])

    def call(c: Any, cfg: str, w: Any) -> Any:
        d = w.catalog
        catalog.get_product = lambda id: next((x for x in d.products if x.id == id), None)
        catalog.bought_together = lambda pid, limit: list(d.bought_together.get(pid, []))[:limit]
        catalog.bestsellers = lambda cat, limit: [
            x
            for x in d.bestsellers
            if cat is None or any(p.id == x.product_id and cat in p.category_ids for p in d.products)
        ][:limit]
        return c.recommend(cfg, w.context)

    return Point(
        lambda v: conv(v, "$"),
        call,
        lambda out, w: [{"product_id": x.product_id, "reason": x.reason} for x in out],
    )


# ---------------------------------------------------------------------------
# Comparing and running.


def differences(expected: Any, actual: Any, path: str = "$") -> List[str]:
    """The differences between two JSON values, as ``path: expected X, got Y`` lines."""
    show = lambda v: json.dumps(v, ensure_ascii=False)  # noqa: E731
    if isinstance(expected, dict) and isinstance(actual, dict):
        out: List[str] = []
        for k in list(expected) + [k for k in actual if k not in expected]:
            if k not in actual:
                out.append(f"{path}.{k}: missing, expected {show(expected[k])}")
            elif k not in expected:
                out.append(f"{path}.{k}: unexpected {show(actual[k])}")
            else:
                out.extend(differences(expected[k], actual[k], f"{path}.{k}"))
        return out
    if isinstance(expected, list) and isinstance(actual, list):
        out = []
        for i in range(max(len(expected), len(actual))):
            if i >= len(actual):
                out.append(f"{path}[{i}]: missing, expected {show(expected[i])}")
            elif i >= len(expected):
                out.append(f"{path}[{i}]: unexpected {show(actual[i])}")
            else:
                out.extend(differences(expected[i], actual[i], f"{path}[{i}]"))
        return out
    same = (
        type(expected) is type(actual) or (isinstance(expected, (int, float)) and isinstance(actual, (int, float)))
    ) and not (isinstance(expected, bool) != isinstance(actual, bool))
    if same and expected == actual:
        return []
    return [f"{path}: expected {show(expected)}, got {show(actual)}"]


@dataclass
class Fixture:
    """One fixture case."""

    name: str
    config: Any
    input: Any
    expected: Any

    def expected_error(self) -> Optional[str]:
        """The error code this fixture expects, if it expects a failure."""
        e = self.expected.get("error") if isinstance(self.expected, dict) else None
        code = e.get("code") if isinstance(e, dict) else None
        return code if isinstance(code, str) else None


def load_fixtures(directory: Path) -> List[Fixture]:
    """Every fixture under ``<directory>/fixtures``, sorted by name."""
    root = directory / "fixtures"
    if not root.is_dir():
        raise ValueError(f"no fixtures directory {root}")

    def read(path: Path) -> Any:
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except ValueError as e:
            raise ValueError(f"{path} is not JSON: {e}") from None

    names = sorted(p.name[: -len(".input.json")] for p in root.glob("*.input.json"))
    if not names:
        raise ValueError(f"no fixtures in {root}")
    fixtures = []
    for name in names:
        config = root / f"{name}.config.json"
        fixtures.append(
            Fixture(name, read(config) if config.exists() else {}, read(root / f"{name}.input.json"), read(root / f"{name}.expected.json"))
        )
    return fixtures


def _indent(text: str, prefix: str) -> str:
    return "\n".join(prefix + line for line in text.split("\n"))


def run_plugin(directory: str, verbose: bool = False, out: Callable[[str], None] = print) -> Tuple[int, int]:
    """Runs the fixtures of one plugin directory; returns (passed, failed)."""
    from ._glue import WORLDS, component
    from .config import parse_config

    manifest = read_manifest(directory)
    plugin = load_plugin(manifest)
    use_bindings(plugin.point)
    point = points()[plugin.point]
    logs: List[str] = []
    log_module = importlib.import_module("wit_world.imports.log")
    log_module.log = lambda level, message: logs.append(f"[{level.name.lower()}] {message}")  # type: ignore[attr-defined]
    exports = component(plugin, {"name": manifest.name, "version": manifest.version, "description": manifest.description})
    err_class = importlib.import_module("componentize_py_types").Err

    meta = exports.describe()
    contract, world, _ = WORLDS[plugin.point]
    out(f"{meta.name} {meta.version} ({plugin.point}, mercato:plugin@{contract}/{world})")
    failed = 0
    problems = []
    if not meta.name:
        problems.append("describe(): empty name")
    if meta.extension_point.name.lower() != plugin.point:
        problems.append(f"describe(): extension point {meta.extension_point}")
    try:
        json.loads(meta.config_schema)
    except ValueError as e:
        problems.append(f"describe(): the config schema is not JSON: {e}")
    for p in problems:
        out(f"  FAIL  {p}")
        failed += 1

    passed = 0
    for fixture in load_fixtures(manifest.dir):
        logs.clear()
        config_text = json.dumps(fixture.config)
        actual_ok: Any = None
        actual_err: Optional[Tuple[str, str]] = None
        try:
            try:
                wire = point.to_wire(fixture.input)
            except PluginError:
                # The configuration is read first, as the runtime does.
                plugin.load_config(parse_config(config_text, plugin.config_schema))
                raise
            actual_ok = point.to_json(point.call(exports, config_text, wire), wire)
        except err_class as e:
            actual_err = (e.value.code, e.value.message)
        except PluginError as e:
            actual_err = (e.code, e.message)
        code = fixture.expected_error()
        failure: Optional[List[str]] = None
        if code is not None:
            if actual_err is None:
                failure = [f"expected error {code}, got output", _indent(json.dumps(actual_ok, indent=2), "    ")]
            elif actual_err[0] != code:
                failure = [f"wrong error code: expected {code}, got {actual_err[0]} ({actual_err[1]})"]
        elif actual_err is not None:
            failure = [f"expected output, got error {actual_err[0]}: {actual_err[1]}"]
        else:
            diff = differences(fixture.expected, actual_ok)
            if diff:
                failure = [
                    "output differs",
                    *(f"  {d}" for d in diff),
                    "--- expected",
                    _indent(json.dumps(fixture.expected, indent=2, ensure_ascii=False), "  "),
                    "--- actual",
                    _indent(json.dumps(actual_ok, indent=2, ensure_ascii=False), "  "),
                ]
        if failure:
            failed += 1
            out(f"  FAIL  {fixture.name}")
            for line in failure:
                out(_indent(line, "        "))
            if logs:
                out(_indent("log:\n" + "\n".join(logs), "        "))
        else:
            passed += 1
            out(f"  ok    {fixture.name}" + (f" (error {actual_err[0]})" if actual_err else ""))
            if verbose and logs:
                out(_indent("\n".join(logs), "        "))
    return passed, failed


def main(argv: List[str]) -> int:
    """``fixtures.py [--verbose] <plugin-dir>...``; returns the exit code."""
    verbose = "--verbose" in argv or "-v" in argv
    dirs = [a for a in argv if not a.startswith("-")]
    if not dirs or "--help" in argv or "-h" in argv:
        print(
            "usage: python3 sdk/py/fixtures.py [--verbose] <plugin-dir>...\n\n"
            "Runs each plugin's fixtures/<case>.{input,config,expected}.json natively in CPython.",
            file=sys.stderr,
        )
        return 2
    passed = failed = 0
    for d in dirs:
        try:
            p, f = run_plugin(d, verbose)
        except Exception:  # a plugin that does not load fails, the others still run
            import traceback

            print(f"{Path(d).name}: FAIL {traceback.format_exc()}")
            p, f = 0, 1
        passed += p
        failed += f
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1
