//! Lifecycle: a named path through environments that projects share — ordered phases, each
//! listing its environments (deployed automatically or by hand) and what the phase requires
//! before a release may progress past it. A release snapshots the lifecycle it follows when
//! it is created (`ReleaseLifecycle`), so later edits change only later releases.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{Aggregate, project::LifecycleStage, refuse};
use crate::{
    error::DomainError,
    names::{EnvironmentName, LifecycleName},
};

/// What a phase requires before a release may progress to the phases after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Progression {
    /// The release succeeded in every environment of the phase.
    All,
    /// The release succeeded in at least `count` of the phase's environments.
    AtLeast {
        /// How many.
        count: u32,
    },
    /// Nothing: the phase may be skipped.
    Optional,
}

/// One phase of a lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Phase {
    /// Name, e.g. `Test`.
    pub name: String,
    /// Its environments; within a phase they may be deployed in any order.
    pub environments: Vec<LifecycleStage>,
    /// What it requires to progress.
    pub progression: Progression,
}

impl Phase {
    fn environment_list(&self) -> String {
        self.environments
            .iter()
            .map(|s| s.environment.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why the phase's requirement is not met by the environments the release `succeeded`
    /// in, or `None` when it is.
    pub fn unmet(&self, succeeded: &BTreeSet<&EnvironmentName>) -> Option<String> {
        let done: Vec<&str> = self
            .environments
            .iter()
            .filter(|s| succeeded.contains(&s.environment))
            .map(|s| s.environment.as_str())
            .collect();
        match self.progression {
            Progression::All if done.len() < self.environments.len() => {
                let missing: Vec<&str> = self
                    .environments
                    .iter()
                    .filter(|s| !succeeded.contains(&s.environment))
                    .map(|s| s.environment.as_str())
                    .collect();
                Some(format!(
                    "phase {} requires success in all of its environments ({}); not yet in {}",
                    self.name,
                    self.environment_list(),
                    missing.join(", ")
                ))
            }
            Progression::AtLeast { count } if (done.len() as u64) < u64::from(count) => {
                Some(format!(
                    "phase {} requires success in at least {count} of its environments ({}); \
                     succeeded in {}{}",
                    self.name,
                    self.environment_list(),
                    done.len(),
                    if done.is_empty() {
                        String::new()
                    } else {
                        format!(" ({})", done.join(", "))
                    }
                ))
            }
            _ => None,
        }
    }

    /// When the release met the phase's requirement, from the times it first succeeded in
    /// each environment: the last success for `all`, the `count`-th for `at least`, the last
    /// success (if any) for an optional phase.
    fn met_at(
        &self,
        first_success: &BTreeMap<EnvironmentName, DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        let mut times: Vec<DateTime<Utc>> = self
            .environments
            .iter()
            .filter_map(|s| first_success.get(&s.environment).copied())
            .collect();
        times.sort();
        match self.progression {
            Progression::All => (times.len() == self.environments.len())
                .then(|| times.last().copied())
                .flatten(),
            Progression::AtLeast { count } => {
                times.get((count as usize).saturating_sub(1)).copied()
            }
            Progression::Optional => times.last().copied(),
        }
    }
}

/// The lifecycle a release follows, as it was when the release was created.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(from = "ReleaseLifecycleRecord")]
pub struct ReleaseLifecycle {
    /// The shared lifecycle it came from (`None`: the project's own list of stages).
    #[serde(default)]
    pub name: Option<LifecycleName>,
    /// The project's channel that chose it.
    #[serde(default)]
    pub channel: Option<String>,
    /// Its phases.
    pub phases: Vec<Phase>,
}

/// How a release's lifecycle is stored: phases, or (in events written before lifecycles had
/// phases) a plain list of stages, read as one `all` phase per stage.
#[derive(Deserialize)]
#[serde(untagged)]
enum ReleaseLifecycleRecord {
    Phases {
        #[serde(default)]
        name: Option<LifecycleName>,
        #[serde(default)]
        channel: Option<String>,
        phases: Vec<Phase>,
    },
    Stages(Vec<LifecycleStage>),
}

impl From<ReleaseLifecycleRecord> for ReleaseLifecycle {
    fn from(record: ReleaseLifecycleRecord) -> Self {
        match record {
            ReleaseLifecycleRecord::Phases {
                name,
                channel,
                phases,
            } => Self {
                name,
                channel,
                phases,
            },
            ReleaseLifecycleRecord::Stages(stages) => Self::from_stages(&stages),
        }
    }
}

impl ReleaseLifecycle {
    /// A project's own list of stages as a lifecycle: one phase per stage, each required.
    pub fn from_stages(stages: &[LifecycleStage]) -> Self {
        Self {
            name: None,
            channel: None,
            phases: stages
                .iter()
                .map(|stage| Phase {
                    name: stage.environment.to_string(),
                    environments: vec![stage.clone()],
                    progression: Progression::All,
                })
                .collect(),
        }
    }

    /// A shared lifecycle, chosen by a project's channel.
    pub fn from_spec(spec: &LifecycleSpec, channel: Option<String>) -> Self {
        Self {
            name: Some(spec.name.clone()),
            channel,
            phases: spec.phases.clone(),
        }
    }

    /// The index of the phase holding `environment`.
    pub fn phase_of(&self, environment: &EnvironmentName) -> Option<usize> {
        self.phases
            .iter()
            .position(|p| p.environments.iter().any(|s| &s.environment == environment))
    }

    /// The first unmet requirement of the phases before `phase`, given where the release
    /// succeeded.
    pub fn unmet_before(
        &self,
        phase: usize,
        succeeded: &BTreeMap<EnvironmentName, DateTime<Utc>>,
    ) -> Option<String> {
        let succeeded: BTreeSet<&EnvironmentName> = succeeded.keys().collect();
        self.phases[..phase.min(self.phases.len())]
            .iter()
            .find_map(|p| p.unmet(&succeeded))
    }

    /// The environments the workflow deploys to by itself: the automatic ones of every phase
    /// the release may enter now (each phase up to the first whose requirement is unmet).
    pub fn automatic_targets(
        &self,
        succeeded: &BTreeMap<EnvironmentName, DateTime<Utc>>,
    ) -> Vec<EnvironmentName> {
        let done: BTreeSet<&EnvironmentName> = succeeded.keys().collect();
        let mut targets = Vec::new();
        for phase in &self.phases {
            targets.extend(
                phase
                    .environments
                    .iter()
                    .filter(|s| s.automatic)
                    .map(|s| s.environment.clone()),
            );
            if phase.unmet(&done).is_some() {
                break;
            }
        }
        targets
    }

    /// Since when the release has been ready for `phase`: when it met the requirement of the
    /// nearest earlier phase it was deployed in (`None` when it entered no earlier phase).
    pub fn ready_since(
        &self,
        phase: usize,
        first_success: &BTreeMap<EnvironmentName, DateTime<Utc>>,
    ) -> Option<DateTime<Utc>> {
        self.phases[..phase.min(self.phases.len())]
            .iter()
            .rev()
            .find_map(|p| p.met_at(first_success))
    }
}

/// Everything a shared lifecycle is defined by.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LifecycleSpec {
    /// Name.
    pub name: LifecycleName,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Ordered phases.
    pub phases: Vec<Phase>,
}

impl LifecycleSpec {
    /// Checks the phases: named, unique, not empty, known environments each named once,
    /// sensible requirements.
    pub fn validate(&self, environments: &BTreeSet<EnvironmentName>) -> Result<(), DomainError> {
        if self.phases.is_empty() {
            return refuse("invalid-lifecycle", "a lifecycle needs at least one phase");
        }
        let mut names = BTreeSet::new();
        let mut seen = BTreeSet::new();
        for (index, phase) in self.phases.iter().enumerate() {
            if phase.name.trim().is_empty() || !names.insert(phase.name.as_str()) {
                return refuse(
                    "invalid-lifecycle",
                    format!("phases[{index}] needs a name no other phase has"),
                );
            }
            if phase.environments.is_empty() {
                return refuse(
                    "invalid-lifecycle",
                    format!("phase {} lists no environment", phase.name),
                );
            }
            for stage in &phase.environments {
                if !environments.contains(&stage.environment) {
                    return refuse(
                        "unknown-environment",
                        format!(
                            "phase {} names environment {}, which does not exist",
                            phase.name, stage.environment
                        ),
                    );
                }
                if !seen.insert(&stage.environment) {
                    return refuse(
                        "invalid-lifecycle",
                        format!(
                            "environment {} appears twice in the lifecycle",
                            stage.environment
                        ),
                    );
                }
            }
            if let Progression::AtLeast { count } = phase.progression
                && (count == 0 || count as usize > phase.environments.len())
            {
                return refuse(
                    "invalid-lifecycle",
                    format!(
                        "phase {} requires at least {count} of its {} environments; give 1 to {}",
                        phase.name,
                        phase.environments.len(),
                        phase.environments.len()
                    ),
                );
            }
        }
        Ok(())
    }
}

/// Events of `lifecycle-<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum LifecycleEvent {
    /// The lifecycle was created.
    LifecycleCreated {
        /// Its definition.
        spec: LifecycleSpec,
    },
    /// Its definition was replaced (releases already created keep theirs).
    LifecycleUpdated {
        /// Its new definition.
        spec: LifecycleSpec,
    },
}

