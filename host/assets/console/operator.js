// The operator's views: merchants (onboarding, key rotation) and plugins
// (install by upload, versions side by side, one plugin's limits, network
// allow-list, logs, and latency / failure plots).

import {
  h, pageHeader, card, table, pagedTable, allPages, field, checkbox, input, submit, form, FormProblem,
  errorBox, toast, confirmDialog, secretRow, badge, dl, when, num, micros, bytes, link,
} from "./ui.js";
import { figure, lineChart, barChart } from "./charts.js";

export const operatorNav = [
  ["#/merchants", "Merchants"],
  ["#/plugins", "Plugins"],
];

export const operatorRoutes = [
  ["merchants", merchantsView],
  ["plugins", pluginsView],
  ["plugins/:id", pluginView],
];

// ---------------------------------------------------------------- merchants

function keysCard(title, keys, note) {
  return h(
    "div",
    { class: "notice keys", role: "region", "aria-label": title },
    h("h2", {}, title),
    h("p", {}, note),
    secretRow("Secret key", keys.secret_key),
    secretRow("Publishable key", keys.publishable_key),
  );
}

async function merchantsView({ api, rerender }) {
  const shown = h("div", { class: "shown-once", "aria-live": "polite" });
  const columns = [
    { label: "Name", cell: (m) => h("strong", {}, m.name) },
    { label: "Slug", cell: (m) => h("code", {}, m.slug) },
    { label: "Currency", cell: (m) => m.default_currency },
    { label: "Country", cell: (m) => m.country },
    { label: "Prices", cell: (m) => (m.prices_include_tax ? "include tax" : "exclude tax") },
    { label: "Time zone", cell: (m) => m.time_zone },
    { label: "Created", cell: (m) => when(m.created_at) },
    {
      label: "Keys",
      cell: (m) => {
        const b = h("button", { type: "button", class: "button small secondary" }, "Rotate keys");
        b.setAttribute("aria-label", `Rotate the keys of ${m.name}`);
        b.addEventListener("click", async () => {
          const ok = await confirmDialog(
            `Rotate the keys of ${m.name}?`,
            "Its current secret and publishable keys stop working at once; its storefront and back office need the new ones.",
            "Rotate keys",
            { danger: true },
          );
          if (!ok) return;
          b.disabled = true;
          try {
            const keys = await api.post(`/v1/platform/merchants/${encodeURIComponent(m.id)}/rotate-keys`);
            shown.replaceChildren(keysCard(`New keys of ${m.name}`, keys, "Shown this once: copy them now."));
            shown.querySelector("h2").setAttribute("tabindex", "-1");
            shown.querySelector("h2").focus();
            toast(`The keys of ${m.name} were rotated.`);
          } catch (e) {
            toast(e.message, "error");
          } finally {
            b.disabled = false;
          }
        });
        return b;
      },
    },
  ];
  const list = pagedTable(columns, (cursor) => api.get("/v1/platform/merchants", { cursor, limit: 50 }), {
    caption: "Merchants",
    empty: "No merchant yet.",
  });

  const create = form(
    async ({ data, idempotency, form: f }) => {
      const body = {
        name: data.get("name").trim(),
        slug: data.get("slug").trim(),
        default_currency: data.get("default_currency").trim().toUpperCase(),
        country: data.get("country").trim().toUpperCase(),
        prices_include_tax: data.get("prices_include_tax") === "on",
      };
      const tz = data.get("time_zone").trim();
      if (tz) body.time_zone = tz;
      const created = await api.post("/v1/platform/merchants", body, { idempotency });
      f.reset();
      toast(`${created.name} was created.`);
      const fresh = await merchantsView({ api, rerender });
      fresh.querySelector(".shown-once").replaceChildren(
        keysCard(`Keys of ${created.name}`, created, "Shown this once: copy them now and hand them to the merchant."),
      );
      document.getElementById("main").replaceChildren(fresh);
      const head = fresh.querySelector(".shown-once h2");
      head.setAttribute("tabindex", "-1");
      head.focus();
    },
    [
      h(
        "div",
        { class: "grid" },
        field("Name", input("name", { autocomplete: "off" }), { required: true }),
        field("Slug", input("slug", { autocomplete: "off" }), { required: true, help: "In the storefront's address: /shop/<slug>" }),
        field("Currency", input("default_currency", { maxlength: 3, autocomplete: "off" }), { required: true, help: "ISO 4217, e.g. EUR" }),
        field("Country", input("country", { maxlength: 2, autocomplete: "off" }), { required: true, help: "ISO 3166-1 alpha-2, e.g. DE" }),
        field("Time zone", input("time_zone", { autocomplete: "off" }), { help: "IANA, e.g. Europe/Berlin" }),
      ),
      checkbox("prices_include_tax", "Catalog prices include tax"),
      h("div", { class: "actions" }, submit("Create merchant")),
    ],
    { label: "New merchant" },
  );

  return h(
    "div",
    {},
    pageHeader("Merchants", { lead: "Every shop on this platform." }),
    shown,
    card("All merchants", list),
    card("New merchant", create),
  );
}

