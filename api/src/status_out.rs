//! Build statuses out: a follower of the event log (an outbox with its own persisted
//! checkpoint) that reports each build's state to the git host its push came from —
//! Bitbucket Cloud and Data Center build statuses, GitHub commit statuses, GitLab commit
//! statuses. Attempts are retried with backoff and each one's outcome is recorded as an
//! event. It runs beside the workflow and never blocks it.

use std::time::Duration;

use conveyor_engine::{
    Engine,
    aggregate::{build::BuildEvent, decode, integration::GitHost, project::repository_key},
    status::StatusAttempt,
};
use conveyor_store::{Record, StoreError};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use crate::secrets::Secrets;

/// The name of the reporter's checkpoint in the store.
pub const CHECKPOINT: &str = "build-status-out";
/// Attempts per state before the reporter gives up on it (each one is recorded).
pub const MAX_ATTEMPTS: u32 = 6;

/// A build's state in the words each host uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    InProgress,
    Succeeded,
    Failed,
    Stopped,
}

/// One report to send.
#[derive(Debug, Clone)]
struct Report {
    build_id: Uuid,
    integration: conveyor_engine::names::IntegrationName,
    host: GitHost,
    url: String,
    credentials: Option<String>,
    state_word: String,
    body: serde_json::Value,
}

/// The running reporter; stop it on shutdown.
#[derive(Debug)]
pub struct StatusReporter {
    stop: watch::Sender<bool>,
    task: tokio::task::JoinHandle<()>,
}

impl StatusReporter {
    /// Starts following the log after the reporter's checkpoint. `public_url` is this
    /// server's address as hosts should link to it.
    pub fn spawn(engine: Engine, secrets: Secrets, public_url: String) -> StatusReporter {
        let (stop, stopped) = watch::channel(false);
        let task = tokio::spawn(async move {
            let mut stop = stopped.clone();
            // Of every node, the one holding the reporter's lock reports; the others wait to
            // take over.
            loop {
                let store = engine.store().clone();
                let lock = tokio::select! {
                    lock = store.lock(CHECKPOINT) => lock,
                    _ = stop.wait_for(|stopping| *stopping) => return,
                };
                let result = match lock {
                    Ok(mut lock) => tokio::select! {
                        result = run(engine.clone(), secrets.clone(), public_url.clone(), stopped.clone()) => result,
                        _ = lock.lost() => Err(StoreError::Backend("the reporter's lock was lost".into())),
                    },
                    Err(err) => Err(err),
                };
                match result {
                    Ok(()) => return,
                    Err(err) => {
                        tracing::error!(error = %err, "the build status reporter stopped; restarting");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.wait_for(|stopping| *stopping) => return,
                        }
                    }
                }
            }
        });
        StatusReporter { stop, task }
    }

    /// Stops after the attempt in flight; the checkpoint says where to resume.
    pub async fn stop(self) {
        self.stop.send_replace(true);
        let _ = self.task.await;
    }
}

async fn run(
    engine: Engine,
    secrets: Secrets,
    public_url: String,
    mut stop: watch::Receiver<bool>,
) -> Result<(), StoreError> {
    let store = engine.store().clone();
    let checkpoint = store.load_checkpoint(CHECKPOINT).await?;
    let mut subscription = store.subscribe(checkpoint).await?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .user_agent("conveyor")
        .build()
        .map_err(|err| StoreError::Backend(err.to_string()))?;
    loop {
        let record = tokio::select! {
            record = subscription.next() => record?,
            _ = stop.wait_for(|stopping| *stopping) => return Ok(()),
        };
        // The read model must hold the build before the report can be built from it.
        if engine.wait_applied(record.position).await.is_err() {
            return Ok(());
        }
        if let Some(report) = report_for(&engine, &secrets, &public_url, &record) {
            if !deliver(&engine, &client, &report, &mut stop).await {
                // Stopping mid-retry: the record is not done; the next start resumes here.
                return Ok(());
            }
            store.save_checkpoint(CHECKPOINT, record.position).await?;
        }
    }
}

/// Sends a report until the host accepts it or the attempts run out; records every attempt.
/// Returns false when told to stop before it was done.
async fn deliver(
    engine: &Engine,
    client: &reqwest::Client,
    report: &Report,
    stop: &mut watch::Receiver<bool>,
) -> bool {
    let mut backoff = Duration::from_millis(200);
    for attempt in 1..=MAX_ATTEMPTS {
        let (delivered, http_status, error) = send(client, report).await;
        let recorded = engine
            .record_status_attempt(StatusAttempt {
                build_id: report.build_id,
                integration: report.integration.clone(),
                state: report.state_word.clone(),
                target: report.url.clone(),
                attempt,
                delivered,
                http_status,
                error,
            })
            .await;
        if let Err(err) = recorded {
            tracing::warn!(error = %err, "could not record a build status attempt");
        }
        if delivered || attempt == MAX_ATTEMPTS {
            return true;
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|stopping| *stopping) => return false,
        }
        backoff = (backoff * 2).min(Duration::from_secs(30));
    }
    true
}

