//! Given/when/then tests of the engine's pure decisions: given these events, when this
//! command, then these events (or this refusal). One test per transition and per illegal one.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Debug;

use chrono::{DateTime, Duration, Utc};
use conveyor_engine::{
    DomainError,
    aggregate::{
        Aggregate,
        build::{ArtifactReport, BuildCommand, BuildEvent, BuildState, BuildStatus},
        deployment::{
            ApprovalDecision, ApprovalPolicy, Approver, DeploymentCommand, DeploymentEvent,
            DeploymentKind, DeploymentState, DeploymentStatus, RequestDeployment,
        },
        encode,
        environment::{EnvironmentCommand, EnvironmentEvent, EnvironmentState},
        fold,
        job::{JobCommand, Lease, LeaseExtension, StepOutcome, StepReport},
        lifecycle::{
            LifecycleEvent, LifecycleSpec, LifecycleState, Phase, Progression, ReleaseLifecycle,
        },
        project::{
            BuildPlan, BuildStep, Channel, DeploymentStep, Known, LifecycleStage, ProjectCommand,
            ProjectEvent, ProjectSpec, ProjectState, Variable,
        },
        push::{PushEvent, PushReport, PushState},
        release::{Artifact, CreateRelease, ReleaseEvent, ReleaseSnapshot, ReleaseState},
    },
    names::{EnvironmentName, LifecycleName, ProjectName},
    rollback::{LiveEntry, live_history, rollback_target},
};
use conveyor_store::{Metadata, Record};
use uuid::Uuid;

// ----- given / then -----

/// The state an aggregate's stream holds after `events`.
fn given<A: Aggregate>(events: &[A::Event]) -> A {
    fold(events)
}

/// The command was accepted and produced exactly `expected`.
#[track_caller]
fn then<E: PartialEq + Debug>(result: Result<Vec<E>, DomainError>, expected: Vec<E>) {
    match result {
        Ok(events) => assert_eq!(events, expected),
        Err(err) => panic!(
            "expected {expected:?}, got refusal {}: {}",
            err.code, err.reason
        ),
    }
}

/// The command was refused with `code`, and the reason names every one of `mentions`.
#[track_caller]
fn then_refused<T: Debug>(result: Result<T, DomainError>, code: &str, mentions: &[&str]) {
    match result {
        Ok(value) => panic!("expected refusal {code}, got {value:?}"),
        Err(err) => {
            assert_eq!(err.code, code, "reason: {}", err.reason);
            for mention in mentions {
                assert!(
                    err.reason.contains(mention),
                    "the reason {:?} should name {mention:?}",
                    err.reason
                );
            }
        }
    }
}

// ----- fixtures -----

fn env(name: &str) -> EnvironmentName {
    EnvironmentName::parse(name).expect("valid environment name")
}

fn project_name(name: &str) -> ProjectName {
    ProjectName::parse(name).expect("valid project name")
}

/// A fixed instant, `seconds` after an arbitrary origin.
fn at(seconds: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(1_750_000_000 + seconds, 0).expect("valid timestamp")
}

fn minute() -> Duration {
    Duration::seconds(60)
}

fn environments() -> BTreeSet<EnvironmentName> {
    ["dev", "staging", "production"]
        .into_iter()
        .map(env)
        .collect()
}

fn known() -> Known {
    Known {
        environments: environments(),
        lifecycles: [LifecycleName::parse("standard").unwrap()]
            .into_iter()
            .collect(),
    }
}

fn stage(name: &str, automatic: bool) -> LifecycleStage {
    LifecycleStage {
        environment: env(name),
        automatic,
    }
}

fn spec() -> ProjectSpec {
    ProjectSpec {
        name: project_name("shop"),
        description: "the web shop".into(),
        repository: "https://git.example.com/shop.git".into(),
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
            name: "DATABASE_URL".into(),
            value: Some("postgres://db/shop".into()),
            sensitive: false,
            environments: Default::default(),
        }],
        lifecycle: vec![
            stage("dev", true),
            stage("staging", true),
            stage("production", false),
        ],
        channels: Vec::new(),
        retention: None,
    }
}

const AGENT: &str = "agent-1";
const COMMIT: &str = "0123456789abcdef0123456789abcdef01234567";

fn build_id() -> Uuid {
    Uuid::from_u128(0xb1)
}

fn lease_a() -> Uuid {
    Uuid::from_u128(0xa1)
}

fn lease_b() -> Uuid {
    Uuid::from_u128(0xa2)
}

fn queue_command() -> BuildCommand {
    BuildCommand::Queue {
        build_id: build_id(),
        project: project_name("shop"),
        push_id: Some(Uuid::from_u128(0x91)),
        repository: spec().repository,
        branch: "main".into(),
        commit: COMMIT.into(),
        plan: spec().build_plan,
        plan_source: Default::default(),
    }
}

fn build_queued() -> BuildEvent {
    BuildEvent::BuildQueued {
        build_id: build_id(),
        project: project_name("shop"),
        push_id: Some(Uuid::from_u128(0x91)),
        repository: spec().repository,
        branch: "main".into(),
        commit: COMMIT.into(),
        plan: spec().build_plan,
        plan_source: Default::default(),
    }
}

/// The lease `lease_id`, granted at `at(granted)` for a minute, as attempt `attempt`.
fn lease(lease_id: Uuid, granted: i64, attempt: u32) -> Lease {
    Lease {
        lease_id,
        agent: AGENT.into(),
        expires_at: at(granted) + minute(),
        attempt,
    }
}

fn build_leased() -> BuildEvent {
    BuildEvent::JobLeased(lease(lease_a(), 0, 1))
}

fn build_started() -> BuildEvent {
    BuildEvent::BuildStarted {
        lease_id: lease_a(),
        agent: AGENT.into(),
    }
}

fn running_build() -> Vec<BuildEvent> {
    vec![build_queued(), build_leased(), build_started()]
}

fn lease_command(lease_id: Uuid) -> JobCommand {
    JobCommand::Lease {
        lease_id,
        agent: AGENT.into(),
        duration: minute(),
    }
}

fn step(lease_id: Uuid, name: &str) -> StepReport {
    StepReport {
        lease_id,
        name: name.into(),
        outcome: StepOutcome::Succeeded,
        exit_code: Some(0),
        duration_ms: 1200,
    }
}

fn artifact() -> Artifact {
    Artifact {
        name: "target/shop.tar.gz".into(),
        sha256: "ab".repeat(32),
        size: 4096,
    }
}

fn artifact_report(lease_id: Uuid) -> ArtifactReport {
    ArtifactReport {
        lease_id,
        artifact: artifact(),
    }
}

fn succeeded_build() -> BuildState {
    let mut events = running_build();
    events.push(BuildEvent::ArtifactReported(artifact_report(lease_a())));
    events.push(BuildEvent::BuildSucceeded {
        lease_id: lease_a(),
    });
    given(&events)
}

// ----- environments -----

#[test]
fn creating_an_environment_records_it_with_its_policy() {
    let policy = ApprovalPolicy {
        required_approvals: 2,
        allow_self_approval: false,
        rules: Vec::new(),
        approval_timeout_seconds: None,
    };
    then(
        given::<EnvironmentState>(&[]).decide(EnvironmentCommand::Create {
            name: env("production"),
            description: "live".into(),
            policy: policy.clone(),
            auto_rollback: false,
            soak_seconds: None,
        }),
        vec![EnvironmentEvent::EnvironmentCreated {
            name: env("production"),
            description: "live".into(),
            policy,
            auto_rollback: false,
            soak_seconds: None,
        }],
    );
}

#[test]
fn creating_an_environment_twice_is_refused() {
    let state = given::<EnvironmentState>(&[EnvironmentEvent::EnvironmentCreated {
        name: env("production"),
        description: String::new(),
        policy: ApprovalPolicy::default(),
        auto_rollback: false,
        soak_seconds: None,
    }]);
    then_refused(
        state.decide(EnvironmentCommand::Create {
            name: env("production"),
            description: String::new(),
            policy: ApprovalPolicy::default(),
            auto_rollback: false,
            soak_seconds: None,
        }),
        "environment-exists",
        &["production"],
    );
}

#[test]
fn an_environment_demanding_too_many_approvals_is_refused() {
    then_refused(
        given::<EnvironmentState>(&[]).decide(EnvironmentCommand::Create {
            name: env("production"),
            description: String::new(),
            policy: ApprovalPolicy {
                required_approvals: 21,
                allow_self_approval: false,
                rules: Vec::new(),
                approval_timeout_seconds: None,
            },
            auto_rollback: false,
            soak_seconds: None,
        }),
        "invalid-policy",
        &["required_approvals"],
    );
}

// ----- projects -----

#[test]
fn creating_a_valid_project_records_its_spec() {
    then(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(spec()), &known()),
        vec![ProjectEvent::ProjectCreated { spec: spec() }],
    );
}

#[test]
fn creating_a_project_twice_is_refused() {
    let state = given::<ProjectState>(&[ProjectEvent::ProjectCreated { spec: spec() }]);
    then_refused(
        state.decide(ProjectCommand::Create(spec()), &known()),
        "project-exists",
        &["shop"],
    );
}

#[test]
fn a_lifecycle_naming_an_unknown_environment_is_refused() {
    let known = Known {
        environments: [env("dev"), env("staging")].into_iter().collect(),
        ..known()
    };
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(spec()), &known),
        "unknown-environment",
        &["production"],
    );
}

#[test]
fn a_lifecycle_naming_an_environment_twice_is_refused() {
    let mut spec = spec();
    spec.lifecycle.push(stage("dev", false));
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(spec), &known()),
        "invalid-project",
        &["dev", "twice"],
    );
}

#[test]
fn duplicate_variables_are_refused() {
    let mut spec = spec();
    spec.variables.push(Variable {
        name: "DATABASE_URL".into(),
        value: Some("other".into()),
        sensitive: true,
        environments: Default::default(),
    });
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(spec), &known()),
        "invalid-project",
        &["DATABASE_URL"],
    );
}

#[test]
fn an_empty_repository_is_refused() {
    let mut spec = spec();
    spec.repository = "  ".into();
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(spec), &known()),
        "invalid-project",
        &["repository"],
    );
}

#[test]
fn updating_a_missing_project_is_refused() {
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Update(spec()), &known()),
        "project-missing",
        &["shop"],
    );
}

#[test]
fn renaming_a_project_is_refused() {
    let state = given::<ProjectState>(&[ProjectEvent::ProjectCreated { spec: spec() }]);
    let mut renamed = spec();
    renamed.name = project_name("store");
    then_refused(
        state.decide(ProjectCommand::Update(renamed), &known()),
        "project-rename",
        &["name"],
    );
}

