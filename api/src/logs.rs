//! Job logs: the lines agents capture, kept outside the event log because they are large.
//!
//! Each job (build or deployment) has one file, `<data_dir>/logs/<job-uuid>.jsonl`, one JSON
//! object per line. Appends to a job are serialised and fsynced before they are acknowledged.
//! Followers wait on a per-job watch channel that counts appends, then read from their byte
//! offset, so following a long log never re-reads it from the start.
//!
//! Masking secrets is the caller's duty: the store writes what it is given.

use std::{
    collections::HashMap,
    fs::File,
    io::{self, Read, Seek, SeekFrom, Write},
    path::PathBuf,
    sync::{Arc, Mutex},
};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize, Serializer};
use tokio::sync::watch;
use uuid::Uuid;

/// Directory of the log store in the data directory.
pub const LOGS_DIR_NAME: &str = "logs";

/// Which output of a step a line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogStream {
    /// The step's standard output.
    Stdout,
    /// The step's standard error.
    Stderr,
    /// The agent's own notes (checkout, artifact upload, timeouts).
    System,
}

impl LogStream {
    /// The name as written on the wire and in text logs.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
            Self::System => "system",
        }
    }
}

/// One captured line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogLine {
    /// When the agent captured it (stored as RFC 3339 with microseconds).
    #[serde(serialize_with = "rfc3339_micros")]
    pub at: DateTime<Utc>,
    /// The step it belongs to.
    pub step: String,
    /// Which output it came from.
    pub stream: LogStream,
    /// The line, without its line break.
    pub text: String,
}

impl LogLine {
    /// The line as text: `<at> <step> <stream> | <text>` and a line break. Line breaks inside
    /// `text` are escaped so that one stored line stays one text line.
    pub fn to_text(&self) -> String {
        let text = self.text.replace('\r', "\\r").replace('\n', "\\n");
        format!(
            "{} {} {} | {text}\n",
            self.at.to_rfc3339_opts(SecondsFormat::Micros, true),
            self.step,
            self.stream.as_str()
        )
    }
}

fn rfc3339_micros<S: Serializer>(at: &DateTime<Utc>, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&at.to_rfc3339_opts(SecondsFormat::Micros, true))
}

/// Lines read from a byte offset, and the offset after the last whole line.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogChunk {
    /// The lines.
    pub lines: Vec<LogLine>,
    /// Where the next read starts.
    pub next_offset: u64,
}

/// What one job's appenders and followers share.
#[derive(Debug)]
struct JobLog {
    /// Serialises appends, so lines of two calls never interleave.
    append: tokio::sync::Mutex<()>,
    /// Counts appends; followers wait for it to change.
    appended: watch::Sender<u64>,
}

/// The logs of every job.
#[derive(Debug)]
pub struct LogStore {
    dir: PathBuf,
    jobs: Mutex<HashMap<Uuid, Arc<JobLog>>>,
}

impl LogStore {
    /// Opens (creating) the store in `dir`, normally `<data_dir>/logs`.
    pub fn open(dir: PathBuf) -> io::Result<LogStore> {
        std::fs::create_dir_all(&dir)?;
        Ok(LogStore {
            dir,
            jobs: Mutex::new(HashMap::new()),
        })
    }

    /// The file that holds `job_id`'s log (it exists once a line was appended).
    pub fn path_of(&self, job_id: Uuid) -> PathBuf {
        self.dir.join(format!("{job_id}.jsonl"))
    }

    fn job(&self, job_id: Uuid) -> Arc<JobLog> {
        let mut jobs = self
            .jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        jobs.entry(job_id)
            .or_insert_with(|| {
                Arc::new(JobLog {
                    append: tokio::sync::Mutex::new(()),
                    appended: watch::Sender::new(0),
                })
            })
            .clone()
    }

    /// Appends `lines` to the job's log and fsyncs it, then wakes the job's followers.
    pub async fn append(&self, job_id: Uuid, lines: &[LogLine]) -> io::Result<()> {
        if lines.is_empty() {
            return Ok(());
        }
        let mut text = Vec::new();
        for line in lines {
            serde_json::to_writer(&mut text, line)?;
            text.push(b'\n');
        }
        let job = self.job(job_id);
        let _serialised = job.append.lock().await;
        let path = self.path_of(job_id);
        tokio::task::spawn_blocking(move || -> io::Result<()> {
            let mut file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)?;
            file.write_all(&text)?;
            file.sync_data()
        })
        .await
        .map_err(io::Error::other)??;
        job.appended.send_modify(|count| *count += 1);
        Ok(())
    }

    /// Deletes the job's log (waiting for an append under way); a job without a log is no
    /// error. Its followers' notifier is dropped too.
    pub async fn remove(&self, job_id: Uuid) -> io::Result<()> {
        let job = self.job(job_id);
        let _serialised = job.append.lock().await;
        let result = match tokio::fs::remove_file(self.path_of(job_id)).await {
            Err(err) if err.kind() != io::ErrorKind::NotFound => Err(err),
            _ => Ok(()),
        };
        self.jobs
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .remove(&job_id);
        result
    }

    /// A receiver that changes whenever lines are appended to the job's log.
    pub fn subscribe(&self, job_id: Uuid) -> watch::Receiver<u64> {
        self.job(job_id).appended.subscribe()
    }

    /// Every line after the first `after_line` lines (all of them for 0). A job without a
    /// log has no lines.
    pub async fn read(&self, job_id: Uuid, after_line: usize) -> io::Result<Vec<LogLine>> {
        let mut lines = Vec::new();
        let mut offset = 0;
        loop {
            let chunk = self.read_from(job_id, offset, 1024 * 1024).await?;
            if chunk.lines.is_empty() {
                break;
            }
            offset = chunk.next_offset;
            lines.extend(chunk.lines);
        }
        Ok(lines.into_iter().skip(after_line).collect())
    }

    /// The whole lines from byte `offset` on, reading about `max_bytes` (more when one line is
    /// longer). A line still being written is left for the next read.
    pub async fn read_from(
        &self,
        job_id: Uuid,
        offset: u64,
        max_bytes: usize,
    ) -> io::Result<LogChunk> {
        let path = self.path_of(job_id);
        tokio::task::spawn_blocking(move || read_whole_lines(path, offset, max_bytes.max(1)))
            .await
            .map_err(io::Error::other)?
    }
}

