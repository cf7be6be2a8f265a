//! `Idempotency-Key` on POST: a retried request gets the first answer instead of acting twice.
//!
//! The [`Idempotency`] middleware, for a POST carrying the header and a valid bearer token:
//!
//! 1. reads the whole body (at most [`DEFAULT_BODY_LIMIT`], else 413) and fingerprints it
//!    with SHA-256 over method, path and query, and body;
//! 2. waits for any request with the same key from the same subject in this process to finish,
//!    so a concurrent duplicate replays the first answer instead of racing it;
//! 3. looks the key up in the store's key-value table under `idem:<subject>:<key>` (keys are
//!    per subject, so another caller using the same key neither sees nor blocks the answer):
//!    same fingerprint → replays the stored status, headers and body with
//!    `Idempotent-Replayed: true`; different fingerprint → 422 `idempotency-key-reused`;
//! 4. otherwise runs the handler with the body put back, and stores its answer unless it is a
//!    5xx (a server failure should be retried for real, not replayed).
//!
//! Requests without the header, other methods, and unauthenticated requests pass through
//! untouched (the handler answers 401). Keys are kept forever: the table is small, and a
//! replay long after is still the right answer. Serialisation of duplicates is per process;
//! across several nodes `kv_put_if_absent` still keeps only the first answer, and the
//! engine's deterministic event ids keep a racing duplicate from appending twice.

use std::collections::HashMap;
use std::future::{Ready, ready};
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};

use actix_web::body::{BoxBody, MessageBody, to_bytes};
use actix_web::dev::{Payload, Service, ServiceRequest, ServiceResponse, Transform, forward_ready};
use actix_web::http::header::{self, HeaderName, HeaderValue};
use actix_web::http::{Method, StatusCode};
use actix_web::web::{Bytes, BytesMut};
use actix_web::{Error, HttpMessage, HttpResponse, ResponseError};
use conveyor_store::EventStore;
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tokio::sync::OwnedMutexGuard;

use crate::error::ApiError;

/// The request header carrying the client's key.
pub const IDEMPOTENCY_KEY_HEADER: &str = "idempotency-key";

/// The response header marking a replayed answer.
pub const REPLAYED_HEADER: &str = "idempotent-replayed";

/// The longest key accepted, in bytes.
pub const MAX_KEY_LEN: usize = 255;

/// The largest request body read for fingerprinting (the JSON extractor's limit too).
pub const DEFAULT_BODY_LIMIT: usize = crate::error::JSON_BODY_LIMIT;

/// Answers larger than this are returned but not stored (POST answers are small documents).
const MAX_STORED_BODY: usize = 1024 * 1024;

/// Response headers kept with a stored answer, so a replay of a `201 Created` still says where.
const REPLAYED_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::LOCATION, header::ETAG];

/// An answer as kept in the key-value table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
struct StoredResponse {
    /// Hex SHA-256 of method, path and query, and body.
    fingerprint: String,
    status: u16,
    headers: Vec<(String, String)>,
    /// The body as text when it is UTF-8 (JSON, readable in the table), else in `body_hex`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    body_hex: Option<String>,
    /// When the answer was stored, for a later clean-up of old keys.
    recorded_at: chrono::DateTime<chrono::Utc>,
}

impl StoredResponse {
    fn body_bytes(&self) -> Result<Bytes, ApiError> {
        match (&self.body, &self.body_hex) {
            (Some(text), _) => Ok(Bytes::from(text.clone())),
            (None, Some(hex_text)) => hex::decode(hex_text).map(Bytes::from).map_err(|error| {
                ApiError::internal(anyhow::Error::new(error).context("stored idempotent answer"))
            }),
            (None, None) => Ok(Bytes::new()),
        }
    }

    fn replay(&self) -> Result<HttpResponse, ApiError> {
        let status = StatusCode::from_u16(self.status).map_err(|error| {
            ApiError::internal(anyhow::Error::new(error).context("stored idempotent answer"))
        })?;
        let mut response = HttpResponse::build(status);
        for (name, value) in &self.headers {
            if let (Ok(name), Ok(value)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::try_from(value.as_str()),
            ) {
                response.insert_header((name, value));
            }
        }
        response.insert_header((
            HeaderName::from_static(REPLAYED_HEADER),
            HeaderValue::from_static("true"),
        ));
        Ok(response.body(self.body_bytes()?))
    }
}

