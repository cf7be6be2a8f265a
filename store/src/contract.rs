//! The backend-neutral contract suite: every [`EventStore`] backend must pass these tests.
//!
//! Each test is a `pub async fn` that panics on failure. Most take a fresh, empty store; the
//! ones that reopen a store or change its rows behind its back take a [`ContractBackend`].
//! A backend's test file calls each of them from a `#[tokio::test(flavor = "multi_thread")]`
//! with its own fresh database (see `tests/sqlite_contract.rs`).

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use serde_json::json;
use uuid::Uuid;

use crate::{
    EventStore, ExpectedVersion, Metadata, NewEvent, ReadFilter, Record, StoreError, Subscription,
};

/// How long any single awaited step may take before the test fails (never a sleep).
const STEP_DEADLINE: Duration = Duration::from_secs(60);

/// What a backend provides to the tests that reopen a store or tamper with its storage.
#[async_trait]
pub trait ContractBackend: Send + Sync {
    /// Opens the store on this backend's database (the same one every time).
    async fn open(&self) -> Arc<dyn EventStore>;
    /// Replaces the stored JSON payload of the record at `position`, bypassing the store.
    async fn overwrite_payload(&self, position: u64, payload_json: &str);
    /// Deletes the record at `position`, bypassing the store.
    async fn delete_record(&self, position: u64);
    /// Removes what the backend made for the test (a schema, say); files go with their
    /// temporary directory.
    async fn clean_up(&self) {}
}

/// Declares every contract test for a backend: `contract_tests!(MyBackend::new().await)`,
/// where the expression (evaluated inside each async test) makes a fresh [`ContractBackend`].
#[macro_export]
macro_rules! contract_tests {
    ($backend:expr) => {
        $crate::contract_tests!(@store $backend;
            positions_are_gapless_and_ordered_across_streams,
            expected_version_semantics,
            racing_exact_appends_on_one_stream,
            concurrent_appends_share_commits,
            reappending_stored_ids_is_idempotent,
            invalid_appends_are_refused,
            read_all_filters,
            subscriptions_catch_up_then_follow_live,
            close_finishes_appends_and_ends_subscriptions,
            checkpoints_and_key_values,
            locks_exclude_each_other
        );
        $crate::contract_tests!(@backend $backend; verify_finds_tampering, durable_across_reopen);
    };
    (@store $backend:expr; $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            use $crate::contract::ContractBackend as _;
            let backend = $backend;
            let store = backend.open().await;
            $crate::contract::$name(store.clone()).await;
            store.close().await;
            backend.clean_up().await;
        }
    )*};
    (@backend $backend:expr; $($name:ident),*) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $name() {
            use $crate::contract::ContractBackend as _;
            let backend = $backend;
            $crate::contract::$name(&backend).await;
            backend.clean_up().await;
        }
    )*};
}

