//! The requests both backends queue for their writer — appends, checkpoint saves, key-value
//! puts — and the answers it sends back.

use tokio::sync::oneshot;

use crate::{AppendOutcome, ExpectedVersion, StoreError, StoreResult};

/// One write; `E` is how the backend carries an append's events.
pub(crate) enum WriteOp<E> {
    Append {
        stream: String,
        expected: ExpectedVersion,
        events: Vec<E>,
    },
    SaveCheckpoint {
        name: String,
        position: u64,
    },
    KvPutIfAbsent {
        key: String,
        value: Vec<u8>,
    },
}

impl<E> WriteOp<E> {
    /// How many rows it writes, for sizing batches.
    pub(crate) fn event_count(&self) -> usize {
        match self {
            WriteOp::Append { events, .. } => events.len(),
            _ => 1,
        }
    }
}

/// The writer's answer to one write.
pub(crate) enum WriteOutput {
    Appended(AppendOutcome),
    Saved,
    Value(Vec<u8>),
}

fn unexpected_reply() -> StoreError {
    StoreError::Backend("the writer answered with the wrong kind of reply".into())
}

impl WriteOutput {
    pub(crate) fn appended(self) -> StoreResult<AppendOutcome> {
        match self {
            WriteOutput::Appended(outcome) => Ok(outcome),
            _ => Err(unexpected_reply()),
        }
    }

    pub(crate) fn saved(self) -> StoreResult<()> {
        match self {
            WriteOutput::Saved => Ok(()),
            _ => Err(unexpected_reply()),
        }
    }

    pub(crate) fn value(self) -> StoreResult<Vec<u8>> {
        match self {
            WriteOutput::Value(value) => Ok(value),
            _ => Err(unexpected_reply()),
        }
    }
}

/// A write and where to send its answer.
pub(crate) struct WriteRequest<E> {
    pub(crate) op: WriteOp<E>,
    pub(crate) reply: oneshot::Sender<StoreResult<WriteOutput>>,
}
