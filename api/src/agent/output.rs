//! A job's captured output: masks sensitive values, keeps each step's last lines for the
//! failure reason, and ships lines to the server in batches (every 250 ms, every 200 lines,
//! and whenever a step ends).

use std::{
    collections::VecDeque,
    sync::{Arc, Mutex},
    time::Duration,
};

use chrono::Utc;
use tokio::sync::{mpsc, oneshot};

use super::client::{AgentClient, Assignment, ClientError, LogLine, LogStream};

/// How many lines wait in a batch at most.
const BATCH_LINES: usize = 200;
/// How long a line waits at most before it is sent.
const BATCH_PERIOD: Duration = Duration::from_millis(250);
/// How many of a step's last lines the failure reason quotes.
pub const TAIL_LINES: usize = 10;
/// What a sensitive value is replaced with.
const MASK: &str = "********";
/// Lines of a multi-line value shorter than this (trimmed) are not masked on their own:
/// masking `}` or `--` would garble every line while hiding nothing.
const MIN_MASKED_LINE_LEN: usize = 3;

/// Replaces sensitive values in text.
#[derive(Clone, Default)]
pub struct Masker {
    // Longest first, so a value containing another is masked whole.
    values: Vec<String>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Masker({} values)", self.values.len())
    }
}

impl Masker {
    /// A masker of `values` (empty values are ignored: masking them would mask everything).
    ///
    /// A value spanning several lines (a PEM key) is masked whole and line by line: output is
    /// captured line by line, so printed whole it reaches the log as separate lines, none of
    /// which contains the whole value. Each line is masked trimmed, if it has at least
    /// [`MIN_MASKED_LINE_LEN`] bytes.
    pub fn new(values: impl IntoIterator<Item = String>) -> Masker {
        let mut masked: Vec<String> = Vec::new();
        for value in values.into_iter().filter(|v| !v.is_empty()) {
            if value.contains(['\n', '\r']) {
                masked.extend(
                    value
                        .lines()
                        .map(str::trim)
                        .filter(|line| line.len() >= MIN_MASKED_LINE_LEN)
                        .map(str::to_owned),
                );
            }
            masked.push(value);
        }
        masked.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        masked.dedup();
        Masker { values: masked }
    }

    /// `text` with every sensitive value replaced.
    pub fn mask(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for value in &self.values {
            if text.contains(value.as_str()) {
                text = text.replace(value.as_str(), MASK);
            }
        }
        text
    }
}

enum Message {
    Line(LogLine),
    Flush(oneshot::Sender<()>),
}

/// Where a job's processes write their lines. Cheap to clone.
#[derive(Clone)]
pub struct JobOutput {
    sender: mpsc::Sender<Message>,
    masker: Arc<Masker>,
    tail: Arc<Mutex<VecDeque<String>>>,
}

impl std::fmt::Debug for JobOutput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobOutput").finish_non_exhaustive()
    }
}

impl JobOutput {
    /// Starts shipping the job's lines; the shipper ends when every clone is dropped.
    pub fn start(
        client: AgentClient,
        job: Assignment,
        masker: Masker,
    ) -> (JobOutput, tokio::task::JoinHandle<()>) {
        // Bounded: a step printing faster than the server takes its lines is slowed down
        // (its pipe fills) instead of growing the agent's memory.
        let (sender, receiver) = mpsc::channel(10_000);
        let shipper = tokio::spawn(ship(client, job, receiver));
        let output = JobOutput {
            sender,
            masker: Arc::new(masker),
            tail: Arc::new(Mutex::new(VecDeque::new())),
        };
        (output, shipper)
    }

    /// Records one line of `step`.
    pub async fn line(&self, step: &str, stream: LogStream, text: &str) {
        let text = self.masker.mask(text);
        if stream != LogStream::System {
            let mut tail = self
                .tail
                .lock()
                .unwrap_or_else(|poison| poison.into_inner());
            if tail.len() == TAIL_LINES {
                tail.pop_front();
            }
            tail.push_back(text.clone());
        }
        let line = LogLine {
            at: Utc::now(),
            step: step.to_owned(),
            stream,
            text,
        };
        let _ = self.sender.send(Message::Line(line)).await;
    }

