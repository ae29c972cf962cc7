//! E-mail over SMTP: order confirmation, shipped and refunded, welcome,
//! password reset, cart recovery to buyers; low stock to the shop.
//!
//! Messages are queued from the outbox with the event's fan-out (one per
//! dedupe key: one confirmation per order), then claimed with a lease and
//! sent by the same worker as webhooks. Each has a fixed `Message-ID`
//! (`<eml_…@mercato>`): a message is sent again only when the server did
//! not take it (a transient refusal, a dropped connection) or when the host
//! died before recording that it did, and then with the same id, which
//! mail clients use to show it once. Without an SMTP server configured a
//! message is recorded `not_sent` with the reason — never silently dropped.

pub mod templates;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::{Value, json};

use super::{Error, Page, Paged, Result, Shop};
use crate::db::emails::{self as store, Due, Outcome};
use crate::db::now_ms;
pub use crate::model::emails::{EmailMessage, EmailTemplate, KINDS, Rendered, TemplateChange, is_kind};

/// Messages sent or not, on this host.
#[derive(Debug, Default)]
pub struct Counts {
    /// Taken by the SMTP server.
    pub sent: AtomicU64,
    /// Refused for now; tried again.
    pub retried: AtomicU64,
    /// Refused for good, or retries ran out.
    pub failed: AtomicU64,
    /// Not sent: no server configured, or nobody to send to.
    pub not_sent: AtomicU64,
}

/// The host's way out for e-mail.
pub struct Mailer {
    transport: Option<AsyncSmtpTransport<Tokio1Executor>>,
    /// The sender when a shop names none: its address, with the shop's name.
    default_from: Mailbox,
    /// What was sent on this host.
    pub counts: Counts,
    /// The wait before the first retry.
    first_retry_ms: i64,
}

impl Default for Mailer {
    fn default() -> Mailer {
        Mailer {
            transport: None,
            default_from: "Mercato <no-reply@localhost>".parse().expect("a valid mailbox"),
            counts: Counts::default(),
            first_retry_ms: FIRST_RETRY_MS,
        }
    }
}

impl Mailer {
    /// A mailer sending through the SMTP server at `url` (`smtp://host:port`
    /// in clear, `smtp://…?tls=required` for STARTTLS, `smtps://` for TLS;
    /// `user:password@` to log in), or recording messages as not sent when
    /// `None`; as `from` when a shop names no sender.
    pub fn new(url: Option<&str>, from: &str) -> anyhow::Result<Mailer> {
        let transport = url
            .map(|u| {
                AsyncSmtpTransport::<Tokio1Executor>::from_url(u)
                    .map(|b| b.timeout(Some(Duration::from_secs(10))).build())
                    .map_err(|e| anyhow::anyhow!("the SMTP URL cannot be used: {e}"))
            })
            .transpose()?;
        let default_from = from.parse().map_err(|e| anyhow::anyhow!("the default sender {from:?}: {e}"))?;
        Ok(Mailer { transport, default_from, counts: Counts::default(), first_retry_ms: FIRST_RETRY_MS })
    }

    /// Whether an SMTP server is configured.
    pub fn sends(&self) -> bool {
        self.transport.is_some()
    }

    /// Retries first after `wait` (then twice as long each time).
    pub fn with_first_retry(self, wait: Duration) -> Mailer {
        Mailer { first_retry_ms: i64::try_from(wait.as_millis()).unwrap_or(i64::MAX), ..self }
    }
}

/// Why messages are not sent without a server.
pub const NO_SMTP: &str = "no SMTP server is configured (MERCATO_SMTP_URL)";

/// How long a worker's claim on a message lasts.
const LEASE_MS: i64 = 60_000;
/// The wait before the first retry; each waits twice the last, at most an hour.
const FIRST_RETRY_MS: i64 = 30_000;
/// Retries end a day after the message was queued.
const GIVE_UP_AFTER_MS: i64 = 24 * 3600 * 1000;