async fn send(client: &reqwest::Client, report: &Report) -> (bool, Option<u16>, Option<String>) {
    let mut request = client.post(&report.url).json(&report.body);
    request = match (report.host, report.credentials.as_deref()) {
        (_, None) => request,
        (GitHost::Gitlab, Some(token)) => request.header("PRIVATE-TOKEN", token),
        (GitHost::Github, Some(token)) => request
            .bearer_auth(token)
            .header("Accept", "application/vnd.github+json"),
        // Bitbucket takes `user:app-password` as basic auth, or an access token as bearer.
        (_, Some(credentials)) => match credentials.split_once(':') {
            Some((user, password)) => request.basic_auth(user, Some(password)),
            None => request.bearer_auth(credentials),
        },
    };
    match request.send().await {
        Ok(response) if response.status().is_success() => {
            (true, Some(response.status().as_u16()), None)
        }
        Ok(response) => {
            let status = response.status().as_u16();
            let text = response.text().await.unwrap_or_default();
            let text: String = text.chars().take(200).collect();
            (
                false,
                Some(status),
                Some(format!("the host answered {status}: {text}")),
            )
        }
        Err(err) => (
            false,
            None,
            Some(format!("the host could not be reached: {err}")),
        ),
    }
}

/// The report a record calls for, if any: a state change of a build whose push came from a
/// git host integration with an API configured.
fn report_for(
    engine: &Engine,
    secrets: &Secrets,
    public_url: &str,
    record: &Record,
) -> Option<Report> {
    let build_id = Uuid::parse_str(record.stream.strip_prefix("build-")?).ok()?;
    let state = match decode::<BuildEvent>(&record.event_type, &record.payload)? {
        BuildEvent::BuildQueued { .. } => State::InProgress,
        BuildEvent::BuildSucceeded { .. } => State::Succeeded,
        BuildEvent::BuildFailed { .. } => State::Failed,
        BuildEvent::BuildCancelled { .. } => State::Stopped,
        _ => return None,
    };
    engine.read(|m| {
        let build = m.builds.get(&build_id)?;
        let project = build.tracked.state.project.clone()?;
        let push = m.pushes.get(&build.tracked.state.push_id?)?;
        let integration = push.state.integration.clone()?;
        let spec = m.integrations.get(&integration)?.state.spec.clone()?;
        let api = spec.api_url.as_deref()?.trim_end_matches('/').to_owned();
        let credentials = match spec
            .credentials
            .as_deref()
            .map(|sealed| secrets.unseal(sealed))
        {
            Some(Ok(credentials)) => Some(credentials),
            Some(Err(_)) => {
                tracing::warn!(%integration, "the integration's credentials cannot be unsealed");
                return None;
            }
            None => None,
        };
        let report = push.state.report.as_ref()?;
        let key = repository_key(&report.repository);
        let path = key.split_once('/').map(|(_, path)| path.to_owned())?;
        let commit = build.tracked.state.commit.clone();
        let link = format!("{public_url}/api/v1/builds/{build_id}");
        let name = format!("{project} #{}", build.number);
        let description = match state {
            State::InProgress => "the build is queued or running",
            State::Succeeded => "the build succeeded",
            State::Failed => "the build failed",
            State::Stopped => "the build was cancelled",
        };
        let (url, state_word, body) = match spec.host {
            GitHost::BitbucketCloud => {
                let word = match state {
                    State::InProgress => "INPROGRESS",
                    State::Succeeded => "SUCCESSFUL",
                    State::Failed => "FAILED",
                    State::Stopped => "STOPPED",
                };
                (
                    format!("{api}/2.0/repositories/{path}/commit/{commit}/statuses/build"),
                    word,
                    // The key is the project's: a rebuild of the commit overwrites the status.
                    json!({"key": format!("conveyor-{project}"), "state": word, "name": name,
                           "url": link, "description": description}),
                )
            }
            GitHost::BitbucketServer => {
                let word = match state {
                    State::InProgress => "INPROGRESS",
                    State::Succeeded => "SUCCESSFUL",
                    State::Failed | State::Stopped => "FAILED",
                };
                (
                    format!("{api}/rest/build-status/1.0/commits/{commit}"),
                    word,
                    json!({"key": format!("conveyor-{project}"), "state": word, "name": name,
                           "url": link, "description": description}),
                )
            }
            GitHost::Github => {
                let word = match state {
                    State::InProgress => "pending",
                    State::Succeeded => "success",
                    State::Failed => "failure",
                    State::Stopped => "error",
                };
                (
                    format!("{api}/repos/{path}/statuses/{commit}"),
                    word,
                    json!({"state": word, "target_url": link, "description": description,
                           "context": format!("conveyor/{project}")}),
                )
            }
            GitHost::Gitlab => {
                let word = match state {
                    State::InProgress => "running",
                    State::Succeeded => "success",
                    State::Failed => "failed",
                    State::Stopped => "canceled",
                };
                let project_path = path.replace('/', "%2F");
                (
                    format!("{api}/api/v4/projects/{project_path}/statuses/{commit}"),
                    word,
                    json!({"state": word, "target_url": link, "description": description,
                           "name": format!("conveyor/{project}")}),
                )
            }
        };
        Some(Report {
            build_id,
            integration,
            host: spec.host,
            url,
            credentials,
            state_word: state_word.to_owned(),
            body,
        })
    })
}
