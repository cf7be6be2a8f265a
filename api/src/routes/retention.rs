//! Retention on request: applies every project's retention policy now (it also runs on a
//! timer, `retention_interval_seconds`).

use actix_web::{HttpRequest, HttpResponse, post, web};

use super::context;
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{RetentionRun, RetentionRunRelease},
};

/// Apply the projects' retention policies now: each release whose content goes is recorded as
/// `ReleaseContentDeleted`, then its artifact bytes (those no kept build shares) and job logs
/// are deleted. The release and its history stay.
#[utoipa::path(
    post, path = "/api/v1/retention/run", tag = "releases",
    responses(
        (status = 200, description = "The releases whose content this run deleted", body = RetentionRun),
        (status = 400, description = "Malformed Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/retention/run")]
pub async fn run_retention(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let deleted = crate::retention::run(
        &state.engine,
        &state.blobs,
        &state.logs,
        &context(&req, &principal),
    )
    .await?;
    Ok(HttpResponse::Ok().json(RetentionRun {
        releases: deleted
            .into_iter()
            .map(|d| RetentionRunRelease {
                release_id: d.release_id,
                version: d.version,
                policy: d.policy,
                artifacts_deleted: d.artifacts.into_iter().map(|a| a.sha256).collect(),
                logs_deleted: d.logs,
            })
            .collect(),
    }))
}
