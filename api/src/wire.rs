//! Wire types: the JSON shapes of the API, with their OpenAPI schemas, converted from the
//! engine's types by hand so that the engine never depends on the wire.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use conveyor_engine::{
    ApprovalPolicy, Artifact, BuildStatus, DeploymentKind, DeploymentStatus, EngineError,
    EnvironmentName, EnvironmentState, LifecycleName, ProjectState, StepOutcome,
    aggregate::{
        deployment::{ApprovalDecision, ApprovalRule, Approver},
        freeze::{Freeze, FreezeWindow},
        job::{Lease, StepReport},
        lifecycle::{LifecycleSpec, LifecycleState, Phase, Progression},
        project::{
            BuildPlan, BuildStep, Channel, DeploymentStep, LifecycleStage, PlanSource, ProjectSpec,
            RetentionPolicy, Variable, VariableScope,
        },
        release::ReleaseSnapshot,
    },
    model::{BuildView, DeploymentView, ReleaseView, Tracked},
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// What stands in for a sensitive variable's value in every response.
pub const MASK: &str = "********";

/// A page of results, newest first; pass `next_cursor` as `after` for the next page.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// The cursor of the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    /// Converts an engine page whose items may fail to convert.
    pub fn try_from_engine<S, E>(
        page: conveyor_engine::service::Page<S>,
        convert: impl Fn(S) -> Result<T, E>,
    ) -> Result<Self, E> {
        Ok(Self {
            items: page
                .items
                .into_iter()
                .map(convert)
                .collect::<Result<_, E>>()?,
            next_cursor: page.next.map(|p| p.to_string()),
        })
    }

    /// Converts an engine page.
    pub fn from_engine<S>(
        page: conveyor_engine::service::Page<S>,
        convert: impl Fn(S) -> T,
    ) -> Self {
        Self {
            items: page.items.into_iter().map(convert).collect(),
            next_cursor: page.next.map(|p| p.to_string()),
        }
    }
}

/// Cursor pagination parameters.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageQuery {
    /// The `next_cursor` of the previous page.
    pub after: Option<u64>,
    /// Page size, 1 to 500 (default 50).
    pub limit: Option<usize>,
}

impl PageQuery {
    /// The requested page size.
    pub fn limit(&self) -> usize {
        self.limit.unwrap_or(50)
    }
}

// ----- environments -----

/// Who must approve deployments into an environment.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[schema(as = ApprovalPolicy)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicyDto {
    /// Distinct approvals (by subjects holding `approve:<env>`) needed before deploying.
    #[serde(default)]
    pub required_approvals: u32,
    /// Whether whoever requested the deployment or created the release may approve it.
    #[serde(default)]
    pub allow_self_approval: bool,
    /// Further rules that must all hold too, each counting distinct approvers (a subject
    /// counts for one rule only), e.g. `[{"scope": "approve:security", "count": 1}]`.
    #[serde(default)]
    pub rules: Vec<ApprovalRuleDto>,
    /// A deployment still waiting for approval this many seconds after it was requested
    /// expires (none: it waits forever).
    #[serde(default)]
    pub approval_timeout_seconds: Option<u64>,
}

/// `count` distinct approvers holding `scope`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = ApprovalRule)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRuleDto {
    /// The scope, e.g. `approve:security`.
    pub scope: String,
    /// How many distinct approvers.
    pub count: u32,
}

impl From<ApprovalPolicyDto> for ApprovalPolicy {
    fn from(p: ApprovalPolicyDto) -> Self {
        Self {
            required_approvals: p.required_approvals,
            allow_self_approval: p.allow_self_approval,
            rules: p
                .rules
                .into_iter()
                .map(|r| ApprovalRule {
                    scope: r.scope,
                    count: r.count,
                })
                .collect(),
            approval_timeout_seconds: p.approval_timeout_seconds,
        }
    }
}

impl From<&ApprovalPolicy> for ApprovalPolicyDto {
    fn from(p: &ApprovalPolicy) -> Self {
        Self {
            required_approvals: p.required_approvals,
            allow_self_approval: p.allow_self_approval,
            rules: p
                .rules
                .iter()
                .map(|r| ApprovalRuleDto {
                    scope: r.scope.clone(),
                    count: r.count,
                })
                .collect(),
            approval_timeout_seconds: p.approval_timeout_seconds,
        }
    }
}

/// A freeze window: one-off (`start`, `end`) or recurring (`cron`, `duration_minutes`,
/// `timezone`), for every project or one.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Freeze)]
#[serde(deny_unknown_fields)]
pub struct FreezeDto {
    /// Its id (set by the server).
    #[serde(default)]
    pub id: Uuid,
    /// Only this project (every project when absent).
    #[serde(default)]
    pub project: Option<String>,
    /// One-off: the start (RFC 3339).
    #[serde(default)]
    pub start: Option<DateTime<Utc>>,
    /// One-off: the end (RFC 3339).
    #[serde(default)]
    pub end: Option<DateTime<Utc>>,
    /// Recurring: minute hour day-of-month month day-of-week, e.g. `0 18 * * Fri`.
    #[serde(default)]
    pub cron: Option<String>,
    /// Recurring: how long each window lasts.
    #[serde(default)]
    pub duration_minutes: Option<u32>,
    /// Recurring: the IANA time zone the cron expression reads, e.g. `Europe/Berlin`.
    #[serde(default)]
    pub timezone: Option<String>,
    /// Why.
    pub reason: String,
    /// Whether rollbacks are frozen too (default: no, a rollback may always run).
    #[serde(default)]
    pub applies_to_rollback: bool,
    /// Whether it holds now (set by the server).
    #[serde(default)]
    pub active_now: bool,
}

impl From<&Freeze> for FreezeDto {
    fn from(f: &Freeze) -> Self {
        let mut dto = FreezeDto {
            id: f.id,
            project: f.project.as_ref().map(|p| p.to_string()),
            start: None,
            end: None,
            cron: None,
            duration_minutes: None,
            timezone: None,
            reason: f.reason.clone(),
            applies_to_rollback: f.applies_to_rollback,
            active_now: f.window.active_at(Utc::now()),
        };
        match &f.window {
            FreezeWindow::OneOff { start, end } => {
                dto.start = Some(*start);
                dto.end = Some(*end);
            }
            FreezeWindow::Recurring {
                cron,
                duration_minutes,
                timezone,
            } => {
                dto.cron = Some(cron.clone());
                dto.duration_minutes = Some(*duration_minutes);
                dto.timezone = Some(timezone.clone());
            }
        }
        dto
    }
}

