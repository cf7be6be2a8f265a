//! Deployments: list, show, approve or reject, cancel.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use conveyor_engine::service::DeploymentFilter;
use uuid::Uuid;

use super::{context, parse_environment, parse_project};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{ApprovalRequest, CancelRequest, Deployment, DeploymentQuery, Page, PageQuery},
};

/// List deployments, newest first.
#[utoipa::path(
    get, path = "/api/v1/deployments", tag = "deployments",
    params(DeploymentQuery, PageQuery),
    responses(
        (status = 200, description = "Deployments, newest first", body = Page<Deployment>),
        (status = 400, description = "Malformed query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid filter", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/deployments")]
pub async fn list_deployments(
    principal: Principal,
    state: web::Data<AppState>,
    query: web::Query<DeploymentQuery>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let filter = DeploymentFilter {
        project: query
            .project
            .as_deref()
            .map(|p| parse_project(p, "project"))
            .transpose()?,
        environment: query
            .environment
            .as_deref()
            .map(|e| parse_environment(e, "environment"))
            .transpose()?,
        release: query.release,
    };
    let deployments = state
        .engine
        .list_deployments(&filter, page.after, page.limit());
    Ok(HttpResponse::Ok().json(Page::from_engine(deployments, Deployment::from)))
}

/// Show a deployment.
#[utoipa::path(
    get, path = "/api/v1/deployments/{id}", tag = "deployments",
    params(("id" = Uuid, Path, description = "Deployment id")),
    responses(
        (status = 200, description = "The deployment", body = Deployment),
        (status = 400, description = "Malformed id", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such deployment", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/deployments/{id}")]
pub async fn get_deployment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    Ok(HttpResponse::Ok().json(Deployment::from(state.engine.get_deployment(*path)?)))
}

/// Approve or reject a deployment awaiting approval. The approver needs `approve:<env>`; the
/// requester and the release's creator may not decide unless the environment allows it; one
/// subject counts once; a rejection (with a comment) ends the deployment.
#[utoipa::path(
    post, path = "/api/v1/deployments/{id}/approvals", tag = "deployments",
    params(("id" = Uuid, Path, description = "Deployment id")),
    request_body = ApprovalRequest,
    responses(
        (status = 200, description = "Recorded", body = Deployment),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `approve:<env>`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such deployment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not awaiting approval, self-approval, or already approved by this subject", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "A rejection without a comment, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["approve:<env>"]))
)]
#[post("/deployments/{id}/approvals")]
pub async fn approve_deployment(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<ApprovalRequest>,
) -> Result<HttpResponse, ApiError> {
    let deployment = state.engine.get_deployment(*path)?;
    let environment = deployment
        .tracked
        .state
        .environment
        .clone()
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("deployment {} has no environment", *path))
        })?;
    // The environment's approvers, or those of any further rule of its policy.
    let mut scopes = vec![format!("approve:{environment}")];
    scopes.extend(
        deployment
            .tracked
            .state
            .policy
            .rules
            .iter()
            .map(|r| r.scope.clone()),
    );
    super::require_any(
        &principal,
        &scopes.iter().map(String::as_str).collect::<Vec<_>>(),
    )?;
    let body = body.into_inner();
    let deployment = state
        .engine
        .decide_approval(
            &context(&req, &principal),
            *path,
            body.decision.into(),
            body.comment,
        )
        .await?;
    Ok(HttpResponse::Ok().json(Deployment::from(deployment)))
}

/// Cancel a deployment that has not ended.
#[utoipa::path(
    post, path = "/api/v1/deployments/{id}/cancel", tag = "deployments",
    params(("id" = Uuid, Path, description = "Deployment id")),
    request_body(content = CancelRequest, description = "Optional reason"),
    responses(
        (status = 200, description = "Cancelled", body = Deployment),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `deploy:<env>`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such deployment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "The deployment has already ended", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["deploy:<env>"]))
)]
#[post("/deployments/{id}/cancel")]
pub async fn cancel_deployment(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let deployment = state.engine.get_deployment(*path)?;
    let environment = deployment
        .tracked
        .state
        .environment
        .clone()
        .ok_or_else(|| {
            ApiError::internal(anyhow::anyhow!("deployment {} has no environment", *path))
        })?;
    principal.require(&format!("deploy:{environment}"))?;
    let body: CancelRequest = super::optional_json(&body)?;
    let reason = body.reason.unwrap_or_else(|| "cancelled".into());
    let deployment = state
        .engine
        .cancel_deployment(&context(&req, &principal), *path, reason)
        .await?;
    Ok(HttpResponse::Ok().json(Deployment::from(deployment)))
}
