//! The scenarios: N clients in a loop for a fixed time after a warm-up, each
//! recording its own latencies; merged when they end.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use reqwest::Method;
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::report::{Outcome, Percentiles, Tally};
use crate::server::Env;
use crate::setup::{self, Api, Failure, Shop};

/// Every scenario, in the order they run.
pub const SCENARIOS: [&str; 10] = [
    "baseline",
    "cart_read",
    "add_to_cart_new_session",
    "add_line",
    "shadow",
    "checkout",
    "checkout_webhooks",
    "checkout_stripe",
    "checkout_flow",
    "cart_1000",
];

/// How the checkouts of a `checkout…` scenario pay, and what listens.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The test gateway; no webhook endpoint (events are written and
    /// fanned out, nothing is sent).
    Gateway,
    /// Every other checkout through Stripe.
    Stripe,
    /// The test gateway, with a webhook endpoint for every event at a
    /// receiver on loopback: deliveries run during the window.
    Webhooks,
}

/// How the bench pays: the test gateway's card, or Stripe's (at the
/// loopback Stripe, answering at once).
fn payment(stripe: bool) -> Value {
    if stripe {
        json!({"payment": {"provider": "stripe", "payment_method": "pm_card_visa"}})
    } else {
        json!({"payment": {"provider": "test-gateway", "token": "tok_visa"}})
    }
}

/// When to record and when to stop.
#[derive(Clone, Copy)]
struct Window {
    measure_from: Instant,
    end: Instant,
    seconds: f64,
}

impl Window {
    /// The CPU server process `pid`, the database and this client use during
    /// the measured part.
    fn cpu(&self, pid: u32) -> tokio::task::JoinHandle<crate::cpu::Used> {
        crate::cpu::during(pid, self.measure_from, self.end)
    }

    fn start(args: &BenchArgs) -> Window {
        let (warmup, duration) = args.window();
        let measure_from = Instant::now() + warmup;
        Window { measure_from, end: measure_from + duration, seconds: duration.as_secs_f64() }
    }

    fn running(&self) -> bool {
        Instant::now() < self.end
    }

