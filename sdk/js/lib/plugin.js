// Plugin definitions, and the glue between a definition and the exports a
// component has: the WIT world's interfaces, with the conversions of every
// call's input and output, the configuration parsed on every call, and
// PluginErrors turned into the WIT `result`'s error.

import { isPluginError } from './errors.js';
import { parseConfig, schemaText } from './config.js';
import { setLogSink } from './log.js';
import { taxInputIn, taxOutputOut } from './tax.js';
import { shippingInputIn, shippingOutputOut } from './shipping.js';
import { pricingInputIn, pricingOutputOut } from './pricing.js';
import {
  captureRequestIn,
  noWebhooks,
  paymentEventOut,
  paymentRequestIn,
  paymentResultOut,
  refundRequestIn,
  voidRequestIn,
  webhookIn,
} from './payment.js';
import { Catalog, contextIn, recommendationsOut } from './recommendations.js';

/**
 * The world each extension point is built for: new tax plugins speak
 * `mercato:plugin@0.2.0`, the other points `mercato:plugin@0.1.0`.
 */
export const WORLDS = Object.freeze({
  pricing: Object.freeze({ contract: '0.1.0', world: 'pricing-plugin', interface: 'pricing', functions: ['run'] }),
  tax: Object.freeze({ contract: '0.2.0', world: 'tax-plugin', interface: 'tax', functions: ['calculate'] }),
  shipping: Object.freeze({ contract: '0.1.0', world: 'shipping-plugin', interface: 'shipping', functions: ['rates'] }),
  payment: Object.freeze({
    contract: '0.1.0',
    world: 'payment-plugin',
    interface: 'payment',
    functions: ['createPayment', 'capture', 'refund', 'void'],
  }),
  recommendations: Object.freeze({
    contract: '0.1.0',
    world: 'recommendations-plugin',
    interface: 'recommendations',
    functions: ['recommend'],
  }),
});

/**
 * @typedef {object} CommonOptions
 * @property {object|string} [configSchema] JSON Schema of the merchant
 *   configuration, shown to operators at install (metadata `config-schema`)
 *   and checked on every call; `{"type": "object"}` when unset. Give it a
 *   `title`, and `description`s and `examples` on its properties.
 * @property {(config: any) => any} [loadConfig] turns the checked
 *   configuration into what the plugin's functions get; throw
 *   `PluginError.invalidConfig(...)` for what the schema cannot express
 * @property {string} [name] the plugin's name; `name` of package.json when unset
 * @property {string} [version] the plugin's version; `version` of package.json when unset
 * @property {string} [description] one sentence for the operator; `description` of package.json when unset
 */

function define(point, options) {
  if (options === null || typeof options !== 'object') throw new TypeError(`define${point}: expected an options object`);
  for (const fn of WORLDS[point].functions) {
    if (typeof options[fn] !== 'function') throw new TypeError(`a ${point} plugin needs a function ${fn}(config, ...)`);
  }
  schemaText(options.configSchema); // fails early on a schema that is not JSON
  return Object.freeze({ ...options, point });
}

/**
 * A tax plugin (`mercato:plugin@0.2.0`).
 * @param {CommonOptions & {calculate: (config: any, input: import('./tax.js').TaxInput) => import('./tax.js').TaxOutput}} options
 */
export function defineTax(options) {
  return define('tax', options);
}

/**
 * A shipping-rate plugin.
 * @param {CommonOptions & {rates: (config: any, input: import('./shipping.js').ShippingInput) => import('./shipping.js').ShippingOutput}} options
 */
export function defineShipping(options) {
  return define('shipping', options);
}

/**
 * A pricing plugin.
 * @param {CommonOptions & {run: (config: any, input: import('./pricing.js').PricingInput) => import('./pricing.js').PricingOutput}} options
 */
export function definePricing(options) {
  return define('pricing', options);
}

/**
 * A payment provider. `parseWebhook` is optional (an `unsupported` error
 * when absent). Functions may be `async` (to `await fetch(...)`).
 * @param {CommonOptions & {createPayment: Function, capture: Function, refund: Function, void: Function, parseWebhook?: Function}} options
 */
export function definePayment(options) {
  return define('payment', options);
}

/**
 * A recommender: `recommend(config, context, catalog)` ranks products,
 * best first; `catalog` reads the merchant's catalog and sales data.
 * @param {CommonOptions & {recommend: (config: any, context: import('./recommendations.js').Context, catalog: Catalog) => import('./recommendations.js').Recommendation[]}} options
 */
export function defineRecommendations(options) {
  return define('recommendations', options);
}

