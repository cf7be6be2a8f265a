//! The `conveyor` binary's client commands, for people and bots: push, builds, releases,
//! promote, approve and reject, rollback, events, audit and the dashboard. They speak to a
//! server through the generated Rust client (`clients/rust`), except `audit verify --file`,
//! which checks an export offline.
//!
//! The server and token come from `--server` and `--token`, else `CONVEYOR_SERVER` and
//! `CONVEYOR_TOKEN`, else the client config file (TOML with `server` and `token`:
//! `--client-config`, `CONVEYOR_CLIENT_CONFIG`, or `~/.config/conveyor/client.toml`).
//! `--output json` prints what the server answered as JSON (one document per line for
//! lists and streams).
//!
//! Exit codes: 0 done, 1 the answer is "no" (a broken chain), 2 usage error, 3 the server
//! refused the request (4xx), 4 the server failed or could not be reached.

mod audit;
mod commands;
mod render;

use std::{future::Future, path::PathBuf, time::Duration};

use clap::{Args, Subcommand, ValueEnum};
use conveyor_client::{Error, ResponseValue, types::ProblemDetails};
use uuid::Uuid;

pub use audit::verify_export;
pub use commands::run;

/// How a command ended, as its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The answer is "no": the chain does not verify (exit 1).
    Broken(String),
    /// The command line does not make sense (exit 2).
    Usage(String),
    /// The server answered 4xx (exit 3).
    Refused(String),
    /// The server failed or was unreachable, or a file could not be read (exit 4).
    Unavailable(String),
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Broken(_) => 1,
            Failure::Usage(_) => 2,
            Failure::Refused(_) => 3,
            Failure::Unavailable(_) => 4,
        }
    }

    /// What to tell the user.
    pub fn message(&self) -> &str {
        match self {
            Failure::Broken(m)
            | Failure::Usage(m)
            | Failure::Refused(m)
            | Failure::Unavailable(m) => m,
        }
    }
}

/// How results are printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum Output {
    /// For people: one line per item, or a short report.
    #[default]
    Text,
    /// For programs: the server's answer as JSON, one document per line.
    Json,
}

/// Which server the client commands talk to, as whom, and how they print.
#[derive(Debug, Args)]
pub struct ClientArgs {
    /// The server's URL [env: CONVEYOR_SERVER; else the client config file; else
    /// http://127.0.0.1:8080].
    #[arg(long, global = true, env = "CONVEYOR_SERVER", hide_env = true)]
    pub server: Option<String>,
    /// A bearer token (prefer the environment variable or the config file: flags show in
    /// `ps`) [env: CONVEYOR_TOKEN].
    #[arg(long, global = true, env = "CONVEYOR_TOKEN", hide_env = true)]
    pub token: Option<String>,
    /// The client config file: TOML with `server` and `token` [env: CONVEYOR_CLIENT_CONFIG;
    /// default ~/.config/conveyor/client.toml when it exists].
    #[arg(long, global = true, env = "CONVEYOR_CLIENT_CONFIG", hide_env = true)]
    pub client_config: Option<PathBuf>,
    /// `text` for people, `json` for programs.
    #[arg(long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// The client config file.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ClientConfig {
    server: Option<String>,
    token: Option<String>,
}

/// Where the server is and who asks, once flags, environment and config file are merged.
#[derive(Debug)]
pub struct Connection {
    /// The server's URL.
    pub server: String,
    /// The bearer token, when one was given anywhere.
    pub token: Option<String>,
}

impl ClientArgs {
    /// Merges flags (and environment, which clap already folded in) over the config file.
    pub fn connection(&self) -> Result<Connection, Failure> {
        let file = match &self.client_config {
            Some(path) => Some(path.clone()),
            None => std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .or_else(|| {
                    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config"))
                })
                .map(|dir| dir.join("conveyor").join("client.toml"))
                .filter(|path| path.exists()),
        };
        let config = match file {
            Some(path) => {
                let text = std::fs::read_to_string(&path)
                    .map_err(|err| Failure::Usage(format!("{}: {err}", path.display())))?;
                toml::from_str(&text)
                    .map_err(|err| Failure::Usage(format!("{}: {err}", path.display())))?
            }
            None => ClientConfig::default(),
        };
        Ok(Connection {
            server: self
                .server
                .clone()
                .or(config.server)
                .unwrap_or_else(|| "http://127.0.0.1:8080".into()),
            token: self.token.clone().or(config.token),
        })
    }
}

impl Connection {
    /// A client for the server; refuses to go on without a token.
    pub fn client(&self) -> Result<conveyor_client::Client, Failure> {
        let token = self.token.as_deref().ok_or_else(|| {
            Failure::Usage(
                "no token: give --token, set CONVEYOR_TOKEN, or put `token` in the client \
                 config file"
                    .into(),
            )
        })?;
        conveyor_client::connect(&self.server, token)
            .map_err(|err| Failure::Usage(format!("{}: {err}", self.server)))
    }
}

