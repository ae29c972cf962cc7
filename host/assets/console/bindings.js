// Plugin bindings per extension point: an ordered list of installed
// plugins, each with a configuration form generated from the plugin's JSON
// Schema and what to do when it fails; saved with one PUT, or tried on a
// cart first (the preview prices it with the proposed bindings and saves
// nothing). The API's errors (`bindings[0].config.rate`, or a missing
// property named in `bindings[0].config`) show at their fields.

import { ApiError } from "/assets/common/api.js";
import {
  h, pageHeader, card, table, allPages, field, input, select, form, toast, badge, money, nextId,
  markInvalid, formatMoney,
} from "./ui.js";

const POINTS = [
  ["pricing", "Pricing", "Discounts and price changes, called in this order; each sees the prices the one before it left."],
  ["tax", "Tax", "Taxes on the discounted lines and shipping. The first binding that answers decides; a skipped one passes to the next."],
  ["shipping", "Shipping", "The shipping options offered at checkout, from every binding."],
  ["payment", "Payment", "How buyers pay at checkout."],
  ["recommendations", "Recommendations", "Products suggested in the storefront."],
];

/** The points a cart can be priced with before saving. */
const PREVIEWABLE = new Set(["pricing", "tax", "shipping"]);

const ON_ERROR = [
  ["fail", "Fail the request"],
  ["skip", "Skip this plugin"],
];

export async function bindingsView({ api }) {
  const [bound, plugins] = await Promise.all([
    api.get("/v1/admin/plugin-bindings"),
    allPages((cursor) => api.get("/v1/admin/plugins", { cursor, limit: 100 })).catch((e) => {
      if (e instanceof ApiError && e.status === 401) throw e;
      return { failed: e };
    }),
  ]);
  const installed = Array.isArray(plugins) ? plugins : [];
  const notice = Array.isArray(plugins)
    ? null
    : h("div", { class: "notice error", role: "alert" }, `The installed plugins could not be listed (${plugins.failed.message}); only bound ones can be chosen.`);
  const jump = h(
    "div",
    { class: "jump", role: "group", "aria-label": "Extension points" },
    POINTS.map(([point, label]) => {
      const b = h("button", { type: "button", class: "button small secondary" }, `${label} (${(bound[point] || []).length})`);
      b.addEventListener("click", () => {
        const head = document.getElementById(`point-${point}-title`);
        head.setAttribute("tabindex", "-1");
        head.scrollIntoView({ block: "start" });
        head.focus();
      });
      return b;
    }),
  );
  return h(
    "div",
    {},
    pageHeader("Plugins", { lead: "Which installed plugins your shop calls at each extension point, in order, and how each is configured." }),
    jump,
    notice,
    POINTS.map(([point, label, help]) => pointEditor(api, point, label, help, bound[point] || [], installed)),
  );
}

// ---------------------------------------------------------------- schema form

function typeOf(schema) {
  if (!schema || typeof schema !== "object") return "any";
  if (Array.isArray(schema.enum)) return "enum";
  const t = Array.isArray(schema.type) ? schema.type.find((x) => x !== "null") : schema.type;
  if (t) return t;
  if (schema.properties) return "object";
  return "any";
}

function isPrimitiveArray(schema) {
  const items = schema.items;
  return items && !Array.isArray(items) && ["string", "number", "integer"].includes(typeOf(items));
}

/**
 * A form for a configuration object described by `schema`, filled with
 * `value`. Every top-level property is an input named after it; objects and
 * arrays of objects are JSON text areas. Returns {node, read(), field(name)}
 * where read() gives {config, errors} (errors by property name).
 */
