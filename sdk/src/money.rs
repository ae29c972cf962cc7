//! Exact money: integer minor units of an ISO 4217 currency.

use std::fmt;
use std::str::FromStr;

use rust_decimal::prelude::ToPrimitive;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// ISO 4217 currencies whose minor unit is not 2 decimal places.
const EXPONENTS: &[(&str, u8)] = &[
    ("BHD", 3),
    ("BIF", 0),
    ("CLF", 4),
    ("CLP", 0),
    ("DJF", 0),
    ("GNF", 0),
    ("IQD", 3),
    ("ISK", 0),
    ("JOD", 3),
    ("JPY", 0),
    ("KMF", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("LYD", 3),
    ("OMR", 3),
    ("PYG", 0),
    ("RWF", 0),
    ("TND", 3),
    ("UGX", 0),
    ("UYI", 0),
    ("UYW", 4),
    ("VND", 0),
    ("VUV", 0),
    ("XAF", 0),
    ("XOF", 0),
    ("XPF", 0),
];

/// Active ISO 4217 currencies with two decimal places.
const TWO_DECIMALS: &[&str] = &[
    "AED", "AFN", "ALL", "AMD", "ANG", "AOA", "ARS", "AUD", "AWG", "AZN", "BAM", "BBD", "BDT", "BGN", "BMD",
    "BND", "BOB", "BRL", "BSD", "BTN", "BWP", "BYN", "BZD", "CAD", "CDF", "CHF", "CNY", "COP", "CRC", "CUP",
    "CVE", "CZK", "DKK", "DOP", "DZD", "EGP", "ERN", "ETB", "EUR", "FJD", "FKP", "GBP", "GEL", "GHS", "GIP",
    "GMD", "GTQ", "GYD", "HKD", "HNL", "HTG", "HUF", "IDR", "ILS", "INR", "IRR", "JMD", "KES", "KGS", "KHR",
    "KPW", "KYD", "KZT", "LAK", "LBP", "LKR", "LRD", "LSL", "MAD", "MDL", "MGA", "MKD", "MMK", "MNT", "MOP",
    "MRU", "MUR", "MVR", "MWK", "MXN", "MYR", "MZN", "NAD", "NGN", "NIO", "NOK", "NPR", "NZD", "PAB", "PEN",
    "PGK", "PHP", "PKR", "PLN", "QAR", "RON", "RSD", "RUB", "SAR", "SBD", "SCR", "SDG", "SEK", "SGD", "SHP",
    "SLE", "SOS", "SRD", "SSP", "STN", "SVC", "SYP", "SZL", "THB", "TJS", "TMT", "TOP", "TRY", "TTD", "TWD",
    "TZS", "UAH", "USD", "UYU", "UZS", "VES", "WST", "XCD", "YER", "ZAR", "ZMW", "ZWG",
];

/// An ISO 4217 alphabetic currency code that Mercato knows, with its exponent.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Currency {
    code: [u8; 3],
    exponent: u8,
}

/// The reason a string is not a [`Currency`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownCurrency(pub String);

impl fmt::Display for UnknownCurrency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown currency code {:?} (expected ISO 4217, e.g. \"USD\")", self.0)
    }
}

impl std::error::Error for UnknownCurrency {}

impl Currency {
    /// US dollar.
    pub const USD: Currency = Currency { code: *b"USD", exponent: 2 };
    /// Euro.
    pub const EUR: Currency = Currency { code: *b"EUR", exponent: 2 };
    /// Japanese yen (no minor unit).
    pub const JPY: Currency = Currency { code: *b"JPY", exponent: 0 };
    /// Kuwaiti dinar (three decimals).
    pub const KWD: Currency = Currency { code: *b"KWD", exponent: 3 };

    /// Parses an uppercase ISO 4217 code such as `"USD"`.
    pub fn parse(code: &str) -> Result<Currency, UnknownCurrency> {
        let unknown = || UnknownCurrency(code.to_owned());
        let bytes: [u8; 3] = code.as_bytes().try_into().map_err(|_| unknown())?;
        // Both tables are sorted; codes compare as integers, not strings.
        let key = code_key(code);
        if let Ok(i) = EXPONENTS.binary_search_by_key(&key, |(c, _)| code_key(c)) {
            return Ok(Currency { code: bytes, exponent: EXPONENTS[i].1 });
        }
        if TWO_DECIMALS.binary_search_by_key(&key, |c| code_key(c)).is_ok() {
            return Ok(Currency { code: bytes, exponent: 2 });
        }
        Err(unknown())
    }

