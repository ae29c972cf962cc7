"""Types shared by every extension point."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import List, Optional

from .money import I64_MAX, I64_MIN, Money

#: The five things a plugin can decide, in contract order.
EXTENSION_POINTS = ("pricing", "tax", "shipping", "payment", "recommendations")


@dataclass
class Address:
    """A postal address; ``country`` is ISO 3166-1 alpha-2 (``"US"``, ``"DE"``)."""

    country: str
    name: str = ""
    line1: str = ""
    line2: Optional[str] = None
    city: str = ""
    region: str = ""
    postal_code: str = ""


@dataclass
class Customer:
    """Who is buying. Guests have no id."""

    id: Optional[str] = None
    email: Optional[str] = None
    #: Customer tags, e.g. ``"wholesale"``.
    tags: List[str] = field(default_factory=list)
    #: Exempt from sales tax.
    tax_exempt: bool = False
    #: VAT identification number, e.g. ``"FR40303265045"``.
    vat_id: Optional[str] = None


@dataclass
class CartLine:
    """One cart line as the host priced it before any plugin ran."""

    id: str
    product_id: str
    variant_id: str
    sku: str
    quantity: int
    #: Price of one unit before adjustments.
    unit_price: Money
    tags: List[str] = field(default_factory=list)
    #: Category (collection) ids of the product.
    collections: List[str] = field(default_factory=list)
    #: Tax code of the variant, e.g. ``"books"``.
    tax_code: Optional[str] = None
    #: Weight of one unit.
    weight_grams: Optional[int] = None

    def subtotal(self) -> Money:
        """``unit_price × quantity`` (saturating at the 64-bit limits, as the Rust SDK)."""
        amount = max(I64_MIN, min(I64_MAX, self.unit_price.amount * self.quantity))
        return Money(amount, self.unit_price.currency)
