// Pricing: discounts, promotions and price lists (mercato:plugin@0.1.0
// pricing world).
//
// A pricing plugin proposes adjustments; the host computes their amounts
// with a Ledger (half-even at the line level), rejects impossible ones and
// applies the rest. Plugins bound in order each see what earlier ones
// applied in `PricingInput#previous`.

import { Money, toMinor, fitsI64 } from './money.js';
import { cartLineIn, currencyIn, customerIn, moneyIn } from './types.js';

/**
 * What an adjustment applies to, as the WIT variant spells it:
 * `{tag: 'line', val: lineId}`, `{tag: 'order'}` or `{tag: 'shipping'}`.
 * @typedef {{tag: 'line', val: string}|{tag: 'order'}|{tag: 'shipping'}} Target
 */

/**
 * How an adjustment changes its target: a percentage off in parts per
 * million (`{tag: 'percent', val: 100000}` is 10 %), a fixed amount off
 * (`{tag: 'fixed-amount', val: 500n}`) or a new unit price for a line
 * (`{tag: 'fixed-unit-price', val: 900n}`), amounts in minor units.
 * @typedef {{tag: 'percent', val: number}|{tag: 'fixed-amount', val: bigint}|{tag: 'fixed-unit-price', val: bigint}} AdjustmentKind
 */

/** Builders of {@link Target}s. */
export const Target = Object.freeze({
  /** One cart line, by id. */
  line: (lineId) => ({ tag: 'line', val: lineId }),
  /** The whole order, spread over the lines by the host. */
  order: Object.freeze({ tag: 'order' }),
  /** The shipping amount. */
  shipping: Object.freeze({ tag: 'shipping' }),
});

/** Builders of {@link AdjustmentKind}s. */
export const Kind = Object.freeze({
  /** A percentage off, in parts per million (100000 = 10 %). */
  percent: (ppm) => ({ tag: 'percent', val: ppm }),
  /** A fixed amount off, in minor units of the cart currency. */
  fixedAmount: (amount) => ({ tag: 'fixed-amount', val: toMinor(amount) }),
  /** A new unit price for a line, in minor units (line targets only). */
  fixedUnitPrice: (price) => ({ tag: 'fixed-unit-price', val: toMinor(price) }),
});

/** One proposed change to a price. */
export class Adjustment {
  /**
   * @param {Target} target what it applies to
   * @param {AdjustmentKind} kind how much
   * @param {string} label shown to the buyer, e.g. `"10 % off 5 or more"`
   * @param {string} [code] the discount code this redeems; must be one the buyer entered
   */
  constructor(target, kind, label, code = undefined) {
    this.target = target;
    this.kind = kind;
    this.label = label;
    this.code = code;
  }

  /** A percentage off one line (`ppm` parts per million). */
  static linePercent(lineId, ppm, label) {
    return new Adjustment(Target.line(lineId), Kind.percent(ppm), label);
  }

  /** A fixed amount off one line, in minor units. */
  static lineAmount(lineId, amount, label) {
    return new Adjustment(Target.line(lineId), Kind.fixedAmount(amount), label);
  }

  /** A new unit price for one line, in minor units. */
  static lineUnitPrice(lineId, price, label) {
    return new Adjustment(Target.line(lineId), Kind.fixedUnitPrice(price), label);
  }

  /** A percentage off the whole order. */
  static orderPercent(ppm, label) {
    return new Adjustment(Target.order, Kind.percent(ppm), label);
  }

  /** A fixed amount off the whole order, in minor units. */
  static orderAmount(amount, label) {
    return new Adjustment(Target.order, Kind.fixedAmount(amount), label);
  }

  /** A percentage off shipping. */
  static shippingPercent(ppm, label) {
    return new Adjustment(Target.shipping, Kind.percent(ppm), label);
  }

  /** A fixed amount off shipping, in minor units. */
  static shippingAmount(amount, label) {
    return new Adjustment(Target.shipping, Kind.fixedAmount(amount), label);
  }

  /** The same adjustment, redeeming `code`. */
  withCode(code) {
    return new Adjustment(this.target, this.kind, this.label, code);
  }
}

/**
 * An adjustment an earlier plugin made, with the amount the host computed.
 * @typedef {object} AppliedAdjustment
 * @property {Adjustment} adjustment the adjustment as proposed
 * @property {Money} amount the discount it gave (positive)
 */

function asciiLower(s) {
  return s.replace(/[A-Z]/g, (c) => c.toLowerCase());
}

/** What a pricing plugin is given. */
export class PricingInput {
  /**
   * @param {object} fields
   * @param {import('./money.js').Currency} fields.currency
   * @param {import('./types.js').CartLine[]} fields.lines
   * @param {import('./types.js').Customer} [fields.customer]
   * @param {string[]} [fields.discountCodes] codes the buyer entered that the host found valid
   * @param {Money} [fields.shipping] the selected shipping rate, once there is one
   * @param {AppliedAdjustment[]} [fields.previous] what earlier pricing plugins applied, in order
   */
  constructor({ currency, lines, customer, discountCodes = [], shipping, previous = [] }) {
    this.currency = currency;
    this.lines = lines;
    this.customer = customer;
    this.discountCodes = discountCodes;
    this.shipping = shipping;
    this.previous = previous;
  }