#[test]
fn updating_a_project_replaces_its_spec() {
    let state = given::<ProjectState>(&[ProjectEvent::ProjectCreated { spec: spec() }]);
    let mut changed = spec();
    changed.branch = "release/*".into();
    then(
        state.decide(ProjectCommand::Update(changed.clone()), &known()),
        vec![ProjectEvent::ProjectUpdated {
            spec: changed.clone(),
        }],
    );
    let state = given::<ProjectState>(&[
        ProjectEvent::ProjectCreated { spec: spec() },
        ProjectEvent::ProjectUpdated {
            spec: changed.clone(),
        },
    ]);
    assert_eq!(state.spec, Some(changed));
}

#[test]
fn an_update_is_validated_like_a_creation() {
    let state = given::<ProjectState>(&[ProjectEvent::ProjectCreated { spec: spec() }]);
    let mut changed = spec();
    changed.lifecycle.push(stage("qa", true));
    then_refused(
        state.decide(ProjectCommand::Update(changed), &known()),
        "unknown-environment",
        &["qa"],
    );
}

// ----- pushes -----

fn push_report(git_ref: &str, commit: &str) -> PushReport {
    PushReport {
        pusher: Some("alice".into()),
        message: Some("fix checkout".into()),
        ..PushReport::simple(spec().repository, git_ref.into(), commit.into(), "api")
    }
}

#[test]
fn receiving_a_valid_push_records_it() {
    let push_id = Uuid::from_u128(0x91);
    let report = push_report("refs/heads/main", COMMIT);
    then(
        given::<PushState>(&[]).decide_receive(push_id, report.clone()),
        vec![PushEvent::PushReceived {
            push_id,
            integration: None,
            report,
        }],
    );
}

#[test]
fn a_push_with_a_non_hex_commit_is_refused() {
    then_refused(
        given::<PushState>(&[])
            .decide_receive(Uuid::from_u128(1), push_report("refs/heads/main", "xyz123")),
        "invalid-commit",
        &["commit"],
    );
}

#[test]
fn a_push_with_an_empty_ref_is_refused() {
    then_refused(
        given::<PushState>(&[]).decide_receive(Uuid::from_u128(1), push_report(" ", COMMIT)),
        "invalid-ref",
        &["ref"],
    );
}

#[test]
fn receiving_the_same_push_twice_is_refused() {
    let push_id = Uuid::from_u128(0x91);
    let report = push_report("refs/heads/main", COMMIT);
    let state = given::<PushState>(&[PushEvent::PushReceived {
        push_id,
        integration: None,
        report: report.clone(),
    }]);
    then_refused(
        state.decide_receive(push_id, report),
        "push-exists",
        &[&push_id.to_string()],
    );
}

#[test]
fn a_push_names_its_branch_only_for_branch_refs() {
    assert_eq!(
        push_report("refs/heads/feature/login", COMMIT).branch(),
        Some("feature/login")
    );
    assert_eq!(push_report("refs/tags/v1", COMMIT).branch(), None);
    assert_eq!(push_report("main", COMMIT).branch(), Some("main"));
}

// ----- builds -----

#[test]
fn queueing_a_build_records_the_plan_and_commit() {
    then(
        given::<BuildState>(&[]).decide(queue_command(), at(0)),
        vec![build_queued()],
    );
    let state = given::<BuildState>(&[build_queued()]);
    assert_eq!(state.status, BuildStatus::Queued);
    assert_eq!(state.id, Some(build_id()));
}

#[test]
fn queueing_a_build_twice_is_refused() {
    then_refused(
        given::<BuildState>(&[build_queued()]).decide(queue_command(), at(0)),
        "build-exists",
        &[&build_id().to_string()],
    );
}

#[test]
fn commands_on_a_build_that_was_never_queued_are_refused() {
    then_refused(
        given::<BuildState>(&[]).decide(BuildCommand::Job(lease_command(lease_a())), at(0)),
        "build-missing",
        &["build"],
    );
}

#[test]
fn leasing_a_queued_build_grants_attempt_one() {
    then(
        given::<BuildState>(&[build_queued()])
            .decide(BuildCommand::Job(lease_command(lease_a())), at(0)),
        vec![BuildEvent::JobLeased(lease(lease_a(), 0, 1))],
    );
}

#[test]
fn leasing_a_build_leased_by_another_agent_is_refused() {
    then_refused(
        given::<BuildState>(&[build_queued(), build_leased()])
            .decide(BuildCommand::Job(lease_command(lease_b())), at(30)),
        "job-leased",
        &["leased"],
    );
}

#[test]
fn leasing_with_an_empty_agent_name_is_refused() {
    then_refused(
        given::<BuildState>(&[build_queued()]).decide(
            BuildCommand::Job(JobCommand::Lease {
                lease_id: lease_a(),
                agent: " ".into(),
                duration: minute(),
            }),
            at(0),
        ),
        "invalid-agent",
        &["agent"],
    );
}

#[test]
fn leasing_after_the_lease_lapsed_grants_attempt_two_and_requeues() {
    let mut events = running_build();
    events.push(BuildEvent::StepReported(step(lease_a(), "test")));
    events.push(BuildEvent::ArtifactReported(artifact_report(lease_a())));
    let state = given::<BuildState>(&events);
    assert_eq!(state.status, BuildStatus::Running);
    // The lease granted at 0 lapses at 60: exactly then, it may be leased again.
    then(
        state.decide(BuildCommand::Job(lease_command(lease_b())), at(60)),
        vec![BuildEvent::JobLeased(lease(lease_b(), 60, 2))],
    );
    events.push(BuildEvent::JobLeased(lease(lease_b(), 60, 2)));
    let state = given::<BuildState>(&events);
    assert_eq!(state.status, BuildStatus::Queued);
    assert_eq!(state.job.attempts, 2);
    assert!(state.job.steps.is_empty(), "steps start over");
    assert!(state.artifacts.is_empty(), "artifacts start over");
}

#[test]
fn a_heartbeat_extends_the_lease() {
    let extended = LeaseExtension {
        lease_id: lease_a(),
        expires_at: at(30) + minute(),
    };
    then(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::Heartbeat {
                lease_id: lease_a(),
                duration: minute(),
            }),
            at(30),
        ),
        vec![BuildEvent::JobLeaseExtended(extended.clone())],
    );
    let mut events = running_build();
    events.push(BuildEvent::JobLeaseExtended(extended));
    let state = given::<BuildState>(&events);
    assert_eq!(
        state.job.lease.as_ref().map(|l| l.expires_at),
        Some(at(30) + minute())
    );
    // Past the first expiry, the extended lease still holds.
    then(
        state.decide(
            BuildCommand::Job(JobCommand::Heartbeat {
                lease_id: lease_a(),
                duration: minute(),
            }),
            at(75),
        ),
        vec![BuildEvent::JobLeaseExtended(LeaseExtension {
            lease_id: lease_a(),
            expires_at: at(75) + minute(),
        })],
    );
}

#[test]
fn a_heartbeat_with_another_lease_is_refused_as_superseded() {
    then_refused(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::Heartbeat {
                lease_id: lease_b(),
                duration: minute(),
            }),
            at(30),
        ),
        "lease-superseded",
        &[&lease_b().to_string()],
    );
}

#[test]
fn a_heartbeat_with_a_lapsed_lease_is_refused_as_expired() {
    then_refused(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::Heartbeat {
                lease_id: lease_a(),
                duration: minute(),
            }),
            at(61),
        ),
        "lease-expired",
        &[&lease_a().to_string()],
    );
}

#[test]
fn a_report_under_a_lease_replaced_after_expiry_is_refused_as_superseded() {
    let mut events = running_build();
    events.push(BuildEvent::JobLeased(lease(lease_b(), 70, 2)));
    then_refused(
        given::<BuildState>(&events).decide(
            BuildCommand::Job(JobCommand::ReportStep(step(lease_a(), "test"))),
            at(75),
        ),
        "lease-superseded",
        &[&lease_a().to_string()],
    );
}

#[test]
fn starting_a_leased_build_names_the_agent() {
    then(
        given::<BuildState>(&[build_queued(), build_leased()]).decide(
            BuildCommand::Job(JobCommand::Start {
                lease_id: lease_a(),
            }),
            at(1),
        ),
        vec![build_started()],
    );
    assert_eq!(
        given::<BuildState>(&running_build()).status,
        BuildStatus::Running
    );
}

#[test]
fn starting_a_build_that_was_never_leased_is_refused() {
    then_refused(
        given::<BuildState>(&[build_queued()]).decide(
            BuildCommand::Job(JobCommand::Start {
                lease_id: lease_a(),
            }),
            at(1),
        ),
        "not-leased",
        &["lease"],
    );
}

#[test]
fn starting_a_build_twice_is_refused() {
    then_refused(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::Start {
                lease_id: lease_a(),
            }),
            at(2),
        ),
        "job-already-started",
        &["started"],
    );
}

#[test]
fn reporting_a_step_before_the_start_is_refused() {
    then_refused(
        given::<BuildState>(&[build_queued(), build_leased()]).decide(
            BuildCommand::Job(JobCommand::ReportStep(step(lease_a(), "test"))),
            at(2),
        ),
        "job-not-started",
        &["started"],
    );
}

#[test]
fn reporting_a_step_records_it() {
    then(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::ReportStep(step(lease_a(), "test"))),
            at(2),
        ),
        vec![BuildEvent::StepReported(step(lease_a(), "test"))],
    );
}

#[test]
fn reporting_a_nameless_step_is_refused() {
    then_refused(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::ReportStep(step(lease_a(), " "))),
            at(2),
        ),
        "invalid-step",
        &["step"],
    );
}

#[test]
fn reporting_an_artifact_records_it() {
    then(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::ReportArtifact(artifact_report(lease_a())),
            at(2),
        ),
        vec![BuildEvent::ArtifactReported(artifact_report(lease_a()))],
    );
}

#[test]
fn an_artifact_with_a_bad_sha256_is_refused() {
    for bad in ["AB".repeat(32), "ab".repeat(31), "zz".repeat(32)] {
        let report = ArtifactReport {
            lease_id: lease_a(),
            artifact: Artifact {
                sha256: bad,
                ..artifact()
            },
        };
        then_refused(
            given::<BuildState>(&running_build())
                .decide(BuildCommand::ReportArtifact(report), at(2)),
            "invalid-artifact",
            &["sha256"],
        );
    }
}

#[test]
fn completing_a_build_without_failure_succeeds_it() {
    then(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::Complete {
                lease_id: lease_a(),
                failure: None,
            }),
            at(3),
        ),
        vec![BuildEvent::BuildSucceeded {
            lease_id: lease_a(),
        }],
    );
    assert_eq!(succeeded_build().status, BuildStatus::Succeeded);
    assert_eq!(succeeded_build().artifacts, vec![artifact()]);
}