/// Awaits `future`, failing the test if it takes longer than [`STEP_DEADLINE`].
async fn within<T>(what: &str, future: impl Future<Output = T>) -> T {
    match tokio::time::timeout(STEP_DEADLINE, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// A new event of `event_type` by `actor`.
pub fn new_event(event_type: &str, actor: &str) -> NewEvent {
    NewEvent {
        id: Uuid::now_v7(),
        event_type: event_type.to_owned(),
        schema_version: 1,
        payload: json!({ "type": event_type, "n": 1, "nested": { "b": [1, 2.5, "x"], "a": null } }),
        metadata: Metadata {
            actor: actor.to_owned(),
            correlation_id: Uuid::now_v7(),
            causation_id: Some(Uuid::now_v7()),
            request_id: Some("req-1".to_owned()),
        },
    }
}

fn events(count: usize) -> Vec<NewEvent> {
    (0..count)
        .map(|_| new_event("ThingHappened", "alice"))
        .collect()
}

fn positions(records: &[Record]) -> Vec<u64> {
    records.iter().map(|record| record.position).collect()
}

async fn read_everything(store: &dyn EventStore) -> Vec<Record> {
    let mut all = Vec::new();
    loop {
        let filter = ReadFilter {
            after: all.last().map_or(0, |r: &Record| r.position),
            ..Default::default()
        };
        let page = store.read_all(&filter).await.expect("read_all");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}

/// Positions are global, gapless from 1 and in append order across streams; versions count
/// per stream; records come back exactly as appended.
pub async fn positions_are_gapless_and_ordered_across_streams(store: Arc<dyn EventStore>) {
    assert_eq!(store.head().await.unwrap(), 0);
    let mut appended = Vec::new();
    for round in 0..5u64 {
        for stream in ["alpha", "beta", "gamma"] {
            let batch = events(round as usize % 3 + 1);
            let outcome = store
                .append(stream, ExpectedVersion::Any, batch.clone())
                .await
                .unwrap();
            assert!(!outcome.duplicate);
            assert_eq!(
                outcome.last_position - outcome.first_position + 1,
                batch.len() as u64
            );
            appended.extend(batch.into_iter().map(|event| (stream, event)));
        }
    }
    let all = read_everything(store.as_ref()).await;
    assert_eq!(
        positions(&all),
        (1..=appended.len() as u64).collect::<Vec<_>>()
    );
    assert_eq!(store.head().await.unwrap(), appended.len() as u64);
    for (record, (stream, event)) in all.iter().zip(&appended) {
        assert_eq!(record.stream, *stream);
        assert_eq!(record.id, event.id);
        assert_eq!(record.event_type, event.event_type);
        assert_eq!(record.schema_version, event.schema_version);
        assert_eq!(record.payload, event.payload);
        assert_eq!(record.metadata, event.metadata);
    }
    let mut previous_hash = crate::GENESIS_HASH.to_owned();
    for record in &all {
        assert_eq!(
            record.hash,
            record.expected_hash(&previous_hash),
            "hash at {}",
            record.position
        );
        previous_hash = record.hash.clone();
    }
    for stream in ["alpha", "beta", "gamma"] {
        let records = store.read_stream(stream, 0).await.unwrap();
        let versions: Vec<u64> = records.iter().map(|r| r.version).collect();
        assert_eq!(versions, (1..=versions.len() as u64).collect::<Vec<_>>());
        assert_eq!(
            store.stream_version(stream).await.unwrap(),
            versions.len() as u64
        );
        assert!(
            records
                .windows(2)
                .all(|pair| pair[0].position < pair[1].position)
        );
        let tail = store.read_stream(stream, 3).await.unwrap();
        assert_eq!(tail.as_slice(), &records[3..]);
    }
    assert_eq!(store.stream_version("nothing-here").await.unwrap(), 0);
    assert!(
        store
            .read_stream("nothing-here", 0)
            .await
            .unwrap()
            .is_empty()
    );
}

/// `Any`, `NoStream` and `Exact(n)`; a conflict says what was expected and what is, and
/// writes nothing.
pub async fn expected_version_semantics(store: Arc<dyn EventStore>) {
    let stream = "deployment-1";
    let outcome = store
        .append(stream, ExpectedVersion::NoStream, events(1))
        .await
        .unwrap();
    assert_eq!(outcome.stream_version, 1);

    let conflict = store
        .append(stream, ExpectedVersion::NoStream, events(1))
        .await;
    assert!(
        matches!(&conflict, Err(StoreError::Conflict { stream: s, expected: ExpectedVersion::NoStream, actual: 1 }) if s == stream),
        "{conflict:?}"
    );
    let outcome = store
        .append(stream, ExpectedVersion::Exact(1), events(2))
        .await
        .unwrap();
    assert_eq!(
        (
            outcome.stream_version,
            outcome.first_position,
            outcome.last_position
        ),
        (3, 2, 3)
    );

    for stale in [0, 1, 2, 4, 99] {
        let conflict = store
            .append(stream, ExpectedVersion::Exact(stale), events(1))
            .await;
        assert!(
            matches!(&conflict, Err(StoreError::Conflict { expected: ExpectedVersion::Exact(e), actual: 3, .. }) if *e == stale),
            "{conflict:?}"
        );
    }
    assert_eq!(store.head().await.unwrap(), 3, "a conflict writes nothing");
    assert_eq!(store.stream_version(stream).await.unwrap(), 3);

    let outcome = store
        .append(stream, ExpectedVersion::Any, events(1))
        .await
        .unwrap();
    assert_eq!(outcome.stream_version, 4);
    let outcome = store
        .append("fresh-1", ExpectedVersion::Exact(0), events(1))
        .await
        .unwrap();
    assert_eq!(outcome.stream_version, 1);
    let outcome = store
        .append("fresh-2", ExpectedVersion::Any, events(3))
        .await
        .unwrap();
    assert_eq!((outcome.stream_version, outcome.last_position), (3, 8));
}

/// Eight tasks race `Exact(v)` appends on one stream: exactly one wins each version.
pub async fn racing_exact_appends_on_one_stream(store: Arc<dyn EventStore>) {
    const TARGET: u64 = 60;
    let stream = "environment-prod";
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut won = Vec::new();
            let mut conflicts = 0u64;
            loop {
                let version = store.stream_version(stream).await.unwrap();
                if version >= TARGET {
                    return (won, conflicts);
                }
                match store
                    .append(stream, ExpectedVersion::Exact(version), events(1))
                    .await
                {
                    Ok(outcome) => {
                        assert_eq!(outcome.stream_version, version + 1);
                        won.push(outcome.stream_version);
                    }
                    Err(StoreError::Conflict {
                        expected, actual, ..
                    }) => {
                        assert_eq!(expected, ExpectedVersion::Exact(version));
                        assert!(
                            actual > version,
                            "a stream only grows: {actual} <= {version}"
                        );
                        conflicts += 1;
                    }
                    Err(other) => panic!("unexpected error: {other}"),
                }
            }
        }));
    }
    let mut wins = Vec::new();
    for task in tasks {
        let (won, _conflicts) = within("racing appender", task).await.unwrap();
        wins.extend(won);
    }
    wins.sort_unstable();
    assert_eq!(
        wins,
        (1..=TARGET).collect::<Vec<_>>(),
        "each version won exactly once"
    );
    assert_eq!(store.stream_version(stream).await.unwrap(), TARGET);
    let records = store.read_stream(stream, 0).await.unwrap();
    assert_eq!(records.iter().map(|r| r.version).collect::<Vec<_>>(), wins);
    assert_eq!(store.head().await.unwrap(), TARGET);
}

