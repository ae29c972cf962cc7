// The catalog: the product grid (search, category, price, sort, more) and
// the product page (variants, stock, add to cart, recommendations, wishlist).

import { ApiError, parseMoney, showFormErrors, clearFormErrors, markField, exponent } from "../common/api.js";
import { api, cart, categories, config, session, notify } from "./store.js";
import { h, heading, errorBox, picture, priceRange, money, stock, soldOut } from "./ui.js";

const enc = encodeURIComponent;
const PAGE = 12;

const SORTS = [
  ["", "Featured"],
  ["newest", "Newest"],
  ["price_asc", "Price: low to high"],
  ["price_desc", "Price: high to low"],
];

/** A product as a card in a grid. */
export function card(product, note, level = 2) {
  const sold = product.variants.length && product.variants.every(soldOut);
  return h(
    "li",
    { class: "card" },
    h("div", { class: "card-media" }, picture(product, "md")),
    h(
      "div",
      { class: "card-body" },
      h(`h${level}`, { class: "card-title" }, h("a", { href: `#/products/${enc(product.handle)}`, class: "stretch" }, product.title)),
      h("p", { class: "card-price" }, priceRange(product)),
      sold ? h("p", { class: "card-stock tone-bad" }, "Sold out") : null,
      note ? h("p", { class: "card-note" }, note) : null,
    ),
  );
}

/** Decimal text of minor units, for a price field. */
const decimal = (minor) => (minor / 10 ** exponent(config.currency)).toFixed(exponent(config.currency));

/** `#/` with `q`, `category`, `min`, `max`, `sort` in the hash's query. */
export async function home(root, params) {
  const q = params.get("q") || "";
  const filters = {
    category: params.get("category") || "",
    sort: params.get("sort") || "",
    min: params.get("min") || "",
    max: params.get("max") || "",
  };

  const title = q ? `Results for “${q}”` : config.name;
  const status = h("p", { class: "result-count", role: "status", "aria-live": "polite" });
  const grid = h("ul", { class: "grid", "aria-label": "Products" });
  const more = h("button", { type: "button", class: "btn btn-secondary", hidden: true }, "Load more products");
  const categorySelect = h("select", { id: "f-category", name: "category" }, h("option", { value: "" }, "All categories"));
  const sortSelect = h(
    "select",
    { id: "f-sort", name: "sort" },
    SORTS.map(([v, label]) => h("option", { value: v, selected: v === filters.sort }, v === "" && q ? "Best match" : label)),
  );
  const cur = config.currency;
  const minInput = h("input", { id: "f-min", name: "min_price", inputmode: "decimal", autocomplete: "off", value: filters.min, placeholder: "0" });
  const maxInput = h("input", { id: "f-max", name: "max_price", inputmode: "decimal", autocomplete: "off", value: filters.max, placeholder: "Any" });
  const form = h(
    "form",
    { class: "filters", "aria-label": "Filter products", novalidate: true },
    h("div", { class: "field" }, h("label", { for: "f-category" }, "Category"), categorySelect),
    h("div", { class: "field field-price" }, h("label", { for: "f-min" }, `Min price (${cur})`), minInput),
    h("div", { class: "field field-price" }, h("label", { for: "f-max" }, `Max price (${cur})`), maxInput),
    h("div", { class: "field" }, h("label", { for: "f-sort" }, "Sort by"), sortSelect),
    h("button", { type: "submit", class: "btn btn-secondary" }, "Apply"),
    h("p", { role: "alert", class: "form-error", hidden: true }),
  );

  root.append(
    h("div", { class: "page-head" }, heading(title), q ? h("p", {}, h("a", { href: "#/" }, "Clear search")) : null),
    form,
    status,
    grid,
    h("div", { class: "more" }, more),
  );

  // Categories come once per page load, in parallel with the products.
  categories().then((list) => {
    for (const c of list) categorySelect.append(h("option", { value: c.handle, selected: c.handle === filters.category }, c.name));
  });

  let cursor = null;
  let generation = 0;
  async function load(append) {
    const mine = ++generation;
    const min = filters.min ? parseMoney(filters.min, cur) : null;
    const max = filters.max ? parseMoney(filters.max, cur) : null;
    const query = {
      q: q || undefined,
      category: filters.category || undefined,
      sort: filters.sort || undefined,
      min_price: min ?? undefined,
      max_price: max ?? undefined,
      limit: PAGE,
      cursor: append ? cursor : undefined,
    };
    grid.setAttribute("aria-busy", "true");
    more.disabled = true;
    try {
      const page = await api.get("/products", query);
      if (mine !== generation) return;
      const cards = page.data.map((p) => card(p));
      if (append) grid.append(...cards);
      else grid.replaceChildren(...cards);
      cursor = page.next_cursor || null;
      more.hidden = !cursor;
      const shown = grid.children.length;
      status.textContent = shown
        ? `${shown} product${shown === 1 ? "" : "s"}${cursor ? " shown" : ""}`
        : q
          ? "No products match your search."
          : "No products match these filters.";
      if (append && cards[0]) cards[0].querySelector("a").focus();
    } catch (e) {
      if (mine !== generation) return;
      if (e instanceof ApiError && Object.keys(e.errors).length) showFormErrors(form, e);
      else status.textContent = `Products could not be loaded: ${e.message}`;
    } finally {
      grid.removeAttribute("aria-busy");
      more.disabled = false;
    }
  }

  function apply() {
    clearFormErrors(form);
    const next = {
      category: categorySelect.value,
      sort: sortSelect.value,
      min: minInput.value.trim(),
      max: maxInput.value.trim(),
    };
    let bad = false;
    for (const [input, text] of [[minInput, next.min], [maxInput, next.max]]) {
      if (text && parseMoney(text, cur) === null) {
        markField(input, `Enter an amount such as ${decimal(1250)}`);
        bad = true;
      }
    }
    if (bad) return;
    Object.assign(filters, next);
    // The filters go in the address (for back and sharing) without a
    // re-render: only the grid reloads, and focus stays where it is.
    const p = new URLSearchParams();
    if (q) p.set("q", q);
    for (const [k, v] of Object.entries(filters)) if (v) p.set(k, v);
    const s = p.toString();
    history.pushState(null, "", `#/${s ? `?${s}` : ""}`);
    load(false);
  }

  form.addEventListener("submit", (e) => {
    e.preventDefault();
    apply();
  });
  categorySelect.addEventListener("change", apply);
  sortSelect.addEventListener("change", apply);
  more.addEventListener("click", () => load(true));

  await load(false);
}

