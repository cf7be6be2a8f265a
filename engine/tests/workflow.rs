//! The application layer against the real SQLite store: pushes queue builds, agents run jobs
//! through the lease protocol, the process manager releases and promotes, approvals gate
//! deployments, rollback replays the log, and replays or restarts change nothing.

use std::{
    collections::HashMap,
    error::Error,
    fmt::Debug,
    future::Future,
    path::PathBuf,
    sync::Arc,
    time::{Duration as StdDuration, Instant},
};

use chrono::Duration;
use conveyor_engine::{
    Actor, CommandContext, DomainError, Engine, EngineConfig, EngineError,
    aggregate::{
        build::{ArtifactReport, BuildStatus},
        deployment::{ApprovalDecision, ApprovalPolicy, DeploymentKind, DeploymentStatus},
        job::{JobCommand, StepOutcome, StepReport},
        lifecycle::{LifecycleSpec, Phase, Progression, ReleaseLifecycle},
        project::{
            BuildPlan, BuildStep, Channel, DeploymentStep, LifecycleStage, ProjectSpec,
            RetentionPolicy, Variable,
        },
        push::PushReport,
        release::Artifact,
    },
    model::{BuildView, DeploymentView, ReleaseView},
    names::{EnvironmentName, LifecycleName, ProjectName},
    service::{BuildFilter, DeploymentFilter, JobAssignment},
};
use conveyor_store::{EventStore, sqlite::SqliteStore};
use tempfile::TempDir;
use uuid::Uuid;

type TestResult<T = ()> = Result<T, Box<dyn Error>>;

const REPOSITORY: &str = "https://git.example.com/shop.git";

// ----- the world: a temporary SQLite file, its store and an engine on it -----

struct World {
    dir: TempDir,
    store: Arc<SqliteStore>,
    engine: Engine,
}

impl World {
    async fn start() -> TestResult<Self> {
        Self::start_with(EngineConfig::default()).await
    }

    async fn start_with(config: EngineConfig) -> TestResult<Self> {
        let dir = tempfile::tempdir()?;
        let store = SqliteStore::open(&db_path(&dir)).await?;
        let engine = Engine::start(store.clone() as Arc<dyn EventStore>, config).await?;
        Ok(Self { dir, store, engine })
    }

    /// Waits until the process manager has reacted to everything in the log, including the
    /// events its own reactions appended.
    async fn settle(&self) -> TestResult<u64> {
        loop {
            let head = self.store.head().await?;
            self.engine.wait_reacted(head).await?;
            if self.store.head().await? == head {
                return Ok(head);
            }
        }
    }

    async fn environment(&self, name: &str, required_approvals: u32) -> TestResult {
        self.engine
            .create_environment(
                &admin(),
                env(name),
                format!("the {name} environment"),
                ApprovalPolicy {
                    required_approvals,
                    allow_self_approval: false,
                    rules: Vec::new(),
                    approval_timeout_seconds: None,
                },
                false,
                None,
            )
            .await?;
        Ok(())
    }

    /// The `shop` project on `main`, moving through `lifecycle` (environment, automatic).
    async fn project(&self, lifecycle: &[(&str, bool)]) -> TestResult {
        self.engine
            .create_project(&admin(), shop_spec(lifecycle))
            .await?;
        Ok(())
    }

    async fn push(&self, git_ref: &str, commit: u64) -> TestResult<Vec<BuildView>> {
        self.push_to(REPOSITORY, git_ref, commit).await
    }

    async fn push_to(
        &self,
        repository: &str,
        git_ref: &str,
        commit: u64,
    ) -> TestResult<Vec<BuildView>> {
        let (_, builds) = self
            .engine
            .report_push(
                &pusher(),
                PushReport {
                    pusher: Some("alice".into()),
                    message: Some("change".into()),
                    ..PushReport::simple(
                        repository.into(),
                        git_ref.into(),
                        commit_id(commit),
                        "api",
                    )
                },
            )
            .await?;
        Ok(builds)
    }

    /// An agent leases the next job, which must be a build, and runs it to success.
    async fn run_build(&self, agent: &str) -> TestResult<BuildView> {
        let ctx = agent_ctx(agent);
        let Some(JobAssignment::Build { build, lease }) =
            self.engine.lease_job(&ctx, agent).await?
        else {
            panic!("expected a build to lease");
        };
        let id = build_id(&build);
        let lease_id = lease.lease_id;
        self.engine
            .job_command(&ctx, id, JobCommand::Start { lease_id })
            .await?;
        self.engine
            .job_command(&ctx, id, JobCommand::ReportStep(step(lease_id, "test")))
            .await?;
        self.engine
            .report_artifact(
                &ctx,
                id,
                ArtifactReport {
                    lease_id,
                    artifact: artifact(),
                },
            )
            .await?;
        self.engine
            .job_command(
                &ctx,
                id,
                JobCommand::Complete {
                    lease_id,
                    failure: None,
                },
            )
            .await?;
        self.settle().await?;
        Ok(self.engine.get_build(id)?)
    }

    /// An agent leases the next job, which must be a deployment, and runs it to success.
    async fn run_deployment(&self, agent: &str) -> TestResult<DeploymentView> {
        let ctx = agent_ctx(agent);
        let Some(JobAssignment::Deployment {
            deployment, lease, ..
        }) = self.engine.lease_job(&ctx, agent).await?
        else {
            panic!("expected a deployment to lease");
        };
        let id = deployment_id(&deployment);
        let lease_id = lease.lease_id;
        self.engine
            .job_command(&ctx, id, JobCommand::Start { lease_id })
            .await?;
        self.engine
            .job_command(&ctx, id, JobCommand::ReportStep(step(lease_id, "roll out")))
            .await?;
        self.engine
            .job_command(
                &ctx,
                id,
                JobCommand::Complete {
                    lease_id,
                    failure: None,
                },
            )
            .await?;
        self.settle().await?;
        Ok(self.engine.get_deployment(id)?)
    }

    fn builds(&self) -> Vec<BuildView> {
        self.engine
            .list_builds(&BuildFilter::default(), None, 500)
            .items
    }

    fn releases(&self) -> Vec<ReleaseView> {
        self.engine.list_releases(None, None, 500).items
    }