/// 64 concurrent single-event appends all succeed and take positions 1..=64.
pub async fn concurrent_appends_share_commits(store: Arc<dyn EventStore>) {
    let mut tasks = Vec::new();
    for task in 0..64 {
        let store = store.clone();
        let stream = if task % 2 == 0 {
            "shared".to_owned()
        } else {
            format!("own-{task}")
        };
        tasks.push(tokio::spawn(async move {
            store.append(&stream, ExpectedVersion::Any, events(1)).await
        }));
    }
    let mut taken = Vec::new();
    for task in tasks {
        let outcome = within("concurrent append", task).await.unwrap().unwrap();
        assert_eq!(outcome.first_position, outcome.last_position);
        taken.push(outcome.first_position);
    }
    taken.sort_unstable();
    assert_eq!(taken, (1..=64).collect::<Vec<_>>());
    assert_eq!(store.head().await.unwrap(), 64);
    assert_eq!(store.stream_version("shared").await.unwrap(), 32);
}

/// A retry of stored ids returns the original outcome and writes nothing; a call that is
/// partly stored, reordered, or aimed at another stream is a mismatch.
pub async fn reappending_stored_ids_is_idempotent(store: Arc<dyn EventStore>) {
    let batch = events(3);
    let original = store
        .append("build-1", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    store
        .append("build-2", ExpectedVersion::Any, events(2))
        .await
        .unwrap();
    let head = store.head().await.unwrap();

    // A retry with the same (now stale) expected version is still recognised.
    let retry = store
        .append("build-1", ExpectedVersion::NoStream, batch.clone())
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!(
        (
            retry.first_position,
            retry.last_position,
            retry.stream_version
        ),
        (
            original.first_position,
            original.last_position,
            original.stream_version
        )
    );
    assert_eq!(store.head().await.unwrap(), head, "a retry writes nothing");
    // So is one with `Any`, which gets past the version check.
    let retry = store
        .append("build-1", ExpectedVersion::Any, batch.clone())
        .await
        .unwrap();
    assert!(retry.duplicate);
    assert_eq!((retry.first_position, retry.last_position), (1, 3));

    let prefix = store
        .append("build-1", ExpectedVersion::Any, batch[..2].to_vec())
        .await
        .unwrap();
    assert!(prefix.duplicate);
    assert_eq!((prefix.first_position, prefix.last_position), (1, 2));

    let mut partly_new = batch[..2].to_vec();
    partly_new.push(new_event("ThingHappened", "alice"));
    let mut new_then_stored = vec![new_event("ThingHappened", "alice")];
    new_then_stored.push(batch[0].clone());
    let reordered = vec![batch[1].clone(), batch[0].clone()];
    let gapped = vec![batch[0].clone(), batch[2].clone()];
    for (what, stream, attempt) in [
        ("partly new", "build-1", partly_new),
        ("new then stored", "build-1", new_then_stored),
        ("reordered", "build-1", reordered),
        ("not contiguous", "build-1", gapped),
        ("other stream", "build-3", batch.clone()),
    ] {
        let result = store.append(stream, ExpectedVersion::Any, attempt).await;
        assert!(
            matches!(result, Err(StoreError::IdempotencyMismatch { .. })),
            "{what}: {result:?}"
        );
        assert_eq!(store.head().await.unwrap(), head, "{what}: nothing written");
    }
    assert_eq!(store.stream_version("build-1").await.unwrap(), 3);
    assert_eq!(store.stream_version("build-3").await.unwrap(), 0);

    // The same new append sent eight times at once is written once.
    let batch = events(2);
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let store = store.clone();
        let batch = batch.clone();
        tasks.push(tokio::spawn(async move {
            store.append("build-4", ExpectedVersion::Any, batch).await
        }));
    }
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(within("concurrent retry", task).await.unwrap().unwrap());
    }
    assert_eq!(outcomes.iter().filter(|o| !o.duplicate).count(), 1);
    assert!(
        outcomes
            .iter()
            .all(|o| o.first_position == head + 1 && o.last_position == head + 2)
    );
    assert_eq!(store.head().await.unwrap(), head + 2);
}

