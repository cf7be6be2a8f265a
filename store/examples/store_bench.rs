//! Measures durable append throughput and replay rate of the SQLite store against a bare
//! rusqlite loop (same schema and indexes, WAL, `synchronous=FULL`) as the ceiling.
//!
//! Run: `cargo run --release -p conveyor-store --example store_bench -- [--events N]`
//!
//! The ceiling makes the same rows (serializes the payload, chains the hash) and inserts them in
//! transactions of the same size, with none of the store's work: no channel, no idempotency or
//! version lookups, no replies. For concurrent appenders its transactions hold as many events
//! as there are appenders, which is what perfect group commit would achieve.
//!
//! Disk latency on a shared machine drifts; so each case alternates between the store and the
//! ceiling in small chunks ([`CHUNKS`] of each, taking turns at going first), and reports the medians over chunks: events/s
//! of each, and the ratio of each chunk to the ceiling chunk run right after it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::SubsecRound;

use conveyor_store::sqlite::{INSERT_EVENT_SQL, SCHEMA_SQL, SqliteStore, WRITER_PRAGMAS};
use conveyor_store::{
    EventStore, ExpectedVersion, GENESIS_HASH, Metadata, NewEvent, ReadFilter, Record, chain_hash,
};
use uuid::Uuid;

/// How many alternating chunks each case is split into.
const CHUNKS: u64 = 16;

fn new_event(n: u64) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: "BuildSucceeded".to_owned(),
        schema_version: 1,
        payload: serde_json::json!({
            "build_id": Uuid::now_v7(),
            "commit": "3f2a9c1e5b7d4f6a8c0e2b4d6f8a0c2e4b6d8f0a",
            "artifact": { "image": "registry.example/shop:1.2.3", "digest": "sha256:abcdef0123456789" },
            "duration_ms": n,
        }),
        metadata: Metadata {
            actor: "system".to_owned(),
            correlation_id: Uuid::now_v7(),
            causation_id: Some(Uuid::now_v7()),
            request_id: Some("req-0123456789".to_owned()),
        },
    }
}

/// How a case appends.
#[derive(Clone, Copy)]
enum Load {
    /// One caller, appends of this many events each.
    Sequential(u64),
    /// This many concurrent callers, one event per append.
    Concurrent(u64),
}

impl Load {
    /// Events per ceiling transaction.
    fn transaction_size(self) -> u64 {
        match self {
            Load::Sequential(size) | Load::Concurrent(size) => size,
        }
    }
}

/// Appends `count` events to `store` under `load`; returns the time taken.
async fn run_store(store: &Arc<SqliteStore>, load: Load, count: u64, chunk: u64) -> Duration {
    match load {
        Load::Sequential(batch) => {
            let batches: Vec<Vec<NewEvent>> = (0..count / batch)
                .map(|b| (0..batch).map(|i| new_event(b * batch + i)).collect())
                .collect();
            let started = Instant::now();
            for (i, events) in batches.into_iter().enumerate() {
                let stream = format!("build-{}", i % 100);
                store
                    .append(&stream, ExpectedVersion::Any, events)
                    .await
                    .unwrap();
            }
            started.elapsed()
        }
        Load::Concurrent(tasks) => {
            let per_task = count / tasks;
            let loads: Vec<Vec<NewEvent>> = (0..tasks)
                .map(|_| (0..per_task).map(new_event).collect())
                .collect();
            let started = Instant::now();
            let mut handles = Vec::new();
            for (task, events) in loads.into_iter().enumerate() {
                let store = store.clone();
                handles.push(tokio::spawn(async move {
                    let stream = format!("deployment-{task}-{chunk}");
                    for event in events {
                        store
                            .append(&stream, ExpectedVersion::Any, vec![event])
                            .await
                            .unwrap();
                    }
                }));
            }
            for handle in handles {
                handle.await.unwrap();
            }
            started.elapsed()
        }
    }
}

/// The ceiling: a bare connection inserting the same rows in plain transactions.
struct Ceiling {
    conn: rusqlite::Connection,
    position: u64,
    previous_hash: String,
    versions: std::collections::HashMap<String, u64>,
}

impl Ceiling {
    fn open(path: &Path) -> Ceiling {
        let conn = rusqlite::Connection::open(path).unwrap();
        conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
            .unwrap();
        conn.execute_batch(WRITER_PRAGMAS).unwrap();
        conn.execute_batch(SCHEMA_SQL).unwrap();
        Ceiling {
            conn,
            position: 0,
            previous_hash: GENESIS_HASH.to_owned(),
            versions: Default::default(),
        }
    }

