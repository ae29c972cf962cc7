//! Prices a cart through the merchant's plugins, in this order:
//!
//! 1. pricing plugins, in binding order (each sees what the previous ones
//!    applied), without shipping;
//! 2. shipping plugins, on the discounted subtotal, once an address is
//!    known; the selected option is looked up among their rates;
//! 3. pricing plugins again with the selected shipping amount, so they can
//!    discount shipping (only when an option is selected);
//! 4. the tax plugin on the discounted lines and shipping, once an address
//!    is known.
//!
//! Answers are memoized by (plugin version, configuration, input): a call
//! is a pure function of these (its clocks stand still, its randomness is
//! a fixed sequence), so checkout prices from the memo too, and the
//! order's trail says which answers were remembered. A failing
//! binding that fails closed (`on_error: "fail"`) is recorded in `failures`
//! (the cart shows a `plugin_failed` warning and cannot be completed); one
//! that is skipped (`on_error: "skip"`) is left out of the totals but never
//! silently: the cart shows a `plugin_skipped` warning naming the plugin,
//! the call and the reason, and the order placed from it an event.

use std::borrow::Cow;
use std::cell::Cell;
use std::sync::Arc;

use mercato_sdk::pricing::{Ledger, PricingInput, Target};
use mercato_sdk::shipping::{ShipItem, ShippingInput};
use mercato_sdk::tax::{TaxInput, TaxableLine};
use mercato_sdk::{Currency, Customer, ExtensionPoint, Money};

use super::memo::Answer;
use super::{
    Address, AdjustmentView, CartRecord, LineRecord, Memo, ShippingOption, TaxLineView, TrailStep, Warning,
};
use crate::commerce::catalog::{InventoryPolicy, Price};
use crate::commerce::discounts::DiscountCode;
use crate::commerce::plugins::{Binding, Exchange, OnError, Sample, ShadowRuns};
use crate::commerce::{Error, Result, Shop};
use crate::runtime::{Call, CallError, Outcome};

/// A line that is priced.
#[derive(Debug, Clone)]
pub struct PricedLine {
    /// The stored line, with what the catalog says of its variant.
    pub record: LineRecord,
    /// Unit price × quantity.
    pub subtotal: i64,
    /// Discounts aimed at this line.
    pub adjustments: Vec<AdjustmentView>,
    /// Everything taken off the line, its share of order discounts included.
    pub discount: i64,
    /// The taxes the tax plugin put on the line.
    pub tax_lines: Vec<TaxLineView>,
    /// Sum of `tax_lines`.
    pub tax: i64,
    /// Subtotal minus discount.
    pub total: i64,
}

/// A cart priced through its plugins.
#[derive(Debug, Clone)]
pub struct Priced {
    /// The cart's currency.
    pub currency: Currency,
    /// Lines with a live variant, in the order they were added.
    pub lines: Vec<PricedLine>,
    /// Sum of the lines' subtotals.
    pub subtotal: i64,
    /// Line discounts plus the shipping discount.
    pub discount_total: i64,
    /// The selected rate's amount, before any shipping discount.
    pub shipping_total: i64,
    /// Tax on lines and shipping.
    pub tax_total: i64,
    /// Subtotal − discounts + shipping + tax (tax not added again when prices include it).
    pub total: i64,
    /// The merchant's setting: whether prices already include tax.
    pub prices_include_tax: bool,
    /// Order and shipping adjustments.
    pub adjustments: Vec<AdjustmentView>,
    /// Taxes on shipping.
    pub shipping_tax_lines: Vec<TaxLineView>,
    /// Every rate offered.
    pub options: Vec<ShippingOption>,
    /// The selected rate, if still offered.
    pub shipping: Option<ShippingOption>,
    /// Whether the merchant has shipping plugins bound (then an option is required).
    pub ships: bool,
    /// Valid codes, for the checkout to claim.
    pub codes: Vec<DiscountCode>,
    /// What the buyer should know; see [`Warning`].
    pub warnings: Vec<Warning>,
    /// Bindings that failed closed: the cart cannot be completed.
    pub failures: Vec<String>,
    /// Every plugin call that shaped these totals, in the order they ran
    /// (pricing's deciding pass, shipping, tax).
    pub trail: Vec<TrailStep>,
}