fn unknown_kind() -> Error {
    Error::NotFound("e-mail template")
}

fn sent_on(kind: &str) -> (&'static str, &'static str) {
    KINDS.iter().find(|(k, ..)| *k == kind).map(|(_, on, to)| (*on, *to)).unwrap_or(("", ""))
}

/// The shop's template of `kind` (its own or Mercato's).
pub async fn template(shop: &Shop, merchant_id: &str, kind: &str) -> Result<EmailTemplate> {
    if !is_kind(kind) {
        return Err(unknown_kind());
    }
    let (on, to) = sent_on(kind);
    let own = store::template(&shop.db, merchant_id, kind).await?;
    let (custom, (subject, text, html)) = match own {
        Some(t) => (true, t),
        None => {
            let (s, t, h) = templates::default(kind);
            (false, (s.to_owned(), t.to_owned(), h.to_owned()))
        }
    };
    Ok(EmailTemplate {
        kind: kind.to_owned(),
        sent_on: on.to_owned(),
        recipient: to.to_owned(),
        custom,
        subject,
        text,
        html,
    })
}

/// Every template of the shop.
pub async fn list_templates(shop: &Shop, merchant_id: &str) -> Result<Vec<EmailTemplate>> {
    let mut all = Vec::new();
    for (kind, ..) in KINDS {
        all.push(template(shop, merchant_id, kind).await?);
    }
    Ok(all)
}

/// The draft `req` over the shop's current template; `required` says
/// every part must be given.
async fn draft(
    shop: &Shop,
    merchant_id: &str,
    kind: &str,
    req: TemplateChange,
    required: bool,
) -> Result<(String, String, String)> {
    let current = template(shop, merchant_id, kind).await?;
    let mut check = super::Check::default();
    let mut part = |field: &str, given: Option<String>, current: String| match given {
        Some(v) if v.len() > 100_000 => {
            check.field(field, Err::<String, _>("must be at most 100000 bytes".into()))
        }
        Some(v) if field == "subject" && v.trim().is_empty() => {
            check.field(field, Err::<String, _>("is required".into()))
        }
        Some(v) => Some(v),
        None if required => check.field(field, Err::<String, _>("is required".into())),
        None => Some(current),
    };
    let subject = part("subject", req.subject, current.subject);
    let text = part("text", req.text, current.text);
    let html = part("html", req.html, current.html);
    check.finish_with(subject.zip(text).zip(html).map(|((s, t), h)| (s, t, h)))
}

fn render_checked(kind: &str, t: (&str, &str, &str)) -> Result<Rendered> {
    templates::render(t, &templates::sample(kind))
        .map_err(|e| Error::field(e.field, format!("does not render: {}", e.message)))
}

/// Replaces the shop's template of `kind`, once it renders its sample.
pub async fn put_template(
    shop: &Shop,
    merchant_id: &str,
    kind: &str,
    req: TemplateChange,
) -> Result<EmailTemplate> {
    let (s, t, h) = draft(shop, merchant_id, kind, req, true).await?;
    render_checked(kind, (&s, &t, &h))?;
    store::put_template(&shop.db, merchant_id, kind, (&s, &t, &h)).await?;
    template(shop, merchant_id, kind).await
}

/// Goes back to Mercato's template of `kind`.
pub async fn reset_template(shop: &Shop, merchant_id: &str, kind: &str) -> Result<EmailTemplate> {
    if !is_kind(kind) {
        return Err(unknown_kind());
    }
    store::delete_template(&shop.db, merchant_id, kind).await?;
    template(shop, merchant_id, kind).await
}

