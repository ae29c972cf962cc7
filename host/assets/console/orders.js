// Orders: the list with a status filter, and one order with its lines,
// totals, payment, fulfillments, refunds and history, and the actions a
// merchant takes on it (capture, fulfil, refund, return, cancel), each a
// form whose API errors show at its fields.

import { parseMoney, exponent } from "/assets/common/api.js";
import {
  h, pageHeader, card, table, pagedTable, field, checkbox, input, select, submit, form, FormProblem, toast,
  confirmDialog, badge, dl, when, num, money, link, nextId, formatMoney,
} from "./ui.js";

const STATUSES = [
  ["", "Any status"],
  ["pending_payment", "Pending payment"],
  ["paid", "Paid"],
  ["partially_fulfilled", "Partially fulfilled"],
  ["fulfilled", "Fulfilled"],
  ["partially_refunded", "Partially refunded"],
  ["refunded", "Refunded"],
  ["cancelled", "Cancelled"],
];

export async function ordersView({ api }) {
  const listBox = h("div");
  const columns = [
    { label: "Order", cell: (o) => link(`#/orders/${encodeURIComponent(o.id)}`, `#${o.number}`) },
    { label: "Placed", cell: (o) => when(o.created_at) },
    { label: "Customer", cell: (o) => o.email },
    { label: "Status", cell: (o) => badge(o.status) },
    { label: "Payment", cell: (o) => badge(o.payment_status) },
    { label: "Fulfilment", cell: (o) => badge(o.fulfillment_status) },
    { label: "Total", num: true, cell: (o) => money(o.total) },
  ];
  const show = (status) =>
    listBox.replaceChildren(
      pagedTable(columns, (cursor) => api.get("/v1/admin/orders", { cursor, limit: 50, status }), {
        caption: "Orders",
        empty: status ? "No order has this status." : "No order yet.",
      }),
    );
  const statusSelect = select("status", STATUSES, "");
  statusSelect.addEventListener("change", () => show(statusSelect.value));
  show("");
  return h("div", {}, pageHeader("Orders", { lead: "Oldest first." }), card(null, field("Status", statusSelect, { inline: true }), listBox));
}

/** `{amount, currency}` values in event data as money; the rest as text. */
function eventData(data, currency, lineTitle) {
  if (!data || typeof data !== "object") return data === null || data === undefined ? "" : String(data);
  const parts = [];
  for (const [k, v] of Object.entries(data)) {
    if (v === null || v === undefined || v === "" || (Array.isArray(v) && !v.length)) continue;
    let text;
    if (k === "lines" && Array.isArray(v) && v.every((l) => l && l.line_id)) {
      text = v.map((l) => `${l.quantity} × ${lineTitle(l.line_id)}`).join(", ");
      parts.push(h("span", { class: "kv" }, h("span", { class: "k" }, "lines"), " ", text));
      continue;
    }
    if (v && typeof v === "object" && "amount" in v && "currency" in v) text = formatMoney(v);
    else if (typeof v === "number" && /(amount|total)$/.test(k)) text = formatMoney({ amount: v, currency });
    else if (typeof v === "object") text = JSON.stringify(v);
    else text = String(v);
    parts.push(h("span", { class: "kv" }, h("span", { class: "k" }, k.replaceAll("_", " ")), " ", text));
  }
  return h("span", { class: "kvs" }, parts);
}

function address(a) {
  if (!a) return "–";
  return h(
    "address",
    {},
    [a.name, a.line1, a.line2, `${a.postal_code} ${a.city}`.trim(), a.region, a.country].filter(Boolean).flatMap((l, i) => (i ? [h("br"), l] : [l])),
  );
}

