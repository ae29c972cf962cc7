// The merchant's views: dashboard (sales plots, best sellers), catalog
// (products with their stock, categories), customers, discount codes,
// webhooks and settings. Orders are in orders.js, plugin bindings in
// bindings.js.

import { parseMoney, exponent } from "/assets/common/api.js";
import {
  h, pageHeader, card, table, pagedTable, allPages, field, checkbox, input, select, submit, form, FormProblem,
  errorBox, toast, confirmDialog, secretRow, badge, dl, when, num, link, isoDay, formatMoney, nextId,
} from "./ui.js";
import { figure, lineChart } from "./charts.js";
import { ordersView, orderView } from "./orders.js";
import { bindingsView } from "./bindings.js";

export const merchantNav = [
  ["#/dashboard", "Dashboard"],
  ["#/orders", "Orders"],
  ["#/products", "Products"],
  ["#/categories", "Categories"],
  ["#/customers", "Customers"],
  ["#/discounts", "Discount codes"],
  ["#/plugins", "Plugins"],
  ["#/webhooks", "Webhooks"],
  ["#/settings", "Settings"],
];

export const merchantRoutes = [
  ["dashboard", dashboardView],
  ["orders", ordersView],
  ["orders/:id", orderView],
  ["products", productsView],
  ["products/new", newProductView],
  ["products/:id", productView],
  ["categories", categoriesView],
  ["customers", customersView],
  ["discounts", discountsView],
  ["plugins", bindingsView],
  ["webhooks", webhooksView],
  ["webhooks/:id", webhookView],
  ["settings", settingsView],
];

// ---------------------------------------------------------------- dashboard

function majorFormatter(currency, digits) {
  const nf = new Intl.NumberFormat(undefined, {
    style: "currency",
    currency,
    maximumFractionDigits: digits,
    minimumFractionDigits: 0,
  });
  return (v) => (v === null || v === undefined ? "–" : nf.format(v));
}

async function dashboardView({ api, onLeave, current }) {
  const charts = [];
  const destroyCharts = () => {
    while (charts.length) charts.pop().destroy();
  };
  onLeave(destroyCharts);
  const results = h("div", { "aria-live": "polite" });
  const top = h("div");
  let currency = null;

  const range = form(
    async ({ data }) => {
      await load(data.get("from"), data.get("to"), data.get("interval"));
    },
    [
      h(
        "div",
        { class: "grid compact" },
        field("From", input("from", { type: "date", value: isoDay(-29) })),
        field("To", input("to", { type: "date", value: isoDay(0) })),
        field("Interval", select("interval", [["day", "Day"], ["week", "Week"], ["month", "Month"]], "day")),
        h("div", { class: "field end" }, submit("Show")),
      ),
    ],
    { label: "Report range", className: "form range" },
  );

  async function load(from, to, interval) {
    const [sales, best] = await Promise.all([
      api.get("/v1/admin/reports/sales", { from, to, interval }),
      api.get("/v1/admin/reports/top-products", { from, to, limit: 10 }),
    ]);
    if (!current()) return;
    destroyCharts();
    const currencies = sales.currencies;
    if (!currency || !currencies.some((c) => c.currency === currency)) {
      currency = (currencies.find((c) => c.total.orders > 0) || currencies[0] || {}).currency;
    }
    const show = () => {
      destroyCharts();
      const c = currencies.find((x) => x.currency === currency);
      results.replaceChildren(...salesBlock(sales, c, currencies, (v) => ((currency = v), show()), charts));
    };
    if (!currencies.length) results.replaceChildren(h("p", { class: "empty" }, "No sales in this range."));
    else show();
    top.replaceChildren(
      table(
        [
          { label: "Product", cell: (t) => link(`#/products/${encodeURIComponent(t.product_id)}`, t.title) },
          { label: "Units", num: true, cell: (t) => num(t.units) },
          { label: "Orders", num: true, cell: (t) => num(t.orders) },
          { label: "Revenue", num: true, cell: (t) => formatMoney({ amount: t.revenue, currency: t.currency }) },
        ],
        best.products,
        { caption: "Top products", empty: "Nothing sold in this range." },
      ),
    );
  }
  await load(isoDay(-29), isoDay(0), "day");

  return h(
    "div",
    {},
    pageHeader("Dashboard", { lead: "Sales in your shop's time zone." }),
    card(null, range),
    results,
    card("Top products", top),
  );
}

