//! Deployment: one attempt to put one release into one environment — approvals, then a job.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{
    Aggregate,
    freeze::FreezeOverride,
    job::{JobCommand, JobDecision, JobEvent, JobState, Lease, LeaseExtension, StepReport},
    refuse,
    release::ReleaseSnapshot,
};
use crate::{
    error::DomainError,
    names::{EnvironmentName, ProjectName},
};

/// Who must approve deployments into an environment.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalPolicy {
    /// Distinct approvals from holders of `approve:<env>` needed before the deployment is
    /// queued (0: none).
    pub required_approvals: u32,
    /// Whether the requester or the release's creator may approve.
    #[serde(default)]
    pub allow_self_approval: bool,
    /// Further rules that must all hold too, e.g. one approval from `approve:security`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<ApprovalRule>,
    /// A deployment still waiting for approval this long after it was requested expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_timeout_seconds: Option<u64>,
}

/// A rule of an approval policy: `count` distinct approvers holding `scope`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalRule {
    /// The scope an approver must hold, e.g. `approve:security`.
    pub scope: String,
    /// How many distinct approvers.
    pub count: u32,
}

/// Whether `scopes` include `scope`, a wildcard scope (`approve:*`) covering a named one.
pub fn holds_scope(scopes: &[String], scope: &str) -> bool {
    scopes.iter().any(|held| {
        held == scope
            || held
                .strip_suffix(":*")
                .is_some_and(|family| scope.starts_with(&format!("{family}:")))
    })
}

impl ApprovalPolicy {
    /// Checks the policy is sensible.
    pub fn validate(&self) -> Result<(), DomainError> {
        let total: u32 = self.required_approvals + self.rules.iter().map(|r| r.count).sum::<u32>();
        if total > 20 {
            return refuse(
                "invalid-policy",
                "required_approvals and the rules' counts may ask for at most 20 approvals in all",
            );
        }
        if self
            .rules
            .iter()
            .any(|r| r.count == 0 || r.scope.trim().is_empty())
        {
            return refuse(
                "invalid-policy",
                "every rule needs a scope and a count of at least 1",
            );
        }
        Ok(())
    }

    /// Every rule for `environment`: `required_approvals` from `approve:<env>`, then the
    /// extra rules.
    pub fn rules_for(&self, environment: &EnvironmentName) -> Vec<ApprovalRule> {
        let mut rules = Vec::with_capacity(self.rules.len() + 1);
        if self.required_approvals > 0 {
            rules.push(ApprovalRule {
                scope: format!("approve:{environment}"),
                count: self.required_approvals,
            });
        }
        rules.extend(self.rules.iter().cloned());
        rules
    }

    /// What follows a request (or the end of a soak wait): approvals when the policy needs
    /// any, else the queue.
    fn next_step(&self) -> DeploymentEvent {
        match self.total_required() {
            0 => DeploymentEvent::DeploymentQueued {},
            required => DeploymentEvent::DeploymentAwaitingApproval {
                required_approvals: required,
            },
        }
    }

    /// How many approvals are needed in all.
    pub fn total_required(&self) -> u32 {
        self.required_approvals + self.rules.iter().map(|r| r.count).sum::<u32>()
    }

    /// What each rule still needs after `approvers`, each counted once, for the first open
    /// rule their scopes satisfy (in approval order). `None` for an approver no open rule
    /// takes.
    pub fn remaining(
        &self,
        environment: &EnvironmentName,
        approvers: &[&Approver],
    ) -> (Vec<ApprovalRule>, Vec<bool>) {
        let mut open = self.rules_for(environment);
        let counted = approvers
            .iter()
            .map(|approver| {
                let rule = open
                    .iter_mut()
                    .find(|rule| rule.count > 0 && holds_scope(&approver.scopes, &rule.scope));
                rule.map(|rule| rule.count -= 1).is_some()
            })
            .collect();
        (open, counted)
    }
}

/// Why a deployment exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentKind {
    /// A release's first deployment into the environment.
    Deploy,
    /// The same release deployed again.
    Redeploy,
    /// An earlier release deployed again to revert the current one.
    Rollback,
}