/// Body of `POST /api/v1/environments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEnvironmentRequest {
    /// Lowercase letters, digits, `-`, `_`.
    #[schema(example = "production")]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Approval policy (default: none needed).
    #[serde(default)]
    pub approval_policy: ApprovalPolicyDto,
    /// Roll a failed deployment back automatically to the last release that succeeded here,
    /// and hold automatic promotion of its project until a person promotes.
    #[serde(default)]
    pub auto_rollback: bool,
    /// Soak time: a release may be deployed here only once it has been ready this many
    /// seconds — since it met the requirement of the lifecycle phase before. A manual
    /// promotion before then is refused (409 `soak-time-not-elapsed`); an automatic one waits.
    #[serde(default)]
    pub soak_seconds: Option<u64>,
}

/// An environment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Environment {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Approval policy.
    pub approval_policy: ApprovalPolicyDto,
    /// Whether failed deployments are rolled back automatically.
    pub auto_rollback: bool,
    /// Soak time in seconds, when it has one.
    pub soak_seconds: Option<u64>,
    /// Projects whose automatic promotion here is held, and why.
    pub holds: BTreeMap<String, String>,
    /// Freeze windows.
    pub freezes: Vec<FreezeDto>,
    /// Stream version (send as `If-Match`).
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
}

impl From<Tracked<EnvironmentState>> for Environment {
    fn from(t: Tracked<EnvironmentState>) -> Self {
        Self {
            name: t.state.name.map(|n| n.to_string()).unwrap_or_default(),
            description: t.state.description,
            approval_policy: (&t.state.policy).into(),
            auto_rollback: t.state.auto_rollback,
            soak_seconds: t.state.soak_seconds,
            freezes: t.state.freezes.iter().map(FreezeDto::from).collect(),
            holds: t
                .state
                .holds
                .iter()
                .map(|(project, reason)| (project.to_string(), reason.clone()))
                .collect(),
            version: t.version,
            created_at: t.created_at,
        }
    }
}

// ----- projects -----

/// One build step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = BuildStep)]
#[serde(deny_unknown_fields)]
pub struct BuildStepDto {
    /// Name.
    pub name: String,
    /// Shell script.
    pub script: String,
    /// Globs of files kept as artifacts.
    #[serde(default)]
    pub artifacts: Vec<String>,
    /// Extra environment variables for this step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Seconds the step may run before it is killed (the agent's default, one hour, when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// One deployment step.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = DeploymentStep)]
#[serde(deny_unknown_fields)]
pub struct DeploymentStepDto {
    /// Name.
    pub name: String,
    /// Shell script.
    pub script: String,
    /// Extra environment variables for this step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// Seconds the step may run before it is killed (the agent's default, one hour, when
    /// absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// A variable: a default value and per-environment values; the most specific scope wins.
/// Sensitive values are write-only: responses show `********`, and sending `********` back
/// keeps the stored value.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Variable)]
#[serde(deny_unknown_fields)]
pub struct VariableDto {
    /// Name.
    pub name: String,
    /// The default value (masked in responses when sensitive); absent when only some
    /// environments have one.
    #[serde(default)]
    pub value: Option<String>,
    /// Whether it is a secret.
    #[serde(default)]
    pub sensitive: bool,
    /// Values for particular environments, by environment name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, String>,
}

/// Where a build's plan comes from.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = PlanSource)]
#[serde(rename_all = "snake_case")]
pub enum PlanSourceDto {
    /// The project's definition: `build_steps`, or its `pipelines` document.
    #[default]
    Project,
    /// `bitbucket-pipelines.yml` at the pushed commit.
    Repository,
}

impl From<PlanSourceDto> for PlanSource {
    fn from(p: PlanSourceDto) -> Self {
        match p {
            PlanSourceDto::Project => Self::Project,
            PlanSourceDto::Repository => Self::Repository,
        }
    }
}

impl From<PlanSource> for PlanSourceDto {
    fn from(p: PlanSource) -> Self {
        match p {
            PlanSource::Project => Self::Project,
            PlanSource::Repository => Self::Repository,
        }
    }
}

/// One lifecycle stage.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = LifecycleStage)]
#[serde(deny_unknown_fields)]
pub struct LifecycleStageDto {
    /// Environment name.
    pub environment: String,
    /// Deploy automatically when the previous stage succeeded (or on release for the first).
    #[serde(default)]
    pub automatic: bool,
}

/// What a phase requires before a release may progress past it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = Progression)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ProgressionDto {
    /// Success in every environment of the phase.
    All,
    /// Success in at least `count` of the phase's environments.
    AtLeast {
        /// How many.
        count: u32,
    },
    /// Nothing: the phase may be skipped.
    Optional,
}

impl From<ProgressionDto> for Progression {
    fn from(p: ProgressionDto) -> Self {
        match p {
            ProgressionDto::All => Self::All,
            ProgressionDto::AtLeast { count } => Self::AtLeast { count },
            ProgressionDto::Optional => Self::Optional,
        }
    }
}

impl From<Progression> for ProgressionDto {
    fn from(p: Progression) -> Self {
        match p {
            Progression::All => Self::All,
            Progression::AtLeast { count } => Self::AtLeast { count },
            Progression::Optional => Self::Optional,
        }
    }
}

fn default_progression() -> ProgressionDto {
    ProgressionDto::All
}

/// One phase of a lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Phase)]
#[serde(deny_unknown_fields)]
pub struct PhaseDto {
    /// Name, unique in the lifecycle.
    pub name: String,
    /// Its environments, deployed in any order within the phase.
    pub environments: Vec<LifecycleStageDto>,
    /// What it requires to progress (default `{"kind": "all"}`).
    #[serde(default = "default_progression")]
    pub progression: ProgressionDto,
}

/// Body of `POST /api/v1/lifecycles` and `PUT /api/v1/lifecycles/{lifecycle}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleRequest {
    /// Lowercase letters, digits, `-`, `_`.
    #[schema(example = "standard")]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Ordered phases.
    pub phases: Vec<PhaseDto>,
}

