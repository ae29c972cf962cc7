//! Outgoing HTTP for payment plugins: only to the hosts the operator
//! allowed for the plugin, exact host and port.
//!
//! Every request a plugin makes through `wasi:http/outgoing-handler` passes
//! [`NetworkHooks::send_request`]:
//! - its `host:port` (the port from the scheme when absent) must be on the
//!   plugin's list, else it is refused (`HTTP-request-denied` to the plugin,
//!   and the call's failure names the host);
//! - a listed name must resolve to public addresses only: loopback, private,
//!   link-local and other special ranges are refused unless the address
//!   itself is listed (`127.0.0.1:8080`);
//! - redirects are never followed by the host: a 3xx goes back to the
//!   plugin, and a request it makes to the new location is checked again;
//! - request and response bodies are capped at [`MAX_BODY_BYTES`], and each
//!   request has [`CONNECT_TIMEOUT`] to connect and [`REQUEST_TIMEOUT`] in all.
//!
//! A name is checked when the request is made and resolved again to
//! connect; a host whose DNS its owner turns to a private address between
//! the two could slip through once. The list names hosts the operator
//! trusts, so that owner is one the operator chose.

use std::fmt;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use http_body_util::BodyExt;
use wasmtime_wasi_http::{Error as HttpError, RequestOptions, WasiBody, WasiHttpHooks};

/// Bytes a request body, and a response body, may have.
pub const MAX_BODY_BYTES: u64 = 1 << 20;
/// Time to open the connection (TLS included).
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Time for a whole request, from connecting to the response's head.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Most hosts on one plugin's list.
pub const MAX_ALLOWED_HOSTS: usize = 20;

/// A destination: a lowercase DNS name or an IP address, and a port.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct HostPort {
    host: String,
    port: u16,
}

impl HostPort {
    /// Parses `host:port` (`[v6]:port` for IPv6). The port is required.
    pub fn parse(s: &str) -> Result<HostPort, String> {
        let s = s.trim();
        let (host, port) = s.rsplit_once(':').ok_or("must be host:port, e.g. \"psp.example:443\"")?;
        let port: u16 = port.parse().ok().filter(|p| *p > 0).ok_or("the port must be 1 to 65535")?;
        let host = host.to_ascii_lowercase();
        if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            let ip: std::net::Ipv6Addr = v6.parse().map_err(|_| "is not an IPv6 address in brackets")?;
            return Ok(HostPort { host: ip.to_string(), port });
        }
        let name_ok = !host.is_empty()
            && host.len() <= 253
            && host.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !name_ok {
            return Err("the host must be a DNS name or an IP address".into());
        }
        Ok(HostPort { host, port })
    }

    /// Where a request goes: the URI's host and port (the scheme's when absent).
    fn of_uri(uri: &http::Uri) -> Result<HostPort, String> {
        let https = uri.scheme() == Some(&http::uri::Scheme::HTTPS);
        let port = uri.port_u16().unwrap_or(if https { 443 } else { 80 });
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        match host.parse::<IpAddr>() {
            Ok(ip) => Ok(HostPort { host: ip.to_string(), port }),
            Err(_) => HostPort::parse(&format!("{host}:{port}")),
        }
    }

    /// The address it names, when it is an IP literal.
    fn ip(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

impl fmt::Display for HostPort {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ip() {
            Some(IpAddr::V6(ip)) => write!(f, "[{ip}]:{}", self.port),
            _ => write!(f, "{}:{}", self.host, self.port),
        }
    }
}

/// Whether an address is one anybody on the internet reaches: not loopback,
/// private, link-local, shared, documentation, multicast or unspecified.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_multicast()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// Requests and bytes of one plugin's calls, refused requests included.
#[derive(Debug, Default)]
pub struct NetworkStats {
    requests: AtomicU64,
    refused: AtomicU64,
    bytes_sent: AtomicU64,
    bytes_received: AtomicU64,
}

/// [`NetworkStats`] at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NetworkSnapshot {
    /// Requests sent.
    pub requests: u64,
    /// Requests refused before anything was sent.
    pub refused: u64,
    /// Request body bytes sent.
    pub bytes_sent: u64,
    /// Response body bytes received.
    pub bytes_received: u64,
}

