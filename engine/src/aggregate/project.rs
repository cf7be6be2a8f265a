//! Project: one deployable application — repository, branch filter, build plan, deployment
//! steps, variables and lifecycle.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::{Aggregate, refuse};
use crate::{
    error::DomainError,
    names::{EnvironmentName, LifecycleName, ProjectName},
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
    /// Extra environment variables for this step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// How long the step may run before it is killed (the agent's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
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
    /// Extra environment variables for this step.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environment: BTreeMap<String, String>,
    /// How long the step may run before it is killed (the agent's default when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
}

/// A project variable: a default value and per-environment values; the most specific scope
/// wins. A sensitive variable's values are sealed by the API before they reach the engine, so
/// the log never holds them in clear text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    /// Name, e.g. `DATABASE_URL`.
    pub name: String,
    /// The default value (sealed when sensitive); `None` when only some environments set it.
    pub value: Option<String>,
    /// Whether the values are secrets.
    #[serde(default)]
    pub sensitive: bool,
    /// Values for particular environments (sealed when sensitive).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<EnvironmentName, String>,
}

/// Which scope a resolved variable's value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VariableScope {
    /// The variable's default value.
    Default,
    /// The value for one environment.
    Environment(EnvironmentName),
}

/// A variable's value for one environment, and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResolvedVariable {
    /// Name.
    pub name: String,
    /// The value (still sealed when sensitive).
    pub value: String,
    /// Whether it is a secret.
    pub sensitive: bool,
    /// The scope that supplied it.
    pub scope: VariableScope,
}

/// Resolves variables for `environment`: its own value when set, else the default; variables
/// with neither are left out.
pub fn resolve_variables(
    variables: &[Variable],
    environment: &EnvironmentName,
) -> Vec<ResolvedVariable> {
    variables
        .iter()
        .filter_map(|variable| {
            let (value, scope) = match variable.environments.get(environment) {
                Some(value) => (
                    value.clone(),
                    VariableScope::Environment(environment.clone()),
                ),
                None => (variable.value.clone()?, VariableScope::Default),
            };
            Some(ResolvedVariable {
                name: variable.name.clone(),
                value,
                sensitive: variable.sensitive,
                scope,
            })
        })
        .collect()
}

/// Where a project's build plan comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlanSource {
    /// The project's definition (its steps or its pipelines document).
    #[default]
    Project,
    /// `bitbucket-pipelines.yml` at the pushed commit, read by the agent after checkout.
    Repository,
}

/// One stage of a lifecycle: an environment, deployed automatically or manually.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleStage {
    /// The environment.
    pub environment: EnvironmentName,
    /// Whether a release is deployed here as soon as it may be.
    pub automatic: bool,
}

/// Which releases keep their artifact bytes and logs: the last `keep_releases_per_environment`
/// releases that succeeded in each environment, every release live anywhere, the newest that
/// many releases of the project, and any release with a deployment still under way. Others
/// lose them (recorded as `ReleaseContentDeleted`; the history stays).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RetentionPolicy {
    /// How many releases to keep per environment (at least 1).
    pub keep_releases_per_environment: u32,
}

/// A channel: releases of builds from branches matching `branch` follow `lifecycle`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Channel {
    /// Name, unique in the project.
    pub name: String,
    /// Branch (or tag) glob, e.g. `feature/*`.
    pub branch: String,
    /// The shared lifecycle its releases follow.
    pub lifecycle: LifecycleName,
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
    /// The build plan as a Bitbucket Pipelines document, chosen per branch at build time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipelines: Option<String>,
    /// Where the plan comes from.
    #[serde(default)]
    pub plan_source: PlanSource,
    /// Whether pushed tags are built too (branches matching `branch` always are).
    #[serde(default)]
    pub build_tags: bool,
    /// The deployment steps.
    pub deployment_steps: Vec<DeploymentStep>,
    /// Variables.
    pub variables: Vec<Variable>,
    /// The project's own lifecycle: ordered stages, each its own required phase. Releases
    /// follow it when no channel matches their branch.
    pub lifecycle: Vec<LifecycleStage>,
    /// Channels, first match wins: the branch of a release's build picks a shared lifecycle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub channels: Vec<Channel>,
    /// Retention of artifacts and logs (none: keep everything).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention: Option<RetentionPolicy>,
}

