//! Environments: create, list, show, history, point-in-time state, rollback.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use conveyor_engine::{
    aggregate::freeze::{Freeze, FreezeWindow},
    service::PointInTime,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{context, created, freeze_override, parse_environment, parse_project, with_etag};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{
        ArtifactDto, CreateEnvironmentRequest, Deployment, Environment, FreezeDto, Page, PageQuery,
        QueueEntry, RollbackRequest,
    },
};

/// Create an environment.
#[utoipa::path(
    post, path = "/api/v1/environments", tag = "environments",
    request_body = CreateEnvironmentRequest,
    responses(
        (status = 201, description = "Created", body = Environment),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "It already exists", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid name or policy, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/environments")]
pub async fn create_environment(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateEnvironmentRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let body = body.into_inner();
    let name = parse_environment(&body.name, "name")?;
    if let Some(rule) = body.approval_policy.rules.iter().find(|rule| {
        !rule.scope.starts_with("approve:") || crate::auth::Scope::parse(&rule.scope).is_none()
    }) {
        return Err(ApiError::validation(
            "approval_policy.rules",
            format!("{:?} is not an approve:<name> scope", rule.scope),
        ));
    }
    let env = state
        .engine
        .create_environment(
            &context(&req, &principal),
            name.clone(),
            body.description,
            body.approval_policy.into(),
            body.auto_rollback,
            body.soak_seconds,
        )
        .await?;
    let version = env.version;
    Ok(with_etag(
        created(
            format!("/api/v1/environments/{name}"),
            Environment::from(env),
        ),
        version,
    ))
}

/// List environments.
#[utoipa::path(
    get, path = "/api/v1/environments", tag = "environments",
    responses(
        (status = 200, description = "Every environment, by name", body = Page<Environment>),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/environments")]
pub async fn list_environments(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let items: Vec<Environment> = state
        .engine
        .list_environments()
        .into_iter()
        .map(Into::into)
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Show an environment.
#[utoipa::path(
    get, path = "/api/v1/environments/{env}", tag = "environments",
    params(("env" = String, Path, description = "Environment name")),
    responses(
        (status = 200, description = "The environment", body = Environment),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/environments/{env}")]
pub async fn get_environment(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let name = parse_environment(&path, "env")?;
    let env = state.engine.get_environment(&name)?;
    let version = env.version;
    Ok(with_etag(
        HttpResponse::Ok().json(Environment::from(env)),
        version,
    ))
}

/// The environment's deployment queue: per project, one deployment runs at a time and the
/// others wait in the order they were requested; nothing leaves the queue except by running,
/// being cancelled, rejected, expired or superseded (each recorded as an event).
#[utoipa::path(
    get, path = "/api/v1/environments/{env}/queue", tag = "environments",
    params(("env" = String, Path, description = "Environment name")),
    responses(
        (status = 200, description = "Deployments that have not ended, per project in queue order", body = Page<QueueEntry>),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/environments/{env}/queue")]
pub async fn environment_queue(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let name = parse_environment(&path, "env")?;
    let items = state
        .engine
        .environment_queue(&name)?
        .into_iter()
        .map(|(place, deployment)| QueueEntry {
            place,
            deployment: Deployment::from(deployment),
        })
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// The deployments into an environment, newest first.
#[utoipa::path(
    get, path = "/api/v1/environments/{env}/history", tag = "environments",
    params(("env" = String, Path, description = "Environment name"), PageQuery),
    responses(
        (status = 200, description = "Deployments, newest first", body = Page<Deployment>),
        (status = 400, description = "Malformed query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/environments/{env}/history")]
pub async fn environment_history(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    page: web::Query<PageQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let name = parse_environment(&path, "env")?;
    let history = state
        .engine
        .environment_history(&name, page.after, page.limit())?;
    Ok(HttpResponse::Ok().json(Page::from_engine(history, Deployment::from)))
}

/// Roll a project back in an environment to the release live before the current one (or a
/// named earlier one), found by replaying the environment's deployment events.
#[utoipa::path(
    post, path = "/api/v1/environments/{env}/rollback", tag = "environments",
    params(("env" = String, Path, description = "Environment name")),
    request_body = RollbackRequest,
    responses(
        (status = 201, description = "A rollback deployment was requested", body = Deployment),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `deploy:<env>`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment or project", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Nothing to roll back to, the named release was not live here, or a freeze applies to rollbacks and was not overridden", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment or project name, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["deploy:<env>"]))
)]
#[post("/environments/{env}/rollback")]
pub async fn rollback_environment(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<RollbackRequest>,
) -> Result<HttpResponse, ApiError> {
    let environment = parse_environment(&path, "env")?;
    principal.require(&format!("deploy:{environment}"))?;
    let body = body.into_inner();
    let project = parse_project(&body.project, "project")?;
    let freeze_override = freeze_override(&principal, body.override_freeze.as_deref())?;
    let deployment = state
        .engine
        .rollback(
            &context(&req, &principal),
            project,
            environment,
            body.to_release,
            freeze_override,
        )
        .await?;
    let id = deployment.tracked.state.id.unwrap_or_default();
    Ok(created(
        format!("/api/v1/deployments/{id}"),
        Deployment::from(deployment),
    ))
}

/// When `state` looks: an RFC 3339 time, or a log position; absent means now.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StateQuery {
    /// `2026-11-26T10:00:00Z` or a position such as `1234`.
    pub at: Option<String>,
}

/// One project's live release in an environment at a moment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct LiveRelease {
    /// Project.
    pub project: String,
    /// The deployment that made it live: release, kind, who requested and who approved it,
    /// and the variables it resolved (sensitive values masked).
    pub deployment: Deployment,
    /// The release's artifacts.
    pub artifacts: Vec<ArtifactDto>,
}

/// What was live in an environment at a moment, rebuilt by replaying the log up to it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct EnvironmentStateAt {
    /// Environment.
    pub environment: String,
    /// The last log position the state includes.
    pub position: u64,
    /// Per project, what was live.
    pub projects: Vec<LiveRelease>,
}

