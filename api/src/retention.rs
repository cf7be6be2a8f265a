//! Retention: applies the projects' retention policies on a timer and on request. The engine
//! records each release whose content goes (`ReleaseContentDeleted`); only then are its
//! artifact bytes and logs deleted here. Each run also deletes whatever earlier recorded
//! deletions left on disk (a crash between the event and the files), so the two converge.

use std::time::Duration;

use conveyor_engine::{Actor, CommandContext, Engine, retention::Deletion};
use tokio::{sync::watch, task::JoinHandle};

use crate::{
    blobs::{BlobStore, Sha256Digest},
    error::ApiError,
    logs::LogStore,
};

/// Applies every retention policy now, as `ctx`'s actor, and deletes the content; returns
/// the releases whose content this run deleted.
pub async fn run(
    engine: &Engine,
    blobs: &BlobStore,
    logs: &LogStore,
    ctx: &CommandContext,
) -> Result<Vec<Deletion>, ApiError> {
    let deleted = engine.apply_retention(ctx).await?;
    let (digests, jobs) = engine.deleted_content();
    for digest in digests {
        let Ok(digest) = Sha256Digest::parse(&digest) else {
            continue;
        };
        // A build may have produced the same bytes again since the plan was made.
        if !engine.digest_in_use(digest.as_str()) {
            blobs.remove(&digest).await.map_err(ApiError::internal)?;
        }
    }
    for job in jobs {
        logs.remove(job).await.map_err(ApiError::internal)?;
    }
    Ok(deleted)
}

/// Runs retention every `interval` until `stop` turns true.
pub fn spawn(
    engine: Engine,
    blobs: BlobStore,
    logs: std::sync::Arc<LogStore>,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        loop {
            tokio::select! {
                _ = tokio::time::sleep(interval) => {}
                _ = stop.wait_for(|stopping| *stopping) => return,
            }
            // Once per cluster: the node that runs the workflow applies retention.
            if !engine.is_leader() {
                continue;
            }
            let ctx = CommandContext::new(Actor::system(), None);
            match run(&engine, &blobs, &logs, &ctx).await {
                Ok(deleted) if !deleted.is_empty() => {
                    tracing::info!(
                        releases = deleted.len(),
                        "retention deleted release content"
                    )
                }
                Ok(_) => {}
                Err(err) => tracing::warn!(error = %err, "retention failed; it runs again later"),
            }
        }
    })
}
