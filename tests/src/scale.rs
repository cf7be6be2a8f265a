//! A large, realistic event log written straight into a SQLite store, for the scale
//! benchmarks: projects in two environments, and for each push a build with its lease, steps
//! and artifact, its release, and a deployment to each environment with its lease and step —
//! the events the workflow itself appends, about twenty per push.

use std::sync::Arc;

use chrono::Utc;
use conveyor_engine::{
    aggregate::{
        build::{ArtifactReport, BuildEvent},
        deployment::{ApprovalPolicy, DeploymentEvent, DeploymentKind},
        encode,
        environment::EnvironmentEvent,
        job::{Lease, StepOutcome, StepReport},
        lifecycle::ReleaseLifecycle,
        project::{
            BuildPlan, BuildStep, DeploymentStep, LifecycleStage, PlanSource, ProjectEvent,
            ProjectSpec,
        },
        push::{PushEvent, PushReport},
        release::{Artifact, ReleaseEvent, ReleaseSnapshot},
    },
    ids,
    names::{EnvironmentName, ProjectName},
};
use conveyor_store::{EventStore, ExpectedVersion, Metadata, NewEvent};
use uuid::Uuid;

/// The process manager's checkpoint name in the store.
const PROCESS_MANAGER: &str = "process-manager";

/// The environments every project deploys to, in order.
pub const ENVIRONMENTS: [&str; 2] = ["staging", "production"];

fn new_event<E: serde::Serialize>(event: &E, actor: &str) -> NewEvent {
    let (event_type, payload) = encode(event);
    NewEvent {
        id: Uuid::now_v7(),
        event_type,
        schema_version: 1,
        payload,
        metadata: Metadata {
            actor: actor.into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            request_id: None,
        },
    }
}

/// Appends environments, `projects` projects, and pushes (with everything that follows each)
/// until the log holds at least `events` events; answers the release ids, oldest first.
pub async fn populate(
    store: &Arc<dyn EventStore>,
    projects: usize,
    events: u64,
) -> anyhow::Result<Vec<Uuid>> {
    let environments: Vec<EnvironmentName> = ENVIRONMENTS
        .iter()
        .map(|name| EnvironmentName::parse(name))
        .collect::<Result<_, _>>()?;
    for environment in &environments {
        let created = EnvironmentEvent::EnvironmentCreated {
            name: environment.clone(),
            description: String::new(),
            policy: ApprovalPolicy::default(),
            auto_rollback: false,
            soak_seconds: None,
        };
        store
            .append(
                &format!("environment-{environment}"),
                ExpectedVersion::NoStream,
                vec![new_event(&created, "ops")],
            )
            .await?;
    }
    let stages: Vec<LifecycleStage> = environments
        .iter()
        .map(|environment| LifecycleStage {
            environment: environment.clone(),
            automatic: true,
        })
        .collect();
    let plan = BuildPlan {
        steps: ["test", "compile", "package"]
            .iter()
            .map(|name| BuildStep {
                name: (*name).into(),
                script: format!("make {name}"),
                artifacts: if *name == "package" {
                    vec!["dist/app.tar.gz".into()]
                } else {
                    Vec::new()
                },
                environment: Default::default(),
                timeout_seconds: None,
            })
            .collect(),
    };
    let deployment_steps = vec![DeploymentStep {
        name: "roll-out".into(),
        script: "./deploy.sh".into(),
        environment: Default::default(),
        timeout_seconds: None,
    }];
    let names: Vec<ProjectName> = (0..projects)
        .map(|p| ProjectName::parse(&format!("app-{p:03}")))
        .collect::<Result<_, _>>()?;
    for name in &names {
        let spec = ProjectSpec {
            name: name.clone(),
            description: String::new(),
            repository: format!("https://git.example.com/{name}.git"),
            branch: "main".into(),
            build_plan: plan.clone(),
            pipelines: None,
            plan_source: PlanSource::Project,
            build_tags: false,
            deployment_steps: deployment_steps.clone(),
            variables: Vec::new(),
            lifecycle: stages.clone(),
            channels: Vec::new(),
            retention: None,
        };
        store
            .append(
                &format!("project-{name}"),
                ExpectedVersion::NoStream,
                vec![new_event(&ProjectEvent::ProjectCreated { spec }, "ops")],
            )
            .await?;
    }

    let mut releases = Vec::new();
    let mut push = 0usize;
    while store.head().await? < events {
        // One wave: a push for each project, written concurrently (group commit).
        let wave: Vec<_> = names
            .iter()
            .map(|project| {
                push += 1;
                let store = store.clone();
                let (project, plan, stages, deployment_steps) = (
                    project.clone(),
                    plan.clone(),
                    stages.clone(),
                    deployment_steps.clone(),
                );
                let environments = environments.clone();
                let number = push;
                tokio::spawn(async move {
                    one_push(
                        &store,
                        &project,
                        number,
                        &plan,
                        &stages,
                        &deployment_steps,
                        &environments,
                    )
                    .await
                })
            })
            .collect();
        for task in wave {
            releases.push(task.await??);
        }
    }
    // The log is what a running server would have written, reactions included: its process
    // manager has handled all of it.
    let head = store.head().await?;
    store.save_checkpoint(PROCESS_MANAGER, head).await?;
    Ok(releases)
}

