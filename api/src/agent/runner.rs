//! Running one leased job from start to completion: the work directory, the checkout or the
//! artifact download, the steps, the artifacts, and the reports; meanwhile the lease is kept
//! alive and the job is watched, so that a cancel or a lost lease kills its processes at once.

use std::{
    collections::BTreeMap,
    path::{Component, Path, PathBuf},
    sync::Arc,
    time::{Duration, Instant},
};

use chrono::Utc;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::{
    Stop,
    checkout::{self, CheckoutError},
    client::{self, AgentClient, Assignment, ClientError, JobKind, JobStatus, PlanSource, Step},
    output::{JobOutput, Masker},
    process::{self, AbortSignal, ProcessExit, ProcessSpec},
};

/// A step without a timeout of its own is killed after an hour.
const DEFAULT_STEP_TIMEOUT_SECONDS: u64 = 3600;
/// How often the job's status is polled while it runs.
const WATCH_PERIOD: Duration = Duration::from_secs(1);
/// The pipelines file read when the project takes its plan from the repository.
const PIPELINES_FILE: &str = "bitbucket-pipelines.yml";
/// Work directories of failed jobs kept for inspection, in `<workdir>/failed/`.
const KEPT_FAILURES: usize = 5;
/// The name artifact transfers are logged under.
const ARTIFACTS_STEP: &str = "artifacts";
/// How long a job's last lines may take to reach the server before the job is reported
/// without them (the log is a convenience; the report and the agent's slot are not).
const FINAL_FLUSH_TIMEOUT: Duration = Duration::from_secs(60);
/// How long the log shipper may take to end once the job's output is dropped.
const SHIPPER_TIMEOUT: Duration = Duration::from_secs(10);

/// How a job ended on this agent.
#[derive(Debug)]
enum JobEnd {
    Succeeded,
    /// Reported as failed with this reason.
    Failed(String),
    /// Not ours any more (or the agent stops): nothing more is reported.
    Aborted(String),
}

/// Runs `job`, leased to `client`'s agent, in a fresh directory under `workdir`.
///
/// The work directory is removed afterwards, except when the job failed: then it moves to
/// `<workdir>/failed/`, where the last [`KEPT_FAILURES`] are kept for inspection. When `stop`
/// reaches [`Stop::Kill`] the job's processes are killed and nothing is reported, so the lease
/// lapses and the server hands the job to another agent (within its attempt limit).
pub async fn run_job(
    client: AgentClient,
    workdir: PathBuf,
    job: Assignment,
    mut stop: watch::Receiver<Stop>,
) {
    let id = job.job_id;
    tracing::info!(job = %id, kind = ?job.kind, attempt = job.lease.attempt, "running a job");
    if let Err(end) = report(&client, &job, "start", json!({})).await {
        tracing::warn!(job = %id, ?end, "could not start the job");
        return;
    }
    let (abort, aborted) = watch::channel(None::<String>);
    let abort = Arc::new(abort);
    let keeper = tokio::spawn(keep_lease(client.clone(), job.clone(), abort.clone()));
    let watcher = tokio::spawn(watch_job(client.clone(), job.clone(), abort.clone()));
    let stopper = {
        let abort = abort.clone();
        tokio::spawn(async move {
            if stop.wait_for(|level| *level == Stop::Kill).await.is_ok() {
                raise(&abort, "the agent was stopped".into());
            }
        })
    };
    let masker = Masker::new(
        job.variables
            .iter()
            .filter(|v| v.sensitive)
            .map(|v| v.value.clone()),
    );
    let (output, mut shipper) = JobOutput::start(client.clone(), job.clone(), masker);
    let dir = workdir.join(format!("{}-{}", id, job.lease.attempt));

    let end = execute(&client, &job, &dir, &output, aborted).await;

    if tokio::time::timeout(FINAL_FLUSH_TIMEOUT, output.flush())
        .await
        .is_err()
    {
        tracing::warn!(job = %id, "the job's last log lines could not be sent in time");
    }
    drop(output);
    // The shipper ends once every clone of the output is dropped; should one survive
    // somewhere, the job is reported (and its slot freed) all the same.
    if tokio::time::timeout(SHIPPER_TIMEOUT, &mut shipper)
        .await
        .is_err()
    {
        shipper.abort();
        tracing::warn!(job = %id, "the job's log shipper did not end; stopped it");
    }
    keeper.abort();
    watcher.abort();
    stopper.abort();
    match &end {
        JobEnd::Succeeded => {
            if let Err(end) =
                report(&client, &job, "complete", json!({"outcome": "succeeded"})).await
            {
                tracing::warn!(job = %id, ?end, "could not report success");
            }
            tracing::info!(job = %id, "job succeeded");
        }
        JobEnd::Failed(reason) => {
            let body = json!({"outcome": "failed", "reason": reason});
            if let Err(end) = report(&client, &job, "complete", body).await {
                tracing::warn!(job = %id, ?end, "could not report failure");
            }
            tracing::info!(job = %id, reason, "job failed");
        }
        JobEnd::Aborted(reason) => tracing::info!(job = %id, reason, "job stopped"),
    }
    clean_up(&workdir, &dir, matches!(end, JobEnd::Failed(_))).await;
}