impl NetworkStats {
    /// The counts now.
    pub fn snapshot(&self) -> NetworkSnapshot {
        NetworkSnapshot {
            requests: self.requests.load(Ordering::Relaxed),
            refused: self.refused.load(Ordering::Relaxed),
            bytes_sent: self.bytes_sent.load(Ordering::Relaxed),
            bytes_received: self.bytes_received.load(Ordering::Relaxed),
        }
    }
}

/// What one call's requests may reach and where they are counted.
#[derive(Clone)]
pub(crate) struct NetworkAccess {
    pub allowed: Arc<Vec<HostPort>>,
    pub stats: Arc<NetworkStats>,
}

/// The `wasi:http` hooks of one call. Without access every request is refused.
#[derive(Default)]
pub(crate) struct NetworkHooks {
    access: Option<NetworkAccess>,
    /// The first destination refused during the call, with why.
    refused: Arc<Mutex<Option<String>>>,
}

impl NetworkHooks {
    pub fn new(access: Option<NetworkAccess>) -> NetworkHooks {
        NetworkHooks { access, refused: Arc::default() }
    }

    /// The first request the call was refused, if any: "`host:port` (why)".
    pub fn refused(&self) -> Option<String> {
        self.refused.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

/// Options within the host's own timeouts.
fn bounded(options: Option<RequestOptions>) -> RequestOptions {
    let o = options.unwrap_or_default();
    let min = |asked: Option<Duration>, most: Duration| Some(asked.map_or(most, |a| a.min(most)));
    RequestOptions {
        connect_timeout: min(o.connect_timeout, CONNECT_TIMEOUT),
        first_byte_timeout: min(o.first_byte_timeout, REQUEST_TIMEOUT),
        between_bytes_timeout: min(o.between_bytes_timeout, REQUEST_TIMEOUT),
    }
}

type Sent = (http::Response<WasiBody>, Box<dyn Future<Output = Result<(), HttpError>> + Send>);

impl WasiHttpHooks for NetworkHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), HttpError>> + Send>,
    ) -> Box<dyn Future<Output = wasmtime_wasi_http::Result<Sent>> + Send> {
        let (access, refused) = (self.access.clone(), self.refused.clone());
        Box::new(async move {
            let refuse = |target: String, why: &str| {
                let mut first = refused.lock().unwrap_or_else(|p| p.into_inner());
                first.get_or_insert_with(|| format!("{target} ({why})"));
                HttpError::HttpRequestDenied
            };
            let target = HostPort::of_uri(request.uri());
            let shown = target.as_ref().map_or_else(|_| request.uri().to_string(), ToString::to_string);
            let Some(access) = access else {
                return Err(refuse(shown, "this plugin may not use the network"));
            };
            let count_refused = || access.stats.refused.fetch_add(1, Ordering::Relaxed);
            let Some(target) = target.ok().filter(|t| access.allowed.contains(t)) else {
                count_refused();
                return Err(refuse(shown, "not on the plugin's allowed hosts"));
            };
            if target.ip().is_none() {
                let addresses = tokio::net::lookup_host((target.host.as_str(), target.port))
                    .await
                    .map_err(|e| HttpError::DnsError { rcode: Some(e.to_string()), info_code: None })?;
                if let Some(ip) = addresses.map(|a| a.ip()).find(|ip| !is_public(*ip)) {
                    count_refused();
                    let why =
                        format!("resolves to {ip}, which is not public; list the address itself to allow it");
                    return Err(refuse(target.to_string(), &why));
                }
            }
            // A body declared over the cap is refused before connecting; one
            // that turns out over it is cut off at the cap.
            let declared = request
                .headers()
                .get(http::header::CONTENT_LENGTH)
                .and_then(|v| v.to_str().ok()?.parse::<u64>().ok())
                .unwrap_or(0)
                .max(request.body().size_hint().lower());
            if declared > MAX_BODY_BYTES {
                count_refused();
                return Err(HttpError::HttpRequestBodySize(Some(declared)));
            }
            access.stats.requests.fetch_add(1, Ordering::Relaxed);
            let stats = access.stats.clone();
            let request = request.map(|body| {
                Capped {
                    inner: body,
                    seen: 0,
                    stats: stats.clone(),
                    sent: true,
                    too_large: HttpError::HttpRequestBodySize,
                }
                .boxed_unsync()
            });
            let sent = wasmtime_wasi_http::default_send_request(request, Some(bounded(options)));
            let (response, io) = tokio::time::timeout(REQUEST_TIMEOUT, sent)
                .await
                .map_err(|_| HttpError::ConnectionReadTimeout)??;
            if let Some(len) = response.body().size_hint().exact().filter(|l| *l > MAX_BODY_BYTES) {
                return Err(HttpError::HttpResponseBodySize(Some(len)));
            }
            let response = response.map(|body| {
                Capped {
                    inner: body,
                    seen: 0,
                    stats,
                    sent: false,
                    too_large: HttpError::HttpResponseBodySize,
                }
                .boxed_unsync()
            });
            Ok((response, Box::new(io) as Box<dyn Future<Output = _> + Send>))
        })
    }
}

