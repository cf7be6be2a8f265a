//! Integration: a connection to a git host — which kind, the secret its webhooks are signed
//! with, and where and how to report build statuses back.

use serde::{Deserialize, Serialize};

use super::{Aggregate, refuse};
use crate::{error::DomainError, names::IntegrationName};

/// The kind of git host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GitHost {
    /// Bitbucket Cloud (bitbucket.org).
    BitbucketCloud,
    /// Bitbucket Server / Data Center.
    BitbucketServer,
    /// GitHub.
    Github,
    /// GitLab.
    Gitlab,
}

impl GitHost {
    /// The name used in events (`source` of a push).
    pub fn as_str(self) -> &'static str {
        match self {
            GitHost::BitbucketCloud => "bitbucket_cloud",
            GitHost::BitbucketServer => "bitbucket_server",
            GitHost::Github => "github",
            GitHost::Gitlab => "gitlab",
        }
    }
}

/// Everything an integration is defined by. Secrets are sealed by the API before they reach
/// the engine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IntegrationSpec {
    /// Name, used in the webhook URL (`?integration=<name>`).
    pub name: IntegrationName,
    /// The kind of host.
    pub host: GitHost,
    /// The secret webhooks are signed with (sealed); none means unsigned webhooks are taken.
    #[serde(default)]
    pub webhook_secret: Option<String>,
    /// The host's API base URL, for reporting build statuses.
    #[serde(default)]
    pub api_url: Option<String>,
    /// Credentials for that API (sealed), e.g. `user:app-password` or a token.
    #[serde(default)]
    pub credentials: Option<String>,
}

/// Events of `integration-<name>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum IntegrationEvent {
    /// The integration was created.
    IntegrationCreated {
        /// Its definition.
        spec: IntegrationSpec,
    },
}

/// An integration as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct IntegrationState {
    /// None until created.
    pub spec: Option<IntegrationSpec>,
}

impl Aggregate for IntegrationState {
    type Event = IntegrationEvent;

    fn evolve(self, event: &IntegrationEvent) -> Self {
        match event {
            IntegrationEvent::IntegrationCreated { spec } => Self {
                spec: Some(spec.clone()),
            },
        }
    }
}

impl IntegrationState {
    /// Creates the integration.
    pub fn decide_create(
        &self,
        spec: IntegrationSpec,
    ) -> Result<Vec<IntegrationEvent>, DomainError> {
        if self.spec.is_some() {
            return refuse(
                "integration-exists",
                format!("integration {} already exists", spec.name),
            );
        }
        if let Some(url) = &spec.api_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            return refuse("invalid-integration", "api_url must be an http(s) URL");
        }
        Ok(vec![IntegrationEvent::IntegrationCreated { spec }])
    }
}
