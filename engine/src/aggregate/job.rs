//! The job protocol shared by builds and deployments: leases, heartbeats, step reports.
//!
//! A job is leased exclusively (the lease is an event appended at the stream's exact version,
//! so two agents cannot both win). A lease that expires puts the job back in the queue; any
//! report carrying an older or expired lease is refused.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::refuse;
use crate::error::DomainError;

/// An agent's exclusive claim on a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    /// The lease's id; every report must carry it.
    pub lease_id: Uuid,
    /// The agent's name.
    pub agent: String,
    /// When it lapses unless extended.
    pub expires_at: DateTime<Utc>,
    /// 1 for the first lease of the job, then 2, …
    pub attempt: u32,
}

/// A lease's new expiry after a heartbeat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaseExtension {
    /// The lease extended.
    pub lease_id: Uuid,
    /// Its new expiry.
    pub expires_at: DateTime<Utc>,
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepOutcome {
    /// Exit code 0.
    Succeeded,
    /// Non-zero exit, timeout or error.
    Failed,
    /// Not run because an earlier step failed.
    Skipped,
}

/// An agent's report of one step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// The lease it was reported under.
    pub lease_id: Uuid,
    /// Step name.
    pub name: String,
    /// How it ended.
    pub outcome: StepOutcome,
    /// Process exit code, if it ran.
    #[serde(default)]
    pub exit_code: Option<i32>,
    /// Wall time in milliseconds.
    #[serde(default)]
    pub duration_ms: u64,
}

/// A job's protocol state, embedded in builds and deployments.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct JobState {
    /// The latest lease, if any.
    pub lease: Option<Lease>,
    /// How many leases were granted.
    pub attempts: u32,
    /// Steps reported under the current lease.
    pub steps: Vec<StepReport>,
}

/// Job-protocol facts, mapped by each aggregate to its own events.
#[derive(Debug, Clone, PartialEq)]
pub enum JobEvent {
    /// Leased to an agent.
    Leased(Lease),
    /// Lease extended.
    Extended(LeaseExtension),
    /// A step ended.
    Step(StepReport),
}

impl JobState {
    /// Applies a job fact.
    pub fn evolve(&mut self, event: &JobEvent) {
        match event {
            JobEvent::Leased(lease) => {
                self.attempts = lease.attempt;
                self.lease = Some(lease.clone());
                self.steps.clear();
            }
            JobEvent::Extended(extension) => {
                if let Some(lease) = &mut self.lease
                    && lease.lease_id == extension.lease_id
                {
                    lease.expires_at = extension.expires_at;
                }
            }
            JobEvent::Step(step) => self.steps.push(step.clone()),
        }
    }

    /// Whether the job may be leased now: never leased, or its lease has lapsed.
    pub fn leasable(&self, now: DateTime<Utc>) -> bool {
        self.lease
            .as_ref()
            .is_none_or(|lease| lease.expires_at <= now)
    }

    /// Refuses unless `lease_id` is the current lease and it has not lapsed.
    pub fn check_lease(&self, lease_id: Uuid, now: DateTime<Utc>) -> Result<&Lease, DomainError> {
        match &self.lease {
            Some(lease) if lease.lease_id != lease_id => refuse(
                "lease-superseded",
                format!("lease {lease_id} is not the job's current lease"),
            ),
            Some(lease) if lease.expires_at <= now => refuse(
                "lease-expired",
                format!("lease {lease_id} expired at {}", lease.expires_at),
            ),
            Some(lease) => Ok(lease),
            None => refuse("not-leased", "the job has no lease"),
        }
    }

