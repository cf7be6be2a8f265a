//! Request metrics and their Prometheus text exposition, without a metrics crate.
//!
//! [`Metrics`] counts requests by method, route pattern and status code and keeps a latency
//! histogram per method and route pattern. [`RecordMetrics`] is the middleware that feeds it;
//! [`Metrics::render`] writes the exposition format (version 0.0.4) for `GET /metrics`,
//! together with counters and gauges the caller reads from elsewhere (the event store, the
//! projections). Labels use the route *pattern* (`/api/v1/builds/{id}`), never the raw path,
//! so the number of series stays bounded whatever clients send.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::Error;
use actix_web::body::MessageBody;
use actix_web::dev::{Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::Method;
use futures_util::future::LocalBoxFuture;

/// The media type of the exposition format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// Upper bounds of the latency histogram's buckets, in seconds (Prometheus' defaults).
pub const LATENCY_BUCKETS: [f64; 11] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The route label of requests that matched no route (so unknown paths share one series).
const UNMATCHED_ROUTE: &str = "unmatched";

/// Whether an extra metric only grows (counter) or goes up and down (gauge).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MetricKind {
    /// A monotonically increasing total, such as `conveyor_events_appended_total`.
    Counter,
    /// A value that goes up and down, such as `conveyor_projection_lag_events`.
    Gauge,
}

/// A value the caller supplies to [`Metrics::render`].
#[derive(Debug, Clone, Copy)]
pub struct ExtraMetric<'a> {
    /// The metric name (`[a-zA-Z_:][a-zA-Z0-9_:]*`; other characters become `_`).
    pub name: &'a str,
    /// The `# HELP` text.
    pub help: &'a str,
    /// Counter or gauge.
    pub kind: MetricKind,
    /// The current value.
    pub value: f64,
}

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Non-cumulative counts per bucket of [`LATENCY_BUCKETS`]; made cumulative when rendered.
    buckets: [u64; LATENCY_BUCKETS.len()],
    count: u64,
    sum_seconds: f64,
}

#[derive(Debug, Default)]
struct Series {
    requests: BTreeMap<(String, String, u16), u64>,
    latency: BTreeMap<(String, String), Histogram>,
}

/// Request counters and latency histograms, shared by every worker.
#[derive(Debug, Default)]
pub struct Metrics {
    series: Mutex<Series>,
}

/// The method label: the standard methods by name, anything else as `OTHER` (bounded labels).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "OTHER",
    }
}

/// Escapes a label value as the exposition format requires.
fn escape_label(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Escapes `# HELP` text.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}

/// Makes a caller-supplied name valid instead of emitting a line scrapers would reject.
fn sanitize_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// Formats a sample value; Prometheus spells the special values `+Inf`, `-Inf` and `NaN`.
fn format_value(value: f64) -> String {
    if value.is_nan() {
        "NaN".to_owned()
    } else if value.is_infinite() {
        if value > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        value.to_string()
    }
}

impl Metrics {
    /// An empty registry.
    pub fn new() -> Metrics {
        Metrics::default()
    }

    /// The middleware that records every request into this registry.
    pub fn middleware(self: &Arc<Self>) -> RecordMetrics {
        RecordMetrics {
            metrics: Arc::clone(self),
        }
    }

    /// Records one finished request. `route` is the matched pattern, `None` if none matched.
    pub fn record(&self, method: &Method, route: Option<&str>, status: u16, elapsed: Duration) {
        let method = method_label(method).to_owned();
        let route = route.unwrap_or(UNMATCHED_ROUTE).to_owned();
        let seconds = elapsed.as_secs_f64();
        // A panic elsewhere while holding the lock leaves only counters, which stay usable.
        let mut series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
        *series
            .requests
            .entry((method.clone(), route.clone(), status))
            .or_default() += 1;
        let histogram = series.latency.entry((method, route)).or_default();
        if let Some(bucket) = LATENCY_BUCKETS.iter().position(|bound| seconds <= *bound) {
            histogram.buckets[bucket] += 1;
        }
        histogram.count += 1;
        histogram.sum_seconds += seconds;
    }

