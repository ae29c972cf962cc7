// The cart page: lines (quantity, remove), each line's discounts and taxes,
// the cart's warnings, discount codes, and totals that say which rule or
// plugin made each amount. Every change is one request, and the page shows
// the cart that request answered.

import { ApiError, showFormErrors, clearFormErrors, markField } from "../common/api.js";
import { api, cart } from "./store.js";
import { h, heading, errorBox, picture, money, totals, lineDetails } from "./ui.js";

const enc = encodeURIComponent;

/** The warnings not about one line. */
export function warnings(c, { lineId } = {}) {
  const list = c.warnings.filter((w) => (lineId ? w.line_id === lineId : !w.line_id));
  if (!list.length) return null;
  return h(
    "ul",
    { class: `notice notice-warn${lineId ? " notice-line" : ""}` },
    list.map((w) => h("li", {}, w.message, w.plugin ? h("span", { class: "source" }, ` ${w.plugin}`) : null)),
  );
}

/** `#/cart`. */
export async function cartPage(root) {
  root.append(heading("Your cart"));
  const body = h("div", { class: "cart-body" }, h("p", { class: "loading" }, "Loading…"));
  root.append(body);
  const c = await loadInto(body);
  if (c !== undefined) render(body, c);
}

/**
 * The shopper's cart (null without one), or undefined once `body` says
 * it could not be loaded.
 */
export async function loadInto(body) {
  try {
    return await cart.load();
  } catch (e) {
    body.replaceChildren(errorBox(`Your cart could not be loaded: ${e.message}`));
    return undefined;
  }
}

function empty(body) {
  body.replaceChildren(
    h("div", { class: "empty" }, h("p", {}, "Your cart is empty."), h("a", { href: "#/", class: "btn btn-primary" }, "Start shopping")),
  );
}

function render(body, c, focusId) {
  if (!c || !c.lines.length) return empty(body);
  if (c.status !== "open") {
    body.replaceChildren(
      h(
        "div",
        { class: "notice notice-info" },
        h("p", {}, "This cart is being paid for. "),
        c.order_id ? h("a", { href: `#/orders/${enc(c.order_id)}` }, "See your order") : null,
      ),
    );
    return;
  }
  const lines = h("ul", { class: "lines", "aria-label": "Items in your cart" }, c.lines.map((l) => line(body, c, l)));
  const summary = h(
    "aside",
    { class: "summary", "aria-labelledby": "summary-title" },
    h("h2", { id: "summary-title" }, "Order summary"),
    h("div", { class: "live-totals", "aria-live": "polite", "aria-atomic": "true" }, totals(c)),
    codes(body, c),
    h("a", { href: "#/checkout", class: "btn btn-primary btn-block btn-lg" }, "Checkout"),
    h("p", { class: "continue" }, h("a", { href: "#/" }, "Continue shopping")),
  );
  body.replaceChildren(warnings(c) || "", h("div", { class: "cart-layout" }, h("section", { class: "cart-lines", "aria-label": "Items" }, lines), summary));
  if (focusId) {
    const el = body.querySelector(`#${CSS.escape(focusId)}`);
    if (el) el.focus();
  }
}

