// The account page: log in or register; once logged in, the order history,
// the wishlist and logging out. Logging in gives the guest cart (if any) to
// the customer.

import { ApiError, showFormErrors, clearFormErrors } from "../common/api.js";
import { api, session, claimCart, notify } from "./store.js";
import { h, heading, errorBox, money, badge, when } from "./ui.js";
import { card } from "./catalog.js";

const enc = encodeURIComponent;

function field(id, name, label, attrs = {}) {
  return h("div", { class: "field" }, h("label", { for: id }, label), h("input", { id, name, ...attrs }));
}

/** `#/account`. */
export async function accountPage(root) {
  if (session.token) return signedIn(root);
  return signedOut(root);
}

function signedOut(root) {
  root.append(heading("Your account"), h("p", { class: "lead" }, "Log in to see your orders and your wishlist, or create an account."));

  const login = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "login-title" },
    h("h2", { id: "login-title" }, "Log in"),
    field("login-email", "email", "Email", { type: "email", autocomplete: "username", required: true }),
    field("login-password", "password", "Password", { type: "password", autocomplete: "current-password", required: true }),
    h("p", { role: "alert", class: "form-error", hidden: true }),
    h("button", { type: "submit", class: "btn btn-primary" }, "Log in"),
  );
  const register = h(
    "form",
    { class: "panel", novalidate: true, "aria-labelledby": "register-title" },
    h("h2", { id: "register-title" }, "Create an account"),
    h(
      "div",
      { class: "field-row" },
      field("reg-first", "first_name", "First name", { autocomplete: "given-name", required: true }),
      field("reg-last", "last_name", "Last name", { autocomplete: "family-name", required: true }),
    ),
    field("reg-email", "email", "Email", { type: "email", autocomplete: "email", required: true }),
    field("reg-password", "password", "Password (8 characters or more)", { type: "password", autocomplete: "new-password", minlength: "8", required: true }),
    h("p", { role: "alert", class: "form-error", hidden: true }),
    h("button", { type: "submit", class: "btn btn-secondary" }, "Create account"),
  );

  const values = (form) => Object.fromEntries(new FormData(form));
  async function logIn(form, email, password) {
    const s = await api.post("/customers/login", { email, password });
    session.set(s.token, s.customer);
    await claimCart();
    notify(`Welcome, ${s.customer.first_name}!`);
    root.replaceChildren();
    return signedIn(root, true);
  }
  login.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(login);
    const v = values(login);
    busy(login, true);
    try {
      await logIn(login, v.email.trim(), v.password);
    } catch (err) {
      busy(login, false);
      if (!(err instanceof ApiError)) throw err;
      const errors = err.code === "invalid_credentials" ? { password: "The email or password is wrong" } : err.errors;
      showFormErrors(login, { message: err.code === "invalid_credentials" ? "" : err.message, errors });
    }
  });
  register.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(register);
    const v = values(register);
    const body = { email: v.email.trim(), password: v.password, first_name: v.first_name.trim(), last_name: v.last_name.trim() };
    busy(register, true);
    try {
      await api.post("/customers", body);
      await logIn(register, body.email, body.password);
    } catch (err) {
      busy(register, false);
      if (!(err instanceof ApiError)) throw err;
      const errors = err.code === "email_taken" ? { email: "An account with this email exists already: log in instead" } : err.errors;
      showFormErrors(register, { message: Object.keys(errors).length ? "" : err.message, errors });
    }
  });

  root.append(h("div", { class: "account-forms" }, login, register));
}

async function signedIn(root, focus) {
  const who = session.customer || {};
  const h1 = heading(`Hello, ${who.first_name || "there"}`);
  const logout = h("button", { type: "button", class: "btn btn-ghost" }, "Log out");
  logout.addEventListener("click", async () => {
    logout.disabled = true;
    try {
      await api.post("/customers/logout");
    } catch {
      /* the session ends here either way */
    }
    session.clear();
    notify("You are logged out.");
    root.replaceChildren();
    signedOut(root);
    root.querySelector("h1").focus();
  });
  const orders = h("section", { class: "account-section", "aria-labelledby": "orders-title" }, h("h2", { id: "orders-title" }, "Your orders"), h("p", { class: "loading" }, "Loading…"));
  const wishlist = h("section", { class: "account-section", "aria-labelledby": "wish-title" }, h("h2", { id: "wish-title" }, "Your wishlist"), h("p", { class: "loading" }, "Loading…"));
  root.append(h("div", { class: "page-head page-head-row" }, h1, logout), h("p", { class: "muted" }, `Logged in as ${who.email || ""}`), orders, wishlist);
  if (focus) h1.focus();

  const [ordersR, wishR] = await Promise.allSettled([api.get("/customers/me/orders", { limit: 100 }), api.get("/customers/me/wishlist", { limit: 50 })]);

  if (ordersR.status === "rejected") orders.lastChild.replaceWith(errorBox(`Your orders could not be loaded: ${ordersR.reason.message}`));
  else if (!ordersR.value.data.length) orders.lastChild.replaceWith(h("p", { class: "muted" }, "No orders yet."));
  else {
    const list = [...ordersR.value.data].reverse();
    orders.lastChild.replaceWith(
      h(
        "div",
        { class: "table-wrap" },
        h(
          "table",
          { class: "orders-table" },
          h("caption", { class: "sr-only" }, "Your orders, newest first"),
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Order"), h("th", { scope: "col" }, "Placed"), h("th", { scope: "col" }, "Status"), h("th", { scope: "col", class: "num" }, "Total"))),
          h(
            "tbody",
            {},
            list.map((o) =>
              h(
                "tr",
                {},
                h("th", { scope: "row" }, h("a", { href: `#/orders/${enc(o.id)}` }, `#${o.number}`)),
                h("td", {}, when(o.created_at)),
                h("td", {}, badge(o.status)),
                h("td", { class: "num" }, money(o.total)),
              ),
            ),
          ),
        ),
      ),
    );
  }

  if (wishR.status === "rejected") {
    wishlist.lastChild.replaceWith(errorBox(`Your wishlist could not be loaded: ${wishR.reason.message}`));
    return;
  }
  const items = wishR.value.data;
  if (!items.length) {
    wishlist.lastChild.replaceWith(h("p", { class: "muted" }, "Nothing saved yet. Use “Save to wishlist” on a product."));
    return;
  }
  // The wishlist names products; each is read (in parallel) to show it.
  const products = await Promise.all(items.map((w) => api.get(`/products/${enc(w.product_id)}`).catch(() => null)));
  const grid = h("ul", { class: "grid grid-small", "aria-label": "Saved products" });
  products.forEach((p) => {
    if (!p) return;
    const li = card(p, null, 3);
    const rm = h("button", { type: "button", class: "btn btn-small btn-ghost" }, "Remove", h("span", { class: "sr-only" }, ` ${p.title} from the wishlist`));
    rm.addEventListener("click", async () => {
      rm.disabled = true;
      try {
        await api.del(`/customers/me/wishlist/${enc(p.id)}`);
        li.remove();
        notify(`${p.title} removed from your wishlist.`);
      } catch (err) {
        rm.disabled = false;
        notify(`The wishlist could not be changed: ${err.message}`);
      }
    });
    li.querySelector(".card-body").append(rm);
    grid.append(li);
  });
  wishlist.lastChild.replaceWith(grid);
}

function busy(form, on) {
  for (const b of form.querySelectorAll("button")) b.disabled = on;
}
