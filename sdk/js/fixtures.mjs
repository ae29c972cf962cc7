#!/usr/bin/env node
// Runs a plugin's fixtures natively in Node.js:
//
//   node sdk/js/fixtures.mjs [--verbose] <plugin-dir>...
//
// Each fixtures/<case>.input.json (the friendly JSON form) is turned into
// the WIT record the component receives, passed through the same exports
// the component has, and the answer compared with <case>.expected.json.
// Prints one line per fixture, the differences of each failure, and
// "N passed, N failed"; exits 1 when a fixture fails.

import { register } from 'node:module';

register('./lib/loader.mjs', import.meta.url);
const { main } = await import('./lib/runner.js');
process.exitCode = await main(process.argv.slice(2));
