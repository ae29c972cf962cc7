//! A blocking HTTP client for payment plugins, over `wasi:http`.
//!
//! ```ignore
//! use mercato_sdk::http_client::{self, Request};
//!
//! let request = Request::post_json("https://psp.example/v1/payments", &body)?
//!     .header("authorization", format!("Bearer {}", config.api_key))
//!     .header("idempotency-key", &request.idempotency_key);
//! let response = http_client::send(&request)?;
//! if response.is_success() {
//!     let payment: Payment = response.json()?;
//! }
//! ```
//!
//! The host lets a request through only to destinations the operator allowed
//! for the plugin; any other one fails with [`HttpError::Denied`]. Redirects
//! are not followed: a 3xx answer is returned like any other response.
//! `?` turns an [`HttpError`] into a [`PluginError`] (`network_denied` or
//! `outcome_unknown`: the request may have reached the provider, so the host
//! asks again later with the same idempotency key).

use std::fmt;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::__private::payment::wasi::http::outgoing_handler;
use crate::__private::payment::wasi::http::types::{self, ErrorCode};
use crate::__private::payment::wasi::io::streams::StreamError;
use crate::PluginError;

/// `blocking-write-and-flush` accepts at most this many bytes per call.
const WRITE_CHUNK: usize = 4096;
/// How much one read of the response body asks for.
const READ_CHUNK: u64 = 64 * 1024;

/// An HTTP method.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Method {
    /// `GET`.
    Get,
    /// `POST`.
    Post,
    /// `PUT`.
    Put,
    /// `DELETE`.
    Delete,
    /// `PATCH`.
    Patch,
}

impl Method {
    /// The method's name, `"GET"`, `"POST"`, …
    pub fn as_str(&self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Delete => "DELETE",
            Method::Patch => "PATCH",
        }
    }

    fn to_wasi(self) -> types::Method {
        match self {
            Method::Get => types::Method::Get,
            Method::Post => types::Method::Post,
            Method::Put => types::Method::Put,
            Method::Delete => types::Method::Delete,
            Method::Patch => types::Method::Patch,
        }
    }

    /// Whether a request with this method carries a body (and so a
    /// `content-length`, even an empty one).
    fn has_body(self) -> bool {
        matches!(self, Method::Post | Method::Put | Method::Patch)
    }
}

impl fmt::Display for Method {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A request to send with [`send`].
#[derive(Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// An absolute `http://` or `https://` URL; a `#fragment` is not sent.
    pub url: String,
    /// Header names and values, sent in this order. `content-length` is
    /// added when missing.
    pub headers: Vec<(String, String)>,
    /// The body; empty for none.
    pub body: Vec<u8>,
}

impl Request {
    /// A request without headers or body.
    pub fn new(method: Method, url: impl Into<String>) -> Request {
        Request { method, url: url.into(), headers: Vec::new(), body: Vec::new() }
    }

    /// A `GET` request.
    pub fn get(url: impl Into<String>) -> Request {
        Request::new(Method::Get, url)
    }

    /// A `POST` of `body` as JSON, with `content-type: application/json`.
    /// Fails only when `body` cannot be written as JSON (a map whose keys
    /// are not strings, a failing `Serialize` implementation).
    pub fn post_json(url: impl Into<String>, body: &impl Serialize) -> Result<Request, HttpError> {
        let json = serde_json::to_vec(body)
            .map_err(|e| HttpError::Other(format!("the request body cannot be written as JSON: {e}")))?;
        let mut request = Request::new(Method::Post, url).header("content-type", "application/json");
        request.body = json;
        Ok(request)
    }

    /// The same request with one more header (a header already there is kept).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Request {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Credentials stay out of logs and panic messages.
impl fmt::Debug for Request {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self
            .headers
            .iter()
            .map(|(name, value)| {
                let secret =
                    ["authorization", "proxy-authorization"].iter().any(|s| name.eq_ignore_ascii_case(s));
                (name.as_str(), if secret { "<redacted>" } else { value.as_str() })
            })
            .collect();
        f.debug_struct("Request")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("headers", &headers)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// The answer to a [`Request`], whatever its status.
#[derive(Clone, PartialEq, Eq, Debug)]
pub struct Response {
    /// The status code; a 3xx is returned as is, redirects are not followed.
    pub status: u16,
    /// Header names (lowercase) and values, in the order received; a value
    /// that is not UTF-8 is read lossily.
    pub headers: Vec<(String, String)>,
    /// The whole body.
    pub body: Vec<u8>,
}

impl Response {
    /// A 2xx status.
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The first value of a header, its name in any case.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body parsed as JSON, whatever the status.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            HttpError::Other(format!(
                "the body of the {} response is not the expected JSON: {e}",
                self.status
            ))
        })
    }
}