    /// The alphabetic code, e.g. `"USD"`.
    pub fn code(&self) -> &str {
        // The bytes came from a valid &str of ASCII letters.
        std::str::from_utf8(&self.code).unwrap_or("XXX")
    }

    /// Number of decimal places of the minor unit (USD 2, JPY 0, KWD 3).
    pub fn exponent(&self) -> u32 {
        u32::from(self.exponent)
    }
}

/// A currency code as one integer, in the codes' alphabetical order.
fn code_key(code: &str) -> u32 {
    code.bytes().fold(0, |key, b| key << 8 | u32::from(b))
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl FromStr for Currency {
    type Err = UnknownCurrency;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Currency::parse(s)
    }
}

impl Serialize for Currency {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.code())
    }
}

impl<'de> Deserialize<'de> for Currency {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Currency::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// Why a money operation has no exact answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    CurrencyMismatch(Currency, Currency),
    /// The result does not fit in 64 bits of minor units.
    Overflow,
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::CurrencyMismatch(a, b) => write!(f, "currency mismatch: {a} and {b}"),
            MoneyError::Overflow => f.write_str("amount out of range"),
        }
    }
}

impl std::error::Error for MoneyError {}

/// An exact amount of money in minor units (`{"amount": 1999, "currency": "USD"}`).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
pub struct Money {
    /// Minor units: cents for USD, yen for JPY, fils for KWD.
    pub amount: i64,
    /// The currency.
    pub currency: Currency,
}

impl Money {
    /// An amount in minor units.
    pub const fn new(amount: i64, currency: Currency) -> Money {
        Money { amount, currency }
    }

    /// Zero in `currency`.
    pub const fn zero(currency: Currency) -> Money {
        Money { amount: 0, currency }
    }

    /// Parses a decimal major-unit string, e.g. `"19.99"` USD is 1999. More
    /// decimals than the currency has are refused rather than rounded.
    pub fn from_major(major: &str, currency: Currency) -> Option<Money> {
        let d = Decimal::from_str(major).ok()?;
        let minor = d.checked_mul(Decimal::from(10i64.pow(currency.exponent())))?;
        if minor.fract() != Decimal::ZERO {
            return None;
        }
        Some(Money::new(minor.to_i64()?, currency))
    }

    /// The amount in major units as an exact decimal (1999 USD -> 19.99).
    pub fn to_major(&self) -> Decimal {
        Decimal::new(self.amount, self.currency.exponent())
    }

