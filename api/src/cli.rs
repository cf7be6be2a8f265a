//! The auditor's commands of the `conveyor` binary: export the event log as JSON lines, and
//! verify its hash chain — on the server, or offline from an export.
//!
//! Exit codes: 0 done (chain intact), 1 the chain is broken, 2 usage error (clap), 3 the
//! server refused the request (4xx), 4 the server failed or could not be reached.

use std::io::{BufRead, Write};

use chrono::{DateTime, Utc};
use conveyor_store::{GENESIS_HASH, Metadata, Record};
use serde::Deserialize;
use uuid::Uuid;

/// How a command ended, as its exit code.
#[derive(Debug)]
pub enum Failure {
    /// The chain does not verify (exit 1).
    Broken(String),
    /// The server answered 4xx (exit 3).
    Refused(String),
    /// The server failed or was unreachable, or a file could not be read (exit 4).
    Unavailable(String),
}

impl Failure {
    /// The process exit code.
    pub fn exit_code(&self) -> i32 {
        match self {
            Failure::Broken(_) => 1,
            Failure::Refused(_) => 3,
            Failure::Unavailable(_) => 4,
        }
    }

    /// What to tell the user.
    pub fn message(&self) -> &str {
        match self {
            Failure::Broken(m) | Failure::Refused(m) | Failure::Unavailable(m) => m,
        }
    }
}

/// Where the server is and who asks.
#[derive(Debug, Clone)]
pub struct Server {
    /// Base URL, e.g. `http://127.0.0.1:8080`.
    pub url: String,
    /// A bearer token.
    pub token: String,
}

impl Server {
    async fn get(&self, path: &str) -> Result<serde_json::Value, Failure> {
        let url = format!("{}/api/v1{path}", self.url.trim_end_matches('/'));
        let response = reqwest::Client::new()
            .get(&url)
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|err| Failure::Unavailable(format!("{url}: {err}")))?;
        let status = response.status();
        let body: serde_json::Value = response
            .json()
            .await
            .map_err(|err| Failure::Unavailable(format!("{url}: unreadable answer: {err}")))?;
        let detail = || {
            body.get("detail")
                .and_then(|d| d.as_str())
                .unwrap_or("no detail")
                .to_owned()
        };
        if status.is_client_error() {
            return Err(Failure::Refused(format!("{status}: {}", detail())));
        }
        if !status.is_success() {
            return Err(Failure::Unavailable(format!("{status}: {}", detail())));
        }
        Ok(body)
    }
}

/// Writes every event after `after` to `out`, one JSON object per line, in position order;
/// returns how many.
pub async fn export(server: &Server, after: u64, out: &mut impl Write) -> Result<u64, Failure> {
    let mut after = after;
    let mut written = 0;
    loop {
        let page = server
            .get(&format!("/events?after={after}&limit=1000"))
            .await?;
        let items = page
            .get("items")
            .and_then(|items| items.as_array())
            .ok_or_else(|| Failure::Unavailable("the answer has no items".into()))?;
        if items.is_empty() {
            return Ok(written);
        }
        for item in items {
            writeln!(out, "{item}").map_err(|err| Failure::Unavailable(err.to_string()))?;
            after = item
                .get("position")
                .and_then(|p| p.as_u64())
                .ok_or_else(|| Failure::Unavailable("an event without a position".into()))?;
            written += 1;
        }
    }
}

/// Asks the server to verify its chain; returns the report as the server gives it.
pub async fn verify_on_server(server: &Server) -> Result<serde_json::Value, Failure> {
    let report = server.get("/events/verify").await?;
    match report.get("intact").and_then(|i| i.as_bool()) {
        Some(true) => Ok(report),
        _ => Err(Failure::Broken(format!("the chain is broken: {report}"))),
    }
}

/// One line of an export: an event as the API answers it.
#[derive(Debug, Deserialize)]
struct ExportedEvent {
    position: u64,
    stream: String,
    version: u64,
    id: Uuid,
    #[serde(rename = "type")]
    event_type: String,
    schema_version: u32,
    payload: serde_json::Value,
    actor: String,
    correlation_id: Uuid,
    causation_id: Option<Uuid>,
    request_id: Option<String>,
    recorded_at: DateTime<Utc>,
    hash: String,
}

/// Verifies an export offline: positions follow each other and every hash is the chained
/// hash of its record and the previous hash. An export from position 1 starts from the
/// genesis hash; a later one trusts its first record's hash and checks from there. Returns how
/// many records were checked.
pub fn verify_export(export: impl BufRead) -> Result<u64, Failure> {
    let mut previous: Option<(u64, String)> = None;
    let mut checked = 0;
    for (number, line) in export.lines().enumerate() {
        let line = line.map_err(|err| Failure::Unavailable(err.to_string()))?;
        if line.trim().is_empty() {
            continue;
        }
        let event: ExportedEvent = serde_json::from_str(&line).map_err(|err| {
            Failure::Broken(format!("line {}: not an exported event: {err}", number + 1))
        })?;
        let record = Record {
            position: event.position,
            stream: event.stream,
            version: event.version,
            id: event.id,
            event_type: event.event_type,
            schema_version: event.schema_version,
            payload: event.payload,
            metadata: Metadata {
                actor: event.actor,
                correlation_id: event.correlation_id,
                causation_id: event.causation_id,
                request_id: event.request_id,
            },
            recorded_at: event.recorded_at,
            hash: event.hash,
        };
        let previous_hash = match &previous {
            Some((position, hash)) => {
                if record.position != position + 1 {
                    return Err(Failure::Broken(format!(
                        "position {} follows {position}: position {} is missing",
                        record.position,
                        position + 1
                    )));
                }
                hash.clone()
            }
            None if record.position == 1 => GENESIS_HASH.to_owned(),
            // A partial export: its first record anchors the rest.
            None => {
                previous = Some((record.position, record.hash.clone()));
                checked += 1;
                continue;
            }
        };
        let expected = record.expected_hash(&previous_hash);
        if expected != record.hash {
            return Err(Failure::Broken(format!(
                "position {}: stored hash {} but its contents hash to {expected}",
                record.position, record.hash
            )));
        }
        previous = Some((record.position, record.hash));
        checked += 1;
    }
    Ok(checked)
}