async fn execute(
    client: &AgentClient,
    job: &Assignment,
    dir: &Path,
    output: &JobOutput,
    mut abort: AbortSignal,
) -> JobEnd {
    if let Err(error) = fresh_dir(dir).await {
        return JobEnd::Failed(format!(
            "could not create the work directory {}: {error}",
            dir.display()
        ));
    }
    match job.kind {
        JobKind::Build => run_build(client, job, dir, output, &mut abort).await,
        JobKind::Deployment => run_deployment(client, job, dir, output, &mut abort).await,
    }
}

async fn run_build(
    client: &AgentClient,
    job: &Assignment,
    dir: &Path,
    output: &JobOutput,
    abort: &mut AbortSignal,
) -> JobEnd {
    let Some(repository) = job.repository.as_deref().filter(|r| !r.trim().is_empty()) else {
        return JobEnd::Failed("the build names no repository".into());
    };
    match checkout::checkout(repository, &job.commit, dir, output, abort).await {
        Ok(()) => {}
        Err(CheckoutError::Aborted(reason)) => return JobEnd::Aborted(reason),
        Err(CheckoutError::Failed(reason)) => {
            output.flush().await;
            let tail = output.tail();
            return JobEnd::Failed(with_tail(
                format!("checking out {} failed: {reason}", job.commit),
                &tail,
            ));
        }
    }
    let steps = match job.plan_source {
        Some(PlanSource::Repository) => match plan_from_repository(dir, &job.branch).await {
            Ok(steps) => steps,
            Err(reason) => return JobEnd::Failed(reason),
        },
        _ => job.steps.clone(),
    };
    let mut env = vec![
        ("CONVEYOR_COMMIT", job.commit.clone()),
        ("CONVEYOR_BRANCH", job.branch.clone()),
        (
            "CONVEYOR_BUILD_NUMBER",
            job.build_number.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("CONVEYOR_BUILD_ID", job.job_id.to_string()),
        ("CONVEYOR_PROJECT", job.project.clone()),
        ("CONVEYOR_REPOSITORY", repository.to_owned()),
        // What Bitbucket Pipelines scripts expect.
        ("BITBUCKET_COMMIT", job.commit.clone()),
        ("BITBUCKET_BRANCH", job.branch.clone()),
        (
            "BITBUCKET_BUILD_NUMBER",
            job.build_number.map(|n| n.to_string()).unwrap_or_default(),
        ),
        ("BITBUCKET_CLONE_DIR", dir.display().to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect::<Vec<_>>();
    env.push(("CI".into(), "true".into()));
    if let end @ (JobEnd::Failed(_) | JobEnd::Aborted(_)) =
        run_steps(client, job, &steps, dir, &env, output, abort).await
    {
        return end;
    }
    let artifacts = {
        let dir = dir.to_owned();
        let steps = steps.clone();
        tokio::task::spawn_blocking(move || collect_artifacts(&dir, &steps)).await
    };
    let artifacts = match artifacts {
        Ok(Ok(artifacts)) => artifacts,
        Ok(Err(reason)) => return JobEnd::Failed(reason),
        Err(error) => return JobEnd::Failed(format!("collecting the artifacts failed: {error}")),
    };
    for (name, path) in artifacts {
        let aborted = abort.borrow().clone();
        if let Some(reason) = aborted {
            return JobEnd::Aborted(reason);
        }
        let (sha256, size) = match client::file_digest(&path).await {
            Ok(digest) => digest,
            Err(error) => return JobEnd::Failed(format!("reading artifact {name}: {error}")),
        };
        output
            .system(
                ARTIFACTS_STEP,
                &format!("uploading {name} ({size} bytes, sha256 {sha256})"),
            )
            .await;
        if let Err(end) = retrying(|| client.upload_artifact(&path, &sha256)).await {
            return match end {
                ClientError::LeaseLost(detail) => JobEnd::Aborted(detail),
                error => JobEnd::Failed(format!("uploading artifact {name} failed: {error}")),
            };
        }
        let body = json!({"name": name, "sha256": sha256, "size": size});
        if let Err(end) = report(client, job, "artifacts", body).await {
            return end;
        }
    }
    JobEnd::Succeeded
}

async fn plan_from_repository(dir: &Path, branch: &str) -> Result<Vec<Step>, String> {
    let yaml = tokio::fs::read_to_string(dir.join(PIPELINES_FILE))
        .await
        .map_err(|error| format!("the project takes its plan from {PIPELINES_FILE}: {error}"))?;
    let plan = conveyor_engine::pipelines::plan_for_branch(&yaml, branch)
        .map_err(|error| format!("{PIPELINES_FILE}: {error}"))?;
    Ok(plan
        .steps
        .into_iter()
        .map(|step| Step {
            name: step.name,
            script: step.script,
            artifacts: step.artifacts,
            environment: step.environment.into_iter().collect(),
            timeout_seconds: step.timeout_seconds,
        })
        .collect())
}

async fn run_deployment(
    client: &AgentClient,
    job: &Assignment,
    dir: &Path,
    output: &JobOutput,
    abort: &mut AbortSignal,
) -> JobEnd {
    for artifact in &job.artifacts {
        let aborted = abort.borrow().clone();
        if let Some(reason) = aborted {
            return JobEnd::Aborted(reason);
        }
        let Some(relative) = safe_relative_path(&artifact.name) else {
            return JobEnd::Failed(format!(
                "artifact name {:?} is not a relative path inside the work directory",
                artifact.name
            ));
        };
        let destination = dir.join(relative);
        if let Some(parent) = destination.parent()
            && let Err(error) = tokio::fs::create_dir_all(parent).await
        {
            return JobEnd::Failed(format!("creating {}: {error}", parent.display()));
        }
        output
            .system(
                ARTIFACTS_STEP,
                &format!(
                    "fetching {} ({} bytes, sha256 {})",
                    artifact.name, artifact.size, artifact.sha256
                ),
            )
            .await;
        if let Err(error) = retrying(|| client.download_artifact(artifact, &destination)).await {
            return match error {
                ClientError::LeaseLost(detail) => JobEnd::Aborted(detail),
                error => JobEnd::Failed(format!(
                    "fetching artifact {} failed: {error}",
                    artifact.name
                )),
            };
        }
    }
    // Variables first, so that a variable cannot pass itself off as one of Conveyor's.
    let mut env: Vec<(String, String)> = job
        .variables
        .iter()
        .map(|v| (v.name.clone(), v.value.clone()))
        .collect();
    env.extend(
        [
            (
                "CONVEYOR_ENVIRONMENT",
                job.environment.clone().unwrap_or_default(),
            ),
            (
                "CONVEYOR_RELEASE_VERSION",
                job.release_version.clone().unwrap_or_default(),
            ),
            (
                "CONVEYOR_DEPLOYMENT_KIND",
                job.deployment_kind
                    .clone()
                    .unwrap_or_else(|| "deploy".into()),
            ),
            (
                "CONVEYOR_PREVIOUS_RELEASE_VERSION",
                job.previous_release_version.clone().unwrap_or_default(),
            ),
            ("CONVEYOR_PROJECT", job.project.clone()),
            (
                "CONVEYOR_RELEASE_ID",
                job.release_id.map(|id| id.to_string()).unwrap_or_default(),
            ),
            ("CONVEYOR_DEPLOYMENT_ID", job.job_id.to_string()),
            ("CONVEYOR_COMMIT", job.commit.clone()),
            ("CONVEYOR_BRANCH", job.branch.clone()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v)),
    );
    run_steps(client, job, &job.steps, dir, &env, output, abort).await
}

/// Runs the steps in order; the first that fails fails the job and the rest are skipped.
async fn run_steps(
    client: &AgentClient,
    job: &Assignment,
    steps: &[Step],
    dir: &Path,
    env: &[(String, String)],
    output: &JobOutput,
    abort: &mut AbortSignal,
) -> JobEnd {
    for (index, step) in steps.iter().enumerate() {
        output.clear_tail();
        output
            .system(&step.name, &format!("running step {}", step.name))
            .await;
        let mut step_env = env.to_vec();
        step_env.extend(step.environment.iter().map(|(k, v)| (k.clone(), v.clone())));
        let timeout = step.timeout_seconds.unwrap_or(DEFAULT_STEP_TIMEOUT_SECONDS);
        let spec = ProcessSpec::script(
            &step.script,
            dir.to_owned(),
            step_env,
            Duration::from_secs(timeout),
        );
        let started = Instant::now();
        let exit = process::run(&spec, &step.name, output, abort).await;
        let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
        let name = &step.name;
        let failure = match exit {
            ProcessExit::Exited(0) => None,
            ProcessExit::Exited(code) => Some((
                Some(code),
                format!("step \"{name}\" exited with code {code}"),
            )),
            ProcessExit::Signalled(signal) => Some((
                None,
                format!("step \"{name}\" was killed by signal {signal}"),
            )),
            ProcessExit::TimedOut => {
                Some((None, format!("step \"{name}\" timed out after {timeout} s")))
            }
            ProcessExit::NotStarted(error) => {
                Some((None, format!("step \"{name}\" could not start: {error}")))
            }
            ProcessExit::Aborted(reason) => {
                output
                    .system(name, &format!("step stopped: {reason}"))
                    .await;
                return JobEnd::Aborted(reason);
            }
        };
        if let Some((_, reason)) = &failure {
            output.system(name, reason).await;
        }
        output.flush().await;
        let body = match &failure {
            None => {
                json!({"name": name, "outcome": "succeeded", "exit_code": 0, "duration_ms": duration_ms})
            }
            Some((code, _)) => {
                json!({"name": name, "outcome": "failed", "exit_code": code, "duration_ms": duration_ms})
            }
        };
        if let Err(end) = report(client, job, "steps", body).await {
            return end;
        }
        if let Some((_, reason)) = failure {
            for later in &steps[index + 1..] {
                let body = json!({"name": later.name, "outcome": "skipped", "duration_ms": 0});
                if let Err(end) = report(client, job, "steps", body).await {
                    return end;
                }
            }
            return JobEnd::Failed(with_tail(reason, &output.tail()));
        }
    }
    JobEnd::Succeeded
}

/// The reason followed by the step's last lines.
fn with_tail(reason: String, tail: &[String]) -> String {
    if tail.is_empty() {
        reason
    } else {
        format!("{reason}; last lines:\n{}", tail.join("\n"))
    }
}

/// The regular files matching the steps' artifact globs, by name relative to `dir`.
///
/// A match that resolves outside `dir` fails the build: the checkout is the repository's to
/// shape, and a committed symlink (`dist -> /etc`, or a file linking out) must not make the
/// agent upload its host's files.
fn collect_artifacts(dir: &Path, steps: &[Step]) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut found = BTreeMap::new();
    let root = glob::Pattern::escape(&dir.to_string_lossy());
    let canonical_dir = dir
        .canonicalize()
        .map_err(|error| format!("resolving the checkout {}: {error}", dir.display()))?;
    for step in steps {
        for pattern in &step.artifacts {
            let invalid = |why: &str| {
                format!(
                    "artifact glob \"{pattern}\" of step \"{}\" is invalid: {why}",
                    step.name
                )
            };
            if safe_relative_path(pattern).is_none() {
                return Err(invalid("it must be relative and stay inside the checkout"));
            }
            let paths = glob::glob(&format!("{root}/{pattern}"))
                .map_err(|error| invalid(&error.to_string()))?;
            let mut matched = 0;
            for path in paths {
                let path = path.map_err(|error| format!("reading the checkout: {error}"))?;
                let Ok(relative) = path.strip_prefix(dir) else {
                    continue;
                };
                // Every component resolved, not only the last: any of them may be a symlink.
                let resolved = match path.canonicalize() {
                    Ok(resolved) => resolved,
                    // A dangling symlink names no file.
                    Err(error) if error.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(error) => {
                        return Err(format!("resolving {}: {error}", relative.display()));
                    }
                };
                if !resolved.starts_with(&canonical_dir) {
                    return Err(format!(
                        "artifact glob \"{pattern}\" of step \"{}\" matched {}, which resolves \
                         outside the checkout (to {}) through a symbolic link",
                        step.name,
                        relative.display(),
                        resolved.display()
                    ));
                }
                if !std::fs::metadata(&resolved).is_ok_and(|m| m.file_type().is_file()) {
                    continue;
                }
                let name = relative
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy())
                    .collect::<Vec<_>>()
                    .join("/");
                found.insert(name, path.clone());
                matched += 1;
            }
            if matched == 0 {
                return Err(format!(
                    "artifact glob \"{pattern}\" of step \"{}\" matched no file",
                    step.name
                ));
            }
        }
    }
    Ok(found)
}

/// `name` as a relative path that stays inside the directory it is joined to.
fn safe_relative_path(name: &str) -> Option<&Path> {
    let path = Path::new(name);
    let fine = !name.trim().is_empty()
        && path
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir))
        && path.components().any(|c| matches!(c, Component::Normal(_)));
    fine.then_some(path)
}