/// Why a request got no response.
#[derive(Clone, PartialEq, Eq, Debug)]
pub enum HttpError {
    /// The host refused the request: the operator has not allowed this
    /// destination for the plugin (`HTTP-request-denied`).
    Denied {
        /// The destination as the URL names it, `host` or `host:port`.
        host: String,
    },
    /// The connection, the response or the DNS lookup took too long.
    Timeout,
    /// The request or the response is larger than the host allows.
    TooLarge,
    /// Any other failure: an invalid URL or header, a refused connection, a
    /// TLS error… (with the `wasi:http` error code when there is one).
    Other(String),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Denied { host } => write!(
                f,
                "the host refused the request to {host}: this destination is not allowed for the plugin, \
                 and the operator must allow it"
            ),
            HttpError::Timeout => f.write_str("the request timed out"),
            HttpError::TooLarge => {
                f.write_str("the request or its response is over the size the host allows")
            }
            HttpError::Other(message) => f.write_str(message),
        }
    }
}

impl std::error::Error for HttpError {}

/// `network_denied` for [`HttpError::Denied`], `outcome_unknown` otherwise;
/// the message is the error's text.
impl From<HttpError> for PluginError {
    fn from(e: HttpError) -> PluginError {
        match e {
            // Refused before anything was sent.
            HttpError::Denied { .. } => PluginError::new("network_denied", e.to_string()),
            // The request may have reached the provider.
            _ => PluginError::outcome_unknown(e.to_string()),
        }
    }
}

impl HttpError {
    fn from_code(code: ErrorCode, host: &str) -> HttpError {
        use ErrorCode as E;
        match code {
            E::HttpRequestDenied => HttpError::Denied { host: host.to_owned() },
            E::DnsTimeout
            | E::ConnectionTimeout
            | E::ConnectionReadTimeout
            | E::ConnectionWriteTimeout
            | E::HttpResponseTimeout => HttpError::Timeout,
            E::HttpRequestBodySize(_)
            | E::HttpRequestHeaderSectionSize(_)
            | E::HttpRequestHeaderSize(_)
            | E::HttpRequestTrailerSectionSize(_)
            | E::HttpRequestTrailerSize(_)
            | E::HttpRequestUriTooLong
            | E::HttpResponseHeaderSectionSize(_)
            | E::HttpResponseHeaderSize(_)
            | E::HttpResponseBodySize(_)
            | E::HttpResponseTrailerSectionSize(_)
            | E::HttpResponseTrailerSize(_) => HttpError::TooLarge,
            other => HttpError::Other(format!("the request to {host} failed: {other:?}")),
        }
    }

    fn from_stream(e: StreamError, host: &str) -> HttpError {
        match e {
            StreamError::Closed => HttpError::Other(format!("the connection to {host} closed early")),
            StreamError::LastOperationFailed(e) => match types::http_error_code(&e) {
                Some(code) => HttpError::from_code(code, host),
                None => HttpError::Other(format!("the request to {host} failed: {}", e.to_debug_string())),
            },
        }
    }
}

/// Splits an absolute URL into (https?, authority, path with query).
fn split_url(url: &str) -> Result<(bool, &str, String), &'static str> {
    if url.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err("it contains spaces or control characters");
    }
    let (scheme, rest) = url.split_once("://").ok_or("it is not absolute (scheme://host/path)")?;
    let https = if scheme.eq_ignore_ascii_case("https") {
        true
    } else if scheme.eq_ignore_ascii_case("http") {
        false
    } else {
        return Err("only http and https are supported");
    };
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let (authority, path) = rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len()));
    if authority.is_empty() {
        return Err("it names no host");
    }
    if authority.contains('@') {
        return Err("credentials in URLs are not supported: send them in a header");
    }
    let path = match path {
        "" => "/".to_owned(),
        query if query.starts_with('?') => format!("/{query}"),
        path => path.to_owned(),
    };
    Ok((https, authority, path))
}

