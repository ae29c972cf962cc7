// A plugin directory: its package.json (name, version, description, main).

import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/**
 * Reads `<dir>/package.json`: the plugin's name, version and description
 * (its metadata, as Cargo.toml is a Rust plugin's) and its module (`main`,
 * default `index.js`).
 * @param {string} dir
 * @returns {{dir: string, name: string, version: string, description: string, main: string}}
 */
export function readManifest(dir) {
  const root = resolve(dir);
  const path = join(root, 'package.json');
  let pkg;
  try {
    pkg = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`cannot read ${path}: ${e.message}`);
  }
  for (const field of ['name', 'version']) {
    if (typeof pkg[field] !== 'string' || pkg[field] === '') throw new Error(`${path} needs a "${field}"`);
  }
  if (pkg.type !== 'module') throw new Error(`${path} needs "type": "module" (plugins are ES modules)`);
  return {
    dir: root,
    name: pkg.name,
    version: pkg.version,
    description: typeof pkg.description === 'string' ? pkg.description : '',
    main: join(root, typeof pkg.main === 'string' ? pkg.main : 'index.js'),
  };
}
