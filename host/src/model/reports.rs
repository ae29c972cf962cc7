//! Reports: the shop's sales, products, funnel and plugins, as figures.

use serde::Serialize;

/// Sales figures over a period, in one currency's minor units.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct SalesFigures {
    /// Orders confirmed (numbered), not counting those cancelled before any money was taken.
    pub orders: i64,
    /// Units in those orders.
    pub units: i64,
    /// Their subtotals: what the lines came to before order discounts.
    pub gross_sales: i64,
    /// Their discounts.
    pub discounts: i64,
    /// Their shipping.
    pub shipping: i64,
    /// Their tax.
    pub tax: i64,
    /// What buyers were charged: `gross_sales - discounts + shipping + tax`
    /// (tax not added where prices include it).
    pub total: i64,
    /// Money paid back in the period (by when the refund was made, whatever
    /// the order's date).
    pub refunds: i64,
    /// `total - refunds`.
    pub net: i64,
    /// `total / orders`, rounded half to even; 0 without orders.
    pub average_order_value: i64,
}

/// One interval of a sales report.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesInterval {
    /// Its first day, in the shop's time zone (`2026-03-02`).
    pub date: String,
    /// When it starts, in UTC.
    pub start: String,
    /// When it ends (the next one's start), in UTC.
    pub end: String,
    /// Its figures.
    #[serde(flatten)]
    pub figures: SalesFigures,
}

/// A currency's sales.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CurrencySales {
    /// ISO 4217.
    pub currency: String,
    /// Over the whole range.
    pub total: SalesFigures,
    /// Each interval, oldest first, including those without sales.
    pub intervals: Vec<SalesInterval>,
}

/// `GET /v1/admin/reports/sales`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SalesReport {
    /// The first day, in `time_zone`.
    pub from: String,
    /// The last day (included).
    pub to: String,
    /// `day`, `week` (Monday to Sunday) or `month`.
    pub interval: String,
    /// The IANA time zone days are counted in.
    pub time_zone: String,
    /// One entry per currency sold in (the shop's own always).
    pub currencies: Vec<CurrencySales>,
}

/// A product or variant among the best sold.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopItem {
    /// `prod_…`.
    pub product_id: String,
    /// `var_…`; absent for a product.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub variant_id: Option<String>,
    /// The SKU (a variant's).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sku: Option<String>,
    /// As the order lines name it.
    pub title: String,
    /// ISO 4217.
    pub currency: String,
    /// Units sold.
    pub units: i64,
    /// What their lines came to, discounts and tax included, in minor units.
    pub revenue: i64,
    /// Orders with it.
    pub orders: i64,
}

/// `GET /v1/admin/reports/top-products`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TopProducts {
    /// The first day, in the shop's time zone.
    pub from: String,
    /// The last day (included).
    pub to: String,
    /// Products by units sold, most first.
    pub products: Vec<TopItem>,
    /// Variants by units sold, most first.
    pub variants: Vec<TopItem>,
}

/// `GET /v1/admin/reports/funnel`: carts created in the range, and how far they went.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Funnel {
    /// The first day, in the shop's time zone.
    pub from: String,
    /// The last day (included).
    pub to: String,
    /// Carts created.
    pub carts_created: i64,
    /// Of those, carts given an e-mail address.
    pub carts_with_email: i64,
    /// Of those, carts whose checkout was attempted (an order was placed, paid or not).
    pub checkouts_attempted: i64,
    /// Of those, carts that became a confirmed order.
    pub orders_paid: i64,
    /// Carts found abandoned (idle past the shop's delay, with an e-mail and lines).
    pub carts_abandoned: i64,
    /// Abandoned carts that became a confirmed order afterwards.
    pub carts_recovered: i64,
}

/// One bound plugin's use by this shop.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginUsage {
    /// `plg_…`.
    pub plugin_id: String,
    /// `name@version`.
    pub plugin: String,
    /// The extension point it is bound to.
    pub extension_point: String,
    /// Calls made for this shop on this host since it started.
    pub calls: u64,
    /// Of those, calls that failed.
    pub failures: u64,
    /// 99th percentile of their duration, in milliseconds.
    pub p99_ms: f64,
    /// `closed`, `open` or `half_open` on this host.
    pub circuit_state: String,
}

/// `GET /v1/admin/reports/plugins`.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PluginReport {
    /// Every binding of the shop, by extension point.
    pub plugins: Vec<PluginUsage>,
}
