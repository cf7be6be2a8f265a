//! Verifying an export of the event log offline, without the server.

use std::io::BufRead;

use chrono::{DateTime, Utc};
use conveyor_store::{GENESIS_HASH, Metadata, Record};
use serde::Deserialize;
use uuid::Uuid;

use super::Failure;

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
