//! Runs the backend-neutral contract suite (`conveyor_store::contract`) against PostgreSQL,
//! each test in a fresh schema, plus what only several nodes on one database can show: no
//! reader or subscriber sees a later position before an earlier one commits, and appends from
//! several nodes form one gapless, verified chain.
//!
//! The database comes from `CONVEYOR_TEST_DATABASE_URL` (`.ci/run` sets it); without it these
//! tests fail and say how to provide one.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use conveyor_store::contract::{self, ContractBackend, new_event};
use conveyor_store::postgres::PostgresStore;
use conveyor_store::{EventStore, ExpectedVersion, ReadFilter};
use tokio_postgres::NoTls;

/// A fresh schema in the test database.
struct PostgresBackend {
    schema: String,
    url: String,
}

impl PostgresBackend {
    async fn new() -> PostgresBackend {
        let (schema, url) = contract::fresh_postgres_schema("conveyor_test").await;
        PostgresBackend { schema, url }
    }

    /// A second, independent connection on the schema: the "attacker".
    async fn tamper(&self, sql: &str, params: &[&(dyn tokio_postgres::types::ToSql + Sync)]) {
        let (client, connection) = tokio_postgres::connect(&self.url, NoTls).await.unwrap();
        tokio::spawn(connection);
        assert_eq!(client.execute(sql, params).await.unwrap(), 1, "{sql}");
    }

    async fn drop_schema(&self) {
        contract::drop_postgres_schema(&self.schema).await;
    }
}

#[async_trait]
impl ContractBackend for PostgresBackend {
    async fn open(&self) -> Arc<dyn EventStore> {
        PostgresStore::open(&self.url).await.unwrap()
    }

    async fn overwrite_payload(&self, position: u64, payload_json: &str) {
        self.tamper(
            "UPDATE events SET payload = $1 WHERE position = $2",
            &[&payload_json, &(position as i64)],
        )
        .await;
    }

    async fn delete_record(&self, position: u64) {
        self.tamper(
            "DELETE FROM events WHERE position = $1",
            &[&(position as i64)],
        )
        .await;
    }

    async fn clean_up(&self) {
        self.drop_schema().await;
    }
}

conveyor_store::contract_tests!(PostgresBackend::new().await);

/// A transaction that has taken position 1 but not committed holds back every later append:
/// nobody sees position 2 before 1 commits, and a subscriber gets 1 then 2.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delayed_transaction_is_never_skipped() {
    let backend = PostgresBackend::new().await;
    let slow_node = PostgresStore::open(&backend.url).await.unwrap();
    let other_node = PostgresStore::open(&backend.url).await.unwrap();
    let mut subscription = other_node.subscribe(0).await.unwrap();

    let held = slow_node
        .begin_held_append("slow", vec![new_event("SlowThing", "slow")])
        .await
        .unwrap();
    let racing = {
        let other = other_node.clone();
        tokio::spawn(async move {
            other
                .append(
                    "fast",
                    ExpectedVersion::Any,
                    vec![new_event("FastThing", "fast")],
                )
                .await
        })
    };
    // While the slow transaction is open, nothing is visible and the racer waits behind it.
    let window = Duration::from_millis(500);
    assert!(
        tokio::time::timeout(window, subscription.next())
            .await
            .is_err(),
        "a subscriber saw a record while position 1 was uncommitted"
    );
    assert!(
        other_node
            .read_all(&ReadFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(other_node.head().await.unwrap(), 0);
    assert!(!racing.is_finished(), "the racer must wait for the head");

    let slow = held.commit().await.unwrap();
    assert_eq!(slow.first_position, 1);
    let fast = tokio::time::timeout(Duration::from_secs(30), racing)
        .await
        .expect("the racer finishes once the slow one commits")
        .unwrap()
        .unwrap();
    assert_eq!(fast.first_position, 2);
    for expected in [1, 2] {
        let record = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("delivered")
            .unwrap();
        assert_eq!(record.position, expected);
    }
    assert_eq!(
        other_node.verify(1, None).await.unwrap().first_bad_position,
        None
    );
    slow_node.close().await;
    other_node.close().await;
    backend.drop_schema().await;
}

/// Three nodes appending at once, some racing on the same streams, make one gapless chain;
/// each node's subscriber sees every record once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn several_nodes_share_one_gapless_chain() {
    const PER_NODE: usize = 150;
    let backend = PostgresBackend::new().await;
    let mut nodes = Vec::new();
    for _ in 0..3 {
        nodes.push(PostgresStore::open(&backend.url).await.unwrap());
    }
    let mut subscriptions = Vec::new();
    for node in &nodes {
        subscriptions.push(node.subscribe(0).await.unwrap());
    }
    let mut tasks = Vec::new();
    for (n, node) in nodes.iter().enumerate() {
        for i in 0..PER_NODE {
            let node = node.clone();
            tasks.push(tokio::spawn(async move {
                let stream = if i % 3 == 0 {
                    "shared".to_owned()
                } else {
                    format!("node-{n}-{i}")
                };
                node.append(&stream, ExpectedVersion::Any, vec![new_event("E", "n")])
                    .await
                    .unwrap()
                    .first_position
            }));
        }
    }
    let mut positions = Vec::new();
    for task in tasks {
        positions.push(task.await.unwrap());
    }
    positions.sort_unstable();
    let total = 3 * PER_NODE as u64;
    assert_eq!(positions, (1..=total).collect::<Vec<_>>());
    for (node, mut subscription) in nodes.iter().zip(subscriptions) {
        for expected in 1..=total {
            let record = tokio::time::timeout(Duration::from_secs(30), subscription.next())
                .await
                .expect("delivered")
                .unwrap();
            assert_eq!(record.position, expected);
        }
        let report = node.verify(1, None).await.unwrap();
        assert_eq!((report.checked, report.first_bad_position), (total, None));
    }
    assert_eq!(
        nodes[0].stream_version("shared").await.unwrap(),
        PER_NODE as u64
    );
    for node in nodes {
        node.close().await;
    }
    backend.drop_schema().await;
}

/// The database drops every connection of the store (a restart or a network cut): the next
/// appends succeed after the store reconnects, subscriptions go on, and nothing is lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn lost_connections_are_retried() {
    let backend = PostgresBackend::new().await;
    let marked = format!("{}&application_name={}", backend.url, backend.schema);
    let store = PostgresStore::open(&marked).await.unwrap();
    let mut subscription = store.subscribe(0).await.unwrap();
    store
        .append("s", ExpectedVersion::Any, vec![new_event("Before", "a")])
        .await
        .unwrap();

    let (client, connection) = tokio_postgres::connect(&contract::postgres_test_url(), NoTls)
        .await
        .unwrap();
    tokio::spawn(connection);
    let killed = client
        .query(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
            &[&backend.schema],
        )
        .await
        .unwrap();
    assert!(!killed.is_empty(), "the store's connections were found");

    for n in 0..3 {
        let outcome = tokio::time::timeout(
            Duration::from_secs(30),
            store.append("s", ExpectedVersion::Any, vec![new_event("After", "a")]),
        )
        .await
        .expect("the append finishes")
        .unwrap_or_else(|error| panic!("append {n} after the cut: {error}"));
        assert_eq!(outcome.first_position, 2 + n);
    }
    for expected in 1..=4 {
        let record = tokio::time::timeout(Duration::from_secs(30), subscription.next())
            .await
            .expect("delivered")
            .unwrap();
        assert_eq!(record.position, expected);
    }
    store.close().await;
    backend.drop_schema().await;
}