    /// Deployments, oldest first.
    fn deployments(&self) -> Vec<DeploymentView> {
        let mut items = self
            .engine
            .list_deployments(&DeploymentFilter::default(), None, 500)
            .items;
        items.reverse();
        items
    }

    fn deployments_to(&self, environment: &str) -> Vec<DeploymentView> {
        self.deployments()
            .into_iter()
            .filter(|d| d.tracked.state.environment == Some(env(environment)))
            .collect()
    }

    /// Everything the read model holds, for comparing two engines.
    fn snapshot(&self) -> ModelSnapshot {
        self.engine.read(|m| ModelSnapshot {
            position: m.position,
            environments: format!("{:?}", m.environments),
            projects: format!("{:?}", m.projects),
            pushes: m.pushes.keys().copied().collect(),
            builds: m.builds.clone(),
            releases: m.releases.clone(),
            deployments: m.deployments.clone(),
        })
    }
}

#[derive(Debug, PartialEq)]
struct ModelSnapshot {
    position: u64,
    environments: String,
    projects: String,
    pushes: std::collections::BTreeSet<Uuid>,
    builds: HashMap<Uuid, BuildView>,
    releases: HashMap<Uuid, ReleaseView>,
    deployments: HashMap<Uuid, DeploymentView>,
}

fn db_path(dir: &TempDir) -> PathBuf {
    dir.path().join("conveyor.sqlite")
}

// ----- fixtures -----

fn env(name: &str) -> EnvironmentName {
    EnvironmentName::parse(name).expect("valid environment name")
}

fn shop() -> ProjectName {
    ProjectName::parse("shop").expect("valid project name")
}

fn actor(subject: &str, scopes: &[&str]) -> CommandContext {
    CommandContext::new(
        Actor {
            subject: subject.into(),
            scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
            token_id: Some(format!("jti-{subject}")),
        },
        Some(format!("req-{subject}")),
    )
}

fn admin() -> CommandContext {
    actor("admin", &["admin"])
}

fn pusher() -> CommandContext {
    actor("git-bot", &["push"])
}

fn agent_ctx(agent: &str) -> CommandContext {
    actor(agent, &["agent"])
}

fn approver(subject: &str) -> CommandContext {
    actor(subject, &["approve:production", "deploy:production"])
}

fn commit_id(n: u64) -> String {
    format!("{n:040x}")
}

fn shop_spec(lifecycle: &[(&str, bool)]) -> ProjectSpec {
    ProjectSpec {
        name: shop(),
        description: String::new(),
        repository: REPOSITORY.into(),
        branch: "main".into(),
        pipelines: None,
        plan_source: Default::default(),
        build_tags: false,
        build_plan: BuildPlan {
            steps: vec![BuildStep {
                name: "test".into(),
                script: "cargo test".into(),
                artifacts: vec!["target/*.tar.gz".into()],
                environment: Default::default(),
                timeout_seconds: None,
            }],
        },
        deployment_steps: vec![DeploymentStep {
            name: "roll out".into(),
            script: "./deploy.sh".into(),
            environment: Default::default(),
            timeout_seconds: None,
        }],
        variables: vec![Variable {
            name: "LOG_LEVEL".into(),
            value: Some("info".into()),
            sensitive: false,
            environments: Default::default(),
        }],
        lifecycle: lifecycle
            .iter()
            .map(|(name, automatic)| LifecycleStage {
                environment: env(name),
                automatic: *automatic,
            })
            .collect(),
        channels: Vec::new(),
        retention: None,
    }
}

fn step(lease_id: Uuid, name: &str) -> StepReport {
    StepReport {
        lease_id,
        name: name.into(),
        outcome: StepOutcome::Succeeded,
        exit_code: Some(0),
        duration_ms: 10,
    }
}

fn artifact() -> Artifact {
    Artifact {
        name: "target/shop.tar.gz".into(),
        sha256: "cd".repeat(32),
        size: 2048,
    }
}

fn build_id(build: &BuildView) -> Uuid {
    build.tracked.state.id.expect("a queued build has an id")
}

fn deployment_id(deployment: &DeploymentView) -> Uuid {
    deployment
        .tracked
        .state
        .id
        .expect("a requested deployment has an id")
}

fn release_id(release: &ReleaseView) -> Uuid {
    release
        .snapshot()
        .expect("a release has a snapshot")
        .release_id
}

/// The refusal's code, or a panic naming what came instead.
#[track_caller]
fn refusal<T: Debug>(result: Result<T, EngineError>) -> DomainError {
    match result {
        Err(EngineError::Refused(refusal)) => refusal,
        other => panic!("expected a domain refusal, got {other:?}"),
    }
}

/// Polls `check` every 10 ms until it yields a value, for at most 10 s.
async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = Instant::now() + StdDuration::from_secs(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(StdDuration::from_millis(10)).await;
    }
}

/// Environments dev and staging without approvals, production with two.
async fn standard_world(lifecycle: &[(&str, bool)]) -> TestResult<World> {
    let world = World::start().await?;
    world.environment("dev", 0).await?;
    world.environment("staging", 0).await?;
    world.environment("production", 2).await?;
    world.project(lifecycle).await?;
    Ok(world)
}

const PIPELINE: &[(&str, bool)] = &[("dev", true), ("staging", true), ("production", false)];

// ----- pushes -----

#[tokio::test]
async fn a_push_to_the_projects_branch_queues_exactly_one_build() -> TestResult {
    let world = standard_world(PIPELINE).await?;

    let builds = world.push("refs/heads/main", 1).await?;
    assert_eq!(builds.len(), 1);
    let build = &builds[0].tracked.state;
    assert_eq!(build.project, Some(shop()));
    assert_eq!(build.status, BuildStatus::Queued);
    assert_eq!(build.branch, "main");
    assert_eq!(build.commit, commit_id(1));
    assert_eq!(build.plan, shop_spec(PIPELINE).build_plan);
    assert_eq!(builds[0].number, 1);

    assert!(world.push("refs/heads/develop", 2).await?.is_empty());
    assert!(world.push("refs/tags/v1", 3).await?.is_empty());
    assert!(
        world
            .push_to("https://git.example.com/other.git", "refs/heads/main", 4)
            .await?
            .is_empty()
    );
    world.settle().await?;
    assert_eq!(
        world.builds().len(),
        1,
        "only the first push built anything"
    );
    Ok(())
}