    /// Renders all request metrics and the `extra` ones in the Prometheus text format.
    pub fn render(&self, extra: &[ExtraMetric<'_>]) -> String {
        let (requests, latency) = {
            let series = self.series.lock().unwrap_or_else(PoisonError::into_inner);
            (series.requests.clone(), series.latency.clone())
        };
        let mut out = String::new();

        // Writing to a String cannot fail, hence the ignored results.
        out.push_str("# HELP conveyor_http_requests_total HTTP requests answered, by method, route pattern and status code.\n");
        out.push_str("# TYPE conveyor_http_requests_total counter\n");
        for ((method, route, status), count) in &requests {
            let _ = writeln!(
                out,
                "conveyor_http_requests_total{{method=\"{method}\",route=\"{}\",status=\"{status}\"}} {count}",
                escape_label(route)
            );
        }

        out.push_str("# HELP conveyor_http_request_duration_seconds Time to answer HTTP requests, by method and route pattern.\n");
        out.push_str("# TYPE conveyor_http_request_duration_seconds histogram\n");
        for ((method, route), histogram) in &latency {
            let labels = format!("method=\"{method}\",route=\"{}\"", escape_label(route));
            let mut cumulative = 0;
            for (bound, count) in LATENCY_BUCKETS.iter().zip(histogram.buckets) {
                cumulative += count;
                let _ = writeln!(
                    out,
                    "conveyor_http_request_duration_seconds_bucket{{{labels},le=\"{}\"}} {cumulative}",
                    format_value(*bound)
                );
            }
            let _ = writeln!(
                out,
                "conveyor_http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {}",
                histogram.count
            );
            let _ = writeln!(
                out,
                "conveyor_http_request_duration_seconds_sum{{{labels}}} {}",
                format_value(histogram.sum_seconds)
            );
            let _ = writeln!(
                out,
                "conveyor_http_request_duration_seconds_count{{{labels}}} {}",
                histogram.count
            );
        }

        for metric in extra {
            let name = sanitize_name(metric.name);
            let kind = match metric.kind {
                MetricKind::Counter => "counter",
                MetricKind::Gauge => "gauge",
            };
            let _ = writeln!(out, "# HELP {name} {}", escape_help(metric.help));
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {}", format_value(metric.value));
        }
        out
    }
}

/// Middleware recording each request's method, route pattern, status and latency.
#[derive(Debug, Clone)]
pub struct RecordMetrics {
    metrics: Arc<Metrics>,
}

impl RecordMetrics {
    /// A middleware recording into `metrics`.
    pub fn new(metrics: Arc<Metrics>) -> RecordMetrics {
        RecordMetrics { metrics }
    }
}

impl<S, B> Transform<S, ServiceRequest> for RecordMetrics
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Transform = RecordMetricsService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(RecordMetricsService {
            service: Rc::new(service),
            metrics: Arc::clone(&self.metrics),
        }))
    }
}

/// The service [`RecordMetrics`] wraps around the app.
pub struct RecordMetricsService<S> {
    service: Rc<S>,
    metrics: Arc<Metrics>,
}