/// Empty stream names, empty appends and repeated ids in one call are refused.
pub async fn invalid_appends_are_refused(store: Arc<dyn EventStore>) {
    let result = store.append("", ExpectedVersion::Any, events(1)).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    let result = store.append("s", ExpectedVersion::Any, Vec::new()).await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    let event = new_event("ThingHappened", "alice");
    let result = store
        .append("s", ExpectedVersion::Any, vec![event.clone(), event])
        .await;
    assert!(matches!(result, Err(StoreError::Invalid(_))), "{result:?}");
    assert_eq!(store.head().await.unwrap(), 0);
}

/// Every `ReadFilter` field, alone and combined, against the same filter applied in memory.
pub async fn read_all_filters(store: Arc<dyn EventStore>) {
    let plan: [(&str, &str, &str); 12] = [
        ("deployment-a", "DeploymentRequested", "alice"),
        ("build-x", "BuildStarted", "system"),
        ("deployment-b", "DeploymentRequested", "bob"),
        ("deployment-a", "DeploymentSucceeded", "system"),
        ("deploymentz", "DeploymentRequested", "alice"),
        ("deploy_x", "BuildStarted", "bob"),
        ("build-x", "BuildSucceeded", "system"),
        ("deployment-b", "DeploymentFailed", "system"),
        ("deployment-c", "DeploymentRequested", "alice"),
        ("build-y", "BuildStarted", "bob"),
        ("deployment-c", "DeploymentSucceeded", "system"),
        ("build-y", "BuildFailed", "system"),
    ];
    for (stream, event_type, actor) in plan {
        store
            .append(
                stream,
                ExpectedVersion::Any,
                vec![new_event(event_type, actor)],
            )
            .await
            .unwrap();
    }
    let all = store.read_all(&ReadFilter::default()).await.unwrap();
    assert_eq!(positions(&all), (1..=12).collect::<Vec<_>>());
    assert!(
        all.windows(2)
            .all(|pair| pair[0].recorded_at <= pair[1].recorded_at)
    );

    let t4 = all[4].recorded_at;
    let t9 = all[9].recorded_at;
    let filters = vec![
        ReadFilter {
            after: 3,
            ..Default::default()
        },
        ReadFilter {
            after: 3,
            until: Some(9),
            ..Default::default()
        },
        ReadFilter {
            until: Some(0),
            ..Default::default()
        },
        ReadFilter {
            stream: Some("deployment-a".into()),
            ..Default::default()
        },
        ReadFilter {
            stream_prefix: Some("deployment-".into()),
            ..Default::default()
        },
        ReadFilter {
            stream_prefix: Some("deploy_".into()),
            ..Default::default()
        },
        ReadFilter {
            stream_prefix: Some("deploy".into()),
            ..Default::default()
        },
        ReadFilter {
            event_types: vec!["BuildStarted".into(), "DeploymentSucceeded".into()],
            ..Default::default()
        },
        ReadFilter {
            actor: Some("system".into()),
            ..Default::default()
        },
        ReadFilter {
            recorded_from: Some(t4),
            ..Default::default()
        },
        ReadFilter {
            recorded_to: Some(t9),
            ..Default::default()
        },
        ReadFilter {
            recorded_from: Some(t4),
            recorded_to: Some(t9),
            ..Default::default()
        },
        ReadFilter {
            recorded_from: Some(t4 + chrono::Duration::nanoseconds(1)),
            ..Default::default()
        },
        ReadFilter {
            limit: 4,
            ..Default::default()
        },
        ReadFilter {
            after: 2,
            limit: 3,
            actor: Some("system".into()),
            ..Default::default()
        },
        ReadFilter {
            after: 1,
            until: Some(11),
            stream_prefix: Some("deployment-".into()),
            event_types: vec!["DeploymentRequested".into(), "DeploymentSucceeded".into()],
            actor: Some("alice".into()),
            limit: 2,
            ..Default::default()
        },
        ReadFilter {
            stream: Some("deployment-c".into()),
            stream_prefix: Some("build".into()),
            ..Default::default()
        },
    ];
    for filter in filters {
        let expected: Vec<u64> = all
            .iter()
            .filter(|r| r.position > filter.after)
            .filter(|r| filter.until.is_none_or(|until| r.position <= until))
            .filter(|r| filter.stream.as_ref().is_none_or(|s| &r.stream == s))
            .filter(|r| {
                filter
                    .stream_prefix
                    .as_ref()
                    .is_none_or(|p| r.stream.starts_with(p.as_str()))
            })
            .filter(|r| filter.event_types.is_empty() || filter.event_types.contains(&r.event_type))
            .filter(|r| filter.actor.as_ref().is_none_or(|a| &r.metadata.actor == a))
            .filter(|r| {
                filter
                    .recorded_from
                    .is_none_or(|from| r.recorded_at >= from)
            })
            .filter(|r| filter.recorded_to.is_none_or(|to| r.recorded_at < to))
            .take(if filter.limit == 0 {
                usize::MAX
            } else {
                filter.limit
            })
            .map(|r| r.position)
            .collect();
        let got = store.read_all(&filter).await.unwrap();
        assert_eq!(positions(&got), expected, "{filter:?}");
        // The same records with the payload left as text, which parses to the same payload.
        let raw: Vec<Record> = store
            .read_all_raw(&filter)
            .await
            .unwrap()
            .into_iter()
            .map(|record| record.parse().expect("the stored payload is JSON"))
            .collect();
        assert_eq!(raw, got, "{filter:?}");
    }
}

