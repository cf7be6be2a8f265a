//! The API's one error type, [`ApiError`], and its RFC 9457 `application/problem+json` answers.
//!
//! Which error type is used where:
//!
//! - `conveyor-store` returns `StoreError` (a `thiserror` enum): conflicts on expected version,
//!   idempotency mismatches, backend failures.
//! - `conveyor-engine` returns its own `thiserror` enums (domain errors with a reason, such as an
//!   illegal workflow transition).
//! - `conveyor-api` handlers, extractors and middleware return [`ApiError`], which maps each of
//!   those to an HTTP status and a stable problem `type` URI. Only here does HTTP exist.
//! - `anyhow` is used only in the binary, in start-up code (configuration, key loading) and in
//!   tests; an `anyhow::Error` that reaches a handler becomes [`ApiError::Internal`].
//!
//! Internal errors log their whole cause chain with an error id and answer only
//! "internal error" plus that id, so nothing internal leaks to clients. Malformed JSON, wrong
//! types, missing fields and bad query or path parameters are turned into problem+json by
//! [`json_error_handler`], [`query_error_handler`] and [`path_error_handler`] (register them
//! with [`json_config`], [`query_config`] and [`path_config`]) instead of actix's default
//! `text/plain` answers.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpRequest, HttpResponse, ResponseError, error as actix_error, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The media type of every error answer (RFC 9457).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The prefix of every problem `type` URI; the slug after it is stable and documented.
pub const PROBLEM_TYPE_BASE: &str = "https://conveyor.dev/problems/";

/// The largest JSON request body the extractors accept (bodies are small commands).
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

/// An RFC 9457 problem document, the body of every 4xx and 5xx answer of the API.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ProblemDetails {
    /// A stable URI naming the kind of problem, `https://conveyor.dev/problems/<slug>`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short summary of the kind of problem; the same for every occurrence of a `type`.
    pub title: String,
    /// The HTTP status code of the answer.
    pub status: u16,
    /// What went wrong in this occurrence, for a human.
    pub detail: String,
    /// The offending request field (validation errors and bad request bodies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Identifies this occurrence (`urn:uuid:<error id>` for internal errors, to quote to
    /// operators).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    /// The scope the caller lacks (403 answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missing_scope: Option<String>,
    /// What the request expected (409 answers: a stream version or a workflow state).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub expected: Option<serde_json::Value>,
    /// What was actually found (409 answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub actual: Option<serde_json::Value>,
}

/// Every error the API answers with. Each variant's doc names its status.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// 422: the request is well-formed but a value is not acceptable (`field` names it).
    #[error("validation failed: {detail}")]
    Validation {
        /// The offending field, as named on the wire (`environment`, `steps[2].name`).
        field: Option<String>,
        /// Why the value is not acceptable.
        detail: String,
    },
    /// 400: the request cannot be understood (bad header, bad parameter).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// 400: the body or a query/path parameter is malformed JSON, has a wrong type or misses a
    /// field; `field` names the field when serde says which.
    #[error("malformed request: {detail}")]
    MalformedRequest {
        /// The offending field, when known.
        field: Option<String>,
        /// serde's reason, with line and column for JSON bodies.
        detail: String,
    },
    /// 401 with `WWW-Authenticate: Bearer`: the token is missing, malformed, expired or not
    /// ours.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// 403: the token is valid but lacks a scope; the answer names it.
    #[error("missing scope {missing_scope}")]
    Forbidden {
        /// The scope that would have allowed the call (`deploy:production`).
        missing_scope: String,
    },
    /// 404: no such resource.
    #[error("{resource} {id} not found")]
    NotFound {
        /// The kind of resource (`build`, `environment`).
        resource: String,
        /// The identifier that was looked up.
        id: String,
    },
    /// 409: a version conflict or an illegal workflow transition; `expected` and `actual` are
    /// sent as extension members when known.
    #[error("conflict: {detail}")]
    Conflict {
        /// Why the request conflicts with the current state.
        detail: String,
        /// The version or state the request assumed.
        expected: Option<serde_json::Value>,
        /// The version or state actually found.
        actual: Option<serde_json::Value>,
    },
    /// 409: the workflow refuses the command in the current state (an illegal transition or a
    /// broken rule); the problem `type` ends in the rule's stable code, e.g.
    /// `lifecycle-requirement-unmet`, so that bots can branch on it.
    #[error("refused ({code}): {detail}")]
    Refused {
        /// The rule's stable code.
        code: &'static str,
        /// A sentence naming what is wrong.
        detail: String,
    },
    /// 410: the content existed but retention deleted it; the detail says which release and
    /// which rule.
    #[error("gone: {0}")]
    Gone(String),
    /// 412: an `If-Match` precondition does not hold.
    #[error("precondition failed: {detail}")]
    PreconditionFailed {
        /// Which precondition failed (the expected and actual version).
        detail: String,
    },
    /// 422: an `Idempotency-Key` was reused with a different request.
    #[error("idempotency key reused with a different request")]
    IdempotencyKeyReused,
    /// 413: the request body is larger than the server accepts.
    #[error("payload too large")]
    PayloadTooLarge,
    /// 415: the request body is not `application/json`.
    #[error("unsupported media type: {0}")]
    UnsupportedMediaType(String),
    /// 503: a dependency (the event store) is unavailable or shutting down; retry later.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// 500: a bug or an unexpected failure. The cause chain is logged, never sent.
    #[error("internal error: {0:#}")]
    Internal(anyhow::Error),
}

