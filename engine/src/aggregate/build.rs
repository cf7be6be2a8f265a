//! Build: one execution of a project's build plan at one commit, run by an agent as a job.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Aggregate,
    job::{JobCommand, JobDecision, JobEvent, JobState, Lease, LeaseExtension, StepReport},
    project::{BuildPlan, PlanSource},
    refuse,
    release::Artifact,
};
use crate::{error::DomainError, names::ProjectName};

/// Where a build is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BuildStatus {
    /// Waiting for an agent (also after a lapsed lease).
    #[default]
    Queued,
    /// An agent runs it.
    Running,
    /// Every step succeeded.
    Succeeded,
    /// A step failed.
    Failed,
    /// Cancelled by a person.
    Cancelled,
}

impl BuildStatus {
    /// Whether the build has ended.
    pub fn is_finished(self) -> bool {
        matches!(self, Self::Succeeded | Self::Failed | Self::Cancelled)
    }
}

/// An artifact reported under a lease.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ArtifactReport {
    /// The lease.
    pub lease_id: Uuid,
    /// The artifact.
    #[serde(flatten)]
    pub artifact: Artifact,
}

/// Events of `build-<uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum BuildEvent {
    /// A push (or a person) queued the build.
    BuildQueued {
        /// The build's id.
        build_id: Uuid,
        /// The project built.
        project: ProjectName,
        /// The push that caused it.
        push_id: Option<Uuid>,
        /// Repository URL.
        repository: String,
        /// Branch built.
        branch: String,
        /// Commit built.
        commit: String,
        /// The plan, as the project had it.
        plan: BuildPlan,
        /// Whether the agent takes the plan from the repository instead.
        #[serde(default)]
        plan_source: PlanSource,
    },
    /// An agent leased the job.
    JobLeased(Lease),
    /// The agent's heartbeat extended the lease.
    JobLeaseExtended(LeaseExtension),
    /// The agent started running it.
    BuildStarted {
        /// The lease.
        lease_id: Uuid,
        /// The agent.
        agent: String,
    },
    /// A step ended.
    StepReported(StepReport),
    /// An artifact was kept.
    ArtifactReported(ArtifactReport),
    /// Every step succeeded.
    BuildSucceeded {
        /// The lease.
        lease_id: Uuid,
    },
    /// The build failed.
    BuildFailed {
        /// The lease.
        lease_id: Option<Uuid>,
        /// Why.
        reason: String,
    },
    /// Someone cancelled it.
    BuildCancelled {
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
}

/// Commands for a build.
#[derive(Debug, Clone)]
pub enum BuildCommand {
    /// Queue a new build.
    Queue {
        /// New build id.
        build_id: Uuid,
        /// Project.
        project: ProjectName,
        /// Causing push.
        push_id: Option<Uuid>,
        /// Repository URL.
        repository: String,
        /// Branch.
        branch: String,
        /// Commit.
        commit: String,
        /// Plan.
        plan: BuildPlan,
        /// Where the agent takes the plan from.
        plan_source: PlanSource,
    },
    /// A job-protocol command.
    Job(JobCommand),
    /// Report an artifact.
    ReportArtifact(ArtifactReport),
    /// Cancel it.
    Cancel {
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
}

/// A build as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct BuildState {
    /// The id; None until queued.
    pub id: Option<Uuid>,
    /// Project.
    pub project: Option<ProjectName>,
    /// Causing push.
    pub push_id: Option<Uuid>,
    /// Repository URL.
    pub repository: String,
    /// Branch.
    pub branch: String,
    /// Commit.
    pub commit: String,
    /// Plan.
    pub plan: BuildPlan,
    /// Where the agent takes the plan from.
    pub plan_source: PlanSource,
    /// Status.
    pub status: BuildStatus,
    /// Job protocol state.
    pub job: JobState,
    /// Artifacts kept.
    pub artifacts: Vec<Artifact>,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
}

impl Aggregate for BuildState {
    type Event = BuildEvent;

