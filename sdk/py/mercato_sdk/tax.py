"""Tax calculation (the tax world of mercato:plugin@0.2.0). A failing tax
plugin blocks checkout.

A plugin reads the lines as plain strings (the SDK cuts them out of the
input's one text) and answers with a table: each distinct tax —
jurisdiction, rate, label — is declared once with :meth:`TaxOutput.rate`,
and every tax on a line or on shipping refers to it by index.

.. code-block:: python

    class SalesTax(Tax):
        def calculate(self, config, input):
            out = TaxOutput()
            tax = out.rate("US-CA", Rate.require("0.0725"), "CA sales tax")
            for i, line in enumerate(input.lines):
                if line.tax_code != "groceries":
                    out.tax_line(input, i, tax, line.amount)
            out.tax_shipping(input, tax, input.shipping_amount)
            return out
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, List, Optional, Tuple, Union

from .errors import PluginError
from .money import I64_MAX, Currency, Money, MoneyError, Rate, included_in_minor, mul_rate_minor
from .plugin import Plugin
from .types import Address, Customer


@dataclass
class TaxableLine:
    """A cart line after discounts."""

    id: str
    product_id: str
    sku: str
    quantity: int
    #: Line total after discounts, in minor units of the cart currency.
    amount: int
    #: Tax code of the variant, e.g. ``"books"``.
    tax_code: Optional[str] = None


@dataclass
class TaxInput:
    """What a tax plugin is given."""

    currency: Currency
    #: Lines after discounts; a tax names a line by its position here.
    lines: List[TaxableLine]
    ship_to: Address
    #: Shipping after shipping discounts, in minor units.
    shipping_amount: int = 0
    ship_from: Optional[Address] = None
    customer: Optional[Customer] = None
    #: Line amounts already include tax.
    prices_include_tax: bool = False

    def money(self, amount: int) -> Money:
        """``amount`` minor units in the cart currency."""
        return Money(amount, self.currency)

    def tax_at(self, rate: Rate, base: int) -> int:
        """The tax at ``rate`` on ``base`` minor units (inclusive or exclusive
        pricing as the input says), rounded half-even. A negative base is
        taxed as zero: tax is never negative."""
        if type(base) is not int:
            raise TypeError(f"base must be an int of minor units, got {base!r}")
        b = base if base > 0 else 0
        try:
            if b > I64_MAX:
                raise MoneyError.overflow()
            return included_in_minor(b, rate) if self.prices_include_tax else mul_rate_minor(b, rate)
        except MoneyError as e:
            raise PluginError("arithmetic", str(e)) from None


@dataclass
class TaxRate:
    """One distinct tax of an answer, declared once however many lines it applies to."""

    #: e.g. ``"US-CA"``, ``"DE"``.
    jurisdiction: str
    #: Between 0 and 1.
    rate: Rate
    #: Shown to the buyer, e.g. ``"CA sales tax"``.
    label: str


@dataclass
class LineTax:
    """A tax on one line."""

    #: Position of the line in ``TaxInput.lines``.
    line: int
    #: Index into ``TaxOutput.rates``.
    rate: int
    #: Minor units, never negative.
    amount: int


@dataclass
class ShippingTax:
    """A tax on shipping."""

    #: Index into ``TaxOutput.rates``.
    rate: int
    #: Minor units, never negative.
    amount: int


@dataclass
class TaxOutput:
    """What a tax plugin answers: the distinct taxes, then which lines and
    whether shipping bear them. A line not listed is not taxed."""

    rates: List[TaxRate] = field(default_factory=list)
    #: In line order; at most one tax per rate on a line.
    lines: List[LineTax] = field(default_factory=list)
    #: On shipping, at most one per rate.
    shipping: List[ShippingTax] = field(default_factory=list)

    def rate(self, jurisdiction: str, rate: Union[Rate, str], label: str) -> int:
        """The index of the tax ``(jurisdiction, rate, label)``, declared here
        the first time it is asked for."""
        r = rate if isinstance(rate, Rate) else Rate.require(rate)
        for i, t in enumerate(self.rates):
            if t.jurisdiction == jurisdiction and t.label == label and t.rate == r:
                return i
        self.rates.append(TaxRate(jurisdiction, r, label))
        return len(self.rates) - 1

    def _rate_at(self, rate: int) -> Rate:
        if isinstance(rate, int) and not isinstance(rate, bool) and 0 <= rate < len(self.rates):
            return self.rates[rate].rate
        raise PluginError("invalid_output", f"no declared rate {rate}")

    def tax_line(self, input: TaxInput, line: int, rate: int, base: int) -> int:
        """Taxes line ``line`` of ``input`` at the declared ``rate`` on ``base``
        minor units (see :meth:`TaxInput.tax_at`); returns the tax."""
        amount = input.tax_at(self._rate_at(rate), base)
        if not 0 <= line <= 0xFFFFFFFF:
            raise PluginError("invalid_output", "line position out of range")
        self.lines.append(LineTax(line, rate, amount))
        return amount

    def tax_every_line(self, input: TaxInput, rate: int) -> None:
        """Taxes every line of ``input`` at the declared ``rate`` on its amount."""
        for i, line in enumerate(input.lines):
            self.tax_line(input, i, rate, line.amount)

    def tax_shipping(self, input: TaxInput, rate: int, base: int) -> int:
        """Taxes shipping at the declared ``rate`` on ``base`` minor units; returns the tax."""
        amount = input.tax_at(self._rate_at(rate), base)
        self.shipping.append(ShippingTax(rate, amount))
        return amount

    def line_taxes(self, line: int) -> Iterator[Tuple[TaxRate, int]]:
        """The taxes on line ``line``, with their rates."""
        for t in self.lines:
            if t.line == line and 0 <= t.rate < len(self.rates):
                yield self.rates[t.rate], t.amount

    def shipping_taxes(self) -> Iterator[Tuple[TaxRate, int]]:
        """The taxes on shipping, with their rates."""
        for t in self.shipping:
            if 0 <= t.rate < len(self.rates):
                yield self.rates[t.rate], t.amount

    def total(self) -> int:
        """Total tax, lines and shipping, in minor units."""
        return sum(t.amount for t in self.lines) + sum(t.amount for t in self.shipping)

    def sort_lines(self) -> None:
        """Puts the line taxes in line order (stable), as the host expects them."""
        self.lines.sort(key=lambda t: t.line)


class Tax(Plugin):
    """A tax plugin: derive from it and implement :meth:`calculate`."""

    point = "tax"

    def calculate(self, config: Any, input: TaxInput) -> TaxOutput:
        """Computes the taxes of a cart. ``config`` is what :meth:`load_config` returned."""
        raise NotImplementedError
