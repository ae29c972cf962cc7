//! The demo's two merchants, created through the commerce layer exactly as
//! the API would: a US outfitter and a German bookshop, each with its own
//! plugins bound and configured, a catalog, stock and (the bookshop) a
//! discount code.
//!
//! Seeding never assumes an empty database: a plugin already installed (the
//! same bytes, or the same name and version) is reused, and a slug already
//! taken gets a suffix ("acme-2"), so seeding twice gives two more merchants.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, anyhow, bail};
use mercato_sdk::ExtensionPoint;

use super::shops::{Item, Shop, Var, acme, lindenblatt};
use crate::commerce::catalog::{
    self, NewCategory, NewProduct, NewVariant, PriceInput, ProductOption, Status,
};
use crate::commerce::discounts::{self, NewDiscountCode};
use crate::commerce::inventory::{self, NewLocation, SetOnHand};
use crate::commerce::merchants::{self, Keys, Merchant, NewMerchant};
use crate::commerce::plugins::{self, Bindings, NewBinding, NewBindings, OnError};
use crate::commerce::{Error, MAX_PAGE, Page};
use crate::db::Db;
use crate::runtime::Runtime;

/// A seeded merchant and what a walkthrough needs to buy from it.
#[derive(Debug, Clone)]
pub struct DemoMerchant {
    /// `mer_…`.
    pub id: String,
    /// The storefront handle, e.g. `acme`.
    pub slug: String,
    /// The shop's display name.
    pub name: String,
    /// ISO 4217, e.g. "USD".
    pub currency: String,
    /// The back office key (`sk_…`).
    pub secret_key: String,
    /// The storefront key (`pk_…`).
    pub publishable_key: String,
    /// (sku, variant id) of every variant, in catalog order.
    pub variant_ids: Vec<(String, String)>,
    /// A discount code the merchant's coupon plugin redeems.
    pub discount_code: Option<String>,
    /// The `payment.provider` a checkout names: the bound payment plugin.
    pub payment_provider: String,
    /// That plugin's id (`plg_…`).
    pub payment_plugin_id: String,
}

impl DemoMerchant {
    /// The id of the variant with this sku.
    pub fn variant_id(&self, sku: &str) -> Option<&str> {
        self.variant_ids.iter().find(|(s, _)| s == sku).map(|(_, id)| id.as_str())
    }
}

/// Both demo merchants.
#[derive(Debug, Clone)]
pub struct DemoSeed {
    /// Acme Outfitters: USD, US sales tax, flat-rate shipping, volume
    /// discounts, the test card gateway.
    pub us: DemoMerchant,
    /// Buchhandlung Lindenblatt: EUR, EU VAT with reduced rates for books,
    /// weight-based shipping, the coupon `LESEN10`, bank transfer.
    pub de: DemoMerchant,
}

/// The sku the US walkthrough buys (twice, which earns the multi-buy discount).
pub const US_WALKTHROUGH_SKU: &str = "TEE-M";
/// The sku the bookshop walkthrough buys.
pub const DE_WALKTHROUGH_SKU: &str = "ZAUBERBERG-GEB";

/// Seeds both merchants through the commerce layer. `plugin_dir` holds the
/// built components (`target/plugins/<name>.wasm`).
pub async fn seed(
    db: &Db,
    runtime: &Arc<Runtime>,
    bindings: &Bindings,
    plugin_dir: &Path,
) -> anyhow::Result<DemoSeed> {
    let ctx = Ctx { db, runtime, bindings, plugin_dir };
    let us = ctx.shop(&acme()).await.context("seeding Acme Outfitters")?;
    let de = ctx.shop(&lindenblatt()).await.context("seeding Buchhandlung Lindenblatt")?;
    Ok(DemoSeed { us, de })
}

struct Ctx<'a> {
    db: &'a Db,
    runtime: &'a Arc<Runtime>,
    bindings: &'a Bindings,
    plugin_dir: &'a Path,
}

