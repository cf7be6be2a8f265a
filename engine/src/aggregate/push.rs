//! Push: a change of a ref in a repository, as reported by the API or a webhook.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Aggregate, refuse};
use crate::{error::DomainError, names::IntegrationName};

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
    /// Where it came from: `api`, `bitbucket_cloud`, `bitbucket_server`, `github`, `gitlab`.
    pub source: String,
    /// The ref was created by this push.
    #[serde(default)]
    pub created: bool,
    /// The ref was deleted by this push (`commit` is then the commit it pointed at).
    #[serde(default)]
    pub deleted: bool,
    /// The push rewrote history (a force push).
    #[serde(default)]
    pub forced: bool,
    /// The commits the host listed for this push.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub commits: Vec<PushedCommit>,
    /// The host listed only some of the commits.
    #[serde(default)]
    pub truncated: bool,
    /// The host's id of the webhook delivery that reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_id: Option<String>,
    /// The git host's name (e.g. `bitbucket.org`), when a webhook reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

/// A commit a push listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedCommit {
    /// Full hex id.
    pub id: String,
    /// Message.
    #[serde(default)]
    pub message: String,
    /// Author as the host gives it.
    #[serde(default)]
    pub author: Option<String>,
}

impl PushReport {
    /// The tag name when the ref is a tag.
    pub fn tag(&self) -> Option<&str> {
        self.git_ref.strip_prefix("refs/tags/")
    }

    /// A push of `commit` to `git_ref` reported through the API, with nothing else known.
    pub fn simple(repository: String, git_ref: String, commit: String, source: &str) -> Self {
        Self {
            repository,
            git_ref,
            commit,
            before: None,
            pusher: None,
            message: None,
            source: source.to_owned(),
            created: false,
            deleted: false,
            forced: false,
            commits: Vec::new(),
            truncated: false,
            delivery_id: None,
            host: None,
        }
    }

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
#[expect(
    clippy::large_enum_variant,
    reason = "events are decoded one at a time; boxing would only cost an allocation"
)]
pub enum PushEvent {
    /// A push was reported.
    PushReceived {
        /// The push's id.
        push_id: Uuid,
        /// The git host integration whose webhook reported it (none for the API).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        integration: Option<IntegrationName>,
        /// What was pushed.
        #[serde(flatten)]
        report: PushReport,
    },
    /// A git host delivered an event Conveyor does not act on; recorded so the host's
    /// delivery is accounted for.
    DeliveryIgnored {
        /// The host kind (`github`, …).
        source: String,
        /// The host's event type.
        event_type: String,
        /// The host's delivery id.
        delivery_id: String,
    },
}

/// A push as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PushState {
    /// Set once received.
    pub report: Option<PushReport>,
    /// The integration whose webhook reported it.
    pub integration: Option<IntegrationName>,
}

impl Aggregate for PushState {
    type Event = PushEvent;

    fn evolve(self, event: &PushEvent) -> Self {
        match event {
            PushEvent::PushReceived {
                report,
                integration,
                ..
            } => Self {
                report: Some(report.clone()),
                integration: integration.clone(),
            },
            PushEvent::DeliveryIgnored { .. } => self,
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
        Ok(vec![PushEvent::PushReceived {
            push_id,
            integration: None,
            report,
        }])
    }
}
