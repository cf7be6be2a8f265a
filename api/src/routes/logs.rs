//! Job logs: agents append captured lines under their lease; readers fetch a build's or a
//! deployment's log as text, or follow it live until the job ends.
//!
//! Sensitive variable values are masked before a line is stored, so no secret reaches the
//! log files, whatever the step printed.

use std::time::Duration;

use actix_web::{HttpResponse, get, post, web};
use chrono::{DateTime, Utc};
use conveyor_engine::{EngineError, aggregate::project::Variable};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    logs::{LogLine, LogStream},
    server::AppState,
};

/// The most lines one append may carry (the body is also limited to 1 MiB).
pub const MAX_LOG_LINES_PER_CALL: usize = 5_000;

/// What replaces a secret in a stored line.
pub const MASK: &str = "********";

/// Secrets shorter than this are not masked: masking `on` or `1` would garble every line
/// while hiding nothing.
const MIN_MASKED_LEN: usize = 3;

/// How often a follower looks at the job's status when no line arrives.
const FOLLOW_POLL: Duration = Duration::from_secs(1);

/// How much of a log one chunk of the answer reads.
const READ_CHUNK_BYTES: usize = 256 * 1024;

/// Which output of a step a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LogStreamDto {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
    /// The agent's own notes.
    System,
}

impl From<LogStreamDto> for LogStream {
    fn from(stream: LogStreamDto) -> Self {
        match stream {
            LogStreamDto::Stdout => Self::Stdout,
            LogStreamDto::Stderr => Self::Stderr,
            LogStreamDto::System => Self::System,
        }
    }
}

/// One captured line.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct LogLineDto {
    /// When the agent captured it.
    pub at: DateTime<Utc>,
    /// The step it belongs to.
    pub step: String,
    /// Which output it came from.
    pub stream: LogStreamDto,
    /// The line, without its line break.
    pub text: String,
}

/// Lines an agent captured, sent under its lease.
#[derive(Debug, Clone, Deserialize, ToSchema)]
pub struct AppendLogRequest {
    /// The job's current lease.
    pub lease_id: Uuid,
    /// The lines, oldest first (at most 5,000).
    pub lines: Vec<LogLineDto>,
}

/// Query of a log read.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct LogQuery {
    /// Keep the answer open and stream new lines until the job ends.
    #[serde(default)]
    pub follow: bool,
}

/// A job's kind, which decides where its status is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum JobKind {
    Build,
    Deployment,
}

