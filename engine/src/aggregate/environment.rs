//! Environment: a deployment target with its approval policy.

use serde::{Deserialize, Serialize};

use super::{Aggregate, refuse};
use crate::{aggregate::deployment::ApprovalPolicy, error::DomainError, names::EnvironmentName};

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
    },
}

/// An environment as its stream says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EnvironmentState {
    /// None until created.
    pub name: Option<EnvironmentName>,
    /// Free text.
    pub description: String,
    /// Approval policy.
    pub policy: ApprovalPolicy,
}

impl Aggregate for EnvironmentState {
    type Event = EnvironmentEvent;

    fn evolve(self, event: &EnvironmentEvent) -> Self {
        match event {
            EnvironmentEvent::EnvironmentCreated {
                name,
                description,
                policy,
            } => Self {
                name: Some(name.clone()),
                description: description.clone(),
                policy: policy.clone(),
            },
        }
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
                }])
            }
        }
    }
}
