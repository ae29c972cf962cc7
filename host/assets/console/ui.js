// The console's building blocks: page headers, tables, form fields, forms
// that send one write each (with a stable Idempotency-Key per attempt) and
// show the API's errors at their fields, dialogs, a status line and small
// formatters. Everything is built with h(); nothing goes through innerHTML.

import { ApiError, h, formatMoney, showFormErrors, clearFormErrors, markField, idempotencyKey } from "/assets/common/api.js";

export { h, formatMoney };

let uid = 0;
/** A unique element id with a readable prefix. */
export function nextId(prefix = "f") {
  uid += 1;
  return `${prefix}-${uid}`;
}

/** The header of a view: its one h1, an optional lead and actions. */
export function pageHeader(title, { lead, actions = [] } = {}) {
  return h(
    "header",
    { class: "page-header" },
    h("div", {}, h("h1", { tabindex: "-1" }, title), lead ? h("p", { class: "lead" }, lead) : null),
    actions.length ? h("div", { class: "page-actions" }, actions) : null,
  );
}

/** A card (a section with an h2 when titled). */
export function card(title, ...children) {
  const id = title ? nextId("card") : null;
  return h(
    "section",
    { class: "card", "aria-labelledby": id },
    title ? h("h2", { id }, title) : null,
    ...children,
  );
}

/**
 * A table: columns = [{label, cell(row) -> node|string, num, class}];
 * `empty` is shown in place of an empty body.
 */
export function table(columns, rows, { caption, empty = "Nothing here yet." } = {}) {
  if (!rows.length) return h("p", { class: "empty" }, empty);
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      {},
      caption ? h("caption", { class: "visually-hidden" }, caption) : null,
      h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col", class: c.num ? "num" : c.class }, c.label)))),
      h(
        "tbody",
        {},
        rows.map((r) => h("tr", {}, columns.map((c) => h("td", { class: c.num ? "num" : c.class }, c.cell(r))))),
      ),
    ),
  );
}

/**
 * A table fed page by page: `load(cursor)` resolves to {data, next_cursor};
 * a "Load more" button fetches the next page.
 */
export function pagedTable(columns, load, opts = {}) {
  const box = h("div", { class: "paged" });
  const rows = [];
  let cursor = null;
  const more = h("button", { type: "button", class: "button secondary" }, "Load more");
  async function next() {
    more.disabled = true;
    try {
      const page = await load(cursor);
      rows.push(...page.data);
      cursor = page.next_cursor || null;
      box.replaceChildren(table(columns, rows, opts), cursor ? more : "");
    } catch (e) {
      box.replaceChildren(errorBox(e));
    } finally {
      more.disabled = false;
    }
  }
  more.addEventListener("click", next);
  box.append(h("p", { class: "loading" }, "Loading…"));
  next();
  return box;
}

/** Every page of a paged listing, up to `max` items. */
export async function allPages(load, max = 1000) {
  const all = [];
  let cursor = null;
  do {
    const page = await load(cursor);
    all.push(...page.data);
    cursor = page.next_cursor || null;
  } while (cursor && all.length < max);
  return all;
}

/**
 * A labelled field around `control` (which gets an id and is returned in
 * `field.control`). `help` is shown under it and read with it.
 */
export function field(label, control, { help, required, inline } = {}) {
  if (!control.id) control.id = nextId(control.name || "field");
  const wrap = h(
    "div",
    { class: inline ? "field inline" : "field" },
    h("label", { for: control.id }, label, required ? h("span", { class: "req", "aria-hidden": "true" }, " *") : null),
    control,
  );
  if (required) control.setAttribute("aria-required", "true");
  if (help) {
    const hid = `${control.id}-help`;
    wrap.append(h("p", { class: "help", id: hid }, help));
    control.dataset.help = hid;
    control.setAttribute("aria-describedby", hid);
  }
  wrap.control = control;
  return wrap;
}

/** A checkbox with its label after it. */
export function checkbox(name, label, checked, { help } = {}) {
  const input = h("input", { type: "checkbox", name, id: nextId(name), checked: !!checked });
  const wrap = h("div", { class: "field check" }, input, h("label", { for: input.id }, label));
  if (help) {
    const hid = `${input.id}-help`;
    wrap.append(h("p", { class: "help", id: hid }, help));
    input.dataset.help = hid;
    input.setAttribute("aria-describedby", hid);
  }
  wrap.control = input;
  return wrap;
}

/** An input. */
export function input(name, attrs = {}) {
  return h("input", { type: "text", name, ...attrs });
}