    /// Decides a job-protocol command. `started` says whether the agent has started the job
    /// under its current lease; builds and deployments name the decision with their own event.
    pub fn decide(
        &self,
        command: JobCommand,
        started: bool,
        now: DateTime<Utc>,
    ) -> Result<JobDecision, DomainError> {
        let require_started = |lease_id: Uuid| self.check_started(lease_id, started, now);
        match command {
            JobCommand::Lease {
                lease_id,
                agent,
                duration,
            } => {
                if !self.leasable(now) {
                    return refuse("job-leased", "the job is leased by another agent");
                }
                if agent.trim().is_empty() {
                    return refuse("invalid-agent", "agent name must not be empty");
                }
                Ok(JobDecision::Leased(Lease {
                    lease_id,
                    agent,
                    expires_at: now + duration,
                    attempt: self.attempts + 1,
                }))
            }
            JobCommand::Heartbeat { lease_id, duration } => {
                self.check_lease(lease_id, now)?;
                Ok(JobDecision::Extended(LeaseExtension {
                    lease_id,
                    expires_at: now + duration,
                }))
            }
            JobCommand::Start { lease_id } => {
                let lease = self.check_lease(lease_id, now)?;
                if started {
                    return refuse(
                        "job-already-started",
                        "the job was already started under this lease",
                    );
                }
                Ok(JobDecision::Started {
                    lease_id,
                    agent: lease.agent.clone(),
                })
            }
            JobCommand::ReportStep(step) => {
                require_started(step.lease_id)?;
                if step.name.trim().is_empty() {
                    return refuse("invalid-step", "step name must not be empty");
                }
                Ok(JobDecision::Step(step))
            }
            JobCommand::Abandon { max_attempts } => match &self.lease {
                Some(lease) if lease.expires_at <= now && self.attempts >= max_attempts => {
                    Ok(JobDecision::Failed {
                        lease_id: lease.lease_id,
                        reason: format!(
                            "the job was leased {} times and each lease lapsed without an answer \
                             (last agent: {}); giving up",
                            self.attempts, lease.agent
                        ),
                    })
                }
                _ => refuse(
                    "job-not-abandoned",
                    "the job still has a live lease or attempts left",
                ),
            },
            JobCommand::Complete { lease_id, failure } => {
                require_started(lease_id)?;
                Ok(match failure {
                    None => JobDecision::Succeeded { lease_id },
                    Some(reason) => JobDecision::Failed { lease_id, reason },
                })
            }
        }
    }

    /// Refuses unless the job was started under `lease_id` (for reports outside the protocol
    /// commands, such as a build's artifacts).
    pub fn check_started(
        &self,
        lease_id: Uuid,
        started: bool,
        now: DateTime<Utc>,
    ) -> Result<(), DomainError> {
        self.check_lease(lease_id, now)?;
        if started {
            Ok(())
        } else {
            refuse(
                "job-not-started",
                "the job has not been started under this lease",
            )
        }
    }
}

/// What a job command decided; each aggregate names it with its own event.
#[derive(Debug, Clone, PartialEq)]
pub enum JobDecision {
    /// Leased to an agent.
    Leased(Lease),
    /// Lease extended.
    Extended(LeaseExtension),
    /// The agent started it.
    Started {
        /// The lease.
        lease_id: Uuid,
        /// The agent.
        agent: String,
    },
    /// A step ended.
    Step(StepReport),
    /// The job succeeded.
    Succeeded {
        /// The lease.
        lease_id: Uuid,
    },
    /// The job failed.
    Failed {
        /// The lease.
        lease_id: Uuid,
        /// Why.
        reason: String,
    },
}

/// A job command, shared by builds and deployments.
#[derive(Debug, Clone)]
pub enum JobCommand {
    /// Lease the job to an agent.
    Lease {
        /// New lease id.
        lease_id: Uuid,
        /// Agent name.
        agent: String,
        /// Lease duration.
        duration: Duration,
    },
    /// Extend the lease.
    Heartbeat {
        /// Current lease.
        lease_id: Uuid,
        /// Extension.
        duration: Duration,
    },
    /// The agent started running the job.
    Start {
        /// Current lease.
        lease_id: Uuid,
    },
    /// A step ended.
    ReportStep(StepReport),
    /// Give up on a job whose leases lapsed `max_attempts` times (agents died or lost touch).
    Abandon {
        /// How many lapsed leases are enough.
        max_attempts: u32,
    },
    /// The job ended.
    Complete {
        /// Current lease.
        lease_id: Uuid,
        /// `None` for success, else the failure reason.
        failure: Option<String>,
    },
}
