//! Rebuilding the read model from the log, as a start does: a page of the log is read and
//! decoded while the page before it is folded, so reading and folding each get a core.
//!
//! Reading a page means the store's query plus decoding each payload, from its stored JSON
//! text, straight into the typed event of its stream (no `serde_json::Value` in between);
//! folding means applying those events to the projections. Both run on tokio's blocking pool,
//! so a long replay never holds up an async worker.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use conveyor_store::{EventStore, RawRecord, ReadFilter, StoreError};
use tokio::sync::mpsc;

use crate::model::{At, ModelEvent, ReadModel};

/// How many records a replay reads at a time.
pub const REPLAY_PAGE: usize = 10_000;

/// How a catch-up went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CatchUp {
    /// Records folded.
    pub records: u64,
    /// Time spent in the store's queries (reading the records, their payloads left as text).
    pub reading: Duration,
    /// Time spent decoding the payloads into events.
    pub decoding: Duration,
    /// Time spent folding the events into the projections.
    pub folding: Duration,
    /// Time folding waited for the next page (reading or decoding was behind).
    pub waiting: Duration,
}

/// A page of the log, decoded.
struct DecodedPage {
    events: Vec<(At, ModelEvent)>,
    /// Position and hash of the page's last record.
    last: (u64, String),
}

impl DecodedPage {
    fn decode(page: Vec<RawRecord>) -> Option<DecodedPage> {
        let last = page
            .last()
            .map(|record| (record.position, record.hash.clone()))?;
        let events = page
            .iter()
            .map(|record| {
                let at = At {
                    position: record.position,
                    version: record.version,
                    id: record.id,
                    recorded_at: record.recorded_at,
                };
                let event = ModelEvent::decode(
                    &record.stream,
                    &record.event_type,
                    record.payload_json.as_str(),
                );
                (at, event)
            })
            .collect();
        Some(DecodedPage { events, last })
    }
}

impl ReadModel {
    /// Folds every record of the log after `self.position` up to position `until` (or the
    /// log's end, if that comes first), reading and decoding the next pages while folding
    /// this one. The result equals applying each
    /// record in turn with [`ReadModel::apply`]. On an error, the model holds every page
    /// folded before it.
    pub async fn catch_up(
        &mut self,
        store: Arc<dyn EventStore>,
        until: u64,
    ) -> Result<CatchUp, StoreError> {
        self.catch_up_in_pages(store, until, REPLAY_PAGE).await
    }

    /// [`ReadModel::catch_up`], `page` records at a time.
    async fn catch_up_in_pages(
        &mut self,
        store: Arc<dyn EventStore>,
        until: u64,
        page: usize,
    ) -> Result<CatchUp, StoreError> {
        let mut report = CatchUp::default();
        if self.position >= until {
            return Ok(report);
        }
        // Three stages, each a page ahead of the next: the store's query, decoding, folding.
        // On two cores the operating system shares them out; no stage waits for another's
        // whole page unless it is the slowest.
        let (raw_pages, mut raw) = mpsc::channel::<Result<Vec<RawRecord>, StoreError>>(1);
        let (pages, mut decoded) = mpsc::channel::<Result<DecodedPage, StoreError>>(1);
        let mut filter = ReadFilter {
            after: self.position,
            until: Some(until),
            limit: page,
            ..ReadFilter::default()
        };
        let reader = tokio::spawn(async move {
            let mut busy = Duration::ZERO;
            while filter.after < until {
                let started = Instant::now();
                let page = store.read_all_raw(&filter).await;
                busy += started.elapsed();
                let last = match &page {
                    Ok(page) => page.last().map(|record| record.position),
                    Err(_) => None,
                };
                // An error is passed on, then the reader stops; so does an empty page (the log
                // ends before `until`: it cannot shrink) and a catch-up that was dropped.
                if raw_pages.send(page).await.is_err() {
                    break;
                }
                let Some(last) = last else { break };
                filter.after = last;
            }
            busy
        });
        let decoder = tokio::spawn(async move {
            let mut busy = Duration::ZERO;
            while let Some(page) = raw.recv().await {
                let page = match page {
                    Ok(page) => tokio::task::spawn_blocking(move || {
                        let started = Instant::now();
                        let page = DecodedPage::decode(page);
                        (page, started.elapsed())
                    })
                    .await
                    .map(|(page, took)| {
                        busy += took;
                        page
                    })
                    .map_err(|err| StoreError::Backend(format!("decoding a page: {err}"))),
                    Err(err) => Err(err),
                };
                let page = match page.transpose() {
                    Some(page) => page,
                    None => break,
                };
                if pages.send(page).await.is_err() {
                    break;
                }
            }
            busy
        });
        let mut outcome = Ok(());
        loop {
            let waited = Instant::now();
            let Some(page) = decoded.recv().await else {
                break;
            };
            report.waiting += waited.elapsed();
            let page = match page {
                Ok(page) => page,
                Err(err) => {
                    outcome = Err(err);
                    break;
                }
            };
            report.records += page.events.len() as u64;
            let mut model = std::mem::take(self);
            let folded = tokio::task::spawn_blocking(move || {
                let started = Instant::now();
                for (at, event) in page.events {
                    model.fold(&at, event);
                }
                (model.position, model.hash) = page.last;
                (model, started.elapsed())
            })
            .await;
            match folded {
                Ok((model, busy)) => {
                    *self = model;
                    report.folding += busy;
                }
                Err(err) => match err.try_into_panic() {
                    Ok(panic) => std::panic::resume_unwind(panic),
                    // The runtime is shutting down: the model went with the task.
                    Err(err) => {
                        outcome = Err(StoreError::Backend(format!("folding a page: {err}")));
                        break;
                    }
                },
            }
        }
        drop(decoded);
        let stage = |err: tokio::task::JoinError| StoreError::Backend(format!("replay: {err}"));
        report.reading = reader.await.map_err(stage)?;
        report.decoding = decoder.await.map_err(stage)?;
        outcome.map(|()| report)
    }
}

