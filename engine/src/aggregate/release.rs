//! Release: an immutable snapshot of one build's artifacts and the project's deployment steps,
//! variables and lifecycle as they were when it was created.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Aggregate,
    build::{BuildState, BuildStatus},
    lifecycle::ReleaseLifecycle,
    project::{DeploymentStep, ProjectSpec, Variable},
    refuse,
};
use crate::{error::DomainError, names::ProjectName};

/// A build output, content-addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Artifact {
    /// File name (relative path).
    pub name: String,
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

impl Artifact {
    /// Checks the name and digest are well formed.
    pub fn validate(&self) -> Result<(), DomainError> {
        if self.name.trim().is_empty() || self.name.len() > 1024 {
            return refuse(
                "invalid-artifact",
                "artifact name must be 1 to 1024 characters",
            );
        }
        let digest_ok = self.sha256.len() == 64
            && self
                .sha256
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c));
        if !digest_ok {
            return refuse(
                "invalid-artifact",
                "sha256 must be 64 lowercase hexadecimal digits",
            );
        }
        Ok(())
    }
}

/// Events of `release-<uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ReleaseEvent {
    /// The release was created; this is its whole, immutable content.
    ReleaseCreated(Box<ReleaseSnapshot>),
    /// Someone found a defect: the release may not be deployed anywhere until unblocked.
    ReleaseBlocked {
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
    /// The block was lifted.
    ReleaseUnblocked {
        /// Who.
        by: String,
    },
    /// The retention policy deleted the release's artifact bytes and job logs; the release and
    /// its history stay, but it can no longer be deployed.
    ReleaseContentDeleted {
        /// The rule that applied, e.g. `keep the last 3 releases per environment`.
        policy: String,
        /// Artifacts whose bytes were deleted (bytes another kept release shares stay).
        artifacts: Vec<Artifact>,
        /// The jobs (its build and deployments) whose logs were deleted.
        logs: Vec<Uuid>,
    },
}

/// Everything a release holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReleaseSnapshot {
    /// The release's id.
    pub release_id: Uuid,
    /// Project.
    pub project: ProjectName,
    /// Version label, unique within the project.
    pub version: String,
    /// The build it was made from.
    pub build_id: Uuid,
    /// Commit built.
    pub commit: String,
    /// Branch built.
    pub branch: String,
    /// The build's artifacts.
    pub artifacts: Vec<Artifact>,
    /// Deployment steps at creation time.
    pub deployment_steps: Vec<DeploymentStep>,
    /// Variables at creation time (sensitive values sealed).
    pub variables: Vec<Variable>,
    /// The lifecycle it follows, as it was at creation time.
    pub lifecycle: ReleaseLifecycle,
    /// Who created it (`system` when the workflow did).
    pub created_by: String,
}

/// A release as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct ReleaseState {
    /// None until created.
    pub snapshot: Option<ReleaseSnapshot>,
    /// Why it is blocked, when it is.
    pub blocked: Option<String>,
    /// The retention rule that deleted its content, when one did.
    pub content_deleted: Option<String>,
}

impl Aggregate for ReleaseState {
    type Event = ReleaseEvent;

    fn evolve(mut self, event: &ReleaseEvent) -> Self {
        match event {
            ReleaseEvent::ReleaseCreated(snapshot) => self.snapshot = Some((**snapshot).clone()),
            ReleaseEvent::ReleaseBlocked { reason, .. } => self.blocked = Some(reason.clone()),
            ReleaseEvent::ReleaseUnblocked { .. } => self.blocked = None,
            ReleaseEvent::ReleaseContentDeleted { policy, .. } => {
                self.content_deleted = Some(policy.clone())
            }
        }
        self
    }
}