    /// `self + other`, same currency.
    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount.checked_add(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self - other`, same currency.
    pub fn checked_sub(self, other: Money) -> Result<Money, MoneyError> {
        self.same_currency(other)?;
        let amount = self.amount.checked_sub(other.amount).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self × quantity`.
    pub fn checked_mul(self, quantity: i64) -> Result<Money, MoneyError> {
        let amount = self.amount.checked_mul(quantity).ok_or(MoneyError::Overflow)?;
        Ok(Money::new(amount, self.currency))
    }

    /// `self × num / den`, rounded half-even to the minor unit (a share of
    /// an amount, e.g. 2 of 3 units of a line); `den` must be positive.
    pub fn mul_ratio(self, num: i64, den: i64) -> Result<Money, MoneyError> {
        if den <= 0 {
            return Err(MoneyError::Overflow);
        }
        let amount = div_half_even(i128::from(self.amount) * i128::from(num), i128::from(den));
        Ok(Money::new(i64::try_from(amount).map_err(|_| MoneyError::Overflow)?, self.currency))
    }

    /// `self × rate`, rounded half-even to the minor unit.
    #[inline]
    pub fn mul_rate(self, rate: Decimal) -> Result<Money, MoneyError> {
        // Integer arithmetic first: exact, and far cheaper than 96-bit
        // decimals inside a plugin, where this runs for every line taxed.
        // The product fits in 63 bits when the factors' magnitudes need at
        // most 63 bits between them: cheaper to know than `checked_mul`,
        // which wasm32 computes with a 128-bit multiplication.
        if let (Ok(m), Some(&den)) = (i64::try_from(rate.mantissa()), POW10.get(rate.scale() as usize))
            && self.amount.unsigned_abs().leading_zeros() + m.unsigned_abs().leading_zeros() > 64
        {
            return Ok(Money::new(div_half_even_64(self.amount.wrapping_mul(m), den), self.currency));
        }
        self.mul_rate_wide(rate)
    }

    /// [`Money::mul_rate`] past 64 bits: i128 (a long software routine on
    /// wasm32), then 96-bit decimals.
    #[cold]
    fn mul_rate_wide(self, rate: Decimal) -> Result<Money, MoneyError> {
        let den = 10i128.pow(rate.scale());
        let amount = match i128::from(self.amount).checked_mul(rate.mantissa()) {
            Some(num) => div_half_even(num, den),
            None => {
                let exact = Decimal::from(self.amount).checked_mul(rate).ok_or(MoneyError::Overflow)?;
                exact
                    .round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven)
                    .to_i128()
                    .unwrap_or(i128::MAX)
            }
        };
        Ok(Money::new(i64::try_from(amount).map_err(|_| MoneyError::Overflow)?, self.currency))
    }

    /// `self × ppm / 1 000 000`, rounded half-even (100 000 ppm = 10 %).
    pub fn mul_ppm(self, ppm: u32) -> Result<Money, MoneyError> {
        self.mul_rate(Decimal::new(i64::from(ppm), 6))
    }

    /// Splits `self` over `weights` in proportion, exactly: the parts add up
    /// to `self` (largest remainder, ties to the earliest weight).
    pub fn allocate(self, weights: &[i64]) -> Result<Vec<Money>, MoneyError> {
        let total: i128 = weights.iter().map(|w| i128::from(*w)).sum();
        if total <= 0 || weights.iter().any(|w| *w < 0) {
            let mut parts = vec![Money::zero(self.currency); weights.len()];
            if let Some(first) = parts.first_mut() {
                first.amount = self.amount;
            }
            return Ok(parts);
        }
        let amount = i128::from(self.amount);
        let mut parts = Vec::with_capacity(weights.len());
        let mut remainders = Vec::with_capacity(weights.len());
        let mut given: i128 = 0;
        for (i, w) in weights.iter().enumerate() {
            let product = amount * i128::from(*w);
            let share = product.div_euclid(total);
            given += share;
            parts.push(share);
            remainders.push((product.rem_euclid(total), i));
        }
        let mut left = amount - given;
        remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        for (_, i) in remainders {
            if left == 0 {
                break;
            }
            parts[i] += 1;
            left -= 1;
        }
        parts
            .into_iter()
            .map(|p| i64::try_from(p).map(|a| Money::new(a, self.currency)))
            .collect::<Result<_, _>>()
            .map_err(|_| MoneyError::Overflow)
    }

    fn same_currency(self, other: Money) -> Result<(), MoneyError> {
        if self.currency == other.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch(self.currency, other.currency))
        }
    }
}

/// Digits with at most one point and at most 18 of them (`"0.0725"`,
/// `"19"`), read without the general decimal parser, trailing fractional
/// zeros dropped; anything else is left to it. Configurations are parsed on
/// every call, so their rates are read often.
fn plain_decimal(s: &str) -> Option<Decimal> {
    let (whole, fraction) = s.split_once('.').unwrap_or((s, ""));
    let fraction = fraction.trim_end_matches('0');
    let digits = whole.len() + fraction.len();
    if whole.is_empty() || digits > 18 {
        return None;
    }
    let mut mantissa: i64 = 0;
    for b in whole.bytes().chain(fraction.bytes()) {
        if !b.is_ascii_digit() {
            return None;
        }
        mantissa = mantissa * 10 + i64::from(b - b'0');
    }
    Some(Decimal::new(mantissa, fraction.len() as u32))
}

