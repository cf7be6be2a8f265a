//! Measures durable append throughput of the PostgreSQL store with one node and with three
//! nodes (three stores, each with its own pool, on one database), against raw INSERTs of the
//! same rows as the ceiling.
//!
//! Run: `CONVEYOR_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test \
//!       cargo run --release -p conveyor-store --example pg_bench -- [--events N]`
//!
//! Each case runs in a fresh schema (dropped afterwards). The ceiling inserts the same rows
//! (same table, indexes, payloads and chained hashes) over one connection in transactions of
//! the size perfect group commit would reach — one row for a single appender, one row per
//! concurrent appender otherwise — with none of the store's work: no head lock, no version or
//! id lookups, no notifications, no replies.

use std::time::{Duration, Instant};

use chrono::{SubsecRound, Utc};
use conveyor_store::contract::{drop_postgres_schema, fresh_postgres_schema};
use conveyor_store::postgres::PostgresStore;
use conveyor_store::{EventStore, ExpectedVersion, GENESIS_HASH, Metadata, NewEvent, Record};
use tokio_postgres::NoTls;
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

/// `appenders` concurrent callers spread over `nodes` stores append `count` single events.
async fn run_store(nodes: usize, appenders: u64, count: u64) -> Duration {
    let (schema, url) = fresh_postgres_schema("conveyor_bench").await;
    let mut stores = Vec::new();
    for _ in 0..nodes {
        stores.push(PostgresStore::open(&url).await.expect("open"));
    }
    let per_appender = count / appenders;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for appender in 0..appenders {
        let store = stores[appender as usize % nodes].clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per_appender {
                let stream = format!("build-{}", (appender * per_appender + i) % 100);
                store
                    .append(
                        &stream,
                        ExpectedVersion::Any,
                        vec![new_event(appender * per_appender + i)],
                    )
                    .await
                    .expect("append");
            }
        }));
    }
    for task in tasks {
        task.await.expect("appender");
    }
    let elapsed = started.elapsed();
    let head = stores[0].head().await.expect("head");
    assert_eq!(head, per_appender * appenders);
    for store in stores {
        store.close().await;
    }
    drop_postgres_schema(&schema).await;
    elapsed
}

/// The same rows inserted directly, `per_transaction` rows per transaction.
async fn run_ceiling(per_transaction: u64, count: u64) -> Duration {
    let (schema, url) = fresh_postgres_schema("conveyor_bench").await;
    // The store creates the table; the ceiling writes to it without the store.
    PostgresStore::open(&url).await.expect("open").close().await;
    let (mut client, connection) = tokio_postgres::connect(&url, NoTls).await.expect("connect");
    tokio::spawn(connection);
    let insert = client
        .prepare(
            "INSERT INTO events (position, stream, version, id, event_type, schema_version, \
             payload, actor, correlation_id, causation_id, request_id, recorded_at, hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .await
        .expect("prepare");
    let mut previous = GENESIS_HASH.to_owned();
    let mut versions = std::collections::HashMap::new();
    let started = Instant::now();
    let mut position = 0u64;
    while position < count {
        let tx = client.transaction().await.expect("begin");
        let recorded_at = Utc::now().trunc_subsecs(6);
        let mut rows = Vec::new();
        for _ in 0..per_transaction.min(count - position) {
            position += 1;
            let event = new_event(position);
            let stream = format!("build-{}", position % 100);
            let version = versions.entry(stream.clone()).or_insert(0u64);
            *version += 1;
            let record = Record {
                position,
                stream,
                version: *version,
                id: event.id,
                event_type: event.event_type,
                schema_version: 1,
                payload: event.payload,
                metadata: event.metadata,
                recorded_at,
                hash: String::new(),
            };
            let hash = conveyor_store::chain_hash(&previous, &record);
            previous = hash.clone();
            rows.push((record, hash));
        }
        let mut inserts = Vec::new();
        for (record, hash) in &rows {
            let payload = record.payload.to_string();
            let tx = &tx;
            let insert = &insert;
            inserts.push(async move {
                tx.execute(
                    insert,
                    &[
                        &(record.position as i64),
                        &record.stream,
                        &(record.version as i64),
                        &record.id,
                        &record.event_type,
                        &1i32,
                        &payload,
                        &record.metadata.actor,
                        &record.metadata.correlation_id,
                        &record.metadata.causation_id,
                        &record.metadata.request_id,
                        &record.recorded_at,
                        hash,
                    ],
                )
                .await
            });
        }
        for result in futures_util::future::join_all(inserts).await {
            result.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    let elapsed = started.elapsed();
    drop(client);
    drop_postgres_schema(&schema).await;
    elapsed
}

fn rate(count: u64, elapsed: Duration) -> f64 {
    count as f64 / elapsed.as_secs_f64()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    // Fails early, saying how to provide a database, when none is configured.
    conveyor_store::contract::postgres_test_url();
    let args: Vec<String> = std::env::args().collect();
    let count: u64 = args
        .iter()
        .position(|a| a == "--events")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(6_400);
    println!("PostgreSQL append throughput, {count} single-event appends per case");
    println!("| case | events/s | ceiling events/s | ratio |\n|---|---:|---:|---:|");
    for (label, nodes, appenders) in [
        ("1 node, 1 appender", 1usize, 1u64),
        ("1 node, 64 concurrent appenders", 1, 64),
        ("3 nodes, 64 concurrent appenders (21-22 per node)", 3, 64),
    ] {
        // A single appender is slow per event: fewer events keep the case short.
        let events = if appenders == 1 { count / 8 } else { count };
        let ours = rate(events, run_store(nodes, appenders, events).await);
        let ceiling = rate(events, run_ceiling(appenders, events).await);
        println!(
            "| {label} | {ours:.0} | {ceiling:.0} | {:.2} |",
            ours / ceiling
        );
    }
}
