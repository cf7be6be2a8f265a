//! Git host integrations: which host, the secret its webhooks are signed with, and the API
//! Conveyor reports build statuses to.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use conveyor_engine::{
    EngineError,
    aggregate::integration::{GitHost, IntegrationSpec, IntegrationState},
    model::Tracked,
    names::IntegrationName,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{context, created};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::Page,
};

/// The kind of git host.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum GitHostDto {
    /// Bitbucket Cloud: webhooks at `/api/v1/hooks/bitbucket`.
    BitbucketCloud,
    /// Bitbucket Server / Data Center: webhooks at `/api/v1/hooks/bitbucket`.
    BitbucketServer,
    /// GitHub: webhooks at `/api/v1/hooks/github`.
    Github,
    /// GitLab: webhooks at `/api/v1/hooks/gitlab`.
    Gitlab,
}

impl From<GitHostDto> for GitHost {
    fn from(h: GitHostDto) -> Self {
        match h {
            GitHostDto::BitbucketCloud => Self::BitbucketCloud,
            GitHostDto::BitbucketServer => Self::BitbucketServer,
            GitHostDto::Github => Self::Github,
            GitHostDto::Gitlab => Self::Gitlab,
        }
    }
}

impl From<GitHost> for GitHostDto {
    fn from(h: GitHost) -> Self {
        match h {
            GitHost::BitbucketCloud => Self::BitbucketCloud,
            GitHost::BitbucketServer => Self::BitbucketServer,
            GitHost::Github => Self::Github,
            GitHost::Gitlab => Self::Gitlab,
        }
    }
}

/// Body of `POST /api/v1/integrations`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateIntegrationRequest {
    /// Lowercase letters, digits, `-`, `_`; webhooks name it with `?integration=<name>`.
    #[schema(example = "bitbucket")]
    pub name: String,
    /// The kind of host.
    pub host: GitHostDto,
    /// The secret the host signs webhooks with (HMAC-SHA256, or GitLab's token). Without
    /// one, unsigned webhooks are accepted.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// The host's API base URL, for build statuses (e.g. `https://api.bitbucket.org`).
    #[serde(default)]
    pub api_url: Option<String>,
    /// Credentials for that API: `user:app-password` or a token.
    #[serde(default)]
    pub credentials: Option<String>,
}

/// An integration. Secrets are never shown, only whether they are set.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Integration {
    /// Name.
    pub name: String,
    /// The kind of host.
    pub host: GitHostDto,
    /// Whether webhooks must be signed.
    pub has_webhook_secret: bool,
    /// The API base URL.
    pub api_url: Option<String>,
    /// Whether API credentials are set.
    pub has_credentials: bool,
    /// The webhook URL path to give the host.
    pub webhook_path: String,
}

fn integration(tracked: Tracked<IntegrationState>) -> Result<Integration, ApiError> {
    let spec = tracked
        .state
        .spec
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("an integration without content")))?;
    let path = match spec.host {
        GitHost::BitbucketCloud | GitHost::BitbucketServer => "bitbucket",
        GitHost::Github => "github",
        GitHost::Gitlab => "gitlab",
    };
    Ok(Integration {
        webhook_path: format!("/api/v1/hooks/{path}?integration={}", spec.name),
        name: spec.name.to_string(),
        host: spec.host.into(),
        has_webhook_secret: spec.webhook_secret.is_some(),
        api_url: spec.api_url,
        has_credentials: spec.credentials.is_some(),
    })
}

/// Parses an integration name, naming the field in the 422.
pub fn parse_integration(raw: &str, field: &str) -> Result<IntegrationName, ApiError> {
    IntegrationName::parse(raw).map_err(|err| match err {
        EngineError::Invalid { reason, .. } => ApiError::validation(field, reason),
        other => other.into(),
    })
}

/// Connect a git host: its webhooks start pushes, and build statuses go back to it.
#[utoipa::path(
    post, path = "/api/v1/integrations", tag = "integrations",
    request_body = CreateIntegrationRequest,
    responses(
        (status = 201, description = "Created", body = Integration),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "It already exists", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid name or URL, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/integrations")]
pub async fn create_integration(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateIntegrationRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let body = body.into_inner();
    let name = parse_integration(&body.name, "name")?;
    let seal = |value: Option<String>| {
        value
            .filter(|v| !v.is_empty())
            .map(|v| state.secrets.seal(&v))
    };
    let spec = IntegrationSpec {
        name: name.clone(),
        host: body.host.into(),
        webhook_secret: seal(body.webhook_secret),
        api_url: body.api_url,
        credentials: seal(body.credentials),
    };
    let created_integration = state
        .engine
        .create_integration(&context(&req, &principal), spec)
        .await?;
    Ok(created(
        format!("/api/v1/integrations/{name}"),
        integration(created_integration)?,
    ))
}

/// List integrations.
#[utoipa::path(
    get, path = "/api/v1/integrations", tag = "integrations",
    responses(
        (status = 200, description = "Every integration, by name", body = Page<Integration>),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/integrations")]
pub async fn list_integrations(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let items = state
        .engine
        .list_integrations()
        .into_iter()
        .map(integration)
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Show an integration.
#[utoipa::path(
    get, path = "/api/v1/integrations/{name}", tag = "integrations",
    params(("name" = String, Path, description = "Integration name")),
    responses(
        (status = 200, description = "The integration", body = Integration),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such integration", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid integration name", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/integrations/{name}")]
pub async fn get_integration(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let name = parse_integration(&path, "name")?;
    Ok(HttpResponse::Ok().json(integration(state.engine.get_integration(&name)?)?))
}
