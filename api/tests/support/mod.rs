//! The harness of the API tests: `spawn_app()` starts the real server on port 0 over a fresh
//! temporary data directory and returns a [`TestApp`] with typed helpers, a token minter and a
//! test agent that speaks the job protocol over HTTP.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use conveyor_api::config::Settings;
use conveyor_api::server::{self, RunningServer};
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tempfile::TempDir;

/// The media type of every error answer.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// How long a poll waits before the test fails.
pub const DEADLINE: Duration = Duration::from_secs(20);

/// The repository every test project builds from.
pub const REPOSITORY: &str = "https://git.example.com/acme/shop.git";

/// The sensitive variable's value: it must never appear in clear outside the agent's lease.
pub const SECRET_VALUE: &str = "hunter2-Sup3r-S3cret-db-pa55";

/// Scopes of the admin used by the tests (note: no `approve:*`, admin does not imply it).
pub const ADMIN_SCOPES: &str = "admin push release deploy:*";

/// A running server and a client for it.
pub struct TestApp {
    /// Where the server listens.
    pub addr: SocketAddr,
    /// The HTTP client.
    pub client: reqwest::Client,
    /// The HS256 secret tokens are signed with.
    pub secret: String,
    /// The data directory; kept alive for the app's lifetime.
    pub dir: TempDir,
    /// The server; `None` only during `restart()`.
    pub server: Option<RunningServer>,
    settings: Settings,
}

/// A response, fully read.
#[derive(Debug)]
pub struct Answer {
    /// Status.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// Body bytes.
    pub body: Vec<u8>,
}

impl Answer {
    /// Reads a whole response.
    pub async fn read(response: reqwest::Response) -> Answer {
        let status = response.status();
        let headers = response.headers().clone();
        let body = response.bytes().await.expect("a body").to_vec();
        Answer {
            status,
            headers,
            body,
        }
    }

    /// The body as JSON (panics with the body when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|error| {
            panic!(
                "expected JSON ({error}), got {} {:?}",
                self.status,
                self.text()
            )
        })
    }

    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// A header's value as text.
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    }

    /// The `Content-Type` header.
    pub fn content_type(&self) -> String {
        self.header("content-type").unwrap_or_default()
    }

    /// Asserts the status, printing the body when it differs; returns the body as JSON when it
    /// has one, else `Value::Null`.
    #[track_caller]
    pub fn expect(&self, status: u16) -> Value {
        assert_eq!(
            self.status.as_u16(),
            status,
            "unexpected status; body: {}",
            self.text()
        );
        if self.body.is_empty() {
            Value::Null
        } else {
            self.json()
        }
    }

    /// Asserts a problem+json answer with this status and returns the problem.
    #[track_caller]
    pub fn expect_problem(&self, status: u16) -> Value {
        let problem = self.expect(status);
        assert!(
            self.content_type().starts_with(PROBLEM_JSON),
            "expected {PROBLEM_JSON}, got {:?}: {}",
            self.content_type(),
            self.text()
        );
        assert_eq!(problem["status"], status, "{problem}");
        assert!(problem["title"].is_string(), "{problem}");
        assert!(problem["detail"].is_string(), "{problem}");
        problem
    }

    /// Asserts a problem whose `type` ends with `/<slug>`.
    #[track_caller]
    pub fn expect_problem_type(&self, status: u16, slug: &str) -> Value {
        let problem = self.expect_problem(status);
        let kind = problem["type"].as_str().unwrap_or_default();
        assert!(
            kind.ends_with(&format!("/{slug}")),
            "expected a problem type ending with {slug}, got {problem}"
        );
        problem
    }
}

