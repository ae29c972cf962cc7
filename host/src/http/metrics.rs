//! Requests as Prometheus sees them: per method, route template (as
//! routed: `/v1/store/carts/{id}`, never the ids themselves) and status, a
//! count; per method and route, a latency histogram in seconds. Requests
//! no route matched count under the route `unmatched`.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: [f64; 12] = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0];

/// What one method and route have seen.
#[derive(Default)]
struct Route {
    /// Requests by status.
    statuses: HashMap<u16, u64>,
    /// Requests at or under each bound of [`BUCKETS`] (not cumulative).
    buckets: [u64; BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

/// Every route's counts since the host started.
#[derive(Default)]
pub struct HttpMetrics {
    routes: Mutex<HashMap<(String, String), Route>>,
}

impl HttpMetrics {
    fn record(&self, method: String, route: String, status: u16, seconds: f64) {
        let mut routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let r = routes.entry((method, route)).or_default();
        *r.statuses.entry(status).or_default() += 1;
        if let Some(i) = BUCKETS.iter().position(|le| seconds <= *le) {
            r.buckets[i] += 1;
        }
        r.count += 1;
        r.sum_seconds += seconds;
    }

    /// The families `mercato_http_requests_total` and
    /// `mercato_http_request_duration_seconds`, in Prometheus text.
    pub fn write(&self, out: &mut String) {
        let routes = self.routes.lock().unwrap_or_else(|p| p.into_inner());
        let mut keys: Vec<_> = routes.keys().collect();
        keys.sort();
        let _ = writeln!(
            out,
            "# HELP mercato_http_requests_total HTTP requests answered, by method, route template and status.\n\
             # TYPE mercato_http_requests_total counter"
        );
        for key @ (method, route) in &keys {
            let mut statuses: Vec<_> = routes[*key].statuses.iter().collect();
            statuses.sort();
            for (status, n) in statuses {
                let _ = writeln!(
                    out,
                    "mercato_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        let _ = writeln!(
            out,
            "# HELP mercato_http_request_duration_seconds Time from a request's arrival to its answer, by method and route template.\n\
             # TYPE mercato_http_request_duration_seconds histogram"
        );
        for key @ (method, route) in &keys {
            let r = &routes[*key];
            let labels = format!("method=\"{method}\",route=\"{}\"", escape(route));
            let mut cumulative = 0;
            for (le, n) in BUCKETS.iter().zip(r.buckets) {
                cumulative += n;
                let _ = writeln!(
                    out,
                    "mercato_http_request_duration_seconds_bucket{{{labels},le=\"{le}\"}} {cumulative}"
                );
            }
            let _ = writeln!(
                out,
                "mercato_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                r.count
            );
            let _ = writeln!(out, "mercato_http_request_duration_seconds_sum{{{labels}}} {}", r.sum_seconds);
            let _ = writeln!(out, "mercato_http_request_duration_seconds_count{{{labels}}} {}", r.count);
        }
    }
}

/// A label value as Prometheus text wants it.
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// The middleware: times the request, counts its answer, and counts it
/// in flight meanwhile (see [`crate::commerce::checkout::Placing`]).
pub async fn layer(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let started = Instant::now();
    // Checkouts take turns only while other requests are in flight.
    let _in_flight = state.shop.placing.request();
    let method = req.method().as_str().to_owned();
    let route = req.extensions().get::<MatchedPath>().map_or("unmatched", MatchedPath::as_str).to_owned();
    let res = next.run(req).await;
    state.http_metrics.record(method, route, res.status().as_u16(), started.elapsed().as_secs_f64());
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_histograms_are_prometheus_text() {
        let m = HttpMetrics::default();
        let route = || ("GET".to_owned(), "/v1/store/carts/{id}".to_owned());
        for (status, seconds) in [(200, 0.003), (200, 0.2), (404, 20.0)] {
            let (method, path) = route();
            m.record(method, path, status, seconds);
        }
        let mut out = String::new();
        m.write(&mut out);
        let route = "method=\"GET\",route=\"/v1/store/carts/{id}\"";
        for line in [
            format!("mercato_http_requests_total{{{route},status=\"200\"}} 2"),
            format!("mercato_http_requests_total{{{route},status=\"404\"}} 1"),
            format!("mercato_http_request_duration_seconds_bucket{{{route},le=\"0.0025\"}} 0"),
            format!("mercato_http_request_duration_seconds_bucket{{{route},le=\"0.005\"}} 1"),
            format!("mercato_http_request_duration_seconds_bucket{{{route},le=\"0.25\"}} 2"),
            format!("mercato_http_request_duration_seconds_bucket{{{route},le=\"10\"}} 2"),
            format!("mercato_http_request_duration_seconds_bucket{{{route},le=\"+Inf\"}} 3"),
            format!("mercato_http_request_duration_seconds_count{{{route}}} 3"),
        ] {
            assert!(out.lines().any(|l| l == line), "{line} in\n{out}");
        }
    }
}
