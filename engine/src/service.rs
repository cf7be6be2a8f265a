//! The application layer: loads aggregates from the log, runs their `decide`, appends the
//! events with optimistic concurrency, keeps the read model current and runs the process
//! manager.

use std::{
    collections::BTreeSet,
    sync::{
        Arc, Mutex, RwLock,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    time::Duration as StdDuration,
};

use chrono::{Duration, Utc};
use conveyor_store::{
    AppendOutcome, EventStore, ExpectedVersion, Metadata, NewEvent, ReadFilter, Record, StoreError,
};
use serde::Serialize;
use tokio::sync::watch;
use uuid::Uuid;

use crate::{
    aggregate::{
        Aggregate,
        build::{ArtifactReport, BuildCommand, BuildState},
        decode,
        deployment::{
            ApprovalDecision, Approver, DeploymentCommand, DeploymentKind, DeploymentState,
            DeploymentStatus, RequestDeployment,
        },
        encode,
        environment::{EnvironmentCommand, EnvironmentEvent, EnvironmentState},
        freeze::FreezeOverride,
        integration::{IntegrationSpec, IntegrationState},
        job::{JobCommand, Lease},
        lifecycle::{LifecycleSpec, LifecycleState, ReleaseLifecycle},
        project::{Known, ProjectCommand, ProjectSpec, ProjectState},
        push::{PushEvent, PushReport, PushState},
        release::{CreateRelease, ReleaseSnapshot, ReleaseState},
    },
    checkpoint,
    error::{DomainError, EngineError},
    ids::{
        build_stream, deployment_stream, derived_id, environment_stream, integration_stream,
        lifecycle_stream, name_id, new_event_id, project_stream, push_stream, release_stream,
    },
    model::{BuildView, DeploymentView, ReadModel, ReleaseView, Tracked, stream_id},
    names::{EnvironmentName, IntegrationName, LifecycleName, ProjectName},
    rollback::{LiveEntry, live_history, rollback_target},
};

/// One request for a deployment, from a person or from the workflow.
struct Request {
    /// The new deployment's id.
    id: Uuid,
    /// The release.
    release_id: Uuid,
    /// Target.
    environment: EnvironmentName,
    /// Deploy or rollback.
    kind: DeploymentKind,
    /// For a rollback: the deployment it reverts.
    reverts: Option<Uuid>,
    /// How the events get their ids.
    ids: EventIds,
    /// Who overrides a freeze, and why.
    freeze_override: Option<FreezeOverride>,
    /// Whether the workflow asks (it waits out a soak time instead of being refused).
    by_workflow: bool,
}

impl Request {
    fn deploy(id: Uuid, release_id: Uuid, environment: EnvironmentName, ids: EventIds) -> Self {
        Self {
            id,
            release_id,
            environment,
            kind: DeploymentKind::Deploy,
            reverts: None,
            ids,
            freeze_override: None,
            by_workflow: false,
        }
    }
}

/// The checkpoint name of the process manager.
const PROCESS_MANAGER: &str = "process-manager";
/// How long a caller waits for the read model to reach its own write.
const CATCH_UP_TIMEOUT: StdDuration = StdDuration::from_secs(30);

/// How long the leader lets its handled position go unsaved (other nodes wait on the saved one).
const CHECKPOINT_EVERY: StdDuration = StdDuration::from_millis(20);
/// How often a command is retried when another writer wins the race on its stream.
const CONFLICT_RETRIES: usize = 5;

/// How the engine runs.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How long a job lease lasts without a heartbeat.
    pub lease_duration: Duration,
    /// Whether this engine reacts to events (push → build → release → deployment).
    pub run_process_manager: bool,
    /// How many leases of one job may lapse before the job fails.
    pub max_attempts: u32,
    /// Where the read model is checkpointed (see `checkpoint.rs`); `None`: every start
    /// replays the whole log.
    pub checkpoint: Option<std::path::PathBuf>,
    /// How many events apart checkpoints are written while running (one is also written on
    /// a clean stop).
    pub checkpoint_every: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            lease_duration: Duration::seconds(60),
            run_process_manager: true,
            max_attempts: 3,
            checkpoint: None,
            checkpoint_every: 100_000,
        }
    }
}

/// Who issues a command, as their token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Actor {
    /// JWT subject, or `system`.
    pub subject: String,
    /// Scopes held.
    pub scopes: Vec<String>,
    /// The token's id.
    pub token_id: Option<String>,
}

impl Actor {
    /// The workflow itself.
    pub fn system() -> Self {
        Self {
            subject: "system".into(),
            scopes: Vec::new(),
            token_id: None,
        }
    }
}

/// Who and why, for the metadata of the events a command appends.
#[derive(Debug, Clone)]
pub struct CommandContext {
    /// Who.
    pub actor: Actor,
    /// The workflow this belongs to.
    pub correlation_id: Uuid,
    /// What caused it.
    pub causation_id: Option<Uuid>,
    /// The HTTP request id.
    pub request_id: Option<String>,
}

impl CommandContext {
    /// A context for a new request by `actor`.
    pub fn new(actor: Actor, request_id: Option<String>) -> Self {
        Self {
            actor,
            correlation_id: new_event_id(),
            causation_id: None,
            request_id,
        }
    }

    fn metadata(&self) -> Metadata {
        Metadata {
            actor: self.actor.subject.clone(),
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            request_id: self.request_id.clone(),
        }
    }

    /// The context of the process manager reacting to `cause`.
    fn reacting_to(cause: &Record) -> Self {
        Self {
            actor: Actor::system(),
            correlation_id: cause.metadata.correlation_id,
            causation_id: Some(cause.id),
            request_id: None,
        }
    }
}

/// How event ids of an append are chosen.
#[derive(Debug, Clone, Copy)]
enum EventIds {
    /// Fresh UUID v7s (a command from a person).
    Fresh,
    /// Derived from a cause and a label (a reaction: replay re-derives the same ids).
    Derived(Uuid),
}

/// A leased job and what the agent needs to run it.
#[derive(Debug, Clone)]
pub enum JobAssignment {
    /// Run a build.
    Build {
        /// The build.
        build: Box<BuildView>,
        /// The lease.
        lease: Lease,
    },
    /// Run a deployment of a release.
    Deployment {
        /// The deployment.
        deployment: Box<DeploymentView>,
        /// The release's snapshot.
        release: Box<ReleaseSnapshot>,
        /// The lease.
        lease: Lease,
    },
}

/// A job reference after a protocol command.
#[derive(Debug, Clone)]
pub enum JobView {
    /// A build.
    Build(Box<BuildView>),
    /// A deployment.
    Deployment(Box<DeploymentView>),
}

/// What a delivery recorded: its pushes and the builds each queued.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The delivery's id (its push stream).
    pub id: Uuid,
    /// Whether it had been delivered before (nothing was appended this time).
    pub duplicate: bool,
    /// Each push and the builds it queued, in the delivery's order.
    pub pushes: Vec<(Uuid, Vec<BuildView>)>,
}

/// The project × environment grid.
#[derive(Debug, Clone)]
pub struct Dashboard {
    /// Environment names (columns), in name order.
    pub environments: Vec<EnvironmentName>,
    /// Project names (rows), in name order.
    pub projects: Vec<ProjectName>,
    /// The cells with deployments, by (project, environment), in that order.
    pub cells: Vec<((ProjectName, EnvironmentName), crate::model::DashboardCell)>,
}

/// A moment of the log: a position, or a time (everything recorded up to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PointInTime {
    /// Up to and including this position.
    Position(u64),
    /// Everything recorded at or before this time.
    Time(chrono::DateTime<Utc>),
}

/// An environment as it was at a moment: per project, the live deployment and its release.
#[derive(Debug, Clone)]
pub struct EnvironmentAt {
    /// The last position the state includes.
    pub position: u64,
    /// The live deployment and its release, per project (by project name).
    pub projects: Vec<(DeploymentView, ReleaseView)>,
}

/// A page of a list, newest first.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor for the next page, when there is one.
    pub next: Option<u64>,
}

fn page<T: Clone>(mut items: Vec<(u64, T)>, before: Option<u64>, limit: usize) -> Page<T> {
    items.retain(|(position, _)| before.is_none_or(|b| *position < b));
    items.sort_by_key(|item| std::cmp::Reverse(item.0));
    let limit = limit.clamp(1, 500);
    let next = (items.len() > limit).then(|| items[limit - 1].0);
    items.truncate(limit);
    Page {
        items: items.into_iter().map(|(_, t)| t).collect(),
        next,
    }
}

/// Filters for build lists.
#[derive(Debug, Clone, Default)]
pub struct BuildFilter {
    /// Only this project.
    pub project: Option<ProjectName>,
}

/// Filters for deployment lists.
#[derive(Debug, Clone, Default)]
pub struct DeploymentFilter {
    /// Only this project.
    pub project: Option<ProjectName>,
    /// Only this environment.
    pub environment: Option<EnvironmentName>,
    /// Only this release.
    pub release: Option<Uuid>,
}

struct Inner {
    store: Arc<dyn EventStore>,
    model: RwLock<ReadModel>,
    applied: watch::Sender<u64>,
    reacted: watch::Sender<u64>,
    stop: watch::Sender<bool>,
    task: Mutex<Option<tokio::task::JoinHandle<()>>>,
    sweeper: Mutex<Option<tokio::task::JoinHandle<()>>>,
    manager: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Lets one lease request of this node at a time wait for the store's leasing lock (which
    /// costs a database connection per waiter on PostgreSQL).
    leasing: tokio::sync::Mutex<()>,
    /// Whether this node holds the store's process-manager lock: only the leader reacts to
    /// events, sweeps, and runs the other once-per-cluster work.
    leader: watch::Sender<bool>,
    /// Position of the last checkpoint written (or loaded).
    checkpointed: AtomicU64,
    /// Whether a checkpoint is being written.
    checkpointing: AtomicBool,
    config: EngineConfig,
}

/// The engine: cheap to clone, shared by every request.
#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine")
            .field("applied", &*self.inner.applied.borrow())
            .finish()
    }
}

