// Fixtures: `fixtures/<case>.input.json` + `<case>.expected.json`, with an
// optional `<case>.config.json` (default `{}`), as the Rust SDK's
// `mercato_sdk::testing` reads them.
//
// The input is the friendly JSON form every Mercato SDK and the host's
// tests share (snake_case, the tax lines with plain string ids). It is
// turned into the WIT record the component receives (for tax 0.2.0, one
// text and byte spans, laid out as the host lays them), passed through the
// plugin's component exports, and the WIT answer is turned back into the
// friendly JSON the expected file holds — or `{"error": {"code": ...}}`.

import { PluginError } from './errors.js';
import { Currency, Rate, UnknownCurrency } from './money.js';
import { adjustmentIn, Ledger, pricingInputIn, Refused } from './pricing.js';

// ---------------------------------------------------------------------------
// Friendly JSON -> WIT records, with serde's rules: unknown fields are
// ignored, `null` or a missing field is `None` for options, a missing field
// takes its default where the Rust type has one and is an error elsewhere.

const invalid = (path, message) => PluginError.invalidInput(`input does not fit the extension point: ${path}: ${message}`);

const T = {
  string: { kind: 'string' },
  bool: { kind: 'bool' },
  u8: { kind: 'int', min: 0n, max: 255n, big: false },
  u32: { kind: 'int', min: 0n, max: 4294967295n, big: false },
  s64: { kind: 'int', min: -(2n ** 63n), max: 2n ** 63n - 1n, big: true },
  currency: { kind: 'currency' },
  list: (of) => ({ kind: 'list', of }),
  option: (of) => ({ kind: 'option', of }),
  tuple: (...of) => ({ kind: 'tuple', of }),
  map: (of) => ({ kind: 'map', of }),
  /** fields: [friendly name, wire name, type, default] — no default: required. */
  record: (fields) => ({ kind: 'record', fields }),
  custom: (fn) => ({ kind: 'custom', fn }),
};

const REQUIRED = Symbol('required');
const f = (name, type, def = REQUIRED) => [name, camel(name), type, def];

function camel(name) {
  return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function typeName(v) {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  return `a ${typeof v}`;
}

function convert(value, type, path) {
  switch (type.kind) {
    case 'string':
      if (typeof value !== 'string') throw invalid(path, `expected a string, got ${typeName(value)}`);
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(path, `expected a boolean, got ${typeName(value)}`);
      return value;
    case 'int': {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw invalid(path, `expected an integer, got ${JSON.stringify(value)}`);
      const n = BigInt(value);
      if (n < type.min || n > type.max) throw invalid(path, `${value} is out of range`);
      return type.big ? n : value;
    }
    case 'currency':
      if (typeof value !== 'string') throw invalid(path, `expected a currency code, got ${typeName(value)}`);
      try {
        return Currency.parse(value).code;
      } catch (e) {
        if (e instanceof UnknownCurrency) throw invalid(path, e.message);
        throw e;
      }
    case 'list':
      if (!Array.isArray(value)) throw invalid(path, `expected a list, got ${typeName(value)}`);
      return value.map((v, i) => convert(v, type.of, `${path}[${i}]`));
    case 'tuple':
      if (!Array.isArray(value) || value.length !== type.of.length) throw invalid(path, `expected a list of ${type.of.length}`);
      return value.map((v, i) => convert(v, type.of[i], `${path}[${i}]`));
    case 'map':
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(path, `expected an object, got ${typeName(value)}`);
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, convert(v, type.of, `${path}.${k}`)]));
    case 'option':
      return value === null || value === undefined ? undefined : convert(value, type.of, path);
    case 'record': {
      if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid(path, `expected an object, got ${typeName(value)}`);
      const out = {};
      for (const [name, wire, t, def] of type.fields) {
        const sub = `${path}.${name}`;
        const v = value[name];
        if (v === undefined || (v === null && t.kind !== 'option')) {
          if (t.kind === 'option') out[wire] = undefined;
          else if (def === REQUIRED) throw invalid(path, `missing field \`${name}\``);
          else out[wire] = typeof def === 'function' ? def() : def;
        } else {
          out[wire] = convert(v, t, sub);
        }
      }
      return out;
    }
    case 'custom':
      return type.fn(value, path);
    default:
      throw new Error(`unknown type ${type.kind}`);
  }
}