    /// Records `started.elapsed()` when the request started inside the measured window.
    fn record(&self, into: &mut Vec<u32>, started: Instant) {
        if started >= self.measure_from {
            into.push(started.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
    }
}

/// Everything a scenario reaches.
#[derive(Clone)]
struct Ctx {
    api: Api,
    baseline: Api,
    shop: Arc<Shop>,
    clients: usize,
    run: String,
    /// The host's process, whose CPU is counted.
    host_pid: u32,
    /// The baseline server's process (the host's, where there is none).
    baseline_pid: u32,
}

/// Sets up the shop, then runs the selected scenarios in a fixed order.
pub async fn run_all(args: &BenchArgs, env: &Env) -> Result<Vec<Outcome>> {
    let client = setup::client()?;
    let api = Api { client: client.clone(), base: env.mercato.base.as_str().into() };
    let baseline = Api { client, base: env.baseline.base.as_str().into() };
    let started = Instant::now();
    let shop = setup::shop(&api, &env.operator_key, &args.plugin_dir, args.products).await.map_err(|e| {
        eprintln!("the end of mercato's log:\n{}", env.mercato.log_tail());
        e.context("setup failed")
    })?;
    let shop = Arc::new(shop);
    history(&api, &shop, args.clients).await.context("carts of history")?;
    env.analyze().await.context("analyze")?;
    eprintln!(
        "set up a merchant, 4 plugins bound, {} products in stock, {HISTORY_CARTS} carts of history (an eighth of them ordered) in {:.1} s",
        shop.variants.len(),
        started.elapsed().as_secs_f64()
    );
    let run = crate::server::random_hex()[..12].to_owned();
    let host_pid = env.mercato.pid();
    let baseline_pid = env.baseline.pid();
    let ctx = Ctx { api, baseline, shop, clients: args.clients, run, host_pid, baseline_pid };
    let mut results = Vec::new();
    for name in SCENARIOS.into_iter().filter(|s| args.scenarios.iter().any(|a| a == s)) {
        eprintln!("{}: {name}", env.backend);
        // What autovacuum would have done by now on a database in service
        // (the scenarios before grew the cart and order tables from empty).
        env.analyze().await.context("analyze")?;
        if name == "shadow" {
            let both = shadow(&ctx, args).await;
            results.extend(both.unwrap_or_else(|e| vec![Outcome::failed("shadow_on", e.to_string())]));
            continue;
        }
        let outcome = match name {
            "baseline" => baseline_reads(&ctx, args).await,
            "cart_read" => cart_read(&ctx, args).await,
            "add_line" => add_line(&ctx, args).await,
            "add_to_cart_new_session" => add_to_cart_new_session(&ctx, args).await,
            "checkout" => checkout(&ctx, args, Mode::Gateway).await,
            "checkout_webhooks" => checkout(&ctx, args, Mode::Webhooks).await,
            "checkout_stripe" => checkout(&ctx, args, Mode::Stripe).await,
            "checkout_flow" => checkout_flow(&ctx, args).await,
            _ => cart_1000(&ctx).await,
        };
        results.push(outcome.unwrap_or_else(|e| Outcome::failed(name, e.to_string())));
    }
    Ok(results)
}

/// Carts made before the scenarios run, so they meet a shop in service
/// rather than empty cart tables: PostgreSQL caches the plans of the
/// host's prepared statements from the statistics it has when they are
/// first run, and plans made for a table of a few rows (a scan of it)
/// stay until autovacuum analyzes it again, by which time the table may
/// have grown by thousands of rows within one scenario.
const HISTORY_CARTS: usize = 4000;

/// Makes [`HISTORY_CARTS`] carts of one line each, from `clients`
/// clients; every eighth is completed (an order paid).
async fn history(api: &Api, shop: &Arc<Shop>, clients: usize) -> Result<()> {
    let mut set = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (api, shop) = (api.clone(), shop.clone());
        set.spawn(async move {
            let pk = &shop.publishable_key;
            for i in (c..HISTORY_CARTS).step_by(clients) {
                let lines = setup::lines(&shop, [(i, 1)]);
                let cart = setup::cart(&api, &shop, lines, &format!("past{i}@example.com")).await?;
                if i % 8 == 0 {
                    setup::ready_to_ship(&api, &shop, &cart).await?;
                    let key = format!("history-{i}");
                    let path = format!("/v1/store/carts/{cart}/complete");
                    let headers = [("idempotency-key", key.as_str())];
                    api.call(Method::POST, &path, pk, Some(&payment(false)), &headers, false).await?;
                }
            }
            Ok::<_, Failure>(())
        });
    }
    while let Some(done) = set.join_next().await {
        done??;
    }
    Ok(())
}

/// Runs `client(i)` for every client and merges what they collected.
async fn clients<F, Fut>(n: usize, client: F) -> Tally
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Tally> + Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        set.spawn(client(i));
    }
    let mut all = Tally::default();
    while let Some(done) = set.join_next().await {
        match done {
            Ok(tally) => all.merge(tally),
            Err(e) => all.error(format!("client task failed: {e}")),
        }
    }
    all
}

/// GET `path` on `api` until the window closes.
async fn read_loop(api: Api, key: String, paths: Vec<String>, window: Window) -> Tally {
    let mut tally = Tally::default();
    let mut i = 0;
    while window.running() {
        let started = Instant::now();
        match api.call(Method::GET, &paths[i % paths.len()], &key, None, &[], false).await {
            Ok(_) => window.record(&mut tally.micros, started),
            Err(e) => tally.error(e),
        }
        i += 1;
    }
    tally
}

/// The denominator: one row by primary key through axum and sqlx.
async fn baseline_reads(ctx: &Ctx, args: &BenchArgs) -> Result<Outcome> {
    let paths: Vec<String> =
        (0..crate::baseline::ROWS).map(|i| format!("/rows/{}", crate::baseline::row_id(i))).collect();
    ctx.baseline.call(Method::GET, &paths[0], "baseline", None, &[], false).await?;
    let window = Window::start(args);
    let cpu = window.cpu(ctx.baseline_pid);
    let tally = clients(ctx.clients, |c| {
        let mut paths = paths.clone();
        let by = c % paths.len();
        paths.rotate_left(by);
        read_loop(ctx.baseline.clone(), "baseline".into(), paths, window)
    })
    .await;
    let mut outcome = Outcome::measured("baseline", tally, Some(window.seconds));
    outcome.cpu = cpu.await.ok();
    Ok(outcome)
}

