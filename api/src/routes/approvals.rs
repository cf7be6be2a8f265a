//! The approvals inbox: what waits for the caller.

use actix_web::{HttpResponse, get, web};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{Deployment, Page},
};

/// Which approvals to list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalsQuery {
    /// Only those still waiting (the only kind listed; default true).
    pub pending: Option<bool>,
}

/// Deployments waiting for an approval the caller may give: in environments whose
/// `approve:<env>` scope the token holds, not requested or released by the caller (unless the
/// environment allows self-approval), and not yet approved by them. Oldest first.
#[utoipa::path(
    get, path = "/api/v1/approvals", tag = "deployments",
    params(ApprovalsQuery),
    responses(
        (status = 200, description = "What waits for the caller", body = Page<Deployment>),
        (status = 400, description = "Malformed query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Never for a valid token: without approve scopes the list is empty", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "pending=false is not supported", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["approve:<env>"]))
)]
#[get("/approvals")]
pub async fn list_approvals(
    principal: Principal,
    state: web::Data<AppState>,
    query: web::Query<ApprovalsQuery>,
) -> Result<HttpResponse, ApiError> {
    if query.pending == Some(false) {
        return Err(ApiError::validation(
            "pending",
            "only pending approvals are listed; decisions are on each deployment",
        ));
    }
    let items = state
        .engine
        .pending_approvals(&principal.subject, &principal.scope_strings())
        .into_iter()
        .map(Deployment::from)
        .collect();
    Ok(HttpResponse::Ok().json(Page {
        items,
        next_cursor: None,
    }))
}