// ----- builds, releases, promotion -----

#[tokio::test]
async fn a_succeeded_build_is_released_and_deployed_to_the_first_automatic_stage() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;

    let build = world.run_build("agent-1").await?;
    assert_eq!(build.tracked.state.status, BuildStatus::Succeeded);
    assert_eq!(build.tracked.state.artifacts, vec![artifact()]);

    let releases = world.releases();
    assert_eq!(releases.len(), 1);
    let release = releases[0].snapshot().expect("snapshot");
    assert_eq!(release.version, "1.0.1");
    assert_eq!(release.build_id, build_id(&build));
    assert_eq!(release.commit, commit_id(1));
    assert_eq!(release.artifacts, vec![artifact()]);
    assert_eq!(
        release.deployment_steps,
        shop_spec(PIPELINE).deployment_steps
    );
    assert_eq!(
        release.lifecycle,
        ReleaseLifecycle::from_stages(&shop_spec(PIPELINE).lifecycle)
    );
    assert_eq!(release.created_by, "system");

    let deployments = world.deployments();
    assert_eq!(deployments.len(), 1, "{deployments:?}");
    let deployment = &deployments[0].tracked.state;
    assert_eq!(deployment.environment, Some(env("dev")));
    assert_eq!(deployment.release_id, Some(release.release_id));
    assert_eq!(deployment.kind, Some(DeploymentKind::Deploy));
    assert_eq!(deployment.status, DeploymentStatus::Queued);
    Ok(())
}

#[tokio::test]
async fn a_second_build_is_released_as_the_next_version() -> TestResult {
    let world = standard_world(&[("dev", false)]).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    world.push("refs/heads/main", 2).await?;
    world.run_build("agent-1").await?;
    let mut versions: Vec<String> = world
        .releases()
        .iter()
        .map(|r| r.snapshot().expect("snapshot").version.clone())
        .collect();
    versions.sort();
    assert_eq!(versions, vec!["1.0.1", "1.0.2"]);
    assert!(
        world.deployments().is_empty(),
        "a manual first stage is not deployed automatically"
    );
    Ok(())
}

#[tokio::test]
async fn a_successful_deployment_promotes_to_the_next_automatic_stage_only() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;

    let dev = world.run_deployment("agent-1").await?;
    assert_eq!(dev.tracked.state.environment, Some(env("dev")));
    assert_eq!(dev.tracked.state.status, DeploymentStatus::Succeeded);

    let staging = world.deployments_to("staging");
    assert_eq!(staging.len(), 1, "promoted to staging");
    assert_eq!(staging[0].tracked.state.kind, Some(DeploymentKind::Deploy));
    assert_eq!(staging[0].tracked.state.status, DeploymentStatus::Queued);

    let staging = world.run_deployment("agent-2").await?;
    assert_eq!(staging.tracked.state.environment, Some(env("staging")));
    assert_eq!(staging.tracked.state.status, DeploymentStatus::Succeeded);

    assert!(
        world.deployments_to("production").is_empty(),
        "production is manual"
    );
    assert_eq!(world.deployments().len(), 2);
    let release = world.engine.get_release(release_id(&world.releases()[0]))?;
    assert_eq!(
        release.succeeded_in.keys().cloned().collect::<Vec<_>>(),
        vec![env("dev"), env("staging")]
    );
    assert!(
        world
            .engine
            .lease_job(&agent_ctx("agent-1"), "agent-1")
            .await?
            .is_none(),
        "no job is left"
    );
    Ok(())
}

#[tokio::test]
async fn promoting_before_the_previous_stage_succeeded_is_refused() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    let release = release_id(&world.releases()[0]);
    let head = world.settle().await?;

    let refused = refusal(
        world
            .engine
            .request_deployment(
                &actor("alice", &["deploy:staging"]),
                release,
                env("staging"),
                None,
                false,
            )
            .await,
    );
    assert_eq!(refused.code, "lifecycle-requirement-unmet");
    assert!(
        refused.reason.contains("dev") && refused.reason.contains("staging"),
        "{}",
        refused.reason
    );
    assert_eq!(world.store.head().await?, head, "nothing was appended");
    Ok(())
}

#[tokio::test]
async fn a_failed_build_is_not_released() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;
    let ctx = agent_ctx("agent-1");
    let Some(JobAssignment::Build { build, lease }) =
        world.engine.lease_job(&ctx, "agent-1").await?
    else {
        panic!("expected a build to lease");
    };
    let id = build_id(&build);
    let lease_id = lease.lease_id;
    world
        .engine
        .job_command(&ctx, id, JobCommand::Start { lease_id })
        .await?;
    world
        .engine
        .job_command(
            &ctx,
            id,
            JobCommand::Complete {
                lease_id,
                failure: Some("tests failed".into()),
            },
        )
        .await?;
    world.settle().await?;
    let build = world.engine.get_build(id)?;
    assert_eq!(build.tracked.state.status, BuildStatus::Failed);
    assert!(build.finished_at.is_some());
    assert!(world.releases().is_empty());
    assert!(world.deployments().is_empty());
    Ok(())
}

#[tokio::test]
async fn a_failed_deployment_is_not_promoted() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    let ctx = agent_ctx("agent-1");
    let Some(JobAssignment::Deployment {
        deployment,
        release,
        lease,
    }) = world.engine.lease_job(&ctx, "agent-1").await?
    else {
        panic!("expected a deployment to lease");
    };
    assert_eq!(release.artifacts, vec![artifact()]);
    let id = deployment_id(&deployment);
    let lease_id = lease.lease_id;
    world
        .engine
        .job_command(&ctx, id, JobCommand::Start { lease_id })
        .await?;
    world
        .engine
        .job_command(
            &ctx,
            id,
            JobCommand::Complete {
                lease_id,
                failure: Some("health check failed".into()),
            },
        )
        .await?;
    world.settle().await?;
    let failed = world.engine.get_deployment(id)?;
    assert_eq!(failed.tracked.state.status, DeploymentStatus::Failed);
    assert!(world.deployments_to("staging").is_empty());
    Ok(())
}