/// A shared lifecycle.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Lifecycle {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Ordered phases.
    pub phases: Vec<PhaseDto>,
    /// Stream version (send as `If-Match`).
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn phases(phases: &[Phase]) -> Vec<PhaseDto> {
    phases
        .iter()
        .map(|p| PhaseDto {
            name: p.name.clone(),
            environments: lifecycle(&p.environments),
            progression: p.progression.into(),
        })
        .collect()
}

impl TryFrom<Tracked<LifecycleState>> for Lifecycle {
    type Error = crate::error::ApiError;

    fn try_from(t: Tracked<LifecycleState>) -> Result<Self, Self::Error> {
        let spec = t.state.spec.ok_or_else(|| missing("lifecycle"))?;
        Ok(Self {
            name: spec.name.to_string(),
            description: spec.description,
            phases: phases(&spec.phases),
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
    }
}

fn stages(
    stages: Vec<LifecycleStageDto>,
    field: impl Fn(usize) -> String,
) -> Result<Vec<LifecycleStage>, EngineError> {
    stages
        .into_iter()
        .enumerate()
        .map(|(index, s)| {
            Ok(LifecycleStage {
                environment: EnvironmentName::parse(&s.environment).map_err(|_| {
                    EngineError::invalid(
                        &field(index),
                        format!("{:?} is not a valid environment name", s.environment),
                    )
                })?,
                automatic: s.automatic,
            })
        })
        .collect()
}

/// Converts a lifecycle request into the engine's spec.
pub fn lifecycle_spec(request: LifecycleRequest) -> Result<LifecycleSpec, EngineError> {
    let name = LifecycleName::parse(&request.name)?;
    let phases = request
        .phases
        .into_iter()
        .enumerate()
        .map(|(index, phase)| {
            Ok(Phase {
                name: phase.name,
                environments: stages(phase.environments, |i| {
                    format!("phases[{index}].environments[{i}].environment")
                })?,
                progression: phase.progression.into(),
            })
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    Ok(LifecycleSpec {
        name,
        description: request.description,
        phases,
    })
}

/// A channel: builds from matching branches release into a shared lifecycle.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[schema(as = Channel)]
#[serde(deny_unknown_fields)]
pub struct ChannelDto {
    /// Name, unique in the project.
    pub name: String,
    /// Branch (or tag) glob, e.g. `feature/*`.
    pub branch: String,
    /// The lifecycle its releases follow.
    pub lifecycle: String,
}

/// The lifecycle a release follows, as it was when the release was created.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ReleaseLifecycleDto {
    /// The shared lifecycle (absent: the project's own stages).
    pub name: Option<String>,
    /// The channel that chose it.
    pub channel: Option<String>,
    /// Its phases.
    pub phases: Vec<PhaseDto>,
}

/// Body of `POST /api/v1/projects` and `PUT /api/v1/projects/{project}`.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProjectRequest {
    /// Lowercase letters, digits, `-`, `_`.
    #[schema(example = "shop")]
    pub name: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Repository URL, as pushes report it.
    pub repository: String,
    /// Branch glob that triggers builds.
    #[serde(default = "default_branch")]
    pub branch: String,
    /// Build steps (or give `pipelines`).
    #[serde(default)]
    pub build_steps: Vec<BuildStepDto>,
    /// The build plan as a Bitbucket Pipelines document (`pipelines: default: - step: …`,
    /// `branches: '<glob>': …`); the plan for a build is chosen by its branch. A bad document
    /// is a 422 naming the line.
    #[serde(default)]
    pub pipelines: Option<String>,
    /// `repository` reads `bitbucket-pipelines.yml` at the pushed commit instead.
    #[serde(default)]
    pub plan_source: PlanSourceDto,
    /// Build pushed tags too (branches matching `branch` are always built).
    #[serde(default)]
    pub build_tags: bool,
    /// Deployment steps.
    #[serde(default)]
    pub deployment_steps: Vec<DeploymentStepDto>,
    /// Variables.
    #[serde(default)]
    pub variables: Vec<VariableDto>,
    /// The project's own lifecycle: ordered environments, each a phase that must succeed
    /// before the next. Releases follow it when no channel matches their branch.
    #[serde(default)]
    pub lifecycle: Vec<LifecycleStageDto>,
    /// Channels, first match wins: a release follows the shared lifecycle of the first
    /// channel whose branch glob matches its build's branch.
    #[serde(default)]
    pub channels: Vec<ChannelDto>,
    /// Retention of artifact bytes and logs (absent: keep everything).
    #[serde(default)]
    pub retention: Option<RetentionDto>,
}

/// Which releases keep their artifact bytes and logs.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[schema(as = Retention)]
#[serde(deny_unknown_fields)]
pub struct RetentionDto {
    /// Keep the last this many releases that succeeded in each environment (at least 1);
    /// releases live anywhere, the project's newest this many, and releases with a
    /// deployment under way are always kept.
    pub keep_releases_per_environment: u32,
}

fn default_branch() -> String {
    "main".into()
}

/// A project.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Project {
    /// Name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Repository URL.
    pub repository: String,
    /// Branch glob.
    pub branch: String,
    /// Build steps.
    pub build_steps: Vec<BuildStepDto>,
    /// The build plan as a Bitbucket Pipelines document.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pipelines: Option<String>,
    /// Where builds take their plan from.
    pub plan_source: PlanSourceDto,
    /// Whether pushed tags are built.
    pub build_tags: bool,
    /// Deployment steps.
    pub deployment_steps: Vec<DeploymentStepDto>,
    /// Variables (sensitive values masked).
    pub variables: Vec<VariableDto>,
    /// The project's own lifecycle.
    pub lifecycle: Vec<LifecycleStageDto>,
    /// Channels, first match wins.
    pub channels: Vec<ChannelDto>,
    /// Retention of artifact bytes and logs.
    pub retention: Option<RetentionDto>,
    /// Stream version (send as `If-Match`).
    pub version: u64,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// When it last changed.
    pub updated_at: DateTime<Utc>,
}

fn masked(variables: &[Variable]) -> Vec<VariableDto> {
    let mask = |sensitive: bool, value: &str| {
        if sensitive {
            MASK.to_owned()
        } else {
            value.to_owned()
        }
    };
    variables
        .iter()
        .map(|v| VariableDto {
            name: v.name.clone(),
            value: v.value.as_deref().map(|value| mask(v.sensitive, value)),
            sensitive: v.sensitive,
            environments: v
                .environments
                .iter()
                .map(|(environment, value)| (environment.to_string(), mask(v.sensitive, value)))
                .collect(),
        })
        .collect()
}

/// The wire form of build steps.
pub fn steps(plan: &BuildPlan) -> Vec<BuildStepDto> {
    plan.steps
        .iter()
        .map(|s| BuildStepDto {
            name: s.name.clone(),
            script: s.script.clone(),
            artifacts: s.artifacts.clone(),
            environment: s.environment.clone(),
            timeout_seconds: s.timeout_seconds,
        })
        .collect()
}

fn deployment_steps(steps: &[DeploymentStep]) -> Vec<DeploymentStepDto> {
    steps
        .iter()
        .map(|s| DeploymentStepDto {
            name: s.name.clone(),
            script: s.script.clone(),
            environment: s.environment.clone(),
            timeout_seconds: s.timeout_seconds,
        })
        .collect()
}

fn lifecycle(stages: &[LifecycleStage]) -> Vec<LifecycleStageDto> {
    stages
        .iter()
        .map(|s| LifecycleStageDto {
            environment: s.environment.to_string(),
            automatic: s.automatic,
        })
        .collect()
}

/// The engine's read model holds only created projects and releases; a view without its
/// content would be a bug in the engine, answered as a 500, never a panic.
fn missing(what: &str) -> crate::error::ApiError {
    crate::error::ApiError::internal(anyhow::anyhow!(
        "the read model holds a {what} without content"
    ))
}

impl TryFrom<Tracked<ProjectState>> for Project {
    type Error = crate::error::ApiError;