/// Where a deployment is in its life.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeploymentStatus {
    /// Just requested (transient: the same append moves it on).
    #[default]
    Requested,
    /// Waiting until the release has soaked long enough in the phase before.
    Waiting,
    /// Waiting for approvals.
    AwaitingApproval,
    /// Waiting for an agent.
    Queued,
    /// An agent runs it.
    Running,
    /// It is live.
    Succeeded,
    /// A step failed.
    Failed,
    /// An approver rejected it.
    Rejected,
    /// Someone cancelled it.
    Cancelled,
    /// A newer release's deployment took its place before it ran.
    Superseded,
    /// Nobody approved it in time.
    Expired,
}

impl DeploymentStatus {
    /// Whether the deployment has ended.
    pub fn is_finished(self) -> bool {
        matches!(
            self,
            Self::Succeeded
                | Self::Failed
                | Self::Rejected
                | Self::Cancelled
                | Self::Superseded
                | Self::Expired
        )
    }
}

/// The subject behind an approval decision, as its token said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approver {
    /// JWT subject.
    pub subject: String,
    /// Scopes the token held.
    pub scopes: Vec<String>,
    /// The token's `jti`.
    pub token_id: Option<String>,
}

/// Approve or reject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalDecision {
    /// Counts towards the policy.
    Approve,
    /// Ends the deployment.
    Reject,
}

/// Events of `deployment-<uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum DeploymentEvent {
    /// Someone (or the workflow) asked for the deployment.
    DeploymentRequested {
        /// The deployment's id.
        deployment_id: Uuid,
        /// The release deployed.
        release_id: Uuid,
        /// Its version.
        release_version: String,
        /// Project.
        project: ProjectName,
        /// Target.
        environment: EnvironmentName,
        /// Deploy, redeploy or rollback.
        kind: DeploymentKind,
        /// Who asked.
        requested_by: String,
        /// Who created the release.
        release_created_by: String,
        /// The deployment a rollback reverts.
        reverts: Option<Uuid>,
        /// The environment's policy when requested.
        policy: ApprovalPolicy,
        /// The release live in the environment when requested (none for the first).
        #[serde(default)]
        previous_release_version: Option<String>,
        /// A freeze held and someone overrode it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        freeze_override: Option<FreezeOverride>,
    },
    /// The workflow promoted the release before its soak time was up: the deployment waits
    /// until `until`, then moves on to approvals or the queue.
    DeploymentWaiting {
        /// When the wait ends.
        until: DateTime<Utc>,
    },
    /// The deployment waits for approvals.
    DeploymentAwaitingApproval {
        /// How many.
        required_approvals: u32,
    },
    /// One approval was given.
    DeploymentApprovalGranted {
        /// Who.
        approver: Approver,
        /// Why.
        comment: String,
    },
    /// An approver rejected the deployment; it ends here.
    DeploymentRejected {
        /// Who.
        approver: Approver,
        /// Why.
        comment: String,
    },
    /// Approved (or no approval needed): waiting for an agent.
    DeploymentQueued {},
    /// An agent leased the job.
    JobLeased(Lease),
    /// The agent's heartbeat extended the lease.
    JobLeaseExtended(LeaseExtension),
    /// The agent started running it.
    DeploymentStarted {
        /// The lease.
        lease_id: Uuid,
        /// The agent.
        agent: String,
    },
    /// A step ended.
    StepReported(StepReport),
    /// The release is live in the environment.
    DeploymentSucceeded {
        /// The lease.
        lease_id: Uuid,
    },
    /// The deployment failed.
    DeploymentFailed {
        /// The lease.
        lease_id: Option<Uuid>,
        /// Why.
        reason: String,
    },
    /// Someone cancelled it.
    DeploymentCancelled {
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
    /// Nobody gave the approvals it needed within the environment's approval timeout.
    DeploymentApprovalExpired {
        /// How long it waited, in seconds.
        waited_seconds: u64,
    },
    /// A newer release's deployment took its place before it ran (it is not deleted).
    DeploymentSuperseded {
        /// The deployment that supersedes it.
        by_deployment: Uuid,
        /// That deployment's release version.
        by_release_version: String,
    },
}

