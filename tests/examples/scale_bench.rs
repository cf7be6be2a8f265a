//! Scale benchmark: a realistic log of 1,000,000 events (see `conveyor_system_tests::scale`),
//! then, in one run:
//! - rebuilding every projection (the read model) from the whole log, in events/s;
//! - `conveyor serve` from start to ready on that log: first without a projection
//!   checkpoint (full replay), then again after a clean stop wrote one;
//! - the server's peak RSS holding it;
//! - an auditor's filtered query over the whole log (p50/p99);
//! - HTTP at 64 connections: a read (`GET /api/v1/releases/{id}`) and a durable write
//!   (`POST /api/v1/pushes`), next to a bare actix-web handler in the same process as the
//!   ceiling.
//!
//! ```sh
//! cargo build --release --bin conveyor
//! cargo run --release -p conveyor-system-tests --example scale_bench [events]
//! ```
//!
//! While iterating on replay, `SCALE_BENCH_LOG=<file>` keeps the log in that file (generating
//! it only when the file does not exist yet) and stops after the rebuild figure.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use conveyor_engine::model::ReadModel;
use conveyor_store::{EventStore, sqlite::SqliteStore};
use conveyor_system_tests::{ServerProcess, mint_token, scale};
use serde_json::json;

/// Connections for the HTTP figures.
const CONNECTIONS: usize = 64;
/// How long each HTTP case runs.
const RUN: Duration = Duration::from_secs(5);

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let events: u64 = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(1_000_000);
    let kept = std::env::var_os("SCALE_BENCH_LOG").map(std::path::PathBuf::from);
    let dir = tempfile::tempdir()?;
    let log = kept
        .clone()
        .unwrap_or_else(|| dir.path().join("events.sqlite3"));

    let started = Instant::now();
    let store: Arc<dyn EventStore> = SqliteStore::open(&log).await?;
    let releases = if store.head().await? == 0 {
        scale::populate(&store, 100, events).await?
    } else {
        Vec::new()
    };
    let head = store.head().await?;
    println!(
        "populated {head} events ({} releases) in {:.1} s",
        releases.len(),
        started.elapsed().as_secs_f64()
    );

    // Every projection, rebuilt from the whole log, as `conveyor serve` does on a start
    // without a checkpoint.
    let started = Instant::now();
    let mut model = ReadModel::default();
    let caught_up = model.catch_up(store.clone(), head).await?;
    let seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(caught_up.records == head && model.position == head);
    println!(
        "rebuild every projection from {head} events: {:.2} s, {:.0} events/s \
         (side by side: reading {:.2} s, decoding {:.2} s, folding {:.2} s; \
         folding waited {:.2} s)",
        seconds,
        head as f64 / seconds,
        caught_up.reading.as_secs_f64(),
        caught_up.decoding.as_secs_f64(),
        caught_up.folding.as_secs_f64(),
        caught_up.waiting.as_secs_f64()
    );
    drop(model);
    store.close().await;
    drop(store);
    if kept.is_some() {
        return Ok(());
    }

    // conveyor serve: start to ready, without and with a projection checkpoint.
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()?;
    let token = mint_token(dir.path(), "bench", "admin read audit push release")?;
    let (server, cold) = start_timed(&client, dir.path()).await?;
    let peak = peak_rss_mib(server.pid())?;
    println!(
        "serve start to ready, no checkpoint (full replay): {cold:.2} s; peak RSS {peak:.0} MiB"
    );
    server.terminate()?;
    let (server, warm) = start_timed(&client, dir.path()).await?;
    println!(
        "serve start to ready, from the checkpoint: {warm:.2} s; peak RSS {:.0} MiB",
        peak_rss_mib(server.pid())?
    );

    // An auditor's filtered query over the whole log.
    let mut latencies = Vec::new();
    for i in 0..200u64 {
        let after = (head / 200) * i;
        let url = format!(
            "{}/api/v1/events?type=DeploymentSucceeded&actor=workflow&stream_prefix=deployment-&after={after}&limit=100",
            server.url
        );
        let started = Instant::now();
        let answer = client.get(&url).bearer_auth(&token).send().await?;
        anyhow::ensure!(answer.status().is_success(), "{url}: {}", answer.status());
        answer.bytes().await?;
        latencies.push(started.elapsed());
    }
    let (p50, p99) = percentiles(&mut latencies);
    println!(
        "audit query (type, actor, stream prefix; 100 per page): p50 {p50:.1} ms, p99 {p99:.1} ms"
    );

    // HTTP at 64 connections, next to a bare actix-web handler.
    let ceiling = bare::start()?;
    let release = releases[releases.len() / 2];
    let read = format!("{}/api/v1/releases/{release}", server.url);
    let ours = load(&client, &token, &read, None).await?;
    let bare_read = load(&client, &token, &format!("{ceiling}/read"), None).await?;
    report("GET /api/v1/releases/{id}", &ours, &bare_read);
    let body = json!({"repository": "https://git.example.com/unknown.git",
        "ref": "refs/heads/main", "commit": "f".repeat(40)});
    let write = format!("{}/api/v1/pushes", server.url);
    let ours = load(&client, &token, &write, Some(&body)).await?;
    let bare_write = load(&client, &token, &format!("{ceiling}/write"), Some(&body)).await?;
    report("POST /api/v1/pushes (durable)", &ours, &bare_write);
    server.terminate()?;
    Ok(())
}

