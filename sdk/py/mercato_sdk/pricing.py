"""Pricing: discounts, promotions and price lists (the pricing world of
mercato:plugin@0.1.0).

A pricing plugin proposes adjustments; the host computes their amounts with
a :class:`Ledger` (half-even at the line level), rejects impossible ones
and applies the rest. Plugins bound in order each see what earlier ones
applied in :attr:`PricingInput.previous`.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass, field, replace
from typing import Any, Dict, List, Optional, Sequence, Union

from .money import Currency, Money, MoneyError, fits_i64
from .plugin import Plugin
from .types import CartLine, Customer


# What an adjustment applies to.
@dataclass(frozen=True)
class LineTarget:
    """One cart line, by id."""

    line_id: str


@dataclass(frozen=True)
class OrderTarget:
    """The whole order, spread over the lines by the host."""


@dataclass(frozen=True)
class ShippingTarget:
    """The shipping amount."""


Target = Union[LineTarget, OrderTarget, ShippingTarget]


# How an adjustment changes its target.
@dataclass(frozen=True)
class Percent:
    """A percentage off, in parts per million (100000 = 10 %)."""

    ppm: int


@dataclass(frozen=True)
class FixedAmount:
    """A fixed amount off, in minor units of the cart currency."""

    amount: int


@dataclass(frozen=True)
class FixedUnitPrice:
    """A new unit price for a line, in minor units (line targets only)."""

    price: int


AdjustmentKind = Union[Percent, FixedAmount, FixedUnitPrice]


@dataclass
class Adjustment:
    """One proposed change to a price."""

    target: Target
    kind: AdjustmentKind
    #: Shown to the buyer, e.g. ``"10 % off 5 or more"``.
    label: str
    #: The discount code this redeems; must be one the buyer entered.
    code: Optional[str] = None

    @staticmethod
    def line_percent(line_id: str, ppm: int, label: str) -> "Adjustment":
        """A percentage off one line (parts per million)."""
        return Adjustment(LineTarget(line_id), Percent(ppm), label)

    @staticmethod
    def line_amount(line_id: str, amount: int, label: str) -> "Adjustment":
        """A fixed amount off one line, in minor units."""
        return Adjustment(LineTarget(line_id), FixedAmount(amount), label)

    @staticmethod
    def line_unit_price(line_id: str, price: int, label: str) -> "Adjustment":
        """A new unit price for one line, in minor units."""
        return Adjustment(LineTarget(line_id), FixedUnitPrice(price), label)

    @staticmethod
    def order_percent(ppm: int, label: str) -> "Adjustment":
        """A percentage off the whole order."""
        return Adjustment(OrderTarget(), Percent(ppm), label)

    @staticmethod
    def order_amount(amount: int, label: str) -> "Adjustment":
        """A fixed amount off the whole order, in minor units."""
        return Adjustment(OrderTarget(), FixedAmount(amount), label)

    @staticmethod
    def shipping_percent(ppm: int, label: str) -> "Adjustment":
        """A percentage off shipping."""
        return Adjustment(ShippingTarget(), Percent(ppm), label)

    @staticmethod
    def shipping_amount(amount: int, label: str) -> "Adjustment":
        """A fixed amount off shipping, in minor units."""
        return Adjustment(ShippingTarget(), FixedAmount(amount), label)

    def with_code(self, code: str) -> "Adjustment":
        """The same adjustment, redeeming ``code``."""
        return replace(self, code=code)


@dataclass
class AppliedAdjustment:
    """An adjustment an earlier plugin made, with the amount the host computed."""

    adjustment: Adjustment
    #: The discount it gave (positive).
    amount: Money


def _ascii_lower(s: str) -> str:
    return "".join(c.lower() if "A" <= c <= "Z" else c for c in s)


@dataclass
class PricingInput:
    """What a pricing plugin is given."""

    currency: Currency
    lines: List[CartLine]
    customer: Optional[Customer] = None
    #: Codes the buyer entered that the host found valid.
    discount_codes: List[str] = field(default_factory=list)
    #: The selected shipping rate, once there is one.
    shipping: Optional[Money] = None
    #: What earlier pricing plugins applied, in order.
    previous: List[AppliedAdjustment] = field(default_factory=list)

    def subtotal(self) -> Money:
        """Lines total before any adjustment."""
        return Money(sum(l.subtotal().amount for l in self.lines), self.currency)

    def has_code(self, code: str) -> Optional[str]:
        """The code as the buyer entered it, if they did (case-insensitive)."""
        wanted = _ascii_lower(code)
        return next((c for c in self.discount_codes if _ascii_lower(c) == wanted), None)


@dataclass
class PricingOutput:
    """What a pricing plugin answers: adjustments, applied in order."""

    adjustments: List[Adjustment] = field(default_factory=list)


class Refused(Exception):
    """Why the host refuses an adjustment."""


def _debug(s: str) -> str:
    return json.dumps(s, ensure_ascii=False)


class Ledger:
    """Computes what adjustments are worth and keeps the remaining totals, as
    the host does.

    Percentages apply to what is left of their target after earlier
    adjustments; order-level amounts are spread over the lines in proportion
    to what is left of each, so line totals always re-add to the order total.
    """

    def __init__(self, currency: Currency, lines: Sequence[CartLine], shipping: Optional[Money] = None) -> None:
        self.currency = currency
        self._index: Dict[str, int] = {}
        for i, l in enumerate(lines):
            self._index.setdefault(l.id, i)
        self._quantities = [l.quantity for l in lines]
        self._remaining = [l.subtotal().amount for l in lines]
        self._shipping_remaining = shipping.amount if shipping is not None else None
        self._applied: List[AppliedAdjustment] = []
        self._line_discounts = [0 for _ in lines]
        self._shipping_discount = 0

    @staticmethod
    def from_input(input: PricingInput) -> "Ledger":
        """A ledger of the input's lines and shipping, ``input.previous`` replayed."""
        ledger = Ledger(input.currency, input.lines, input.shipping)
        for prev in input.previous:
            try:
                ledger.apply(prev.adjustment, input.discount_codes)
            except Refused:
                # Earlier answers were checked when they were made; one that no
                # longer applies (a line since removed) is skipped.
                pass
        return ledger

    def apply(self, adjustment: Adjustment, codes: Sequence[str]) -> Money:
        """Applies one adjustment, or raises :class:`Refused` saying why it is
        impossible (and changes nothing). ``codes`` are the codes the buyer entered."""
        target, kind, label, code = adjustment.target, adjustment.kind, adjustment.label, adjustment.code
        if code is not None and not any(_ascii_lower(c) == _ascii_lower(code) for c in codes):
            raise Refused(f"redeems code {_debug(code)} that the buyer did not enter")
        if not label.strip() or len(label.encode("utf-8")) > 200:
            raise Refused("label must be 1 to 200 characters")
        if isinstance(target, LineTarget):
            i = self._index.get(target.line_id)
            if i is None:
                raise Refused(f"unknown line id {_debug(target.line_id)}")
            left = self._remaining[i]
            if isinstance(kind, FixedUnitPrice):
                price = kind.price
                if price < 0:
                    raise Refused(f"negative unit price {price}")
                new_total = price * self._quantities[i]
                if not fits_i64(new_total):
                    raise Refused("unit price out of range")
                if new_total > left:
                    raise Refused(
                        f"fixed unit price {price} raises line {_debug(target.line_id)} above its current total {left}"
                    )
                off = left - new_total
            else:
                off = self._off(kind, left, f"line {_debug(target.line_id)}")
            self._remaining[i] -= off
            self._line_discounts[i] += off
            amount = off
        elif isinstance(target, OrderTarget):
            left = sum(self._remaining)
            if isinstance(kind, FixedUnitPrice):
                raise Refused("fixed unit price applies to lines only")
            off = self._off(kind, left, "the order")
            try:
                parts = Money(off, self.currency).allocate(self._remaining)
            except MoneyError as e:
                raise Refused(str(e)) from None
            for i, part in enumerate(parts):
                self._remaining[i] -= part.amount
                self._line_discounts[i] += part.amount
            amount = off
        elif isinstance(target, ShippingTarget):
            if isinstance(kind, FixedUnitPrice):
                raise Refused("fixed unit price applies to lines only")
            left = self._shipping_remaining if self._shipping_remaining is not None else 0
            off = self._off(kind, left, "shipping")
            if self._shipping_remaining is not None:
                self._shipping_remaining -= off
            self._shipping_discount += off
            amount = off
        else:
            raise Refused(f"unknown target {target!r}")
        money = Money(amount, self.currency)
        self._applied.append(AppliedAdjustment(adjustment, money))
        return money

    def apply_all(self, adjustments: Sequence[Adjustment], codes: Sequence[str]) -> None:
        """Applies a plugin's whole answer, or none of it (raises :class:`Refused`)."""
        nxt = copy.copy(self)
        nxt._remaining = list(self._remaining)
        nxt._applied = list(self._applied)
        nxt._line_discounts = list(self._line_discounts)
        for i, a in enumerate(adjustments):
            try:
                nxt.apply(a, codes)
            except Refused as e:
                raise Refused(f"adjustment {i}: {e}") from None
        self.__dict__.update(nxt.__dict__)

    def _off(self, kind: AdjustmentKind, left: int, what: str) -> int:
        if isinstance(kind, Percent):
            if kind.ppm > 1_000_000:
                raise Refused(f"percent {kind.ppm} ppm is above 100 %")
            try:
                return Money(left, self.currency).mul_ppm(kind.ppm).amount
            except MoneyError as e:
                raise Refused(str(e)) from None
        if isinstance(kind, FixedAmount):
            a = kind.amount
            if a < 0:
                raise Refused(f"negative amount {a}")
            if a > left:
                raise Refused(f"discount {a} is larger than {what} ({left})")
            return a
        if isinstance(kind, FixedUnitPrice):
            raise Refused("fixed unit price applies to lines only")
        raise Refused(f"unknown kind {kind!r}")

    def applied(self) -> List[AppliedAdjustment]:
        """Adjustments applied so far, in order."""
        return self._applied

    def line_discounts(self) -> List[int]:
        """Discount given to each line so far (same order as the lines)."""
        return self._line_discounts

    def line_totals(self) -> List[int]:
        """What is left of each line's total (same order as the lines)."""
        return self._remaining

    def shipping_total(self) -> Optional[int]:
        """What is left of the shipping amount, if there is one."""
        return self._shipping_remaining

    def shipping_discount(self) -> int:
        """Discount given on shipping so far."""
        return self._shipping_discount

    def discount_total(self) -> Money:
        """Total discount so far, lines and shipping."""
        return Money(sum(self._line_discounts) + self._shipping_discount, self.currency)


class Pricing(Plugin):
    """A pricing plugin: derive from it and implement :meth:`run`."""

    point = "pricing"

    def run(self, config: Any, input: PricingInput) -> PricingOutput:
        """Proposes adjustments for a cart."""
        raise NotImplementedError