/** A select of [value, label] pairs (or plain values). */
export function select(name, options, value, attrs = {}) {
  return h(
    "select",
    { name, ...attrs },
    options.map((o) => {
      const [v, l] = Array.isArray(o) ? o : [o, o];
      return h("option", { value: v, selected: String(v) === String(value ?? "") }, l);
    }),
  );
}

/** A submit button. */
export function submit(label, attrs = {}) {
  return h("button", { type: "submit", class: "button", ...attrs }, label);
}

/** Put back each field's help text in aria-describedby, with its error note if any. */
function linkHelp(form) {
  for (const f of form.querySelectorAll("[data-help]")) {
    const ids = [f.dataset.help];
    const err = f.getAttribute("aria-invalid") === "true" ? `${f.id || f.name || "field"}-error` : null;
    if (err && form.ownerDocument.getElementById(err)) ids.push(err);
    f.setAttribute("aria-describedby", ids.join(" "));
  }
}

/** The name a field has in the form, for an API error path: the path or its longest prefix that names a field. */
function fieldFor(form, path) {
  let p = path;
  while (p) {
    if (form.querySelector(`[name="${CSS.escape(p)}"], [data-field="${CSS.escape(p)}"]`)) return p;
    const cut = p.match(/^(.*)(\.[^.[\]]+|\[\d+\])$/);
    if (!cut) break;
    p = cut[1];
  }
  return null;
}

/**
 * Shows `error` on `form`: every message at the field its path names (or
 * the nearest enclosing field), the rest in the form's alert.
 */
export function showErrors(form, error) {
  if (!(error instanceof ApiError)) {
    error = new ApiError(0, { detail: String(error && error.message ? error.message : error) });
  }
  const errors = {};
  let unplaced = 0;
  for (const [path, message] of Object.entries(error.errors || {})) {
    const name = fieldFor(form, path);
    if (!name) unplaced += 1;
    if (name && name !== path) {
      const rest = path.slice(name.length).replace(/^\./, "");
      errors[name] = errors[name] ? `${errors[name]}; ${rest}: ${message}` : `${rest}: ${message}`;
    } else if (name) {
      errors[name] = errors[name] ? `${errors[name]}; ${message}` : message;
    } else {
      errors[path] = message;
    }
  }
  // When every message is at its field, the summary only points there.
  const placedAll = Object.keys(errors).length > 0 && unplaced === 0;
  showFormErrors(form, { message: placedAll ? "Check the highlighted fields." : error.message, errors });
  linkHelp(form);
}

/** Clears a form's errors (keeping help texts linked). */
export function clearErrors(form) {
  clearFormErrors(form);
  linkHelp(form);
}

/** Marks one field of a form invalid (keeping its help text linked). */
export function markInvalid(form, fieldEl, message) {
  markField(fieldEl, message);
  linkHelp(form);
}

/**
 * A form that performs one write. `onSubmit({form, data, idempotency})`
 * runs on submit with the busy state shown; an ApiError is shown at the
 * fields. The Idempotency-Key stays the same while the form is unchanged
 * (so a retry after a network failure is the same write) and is renewed
 * after a success or an edit.
 */
export function form(onSubmit, children, { label, className = "form" } = {}) {
  const alert = h("p", { role: "alert", class: "form-alert", hidden: true });
  const f = h("form", { class: className, novalidate: true, "aria-label": label }, alert, children);
  let key = idempotencyKey();
  f.addEventListener("input", () => {
    key = idempotencyKey();
  });
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (f.dataset.busy) return;
    f.dataset.busy = "1";
    const buttons = [...f.querySelectorAll("button[type=submit]")];
    for (const b of buttons) b.disabled = true;
    clearErrors(f);
    f.setAttribute("aria-busy", "true");
    try {
      await onSubmit({ form: f, data: new FormData(f), idempotency: key, submitter: ev.submitter });
      key = idempotencyKey();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) return;
      if (e instanceof ApiError || e instanceof FormProblem) showErrors(f, e);
      else {
        showErrors(f, new ApiError(0, { detail: e.message || String(e) }));
        console.warn(e);
      }
    } finally {
      delete f.dataset.busy;
      f.removeAttribute("aria-busy");
      for (const b of buttons) b.disabled = false;
    }
  });
  return f;
}

/** A problem found before sending: `errors` by field name, like the API's. */
export class FormProblem extends ApiError {
  constructor(errors, detail = "Check the highlighted fields.") {
    super(422, { detail, errors, code: "invalid_input" });
  }
}

