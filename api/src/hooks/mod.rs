//! Git-host webhooks in: pure parsing of Bitbucket, GitHub and GitLab push deliveries into the
//! engine's [`PushReport`]s, and verification of their signatures over the raw body.
//!
//! Nothing here knows the HTTP framework: a route hands over the headers (anything that
//! implements [`Headers`]) and the raw body bytes, calls [`verify`] first, then [`parse`], and
//! maps a [`HookError`] to its status. Both functions are all-or-nothing: a delivery either
//! yields every one of its ref changes or an error, so nothing is ever half-recorded.
//!
//! Normalisation shared by every host (each host's module says where its fields come from):
//!
//! - `git_ref` is always the full ref (`refs/heads/<branch>`, `refs/tags/<tag>`); a delivery
//!   whose ref is not one (bare, empty, ending in `/`, with whitespace) is malformed.
//! - `commit` is the commit the ref now points at; for a deletion it is the *old* commit, so
//!   that every report names a real object. `before` is `None` when the ref was created.
//! - `message` is the head commit's message with trailing line breaks removed (hosts disagree on
//!   keeping git's final newline); it is `None` when the host does not say, as on deletions.
//! - `commits` are listed in the host's order (Bitbucket newest first, GitHub and GitLab oldest
//!   first); `author` is the git author's name, without the e-mail address.
//! - `pusher` is the host's login name for the pushing account where the host gives one, else
//!   its display name.
//! - `host` is the lower-cased host name (no port) of the repository clone URL.

pub mod bitbucket;
pub mod github;
pub mod gitlab;
pub mod signature;

use std::fmt;

use conveyor_engine::aggregate::push::{PushReport, PushedCommit};
use serde_json::Value;

pub use signature::verify;

/// The longest delivery id accepted; ids become dedupe keys, so they are kept small.
const MAX_DELIVERY_ID_LEN: usize = 256;

/// The git host a delivery claims to come from: one endpoint each,
/// `/api/v1/hooks/{bitbucket,github,gitlab}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Provider {
    /// Bitbucket Cloud and Bitbucket Server / Data Center, told apart by the event key.
    Bitbucket,
    /// GitHub and GitHub Enterprise Server.
    GitHub,
    /// GitLab, hosted or self-managed.
    GitLab,
}

impl Provider {
    /// Every provider, in path order.
    pub const ALL: [Provider; 3] = [Provider::Bitbucket, Provider::GitHub, Provider::GitLab];

    /// The provider's path segment under `/api/v1/hooks/`.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Bitbucket => "bitbucket",
            Provider::GitHub => "github",
            Provider::GitLab => "gitlab",
        }
    }

    /// The provider named by a path segment (`bitbucket`, `github`, `gitlab`).
    pub fn from_path_segment(segment: &str) -> Option<Provider> {
        Provider::ALL.into_iter().find(|p| p.as_str() == segment)
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What one webhook delivery amounts to.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// Ref changes, one report per changed ref, in the order the host listed them.
    Push {
        /// The host's id for this delivery (the dedupe key).
        delivery_id: String,
        /// The changes; a Bitbucket delivery may carry several.
        changes: Vec<PushReport>,
    },
    /// The host testing the endpoint (GitHub `ping`, Bitbucket Data Center `diagnostics:ping`).
    Ping {
        /// The host's id for this delivery.
        delivery_id: String,
    },
    /// An event type Conveyor does not act on; answered 202 and recorded as ignored.
    Ignored {
        /// The host's id for this delivery.
        delivery_id: String,
        /// The event type as the host named it (e.g. `pullrequest:created`, `Issue Hook`).
        event_type: String,
    },
}

impl Delivery {
    /// The host's id for this delivery, whatever its kind.
    pub fn delivery_id(&self) -> &str {
        match self {
            Delivery::Push { delivery_id, .. }
            | Delivery::Ping { delivery_id }
            | Delivery::Ignored { delivery_id, .. } => delivery_id,
        }
    }
}

