"""Glue between a plugin and the bindings componentize-py generates for its
world (the ``wit_world`` package): every call's input converted to the
SDK's types, the configuration parsed and checked, the output converted
back, and a PluginError turned into the WIT ``result``'s error.

The component's entry module (written by ``build.py``) and the native
fixture runner both go through :func:`component`, so a plugin runs the same
code in both.
"""

from __future__ import annotations

import importlib
import traceback
from types import ModuleType
from typing import Any, Callable, Dict, List, Optional, Tuple

from . import log as _log
from .config import parse_config, schema_text
from .errors import PluginError
from .money import Currency, Money, Rate, UnknownCurrency, fits_i64
from .payment import (
    CaptureRequest,
    Failed,
    PaymentRequest,
    Pending,
    RefundRequest,
    RequiresAction,
    Succeeded,
    VoidRequest,
    Webhook,
)
from .plugin import Plugin
from .pricing import (
    Adjustment,
    AppliedAdjustment,
    FixedAmount,
    FixedUnitPrice,
    LineTarget,
    OrderTarget,
    Percent,
    PricingInput,
    ShippingTarget,
)
from .recommendations import Context, Product, ProductCount
from .shipping import ShipItem, ShippingInput
from .tax import TaxableLine, TaxInput
from .types import Address, CartLine, Customer

#: The world each extension point is built for: (contract, world, interface).
#: New tax plugins speak mercato:plugin@0.2.0, the other points 0.1.0.
WORLDS: Dict[str, Tuple[str, str, str]] = {
    "pricing": ("0.1.0", "pricing-plugin", "pricing"),
    "tax": ("0.2.0", "tax-plugin", "tax"),
    "shipping": ("0.1.0", "shipping-plugin", "shipping"),
    "payment": ("0.1.0", "payment-plugin", "payment"),
    "recommendations": ("0.1.0", "recommendations-plugin", "recommendations"),
}

#: The methods of each point's export class, as componentize-py names them.
METHODS: Dict[str, Tuple[str, ...]] = {
    "pricing": ("run",),
    "tax": ("calculate",),
    "shipping": ("rates",),
    "payment": ("create_payment", "capture", "refund", "void", "parse_webhook"),
    "recommendations": ("recommend",),
}


def _module(name: str) -> Optional[ModuleType]:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


def _types_module() -> ModuleType:
    # The shared types are `imports.types`, or `imports.mercato_plugin_types`
    # in worlds where another package also has a `types` interface.
    module = _module("wit_world.imports.mercato_plugin_types") or _module("wit_world.imports.types")
    if module is None:
        raise ImportError("the wit_world bindings have no mercato:plugin/types module")
    return module


def _currency_in(code: str) -> Currency:
    try:
        return Currency.parse(code)
    except UnknownCurrency as e:
        raise PluginError.invalid_input(str(e)) from None


def _money_in(m: Any) -> Money:
    return Money(m.amount, _currency_in(m.currency))


def _address_in(a: Any) -> Address:
    return Address(
        country=a.country,
        name=a.name,
        line1=a.line1,
        line2=a.line2,
        city=a.city,
        region=a.region,
        postal_code=a.postal_code,
    )


def _customer_in(c: Any) -> Optional[Customer]:
    if c is None:
        return None
    return Customer(id=c.id, email=c.email, tags=list(c.tags), tax_exempt=c.tax_exempt, vat_id=c.vat_id)


def _cart_line_in(l: Any) -> CartLine:
    return CartLine(
        id=l.id,
        product_id=l.product_id,
        variant_id=l.variant_id,
        sku=l.sku,
        quantity=l.quantity,
        unit_price=_money_in(l.unit_price),
        tags=list(l.tags),
        collections=list(l.collections),
        tax_code=l.tax_code,
        weight_grams=l.weight_grams,
    )


def _i64(v: Any, what: str) -> int:
    if type(v) is int and -9223372036854775808 <= v <= 9223372036854775807:
        return v
    if isinstance(v, bool) or not isinstance(v, int) or not fits_i64(v):
        raise TypeError(f"{what} must be an int within 64 bits, got {v!r}")
    return v


def _u32(v: Any, what: str) -> int:
    if type(v) is int and 0 <= v <= 0xFFFFFFFF:
        return v
    if isinstance(v, bool) or not isinstance(v, int) or not 0 <= v <= 0xFFFFFFFF:
        raise TypeError(f"{what} must be an int 0..4294967295, got {v!r}")
    return v


def _opt_u32(v: Any, what: str) -> Optional[int]:
    return None if v is None else _u32(v, what)