    /// Records a line of the agent's own.
    pub async fn system(&self, step: &str, text: &str) {
        tracing::debug!(step, "{}", self.masker.mask(text));
        self.line(step, LogStream::System, text).await;
    }

    /// Masks sensitive values in `text` (for failure reasons).
    pub fn mask(&self, text: &str) -> String {
        self.masker.mask(text)
    }

    /// Forgets the last lines (a new step starts).
    pub fn clear_tail(&self) {
        self.tail
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .clear();
    }

    /// The last lines the step printed, masked.
    pub fn tail(&self) -> Vec<String> {
        self.tail
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Sends every line recorded so far before returning.
    pub async fn flush(&self) {
        let (ack, done) = oneshot::channel();
        if self.sender.send(Message::Flush(ack)).await.is_ok() {
            let _ = done.await;
        }
    }
}

async fn ship(client: AgentClient, job: Assignment, mut receiver: mpsc::Receiver<Message>) {
    let mut batch: Vec<LogLine> = Vec::new();
    let mut warned = false;
    let mut ticker = tokio::time::interval(BATCH_PERIOD);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            message = receiver.recv() => match message {
                Some(Message::Line(line)) => {
                    batch.push(line);
                    if batch.len() >= BATCH_LINES {
                        send(&client, &job, &mut batch, &mut warned).await;
                    }
                }
                Some(Message::Flush(ack)) => {
                    send(&client, &job, &mut batch, &mut warned).await;
                    let _ = ack.send(());
                }
                None => {
                    send(&client, &job, &mut batch, &mut warned).await;
                    return;
                }
            },
            _ = ticker.tick() => send(&client, &job, &mut batch, &mut warned).await,
        }
    }
}

/// Sends the batch, retrying network trouble a little; a batch the server refuses is dropped
/// (the log is a convenience: losing lines must not fail or stall the job).
async fn send(client: &AgentClient, job: &Assignment, batch: &mut Vec<LogLine>, warned: &mut bool) {
    if batch.is_empty() {
        return;
    }
    let mut delay = Duration::from_millis(200);
    for attempt in 1..=3 {
        match client.send_log(job, batch).await {
            Ok(()) => break,
            Err(error) if error.is_transient() && attempt < 3 => {
                tokio::time::sleep(delay).await;
                delay *= 2;
            }
            Err(error) => {
                if !*warned || !matches!(error, ClientError::Status { .. }) {
                    tracing::warn!(job = %job.job_id, %error, "dropping {} log lines", batch.len());
                }
                *warned = true;
                break;
            }
        }
    }
    batch.clear();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_longest_values_first_and_ignores_empty_ones() {
        let masker = Masker::new(["pass".to_owned(), "password1".to_owned(), String::new()]);
        assert_eq!(
            masker.mask("user=admin password1 pass"),
            "user=admin ******** ********"
        );
        assert_eq!(masker.mask("nothing here"), "nothing here");
    }

    #[test]
    fn masks_each_line_of_a_multi_line_value_and_the_value_whole() {
        let key = "-----BEGIN PRIVATE KEY-----\r\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC  \n\
                   ab\nc2VjcmV0LWtleS1ib2R5\n-----END PRIVATE KEY-----\n";
        let masker = Masker::new([key.to_owned()]);
        // Printed by a step, captured line by line.
        for line in key.lines() {
            let masked = masker.mask(&format!("key: {line}"));
            if line.trim().len() >= MIN_MASKED_LINE_LEN {
                assert!(!masked.contains(line.trim()), "{masked:?}");
                assert!(masked.contains(MASK), "{masked:?}");
            } else {
                assert_eq!(masked, format!("key: {line}"), "short lines stay");
            }
        }
        // Quoted whole.
        assert_eq!(masker.mask(&format!("<{key}>")), format!("<{MASK}>"));
        assert_eq!(masker.mask("about 'ab'"), "about 'ab'");
    }
}