#[tokio::test]
async fn artifacts_are_refused_for_deployments_and_unknown_jobs() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    let deployment = deployment_id(&world.deployments()[0]);
    let report = ArtifactReport {
        lease_id: Uuid::new_v4(),
        artifact: artifact(),
    };
    let refused = world
        .engine
        .report_artifact(&agent_ctx("agent-1"), deployment, report.clone())
        .await;
    assert_eq!(refusal(refused).code, "not-a-build");
    let unknown = world
        .engine
        .report_artifact(&agent_ctx("agent-1"), Uuid::new_v4(), report)
        .await;
    assert!(
        matches!(unknown, Err(EngineError::NotFound { .. })),
        "{unknown:?}"
    );
    let unknown = world
        .engine
        .job_command(
            &agent_ctx("agent-1"),
            Uuid::new_v4(),
            JobCommand::Start {
                lease_id: Uuid::new_v4(),
            },
        )
        .await;
    assert!(
        matches!(unknown, Err(EngineError::NotFound { .. })),
        "{unknown:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_releases_cannot_take_the_same_version() -> TestResult {
    let world = standard_world(&[("dev", false)]).await?;
    world.push("refs/heads/main", 1).await?;
    let build = build_id(&world.run_build("agent-1").await?);

    let racers: Vec<_> = (0..4)
        .map(|n| {
            let engine = world.engine.clone();
            tokio::spawn(async move {
                engine
                    .create_release(
                        &actor(&format!("bot-{n}"), &["release"]),
                        build,
                        Some("2.0.0".into()),
                    )
                    .await
            })
        })
        .collect();
    let mut created = 0;
    for racer in racers {
        match racer.await? {
            Ok(_) => created += 1,
            Err(err) => assert_eq!(refusal::<()>(Err(err)).code, "version-taken"),
        }
    }
    world.settle().await?;
    let taken = world
        .releases()
        .iter()
        .filter(|r| r.snapshot().is_some_and(|s| s.version == "2.0.0"))
        .count();
    assert_eq!((created, taken), (1, 1), "one project, one release 2.0.0");
    Ok(())
}

// ----- approvals -----

#[tokio::test]
async fn a_deployment_needing_two_approvals_is_queued_by_the_second_distinct_approver() -> TestResult
{
    let world = standard_world(&[("production", false)]).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    let release = release_id(&world.releases()[0]);
    assert!(world.deployments().is_empty());

    let deployment = world
        .engine
        .request_deployment(&approver("alice"), release, env("production"), None, false)
        .await?;
    assert_eq!(
        deployment.tracked.state.status,
        DeploymentStatus::AwaitingApproval
    );
    let id = deployment_id(&deployment);
    assert!(
        world
            .engine
            .lease_job(&agent_ctx("agent-1"), "agent-1")
            .await?
            .is_none(),
        "a deployment awaiting approval is not leased"
    );

    let approve = |subject: &'static str| {
        let engine = world.engine.clone();
        async move {
            engine
                .decide_approval(
                    &approver(subject),
                    id,
                    ApprovalDecision::Approve,
                    format!("{subject} agrees"),
                )
                .await
        }
    };
    assert_eq!(refusal(approve("alice").await).code, "self-approval");
    assert_eq!(refusal(approve("system").await).code, "self-approval");

    let once = approve("bob").await?;
    assert_eq!(
        once.tracked.state.status,
        DeploymentStatus::AwaitingApproval
    );
    assert_eq!(once.tracked.state.approvals.len(), 1);
    let (given_by, comment) = &once.tracked.state.approvals[0];
    assert_eq!(given_by.subject, "bob");
    assert_eq!(given_by.token_id.as_deref(), Some("jti-bob"));
    assert!(given_by.scopes.contains(&"approve:production".to_owned()));
    assert_eq!(comment, "bob agrees");

    assert_eq!(refusal(approve("bob").await).code, "already-approved");

    let twice = approve("dave").await?;
    assert_eq!(twice.tracked.state.status, DeploymentStatus::Queued);
    assert_eq!(
        refusal(approve("erin").await).code,
        "deployment-not-awaiting-approval"
    );

    let deployed = world.run_deployment("agent-1").await?;
    assert_eq!(deployment_id(&deployed), id);
    assert_eq!(deployed.tracked.state.status, DeploymentStatus::Succeeded);
    Ok(())
}

#[tokio::test]
async fn a_rejection_ends_the_deployment() -> TestResult {
    let world = standard_world(&[("production", false)]).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    let release = release_id(&world.releases()[0]);
    let deployment = world
        .engine
        .request_deployment(&approver("alice"), release, env("production"), None, false)
        .await?;
    let id = deployment_id(&deployment);

    let without_reason = world
        .engine
        .decide_approval(&approver("bob"), id, ApprovalDecision::Reject, " ".into())
        .await;
    assert_eq!(refusal(without_reason).code, "rejection-needs-reason");

    let rejected = world
        .engine
        .decide_approval(
            &approver("bob"),
            id,
            ApprovalDecision::Reject,
            "not during the sale".into(),
        )
        .await?;
    assert_eq!(rejected.tracked.state.status, DeploymentStatus::Rejected);
    assert!(rejected.finished_at.is_some());

    let late = world
        .engine
        .decide_approval(
            &approver("dave"),
            id,
            ApprovalDecision::Approve,
            "ok".into(),
        )
        .await;
    assert_eq!(refusal(late).code, "deployment-finished");
    Ok(())
}

// ----- the job protocol -----

