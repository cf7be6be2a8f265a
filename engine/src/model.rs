//! The read model: every aggregate's state folded from the whole log, plus the derived facts
//! the API lists (build numbers, where each release is live, environment history).
//!
//! It is rebuilt from the log on start and then follows the live subscription; it is never
//! written to except by [`ReadModel::apply`].

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use conveyor_store::Record;
use uuid::Uuid;

use crate::{
    aggregate::{
        Aggregate,
        build::{BuildEvent, BuildState},
        decode,
        deployment::{DeploymentEvent, DeploymentKind, DeploymentState, DeploymentStatus},
        environment::{EnvironmentEvent, EnvironmentState},
        integration::{IntegrationEvent, IntegrationState},
        lifecycle::{LifecycleEvent, LifecycleState},
        project::{ProjectEvent, ProjectState, ResolvedVariable, resolve_variables},
        push::{PushEvent, PushState},
        release::{ReleaseEvent, ReleaseSnapshot, ReleaseState},
        subscription::{SubscriptionEvent, SubscriptionState},
    },
    names::{EnvironmentName, IntegrationName, LifecycleName, ProjectName},
};

/// Bookkeeping every view carries.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Tracked<S> {
    /// The aggregate's state.
    pub state: S,
    /// Its stream's version (for `If-Match`).
    pub version: u64,
    /// Position of its first event (the cursor for lists).
    pub position: u64,
    /// When its first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When its last event was recorded.
    pub updated_at: DateTime<Utc>,
}

impl<S: Aggregate> Tracked<S> {
    fn new(record: &At) -> Self {
        Self {
            state: S::default(),
            version: 0,
            position: record.position,
            created_at: record.recorded_at,
            updated_at: record.recorded_at,
        }
    }

    fn apply(&mut self, record: &At, event: &S::Event) {
        self.state = std::mem::take(&mut self.state).evolve(event);
        self.version = record.version;
        self.updated_at = record.recorded_at;
    }
}

/// A build and what the log says around it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BuildView {
    /// The build.
    pub tracked: Tracked<BuildState>,
    /// Its number within the project, from 1, in log order.
    pub number: u64,
    /// When an agent started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Attempts to report its state to its git host, oldest first.
    pub status_reports: Vec<crate::status::StatusAttempt>,
}

/// A release and where it has been deployed.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseView {
    /// The release.
    pub tracked: Tracked<ReleaseState>,
    /// Environments where one of its deployments succeeded.
    pub succeeded_in: BTreeMap<EnvironmentName, DateTime<Utc>>,
    /// Its deployments, oldest first.
    pub deployments: Vec<Uuid>,
}

impl ReleaseView {
    /// The snapshot (always set for a release in the model).
    pub fn snapshot(&self) -> Option<&ReleaseSnapshot> {
        self.tracked.state.snapshot.as_ref()
    }
}

/// A deployment and what the log says around it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentView {
    /// The deployment.
    pub tracked: Tracked<DeploymentState>,
    /// When an agent started it.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// The id of its `DeploymentSucceeded` event, once live (a rollback's causation).
    pub succeeded_event: Option<Uuid>,
    /// The release's variables resolved for the environment (sensitive values still sealed),
    /// with the scope each value came from.
    pub variables: Vec<ResolvedVariable>,
    /// When it began waiting for approval (an approval timeout counts from here).
    pub awaiting_since: Option<DateTime<Utc>>,
}

/// One deployment as a dashboard cell shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct CellDeployment {
    /// The deployment.
    pub deployment_id: Uuid,
    /// Its release's version.
    pub release_version: String,
    /// Its status.
    pub status: DeploymentStatus,
    /// When it last changed.
    pub at: DateTime<Utc>,
}

/// One project in one environment, as the dashboard shows it.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DashboardCell {
    /// The deployment live now (the last that succeeded).
    pub live: Option<CellDeployment>,
    /// The most recently requested deployment, whatever its status.
    pub latest: Option<CellDeployment>,
    /// Deployments waiting for approval.
    pub pending_approvals: u32,
    /// Whether automatic promotion into this cell is held (filled in when served).
    pub held: bool,
    /// Whether a freeze holds for this cell now (filled in when served).
    pub frozen: bool,
}

