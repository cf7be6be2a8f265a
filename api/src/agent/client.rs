//! The agent's side of the job protocol: typed calls to `/api/v1/agents/…` and
//! `/api/v1/jobs/…`, artifact uploads and downloads streamed from and to files.
//!
//! The agent reads the lease answer with its own tolerant types rather than the server's wire
//! DTOs: an agent may talk to a server of another version, so fields it does not know are
//! ignored and fields a server does not send yet take their documented defaults.

use std::{collections::BTreeMap, path::Path, time::Duration};

use chrono::{DateTime, Utc};
use futures_util::StreamExt;
use reqwest::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use uuid::Uuid;

/// How long a protocol call (not a transfer) may take before it counts as a network error.
const CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// Chunk size of artifact transfers.
const CHUNK: usize = 64 * 1024;

/// Why a call failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// 409: the lease is no longer ours (cancelled, lapsed, superseded, or the job ended).
    #[error("the lease is no longer ours: {0}")]
    LeaseLost(String),
    /// Any other answer than the expected one.
    #[error("{method} {path} answered {status}: {body}")]
    Status {
        /// The verb.
        method: &'static str,
        /// The path called.
        path: String,
        /// The status received.
        status: StatusCode,
        /// The body received (shortened).
        body: String,
    },
    /// The server could not be reached, or the answer was cut or malformed.
    #[error("calling the server: {0}")]
    Transport(#[from] reqwest::Error),
    /// Reading or writing a local file.
    #[error("{0}")]
    Io(String),
    /// A downloaded artifact did not match its digest or size.
    #[error("{0}")]
    Integrity(String),
}

impl ClientError {
    /// Whether retrying the same call later may succeed (network trouble or a 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport(_) => true,
            ClientError::Status { status, .. } => status.is_server_error(),
            _ => false,
        }
    }
}

/// A build or a deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// Check out, run the plan, keep the artifacts.
    Build,
    /// Fetch the release's artifacts, run the deployment steps.
    Deployment,
}

/// Where a build's steps come from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanSource {
    /// The steps of the lease answer.
    #[default]
    Project,
    /// `bitbucket-pipelines.yml` at the checked-out commit.
    Repository,
}

/// The lease the agent holds on a job.
#[derive(Debug, Clone, Deserialize)]
pub struct Lease {
    /// Sent with every report.
    pub lease_id: Uuid,
    /// When it lapses without a heartbeat.
    pub expires_at: DateTime<Utc>,
    /// 1 for the first lease of the job.
    #[serde(default = "first_attempt")]
    pub attempt: u32,
}

fn first_attempt() -> u32 {
    1
}

/// One step to run.
#[derive(Debug, Clone, Deserialize)]
pub struct Step {
    /// Name, as reported.
    pub name: String,
    /// Run with `bash -e -c`.
    pub script: String,
    /// Globs (relative to the checkout) of the files kept as artifacts (builds).
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Extra environment variables.
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// The step fails when it runs longer (default one hour).
    #[serde(default)]
    pub timeout_seconds: Option<u64>,
}

/// A content-addressed artifact.
#[derive(Debug, Clone, Deserialize)]
pub struct Artifact {
    /// Relative file name.
    pub name: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// A deployment variable, already resolved for the environment, in clear.
#[derive(Clone, Deserialize)]
pub struct Variable {
    /// Name, also the environment variable's name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Masked in every log line.
    #[serde(default)]
    pub sensitive: bool,
}

impl std::fmt::Debug for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Variable")
            .field("name", &self.name)
            .field("sensitive", &self.sensitive)
            .finish_non_exhaustive()
    }
}

