//! How Stripe is reached: async-stripe's requests (`stripe_core`) sent over
//! a pooled hyper client with rustls. async-stripe's own client (the
//! `async-stripe` crate) turns connection reuse off, so every payment would
//! open a new TCP connection and TLS session to Stripe; this one keeps them
//! for the next payment. Answers and errors are read as async-stripe reads
//! them.

use std::time::Duration;

use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderName, HeaderValue, USER_AGENT};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use stripe_client_core::{CustomizedStripeRequest, StripeClient, StripeClientErr, StripeMethod};

use crate::model::secret::Secret;

/// How long an idle connection to Stripe is kept for the next request.
const IDLE: Duration = Duration::from_secs(60);

/// Why a request to Stripe did not give an object.
#[derive(Debug, thiserror::Error)]
pub enum StripeError {
    /// Stripe answered with an error object, and this HTTP status.
    #[error("Stripe answered {1}: {0:?}")]
    Stripe(Box<stripe_shared::ApiErrors>, u16),
    /// The answer could not be read.
    #[error("Stripe's answer could not be read: {0}")]
    Unreadable(String),
    /// The request could not be sent, or its answer received.
    #[error("{0}")]
    Transport(String),
    /// No answer within the request's time.
    #[error("no answer in time")]
    Timeout,
}

impl StripeClientErr for StripeError {
    fn deserialize_err(msg: impl std::fmt::Display) -> Self {
        StripeError::Unreadable(msg.to_string())
    }
}

/// Connections to Stripe, shared by every merchant's client.
pub type Pool = HttpClient<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A merchant's Stripe client: its API key, over the host's shared pool.
#[derive(Clone)]
pub struct Client {
    http: Pool,
    base: String,
    authorization: HeaderValue,
    timeout: Duration,
}

/// An empty pool: https (or http, for a stand-in on loopback), HTTP/1.1.
pub fn pool() -> Pool {
    let https =
        hyper_rustls::HttpsConnectorBuilder::new().with_webpki_roots().https_or_http().enable_http1().build();
    HttpClient::builder(TokioExecutor::new()).pool_idle_timeout(IDLE).build(https)
}

impl Client {
    /// A client for the API key `key` at `base` (ending in `/`), each
    /// request bounded by `timeout`.
    pub fn new(http: &Pool, base: &str, key: &Secret, timeout: Duration) -> Result<Client, StripeError> {
        let mut authorization = HeaderValue::try_from(format!("Bearer {}", key.expose()))
            .map_err(|_| StripeError::Transport("the API key is not a valid header value".into()))?;
        authorization.set_sensitive(true);
        Ok(Client { http: http.clone(), base: base.to_owned(), authorization, timeout })
    }

    async fn send(
        &self,
        request: http::Request<Full<Bytes>>,
    ) -> Result<(http::StatusCode, Bytes), StripeError> {
        let response = self.http.request(request).await.map_err(|e| StripeError::Transport(e.to_string()))?;
        let status = response.status();
        let body = response.into_body().collect().await.map_err(|e| StripeError::Transport(e.to_string()))?;
        Ok((status, body.to_bytes()))
    }
}

impl StripeClient for Client {
    type Err = StripeError;

    async fn execute(&self, request: CustomizedStripeRequest) -> Result<Bytes, StripeError> {
        let (request, config) = request.into_pieces();
        let mut uri = format!("{}v1{}", self.base, request.path);
        if let Some(query) = &request.query {
            uri.push('?');
            uri.push_str(query);
        }
        let method = match request.method {
            StripeMethod::Get => http::Method::GET,
            StripeMethod::Post => http::Method::POST,
            StripeMethod::Delete => http::Method::DELETE,
        };
        let mut builder = http::Request::builder()
            .method(method)
            .uri(uri)
            .header(AUTHORIZATION, self.authorization.clone())
            .header(USER_AGENT, concat!("mercato/", env!("CARGO_PKG_VERSION")))
            .header(HeaderName::from_static("stripe-version"), stripe_shared::version::VERSION.as_str());
        if let Some(key) = config.request_strategy.as_ref().and_then(|s| s.get_key()) {
            builder = builder.header(HeaderName::from_static("idempotency-key"), key.as_str());
        }
        if request.body.is_some() {
            builder = builder.header(CONTENT_TYPE, "application/x-www-form-urlencoded");
        }
        let body = Full::new(request.body.map(Bytes::from).unwrap_or_default());
        let request = builder.body(body).map_err(|e| StripeError::Transport(e.to_string()))?;
        let (status, bytes) =
            tokio::time::timeout(config.timeout.unwrap_or(self.timeout), self.send(request))
                .await
                .map_err(|_| StripeError::Timeout)??;
        if status.is_success() {
            return Ok(bytes);
        }
        let text = std::str::from_utf8(&bytes).unwrap_or_default();
        Err(match miniserde::json::from_str::<stripe_shared::Error>(text) {
            Ok(e) => StripeError::Stripe(e.error, status.as_u16()),
            Err(_) => StripeError::Unreadable(format!("Stripe answered {status} with no error object")),
        })
    }
}
