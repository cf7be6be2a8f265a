//! The embedded SQLite backend: one file, one writer thread with group commit, pooled readers.
//!
//! Architecture:
//! - One dedicated writer thread owns the only write connection. Appends, checkpoint saves and
//!   key-value puts are sent to it over a channel. It takes one request, drains whatever else is
//!   already waiting (up to [`MAX_BATCH_EVENTS`] events; see `Writer::run` for how long it
//!   waits for more), runs them all in ONE transaction, each request that writes more than one
//!   row inside its own SAVEPOINT (a failing request is undone alone: a conflict or an
//!   idempotency mismatch does not touch the others; a one-row request relies on SQLite's
//!   statement atomicity), commits once, and only then answers every request: many concurrent
//!   appends share one fsync (group commit).
//! - Because a single writer assigns positions (last + 1) inside its transactions, positions are
//!   gapless and in commit order. After each commit the writer publishes the new head on a
//!   `watch` channel, which is what subscriptions wait on.
//! - Reads run on a small pool of read-only connections via `spawn_blocking`; WAL mode lets them
//!   proceed while the writer commits.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Datelike, SecondsFormat, SubsecRound, Utc};
use rusqlite::types::Value;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension, Row, params};
use tokio::sync::{oneshot, watch};
use uuid::Uuid;

use crate::{
    AppendOutcome, EventStore, ExpectedVersion, GENESIS_HASH, MAX_READ_LIMIT, Metadata, NewEvent,
    RawRecord, ReadFilter, Record, StoreError, StoreResult, StreamVersion, Subscription,
    VerifyReport,
    record::{ChainCheck, StoredId, chain_hash_with_payload, retry_outcome, validate_append},
    writes::{WriteOp, WriteOutput, WriteRequest},
};

/// The most events the writer puts in one group-commit transaction (a single larger append is
/// still committed whole, alone).
pub const MAX_BATCH_EVENTS: usize = 1024;

/// The schema version this code writes, kept in `PRAGMA user_version`.
pub const SCHEMA_VERSION: i64 = 1;

