//! Conveyor's domain: aggregates with pure `decide`/`evolve`, the read model projected from the
//! log, the process manager that drives the workflow, and rollback by replay.
//!
//! The engine does no HTTP and no SQL: it talks to the log through `conveyor_store::EventStore`.

pub mod aggregate;
mod checkpoint;
pub mod error;
pub mod ids;
pub mod model;
pub mod names;
pub mod pipelines;
pub mod process;
pub mod replay;
pub mod retention;
pub mod rollback;
pub mod service;
pub mod status;

pub use aggregate::{
    build::{BuildEvent, BuildState, BuildStatus},
    deployment::{
        ApprovalDecision, ApprovalPolicy, DeploymentEvent, DeploymentKind, DeploymentState,
        DeploymentStatus,
    },
    environment::{EnvironmentEvent, EnvironmentState},
    job::{JobEvent, Lease, StepOutcome, StepReport},
    project::{
        BuildPlan, BuildStep, DeploymentStep, LifecycleStage, ProjectEvent, ProjectSpec,
        ProjectState, Variable,
    },
    push::{PushEvent, PushReport},
    release::{Artifact, ReleaseEvent, ReleaseState},
};
pub use error::{DomainError, EngineError};
pub use names::{EnvironmentName, LifecycleName, ProjectName};
pub use service::{Actor, CommandContext, Engine, EngineConfig};