    fn try_from(t: Tracked<ProjectState>) -> Result<Self, Self::Error> {
        let spec = t.state.spec.ok_or_else(|| missing("project"))?;
        Ok(Self {
            name: spec.name.to_string(),
            description: spec.description,
            repository: spec.repository,
            branch: spec.branch,
            build_steps: steps(&spec.build_plan),
            pipelines: spec.pipelines.clone(),
            plan_source: spec.plan_source.into(),
            build_tags: spec.build_tags,
            deployment_steps: deployment_steps(&spec.deployment_steps),
            variables: masked(&spec.variables),
            lifecycle: lifecycle(&spec.lifecycle),
            channels: spec
                .channels
                .iter()
                .map(|c| ChannelDto {
                    name: c.name.clone(),
                    branch: c.branch.clone(),
                    lifecycle: c.lifecycle.to_string(),
                })
                .collect(),
            retention: spec.retention.map(|r| RetentionDto {
                keep_releases_per_environment: r.keep_releases_per_environment,
            }),
            version: t.version,
            created_at: t.created_at,
            updated_at: t.updated_at,
        })
    }
}

/// Converts a project request into the engine's spec, sealing sensitive values.
///
/// A sensitive value sent back as the mask (`********`, as every response shows it) keeps
/// the sealed value `current` has in the same place (default or environment) — so a client
/// may PUT back what it read.
pub fn project_spec(
    request: ProjectRequest,
    current: &[Variable],
    seal: impl Fn(&str) -> String,
) -> Result<ProjectSpec, EngineError> {
    let name = conveyor_engine::ProjectName::parse(&request.name)?;
    let environment_name = |raw: &str, field: String| {
        EnvironmentName::parse(raw).map_err(|_| {
            EngineError::invalid(&field, format!("{raw:?} is not a valid environment name"))
        })
    };
    let lifecycle = stages(request.lifecycle, |index| {
        format!("lifecycle[{index}].environment")
    })?;
    let channels = request
        .channels
        .into_iter()
        .enumerate()
        .map(|(index, c)| {
            Ok(Channel {
                lifecycle: LifecycleName::parse(&c.lifecycle).map_err(|_| {
                    EngineError::invalid(
                        &format!("channels[{index}].lifecycle"),
                        format!("{:?} is not a valid lifecycle name", c.lifecycle),
                    )
                })?,
                name: c.name,
                branch: c.branch,
            })
        })
        .collect::<Result<Vec<_>, EngineError>>()?;
    let mut variables = Vec::with_capacity(request.variables.len());
    for (index, v) in request.variables.into_iter().enumerate() {
        let existing = current.iter().find(|e| e.sensitive && e.name == v.name);
        // Seals a sensitive value, or keeps the stored one where the mask was sent back.
        let keep_or_seal = |value: String, stored: Option<&String>, field: String| match (
            v.sensitive,
            value == MASK,
        ) {
            (false, _) => Ok(value),
            (true, false) => Ok(seal(&value)),
            (true, true) => stored.cloned().ok_or_else(|| {
                EngineError::invalid(
                    &field,
                    format!(
                        "{MASK} stands for the unchanged value of a sensitive variable, but \
                             {} has none there yet: send its value",
                        v.name
                    ),
                )
            }),
        };
        let value = v
            .value
            .clone()
            .map(|value| {
                keep_or_seal(
                    value,
                    existing.and_then(|e| e.value.as_ref()),
                    format!("variables[{index}].value"),
                )
            })
            .transpose()?;
        let mut environments = BTreeMap::new();
        for (environment, value) in v.environments.clone() {
            let field = format!("variables[{index}].environments.{environment}");
            let environment = environment_name(&environment, field.clone())?;
            let stored = existing.and_then(|e| e.environments.get(&environment));
            environments.insert(environment, keep_or_seal(value, stored, field)?);
        }
        if value.is_none() && environments.is_empty() {
            return Err(EngineError::invalid(
                &format!("variables[{index}]"),
                format!(
                    "variable {} needs a value or values for environments",
                    v.name
                ),
            ));
        }
        variables.push(Variable {
            name: v.name,
            value,
            sensitive: v.sensitive,
            environments,
        });
    }
    Ok(ProjectSpec {
        name,
        description: request.description,
        repository: request.repository,
        branch: request.branch,
        build_plan: BuildPlan {
            steps: request
                .build_steps
                .into_iter()
                .map(|s| BuildStep {
                    name: s.name,
                    script: s.script,
                    artifacts: s.artifacts,
                    environment: s.environment,
                    timeout_seconds: s.timeout_seconds,
                })
                .collect(),
        },
        pipelines: request.pipelines,
        plan_source: request.plan_source.into(),
        build_tags: request.build_tags,
        deployment_steps: request
            .deployment_steps
            .into_iter()
            .map(|s| DeploymentStep {
                name: s.name,
                script: s.script,
                environment: s.environment,
                timeout_seconds: s.timeout_seconds,
            })
            .collect(),
        variables,
        lifecycle,
        channels,
        retention: request.retention.map(|r| RetentionPolicy {
            keep_releases_per_environment: r.keep_releases_per_environment,
        }),
    })
}

// ----- pushes and builds -----

/// Body of `POST /api/v1/pushes`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// Repository URL, as the project names it.
    pub repository: String,
    /// The ref pushed: `refs/heads/main`, or a bare branch name.
    #[serde(rename = "ref")]
    #[schema(rename = "ref", example = "refs/heads/main")]
    pub git_ref: String,
    /// The commit the ref now points at.
    #[schema(example = "9fceb02d0ae598e95dc970b74767f19372d61af8")]
    pub commit: String,
    /// The commit it pointed at before.
    #[serde(default)]
    pub before: Option<String>,
    /// Who pushed.
    #[serde(default)]
    pub pusher: Option<String>,
    /// Head commit message.
    #[serde(default)]
    pub message: Option<String>,
}

