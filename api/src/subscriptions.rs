//! Event webhooks out: each subscription has a worker that follows the log from the
//! subscription's persisted position and POSTs every matching event, in log order, at least
//! once, signed with HMAC-SHA256 over timestamp and body. Failures are retried with
//! exponential backoff up to a cap; after repeated failure the subscription is marked
//! failing but keeps its position, so nothing is skipped.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::{DateTime, Utc};
use conveyor_engine::{Engine, aggregate::subscription::SubscriptionSpec};
use conveyor_store::{Record, StoreError};
use hmac::{Hmac, Mac};
use serde::Serialize;
use sha2::Sha256;
use tokio::sync::watch;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{secrets::Secrets, wire::Event};

/// Consecutive failures after which a subscription is marked failing.
pub const FAILING_AFTER: u32 = 5;
/// The longest wait between attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);
/// How many recent attempts each subscription keeps for display.
const RECENT: usize = 20;

/// One delivery attempt, as shown on the subscription.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DeliveryAttempt {
    /// The event's position.
    pub position: u64,
    /// When it was tried.
    pub at: DateTime<Utc>,
    /// Whether the endpoint accepted it (2xx).
    pub delivered: bool,
    /// The endpoint's status, when it answered.
    pub http_status: Option<u16>,
    /// What went wrong.
    pub error: Option<String>,
}

/// A subscription's delivery state.
#[derive(Debug, Clone, Default, Serialize, ToSchema)]
pub struct DeliveryStatus {
    /// The last position delivered (or skipped as not matching).
    pub position: u64,
    /// Events delivered since the server started.
    pub delivered: u64,
    /// Failures in a row at the current event.
    pub consecutive_failures: u32,
    /// Marked after repeated failure; delivery keeps trying from `position`.
    pub failing: bool,
    /// The most recent attempts, newest last.
    #[schema(value_type = Vec<DeliveryAttempt>)]
    pub recent: VecDeque<DeliveryAttempt>,
}

struct Worker {
    replay: watch::Sender<Option<u64>>,
    task: tokio::task::JoinHandle<()>,
}

/// Runs one worker per subscription.
#[derive(Clone)]
pub struct SubscriptionDeliveries {
    engine: Engine,
    secrets: Secrets,
    client: reqwest::Client,
    stop: watch::Sender<bool>,
    workers: Arc<Mutex<HashMap<Uuid, Worker>>>,
    status: Arc<Mutex<HashMap<Uuid, DeliveryStatus>>>,
}

impl std::fmt::Debug for SubscriptionDeliveries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriptionDeliveries")
            .finish_non_exhaustive()
    }
}

fn checkpoint(id: Uuid) -> String {
    format!("subscription:{id}")
}