/// What was live in an environment at a moment (a time or a log position): per project the
/// release, its artifacts, the resolved variables, who requested and who approved it —
/// rebuilt by replaying the log up to that moment.
#[utoipa::path(
    get, path = "/api/v1/environments/{env}/state", tag = "environments",
    params(("env" = String, Path, description = "Environment name"), StateQuery),
    responses(
        (status = 200, description = "The environment at that moment", body = EnvironmentStateAt),
        (status = 400, description = "`at` is neither a time nor a position", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment (at that moment)", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/environments/{env}/state")]
pub async fn environment_state(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<StateQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let environment = parse_environment(&path, "env")?;
    let at = match query.at.as_deref().map(str::trim) {
        None | Some("") => {
            PointInTime::Position(state.engine.store().head().await.map_err(ApiError::from)?)
        }
        Some(text) => match text.parse::<u64>() {
            Ok(position) => PointInTime::Position(position),
            Err(_) => PointInTime::Time(
                chrono::DateTime::parse_from_rfc3339(text)
                    .map_err(|_| {
                        ApiError::BadRequest(format!(
                            "at must be an RFC 3339 time or a log position, not {text:?}"
                        ))
                    })?
                    .with_timezone(&chrono::Utc),
            ),
        },
    };
    let at_state = state.engine.environment_state_at(&environment, at).await?;
    let projects = at_state
        .projects
        .into_iter()
        .map(|(deployment, release)| {
            let artifacts = release
                .snapshot()
                .map(|s| s.artifacts.iter().map(ArtifactDto::from).collect())
                .unwrap_or_default();
            let deployment = Deployment::from(deployment);
            LiveRelease {
                project: deployment.project.clone(),
                deployment,
                artifacts,
            }
        })
        .collect();
    Ok(HttpResponse::Ok().json(EnvironmentStateAt {
        environment: environment.to_string(),
        position: at_state.position,
        projects,
    }))
}

/// Freeze an environment, for every project or one: once (`start`, `end`) or on a schedule
/// (`cron` read in `timezone`, each window lasting `duration_minutes`). While a freeze holds,
/// deployments are refused — manual, automatic and bot alike, rollbacks too when
/// `applies_to_rollback` — unless someone holding `freeze:override` gives a reason.
#[utoipa::path(
    post, path = "/api/v1/environments/{env}/freezes", tag = "environments",
    params(("env" = String, Path, description = "Environment name")),
    request_body = FreezeDto,
    responses(
        (status = 201, description = "Added; the environment with its freezes", body = Environment),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name, bad window, cron expression or time zone, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/environments/{env}/freezes")]
pub async fn add_freeze(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Json<FreezeDto>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let environment = parse_environment(&path, "env")?;
    let body = body.into_inner();
    let window = match (
        body.start,
        body.end,
        body.cron,
        body.duration_minutes,
        body.timezone,
    ) {
        (Some(start), Some(end), None, None, None) => FreezeWindow::OneOff { start, end },
        (None, None, Some(cron), Some(duration_minutes), Some(timezone)) => {
            FreezeWindow::Recurring {
                cron,
                duration_minutes,
                timezone,
            }
        }
        _ => {
            return Err(ApiError::validation(
                "start",
                "give start and end, or cron, duration_minutes and timezone",
            ));
        }
    };
    let freeze = Freeze {
        id: Uuid::now_v7(),
        project: body
            .project
            .as_deref()
            .map(|p| parse_project(p, "project"))
            .transpose()?,
        window,
        reason: body.reason,
        applies_to_rollback: body.applies_to_rollback,
    };
    let env = state
        .engine
        .add_freeze(&context(&req, &principal), &environment, freeze)
        .await?;
    Ok(created(
        format!("/api/v1/environments/{environment}"),
        Environment::from(env),
    ))
}

/// Remove a freeze window.
#[utoipa::path(
    post, path = "/api/v1/environments/{env}/freezes/{id}/remove", tag = "environments",
    params(("env" = String, Path, description = "Environment name"),
           ("id" = Uuid, Path, description = "Freeze id")),
    responses(
        (status = 200, description = "Removed", body = Environment),
        (status = 400, description = "Malformed id or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such environment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "No such freeze", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid environment name, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/environments/{env}/freezes/{id}/remove")]
pub async fn remove_freeze(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<(String, Uuid)>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let (raw, id) = path.into_inner();
    let environment = parse_environment(&raw, "env")?;
    let env = state
        .engine
        .remove_freeze(&context(&req, &principal), &environment, id)
        .await?;
    Ok(HttpResponse::Ok().json(Environment::from(env)))
}
