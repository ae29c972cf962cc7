// Small view helpers shared by the storefront's pages: money, product
// pictures (or a placeholder), status words, and the totals block that the
// cart, the checkout and the order page show alike.

import { h, formatMoney } from "../common/api.js";

export { h };

/** `{amount, currency}` as text in the reader's locale. */
export const money = (m) => formatMoney(m);
/** A discount as a negative amount. */
export const minus = (m) => `−${formatMoney(m)}`;

/** Text for screen readers only. */
export const srOnly = (text) => h("span", { class: "sr-only" }, text);

/** The page's one h1, focusable so a route change can move focus to it. */
export const heading = (text, attrs = {}) => h("h1", { tabindex: "-1", ...attrs }, text);

/** A paragraph for failures, announced. */
export const errorBox = (message) => h("p", { class: "notice notice-error", role: "alert" }, message);

const hash = (s) => [...s].reduce((a, c) => (a * 31 + c.codePointAt(0)) >>> 0, 7);

/**
 * A product's main picture. Only same-origin pictures can show under the
 * page's CSP (`img-src 'self' data:`); anything else gets the placeholder:
 * the product's initials on a tint chosen from its title.
 */
export function picture(product, size = "md") {
  const img = (product.images || [])[0];
  if (img && sameOrigin(img.url)) {
    return h("img", { class: `pic pic-${size}`, src: img.url, alt: img.alt || "", loading: "lazy", decoding: "async" });
  }
  const title = product.title || "";
  const initials = title
    .split(/\s+/)
    .filter((w) => /\p{L}|\p{N}/u.test(w))
    .slice(0, 2)
    .map((w) => w.match(/\p{L}|\p{N}/u)[0].toUpperCase())
    .join("");
  return h(
    "div",
    { class: `pic pic-${size} ph ph-${hash(title) % 6}`, "aria-hidden": "true" },
    h("span", {}, initials || "•"),
  );
}

function sameOrigin(url) {
  try {
    return new URL(url, location.href).origin === location.origin;
  } catch {
    return false;
  }
}

/** The cheapest and dearest variant prices. */
export function priceRange(product) {
  const prices = product.variants.map((v) => v.price);
  if (!prices.length) return "";
  const min = prices.reduce((a, b) => (b.amount < a.amount ? b : a));
  const max = prices.reduce((a, b) => (b.amount > a.amount ? b : a));
  return min.amount === max.amount ? money(min) : `From ${money(min)}`;
}

const STOCK = {
  in_stock: ["In stock", "ok"],
  low: ["Only a few left", "warn"],
  low_stock: ["Only a few left", "warn"],
  out_of_stock: ["Sold out", "bad"],
  backorder: ["Available on backorder", "info"],
};
/** [words, tone] for a variant's stock_status. */
export const stock = (status) => STOCK[status] || ["", "info"];
export const soldOut = (v) => v.stock_status === "out_of_stock";

const WORDS = {
  pending_payment: "Awaiting payment",
  paid: "Paid",
  partially_fulfilled: "Partially shipped",
  fulfilled: "Shipped",
  cancelled: "Cancelled",
  partially_refunded: "Partially refunded",
  refunded: "Refunded",
  pending: "Pending",
  requires_action: "Waiting for your bank",
  authorized: "Authorized",
  failed: "Failed",
  voided: "Voided",
  unfulfilled: "Not shipped yet",
};
const TONES = {
  paid: "ok", fulfilled: "ok", authorized: "ok", partially_fulfilled: "info",
  pending_payment: "warn", pending: "warn", requires_action: "warn", unfulfilled: "muted",
  cancelled: "bad", failed: "bad", voided: "bad", refunded: "muted", partially_refunded: "muted",
};
/** A status as words. */
export const statusText = (s) => WORDS[s] || String(s || "").replace(/_/g, " ");
/** A status as a badge. */
export const badge = (s) => h("span", { class: `badge badge-${TONES[s] || "muted"}` }, statusText(s));

/** "0.0725" as "7.25 %". */
export const percent = (rate) => `${+(Number(rate) * 100).toFixed(3)} %`;

/** A date-time as text in the reader's locale. */
export const when = (iso) => {
  const d = new Date(iso);
  return isNaN(d) ? "" : d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
};

