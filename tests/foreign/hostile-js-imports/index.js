// Test-only. A tax plugin for the tax world of mercato:plugin@0.2.0 that
// taxes nothing, or, with `{"mode": "fetch", "url": "…"}`, first fetches the
// URL. package.json sets `"mercato": {"keepWasi": true}`, so sdk/js/build.mjs
// keeps every WASI feature of the engine: the component imports wasi:http,
// wasi:filesystem and more, which the host's install check must refuse for a
// tax plugin.

import { Rate, TaxOutput, defineTax } from 'mercato-plugin-sdk';

export default defineTax({
  configSchema: {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'Hostile imports',
    description: 'Test-only: taxes nothing; in "fetch" mode it first fetches a URL.',
    type: 'object',
    properties: {
      mode: {
        title: 'Mode',
        description: '"ok" taxes nothing; "fetch" fetches `url` first.',
        type: 'string',
        enum: ['ok', 'fetch'],
        default: 'ok',
        examples: ['ok', 'fetch'],
      },
      url: {
        title: 'URL',
        description: 'What "fetch" mode fetches.',
        type: 'string',
        default: 'http://127.0.0.1:9/',
        examples: ['http://127.0.0.1:9/'],
      },
    },
  },

  async calculate(config, input) {
    if (config.mode === 'fetch') {
      const response = await fetch(config.url);
      console.log(`fetched ${config.url}: ${response.status}`);
    }
    const out = new TaxOutput();
    out.rate(input.shipTo.country, Rate.parse('0'), 'none');
    return out;
  },
});