function salesBlock(sales, c, currencies, choose, charts) {
  const t = c.total;
  const m = (amount) => formatMoney({ amount, currency: c.currency });
  const e = exponent(c.currency);
  const x = c.intervals.map((i) => Date.parse(i.start) / 1000);
  const major = (v) => v / 10 ** e;
  const fmt = majorFormatter(c.currency, 0);
  const fmtExact = majorFormatter(c.currency, e);
  const out = [];
  if (currencies.length > 1) {
    const sel = select("currency", currencies.map((x) => x.currency), c.currency);
    sel.addEventListener("change", () => choose(sel.value));
    out.push(h("div", { class: "card" }, field("Currency", sel, { inline: true })));
  }
  out.push(
    h(
      "div",
      { class: "stats kpis", role: "group", "aria-label": "Totals for the range" },
      kpi("Revenue", m(t.total)),
      kpi("Orders", num(t.orders)),
      kpi("Average order", m(t.average_order_value)),
      kpi("Refunds", m(t.refunds)),
      kpi("Net", m(t.net)),
      kpi("Units", num(t.units)),
    ),
  );
  const revenue = figure(`Revenue per ${sales.interval}`, `${m(t.total)} from ${sales.from} to ${sales.to}.`);
  const orders = figure(`Orders per ${sales.interval}`, `${num(t.orders)} order${t.orders === 1 ? "" : "s"} from ${sales.from} to ${sales.to}.`);
  const aov = figure(`Average order value per ${sales.interval}`, `${m(t.average_order_value)} over the range.`);
  charts.push(
    lineChart(revenue.plotArea, {
      x,
      series: [
        { label: "Revenue", values: c.intervals.map((i) => major(i.total)) },
        { label: "Net", values: c.intervals.map((i) => major(i.net)), color: "#0d9488" },
      ],
      format: (v) => (Math.abs(v) >= 100 ? fmt(v) : fmtExact(v)),
    }),
    lineChart(orders.plotArea, {
      x,
      series: [{ label: "Orders", values: c.intervals.map((i) => i.orders), color: "#d97706" }],
      format: (v) => num(v),
      bars: true,
      integer: true,
    }),
    lineChart(aov.plotArea, {
      x,
      series: [{ label: "Average order", values: c.intervals.map((i) => (i.orders ? major(i.average_order_value) : null)), color: "#7c3aed" }],
      format: (v) => (Math.abs(v) >= 100 ? fmt(v) : fmtExact(v)),
    }),
  );
  out.push(card(null, revenue.figure), h("div", { class: "two" }, card(null, orders.figure), card(null, aov.figure)));
  return out;
}