#[test]
fn completing_a_build_with_a_failure_fails_it() {
    then(
        given::<BuildState>(&running_build()).decide(
            BuildCommand::Job(JobCommand::Complete {
                lease_id: lease_a(),
                failure: Some("tests failed".into()),
            }),
            at(3),
        ),
        vec![BuildEvent::BuildFailed {
            lease_id: Some(lease_a()),
            reason: "tests failed".into(),
        }],
    );
    let mut events = running_build();
    events.push(BuildEvent::BuildFailed {
        lease_id: Some(lease_a()),
        reason: "tests failed".into(),
    });
    let state = given::<BuildState>(&events);
    assert_eq!(state.status, BuildStatus::Failed);
    assert_eq!(state.reason.as_deref(), Some("tests failed"));
}

#[test]
fn every_command_on_a_finished_build_is_refused() {
    let state = succeeded_build();
    let commands = vec![
        BuildCommand::Job(lease_command(lease_b())),
        BuildCommand::Job(JobCommand::Heartbeat {
            lease_id: lease_a(),
            duration: minute(),
        }),
        BuildCommand::Job(JobCommand::Start {
            lease_id: lease_a(),
        }),
        BuildCommand::Job(JobCommand::ReportStep(step(lease_a(), "test"))),
        BuildCommand::Job(JobCommand::Complete {
            lease_id: lease_a(),
            failure: None,
        }),
        BuildCommand::ReportArtifact(artifact_report(lease_a())),
        BuildCommand::Cancel {
            by: "alice".into(),
            reason: "too late".into(),
        },
    ];
    for command in commands {
        let shown = format!("{command:?}");
        let result = state.decide(command, at(4));
        assert!(
            matches!(&result, Err(err) if err.code == "build-finished"),
            "{shown} gave {result:?}"
        );
    }
    assert!(!state.leasable(at(1000)));
}

#[test]
fn cancelling_a_queued_build_cancels_it() {
    let cancel = BuildCommand::Cancel {
        by: "alice".into(),
        reason: "wrong commit".into(),
    };
    then(
        given::<BuildState>(&[build_queued()]).decide(cancel, at(1)),
        vec![BuildEvent::BuildCancelled {
            by: "alice".into(),
            reason: "wrong commit".into(),
        }],
    );
}

#[test]
fn cancelling_a_running_build_cancels_it() {
    let cancel = BuildCommand::Cancel {
        by: "alice".into(),
        reason: "hung".into(),
    };
    then(
        given::<BuildState>(&running_build()).decide(cancel, at(5)),
        vec![BuildEvent::BuildCancelled {
            by: "alice".into(),
            reason: "hung".into(),
        }],
    );
    let mut events = running_build();
    events.push(BuildEvent::BuildCancelled {
        by: "alice".into(),
        reason: "hung".into(),
    });
    assert_eq!(given::<BuildState>(&events).status, BuildStatus::Cancelled);
}

#[test]
fn cancelling_a_cancelled_build_is_refused() {
    let state = given::<BuildState>(&[
        build_queued(),
        BuildEvent::BuildCancelled {
            by: "alice".into(),
            reason: "wrong commit".into(),
        },
    ]);
    then_refused(
        state.decide(
            BuildCommand::Cancel {
                by: "bob".into(),
                reason: "again".into(),
            },
            at(2),
        ),
        "build-finished",
        &[&build_id().to_string(), "cancelled"],
    );
}

// ----- releases -----

fn release_id() -> Uuid {
    Uuid::from_u128(0xe1)
}

fn create_release<'a>(
    build: &'a BuildState,
    project: &'a ProjectSpec,
    version: &str,
    version_taken: bool,
) -> CreateRelease<'a> {
    CreateRelease {
        release_id: release_id(),
        version: version.into(),
        build,
        project,
        version_taken,
        created_by: "carol".into(),
        lifecycle: ReleaseLifecycle::from_stages(&project.lifecycle),
    }
}

fn expected_snapshot(project: &ProjectSpec) -> ReleaseSnapshot {
    ReleaseSnapshot {
        release_id: release_id(),
        project: project_name("shop"),
        version: "1.0.1".into(),
        build_id: build_id(),
        commit: COMMIT.into(),
        branch: "main".into(),
        artifacts: vec![artifact()],
        deployment_steps: project.deployment_steps.clone(),
        variables: project.variables.clone(),
        lifecycle: ReleaseLifecycle::from_stages(&project.lifecycle),
        created_by: "carol".into(),
    }
}

#[test]
fn creating_a_release_snapshots_artifacts_steps_variables_and_lifecycle() {
    let build = succeeded_build();
    let project = spec();
    then(
        given::<ReleaseState>(&[])
            .decide_create(create_release(&build, &project, " 1.0.1 ", false)),
        vec![ReleaseEvent::ReleaseCreated(Box::new(expected_snapshot(
            &project,
        )))],
    );
}

#[test]
fn a_later_project_change_does_not_alter_an_existing_release() {
    let build = succeeded_build();
    let project = spec();
    let events = given::<ReleaseState>(&[])
        .decide_create(create_release(&build, &project, "1.0.1", false))
        .expect("release created");

    let mut changed = spec();
    changed.deployment_steps = vec![DeploymentStep {
        name: "blue/green".into(),
        script: "./bluegreen.sh".into(),
        environment: Default::default(),
        timeout_seconds: None,
    }];
    changed.variables[0].value = Some("postgres://new-db/shop".into());
    changed.lifecycle.pop();
    // The project's new definition shapes new releases only…
    let newer = given::<ReleaseState>(&[])
        .decide_create(create_release(&build, &changed, "1.0.2", false))
        .expect("second release created");
    assert_ne!(newer, events);

    // …while the existing release, folded again from its events, is exactly what it was.
    let state = given::<ReleaseState>(&events);
    assert_eq!(state.snapshot, Some(expected_snapshot(&project)));
    // The snapshot survives the log's encoding too.
    let (event_type, payload) = encode(&events[0]);
    assert_eq!(event_type, "ReleaseCreated");
    let decoded: ReleaseEvent =
        conveyor_engine::aggregate::decode(&event_type, &payload).expect("decodes");
    assert_eq!(decoded, events[0]);
}

#[test]
fn releasing_a_build_that_has_not_succeeded_is_refused() {
    let running = given::<BuildState>(&running_build());
    let project = spec();
    then_refused(
        given::<ReleaseState>(&[])
            .decide_create(create_release(&running, &project, "1.0.1", false)),
        "build-not-succeeded",
        &[&build_id().to_string()],
    );
}

#[test]
fn releasing_under_a_taken_version_is_refused() {
    let build = succeeded_build();
    let project = spec();
    then_refused(
        given::<ReleaseState>(&[]).decide_create(create_release(&build, &project, "1.0.1", true)),
        "version-taken",
        &["1.0.1", "shop"],
    );
}

#[test]
fn releasing_an_empty_version_is_refused() {
    let build = succeeded_build();
    let project = spec();
    then_refused(
        given::<ReleaseState>(&[]).decide_create(create_release(&build, &project, "  ", false)),
        "invalid-version",
        &["version"],
    );
}

#[test]
fn releasing_another_projects_build_is_refused() {
    let build = succeeded_build();
    let mut other = spec();
    other.name = project_name("billing");
    then_refused(
        given::<ReleaseState>(&[]).decide_create(create_release(&build, &other, "1.0.1", false)),
        "build-project-mismatch",
        &["project"],
    );
}

#[test]
fn creating_a_release_twice_is_refused() {
    let build = succeeded_build();
    let project = spec();
    let state = given::<ReleaseState>(&[ReleaseEvent::ReleaseCreated(Box::new(
        expected_snapshot(&project),
    ))]);
    then_refused(
        state.decide_create(create_release(&build, &project, "1.0.9", false)),
        "release-exists",
        &[&release_id().to_string()],
    );
}

// ----- deployments: requests -----

fn deployment_id() -> Uuid {
    Uuid::from_u128(0xd1)
}

fn release() -> ReleaseSnapshot {
    expected_snapshot(&spec())
}

fn policy(required_approvals: u32, allow_self_approval: bool) -> ApprovalPolicy {
    ApprovalPolicy {
        required_approvals,
        allow_self_approval,
        rules: Vec::new(),
        approval_timeout_seconds: None,
    }
}

fn request<'a>(
    release: &'a ReleaseSnapshot,
    environment: &str,
    policy: ApprovalPolicy,
    succeeded_in: &'a BTreeMap<EnvironmentName, DateTime<Utc>>,
) -> RequestDeployment<'a> {
    RequestDeployment {
        deployment_id: deployment_id(),
        release,
        environment: env(environment),
        policy,
        kind: DeploymentKind::Deploy,
        requested_by: "alice".into(),
        reverts: None,
        succeeded_in,
        soak_seconds: None,
        by_workflow: false,
        now: Utc::now(),
        content_deleted: None,
        previous_release_version: None,
        release_blocked: None,
        frozen: None,
        freeze_override: None,
    }
}

fn requested(environment: &str, policy: ApprovalPolicy, kind: DeploymentKind) -> DeploymentEvent {
    DeploymentEvent::DeploymentRequested {
        deployment_id: deployment_id(),
        release_id: release_id(),
        release_version: "1.0.1".into(),
        project: project_name("shop"),
        environment: env(environment),
        kind,
        requested_by: "alice".into(),
        release_created_by: "carol".into(),
        reverts: None,
        policy,
        previous_release_version: None,
        freeze_override: None,
    }
}

/// Where a release succeeded, each an hour before now.
fn succeeded_in(names: &[&str]) -> BTreeMap<EnvironmentName, DateTime<Utc>> {
    let then = Utc::now() - Duration::hours(1);
    names.iter().map(|n| (env(n), then)).collect()
}

#[test]
fn requesting_the_first_stage_without_approvals_queues_it() {
    let release = release();
    let none = succeeded_in(&[]);
    then(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "dev",
            policy(0, false),
            &none,
        )),
        vec![
            requested("dev", policy(0, false), DeploymentKind::Deploy),
            DeploymentEvent::DeploymentQueued {},
        ],
    );
    let state = given::<DeploymentState>(&[
        requested("dev", policy(0, false), DeploymentKind::Deploy),
        DeploymentEvent::DeploymentQueued {},
    ]);
    assert_eq!(state.status, DeploymentStatus::Queued);
    assert!(state.leasable(at(0)));
}

#[test]
fn requesting_a_stage_that_needs_approvals_awaits_them() {
    let release = release();
    let none = succeeded_in(&[]);
    then(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "dev",
            policy(2, false),
            &none,
        )),
        vec![
            requested("dev", policy(2, false), DeploymentKind::Deploy),
            DeploymentEvent::DeploymentAwaitingApproval {
                required_approvals: 2,
            },
        ],
    );
}

