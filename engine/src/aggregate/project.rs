//! Project: one deployable application — repository, branch filter, build plan, deployment
//! steps, variables and lifecycle.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::{Aggregate, refuse};
use crate::{
    error::DomainError,
    names::{EnvironmentName, ProjectName},
};

/// One step of a build plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildStep {
    /// Step name.
    pub name: String,
    /// Shell script run by the agent.
    pub script: String,
    /// Globs of files kept as artifacts.
    #[serde(default)]
    pub artifacts: Vec<String>,
}

/// The ordered steps of a build.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BuildPlan {
    /// Steps, run in order.
    pub steps: Vec<BuildStep>,
}

/// One step of a deployment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeploymentStep {
    /// Step name.
    pub name: String,
    /// Shell script run by the agent.
    pub script: String,
}

/// A project variable. A sensitive variable's `value` is sealed by the API before it reaches
/// the engine, so the log never holds it in clear text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Name, e.g. `DATABASE_URL`.
    pub name: String,
    /// Value (sealed when sensitive).
    pub value: String,
    /// Whether the value is a secret.
    #[serde(default)]
    pub sensitive: bool,
}

/// One stage of a lifecycle: an environment, deployed automatically or manually.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleStage {
    /// The environment.
    pub environment: EnvironmentName,
    /// Whether a release is deployed here as soon as it may be.
    pub automatic: bool,
}

/// Everything a project is defined by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectSpec {
    /// Name.
    pub name: ProjectName,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Repository URL, as pushes report it.
    pub repository: String,
    /// Branch glob that triggers builds (`main`, `release/*`).
    pub branch: String,
    /// The build plan.
    pub build_plan: BuildPlan,
    /// The deployment steps.
    pub deployment_steps: Vec<DeploymentStep>,
    /// Variables.
    pub variables: Vec<Variable>,
    /// Ordered environments a release moves through.
    pub lifecycle: Vec<LifecycleStage>,
}

impl ProjectSpec {
    /// Checks the spec's own rules and that its lifecycle names known environments.
    pub fn validate(&self, environments: &BTreeSet<EnvironmentName>) -> Result<(), DomainError> {
        if self.repository.trim().is_empty() {
            return refuse("invalid-project", "repository must not be empty");
        }
        if self.branch.trim().is_empty() {
            return refuse("invalid-project", "branch must not be empty");
        }
        let mut seen = BTreeSet::new();
        for stage in &self.lifecycle {
            if !environments.contains(&stage.environment) {
                return refuse(
                    "unknown-environment",
                    format!(
                        "lifecycle names environment {} which does not exist",
                        stage.environment
                    ),
                );
            }
            if !seen.insert(&stage.environment) {
                return refuse(
                    "invalid-project",
                    format!("lifecycle names environment {} twice", stage.environment),
                );
            }
        }
        let mut names = BTreeSet::new();
        for variable in &self.variables {
            if variable.name.is_empty() || !names.insert(&variable.name) {
                return refuse(
                    "invalid-project",
                    format!(
                        "variable names must be unique and not empty: {:?}",
                        variable.name
                    ),
                );
            }
        }
        for step in &self.build_plan.steps {
            if step.name.trim().is_empty() {
                return refuse("invalid-project", "every build step needs a name");
            }
        }
        for step in &self.deployment_steps {
            if step.name.trim().is_empty() {
                return refuse("invalid-project", "every deployment step needs a name");
            }
        }
        Ok(())
    }
}

/// Events of `project-<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum ProjectEvent {
    /// The project was created.
    ProjectCreated {
        /// Its definition.
        spec: ProjectSpec,
    },
    /// The project's definition was replaced.
    ProjectUpdated {
        /// Its new definition.
        spec: ProjectSpec,
    },
}

/// Commands for a project.
#[derive(Debug, Clone)]
pub enum ProjectCommand {
    /// Create it.
    Create(ProjectSpec),
    /// Replace its definition (the name cannot change).
    Update(ProjectSpec),
}

/// A project as its stream says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProjectState {
    /// None until created.
    pub spec: Option<ProjectSpec>,
}

impl Aggregate for ProjectState {
    type Event = ProjectEvent;

    fn evolve(self, event: &ProjectEvent) -> Self {
        match event {
            ProjectEvent::ProjectCreated { spec } | ProjectEvent::ProjectUpdated { spec } => Self {
                spec: Some(spec.clone()),
            },
        }
    }
}

impl ProjectState {
    /// Decides a command, given the environments that exist.
    pub fn decide(
        &self,
        command: ProjectCommand,
        environments: &BTreeSet<EnvironmentName>,
    ) -> Result<Vec<ProjectEvent>, DomainError> {
        match command {
            ProjectCommand::Create(spec) => {
                if self.spec.is_some() {
                    return refuse(
                        "project-exists",
                        format!("project {} already exists", spec.name),
                    );
                }
                spec.validate(environments)?;
                Ok(vec![ProjectEvent::ProjectCreated { spec }])
            }
            ProjectCommand::Update(spec) => {
                let Some(current) = &self.spec else {
                    return refuse(
                        "project-missing",
                        format!("project {} does not exist", spec.name),
                    );
                };
                if current.name != spec.name {
                    return refuse("project-rename", "a project's name cannot change");
                }
                spec.validate(environments)?;
                Ok(vec![ProjectEvent::ProjectUpdated { spec }])
            }
        }
    }
}
