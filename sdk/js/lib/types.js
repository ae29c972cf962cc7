// Types shared by every extension point, and their conversions from the
// WIT records the component receives (camelCase fields, BigInt for s64).

import { Currency, Money, UnknownCurrency, fitsI64 } from './money.js';
import { PluginError } from './errors.js';

/**
 * A postal address; `country` is ISO 3166-1 alpha-2 (`"US"`, `"DE"`).
 * @typedef {object} Address
 * @property {string} name recipient
 * @property {string} line1 street and number
 * @property {string} [line2] apartment, suite
 * @property {string} city
 * @property {string} region state, province or region code (`"CA"`)
 * @property {string} postalCode
 * @property {string} country ISO 3166-1 alpha-2
 */

/**
 * Who is buying. Guests have no id.
 * @typedef {object} Customer
 * @property {string} [id] customer id, if logged in
 * @property {string} [email]
 * @property {string[]} tags customer tags, e.g. `"wholesale"`
 * @property {boolean} taxExempt exempt from sales tax
 * @property {string} [vatId] VAT identification number
 */

/** One cart line as the host priced it before any plugin ran. */
export class CartLine {
  /**
   * @param {object} fields
   * @param {string} fields.id line id, unique in the cart
   * @param {string} fields.productId
   * @param {string} fields.variantId
   * @param {string} fields.sku
   * @param {number} fields.quantity units
   * @param {Money} fields.unitPrice price of one unit before adjustments
   * @param {string[]} [fields.tags] product tags
   * @param {string[]} [fields.collections] category (collection) ids
   * @param {string} [fields.taxCode] e.g. `"books"`
   * @param {number} [fields.weightGrams] weight of one unit
   */
  constructor({ id, productId, variantId, sku, quantity, unitPrice, tags = [], collections = [], taxCode, weightGrams }) {
    this.id = id;
    this.productId = productId;
    this.variantId = variantId;
    this.sku = sku;
    this.quantity = quantity;
    this.unitPrice = unitPrice;
    this.tags = tags;
    this.collections = collections;
    this.taxCode = taxCode;
    this.weightGrams = weightGrams;
  }

  /** `unitPrice × quantity` (saturating at the 64-bit limits, as the Rust SDK). */
  subtotal() {
    let amount = this.unitPrice.amount * BigInt(this.quantity);
    if (!fitsI64(amount)) amount = amount < 0n ? -(2n ** 63n) : 2n ** 63n - 1n;
    return new Money(amount, this.unitPrice.currency);
  }
}

/** The five things a plugin can decide, as the WIT enum spells them. */
export const EXTENSION_POINTS = Object.freeze(['pricing', 'tax', 'shipping', 'payment', 'recommendations']);

/** The currency of a WIT record, or an `invalid_input` error. */
export function currencyIn(code) {
  try {
    return Currency.parse(code);
  } catch (e) {
    if (e instanceof UnknownCurrency) throw PluginError.invalidInput(e.message);
    throw e;
  }
}

/** A WIT `money` record as {@link Money}. */
export function moneyIn(m) {
  return new Money(m.amount, currencyIn(m.currency));
}

/**
 * Money for the wire: a {@link Money}, or `{amount, currency}`, or a bare
 * integer amount in `currency`.
 * @returns {{amount: bigint, currency: string}}
 */
export function moneyOut(m, currency, what = 'amount') {
  if (m instanceof Money) return { amount: m.amount, currency: m.currency.code };
  if (m !== null && typeof m === 'object') return moneyOut(new Money(m.amount, m.currency), currency, what);
  if (typeof m === 'bigint' || typeof m === 'number') return moneyOut(new Money(m, currency), currency, what);
  throw new TypeError(`${what} must be a Money, got ${String(m)}`);
}

/** A WIT `address` record as an {@link Address} (the same fields). */
export function addressIn(a) {
  return {
    name: a.name,
    line1: a.line1,
    line2: a.line2,
    city: a.city,
    region: a.region,
    postalCode: a.postalCode,
    country: a.country,
  };
}

/** A WIT `customer` record as a {@link Customer}. */
export function customerIn(c) {
  return { id: c.id, email: c.email, tags: c.tags, taxExempt: c.taxExempt, vatId: c.vatId };
}

/** A WIT `cart-line` record as a {@link CartLine}. */
export function cartLineIn(l) {
  return new CartLine({ ...l, unitPrice: moneyIn(l.unitPrice) });
}

/** An optional integer for the wire (`undefined` stays absent). */
export function optionalU32(v, what) {
  if (v === undefined || v === null) return undefined;
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new TypeError(`${what} must be an integer 0..4294967295, got ${String(v)}`);
  return v;
}