/// Everything requesting a deployment needs to know.
#[derive(Debug, Clone)]
pub struct RequestDeployment<'a> {
    /// New deployment id.
    pub deployment_id: Uuid,
    /// The release.
    pub release: &'a ReleaseSnapshot,
    /// Target environment.
    pub environment: EnvironmentName,
    /// The environment's policy now.
    pub policy: ApprovalPolicy,
    /// Deploy or rollback (deploy becomes redeploy when the release was live there).
    pub kind: DeploymentKind,
    /// Who asks.
    pub requested_by: String,
    /// For a rollback: the deployment reverted.
    pub reverts: Option<Uuid>,
    /// Environments where this release has a succeeded deployment, and when it first did.
    pub succeeded_in: &'a BTreeMap<EnvironmentName, DateTime<Utc>>,
    /// How long the environment wants a release to have been ready (its soak time).
    pub soak_seconds: Option<u64>,
    /// Whether the workflow asks (it waits out a soak time instead of being refused).
    pub by_workflow: bool,
    /// The time of the request.
    pub now: DateTime<Utc>,
    /// The retention rule that deleted the release's content, when one did.
    pub content_deleted: Option<String>,
    /// The release live in the environment now, if any.
    pub previous_release_version: Option<String>,
    /// Why the release is blocked, when it is.
    pub release_blocked: Option<String>,
    /// The reason of a freeze that holds in the environment now for this deployment.
    pub frozen: Option<String>,
    /// Who overrides that freeze and why (they hold `freeze:override`).
    pub freeze_override: Option<FreezeOverride>,
}

/// Commands on an existing deployment.
#[derive(Debug, Clone)]
pub enum DeploymentCommand {
    /// Approve or reject.
    Decide {
        /// Who.
        approver: Approver,
        /// Approve or reject.
        decision: ApprovalDecision,
        /// Why.
        comment: String,
    },
    /// A job-protocol command.
    Job(JobCommand),
    /// Cancel it.
    Cancel {
        /// Who.
        by: String,
        /// Why.
        reason: String,
    },
    /// Expire a deployment waiting for approval whose time is up (`waited_seconds` since it
    /// was requested, as the log's clock says).
    ExpireApproval {
        /// How long it has waited.
        waited_seconds: u64,
    },
    /// End a soak wait whose time is up (the workflow's sweeper).
    EndWait,
    /// Let a newer release's deployment take its place (only before it runs).
    Supersede {
        /// The newer deployment.
        by_deployment: Uuid,
        /// Its release version.
        by_release_version: String,
    },
}

/// A deployment as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct DeploymentState {
    /// Id; None until requested.
    pub id: Option<Uuid>,
    /// Release.
    pub release_id: Option<Uuid>,
    /// Release version.
    pub release_version: String,
    /// Project.
    pub project: Option<ProjectName>,
    /// Target.
    pub environment: Option<EnvironmentName>,
    /// Kind.
    pub kind: Option<DeploymentKind>,
    /// Who asked.
    pub requested_by: String,
    /// Who created the release.
    pub release_created_by: String,
    /// Reverted deployment, for a rollback.
    pub reverts: Option<Uuid>,
    /// Policy when requested.
    pub policy: ApprovalPolicy,
    /// The release live in the environment when requested.
    pub previous_release_version: Option<String>,
    /// Status.
    pub status: DeploymentStatus,
    /// When a soak wait ends.
    pub waiting_until: Option<DateTime<Utc>>,
    /// Who overrode a freeze for it, and why.
    pub freeze_override: Option<FreezeOverride>,
    /// Approvals given.
    pub approvals: Vec<(Approver, String)>,
    /// The rejection, if any.
    pub rejection: Option<(Approver, String)>,
    /// Job protocol state.
    pub job: JobState,
    /// Why it failed or was cancelled.
    pub reason: Option<String>,
}

impl Aggregate for DeploymentState {
    type Event = DeploymentEvent;

