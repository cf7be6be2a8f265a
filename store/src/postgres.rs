//! The PostgreSQL backend, for several Conveyor nodes on one database (ADR 0007).
//!
//! Architecture:
//! - One row, `log_head`, holds the last position, its hash and its recorded-at time. Every
//!   append transaction locks it (`SELECT … FOR UPDATE`) before it assigns positions, and holds
//!   the lock until it commits. So positions are handed out in commit order, across every
//!   node: a reader that sees position n sees every position below it, and no transaction can
//!   commit later with a lower position (the gap problem of sequence-based stores cannot
//!   arise). The same lock gives the one continuous hash chain.
//! - Each node batches its own concurrent appends into one transaction (group commit), each
//!   request inside a savepoint so that a conflict or an idempotency mismatch undoes it alone.
//! - A commit notifies the channel named after the schema with the new head
//!   (`pg_notify`, delivered only on commit). A listener connection per node turns that into a
//!   `watch` subscriptions wait on; they also poll every second, so a lost notification (or a
//!   lost listener connection) delays them, never stops them.
//! - Connections come from a pool; a batch that fails on a lost connection is retried with
//!   bounded backoff. A retry of a batch that did commit finds its ids stored and answers the
//!   original outcome (appends are idempotent by event id).
//! - The schema is versioned in `conveyor_schema`; migrations run on open under an advisory
//!   lock, so nodes starting together migrate once.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, SubsecRound, Utc};
use deadpool_postgres::{GenericClient, Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio::sync::{mpsc, oneshot, watch};
use tokio_postgres::{NoTls, Row, error::SqlState, types::ToSql};
use uuid::Uuid;

use crate::{
    AppendOutcome, EventStore, ExpectedVersion, GENESIS_HASH, MAX_READ_LIMIT, Metadata, NewEvent,
    RawRecord, ReadFilter, Record, StoreError, StoreResult, StreamVersion, Subscription,
    VerifyReport,
    record::{ChainCheck, StoredId, chain_hash_with_payload, retry_outcome, validate_append},
    writes::{WriteOp, WriteOutput, WriteRequest},
};

/// The schema version this code writes, kept in `conveyor_schema`.
pub const SCHEMA_VERSION: i32 = 1;

/// The migrations, in order: migration `i` brings the schema to version `i + 1`.
const MIGRATIONS: &[&str] = &["
CREATE TABLE events (
    position       BIGINT      PRIMARY KEY,
    stream         TEXT        NOT NULL,
    version        BIGINT      NOT NULL,
    id             UUID        NOT NULL UNIQUE,
    event_type     TEXT        NOT NULL,
    schema_version INTEGER     NOT NULL,
    payload        TEXT        NOT NULL,
    actor          TEXT        NOT NULL,
    correlation_id UUID        NOT NULL,
    causation_id   UUID,
    request_id     TEXT,
    recorded_at    TIMESTAMPTZ NOT NULL,
    hash           TEXT        NOT NULL,
    UNIQUE (stream, version)
);
CREATE INDEX events_event_type ON events (event_type, position);
CREATE INDEX events_actor ON events (actor, position);
CREATE INDEX events_recorded_at ON events (recorded_at);
CREATE TABLE log_head (
    only_row    BOOLEAN     PRIMARY KEY DEFAULT TRUE CHECK (only_row),
    position    BIGINT      NOT NULL,
    hash        TEXT        NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL
);
INSERT INTO log_head (position, hash, recorded_at) VALUES (0, '', '1970-01-01T00:00:00Z');
CREATE TABLE checkpoints (name TEXT PRIMARY KEY, position BIGINT NOT NULL);
CREATE TABLE kv (key TEXT PRIMARY KEY, value BYTEA NOT NULL);
"];

/// The most events one group-commit transaction takes (a larger single append is still
/// committed whole, alone).
pub const MAX_BATCH_EVENTS: usize = 1024;
/// How often a subscription reads even without a notification.
const POLL_INTERVAL: Duration = Duration::from_secs(1);
/// Records a subscription fetches per read.
const SUBSCRIPTION_PAGE: usize = 1000;
/// How many times a batch that failed on the connection is retried.
const BATCH_RETRIES: u32 = 5;
/// Connections in each node's pool.
const POOL_SIZE: usize = 16;

const SELECT_RECORD: &str = "SELECT position, stream, version, id, event_type, schema_version, \
    payload, actor, correlation_id, causation_id, request_id, recorded_at, hash FROM events";

fn backend(error: impl std::error::Error) -> StoreError {
    // tokio-postgres says only "db error" at the top; the server's message is the source.
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    StoreError::Backend(text)
}

/// A database error a retry may cure: the connection was lost or the server is restarting.
fn transient(error: &tokio_postgres::Error) -> bool {
    error.is_closed()
        || error.code().is_some_and(|code| {
            [
                SqlState::ADMIN_SHUTDOWN,
                SqlState::CRASH_SHUTDOWN,
                SqlState::CANNOT_CONNECT_NOW,
                SqlState::CONNECTION_FAILURE,
                SqlState::CONNECTION_EXCEPTION,
                SqlState::T_R_SERIALIZATION_FAILURE,
                SqlState::T_R_DEADLOCK_DETECTED,
            ]
            .contains(code)
        })
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn to_u64(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

/// The PostgreSQL implementation of [`EventStore`]. Open it with [`PostgresStore::open`].
pub struct PostgresStore {
    pool: Pool,
    config: tokio_postgres::Config,
    channel: String,
    schema: String,
    requests: Mutex<Option<mpsc::UnboundedSender<WriteRequest<NewEvent>>>>,
    writer: Mutex<Option<tokio::task::JoinHandle<()>>>,
    listener: Mutex<Option<tokio::task::JoinHandle<()>>>,
    head: watch::Sender<u64>,
    closed: AtomicBool,
    stop: watch::Sender<bool>,
}

impl PostgresStore {
    /// Connects to the database at `url` (a `postgres://` URL; `options=-csearch_path=…`
    /// selects a schema), migrates it, and starts the writer and the listener.
    pub async fn open(url: &str) -> StoreResult<Arc<PostgresStore>> {
        let config: tokio_postgres::Config = url
            .parse()
            .map_err(|error| StoreError::Backend(format!("bad database URL: {error}")))?;
        let manager = Manager::from_config(
            config.clone(),
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(backend)?;
        let client = pool.get().await.map_err(backend)?;
        let schema: String = client
            .query_one("SELECT current_schema()", &[])
            .await
            .map_err(backend)?
            .get(0);
        migrate(&client, &schema).await?;
        let head_row = client
            .query_one("SELECT position FROM log_head", &[])
            .await
            .map_err(backend)?;
        drop(client);
        let (head, _) = watch::channel(to_u64(head_row.get(0)));
        let (stop, _) = watch::channel(false);
        // A channel per schema, so that stores in different schemas of one database do not
        // wake each other.
        let channel = format!("conveyor_events_{:016x}", lock_key(&schema, "channel"));
        let (requests_tx, requests_rx) = mpsc::unbounded_channel();
        let store = Arc::new(PostgresStore {
            pool,
            config,
            channel,
            schema,
            requests: Mutex::new(Some(requests_tx)),
            writer: Mutex::new(None),
            listener: Mutex::new(None),
            head,
            closed: AtomicBool::new(false),
            stop,
        });
        let writer = Writer {
            pool: store.pool.clone(),
            channel: store.channel.clone(),
            head: store.head.clone(),
        };
        *store.writer.lock().map_err(backend)? = Some(tokio::spawn(writer.run(requests_rx)));
        let listener = listen(
            store.config.clone(),
            store.channel.clone(),
            store.head.clone(),
            store.stop.subscribe(),
        );
        *store.listener.lock().map_err(backend)? = Some(tokio::spawn(listener));
        Ok(store)
    }

    /// The schema the store lives in.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(StoreError::Closed)
        } else {
            Ok(())
        }
    }

    async fn client(&self) -> StoreResult<deadpool_postgres::Object> {
        self.check_open()?;
        self.pool.get().await.map_err(backend)
    }

    async fn write(&self, op: WriteOp<NewEvent>) -> StoreResult<WriteOutput> {
        self.check_open()?;
        let (reply, answer) = oneshot::channel();
        {
            let requests = self.requests.lock().map_err(backend)?;
            let sender = requests.as_ref().ok_or(StoreError::Closed)?;
            sender
                .send(WriteRequest { op, reply })
                .map_err(|_| StoreError::Closed)?;
        }
        answer.await.map_err(|_| StoreError::Closed)?
    }

    /// Starts an append and holds its transaction — the head locked, the rows inserted, not
    /// committed — until the returned handle commits it. For tests of what readers and other
    /// writers see meanwhile.
    #[cfg(any(test, feature = "contract"))]
    pub async fn begin_held_append(
        &self,
        stream: &str,
        events: Vec<NewEvent>,
    ) -> StoreResult<HeldAppend> {
        validate_append(stream, &events)?;
        let mut client = self.client().await?;
        let stream = stream.to_owned();
        let channel = self.channel.clone();
        let (commit_tx, commit_rx) = oneshot::channel::<()>();
        let (started_tx, started_rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let result: StoreResult<AppendOutcome> = async {
                let tx = client.transaction().await.map_err(backend)?;
                let mut head = Head::lock(&tx).await?;
                head.recorded_at = Utc::now().trunc_subsecs(6).max(head.recorded_at);
                let mut context =
                    BatchContext::load(&tx, std::iter::once((stream.as_str(), &events[..])))
                        .await?;
                let mut rows = Vec::new();
                let outcome =
                    context.plan(&mut head, &stream, ExpectedVersion::Any, &events, &mut rows)?;
                insert_rows(&tx, &rows).await?;
                head.save(&tx, &channel).await?;
                let _ = started_tx.send(());
                let _ = commit_rx.await;
                tx.commit().await.map_err(backend)?;
                Ok(outcome)
            }
            .await;
            result
        });
        started_rx.await.map_err(|_| {
            StoreError::Backend("the held append failed before it locked the head".into())
        })?;
        Ok(HeldAppend {
            commit: commit_tx,
            task,
        })
    }
}

/// An append whose transaction is open (see [`PostgresStore::begin_held_append`]).
#[cfg(any(test, feature = "contract"))]
pub struct HeldAppend {
    commit: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<StoreResult<AppendOutcome>>,
}

#[cfg(any(test, feature = "contract"))]
impl HeldAppend {
    /// Commits the held transaction.
    pub async fn commit(self) -> StoreResult<AppendOutcome> {
        let _ = self.commit.send(());
        self.task.await.map_err(backend)?
    }
}

async fn migrate(client: &deadpool_postgres::Object, schema: &str) -> StoreResult<()> {
    // One node migrates at a time; the others wait and then find the work done.
    let lock_key = lock_key(schema, "migrations");
    client
        .batch_execute("CREATE TABLE IF NOT EXISTS conveyor_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())")
        .await
        .or_else(|error| {
            // Two nodes creating the table at once: one gets a unique violation; fine.
            if error.code() == Some(&SqlState::UNIQUE_VIOLATION) {
                Ok(())
            } else {
                Err(backend(error))
            }
        })?;
    client
        .execute("SELECT pg_advisory_lock($1)", &[&lock_key])
        .await
        .map_err(backend)?;
    let result = async {
        let current: i32 = client
            .query_one("SELECT COALESCE(MAX(version), 0) FROM conveyor_schema", &[])
            .await
            .map_err(backend)?
            .get(0);
        if current > SCHEMA_VERSION {
            return Err(StoreError::Backend(format!(
                "the database has schema version {current}; this build knows up to {SCHEMA_VERSION}"
            )));
        }
        for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
            let version = index as i32 + 1;
            client
                .batch_execute(&format!(
                    "BEGIN; {sql} INSERT INTO conveyor_schema (version) VALUES ({version}); COMMIT;"
                ))
                .await
                .map_err(|error| {
                    let StoreError::Backend(text) = backend(error) else {
                        unreachable!("backend() makes Backend errors")
                    };
                    StoreError::Backend(format!("migration to version {version}: {text}"))
                })?;
        }
        Ok(())
    }
    .await;
    if result.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
    }
    client
        .execute("SELECT pg_advisory_unlock($1)", &[&lock_key])
        .await
        .map_err(backend)?;
    result
}