// ---------------------------------------------------------------- plugins

function shortSha(s) {
  return h("code", { title: s }, s.slice(0, 12));
}

function circuit(c) {
  return h(
    "span",
    {},
    badge(c.state),
    c.open_bindings ? h("span", { class: "small-note" }, ` ${c.open_bindings} binding${c.open_bindings === 1 ? "" : "s"} not closed`) : "",
  );
}

function uploadForm(api, after) {
  const file = h("input", { type: "file", name: "component", accept: ".wasm,application/wasm" });
  return form(
    async ({ idempotency, form: f }) => {
      const chosen = file.files[0];
      if (!chosen) throw new FormProblem({ component: "Choose a WebAssembly component (.wasm) to install." });
      const bytesOf = await chosen.arrayBuffer();
      let plugin;
      try {
        plugin = await api.request("POST", "/v1/platform/plugins", {
          raw: bytesOf,
          idempotency,
          extraHeaders: { "Content-Type": "application/wasm" },
        });
      } catch (e) {
        // The reason a component is refused belongs to the file chosen.
        if (e.status >= 400 && e.status !== 401 && !Object.keys(e.errors || {}).length) e.errors = { component: e.message };
        throw e;
      }
      f.reset();
      toast(`Installed ${plugin.name} ${plugin.version} (${plugin.extension_point}).`);
      await after(plugin);
    },
    [
      field("Component", file, {
        required: true,
        help: "A .wasm component; its name, version and extension point come from the component itself.",
      }),
      h("div", { class: "actions" }, submit("Install plugin")),
    ],
    { label: "Install a plugin" },
  );
}

async function pluginsView({ api, rerender }) {
  const listBox = h("div", { "aria-live": "polite" }, h("p", { class: "loading" }, "Loading…"));
  async function load() {
    try {
      const plugins = await allPages((cursor) => api.get("/v1/platform/plugins", { cursor, limit: 100 }));
      listBox.replaceChildren(h("div", { class: "plugin-groups" }, groupedPlugins(plugins)));
    } catch (e) {
      listBox.replaceChildren(errorBox(e));
    }
  }
  await load();
  return h(
    "div",
    {},
    pageHeader("Plugins", { lead: "Installed components, grouped by name, each version side by side." }),
    card("Install a plugin", uploadForm(api, load)),
    listBox,
  );
}

function groupedPlugins(plugins) {
  if (!plugins.length) return [h("p", { class: "empty" }, "No plugin is installed.")];
  const groups = new Map();
  for (const p of plugins) {
    if (!groups.has(p.name)) groups.set(p.name, []);
    groups.get(p.name).push(p);
  }
  const cmp = (a, b) => a.version.localeCompare(b.version, undefined, { numeric: true });
  return [...groups.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, versions]) => {
      versions.sort(cmp);
      const rows = [
        ["Id", (p) => link(`#/plugins/${encodeURIComponent(p.id)}`, p.id, { class: "mono" })],
        ["Extension point", (p) => p.extension_point],
        ["Contract", (p) => p.contract],
        ["Size", (p) => bytes(p.size_bytes)],
        ["SHA-256", (p) => shortSha(p.sha256)],
        ["Calls", (p) => num(p.stats.calls)],
        ["Failures", (p) => num(p.stats.failures)],
        ["p50", (p) => micros(p.stats.p50_us)],
        ["p95", (p) => micros(p.stats.p95_us)],
        ["p99", (p) => micros(p.stats.p99_us)],
        ["Circuit", (p) => circuit(p.circuit)],
        ["Installed", (p) => when(p.created_at)],
      ];
      const desc = versions[versions.length - 1].description;
      return card(
        name,
        desc ? h("p", { class: "muted" }, desc) : null,
        h(
          "div",
          { class: "table-wrap" },
          h(
            "table",
            { class: "compare", "data-plugin": name },
            h("caption", { class: "visually-hidden" }, `Versions of ${name}`),
            h(
              "thead",
              {},
              h("tr", {}, h("th", { scope: "col" }, "Version"), versions.map((p) => h("th", { scope: "col" }, p.version))),
            ),
            h(
              "tbody",
              {},
              rows.map(([label, cell]) => h("tr", {}, h("th", { scope: "row" }, label), versions.map((p) => h("td", {}, cell(p))))),
            ),
          ),
        ),
      );
    });
}