#[test]
fn requesting_an_environment_outside_the_lifecycle_is_refused() {
    let release = release();
    let none = succeeded_in(&[]);
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "qa",
            policy(0, false),
            &none,
        )),
        "not-in-lifecycle",
        &["qa", "1.0.1", "shop"],
    );
}

#[test]
fn requesting_the_second_stage_before_the_first_succeeded_is_refused() {
    let release = release();
    let none = succeeded_in(&[]);
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "staging",
            policy(0, false),
            &none,
        )),
        "lifecycle-requirement-unmet",
        &["dev", "staging"],
    );
    // Success further back does not count: production needs staging itself.
    let dev_only = succeeded_in(&["dev"]);
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "production",
            policy(0, false),
            &dev_only,
        )),
        "lifecycle-requirement-unmet",
        &["staging", "production"],
    );
}

#[test]
fn requesting_the_second_stage_after_the_first_succeeded_is_a_deploy() {
    let release = release();
    let dev = succeeded_in(&["dev"]);
    then(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "staging",
            policy(0, false),
            &dev,
        )),
        vec![
            requested("staging", policy(0, false), DeploymentKind::Deploy),
            DeploymentEvent::DeploymentQueued {},
        ],
    );
}

#[test]
fn deploying_where_the_release_already_succeeded_is_a_redeploy() {
    let release = release();
    let dev = succeeded_in(&["dev"]);
    then(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "dev",
            policy(0, false),
            &dev,
        )),
        vec![
            requested("dev", policy(0, false), DeploymentKind::Redeploy),
            DeploymentEvent::DeploymentQueued {},
        ],
    );
}

#[test]
fn a_rollback_without_the_deployment_it_reverts_is_refused() {
    let release = release();
    let dev = succeeded_in(&["dev"]);
    then_refused(
        given::<DeploymentState>(&[]).decide_request(RequestDeployment {
            kind: DeploymentKind::Rollback,
            ..request(&release, "dev", policy(0, false), &dev)
        }),
        "invalid-rollback",
        &["revert"],
    );
}

#[test]
fn a_rollback_names_the_deployment_it_reverts() {
    let release = release();
    let dev = succeeded_in(&["dev"]);
    let reverted = Uuid::from_u128(0xd0);
    let events = given::<DeploymentState>(&[])
        .decide_request(RequestDeployment {
            kind: DeploymentKind::Rollback,
            reverts: Some(reverted),
            ..request(&release, "dev", policy(0, false), &dev)
        })
        .expect("rollback requested");
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.kind, Some(DeploymentKind::Rollback));
    assert_eq!(state.reverts, Some(reverted));
    assert_eq!(state.status, DeploymentStatus::Queued);
}

#[test]
fn requesting_an_existing_deployment_again_is_refused() {
    let release = release();
    let none = succeeded_in(&[]);
    let state = given::<DeploymentState>(&[
        requested("dev", policy(0, false), DeploymentKind::Deploy),
        DeploymentEvent::DeploymentQueued {},
    ]);
    then_refused(
        state.decide_request(request(&release, "dev", policy(0, false), &none)),
        "deployment-exists",
        &[&deployment_id().to_string()],
    );
}

// ----- deployments: approvals -----

fn approver(subject: &str) -> Approver {
    Approver {
        subject: subject.into(),
        scopes: vec!["approve:dev".into()],
        token_id: Some(format!("jti-{subject}")),
    }
}

fn awaiting(policy: ApprovalPolicy) -> Vec<DeploymentEvent> {
    let required_approvals = policy.required_approvals;
    vec![
        requested("dev", policy, DeploymentKind::Deploy),
        DeploymentEvent::DeploymentAwaitingApproval { required_approvals },
    ]
}

fn approve(subject: &str) -> DeploymentCommand {
    DeploymentCommand::Decide {
        approver: approver(subject),
        decision: ApprovalDecision::Approve,
        comment: "looks good".into(),
    }
}

fn reject(subject: &str, comment: &str) -> DeploymentCommand {
    DeploymentCommand::Decide {
        approver: approver(subject),
        decision: ApprovalDecision::Reject,
        comment: comment.into(),
    }
}

fn granted(subject: &str) -> DeploymentEvent {
    DeploymentEvent::DeploymentApprovalGranted {
        approver: approver(subject),
        comment: "looks good".into(),
    }
}

#[test]
fn the_requester_may_not_approve() {
    then_refused(
        given::<DeploymentState>(&awaiting(policy(1, false))).decide(approve("alice"), at(0)),
        "self-approval",
        &["alice", "requested"],
    );
}

#[test]
fn the_release_creator_may_not_approve() {
    then_refused(
        given::<DeploymentState>(&awaiting(policy(1, false))).decide(approve("carol"), at(0)),
        "self-approval",
        &["carol", "created"],
    );
}

#[test]
fn self_approval_is_allowed_when_the_environment_allows_it() {
    then(
        given::<DeploymentState>(&awaiting(policy(1, true))).decide(approve("alice"), at(0)),
        vec![granted("alice"), DeploymentEvent::DeploymentQueued {}],
    );
    then(
        given::<DeploymentState>(&awaiting(policy(1, true))).decide(approve("carol"), at(0)),
        vec![granted("carol"), DeploymentEvent::DeploymentQueued {}],
    );
}

#[test]
fn one_subject_counts_once() {
    let mut events = awaiting(policy(2, false));
    events.push(granted("bob"));
    then_refused(
        given::<DeploymentState>(&events).decide(approve("bob"), at(0)),
        "already-approved",
        &["bob"],
    );
}

#[test]
fn the_first_of_two_approvals_is_only_granted() {
    then(
        given::<DeploymentState>(&awaiting(policy(2, false))).decide(approve("bob"), at(0)),
        vec![granted("bob")],
    );
    let mut events = awaiting(policy(2, false));
    events.push(granted("bob"));
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.status, DeploymentStatus::AwaitingApproval);
    assert!(!state.leasable(at(0)));
}

#[test]
fn the_second_of_two_approvals_queues_the_deployment() {
    let mut events = awaiting(policy(2, false));
    events.push(granted("bob"));
    then(
        given::<DeploymentState>(&events).decide(approve("dave"), at(0)),
        vec![granted("dave"), DeploymentEvent::DeploymentQueued {}],
    );
    events.push(granted("dave"));
    events.push(DeploymentEvent::DeploymentQueued {});
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.status, DeploymentStatus::Queued);
    assert_eq!(state.approvals.len(), 2);
}

#[test]
fn a_rejection_needs_a_comment() {
    then_refused(
        given::<DeploymentState>(&awaiting(policy(1, false))).decide(reject("bob", "  "), at(0)),
        "rejection-needs-reason",
        &["comment"],
    );
}

#[test]
fn a_rejection_ends_the_deployment() {
    then(
        given::<DeploymentState>(&awaiting(policy(2, false)))
            .decide(reject("bob", "not during the sale"), at(0)),
        vec![DeploymentEvent::DeploymentRejected {
            approver: approver("bob"),
            comment: "not during the sale".into(),
        }],
    );
}

#[test]
fn approving_after_a_rejection_is_refused() {
    let mut events = awaiting(policy(2, false));
    events.push(DeploymentEvent::DeploymentRejected {
        approver: approver("bob"),
        comment: "not during the sale".into(),
    });
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.status, DeploymentStatus::Rejected);
    then_refused(
        state.decide(approve("dave"), at(0)),
        "deployment-finished",
        &[&deployment_id().to_string(), "rejected"],
    );
}

#[test]
fn approving_a_queued_deployment_is_refused() {
    let state = given::<DeploymentState>(&[
        requested("dev", policy(0, false), DeploymentKind::Deploy),
        DeploymentEvent::DeploymentQueued {},
    ]);
    then_refused(
        state.decide(approve("bob"), at(0)),
        "deployment-not-awaiting-approval",
        &["queued"],
    );
}

#[test]
fn commands_on_a_deployment_that_was_never_requested_are_refused() {
    then_refused(
        given::<DeploymentState>(&[]).decide(approve("bob"), at(0)),
        "deployment-missing",
        &["deployment"],
    );
}

// ----- deployments: the job -----

fn queued_deployment() -> Vec<DeploymentEvent> {
    vec![
        requested("dev", policy(0, false), DeploymentKind::Deploy),
        DeploymentEvent::DeploymentQueued {},
    ]
}

fn running_deployment() -> Vec<DeploymentEvent> {
    let mut events = queued_deployment();
    events.push(DeploymentEvent::JobLeased(lease(lease_a(), 0, 1)));
    events.push(DeploymentEvent::DeploymentStarted {
        lease_id: lease_a(),
        agent: AGENT.into(),
    });
    events
}

#[test]
fn leasing_a_queued_deployment_grants_attempt_one() {
    then(
        given::<DeploymentState>(&queued_deployment())
            .decide(DeploymentCommand::Job(lease_command(lease_a())), at(0)),
        vec![DeploymentEvent::JobLeased(lease(lease_a(), 0, 1))],
    );
}

#[test]
fn leasing_a_deployment_awaiting_approval_is_refused() {
    let state = given::<DeploymentState>(&awaiting(policy(1, false)));
    assert!(!state.leasable(at(0)));
    then_refused(
        state.decide(DeploymentCommand::Job(lease_command(lease_a())), at(0)),
        "deployment-not-queued",
        &["awaiting_approval"],
    );
}

#[test]
fn leasing_a_leased_deployment_is_refused() {
    let mut events = queued_deployment();
    events.push(DeploymentEvent::JobLeased(lease(lease_a(), 0, 1)));
    then_refused(
        given::<DeploymentState>(&events)
            .decide(DeploymentCommand::Job(lease_command(lease_b())), at(10)),
        "job-leased",
        &["leased"],
    );
}

#[test]
fn leasing_a_deployment_after_its_lease_lapsed_grants_attempt_two() {
    let mut events = running_deployment();
    then(
        given::<DeploymentState>(&events)
            .decide(DeploymentCommand::Job(lease_command(lease_b())), at(90)),
        vec![DeploymentEvent::JobLeased(lease(lease_b(), 90, 2))],
    );
    events.push(DeploymentEvent::JobLeased(lease(lease_b(), 90, 2)));
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.status, DeploymentStatus::Queued);
    then_refused(
        state.decide(
            DeploymentCommand::Job(JobCommand::Complete {
                lease_id: lease_a(),
                failure: None,
            }),
            at(91),
        ),
        "lease-superseded",
        &[&lease_a().to_string()],
    );
}

