"""Shipping rates (the shipping world of mercato:plugin@0.1.0). A failing
shipping plugin's rates are skipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, List, Optional

from .money import Currency, Money
from .plugin import Plugin
from .types import Address


@dataclass
class ShipItem:
    """One item to ship; sizes and weight are per unit."""

    line_id: str
    sku: str
    quantity: int
    weight_grams: Optional[int] = None
    length_mm: Optional[int] = None
    width_mm: Optional[int] = None
    height_mm: Optional[int] = None


@dataclass
class ShippingInput:
    """What a shipping plugin is given."""

    currency: Currency
    #: Where the parcel goes.
    destination: Address
    #: What is in it.
    items: List[ShipItem]
    #: Lines total after discounts.
    subtotal: Money

    def total_weight_grams(self) -> int:
        """Total weight in grams (items without a weight count as 0)."""
        return sum((i.weight_grams or 0) * i.quantity for i in self.items)


@dataclass
class RateOption:
    """One way to ship."""

    #: Unique within one plugin's answer, e.g. ``"standard"``.
    code: str
    #: e.g. ``"DHL"``.
    carrier: str
    #: e.g. ``"Express"``.
    service: str
    #: Price, in the cart currency.
    amount: Money
    #: Earliest delivery, in days.
    min_days: Optional[int] = None
    #: Latest delivery, in days.
    max_days: Optional[int] = None


@dataclass
class ShippingOutput:
    """What a shipping plugin answers; no options when it cannot ship there."""

    options: List[RateOption] = field(default_factory=list)


class Shipping(Plugin):
    """A shipping-rate plugin: derive from it and implement :meth:`rates`."""

    point = "shipping"

    def rates(self, config: Any, input: ShippingInput) -> ShippingOutput:
        """Offers rate options for a cart."""
        raise NotImplementedError
