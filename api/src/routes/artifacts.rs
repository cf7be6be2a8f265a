//! Artifacts: agents upload build outputs by SHA-256; anyone who may read (and agents that
//! deploy) download them. Blobs are content-addressed and immutable.

use actix_web::{HttpRequest, HttpResponse, body::SizedStream, get, http::header, put, web};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::require_any;
use crate::{
    auth::Principal,
    blobs::{BlobError, Sha256Digest, read_chunks},
    error::{ApiError, PROBLEM_JSON, ProblemDetails},
    server::AppState,
};

/// A stored artifact's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoredArtifact {
    /// Lowercase hex SHA-256 of the content.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
}

/// Parses the `{sha256}` path segment; anything but 64 lowercase hex digits is a 422.
pub fn parse_digest(raw: &str) -> Result<Sha256Digest, ApiError> {
    Sha256Digest::parse(raw).map_err(|err| ApiError::validation("sha256", err.to_string()))
}

/// Checks the name of an artifact an agent reports: deployments write the artifact under this
/// relative path, so it must name a place inside their work directory. An empty or absolute
/// name, a `..` component, a backslash or a NUL is a 422 on field `name`.
pub fn check_artifact_name(name: &str) -> Result<(), ApiError> {
    let refusal = if name.trim().is_empty() {
        "an artifact name must not be empty"
    } else if name.starts_with('/') {
        "an artifact name must be a relative path, not an absolute one"
    } else if name.contains('\\') {
        "an artifact name separates directories with `/` and holds no backslash"
    } else if name.contains('\0') {
        "an artifact name must not contain NUL"
    } else if name.split('/').any(|component| component == "..") {
        "an artifact name must not contain `..` components"
    } else {
        return Ok(());
    };
    Err(ApiError::validation("name", refusal))
}

fn blob_error(err: BlobError) -> ApiError {
    match err {
        BlobError::InvalidDigest => ApiError::validation("sha256", err.to_string()),
        BlobError::DigestMismatch { .. } => {
            ApiError::validation("sha256", format!("{err}; the upload was discarded"))
        }
        BlobError::TooLarge { .. } => ApiError::PayloadTooLarge,
        BlobError::Body(detail) => {
            ApiError::BadRequest(format!("the request body could not be read: {detail}"))
        }
        BlobError::Io(err) => ApiError::internal(err),
    }
}

/// Upload an artifact's content under its SHA-256. The body is streamed to disk and its digest
/// checked before it is kept; the same content is stored once.
#[utoipa::path(
    put, path = "/api/v1/artifacts/{sha256}", tag = "artifacts",
    params(("sha256" = String, Path, description = "Lowercase hex SHA-256 of the content")),
    request_body(content = Vec<u8>, content_type = "application/octet-stream", description = "The artifact's bytes"),
    responses(
        (status = 200, description = "Already stored; nothing changed", body = StoredArtifact),
        (status = 201, description = "Stored", body = StoredArtifact,
            headers(("Location" = String, description = "Where to download it"))),
        (status = 400, description = "The body could not be read", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 403, description = "Missing scope `agent`", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 413, description = "Larger than the server's artifact size limit", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 415, description = "Not application/octet-stream", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Malformed digest, or the content does not hash to it (field `sha256`)", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["agent"]))
)]
#[put("/artifacts/{sha256}")]
pub async fn upload_artifact(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
    body: web::Payload,
) -> Result<HttpResponse, ApiError> {
    principal.require("agent")?;
    let digest = parse_digest(&path)?;
    if let Some(content_type) = req.headers().get(header::CONTENT_TYPE) {
        let essence = content_type
            .to_str()
            .unwrap_or_default()
            .split(';')
            .next()
            .unwrap_or_default()
            .trim();
        if !essence.eq_ignore_ascii_case("application/octet-stream") {
            return Err(ApiError::UnsupportedMediaType(
                "an artifact is uploaded as application/octet-stream".into(),
            ));
        }
    }
    let limit = state.max_artifact_bytes;
    // Refuse a declared oversize body before reading any of it; a chunked body is cut off
    // while it streams.
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let outcome = state
        .blobs
        .put(&digest, body, limit)
        .await
        .map_err(blob_error)?;
    let stored = StoredArtifact {
        sha256: digest.to_string(),
        size: outcome.size,
    };
    if outcome.created {
        tracing::info!(sha256 = %digest, size = outcome.size, "artifact stored");
        Ok(super::created(
            format!("/api/v1/artifacts/{digest}"),
            stored,
        ))
    } else {
        Ok(HttpResponse::Ok().json(stored))
    }
}

/// Download an artifact's content. Blobs never change, so answers are cacheable forever.
#[utoipa::path(
    get, path = "/api/v1/artifacts/{sha256}", tag = "artifacts",
    params(
        ("sha256" = String, Path, description = "Lowercase hex SHA-256 of the content"),
        ("If-None-Match" = Option<String>, Header, description = "`\"<sha256>\"` answers 304"),
    ),
    responses(
        (status = 200, description = "The bytes", content_type = "application/octet-stream", body = Vec<u8>,
            headers(
                ("ETag" = String, description = "`\"<sha256>\"`"),
                ("Content-Length" = u64, description = "Size in bytes"),
            )),
        (status = 304, description = "The client's copy (`If-None-Match`) is current"),
        (status = 403, description = "Missing scope `read` (or `agent`)", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 404, description = "No artifact with this digest", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 410, description = "Retention deleted these bytes (the detail says which release and rule)", body = ProblemDetails, content_type = PROBLEM_JSON),
        (status = 422, description = "Malformed digest", body = ProblemDetails, content_type = PROBLEM_JSON),
    ),
    security(("bearer" = ["read"]), ("bearer" = ["agent"]))
)]
#[get("/artifacts/{sha256}")]
pub async fn download_artifact(
    principal: Principal,
    req: HttpRequest,
    state: web::Data<AppState>,
    path: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    require_any(&principal, &["read", "agent"])?;
    let digest = parse_digest(&path)?;
    let etag = format!("\"{digest}\"");
    let Some((file, size)) = state
        .blobs
        .open_blob(&digest)
        .await
        .map_err(ApiError::internal)?
    else {
        return Err(match state.engine.why_artifact_deleted(digest.as_str()) {
            Some(why) => ApiError::Gone(format!("artifact {digest} was {why}")),
            None => ApiError::not_found("artifact", digest.as_str()),
        });
    };
    let cached = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|tag| tag.trim() == etag || tag.trim() == "*")
        });
    let mut response = if cached {
        HttpResponse::NotModified()
    } else {
        HttpResponse::Ok()
    };
    response
        .insert_header((header::ETAG, etag))
        // `private`: a shared cache would hand the bytes to anyone, token or not.
        .insert_header((
            header::CACHE_CONTROL,
            "private, max-age=31536000, immutable",
        ));
    if cached {
        return Ok(response.finish());
    }
    Ok(response
        .content_type("application/octet-stream")
        .body(SizedStream::new(size, read_chunks(file))))
}