/// A body that counts its bytes and fails past [`MAX_BODY_BYTES`].
struct Capped<B> {
    inner: B,
    seen: u64,
    stats: Arc<NetworkStats>,
    /// A request body (counted as sent) or a response body (received).
    sent: bool,
    too_large: fn(Option<u64>) -> HttpError,
}

impl<B: Body<Data = Bytes, Error = HttpError> + Unpin> Body for Capped<B> {
    type Data = Bytes;
    type Error = HttpError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, HttpError>>> {
        let frame = std::task::ready!(Pin::new(&mut self.inner).poll_frame(cx));
        if let Some(Ok(f)) = &frame
            && let Some(data) = f.data_ref()
        {
            let n = data.len() as u64;
            self.seen += n;
            let counter = if self.sent { &self.stats.bytes_sent } else { &self.stats.bytes_received };
            counter.fetch_add(n, Ordering::Relaxed);
            if self.seen > MAX_BODY_BYTES {
                return Poll::Ready(Some(Err((self.too_large)(Some(self.seen)))));
            }
        }
        Poll::Ready(frame)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_exactly() {
        let h = HostPort::parse("PSP.Example:443").unwrap();
        assert_eq!(h.to_string(), "psp.example:443");
        assert_eq!(HostPort::parse("[::1]:8443").unwrap().to_string(), "[::1]:8443");
        assert_eq!(HostPort::parse("127.0.0.1:80").unwrap().ip(), Some(IpAddr::from([127, 0, 0, 1])));
        for bad in
            ["psp.example", "psp.example:0", "psp.example:99999", ":443", "a b:443", "-x.example:1", "[zz]:1"]
        {
            assert!(HostPort::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_request_goes_to_its_host_and_the_schemes_port() {
        let of = |u: &str| HostPort::of_uri(&u.parse().unwrap()).unwrap().to_string();
        assert_eq!(of("https://PSP.example/v1/payments"), "psp.example:443");
        assert_eq!(of("http://psp.example/x"), "psp.example:80");
        assert_eq!(of("http://127.0.0.1:8080/x"), "127.0.0.1:8080");
        assert_eq!(of("https://[::1]:8443/x"), "[::1]:8443");
    }

    #[test]
    fn only_public_addresses_are_public() {
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:10.0.0.1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "1.1.1.1", "2606:4700:4700::1111"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn plugin_timeouts_never_exceed_the_hosts() {
        let o = bounded(Some(RequestOptions {
            connect_timeout: Some(Duration::from_secs(60)),
            first_byte_timeout: Some(Duration::from_millis(5)),
            between_bytes_timeout: None,
        }));
        assert_eq!(o.connect_timeout, Some(CONNECT_TIMEOUT));
        assert_eq!(o.first_byte_timeout, Some(Duration::from_millis(5)));
        assert_eq!(o.between_bytes_timeout, Some(REQUEST_TIMEOUT));
    }
}
