//! Assembling and running the HTTP server: state, middleware, routes, graceful shutdown.

use std::{net::SocketAddr, sync::Arc};

use actix_web::{
    App, HttpMessage, HttpServer, ResponseError,
    body::MessageBody,
    dev::{ServerHandle, ServiceRequest, ServiceResponse},
    http::header::{self, HeaderName, HeaderValue},
    middleware::{Next, from_fn},
    web,
};
use anyhow::Context;
use conveyor_engine::{Engine, EngineConfig};
use conveyor_store::{EventStore, sqlite::SqliteStore};
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

use crate::{
    agent::{AgentConfig, AgentHandle},
    auth::Authenticator,
    blobs::{BLOBS_DIR_NAME, BlobStore},
    config::Settings,
    error,
    idempotency::Idempotency,
    logs::{LOGS_DIR_NAME, LogStore},
    metrics::Metrics,
    openapi::ApiDoc,
    routes::{self, RequestId},
    secrets::Secrets,
    status_out::StatusReporter,
    subscriptions::SubscriptionDeliveries,
};

/// File name of the SQLite event log in the data directory.
pub const EVENT_LOG_FILE_NAME: &str = "events.sqlite3";

/// The read model's checkpoint in the data directory (see the engine's `checkpoint.rs`).
pub const CHECKPOINT_FILE_NAME: &str = "projections.checkpoint";

/// The name the in-process agent leases jobs under.
pub const BUILTIN_AGENT_NAME: &str = "builtin";

/// The subject of the in-process agent's token.
pub const BUILTIN_AGENT_SUBJECT: &str = "builtin-agent";

/// What every handler shares.
#[derive(Debug)]
pub struct AppState {
    /// The engine.
    pub engine: Engine,
    /// Seals sensitive variables.
    pub secrets: Secrets,
    /// Request metrics.
    pub metrics: Arc<Metrics>,
    /// How long a heartbeat extends a lease.
    pub lease_duration: chrono::Duration,
    /// Artifacts, content-addressed, in `<data_dir>/blobs`.
    pub blobs: BlobStore,
    /// The largest artifact an upload may carry, in bytes.
    pub max_artifact_bytes: u64,
    /// Job logs, in `<data_dir>/logs`.
    pub logs: Arc<LogStore>,
    /// The event subscriptions' delivery workers.
    pub subscriptions: SubscriptionDeliveries,
    /// Becomes true when the server starts shutting down, so that endless responses (the
    /// event stream) end instead of holding the graceful shutdown for its whole timeout.
    pub shutting_down: tokio::sync::watch::Receiver<bool>,
}

/// Registers every route of the API.
pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(routes::operations::healthz)
        .service(routes::operations::readyz)
        .service(routes::operations::metrics);
}

/// The `/api/v1` routes.
pub fn api_v1(cfg: &mut web::ServiceConfig) {
    use routes::*;
    cfg.service(environments::create_environment)
        .service(environments::list_environments)
        .service(environments::get_environment)
        .service(environments::environment_history)
        .service(environments::environment_queue)
        .service(environments::environment_state)
        .service(environments::add_freeze)
        .service(environments::remove_freeze)
        .service(environments::rollback_environment)
        .service(lifecycles::create_lifecycle)
        .service(lifecycles::list_lifecycles)
        .service(lifecycles::get_lifecycle)
        .service(lifecycles::update_lifecycle)
        .service(projects::create_project)
        .service(projects::list_projects)
        .service(projects::get_project)
        .service(projects::update_project)
        .service(builds::create_push)
        .service(builds::list_builds)
        .service(builds::get_build)
        .service(builds::cancel_build)
        .service(releases::create_release)
        .service(releases::list_releases)
        .service(releases::get_release)
        .service(releases::deploy_release)
        .service(releases::block_release)
        .service(releases::unblock_release)
        .service(retention::run_retention)
        .service(approvals::list_approvals)
        .service(deployments::list_deployments)
        .service(deployments::get_deployment)
        .service(deployments::approve_deployment)
        .service(deployments::cancel_deployment)
        .service(agents::lease_job)
        .service(agents::heartbeat_job)
        .service(agents::start_job)
        .service(agents::report_step)
        .service(agents::report_artifact)
        .service(agents::complete_job)
        .service(artifacts::upload_artifact)
        .service(artifacts::download_artifact)
        .service(logs::append_job_log)
        .service(logs::get_build_log)
        .service(logs::get_deployment_log)
        .service(agents::get_job)
        .service(integrations::create_integration)
        .service(integrations::list_integrations)
        .service(integrations::get_integration)
        .service(
            web::resource("/hooks/{provider}")
                .app_data(web::PayloadConfig::new(hooks::MAX_HOOK_BODY))
                .route(web::post().to(hooks::receive_hook)),
        )
        .service(subscriptions::create_subscription)
        .service(subscriptions::list_subscriptions)
        .service(subscriptions::get_subscription)
        .service(subscriptions::replay_subscription)
        .service(dashboard::get_dashboard)
        .service(dashboard::stream_dashboard)
        .service(events::list_events)
        .service(events::verify_events)
        .service(events::stream_events);
}