const Money = T.record([f('amount', T.s64), f('currency', T.currency)]);
const Address = T.record([
  f('name', T.string, ''),
  f('line1', T.string, ''),
  f('line2', T.option(T.string)),
  f('city', T.string, ''),
  f('region', T.string, ''),
  f('postal_code', T.string, ''),
  f('country', T.string),
]);
const Customer = T.record([
  f('id', T.option(T.string)),
  f('email', T.option(T.string)),
  f('tags', T.list(T.string), () => []),
  f('tax_exempt', T.bool, false),
  f('vat_id', T.option(T.string)),
]);
const CartLine = T.record([
  f('id', T.string),
  f('product_id', T.string),
  f('variant_id', T.string),
  f('sku', T.string),
  f('quantity', T.u32),
  f('unit_price', Money),
  f('tags', T.list(T.string), () => []),
  f('collections', T.list(T.string), () => []),
  f('tax_code', T.option(T.string)),
  f('weight_grams', T.option(T.u32)),
]);

/** serde's externally tagged enum: `"unit"` or `{"case": payload}`. */
function externallyTagged(cases) {
  return T.custom((value, path) => {
    if (typeof value === 'string') {
      if (cases[value] === null) return { tag: value.replace(/_/g, '-') };
      throw invalid(path, `unknown variant ${JSON.stringify(value)}`);
    }
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 1) {
      const [name] = Object.keys(value);
      const payload = cases[name];
      if (payload) return { tag: name.replace(/_/g, '-'), val: convert(value[name], payload, `${path}.${name}`) };
    }
    throw invalid(path, `expected one of ${Object.keys(cases).join(', ')}`);
  });
}

const Target = externallyTagged({ line: T.string, order: null, shipping: null });
const Kind = externallyTagged({ percent: T.u32, fixed_amount: T.s64, fixed_unit_price: T.s64 });
const Adjustment = T.record([f('target', Target), f('kind', Kind), f('label', T.string), f('code', T.option(T.string))]);

const TaxableLine = T.record([
  f('id', T.string),
  f('product_id', T.string),
  f('sku', T.string),
  f('quantity', T.u32),
  f('amount', T.s64),
  f('tax_code', T.option(T.string)),
]);

const utf8 = new TextEncoder();

/** The 0.2.0 `tax-input`: the lines' text in one string, as the host lays it out. */
function taxInputToWire(value) {
  const friendly = convert(
    value,
    T.record([
      f('currency', T.currency),
      f('lines', T.list(TaxableLine)),
      f('shipping_amount', T.s64, 0n),
      f('ship_from', T.option(Address)),
      f('ship_to', Address),
      f('customer', T.option(Customer)),
      f('prices_include_tax', T.bool, false),
    ]),
    '$',
  );
  let text = '';
  let offset = 0;
  const span = (s) => {
    const len = utf8.encode(s).length;
    const out = { start: offset, len };
    text += s;
    offset += len;
    return out;
  };
  const lines = friendly.lines.map((l) => ({
    id: span(l.id),
    productId: span(l.productId),
    sku: span(l.sku),
    quantity: l.quantity,
    amount: l.amount,
    taxCode: l.taxCode === undefined ? undefined : span(l.taxCode),
  }));
  return { ...friendly, text, lines };
}

const ShippingInput = T.record([
  f('currency', T.currency),
  f('destination', Address),
  f(
    'items',
    T.list(
      T.record([
        f('line_id', T.string),
        f('sku', T.string),
        f('quantity', T.u32),
        f('weight_grams', T.option(T.u32)),
        f('length_mm', T.option(T.u32)),
        f('width_mm', T.option(T.u32)),
        f('height_mm', T.option(T.u32)),
      ]),
    ),
  ),
  f('subtotal', Money),
]);

const PricingInput = T.record([
  f('currency', T.currency),
  f('lines', T.list(CartLine)),
  f('customer', T.option(Customer)),
  f('discount_codes', T.list(T.string), () => []),
  f('shipping', T.option(Money)),
  f('previous', T.list(T.record([f('adjustment', Adjustment), f('amount', Money)])), () => []),
]);