/// Starts the server on a fresh data directory with the default test settings.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Starts the server on a fresh data directory after `tweak` adjusted the settings.
pub async fn spawn_app_with(tweak: impl FnOnce(&mut Settings)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary data directory");
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let secret = hex::encode(bytes);
    let mut settings = Settings {
        data_dir: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".to_owned(),
        jwt_secret: Some(secret.clone()),
        jwt_public_key: None,
        jwt_issuer: "conveyor".to_owned(),
        jwt_audience: "conveyor".to_owned(),
        lease_seconds: 30,
        max_artifact_bytes: conveyor_api::config::DEFAULT_MAX_ARTIFACT_BYTES,
        max_attempts: 3,
        secrets_key: None,
        // The tests play the agent themselves; a built-in one would race them for jobs.
        builtin_agent: false,
        // Tests run retention on request; an hour is long after any test ends.
        retention_interval_seconds: 3600,
        database: None,
        checkpoint_every: conveyor_api::config::Settings::default().checkpoint_every,
    };
    tweak(&mut settings);
    let server = server::start(&settings).await.expect("the server starts");
    TestApp {
        addr: server.addr,
        client: reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .build()
            .expect("an HTTP client"),
        secret,
        dir,
        server: Some(server),
        settings,
    }
}

/// Polls `probe` until it answers `Some`, failing the test after [`DEADLINE`].
pub async fn eventually<T, F, Fut>(what: &str, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + DEADLINE;
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Lowercase hex SHA-256 of `content`.
pub fn sha256_hex(content: &[u8]) -> String {
    hex::encode(Sha256::digest(content))
}

/// A 40-digit commit id derived from `seed`.
pub fn commit(seed: &str) -> String {
    sha256_hex(seed.as_bytes())[..40].to_owned()
}

/// The definition of the walk-through's project: build with artifacts, one deployment step, a
/// sensitive and a plain variable, lifecycle `stages` (environment, automatic).
pub fn project_definition(name: &str, stages: &[(&str, bool)]) -> Value {
    json!({
        "name": name,
        "description": "the shop",
        "repository": REPOSITORY,
        "branch": "main",
        "build_steps": [
            {"name": "compile", "script": "cargo build --release && tar czf dist/shop.tar.gz target", "artifacts": ["dist/*.tar.gz"]}
        ],
        "deployment_steps": [
            {"name": "roll-out", "script": "./deploy.sh \"$ENVIRONMENT\""}
        ],
        "variables": [
            {"name": "DB_PASSWORD", "value": SECRET_VALUE, "sensitive": true},
            {"name": "LOG_LEVEL", "value": "info"}
        ],
        "lifecycle": stages
            .iter()
            .map(|(environment, automatic)| json!({"environment": environment, "automatic": automatic}))
            .collect::<Vec<_>>(),
    })
}

impl TestApp {
    /// The base URL.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The running server.
    pub fn server(&self) -> &RunningServer {
        self.server.as_ref().expect("the server is running")
    }

    /// Mints an HS256 token for `sub` with space-separated `scopes`, valid for an hour.
    pub fn token(&self, sub: &str, scopes: &str) -> String {
        conveyor_api::auth::mint_token(
            &self.secret,
            "conveyor",
            "conveyor",
            sub,
            scopes,
            chrono::Duration::hours(1),
        )
        .expect("a token")
    }

    /// The admin's token.
    pub fn admin(&self) -> String {
        self.token("admin", ADMIN_SCOPES)
    }

    /// An auditor's token.
    pub fn auditor(&self) -> String {
        self.token("auditor", "audit read")
    }

    /// Sends a request; `token` and `body` are optional, `headers` are added as given.
    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.client.request(method, self.url(path));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(body);
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("the server answers");
        Answer::read(response).await
    }

    /// Sends a raw body with `Content-Type: application/json`.
    pub async fn send_raw(&self, method: Method, path: &str, token: &str, body: &str) -> Answer {
        let response = self
            .client
            .request(method, self.url(path))
            .bearer_auth(token)
            .header("content-type", "application/json")
            .body(body.to_owned())
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    /// `GET path`.
    pub async fn get(&self, path: &str, token: &str) -> Answer {
        self.send(Method::GET, path, Some(token), None, &[]).await
    }

    /// `GET path?query` with the query encoded.
    pub async fn get_query(&self, path: &str, token: &str, query: &[(&str, &str)]) -> Answer {
        let response = self
            .client
            .get(self.url(path))
            .bearer_auth(token)
            .query(query)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    /// `POST path` with a JSON body.
    pub async fn post(&self, path: &str, token: &str, body: &Value) -> Answer {
        self.send(Method::POST, path, Some(token), Some(body), &[])
            .await
    }

    /// `PUT path` with a JSON body and extra headers.
    pub async fn put(
        &self,
        path: &str,
        token: &str,
        body: &Value,
        headers: &[(&str, &str)],
    ) -> Answer {
        self.send(Method::PUT, path, Some(token), Some(body), headers)
            .await
    }

    /// The server's data directory.
    pub fn data_dir(&self) -> &std::path::Path {
        &self.settings.data_dir
    }

    /// Stops the server gracefully and starts a new one over the same data directory and
    /// secret.
    pub async fn restart(&mut self) {
        let server = self.server.take().expect("the server is running");
        server.stop().await;
        let server = server::start(&self.settings)
            .await
            .expect("the server restarts");
        self.addr = server.addr;
        self.server = Some(server);
    }

    // ----- the event log -----

    /// Every event of the log, in position order, paging with `after`.
    pub async fn all_events(&self) -> Vec<Value> {
        let token = self.auditor();
        let mut events = Vec::new();
        let mut after = 0u64;
        loop {
            let page = self
                .get(&format!("/api/v1/events?after={after}&limit=1000"), &token)
                .await
                .expect(200);
            let items = page["items"].as_array().expect("items").clone();
            let Some(last) = items.last() else { break };
            after = last["position"].as_u64().expect("a position");
            events.extend(items);
            if page["next_cursor"].is_null() {
                break;
            }
        }
        events
    }

    /// The position of the last event (0 for an empty log).
    pub async fn head(&self) -> u64 {
        self.all_events()
            .await
            .last()
            .map_or(0, |event| event["position"].as_u64().expect("a position"))
    }

    /// The events of one type.
    pub async fn events_of_type(&self, event_type: &str) -> Vec<Value> {
        self.all_events()
            .await
            .into_iter()
            .filter(|event| event["type"] == event_type)
            .collect()
    }

    // ----- the workflow -----

    /// Creates an environment needing `required_approvals`.
    pub async fn create_environment(&self, name: &str, required_approvals: u32) -> Value {
        self.post(
            "/api/v1/environments",
            &self.admin(),
            &json!({
                "name": name,
                "description": format!("the {name} environment"),
                "approval_policy": {"required_approvals": required_approvals},
            }),
        )
        .await
        .expect(201)
    }

    /// Creates dev, staging and production (one approval) and the shop project with the
    /// lifecycle dev (automatic) → staging (manual) → production (manual).
    pub async fn seed(&self) -> Value {
        self.create_environment("dev", 0).await;
        self.create_environment("staging", 0).await;
        self.create_environment("production", 1).await;
        self.create_project(
            "shop",
            &[("dev", true), ("staging", false), ("production", false)],
        )
        .await
    }

    /// Creates project `name` (the shared test definition) with lifecycle `stages`.
    pub async fn create_project(&self, name: &str, stages: &[(&str, bool)]) -> Value {
        self.post(
            "/api/v1/projects",
            &self.admin(),
            &project_definition(name, stages),
        )
        .await
        .expect(201)
    }

    /// Reports a push of `commit` to main; returns the answer (push id and queued builds).
    pub async fn push(&self, commit: &str) -> Value {
        self.post(
            "/api/v1/pushes",
            &self.token("pusher", "push"),
            &json!({"repository": REPOSITORY, "ref": "refs/heads/main", "commit": commit}),
        )
        .await
        .expect(202)
    }

    /// An agent's token.
    pub fn agent_token(&self) -> String {
        self.token("agent-1", "agent")
    }

    /// Asks for a job as `agent`: `Some(assignment)` on 200, `None` on 204.
    pub async fn lease(&self, agent: &str) -> Option<Value> {
        let answer = self
            .post(
                "/api/v1/agents/lease",
                &self.agent_token(),
                &json!({"agent": agent}),
            )
            .await;
        match answer.status.as_u16() {
            204 => None,
            _ => Some(answer.expect(200)),
        }
    }

    /// Polls until `agent` leases a job.
    pub async fn lease_eventually(&self, agent: &str) -> Value {
        eventually("a job to lease", || self.lease(agent)).await
    }

    /// Sends one job-protocol report.
    pub async fn report(&self, job: &Value, what: &str, mut body: Value) -> Answer {
        body["lease_id"] = job["lease"]["lease_id"].clone();
        let id = job["job_id"].as_str().expect("a job id");
        self.post(
            &format!("/api/v1/jobs/{id}/{what}"),
            &self.agent_token(),
            &body,
        )
        .await
    }

    /// Runs the next job, which must be a build: start, report `artifacts` (name, content),
    /// report its steps, complete. Returns the lease answer and the artifacts as reported.
    pub async fn run_build(&self, artifacts: &[(&str, &[u8])]) -> (Value, Vec<Value>) {
        let job = self.lease_eventually("agent-1").await;
        assert_eq!(job["kind"], "build", "{job}");
        self.report(&job, "start", json!({})).await.expect(200);
        let mut reported = Vec::new();
        for (name, content) in artifacts {
            self.upload_artifact(content).await;
            let artifact = json!({
                "name": name,
                "sha256": sha256_hex(content),
                "size": content.len(),
            });
            self.report(&job, "artifacts", artifact.clone())
                .await
                .expect(200);
            reported.push(artifact);
        }
        for step in job["steps"].as_array().expect("steps") {
            self.report(
                &job,
                "steps",
                json!({"name": step["name"], "outcome": "succeeded", "exit_code": 0, "duration_ms": 1200}),
            )
            .await
            .expect(200);
        }
        let done = self
            .report(&job, "complete", json!({"outcome": "succeeded"}))
            .await
            .expect(200);
        assert_eq!(done["status"], "succeeded", "{done}");
        (job, reported)
    }

    /// Runs the next job, which must be a deployment into `environment`; returns its lease
    /// answer.
    pub async fn run_deployment(&self, environment: &str) -> Value {
        let job = self.lease_eventually("agent-1").await;
        assert_eq!(job["kind"], "deployment", "{job}");
        assert_eq!(job["environment"], environment, "{job}");
        self.report(&job, "start", json!({})).await.expect(200);
        for step in job["steps"].as_array().expect("steps") {
            self.report(
                &job,
                "steps",
                json!({"name": step["name"], "outcome": "succeeded", "exit_code": 0}),
            )
            .await
            .expect(200);
        }
        let done = self
            .report(&job, "complete", json!({"outcome": "succeeded"}))
            .await
            .expect(200);
        assert_eq!(done["status"], "succeeded", "{done}");
        job
    }

    /// A deployment by id.
    pub async fn deployment(&self, id: &str) -> Value {
        self.get(&format!("/api/v1/deployments/{id}"), &self.admin())
            .await
            .expect(200)
    }

    /// Polls until the deployment has `status`.
    pub async fn deployment_reaches(&self, id: &str, status: &str) -> Value {
        eventually(&format!("deployment {id} to be {status}"), || async {
            let deployment = self.deployment(id).await;
            (deployment["status"] == status).then_some(deployment)
        })
        .await
    }

    /// Polls until the project's release `version` exists.
    pub async fn release(&self, version: &str) -> Value {
        eventually(&format!("release {version}"), || async {
            let page = self
                .get("/api/v1/releases?project=shop", &self.admin())
                .await
                .expect(200);
            page["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|release| release["version"] == version)
                .cloned()
        })
        .await
    }

    /// Deployments filtered by a query string such as `environment=dev`.
    pub async fn deployments(&self, query: &str) -> Vec<Value> {
        self.get(&format!("/api/v1/deployments?{query}"), &self.admin())
            .await
            .expect(200)["items"]
            .as_array()
            .expect("items")
            .clone()
    }

    /// Pushes `commit`, builds it with one artifact and waits for its release.
    pub async fn build_release(&self, commit: &str, version: &str) -> (Value, Vec<Value>) {
        let push = self.push(commit).await;
        assert_eq!(push["builds"].as_array().map(Vec::len), Some(1), "{push}");
        let content = format!("shop {version} built from {commit}");
        let (_, artifacts) = self
            .run_build(&[("dist/shop.tar.gz", content.as_bytes())])
            .await;
        (self.release(version).await, artifacts)
    }

    /// Promotes `release` into `environment` as the admin; returns the deployment.
    pub async fn promote(&self, release: &Value, environment: &str) -> Answer {
        let id = release["id"].as_str().expect("a release id");
        self.post(
            &format!("/api/v1/releases/{id}/deployments"),
            &self.admin(),
            &json!({"environment": environment}),
        )
        .await
    }

    /// Approves a deployment as `subject` holding `approve:<environment>`.
    pub async fn approve(&self, deployment: &Value, subject: &str) -> Answer {
        let id = deployment["id"].as_str().expect("a deployment id");
        let environment = deployment["environment"].as_str().expect("an environment");
        self.post(
            &format!("/api/v1/deployments/{id}/approvals"),
            &self.token(subject, &format!("approve:{environment} read")),
            &json!({"decision": "approve", "comment": "looks good"}),
        )
        .await
    }
}

/// Base64url without padding, for hand-made tokens.
pub fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

impl TestApp {
    /// `PUT /api/v1/artifacts/{sha256}` of `content` as the agent, with `sha256` as the path.
    pub async fn put_artifact(&self, sha256: &str, content: Vec<u8>) -> Answer {
        let response = self
            .client
            .put(self.url(&format!("/api/v1/artifacts/{sha256}")))
            .bearer_auth(self.agent_token())
            .header("content-type", "application/octet-stream")
            .body(content)
            .send()
            .await
            .expect("the server answers");
        Answer::read(response).await
    }

    /// Uploads `content` under its digest, as an agent does before reporting it (200 or 201).
    pub async fn upload_artifact(&self, content: &[u8]) -> Value {
        let answer = self
            .put_artifact(&sha256_hex(content), content.to_vec())
            .await;
        match answer.status.as_u16() {
            200 => answer.expect(200),
            _ => answer.expect(201),
        }
    }
}

/// What the stand-in host received.
/// A request the stand-in received.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request path.
    pub path: String,
    /// The Authorization header.
    pub authorization: Option<String>,
    /// All headers, lowercase names.
    pub headers: Vec<(String, String)>,
    /// The body as JSON.
    pub body: Value,
    /// The body as bytes.
    pub raw: Vec<u8>,
}

/// A real HTTP server on loopback standing in for a third party (a git host, a webhook
/// consumer): records every request; answers 500 to the first `failures` of them.
pub struct StandIn {
    /// Its base URL.
    pub url: String,
    received: std::sync::Arc<std::sync::Mutex<Vec<Received>>>,
    /// Stops it.
    pub handle: actix_web::dev::ServerHandle,
}

impl StandIn {
    /// Starts it on a free loopback port.
    pub async fn start(failures: usize) -> StandIn {
        let received: std::sync::Arc<std::sync::Mutex<Vec<Received>>> = Default::default();
        let log = received.clone();
        let server = actix_web::HttpServer::new(move || {
            let log = log.clone();
            actix_web::App::new().default_service(actix_web::web::to(
                move |req: actix_web::HttpRequest, body: actix_web::web::Bytes| {
                    let log = log.clone();
                    async move {
                        let mut log = log.lock().unwrap();
                        log.push(Received {
                            path: req.path().to_owned(),
                            authorization: req
                                .headers()
                                .get("authorization")
                                .and_then(|v| v.to_str().ok())
                                .map(str::to_owned),
                            headers: req
                                .headers()
                                .iter()
                                .filter_map(|(k, v)| {
                                    Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned()))
                                })
                                .collect(),
                            body: serde_json::from_slice(&body).unwrap_or(Value::Null),
                            raw: body.to_vec(),
                        });
                        if log.len() <= failures {
                            actix_web::HttpResponse::InternalServerError().body("host is down")
                        } else {
                            actix_web::HttpResponse::Created().json(json!({"ok": true}))
                        }
                    }
                },
            ))
        })
        .workers(1)
        .disable_signals()
        .bind("127.0.0.1:0")
        .unwrap();
        let url = format!("http://{}", server.addrs()[0]);
        let server = server.run();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        StandIn {
            url,
            received,
            handle,
        }
    }

    /// What it received so far.
    pub fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }
}

/// The bytes of a file of the shared webhook fixtures (`../shared/fixtures/webhooks/`).
pub fn webhook_fixture(name: &str) -> Vec<u8> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/fixtures/webhooks")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|err| panic!("reading {}: {err}", path.display()))
}