/// One cart per client, 20 lines, address and shipping option; GET in a loop.
async fn cart_read(ctx: &Ctx, args: &BenchArgs) -> Result<Outcome> {
    let shop = &ctx.shop;
    let mut carts = Vec::new();
    for c in 0..ctx.clients {
        let lines = setup::lines(shop, (0..20).map(|k| (c * 20 + k, 1 + k as u32 % 3)));
        let cart = setup::cart(&ctx.api, shop, lines, &format!("reader{c}@example.com")).await?;
        setup::ready_to_ship(&ctx.api, shop, &cart).await?;
        carts.push(cart);
    }
    let sample = ctx.api.get(&format!("/v1/store/carts/{}", carts[0]), &shop.publishable_key).await?;
    let window = Window::start(args);
    let cpu = window.cpu(ctx.host_pid);
    let tally = clients(ctx.clients, |c| {
        let paths = vec![format!("/v1/store/carts/{}", carts[c])];
        read_loop(ctx.api.clone(), shop.publishable_key.clone(), paths, window)
    })
    .await;
    let mut outcome = Outcome::measured("cart_read", tally, Some(window.seconds));
    outcome.cpu = cpu.await.ok();
    outcome.note = Some(totals(&sample));
    Ok(outcome)
}

/// What a cart came to, to show the plugins were at work.
fn totals(cart: &Value) -> String {
    let amount = |name: &str| cart[name]["amount"].as_i64().map_or("?".into(), |a| a.to_string());
    format!(
        "a cart of {} lines: subtotal {}, discount {}, shipping {}, tax {}, total {} (minor units)",
        cart["lines"].as_array().map_or(0, Vec::len),
        amount("subtotal"),
        amount("discount_total"),
        amount("shipping_total"),
        amount("tax_total"),
        amount("total")
    )
}

const LINES_PER_CART: usize = 50;

/// Client `c`'s `n`th cart starts its lines here.
fn add_line_start(c: usize, n: usize, variants: usize) -> usize {
    (c * 131 + n * LINES_PER_CART) % variants
}

/// A fresh cart for `add_line` with its first line and the address.
async fn add_line_cart(ctx: &Ctx, c: usize, n: usize) -> Result<String, Failure> {
    let shop = &ctx.shop;
    let lines = setup::lines(shop, [(add_line_start(c, n, shop.variants.len()), 1)]);
    let cart = setup::cart(&ctx.api, shop, lines, &format!("adder{c}@example.com")).await?;
    let body = json!({"shipping_address": setup::address()});
    ctx.api.send(Method::PATCH, &format!("/v1/store/carts/{cart}"), &shop.publishable_key, &body).await?;
    Ok(cart)
}

/// POST a line at a time to per-client carts; a new cart (not timed) every 50 lines.
async fn add_line(ctx: &Ctx, args: &BenchArgs) -> Result<Outcome> {
    let (tally, seconds, cpu) = add_line_tally(ctx, args).await?;
    let mut outcome = Outcome::measured("add_line", tally, Some(seconds));
    outcome.cpu = Some(cpu);
    Ok(outcome)
}

/// Shadow runs on and off in one run: `add_line` (each request prices the
/// cart through a real call of the pricing, shipping and tax plugins) in
/// four measured windows, off, on, on, off, so drift over the run falls on
/// both sides, after one unmeasured. "On": every binding has a shadow of the same plugin and
/// configuration, sampling every call (the most a merchant can ask).
async fn shadow(ctx: &Ctx, args: &BenchArgs) -> Result<Vec<Outcome>> {
    let sk = &ctx.shop.secret_key;
    let bound = ctx.api.get("/v1/admin/plugin-bindings", sk).await?;
    let (mut off, mut on) = (Tally::default(), Tally::default());
    let (mut off_seconds, mut on_seconds) = (0.0, 0.0);
    let mut note = String::new();
    // A first window unmeasured (caches, the database file and the memo
    // warm up), then off, on, on, off.
    for (round, shadowed) in [false, false, true, true, false].into_iter().enumerate() {
        for point in ["pricing", "shipping", "tax"] {
            let live = &bound[point][0];
            let mut list = vec![json!({"plugin_id": live["plugin_id"], "config": live["config"]})];
            if shadowed {
                list.push(
                    json!({"plugin_id": live["plugin_id"], "config": live["config"], "mode": "shadow"}),
                );
            }
            let path = format!("/v1/admin/plugin-bindings/{point}");
            ctx.api.send(Method::PUT, &path, sk, &json!({"bindings": list})).await?;
        }
        let (tally, seconds, _) = add_line_tally(ctx, args).await?;
        if round == 0 {
            continue;
        }
        if shadowed {
            on.merge(tally);
            on_seconds += seconds;
        } else {
            off.merge(tally);
            off_seconds += seconds;
        }
        if round == 3 {
            // Still bound: what the shadows did during the two windows.
            tokio::time::sleep(Duration::from_secs(1)).await;
            let report = ctx.api.get("/v1/admin/plugin-bindings/tax/shadow-report?examples=0", sk).await?;
            let s = &report["shadows"][0];
            note = format!(
                "tax shadow: {} calls compared ({} identical, {} failed), {} dropped for want of an idle core",
                s["calls_compared"], s["identical"], s["failed"], s["dropped_on_this_host"]
            );
        }
    }
    let mut with = Outcome::measured("shadow_on", on, Some(on_seconds));
    with.note = Some(note);
    Ok(vec![Outcome::measured("shadow_off", off, Some(off_seconds)), with])
}

