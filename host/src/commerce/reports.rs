//! Reports: sales over time in the shop's time zone, best sellers, the
//! cart funnel and plugin use — in JSON, and sales and best sellers in CSV.
//!
//! Ranges are whole days in the shop's time zone (`from` and `to`
//! included), at most two years. Sums come from indexed range queries
//! grouped by quarter-hour, which this module folds into the shop's days,
//! weeks (Monday to Sunday) or months: any time zone's midnight falls on a
//! quarter-hour, so no slot straddles two intervals.

use std::collections::BTreeMap;

use jiff::civil::Date;
use jiff::tz::TimeZone;

use super::{Error, Result, Shop, parse};
use crate::db::{self, Db};
pub use crate::model::reports::{
    CurrencySales, Funnel, PluginReport, PluginUsage, SalesFigures, SalesInterval, SalesReport, TopItem,
    TopProducts,
};

/// Longest range of a report.
pub const MAX_DAYS: i64 = 731;
/// Days in a report when `from` is not given.
const DEFAULT_DAYS: i64 = 30;

/// A report's range as asked: dates in the shop's time zone.
#[derive(Debug, Clone, Default)]
pub struct RangeQuery {
    /// `YYYY-MM-DD`, included; default 29 days before `to`.
    pub from: Option<String>,
    /// `YYYY-MM-DD`, included; default today.
    pub to: Option<String>,
    /// An IANA time zone; default the shop's.
    pub time_zone: Option<String>,
}

/// A checked range: its days and its time zone.
#[derive(Debug, Clone)]
pub struct Range {
    from: Date,
    to: Date,
    zone_name: String,
    zone: TimeZone,
}

impl Range {
    /// The instant (unix ms) a day starts in the range's time zone.
    fn start_of(&self, day: Date) -> Result<i64> {
        let zoned = day.to_zoned(self.zone.clone()).map_err(|e| Error::Internal(e.into()))?;
        Ok(zoned.timestamp().as_millisecond())
    }

    /// `[start, end)` in unix ms.
    fn bounds(&self) -> Result<(i64, i64)> {
        let after = self.to.tomorrow().map_err(|e| Error::Internal(e.into()))?;
        Ok((self.start_of(self.from)?, self.start_of(after)?))
    }
}

fn date(field: &str, s: &str) -> Result<Date> {
    s.trim().parse::<Date>().map_err(|_| Error::field(field, "must be a date such as 2026-03-01"))
}

/// Checks a range against the rules, in the shop's time zone unless another is asked.
pub async fn range(db: &Db, merchant_id: &str, q: &RangeQuery) -> Result<Range> {
    let zone_name = match q.time_zone.as_deref() {
        Some(z) => parse::time_zone(z).map_err(|e| Error::field("time_zone", e))?,
        None => super::merchants::settings(db, merchant_id).await?.time_zone,
    };
    let zone = TimeZone::get(&zone_name).map_err(|e| Error::Internal(e.into()))?;
    let today = jiff::Timestamp::now().to_zoned(zone.clone()).date();
    let to = q.to.as_deref().map(|s| date("to", s)).transpose()?.unwrap_or(today);
    let from = match q.from.as_deref() {
        Some(s) => date("from", s)?,
        None => {
            to.checked_sub(jiff::Span::new().days(DEFAULT_DAYS - 1)).map_err(|e| Error::Internal(e.into()))?
        }
    };
    if from > to {
        return Err(Error::field("from", "must not be after to"));
    }
    let days = i64::from((to - from).get_days()) + 1;
    if days > MAX_DAYS {
        return Err(Error::field("to", format!("the range must be at most {MAX_DAYS} days (two years)")));
    }
    Ok(Range { from, to, zone_name, zone })
}

/// `day`, `week` or `month`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// Each day.
    Day,
    /// Monday to Sunday.
    Week,
    /// Calendar months.
    Month,
}

impl Interval {
    /// Parses `interval`; default a day.
    pub fn parse(s: Option<&str>) -> Result<Interval> {
        match s.map(str::trim) {
            None | Some("day") => Ok(Interval::Day),
            Some("week") => Ok(Interval::Week),
            Some("month") => Ok(Interval::Month),
            Some(_) => Err(Error::field("interval", "must be day, week or month")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Interval::Day => "day",
            Interval::Week => "week",
            Interval::Month => "month",
        }
    }

    /// The first day of the interval after the one holding `d`.
    fn next(self, d: Date) -> Result<Date> {
        let next = match self {
            Interval::Day => d.tomorrow(),
            Interval::Week => {
                d.checked_add(jiff::Span::new().days(7 - i64::from(d.weekday().to_monday_zero_offset())))
            }
            Interval::Month => d.first_of_month().checked_add(jiff::Span::new().months(1)),
        };
        next.map_err(|e| Error::Internal(e.into()))
    }
}

/// `total / n`, rounded half to even.
fn average(total: i64, n: i64) -> i64 {
    if n == 0 {
        return 0;
    }
    let (q, r) = (total.div_euclid(n), total.rem_euclid(n));
    if 2 * r > n || (2 * r == n && q % 2 != 0) { q + 1 } else { q }
}

impl SalesFigures {
    fn add(&mut self, o: &SalesFigures) {
        self.orders += o.orders;
        self.units += o.units;
        self.gross_sales += o.gross_sales;
        self.discounts += o.discounts;
        self.shipping += o.shipping;
        self.tax += o.tax;
        self.total += o.total;
        self.refunds += o.refunds;
    }

