//! JWT bearer authentication and scope checks: who is calling and what they may do.
//!
//! The server accepts exactly one algorithm, fixed by its settings: HS256 with a secret, or
//! RS256 / EdDSA with a PEM public key. A token whose header names any other algorithm
//! (`none`, or HS256 against an RSA key — the classic confusion attack) is refused before its
//! signature is looked at. `exp` (5 s leeway), `iss`, `aud` and `sub` are required; `nbf`, when
//! present, is checked with the same leeway.
//!
//! Key selection: the server holds exactly one key and never chooses another from the token.
//! A `kid` header is ignored — whatever it names, known or not, the signature is checked
//! against the configured key, so an unknown `kid` is neither refused nor trusted — and so
//! are keys a token carries or points to (`jwk`, `jku`, `x5u`, `x5c`). A token longer than
//! [`MAX_TOKEN_LEN`] bytes is refused before it is decoded, and so is one whose header lists
//! `crit` extensions (none is supported).
//!
//! Scopes (`scope` claim, space-separated): `read`, `audit`, `admin`, `push`, `agent`,
//! `release`, `deploy:<env>`, `approve:<env>`, where `<env>` may be `*`. Implications:
//!
//! - `deploy:*` grants `deploy:<any env>`, `approve:*` grants `approve:<any env>`.
//! - `admin` grants `read` (an admin manages what it can see), and nothing else: not `audit`,
//!   not `deploy:*`, and above all not `approve:<env>` — approvals keep separation of duties,
//!   so an admin token alone cannot push a change to production past its approvers.
//! - Unknown scopes are ignored (they grant nothing) so newer tokens work with older servers.
//!   Scope names are case-sensitive, and `<env>` is `*` or an environment name (lowercase
//!   letters, digits, `-`, `_`): there are no other patterns, so `approve:prod*` or
//!   `deploy:dev,deploy:production` is an unknown scope and grants nothing.

use std::fmt;
use std::future::{Ready, ready};
use std::path::Path;

use actix_web::dev::Payload;
use actix_web::http::header::{self, HeaderMap};
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use anyhow::{Context, bail};
use conveyor_engine::EnvironmentName;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::config::Settings;
use crate::error::ApiError;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECONDS: u64 = 5;

/// The longest bearer token accepted, in bytes. Real tokens stay far below it (an identity
/// provider's token with hundreds of group claims is about 10 KiB); refusing longer ones before
/// decoding keeps a client from making the server decode and parse large documents for free.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// The claims of a Conveyor token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The subject: a user or service name, recorded as the actor of events.
    pub sub: String,
    /// Space-separated scopes (OAuth 2 style).
    #[serde(default)]
    pub scope: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: i64,
    /// Issued at, seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The issuer; must equal the server's `jwt_issuer`.
    pub iss: String,
    /// The audience; must equal (or, as an array, contain) the server's `jwt_audience`.
    #[serde(with = "one_or_many")]
    pub aud: Vec<String>,
    /// The token id, recorded with approvals so a decision can be traced to one token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

/// RFC 7519 allows `aud` as one string or an array; write one string when there is one.
mod one_or_many {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }

    pub fn serialize<S: Serializer>(values: &[String], serializer: S) -> Result<S::Ok, S::Error> {
        match values {
            [one] => one.serialize(serializer),
            many => many.serialize(serializer),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Vec<String>, D::Error> {
        Ok(match OneOrMany::deserialize(deserializer)? {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        })
    }
}

/// Which environments an environment-bound scope covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum EnvScope {
    /// Every environment (`*`).
    Any,
    /// One named environment.
    Named(String),
}

impl EnvScope {
    fn covers(&self, required: &EnvScope) -> bool {
        match (self, required) {
            (EnvScope::Any, _) => true,
            (EnvScope::Named(granted), EnvScope::Named(required)) => granted == required,
            (EnvScope::Named(_), EnvScope::Any) => false,
        }
    }
}

impl fmt::Display for EnvScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnvScope::Any => f.write_str("*"),
            EnvScope::Named(name) => f.write_str(name),
        }
    }
}