/// Starts `conveyor serve`; answers it and the seconds from spawning to `/readyz` 200.
async fn start_timed(
    client: &reqwest::Client,
    dir: &std::path::Path,
) -> anyhow::Result<(ServerProcess, f64)> {
    let started = Instant::now();
    let server = ServerProcess::start(dir)?;
    loop {
        let ready = client.get(format!("{}/readyz", server.url)).send().await;
        if ready.is_ok_and(|answer| answer.status().is_success()) {
            return Ok((server, started.elapsed().as_secs_f64()));
        }
        anyhow::ensure!(started.elapsed() < Duration::from_secs(600), "never ready");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The process's peak resident set (`VmHWM`), in MiB.
fn peak_rss_mib(pid: u32) -> anyhow::Result<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let kib: f64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .ok_or_else(|| anyhow::anyhow!("no VmHWM"))?;
    Ok(kib / 1024.0)
}

/// p50 and p99 in milliseconds.
fn percentiles(latencies: &mut [Duration]) -> (f64, f64) {
    latencies.sort();
    let at = |q: f64| {
        let index = ((latencies.len() as f64 * q) as usize).min(latencies.len() - 1);
        latencies[index].as_secs_f64() * 1000.0
    };
    (at(0.50), at(0.99))
}

/// Requests/s and latencies of one case.
struct Load {
    per_second: f64,
    p50: f64,
    p99: f64,
}

/// `CONNECTIONS` tasks sending the request back to back for `RUN`.
async fn load(
    client: &reqwest::Client,
    token: &str,
    url: &str,
    body: Option<&serde_json::Value>,
) -> anyhow::Result<Load> {
    let until = Instant::now() + RUN;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (client, token, url, body) = (
                client.clone(),
                token.to_owned(),
                url.to_owned(),
                body.cloned(),
            );
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                while Instant::now() < until {
                    let request = match &body {
                        Some(body) => client.post(&url).json(body),
                        None => client.get(&url),
                    };
                    let started = Instant::now();
                    let answer = request.bearer_auth(&token).send().await?;
                    let status = answer.status();
                    let body = answer.bytes().await?;
                    anyhow::ensure!(
                        status.is_success(),
                        "{url}: {status} {}",
                        String::from_utf8_lossy(&body)
                    );
                    latencies.push(started.elapsed());
                }
                anyhow::Ok(latencies)
            })
        })
        .collect();
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let per_second = all.len() as f64 / RUN.as_secs_f64();
    let (p50, p99) = percentiles(&mut all);
    Ok(Load {
        per_second,
        p50,
        p99,
    })
}

fn report(what: &str, ours: &Load, ceiling: &Load) {
    println!(
        "{what} at {CONNECTIONS} connections: {:.0} req/s (p50 {:.1} ms, p99 {:.1} ms); \
         bare actix-web {:.0} req/s (p50 {:.1} ms, p99 {:.1} ms); ratio {:.2}",
        ours.per_second,
        ours.p50,
        ours.p99,
        ceiling.per_second,
        ceiling.p50,
        ceiling.p99,
        ours.per_second / ceiling.per_second
    );
}

/// The ceiling: actix-web answering from memory, with the same worker count and no work.
mod bare {
    use actix_web::{App, HttpResponse, HttpServer, web};

    /// Starts it on its own thread; answers its base URL.
    pub fn start() -> anyhow::Result<String> {
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = HttpServer::new(|| {
                    App::new()
                        .route(
                            "/read",
                            web::get().to(|| async {
                                HttpResponse::Ok()
                                    .json(serde_json::json!({"release": "x".repeat(1500)}))
                            }),
                        )
                        .route(
                            "/write",
                            web::post().to(|body: web::Json<serde_json::Value>| async move {
                                HttpResponse::Accepted().json(body.into_inner())
                            }),
                        )
                })
                .workers(2)
                .bind("127.0.0.1:0")
                .expect("binds");
                let address = server.addrs()[0];
                sender
                    .send(format!("http://{address}"))
                    .expect("the caller waits");
                server.run().await
            })
        });
        Ok(receiver.recv()?)
    }
}