/// `10^i` for every `i` an `i64` holds, looked up rather than computed on
/// every line a plugin taxes.
const POW10: [i64; 19] = {
    let mut table = [1i64; 19];
    let mut i = 1;
    while i < table.len() {
        table[i] = table[i - 1] * 10;
        i += 1;
    }
    table
};

/// `num / den` rounded half to even; `den` is positive.
#[inline]
fn div_half_even_64(num: i64, den: i64) -> i64 {
    // One division: the remainder from the quotient.
    let q = num / den;
    let r = num - q * den;
    let twice = r.unsigned_abs() * 2;
    let den = den.unsigned_abs();
    if twice > den || (twice == den && q % 2 != 0) { q + num.signum() } else { q }
}

/// `num / den` rounded half to even; `den` is positive.
fn div_half_even(num: i128, den: i128) -> i128 {
    let (q, r) = (num / den, num % den);
    let twice = r.abs() * 2;
    if twice > den || (twice == den && q % 2 != 0) { q + num.signum() } else { q }
}

impl fmt::Display for Money {
    /// `19.99 USD`, `1999 JPY`, `1.999 KWD`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.to_major(), self.currency)
    }
}

/// A decimal rate such as a tax rate (`"0.0725"`), exact. Serializes as its
/// normalized decimal string; reads a string (`"0.0725"`, `"7.25%"`) or a number.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug)]
pub struct Rate(pub Decimal);

impl Serialize for Rate {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_wire())
    }
}

impl<'de> Deserialize<'de> for Rate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // A visitor rather than an untagged enum: no buffering of the value,
        // since configurations are parsed on every call.
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = Rate;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a rate such as \"0.0725\" or \"7.25%\"")
            }

            fn visit_str<E: serde::de::Error>(self, text: &str) -> Result<Rate, E> {
                Rate::parse(text).ok_or_else(|| E::custom(format!("{text:?} is not a rate")))
            }

            fn visit_f64<E: serde::de::Error>(self, n: f64) -> Result<Rate, E> {
                self.visit_str(&n.to_string())
            }

            fn visit_u64<E: serde::de::Error>(self, n: u64) -> Result<Rate, E> {
                Ok(Rate(Decimal::from(n)))
            }

            fn visit_i64<E: serde::de::Error>(self, n: i64) -> Result<Rate, E> {
                Ok(Rate(Decimal::from(n)))
            }
        }
        d.deserialize_any(Visitor)
    }
}

impl Rate {
    /// Parses `"0.0725"`; also accepts a percentage `"7.25%"`. The rate is
    /// normalized (`"0.0400"` is `0.04`), as it crosses the wire.
    pub fn parse(s: &str) -> Option<Rate> {
        let decimal = |t: &str| plain_decimal(t).or_else(|| Decimal::from_str(t).ok().map(|d| d.normalize()));
        let s = s.trim_ascii();
        match s.strip_suffix('%') {
            Some(pct) => decimal(pct.trim_ascii()).map(|d| Rate((d / Decimal::ONE_HUNDRED).normalize())),
            None => decimal(s).map(Rate),
        }
    }

    /// Whether the rate is between 0 and 1 inclusive, as a tax rate must be.
    pub fn is_fraction(&self) -> bool {
        (!self.0.is_sign_negative() || self.0.is_zero()) && self.0 <= Decimal::ONE
    }

    /// A rate from parts per million (72500 -> 0.0725).
    pub fn from_ppm(ppm: u32) -> Rate {
        Rate(Decimal::new(i64::from(ppm), 6))
    }

    /// Zero.
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    /// `amount × rate`, half-even to the minor unit.
    #[inline]
    pub fn of(&self, amount: Money) -> Result<Money, MoneyError> {
        amount.mul_rate(self.0)
    }

    /// The tax contained in a tax-inclusive `gross` amount:
    /// `gross - gross / (1 + rate)`, half-even.
    pub fn included_in(&self, gross: Money) -> Result<Money, MoneyError> {
        // net = gross / (1 + rate) = gross × 10^s / (10^s + mantissa)
        let scale = 10i128.pow(self.0.scale());
        let den = scale.checked_add(self.0.mantissa()).filter(|d| *d > 0).ok_or(MoneyError::Overflow)?;
        let num = i128::from(gross.amount).checked_mul(scale).ok_or(MoneyError::Overflow)?;
        let net = i64::try_from(div_half_even(num, den)).map_err(|_| MoneyError::Overflow)?;
        Ok(Money::new(gross.amount - net, gross.currency))
    }

