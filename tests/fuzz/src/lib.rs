//! What the fuzz targets share: headers as the webhook parsers take them, the invariants every
//! parsed delivery must keep, and records of the event log made from fuzz input.

use conveyor_api::hooks::{self, Delivery, HookError, Provider};
use conveyor_store::{Metadata, Record};

/// Headers as a route hands them to [`hooks::parse`].
pub fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect()
}

/// The secret the targets verify signatures with.
pub const SECRET: &str = "fuzzing-secret";

/// Verifies `body` as `provider` would, with the input's first line as the signature header
/// (`header`), so that the signature parsing sees hostile values too. Only a refusal may come
/// back: nobody can forge the HMAC.
pub fn verify_with_first_line(provider: Provider, header: &str, body: &[u8]) {
    let first_line = body.split(|&b| b == b'\n').next().unwrap_or_default();
    let value = String::from_utf8_lossy(first_line).into_owned();
    let presented = vec![(header.to_owned(), value)];
    match hooks::verify(provider, &presented, body, Some(SECRET)) {
        Err(HookError::Unauthorized(reason)) => assert!(!reason.contains(SECRET)),
        other => panic!("a delivery without the secret was not refused: {other:?}"),
    }
}

fn is_object_id(id: &str) -> bool {
    matches!(id.len(), 40 | 64) && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks what `hooks::parse` answered against the normalisation `api/src/hooks/mod.rs`
/// documents: full refs, full lowercase object ids, the delivery id the headers gave, the
/// host's `source`. A refusal is always fine; it must just not be a panic.
pub fn check_delivery(
    parsed: Result<Delivery, HookError>,
    delivery_id: Option<&str>,
    source: &str,
) {
    let Ok(delivery) = parsed else { return };
    if let Some(expected) = delivery_id {
        assert_eq!(delivery.delivery_id(), expected);
    }
    let Delivery::Push {
        delivery_id,
        changes,
    } = delivery
    else {
        return;
    };
    for change in changes {
        let name = change.git_ref.strip_prefix("refs/");
        assert!(
            name.is_some_and(|name| !name.is_empty() && !name.ends_with('/'))
                && !change
                    .git_ref
                    .contains(|c: char| c.is_whitespace() || c.is_control()),
            "not a full ref: {:?}",
            change.git_ref
        );
        assert!(is_object_id(&change.commit), "commit {:?}", change.commit);
        if let Some(before) = &change.before {
            assert!(is_object_id(before), "before {before:?}");
        }
        for commit in &change.commits {
            assert!(is_object_id(&commit.id), "listed commit {:?}", commit.id);
        }
        assert_eq!(change.source, source);
        assert_eq!(change.delivery_id.as_deref(), Some(delivery_id.as_str()));
    }
}

/// Records made from fuzz input, one per line: `<stream>\t<type>\t<payload JSON>`, the three
/// columns the store keeps, with positions and per-stream versions counted up in order. The
/// payload is parsed as the store parses its column (`serde_json::from_str`); a line whose
/// payload is not JSON is skipped, as the store would fail to read it.
pub fn records(data: &[u8]) -> Vec<Record> {
    let text = String::from_utf8_lossy(data);
    let epoch = chrono::DateTime::from_timestamp(1_750_000_000, 0).unwrap_or_default();
    let mut versions = std::collections::HashMap::<String, u64>::new();
    let mut records = Vec::new();
    for line in text.lines() {
        let mut columns = line.splitn(3, '\t');
        let (Some(stream), Some(event_type), Some(payload)) =
            (columns.next(), columns.next(), columns.next())
        else {
            continue;
        };
        let Ok(payload) = serde_json::from_str(payload) else {
            continue;
        };
        let version = versions.entry(stream.to_owned()).or_default();
        *version += 1;
        let position = records.len() as u64 + 1;
        records.push(Record {
            position,
            stream: stream.to_owned(),
            version: *version,
            id: uuid::Uuid::from_u128(u128::from(position)),
            event_type: event_type.to_owned(),
            schema_version: 1,
            payload,
            metadata: Metadata {
                actor: "fuzz".to_owned(),
                correlation_id: uuid::Uuid::nil(),
                causation_id: None,
                request_id: None,
            },
            recorded_at: epoch + chrono::Duration::seconds(position as i64),
            hash: String::new(),
        });
    }
    records
}
