// The SDK's own tests: node --test sdk/js/test/
// The money cases are the Rust SDK's (sdk/src/money.rs, tax.rs), with the
// same expected results.

import { test } from 'node:test';
import assert from 'node:assert/strict';

import { Currency, Money, PluginError, Rate, TaxOutput, parseConfig } from '../index.js';
import { taxInputIn } from '../lib/tax.js';
import { componentExports } from '../lib/plugin.js';
import { defineTax } from '../lib/plugin.js';
import { POINTS } from '../lib/testing.js';

const usd = (a) => new Money(a, 'USD');

test('exponents follow ISO 4217', () => {
  assert.equal(Currency.parse('USD').exponent, 2);
  assert.equal(Currency.parse('JPY').exponent, 0);
  assert.equal(Currency.parse('KWD').exponent, 3);
  assert.equal(Currency.parse('CLF').exponent, 4);
  for (const bad of ['usd', 'XYZ', 'US']) assert.throws(() => Currency.parse(bad));
});

test('rounding is half-even', () => {
  assert.equal(usd(25).mulPpm(100000).amount, 2n);
  assert.equal(usd(35).mulPpm(100000).amount, 4n);
  assert.equal(usd(-25).mulPpm(100000).amount, -2n);
  assert.ok(Rate.parse('7.25%').equals(Rate.parse('0.0725')));
  assert.equal(Rate.parse('0.0725').of(usd(1000)).amount, 72n);
  assert.equal(Rate.parse('0.19').includedIn(usd(119)).amount, 19n);
  assert.equal(usd(-35).mulPpm(100000).amount, -4n);
  assert.equal(usd(15).mulRate('0.5').amount, 8n);
  assert.equal(usd(2n ** 63n - 1n).mulRate('1').amount, 2n ** 63n - 1n);
  assert.throws(() => usd(2n ** 63n - 1n).mulRate('2'));
  const share = (a, n, d) => usd(a).mulRatio(n, d).amount;
  assert.deepEqual([share(5, 1, 2), share(7, 1, 2), share(10, 1, 3), share(20, 1, 3), share(-5, 1, 2)], [2n, 4n, 3n, 7n, -2n]);
  assert.throws(() => usd(1).mulRatio(1, 0));
});

test('rates parse plain and general decimals alike', () => {
  const wire = (t) => Rate.parse(t)?.toWire() ?? null;
  const cases = {
    '0.0725': '0.0725', '0.0400': '0.04', '0.': '0', '0': '0', '1': '1', '1.0': '1', '00.5': '0.5', '19': '19',
    '0.000000000000000001': '0.000000000000000001', '7.25%': '0.0725', ' 0.2 ': '0.2', '1e-2': null, '-0.07': '-0.07',
    '+0.07': '0.07', '0.1234567890123456789': '0.1234567890123456789', '12345678901234567890': '12345678901234567890',
    '': null, '0.0.1': null, abc: null, '%': null, '0,07': null,
  };
  for (const [text, expected] of Object.entries(cases)) assert.equal(wire(text), expected, text);
  assert.ok(['0', '1', '0.0725', '-0'].every((t) => Rate.parse(t).isFraction()));
  assert.ok(['1.0001', '-0.01', '19'].every((t) => !Rate.parse(t).isFraction()));
  assert.equal(Rate.fromJSON(0.2).toWire(), '0.2');
  assert.equal(Rate.fromJSON(1).toWire(), '1');
  assert.equal(Rate.fromJSON(1e-7).toWire(), '0.0000001');
  assert.throws(() => Rate.fromJSON('seven'), (e) => e instanceof PluginError && e.code === 'invalid_config');
});

test('allocation re-adds exactly', () => {
  assert.deepEqual(new Money(100, 'USD').allocate([1, 1, 1]).map((m) => m.amount), [34n, 33n, 33n]);
  assert.equal(new Money(-7, 'JPY').allocate([3, 5]).reduce((s, m) => s + m.amount, 0n), -7n);
  assert.equal(Money.fromMajor('19.99', 'USD').amount, 1999n);
  assert.equal(Money.fromMajor('1.5', 'JPY'), null);
  assert.equal(new Money(1999, 'KWD').toString(), '1.999 KWD');
});

