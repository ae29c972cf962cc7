// What a built component imports and how much linear memory it starts
// with, read from its binary; and the host's sandbox policy on imports.

/** What every plugin may import (the host's install check). */
export const COMMON_IMPORTS = Object.freeze([
  'mercato:plugin/types',
  'mercato:plugin/log',
  'wasi:cli/environment',
  'wasi:cli/exit',
  'wasi:cli/stdin',
  'wasi:cli/stdout',
  'wasi:cli/stderr',
  'wasi:cli/terminal-input',
  'wasi:cli/terminal-output',
  'wasi:cli/terminal-stdin',
  'wasi:cli/terminal-stdout',
  'wasi:cli/terminal-stderr',
  'wasi:io/error',
  'wasi:io/poll',
  'wasi:io/streams',
  'wasi:clocks/wall-clock',
  'wasi:clocks/monotonic-clock',
  'wasi:random/random',
  'wasi:random/insecure',
  'wasi:random/insecure-seed',
]);

/** Imports one extension point adds to the common set. */
export const EXTRA_IMPORTS = Object.freeze({
  payment: Object.freeze(['wasi:http/types', 'wasi:http/outgoing-handler']),
  recommendations: Object.freeze(['mercato:plugin/catalog']),
});

/**
 * Whether a component of `point` speaking mercato:plugin@`contract` may
 * import `name` (`ns:pkg/iface@version`).
 */
export function importAllowed(point, contract, name) {
  const at = name.indexOf('@');
  const base = at < 0 ? name : name.slice(0, at);
  const version = at < 0 ? undefined : name.slice(at + 1);
  const listed = COMMON_IMPORTS.includes(base) || (EXTRA_IMPORTS[point] || []).includes(base);
  if (!listed || version === undefined) return false;
  return base.startsWith('mercato:') ? version === contract : version.startsWith('0.2.');
}

function leb(b, p) {
  let result = 0;
  let shift = 0;
  let byte;
  do {
    byte = b[p++];
    result += (byte & 0x7f) * 2 ** shift;
    shift += 7;
  } while (byte & 0x80);
  return [result, p];
}

function name(b, p) {
  let len;
  [len, p] = leb(b, p);
  return [new TextDecoder().decode(b.subarray(p, p + len)), p + len];
}

function limits(b, p) {
  const flags = b[p++];
  let min;
  let max;
  [min, p] = leb(b, p);
  if (flags & 1) [max, p] = leb(b, p);
  return [{ min, max }, p];
}

/** The memories a core module defines and imports. */
function coreMemories(b, start, end, out) {
  let p = start + 8;
  while (p < end) {
    const id = b[p++];
    let size;
    [size, p] = leb(b, p);
    const next = p + size;
    if (id === 2) {
      let n;
      [n, p] = leb(b, p);
      for (let i = 0; i < n; i++) {
        let module;
        let field;
        [module, p] = name(b, p);
        [field, p] = name(b, p);
        const kind = b[p++];
        if (kind === 0) [, p] = leb(b, p);
        else if (kind === 1) {
          p++;
          [, p] = limits(b, p);
        } else if (kind === 2) {
          let l;
          [l, p] = limits(b, p);
          out.push({ imported: `${module}.${field}`, minPages: l.min });
        } else if (kind === 3) p += 2;
        else if (kind === 4) {
          p++;
          [, p] = leb(b, p);
        }
      }
    } else if (id === 5) {
      let n;
      [n, p] = leb(b, p);
      for (let i = 0; i < n; i++) {
        let l;
        [l, p] = limits(b, p);
        out.push({ minPages: l.min, maxPages: l.max });
      }
    }
    p = next;
  }
}

function walk(b, start, end, top, result) {
  let p = start + 8;
  while (p < end) {
    const id = b[p++];
    let size;
    [size, p] = leb(b, p);
    const next = p + size;
    if (id === 1) coreMemories(b, p, next, result.memories);
    else if (id === 4) walk(b, p, next, false, result);
    else if (id === 10 && top) {
      let n;
      [n, p] = leb(b, p);
      for (let i = 0; i < n; i++) {
        const form = b[p++];
        let importName;
        [importName, p] = name(b, p);
        if (form === 0x01) [, p] = name(b, p); // a version suffix
        result.imports.push(importName);
        const kind = b[p++];
        if (kind === 0x00) {
          p++;
          [, p] = leb(b, p);
        } else if (kind === 0x02 || kind === 0x03) {
          const sub = b[p++];
          if (!(kind === 0x03 && sub === 0x01)) [, p] = leb(b, p);
        } else {
          [, p] = leb(b, p);
        }
      }
    }
    p = next;
  }
}

/**
 * Reads a component binary.
 * @param {Uint8Array} bytes
 * @returns {{size: number, imports: string[], memories: Array<{minPages: number, maxPages?: number, imported?: string}>, initialMemoryBytes: number}}
 */
export function inspectComponent(bytes) {
  const b = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const isComponent = b.length >= 8 && b[0] === 0 && b[1] === 0x61 && b[2] === 0x73 && b[3] === 0x6d && b[6] === 1 && b[7] === 0;
  if (!isComponent) throw new Error('not a WebAssembly component');
  const result = { size: b.length, imports: [], memories: [] };
  walk(b, 0, b.length, true, result);
  const defined = result.memories.filter((m) => !m.imported);
  result.initialMemoryBytes = defined.reduce((sum, m) => sum + m.minPages * 65536, 0);
  return result;
}