/// A repository URL reduced to what names the repository: no scheme, user, `.git` suffix or
/// trailing slash, host in lowercase — so `git@host:team/app.git`, `ssh://git@host/team/app`
/// and `https://host/team/app.git` are one repository.
pub fn repository_key(url: &str) -> String {
    let url = url.trim();
    let without_scheme = url.split_once("://").map_or(url, |(_, rest)| rest);
    // scp-like `user@host:path` → `host/path`.
    let without_user = without_scheme
        .rsplit_once('@')
        .map_or(without_scheme, |(_, rest)| rest);
    let path_like = match without_user.split_once(':') {
        Some((host, rest)) if !url.contains("://") && !rest.starts_with('/') => {
            format!("{host}/{rest}")
        }
        _ => without_user.to_owned(),
    };
    let trimmed = path_like.trim_end_matches('/');
    let trimmed = trimmed.strip_suffix(".git").unwrap_or(trimmed);
    match trimmed.split_once('/') {
        Some((host, path)) => format!("{}/{path}", host.to_ascii_lowercase()),
        None => trimmed.to_ascii_lowercase(),
    }
}

impl ProjectSpec {
    /// What a push builds for this project: the branch (or tag) name to build, or `None` when
    /// the push is for another repository, deletes its ref, is on a branch the project does
    /// not follow, or is a tag and the project does not build tags.
    pub fn builds_for(&self, push: &super::push::PushReport) -> Option<String> {
        if push.deleted || repository_key(&push.repository) != repository_key(&self.repository) {
            return None;
        }
        if let Some(tag) = push.tag() {
            return self.build_tags.then(|| tag.to_owned());
        }
        let branch = push.branch()?;
        crate::names::glob_matches(&self.branch, branch).then(|| branch.to_owned())
    }

    /// The build plan for a push to `branch`: the pipelines document's plan for the branch
    /// when the project has one, else its steps. (With `PlanSource::Repository` the agent
    /// replaces it with the repository's document.)
    pub fn plan_for_branch(&self, branch: &str) -> Result<BuildPlan, DomainError> {
        match &self.pipelines {
            Some(pipelines) => crate::pipelines::plan_for_branch(pipelines, branch)
                .map_err(|err| DomainError::new("invalid-pipelines", format!("pipelines: {err}"))),
            None => Ok(self.build_plan.clone()),
        }
    }

    /// The channel a build of `branch` releases into: the first whose glob matches.
    pub fn channel_for(&self, branch: &str) -> Option<&Channel> {
        self.channels
            .iter()
            .find(|c| crate::names::glob_matches(&c.branch, branch))
    }

    /// Checks the spec's own rules, that its lifecycle names known environments and that its
    /// channels name known lifecycles.
    pub fn validate(&self, known: &Known) -> Result<(), DomainError> {
        let environments = &known.environments;
        if self
            .retention
            .is_some_and(|r| r.keep_releases_per_environment == 0)
        {
            return refuse(
                "invalid-project",
                "retention.keep_releases_per_environment must be at least 1",
            );
        }
        let mut channels = BTreeSet::new();
        for channel in &self.channels {
            if channel.name.trim().is_empty() || !channels.insert(channel.name.as_str()) {
                return refuse(
                    "invalid-project",
                    format!(
                        "channel names must be unique and not empty: {:?}",
                        channel.name
                    ),
                );
            }
            if channel.branch.trim().is_empty() {
                return refuse(
                    "invalid-project",
                    format!("channel {} needs a branch pattern", channel.name),
                );
            }
            if !known.lifecycles.contains(&channel.lifecycle) {
                return refuse(
                    "unknown-lifecycle",
                    format!(
                        "channel {} names lifecycle {}, which does not exist",
                        channel.name, channel.lifecycle
                    ),
                );
            }
        }
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
        for variable in &self.variables {
            if let Some(unknown) = variable
                .environments
                .keys()
                .find(|e| !environments.contains(*e))
            {
                return refuse(
                    "unknown-environment",
                    format!(
                        "variable {} has a value for environment {unknown}, which does not exist",
                        variable.name
                    ),
                );
            }
        }
        if let Some(pipelines) = &self.pipelines {
            if let Err(err) = crate::pipelines::validate(pipelines) {
                return refuse("invalid-pipelines", format!("pipelines: {err}"));
            }
            if !self.build_plan.steps.is_empty() {
                return refuse(
                    "invalid-project",
                    "give the build plan as steps or as pipelines, not both",
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

/// The names a project definition may refer to.
#[derive(Debug, Clone, Default)]
pub struct Known {
    /// Environments that exist.
    pub environments: BTreeSet<EnvironmentName>,
    /// Lifecycles that exist.
    pub lifecycles: BTreeSet<LifecycleName>,
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
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
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
    /// Decides a command, given the environments and lifecycles that exist.
    pub fn decide(
        &self,
        command: ProjectCommand,
        known: &Known,
    ) -> Result<Vec<ProjectEvent>, DomainError> {
        match command {
            ProjectCommand::Create(spec) => {
                if self.spec.is_some() {
                    return refuse(
                        "project-exists",
                        format!("project {} already exists", spec.name),
                    );
                }
                spec.validate(known)?;
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
                spec.validate(known)?;
                Ok(vec![ProjectEvent::ProjectUpdated { spec }])
            }
        }
    }
}