/// One permission a token can carry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// `read`: projects, builds, releases, deployments, environments, dashboard.
    Read,
    /// `audit`: the raw event log, its export and its verification.
    Audit,
    /// `admin`: create and change projects and environments, cancel builds; implies `read`.
    Admin,
    /// `push`: report pushes.
    Push,
    /// `agent`: lease and report jobs.
    Agent,
    /// `release`: create releases.
    Release,
    /// `deploy:<env>`: deploy, promote and roll back in an environment.
    Deploy(EnvScope),
    /// `approve:<env>`: approve or reject deployments to an environment.
    Approve(EnvScope),
    /// `freeze:override`: deploy into a frozen environment, giving a reason.
    FreezeOverride,
}

impl Scope {
    /// Parses one scope; `None` for unknown scopes and for an environment that is neither `*`
    /// nor a valid environment name (an empty one, or a pattern such as `prod*`).
    pub fn parse(text: &str) -> Option<Scope> {
        let env = |name: &str| match name {
            "*" => Some(EnvScope::Any),
            name => EnvironmentName::parse(name)
                .ok()
                .map(|name| EnvScope::Named(name.as_str().to_owned())),
        };
        match text {
            "read" => Some(Scope::Read),
            "audit" => Some(Scope::Audit),
            "admin" => Some(Scope::Admin),
            "push" => Some(Scope::Push),
            "agent" => Some(Scope::Agent),
            "release" => Some(Scope::Release),
            "freeze:override" => Some(Scope::FreezeOverride),
            _ => match text.split_once(':')? {
                ("deploy", name) => env(name).map(Scope::Deploy),
                ("approve", name) => env(name).map(Scope::Approve),
                _ => None,
            },
        }
    }

    /// Whether holding `self` allows what `required` guards (see the module doc).
    pub fn grants(&self, required: &Scope) -> bool {
        match (self, required) {
            (Scope::Admin, Scope::Read) => true,
            (Scope::Deploy(granted), Scope::Deploy(env)) => granted.covers(env),
            (Scope::Approve(granted), Scope::Approve(env)) => granted.covers(env),
            (granted, required) => granted == required,
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Read => f.write_str("read"),
            Scope::Audit => f.write_str("audit"),
            Scope::Admin => f.write_str("admin"),
            Scope::Push => f.write_str("push"),
            Scope::Agent => f.write_str("agent"),
            Scope::Release => f.write_str("release"),
            Scope::FreezeOverride => f.write_str("freeze:override"),
            Scope::Deploy(env) => write!(f, "deploy:{env}"),
            Scope::Approve(env) => write!(f, "approve:{env}"),
        }
    }
}

/// The actor the engine records for the workflow's own events; no token may claim it, so
/// the audit log tells people and the workflow apart.
pub const RESERVED_SUBJECT: &str = "system";

/// The authenticated caller of a request. Use it as a handler argument to require a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's `sub`: the actor recorded on events.
    pub subject: String,
    /// The scopes the token carries that this server knows.
    pub scopes: Vec<Scope>,
    /// The token's `jti`, if it has one.
    pub token_id: Option<String>,
}

impl Principal {
    /// Whether the caller holds a scope that grants `required` (`"deploy:production"`).
    /// An unparseable `required` is granted to nobody.
    pub fn has(&self, required: &str) -> bool {
        Scope::parse(required)
            .is_some_and(|required| self.scopes.iter().any(|scope| scope.grants(&required)))
    }

    /// `Ok` if the caller holds `required`, else 403 naming it.
    pub fn require(&self, required: &str) -> Result<(), ApiError> {
        if self.has(required) {
            Ok(())
        } else {
            Err(ApiError::forbidden(required))
        }
    }

    /// The scopes as their wire strings, for recording on events.
    pub fn scope_strings(&self) -> Vec<String> {
        self.scopes.iter().map(Scope::to_string).collect()
    }
}

