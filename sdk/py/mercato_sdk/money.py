"""Exact money: integer minor units of an ISO 4217 currency.

Mirrors the Rust SDK's money module (``mercato_sdk::{Currency, Money, Rate}``)
and computes the same results: every amount is an ``int`` of minor units
within the signed 64-bit range, every rate an exact decimal (an integer
mantissa and a scale), and every rounding half to even. No floats and no
``decimal`` module are involved.
"""

from __future__ import annotations

import math
import re
from typing import Dict, List, Optional, Sequence, Tuple, Union

from .errors import PluginError

# ISO 4217 currencies whose minor unit is not 2 decimal places.
_EXPONENTS: Dict[str, int] = {
    "BHD": 3, "BIF": 0, "CLF": 4, "CLP": 0, "DJF": 0, "GNF": 0, "IQD": 3, "ISK": 0, "JOD": 3,
    "JPY": 0, "KMF": 0, "KRW": 0, "KWD": 3, "LYD": 3, "OMR": 3, "PYG": 0, "RWF": 0, "TND": 3,
    "UGX": 0, "UYI": 0, "UYW": 4, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
}

# Active ISO 4217 currencies with two decimal places.
_TWO_DECIMALS = frozenset(
    (
        "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD "
        "CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD "
        "GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD "
        "MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP "
        "PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS "
        "TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG"
    ).split()
)

I64_MIN = -(2**63)
I64_MAX = 2**63 - 1
_I128_MIN = -(2**127)
_I128_MAX = 2**127 - 1
_MAX_SCALE = 28  # decimals keep at most 28 fractional digits
_U96 = 2**96  # and a 96-bit mantissa


def fits_i64(n: int) -> bool:
    """Whether ``n`` fits in a signed 64-bit integer."""
    return I64_MIN <= n <= I64_MAX


def div_half_even(num: int, den: int) -> int:
    """``num / den`` rounded half to even; ``den`` is positive."""
    q = abs(num) // den
    r = abs(num) - q * den
    if r * 2 > den or (r * 2 == den and q % 2 == 1):
        q += 1
    return -q if num < 0 else q