/// The DDL of schema version 1. Public so that benchmarks and tools can build an identical bare
/// table; the store applies it itself.
pub const SCHEMA_SQL: &str = "
CREATE TABLE IF NOT EXISTS events (
    position       INTEGER PRIMARY KEY,
    stream         TEXT    NOT NULL,
    version        INTEGER NOT NULL,
    id             BLOB    NOT NULL UNIQUE,
    event_type     TEXT    NOT NULL,
    schema_version INTEGER NOT NULL,
    payload        TEXT    NOT NULL,
    actor          TEXT    NOT NULL,
    correlation_id TEXT    NOT NULL,
    causation_id   TEXT,
    request_id     TEXT,
    recorded_at    TEXT    NOT NULL,
    hash           TEXT    NOT NULL,
    UNIQUE (stream, version)
);
-- The index behind UNIQUE (stream, version) serves stream reads; every index also holds the
-- rowid (position), so these return matches already in position order.
CREATE INDEX IF NOT EXISTS events_event_type ON events (event_type);
CREATE INDEX IF NOT EXISTS events_actor ON events (actor);
CREATE INDEX IF NOT EXISTS events_recorded_at ON events (recorded_at);
CREATE TABLE IF NOT EXISTS checkpoints (
    name     TEXT PRIMARY KEY,
    position INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS kv (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
) WITHOUT ROWID;
";

/// Settings of the write connection, after `journal_mode = WAL`. FULL fsyncs the WAL on every
/// commit, so an acknowledged append survives power loss, not just a process crash. The larger
/// page cache (32 MiB) and memory-mapped reads (up to 256 MiB) keep index pages at hand: with
/// the defaults the writer re-read index pages from the OS on every insert, which halved its
/// throughput under concurrent appends (see `examples/store_bench.rs`).
pub const WRITER_PRAGMAS: &str =
    "PRAGMA synchronous = FULL; PRAGMA cache_size = -32768; PRAGMA mmap_size = 268435456;";

/// The insert the writer runs for every event. Public for the same reason as [`SCHEMA_SQL`].
pub const INSERT_EVENT_SQL: &str = "INSERT INTO events (position, stream, version, id, \
    event_type, schema_version, payload, actor, correlation_id, causation_id, request_id, \
    recorded_at, hash) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";

const SELECT_RECORD: &str = "SELECT position, stream, version, id, event_type, schema_version, \
    payload, actor, correlation_id, causation_id, request_id, recorded_at, hash FROM events";

/// How long a connection waits for a lock held by another connection before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest the writer waits for more requests before committing a batch.
const MAX_LINGER: Duration = Duration::from_millis(1);
/// Idle read connections kept open.
const MAX_IDLE_READERS: usize = 8;
/// Records a subscription fetches per read.
const SUBSCRIPTION_PAGE: usize = 1000;

fn backend(error: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(error.to_string())
}

/// Formats a time exactly as it is stored and hashed (RFC 3339, microseconds, `Z`).
fn format_time(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// Rounds up to the next microsecond, so that comparing stored (microsecond) times against the
/// result gives the same answer as comparing against `time` itself.
pub(crate) fn ceil_to_micros(time: DateTime<Utc>) -> DateTime<Utc> {
    let truncated = time.trunc_subsecs(6);
    if truncated < time {
        truncated + chrono::Duration::microseconds(1)
    } else {
        truncated
    }
}

fn to_i64(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// The SQLite implementation of [`EventStore`]. Open it with [`SqliteStore::open`].
pub struct SqliteStore {
    requests: Mutex<Option<mpsc::Sender<WriteRequest<PreparedEvent>>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
    readers: Arc<ReaderPool>,
    head: watch::Receiver<u64>,
    closed: AtomicBool,
    /// Requests sent to the writer and not yet taken by it (it sizes its batches by this).
    queued: Arc<AtomicUsize>,
    /// Named locks: one process owns the file, so in-process mutexes are enough.
    locks: Mutex<std::collections::HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the event log in the SQLite file at `path` and starts its
    /// writer thread. Fails if the file holds a newer schema than this code knows.
    pub async fn open(path: &Path) -> StoreResult<Arc<SqliteStore>> {
        let path = path.to_path_buf();
        let (ready_tx, ready_rx) = oneshot::channel();
        let (requests_tx, requests_rx) = mpsc::channel();
        let queued = Arc::new(AtomicUsize::new(0));
        let writer_queued = queued.clone();
        let writer_path = path.clone();
        let writer = std::thread::Builder::new()
            .name("conveyor-store-writer".into())
            .spawn(move || match Writer::open(&writer_path) {
                Ok(writer) => {
                    let _ = ready_tx.send(Ok(writer.head.subscribe()));
                    writer.run(requests_rx, writer_queued);
                }
                Err(error) => {
                    let _ = ready_tx.send(Err(error));
                }
            })
            .map_err(backend)?;
        let head = match ready_rx.await {
            Ok(Ok(head)) => head,
            Ok(Err(error)) => {
                let _ = writer.join();
                return Err(error);
            }
            Err(_) => {
                return Err(StoreError::Backend(
                    "the writer thread died while opening".into(),
                ));
            }
        };
        Ok(Arc::new(SqliteStore {
            requests: Mutex::new(Some(requests_tx)),
            writer: Mutex::new(Some(writer)),
            readers: Arc::new(ReaderPool {
                path,
                idle: Mutex::new(Vec::new()),
            }),
            head,
            closed: AtomicBool::new(false),
            queued,
            locks: Mutex::new(std::collections::HashMap::new()),
        }))
    }

    fn check_open(&self) -> StoreResult<()> {
        if self.closed.load(Ordering::Acquire) {
            Err(StoreError::Closed)
        } else {
            Ok(())
        }
    }

    async fn write(&self, op: WriteOp<PreparedEvent>) -> StoreResult<WriteOutput> {
        self.check_open()?;
        let (reply, answer) = oneshot::channel();
        {
            let requests = self.requests.lock().map_err(backend)?;
            let sender = requests.as_ref().ok_or(StoreError::Closed)?;
            // Counted before sending, so the writer never takes more than was counted.
            self.queued.fetch_add(1, Ordering::AcqRel);
            if sender.send(WriteRequest { op, reply }).is_err() {
                self.queued.fetch_sub(1, Ordering::AcqRel);
                return Err(StoreError::Closed);
            }
        }
        // The writer answers every request it takes; a dropped reply means it died.
        answer.await.map_err(|_| StoreError::Closed)?
    }
}

#[async_trait]
impl EventStore for SqliteStore {
    async fn append(
        &self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<NewEvent>,
    ) -> StoreResult<AppendOutcome> {
        validate_append(stream, &events)?;
        // Serialize here, on the caller's task, to keep the single writer's work short.
        let events = events.into_iter().map(PreparedEvent::new).collect();
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
        self.check_open()?;
        let stream = stream.to_owned();
        self.readers
            .run(move |conn| {
                let mut statement = conn
                    .prepare_cached(&format!(
                        "{SELECT_RECORD} WHERE stream = ?1 AND version > ?2 ORDER BY version"
                    ))
                    .map_err(backend)?;
                collect_records(
                    statement.query(params![stream, to_i64(after_version)]),
                    record_from_row,
                )
            })
            .await
    }

    async fn read_all(&self, filter: &ReadFilter) -> StoreResult<Vec<Record>> {
        self.check_open()?;
        let filter = filter.clone();
        self.readers
            .run(move |conn| read_all_on(conn, &filter, record_from_row))
            .await
    }

    async fn read_all_raw(&self, filter: &ReadFilter) -> StoreResult<Vec<RawRecord>> {
        self.check_open()?;
        let filter = filter.clone();
        self.readers
            .run(move |conn| read_all_on(conn, &filter, raw_record_from_row))
            .await
    }

    async fn head(&self) -> StoreResult<u64> {
        self.check_open()?;
        Ok(*self.head.borrow())
    }

    async fn stream_version(&self, stream: &str) -> StoreResult<StreamVersion> {
        self.check_open()?;
        let stream = stream.to_owned();
        self.readers
            .run(move |conn| stream_version_on(conn, &stream))
            .await
    }

    async fn subscribe(&self, after: u64) -> StoreResult<Box<dyn Subscription>> {
        self.check_open()?;
        // Take the head receiver before the first read, so no commit can slip between them.
        let mut head = self.head.clone();
        head.mark_unchanged();
        Ok(Box::new(SqliteSubscription {
            readers: self.readers.clone(),
            head,
            last_delivered: after,
            buffered: VecDeque::new(),
        }))
    }

    async fn verify(&self, from: u64, to: Option<u64>) -> StoreResult<VerifyReport> {
        self.check_open()?;
        let head = *self.head.borrow();
        self.readers
            .run(move |conn| verify_on(conn, from, to, head))
            .await
    }

    async fn load_checkpoint(&self, name: &str) -> StoreResult<u64> {
        self.check_open()?;
        let name = name.to_owned();
        self.readers
            .run(move |conn| {
                conn.prepare_cached("SELECT position FROM checkpoints WHERE name = ?1")
                    .and_then(|mut s| s.query_row([name], |row| row.get::<_, u64>(0)).optional())
                    .map(|position| position.unwrap_or(0))
                    .map_err(backend)
            })
            .await
    }

    async fn save_checkpoint(&self, name: &str, position: u64) -> StoreResult<()> {
        let op = WriteOp::SaveCheckpoint {
            name: name.to_owned(),
            position,
        };
        self.write(op).await?.saved()
    }

    async fn kv_get(&self, key: &str) -> StoreResult<Option<Vec<u8>>> {
        self.check_open()?;
        let key = key.to_owned();
        self.readers
            .run(move |conn| {
                conn.prepare_cached("SELECT value FROM kv WHERE key = ?1")
                    .and_then(|mut s| s.query_row([key], |row| row.get(0)).optional())
                    .map_err(backend)
            })
            .await
    }

    async fn kv_put_if_absent(&self, key: &str, value: Vec<u8>) -> StoreResult<Vec<u8>> {
        let op = WriteOp::KvPutIfAbsent {
            key: key.to_owned(),
            value,
        };
        self.write(op).await?.value()
    }

    async fn lock(&self, name: &str) -> StoreResult<crate::LockGuard> {
        self.check_open()?;
        let mutex = self
            .locks
            .lock()
            .map_err(backend)?
            .entry(name.to_owned())
            .or_default()
            .clone();
        let held = mutex.lock_owned().await;
        // An in-process lock is never lost: the sender lives as long as the guard.
        let (never, lost) = watch::channel(false);
        Ok(crate::LockGuard::new(lost, Box::new((held, never))))
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::Release);
        // Dropping the only long-lived sender lets the writer drain what is queued and stop.
        if let Ok(mut requests) = self.requests.lock() {
            requests.take();
        }
        let writer = self.writer.lock().ok().and_then(|mut writer| writer.take());
        if let Some(writer) = writer {
            let _ = tokio::task::spawn_blocking(move || writer.join()).await;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The writer.

/// An event with the text columns that do not depend on its place in the log.
struct PreparedEvent {
    event: NewEvent,
    payload_text: String,
    correlation_id_text: String,
    causation_id_text: Option<String>,
}

impl PreparedEvent {
    fn new(event: NewEvent) -> PreparedEvent {
        PreparedEvent {
            payload_text: event.payload.to_string(),
            correlation_id_text: event.metadata.correlation_id.to_string(),
            causation_id_text: event.metadata.causation_id.map(|id| id.to_string()),
            event,
        }
    }
}

struct Writer {
    conn: Connection,
    last_position: u64,
    last_hash: String,
    /// Recorded-at never goes backwards, even if the wall clock does, so time filters agree with
    /// position order.
    last_recorded_at: DateTime<Utc>,
    head: watch::Sender<u64>,
    /// How many requests the next batch waits for (see `run`).
    expected_requests: usize,
}

impl Writer {
    fn open(path: &Path) -> StoreResult<Writer> {
        let conn = Connection::open(path).map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        // WAL lets readers run during commits; FULL fsyncs the WAL on every commit, so an
        // acknowledged append survives power loss, not just a process crash.
        let mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
            .map_err(backend)?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(StoreError::Backend(format!(
                "could not enable WAL mode (got {mode})"
            )));
        }
        conn.execute_batch(WRITER_PRAGMAS).map_err(backend)?;
        conn.set_prepared_statement_cache_capacity(64);
        migrate(&conn)?;
        let last: Option<(u64, String, String)> = conn
            .query_row(
                "SELECT position, hash, recorded_at FROM events ORDER BY position DESC LIMIT 1",
                [],
                |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
            )
            .optional()
            .map_err(backend)?;
        let (last_position, last_hash, last_recorded_at) = match last {
            Some((position, hash, recorded_at)) => (position, hash, parse_time(&recorded_at)?),
            None => (0, GENESIS_HASH.to_owned(), DateTime::<Utc>::UNIX_EPOCH),
        };
        let (head, _) = watch::channel(last_position);
        Ok(Writer {
            expected_requests: 1,
            conn,
            last_position,
            last_hash,
            last_recorded_at,
            head,
        })
    }

    fn run(
        mut self,
        requests: mpsc::Receiver<WriteRequest<PreparedEvent>>,
        queued: Arc<AtomicUsize>,
    ) {
        let (mut batches, mut taken) = (0u64, 0u64);
        // Group commit: take one request, then everything already waiting. Under concurrent
        // load that alone alternates between tiny and large batches (the callers answered by
        // one commit come back while the next, small one runs). So the writer also waits, at
        // most one commit's duration, for as many requests as were in flight at the last reply
        // (`expected_requests`). A lone sequential caller (1 in flight) never waits; callers
        // that do not come back cost at most that wait.
        let mut last_commit = Duration::ZERO;
        // `recv` fails once every sender is gone and the queue is empty: that is the shutdown.
        while let Ok(first) = requests.recv() {
            let linger_until = std::time::Instant::now() + last_commit.min(MAX_LINGER);
            let mut events = first.op.event_count();
            let mut batch = vec![first];
            while events < MAX_BATCH_EVENTS {
                let next = match requests.try_recv() {
                    Ok(request) => Some(request),
                    Err(mpsc::TryRecvError::Disconnected) => None,
                    Err(mpsc::TryRecvError::Empty) if batch.len() < self.expected_requests => {
                        let now = std::time::Instant::now();
                        if now >= linger_until {
                            None
                        } else {
                            requests.recv_timeout(linger_until - now).ok()
                        }
                    }
                    Err(mpsc::TryRecvError::Empty) => None,
                };
                let Some(request) = next else { break };
                events += request.op.event_count();
                batch.push(request);
            }
            batches += 1;
            taken += batch.len() as u64;
            queued.fetch_sub(batch.len(), Ordering::AcqRel);
            let started = std::time::Instant::now();
            self.commit_batch(batch, &queued);
            last_commit = started.elapsed();
        }
        tracing::debug!(batches, requests = taken, "event store writer stopped");
    }

    fn commit_batch(&mut self, batch: Vec<WriteRequest<PreparedEvent>>, queued: &AtomicUsize) {
        let before = (
            self.last_position,
            self.last_hash.clone(),
            self.last_recorded_at,
        );
        let recorded_at = Utc::now().trunc_subsecs(6).max(self.last_recorded_at);
        if let Err(error) = self.conn.execute_batch("BEGIN IMMEDIATE") {
            let error = error.to_string();
            for request in batch {
                let _ = request.reply.send(Err(StoreError::Backend(error.clone())));
            }
            return;
        }
        let mut answered = Vec::with_capacity(batch.len());
        // Set when the transaction itself broke (not just one request): the batch is abandoned.
        let mut broken: Option<String> = None;
        for WriteRequest { op, reply } in batch {
            if broken.is_none() {
                match self.apply_in_savepoint(op, recorded_at) {
                    Ok(result) => answered.push((reply, result)),
                    Err(fatal) => {
                        broken = Some(fatal.to_string());
                        answered.push((reply, Err(fatal)));
                    }
                }
            } else {
                answered.push((reply, Err(StoreError::Closed)));
            }
        }
        let committed = match broken {
            Some(error) => Err(error),
            None => self
                .conn
                .execute_batch("COMMIT")
                .map_err(|error| error.to_string()),
        };
        match committed {
            Ok(()) => {
                if self.last_position != before.0 {
                    self.last_recorded_at = recorded_at;
                    self.head.send_replace(self.last_position);
                }
                // Read before replying, so no answered caller has sent again yet: the callers
                // in flight are those answered now and those already waiting.
                self.expected_requests = answered.len() + queued.load(Ordering::Acquire);
                for (reply, result) in answered {
                    let _ = reply.send(result);
                }
            }
            Err(error) => {
                tracing::error!(%error, "event store batch failed; rolled back");
                if !self.conn.is_autocommit() {
                    let _ = self.conn.execute_batch("ROLLBACK");
                }
                (self.last_position, self.last_hash, self.last_recorded_at) = before;
                for (reply, _) in answered {
                    let _ = reply.send(Err(StoreError::Backend(error.clone())));
                }
            }
        }
    }

    /// Runs one request inside its own savepoint: on failure only its writes are undone.
    ///
    /// The inner result is the request's answer; the outer error means the transaction itself
    /// is broken (SQLite rolled it back, or the savepoint could not be undone).
    fn apply_in_savepoint(
        &mut self,
        op: WriteOp<PreparedEvent>,
        recorded_at: DateTime<Utc>,
    ) -> StoreResult<StoreResult<WriteOutput>> {
        let before = (self.last_position, self.last_hash.clone());
        // A request of one write statement needs no savepoint: SQLite undoes a failed
        // statement by itself and the transaction goes on.
        let savepoint = matches!(&op, WriteOp::Append { events, .. } if events.len() > 1);
        if savepoint {
            self.run_cached("SAVEPOINT request")?;
        }
        let result = match op {
            WriteOp::Append {
                stream,
                expected,
                events,
            } => self
                .append(&stream, expected, events, recorded_at)
                .map(WriteOutput::Appended),
            WriteOp::SaveCheckpoint { name, position } => self
                .conn
                .prepare_cached(
                    "INSERT INTO checkpoints (name, position) VALUES (?1, ?2) \
                     ON CONFLICT (name) DO UPDATE SET position = excluded.position",
                )
                .and_then(|mut s| s.execute(params![name, to_i64(position)]))
                .map(|_| WriteOutput::Saved)
                .map_err(backend),
            WriteOp::KvPutIfAbsent { key, value } => self
                .conn
                .prepare_cached(
                    "INSERT INTO kv (key, value) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                )
                .and_then(|mut s| s.execute(params![key, value]))
                .and_then(|_| {
                    self.conn
                        .prepare_cached("SELECT value FROM kv WHERE key = ?1")?
                        .query_row([key], |row| row.get(0))
                })
                .map(WriteOutput::Value)
                .map_err(backend),
        };
        match result {
            Ok(output) => {
                if savepoint {
                    self.run_cached("RELEASE request")?;
                }
                Ok(Ok(output))
            }
            Err(error) => {
                (self.last_position, self.last_hash) = before;
                // Some errors (I/O, full disk) make SQLite roll back the whole transaction.
                if self.conn.is_autocommit() {
                    return Err(StoreError::Backend(format!(
                        "the transaction was rolled back: {error}"
                    )));
                }
                if savepoint {
                    self.run_cached("ROLLBACK TO request")?;
                    self.run_cached("RELEASE request")?;
                }
                Ok(Err(error))
            }
        }
    }

    fn run_cached(&self, sql: &str) -> StoreResult<()> {
        self.conn
            .prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
            .map_err(backend)
    }

    fn lookup_id(&self, id: Uuid) -> StoreResult<Option<StoredId>> {
        self.conn
            .prepare_cached("SELECT position, stream, version FROM events WHERE id = ?1")
            .and_then(|mut s| {
                s.query_row([id.as_bytes().as_slice()], |row| {
                    Ok(StoredId {
                        position: row.get(0)?,
                        stream: row.get(1)?,
                        version: row.get(2)?,
                    })
                })
                .optional()
            })
            .map_err(backend)
    }

    fn append(
        &mut self,
        stream: &str,
        expected: ExpectedVersion,
        events: Vec<PreparedEvent>,
        recorded_at: DateTime<Utc>,
    ) -> StoreResult<AppendOutcome> {
        // New appends need no id lookup: the UNIQUE index on `id` catches a stored id, and only
        // then (or on a version conflict, which a retry with a stale version also meets) is the
        // call checked for being a retry.
        let ids: Vec<Uuid> = events.iter().map(|prepared| prepared.event.id).collect();
        // Reads inside the transaction see earlier requests of this batch.
        let current = stream_version_on(&self.conn, stream)?;
        let matches = match expected {
            ExpectedVersion::Any => true,
            ExpectedVersion::NoStream => current == 0,
            ExpectedVersion::Exact(version) => current == version,
        };
        if !matches {
            if let Some(first) = self.lookup_id(ids[0])? {
                return self.duplicate_outcome(stream, &ids, first);
            }
            return Err(StoreError::Conflict {
                stream: stream.to_owned(),
                expected,
                actual: current,
            });
        }
        let recorded_at_text = format_time(recorded_at);
        let first_position = self.last_position + 1;
        let mut version = current;
        let mut insert = self
            .conn
            .prepare_cached(INSERT_EVENT_SQL)
            .map_err(backend)?;
        for prepared in events {
            let event = prepared.event;
            version += 1;
            let record = Record {
                position: self.last_position + 1,
                stream: stream.to_owned(),
                version,
                id: event.id,
                event_type: event.event_type,
                schema_version: event.schema_version,
                payload: event.payload,
                metadata: event.metadata,
                recorded_at,
                hash: String::new(),
            };
            let hash = chain_hash_with_payload(&self.last_hash, &record, &prepared.payload_text);
            let inserted = insert.execute(params![
                to_i64(record.position),
                record.stream,
                to_i64(record.version),
                record.id.as_bytes().as_slice(),
                record.event_type,
                record.schema_version,
                prepared.payload_text,
                record.metadata.actor,
                prepared.correlation_id_text,
                prepared.causation_id_text,
                record.metadata.request_id,
                recorded_at_text,
                hash,
            ]);
            if let Err(error) = inserted {
                let unique_violation = matches!(
                    &error,
                    rusqlite::Error::SqliteFailure(failure, _)
                        if failure.code == ErrorCode::ConstraintViolation
                );
                drop(insert);
                if unique_violation && let Some(stored) = self.lookup_id(record.id)? {
                    // Nothing of this call is written yet if its first id is the stored one.
                    if record.id == ids[0] {
                        return self.duplicate_outcome(stream, &ids, stored);
                    }
                    return Err(StoreError::IdempotencyMismatch { id: record.id });
                }
                return Err(backend(error));
            }
            self.last_position = record.position;
            self.last_hash = hash;
        }
        Ok(AppendOutcome {
            first_position,
            last_position: self.last_position,
            stream_version: version,
            duplicate: false,
        })
    }

    /// The first id is stored: whether the call is a retry of an earlier append.
    fn duplicate_outcome(
        &self,
        stream: &str,
        ids: &[Uuid],
        first: StoredId,
    ) -> StoreResult<AppendOutcome> {
        let mut stored = vec![Some(first)];
        for id in &ids[1..] {
            stored.push(self.lookup_id(*id)?);
        }
        retry_outcome(stream, ids, &stored)
    }
}

fn migrate(conn: &Connection) -> StoreResult<()> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .map_err(backend)?;
    match version {
        0 => conn
            .execute_batch(&format!(
                "BEGIN IMMEDIATE; {SCHEMA_SQL} PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            ))
            .map_err(|error| {
                let _ = conn.execute_batch("ROLLBACK");
                backend(error)
            }),
        SCHEMA_VERSION => Ok(()),
        newer => Err(StoreError::Backend(format!(
            "the database has schema version {newer}; this build knows up to {SCHEMA_VERSION}"
        ))),
    }
}

// ---------------------------------------------------------------------------------------------
// Readers.

/// Read-only connections, opened on demand and kept for reuse.
struct ReaderPool {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl ReaderPool {
    /// Runs `read` on a pooled connection on tokio's blocking pool.
    async fn run<T, F>(self: &Arc<Self>, read: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> StoreResult<T> + Send + 'static,
    {
        let pool = self.clone();
        tokio::task::spawn_blocking(move || {
            let conn = pool.take()?;
            let result = read(&conn);
            pool.give_back(conn);
            result
        })
        .await
        .map_err(backend)?
    }

    fn take(&self) -> StoreResult<Connection> {
        if let Some(conn) = self.idle.lock().map_err(backend)?.pop() {
            return Ok(conn);
        }
        let conn = Connection::open_with_flags(
            &self.path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(backend)?;
        conn.busy_timeout(BUSY_TIMEOUT).map_err(backend)?;
        Ok(conn)
    }

    fn give_back(&self, conn: Connection) {
        if let Ok(mut idle) = self.idle.lock()
            && idle.len() < MAX_IDLE_READERS
        {
            idle.push(conn);
        }
    }
}

fn parse_time(text: &str) -> StoreResult<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|time| time.with_timezone(&Utc))
        .map_err(|error| backend(format!("bad recorded_at {text:?}: {error}")))
}

/// The text of column `column`, borrowed from the row: columns that are parsed are not copied
/// out first, since replay reads every record.
fn text_at<'row>(row: &'row Row<'_>, column: usize) -> StoreResult<&'row str> {
    row.get_ref(column)
        .and_then(|v| Ok(v.as_str()?))
        .map_err(backend)
}

fn parse_uuid(text: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(text).map_err(backend)
}

fn id_from_row(row: &Row<'_>) -> StoreResult<Uuid> {
    let id = row
        .get_ref(3)
        .and_then(|v| Ok(v.as_blob()?))
        .map_err(backend)?;
    Uuid::from_slice(id).map_err(backend)
}

fn metadata_from_row(row: &Row<'_>) -> StoreResult<Metadata> {
    let causation_id = row
        .get_ref(9)
        .and_then(|v| Ok(v.as_str_or_null()?))
        .map_err(backend)?;
    Ok(Metadata {
        actor: row.get(7).map_err(backend)?,
        correlation_id: parse_uuid(text_at(row, 8)?)?,
        causation_id: causation_id.map(parse_uuid).transpose()?,
        request_id: row.get(10).map_err(backend)?,
    })
}

fn record_from_row(row: &Row<'_>) -> StoreResult<Record> {
    raw_record_from_row(row)?.parse().map_err(backend)
}

fn raw_record_from_row(row: &Row<'_>) -> StoreResult<RawRecord> {
    Ok(RawRecord {
        position: row.get(0).map_err(backend)?,
        stream: row.get(1).map_err(backend)?,
        version: row.get(2).map_err(backend)?,
        id: id_from_row(row)?,
        event_type: row.get(4).map_err(backend)?,
        schema_version: row.get(5).map_err(backend)?,
        payload_json: row.get(6).map_err(backend)?,
        metadata: metadata_from_row(row)?,
        recorded_at: parse_time(text_at(row, 11)?)?,
        hash: row.get(12).map_err(backend)?,
    })
}

fn collect_records<T>(
    rows: rusqlite::Result<rusqlite::Rows<'_>>,
    from_row: fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut rows = rows.map_err(backend)?;
    let mut records = Vec::new();
    while let Some(row) = rows.next().map_err(backend)? {
        records.push(from_row(row)?);
    }
    Ok(records)
}

fn stream_version_on(conn: &Connection, stream: &str) -> StoreResult<StreamVersion> {
    // One seek to the end of the stream in the (stream, version) index.
    conn.prepare_cached(
        "SELECT version FROM events WHERE stream = ?1 ORDER BY version DESC LIMIT 1",
    )
    .and_then(|mut s| s.query_row([stream], |row| row.get(0)).optional())
    .map(|version| version.unwrap_or(0))
    .map_err(backend)
}

/// The records `filter` selects, each made by `from_row`.
fn read_all_on<T>(
    conn: &Connection,
    filter: &ReadFilter,
    from_row: fn(&Row<'_>) -> StoreResult<T>,
) -> StoreResult<Vec<T>> {
    let mut sql = format!("{SELECT_RECORD} WHERE position > ?");
    let mut values = vec![Value::Integer(to_i64(filter.after))];
    if let Some(until) = filter.until {
        sql.push_str(" AND position <= ?");
        values.push(Value::Integer(to_i64(until)));
    }
    if let Some(stream) = &filter.stream {
        sql.push_str(" AND stream = ?");
        values.push(Value::Text(stream.clone()));
    }
    if let Some(prefix) = &filter.stream_prefix {
        sql.push_str(" AND substr(stream, 1, length(?)) = ?");
        values.push(Value::Text(prefix.clone()));
        values.push(Value::Text(prefix.clone()));
    }
    if !filter.event_types.is_empty() {
        let marks = vec!["?"; filter.event_types.len()].join(", ");
        sql.push_str(&format!(" AND event_type IN ({marks})"));
        values.extend(filter.event_types.iter().cloned().map(Value::Text));
    }
    if let Some(actor) = &filter.actor {
        sql.push_str(" AND actor = ?");
        values.push(Value::Text(actor.clone()));
    }
    // Times are compared as RFC 3339 text, which sorts correctly only within years 0 to 9999:
    // a bound past year 9999 means "after everything" (a `from` there matches nothing, a `to`
    // there excludes nothing).
    let beyond_text_range = |time: DateTime<Utc>| time.year() > 9999;
    if let Some(from) = filter.recorded_from.map(ceil_to_micros) {
        if beyond_text_range(from) {
            return Ok(Vec::new());
        }
        sql.push_str(" AND recorded_at >= ?");
        values.push(Value::Text(format_time(from)));
    }
    if let Some(to) = filter.recorded_to.map(ceil_to_micros)
        && !beyond_text_range(to)
    {
        sql.push_str(" AND recorded_at < ?");
        values.push(Value::Text(format_time(to)));
    }
    let limit = if filter.limit == 0 {
        MAX_READ_LIMIT
    } else {
        filter.limit.min(MAX_READ_LIMIT)
    };
    sql.push_str(" ORDER BY position LIMIT ?");
    values.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
    let mut statement = conn.prepare_cached(&sql).map_err(backend)?;
    collect_records(
        statement.query(rusqlite::params_from_iter(values)),
        from_row,
    )
}

fn verify_on(
    conn: &Connection,
    from: u64,
    to: Option<u64>,
    head: u64,
) -> StoreResult<VerifyReport> {
    let from = from.max(1);
    let to = to.map_or(head, |to| to.min(head));
    if from > to {
        return Ok(ChainCheck::new(from, to, String::new()).finish());
    }
    let previous_hash = if from == 1 {
        GENESIS_HASH.to_owned()
    } else {
        let stored: Option<String> = conn
            .prepare_cached("SELECT hash FROM events WHERE position = ?1")
            .and_then(|mut s| s.query_row([to_i64(from - 1)], |row| row.get(0)).optional())
            .map_err(backend)?;
        match stored {
            Some(hash) => hash,
            None => return Ok(ChainCheck::missing_before(from, to)),
        }
    };
    let mut statement = conn
        .prepare_cached(&format!(
            "{SELECT_RECORD} WHERE position >= ?1 AND position <= ?2 ORDER BY position"
        ))
        .map_err(backend)?;
    let mut rows = statement
        .query(params![to_i64(from), to_i64(to)])
        .map_err(backend)?;
    let mut check = ChainCheck::new(from, to, previous_hash);
    while let Some(row) = rows.next().map_err(backend)? {
        let going = match record_from_row(row) {
            Ok(record) => check.check(&record),
            Err(error) => check.unreadable(row.get::<_, u64>(0).unwrap_or(u64::MAX), &error),
        };
        if !going {
            break;
        }
    }
    Ok(check.finish())
}

// ---------------------------------------------------------------------------------------------
// Subscriptions.

struct SqliteSubscription {
    readers: Arc<ReaderPool>,
    head: watch::Receiver<u64>,
    last_delivered: u64,
    buffered: VecDeque<Record>,
}

impl SqliteSubscription {
    async fn fetch(&mut self) -> StoreResult<()> {
        let filter = ReadFilter {
            after: self.last_delivered,
            limit: SUBSCRIPTION_PAGE,
            ..ReadFilter::default()
        };
        let records = self
            .readers
            .run(move |conn| read_all_on(conn, &filter, record_from_row))
            .await?;
        self.buffered.extend(records);
        Ok(())
    }
}

#[async_trait]
impl Subscription for SqliteSubscription {
    async fn next(&mut self) -> StoreResult<Record> {
        loop {
            if let Some(record) = self.buffered.pop_front() {
                self.last_delivered = record.position;
                return Ok(record);
            }
            // Mark the head seen BEFORE reading: a commit published earlier is visible to the
            // read below, and one published later wakes `changed`. Nothing slips between.
            self.head.borrow_and_update();
            self.fetch().await?;
            if !self.buffered.is_empty() {
                continue;
            }
            if self.head.changed().await.is_err() {
                // The writer stopped: deliver whatever it committed last, then report it.
                self.fetch().await?;
                if self.buffered.is_empty() {
                    return Err(StoreError::Closed);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_keeps_whole_microseconds_and_rounds_up_the_rest() {
        let whole = DateTime::parse_from_rfc3339("2025-01-01T00:00:00.123456Z")
            .unwrap()
            .to_utc();
        assert_eq!(ceil_to_micros(whole), whole);
        let finer = DateTime::parse_from_rfc3339("2025-01-01T00:00:00.1234561Z")
            .unwrap()
            .to_utc();
        assert_eq!(
            format_time(ceil_to_micros(finer)),
            "2025-01-01T00:00:00.123457Z"
        );
    }
}
