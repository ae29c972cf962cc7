//! The demo shops as data: each merchant, its plugins with their
//! configuration, categories, products, variants and stock.

use mercato_sdk::ExtensionPoint;
use serde_json::{Value, json};

/// One merchant to seed.
pub struct Shop {
    pub name: &'static str,
    pub slug: &'static str,
    pub currency: &'static str,
    pub country: &'static str,
    /// Catalog prices are gross (EU) or net (US).
    pub prices_include_tax: bool,
    /// IANA time zone of its reports.
    pub time_zone: &'static str,
    /// The stock location: name and country.
    pub location: (&'static str, &'static str),
    /// Name and handle.
    pub categories: &'static [(&'static str, &'static str)],
    pub products: &'static [Item],
    /// Plugin name (its file in the plugin directory), extension point, configuration.
    pub plugins: Vec<(&'static str, ExtensionPoint, Value)>,
    pub discount_code: Option<&'static str>,
}

/// A product: one option at most, each variant with its price, weight and stock.
pub struct Item {
    pub title: &'static str,
    pub handle: Option<&'static str>,
    pub description: &'static str,
    /// Index into the shop's categories.
    pub category: usize,
    pub tags: &'static [&'static str],
    pub tax_code: Option<&'static str>,
    /// The option's name; every variant then names its value.
    pub option: Option<&'static str>,
    pub variants: &'static [Var],
}

/// sku, option value ("" without an option), price in minor units, grams, units in stock.
pub struct Var(pub &'static str, pub &'static str, pub i64, pub i64, pub i64);

pub fn acme() -> Shop {
    Shop {
        name: "Acme Outfitters",
        slug: "acme",
        currency: "USD",
        country: "US",
        prices_include_tax: false,
        time_zone: "America/Los_Angeles",
        location: ("Main warehouse", "US"),
        categories: &[("Apparel", "apparel"), ("Gear", "gear")],
        products: ACME_PRODUCTS,
        plugins: vec![
            (
                "us-sales-tax",
                ExtensionPoint::Tax,
                json!({
                    "nexus": ["CA", "NY", "TX", "WA"],
                    "states": {
                        "CA": {"rate": "0.0725"},
                        "NY": {"rate": "0.04", "tax_shipping": true},
                        "TX": {"rate": "0.0625", "tax_shipping": true},
                        "WA": {"rate": "0.065", "tax_shipping": true}
                    }
                }),
            ),
            (
                "flat-rate",
                ExtensionPoint::Shipping,
                json!({"amount": 599, "free_over": 15000, "label": "Standard", "carrier": "USPS",
                       "min_days": 3, "max_days": 5, "countries": ["US"]}),
            ),
            (
                "volume-discount",
                ExtensionPoint::Pricing,
                json!({"rules": [{"tag": "apparel", "label": "Multi-buy",
                    "breaks": [{"min_quantity": 2, "percent": "10"}, {"min_quantity": 5, "percent": "15"}]}]}),
            ),
            (
                "coupon",
                ExtensionPoint::Pricing,
                json!({"codes": [{"code": "TRAIL10", "amount": 500, "min_subtotal": 5000,
                                  "label": "TRAIL10: $5 off orders over $50"}]}),
            ),
            ("test-gateway", ExtensionPoint::Payment, json!({})),
        ],
        discount_code: Some("TRAIL10"),
    }
}

const ACME_PRODUCTS: &[Item] = &[
    Item {
        title: "Trail Tee",
        handle: None,
        description: "Organic cotton tee that dries fast on the trail.",
        category: 0,
        tags: &["apparel", "organic-cotton"],
        tax_code: None,
        option: Some("Size"),
        variants: &[
            Var("TEE-S", "S", 2800, 180, 60),
            Var("TEE-M", "M", 2800, 190, 80),
            Var("TEE-L", "L", 2800, 200, 40),
        ],
    },
    Item {
        title: "Merino Wool Socks",
        handle: None,
        description: "Cushioned merino hiking socks.",
        category: 0,
        tags: &["apparel", "merino"],
        tax_code: None,
        option: Some("Size"),
        variants: &[Var("SOCKS-M", "M", 1600, 90, 100), Var("SOCKS-L", "L", 1600, 95, 100)],
    },
    Item {
        title: "Summit Down Jacket",
        handle: None,
        description: "800-fill down jacket that packs into its own pocket. Only a few left in L.",
        category: 0,
        tags: &["apparel", "outerwear"],
        tax_code: None,
        option: Some("Size"),
        variants: &[Var("JACKET-M", "M", 18900, 650, 25), Var("JACKET-L", "L", 18900, 700, 3)],
    },
    Item {
        title: "Ridge 30L Daypack",
        handle: None,
        description: "A 30-litre daypack with a rain cover.",
        category: 1,
        tags: &["gear", "packs"],
        tax_code: None,
        option: Some("Color"),
        variants: &[Var("PACK-SLATE", "Slate", 8900, 900, 40), Var("PACK-MOSS", "Moss", 8900, 900, 30)],
    },
    Item {
        title: "Insulated Water Bottle",
        handle: None,
        description: "750 ml, keeps water cold for 24 hours.",
        category: 1,
        tags: &["gear"],
        tax_code: None,
        option: None,
        variants: &[Var("BOTTLE-750", "", 3200, 420, 100)],
    },
    Item {
        title: "Canvas Trucker Cap",
        handle: None,
        description: "Waxed canvas cap, one size.",
        category: 0,
        tags: &["apparel", "accessories"],
        tax_code: None,
        option: None,
        variants: &[Var("CAP", "", 2400, 110, 50)],
    },
];

