//! Pushes and builds.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use conveyor_engine::{PushReport, service::BuildFilter};
use uuid::Uuid;

use super::{context, parse_project};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{Build, CancelRequest, Page, PageQuery, ProjectQuery, PushAccepted, PushRequest},
};

/// Report a push (the generic form; git hosts' webhooks are separate). Answers with the builds
/// it queued for projects whose repository and branch filter match.
#[utoipa::path(
    post, path = "/api/v1/pushes", tag = "builds",
    request_body = PushRequest,
    responses(
        (status = 202, description = "Recorded; the builds it queued", body = PushAccepted),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `push`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid commit, ref or repository, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["push"]))
)]
#[post("/pushes")]
pub async fn create_push(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<PushRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("push")?;
    let body = body.into_inner();
    let report = PushReport {
        before: body.before,
        pusher: body.pusher.or_else(|| Some(principal.subject.clone())),
        message: body.message,
        ..PushReport::simple(
            body.repository,
            body.git_ref,
            body.commit.to_ascii_lowercase(),
            "api",
        )
    };
    let (push_id, builds) = state
        .engine
        .report_push(&context(&req, &principal), report)
        .await?;
    Ok(HttpResponse::Accepted().json(PushAccepted {
        push_id,
        builds: builds.into_iter().map(Build::from).collect(),
    }))
}

/// List builds, newest first.
#[utoipa::path(
    get, path = "/api/v1/builds", tag = "builds",
    params(ProjectQuery, PageQuery),
    responses(
        (status = 200, description = "Builds, newest first", body = Page<Build>),
        (status = 400, description = "Malformed query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid project name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/builds")]
pub async fn list_builds(
    principal: Principal,
    state: web::Data<AppState>,
    filter: web::Query<ProjectQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let project = filter
        .project
        .as_deref()
        .map(|p| parse_project(p, "project"))
        .transpose()?;
    let builds = state
        .engine
        .list_builds(&BuildFilter { project }, page.after, page.limit());
    Ok(HttpResponse::Ok().json(Page::from_engine(builds, Build::from)))
}

/// Show a build.
#[utoipa::path(
    get, path = "/api/v1/builds/{id}", tag = "builds",
    params(("id" = Uuid, Path, description = "Build id")),
    responses(
        (status = 200, description = "The build", body = Build),
        (status = 400, description = "Malformed id", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such build", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/builds/{id}")]
pub async fn get_build(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    Ok(HttpResponse::Ok().json(Build::from(state.engine.get_build(*path)?)))
}

/// Cancel a build that has not ended.
#[utoipa::path(
    post, path = "/api/v1/builds/{id}/cancel", tag = "builds",
    params(("id" = Uuid, Path, description = "Build id")),
    request_body(content = CancelRequest, description = "Optional reason"),
    responses(
        (status = 200, description = "Cancelled", body = Build),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such build", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "The build has already ended", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/builds/{id}/cancel")]
pub async fn cancel_build(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let body: CancelRequest = super::optional_json(&body)?;
    let reason = body.reason.unwrap_or_else(|| "cancelled".into());
    let build = state
        .engine
        .cancel_build(&context(&req, &principal), *path, reason)
        .await?;
    Ok(HttpResponse::Ok().json(Build::from(build)))
}
