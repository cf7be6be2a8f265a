//! Runs the backend-neutral contract suite (`conveyor_store::contract`) against SQLite.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use conveyor_store::EventStore;
use conveyor_store::contract::ContractBackend;
use conveyor_store::sqlite::SqliteStore;

/// A fresh SQLite file in its own temporary directory.
struct SqliteBackend {
    _dir: tempfile::TempDir,
    path: PathBuf,
}

impl SqliteBackend {
    fn new() -> SqliteBackend {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.sqlite");
        SqliteBackend { _dir: dir, path }
    }

    /// A second, independent connection on the file: the "attacker".
    fn tamper(&self, sql: &str, params: impl rusqlite::Params) {
        let conn = rusqlite::Connection::open(&self.path).unwrap();
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .unwrap();
        assert_eq!(conn.execute(sql, params).unwrap(), 1, "{sql}");
    }
}

#[async_trait]
impl ContractBackend for SqliteBackend {
    async fn open(&self) -> Arc<dyn EventStore> {
        SqliteStore::open(&self.path).await.unwrap()
    }

    async fn overwrite_payload(&self, position: u64, payload_json: &str) {
        self.tamper(
            "UPDATE events SET payload = ?1 WHERE position = ?2",
            rusqlite::params![payload_json, position],
        );
    }

    async fn delete_record(&self, position: u64) {
        self.tamper("DELETE FROM events WHERE position = ?1", [position]);
    }
}

conveyor_store::contract_tests!(SqliteBackend::new());

#[tokio::test]
async fn opening_a_newer_schema_fails() {
    let backend = SqliteBackend::new();
    let conn = rusqlite::Connection::open(&backend.path).unwrap();
    conn.execute_batch("PRAGMA user_version = 99").unwrap();
    drop(conn);
    let result = SqliteStore::open(&backend.path).await;
    assert!(matches!(
        result,
        Err(conveyor_store::StoreError::Backend(_))
    ));
}

#[tokio::test]
async fn the_file_is_in_wal_mode_with_full_sync() {
    let backend = SqliteBackend::new();
    let store = backend.open().await;
    let conn = rusqlite::Connection::open(&backend.path).unwrap();
    let mode: String = conn
        .query_row("PRAGMA journal_mode", [], |row| row.get(0))
        .unwrap();
    assert_eq!(mode, "wal");
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |row| row.get(0))
        .unwrap();
    assert_eq!(version, conveyor_store::sqlite::SCHEMA_VERSION);
    store.close().await;
}