/// The advisory-lock key of a named lock in a schema (advisory locks are database-wide).
pub(crate) fn lock_key(schema: &str, name: &str) -> i64 {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(format!("{schema}\u{0}{name}").as_bytes());
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(bytes)
}

/// Follows the channel on a dedicated connection, reconnecting with backoff, and publishes
/// each notified head (and the stored head after every reconnect).
async fn listen(
    config: tokio_postgres::Config,
    channel: String,
    head: watch::Sender<u64>,
    mut stop: watch::Receiver<bool>,
) {
    let mut backoff = Duration::from_millis(100);
    loop {
        if *stop.borrow() {
            return;
        }
        match config.connect(NoTls).await {
            Ok((client, mut connection)) => {
                let (messages_tx, mut messages) = mpsc::unbounded_channel();
                let driver = tokio::spawn(async move {
                    let mut stream =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    use futures_util::StreamExt;
                    while let Some(message) = stream.next().await {
                        match message {
                            Ok(tokio_postgres::AsyncMessage::Notification(note)) => {
                                let _ = messages_tx.send(note.payload().to_owned());
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                let listening = client
                    .batch_execute(&format!("LISTEN \"{channel}\""))
                    .await
                    .is_ok();
                if listening {
                    backoff = Duration::from_millis(100);
                    if let Ok(row) = client.query_one("SELECT position FROM log_head", &[]).await {
                        head.send_if_modified(|seen| raise(seen, to_u64(row.get(0))));
                    }
                    loop {
                        tokio::select! {
                            message = messages.recv() => match message {
                                Some(payload) => {
                                    if let Ok(position) = payload.parse::<u64>() {
                                        head.send_if_modified(|seen| raise(seen, position));
                                    }
                                }
                                None => break,
                            },
                            _ = stop.wait_for(|stopping| *stopping) => {
                                driver.abort();
                                return;
                            }
                        }
                    }
                }
                driver.abort();
                tracing::warn!("the event log's notification connection closed; reconnecting");
            }
            Err(error) => {
                tracing::warn!(%error, retry_in = ?backoff, "listening for new events failed");
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = stop.wait_for(|stopping| *stopping) => return,
        }
        backoff = (backoff * 2).min(Duration::from_secs(5));
    }
}

/// Raises a watched head to `position` if that is higher; whether it changed.
fn raise(seen: &mut u64, position: u64) -> bool {
    if position > *seen {
        *seen = position;
        true
    } else {
        false
    }
}

// ---------------------------------------------------------------------------------------------
// The writer.

/// The locked head row, advanced by each append of a transaction.
#[derive(Clone)]
struct Head {
    position: u64,
    hash: String,
    recorded_at: DateTime<Utc>,
}

impl Head {
    async fn lock(tx: &impl GenericClient) -> StoreResult<Head> {
        let row = tx
            .query_one(
                "SELECT position, hash, recorded_at FROM log_head FOR UPDATE",
                &[],
            )
            .await
            .map_err(backend)?;
        let position = to_u64(row.get(0));
        let hash: String = row.get(1);
        Ok(Head {
            position,
            hash: if position == 0 {
                GENESIS_HASH.to_owned()
            } else {
                hash
            },
            recorded_at: row.get(2),
        })
    }

    /// Stores the head and notifies the channel (delivered when the transaction commits).
    async fn save(&self, tx: &impl GenericClient, channel: &str) -> StoreResult<()> {
        tx.execute(
            "WITH saved AS (UPDATE log_head SET position = $1, hash = $2, recorded_at = $3 \
             RETURNING position) SELECT pg_notify($4, position::text) FROM saved",
            &[
                &to_i64(self.position),
                &self.hash,
                &self.recorded_at,
                &channel,
            ],
        )
        .await
        .map_err(backend)?;
        Ok(())
    }
}

struct Writer {
    pool: Pool,
    channel: String,
    head: watch::Sender<u64>,
}

impl Writer {
    async fn run(self, mut requests: mpsc::UnboundedReceiver<WriteRequest<NewEvent>>) {
        while let Some(first) = requests.recv().await {
            let mut events = first.op.event_count();
            let mut batch = vec![first];
            while events < MAX_BATCH_EVENTS {
                match requests.try_recv() {
                    Ok(request) => {
                        events += request.op.event_count();
                        batch.push(request);
                    }
                    Err(_) => break,
                }
            }
            let results = self.commit_with_retries(&batch).await;
            for (request, result) in batch.into_iter().zip(results) {
                let _ = request.reply.send(result);
            }
        }
    }

    async fn commit_with_retries(
        &self,
        batch: &[WriteRequest<NewEvent>],
    ) -> Vec<StoreResult<WriteOutput>> {
        let mut backoff = Duration::from_millis(50);
        let mut attempt = 0;
        loop {
            attempt += 1;
            match self.commit(batch).await {
                Ok((results, head)) => {
                    self.head.send_if_modified(|seen| raise(seen, head));
                    return results;
                }
                Err(BatchError::Transient(error)) if attempt <= BATCH_RETRIES => {
                    tracing::warn!(%error, attempt, retry_in = ?backoff, "an append batch failed; retrying");
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(Duration::from_secs(2));
                }
                Err(BatchError::Transient(error) | BatchError::Fatal(error)) => {
                    let message = error.to_string();
                    return batch
                        .iter()
                        .map(|_| Err(StoreError::Backend(message.clone())))
                        .collect();
                }
            }
        }
    }

    /// Runs every request of the batch in one transaction; answers per request and the head.
    /// Appends are decided in memory from two queries for the whole batch (the head lock keeps
    /// anything else from changing meanwhile) and inserted in one statement.
    async fn commit(
        &self,
        batch: &[WriteRequest<NewEvent>],
    ) -> Result<(Vec<StoreResult<WriteOutput>>, u64), BatchError> {
        let mut client = self.pool.get().await.map_err(BatchError::pool)?;
        let tx = client.transaction().await.map_err(BatchError::from)?;
        let mut head = Head::lock(&tx).await.map_err(BatchError::store)?;
        // Recorded-at never goes backwards, whichever node's clock is behind.
        head.recorded_at = Utc::now().trunc_subsecs(6).max(head.recorded_at);
        let before = head.position;
        let appends = batch.iter().filter_map(|request| match &request.op {
            WriteOp::Append { stream, events, .. } => Some((stream.as_str(), events.as_slice())),
            _ => None,
        });
        let mut context = BatchContext::load(&tx, appends)
            .await
            .map_err(BatchError::store)?;
        let mut rows = Vec::new();
        let mut results = Vec::with_capacity(batch.len());
        for request in batch {
            results.push(match &request.op {
                WriteOp::Append {
                    stream,
                    expected,
                    events,
                } => context
                    .plan(&mut head, stream, *expected, events, &mut rows)
                    .map(WriteOutput::Appended),
                WriteOp::SaveCheckpoint { name, position } => {
                    tx.execute(
                        "INSERT INTO checkpoints (name, position) VALUES ($1, $2) \
                         ON CONFLICT (name) DO UPDATE SET position = EXCLUDED.position",
                        &[name, &to_i64(*position)],
                    )
                    .await
                    .map_err(BatchError::from)?;
                    Ok(WriteOutput::Saved)
                }
                WriteOp::KvPutIfAbsent { key, value } => Ok(kv_put_if_absent(&tx, key, value)
                    .await
                    .map_err(BatchError::store)?),
            });
        }
        insert_rows(&tx, &rows).await.map_err(BatchError::store)?;
        if head.position != before {
            head.save(&tx, &self.channel)
                .await
                .map_err(BatchError::store)?;
        }
        tx.commit().await.map_err(BatchError::from)?;
        Ok((results, head.position))
    }
}

/// Why a whole batch failed.
enum BatchError {
    /// The connection or the server failed; the batch may be retried.
    Transient(String),
    /// Anything else.
    Fatal(String),
}

impl BatchError {
    fn pool(error: deadpool_postgres::PoolError) -> BatchError {
        match error {
            deadpool_postgres::PoolError::Backend(error) => BatchError::from(error),
            other => BatchError::Transient(other.to_string()),
        }
    }

    fn store(error: StoreError) -> BatchError {
        BatchError::Transient(error.to_string())
    }
}

impl From<tokio_postgres::Error> for BatchError {
    fn from(error: tokio_postgres::Error) -> BatchError {
        if transient(&error) {
            BatchError::Transient(error.to_string())
        } else {
            BatchError::Fatal(error.to_string())
        }
    }
}

async fn kv_put_if_absent(
    tx: &impl GenericClient,
    key: &str,
    value: &[u8],
) -> StoreResult<WriteOutput> {
    tx.execute(
        "INSERT INTO kv (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        &[&key, &value],
    )
    .await
    .map_err(backend)?;
    let row = tx
        .query_one("SELECT value FROM kv WHERE key = $1", &[&key])
        .await
        .map_err(backend)?;
    Ok(WriteOutput::Value(row.get(0)))
}

async fn stream_version_on(client: &impl GenericClient, stream: &str) -> StoreResult<u64> {
    let row = client
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM events WHERE stream = $1",
            &[&stream],
        )
        .await
        .map_err(backend)?;
    Ok(to_u64(row.get(0)))
}

/// What the batch needs to know of the log before it decides: the current version of each
/// stream it appends to, and where each of its event ids is already stored.
#[derive(Default)]
struct BatchContext {
    versions: std::collections::HashMap<String, u64>,
    stored: std::collections::HashMap<Uuid, StoredId>,
}

impl BatchContext {
    /// Two queries for the whole batch, under the head lock (so nothing changes meanwhile).
    async fn load<'a>(
        tx: &impl GenericClient,
        appends: impl Iterator<Item = (&'a str, &'a [NewEvent])>,
    ) -> StoreResult<BatchContext> {
        let mut streams = Vec::new();
        let mut ids = Vec::new();
        for (stream, events) in appends {
            streams.push(stream.to_owned());
            ids.extend(events.iter().map(|event| event.id));
        }
        let mut context = BatchContext::default();
        if streams.is_empty() {
            return Ok(context);
        }
        // Both queries go out at once (the connection pipelines them).
        let stream_params: [&(dyn ToSql + Sync); 1] = [&streams];
        let id_params: [&(dyn ToSql + Sync); 1] = [&ids];
        let (versions, stored) = tokio::try_join!(
            tx.query(
                "SELECT stream, MAX(version) FROM events WHERE stream = ANY($1) GROUP BY stream",
                &stream_params,
            ),
            tx.query(
                "SELECT id, position, stream, version FROM events WHERE id = ANY($1)",
                &id_params,
            ),
        )
        .map_err(backend)?;
        for row in versions {
            context.versions.insert(row.get(0), to_u64(row.get(1)));
        }
        for row in stored {
            context.stored.insert(
                row.get(0),
                StoredId {
                    position: to_u64(row.get(1)),
                    stream: row.get(2),
                    version: to_u64(row.get(3)),
                },
            );
        }
        Ok(context)
    }

    /// Decides one append in memory — a retry, a mismatch, a conflict, or new rows for
    /// `rows` — advancing `head` and remembering what it wrote for later requests of the batch.
    fn plan(
        &mut self,
        head: &mut Head,
        stream: &str,
        expected: ExpectedVersion,
        events: &[NewEvent],
        rows: &mut Vec<Row13>,
    ) -> StoreResult<AppendOutcome> {
        let ids: Vec<Uuid> = events.iter().map(|event| event.id).collect();
        let stored: Vec<Option<StoredId>> =
            ids.iter().map(|id| self.stored.get(id).cloned()).collect();
        match stored.iter().position(Option::is_some) {
            // The first id is stored: a retry, or a mismatch.
            Some(0) => return retry_outcome(stream, &ids, &stored),
            // A later id is stored and the first is not: neither new nor a retry.
            Some(later) => return Err(StoreError::IdempotencyMismatch { id: ids[later] }),
            None => {}
        }
        let current = self.versions.get(stream).copied().unwrap_or(0);
        let matches = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(version) => current == version,
        };
        if !matches {
            return Err(StoreError::Conflict {
                stream: stream.to_owned(),
                expected,
                actual: current,
            });
        }
        let first_position = head.position + 1;
        let mut version = current;
        for event in events {
            version += 1;
            let payload_text = event.payload.to_string();
            let record = Record {
                position: head.position + 1,
                stream: stream.to_owned(),
                version,
                id: event.id,
                event_type: event.event_type.clone(),
                schema_version: event.schema_version,
                payload: serde_json::Value::Null,
                metadata: event.metadata.clone(),
                recorded_at: head.recorded_at,
                hash: String::new(),
            };
            let hash = chain_hash_with_payload(&head.hash, &record, &payload_text);
            self.stored.insert(
                record.id,
                StoredId {
                    position: record.position,
                    stream: stream.to_owned(),
                    version,
                },
            );
            head.position = record.position;
            head.hash = hash.clone();
            rows.push(Row13 {
                record,
                payload_text,
                hash,
            });
        }
        self.versions.insert(stream.to_owned(), version);
        Ok(AppendOutcome {
            first_position,
            last_position: head.position,
            stream_version: version,
            duplicate: false,
        })
    }
}

/// One row to insert: the record (payload kept as text) and its hash.
struct Row13 {
    record: Record,
    payload_text: String,
    hash: String,
}

/// Inserts every planned row of a batch in one statement.
async fn insert_rows(tx: &impl GenericClient, rows: &[Row13]) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let column = |f: &dyn Fn(&Row13) -> i64| rows.iter().map(f).collect::<Vec<i64>>();
    let positions = column(&|r| to_i64(r.record.position));
    let versions = column(&|r| to_i64(r.record.version));
    let streams: Vec<&str> = rows.iter().map(|r| r.record.stream.as_str()).collect();
    let ids: Vec<Uuid> = rows.iter().map(|r| r.record.id).collect();
    let types: Vec<&str> = rows.iter().map(|r| r.record.event_type.as_str()).collect();
    let schema_versions: Vec<i32> = rows
        .iter()
        .map(|r| i32::try_from(r.record.schema_version).unwrap_or(i32::MAX))
        .collect();
    let payloads: Vec<&str> = rows.iter().map(|r| r.payload_text.as_str()).collect();
    let actors: Vec<&str> = rows
        .iter()
        .map(|r| r.record.metadata.actor.as_str())
        .collect();
    let correlations: Vec<Uuid> = rows
        .iter()
        .map(|r| r.record.metadata.correlation_id)
        .collect();
    let causations: Vec<Option<Uuid>> = rows
        .iter()
        .map(|r| r.record.metadata.causation_id)
        .collect();
    let requests: Vec<Option<&str>> = rows
        .iter()
        .map(|r| r.record.metadata.request_id.as_deref())
        .collect();
    let times: Vec<DateTime<Utc>> = rows.iter().map(|r| r.record.recorded_at).collect();
    let hashes: Vec<&str> = rows.iter().map(|r| r.hash.as_str()).collect();
    tx.execute(
        "INSERT INTO events (position, stream, version, id, event_type, schema_version, \
         payload, actor, correlation_id, causation_id, request_id, recorded_at, hash) \
         SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], \
         $6::int[], $7::text[], $8::text[], $9::uuid[], $10::uuid[], $11::text[], \
         $12::timestamptz[], $13::text[])",
        &[
            &positions,
            &streams,
            &versions,
            &ids,
            &types,
            &schema_versions,
            &payloads,
            &actors,
            &correlations,
            &causations,
            &requests,
            &times,
            &hashes,
        ],
    )
    .await
    .map_err(backend)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Reads.

fn metadata_from_row(row: &Row) -> StoreResult<Metadata> {
    Ok(Metadata {
        actor: row.try_get(7).map_err(backend)?,
        correlation_id: row.try_get(8).map_err(backend)?,
        causation_id: row.try_get(9).map_err(backend)?,
        request_id: row.try_get(10).map_err(backend)?,
    })
}

fn record_from_row(row: &Row) -> StoreResult<Record> {
    raw_record_from_row(row)?.parse().map_err(backend)
}

fn raw_record_from_row(row: &Row) -> StoreResult<RawRecord> {
    let schema_version: i32 = row.try_get(5).map_err(backend)?;
    Ok(RawRecord {
        position: to_u64(row.try_get(0).map_err(backend)?),
        stream: row.try_get(1).map_err(backend)?,
        version: to_u64(row.try_get(2).map_err(backend)?),
        id: row.try_get(3).map_err(backend)?,
        event_type: row.try_get(4).map_err(backend)?,
        schema_version: u32::try_from(schema_version).map_err(backend)?,
        payload_json: row.try_get(6).map_err(backend)?,
        metadata: metadata_from_row(row)?,
        recorded_at: row.try_get(11).map_err(backend)?,
        hash: row.try_get(12).map_err(backend)?,
    })
}

/// The records `filter` selects, each made by `from_row`.
async fn read_all_on<T>(
    client: &impl GenericClient,
    filter: &ReadFilter,
    from_row: fn(&Row) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut sql = format!("{SELECT_RECORD} WHERE position > $1");
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(to_i64(filter.after))];
    let mut next = |sql: &mut String, clause: &str, value: Box<dyn ToSql + Sync + Send>| {
        params.push(value);
        sql.push_str(&clause.replace('?', &format!("${}", params.len())));
    };
    if let Some(until) = filter.until {
        next(&mut sql, " AND position <= ?", Box::new(to_i64(until)));
    }
    if let Some(stream) = &filter.stream {
        next(&mut sql, " AND stream = ?", Box::new(stream.clone()));
    }
    if let Some(prefix) = &filter.stream_prefix {
        next(
            &mut sql,
            " AND starts_with(stream, ?)",
            Box::new(prefix.clone()),
        );
    }
    if !filter.event_types.is_empty() {
        next(
            &mut sql,
            " AND event_type = ANY(?)",
            Box::new(filter.event_types.clone()),
        );
    }
    if let Some(actor) = &filter.actor {
        next(&mut sql, " AND actor = ?", Box::new(actor.clone()));
    }
    // Stored times are whole microseconds; rounding a bound up keeps comparisons exact.
    if let Some(from) = filter.recorded_from.map(crate::sqlite::ceil_to_micros) {
        next(&mut sql, " AND recorded_at >= ?", Box::new(from));
    }
    if let Some(to) = filter.recorded_to.map(crate::sqlite::ceil_to_micros) {
        next(&mut sql, " AND recorded_at < ?", Box::new(to));
    }
    let limit = if filter.limit == 0 {
        MAX_READ_LIMIT
    } else {
        filter.limit.min(MAX_READ_LIMIT)
    };
    next(
        &mut sql,
        " ORDER BY position LIMIT ?",
        Box::new(i64::try_from(limit).unwrap_or(i64::MAX)),
    );
    let refs: Vec<&(dyn ToSql + Sync)> = params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect();
    let rows = client.query(&sql, &refs).await.map_err(backend)?;
    rows.iter().map(from_row).collect()
}

#[async_trait]
impl EventStore for PostgresStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> StoreResult<AppendOutcome> {
        validate_append(stream, &events)?;
        let op = WriteOp::Append {
            stream: stream.to_owned(),
            expected,
            events,
        };
        self.write(op).await?.appended()
    }

    async fn read_stream(
        &self,
        stream: &str,
        after_version: StreamVersion,
    ) -> StoreResult<Vec<Record>> {
        let client = self.client().await?;
        let rows = client
            .query(
                &format!("{SELECT_RECORD} WHERE stream = $1 AND version > $2 ORDER BY version"),
                &[&stream, &to_i64(after_version)],
            )
            .await
            .map_err(backend)?;
        rows.iter().map(record_from_row).collect()
    }

    async fn read_all(&self, filter: &ReadFilter) -> StoreResult<Vec<Record>> {
        let client = self.client().await?;
        read_all_on(&client, filter, record_from_row).await
    }

    async fn read_all_raw(&self, filter: &ReadFilter) -> StoreResult<Vec<RawRecord>> {
        let client = self.client().await?;
        read_all_on(&client, filter, raw_record_from_row).await
    }

    async fn head(&self) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_one("SELECT position FROM log_head", &[])
            .await
            .map_err(backend)?;
        let head = to_u64(row.get(0));
        self.head.send_if_modified(|seen| raise(seen, head));
        Ok(head)
    }

    async fn stream_version(&self, stream: &str) -> StoreResult<StreamVersion> {
        let client = self.client().await?;
        stream_version_on(&client, stream).await
    }

    async fn subscribe(&self, after: u64) -> StoreResult<Box<dyn Subscription>> {
        self.check_open()?;
        Ok(Box::new(PgSubscription {
            pool: self.pool.clone(),
            head: self.head.subscribe(),
            stop: self.stop.subscribe(),
            last_delivered: after,
            buffered: VecDeque::new(),
        }))
    }

    async fn verify(&self, from: u64, to: Option<u64>) -> StoreResult<VerifyReport> {
        let head = self.head().await?;
        let client = self.client().await?;
        let from = from.max(1);
        let to = to.map_or(head, |to| to.min(head));
        if from > to {
            return Ok(ChainCheck::new(from, to, String::new()).finish());
        }
        let previous_hash = if from == 1 {
            GENESIS_HASH.to_owned()
        } else {
            let row = client
                .query_opt(
                    "SELECT hash FROM events WHERE position = $1",
                    &[&to_i64(from - 1)],
                )
                .await
                .map_err(backend)?;
            match row {
                Some(row) => row.get(0),
                None => return Ok(ChainCheck::missing_before(from, to)),
            }
        };
        let mut check = ChainCheck::new(from, to, previous_hash);
        let mut after = from - 1;
        'pages: while after < to {
            let rows = client
                .query(
                    &format!(
                        "{SELECT_RECORD} WHERE position > $1 AND position <= $2 \
                         ORDER BY position LIMIT {MAX_READ_LIMIT}"
                    ),
                    &[&to_i64(after), &to_i64(to)],
                )
                .await
                .map_err(backend)?;
            if rows.is_empty() {
                break;
            }
            for row in &rows {
                let position = row.try_get::<_, i64>(0).map(to_u64).unwrap_or(u64::MAX);
                let going = match record_from_row(row) {
                    Ok(record) => check.check(&record),
                    Err(error) => check.unreadable(position, &error),
                };
                if !going {
                    break 'pages;
                }
                after = position;
            }
        }
        Ok(check.finish())
    }

    async fn load_checkpoint(&self, name: &str) -> StoreResult<u64> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT position FROM checkpoints WHERE name = $1", &[&name])
            .await
            .map_err(backend)?;
        Ok(row.map_or(0, |row| to_u64(row.get(0))))
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> StoreResult<()> {
        let op = WriteOp::SaveCheckpoint {
            name: name.to_owned(),
            position,
        };
        self.write(op).await?.saved()
    }

    async fn kv_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        let client = self.client().await?;
        let row = client
            .query_opt("SELECT value FROM kv WHERE key = $1", &[&key])
            .await
            .map_err(backend)?;
        Ok(row.map(|row| row.get(0)))
    }

    async fn kv_put_if_absent(&self, key: &str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        let op = WriteOp::KvPutIfAbsent {
            key: key.to_owned(),
            value,
        };
        self.write(op).await?.value()
    }

    /// A session advisory lock on a connection of its own: dropping the guard closes the
    /// connection, which releases the lock; a broken connection marks the guard lost.
    async fn lock(&self, name: &str) -> StoreResult<crate::LockGuard> {
        self.check_open()?;
        let (client, connection) = self.config.connect(NoTls).await.map_err(backend)?;
        let (lost_tx, lost) = watch::channel(false);
        tokio::spawn(async move {
            let _ = connection.await;
            lost_tx.send_replace(true);
        });
        client
            .execute(
                "SELECT pg_advisory_lock($1)",
                &[&lock_key(&self.schema, name)],
            )
            .await
            .map_err(backend)?;
        Ok(crate::LockGuard::new(lost, Box::new(client)))
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Dropping the only sender lets the writer finish what is queued and stop.
        if let Ok(mut requests) = self.requests.lock() {
            requests.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut writer| writer.take());
        if let Some(writer) = writer {
            let _ = writer.await;
        }
        self.stop.send_replace(true);
        let listener = self.listener.lock().ok().and_then(|mut l| l.take());
        if let Some(listener) = listener {
            let _ = listener.await;
        }
        // The pool stays open for subscriptions still delivering what was committed; its
        // connections close when the last handle is dropped.
    }
}