  /** Lines total before any adjustment. */
  subtotal() {
    let sum = 0n;
    for (const l of this.lines) sum += l.subtotal().amount;
    return new Money(sum, this.currency);
  }

  /**
   * The code as the buyer entered it, if they did (case-insensitive).
   * @returns {string|undefined}
   */
  hasCode(code) {
    const wanted = asciiLower(code);
    return this.discountCodes.find((c) => asciiLower(c) === wanted);
  }
}

/**
 * What a pricing plugin answers: adjustments, applied in order.
 * @typedef {object} PricingOutput
 * @property {Adjustment[]} adjustments
 */

/** Why the host refuses an adjustment. */
export class Refused extends Error {
  constructor(message) {
    super(message);
    this.name = 'Refused';
  }
}

function debugString(s) {
  return JSON.stringify(s);
}

const utf8 = new TextEncoder();

/**
 * Computes what adjustments are worth and keeps the remaining totals, as
 * the host does.
 *
 * Percentages apply to what is left of their target after earlier
 * adjustments; order-level amounts are spread over the lines in proportion
 * to what is left of each, so line totals always re-add to the order total.
 */
export class Ledger {
  /**
   * @param {import('./money.js').Currency} currency
   * @param {import('./types.js').CartLine[]} lines at their unit prices
   * @param {Money} [shipping]
   */
  constructor(currency, lines, shipping) {
    this.currency = currency;
    this.lineIds = lines.map((l) => l.id);
    this.index = new Map();
    lines.forEach((l, i) => {
      if (!this.index.has(l.id)) this.index.set(l.id, i);
    });
    this.quantities = lines.map((l) => BigInt(l.quantity));
    this.remaining = lines.map((l) => l.subtotal().amount);
    this.shippingRemaining = shipping ? shipping.amount : undefined;
    /** @type {AppliedAdjustment[]} */
    this.appliedList = [];
    this.lineDiscountList = lines.map(() => 0n);
    this.shippingDiscountAmount = 0n;
  }

  /** A ledger of the input's lines and shipping, with `input.previous` replayed. */
  static fromInput(input) {
    const ledger = new Ledger(input.currency, input.lines, input.shipping);
    for (const prev of input.previous) {
      try {
        ledger.apply(prev.adjustment, input.discountCodes);
      } catch (e) {
        // Earlier answers were checked when they were made; one that no
        // longer applies (a line since removed) is skipped.
        if (!(e instanceof Refused)) throw e;
      }
    }
    return ledger;
  }

  /** A copy. */
  clone() {
    const copy = Object.create(Ledger.prototype);
    Object.assign(copy, this, {
      remaining: [...this.remaining],
      appliedList: [...this.appliedList],
      lineDiscountList: [...this.lineDiscountList],
    });
    return copy;
  }

  /**
   * Applies one adjustment, or throws {@link Refused} saying why it is
   * impossible (and changes nothing).
   * @param {Adjustment} adjustment
   * @param {string[]} codes the discount codes the buyer entered
   * @returns {Money} the discount it gives
   */
  apply(adjustment, codes) {
    const { target, kind, label, code } = adjustment;
    if (code !== undefined && code !== null && !codes.some((c) => asciiLower(c) === asciiLower(code))) {
      throw new Refused(`redeems code ${debugString(code)} that the buyer did not enter`);
    }
    if (label.trim() === '' || utf8.encode(label).length > 200) throw new Refused('label must be 1 to 200 characters');
    let amount;
    if (target.tag === 'line') {
      const id = target.val;
      const i = this.index.get(id);
      if (i === undefined) throw new Refused(`unknown line id ${debugString(id)}`);
      const left = this.remaining[i];
      let off;
      if (kind.tag === 'fixed-unit-price') {
        const price = kind.val;
        if (price < 0n) throw new Refused(`negative unit price ${price}`);
        const newTotal = price * this.quantities[i];
        if (!fitsI64(newTotal)) throw new Refused('unit price out of range');
        if (newTotal > left) throw new Refused(`fixed unit price ${price} raises line ${debugString(id)} above its current total ${left}`);
        off = left - newTotal;
      } else {
        off = this._off(kind, left, `line ${debugString(id)}`);
      }
      this.remaining[i] -= off;
      this.lineDiscountList[i] += off;
      amount = off;
    } else if (target.tag === 'order') {
      const left = this.remaining.reduce((a, b) => a + b, 0n);
      if (kind.tag === 'fixed-unit-price') throw new Refused('fixed unit price applies to lines only');
      const off = this._off(kind, left, 'the order');
      let parts;
      try {
        parts = new Money(off, this.currency).allocate(this.remaining);
      } catch (e) {
        throw new Refused(e.message);
      }
      parts.forEach((part, i) => {
        this.remaining[i] -= part.amount;
        this.lineDiscountList[i] += part.amount;
      });
      amount = off;
    } else if (target.tag === 'shipping') {
      if (kind.tag === 'fixed-unit-price') throw new Refused('fixed unit price applies to lines only');
      const left = this.shippingRemaining ?? 0n;
      const off = this._off(kind, left, 'shipping');
      if (this.shippingRemaining !== undefined) this.shippingRemaining -= off;
      this.shippingDiscountAmount += off;
      amount = off;
    } else {
      throw new Refused(`unknown target ${debugString(target.tag)}`);
    }
    const money = new Money(amount, this.currency);
    this.appliedList.push({ adjustment, amount: money });
    return money;
  }

