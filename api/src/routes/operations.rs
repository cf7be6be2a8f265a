//! Health, readiness and metrics for operators (no token needed).

use actix_web::{HttpResponse, get, web};

use crate::{
    metrics::{CONTENT_TYPE, ExtraMetric, MetricKind},
    server::AppState,
};

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "operations", responses((status = 200, description = "Alive", body = String)))]
#[get("/healthz")]
pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}

/// Readiness: the event store answers and the engine follows the log.
#[utoipa::path(
    get, path = "/readyz", tag = "operations",
    responses((status = 200, description = "Ready", body = String), (status = 503, description = "Not ready", body = String))
)]
#[get("/readyz")]
pub async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    match state.engine.store().head().await {
        Ok(_) if state.engine.is_running() => {
            HttpResponse::Ok().content_type("text/plain").body("ready")
        }
        Ok(_) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("the engine is not following the log"),
        Err(err) => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body(format!("event store: {err}")),
    }
}

/// Prometheus metrics: request counts and latencies, events appended, projection lag.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses((status = 200, description = "Prometheus text format", body = String)))]
#[get("/metrics")]
pub async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    let head = state.engine.store().head().await.unwrap_or(0);
    let applied = state.engine.applied_position();
    let reacted = state.engine.reacted_position();
    let extra = [
        ExtraMetric {
            name: "conveyor_events_appended_total",
            help: "Events in the log (the head position).",
            kind: MetricKind::Counter,
            value: head as f64,
        },
        ExtraMetric {
            name: "conveyor_projection_lag_events",
            help: "Events committed but not yet applied to the read model.",
            kind: MetricKind::Gauge,
            value: head.saturating_sub(applied) as f64,
        },
        ExtraMetric {
            name: "conveyor_process_manager_lag_events",
            help: "Events committed but not yet handled by the process manager.",
            kind: MetricKind::Gauge,
            value: head.saturating_sub(reacted) as f64,
        },
        ExtraMetric {
            name: "conveyor_leader",
            help: "1 on the node that runs the workflow (holds the process-manager lock), else 0.",
            kind: MetricKind::Gauge,
            value: if state.engine.is_leader() { 1.0 } else { 0.0 },
        },
    ];
    HttpResponse::Ok()
        .content_type(CONTENT_TYPE)
        .body(state.metrics.render(&extra))
}