#[tokio::test]
async fn a_lapsed_lease_is_leased_again_and_its_reports_are_refused() -> TestResult {
    let world = World::start_with(EngineConfig {
        lease_duration: Duration::milliseconds(50),
        ..EngineConfig::default()
    })
    .await?;
    world.environment("dev", 0).await?;
    world.project(&[("dev", true)]).await?;
    world.push("refs/heads/main", 1).await?;

    let Some(JobAssignment::Build {
        build,
        lease: first,
    }) = world
        .engine
        .lease_job(&agent_ctx("agent-1"), "agent-1")
        .await?
    else {
        panic!("expected the build to be leased");
    };
    assert_eq!(first.attempt, 1);
    let id = build_id(&build);

    let second = eventually("the lapsed lease to be granted again", || {
        let engine = world.engine.clone();
        async move {
            match engine.lease_job(&agent_ctx("agent-2"), "agent-2").await {
                Ok(Some(JobAssignment::Build { lease, .. })) => Some(lease),
                Ok(_) => None,
                Err(err) => panic!("leasing failed: {err}"),
            }
        }
    })
    .await;
    assert_eq!(second.attempt, 2);
    assert_eq!(second.agent, "agent-2");
    assert_ne!(second.lease_id, first.lease_id);

    let stale = world
        .engine
        .job_command(
            &agent_ctx("agent-1"),
            id,
            JobCommand::Start {
                lease_id: first.lease_id,
            },
        )
        .await;
    let stale = refusal(stale);
    assert_eq!(stale.code, "lease-superseded");
    assert!(stale.reason.contains(&first.lease_id.to_string()));
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_agents_race_for_one_job_and_exactly_one_wins() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;

    let racers: Vec<_> = (0..8)
        .map(|n| {
            let engine = world.engine.clone();
            tokio::spawn(async move {
                let agent = format!("agent-{n}");
                engine.lease_job(&agent_ctx(&agent), &agent).await
            })
        })
        .collect();
    let mut won = Vec::new();
    for racer in racers {
        if let Some(assignment) = racer.await?? {
            won.push(assignment);
        }
    }
    assert_eq!(won.len(), 1, "{won:?}");

    let build = build_id(&world.builds()[0]);
    let leases = world
        .store
        .read_stream(&format!("build-{build}"), 0)
        .await?
        .into_iter()
        .filter(|r| r.event_type == "JobLeased")
        .count();
    assert_eq!(leases, 1);
    Ok(())
}

/// Two releases built, each with a deployment into the manual `dev` stage queued.
async fn two_deployments_queued_for_dev(world: &World) -> TestResult<(Uuid, Uuid)> {
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    world.push("refs/heads/main", 2).await?;
    world.run_build("agent-1").await?;
    let mut releases = world.releases();
    releases.reverse();
    let requester = actor("alice", &["deploy:dev"]);
    let first = world
        .engine
        .request_deployment(
            &requester,
            release_id(&releases[0]),
            env("dev"),
            None,
            false,
        )
        .await?;
    let second = world
        .engine
        .request_deployment(
            &requester,
            release_id(&releases[1]),
            env("dev"),
            None,
            false,
        )
        .await?;
    Ok((deployment_id(&first), deployment_id(&second)))
}

#[tokio::test]
async fn a_running_deployment_keeps_others_into_its_environment_waiting() -> TestResult {
    let world = standard_world(&[("dev", false)]).await?;
    let (first, second) = two_deployments_queued_for_dev(&world).await?;
    let ctx = agent_ctx("agent-1");
    let Some(JobAssignment::Deployment {
        deployment, lease, ..
    }) = world.engine.lease_job(&ctx, "agent-1").await?
    else {
        panic!("expected a deployment to lease");
    };
    assert_eq!(deployment_id(&deployment), first, "the oldest job first");
    world
        .engine
        .job_command(
            &ctx,
            first,
            JobCommand::Start {
                lease_id: lease.lease_id,
            },
        )
        .await?;
    assert!(
        world
            .engine
            .lease_job(&agent_ctx("agent-2"), "agent-2")
            .await?
            .is_none(),
        "one deployment of a project at a time per environment"
    );
    world
        .engine
        .job_command(
            &ctx,
            first,
            JobCommand::Complete {
                lease_id: lease.lease_id,
                failure: None,
            },
        )
        .await?;
    let next = world.run_deployment("agent-2").await?;
    assert_eq!(deployment_id(&next), second);
    Ok(())
}