function line(body, c, l) {
  const qtyId = `qty-${l.id}`;
  const qty = h("input", { id: qtyId, name: "quantity", type: "number", min: "0", max: "10000", value: String(l.quantity), inputmode: "numeric" });
  const form = h(
    "form",
    { class: "line-qty", novalidate: true },
    h("label", { for: qtyId }, "Quantity", h("span", { class: "sr-only" }, ` of ${l.title}`)),
    qty,
    h("button", { type: "submit", class: "btn btn-small btn-secondary" }, "Update", h("span", { class: "sr-only" }, ` ${l.title}`)),
    h("p", { role: "alert", class: "form-error", hidden: true }),
  );
  const remove = h("button", { type: "button", class: "btn btn-small btn-ghost", id: `rm-${l.id}` }, "Remove", h("span", { class: "sr-only" }, ` ${l.title}`));

  async function write(request, focusId) {
    clearFormErrors(form);
    form.setAttribute("aria-busy", "true");
    try {
      render(body, cart.set(await request()), focusId);
    } catch (e) {
      form.removeAttribute("aria-busy");
      if (!(e instanceof ApiError)) throw e;
      if (e.status === 404) return render(body, await cart.load().catch(() => null));
      const errors = {};
      for (const [k, v] of Object.entries(e.errors)) errors[k.startsWith("lines") || k === "quantity" ? "quantity" : k] = v;
      if (!Object.keys(errors).length) errors.quantity = e.message;
      showFormErrors(form, { message: "", errors });
    }
  }
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const n = Number(qty.value);
    if (!Number.isInteger(n) || n < 0 || n > 10000) {
      markField(qty, "Enter a whole number (0 removes the item)");
      return qty.focus();
    }
    if (n === l.quantity) return;
    write(() => api.patch(cart.path(`/lines/${enc(l.id)}`), { quantity: n }), n ? qtyId : null).then(() => {
      if (!n && !body.contains(document.activeElement)) {
        const next = body.querySelector(".line-qty input") || body.closest(".view")?.querySelector("h1");
        if (next) next.focus();
      }
    });
  });
  qty.addEventListener("change", () => form.requestSubmit());
  remove.addEventListener("click", async () => {
    await write(() => api.del(cart.path(`/lines/${enc(l.id)}`)));
    // The line is gone: focus goes to the next one's quantity, or the heading.
    if (!body.contains(document.activeElement)) {
      const next = body.querySelector(".line-qty input") || body.closest(".view")?.querySelector("h1");
      if (next) next.focus();
    }
  });

  const discounted = l.discount_total.amount > 0;
  return h(
    "li",
    { class: "line" },
    h("div", { class: "line-media" }, picture({ title: l.title, images: [] }, "sm")),
    h(
      "div",
      { class: "line-main" },
      h("h3", { class: "line-title" }, h("a", { href: `#/products/${enc(l.product_id)}` }, l.title)),
      h("p", { class: "line-meta" }, `SKU ${l.sku} · ${money(l.unit_price)} each`),
      lineDetails(l),
      warnings(c, { lineId: l.id }),
      h("div", { class: "line-actions" }, form, remove),
    ),
    h(
      "p",
      { class: "line-total" },
      discounted ? h("s", {}, h("span", { class: "sr-only" }, "was "), money(l.subtotal)) : null,
      h("strong", {}, money(l.total)),
    ),
  );
}

function codes(body, c) {
  const input = h("input", { id: "code", name: "code", autocomplete: "off", autocapitalize: "characters", spellcheck: "false" });
  const form = h(
    "form",
    { class: "code-form", novalidate: true },
    h("label", { for: "code" }, "Discount code"),
    h("div", { class: "inline" }, input, h("button", { type: "submit", class: "btn btn-secondary" }, "Apply")),
    h("p", { role: "alert", class: "form-error", hidden: true }),
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    const code = input.value.trim();
    if (!code) {
      markField(input, "Enter a discount code");
      return input.focus();
    }
    form.setAttribute("aria-busy", "true");
    try {
      render(body, cart.set(await api.post(cart.path("/discount-codes"), { code })), "code");
    } catch (err) {
      form.removeAttribute("aria-busy");
      if (!(err instanceof ApiError)) throw err;
      const errors = Object.keys(err.errors).length ? err.errors : { code: err.message };
      showFormErrors(form, { message: "", errors });
    }
  });
  const applied = c.discount_codes.length
    ? h(
        "ul",
        { class: "chips", "aria-label": "Discount codes entered" },
        c.discount_codes.map((code) => {
          const btn = h("button", { type: "button", class: "chip-remove", "aria-label": `Remove code ${code}` }, "×");
          btn.addEventListener("click", async () => {
            btn.disabled = true;
            try {
              render(body, cart.set(await api.del(cart.path(`/discount-codes/${enc(code)}`))), "code");
            } catch (err) {
              btn.disabled = false;
              showFormErrors(form, err);
            }
          });
          return h("li", { class: "chip" }, h("span", {}, code), btn);
        }),
      )
    : null;
  return h("div", { class: "codes" }, form, applied);
}
