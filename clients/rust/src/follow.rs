//! Following `/api/v1/events/stream` (server-sent events) as typed events.

use futures_util::StreamExt;

use crate::{ByteStream, Client, Error, types};

/// Follows the event stream: [`EventFollower::next`] answers each event as it is committed.
/// When the server ends the connection (a restart, a proxy's timeout) the follower reconnects
/// once, resuming after the last position it answered (`Last-Event-ID`).
pub struct EventFollower<'a> {
    client: &'a Client,
    last: Option<u64>,
    body: Option<ByteStream>,
    buffer: Vec<u8>,
}

impl<'a> EventFollower<'a> {
    /// Follows events after position `after` (`Some(0)`: from the start of the log; `None`:
    /// only events committed from now on).
    pub fn new(client: &'a Client, after: Option<u64>) -> Self {
        EventFollower {
            client,
            last: after,
            body: None,
            buffer: Vec::new(),
        }
    }

    /// The position of the last event answered (or the one it started after).
    pub fn position(&self) -> Option<u64> {
        self.last
    }

    /// The next event; waits for one to be committed.
    pub async fn next(&mut self) -> Result<types::Event, Error<types::ProblemDetails>> {
        let mut reconnected = false;
        loop {
            if let Some(event) = self.take_frame()? {
                self.last = u64::try_from(event.position).ok();
                return Ok(event);
            }
            let body = match self.body.as_mut() {
                Some(body) => body,
                None => {
                    let resume = self.last.map(|position| position.to_string());
                    let response = self.client.stream_events(None, resume.as_deref()).await?;
                    self.body.insert(response.into_inner())
                }
            };
            match body.next().await {
                Some(chunk) => self
                    .buffer
                    .extend_from_slice(&chunk.map_err(Error::ResponseBodyError)?),
                None if reconnected => {
                    return Err(Error::InvalidRequest(
                        "the event stream closed twice in a row".into(),
                    ));
                }
                None => {
                    self.body = None;
                    self.buffer.clear();
                    reconnected = true;
                }
            }
        }
    }

    /// The event of the first complete frame in the buffer, skipping keep-alive comments.
    fn take_frame(&mut self) -> Result<Option<types::Event>, Error<types::ProblemDetails>> {
        while let Some(end) = self.buffer.windows(2).position(|pair| pair == b"\n\n") {
            let frame: Vec<u8> = self.buffer.drain(..end + 2).collect();
            let text = String::from_utf8_lossy(&frame);
            let data: Vec<&str> = text
                .lines()
                .filter_map(|line| line.strip_prefix("data:"))
                .map(str::trim_start)
                .collect();
            if data.is_empty() {
                continue;
            }
            let data = data.join("\n");
            return serde_json::from_str(&data)
                .map(Some)
                .map_err(|err| Error::InvalidResponsePayload(data.into_bytes().into(), err));
        }
        Ok(None)
    }
}
