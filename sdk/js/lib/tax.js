// Tax calculation (mercato:plugin@0.2.0 tax world). A failing tax plugin
// blocks checkout.
//
// A plugin reads the lines as plain strings (the SDK cuts them out of the
// input's one text) and answers with a table: each distinct tax —
// jurisdiction, rate, label — is declared once with `TaxOutput#rate`, and
// every tax on a line or on shipping refers to it by index.

import { PluginError } from './errors.js';
import { Money, MoneyError, Rate, fitsI64, includedInMinor, mulRateMinor, toMinor } from './money.js';
import { addressIn, currencyIn, customerIn } from './types.js';

/**
 * A cart line after discounts.
 * @typedef {object} TaxableLine
 * @property {string} id cart line id
 * @property {string} productId
 * @property {string} sku
 * @property {number} quantity units
 * @property {bigint} amount line total after discounts, in minor units
 * @property {string} [taxCode] tax code of the variant, e.g. `"books"`
 */

function arithmetic(e) {
  if (e instanceof MoneyError) return new PluginError('arithmetic', e.message);
  return e;
}

/** What a tax plugin is given. */
export class TaxInput {
  /**
   * @param {object} fields
   * @param {import('./money.js').Currency} fields.currency cart currency
   * @param {TaxableLine[]} fields.lines a tax names a line by its position here
   * @param {bigint} fields.shippingAmount shipping after shipping discounts, minor units
   * @param {import('./types.js').Address} [fields.shipFrom]
   * @param {import('./types.js').Address} fields.shipTo
   * @param {import('./types.js').Customer} [fields.customer]
   * @param {boolean} fields.pricesIncludeTax line amounts already include tax
   */
  constructor({ currency, lines, shippingAmount = 0n, shipFrom, shipTo, customer, pricesIncludeTax = false }) {
    this.currency = currency;
    this.lines = lines;
    this.shippingAmount = shippingAmount;
    this.shipFrom = shipFrom;
    this.shipTo = shipTo;
    this.customer = customer;
    this.pricesIncludeTax = pricesIncludeTax;
  }

  /** `amount` minor units in the cart currency. */
  money(amount) {
    return new Money(amount, this.currency);
  }

  /**
   * The tax at `rate` on `base` minor units (inclusive or exclusive pricing
   * as the input says), rounded half-even. A negative base is taxed as
   * zero: tax is never negative.
   * @param {Rate} rate
   * @param {bigint|number} base
   * @returns {bigint}
   */
  taxAt(rate, base) {
    let b = typeof base === 'bigint' ? base : toMinor(base, 'base');
    if (b < 0n) b = 0n;
    try {
      if (b > 9223372036854775807n) throw MoneyError.overflow();
      return this.pricesIncludeTax ? includedInMinor(b, rate) : mulRateMinor(b, rate);
    } catch (e) {
      throw arithmetic(e);
    }
  }
}

/**
 * One distinct tax of an answer.
 * @typedef {object} TaxRate
 * @property {string} jurisdiction e.g. `"US-CA"`, `"DE"`
 * @property {Rate} rate between 0 and 1
 * @property {string} label shown to the buyer, e.g. `"CA sales tax"`
 */

/**
 * A tax on one line.
 * @typedef {object} LineTax
 * @property {number} line position of the line in `TaxInput#lines`
 * @property {number} rate index into `TaxOutput#rates`
 * @property {bigint} amount minor units, never negative
 */

/**
 * A tax on shipping.
 * @typedef {object} ShippingTax
 * @property {number} rate index into `TaxOutput#rates`
 * @property {bigint} amount minor units, never negative
 */

/**
 * What a tax plugin answers: the distinct taxes, then which lines and
 * whether shipping bear them. A line not listed is not taxed.
 */
export class TaxOutput {
  constructor() {
    /** @type {TaxRate[]} The distinct taxes the answer refers to. */
    this.rates = [];
    /** @type {LineTax[]} In line order; at most one tax per rate on a line. */
    this.lines = [];
    /** @type {ShippingTax[]} On shipping, at most one per rate. */
    this.shipping = [];
  }

  /**
   * The index of the tax `(jurisdiction, rate, label)`, declared here the
   * first time it is asked for.
   * @param {string} jurisdiction
   * @param {Rate|string} rate a Rate, or its text (`"0.0725"`, `"7.25%"`)
   * @param {string} label
   * @returns {number}
   */
  rate(jurisdiction, rate, label) {
    const r = rate instanceof Rate ? rate : Rate.require(rate);
    const known = this.rates.findIndex((t) => t.jurisdiction === jurisdiction && t.label === label && t.rate.equals(r));
    if (known >= 0) return known;
    this.rates.push({ jurisdiction, rate: r, label });
    return this.rates.length - 1;
  }