export function schemaForm(schema, value = {}) {
  const props = schema && typeof schema === "object" && schema.properties && typeof schema.properties === "object" ? schema.properties : null;
  const required = new Set(Array.isArray(schema?.required) ? schema.required : []);
  const current = value && typeof value === "object" && !Array.isArray(value) ? value : {};
  if (!props || !Object.keys(props).length) {
    // No properties declared: the whole configuration as JSON.
    const area = h("textarea", { name: "config", rows: 5, spellcheck: "false", class: "mono" }, JSON.stringify(current, null, 2));
    return {
      node: field("Configuration (JSON)", area, {
        help: schema?.description || "This plugin declares no configuration fields: write its configuration as a JSON object.",
      }),
      field: (name) => (name === "config" ? area : null),
      whole: area,
      read() {
        const text = area.value.trim();
        if (!text) return { config: {}, errors: {} };
        try {
          const v = JSON.parse(text);
          if (!v || typeof v !== "object" || Array.isArray(v)) return { config: {}, errors: { config: "must be a JSON object" } };
          return { config: v, errors: {} };
        } catch (e) {
          return { config: {}, errors: { config: `is not valid JSON: ${e.message}` } };
        }
      },
    };
  }
  const fields = [];
  for (const [name, sub] of Object.entries(props)) {
    fields.push(propField(name, sub || {}, current[name], required.has(name)));
  }
  const extra = Object.fromEntries(Object.entries(current).filter(([k]) => !(k in props)));
  return {
    node: h("div", { class: "schema-fields" }, fields.map((f) => f.node)),
    field: (name) => fields.find((f) => f.name === name)?.control || null,
    read() {
      const config = { ...extra };
      const errors = {};
      for (const f of fields) {
        const r = f.read();
        if (r.error) errors[f.name] = r.error;
        else if (r.value !== undefined) config[f.name] = r.value;
      }
      return { config, errors };
    },
  };
}