/// Why a delivery was refused. Each variant's doc says which status the route answers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HookError {
    /// 400: the body is not what the event type promises (invalid JSON, a required field
    /// missing or of the wrong type); the reason names the field.
    #[error("malformed delivery: {0}")]
    Malformed(String),
    /// 400: the header carrying the host's delivery id is missing or empty.
    #[error("missing delivery id: expected the {0} header")]
    MissingDeliveryId(&'static str),
    /// 400: the header naming the event type is missing or empty.
    #[error("missing event type: expected the {0} header")]
    MissingEventType(&'static str),
    /// 401: the signature or token is missing or wrong. The reason never contains the secret
    /// or the expected signature.
    #[error("unauthorized: {0}")]
    Unauthorized(String),
}

/// Read access to a request's headers, by case-insensitive name; the first value wins.
pub trait Headers {
    /// The value of the header `name`, if present.
    fn header(&self, name: &str) -> Option<&str>;
}

impl Headers for [(String, String)] {
    fn header(&self, name: &str) -> Option<&str> {
        self.iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

impl Headers for Vec<(String, String)> {
    fn header(&self, name: &str) -> Option<&str> {
        self.as_slice().header(name)
    }
}

/// The trimmed, non-empty value of a header.
fn header_value<'h, H: Headers + ?Sized>(headers: &'h H, name: &str) -> Option<&'h str> {
    headers
        .header(name)
        .map(str::trim)
        .filter(|value| !value.is_empty())
}

/// A delivery id from the first of `names` that is present.
fn delivery_id<H: Headers + ?Sized>(
    headers: &H,
    names: &[&str],
    expected: &'static str,
) -> Result<String, HookError> {
    let (name, id) = names
        .iter()
        .find_map(|name| header_value(headers, name).map(|id| (name, id)))
        .ok_or(HookError::MissingDeliveryId(expected))?;
    if id.len() > MAX_DELIVERY_ID_LEN {
        return Err(HookError::Malformed(format!(
            "the {name} header is longer than {MAX_DELIVERY_ID_LEN} bytes"
        )));
    }
    Ok(id.to_owned())
}

/// Parses a delivery from `provider` into pushes, a ping or an ignored event.
///
/// Call [`verify`] first: parsing trusts the body.
pub fn parse<H: Headers + ?Sized>(
    provider: Provider,
    headers: &H,
    body: &[u8],
) -> Result<Delivery, HookError> {
    match provider {
        Provider::Bitbucket => bitbucket::parse(headers, body),
        Provider::GitHub => github::parse(headers, body),
        Provider::GitLab => gitlab::parse(headers, body),
    }
}

/// The body as JSON, or why not.
fn parse_json(body: &[u8]) -> Result<Value, HookError> {
    serde_json::from_slice(body)
        .map_err(|error| HookError::Malformed(format!("the body is not valid JSON: {error}")))
}

/// Field access on JSON with errors that name the full path of what is missing or wrong.
#[derive(Clone)]
struct Json<'v> {
    value: &'v Value,
    path: String,
}

impl<'v> Json<'v> {
    fn root(value: &'v Value) -> Self {
        Json {
            value,
            path: String::new(),
        }
    }

    fn child_path(&self, name: &str) -> String {
        if self.path.is_empty() {
            name.to_owned()
        } else {
            format!("{}.{name}", self.path)
        }
    }

