//! Parse, don't validate: raw request strings become checked values here,
//! once, and the rest of the core trusts them.

use mercato_sdk::Currency;

/// A URL-safe lowercase name: merchant slugs, product and category handles.
pub fn slug(s: &str) -> Result<String, String> {
    let ok = (1..=100).contains(&s.len())
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-');
    if ok { Ok(s.to_owned()) } else { Err("must be 1-100 lowercase letters, digits and inner '-'".into()) }
}

/// A handle made from a title: "Blue T-Shirt (XL)" -> "blue-t-shirt-xl".
pub fn slugify(title: &str) -> String {
    let mut out = String::with_capacity(title.len());
    for c in title.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-').chars().take(100).collect::<String>();
    if out.is_empty() { "item".into() } else { out }
}

/// An ISO 4217 code this platform knows.
pub fn currency(s: &str) -> Result<Currency, String> {
    // Accepted in any case, answered upper-case (`Currency::code`).
    Currency::parse(&s.trim().to_ascii_uppercase()).map_err(|e| e.to_string())
}

/// An ISO 3166-1 alpha-2 country code, e.g. "US".
pub fn country(s: &str) -> Result<String, String> {
    let s = s.trim().to_ascii_uppercase();
    if s.len() == 2 && s.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(s)
    } else {
        Err("must be an ISO 3166-1 alpha-2 code such as \"US\"".into())
    }
}

/// An IANA time zone name, e.g. "Europe/Paris" or "UTC".
pub fn time_zone(s: &str) -> Result<String, String> {
    let s = s.trim();
    match jiff::tz::TimeZone::get(s) {
        Ok(_) if !s.is_empty() => Ok(s.to_owned()),
        _ => Err("must be an IANA time zone such as \"Europe/Paris\" or \"UTC\"".into()),
    }
}

/// Trimmed text of 1 to `max` characters.
pub fn text(s: &str, max: usize) -> Result<String, String> {
    let t = s.trim();
    if t.is_empty() {
        Err("must not be empty".into())
    } else if t.chars().count() > max {
        Err(format!("must be at most {max} characters"))
    } else {
        Ok(t.to_owned())
    }
}

/// An email address, lowercased: one '@', a dot in the domain, no spaces.
pub fn email(s: &str) -> Result<String, String> {
    let e = s.trim().to_lowercase();
    let valid = e.len() <= 254
        && !e.contains(char::is_whitespace)
        && e.split_once('@').is_some_and(|(local, domain)| {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !domain.contains('@')
        });
    if valid { Ok(e) } else { Err("is not an email address".into()) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parsing() {
        assert!(slug("acme-shop").is_ok());
        assert!(slug("Acme").is_err());
        assert!(slug("-x").is_err());
        assert_eq!(slugify("Blue T-Shirt (XL)"), "blue-t-shirt-xl");
        assert!(currency("EUR").is_ok());
        assert_eq!(currency(" eur ").unwrap().code(), "EUR", "any case, answered upper-case");
        assert!(currency("EURO").is_err());
        assert!(country("DE").is_ok());
        assert_eq!(country("de").unwrap(), "DE");
        assert!(country("D1").is_err() && country("DEU").is_err());
        assert_eq!(email(" Ada@Example.COM ").unwrap(), "ada@example.com");
        assert!(email("ada@example").is_err());
        assert!(email("a b@example.com").is_err());
    }
}
