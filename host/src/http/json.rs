//! Request body, path and query extractors whose rejections are
//! problem+json: malformed JSON is 400 `invalid_json`; a body or a query of
//! the wrong shape is 422 `validation_failed` naming the field the same
//! way (`lines[0].quantity`, `limit`) in words, not Rust types; a wrong
//! content type 415, a body over the limit 413 `payload_too_large`, a path
//! segment that is not UTF-8 400 `invalid_path`.
//!
//! No text reaches the commerce core (or a database) with a control
//! character in it: NUL, the C0 controls other than tab, line feed and
//! carriage return, DEL and the C1 controls are refused with 422 naming
//! the field, in bodies and queries alike, and with 400 `invalid_path` in
//! a path. PostgreSQL cannot store NUL in text and SQLite's full-text
//! syntax ends a string at it, so they are refused, not stripped: a
//! stripped value would not be what the client sent.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::error::ApiError;
use crate::commerce::Page;

/// A JSON body.
pub struct ApiJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        require_json(&req)?;
        parse_json(&body(req, state).await?).map(ApiJson)
    }
}

/// A JSON body that may be left out (empty, or `null`): then `T::default()`.
pub struct OptionalJson<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Default> FromRequest<S> for OptionalJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let sent = req.headers().contains_key(header::CONTENT_TYPE);
        if sent {
            require_json(&req)?;
        }
        let bytes = body(req, state).await?;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(OptionalJson(T::default()));
        }
        if !sent {
            return Err(not_json());
        }
        Ok(OptionalJson(parse_json::<Option<T>>(&bytes)?.unwrap_or_default()))
    }
}

/// A raw body (webhooks sign the exact bytes), within the size limit.
pub struct RawBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        body(req, state).await.map(RawBody)
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => {
                let raw = axum::extract::RawPathParams::from_request_parts(parts, state).await;
                if raw.iter().flatten().any(|(_, v)| v.chars().any(forbidden_char)) {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_path",
                        "a path segment holds a control character",
                    ));
                }
                Ok(ApiPath(value))
            }
            // A route whose handler wants other parameters than it has.
            Err(e) if e.status().is_server_error() => {
                Err(crate::commerce::Error::Internal(anyhow::anyhow!(e.body_text())).into())
            }
            Err(e) => Err(ApiError::new(StatusCode::BAD_REQUEST, "invalid_path", e.body_text())),
        }
    }
}

fn not_json() -> ApiError {
    ApiError::new(
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
        "send a JSON body with Content-Type: application/json",
    )
}

fn require_json(req: &Request) -> Result<(), ApiError> {
    let json = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json") || v.contains("+json"));
    if json { Ok(()) } else { Err(not_json()) }
}

/// The body, within the size limit.
async fn body<S: Send + Sync>(req: Request, state: &S) -> Result<Bytes, ApiError> {
    Bytes::from_request(req, state).await.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", "the request body is too large")
        } else {
            ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text())
        }
    })
}

/// Whether `c` is a control character no text input may hold.
pub fn forbidden_char(c: char) -> bool {
    c.is_control() && !matches!(c, '\t' | '\n' | '\r')
}

/// The path (`a.b[0]`) of the first string in `v` holding a forbidden
/// character, keys included.
fn forbidden_path(v: &serde_json::Value, at: &mut String) -> Option<String> {
    use serde_json::Value;
    let bad = |s: &str| s.chars().any(forbidden_char);
    match v {
        Value::String(s) if bad(s) => Some(at.clone()),
        Value::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let len = at.len();
            at.push_str(&format!("[{i}]"));
            let found = forbidden_path(item, at);
            at.truncate(len);
            found
        }),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            let len = at.len();
            if !at.is_empty() {
                at.push('.');
            }
            at.push_str(k);
            let found = if bad(k) { Some(at.clone()) } else { forbidden_path(item, at) };
            at.truncate(len);
            found
        }),
        _ => None,
    }
}

fn control_character(field: &str) -> ApiError {
    ApiError::field(
        field,
        "must not contain control characters (NUL, U+0001-U+001F other than tab and line breaks, DEL, U+0080-U+009F)",
    )
}

/// Parses a JSON document, naming the field that does not fit.
pub fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, ApiError> {
    // JSON text holds control characters only as `\u` escapes: look closer
    // only when there is one.
    if bytes.windows(2).any(|w| w == b"\\u")
        && let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes)
        && let Some(path) = forbidden_path(&v, &mut String::new())
    {
        return Err(control_character(if path.is_empty() { "body" } else { &path }));
    }
    let de = &mut serde_json::Deserializer::from_slice(bytes);
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let inner = e.into_inner();
        if inner.is_syntax() || inner.is_eof() {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_json",
                format!("the body is not valid JSON: {inner}"),
            )
        } else {
            let field = if path == "." { "body".to_owned() } else { path };
            ApiError::field(&field, &in_words(&inner.to_string()))
        }
    })
}

/// A deserializer's message said without Rust: no type names, no
/// positions (`invalid type: string "x", expected i64 at line 1` ->
/// `invalid type: string "x", expected an integer`).
fn in_words(msg: &str) -> String {
    let msg = match msg.find(" at line ") {
        Some(i) => &msg[..i],
        None => msg,
    };
    const WORDS: &[(&str, &str)] = &[
        ("expected struct ", "expected an object"),
        ("expected enum ", "expected one of its values"),
        ("expected a sequence", "expected a list"),
        ("expected a map", "expected an object"),
        ("invalid digit found in string", "expected a whole number"),
        ("number too large to fit in target type", "expected a smaller number"),
        ("number too small to fit in target type", "expected a larger number"),
        ("cannot parse integer from empty string", "expected a whole number"),
        ("provided string was not `true` or `false`", "expected true or false"),
    ];
    let mut out = msg.to_owned();
    for (from, to) in WORDS {
        if let Some(i) = out.find(from) {
            // A type name follows "struct " and "enum ": drop it.
            let end = if from.ends_with(' ') {
                out[i + from.len()..]
                    .find(|c: char| !c.is_alphanumeric() && c != '_')
                    .map_or(out.len(), |e| i + from.len() + e)
            } else {
                i + from.len()
            };
            out.replace_range(i..end, to);
        }
    }
    for ty in ["i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize"] {
        out = out.replace(&format!("expected {ty}"), "expected an integer");
    }
    for ty in ["f32", "f64"] {
        out = out.replace(&format!("expected {ty}"), "expected a number");
    }
    out.replace("expected a string", "expected text").replace("expected a boolean", "expected true or false")
}

/// Query parameters.
pub struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        parse_query(parts.uri.query().unwrap_or_default()).map(ApiQuery)
    }
}

/// Parses a query string, naming the parameter that does not fit, as
/// [`parse_json`] names a body's field.
pub fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key.chars().chain(value.chars()).any(forbidden_char) {
            return Err(control_character(&key));
        }
    }
    let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(de).map_err(|e| {
        let path = e.path().to_string();
        let field = if path == "." { "query".to_owned() } else { path };
        ApiError::field(&field, &in_words(&e.into_inner().to_string()))
    })
}

/// Cursor pagination.
#[derive(Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// From the previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1 to 100, default 20.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<u32>,
}

impl PageQuery {
    /// The page asked for, checked.
    pub fn page(&self) -> Result<Page, ApiError> {
        Ok(Page::parse(self.cursor.as_deref(), self.limit)?)
    }
}