#[test]
fn a_deployment_heartbeat_extends_and_a_lapsed_one_is_refused() {
    then(
        given::<DeploymentState>(&running_deployment()).decide(
            DeploymentCommand::Job(JobCommand::Heartbeat {
                lease_id: lease_a(),
                duration: minute(),
            }),
            at(30),
        ),
        vec![DeploymentEvent::JobLeaseExtended(LeaseExtension {
            lease_id: lease_a(),
            expires_at: at(30) + minute(),
        })],
    );
    then_refused(
        given::<DeploymentState>(&running_deployment()).decide(
            DeploymentCommand::Job(JobCommand::Heartbeat {
                lease_id: lease_a(),
                duration: minute(),
            }),
            at(60),
        ),
        "lease-expired",
        &[&lease_a().to_string()],
    );
}

#[test]
fn starting_a_leased_deployment_runs_it() {
    let mut events = queued_deployment();
    events.push(DeploymentEvent::JobLeased(lease(lease_a(), 0, 1)));
    then(
        given::<DeploymentState>(&events).decide(
            DeploymentCommand::Job(JobCommand::Start {
                lease_id: lease_a(),
            }),
            at(1),
        ),
        vec![DeploymentEvent::DeploymentStarted {
            lease_id: lease_a(),
            agent: AGENT.into(),
        }],
    );
    assert_eq!(
        given::<DeploymentState>(&running_deployment()).status,
        DeploymentStatus::Running
    );
}

#[test]
fn starting_a_deployment_twice_is_refused() {
    then_refused(
        given::<DeploymentState>(&running_deployment()).decide(
            DeploymentCommand::Job(JobCommand::Start {
                lease_id: lease_a(),
            }),
            at(2),
        ),
        "job-already-started",
        &["started"],
    );
}

#[test]
fn a_deployment_step_before_the_start_is_refused() {
    let mut events = queued_deployment();
    events.push(DeploymentEvent::JobLeased(lease(lease_a(), 0, 1)));
    then_refused(
        given::<DeploymentState>(&events).decide(
            DeploymentCommand::Job(JobCommand::ReportStep(step(lease_a(), "roll out"))),
            at(2),
        ),
        "job-not-started",
        &["started"],
    );
}

#[test]
fn a_deployment_step_is_recorded() {
    then(
        given::<DeploymentState>(&running_deployment()).decide(
            DeploymentCommand::Job(JobCommand::ReportStep(step(lease_a(), "roll out"))),
            at(2),
        ),
        vec![DeploymentEvent::StepReported(step(lease_a(), "roll out"))],
    );
}

#[test]
fn completing_a_deployment_succeeds_or_fails_it() {
    then(
        given::<DeploymentState>(&running_deployment()).decide(
            DeploymentCommand::Job(JobCommand::Complete {
                lease_id: lease_a(),
                failure: None,
            }),
            at(3),
        ),
        vec![DeploymentEvent::DeploymentSucceeded {
            lease_id: lease_a(),
        }],
    );
    then(
        given::<DeploymentState>(&running_deployment()).decide(
            DeploymentCommand::Job(JobCommand::Complete {
                lease_id: lease_a(),
                failure: Some("health check failed".into()),
            }),
            at(3),
        ),
        vec![DeploymentEvent::DeploymentFailed {
            lease_id: Some(lease_a()),
            reason: "health check failed".into(),
        }],
    );
}

#[test]
fn every_command_on_a_succeeded_deployment_is_refused() {
    let mut events = running_deployment();
    events.push(DeploymentEvent::DeploymentSucceeded {
        lease_id: lease_a(),
    });
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.status, DeploymentStatus::Succeeded);
    let commands = vec![
        approve("bob"),
        DeploymentCommand::Job(lease_command(lease_b())),
        DeploymentCommand::Job(JobCommand::Start {
            lease_id: lease_a(),
        }),
        DeploymentCommand::Job(JobCommand::Complete {
            lease_id: lease_a(),
            failure: None,
        }),
        DeploymentCommand::Cancel {
            by: "alice".into(),
            reason: "too late".into(),
        },
    ];
    for command in commands {
        let shown = format!("{command:?}");
        let result = state.decide(command, at(4));
        assert!(
            matches!(&result, Err(err) if err.code == "deployment-finished"),
            "{shown} gave {result:?}"
        );
    }
}

#[test]
fn cancelling_a_deployment_ends_it() {
    for events in [
        awaiting(policy(1, false)),
        queued_deployment(),
        running_deployment(),
    ] {
        let state = given::<DeploymentState>(&events);
        then(
            state.decide(
                DeploymentCommand::Cancel {
                    by: "alice".into(),
                    reason: "change freeze".into(),
                },
                at(5),
            ),
            vec![DeploymentEvent::DeploymentCancelled {
                by: "alice".into(),
                reason: "change freeze".into(),
            }],
        );
    }
    let mut events = queued_deployment();
    events.push(DeploymentEvent::DeploymentCancelled {
        by: "alice".into(),
        reason: "change freeze".into(),
    });
    let state = given::<DeploymentState>(&events);
    assert_eq!(state.status, DeploymentStatus::Cancelled);
    assert!(!state.leasable(at(0)));
}

// ----- rollback by replay -----

/// Hand-built deployment streams in the log.
#[derive(Default)]
struct Log {
    records: Vec<Record>,
    versions: std::collections::HashMap<String, u64>,
}

impl Log {
    /// Appends `event` to `deployment-<deployment>` and returns the record's event id.
    fn append(&mut self, deployment: Uuid, event: &DeploymentEvent) -> Uuid {
        let stream = format!("deployment-{deployment}");
        let version = self.versions.entry(stream.clone()).or_default();
        *version += 1;
        let position = self.records.len() as u64 + 1;
        let id = Uuid::from_u128(0x1000 + u128::from(position));
        let (event_type, payload) = encode(event);
        self.records.push(Record {
            position,
            stream,
            version: *version,
            id,
            event_type,
            schema_version: 1,
            payload,
            metadata: Metadata {
                actor: "alice".into(),
                correlation_id: Uuid::from_u128(0xc0),
                causation_id: None,
                request_id: None,
            },
            recorded_at: at(position as i64),
            hash: String::new(),
        });
        id
    }

    /// A deployment of `release` (`version`) of `project` into `environment`; returns the id
    /// of its `DeploymentSucceeded` event when `succeeds`.
    fn deploy(
        &mut self,
        deployment: u128,
        project: &str,
        environment: &str,
        release: u128,
        version: &str,
        succeeds: bool,
    ) -> Option<Uuid> {
        let deployment = Uuid::from_u128(deployment);
        let lease_id = Uuid::from_u128(0xf000 + deployment.as_u128());
        self.append(
            deployment,
            &DeploymentEvent::DeploymentRequested {
                deployment_id: deployment,
                release_id: Uuid::from_u128(release),
                release_version: version.into(),
                project: project_name(project),
                environment: env(environment),
                kind: DeploymentKind::Deploy,
                requested_by: "alice".into(),
                release_created_by: "system".into(),
                reverts: None,
                policy: ApprovalPolicy::default(),
                previous_release_version: None,
                freeze_override: None,
            },
        );
        self.append(deployment, &DeploymentEvent::DeploymentQueued {});
        self.append(
            deployment,
            &DeploymentEvent::DeploymentStarted {
                lease_id,
                agent: AGENT.into(),
            },
        );
        if succeeds {
            Some(self.append(
                deployment,
                &DeploymentEvent::DeploymentSucceeded { lease_id },
            ))
        } else {
            self.append(
                deployment,
                &DeploymentEvent::DeploymentFailed {
                    lease_id: Some(lease_id),
                    reason: "boom".into(),
                },
            );
            None
        }
    }

    fn history(&self, project: &str, environment: &str) -> Vec<LiveEntry> {
        live_history(&self.records, &project_name(project), &env(environment))
    }
}

const RELEASE_1: u128 = 0x101;
const RELEASE_2: u128 = 0x102;
const RELEASE_3: u128 = 0x103;

#[test]
fn live_history_keeps_ended_deployments_of_the_project_in_the_environment() {
    let mut log = Log::default();
    let first = log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    log.deploy(0xd2, "shop", "staging", RELEASE_2, "1.0.2", true);
    log.deploy(0xd3, "billing", "production", RELEASE_3, "2.0.0", true);
    let failed = log.deploy(0xd4, "shop", "production", RELEASE_2, "1.0.2", false);
    let second = log.deploy(0xd5, "shop", "production", RELEASE_2, "1.0.2", true);

    let history = log.history("shop", "production");
    let summary: Vec<_> = history
        .iter()
        .map(|e| {
            (
                e.deployment_id,
                e.release_id,
                e.release_version.as_str(),
                e.succeeded,
            )
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            (
                Uuid::from_u128(0xd1),
                Uuid::from_u128(RELEASE_1),
                "1.0.1",
                true
            ),
            (
                Uuid::from_u128(0xd4),
                Uuid::from_u128(RELEASE_2),
                "1.0.2",
                false
            ),
            (
                Uuid::from_u128(0xd5),
                Uuid::from_u128(RELEASE_2),
                "1.0.2",
                true
            ),
        ]
    );
    assert_eq!(history[0].outcome_event, first.expect("succeeded"));
    assert_eq!(history[2].outcome_event, second.expect("succeeded"));
    let positions: Vec<u64> = [&history[0], &history[2]]
        .iter()
        .map(|e| e.position)
        .collect();
    assert!(
        failed.is_none(),
        "a failed deployment has no DeploymentSucceeded event"
    );
    let expected: Vec<u64> = [first, second]
        .iter()
        .map(|id| {
            log.records
                .iter()
                .find(|r| Some(r.id) == *id)
                .expect("record")
                .position
        })
        .collect();
    assert_eq!(positions, expected);

    assert_eq!(log.history("shop", "staging").len(), 1);
    assert_eq!(log.history("billing", "production").len(), 1);
    assert!(log.history("billing", "staging").is_empty());
}

#[test]
fn rolling_back_with_nothing_live_is_refused() {
    let log = Log::default();
    then_refused(
        rollback_target(&log.history("shop", "production"), None),
        "nothing-live",
        &["nothing to roll back"],
    );
}

#[test]
fn rolling_back_after_only_a_failed_deployment_is_refused() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", false);
    then_refused(
        rollback_target(&log.history("shop", "production"), None),
        "nothing-earlier",
        &["1.0.1"],
    );
}

#[test]
fn rolling_back_after_a_failed_deployment_restores_the_last_good_release() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    log.deploy(0xd2, "shop", "production", RELEASE_2, "1.0.2", true);
    log.deploy(0xd3, "shop", "production", RELEASE_3, "1.0.3", false);
    let history = log.history("shop", "production");
    let (current, target) = rollback_target(&history, None).expect("a target");
    assert_eq!(current.deployment_id, Uuid::from_u128(0xd3));
    assert!(!current.succeeded);
    assert_eq!(target.release_id, Uuid::from_u128(RELEASE_2));
    // The last good release may also be named, although it was the one live.
    let (_, named) =
        rollback_target(&history, Some(Uuid::from_u128(RELEASE_2))).expect("a named target");
    assert_eq!(named.deployment_id, Uuid::from_u128(0xd2));
}