/// `add_line`'s window: its tally, measured seconds and CPU.
async fn add_line_tally(ctx: &Ctx, args: &BenchArgs) -> Result<(Tally, f64, crate::cpu::Used)> {
    let mut first = Vec::new();
    for c in 0..ctx.clients {
        first.push(add_line_cart(ctx, c, 0).await?);
    }
    let ctx = Arc::new(ctx.clone());
    let window = Window::start(args);
    let cpu = window.cpu(ctx.host_pid);
    let tally = clients(ctx.clients, |c| {
        let (ctx, mut cart) = (ctx.clone(), first[c].clone());
        async move {
            let mut tally = Tally::default();
            let variants = ctx.shop.variants.len();
            let (mut n, mut lines) = (0, 1);
            while window.running() {
                if lines >= LINES_PER_CART {
                    n += 1;
                    lines = 1;
                    match add_line_cart(&ctx, c, n).await {
                        Ok(next) => cart = next,
                        Err(e) => {
                            tally.error(e);
                            continue;
                        }
                    }
                }
                let variant = &ctx.shop.variants[(add_line_start(c, n, variants) + lines) % variants];
                let body = json!({"variant_id": variant, "quantity": 1});
                let path = format!("/v1/store/carts/{cart}/lines");
                let started = Instant::now();
                let pk = &ctx.shop.publishable_key;
                match ctx.api.call(Method::POST, &path, pk, Some(&body), &[], false).await {
                    Ok(_) => window.record(&mut tally.micros, started),
                    Err(e) => tally.error(e),
                }
                lines += 1;
            }
            tally
        }
    })
    .await;
    Ok((tally, window.seconds, cpu.await?))
}

/// A cart with 1–3 lines, an address and a shipping option, ready to complete.
async fn ready_cart(ctx: &Ctx, c: usize, i: usize) -> Result<String, Failure> {
    let shop = &ctx.shop;
    let picks = (0..1 + i % 3).map(|j| (c * 7919 + i * 31 + j * 337, 1 + j as u32 % 2));
    let cart =
        setup::cart(&ctx.api, shop, setup::lines(shop, picks), &format!("buyer{c}@example.com")).await?;
    setup::ready_to_ship(&ctx.api, shop, &cart).await?;
    Ok(cart)
}

/// `POST …/complete` with a fresh Idempotency-Key, paying with Stripe or
/// the test gateway; its time.
async fn complete(ctx: &Ctx, cart: &str, (c, i): (usize, usize), stripe: bool) -> Result<Duration, Failure> {
    let shop = &ctx.shop;
    let key = format!("lg-{}-{c}-{i}-{stripe}", ctx.run);
    let body = payment(stripe);
    let path = format!("/v1/store/carts/{cart}/complete");
    let started = Instant::now();
    let headers = [("idempotency-key", key.as_str())];
    let (status, order) =
        ctx.api.call(Method::POST, &path, &shop.publishable_key, Some(&body), &headers, true).await?;
    let took = started.elapsed();
    if status != 201 {
        let text = format!("POST {path}: expected 201, got {status}: {order}");
        return Err(Failure { status: Some(status), text });
    }
    Ok(took)
}

