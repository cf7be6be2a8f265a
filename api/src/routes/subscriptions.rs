//! Event subscriptions: external endpoints that receive the log's events as signed webhooks.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use conveyor_engine::{
    aggregate::subscription::{SubscriptionSpec, SubscriptionState},
    model::Tracked,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::{context, created};
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    subscriptions::DeliveryStatus,
    wire::Page,
};

/// Body of `POST /api/v1/subscriptions`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSubscriptionRequest {
    /// Where events are POSTed.
    pub url: String,
    /// Only these event types (e.g. `BuildSucceeded`); empty or absent means every type.
    #[serde(default)]
    pub event_types: Vec<String>,
    /// The signing secret: each delivery carries `X-Conveyor-Signature: t=<unix time>,v1=<hex
    /// HMAC-SHA256 of "<t>.<body>">`.
    pub secret: String,
}

/// A subscription and how its deliveries go.
#[derive(Debug, Serialize, ToSchema)]
pub struct Subscription {
    /// Id.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// The event types delivered (empty: all).
    pub event_types: Vec<String>,
    /// Events after this position (the subscription's creation) are delivered.
    pub start_after: u64,
    /// Delivery state: position reached, failures, recent attempts.
    pub delivery: DeliveryStatus,
}

fn subscription(
    state: &AppState,
    tracked: Tracked<SubscriptionState>,
) -> Result<Subscription, ApiError> {
    let spec = tracked
        .state
        .spec
        .ok_or_else(|| ApiError::internal(anyhow::anyhow!("a subscription without content")))?;
    Ok(Subscription {
        id: spec.id,
        delivery: state.subscriptions.status(spec.id),
        url: spec.url,
        event_types: spec.event_types,
        start_after: tracked.position,
    })
}

/// Subscribe an endpoint to the log: each matching event committed from now on is POSTed to
/// it at least once, in log order, as JSON with its position and id (dedupe on them).
#[utoipa::path(
    post, path = "/api/v1/subscriptions", tag = "subscriptions",
    request_body = CreateSubscriptionRequest,
    responses(
        (status = 201, description = "Created", body = Subscription),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid URL or empty secret, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/subscriptions")]
pub async fn create_subscription(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<CreateSubscriptionRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let body = body.into_inner();
    if body.secret.len() < 16 {
        return Err(ApiError::validation(
            "secret",
            "the secret needs at least 16 characters",
        ));
    }
    let spec = SubscriptionSpec {
        id: Uuid::now_v7(),
        url: body.url,
        event_types: body.event_types,
        secret: state.secrets.seal(&body.secret),
    };
    let created_subscription = state
        .engine
        .create_subscription(&context(&req, &principal), spec.clone())
        .await?;
    state
        .subscriptions
        .spawn(spec.clone(), created_subscription.position);
    Ok(created(
        format!("/api/v1/subscriptions/{}", spec.id),
        subscription(&state, created_subscription)?,
    ))
}

/// List subscriptions with their delivery state.
#[utoipa::path(
    get, path = "/api/v1/subscriptions", tag = "subscriptions",
    responses(
        (status = 200, description = "Every subscription", body = Page<Subscription>),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[get("/subscriptions")]
pub async fn list_subscriptions(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    let items = state
        .engine
        .list_subscriptions()
        .into_iter()
        .map(|t| subscription(&state, t))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}

/// Show a subscription: where its deliveries are, failures, recent attempts.
#[utoipa::path(
    get, path = "/api/v1/subscriptions/{id}", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id")),
    responses(
        (status = 200, description = "The subscription", body = Subscription),
        (status = 400, description = "Malformed id", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such subscription", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[get("/subscriptions/{id}")]
pub async fn get_subscription(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    Ok(HttpResponse::Ok().json(subscription(&state, state.engine.get_subscription(*path)?)?))
}

/// Where a replay starts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReplayQuery {
    /// The first position delivered again.
    pub from: u64,
}

/// Deliver history again from a position (for a consumer that lost data).
#[utoipa::path(
    post, path = "/api/v1/subscriptions/{id}/replay", tag = "subscriptions",
    params(("id" = Uuid, Path, description = "Subscription id"), ReplayQuery),
    responses(
        (status = 202, description = "Delivery restarts from that position"),
        (status = 400, description = "Malformed id, position or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `admin`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such subscription", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Position 0, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["admin"]))
)]
#[post("/subscriptions/{id}/replay")]
pub async fn replay_subscription(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    query: web::Query<ReplayQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("admin")?;
    state
        .engine
        .replay_subscription(&context(&req, &principal), *path, query.from)
        .await?;
    state.subscriptions.replay(*path, query.from).await?;
    Ok(HttpResponse::Accepted().finish())
}
