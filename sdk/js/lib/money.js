// Exact money: integer minor units of an ISO 4217 currency, as BigInt.
//
// Mirrors the Rust SDK's `money` module (mercato_sdk::{Currency, Money, Rate})
// and computes the same results: every amount is a BigInt of minor units,
// every rate an exact decimal (a BigInt mantissa and a scale), and every
// rounding half to even.

import { PluginError } from './errors.js';

/** ISO 4217 currencies whose minor unit is not 2 decimal places. */
const EXPONENTS = {
  BHD: 3, BIF: 0, CLF: 4, CLP: 0, DJF: 0, GNF: 0, IQD: 3, ISK: 0, JOD: 3,
  JPY: 0, KMF: 0, KRW: 0, KWD: 3, LYD: 3, OMR: 3, PYG: 0, RWF: 0, TND: 3,
  UGX: 0, UYI: 0, UYW: 4, VND: 0, VUV: 0, XAF: 0, XOF: 0, XPF: 0,
};

/** Active ISO 4217 currencies with two decimal places. */
const TWO_DECIMALS = new Set(
  ('AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD ' +
    'CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD ' +
    'GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD ' +
    'MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP ' +
    'PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS ' +
    'TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD YER ZAR ZMW ZWG').split(' '),
);

const I64_MIN = -(2n ** 63n);
const I64_MAX = 2n ** 63n - 1n;
const I128_MIN = -(2n ** 127n);
const I128_MAX = 2n ** 127n - 1n;
/** Decimals keep at most 28 fractional digits and a 96-bit mantissa. */
const MAX_SCALE = 28;
const U96 = 2n ** 96n;

const POW10 = [];
for (let i = 0, p = 1n; i <= 60; i++, p *= 10n) POW10.push(p);
/** `10^n` as a BigInt. */
export function pow10(n) {
  return n < POW10.length ? POW10[n] : 10n ** BigInt(n);
}

/** Whether `n` (a BigInt) fits in a signed 64-bit integer. */
export function fitsI64(n) {
  return n >= I64_MIN && n <= I64_MAX;
}

/**
 * `value` as a BigInt of minor units: a BigInt, or a Number that is an
 * integer. Throws a TypeError for anything else (floats lose cents).
 * @param {bigint|number} value
 * @param {string} [what] named in the error
 * @returns {bigint}
 */
export function toMinor(value, what = 'amount') {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return BigInt(value);
  throw new TypeError(`${what} must be an integer number of minor units (a BigInt or a safe integer), got ${String(value)}`);
}

/** `num / den` rounded half to even; `den` is positive. Both BigInt. */
export function divHalfEven(num, den) {
  const q = num / den; // truncates toward zero, as Rust's `/` does
  const r = num - q * den;
  const twice = (r < 0n ? -r : r) * 2n;
  if (twice > den || (twice === den && q % 2n !== 0n)) return q + (num < 0n ? -1n : 1n);
  return q;
}

/** The reason a string is not a {@link Currency}. */
export class UnknownCurrency extends Error {
  /** @param {string} code */
  constructor(code) {
    super(`unknown currency code ${JSON.stringify(code)} (expected ISO 4217, e.g. "USD")`);
    this.name = 'UnknownCurrency';
    /** The code that was not recognised. */
    this.code = code;
  }
}

const CURRENCIES = new Map();

/** An ISO 4217 alphabetic currency code that Mercato knows, with its exponent. */
export class Currency {
  /** @private */
  constructor(code, exponent) {
    /** The alphabetic code, e.g. `"USD"`. */
    this.code = code;
    /** Decimal places of the minor unit (USD 2, JPY 0, KWD 3). */
    this.exponent = exponent;
    Object.freeze(this);
  }

  /**
   * Parses an uppercase ISO 4217 code such as `"USD"`.
   * @param {string} code
   * @returns {Currency}
   * @throws {UnknownCurrency}
   */
  static parse(code) {
    if (code instanceof Currency) return code;
    const known = CURRENCIES.get(code);
    if (known) return known;
    if (typeof code !== 'string' || code.length !== 3) throw new UnknownCurrency(String(code));
    let exponent;
    if (Object.prototype.hasOwnProperty.call(EXPONENTS, code)) exponent = EXPONENTS[code];
    else if (TWO_DECIMALS.has(code)) exponent = 2;
    else throw new UnknownCurrency(code);
    const currency = new Currency(code, exponent);
    CURRENCIES.set(code, currency);
    return currency;
  }