/** The error of a failed load, in place of the content. */
export function errorBox(e) {
  if (e instanceof ApiError && e.status === 401) return h("p", {}, "");
  return h("div", { class: "notice error", role: "alert" }, e instanceof ApiError ? e.message : `Something went wrong: ${e.message || e}`);
}

/** Says something in the status line (read by screen readers). */
export function toast(text, kind = "ok") {
  const el = document.getElementById("toast");
  el.className = `toast show ${kind}`;
  el.textContent = text;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => {
    el.className = "toast";
    el.textContent = "";
  }, 5000);
}

/** Asks for confirmation in a modal dialog; resolves true when confirmed. */
export function confirmDialog(title, message, confirmLabel = "Confirm", { danger } = {}) {
  return new Promise((resolve) => {
    const tid = nextId("dlg");
    const ok = h("button", { type: "button", class: danger ? "button danger" : "button" }, confirmLabel);
    const cancel = h("button", { type: "button", class: "button secondary" }, "Cancel");
    const dlg = h(
      "dialog",
      { class: "dialog", "aria-labelledby": tid },
      h("h2", { id: tid }, title),
      h("p", {}, message),
      h("div", { class: "actions" }, cancel, ok),
    );
    const done = (v) => {
      dlg.close();
      dlg.remove();
      resolve(v);
    };
    ok.addEventListener("click", () => done(true));
    cancel.addEventListener("click", () => done(false));
    dlg.addEventListener("cancel", (e) => {
      e.preventDefault();
      done(false);
    });
    document.body.append(dlg);
    dlg.showModal();
    cancel.focus();
  });
}

/** A button that copies `text` to the clipboard. */
export function copyButton(text, label = "Copy") {
  const b = h("button", { type: "button", class: "button small secondary" }, label);
  b.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(text);
      toast("Copied to the clipboard.");
    } catch {
      toast("Could not copy: select the text and copy it by hand.", "error");
    }
  });
  return b;
}

/** A secret shown once, with a copy button. */
export function secretRow(label, value) {
  const code = h("code", { class: "secret" }, value);
  return h("div", { class: "secret-row" }, h("span", { class: "secret-label" }, label), code, copyButton(value, `Copy ${label.toLowerCase()}`));
}

/** A status badge. */
export function badge(text, tone) {
  const t = tone || toneOf(text);
  return h("span", { class: `badge ${t}` }, String(text ?? "").replaceAll("_", " "));
}

function toneOf(s) {
  const v = String(s || "");
  if (/^(paid|fulfilled|active|succeeded|closed|enabled|captured)$/.test(v)) return "good";
  if (/(pending|partially|requires|half_open|draft|authorized|unfulfilled)/.test(v)) return "warn";
  if (/(cancel|failed|refunded|open|archived|disabled|voided|declined)/.test(v)) return "bad";
  return "neutral";
}

/** A definition list from [term, value] pairs (falsy values skipped unless 0). */
export function dl(pairs, className = "facts") {
  return h(
    "dl",
    { class: className },
    pairs
      .filter(([, v]) => v !== undefined && v !== null && v !== "")
      .map(([t, v]) => h("div", {}, h("dt", {}, t), h("dd", {}, v))),
  );
}

/** A timestamp (RFC 3339 or unix ms) in the browser's locale. */
export function when(t) {
  if (t === null || t === undefined || t === "") return "";
  const d = new Date(t);
  if (Number.isNaN(d.getTime())) return String(t);
  return d.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** A number with grouping. */
export function num(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return Number(n).toLocaleString(undefined, { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

/** Microseconds as a readable duration. */
export function micros(us) {
  if (!us) return "–";
  if (us < 1000) return `${num(us, 0)} µs`;
  return `${num(us / 1000, us < 10000 ? 2 : 1)} ms`;
}

/** Bytes as KiB/MiB. */
export function bytes(n) {
  if (n === null || n === undefined) return "–";
  if (n < 1024) return `${n} B`;
  if (n < 1 << 20) return `${num(n / 1024, 1)} KiB`;
  return `${num(n / (1 << 20), 1)} MiB`;
}

/** Money, tolerating a missing value. */
export function money(m) {
  return m ? formatMoney(m) : "–";
}

/** A link inside the console. */
export function link(href, text, attrs = {}) {
  return h("a", { href, ...attrs }, text);
}

/** Today (or `days` from today) as YYYY-MM-DD in the browser's time zone. */
export function isoDay(days = 0) {
  const d = new Date();
  d.setDate(d.getDate() + days);
  const p = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}`;
}