#[test]
fn rolling_back_with_only_one_release_ever_live_is_refused() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    // A redeploy of the same release does not give it a predecessor.
    log.deploy(0xd2, "shop", "production", RELEASE_1, "1.0.1", true);
    then_refused(
        rollback_target(&log.history("shop", "production"), None),
        "nothing-earlier",
        &["1.0.1"],
    );
}

#[test]
fn rolling_back_targets_the_previous_distinct_release_by_default() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    log.deploy(0xd2, "shop", "production", RELEASE_2, "1.0.2", true);
    log.deploy(0xd3, "shop", "production", RELEASE_3, "1.0.3", true);
    let current_event = log
        .deploy(0xd4, "shop", "production", RELEASE_3, "1.0.3", true)
        .expect("succeeded");
    let history = log.history("shop", "production");
    let (current, target) = rollback_target(&history, None).expect("a target");
    assert_eq!(current.deployment_id, Uuid::from_u128(0xd4));
    assert_eq!(current.outcome_event, current_event);
    assert_eq!(target.release_id, Uuid::from_u128(RELEASE_2));
    assert_eq!(target.deployment_id, Uuid::from_u128(0xd2));
}

#[test]
fn rolling_back_to_a_named_earlier_release_finds_it() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    log.deploy(0xd2, "shop", "production", RELEASE_2, "1.0.2", true);
    log.deploy(0xd3, "shop", "production", RELEASE_3, "1.0.3", true);
    let history = log.history("shop", "production");
    let (current, target) =
        rollback_target(&history, Some(Uuid::from_u128(RELEASE_1))).expect("a target");
    assert_eq!(current.release_id, Uuid::from_u128(RELEASE_3));
    assert_eq!(target.release_id, Uuid::from_u128(RELEASE_1));
    assert_eq!(target.deployment_id, Uuid::from_u128(0xd1));
}

#[test]
fn rolling_back_to_the_live_release_is_refused() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    log.deploy(0xd2, "shop", "production", RELEASE_2, "1.0.2", true);
    then_refused(
        rollback_target(
            &log.history("shop", "production"),
            Some(Uuid::from_u128(RELEASE_2)),
        ),
        "release-is-live",
        &["1.0.2"],
    );
}

#[test]
fn rolling_back_to_a_release_never_live_there_is_refused() {
    let mut log = Log::default();
    log.deploy(0xd1, "shop", "production", RELEASE_1, "1.0.1", true);
    log.deploy(0xd2, "shop", "production", RELEASE_2, "1.0.2", true);
    // Live in staging, but never in production.
    log.deploy(0xd3, "shop", "staging", RELEASE_3, "1.0.3", true);
    let never = Uuid::from_u128(RELEASE_3);
    then_refused(
        rollback_target(&log.history("shop", "production"), Some(never)),
        "release-never-live",
        &[&never.to_string()],
    );
}

// ----- variables, plans and abandoned jobs -----

#[test]
fn variables_resolve_to_the_most_specific_scope() {
    use conveyor_engine::aggregate::project::{VariableScope, resolve_variables};
    let variables = vec![
        Variable {
            name: "URL".into(),
            value: Some("https://default".into()),
            sensitive: false,
            environments: [(env("production"), "https://prod".into())].into(),
        },
        Variable {
            name: "ONLY_STAGING".into(),
            value: None,
            sensitive: true,
            environments: [(env("staging"), "sealed".into())].into(),
        },
    ];
    let production = resolve_variables(&variables, &env("production"));
    assert_eq!(
        production.len(),
        1,
        "a variable without a value here is left out"
    );
    assert_eq!(production[0].value, "https://prod");
    assert_eq!(
        production[0].scope,
        VariableScope::Environment(env("production"))
    );
    let dev = resolve_variables(&variables, &env("dev"));
    assert_eq!(dev[0].value, "https://default");
    assert_eq!(dev[0].scope, VariableScope::Default);
    let staging = resolve_variables(&variables, &env("staging"));
    assert_eq!(staging.len(), 2);
    assert!(staging[1].sensitive);
}

#[test]
fn a_variable_for_an_unknown_environment_is_refused() {
    let mut spec = spec();
    spec.variables[0]
        .environments
        .insert(env("moon"), "x".into());
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(spec), &known()),
        "unknown-environment",
        &["moon"],
    );
}

#[test]
fn a_project_plan_comes_from_its_pipelines_by_branch() {
    let mut spec = spec();
    spec.build_plan = BuildPlan::default();
    spec.pipelines = Some(
        "pipelines:\n  default:\n    - step: {name: all, script: [make]}\n  branches:\n    'release/*':\n      - step: {name: rel, script: [make release]}\n"
            .into(),
    );
    assert!(
        given::<ProjectState>(&[])
            .decide(ProjectCommand::Create(spec.clone()), &known())
            .is_ok()
    );
    assert_eq!(spec.plan_for_branch("main").unwrap().steps[0].name, "all");
    assert_eq!(
        spec.plan_for_branch("release/2").unwrap().steps[0].name,
        "rel"
    );
    let mut broken = spec.clone();
    broken.pipelines = Some("pipelines:\n  default:\n    - parallel: []\n".into());
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(broken), &known()),
        "invalid-pipelines",
        &["line 3"],
    );
    let mut both = spec;
    both.build_plan = self::spec().build_plan;
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(both), &known()),
        "invalid-project",
        &["not both"],
    );
}

#[test]
fn a_job_whose_leases_all_lapsed_is_abandoned_with_a_reason() {
    let build = given::<BuildState>(&[
        build_queued(),
        BuildEvent::JobLeased(lease(lease_a(), 0, 1)),
        BuildEvent::JobLeased(lease(lease_b(), 60, 2)),
    ]);
    // Attempts left, or the lease still live: no.
    then_refused(
        build.decide(
            BuildCommand::Job(JobCommand::Abandon { max_attempts: 3 }),
            at(500),
        ),
        "job-not-abandoned",
        &["attempts left"],
    );
    then_refused(
        build.decide(
            BuildCommand::Job(JobCommand::Abandon { max_attempts: 2 }),
            at(61),
        ),
        "job-not-abandoned",
        &["live lease"],
    );
    let events = build
        .decide(
            BuildCommand::Job(JobCommand::Abandon { max_attempts: 2 }),
            at(500),
        )
        .expect("abandoned");
    match &events[..] {
        [BuildEvent::BuildFailed { lease_id, reason }] => {
            assert_eq!(*lease_id, Some(lease_b()));
            assert!(reason.contains("leased 2 times"), "{reason}");
            assert!(reason.contains(AGENT), "{reason}");
        }
        other => panic!("expected BuildFailed, got {other:?}"),
    }
}

// ----- which pushes build a project -----

#[test]
fn repositories_match_across_url_forms() {
    use conveyor_engine::aggregate::project::repository_key;
    let forms = [
        "https://bitbucket.org/Team/app.git",
        "https://user@bitbucket.org/Team/app",
        "git@bitbucket.org:Team/app.git",
        "ssh://git@bitbucket.org/Team/app/",
        "https://BITBUCKET.ORG/Team/app",
    ];
    for form in forms {
        assert_eq!(repository_key(form), "bitbucket.org/Team/app", "{form}");
    }
    assert_ne!(
        repository_key("https://bitbucket.org/team/other"),
        repository_key(forms[0])
    );
}

#[test]
fn a_push_builds_matching_branches_and_tags_only_when_asked() {
    let mut spec = spec();
    spec.branch = "release/*".into();
    let push = |git_ref: &str| push_report(git_ref, COMMIT);
    assert_eq!(
        spec.builds_for(&push("refs/heads/release/1.2")),
        Some("release/1.2".into())
    );
    assert_eq!(spec.builds_for(&push("refs/heads/main")), None);
    assert_eq!(
        spec.builds_for(&push("refs/tags/v1.0")),
        None,
        "tags need build_tags"
    );
    spec.build_tags = true;
    assert_eq!(
        spec.builds_for(&push("refs/tags/v1.0")),
        Some("v1.0".into())
    );
    let deleted = PushReport {
        deleted: true,
        ..push("refs/heads/release/1.2")
    };
    assert_eq!(spec.builds_for(&deleted), None, "a deletion builds nothing");
    let elsewhere = PushReport {
        repository: "https://git.example.com/other.git".into(),
        ..push("refs/heads/release/1.2")
    };
    assert_eq!(spec.builds_for(&elsewhere), None);
}

// ----- blocked releases -----

#[test]
fn a_blocked_release_is_deployed_nowhere_until_unblocked() {
    let build = given::<BuildState>(&[
        build_queued(),
        build_leased(),
        build_started(),
        BuildEvent::BuildSucceeded {
            lease_id: lease_a(),
        },
    ]);
    let project = spec();
    let created = given::<ReleaseState>(&[])
        .decide_create(create_release(&build, &project, "1.0.1", false))
        .expect("created");
    let release = given::<ReleaseState>(&created);
    then_refused(
        release.decide_block("qa".into(), " ".into()),
        "block-needs-reason",
        &["reason"],
    );
    let blocked_events = release
        .decide_block("qa".into(), "data loss on upgrade".into())
        .expect("blocked");
    let mut history = created.clone();
    history.extend(blocked_events);
    let blocked = given::<ReleaseState>(&history);
    assert_eq!(blocked.blocked.as_deref(), Some("data loss on upgrade"));
    then_refused(
        blocked.decide_block("qa".into(), "again".into()),
        "release-blocked",
        &["already blocked"],
    );
    let snapshot = blocked.snapshot.clone().unwrap();
    let succeeded = succeeded_in(&[]);
    let mut request = request(&snapshot, "dev", ApprovalPolicy::default(), &succeeded);
    request.release_blocked = blocked.blocked.clone();
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request),
        "release-blocked",
        &["1.0.1", "data loss on upgrade"],
    );
    history.extend(blocked.decide_unblock("lead".into()).expect("unblocked"));
    let unblocked = given::<ReleaseState>(&history);
    assert_eq!(unblocked.blocked, None);
    then_refused(
        unblocked.decide_unblock("lead".into()),
        "release-not-blocked",
        &["not blocked"],
    );
}

// ----- promotion holds -----

