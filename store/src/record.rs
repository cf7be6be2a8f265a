//! The record types of the log and the canonical hash that chains them.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A stream's version: the number of events it holds (0 when empty, first event is 1).
pub type StreamVersion = u64;

/// The hash that the first record chains to: 64 zero hex digits.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What the caller expects a stream to be at before an append.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds.
    Any,
    /// The stream must have no events.
    NoStream,
    /// The stream must be at exactly this version.
    Exact(StreamVersion),
}

impl std::fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ExpectedVersion::Any => f.write_str("any"),
            ExpectedVersion::NoStream => f.write_str("no_stream"),
            ExpectedVersion::Exact(v) => write!(f, "{v}"),
        }
    }
}

/// Who caused an event and why: carried with every record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// JWT subject, or `system` for the process manager.
    pub actor: String,
    /// Groups every event of one workflow (e.g. the push that started it).
    pub correlation_id: Uuid,
    /// The event (or request) that directly caused this one.
    pub causation_id: Option<Uuid>,
    /// The HTTP request id, when a request caused it.
    pub request_id: Option<String>,
}

/// An event to append. The store assigns position, version, recorded-at and hash.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// UUID v7, chosen by the caller so that a retry is recognised.
    pub id: Uuid,
    /// Past-tense type name, e.g. `BuildSucceeded`.
    pub event_type: String,
    /// Version of the payload's schema.
    pub schema_version: u32,
    /// The payload, any JSON value.
    pub payload: serde_json::Value,
    /// Who and why.
    pub metadata: Metadata,
}

/// A stored event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// Global position: gapless, from 1, in commit order.
    pub position: u64,
    /// The stream, e.g. `build-<uuid>`.
    pub stream: String,
    /// Version within the stream, from 1.
    pub version: StreamVersion,
    /// The event id (UUID v7).
    pub id: Uuid,
    /// Past-tense type name.
    pub event_type: String,
    /// Version of the payload's schema.
    pub schema_version: u32,
    /// The payload.
    pub payload: serde_json::Value,
    /// Who and why.
    pub metadata: Metadata,
    /// When the store committed it.
    pub recorded_at: DateTime<Utc>,
    /// Hex SHA-256 of the previous record's hash and this record's canonical bytes.
    pub hash: String,
}

/// A stored event with its payload still the JSON text the backend keeps: what
/// [`crate::EventStore::read_all_raw`] returns to a reader that decodes payloads into its own
/// types (replaying the log), so that it skips building a `serde_json::Value` for each one.
#[derive(Debug, Clone, PartialEq)]
pub struct RawRecord {
    /// Global position: gapless, from 1, in commit order.
    pub position: u64,
    /// The stream, e.g. `build-<uuid>`.
    pub stream: String,
    /// Version within the stream, from 1.
    pub version: StreamVersion,
    /// The event id (UUID v7).
    pub id: Uuid,
    /// Past-tense type name.
    pub event_type: String,
    /// Version of the payload's schema.
    pub schema_version: u32,
    /// The payload as stored: JSON text.
    pub payload_json: String,
    /// Who and why.
    pub metadata: Metadata,
    /// When the store committed it.
    pub recorded_at: DateTime<Utc>,
    /// Hex SHA-256 of the previous record's hash and this record's canonical bytes.
    pub hash: String,
}

impl RawRecord {
    /// The [`Record`] this is: the payload parsed.
    pub fn parse(self) -> Result<Record, serde_json::Error> {
        Ok(Record {
            payload: serde_json::from_str(&self.payload_json)?,
            position: self.position,
            stream: self.stream,
            version: self.version,
            id: self.id,
            event_type: self.event_type,
            schema_version: self.schema_version,
            metadata: self.metadata,
            recorded_at: self.recorded_at,
            hash: self.hash,
        })
    }
}

impl Record {
    /// Recomputes this record's hash from its fields and the previous record's hash.
    pub fn expected_hash(&self, previous_hash: &str) -> String {
        chain_hash(previous_hash, self)
    }
}