impl Engine {
    /// Starts the engine: loads the projection checkpoint when there is a good one, replays
    /// the log after it into the read model, then follows the log; the process manager resumes
    /// after its own checkpoint. Returns once the model has caught up with the log as it was
    /// at start.
    pub async fn start(
        store: Arc<dyn EventStore>,
        config: EngineConfig,
    ) -> Result<Self, EngineError> {
        let head = store.head().await?;
        let mut model = match &config.checkpoint {
            Some(path) => checkpoint::load(path, &*store).await,
            None => None,
        }
        .unwrap_or_default();
        // Catch up with the log as it is now, a page at a time, before anyone reads the model;
        // the follower then takes over from there, a record at a time.
        let loaded = model.position;
        let caught_up = model.catch_up(store.clone(), head).await?;
        if caught_up.records > 0 {
            tracing::info!(
                records = caught_up.records,
                reading_s = caught_up.reading.as_secs_f64(),
                decoding_s = caught_up.decoding.as_secs_f64(),
                folding_s = caught_up.folding.as_secs_f64(),
                "replayed the log into the read model"
            );
        }
        let from = model.position;
        let subscription = store.subscribe(from).await?;
        let engine = Self {
            inner: Arc::new(Inner {
                store,
                model: RwLock::new(model),
                applied: watch::Sender::new(from),
                reacted: watch::Sender::new(0),
                stop: watch::Sender::new(false),
                task: Mutex::new(None),
                sweeper: Mutex::new(None),
                manager: Mutex::new(None),
                leasing: tokio::sync::Mutex::new(()),
                leader: watch::Sender::new(false),
                checkpointed: AtomicU64::new(loaded),
                checkpointing: AtomicBool::new(false),
                config,
            }),
        };
        if from - loaded >= engine.inner.config.checkpoint_every {
            // A long catch-up: save it, so the next start does not repeat it.
            let writer = engine.clone();
            tokio::task::spawn_blocking(move || writer.write_checkpoint());
        }
        let runner = engine.clone();
        let handle = tokio::spawn(async move { runner.follow_log(subscription).await });
        *engine.inner.task.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        if engine.inner.config.run_process_manager {
            let manager = engine.clone();
            let manager = tokio::spawn(async move { manager.manage().await });
            *engine
                .inner
                .manager
                .lock()
                .unwrap_or_else(|e| e.into_inner()) = Some(manager);
        }
        let sweeper = engine.clone();
        let sweeper = tokio::spawn(async move { sweeper.sweep().await });
        *engine
            .inner
            .sweeper
            .lock()
            .unwrap_or_else(|e| e.into_inner()) = Some(sweeper);
        // No deadline here: replaying a long log takes as long as it takes, and the server
        // must not give up on a healthy log because it is large.
        let mut applied = engine.inner.applied.subscribe();
        applied
            .wait_for(|position| *position >= head)
            .await
            .map_err(|_| {
                EngineError::Unavailable("the engine stopped while replaying the log".into())
            })?;
        Ok(engine)
    }

    /// Stops following the log and saves the process manager's checkpoint.
    pub async fn shutdown(&self) {
        self.inner.stop.send_replace(true);
        let sweeper = self
            .inner
            .sweeper
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(sweeper) = sweeper {
            let _ = sweeper.await;
        }
        let manager = self
            .inner
            .manager
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(manager) = manager {
            let _ = manager.await;
        }
        let handle = self
            .inner
            .task
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(handle) = handle {
            let _ = handle.await;
        }
        // The follower has stopped: checkpoint what it applied, so the next start is quick.
        if self.applied_position() > self.inner.checkpointed.load(Ordering::Acquire) {
            let engine = self.clone();
            let _ = tokio::task::spawn_blocking(move || engine.write_checkpoint()).await;
        }
    }

    /// Writes the projection checkpoint, if one is configured, unless one is being written.
    fn write_checkpoint(&self) {
        let Some(path) = &self.inner.config.checkpoint else {
            return;
        };
        if self.inner.checkpointing.swap(true, Ordering::AcqRel) {
            return;
        }
        let started = std::time::Instant::now();
        let written = self.read(|model| checkpoint::write(path, model).map(|()| model.position));
        match written {
            Ok(position) => {
                self.inner.checkpointed.store(position, Ordering::Release);
                tracing::info!(
                    position,
                    seconds = started.elapsed().as_secs_f64(),
                    "wrote the projection checkpoint"
                );
            }
            Err(err) => {
                tracing::warn!(error = %err, path = %path.display(), "writing the projection checkpoint failed")
            }
        }
        self.inner.checkpointing.store(false, Ordering::Release);
    }

    /// The event store underneath (the API's auditor endpoints read it directly).
    pub fn store(&self) -> &Arc<dyn EventStore> {
        &self.inner.store
    }

    /// Position of the last record applied to the read model.
    pub fn applied_position(&self) -> u64 {
        *self.inner.applied.borrow()
    }

    /// Follows the position of the last record applied to the read model (it changes after
    /// each applied record; a burst may be seen once).
    pub fn applied_positions(&self) -> watch::Receiver<u64> {
        self.inner.applied.subscribe()
    }

    /// Position of the last record the process manager has handled.
    pub fn reacted_position(&self) -> u64 {
        *self.inner.reacted.borrow()
    }

    /// Whether the engine's log follower is running.
    pub fn is_running(&self) -> bool {
        self.inner
            .task
            .lock()
            .map(|task| task.as_ref().is_some_and(|t| !t.is_finished()))
            .unwrap_or(false)
    }

    /// Reads the model under its lock.
    pub fn read<T>(&self, f: impl FnOnce(&ReadModel) -> T) -> T {
        let model = self.inner.model.read().unwrap_or_else(|e| e.into_inner());
        f(&model)
    }

    /// Waits until the read model has applied `position`.
    pub async fn wait_applied(&self, position: u64) -> Result<(), EngineError> {
        wait_for(&self.inner.applied, position).await
    }

    /// Whether this node leads: it holds the process-manager lock, so it reacts to events and
    /// runs the work done once per cluster.
    pub fn is_leader(&self) -> bool {
        *self.inner.leader.borrow()
    }

    /// A receiver of whether this node leads (see [`Engine::is_leader`]).
    pub fn leadership(&self) -> watch::Receiver<bool> {
        self.inner.leader.subscribe()
    }

    /// Waits until the process manager has handled `position` — this node's, or, on a node
    /// that does not lead, the leader's, as its saved checkpoint says.
    pub async fn wait_reacted(&self, position: u64) -> Result<(), EngineError> {
        if !self.inner.config.run_process_manager {
            return self.wait_applied(position).await;
        }
        let deadline = tokio::time::Instant::now() + CATCH_UP_TIMEOUT;
        let mut leader = self.inner.leader.subscribe();
        loop {
            if *leader.borrow_and_update() {
                return wait_for(&self.inner.reacted, position).await;
            }
            if self.inner.store.load_checkpoint(PROCESS_MANAGER).await? >= position {
                return Ok(());
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(EngineError::Unavailable(format!(
                    "the workflow did not handle position {position} within {CATCH_UP_TIMEOUT:?}"
                )));
            }
            // The leader saves its checkpoint at least every CHECKPOINT_EVERY.
            tokio::select! {
                _ = tokio::time::sleep(CHECKPOINT_EVERY) => {}
                _ = leader.changed() => {}
            }
        }
    }

    /// Waits until the workflow has settled after a write at `position`: the process manager
    /// has handled it and whatever its reactions appended, and the read model holds all of it.
    /// So a caller that pushes and then lists builds sees the build it queued.
    pub async fn settle(&self, position: u64) -> Result<(), EngineError> {
        self.wait_reacted(position).await?;
        // Reactions append after their cause; follow them for a few rounds (push -> build,
        // build -> release -> deployment) without chasing an endless stream of other writes.
        let mut reached = position;
        for _ in 0..4 {
            let head = self.inner.store.head().await?;
            if head <= reached {
                break;
            }
            self.wait_reacted(head).await?;
            reached = head;
        }
        self.wait_applied(reached).await
    }

    // ----- the log follower and the process manager -----

    /// Applies every record of the log to the read model, on every node.
    async fn follow_log(&self, mut subscription: Box<dyn conveyor_store::Subscription>) {
        let mut stop = self.inner.stop.subscribe();
        loop {
            let record = tokio::select! {
                record = subscription.next() => record,
                _ = stop.wait_for(|s| *s) => break,
            };
            let record = match record {
                Ok(record) => record,
                Err(StoreError::Closed) => break,
                Err(err) => {
                    tracing::error!(error = %err, "reading the log failed; resubscribing");
                    tokio::time::sleep(StdDuration::from_millis(200)).await;
                    match self.inner.store.subscribe(self.applied_position()).await {
                        Ok(next) => subscription = next,
                        Err(err) => tracing::error!(error = %err, "resubscribing failed"),
                    }
                    continue;
                }
            };
            self.inner
                .model
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .apply(&record);
            self.inner.applied.send_replace(record.position);
            let since = record.position - self.inner.checkpointed.load(Ordering::Acquire);
            if self.inner.config.checkpoint.is_some()
                && since >= self.inner.config.checkpoint_every
                && !self.inner.checkpointing.load(Ordering::Acquire)
            {
                let engine = self.clone();
                tokio::task::spawn_blocking(move || engine.write_checkpoint());
            }
        }
    }

    /// Runs the process manager whenever this node holds the store's process-manager lock:
    /// one node of a cluster reacts, and when it goes (its lock is released or lost) another
    /// takes over from the saved checkpoint. Reactions are idempotent, so one repeated after a
    /// takeover appends nothing.
    async fn manage(&self) {
        let mut stop = self.inner.stop.subscribe();
        loop {
            let guard = tokio::select! {
                guard = self.inner.store.lock(PROCESS_MANAGER) => guard,
                _ = stop.wait_for(|s| *s) => return,
            };
            let mut guard = match guard {
                Ok(guard) => guard,
                Err(StoreError::Closed) => return,
                Err(err) => {
                    tracing::warn!(error = %err, "taking the process-manager lock failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(StdDuration::from_secs(1)) => continue,
                        _ = stop.wait_for(|s| *s) => return,
                    }
                }
            };
            tracing::info!("this node leads: it runs the workflow");
            self.inner.leader.send_replace(true);
            let stopped = self.lead(&mut guard).await;
            self.inner.leader.send_replace(false);
            drop(guard);
            if stopped {
                return;
            }
            tracing::warn!("this node lost the process-manager lock; it follows now");
        }
    }

