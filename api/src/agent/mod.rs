//! The agent: leases build and deployment jobs over the HTTP API and runs them as real
//! processes. `conveyor agent` runs it against any server; `conveyor serve` runs one in
//! process against its own listening address — the same code speaking the same protocol.
//!
//! - [`client`]: the protocol calls, artifact uploads and downloads.
//! - [`runner`]: one job from start to completion, lease kept alive, cancel watched.
//! - [`checkout`]: `git` fetch and checkout of one commit.
//! - [`process`]: one process in its own group, output captured, timeout, kill.
//! - [`output`]: masking, the last lines for failure reasons, batched log shipping.

pub mod checkout;
pub mod client;
pub mod output;
pub mod process;
pub mod runner;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::Context;
use tokio::{
    sync::{Semaphore, watch},
    task::JoinSet,
};

use self::client::AgentClient;

/// How long the agent waits between leases when no job waits.
const IDLE_POLL: Duration = Duration::from_millis(500);
/// The longest wait between leases after errors.
const MAX_ERROR_BACKOFF: Duration = Duration::from_secs(2);

/// What an agent needs to run.
#[derive(Clone)]
pub struct AgentConfig {
    /// The server, `http://host:port`.
    pub server: String,
    /// A token with scope `agent`.
    pub token: String,
    /// The agent's name, as leases record it.
    pub name: String,
    /// Where jobs get their work directories.
    pub workdir: PathBuf,
    /// How many jobs run at once.
    pub capacity: usize,
}

impl std::fmt::Debug for AgentConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AgentConfig")
            .field("server", &self.server)
            .field("name", &self.name)
            .field("workdir", &self.workdir)
            .field("capacity", &self.capacity)
            .finish_non_exhaustive()
    }
}

/// How far the agent is asked to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stop {
    /// Keep leasing.
    Run,
    /// Lease nothing more; let running jobs finish.
    Drain,
    /// Kill running jobs' processes now and report nothing: their leases lapse and the server
    /// hands them to another agent.
    Kill,
}

/// Runs the agent until `stop` leaves [`Stop::Run`] and its jobs have ended.
pub async fn run(config: AgentConfig, mut stop: watch::Receiver<Stop>) -> anyhow::Result<()> {
    let client = AgentClient::new(&config.server, &config.token, &config.name)?;
    tokio::fs::create_dir_all(&config.workdir)
        .await
        .with_context(|| format!("creating the work directory {}", config.workdir.display()))?;
    let workdir = tokio::fs::canonicalize(&config.workdir)
        .await
        .with_context(|| format!("resolving {}", config.workdir.display()))?;
    let slots = Arc::new(Semaphore::new(config.capacity.max(1)));
    let mut jobs = JoinSet::new();
    let mut backoff = IDLE_POLL;
    tracing::info!(agent = %config.name, server = %config.server, workdir = %workdir.display(), capacity = config.capacity, "the agent is leasing jobs");
    'leasing: loop {
        while jobs.try_join_next().is_some() {}
        if *stop.borrow() != Stop::Run {
            break;
        }
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.context("the job slots closed")?,
            _ = stop.changed() => continue 'leasing,
        };
        let wait = match client.lease().await {
            Ok(Some(job)) => {
                backoff = IDLE_POLL;
                let client = client.clone();
                let workdir = workdir.clone();
                let stop = stop.clone();
                jobs.spawn(async move {
                    runner::run_job(client, workdir, job, stop).await;
                    drop(slot);
                });
                // A free slot may take the next job at once.
                continue 'leasing;
            }
            Ok(None) => {
                backoff = IDLE_POLL;
                IDLE_POLL
            }
            Err(error) => {
                tracing::warn!(%error, "leasing a job failed");
                backoff = (backoff * 2).min(MAX_ERROR_BACKOFF);
                backoff
            }
        };
        drop(slot);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            _ = stop.changed() => {}
        }
    }
    if !jobs.is_empty() {
        tracing::info!(
            running = jobs.len(),
            "the agent leases no more jobs; waiting for the running ones"
        );
    }
    while let Some(result) = jobs.join_next().await {
        if let Err(error) = result
            && error.is_panic()
        {
            tracing::error!(%error, "a job panicked");
        }
    }
    tracing::info!(agent = %config.name, "the agent stopped");
    Ok(())
}

/// An agent running as a task of this process (the one `conveyor serve` starts).
#[derive(Debug)]
pub struct AgentHandle {
    stop: watch::Sender<Stop>,
    task: tokio::task::JoinHandle<()>,
}

impl AgentHandle {
    /// Starts an agent task.
    pub fn spawn(config: AgentConfig) -> AgentHandle {
        let (stop, stopped) = watch::channel(Stop::Run);
        let task = tokio::spawn(async move {
            if let Err(error) = run(config, stopped).await {
                tracing::error!(error = format!("{error:#}"), "the built-in agent stopped");
            }
        });
        AgentHandle { stop, task }
    }

    /// Stops leasing, kills running jobs' processes (their leases lapse, so the jobs run
    /// again after a restart), and waits for the agent to end.
    pub async fn stop(self) {
        self.stop.send_replace(Stop::Kill);
        if tokio::time::timeout(Duration::from_secs(15), self.task)
            .await
            .is_err()
        {
            tracing::warn!("the built-in agent did not stop within 15 s");
        }
    }
}
