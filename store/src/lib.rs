//! Conveyor's event log: append-only records in streams, one global order, a hash chain.
//!
//! The store knows nothing of builds or releases: it keeps opaque typed records. Callers use
//! the backend-neutral [`EventStore`] trait; [`sqlite::SqliteStore`] is the embedded backend.

#[cfg(any(test, feature = "contract"))]
pub mod contract;
pub mod postgres;
mod record;
pub mod sqlite;
mod writes;

pub use record::{
    AppendOutcome, ExpectedVersion, GENESIS_HASH, Metadata, NewEvent, RawRecord, ReadFilter,
    Record, StreamVersion, VerifyReport, chain_hash,
};

use async_trait::async_trait;

/// Why an append or read failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The stream is not at the version the caller expected; nothing was written.
    #[error("stream {stream}: expected version {expected}, actual {actual}")]
    Conflict {
        /// The stream that was appended to.
        stream: String,
        /// What the caller expected.
        expected: ExpectedVersion,
        /// What the stream is at (0 when it has no events).
        actual: StreamVersion,
    },
    /// Some, but not all, event ids of an append are already stored, or a stored id belongs to
    /// another stream: the call is neither new nor a retry of an earlier one.
    #[error("event id {id} is already stored with different content or in another append")]
    IdempotencyMismatch {
        /// The first offending event id.
        id: uuid::Uuid,
    },
    /// The caller passed something the store cannot accept (empty stream name, empty batch…).
    #[error("invalid append: {0}")]
    Invalid(String),
    /// The store has been shut down.
    #[error("the event store is closed")]
    Closed,
    /// The backend failed (I/O, database error).
    #[error("event store backend error: {0}")]
    Backend(String),
}

/// The most records one `read_all` returns, whatever `ReadFilter::limit` asks (0 means this).
pub const MAX_READ_LIMIT: usize = 10_000;

/// Result alias for store operations.
pub type StoreResult<T> = Result<T, StoreError>;

/// A live subscription: first every stored record after the starting position, then each new
/// one as it is committed, in position order, none skipped and none repeated.
#[async_trait]
pub trait Subscription: Send {
    /// The next record; waits until one is committed. `Err(Closed)` once the store shuts down.
    async fn next(&mut self) -> StoreResult<Record>;
}

/// A named lock held across every process on one store (every node on one database) until it
/// is dropped — or until the backend loses it (its database connection broke), which
/// [`LockGuard::lost`] reports: the holder must stop acting on it then.
pub struct LockGuard {
    lost: tokio::sync::watch::Receiver<bool>,
    _held: Box<dyn std::any::Any + Send + Sync>,
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("lost", &*self.lost.borrow())
            .finish()
    }
}

impl LockGuard {
    /// A guard that holds `held` and is lost when `lost` turns true (or its sender goes).
    pub fn new(
        lost: tokio::sync::watch::Receiver<bool>,
        held: Box<dyn std::any::Any + Send + Sync>,
    ) -> LockGuard {
        LockGuard { lost, _held: held }
    }

    /// Whether the backend lost the lock.
    pub fn is_lost(&self) -> bool {
        *self.lost.borrow()
    }

    /// Resolves when the backend loses the lock.
    pub async fn lost(&mut self) {
        let _ = self.lost.wait_for(|lost| *lost).await;
    }
}

/// The event log's contract, implemented by every backend.
#[async_trait]
pub trait EventStore: Send + Sync + 'static {
    /// Appends `events` to `stream` atomically, if the stream is at `expected`.
    ///
    /// Returns after the transaction is committed (durable). If every event id is already
    /// stored (a retry), returns the original outcome and writes nothing.
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> StoreResult<AppendOutcome>;

    /// Every record of one stream with version > `after_version`, in version order.
    async fn read_stream(
        &self,
        stream: &str,
        after_version: StreamVersion,
    ) -> StoreResult<Vec<Record>>;

    /// Records with position > `filter.after`, in position order, matching the filter, at most
    /// `filter.limit`.
    async fn read_all(&self, filter: &ReadFilter) -> StoreResult<Vec<Record>>;

    /// The records [`EventStore::read_all`] returns for `filter`, with each payload left as
    /// the stored JSON text: for a reader that decodes payloads into its own types (replaying
    /// the log), which then never builds a `serde_json::Value`.
    async fn read_all_raw(&self, filter: &ReadFilter) -> StoreResult<Vec<RawRecord>>;

    /// The position of the last committed record (0 for an empty log).
    async fn head(&self) -> StoreResult<u64>;

    /// The current version of a stream (0 when it has no events).
    async fn stream_version(&self, stream: &str) -> StoreResult<StreamVersion>;

    /// Catch up from records with position > `after`, then follow live appends.
    async fn subscribe(&self, after: u64) -> StoreResult<Box<dyn Subscription>>;

    /// Recomputes the hash chain over positions `from..=to` (`to` = head when `None`) and
    /// reports the first position whose stored hash or position does not match.
    async fn verify(&self, from: u64, to: Option<u64>) -> StoreResult<VerifyReport>;

    /// Reads a named checkpoint (a position a consumer has fully processed), 0 if never saved.
    async fn load_checkpoint(&self, name: &str) -> StoreResult<u64>;

    /// Durably saves a named checkpoint.
    async fn save_checkpoint(&self, name: &str, position: u64) -> StoreResult<()>;

    /// Reads a value from the small durable key-value table (idempotency keys, settings).
    async fn kv_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>>;

    /// Stores a value under `key` if absent; returns the value that is stored afterwards
    /// (the existing one when the key was already taken).
    async fn kv_put_if_absent(&self, key: &str, value: Vec<u8>) -> StoreResult<Vec<u8>>;

    /// Takes the named lock, waiting while another holder (in this process or, for a shared
    /// database, on another node) has it.
    async fn lock(&self, name: &str) -> StoreResult<LockGuard>;

    /// Finishes queued appends and closes the backend; later calls answer `Closed`.
    async fn close(&self);
}