/// In-process locks per idempotency key; an entry lives only while someone holds or awaits it.
#[derive(Debug, Default)]
struct KeyLocks {
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

/// Holds one key's lock; dropping it (also when the request is cancelled) releases the lock
/// and forgets the entry if nobody else waits for it.
struct KeyGuard {
    locks: Arc<KeyLocks>,
    key: String,
    entry: Option<Arc<tokio::sync::Mutex<()>>>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl KeyLocks {
    async fn lock(self: &Arc<Self>, key: &str) -> KeyGuard {
        let entry = {
            let mut locks = self.locks.lock().unwrap_or_else(PoisonError::into_inner);
            Arc::clone(locks.entry(key.to_owned()).or_default())
        };
        let guard = Arc::clone(&entry).lock_owned().await;
        KeyGuard {
            locks: Arc::clone(self),
            key: key.to_owned(),
            entry: Some(entry),
            guard: Some(guard),
        }
    }
}

impl Drop for KeyGuard {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut locks = self
            .locks
            .locks
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        // Clones are only made under this lock, so two references (the map's and ours) mean
        // nobody else holds or awaits this key.
        if let Some(entry) = self.entry.take()
            && Arc::strong_count(&entry) == 2
        {
            locks.remove(&self.key);
        }
    }
}

/// The `Idempotency-Key` middleware; wrap the API scope with it.
#[derive(Clone)]
pub struct Idempotency {
    store: Arc<dyn EventStore>,
    /// Seals stored answers: some (an agent's lease) carry secrets in clear text.
    secrets: Option<crate::secrets::Secrets>,
    locks: Arc<KeyLocks>,
    body_limit: usize,
}

impl std::fmt::Debug for Idempotency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idempotency")
            .field("body_limit", &self.body_limit)
            .finish_non_exhaustive()
    }
}

impl Idempotency {
    /// Keeps answers in `store`'s key-value table.
    pub fn new(store: Arc<dyn EventStore>) -> Idempotency {
        Idempotency {
            store,
            secrets: None,
            locks: Arc::default(),
            body_limit: DEFAULT_BODY_LIMIT,
        }
    }

    /// Encrypts every stored answer with `secrets`: an answer may hold unsealed secrets (the
    /// variables an agent's lease carries), which must not rest in the table in clear text.
    pub fn sealed_with(mut self, secrets: crate::secrets::Secrets) -> Idempotency {
        self.secrets = Some(secrets);
        self
    }

    /// Changes the largest request body accepted with a key (413 above it).
    pub fn with_body_limit(mut self, body_limit: usize) -> Idempotency {
        self.body_limit = body_limit;
        self
    }
}

impl<S, B> Transform<S, ServiceRequest> for Idempotency
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Transform = IdempotencyService<S>;
    type InitError = ();
    type Future = Ready<Result<Self::Transform, Self::InitError>>;

    fn new_transform(&self, service: S) -> Self::Future {
        ready(Ok(IdempotencyService {
            service: Rc::new(service),
            config: self.clone(),
        }))
    }
}

/// The service [`Idempotency`] wraps around the routes.
pub struct IdempotencyService<S> {
    service: Rc<S>,
    config: Idempotency,
}

/// The store key: the subject's `%` and `:` are escaped so `a:b` + `c` and `a` + `b:c` differ.
fn storage_key(subject: &str, key: &str) -> String {
    let subject = subject.replace('%', "%25").replace(':', "%3A");
    format!("idem:{subject}:{key}")
}

fn fingerprint(method: &Method, path_and_query: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(method.as_str().as_bytes());
    hasher.update(b"\n");
    hasher.update(path_and_query.as_bytes());
    hasher.update(b"\n");
    hasher.update(body);
    hex::encode(hasher.finalize())
}

/// The key from the header, or 400 when it is not usable.
fn parse_key(value: &HeaderValue) -> Result<String, ApiError> {
    let key = value
        .to_str()
        .map_err(|_| ApiError::BadRequest("Idempotency-Key must be visible ASCII".to_owned()))?
        .trim();
    if key.is_empty() {
        return Err(ApiError::BadRequest(
            "Idempotency-Key must not be empty".to_owned(),
        ));
    }
    if key.len() > MAX_KEY_LEN {
        return Err(ApiError::BadRequest(format!(
            "Idempotency-Key must be at most {MAX_KEY_LEN} characters"
        )));
    }
    Ok(key.to_owned())
}

