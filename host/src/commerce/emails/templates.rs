//! Mercato's e-mail templates (a shop may replace any of them), the
//! sample each is previewed and checked with, and rendering.
//!
//! Templates are minijinja: `{{ order.number }}`, `{% for line in
//! order.lines %}`, and the `money` filter (`{{ order.total | money }}` is
//! `12.50 USD`). Values in the HTML body are HTML-escaped.

use minijinja::{Environment, UndefinedBehavior, Value as Jinja};
use serde_json::{Value, json};

use crate::model::emails::Rendered;

/// Mercato's (subject, text, html) for `kind`.
pub fn default(kind: &str) -> (&'static str, &'static str, &'static str) {
    match kind {
        "order_confirmation" => (
            "Order #{{ order.number }} confirmed",
            "Thank you for your order, placed with {{ shop.name }}.\n\nOrder #{{ order.number }}\n\
{% for line in order.lines %}{{ line.quantity }} x {{ line.title }} ({{ line.sku }}): {{ line.total | money }}\n{% endfor %}\n\
Subtotal: {{ order.subtotal | money }}\n{% if order.discount_total.amount %}Discounts: -{{ order.discount_total | money }}\n{% endif %}\
Shipping: {{ order.shipping_total | money }}\nTax: {{ order.tax_total | money }}\nTotal: {{ order.total | money }}\n",
            "<h1>Order #{{ order.number }} confirmed</h1><p>Thank you for your order, placed with {{ shop.name }}.</p>\
<table>{% for line in order.lines %}<tr><td>{{ line.quantity }} &times; {{ line.title }}</td><td>{{ line.total | money }}</td></tr>{% endfor %}\
<tr><td>Subtotal</td><td>{{ order.subtotal | money }}</td></tr>\
{% if order.discount_total.amount %}<tr><td>Discounts</td><td>-{{ order.discount_total | money }}</td></tr>{% endif %}\
<tr><td>Shipping</td><td>{{ order.shipping_total | money }}</td></tr><tr><td>Tax</td><td>{{ order.tax_total | money }}</td></tr>\
<tr><th>Total</th><th>{{ order.total | money }}</th></tr></table>",
        ),
        "order_shipped" => (
            "Order #{{ order.number }} is on its way",
            "Your order #{{ order.number }} from {{ shop.name }} has shipped{% if shipment.carrier %} with {{ shipment.carrier }}{% endif %}.\n\
{% if shipment.tracking_number %}Tracking number: {{ shipment.tracking_number }}\n{% endif %}",
            "<p>Your order #{{ order.number }} from {{ shop.name }} has shipped{% if shipment.carrier %} with {{ shipment.carrier }}{% endif %}.</p>\
{% if shipment.tracking_number %}<p>Tracking number: <strong>{{ shipment.tracking_number }}</strong></p>{% endif %}",
        ),
        "order_refunded" => (
            "Refund for order #{{ order.number }}",
            "{{ shop.name }} has refunded {{ refund.amount | money }} for order #{{ order.number }}.\n",
            "<p>{{ shop.name }} has refunded <strong>{{ refund.amount | money }}</strong> for order #{{ order.number }}.</p>",
        ),
        "customer_welcome" => (
            "Welcome to {{ shop.name }}",
            "Hello {{ customer.first_name }},\n\nyour account at {{ shop.name }} is ready.\n",
            "<p>Hello {{ customer.first_name }},</p><p>your account at {{ shop.name }} is ready.</p>",
        ),
        "password_reset" => (
            "Reset your password at {{ shop.name }}",
            "Hello {{ customer.first_name }},\n\nto choose a new password, {% if reset_url %}open {{ reset_url }}{% else %}use this code: {{ token }}{% endif %}\n\
It works once, within an hour. If you did not ask for it, ignore this e-mail.\n",
            "<p>Hello {{ customer.first_name }},</p><p>to choose a new password, {% if reset_url %}<a href=\"{{ reset_url }}\">open this link</a>{% else %}use this code: <code>{{ token }}</code>{% endif %}.</p>\
<p>It works once, within an hour. If you did not ask for it, ignore this e-mail.</p>",
        ),
        "cart_recovery" => (
            "You left something in your cart at {{ shop.name }}",
            "Your cart is waiting:\n{% for line in cart.lines %}{{ line.quantity }} x {{ line.title }}\n{% endfor %}\nPick up where you left off: {{ recover_url }}\n",
            "<p>Your cart is waiting:</p><ul>{% for line in cart.lines %}<li>{{ line.quantity }} &times; {{ line.title }}</li>{% endfor %}</ul>\
<p><a href=\"{{ recover_url }}\">Pick up where you left off</a></p>",
        ),
        _ => (
            "{% if stock.available <= 0 %}Out of stock{% else %}Low stock{% endif %}: {{ stock.sku }}",
            "{{ stock.sku }} has {{ stock.available }} available{% if stock.low_stock_threshold %} (threshold {{ stock.low_stock_threshold }}){% endif %}.\n",
            "<p><strong>{{ stock.sku }}</strong> has {{ stock.available }} available{% if stock.low_stock_threshold %} (threshold {{ stock.low_stock_threshold }}){% endif %}.</p>",
        ),
    }
}

