// The order page: status, payment and fulfillment, lines, totals, address,
// shipments and refunds. A guest reads it with the order's access token
// (X-Order-Token), a customer with their session. While the payment waits
// (3-D Secure, a pending provider) it asks again every second, for 30 s.

import { ApiError } from "../common/api.js";
import { api, cart, config, orderTokens } from "./store.js";
import { h, heading, errorBox, money, totals, lineDetails, badge, address, when, picture } from "./ui.js";

const enc = encodeURIComponent;
const POLL_MS = 1000;
const POLL_FOR_MS = 30000;

const recent = new Map();
const placedKey = () => `mercato:${config.slug}:placed`;
/** Notes that this page load (or this tab, across a bank's redirect) placed the order. */
export function remember(orderId, { placed, order } = {}) {
  recent.set(orderId, { order });
  if (!placed) return;
  try {
    const list = JSON.parse(sessionStorage.getItem(placedKey()) || "[]").filter((id) => id !== orderId).slice(-9);
    sessionStorage.setItem(placedKey(), JSON.stringify([...list, orderId]));
  } catch {
    /* the thank-you line is a nicety */
  }
}
function justPlaced(orderId) {
  try {
    return JSON.parse(sessionStorage.getItem(placedKey()) || "[]").includes(orderId);
  } catch {
    return false;
  }
}

const waiting = (o) => o.payment_status === "pending" || o.payment_status === "requires_action";