    /// Inserts `count` events in transactions of `size`; returns the time taken.
    fn run(&mut self, load: Load, count: u64, chunk_index: u64) -> Duration {
        let size = load.transaction_size();
        // The same streams, hence the same index pages, as the store's run of this chunk.
        let streams: Vec<String> = (0..count / size * size)
            .map(|k| match load {
                Load::Sequential(batch) => format!("build-{}", (k / batch) % 100),
                Load::Concurrent(tasks) => format!("deployment-{}-{chunk_index}", k % tasks),
            })
            .collect();
        let events: Vec<NewEvent> = (0..count / size * size).map(new_event).collect();
        let started = Instant::now();
        for (chunk, chunk_streams) in events
            .chunks(size as usize)
            .zip(streams.chunks(size as usize))
        {
            let recorded_at = chrono::Utc::now().trunc_subsecs(6);
            let recorded_text = recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
            self.conn.execute_batch("BEGIN IMMEDIATE").unwrap();
            let mut insert = self.conn.prepare_cached(INSERT_EVENT_SQL).unwrap();
            for (event, stream) in chunk.iter().zip(chunk_streams) {
                self.position += 1;
                let version = self.versions.entry(stream.clone()).or_default();
                *version += 1;
                let record = Record {
                    position: self.position,
                    stream: stream.clone(),
                    version: *version,
                    id: event.id,
                    event_type: event.event_type.clone(),
                    schema_version: event.schema_version,
                    payload: event.payload.clone(),
                    metadata: event.metadata.clone(),
                    recorded_at,
                    hash: String::new(),
                };
                let hash = chain_hash(&self.previous_hash, &record);
                insert
                    .execute(rusqlite::params![
                        record.position as i64,
                        record.stream,
                        record.version as i64,
                        record.id.as_bytes().as_slice(),
                        record.event_type,
                        record.schema_version,
                        record.payload.to_string(),
                        record.metadata.actor,
                        record.metadata.correlation_id.to_string(),
                        record.metadata.causation_id.map(|id| id.to_string()),
                        record.metadata.request_id,
                        recorded_text,
                        hash,
                    ])
                    .unwrap();
                self.previous_hash = hash;
            }
            drop(insert);
            self.conn.execute_batch("COMMIT").unwrap();
        }
        started.elapsed()
    }
}

/// Reads the whole log in pages of 10 000; events per second.
async fn replay(store: &Arc<SqliteStore>) -> (u64, f64) {
    let head = store.head().await.unwrap();
    let started = Instant::now();
    let mut after = 0;
    let mut read = 0u64;
    while after < head {
        let filter = ReadFilter {
            after,
            limit: 10_000,
            ..Default::default()
        };
        let page = store.read_all(&filter).await.unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        read += page.len() as u64;
    }
    (read, read as f64 / started.elapsed().as_secs_f64())
}

fn main() {
    let mut events: u64 = 50_000;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--events" => {
                events = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--events N")
            }
            "--only" => only = args.next(),
            other => {
                panic!("unknown argument {other}; usage: store_bench [--events N] [--only TEXT]")
            }
        }
    }
    // Single-event cases wait for one fsync each; a tenth of the events keeps the run short.
    let single = (events / 10).max(CHUNKS * 64);
    let dir = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!("store_bench: {events} events per batched case, {single} per single-event case");
    println!(
        "{:<38} {:>10} {:>18} {:>7}",
        "case", "events/s", "ceiling events/s", "ratio"
    );
    let cases = [
        (
            "sequential, 1 event per append",
            single,
            Load::Sequential(1),
        ),
        (
            "sequential, 10 events per append",
            events,
            Load::Sequential(10),
        ),
        (
            "sequential, 100 events per append",
            events,
            Load::Sequential(100),
        ),
        (
            "1 concurrent single-event appender",
            single,
            Load::Concurrent(1),
        ),
        (
            "16 concurrent single-event appenders",
            events,
            Load::Concurrent(16),
        ),
        (
            "64 concurrent single-event appenders",
            events,
            Load::Concurrent(64),
        ),
    ];
    runtime.block_on(async {
        for (index, (case, total, load)) in cases.into_iter().enumerate() {
            if only
                .as_ref()
                .is_some_and(|only| !case.contains(only.as_str()))
            {
                continue;
            }
            let store = SqliteStore::open(&dir.path().join(format!("store-{index}.sqlite")))
                .await
                .unwrap();
            let mut ceiling = Ceiling::open(&dir.path().join(format!("ceiling-{index}.sqlite")));
            let per_chunk = total / CHUNKS / load.transaction_size() * load.transaction_size();
            // Each chunk of ours is paired with the ceiling chunk run right after it; the
            // median over pairs ignores bursts of slow disk that hit only some chunks.
            let mut pairs = Vec::new();
            for chunk in 0..CHUNKS {
                // Alternate who goes first: the one that runs second pays for the first one's
                // dirty pages being written back.
                let (ours, bare) = if chunk % 2 == 0 {
                    let ours = run_store(&store, load, per_chunk, chunk).await;
                    (ours, ceiling.run(load, per_chunk, chunk))
                } else {
                    let bare = ceiling.run(load, per_chunk, chunk);
                    (run_store(&store, load, per_chunk, chunk).await, bare)
                };
                pairs.push((
                    per_chunk as f64 / ours.as_secs_f64(),
                    per_chunk as f64 / bare.as_secs_f64(),
                ));
            }
            let median = |mut values: Vec<f64>| {
                values.sort_by(f64::total_cmp);
                values[values.len() / 2]
            };
            let ours = median(pairs.iter().map(|pair| pair.0).collect());
            let bare = median(pairs.iter().map(|pair| pair.1).collect());
            let ratio = median(pairs.iter().map(|pair| pair.0 / pair.1).collect());
            println!("{case:<38} {ours:>10.0} {bare:>18.0} {ratio:>7.2}");
            store.close().await;
        }
        if only
            .as_ref()
            .is_some_and(|only| !"replay".contains(only.as_str()))
        {
            return;
        }
        let store = SqliteStore::open(&dir.path().join("replay.sqlite"))
            .await
            .unwrap();
        let total = events.max(10_000) / 1000 * 1000;
        for start in (0..total).step_by(1000) {
            let batch = (start..start + 1000).map(new_event).collect();
            store
                .append("replay", ExpectedVersion::Any, batch)
                .await
                .unwrap();
        }
        let (read, rate) = replay(&store).await;
        println!("replay: {read} events via read_all pages of 10000: {rate:.0} events/s");
        store.close().await;
    });
}