/// The answer to a lease: everything needed to run the job.
#[derive(Debug, Clone, Deserialize)]
pub struct Assignment {
    /// The `{id}` of `/api/v1/jobs/{id}/…`.
    pub job_id: Uuid,
    /// Build or deployment.
    pub kind: JobKind,
    /// Our lease.
    pub lease: Lease,
    /// Project name.
    #[serde(default)]
    pub project: String,
    /// Repository URL (builds).
    #[serde(default)]
    pub repository: Option<String>,
    /// Commit.
    #[serde(default)]
    pub commit: String,
    /// Branch.
    #[serde(default)]
    pub branch: String,
    /// Build number (builds).
    #[serde(default)]
    pub build_number: Option<u64>,
    /// Steps, in order.
    #[serde(default)]
    pub steps: Vec<Step>,
    /// Where a build's steps come from.
    #[serde(default)]
    pub plan_source: Option<PlanSource>,
    /// Target environment (deployments).
    #[serde(default)]
    pub environment: Option<String>,
    /// Release id (deployments).
    #[serde(default)]
    pub release_id: Option<Uuid>,
    /// Release version (deployments).
    #[serde(default)]
    pub release_version: Option<String>,
    /// deploy, redeploy or rollback (deployments).
    #[serde(default)]
    pub deployment_kind: Option<String>,
    /// The version live in the environment before this deployment, if any.
    #[serde(default)]
    pub previous_release_version: Option<String>,
    /// Artifacts to fetch (deployments).
    #[serde(default)]
    pub artifacts: Vec<Artifact>,
    /// Variables (deployments).
    #[serde(default)]
    pub variables: Vec<Variable>,
}

/// A job's state, as the server answers protocol calls and `GET /api/v1/jobs/{id}`.
#[derive(Debug, Clone, Deserialize)]
pub struct JobStatus {
    /// The build's or deployment's status.
    pub status: String,
    /// The current lease, if any.
    #[serde(default)]
    pub lease: Option<Lease>,
}

impl JobStatus {
    /// Whether the job ended (nobody may run it any more).
    pub fn is_finished(&self) -> bool {
        matches!(
            self.status.as_str(),
            "succeeded" | "failed" | "cancelled" | "rejected"
        )
    }
}

/// Where a log line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// The step's standard output.
    Stdout,
    /// The step's standard error.
    Stderr,
    /// The agent itself.
    System,
}

/// One captured line.
#[derive(Debug, Clone, Serialize)]
pub struct LogLine {
    /// When the agent read it.
    pub at: DateTime<Utc>,
    /// The step it belongs to.
    pub step: String,
    /// Which stream.
    pub stream: LogStream,
    /// The text, without its line end, sensitive values masked.
    pub text: String,
}

/// A client of one Conveyor server, authenticated with an `agent`-scoped token.
#[derive(Clone)]
pub struct AgentClient {
    http: reqwest::Client,
    base: String,
    token: String,
    name: String,
}

