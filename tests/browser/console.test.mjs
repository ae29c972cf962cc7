// The console at /console, driven like a person would: a merchant works an
// order a shopper placed in the storefront (capture, fulfil, refund) and
// the shopper sees it; the operator installs a plugin version and a
// merchant binds it through the form generated from its schema, which the
// storefront's cart then shows; a wrong key is refused. Keys never appear
// in a URL and console pages log no errors.
//
//   cd tests/browser && node --test --test-concurrency=1 console.test.mjs

import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { session, newPage, shot, record, PLUGIN_DIR } from "./harness.mjs";
import { buy, openShop, addToCart, openCart, checkoutTo } from "./shopper.mjs";

let demo;
let browser;
/** Every URL any page of this file requested. */
const requested = [];
/** Console pages, whose logged errors are checked at the end of each test. */
const consolePages = [];

session((s) => ({ demo, browser } = s));

/** A page whose requests are recorded. */
async function tracked() {
  const page = await newPage(browser);
  page.on("request", (r) => requested.push(r.url()));
  return page;
}

/** A fresh console page, signed in with `key`; resolves once the first view's h1 shows. */
async function signIn(key, heading) {
  const page = await tracked();
  consolePages.push(page);
  const started = Date.now();
  await page.goto(demo.console);
  await page.getByLabel("API key").fill(key);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
  record(`console sign-in to ${heading} (ms)`, Date.now() - started);
  return page;
}

/** Opens a section from the left navigation. */
async function go(page, link, heading = link) {
  await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: link, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: heading }).waitFor();
}

/**
 * What console pages logged as errors, less the browser's own note on a
 * response this test asked for on purpose (a refused key is 401, a bad
 * configuration 422).
 */
function unexpectedErrors(page) {
  return page.consoleErrors.filter((m) => !/^Failed to load resource: the server responded with a status of (401|409|422)\b/.test(m));
}

function assertClean() {
  for (const page of consolePages) assert.deepEqual(unexpectedErrors(page), [], `console errors on ${page.url()}`);
  const leaked = requested.filter((u) => /sk_|op_/.test(u));
  assert.deepEqual(leaked, [], "no request URL carries a secret or operator key");
}

test("a merchant captures, fulfils and part-refunds a bank-transfer order, and the shopper sees it", async () => {
  const shopper = await tracked();
  const { orderId, number } = await buy(shopper, demo, "lindenblatt", { search: "Zauberberg" });
  assert.match(orderId, /^ord_/);

  const page = await signIn(demo.shops.lindenblatt.secretKey, "Dashboard");
  await page.locator(".plot canvas").first().waitFor();
  await shot(page, "console-01-dashboard");

  await go(page, "Orders");
  await page.getByRole("link", { name: `#${number}`, exact: true }).click();
  await page.getByRole("heading", { level: 1, name: `Order #${number}` }).waitFor();
  const status = (text) =>
    page
      .getByRole("group", { name: "Status" })
      .locator('[data-of="order"] .badge')
      .filter({ hasText: new RegExp(`^${text}$`) })
      .waitFor();
  await status("pending payment");
  await shot(page, "console-02-order-pending");

  // The transfer arrived.
  await page.getByRole("button", { name: "Capture payment" }).click();
  await status("paid");
  await shot(page, "console-03-captured");

  // Ship everything with DHL.
  const tracking = "00340434161094042557";
  await page.locator("summary", { hasText: "Fulfil items" }).click();
  const fulfil = page.getByRole("form", { name: "Fulfil items" });
  await fulfil.getByLabel("Carrier").fill("DHL");
  await fulfil.getByLabel("Tracking number").fill(tracking);
  await shot(page, "console-04-fulfil-form");
  await fulfil.getByRole("button", { name: "Fulfil", exact: true }).click();
  await status("fulfilled");
  const shipments = page.getByRole("region", { name: "Fulfillments" });
  await shipments.getByText(tracking).waitFor();
  await shipments.getByText("DHL", { exact: true }).waitFor();
  await shot(page, "console-05-fulfilled");

  // Pay part of it back.
  await page.locator("summary", { hasText: /^Refund$/ }).click();
  const refund = page.getByRole("form", { name: "Refund" });
  await refund.getByLabel("Amount (EUR)").fill("5.00");
  await refund.getByLabel("Reason").fill("Umschlag beschädigt");
  await shot(page, "console-06-refund-form");
  await refund.getByRole("button", { name: "Make refund" }).click();
  await status("partially refunded");
  const refunds = page.getByRole("region", { name: "Refunds" });
  await refunds.getByText("Umschlag beschädigt").waitFor();
  await shot(page, "console-07-refunded");
  // How the order was priced: the plugin calls kept with it.
  const calls = page.getByRole("table", { name: "Plugin calls, in the order they ran" });
  for (const plugin of ["coupon@0.1.0", "weight-table@0.1.0", "eu-vat@0.1.0"]) {
    await calls.getByText(plugin).waitFor();
  }

  // The shopper's order page, reloaded, shows the shipment and the refund.
  await shopper.reload();
  await shopper.getByRole("heading", { level: 1, name: `Order #${number}` }).waitFor();
  const main = shopper.getByRole("main");
  await main.locator('[data-status="fulfilled"]').waitFor();
  await main.getByText(tracking).waitFor();
  await main.getByText("DHL").first().waitFor();
  await main.getByRole("heading", { name: "Refunds" }).waitFor();
  await main.getByText(/refunded/).first().waitFor();
  await shot(shopper, "console-08-shopper-sees-it");

  assertClean();
});