/// The answer to a push: the builds it queued.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct PushAccepted {
    /// The push's id.
    pub push_id: Uuid,
    /// Builds queued for matching projects.
    pub builds: Vec<Build>,
}

/// A build status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = BuildStatus)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatusDto {
    /// Waiting for an agent.
    Queued,
    /// Running.
    Running,
    /// Succeeded.
    Succeeded,
    /// Failed.
    Failed,
    /// Cancelled.
    Cancelled,
}

impl From<BuildStatus> for BuildStatusDto {
    fn from(s: BuildStatus) -> Self {
        match s {
            BuildStatus::Queued => Self::Queued,
            BuildStatus::Running => Self::Running,
            BuildStatus::Succeeded => Self::Succeeded,
            BuildStatus::Failed => Self::Failed,
            BuildStatus::Cancelled => Self::Cancelled,
        }
    }
}

/// A content-addressed artifact.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = Artifact)]
#[serde(deny_unknown_fields)]
pub struct ArtifactDto {
    /// Relative file name.
    pub name: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl From<&Artifact> for ArtifactDto {
    fn from(a: &Artifact) -> Self {
        Self {
            name: a.name.clone(),
            sha256: a.sha256.clone(),
            size: a.size,
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = StepOutcome)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcomeDto {
    /// Exit code 0.
    Succeeded,
    /// Failed.
    Failed,
    /// Not run.
    Skipped,
}

impl From<StepOutcomeDto> for StepOutcome {
    fn from(o: StepOutcomeDto) -> Self {
        match o {
            StepOutcomeDto::Succeeded => Self::Succeeded,
            StepOutcomeDto::Failed => Self::Failed,
            StepOutcomeDto::Skipped => Self::Skipped,
        }
    }
}

impl From<StepOutcome> for StepOutcomeDto {
    fn from(o: StepOutcome) -> Self {
        match o {
            StepOutcome::Succeeded => Self::Succeeded,
            StepOutcome::Failed => Self::Failed,
            StepOutcome::Skipped => Self::Skipped,
        }
    }
}

/// A step's result.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StepResult {
    /// Name.
    pub name: String,
    /// Outcome.
    pub outcome: StepOutcomeDto,
    /// Exit code.
    pub exit_code: Option<i32>,
    /// Wall time.
    pub duration_ms: u64,
}

impl From<&StepReport> for StepResult {
    fn from(s: &StepReport) -> Self {
        Self {
            name: s.name.clone(),
            outcome: s.outcome.into(),
            exit_code: s.exit_code,
            duration_ms: s.duration_ms,
        }
    }
}

/// A lease on a job.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Lease)]
pub struct LeaseDto {
    /// Send with every report.
    pub lease_id: Uuid,
    /// The agent holding it.
    pub agent: String,
    /// When it lapses without a heartbeat.
    pub expires_at: DateTime<Utc>,
    /// 1 for the first lease.
    pub attempt: u32,
}

impl From<&Lease> for LeaseDto {
    fn from(l: &Lease) -> Self {
        Self {
            lease_id: l.lease_id,
            agent: l.agent.clone(),
            expires_at: l.expires_at,
            attempt: l.attempt,
        }
    }
}

/// A build.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Build {
    /// Id.
    pub id: Uuid,
    /// Number within the project.
    pub number: u64,
    /// Project.
    pub project: String,
    /// Status.
    pub status: BuildStatusDto,
    /// Repository URL.
    pub repository: String,
    /// Branch.
    pub branch: String,
    /// Commit.
    pub commit: String,
    /// The push that queued it.
    pub push_id: Option<Uuid>,
    /// Steps of the plan.
    pub plan: Vec<BuildStepDto>,
    /// Steps reported by the current attempt.
    pub steps: Vec<StepResult>,
    /// Artifacts kept.
    pub artifacts: Vec<ArtifactDto>,
    /// The current lease.
    pub lease: Option<LeaseDto>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
    /// When it was queued.
    pub queued_at: DateTime<Utc>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Reports of its state to the git host its push came from, oldest first.
    pub status_reports: Vec<StatusReport>,
    /// Stream version.
    pub version: u64,
}

/// One attempt to report a build's state to its git host.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct StatusReport {
    /// The integration reported to.
    pub integration: String,
    /// The state, in the host's words.
    pub state: String,
    /// Where it was sent.
    pub target: String,
    /// 1 for the first attempt at this state.
    pub attempt: u32,
    /// Whether the host accepted it.
    pub delivered: bool,
    /// The host's HTTP status.
    pub http_status: Option<u16>,
    /// What went wrong.
    pub error: Option<String>,
}

