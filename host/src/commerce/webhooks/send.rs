//! Sending one webhook: signed, to a public address only (unless the
//! operator allows private ones), redirects not followed, bounded in time
//! and in what is read back.
//!
//! A destination is checked twice: its URL when the merchant saves it (an
//! IP address in it must be public), and every address its name resolves
//! to each time a connection is made, so a name that later points at a
//! private address (DNS rebinding) is refused too.

use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::header::{CONTENT_TYPE, HeaderName, USER_AGENT};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::dns::Name;
use hyper_util::rt::TokioExecutor;
use sha2::Sha256;

use crate::runtime::is_public;

/// Most of an answer kept in the delivery log.
pub const SNIPPET_BYTES: usize = 1024;

/// Resolves names like the system does, refusing any name with an answer
/// in a private, loopback or link-local range (unless allowed).
#[derive(Clone)]
pub struct GuardedResolver {
    allow_private: bool,
}

impl tower::Service<Name> for GuardedResolver {
    type Response = std::vec::IntoIter<SocketAddr>;
    type Error = std::io::Error;
    type Future = Pin<Box<dyn Future<Output = std::io::Result<Self::Response>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, name: Name) -> Self::Future {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            if !allow_private && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
                return Err(std::io::Error::new(
                    std::io::ErrorKind::PermissionDenied,
                    format!("{name} resolves to {}, a private address", bad.ip()),
                ));
            }
            Ok(addrs.into_iter())
        })
    }
}

type Pool = HttpClient<hyper_rustls::HttpsConnector<HttpConnector<GuardedResolver>>, Full<Bytes>>;

/// The host's webhook client: one pool of connections for every endpoint.
#[derive(Clone)]
pub struct Sender {
    http: Pool,
    allow_private: bool,
    timeout: Duration,
}

/// What an endpoint made of one request.
#[derive(Debug, Clone)]
pub struct Answer {
    /// Its HTTP status, if it answered.
    pub status: Option<u16>,
    /// The start of its answer.
    pub snippet: Option<String>,
    /// Why there is no 2xx answer.
    pub error: Option<String>,
    /// Worth trying again: a timeout, a connection that failed, 408, 429 or 5xx.
    pub retry: bool,
    pub latency: Duration,
}

impl Sender {
    /// A client that refuses private destinations unless `allow_private`,
    /// each request bounded by `timeout`.
    pub fn new(allow_private: bool, timeout: Duration) -> Sender {
        let mut http = HttpConnector::new_with_resolver(GuardedResolver { allow_private });
        http.enforce_http(false);
        http.set_connect_timeout(Some(timeout));
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let http =
            HttpClient::builder(TokioExecutor::new()).pool_idle_timeout(Duration::from_secs(30)).build(https);
        Sender { http, allow_private, timeout }
    }

    /// Whether destinations in private ranges are allowed.
    pub fn allows_private(&self) -> bool {
        self.allow_private
    }

    /// POSTs `body` to `url`, signed with `secret` as of `unix_secs`, with
    /// `headers` (the event's id and type, the delivery's id and attempt).
    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        unix_secs: i64,
        headers: &[(&'static str, String)],
        body: Bytes,
    ) -> Answer {
        let started = Instant::now();
        let failed = |error: String, retry: bool| Answer {
            status: None,
            snippet: None,
            error: Some(error),
            retry,
            latency: started.elapsed(),
        };
        if let Err(e) = check_destination(url, self.allow_private) {
            return failed(e, false);
        }
        let mut request = http::Request::post(url)
            .header(CONTENT_TYPE, "application/json")
            .header(USER_AGENT, concat!("mercato-webhooks/", env!("CARGO_PKG_VERSION")))
            .header(HeaderName::from_static("mercato-signature"), signature(secret, unix_secs, &body));
        for (name, value) in headers {
            request = request.header(HeaderName::from_static(name), value.as_str());
        }
        let request = match request.body(Full::new(body)) {
            Ok(r) => r,
            Err(e) => return failed(format!("the request could not be built: {e}"), false),
        };
        let exchange = async {
            let response = self.http.request(request).await.map_err(|e| chain(&e))?;
            let status = response.status();
            let mut body = response.into_body();
            let mut snippet = Vec::new();
            while snippet.len() < SNIPPET_BYTES {
                match body.frame().await {
                    Some(Ok(frame)) => {
                        if let Some(data) = frame.data_ref() {
                            snippet.extend_from_slice(&data[..data.len().min(SNIPPET_BYTES - snippet.len())]);
                        }
                    }
                    Some(Err(_)) | None => break,
                }
            }
            Ok::<_, String>((status, snippet))
        };
        let (status, snippet) = match tokio::time::timeout(self.timeout, exchange).await {
            Err(_) => return failed(format!("no answer within {} s", self.timeout.as_secs_f32()), true),
            Ok(Err(e)) => {
                let refused = e.contains("a private address");
                return failed(e, !refused);
            }
            Ok(Ok(answer)) => answer,
        };
        let code = status.as_u16();
        let snippet = (!snippet.is_empty()).then(|| String::from_utf8_lossy(&snippet).into_owned());
        let (error, retry) = match code {
            200..=299 => (None, false),
            300..=399 => (Some(format!("answered {code}: redirects are not followed")), false),
            408 | 429 | 500..=599 => (Some(format!("answered {code}")), true),
            _ => (Some(format!("answered {code}")), false),
        };
        Answer { status: Some(code), snippet, error, retry, latency: started.elapsed() }
    }
}

/// An error with its causes, as one line.
fn chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let part = s.to_string();
        if !text.contains(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = s.source();
    }
    text
}