async function pluginView({ api, onLeave, current }, id) {
  const path = `/v1/platform/plugins/${encodeURIComponent(id)}`;
  let plugin = await api.get(path);
  const title = `${plugin.name} ${plugin.version}`;

  const summary = h("div");
  function showSummary() {
    summary.replaceChildren(
      dl([
        ["Id", h("code", {}, plugin.id)],
        ["Extension point", plugin.extension_point],
        ["Contract", plugin.contract],
        ["Size", bytes(plugin.size_bytes)],
        ["SHA-256", h("code", { class: "wrap" }, plugin.sha256)],
        [
          "Imports",
          plugin.imports.length
            ? h("details", {}, h("summary", {}, `${plugin.imports.length} interfaces`), h("ul", { class: "plain" }, plugin.imports.map((i) => h("li", {}, h("code", {}, i)))))
            : "none",
        ],
        ["Installed", when(plugin.created_at)],
      ]),
      h(
        "div",
        { class: "stats" },
        stat("Calls", num(plugin.stats.calls)),
        stat("Failures", num(plugin.stats.failures)),
        stat("p50", micros(plugin.stats.p50_us)),
        stat("p95", micros(plugin.stats.p95_us)),
        stat("p99", micros(plugin.stats.p99_us)),
        stat("Mean fuel", num(plugin.stats.mean_fuel)),
        stat("Circuit", circuit(plugin.circuit)),
        stat("Status", plugin.enabled ? badge("enabled", "good") : badge("disabled", "bad")),
        plugin.extension_point === "payment" ? stat("HTTP requests", `${num(plugin.stats.http_requests)} (${num(plugin.stats.http_refused)} refused)`) : null,
      ),
    );
  }
  showSummary();

  // Latency over time: the host keeps each plugin's calls of the last hour
  // in windows of about ten seconds, with each window's own percentiles.
  const s = { t: [], p50: [], p95: [], p99: [], calls: 0 };
  const ms = (v) => (v === null || v === undefined ? "–" : `${v < 10 ? v.toFixed(2) : v.toFixed(1)} ms`);
  const latency = figure("Latency percentiles per window, last hour (this host)", "");
  const latencyChart = lineChart(latency.plotArea, {
    x: s.t,
    series: [
      { label: "p50", values: s.p50 },
      { label: "p95", values: s.p95 },
      { label: "p99", values: s.p99 },
    ],
    format: ms,
    span: 3600,
  });
  async function loadHistory() {
    const history = await api.get(`${path}/history`);
    if (!current()) return;
    const busy = (w, v) => (w.calls ? v / 1000 : null);
    s.t = history.windows.map((w) => Date.parse(w.to) / 1000);
    s.p50 = history.windows.map((w) => busy(w, w.p50_us));
    s.p95 = history.windows.map((w) => busy(w, w.p95_us));
    s.p99 = history.windows.map((w) => busy(w, w.p99_us));
    s.calls = history.windows.reduce((n, w) => n + w.calls, 0);
    latencyChart.setData(s.t, s.p50, s.p95, s.p99);
    latency.plotArea.hidden = !history.windows.length;
    const last = history.windows.findLast((w) => w.calls);
    latency.setSummary(
      history.windows.length
        ? `${s.calls} call${s.calls === 1 ? "" : "s"} in ${history.windows.length} window${history.windows.length === 1 ? "" : "s"} of ${history.window_seconds} s` +
            (last ? `; latest busy window p50 ${ms(last.p50_us / 1000)}, p95 ${ms(last.p95_us / 1000)}, p99 ${ms(last.p99_us / 1000)}.` : ".")
        : `No window closed yet: the host closes one every ${history.window_seconds} s or so.`,
    );
  }
  loadHistory().catch((e) => current() && toast(`Could not load the history: ${e.message}`, "error"));

  const failures = figure("Failures by kind", "");
  let failureChart = null;
  const logsBox = h("div", {}, h("p", { class: "loading" }, "Loading…"));
  async function loadLogs() {
    try {
      const logs = await api.get(`${path}/logs`);
      if (!current()) return;
      const kinds = logs.errors.map((e) => e.kind);
      const counts = logs.errors.map((e) => e.count);
      failures.plotArea.hidden = !kinds.length;
      if (!failureChart) failureChart = barChart(failures.plotArea, { labels: kinds, values: counts, label: "Failures" });
      else failureChart.setData(kinds, counts);
      failures.setSummary(
        kinds.length ? logs.errors.map((e) => `${e.kind}: ${e.count}`).join(", ") : "No failure since this host started.",
      );
      logsBox.replaceChildren(
        h("h3", {}, "Last error of each kind"),
        table(
          [
            { label: "Kind", cell: (e) => badge(e.kind, "bad") },
            { label: "Count", num: true, cell: (e) => num(e.count) },
            { label: "Message", cell: (e) => e.message },
            { label: "Call", cell: (e) => e.call },
            { label: "Merchant", cell: (e) => h("code", {}, e.merchant_id) },
            { label: "At", cell: (e) => when(e.at) },
          ],
          logs.errors,
          { caption: "Last errors", empty: "No failure since this host started." },
        ),
        h("h3", {}, "Recent log lines"),
        table(
          [
            { label: "At", cell: (l) => when(l.at) },
            { label: "Level", cell: (l) => badge(l.level, l.level === "error" ? "bad" : l.level === "warn" ? "warn" : "neutral") },
            { label: "Call", cell: (l) => l.call },
            { label: "Merchant", cell: (l) => h("code", {}, l.merchant_id) },
            { label: "Message", cell: (l) => h("span", { class: "pre" }, l.message) },
          ],
          logs.lines.slice().reverse(),
          { caption: "Log lines, newest first", empty: "Nothing logged." },
        ),
      );
    } catch (e) {
      if (current()) logsBox.replaceChildren(errorBox(e));
    }
  }
  loadLogs();

  const timer = setInterval(async () => {
    try {
      const p = await api.get(path);
      if (!current()) return;
      plugin = p;
      showSummary();
      await loadHistory();
      await loadLogs();
    } catch (e) {
      if (current()) toast(`Could not refresh: ${e.message}`, "error");
    }
  }, 5000);
  onLeave(() => {
    clearInterval(timer);
    latencyChart.destroy();
    failureChart?.destroy();
  });

  return h(
    "div",
    {},
    pageHeader(title, { lead: plugin.description, actions: [link("#/plugins", "← All plugins", { class: "button secondary" })] }),
    card("Overview", summary),
    h("div", { class: "two" }, card(null, latency.figure), card(null, failures.figure)),
    card("Availability", lifecycle(api, path, () => plugin, (p) => ((plugin = p), showSummary()))),
    card("Limits", limitsForm(api, path, () => plugin, (p) => ((plugin = p), showSummary()))),
    card("Network allow-list", networkForm(api, path, () => plugin, (p) => (plugin = p))),
    card("Logs and last errors", logsBox),
  );
}

