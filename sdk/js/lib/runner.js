// The native fixture runner: loads a plugin's module in Node.js, builds the
// exports its component would have (the same glue code), and runs every
// fixture through them.

import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join, basename } from 'node:path';
import { pathToFileURL } from 'node:url';

import { isPluginError } from './errors.js';
import { parseConfig } from './config.js';
import { componentExports, WORLDS } from './plugin.js';
import { CatalogData } from './recommendations.js';
import { readManifest } from './manifest.js';
import { POINTS, differences, stringify } from './testing.js';

/**
 * Every fixture under `<dir>/fixtures`, sorted by name.
 * @returns {Array<{name: string, config: unknown, input: unknown, expected: unknown}>}
 */
export function loadFixtures(dir) {
  const root = join(dir, 'fixtures');
  if (!existsSync(root)) throw new Error(`no fixtures directory ${root}`);
  const read = (path) => {
    try {
      return JSON.parse(readFileSync(path, 'utf8'));
    } catch (e) {
      throw new Error(`${path} is not JSON: ${e.message}`);
    }
  };
  const names = readdirSync(root)
    .filter((n) => n.endsWith('.input.json'))
    .map((n) => n.slice(0, -'.input.json'.length))
    .sort();
  if (names.length === 0) throw new Error(`no fixtures in ${root}`);
  return names.map((name) => {
    const path = (ext) => join(root, `${name}.${ext}.json`);
    return {
      name,
      config: existsSync(path('config')) ? read(path('config')) : {},
      input: read(path('input')),
      expected: read(path('expected')),
    };
  });
}

/** The error code a fixture expects, if it expects a failure. */
function expectedError(expected) {
  const code = expected?.error?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * Loads the plugin at `dir` natively. Needs the SDK's module loader
 * registered (fixtures.mjs and build.mjs do it).
 */
export async function loadPlugin(dir) {
  const manifest = readManifest(dir);
  const module = await import(pathToFileURL(manifest.main).href);
  const definition = module.default;
  if (!definition || !WORLDS[definition.point]) {
    throw new Error(
      `${manifest.main} must \`export default\` defineTax(...), defineShipping(...), definePricing(...), definePayment(...) or defineRecommendations(...)`,
    );
  }
  return { manifest, definition };
}

function indent(text, prefix) {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}

/**
 * Runs the fixtures of one plugin directory; prints a line per fixture and
 * the differences of each failure.
 * @returns {Promise<{passed: number, failed: number}>}
 */
export async function runPlugin(dir, { verbose = false, out = console.log } = {}) {
  const { manifest, definition } = await loadPlugin(dir);
  const world = WORLDS[definition.point];
  const point = POINTS[definition.point];
  let logs = [];
  let catalog = new CatalogData();
  const imports = {
    log: (level, message) => logs.push(`[${level}] ${message}`),
    catalog: {
      getProduct: (...a) => catalog.imports().getProduct(...a),
      boughtTogether: (...a) => catalog.imports().boughtTogether(...a),
      bestsellers: (...a) => catalog.imports().bestsellers(...a),
    },
  };
  globalThis.__mercatoStandIns = { log: { log: imports.log }, catalog: imports.catalog };
  const exports = componentExports(definition, manifest, imports);

  const meta = exports.plugin.describe();
  const problems = [];
  if (meta.name === '') problems.push('describe(): empty name');
  if (meta.extensionPoint !== definition.point) problems.push(`describe(): extension point ${meta.extensionPoint}`);
  try {
    JSON.parse(meta.configSchema);
  } catch (e) {
    problems.push(`describe(): the config schema is not JSON: ${e.message}`);
  }
  out(`${meta.name} ${meta.version} (${definition.point}, mercato:plugin@${world.contract}/${world.world})`);
  for (const p of problems) out(`  FAIL  ${p}`);

  let passed = 0;
  let failed = problems.length;
  for (const fixture of loadFixtures(manifest.dir)) {
    logs = [];
    const configText = JSON.stringify(fixture.config);
    let actual; // {ok: json} | {err: {code, message}}
    try {
      let wire;
      try {
        wire = point.toWire(fixture.input);
      } catch (e) {
        // The configuration is read first, as the runtime does.
        let config = parseConfig(configText, definition.configSchema);
        if (definition.loadConfig) config = definition.loadConfig(config);
        throw e;
      }
      if (definition.point === 'recommendations') catalog = new CatalogData(wire.catalog);
      const result = await point.call(exports, configText, wire);
      if (result.tag === 'err') actual = { err: result.val };
      else actual = { ok: point.toJson(result.val, wire) };
    } catch (e) {
      if (!isPluginError(e)) throw e;
      actual = { err: { code: e.code, message: e.message } };
    }
    const code = expectedError(fixture.expected);
    let failure;
    if (code !== undefined) {
      if (actual.ok !== undefined) failure = [`expected error ${code}, got output`, indent(stringify(actual.ok), '    ')];
      else if (actual.err.code !== code) failure = [`wrong error code: expected ${code}, got ${actual.err.code} (${actual.err.message})`];
    } else if (actual.err) {
      failure = [`expected output, got error ${actual.err.code}: ${actual.err.message}`];
    } else {
      const diff = differences(fixture.expected, actual.ok);
      if (diff.length > 0) {
        failure = [
          'output differs',
          ...diff.map((d) => `  ${d}`),
          '--- expected',
          indent(stringify(fixture.expected), '  '),
          '--- actual',
          indent(stringify(actual.ok), '  '),
        ];
      }
    }
    if (failure) {
      failed += 1;
      out(`  FAIL  ${fixture.name}`);
      for (const line of failure) out(indent(line, '        '));
      if (logs.length) out(indent(`log:\n${logs.join('\n')}`, '        '));
    } else {
      passed += 1;
      out(`  ok    ${fixture.name}${actual.err ? ` (error ${actual.err.code})` : ''}`);
      if (verbose && logs.length) out(indent(logs.join('\n'), '        '));
    }
  }
  return { passed, failed };
}

/** `node fixtures.mjs [--verbose] <plugin-dir>...`; returns the exit code. */
export async function main(argv) {
  const verbose = argv.includes('--verbose') || argv.includes('-v');
  const dirs = argv.filter((a) => !a.startsWith('-'));
  if (dirs.length === 0 || argv.includes('--help') || argv.includes('-h')) {
    console.error('usage: node sdk/js/fixtures.mjs [--verbose] <plugin-dir>...\n\nRuns each plugin\'s fixtures/<case>.{input,config,expected}.json natively in Node.js.');
    return 2;
  }
  let passed = 0;
  let failed = 0;
  for (const dir of dirs) {
    try {
      const r = await runPlugin(dir, { verbose });
      passed += r.passed;
      failed += r.failed;
    } catch (e) {
      failed += 1;
      console.log(`${basename(dir)}: FAIL ${e instanceof Error ? e.stack || e.message : String(e)}`);
    }
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}
