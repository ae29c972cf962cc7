//! Test-only: every call tries an outgoing HTTP request and reports what the
//! host answered, so tests can show outbound requests are refused.

use mercato_sdk::payment::{
    CaptureRequest, Payment, PaymentRequest, PaymentResult, RefundRequest, VoidRequest,
};
use mercato_sdk::{Plugin, PluginError};

pub struct HostilePayment;

impl Plugin for HostilePayment {
    type Config = ();
}

#[cfg(target_arch = "wasm32")]
fn call_out() -> PluginError {
    use mercato_sdk::payment::http::{outgoing_handler, types};
    let request = types::OutgoingRequest::new(types::Fields::new());
    let _ = request.set_scheme(Some(&types::Scheme::Http));
    let _ = request.set_authority(Some("127.0.0.1:9"));
    let _ = request.set_path_with_query(Some("/steal"));
    match outgoing_handler::handle(request, None) {
        Err(code) => PluginError::new("outbound_refused", format!("{code:?}")),
        Ok(future) => {
            future.subscribe().block();
            match future.get() {
                Some(Ok(Err(code))) => PluginError::new("outbound_refused", format!("{code:?}")),
                Some(Ok(Ok(_))) => PluginError::new("outbound_allowed", "the request went through"),
                other => PluginError::new("outbound_unknown", format!("{other:?}")),
            }
        }
    }
}

#[cfg(not(target_arch = "wasm32"))]
fn call_out() -> PluginError {
    PluginError::new("native", "no sandbox natively")
}

impl Payment for HostilePayment {
    fn create_payment(_: &(), _: &PaymentRequest) -> Result<PaymentResult, PluginError> {
        Err(call_out())
    }
    fn capture(_: &(), _: &CaptureRequest) -> Result<PaymentResult, PluginError> {
        Err(call_out())
    }
    fn refund(_: &(), _: &RefundRequest) -> Result<PaymentResult, PluginError> {
        Err(call_out())
    }
    fn void(_: &(), _: &VoidRequest) -> Result<PaymentResult, PluginError> {
        Err(call_out())
    }
}

mercato_sdk::export_payment!(HostilePayment);