/// Completing checkouts: carts made ready before the clock starts (cart,
/// address, shipping option), then only `POST …/complete` is measured —
/// stock reserved, plugins re-run, payment taken by the test gateway, order
/// written. `with_stripe`: every other checkout of each client pays through
/// Stripe instead (one PaymentIntent created and confirmed over loopback
/// HTTP), so both kinds meet the same database and load in the same window;
/// the Stripe ones are the outcome, the gateway ones its `gateway` latency.
async fn checkout(ctx: &Ctx, args: &BenchArgs, mode: Mode) -> Result<Outcome> {
    let with_stripe = mode == Mode::Stripe;
    let per_client = args.checkout_carts.div_ceil(ctx.clients.max(1));
    let listening = match mode {
        Mode::Webhooks => Some(crate::receiver::listen(&ctx.api, &ctx.shop.secret_key).await?),
        _ => None,
    };
    let offset = match mode {
        Mode::Gateway => 100_000,
        Mode::Stripe => 150_000,
        Mode::Webhooks => 200_000,
    };
    let mut prepare = tokio::task::JoinSet::new();
    for c in 0..ctx.clients {
        let ctx = ctx.clone();
        prepare.spawn(async move {
            let mut carts = Vec::with_capacity(per_client);
            for i in 0..per_client {
                carts.push(ready_cart(&ctx, c, offset + i).await?);
            }
            Ok::<_, Failure>((c, carts))
        });
    }
    let mut ready = Vec::new();
    while let Some(done) = prepare.join_next().await {
        match done? {
            Ok(carts) => ready.push(carts),
            Err(e) => anyhow::bail!("preparing carts failed: {}", e.text),
        }
    }
    let ctx = Arc::new(ctx.clone());
    let started = Instant::now();
    let mut set = tokio::task::JoinSet::new();
    for (c, carts) in ready {
        let ctx = ctx.clone();
        set.spawn(async move {
            let (mut gateway, mut stripe) = (Tally::default(), Tally::default());
            for (i, cart) in carts.iter().enumerate() {
                let by_stripe = with_stripe && i % 2 == 1;
                let tally = if by_stripe { &mut stripe } else { &mut gateway };
                match complete(&ctx, cart, (c, offset + i), by_stripe).await {
                    Ok(took) => tally.micros.push(took.as_micros().min(u32::MAX as u128) as u32),
                    Err(e) => tally.error(e),
                }
            }
            (gateway, stripe)
        });
    }
    let (mut gateway, mut stripe) = (Tally::default(), Tally::default());
    while let Some(done) = set.join_next().await {
        let (g, s) = done?;
        gateway.merge(g);
        stripe.merge(s);
    }
    let seconds = started.elapsed().as_secs_f64();
    let carts = per_client * ctx.clients;
    if let Some(receiver) = listening {
        let completed = gateway.micros.len();
        let drained = receiver.drain(&ctx.api, &ctx.shop.secret_key).await?;
        let mut outcome = Outcome::measured("checkout_webhooks", gateway, Some(seconds));
        outcome.note = Some(format!(
            "as checkout, with a webhook endpoint for every event at a receiver on loopback: {completed} \
             checkouts over {seconds:.1} s; {drained}"
        ));
        return Ok(outcome);
    }
    if !with_stripe {
        let mut outcome = Outcome::measured("checkout", gateway, Some(seconds));
        outcome.note = Some(format!(
            "{carts} carts made ready first; requests = completed checkouts (201) over {seconds:.1} s"
        ));
        return Ok(outcome);
    }
    let all = (gateway.micros.len() + stripe.micros.len()) as f64 / seconds;
    let mut outcome = Outcome::measured("checkout_stripe", stripe, Some(seconds));
    outcome.subs.extend(Percentiles::of(std::mem::take(&mut gateway.micros)).map(|p| ("gateway", p)));
    outcome.errors += gateway.errors;
    outcome.samples.extend(gateway.samples);
    outcome.note = Some(format!(
        "{carts} carts made ready first, every other one paid through Stripe; requests = Stripe checkouts \
         (201) over {seconds:.1} s, {all:.1} checkouts/s in all; .gateway = the test-gateway ones in the same window"
    ));
    Ok(outcome)
}

/// The steps of one purchase, as a shopper's browser sends them.
pub const FLOW_STEPS: [&str; 6] = ["create", "email", "address", "shipping", "read", "complete"];

/// One purchase in six requests, as the peer workload makes it: a cart
/// with its first line, the e-mail, the address, the shipping option (its
/// code known to the storefront), a read, complete. Each step's latency
/// goes to `tally` when the purchase started in the measured window; the
/// whole purchase's time is returned.
async fn purchase(
    ctx: &Ctx,
    shipping_code: &str,
    (c, i): (usize, usize),
    tally: &mut Tally,
    record: bool,
) -> Result<Duration, Failure> {
    let shop = &ctx.shop;
    let pk = &shop.publishable_key;
    let started = Instant::now();
    let mut step = Instant::now();
    let mut took = |tally: &mut Tally, name: &'static str| {
        if record {
            tally.step_micros(name).push(step.elapsed().as_micros().min(u32::MAX as u128) as u32);
        }
        step = Instant::now();
    };
    let lines = setup::lines(shop, [(c * 7919 + i * 31, 1 + (i % 2) as u32)]);
    let (_, cart) =
        ctx.api.call(Method::POST, "/v1/store/carts", pk, Some(&json!({"lines": lines})), &[], true).await?;
    took(tally, "create");
    let id = cart["id"].as_str().ok_or_else(|| Failure { status: None, text: format!("no id in {cart}") })?;
    let path = format!("/v1/store/carts/{id}");
    let email = json!({"email": format!("flow{c}-{i}@example.com")});
    ctx.api.call(Method::PATCH, &path, pk, Some(&email), &[], false).await?;
    took(tally, "email");
    let address = json!({"shipping_address": setup::address()});
    ctx.api.call(Method::PATCH, &path, pk, Some(&address), &[], false).await?;
    took(tally, "address");
    let option = json!({"code": shipping_code});
    ctx.api.call(Method::PUT, &format!("{path}/shipping-option"), pk, Some(&option), &[], false).await?;
    took(tally, "shipping");
    ctx.api.call(Method::GET, &path, pk, None, &[], false).await?;
    took(tally, "read");
    complete(ctx, id, (c, i), false).await?;
    took(tally, "complete");
    Ok(started.elapsed())
}