function errorText(e) {
  if (e instanceof Error) return `${e.name}: ${e.message}${e.stack ? `\n${e.stack}` : ''}`;
  return String(e);
}

/**
 * Runs one call: parses the configuration, converts the input, calls the
 * plugin, converts the output; a PluginError anywhere is the call's error.
 * Anything else is a bug: it is logged, then thrown (the call traps).
 */
function call(definition, log, configText, convertIn, invoke, convertOut) {
  const fail = (e) => {
    if (isPluginError(e)) return { tag: 'err', val: { code: String(e.code), message: String(e.message) } };
    log('error', `uncaught ${errorText(e)}`);
    throw e instanceof Error ? e : new Error(String(e));
  };
  let config;
  let input;
  let result;
  try {
    config = parseConfig(configText, definition.configSchema);
    if (definition.loadConfig) config = definition.loadConfig(config);
    input = convertIn();
    result = invoke(config, input);
  } catch (e) {
    return fail(e);
  }
  const finish = (value) => {
    try {
      return { tag: 'ok', val: convertOut(value, input) };
    } catch (e) {
      return fail(e);
    }
  };
  if (result !== null && typeof result === 'object' && typeof result.then === 'function') return result.then(finish, fail);
  return finish(result);
}

/**
 * The exports of the component for `definition`, as componentize-js
 * expects them: `{plugin: {describe}, <interface>: {...}}`.
 * @param {object} definition what `defineTax(...)` etc. returned
 * @param {{name: string, version: string, description?: string}} meta from the plugin's package.json
 * @param {{log: Function, catalog?: object}} imports the host's imports (or stand-ins)
 */
export function componentExports(definition, meta, imports) {
  if (!definition || !WORLDS[definition.point]) {
    throw new TypeError('the plugin module must `export default` a defineTax/defineShipping/definePricing/definePayment/defineRecommendations(...) value');
  }
  const log = imports.log;
  setLogSink(log);
  const schema = schemaText(definition.configSchema);
  const plugin = {
    describe() {
      return {
        name: definition.name ?? meta.name,
        version: definition.version ?? meta.version,
        extensionPoint: definition.point,
        description: definition.description ?? meta.description ?? '',
        configSchema: schema,
      };
    },
  };
  const run = (config, convertIn, invoke, convertOut) => call(definition, log, config, convertIn, invoke, convertOut);
  switch (definition.point) {
    case 'tax':
      return {
        plugin,
        tax: {
          calculate: (config, input) => run(config, () => taxInputIn(input), definition.calculate, taxOutputOut),
        },
      };
    case 'shipping':
      return {
        plugin,
        shipping: {
          rates: (config, input) => run(config, () => shippingInputIn(input), definition.rates, shippingOutputOut),
        },
      };
    case 'pricing':
      return {
        plugin,
        pricing: {
          run: (config, input) => run(config, () => pricingInputIn(input), definition.run, pricingOutputOut),
        },
      };
    case 'payment': {
      const result = (name, convertIn) => (config, request) =>
        run(config, () => convertIn(request), (c, r) => definition[name](c, r), paymentResultOut);
      const parseWebhook = definition.parseWebhook ?? noWebhooks;
      return {
        plugin,
        payment: {
          createPayment: result('createPayment', paymentRequestIn),
          capture: result('capture', captureRequestIn),
          refund: result('refund', refundRequestIn),
          void: result('void', voidRequestIn),
          parseWebhook: (config, hook) => run(config, () => webhookIn(hook), (c, h) => parseWebhook(c, h), (e) => paymentEventOut(e)),
        },
      };
    }
    case 'recommendations': {
      const catalog = new Catalog(imports.catalog);
      return {
        plugin,
        recommendations: {
          recommend: (config, context) =>
            run(config, () => contextIn(context), (c, cx) => definition.recommend(c, cx, catalog), recommendationsOut),
        },
      };
    }
    default:
      throw new TypeError(`unknown extension point ${definition.point}`);
  }
}

function show(value) {
  if (typeof value === 'string') return value;
  if (value instanceof Error) return `${value.name}: ${value.message}`;
  try {
    return JSON.stringify(value, (_, v) => (typeof v === 'bigint' ? v.toString() : v)) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A `console` whose methods log through `log(level, message)`: the
 * component's console (the sandbox has no standard output).
 * @param {(level: string, message: string) => void} log
 */
export function consoleToLog(log) {
  const at = (level) => (...args) => log(level, args.map(show).join(' '));
  return { log: at('info'), info: at('info'), debug: at('debug'), trace: at('debug'), warn: at('warn'), error: at('error') };
}
