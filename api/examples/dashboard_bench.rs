//! Dashboard benchmark: 1,000 projects × 50 environments (50,000 cells) populated from events
//! in a real SQLite log; prints the time to serve the grid (copy + JSON) and to apply one event.
//!
//! `cargo run --release -p conveyor-api --example dashboard_bench`

use std::{sync::Arc, time::Instant};

use conveyor_api::routes::dashboard::dashboard_dto;
use conveyor_engine::{
    Engine, EngineConfig,
    aggregate::{
        deployment::{ApprovalPolicy, DeploymentEvent, DeploymentKind},
        encode,
        environment::EnvironmentEvent,
        lifecycle::ReleaseLifecycle,
        project::{BuildPlan, LifecycleStage, PlanSource, ProjectEvent, ProjectSpec},
        release::{ReleaseEvent, ReleaseSnapshot},
    },
    model::ReadModel,
    names::{EnvironmentName, ProjectName},
};
use conveyor_store::{
    EventStore, ExpectedVersion, Metadata, NewEvent, ReadFilter, sqlite::SqliteStore,
};
use uuid::Uuid;

const PROJECTS: usize = 1_000;
const ENVIRONMENTS: usize = 50;

fn new_event<E: serde::Serialize>(event: &E) -> NewEvent {
    let (event_type, payload) = encode(event);
    NewEvent {
        id: Uuid::now_v7(),
        event_type,
        schema_version: 1,
        payload,
        metadata: Metadata {
            actor: "bench".into(),
            correlation_id: Uuid::now_v7(),
            causation_id: None,
            request_id: None,
        },
    }
}

fn median(mut samples: Vec<f64>) -> f64 {
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let store: Arc<dyn EventStore> = SqliteStore::open(&dir.path().join("events.sqlite3")).await?;
    let environments: Vec<EnvironmentName> = (0..ENVIRONMENTS)
        .map(|i| EnvironmentName::parse(&format!("env-{i:02}")))
        .collect::<Result<_, _>>()?;
    let lifecycle: Vec<LifecycleStage> = environments
        .iter()
        .map(|e| LifecycleStage {
            environment: e.clone(),
            automatic: false,
        })
        .collect();
    let started = Instant::now();
    for environment in &environments {
        let event = EnvironmentEvent::EnvironmentCreated {
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
                vec![new_event(&event)],
            )
            .await?;
    }
    for p in 0..PROJECTS {
        let project = ProjectName::parse(&format!("project-{p:04}"))?;
        let spec = ProjectSpec {
            name: project.clone(),
            description: String::new(),
            repository: format!("https://git.example.com/{project}.git"),
            branch: "main".into(),
            build_plan: BuildPlan::default(),
            pipelines: None,
            plan_source: PlanSource::Project,
            build_tags: false,
            deployment_steps: Vec::new(),
            variables: Vec::new(),
            lifecycle: lifecycle.clone(),
            channels: Vec::new(),
            retention: None,
        };
        store
            .append(
                &format!("project-{project}"),
                ExpectedVersion::NoStream,
                vec![new_event(&ProjectEvent::ProjectCreated { spec })],
            )
            .await?;
        let release_id = Uuid::now_v7();
        let release = ReleaseEvent::ReleaseCreated(Box::new(ReleaseSnapshot {
            release_id,
            project: project.clone(),
            version: "1.0.1".into(),
            build_id: Uuid::now_v7(),
            commit: "0".repeat(40),
            branch: "main".into(),
            artifacts: Vec::new(),
            deployment_steps: Vec::new(),
            variables: Vec::new(),
            lifecycle: ReleaseLifecycle::from_stages(&lifecycle),
            created_by: "bench".into(),
        }));
        store
            .append(
                &format!("release-{release_id}"),
                ExpectedVersion::NoStream,
                vec![new_event(&release)],
            )
            .await?;
        for environment in &environments {
            let deployment_id = Uuid::now_v7();
            let requested = DeploymentEvent::DeploymentRequested {
                deployment_id,
                release_id,
                release_version: "1.0.1".into(),
                project: project.clone(),
                environment: environment.clone(),
                kind: DeploymentKind::Deploy,
                requested_by: "bench".into(),
                release_created_by: "bench".into(),
                reverts: None,
                policy: ApprovalPolicy::default(),
                previous_release_version: None,
                freeze_override: None,
            };
            let succeeded = DeploymentEvent::DeploymentSucceeded {
                lease_id: Uuid::nil(),
            };
            store
                .append(
                    &format!("deployment-{deployment_id}"),
                    ExpectedVersion::NoStream,
                    vec![new_event(&requested), new_event(&succeeded)],
                )
                .await?;
        }
    }
    let head = store.head().await?;
    println!(
        "populated {head} events ({} cells) in {:.1} s",
        PROJECTS * ENVIRONMENTS,
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let engine = Engine::start(
        store.clone(),
        EngineConfig {
            run_process_manager: false,
            ..EngineConfig::default()
        },
    )
    .await?;
    println!(
        "engine start (replay of {head} events into the read model): {:.2} s",
        started.elapsed().as_secs_f64()
    );

    let mut serve = Vec::new();
    let mut bytes = 0;
    for _ in 0..15 {
        let started = Instant::now();
        let body = serde_json::to_vec(&dashboard_dto(
            engine.dashboard(),
            engine.applied_position(),
        ))?;
        serve.push(started.elapsed().as_secs_f64() * 1000.0);
        bytes = body.len();
    }
    println!(
        "serve GET /api/v1/dashboard (copy grid + JSON, {bytes} bytes): median {:.1} ms",
        median(serve)
    );

    // Applying one event: replay the log into a model, then time fresh deployment events.
    let mut model = ReadModel::default();
    let mut filter = ReadFilter {
        limit: 10_000,
        ..ReadFilter::default()
    };
    loop {
        let batch = store.read_all(&filter).await?;
        let Some(last) = batch.last() else { break };
        filter.after = last.position;
        for record in &batch {
            model.apply(record);
        }
    }
    let template = store
        .read_all(&ReadFilter {
            stream_prefix: Some("deployment-".into()),
            limit: 1,
            ..ReadFilter::default()
        })
        .await?;
    let mut apply = Vec::new();
    for i in 0..1_000u64 {
        let mut record = template[0].clone();
        record.position = head + i + 1;
        record.stream = format!("deployment-{}", Uuid::now_v7());
        let started = Instant::now();
        model.apply(&record);
        apply.push(started.elapsed().as_secs_f64() * 1_000_000.0);
    }
    println!(
        "apply one deployment event to the read model (and its dashboard cell): median {:.1} µs",
        median(apply)
    );
    engine.shutdown().await;
    store.close().await;
    Ok(())
}