async fn fresh_dir(dir: &Path) -> std::io::Result<()> {
    match tokio::fs::remove_dir_all(dir).await {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    tokio::fs::create_dir_all(dir).await
}

/// Removes the work directory, or keeps it among the last failures.
async fn clean_up(workdir: &Path, dir: &Path, failed: bool) {
    if failed {
        let kept = workdir.join("failed");
        let Some(name) = dir.file_name() else { return };
        if tokio::fs::create_dir_all(&kept).await.is_ok()
            && tokio::fs::rename(dir, kept.join(name)).await.is_ok()
        {
            prune(&kept).await;
            return;
        }
    }
    if let Err(error) = tokio::fs::remove_dir_all(dir).await
        && error.kind() != std::io::ErrorKind::NotFound
    {
        tracing::warn!(dir = %dir.display(), %error, "could not remove the work directory");
    }
}

/// Keeps the newest [`KEPT_FAILURES`] directories of `kept`.
async fn prune(kept: &Path) {
    let Ok(mut entries) = tokio::fs::read_dir(kept).await else {
        return;
    };
    let mut dirs = Vec::new();
    while let Ok(Some(entry)) = entries.next_entry().await {
        if let Ok(modified) = entry.metadata().await.and_then(|m| m.modified()) {
            dirs.push((modified, entry.path()));
        }
    }
    dirs.sort();
    let excess = dirs.len().saturating_sub(KEPT_FAILURES);
    for (_, path) in dirs.into_iter().take(excess) {
        let _ = tokio::fs::remove_dir_all(path).await;
    }
}

/// Raises the abort signal unless it was raised already (the first reason wins).
fn raise(abort: &watch::Sender<Option<String>>, reason: String) {
    abort.send_if_modified(|current| {
        if current.is_none() {
            *current = Some(reason);
            true
        } else {
            false
        }
    });
}

/// Heartbeats every third of the remaining lease; aborts the job when the lease is lost.
async fn keep_lease(
    client: AgentClient,
    job: Assignment,
    abort: Arc<watch::Sender<Option<String>>>,
) {
    let mut expires_at = job.lease.expires_at;
    loop {
        let remaining = (expires_at - Utc::now()).to_std().unwrap_or_default();
        let wait = (remaining / 3).clamp(Duration::from_millis(200), Duration::from_secs(60));
        tokio::time::sleep(wait).await;
        match client.report(&job, "heartbeat", json!({})).await {
            Ok(status) => {
                if let Some(lease) = status
                    .lease
                    .filter(|lease| lease.lease_id == job.lease.lease_id)
                {
                    expires_at = lease.expires_at;
                }
            }
            Err(ClientError::LeaseLost(detail)) => {
                raise(&abort, format!("the lease is no longer ours: {detail}"));
                return;
            }
            Err(error) => {
                tracing::warn!(job = %job.job_id, %error, "heartbeat failed");
                if Utc::now() > expires_at {
                    raise(
                        &abort,
                        "the lease lapsed while the server could not be reached".into(),
                    );
                    return;
                }
            }
        }
    }
}

/// Polls the job every second: once it ended (cancelled, say) or another lease holds it, the
/// job is aborted, which kills the running step's process group.
async fn watch_job(
    client: AgentClient,
    job: Assignment,
    abort: Arc<watch::Sender<Option<String>>>,
) {
    loop {
        tokio::time::sleep(WATCH_PERIOD).await;
        let status: JobStatus = match client.job_status(job.job_id).await {
            Ok(status) => status,
            Err(error) => {
                tracing::debug!(job = %job.job_id, %error, "polling the job failed");
                continue;
            }
        };
        if status.is_finished() {
            raise(&abort, format!("the job is {}", status.status));
            return;
        }
        let ours = status
            .lease
            .as_ref()
            .is_some_and(|lease| lease.lease_id == job.lease.lease_id);
        if !ours {
            raise(&abort, "the job is no longer leased to this agent".into());
            return;
        }
    }
}

/// Sends one protocol report, retrying network trouble and 5xx for about half a minute.
/// A 409 means the lease is gone ([`JobEnd::Aborted`]); another refusal fails the job.
async fn report(
    client: &AgentClient,
    job: &Assignment,
    what: &str,
    body: Value,
) -> Result<JobStatus, JobEnd> {
    retrying(|| client.report(job, what, body.clone()))
        .await
        .map_err(|error| match error {
            ClientError::LeaseLost(detail) => {
                JobEnd::Aborted(format!("the lease is no longer ours: {detail}"))
            }
            error => JobEnd::Failed(format!("the server refused the {what} report: {error}")),
        })
}

async fn retrying<T, F, Fut>(mut call: F) -> Result<T, ClientError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, ClientError>>,
{
    let mut delay = Duration::from_millis(500);
    let mut attempt = 1;
    loop {
        match call().await {
            Err(error) if error.is_transient() && attempt < 7 => {
                tracing::warn!(%error, attempt, "retrying");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(8));
                attempt += 1;
            }
            result => return result,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn artifact_names_must_stay_inside_the_directory() {
        assert!(safe_relative_path("dist/app.tar.gz").is_some());
        assert!(safe_relative_path("./app").is_some());
        for bad in ["", "/etc/passwd", "../x", "dist/../../x", ".", "  "] {
            assert!(safe_relative_path(bad).is_none(), "{bad:?}");
        }
    }

    #[test]
    fn globs_collect_regular_files_by_relative_name() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("dist/sub")).unwrap();
        std::fs::write(dir.path().join("dist/a.txt"), "a").unwrap();
        std::fs::write(dir.path().join("dist/sub/b.txt"), "b").unwrap();
        let step = |globs: &[&str]| Step {
            name: "build".into(),
            script: String::new(),
            artifacts: globs.iter().map(|g| (*g).to_owned()).collect(),
            environment: BTreeMap::new(),
            timeout_seconds: None,
        };
        let found = collect_artifacts(dir.path(), &[step(&["dist/**/*.txt"])]).unwrap();
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            ["dist/a.txt", "dist/sub/b.txt"]
        );
        let error = collect_artifacts(dir.path(), &[step(&["out/*.jar"])]).unwrap_err();
        assert!(error.contains("matched no file"), "{error}");
        assert!(collect_artifacts(dir.path(), &[step(&["../*"])]).is_err());
    }

    #[test]
    fn a_match_resolving_outside_the_checkout_fails_the_build() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("hostname"), "the agent's host").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let checkout = dir.path().join("checkout");
        std::fs::create_dir_all(checkout.join("inside")).unwrap();
        std::fs::write(checkout.join("inside/a.txt"), "a").unwrap();
        // Committed symlinks: a directory and a file pointing out, and links that stay in.
        std::os::unix::fs::symlink(outside.path(), checkout.join("dist")).unwrap();
        std::os::unix::fs::symlink(outside.path().join("hostname"), checkout.join("out.txt"))
            .unwrap();
        std::os::unix::fs::symlink("inside", checkout.join("also")).unwrap();
        std::os::unix::fs::symlink("nowhere", checkout.join("inside/dangling.txt")).unwrap();
        let step = |globs: &[&str]| Step {
            name: "build".into(),
            script: String::new(),
            artifacts: globs.iter().map(|g| (*g).to_owned()).collect(),
            environment: BTreeMap::new(),
            timeout_seconds: None,
        };
        for glob in ["dist/hostname", "dist/*", "out.txt", "*.txt"] {
            let error = collect_artifacts(&checkout, &[step(&[glob])]).unwrap_err();
            assert!(
                error.contains("outside the checkout") && error.contains(glob),
                "{glob}: {error}"
            );
        }
        let found = collect_artifacts(&checkout, &[step(&["also/*.txt", "inside/*"])]).unwrap();
        assert_eq!(
            found.keys().collect::<Vec<_>>(),
            ["also/a.txt", "inside/a.txt"]
        );
    }
}
