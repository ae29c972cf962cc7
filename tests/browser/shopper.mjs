// A shopper in the storefront, through the UI only (roles and labels, as a
// screen reader sees the page): search, product, cart, discount code,
// checkout, payment, order page. Other browser tests reuse these flows.

import { shot } from "./harness.mjs";

/** Where each demo shop's shopper lives. */
export const ADDRESSES = {
  acme: {
    email: "ada@example.com",
    name: "Ada Lovelace",
    line1: "1 Market St",
    city: "San Francisco",
    region: "CA",
    postal_code: "94105",
    country: "US",
  },
  lindenblatt: {
    email: "erika@example.de",
    name: "Erika Mustermann",
    line1: "Lindenstrasse 12",
    city: "Berlin",
    region: "BE",
    postal_code: "10117",
    country: "DE",
  },
};

/** The test-gateway cards as the checkout labels them, by token. */
export const CARDS = {
  tok_visa: "Visa — succeeds",
  tok_threeDSecure: "Visa — asks for 3-D Secure",
  tok_chargeDeclined: "Declined card",
};

const escape = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/** Opens the shop's home page and waits for its product grid. */
export async function openShop(page, demo, slug, path = "") {
  await page.goto(`${demo.base}/shop/${slug}${path}`);
  if (!path) await page.getByRole("list", { name: "Products" }).getByRole("link").first().waitFor();
}

/**
 * From the open shop: searches, opens the first result, picks its second
 * variant (if it has options) and adds `quantity` to the cart. Returns the
 * product's title.
 */
export async function addToCart(page, slug, { search, quantity = 2, shots = true }) {
  const box = page.getByRole("searchbox", { name: "Search products" });
  await box.fill(search);
  await box.press("Enter");
  await page.getByRole("heading", { level: 1, name: `Results for “${search}”` }).waitFor();
  const first = page.getByRole("list", { name: "Products" }).getByRole("link").first();
  await first.waitFor();
  if (shots) await shot(page, `${slug}-02-search`);
  const title = (await first.textContent()).trim();
  await first.click();
  await page.getByRole("heading", { level: 1, name: title }).waitFor();
  const radios = page.getByRole("main").getByRole("radio");
  if ((await radios.count()) > 1) await radios.nth(1).check();
  await page.getByLabel("Quantity").fill(String(quantity));
  if (shots) await shot(page, `${slug}-03-product`);
  await page.getByRole("button", { name: "Add to cart" }).click();
  await page.getByText(new RegExp(`^Added ${quantity} × ${escape(title)}`)).waitFor();
  if (shots) await shot(page, `${slug}-04-added`);
  return title;
}

/** Opens the cart from the header. */
export async function openCart(page) {
  await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: /^Cart/ }).click();
  await page.getByRole("heading", { level: 1, name: "Your cart" }).waitFor();
  await page.getByRole("list", { name: "Items in your cart" }).waitFor();
}

/** Enters a discount code in the cart; resolves once the cart shows it. */
export async function applyCode(page, code) {
  await page.getByLabel("Discount code").fill(code);
  await page.getByRole("button", { name: "Apply" }).click();
  await page.getByRole("list", { name: "Discount codes entered" }).getByText(code, { exact: true }).waitFor();
}

/** From the cart: the checkout, the address, and the first shipping option. */
export async function checkoutTo(page, slug, address = ADDRESSES[slug]) {
  await page.getByRole("link", { name: "Checkout" }).click();
  await page.getByRole("heading", { level: 1, name: "Checkout" }).waitFor();
  // A logged-in customer's email is there already (`email: null` keeps it).
  if (address.email) await page.getByLabel("Email").fill(address.email);
  await page.getByLabel("Full name").fill(address.name);
  await page.getByLabel("Address", { exact: true }).fill(address.line1);
  await page.getByLabel("Postal code").fill(address.postal_code);
  await page.getByLabel("City").fill(address.city);
  await page.getByLabel("State / region").fill(address.region);
  await page.getByLabel("Country").selectOption(address.country);
  await page.getByRole("button", { name: "Continue to shipping" }).click();
  const shipping = page.getByRole("group", { name: "Shipping method" }).getByRole("radio").first();
  await shipping.waitFor();
  await shipping.check();
  await page.getByRole("complementary", { name: "Order summary" }).getByText(/^Shipping: /).waitFor();
}

/** Chooses how to pay: a test card (by token or label) or bank transfer. */
export async function choosePayment(page, { card, bankTransfer }) {
  if (bankTransfer) {
    await page.getByRole("radio", { name: /Bank transfer/ }).check();
    return;
  }
  await page.getByRole("radio", { name: /Card \(test mode\)/ }).check();
  await page.getByRole("radio", { name: CARDS[card] || card, exact: true }).check();
}

/** Waits for the order page and reads its number from the heading. */
export async function orderPage(page) {
  const heading = page.getByRole("heading", { level: 1, name: /^Order #\d+$/ });
  await heading.waitFor({ timeout: 30000 });
  const number = Number((await heading.textContent()).match(/#(\d+)/)[1]);
  const orderId = decodeURIComponent(new URL(page.url()).hash.replace(/^#\/orders\//, ""));
  return { orderId, number };
}

/**
 * Buys from a demo shop through its storefront: search, a product's second
 * variant, 2 to the cart, the shop's discount code (if the demo has one),
 * email and address (California for acme, Berlin for lindenblatt), the
 * first shipping option, then pays (acme: the card that asks for 3-D Secure,
 * authenticated on the issuer's page; lindenblatt: bank transfer). Resolves
 * on the order page with {orderId, number}.
 */
export async function buy(page, demo, slug, { search, card = "tok_threeDSecure" } = {}) {
  const shop = demo.shops[slug];
  await openShop(page, demo, slug);
  await shot(page, `${slug}-01-home`);
  await addToCart(page, slug, { search, quantity: 2 });
  await openCart(page);
  if (shop.discountCode) await applyCode(page, shop.discountCode);
  await shot(page, `${slug}-05-cart`);
  await checkoutTo(page, slug);
  await shot(page, `${slug}-06-shipping`);
  const bankTransfer = shop.currency === "EUR" || slug === "lindenblatt";
  await choosePayment(page, bankTransfer ? { bankTransfer } : { card });
  await shot(page, `${slug}-07-payment`);
  await page.getByRole("button", { name: "Place order" }).click();
  if (!bankTransfer && (CARDS[card] || card) === CARDS.tok_threeDSecure) {
    // The card issuer's page (the demo's stand-in), then back to the shop.
    await page.waitForURL((url) => !url.pathname.startsWith(`/shop/${slug}`), { timeout: 15000 });
    await page.getByRole("button", { name: "Authenticate" }).waitFor();
    await shot(page, `${slug}-08-issuer`);
    // A CSP of the issuer's page that refuses the way back is named as such.
    let blocked = null;
    const watch = (m) => {
      if (/violates the following Content Security Policy/.test(m.text())) blocked = m.text();
    };
    page.on("console", watch);
    await page.getByRole("button", { name: "Authenticate" }).click();
    try {
      await page.waitForURL((url) => url.pathname === `/shop/${slug}` && url.hash.startsWith("#/orders/"), { timeout: 15000 });
    } catch (e) {
      throw blocked ? new Error(`the issuer page could not send the shopper back: ${blocked.trim()}`) : e;
    } finally {
      page.off("console", watch);
    }
  }
  const placed = await orderPage(page);
  await shot(page, `${slug}-09-order`);
  return placed;
}