impl std::fmt::Debug for AgentClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentClient")
            .field("base", &self.base)
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl AgentClient {
    /// A client of the server at `server` (`http://host:port`), as agent `name`.
    pub fn new(server: &str, token: &str, name: &str) -> anyhow::Result<AgentClient> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .user_agent(concat!("conveyor-agent/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(AgentClient {
            http,
            base: format!("{}/api/v1", server.trim_end_matches('/')),
            token: token.to_owned(),
            name: name.to_owned(),
        })
    }

    /// The agent's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn failure(method: &'static str, path: &str, response: reqwest::Response) -> ClientError {
        let status = response.status();
        let mut body = response.text().await.unwrap_or_default();
        if body.len() > 2000 {
            let mut cut = 2000;
            while !body.is_char_boundary(cut) {
                cut -= 1;
            }
            body.truncate(cut);
        }
        if status == StatusCode::CONFLICT {
            let detail = serde_json::from_str::<Value>(&body)
                .ok()
                .and_then(|problem| problem["detail"].as_str().map(str::to_owned))
                .unwrap_or(body);
            return ClientError::LeaseLost(detail);
        }
        ClientError::Status {
            method,
            path: path.to_owned(),
            status,
            body,
        }
    }

    /// Asks for a job: `Some` when one was leased to us, `None` when none waits.
    pub async fn lease(&self) -> Result<Option<Assignment>, ClientError> {
        let path = "/agents/lease";
        let response = self
            .http
            .post(self.url(path))
            .bearer_auth(&self.token)
            .timeout(CALL_TIMEOUT)
            .json(&json!({"agent": self.name}))
            .send()
            .await?;
        match response.status() {
            StatusCode::NO_CONTENT => Ok(None),
            StatusCode::OK => Ok(Some(response.json().await?)),
            _ => Err(Self::failure("POST", path, response).await),
        }
    }

    /// `POST /api/v1/jobs/{id}/{what}` with `body` plus the lease id.
    pub async fn report(
        &self,
        job: &Assignment,
        what: &str,
        mut body: Value,
    ) -> Result<JobStatus, ClientError> {
        body["lease_id"] = json!(job.lease.lease_id);
        let path = format!("/jobs/{}/{what}", job.job_id);
        let response = self
            .http
            .post(self.url(&path))
            .bearer_auth(&self.token)
            .timeout(CALL_TIMEOUT)
            .json(&body)
            .send()
            .await?;
        if response.status().is_success() {
            Ok(response.json().await?)
        } else {
            Err(Self::failure("POST", &path, response).await)
        }
    }

    /// `GET /api/v1/jobs/{id}`: the job's status and current lease.
    pub async fn job_status(&self, job_id: Uuid) -> Result<JobStatus, ClientError> {
        let path = format!("/jobs/{job_id}");
        let response = self
            .http
            .get(self.url(&path))
            .bearer_auth(&self.token)
            .timeout(CALL_TIMEOUT)
            .send()
            .await?;
        if response.status().is_success() {
            Ok(response.json().await?)
        } else {
            Err(Self::failure("GET", &path, response).await)
        }
    }

    /// Appends captured lines to the job's log.
    pub async fn send_log(&self, job: &Assignment, lines: &[LogLine]) -> Result<(), ClientError> {
        let path = format!("/jobs/{}/log", job.job_id);
        let response = self
            .http
            .post(self.url(&path))
            .bearer_auth(&self.token)
            .timeout(CALL_TIMEOUT)
            .json(&json!({"lease_id": job.lease.lease_id, "lines": lines}))
            .send()
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure("POST", &path, response).await)
        }
    }

    /// Uploads the file at `path`, whose digest is `sha256`, streaming it from disk.
    pub async fn upload_artifact(&self, path: &Path, sha256: &str) -> Result<(), ClientError> {
        let file = tokio::fs::File::open(path)
            .await
            .map_err(|error| ClientError::Io(format!("opening {}: {error}", path.display())))?;
        let size = file
            .metadata()
            .await
            .map_err(|error| ClientError::Io(format!("reading {}: {error}", path.display())))?
            .len();
        let chunks = futures_util::stream::unfold(file, |mut file| async move {
            let mut buffer = vec![0u8; CHUNK];
            match file.read(&mut buffer).await {
                Ok(0) => None,
                Ok(n) => {
                    buffer.truncate(n);
                    Some((Ok::<_, std::io::Error>(buffer), file))
                }
                Err(error) => Some((Err(error), file)),
            }
        });
        let url_path = format!("/artifacts/{sha256}");
        let response = self
            .http
            .put(self.url(&url_path))
            .bearer_auth(&self.token)
            .header("content-type", "application/octet-stream")
            .header("content-length", size)
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await?;
        if response.status().is_success() {
            Ok(())
        } else {
            Err(Self::failure("PUT", &url_path, response).await)
        }
    }

    /// Downloads the artifact into `destination`, checking its SHA-256 and size while writing.
    /// A file that does not match is removed.
    pub async fn download_artifact(
        &self,
        artifact: &Artifact,
        destination: &Path,
    ) -> Result<(), ClientError> {
        let result = self.download_unchecked(artifact, destination).await;
        if result.is_err() {
            let _ = tokio::fs::remove_file(destination).await;
        }
        result
    }

    async fn download_unchecked(
        &self,
        artifact: &Artifact,
        destination: &Path,
    ) -> Result<(), ClientError> {
        let path = format!("/artifacts/{}", artifact.sha256);
        let response = self
            .http
            .get(self.url(&path))
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(Self::failure("GET", &path, response).await);
        }
        let io = |error: std::io::Error| {
            ClientError::Io(format!("writing {}: {error}", destination.display()))
        };
        let mut file = tokio::fs::File::create(destination).await.map_err(io)?;
        let mut hasher = Sha256::new();
        let mut size = 0u64;
        let mut body = response.bytes_stream();
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            size += chunk.len() as u64;
            if size > artifact.size {
                return Err(ClientError::Integrity(format!(
                    "artifact {} is larger than its recorded {} bytes",
                    artifact.name, artifact.size
                )));
            }
            hasher.update(&chunk);
            file.write_all(&chunk).await.map_err(io)?;
        }
        file.flush().await.map_err(io)?;
        file.sync_all().await.map_err(io)?;
        if size != artifact.size {
            return Err(ClientError::Integrity(format!(
                "artifact {} has {size} bytes, {} were recorded",
                artifact.name, artifact.size
            )));
        }
        let digest = hex::encode(hasher.finalize());
        if digest != artifact.sha256.to_ascii_lowercase() {
            return Err(ClientError::Integrity(format!(
                "artifact {} has SHA-256 {digest}, {} was recorded",
                artifact.name, artifact.sha256
            )));
        }
        Ok(())
    }
}

