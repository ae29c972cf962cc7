"""The SDK's own tests: python3 -m unittest discover -s sdk/py/tests

The money cases are the Rust SDK's (sdk/src/money.rs, tax.rs), with the
same expected results."""

import sys
import unittest
from pathlib import Path

sys.dont_write_bytecode = True
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mercato_sdk import Currency, Money, MoneyError, PluginError, Rate, parse_config  # noqa: E402
from mercato_sdk import testing  # noqa: E402
from mercato_sdk.tax import Tax, TaxInput, TaxOutput, TaxableLine  # noqa: E402
from mercato_sdk.types import Address  # noqa: E402


def usd(a: int) -> Money:
    return Money(a, "USD")


def toolchain() -> bool:
    try:
        testing.componentize_py()
        return True
    except RuntimeError:
        return False


class MoneyTests(unittest.TestCase):
    def test_exponents_follow_iso_4217(self) -> None:
        self.assertEqual([Currency.parse(c).exponent for c in ("USD", "JPY", "KWD", "CLF")], [2, 0, 3, 4])
        for bad in ("usd", "XYZ", "US"):
            with self.assertRaises(ValueError):
                Currency.parse(bad)

    def test_rounding_is_half_even(self) -> None:
        self.assertEqual(usd(25).mul_ppm(100_000).amount, 2)
        self.assertEqual(usd(35).mul_ppm(100_000).amount, 4)
        self.assertEqual(usd(-25).mul_ppm(100_000).amount, -2)
        self.assertEqual(Rate.parse("7.25%"), Rate.parse("0.0725"))
        self.assertEqual(Rate.require("0.0725").of(usd(1000)).amount, 72)
        self.assertEqual(Rate.require("0.19").included_in(usd(119)).amount, 19)
        self.assertEqual(usd(-35).mul_ppm(100_000).amount, -4)
        self.assertEqual(usd(15).mul_rate("0.5").amount, 8)
        self.assertEqual(usd(2**63 - 1).mul_rate("1").amount, 2**63 - 1)
        with self.assertRaises(MoneyError):
            usd(2**63 - 1).mul_rate("2")
        shares = [usd(a).mul_ratio(n, d).amount for a, n, d in ((5, 1, 2), (7, 1, 2), (10, 1, 3), (20, 1, 3), (-5, 1, 2))]
        self.assertEqual(shares, [2, 4, 3, 7, -2])
        with self.assertRaises(MoneyError):
            usd(1).mul_ratio(1, 0)

    def test_rates_parse_plain_and_general_decimals_alike(self) -> None:
        cases = {
            "0.0725": "0.0725", "0.0400": "0.04", "0.": "0", "0": "0", "1": "1", "1.0": "1", "00.5": "0.5",
            "19": "19", "0.000000000000000001": "0.000000000000000001", "7.25%": "0.0725", " 0.2 ": "0.2",
            "1e-2": None, "-0.07": "-0.07", "+0.07": "0.07", "0.1234567890123456789": "0.1234567890123456789",
            "12345678901234567890": "12345678901234567890", "": None, "0.0.1": None, "abc": None, "%": None, "0,07": None,
        }
        for text, expected in cases.items():
            rate = Rate.parse(text)
            self.assertEqual(rate.to_wire() if rate else None, expected, text)
        self.assertTrue(all(Rate.require(t).is_fraction() for t in ("0", "1", "0.0725", "-0")))
        self.assertFalse(any(Rate.require(t).is_fraction() for t in ("1.0001", "-0.01", "19")))
        self.assertEqual([Rate.from_json(v).to_wire() for v in (0.2, 1, 1e-7)], ["0.2", "1", "0.0000001"])
        with self.assertRaises(PluginError) as e:
            Rate.from_json("seven")
        self.assertEqual(e.exception.code, "invalid_config")

    def test_allocation_re_adds_exactly(self) -> None:
        self.assertEqual([m.amount for m in Money(100, "USD").allocate([1, 1, 1])], [34, 33, 33])
        self.assertEqual(sum(m.amount for m in Money(-7, "JPY").allocate([3, 5])), -7)
        self.assertEqual(Money.from_major("19.99", "USD").amount, 1999)  # type: ignore[union-attr]
        self.assertIsNone(Money.from_major("1.5", "JPY"))
        self.assertEqual(str(Money(1999, "KWD")), "1.999 KWD")