// ---------------------------------------------------------------------------------------------
// Subscriptions.

struct PgSubscription {
    pool: Pool,
    head: watch::Receiver<u64>,
    stop: watch::Receiver<bool>,
    last_delivered: u64,
    buffered: VecDeque<Record>,
}

impl PgSubscription {
    async fn fetch(&mut self) -> StoreResult<()> {
        let client = self.pool.get().await.map_err(backend)?;
        let filter = ReadFilter {
            after: self.last_delivered,
            limit: SUBSCRIPTION_PAGE,
            ..ReadFilter::default()
        };
        self.buffered
            .extend(read_all_on(&client, &filter, record_from_row).await?);
        Ok(())
    }
}

#[async_trait]
impl Subscription for PgSubscription {
    async fn next(&mut self) -> StoreResult<Record> {
        loop {
            if let Some(record) = self.buffered.pop_front() {
                self.last_delivered = record.position;
                return Ok(record);
            }
            // The store closes only after its writer finished: once stopping is seen, one more
            // read that finds nothing means everything committed was delivered.
            let stopping = *self.stop.borrow();
            // Mark the head seen BEFORE reading: a commit notified earlier is visible to the
            // read below, and one notified later wakes `changed`.
            self.head.borrow_and_update();
            self.fetch().await?;
            if !self.buffered.is_empty() {
                continue;
            }
            if stopping {
                return Err(StoreError::Closed);
            }
            tokio::select! {
                _ = self.head.changed() => {}
                _ = tokio::time::sleep(POLL_INTERVAL) => {}
                _ = self.stop.changed() => {}
            }
        }
    }
}