/// Everything the log says, folded.
#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
pub struct ReadModel {
    /// Position of the last applied record.
    pub position: u64,
    /// Hash of the last applied record: which log this model folded (a checkpoint of it is
    /// only good for a log with this hash at this position).
    pub hash: String,
    /// Environments by name.
    pub environments: BTreeMap<EnvironmentName, Tracked<EnvironmentState>>,
    /// Projects by name.
    pub projects: BTreeMap<ProjectName, Tracked<ProjectState>>,
    /// Lifecycles by name.
    pub lifecycles: BTreeMap<LifecycleName, Tracked<LifecycleState>>,
    /// The project × environment grid, kept up to date per event.
    #[serde(with = "pairs")]
    pub dashboard: BTreeMap<(ProjectName, EnvironmentName), DashboardCell>,
    /// Event subscriptions by id.
    pub subscriptions: BTreeMap<Uuid, Tracked<SubscriptionState>>,
    /// Git host integrations by name.
    pub integrations: BTreeMap<IntegrationName, Tracked<IntegrationState>>,
    /// Pushes by id.
    pub pushes: HashMap<Uuid, Tracked<PushState>>,
    /// The pushes of each delivery (push stream), in order.
    pub pushes_by_delivery: HashMap<Uuid, Vec<Uuid>>,
    /// Builds by id.
    pub builds: HashMap<Uuid, BuildView>,
    /// Releases by id.
    pub releases: HashMap<Uuid, ReleaseView>,
    /// Deployments by id.
    pub deployments: HashMap<Uuid, DeploymentView>,
    /// Builds queued per push.
    pub builds_by_push: HashMap<Uuid, Vec<Uuid>>,
    /// Release ids per (project, version).
    #[serde(with = "pairs")]
    pub release_versions: HashMap<(ProjectName, String), Uuid>,
    /// Artifact digests whose bytes retention deleted, and why.
    pub deleted_artifacts: HashMap<String, String>,
    /// Jobs whose logs retention deleted, and why.
    pub deleted_logs: HashMap<Uuid, String>,
    build_counts: HashMap<ProjectName, u64>,
}