/// Verifies bearer tokens with the one key and algorithm the server is configured with.
pub struct Authenticator {
    key: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The key stays out of Debug output: for HS256 it is the secret.
        f.debug_struct("Authenticator")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl Authenticator {
    /// Builds the authenticator the settings describe: RS256/EdDSA from `jwt_public_key`,
    /// else HS256 from `jwt_secret` (call [`crate::config::ensure_jwt_secret`] first).
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Authenticator> {
        match (&settings.jwt_public_key, &settings.jwt_secret) {
            (Some(_), Some(_)) => bail!("configure either jwt_secret or jwt_public_key, not both"),
            (Some(path), None) => {
                Self::from_public_key_file(path, &settings.jwt_issuer, &settings.jwt_audience)
            }
            (None, Some(secret)) => Ok(Self::hs256(
                secret,
                &settings.jwt_issuer,
                &settings.jwt_audience,
            )),
            (None, None) => bail!("no JWT key configured: set jwt_secret or jwt_public_key"),
        }
    }

    /// An HS256 authenticator.
    pub fn hs256(secret: &str, issuer: &str, audience: &str) -> Authenticator {
        Self::new(
            DecodingKey::from_secret(secret.as_bytes()),
            Algorithm::HS256,
            issuer,
            audience,
        )
    }

    /// An RS256 or EdDSA authenticator from a PEM public key file (the kind is detected).
    pub fn from_public_key_file(
        path: &Path,
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Authenticator> {
        let pem = std::fs::read(path)
            .with_context(|| format!("reading JWT public key {}", path.display()))?;
        Self::from_public_key_pem(&pem, issuer, audience)
            .with_context(|| format!("loading JWT public key {}", path.display()))
    }

    /// An RS256 (RSA key) or EdDSA (Ed25519 key) authenticator from PEM text.
    pub fn from_public_key_pem(
        pem: &[u8],
        issuer: &str,
        audience: &str,
    ) -> anyhow::Result<Authenticator> {
        if String::from_utf8_lossy(pem).contains("PRIVATE KEY") {
            bail!("expected a public key, found a private key: keep it off the server");
        }
        if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            return Ok(Self::new(key, Algorithm::EdDSA, issuer, audience));
        }
        if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            return Ok(Self::new(key, Algorithm::RS256, issuer, audience));
        }
        bail!("expected an RSA or Ed25519 public key in PEM form")
    }

    fn new(key: DecodingKey, algorithm: Algorithm, issuer: &str, audience: &str) -> Authenticator {
        // One algorithm only: the header's `alg` must equal it, which refuses `none` and
        // HS/RS confusion before any signature check.
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECONDS;
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.set_issuer(&[issuer]);
        validation.set_audience(&[audience]);
        validation.set_required_spec_claims(&["exp", "sub", "iss", "aud"]);
        Authenticator { key, validation }
    }

    /// The algorithm tokens must be signed with.
    pub fn algorithm(&self) -> Algorithm {
        self.validation.algorithms[0]
    }

    /// Verifies a bearer token (without the `Bearer ` prefix) and returns its principal, or
    /// 401 saying what is wrong without revealing the server's configuration.
    pub fn verify(&self, bearer_token: &str) -> Result<Principal, ApiError> {
        if bearer_token.len() > MAX_TOKEN_LEN {
            return Err(ApiError::Unauthorized(format!(
                "the token is longer than {MAX_TOKEN_LEN} bytes"
            )));
        }
        let data = jsonwebtoken::decode::<Claims>(bearer_token, &self.key, &self.validation)
            .map_err(|error| ApiError::Unauthorized(describe_jwt_error(error.kind()).to_owned()))?;
        // RFC 7515 §4.1.11: extensions listed as critical must be understood, and this server
        // understands none. Checked after the signature, so a forgery learns nothing from it.
        if jsonwebtoken::decode_header(bearer_token).is_ok_and(|header| header.crit.is_some()) {
            return Err(ApiError::Unauthorized(
                "the token names critical header extensions this server does not support"
                    .to_owned(),
            ));
        }
        let claims = data.claims;
        if claims.sub.trim().is_empty() {
            return Err(ApiError::Unauthorized(
                "the token has an empty subject".to_owned(),
            ));
        }
        if claims.sub == RESERVED_SUBJECT {
            return Err(ApiError::Unauthorized(format!(
                "the subject `{RESERVED_SUBJECT}` is reserved for the workflow itself"
            )));
        }
        let scopes = claims
            .scope
            .split_whitespace()
            .filter_map(Scope::parse)
            .collect();
        Ok(Principal {
            subject: claims.sub,
            scopes,
            token_id: claims.jti,
        })
    }
}

