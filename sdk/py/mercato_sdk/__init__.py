"""Write Mercato plugins in Python.

A plugin is a module that sets ``PLUGIN`` to an instance of a class derived
from one extension point's base class — :class:`mercato_sdk.tax.Tax`,
:class:`mercato_sdk.shipping.Shipping`, :class:`mercato_sdk.pricing.Pricing`,
:class:`mercato_sdk.payment.Payment` or
:class:`mercato_sdk.recommendations.Recommendations` — built into a
WebAssembly component of the matching world of ``mercato:plugin`` by
``python3 sdk/py/build.py <plugin-dir>``. The same module runs natively
under ``python3 sdk/py/fixtures.py <plugin-dir>``. See README.md.

.. code-block:: python

    from mercato_sdk import Rate
    from mercato_sdk.tax import Tax, TaxOutput

    class FlatTax(Tax):
        config_schema = {"type": "object", "required": ["rate"],
                         "properties": {"rate": {"type": "string"}}}

        def load_config(self, config):
            return Rate.from_json(config["rate"])

        def calculate(self, rate, input):
            out = TaxOutput()
            tax = out.rate(input.ship_to.country, rate, "Tax")
            out.tax_every_line(input, tax)
            out.tax_shipping(input, tax, input.shipping_amount)
            return out

    PLUGIN = FlatTax()

Plugins run sandboxed: no clock, randomness, files, network or standard
output (payment plugins may reach hosts the operator allowed). Every call
gets the merchant's configuration as JSON, checked against
``config_schema`` and passed through ``load_config``.
"""

from . import log
from .config import CHECKED_KEYWORDS, parse_config, schema_text, validate
from .errors import OUTCOME_UNKNOWN, PluginError
from .money import Currency, Money, MoneyError, Rate, UnknownCurrency, div_half_even, format_decimal
from .plugin import Plugin
from .types import EXTENSION_POINTS, Address, CartLine, Customer

__all__ = [
    "Address",
    "CartLine",
    "CHECKED_KEYWORDS",
    "Currency",
    "Customer",
    "EXTENSION_POINTS",
    "Money",
    "MoneyError",
    "OUTCOME_UNKNOWN",
    "Plugin",
    "PluginError",
    "Rate",
    "UnknownCurrency",
    "div_half_even",
    "format_decimal",
    "log",
    "parse_config",
    "schema_text",
    "validate",
]
