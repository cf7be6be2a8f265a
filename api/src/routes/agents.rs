//! The agent protocol: lease a job, heartbeat, start, report steps and artifacts, complete.
//! Every report carries the lease id; a report under a lapsed or superseded lease is a 409.

use actix_web::{HttpRequest, HttpResponse, get, post, web};
use conveyor_engine::{
    Artifact, StepReport,
    aggregate::project::resolve_variables,
    aggregate::{build::ArtifactReport, job::JobCommand},
    service::{JobAssignment, JobView},
};
use uuid::Uuid;

use super::context;
use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{
        ArtifactDto, ArtifactRequest, BuildStatusDto, CompleteRequest, DeploymentStatusDto,
        JobAssignmentDto, JobKind, JobOutcome, JobStatus, JobVariable, LeaseDto, LeaseRef,
        LeaseRequest, StepRequest,
    },
};

/// Lease the oldest job this agent may run: 200 with the job, or 204 when none waits.
#[utoipa::path(
    post, path = "/api/v1/agents/lease", tag = "agents",
    request_body = LeaseRequest,
    responses(
        (status = 200, description = "A job, leased to this agent", body = JobAssignmentDto),
        (status = 204, description = "No job waits"),
        (status = 400, description = "Malformed body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid agent name, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/agents/lease")]
pub async fn lease_job(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    body: web::Json<LeaseRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let Some(assignment) = state
        .engine
        .lease_job(&context(&req, &principal), &body.agent)
        .await?
    else {
        return Ok(HttpResponse::NoContent().finish());
    };
    Ok(HttpResponse::Ok().json(assignment_dto(&state, assignment)?))
}

fn assignment_dto(
    state: &AppState,
    assignment: JobAssignment,
) -> Result<JobAssignmentDto, ApiError> {
    Ok(match assignment {
        JobAssignment::Build { build, lease } => {
            let b = &build.tracked.state;
            JobAssignmentDto {
                job_id: b.id.unwrap_or_default(),
                kind: JobKind::Build,
                lease: LeaseDto::from(&lease),
                project: b
                    .project
                    .as_ref()
                    .map(|p| p.to_string())
                    .unwrap_or_default(),
                repository: Some(b.repository.clone()),
                commit: b.commit.clone(),
                branch: b.branch.clone(),
                build_number: Some(build.number),
                steps: crate::wire::steps(&b.plan),
                plan_source: Some(b.plan_source.into()),
                environment: None,
                release_id: None,
                release_version: None,
                deployment_kind: None,
                previous_release_version: None,
                artifacts: Vec::new(),
                variables: Vec::new(),
            }
        }
        JobAssignment::Deployment {
            deployment,
            release,
            lease,
        } => {
            let d = &deployment.tracked.state;
            let environment = d.environment.clone().ok_or_else(|| {
                ApiError::internal(anyhow::anyhow!("a deployment without environment"))
            })?;
            // The values for this environment, unsealed: the agent needs them in clear (it
            // masks them in what it logs; the server masks again).
            let variables = resolve_variables(&release.variables, &environment)
                .into_iter()
                .map(|v| {
                    let value = if v.sensitive {
                        state.secrets.unseal(&v.value)?
                    } else {
                        v.value
                    };
                    Ok(JobVariable {
                        name: v.name,
                        value,
                        sensitive: v.sensitive,
                    })
                })
                .collect::<Result<Vec<_>, ApiError>>()?;
            JobAssignmentDto {
                job_id: d.id.unwrap_or_default(),
                kind: JobKind::Deployment,
                lease: LeaseDto::from(&lease),
                project: release.project.to_string(),
                repository: None,
                commit: release.commit.clone(),
                branch: release.branch.clone(),
                build_number: None,
                steps: release
                    .deployment_steps
                    .iter()
                    .map(|s| crate::wire::BuildStepDto {
                        name: s.name.clone(),
                        script: s.script.clone(),
                        artifacts: Vec::new(),
                        environment: s.environment.clone(),
                        timeout_seconds: s.timeout_seconds,
                    })
                    .collect(),
                plan_source: None,
                environment: Some(environment.to_string()),
                release_id: Some(release.release_id),
                release_version: Some(release.version.clone()),
                deployment_kind: d.kind.map(Into::into),
                previous_release_version: d.previous_release_version.clone(),
                artifacts: release.artifacts.iter().map(ArtifactDto::from).collect(),
                variables,
            }
        }
    })
}

fn job_status(view: JobView) -> JobStatus {
    match view {
        JobView::Build(build) => {
            let s = &build.tracked.state;
            JobStatus {
                job_id: s.id.unwrap_or_default(),
                kind: JobKind::Build,
                status: status_text(BuildStatusDto::from(s.status)),
                lease: s.job.lease.as_ref().map(LeaseDto::from),
            }
        }
        JobView::Deployment(deployment) => {
            let s = &deployment.tracked.state;
            JobStatus {
                job_id: s.id.unwrap_or_default(),
                kind: JobKind::Deployment,
                status: status_text(DeploymentStatusDto::from(s.status)),
                lease: s.job.lease.as_ref().map(LeaseDto::from),
            }
        }
    }
}