fn describe_jwt_error(kind: &ErrorKind) -> &'static str {
    match kind {
        ErrorKind::ExpiredSignature => "the token has expired",
        ErrorKind::ImmatureSignature => "the token is not valid yet",
        ErrorKind::InvalidSignature => "the token's signature is not valid",
        ErrorKind::InvalidAudience => "the token is for another audience",
        ErrorKind::InvalidIssuer => "the token is from another issuer",
        ErrorKind::InvalidAlgorithm
        | ErrorKind::InvalidAlgorithmName
        | ErrorKind::MissingAlgorithm => {
            "the token is signed with an algorithm this server does not accept"
        }
        ErrorKind::MissingRequiredClaim(_) => {
            "the token lacks a required claim (sub, exp, iss, aud)"
        }
        ErrorKind::InvalidClaimFormat(_) => "the token has a claim of the wrong type",
        _ => "the token is malformed",
    }
}

/// The token of an `Authorization: Bearer <token>` header, or 401 saying what is wrong.
pub fn bearer_token(headers: &HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthorized("missing Authorization header".to_owned()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("malformed Authorization header".to_owned()))?;
    let (scheme, token) = value.trim().split_once(' ').ok_or_else(|| {
        ApiError::Unauthorized("the Authorization header must be `Bearer <token>`".to_owned())
    })?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(ApiError::Unauthorized(
            "the Authorization header must use the Bearer scheme".to_owned(),
        ));
    }
    let token = token.trim();
    if token.is_empty() {
        return Err(ApiError::Unauthorized(
            "the bearer token is empty".to_owned(),
        ));
    }
    Ok(token)
}

/// Authenticates a request: the principal cached on it by an earlier step (the idempotency
/// middleware), else the verified bearer token, which is then cached.
pub fn authenticate(req: &HttpRequest) -> Result<Principal, ApiError> {
    if let Some(principal) = req.extensions().get::<Principal>() {
        return Ok(principal.clone());
    }
    let authenticator = req.app_data::<web::Data<Authenticator>>().ok_or_else(|| {
        ApiError::internal(anyhow::anyhow!("no Authenticator registered as app data"))
    })?;
    let principal = authenticator.verify(bearer_token(req.headers())?)?;
    req.extensions_mut().insert(principal.clone());
    Ok(principal)
}

impl FromRequest for Principal {
    type Error = ApiError;
    type Future = Ready<Result<Principal, ApiError>>;

    fn from_request(req: &HttpRequest, _payload: &mut Payload) -> Self::Future {
        ready(authenticate(req))
    }
}

/// Mints an HS256 token with `iat` = now and a fresh `jti` (UUID v4).
pub fn mint_token(
    secret: &str,
    issuer: &str,
    audience: &str,
    subject: &str,
    scopes: &str,
    ttl: chrono::Duration,
) -> anyhow::Result<String> {
    if subject.trim().is_empty() {
        bail!("the subject must not be empty");
    }
    if subject == RESERVED_SUBJECT {
        bail!("the subject `{RESERVED_SUBJECT}` is reserved for the workflow itself");
    }
    for scope in scopes.split_whitespace() {
        if Scope::parse(scope).is_none() {
            bail!("unknown scope {scope:?}");
        }
    }
    let now = chrono::Utc::now().timestamp();
    let claims = Claims {
        sub: subject.to_owned(),
        scope: scopes.split_whitespace().collect::<Vec<_>>().join(" "),
        exp: now.saturating_add(ttl.num_seconds()),
        iat: Some(now),
        iss: issuer.to_owned(),
        aud: vec![audience.to_owned()],
        jti: Some(uuid::Uuid::new_v4().to_string()),
    };
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(secret.as_bytes()),
    )
    .context("signing the token")
}