def _stack(e: BaseException) -> str:
    """The traceback of ``e`` without source lines: reading the sources
    would need a filesystem, which the sandbox does not have."""
    frames = [
        f"  {frame.f_code.co_filename}:{lineno} in {frame.f_code.co_name}"
        for frame, lineno in traceback.walk_tb(e.__traceback__)
    ]
    return "\n".join(frames)


class LogStream:
    """A text stream whose lines go to the host's log: the component's
    ``sys.stdout`` and ``sys.stderr`` (standard output does not exist in the
    sandbox), so ``print`` does not trap."""

    def __init__(self, level: str) -> None:
        self.level = level
        self.pending = ""

    def write(self, text: str) -> int:
        self.pending += text
        while "\n" in self.pending:
            line, self.pending = self.pending.split("\n", 1)
            _log.log(self.level, line)
        return len(text)

    def flush(self) -> None:
        if self.pending:
            _log.log(self.level, self.pending)
            self.pending = ""

    def isatty(self) -> bool:
        return False


class Component:
    """The exports of one plugin's component, as plain methods."""

    def __init__(self, plugin: Plugin, meta: Dict[str, str]) -> None:
        point = getattr(plugin, "point", "")
        if point not in WORLDS:
            raise TypeError(
                "PLUGIN must be an instance of a subclass of mercato_sdk.tax.Tax, shipping.Shipping, "
                "pricing.Pricing, payment.Payment or recommendations.Recommendations"
            )
        self.plugin = plugin
        self.point = point
        self.meta = meta
        self.schema = schema_text(plugin.config_schema)
        self.types = _types_module()
        self.iface = importlib.import_module(f"wit_world.exports.{WORLDS[point][2]}")
        self.log_module = importlib.import_module("wit_world.imports.log")
        self.catalog_module = _module("wit_world.imports.catalog") if point == "recommendations" else None
        self.err_class: Any = importlib.import_module("componentize_py_types").Err
        _log.set_sink(self._host_log)

    def _host_log(self, level: str, message: str) -> None:
        levels = self.log_module.Level
        self.log_module.log(getattr(levels, level.upper()), message)

    # -- every call ----------------------------------------------------------

    def _call(
        self,
        config_text: str,
        convert_in: Callable[[], Any],
        invoke: Callable[[Any, Any], Any],
        convert_out: Callable[[Any, Any], Any],
    ) -> Any:
        try:
            config = self.plugin.load_config(parse_config(config_text, self.plugin.config_schema))
            value = convert_in()
            return convert_out(invoke(config, value), value)
        except PluginError as e:
            raise self.err_class(self.types.PluginError(str(e.code), str(e.message))) from None
        except self.err_class:
            raise
        except Exception as e:
            _log.error(f"uncaught {type(e).__name__}: {e}\n{_stack(e)}")
            raise

    def describe(self) -> Any:
        t = self.types
        p = self.plugin
        return t.Metadata(
            p.name or self.meta["name"],
            p.version or self.meta["version"],
            getattr(t.ExtensionPoint, self.point.upper()),
            p.description if p.description is not None else self.meta.get("description", ""),
            self.schema,
        )

    # -- tax -----------------------------------------------------------------

    def _tax_in(self, wire: Any) -> TaxInput:
        text: str = wire.text
        if text.isascii():
            size = len(text)

            def span(s: Any) -> str:
                end = s.start + s.len
                if end > size:
                    raise PluginError.invalid_input(f"span {s.start}+{s.len} is outside the line text")
                return text[s.start : end]

        else:
            data = text.encode("utf-8")

            def span(s: Any) -> str:
                end = s.start + s.len
                if end <= len(data):
                    try:
                        return data[s.start : end].decode("utf-8")
                    except UnicodeDecodeError:
                        pass
                raise PluginError.invalid_input(f"span {s.start}+{s.len} is outside the line text")

        lines = [
            TaxableLine(
                span(l.id),
                span(l.product_id),
                span(l.sku),
                l.quantity,
                l.amount,
                None if l.tax_code is None else span(l.tax_code),
            )
            for l in wire.lines
        ]
        return TaxInput(
            currency=_currency_in(wire.currency),
            lines=lines,
            ship_to=_address_in(wire.ship_to),
            shipping_amount=wire.shipping_amount,
            ship_from=None if wire.ship_from is None else _address_in(wire.ship_from),
            customer=_customer_in(wire.customer),
            prices_include_tax=wire.prices_include_tax,
        )

    def _tax_out(self, out: Any, _input: Any) -> Any:
        t = self.iface
        rates = [
            t.TaxRate(r.jurisdiction, (r.rate if isinstance(r.rate, Rate) else Rate.require(str(r.rate))).to_wire(), r.label)
            for r in out.rates
        ]
        lines = sorted(out.lines, key=lambda x: x.line)
        return t.TaxOutput(
            rates,
            [t.LineTax(_u32(x.line, "line"), _u32(x.rate, "rate"), _i64(x.amount, "amount")) for x in lines],
            [t.TaxAmount(_u32(x.rate, "rate"), _i64(x.amount, "amount")) for x in out.shipping],
        )

    def calculate(self, config: str, input: Any) -> Any:
        """The tax world's ``calculate``."""
        return self._call(config, lambda: self._tax_in(input), self.plugin.calculate, self._tax_out)  # type: ignore[attr-defined]

    # -- shipping ------------------------------------------------------------

    def _money_out(self, m: Any, currency: Currency, what: str) -> Any:
        if isinstance(m, Money):
            return self.types.Money(m.amount, m.currency.code)
        if isinstance(m, int) and not isinstance(m, bool):
            return self.types.Money(Money(m, currency).amount, currency.code)
        raise TypeError(f"{what} must be a Money, got {m!r}")

    def _shipping_in(self, w: Any) -> ShippingInput:
        return ShippingInput(
            currency=_currency_in(w.currency),
            destination=_address_in(w.destination),
            items=[
                ShipItem(i.line_id, i.sku, i.quantity, i.weight_grams, i.length_mm, i.width_mm, i.height_mm)
                for i in w.items
            ],
            subtotal=_money_in(w.subtotal),
        )

    def _shipping_out(self, out: Any, input: ShippingInput) -> Any:
        s = self.iface
        return s.ShippingOutput(
            [
                s.RateOption(
                    o.code,
                    o.carrier,
                    o.service,
                    self._money_out(o.amount, input.currency, "amount"),
                    _opt_u32(o.min_days, "min_days"),
                    _opt_u32(o.max_days, "max_days"),
                )
                for o in out.options
            ]
        )

    def rates(self, config: str, input: Any) -> Any:
        """The shipping world's ``rates``."""
        return self._call(config, lambda: self._shipping_in(input), self.plugin.rates, self._shipping_out)  # type: ignore[attr-defined]

    # -- pricing -------------------------------------------------------------

    def _adjustment_in(self, a: Any) -> Adjustment:
        p = self.iface
        target: Any
        if isinstance(a.target, p.Target_Line):
            target = LineTarget(a.target.value)
        elif isinstance(a.target, p.Target_Order):
            target = OrderTarget()
        else:
            target = ShippingTarget()
        kind: Any
        if isinstance(a.kind, p.Kind_Percent):
            kind = Percent(a.kind.value)
        elif isinstance(a.kind, p.Kind_FixedAmount):
            kind = FixedAmount(a.kind.value)
        else:
            kind = FixedUnitPrice(a.kind.value)
        return Adjustment(target, kind, a.label, a.code)

    def _pricing_in(self, w: Any) -> PricingInput:
        return PricingInput(
            currency=_currency_in(w.currency),
            lines=[_cart_line_in(l) for l in w.lines],
            customer=_customer_in(w.customer),
            discount_codes=list(w.discount_codes),
            shipping=None if w.shipping is None else _money_in(w.shipping),
            previous=[AppliedAdjustment(self._adjustment_in(x.adjustment), _money_in(x.amount)) for x in w.previous],
        )

    def _adjustment_out(self, a: Adjustment) -> Any:
        p = self.iface
        t = a.target
        if isinstance(t, LineTarget):
            target = p.Target_Line(t.line_id)
        elif isinstance(t, OrderTarget):
            target = p.Target_Order()
        elif isinstance(t, ShippingTarget):
            target = p.Target_Shipping()
        else:
            raise TypeError(f"not an adjustment target: {t!r}")
        k = a.kind
        if isinstance(k, Percent):
            kind = p.Kind_Percent(_u32(k.ppm, "percent"))
        elif isinstance(k, FixedAmount):
            kind = p.Kind_FixedAmount(_i64(k.amount, "fixed amount"))
        elif isinstance(k, FixedUnitPrice):
            kind = p.Kind_FixedUnitPrice(_i64(k.price, "fixed unit price"))
        else:
            raise TypeError(f"not an adjustment kind: {k!r}")
        return p.Adjustment(target, kind, a.label, a.code)

    def _pricing_out(self, out: Any, _input: Any) -> Any:
        return self.iface.PricingOutput([self._adjustment_out(a) for a in out.adjustments])

    def run(self, config: str, input: Any) -> Any:
        """The pricing world's ``run``."""
        return self._call(config, lambda: self._pricing_in(input), self.plugin.run, self._pricing_out)  # type: ignore[attr-defined]

    # -- payment -------------------------------------------------------------

    def _status_out(self, s: Any) -> Any:
        p = self.iface
        if isinstance(s, Succeeded):
            return p.Status_Succeeded()
        if isinstance(s, Pending):
            return p.Status_Pending()
        if isinstance(s, Failed):
            return p.Status_Failed(str(s.reason))
        if isinstance(s, RequiresAction):
            return p.Status_RequiresAction(p.NextAction(s.action.client_secret, s.action.redirect_url))
        raise TypeError(f"not a payment status: {s!r}")

    def _result_out(self, r: Any, _input: Any) -> Any:
        return self.iface.PaymentResult(self._status_out(r.status), r.provider_reference, r.message)

    def _event_out(self, e: Any, _input: Any) -> Any:
        amount = None if e.amount is None else self._money_out(e.amount, e.amount.currency, "amount")
        return self.iface.PaymentEvent(e.provider_reference, self._status_out(e.status), amount)

    def create_payment(self, config: str, r: Any) -> Any:
        """The payment world's ``create-payment``."""

        def request() -> PaymentRequest:
            return PaymentRequest(
                amount=_money_in(r.amount),
                order_reference=r.order_reference,
                idempotency_key=r.idempotency_key,
                payment_method_token=r.payment_method_token,
                capture=r.capture,
                email=r.email,
            )

        return self._call(config, request, self.plugin.create_payment, self._result_out)  # type: ignore[attr-defined]

    def capture(self, config: str, r: Any) -> Any:
        """The payment world's ``capture``."""
        request = lambda: CaptureRequest(r.provider_reference, _money_in(r.amount), r.idempotency_key)  # noqa: E731
        return self._call(config, request, self.plugin.capture, self._result_out)  # type: ignore[attr-defined]

    def refund(self, config: str, r: Any) -> Any:
        """The payment world's ``refund``."""
        request = lambda: RefundRequest(r.provider_reference, _money_in(r.amount), r.idempotency_key, r.reason)  # noqa: E731
        return self._call(config, request, self.plugin.refund, self._result_out)  # type: ignore[attr-defined]

    def void(self, config: str, r: Any) -> Any:
        """The payment world's ``void``."""
        request = lambda: VoidRequest(r.provider_reference, r.idempotency_key)  # noqa: E731
        return self._call(config, request, self.plugin.void, self._result_out)  # type: ignore[attr-defined]

    def parse_webhook(self, config: str, hook: Any) -> Any:
        """The payment world's ``parse-webhook``."""
        request = lambda: Webhook([(k, v) for k, v in hook.headers], bytes(hook.body))  # noqa: E731
        return self._call(config, request, self.plugin.parse_webhook, self._event_out)  # type: ignore[attr-defined]

    # -- recommendations -----------------------------------------------------

    def recommend(self, config: str, context: Any) -> Any:
        """The recommendations world's ``recommend``."""
        catalog = _HostCatalog(self.catalog_module)

        def context_in() -> Context:
            return Context(
                limit=context.limit,
                product_id=context.product_id,
                cart_product_ids=list(context.cart_product_ids),
                customer=_customer_in(context.customer),
            )

        def out(recs: Any, _input: Any) -> List[Any]:
            return [self.iface.Recommendation(r.product_id, r.reason) for r in recs]

        return self._call(config, context_in, lambda c, cx: self.plugin.recommend(c, cx, catalog), out)  # type: ignore[attr-defined]


class _HostCatalog:
    """The catalog import, in the SDK's types."""

    def __init__(self, module: Optional[ModuleType]) -> None:
        if module is None:
            raise ImportError("the wit_world bindings have no mercato:plugin/catalog module")
        self.module = module

    def product(self, id: str) -> Optional[Product]:
        p = self.module.get_product(id)
        if p is None:
            return None
        return Product(p.id, p.title, _money_in(p.price), list(p.category_ids), list(p.tags), p.available)

    def bought_together(self, product_id: str, limit: int) -> List[ProductCount]:
        return [ProductCount(c.product_id, c.count) for c in self.module.bought_together(product_id, limit)]

    def bestsellers(self, category_id: Optional[str], limit: int) -> List[ProductCount]:
        return [ProductCount(c.product_id, c.count) for c in self.module.bestsellers(category_id, limit)]


def component(plugin: Plugin, meta: Dict[str, str]) -> Component:
    """The exports of ``plugin``'s component; ``meta`` holds the name,
    version and description from its pyproject.toml."""
    return Component(plugin, meta)


__all__ = ["WORLDS", "METHODS", "Component", "LogStream", "component"]