    /// Reacts to the log from the saved checkpoint while `guard` holds; true when the engine
    /// is stopping, false when the lock was lost.
    async fn lead(&self, guard: &mut conveyor_store::LockGuard) -> bool {
        let mut stop = self.inner.stop.subscribe();
        let mut saved = loop {
            match self.inner.store.load_checkpoint(PROCESS_MANAGER).await {
                Ok(checkpoint) => break checkpoint,
                Err(StoreError::Closed) => return true,
                Err(err) => {
                    tracing::warn!(error = %err, "loading the checkpoint failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(StdDuration::from_millis(200)) => {}
                        _ = stopped(&mut stop) => return true,
                        _ = guard.lost() => return false,
                    }
                }
            }
        };
        self.inner.reacted.send_replace(saved);
        let mut handled = saved;
        let mut last_save = tokio::time::Instant::now();
        let mut subscription = loop {
            match self.inner.store.subscribe(handled).await {
                Ok(subscription) => break subscription,
                Err(StoreError::Closed) => return true,
                Err(err) => {
                    tracing::warn!(error = %err, "subscribing failed; retrying");
                    tokio::select! {
                        _ = tokio::time::sleep(StdDuration::from_millis(200)) => {}
                        _ = stopped(&mut stop) => return true,
                        _ = guard.lost() => return false,
                    }
                }
            }
        };
        loop {
            let record = tokio::select! {
                record = subscription.next() => record,
                // Idle with an unsaved position: save it, so other nodes see it settle.
                _ = tokio::time::sleep(CHECKPOINT_EVERY), if handled > saved => {
                    self.save_checkpoint(handled).await;
                    saved = handled;
                    last_save = tokio::time::Instant::now();
                    continue;
                }
                _ = guard.lost() => return false,
                _ = stopped(&mut stop) => {
                    if handled > saved {
                        self.save_checkpoint(handled).await;
                    }
                    return true;
                }
            };
            let record = match record {
                Ok(record) => record,
                Err(StoreError::Closed) => return true,
                Err(err) => {
                    tracing::error!(error = %err, "reading the log failed; resubscribing");
                    tokio::time::sleep(StdDuration::from_millis(200)).await;
                    match self.inner.store.subscribe(handled).await {
                        Ok(next) => subscription = next,
                        Err(err) => tracing::error!(error = %err, "resubscribing failed"),
                    }
                    continue;
                }
            };
            // Reactions read the read model: it must hold the record first.
            let mut applied = self.inner.applied.subscribe();
            let caught_up = tokio::select! {
                result = applied.wait_for(|p| *p >= record.position) => result.is_ok(),
                _ = stopped(&mut stop) => false,
            };
            if !caught_up {
                return true;
            }
            // Stopped in the middle of retrying: this record was not handled, so neither the
            // checkpoint nor the reacted position may move past it.
            let Some(reacted) = self.react(&record).await else {
                return true;
            };
            handled = record.position;
            self.inner.reacted.send_replace(handled);
            // Saved after every reaction, and at least every CHECKPOINT_EVERY under a steady
            // stream of other events (heartbeats, say): nodes that do not lead wait on it.
            if reacted || handled - saved >= 1000 || last_save.elapsed() >= CHECKPOINT_EVERY {
                self.save_checkpoint(handled).await;
                saved = handled;
                last_save = tokio::time::Instant::now();
            }
        }
    }

    async fn save_checkpoint(&self, position: u64) {
        if let Err(err) = self
            .inner
            .store
            .save_checkpoint(PROCESS_MANAGER, position)
            .await
        {
            tracing::warn!(error = %err, position, "saving the process manager checkpoint failed");
        }
    }

    /// Reacts to one record; returns whether it appended anything. Reactions derive their
    /// event ids from the cause, so handling a record twice appends nothing the second time.
    async fn react(&self, record: &Record) -> Option<bool> {
        // A reaction that fails for a reason other than a refusal (the store is unavailable,
        // say) is retried until it succeeds or the engine stops: skipping it would lose the
        // workflow's next step for good, since the checkpoint moves past it.
        let mut backoff = StdDuration::from_millis(50);
        let mut stop = self.inner.stop.subscribe();
        loop {
            let result = match record.event_type.as_str() {
                "PushReceived" => self.queue_builds_for_push(record).await,
                "BuildSucceeded" => self.release_build(record).await,
                "ReleaseCreated" | "DeploymentSucceeded" => self.deploy_automatically(record).await,
                "DeploymentFailed" => self.roll_back_failure(record).await,
                _ => return Some(false),
            };
            match result {
                Ok(appended) => return Some(appended),
                Err(EngineError::Refused(refusal)) => {
                    tracing::info!(position = record.position, reason = %refusal, "the workflow declined to react");
                    return Some(false);
                }
                Err(err) => {
                    tracing::error!(position = record.position, error = %err, retry_in = ?backoff, "reacting to an event failed");
                    tokio::select! {
                        _ = tokio::time::sleep(backoff) => {}
                        _ = stop.wait_for(|stopping| *stopping) => return None,
                    }
                    backoff = (backoff * 2).min(StdDuration::from_secs(5));
                }
            }
        }
    }

    async fn stream_exists(&self, stream: &str) -> Result<bool, EngineError> {
        Ok(self.inner.store.stream_version(stream).await? > 0)
    }

    async fn queue_builds_for_push(&self, record: &Record) -> Result<bool, EngineError> {
        let Some(crate::aggregate::push::PushEvent::PushReceived {
            push_id, report, ..
        }) = decode(&record.event_type, &record.payload)
        else {
            return Ok(false);
        };
        let projects: Vec<(ProjectSpec, String)> = self.read(|model| {
            model
                .projects
                .values()
                .filter_map(|p| p.state.spec.clone())
                .filter_map(|spec| spec.builds_for(&report).map(|branch| (spec, branch)))
                .collect()
        });
        let ctx = CommandContext::reacting_to(record);
        let mut appended = false;
        for (spec, branch) in projects {
            let build_id = derived_id(record.id, &format!("build:{}", spec.name));
            let stream = build_stream(build_id);
            if self.stream_exists(&stream).await? {
                continue;
            }
            let events = BuildState::default().decide(
                BuildCommand::Queue {
                    build_id,
                    project: spec.name.clone(),
                    push_id: Some(push_id),
                    repository: report.repository.clone(),
                    branch: branch.clone(),
                    commit: report.commit.clone(),
                    plan: spec.plan_for_branch(&branch)?,
                    plan_source: spec.plan_source,
                },
                Utc::now(),
            )?;
            self.append(
                &ctx,
                &stream,
                ExpectedVersion::NoStream,
                &events,
                EventIds::Derived(build_id),
            )
            .await?;
            appended = true;
        }
        Ok(appended)
    }

    async fn release_build(&self, record: &Record) -> Result<bool, EngineError> {
        let Some(build_id) = record
            .stream
            .strip_prefix("build-")
            .and_then(|id| Uuid::parse_str(id).ok())
        else {
            return Ok(false);
        };
        // The read model may already be past this event (the process manager runs behind the
        // log follower): a release made from this build means the reaction already happened.
        let released = self.read(|m| {
            m.releases
                .values()
                .any(|r| r.snapshot().is_some_and(|s| s.build_id == build_id))
        });
        if released {
            return Ok(false);
        }
        let ctx = CommandContext::reacting_to(record);
        let (_, outcome) = self
            .create_release_for_build(&ctx, build_id, None, Some(record.id))
            .await?;
        Ok(!outcome.duplicate)
    }

    /// After a release is created or succeeds somewhere, deploys it to every automatic
    /// environment its lifecycle lets it into now and where it has not been deployed yet
    /// (skipping environments whose automatic promotion is held). The deployment id is
    /// derived from the release and the environment, so however many events lead to the same
    /// automatic deployment, it is requested once.
    async fn deploy_automatically(&self, record: &Record) -> Result<bool, EngineError> {
        let release_id = match decode::<crate::aggregate::release::ReleaseEvent>(
            &record.event_type,
            &record.payload,
        ) {
            Some(crate::aggregate::release::ReleaseEvent::ReleaseCreated(snapshot)) => {
                Some(snapshot.release_id)
            }
            _ => self.read(|m| {
                let deployment_id = stream_id(&record.stream, "deployment-")?;
                let deployment = &m.deployments.get(&deployment_id)?.tracked.state;
                ReadModel::promotes(deployment.kind)
                    .then_some(deployment.release_id)
                    .flatten()
            }),
        };
        let Some(release_id) = release_id else {
            return Ok(false);
        };
        let targets: Vec<EnvironmentName> = self.read(|m| {
            let Some(release) = m.releases.get(&release_id) else {
                return Vec::new();
            };
            let Some(snapshot) = release.snapshot() else {
                return Vec::new();
            };
            let deployed: BTreeSet<&EnvironmentName> = release
                .deployments
                .iter()
                .filter_map(|id| m.deployments.get(id)?.tracked.state.environment.as_ref())
                .collect();
            snapshot
                .lifecycle
                .automatic_targets(&release.succeeded_in)
                .into_iter()
                .filter(|environment| !deployed.contains(environment))
                .filter(|environment| {
                    let held = m
                        .environments
                        .get(environment)
                        .is_some_and(|e| e.state.holds.contains_key(&snapshot.project));
                    if held {
                        tracing::info!(%environment, "automatic promotion is held here");
                    }
                    !held
                })
                .collect()
        });
        let ctx = CommandContext::reacting_to(record);
        let mut appended = false;
        for environment in targets {
            let id = derived_id(release_id, &format!("automatic:{environment}"));
            if self.stream_exists(&deployment_stream(id)).await? {
                continue;
            }
            let request = Request {
                by_workflow: true,
                ..Request::deploy(id, release_id, environment, EventIds::Derived(id))
            };
            match self.request_deployment_with_id(&ctx, request).await {
                Ok(_) => appended = true,
                // One environment refusing (a freeze, say) does not stop the others.
                Err(EngineError::Refused(refusal)) => {
                    tracing::info!(reason = %refusal, "the workflow did not deploy automatically");
                }
                Err(err) => return Err(err),
            }
        }
        Ok(appended)
    }