impl<S, B> Service<ServiceRequest> for RecordMetricsService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<B>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let started = Instant::now();
        let method = req.method().clone();
        // Routing happens inside the wrapped service, so the pattern is read afterwards from
        // the request the response carries. No clone of the request may be held across the
        // call: actix's router needs exclusive access to it and panics otherwise.
        let service = Rc::clone(&self.service);
        let metrics = Arc::clone(&self.metrics);
        Box::pin(async move {
            let result = service.call(req).await;
            let status = match &result {
                Ok(response) => response.status().as_u16(),
                Err(error) => error.as_response_error().status_code().as_u16(),
            };
            let route = match &result {
                Ok(response) => response.request().match_pattern(),
                Err(_) => None,
            };
            metrics.record(&method, route.as_deref(), status, started.elapsed());
            result
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, web};

    /// Checks each line against the exposition grammar (the subset this module writes).
    fn assert_valid_exposition(text: &str) {
        assert!(text.ends_with('\n'));
        let mut typed = std::collections::HashSet::new();
        for line in text.lines() {
            if let Some(rest) = line.strip_prefix("# HELP ") {
                assert!(rest.split_once(' ').is_some(), "{line}");
            } else if let Some(rest) = line.strip_prefix("# TYPE ") {
                let (name, kind) = rest.split_once(' ').expect(line);
                assert!(["counter", "gauge", "histogram"].contains(&kind), "{line}");
                assert!(typed.insert(name.to_owned()), "one TYPE per metric: {line}");
            } else {
                let (series, value) = line.rsplit_once(' ').expect(line);
                assert!(
                    value.parse::<f64>().is_ok() || ["+Inf", "-Inf", "NaN"].contains(&value),
                    "{line}"
                );
                let name = series.split('{').next().unwrap();
                assert!(
                    !name.is_empty()
                        && name
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
                    "{line}"
                );
                let family = ["_bucket", "_sum", "_count"]
                    .iter()
                    .find_map(|suffix| name.strip_suffix(suffix).filter(|f| typed.contains(*f)))
                    .unwrap_or(name);
                assert!(typed.contains(family), "sample before its TYPE: {line}");
                if let Some(labels) = series.strip_prefix(name)
                    && !labels.is_empty()
                {
                    assert!(labels.starts_with('{') && labels.ends_with('}'), "{line}");
                }
            }
        }
    }

    #[test]
    fn renders_counters_histograms_and_extras() {
        let metrics = Metrics::new();
        metrics.record(
            &Method::GET,
            Some("/api/v1/builds/{id}"),
            200,
            Duration::from_millis(3),
        );
        metrics.record(
            &Method::GET,
            Some("/api/v1/builds/{id}"),
            200,
            Duration::from_millis(300),
        );
        metrics.record(&Method::POST, None, 404, Duration::from_secs(20));
        let text = metrics.render(&[
            ExtraMetric {
                name: "conveyor_events_appended_total",
                help: "Events in the log.",
                kind: MetricKind::Counter,
                value: 42.0,
            },
            ExtraMetric {
                name: "conveyor_projection_lag_events",
                help: "Events not yet projected.",
                kind: MetricKind::Gauge,
                value: 0.0,
            },
        ]);
        assert_valid_exposition(&text);
        assert!(text.contains("conveyor_http_requests_total{method=\"GET\",route=\"/api/v1/builds/{id}\",status=\"200\"} 2\n"), "{text}");
        assert!(text.contains(
            "conveyor_http_requests_total{method=\"POST\",route=\"unmatched\",status=\"404\"} 1\n"
        ));
        assert!(text.contains("conveyor_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/builds/{id}\",le=\"0.005\"} 1\n"));
        assert!(text.contains("conveyor_http_request_duration_seconds_bucket{method=\"GET\",route=\"/api/v1/builds/{id}\",le=\"0.5\"} 2\n"));
        assert!(text.contains("conveyor_http_request_duration_seconds_bucket{method=\"POST\",route=\"unmatched\",le=\"10\"} 0\n"));
        assert!(text.contains("conveyor_http_request_duration_seconds_bucket{method=\"POST\",route=\"unmatched\",le=\"+Inf\"} 1\n"));
        assert!(text.contains("conveyor_http_request_duration_seconds_count{method=\"GET\",route=\"/api/v1/builds/{id}\"} 2\n"));
        assert!(text.contains(
            "# TYPE conveyor_events_appended_total counter\nconveyor_events_appended_total 42\n"
        ));
        assert!(text.contains("# TYPE conveyor_projection_lag_events gauge\n"));
    }

    #[test]
    fn escapes_labels_and_sanitizes_names() {
        let metrics = Metrics::new();
        metrics.record(&Method::GET, Some("/a\"b\\c\nd"), 200, Duration::ZERO);
        let text = metrics.render(&[ExtraMetric {
            name: "9 bad-name",
            help: "x\ny",
            kind: MetricKind::Gauge,
            value: f64::NAN,
        }]);
        assert_valid_exposition(&text);
        assert!(text.contains(r#"route="/a\"b\\c\nd""#), "{text}");
        assert!(text.contains("_9_bad_name NaN\n"), "{text}");
    }

    #[actix_web::test]
    async fn middleware_records_route_patterns() {
        let metrics = Arc::new(Metrics::new());
        let app = actix_test::init_service(
            App::new()
                .wrap(metrics.middleware())
                .route("/items/{id}", web::get().to(HttpResponse::Ok)),
        )
        .await;
        for path in ["/items/1", "/items/2", "/nowhere"] {
            actix_test::call_service(&app, actix_test::TestRequest::get().uri(path).to_request())
                .await;
        }
        let text = metrics.render(&[]);
        assert!(
            text.contains("route=\"/items/{id}\",status=\"200\"} 2\n"),
            "{text}"
        );
        assert!(
            text.contains("route=\"unmatched\",status=\"404\"} 1\n"),
            "{text}"
        );
    }
}