  /** `"USD"`. */
  toString() {
    return this.code;
  }

  /** Serializes as its code. */
  toJSON() {
    return this.code;
  }
}

Currency.USD = Currency.parse('USD');
Currency.EUR = Currency.parse('EUR');
Currency.JPY = Currency.parse('JPY');
Currency.KWD = Currency.parse('KWD');

/** Why a money operation has no exact answer. */
export class MoneyError extends Error {
  /**
   * @param {'overflow'|'currency_mismatch'} kind
   * @param {string} message
   */
  constructor(kind, message) {
    super(message);
    this.name = 'MoneyError';
    /** `"overflow"` or `"currency_mismatch"`. */
    this.kind = kind;
  }

  /** The result does not fit in 64 bits of minor units. */
  static overflow() {
    return new MoneyError('overflow', 'amount out of range');
  }
}

function checked(amount) {
  if (!fitsI64(amount)) throw MoneyError.overflow();
  return amount;
}

/** An exact amount of money in minor units (`1999n` USD is $19.99). */
export class Money {
  /**
   * @param {bigint|number} amount minor units: cents for USD, yen for JPY
   * @param {Currency|string} currency
   */
  constructor(amount, currency) {
    /** @type {bigint} Minor units. */
    this.amount = checked(toMinor(amount));
    /** @type {Currency} */
    this.currency = Currency.parse(currency);
    Object.freeze(this);
  }

  /** Zero in `currency`. */
  static zero(currency) {
    return new Money(0n, currency);
  }

  /**
   * Parses a decimal major-unit string, e.g. `"19.99"` USD is 1999n. More
   * decimals than the currency has are refused rather than rounded.
   * @returns {Money|null}
   */
  static fromMajor(major, currency) {
    const c = Currency.parse(currency);
    const d = parseGeneralDecimal(String(major));
    if (!d) return null;
    const num = d.mantissa * pow10(c.exponent);
    const den = pow10(d.scale);
    if (num % den !== 0n) return null;
    const minor = num / den;
    return fitsI64(minor) ? new Money(minor, c) : null;
  }

  /** The amount in major units as an exact decimal string (1999n USD -> `"19.99"`). */
  toMajor() {
    return formatDecimal(this.amount, this.currency.exponent);
  }

  /** `this + other`, same currency. */
  add(other) {
    this.#sameCurrency(other);
    return new Money(checked(this.amount + other.amount), this.currency);
  }

  /** `this - other`, same currency. */
  sub(other) {
    this.#sameCurrency(other);
    return new Money(checked(this.amount - other.amount), this.currency);
  }

  /** `this × quantity`. */
  mul(quantity) {
    return new Money(checked(this.amount * toMinor(quantity, 'quantity')), this.currency);
  }

  /**
   * `this × num / den`, rounded half-even to the minor unit (a share of an
   * amount, e.g. 2 of 3 units of a line); `den` must be positive.
   */
  mulRatio(num, den) {
    const n = toMinor(num, 'num');
    const d = toMinor(den, 'den');
    if (d <= 0n) throw MoneyError.overflow();
    return new Money(checked(divHalfEven(this.amount * n, d)), this.currency);
  }

  /**
   * `this × rate`, rounded half-even to the minor unit.
   * @param {Rate|string} rate
   */
  mulRate(rate) {
    const r = rate instanceof Rate ? rate : Rate.require(rate);
    return new Money(mulRateMinor(this.amount, r), this.currency);
  }

  /** `this × ppm / 1 000 000`, rounded half-even (100 000 ppm = 10 %). */
  mulPpm(ppm) {
    return this.mulRate(Rate.fromPpm(ppm));
  }

  /**
   * Splits `this` over `weights` in proportion, exactly: the parts add up
   * to `this` (largest remainder, ties to the earliest weight).
   * @param {Array<bigint|number>} weights
   * @returns {Money[]}
   */
  allocate(weights) {
    const w = weights.map((x) => toMinor(x, 'weight'));
    const total = w.reduce((a, b) => a + b, 0n);
    if (total <= 0n || w.some((x) => x < 0n)) {
      return w.map((_, i) => new Money(i === 0 ? this.amount : 0n, this.currency));
    }
    const parts = [];
    const remainders = [];
    let given = 0n;
    w.forEach((weight, i) => {
      const product = this.amount * weight;
      let share = product / total;
      let rem = product % total;
      if (rem < 0n) {
        share -= 1n;
        rem += total;
      }
      given += share;
      parts.push(share);
      remainders.push([rem, i]);
    });
    let left = this.amount - given;
    remainders.sort((a, b) => (a[0] === b[0] ? a[1] - b[1] : a[0] > b[0] ? -1 : 1));
    for (const [, i] of remainders) {
      if (left === 0n) break;
      parts[i] += 1n;
      left -= 1n;
    }
    return parts.map((p) => new Money(checked(p), this.currency));
  }

