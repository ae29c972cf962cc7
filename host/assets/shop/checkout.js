// Checkout, for a guest or a logged-in customer: e-mail and shipping
// address, a shipping option, a payment method, then complete. Every step
// is one write that answers the cart, and the summary shows that cart.

import { ApiError, idempotencyKey, showFormErrors, clearFormErrors, markField } from "../common/api.js";
import { api, cart, config, session, orderTokens, orderPageUrl } from "./store.js";
import { h, heading, errorBox, money, totals, source } from "./ui.js";
import { warnings, loadInto } from "./cart.js";
import { remember } from "./order.js";

const enc = encodeURIComponent;

/** Test cards of the `test-gateway` plugin (its magic tokens). */
const TEST_CARDS = [
  ["tok_visa", "Visa — succeeds"],
  ["tok_threeDSecure", "Visa — asks for 3-D Secure"],
  ["tok_chargeDeclined", "Declined card"],
];
const PROVIDERS = {
  stripe: ["Card", "Paid securely through Stripe."],
  "test-gateway": ["Card (test mode)", "No real card is charged: choose a test card."],
  manual: ["Bank transfer", "You get the bank details with your order; we ship once the transfer arrives."],
};

/**
 * Stripe.js for the shop's publishable key, loaded once, from where the host
 * says (the page's CSP allows only that origin, and only for a shop that
 * connected Stripe).
 */
let stripeP = null;
function loadStripe(publishableKey) {
  stripeP ||= new Promise((ok, fail) => {
    const script = document.createElement("script");
    script.src = config.stripe_js;
    script.onload = () => ok(window.Stripe(publishableKey));
    script.onerror = () => {
      stripeP = null;
      fail(new Error("Card payments could not be loaded. Try again, or choose another payment method."));
    };
    document.head.append(script);
  });
  return stripeP;
}

function countries() {
  const codes = [...new Set([config.country, "US", "DE", "AT", "BE", "CA", "CH", "FR", "GB", "LU", "NL"].filter(Boolean))];
  const names = typeof Intl.DisplayNames === "function" ? new Intl.DisplayNames(["en"], { type: "region" }) : null;
  const name = (c) => (names ? names.of(c) : c);
  const [first, ...rest] = codes;
  return [[first, name(first)], ...rest.map((c) => [c, name(c)]).sort((a, b) => a[1].localeCompare(b[1]))];
}

function field(id, label, attrs = {}, hint) {
  const input = h("input", { id, name: id, ...attrs });
  return h("div", { class: "field" }, h("label", { for: id }, label, hint ? h("span", { class: "hint" }, ` ${hint}`) : null), input);
}

