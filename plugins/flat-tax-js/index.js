// One tax rate on every line and on shipping: the JavaScript port of the
// flat-tax plugin, for the tax world of mercato:plugin@0.2.0.

import { Rate, TaxOutput, defineTax } from 'mercato-plugin-sdk';

export default defineTax({
  configSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Flat tax',
    description: 'One tax rate on every line and on shipping, in the jurisdiction of the destination country.',
    type: 'object',
    required: ['rate'],
    properties: {
      rate: {
        title: 'Rate',
        description: 'The tax rate: a decimal fraction ("0.0725") or a percentage ("7.25%"), between 0 and 1.',
        type: ['string', 'number'],
        examples: ['0.1', '7.25%', '0.19'],
      },
      label: {
        title: 'Label',
        description: 'Shown to the buyer next to the tax amount; "Tax" when unset.',
        type: ['string', 'null'],
        examples: ['Sales tax', 'VAT'],
      },
    },
  },

  loadConfig: ({ rate, label }) => ({ rate: Rate.fromJSON(rate), label: label ?? 'Tax' }),

  calculate(config, input) {
    const out = new TaxOutput();
    const tax = out.rate(input.shipTo.country, config.rate, config.label);
    out.taxEveryLine(input, tax);
    out.taxShipping(input, tax, input.shippingAmount);
    return out;
  },
});
