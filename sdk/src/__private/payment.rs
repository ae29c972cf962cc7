wit_bindgen::generate!({
    path: "../wit/v0.1.0",
    world: "payment-plugin",
    pub_export_macro: true,
    export_macro_name: "__export_payment_world",
    default_bindings_module: "mercato_sdk::__private::payment",
    runtime_path: "mercato_sdk::__private::wit_bindgen::rt",
    generate_all,
});

super::shared_glue!(Payment);
super::money_glue!();

use self::exports::mercato::plugin::payment as p;
use crate::payment as sdk;

fn status_out(s: sdk::PaymentStatus) -> p::Status {
    match s {
        sdk::PaymentStatus::Succeeded => p::Status::Succeeded,
        sdk::PaymentStatus::RequiresAction(a) => p::Status::RequiresAction(p::NextAction {
            client_secret: a.client_secret,
            redirect_url: a.redirect_url,
        }),
        sdk::PaymentStatus::Pending => p::Status::Pending,
        sdk::PaymentStatus::Failed(reason) => p::Status::Failed(reason),
    }
}

fn result_out(
    r: Result<sdk::PaymentResult, crate::PluginError>,
) -> Result<p::PaymentResult, wit::PluginError> {
    let r = r.map_err(err_out)?;
    Ok(p::PaymentResult {
        status: status_out(r.status),
        provider_reference: r.provider_reference,
        message: r.message,
    })
}

/// The `create-payment` export.
pub fn create_payment<T: sdk::Payment>(
    config: String,
    r: p::PaymentRequest,
) -> Result<p::PaymentResult, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let request = sdk::PaymentRequest {
        amount: money_in(r.amount)?,
        order_reference: r.order_reference,
        payment_method_token: r.payment_method_token,
        idempotency_key: r.idempotency_key,
        capture: r.capture,
        email: r.email,
    };
    result_out(T::create_payment(&config, &request))
}

/// The `capture` export.
pub fn capture<T: sdk::Payment>(
    config: String,
    r: p::CaptureRequest,
) -> Result<p::PaymentResult, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let request = sdk::CaptureRequest {
        provider_reference: r.provider_reference,
        amount: money_in(r.amount)?,
        idempotency_key: r.idempotency_key,
    };
    result_out(T::capture(&config, &request))
}

/// The `refund` export.
pub fn refund<T: sdk::Payment>(
    config: String,
    r: p::RefundRequest,
) -> Result<p::PaymentResult, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let request = sdk::RefundRequest {
        provider_reference: r.provider_reference,
        amount: money_in(r.amount)?,
        idempotency_key: r.idempotency_key,
        reason: r.reason,
    };
    result_out(T::refund(&config, &request))
}

/// The `void` export.
pub fn void<T: sdk::Payment>(
    config: String,
    r: p::VoidRequest,
) -> Result<p::PaymentResult, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let request =
        sdk::VoidRequest { provider_reference: r.provider_reference, idempotency_key: r.idempotency_key };
    result_out(T::void(&config, &request))
}

/// The `parse-webhook` export.
pub fn parse_webhook<T: sdk::Payment>(
    config: String,
    hook: p::Webhook,
) -> Result<p::PaymentEvent, wit::PluginError> {
    let config = self::config::<T::Config>(&config)?;
    let hook = sdk::Webhook { headers: hook.headers, body: hook.body };
    let event = T::parse_webhook(&config, &hook).map_err(err_out)?;
    Ok(p::PaymentEvent {
        provider_reference: event.provider_reference,
        status: status_out(event.status),
        amount: event.amount.map(money_out),
    })
}

/// Exports a [`crate::payment::Payment`] implementation as the component's payment world.
#[macro_export]
macro_rules! export_payment {
    ($plugin:ty) => {
        const _: () = {
            use $crate::__private::payment as __p;
            use $crate::__private::payment::exports::mercato::plugin::payment as __w;
            struct __MercatoPlugin;
            $crate::__mercato_describe!(payment, $plugin);
            impl __w::Guest for __MercatoPlugin {
                fn create_payment(
                    config: ::std::string::String,
                    request: __w::PaymentRequest,
                ) -> ::std::result::Result<__w::PaymentResult, __p::wit::PluginError> {
                    __p::create_payment::<$plugin>(config, request)
                }
                fn capture(
                    config: ::std::string::String,
                    request: __w::CaptureRequest,
                ) -> ::std::result::Result<__w::PaymentResult, __p::wit::PluginError> {
                    __p::capture::<$plugin>(config, request)
                }
                fn refund(
                    config: ::std::string::String,
                    request: __w::RefundRequest,
                ) -> ::std::result::Result<__w::PaymentResult, __p::wit::PluginError> {
                    __p::refund::<$plugin>(config, request)
                }
                fn void(
                    config: ::std::string::String,
                    request: __w::VoidRequest,
                ) -> ::std::result::Result<__w::PaymentResult, __p::wit::PluginError> {
                    __p::void::<$plugin>(config, request)
                }
                fn parse_webhook(
                    config: ::std::string::String,
                    hook: __w::Webhook,
                ) -> ::std::result::Result<__w::PaymentEvent, __p::wit::PluginError> {
                    __p::parse_webhook::<$plugin>(config, hook)
                }
            }
            $crate::__private::payment::__export_payment_world!(__MercatoPlugin with_types_in $crate::__private::payment);
        };
    };
}