impl ApiError {
    /// A 422 for `field` with a reason.
    pub fn validation(field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self::Validation {
            field: Some(field.into()),
            detail: detail.into(),
        }
    }

    /// A 404 for a resource kind and id.
    pub fn not_found(resource: impl Into<String>, id: impl Into<String>) -> Self {
        Self::NotFound {
            resource: resource.into(),
            id: id.into(),
        }
    }

    /// A 409 without expected/actual members (an illegal transition explained in `detail`).
    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict {
            detail: detail.into(),
            expected: None,
            actual: None,
        }
    }

    /// A 403 naming the missing scope.
    pub fn forbidden(missing_scope: impl Into<String>) -> Self {
        Self::Forbidden {
            missing_scope: missing_scope.into(),
        }
    }

    /// A 500 from any error; its cause chain is logged when the answer is built.
    pub fn internal(error: impl Into<anyhow::Error>) -> Self {
        Self::Internal(error.into())
    }

    /// The stable slug of the problem `type` URI.
    pub fn slug(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "validation",
            Self::BadRequest(_) => "bad-request",
            Self::MalformedRequest { .. } => "malformed-request",
            Self::Unauthorized(_) => "unauthorized",
            Self::Forbidden { .. } => "forbidden",
            Self::NotFound { .. } => "not-found",
            Self::Conflict { .. } => "conflict",
            Self::Refused { code, .. } => code,
            Self::Gone(_) => "content-deleted",
            Self::PreconditionFailed { .. } => "precondition-failed",
            Self::IdempotencyKeyReused => "idempotency-key-reused",
            Self::PayloadTooLarge => "payload-too-large",
            Self::UnsupportedMediaType(_) => "unsupported-media-type",
            Self::Unavailable(_) => "unavailable",
            Self::Internal(_) => "internal",
        }
    }

    fn title(&self) -> &'static str {
        match self {
            Self::Validation { .. } => "Validation failed",
            Self::BadRequest(_) => "Bad request",
            Self::MalformedRequest { .. } => "Malformed request",
            Self::Unauthorized(_) => "Unauthorized",
            Self::Forbidden { .. } => "Missing scope",
            Self::NotFound { .. } => "Not found",
            Self::Conflict { .. } => "Conflict",
            Self::Refused { .. } => "Refused by the workflow",
            Self::Gone(_) => "Deleted by retention",
            Self::PreconditionFailed { .. } => "Precondition failed",
            Self::IdempotencyKeyReused => "Idempotency key reused",
            Self::PayloadTooLarge => "Payload too large",
            Self::UnsupportedMediaType(_) => "Unsupported media type",
            Self::Unavailable(_) => "Service unavailable",
            Self::Internal(_) => "Internal error",
        }
    }

    /// The problem document this error answers with. For [`ApiError::Internal`] this logs the
    /// cause chain under a fresh error id, so call it once per answer.
    pub fn problem(&self) -> ProblemDetails {
        let mut problem = ProblemDetails {
            problem_type: format!("{PROBLEM_TYPE_BASE}{}", self.slug()),
            title: self.title().to_owned(),
            status: self.status_code().as_u16(),
            detail: String::new(),
            field: None,
            instance: None,
            missing_scope: None,
            expected: None,
            actual: None,
        };
        problem.detail = match self {
            Self::Validation { field, detail } | Self::MalformedRequest { field, detail } => {
                problem.field = field.clone();
                detail.clone()
            }
            Self::BadRequest(detail)
            | Self::Unauthorized(detail)
            | Self::Unavailable(detail)
            | Self::UnsupportedMediaType(detail)
            | Self::Gone(detail)
            | Self::PreconditionFailed { detail }
            | Self::Refused { detail, .. } => detail.clone(),
            Self::Forbidden { missing_scope } => {
                problem.missing_scope = Some(missing_scope.clone());
                format!("this call needs the scope `{missing_scope}`")
            }
            Self::NotFound { resource, id } => format!("{resource} `{id}` does not exist"),
            Self::Conflict {
                detail,
                expected,
                actual,
            } => {
                problem.expected = expected.clone();
                problem.actual = actual.clone();
                detail.clone()
            }
            Self::IdempotencyKeyReused => "this Idempotency-Key was already used with a \
                                           different request; use a new key"
                .to_owned(),
            Self::PayloadTooLarge => {
                "the request body is larger than the server accepts".to_owned()
            }
            Self::Internal(error) => {
                let error_id = uuid::Uuid::new_v4();
                // `{:#}` prints the whole cause chain on one line; it goes to the log only.
                tracing::error!(%error_id, error = format!("{error:#}"), "internal error");
                problem.instance = Some(format!("urn:uuid:{error_id}"));
                format!("internal error (error id {error_id})")
            }
        };
        problem
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation { .. } | Self::IdempotencyKeyReused => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Self::BadRequest(_) | Self::MalformedRequest { .. } => StatusCode::BAD_REQUEST,
            Self::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden { .. } => StatusCode::FORBIDDEN,
            Self::NotFound { .. } => StatusCode::NOT_FOUND,
            Self::Conflict { .. } | Self::Refused { .. } => StatusCode::CONFLICT,
            Self::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            Self::Gone(_) => StatusCode::GONE,
            Self::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let problem = self.problem();
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        if let Self::Unauthorized(_) = self {
            // RFC 6750 §3: a 401 names the scheme the client should use.
            response.insert_header((
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"conveyor\""),
            ));
        }
        match serde_json::to_vec(&problem) {
            Ok(body) => response.body(body),
            // Serialising plain strings and numbers cannot fail; answer something valid anyway.
            Err(_) => response.body(r#"{"title":"Internal error","status":500}"#),
        }
    }
}

