#!/usr/bin/env node
// Builds a JavaScript plugin into a WebAssembly component:
//
//   node sdk/js/build.mjs <plugin-dir> [-o <out.wasm>] [--toolchain <dir>] [--wit <dir>]
//
// 1. reads <plugin-dir>/package.json (name, version, description, main) and
//    loads the plugin natively to learn its extension point;
// 2. writes an entry module that imports the host's interfaces
//    (`mercato:plugin/log@<contract>`, and the catalog for recommenders)
//    and exports the component's interfaces through the SDK's glue;
// 3. bundles entry, plugin and SDK into one ES module (rolldown);
// 4. componentizes it against the world (componentize-js, every WASI
//    feature disabled: the component imports only its world's interfaces);
// 5. checks the component's imports against the host's sandbox policy and
//    prints its size, imports and initial linear memory.
//
// Test-only: with `"mercato": {"keepWasi": true}` in package.json, step 4
// disables no engine feature (the component imports WASI interfaces its
// world does not allow) and step 5 warns instead of failing, so the host's
// install check can be tested against such a component
// (tests/components/hostile-js-imports).
//
// Defaults: the output is <repo>/target/plugins/<dir-name>.wasm, the
// toolchain <repo>/target/toolchains/js (installed from sdk/js's
// package-lock.json with `npm ci`), the WIT <repo>/wit; <repo> is two
// levels above this file. MERCATO_JS_TOOLCHAIN and MERCATO_WIT override
// the last two.

import { register } from 'node:module';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

register('./lib/loader.mjs', import.meta.url);

const SDK_DIR = dirname(fileURLToPath(import.meta.url));

/** Engine features left out: every WASI feature, so a component imports only its world. */
const ALL_DISABLED = ['stdio', 'random', 'clocks', 'http', 'fetch-event'];
/** Payment plugins keep `fetch` (wasi:http, which their world imports). */
const PAYMENT_DISABLED = ['stdio', 'random', 'clocks', 'fetch-event'];
/** Test-only (`"mercato": {"keepWasi": true}`): every engine feature kept. */
const NONE_DISABLED = [];
const REPO = resolve(SDK_DIR, '..', '..');

const { loadPlugin } = await import('./lib/runner.js');
const { WORLDS } = await import('./lib/plugin.js');
const { inspectComponent, importAllowed } = await import('./lib/inspect.js');

function usage(message) {
  if (message) console.error(message);
  console.error('usage: node sdk/js/build.mjs <plugin-dir> [-o <out.wasm>] [--toolchain <dir>] [--wit <dir>]');
  process.exit(2);
}

function parseArgs(argv) {
  const opts = {
    toolchain: process.env.MERCATO_JS_TOOLCHAIN || join(REPO, 'target', 'toolchains', 'js'),
    wit: process.env.MERCATO_WIT || join(REPO, 'wit'),
  };
  const rest = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      return argv[++i];
    };
    if (a === '-o' || a === '--out') opts.out = value();
    else if (a === '--toolchain') opts.toolchain = value();
    else if (a === '--wit') opts.wit = value();
    else if (a === '-h' || a === '--help') usage();
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else rest.push(a);
  }
  if (rest.length !== 1) usage();
  opts.dir = resolve(rest[0]);
  opts.out = resolve(opts.out ?? join(REPO, 'target', 'plugins', `${basename(opts.dir)}.wasm`));
  opts.toolchain = resolve(opts.toolchain);
  opts.wit = resolve(opts.wit);
  return opts;
}

/** Imports package `pkg` from the toolchain's node_modules. */
async function importFrom(toolchain, pkg, entry) {
  const root = join(toolchain, 'node_modules', pkg);
  const manifest = join(root, 'package.json');
  if (!existsSync(manifest)) {
    throw new Error(`${pkg} is not installed in ${toolchain}: install the toolchain with\n  mkdir -p ${toolchain} && cp ${join(SDK_DIR, 'package.json')} ${join(SDK_DIR, 'package-lock.json')} ${toolchain}/ && npm ci --prefix ${toolchain}`);
  }
  let file = entry;
  if (!file) {
    const { exports, module, main } = JSON.parse(readFileSync(manifest, 'utf8'));
    // The "." export under the import (or default) condition.
    const pick = (e) => (typeof e === 'string' || e == null ? e : pick(e.import ?? e.default ?? e.node));
    const dot = exports && typeof exports === 'object' && '.' in exports ? exports['.'] : exports;
    file = pick(dot) ?? module ?? main ?? 'index.js';
  }
  return import(pathToFileURL(join(root, file)).href);
}

/**
 * Whether `<dir>/package.json` asks, for a test component, to keep the
 * engine's WASI features: `"mercato": {"keepWasi": true}`.
 */