    /// Once a second, as the workflow (so it shows in the log): ends the soak waits that are
    /// due, and expires the deployments that waited for approval longer than their
    /// environment's approval timeout.
    async fn sweep(&self) {
        let mut stop = self.inner.stop.subscribe();
        loop {
            tokio::select! {
                _ = tokio::time::sleep(StdDuration::from_secs(1)) => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
            if !self.is_leader() {
                continue;
            }
            let now = Utc::now();
            let due: Vec<(Uuid, DeploymentCommand)> = self.read(|m| {
                m.deployments
                    .values()
                    .filter_map(|d| {
                        let state = &d.tracked.state;
                        let command = match state.status {
                            DeploymentStatus::Waiting => state
                                .waiting_until
                                .filter(|until| *until <= now)
                                .map(|_| DeploymentCommand::EndWait),
                            DeploymentStatus::AwaitingApproval => {
                                let timeout = state.policy.approval_timeout_seconds?;
                                let since = d.awaiting_since.unwrap_or(d.tracked.created_at);
                                let waited = (now - since).num_seconds().max(0) as u64;
                                (waited >= timeout).then_some(DeploymentCommand::ExpireApproval {
                                    waited_seconds: waited,
                                })
                            }
                            _ => None,
                        }?;
                        Some((state.id?, command))
                    })
                    .collect()
            });
            for (id, command) in due {
                let ctx = CommandContext::new(Actor::system(), None);
                if let Err(err) = self.deployment_command(&ctx, id, command).await {
                    tracing::info!(deployment = %id, error = %err, "a sweep found nothing to do");
                }
            }
        }
    }

    /// Whether automatic promotion of `project` into `environment` is held.
    fn promotion_held(&self, project: &ProjectName, environment: &EnvironmentName) -> bool {
        self.read(|m| {
            m.environments
                .get(environment)
                .is_some_and(|e| e.state.holds.contains_key(project))
        })
    }

    /// In an environment that rolls back automatically, a failed deployment puts a promotion
    /// hold on its project there and is reverted to the last release that succeeded.
    async fn roll_back_failure(&self, record: &Record) -> Result<bool, EngineError> {
        let Some(deployment_id) = record
            .stream
            .strip_prefix("deployment-")
            .and_then(|id| Uuid::parse_str(id).ok())
        else {
            return Ok(false);
        };
        let failed = self.read(|m| {
            let deployment = &m.deployments.get(&deployment_id)?.tracked.state;
            let environment = deployment.environment.clone()?;
            let auto = m.environments.get(&environment)?.state.auto_rollback;
            (auto && deployment.kind != Some(DeploymentKind::Rollback)).then(|| {
                (
                    deployment.project.clone(),
                    environment,
                    deployment.release_version.clone(),
                )
            })
        });
        let Some((Some(project), environment, version)) = failed else {
            return Ok(false);
        };
        let ctx = CommandContext::reacting_to(record);
        let hold = EnvironmentEvent::PromotionHeld {
            project: project.clone(),
            reason: format!(
                "release {version} failed here and was rolled back automatically; promote by hand to resume"
            ),
        };
        self.append(
            &ctx,
            &environment_stream(environment.as_str()),
            ExpectedVersion::Any,
            &[hold],
            EventIds::Derived(derived_id(record.id, "hold")),
        )
        .await?;
        let rollback_id = derived_id(record.id, "rollback");
        if self.stream_exists(&deployment_stream(rollback_id)).await? {
            return Ok(true);
        }
        let (current, target) = match self.rollback_plan(&project, &environment, None).await {
            Ok(plan) => plan,
            // Nothing succeeded here before: the hold is all there is to do.
            Err(EngineError::Refused(_)) => return Ok(true),
            Err(err) => return Err(err),
        };
        let ctx = CommandContext {
            causation_id: Some(current.outcome_event),
            ..ctx
        };
        let request = Request {
            kind: DeploymentKind::Rollback,
            reverts: Some(current.deployment_id),
            by_workflow: true,
            ..Request::deploy(
                rollback_id,
                target.release_id,
                environment,
                EventIds::Derived(rollback_id),
            )
        };
        self.request_deployment_with_id(&ctx, request).await?;
        Ok(true)
    }

    // ----- appending -----

    async fn append<E: Serialize>(
        &self,
        ctx: &CommandContext,
        stream: &str,
        expected: ExpectedVersion,
        events: &[E],
        ids: EventIds,
    ) -> Result<AppendOutcome, EngineError> {
        let metadata = ctx.metadata();
        let new_events = events
            .iter()
            .enumerate()
            .map(|(index, event)| {
                let (event_type, payload) = encode(event);
                let id = match ids {
                    EventIds::Fresh => new_event_id(),
                    EventIds::Derived(cause) => derived_id(cause, &format!("{stream}#{index}")),
                };
                NewEvent {
                    id,
                    event_type,
                    schema_version: 1,
                    payload,
                    metadata: metadata.clone(),
                }
            })
            .collect();
        let outcome = self
            .inner
            .store
            .append(stream, expected, new_events)
            .await?;
        Ok(outcome)
    }

    /// Loads an aggregate from its stream, decides, appends at the version it read, and
    /// retries when another writer won the race. Waits until the read model has the result.
    async fn execute<A: Aggregate>(
        &self,
        ctx: &CommandContext,
        stream: &str,
        if_match: Option<u64>,
        decide: impl Fn(&A) -> Result<Vec<A::Event>, EngineError>,
    ) -> Result<AppendOutcome, EngineError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            let records = self.inner.store.read_stream(stream, 0).await?;
            let version = records.last().map_or(0, |r| r.version);
            if let Some(expected) = if_match
                && expected != version
            {
                return Err(EngineError::VersionMismatch {
                    expected,
                    actual: version,
                });
            }
            let state = records
                .iter()
                .filter_map(|r| decode::<A::Event>(&r.event_type, &r.payload))
                .fold(A::default(), |state, event| state.evolve(&event));
            let events = decide(&state)?;
            let expected = if version == 0 {
                ExpectedVersion::NoStream
            } else {
                ExpectedVersion::Exact(version)
            };
            match self
                .append(ctx, stream, expected, &events, EventIds::Fresh)
                .await
            {
                Ok(outcome) => {
                    self.settle(outcome.last_position).await?;
                    return Ok(outcome);
                }
                // The caller's If-Match held when we read, but another writer got in first:
                // that is the precondition failing, not a conflict to retry.
                Err(EngineError::Conflict { actual, .. }) if if_match.is_some() => {
                    return Err(EngineError::VersionMismatch {
                        expected: version,
                        actual,
                    });
                }
                Err(EngineError::Conflict { .. }) if attempt < CONFLICT_RETRIES => continue,
                Err(err) => return Err(err),
            }
        }
    }

    /// Runs a command on an existing build at the current time and returns the build after it.
    async fn build_command(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        command: BuildCommand,
    ) -> Result<BuildView, EngineError> {
        let now = Utc::now();
        self.execute::<BuildState>(ctx, &build_stream(id), None, |state| {
            Ok(state.decide(command.clone(), now)?)
        })
        .await?;
        self.get_build(id)
    }

    /// Runs a command on an existing deployment at the current time and returns it after.
    async fn deployment_command(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        command: DeploymentCommand,
    ) -> Result<DeploymentView, EngineError> {
        let now = Utc::now();
        self.execute::<DeploymentState>(ctx, &deployment_stream(id), None, |state| {
            Ok(state.decide(command.clone(), now)?)
        })
        .await?;
        self.get_deployment(id)
    }

    // ----- environments and projects -----

    /// Creates an environment.
    pub async fn create_environment(
        &self,
        ctx: &CommandContext,
        name: EnvironmentName,
        description: String,
        policy: crate::aggregate::deployment::ApprovalPolicy,
        auto_rollback: bool,
        soak_seconds: Option<u64>,
    ) -> Result<Tracked<EnvironmentState>, EngineError> {
        let stream = environment_stream(name.as_str());
        let command = EnvironmentCommand::Create {
            name: name.clone(),
            description,
            policy,
            auto_rollback,
            soak_seconds,
        };
        self.execute::<EnvironmentState>(ctx, &stream, None, |state| {
            Ok(state.decide(command.clone())?)
        })
        .await?;
        self.get_environment(&name)
    }

    /// Adds a freeze window to an environment.
    pub async fn add_freeze(
        &self,
        ctx: &CommandContext,
        environment: &EnvironmentName,
        freeze: crate::aggregate::freeze::Freeze,
    ) -> Result<Tracked<EnvironmentState>, EngineError> {
        self.environment_command(ctx, environment, EnvironmentCommand::AddFreeze(freeze))
            .await
    }

    /// Removes a freeze window.
    pub async fn remove_freeze(
        &self,
        ctx: &CommandContext,
        environment: &EnvironmentName,
        id: Uuid,
    ) -> Result<Tracked<EnvironmentState>, EngineError> {
        let by = ctx.actor.subject.clone();
        self.environment_command(
            ctx,
            environment,
            EnvironmentCommand::RemoveFreeze { id, by },
        )
        .await
    }

    /// Runs a command on an existing environment and returns it after.
    async fn environment_command(
        &self,
        ctx: &CommandContext,
        environment: &EnvironmentName,
        command: EnvironmentCommand,
    ) -> Result<Tracked<EnvironmentState>, EngineError> {
        self.get_environment(environment)?;
        self.execute::<EnvironmentState>(
            ctx,
            &environment_stream(environment.as_str()),
            None,
            |state| Ok(state.decide(command.clone())?),
        )
        .await?;
        self.get_environment(environment)
    }

    /// One environment.
    pub fn get_environment(
        &self,
        name: &EnvironmentName,
    ) -> Result<Tracked<EnvironmentState>, EngineError> {
        self.read(|m| m.environments.get(name).cloned())
            .ok_or_else(|| EngineError::not_found("environment", name))
    }

    /// Every environment, by name.
    pub fn list_environments(&self) -> Vec<Tracked<EnvironmentState>> {
        self.read(|m| m.environments.values().cloned().collect())
    }

    fn environment_names(&self) -> BTreeSet<EnvironmentName> {
        self.read(|m| m.environments.keys().cloned().collect())
    }

    /// The environments and lifecycles a project definition may name.
    fn known(&self) -> Known {
        self.read(|m| Known {
            environments: m.environments.keys().cloned().collect(),
            lifecycles: m.lifecycles.keys().cloned().collect(),
        })
    }

    /// Creates a shared lifecycle (`if_match: None`) or replaces one's definition.
    pub async fn save_lifecycle(
        &self,
        ctx: &CommandContext,
        spec: LifecycleSpec,
        update: bool,
        if_match: Option<u64>,
    ) -> Result<Tracked<LifecycleState>, EngineError> {
        let name = spec.name.clone();
        if update {
            self.get_lifecycle(&name)?;
        }
        let environments = self.environment_names();
        self.execute::<LifecycleState>(ctx, &lifecycle_stream(name.as_str()), if_match, |state| {
            Ok(state.decide(spec.clone(), update, &environments)?)
        })
        .await?;
        self.get_lifecycle(&name)
    }

    /// One lifecycle.
    pub fn get_lifecycle(
        &self,
        name: &LifecycleName,
    ) -> Result<Tracked<LifecycleState>, EngineError> {
        self.read(|m| m.lifecycles.get(name).cloned())
            .ok_or_else(|| EngineError::not_found("lifecycle", name))
    }

    /// Every lifecycle, by name.
    pub fn list_lifecycles(&self) -> Vec<Tracked<LifecycleState>> {
        self.read(|m| m.lifecycles.values().cloned().collect())
    }

    /// Creates a project.
    pub async fn create_project(
        &self,
        ctx: &CommandContext,
        spec: ProjectSpec,
    ) -> Result<Tracked<ProjectState>, EngineError> {
        let name = spec.name.clone();
        let known = self.known();
        let command = ProjectCommand::Create(spec);
        self.execute::<ProjectState>(ctx, &project_stream(name.as_str()), None, |state| {
            Ok(state.decide(command.clone(), &known)?)
        })
        .await?;
        self.get_project(&name)
    }

    /// Replaces a project's definition; `if_match` is the version the caller last saw.
    pub async fn update_project(
        &self,
        ctx: &CommandContext,
        spec: ProjectSpec,
        if_match: Option<u64>,
    ) -> Result<Tracked<ProjectState>, EngineError> {
        let name = spec.name.clone();
        if self.read(|m| !m.projects.contains_key(&name)) {
            return Err(EngineError::not_found("project", &name));
        }
        let known = self.known();
        let command = ProjectCommand::Update(spec);
        self.execute::<ProjectState>(ctx, &project_stream(name.as_str()), if_match, |state| {
            Ok(state.decide(command.clone(), &known)?)
        })
        .await?;
        self.get_project(&name)
    }

    /// One project.
    pub fn get_project(&self, name: &ProjectName) -> Result<Tracked<ProjectState>, EngineError> {
        self.read(|m| m.projects.get(name).cloned())
            .ok_or_else(|| EngineError::not_found("project", name))
    }

    /// Every project, by name.
    pub fn list_projects(&self) -> Vec<Tracked<ProjectState>> {
        self.read(|m| m.projects.values().cloned().collect())
    }

    // ----- git host integrations -----

    /// Creates a git host integration (secrets already sealed by the caller).
    pub async fn create_integration(
        &self,
        ctx: &CommandContext,
        spec: IntegrationSpec,
    ) -> Result<Tracked<IntegrationState>, EngineError> {
        let name = spec.name.clone();
        self.execute::<IntegrationState>(ctx, &integration_stream(name.as_str()), None, |state| {
            Ok(state.decide_create(spec.clone())?)
        })
        .await?;
        self.get_integration(&name)
    }

    /// One integration.
    pub fn get_integration(
        &self,
        name: &IntegrationName,
    ) -> Result<Tracked<IntegrationState>, EngineError> {
        self.read(|m| m.integrations.get(name).cloned())
            .ok_or_else(|| EngineError::not_found("integration", name))
    }

    /// Every integration, by name.
    pub fn list_integrations(&self) -> Vec<Tracked<IntegrationState>> {
        self.read(|m| m.integrations.values().cloned().collect())
    }

    /// Records that a git host delivered an event Conveyor does not act on. A redelivery of
    /// the same `delivery_key` appends nothing.
    pub async fn record_ignored_delivery(
        &self,
        ctx: &CommandContext,
        delivery_key: &str,
        source: &str,
        event_type: &str,
        delivery_id: &str,
    ) -> Result<(), EngineError> {
        let delivery = name_id(&format!("delivery:{delivery_key}"));
        let event = PushEvent::DeliveryIgnored {
            source: source.to_owned(),
            event_type: event_type.to_owned(),
            delivery_id: delivery_id.to_owned(),
        };
        match self
            .append(
                ctx,
                &push_stream(delivery),
                ExpectedVersion::NoStream,
                &[event],
                EventIds::Fresh,
            )
            .await
        {
            Ok(_) | Err(EngineError::Conflict { .. }) => Ok(()),
            Err(err) => Err(err),
        }
    }

    /// Records one attempt to report a build's state to its git host (as the workflow).
    pub async fn record_status_attempt(
        &self,
        attempt: crate::status::StatusAttempt,
    ) -> Result<(), EngineError> {
        let stream = crate::status::status_stream(attempt.build_id);
        let ctx = CommandContext::new(Actor::system(), None);
        let event = crate::status::StatusEvent::BuildStatusReported(attempt);
        self.append(
            &ctx,
            &stream,
            ExpectedVersion::Any,
            &[event],
            EventIds::Fresh,
        )
        .await?;
        Ok(())
    }

    // ----- event subscriptions -----

    /// Creates a subscription; it receives events committed after this moment.
    pub async fn create_subscription(
        &self,
        ctx: &CommandContext,
        spec: crate::aggregate::subscription::SubscriptionSpec,
    ) -> Result<Tracked<crate::aggregate::subscription::SubscriptionState>, EngineError> {
        use crate::aggregate::subscription::SubscriptionState;
        let id = spec.id;
        self.execute::<SubscriptionState>(ctx, &format!("subscription-{id}"), None, |state| {
            Ok(state.decide_create(spec.clone())?)
        })
        .await?;
        self.get_subscription(id)
    }

    /// Records a request to deliver history again from `from`.
    pub async fn replay_subscription(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        from: u64,
    ) -> Result<(), EngineError> {
        use crate::aggregate::subscription::SubscriptionState;
        self.get_subscription(id)?;
        self.execute::<SubscriptionState>(ctx, &format!("subscription-{id}"), None, |state| {
            Ok(state.decide_replay(from)?)
        })
        .await?;
        Ok(())
    }

    /// One subscription.
    pub fn get_subscription(
        &self,
        id: Uuid,
    ) -> Result<Tracked<crate::aggregate::subscription::SubscriptionState>, EngineError> {
        self.read(|m| m.subscriptions.get(&id).cloned())
            .ok_or_else(|| EngineError::not_found("subscription", id))
    }

    /// Every subscription, oldest first.
    pub fn list_subscriptions(
        &self,
    ) -> Vec<Tracked<crate::aggregate::subscription::SubscriptionState>> {
        let mut all: Vec<_> = self.read(|m| m.subscriptions.values().cloned().collect());
        all.sort_by_key(|s| s.position);
        all
    }

    // ----- pushes and builds -----

    /// Records a push and waits for the workflow to queue the builds it triggers.
    pub async fn report_push(
        &self,
        ctx: &CommandContext,
        report: PushReport,
    ) -> Result<(Uuid, Vec<BuildView>), EngineError> {
        let mut pushes = self
            .report_delivery(ctx, None, None, vec![report])
            .await?
            .pushes;
        pushes
            .pop()
            .ok_or_else(|| EngineError::invalid("push", "nothing was recorded"))
    }

    /// Records every ref change of one delivery atomically (one stream, one append) and waits
    /// for the builds they trigger. With a `delivery_key` (the host's delivery id), the stream
    /// is named after it: a redelivery finds the stream taken and answers the original pushes,
    /// appending nothing.
    pub async fn report_delivery(
        &self,
        ctx: &CommandContext,
        delivery_key: Option<&str>,
        integration: Option<IntegrationName>,
        reports: Vec<PushReport>,
    ) -> Result<Delivery, EngineError> {
        if reports.is_empty() {
            return Err(EngineError::invalid(
                "changes",
                "a delivery needs at least one ref change",
            ));
        }
        let delivery =
            delivery_key.map_or_else(new_event_id, |key| name_id(&format!("delivery:{key}")));
        let stream = push_stream(delivery);
        let mut events = Vec::with_capacity(reports.len());
        for report in reports {
            for mut event in PushState::default().decide_receive(new_event_id(), report)? {
                if let PushEvent::PushReceived {
                    integration: from, ..
                } = &mut event
                {
                    from.clone_from(&integration);
                }
                events.push(event);
            }
        }
        let ctx = CommandContext {
            correlation_id: delivery,
            ..ctx.clone()
        };
        let duplicate = match self
            .append(
                &ctx,
                &stream,
                ExpectedVersion::NoStream,
                &events,
                EventIds::Fresh,
            )
            .await
        {
            Ok(outcome) => {
                self.settle(outcome.last_position).await?;
                false
            }
            // Delivered before (or concurrently): answer what the first delivery recorded.
            Err(EngineError::Conflict { .. }) if delivery_key.is_some() => {
                let head = self.inner.store.head().await?;
                self.settle(head).await?;
                true
            }
            Err(err) => return Err(err),
        };
        let pushes = self.read(|m| {
            m.pushes_by_delivery
                .get(&delivery)
                .into_iter()
                .flatten()
                .map(|push_id| {
                    let builds = m
                        .builds_by_push
                        .get(push_id)
                        .into_iter()
                        .flatten()
                        .filter_map(|id| m.builds.get(id).cloned())
                        .collect();
                    (*push_id, builds)
                })
                .collect()
        });
        Ok(Delivery {
            id: delivery,
            duplicate,
            pushes,
        })
    }

    /// One build.
    pub fn get_build(&self, id: Uuid) -> Result<BuildView, EngineError> {
        self.read(|m| m.builds.get(&id).cloned())
            .ok_or_else(|| EngineError::not_found("build", id))
    }

    /// Builds, newest first.
    pub fn list_builds(
        &self,
        filter: &BuildFilter,
        before: Option<u64>,
        limit: usize,
    ) -> Page<BuildView> {
        let items = self.read(|m| {
            m.builds
                .values()
                .filter(|b| filter.project.is_none() || b.tracked.state.project == filter.project)
                .map(|b| (b.tracked.position, b.clone()))
                .collect()
        });
        page(items, before, limit)
    }

    /// Cancels a build that has not ended.
    pub async fn cancel_build(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        reason: String,
    ) -> Result<BuildView, EngineError> {
        self.get_build(id)?;
        let command = BuildCommand::Cancel {
            by: ctx.actor.subject.clone(),
            reason,
        };
        self.build_command(ctx, id, command).await
    }

    // ----- releases -----

    /// Creates a release from a succeeded build; `version` defaults to `1.0.<build number>`.
    pub async fn create_release(
        &self,
        ctx: &CommandContext,
        build_id: Uuid,
        version: Option<String>,
    ) -> Result<ReleaseView, EngineError> {
        let (release_id, outcome) = self
            .create_release_for_build(ctx, build_id, version, None)
            .await?;
        self.settle(outcome.last_position).await?;
        self.get_release(release_id)
    }

    /// Creates the release of a succeeded build. Without a version, the default is
    /// `1.0.<build number>`, or — when that is taken — the same with the build id's tail.
    ///
    /// The release id is derived from the project and the version, so two concurrent requests
    /// for one version race on one stream and exactly one wins. A reaction passes its cause,
    /// from which the event ids are derived, so a replay appends nothing.
    async fn create_release_for_build(
        &self,
        ctx: &CommandContext,
        build_id: Uuid,
        version: Option<String>,
        cause: Option<Uuid>,
    ) -> Result<(Uuid, AppendOutcome), EngineError> {
        let candidates = match version {
            Some(version) => vec![version.trim().to_owned()],
            None => {
                let number = self.get_build(build_id)?.number;
                let id = build_id.simple().to_string();
                vec![
                    format!("1.0.{number}"),
                    format!("1.0.{number}-{}", &id[id.len() - 8..]),
                ]
            }
        };
        let mut refusal = None;
        for version in candidates {
            match self.try_create_release(ctx, build_id, version, cause).await {
                Err(EngineError::Refused(taken)) if taken.code == "version-taken" => {
                    refusal = Some(taken);
                }
                other => return other,
            }
        }
        Err(refusal
            .map(EngineError::Refused)
            .unwrap_or_else(|| EngineError::invalid("version", "no version to create")))
    }

    async fn try_create_release(
        &self,
        ctx: &CommandContext,
        build_id: Uuid,
        version: String,
        cause: Option<Uuid>,
    ) -> Result<(Uuid, AppendOutcome), EngineError> {
        let (release_id, events) = self.read(|m| {
            let build = m
                .builds
                .get(&build_id)
                .ok_or_else(|| EngineError::not_found("build", build_id))?;
            let project_name = build
                .tracked
                .state
                .project
                .clone()
                .ok_or_else(|| EngineError::not_found("build", build_id))?;
            let project = m
                .projects
                .get(&project_name)
                .and_then(|p| p.state.spec.clone())
                .ok_or_else(|| EngineError::not_found("project", &project_name))?;
            let release_id = name_id(&format!("release:{project_name}:{version}"));
            let branch = &build.tracked.state.branch;
            let lifecycle = match project.channel_for(branch) {
                Some(channel) => {
                    let spec = m
                        .lifecycles
                        .get(&channel.lifecycle)
                        .and_then(|l| l.state.spec.as_ref())
                        .ok_or_else(|| EngineError::not_found("lifecycle", &channel.lifecycle))?;
                    ReleaseLifecycle::from_spec(spec, Some(channel.name.clone()))
                }
                None => ReleaseLifecycle::from_stages(&project.lifecycle),
            };
            let events = ReleaseState::default().decide_create(CreateRelease {
                lifecycle,
                release_id,
                version_taken: m
                    .release_versions
                    .contains_key(&(project_name, version.clone())),
                version: version.clone(),
                build: &build.tracked.state,
                project: &project,
                created_by: ctx.actor.subject.clone(),
            })?;
            Ok::<_, EngineError>((release_id, events))
        })?;
        let ids = cause.map_or(EventIds::Fresh, EventIds::Derived);
        // No waiting for the read model here: the process manager calls this from the task
        // that applies the log, which would wait for itself.
        match self
            .append(
                ctx,
                &release_stream(release_id),
                ExpectedVersion::NoStream,
                &events,
                ids,
            )
            .await
        {
            Ok(outcome) => Ok((release_id, outcome)),
            Err(EngineError::Conflict { .. }) => Err(DomainError::new(
                "version-taken",
                format!("another release {version} was created at the same time"),
            )
            .into()),
            Err(err) => Err(err),
        }
    }

    /// Blocks a release (a defect): it is deployed nowhere until unblocked.
    pub async fn block_release(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        reason: String,
    ) -> Result<ReleaseView, EngineError> {
        self.get_release(id)?;
        let by = ctx.actor.subject.clone();
        self.execute::<ReleaseState>(ctx, &release_stream(id), None, |state| {
            Ok(state.decide_block(by.clone(), reason.clone())?)
        })
        .await?;
        self.get_release(id)
    }

    /// Lifts a release's block.
    pub async fn unblock_release(
        &self,
        ctx: &CommandContext,
        id: Uuid,
    ) -> Result<ReleaseView, EngineError> {
        self.get_release(id)?;
        let by = ctx.actor.subject.clone();
        self.execute::<ReleaseState>(ctx, &release_stream(id), None, |state| {
            Ok(state.decide_unblock(by.clone())?)
        })
        .await?;
        self.get_release(id)
    }

    /// One release.
    pub fn get_release(&self, id: Uuid) -> Result<ReleaseView, EngineError> {
        self.read(|m| m.releases.get(&id).cloned())
            .ok_or_else(|| EngineError::not_found("release", id))
    }

    /// Releases, newest first.
    pub fn list_releases(
        &self,
        project: Option<&ProjectName>,
        before: Option<u64>,
        limit: usize,
    ) -> Page<ReleaseView> {
        let items = self.read(|m| {
            m.releases
                .values()
                .filter(|r| project.is_none() || r.snapshot().map(|s| &s.project) == project)
                .map(|r| (r.tracked.position, r.clone()))
                .collect()
        });
        page(items, before, limit)
    }

    // ----- deployments -----

    /// Requests a deployment of a release into an environment (a promotion). A freeze in
    /// force refuses it unless `freeze_override` says who overrides it and why (the caller
    /// checked they hold `freeze:override`).
    pub async fn request_deployment(
        &self,
        ctx: &CommandContext,
        release_id: Uuid,
        environment: EnvironmentName,
        freeze_override: Option<FreezeOverride>,
        supersede_waiting: bool,
    ) -> Result<DeploymentView, EngineError> {
        let id = new_event_id();
        let project = self.read(|m| {
            m.releases
                .get(&release_id)
                .and_then(|r| r.snapshot().map(|s| s.project.clone()))
        });
        let held = project
            .clone()
            .filter(|p| self.promotion_held(p, &environment));
        let request = Request {
            freeze_override,
            ..Request::deploy(id, release_id, environment.clone(), EventIds::Fresh)
        };
        let outcome = self.request_deployment_with_id(ctx, request).await?;
        self.settle(outcome.last_position).await?;
        if supersede_waiting {
            self.supersede_waiting(ctx, id).await?;
        }
        // A person promoted the project here again: automatic promotion resumes.
        if let Some(project) = held {
            let by = ctx.actor.subject.clone();
            self.environment_command(
                ctx,
                &environment,
                EnvironmentCommand::ReleaseHold { project, by },
            )
            .await?;
        }
        self.get_deployment(id)
    }

    /// Marks the deployments of the same project into the same environment that still wait
    /// (for approval or for an agent) as superseded by `newer`: recorded, not deleted.
    async fn supersede_waiting(
        &self,
        ctx: &CommandContext,
        newer: Uuid,
    ) -> Result<(), EngineError> {
        let newer_view = self.get_deployment(newer)?;
        let newer_state = &newer_view.tracked.state;
        let (Some(project), Some(environment)) = (&newer_state.project, &newer_state.environment)
        else {
            return Ok(());
        };
        let waiting: Vec<Uuid> = self.read(|m| {
            m.deployments_in(project, environment)
                .into_iter()
                .filter(|d| {
                    d.tracked.position < newer_view.tracked.position
                        && matches!(
                            d.tracked.state.status,
                            DeploymentStatus::Requested
                                | DeploymentStatus::Waiting
                                | DeploymentStatus::AwaitingApproval
                                | DeploymentStatus::Queued
                        )
                })
                .filter_map(|d| d.tracked.state.id)
                .collect()
        });
        for id in waiting {
            let command = DeploymentCommand::Supersede {
                by_deployment: newer,
                by_release_version: newer_state.release_version.clone(),
            };
            match self.deployment_command(ctx, id, command).await {
                // Already with an agent (or ended meanwhile): it runs its course.
                Ok(_) | Err(EngineError::Refused(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(())
    }

    /// The one entry point for every kind of deployment request.
    async fn request_deployment_with_id(
        &self,
        ctx: &CommandContext,
        request: Request,
    ) -> Result<AppendOutcome, EngineError> {
        let Request {
            id: deployment_id,
            release_id,
            environment,
            kind,
            reverts,
            ids,
            freeze_override,
            by_workflow,
        } = request;
        let now = Utc::now();
        let events = self.read(|m| {
            let release = m
                .releases
                .get(&release_id)
                .ok_or_else(|| EngineError::not_found("release", release_id))?;
            let snapshot = release
                .snapshot()
                .ok_or_else(|| EngineError::not_found("release", release_id))?;
            let target = &m
                .environments
                .get(&environment)
                .ok_or_else(|| EngineError::not_found("environment", &environment))?
                .state;
            Ok::<_, EngineError>(
                DeploymentState::default().decide_request(RequestDeployment {
                    deployment_id,
                    release: snapshot,
                    environment: environment.clone(),
                    policy: target.policy.clone(),
                    kind,
                    requested_by: ctx.actor.subject.clone(),
                    reverts,
                    succeeded_in: &release.succeeded_in,
                    soak_seconds: target.soak_seconds,
                    by_workflow,
                    now,
                    content_deleted: release.tracked.state.content_deleted.clone(),
                    previous_release_version: m
                        .live_deployment(&snapshot.project, &environment)
                        .map(|live| live.tracked.state.release_version.clone()),
                    release_blocked: release.tracked.state.blocked.clone(),
                    frozen: target.frozen_for(
                        &snapshot.project,
                        kind == DeploymentKind::Rollback,
                        now,
                    ),
                    freeze_override: freeze_override.clone(),
                })?,
            )
        })?;
        // As for releases: callers other than the log follower wait for the read model.
        let outcome = self
            .append(
                ctx,
                &deployment_stream(deployment_id),
                ExpectedVersion::NoStream,
                &events,
                ids,
            )
            .await?;
        Ok(outcome)
    }

    /// One deployment.
    pub fn get_deployment(&self, id: Uuid) -> Result<DeploymentView, EngineError> {
        self.read(|m| m.deployments.get(&id).cloned())
            .ok_or_else(|| EngineError::not_found("deployment", id))
    }

    /// Deployments, newest first.
    pub fn list_deployments(
        &self,
        filter: &DeploymentFilter,
        before: Option<u64>,
        limit: usize,
    ) -> Page<DeploymentView> {
        let items = self.read(|m| {
            m.deployments
                .values()
                .filter(|d| {
                    let s = &d.tracked.state;
                    (filter.project.is_none() || s.project == filter.project)
                        && (filter.environment.is_none() || s.environment == filter.environment)
                        && (filter.release.is_none() || s.release_id == filter.release)
                })
                .map(|d| (d.tracked.position, d.clone()))
                .collect()
        });
        page(items, before, limit)
    }

    /// Deployments waiting for an approval that `subject` may give: awaiting approval in an
    /// environment `may_approve` accepts, not requested or released by the subject (unless the
    /// environment allows it), and not already approved by them. Oldest first.
    pub fn pending_approvals(&self, subject: &str, scopes: &[String]) -> Vec<DeploymentView> {
        use crate::aggregate::deployment::holds_scope;
        let mut pending: Vec<DeploymentView> = self.read(|m| {
            m.deployments
                .values()
                .filter(|d| {
                    let s = &d.tracked.state;
                    let own = s.requested_by == subject || s.release_created_by == subject;
                    s.status == DeploymentStatus::AwaitingApproval
                        && s.environment.as_ref().is_some_and(|environment| {
                            holds_scope(scopes, &format!("approve:{environment}"))
                                || s.policy.rules.iter().any(|r| holds_scope(scopes, &r.scope))
                        })
                        && (s.policy.allow_self_approval || !own)
                        && !s
                            .approvals
                            .iter()
                            .any(|(approver, _)| approver.subject == subject)
                })
                .cloned()
                .collect()
        });
        pending.sort_by_key(|d| d.tracked.position);
        pending
    }

    /// Records an approval decision by `ctx.actor`.
    pub async fn decide_approval(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        decision: ApprovalDecision,
        comment: String,
    ) -> Result<DeploymentView, EngineError> {
        self.get_deployment(id)?;
        let approver = Approver {
            subject: ctx.actor.subject.clone(),
            scopes: ctx.actor.scopes.clone(),
            token_id: ctx.actor.token_id.clone(),
        };
        let command = DeploymentCommand::Decide {
            approver,
            decision,
            comment,
        };
        self.deployment_command(ctx, id, command).await
    }

    /// Cancels a deployment that has not ended.
    pub async fn cancel_deployment(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        reason: String,
    ) -> Result<DeploymentView, EngineError> {
        self.get_deployment(id)?;
        let command = DeploymentCommand::Cancel {
            by: ctx.actor.subject.clone(),
            reason,
        };
        self.deployment_command(ctx, id, command).await
    }

    /// Rolls `project` back in `environment`: replays the environment's deployment events to
    /// find the release live before the current one (or checks `to_release` was live there
    /// before), then requests a `rollback` deployment of exactly that release, caused by the
    /// deployment it reverts.
    pub async fn rollback(
        &self,
        ctx: &CommandContext,
        project: ProjectName,
        environment: EnvironmentName,
        to_release: Option<Uuid>,
        freeze_override: Option<FreezeOverride>,
    ) -> Result<DeploymentView, EngineError> {
        self.get_project(&project)?;
        self.get_environment(&environment)?;
        let (current, target) = self
            .rollback_plan(&project, &environment, to_release)
            .await?;
        let ctx = CommandContext {
            causation_id: Some(current.outcome_event),
            ..ctx.clone()
        };
        let id = new_event_id();
        let request = Request {
            kind: DeploymentKind::Rollback,
            reverts: Some(current.deployment_id),
            freeze_override,
            ..Request::deploy(id, target.release_id, environment, EventIds::Fresh)
        };
        let outcome = self.request_deployment_with_id(&ctx, request).await?;
        self.settle(outcome.last_position).await?;
        self.get_deployment(id)
    }

    /// Replays the environment's deployment outcomes for `project` and picks what a rollback
    /// reverts (the last deployment that ended, even a failed one) and what it deploys.
    async fn rollback_plan(
        &self,
        project: &ProjectName,
        environment: &EnvironmentName,
        to_release: Option<Uuid>,
    ) -> Result<(LiveEntry, LiveEntry), EngineError> {
        let mut records = Vec::new();
        let mut filter = ReadFilter {
            stream_prefix: Some("deployment-".into()),
            event_types: vec![
                "DeploymentRequested".into(),
                "DeploymentSucceeded".into(),
                "DeploymentFailed".into(),
            ],
            limit: 10_000,
            ..ReadFilter::default()
        };
        loop {
            let batch = self.inner.store.read_all(&filter).await?;
            let Some(last) = batch.last() else { break };
            filter.after = last.position;
            records.extend(batch);
        }
        let history = live_history(&records, project, environment);
        let (current, target) = rollback_target(&history, to_release)?;
        Ok((current.clone(), target.clone()))
    }

    /// Deployments into an environment (every project), newest first.
    pub fn environment_history(
        &self,
        environment: &EnvironmentName,
        before: Option<u64>,
        limit: usize,
    ) -> Result<Page<DeploymentView>, EngineError> {
        self.get_environment(environment)?;
        Ok(self.list_deployments(
            &DeploymentFilter {
                environment: Some(environment.clone()),
                ..DeploymentFilter::default()
            },
            before,
            limit,
        ))
    }

    /// Applies every project's retention policy: records `ReleaseContentDeleted` on each
    /// release whose content goes (as `ctx`'s actor) and returns what to delete. The caller
    /// deletes the bytes after the event is stored, so a crash in between leaves a recorded
    /// deletion to finish (see [`Engine::deleted_content`]), never bytes gone unrecorded.
    pub async fn apply_retention(
        &self,
        ctx: &CommandContext,
    ) -> Result<Vec<crate::retention::Deletion>, EngineError> {
        let plans: Vec<crate::retention::Deletion> = self.read(|m| {
            m.projects
                .values()
                .filter_map(|p| p.state.spec.as_ref())
                .filter_map(|spec| Some((spec.name.clone(), spec.retention?)))
                .flat_map(|(project, policy)| crate::retention::plan(m, &project, policy))
                .collect()
        });
        let mut applied = Vec::with_capacity(plans.len());
        for deletion in plans {
            let result = self
                .execute::<ReleaseState>(ctx, &release_stream(deletion.release_id), None, |s| {
                    Ok(s.decide_delete_content(
                        deletion.policy.clone(),
                        deletion.artifacts.clone(),
                        deletion.logs.clone(),
                    )?)
                })
                .await;
            match result {
                Ok(_) => applied.push(deletion),
                // Another run recorded it first.
                Err(EngineError::Refused(_)) => {}
                Err(err) => return Err(err),
            }
        }
        Ok(applied)
    }

    /// Every artifact digest and job log retention has deleted: what must be gone from disk.
    /// Digests a kept build produced again are left out.
    pub fn deleted_content(&self) -> (Vec<String>, Vec<Uuid>) {
        self.read(|m| {
            (
                m.deleted_artifacts
                    .keys()
                    .filter(|sha| !crate::retention::digest_in_use(m, sha))
                    .cloned()
                    .collect(),
                m.deleted_logs.keys().copied().collect(),
            )
        })
    }

    /// Whether a kept build or release refers to the digest.
    pub fn digest_in_use(&self, sha256: &str) -> bool {
        self.read(|m| crate::retention::digest_in_use(m, sha256))
    }

    /// Why an artifact's bytes are gone, when retention deleted them.
    pub fn why_artifact_deleted(&self, sha256: &str) -> Option<String> {
        self.read(|m| m.deleted_artifacts.get(sha256).cloned())
    }

    /// Why a job's log is gone, when retention deleted it.
    pub fn why_log_deleted(&self, job: Uuid) -> Option<String> {
        self.read(|m| m.deleted_logs.get(&job).cloned())
    }

    /// The environment's deployment queue: every deployment that has not ended, per project in
    /// the order requested (the order agents get them), each with its place in its project's
    /// queue (1 runs or runs next).
    pub fn environment_queue(
        &self,
        environment: &EnvironmentName,
    ) -> Result<Vec<(u32, DeploymentView)>, EngineError> {
        self.get_environment(environment)?;
        let mut waiting: Vec<DeploymentView> = self.read(|m| {
            m.deployments
                .values()
                .filter(|d| {
                    d.tracked.state.environment.as_ref() == Some(environment)
                        && !d.tracked.state.status.is_finished()
                })
                .cloned()
                .collect()
        });
        // Running first within a project (it holds the environment), then by request order.
        waiting.sort_by_key(|d| {
            (
                d.tracked.state.project.clone(),
                d.tracked.state.status != DeploymentStatus::Running,
                d.tracked.position,
            )
        });
        let mut places: std::collections::HashMap<Option<ProjectName>, u32> =
            std::collections::HashMap::new();
        Ok(waiting
            .into_iter()
            .map(|d| {
                let place = places.entry(d.tracked.state.project.clone()).or_default();
                *place += 1;
                (*place, d)
            })
            .collect())
    }

    /// What was live in `environment` at a moment of the log, per project: rebuilt by
    /// replaying the log up to that moment into a fresh read model.
    pub async fn environment_state_at(
        &self,
        environment: &EnvironmentName,
        at: PointInTime,
    ) -> Result<EnvironmentAt, EngineError> {
        let mut model = ReadModel::default();
        let mut filter = ReadFilter {
            limit: 10_000,
            ..ReadFilter::default()
        };
        match at {
            PointInTime::Position(position) => filter.until = Some(position),
            PointInTime::Time(time) => filter.recorded_to = Some(time + Duration::microseconds(1)),
        }
        loop {
            let batch = self.inner.store.read_all(&filter).await?;
            let Some(last) = batch.last() else { break };
            filter.after = last.position;
            for record in &batch {
                model.apply(record);
            }
        }
        if !model.environments.contains_key(environment) {
            return Err(EngineError::not_found(
                "environment",
                format!("{environment} at that moment"),
            ));
        }
        let projects = model
            .projects
            .keys()
            .filter_map(|project| {
                let deployment = model.live_deployment(project, environment)?.clone();
                let release = model
                    .releases
                    .get(&deployment.tracked.state.release_id?)?
                    .clone();
                Some((deployment, release))
            })
            .collect();
        Ok(EnvironmentAt {
            position: model.position,
            projects,
        })
    }

    /// The project × environment grid: environment and project names in order, and the cells
    /// that have deployments. The read model keeps it current per event; this only copies it.
    pub fn dashboard(&self) -> Dashboard {
        let now = Utc::now();
        self.read(|m| Dashboard {
            environments: m.environments.keys().cloned().collect(),
            projects: m.projects.keys().cloned().collect(),
            cells: m
                .dashboard
                .iter()
                .map(|((project, environment), cell)| {
                    let state = m.environments.get(environment).map(|e| &e.state);
                    let held = state.is_some_and(|s| s.holds.contains_key(project));
                    let frozen = state.is_some_and(|s| s.frozen_for(project, false, now).is_some());
                    let cell = crate::model::DashboardCell {
                        held,
                        frozen,
                        ..cell.clone()
                    };
                    ((project.clone(), environment.clone()), cell)
                })
                .collect(),
        })
    }

    // ----- the agent protocol -----

    /// Leases the oldest job an agent may run now, if any.
    pub async fn lease_job(
        &self,
        ctx: &CommandContext,
        agent: &str,
    ) -> Result<Option<JobAssignment>, EngineError> {
        if agent.trim().is_empty() || agent.len() > 128 {
            return Err(EngineError::invalid(
                "agent",
                "agent name must be 1 to 128 characters",
            ));
        }
        // Choosing a deployment whose environment is free and appending its lease must be one
        // step across every node, or two agents could take two deployments of one project into
        // one environment (their leases land on different streams, so optimistic concurrency
        // cannot see the race). The store's lock serialises it; the read model must then hold
        // everything committed before deciding.
        let _here = self.inner.leasing.lock().await;
        let _everywhere = self.inner.store.lock("leasing").await?;
        let head = self.inner.store.head().await?;
        self.wait_applied(head).await?;
        let now = Utc::now();
        // (queue position, job, is a build, leases granted so far)
        let mut candidates: Vec<(u64, Uuid, bool, u32)> = self.read(|m| {
            let builds = m
                .builds
                .iter()
                .filter(|(_, b)| b.tracked.state.leasable(now))
                .map(|(id, b)| (b.tracked.position, *id, true, b.tracked.state.job.attempts));
            let deployments = m
                .deployments
                .iter()
                .filter(|(id, d)| {
                    let s = &d.tracked.state;
                    // A freeze that began after the request holds the deployment in the queue
                    // (unless someone overrode a freeze for it) until the window ends.
                    let frozen = || {
                        let (Some(p), Some(e)) = (&s.project, &s.environment) else {
                            return true;
                        };
                        s.freeze_override.is_none()
                            && m.environments.get(e).is_some_and(|env| {
                                env.state
                                    .frozen_for(p, s.kind == Some(DeploymentKind::Rollback), now)
                                    .is_some()
                            })
                    };
                    s.leasable(now)
                        && match (&s.project, &s.environment) {
                            (Some(p), Some(e)) => !m.environment_busy(p, e, **id, now),
                            _ => false,
                        }
                        && (s.status == DeploymentStatus::Running || !frozen())
                })
                .map(|(id, d)| (d.tracked.position, *id, false, d.tracked.state.job.attempts));
            builds.chain(deployments).collect()
        });
        candidates.sort();
        let duration = self.inner.config.lease_duration;
        let max_attempts = self.inner.config.max_attempts;
        for (_, id, is_build, attempts) in candidates {
            let command = if attempts >= max_attempts {
                // Every lease so far lapsed: the job kills its agents, or they keep dying.
                // It fails with the reason instead of being handed out forever.
                JobCommand::Abandon { max_attempts }
            } else {
                JobCommand::Lease {
                    lease_id: Uuid::new_v4(),
                    agent: agent.to_owned(),
                    duration,
                }
            };
            let abandoning = matches!(command, JobCommand::Abandon { .. });
            let ctx = if abandoning {
                &CommandContext {
                    actor: Actor::system(),
                    ..ctx.clone()
                }
            } else {
                ctx
            };
            let result = if is_build {
                self.build_command(ctx, id, BuildCommand::Job(command))
                    .await
                    .map(drop)
            } else {
                self.deployment_command(ctx, id, DeploymentCommand::Job(command))
                    .await
                    .map(drop)
            };
            if abandoning {
                if let Err(err) = result {
                    tracing::warn!(job = %id, error = %err, "could not fail an abandoned job");
                }
                continue;
            }
            match result {
                Ok(_) => return self.assignment(id, is_build).map(Some),
                // Another agent won this job: try the next one.
                Err(EngineError::Refused(_) | EngineError::Conflict { .. }) => continue,
                Err(err) => return Err(err),
            }
        }
        Ok(None)
    }

    fn assignment(&self, id: Uuid, is_build: bool) -> Result<JobAssignment, EngineError> {
        if is_build {
            let build = self.get_build(id)?;
            let lease = build
                .tracked
                .state
                .job
                .lease
                .clone()
                .ok_or_else(|| EngineError::not_found("lease", id))?;
            return Ok(JobAssignment::Build {
                build: Box::new(build),
                lease,
            });
        }
        let deployment = self.get_deployment(id)?;
        let lease = deployment
            .tracked
            .state
            .job
            .lease
            .clone()
            .ok_or_else(|| EngineError::not_found("lease", id))?;
        let release_id = deployment
            .tracked
            .state
            .release_id
            .ok_or_else(|| EngineError::not_found("release", id))?;
        let release = self
            .get_release(release_id)?
            .snapshot()
            .cloned()
            .ok_or_else(|| EngineError::not_found("release", release_id))?;
        Ok(JobAssignment::Deployment {
            deployment: Box::new(deployment),
            release: Box::new(release),
            lease,
        })
    }

    /// Runs a job-protocol command (heartbeat, start, step, completion) on a build or a
    /// deployment; reports from a lapsed or superseded lease are refused.
    pub async fn job_command(
        &self,
        ctx: &CommandContext,
        job_id: Uuid,
        command: JobCommand,
    ) -> Result<JobView, EngineError> {
        let is_build = self.read(|m| {
            if m.builds.contains_key(&job_id) {
                Some(true)
            } else if m.deployments.contains_key(&job_id) {
                Some(false)
            } else {
                None
            }
        });
        match is_build {
            Some(true) => Ok(JobView::Build(Box::new(
                self.build_command(ctx, job_id, BuildCommand::Job(command))
                    .await?,
            ))),
            Some(false) => Ok(JobView::Deployment(Box::new(
                self.deployment_command(ctx, job_id, DeploymentCommand::Job(command))
                    .await?,
            ))),
            None => Err(EngineError::not_found("job", job_id)),
        }
    }

    /// Records an artifact a build produced.
    pub async fn report_artifact(
        &self,
        ctx: &CommandContext,
        build_id: Uuid,
        report: ArtifactReport,
    ) -> Result<BuildView, EngineError> {
        if self.read(|m| m.deployments.contains_key(&build_id)) {
            return Err(DomainError::new(
                "not-a-build",
                "artifacts are reported by builds, not deployments",
            )
            .into());
        }
        self.get_build(build_id)
            .map_err(|_| EngineError::not_found("job", build_id))?;
        self.build_command(ctx, build_id, BuildCommand::ReportArtifact(report))
            .await
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|stopping| *stopping).await;
}

async fn wait_for(position: &watch::Sender<u64>, target: u64) -> Result<(), EngineError> {
    let mut receiver = position.subscribe();
    match tokio::time::timeout(CATCH_UP_TIMEOUT, receiver.wait_for(|p| *p >= target)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(_)) => Err(EngineError::Unavailable("the engine has stopped".into())),
        Err(_) => Err(EngineError::Unavailable(format!(
            "the read model did not reach position {target} within {CATCH_UP_TIMEOUT:?}"
        ))),
    }
}
