// The storefront's state: the shop's config (from the page's
// <meta name="mercato-config">), the store API client with the shop's
// publishable key, the customer session, the cart and guest order tokens.
//
// Where things live: the customer token in sessionStorage (gone with the
// tab), the cart id in localStorage per shop, guest order access tokens in
// localStorage per shop keyed by order id. None of them ever goes in a URL
// or to the console.

import { client, ApiError } from "../common/api.js";

function readConfig() {
  const meta = document.querySelector('meta[name="mercato-config"]');
  if (!meta) return null;
  try {
    const cfg = JSON.parse(meta.getAttribute("content"));
    return cfg && cfg.slug && cfg.publishable_key ? cfg : null;
  } catch {
    return null;
  }
}

/** {slug, name, currency, country, publishable_key}, or null when the page has none. */
export const config = readConfig();

const bus = new EventTarget();
/** Listens to a storefront event: `cart`, `session`, `unavailable`, `notify`. */
export function on(name, fn) {
  bus.addEventListener(name, (e) => fn(e.detail));
}
export function emit(name, detail) {
  bus.dispatchEvent(new CustomEvent(name, { detail }));
}
/** A short message in the page's polite live region. */
export function notify(message) {
  emit("notify", message);
}

// ---- storage (a browser may refuse it: then state lasts as long as the page)

const memory = new Map();
const ns = (key) => `mercato:${config ? config.slug : "-"}:${key}`;
function read(storage, key) {
  try {
    const v = storage.getItem(ns(key));
    return v === null ? null : JSON.parse(v);
  } catch {
    return memory.has(key) ? memory.get(key) : null;
  }
}
function write(storage, key, value) {
  try {
    if (value === null || value === undefined) storage.removeItem(ns(key));
    else storage.setItem(ns(key), JSON.stringify(value));
  } catch {
    memory.set(key, value);
  }
}

// ---- the customer session

export const session = {
  /** {token, customer} while logged in. */
  get() {
    return read(sessionStorage, "session");
  },
  get token() {
    return this.get()?.token || null;
  },
  get customer() {
    return this.get()?.customer || null;
  },
  set(token, customer) {
    write(sessionStorage, "session", { token, customer });
    emit("session", customer);
  },
  clear() {
    write(sessionStorage, "session", null);
    emit("session", null);
  },
};

// ---- the API, with the shop unavailable on a refused key

let unavailable = false;
/** Whether the API refused the shop's key (401/403). */
export const isUnavailable = () => unavailable;

const raw = client(config ? config.publishable_key : null, () => {
  const token = session.token;
  return token ? { "X-Customer-Token": token } : {};
});

const STORE = "/v1/store";

/**
 * One store API call (`path` below /v1/store). A 401 about the customer
 * token ends the session (and a call that does not need it is retried as a
 * guest); any other 401/403 means the shop's key is refused.
 */
async function call(method, path, opts = {}) {
  try {
    return await raw.request(method, STORE + path, opts);
  } catch (e) {
    if (!(e instanceof ApiError)) throw e;
    if (e.status === 401 && /customer|X-Customer-Token/i.test(e.message)) {
      if (session.token) {
        session.clear();
        notify("Your session has ended. Please log in again.");
        if (!path.startsWith("/customers/me")) return call(method, path, opts);
      }
      throw e;
    }
    // The key itself refused (not, say, a wrong password: `invalid_credentials`).
    if ((e.status === 401 && e.code === "unauthorized") || (e.status === 403 && e.code === "forbidden")) {
      unavailable = true;
      emit("unavailable", e);
    }
    throw e;
  }
}

export const api = {
  get: (path, query, extraHeaders) => call("GET", path, { query, extraHeaders }),
  post: (path, body, opts = {}) => call("POST", path, { body, ...opts }),
  put: (path, body, opts = {}) => call("PUT", path, { body, ...opts }),
  patch: (path, body, opts = {}) => call("PATCH", path, { body, ...opts }),
  del: (path, opts = {}) => call("DELETE", path, opts),
};

// ---- categories (fetched once; the shop works without them)

let categoriesPromise = null;
/** The shop's categories, or [] when the endpoint fails. */
export function categories() {
  if (!categoriesPromise) {
    categoriesPromise = api
      .get("/categories", { limit: 100 })
      .then((page) => (page && Array.isArray(page.data) ? page.data : []))
      .catch(() => []);
  }
  return categoriesPromise;
}

// ---- the cart

const enc = encodeURIComponent;
const lineCount = (c) => (c ? c.lines.reduce((n, l) => n + l.quantity, 0) : 0);

export const cart = {
  /** The last cart the API answered, if any this page load. */
  current: null,
  get id() {
    return read(localStorage, "cart")?.id || null;
  },
  /** Units in the cart, as last known (also across page loads). */
  get count() {
    return read(localStorage, "cart")?.count || 0;
  },
  /** Keeps what a write answered; a completed cart is forgotten. */
  set(c) {
    this.current = c;
    if (!c || c.status === "completed") write(localStorage, "cart", null);
    else write(localStorage, "cart", { id: c.id, count: lineCount(c) });
    emit("cart", c && c.status !== "completed" ? c : null);
    return c;
  },
  forget() {
    this.current = null;
    write(localStorage, "cart", null);
    emit("cart", null);
  },
  /** The cart from the API; null when there is none (or it is gone). */
  async load() {
    const id = this.id;
    if (!id) return null;
    try {
      return this.set(await api.get(`/carts/${enc(id)}`));
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        this.forget();
        return null;
      }
      throw e;
    }
  },
  /** Adds units of a variant: a new cart with its first line in one request, or a line. */
  async add(variantId, quantity) {
    const line = { variant_id: variantId, quantity };
    const id = this.id;
    if (id) {
      try {
        return this.set(await api.post(`/carts/${enc(id)}/lines`, line));
      } catch (e) {
        const gone = e instanceof ApiError && (e.status === 404 || e.code === "cart_not_open");
        if (!gone) throw e;
        this.forget();
      }
    }
    return this.set(await api.post("/carts", { lines: [line] }));
  },
  path(suffix = "") {
    return `/carts/${enc(this.id)}${suffix}`;
  },
};

/** Gives the guest cart (if any) to the customer who just logged in. */
export async function claimCart() {
  if (!cart.id) return;
  try {
    cart.set(await api.post(cart.path("/customer")));
  } catch (e) {
    // Another customer's cart, or one already ordered: start afresh.
    if (e instanceof ApiError && (e.status === 404 || e.status === 409)) cart.forget();
  }
}

// ---- guest order access tokens

export const orderTokens = {
  get(orderId) {
    return (read(localStorage, "orders") || {})[orderId] || null;
  },
  set(orderId, token) {
    const all = read(localStorage, "orders") || {};
    all[orderId] = token;
    // Keeps the 50 latest.
    const keys = Object.keys(all);
    for (const k of keys.slice(0, Math.max(0, keys.length - 50))) delete all[k];
    write(localStorage, "orders", all);
  },
};

/** The order page's address, for a payment provider to send the buyer back to. */
export function orderPageUrl(orderId) {
  return `${location.origin}/shop/${enc(config.slug)}#/orders/${enc(orderId)}`;
}