/// The chained hash of `record`: SHA-256 over the previous hash and the record's canonical
/// bytes (every field but the hash itself, in a fixed order; JSON with sorted keys).
pub fn chain_hash(previous_hash: &str, record: &Record) -> String {
    chain_hash_with_payload(previous_hash, record, &record.payload.to_string())
}

/// [`chain_hash`] with the payload already serialized (`record.payload.to_string()`), so a
/// backend that stores that text does not serialize twice.
pub(crate) fn chain_hash_with_payload(
    previous_hash: &str,
    record: &Record,
    payload_text: &str,
) -> String {
    let mut hasher = Sha256::new();
    let mut field = |bytes: &[u8]| {
        // Length-prefix every field so that no two different records share bytes.
        hasher.update((bytes.len() as u64).to_be_bytes());
        hasher.update(bytes);
    };
    field(previous_hash.as_bytes());
    field(&record.position.to_be_bytes());
    field(record.stream.as_bytes());
    field(&record.version.to_be_bytes());
    field(record.id.as_bytes());
    field(record.event_type.as_bytes());
    field(&record.schema_version.to_be_bytes());
    // serde_json::Value keeps object keys sorted (no `preserve_order`), so this is canonical.
    field(payload_text.as_bytes());
    field(record.metadata.actor.as_bytes());
    field(record.metadata.correlation_id.as_bytes());
    // No causation hashes as zero bytes, so it differs from a causation of the nil UUID.
    field(
        record
            .metadata
            .causation_id
            .as_ref()
            .map_or(&[][..], |c| c.as_bytes().as_slice()),
    );
    field(
        record
            .metadata
            .request_id
            .as_deref()
            .unwrap_or("")
            .as_bytes(),
    );
    field(
        record
            .recorded_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
            .as_bytes(),
    );
    hex::encode(hasher.finalize())
}

/// Where an append landed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendOutcome {
    /// Position of the first event of the append.
    pub first_position: u64,
    /// Position of the last event of the append.
    pub last_position: u64,
    /// The stream's version after the append.
    pub stream_version: StreamVersion,
    /// True when every id was already stored and nothing was written.
    pub duplicate: bool,
}

/// Which records `read_all` returns. Every set field must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReadFilter {
    /// Only records with a position greater than this.
    pub after: u64,
    /// Only records with a position at most this.
    pub until: Option<u64>,
    /// Only this exact stream.
    pub stream: Option<String>,
    /// Only streams starting with this prefix (e.g. `deployment-`).
    pub stream_prefix: Option<String>,
    /// Only these event types (any of them); empty means all.
    pub event_types: Vec<String>,
    /// Only events by this actor.
    pub actor: Option<String>,
    /// Only events recorded at or after this time.
    pub recorded_from: Option<DateTime<Utc>>,
    /// Only events recorded before this time.
    pub recorded_to: Option<DateTime<Utc>>,
    /// At most this many records; 0, or more than [`crate::MAX_READ_LIMIT`], means that cap.
    pub limit: usize,
}

/// The result of recomputing the hash chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// First position checked.
    pub from: u64,
    /// Last position checked.
    pub to: u64,
    /// How many records were checked.
    pub checked: u64,
    /// The first position whose hash, position or link does not match; `None` when intact.
    pub first_bad_position: Option<u64>,
    /// Why that position is bad.
    pub reason: Option<String>,
}

/// Checks an append before any backend touches it: a stream name, at least one event, no id
/// twice, no empty type.
pub(crate) fn validate_append(stream: &str, events: &[NewEvent]) -> crate::StoreResult<()> {
    use crate::StoreError;
    if stream.is_empty() {
        return Err(StoreError::Invalid("the stream name is empty".into()));
    }
    if events.is_empty() {
        return Err(StoreError::Invalid(
            "an append needs at least one event".into(),
        ));
    }
    let mut ids = std::collections::HashSet::with_capacity(events.len());
    for event in events {
        if !ids.insert(event.id) {
            return Err(StoreError::Invalid(format!(
                "event id {} appears twice",
                event.id
            )));
        }
        if event.event_type.is_empty() {
            return Err(StoreError::Invalid(format!(
                "event {} has an empty type",
                event.id
            )));
        }
    }
    Ok(())
}