  /**
   * Applies a plugin's whole answer, or none of it (throws {@link Refused}).
   * @param {Adjustment[]} adjustments
   * @param {string[]} codes
   */
  applyAll(adjustments, codes) {
    const next = this.clone();
    adjustments.forEach((a, i) => {
      try {
        next.apply(a, codes);
      } catch (e) {
        if (e instanceof Refused) throw new Refused(`adjustment ${i}: ${e.message}`);
        throw e;
      }
    });
    Object.assign(this, next);
  }

  /** @private What `kind` takes off `left` minor units of `what`. */
  _off(kind, left, what) {
    switch (kind.tag) {
      case 'percent': {
        if (kind.val > 1000000) throw new Refused(`percent ${kind.val} ppm is above 100 %`);
        try {
          return new Money(left, this.currency).mulPpm(kind.val).amount;
        } catch (e) {
          throw new Refused(e.message);
        }
      }
      case 'fixed-amount': {
        const a = kind.val;
        if (a < 0n) throw new Refused(`negative amount ${a}`);
        if (a > left) throw new Refused(`discount ${a} is larger than ${what} (${left})`);
        return a;
      }
      case 'fixed-unit-price':
        throw new Refused('fixed unit price applies to lines only');
      default:
        throw new Refused(`unknown kind ${debugString(kind.tag)}`);
    }
  }

  /** Adjustments applied so far, in order. */
  applied() {
    return this.appliedList;
  }

  /** Discount given to each line so far (same order as the lines). */
  lineDiscounts() {
    return this.lineDiscountList;
  }

  /** What is left of each line's total (same order as the lines). */
  lineTotals() {
    return this.remaining;
  }

  /** What is left of the shipping amount, if there is one. */
  shippingTotal() {
    return this.shippingRemaining;
  }

  /** Discount given on shipping so far. */
  shippingDiscount() {
    return this.shippingDiscountAmount;
  }

  /** Total discount so far, lines and shipping. */
  discountTotal() {
    const lines = this.lineDiscountList.reduce((a, b) => a + b, 0n);
    return new Money(lines + this.shippingDiscountAmount, this.currency);
  }
}

// ---------------------------------------------------------------------------
// Wire conversions.

/** A WIT `adjustment` record as an {@link Adjustment}. */
export function adjustmentIn(a) {
  return new Adjustment(a.target, a.kind, a.label, a.code ?? undefined);
}

/** The component's `pricing-input` record as a {@link PricingInput}. */
export function pricingInputIn(wire) {
  return new PricingInput({
    currency: currencyIn(wire.currency),
    lines: wire.lines.map(cartLineIn),
    customer: wire.customer ? customerIn(wire.customer) : undefined,
    discountCodes: wire.discountCodes,
    shipping: wire.shipping ? moneyIn(wire.shipping) : undefined,
    previous: wire.previous.map((p) => ({ adjustment: adjustmentIn(p.adjustment), amount: moneyIn(p.amount) })),
  });
}

function targetOut(t) {
  if (t && t.tag === 'line' && typeof t.val === 'string') return { tag: 'line', val: t.val };
  if (t && (t.tag === 'order' || t.tag === 'shipping')) return { tag: t.tag };
  throw new TypeError(`not an adjustment target: ${JSON.stringify(t)}`);
}

function kindOut(k) {
  if (k && k.tag === 'percent') {
    if (!Number.isInteger(k.val) || k.val < 0 || k.val > 0xffffffff) throw new TypeError(`percent must be an integer number of parts per million, got ${String(k.val)}`);
    return { tag: 'percent', val: k.val };
  }
  if (k && (k.tag === 'fixed-amount' || k.tag === 'fixed-unit-price')) {
    const v = toMinor(k.val, k.tag);
    if (!fitsI64(v)) throw new RangeError(`${k.tag} ${v} does not fit in 64 bits`);
    return { tag: k.tag, val: v };
  }
  throw new TypeError(`not an adjustment kind: ${JSON.stringify(k, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
}

/** A {@link PricingOutput} as the component's `pricing-output` record. */
export function pricingOutputOut(output) {
  if (output === null || typeof output !== 'object' || !Array.isArray(output.adjustments)) {
    throw new TypeError('run must return {adjustments: [...]}');
  }
  return {
    adjustments: output.adjustments.map((a) => ({
      target: targetOut(a.target),
      kind: kindOut(a.kind),
      label: a.label,
      code: a.code ?? undefined,
    })),
  };
}