/// Renders the shop's template of `kind` (with what `req` changes) with
/// its sample, the shop's name in it.
pub async fn preview(shop: &Shop, merchant_id: &str, kind: &str, req: TemplateChange) -> Result<Rendered> {
    let (s, t, h) = draft(shop, merchant_id, kind, req, false).await?;
    let mut ctx = templates::sample(kind);
    ctx["shop"]["name"] = json!(super::merchants::get(&shop.db, merchant_id).await?.name);
    templates::render((&s, &t, &h), &ctx)
        .map_err(|e| Error::field(e.field, format!("does not render: {}", e.message)))
}

/// A page of the shop's e-mails, oldest first.
pub async fn messages(shop: &Shop, merchant_id: &str, page: &Page) -> Result<Paged<EmailMessage>> {
    let rows = store::list(&shop.db, merchant_id, page.after.as_deref(), page.limit + 1).await?;
    Ok(Paged::from_rows(rows, page.limit, |m| &m.id))
}

/// What a message says and who gets it, or why it cannot be sent.
async fn compose(shop: &Shop, due: &Due) -> Result<std::result::Result<(String, Value), String>> {
    let settings = super::merchants::settings(&shop.db, &due.merchant_id).await?;
    let merchant = super::merchants::get(&shop.db, &due.merchant_id).await?;
    let payload = due.payload.clone().unwrap_or(Value::Null);
    let mut ctx = json!({"shop": {"name": merchant.name, "storefront_url": settings.storefront_url}});
    let token = || -> Result<String> {
        let sealed =
            due.secret_sealed.as_deref().ok_or_else(|| Error::Internal(anyhow::anyhow!("no token")))?;
        Ok(shop.secrets.open(sealed, &format!("email:{}", due.merchant_id))?.expose().to_owned())
    };
    let order = || async {
        let id = due.resource_id.as_deref().unwrap_or_default();
        let order = super::orders::get(&shop.db, &due.merchant_id, id).await?;
        serde_json::to_value(order).map_err(|e| Error::Internal(e.into()))
    };
    let recipient = match due.kind.as_str() {
        "order_confirmation" | "order_shipped" | "order_refunded" => {
            let order = order().await?;
            // The event's own data: the shipment, or the refund.
            match due.kind.as_str() {
                "order_shipped" => ctx["shipment"] = payload["data"].clone(),
                "order_refunded" => ctx["refund"] = payload["data"].clone(),
                _ => {}
            }
            let to = order["email"].as_str().map(str::to_owned);
            ctx["order"] = order;
            to
        }
        "customer_welcome" | "password_reset" => {
            ctx["customer"] = payload.clone();
            if due.kind == "password_reset" {
                let token = token()?;
                ctx["reset_url"] = json!(
                    settings.storefront_url.as_ref().map(|u| format!("{u}/reset-password?token={token}"))
                );
                ctx["token"] = json!(token);
            }
            payload["email"].as_str().map(str::to_owned)
        }
        "cart_recovery" => {
            let token = token()?;
            ctx["cart"] = payload.clone();
            ctx["recover_url"] = json!(match &settings.storefront_url {
                Some(u) => format!("{u}/cart/recover?token={token}"),
                None => format!("/v1/store/carts/recover?token={token}"),
            });
            payload["email"].as_str().map(str::to_owned)
        }
        _ => {
            ctx["stock"] = payload.clone();
            match settings.notification_email {
                Some(to) => Some(to),
                None => {
                    return Ok(Err("the shop has no notification_email (PATCH /v1/admin/settings)".into()));
                }
            }
        }
    };
    let Some(recipient) = recipient else { return Ok(Err("nobody to send it to".into())) };
    let from = settings.email_from.unwrap_or_else(|| {
        Mailbox::new(Some(merchant.name.clone()), shop.mailer.default_from.email.clone()).to_string()
    });
    ctx["from"] = json!(from);
    Ok(Ok((recipient, ctx)))
}