#[test]
fn a_promotion_hold_is_placed_and_released() {
    use conveyor_engine::aggregate::environment::EnvironmentCommand as C;
    let created = EnvironmentEvent::EnvironmentCreated {
        name: env("production"),
        description: String::new(),
        policy: ApprovalPolicy::default(),
        auto_rollback: true,
        soak_seconds: None,
    };
    let state = given::<EnvironmentState>(std::slice::from_ref(&created));
    assert!(state.auto_rollback);
    then_refused(
        state.decide(C::ReleaseHold {
            project: project_name("shop"),
            by: "alice".into(),
        }),
        "not-held",
        &["shop"],
    );
    let held = state
        .decide(C::Hold {
            project: project_name("shop"),
            reason: "1.0.2 failed".into(),
        })
        .expect("held");
    let state = given::<EnvironmentState>(&[created.clone(), held[0].clone()]);
    assert_eq!(
        state.holds.get(&project_name("shop")).map(String::as_str),
        Some("1.0.2 failed")
    );
    let released = state
        .decide(C::ReleaseHold {
            project: project_name("shop"),
            by: "alice".into(),
        })
        .expect("released");
    let state = given::<EnvironmentState>(&[created, held[0].clone(), released[0].clone()]);
    assert!(state.holds.is_empty());
}

// ----- freezes -----

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

#[test]
fn a_one_off_freeze_holds_from_start_to_end() {
    use conveyor_engine::aggregate::freeze::FreezeWindow;
    let window = FreezeWindow::OneOff {
        start: utc("2026-12-24T00:00:00Z"),
        end: utc("2026-12-27T00:00:00Z"),
    };
    assert!(window.validate().is_ok());
    assert!(!window.active_at(utc("2026-12-23T23:59:59Z")));
    assert!(window.active_at(utc("2026-12-24T00:00:00Z")));
    assert!(!window.active_at(utc("2026-12-27T00:00:00Z")));
    let backwards = FreezeWindow::OneOff {
        start: utc("2026-12-27T00:00:00Z"),
        end: utc("2026-12-24T00:00:00Z"),
    };
    then_refused(backwards.validate(), "invalid-freeze", &["end after"]);
}

#[test]
fn a_recurring_freeze_follows_the_wall_clock_across_a_dst_change() {
    use conveyor_engine::aggregate::freeze::FreezeWindow;
    // Every Saturday 22:00 in Berlin, for 48 hours. Europe moves to summer time on
    // 2026-03-29, between the weekend of March 28 and that of April 4.
    let weekend = FreezeWindow::Recurring {
        cron: "0 22 * * Sat".into(),
        duration_minutes: 48 * 60,
        timezone: "Europe/Berlin".into(),
    };
    assert!(weekend.validate().is_ok());
    // Winter time (UTC+1): 22:00 local is 21:00Z on Saturday March 28.
    assert!(!weekend.active_at(utc("2026-03-28T20:59:00Z")));
    assert!(weekend.active_at(utc("2026-03-28T21:00:00Z")));
    assert!(weekend.active_at(utc("2026-03-30T20:59:00Z")));
    assert!(!weekend.active_at(utc("2026-03-30T21:00:00Z")));
    // Summer time (UTC+2): 22:00 local is 20:00Z on Saturday April 4.
    assert!(!weekend.active_at(utc("2026-04-04T19:59:00Z")));
    assert!(weekend.active_at(utc("2026-04-04T20:00:00Z")));
    assert!(!weekend.active_at(utc("2026-04-01T12:00:00Z")), "midweek");
    for (bad, mentions) in [
        (
            FreezeWindow::Recurring {
                cron: "0 22 * *".into(),
                duration_minutes: 60,
                timezone: "UTC".into(),
            },
            "five fields",
        ),
        (
            FreezeWindow::Recurring {
                cron: "0 25 * * *".into(),
                duration_minutes: 60,
                timezone: "UTC".into(),
            },
            "not valid",
        ),
        (
            FreezeWindow::Recurring {
                cron: "0 22 * * Sat".into(),
                duration_minutes: 60,
                timezone: "Mars/Olympus".into(),
            },
            "time zone",
        ),
        (
            FreezeWindow::Recurring {
                cron: "0 22 * * Sat".into(),
                duration_minutes: 0,
                timezone: "UTC".into(),
            },
            "duration",
        ),
    ] {
        then_refused(bad.validate(), "invalid-freeze", &[mentions]);
    }
}

#[test]
fn a_frozen_environment_refuses_deployments_unless_overridden() {
    use conveyor_engine::aggregate::freeze::FreezeOverride;
    let snapshot = release();
    let succeeded = succeeded_in(&[]);
    let mut frozen = request(&snapshot, "dev", ApprovalPolicy::default(), &succeeded);
    frozen.frozen = Some("year-end freeze".into());
    then_refused(
        given::<DeploymentState>(&[]).decide_request(frozen.clone()),
        "environment-frozen",
        &["dev", "year-end freeze", "freeze:override"],
    );
    frozen.freeze_override = Some(FreezeOverride {
        by: "cto".into(),
        reason: "security fix".into(),
    });
    let events = given::<DeploymentState>(&[])
        .decide_request(frozen)
        .expect("overridden");
    match &events[0] {
        DeploymentEvent::DeploymentRequested {
            freeze_override, ..
        } => assert_eq!(
            freeze_override,
            &Some(FreezeOverride {
                by: "cto".into(),
                reason: "security fix".into()
            })
        ),
        other => panic!("expected DeploymentRequested, got {other:?}"),
    }
}

#[test]
fn every_rule_of_a_policy_must_hold_and_each_subject_counts_once() {
    use conveyor_engine::aggregate::deployment::ApprovalRule;
    let policy = ApprovalPolicy {
        required_approvals: 1,
        allow_self_approval: false,
        rules: vec![ApprovalRule {
            scope: "approve:security".into(),
            count: 1,
        }],
        approval_timeout_seconds: None,
    };
    let with_scopes = |subject: &str, scopes: &[&str]| DeploymentCommand::Decide {
        approver: Approver {
            subject: subject.into(),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            token_id: None,
        },
        decision: ApprovalDecision::Approve,
        comment: String::new(),
    };
    let mut history = awaiting(policy);
    // A subject holding both scopes counts for one rule only.
    let both = given::<DeploymentState>(&history)
        .decide(
            with_scopes("dave", &["approve:dev", "approve:security"]),
            at(0),
        )
        .expect("granted");
    assert_eq!(both.len(), 1, "one approval, not yet queued: {both:?}");
    history.extend(both);
    // Another dev approver has nothing left to satisfy.
    then_refused(
        given::<DeploymentState>(&history).decide(with_scopes("bob", &["approve:dev"]), at(0)),
        "approval-not-counted",
        &["bob", "1 more from approve:security"],
    );
    // A security approver completes the policy.
    let last = given::<DeploymentState>(&history)
        .decide(with_scopes("erin", &["approve:security"]), at(0))
        .expect("granted");
    assert!(
        matches!(last.last(), Some(DeploymentEvent::DeploymentQueued {})),
        "{last:?}"
    );
}

#[test]
fn a_waiting_deployment_is_superseded_but_a_running_one_is_not() {
    let supersede = || DeploymentCommand::Supersede {
        by_deployment: Uuid::from_u128(0xbeef),
        by_release_version: "1.0.2".into(),
    };
    let events = given::<DeploymentState>(&queued_deployment())
        .decide(supersede(), at(0))
        .expect("superseded");
    let mut history = queued_deployment();
    history.extend(events);
    let state = given::<DeploymentState>(&history);
    assert_eq!(state.status, DeploymentStatus::Superseded);
    assert_eq!(state.reason.as_deref(), Some("superseded by release 1.0.2"));
    then_refused(
        given::<DeploymentState>(&running_deployment()).decide(supersede(), at(10)),
        "deployment-started",
        &["agent"],
    );
}

#[test]
fn an_approval_expires_only_past_its_timeout() {
    let policy = ApprovalPolicy {
        required_approvals: 1,
        approval_timeout_seconds: Some(60),
        ..ApprovalPolicy::default()
    };
    let state = given::<DeploymentState>(&awaiting(policy));
    then_refused(
        state.decide(
            DeploymentCommand::ExpireApproval { waited_seconds: 59 },
            at(59),
        ),
        "approval-not-expired",
        &["timeout"],
    );
    let events = state
        .decide(
            DeploymentCommand::ExpireApproval { waited_seconds: 61 },
            at(61),
        )
        .expect("expired");
    let mut history = awaiting(ApprovalPolicy {
        required_approvals: 1,
        approval_timeout_seconds: Some(60),
        ..ApprovalPolicy::default()
    });
    history.extend(events);
    let expired = given::<DeploymentState>(&history);
    assert_eq!(expired.status, DeploymentStatus::Expired);
    then_refused(
        expired.decide(approve("alice"), at(62)),
        "deployment-finished",
        &["expired"],
    );
    let forever = given::<DeploymentState>(&awaiting(policy_without_timeout()));
    then_refused(
        forever.decide(
            DeploymentCommand::ExpireApproval {
                waited_seconds: 1_000_000,
            },
            at(0),
        ),
        "approval-not-expired",
        &["timeout"],
    );
}

fn policy_without_timeout() -> ApprovalPolicy {
    ApprovalPolicy {
        required_approvals: 1,
        ..ApprovalPolicy::default()
    }
}

// ----- lifecycles: phases, channels, soak time -----

fn phase(name: &str, environments: &[(&str, bool)], progression: Progression) -> Phase {
    Phase {
        name: name.into(),
        environments: environments
            .iter()
            .map(|(environment, automatic)| stage(environment, *automatic))
            .collect(),
        progression,
    }
}

/// Dev (automatic) → Test: qa, perf (automatic), at least 1 → Canary: canary, optional →
/// Production: production (manual), all.
fn phased() -> LifecycleSpec {
    LifecycleSpec {
        name: LifecycleName::parse("standard").unwrap(),
        description: String::new(),
        phases: vec![
            phase("Dev", &[("dev", true)], Progression::All),
            phase(
                "Test",
                &[("qa", true), ("perf", true)],
                Progression::AtLeast { count: 1 },
            ),
            phase("Canary", &[("canary", false)], Progression::Optional),
            phase("Production", &[("production", false)], Progression::All),
        ],
    }
}

fn phased_environments() -> BTreeSet<EnvironmentName> {
    ["dev", "qa", "perf", "canary", "production"]
        .into_iter()
        .map(env)
        .collect()
}

fn phased_release() -> ReleaseSnapshot {
    ReleaseSnapshot {
        lifecycle: ReleaseLifecycle::from_spec(&phased(), Some("main".into())),
        ..release()
    }
}