/// Parses a token lifetime: `90` or `90s` seconds, `30m`, `1h`, `7d`. Must be positive.
pub fn parse_ttl(text: &str) -> anyhow::Result<chrono::Duration> {
    let text = text.trim();
    let (number, unit_seconds) = match text.char_indices().last() {
        Some((i, 's')) => (&text[..i], 1),
        Some((i, 'm')) => (&text[..i], 60),
        Some((i, 'h')) => (&text[..i], 3600),
        Some((i, 'd')) => (&text[..i], 86_400),
        _ => (text, 1),
    };
    let count: i64 = number
        .parse()
        .ok()
        .filter(|count| *count > 0)
        .with_context(|| format!("{text:?} is not a lifetime like 90, 3600s, 30m, 1h or 7d"))?;
    let seconds = count
        .checked_mul(unit_seconds)
        .with_context(|| format!("lifetime {text:?} is too long"))?;
    chrono::Duration::try_seconds(seconds).with_context(|| format!("lifetime {text:?} is too long"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::http::StatusCode;
    use actix_web::test as actix_test;
    use actix_web::{App, HttpResponse, ResponseError};

    const SECRET: &str = "0123456789abcdef0123456789abcdef";
    const RSA_PUBLIC: &[u8] = include_bytes!("../tests/keys/rsa-public.pem");
    const RSA_PRIVATE: &[u8] = include_bytes!("../tests/keys/rsa-private.pem");
    const ED_PUBLIC: &[u8] = include_bytes!("../tests/keys/ed25519-public.pem");
    const ED_PRIVATE: &[u8] = include_bytes!("../tests/keys/ed25519-private.pem");

    fn claims(exp_offset: i64) -> Claims {
        let now = chrono::Utc::now().timestamp();
        Claims {
            sub: "alice".into(),
            scope: "read deploy:* approve:staging".into(),
            exp: now + exp_offset,
            iat: Some(now),
            iss: "conveyor".into(),
            aud: vec!["conveyor".into()],
            jti: Some("t-1".into()),
        }
    }

    fn sign(alg: Algorithm, key: &EncodingKey, claims: &Claims) -> String {
        jsonwebtoken::encode(&Header::new(alg), claims, key).unwrap()
    }

    fn hs() -> Authenticator {
        Authenticator::hs256(SECRET, "conveyor", "conveyor")
    }

    fn rs() -> Authenticator {
        Authenticator::from_public_key_pem(RSA_PUBLIC, "conveyor", "conveyor").unwrap()
    }

    #[test]
    fn valid_hs256_token_yields_its_principal() {
        let token = mint_token(
            SECRET,
            "conveyor",
            "conveyor",
            "bot",
            "push read",
            chrono::Duration::minutes(5),
        )
        .unwrap();
        let principal = hs().verify(&token).unwrap();
        assert_eq!(principal.subject, "bot");
        assert_eq!(principal.scope_strings(), vec!["push", "read"]);
        assert!(principal.token_id.is_some());
    }

    #[test]
    fn valid_rs256_and_eddsa_tokens_are_accepted() {
        let rsa = EncodingKey::from_rsa_pem(RSA_PRIVATE).unwrap();
        assert_eq!(rs().algorithm(), Algorithm::RS256);
        assert_eq!(
            rs().verify(&sign(Algorithm::RS256, &rsa, &claims(60)))
                .unwrap()
                .subject,
            "alice"
        );

        let ed = Authenticator::from_public_key_pem(ED_PUBLIC, "conveyor", "conveyor").unwrap();
        assert_eq!(ed.algorithm(), Algorithm::EdDSA);
        let ed_key = EncodingKey::from_ed_pem(ED_PRIVATE).unwrap();
        assert_eq!(
            ed.verify(&sign(Algorithm::EdDSA, &ed_key, &claims(60)))
                .unwrap()
                .subject,
            "alice"
        );
    }

    #[test]
    fn private_keys_are_refused_as_public_keys() {
        assert!(Authenticator::from_public_key_pem(RSA_PRIVATE, "c", "c").is_err());
        assert!(Authenticator::from_public_key_pem(b"not a key", "c", "c").is_err());
    }

    #[test]
    fn scopes_match_with_wildcards_and_admin_implies_only_read() {
        let principal = Principal {
            subject: "p".into(),
            scopes: "admin deploy:* approve:staging bogus deploy: approve:prod* deploy:Prod \
                     deploy:dev,deploy:production APPROVE:production approve:a/b"
                .split_whitespace()
                .filter_map(Scope::parse)
                .collect(),
            token_id: None,
        };
        assert!(principal.has("read"), "admin implies read");
        assert!(principal.has("admin"));
        assert!(principal.has("deploy:production"));
        assert!(principal.has("deploy:*"));
        assert!(principal.has("approve:staging"));
        assert!(
            !principal.has("approve:production"),
            "admin does not imply approve"
        );
        assert!(!principal.has("approve:*"));
        assert!(!principal.has("audit"));
        assert!(!principal.has("push"));
        assert!(!principal.has("nonsense"));
        assert_eq!(
            principal.scopes.len(),
            3,
            "unknown scopes, empty environments and patterns are dropped"
        );
        assert!(
            !principal.has("approve:prod*"),
            "a pattern is required of nobody"
        );

        let narrow = Principal {
            scopes: vec![Scope::Deploy(EnvScope::Named("dev".into()))],
            ..principal
        };
        assert!(
            !narrow.has("deploy:*"),
            "one environment does not grant all"
        );
        let error = narrow.require("deploy:production").unwrap_err();
        assert_eq!(error.status_code(), StatusCode::FORBIDDEN);
        assert_eq!(
            error.problem().missing_scope.as_deref(),
            Some("deploy:production")
        );
    }

    #[test]
    fn parse_ttl_accepts_units_and_refuses_nonsense() {
        assert_eq!(parse_ttl("1h").unwrap(), chrono::Duration::hours(1));
        assert_eq!(parse_ttl("30m").unwrap(), chrono::Duration::minutes(30));
        assert_eq!(parse_ttl("7d").unwrap(), chrono::Duration::days(7));
        assert_eq!(parse_ttl("3600s").unwrap(), chrono::Duration::seconds(3600));
        assert_eq!(parse_ttl("90").unwrap(), chrono::Duration::seconds(90));
        for bad in ["", "h", "0", "-5m", "1.5h", "1w", "99999999999999999d"] {
            assert!(parse_ttl(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn mint_token_refuses_unknown_scopes() {
        assert!(
            mint_token(
                SECRET,
                "c",
                "c",
                "bot",
                "read deplyo:prod",
                chrono::Duration::hours(1)
            )
            .is_err()
        );
    }

    async fn whoami(principal: Principal) -> HttpResponse {
        HttpResponse::Ok().body(principal.subject)
    }

    #[actix_web::test]
    async fn extractor_answers_401_with_a_challenge() {
        let app = actix_test::init_service(
            App::new()
                .app_data(web::Data::new(hs()))
                .route("/me", web::get().to(whoami)),
        )
        .await;
        let token = mint_token(
            SECRET,
            "conveyor",
            "conveyor",
            "carol",
            "read",
            chrono::Duration::hours(1),
        )
        .unwrap();
        let ok = actix_test::call_service(
            &app,
            actix_test::TestRequest::get()
                .uri("/me")
                .insert_header(("Authorization", format!("Bearer {token}")))
                .to_request(),
        )
        .await;
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(actix_test::read_body(ok).await, "carol");

        for header in [
            None,
            Some("Basic abc"),
            Some("Bearer"),
            Some("Bearer x.y.z"),
        ] {
            let mut request = actix_test::TestRequest::get().uri("/me");
            if let Some(value) = header {
                request = request.insert_header(("Authorization", value));
            }
            let response = actix_test::call_service(&app, request.to_request()).await;
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{header:?}");
            assert!(response.headers().contains_key(header::WWW_AUTHENTICATE));
            assert_eq!(
                response.headers().get(header::CONTENT_TYPE).unwrap(),
                crate::error::PROBLEM_JSON
            );
        }
    }
}
