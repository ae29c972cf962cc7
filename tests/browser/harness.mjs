// What every browser test shares: a real `mercato demo` (two seeded shops
// on a fresh SQLite database, real plugins) on a free loopback port, Debian's
// Chromium driven by playwright-core, screenshots and timings under
// target/screenshots/.
//
// MERCATO_BIN (default target/debug/mercato), MERCATO_PLUGIN_DIR (default
// target/plugins) and CHROMIUM (default /usr/bin/chromium) may be set.

import { spawn } from "node:child_process";
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { before, after } from "node:test";
import { chromium } from "playwright-core";

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET = process.env.CARGO_TARGET_DIR ? resolve(process.env.CARGO_TARGET_DIR) : join(ROOT, "target");
export const SCREENSHOTS = join(TARGET, "screenshots");
export const PLUGIN_DIR = process.env.MERCATO_PLUGIN_DIR || join(TARGET, "plugins");
const BIN = process.env.MERCATO_BIN || join(TARGET, "debug", "mercato");

/**
 * Starts `mercato demo`; resolves to {base, operatorKey, shops: {slug: {name,
 * slug, currency, id, secretKey, publishableKey, discountCode, storefront}},
 * console, stop()} once it listens.
 */
export async function startDemo() {
  const dataDir = mkdtempSync(join(tmpdir(), "mercato-browser-"));
  const proc = spawn(BIN, ["demo", "--listen", "127.0.0.1:0", "--data-dir", dataDir, "--plugin-dir", PLUGIN_DIR], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let printed = "";
  let logs = "";
  proc.stderr.on("data", (d) => {
    logs += d;
  });
  const base = await new Promise((ok, fail) => {
    proc.stdout.on("data", (d) => {
      printed += d;
      const m = printed.match(/listening on (http:\/\/\S+)/);
      if (m) ok(m[1]);
    });
    proc.on("exit", (code) => fail(new Error(`mercato demo exited (${code}) before it listened:\n${printed}\n${logs}`)));
  });
  const shops = {};
  const blocks = printed.split(/\n(?=\S.*\((\S+), [A-Z]{3}\): )/);
  for (const block of blocks) {
    const head = block.match(/^(.+) \((\S+), ([A-Z]{3})\): /);
    if (!head) continue;
    const field = (label) => (block.match(new RegExp(`${label}\\s+(\\S+)`)) || [])[1];
    shops[head[2]] = {
      name: head[1],
      slug: head[2],
      currency: head[3],
      id: field("merchant id"),
      secretKey: field("secret key"),
      publishableKey: field("publishable key"),
      discountCode: field("discount code"),
      storefront: field("storefront"),
    };
  }
  return {
    base,
    operatorKey: printed.match(/operator key\s+(op_\w+)/)[1],
    console: `${base}/console`,
    shops,
    printed,
    logs: () => logs,
    stop: () => proc.kill("SIGTERM"),
  };
}

/**
 * A test file's demo and browser: started before its tests (then handed to
 * `ready({demo, browser})`), stopped after them.
 */
export function session(ready) {
  let s = {};
  before(async () => {
    s = { demo: await startDemo(), browser: await launchBrowser() };
    ready(s);
  });
  after(async () => {
    await s.browser?.close();
    s.demo?.stop();
  });
}

/** Debian's Chromium, headless, with nothing reaching beyond loopback. */
export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    args: [
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

/**
 * A fresh page (its own storage) that fails the test on a page error or a
 * CSP violation; `consoleErrors` collects what the page logged as errors.
 */
export async function newPage(browser, { width = 1280, height = 900 } = {}) {
  const context = await browser.newContext({ viewport: { width, height } });
  const page = await context.newPage();
  page.consoleErrors = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") page.consoleErrors.push(msg.text());
  });
  page.on("pageerror", (e) => page.consoleErrors.push(String(e)));
  page.setDefaultTimeout(15000);
  return page;
}

/** Saves a full-page screenshot as target/screenshots/<name>.png. */
export async function shot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Largest Contentful Paint of the page just loaded, in milliseconds. */
export async function largestContentfulPaint(page) {
  return page.evaluate(
    () =>
      new Promise((ok) => {
        new PerformanceObserver((list) => {
          const entries = list.getEntries();
          ok(entries[entries.length - 1].startTime);
        }).observe({ type: "largest-contentful-paint", buffered: true });
        setTimeout(() => ok(null), 5000);
      }),
  );
}

/** Records a measurement in target/screenshots/metrics.json (merged by name). */
export function record(name, value) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const file = join(SCREENSHOTS, "metrics.json");
  const all = existsSync(file) ? JSON.parse(readFileSync(file, "utf8")) : {};
  all[name] = value;
  writeFileSync(file, JSON.stringify(all, null, 2) + "\n");
}