#[test]
fn a_lifecycle_is_created_and_its_phases_are_checked() {
    let known = phased_environments();
    let created = given::<LifecycleState>(&[])
        .decide(phased(), false, &known)
        .expect("valid");
    assert_eq!(
        created,
        vec![LifecycleEvent::LifecycleCreated { spec: phased() }]
    );
    let state = given::<LifecycleState>(&created);
    then_refused(
        state.decide(phased(), false, &known),
        "lifecycle-exists",
        &["standard"],
    );
    then_refused(
        given::<LifecycleState>(&[]).decide(phased(), true, &known),
        "lifecycle-missing",
        &["standard"],
    );
    type Change = Box<dyn Fn(&mut LifecycleSpec)>;
    let cases: Vec<(Change, &str, &[&str])> = vec![
        (
            Box::new(|s| s.phases[1].environments[0].environment = env("moon")),
            "unknown-environment",
            &["Test", "moon"],
        ),
        (
            Box::new(|s| s.phases[3].environments.push(stage("dev", false))),
            "invalid-lifecycle",
            &["dev", "twice"],
        ),
        (
            Box::new(|s| s.phases[1].progression = Progression::AtLeast { count: 3 }),
            "invalid-lifecycle",
            &["Test", "at least 3", "2 environments"],
        ),
        (
            Box::new(|s| s.phases[2].environments.clear()),
            "invalid-lifecycle",
            &["Canary", "no environment"],
        ),
        (
            Box::new(|s| s.phases[2].name = "Dev".into()),
            "invalid-lifecycle",
            &["phases[2]"],
        ),
        (
            Box::new(|s| s.phases.clear()),
            "invalid-lifecycle",
            &["at least one phase"],
        ),
    ];
    for (change, code, mentions) in cases {
        let mut spec = phased();
        change(&mut spec);
        then_refused(
            given::<LifecycleState>(&[]).decide(spec, false, &known),
            code,
            mentions,
        );
    }
    let mut edited = phased();
    edited.phases.remove(2);
    assert_eq!(
        state.decide(edited.clone(), true, &known),
        Ok(vec![LifecycleEvent::LifecycleUpdated { spec: edited }])
    );
}

#[test]
fn promotion_past_a_phase_whose_requirement_is_unmet_is_refused_naming_it() {
    let release = phased_release();
    let dev = succeeded_in(&["dev"]);
    // Within a phase, environments go in any order: perf before qa is fine.
    assert!(
        given::<DeploymentState>(&[])
            .decide_request(request(&release, "perf", policy(0, false), &dev))
            .is_ok()
    );
    let none = succeeded_in(&[]);
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "qa",
            policy(0, false),
            &none,
        )),
        "lifecycle-requirement-unmet",
        &[
            "qa",
            "phase Dev",
            "all of its environments",
            "not yet in dev",
        ],
    );
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "production",
            policy(0, false),
            &dev,
        )),
        "lifecycle-requirement-unmet",
        &[
            "production",
            "phase Test",
            "at least 1",
            "qa, perf",
            "succeeded in 0",
        ],
    );
    // At least one of the Test phase is enough, and the optional Canary phase may be skipped.
    let qa = succeeded_in(&["dev", "qa"]);
    assert!(
        given::<DeploymentState>(&[])
            .decide_request(request(&release, "production", policy(0, false), &qa))
            .is_ok()
    );
    assert!(
        given::<DeploymentState>(&[])
            .decide_request(request(&release, "canary", policy(0, false), &qa))
            .is_ok()
    );
}

#[test]
fn at_least_n_names_how_many_succeeded_and_where() {
    let mut spec = phased();
    spec.phases[1].progression = Progression::AtLeast { count: 2 };
    let release = ReleaseSnapshot {
        lifecycle: ReleaseLifecycle::from_spec(&spec, None),
        ..release()
    };
    let qa = succeeded_in(&["dev", "qa"]);
    then_refused(
        given::<DeploymentState>(&[]).decide_request(request(
            &release,
            "production",
            policy(0, false),
            &qa,
        )),
        "lifecycle-requirement-unmet",
        &["at least 2", "succeeded in 1 (qa)"],
    );
}

#[test]
fn a_rollback_is_not_held_to_the_lifecycle() {
    let release = phased_release();
    let none = succeeded_in(&[]);
    let rollback = RequestDeployment {
        kind: DeploymentKind::Rollback,
        reverts: Some(Uuid::nil()),
        ..request(&release, "production", policy(0, false), &none)
    };
    let events = given::<DeploymentState>(&[])
        .decide_request(rollback)
        .expect("a rollback goes back to what was live");
    assert!(matches!(
        events[0],
        DeploymentEvent::DeploymentRequested {
            kind: DeploymentKind::Rollback,
            ..
        }
    ));
}

#[test]
fn the_workflow_deploys_automatic_environments_of_every_phase_it_may_enter() {
    let lifecycle = ReleaseLifecycle::from_spec(&phased(), None);
    let targets = |names: &[&str]| lifecycle.automatic_targets(&succeeded_in(names));
    assert_eq!(targets(&[]), vec![env("dev")]);
    assert_eq!(targets(&["dev"]), vec![env("dev"), env("qa"), env("perf")]);
    // Test met by qa; Canary is optional and manual; Production is manual.
    assert_eq!(
        targets(&["dev", "qa"]),
        vec![env("dev"), env("qa"), env("perf")]
    );
    let mut automatic_production = phased();
    automatic_production.phases[3].environments[0].automatic = true;
    let lifecycle = ReleaseLifecycle::from_spec(&automatic_production, None);
    assert!(
        lifecycle
            .automatic_targets(&succeeded_in(&["dev", "perf"]))
            .contains(&env("production")),
        "an optional phase does not stop automatic promotion past it"
    );
    assert!(
        !lifecycle
            .automatic_targets(&succeeded_in(&["dev"]))
            .contains(&env("production"))
    );
}

#[test]
fn a_project_without_channels_follows_its_own_stages_one_phase_each() {
    let lifecycle = ReleaseLifecycle::from_stages(&spec().lifecycle);
    assert_eq!(lifecycle.phases.len(), 3);
    assert!(
        lifecycle
            .phases
            .iter()
            .all(|p| p.progression == Progression::All && p.environments.len() == 1)
    );
    assert_eq!(lifecycle.name, None);
}

#[test]
fn a_release_recorded_before_phases_existed_reads_its_stages_as_phases() {
    let mut stored = serde_json::to_value(release()).unwrap();
    stored["lifecycle"] = serde_json::json!([
        {"environment": "dev", "automatic": true},
        {"environment": "production", "automatic": false}
    ]);
    let snapshot: ReleaseSnapshot = serde_json::from_value(stored).unwrap();
    assert_eq!(
        snapshot.lifecycle,
        ReleaseLifecycle::from_stages(&[stage("dev", true), stage("production", false)])
    );
    // And today's form round-trips.
    let phased = phased_release();
    let again: ReleaseSnapshot =
        serde_json::from_value(serde_json::to_value(&phased).unwrap()).unwrap();
    assert_eq!(again, phased);
}

#[test]
fn channels_pick_a_lifecycle_by_branch_first_match_wins_and_must_exist() {
    let mut project = spec();
    let standard = LifecycleName::parse("standard").unwrap();
    project.channels = vec![
        Channel {
            name: "features".into(),
            branch: "feature/*".into(),
            lifecycle: standard.clone(),
        },
        Channel {
            name: "everything".into(),
            branch: "*".into(),
            lifecycle: standard.clone(),
        },
    ];
    assert_eq!(
        project
            .channel_for("feature/login")
            .map(|c| c.name.as_str()),
        Some("features")
    );
    assert_eq!(
        project.channel_for("main").map(|c| c.name.as_str()),
        Some("everything")
    );
    assert!(
        given::<ProjectState>(&[])
            .decide(ProjectCommand::Create(project.clone()), &known())
            .is_ok()
    );
    let mut unknown = project.clone();
    unknown.channels[1].lifecycle = LifecycleName::parse("nowhere").unwrap();
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(unknown), &known()),
        "unknown-lifecycle",
        &["everything", "nowhere"],
    );
    let mut twice = project;
    twice.channels[1].name = "features".into();
    then_refused(
        given::<ProjectState>(&[]).decide(ProjectCommand::Create(twice), &known()),
        "invalid-project",
        &["features"],
    );
}

#[test]
fn soak_time_refuses_a_person_and_makes_the_workflow_wait() {
    let release = phased_release();
    // Dev succeeded ten minutes ago; qa asks for an hour of soak.
    let ten_minutes_ago: BTreeMap<EnvironmentName, DateTime<Utc>> =
        [(env("dev"), Utc::now() - Duration::minutes(10))].into();
    let soaking = |by_workflow| RequestDeployment {
        soak_seconds: Some(3600),
        by_workflow,
        ..request(&release, "qa", policy(1, false), &ten_minutes_ago)
    };
    then_refused(
        given::<DeploymentState>(&[]).decide_request(soaking(false)),
        "soak-time-not-elapsed",
        &["qa", "3600 s", "may be promoted from"],
    );
    let events = given::<DeploymentState>(&[])
        .decide_request(soaking(true))
        .expect("the workflow waits");
    let until = ten_minutes_ago[&env("dev")] + Duration::hours(1);
    assert_eq!(events[1], DeploymentEvent::DeploymentWaiting { until });
    let waiting = given::<DeploymentState>(&events);
    assert_eq!(waiting.status, DeploymentStatus::Waiting);
    then_refused(
        waiting.decide(DeploymentCommand::EndWait, until - Duration::seconds(1)),
        "not-waiting",
        &["soak"],
    );
    let ended = waiting
        .decide(DeploymentCommand::EndWait, until)
        .expect("due");
    assert_eq!(
        ended,
        vec![DeploymentEvent::DeploymentAwaitingApproval {
            required_approvals: 1
        }]
    );
    // Once the hour has passed a person may promote too.
    let long_ago = succeeded_in(&["dev"]);
    let events = given::<DeploymentState>(&[])
        .decide_request(RequestDeployment {
            soak_seconds: Some(60),
            ..request(&release, "qa", policy(0, false), &long_ago)
        })
        .expect("soaked");
    assert_eq!(events[1], DeploymentEvent::DeploymentQueued {});
}

#[test]
fn soak_time_counts_from_when_the_previous_phase_was_met() {
    let lifecycle = ReleaseLifecycle::from_spec(&phased(), None);
    let t0 = Utc::now() - Duration::hours(3);
    let first: BTreeMap<EnvironmentName, DateTime<Utc>> = [
        (env("dev"), t0),
        (env("qa"), t0 + Duration::hours(1)),
        (env("perf"), t0 + Duration::hours(2)),
    ]
    .into();
    // Test needs at least 1: met when qa succeeded. Canary (optional) was skipped.
    assert_eq!(
        lifecycle.ready_since(3, &first),
        Some(t0 + Duration::hours(1))
    );
    assert_eq!(lifecycle.ready_since(1, &first), Some(t0));
    assert_eq!(lifecycle.ready_since(0, &first), None);
}
