// mercato-plugin-sdk: write Mercato plugins in JavaScript.
//
// A plugin module `export default`s one definition — defineTax,
// defineShipping, definePricing, definePayment or defineRecommendations —
// and is built into a WebAssembly component of the matching world of
// mercato:plugin by `node sdk/js/build.mjs <plugin-dir>`. The same module
// runs natively in Node.js under `node sdk/js/fixtures.mjs <plugin-dir>`.
// See README.md.

export { PluginError, OUTCOME_UNKNOWN, isPluginError } from './lib/errors.js';
export {
  Currency,
  Money,
  MoneyError,
  Rate,
  UnknownCurrency,
  divHalfEven,
  formatDecimal,
  toMinor,
} from './lib/money.js';
export { CartLine, EXTENSION_POINTS } from './lib/types.js';
export { parseConfig, validate, schemaText, CHECKED_KEYWORDS } from './lib/config.js';
export * as log from './lib/log.js';
export { TaxInput, TaxOutput } from './lib/tax.js';
export { ShippingInput } from './lib/shipping.js';
export { Adjustment, Kind, Ledger, PricingInput, Refused, Target } from './lib/pricing.js';
export { Status } from './lib/payment.js';
export { Catalog, CatalogData } from './lib/recommendations.js';
export {
  WORLDS,
  defineTax,
  defineShipping,
  definePricing,
  definePayment,
  defineRecommendations,
} from './lib/plugin.js';
