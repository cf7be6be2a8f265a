//! Environment: a deployment target with its approval policy, its rollback policy, and the
//! promotion holds placed on it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{Aggregate, freeze::Freeze, refuse};
use crate::{
    aggregate::deployment::ApprovalPolicy,
    error::DomainError,
    names::{EnvironmentName, ProjectName},
};

/// Events of `environment-<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum EnvironmentEvent {
    /// The environment was created.
    EnvironmentCreated {
        /// Its name.
        name: EnvironmentName,
        /// Free text.
        #[serde(default)]
        description: String,
        /// Who must approve deployments into it.
        policy: ApprovalPolicy,
        /// Whether a failed deployment is rolled back automatically.
        #[serde(default)]
        auto_rollback: bool,
        /// How long a release must have been ready in the phase before (soak time) before
        /// it may be deployed here.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        soak_seconds: Option<u64>,
    },
    /// Automatic promotion of a project into the environment stops until a person promotes
    /// (after an automatic rollback, so the failed release is not redeployed by itself).
    PromotionHeld {
        /// The project.
        project: ProjectName,
        /// Why.
        reason: String,
    },
    /// A person promoted the project again: automatic promotion resumes.
    PromotionHoldReleased {
        /// The project.
        project: ProjectName,
        /// Who.
        by: String,
    },
    /// A freeze window was added.
    FreezeAdded {
        /// The freeze.
        freeze: Freeze,
    },
    /// A freeze window was removed.
    FreezeRemoved {
        /// Its id.
        id: uuid::Uuid,
        /// Who.
        by: String,
    },
}

/// Commands for an environment.
#[derive(Debug, Clone)]
pub enum EnvironmentCommand {
    /// Create it.
    Create {
        /// Its name.
        name: EnvironmentName,
        /// Free text.
        description: String,
        /// Approval policy.
        policy: ApprovalPolicy,
        /// Roll back failed deployments automatically.
        auto_rollback: bool,
        /// Soak time required before a release may be deployed here.
        soak_seconds: Option<u64>,
    },
    /// Hold automatic promotion of a project.
    Hold {
        /// The project.
        project: ProjectName,
        /// Why.
        reason: String,
    },
    /// Release a project's hold (a person promoted it).
    ReleaseHold {
        /// The project.
        project: ProjectName,
        /// Who.
        by: String,
    },
    /// Add a freeze window.
    AddFreeze(Freeze),
    /// Remove a freeze window.
    RemoveFreeze {
        /// Its id.
        id: uuid::Uuid,
        /// Who.
        by: String,
    },
}

/// An environment as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct EnvironmentState {
    /// None until created.
    pub name: Option<EnvironmentName>,
    /// Free text.
    pub description: String,
    /// Approval policy.
    pub policy: ApprovalPolicy,
    /// Whether failed deployments are rolled back automatically.
    pub auto_rollback: bool,
    /// Soak time required before a release may be deployed here.
    pub soak_seconds: Option<u64>,
    /// Projects whose automatic promotion is held, and why.
    pub holds: BTreeMap<ProjectName, String>,
    /// Freeze windows.
    pub freezes: Vec<Freeze>,
}

impl EnvironmentState {
    /// The reason of the first freeze that stops a deployment of `project` at `now`.
    pub fn frozen_for(
        &self,
        project: &ProjectName,
        rollback: bool,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<String> {
        self.freezes
            .iter()
            .find(|f| f.stops(project, rollback, now))
            .map(|f| f.reason.clone())
    }
}

impl Aggregate for EnvironmentState {
    type Event = EnvironmentEvent;

    fn evolve(mut self, event: &EnvironmentEvent) -> Self {
        match event {
            EnvironmentEvent::EnvironmentCreated {
                name,
                description,
                policy,
                auto_rollback,
                soak_seconds,
            } => {
                self.soak_seconds = *soak_seconds;
                self.name = Some(name.clone());
                self.description = description.clone();
                self.policy = policy.clone();
                self.auto_rollback = *auto_rollback;
            }
            EnvironmentEvent::PromotionHeld { project, reason } => {
                self.holds.insert(project.clone(), reason.clone());
            }
            EnvironmentEvent::PromotionHoldReleased { project, .. } => {
                self.holds.remove(project);
            }
            EnvironmentEvent::FreezeAdded { freeze } => self.freezes.push(freeze.clone()),
            EnvironmentEvent::FreezeRemoved { id, .. } => self.freezes.retain(|f| f.id != *id),
        }
        self
    }
}

impl EnvironmentState {
    /// Decides a command.
    pub fn decide(
        &self,
        command: EnvironmentCommand,
    ) -> Result<Vec<EnvironmentEvent>, DomainError> {
        match command {
            EnvironmentCommand::Create {
                name,
                description,
                policy,
                auto_rollback,
                soak_seconds,
            } => {
                if self.name.is_some() {
                    return refuse(
                        "environment-exists",
                        format!("environment {name} already exists"),
                    );
                }
                policy.validate()?;
                Ok(vec![EnvironmentEvent::EnvironmentCreated {
                    name,
                    description,
                    policy,
                    auto_rollback,
                    soak_seconds,
                }])
            }
            EnvironmentCommand::Hold { project, reason } => {
                if self.name.is_none() {
                    return refuse("environment-missing", "the environment does not exist");
                }
                Ok(vec![EnvironmentEvent::PromotionHeld { project, reason }])
            }
            EnvironmentCommand::AddFreeze(freeze) => {
                if self.name.is_none() {
                    return refuse("environment-missing", "the environment does not exist");
                }
                if freeze.reason.trim().is_empty() {
                    return refuse("invalid-freeze", "a freeze needs a reason");
                }
                freeze.window.validate()?;
                Ok(vec![EnvironmentEvent::FreezeAdded { freeze }])
            }
            EnvironmentCommand::RemoveFreeze { id, by } => {
                if !self.freezes.iter().any(|f| f.id == id) {
                    return refuse("freeze-missing", format!("there is no freeze {id} here"));
                }
                Ok(vec![EnvironmentEvent::FreezeRemoved { id, by }])
            }
            EnvironmentCommand::ReleaseHold { project, by } => {
                if !self.holds.contains_key(&project) {
                    return refuse(
                        "not-held",
                        format!("project {project} has no promotion hold here"),
                    );
                }
                Ok(vec![EnvironmentEvent::PromotionHoldReleased {
                    project,
                    by,
                }])
            }
        }
    }
}