/// How many times a request is sent before its failure is reported.
const ATTEMPTS: u32 = 3;

/// Sends a request, and sends it again when the server could not be reached, the connection
/// broke before the answer was read, or the server answered 502, 503 or 504. Every attempt
/// carries the same `Idempotency-Key` (reads ignore it), so a write the server committed
/// before the connection broke answers its first result instead of acting twice.
pub async fn call<T, F, Fut>(mut send: F) -> Result<T, Failure>
where
    F: FnMut(String) -> Fut,
    Fut: Future<Output = Result<ResponseValue<T>, Error<ProblemDetails>>>,
{
    let key = Uuid::new_v4().to_string();
    let mut attempt = 1;
    loop {
        match send(key.clone()).await {
            Ok(answer) => return Ok(answer.into_inner()),
            Err(err) if attempt < ATTEMPTS && retryable(&err) => {
                tokio::time::sleep(Duration::from_millis(250 << attempt)).await;
                attempt += 1;
            }
            Err(err) => return Err(failure(err).await),
        }
    }
}

fn retryable(err: &Error<ProblemDetails>) -> bool {
    let transient = |status: reqwest::StatusCode| matches!(status.as_u16(), 502..=504);
    match err {
        Error::CommunicationError(_) | Error::ResponseBodyError(_) => true,
        Error::ErrorResponse(answer) => transient(answer.status()),
        Error::UnexpectedResponse(answer) => transient(answer.status()),
        _ => false,
    }
}

/// What a failed request means for the user, and its exit code.
pub async fn failure(err: Error<ProblemDetails>) -> Failure {
    let classify = |status: reqwest::StatusCode, what: String| {
        let message = format!("{status}: {what}");
        if status.is_client_error() {
            Failure::Refused(message)
        } else {
            Failure::Unavailable(message)
        }
    };
    match err {
        Error::ErrorResponse(answer) => {
            let status = answer.status();
            let problem = answer.into_inner();
            classify(status, format!("{}: {}", problem.title, problem.detail))
        }
        Error::UnexpectedResponse(answer) => {
            let status = answer.status();
            let body = answer.text().await.unwrap_or_default();
            let detail = serde_json::from_str::<ProblemDetails>(&body)
                .map(|problem| format!("{}: {}", problem.title, problem.detail))
                .unwrap_or(body);
            classify(status, detail)
        }
        Error::CommunicationError(err) => {
            Failure::Unavailable(format!("cannot reach the server: {err}"))
        }
        Error::InvalidRequest(what) => Failure::Usage(what),
        other => Failure::Unavailable(other.to_string()),
    }
}

/// The client commands of the `conveyor` binary.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Record a push (what a webhook would), which queues the project's builds.
    Push(PushArgs),
    /// Builds: list, show, log (with --follow), cancel.
    #[command(subcommand)]
    Builds(BuildsCommand),
    /// Releases: list, show, create.
    #[command(subcommand)]
    Releases(ReleasesCommand),
    /// Deployments: list, show, log (with --follow).
    #[command(subcommand)]
    Deployments(DeploymentsCommand),
    /// Deploy a release to an environment.
    Promote {
        /// The release: its id, or PROJECT@VERSION.
        release: String,
        /// The environment.
        #[arg(long)]
        to: String,
        /// Deploy although a freeze holds: the reason (needs the `freeze:override` scope).
        #[arg(long)]
        override_freeze: Option<String>,
        /// Mark the project's deployments still waiting there as superseded by this one.
        #[arg(long)]
        supersede_waiting: bool,
    },
    /// Approve a deployment that awaits approval.
    Approve {
        /// The deployment's id.
        deployment: Uuid,
        /// Why, recorded with the approval.
        #[arg(long)]
        comment: Option<String>,
    },
    /// Reject a deployment that awaits approval.
    Reject {
        /// The deployment's id.
        deployment: Uuid,
        /// Why, recorded with the rejection.
        #[arg(long)]
        comment: String,
    },
    /// Deploy an earlier release of a project to an environment again: the one before the
    /// live one, or `--to`.
    Rollback {
        /// The project.
        #[arg(long)]
        project: String,
        /// The environment.
        #[arg(long)]
        env: String,
        /// The release to go back to: its version or id (default: the one before the live one).
        #[arg(long)]
        to: Option<String>,
        /// Roll back although a freeze holds: the reason (needs the `freeze:override` scope).
        #[arg(long)]
        override_freeze: Option<String>,
    },
    /// The event log: list with filters, tail, export as JSON lines.
    #[command(subcommand)]
    Events(EventsCommand),
    /// Verify the event log's hash chain, on the server or offline from an export.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The project × environment grid: what is live where, and what waits.
    Dashboard,
}