async fn collect_until(mut subscription: Box<dyn Subscription>, last: u64) -> Vec<Record> {
    let mut seen: Vec<Record> = Vec::new();
    while seen.last().is_none_or(|record| record.position < last) {
        let record = within("subscription next", subscription.next())
            .await
            .expect("next");
        seen.push(record);
    }
    seen
}

fn assert_exactly(records: &[Record], after: u64, last: u64) {
    assert_eq!(
        positions(records),
        (after + 1..=last).collect::<Vec<_>>(),
        "subscribed after {after}"
    );
    for pair in records.windows(2) {
        assert_eq!(pair[1].hash, pair[1].expected_hash(&pair[0].hash));
    }
}

/// Subscriptions catch up, then follow live appends, never skipping or repeating a record,
/// even when they start while appenders race.
pub async fn subscriptions_catch_up_then_follow_live(store: Arc<dyn EventStore>) {
    const BEFORE: u64 = 50;
    const TASKS: u64 = 4;
    const PER_TASK: u64 = 200;
    const LAST: u64 = BEFORE + TASKS * PER_TASK;
    for _ in 0..BEFORE {
        store
            .append("before", ExpectedVersion::Any, events(1))
            .await
            .unwrap();
    }
    let mut subscribers = Vec::new();
    for after in [0, 25, BEFORE, LAST - 1] {
        let subscription = store.subscribe(after).await.unwrap();
        subscribers.push((after, tokio::spawn(collect_until(subscription, LAST))));
    }
    let mut appenders = Vec::new();
    for task in 0..TASKS {
        let store = store.clone();
        appenders.push(tokio::spawn(async move {
            for version in 0..PER_TASK {
                let stream = format!("live-{task}");
                store
                    .append(&stream, ExpectedVersion::Exact(version), events(1))
                    .await
                    .unwrap();
            }
        }));
    }
    // Start more subscriptions while the appenders run, at whatever the head is then.
    for _ in 0..6 {
        tokio::task::yield_now().await;
        let after = store.head().await.unwrap();
        let subscription = store.subscribe(after).await.unwrap();
        subscribers.push((after, tokio::spawn(collect_until(subscription, LAST))));
        if after < LAST {
            let store = store.clone();
            within("head to move", async move {
                while store.head().await.unwrap() <= after {
                    tokio::task::yield_now().await;
                }
            })
            .await;
        }
    }
    for appender in appenders {
        within("appender", appender).await.unwrap();
    }
    for (after, subscriber) in subscribers {
        let records = within("subscriber", subscriber).await.unwrap();
        assert_exactly(&records, after, LAST);
    }
}