/// Append lines to a job's log. Sensitive variable values are masked before they are stored.
#[utoipa::path(
    post, path = "/api/v1/jobs/{id}/log", tag = "agents",
    params(("id" = Uuid, Path, description = "Job (build or deployment) id")),
    request_body = AppendLogRequest,
    responses(
        (status = 204, description = "Stored"),
        (status = 400, description = "Malformed id, body or Idempotency-Key", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such job", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 409, description = "Not the job's current lease (`lease-superseded`, `lease-expired`, `not-leased`)", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 413, description = "Body larger than 1 MiB", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "The body is not `application/json`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "More than 5,000 lines, or an Idempotency-Key reused for another request", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[post("/jobs/{id}/log")]
pub async fn append_job_log(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    body: web::Json<AppendLogRequest>,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let job_id = *path;
    let body = body.into_inner();
    if body.lines.len() > MAX_LOG_LINES_PER_CALL {
        return Err(ApiError::validation(
            "lines",
            format!("send at most {MAX_LOG_LINES_PER_CALL} lines per call"),
        ));
    }
    let job = find_job(&state, job_id)?;
    job.check_lease(body.lease_id, Utc::now())
        .map_err(|refusal| ApiError::from(EngineError::Refused(refusal)))?;
    let secrets = secret_values(&state, job_id);
    let lines: Vec<LogLine> = body
        .lines
        .into_iter()
        .map(|line| LogLine {
            at: line.at,
            step: mask(&line.step, &secrets),
            stream: line.stream.into(),
            text: mask(&line.text, &secrets),
        })
        .collect();
    state
        .logs
        .append(job_id, &lines)
        .await
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::NoContent().finish())
}

/// The job's protocol state, looked up as a build, then as a deployment.
fn find_job(
    state: &AppState,
    job_id: Uuid,
) -> Result<conveyor_engine::aggregate::job::JobState, ApiError> {
    match state.engine.get_build(job_id) {
        Ok(build) => return Ok(build.tracked.state.job),
        Err(EngineError::NotFound { .. }) => {}
        Err(err) => return Err(err.into()),
    }
    match state.engine.get_deployment(job_id) {
        Ok(deployment) => Ok(deployment.tracked.state.job),
        Err(EngineError::NotFound { .. }) => Err(ApiError::not_found("job", job_id.to_string())),
        Err(err) => Err(err.into()),
    }
}

/// What to mask in anything job `job_id` (a build or a deployment) sends: the clear values of
/// every sensitive variable it could have seen — for a deployment its release's snapshot, and
/// for both kinds the project's variables as they are now (a cheap defence should a build
/// ever receive them) — and each line of a value spanning several (see [`masked_values`]).
/// Every text an agent sends that is stored (log lines, a failure reason) is masked with it.
pub(crate) fn secret_values(state: &AppState, job_id: Uuid) -> Vec<String> {
    let mut sealed: Vec<String> = Vec::new();
    let project = match state.engine.get_build(job_id) {
        Ok(build) => build.tracked.state.project,
        Err(_) => {
            let deployment = state.engine.get_deployment(job_id).ok();
            let release = deployment
                .as_ref()
                .and_then(|d| d.tracked.state.release_id)
                .and_then(|id| state.engine.get_release(id).ok());
            if let Some(snapshot) = release.as_ref().and_then(|r| r.snapshot()) {
                sealed.extend(sealed_sensitive_values(&snapshot.variables));
            }
            deployment.and_then(|d| d.tracked.state.project)
        }
    };
    if let Some(spec) = project
        .and_then(|name| state.engine.get_project(&name).ok())
        .and_then(|p| p.state.spec)
    {
        sealed.extend(sealed_sensitive_values(&spec.variables));
    }
    masked_values(
        sealed
            .iter()
            .filter_map(|value| match state.secrets.unseal(value) {
                Ok(value) => Some(value),
                Err(err) => {
                    // Nobody can have received a value this key cannot open: nothing to mask.
                    tracing::warn!(%job_id, error = %err, "a sensitive value cannot be unsealed");
                    None
                }
            }),
    )
}

/// The strings to mask for these clear secret values: each value, and each line of a value
/// spanning several, trimmed — output is captured line by line, so a PEM key printed whole
/// reaches the log as separate lines, none of which contains the whole value. Strings
/// shorter than [`MIN_MASKED_LEN`] are left out. Longest first, so that a secret containing
/// another (a value its own lines) is masked whole.
fn masked_values(values: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut masked: Vec<String> = Vec::new();
    for value in values {
        if value.contains(['\n', '\r']) {
            masked.extend(
                value
                    .lines()
                    .map(str::trim)
                    .filter(|line| line.len() >= MIN_MASKED_LEN)
                    .map(str::to_owned),
            );
        }
        if value.len() >= MIN_MASKED_LEN {
            masked.push(value);
        }
    }
    masked.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
    masked.dedup();
    masked
}

/// The sealed values of the sensitive variables among `variables`: the default and every
/// environment's value, since any of them may be the one a job received.
fn sealed_sensitive_values(variables: &[Variable]) -> impl Iterator<Item = String> + '_ {
    variables
        .iter()
        .filter(|variable| variable.sensitive)
        .flat_map(|variable| variable.value.iter().chain(variable.environments.values()))
        .cloned()
}

/// Replaces every occurrence of each secret in `text` with [`MASK`]; `secrets` as
/// [`secret_values`] gives them (longest first).
pub(crate) fn mask(text: &str, secrets: &[String]) -> String {
    let mut masked = text.to_owned();
    for secret in secrets {
        if masked.contains(secret.as_str()) {
            masked = masked.replace(secret.as_str(), MASK);
        }
    }
    masked
}

/// A build's log as text, one line per captured line: `<at> <step> <stream> | <text>`.
#[utoipa::path(
    get, path = "/api/v1/builds/{id}/log", tag = "builds",
    params(("id" = Uuid, Path, description = "Build id"), LogQuery),
    responses(
        (status = 200, description = "The log so far (or, with `follow=true`, streamed until the build ends)", content_type = "text/plain", body = String),
        (status = 400, description = "Malformed id or query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such build", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 410, description = "Retention deleted the log (the detail says which release and rule)", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/builds/{id}/log")]
pub async fn get_build_log(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    state.engine.get_build(*path)?;
    still_kept(&state, *path)?;
    Ok(log_response(state, JobKind::Build, *path, query.follow))
}

/// A deployment's log as text, one line per captured line: `<at> <step> <stream> | <text>`.
#[utoipa::path(
    get, path = "/api/v1/deployments/{id}/log", tag = "deployments",
    params(("id" = Uuid, Path, description = "Deployment id"), LogQuery),
    responses(
        (status = 200, description = "The log so far (or, with `follow=true`, streamed until the deployment ends)", content_type = "text/plain", body = String),
        (status = 400, description = "Malformed id or query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `read`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No such deployment", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 410, description = "Retention deleted the log (the detail says which release and rule)", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]))
)]
#[get("/deployments/{id}/log")]
pub async fn get_deployment_log(
    principal: Principal,
    state: web::Data<AppState>,
    path: web::Path<Uuid>,
    query: web::Query<LogQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("read")?;
    state.engine.get_deployment(*path)?;
    still_kept(&state, *path)?;
    Ok(log_response(
        state,
        JobKind::Deployment,
        *path,
        query.follow,
    ))
}