    fn evolve(mut self, event: &DeploymentEvent) -> Self {
        use DeploymentEvent as E;
        match event {
            E::DeploymentRequested {
                deployment_id,
                release_id,
                release_version,
                project,
                environment,
                kind,
                requested_by,
                release_created_by,
                reverts,
                policy,
                previous_release_version,
                freeze_override,
            } => {
                self.freeze_override = freeze_override.clone();
                self.previous_release_version = previous_release_version.clone();
                self.id = Some(*deployment_id);
                self.release_id = Some(*release_id);
                self.release_version = release_version.clone();
                self.project = Some(project.clone());
                self.environment = Some(environment.clone());
                self.kind = Some(*kind);
                self.requested_by = requested_by.clone();
                self.release_created_by = release_created_by.clone();
                self.reverts = *reverts;
                self.policy = policy.clone();
                self.status = DeploymentStatus::Requested;
            }
            E::DeploymentWaiting { until } => {
                self.status = DeploymentStatus::Waiting;
                self.waiting_until = Some(*until);
            }
            E::DeploymentAwaitingApproval { .. } => {
                self.status = DeploymentStatus::AwaitingApproval
            }
            E::DeploymentApprovalGranted { approver, comment } => {
                self.approvals.push((approver.clone(), comment.clone()));
            }
            E::DeploymentRejected { approver, comment } => {
                self.status = DeploymentStatus::Rejected;
                self.rejection = Some((approver.clone(), comment.clone()));
            }
            E::DeploymentQueued {} => self.status = DeploymentStatus::Queued,
            E::JobLeased(lease) => {
                self.job.evolve(&JobEvent::Leased(lease.clone()));
                self.status = DeploymentStatus::Queued;
            }
            E::JobLeaseExtended(extension) => {
                self.job.evolve(&JobEvent::Extended(extension.clone()))
            }
            E::DeploymentStarted { .. } => self.status = DeploymentStatus::Running,
            E::StepReported(step) => self.job.evolve(&JobEvent::Step(step.clone())),
            E::DeploymentSucceeded { .. } => self.status = DeploymentStatus::Succeeded,
            E::DeploymentFailed { reason, .. } => {
                self.status = DeploymentStatus::Failed;
                self.reason = Some(reason.clone());
            }
            E::DeploymentCancelled { reason, .. } => {
                self.status = DeploymentStatus::Cancelled;
                self.reason = Some(reason.clone());
            }
            E::DeploymentApprovalExpired { waited_seconds } => {
                self.status = DeploymentStatus::Expired;
                self.reason = Some(format!("no approval within {waited_seconds} s"));
            }
            E::DeploymentSuperseded {
                by_release_version, ..
            } => {
                self.status = DeploymentStatus::Superseded;
                self.reason = Some(format!("superseded by release {by_release_version}"));
            }
        }
        self
    }
}

impl DeploymentState {
    /// Whether an agent may lease this deployment now.
    pub fn leasable(&self, now: DateTime<Utc>) -> bool {
        matches!(
            self.status,
            DeploymentStatus::Queued | DeploymentStatus::Running
        ) && self.job.leasable(now)
    }

    /// Requests a deployment of a release into an environment, enforcing its lifecycle.
    pub fn decide_request(
        &self,
        request: RequestDeployment<'_>,
    ) -> Result<Vec<DeploymentEvent>, DomainError> {
        if self.id.is_some() {
            return refuse(
                "deployment-exists",
                format!("deployment {} already exists", request.deployment_id),
            );
        }
        let release = request.release;
        if let Some(reason) = &request.release_blocked {
            return refuse(
                "release-blocked",
                format!(
                    "release {} is blocked and may not be deployed: {reason}",
                    release.version
                ),
            );
        }
        if let Some(reason) = &request.frozen
            && request.freeze_override.is_none()
        {
            return refuse(
                "environment-frozen",
                format!(
                    "{} is frozen: {reason}; a holder of freeze:override may override it with a reason",
                    request.environment
                ),
            );
        }
        let freeze_override = request.frozen.as_ref().and(request.freeze_override.clone());
        if let Some(policy) = &request.content_deleted {
            return refuse(
                "release-content-deleted",
                format!(
                    "release {} can no longer be deployed: retention deleted its artifacts ({policy})",
                    release.version
                ),
            );
        }
        // A rollback returns to a release that was live here: the lifecycle let it in then.
        let wait_until = if request.kind == DeploymentKind::Rollback {
            None
        } else {
            self.lifecycle_allows(&request)?
        };
        let kind = match request.kind {
            DeploymentKind::Deploy if request.succeeded_in.contains_key(&request.environment) => {
                DeploymentKind::Redeploy
            }
            kind => kind,
        };
        if kind == DeploymentKind::Rollback && request.reverts.is_none() {
            return refuse(
                "invalid-rollback",
                "a rollback must name the deployment it reverts",
            );
        }
        let next = match wait_until {
            Some(until) => DeploymentEvent::DeploymentWaiting { until },
            None => request.policy.next_step(),
        };
        Ok(vec![
            DeploymentEvent::DeploymentRequested {
                deployment_id: request.deployment_id,
                release_id: release.release_id,
                release_version: release.version.clone(),
                project: release.project.clone(),
                environment: request.environment,
                kind,
                requested_by: request.requested_by,
                release_created_by: release.created_by.clone(),
                reverts: request.reverts,
                policy: request.policy,
                previous_release_version: request.previous_release_version,
                freeze_override,
            },
            next,
        ])
    }

