use std::collections::HashSet;

use mercato_sdk::recommendations::{Context, Recommendation};

use super::{check_output_size, check_text, customer_to_wit};
use crate::runtime::error::{CallError, FailureKind};
use crate::runtime::registry::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::runtime::size::{WireSize, record_size};
use crate::runtime::store::SharedCatalog;
use crate::runtime::wit::recommendations::exports::mercato::plugin::recommendations as w;

record_size! {
    w::Context { product_id, cart_product_ids, customer, limit }
    w::Recommendation { product_id, reason }
}

/// The most recommendations anyone may ask for.
pub const MAX_LIMIT: u32 = 100;

fn output_from_wit(
    context: &Context,
    raw: Vec<w::Recommendation>,
) -> Result<Vec<Recommendation>, FailureKind> {
    if raw.len() > context.limit as usize {
        return Err(FailureKind::InvalidOutput(format!(
            "{} recommendations for a limit of {}",
            raw.len(),
            context.limit
        )));
    }
    let mut seen = HashSet::with_capacity(raw.len());
    raw.into_iter()
        .map(|r| {
            check_text("product id", &r.product_id, true, 128)?;
            check_text("reason", &r.reason, false, 200)?;
            if !seen.insert(r.product_id.clone()) {
                return Err(FailureKind::InvalidOutput(format!(
                    "product {:?} recommended twice",
                    r.product_id
                )));
            }
            Ok(Recommendation { product_id: r.product_id, reason: r.reason })
        })
        .collect()
}

impl Runtime {
    /// Calls a recommender with read access to `catalog` (already scoped to
    /// the merchant) and checks its list.
    pub fn recommendations(
        &self,
        call: Call<'_>,
        context: &Context,
        catalog: SharedCatalog,
    ) -> Result<Outcome<Vec<Recommendation>>, CallError> {
        let mut context = context.clone();
        context.limit = context.limit.min(MAX_LIMIT);
        let wire = w::Context {
            product_id: context.product_id.clone(),
            cart_product_ids: context.cart_product_ids.clone(),
            customer: context.customer.as_ref().map(customer_to_wit),
            limit: context.limit,
        };
        let sizing = Sizing { lines: context.cart_product_ids.len(), input_bytes: wire.wire_size() };
        self.invoke(
            call,
            "recommend",
            sizing,
            Some(catalog),
            |pre, store| match pre {
                WorldPre::Recommendations(p) => Some(p.instantiate(&mut *store).and_then(|i| {
                    i.mercato_plugin_recommendations().call_recommend(&mut *store, call.config, &wire)
                })),
                _ => None,
            },
            |raw, limits| {
                check_output_size(raw.wire_size(), limits.max_output_bytes)?;
                output_from_wit(&context, raw)
            },
        )
    }
}