/// The code of the first shipping option a ready cart is offered (the
/// storefront knows its shop's options; the flow does not ask each time).
async fn shipping_code(ctx: &Ctx) -> Result<String> {
    let shop = &ctx.shop;
    let cart = setup::cart(&ctx.api, shop, setup::lines(shop, [(0, 1)]), "probe@example.com").await?;
    let path = format!("/v1/store/carts/{cart}");
    ctx.api
        .send(Method::PATCH, &path, &shop.publishable_key, &json!({"shipping_address": setup::address()}))
        .await?;
    let options = ctx.api.get(&format!("{path}/shipping-options"), &shop.publishable_key).await?;
    setup::field(&options["options"][0], "code")
}

/// Whole purchases from every client, six requests each (see
/// [`purchase`]); completed orders per second, the flow's p50/p99 and each
/// step's.
async fn checkout_flow(ctx: &Ctx, args: &BenchArgs) -> Result<Outcome> {
    let code = Arc::<str>::from(shipping_code(ctx).await?);
    // One before the clock starts: a purchase that cannot work fails the scenario.
    purchase(ctx, &code, (ctx.clients, 0), &mut Tally::default(), false).await?;
    let ctx = Arc::new(ctx.clone());
    let window = Window::start(args);
    let cpu = window.cpu(ctx.host_pid);
    let tally = clients(ctx.clients, |c| {
        let (ctx, code) = (ctx.clone(), code.clone());
        async move {
            let mut tally = Tally::default();
            for name in FLOW_STEPS {
                tally.step_micros(name);
            }
            let mut i = 1;
            while window.running() {
                let started = Instant::now();
                match purchase(&ctx, &code, (c, i), &mut tally, started >= window.measure_from).await {
                    Ok(_) => window.record(&mut tally.micros, started),
                    Err(e) => tally.error(e),
                }
                i += 1;
            }
            tally
        }
    })
    .await;
    let mut outcome = Outcome::measured("checkout_flow", tally, Some(window.seconds));
    outcome.cpu = cpu.await.ok();
    outcome.note = Some(
        "requests = completed purchases (201), six requests each; p50/p99 of the whole purchase, .<step> of each request"
            .into(),
    );
    Ok(outcome)
}

/// A new shopper's first add to cart: `POST /v1/store/carts` with one line,
/// a new cart every request.
async fn add_to_cart_new_session(ctx: &Ctx, args: &BenchArgs) -> Result<Outcome> {
    let ctx = Arc::new(ctx.clone());
    let window = Window::start(args);
    let cpu = window.cpu(ctx.host_pid);
    let tally = clients(ctx.clients, |c| {
        let ctx = ctx.clone();
        async move {
            let mut tally = Tally::default();
            let mut i = 0;
            while window.running() {
                let lines = setup::lines(&ctx.shop, [(c * 7919 + i * 31, 1)]);
                let body = json!({"lines": lines});
                let started = Instant::now();
                let pk = &ctx.shop.publishable_key;
                match ctx.api.call(Method::POST, "/v1/store/carts", pk, Some(&body), &[], false).await {
                    Ok(_) => window.record(&mut tally.micros, started),
                    Err(e) => tally.error(e),
                }
                i += 1;
            }
            tally
        }
    })
    .await;
    let mut outcome = Outcome::measured("add_to_cart_new_session", tally, Some(window.seconds));
    outcome.cpu = cpu.await.ok();
    Ok(outcome)
}