    fn evolve(mut self, event: &BuildEvent) -> Self {
        match event {
            BuildEvent::BuildQueued {
                build_id,
                project,
                push_id,
                repository,
                branch,
                commit,
                plan,
                plan_source,
            } => {
                self.plan_source = *plan_source;
                self.id = Some(*build_id);
                self.project = Some(project.clone());
                self.push_id = *push_id;
                self.repository = repository.clone();
                self.branch = branch.clone();
                self.commit = commit.clone();
                self.plan = plan.clone();
                self.status = BuildStatus::Queued;
            }
            BuildEvent::JobLeased(lease) => {
                self.job.evolve(&JobEvent::Leased(lease.clone()));
                // A new lease after a lapsed one starts the job again.
                self.status = BuildStatus::Queued;
                self.artifacts.clear();
            }
            BuildEvent::JobLeaseExtended(extension) => {
                self.job.evolve(&JobEvent::Extended(extension.clone()));
            }
            BuildEvent::BuildStarted { .. } => self.status = BuildStatus::Running,
            BuildEvent::StepReported(step) => self.job.evolve(&JobEvent::Step(step.clone())),
            BuildEvent::ArtifactReported(report) => self.artifacts.push(report.artifact.clone()),
            BuildEvent::BuildSucceeded { .. } => self.status = BuildStatus::Succeeded,
            BuildEvent::BuildFailed { reason, .. } => {
                self.status = BuildStatus::Failed;
                self.reason = Some(reason.clone());
            }
            BuildEvent::BuildCancelled { reason, .. } => {
                self.status = BuildStatus::Cancelled;
                self.reason = Some(reason.clone());
            }
        }
        self
    }
}

impl BuildState {
    /// Whether an agent may lease this build now.
    pub fn leasable(&self, now: DateTime<Utc>) -> bool {
        self.id.is_some() && !self.status.is_finished() && self.job.leasable(now)
    }

    fn require_active(&self) -> Result<Uuid, DomainError> {
        let Some(id) = self.id else {
            return refuse("build-missing", "the build does not exist");
        };
        if self.status.is_finished() {
            return refuse(
                "build-finished",
                format!("build {id} has already {}", status_word(self.status)),
            );
        }
        Ok(id)
    }

    /// Decides a command at time `now`.
    pub fn decide(
        &self,
        command: BuildCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<BuildEvent>, DomainError> {
        match command {
            BuildCommand::Queue {
                build_id,
                project,
                push_id,
                repository,
                branch,
                commit,
                plan,
                plan_source,
            } => {
                if self.id.is_some() {
                    return refuse("build-exists", format!("build {build_id} already exists"));
                }
                Ok(vec![BuildEvent::BuildQueued {
                    build_id,
                    project,
                    push_id,
                    repository,
                    branch,
                    commit,
                    plan,
                    plan_source,
                }])
            }
            BuildCommand::Cancel { by, reason } => {
                self.require_active()?;
                Ok(vec![BuildEvent::BuildCancelled { by, reason }])
            }
            BuildCommand::ReportArtifact(report) => {
                self.require_active()?;
                self.job.check_started(
                    report.lease_id,
                    self.status == BuildStatus::Running,
                    now,
                )?;
                report.artifact.validate()?;
                Ok(vec![BuildEvent::ArtifactReported(report)])
            }
            BuildCommand::Job(job) => self.decide_job(job, now),
        }
    }

    fn decide_job(
        &self,
        command: JobCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<BuildEvent>, DomainError> {
        self.require_active()?;
        let started = self.status == BuildStatus::Running;
        Ok(vec![match self.job.decide(command, started, now)? {
            JobDecision::Leased(lease) => BuildEvent::JobLeased(lease),
            JobDecision::Extended(extension) => BuildEvent::JobLeaseExtended(extension),
            JobDecision::Started { lease_id, agent } => {
                BuildEvent::BuildStarted { lease_id, agent }
            }
            JobDecision::Step(step) => BuildEvent::StepReported(step),
            JobDecision::Succeeded { lease_id } => BuildEvent::BuildSucceeded { lease_id },
            JobDecision::Failed { lease_id, reason } => BuildEvent::BuildFailed {
                lease_id: Some(lease_id),
                reason,
            },
        }])
    }
}

fn status_word(status: BuildStatus) -> &'static str {
    match status {
        BuildStatus::Queued => "been queued",
        BuildStatus::Running => "started",
        BuildStatus::Succeeded => "succeeded",
        BuildStatus::Failed => "failed",
        BuildStatus::Cancelled => "been cancelled",
    }
}