test("the operator installs flat-tax 0.2.0 and a merchant binds it through its schema form", async () => {
  // The operator uploads the component and sees it beside 0.1.0.
  const op = await signIn(demo.operatorKey, "Merchants");
  await op.getByRole("table", { name: "Merchants" }).getByText("acme", { exact: true }).waitFor();
  await shot(op, "console-10-merchants");
  await go(op, "Plugins");
  await op.getByLabel("Component").setInputFiles(join(PLUGIN_DIR, "flat-tax-next.wasm"));
  await op.getByRole("button", { name: "Install plugin" }).click();
  await op.getByText("Installed flat-tax 0.2.0 (tax).").waitFor();
  const versions = op.getByRole("table", { name: "Versions of flat-tax" });
  await versions.getByRole("columnheader", { name: "0.2.0", exact: true }).waitFor();
  await shot(op, "console-11-plugin-installed");
  // Its own page: limits, allow-list, logs and the plots.
  const id = await versions.getByRole("link").last().textContent();
  await versions.getByRole("link", { name: id }).click();
  await op.getByRole("heading", { level: 1, name: "flat-tax 0.2.0" }).waitFor();
  await op.getByText(/No window closed yet/).waitFor();
  await shot(op, "console-12-plugin-page");

  // A shopper's acme cart, with a California address: taxed by us-sales-tax.
  const shopper = await tracked();
  await openShop(shopper, demo, "acme");
  await addToCart(shopper, "acme", { search: "Tee", quantity: 1, shots: false });
  await openCart(shopper);
  await checkoutTo(shopper, "acme");
  const cartId = await shopper.evaluate(() => JSON.parse(localStorage.getItem("mercato:acme:cart")).id);
  assert.match(cartId, /^cart_/);
  await openCart(shopper);
  const totals = shopper.getByRole("main").locator("dl.totals").first();
  await totals.locator(".row.tax").first().waitFor();
  const totalBefore = (await totals.locator(".row.total dd").textContent()).trim();
  assert.equal(await totals.getByText(/Tax v2/).count(), 0);
  await shot(shopper, "console-13-cart-before");

  // The merchant puts flat-tax 0.2.0 in place of us-sales-tax.
  const page = await signIn(demo.shops.acme.secretKey, "Dashboard");
  await go(page, "Plugins");
  const tax = page.locator("section#point-tax");
  await tax.getByLabel("Plugin").selectOption({ label: "flat-tax 0.2.0" });
  const rate = tax.locator('[name="rate"]');
  await rate.waitFor();
  assert.equal(await rate.getAttribute("aria-required"), "true");

  // No rate: the schema's "required" error shows at the field.
  await rate.fill("");
  await tax.getByRole("button", { name: "Save tax bindings" }).click();
  await tax.locator('[name="rate"][aria-invalid="true"]').waitFor();
  assert.match(await rate.evaluate((el) => el.nextElementSibling.textContent), /required/);

  // A rate that is no decimal: the schema's error shows at the field.
  await rate.fill("abc");
  await tax.getByRole("button", { name: "Save tax bindings" }).click();
  await tax.locator('[name="rate"][aria-invalid="true"]').waitFor();
  const note = await rate.evaluate((el) => {
    const next = el.nextElementSibling;
    return {
      next: next && next.classList.contains("field-error") ? next.textContent : null,
      describedBy: el.getAttribute("aria-describedby"),
      id: next && next.id,
    };
  });
  assert.ok(note.next && note.next.length > 3, "the message is right after the field");
  assert.ok(note.describedBy.split(" ").includes(note.id), "the field is described by its message");
  await shot(page, "console-14-binding-invalid");

  // A good rate, tried on the shopper's cart first (nothing saved), then saved.
  await rate.fill("0.1");
  await tax.getByLabel("Cart id").fill(cartId);
  await tax.getByRole("button", { name: "Try it on a cart" }).click();
  const preview = tax.locator(".cart-preview");
  await preview.getByText(/Tax v2/).first().waitFor();
  assert.equal(await rate.getAttribute("aria-invalid"), null, "the error is gone");
  await shot(page, "console-15-binding-preview");
  await tax.getByRole("button", { name: "Save tax bindings" }).click();
  await tax.getByRole("status").getByText("Saved: flat-tax 0.2.0.").waitFor();
  await shot(page, "console-16-binding-saved");

  // The storefront's cart now shows the new tax line and another total.
  await shopper.reload();
  await shopper.getByRole("heading", { level: 1, name: "Your cart" }).waitFor();
  const after = shopper.getByRole("main").locator("dl.totals").first();
  await after.getByText(/Tax v2/).first().waitFor();
  const totalAfter = (await after.locator(".row.total dd").textContent()).trim();
  assert.notEqual(totalAfter, totalBefore, "the total changed with the tax");
  await shot(shopper, "console-17-cart-after");

  // The operator's plots: the plugin's calls, window by window (the host
  // closes a window every 10 s or so; the page refreshes every 5 s).
  await op.reload();
  await op.getByRole("heading", { level: 1, name: "flat-tax 0.2.0" }).waitFor();
  await op.getByText(/[1-9]\d* calls? in \d+ windows?/).waitFor({ timeout: 40000 });
  await op.locator(".plot canvas").first().waitFor();
  await shot(op, "console-18-plugin-plots");

  // Uninstalling is refused while acme binds it, naming the binding; disabling works.
  await op.getByRole("button", { name: "Uninstall" }).click();
  await op.getByRole("dialog").getByRole("button", { name: "Uninstall" }).click();
  await op.getByRole("alert").filter({ hasText: /is bound by 1 binding\(s\): mer_\w+ \(tax\)/ }).waitFor();
  await op.getByRole("button", { name: "Disable plugin" }).click();
  await op.getByRole("dialog").getByRole("button", { name: "Disable" }).click();
  await op.getByRole("button", { name: "Enable plugin" }).waitFor();
  await shot(op, "console-19-plugin-disabled");
  await op.getByRole("button", { name: "Enable plugin" }).click();
  await op.getByRole("button", { name: "Disable plugin" }).waitFor();

  assertClean();
});