    /// Checks the release's lifecycle lets it into the environment now: the environment is in
    /// it, every earlier phase's requirement is met, and the release has been ready for the
    /// environment's soak time. A workflow request that only needs to wait out the soak time
    /// gets the time to wait until.
    fn lifecycle_allows(
        &self,
        request: &RequestDeployment<'_>,
    ) -> Result<Option<DateTime<Utc>>, DomainError> {
        let release = request.release;
        let lifecycle = &release.lifecycle;
        let Some(phase) = lifecycle.phase_of(&request.environment) else {
            return refuse(
                "not-in-lifecycle",
                format!(
                    "environment {} is not in the lifecycle of release {} of project {}",
                    request.environment, release.version, release.project
                ),
            );
        };
        if let Some(unmet) = lifecycle.unmet_before(phase, request.succeeded_in) {
            return refuse(
                "lifecycle-requirement-unmet",
                format!(
                    "release {} cannot enter {} yet: {unmet}",
                    release.version, request.environment
                ),
            );
        }
        let (Some(soak), Some(since)) = (
            request.soak_seconds.filter(|s| *s > 0),
            lifecycle.ready_since(phase, request.succeeded_in),
        ) else {
            return Ok(None);
        };
        let until =
            since + chrono::Duration::seconds(i64::try_from(soak).unwrap_or(i64::MAX / 1000));
        if until <= request.now {
            return Ok(None);
        }
        if request.by_workflow {
            return Ok(Some(until));
        }
        refuse(
            "soak-time-not-elapsed",
            format!(
                "{} requires release {} to have been ready for {soak} s (since it met the previous \
                 phase's requirement at {}); it may be promoted from {}",
                request.environment,
                release.version,
                since.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                until.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
        )
    }

    /// Decides a command on an existing deployment at time `now`.
    pub fn decide(
        &self,
        command: DeploymentCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeploymentEvent>, DomainError> {
        let Some(id) = self.id else {
            return refuse("deployment-missing", "the deployment does not exist");
        };
        if self.status.is_finished() {
            return refuse(
                "deployment-finished",
                format!(
                    "deployment {id} has already ended ({})",
                    status_name(self.status)
                ),
            );
        }
        match command {
            DeploymentCommand::Decide {
                approver,
                decision,
                comment,
            } => self.decide_approval(id, approver, decision, comment),
            DeploymentCommand::Cancel { by, reason } => {
                Ok(vec![DeploymentEvent::DeploymentCancelled { by, reason }])
            }
            DeploymentCommand::EndWait => {
                if self
                    .waiting_until
                    .is_none_or(|until| self.status != DeploymentStatus::Waiting || until > now)
                {
                    return refuse(
                        "not-waiting",
                        format!("deployment {id} is not waiting past its soak time"),
                    );
                }
                Ok(vec![self.policy.next_step()])
            }
            DeploymentCommand::ExpireApproval { waited_seconds } => {
                let timeout = self.policy.approval_timeout_seconds;
                if self.status != DeploymentStatus::AwaitingApproval
                    || timeout.is_none_or(|timeout| waited_seconds < timeout)
                {
                    return refuse(
                        "approval-not-expired",
                        format!("deployment {id} is not waiting past its approval timeout"),
                    );
                }
                Ok(vec![DeploymentEvent::DeploymentApprovalExpired {
                    waited_seconds,
                }])
            }
            DeploymentCommand::Supersede {
                by_deployment,
                by_release_version,
            } => {
                let started = self.status == DeploymentStatus::Running
                    || self
                        .job
                        .lease
                        .as_ref()
                        .is_some_and(|lease| lease.expires_at > now);
                if started {
                    return refuse(
                        "deployment-started",
                        format!(
                            "deployment {id} is already with an agent and cannot be superseded"
                        ),
                    );
                }
                Ok(vec![DeploymentEvent::DeploymentSuperseded {
                    by_deployment,
                    by_release_version,
                }])
            }
            DeploymentCommand::Job(job) => self.decide_job(job, now),
        }
    }

    fn decide_approval(
        &self,
        id: Uuid,
        approver: Approver,
        decision: ApprovalDecision,
        comment: String,
    ) -> Result<Vec<DeploymentEvent>, DomainError> {
        if self.status != DeploymentStatus::AwaitingApproval {
            return refuse(
                "deployment-not-awaiting-approval",
                format!(
                    "deployment {id} is {}, not awaiting approval",
                    status_name(self.status)
                ),
            );
        }
        if !self.policy.allow_self_approval {
            if approver.subject == self.requested_by {
                return refuse(
                    "self-approval",
                    format!(
                        "{} requested this deployment and may not approve or reject it",
                        approver.subject
                    ),
                );
            }
            if approver.subject == self.release_created_by {
                return refuse(
                    "self-approval",
                    format!(
                        "{} created this release and may not approve or reject its deployment",
                        approver.subject
                    ),
                );
            }
        }
        if self
            .approvals
            .iter()
            .any(|(given, _)| given.subject == approver.subject)
        {
            return refuse(
                "already-approved",
                format!(
                    "{} has already approved deployment {id}; one subject counts once",
                    approver.subject
                ),
            );
        }
        match decision {
            ApprovalDecision::Reject => {
                if comment.trim().is_empty() {
                    return refuse(
                        "rejection-needs-reason",
                        "a rejection needs a comment giving the reason",
                    );
                }
                Ok(vec![DeploymentEvent::DeploymentRejected {
                    approver,
                    comment,
                }])
            }
            ApprovalDecision::Approve => {
                let Some(environment) = self.environment.clone() else {
                    return refuse("deployment-missing", "the deployment has no environment");
                };
                let mut approvers: Vec<&Approver> = self.approvals.iter().map(|(a, _)| a).collect();
                approvers.push(&approver);
                let (open, counted) = self.policy.remaining(&environment, &approvers);
                if counted.last() == Some(&false) {
                    return refuse(
                        "approval-not-counted",
                        format!(
                            "{}'s scopes satisfy no approval rule that is still open ({})",
                            approver.subject,
                            open.iter()
                                .filter(|r| r.count > 0)
                                .map(|r| format!("{} more from {}", r.count, r.scope))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    );
                }
                let done = open.iter().all(|rule| rule.count == 0);
                let mut events =
                    vec![DeploymentEvent::DeploymentApprovalGranted { approver, comment }];
                if done {
                    events.push(DeploymentEvent::DeploymentQueued {});
                }
                Ok(events)
            }
        }
    }

    fn decide_job(
        &self,
        command: JobCommand,
        now: DateTime<Utc>,
    ) -> Result<Vec<DeploymentEvent>, DomainError> {
        if !matches!(
            self.status,
            DeploymentStatus::Queued | DeploymentStatus::Running
        ) {
            return refuse(
                "deployment-not-queued",
                format!(
                    "the deployment is {}, not queued for an agent",
                    status_name(self.status)
                ),
            );
        }
        let started = self.status == DeploymentStatus::Running;
        Ok(vec![match self.job.decide(command, started, now)? {
            JobDecision::Leased(lease) => DeploymentEvent::JobLeased(lease),
            JobDecision::Extended(extension) => DeploymentEvent::JobLeaseExtended(extension),
            JobDecision::Started { lease_id, agent } => {
                DeploymentEvent::DeploymentStarted { lease_id, agent }
            }
            JobDecision::Step(step) => DeploymentEvent::StepReported(step),
            JobDecision::Succeeded { lease_id } => {
                DeploymentEvent::DeploymentSucceeded { lease_id }
            }
            JobDecision::Failed { lease_id, reason } => DeploymentEvent::DeploymentFailed {
                lease_id: Some(lease_id),
                reason,
            },
        }])
    }
}

/// The wire name of a status, for messages.
pub fn status_name(status: DeploymentStatus) -> &'static str {
    match status {
        DeploymentStatus::Requested => "requested",
        DeploymentStatus::Waiting => "waiting",
        DeploymentStatus::AwaitingApproval => "awaiting_approval",
        DeploymentStatus::Queued => "queued",
        DeploymentStatus::Running => "running",
        DeploymentStatus::Succeeded => "succeeded",
        DeploymentStatus::Failed => "failed",
        DeploymentStatus::Rejected => "rejected",
        DeploymentStatus::Cancelled => "cancelled",
        DeploymentStatus::Superseded => "superseded",
        DeploymentStatus::Expired => "expired",
    }
}