/**
 * Disable or enable the plugin platform-wide, or uninstall it: the API
 * refuses (409) while a merchant binds it, naming the bindings, or when a
 * payment plugin took payments.
 */
function lifecycle(api, path, current, changed) {
  const note = h("p", { class: "help" });
  const problem = h("p", { role: "alert", class: "form-error", hidden: true });
  const toggle = h("button", { type: "button", class: "button secondary" });
  const remove = h("button", { type: "button", class: "button danger" }, "Uninstall");
  const show = () => {
    const p = current();
    toggle.textContent = p.enabled ? "Disable plugin" : "Enable plugin";
    note.textContent = p.enabled
      ? "Disabling stops every merchant's calls to it at once: each binding then answers as its “if it fails” setting says."
      : "Disabled: bindings of it answer as their “if it fails” setting says, and it is never run.";
  };
  const fail = (e) => {
    problem.textContent = e.message;
    problem.hidden = false;
  };
  toggle.addEventListener("click", async () => {
    problem.hidden = true;
    const p = current();
    if (p.enabled) {
      const ok = await confirmDialog(`Disable ${p.name} ${p.version}?`, "Every merchant that binds it loses it until you enable it again.", "Disable", { danger: true });
      if (!ok) return;
    }
    try {
      changed(await api.patch(path, { enabled: !p.enabled }));
      toast(p.enabled ? "Plugin disabled." : "Plugin enabled.");
      show();
    } catch (e) {
      fail(e);
    }
  });
  remove.addEventListener("click", async () => {
    problem.hidden = true;
    const p = current();
    const ok = await confirmDialog(`Uninstall ${p.name} ${p.version}?`, "Its component is deleted from the platform.", "Uninstall", { danger: true });
    if (!ok) return;
    try {
      await api.del(path);
      toast(`Uninstalled ${p.name} ${p.version}.`);
      location.hash = "#/plugins";
    } catch (e) {
      fail(e);
    }
  });
  show();
  return h("div", {}, note, h("div", { class: "actions" }, toggle, remove), problem);
}