fn status_text(status: impl serde::Serialize) -> String {
    serde_json::to_value(status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

async fn run_job_command(
    principal: &Principal,
    req: &HttpRequest,
    state: &AppState,
    job_id: Uuid,
    command: JobCommand,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let view = state
        .engine
        .job_command(&context(req, principal), job_id, command)
        .await?;
    Ok(HttpResponse::Ok().json(job_status(view)))
}

/// Extend the job's lease.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/heartbeat", tag = "agents",
    params(("id" = Uuid, Path, description = "Job (build or deployment) id")),
    request_body = LeaseRef,
    responses(
        (status = 200, description = "Lease extended", body = JobStatus),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "The lease lapsed or was superseded, or the job ended", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/jobs/{id}/heartbeat")]
pub async fn heartbeat_job(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<LeaseRef>,
) -> Result<HttpResponse, ApiError> {
    let command = JobCommand::Heartbeat {
        lease_id: body.lease_id,
        duration: state.lease_duration,
    };
    run_job_command(&principal, &req, &state, *path, command).await
}

/// Report that the agent started running the job.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/start", tag = "agents",
    params(("id" = Uuid, Path, description = "Job (build or deployment) id")),
    request_body = LeaseRef,
    responses(
        (status = 200, description = "Started", body = JobStatus),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not leased under this lease, or already started", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/jobs/{id}/start")]
pub async fn start_job(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<LeaseRef>,
) -> Result<HttpResponse, ApiError> {
    run_job_command(
        &principal,
        &req,
        &state,
        *path,
        JobCommand::Start {
            lease_id: body.lease_id,
        },
    )
    .await
}

/// Report a step's result.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/steps", tag = "agents",
    params(("id" = Uuid, Path, description = "Job (build or deployment) id")),
    request_body = StepRequest,
    responses(
        (status = 200, description = "Recorded", body = JobStatus),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not running under this lease", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid step, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/jobs/{id}/steps")]
pub async fn report_step(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<StepRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.into_inner();
    let step = StepReport {
        lease_id: body.lease_id,
        name: body.name,
        outcome: body.outcome.into(),
        exit_code: body.exit_code,
        duration_ms: body.duration_ms,
    };
    run_job_command(
        &principal,
        &req,
        &state,
        *path,
        JobCommand::ReportStep(step),
    )
    .await
}

/// Report an artifact a build produced (name, SHA-256, size).
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/artifacts", tag = "agents",
    params(("id" = Uuid, Path, description = "Build id")),
    request_body = ArtifactRequest,
    responses(
        (status = 200, description = "Recorded", body = JobStatus),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not running under this lease, or not a build", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Invalid name or digest, content not uploaded yet (`PUT /api/v1/artifacts/{sha256}`), a size that differs from the stored content's, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/jobs/{id}/artifacts")]
pub async fn report_artifact(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<ArtifactRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let body = body.into_inner();
    // Deployments write the artifact under its name: it must stay inside their directory,
    // whatever agent reported it.
    super::artifacts::check_artifact_name(&body.name)?;
    // The release will promise these bytes to every deployment: they must be stored first.
    let digest = super::artifacts::parse_digest(&body.sha256)?;
    match state
        .blobs
        .size(&digest)
        .await
        .map_err(ApiError::internal)?
    {
        None => {
            return Err(ApiError::validation(
                "sha256",
                format!("upload the artifact first: PUT /api/v1/artifacts/{digest}"),
            ));
        }
        Some(stored) if stored != body.size => {
            return Err(ApiError::validation(
                "size",
                format!(
                    "the stored artifact {digest} holds {stored} bytes, not {}",
                    body.size
                ),
            ));
        }
        Some(_) => {}
    }
    let report = ArtifactReport {
        lease_id: body.lease_id,
        artifact: Artifact {
            name: body.name,
            sha256: body.sha256,
            size: body.size,
        },
    };
    let build = state
        .engine
        .report_artifact(&context(&req, &principal), *path, report)
        .await?;
    Ok(HttpResponse::Ok().json(job_status(JobView::Build(Box::new(build)))))
}

/// Report that the job ended.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/complete", tag = "agents",
    params(("id" = Uuid, Path, description = "Job (build or deployment) id")),
    request_body = CompleteRequest,
    responses(
        (status = 200, description = "Recorded", body = JobStatus),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not running under this lease", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "An Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/jobs/{id}/complete")]
pub async fn complete_job(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<CompleteRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let body = body.into_inner();
    let failure = match body.outcome {
        JobOutcome::Succeeded => None,
        JobOutcome::Failed => {
            let reason = body
                .reason
                .unwrap_or_else(|| "the agent reported a failure".into());
            // The reason goes into the event log, which cannot be scrubbed: mask it as the
            // job's log lines are, whatever agent sent it (it quotes the step's last lines).
            Some(super::logs::mask(
                &reason,
                &super::logs::secret_values(&state, *path),
            ))
        }
    };
    run_job_command(
        &principal,
        &req,
        &state,
        *path,
        JobCommand::Complete {
            lease_id: body.lease_id,
            failure,
        },
    )
    .await
}

/// A job's status and current lease; agents poll it while a step runs, to stop at once when
/// the job was cancelled or is no longer theirs. Appends nothing.
#[utoipa::path(
    get, path = "/api/v1/jobs/{id}", tag = "agents",
    params(("id" = Uuid, Path, description = "Job (build or deployment) id")),
    responses(
        (status = 200, description = "The job", body = JobStatus),
        (status = 400, description = "Malformed id", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[get("/jobs/{id}")]
pub async fn get_job(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let id = *path;
    let view = match state.engine.get_build(id) {
        Ok(build) => JobView::Build(Box::new(build)),
        Err(_) => JobView::Deployment(Box::new(
            state
                .engine
                .get_deployment(id)
                .map_err(|_| conveyor_engine::EngineError::not_found("job", id))?,
        )),
    };
    Ok(HttpResponse::Ok().json(job_status(view)))
}
