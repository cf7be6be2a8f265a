//! Crash cycles: `conveyor serve` is killed with SIGKILL at a random moment while concurrent
//! writers drive it through the API, then restarted and checked. Used by the short run in
//! `tests/tests/crash.rs` and the long one in `tests/examples/crash_cycles.rs`.
//!
//! After each restart: every acknowledged write is in the log, positions are gapless from 1,
//! the hash chain verifies, the restarted server's projections — loaded from its checkpoint
//! and the log after it — equal a fresh replay (a second server on a copy of the crashed log
//! without the checkpoint), and the server accepts work again.

use std::{
    collections::HashSet,
    path::Path,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use anyhow::{Context, bail, ensure};
use rand::{Rng, SeedableRng, rngs::StdRng};
use serde_json::{Value, json};

use crate::{ServerProcess, mint_token};

/// The crashing server: no built-in agent, and a projection checkpoint every 500 events, so
/// restarts load checkpoints written (and perhaps torn) by killed servers.
const SERVER_ENV: &[(&str, &str)] = &[
    ("CONVEYOR_NO_AGENT", "1"),
    ("CONVEYOR_CHECKPOINT_EVERY", "500"),
];

/// The projection checkpoint's file name in the data directory.
const CHECKPOINT: &str = "projections.checkpoint";

/// The SQLite event log's file name in the data directory (its WAL carries a suffix).
const EVENT_LOG: &str = "events.sqlite3";

/// What one cycle did.
#[derive(Debug, Clone)]
pub struct CycleReport {
    /// From 0.
    pub cycle: usize,
    /// How long the writers ran before the kill.
    pub killed_after: Duration,
    /// Writes acknowledged in this cycle.
    pub acknowledged: usize,
    /// The log's head after the restart.
    pub head: u64,
    /// From spawning the restarted server to its first answer.
    pub restart: Duration,
}

/// A write the server acknowledged: what to find in the log.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Acknowledged {
    /// An environment, by name.
    Environment(String),
    /// A push, by id.
    Push(String),
}

/// Runs `cycles` crash cycles on `data_dir` with `writers` concurrent writers, killing the
/// server between `kill_window` after the writers start; `seed` makes the moments repeatable.
/// Calls `each` after each cycle's checks passed.
pub fn run_cycles(
    data_dir: &Path,
    cycles: usize,
    writers: usize,
    kill_window: (Duration, Duration),
    seed: u64,
    mut each: impl FnMut(&CycleReport),
) -> anyhow::Result<()> {
    let token = mint_token(data_dir, "crash", "admin read audit push")?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let mut random = StdRng::seed_from_u64(seed);
    let mut all_acknowledged = HashSet::new();
    let start = || ServerProcess::start_with(data_dir, SERVER_ENV);
    let mut server = start()?;
    for cycle in 0..cycles {
        let kill_after = random.random_range(kill_window.0..=kill_window.1);
        let acknowledged = runtime.block_on(write_until_killed(
            &server, &token, cycle, writers, kill_after,
        ))?;
        server.kill_hard()?;
        let killed_after = kill_after;
        let count = acknowledged.len();
        all_acknowledged.extend(acknowledged);

        // The crash image, replayed from scratch by a second server.
        let fresh_dir = tempfile::tempdir()?;
        copy_crash_image(data_dir, fresh_dir.path())?;

        let started = Instant::now();
        server = start()?;
        let client = reqwest::Client::new();
        runtime.block_on(ready(&client, &server.url))?;
        let restart = started.elapsed();
        let head = runtime.block_on(async {
            let log = events(&client, &server.url, &token).await?;
            check_log(&log, &all_acknowledged)?;
            check_chain(&client, &server.url, &token).await?;
            let fresh = ServerProcess::start(fresh_dir.path())?;
            ready(&client, &fresh.url).await?;
            check_projections(&client, &server.url, &fresh.url, &token).await?;
            accepts_work(&client, &server.url, &token, cycle).await?;
            anyhow::Ok(log.len() as u64)
        })?;
        ensure!(
            head < 1_000 || data_dir.join(CHECKPOINT).exists(),
            "no projection checkpoint after {head} events"
        );
        each(&CycleReport {
            cycle,
            killed_after,
            acknowledged: count,
            head,
            restart,
        });
    }
    server.terminate()?;
    Ok(())
}

/// Writers create environments and record pushes until the server stops answering; answers
/// what was acknowledged. The caller's kill comes `kill_after` after the start.
async fn write_until_killed(
    server: &ServerProcess,
    token: &str,
    cycle: usize,
    writers: usize,
    kill_after: Duration,
) -> anyhow::Result<Vec<Acknowledged>> {
    let client = reqwest::Client::new();
    let acknowledged = Arc::new(Mutex::new(Vec::new()));
    let deadline = Instant::now() + kill_after;
    let tasks: Vec<_> = (0..writers)
        .map(|writer| {
            let (client, url, token, acknowledged) = (
                client.clone(),
                server.url.clone(),
                token.to_owned(),
                acknowledged.clone(),
            );
            tokio::spawn(async move {
                let mut n = 0;
                while Instant::now() < deadline {
                    let answer = if n % 2 == 0 {
                        let name = format!("c{cycle}-w{writer}-{n}");
                        post(&client, &url, &token, "environments", json!({"name": name}))
                            .await
                            .map(|_| Acknowledged::Environment(name))
                    } else {
                        let commit = format!("{:040x}", (cycle * 1_000_000 + writer * 10_000 + n));
                        let body = json!({"repository": "https://git.example.com/crash.git",
                            "ref": "refs/heads/main", "commit": commit});
                        post(&client, &url, &token, "pushes", body)
                            .await
                            .and_then(|answer| {
                                answer["push_id"]
                                    .as_str()
                                    .map(|id| Acknowledged::Push(id.to_owned()))
                            })
                    };
                    if let Some(write) = answer {
                        acknowledged.lock().expect("not poisoned").push(write);
                    }
                    n += 1;
                }
            })
        })
        .collect();
    for task in tasks {
        task.await?;
    }
    let acknowledged = std::mem::take(&mut *acknowledged.lock().expect("not poisoned"));
    ensure!(
        !acknowledged.is_empty(),
        "no write was acknowledged before the kill"
    );
    Ok(acknowledged)
}