impl From<BuildView> for Build {
    fn from(b: BuildView) -> Self {
        let s = &b.tracked.state;
        Self {
            id: s.id.unwrap_or_default(),
            number: b.number,
            project: s
                .project
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            status: s.status.into(),
            repository: s.repository.clone(),
            branch: s.branch.clone(),
            commit: s.commit.clone(),
            push_id: s.push_id,
            plan: steps(&s.plan),
            steps: s.job.steps.iter().map(Into::into).collect(),
            artifacts: s.artifacts.iter().map(Into::into).collect(),
            lease: s.job.lease.as_ref().map(Into::into),
            reason: s.reason.clone(),
            queued_at: b.tracked.created_at,
            started_at: b.started_at,
            finished_at: b.finished_at,
            status_reports: b
                .status_reports
                .iter()
                .map(|r| StatusReport {
                    integration: r.integration.to_string(),
                    state: r.state.clone(),
                    target: r.target.clone(),
                    attempt: r.attempt,
                    delivered: r.delivered,
                    http_status: r.http_status,
                    error: r.error.clone(),
                })
                .collect(),
            version: b.tracked.version,
        }
    }
}

/// Body of a cancel request.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelRequest {
    /// Why.
    #[serde(default)]
    pub reason: Option<String>,
}

// ----- releases -----

/// Body of `POST /api/v1/releases`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateReleaseRequest {
    /// A succeeded build.
    pub build_id: Uuid,
    /// Version label (default `1.0.<build number>`).
    #[serde(default)]
    pub version: Option<String>,
}

/// A release: an immutable snapshot.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Release {
    /// Id.
    pub id: Uuid,
    /// Project.
    pub project: String,
    /// Version label.
    pub version: String,
    /// Build it came from.
    pub build_id: Uuid,
    /// Commit.
    pub commit: String,
    /// Branch.
    pub branch: String,
    /// The build's artifacts.
    pub artifacts: Vec<ArtifactDto>,
    /// Deployment steps at release time.
    pub deployment_steps: Vec<DeploymentStepDto>,
    /// Variables at release time (sensitive values masked).
    pub variables: Vec<VariableDto>,
    /// The lifecycle it follows, as it was at release time.
    pub lifecycle: ReleaseLifecycleDto,
    /// Who created it.
    pub created_by: String,
    /// When.
    pub created_at: DateTime<Utc>,
    /// Environments where it was deployed successfully.
    pub succeeded_in: Vec<String>,
    /// Why it is blocked (deployed nowhere), when it is.
    pub blocked: Option<String>,
    /// When retention deleted its artifact bytes and logs: the rule (it can no longer be
    /// deployed; its history stays).
    pub content_deleted: Option<String>,
    /// Its deployments, oldest first.
    pub deployments: Vec<Uuid>,
}

impl TryFrom<ReleaseView> for Release {
    type Error = crate::error::ApiError;

    fn try_from(r: ReleaseView) -> Result<Self, Self::Error> {
        let created_at = r.tracked.created_at;
        let s: ReleaseSnapshot = r
            .tracked
            .state
            .snapshot
            .clone()
            .ok_or_else(|| missing("release"))?;
        Ok(Self {
            id: s.release_id,
            project: s.project.to_string(),
            version: s.version,
            build_id: s.build_id,
            commit: s.commit,
            branch: s.branch,
            artifacts: s.artifacts.iter().map(Into::into).collect(),
            deployment_steps: deployment_steps(&s.deployment_steps),
            variables: masked(&s.variables),
            lifecycle: ReleaseLifecycleDto {
                name: s.lifecycle.name.as_ref().map(ToString::to_string),
                channel: s.lifecycle.channel.clone(),
                phases: phases(&s.lifecycle.phases),
            },
            created_by: s.created_by,
            created_at,
            succeeded_in: r.succeeded_in.keys().map(ToString::to_string).collect(),
            blocked: r.tracked.state.blocked.clone(),
            content_deleted: r.tracked.state.content_deleted.clone(),
            deployments: r.deployments,
        })
    }
}

// ----- deployments -----

/// Body of `POST /api/v1/releases/{id}/block`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockRequest {
    /// The defect.
    pub reason: String,
}

/// Body of `POST /api/v1/releases/{id}/deployments`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// Target environment.
    pub environment: String,
    /// Deploy although a freeze holds there: the reason, recorded on the deployment (needs
    /// the `freeze:override` scope).
    #[serde(default)]
    pub override_freeze: Option<String>,
    /// Mark this project's deployments into the environment that still wait (for approval or
    /// an agent) as superseded by this one; they are recorded as superseded, not deleted.
    #[serde(default)]
    pub supersede_waiting: bool,
}

/// Body of `POST /api/v1/environments/{env}/rollback`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RollbackRequest {
    /// The project to roll back.
    pub project: String,
    /// An earlier release that was live here (default: the one live before the current one).
    #[serde(default)]
    pub to_release: Option<Uuid>,
    /// Roll back although a freeze that applies to rollbacks holds: the reason, recorded on
    /// the deployment (needs the `freeze:override` scope).
    #[serde(default)]
    pub override_freeze: Option<String>,
}

/// Deploy, redeploy or rollback.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = DeploymentKind)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKindDto {
    /// First deployment of the release here.
    Deploy,
    /// The same release again.
    Redeploy,
    /// An earlier release, reverting the current one.
    Rollback,
}

impl From<DeploymentKind> for DeploymentKindDto {
    fn from(k: DeploymentKind) -> Self {
        match k {
            DeploymentKind::Deploy => Self::Deploy,
            DeploymentKind::Redeploy => Self::Redeploy,
            DeploymentKind::Rollback => Self::Rollback,
        }
    }
}

/// A deployment status.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = DeploymentStatus)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatusDto {
    /// Just requested.
    Requested,
    /// Waiting out the environment's soak time (`waiting_until`).
    Waiting,
    /// Waiting for approvals.
    AwaitingApproval,
    /// Waiting for an agent.
    Queued,
    /// Running.
    Running,
    /// Live.
    Succeeded,
    /// Failed.
    Failed,
    /// Rejected by an approver.
    Rejected,
    /// Cancelled.
    Cancelled,
    /// A newer release's deployment took its place before it ran.
    Superseded,
    /// Nobody approved it in time.
    Expired,
}