test("a wrong key is refused at sign-in, and keys never reach a URL", async () => {
  const page = await tracked();
  consolePages.push(page);
  await page.goto(demo.console);
  await page.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  for (const key of ["sk_test_not_a_real_key", "op_not_the_operator"]) {
    await page.getByLabel("API key").fill(key);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").getByText("This key was not recognised (wrong or revoked). Paste a current key.").waitFor();
    assert.equal(await page.getByLabel("API key").getAttribute("aria-invalid"), "true");
  }
  await shot(page, "console-20-wrong-key");
  assert.equal(await page.evaluate(() => localStorage.length), 0, "nothing in localStorage");
  assert.equal(await page.evaluate(() => sessionStorage.length), 0, "a refused key is not kept");

  // The operator onboards a merchant: its keys are shown once.
  const op = await signIn(demo.operatorKey, "Merchants");
  const slug = `kiosk-${Date.now().toString(36)}`;
  const create = op.getByRole("form", { name: "New merchant" });
  await create.getByLabel("Name").fill("Kiosk am Markt");
  await create.getByLabel("Slug").fill(slug);
  await create.getByLabel("Currency").fill("EUR");
  await create.getByLabel("Country").fill("DE");
  await create.getByLabel("Time zone").fill("Europe/Berlin");
  await create.getByRole("button", { name: "Create merchant" }).click();
  const keys = op.getByRole("region", { name: "Keys of Kiosk am Markt" });
  await keys.waitFor();
  const secretKey = (await keys.locator("code.secret").first().textContent()).trim();
  assert.match(secretKey, /^sk_/);
  await op.getByRole("table", { name: "Merchants" }).getByText(slug, { exact: true }).waitFor();
  await shot(op, "console-21-merchant-created");

  // Its merchant signs in; then the operator rotates its keys.
  const merchant = await signIn(secretKey, "Dashboard");
  await op.getByRole("button", { name: "Rotate the keys of Kiosk am Markt" }).click();
  const dialog = op.getByRole("dialog", { name: "Rotate the keys of Kiosk am Markt?" });
  await dialog.getByRole("button", { name: "Rotate keys" }).click();
  const rotated = op.getByRole("region", { name: "New keys of Kiosk am Markt" });
  await rotated.waitFor();
  assert.notEqual((await rotated.locator("code.secret").first().textContent()).trim(), secretKey);
  await shot(op, "console-22-keys-rotated");

  // The revoked key's next request sends the merchant back to sign-in.
  await merchant.getByRole("navigation", { name: "Console" }).getByRole("link", { name: "Orders", exact: true }).click();
  await merchant.getByRole("heading", { level: 1, name: "Sign in" }).waitFor();
  await merchant.getByRole("alert").getByText("This key was not recognised (wrong or revoked). Paste a current key.").waitFor();
  assert.equal(await merchant.evaluate(() => sessionStorage.length), 0, "the revoked key is forgotten");
  await shot(merchant, "console-23-session-expired");

  assert.ok(requested.some((u) => u.includes("/v1/admin/")) && requested.some((u) => u.includes("/v1/platform/")));
  assertClean();
});