    /// The field `name`; `None` when absent or null.
    fn opt(&self, name: &str) -> Option<Json<'v>> {
        match self.value.get(name) {
            None | Some(Value::Null) => None,
            Some(value) => Some(Json {
                value,
                path: self.child_path(name),
            }),
        }
    }

    /// The field `name`, which must be present and not null.
    fn req(&self, name: &str) -> Result<Json<'v>, HookError> {
        self.opt(name).ok_or_else(|| {
            HookError::Malformed(format!(
                "missing required field `{}`",
                self.child_path(name)
            ))
        })
    }

    fn as_str(&self) -> Result<&'v str, HookError> {
        self.value
            .as_str()
            .ok_or_else(|| HookError::Malformed(format!("`{}` must be a string", self.path)))
    }

    /// The string field `name`, required.
    fn req_str(&self, name: &str) -> Result<&'v str, HookError> {
        self.req(name)?.as_str()
    }

    /// The string field `name`, if present; a present non-string is an error.
    fn opt_str(&self, name: &str) -> Result<Option<&'v str>, HookError> {
        self.opt(name).map(|field| field.as_str()).transpose()
    }

    /// The first of `names` that is a present, non-empty string (others of the wrong type are
    /// skipped: these are fallbacks for display, not required data).
    fn first_str(&self, names: &[&str]) -> Option<&'v str> {
        names.iter().find_map(|name| {
            self.value
                .get(*name)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        })
    }

    /// The boolean field `name`, if present; a present non-boolean is an error.
    fn opt_bool(&self, name: &str) -> Result<Option<bool>, HookError> {
        self.opt(name)
            .map(|field| {
                field.value.as_bool().ok_or_else(|| {
                    HookError::Malformed(format!("`{}` must be true or false", field.path))
                })
            })
            .transpose()
    }

    /// The unsigned integer field `name`, if present.
    fn opt_u64(&self, name: &str) -> Result<Option<u64>, HookError> {
        self.opt(name)
            .map(|field| {
                field.value.as_u64().ok_or_else(|| {
                    HookError::Malformed(format!("`{}` must be a non-negative integer", field.path))
                })
            })
            .transpose()
    }

    /// The elements of this array, each with its indexed path.
    fn elements(&self) -> Result<Vec<Json<'v>>, HookError> {
        let array = self
            .value
            .as_array()
            .ok_or_else(|| HookError::Malformed(format!("`{}` must be an array", self.path)))?;
        Ok(array
            .iter()
            .enumerate()
            .map(|(index, value)| Json {
                value,
                path: format!("{}[{index}]", self.path),
            })
            .collect())
    }

    /// The elements of the array field `name`; empty when absent or null.
    fn opt_elements(&self, name: &str) -> Result<Vec<Json<'v>>, HookError> {
        match self.opt(name) {
            Some(array) => array.elements(),
            None => Ok(Vec::new()),
        }
    }

    /// The git object id in the string field `name`, required.
    fn req_object_id(&self, name: &str) -> Result<String, HookError> {
        let field = self.req(name)?;
        let id = field.as_str()?;
        if is_object_id(id) {
            Ok(id.to_ascii_lowercase())
        } else {
            Err(HookError::Malformed(format!(
                "`{}` must be a full hexadecimal git object id",
                field.path
            )))
        }
    }
}

