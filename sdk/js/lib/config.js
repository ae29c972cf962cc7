// Merchant configuration: JSON checked against the plugin's JSON Schema.
//
// Every call gets the merchant's configuration as a JSON string. The SDK
// parses it (an empty string counts as `{}`), checks it against the schema
// the plugin declares in its metadata (`config-schema`), fills in the
// `default` of every missing property, and hands the result to the plugin's
// `loadConfig` (if any) for checks a schema cannot express. Any failure is a
// PluginError `invalid_config`.

import { PluginError } from './errors.js';

/**
 * The JSON Schema keywords the SDK checks. Other keywords (`title`,
 * `description`, `examples`, `$schema`, `$comment`, `format`, `default`, …)
 * are annotations for people and tools.
 */
export const CHECKED_KEYWORDS = Object.freeze([
  'type', 'enum', 'const', 'properties', 'required', 'additionalProperties',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'pattern', 'items', 'minItems', 'maxItems',
  'uniqueItems', 'anyOf', 'oneOf', 'allOf', 'not',
]);

function typeOf(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value; // string, boolean, object
}

function hasType(value, type) {
  const actual = typeOf(value);
  if (type === 'number') return actual === 'number' || actual === 'integer';
  return actual === type;
}

function equal(a, b) {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) return a.length === b.length && a.every((x, i) => equal(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return ka.length === kb.length && ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && equal(a[k], b[k]));
}

function show(value) {
  return JSON.stringify(value);
}

function where(path) {
  return path === '' ? 'the configuration' : path;
}

const patterns = new Map();
function regex(pattern) {
  let re = patterns.get(pattern);
  if (!re) {
    re = new RegExp(pattern, 'u');
    patterns.set(pattern, re);
  }
  return re;
}

/**
 * Checks `value` against `schema` and returns it with the defaults of
 * missing object properties filled in (a copy; `value` is not changed).
 * @param {object|boolean} schema a JSON Schema (the keywords in {@link CHECKED_KEYWORDS})
 * @param {unknown} value parsed JSON
 * @param {string} [path] where `value` is, for messages
 * @returns {unknown}
 * @throws {PluginError} `invalid_config`, naming the first problem
 */