/// After `close`, a subscription delivers everything committed, then answers `Closed`; appends
/// racing the close either commit (and are delivered) or answer `Closed`.
pub async fn close_finishes_appends_and_ends_subscriptions(store: Arc<dyn EventStore>) {
    let mut subscription = store.subscribe(0).await.unwrap();
    store
        .append("s", ExpectedVersion::Any, events(3))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..32 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.append("t", ExpectedVersion::Any, events(1)).await
        }));
    }
    within("close", store.close()).await;
    let mut committed = vec![1, 2, 3];
    for task in tasks {
        match within("append racing close", task).await.unwrap() {
            Ok(outcome) => committed.push(outcome.first_position),
            Err(StoreError::Closed) => {}
            Err(other) => panic!("append racing close: {other}"),
        }
    }
    committed.sort_unstable();
    let mut delivered = Vec::new();
    loop {
        match within("subscription after close", subscription.next()).await {
            Ok(record) => delivered.push(record.position),
            Err(StoreError::Closed) => break,
            Err(other) => panic!("subscription after close: {other}"),
        }
    }
    assert_eq!(delivered, committed);
    let result = store.append("s", ExpectedVersion::Any, events(1)).await;
    assert!(matches!(result, Err(StoreError::Closed)), "{result:?}");
}

