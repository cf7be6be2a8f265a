//! Measures durable append throughput and replay rate of the SQLite store against a bare
//! rusqlite loop (same schema, WAL, `synchronous=FULL`) as the ceiling.
//!
//! Run: `cargo run --release -p conveyor-store --example store_bench -- [--events N]`

use std::sync::Arc;
use std::time::Instant;

use conveyor_store::sqlite::{INSERT_EVENT_SQL, SCHEMA_SQL, SqliteStore};
use conveyor_store::{
    EventStore, ExpectedVersion, GENESIS_HASH, Metadata, NewEvent, ReadFilter, Record, chain_hash,
};
use uuid::Uuid;

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

/// Appends `total` events sequentially in appends of `batch` events; events per second.
async fn sequential(path: &std::path::Path, total: u64, batch: u64) -> f64 {
    let store = SqliteStore::open(path).await.unwrap();
    let batches: Vec<Vec<NewEvent>> = (0..total / batch)
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
    let rate = (total / batch * batch) as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    rate
}

/// `tasks` concurrent appenders of single events, `total` in all; events per second.
async fn concurrent(path: &std::path::Path, total: u64, tasks: u64) -> f64 {
    let store = SqliteStore::open(path).await.unwrap();
    let per_task = total / tasks;
    let started = Instant::now();
    let mut handles = Vec::new();
    for task in 0..tasks {
        let store = store.clone();
        let events: Vec<NewEvent> = (0..per_task).map(new_event).collect();
        handles.push(tokio::spawn(async move {
            let stream = format!("deployment-{task}");
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
    let rate = (per_task * tasks) as f64 / started.elapsed().as_secs_f64();
    store.close().await;
    rate
}

/// The ceiling: a bare rusqlite loop inserting prebuilt rows in transactions of `batch`.
fn ceiling(path: &std::path::Path, total: u64, batch: u64) -> f64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(()))
        .unwrap();
    conn.execute_batch("PRAGMA synchronous = FULL;").unwrap();
    conn.execute_batch(SCHEMA_SQL).unwrap();
    let recorded_at = chrono::Utc::now();
    let recorded_text = recorded_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let mut previous = GENESIS_HASH.to_owned();
    let rows: Vec<(Record, String)> = (1..=total / batch * batch)
        .map(|position| {
            let event = new_event(position);
            let mut record = Record {
                position,
                stream: format!("build-{}", position % 100),
                version: position,
                id: event.id,
                event_type: event.event_type,
                schema_version: event.schema_version,
                payload: event.payload,
                metadata: event.metadata,
                recorded_at,
                hash: String::new(),
            };
            record.hash = chain_hash(&previous, &record);
            previous = record.hash.clone();
            let payload = record.payload.to_string();
            (record, payload)
        })
        .collect();
    let started = Instant::now();
    for chunk in rows.chunks(batch as usize) {
        conn.execute_batch("BEGIN IMMEDIATE").unwrap();
        let mut insert = conn.prepare_cached(INSERT_EVENT_SQL).unwrap();
        for (record, payload) in chunk {
            insert
                .execute(rusqlite::params![
                    record.position as i64,
                    record.stream,
                    record.version as i64,
                    record.id.as_bytes().as_slice(),
                    record.event_type,
                    record.schema_version,
                    payload,
                    record.metadata.actor,
                    record.metadata.correlation_id.to_string(),
                    record.metadata.causation_id.map(|id| id.to_string()),
                    record.metadata.request_id,
                    recorded_text,
                    record.hash,
                ])
                .unwrap();
        }
        drop(insert);
        conn.execute_batch("COMMIT").unwrap();
    }
    rows.len() as f64 / started.elapsed().as_secs_f64()
}

/// Reads the whole log in pages of 10 000; events per second.
async fn replay(store: &Arc<SqliteStore>) -> (u64, f64) {
    let head = store.head().await.unwrap();
    let started = Instant::now();
    let mut after = 0;
    let mut read = 0u64;
    while after < head {
        let page = store
            .read_all(&ReadFilter {
                after,
                limit: 10_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let Some(last) = page.last() else { break };
        after = last.position;
        read += page.len() as u64;
    }
    (read, read as f64 / started.elapsed().as_secs_f64())
}

/// Each case runs this many times; the best run counts.
const ROUNDS: u64 = 3;

fn main() {
    let mut events: u64 = 20_000;
    let mut only: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--only" => only = args.next(),
            "--events" => {
                events = args
                    .next()
                    .and_then(|n| n.parse().ok())
                    .expect("--events N");
            }
            other => panic!(
                "unknown argument {other}; usage: store_bench [--events N] [--only CASE-SUBSTRING]"
            ),
        }
    }
    // Single-event cases wait for one fsync each; a tenth of the events keeps the run short.
    let single = (events / 10).max(100);
    let dir = tempfile::tempdir_in(std::env::current_dir().unwrap()).unwrap();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    println!(
        "store_bench: {events} events per batched case, {single} per single-event case, best of {ROUNDS} rounds"
    );
    println!(
        "{:<34} {:>12} {:>18} {:>7}",
        "case", "events/s", "ceiling events/s", "ratio"
    );
    let row = |case: &str, ours: f64, ceiling: f64| {
        println!(
            "{case:<34} {ours:>12.0} {ceiling:>18.0} {:>7.2}",
            ours / ceiling
        );
    };
    runtime.block_on(async {
        // The machine may be shared: run ours and the ceiling alternately, in rounds, each on a
        // fresh file, and keep each one's best round, so that both see the same conditions.
        let file = |name: String| dir.path().join(format!("{name}.sqlite"));
        let cases: [(&str, u64, u64, bool); 6] = [
            ("sequential, 1 event per append", single, 1, false),
            ("sequential, 10 events per append", events, 10, false),
            ("sequential, 100 events per append", events, 100, false),
            ("1 concurrent single-event appender", single, 1, true),
            ("16 concurrent single-event appenders", events, 16, true),
            ("64 concurrent single-event appenders", events, 64, true),
        ];
        for (case_index, (case, total, size, is_concurrent)) in cases.into_iter().enumerate() {
            if only
                .as_ref()
                .is_some_and(|only| !case.contains(only.as_str()))
            {
                continue;
            }
            let per_round = total / ROUNDS;
            let (mut ours, mut bare) = (0f64, 0f64);
            for round in 0..ROUNDS {
                let path = file(format!("case{case_index}-round{round}"));
                let rate = if is_concurrent {
                    concurrent(&path, per_round, size).await
                } else {
                    sequential(&path, per_round, size).await
                };
                ours = ours.max(rate);
                // For concurrent appenders the ceiling commits as many events per transaction
                // as there are appenders: what perfect group commit would do.
                let path = file(format!("ceiling{case_index}-round{round}"));
                bare = bare.max(ceiling(&path, per_round, size));
            }
            row(case, ours, bare);
        }
        let path = file("replay".to_owned());
        sequential(&path, events.max(10_000) / 100 * 100, 100).await;
        let store = SqliteStore::open(&path).await.unwrap();
        let (read, rate) = replay(&store).await;
        println!("replay: {read} events via read_all pages of 10000: {rate:.0} events/s");
        store.close().await;
    });
}