/// What the plugin phase needs: owned, so it can move to the blocking pool.
struct Job {
    currency: Currency,
    lines: Vec<mercato_sdk::CartLine>,
    customer: Option<Customer>,
    codes: Vec<String>,
    address: Option<Address>,
    selected: Option<String>,
    prices_include_tax: bool,
    pricing: Arc<Vec<Binding>>,
    shipping: Arc<Vec<Binding>>,
    tax: Arc<Vec<Binding>>,
    merchant_id: String,
    memo: Option<Arc<Memo>>,
    runtime: Arc<crate::runtime::Runtime>,
    /// Answer from the memo only; a miss sets `missed` and stops calling.
    memo_only: Cell<bool>,
    missed: Cell<bool>,
    /// Keep the trail of calls (not on a plain cart read: it costs).
    explain: bool,
    /// Where sampled calls go for their shadow bindings to run too.
    shadows: ShadowRuns,
}

/// What the plugin phase found.
#[derive(Default)]
struct Found {
    line_discounts: Vec<i64>,
    line_totals: Vec<i64>,
    line_adjustments: Vec<Vec<AdjustmentView>>,
    adjustments: Vec<AdjustmentView>,
    shipping_discount: i64,
    options: Vec<ShippingOption>,
    selected: Option<ShippingOption>,
    line_taxes: Vec<Vec<TaxLineView>>,
    shipping_taxes: Vec<TaxLineView>,
    warnings: Vec<Warning>,
    failures: Vec<Failure>,
    /// The messages of the failures that block completion.
    blocking: Vec<String>,
    trail: Vec<TrailStep>,
}

/// How one binding's call went, for the trail.
#[derive(Default)]
struct Meta {
    input_hash: String,
    memo: bool,
    duration_us: u64,
    fuel: u64,
}

/// A binding whose call failed while pricing.
#[derive(Debug, Clone)]
struct Failure {
    point: ExtensionPoint,
    plugin: String,
    /// `<extension point>.<call>`, e.g. `tax.calculate`.
    call: String,
    /// Stable: the failure kind (`trap`, `out_of_fuel`, `invalid_output`, …).
    reason: &'static str,
    message: String,
    on_error: OnError,
}

/// Bindings of one extension point tried in place of the merchant's own
/// (a preview): nothing about them is saved.
pub struct Trial {
    /// The point they replace.
    pub point: ExtensionPoint,
    /// In call order, checked like a replacement.
    pub bindings: Arc<Vec<Binding>>,
}

/// How a cart is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// Answers from the memo where it can, and no trail: a cart read.
    Read,
    /// Answers from the memo where it can, with the trail of calls:
    /// `?explain=1`, and checkout (the order keeps the trail).
    Explained,
    /// Every plugin runs, with the trail: a preview of other bindings.
    Fresh,
}

