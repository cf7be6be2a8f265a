//! Route handlers, one module per resource. Handlers are verb_noun; each checks its scope,
//! parses its input into engine types, calls the engine and converts the answer.

pub mod agents;
pub mod approvals;
pub mod artifacts;
pub mod builds;
pub mod dashboard;
pub mod deployments;
pub mod environments;
pub mod events;
pub mod hooks;
pub mod integrations;
pub mod lifecycles;
pub mod logs;
pub mod operations;
pub mod projects;
pub mod releases;
pub mod retention;
pub mod subscriptions;

use actix_web::{HttpMessage, HttpRequest, HttpResponse, http::header};
use conveyor_engine::{Actor, CommandContext, EngineError};

use crate::{auth::Principal, error::ApiError};

/// The request id given to a request by the request-id middleware.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// The command context of a request: its caller and its request id.
pub fn context(req: &HttpRequest, principal: &Principal) -> CommandContext {
    let request_id = req.extensions().get::<RequestId>().map(|id| id.0.clone());
    CommandContext::new(
        Actor {
            subject: principal.subject.clone(),
            scopes: principal.scope_strings(),
            token_id: principal.token_id.clone(),
        },
        request_id,
    )
}

/// Requires one of `scopes` (`read` or `agent`, say); a 403 names the first.
pub fn require_any(principal: &Principal, scopes: &[&str]) -> Result<(), ApiError> {
    if scopes.iter().any(|scope| principal.has(scope)) {
        return Ok(());
    }
    Err(ApiError::forbidden(
        scopes.first().copied().unwrap_or("admin"),
    ))
}

/// Adds an `ETag` carrying a stream version (what `If-Match` must echo).
pub fn with_etag(mut response: HttpResponse, version: u64) -> HttpResponse {
    if let Ok(value) = header::HeaderValue::from_str(&format!("\"{version}\"")) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

/// Parses `If-Match: "<version>"` (quotes optional); `None` when absent or `*`.
pub fn if_match(req: &HttpRequest) -> Result<Option<u64>, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("If-Match must be ASCII".into()))?
        .trim();
    if text == "*" {
        return Ok(None);
    }
    let unquoted = text.trim_start_matches("W/").trim_matches('"');
    unquoted.parse().map(Some).map_err(|_| {
        ApiError::BadRequest(format!(
            "If-Match must be a stream version such as \"3\", not {text}"
        ))
    })
}

/// A Server-Sent Events answer streaming `body`: never cached, never buffered by a proxy.
pub fn event_stream(
    body: impl futures_util::Stream<Item = Result<actix_web::web::Bytes, actix_web::Error>> + 'static,
) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header((header::CACHE_CONTROL, "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body)
}

/// A 201 answer with a `Location` and a JSON body.
pub fn created(location: String, body: impl serde::Serialize) -> HttpResponse {
    HttpResponse::Created()
        .insert_header((header::LOCATION, location))
        .json(body)
}

/// Refusal codes that mean the input itself is unacceptable (422), not the state (409).
const INVALID_INPUT_CODES: &[&str] = &[
    "invalid-project",
    "invalid-commit",
    "invalid-repository",
    "invalid-ref",
    "invalid-version",
    "invalid-artifact",
    "invalid-policy",
    "invalid-agent",
    "invalid-step",
    "unknown-environment",
    "unknown-lifecycle",
    "invalid-lifecycle",
    "rejection-needs-reason",
    "project-rename",
    "invalid-pipelines",
    "block-needs-reason",
    "invalid-freeze",
    "invalid-subscription",
    "invalid-integration",
];

impl From<EngineError> for ApiError {
    fn from(err: EngineError) -> Self {
        match err {
            EngineError::NotFound { resource, id } => ApiError::not_found(resource, id),
            EngineError::Invalid { field, reason } => ApiError::Validation {
                field,
                detail: reason,
            },
            EngineError::Refused(refusal) if INVALID_INPUT_CODES.contains(&refusal.code) => {
                ApiError::Validation {
                    field: (refusal.code == "invalid-pipelines").then(|| "pipelines".to_owned()),
                    detail: refusal.reason,
                }
            }
            EngineError::Refused(refusal) => ApiError::Refused {
                code: refusal.code,
                detail: refusal.reason,
            },
            EngineError::VersionMismatch { expected, actual } => ApiError::PreconditionFailed {
                detail: format!(
                    "If-Match expected version {expected}, but the resource is at version {actual}"
                ),
            },
            EngineError::Conflict {
                stream,
                expected,
                actual,
            } => ApiError::Conflict {
                detail: format!("{stream} changed concurrently; retry"),
                expected: Some(serde_json::json!(expected.to_string())),
                actual: Some(serde_json::json!(actual)),
            },
            EngineError::Unavailable(reason) => ApiError::Unavailable(reason),
            EngineError::Store(err) => ApiError::internal(err),
        }
    }
}

/// Parses a name with the engine's rules, naming the field in the 422.
pub fn parse_environment(
    raw: &str,
    field: &str,
) -> Result<conveyor_engine::EnvironmentName, ApiError> {
    conveyor_engine::EnvironmentName::parse(raw).map_err(|err| match err {
        EngineError::Invalid { reason, .. } => ApiError::validation(field, reason),
        other => other.into(),
    })
}

/// Parses a project name, naming the field in the 422.
pub fn parse_project(raw: &str, field: &str) -> Result<conveyor_engine::ProjectName, ApiError> {
    conveyor_engine::ProjectName::parse(raw).map_err(|err| match err {
        EngineError::Invalid { reason, .. } => ApiError::validation(field, reason),
        other => other.into(),
    })
}

/// A request's `override_freeze` reason as the engine's override: it needs a reason and the
/// `freeze:override` scope.
pub fn freeze_override(
    principal: &Principal,
    reason: Option<&str>,
) -> Result<Option<conveyor_engine::aggregate::freeze::FreezeOverride>, ApiError> {
    match reason.map(str::trim) {
        None => Ok(None),
        Some("") => Err(ApiError::validation(
            "override_freeze",
            "overriding a freeze needs a reason",
        )),
        Some(reason) => {
            principal.require("freeze:override")?;
            Ok(Some(conveyor_engine::aggregate::freeze::FreezeOverride {
                by: principal.subject.clone(),
                reason: reason.to_owned(),
            }))
        }
    }
}

/// Parses an optional JSON body: empty means the type's default; anything else must parse.
pub fn optional_json<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> Result<T, ApiError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|err| ApiError::MalformedRequest {
        field: None,
        detail: err.to_string(),
    })
}