/// What one attempt came to: (status, recipient, subject, error, next attempt).
type Attempt = (&'static str, Option<String>, Option<String>, Option<String>, i64);

/// Sends one claimed message and settles it.
async fn send(shop: &Shop, due: &Due) -> Result<()> {
    let (status, recipient, subject, error, next) = attempt(shop, due).await?;
    let counts = &shop.mailer.counts;
    match status {
        "sent" => &counts.sent,
        "pending" => &counts.retried,
        "failed" => &counts.failed,
        _ => &counts.not_sent,
    }
    .fetch_add(1, Ordering::Relaxed);
    let outcome = Outcome {
        status,
        recipient: recipient.as_deref(),
        subject: subject.as_deref(),
        error: error.as_deref(),
        next_attempt_at: next,
    };
    Ok(store::finish(&shop.db, &due.id, &outcome, now_ms()).await?)
}

async fn attempt(shop: &Shop, due: &Due) -> Result<Attempt> {
    let now = now_ms();
    let (recipient, ctx) = match compose(shop, due).await? {
        Ok(found) => found,
        Err(why) => return Ok(("not_sent", None, None, Some(why), now)),
    };
    let t = template(shop, &due.merchant_id, &due.kind).await?;
    let rendered = match templates::render((&t.subject, &t.text, &t.html), &ctx) {
        Ok(r) => r,
        Err(e) => {
            let why = format!("the {} template does not render: {}", e.field, e.message);
            return Ok(("not_sent", Some(recipient), None, Some(why), now));
        }
    };
    let subject = Some(rendered.subject.clone());
    let Some(transport) = &shop.mailer.transport else {
        let why = NO_SMTP.to_owned();
        return Ok(("not_sent", Some(recipient), subject, Some(why), now));
    };
    let message = (|| {
        let from: Mailbox =
            ctx["from"].as_str().unwrap_or_default().parse().map_err(|e| format!("sender: {e}"))?;
        let to: Mailbox = recipient.parse().map_err(|e| format!("recipient: {e}"))?;
        Message::builder()
            .from(from)
            .to(to)
            .subject(rendered.subject.clone())
            .message_id(Some(format!("<{}@mercato>", due.id)))
            .multipart(MultiPart::alternative_plain_html(rendered.text.clone(), rendered.html.clone()))
            .map_err(|e| e.to_string())
    })();
    let message = match message {
        Ok(m) => m,
        Err(why) => return Ok(("failed", Some(recipient), subject, Some(why), now)),
    };
    Ok(match transport.send(message).await {
        Ok(_) => ("sent", Some(recipient), subject, None, now),
        Err(e) if e.is_permanent() => ("failed", Some(recipient), subject, Some(e.to_string()), now),
        Err(e) => {
            let wait =
                shop.mailer.first_retry_ms.saturating_mul(1 << (due.attempt - 1).clamp(0, 20)).min(3_600_000);
            let next = now + wait;
            let status = if next > due.created_at + GIVE_UP_AFTER_MS { "failed" } else { "pending" };
            (status, Some(recipient), subject, Some(e.to_string()), next)
        }
    })
}

/// Sends every message due (a few at once); how many were tried.
pub async fn run_once(shop: &Shop) -> Result<usize> {
    let due = store::claim_due(&shop.db, now_ms(), LEASE_MS, 50).await?;
    let n = due.len();
    let mut sends = tokio::task::JoinSet::new();
    for d in due {
        let shop = shop.clone();
        sends.spawn(async move {
            if let Err(e) = send(&shop, &d).await {
                // The lease runs out and it is tried again.
                tracing::warn!(message = %d.id, error = %e, "an e-mail could not be sent");
            }
        });
    }
    while sends.join_next().await.is_some() {}
    Ok(n)
}

/// E-mails waiting to be sent, across every host.
pub async fn pending(shop: &Shop) -> Result<i64> {
    Ok(store::pending(&shop.db).await?)
}

/// Seals a token for the e-mail that carries it.
pub fn seal_token(shop: &Shop, merchant_id: &str, token: &str) -> String {
    shop.secrets.seal(token, &format!("email:{merchant_id}"))
}