/// Prices `lines` of `cart` (the live ones; see `ops`) as `pass` says.
pub async fn price(
    shop: &Shop,
    merchant_id: &str,
    cart: &CartRecord,
    lines: Vec<LineRecord>,
    codes: Vec<DiscountCode>,
    pass: Pass,
    trial: Option<&Trial>,
) -> Result<Priced> {
    let fresh = pass == Pass::Fresh;
    let currency = crate::commerce::parse::currency(&cart.currency).map_err(anyhow::Error::msg)?;
    let sdk_lines: Vec<_> = lines.iter().map(|l| sdk_line(l, currency)).collect();
    let bound = async |point| match trial {
        Some(t) if t.point == point => Ok::<_, Error>(t.bindings.clone()),
        _ => shop.bindings.bindings_for(&shop.db, &shop.runtime, merchant_id, point).await,
    };
    let (pricing, shipping, tax) = (
        bound(ExtensionPoint::Pricing).await?,
        bound(ExtensionPoint::Shipping).await?,
        bound(ExtensionPoint::Tax).await?,
    );
    let ships = !shipping.is_empty();
    let job = Job {
        currency,
        customer: cart.customer_id.as_ref().map(|id| Customer {
            id: Some(id.clone()),
            email: cart.email.clone(),
            ..Customer::default()
        }),
        codes: codes.iter().map(|c| c.code.clone()).collect(),
        address: cart.shipping_address.clone(),
        selected: cart.shipping_option.clone(),
        prices_include_tax: cart.prices_include_tax,
        lines: sdk_lines,
        pricing,
        shipping,
        tax,
        merchant_id: merchant_id.to_owned(),
        memo: if fresh { None } else { Some(shop.memo.clone()) },
        runtime: shop.runtime.clone(),
        memo_only: Cell::new(!fresh),
        explain: pass != Pass::Read,
        missed: Cell::new(false),
        shadows: shop.shadows.clone(),
    };
    // An unchanged cart is answered from the memo right here. Plugins that
    // must run do so on the blocking pool: a long run does not hold up other
    // requests, and WASI's synchronous host calls may block on the runtime.
    let remembered = if job.memo_only.get() { Some(job.run()).filter(|_| !job.missed.get()) } else { None };
    let mut found = match remembered {
        Some(found) => found,
        None => {
            job.memo_only.set(false);
            job.missed.set(false);
            tokio::task::spawn_blocking(move || job.run()).await.map_err(anyhow::Error::new)?
        }
    };

    let mut priced_lines = Vec::with_capacity(lines.len());
    let (mut subtotal, mut line_discount, mut tax_total) = (0i64, 0i64, 0i64);
    for (i, record) in lines.into_iter().enumerate() {
        let line_subtotal = record.variant.as_ref().map_or(0, |v| v.price) * record.quantity;
        let tax_lines = found.line_taxes.get_mut(i).map(std::mem::take).unwrap_or_default();
        let tax: i64 = tax_lines.iter().map(|t| t.amount.amount).sum();
        subtotal += line_subtotal;
        line_discount += found.line_discounts[i];
        tax_total += tax;
        priced_lines.push(PricedLine {
            record,
            subtotal: line_subtotal,
            adjustments: found.line_adjustments[i].clone(),
            discount: found.line_discounts[i],
            tax_lines,
            tax,
            total: found.line_totals[i],
        });
    }
    tax_total += found.shipping_taxes.iter().map(|t| t.amount.amount).sum::<i64>();
    let shipping_total = found.selected.as_ref().map_or(0, |s| s.amount.amount);
    let discount_total = line_discount + found.shipping_discount;
    let total =
        subtotal - discount_total + shipping_total + if cart.prices_include_tax { 0 } else { tax_total };
    let mut warnings = found.warnings;
    for c in &codes {
        let used = found
            .adjustments
            .iter()
            .chain(found.line_adjustments.iter().flatten())
            .any(|a| a.code.as_deref().is_some_and(|x| x.eq_ignore_ascii_case(&c.code)));
        if !used {
            warnings.push(Warning::new(
                "discount_code_not_applied",
                format!("discount code {:?} does not apply to this cart", c.code),
            ));
        }
    }
    Ok(Priced {
        currency,
        lines: priced_lines,
        subtotal,
        discount_total,
        shipping_total,
        tax_total,
        total,
        prices_include_tax: cart.prices_include_tax,
        adjustments: found.adjustments,
        shipping_tax_lines: found.shipping_taxes,
        options: found.options,
        shipping: found.selected,
        ships,
        codes,
        warnings,
        failures: found.blocking,
        trail: found.trail,
    })
}

fn sdk_line(l: &LineRecord, currency: Currency) -> mercato_sdk::CartLine {
    let v = l.variant.as_ref().expect("only lines with a live variant are priced");
    mercato_sdk::CartLine {
        id: l.id.clone(),
        product_id: v.product_id.clone(),
        variant_id: l.variant_id.clone(),
        sku: v.sku.clone(),
        quantity: u32::try_from(l.quantity).unwrap_or(u32::MAX),
        unit_price: Money::new(v.price, currency),
        tags: v.tags.clone(),
        collections: v.category_ids.clone(),
        tax_code: v.tax_code.clone(),
        weight_grams: v.weight_grams.and_then(|w| u32::try_from(w).ok()),
    }
}