/** Who made an adjustment: the plugin `name@version` and the code it redeems. */
export function source(...parts) {
  const text = parts.filter(Boolean).join(" · ");
  return text ? h("span", { class: "source" }, text) : null;
}

/** A line's adjustments and taxes, small, under the line. */
export function lineDetails(line) {
  const items = [];
  for (const a of line.adjustments || []) {
    items.push(
      h("li", { class: "adj" }, h("span", {}, a.label, " ", h("strong", {}, minus(a.amount))), " ", source(a.code && `code ${a.code}`, a.plugin)),
    );
  }
  for (const t of line.tax_lines || []) {
    items.push(h("li", { class: "tax" }, `${t.label} ${percent(t.rate)}: ${money(t.amount)}`, " ", source(t.jurisdiction)));
  }
  return items.length ? h("ul", { class: "line-details" }, items) : null;
}

function sumBy(list, key) {
  const out = new Map();
  for (const item of list) {
    const k = key(item);
    const prev = out.get(k);
    if (prev) prev.amount = { ...prev.amount, amount: prev.amount.amount + item.amount.amount };
    else out.set(k, { ...item, amount: { ...item.amount } });
  }
  return [...out.values()];
}

/**
 * Subtotal, every discount (label, code and plugin), shipping (carrier,
 * service and plugin), every tax (label, rate, jurisdiction) and the total
 * of a cart or an order. `extra` rows go after the total.
 */
export function totals(doc, { extra = [], shippingHint = "Calculated at checkout" } = {}) {
  const rows = [];
  const row = (cls, label, value, detail) =>
    h("div", { class: `row ${cls}` }, h("dt", {}, label, detail ? [" ", detail] : null), h("dd", {}, value));
  rows.push(row("subtotal", "Subtotal", money(doc.subtotal)));

  const adjustments = sumBy(
    [...doc.lines.flatMap((l) => l.adjustments || []), ...(doc.adjustments || [])],
    (a) => `${a.target}|${a.label}|${a.code || ""}|${a.plugin}`,
  );
  for (const a of adjustments) {
    rows.push(row("discount", a.label, minus(a.amount), source(a.code && `code ${a.code}`, a.plugin)));
  }
  if (!adjustments.length && doc.discount_total.amount > 0) rows.push(row("discount", "Discounts", minus(doc.discount_total)));

  const ship = doc.shipping_option;
  if (ship) {
    const days = ship.min_days != null && ship.max_days != null ? (ship.min_days === ship.max_days ? `${ship.min_days} day${ship.min_days === 1 ? "" : "s"}` : `${ship.min_days}–${ship.max_days} days`) : "";
    rows.push(row("shipping", `Shipping: ${ship.carrier} ${ship.service}`, money(doc.shipping_total), source(days, ship.plugin)));
  } else {
    rows.push(row("shipping", "Shipping", shippingHint));
  }

  const key = (t) => `${t.jurisdiction}|${t.label}|${t.rate}`;
  const taxes = [
    ...sumBy(doc.lines.flatMap((l) => l.tax_lines || []), key),
    ...sumBy(doc.shipping_tax_lines || [], key).map((t) => ({ ...t, shipping: true })),
  ];
  const incl = doc.prices_include_tax ? "incl. " : "";
  for (const t of taxes) {
    const label = `${incl}${t.label} (${percent(t.rate)})${t.shipping ? " on shipping" : ""}`;
    rows.push(row("tax", label, money(t.amount), source(t.jurisdiction)));
  }
  if (!taxes.length) {
    rows.push(row("tax", "Tax", doc.shipping_address ? money(doc.tax_total) : "Calculated at checkout"));
  }
  rows.push(row("total", "Total", money(doc.total)));
  rows.push(...extra.map(([label, value]) => row("extra", label, value)));
  return h("dl", { class: "totals" }, rows);
}

/** An address as lines of text. */
export function address(a) {
  if (!a) return null;
  const names = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(undefined, { type: "region" }) : null;
  const country = names ? names.of(a.country) : a.country;
  const lines = [a.name, a.line1, a.line2, [a.postal_code, a.city, a.region].filter(Boolean).join(" "), country];
  return h("address", {}, lines.filter(Boolean).map((l, i) => (i ? [h("br"), l] : l)));
}