#[cfg(test)]
mod tests {
    use conveyor_store::{ExpectedVersion, Metadata, NewEvent, sqlite::SqliteStore};
    use serde_json::json;
    use uuid::Uuid;

    use super::*;
    use crate::{
        ApprovalPolicy, EnvironmentEvent, EnvironmentName, ProjectName, aggregate::encode,
    };

    fn event(event_type: &str, payload: serde_json::Value) -> NewEvent {
        NewEvent {
            id: Uuid::now_v7(),
            event_type: event_type.to_owned(),
            schema_version: 1,
            payload,
            metadata: Metadata {
                actor: "test".to_owned(),
                correlation_id: Uuid::now_v7(),
                causation_id: None,
                request_id: None,
            },
        }
    }

    fn domain(event: &EnvironmentEvent) -> NewEvent {
        let (event_type, payload) = encode(event);
        self::event(&event_type, payload)
    }

    fn created(name: &str, description: &str) -> NewEvent {
        domain(&EnvironmentEvent::EnvironmentCreated {
            name: EnvironmentName::parse(name).expect("a good name"),
            description: description.to_owned(),
            policy: ApprovalPolicy::default(),
            auto_rollback: false,
            soak_seconds: Some(60),
        })
    }

    /// Records the model folds, interleaved with ones it does not (foreign streams and types,
    /// a bad stream name, a payload of the wrong shape).
    async fn log() -> (tempfile::TempDir, Arc<dyn EventStore>) {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store: Arc<dyn EventStore> = SqliteStore::open(&dir.path().join("events.sqlite3"))
            .await
            .expect("a store");
        let shop = ProjectName::parse("shop").expect("a good name");
        let deployment = format!("deployment-{}", Uuid::now_v7());
        let status = format!("status-{}", Uuid::now_v7());
        let appends = vec![
            (
                "environment-dev",
                created("dev", "the \"dev\" one — ünïcode\n"),
            ),
            ("environment-staging", created("staging", "")),
            ("noprefix", event("Whatever", json!({"a": 1}))),
            ("environment-Not A Name", created("dev", "")),
            (
                "environment-dev",
                domain(&EnvironmentEvent::PromotionHeld {
                    project: shop.clone(),
                    reason: "rolled back".to_owned(),
                }),
            ),
            ("environment-dev", event("Whatever", json!({}))),
            ("environment-staging", event("PromotionHeld", json!([1, 2]))),
            ("build-notauuid", event("BuildQueued", json!(null))),
            (
                deployment.as_str(),
                event("DeploymentFrobbed", json!({"x": "y"})),
            ),
            (status.as_str(), event("BuildStatusReported", json!("text"))),
            (
                "environment-dev",
                domain(&EnvironmentEvent::PromotionHoldReleased {
                    project: shop,
                    by: "alice".to_owned(),
                }),
            ),
            ("environment-prod", created("prod", "last")),
        ];
        for (stream, event) in appends {
            store
                .append(stream, ExpectedVersion::Any, vec![event])
                .await
                .expect("an append");
        }
        (dir, store)
    }

    async fn applied_one_by_one(store: &dyn EventStore) -> ReadModel {
        let mut model = ReadModel::default();
        for record in store
            .read_all(&ReadFilter::default())
            .await
            .expect("records")
        {
            model.apply(&record);
        }
        model
    }

    fn json(model: &ReadModel) -> serde_json::Value {
        serde_json::to_value(model).expect("the model serializes")
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_catch_up_in_pages_equals_applying_each_record() {
        let (_dir, store) = log().await;
        let head = store.head().await.expect("the head");
        let expected = applied_one_by_one(&*store).await;
        assert_eq!(expected.environments.len(), 3);
        for page in [1, 3, 5, 100] {
            let mut model = ReadModel::default();
            let caught_up = model
                .catch_up_in_pages(store.clone(), head, page)
                .await
                .expect("a catch-up");
            assert_eq!(caught_up.records, head);
            assert_eq!(json(&model), json(&expected), "pages of {page}");
        }
    }

    #[tokio::test]
    async fn a_catch_up_stops_at_until_and_resumes_from_there() {
        let (_dir, store) = log().await;
        let head = store.head().await.expect("the head");
        let mut model = ReadModel::default();
        let first = model
            .catch_up_in_pages(store.clone(), 7, 3)
            .await
            .expect("a catch-up");
        assert_eq!((first.records, model.position), (7, 7));
        let rest = model
            .catch_up_in_pages(store.clone(), head + 10, 3)
            .await
            .expect("a catch-up past the head");
        assert_eq!(rest.records, head - 7);
        assert_eq!(json(&model), json(&applied_one_by_one(&*store).await));
        let nothing = model.catch_up(store, 3).await.expect("nothing to do");
        assert_eq!(nothing.records, 0);
    }

    #[tokio::test]
    async fn a_read_error_is_returned_with_the_pages_before_it_folded() {
        let (_dir, store) = log().await;
        let mut model = ReadModel::default();
        model.catch_up(store.clone(), 2).await.expect("a catch-up");
        store.close().await;
        let failed = model.catch_up(store, 10).await;
        assert!(matches!(failed, Err(StoreError::Closed)), "{failed:?}");
        assert_eq!(model.position, 2);
        assert_eq!(model.environments.len(), 2);
    }
}
