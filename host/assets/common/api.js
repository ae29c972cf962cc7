// The one way the storefront and the console talk to Mercato: the public
// HTTP API, with the key in the Authorization header (never in a URL),
// an Idempotency-Key on every write, and problem+json errors turned into
// ApiError (status, code, detail, and per-field `errors`).

/** A refused request: the API's problem+json, or a network failure (status 0). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `request failed (${status})`);
    this.status = status;
    this.code = problem.code || (status === 0 ? "network_error" : "error");
    this.title = problem.title || "";
    /** field path -> message, for validation failures */
    this.errors = problem.errors || {};
  }
}

/** A fresh idempotency key for one logical write (reuse it to retry that write). */
export function idempotencyKey() {
  return crypto.randomUUID();
}

/**
 * A client for one key. `headers` adds headers to every request (for example
 * `X-Customer-Token`), read at each call so it can change.
 */
export function client(key, headers = () => ({})) {
  async function request(method, path, { body, query, idempotency, extraHeaders, raw } = {}) {
    let url = path;
    if (query) {
      const params = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) {
        if (v !== undefined && v !== null && v !== "") params.set(k, v);
      }
      const s = params.toString();
      if (s) url += (url.includes("?") ? "&" : "?") + s;
    }
    const h = { Accept: "application/json, application/problem+json", ...headers(), ...extraHeaders };
    if (key) h.Authorization = `Bearer ${key}`;
    if (method !== "GET" && method !== "HEAD") h["Idempotency-Key"] = idempotency || idempotencyKey();
    let payload;
    if (raw !== undefined) {
      payload = raw;
    } else if (body !== undefined) {
      h["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(url, { method, headers: h, body: payload, credentials: "omit", cache: "no-store" });
    } catch (e) {
      throw new ApiError(0, { detail: "The server could not be reached. Check your connection and try again." });
    }
    const type = res.headers.get("content-type") || "";
    const data = res.status === 204 ? null : type.includes("json") ? await res.json() : await res.text();
    if (!res.ok) throw new ApiError(res.status, typeof data === "object" && data ? data : { detail: String(data) });
    return data;
  }
  return {
    get: (path, query) => request("GET", path, { query }),
    post: (path, body, opts = {}) => request("POST", path, { body, ...opts }),
    put: (path, body, opts = {}) => request("PUT", path, { body, ...opts }),
    patch: (path, body, opts = {}) => request("PATCH", path, { body, ...opts }),
    del: (path, opts = {}) => request("DELETE", path, opts),
    request,
  };
}

const EXPONENTS = { JPY: 0, KRW: 0, VND: 0, CLP: 0, ISK: 0, UGX: 0, XAF: 0, XOF: 0, BHD: 3, JOD: 3, KWD: 3, OMR: 3, TND: 3 };

/** The ISO 4217 exponent of a currency (2 unless listed). */
export function exponent(currency) {
  return EXPONENTS[currency] ?? 2;
}

/** `{amount, currency}` (minor units) as text in the browser's locale. */
export function formatMoney(money, locale) {
  if (!money) return "";
  const e = exponent(money.currency);
  return new Intl.NumberFormat(locale, {
    style: "currency",
    currency: money.currency,
    minimumFractionDigits: e,
    maximumFractionDigits: e,
  }).format(money.amount / 10 ** e);
}

/** Decimal text ("12.50") as minor units, or null when it is not a price in this currency. */
export function parseMoney(text, currency) {
  const e = exponent(currency);
  const m = String(text).trim().match(e ? new RegExp(`^(\\d+)(?:[.,](\\d{1,${e}}))?$`) : /^(\d+)$/);
  if (!m) return null;
  return Number(m[1]) * 10 ** e + Number((m[2] || "").padEnd(e, "0") || 0);
}

/**
 * Shows an error on a form: each `errors` entry at the field whose `name`
 * (or `data-field`) matches the path or its last part, and the rest in the
 * form's `[role=alert]` summary. Returns whether any field was marked.
 */
export function showFormErrors(form, error) {
  clearFormErrors(form);
  let marked = false;
  const rest = [];
  for (const [path, message] of Object.entries(error.errors || {})) {
    const field = findField(form, path);
    if (field) {
      markField(field, message);
      marked = true;
    } else {
      rest.push(`${path}: ${message}`);
    }
  }
  const summary = form.querySelector("[role=alert]");
  if (summary) {
    summary.textContent = [error.message, ...rest].filter(Boolean).join(" — ");
    summary.hidden = false;
  }
  const first = form.querySelector("[aria-invalid=true]");
  if (first) first.focus();
  return marked;
}

function findField(form, path) {
  const candidates = [path, path.replace(/^.*?\.config\./, ""), path.split(/[./]/).pop()];
  for (const name of candidates) {
    const field = form.querySelector(`[name="${CSS.escape(name)}"], [data-field="${CSS.escape(name)}"]`);
    if (field) return field;
  }
  return null;
}

/** Marks one field invalid with a message read by screen readers. */
export function markField(field, message) {
  field.setAttribute("aria-invalid", "true");
  const id = `${field.id || field.name || "field"}-error`;
  let note = field.ownerDocument.getElementById(id);
  if (!note) {
    note = field.ownerDocument.createElement("p");
    note.id = id;
    note.className = "field-error";
    field.insertAdjacentElement("afterend", note);
  }
  note.textContent = message;
  field.setAttribute("aria-describedby", id);
}

/** Removes every error shown on a form. */
export function clearFormErrors(form) {
  for (const f of form.querySelectorAll("[aria-invalid=true]")) {
    f.removeAttribute("aria-invalid");
    f.removeAttribute("aria-describedby");
  }
  for (const n of form.querySelectorAll(".field-error")) n.remove();
  const summary = form.querySelector("[role=alert]");
  if (summary) {
    summary.textContent = "";
    summary.hidden = true;
  }
}

/** Builds an element: h("a", {href: "#"}, "text", child). No innerHTML anywhere. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}
