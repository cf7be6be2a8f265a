//! The engine's errors: domain refusals from `decide`, and failures of the application layer.

use conveyor_store::{ExpectedVersion, StoreError, StreamVersion};

/// A command refused by an aggregate's `decide`: an illegal transition or a broken rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct DomainError {
    /// A stable slug for the rule, e.g. `deployment-not-awaiting-approval`.
    pub code: &'static str,
    /// A sentence naming what is wrong.
    pub reason: String,
}

impl DomainError {
    /// A refusal with a stable code and a reason.
    pub fn new(code: &'static str, reason: impl Into<String>) -> Self {
        Self {
            code,
            reason: reason.into(),
        }
    }
}

/// Why an engine operation failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The named resource does not exist.
    #[error("{resource} {id} not found")]
    NotFound {
        /// Kind of resource (`project`, `build`…).
        resource: &'static str,
        /// The id or name looked up.
        id: String,
    },
    /// The input is invalid; `field` names the offending field.
    #[error("{reason}")]
    Invalid {
        /// The offending field.
        field: Option<String>,
        /// What is wrong.
        reason: String,
    },
    /// The workflow refuses the command in the current state.
    #[error(transparent)]
    Refused(#[from] DomainError),
    /// The caller's expected version (If-Match) does not match the stream's.
    #[error("version mismatch: expected {expected}, actual {actual}")]
    VersionMismatch {
        /// What the caller sent.
        expected: StreamVersion,
        /// What the stream is at.
        actual: StreamVersion,
    },
    /// Concurrent writers kept winning the race on the stream.
    #[error("concurrent update of {stream}: expected {expected}, actual {actual}")]
    Conflict {
        /// The contended stream.
        stream: String,
        /// What we expected.
        expected: ExpectedVersion,
        /// What it was.
        actual: StreamVersion,
    },
    /// The engine cannot answer now (its projection is not keeping up, or it is stopping).
    #[error("unavailable: {0}")]
    Unavailable(String),
    /// The event store failed.
    #[error("event store: {0}")]
    Store(#[source] StoreError),
}

impl EngineError {
    /// An invalid-input error naming the field.
    pub fn invalid(field: &str, reason: impl Into<String>) -> Self {
        Self::Invalid {
            field: Some(field.to_owned()),
            reason: reason.into(),
        }
    }

    /// A not-found error.
    pub fn not_found(resource: &'static str, id: impl ToString) -> Self {
        Self::NotFound {
            resource,
            id: id.to_string(),
        }
    }
}

impl From<StoreError> for EngineError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Conflict {
                stream,
                expected,
                actual,
            } => EngineError::Conflict {
                stream,
                expected,
                actual,
            },
            other => EngineError::Store(other),
        }
    }
}