/// Whether the line can be had in its quantity; the warning if not.
pub fn stock_warning(l: &LineRecord) -> Option<Warning> {
    let v = l.variant.as_ref()?;
    if v.policy == InventoryPolicy::AllowBackorder || (v.tracked && v.available >= l.quantity) {
        return None;
    }
    let available = if v.tracked { v.available.max(0) } else { 0 };
    Some(Warning::line(
        "insufficient_stock",
        &l.id,
        format!("only {available} of {} ({}) available, {} in the cart", v.title, v.sku, l.quantity),
    ))
}

impl Job {
    /// A line's position (lines are in id order, see `db::carts::with_lines`).
    fn position(&self, line_id: &str) -> Option<usize> {
        match self.lines.binary_search_by(|l| l.id.as_str().cmp(line_id)) {
            Ok(i) => Some(i),
            // Not sorted after all (never expected): look through.
            Err(_) => self.lines.iter().position(|l| l.id == line_id),
        }
    }

    fn run(&self) -> Found {
        let mut found = Found::default();
        let (mut ledger, mut labels, mut pricing_trail) = self.run_pricing(None, &mut found.failures);
        let mut shipping_trail = Vec::new();
        if let Some(address) = &self.address
            && !self.lines.is_empty()
        {
            let subtotal: i64 = ledger.line_totals().iter().sum();
            found.options = self.run_shipping(
                address,
                subtotal,
                &mut found.warnings,
                &mut found.failures,
                &mut shipping_trail,
            );
            if let Some(code) = &self.selected {
                match found.options.iter().find(|o| &o.code == code) {
                    Some(o) => found.selected = Some(o.clone()),
                    None => found.warnings.push(Warning::new(
                        "shipping_option_unavailable",
                        format!(
                            "shipping option {code:?} is no longer offered for this cart; choose another"
                        ),
                    )),
                }
            }
        }
        if let Some(selected) = &found.selected
            && !self.pricing.is_empty()
        {
            // The second pass decides: its failures replace the first's.
            let mut failures = Vec::new();
            (ledger, labels, pricing_trail) = self.run_pricing(Some(selected.amount.amount), &mut failures);
            found.failures.retain(|f| f.point != ExtensionPoint::Pricing);
            found.failures.extend(failures);
        }
        // Adjustments, by target.
        found.line_adjustments = vec![Vec::new(); self.lines.len()];
        for (applied, plugin) in ledger.applied().iter().zip(labels) {
            let (view, line) = self.adjustment_view(applied, plugin);
            match line {
                Some(i) => found.line_adjustments[i].push(view),
                None => found.adjustments.push(view),
            }
        }
        found.line_discounts = ledger.line_discounts().to_vec();
        found.line_totals = ledger.line_totals().to_vec();
        found.shipping_discount = if found.selected.is_some() { ledger.shipping_discount() } else { 0 };
        found.line_taxes = vec![Vec::new(); self.lines.len()];
        if let Some(address) = &self.address
            && !self.lines.is_empty()
        {
            let shipping = found.selected.as_ref().map_or(0, |s| s.amount.amount) - found.shipping_discount;
            self.run_tax(address, &ledger, shipping, &mut found);
        }
        if let Some(chosen) = &found.selected
            && let Some(step) = shipping_trail.iter_mut().find(|t| t.options_offered.contains(&chosen.code))
        {
            step.option_chosen = Some(chosen.code.clone());
        }
        let tax_trail = std::mem::take(&mut found.trail);
        found.trail = pricing_trail.into_iter().chain(shipping_trail).chain(tax_trail).collect();
        for f in std::mem::take(&mut found.failures) {
            let code = match f.on_error {
                OnError::Fail => "plugin_failed",
                OnError::Skip => "plugin_skipped",
            };
            let warning = Warning::new(code, f.message.clone()).from_plugin(f.plugin, f.call, f.reason);
            found.warnings.push(warning);
            if f.on_error == OnError::Fail {
                found.blocking.push(f.message);
            }
        }
        found
    }