/// What `conveyor push` records.
#[derive(Debug, Args)]
pub struct PushArgs {
    /// The repository, as the project names it.
    #[arg(long)]
    pub repository: String,
    /// The branch pushed (or give --ref).
    #[arg(long, conflicts_with = "git_ref", required_unless_present = "git_ref")]
    pub branch: Option<String>,
    /// The full ref pushed, e.g. refs/heads/main or refs/tags/v1.2.
    #[arg(long = "ref", id = "git_ref")]
    pub git_ref: Option<String>,
    /// The commit the ref now points at.
    #[arg(long)]
    pub commit: String,
    /// The commit the ref pointed at before.
    #[arg(long)]
    pub before: Option<String>,
    /// The commit message.
    #[arg(long)]
    pub message: Option<String>,
    /// Who pushed.
    #[arg(long)]
    pub pusher: Option<String>,
}

/// `conveyor builds …`
#[derive(Debug, Subcommand)]
pub enum BuildsCommand {
    /// The newest builds first.
    List {
        /// Only this project's.
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One build: its steps, artifacts and statuses.
    Show {
        /// The build's id.
        id: Uuid,
    },
    /// A build's log; with --follow, new lines until the build ends.
    Log(LogArgs),
    /// Cancel a queued or running build.
    Cancel {
        /// The build's id.
        id: Uuid,
        /// Why, recorded with the cancellation.
        #[arg(long)]
        reason: Option<String>,
    },
}

/// `conveyor releases …`
#[derive(Debug, Subcommand)]
pub enum ReleasesCommand {
    /// The newest releases first.
    List {
        /// Only this project's.
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One release: its artifacts, lifecycle and deployments.
    Show {
        /// The release: its id, or PROJECT@VERSION.
        release: String,
    },
    /// Make a release of a successful build.
    Create {
        /// The build's id.
        #[arg(long)]
        build: Uuid,
        /// The version (default: the project's version template).
        #[arg(long)]
        version: Option<String>,
    },
}

/// `conveyor deployments …`
#[derive(Debug, Subcommand)]
pub enum DeploymentsCommand {
    /// The newest deployments first.
    List {
        /// Only this project's.
        #[arg(long)]
        project: Option<String>,
        /// Only into this environment.
        #[arg(long)]
        env: Option<String>,
        #[command(flatten)]
        page: PageArgs,
    },
    /// One deployment: its status, approvals and steps.
    Show {
        /// The deployment's id.
        id: Uuid,
    },
    /// A deployment's log; with --follow, new lines until it ends.
    Log(LogArgs),
}

/// Which log, and whether to follow it.
#[derive(Debug, Args)]
pub struct LogArgs {
    /// The build's or deployment's id.
    pub id: Uuid,
    /// Keep printing new lines until the job ends.
    #[arg(long)]
    pub follow: bool,
}

/// Which page of a list.
#[derive(Debug, Args)]
pub struct PageArgs {
    /// At most this many (1 to 1000).
    #[arg(long, default_value_t = 20)]
    pub limit: u64,
    /// Continue after this cursor (printed after a full page).
    #[arg(long)]
    pub after: Option<i64>,
}

/// `conveyor events …`
#[derive(Debug, Subcommand)]
pub enum EventsCommand {
    /// Events in position order, filtered.
    List {
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: i64,
        /// At most this many.
        #[arg(long, default_value_t = 100)]
        limit: u64,
        /// Only this stream, e.g. `release-<id>`.
        #[arg(long)]
        stream: Option<String>,
        /// Only streams starting with this.
        #[arg(long)]
        stream_prefix: Option<String>,
        /// Only these types, comma-separated.
        #[arg(long = "type")]
        event_type: Option<String>,
        /// Only events by this actor.
        #[arg(long)]
        actor: Option<String>,
        /// Only events recorded at or after this time (RFC 3339).
        #[arg(long)]
        from: Option<chrono::DateTime<chrono::Utc>>,
        /// Only events recorded before this time (RFC 3339).
        #[arg(long)]
        to: Option<chrono::DateTime<chrono::Utc>>,
    },
    /// Print events as they are committed.
    Tail {
        /// Start after this position (default: only new events).
        #[arg(long)]
        after: Option<u64>,
        /// Stop after this many events.
        #[arg(long)]
        count: Option<u64>,
    },
    /// Write every event (after a position) to stdout, one JSON object per line.
    Export {
        /// Only events after this position.
        #[arg(long, default_value_t = 0)]
        after: i64,
    },
}

/// `conveyor audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chain: of an export file, offline (`--file`), or on the server.
    Verify {
        /// An export (`conveyor events export > file.jsonl`) to verify without the server.
        #[arg(long)]
        file: Option<PathBuf>,
    },
}