class TaxTests(unittest.TestCase):
    def cart(self, amounts, inclusive=False) -> TaxInput:
        lines = [TaxableLine(f"l{i}", "p", "s", 1, a) for i, a in enumerate(amounts)]
        return TaxInput(Currency.USD, lines, Address(country="US"), 500, prices_include_tax=inclusive)

    def test_a_rate_is_declared_once_and_lines_refer_to_it(self) -> None:
        input = self.cart([1000, 2000, -50])
        out = TaxOutput()
        tax = out.rate("US-CA", "0.0725", "CA sales tax")
        self.assertEqual(out.rate("US-CA", "0.07250", "CA sales tax"), tax)
        self.assertEqual(out.rate("US-CA", "0.0725", "other label"), 1)
        out.tax_every_line(input, tax)
        self.assertEqual(out.tax_shipping(input, tax, input.shipping_amount), 36)
        self.assertEqual([t.amount for t in out.lines], [72, 145, 0])
        self.assertEqual(out.total(), 72 + 145 + 36)

    def test_inclusive_prices_extract_the_tax_and_lines_are_put_in_order(self) -> None:
        input = self.cart([119, 238], inclusive=True)
        out = TaxOutput()
        vat = out.rate("DE", "0.19", "DE VAT")
        out.tax_line(input, 1, vat, 238)
        out.tax_line(input, 0, vat, 119)
        out.sort_lines()
        self.assertEqual([(t.line, t.amount) for t in out.lines], [(0, 19), (1, 38)])

    def test_an_undeclared_rate_is_an_error(self) -> None:
        input = self.cart([100])
        out = TaxOutput()
        with self.assertRaises(PluginError) as e:
            out.tax_line(input, 0, 3, 100)
        self.assertEqual(e.exception.code, "invalid_output")
        with self.assertRaises(PluginError):
            out.tax_every_line(input, 0)
        self.assertEqual(out.lines, [])


class ConfigTests(unittest.TestCase):
    def test_configuration_is_checked_against_the_schema(self) -> None:
        schema = {
            "type": "object",
            "required": ["amount"],
            "additionalProperties": False,
            "properties": {"amount": {"type": "integer", "minimum": 0}, "code": {"type": "string", "default": "flat"}},
        }
        self.assertEqual(parse_config('{"amount": 5}', schema), {"amount": 5, "code": "flat"})
        self.assertEqual(parse_config("", {"type": "object"}), {})
        for bad in ("{}", '{"amount": -1}', '{"amount": 1.5}', '{"amount": true}', '{"amount": 1, "x": 2}', "nope", "NaN"):
            with self.assertRaises(PluginError, msg=bad) as e:
                parse_config(bad, schema)
            self.assertEqual(e.exception.code, "invalid_config")


@unittest.skipUnless(toolchain(), "needs componentize-py (target/toolchains/py) for the wit_world bindings")
class GlueTests(unittest.TestCase):
    def setUp(self) -> None:
        testing.use_bindings("tax")
        self.point = testing.points()["tax"]

    def test_line_text_crosses_as_one_string_of_byte_spans(self) -> None:
        from mercato_sdk._glue import component

        class Echo(Tax):
            def calculate(self, config, input):
                self.seen = input
                return TaxOutput()

        plugin = Echo()
        wire = self.point.to_wire(
            {
                "currency": "EUR",
                "lines": [
                    {"id": "a", "product_id": "prod-a", "sku": "SKU-a", "quantity": 1, "amount": 1000},
                    {"id": "bé", "product_id": "prod-bé", "sku": "SKU-bé", "quantity": 1, "amount": 1000, "tax_code": "books"},
                ],
                "ship_to": {"country": "DE"},
            }
        )
        self.assertEqual(wire.text, "aprod-aSKU-abéprod-béSKU-bébooks")
        exports = component(plugin, {"name": "t", "version": "1", "description": ""})
        exports.calculate("{}", wire)
        line = plugin.seen.lines[1]
        self.assertEqual((line.id, line.product_id, line.sku, line.tax_code), ("bé", "prod-bé", "SKU-bé", "books"))
        wire.lines[1].id.len = 2  # cuts the é
        err = sys.modules["componentize_py_types"].Err
        with self.assertRaises(err) as e:
            exports.calculate("{}", wire)
        self.assertEqual(e.exception.value.code, "invalid_input")


if __name__ == "__main__":
    unittest.main()
