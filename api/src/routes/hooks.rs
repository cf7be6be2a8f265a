//! Git host webhooks: authenticated by the host's own signature scheme (not JWT), parsed into
//! pushes, recorded once per delivery.

use actix_web::{HttpMessage, HttpRequest, HttpResponse, web};
use conveyor_engine::{
    Actor, CommandContext,
    aggregate::integration::{GitHost, IntegrationSpec},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{RequestId, integrations::parse_integration};
use crate::{
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    hooks::{self, Delivery, HookError, Provider},
    server::AppState,
    wire::Build,
};

/// The largest webhook body accepted (Bitbucket and GitHub stay far below).
pub const MAX_HOOK_BODY: usize = 5 * 1024 * 1024;

/// Which integration a webhook belongs to.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HookQuery {
    /// The integration's name; may be left out when only one integration serves this host.
    pub integration: Option<String>,
}

/// What a delivery recorded.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HookAccepted {
    /// The host's delivery id.
    pub delivery_id: String,
    /// `push`, `ping` or `ignored`.
    pub outcome: String,
    /// Whether this delivery had been received before (nothing was recorded again).
    pub duplicate: bool,
    /// For an ignored delivery: the host's event type.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub event_type: Option<String>,
    /// One entry per ref change.
    pub pushes: Vec<HookPush>,
}

/// One ref change of a delivery and the builds it queued.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct HookPush {
    /// The push's id.
    pub push_id: Uuid,
    /// The builds it queued.
    pub builds: Vec<Build>,
}

fn serves(host: GitHost, provider: Provider) -> bool {
    matches!(
        (host, provider),
        (
            GitHost::BitbucketCloud | GitHost::BitbucketServer,
            Provider::Bitbucket
        ) | (GitHost::Github, Provider::GitHub)
            | (GitHost::Gitlab, Provider::GitLab)
    )
}

fn integration_for(
    state: &AppState,
    provider: Provider,
    named: Option<&str>,
) -> Result<IntegrationSpec, ApiError> {
    let candidates: Vec<IntegrationSpec> = state
        .engine
        .list_integrations()
        .into_iter()
        .filter_map(|t| t.state.spec)
        .filter(|spec| serves(spec.host, provider))
        .collect();
    match named {
        Some(raw) => {
            let name = parse_integration(raw, "integration")?;
            candidates
                .into_iter()
                .find(|spec| spec.name == name)
                .ok_or_else(|| {
                    ApiError::not_found(format!("{provider} integration"), name.to_string())
                })
        }
        None => match <[IntegrationSpec; 1]>::try_from(candidates) {
            Ok([only]) => Ok(only),
            Err(candidates) if candidates.is_empty() => Err(ApiError::Unauthorized(format!(
                "no {provider} integration is configured, so no {provider} webhook is accepted"
            ))),
            Err(_) => Err(ApiError::validation(
                "integration",
                format!("several {provider} integrations exist: name one with ?integration="),
            )),
        },
    }
}

fn hook_error(err: HookError) -> ApiError {
    match err {
        HookError::Unauthorized(reason) => ApiError::Unauthorized(reason),
        other => ApiError::BadRequest(other.to_string()),
    }
}

/// Receive a git host's webhook: `bitbucket` (Cloud `repo:push`, Data Center
/// `repo:refs_changed` and `diagnostics:ping`), `github` (`push`, `ping`) or `gitlab`
/// (`Push Hook`, `Tag Push Hook`). The signature (HMAC-SHA256 over the raw body, or GitLab's
/// token) is checked with the integration's secret. Each ref change becomes a push; a
/// redelivery of the same delivery id answers the first result and records nothing; other
/// event types are answered 202 and recorded as ignored.
#[utoipa::path(
    post, path = "/api/v1/hooks/{provider}", tag = "hooks",
    params(
        ("provider" = String, Path, description = "`bitbucket`, `github` or `gitlab`"),
        HookQuery,
    ),
    request_body(content = Object, description = "The host's webhook body, as it sends it"),
    responses(
        (status = 200, description = "A ping", body = HookAccepted),
        (status = 202, description = "Recorded (pushes, or an ignored event type)", body = HookAccepted),
        (status = 400, description = "Malformed delivery: the reason names what is wrong", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 401, description = "Missing or wrong signature, or no integration for this host", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Never: webhooks are authenticated by their signature", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such host or integration", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 413, description = "Body too large", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("webhook_signature" = []))
)]
pub async fn receive_hook(
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    query: web::Query<HookQuery>,
    body: web::Bytes,
) -> Result<HttpResponse, ApiError> {
    let provider = Provider::from_path_segment(&path)
        .ok_or_else(|| ApiError::not_found("webhook endpoint", path.as_str()))?;
    let integration = integration_for(&state, provider, query.integration.as_deref())?;
    let secret = integration
        .webhook_secret
        .as_deref()
        .map(|sealed| state.secrets.unseal(sealed))
        .transpose()?;
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    hooks::verify(provider, &headers, &body, secret.as_deref()).map_err(hook_error)?;
    let delivery = hooks::parse(provider, &headers, &body).map_err(hook_error)?;
    let ctx = CommandContext::new(
        Actor {
            subject: format!("webhook:{}", integration.name),
            scopes: Vec::new(),
            token_id: None,
        },
        req.extensions().get::<RequestId>().map(|id| id.0.clone()),
    );
    let key = |delivery_id: &str| format!("{provider}:{}:{delivery_id}", integration.name);
    Ok(match delivery {
        // A push delivery without ref changes (Bitbucket can send one) builds nothing: it is
        // accounted for like an event type Conveyor does not act on.
        Delivery::Push {
            delivery_id,
            changes,
        } if changes.is_empty() => {
            state
                .engine
                .record_ignored_delivery(
                    &ctx,
                    &key(&delivery_id),
                    provider.as_str(),
                    "push without changes",
                    &delivery_id,
                )
                .await?;
            HttpResponse::Accepted().json(HookAccepted {
                delivery_id,
                outcome: "ignored".into(),
                duplicate: false,
                event_type: Some("push without changes".into()),
                pushes: Vec::new(),
            })
        }
        Delivery::Push {
            delivery_id,
            changes,
        } => {
            let recorded = state
                .engine
                .report_delivery(
                    &ctx,
                    Some(&key(&delivery_id)),
                    Some(integration.name.clone()),
                    changes,
                )
                .await?;
            HttpResponse::Accepted().json(HookAccepted {
                delivery_id,
                outcome: "push".into(),
                duplicate: recorded.duplicate,
                event_type: None,
                pushes: recorded
                    .pushes
                    .into_iter()
                    .map(|(push_id, builds)| HookPush {
                        push_id,
                        builds: builds.into_iter().map(Build::from).collect(),
                    })
                    .collect(),
            })
        }
        Delivery::Ping { delivery_id } => HttpResponse::Ok().json(HookAccepted {
            delivery_id,
            outcome: "ping".into(),
            duplicate: false,
            event_type: None,
            pushes: Vec::new(),
        }),
        Delivery::Ignored {
            delivery_id,
            event_type,
        } => {
            state
                .engine
                .record_ignored_delivery(
                    &ctx,
                    &key(&delivery_id),
                    provider.as_str(),
                    &event_type,
                    &delivery_id,
                )
                .await?;
            HttpResponse::Accepted().json(HookAccepted {
                delivery_id,
                outcome: "ignored".into(),
                duplicate: false,
                event_type: Some(event_type),
                pushes: Vec::new(),
            })
        }
    })
}