function kpi(label, value) {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

// ---------------------------------------------------------------- catalog

const STATUSES = [
  ["draft", "Draft"],
  ["active", "Active"],
  ["archived", "Archived"],
];

function priceRange(p) {
  const prices = p.variants.map((v) => v.price);
  if (!prices.length) return "–";
  const min = prices.reduce((a, b) => (b.amount < a.amount ? b : a));
  const max = prices.reduce((a, b) => (b.amount > a.amount ? b : a));
  return min.amount === max.amount ? formatMoney(min) : `${formatMoney(min)} – ${formatMoney(max)}`;
}

async function productsView({ api }) {
  const listBox = h("div");
  const columns = [
    { label: "Product", cell: (p) => link(`#/products/${encodeURIComponent(p.id)}`, p.title) },
    { label: "Status", cell: (p) => badge(p.status) },
    { label: "Variants", num: true, cell: (p) => num(p.variants.length) },
    { label: "Price", num: true, cell: priceRange },
    { label: "SKUs", cell: (p) => p.variants.map((v) => v.sku).join(", ") },
    { label: "Updated", cell: (p) => when(p.updated_at) },
  ];
  const search = (q, status) =>
    listBox.replaceChildren(
      pagedTable(columns, (cursor) => api.get("/v1/admin/products", { cursor, limit: 50, q, status }), {
        caption: "Products",
        empty: q || status ? "No product matches." : "No product yet.",
      }),
    );
  const filter = form(
    async ({ data }) => search(data.get("q").trim(), data.get("status")),
    [
      h(
        "div",
        { class: "grid compact" },
        field("Search", input("q", { type: "search", placeholder: "Title, SKU, tag…" })),
        field("Status", select("status", [["", "Any"], ...STATUSES], "")),
        h("div", { class: "field end" }, submit("Search")),
      ),
    ],
    { label: "Find products", className: "form range" },
  );
  search("", "");
  return h(
    "div",
    {},
    pageHeader("Products", { actions: [link("#/products/new", "New product", { class: "button" })] }),
    card(null, filter, listBox),
  );
}

/** The shop's currency, from its settings. */
async function shopCurrency(api) {
  return (await api.get("/v1/admin/settings")).default_currency;
}

function combos(options) {
  let out = [{}];
  for (const o of options) {
    const next = [];
    for (const c of out) for (const v of o.values) next.push({ ...c, [o.name]: v });
    out = next;
  }
  return out;
}

async function newProductView({ api }) {
  const [currency, categories] = await Promise.all([
    shopCurrency(api),
    allPages((cursor) => api.get("/v1/admin/categories", { cursor, limit: 100 })),
  ]);
  const optionRows = h("div", { class: "rows" });
  const variantBox = h("div");
  let optionCount = 0;

  function readOptions() {
    const out = [];
    for (const row of optionRows.children) {
      const name = row.querySelector("[data-role=name]").value.trim();
      const values = row
        .querySelector("[data-role=values]")
        .value.split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (name && values.length) out.push({ name, values });
    }
    return out;
  }

  function addOption() {
    const i = optionCount++;
    const remove = h("button", { type: "button", class: "button small secondary" }, "Remove");
    const row = h(
      "div",
      { class: "grid compact option-row" },
      field("Option name", input(`options[${i}].name`, { "data-role": "name", placeholder: "Size" })),
      field("Values", input(`options[${i}].values`, { "data-role": "values", placeholder: "S, M, L" }), { help: "Comma-separated" }),
      h("div", { class: "field end" }, remove),
    );
    remove.setAttribute("aria-label", `Remove option ${i + 1}`);
    remove.addEventListener("click", () => {
      row.remove();
      buildVariants();
    });
    optionRows.append(row);
  }

  let variants = [];
  function buildVariants() {
    const kept = new Map();
    for (const row of variantBox.querySelectorAll("tr[data-key]")) {
      kept.set(row.dataset.key, [...row.querySelectorAll("input")].map((i) => i.value));
    }
    variants = combos(readOptions());
    const rows = variants.map((opts, i) => {
      const key = JSON.stringify(opts);
      const old = kept.get(key) || [];
      const label = Object.values(opts).join(" / ") || "Default";
      const cell = (name, attrs, hint) => {
        const el = input(`variants[${i}].${name}`, { ...attrs, id: nextId("v"), value: old[attrs.idx] ?? "" });
        el.removeAttribute("idx");
        return h("td", {}, h("label", { for: el.id, class: "visually-hidden" }, `${hint} of ${label}`), el);
      };
      return h(
        "tr",
        { "data-key": key },
        h("th", { scope: "row" }, label),
        cell("sku", { idx: 0, autocomplete: "off" }, "SKU"),
        cell("price", { idx: 1, inputmode: "decimal", placeholder: "0.00" }, "Price"),
        cell("weight_grams", { idx: 2, type: "number", min: 0, step: 1 }, "Weight in grams"),
      );
    });
    variantBox.replaceChildren(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "edit" },
          h("caption", { class: "visually-hidden" }, "Variants"),
          h(
            "thead",
            {},
            h("tr", {}, ["Variant", "SKU *", `Price${currency ? ` (${currency})` : ""} *`, "Weight (g)"].map((t) => h("th", { scope: "col" }, t))),
          ),
          h("tbody", {}, rows),
        ),
      ),
    );
  }

  const addOptionButton = h("button", { type: "button", class: "button secondary small" }, "Add option");
  addOptionButton.addEventListener("click", () => {
    addOption();
    optionRows.lastElementChild.querySelector("input").focus();
  });
  optionRows.addEventListener("change", buildVariants);
  buildVariants();

  const currencyInput = input("currency", { value: currency, maxlength: 3 });
  const f = form(
    async ({ data, idempotency }) => {
      const cur = data.get("currency").trim().toUpperCase();
      const errors = {};
      if (!/^[A-Z]{3}$/.test(cur)) errors.currency = "an ISO 4217 code, e.g. EUR";
      const body = {
        title: data.get("title").trim(),
        status: data.get("status"),
        tags: data
          .get("tags")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean),
        category_ids: data.getAll("category_ids"),
        options: readOptions(),
        variants: variants.map((opts, i) => {
          const v = { sku: data.get(`variants[${i}].sku`).trim(), options: opts };
          const price = parseMoney(data.get(`variants[${i}].price`), cur || "USD");
          if (price === null) errors[`variants[${i}].price`] = `a price in ${cur || "the shop's currency"}, e.g. 12.50`;
          else v.price = { amount: price, currency: cur };
          const w = data.get(`variants[${i}].weight_grams`).trim();
          if (w) v.weight_grams = Number(w);
          return v;
        }),
      };
      const handle = data.get("handle").trim();
      if (handle) body.handle = handle;
      const description = data.get("description").trim();
      if (description) body.description = description;
      if (Object.keys(errors).length) throw new FormProblem(errors);
      const product = await api.post("/v1/admin/products", body, { idempotency });
      toast(`${product.title} was created.`);
      location.hash = `#/products/${encodeURIComponent(product.id)}`;
    },
    [
      card(
        "Product",
        h(
          "div",
          { class: "grid" },
          field("Title", input("title"), { required: true }),
          field("Handle", input("handle"), { help: "In the product's address; made from the title when empty." }),
          field("Status", select("status", STATUSES, "draft")),
          field("Currency", currencyInput, { required: true, help: "The shop's currency (ISO 4217)." }),
          field("Tags", input("tags"), { help: "Comma-separated" }),
        ),
        field("Description", h("textarea", { name: "description", rows: 4 })),
        categories.length
          ? h(
              "fieldset",
              { class: "checks" },
              h("legend", {}, "Categories"),
              categories.map((c) => checkboxValue("category_ids", c.id, c.name)),
            )
          : null,
      ),
      card(
        "Options",
        h("p", { class: "muted" }, "Options such as size or colour; each combination of values is a variant."),
        optionRows,
        h("div", { class: "actions left" }, addOptionButton),
      ),
      card("Variants", variantBox),
      h("div", { class: "actions" }, submit("Create product")),
    ],
    { label: "New product" },
  );
  return h("div", {}, pageHeader("New product", { actions: [link("#/products", "← Products", { class: "button secondary" })] }), f);
}