/// What creating a release needs to know.
#[derive(Debug, Clone)]
pub struct CreateRelease<'a> {
    /// New release id.
    pub release_id: Uuid,
    /// Requested version label.
    pub version: String,
    /// The build.
    pub build: &'a BuildState,
    /// The project, as it is now.
    pub project: &'a ProjectSpec,
    /// The lifecycle its channel (or the project) gives it.
    pub lifecycle: ReleaseLifecycle,
    /// Whether the version is already taken in the project.
    pub version_taken: bool,
    /// Who creates it.
    pub created_by: String,
}

impl ReleaseState {
    /// Blocks the release so that it is deployed nowhere (a defect was found).
    pub fn decide_block(
        &self,
        by: String,
        reason: String,
    ) -> Result<Vec<ReleaseEvent>, DomainError> {
        let Some(snapshot) = &self.snapshot else {
            return refuse("release-missing", "the release does not exist");
        };
        if reason.trim().is_empty() {
            return refuse("block-needs-reason", "blocking a release needs a reason");
        }
        if let Some(existing) = &self.blocked {
            return refuse(
                "release-blocked",
                format!(
                    "release {} is already blocked: {existing}",
                    snapshot.version
                ),
            );
        }
        Ok(vec![ReleaseEvent::ReleaseBlocked { by, reason }])
    }

    /// Records that retention deleted the release's content.
    pub fn decide_delete_content(
        &self,
        policy: String,
        artifacts: Vec<Artifact>,
        logs: Vec<Uuid>,
    ) -> Result<Vec<ReleaseEvent>, DomainError> {
        let Some(snapshot) = &self.snapshot else {
            return refuse("release-missing", "the release does not exist");
        };
        if self.content_deleted.is_some() {
            return refuse(
                "release-content-deleted",
                format!("release {}'s content is already deleted", snapshot.version),
            );
        }
        Ok(vec![ReleaseEvent::ReleaseContentDeleted {
            policy,
            artifacts,
            logs,
        }])
    }

    /// Lifts a block.
    pub fn decide_unblock(&self, by: String) -> Result<Vec<ReleaseEvent>, DomainError> {
        let Some(snapshot) = &self.snapshot else {
            return refuse("release-missing", "the release does not exist");
        };
        if self.blocked.is_none() {
            return refuse(
                "release-not-blocked",
                format!("release {} is not blocked", snapshot.version),
            );
        }
        Ok(vec![ReleaseEvent::ReleaseUnblocked { by }])
    }

    /// Creates a release from a succeeded build, snapshotting the project.
    pub fn decide_create(
        &self,
        command: CreateRelease<'_>,
    ) -> Result<Vec<ReleaseEvent>, DomainError> {
        if self.snapshot.is_some() {
            return refuse(
                "release-exists",
                format!("release {} already exists", command.release_id),
            );
        }
        let Some(build_id) = command.build.id else {
            return refuse("build-missing", "the build does not exist");
        };
        if command.build.status != BuildStatus::Succeeded {
            return refuse(
                "build-not-succeeded",
                format!("build {build_id} has not succeeded, so it cannot be released"),
            );
        }
        if command.build.project.as_ref() != Some(&command.project.name) {
            return refuse(
                "build-project-mismatch",
                "the build belongs to another project",
            );
        }
        let version = command.version.trim().to_owned();
        if version.is_empty() || version.len() > 64 {
            return refuse("invalid-version", "version must be 1 to 64 characters");
        }
        if command.version_taken {
            return refuse(
                "version-taken",
                format!(
                    "project {} already has a release {version}",
                    command.project.name
                ),
            );
        }
        Ok(vec![ReleaseEvent::ReleaseCreated(Box::new(
            ReleaseSnapshot {
                release_id: command.release_id,
                project: command.project.name.clone(),
                version,
                build_id,
                commit: command.build.commit.clone(),
                branch: command.build.branch.clone(),
                artifacts: command.build.artifacts.clone(),
                deployment_steps: command.project.deployment_steps.clone(),
                variables: command.project.variables.clone(),
                lifecycle: command.lifecycle,
                created_by: command.created_by,
            },
        ))])
    }
}