/// `t=<unix seconds>,v1=<hex HMAC-SHA256 of "t.body">`.
pub fn signature(secret: &str, unix_secs: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(unix_secs.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("t={unix_secs},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `url` may be a destination: http or https, a host, no
/// credentials, and (unless private ones are allowed) not an address or
/// a name (`localhost`) in a private range. Names are checked again each
/// time they are resolved.
pub fn check_destination(url: &str, allow_private: bool) -> Result<url::Url, String> {
    if url.len() > 2048 {
        return Err("must be at most 2048 characters".into());
    }
    let parsed = url::Url::parse(url).map_err(|e| format!("is not a URL ({e})"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must be an http or https URL".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not carry credentials".into());
    }
    let private = match parsed.host() {
        None => return Err("must name a host".into()),
        Some(url::Host::Ipv4(ip)) => !is_public(IpAddr::V4(ip)),
        Some(url::Host::Ipv6(ip)) => !is_public(IpAddr::V6(ip)),
        Some(url::Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            name == "localhost" || name.ends_with(".localhost")
        }
    };
    if private && !allow_private {
        return Err("is a private, loopback or link-local address, which webhooks may not reach".into());
    }
    Ok(parsed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures_are_hmac_sha256_over_time_dot_body() {
        // Computed independently: printf '1700000000.{"a":1}' | openssl dgst -sha256 -hmac whsec_test
        let sig = signature("whsec_test", 1_700_000_000, br#"{"a":1}"#);
        assert_eq!(sig, "t=1700000000,v1=38877139021993b830af32feea6e18a8da83eb2f6e49ee50bd9e4cf4ca4d3789");
        assert_ne!(sig, signature("whsec_other", 1_700_000_000, br#"{"a":1}"#));
        assert_ne!(sig, signature("whsec_test", 1_700_000_001, br#"{"a":1}"#));
    }

    #[test]
    fn destinations_must_be_public_http() {
        for ok in ["https://hooks.example.com/in", "http://203.0.113.9.nip.io:8080/x", "https://8.8.8.8/h"] {
            assert!(check_destination(ok, false).is_ok(), "{ok}");
        }
        for bad in [
            "ftp://example.com/",
            "example.com/hook",
            "http://127.0.0.1:9/",
            "http://10.1.2.3/",
            "http://169.254.169.254/latest/meta-data",
            "http://[::1]/",
            "http://[fe80::1]/",
            "http://localhost:8080/",
            "http://api.localhost/",
            "http://user:pw@example.com/",
            "http://0.0.0.0/",
        ] {
            assert!(check_destination(bad, false).is_err(), "{bad}");
        }
        assert!(check_destination("http://127.0.0.1:9/", true).is_ok());
    }

    /// A name is checked on every resolution, whatever it is called.
    #[tokio::test]
    async fn names_resolving_to_private_addresses_are_refused() {
        use std::str::FromStr;
        use tower::Service;
        let name = Name::from_str("localhost").unwrap();
        let refused = GuardedResolver { allow_private: false }.call(name.clone()).await.unwrap_err();
        assert_eq!(refused.kind(), std::io::ErrorKind::PermissionDenied);
        assert!(refused.to_string().contains("a private address"), "{refused}");
        let allowed: Vec<SocketAddr> =
            GuardedResolver { allow_private: true }.call(name).await.unwrap().collect();
        assert!(allowed.iter().all(|a| a.ip().is_loopback()), "{allowed:?}");
    }
}