const PaymentRequest = T.record([
  f('amount', Money),
  f('order_reference', T.string),
  f('payment_method_token', T.option(T.string)),
  f('idempotency_key', T.string),
  f('capture', T.bool, true),
  f('email', T.option(T.string)),
]);
const CaptureRequest = T.record([f('provider_reference', T.string), f('amount', Money), f('idempotency_key', T.string)]);
const RefundRequest = T.record([
  f('provider_reference', T.string),
  f('amount', Money),
  f('idempotency_key', T.string),
  f('reason', T.option(T.string)),
]);
const VoidRequest = T.record([f('provider_reference', T.string), f('idempotency_key', T.string)]);
const Webhook = T.record([
  f('headers', T.list(T.tuple(T.string, T.string)), () => []),
  f('body', T.custom((v, path) => Uint8Array.from(convert(v, T.list(T.u8), path))), () => new Uint8Array()),
]);
const PAYMENT_CALLS = {
  create_payment: ['createPayment', PaymentRequest],
  capture: ['capture', CaptureRequest],
  refund: ['refund', RefundRequest],
  void: ['void', VoidRequest],
  parse_webhook: ['parseWebhook', Webhook],
};

const Product = T.record([
  f('id', T.string),
  f('title', T.string),
  f('category_ids', T.list(T.string), () => []),
  f('tags', T.list(T.string), () => []),
  f('price', Money),
  f('available', T.bool, true),
]);
const ProductCount = T.record([f('product_id', T.string), f('count', T.u32)]);
const RecommendationsInput = T.record([
  f(
    'context',
    T.record([
      f('product_id', T.option(T.string)),
      f('cart_product_ids', T.list(T.string), () => []),
      f('customer', T.option(Customer)),
      f('limit', T.u32),
    ]),
  ),
  f(
    'catalog',
    T.record([
      f('products', T.list(Product), () => []),
      f('bought_together', T.map(T.list(ProductCount)), () => ({})),
      f('bestsellers', T.list(ProductCount), () => []),
    ]),
    () => ({ products: [], boughtTogether: {}, bestsellers: [] }),
  ),
]);

// ---------------------------------------------------------------------------
// WIT answers -> friendly JSON (serde's output: `None` fields omitted).

const invalidOutput = (message) => new PluginError('invalid_output', message);

function num(v) {
  return typeof v === 'bigint' ? v : BigInt(v);
}

function moneyOut(m) {
  try {
    return { amount: num(m.amount), currency: Currency.parse(m.currency).code };
  } catch (e) {
    if (e instanceof UnknownCurrency) throw invalidOutput(e.message);
    throw e;
  }
}

function withOptional(obj, name, value) {
  if (value !== undefined && value !== null) obj[name] = value;
  return obj;
}

function taxOutputToJson(out) {
  const json = {
    rates: out.rates.map((r, i) => {
      const rate = Rate.parse(r.rate);
      if (!rate) throw invalidOutput(`rates[${i}]: ${JSON.stringify(r.rate)} is not a decimal`);
      return { jurisdiction: r.jurisdiction, rate: rate.toWire(), label: r.label };
    }),
    lines: out.lines.map((t) => ({ line: t.line, rate: t.rate, amount: num(t.amount) })),
  };
  if (out.shipping.length > 0) json.shipping = out.shipping.map((t) => ({ rate: t.rate, amount: num(t.amount) }));
  return json;
}

function shippingOutputToJson(out) {
  return {
    options: out.options.map((o) => {
      const json = { code: o.code, carrier: o.carrier, service: o.service, amount: moneyOut(o.amount) };
      withOptional(json, 'min_days', o.minDays);
      return withOptional(json, 'max_days', o.maxDays);
    }),
  };
}

function variantToJson(v) {
  const tag = v.tag.replace(/-/g, '_');
  return 'val' in v && v.val !== undefined ? { [tag]: v.val } : tag;
}

function adjustmentToJson(a) {
  return withOptional({ target: variantToJson(a.target), kind: variantToJson(a.kind), label: a.label }, 'code', a.code);
}

function statusToJson(s) {
  if (s.tag === 'requires-action') {
    const action = {};
    withOptional(action, 'client_secret', s.val.clientSecret);
    withOptional(action, 'redirect_url', s.val.redirectUrl);
    return { requires_action: action };
  }
  if (s.tag === 'failed') return { failed: s.val };
  return s.tag;
}

function paymentResultToJson(r) {
  return withOptional({ status: statusToJson(r.status), provider_reference: r.providerReference }, 'message', r.message);
}

function paymentEventToJson(e) {
  return withOptional(
    { provider_reference: e.providerReference, status: statusToJson(e.status) },
    'amount',
    e.amount ? moneyOut(e.amount) : undefined,
  );
}

// ---------------------------------------------------------------------------
// One call per extension point, through the component exports.

/**
 * How to call each extension point with a fixture: the friendly input to
 * WIT, the export to call, the WIT answer to friendly JSON.
 */