/// One cart with a line per variant (1,000 by default); 50 sequential GETs.
async fn cart_1000(ctx: &Ctx) -> Result<Outcome> {
    let shop = &ctx.shop;
    let n = shop.variants.len();
    let all = setup::lines(shop, (0..n).map(|i| (i, 1 + i as u32 % 3)));
    let mut note = None;
    let cart = match setup::cart(&ctx.api, shop, all, "big@example.com").await {
        Ok(cart) => cart,
        Err(e) if e.status.is_some_and(|s| (400..500).contains(&s) && s != 404) => {
            // Not in one request: one line at a time.
            note =
                Some(format!("a cart of {n} lines in one request was refused ({e}); lines added one by one"));
            let cart = setup::cart(&ctx.api, shop, setup::lines(shop, [(0, 1)]), "big@example.com").await?;
            for i in 1..n {
                let body = json!({"variant_id": shop.variants[i], "quantity": 1 + i % 3});
                let path = format!("/v1/store/carts/{cart}/lines");
                ctx.api.call(Method::POST, &path, &shop.publishable_key, Some(&body), &[], false).await?;
            }
            cart
        }
        Err(e) => return Err(e.into()),
    };
    setup::ready_to_ship(&ctx.api, shop, &cart).await?;
    let path = format!("/v1/store/carts/{cart}");
    let mut tally = Tally::default();
    let window = Window { measure_from: Instant::now(), end: Instant::now(), seconds: 0.0 };
    for i in 0..55 {
        let started = Instant::now();
        match ctx.api.call(Method::GET, &path, &shop.publishable_key, None, &[], false).await {
            // The first five warm up.
            Ok(_) if i >= 5 => window.record(&mut tally.micros, started),
            Ok(_) => {}
            Err(e) => tally.error(e),
        }
    }
    let mut outcome = Outcome::measured("cart_1000", tally, None);
    let verdict = outcome.latency.map(|l| if l.p99 <= 50.0 { "met" } else { "not met" });
    let target = format!("{n} lines, 50 sequential GETs; target p99 <= 50 ms: {}", verdict.unwrap_or("-"));
    outcome.note = Some(note.map_or(target.clone(), |n| format!("{target}; {n}")));
    Ok(outcome)
}

/// What one request costs, counted on a host that logs every statement:
/// medians over `ROUNDS` sequential requests of each kind.
const ROUNDS: usize = 11;