impl Ctx<'_> {
    async fn shop(&self, shop: &Shop) -> anyhow::Result<DemoMerchant> {
        let (merchant, keys) = self.merchant(shop).await?;
        let id = merchant.id.as_str();
        let mut payment_provider = None;
        // Several plugins of one point are bound together, in the listed order.
        let mut by_point: Vec<(ExtensionPoint, Vec<NewBinding>)> = Vec::new();
        for (name, point, config) in &shop.plugins {
            let plugin_id = self.install(name).await?;
            if *point == ExtensionPoint::Payment {
                payment_provider = Some((name.to_string(), plugin_id.clone()));
            }
            let binding = NewBinding::live(plugin_id, config.clone(), OnError::Fail);
            match by_point.iter_mut().find(|(p, _)| p == point) {
                Some((_, list)) => list.push(binding),
                None => by_point.push((*point, vec![binding])),
            }
        }
        for (point, bindings) in by_point {
            plugins::replace_bindings(
                self.db,
                self.runtime,
                self.bindings,
                id,
                point,
                NewBindings { bindings },
                "mercato demo",
            )
            .await
            .with_context(|| format!("binding the {point} plugins"))?;
        }
        let (payment_provider, payment_plugin_id) =
            payment_provider.context("no payment plugin in the demo shop")?;
        let mut categories = Vec::new();
        for (name, handle) in shop.categories {
            let req = NewCategory { name: Some(name.to_string()), handle: Some(handle.to_string()) };
            categories.push(catalog::create_category(self.db, id, req).await?.id);
        }
        let (location, country) = shop.location;
        let req = NewLocation { name: Some(location.into()), country: Some(country.into()) };
        let location = inventory::create_location(self.db, id, req).await?.id;
        let mut variant_ids = Vec::new();
        for item in shop.products {
            let product = catalog::create_product(self.db, id, new_product(item, shop.currency, &categories))
                .await
                .with_context(|| format!("creating {}", item.title))?;
            for (variant, Var(_, _, _, _, stock)) in product.variants.iter().zip(item.variants) {
                let req = SetOnHand {
                    location_id: Some(location.clone()),
                    on_hand: Some(*stock),
                    reason: Some("demo stock".into()),
                };
                inventory::set_on_hand(self.db, id, &variant.id, req).await?;
                variant_ids.push((variant.sku.clone(), variant.id.clone()));
            }
        }
        if let Some(code) = shop.discount_code {
            let req = NewDiscountCode {
                code: Some(code.into()),
                usage_limit: Some(1000),
                starts_at: None,
                ends_at: None,
            };
            discounts::create(self.db, id, req).await.with_context(|| format!("creating code {code}"))?;
        }
        Ok(DemoMerchant {
            id: merchant.id,
            slug: merchant.slug,
            name: merchant.name,
            currency: merchant.default_currency,
            secret_key: keys.secret_key,
            publishable_key: keys.publishable_key,
            variant_ids,
            discount_code: shop.discount_code.map(str::to_owned),
            payment_provider,
            payment_plugin_id,
        })
    }

    /// Creates the merchant under its slug, or the first free "slug-N".
    async fn merchant(&self, shop: &Shop) -> anyhow::Result<(Merchant, Keys)> {
        for n in 1..=100 {
            let slug = if n == 1 { shop.slug.to_owned() } else { format!("{}-{n}", shop.slug) };
            let req = NewMerchant {
                name: shop.name.into(),
                slug,
                default_currency: shop.currency.into(),
                country: shop.country.into(),
                prices_include_tax: shop.prices_include_tax,
                time_zone: Some(shop.time_zone.into()),
            };
            match merchants::create(self.db, req).await {
                Err(Error::Conflict { code: "slug_taken", .. }) => continue,
                created => return Ok(created?),
            }
        }
        bail!("the slugs {0}, {0}-2 … {0}-100 are all taken", shop.slug)
    }

    /// Installs `<plugin_dir>/<name>.wasm`, or finds the plugin already
    /// installed under the same name and version; returns its id.
    async fn install(&self, name: &str) -> anyhow::Result<String> {
        let path = self.plugin_dir.join(format!("{name}.wasm"));
        let bytes = std::fs::read(&path)
            .with_context(|| format!("cannot read {} (run `cargo xtask build-plugins`)", path.display()))?;
        match plugins::install(self.db, self.runtime, self.bindings, bytes).await {
            Ok((plugin, _created)) => Ok(plugin.id),
            Err(Error::Conflict { code: "version_exists", message }) => {
                self.installed_version(&message).await?.ok_or_else(|| anyhow!("{message}"))
            }
            Err(e) => Err(anyhow::Error::new(e).context(format!("installing {}", path.display()))),
        }
    }

    /// The installed plugin a `version_exists` refusal names ("name@version …").
    async fn installed_version(&self, refusal: &str) -> anyhow::Result<Option<String>> {
        let mut page = Page { after: None, limit: MAX_PAGE };
        loop {
            let listed = plugins::list(self.db, self.runtime, self.bindings, None, &page).await?;
            let named = |p: &&plugins::Plugin| refusal.starts_with(&format!("{}@{} ", p.name, p.version));
            if let Some(p) = listed.data.iter().find(named) {
                return Ok(Some(p.id.clone()));
            }
            match listed.data.last() {
                Some(last) if listed.next_cursor.is_some() => page.after = Some(last.id.clone()),
                _ => return Ok(None),
            }
        }
    }
}

fn new_product(item: &Item, currency: &str, categories: &[String]) -> NewProduct {
    let variants = item
        .variants
        .iter()
        .map(|Var(sku, value, price, grams, _)| NewVariant {
            sku: Some(sku.to_string()),
            title: None,
            options: item.option.map(|o| [(o.to_owned(), value.to_string())].into()).unwrap_or_default(),
            price: Some(PriceInput { amount: Some(*price), currency: Some(currency.into()) }),
            weight_grams: Some(*grams),
            tax_code: item.tax_code.map(str::to_owned),
            inventory_policy: None,
        })
        .collect();
    let options = item.option.map(|name| ProductOption {
        name: name.into(),
        values: item.variants.iter().map(|v| v.1.to_owned()).collect(),
    });
    NewProduct {
        title: Some(item.title.into()),
        handle: item.handle.map(str::to_owned),
        description: Some(item.description.into()),
        status: Some(Status::Active),
        tags: item.tags.iter().map(|t| t.to_string()).collect(),
        category_ids: vec![categories[item.category].clone()],
        options: options.into_iter().collect(),
        variants: Some(variants),
        images: Vec::new(),
    }
}
