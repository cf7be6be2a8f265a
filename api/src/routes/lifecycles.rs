//! Lifecycles: shared, named paths of phases through environments.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};
use conveyor_engine::{EngineError, LifecycleName};

use super::{context, created, if_match, with_etag};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{Lifecycle, LifecycleRequest, Page, lifecycle_spec},
};

fn parse_lifecycle(raw: &str, field: &str) -> Result<LifecycleName, ApiError> {
    LifecycleName::parse(raw).map_err(|err| match err {
        EngineError::Invalid { reason, .. } => ApiError::validation(field, reason),
        other => other.into(),
    })
}

/// Create a lifecycle.
#[utoipa::path(
    post, path = "/api/v1/lifecycles", tag = "lifecycles",
    request_body = LifecycleRequest,
    responses(
        (status = 201, description = "Created; `ETag` holds its version", body = Lifecycle),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "It already exists", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid phases (an unknown or repeated environment, a requirement the phase cannot meet), or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/lifecycles")]
pub async fn create_lifecycle(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LifecycleRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let body = body.into_inner();
    parse_lifecycle(&body.name, "name")?;
    let spec = lifecycle_spec(body)?;
    let lifecycle = state
        .engine
        .save_lifecycle(&context(&req, &principal), spec, false, None)
        .await?;
    let version = lifecycle.version;
    let body = Lifecycle::try_from(lifecycle)?;
    Ok(with_etag(
        created(format!("/api/v1/lifecycles/{}", body.name), body),
        version,
    ))
}

/// List lifecycles.
#[utoipa::path(
    get, path = "/api/v1/lifecycles", tag = "lifecycles",
    responses(
        (status = 200, description = "Every lifecycle, by name", body = Page<Lifecycle>),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/lifecycles")]
pub async fn list_lifecycles(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let items: Vec<Lifecycle> = state
        .engine
        .list_lifecycles()
        .into_iter()
        .map(Lifecycle::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Show a lifecycle.
#[utoipa::path(
    get, path = "/api/v1/lifecycles/{lifecycle}", tag = "lifecycles",
    params(("lifecycle" = String, Path, description = "Lifecycle name")),
    responses(
        (status = 200, description = "The lifecycle; `ETag` holds its version", body = Lifecycle),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such lifecycle", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid lifecycle name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/lifecycles/{lifecycle}")]
pub async fn get_lifecycle(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let name = parse_lifecycle(&path, "lifecycle")?;
    let lifecycle = state.engine.get_lifecycle(&name)?;
    let version = lifecycle.version;
    Ok(with_etag(
        HttpResponse::Ok().json(Lifecycle::try_from(lifecycle)?),
        version,
    ))
}

/// Replace a lifecycle's phases. Releases already created keep the phases they were created
/// with; send `If-Match` with the version you read (412 when it moved on).
#[utoipa::path(
    put, path = "/api/v1/lifecycles/{lifecycle}", tag = "lifecycles",
    params(("lifecycle" = String, Path, description = "Lifecycle name"),
           ("If-Match" = Option<String>, Header, description = "The version last read, e.g. \"3\" (or `*`)", pattern = "^(\\*|(W/)?\"?[0-9]{1,19}\"?)$")),
    request_body = LifecycleRequest,
    responses(
        (status = 200, description = "Replaced; `ETag` holds the new version", body = Lifecycle),
        (status = 400, description = "Malformed body or If-Match", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such lifecycle", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 412, description = "If-Match does not match the current version", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid name or phases, or the body names another lifecycle", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/lifecycles/{lifecycle}")]
pub async fn update_lifecycle(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<LifecycleRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let name = parse_lifecycle(&path, "lifecycle")?;
    let expected = if_match(&req)?;
    let body = body.into_inner();
    if body.name != name.as_str() {
        return Err(ApiError::validation(
            "name",
            format!("the body names lifecycle {:?}, the path {name}", body.name),
        ));
    }
    let spec = lifecycle_spec(body)?;
    let lifecycle = state
        .engine
        .save_lifecycle(&context(&req, &principal), spec, true, expected)
        .await?;
    let version = lifecycle.version;
    Ok(with_etag(
        HttpResponse::Ok().json(Lifecycle::try_from(lifecycle)?),
        version,
    ))
}