/// Gives every request an id (the caller's `X-Request-Id` when sane, else a new one), records
/// it on the events the request appends, and echoes it in the response.
async fn request_id(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let header = HeaderName::from_static("x-request-id");
    let id = req
        .headers()
        .get(&header)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    req.extensions_mut().insert(RequestId(id.clone()));
    let mut response = next.call(req).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert(header, value);
    }
    Ok(response)
}

/// Answers problem+json for the errors actix's own extractors raise where no error handler can
/// be registered (an oversized body read through `web::Bytes` would otherwise be a `text/plain`
/// 413), so every error of the API has one format. Answers that are not errors, or are already
/// problems, pass untouched.
async fn problem_json(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let response = next.call(req).await?;
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|value| value == error::PROBLEM_JSON);
    let problem = match response.response().error() {
        Some(raised) if !is_problem => error::framework_error(raised),
        _ => return Ok(response.map_into_left_body()),
    };
    let (req, _) = response.into_parts();
    Ok(ServiceResponse::new(req, problem.error_response()).map_into_right_body())
}

/// A running server.
pub struct RunningServer {
    /// The address it listens on.
    pub addr: SocketAddr,
    handle: ServerHandle,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    shutting_down: tokio::sync::watch::Sender<bool>,
    engine: Engine,
    store: Arc<dyn EventStore>,
    agent: Option<AgentHandle>,
    status_reporter: StatusReporter,
    subscriptions: SubscriptionDeliveries,
    retention: tokio::task::JoinHandle<()>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish()
    }
}

impl RunningServer {
    /// The engine (tests use it to wait for the workflow).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Serves until SIGTERM or SIGINT, then stops gracefully (see [`RunningServer::stop`]).
    pub async fn wait(self) -> anyhow::Result<()> {
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .context("listening for SIGTERM")?;
        tokio::select! {
            _ = terminate.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        }
        self.stop().await;
        Ok(())
    }

    /// Stops gracefully: event streams end, in-flight requests finish, queued appends commit,
    /// the engine saves its checkpoint, the store closes.
    pub async fn stop(self) {
        // The agent first, while it can still reach the server: its running jobs' processes
        // are killed and their leases lapse, so the jobs run again after a restart.
        if let Some(agent) = self.agent {
            agent.stop().await;
        }
        self.shutting_down.send_replace(true);
        self.handle.stop(true).await;
        let _ = self.server.await;
        self.status_reporter.stop().await;
        let _ = self.retention.await;
        self.subscriptions.stop().await;
        finish(self.engine, self.store).await;
    }
}

async fn finish(engine: Engine, store: Arc<dyn EventStore>) {
    engine.shutdown().await;
    store.close().await;
}