function checkboxValue(name, value, label, checked = false) {
  const el = h("input", { type: "checkbox", name, value, id: nextId(name), checked });
  return h("div", { class: "field check" }, el, h("label", { for: el.id }, label));
}

async function productView({ api, current }, id) {
  const path = `/v1/admin/products/${encodeURIComponent(id)}`;
  const [product, locations] = await Promise.all([
    api.get(path),
    allPages((cursor) => api.get("/v1/admin/locations", { cursor, limit: 100 })),
  ]);
  const currency = product.variants[0]?.price.currency || "USD";
  const e = exponent(currency);
  const majorText = (m) => (m.amount / 10 ** e).toFixed(e);

  const edit = form(
    async ({ data, idempotency }) => {
      const body = {};
      const errors = {};
      const title = data.get("title").trim();
      if (title !== product.title) body.title = title;
      if (data.get("status") !== product.status) body.status = data.get("status");
      const description = data.get("description");
      if (description !== product.description) body.description = description;
      const variants = [];
      product.variants.forEach((v, i) => {
        const text = data.get(`variants[${i}].price`);
        const amount = parseMoney(text, currency);
        if (amount === null) errors[`variants[${i}].price`] = `a price in ${currency}, e.g. ${majorText(v.price)}`;
        else if (amount !== v.price.amount) variants.push({ id: v.id, price: { amount, currency } });
      });
      if (Object.keys(errors).length) throw new FormProblem(errors);
      if (variants.length) body.variants = variants;
      if (!Object.keys(body).length) {
        toast("Nothing changed.");
        return;
      }
      try {
        const updated = await api.patch(path, body, { idempotency });
        Object.assign(product, updated);
        toast("Product saved.");
      } catch (err) {
        // The API names variants by their index in the patch; the form by the product's.
        const index = (k) => product.variants.findIndex((v) => v.id === variants[k]?.id);
        const fixed = {};
        for (const [k, v] of Object.entries(err.errors || {})) {
          const m = k.match(/^variants\[(\d+)\](.*)$/);
          fixed[m && index(Number(m[1])) >= 0 ? `variants[${index(Number(m[1]))}]${m[2]}` : k] = v;
        }
        err.errors = fixed;
        throw err;
      }
    },
    [
      h(
        "div",
        { class: "grid" },
        field("Title", input("title", { value: product.title }), { required: true }),
        field("Status", select("status", STATUSES, product.status)),
      ),
      field("Description", h("textarea", { name: "description", rows: 4 }, product.description)),
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "edit" },
          h("caption", {}, "Variants"),
          h("thead", {}, h("tr", {}, ["Variant", "SKU", `Price (${currency})`, "Stock"].map((t) => h("th", { scope: "col" }, t)))),
          h(
            "tbody",
            {},
            product.variants.map((v, i) => {
              const price = input(`variants[${i}].price`, { value: majorText(v.price), inputmode: "decimal", id: nextId("price") });
              return h(
                "tr",
                {},
                h("th", { scope: "row" }, v.title),
                h("td", {}, h("code", {}, v.sku)),
                h("td", {}, h("label", { for: price.id, class: "visually-hidden" }, `Price of ${v.title}`), price),
                h("td", {}, badge(v.stock_status)),
              );
            }),
          ),
        ),
      ),
      h("div", { class: "actions" }, submit("Save product")),
    ],
    { label: "Edit product" },
  );

  const stock = product.variants.map((v) => stockSection(api, v, locations, current));
  return h(
    "div",
    {},
    pageHeader(product.title, {
      lead: h("span", {}, badge(product.status), " ", h("code", {}, product.handle)),
      actions: [link("#/products", "← Products", { class: "button secondary" })],
    }),
    card("Details", edit),
    card("Stock per location", locations.length ? stock : h("p", { class: "empty" }, "No stock location yet.")),
  );
}