/// Sends a request and waits for the whole response.
///
/// Blocks the call until the response has arrived or failed; the host's
/// limits on the plugin call (deadline, memory) still apply while waiting.
pub fn send(req: &Request) -> Result<Response, HttpError> {
    let (https, host, path) =
        split_url(&req.url).map_err(|why| HttpError::Other(format!("invalid URL {:?}: {why}", req.url)))?;
    let invalid = |what: &str| HttpError::Other(format!("the request to {host} is invalid: {what}"));

    let mut fields: Vec<(String, Vec<u8>)> =
        req.headers.iter().map(|(name, value)| (name.clone(), value.clone().into_bytes())).collect();
    let has_length = req.headers.iter().any(|(name, _)| name.eq_ignore_ascii_case("content-length"));
    if !has_length && (req.method.has_body() || !req.body.is_empty()) {
        fields.push(("content-length".to_owned(), req.body.len().to_string().into_bytes()));
    }
    let headers = types::Fields::from_list(&fields).map_err(|e| invalid(&format!("headers: {e:?}")))?;

    let request = types::OutgoingRequest::new(headers);
    request.set_method(&req.method.to_wasi()).map_err(|()| invalid("method"))?;
    let scheme = if https { types::Scheme::Https } else { types::Scheme::Http };
    request.set_scheme(Some(&scheme)).map_err(|()| invalid("scheme"))?;
    request.set_authority(Some(host)).map_err(|()| invalid("authority"))?;
    request.set_path_with_query(Some(&path)).map_err(|()| invalid("path"))?;
    let body = request.body().map_err(|()| invalid("body taken twice"))?;

    // The host reads the body while it sends the request: write it after
    // `handle`, or a body larger than the host's buffer would wait forever.
    let future = outgoing_handler::handle(request, None).map_err(|code| HttpError::from_code(code, host))?;
    let sent = write_body(&body, &req.body, host).and_then(|()| {
        types::OutgoingBody::finish(body, None).map_err(|code| HttpError::from_code(code, host))
    });

    future.subscribe().block();
    let response = match future.get() {
        Some(Ok(Ok(response))) => response,
        // The request's own error (a refusal, a timeout) says more than the
        // failed write it caused.
        Some(Ok(Err(code))) => return Err(HttpError::from_code(code, host)),
        Some(Err(())) => return Err(HttpError::Other("the response was taken twice".into())),
        None => return Err(HttpError::Other(format!("no response from {host} after waiting for it"))),
    };
    // A request whose body did not go out whole failed, whatever came back.
    sent?;

    let status = response.status();
    let headers = {
        let fields = response.headers();
        fields
            .entries()
            .into_iter()
            .map(|(name, value)| (name.to_ascii_lowercase(), String::from_utf8_lossy(&value).into_owned()))
            .collect()
    };
    let body = read_body(&response, host)?;
    Ok(Response { status, headers, body })
}

/// Writes `bytes` to the request body in chunks the stream accepts.
fn write_body(body: &types::OutgoingBody, bytes: &[u8], host: &str) -> Result<(), HttpError> {
    let stream = body.write().map_err(|()| HttpError::Other("the request body was taken twice".into()))?;
    let mut rest = bytes;
    while !rest.is_empty() {
        let ready = stream.check_write().map_err(|e| HttpError::from_stream(e, host))?;
        if ready == 0 {
            stream.subscribe().block();
            continue;
        }
        let n = rest.len().min(WRITE_CHUNK).min(usize::try_from(ready).unwrap_or(usize::MAX));
        stream.blocking_write_and_flush(&rest[..n]).map_err(|e| HttpError::from_stream(e, host))?;
        rest = &rest[n..];
    }
    // The stream is dropped here, before the body is finished.
    Ok(())
}

/// Reads the whole response body.
fn read_body(response: &types::IncomingResponse, host: &str) -> Result<Vec<u8>, HttpError> {
    let body =
        response.consume().map_err(|()| HttpError::Other("the response body was taken twice".into()))?;
    let stream = body.stream().map_err(|()| HttpError::Other("the response body was taken twice".into()))?;
    let mut out = Vec::new();
    loop {
        match stream.blocking_read(READ_CHUNK) {
            Ok(chunk) => out.extend_from_slice(&chunk),
            Err(StreamError::Closed) => break,
            Err(e) => return Err(HttpError::from_stream(e, host)),
        }
    }
    // Locals drop in reverse order: the stream before its body, as required.
    Ok(out)
}