#[tokio::test]
async fn a_leased_deployment_keeps_others_into_its_environment_waiting() -> TestResult {
    let world = standard_world(&[("dev", false)]).await?;
    let (first, _second) = two_deployments_queued_for_dev(&world).await?;
    let Some(JobAssignment::Deployment { deployment, .. }) = world
        .engine
        .lease_job(&agent_ctx("agent-1"), "agent-1")
        .await?
    else {
        panic!("expected a deployment to lease");
    };
    assert_eq!(deployment_id(&deployment), first);
    // agent-1 holds the lease and is about to start: a second agent must not deploy the
    // other release into the same environment at the same time.
    let other = world
        .engine
        .lease_job(&agent_ctx("agent-2"), "agent-2")
        .await?;
    assert!(
        other.is_none(),
        "leased a second deployment into dev while the first is leased: {other:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn agents_leasing_at_once_take_one_deployment_per_environment() -> TestResult {
    let world = standard_world(&[("dev", false)]).await?;
    two_deployments_queued_for_dev(&world).await?;
    // Both agents choose at the same moment: their leases land on different streams, so only
    // the engine's serialised leasing keeps them from deploying into dev together.
    let (ctx1, ctx2) = (agent_ctx("agent-1"), agent_ctx("agent-2"));
    let (one, two) = tokio::join!(
        world.engine.lease_job(&ctx1, "agent-1"),
        world.engine.lease_job(&ctx2, "agent-2"),
    );
    let leased = [one?, two?].into_iter().flatten().count();
    assert_eq!(leased, 1, "two deployments were leased into dev at once");
    Ok(())
}

// ----- rollback -----

#[tokio::test]
async fn rollback_redeploys_the_previous_release_caused_by_what_it_reverts() -> TestResult {
    let world = standard_world(&[("dev", true)]).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    let a = world.run_deployment("agent-1").await?;
    world.push("refs/heads/main", 2).await?;
    world.run_build("agent-1").await?;
    let b = world.run_deployment("agent-1").await?;
    assert_eq!(a.tracked.state.status, DeploymentStatus::Succeeded);
    assert_eq!(b.tracked.state.status, DeploymentStatus::Succeeded);
    assert_ne!(a.tracked.state.release_id, b.tracked.state.release_id);

    let rollback = world
        .engine
        .rollback(
            &actor("alice", &["deploy:dev"]),
            shop(),
            env("dev"),
            None,
            None,
        )
        .await?;
    let state = &rollback.tracked.state;
    assert_eq!(state.kind, Some(DeploymentKind::Rollback));
    assert_eq!(state.release_id, a.tracked.state.release_id);
    assert_eq!(state.reverts, Some(deployment_id(&b)));
    assert_eq!(state.requested_by, "alice");

    let b_succeeded = world
        .store
        .read_stream(&format!("deployment-{}", deployment_id(&b)), 0)
        .await?
        .into_iter()
        .find(|r| r.event_type == "DeploymentSucceeded")
        .expect("B's DeploymentSucceeded event");
    assert_eq!(b.succeeded_event, Some(b_succeeded.id));
    let records = world
        .store
        .read_stream(&format!("deployment-{}", deployment_id(&rollback)), 0)
        .await?;
    assert_eq!(records[0].event_type, "DeploymentRequested");
    assert_eq!(records[0].metadata.causation_id, Some(b_succeeded.id));
    assert_eq!(records[0].metadata.actor, "alice");

    // The rollback runs like any deployment, and does not promote anywhere.
    let rolled_back = world.run_deployment("agent-1").await?;
    assert_eq!(deployment_id(&rolled_back), deployment_id(&rollback));
    assert_eq!(
        rolled_back.tracked.state.status,
        DeploymentStatus::Succeeded
    );
    assert_eq!(world.deployments().len(), 3);
    Ok(())
}

#[tokio::test]
async fn rolling_back_with_a_single_live_release_is_refused() -> TestResult {
    let world = standard_world(&[("dev", true)]).await?;
    let nothing = world
        .engine
        .rollback(&admin(), shop(), env("dev"), None, None)
        .await;
    assert_eq!(refusal(nothing).code, "nothing-live");

    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    world.run_deployment("agent-1").await?;
    let head = world.settle().await?;
    let refused = world
        .engine
        .rollback(&admin(), shop(), env("dev"), None, None)
        .await;
    assert_eq!(refusal(refused).code, "nothing-earlier");
    assert_eq!(world.store.head().await?, head);
    Ok(())
}

// ----- replay and restart -----

/// Push, build, release, deploy to dev, promote to staging and deploy there.
async fn full_workflow(world: &World) -> TestResult {
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    world.run_deployment("agent-1").await?;
    world.run_deployment("agent-1").await?;
    world.push("refs/heads/main", 2).await?;
    world.run_build("agent-1").await?;
    world.settle().await?;
    Ok(())
}

#[tokio::test]
async fn replaying_the_process_manager_from_the_start_reacts_to_nothing_twice() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    full_workflow(&world).await?;
    let head = world.settle().await?;
    let before = world.snapshot();
    assert_eq!(before.builds.len(), 2);
    assert_eq!(before.releases.len(), 2);
    assert_eq!(before.deployments.len(), 3);

    world.engine.shutdown().await;
    world.store.save_checkpoint("process-manager", 0).await?;
    let replayed = Engine::start(
        world.store.clone() as Arc<dyn EventStore>,
        EngineConfig::default(),
    )
    .await?;
    replayed.wait_reacted(head).await?;
    assert_eq!(replayed.reacted_position(), head);
    assert_eq!(world.store.head().await?, head, "no reaction was repeated");

    let world = World {
        engine: replayed,
        ..world
    };
    assert_eq!(world.snapshot(), before);
    assert_eq!(world.store.head().await?, head);
    Ok(())
}

#[tokio::test]
async fn a_restart_on_the_same_file_keeps_everything() -> TestResult {
    let world = standard_world(PIPELINE).await?;
    full_workflow(&world).await?;
    let head = world.settle().await?;
    let before = world.snapshot();

    world.engine.shutdown().await;
    world.store.close().await;
    let World { dir, store, engine } = world;
    drop(engine);
    drop(store);

    let store = SqliteStore::open(&db_path(&dir)).await?;
    assert_eq!(store.head().await?, head);
    let engine = Engine::start(
        store.clone() as Arc<dyn EventStore>,
        EngineConfig::default(),
    )
    .await?;
    let world = World { dir, store, engine };
    assert_eq!(world.settle().await?, head, "nothing new after a restart");
    assert_eq!(world.snapshot(), before);
    // The start replayed the log page by page, decoding ahead of folding: the whole model is
    // what applying each record in turn makes.
    let (ours, fresh) = model_and_fresh_replay(&world.engine, &world.store).await?;
    assert_eq!(ours, fresh);

    // And the workflow goes on from where it stopped: the second release is still queued for dev.
    let dev = world.run_deployment("agent-1").await?;
    assert_eq!(dev.tracked.state.release_version, "1.0.2");
    assert_eq!(dev.tracked.state.status, DeploymentStatus::Succeeded);
    Ok(())
}

/// The read model as JSON, and the same folded from the whole log by a fresh model.
async fn model_and_fresh_replay(
    engine: &Engine,
    store: &SqliteStore,
) -> TestResult<(serde_json::Value, serde_json::Value)> {
    let ours = engine.read(|model| serde_json::to_value(model))?;
    let mut fresh = conveyor_engine::model::ReadModel::default();
    let mut filter = conveyor_store::ReadFilter {
        limit: 1000,
        ..conveyor_store::ReadFilter::default()
    };
    loop {
        let records = store.read_all(&filter).await?;
        let Some(last) = records.last() else { break };
        filter.after = last.position;
        records.iter().for_each(|record| fresh.apply(record));
    }
    Ok((ours, serde_json::to_value(&fresh)?))
}