/// Per request of a purchase (and of `add_line` and `cart_read`), one
/// client, nothing else running: database statements (the host's
/// `sqlx::query` log events inside the request's span: background work,
/// such as the event worker after a checkout or the checkpointer, is not
/// counted), plugin
/// calls (the platform's call counts before and after), bytes of JSON
/// sent and received, and the unloaded latency.
pub async fn profile(args: &BenchArgs, env: &Env) -> Result<Outcome> {
    let client = setup::client()?;
    let api = Api { client, base: env.mercato.base.as_str().into() };
    let shop = setup::shop(&api, &env.operator_key, &args.plugin_dir, 100).await?;
    let run = crate::server::random_hex()[..12].to_owned();
    let host_pid = env.mercato.pid();
    let (baseline, shop) = (api.clone(), Arc::new(shop));
    let ctx = Ctx { api: api.clone(), baseline, shop, clients: 1, run, host_pid, baseline_pid: host_pid };
    let code = shipping_code(&ctx).await?;
    let mut rows: Vec<(&'static str, Vec<[f64; 5]>)> = Vec::new();
    let mut put = |name: &'static str, row: [f64; 5]| match rows.iter_mut().find(|(n, _)| *n == name) {
        Some((_, all)) => all.push(row),
        None => rows.push((name, vec![row])),
    };
    let reader = {
        let lines = setup::lines(&ctx.shop, (0..20).map(|k| (k, 1 + k as u32 % 3)));
        let cart = setup::cart(&ctx.api, &ctx.shop, lines, "reader@example.com").await?;
        setup::ready_to_ship(&ctx.api, &ctx.shop, &cart).await?;
        cart
    };
    for i in 0..ROUNDS {
        let lines = setup::lines(&ctx.shop, [(i * 31, 1)]);
        let (row, cart) =
            counted(env, &ctx, Method::POST, "/v1/store/carts".into(), Some(json!({"lines": lines}))).await?;
        put("create", row);
        let id = setup::field(&cart, "id")?;
        let path = format!("/v1/store/carts/{id}");
        let email = json!({"email": format!("profile{i}@example.com")});
        put("email", counted(env, &ctx, Method::PATCH, path.clone(), Some(email)).await?.0);
        let address = json!({"shipping_address": setup::address()});
        put("address", counted(env, &ctx, Method::PATCH, path.clone(), Some(address)).await?.0);
        let option = json!({"code": code});
        put(
            "shipping",
            counted(env, &ctx, Method::PUT, format!("{path}/shipping-option"), Some(option)).await?.0,
        );
        put("read", counted(env, &ctx, Method::GET, path.clone(), None).await?.0);
        let line =
            json!({"variant_id": ctx.shop.variants[(i * 31 + 7) % ctx.shop.variants.len()], "quantity": 1});
        put(
            "add_line (after shipping)",
            counted(env, &ctx, Method::POST, format!("{path}/lines"), Some(line)).await?.0,
        );
        put("read", counted(env, &ctx, Method::GET, path.clone(), None).await?.0);
        let payment = payment(false);
        let key = format!("profile-{}-{i}", ctx.run);
        let row =
            counted_with(env, &ctx, Method::POST, format!("{path}/complete"), Some(payment), &key).await?.0;
        put("complete", row);
        put(
            "cart_read (20 lines)",
            counted(env, &ctx, Method::GET, format!("/v1/store/carts/{reader}"), None).await?.0,
        );
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut detail = serde_json::Map::new();
    let mut text = format!(
        "medians of {ROUNDS} sequential requests each\n    {:<28} {:>10} {:>12} {:>10} {:>11} {:>8}",
        "request", "statements", "plugin calls", "bytes in", "bytes out", "ms"
    );
    for (name, all) in rows {
        let col = |k: usize| median(all.iter().map(|r| r[k]).collect());
        let (st, calls, sent, got, ms) = (col(0), col(1), col(2), col(3), col(4));
        text.push_str(&format!("\n    {name:<28} {st:>10} {calls:>12} {sent:>10} {got:>11} {ms:>8.2}"));
        detail.insert(
            name.into(),
            json!({"statements": st, "plugin_calls": calls, "request_bytes": sent, "response_bytes": got, "ms": ms}),
        );
    }
    let mut outcome = Outcome::measured("profile", Tally::default(), None);
    outcome.note = Some(text);
    outcome.detail = Some(json!({"per_request": detail}));
    Ok(outcome)
}

async fn counted(
    env: &Env,
    ctx: &Ctx,
    method: Method,
    path: String,
    body: Option<Value>,
) -> Result<([f64; 5], Value)> {
    counted_with(env, ctx, method, path, body, "").await
}

/// One request with its counts: statements, plugin calls, bytes sent,
/// bytes received, milliseconds.
async fn counted_with(
    env: &Env,
    ctx: &Ctx,
    method: Method,
    path: String,
    body: Option<Value>,
    idempotency_key: &str,
) -> Result<([f64; 5], Value)> {
    let calls_before = plugin_calls(ctx, &env.operator_key).await?;
    // The log is written as events happen; let the last request's settle.
    tokio::time::sleep(Duration::from_millis(30)).await;
    let from = env.mercato.log_len();
    let mut req = ctx
        .api
        .client
        .request(method.clone(), format!("{}{path}", ctx.api.base))
        .bearer_auth(&ctx.shop.publishable_key);
    let sent = body.as_ref().map_or(0, |b| b.to_string().len());
    if let Some(body) = &body {
        req = req.json(body);
    }
    if !idempotency_key.is_empty() {
        req = req.header("idempotency-key", idempotency_key);
    }
    let started = Instant::now();
    let res = req.send().await?;
    let status = res.status();
    // The host names each request's log events by this id: the statements
    // of background work (the event worker after a checkout, the jobs) are
    // not the request's.
    let span = res
        .headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .map(|id| format!("request_id={id}"))
        .context("the host answered without x-request-id")?;
    let bytes = res.bytes().await?;
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    anyhow::ensure!(status.is_success(), "{method} {path}: {status}: {}", String::from_utf8_lossy(&bytes));
    tokio::time::sleep(Duration::from_millis(30)).await;
    let log = env.mercato.log_since(from);
    let statements =
        log.lines().filter(|line| line.contains(" sqlx::query:") && line.contains(&span)).count();
    let calls = plugin_calls(ctx, &env.operator_key).await? - calls_before;
    let value = if bytes.is_empty() { Value::Null } else { serde_json::from_slice(&bytes)? };
    Ok(([statements as f64, calls as f64, sent as f64, bytes.len() as f64, ms], value))
}

/// Calls made so far to every installed plugin, on this host.
async fn plugin_calls(ctx: &Ctx, operator_key: &str) -> Result<u64> {
    let list = ctx.api.get("/v1/platform/plugins?limit=100", operator_key).await?;
    Ok(list["data"].as_array().into_iter().flatten().filter_map(|p| p["stats"]["calls"].as_u64()).sum())
}