  /**
   * Taxes line `line` of `input` at the declared `rate` on `base` minor
   * units (see {@link TaxInput#taxAt}); returns the tax.
   * @returns {bigint}
   */
  taxLine(input, line, rate, base) {
    const amount = input.taxAt(this.#rateAt(rate), base);
    if (!Number.isInteger(line) || line < 0 || line > 0xffffffff) {
      throw new PluginError('invalid_output', 'line position out of range');
    }
    this.lines.push({ line, rate, amount });
    return amount;
  }

  /** Taxes every line of `input` at the declared `rate` on its amount. */
  taxEveryLine(input, rate) {
    for (let i = 0; i < input.lines.length; i++) this.taxLine(input, i, rate, input.lines[i].amount);
  }

  /**
   * Taxes shipping at the declared `rate` on `base` minor units; returns the tax.
   * @returns {bigint}
   */
  taxShipping(input, rate, base) {
    const amount = input.taxAt(this.#rateAt(rate), base);
    this.shipping.push({ rate, amount });
    return amount;
  }

  /**
   * The taxes on line `line`, with their rates.
   * @returns {Array<{rate: TaxRate, amount: bigint}>}
   */
  lineTaxes(line) {
    return this.lines.filter((t) => t.line === line && this.rates[t.rate]).map((t) => ({ rate: this.rates[t.rate], amount: t.amount }));
  }

  /**
   * The taxes on shipping, with their rates.
   * @returns {Array<{rate: TaxRate, amount: bigint}>}
   */
  shippingTaxes() {
    return this.shipping.filter((t) => this.rates[t.rate]).map((t) => ({ rate: this.rates[t.rate], amount: t.amount }));
  }

  /** Total tax, lines and shipping, in minor units. */
  total() {
    let sum = 0n;
    for (const t of this.lines) sum += t.amount;
    for (const t of this.shipping) sum += t.amount;
    return sum;
  }

  /** Puts the line taxes in line order (stable), as the host expects them. */
  sortLines() {
    this.lines.sort((a, b) => a.line - b.line);
  }

  #rateAt(rate) {
    const r = Number.isInteger(rate) ? this.rates[rate] : undefined;
    if (!r) throw new PluginError('invalid_output', `no declared rate ${rate}`);
    return r.rate;
  }
}

// ---------------------------------------------------------------------------
// Wire conversions of the 0.2.0 tax world.

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The component's `tax-input` record as a {@link TaxInput}: every span is
 * cut out of the input's text (byte offsets into its UTF-8 form).
 * @throws {PluginError} `invalid_input` for an unknown currency or a span
 *   outside the text or off a character boundary
 */
export function taxInputIn(wire) {
  const text = wire.text;
  const bytes = encoder.encode(text);
  const ascii = bytes.length === text.length;
  const span = (s) => {
    const end = s.start + s.len;
    if (end <= bytes.length) {
      if (ascii) return text.slice(s.start, end);
      try {
        return decoder.decode(bytes.subarray(s.start, end));
      } catch {
        // not on character boundaries: reported below
      }
    }
    throw PluginError.invalidInput(`span ${s.start}+${s.len} is outside the line text`);
  };
  const lines = wire.lines.map((l) => ({
    id: span(l.id),
    productId: span(l.productId),
    sku: span(l.sku),
    quantity: l.quantity,
    amount: l.amount,
    taxCode: l.taxCode === undefined || l.taxCode === null ? undefined : span(l.taxCode),
  }));
  return new TaxInput({
    currency: currencyIn(wire.currency),
    lines,
    shippingAmount: wire.shippingAmount,
    shipFrom: wire.shipFrom ? addressIn(wire.shipFrom) : undefined,
    shipTo: addressIn(wire.shipTo),
    customer: wire.customer ? customerIn(wire.customer) : undefined,
    pricesIncludeTax: wire.pricesIncludeTax,
  });
}

function wireAmount(v, what) {
  const n = toMinor(v, what);
  if (!fitsI64(n)) throw new RangeError(`${what} ${n} does not fit in 64 bits`);
  return n;
}

function wireIndex(v, what) {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`${what} must be an integer 0..4294967295, got ${String(v)}`);
  return v;
}

/**
 * A {@link TaxOutput} (or an object of the same shape) as the component's
 * `tax-output` record, its line taxes in line order.
 */
export function taxOutputOut(output) {
  if (output === null || typeof output !== 'object') throw new TypeError('calculate must return a TaxOutput');
  const lines = [...(output.lines || [])].sort((a, b) => a.line - b.line);
  return {
    rates: (output.rates || []).map((r) => ({
      jurisdiction: r.jurisdiction,
      rate: (r.rate instanceof Rate ? r.rate : Rate.require(String(r.rate))).toWire(),
      label: r.label,
    })),
    lines: lines.map((t) => ({ line: wireIndex(t.line, 'line'), rate: wireIndex(t.rate, 'rate'), amount: wireAmount(t.amount, 'amount') })),
    shipping: (output.shipping || []).map((t) => ({ rate: wireIndex(t.rate, 'rate'), amount: wireAmount(t.amount, 'amount') })),
  };
}