/// A full SHA-1 (40 hex digits) or SHA-256 (64) git object id.
fn is_object_id(id: &str) -> bool {
    matches!(id.len(), 40 | 64) && id.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `git_ref` when it is a full ref naming something (`refs/heads/main`, `refs/tags/v1`), else
/// why not: the engine reads a bare name as a branch, so a host's ref that lost its prefix, is
/// empty, ends in `/` or holds whitespace or control characters (which git never allows) would
/// be matched against branch filters as something it is not. `field` names where it came from.
fn full_ref(field: &str, git_ref: &str) -> Result<String, HookError> {
    let named = git_ref
        .strip_prefix("refs/")
        .is_some_and(|name| !name.is_empty() && !name.ends_with('/'));
    if !named || git_ref.contains(|c: char| c.is_whitespace() || c.is_control()) {
        return Err(HookError::Malformed(format!(
            "`{field}` must be a full git ref such as refs/heads/main"
        )));
    }
    Ok(git_ref.to_owned())
}

/// The all-zero object id hosts use for "no commit" (ref created or deleted).
fn is_zero_object_id(id: &str) -> bool {
    id.len() >= 40 && id.bytes().all(|b| b == b'0')
}

/// A commit message without the trailing line breaks some hosts keep.
fn normalise_message(message: &str) -> String {
    message.trim_end_matches(['\n', '\r']).to_owned()
}

/// The name part of a git identity `Name <email>` (the whole string when there is no e-mail).
fn identity_name(raw: &str) -> Option<String> {
    let name = raw.split_once('<').map_or(raw, |(name, _)| name).trim();
    (!name.is_empty()).then(|| name.to_owned())
}

/// The lower-cased host name of a clone URL: `scheme://[user@]host[:port]/…` or the scp-like
/// `user@host:path`.
fn url_host(url: &str) -> Option<String> {
    let authority = match url.split_once("://") {
        Some((_, rest)) => rest.split(['/', '?', '#']).next().unwrap_or(rest),
        None => url.split_once(':')?.0,
    };
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if let Some(bracketed) = host_port.strip_prefix('[') {
        bracketed.split_once(']')?.0
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

/// The commit-level fields of a report, filled in by each host's parser.
struct RefChange {
    repository: String,
    git_ref: String,
    commit: String,
    before: Option<String>,
    pusher: Option<String>,
    message: Option<String>,
    source: &'static str,
    created: bool,
    deleted: bool,
    forced: bool,
    commits: Vec<PushedCommit>,
    truncated: bool,
    delivery_id: String,
}

impl RefChange {
    fn into_report(self) -> PushReport {
        let host = url_host(&self.repository);
        PushReport {
            repository: self.repository,
            git_ref: self.git_ref,
            commit: self.commit,
            before: self.before,
            pusher: self.pusher,
            message: self.message,
            source: self.source.to_owned(),
            created: self.created,
            deleted: self.deleted,
            forced: self.forced,
            commits: self.commits,
            truncated: self.truncated,
            delivery_id: Some(self.delivery_id),
            host,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_host_handles_every_clone_url_form() {
        let cases = [
            ("https://github.com/a/b.git", Some("github.com")),
            (
                "http://10.40.8.5:3200/test/woodpecker.git",
                Some("10.40.8.5"),
            ),
            (
                "https://user@Bitbucket.org/ws/repo.git",
                Some("bitbucket.org"),
            ),
            (
                "ssh://git@localhost:7999/amuniz/test-repos.git",
                Some("localhost"),
            ),
            ("git@example.com:mike/diaspora.git", Some("example.com")),
            ("http://[::1]:7990/scm/p/r.git", Some("::1")),
            ("no-host-here", None),
        ];
        for (url, host) in cases {
            assert_eq!(url_host(url).as_deref(), host, "{url}");
        }
    }

    #[test]
    fn only_full_refs_naming_something_are_refs() {
        for good in ["refs/heads/main", "refs/tags/v1.0", "refs/heads/feature/x"] {
            assert_eq!(full_ref("ref", good).as_deref(), Ok(good));
        }
        for bad in [
            "",
            "main",
            "refs/",
            "refs/heads/",
            "refs/heads/a b",
            "refs/heads/a\nb",
            " refs/heads/main",
            "heads/refs/main",
        ] {
            assert!(full_ref("ref", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn identity_name_drops_the_email() {
        assert_eq!(
            identity_name("Nikolas Falco <email@domain.com>").as_deref(),
            Some("Nikolas Falco")
        );
        assert_eq!(identity_name("Just A Name").as_deref(), Some("Just A Name"));
        assert_eq!(identity_name(" <only@mail>"), None);
    }

    #[test]
    fn object_ids() {
        assert!(is_object_id("c14c1bb05dfb1fdcdf06b31485fff61b0ea44277"));
        assert!(!is_object_id("not-hex"));
        assert!(is_zero_object_id(
            "0000000000000000000000000000000000000000"
        ));
        assert!(!is_zero_object_id("0000"));
    }

    #[test]
    fn json_errors_name_the_full_path() {
        let value: Value = serde_json::json!({"push": {"changes": [{"new": {"name": 3}}]}});
        let root = Json::root(&value);
        let change = root
            .req("push")
            .unwrap()
            .req("changes")
            .unwrap()
            .elements()
            .unwrap();
        let new = change[0].req("new").unwrap();
        assert_eq!(
            new.req_str("type").unwrap_err(),
            HookError::Malformed("missing required field `push.changes[0].new.type`".into())
        );
        assert_eq!(
            new.req_str("name").unwrap_err(),
            HookError::Malformed("`push.changes[0].new.name` must be a string".into())
        );
    }

    #[test]
    fn headers_are_found_whatever_their_case() {
        let headers = vec![("X-Event-Key".to_owned(), " repo:push ".to_owned())];
        assert_eq!(header_value(&headers, "x-event-key"), Some("repo:push"));
        assert_eq!(header_value(&headers, "x-request-uuid"), None);
    }

    #[test]
    fn providers_round_trip_through_their_path_segment() {
        for provider in Provider::ALL {
            assert_eq!(
                Provider::from_path_segment(provider.as_str()),
                Some(provider)
            );
        }
        assert_eq!(Provider::from_path_segment("gitea"), None);
    }
}
