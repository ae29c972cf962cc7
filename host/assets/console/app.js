// The console's shell: sign-in with a pasted key (kept in sessionStorage
// only), the left navigation of the key's audience, and a hash router that
// renders one view at a time into <main>.

import { client, ApiError, h } from "/assets/common/api.js";
import { pageHeader, field, form, submit, markInvalid, errorBox } from "./ui.js";
import { operatorRoutes, operatorNav } from "./operator.js";
import { merchantRoutes, merchantNav } from "./merchant.js";

const STORAGE = "mercato.console.key";
const NOT_RECOGNISED = "This key was not recognised (wrong or revoked). Paste a current key.";

const main = document.getElementById("main");
const app = document.getElementById("app");

let session = null; // {mode, api, label}
let leaving = []; // cleanups of the current view
let signInMessage = "";

/** "merchant" for a secret key, "operator" for anything else. */
function modeOf(key) {
  return key.startsWith("sk_") ? "merchant" : "operator";
}

/** A client whose 401 ends the session and goes back to sign-in. */
function sessionClient(key) {
  const raw = client(key);
  const guard = (fn) => async (...args) => {
    try {
      return await fn(...args);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401 && session) expire();
      throw e;
    }
  };
  return {
    get: guard(raw.get),
    post: guard(raw.post),
    put: guard(raw.put),
    patch: guard(raw.patch),
    del: guard(raw.del),
    request: guard(raw.request),
  };
}

function start(key) {
  const mode = modeOf(key);
  session = { mode, api: sessionClient(key) };
}

function expire() {
  signOut(NOT_RECOGNISED);
}

function signOut(message = "") {
  sessionStorage.removeItem(STORAGE);
  session = null;
  signInMessage = message;
  runCleanups();
  if (location.hash && location.hash !== "#/") history.replaceState(null, "", location.pathname);
  render();
}

function runCleanups() {
  for (const fn of leaving) {
    try {
      fn();
    } catch (e) {
      console.warn(e);
    }
  }
  leaving = [];
}

/** Checks a key against the API of its audience; resolves or throws ApiError. */
async function verify(key) {
  const api = client(key);
  if (modeOf(key) === "merchant") await api.get("/v1/admin/settings");
  else await api.get("/v1/platform/merchants", { limit: 1 });
}

function signInView() {
  app.classList.add("signed-out");
  const keyInput = h("input", {
    type: "password",
    name: "key",
    autocomplete: "off",
    spellcheck: "false",
    autocapitalize: "off",
  });
  const f = form(
    async ({ form: el }) => {
      const key = keyInput.value.trim();
      if (!key) {
        markInvalid(el, keyInput, "Paste the operator key or a merchant's secret key (sk_…).");
        keyInput.focus();
        return;
      }
      try {
        await verify(key);
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          showKeyError(el, keyInput, NOT_RECOGNISED);
          return;
        }
        if (e instanceof ApiError && e.status === 403) {
          showKeyError(
            el,
            keyInput,
            "This key cannot open the console: use the operator key or a merchant's secret key (sk_…), not a publishable key.",
          );
          return;
        }
        throw e;
      }
      sessionStorage.setItem(STORAGE, key);
      signInMessage = "";
      start(key);
      const target = session.mode === "merchant" ? "#/dashboard" : "#/merchants";
      if (location.hash === target) render();
      else location.hash = target;
    },
    [
      field("API key", keyInput, {
        help: "The operator key (op_…) opens the platform; a merchant's secret key (sk_…) opens that shop. It is kept in this tab only.",
      }),
      h("div", { class: "actions" }, submit("Sign in")),
    ],
    { label: "Sign in" },
  );
  const view = h(
    "div",
    { class: "sign-in" },
    h("div", { class: "brand big" }, h("span", { class: "logo", "aria-hidden": "true" }, "M"), "Mercato console"),
    h("h1", { tabindex: "-1" }, "Sign in"),
    f,
  );
  main.replaceChildren(view);
  if (signInMessage) showKeyError(f, keyInput, signInMessage);
  keyInput.focus();
}