function keepWasi(dir) {
  const path = join(dir, 'package.json');
  const { mercato } = JSON.parse(readFileSync(path, 'utf8'));
  if (mercato === undefined) return false;
  if (mercato === null || typeof mercato !== 'object' || Array.isArray(mercato)) {
    throw new Error(`${path}: "mercato" must be an object`);
  }
  const keep = mercato.keepWasi ?? false;
  if (typeof keep !== 'boolean') throw new Error(`${path}: "mercato.keepWasi" must be true or false`);
  return keep;
}

/** The entry module: host imports in, the world's interfaces out. */
function entrySource(definition, manifest, world) {
  const meta = { name: manifest.name, version: manifest.version, description: manifest.description };
  const lines = [
    `import { log } from 'mercato:plugin/log@${world.contract}';`,
    `import { componentExports, consoleToLog } from ${JSON.stringify(join(SDK_DIR, 'lib', 'plugin.js'))};`,
    `import definition from ${JSON.stringify(manifest.main)};`,
  ];
  let catalog = 'undefined';
  if (definition.point === 'recommendations') {
    lines.push(`import { getProduct, boughtTogether, bestsellers } from 'mercato:plugin/catalog@${world.contract}';`);
    catalog = '{ getProduct, boughtTogether, bestsellers }';
  }
  lines.push(
    '// There is no standard output in the sandbox: console.* goes to the host\'s log.',
    'globalThis.console = consoleToLog(log);',
    `const exported = componentExports(definition, ${JSON.stringify(meta)}, { log, catalog: ${catalog} });`,
    'export const plugin = exported.plugin;',
    `export const ${world.interface} = exported.${world.interface};`,
    '',
  );
  return lines.join('\n');
}

async function build(opts) {
  const started = Date.now();
  const { manifest, definition } = await loadPlugin(opts.dir);
  const keep = keepWasi(manifest.dir);
  const world = WORLDS[definition.point];
  const witDir = join(opts.wit, `v${world.contract}`);
  if (!existsSync(witDir)) throw new Error(`no WIT for mercato:plugin@${world.contract} at ${witDir}`);

  const work = mkdtempSync(join(tmpdir(), 'mercato-js-build-'));
  try {
    const entry = join(work, 'entry.js');
    writeFileSync(entry, entrySource(definition, manifest, world));

    const { rolldown } = await importFrom(opts.toolchain, 'rolldown');
    const bundler = await rolldown({
      input: entry,
      cwd: manifest.dir,
      platform: 'neutral',
      external: [/^mercato:/, /^wasi:/],
      resolve: { alias: { 'mercato-plugin-sdk': join(SDK_DIR, 'index.js') } },
      logLevel: 'warn',
    });
    const bundle = join(work, 'bundle.js');
    await bundler.write({ file: bundle, format: 'esm', comments: false });
    await bundler.close();

    const { componentize } = await importFrom(opts.toolchain, '@bytecodealliance/componentize-js');
    // componentize-js maps the current directory into the build sandbox when
    // the source lies inside it; build from the work directory so the
    // result does not depend on where the command was started.
    const cwd = process.cwd();
    process.chdir(work);
    let component;
    try {
      ({ component } = await componentize({
        sourcePath: bundle,
        witPath: witDir,
        worldName: `mercato:plugin/${world.world}@${world.contract}`,
        disableFeatures: keep ? NONE_DISABLED : definition.point === 'payment' ? PAYMENT_DISABLED : ALL_DISABLED,
      }));
    } finally {
      process.chdir(cwd);
    }

    const info = inspectComponent(component);
    const forbidden = info.imports.filter((i) => !importAllowed(definition.point, world.contract, i));
    if (forbidden.length && !keep) {
      throw new Error(`the component imports what the host refuses for a ${definition.point} plugin: ${forbidden.join(', ')}`);
    }
    mkdirSync(dirname(opts.out), { recursive: true });
    writeFileSync(opts.out, component);
    const mib = (n) => `${(n / (1 << 20)).toFixed(2)} MiB`;
    console.log(`built ${opts.out}`);
    console.log(`  plugin:   ${manifest.name} ${manifest.version} (${definition.point}, mercato:plugin/${world.world}@${world.contract})`);
    console.log(`  size:     ${info.size} bytes (${mib(info.size)})`);
    console.log(`  imports:  ${info.imports.join(', ') || '(none)'}`);
    console.log(`  memory:   ${info.initialMemoryBytes} bytes initial (${mib(info.initialMemoryBytes)})`);
    console.log(`  time:     ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (keep) {
      console.warn(`warning: built with "mercato": {"keepWasi": true} (test-only): every WASI feature of the engine is kept`);
      if (forbidden.length) {
        console.warn(`warning: this component will be refused at install: it imports what the host refuses for a ${definition.point} plugin: ${forbidden.join(', ')}`);
      } else {
        console.warn('warning: keepWasi is set, yet the component imports nothing the host refuses');
      }
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

try {
  await build(parseArgs(process.argv.slice(2)));
} catch (e) {
  console.error(`build failed: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
}