/** Picks the variant with these option values, if any. */
function variantFor(product, chosen) {
  return product.variants.find((v) => product.options.every((o) => v.options[o.name] === chosen[o.name])) || null;
}

/** `#/products/{handle}`. */
export async function productPage(root, key) {
  const loading = h("p", { class: "loading" }, "Loading…");
  root.append(loading);
  const recsP = api.get(`/products/${enc(key)}/recommendations`, { limit: 4 }).catch(() => null);
  const wishP = session.token ? api.get("/customers/me/wishlist", { limit: 100 }).catch(() => null) : Promise.resolve(null);
  let product;
  try {
    product = await api.get(`/products/${enc(key)}`);
  } catch (e) {
    loading.remove();
    if (e instanceof ApiError && e.status === 404) {
      root.append(heading("Product not found"), h("p", {}, "This product is not for sale any more. ", h("a", { href: "#/" }, "Browse the shop")));
      return { title: "Product not found" };
    }
    root.append(heading("Something went wrong"), errorBox(e.message));
    return;
  }
  loading.remove();

  let chosen = {};
  const firstAvailable = product.variants.find((v) => !soldOut(v)) || product.variants[0];
  for (const o of product.options) chosen[o.name] = firstAvailable.options[o.name];
  let variant = product.options.length ? variantFor(product, chosen) : firstAvailable;

  const price = h("p", { class: "price", "aria-live": "polite" });
  const stockLine = h("p", { class: "stock" });
  const qty = h("input", { id: "qty", name: "quantity", type: "number", min: "1", max: "99", value: "1", inputmode: "numeric", required: true });
  const addBtn = h("button", { type: "submit", class: "btn btn-primary btn-lg" }, "Add to cart");
  const added = h("p", { class: "added", role: "status" });
  const pickers = product.options.map((o, i) =>
    h(
      "fieldset",
      { class: "options" },
      h("legend", {}, o.name),
      h(
        "div",
        { class: "pills" },
        o.values.map((value, j) => {
          const id = `opt-${i}-${j}`;
          const input = h("input", { type: "radio", id, name: `opt-${i}`, value, checked: chosen[o.name] === value });
          input.addEventListener("change", () => {
            chosen = { ...chosen, [o.name]: value };
            variant = variantFor(product, chosen);
            update();
          });
          return h("span", { class: "pill" }, input, h("label", { for: id }, h("span", { class: "pill-value" }, value), h("span", { class: "pill-note" })));
        }),
      ),
    ),
  );

  function update() {
    // Each value's note says whether it is sold out with the other choices.
    product.options.forEach((o, i) => {
      o.values.forEach((value, j) => {
        const v = variantFor(product, { ...chosen, [o.name]: value });
        const note = root.querySelector(`#opt-${i}-${j} + label .pill-note`);
        if (note) note.textContent = !v ? " (unavailable)" : soldOut(v) ? " (sold out)" : "";
      });
    });
    if (!variant) {
      price.textContent = priceRange(product);
      stockLine.textContent = "This combination is not available.";
      stockLine.className = "stock tone-bad";
      addBtn.disabled = true;
      return;
    }
    price.textContent = money(variant.price);
    const [words, tone] = stock(variant.stock_status);
    stockLine.textContent = words;
    stockLine.className = `stock tone-${tone}`;
    addBtn.disabled = soldOut(variant);
    addBtn.textContent = soldOut(variant) ? "Sold out" : "Add to cart";
  }

  const form = h(
    "form",
    { class: "buy", novalidate: true },
    pickers,
    h("div", { class: "field field-qty" }, h("label", { for: "qty" }, "Quantity"), qty),
    h("p", { role: "alert", class: "form-error", hidden: true }),
    h("div", { class: "buy-actions" }, addBtn),
    added,
  );
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    clearFormErrors(form);
    added.textContent = "";
    const n = Number(qty.value);
    if (!Number.isInteger(n) || n < 1 || n > 99) {
      markField(qty, "Enter a quantity from 1 to 99");
      qty.focus();
      return;
    }
    if (!variant || soldOut(variant) || addBtn.getAttribute("aria-busy")) return;
    // Busy, not disabled: a disabled button would drop the keyboard focus.
    addBtn.setAttribute("aria-busy", "true");
    try {
      const c = await cart.add(variant.id, n);
      const units = c.lines.reduce((s, l) => s + l.quantity, 0);
      added.replaceChildren(
        `Added ${n} × ${product.title} to your cart (${units} item${units === 1 ? "" : "s"}). `,
        h("a", { href: "#/cart" }, "View cart"),
      );
    } catch (err) {
      if (err instanceof ApiError) {
        const errors = Object.fromEntries(
          Object.entries(err.errors).map(([k, v]) => [/quantity/.test(k) ? "quantity" : k, v]),
        );
        if (err.code === "out_of_stock" || err.code === "insufficient_stock") errors.quantity ??= err.message;
        showFormErrors(form, { message: Object.keys(errors).length ? "" : err.message, errors });
      } else throw err;
    } finally {
      addBtn.removeAttribute("aria-busy");
      update();
    }
  });

  const wish = h("div", { class: "wish" });
  const info = h(
    "div",
    { class: "product-info" },
    h("p", { class: "crumbs" }, h("a", { href: "#/" }, "All products")),
    heading(product.title),
    price,
    stockLine,
    product.description ? h("p", { class: "description" }, product.description) : null,
    form,
    wish,
  );
  const recs = h("section", { class: "recs", "aria-labelledby": "recs-title", hidden: true });
  root.append(h("div", { class: "product" }, h("div", { class: "product-media" }, picture(product, "lg")), info), recs);
  update();

  recsP.then((list) => {
    if (!list || !list.data || !list.data.length) return;
    recs.append(
      h("h2", { id: "recs-title" }, "You may also like"),
      h("ul", { class: "grid grid-small", "aria-label": "Recommended products" }, list.data.map((r) => card(r.product, r.reason, 3))),
    );
    recs.hidden = false;
  });

  wishP.then((list) => {
    if (!list || !session.token) return;
    let saved = list.data.some((w) => w.product_id === product.id);
    const btn = h("button", { type: "button", class: "btn btn-ghost", "aria-pressed": String(saved) });
    const label = () => {
      btn.textContent = saved ? "♥ Saved to wishlist" : "♡ Save to wishlist";
      btn.setAttribute("aria-pressed", String(saved));
    };
    label();
    btn.addEventListener("click", async () => {
      btn.disabled = true;
      try {
        if (saved) await api.del(`/customers/me/wishlist/${enc(product.id)}`);
        else await api.post("/customers/me/wishlist", { product_id: product.id });
        saved = !saved;
        label();
        notify(saved ? "Saved to your wishlist." : "Removed from your wishlist.");
      } catch (err) {
        notify(`The wishlist could not be changed: ${err.message}`);
      } finally {
        btn.disabled = false;
      }
    });
    wish.append(btn);
  });

  return { title: product.title };
}