impl SubscriptionDeliveries {
    /// Starts a worker for every subscription in the read model.
    pub fn start(engine: Engine, secrets: Secrets) -> anyhow::Result<SubscriptionDeliveries> {
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .user_agent("conveyor")
            .build()?;
        let deliveries = SubscriptionDeliveries {
            engine: engine.clone(),
            secrets,
            client,
            stop: watch::Sender::new(false),
            workers: Arc::default(),
            status: Arc::default(),
        };
        deliveries.spawn_missing();
        // Subscriptions created through another node reach this one through the log: start
        // their workers too, so any node can take a delivery over when another goes.
        let refresher = deliveries.clone();
        tokio::spawn(async move {
            let mut stop = refresher.stop.subscribe();
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_secs(1)) => refresher.spawn_missing(),
                    _ = stop.wait_for(|stopping| *stopping) => return,
                }
            }
        });
        Ok(deliveries)
    }

    /// Starts a worker for each subscription of the read model that has none yet.
    fn spawn_missing(&self) {
        for subscription in self.engine.list_subscriptions() {
            let Some(spec) = subscription.state.spec else {
                continue;
            };
            let known = self
                .workers
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .contains_key(&spec.id);
            if !known {
                self.spawn(spec, subscription.position);
            }
        }
    }

    /// Starts delivering to a subscription (a new one, or one found at start). Of every node,
    /// only the one holding the subscription's lock delivers; the others wait to take over.
    pub fn spawn(&self, spec: SubscriptionSpec, start_after: u64) {
        let (replay, replays) = watch::channel(None);
        let worker = self.clone();
        let id = spec.id;
        let task = tokio::spawn(async move {
            let mut stop = worker.stop.subscribe();
            let mut replays = replays;
            loop {
                let store = worker.engine.store().clone();
                let name = checkpoint(id);
                let lock = tokio::select! {
                    lock = store.lock(&name) => lock,
                    _ = stop.wait_for(|stopping| *stopping) => return,
                };
                let result = match lock {
                    Ok(mut lock) => tokio::select! {
                        result = worker.run(spec.clone(), start_after, &mut replays) => result,
                        _ = lock.lost() => Err(StoreError::Backend("the delivery lock was lost".into())),
                    },
                    Err(err) => Err(err),
                };
                match result {
                    Ok(()) => return,
                    Err(err) => {
                        tracing::error!(subscription = %id, error = %err, "a subscription's worker stopped; restarting");
                        tokio::select! {
                            _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                            _ = stop.wait_for(|stopping| *stopping) => return,
                        }
                    }
                }
            }
        });
        self.workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, Worker { replay, task });
    }

    /// Delivers history again from `from` (the checkpoint moves back first, so a restart in
    /// between still replays).
    pub async fn replay(&self, id: Uuid, from: u64) -> Result<(), StoreError> {
        self.engine
            .store()
            .save_checkpoint(&checkpoint(id), from.saturating_sub(1))
            .await?;
        if let Some(worker) = self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            worker.replay.send_replace(Some(from));
        }
        Ok(())
    }

    /// The delivery state of a subscription.
    pub fn status(&self, id: Uuid) -> DeliveryStatus {
        self.status
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
            .unwrap_or_default()
    }

    /// Stops every worker after its attempt in flight.
    pub async fn stop(&self) {
        self.stop.send_replace(true);
        let workers: Vec<Worker> = self
            .workers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .drain()
            .map(|(_, w)| w)
            .collect();
        for worker in workers {
            let _ = worker.task.await;
        }
    }

    fn update(&self, id: Uuid, change: impl FnOnce(&mut DeliveryStatus)) {
        let mut status = self.status.lock().unwrap_or_else(|e| e.into_inner());
        change(status.entry(id).or_default());
    }

    async fn run(
        &self,
        spec: SubscriptionSpec,
        start_after: u64,
        replays: &mut watch::Receiver<Option<u64>>,
    ) -> Result<(), StoreError> {
        let store = self.engine.store().clone();
        let secret = self.secrets.unseal(&spec.secret).map_err(|_| {
            StoreError::Backend("the subscription's secret cannot be unsealed".into())
        })?;
        let mut stop = self.stop.subscribe();
        'resubscribe: loop {
            let saved = store.load_checkpoint(&checkpoint(spec.id)).await?;
            let mut position = saved.max(start_after);
            if let Some(from) = *replays.borrow_and_update() {
                position = from.saturating_sub(1);
            }
            self.update(spec.id, |s| s.position = position);
            let mut subscription = store.subscribe(position).await?;
            loop {
                let record = tokio::select! {
                    record = subscription.next() => record?,
                    _ = stop.wait_for(|stopping| *stopping) => return Ok(()),
                    _ = replays.changed() => continue 'resubscribe,
                };
                if spec.wants(&record.event_type) {
                    let delivered = tokio::select! {
                        delivered = self.deliver(&spec, &secret, &record) => delivered,
                        _ = stop.wait_for(|stopping| *stopping) => return Ok(()),
                        _ = replays.changed() => continue 'resubscribe,
                    };
                    if !delivered {
                        return Ok(());
                    }
                }
                store
                    .save_checkpoint(&checkpoint(spec.id), record.position)
                    .await?;
                self.update(spec.id, |s| s.position = record.position);
            }
        }
    }

    /// POSTs one event until the endpoint accepts it (false only when stopping).
    async fn deliver(&self, spec: &SubscriptionSpec, secret: &str, record: &Record) -> bool {
        let body = serde_json::to_vec(&Event::from(record.clone())).unwrap_or_default();
        let mut backoff = Duration::from_millis(100);
        loop {
            let timestamp = Utc::now().timestamp();
            let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes())
                .expect("HMAC takes a key of any length");
            mac.update(format!("{timestamp}.").as_bytes());
            mac.update(&body);
            let signature = hex::encode(mac.finalize().into_bytes());
            let answer = self
                .client
                .post(&spec.url)
                .header("content-type", "application/json")
                .header(
                    "x-conveyor-signature",
                    format!("t={timestamp},v1={signature}"),
                )
                .header("x-conveyor-event-id", record.id.to_string())
                .header("x-conveyor-position", record.position.to_string())
                .body(body.clone())
                .send()
                .await;
            let (delivered, http_status, error) = match answer {
                Ok(response) if response.status().is_success() => {
                    (true, Some(response.status().as_u16()), None)
                }
                Ok(response) => (
                    false,
                    Some(response.status().as_u16()),
                    Some(format!("the endpoint answered {}", response.status())),
                ),
                Err(err) => (
                    false,
                    None,
                    Some(format!("the endpoint could not be reached: {err}")),
                ),
            };
            self.update(spec.id, |s| {
                s.recent.push_back(DeliveryAttempt {
                    position: record.position,
                    at: Utc::now(),
                    delivered,
                    http_status,
                    error,
                });
                while s.recent.len() > RECENT {
                    s.recent.pop_front();
                }
                if delivered {
                    s.delivered += 1;
                    s.consecutive_failures = 0;
                    s.failing = false;
                } else {
                    s.consecutive_failures += 1;
                    s.failing = s.consecutive_failures >= FAILING_AFTER;
                }
            });
            if delivered {
                return true;
            }
            tokio::time::sleep(backoff).await;
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
}
