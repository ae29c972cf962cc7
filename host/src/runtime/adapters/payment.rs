use mercato_sdk::payment::{
    NextAction, PaymentCall, PaymentEvent, PaymentReply, PaymentResult, PaymentStatus,
};

use super::{check_output_size, check_text, money_from_wit, money_to_wit};
use crate::runtime::error::{CallError, FailureKind};
use crate::runtime::registry::{Call, Outcome, Runtime, Sizing, WorldPre};
use crate::runtime::size::{WireSize, record_size};
use crate::runtime::wit::payment::exports::mercato::plugin::payment as w;

record_size! {
    w::PaymentRequest { amount, order_reference, payment_method_token, idempotency_key, capture, email }
    w::CaptureRequest { provider_reference, amount, idempotency_key }
    w::RefundRequest { provider_reference, amount, idempotency_key, reason }
    w::VoidRequest { provider_reference, idempotency_key }
    w::NextAction { client_secret, redirect_url }
    w::PaymentResult { status, provider_reference, message }
    w::PaymentEvent { provider_reference, status, amount }
}

impl WireSize for w::Status {
    fn wire_size(&self) -> u64 {
        8 + match self {
            w::Status::RequiresAction(a) => a.wire_size(),
            w::Status::Failed(reason) => reason.wire_size(),
            w::Status::Succeeded | w::Status::Pending => 0,
        }
    }
}

fn webhook_size(h: &w::Webhook) -> u64 {
    h.headers.wire_size() + 8 + h.body.len() as u64
}

/// The request in wire form, ready to send.
enum Request {
    Create(w::PaymentRequest),
    Capture(w::CaptureRequest),
    Refund(w::RefundRequest),
    Void(w::VoidRequest),
    Webhook(w::Webhook),
}

/// The answer in wire form.
enum Raw {
    Result(w::PaymentResult),
    Event(w::PaymentEvent),
}

fn request_to_wit(call: &PaymentCall) -> (Request, u64) {
    let r = match call {
        PaymentCall::CreatePayment(r) => Request::Create(w::PaymentRequest {
            amount: money_to_wit(&r.amount),
            order_reference: r.order_reference.clone(),
            payment_method_token: r.payment_method_token.clone(),
            idempotency_key: r.idempotency_key.clone(),
            capture: r.capture,
            email: r.email.clone(),
        }),
        PaymentCall::Capture(r) => Request::Capture(w::CaptureRequest {
            provider_reference: r.provider_reference.clone(),
            amount: money_to_wit(&r.amount),
            idempotency_key: r.idempotency_key.clone(),
        }),
        PaymentCall::Refund(r) => Request::Refund(w::RefundRequest {
            provider_reference: r.provider_reference.clone(),
            amount: money_to_wit(&r.amount),
            idempotency_key: r.idempotency_key.clone(),
            reason: r.reason.clone(),
        }),
        PaymentCall::Void(r) => Request::Void(w::VoidRequest {
            provider_reference: r.provider_reference.clone(),
            idempotency_key: r.idempotency_key.clone(),
        }),
        PaymentCall::ParseWebhook(h) => {
            Request::Webhook(w::Webhook { headers: h.headers.clone(), body: h.body.clone() })
        }
    };
    let size = match &r {
        Request::Create(x) => x.wire_size(),
        Request::Capture(x) => x.wire_size(),
        Request::Refund(x) => x.wire_size(),
        Request::Void(x) => x.wire_size(),
        Request::Webhook(x) => webhook_size(x),
    };
    (r, size)
}

fn status_from_wit(s: w::Status) -> Result<PaymentStatus, FailureKind> {
    Ok(match s {
        w::Status::Succeeded => PaymentStatus::Succeeded,
        w::Status::Pending => PaymentStatus::Pending,
        w::Status::Failed(reason) => {
            check_text("failure reason", &reason, true, 1000)?;
            PaymentStatus::Failed(reason)
        }
        w::Status::RequiresAction(a) => {
            if a.client_secret.is_none() && a.redirect_url.is_none() {
                return Err(FailureKind::InvalidOutput(
                    "requires-action without a client secret or a redirect url".into(),
                ));
            }
            for v in a.client_secret.iter().chain(a.redirect_url.iter()) {
                check_text("next action", v, true, 2048)?;
            }
            PaymentStatus::RequiresAction(NextAction {
                client_secret: a.client_secret,
                redirect_url: a.redirect_url,
            })
        }
    })
}

fn reply_from_wit(raw: Raw) -> Result<PaymentReply, FailureKind> {
    match raw {
        Raw::Result(r) => {
            check_text("provider reference", &r.provider_reference, true, 255)?;
            if let Some(m) = &r.message {
                check_text("message", m, false, 4096)?;
            }
            Ok(PaymentReply::Result(PaymentResult {
                status: status_from_wit(r.status)?,
                provider_reference: r.provider_reference,
                message: r.message,
            }))
        }
        Raw::Event(e) => {
            check_text("provider reference", &e.provider_reference, true, 255)?;
            Ok(PaymentReply::Event(PaymentEvent {
                status: status_from_wit(e.status)?,
                amount: e.amount.map(|m| money_from_wit(m, None, "event amount")).transpose()?,
                provider_reference: e.provider_reference,
            }))
        }
    }
}

impl Runtime {
    /// Calls a payment plugin and checks its answer.
    pub fn payment(&self, call: Call<'_>, request: &PaymentCall) -> Result<Outcome<PaymentReply>, CallError> {
        let (wire, input_bytes) = request_to_wit(request);
        let sizing = Sizing { lines: 1, input_bytes };
        self.invoke(
            call,
            request.name(),
            sizing,
            None,
            |pre, store| {
                let WorldPre::Payment(p) = pre else { return None };
                let config = call.config;
                Some(p.instantiate(&mut *store).and_then(|i| {
                    let g = i.mercato_plugin_payment();
                    let s = &mut *store;
                    Ok(match &wire {
                        Request::Create(r) => g.call_create_payment(s, config, r)?.map(Raw::Result),
                        Request::Capture(r) => g.call_capture(s, config, r)?.map(Raw::Result),
                        Request::Refund(r) => g.call_refund(s, config, r)?.map(Raw::Result),
                        Request::Void(r) => g.call_void(s, config, r)?.map(Raw::Result),
                        Request::Webhook(h) => g.call_parse_webhook(s, config, h)?.map(Raw::Event),
                    })
                }))
            },
            |raw, limits| {
                let size = match &raw {
                    Raw::Result(r) => r.wire_size(),
                    Raw::Event(e) => e.wire_size(),
                };
                check_output_size(size, limits.max_output_bytes)?;
                reply_from_wit(raw)
            },
        )
    }
}