def to_minor(value: object, what: str = "amount") -> int:
    """``value`` as an int of minor units; floats and bools are refused."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{what} must be an integer number of minor units, got {value!r}")
    return value


class UnknownCurrency(ValueError):
    """The reason a string is not a :class:`Currency`."""

    def __init__(self, code: str) -> None:
        self.code = code
        super().__init__(f'unknown currency code "{code}" (expected ISO 4217, e.g. "USD")')


class Currency:
    """An ISO 4217 alphabetic currency code that Mercato knows, with its exponent."""

    __slots__ = ("code", "exponent")
    _known: Dict[str, "Currency"] = {}

    USD: "Currency"
    EUR: "Currency"
    JPY: "Currency"
    KWD: "Currency"

    def __init__(self, code: str, exponent: int) -> None:
        self.code = code
        self.exponent = exponent

    @staticmethod
    def parse(code: Union[str, "Currency"]) -> "Currency":
        """Parses an uppercase ISO 4217 code such as ``"USD"``; raises :class:`UnknownCurrency`."""
        if isinstance(code, Currency):
            return code
        known = Currency._known.get(code) if isinstance(code, str) else None
        if known is not None:
            return known
        if not isinstance(code, str) or len(code) != 3:
            raise UnknownCurrency(str(code))
        if code in _EXPONENTS:
            exponent = _EXPONENTS[code]
        elif code in _TWO_DECIMALS:
            exponent = 2
        else:
            raise UnknownCurrency(code)
        currency = Currency(code, exponent)
        Currency._known[code] = currency
        return currency

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Currency) and other.code == self.code

    def __hash__(self) -> int:
        return hash(self.code)

    def __str__(self) -> str:
        return self.code

    def __repr__(self) -> str:
        return f"Currency({self.code})"


Currency.USD = Currency.parse("USD")
Currency.EUR = Currency.parse("EUR")
Currency.JPY = Currency.parse("JPY")
Currency.KWD = Currency.parse("KWD")


class MoneyError(ArithmeticError):
    """Why a money operation has no exact answer (``kind``: ``overflow`` or ``currency_mismatch``)."""

    def __init__(self, kind: str, message: str) -> None:
        self.kind = kind
        super().__init__(message)

    @staticmethod
    def overflow() -> "MoneyError":
        """The result does not fit in 64 bits of minor units."""
        return MoneyError("overflow", "amount out of range")


def _checked(n: int) -> int:
    if not fits_i64(n):
        raise MoneyError.overflow()
    return n


class Money:
    """An exact amount of money in minor units (``Money(1999, "USD")`` is $19.99)."""

    __slots__ = ("amount", "currency")

    def __init__(self, amount: int, currency: Union[Currency, str]) -> None:
        #: Minor units: cents for USD, yen for JPY, fils for KWD.
        self.amount: int = _checked(to_minor(amount))
        #: The currency.
        self.currency: Currency = Currency.parse(currency)

    @staticmethod
    def zero(currency: Union[Currency, str]) -> "Money":
        """Zero in ``currency``."""
        return Money(0, currency)

    @staticmethod
    def from_major(major: str, currency: Union[Currency, str]) -> Optional["Money"]:
        """Parses a decimal major-unit string (``"19.99"`` USD is 1999). More
        decimals than the currency has are refused rather than rounded."""
        c = Currency.parse(currency)
        d = parse_general_decimal(str(major))
        if d is None:
            return None
        mantissa, scale = d
        num = mantissa * 10**c.exponent
        if num % 10**scale != 0:
            return None
        minor = num // 10**scale  # exact
        return Money(minor, c) if fits_i64(minor) else None

    def to_major(self) -> str:
        """The amount in major units as an exact decimal string (1999 USD -> ``"19.99"``)."""
        return format_decimal(self.amount, self.currency.exponent)

    def _same_currency(self, other: "Money") -> None:
        if not isinstance(other, Money):
            raise TypeError("expected a Money")
        if other.currency != self.currency:
            raise MoneyError("currency_mismatch", f"currency mismatch: {self.currency} and {other.currency}")

    def add(self, other: "Money") -> "Money":
        """``self + other``, same currency."""
        self._same_currency(other)
        return Money(_checked(self.amount + other.amount), self.currency)

    def sub(self, other: "Money") -> "Money":
        """``self - other``, same currency."""
        self._same_currency(other)
        return Money(_checked(self.amount - other.amount), self.currency)

    def mul(self, quantity: int) -> "Money":
        """``self × quantity``."""
        return Money(_checked(self.amount * to_minor(quantity, "quantity")), self.currency)

    def mul_ratio(self, num: int, den: int) -> "Money":
        """``self × num / den``, rounded half-even to the minor unit; ``den`` must be positive."""
        if den <= 0:
            raise MoneyError.overflow()
        return Money(_checked(div_half_even(self.amount * num, den)), self.currency)

    def mul_rate(self, rate: Union["Rate", str]) -> "Money":
        """``self × rate``, rounded half-even to the minor unit."""
        r = rate if isinstance(rate, Rate) else Rate.require(rate)
        return Money(mul_rate_minor(self.amount, r), self.currency)

    def mul_ppm(self, ppm: int) -> "Money":
        """``self × ppm / 1 000 000``, rounded half-even (100 000 ppm = 10 %)."""
        return self.mul_rate(Rate.from_ppm(ppm))

    def allocate(self, weights: Sequence[int]) -> List["Money"]:
        """Splits ``self`` over ``weights`` in proportion, exactly: the parts add
        up to ``self`` (largest remainder, ties to the earliest weight)."""
        total = sum(weights)
        if total <= 0 or any(w < 0 for w in weights):
            return [Money(self.amount if i == 0 else 0, self.currency) for i in range(len(weights))]
        parts: List[int] = []
        remainders: List[Tuple[int, int]] = []
        given = 0
        for i, w in enumerate(weights):
            share, rem = divmod(self.amount * w, total)  # floor, as Rust's div_euclid for a positive total
            given += share
            parts.append(share)
            remainders.append((rem, i))
        left = self.amount - given
        remainders.sort(key=lambda x: (-x[0], x[1]))
        for _, i in remainders:
            if left == 0:
                break
            parts[i] += 1
            left -= 1
        return [Money(_checked(p), self.currency) for p in parts]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Money) and other.amount == self.amount and other.currency == self.currency

    def __hash__(self) -> int:
        return hash((self.amount, self.currency.code))

    def __str__(self) -> str:
        """``19.99 USD``, ``1999 JPY``, ``1.999 KWD``."""
        return f"{self.to_major()} {self.currency}"

    def __repr__(self) -> str:
        return f"Money({self.amount}, {self.currency.code})"


# ---------------------------------------------------------------------------
# Decimals: (mantissa, scale), value = mantissa / 10**scale.

_PLAIN = re.compile(r"[0-9]*")
_ASCII_WS = " \t\n\f\r"


def _parse_plain_decimal(s: str) -> Optional[Tuple[int, int]]:
    """Digits with at most one point and at most 18 of them, trailing
    fractional zeros dropped; None for anything else."""
    whole, _, fraction = s.partition(".")
    fraction = fraction.rstrip("0")
    if not whole or len(whole) + len(fraction) > 18:
        return None
    if not _PLAIN.fullmatch(whole) or not _PLAIN.fullmatch(fraction):
        return None
    return int(whole + fraction), len(fraction)


def parse_general_decimal(t: str) -> Optional[Tuple[int, int]]:
    """The general decimal grammar of the Rust SDK (rust_decimal's ``from_str``):
    an optional sign, digits with ``_`` separators after the first digit, at
    most one point; at most 28 fractional digits and a 96-bit mantissa, the
    first digit past either limit rounding the last kept one half up."""
    i = 0
    negative = False
    if t[:1] == "-":
        negative, i = True, 1
    elif t[:1] == "+":
        i = 1
    mantissa = 0
    scale = 0
    point = False
    digits = False
    while i < len(t):
        c = t[i]
        if point and scale >= _MAX_SCALE and digits:
            # Past the precision: this character only rounds what was kept.
            if "0" <= c <= "9":
                if c >= "5":
                    mantissa += 1
            elif c not in "_.":
                return None
            break
        if "0" <= c <= "9":
            nxt = mantissa * 10 + (ord(c) - 48)
            if nxt >= _U96:
                if not point:
                    return None
                if c >= "5":
                    mantissa += 1
                break
            mantissa = nxt
            if point:
                scale += 1
            digits = True
        elif c == "." and not point:
            point = True
        elif c == "_" and digits:
            pass
        else:
            return None
        i += 1
    if not digits:
        return None
    return (-mantissa if negative else mantissa), scale


def _normalize(mantissa: int, scale: int) -> Tuple[int, int]:
    """Strips trailing fractional zeros; negative zero becomes zero."""
    if mantissa == 0:
        return 0, 0
    while scale > 0 and mantissa % 10 == 0:
        mantissa = mantissa // 10 if mantissa > 0 else -(-mantissa // 10)
        scale -= 1
    return mantissa, scale


def format_decimal(mantissa: int, scale: int) -> str:
    """The decimal string of ``mantissa / 10**scale``, e.g. ``"0.0725"``."""
    digits = str(abs(mantissa))
    if scale > 0:
        digits = digits.rjust(scale + 1, "0")
        digits = f"{digits[:-scale]}.{digits[-scale:]}"
    return f"-{digits}" if mantissa < 0 else digits


def _mul_decimal(amount: int, mantissa: int, scale: int) -> int:
    """``amount × mantissa / 10**scale`` rounded half-even to an integer, as
    the Rust SDK computes it: exactly while the product fits in 128 bits,
    then through a 96-bit decimal product (rounded half-even to fit)
    rounded to an integer."""
    num = amount * mantissa
    if _I128_MIN <= num <= _I128_MAX:
        return _checked(div_half_even(num, 10**scale))
    if amount == 0 or mantissa == 0:
        return 0
    negative = num < 0
    mag = -num if negative else num
    s = scale
    bits = mag.bit_length()
    drop = 0
    if bits > 96:
        drop = (((bits - 97) * 77) >> 8) + 1
        if drop > s:
            raise MoneyError.overflow()
    if drop < s - _MAX_SCALE:
        drop = s - _MAX_SCALE
    if drop > 0:
        q = div_half_even(mag, 10**drop)
        s -= drop
        while q >= _U96:
            if s == 0:
                raise MoneyError.overflow()
            drop += 1
            s -= 1
            q = div_half_even(mag, 10**drop)
        mag = q
    rounded = div_half_even(mag, 10**s)
    return _checked(-rounded if negative else rounded)


def number_to_plain_string(n: float) -> str:
    """A finite float as the plain decimal string Rust's ``f64`` Display gives:
    the shortest round-trip digits, never an exponent."""
    text = repr(float(n))
    m = re.fullmatch(r"(-?)(\d+)(?:\.(\d+))?e([+-]\d+)", text)
    if not m:
        return text[:-2] if text.endswith(".0") else text
    sign, whole, fraction, exp_text = m.group(1), m.group(2), m.group(3) or "", m.group(4)
    exp = int(exp_text)
    digits = whole + fraction
    point = len(whole) + exp
    if point <= 0:
        return f"{sign}0.{'0' * -point}{digits}"
    if point >= len(digits):
        return f"{sign}{digits}{'0' * (point - len(digits))}"
    return f"{sign}{digits[:point]}.{digits[point:]}"


class Rate:
    """A decimal rate such as a tax rate (``"0.0725"``), exact and normalized."""

    __slots__ = ("mantissa", "scale")
    ZERO: "Rate"

    def __init__(self, mantissa: int, scale: int) -> None:
        m, s = _normalize(mantissa, scale)
        self.mantissa: int = m
        self.scale: int = s

    @staticmethod
    def parse(text: str) -> Optional["Rate"]:
        """Parses ``"0.0725"``; also accepts a percentage ``"7.25%"``. None
        when the text is not a decimal."""
        if not isinstance(text, str):
            return None

        def decimal(t: str) -> Optional[Tuple[int, int]]:
            plain = _parse_plain_decimal(t)
            if plain is not None:
                return plain
            general = parse_general_decimal(t)
            return None if general is None else _normalize(*general)

        s = text.strip(_ASCII_WS)
        if s.endswith("%"):
            d = decimal(s[:-1].strip(_ASCII_WS))
            if d is None:
                return None
            mantissa, scale = d
            if scale + 2 <= _MAX_SCALE:
                return Rate(mantissa, scale + 2)
            drop = scale + 2 - _MAX_SCALE
            return Rate(div_half_even(mantissa, 10**drop), _MAX_SCALE)
        d = decimal(s)
        return None if d is None else Rate(*d)

    @staticmethod
    def from_json(value: object) -> "Rate":
        """A rate from a configuration value: a string (``"0.0725"``,
        ``"7.25%"``) or a number, as the Rust SDK reads one. Raises a
        :class:`PluginError` ``invalid_config`` otherwise."""
        if isinstance(value, Rate):
            return value
        rate: Optional[Rate] = None
        if isinstance(value, str):
            rate = Rate.parse(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            rate = Rate(value, 0)
        elif isinstance(value, float) and math.isfinite(value):
            rate = Rate.parse(number_to_plain_string(value))
        if rate is not None:
            return rate
        import json

        raise PluginError.invalid_config(f'{json.dumps(value)} is not a rate such as "0.0725" or "7.25%"')

    @staticmethod
    def require(text: str) -> "Rate":
        """Parses or raises ValueError; for rates given in code."""
        rate = Rate.parse(text)
        if rate is None:
            raise ValueError(f"{text!r} is not a rate")
        return rate

    @staticmethod
    def from_ppm(ppm: int) -> "Rate":
        """A rate from parts per million (72500 -> 0.0725)."""
        if isinstance(ppm, bool) or not isinstance(ppm, int) or not 0 <= ppm <= 0xFFFFFFFF:
            raise ValueError(f"parts per million must be an integer 0..4294967295, got {ppm!r}")
        return Rate(ppm, 6)

    def is_fraction(self) -> bool:
        """Whether the rate is between 0 and 1 inclusive, as a tax rate must be."""
        return 0 <= self.mantissa <= 10**self.scale

    def of(self, amount: Money) -> Money:
        """``amount × rate``, half-even to the minor unit."""
        return amount.mul_rate(self)

    def included_in(self, gross: Money) -> Money:
        """The tax contained in a tax-inclusive ``gross`` amount:
        ``gross - gross / (1 + rate)``, half-even."""
        return Money(included_in_minor(gross.amount, self), gross.currency)

    def to_wire(self) -> str:
        """The canonical decimal string, e.g. ``"0.0725"``, as it crosses the wire."""
        return format_decimal(self.mantissa, self.scale)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Rate) and self.mantissa * 10**other.scale == other.mantissa * 10**self.scale

    def __hash__(self) -> int:
        return hash((self.mantissa, self.scale))

    def __str__(self) -> str:
        return self.to_wire()

    def __repr__(self) -> str:
        return f"Rate({self.to_wire()})"


Rate.ZERO = Rate(0, 0)


def mul_rate_minor(amount: int, rate: Rate) -> int:
    """``amount × rate`` in minor units, half-even (:meth:`Money.mul_rate`
    without the Money); raises :class:`MoneyError` past 64 bits."""
    return _mul_decimal(amount, rate.mantissa, rate.scale)


def included_in_minor(gross: int, rate: Rate) -> int:
    """The tax in a tax-inclusive ``gross`` amount of minor units,
    ``gross - gross / (1 + rate)`` half-even (:meth:`Rate.included_in`
    without the Money); raises :class:`MoneyError` past the exact range."""
    scale = 10**rate.scale
    den = scale + rate.mantissa
    if den <= 0 or den > _I128_MAX:
        raise MoneyError.overflow()
    num = gross * scale
    if not _I128_MIN <= num <= _I128_MAX:
        raise MoneyError.overflow()
    return gross - _checked(div_half_even(num, den))