export const POINTS = {
  tax: {
    toWire: taxInputToWire,
    call: (exports, config, wire) => exports.tax.calculate(config, wire),
    toJson: (out) => taxOutputToJson(out),
  },
  shipping: {
    toWire: (v) => convert(v, ShippingInput, '$'),
    call: (exports, config, wire) => exports.shipping.rates(config, wire),
    toJson: (out) => shippingOutputToJson(out),
  },
  pricing: {
    toWire: (v) => convert(v, PricingInput, '$'),
    call: (exports, config, wire) => exports.pricing.run(config, wire),
    toJson: (out, wire) => {
      // Checked the way the host will: every adjustment must apply.
      const input = pricingInputIn(wire);
      const adjustments = out.adjustments.map(adjustmentIn);
      try {
        Ledger.fromInput(input).applyAll(adjustments, input.discountCodes);
      } catch (e) {
        if (e instanceof Refused) throw invalidOutput(`the host would refuse this answer: ${e.message}`);
        throw e;
      }
      return { adjustments: out.adjustments.map(adjustmentToJson) };
    },
  },
  payment: {
    toWire: (v) => {
      if (v === null || typeof v !== 'object' || Array.isArray(v) || Object.keys(v).length !== 1 || !PAYMENT_CALLS[Object.keys(v)[0]]) {
        throw invalid('$', `expected one of ${Object.keys(PAYMENT_CALLS).map((k) => `{"${k}": ...}`).join(', ')}`);
      }
      const [name] = Object.keys(v);
      const [fn, type] = PAYMENT_CALLS[name];
      return { fn, request: convert(v[name], type, `$.${name}`) };
    },
    call: (exports, config, wire) => exports.payment[wire.fn](config, wire.request),
    toJson: (out, wire) => (wire.fn === 'parseWebhook' ? paymentEventToJson(out) : paymentResultToJson(out)),
  },
  recommendations: {
    toWire: (v) => convert(v, RecommendationsInput, '$'),
    call: (exports, config, wire) => exports.recommendations.recommend(config, wire.context),
    toJson: (out) => out.map((r) => ({ product_id: r.productId, reason: r.reason })),
  },
};

// ---------------------------------------------------------------------------
// Comparing JSON values whose integers may be BigInts.

/** JSON text with BigInts written as integers. */
export function stringify(value, indent = 2) {
  const marked = JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? `\u0000${v}\u0000` : v), indent);
  return marked.replace(/"\\u0000(-?\d+)\\u0000"/g, '$1');
}

function sameNumber(a, b) {
  if (typeof a === 'bigint' || typeof b === 'bigint') {
    const x = typeof a === 'bigint' ? a : Number.isInteger(a) ? BigInt(a) : null;
    const y = typeof b === 'bigint' ? b : Number.isInteger(b) ? BigInt(b) : null;
    return x !== null && y !== null && x === y;
  }
  return a === b;
}

const isNumber = (v) => typeof v === 'number' || typeof v === 'bigint';

/**
 * The differences between two JSON values, as `path: expected X, got Y` lines.
 * @returns {string[]}
 */
export function differences(expected, actual, path = '$') {
  if (isNumber(expected) && isNumber(actual)) return sameNumber(expected, actual) ? [] : [`${path}: expected ${stringify(expected, 0)}, got ${stringify(actual, 0)}`];
  if (Array.isArray(expected) && Array.isArray(actual)) {
    const out = [];
    const n = Math.max(expected.length, actual.length);
    for (let i = 0; i < n; i++) {
      if (i >= actual.length) out.push(`${path}[${i}]: missing, expected ${stringify(expected[i], 0)}`);
      else if (i >= expected.length) out.push(`${path}[${i}]: unexpected ${stringify(actual[i], 0)}`);
      else out.push(...differences(expected[i], actual[i], `${path}[${i}]`));
    }
    return out;
  }
  const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  if (isObject(expected) && isObject(actual)) {
    const out = [];
    for (const k of new Set([...Object.keys(expected), ...Object.keys(actual)])) {
      if (!(k in actual)) out.push(`${path}.${k}: missing, expected ${stringify(expected[k], 0)}`);
      else if (!(k in expected)) out.push(`${path}.${k}: unexpected ${stringify(actual[k], 0)}`);
      else out.push(...differences(expected[k], actual[k], `${path}.${k}`));
    }
    return out;
  }
  if (expected === actual) return [];
  return [`${path}: expected ${stringify(expected, 0)}, got ${stringify(actual, 0)}`];
}