function propField(name, schema, value, required) {
  const type = typeOf(schema);
  const label = schema.title || name;
  let help = schema.description || "";
  const initial = value !== undefined ? value : schema.default;
  let control;
  let read;
  if (type === "enum") {
    const options = schema.enum.map((v, i) => [String(i), typeof v === "string" ? v : JSON.stringify(v)]);
    const selected = schema.enum.findIndex((v) => JSON.stringify(v) === JSON.stringify(initial));
    control = select(name, required ? options : [["", "—"], ...options], selected >= 0 ? String(selected) : "");
    read = () => ({ value: control.value === "" ? undefined : schema.enum[Number(control.value)] });
  } else if (type === "boolean") {
    control = h("input", { type: "checkbox", name, checked: initial === true });
    read = () => ({ value: control.checked });
  } else if (type === "integer" || type === "number") {
    control = input(name, {
      type: "number",
      step: type === "integer" ? 1 : "any",
      min: schema.minimum,
      max: schema.maximum,
      inputmode: type === "integer" ? "numeric" : "decimal",
      value: initial ?? "",
    });
    read = () => {
      const v = control.value.trim();
      if (!v) return { value: undefined };
      const n = Number(v);
      if (Number.isNaN(n)) return { error: "must be a number" };
      if (type === "integer" && !Number.isInteger(n)) return { error: "must be a whole number" };
      return { value: n };
    };
  } else if (type === "string") {
    control = input(name, { value: initial ?? "", autocomplete: "off", spellcheck: "false" });
    if (schema.examples?.length) control.placeholder = String(schema.examples[0]);
    read = () => {
      const v = control.value.trim();
      return { value: v === "" ? undefined : v };
    };
  } else if (type === "array" && isPrimitiveArray(schema)) {
    const itemType = typeOf(schema.items);
    control = input(name, { value: Array.isArray(initial) ? initial.join(", ") : "", autocomplete: "off", spellcheck: "false" });
    help = [help, "Comma-separated."].filter(Boolean).join(" ");
    read = () => {
      const parts = control.value
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      if (!parts.length) return { value: value !== undefined ? [] : undefined };
      if (itemType === "string") return { value: parts };
      const nums = parts.map(Number);
      if (nums.some((n) => Number.isNaN(n))) return { error: "must be numbers, comma-separated" };
      return { value: nums };
    };
  } else {
    // Objects, arrays of objects, anything else: JSON.
    control = h(
      "textarea",
      { name, rows: 5, spellcheck: "false", class: "mono" },
      initial === undefined ? "" : JSON.stringify(initial, null, 2),
    );
    help = [help, "JSON."].filter(Boolean).join(" ");
    read = () => {
      const text = control.value.trim();
      if (!text) return { value: undefined };
      try {
        return { value: JSON.parse(text) };
      } catch (e) {
        return { error: `is not valid JSON: ${e.message}` };
      }
    };
  }
  control.id = nextId(`cfg-${name}`);
  const node =
    type === "boolean"
      ? h(
          "div",
          { class: "field check" },
          control,
          h("label", { for: control.id }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
          help ? h("p", { class: "help", id: `${control.id}-help` }, help) : null,
        )
      : field(label, control, { help: help || undefined, required });
  if (type === "boolean" && help) {
    control.dataset.help = `${control.id}-help`;
    control.setAttribute("aria-describedby", `${control.id}-help`);
  }
  if (required) control.setAttribute("aria-required", "true");
  return { name, control, node, read };
}

// ---------------------------------------------------------------- one point

function pointEditor(api, point, label, help, saved, installed) {
  const choices = installed.filter((p) => p.extension_point === point);
  const rows = [];
  const list = h("ol", { class: "bindings" });
  const status = h("p", { class: "saved", role: "status" });
  const preview = h("div", { class: "preview", "aria-live": "polite" });
  const headingId = `point-${point}-title`;

  function pluginOf(id) {
    return choices.find((p) => p.id === id) || null;
  }

  function renumber() {
    rows.forEach((r, i) => {
      const name = r.plugin ? `${r.plugin.name} ${r.plugin.version}` : "New binding";
      // A shadow binding (set through the API) is kept as it is, and said.
      const shadow = r.shadow ? ` — shadow run on ${Math.round(r.shadow.sample_rate * 100)} % of ${r.shadow.shadows}'s calls` : "";
      r.legend.textContent = `${i + 1}. ${name}${shadow}`;
      r.up.disabled = i === 0;
      r.down.disabled = i === rows.length - 1;
      r.el.dataset.index = String(i);
    });
    empty.hidden = rows.length > 0;
  }

  function addRow(b) {
    const known = b ? pluginOf(b.plugin_id) : null;
    const options = choices.map((p) => [p.id, `${p.name} ${p.version}`]);
    if (b && !known) options.push([b.plugin_id, `${b.plugin_name} ${b.plugin_version}`]);
    const pluginSelect = select("plugin_id", [["", "Choose a plugin"], ...options], b?.plugin_id || "");
    const onError = select("on_error", ON_ERROR, b?.on_error || "fail");
    const configBox = h("div", { class: "config" });
    const describe = h("p", { class: "muted plugin-description" });
    const up = h("button", { type: "button", class: "button small secondary" }, "Move up");
    const down = h("button", { type: "button", class: "button small secondary" }, "Move down");
    const remove = h("button", { type: "button", class: "button small danger" }, "Remove");
    const legend = h("legend", {});
    const row = {
      el: null,
      legend,
      pluginSelect,
      onError,
      up,
      down,
      plugin: known,
      shadow: b && b.mode === "shadow" ? { mode: "shadow", shadows: b.shadows, sample_rate: b.sample_rate } : null,
      schema: null,
      circuit: b?.circuit_state,
    };
    const setPlugin = (plugin, config) => {
      row.plugin = plugin;
      // A bound plugin missing from the list keeps its configuration as JSON.
      const unlisted = !plugin && b && pluginSelect.value === b.plugin_id;
      row.schema = plugin || unlisted ? schemaForm(plugin ? plugin.config_schema || {} : {}, config) : null;
      describe.textContent = plugin?.description || "";
      configBox.replaceChildren(
        row.schema ? h("fieldset", { class: "config-fields" }, h("legend", {}, "Configuration"), row.schema.node) : h("p", { class: "muted" }, "Choose a plugin to configure it."),
      );
      renumber();
    };
    pluginSelect.addEventListener("change", () => {
      // Keep what was typed for properties the new plugin has too.
      const next = pluginOf(pluginSelect.value);
      const before = row.schema ? row.schema.read().config : {};
      const props = next?.config_schema?.properties || {};
      setPlugin(next, Object.fromEntries(Object.entries(before).filter(([k]) => k in props)));
    });
    up.addEventListener("click", () => move(row, -1));
    down.addEventListener("click", () => move(row, 1));
    remove.addEventListener("click", () => {
      rows.splice(rows.indexOf(row), 1);
      row.el.remove();
      renumber();
      addButton.focus();
    });
    row.el = h(
      "li",
      { class: "binding" },
      h(
        "fieldset",
        {},
        legend,
        h(
          "div",
          { class: "binding-head" },
          field("Plugin", pluginSelect),
          field("If it fails", onError, { help: "Fail shows an error; skip carries on without it." }),
          b?.circuit_state ? h("div", { class: "field" }, h("span", { class: "label" }, "Circuit"), badge(b.circuit_state)) : null,
        ),
        describe,
        configBox,
        h("div", { class: "row-actions" }, up, down, remove),
      ),
    );
    rows.push(row);
    list.append(row.el);
    setPlugin(known, b?.config || {});
    return row;
  }

  function move(row, by) {
    const i = rows.indexOf(row);
    const j = i + by;
    if (j < 0 || j >= rows.length) return;
    rows.splice(i, 1);
    rows.splice(j, 0, row);
    list.replaceChildren(...rows.map((r) => r.el));
    renumber();
    (by < 0 ? row.up : row.down).focus();
    if ((by < 0 ? row.up : row.down).disabled) row.pluginSelect.focus();
  }

  const addButton = h("button", { type: "button", class: "button secondary small" }, "Add a plugin");
  addButton.addEventListener("click", () => {
    const r = addRow(null);
    r.pluginSelect.focus();
  });
  const empty = h("p", { class: "empty" }, choices.length ? "Nothing is bound: add a plugin." : "Nothing is bound, and no plugin of this extension point is installed.");
  for (const b of saved) addRow(b);
  renumber();

  /** The bindings as the API takes them, or client-side problems by field element. */
  function collect() {
    const problems = [];
    const bindings = rows.map((r) => {
      if (!r.pluginSelect.value) problems.push([r.pluginSelect, "Choose a plugin."]);
      const { config, errors } = r.schema ? r.schema.read() : { config: {}, errors: {} };
      for (const [name, message] of Object.entries(errors)) problems.push([r.schema.field(name), message]);
      return { plugin_id: r.pluginSelect.value, config, on_error: r.onError.value, ...(r.shadow || {}) };
    });
    return { bindings, problems };
  }

  /** Shows the API's errors at the fields of the binding they name. */
  function showApiErrors(f, err) {
    const unplaced = [];
    const byField = new Map();
    const put = (el, message) => byField.set(el, byField.has(el) ? `${byField.get(el)}; ${message}` : message);
    for (const [path, message] of Object.entries(err.errors || {})) {
      const m = path.match(/^bindings\[(\d+)\](?:\.([a-z_]+))?(.*)$/);
      const row = m ? rows[Number(m[1])] : null;
      if (path === "cart_id") {
        put(cartInput, message);
      } else if (row && m[2] === "config") {
        const rest = m[3];
        const prop = rest.match(/^\.([^.[\]]+)(.*)$/);
        const required = message.match(/^"([^"]+)" is a required property/);
        let el = null;
        let text = message;
        if (prop) {
          el = row.schema?.field(prop[1]);
          if (prop[2]) text = `${prop[2].replace(/^\./, "")}: ${message}`;
        } else if (required) {
          el = row.schema?.field(required[1]);
        }
        if (!el) el = row.schema?.whole || null;
        if (!el && prop) text = `${prop[1]}${prop[2]}: ${message}`;
        if (el) put(el, text);
        else unplaced.push(`${row.legend.textContent}: ${text}`);
      } else if (row && m[2] === "plugin_id") {
        put(row.pluginSelect, message);
      } else if (row && m[2] === "on_error") {
        put(row.onError, message);
      } else {
        unplaced.push(`${path}: ${message}`);
      }
    }
    for (const [el, message] of byField) markInvalid(f, el, message);
    const alert = f.querySelector("[role=alert]");
    alert.textContent = byField.size
      ? ["Check the highlighted fields.", ...unplaced].join(" ")
      : [err.message, ...unplaced].filter(Boolean).join(" — ");
    alert.hidden = false;
    const first = f.querySelector("[aria-invalid=true]");
    (first || alert).focus?.();
  }

  const cartInput = input("cart_id", { autocomplete: "off", spellcheck: "false", placeholder: "cart_…" });
  const f = form(
    async ({ idempotency, submitter, form: el }) => {
      status.textContent = "";
      const { bindings, problems } = collect();
      if (problems.length) {
        for (const [fieldEl, message] of problems) if (fieldEl) markInvalid(el, fieldEl, message);
        const alert = el.querySelector("[role=alert]");
        alert.textContent = "Check the highlighted fields.";
        alert.hidden = false;
        el.querySelector("[aria-invalid=true]")?.focus();
        return;
      }
      const trying = submitter && submitter.value === "preview";
      try {
        if (trying) {
          const cartId = cartInput.value.trim();
          if (!cartId) {
            markInvalid(el, cartInput, "Give the id of a cart to price (cart_…).");
            cartInput.focus();
            return;
          }
          const cart = await api.post(`/v1/admin/plugin-bindings/${point}/preview`, { bindings, cart_id: cartId }, { idempotency });
          preview.replaceChildren(cartPreview(cart, label));
          status.textContent = "Priced with these bindings; nothing was saved.";
        } else {
          const result = await api.put(`/v1/admin/plugin-bindings/${point}`, { bindings }, { idempotency });
          status.textContent = `Saved: ${result.bindings.length ? result.bindings.map((b) => `${b.plugin_name} ${b.plugin_version}`).join(", ") : "nothing bound"}.`;
          toast(`${label} bindings saved.`);
        }
      } catch (e) {
        if (!(e instanceof ApiError) || e.status === 401) throw e;
        if (trying && e.status === 404 && !Object.keys(e.errors || {}).length) e.errors = { cart_id: e.message };
        showApiErrors(el, e);
      }
    },
    [
      h("p", { class: "muted" }, help),
      list,
      empty,
      h("div", { class: "actions left" }, addButton),
      PREVIEWABLE.has(point) &&
      h(
        "div",
        { class: "try" },
        h(
          "div",
          { class: "grid compact" },
          field("Cart id", cartInput, { help: "A cart (cart_…) to price with the bindings above, before saving them." }),
          h("div", { class: "field end" }, h("button", { type: "submit", class: "button secondary", value: "preview" }, "Try it on a cart")),
        ),
      ),
      h("div", { class: "actions" }, status, h("button", { type: "submit", class: "button", value: "save" }, `Save ${label.toLowerCase()} bindings`)),
      preview,
    ],
    { label: `${label} bindings` },
  );
  return h("section", { class: "card point", id: `point-${point}`, "aria-labelledby": headingId }, h("h2", { id: headingId }, label), f);
}

