// Shipping rates (mercato:plugin@0.1.0 shipping world). A failing shipping
// plugin's rates are skipped.

import { addressIn, currencyIn, moneyIn, moneyOut, optionalU32 } from './types.js';

/**
 * One item to ship.
 * @typedef {object} ShipItem
 * @property {string} lineId cart line id
 * @property {string} sku
 * @property {number} quantity units
 * @property {number} [weightGrams] weight of one unit
 * @property {number} [lengthMm] length of one unit
 * @property {number} [widthMm] width of one unit
 * @property {number} [heightMm] height of one unit
 */

/** What a shipping plugin is given. */
export class ShippingInput {
  /**
   * @param {object} fields
   * @param {import('./money.js').Currency} fields.currency cart currency
   * @param {import('./types.js').Address} fields.destination where the parcel goes
   * @param {ShipItem[]} fields.items what is in it
   * @param {import('./money.js').Money} fields.subtotal lines total after discounts
   */
  constructor({ currency, destination, items, subtotal }) {
    this.currency = currency;
    this.destination = destination;
    this.items = items;
    this.subtotal = subtotal;
  }

  /**
   * Total weight in grams (items without a weight count as 0).
   * @returns {bigint}
   */
  totalWeightGrams() {
    let total = 0n;
    for (const i of this.items) total += BigInt(i.weightGrams ?? 0) * BigInt(i.quantity);
    return total;
  }
}

/**
 * One way to ship.
 * @typedef {object} RateOption
 * @property {string} code unique within one plugin's answer, e.g. `"standard"`
 * @property {string} carrier e.g. `"DHL"`
 * @property {string} service e.g. `"Express"`
 * @property {import('./money.js').Money} amount price, in the cart currency
 * @property {number} [minDays] earliest delivery, in days
 * @property {number} [maxDays] latest delivery, in days
 */

/**
 * What a shipping plugin answers; no options when it cannot ship there.
 * @typedef {object} ShippingOutput
 * @property {RateOption[]} options
 */

/** The component's `shipping-input` record as a {@link ShippingInput}. */
export function shippingInputIn(wire) {
  return new ShippingInput({
    currency: currencyIn(wire.currency),
    destination: addressIn(wire.destination),
    items: wire.items.map((i) => ({
      lineId: i.lineId,
      sku: i.sku,
      quantity: i.quantity,
      weightGrams: i.weightGrams,
      lengthMm: i.lengthMm,
      widthMm: i.widthMm,
      heightMm: i.heightMm,
    })),
    subtotal: moneyIn(wire.subtotal),
  });
}

/**
 * A {@link ShippingOutput} as the component's `shipping-output` record.
 * An option's amount may be a Money or an integer in the cart currency.
 */
export function shippingOutputOut(output, input) {
  if (output === null || typeof output !== 'object' || !Array.isArray(output.options)) {
    throw new TypeError('rates must return {options: [...]}');
  }
  return {
    options: output.options.map((o) => ({
      code: o.code,
      carrier: o.carrier,
      service: o.service,
      amount: moneyOut(o.amount, input.currency, 'amount'),
      minDays: optionalU32(o.minDays, 'minDays'),
      maxDays: optionalU32(o.maxDays, 'maxDays'),
    })),
  };
}
