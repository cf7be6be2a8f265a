//! Projects: create, list, show, replace.

use actix_web::{HttpRequest, HttpResponse, get, post, put, web};

use super::{context, created, if_match, parse_project, with_etag};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{Page, Project, ProjectRequest, project_spec},
};

/// Create a project.
#[utoipa::path(
    post, path = "/api/v1/projects", tag = "projects",
    request_body = ProjectRequest,
    responses(
        (status = 201, description = "Created; `ETag` holds its version", body = Project),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "It already exists", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid definition (e.g. an unknown lifecycle environment), or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/projects")]
pub async fn create_project(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<ProjectRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let body = body.into_inner();
    parse_project(&body.name, "name")?;
    let spec = project_spec(body, &[], |value| state.secrets.seal(value))?;
    let project = state
        .engine
        .create_project(&context(&req, &principal), spec)
        .await?;
    let version = project.version;
    let body = Project::try_from(project)?;
    Ok(with_etag(
        created(format!("/api/v1/projects/{}", body.name), body),
        version,
    ))
}

/// List projects.
#[utoipa::path(
    get, path = "/api/v1/projects", tag = "projects",
    responses(
        (status = 200, description = "Every project, by name", body = Page<Project>),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/projects")]
pub async fn list_projects(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let items: Vec<Project> = state
        .engine
        .list_projects()
        .into_iter()
        .map(Project::try_from)
        .collect::<Result<_, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Show a project.
#[utoipa::path(
    get, path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name")),
    responses(
        (status = 200, description = "The project; `ETag` holds its version", body = Project),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such project", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid project name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/projects/{project}")]
pub async fn get_project(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let name = parse_project(&path, "project")?;
    let project = state.engine.get_project(&name)?;
    let version = project.version;
    Ok(with_etag(
        HttpResponse::Ok().json(Project::try_from(project)?),
        version,
    ))
}

/// Replace a project's definition. Send `If-Match` with the version you read to avoid
/// overwriting someone else's change (412 when it moved on).
#[utoipa::path(
    put, path = "/api/v1/projects/{project}", tag = "projects",
    params(("project" = String, Path, description = "Project name"),
           ("If-Match" = Option<String>, Header, description = "The version last read, e.g. \"3\" (or `*`)", pattern = "^(\\*|(W/)?\"?[0-9]{1,19}\"?)$")),
    request_body = ProjectRequest,
    responses(
        (status = 200, description = "Replaced; `ETag` holds the new version", body = Project),
        (status = 400, description = "Malformed body or If-Match", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such project", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 412, description = "If-Match does not match the current version", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid name or definition, or the body names another project", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[put("/projects/{project}")]
pub async fn update_project(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<ProjectRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let name = parse_project(&path, "project")?;
    let expected = if_match(&req)?;
    let body = body.into_inner();
    if body.name != name.as_str() {
        return Err(ApiError::validation(
            "name",
            format!("the body names project {:?}, the path {name}", body.name),
        ));
    }
    let current = state
        .engine
        .get_project(&name)?
        .state
        .spec
        .map(|s| s.variables)
        .unwrap_or_default();
    let spec = project_spec(body, &current, |value| state.secrets.seal(value))?;
    let project = state
        .engine
        .update_project(&context(&req, &principal), spec, expected)
        .await?;
    let version = project.version;
    Ok(with_etag(
        HttpResponse::Ok().json(Project::try_from(project)?),
        version,
    ))
}