// ---------------------------------------------------------------- preview

function taxSummary(cart) {
  const sums = new Map();
  const add = (t) => {
    const key = `${t.label}|${t.rate}|${t.jurisdiction}`;
    const prev = sums.get(key);
    sums.set(key, { ...t, amount: { ...t.amount, amount: (prev ? prev.amount.amount : 0) + t.amount.amount } });
  };
  for (const l of cart.lines) for (const t of l.tax_lines || []) add(t);
  for (const t of cart.shipping_tax_lines || []) add(t);
  return [...sums.values()];
}

function pct(rate) {
  const n = Number(rate);
  return Number.isFinite(n) ? `${+(n * 100).toFixed(4)} %` : rate;
}

function cartPreview(cart, label) {
  const taxes = taxSummary(cart);
  return h(
    "div",
    { class: "cart-preview" },
    h("h3", {}, `Cart ${cart.id} with these ${label.toLowerCase()} bindings`),
    table(
      [
        { label: "Item", cell: (l) => h("span", {}, l.title, h("br"), h("code", { class: "small" }, l.sku)) },
        { label: "Qty", num: true, cell: (l) => String(l.quantity) },
        { label: "Unit price", num: true, cell: (l) => money(l.unit_price) },
        { label: "Discounts", cell: (l) => (l.adjustments || []).map((a) => `${a.label} −${formatMoney(a.amount)}`).join(", ") || "–" },
        { label: "Tax", cell: (l) => (l.tax_lines || []).map((t) => `${t.label} ${pct(t.rate)}: ${formatMoney(t.amount)}`).join(", ") || "–" },
        { label: "Total", num: true, cell: (l) => money(l.total) },
      ],
      cart.lines,
      { caption: "Lines, priced", empty: "This cart has no line." },
    ),
    h(
      "dl",
      { class: "facts totals" },
      h("div", {}, h("dt", {}, "Subtotal"), h("dd", {}, money(cart.subtotal))),
      cart.discount_total?.amount ? h("div", {}, h("dt", {}, "Discounts"), h("dd", {}, `−${money(cart.discount_total)}`)) : null,
      (cart.adjustments || []).map((a) => h("div", {}, h("dt", {}, a.label), h("dd", {}, `−${formatMoney(a.amount)}`))),
      h("div", {}, h("dt", {}, "Shipping"), h("dd", {}, money(cart.shipping_total))),
      taxes.map((t) => h("div", { class: "tax-line" }, h("dt", {}, `${t.label} (${pct(t.rate)})`), h("dd", {}, formatMoney(t.amount)))),
      h("div", {}, h("dt", {}, cart.prices_include_tax ? "Tax (included)" : "Tax"), h("dd", {}, money(cart.tax_total))),
      h("div", { class: "grand" }, h("dt", {}, "Total"), h("dd", {}, money(cart.total))),
    ),
    cart.warnings?.length ? h("ul", { class: "warnings" }, cart.warnings.map((w) => h("li", {}, w.message))) : null,
  );
}