/// A 410 when retention deleted the job's log.
fn still_kept(state: &AppState, job_id: Uuid) -> Result<(), ApiError> {
    match state.engine.why_log_deleted(job_id) {
        Some(why) => Err(ApiError::Gone(format!("the log of job {job_id} was {why}"))),
        None => Ok(()),
    }
}

/// Whether the job has ended (an unknown job counts as ended, so a follower never hangs).
fn job_finished(state: &AppState, kind: JobKind, job_id: Uuid) -> bool {
    match kind {
        JobKind::Build => state
            .engine
            .get_build(job_id)
            .map_or(true, |b| b.tracked.state.status.is_finished()),
        JobKind::Deployment => state
            .engine
            .get_deployment(job_id)
            .map_or(true, |d| d.tracked.state.status.is_finished()),
    }
}

/// Where a log answer is.
struct LogCursor {
    state: web::Data<AppState>,
    kind: JobKind,
    job_id: Uuid,
    follow: bool,
    offset: u64,
    appended: tokio::sync::watch::Receiver<u64>,
    shutting_down: tokio::sync::watch::Receiver<bool>,
}

impl LogCursor {
    /// The next piece of the answer, or `None` when it ends: the log is read out and the job
    /// ended (or is not followed), the server is stopping, or the disk failed.
    async fn next_chunk(&mut self) -> Option<String> {
        loop {
            // Looked at before reading, so lines appended before the job ended are sent.
            let finished = !self.follow || job_finished(&self.state, self.kind, self.job_id);
            self.appended.borrow_and_update();
            let chunk = match self
                .state
                .logs
                .read_from(self.job_id, self.offset, READ_CHUNK_BYTES)
                .await
            {
                Ok(chunk) => chunk,
                Err(err) => {
                    tracing::error!(job_id = %self.job_id, error = %err, "reading a job log");
                    return None;
                }
            };
            if !chunk.lines.is_empty() {
                self.offset = chunk.next_offset;
                return Some(chunk.lines.iter().map(LogLine::to_text).collect());
            }
            if finished {
                return None;
            }
            tokio::select! {
                // The server is stopping: end the answer; the client reads the rest later.
                _ = self.shutting_down.wait_for(|stopping| *stopping) => return None,
                _ = self.appended.changed() => {}
                _ = tokio::time::sleep(FOLLOW_POLL) => {}
            }
        }
    }
}

fn log_response(
    state: web::Data<AppState>,
    kind: JobKind,
    job_id: Uuid,
    follow: bool,
) -> HttpResponse {
    // Subscribed before the first read, so no append between the two is missed.
    let appended = state.logs.subscribe(job_id);
    let cursor = LogCursor {
        kind,
        job_id,
        follow,
        offset: 0,
        appended,
        shutting_down: state.shutting_down.clone(),
        state,
    };
    let body = stream::unfold(cursor, |mut cursor| async move {
        let text = cursor.next_chunk().await?;
        Some((Ok::<_, actix_web::Error>(web::Bytes::from(text)), cursor))
    });
    let mut response = HttpResponse::Ok();
    response.content_type("text/plain; charset=utf-8");
    if follow {
        response
            .insert_header(("Cache-Control", "no-cache"))
            .insert_header(("X-Accel-Buffering", "no"));
    }
    response.streaming(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_every_occurrence_longest_first() {
        let secrets = vec!["hunter2-long".to_owned(), "hunter2".to_owned()];
        assert_eq!(
            mask("a hunter2-long b hunter2 c hunter2", &secrets),
            "a ******** b ******** c ********"
        );
        assert_eq!(mask("nothing here", &secrets), "nothing here");
    }

    #[test]
    fn every_line_of_a_multi_line_secret_is_masked() {
        let key = "-----BEGIN PRIVATE KEY-----\r\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC  \n\
                   aB\nc2VjcmV0LWtleS1ib2R5\n-----END PRIVATE KEY-----\n";
        let secrets = masked_values([key.to_owned(), "on".to_owned()]);
        assert_eq!(secrets[0], key, "the whole value first");
        assert!(
            !secrets.iter().any(|s| s == "aB" || s == "on"),
            "{secrets:?}"
        );
        // Captured line by line, as an agent ships them.
        for line in key.lines() {
            let masked = mask(&format!("> {line}"), &secrets);
            let line = line.trim();
            if line.len() >= MIN_MASKED_LEN {
                assert!(
                    !masked.contains(line) && masked.contains(MASK),
                    "{masked:?}"
                );
            }
        }
        // Quoted whole, as in a failure reason's last lines.
        assert_eq!(
            mask(&format!("step failed; last lines:\n{key}"), &secrets),
            format!("step failed; last lines:\n{MASK}")
        );
        let tail = key.replace("\r\n", "\n").replace("  ", "");
        let masked = mask(&tail, &secrets);
        assert!(
            !masked.contains("MIIEvQ") && !masked.contains("PRIVATE KEY"),
            "{masked}"
        );
    }
}
