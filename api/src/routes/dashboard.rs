//! The dashboard: the project × environment grid.

use std::collections::BTreeMap;

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use conveyor_engine::model::CellDeployment;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::DeploymentStatusDto,
};

/// A deployment as a cell shows it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CellDeploymentDto {
    /// The deployment.
    pub deployment_id: Uuid,
    /// Its release's version.
    pub release_version: String,
    /// Its status.
    pub status: DeploymentStatusDto,
    /// When it last changed.
    pub at: DateTime<Utc>,
}

impl From<CellDeployment> for CellDeploymentDto {
    fn from(c: CellDeployment) -> Self {
        Self {
            deployment_id: c.deployment_id,
            release_version: c.release_version,
            status: c.status.into(),
            at: c.at,
        }
    }
}

/// One project in one environment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DashboardCellDto {
    /// The release live now.
    pub live: Option<CellDeploymentDto>,
    /// The most recent deployment, whatever its status.
    pub latest: Option<CellDeploymentDto>,
    /// Deployments waiting for approval.
    pub pending_approvals: u32,
    /// Automatic promotion here is held (after an automatic rollback) until a person promotes.
    pub held: bool,
    /// A freeze holds here now.
    pub frozen: bool,
}

/// One row: a project's cells by environment name (environments it never deployed to are
/// absent).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DashboardRow {
    /// Project.
    pub project: String,
    /// Cells by environment name.
    pub cells: BTreeMap<String, DashboardCellDto>,
}

/// The grid.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct DashboardDto {
    /// The columns, in name order.
    pub environments: Vec<String>,
    /// The rows, in project name order.
    pub projects: Vec<DashboardRow>,
    /// The log position the grid reflects.
    pub position: u64,
}

/// The project × environment grid: what is live where, the latest deployment and pending
/// approvals per cell. Kept current per event by the read model (never recomputed from the
/// log on request); every change is also an event on `/api/v1/events/stream`.
#[utoipa::path(
    get, path = "/api/v1/dashboard", tag = "dashboard",
    responses(
        (status = 200, description = "The grid", body = DashboardDto),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/dashboard")]
pub async fn get_dashboard(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    let position = state.engine.applied_position();
    Ok(HttpResponse::Ok().json(dashboard_dto(state.engine.dashboard(), position)))
}

/// Converts the engine's grid (public for the dashboard benchmark).
pub fn dashboard_dto(
    dashboard: conveyor_engine::service::Dashboard,
    position: u64,
) -> DashboardDto {
    let mut rows: BTreeMap<String, BTreeMap<String, DashboardCellDto>> = dashboard
        .projects
        .iter()
        .map(|p| (p.to_string(), BTreeMap::new()))
        .collect();
    for ((project, environment), cell) in dashboard.cells {
        rows.entry(project.to_string()).or_default().insert(
            environment.to_string(),
            DashboardCellDto {
                live: cell.live.map(Into::into),
                latest: cell.latest.map(Into::into),
                pending_approvals: cell.pending_approvals,
                held: cell.held,
                frozen: cell.frozen,
            },
        );
    }
    DashboardDto {
        environments: dashboard
            .environments
            .iter()
            .map(|e| e.to_string())
            .collect(),
        projects: rows
            .into_iter()
            .map(|(project, cells)| DashboardRow { project, cells })
            .collect(),
        position,
    }
}