  /** Whether two amounts are equal in amount and currency. */
  equals(other) {
    return other instanceof Money && other.amount === this.amount && other.currency === this.currency;
  }

  /** `19.99 USD`, `1999 JPY`, `1.999 KWD`. */
  toString() {
    return `${this.toMajor()} ${this.currency.code}`;
  }

  /** `{"amount": 1999, "currency": "USD"}` (the amount as a number when it is exact). */
  toJSON() {
    const n = Number(this.amount);
    return { amount: Number.isSafeInteger(n) ? n : this.amount.toString(), currency: this.currency.code };
  }

  #sameCurrency(other) {
    if (!(other instanceof Money)) throw new TypeError('expected a Money');
    if (other.currency !== this.currency) {
      throw new MoneyError('currency_mismatch', `currency mismatch: ${this.currency.code} and ${other.currency.code}`);
    }
  }
}

// ---------------------------------------------------------------------------
// Decimals: (mantissa: BigInt, scale: number), value = mantissa / 10^scale.

/** Trims ASCII whitespace, as Rust's `str::trim_ascii`. */
function trimAscii(s) {
  return s.replace(/^[ \t\n\f\r]+|[ \t\n\f\r]+$/g, '');
}

/**
 * Digits with at most one point and at most 18 of them, trailing fractional
 * zeros dropped; `null` for anything else (left to the general parser).
 */
function parsePlainDecimal(s) {
  const dot = s.indexOf('.');
  const whole = dot < 0 ? s : s.slice(0, dot);
  const fraction = (dot < 0 ? '' : s.slice(dot + 1)).replace(/0+$/, '');
  if (whole.length === 0 || whole.length + fraction.length > 18) return null;
  if (!/^[0-9]*$/.test(whole) || !/^[0-9]*$/.test(fraction)) return null;
  return { mantissa: BigInt(whole + fraction), scale: fraction.length };
}

/**
 * The general decimal grammar of the Rust SDK (rust_decimal's `from_str`):
 * an optional sign, digits with `_` separators after the first digit, at
 * most one point; at most 28 fractional digits and a 96-bit mantissa, the
 * first digit past either limit rounding the last kept one half up.
 * @returns {{mantissa: bigint, scale: number}|null}
 */
export function parseGeneralDecimal(t) {
  let i = 0;
  let negative = false;
  if (t[0] === '-') {
    negative = true;
    i = 1;
  } else if (t[0] === '+') {
    i = 1;
  }
  let mantissa = 0n;
  let scale = 0;
  let point = false;
  let digits = false;
  for (; i < t.length; i++) {
    const c = t.charCodeAt(i);
    if (point && scale >= MAX_SCALE && digits) {
      // Past the precision: this character only rounds what was kept.
      if (c >= 48 && c <= 57) {
        if (c >= 53) mantissa += 1n;
      } else if (c !== 95 && c !== 46) {
        return null;
      }
      break;
    }
    if (c >= 48 && c <= 57) {
      const next = mantissa * 10n + BigInt(c - 48);
      if (next >= U96) {
        if (!point) return null;
        if (c >= 53) mantissa += 1n;
        break;
      }
      mantissa = next;
      if (point) scale += 1;
      digits = true;
    } else if (c === 46 && !point) {
      point = true;
    } else if (c === 95 && digits) {
      // A digit separator.
    } else {
      return null;
    }
  }
  if (!digits) return null;
  return { mantissa: negative ? -mantissa : mantissa, scale };
}

/** Strips trailing fractional zeros; negative zero becomes zero. */
function normalize({ mantissa, scale }) {
  if (mantissa === 0n) return { mantissa: 0n, scale: 0 };
  while (scale > 0 && mantissa % 10n === 0n) {
    mantissa /= 10n;
    scale -= 1;
  }
  return { mantissa, scale };
}

/** `d / 100`, exact while it has at most 28 decimals, then half-even. */
function divideBy100({ mantissa, scale }) {
  if (scale + 2 <= MAX_SCALE) return { mantissa, scale: scale + 2 };
  const drop = scale + 2 - MAX_SCALE;
  return { mantissa: divHalfEven(mantissa, pow10(drop)), scale: MAX_SCALE };
}