function stat(label, value) {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value" }, value));
}

const LIMITS = [
  ["fuel_per_200_lines", "Fuel per 200 lines", "Instructions a call may run per 200 cart lines"],
  ["deadline_ms", "Deadline (ms)", "Wall-clock deadline of one call"],
  ["memory_bytes", "Memory (bytes)", "Linear memory the plugin may grow to"],
  ["max_input_bytes", "Max input (bytes)", "Largest input a call may be given"],
  ["max_output_bytes", "Max output (bytes)", "Largest output a call may return"],
];

function limitHelp(help, now) {
  return `${help}. Now ${num(now)}; empty keeps the default.`;
}

function limitsForm(api, path, get, set) {
  const p = get();
  const inputs = LIMITS.map(([name, label, help]) =>
    field(
      label,
      input(name, {
        type: "number",
        min: 0,
        step: 1,
        inputmode: "numeric",
        value: p.limit_overrides[name] ?? "",
        placeholder: String(p.limits[name]),
      }),
      { help: limitHelp(help, p.limits[name]) },
    ),
  );
  const f = form(
    async ({ data, idempotency, submitter }) => {
      const body = {};
      const errors = {};
      if (!(submitter && submitter.value === "reset")) {
        for (const [name] of LIMITS) {
          const v = String(data.get(name) || "").trim();
          if (!v) continue;
          if (!/^\d+$/.test(v)) errors[name] = "must be a whole number";
          else body[name] = Number(v);
        }
      }
      if (Object.keys(errors).length) throw new FormProblem(errors);
      let updated;
      try {
        updated = await api.patch(`${path}/limits`, body, { idempotency });
      } catch (e) {
        // `invalid_limits` names the limit at the start of its message.
        const named = LIMITS.find(([name]) => e.message?.startsWith(`${name} `));
        if (named && !Object.keys(e.errors || {}).length) e.errors = { [named[0]]: e.message.slice(named[0].length + 1) };
        throw e;
      }
      set(updated);
      for (const [name, , help] of LIMITS) {
        const el = f.querySelector(`[name=${name}]`);
        el.value = updated.limit_overrides[name] ?? "";
        el.placeholder = String(updated.limits[name]);
        document.getElementById(el.dataset.help).textContent = limitHelp(help, updated.limits[name]);
      }
      toast(Object.keys(body).length ? "Limits saved." : "Every limit is back to its default.");
    },
    [
      h("div", { class: "grid" }, inputs),
      h(
        "div",
        { class: "actions" },
        submit("Save limits"),
        h("button", { type: "submit", class: "button secondary", value: "reset" }, "Restore defaults"),
      ),
    ],
    { label: "Limit overrides" },
  );
  return f;
}

function networkForm(api, path, get, set) {
  const p = get();
  const area = h("textarea", { name: "allowed_hosts", rows: 4, spellcheck: "false" }, p.allowed_hosts.join("\n"));
  return form(
    async ({ data, idempotency }) => {
      const hosts = String(data.get("allowed_hosts") || "")
        .split(/[\n,]+/)
        .map((s) => s.trim())
        .filter(Boolean);
      try {
        const updated = await api.put(`${path}/network`, { allowed_hosts: hosts }, { idempotency });
        set(updated);
        area.value = updated.allowed_hosts.join("\n");
        toast(updated.allowed_hosts.length ? "Allow-list saved." : "This plugin may reach no host.");
      } catch (e) {
        // `allowed_hosts[2]` is the third line.
        for (const [k, v] of Object.entries(e.errors || {})) {
          const m = k.match(/^allowed_hosts\[(\d+)\]$/);
          if (m) {
            delete e.errors[k];
            e.errors.allowed_hosts = `${hosts[Number(m[1])]}: ${v}`;
          }
        }
        if (e.code === "network_not_supported") e.errors = { allowed_hosts: e.message, ...(e.errors || {}) };
        throw e;
      }
    },
    [
      field("Allowed hosts", area, {
        help: "One host:port per line (e.g. psp.example:443). Only payment plugins may reach the network; empty allows none.",
      }),
      h("div", { class: "actions" }, submit("Save allow-list")),
    ],
    { label: "Network allow-list" },
  );
}
