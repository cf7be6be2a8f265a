//! Build statuses reported back to git hosts: each attempt is a fact in the log, so what the
//! host was told, when, and whether it answered is visible to everyone.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::names::IntegrationName;

/// One attempt to report a build's state to its git host.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusAttempt {
    /// The build.
    pub build_id: Uuid,
    /// The integration reported to.
    pub integration: IntegrationName,
    /// The state as the host names it (`INPROGRESS`, `success`, …).
    pub state: String,
    /// The URL the report went to.
    pub target: String,
    /// 1 for the first attempt at this state, then 2, …
    pub attempt: u32,
    /// Whether the host accepted it.
    pub delivered: bool,
    /// The host's HTTP status, when it answered.
    pub http_status: Option<u16>,
    /// What went wrong, when it did.
    pub error: Option<String>,
}

/// Events of `status-<build uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum StatusEvent {
    /// An attempt to report a build's state ended.
    BuildStatusReported(StatusAttempt),
}

/// Stream of the status reports of one build.
pub fn status_stream(build_id: Uuid) -> String {
    format!("status-{build_id}")
}