impl From<DeploymentStatus> for DeploymentStatusDto {
    fn from(s: DeploymentStatus) -> Self {
        match s {
            DeploymentStatus::Requested => Self::Requested,
            DeploymentStatus::Waiting => Self::Waiting,
            DeploymentStatus::AwaitingApproval => Self::AwaitingApproval,
            DeploymentStatus::Queued => Self::Queued,
            DeploymentStatus::Running => Self::Running,
            DeploymentStatus::Succeeded => Self::Succeeded,
            DeploymentStatus::Failed => Self::Failed,
            DeploymentStatus::Rejected => Self::Rejected,
            DeploymentStatus::Cancelled => Self::Cancelled,
            DeploymentStatus::Superseded => Self::Superseded,
            DeploymentStatus::Expired => Self::Expired,
        }
    }
}

/// One approval decision.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = Approval)]
pub struct ApprovalDto {
    /// Who decided.
    pub subject: String,
    /// Their scopes.
    pub scopes: Vec<String>,
    /// Their token id.
    pub token_id: Option<String>,
    /// approve or reject.
    pub decision: ApprovalDecisionDto,
    /// Why.
    pub comment: String,
}

fn approval(approver: &Approver, decision: ApprovalDecisionDto, comment: &str) -> ApprovalDto {
    ApprovalDto {
        subject: approver.subject.clone(),
        scopes: approver.scopes.clone(),
        token_id: approver.token_id.clone(),
        decision,
        comment: comment.to_owned(),
    }
}

/// A deployment.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Deployment {
    /// Id.
    pub id: Uuid,
    /// Release.
    pub release_id: Uuid,
    /// Release version.
    pub release_version: String,
    /// Project.
    pub project: String,
    /// Environment.
    pub environment: String,
    /// Kind.
    pub kind: DeploymentKindDto,
    /// Status.
    pub status: DeploymentStatusDto,
    /// Who requested it.
    pub requested_by: String,
    /// For a rollback: the deployment it reverts.
    pub reverts: Option<Uuid>,
    /// The release live in the environment when this deployment was requested.
    pub previous_release_version: Option<String>,
    /// The release's variables resolved for this environment, with the scope each value came
    /// from (sensitive values masked).
    pub variables: Vec<ResolvedVariableDto>,
    /// Approvals needed.
    pub required_approvals: u32,
    /// Decisions so far.
    pub approvals: Vec<ApprovalDto>,
    /// Steps reported.
    pub steps: Vec<StepResult>,
    /// The current lease.
    pub lease: Option<LeaseDto>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
    /// While it waits out a soak time: when the wait ends.
    pub waiting_until: Option<DateTime<Utc>>,
    /// When requested.
    pub requested_at: DateTime<Utc>,
    /// When it started.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended.
    pub finished_at: Option<DateTime<Utc>>,
    /// Stream version.
    pub version: u64,
}

impl From<DeploymentView> for Deployment {
    fn from(d: DeploymentView) -> Self {
        let s = &d.tracked.state;
        let mut approvals: Vec<ApprovalDto> = s
            .approvals
            .iter()
            .map(|(a, c)| approval(a, ApprovalDecisionDto::Approve, c))
            .collect();
        if let Some((a, c)) = &s.rejection {
            approvals.push(approval(a, ApprovalDecisionDto::Reject, c));
        }
        Self {
            id: s.id.unwrap_or_default(),
            release_id: s.release_id.unwrap_or_default(),
            release_version: s.release_version.clone(),
            project: s
                .project
                .as_ref()
                .map(|p| p.to_string())
                .unwrap_or_default(),
            environment: s
                .environment
                .as_ref()
                .map(|e| e.to_string())
                .unwrap_or_default(),
            kind: s.kind.unwrap_or(DeploymentKind::Deploy).into(),
            status: s.status.into(),
            requested_by: s.requested_by.clone(),
            reverts: s.reverts,
            previous_release_version: s.previous_release_version.clone(),
            variables: d
                .variables
                .iter()
                .map(|v| ResolvedVariableDto {
                    name: v.name.clone(),
                    value: if v.sensitive {
                        MASK.into()
                    } else {
                        v.value.clone()
                    },
                    sensitive: v.sensitive,
                    scope: match &v.scope {
                        VariableScope::Default => "default".into(),
                        VariableScope::Environment(environment) => {
                            format!("environment:{environment}")
                        }
                    },
                })
                .collect(),
            required_approvals: s.policy.total_required(),
            approvals,
            steps: s.job.steps.iter().map(Into::into).collect(),
            lease: s.job.lease.as_ref().map(Into::into),
            reason: s.reason.clone(),
            waiting_until: s
                .waiting_until
                .filter(|_| s.status == DeploymentStatus::Waiting),
            requested_at: d.tracked.created_at,
            started_at: d.started_at,
            finished_at: d.finished_at,
            version: d.tracked.version,
        }
    }
}

/// What a retention run deleted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RetentionRun {
    /// The releases whose content it deleted.
    pub releases: Vec<RetentionRunRelease>,
}

/// One release whose content a retention run deleted.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RetentionRunRelease {
    /// The release.
    pub release_id: Uuid,
    /// Its version.
    pub version: String,
    /// The rule that applied.
    pub policy: String,
    /// Digests whose bytes were deleted.
    pub artifacts_deleted: Vec<String>,
    /// Jobs whose logs were deleted.
    pub logs_deleted: Vec<Uuid>,
}

/// A deployment in an environment's queue.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct QueueEntry {
    /// Its place in its project's queue: 1 runs (or runs next), 2 follows, …
    pub place: u32,
    /// The deployment.
    pub deployment: Deployment,
}

/// A variable's value for a deployment's environment and where it came from.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = ResolvedVariable)]
pub struct ResolvedVariableDto {
    /// Name.
    pub name: String,
    /// Value (masked when sensitive).
    pub value: String,
    /// Whether it is a secret.
    pub sensitive: bool,
    /// `default`, or `environment:<name>` for the environment's own value.
    pub scope: String,
}

/// approve or reject.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[schema(as = ApprovalDecision)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecisionDto {
    /// Counts towards the policy.
    Approve,
    /// Ends the deployment.
    Reject,
}

impl From<ApprovalDecisionDto> for ApprovalDecision {
    fn from(d: ApprovalDecisionDto) -> Self {
        match d {
            ApprovalDecisionDto::Approve => Self::Approve,
            ApprovalDecisionDto::Reject => Self::Reject,
        }
    }
}

/// Body of `POST /api/v1/deployments/{id}/approvals`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// approve or reject.
    pub decision: ApprovalDecisionDto,
    /// Why (required to reject).
    #[serde(default)]
    pub comment: String,
}

