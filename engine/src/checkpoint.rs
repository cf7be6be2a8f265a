//! The projection checkpoint: the read model saved to a file with the position and hash of
//! the last record it folded, so a start loads it and replays only the log after it.
//!
//! The file is one header line (JSON: the model's fingerprint, position, hash) and then the
//! model as JSON. It is written to a temporary file, synced, and renamed over the old one, so
//! a crash leaves the old checkpoint or the new one, never a torn one. A checkpoint is used
//! only when its fingerprint is this build's (see `build.rs`) and the log holds a record with
//! its hash at its position; otherwise the start replays the whole log, as it would without
//! one. Nothing is lost either way: the log is the truth, the checkpoint a shortcut.

use std::{
    fs::File,
    io::{BufRead, BufReader, BufWriter, Read, Write},
    path::Path,
};

use conveyor_store::{EventStore, ReadFilter};
use serde::{Deserialize, Serialize};

use crate::model::ReadModel;

/// Which build of the model wrote a checkpoint.
const FINGERPRINT: &str = env!("CONVEYOR_MODEL_FINGERPRINT");

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    fingerprint: String,
    position: u64,
    hash: String,
}

/// Writes `model` to `path` (through a temporary file, synced, then renamed).
pub(crate) fn write(path: &Path, model: &ReadModel) -> std::io::Result<()> {
    let temporary = path.with_extension(format!("tmp-{}", std::process::id()));
    let written = (|| {
        let mut out = BufWriter::with_capacity(1 << 20, File::create(&temporary)?);
        let header = Header {
            fingerprint: FINGERPRINT.to_owned(),
            position: model.position,
            hash: model.hash.clone(),
        };
        serde_json::to_writer(&mut out, &header)?;
        out.write_all(b"\n")?;
        serde_json::to_writer(&mut out, model)?;
        let file = out.into_inner().map_err(|err| err.into_error())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)?;
        if let Some(dir) = path.parent() {
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
    written
}

/// The model saved at `path`, when there is one this build wrote and the log still holds the
/// record it ends with; `None` (and why, in the log) otherwise.
pub(crate) async fn load(path: &Path, store: &dyn EventStore) -> Option<ReadModel> {
    let mut reader = match File::open(path) {
        Ok(file) => BufReader::with_capacity(1 << 20, file),
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return None,
        Err(err) => {
            tracing::warn!(error = %err, path = %path.display(), "the projection checkpoint is unreadable; replaying the whole log");
            return None;
        }
    };
    let mut line = String::new();
    let header: Header = match reader
        .read_line(&mut line)
        .ok()
        .and_then(|_| serde_json::from_str(&line).ok())
    {
        Some(header) => header,
        None => {
            tracing::warn!(path = %path.display(), "the projection checkpoint has no header; replaying the whole log");
            return None;
        }
    };
    if header.fingerprint != FINGERPRINT {
        tracing::info!("the projection checkpoint is from another build; replaying the whole log");
        return None;
    }
    let filter = ReadFilter {
        after: header.position.saturating_sub(1),
        limit: 1,
        ..ReadFilter::default()
    };
    let matches = match store.read_all(&filter).await {
        Ok(records) => records
            .first()
            .is_some_and(|r| r.position == header.position && r.hash == header.hash),
        Err(err) => {
            tracing::warn!(error = %err, "checking the projection checkpoint against the log failed; replaying the whole log");
            return None;
        }
    };
    if !matches {
        tracing::warn!(
            position = header.position,
            "the log does not hold the projection checkpoint's last record; replaying the whole log"
        );
        return None;
    }
    // Read whole, then parsed: serde_json parses a slice several times faster than a reader.
    let parsed = tokio::task::spawn_blocking(move || {
        let mut body = Vec::new();
        reader.read_to_end(&mut body)?;
        serde_json::from_slice::<ReadModel>(&body).map_err(std::io::Error::from)
    })
    .await;
    match parsed {
        Ok(Ok(model)) if model.position == header.position && model.hash == header.hash => {
            Some(model)
        }
        _ => {
            tracing::warn!(path = %path.display(), "the projection checkpoint is damaged; replaying the whole log");
            None
        }
    }
}
