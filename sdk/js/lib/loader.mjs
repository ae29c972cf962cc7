// Module resolution for running a plugin natively in Node.js (the fixture
// runner and the build's look at the plugin): `mercato-plugin-sdk` is this
// SDK, and the component's host imports (`mercato:plugin/log@…`,
// `mercato:plugin/catalog@…`) are stand-ins that call whatever the runner
// put in `globalThis.__mercatoStandIns`.

const SDK = new URL('../index.js', import.meta.url).href;
const SCHEME = 'mercato-stand-in:';

/** The functions each host interface exports, by interface name. */
const INTERFACES = {
  log: ['log'],
  catalog: ['getProduct', 'boughtTogether', 'bestsellers'],
  types: [],
};

export async function resolve(specifier, context, next) {
  if (specifier === 'mercato-plugin-sdk') return { url: SDK, shortCircuit: true };
  if (specifier.startsWith('mercato:') || specifier.startsWith('wasi:')) {
    return { url: SCHEME + specifier, shortCircuit: true };
  }
  return next(specifier, context);
}

export async function load(url, context, next) {
  if (!url.startsWith(SCHEME)) return next(url, context);
  const specifier = url.slice(SCHEME.length);
  const m = /^mercato:plugin\/([a-z-]+)(@[0-9.]+)?$/.exec(specifier);
  const names = m ? INTERFACES[m[1]] : undefined;
  if (!names) {
    const source = `throw new Error(${JSON.stringify(`${specifier} has no native stand-in: only mercato:plugin/log and mercato:plugin/catalog run outside the sandbox`)});`;
    return { format: 'module', source, shortCircuit: true };
  }
  const lines = names.map(
    (n) =>
      `export function ${n}(...args) {\n` +
      `  const impl = globalThis.__mercatoStandIns?.[${JSON.stringify(m[1])}]?.${n};\n` +
      `  if (typeof impl !== 'function') throw new Error(${JSON.stringify(`no stand-in for ${specifier} ${n}`)});\n` +
      `  return impl(...args);\n}`,
  );
  return { format: 'module', source: lines.join('\n'), shortCircuit: true };
}