/** `#/orders/{id}`. */
export async function orderPage(root, id) {
  const title = heading("Your order");
  const body = h("div", { class: "order" }, h("p", { class: "loading" }, "Loading your order…"));
  root.append(title, body);
  const token = orderTokens.get(id);
  const headers = token ? { "X-Order-Token": token } : undefined;
  const started = Date.now();
  let shownAt = null;

  const cached = recent.get(id)?.order;
  if (cached) show(cached);

  while (root.isConnected) {
    let order;
    try {
      order = await api.get(`/orders/${enc(id)}`, undefined, headers);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) {
        title.textContent = "Order not found";
        body.replaceChildren(
          h(
            "p",
            {},
            "We could not find this order. If you placed it while logged in, ",
            h("a", { href: "#/account" }, "log in to your account"),
            " to see it.",
          ),
        );
        return { title: "Order not found" };
      }
      if (!shownAt) body.replaceChildren(errorBox(`Your order could not be loaded: ${e.message}`));
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) return;
      order = null;
    }
    if (order) {
      if (order.updated_at !== shownAt) show(order);
      // The cart became this order (a payment that waits for the buyer or
      // failed leaves it to pay again).
      const open = ["requires_action", "failed"].includes(order.payment_status) || order.status === "cancelled";
      if (order.cart_id === cart.id && !open) cart.forget();
      if (!waiting(order)) return;
    }
    if (Date.now() - started > POLL_FOR_MS) {
      const note = body.querySelector(".waiting");
      if (note) note.textContent = "We have not heard from your bank yet. This page shows the payment once it is confirmed: reload it later.";
      return;
    }
    await new Promise((ok) => setTimeout(ok, POLL_MS));
  }

  function show(o) {
    shownAt = o.updated_at;
    title.textContent = `Order #${o.number}`;
    document.title = `Order #${o.number} · ${config.name}`;
    const p = o.payment;
    const notes = [];
    if (justPlaced(o.id) && o.status !== "cancelled") {
      notes.push(h("p", { class: "notice notice-ok" }, `Thank you for your order! A confirmation goes to ${o.email}.`));
    }
    if (o.payment_status === "requires_action") {
      notes.push(h("p", { class: "notice notice-warn waiting", role: "status" }, "Waiting for your bank to confirm the payment…"));
    } else if (o.payment_status === "pending" && p && p.message) {
      notes.push(h("div", { class: "notice notice-info" }, h("h2", {}, "How to pay"), h("p", {}, p.message)));
    } else if (o.payment_status === "pending") {
      notes.push(h("p", { class: "notice notice-warn waiting", role: "status" }, "Waiting for the payment to be confirmed…"));
    }
    if (o.payment_status === "failed") {
      const reason = p && p.failure_reason ? p.failure_reason.replace(/^[a-z_]+: /, "") : "";
      notes.push(
        h(
          "div",
          { class: "notice notice-error", role: "alert" },
          h("p", {}, `The payment did not go through${reason ? `: ${reason}` : "."} Nothing was charged.`),
          o.cart_id === cart.id ? h("a", { href: "#/checkout", class: "btn btn-primary" }, "Try paying again") : null,
        ),
      );
    }

    const byLine = new Map(o.lines.map((l) => [l.id, l]));
    const extra = [];
    if (o.captured && o.captured.amount > 0) extra.push(["Paid", money(o.captured)]);
    if (o.refunded && o.refunded.amount > 0) extra.push(["Refunded", `−${money(o.refunded)}`]);

    body.replaceChildren(
      ...notes,
      h(
        "dl",
        { class: "statuses" },
        h("div", {}, h("dt", {}, "Order status"), h("dd", { "data-status": o.status }, badge(o.status))),
        h("div", {}, h("dt", {}, "Payment"), h("dd", { "data-status": o.payment_status }, badge(o.payment_status))),
        h("div", {}, h("dt", {}, "Shipping"), h("dd", { "data-status": o.fulfillment_status }, badge(o.fulfillment_status))),
        h("div", {}, h("dt", {}, "Placed"), h("dd", {}, when(o.created_at))),
      ),
      h(
        "div",
        { class: "order-layout" },
        h(
          "section",
          { "aria-labelledby": "items-title", class: "order-items" },
          h("h2", { id: "items-title" }, "Items"),
          h(
            "ul",
            { class: "lines" },
            o.lines.map((l) =>
              h(
                "li",
                { class: "line" },
                h("div", { class: "line-media" }, picture({ title: l.title, images: [] }, "sm")),
                h(
                  "div",
                  { class: "line-main" },
                  h("h3", { class: "line-title" }, l.title),
                  h("p", { class: "line-meta" }, `${l.quantity} × ${money(l.unit_price)} · SKU ${l.sku}`),
                  lineDetails(l),
                  l.fulfilled_quantity || l.refunded_quantity || l.returned_quantity
                    ? h(
                        "p",
                        { class: "line-meta" },
                        [
                          l.fulfilled_quantity ? `${l.fulfilled_quantity} shipped` : "",
                          l.returned_quantity ? `${l.returned_quantity} returned` : "",
                          l.refunded_quantity ? `${l.refunded_quantity} refunded` : "",
                        ]
                          .filter(Boolean)
                          .join(" · "),
                      )
                    : null,
                ),
                h("p", { class: "line-total" }, l.discount_total.amount > 0 ? h("s", {}, money(l.subtotal)) : null, h("strong", {}, money(l.total))),
              ),
            ),
          ),
          h("h2", {}, "Totals"),
          totals(o, { extra, shippingHint: "None" }),
        ),
        h(
          "aside",
          { class: "order-side" },
          h("section", { "aria-labelledby": "ship-title" }, h("h2", { id: "ship-title" }, "Shipping to"), address(o.shipping_address), h("p", { class: "muted" }, o.email)),
          h(
            "section",
            { "aria-labelledby": "shipments-title" },
            h("h2", { id: "shipments-title" }, "Shipments"),
            o.fulfillments && o.fulfillments.length
              ? h(
                  "ul",
                  { class: "shipments" },
                  o.fulfillments.map((f) =>
                    h(
                      "li",
                      {},
                      h("p", {}, h("strong", {}, f.carrier || "Shipped"), " · ", when(f.created_at)),
                      f.tracking_number ? h("p", {}, "Tracking number: ", h("code", {}, f.tracking_number)) : null,
                      h("ul", { class: "muted" }, f.lines.map((x) => h("li", {}, `${x.quantity} × ${byLine.get(x.line_id)?.title || x.line_id}`))),
                    ),
                  ),
                )
              : h("p", { class: "muted" }, o.status === "cancelled" ? "Nothing will ship." : "Nothing has shipped yet."),
          ),
          o.refunded && o.refunded.amount > 0
            ? h(
                "section",
                { "aria-labelledby": "refunds-title" },
                h("h2", { id: "refunds-title" }, "Refunds"),
                h("p", {}, `${money(o.refunded)} of ${money(o.captured && o.captured.amount ? o.captured : o.total)} paid back to you.`),
              )
            : null,
        ),
      ),
    );
  }
}