function stockSection(api, variant, locations, current) {
  const body = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  const details = h("details", { class: "stock" }, h("summary", {}, `${variant.title} · ${variant.sku}`), body);
  let loaded = false;
  const base = `/v1/admin/inventory/${encodeURIComponent(variant.id)}`;
  async function load() {
    try {
      const [stock, history] = await Promise.all([
        api.get("/v1/admin/inventory", { variant_id: variant.id }),
        api.get(`${base}/adjustments`, { limit: 10 }),
      ]);
      if (!current()) return;
      const byLocation = new Map(stock.levels.map((l) => [l.location_id, l]));
      const nameOf = (lid) => locations.find((l) => l.id === lid)?.name || lid;
      const setForm = (loc) => {
        const level = byLocation.get(loc.id);
        const el = input("on_hand", { type: "number", min: 0, step: 1, value: level ? level.on_hand : 0, id: nextId("onhand"), class: "narrow" });
        return form(
          async ({ data, idempotency }) => {
            const v = String(data.get("on_hand")).trim();
            if (!/^\d+$/.test(v)) throw new FormProblem({ on_hand: "a whole number, 0 or more" });
            await api.put(base, { location_id: loc.id, on_hand: Number(v) }, { idempotency });
            toast(`On hand at ${loc.name} set to ${v}.`);
            await load();
          },
          [h("label", { for: el.id, class: "visually-hidden" }, `On hand at ${loc.name}`), el, submit("Set", { class: "button small" })],
          { label: `Set on hand at ${loc.name}`, className: "form inline-form" },
        );
      };
      const adjust = form(
        async ({ data, idempotency }) => {
          const delta = String(data.get("delta")).trim();
          if (!/^-?\d+$/.test(delta) || Number(delta) === 0) throw new FormProblem({ delta: "a whole number of units, not 0 (negative removes)" });
          try {
            await api.post(
              `${base}/adjustments`,
              { location_id: data.get("location_id"), delta: Number(delta), reason: data.get("reason").trim() },
              { idempotency },
            );
          } catch (e) {
            if (e.code === "insufficient_stock" && !Object.keys(e.errors || {}).length) e.errors = { delta: e.message };
            throw e;
          }
          toast("Stock adjusted.");
          await load();
        },
        [
          h(
            "div",
            { class: "grid compact" },
            field("Location", select("location_id", locations.map((l) => [l.id, l.name]), locations[0]?.id)),
            field("Change", input("delta", { type: "number", step: 1 }), { required: true, help: "Units added; negative removes." }),
            field("Reason", input("reason"), { required: true }),
            h("div", { class: "field end" }, submit("Adjust", { class: "button secondary" })),
          ),
        ],
        { label: `Adjust stock of ${variant.sku}` },
      );
      body.replaceChildren(
        h("p", {}, `Policy: ${stock.inventory_policy.replaceAll("_", " ")} · on hand ${stock.on_hand} · reserved ${stock.reserved} · available ${stock.available}`),
        table(
          [
            { label: "Location", cell: (l) => l.name },
            { label: "On hand", num: true, cell: (l) => num(byLocation.get(l.id)?.on_hand ?? 0) },
            { label: "Reserved", num: true, cell: (l) => num(byLocation.get(l.id)?.reserved ?? 0) },
            { label: "Available", num: true, cell: (l) => num(byLocation.get(l.id)?.available ?? 0) },
            { label: "Set on hand", cell: setForm },
          ],
          locations,
          { caption: `Stock of ${variant.sku}` },
        ),
        h("h3", {}, "Adjust"),
        adjust,
        h("h3", {}, "Recent changes"),
        table(
          [
            { label: "When", cell: (a) => when(a.created_at) },
            { label: "Location", cell: (a) => nameOf(a.location_id) },
            { label: "Change", num: true, cell: (a) => (a.delta > 0 ? `+${a.delta}` : String(a.delta)) },
            { label: "On hand after", num: true, cell: (a) => num(a.on_hand_after) },
            { label: "Reason", cell: (a) => a.reason },
          ],
          history.data,
          { caption: "Recent stock changes", empty: "No change recorded." },
        ),
      );
    } catch (e) {
      body.replaceChildren(errorBox(e));
    }
  }
  details.addEventListener("toggle", () => {
    if (details.open && !loaded) {
      loaded = true;
      load();
    }
  });
  return details;
}

async function categoriesView({ api }) {
  const listBox = h("div");
  const columns = [
    { label: "Name", cell: (c) => c.name },
    { label: "Handle", cell: (c) => h("code", {}, c.handle) },
    { label: "Created", cell: (c) => when(c.created_at) },
  ];
  const reload = () =>
    listBox.replaceChildren(
      pagedTable(
        columns,
        (cursor) => api.get("/v1/admin/categories", { cursor, limit: 50 }),
        { caption: "Categories", empty: "No category yet." },
      ),
    );
  reload();
  const create = form(
    async ({ data, idempotency, form: f }) => {
      const body = { name: data.get("name").trim() };
      const handle = data.get("handle").trim();
      if (handle) body.handle = handle;
      const c = await api.post("/v1/admin/categories", body, { idempotency });
      f.reset();
      toast(`Category ${c.name} was created.`);
      reload();
    },
    [
      h(
        "div",
        { class: "grid compact" },
        field("Name", input("name"), { required: true }),
        field("Handle", input("handle"), { help: "Made from the name when empty." }),
        h("div", { class: "field end" }, submit("Add category")),
      ),
    ],
    { label: "New category" },
  );
  return h("div", {}, pageHeader("Categories"), card("All categories", listBox), card("New category", create));
}