export async function orderView({ api, rerender }, id) {
  const path = `/v1/admin/orders/${encodeURIComponent(id)}`;
  const order = await api.get(path);
  const cur = order.currency;
  const e = exponent(cur);
  const after = async (message) => {
    toast(message);
    rerender();
  };

  const lineTitle = (lineId) => order.lines.find((l) => l.id === lineId)?.title || lineId;
  const lines = table(
    [
      { label: "Item", cell: (l) => h("span", {}, l.title, h("br"), h("code", { class: "small" }, l.sku)) },
      { label: "Qty", num: true, cell: (l) => num(l.quantity) },
      { label: "Unit price", num: true, cell: (l) => money(l.unit_price) },
      { label: "Discount", num: true, cell: (l) => (l.discount_total.amount ? `−${money(l.discount_total)}` : "–") },
      { label: "Tax", num: true, cell: (l) => h("span", { title: l.tax_lines.map((t) => `${t.label} ${t.rate}`).join(", ") }, money(l.tax_total)) },
      { label: "Total", num: true, cell: (l) => money(l.total) },
      { label: "Shipped", num: true, cell: (l) => num(l.fulfilled_quantity) },
      { label: "Returned", num: true, cell: (l) => num(l.returned_quantity) },
      { label: "Refunded", num: true, cell: (l) => num(l.refunded_quantity) },
    ],
    order.lines,
    { caption: "Lines" },
  );

  const totals = dl(
    [
      ["Subtotal", money(order.subtotal)],
      ["Discounts", order.discount_total.amount ? `−${money(order.discount_total)}` : null],
      ["Shipping", money(order.shipping_total)],
      [order.prices_include_tax ? "Tax (included)" : "Tax", money(order.tax_total)],
      ["Total", h("strong", {}, money(order.total))],
      ["Captured", money(order.captured)],
      ["Refunded", order.refunded.amount ? money(order.refunded) : null],
      ["Discount codes", order.discount_codes.length ? order.discount_codes.join(", ") : null],
    ],
    "facts totals",
  );

  const p = order.payment;
  const payment = p
    ? dl([
        ["Provider", p.provider],
        ["Status", badge(p.status)],
        ["Amount", money(p.amount)],
        ["Reference", p.provider_reference ? h("code", {}, p.provider_reference) : null],
        ["Instructions", p.message],
        ["Failure", p.failure_reason],
        ["Started", when(p.created_at)],
      ])
    : h("p", { class: "empty" }, "No payment attempt.");

  const so = order.shipping_option;
  const shipping = h(
    "div",
    { class: "two tight" },
    h("div", {}, h("h3", {}, "Ship to"), address(order.shipping_address)),
    h(
      "div",
      {},
      h("h3", {}, "Shipping"),
      so ? h("p", {}, `${so.carrier} ${so.service} · ${money(so.amount)}`) : h("p", {}, "Nothing to ship by a plugin."),
      order.billing_address ? [h("h3", {}, "Bill to"), address(order.billing_address)] : null,
    ),
  );

  const fulfillments = table(
    [
      { label: "Shipped", cell: (f) => when(f.created_at) },
      { label: "Carrier", cell: (f) => f.carrier || "–" },
      { label: "Tracking number", cell: (f) => (f.tracking_number ? h("code", {}, f.tracking_number) : "–") },
      { label: "Items", cell: (f) => f.lines.map((l) => `${l.quantity} × ${lineTitle(l.line_id)}`).join(", ") },
    ],
    order.fulfillments,
    { caption: "Fulfillments", empty: "Nothing shipped yet." },
  );

  // One row per refund: its first event (amount, reason) and its latest state.
  const byRefund = new Map();
  for (const ev of order.events) {
    if (!/^refund/.test(ev.kind)) continue;
    const key = ev.data?.refund_id || `seq-${ev.seq}`;
    const r = byRefund.get(key) || { first: ev, data: {} };
    r.last = ev;
    r.data = { ...ev.data, ...r.data, reason: r.data.reason || ev.data?.reason };
    byRefund.set(key, r);
  }
  const amountOf = (a) => (a?.currency ? formatMoney(a) : typeof a === "number" ? formatMoney({ amount: a, currency: cur }) : "–");
  const refunds = table(
    [
      { label: "When", cell: (r) => when(r.first.created_at) },
      { label: "State", cell: (r) => badge(r.last.kind === "refunded" ? "succeeded" : r.last.kind.replace(/^refund_/, "")) },
      { label: "Amount", num: true, cell: (r) => amountOf(r.data.amount) },
      { label: "Items", cell: (r) => (r.data.lines || []).map((l) => `${l.quantity} × ${lineTitle(l.line_id)}`).join(", ") || "–" },
      { label: "Reason", cell: (r) => r.data.reason || "" },
    ],
    [...byRefund.values()],
    { caption: "Refunds", empty: "Nothing refunded." },
  );

  const history = h(
    "ol",
    { class: "timeline" },
    order.events
      .slice()
      .reverse()
      .map((ev) => h("li", {}, h("div", { class: "tl-head" }, h("strong", {}, ev.kind.replaceAll("_", " ")), " ", h("time", { datetime: ev.created_at }, when(ev.created_at))), eventData(ev.data, cur, lineTitle))),
  );

  // ---------------------------------------------------------- actions
  const cancelled = order.status === "cancelled";
  const toShip = order.lines.filter((l) => l.quantity - l.fulfilled_quantity > 0);
  const canReturn = order.lines.some((l) => l.fulfilled_quantity - l.returned_quantity > 0);
  const refundable = order.captured.amount - order.refunded.amount;
  const actions = [];

  if (!cancelled && ["pending", "authorized", "requires_action"].includes(order.payment_status)) {
    actions.push(
      h(
        "div",
        { class: "notice warn capture" },
        h("h3", {}, "Payment not received yet"),
        h("p", {}, p?.message ? p.message : "Once the money has arrived (for example the bank transfer), capture the payment: the order is paid."),
        form(
          async ({ idempotency }) => {
            await api.post(`${path}/capture`, undefined, { idempotency });
            await after("Payment captured: the order is paid.");
          },
          [h("div", { class: "actions left" }, submit("Capture payment"))],
          { label: "Capture payment" },
        ),
      ),
    );
  }

  /** Quantity inputs for the lines `left(line) > 0`, named lines[i].quantity by order line. */
  const lineInputs = (left, initial) =>
    h(
      "div",
      { class: "table-wrap" },
      h(
        "table",
        { class: "edit" },
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Item"), h("th", { scope: "col" }, "Left"), h("th", { scope: "col" }, "Units"))),
        h(
          "tbody",
          {},
          order.lines.map((l, i) => {
            const n = left(l);
            if (n <= 0) return null;
            const el = input(`lines[${i}].quantity`, {
              type: "number",
              min: 0,
              max: n,
              step: 1,
              value: initial(l, n),
              id: nextId("qty"),
              class: "narrow",
              "data-field": `lines[${i}]`,
            });
            return h(
              "tr",
              {},
              h("th", { scope: "row" }, h("label", { for: el.id }, l.title)),
              h("td", {}, num(n)),
              h("td", {}, el),
            );
          }),
        ),
      ),
    );

  /** The {line_id, quantity} list of a form, and a rewrite of API error paths to its fields. */
  const readLines = (data, left) => {
    const sent = [];
    const index = [];
    order.lines.forEach((l, i) => {
      if (left(l) <= 0) return;
      const v = String(data.get(`lines[${i}].quantity`) ?? "").trim();
      if (!v || v === "0") return;
      sent.push({ line_id: l.id, quantity: Number(v) });
      index.push(i);
    });
    const fix = (err) => {
      const out = {};
      for (const [k, v] of Object.entries(err.errors || {})) {
        const m = k.match(/^lines\[(\d+)\](.*)$/);
        out[m && index[Number(m[1])] !== undefined ? `lines[${index[Number(m[1])]}]${m[2]}` : k] = v;
      }
      err.errors = out;
      return err;
    };
    return { sent, fix };
  };
  const firstLinesField = (f) => f.querySelector("[data-field^='lines[']");

  if (!cancelled && toShip.length) {
    const left = (l) => l.quantity - l.fulfilled_quantity;
    const f = form(
      async ({ data, idempotency, form: el }) => {
        const { sent, fix } = readLines(data, left);
        if (!sent.length) {
          const first = firstLinesField(el);
          throw new FormProblem(first ? { [first.name]: "Ship at least one unit." } : {});
        }
        const body = { lines: sent };
        const carrier = data.get("carrier").trim();
        const tracking = data.get("tracking_number").trim();
        if (carrier) body.carrier = carrier;
        if (tracking) body.tracking_number = tracking;
        try {
          await api.post(`${path}/fulfillments`, body, { idempotency });
        } catch (err) {
          throw fix(err);
        }
        await after("Fulfilment recorded.");
      },
      [
        lineInputs(left, (l, n) => n),
        h(
          "div",
          { class: "grid" },
          field("Carrier", input("carrier", { value: so?.carrier || "", autocomplete: "off" })),
          field("Tracking number", input("tracking_number", { autocomplete: "off" })),
        ),
        h("div", { class: "actions left" }, submit("Fulfil")),
      ],
      { label: "Fulfil items" },
    );
    actions.push(action("Fulfil items", f));
  }

  if (refundable > 0) {
    const left = (l) => l.quantity - l.refunded_quantity;
    const amountInput = input("amount", { inputmode: "decimal", placeholder: (0).toFixed(e) });
    const f = form(
      async ({ data, idempotency, form: el }) => {
        const reason = data.get("reason").trim();
        const amountText = data.get("amount").trim();
        const { sent, fix } = readLines(data, left);
        const body = { reason };
        if (amountText) {
          const amount = parseMoney(amountText, cur);
          if (amount === null) throw new FormProblem({ amount: `an amount in ${cur}, e.g. ${(refundable / 10 ** e).toFixed(e)}` });
          body.amount = { amount, currency: cur };
        } else if (sent.length) {
          body.lines = sent;
        } else {
          throw new FormProblem({ amount: "Give an amount, or units of lines to refund." });
        }
        if (!reason) throw new FormProblem({ reason: "Say why (the buyer may see it)." });
        try {
          await api.post(`${path}/refunds`, body, { idempotency });
        } catch (err) {
          throw fix(err);
        }
        await after("Refund made.");
      },
      [
        h("p", { class: "muted" }, `Up to ${formatMoney({ amount: refundable, currency: cur })} can be paid back. Give an amount, or units of lines (refunded at what they were charged).`),
        field(`Amount (${cur})`, amountInput),
        h("details", { class: "sub" }, h("summary", {}, "Or refund units of lines"), lineInputs(left, () => 0)),
        field("Reason", input("reason"), { required: true }),
        h("div", { class: "actions left" }, submit("Make refund")),
      ],
      { label: "Refund" },
    );
    actions.push(action("Refund", f));
  }

  if (canReturn) {
    const left = (l) => l.fulfilled_quantity - l.returned_quantity;
    const f = form(
      async ({ data, idempotency, form: el }) => {
        const { sent, fix } = readLines(data, left);
        if (!sent.length) {
          const first = firstLinesField(el);
          throw new FormProblem(first ? { [first.name]: "Return at least one unit." } : {});
        }
        const body = { lines: sent, reason: data.get("reason").trim(), restock: data.get("restock") === "on" };
        try {
          await api.post(`${path}/returns`, body, { idempotency });
        } catch (err) {
          throw fix(err);
        }
        await after("Return recorded.");
      },
      [
        lineInputs(left, () => 0),
        field("Reason", input("reason"), { required: true }),
        checkbox("restock", "Put the units back in stock", true),
        h("p", { class: "muted" }, "A return pays nothing back: refund separately."),
        h("div", { class: "actions left" }, submit("Record return")),
      ],
      { label: "Return" },
    );
    actions.push(action("Return items", f));
  }

  if (!cancelled && order.fulfillment_status === "unfulfilled") {
    const f = form(
      async ({ data, idempotency }) => {
        const ok = await confirmDialog(
          `Cancel order #${order.number}?`,
          "Its stock goes back; a captured payment is refunded in full, an uncaptured one voided.",
          "Cancel order",
          { danger: true },
        );
        if (!ok) return;
        const reason = data.get("reason").trim();
        await api.post(`${path}/cancel`, reason ? { reason } : {}, { idempotency });
        await after(`Order #${order.number} was cancelled.`);
      },
      [field("Reason", input("reason")), h("div", { class: "actions left" }, submit("Cancel order", { class: "button danger" }))],
      { label: "Cancel order" },
    );
    actions.push(action("Cancel order", f));
  }

  return h(
    "div",
    { class: "order" },
    pageHeader(`Order #${order.number}`, {
      lead: h("span", {}, `Placed ${when(order.created_at)} by `, h("a", { href: `mailto:${order.email}` }, order.email)),
      actions: [link("#/orders", "← Orders", { class: "button secondary" })],
    }),
    h(
      "div",
      { class: "status-row", role: "group", "aria-label": "Status" },
      h("span", { "data-of": "order" }, "Status ", badge(order.status)),
      h("span", { "data-of": "payment" }, "Payment ", badge(order.payment_status)),
      h("span", { "data-of": "fulfillment" }, "Fulfilment ", badge(order.fulfillment_status)),
      order.disputed_at ? h("span", {}, badge("disputed", "bad")) : null,
    ),
    actions.length ? card("Actions", ...actions) : null,
    card("Lines", lines),
    h("div", { class: "two" }, card("Totals", totals), card("Payment", payment)),
    h("div", { class: "two" }, card("Shipping", shipping), card("Fulfillments", fulfillments)),
    card("Refunds", refunds),
    card("How it was priced", priced(api, order)),
    card("History", history),
  );
}