/// Maps keyed by tuples, which JSON objects cannot key, written as a list of pairs.
mod pairs {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    /// Sorted by key, so the same map is always written the same way.
    pub fn serialize<'a, M, K, V, S>(map: &'a M, serializer: S) -> Result<S::Ok, S::Error>
    where
        &'a M: IntoIterator<Item = (&'a K, &'a V)>,
        K: Serialize + Ord + 'a,
        V: Serialize + 'a,
        S: Serializer,
    {
        let mut pairs: Vec<(&K, &V)> = map.into_iter().collect();
        pairs.sort_by(|a, b| a.0.cmp(b.0));
        serializer.collect_seq(pairs)
    }

    pub fn deserialize<'de, M, K, V, D>(deserializer: D) -> Result<M, D::Error>
    where
        M: FromIterator<(K, V)>,
        K: Deserialize<'de>,
        V: Deserialize<'de>,
        D: Deserializer<'de>,
    {
        Ok(Vec::<(K, V)>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

/// The uuid a stream name carries after `prefix` (`deployment-<uuid>`).
pub(crate) fn stream_id(stream: &str, prefix: &str) -> Option<Uuid> {
    stream
        .strip_prefix(prefix)
        .and_then(|id| Uuid::parse_str(id).ok())
}

/// What folding a record takes from it besides its event.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At {
    pub(crate) position: u64,
    pub(crate) version: u64,
    pub(crate) id: Uuid,
    pub(crate) recorded_at: DateTime<Utc>,
}

impl At {
    fn of(record: &Record) -> At {
        At {
            position: record.position,
            version: record.version,
            id: record.id,
            recorded_at: record.recorded_at,
        }
    }
}

/// A stored payload that events decode from: a parsed value (a live record) or the stored
/// JSON text (a replay, which skips the value).
pub(crate) trait Payload {
    /// The domain event of type `event_type`; `None` for a foreign type or payload.
    fn decode<E: serde::de::DeserializeOwned>(&self, event_type: &str) -> Option<E>;
}

impl Payload for serde_json::Value {
    fn decode<E: serde::de::DeserializeOwned>(&self, event_type: &str) -> Option<E> {
        decode(event_type, self)
    }
}

impl Payload for str {
    fn decode<E: serde::de::DeserializeOwned>(&self, event_type: &str) -> Option<E> {
        crate::aggregate::decode_text(event_type, self)
    }
}

/// A record's event, decoded for the projection its stream feeds. Decoding is apart from
/// folding so that a replay decodes the next page while it folds this one.
#[derive(Debug)]
pub(crate) enum ModelEvent {
    Environment(EnvironmentName, EnvironmentEvent),
    Project(ProjectEvent),
    /// The delivery (push stream) and its event.
    Push(Uuid, PushEvent),
    Lifecycle(LifecycleEvent),
    Integration(IntegrationEvent),
    Subscription(Uuid, SubscriptionEvent),
    Status(crate::status::StatusEvent),
    Build(Uuid, BuildEvent),
    Release(Uuid, ReleaseEvent),
    Deployment(Uuid, DeploymentEvent),
    /// A stream or an event the model does not fold.
    Foreign,
}

impl ModelEvent {
    /// Decodes the event of a record of `stream`.
    pub(crate) fn decode<P: Payload + ?Sized>(
        stream: &str,
        event_type: &str,
        payload: &P,
    ) -> ModelEvent {
        // Every stream is `<kind>-<name or uuid>`; no kind holds a `-`.
        let Some((kind, name)) = stream.split_once('-') else {
            return ModelEvent::Foreign;
        };
        let id = || Uuid::parse_str(name).ok();
        let decoded = match kind {
            "environment" => EnvironmentName::parse(name).ok().and_then(|name| {
                payload
                    .decode(event_type)
                    .map(|event| ModelEvent::Environment(name, event))
            }),
            "project" => payload.decode(event_type).map(ModelEvent::Project),
            "push" => id().and_then(|delivery| {
                payload
                    .decode(event_type)
                    .map(|event| ModelEvent::Push(delivery, event))
            }),
            "lifecycle" => payload.decode(event_type).map(ModelEvent::Lifecycle),
            "integration" => payload.decode(event_type).map(ModelEvent::Integration),
            "subscription" => id().and_then(|id| {
                payload
                    .decode(event_type)
                    .map(|event| ModelEvent::Subscription(id, event))
            }),
            "status" => payload.decode(event_type).map(ModelEvent::Status),
            "build" => id().and_then(|id| {
                payload
                    .decode(event_type)
                    .map(|event| ModelEvent::Build(id, event))
            }),
            "release" => id().and_then(|id| {
                payload
                    .decode(event_type)
                    .map(|event| ModelEvent::Release(id, event))
            }),
            "deployment" => id().and_then(|id| {
                payload
                    .decode(event_type)
                    .map(|event| ModelEvent::Deployment(id, event))
            }),
            _ => None,
        };
        decoded.unwrap_or(ModelEvent::Foreign)
    }
}

impl ReadModel {
    /// Applies one record (records must come in position order).
    pub fn apply(&mut self, record: &Record) {
        self.position = record.position;
        self.hash.clone_from(&record.hash);
        let event = ModelEvent::decode(&record.stream, &record.event_type, &record.payload);
        self.fold(&At::of(record), event);
    }

    /// Folds one decoded event into the projections (the caller moves `position` and `hash`).
    pub(crate) fn fold(&mut self, record: &At, event: ModelEvent) {
        match event {
            ModelEvent::Environment(name, event) => {
                self.environments
                    .entry(name)
                    .or_insert_with(|| Tracked::new(record))
                    .apply(record, &event);
            }
            ModelEvent::Project(event) => {
                let (ProjectEvent::ProjectCreated { spec } | ProjectEvent::ProjectUpdated { spec }) =
                    &event;
                // The name is cloned only for a project not seen yet.
                if let Some(project) = self.projects.get_mut(&spec.name) {
                    project.apply(record, &event);
                } else {
                    let mut project = Tracked::new(record);
                    project.apply(record, &event);
                    self.projects.insert(spec.name.clone(), project);
                }
            }
            ModelEvent::Push(delivery, event) => {
                // One stream per delivery; a delivery may report several ref changes.
                let PushEvent::PushReceived { push_id, .. } = &event else {
                    return;
                };
                self.pushes_by_delivery
                    .entry(delivery)
                    .or_default()
                    .push(*push_id);
                self.pushes
                    .entry(*push_id)
                    .or_insert_with(|| Tracked::new(record))
                    .apply(record, &event);
            }
            ModelEvent::Lifecycle(event) => {
                let (LifecycleEvent::LifecycleCreated { spec }
                | LifecycleEvent::LifecycleUpdated { spec }) = &event;
                self.lifecycles
                    .entry(spec.name.clone())
                    .or_insert_with(|| Tracked::new(record))
                    .apply(record, &event);
            }
            ModelEvent::Integration(event) => {
                let IntegrationEvent::IntegrationCreated { spec } = &event;
                self.integrations
                    .entry(spec.name.clone())
                    .or_insert_with(|| Tracked::new(record))
                    .apply(record, &event);
            }
            ModelEvent::Subscription(id, event) => {
                self.subscriptions
                    .entry(id)
                    .or_insert_with(|| Tracked::new(record))
                    .apply(record, &event);
            }
            ModelEvent::Status(crate::status::StatusEvent::BuildStatusReported(attempt)) => {
                if let Some(build) = self.builds.get_mut(&attempt.build_id) {
                    build.status_reports.push(attempt);
                }
            }
            ModelEvent::Build(id, event) => self.apply_build(id, record, &event),
            ModelEvent::Release(id, event) => self.apply_release(id, record, &event),
            ModelEvent::Deployment(id, event) => self.apply_deployment(id, record, &event),
            ModelEvent::Foreign => {}
        }
    }

    fn apply_release(&mut self, id: Uuid, record: &At, event: &ReleaseEvent) {
        if let ReleaseEvent::ReleaseCreated(snapshot) = event {
            self.release_versions
                .insert((snapshot.project.clone(), snapshot.version.clone()), id);
        }
        let view = self.releases.entry(id).or_insert_with(|| ReleaseView {
            tracked: Tracked::new(record),
            succeeded_in: BTreeMap::new(),
            deployments: Vec::new(),
        });
        view.tracked.apply(record, event);
        if let (
            ReleaseEvent::ReleaseContentDeleted {
                policy,
                artifacts,
                logs,
            },
            Some(snapshot),
        ) = (event, &view.tracked.state.snapshot)
        {
            let why = format!(
                "deleted with release {} of {} by retention: {policy}",
                snapshot.version, snapshot.project
            );
            for artifact in artifacts {
                self.deleted_artifacts
                    .insert(artifact.sha256.clone(), why.clone());
            }
            for job in logs {
                self.deleted_logs.insert(*job, why.clone());
            }
        }
    }

    fn apply_build(&mut self, id: Uuid, record: &At, event: &BuildEvent) {
        let view = self.builds.entry(id).or_insert_with(|| BuildView {
            tracked: Tracked::new(record),
            number: 0,
            started_at: None,
            finished_at: None,
            status_reports: Vec::new(),
        });
        view.tracked.apply(record, event);
        match event {
            BuildEvent::BuildQueued {
                project, push_id, ..
            } => {
                let count = self.build_counts.entry(project.clone()).or_default();
                *count += 1;
                view.number = *count;
                if let Some(push) = push_id {
                    self.builds_by_push.entry(*push).or_default().push(id);
                }
            }
            BuildEvent::BuildStarted { .. } => view.started_at = Some(record.recorded_at),
            BuildEvent::JobLeased(_) => view.started_at = None,
            BuildEvent::BuildSucceeded { .. }
            | BuildEvent::BuildFailed { .. }
            | BuildEvent::BuildCancelled { .. } => view.finished_at = Some(record.recorded_at),
            _ => {}
        }
    }

    fn apply_deployment(&mut self, id: Uuid, record: &At, event: &DeploymentEvent) {
        let view = self
            .deployments
            .entry(id)
            .or_insert_with(|| DeploymentView {
                tracked: Tracked::new(record),
                started_at: None,
                finished_at: None,
                succeeded_event: None,
                variables: Vec::new(),
                awaiting_since: None,
            });
        let awaiting_before = view.tracked.state.status == DeploymentStatus::AwaitingApproval;
        view.tracked.apply(record, event);
        let state = &view.tracked.state;
        // The dashboard cell of this project and environment follows every deployment event,
        // so serving the grid never means recomputing it.
        if let (Some(project), Some(environment)) = (&state.project, &state.environment) {
            let cell = self
                .dashboard
                .entry((project.clone(), environment.clone()))
                .or_default();
            let awaiting_now = state.status == DeploymentStatus::AwaitingApproval;
            match (awaiting_before, awaiting_now) {
                (false, true) => cell.pending_approvals += 1,
                (true, false) => cell.pending_approvals = cell.pending_approvals.saturating_sub(1),
                _ => {}
            }
            if matches!(event, DeploymentEvent::DeploymentRequested { .. })
                || cell
                    .latest
                    .as_ref()
                    .is_some_and(|latest| latest.deployment_id == id)
            {
                cell.latest = Some(CellDeployment {
                    deployment_id: id,
                    release_version: state.release_version.clone(),
                    status: state.status,
                    at: record.recorded_at,
                });
            }
            if matches!(event, DeploymentEvent::DeploymentSucceeded { .. }) {
                cell.live = cell
                    .latest
                    .clone()
                    .filter(|latest| latest.deployment_id == id)
                    .or_else(|| {
                        Some(CellDeployment {
                            deployment_id: id,
                            release_version: state.release_version.clone(),
                            status: state.status,
                            at: record.recorded_at,
                        })
                    });
            }
        }
        match event {
            DeploymentEvent::DeploymentRequested {
                release_id,
                environment,
                ..
            } => {
                if let Some(release) = self.releases.get_mut(release_id) {
                    release.deployments.push(id);
                    if let Some(snapshot) = &release.tracked.state.snapshot {
                        view.variables = resolve_variables(&snapshot.variables, environment);
                    }
                }
            }
            DeploymentEvent::DeploymentAwaitingApproval { .. } => {
                view.awaiting_since = Some(record.recorded_at)
            }
            DeploymentEvent::DeploymentStarted { .. } => view.started_at = Some(record.recorded_at),
            DeploymentEvent::JobLeased(_) => view.started_at = None,
            DeploymentEvent::DeploymentSucceeded { .. } => {
                view.finished_at = Some(record.recorded_at);
                view.succeeded_event = Some(record.id);
                if let (Some(release_id), Some(environment)) =
                    (state.release_id, &state.environment)
                    && let Some(release) = self.releases.get_mut(&release_id)
                {
                    release
                        .succeeded_in
                        .entry(environment.clone())
                        .or_insert(record.recorded_at);
                }
            }
            DeploymentEvent::DeploymentFailed { .. }
            | DeploymentEvent::DeploymentRejected { .. }
            | DeploymentEvent::DeploymentCancelled { .. }
            | DeploymentEvent::DeploymentSuperseded { .. }
            | DeploymentEvent::DeploymentApprovalExpired { .. } => {
                view.finished_at = Some(record.recorded_at)
            }
            _ => {}
        }
    }

    /// Deployments of `project` into `environment`, oldest first.
    pub fn deployments_in(
        &self,
        project: &ProjectName,
        environment: &EnvironmentName,
    ) -> Vec<&DeploymentView> {
        let mut found: Vec<&DeploymentView> = self
            .deployments
            .values()
            .filter(|d| {
                d.tracked.state.project.as_ref() == Some(project)
                    && d.tracked.state.environment.as_ref() == Some(environment)
            })
            .collect();
        found.sort_by_key(|d| d.tracked.position);
        found
    }

    /// The deployment live now for `project` in `environment`: the last one that succeeded.
    pub fn live_deployment(
        &self,
        project: &ProjectName,
        environment: &EnvironmentName,
    ) -> Option<&DeploymentView> {
        self.deployments_in(project, environment)
            .into_iter()
            .filter(|d| d.tracked.state.status == DeploymentStatus::Succeeded)
            .max_by_key(|d| d.finished_at)
    }

    /// A deployment holds its environment while it runs or while an agent holds a live lease
    /// on it (leased but not started yet).
    pub fn environment_busy(
        &self,
        project: &ProjectName,
        environment: &EnvironmentName,
        except: Uuid,
        now: DateTime<Utc>,
    ) -> bool {
        self.deployments.iter().any(|(id, d)| {
            let s = &d.tracked.state;
            let holds = s.status == DeploymentStatus::Running
                || (s.status == DeploymentStatus::Queued
                    && s.job
                        .lease
                        .as_ref()
                        .is_some_and(|lease| lease.expires_at > now));
            *id != except
                && holds
                && s.project.as_ref() == Some(project)
                && s.environment.as_ref() == Some(environment)
        })
    }

    /// Whether the deployment's kind leads to automatic promotion when it succeeds.
    pub fn promotes(kind: Option<DeploymentKind>) -> bool {
        matches!(kind, Some(DeploymentKind::Deploy))
    }
}