export function validate(schema, value, path = '') {
  const fail = (message) => {
    throw PluginError.invalidConfig(path === '' ? message : `${path}: ${message}`);
  };
  if (schema === true || schema === undefined) return value;
  if (schema === false) fail('is not allowed');
  if (typeof value === 'number' && Number.isInteger(value) && !Number.isSafeInteger(value)) {
    fail(`${value} is out of the exact integer range (±9007199254740991)`);
  }
  if (schema.type !== undefined) {
    const types = Array.isArray(schema.type) ? schema.type : [schema.type];
    if (!types.some((t) => hasType(value, t))) fail(`expected ${types.join(' or ')}, got ${typeOf(value)} ${show(value)}`);
  }
  if (schema.enum !== undefined && !schema.enum.some((v) => equal(v, value))) {
    fail(`${show(value)} is not one of ${schema.enum.map(show).join(', ')}`);
  }
  if (schema.const !== undefined && !equal(schema.const, value)) fail(`must be ${show(schema.const)}`);
  let out = value;
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum) fail(`${value} is less than the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum) fail(`${value} is more than the maximum ${schema.maximum}`);
    if (schema.exclusiveMinimum !== undefined && value <= schema.exclusiveMinimum) fail(`${value} must be more than ${schema.exclusiveMinimum}`);
    if (schema.exclusiveMaximum !== undefined && value >= schema.exclusiveMaximum) fail(`${value} must be less than ${schema.exclusiveMaximum}`);
    if (schema.multipleOf !== undefined && !Number.isInteger(value / schema.multipleOf)) fail(`${value} is not a multiple of ${schema.multipleOf}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength) fail(`must be at least ${schema.minLength} characters long`);
    if (schema.maxLength !== undefined && length > schema.maxLength) fail(`must be at most ${schema.maxLength} characters long`);
    if (schema.pattern !== undefined && !regex(schema.pattern).test(value)) fail(`${show(value)} does not match ${schema.pattern}`);
  }
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) fail(`must have at least ${schema.minItems} item(s)`);
    if (schema.maxItems !== undefined && value.length > schema.maxItems) fail(`must have at most ${schema.maxItems} item(s)`);
    if (schema.uniqueItems && value.some((v, i) => value.findIndex((w) => equal(v, w)) !== i)) fail('items must be unique');
    if (schema.items !== undefined) out = value.map((v, i) => validate(schema.items, v, `${path}[${i}]`));
  }
  if (typeOf(value) === 'object') {
    const props = schema.properties || {};
    for (const name of schema.required || []) {
      if (!Object.prototype.hasOwnProperty.call(value, name)) fail(`missing required property ${show(name)}`);
    }
    const result = {};
    for (const [name, v] of Object.entries(value)) {
      const sub = `${path}${path === '' ? '' : '.'}${name}`;
      if (Object.prototype.hasOwnProperty.call(props, name)) {
        result[name] = validate(props[name], v, sub);
      } else if (schema.additionalProperties === false) {
        const known = Object.keys(props);
        fail(`unknown property ${show(name)}${known.length ? ` (expected one of ${known.map(show).join(', ')})` : ''}`);
      } else if (schema.additionalProperties !== undefined) {
        result[name] = validate(schema.additionalProperties, v, sub);
      } else {
        result[name] = v;
      }
    }
    for (const [name, sub] of Object.entries(props)) {
      if (!Object.prototype.hasOwnProperty.call(result, name) && sub && typeof sub === 'object' && sub.default !== undefined) {
        result[name] = structuredCloneJSON(sub.default);
      }
    }
    out = result;
  }
  if (schema.allOf !== undefined) for (const s of schema.allOf) out = validate(s, out, path);
  if (schema.anyOf !== undefined) {
    const passing = schema.anyOf.find((s) => passes(s, out, path));
    if (passing === undefined) fail('does not match any of the allowed forms');
    out = validate(passing, out, path);
  }
  if (schema.oneOf !== undefined) {
    const passing = schema.oneOf.filter((s) => passes(s, out, path));
    if (passing.length !== 1) fail(passing.length === 0 ? 'does not match any of the allowed forms' : 'matches more than one of the allowed forms');
    out = validate(passing[0], out, path);
  }
  if (schema.not !== undefined && passes(schema.not, out, path)) fail('matches a form that is not allowed');
  return out;
}

function passes(schema, value, path) {
  try {
    validate(schema, value, path);
    return true;
  } catch (e) {
    if (e instanceof PluginError) return false;
    throw e;
  }
}

function structuredCloneJSON(v) {
  return v === null || typeof v !== 'object' ? v : JSON.parse(JSON.stringify(v));
}

/**
 * Parses a configuration document the way the runtime does (an empty
 * string counts as `{}`) and checks it against `schema`.
 * @param {string} text the merchant configuration, JSON
 * @param {object|boolean} [schema] JSON Schema; `{"type":"object"}` when unset
 * @returns {any} the parsed configuration, defaults filled in
 * @throws {PluginError} `invalid_config`
 */
export function parseConfig(text, schema = { type: 'object' }) {
  const trimmed = String(text ?? '').trim();
  let value;
  try {
    value = JSON.parse(trimmed === '' ? '{}' : trimmed);
  } catch (e) {
    throw PluginError.invalidConfig(`the configuration is not JSON: ${e.message}`);
  }
  return validate(schema, value);
}

/**
 * The schema as the metadata carries it: a JSON string.
 * @param {object|string|undefined} schema
 */
export function schemaText(schema) {
  if (schema === undefined) return '{"type":"object"}';
  if (typeof schema === 'string') {
    JSON.parse(schema); // must be JSON
    return schema;
  }
  return JSON.stringify(schema);
}