fn read_whole_lines(path: PathBuf, offset: u64, max_bytes: usize) -> io::Result<LogChunk> {
    let mut file = match File::open(&path) {
        Ok(file) => file,
        Err(err) if err.kind() == io::ErrorKind::NotFound => {
            return Ok(LogChunk {
                lines: Vec::new(),
                next_offset: offset,
            });
        }
        Err(err) => return Err(err),
    };
    file.seek(SeekFrom::Start(offset))?;
    let mut buffer = Vec::new();
    let mut want = max_bytes;
    let end = loop {
        let read = (&mut file).take(want as u64).read_to_end(&mut buffer)?;
        if let Some(last) = buffer.iter().rposition(|b| *b == b'\n') {
            break last + 1;
        }
        if read < want {
            // End of file inside a line being written: nothing whole to give yet.
            break 0;
        }
        want = buffer.len();
    };
    let lines = buffer[..end]
        .split(|b| *b == b'\n')
        .filter(|line| !line.is_empty())
        .filter_map(|line| match serde_json::from_slice(line) {
            Ok(line) => Some(line),
            Err(err) => {
                // A crash mid-append can leave a torn line; the lines around it still count.
                tracing::warn!(path = %path.display(), error = %err, "skipping a torn log line");
                None
            }
        })
        .collect();
    Ok(LogChunk {
        lines,
        next_offset: offset + end as u64,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(text: &str) -> LogLine {
        LogLine {
            at: DateTime::parse_from_rfc3339("2025-01-02T03:04:05.123456Z")
                .unwrap()
                .with_timezone(&Utc),
            step: "compile".into(),
            stream: LogStream::Stdout,
            text: text.into(),
        }
    }

    #[tokio::test]
    async fn appends_and_reads_lines_in_order() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().join(LOGS_DIR_NAME)).unwrap();
        let job = Uuid::new_v4();
        assert!(store.read(job, 0).await.unwrap().is_empty());
        let mut follower = store.subscribe(job);
        store
            .append(job, &[line("one"), line("two")])
            .await
            .unwrap();
        assert!(follower.has_changed().unwrap());
        follower.mark_unchanged();
        store.append(job, &[line("three")]).await.unwrap();
        assert!(follower.has_changed().unwrap());
        let texts = |lines: Vec<LogLine>| lines.into_iter().map(|l| l.text).collect::<Vec<_>>();
        assert_eq!(
            texts(store.read(job, 0).await.unwrap()),
            ["one", "two", "three"]
        );
        assert_eq!(texts(store.read(job, 2).await.unwrap()), ["three"]);

        let first = store.read_from(job, 0, 10).await.unwrap();
        assert_eq!(texts(first.lines), ["one"], "at least one whole line");
        let rest = store
            .read_from(job, first.next_offset, 1 << 20)
            .await
            .unwrap();
        assert_eq!(texts(rest.lines), ["two", "three"]);
        let stored = std::fs::read_to_string(store.path_of(job)).unwrap();
        assert!(stored.starts_with(r#"{"at":"2025-01-02T03:04:05.123456Z","step":"compile","stream":"stdout","text":"one"}"#), "{stored}");
    }

    #[tokio::test]
    async fn a_line_being_written_is_left_for_later() {
        let dir = tempfile::tempdir().unwrap();
        let store = LogStore::open(dir.path().to_path_buf()).unwrap();
        let job = Uuid::new_v4();
        store.append(job, &[line("whole")]).await.unwrap();
        let mut file = std::fs::OpenOptions::new()
            .append(true)
            .open(store.path_of(job))
            .unwrap();
        file.write_all(br#"{"at":"2025-01"#).unwrap();
        let chunk = store.read_from(job, 0, 1 << 20).await.unwrap();
        assert_eq!(chunk.lines.len(), 1);
        let later = store.read_from(job, chunk.next_offset, 4).await.unwrap();
        assert!(later.lines.is_empty());
        assert_eq!(later.next_offset, chunk.next_offset);
    }

    #[test]
    fn text_lines_keep_one_line_per_log_line() {
        assert_eq!(
            line("a\nb").to_text(),
            "2025-01-02T03:04:05.123456Z compile stdout | a\\nb\n"
        );
    }
}