#[tokio::test]
async fn a_start_from_the_projection_checkpoint_replays_only_the_tail_and_equals_a_full_replay()
-> TestResult {
    let world = standard_world(PIPELINE).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    world.settle().await?;
    world.engine.shutdown().await;
    let path = world.dir.path().join("projections.checkpoint");
    let config = || EngineConfig {
        checkpoint: Some(path.clone()),
        ..EngineConfig::default()
    };
    let store = world.store.clone();
    let start = || Engine::start(store.clone() as Arc<dyn EventStore>, config());

    // No checkpoint yet: a full replay; a clean stop writes one.
    let engine = start().await?;
    engine.shutdown().await;
    let written = std::fs::read_to_string(&path)?;
    let (header, body) = written.split_once('\n').ok_or("a header line")?;

    // The checkpoint is what a start uses: a marked description shows through.
    let marked = body.replacen("the dev environment", "MARKED", 1);
    assert_ne!(marked, body, "the checkpoint holds the environment");
    std::fs::write(&path, format!("{header}\n{marked}"))?;
    let engine = start().await?;
    let description = engine.read(|m| m.environments[&env("dev")].state.description.clone());
    assert_eq!(description, "MARKED");
    engine.shutdown().await;

    // A checkpoint whose last record is not the log's is not used.
    let wrong_hash = header.replacen("\"hash\":\"", "\"hash\":\"0", 1);
    std::fs::write(&path, format!("{wrong_hash}\n{marked}"))?;
    let engine = start().await?;
    let description = engine.read(|m| m.environments[&env("dev")].state.description.clone());
    assert_eq!(description, "the dev environment");

    // The log goes on after the checkpoint; a start from the old checkpoint replays the tail
    // and ends where a full replay ends.
    engine.shutdown().await;
    std::fs::write(&path, &written)?;
    let engine = start().await?;
    let world = World {
        engine,
        dir: world.dir,
        store: world.store,
    };
    world.run_deployment("agent-1").await?;
    world.run_deployment("agent-1").await?;
    world.push("refs/heads/main", 2).await?;
    world.run_build("agent-1").await?;
    world.settle().await?;
    world.engine.shutdown().await;
    std::fs::write(&path, &written)?;
    let engine = start().await?;
    let (ours, fresh) = model_and_fresh_replay(&engine, &world.store).await?;
    assert!(ours["position"].as_u64() > Some(0));
    let differing: Vec<&String> = ours
        .as_object()
        .ok_or("an object")?
        .iter()
        .filter(|(key, value)| fresh.get(key.as_str()) != Some(value))
        .map(|(key, _)| key)
        .collect();
    assert!(
        differing.is_empty(),
        "differs from a full replay: {differing:?}"
    );
    Ok(())
}

// ----- deliveries -----

#[tokio::test]
async fn a_delivery_records_each_change_once_and_a_redelivery_appends_nothing() -> TestResult {
    let world = standard_world(&[("dev", true)]).await?;
    let change = |git_ref: &str, commit: u64| PushReport {
        delivery_id: Some("delivery-1".into()),
        ..PushReport::simple(
            REPOSITORY.into(),
            git_ref.into(),
            commit_id(commit),
            "bitbucket_cloud",
        )
    };
    let changes = vec![
        change("refs/heads/main", 1),
        change("refs/heads/feature/x", 2),
        PushReport {
            deleted: true,
            ..change("refs/heads/old", 3)
        },
    ];
    let first = world
        .engine
        .report_delivery(
            &pusher(),
            Some("bitbucket_cloud:delivery-1"),
            None,
            changes.clone(),
        )
        .await?;
    assert!(!first.duplicate);
    assert_eq!(first.pushes.len(), 3, "each change is its own push");
    assert_eq!(first.pushes[0].1.len(), 1, "main builds");
    assert!(first.pushes[1].1.is_empty(), "feature/x is not followed");
    assert!(first.pushes[2].1.is_empty(), "a deletion builds nothing");
    let head = world.store.head().await?;

    let again = world
        .engine
        .report_delivery(&pusher(), Some("bitbucket_cloud:delivery-1"), None, changes)
        .await?;
    assert!(again.duplicate);
    assert_eq!(again.id, first.id);
    let ids =
        |d: &conveyor_engine::service::Delivery| d.pushes.iter().map(|p| p.0).collect::<Vec<_>>();
    assert_eq!(ids(&again), ids(&first), "the original pushes are answered");
    assert_eq!(
        world.store.head().await?,
        head,
        "a redelivery appends nothing"
    );
    Ok(())
}

// ----- lifecycles: phases, channels, soak time -----

/// `standard`: Dev (dev, automatic) → Test (qa and perf, automatic, at least 1) → Production
/// (production, manual). `preview`: dev only.
async fn shared_lifecycles(world: &World) -> TestResult {
    for name in ["dev", "qa", "perf", "production"] {
        world.environment(name, 0).await?;
    }
    let phase = |name: &str, environments: &[(&str, bool)], progression| Phase {
        name: name.into(),
        environments: environments
            .iter()
            .map(|(e, automatic)| LifecycleStage {
                environment: env(e),
                automatic: *automatic,
            })
            .collect(),
        progression,
    };
    let standard = LifecycleSpec {
        name: LifecycleName::parse("standard")?,
        description: "main line".into(),
        phases: vec![
            phase("Dev", &[("dev", true)], Progression::All),
            phase(
                "Test",
                &[("qa", true), ("perf", true)],
                Progression::AtLeast { count: 1 },
            ),
            phase("Production", &[("production", false)], Progression::All),
        ],
    };
    let preview = LifecycleSpec {
        name: LifecycleName::parse("preview")?,
        description: "feature branches".into(),
        phases: vec![phase("Dev", &[("dev", true)], Progression::All)],
    };
    for spec in [standard, preview] {
        world
            .engine
            .save_lifecycle(&admin(), spec, false, None)
            .await?;
    }
    let mut spec = shop_spec(&[]);
    spec.branch = "*".into();
    spec.channels = vec![
        Channel {
            name: "features".into(),
            branch: "feature/*".into(),
            lifecycle: LifecycleName::parse("preview")?,
        },
        Channel {
            name: "mainline".into(),
            branch: "main".into(),
            lifecycle: LifecycleName::parse("standard")?,
        },
    ];
    world.engine.create_project(&admin(), spec).await?;
    Ok(())
}