/// Reads the whole request body, refusing more than `limit` bytes.
async fn read_body(req: &mut ServiceRequest, limit: usize) -> Result<Bytes, ApiError> {
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return Err(ApiError::PayloadTooLarge);
    }
    let mut payload = req.take_payload();
    let mut body = BytesMut::new();
    while let Some(chunk) = payload.next().await {
        let chunk = chunk.map_err(|error| {
            ApiError::BadRequest(format!("the request body could not be read: {error}"))
        })?;
        if body.len() + chunk.len() > limit {
            return Err(ApiError::PayloadTooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}

impl<S, B> Service<ServiceRequest> for IdempotencyService<S>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    type Response = ServiceResponse<BoxBody>;
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self::Response, Self::Error>>;

    forward_ready!(service);

    fn call(&self, req: ServiceRequest) -> Self::Future {
        let service = Rc::clone(&self.service);
        if req.method() != Method::POST {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        }
        let Some(header_value) = req.headers().get(IDEMPOTENCY_KEY_HEADER).cloned() else {
            return Box::pin(async move { Ok(service.call(req).await?.map_into_boxed_body()) });
        };
        let config = self.config.clone();
        Box::pin(async move {
            let key = match parse_key(&header_value) {
                Ok(key) => key,
                Err(error) => return Ok(req.error_response(error)),
            };
            // Keys are per subject; without a valid token there is no subject, and the handler
            // answers 401 itself. The principal is cached on the request for the handler.
            let Ok(principal) = crate::auth::authenticate(req.request()) else {
                return Ok(service.call(req).await?.map_into_boxed_body());
            };
            handle(&service, &config, req, &principal.subject, &key).await
        })
    }
}

/// Replays a stored answer, or refuses a key reused for another request.
fn replay_stored(
    bytes: &[u8],
    fingerprint: &str,
    storage_key: &str,
) -> Result<HttpResponse, ApiError> {
    let stored: StoredResponse = serde_json::from_slice(bytes).map_err(|error| {
        ApiError::internal(
            anyhow::Error::new(error).context(format!("stored idempotent answer {storage_key}")),
        )
    })?;
    if stored.fingerprint != fingerprint {
        return Err(ApiError::IdempotencyKeyReused);
    }
    stored.replay()
}

// No clone of the `HttpRequest` may live across `service.call`: actix's router needs it unique.
async fn handle<S, B>(
    service: &Rc<S>,
    config: &Idempotency,
    mut req: ServiceRequest,
    subject: &str,
    key: &str,
) -> Result<ServiceResponse<BoxBody>, Error>
where
    S: Service<ServiceRequest, Response = ServiceResponse<B>, Error = Error> + 'static,
    B: MessageBody + 'static,
{
    let body = match read_body(&mut req, config.body_limit).await {
        Ok(body) => body,
        Err(error) => return Ok(req.error_response(error)),
    };
    let path_and_query = req
        .uri()
        .path_and_query()
        .map_or_else(|| req.path().to_owned(), |pq| pq.as_str().to_owned());
    let fingerprint = fingerprint(req.method(), &path_and_query, &body);
    let storage_key = storage_key(subject, key);

    let _guard = config.locks.lock(&storage_key).await;

    match config.store.kv_get(&storage_key).await {
        Ok(None) => {}
        Ok(Some(bytes)) => {
            let bytes = match &config.secrets {
                None => Ok(bytes),
                Some(secrets) => std::str::from_utf8(&bytes)
                    .map_err(|_| {
                        ApiError::internal(anyhow::anyhow!(
                            "stored answer {storage_key} is not sealed text"
                        ))
                    })
                    .and_then(|sealed| secrets.unseal(sealed))
                    .map(String::into_bytes),
            };
            let bytes = match bytes {
                Ok(bytes) => bytes,
                Err(error) => return Ok(req.error_response(error)),
            };
            return Ok(match replay_stored(&bytes, &fingerprint, &storage_key) {
                Ok(response) => req.into_response(response),
                Err(error) => req.error_response(error),
            });
        }
        Err(error) => return Ok(req.error_response(ApiError::from(error))),
    }

    req.set_payload(Payload::from(body));
    // An `Err` is a failure further in without an answer: nothing to keep, actix renders it.
    let response = service.call(req).await?;
    if response.status().is_server_error() {
        return Ok(response.map_into_boxed_body());
    }

    let (http_req, response) = response.into_parts();
    let (head, response_body) = response.into_parts();
    let bytes = match to_bytes(response_body).await {
        Ok(bytes) => bytes,
        Err(error) => {
            let error = anyhow::anyhow!("{}", error.into()).context("reading the handler's answer");
            return Ok(ServiceResponse::new(
                http_req,
                ApiError::internal(error).error_response(),
            ));
        }
    };

    if bytes.len() <= MAX_STORED_BODY {
        let (body, body_hex) = match std::str::from_utf8(&bytes) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (None, Some(hex::encode(&bytes))),
        };
        let stored = StoredResponse {
            fingerprint,
            status: head.status().as_u16(),
            headers: REPLAYED_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = head.headers().get(name)?.to_str().ok()?;
                    Some((name.as_str().to_owned(), value.to_owned()))
                })
                .collect(),
            body,
            body_hex,
            recorded_at: chrono::Utc::now(),
        };
        // The handler has acted: failing to remember its answer must not turn it into an
        // error, which the client would retry and so act twice anyway.
        let value = serde_json::to_string(&stored).map(|text| match &config.secrets {
            Some(secrets) => secrets.seal(&text).into_bytes(),
            None => text.into_bytes(),
        });
        match value {
            Ok(value) => {
                if let Err(error) = config.store.kv_put_if_absent(&storage_key, value).await {
                    tracing::warn!(%error, key = %storage_key, "could not store an idempotent answer");
                }
            }
            Err(error) => tracing::warn!(%error, "could not serialise an idempotent answer"),
        }
    } else {
        tracing::warn!(key = %storage_key, size = bytes.len(), "answer too large to keep for idempotent replay");
    }

    Ok(ServiceResponse::new(
        http_req,
        head.set_body(bytes).map_into_boxed_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::{Authenticator, Principal, mint_token};
    use actix_web::test as actix_test;
    use actix_web::{App, web};
    use conveyor_store::sqlite::SqliteStore;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const SECRET: &str = "0123456789abcdef0123456789abcdef";

    fn token(subject: &str) -> String {
        let token = mint_token(
            SECRET,
            "conveyor",
            "conveyor",
            subject,
            "push",
            chrono::Duration::hours(1),
        )
        .unwrap();
        format!("Bearer {token}")
    }

    async fn create_thing(
        principal: Principal,
        calls: web::Data<AtomicUsize>,
        body: web::Bytes,
    ) -> HttpResponse {
        let call = calls.fetch_add(1, Ordering::SeqCst) + 1;
        // Give a concurrent duplicate the chance to run into this one.
        for _ in 0..10 {
            tokio::task::yield_now().await;
        }
        HttpResponse::Created()
            .insert_header((header::LOCATION, format!("/things/{call}")))
            .json(serde_json::json!({
                "call": call,
                "by": principal.subject,
                "size": body.len(),
            }))
    }

    async fn fail(calls: web::Data<AtomicUsize>) -> HttpResponse {
        calls.fetch_add(1, Ordering::SeqCst);
        HttpResponse::ServiceUnavailable().finish()
    }

    macro_rules! app {
        ($store:expr, $calls:expr) => {
            actix_test::init_service(
                App::new()
                    .app_data(web::Data::new(Authenticator::hs256(
                        SECRET, "conveyor", "conveyor",
                    )))
                    .app_data(web::Data::from(Arc::clone(&$calls)))
                    .wrap(Idempotency::new($store).with_body_limit(64))
                    .route("/things", web::post().to(create_thing))
                    .route("/fail", web::post().to(fail)),
            )
            .await
        };
    }

    fn post(
        path: &str,
        subject: Option<&str>,
        key: Option<&str>,
        body: impl Into<Bytes>,
    ) -> actix_test::TestRequest {
        let mut request = actix_test::TestRequest::post().uri(path).set_payload(body);
        if let Some(subject) = subject {
            request = request.insert_header((header::AUTHORIZATION, token(subject)));
        }
        if let Some(key) = key {
            request = request.insert_header((IDEMPOTENCY_KEY_HEADER, key));
        }
        request
    }

    async fn open_store(dir: &tempfile::TempDir) -> Arc<dyn EventStore> {
        SqliteStore::open(&dir.path().join("conveyor.db"))
            .await
            .unwrap()
    }

    #[actix_web::test]
    async fn retries_replay_the_first_answer_per_subject() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_store(&dir).await;
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app!(Arc::clone(&store), calls);

        let first = actix_test::call_service(
            &app,
            post("/things", Some("alice"), Some("k1"), "{\"a\":1}").to_request(),
        )
        .await;
        assert_eq!(first.status(), StatusCode::CREATED);
        assert!(!first.headers().contains_key(REPLAYED_HEADER));
        let first_body = actix_test::read_body(first).await;

        let retry = actix_test::call_service(
            &app,
            post("/things", Some("alice"), Some("k1"), "{\"a\":1}").to_request(),
        )
        .await;
        assert_eq!(retry.status(), StatusCode::CREATED);
        assert_eq!(retry.headers().get(REPLAYED_HEADER).unwrap(), "true");
        assert_eq!(retry.headers().get(header::LOCATION).unwrap(), "/things/1");
        assert_eq!(
            retry.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        assert_eq!(actix_test::read_body(retry).await, first_body);
        assert_eq!(
            calls.load(Ordering::SeqCst),
            1,
            "the retry did not act again"
        );

        let reused = actix_test::call_service(
            &app,
            post("/things", Some("alice"), Some("k1"), "{\"a\":2}").to_request(),
        )
        .await;
        assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let problem: serde_json::Value = actix_test::read_body_json(reused).await;
        assert_eq!(
            problem["type"],
            "https://conveyor.dev/problems/idempotency-key-reused"
        );

        let other_subject = actix_test::call_service(
            &app,
            post("/things", Some("bob"), Some("k1"), "{\"a\":1}").to_request(),
        )
        .await;
        assert_eq!(other_subject.status(), StatusCode::CREATED);
        assert!(!other_subject.headers().contains_key(REPLAYED_HEADER));
        assert_eq!(calls.load(Ordering::SeqCst), 2, "keys are per subject");

        // The answer is durable: a new app over the same store still replays it.
        let app = app!(Arc::clone(&store), calls);
        let later = actix_test::call_service(
            &app,
            post("/things", Some("alice"), Some("k1"), "{\"a\":1}").to_request(),
        )
        .await;
        assert_eq!(later.headers().get(REPLAYED_HEADER).unwrap(), "true");
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[actix_web::test]
    async fn requests_without_key_or_token_pass_through() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app!(open_store(&dir).await, calls);

        for _ in 0..2 {
            let response = actix_test::call_service(
                &app,
                post("/things", Some("alice"), None, "{}").to_request(),
            )
            .await;
            assert_eq!(response.status(), StatusCode::CREATED);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2);

        let anonymous =
            actix_test::call_service(&app, post("/things", None, Some("k"), "{}").to_request())
                .await;
        assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    }

    #[actix_web::test]
    async fn bad_keys_and_large_bodies_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app!(open_store(&dir).await, calls);

        let long_key = "k".repeat(MAX_KEY_LEN + 1);
        let response = actix_test::call_service(
            &app,
            post("/things", Some("alice"), Some(&long_key), "{}").to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            response.headers().get(header::CONTENT_TYPE).unwrap(),
            crate::error::PROBLEM_JSON
        );

        let big = "x".repeat(100);
        let response = actix_test::call_service(
            &app,
            post("/things", Some("alice"), Some("k2"), big).to_request(),
        )
        .await;
        assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(calls.load(Ordering::SeqCst), 0);
    }

    #[actix_web::test]
    async fn server_errors_are_not_remembered() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app!(open_store(&dir).await, calls);
        for _ in 0..2 {
            let response = actix_test::call_service(
                &app,
                post("/fail", Some("alice"), Some("k3"), "{}").to_request(),
            )
            .await;
            assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 2, "a 5xx is retried for real");
    }

    #[actix_web::test]
    async fn concurrent_duplicates_wait_and_replay() {
        let dir = tempfile::tempdir().unwrap();
        let calls = Arc::new(AtomicUsize::new(0));
        let app = app!(open_store(&dir).await, calls);
        let (a, b) = futures_util::future::join(
            actix_test::call_service(
                &app,
                post("/things", Some("alice"), Some("k4"), "{}").to_request(),
            ),
            actix_test::call_service(
                &app,
                post("/things", Some("alice"), Some("k4"), "{}").to_request(),
            ),
        )
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        let replayed = [&a, &b]
            .iter()
            .filter(|response| response.headers().contains_key(REPLAYED_HEADER))
            .count();
        assert_eq!(replayed, 1);
        assert_eq!(
            actix_test::read_body(a).await,
            actix_test::read_body(b).await
        );
    }

    #[test]
    fn storage_keys_cannot_collide_across_subjects() {
        assert_ne!(storage_key("a:b", "c"), storage_key("a", "b:c"));
        assert_eq!(storage_key("alice", "k"), "idem:alice:k");
    }
}
