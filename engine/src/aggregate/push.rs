//! Push: a change of a ref in a repository, as reported by the API or a webhook.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Aggregate, refuse};
use crate::error::DomainError;

/// What a push reports, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PushReport {
    /// Repository URL as the project names it.
    pub repository: String,
    /// Full ref, e.g. `refs/heads/main`.
    pub git_ref: String,
    /// The commit the ref now points at (full hex id).
    pub commit: String,
    /// The commit it pointed at before, when known.
    #[serde(default)]
    pub before: Option<String>,
    /// Who pushed, as the reporter says.
    #[serde(default)]
    pub pusher: Option<String>,
    /// The head commit's message, when known.
    #[serde(default)]
    pub message: Option<String>,
    /// Where it came from (`api`, `bitbucket`, …).
    pub source: String,
}

impl PushReport {
    /// The branch name when the ref is a branch (`refs/heads/x` → `x`; a bare name is a branch).
    pub fn branch(&self) -> Option<&str> {
        if let Some(branch) = self.git_ref.strip_prefix("refs/heads/") {
            Some(branch)
        } else if self.git_ref.starts_with("refs/") {
            None
        } else {
            Some(&self.git_ref)
        }
    }
}

/// Events of `push-<uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum PushEvent {
    /// A push was reported.
    PushReceived {
        /// The push's id.
        push_id: Uuid,
        /// What was pushed.
        #[serde(flatten)]
        report: PushReport,
    },
}

/// A push as its stream says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PushState {
    /// Set once received.
    pub report: Option<PushReport>,
}

impl Aggregate for PushState {
    type Event = PushEvent;

    fn evolve(self, event: &PushEvent) -> Self {
        match event {
            PushEvent::PushReceived { report, .. } => Self {
                report: Some(report.clone()),
            },
        }
    }
}

impl PushState {
    /// Records a push after validating it.
    pub fn decide_receive(
        &self,
        push_id: Uuid,
        report: PushReport,
    ) -> Result<Vec<PushEvent>, DomainError> {
        if self.report.is_some() {
            return refuse(
                "push-exists",
                format!("push {push_id} was already received"),
            );
        }
        let is_hex =
            |s: &str| !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_hexdigit());
        if !is_hex(&report.commit) {
            return refuse(
                "invalid-commit",
                "commit must be a hexadecimal git object id",
            );
        }
        if report.repository.trim().is_empty() {
            return refuse("invalid-repository", "repository must not be empty");
        }
        if report.git_ref.trim().is_empty() {
            return refuse("invalid-ref", "ref must not be empty");
        }
        Ok(vec![PushEvent::PushReceived { push_id, report }])
    }
}