#[tokio::test]
async fn channels_send_each_branch_through_its_lifecycle_phase_by_phase() -> TestResult {
    let world = World::start().await?;
    shared_lifecycles(&world).await?;

    world.push("refs/heads/feature/login", 1).await?;
    world.run_build("agent-1").await?;
    let feature = world.releases()[0].clone();
    let snapshot = feature.snapshot().expect("created");
    assert_eq!(snapshot.lifecycle.channel.as_deref(), Some("features"));
    assert_eq!(
        snapshot.lifecycle.name,
        Some(LifecycleName::parse("preview")?)
    );
    let dev = world.run_deployment("agent-1").await?;
    assert_eq!(dev.tracked.state.environment, Some(env("dev")));
    assert_eq!(
        world.deployments().len(),
        1,
        "a feature release goes to dev only"
    );

    world.push("refs/heads/main", 2).await?;
    world.run_build("agent-1").await?;
    let main = world
        .releases()
        .into_iter()
        .find(|r| r.snapshot().is_some_and(|s| s.branch == "main"))
        .expect("main released");
    let main_id = release_id(&main);
    assert_eq!(
        main.snapshot().and_then(|s| s.lifecycle.channel.clone()),
        Some("mainline".into())
    );
    world.run_deployment("agent-1").await?; // dev
    // Dev met: both automatic environments of Test are requested, once each.
    let test_phase: Vec<_> = world
        .deployments()
        .into_iter()
        .filter(|d| d.tracked.state.release_id == Some(main_id))
        .filter_map(|d| d.tracked.state.environment.clone())
        .collect();
    assert_eq!(test_phase, vec![env("dev"), env("qa"), env("perf")]);

    let refused = world
        .engine
        .request_deployment(&admin(), main_id, env("production"), None, false)
        .await
        .expect_err("Test is not met yet");
    let EngineError::Refused(refused) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(refused.code, "lifecycle-requirement-unmet");
    assert!(refused.reason.contains("phase Test"), "{}", refused.reason);

    world.run_deployment("agent-1").await?; // qa or perf: at least one is enough
    world.run_deployment("agent-1").await?;
    assert_eq!(
        world.deployments_to("production").len(),
        0,
        "production is manual"
    );
    let production = world
        .engine
        .request_deployment(&admin(), main_id, env("production"), None, false)
        .await?;
    assert_eq!(production.tracked.state.status, DeploymentStatus::Queued);
    // Dev and both Test successes each let the release into Test: qa and perf were still
    // requested once each.
    assert_eq!(world.deployments_to("qa").len(), 1);
    assert_eq!(world.deployments_to("perf").len(), 1);
    Ok(())
}

#[tokio::test]
async fn an_automatic_promotion_waits_out_the_soak_time_then_queues() -> TestResult {
    let world = World::start().await?;
    world.environment("dev", 0).await?;
    world
        .engine
        .create_environment(
            &admin(),
            env("staging"),
            String::new(),
            ApprovalPolicy::default(),
            false,
            Some(2),
        )
        .await?;
    world.project(&[("dev", true), ("staging", true)]).await?;
    world.push("refs/heads/main", 1).await?;
    world.run_build("agent-1").await?;
    world.run_deployment("agent-1").await?;
    let staging = world.deployments_to("staging");
    assert_eq!(staging.len(), 1);
    let waiting = &staging[0].tracked.state;
    assert_eq!(waiting.status, DeploymentStatus::Waiting);
    assert!(waiting.waiting_until.is_some());
    assert!(
        world
            .engine
            .lease_job(&agent_ctx("agent-1"), "agent-1")
            .await?
            .is_none(),
        "a waiting deployment is not handed to agents"
    );
    let id = deployment_id(&staging[0]);
    let queued = eventually("the soak wait to end", || async {
        let d = world.engine.get_deployment(id).ok()?;
        (d.tracked.state.status == DeploymentStatus::Queued).then_some(d)
    })
    .await;
    assert!(
        queued.tracked.created_at + Duration::seconds(2) <= queued.tracked.updated_at,
        "it waited at least the soak time"
    );
    let done = world.run_deployment("agent-1").await?;
    assert_eq!(done.tracked.state.status, DeploymentStatus::Succeeded);
    Ok(())
}

// ----- retention -----

#[tokio::test]
async fn retention_keeps_what_is_live_recent_or_deploying_and_records_the_rest() -> TestResult {
    let world = World::start().await?;
    world.environment("dev", 0).await?;
    world.environment("production", 0).await?;
    let mut spec = shop_spec(&[("dev", true), ("production", false)]);
    spec.retention = Some(RetentionPolicy {
        keep_releases_per_environment: 1,
    });
    world.engine.create_project(&admin(), spec).await?;
    let mut ids = Vec::new();
    for commit in 1..=4 {
        world.push("refs/heads/main", commit).await?;
        world.run_build("agent-1").await?;
        let newest = world
            .releases()
            .into_iter()
            .max_by_key(|r| r.tracked.position)
            .expect("released");
        ids.push(release_id(&newest));
        if commit == 4 {
            break; // its dev deployment stays queued: still deploying
        }
        world.run_deployment("agent-1").await?;
        if commit == 1 {
            world
                .engine
                .request_deployment(&admin(), ids[0], env("production"), None, false)
                .await?;
            world.run_deployment("agent-1").await?;
        }
    }
    let deleted = world.engine.apply_retention(&admin()).await?;
    // 1 is live in production, 3 live in dev, 4 the newest and deploying: only 2 goes.
    assert_eq!(
        deleted.iter().map(|d| d.release_id).collect::<Vec<_>>(),
        vec![ids[1]]
    );
    let two = &deleted[0];
    assert!(
        two.artifacts.is_empty(),
        "every build made the same bytes, which kept releases still need"
    );
    let release_two = world.engine.get_release(ids[1])?;
    let snapshot = release_two.snapshot().expect("created");
    let mut expected_logs = vec![snapshot.build_id];
    expected_logs.extend(release_two.deployments.iter().copied());
    assert_eq!(two.logs, expected_logs);
    assert!(two.policy.contains("keeps the last 1"));
    assert!(release_two.tracked.state.content_deleted.is_some());

    assert!(world.engine.apply_retention(&admin()).await?.is_empty());
    let refused = world
        .engine
        .request_deployment(&admin(), ids[1], env("dev"), None, false)
        .await
        .expect_err("its artifacts are gone");
    let EngineError::Refused(refused) = refused else {
        panic!("expected a refusal, got {refused:?}");
    };
    assert_eq!(refused.code, "release-content-deleted");
    Ok(())
}