test('a rate is declared once and lines refer to it', () => {
  const input = POINTS.tax.toWire({
    currency: 'USD',
    lines: [1000, 2000, -50].map((amount, i) => ({ id: `l${i}`, product_id: 'p', sku: 's', quantity: 1, amount })),
    shipping_amount: 500,
    ship_to: { country: 'US' },
  });
  const sdk = taxInputIn(input);
  const out = new TaxOutput();
  const tax = out.rate('US-CA', '0.0725', 'CA sales tax');
  assert.equal(out.rate('US-CA', '0.07250', 'CA sales tax'), tax);
  assert.equal(out.rate('US-CA', '0.0725', 'other label'), 1);
  out.taxEveryLine(sdk, tax);
  assert.equal(out.taxShipping(sdk, tax, sdk.shippingAmount), 36n);
  assert.deepEqual(out.lines.map((t) => t.amount), [72n, 145n, 0n]);
  assert.equal(out.total(), 72n + 145n + 36n);
  assert.throws(() => out.taxLine(sdk, 0, 7, 100n), (e) => e.code === 'invalid_output');
});

test('line text crosses as one string of byte spans', () => {
  const wire = POINTS.tax.toWire({
    currency: 'EUR',
    lines: [
      { id: 'a', product_id: 'prod-a', sku: 'SKU-a', quantity: 1, amount: 1000 },
      { id: 'bé', product_id: 'prod-bé', sku: 'SKU-bé', quantity: 1, amount: 1000, tax_code: 'books' },
    ],
    ship_to: { country: 'DE' },
  });
  assert.equal(wire.text, 'aprod-aSKU-abéprod-béSKU-bébooks');
  const sdk = taxInputIn(wire);
  assert.deepEqual([sdk.lines[1].id, sdk.lines[1].productId, sdk.lines[1].sku, sdk.lines[1].taxCode], ['bé', 'prod-bé', 'SKU-bé', 'books']);
  const cut = { ...wire, lines: [{ ...wire.lines[1], id: { start: wire.lines[1].id.start, len: 2 } }] };
  assert.throws(() => taxInputIn(cut), (e) => e.code === 'invalid_input');
});

test('configuration is checked against the schema, defaults filled in', () => {
  const schema = {
    type: 'object',
    required: ['amount'],
    additionalProperties: false,
    properties: { amount: { type: 'integer', minimum: 0 }, code: { type: 'string', default: 'flat' } },
  };
  assert.deepEqual(parseConfig('{"amount": 5}', schema), { amount: 5, code: 'flat' });
  assert.deepEqual(parseConfig('', { type: 'object' }), {});
  for (const bad of ['{}', '{"amount": -1}', '{"amount": 1.5}', '{"amount": 1, "x": 2}', 'nope']) {
    assert.throws(() => parseConfig(bad, schema), (e) => e.code === 'invalid_config', bad);
  }
});

test('errors cross as the WIT result, bugs are logged and thrown', async () => {
  const logs = [];
  const plugin = defineTax({
    calculate(config) {
      if (config.fail === 'plugin') throw PluginError.unsupported('no');
      throw new TypeError('bug');
    },
  });
  const exports = componentExports(plugin, { name: 't', version: '1' }, { log: (l, m) => logs.push([l, m]) });
  const input = POINTS.tax.toWire({ currency: 'USD', lines: [], ship_to: { country: 'US' } });
  assert.deepEqual(exports.tax.calculate('{"fail":"plugin"}', input), { tag: 'err', val: { code: 'unsupported', message: 'no' } });
  assert.throws(() => exports.tax.calculate('{}', input), TypeError);
  assert.equal(logs[0][0], 'error');
  assert.deepEqual(exports.tax.calculate('[]', input).val.code, 'invalid_config');
  assert.equal(exports.plugin.describe().extensionPoint, 'tax');
});