    /// The canonical decimal string, e.g. `"0.0725"`.
    pub fn to_wire(&self) -> String {
        self.0.normalize().to_string()
    }
}

impl fmt::Display for Rate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0.normalize())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponents_follow_iso_4217() {
        assert_eq!(Currency::parse("USD").unwrap().exponent(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().exponent(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().exponent(), 3);
        assert!(Currency::parse("usd").is_err());
        assert!(Currency::parse("XYZ").is_err());
        assert!(Currency::parse("US").is_err());
        let mut sorted = TWO_DECIMALS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, TWO_DECIMALS, "binary search needs a sorted table");
        assert!(EXPONENTS.is_sorted_by_key(|(c, _)| *c), "binary search needs a sorted table");
        for code in TWO_DECIMALS.iter().chain(EXPONENTS.iter().map(|(c, _)| c)) {
            assert_eq!(Currency::parse(code).unwrap().code(), *code);
        }
        assert_eq!(Currency::parse("CLF").unwrap().exponent(), 4);
    }

    #[test]
    fn rounding_is_half_even() {
        let usd = |a| Money::new(a, Currency::USD);
        assert_eq!(usd(25).mul_ppm(100_000).unwrap().amount, 2); // 2.5 -> 2
        assert_eq!(usd(35).mul_ppm(100_000).unwrap().amount, 4); // 3.5 -> 4
        assert_eq!(usd(-25).mul_ppm(100_000).unwrap().amount, -2);
        assert_eq!(Rate::parse("7.25%").unwrap(), Rate::parse("0.0725").unwrap());
        assert_eq!(Rate::parse("0.0725").unwrap().of(usd(1000)).unwrap().amount, 72); // 72.5 -> 72
        assert_eq!(Rate::parse("0.19").unwrap().included_in(usd(119)).unwrap().amount, 19);
        assert_eq!(usd(-35).mul_ppm(100_000).unwrap().amount, -4); // -3.5 -> -4
        assert_eq!(usd(15).mul_rate(Decimal::new(5, 1)).unwrap().amount, 8); // 7.5 -> 8
        assert_eq!(usd(i64::MAX).mul_rate(Decimal::ONE).unwrap().amount, i64::MAX);
        assert!(usd(i64::MAX).mul_rate(Decimal::TWO).is_err());
        let share = |a, num, den| usd(a).mul_ratio(num, den).unwrap().amount;
        assert_eq!(share(5, 1, 2), 2);
        assert_eq!(share(7, 1, 2), 4);
        assert_eq!(share(10, 1, 3), 3);
        assert_eq!(share(20, 1, 3), 7);
        assert_eq!(share(-5, 1, 2), -2);
        assert!(usd(1).mul_ratio(1, 0).is_err());
    }

    proptest::proptest! {
        #[test]
        fn integer_rate_math_matches_decimal(amount in -10_000_000_000i64..10_000_000_000, mantissa in 0i64..10_000_000, scale in 0u32..9) {
            let rate = Decimal::new(mantissa, scale);
            let expected = (Decimal::from(amount) * rate).round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
            let got = Money::new(amount, Currency::USD).mul_rate(rate).unwrap();
            proptest::prop_assert_eq!(Decimal::from(got.amount), expected);
            let gross = Money::new(amount, Currency::USD);
            let net = (Decimal::from(amount) / (Decimal::ONE + rate)).round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven);
            proptest::prop_assert_eq!(Decimal::from(Rate(rate).included_in(gross).unwrap().amount), Decimal::from(amount) - net);
        }