pub fn lindenblatt() -> Shop {
    let rates = |standard: &str, books: &str| json!({"standard": standard, "reduced": {"books": books}});
    let brackets = |b: &[(u64, i64)]| -> Value {
        b.iter().map(|(max_grams, amount)| json!({"max_grams": max_grams, "amount": amount})).collect()
    };
    Shop {
        name: "Buchhandlung Lindenblatt",
        slug: "lindenblatt",
        currency: "EUR",
        country: "DE",
        prices_include_tax: true,
        time_zone: "Europe/Berlin",
        location: ("Lager Leipzig", "DE"),
        categories: &[("Klassiker", "klassiker"), ("Kinderbuch", "kinderbuch"), ("Zubehör", "zubehoer")],
        products: LINDENBLATT_PRODUCTS,
        plugins: vec![
            (
                "eu-vat",
                ExtensionPoint::Tax,
                // Every EU country the shop ships to needs its rates.
                json!({"origin_country": "DE", "rates": {
                    "DE": rates("0.19", "0.07"), "AT": rates("0.20", "0.10"), "BE": rates("0.21", "0.06"),
                    "FR": rates("0.20", "0.055"), "LU": rates("0.17", "0.03"), "NL": rates("0.21", "0.09")
                }}),
            ),
            (
                "weight-table",
                ExtensionPoint::Shipping,
                json!({"zones": [
                    {"name": "domestic", "countries": ["DE"], "services": [
                        {"name": "standard", "carrier": "DHL", "min_days": 1, "max_days": 3,
                         "brackets": brackets(&[(1000, 495), (5000, 695), (31500, 1495)])},
                        {"name": "express", "carrier": "DHL Express", "min_days": 1, "max_days": 1,
                         "brackets": brackets(&[(2000, 1290), (10000, 1990)])}]},
                    {"name": "eu", "countries": ["AT", "BE", "FR", "LU", "NL"], "services": [
                        {"name": "standard", "carrier": "DHL", "min_days": 2, "max_days": 5,
                         "brackets": brackets(&[(2000, 1090), (10000, 1690)])}]},
                    {"name": "world", "countries": ["CH", "GB", "US"],
                     "brackets": brackets(&[(2000, 1890), (10000, 3490)])}
                ]}),
            ),
            (
                "coupon",
                ExtensionPoint::Pricing,
                json!({"codes": [{"code": "LESEN10", "percent": "10", "min_subtotal": 2000,
                                  "label": "LESEN10: 10 % Rabatt"}]}),
            ),
            (
                "manual",
                ExtensionPoint::Payment,
                json!({"method": "bank_transfer", "instructions": "Bitte überweisen Sie {amount} innerhalb von \
                    14 Tagen auf IBAN DE89 3704 0044 0532 0130 00, Verwendungszweck {order}."}),
            ),
        ],
        discount_code: Some("LESEN10"),
    }
}

const LINDENBLATT_PRODUCTS: &[Item] = &[
    Item {
        title: "Der Zauberberg",
        handle: None,
        description: "Thomas Mann. Roman, 1924.",
        category: 0,
        tags: &["roman", "thomas-mann"],
        tax_code: Some("books"),
        option: Some("Ausgabe"),
        variants: &[
            Var("ZAUBERBERG-GEB", "Gebunden", 2800, 1100, 30),
            Var("ZAUBERBERG-TB", "Taschenbuch", 1400, 600, 60),
        ],
    },
    Item {
        title: "Die Verwandlung",
        handle: None,
        description: "Franz Kafka. Erzählung, 1915.",
        category: 0,
        tags: &["erzaehlung", "kafka"],
        tax_code: Some("books"),
        option: None,
        variants: &[Var("VERWANDLUNG", "", 800, 150, 80)],
    },
    Item {
        title: "Effi Briest",
        handle: None,
        description: "Theodor Fontane. Roman, 1896.",
        category: 0,
        tags: &["roman", "fontane"],
        tax_code: Some("books"),
        option: None,
        variants: &[Var("EFFI-BRIEST", "", 1200, 380, 50)],
    },
    Item {
        title: "Siddhartha",
        handle: None,
        description: "Hermann Hesse. Eine indische Dichtung, 1922.",
        category: 0,
        tags: &["roman", "hesse"],
        tax_code: Some("books"),
        option: None,
        variants: &[Var("SIDDHARTHA", "", 1000, 220, 70)],
    },
    Item {
        title: "Momo",
        handle: None,
        description: "Michael Ende. Ein Märchen-Roman, 1973.",
        category: 1,
        tags: &["kinderbuch", "ende"],
        tax_code: Some("books"),
        option: Some("Ausgabe"),
        variants: &[Var("MOMO-GEB", "Gebunden", 2000, 520, 25), Var("MOMO-TB", "Taschenbuch", 1200, 300, 40)],
    },
    Item {
        title: "Leinentasche „Lindenblatt“",
        handle: Some("leinentasche"),
        description: "Baumwolltasche mit Lindenblatt-Druck (voller Mehrwertsteuersatz).",
        category: 2,
        tags: &["zubehoer"],
        tax_code: None,
        option: None,
        variants: &[Var("TASCHE", "", 1500, 120, 100)],
    },
];