/// Checkpoints default to 0 and overwrite; `kv_put_if_absent` keeps the first value even when
/// callers race.
pub async fn checkpoints_and_key_values(store: Arc<dyn EventStore>) {
    assert_eq!(store.load_checkpoint("projector").await.unwrap(), 0);
    store.save_checkpoint("projector", 42).await.unwrap();
    store.save_checkpoint("other", 7).await.unwrap();
    assert_eq!(store.load_checkpoint("projector").await.unwrap(), 42);
    store.save_checkpoint("projector", 43).await.unwrap();
    assert_eq!(store.load_checkpoint("projector").await.unwrap(), 43);
    assert_eq!(store.load_checkpoint("other").await.unwrap(), 7);

    assert_eq!(store.kv_get("key").await.unwrap(), None);
    let mut tasks = Vec::new();
    for value in 0..8u8 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            store.kv_put_if_absent("key", vec![value; 3]).await
        }));
    }
    let mut stored = HashSet::new();
    for task in tasks {
        stored.insert(within("kv put", task).await.unwrap().unwrap());
    }
    assert_eq!(stored.len(), 1, "every racer sees the same winner");
    let winner = stored.into_iter().next().unwrap();
    assert_eq!(store.kv_get("key").await.unwrap(), Some(winner.clone()));
    assert_eq!(
        store.kv_put_if_absent("key", vec![9]).await.unwrap(),
        winner
    );
}