impl From<anyhow::Error> for ApiError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<conveyor_store::StoreError> for ApiError {
    fn from(error: conveyor_store::StoreError) -> Self {
        use conveyor_store::StoreError;
        match error {
            StoreError::Conflict {
                stream,
                expected,
                actual,
            } => Self::Conflict {
                detail: format!(
                    "stream {stream} was changed concurrently: expected version {expected}, found {actual}"
                ),
                expected: Some(serde_json::Value::String(expected.to_string())),
                actual: Some(serde_json::Value::from(actual)),
            },
            StoreError::IdempotencyMismatch { id } => Self::Conflict {
                detail: format!(
                    "event id {id} is already stored with different content; the request is not a retry of an earlier one"
                ),
                expected: None,
                actual: None,
            },
            StoreError::Closed => Self::Unavailable("the event store is shutting down".to_owned()),
            // The API validates input before appending, so a store-level `Invalid` is our bug.
            error @ (StoreError::Invalid(_) | StoreError::Backend(_)) => {
                Self::Internal(anyhow::Error::new(error))
            }
        }
    }
}

/// Pulls the field name out of serde's "missing field `x`" / "unknown field `x`" messages.
fn field_from_serde_message(message: &str) -> Option<String> {
    const MARKERS: [&str; 3] = ["missing field `", "unknown field `", "duplicate field `"];
    MARKERS.iter().find_map(|marker| {
        let start = message.find(marker)? + marker.len();
        let len = message[start..].find('`')?;
        Some(message[start..start + len].to_owned())
    })
}

