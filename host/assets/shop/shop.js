// Mercato storefront: one page per shop at /shop/{slug}, routed by the
// hash (#/, #/products/{handle}, #/cart, #/checkout, #/orders/{id},
// #/account). Everything goes through the public store API with the
// shop's publishable key (see store.js).

import { config, cart, session, on, isUnavailable } from "./store.js";
import { h, heading } from "./ui.js";
import { home, productPage } from "./catalog.js";
import { cartPage } from "./cart.js";

const view = document.getElementById("view");
const main = document.getElementById("main");

function unavailablePage(root) {
  root.append(
    heading("This shop is not available right now"),
    h("p", { class: "lead" }, "Please come back a little later. Your cart is kept in this browser in the meantime."),
  );
  return { title: "Not available" };
}

function notFound(root) {
  root.append(heading("Page not found"), h("p", {}, "There is nothing here. ", h("a", { href: "#/" }, "Browse the shop")));
  return { title: "Not found" };
}

const ROUTES = [
  [/^\/?$/, (root, m, params) => home(root, params), () => ""],
  [/^\/products\/([^/]+)$/, (root, m) => productPage(root, decodeURIComponent(m[1])), () => "Product"],
  [/^\/cart$/, (root) => cartPage(root), () => "Cart"],
  // Checkout, orders and the account load when first needed: the first
  // page of a visit (the catalog) does not pay for them.
  [/^\/checkout$/, (root) => import("./checkout.js").then((v) => v.checkoutPage(root)), () => "Checkout"],
  [/^\/orders\/([^/]+)$/, (root, m) => import("./order.js").then((v) => v.orderPage(root, decodeURIComponent(m[1]))), () => "Your order"],
  [/^\/account$/, (root) => import("./account.js").then((v) => v.accountPage(root)), () => "Account"],
];

let first = true;
let current = null;
let routedAt = 0;

function setTitle(text) {
  document.title = text ? `${text} · ${config.name}` : config.name;
}

/** Renders the route the hash names into a fresh container. */
function route() {
  routedAt = performance.now();
  const raw = location.hash.replace(/^#/, "") || "/";
  const [path, query = ""] = raw.split("?");
  const params = new URLSearchParams(query);
  const root = h("div", { class: "view" });
  // A view that is still loading writes into its own container: once
  // another view replaced it, what it writes is never seen.
  view.replaceChildren(root);
  current = root;
  syncSearch(params.get("q") || "");
  markNav(path);

  let render = notFound;
  let label = "Not found";
  if (isUnavailable()) {
    render = unavailablePage;
    label = "Not available";
  } else {
    for (const [re, fn, name] of ROUTES) {
      const m = path.match(re);
      if (m) {
        render = (r) => fn(r, m, params);
        label = name();
        break;
      }
    }
  }
  setTitle(label);
  const result = Promise.resolve()
    .then(() => render(root))
    .catch((e) => {
      if (root !== current) return;
      if (!root.querySelector("h1")) root.append(heading("Something went wrong"));
      root.append(h("p", { class: "notice notice-error", role: "alert" }, e && e.message ? e.message : String(e)));
    });
  result.then((r) => {
    if (root === current && r && r.title) setTitle(r.title);
  });
  if (!first) focusHeading(root);
  else window.scrollTo(0, 0);
  first = false;
}

/** Moves focus to the new view's h1 (once it is there), for keyboard and screen reader users. */
function focusHeading(root) {
  window.scrollTo(0, 0);
  const focus = () => {
    const h1 = root.querySelector("h1");
    if (!h1) return false;
    if (!root.contains(document.activeElement) || document.activeElement === document.body) h1.focus({ preventScroll: true });
    return true;
  };
  if (focus()) return;
  const watch = new MutationObserver(() => {
    if (focus() || root !== current) watch.disconnect();
  });
  watch.observe(root, { childList: true, subtree: true });
  setTimeout(() => watch.disconnect(), 5000);
}

// ---- header: brand, search, cart count, account

const searchForm = document.getElementById("search");
const searchInput = document.getElementById("q");
function syncSearch(q) {
  if (document.activeElement !== searchInput) searchInput.value = q;
}
searchForm.addEventListener("submit", (e) => {
  e.preventDefault();
  const q = searchInput.value.trim();
  const target = q ? `#/?q=${encodeURIComponent(q)}` : "#/";
  if (location.hash === target) route();
  else location.hash = target;
});

function markNav(path) {
  for (const a of document.querySelectorAll(".site-nav a")) {
    const here = a.getAttribute("href").slice(1) === (path === "" ? "/" : path);
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

const count = document.getElementById("cart-count");
function showCount(n) {
  count.textContent = String(n);
  count.hidden = n === 0;
  document.getElementById("cart-count-sr").textContent = n ? `, ${n} item${n === 1 ? "" : "s"}` : ", empty";
}
on("cart", () => showCount(cart.count));

const accountLink = document.getElementById("account-link");
function showSession() {
  const who = session.customer;
  accountLink.textContent = who ? who.first_name || "Account" : "Log in";
}
on("session", showSession);

const toast = document.getElementById("toast");
let toastTimer = null;
on("notify", (message) => {
  toast.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    toast.textContent = "";
  }, 5000);
});

on("unavailable", () => {
  if (!current || current.dataset.unavailable) return;
  const root = h("div", { class: "view", "data-unavailable": "1" });
  view.replaceChildren(root);
  current = root;
  unavailablePage(root);
  setTitle("Not available");
});

// Skip link: moves focus to the content without touching the hash route.
document.querySelector(".skip").addEventListener("click", (e) => {
  e.preventDefault();
  main.focus();
});

// ---- start

if (!config) {
  document.getElementById("brand").textContent = "Shop";
  view.replaceChildren(h("div", { class: "view" }, heading("This shop is not available right now")));
} else {
  document.getElementById("brand").textContent = config.name;
  document.getElementById("footer-name").textContent = config.name;
  showCount(cart.count);
  showSession();
  window.addEventListener("hashchange", route);
  // The catalog's filters push history entries of their own; going back
  // to one re-renders it (once, if hashchange did not already).
  window.addEventListener("popstate", () => {
    const at = performance.now();
    setTimeout(() => {
      if (routedAt < at) route();
    }, 0);
  });
  route();
}