    fn finish(&mut self) {
        self.net = self.total - self.refunds;
        self.average_order_value = average(self.total, self.orders);
    }
}

/// Sales over `range`, by `interval`, per currency.
pub async fn sales(shop: &Shop, merchant_id: &str, range: &Range, interval: Interval) -> Result<SalesReport> {
    let (start, end) = range.bounds()?;
    // The intervals: their first days and the instants they start.
    let mut days = vec![range.from];
    loop {
        let next = interval.next(*days.last().expect("one day at least"))?;
        if next > range.to {
            break;
        }
        days.push(next);
    }
    let mut starts = Vec::with_capacity(days.len());
    for d in &days {
        starts.push(range.start_of(*d)?);
    }
    starts[0] = start;
    let at = |ms: i64| starts.partition_point(|s| *s <= ms).saturating_sub(1);

    let default_currency = super::merchants::get(&shop.db, merchant_id).await?.default_currency;
    let mut by_currency: BTreeMap<String, Vec<SalesFigures>> = BTreeMap::new();
    by_currency.insert(default_currency, vec![SalesFigures::default(); days.len()]);
    for s in db::reports::sales(&shop.db, merchant_id, start, end).await? {
        let row = by_currency.entry(s.currency).or_insert_with(|| vec![SalesFigures::default(); days.len()]);
        row[at(s.slot * db::reports::SLOT_MS)].add(&SalesFigures {
            orders: s.orders,
            units: s.units,
            gross_sales: s.gross,
            discounts: s.discounts,
            shipping: s.shipping,
            tax: s.tax,
            total: s.total,
            ..Default::default()
        });
    }
    for (slot, currency, amount) in db::reports::refunds(&shop.db, merchant_id, start, end).await? {
        let row = by_currency.entry(currency).or_insert_with(|| vec![SalesFigures::default(); days.len()]);
        row[at(slot * db::reports::SLOT_MS)].refunds += amount;
    }
    let currencies = by_currency
        .into_iter()
        .map(|(currency, rows)| {
            let mut total = SalesFigures::default();
            let intervals = rows
                .into_iter()
                .enumerate()
                .map(|(i, mut figures)| {
                    total.add(&figures);
                    figures.finish();
                    let end = starts.get(i + 1).copied().unwrap_or(end);
                    SalesInterval {
                        date: days[i].to_string(),
                        start: crate::model::time::format(starts[i]),
                        end: crate::model::time::format(end),
                        figures,
                    }
                })
                .collect();
            total.finish();
            CurrencySales { currency, total, intervals }
        })
        .collect();
    Ok(SalesReport {
        from: range.from.to_string(),
        to: range.to.to_string(),
        interval: interval.as_str().to_owned(),
        time_zone: range.zone_name.clone(),
        currencies,
    })
}

/// The `limit` best-selling products and variants over `range`, by units.
pub async fn top_products(
    shop: &Shop,
    merchant_id: &str,
    range: &Range,
    limit: Option<u32>,
) -> Result<TopProducts> {
    let limit = match limit {
        None => 10,
        Some(n @ 1..=100) => n,
        Some(_) => return Err(Error::field("limit", "must be 1 to 100")),
    };
    let bounds = range.bounds()?;
    let item = |v: db::reports::ItemSales| TopItem {
        product_id: v.product_id,
        variant_id: v.variant_id,
        sku: v.sku,
        title: v.title,
        currency: v.currency,
        units: v.units,
        revenue: v.revenue,
        orders: v.orders,
    };
    let products = db::reports::best_sellers(&shop.db, merchant_id, bounds, false, limit).await?;
    let variants = db::reports::best_sellers(&shop.db, merchant_id, bounds, true, limit).await?;
    let (products, variants) =
        (products.into_iter().map(item).collect(), variants.into_iter().map(item).collect());
    Ok(TopProducts { from: range.from.to_string(), to: range.to.to_string(), products, variants })
}

/// How carts created over `range` went.
pub async fn funnel(shop: &Shop, merchant_id: &str, range: &Range) -> Result<Funnel> {
    let (start, end) = range.bounds()?;
    let [created, with_email, attempted, paid, abandoned, recovered] =
        db::reports::funnel(&shop.db, merchant_id, start, end).await?;
    Ok(Funnel {
        from: range.from.to_string(),
        to: range.to.to_string(),
        carts_created: created,
        carts_with_email: with_email,
        checkouts_attempted: attempted,
        orders_paid: paid,
        carts_abandoned: abandoned,
        carts_recovered: recovered,
    })
}

/// The shop's plugin bindings with their calls for this shop on this host.
pub async fn plugins(shop: &Shop, merchant_id: &str) -> Result<PluginReport> {
    let mut plugins = Vec::new();
    for point in mercato_sdk::ExtensionPoint::ALL {
        let bound = shop.bindings.bindings_for(&shop.db, &shop.runtime, merchant_id, point).await?;
        for b in bound.iter() {
            let stats = b.breaker.stats();
            plugins.push(PluginUsage {
                plugin_id: b.plugin.id.clone(),
                plugin: b.plugin.label(),
                extension_point: point.as_str().to_owned(),
                calls: stats.calls,
                failures: stats.failures,
                p99_ms: stats.p99_us / 1000.0,
                circuit_state: serde_json::to_value(b.breaker.state())
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default(),
            });
        }
    }
    Ok(PluginReport { plugins })
}

/// A sales report as CSV: a row per currency and interval, amounts in
/// major units (`12.34`).
pub fn sales_csv(report: &SalesReport) -> String {
    let mut out = String::from(
        "currency,date,start,end,orders,units,gross_sales,discounts,shipping,tax,total,refunds,net,average_order_value\n",
    );
    for c in &report.currencies {
        let major = |amount: i64| major(amount, &c.currency);
        for i in &c.intervals {
            let f = &i.figures;
            out.push_str(&format!(
                "{},{},{},{},{},{},{},{},{},{},{},{},{},{}\n",
                c.currency,
                i.date,
                i.start,
                i.end,
                f.orders,
                f.units,
                major(f.gross_sales),
                major(f.discounts),
                major(f.shipping),
                major(f.tax),
                major(f.total),
                major(f.refunds),
                major(f.net),
                major(f.average_order_value),
            ));
        }
    }
    out
}

/// Best sellers as CSV: products then variants.
pub fn top_products_csv(report: &TopProducts) -> String {
    let mut out = String::from("kind,product_id,variant_id,sku,title,currency,units,orders,revenue\n");
    for (kind, items) in [("product", &report.products), ("variant", &report.variants)] {
        for t in items {
            out.push_str(&format!(
                "{kind},{},{},{},{},{},{},{},{}\n",
                t.product_id,
                t.variant_id.as_deref().unwrap_or(""),
                csv_text(t.sku.as_deref().unwrap_or("")),
                csv_text(&t.title),
                t.currency,
                t.units,
                t.orders,
                major(t.revenue, &t.currency),
            ));
        }
    }
    out
}

/// An amount in major units, exactly (`1999` USD is `19.99`, `500` JPY is `500`).
fn major(amount: i64, currency: &str) -> String {
    match mercato_sdk::Currency::parse(currency) {
        Ok(c) => mercato_sdk::Money::new(amount, c).to_major().to_string(),
        Err(_) => amount.to_string(),
    }
}

/// A text field: quoted when it holds a comma, quote or line break, and
/// never read as a formula by a spreadsheet.
fn csv_text(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn averages_round_half_to_even() {
        assert_eq!(average(10, 4), 2); // 2.5 -> 2
        assert_eq!(average(14, 4), 4); // 3.5 -> 4
        assert_eq!(average(11, 4), 3); // 2.75 -> 3
        assert_eq!(average(9, 4), 2); // 2.25 -> 2
        assert_eq!(average(5, 0), 0);
        assert_eq!(average(-10, 4), -2);
    }

    #[test]
    fn weeks_start_on_monday_and_months_on_the_first() {
        let d: Date = "2026-12-03".parse().unwrap(); // a Thursday
        assert_eq!(Interval::Week.next(d).unwrap().to_string(), "2026-12-07");
        assert_eq!(Interval::Month.next(d).unwrap().to_string(), "2027-01-01");
        assert_eq!(Interval::Day.next(d).unwrap().to_string(), "2026-12-04");
    }

    #[test]
    fn csv_text_is_quoted_and_never_a_formula() {
        assert_eq!(csv_text("Mug"), "Mug");
        assert_eq!(csv_text("Mug, large"), "\"Mug, large\"");
        assert_eq!(csv_text("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_text("=HYPERLINK(1)"), "'=HYPERLINK(1)");
        assert_eq!(major(1999, "USD"), "19.99");
        assert_eq!(major(500, "JPY"), "500");
        assert_eq!(major(-5, "USD"), "-0.05");
    }
}