/// The `JsonConfig` error handler: malformed JSON, wrong types, missing fields, a wrong
/// content type and an oversized body answer problem+json (400, 400, 400, 415, 413).
pub fn json_error_handler(
    error: actix_error::JsonPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    use actix_error::JsonPayloadError;
    let api_error = match &error {
        JsonPayloadError::OverflowKnownLength { .. } | JsonPayloadError::Overflow { .. } => {
            ApiError::PayloadTooLarge
        }
        JsonPayloadError::ContentType => {
            ApiError::UnsupportedMediaType("the request body must be application/json".to_owned())
        }
        JsonPayloadError::Deserialize(serde_error) => {
            let message = serde_error.to_string();
            let detail = if serde_error.is_data() {
                format!("the request body does not match the expected shape: {message}")
            } else {
                format!("the request body is not valid JSON: {message}")
            };
            ApiError::MalformedRequest {
                field: field_from_serde_message(&message),
                detail,
            }
        }
        JsonPayloadError::Payload(payload_error) => ApiError::BadRequest(format!(
            "the request body could not be read: {payload_error}"
        )),
        other => ApiError::BadRequest(format!("the request body could not be read: {other}")),
    };
    api_error.into()
}

/// The problem for an error actix's own extractors raised where no error handler can be
/// registered (the `web::Bytes` extractor, whose oversized body is a `PayloadError`): 413 and
/// 415 keep their status, server errors become [`ApiError::Internal`], any other client error
/// is a 400. [`crate::server`] applies it to every `/api/v1` answer that is not problem+json yet.
pub fn framework_error(error: &actix_web::Error) -> ApiError {
    match error.as_response_error().status_code() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(error.to_string()),
        status if status.is_server_error() => {
            ApiError::internal(anyhow::anyhow!("{status}: {error}"))
        }
        _ => ApiError::BadRequest(format!("the request could not be read: {error}")),
    }
}

/// The `QueryConfig` error handler: a bad or missing query parameter answers 400 problem+json.
pub fn query_error_handler(
    error: actix_error::QueryPayloadError,
    _req: &HttpRequest,
) -> actix_web::Error {
    let message = match &error {
        actix_error::QueryPayloadError::Deserialize(inner) => inner.to_string(),
        other => other.to_string(),
    };
    ApiError::MalformedRequest {
        field: field_from_serde_message(&message),
        detail: format!("invalid query string: {message}"),
    }
    .into()
}

/// The `PathConfig` error handler: a path segment of the wrong type answers 400 problem+json.
pub fn path_error_handler(error: actix_error::PathError, _req: &HttpRequest) -> actix_web::Error {
    let message = match &error {
        actix_error::PathError::Deserialize(inner) => inner.to_string(),
        other => other.to_string(),
    };
    ApiError::MalformedRequest {
        field: field_from_serde_message(&message),
        detail: format!("invalid path parameter: {message}"),
    }
    .into()
}

/// A `JsonConfig` with [`JSON_BODY_LIMIT`] and [`json_error_handler`]; register as app data.
pub fn json_config() -> web::JsonConfig {
    web::JsonConfig::default()
        .limit(JSON_BODY_LIMIT)
        .error_handler(json_error_handler)
}

/// A `QueryConfig` with [`query_error_handler`]; register as app data.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(query_error_handler)
}

/// A `PathConfig` with [`path_error_handler`]; register as app data.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(path_error_handler)
}

