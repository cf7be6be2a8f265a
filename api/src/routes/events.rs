//! The log for auditors: filtered reads, chain verification, and a live SSE stream.

use std::time::Duration;

use actix_web::{HttpRequest, HttpResponse, get, web};
use conveyor_store::{ReadFilter, StoreError};
use futures_util::stream;

use crate::{
    auth::Principal,
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
    wire::{Event, EventQuery, Page, VerifyQuery, VerifyResult},
};

/// How often an idle event stream sends a comment so that proxies keep it open.
const KEEP_ALIVE: Duration = Duration::from_secs(15);

fn filter(query: &EventQuery, limit: usize) -> Result<ReadFilter, ApiError> {
    if let (Some(from), Some(to)) = (query.from, query.to)
        && from > to
    {
        return Err(ApiError::validation(
            "from",
            "from must not be later than to",
        ));
    }
    Ok(ReadFilter {
        after: query.after.unwrap_or(0),
        until: None,
        stream: query.stream.clone(),
        stream_prefix: query.stream_prefix.clone(),
        event_types: query
            .event_type
            .as_deref()
            .map(|types| {
                types
                    .split(',')
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        actor: query.actor.clone(),
        recorded_from: query.from,
        recorded_to: query.to,
        limit,
    })
}

/// Read the log in position order, filtered by stream, stream prefix, type, actor and time.
#[utoipa::path(
    get, path = "/api/v1/events", tag = "events",
    params(EventQuery),
    responses(
        (status = 200, description = "Events in position order; `next_cursor` is the last position", body = Page<Event>),
        (status = 400, description = "Malformed filter", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `audit`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Inconsistent filter", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["audit"]))
)]
#[get("/events")]
pub async fn list_events(
    principal: Principal,
    state: web::Data<AppState>,
    query: web::Query<EventQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("audit")?;
    let limit = query.limit.unwrap_or(100);
    if !(1..=1000).contains(&limit) {
        return Err(ApiError::validation(
            "limit",
            "limit must be between 1 and 1000",
        ));
    }
    let records = state
        .engine
        .store()
        .read_all(&filter(&query, limit)?)
        .await
        .map_err(store_error)?;
    let next_cursor = (records.len() == limit)
        .then(|| records.last().map(|r| r.position.to_string()))
        .flatten();
    Ok(HttpResponse::Ok().json(Page {
        items: records.into_iter().map(Event::from).collect(),
        next_cursor,
    }))
}

fn store_error(err: StoreError) -> ApiError {
    match err {
        StoreError::Closed => ApiError::Unavailable("the event store is shutting down".into()),
        other => ApiError::internal(other),
    }
}

/// Recompute the hash chain and report the first position that does not match.
#[utoipa::path(
    get, path = "/api/v1/events/verify", tag = "events",
    params(VerifyQuery),
    responses(
        (status = 200, description = "The verification result", body = VerifyResult),
        (status = 400, description = "Malformed query", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `audit`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Inconsistent range", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["audit"]))
)]
#[get("/events/verify")]
pub async fn verify_events(
    principal: Principal,
    state: web::Data<AppState>,
    query: web::Query<VerifyQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("audit")?;
    let from = query.from.unwrap_or(1).max(1);
    if query.to.is_some_and(|to| to < from) {
        return Err(ApiError::validation("to", "to must not be before from"));
    }
    let report = state
        .engine
        .store()
        .verify(from, query.to)
        .await
        .map_err(store_error)?;
    Ok(HttpResponse::Ok().json(VerifyResult {
        intact: report.first_bad_position.is_none(),
        from: report.from,
        to: report.to,
        checked: report.checked,
        first_bad_position: report.first_bad_position,
        reason: report.reason,
    }))
}

/// Follow the log live as Server-Sent Events: each event's `id` is its position, so a
/// reconnecting client's `Last-Event-ID` (or `?after=`) resumes exactly after it.
#[utoipa::path(
    get, path = "/api/v1/events/stream", tag = "events",
    params(
        ("after" = Option<u64>, Query, description = "Start after this position (default: the head, i.e. only new events)"),
        ("Last-Event-ID" = Option<String>, Header, description = "Resume after this position"),
    ),
    responses(
        (status = 200, description = "text/event-stream: `id: <position>`, `event: <type>`, `data: <Event JSON>`", content_type = "text/event-stream", body = String),
        (status = 400, description = "Malformed `after` or `Last-Event-ID`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `audit`", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["audit"]))
)]
#[get("/events/stream")]
pub async fn stream_events(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<StreamQuery>,
) -> Result<HttpResponse, ApiError> {
    principal.require("audit")?;
    let last_event_id = match req.headers().get("last-event-id") {
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .and_then(|v| v.trim().parse::<u64>().ok())
                .ok_or_else(|| {
                    ApiError::BadRequest("Last-Event-ID must be an event position".into())
                })?,
        ),
        None => None,
    };
    let store = state.engine.store().clone();
    let after = match last_event_id.or(query.after) {
        Some(after) => after,
        None => store.head().await.map_err(store_error)?,
    };
    let subscription = store.subscribe(after).await.map_err(store_error)?;
    let shutting_down = state.shutting_down.clone();
    let body = stream::unfold(Some((subscription, shutting_down)), |open| async move {
        let (mut subscription, mut shutting_down) = open?;
        let chunk = tokio::select! {
            // The server is stopping: end the stream; the client reconnects with Last-Event-ID.
            _ = shutting_down.wait_for(|stopping| *stopping) => return None,
            next = tokio::time::timeout(KEEP_ALIVE, subscription.next()) => match next {
                Err(_) => ": keep-alive\n\n".to_owned(),
                Ok(Ok(record)) => {
                    let position = record.position;
                    let event_type = record.event_type.clone();
                    let data = serde_json::to_string(&Event::from(record)).unwrap_or_default();
                    format!("id: {position}\nevent: {event_type}\ndata: {data}\n\n")
                }
                // The store closed: end the stream.
                Ok(Err(_)) => return None,
            },
        };
        Some((
            Ok::<_, actix_web::Error>(web::Bytes::from(chunk)),
            Some((subscription, shutting_down)),
        ))
    });
    Ok(super::event_stream(body))
}

/// Query of the event stream.
#[derive(Debug, serde::Deserialize)]
pub struct StreamQuery {
    /// Start after this position.
    pub after: Option<u64>,
}