/** The decimal string of `mantissa / 10^scale`, e.g. `"0.0725"`. */
export function formatDecimal(mantissa, scale) {
  const negative = mantissa < 0n;
  let digits = (negative ? -mantissa : mantissa).toString();
  if (scale > 0) {
    digits = digits.padStart(scale + 1, '0');
    digits = `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
  }
  return negative ? `-${digits}` : digits;
}

function bitLength(n) {
  return n === 0n ? 0 : n.toString(2).length;
}

/**
 * `amount × mantissa / 10^scale` rounded half-even to an integer, as the
 * Rust SDK computes it: exactly while the product fits in 128 bits, then
 * through a 96-bit decimal product (rounded half-even to fit) rounded to
 * an integer.
 */
function mulDecimal(amount, mantissa, scale) {
  const num = amount * mantissa;
  if (num >= I128_MIN && num <= I128_MAX) return checked(divHalfEven(num, pow10(scale)));
  // The product does not fit in 128 bits: rust_decimal keeps at most 96
  // bits of it, dropping decimals (rounded half-even) to get there.
  if (amount === 0n || mantissa === 0n) return 0n;
  const negative = num < 0n;
  let mag = negative ? -num : num;
  let s = scale;
  const bits = bitLength(mag);
  let drop = 0;
  if (bits > 96) {
    drop = (((bits - 97) * 77) >> 8) + 1;
    if (drop > s) throw MoneyError.overflow();
  }
  if (drop < s - MAX_SCALE) drop = s - MAX_SCALE;
  if (drop > 0) {
    let q = divHalfEven(mag, pow10(drop));
    s -= drop;
    while (q >= U96) {
      if (s === 0) throw MoneyError.overflow();
      drop += 1;
      s -= 1;
      q = divHalfEven(mag, pow10(drop));
    }
    mag = q;
  }
  const rounded = divHalfEven(mag, pow10(s));
  return checked(negative ? -rounded : rounded);
}

/** A decimal rate such as a tax rate (`"0.0725"`), exact and normalized. */
export class Rate {
  /**
   * @param {bigint} mantissa
   * @param {number} scale decimal places
   */
  constructor(mantissa, scale) {
    const n = normalize({ mantissa: BigInt(mantissa), scale });
    /** @type {bigint} */
    this.mantissa = n.mantissa;
    /** @type {number} */
    this.scale = n.scale;
    // The same values as Numbers when they are exact, for the fast path of
    // `mulRateMinor` and `includedInMinor` (NaN otherwise).
    const m = Number(n.mantissa);
    const den = 10 ** n.scale;
    this.fastMantissa = Number.isSafeInteger(m) && n.scale <= 15 ? m : NaN;
    this.fastDen = n.scale <= 15 ? den : NaN;
    Object.freeze(this);
  }

  /**
   * Parses `"0.0725"`; also accepts a percentage `"7.25%"`. Returns `null`
   * when the text is not a decimal.
   * @param {string} text
   * @returns {Rate|null}
   */
  static parse(text) {
    if (typeof text !== 'string') return null;
    const decimal = (t) => parsePlainDecimal(t) ?? maybeNormalize(parseGeneralDecimal(t));
    const s = trimAscii(text);
    if (s.endsWith('%')) {
      const d = decimal(trimAscii(s.slice(0, -1)));
      if (!d) return null;
      const q = divideBy100(d);
      return new Rate(q.mantissa, q.scale);
    }
    const d = decimal(s);
    return d ? new Rate(d.mantissa, d.scale) : null;
  }

  /**
   * A rate from a configuration value: a string (`"0.0725"`, `"7.25%"`) or a
   * number (`0.0725`), as the Rust SDK reads one.
   * @param {unknown} value
   * @returns {Rate}
   * @throws {PluginError} `invalid_config`
   */
  static fromJSON(value) {
    if (value instanceof Rate) return value;
    let rate = null;
    if (typeof value === 'string') rate = Rate.parse(value);
    else if (typeof value === 'bigint') rate = new Rate(value, 0);
    else if (typeof value === 'number' && Number.isFinite(value)) rate = Rate.parse(numberToPlainString(value));
    if (rate) return rate;
    const shown = typeof value === 'bigint' ? value.toString() : JSON.stringify(value);
    throw PluginError.invalidConfig(`${shown} is not a rate such as "0.0725" or "7.25%"`);
  }

  /** @private Parses or throws a TypeError; for arguments given in code. */
  static require(text) {
    const rate = Rate.parse(text);
    if (!rate) throw new TypeError(`${JSON.stringify(text)} is not a rate`);
    return rate;
  }

  /** A rate from parts per million (72500 -> 0.0725). */
  static fromPpm(ppm) {
    if (!Number.isInteger(Number(ppm)) || Number(ppm) < 0 || Number(ppm) > 0xffffffff) {
      throw new TypeError(`parts per million must be an integer 0..4294967295, got ${ppm}`);
    }
    return new Rate(BigInt(ppm), 6);
  }

  /** Whether the rate is between 0 and 1 inclusive, as a tax rate must be. */
  isFraction() {
    return this.mantissa >= 0n && this.mantissa <= pow10(this.scale);
  }

  /**
   * `amount × rate`, half-even to the minor unit.
   * @param {Money} amount
   * @returns {Money}
   */
  of(amount) {
    return amount.mulRate(this);
  }

  /**
   * The tax contained in a tax-inclusive `gross` amount:
   * `gross - gross / (1 + rate)`, half-even.
   * @param {Money} gross
   * @returns {Money}
   */
  includedIn(gross) {
    return new Money(includedInMinor(gross.amount, this), gross.currency);
  }

  /** Numeric equality (`0.07` equals `0.070`). */
  equals(other) {
    if (!(other instanceof Rate)) return false;
    return this.mantissa * pow10(other.scale) === other.mantissa * pow10(this.scale);
  }

  /** The canonical decimal string, e.g. `"0.0725"`, as it crosses the wire. */
  toWire() {
    return formatDecimal(this.mantissa, this.scale);
  }

  /** Same as {@link Rate#toWire}. */
  toString() {
    return this.toWire();
  }

  /** Serializes as its canonical string. */
  toJSON() {
    return this.toWire();
  }
}

Rate.ZERO = new Rate(0n, 0);

function maybeNormalize(d) {
  return d ? normalize(d) : null;
}

/**
 * A finite number as the plain decimal string Rust's `f64` Display gives:
 * the shortest round-trip digits, never an exponent.
 */
export function numberToPlainString(n) {
  const text = String(n);
  const m = /^(-?)(\d+)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, whole, fraction = '', expText] = m;
  const exp = Number(expText);
  const digits = whole + fraction;
  const point = whole.length + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

/** `num / den` rounded half to even, for Numbers that are safe integers. */
function divHalfEvenNumber(num, den) {
  const r = num % den;
  const q = (num - r) / den;
  const twice = Math.abs(r) * 2;
  if (twice > den || (twice === den && q % 2 !== 0)) return q + (num < 0 ? -1 : 1);
  return q;
}

/**
 * `amount × rate` in minor units, half-even ({@link Money#mulRate} without
 * the Money): with Numbers while every value is an exact integer, else with
 * BigInts. Throws a {@link MoneyError} past 64 bits.
 * @param {bigint} amount
 * @param {Rate} rate
 * @returns {bigint}
 */
export function mulRateMinor(amount, rate) {
  const p = Number(amount) * rate.fastMantissa;
  if (Number.isSafeInteger(p)) return BigInt(divHalfEvenNumber(p, rate.fastDen));
  return mulDecimal(amount, rate.mantissa, rate.scale);
}

/**
 * The tax in a tax-inclusive `gross` amount of minor units,
 * `gross - gross / (1 + rate)` half-even ({@link Rate#includedIn} without
 * the Money). Throws a {@link MoneyError} past the exact range.
 * @param {bigint} gross
 * @param {Rate} rate
 * @returns {bigint}
 */
export function includedInMinor(gross, rate) {
  const num = Number(gross) * rate.fastDen;
  const den = rate.fastDen + rate.fastMantissa;
  if (Number.isSafeInteger(num) && Number.isSafeInteger(den) && den > 0) {
    return gross - BigInt(divHalfEvenNumber(num, den));
  }
  const scale = pow10(rate.scale);
  const bigDen = scale + rate.mantissa;
  if (bigDen <= 0n || bigDen > I128_MAX) throw MoneyError.overflow();
  const bigNum = gross * scale;
  if (bigNum < I128_MIN || bigNum > I128_MAX) throw MoneyError.overflow();
  return gross - checked(divHalfEven(bigNum, bigDen));
}