function showKeyError(formEl, input, message) {
  markInvalid(formEl, input, message);
  const alert = formEl.querySelector("[role=alert]");
  alert.textContent = message;
  alert.hidden = false;
  input.focus();
}

function shell(nav, title) {
  app.classList.remove("signed-out");
  let sidebar = document.getElementById("sidebar");
  if (!sidebar || sidebar.dataset.mode !== session.mode) {
    sidebar?.remove();
    document.getElementById("topbar")?.remove();
    const signOutButton = h("button", { type: "button", class: "button secondary small" }, "Sign out");
    signOutButton.addEventListener("click", () => signOut());
    const menu = h("button", { type: "button", class: "menu-toggle", "aria-expanded": "false", "aria-controls": "sidebar" }, "Menu");
    menu.addEventListener("click", () => {
      const open = sidebar.classList.toggle("open");
      menu.setAttribute("aria-expanded", String(open));
    });
    const topbar = h(
      "header",
      { class: "topbar", id: "topbar" },
      menu,
      h("div", { class: "brand" }, h("span", { class: "logo", "aria-hidden": "true" }, "M"), "Mercato"),
      h("span", { class: "mode" }, title),
      h("span", { class: "spacer" }),
      signOutButton,
    );
    sidebar = h(
      "nav",
      { id: "sidebar", class: "sidebar", "aria-label": "Console", "data-mode": session.mode },
      h(
        "ul",
        {},
        nav.map(([href, label]) => h("li", {}, h("a", { href }, label))),
      ),
    );
    sidebar.addEventListener("click", (e) => {
      if (e.target.closest("a")) {
        sidebar.classList.remove("open");
        menu.setAttribute("aria-expanded", "false");
      }
    });
    app.prepend(topbar, sidebar);
  }
  const current = location.hash.split("/").slice(0, 2).join("/");
  for (const a of sidebar.querySelectorAll("a")) {
    if (a.getAttribute("href") === current) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

let rendering = 0;
let firstRender = true;

async function render() {
  runCleanups();
  const ticket = ++rendering;
  if (!session) {
    document.getElementById("sidebar")?.remove();
    document.getElementById("topbar")?.remove();
    document.title = "Sign in · Mercato console";
    signInView();
    return;
  }
  const routes = session.mode === "merchant" ? merchantRoutes : operatorRoutes;
  const nav = session.mode === "merchant" ? merchantNav : operatorNav;
  const fallback = nav[0][0];
  const hash = location.hash || fallback;
  const parts = hash.replace(/^#\/?/, "").split("?")[0].split("/").map(decodeURIComponent);
  let view = null;
  let params = [];
  for (const [pattern, fn] of routes) {
    const p = pattern.split("/");
    if (p.length !== parts.length) continue;
    const got = [];
    if (p.every((seg, i) => (seg.startsWith(":") ? (got.push(parts[i]), true) : seg === parts[i]))) {
      view = fn;
      params = got;
      break;
    }
  }
  if (!view) {
    location.replace(fallback);
    return;
  }
  shell(nav, session.mode === "merchant" ? "Merchant" : "Operator");
  main.replaceChildren(h("p", { class: "loading" }, "Loading…"));
  const ctx = {
    api: session.api,
    mode: session.mode,
    onLeave: (fn) => leaving.push(fn),
    current: () => ticket === rendering,
    rerender: () => render(),
  };
  try {
    const node = await view(ctx, ...params);
    if (ticket !== rendering) return;
    main.replaceChildren(node);
  } catch (e) {
    if (ticket !== rendering || !session) return;
    main.replaceChildren(pageHeader("Something went wrong"), errorBox(e));
  }
  const h1 = main.querySelector("h1");
  document.title = `${h1 ? h1.textContent : "Console"} · Mercato console`;
  if (!firstRender && h1) h1.focus();
  firstRender = false;
}

window.addEventListener("hashchange", () => render());
document.getElementById("skip-link").addEventListener("click", (e) => {
  e.preventDefault();
  (main.querySelector("h1") || main).focus();
});

const saved = sessionStorage.getItem(STORAGE);
if (saved) start(saved);
render();