/// Where a stored event id lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StoredId {
    pub(crate) position: u64,
    pub(crate) stream: String,
    pub(crate) version: StreamVersion,
}

/// Decides whether an append whose first id is already stored is a retry: only if every id is
/// stored (`stored[i]` for `ids[i]`), in this stream, in this order, one after the other. Then
/// the original outcome; otherwise an idempotency mismatch naming the first offending id.
pub(crate) fn retry_outcome(
    stream: &str,
    ids: &[Uuid],
    stored: &[Option<StoredId>],
) -> crate::StoreResult<AppendOutcome> {
    use crate::StoreError;
    let Some(Some(first)) = stored.first() else {
        return Err(StoreError::IdempotencyMismatch { id: ids[0] });
    };
    if first.stream != stream {
        return Err(StoreError::IdempotencyMismatch { id: ids[0] });
    }
    let mut last = (first.position, first.version);
    for (offset, (id, found)) in (1u64..).zip(ids.iter().zip(stored).skip(1)) {
        match found {
            Some(found)
                if found.stream == stream
                    && found.position == first.position + offset
                    && found.version == first.version + offset =>
            {
                last = (found.position, found.version);
            }
            Some(_) => return Err(StoreError::IdempotencyMismatch { id: *id }),
            // Part of the call is new: it is neither a fresh append nor a retry.
            None => return Err(StoreError::IdempotencyMismatch { id: ids[0] }),
        }
    }
    Ok(AppendOutcome {
        first_position: first.position,
        last_position: last.0,
        stream_version: last.1,
        duplicate: true,
    })
}

/// Recomputes the hash chain over records fed in position order, stopping at the first one
/// whose position, hash or link is wrong.
pub(crate) struct ChainCheck {
    report: VerifyReport,
    previous_hash: String,
    expected_position: u64,
}

impl ChainCheck {
    /// Checks `from..=to`, where `previous_hash` is the stored hash at `from - 1` (or the
    /// genesis hash when `from` is 1).
    pub(crate) fn new(from: u64, to: u64, previous_hash: String) -> ChainCheck {
        ChainCheck {
            report: VerifyReport {
                from,
                to,
                checked: 0,
                first_bad_position: None,
                reason: None,
            },
            previous_hash,
            expected_position: from,
        }
    }

    /// A report for a range that could not even start (`from - 1` is missing).
    pub(crate) fn missing_before(from: u64, to: u64) -> VerifyReport {
        VerifyReport {
            from,
            to,
            checked: 0,
            first_bad_position: Some(from - 1),
            reason: Some(format!("position {} is missing", from - 1)),
        }
    }

    /// Checks the next record; false once the chain is broken (stop feeding).
    pub(crate) fn check(&mut self, record: &Record) -> bool {
        if record.position != self.expected_position {
            let reason = format!("position {} is missing", self.expected_position);
            return self.fail(self.expected_position, reason);
        }
        let recomputed = record.expected_hash(&self.previous_hash);
        if recomputed != record.hash {
            let reason = format!(
                "stored hash {} but contents hash to {recomputed}",
                record.hash
            );
            return self.fail(record.position, reason);
        }
        self.previous_hash = recomputed;
        self.report.checked += 1;
        self.expected_position += 1;
        true
    }

    /// Records that the row at (or before) `position` could not be read.
    pub(crate) fn unreadable(&mut self, position: u64, error: &crate::StoreError) -> bool {
        let position = position.min(self.expected_position);
        self.fail(position, format!("unreadable: {error}"))
    }

    fn fail(&mut self, position: u64, reason: String) -> bool {
        self.report.first_bad_position = Some(position);
        self.report.reason = Some(reason);
        false
    }

    /// The report, noting a missing tail when the records ended before `to`.
    pub(crate) fn finish(mut self) -> VerifyReport {
        if self.report.first_bad_position.is_none() && self.expected_position <= self.report.to {
            let reason = format!("position {} is missing", self.expected_position);
            self.fail(self.expected_position, reason);
        }
        self.report
    }
}