/// POSTs `body`; answers the JSON body of a 2xx answer.
async fn post(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    path: &str,
    body: Value,
) -> Option<Value> {
    let answer = client
        .post(format!("{url}/api/v1/{path}"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .ok()?;
    if !answer.status().is_success() {
        return None;
    }
    answer.json().await.ok()
}

async fn get(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<Value> {
    let answer = client.get(url).bearer_auth(token).send().await?;
    let status = answer.status();
    let body = answer.text().await?;
    ensure!(status.is_success(), "GET {url}: {status} {body}");
    Ok(serde_json::from_str(&body)?)
}

/// Polls `/readyz` until it answers 200 (up to 60 s).
async fn ready(client: &reqwest::Client, url: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        if let Ok(answer) = client.get(format!("{url}/readyz")).send().await
            && answer.status().is_success()
        {
            return Ok(());
        }
        if Instant::now() > deadline {
            bail!("{url} did not become ready");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The SQLite files of the data directory (the database and its write-ahead log), as they
/// are after the kill; the projection checkpoint is left behind so the copy replays it all.
fn copy_crash_image(from: &Path, to: &Path) -> anyhow::Result<()> {
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if entry.file_type()?.is_file() && (name.starts_with(EVENT_LOG) || name == "jwt-secret") {
            std::fs::copy(entry.path(), to.join(&*name))
                .with_context(|| format!("copying {name}"))?;
        }
    }
    Ok(())
}

/// Every event of the log, in position order.
async fn events(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<Vec<Value>> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let page = get(
            client,
            &format!("{url}/api/v1/events?after={after}&limit=1000"),
            token,
        )
        .await?;
        let items = page["items"].as_array().context("a page of events")?;
        if items.is_empty() {
            return Ok(all);
        }
        after = items
            .last()
            .and_then(|e| e["position"].as_u64())
            .context("a position")?;
        all.extend(items.iter().cloned());
    }
}

/// Positions gapless from 1; every acknowledged write there.
fn check_log(log: &[Value], acknowledged: &HashSet<Acknowledged>) -> anyhow::Result<()> {
    for (index, event) in log.iter().enumerate() {
        let position = event["position"].as_u64().context("a position")?;
        ensure!(
            position == index as u64 + 1,
            "position {position} where {} was expected",
            index + 1
        );
    }
    let present: HashSet<Acknowledged> = log
        .iter()
        .filter_map(|event| match event["type"].as_str()? {
            "EnvironmentCreated" => event["stream"]
                .as_str()?
                .strip_prefix("environment-")
                .map(|name| Acknowledged::Environment(name.to_owned())),
            "PushReceived" => event["payload"]["push_id"]
                .as_str()
                .map(|id| Acknowledged::Push(id.to_owned())),
            _ => None,
        })
        .collect();
    let lost: Vec<_> = acknowledged.difference(&present).collect();
    ensure!(lost.is_empty(), "acknowledged writes lost: {lost:?}");
    Ok(())
}

async fn check_chain(client: &reqwest::Client, url: &str, token: &str) -> anyhow::Result<()> {
    let report = get(client, &format!("{url}/api/v1/events/verify"), token).await?;
    ensure!(
        report["intact"] == true,
        "the chain does not verify: {report}"
    );
    Ok(())
}

/// The restarted server answers what a server replaying the same log from scratch answers.
async fn check_projections(
    client: &reqwest::Client,
    restarted: &str,
    fresh: &str,
    token: &str,
) -> anyhow::Result<()> {
    for list in [
        "environments",
        "projects",
        "builds",
        "releases",
        "deployments",
    ] {
        let ours = all_items(client, restarted, list, token).await?;
        let replayed = all_items(client, fresh, list, token).await?;
        ensure!(
            ours == replayed,
            "{list}: the restarted server's projection differs from a fresh replay"
        );
    }
    let ours = get(client, &format!("{restarted}/api/v1/dashboard"), token).await?;
    let replayed = get(client, &format!("{fresh}/api/v1/dashboard"), token).await?;
    ensure!(
        ours == replayed,
        "the dashboard differs from a fresh replay"
    );
    Ok(())
}

/// Every item of a paged list.
async fn all_items(
    client: &reqwest::Client,
    url: &str,
    list: &str,
    token: &str,
) -> anyhow::Result<Vec<Value>> {
    let mut items = Vec::new();
    let mut cursor = String::new();
    loop {
        let page = get(
            client,
            &format!("{url}/api/v1/{list}?limit=1000{cursor}"),
            token,
        )
        .await?;
        items.extend(page["items"].as_array().context("a page")?.iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = format!("&after={next}"),
            None => return Ok(items),
        }
    }
}

async fn accepts_work(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    cycle: usize,
) -> anyhow::Result<()> {
    let name = format!("after-{cycle}");
    post(client, url, token, "environments", json!({"name": name}))
        .await
        .context("the restarted server refused work")?;
    Ok(())
}
