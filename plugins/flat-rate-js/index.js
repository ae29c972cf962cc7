// One shipping price for every parcel, free above a cart subtotal: the
// JavaScript port of the flat-rate plugin, for the shipping world of
// mercato:plugin@0.1.0.

import { Money, PluginError, defineShipping } from 'mercato-plugin-sdk';

const asciiUpper = (s) => s.replace(/[a-z]/g, (c) => c.toUpperCase());

export default defineShipping({
  configSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Flat rate shipping',
    description: 'One shipping price for every parcel, free when the cart subtotal reaches a threshold.',
    type: 'object',
    required: ['amount'],
    additionalProperties: false,
    properties: {
      amount: {
        title: 'Price',
        description: 'Price in minor units of the cart currency (499 = 4.99 USD).',
        type: 'integer',
        minimum: 0,
        examples: [499, 590],
      },
      free_over: {
        title: 'Free from',
        description: 'Free when the cart subtotal is at least this, in minor units.',
        type: ['integer', 'null'],
        minimum: 0,
        examples: [5000],
      },
      code: {
        title: 'Option code',
        description: 'Identifies the option in the answer.',
        type: 'string',
        minLength: 1,
        default: 'flat',
        examples: ['flat', 'standard'],
      },
      label: {
        title: 'Service name',
        description: 'Service name shown to the buyer.',
        type: 'string',
        default: 'Standard',
        examples: ['Standard', 'Ground'],
      },
      carrier: {
        title: 'Carrier',
        description: 'Carrier name shown to the buyer.',
        type: 'string',
        default: 'Flat rate',
        examples: ['Post', 'USPS'],
      },
      min_days: {
        title: 'Earliest delivery',
        description: 'Earliest delivery, in days.',
        type: ['integer', 'null'],
        minimum: 0,
        maximum: 4294967295,
        examples: [3],
      },
      max_days: {
        title: 'Latest delivery',
        description: 'Latest delivery, in days; not less than min_days.',
        type: ['integer', 'null'],
        minimum: 0,
        maximum: 4294967295,
        examples: [5],
      },
      countries: {
        title: 'Countries',
        description: 'ISO 3166-1 codes shipped to; everywhere when absent.',
        type: ['array', 'null'],
        items: { type: 'string', pattern: '^[A-Z]{2}$' },
        minItems: 1,
        examples: [['US', 'CA']],
      },
    },
  },

  loadConfig(c) {
    if (c.min_days != null && c.max_days != null && c.min_days > c.max_days) {
      throw PluginError.invalidConfig(`min_days (${c.min_days}) is more than max_days (${c.max_days})`);
    }
    return {
      amount: BigInt(c.amount),
      freeOver: c.free_over == null ? undefined : BigInt(c.free_over),
      code: c.code,
      label: c.label,
      carrier: c.carrier,
      minDays: c.min_days ?? undefined,
      maxDays: c.max_days ?? undefined,
      countries: c.countries ?? undefined,
    };
  },

  rates(config, input) {
    const destination = asciiUpper(input.destination.country.trim());
    const shipsThere = config.countries === undefined || config.countries.some((c) => asciiUpper(c) === destination);
    if (!shipsThere) return { options: [] };
    const free = config.freeOver !== undefined && input.subtotal.amount >= config.freeOver;
    return {
      options: [
        {
          code: config.code,
          carrier: config.carrier,
          service: config.label,
          amount: new Money(free ? 0n : config.amount, input.currency),
          minDays: config.minDays,
          maxDays: config.maxDays,
        },
      ],
    };
  },
});
