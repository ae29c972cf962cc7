//! The scenarios: N clients in a loop for a fixed time after a warm-up, each
//! recording its own latencies; merged when they end.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::Method;
use serde_json::{Value, json};

use crate::BenchArgs;
use crate::report::{Outcome, Percentiles, Tally};
use crate::server::Env;
use crate::setup::{self, Api, Failure, Shop};

/// Every scenario, in the order they run.
pub const SCENARIOS: [&str; 9] = [
    "baseline",
    "cart_read",
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
    eprintln!(
        "set up a merchant, 4 plugins bound, {} products in stock in {:.1} s",
        shop.variants.len(),
        started.elapsed().as_secs_f64()
    );
    let run = crate::server::random_hex()[..12].to_owned();
    let ctx = Ctx { api, baseline, shop: Arc::new(shop), clients: args.clients, run };
    let mut results = Vec::new();
    for name in SCENARIOS.into_iter().filter(|s| args.scenarios.iter().any(|a| a == s)) {
        eprintln!("{}: {name}", env.backend);
        if name == "shadow" {
            let both = shadow(&ctx, args).await;
            results.extend(both.unwrap_or_else(|e| vec![Outcome::failed("shadow_on", e.to_string())]));
            continue;
        }
        let outcome = match name {
            "baseline" => baseline_reads(&ctx, args).await,
            "cart_read" => cart_read(&ctx, args).await,
            "add_line" => add_line(&ctx, args).await,
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
    let tally = clients(ctx.clients, |c| {
        let mut paths = paths.clone();
        let by = c % paths.len();
        paths.rotate_left(by);
        read_loop(ctx.baseline.clone(), "baseline".into(), paths, window)
    })
    .await;
    Ok(Outcome::measured("baseline", tally, Some(window.seconds)))
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
    let tally = clients(ctx.clients, |c| {
        let paths = vec![format!("/v1/store/carts/{}", carts[c])];
        read_loop(ctx.api.clone(), shop.publishable_key.clone(), paths, window)
    })
    .await;
    let mut outcome = Outcome::measured("cart_read", tally, Some(window.seconds));
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
    let (tally, seconds) = add_line_tally(ctx, args).await?;
    Ok(Outcome::measured("add_line", tally, Some(seconds)))
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
        let (tally, seconds) = add_line_tally(ctx, args).await?;
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

/// `add_line`'s window: its tally and measured seconds.
async fn add_line_tally(ctx: &Ctx, args: &BenchArgs) -> Result<(Tally, f64)> {
    let mut first = Vec::new();
    for c in 0..ctx.clients {
        first.push(add_line_cart(ctx, c, 0).await?);
    }
    let ctx = Arc::new(ctx.clone());
    let window = Window::start(args);
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
    Ok((tally, window.seconds))
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

/// A whole checkout: cart with 1–3 lines, address, shipping option, complete.
/// Returns the time of the `complete` call.
async fn checkout_once(ctx: &Ctx, c: usize, i: usize) -> Result<Duration, Failure> {
    let cart = ready_cart(ctx, c, i).await?;
    complete(ctx, &cart, (c, i), false).await
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
    outcome.sub = Percentiles::of(std::mem::take(&mut gateway.micros)).map(|p| ("gateway", p));
    outcome.errors += gateway.errors;
    outcome.samples.extend(gateway.samples);
    outcome.note = Some(format!(
        "{carts} carts made ready first, every other one paid through Stripe; requests = Stripe checkouts \
         (201) over {seconds:.1} s, {all:.1} checkouts/s in all; .gateway = the test-gateway ones in the same window"
    ));
    Ok(outcome)
}

/// Whole checkouts from every client (cart, address, shipping, complete);
/// completed orders per second.
async fn checkout_flow(ctx: &Ctx, args: &BenchArgs) -> Result<Outcome> {
    // One before the clock starts: a checkout that cannot work fails the scenario.
    checkout_once(ctx, ctx.clients, 0).await?;
    let ctx = Arc::new(ctx.clone());
    let window = Window::start(args);
    let tally = clients(ctx.clients, |c| {
        let ctx = ctx.clone();
        async move {
            let mut tally = Tally::default();
            let mut i = 1;
            while window.running() {
                let started = Instant::now();
                match checkout_once(&ctx, c, i).await {
                    Ok(complete) => {
                        if started >= window.measure_from {
                            tally.sub_micros.push(complete.as_micros().min(u32::MAX as u128) as u32);
                        }
                        window.record(&mut tally.micros, started);
                    }
                    Err(e) => tally.error(e),
                }
                i += 1;
            }
            tally
        }
    })
    .await;
    let sub = Percentiles::of(tally.sub_micros.clone());
    let mut outcome = Outcome::measured("checkout_flow", tally, Some(window.seconds));
    outcome.sub = sub.map(|p| ("complete", p));
    outcome.note =
        Some("requests = completed checkouts (201); p50/p99 of the whole flow, .complete of the call".into());
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