    /// Calls binding `b` (or answers from the memo); a real call that
    /// succeeds may be sampled for `b`'s shadow, which is then given the
    /// same input (`exchange` makes the owned copy, only when sampled).
    fn call<T>(
        &self,
        b: &Binding,
        key_input: &impl serde::Serialize,
        wrap: fn(T) -> Answer,
        unwrap: fn(Answer) -> Option<T>,
        call: impl FnOnce(Call<'_>) -> std::result::Result<Outcome<T>, CallError>,
        exchange: impl FnOnce(T) -> Exchange,
    ) -> (std::result::Result<T, CallError>, Meta)
    where
        T: Clone,
    {
        let not_remembered = || CallError {
            plugin: b.plugin.label(),
            plugin_id: b.plugin.id.clone(),
            point: b.plugin.extension_point(),
            call: "memo",
            kind: crate::runtime::FailureKind::Host("not remembered".into()),
        };
        // After one miss the memo-only pass is thrown away: no more hashing.
        if self.memo_only.get() && self.missed.get() {
            return (Err(not_remembered()), Meta::default());
        }
        let key = Memo::key(&b.plugin.id, &b.config, key_input);
        let input_hash = if self.explain { hex::encode(key) } else { String::new() };
        let mut meta = Meta { input_hash, ..Meta::default() };
        // A plugin the operator disabled is not answered for, even from the memo.
        let memo = self.memo.as_ref().filter(|_| !b.plugin.is_disabled());
        if let Some(memo) = memo
            && let Some(answer) = memo.get(&key).and_then(unwrap)
        {
            meta.memo = true;
            return (Ok(answer), meta);
        }
        if self.memo_only.get() {
            self.missed.set(true);
            return (Err(not_remembered()), meta);
        }
        let out = match call(Call {
            plugin: &b.plugin,
            config: &b.config,
            merchant: &self.merchant_id,
            breaker: Some(&b.breaker),
            background: false,
        }) {
            Ok(out) => out,
            Err(e) => return (Err(e), meta),
        };
        meta.duration_us = u64::try_from(out.duration.as_micros()).unwrap_or(u64::MAX);
        meta.fuel = out.fuel_used;
        if let Some(memo) = memo {
            memo.put(key, wrap(out.output.clone()));
        }
        if let Some(shadow) = &b.shadow
            && shadow.sampled()
        {
            self.shadows.submit(Sample {
                merchant_id: self.merchant_id.clone(),
                live_plugin_id: b.plugin.id.clone(),
                shadow: shadow.clone(),
                input_hash: hex::encode(key),
                live_us: meta.duration_us,
                exchange: exchange(out.output.clone()),
            });
        }
        (Ok(out.output), meta)
    }

    /// A trail step of binding `b`'s call, changing nothing yet.
    fn step(&self, b: &Binding, meta: Meta, outcome: &str) -> TrailStep {
        TrailStep {
            extension_point: b.plugin.extension_point().as_str().to_owned(),
            plugin: b.plugin.label(),
            plugin_id: b.plugin.id.clone(),
            input_hash: meta.input_hash,
            memo: meta.memo,
            duration_us: meta.duration_us,
            fuel: meta.fuel,
            outcome: outcome.to_owned(),
            adjustments: Vec::new(),
            taxes: Vec::new(),
            options_offered: Vec::new(),
            option_chosen: None,
        }
    }

    /// An applied adjustment as the buyer sees it, and its line's position
    /// (`None` for the order or shipping).
    fn adjustment_view(
        &self,
        applied: &mercato_sdk::pricing::AppliedAdjustment,
        plugin: String,
    ) -> (AdjustmentView, Option<usize>) {
        let a = &applied.adjustment;
        let (target, line_id) = match &a.target {
            Target::Line(id) => ("line", Some(id.clone())),
            Target::Order => ("order", None),
            Target::Shipping => ("shipping", None),
        };
        let line = line_id.as_deref().and_then(|id| self.position(id));
        let view = AdjustmentView {
            target: target.to_owned(),
            line_id,
            label: a.label.clone(),
            amount: Price::new(applied.amount.amount, self.currency),
            code: a.code.clone(),
            plugin,
        };
        (view, line)
    }

    /// Runs the pricing bindings in order; returns the ledger and, for each
    /// applied adjustment, the plugin that made it.
    fn run_pricing(
        &self,
        shipping: Option<i64>,
        failures: &mut Vec<Failure>,
    ) -> (Ledger, Vec<String>, Vec<TrailStep>) {
        let shipping = shipping.map(|s| Money::new(s, self.currency));
        let mut ledger = Ledger::new(self.currency, &self.lines, shipping);
        let mut labels = Vec::new();
        let mut trail = Vec::new();
        // Built once; each binding sees what the ones before it applied.
        let mut input = PricingInput {
            currency: self.currency,
            lines: self.lines.clone(),
            customer: self.customer.clone(),
            discount_codes: self.codes.clone(),
            shipping,
            previous: Vec::new(),
        };
        for b in self.pricing.iter() {
            input.previous = ledger.applied().to_vec();
            let before = ledger.applied().len();
            let (answer, meta) = self.call(
                b,
                &input,
                Answer::Pricing,
                pricing_of,
                |call| self.runtime.pricing(call, &input),
                |out| Exchange::Pricing(input.clone(), out),
            );
            let result = answer.map_err(|e| (e.kind.code(), e.to_string())).and_then(|out| {
                ledger.apply_all(&out.adjustments, &self.codes).map(|()| out.adjustments.len()).map_err(|e| {
                    let message = format!(
                        "plugin {} pricing.run returned adjustments the host refused: {e}",
                        b.plugin.label()
                    );
                    ("invalid_output", message)
                })
            });
            match result {
                Ok(n) => {
                    labels.extend(std::iter::repeat_n(b.plugin.label(), n));
                    if self.explain {
                        let mut step = self.step(b, meta, "ok");
                        step.adjustments = ledger.applied()[before..]
                            .iter()
                            .map(|a| self.adjustment_view(a, b.plugin.label()).0)
                            .collect();
                        trail.push(step);
                    }
                }
                Err((reason, message)) => {
                    if self.explain {
                        trail.push(self.step(b, meta, reason));
                    }
                    self.failed(b, "run", reason, message, failures);
                }
            }
        }
        (ledger, labels, trail)
    }

    fn run_shipping(
        &self,
        address: &Address,
        subtotal: i64,
        warnings: &mut Vec<Warning>,
        failures: &mut Vec<Failure>,
        trail: &mut Vec<TrailStep>,
    ) -> Vec<ShippingOption> {
        let input = ShippingInput {
            currency: self.currency,
            destination: address.into(),
            items: self
                .lines
                .iter()
                .map(|l| ShipItem {
                    line_id: l.id.clone(),
                    sku: l.sku.clone(),
                    quantity: l.quantity,
                    weight_grams: l.weight_grams,
                    length_mm: None,
                    width_mm: None,
                    height_mm: None,
                })
                .collect(),
            subtotal: Money::new(subtotal, self.currency),
        };
        let mut options: Vec<ShippingOption> = Vec::new();
        for b in self.shipping.iter() {
            let (answer, meta) = self.call(
                b,
                &input,
                Answer::Shipping,
                shipping_of,
                |call| self.runtime.shipping(call, &input),
                |out| Exchange::Shipping(input.clone(), out),
            );
            match answer {
                // The first plugin to offer a code keeps it.
                Ok(out) => {
                    let mut offered = Vec::new();
                    for o in out.options {
                        if !options.iter().any(|x| x.code == o.code) {
                            if self.explain {
                                offered.push(o.code.clone());
                            }
                            options.push(ShippingOption {
                                code: o.code,
                                carrier: o.carrier,
                                service: o.service,
                                amount: Price::new(o.amount.amount, self.currency),
                                min_days: o.min_days,
                                max_days: o.max_days,
                                plugin: b.plugin.label(),
                            });
                        }
                    }
                    if self.explain {
                        trail.push(TrailStep { options_offered: offered, ..self.step(b, meta, "ok") });
                    }
                }
                Err(e) => {
                    if self.explain {
                        trail.push(self.step(b, meta, e.kind.code()));
                    }
                    self.failed(b, "rates", e.kind.code(), e.to_string(), failures);
                }
            }
        }
        if options.is_empty() && !self.shipping.is_empty() {
            warnings.push(Warning::new(
                "no_shipping_options",
                format!("no shipping option is offered to {} for this cart", address.country),
            ));
        }
        options
    }

    fn run_tax(&self, address: &Address, ledger: &Ledger, shipping: i64, found: &mut Found) {
        let input = TaxInput {
            currency: self.currency,
            lines: self
                .lines
                .iter()
                .zip(ledger.line_totals())
                .map(|(l, total)| TaxableLine {
                    id: Cow::Borrowed(&l.id),
                    product_id: Cow::Borrowed(&l.product_id),
                    sku: Cow::Borrowed(&l.sku),
                    quantity: l.quantity,
                    amount: *total,
                    tax_code: l.tax_code.as_deref().map(Cow::Borrowed),
                })
                .collect(),
            shipping_amount: shipping,
            ship_from: None,
            ship_to: address.into(),
            customer: self.customer.clone(),
            prices_include_tax: self.prices_include_tax,
        };
        // The first binding that answers decides; a skipped one passes to the next.
        for b in self.tax.iter() {
            let (answer, meta) = self.call(
                b,
                &input,
                Answer::Tax,
                tax_of,
                |call| self.runtime.tax(call, &input),
                |out| Exchange::Tax(Box::new(input.clone().into_owned()), out),
            );
            match answer {
                Ok(out) => {
                    // The runtime checked every rate index and line position
                    // against this input. Each rate is formatted once.
                    let rates: Vec<String> = out.rates.iter().map(|t| t.rate.to_string()).collect();
                    let view = |rate: u32, amount: i64| {
                        let i = rate as usize;
                        out.rates.get(i).zip(rates.get(i)).map(|(t, text)| TaxLineView {
                            jurisdiction: t.jurisdiction.clone(),
                            rate: text.clone(),
                            label: t.label.clone(),
                            amount: Price::new(amount, self.currency),
                        })
                    };
                    for t in &out.lines {
                        if let (Some(taxes), Some(v)) =
                            (found.line_taxes.get_mut(t.line as usize), view(t.rate, t.amount))
                        {
                            taxes.push(v);
                        }
                    }
                    found.shipping_taxes =
                        out.shipping.iter().filter_map(|t| view(t.rate, t.amount)).collect();
                    // What it decided, added up by rate: the cart's tax total.
                    if !self.explain {
                        return;
                    }
                    let mut step = self.step(b, meta, "ok");
                    let mut by_rate: Vec<Option<i64>> = vec![None; out.rates.len()];
                    let taxed = out.lines.iter().map(|t| (t.rate, t.amount));
                    for (rate, amount) in taxed.chain(out.shipping.iter().map(|t| (t.rate, t.amount))) {
                        if let Some(sum) = by_rate.get_mut(rate as usize) {
                            *sum = Some(sum.unwrap_or(0) + amount);
                        }
                    }
                    step.taxes = by_rate
                        .iter()
                        .enumerate()
                        .filter_map(|(i, sum)| sum.and_then(|sum| view(i as u32, sum)))
                        .collect();
                    found.trail.push(step);
                    return;
                }
                Err(e) => {
                    if self.explain {
                        found.trail.push(self.step(b, meta, e.kind.code()));
                    }
                    self.failed(b, "calculate", e.kind.code(), e.to_string(), &mut found.failures);
                }
            }
        }
    }

    /// Records a binding's failed `call` (a memo miss in a memo-only pass
    /// is not a failure: the pass is thrown away).
    fn failed(
        &self,
        b: &Binding,
        call: &str,
        reason: &'static str,
        message: String,
        failures: &mut Vec<Failure>,
    ) {
        if self.missed.get() {
            return;
        }
        let plugin = b.plugin.label();
        tracing::warn!(merchant = %self.merchant_id, %plugin, reason, error = %message, on_error = ?b.on_error, "plugin failed");
        let point = b.plugin.extension_point();
        let call = format!("{}.{call}", point.as_str());
        failures.push(Failure { point, plugin, call, reason, message, on_error: b.on_error });
    }
}

fn pricing_of(a: Answer) -> Option<mercato_sdk::pricing::PricingOutput> {
    if let Answer::Pricing(o) = a { Some(o) } else { None }
}

fn shipping_of(a: Answer) -> Option<mercato_sdk::shipping::ShippingOutput> {
    if let Answer::Shipping(o) = a { Some(o) } else { None }
}

fn tax_of(a: Answer) -> Option<mercato_sdk::tax::TaxOutput> {
    if let Answer::Tax(o) = a { Some(o) } else { None }
}