/**
 * The trail of plugin calls the order was priced with (kept with the
 * order): who answered each call, at what cost, and what it changed.
 */
function priced(api, order) {
  const box = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  api.get(`/v1/admin/orders/${encodeURIComponent(order.id)}/explain`).then(
    (x) => {
      if (!x.recorded) {
        box.replaceChildren(h("p", { class: "empty" }, "This order was placed before orders kept how they were priced."));
        return;
      }
      const m = (amount) => money({ amount, currency: x.currency });
      const changed = (s) => [
        ...(s.adjustments || []).map((a) => `${a.label} −${m(a.amount.amount)}${a.line_id ? ` (line ${a.line_id})` : ` (${a.target})`}`),
        ...(s.taxes || []).map((t) => `${t.label} ${t.jurisdiction} ${t.rate}: ${m(t.amount.amount)}`),
        ...(s.options_offered || []).map((c) => (c === s.option_chosen ? `${c} (chosen)` : c)),
      ];
      box.replaceChildren(
        table(
          [
            { label: "Point", cell: (s) => s.extension_point },
            { label: "Plugin", cell: (s) => h("span", {}, s.plugin, h("br"), h("code", {}, s.plugin_id)) },
            { label: "Outcome", cell: (s) => badge(s.outcome === "ok" ? "succeeded" : s.outcome) },
            { label: "Changed", cell: (s) => h("ul", { class: "plain" }, changed(s).map((c) => h("li", {}, c))) },
            { label: "Time", num: true, cell: (s) => (s.memo ? "memo" : `${num(s.duration_us)} µs`) },
            { label: "Fuel", num: true, cell: (s) => num(s.fuel) },
            { label: "Input", cell: (s) => h("code", { title: s.input_hash }, s.input_hash.slice(0, 12)) },
          ],
          x.trail,
          { caption: "Plugin calls, in the order they ran", empty: "No plugin priced this order." },
        ),
      );
    },
    (e) => box.replaceChildren(h("p", { class: "form-error" }, `Could not load how the order was priced: ${e.message}`)),
  );
  return box;
}

function action(title, content) {
  return h("details", { class: "action" }, h("summary", {}, title), h("div", { class: "action-body" }, content));
}