/// The SHA-256 (lowercase hex) and size of a file, read in chunks.
pub async fn file_digest(path: &Path) -> std::io::Result<(String, u64)> {
    let mut file = tokio::fs::File::open(path).await?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0u8; CHUNK];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buffer).await?;
        if n == 0 {
            break;
        }
        hasher.update(&buffer[..n]);
        size += n as u64;
    }
    Ok((hex::encode(hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, sync::Mutex};

    use actix_web::{App, HttpResponse, HttpServer, web};

    use super::*;

    type Blobs = web::Data<Mutex<HashMap<String, Vec<u8>>>>;

    async fn put(blobs: Blobs, sha: web::Path<String>, body: web::Bytes) -> HttpResponse {
        blobs
            .lock()
            .unwrap()
            .insert(sha.into_inner(), body.to_vec());
        HttpResponse::Created().finish()
    }

    async fn get(blobs: Blobs, sha: web::Path<String>) -> HttpResponse {
        match blobs.lock().unwrap().get(sha.as_str()) {
            Some(bytes) => HttpResponse::Ok().body(bytes.clone()),
            None => HttpResponse::NotFound().finish(),
        }
    }

    #[actix_web::test]
    async fn artifacts_stream_up_and_down_and_are_verified() {
        let blobs: Blobs = web::Data::new(Mutex::new(HashMap::new()));
        let data = blobs.clone();
        let server = HttpServer::new(move || {
            App::new()
                .app_data(data.clone())
                .app_data(web::PayloadConfig::new(16 << 20))
                .route("/api/v1/artifacts/{sha}", web::put().to(put))
                .route("/api/v1/artifacts/{sha}", web::get().to(get))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let addr = server.addrs()[0];
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);

        let dir = tempfile::tempdir().unwrap();
        let source = dir.path().join("app.bin");
        // Several chunks, and not a multiple of the chunk size.
        let content: Vec<u8> = (0..(3 * CHUNK + 17)).map(|i| (i % 251) as u8).collect();
        std::fs::write(&source, &content).unwrap();
        let (sha256, size) = file_digest(&source).await.unwrap();
        assert_eq!(size, content.len() as u64);
        let client = AgentClient::new(&format!("http://{addr}/"), "token", "test").unwrap();
        client.upload_artifact(&source, &sha256).await.unwrap();
        assert_eq!(blobs.lock().unwrap()[&sha256], content);

        let artifact = Artifact {
            name: "app.bin".into(),
            sha256: sha256.clone(),
            size,
        };
        let copy = dir.path().join("copy.bin");
        client.download_artifact(&artifact, &copy).await.unwrap();
        assert_eq!(std::fs::read(&copy).unwrap(), content);

        blobs.lock().unwrap().get_mut(&sha256).unwrap()[5] ^= 1;
        let tampered = dir.path().join("tampered.bin");
        let error = client
            .download_artifact(&artifact, &tampered)
            .await
            .unwrap_err();
        assert!(matches!(error, ClientError::Integrity(_)), "{error}");
        assert!(
            !tampered.exists(),
            "a file that fails verification is removed"
        );

        let wrong_size = Artifact {
            size: size + 1,
            ..artifact
        };
        let error = client
            .download_artifact(&wrong_size, &tampered)
            .await
            .unwrap_err();
        assert!(error.to_string().contains("bytes"), "{error}");
        handle.stop(false).await;
    }
}