/// A lifecycle as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LifecycleState {
    /// None until created.
    pub spec: Option<LifecycleSpec>,
}

impl Aggregate for LifecycleState {
    type Event = LifecycleEvent;

    fn evolve(self, event: &LifecycleEvent) -> Self {
        match event {
            LifecycleEvent::LifecycleCreated { spec }
            | LifecycleEvent::LifecycleUpdated { spec } => Self {
                spec: Some(spec.clone()),
            },
        }
    }
}

impl LifecycleState {
    /// Creates the lifecycle (`update: false`) or replaces its definition (`update: true`),
    /// given the environments that exist.
    pub fn decide(
        &self,
        spec: LifecycleSpec,
        update: bool,
        environments: &BTreeSet<EnvironmentName>,
    ) -> Result<Vec<LifecycleEvent>, DomainError> {
        match (&self.spec, update) {
            (Some(_), false) => refuse(
                "lifecycle-exists",
                format!("lifecycle {} already exists", spec.name),
            ),
            (None, true) => refuse(
                "lifecycle-missing",
                format!("lifecycle {} does not exist", spec.name),
            ),
            (_, false) => {
                spec.validate(environments)?;
                Ok(vec![LifecycleEvent::LifecycleCreated { spec }])
            }
            (_, true) => {
                spec.validate(environments)?;
                Ok(vec![LifecycleEvent::LifecycleUpdated { spec }])
            }
        }
    }
}