// ---------------------------------------------------------------- customers

async function customersView({ api }) {
  const listBox = h("div");
  const columns = [
    { label: "Name", cell: (c) => `${c.first_name} ${c.last_name}` },
    { label: "E-mail", cell: (c) => h("a", { href: `mailto:${c.email}` }, c.email) },
    { label: "Id", cell: (c) => h("code", {}, c.id) },
    { label: "Since", cell: (c) => when(c.created_at) },
  ];
  const search = (q) =>
    listBox.replaceChildren(
      pagedTable(columns, (cursor) => api.get("/v1/admin/customers", { cursor, limit: 50, q }), {
        caption: "Customers",
        empty: q ? "No customer's e-mail starts with that." : "No customer yet.",
      }),
    );
  search("");
  const filter = form(async ({ data }) => search(data.get("q").trim()), [
    h(
      "div",
      { class: "grid compact" },
      field("E-mail starts with", input("q", { type: "search" })),
      h("div", { class: "field end" }, submit("Search")),
    ),
  ], { label: "Find customers", className: "form range" });
  return h("div", {}, pageHeader("Customers"), card(null, filter, listBox));
}

// ---------------------------------------------------------------- discounts

function rfc3339(local) {
  if (!local) return undefined;
  const d = new Date(local);
  return Number.isNaN(d.getTime()) ? local : d.toISOString();
}

async function discountsView({ api }) {
  const listBox = h("div");
  const columns = [
    { label: "Code", cell: (d) => h("code", {}, d.code) },
    { label: "Used", num: true, cell: (d) => `${num(d.usage_count)}${d.usage_limit ? ` of ${num(d.usage_limit)}` : ""}` },
    { label: "Starts", cell: (d) => when(d.starts_at) || "–" },
    { label: "Ends", cell: (d) => when(d.ends_at) || "–" },
    { label: "Created", cell: (d) => when(d.created_at) },
    {
      label: "",
      cell: (d) => {
        const b = h("button", { type: "button", class: "button small danger", "aria-label": `Delete ${d.code}` }, "Delete");
        b.addEventListener("click", async () => {
          if (!(await confirmDialog(`Delete ${d.code}?`, "It stops working at once.", "Delete", { danger: true }))) return;
          try {
            await api.del(`/v1/admin/discount-codes/${encodeURIComponent(d.id)}`);
            toast(`${d.code} was deleted.`);
            reload();
          } catch (e) {
            toast(e.message, "error");
          }
        });
        return b;
      },
    },
  ];
  const reload = () =>
    listBox.replaceChildren(
      pagedTable(columns, (cursor) => api.get("/v1/admin/discount-codes", { cursor, limit: 50 }), {
        caption: "Discount codes",
        empty: "No discount code yet.",
      }),
    );
  reload();
  const create = form(
    async ({ data, idempotency, form: f }) => {
      const body = { code: data.get("code").trim() };
      const limit = data.get("usage_limit").trim();
      if (limit) body.usage_limit = Number(limit);
      const s = rfc3339(data.get("starts_at"));
      const e = rfc3339(data.get("ends_at"));
      if (s) body.starts_at = s;
      if (e) body.ends_at = e;
      const d = await api.post("/v1/admin/discount-codes", body, { idempotency });
      f.reset();
      toast(`${d.code} was created.`);
      reload();
    },
    [
      h(
        "div",
        { class: "grid" },
        field("Code", input("code", { autocomplete: "off" }), { required: true, help: "Letters, digits, _ or -." }),
        field("Usage limit", input("usage_limit", { type: "number", min: 1, step: 1 }), { help: "Orders that may use it; empty for unlimited." }),
        field("Starts", input("starts_at", { type: "datetime-local" })),
        field("Ends", input("ends_at", { type: "datetime-local" })),
      ),
      h("p", { class: "muted" }, "What a code is worth is up to your pricing plugins (for example coupon)."),
      h("div", { class: "actions" }, submit("Create code")),
    ],
    { label: "New discount code" },
  );
  return h("div", {}, pageHeader("Discount codes"), card("All codes", listBox), card("New code", create));
}

// ---------------------------------------------------------------- webhooks

