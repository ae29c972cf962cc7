//! Test-only: `create-payment` GETs the URL sent as the payment token (or,
//! for `post:<bytes>:<url>`, POSTs that many bytes to it) with the SDK's
//! HTTP client and succeeds with what came back (`status=… bytes=…`
//! in the message; a redirect's `Location` too, never followed), or fails
//! with the client's error. Other calls are unsupported.

use mercato_sdk::payment::{
    CaptureRequest, Payment, PaymentRequest, PaymentResult, PaymentStatus, RefundRequest, VoidRequest,
};
use mercato_sdk::{Plugin, PluginError};

pub struct NetProbe;

impl Plugin for NetProbe {
    type Config = ();
}

#[cfg(target_arch = "wasm32")]
fn fetch(token: &str) -> Result<String, PluginError> {
    use mercato_sdk::http_client::{Method, Request, send};
    // `post:<bytes>:<url>` POSTs that many bytes; anything else is a URL to GET.
    let (method, body, url) = match token.strip_prefix("post:").and_then(|r| r.split_once(':')) {
        Some((n, url)) => (Method::Post, vec![b'x'; n.parse().unwrap_or(0)], url),
        None => (Method::Get, Vec::new(), token),
    };
    let request = Request { method, url: url.to_owned(), headers: Vec::new(), body };
    let response = send(&request)?;
    let location =
        response.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case("location")).map(|(_, v)| v.as_str());
    Ok(format!(
        "status={} bytes={} location={}",
        response.status,
        response.body.len(),
        location.unwrap_or("")
    ))
}

#[cfg(not(target_arch = "wasm32"))]
fn fetch(_: &str) -> Result<String, PluginError> {
    Err(PluginError::new("native", "no sandbox natively"))
}

fn unsupported() -> PluginError {
    PluginError::unsupported("the probe only fetches")
}

impl Payment for NetProbe {
    fn create_payment(_: &(), r: &PaymentRequest) -> Result<PaymentResult, PluginError> {
        let url = r
            .payment_method_token
            .as_deref()
            .ok_or_else(|| PluginError::new("no_url", "send the URL as the token"))?;
        let message = fetch(url)?;
        Ok(PaymentResult {
            status: PaymentStatus::Succeeded,
            provider_reference: "probe".into(),
            message: Some(message),
        })
    }
    fn capture(_: &(), _: &CaptureRequest) -> Result<PaymentResult, PluginError> {
        Err(unsupported())
    }
    fn refund(_: &(), _: &RefundRequest) -> Result<PaymentResult, PluginError> {
        Err(unsupported())
    }
    fn void(_: &(), _: &VoidRequest) -> Result<PaymentResult, PluginError> {
        Err(unsupported())
    }
}

mercato_sdk::export_payment!(NetProbe);