// ----- agents -----

/// Body of `POST /api/v1/agents/lease`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseRequest {
    /// The agent's name.
    pub agent: String,
}

/// A variable as the agent receives it (sensitive values in clear: the agent needs them).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobVariable {
    /// Name.
    pub name: String,
    /// Value.
    pub value: String,
    /// Whether the agent must keep it out of logs.
    pub sensitive: bool,
}

/// Build or deployment.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobKind {
    /// A build.
    Build,
    /// A deployment.
    Deployment,
}

/// A leased job: everything the agent needs to run it.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[schema(as = JobAssignment)]
pub struct JobAssignmentDto {
    /// The build's or deployment's id: the `{id}` of `/api/v1/jobs/{id}/…`.
    pub job_id: Uuid,
    /// Build or deployment.
    pub kind: JobKind,
    /// The lease.
    pub lease: LeaseDto,
    /// Project.
    pub project: String,
    /// Repository URL (builds).
    pub repository: Option<String>,
    /// Commit.
    pub commit: String,
    /// Branch.
    pub branch: String,
    /// Build number (builds).
    pub build_number: Option<u64>,
    /// Steps to run, in order.
    pub steps: Vec<BuildStepDto>,
    /// Where the build's plan comes from (builds): with `repository`, run the plan that
    /// `bitbucket-pipelines.yml` at the commit gives for the branch instead of `steps`.
    pub plan_source: Option<PlanSourceDto>,
    /// Target environment (deployments).
    pub environment: Option<String>,
    /// Release (deployments).
    pub release_id: Option<Uuid>,
    /// Release version (deployments).
    pub release_version: Option<String>,
    /// Deploy, redeploy or rollback (deployments).
    pub deployment_kind: Option<DeploymentKindDto>,
    /// The release live in the environment when the deployment was requested (deployments).
    pub previous_release_version: Option<String>,
    /// Artifacts to deploy (deployments).
    pub artifacts: Vec<ArtifactDto>,
    /// Variables (deployments).
    pub variables: Vec<JobVariable>,
}

/// Body of `POST /api/v1/jobs/{id}/heartbeat` and `/start`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeaseRef {
    /// The lease.
    pub lease_id: Uuid,
}

/// Body of `POST /api/v1/jobs/{id}/steps`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StepRequest {
    /// The lease.
    pub lease_id: Uuid,
    /// Step name.
    pub name: String,
    /// Outcome.
    pub outcome: StepOutcomeDto,
    /// Exit code.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Wall time.
    #[serde(default)]
    pub duration_ms: u64,
}

/// Body of `POST /api/v1/jobs/{id}/artifacts`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactRequest {
    /// The lease.
    pub lease_id: Uuid,
    /// Relative file name.
    pub name: String,
    /// Lowercase hex SHA-256.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Succeeded or failed.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// Every step succeeded.
    Succeeded,
    /// It failed.
    Failed,
}

/// Body of `POST /api/v1/jobs/{id}/complete`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompleteRequest {
    /// The lease.
    pub lease_id: Uuid,
    /// How it ended.
    pub outcome: JobOutcome,
    /// Why it failed.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A job after a protocol call.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct JobStatus {
    /// Id.
    pub job_id: Uuid,
    /// Build or deployment.
    pub kind: JobKind,
    /// Status (a build's or deployment's status).
    pub status: String,
    /// The current lease.
    pub lease: Option<LeaseDto>,
}

// ----- events -----

/// One event of the log.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Event {
    /// Global position.
    pub position: u64,
    /// Stream.
    pub stream: String,
    /// Version within the stream.
    pub version: u64,
    /// Event id (UUID v7).
    pub id: Uuid,
    /// Past-tense type.
    #[serde(rename = "type")]
    #[schema(rename = "type")]
    pub event_type: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// Payload.
    pub payload: serde_json::Value,
    /// Who.
    pub actor: String,
    /// Workflow id.
    pub correlation_id: Uuid,
    /// Direct cause.
    pub causation_id: Option<Uuid>,
    /// HTTP request id.
    pub request_id: Option<String>,
    /// Commit time.
    pub recorded_at: DateTime<Utc>,
    /// Chained SHA-256 (hex).
    pub hash: String,
}

impl From<conveyor_store::Record> for Event {
    fn from(r: conveyor_store::Record) -> Self {
        Self {
            position: r.position,
            stream: r.stream,
            version: r.version,
            id: r.id,
            event_type: r.event_type,
            schema_version: r.schema_version,
            payload: r.payload,
            actor: r.metadata.actor,
            correlation_id: r.metadata.correlation_id,
            causation_id: r.metadata.causation_id,
            request_id: r.metadata.request_id,
            recorded_at: r.recorded_at,
            hash: r.hash,
        }
    }
}

/// Filters of `GET /api/v1/events`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Only events after this position (the `next_cursor` of the previous page).
    pub after: Option<u64>,
    /// At most this many (1 to 1000, default 100).
    pub limit: Option<usize>,
    /// Only this stream.
    pub stream: Option<String>,
    /// Only streams starting with this.
    pub stream_prefix: Option<String>,
    /// Only these types, comma-separated.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// Only events by this actor.
    pub actor: Option<String>,
    /// Only events recorded at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Only events recorded before this time (RFC 3339).
    pub to: Option<DateTime<Utc>>,
}

/// The result of verifying the hash chain.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct VerifyResult {
    /// Whether every checked record matched.
    pub intact: bool,
    /// First position checked.
    pub from: u64,
    /// Last position checked.
    pub to: u64,
    /// How many were checked.
    pub checked: u64,
    /// The first bad position.
    pub first_bad_position: Option<u64>,
    /// Why it is bad.
    pub reason: Option<String>,
}

/// Range of `GET /api/v1/events/verify`.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyQuery {
    /// First position (default 1).
    pub from: Option<u64>,
    /// Last position (default: the head).
    pub to: Option<u64>,
}

/// Filters of build lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ProjectQuery {
    /// Only this project.
    pub project: Option<String>,
}

/// Filters of deployment lists.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeploymentQuery {
    /// Only this project.
    pub project: Option<String>,
    /// Only this environment.
    pub environment: Option<String>,
    /// Only this release.
    pub release: Option<Uuid>,
}