/// The `default_service` of the app: unknown routes answer 404 problem+json, not an empty body.
pub async fn route_not_found(req: HttpRequest) -> Result<HttpResponse, ApiError> {
    Err(ApiError::not_found("route", req.path()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::App;
    use actix_web::body::to_bytes;
    use actix_web::test as actix_test;
    use serde_json::json;

    async fn answer(error: ApiError) -> (StatusCode, String, serde_json::Value) {
        let response = error.error_response();
        let status = response.status();
        let content_type = response
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = to_bytes(response.into_body()).await.expect("body");
        let json: serde_json::Value = serde_json::from_slice(&body).expect("problem json");
        (status, content_type, json)
    }

    #[actix_web::test]
    async fn each_variant_answers_its_status_and_problem_json() {
        let cases: Vec<(ApiError, u16, &str)> = vec![
            (
                ApiError::validation("name", "must not be empty"),
                422,
                "validation",
            ),
            (
                ApiError::BadRequest("bad header".into()),
                400,
                "bad-request",
            ),
            (
                ApiError::MalformedRequest {
                    field: Some("limit".into()),
                    detail: "x".into(),
                },
                400,
                "malformed-request",
            ),
            (
                ApiError::Unauthorized("token expired".into()),
                401,
                "unauthorized",
            ),
            (ApiError::forbidden("deploy:production"), 403, "forbidden"),
            (ApiError::not_found("build", "42"), 404, "not-found"),
            (
                ApiError::conflict("deployment already finished"),
                409,
                "conflict",
            ),
            (
                ApiError::PreconditionFailed {
                    detail: "If-Match 3, stream at 4".into(),
                },
                412,
                "precondition-failed",
            ),
            (
                ApiError::IdempotencyKeyReused,
                422,
                "idempotency-key-reused",
            ),
            (ApiError::PayloadTooLarge, 413, "payload-too-large"),
            (
                ApiError::UnsupportedMediaType("json only".into()),
                415,
                "unsupported-media-type",
            ),
            (
                ApiError::Unavailable("store closed".into()),
                503,
                "unavailable",
            ),
            (
                ApiError::internal(anyhow::anyhow!("disk on fire")),
                500,
                "internal",
            ),
        ];
        for (error, status, slug) in cases {
            let (actual_status, content_type, json) = answer(error).await;
            assert_eq!(actual_status.as_u16(), status, "{slug}");
            assert_eq!(content_type, PROBLEM_JSON, "{slug}");
            assert_eq!(json["status"], status, "{slug}");
            assert_eq!(json["type"], format!("{PROBLEM_TYPE_BASE}{slug}"), "{slug}");
            assert!(
                json["title"].as_str().is_some_and(|t| !t.is_empty()),
                "{slug}"
            );
            assert!(
                json["detail"].as_str().is_some_and(|d| !d.is_empty()),
                "{slug}"
            );
        }
    }

    #[actix_web::test]
    async fn validation_names_the_field_and_forbidden_names_the_scope() {
        let (_, _, json) = answer(ApiError::validation("steps[1].name", "empty")).await;
        assert_eq!(json["field"], "steps[1].name");
        let (_, _, json) = answer(ApiError::forbidden("approve:prod")).await;
        assert_eq!(json["missing_scope"], "approve:prod");
        assert!(json["detail"].as_str().unwrap().contains("approve:prod"));
    }

    #[actix_web::test]
    async fn unauthorized_carries_www_authenticate() {
        let response =
            ApiError::Unauthorized("missing Authorization header".into()).error_response();
        let challenge = response
            .headers()
            .get(header::WWW_AUTHENTICATE)
            .expect("challenge");
        assert!(challenge.to_str().unwrap().starts_with("Bearer"));
    }

    #[actix_web::test]
    async fn conflict_carries_expected_and_actual() {
        let error = ApiError::Conflict {
            detail: "version conflict".into(),
            expected: Some(json!(3)),
            actual: Some(json!(5)),
        };
        let (_, _, json) = answer(error).await;
        assert_eq!(json["expected"], 3);
        assert_eq!(json["actual"], 5);
    }

    #[actix_web::test]
    async fn internal_error_leaks_nothing_but_an_id() {
        let error = ApiError::internal(anyhow::anyhow!("password=hunter2").context("db failed"));
        let (_, _, json) = answer(error).await;
        let text = json.to_string();
        assert!(
            !text.contains("hunter2") && !text.contains("db failed"),
            "{text}"
        );
        assert!(json["instance"].as_str().unwrap().starts_with("urn:uuid:"));
    }

    #[actix_web::test]
    async fn problem_details_round_trips() {
        let problem = ApiError::forbidden("admin").problem();
        let text = serde_json::to_string(&problem).unwrap();
        let back: ProblemDetails = serde_json::from_str(&text).unwrap();
        assert_eq!(back, problem);
        assert!(
            !text.contains("\"field\""),
            "absent members are omitted: {text}"
        );
    }

    #[derive(Debug, Deserialize)]
    struct Body {
        #[expect(dead_code, reason = "only deserialised")]
        name: String,
        #[expect(dead_code, reason = "only deserialised")]
        count: u32,
    }

    #[derive(Debug, Deserialize)]
    struct Query {
        #[expect(dead_code, reason = "only deserialised")]
        limit: u32,
    }

    async fn post_body(_body: web::Json<Body>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    async fn get_query(_query: web::Query<Query>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    async fn get_path(_id: web::Path<u64>) -> HttpResponse {
        HttpResponse::Ok().finish()
    }

    #[actix_web::test]
    async fn extractor_errors_answer_problem_json() {
        let app = actix_test::init_service(
            App::new()
                .app_data(json_config())
                .app_data(query_config())
                .app_data(path_config())
                .route("/body", web::post().to(post_body))
                .route("/query", web::get().to(get_query))
                .route("/path/{id}", web::get().to(get_path))
                .default_service(web::to(route_not_found)),
        )
        .await;

        let cases: Vec<(actix_test::TestRequest, u16, Option<&str>)> = vec![
            (
                actix_test::TestRequest::post()
                    .uri("/body")
                    .insert_header(("content-type", "application/json"))
                    .set_payload("{\"name\": "),
                400,
                None,
            ),
            (
                actix_test::TestRequest::post()
                    .uri("/body")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(r#"{"name":"x"}"#),
                400,
                Some("count"),
            ),
            (
                actix_test::TestRequest::post()
                    .uri("/body")
                    .insert_header(("content-type", "application/json"))
                    .set_payload(r#"{"name":"x","count":"many"}"#),
                400,
                None,
            ),
            (
                actix_test::TestRequest::post()
                    .uri("/body")
                    .insert_header(("content-type", "text/plain"))
                    .set_payload("hi"),
                415,
                None,
            ),
            (
                actix_test::TestRequest::get().uri("/query?limit=lots"),
                400,
                None,
            ),
            (
                actix_test::TestRequest::get().uri("/query"),
                400,
                Some("limit"),
            ),
            (actix_test::TestRequest::get().uri("/path/abc"), 400, None),
            (actix_test::TestRequest::get().uri("/nowhere"), 404, None),
        ];
        for (request, status, field) in cases {
            let response = actix_test::call_service(&app, request.to_request()).await;
            assert_eq!(response.status().as_u16(), status);
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                PROBLEM_JSON
            );
            let json: serde_json::Value = actix_test::read_body_json(response).await;
            assert_eq!(json["status"], status);
            if let Some(field) = field {
                assert_eq!(json["field"], field, "{json}");
            }
            if status == 400 && json["detail"].as_str().unwrap().contains("body") {
                assert!(
                    json["detail"].as_str().unwrap().contains("line 1"),
                    "{json}"
                );
            }
        }
    }

    #[test]
    fn store_conflict_maps_to_409_with_versions() {
        let error: ApiError = conveyor_store::StoreError::Conflict {
            stream: "build-1".into(),
            expected: conveyor_store::ExpectedVersion::NoStream,
            actual: 2,
        }
        .into();
        assert_eq!(error.status_code(), StatusCode::CONFLICT);
        let problem = error.problem();
        assert_eq!(problem.actual, Some(json!(2)));
    }
}
