//! Releases, and promoting one into an environment.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use uuid::Uuid;

use super::{context, created, freeze_override, parse_environment, parse_project};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{
        BlockRequest, CreateReleaseRequest, DeployRequest, Deployment, Page, PageQuery,
        ProjectQuery, Release,
    },
};

/// Create a release from a succeeded build: a snapshot of its artifacts and of the project's
/// deployment steps, variables and lifecycle as they are now.
#[utoipa::path(
    post, path = "/api/v1/releases", tag = "releases",
    request_body = CreateReleaseRequest,
    responses(
        (status = 201, description = "Created", body = Release),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `release`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such build", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "The build has not succeeded, or the version is taken", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid version, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["release"]))
)]
#[post("/releases")]
pub async fn create_release(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateReleaseRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("release")?;
    let body = body.into_inner();
    let release = state
        .engine
        .create_release(&context(&req, &principal), body.build_id, body.version)
        .await?;
    let release = Release::try_from(release)?;
    Ok(created(format!("/api/v1/releases/{}", release.id), release))
}

/// List releases, newest first.
#[utoipa::path(
    get, path = "/api/v1/releases", tag = "releases",
    params(ProjectQuery, PageQuery),
    responses(
        (status = 200, description = "Releases, newest first", body = Page<Release>),
        (status = 400, description = "Malformed query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid project name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/releases")]
pub async fn list_releases(
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
    let releases = state
        .engine
        .list_releases(project.as_ref(), page.after, page.limit());
    Ok(HttpResponse::Ok().json(Page::try_from_engine(releases, Release::try_from)?))
}

/// Show a release.
#[utoipa::path(
    get, path = "/api/v1/releases/{id}", tag = "releases",
    params(("id" = Uuid, Path, description = "Release id")),
    responses(
        (status = 200, description = "The release", body = Release),
        (status = 400, description = "Malformed id", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such release", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/releases/{id}")]
pub async fn get_release(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    Ok(HttpResponse::Ok().json(Release::try_from(state.engine.get_release(*path)?)?))
}

/// Deploy (promote) a release into an environment. The release must have succeeded in the
/// environment before it in its lifecycle; the environment's approval policy then applies.
#[utoipa::path(
    post, path = "/api/v1/releases/{id}/deployments", tag = "releases",
    params(("id" = Uuid, Path, description = "Release id")),
    request_body = DeployRequest,
    responses(
        (status = 201, description = "Requested (queued, or awaiting approval)", body = Deployment),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `deploy:<env>`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such release or environment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "The lifecycle forbids it (names the unmet requirement)", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["deploy:<env>"]))
)]
#[post("/releases/{id}/deployments")]
pub async fn deploy_release(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<DeployRequest>,
) -> Result<HttpResponse, ApiError> {
    let environment = parse_environment(&body.environment, "environment")?;
    principal.require(&format!("deploy:{environment}"))?;
    let supersede = body.supersede_waiting;
    let freeze_override = freeze_override(&principal, body.override_freeze.as_deref())?;
    let deployment = state
        .engine
        .request_deployment(
            &context(&req, &principal),
            *path,
            environment,
            freeze_override,
            supersede,
        )
        .await?;
    let deployment = Deployment::from(deployment);
    Ok(created(
        format!("/api/v1/deployments/{}", deployment.id),
        deployment,
    ))
}

/// Block a release (a defect was found): it is deployed nowhere, not even by a rollback,
/// until unblocked. The block is an event with who and why.
#[utoipa::path(
    post, path = "/api/v1/releases/{id}/block", tag = "releases",
    params(("id" = Uuid, Path, description = "Release id")),
    request_body = BlockRequest,
    responses(
        (status = 200, description = "Blocked", body = Release),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `release`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such release", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Already blocked", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "No reason given, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["release"]))
)]
#[post("/releases/{id}/block")]
pub async fn block_release(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<BlockRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("release")?;
    let release = state
        .engine
        .block_release(&context(&req, &principal), *path, body.into_inner().reason)
        .await?;
    Ok(HttpResponse::Ok().json(Release::try_from(release)?))
}

/// Lift a release's block.
#[utoipa::path(
    post, path = "/api/v1/releases/{id}/unblock", tag = "releases",
    params(("id" = Uuid, Path, description = "Release id")),
    responses(
        (status = 200, description = "Unblocked", body = Release),
        (status = 400, description = "Malformed id or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `release`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such release", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not blocked", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["release"]))
)]
#[post("/releases/{id}/unblock")]
pub async fn unblock_release(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require("release")?;
    let release = state
        .engine
        .unblock_release(&context(&req, &principal), *path)
        .await?;
    Ok(HttpResponse::Ok().json(Release::try_from(release)?))
}