/// A push, its build, its release and its two deployments; answers the release id.
async fn one_push(
    store: &Arc<dyn EventStore>,
    project: &ProjectName,
    number: usize,
    plan: &BuildPlan,
    stages: &[LifecycleStage],
    deployment_steps: &[DeploymentStep],
    environments: &[EnvironmentName],
) -> anyhow::Result<Uuid> {
    let commit = format!("{number:040x}");
    let repository = format!("https://git.example.com/{project}.git");
    let push_id = Uuid::now_v7();
    let received = PushEvent::PushReceived {
        push_id,
        integration: None,
        report: PushReport {
            repository: repository.clone(),
            git_ref: "refs/heads/main".into(),
            commit: commit.clone(),
            before: None,
            pusher: Some("dev".into()),
            message: Some(format!("change {number}")),
            source: "api".into(),
            created: false,
            deleted: false,
            forced: false,
            commits: Vec::new(),
            truncated: false,
            delivery_id: None,
            host: None,
        },
    };
    store
        .append(
            &ids::push_stream(push_id),
            ExpectedVersion::NoStream,
            vec![new_event(&received, "dev")],
        )
        .await?;

    let build_id = Uuid::now_v7();
    let lease_id = Uuid::now_v7();
    let artifact = Artifact {
        name: "dist/app.tar.gz".into(),
        sha256: format!("{:064x}", number),
        size: 1_048_576,
    };
    let mut build = vec![
        BuildEvent::BuildQueued {
            build_id,
            project: project.clone(),
            push_id: Some(push_id),
            repository,
            branch: "main".into(),
            commit: commit.clone(),
            plan: plan.clone(),
            plan_source: PlanSource::Project,
        },
        BuildEvent::JobLeased(lease(lease_id)),
        BuildEvent::BuildStarted {
            lease_id,
            agent: "agent-1".into(),
        },
    ];
    build.extend(
        plan.steps
            .iter()
            .map(|step| BuildEvent::StepReported(succeeded(lease_id, &step.name))),
    );
    build.push(BuildEvent::ArtifactReported(ArtifactReport {
        lease_id,
        artifact: artifact.clone(),
    }));
    build.push(BuildEvent::BuildSucceeded { lease_id });
    append_all(store, &ids::build_stream(build_id), &build, "workflow").await?;

    let release_id = Uuid::now_v7();
    let version = format!("1.0.{number}");
    let release = ReleaseEvent::ReleaseCreated(Box::new(ReleaseSnapshot {
        release_id,
        project: project.clone(),
        version: version.clone(),
        build_id,
        commit,
        branch: "main".into(),
        artifacts: vec![artifact],
        deployment_steps: deployment_steps.to_vec(),
        variables: Vec::new(),
        lifecycle: ReleaseLifecycle::from_stages(stages),
        created_by: "workflow".into(),
    }));
    append_all(
        store,
        &ids::release_stream(release_id),
        &[release],
        "workflow",
    )
    .await?;

    for environment in environments {
        let deployment_id = Uuid::now_v7();
        let lease_id = Uuid::now_v7();
        let deployment = [
            DeploymentEvent::DeploymentRequested {
                deployment_id,
                release_id,
                release_version: version.clone(),
                project: project.clone(),
                environment: environment.clone(),
                kind: DeploymentKind::Deploy,
                requested_by: "workflow".into(),
                release_created_by: "workflow".into(),
                reverts: None,
                policy: ApprovalPolicy::default(),
                previous_release_version: None,
                freeze_override: None,
            },
            DeploymentEvent::DeploymentQueued {},
            DeploymentEvent::JobLeased(lease(lease_id)),
            DeploymentEvent::DeploymentStarted {
                lease_id,
                agent: "agent-1".into(),
            },
            DeploymentEvent::StepReported(succeeded(lease_id, "roll-out")),
            DeploymentEvent::DeploymentSucceeded { lease_id },
        ];
        append_all(
            store,
            &ids::deployment_stream(deployment_id),
            &deployment,
            "workflow",
        )
        .await?;
    }
    Ok(release_id)
}

fn lease(lease_id: Uuid) -> Lease {
    Lease {
        lease_id,
        agent: "agent-1".into(),
        expires_at: Utc::now() + chrono::Duration::minutes(5),
        attempt: 1,
    }
}

fn succeeded(lease_id: Uuid, name: &str) -> StepReport {
    StepReport {
        lease_id,
        name: name.into(),
        outcome: StepOutcome::Succeeded,
        exit_code: Some(0),
        duration_ms: 1_200,
    }
}

async fn append_all<E: serde::Serialize>(
    store: &Arc<dyn EventStore>,
    stream: &str,
    events: &[E],
    actor: &str,
) -> anyhow::Result<()> {
    let events = events.iter().map(|event| new_event(event, actor)).collect();
    store
        .append(stream, ExpectedVersion::NoStream, events)
        .await?;
    Ok(())
}
