//! The dashboard: the project × environment grid.

use std::{collections::BTreeMap, time::Duration};

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, Utc};
use conveyor_engine::{model::CellDeployment, service::Engine};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
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
/// log on request); `/api/v1/dashboard/stream` sends it again whenever it changes.
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

/// How long bursts of events are gathered into one dashboard update.
const COALESCE: Duration = Duration::from_millis(250);
/// How often the dashboard stream recomputes the grid without events (a freeze window opens
/// or closes with the clock) and otherwise sends a keep-alive comment.
const REFRESH: Duration = Duration::from_secs(15);

/// The grid as Server-Sent Events, for everyone with `read`: the current grid first, then the
/// grid again whenever an event changed it (bursts gathered for a quarter of a second) or a
/// freeze window opened or closed. Each message's `id` is the log position it reflects.
#[utoipa::path(
    get, path = "/api/v1/dashboard/stream", tag = "dashboard",
    responses(
        (status = 200, description = "text/event-stream: `id: <position>`, `event: dashboard`, `data: <DashboardDto JSON>`; `: keep-alive` comments in between", content_type = "text/event-stream", body = String),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/dashboard/stream")]
pub async fn stream_dashboard(
    principal: Principal,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    struct Follow {
        engine: Engine,
        applied: watch::Receiver<u64>,
        shutting_down: watch::Receiver<bool>,
        /// The grid last sent, without its position.
        sent: Option<String>,
    }
    let follow = Follow {
        engine: state.engine.clone(),
        applied: state.engine.applied_positions(),
        shutting_down: state.shutting_down.clone(),
        sent: None,
    };
    let body = stream::unfold(Some(follow), |open| async move {
        let mut follow = open?;
        loop {
            let mut quiet = false;
            if follow.sent.is_some() {
                tokio::select! {
                    // The server is stopping: end the stream; the client reconnects.
                    _ = follow.shutting_down.wait_for(|stopping| *stopping) => return None,
                    changed = tokio::time::timeout(REFRESH, follow.applied.changed()) => match changed {
                        Err(_) => quiet = true,
                        Ok(Err(_)) => return None,
                        Ok(Ok(())) => tokio::time::sleep(COALESCE).await,
                    },
                }
            }
            follow.applied.borrow_and_update();
            let position = follow.engine.applied_position();
            let grid = dashboard_dto(follow.engine.dashboard(), position);
            let unchanged =
                serde_json::to_string(&(&grid.environments, &grid.projects)).unwrap_or_default();
            let chunk = if follow.sent.as_ref() != Some(&unchanged) {
                follow.sent = Some(unchanged);
                let data = serde_json::to_string(&grid).unwrap_or_default();
                format!("id: {position}\nevent: dashboard\ndata: {data}\n\n")
            } else if quiet {
                ": keep-alive\n\n".to_owned()
            } else {
                continue;
            };
            return Some((
                Ok::<_, actix_web::Error>(web::Bytes::from(chunk)),
                Some(follow),
            ));
        }
    });
    Ok(super::event_stream(body))
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