/// Opens the store, starts the engine and binds the HTTP server per `settings`.
pub async fn start(settings: &Settings) -> anyhow::Result<RunningServer> {
    std::fs::create_dir_all(&settings.data_dir).with_context(|| {
        format!(
            "creating the data directory {}",
            settings.data_dir.display()
        )
    })?;
    let authenticator = web::Data::new(Authenticator::from_settings(settings)?);
    let secrets = Secrets::from_settings(settings.secrets_key.as_deref(), &settings.data_dir)?;
    let secrets_for_status = secrets.clone();
    let blobs = BlobStore::open(settings.data_dir.join(BLOBS_DIR_NAME))
        .context("opening the blob store")?;
    let logs = Arc::new(
        LogStore::open(settings.data_dir.join(LOGS_DIR_NAME)).context("opening the log store")?,
    );
    let store: Arc<dyn EventStore> = match &settings.database {
        Some(url) => conveyor_store::postgres::PostgresStore::open(url)
            .await
            .with_context(|| {
                format!(
                    "opening the event log in {}",
                    crate::config::redact_password(url)
                )
            })?,
        None => SqliteStore::open(&settings.data_dir.join(EVENT_LOG_FILE_NAME))
            .await
            .context("opening the event log")?,
    };
    let lease_duration = chrono::Duration::seconds(settings.lease_seconds.max(1) as i64);
    let engine = Engine::start(
        store.clone(),
        EngineConfig {
            lease_duration,
            run_process_manager: true,
            max_attempts: settings.max_attempts,
            checkpoint: Some(settings.data_dir.join(CHECKPOINT_FILE_NAME)),
            checkpoint_every: settings.checkpoint_every,
        },
    )
    .await
    .context("starting the engine")?;
    let metrics = Arc::new(Metrics::new());
    let idempotency = Idempotency::new(store.clone()).sealed_with(secrets.clone());
    let (shutting_down, shutdown_signal) = tokio::sync::watch::channel(false);
    let subscriptions = SubscriptionDeliveries::start(engine.clone(), secrets.clone())?;
    let state = web::Data::new(AppState {
        engine: engine.clone(),
        subscriptions: subscriptions.clone(),
        secrets,
        metrics: metrics.clone(),
        lease_duration,
        blobs: blobs.clone(),
        max_artifact_bytes: settings.max_artifact_bytes,
        logs: logs.clone(),
        shutting_down: shutdown_signal,
    });
    let retention = crate::retention::spawn(
        engine.clone(),
        blobs,
        logs,
        std::time::Duration::from_secs(settings.retention_interval_seconds),
        shutting_down.subscribe(),
    );

    let openapi = ApiDoc::openapi();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(state.clone())
            .app_data(authenticator.clone())
            .app_data(error::json_config())
            .app_data(error::query_config())
            .app_data(error::path_config())
            .configure(configure)
            .service(
                web::scope("/api/v1")
                    .wrap(idempotency.clone())
                    .wrap(from_fn(problem_json))
                    .configure(api_v1)
                    .default_service(web::to(error::route_not_found)),
            )
            .service(crate::console::index)
            .service(crate::console::assets)
            .service(SwaggerUi::new("/docs/{_:.*}").url("/openapi.json", openapi.clone()))
            .service(web::redirect("/docs", "/docs/"))
            .default_service(web::to(error::route_not_found))
            .wrap(
                actix_cors::Cors::default()
                    .allow_any_origin()
                    .allow_any_method()
                    .allow_any_header()
                    .expose_headers(["etag", "location", "x-request-id", "idempotent-replayed"])
                    .max_age(3600),
            )
            .wrap(from_fn(request_id))
            .wrap(metrics.middleware())
    })
    .shutdown_timeout(30)
    // Signals are handled by `RunningServer::wait`, which ends event streams first.
    .disable_signals()
    .bind(&settings.listen)
    .with_context(|| format!("listening on {}", settings.listen))?;
    let addr = *server
        .addrs()
        .first()
        .context("the server bound no address")?;
    let server = server.run();
    let handle = server.handle();
    let server = tokio::spawn(server);
    tracing::info!(%addr, data_dir = %settings.data_dir.display(), "conveyor is serving");
    let agent = builtin_agent(settings, addr)?;
    let status_reporter =
        StatusReporter::spawn(engine.clone(), secrets_for_status, format!("http://{addr}"));
    Ok(RunningServer {
        addr,
        handle,
        server,
        shutting_down,
        engine,
        store,
        agent,
        status_reporter,
        subscriptions,
        retention,
    })
}

/// Starts the in-process agent (unless turned off): the same agent as `conveyor agent`,
/// speaking HTTP to this server's own address with a token minted from the HS256 secret.
fn builtin_agent(settings: &Settings, addr: SocketAddr) -> anyhow::Result<Option<AgentHandle>> {
    if !settings.builtin_agent {
        return Ok(None);
    }
    let Some(secret) = settings.jwt_secret.as_deref() else {
        tracing::warn!(
            "the built-in agent needs an HS256 secret to mint its token, and this server only \
             has a public key: run separate `conveyor agent`s and start with `--no-agent`"
        );
        return Ok(None);
    };
    let token = crate::auth::mint_token(
        secret,
        &settings.jwt_issuer,
        &settings.jwt_audience,
        BUILTIN_AGENT_SUBJECT,
        "agent",
        chrono::Duration::days(3650),
    )
    .context("minting the built-in agent's token")?;
    // A server listening on every interface is reached on the loopback one.
    let host = match addr.ip() {
        ip if ip.is_unspecified() && ip.is_ipv4() => std::net::Ipv4Addr::LOCALHOST.into(),
        ip if ip.is_unspecified() => std::net::Ipv6Addr::LOCALHOST.into(),
        ip => ip,
    };
    let server = format!("http://{}", SocketAddr::new(host, addr.port()));
    Ok(Some(AgentHandle::spawn(AgentConfig {
        server,
        token,
        name: BUILTIN_AGENT_NAME.to_owned(),
        workdir: settings.data_dir.join("work"),
        capacity: 1,
    })))
}
