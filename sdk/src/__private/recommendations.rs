wit_bindgen::generate!({
    path: "../wit/v0.1.0",
    world: "recommendations-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_recommendations_world",
    default_bindings_module: "mercato_sdk::__private::recommendations",
    runtime_path: "mercato_sdk::__private::wit_bindgen::rt",
});

super::shared_glue!(Recommendations);
super::money_glue!();

use self::exports::mercato::plugin::recommendations as r;
use self::mercato::plugin::catalog as host;
use crate::recommendations as sdk;

/// The merchant's catalog, read through the host import.
struct HostCatalog;

fn count_in(c: host::ProductCount) -> sdk::ProductCount {
    sdk::ProductCount { product_id: c.product_id, count: c.count }
}

impl sdk::Catalog for HostCatalog {
    fn product(&self, id: &str) -> Option<sdk::Product> {
        let p = host::get_product(id)?;
        Some(sdk::Product {
            id: p.id,
            title: p.title,
            category_ids: p.category_ids,
            tags: p.tags,
            price: money_in(p.price).ok()?,
            available: p.available,
        })
    }

    fn bought_together(&self, product_id: &str, limit: u32) -> Vec<sdk::ProductCount> {
        host::bought_together(product_id, limit).into_iter().map(count_in).collect()
    }

    fn bestsellers(&self, category_id: Option<&str>, limit: u32) -> Vec<sdk::ProductCount> {
        host::bestsellers(category_id, limit).into_iter().map(count_in).collect()
    }
}

/// The `recommend` export.
pub fn recommend<T: sdk::Recommendations>(
    config: String,
    context: r::Context,
) -> Result<Vec<r::Recommendation>, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let context = sdk::Context {
        product_id: context.product_id,
        cart_product_ids: context.cart_product_ids,
        customer: context.customer.map(customer_in),
        limit: context.limit,
    };
    let list = T::recommend(&config, &context, &HostCatalog).map_err(err_out)?;
    Ok(list.into_iter().map(|x| r::Recommendation { product_id: x.product_id, reason: x.reason }).collect())
}

/// Exports a [`crate::recommendations::Recommendations`] implementation as the component's recommendations world.
#[macro_export]
macro_rules! export_recommendations {
    ($plugin:ty) => {
        const _: () = {
            use $crate::__private::recommendations as __p;
            use $crate::__private::recommendations::exports::mercato::plugin::recommendations as __w;
            struct __MercatoPlugin;
            $crate::__mercato_describe!(recommendations, $plugin);
            impl __w::Guest for __MercatoPlugin {
                fn recommend(
                    config: ::std::string::String,
                    context: __w::Context,
                ) -> ::std::result::Result<::std::vec::Vec<__w::Recommendation>, __p::wit::PluginError> {
                    __p::recommend::<$plugin>(config, context)
                }
            }
            $crate::__private::recommendations::__export_recommendations_world!(__MercatoPlugin with_types_in $crate::__private::recommendations);
        };
    };
}