/// An intact chain verifies; a changed payload and a removed record are found at their
/// positions.
pub async fn verify_finds_tampering(backend: &dyn ContractBackend) {
    let store = backend.open().await;
    for stream in ["a", "b", "a", "c", "b"] {
        store
            .append(stream, ExpectedVersion::Any, events(2))
            .await
            .unwrap();
    }
    let report = store.verify(1, None).await.unwrap();
    assert_eq!((report.from, report.to, report.checked), (1, 10, 10));
    assert_eq!(report.first_bad_position, None, "{report:?}");
    let report = store.verify(4, Some(6)).await.unwrap();
    assert_eq!(
        (
            report.from,
            report.to,
            report.checked,
            report.first_bad_position
        ),
        (4, 6, 3, None)
    );

    backend.overwrite_payload(4, r#"{"tampered":true}"#).await;
    let report = store.verify(1, None).await.unwrap();
    assert_eq!(report.first_bad_position, Some(4), "{report:?}");
    assert!(report.reason.is_some());
    assert_eq!(report.checked, 3);
    // Starting after it, the chain anchors on record 4's stored hash and holds.
    assert_eq!(
        store.verify(5, None).await.unwrap().first_bad_position,
        None
    );

    backend.delete_record(7).await;
    let report = store.verify(5, None).await.unwrap();
    assert_eq!(report.first_bad_position, Some(7), "{report:?}");
    assert_eq!(report.checked, 2);
    store.close().await;
}

/// Everything survives close and reopen, and the log (positions, versions, hash chain) goes
/// on where it stopped.
pub async fn durable_across_reopen(backend: &dyn ContractBackend) {
    let store = backend.open().await;
    store
        .append("a", ExpectedVersion::NoStream, events(3))
        .await
        .unwrap();
    store
        .append("b", ExpectedVersion::NoStream, events(2))
        .await
        .unwrap();
    store.save_checkpoint("projector", 4).await.unwrap();
    store
        .kv_put_if_absent("setting", b"on".to_vec())
        .await
        .unwrap();
    let before = read_everything(store.as_ref()).await;
    store.close().await;
    drop(store);

    let store = backend.open().await;
    assert_eq!(store.head().await.unwrap(), 5);
    assert_eq!(read_everything(store.as_ref()).await, before);
    assert_eq!(store.stream_version("a").await.unwrap(), 3);
    assert_eq!(store.load_checkpoint("projector").await.unwrap(), 4);
    assert_eq!(store.kv_get("setting").await.unwrap(), Some(b"on".to_vec()));

    let outcome = store
        .append("a", ExpectedVersion::Exact(3), events(2))
        .await
        .unwrap();
    assert_eq!(
        (
            outcome.first_position,
            outcome.last_position,
            outcome.stream_version
        ),
        (6, 7, 5)
    );
    let report = store.verify(1, None).await.unwrap();
    assert_eq!(
        (report.checked, report.first_bad_position),
        (7, None),
        "{report:?}"
    );
    let all = read_everything(store.as_ref()).await;
    assert_eq!(all[5].hash, all[5].expected_hash(&before[4].hash));
    store.close().await;
}

/// A named lock admits one holder at a time; other names are independent; dropping the guard
/// lets the next waiter in.
pub async fn locks_exclude_each_other(store: Arc<dyn EventStore>) {
    let first = within("first lock", store.lock("leases")).await.unwrap();
    assert!(!first.is_lost());
    let mut waiter = {
        let store = store.clone();
        tokio::spawn(async move { store.lock("leases").await })
    };
    let other = within("another name", store.lock("checkpoints"))
        .await
        .unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(300), &mut waiter)
            .await
            .is_err(),
        "a second holder got the lock while the first held it"
    );
    drop(first);
    let second = within("the waiter gets the lock", waiter)
        .await
        .unwrap()
        .unwrap();
    assert!(!second.is_lost());
    drop(other);
}

/// The PostgreSQL database the tests use (`CONVEYOR_TEST_DATABASE_URL`, which `.ci/run` sets);
/// without it, a failure that says how to provide one.
pub fn postgres_test_url() -> String {
    std::env::var("CONVEYOR_TEST_DATABASE_URL").unwrap_or_else(|_| {
        panic!(
            "the PostgreSQL tests need a database: set CONVEYOR_TEST_DATABASE_URL, e.g. \
             CONVEYOR_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test (each test \
             creates a schema of its own there); .ci/run sets it"
        )
    })
}

/// Creates a fresh schema named `<prefix>_<random>` in the test database; returns its name and
/// a URL whose connections use it.
pub async fn fresh_postgres_schema(prefix: &str) -> (String, String) {
    let base = postgres_test_url();
    let schema = format!("{prefix}_{}", Uuid::new_v4().simple());
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("connecting to {base}: {error}"));
    tokio::spawn(connection);
    client
        .batch_execute(&format!("CREATE SCHEMA {schema}"))
        .await
        .unwrap_or_else(|error| panic!("creating schema {schema}: {error}"));
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-csearch_path%3D{schema}");
    (schema, url)
}

/// Drops a schema [`fresh_postgres_schema`] made.
pub async fn drop_postgres_schema(schema: &str) {
    let base = postgres_test_url();
    let (client, connection) = tokio_postgres::connect(&base, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|error| panic!("connecting to {base}: {error}"));
    tokio::spawn(connection);
    client
        .batch_execute(&format!("DROP SCHEMA {schema} CASCADE"))
        .await
        .unwrap_or_else(|error| panic!("dropping schema {schema}: {error}"));
}