/** `#/checkout`. */
export async function checkoutPage(root) {
  root.append(heading("Checkout"));
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  root.append(body);
  let c = await loadInto(body);
  if (c === undefined) return;
  if (!c || !c.lines.length) {
    body.replaceChildren(h("div", { class: "empty" }, h("p", {}, "Your cart is empty."), h("a", { href: "#/", class: "btn btn-primary" }, "Start shopping")));
    return;
  }
  if (c.status !== "open") {
    body.replaceChildren(
      h("div", { class: "notice notice-info" }, "This cart is being paid for. ", c.order_id ? h("a", { href: `#/orders/${enc(c.order_id)}` }, "See your order") : null),
    );
    return;
  }
  const providersP = api.get(cart.path("/payment-providers"));

  // ---- summary
  const summaryBody = h("div", { class: "live-totals", "aria-live": "polite", "aria-atomic": "true" });
  const warn = h("div", {});
  const summary = h(
    "aside",
    { class: "summary", "aria-labelledby": "summary-title" },
    h("h2", { id: "summary-title" }, "Order summary"),
    summaryBody,
    h("p", { class: "continue" }, h("a", { href: "#/cart" }, "Edit cart")),
  );
  function show(next) {
    c = next;
    summaryBody.replaceChildren(
      h(
        "ul",
        { class: "mini-lines" },
        c.lines.map((l) => h("li", {}, h("span", {}, `${l.quantity} × ${l.title}`), h("span", {}, money(l.total)))),
      ),
      totals(c, { shippingHint: "Choose below" }),
    );
    warn.replaceChildren(warnings(c) || "");
  }

  // ---- 1. address
  const a = c.shipping_address || {};
  const who = session.customer;
  const countrySelect = h(
    "select",
    { id: "country", name: "country", autocomplete: "country" },
    countries().map(([code, name]) => h("option", { value: code, selected: code === (a.country || config.country) }, name)),
  );
  const addressForm = h(
    "form",
    { class: "step", novalidate: true, "aria-labelledby": "step-address" },
    h("h2", { id: "step-address" }, h("span", { class: "step-no", "aria-hidden": "true" }, "1"), "Contact and shipping address"),
    field("email", "Email", { type: "email", autocomplete: "email", required: true, value: c.email || who?.email || "" }),
    h(
      "fieldset",
      { class: "address", id: "f-address", "data-field": "shipping_address" },
      h("legend", { class: "sr-only" }, "Shipping address"),
      field("name", "Full name", { autocomplete: "name", required: true, value: a.name || (who ? `${who.first_name} ${who.last_name}` : "") }),
      field("line1", "Address", { autocomplete: "address-line1", required: true, value: a.line1 || "" }),
      field("line2", "Apartment, suite, etc.", { autocomplete: "address-line2", value: a.line2 || "" }, "(optional)"),
      h(
        "div",
        { class: "field-row" },
        field("postal_code", "Postal code", { autocomplete: "postal-code", required: true, value: a.postal_code || "" }),
        field("city", "City", { autocomplete: "address-level2", required: true, value: a.city || "" }),
      ),
      h(
        "div",
        { class: "field-row" },
        field("region", "State / region", { autocomplete: "address-level1", value: a.region || "" }),
        h("div", { class: "field" }, h("label", { for: "country" }, "Country"), countrySelect),
      ),
    ),
    h("p", { role: "alert", class: "form-error", hidden: true }),
    h("button", { type: "submit", class: "btn btn-primary" }, "Continue to shipping"),
  );
  const value = (name) => addressForm.elements[name].value.trim();
  addressForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(addressForm);
    busy(addressForm, true);
    const shipping_address = {
      name: value("name"),
      line1: value("line1"),
      city: value("city"),
      region: value("region"),
      postal_code: value("postal_code"),
      country: value("country"),
    };
    if (value("line2")) shipping_address.line2 = value("line2");
    try {
      show(cart.set(await api.patch(cart.path(), { email: value("email"), shipping_address })));
      await loadShipping(true);
    } catch (err) {
      fail(err, addressForm);
    } finally {
      busy(addressForm, false);
    }
  });

  // ---- 2. shipping
  const shipChoices = h("div", { class: "choices" }, h("p", { class: "muted" }, "Enter your address to see the shipping options."));
  const shipForm = h(
    "form",
    { class: "step", novalidate: true, "aria-labelledby": "step-shipping" },
    h("h2", { id: "step-shipping" }, h("span", { class: "step-no", "aria-hidden": "true" }, "2"), "Shipping method"),
    h("fieldset", { id: "f-shipping", "data-field": "shipping_option" }, h("legend", { class: "sr-only" }, "Shipping method"), shipChoices),
    h("p", { role: "alert", class: "form-error", hidden: true }),
  );
  shipForm.addEventListener("submit", (e) => e.preventDefault());

  async function loadShipping(focus) {
    shipChoices.replaceChildren(h("p", { class: "loading" }, "Finding shipping options…"));
    let answer;
    try {
      answer = await api.get(cart.path("/shipping-options"));
    } catch (err) {
      shipChoices.replaceChildren(errorBox(`Shipping options could not be loaded: ${err.message}`));
      return;
    }
    if (!answer.options.length) {
      const why = answer.warnings.map((w) => w.message).join(" ") || "We do not ship to this address.";
      shipChoices.replaceChildren(h("p", { class: "notice notice-warn" }, why));
      return;
    }
    const selected = c.shipping_option?.code;
    shipChoices.replaceChildren(
      ...answer.options.map((o, i) => {
        const id = `ship-${i}`;
        const input = h("input", { type: "radio", id, name: "shipping_option", value: o.code, checked: o.code === selected });
        input.addEventListener("change", () => choose(o.code));
        const days = o.min_days != null && o.max_days != null ? (o.min_days === o.max_days ? `${o.min_days} day${o.min_days === 1 ? "" : "s"}` : `${o.min_days}–${o.max_days} days`) : "";
        return h(
          "div",
          { class: "choice" },
          input,
          h(
            "label",
            { for: id },
            h("span", { class: "choice-title" }, `${o.carrier} ${o.service}`),
            h("span", { class: "choice-price" }, o.amount.amount ? money(o.amount) : "Free"),
            h("span", { class: "choice-note" }, days, " ", source(o.plugin)),
          ),
        );
      }),
    );
    if (focus) shipChoices.querySelector("input").focus();
  }

  async function choose(code) {
    clearFormErrors(shipForm);
    busy(shipForm, true);
    try {
      show(cart.set(await api.put(cart.path("/shipping-option"), { code })));
    } catch (err) {
      fail(err, shipForm);
    } finally {
      busy(shipForm, false);
    }
  }

  // ---- 3. payment
  const payChoices = h("div", { class: "choices" }, h("p", { class: "loading" }, "Loading payment methods…"));
  const placeBtn = h("button", { type: "submit", class: "btn btn-primary btn-lg btn-block" }, "Place order");
  const payAlert = h("p", { role: "alert", class: "form-error", hidden: true, tabindex: "-1" });
  const payForm = h(
    "form",
    { class: "step", novalidate: true, "aria-labelledby": "step-payment" },
    h("h2", { id: "step-payment" }, h("span", { class: "step-no", "aria-hidden": "true" }, "3"), "Payment"),
    h("fieldset", { id: "f-provider", "data-field": "provider" }, h("legend", { class: "sr-only" }, "Payment method"), payChoices),
    payAlert,
    placeBtn,
    h("p", { class: "status", role: "status" }),
  );

  let stripeElement = null;
  providersP.then(
    (list) => {
      // Stripe takes card details in Stripe.js (Elements): offered when the
      // host names where to load it from (the shop connected Stripe).
      const usable = list.filter((p) => p.kind !== "stripe" || (config.stripe_js && p.publishable_key));
      if (!usable.length) {
        payChoices.replaceChildren(h("p", { class: "notice notice-warn" }, "This shop takes no payments online right now."));
        placeBtn.disabled = true;
        return;
      }
      payChoices.replaceChildren(...usable.map((p, i) => provider(p, i, usable.length === 1)));
    },
    (err) => payChoices.replaceChildren(errorBox(`Payment methods could not be loaded: ${err.message}`)),
  );

  function provider(p, i, only) {
    const id = `pay-${i}`;
    const [name, hint] = PROVIDERS[p.provider] || [p.provider.replace(/[-_]/g, " ").replace(/^./, (s) => s.toUpperCase()), p.description];
    const input = h("input", { type: "radio", id, name: "provider", value: p.provider, checked: only && p.available, disabled: !p.available });
    const cards =
      p.provider === "test-gateway"
        ? h(
            "fieldset",
            { class: "cards", id: "f-cards", "data-field": "token" },
            h("legend", {}, "Test card"),
            TEST_CARDS.map(([token, label], j) => {
              const cid = `card-${j}`;
              return h("div", { class: "choice choice-small" }, h("input", { type: "radio", id: cid, name: "token", value: token, checked: j === 0 }), h("label", { for: cid }, label));
            }),
          )
        : null;
    let stripeCard = null;
    if (p.kind === "stripe") {
      const box = h("div", { class: "stripe-card", id: "f-stripe-card", "data-field": "payment_method" });
      stripeCard = h("fieldset", { class: "cards" }, h("legend", {}, "Card details"), box);
      loadStripe(p.publishable_key).then(
        (stripe) => {
          stripeElement = stripe.elements().create("card");
          stripeElement.mount(box);
        },
        (err) => box.replaceChildren(errorBox(err.message)),
      );
    }
    const sync = () => {
      if (cards) cards.disabled = !input.checked;
      if (stripeCard) stripeCard.disabled = !input.checked;
    };
    input.addEventListener("change", () => {
      for (const el of payForm.querySelectorAll(".cards")) el.disabled = true;
      sync();
    });
    queueMicrotask(sync);
    return h(
      "div",
      { class: "choice choice-provider" },
      input,
      h("label", { for: id }, h("span", { class: "choice-title" }, name), h("span", { class: "choice-note" }, p.available ? hint : "Not available right now")),
      cards,
      stripeCard,
    );
  }

  // One idempotency key per payment attempt: a retry of the same attempt
  // (its answer was lost) reuses it and can never charge twice.
  let attempt = null;
  payForm.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(payForm);
    clearFormErrors(shipForm);
    const chosen = payForm.querySelector('input[name="provider"]:checked');
    if (!chosen) {
      const first = payForm.querySelector('input[name="provider"]');
      if (first) markField(first.closest("fieldset"), "Choose how to pay");
      return first?.focus();
    }
    const payment = { provider: chosen.value };
    if (chosen.value === "test-gateway") {
      const token = payForm.querySelector('input[name="token"]:checked');
      if (!token) return markField(payForm.querySelector(".cards"), "Choose a test card");
      payment.token = token.value;
    }
    if (chosen.value === "stripe") {
      // The card number never reaches Mercato: Stripe.js turns it into a payment method.
      const stripe = stripeP ? await stripeP.catch(() => null) : null;
      const made = stripe && stripeElement ? await stripe.createPaymentMethod({ type: "card", card: stripeElement }) : null;
      if (!made || made.error) {
        const box = payForm.querySelector(".stripe-card");
        markField(box, made ? made.error.message : "Card payments are not ready yet; wait a moment and try again.");
        return;
      }
      payment.payment_method = made.paymentMethod.id;
    }
    const fingerprint = JSON.stringify([payment, c.updated_at]);
    if (!attempt || attempt.fingerprint !== fingerprint) attempt = { fingerprint, key: idempotencyKey() };
    busy(payForm, true);
    placeBtn.textContent = "Placing order…";
    const status = payForm.querySelector(".status");
    status.textContent = "";
    let res;
    try {
      res = await api.post(cart.path("/complete"), { payment }, { idempotency: attempt.key });
    } catch (err) {
      // Only an attempt without an answer is retried with its key.
      if (!(err instanceof ApiError && (err.status === 0 || err.code === "idempotency_key_in_use"))) attempt = null;
      busy(payForm, false);
      placeBtn.textContent = "Place order";
      return completeFailed(err);
    }
    attempt = null;
    if (res.status === "requires_action") {
      orderTokens.set(res.order_id, res.access_token);
      remember(res.order_id, { placed: true });
      const url = res.next_action && res.next_action.redirect_url;
      const secret = res.next_action && res.next_action.client_secret;
      if (payment.provider === "stripe" && secret && !url) {
        // Stripe.js shows the bank's challenge itself; the order page then waits for Stripe's word.
        status.textContent = "Confirming the payment with your bank…";
        const stripe = await stripeP;
        await stripe.handleNextAction({ clientSecret: secret });
        location.hash = `#/orders/${enc(res.order_id)}`;
        return;
      }
      if (url) {
        status.textContent = "Taking you to your bank to confirm the payment…";
        const back = orderPageUrl(res.order_id);
        location.assign(`${url}${url.includes("?") ? "&" : "?"}return_to=${encodeURIComponent(back)}`);
        return;
      }
      location.hash = `#/orders/${enc(res.order_id)}`;
      return;
    }
    orderTokens.set(res.id, res.access_token);
    remember(res.id, { placed: true, order: res });
    cart.forget();
    location.hash = `#/orders/${enc(res.id)}`;
  });

  async function completeFailed(err) {
    if (!(err instanceof ApiError)) throw err;
    if (err.code === "payment_declined") {
      payAlert.textContent = `Your payment was declined: ${err.message.replace(/^[a-z_]+: /, "")} Try another card or payment method.`;
      payAlert.hidden = false;
      payAlert.focus();
      refresh();
      return;
    }
    if (err.code === "out_of_stock") {
      const lines = Object.entries(err.errors).map(([k, v]) => {
        const l = c.lines.find((x) => `lines.${x.id}` === k);
        return h("li", {}, `${l ? l.title : k}: ${v}`);
      });
      payAlert.replaceChildren(`${err.message}. `, h("a", { href: "#/cart" }, "Change your cart"), lines.length ? h("ul", {}, lines) : "");
      payAlert.hidden = false;
      payAlert.focus();
      return;
    }
    if (err.code === "cart_changed" || err.code === "cart_not_open") {
      await refresh();
      payAlert.textContent = err.code === "cart_changed" ? "Your cart changed: check the summary and place the order again." : err.message;
      payAlert.hidden = false;
      payAlert.focus();
      return;
    }
    fail(err, payForm);
  }

  /** Shows an API error at its fields, in whichever step has them. */
  function fail(err, form) {
    if (!(err instanceof ApiError)) throw err;
    const groups = new Map([[addressForm, {}], [shipForm, {}], [payForm, {}]]);
    for (const [path, message] of Object.entries(err.errors)) {
      const target = /^(email|shipping_address|billing_address|name|line1|line2|city|region|postal_code|country)\b/.test(path)
        ? addressForm
        : /^shipping_option/.test(path)
          ? shipForm
          : /^payment\./.test(path)
            ? payForm
            : form;
      groups.get(target)[path.replace(/^payment\./, "")] = message;
    }
    const marked = [...groups].filter(([f, errors]) => f !== form && Object.keys(errors).length);
    // The form the buyer acted on shows the message; the others mark their fields.
    for (const [f, errors] of marked) showFormErrors(f, { message: "", errors });
    showFormErrors(form, { message: Object.keys(groups.get(form)).length ? "" : err.message, errors: groups.get(form) });
    if (!form.querySelector("[aria-invalid=true]")) {
      const first = [addressForm, shipForm, payForm].map((f) => f.querySelector("[aria-invalid=true]")).find(Boolean);
      if (first) first.focus();
    }
  }

  async function refresh() {
    try {
      const next = await cart.load();
      if (next) show(next);
    } catch {
      /* the summary stays as it was */
    }
  }

  body.replaceChildren(
    warn,
    h("div", { class: "checkout-layout" }, h("div", { class: "steps" }, addressForm, shipForm, payForm), summary),
  );
  show(c);
  if (c.shipping_address) loadShipping(false);
}

function busy(form, on) {
  for (const b of form.querySelectorAll("button")) b.disabled = on;
  if (on) form.setAttribute("aria-busy", "true");
  else form.removeAttribute("aria-busy");
}