function eventTypes(text) {
  return String(text)
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

async function webhooksView({ api }) {
  const shown = h("div", { "aria-live": "polite" });
  const listBox = h("div");
  const columns = [
    { label: "URL", cell: (w) => link(`#/webhooks/${encodeURIComponent(w.id)}`, w.url) },
    { label: "Events", cell: (w) => w.event_types.join(", ") },
    { label: "State", cell: (w) => badge(w.enabled ? "enabled" : "disabled") },
    { label: "Created", cell: (w) => when(w.created_at) },
    {
      label: "Actions",
      cell: (w) => {
        const toggle = h("button", { type: "button", class: "button small secondary" }, w.enabled ? "Disable" : "Enable");
        toggle.setAttribute("aria-label", `${w.enabled ? "Disable" : "Enable"} ${w.url}`);
        toggle.addEventListener("click", async () => {
          toggle.disabled = true;
          try {
            await api.patch(`/v1/admin/webhook-endpoints/${encodeURIComponent(w.id)}`, { enabled: !w.enabled });
            toast(`${w.url} is ${w.enabled ? "disabled" : "enabled"}.`);
            reload();
          } catch (e) {
            toast(e.message, "error");
            toggle.disabled = false;
          }
        });
        const del = h("button", { type: "button", class: "button small danger", "aria-label": `Delete ${w.url}` }, "Delete");
        del.addEventListener("click", async () => {
          if (!(await confirmDialog(`Delete this endpoint?`, `${w.url} and its delivery log are removed.`, "Delete", { danger: true }))) return;
          try {
            await api.del(`/v1/admin/webhook-endpoints/${encodeURIComponent(w.id)}`);
            toast("Endpoint deleted.");
            reload();
          } catch (e) {
            toast(e.message, "error");
          }
        });
        return h("div", { class: "row-actions" }, toggle, del);
      },
    },
  ];
  const reload = () =>
    listBox.replaceChildren(
      pagedTable(columns, (cursor) => api.get("/v1/admin/webhook-endpoints", { cursor, limit: 50 }), {
        caption: "Webhook endpoints",
        empty: "No endpoint yet.",
      }),
    );
  reload();
  const create = form(
    async ({ data, idempotency, form: f }) => {
      const body = { url: data.get("url").trim(), event_types: eventTypes(data.get("event_types")) };
      const d = data.get("description").trim();
      if (d) body.description = d;
      const created = await api.post("/v1/admin/webhook-endpoints", body, { idempotency });
      f.reset();
      shown.replaceChildren(
        h(
          "div",
          { class: "notice keys" },
          h("h2", { tabindex: "-1" }, "Signing secret"),
          h("p", {}, `Verify Mercato-Signature on requests to ${created.endpoint?.url || created.url} with this secret. It is shown this once.`),
          secretRow("Secret", created.secret),
        ),
      );
      shown.querySelector("h2").focus();
      reload();
    },
    [
      h(
        "div",
        { class: "grid" },
        field("URL", input("url", { type: "url", placeholder: "https://example.com/hooks/mercato" }), { required: true }),
        field("Event types", input("event_types", { value: "*" }), { required: true, help: "Comma-separated, e.g. order.placed, order.fulfilled; * for every type." }),
        field("Description", input("description")),
      ),
      h("div", { class: "actions" }, submit("Add endpoint")),
    ],
    { label: "New webhook endpoint" },
  );
  return h("div", {}, pageHeader("Webhooks"), shown, card("Endpoints", listBox), card("New endpoint", create));
}

async function webhookView({ api, current }, id) {
  const path = `/v1/admin/webhook-endpoints/${encodeURIComponent(id)}`;
  const endpoint = await api.get(path);
  const listBox = h("div");
  const pingResult = h("div", { "aria-live": "polite" });
  let status = "";
  const deliveryColumns = [
    { label: "Event", cell: (d) => h("span", {}, d.event_type, h("br"), h("code", { class: "small" }, d.resource_id)) },
    { label: "Status", cell: (d) => badge(d.status) },
    { label: "Attempts", num: true, cell: (d) => num(d.attempts) },
    { label: "Last answer", cell: (d) => (d.last_status_code ? `HTTP ${d.last_status_code}` : "–") },
    { label: "Last error", cell: (d) => d.last_error || "" },
    { label: "Queued", cell: (d) => when(d.created_at) },
    {
      label: "Actions",
      cell: (d) => {
        const more = h("button", { type: "button", class: "button small secondary", "aria-expanded": "false" }, "Attempts");
        const again = h("button", { type: "button", class: "button small" }, "Redeliver");
        const box = h("div", { class: "attempts", hidden: true });
        more.addEventListener("click", async () => {
          const open = box.hidden;
          box.hidden = !open;
          more.setAttribute("aria-expanded", String(open));
          if (!open) return;
          box.replaceChildren(h("p", { class: "loading" }, "Loading…"));
          try {
            const full = await api.get(`${path}/deliveries/${encodeURIComponent(d.id)}`);
            box.replaceChildren(attemptsTable(full.log || []));
          } catch (e) {
            box.replaceChildren(errorBox(e));
          }
        });
        again.addEventListener("click", async () => {
          again.disabled = true;
          try {
            await api.post(`${path}/deliveries/${encodeURIComponent(d.id)}/redeliver`);
            toast("Queued for delivery again.");
            reload();
          } catch (e) {
            toast(e.message, "error");
            again.disabled = false;
          }
        });
        return h("div", {}, h("div", { class: "row-actions" }, more, again), box);
      },
    },
  ];
  const reload = () =>
    listBox.replaceChildren(
      pagedTable(deliveryColumns, (cursor) => api.get(`${path}/deliveries`, { cursor, limit: 50, status }), {
        caption: "Deliveries",
        empty: "Nothing was sent to this endpoint yet.",
      }),
    );
  reload();
  const statusSelect = select("status", [["", "Any"], ["pending", "Pending"], ["succeeded", "Succeeded"], ["failed", "Failed"]], "");
  statusSelect.addEventListener("change", () => {
    status = statusSelect.value;
    reload();
  });
  const ping = h("button", { type: "button", class: "button secondary" }, "Send a ping");
  ping.addEventListener("click", async () => {
    ping.disabled = true;
    try {
      const d = await api.post(`${path}/ping`);
      if (!current()) return;
      pingResult.replaceChildren(
        h(
          "div",
          { class: `notice ${d.status === "succeeded" ? "ok" : "error"}` },
          `Ping ${d.status}`,
          d.last_status_code ? ` (HTTP ${d.last_status_code})` : "",
          d.last_error ? `: ${d.last_error}` : "",
        ),
      );
      reload();
    } catch (e) {
      pingResult.replaceChildren(errorBox(e));
    } finally {
      ping.disabled = false;
    }
  });
  return h(
    "div",
    {},
    pageHeader("Webhook endpoint", { lead: endpoint.url, actions: [link("#/webhooks", "← Webhooks", { class: "button secondary" }), ping] }),
    pingResult,
    card(
      "Endpoint",
      dl([
        ["URL", endpoint.url],
        ["Events", endpoint.event_types.join(", ")],
        ["State", badge(endpoint.enabled ? "enabled" : "disabled")],
        ["Description", endpoint.description],
        ["Created", when(endpoint.created_at)],
      ]),
    ),
    card("Delivery log", field("Status", statusSelect, { inline: true }), listBox),
  );
}

function attemptsTable(log) {
  return table(
    [
      { label: "#", num: true, cell: (a) => a.attempt },
      { label: "Answer", cell: (a) => (a.status_code ? `HTTP ${a.status_code}` : "none") },
      { label: "Latency", num: true, cell: (a) => `${num(a.latency_ms)} ms` },
      { label: "Error", cell: (a) => a.error || "" },
      { label: "Response", cell: (a) => (a.response_snippet ? h("code", { class: "pre" }, a.response_snippet) : "") },
      { label: "At", cell: (a) => when(a.created_at) },
    ],
    log,
    { caption: "Attempts", empty: "No attempt yet." },
  );
}

// ---------------------------------------------------------------- settings

async function settingsView({ api }) {
  let settings = await api.get("/v1/admin/settings");
  const fields = [
    ["time_zone", "Time zone", { help: "IANA, e.g. Europe/Berlin: reports count days in it." }],
    ["abandoned_cart_after_minutes", "Abandoned after (minutes)", { help: "Idle minutes before a cart with an e-mail counts as abandoned.", type: "number" }],
    ["email_from", "E-mail sender", { help: "e.g. Acme <orders@acme.example>; empty uses the host's default." }],
    ["notification_email", "Alerts to", { help: "Where low-stock alerts go; empty sends none.", type: "email" }],
    ["storefront_url", "Storefront address", { help: "For links in e-mails, e.g. https://shop.acme.example", type: "url" }],
  ];
  const f = form(
    async ({ data, idempotency }) => {
      const body = {};
      for (const [name, , o] of fields) {
        const v = String(data.get(name) ?? "").trim();
        const old = settings[name] === null || settings[name] === undefined ? "" : String(settings[name]);
        if (v === old) continue;
        body[name] = o.type === "number" ? Number(v) : v;
      }
      if (!Object.keys(body).length) {
        toast("Nothing changed.");
        return;
      }
      settings = await api.patch("/v1/admin/settings", body, { idempotency });
      toast("Settings saved.");
    },
    [
      h(
        "div",
        { class: "grid" },
        fields.map(([name, label, o]) => field(label, input(name, { type: o.type || "text", value: settings[name] ?? "" }), { help: o.help })),
      ),
      h("div", { class: "actions" }, submit("Save settings")),
    ],
    { label: "Settings" },
  );
  return h("div", {}, pageHeader("Settings"), card(null, f));
}