/// What a template of `kind` is previewed and checked with.
pub fn sample(kind: &str) -> Value {
    let usd = |amount: i64| json!({"amount": amount, "currency": "USD"});
    let order = json!({
        "id": "ord_sample", "number": 1001, "email": "ada@example.com", "currency": "USD",
        "lines": [{"title": "Mug", "sku": "MUG", "quantity": 2, "unit_price": usd(1250), "total": usd(2500)}],
        "subtotal": usd(2500), "discount_total": usd(250), "shipping_total": usd(499), "tax_total": usd(180),
        "total": usd(2929), "shipping_address": {"name": "Ada Lovelace", "line1": "1 Main St", "city": "Springfield",
        "region": "CA", "postal_code": "12345", "country": "US"},
    });
    let mut ctx = json!({"shop": {"name": "Acme", "storefront_url": "https://shop.acme.example"}});
    let extra = match kind {
        "order_confirmation" => json!({"order": order}),
        "order_shipped" => {
            json!({"order": order, "shipment": {"carrier": "UPS", "tracking_number": "1Z999"}})
        }
        "order_refunded" => json!({"order": order, "refund": {"amount": usd(500)}}),
        "customer_welcome" => {
            json!({"customer": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}})
        }
        "password_reset" => {
            json!({"customer": {"first_name": "Ada", "email": "ada@example.com"}, "token": "prt_sample",
            "reset_url": "https://shop.acme.example/reset-password?token=prt_sample"})
        }
        "cart_recovery" => json!({"cart": {"lines": [{"title": "Mug", "quantity": 2}]},
            "recover_url": "https://shop.acme.example/cart/recover?token=crt_sample"}),
        _ => json!({"stock": {"sku": "MUG", "available": 3, "low_stock_threshold": 5}}),
    };
    if let (Some(ctx), Value::Object(extra)) = (ctx.as_object_mut(), extra) {
        ctx.extend(extra);
    }
    ctx
}

/// `{amount, currency}` as `12.50 USD`.
fn money(v: Jinja) -> Result<String, minijinja::Error> {
    let bad =
        || minijinja::Error::new(minijinja::ErrorKind::InvalidOperation, "money needs {amount, currency}");
    let amount = v.get_attr("amount")?.as_i64().ok_or_else(bad)?;
    let currency = v.get_attr("currency")?;
    let currency = currency.as_str().ok_or_else(bad)?;
    Ok(match mercato_sdk::Currency::parse(currency) {
        Ok(c) => format!("{} {currency}", mercato_sdk::Money::new(amount, c).to_major()),
        Err(_) => format!("{amount} {currency}"),
    })
}

/// Which part of a template failed, and how.
#[derive(Debug)]
pub struct RenderError {
    /// `subject`, `text` or `html`.
    pub field: &'static str,
    /// minijinja's message (with the line).
    pub message: String,
}

/// Renders a (subject, text, html) template with `ctx`. Printing an
/// undefined value is an error (testing one in `{% if %}` is not), so a
/// misspelt name is caught when the template is saved.
pub fn render((subject, text, html): (&str, &str, &str), ctx: &Value) -> Result<Rendered, RenderError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
    env.add_filter("money", money);
    let mut one = |field: &'static str, name: &'static str, source: &str| {
        let fail = |e: minijinja::Error| RenderError { field, message: e.to_string() };
        env.add_template_owned(name, source.to_owned()).map_err(fail)?;
        env.get_template(name).and_then(|t| t.render(ctx)).map_err(fail)
    };
    let subject = one("subject", "subject.txt", subject)?;
    let text = one("text", "body.txt", text)?;
    let html = one("html", "body.html", html)?;
    let subject = subject.lines().next().unwrap_or_default().trim().to_owned();
    if subject.is_empty() {
        return Err(RenderError { field: "subject", message: "renders empty".into() });
    }
    Ok(Rendered { subject, text, html })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_default_renders_its_sample() {
        for (kind, ..) in crate::model::emails::KINDS {
            let r = render(default(kind), &sample(kind)).unwrap_or_else(|e| panic!("{kind}: {e:?}"));
            assert!(!r.subject.is_empty() && !r.text.is_empty() && !r.html.is_empty(), "{kind}");
        }
        let r = render(default("order_confirmation"), &sample("order_confirmation")).unwrap();
        assert_eq!(r.subject, "Order #1001 confirmed");
        assert!(
            r.text.contains("2 x Mug (MUG): 25.00 USD") && r.text.contains("Total: 29.29 USD"),
            "{}",
            r.text
        );
    }

    #[test]
    fn html_is_escaped_and_broken_templates_name_their_part() {
        let ctx = json!({"shop": {"name": "<b>Acme</b>"}});
        let r = render(("Hi {{ shop.name }}", "{{ shop.name }}", "<p>{{ shop.name }}</p>"), &ctx).unwrap();
        assert_eq!(r.html, "<p>&lt;b&gt;Acme&lt;&#x2f;b&gt;</p>");
        assert_eq!(r.text, "<b>Acme</b>");
        let e = render(("ok", "{% for x in %}", "ok"), &ctx).unwrap_err();
        assert_eq!(e.field, "text");
        let e = render(("{{ shop.name | nope }}", "ok", "ok"), &ctx).unwrap_err();
        assert_eq!(e.field, "subject");
    }
}