        #[test]
        fn integer_rate_math_matches_decimal_up_to_the_limits(amount in proptest::prelude::any::<i64>(), mantissa in 0i64..1_000_000_000, scale in 0u32..19) {
            let rate = Decimal::new(mantissa, scale);
            let expected = Decimal::from(amount)
                .checked_mul(rate)
                .and_then(|p| p.round_dp_with_strategy(0, RoundingStrategy::MidpointNearestEven).to_i64());
            match (expected, Money::new(amount, Currency::USD).mul_rate(rate)) {
                (Some(e), Ok(got)) => proptest::prop_assert_eq!(got.amount, e),
                (None, Err(_)) => {}
                (e, got) => proptest::prop_assert!(false, "{amount} × {rate}: expected {e:?}, got {got:?}"),
            }
        }

        #[test]
        fn allocations_always_re_add(amount in -1_000_000_000i64..1_000_000_000, weights in proptest::collection::vec(0i64..1_000_000, 1..50)) {
            let parts = Money::new(amount, Currency::JPY).allocate(&weights).unwrap();
            proptest::prop_assert_eq!(parts.iter().map(|p| p.amount).sum::<i64>(), amount);
        }
    }

    #[test]
    fn rates_parse_plain_and_general_decimals_alike() {
        let cases = [
            "0.0725",
            "0.0400",
            "0.",
            "0",
            "1",
            "1.0",
            "00.5",
            "19",
            "0.000000000000000001",
            "7.25%",
            " 0.2 ",
            "1e-2",
            "-0.07",
            "+0.07",
            "0.1234567890123456789",
            "12345678901234567890",
        ];
        for text in cases {
            let general = match text.trim().strip_suffix('%') {
                Some(p) => Decimal::from_str(p).ok().map(|d| d / Decimal::ONE_HUNDRED),
                None => Decimal::from_str(text.trim()).ok(),
            };
            let rate = Rate::parse(text);
            assert_eq!(rate.map(|r| r.0), general, "{text}");
            if let Some(r) = rate {
                assert_eq!(r.0, r.0.normalize(), "{text} is normalized");
                assert_eq!(format!("{:?}", r.0), r.to_wire(), "{text}");
            }
        }
        for bad in ["", "0.0.1", "abc", "%", "0,07"] {
            assert_eq!(Rate::parse(bad), None, "{bad:?}");
        }
        let fraction = |t: &str| Rate::parse(t).unwrap().is_fraction();
        assert!(fraction("0") && fraction("1") && fraction("0.0725") && fraction("-0"));
        assert!(!fraction("1.0001") && !fraction("-0.01") && !fraction("19"));
    }

    #[test]
    fn rates_read_strings_percentages_and_numbers() {
        let rate = |json: &str| serde_json::from_str::<Rate>(json).map(|r| r.to_wire());
        assert_eq!(rate(r#""0.0725""#).unwrap(), "0.0725");
        assert_eq!(rate(r#""7.25%""#).unwrap(), "0.0725");
        assert_eq!(rate("0.2").unwrap(), "0.2");
        assert_eq!(rate("1").unwrap(), "1");
        assert_eq!(rate("0").unwrap(), "0");
        let err = rate(r#""seven""#).unwrap_err().to_string();
        assert!(err.contains("\"seven\" is not a rate"), "{err}");
        assert!(rate("true").is_err() && rate("null").is_err());
    }

    #[test]
    fn allocation_re_adds_exactly() {
        let m = Money::new(100, Currency::USD);
        let parts = m.allocate(&[1, 1, 1]).unwrap();
        assert_eq!(parts.iter().map(|p| p.amount).collect::<Vec<_>>(), vec![34, 33, 33]);
        let parts = Money::new(-7, Currency::JPY).allocate(&[3, 5]).unwrap();
        assert_eq!(parts.iter().map(|p| p.amount).sum::<i64>(), -7);
    }

    #[test]
    fn major_units_are_exact() {
        assert_eq!(Money::from_major("19.99", Currency::USD).unwrap().amount, 1999);
        assert_eq!(Money::from_major("1.999", Currency::KWD).unwrap().amount, 1999);
        assert!(Money::from_major("1.5", Currency::JPY).is_none());
        assert_eq!(Money::new(1999, Currency::KWD).to_string(), "1.999 KWD");
        let json = serde_json::to_string(&Money::new(1999, Currency::USD)).unwrap();
        assert_eq!(json, r#"{"amount":1999,"currency":"USD"}"#);
    }
}
