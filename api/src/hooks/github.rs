//! GitHub deliveries: `push` (one ref per delivery) and `ping`, named by `X-GitHub-Event` and
//! deduplicated on `X-GitHub-Delivery`.
//!
//! - Clone URL: `repository.clone_url`. Since April 2025 `repository.url` is the API URL
//!   (`https://api.github.com/repos/…`) rather than the web page, so it is only a last resort,
//!   and only in its old, web form; `html_url` + `.git` comes before it.
//! - `created`, `deleted` and `forced` are GitHub's own flags; a deletion's `after` is forty
//!   zeros, so its `commit` is `before`.
//! - `pusher` is `pusher.name` (the login), else `sender.login`; `message` is
//!   `head_commit.message` (`null` on deletions).
//! - GitHub lists at most 2048 commits and gives no total, so `truncated` is set when the list
//!   is at that cap. It lists none for a new tag.
//! - A webhook configured with the `application/x-www-form-urlencoded` content type sends the
//!   JSON in the `payload` form field; that is accepted too.

use conveyor_engine::aggregate::push::PushedCommit;
use serde_json::Value;

use super::{
    Delivery, Headers, HookError, Json, RefChange, delivery_id, full_ref, header_value,
    is_zero_object_id, normalise_message, parse_json,
};

/// `source` of reports from GitHub.
pub const SOURCE: &str = "github";

/// The most commits GitHub lists in a push delivery.
const COMMITS_LIMIT: usize = 2048;

/// Parses a GitHub delivery.
pub fn parse<H: Headers + ?Sized>(headers: &H, body: &[u8]) -> Result<Delivery, HookError> {
    let event_type = header_value(headers, "x-github-event")
        .ok_or(HookError::MissingEventType("X-GitHub-Event"))?;
    let delivery_id = delivery_id(headers, &["x-github-delivery"], "X-GitHub-Delivery")?;
    match event_type {
        "push" => {
            let json = if is_form_encoded(headers) {
                parse_json(&form_payload(body)?)?
            } else {
                parse_json(body)?
            };
            let change = parse_push(&json, &delivery_id)?;
            Ok(Delivery::Push {
                delivery_id,
                changes: vec![change],
            })
        }
        "ping" => Ok(Delivery::Ping { delivery_id }),
        other => Ok(Delivery::Ignored {
            delivery_id,
            event_type: other.to_owned(),
        }),
    }
}

fn parse_push(body: &Value, delivery_id: &str) -> Result<conveyor_engine::PushReport, HookError> {
    let root = Json::root(body);
    let git_ref = full_ref("ref", root.req_str("ref")?)?;
    let before = root.req_object_id("before")?;
    let after = root.req_object_id("after")?;
    let created = root
        .opt_bool("created")?
        .unwrap_or(is_zero_object_id(&before));
    let deleted = root
        .opt_bool("deleted")?
        .unwrap_or(is_zero_object_id(&after));
    let repository = clone_url(&root.req("repository")?)?;
    let pusher = root
        .opt("pusher")
        .and_then(|pusher| pusher.first_str(&["name"]))
        .or_else(|| root.opt("sender").and_then(|s| s.first_str(&["login"])))
        .map(str::to_owned);
    let message = match root.opt("head_commit") {
        Some(head) => head.opt_str("message")?.map(normalise_message),
        None => None,
    };
    let commits = root
        .opt_elements("commits")?
        .iter()
        .map(|commit| {
            Ok(PushedCommit {
                id: commit.req_object_id("id")?,
                message: normalise_message(commit.opt_str("message")?.unwrap_or("")),
                author: commit
                    .opt("author")
                    .and_then(|author| author.first_str(&["name", "username"]))
                    .map(str::to_owned),
            })
        })
        .collect::<Result<Vec<_>, HookError>>()?;
    let truncated = commits.len() >= COMMITS_LIMIT;
    Ok(RefChange {
        repository,
        git_ref,
        commit: if deleted { before.clone() } else { after },
        before: (!created && !is_zero_object_id(&before)).then_some(before),
        pusher,
        message,
        source: SOURCE,
        created,
        deleted,
        forced: root.opt_bool("forced")?.unwrap_or(false),
        commits,
        truncated,
        delivery_id: delivery_id.to_owned(),
    }
    .into_report())
}

/// `clone_url`, else `html_url` + `.git`, else the pre-April-2025 web `url` + `.git`.
fn clone_url(repository: &Json<'_>) -> Result<String, HookError> {
    if let Some(clone_url) = repository.first_str(&["clone_url"]) {
        return Ok(clone_url.to_owned());
    }
    let web = repository.first_str(&["html_url"]).or_else(|| {
        repository
            .first_str(&["url"])
            .filter(|url| !is_api_url(url))
    });
    match web {
        Some(web) => Ok(format!("{}.git", web.trim_end_matches('/'))),
        None => Err(HookError::Malformed(format!(
            "missing required field `{}.clone_url`",
            repository.path
        ))),
    }
}

/// Whether `url` is a REST API URL (github.com's `api.github.com`, Enterprise's `/api/v3/`).
fn is_api_url(url: &str) -> bool {
    url.contains("://api.github.com/") || url.contains("/api/v3/")
}

fn is_form_encoded<H: Headers + ?Sized>(headers: &H) -> bool {
    header_value(headers, "content-type").is_some_and(|content_type| {
        content_type.split(';').next().is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
    })
}

/// The decoded `payload` field of a form-encoded body.
fn form_payload(body: &[u8]) -> Result<Vec<u8>, HookError> {
    body.split(|&b| b == b'&')
        .find_map(|pair| pair.strip_prefix(b"payload="))
        .ok_or_else(|| {
            HookError::Malformed("the form-encoded body has no `payload` field".to_owned())
        })
        .and_then(percent_decode)
}

/// `application/x-www-form-urlencoded` decoding: `+` is a space, `%XX` a byte.
fn percent_decode(encoded: &[u8]) -> Result<Vec<u8>, HookError> {
    let invalid = || HookError::Malformed("the `payload` field is not valid form encoding".into());
    let mut decoded = Vec::with_capacity(encoded.len());
    let mut bytes = encoded.iter();
    while let Some(&byte) = bytes.next() {
        match byte {
            b'+' => decoded.push(b' '),
            b'%' => {
                let hex = [
                    *bytes.next().ok_or_else(invalid)?,
                    *bytes.next().ok_or_else(invalid)?,
                ];
                let hex = std::str::from_utf8(&hex).map_err(|_| invalid())?;
                decoded.push(u8::from_str_radix(hex, 16).map_err(|_| invalid())?);
            }
            other => decoded.push(other),
        }
    }
    Ok(decoded)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    const PUSH: &str = r#"{"ref": "refs/heads/main",
        "before": "2f780193b136b72bfea4eeb640786a8c4450c7a2",
        "after": "366701fde727cb7a9e7f21eb88264f59f6f9b89c",
        "repository": {"url": "https://api.github.com/repos/o/r", "html_url": "https://github.com/o/r"},
        "pusher": {"name": "octo"}, "head_commit": {"message": "m & m = 100%"}}"#;

    #[test]
    fn april_2025_repository_without_clone_url_falls_back_to_the_web_url() {
        let Delivery::Push { changes, .. } = parse(
            &headers(&[("x-github-event", "push"), ("x-github-delivery", "d1")]),
            PUSH.as_bytes(),
        )
        .unwrap() else {
            panic!("not a push")
        };
        assert_eq!(changes[0].repository, "https://github.com/o/r.git");
        assert!(!changes[0].created && !changes[0].deleted && !changes[0].forced);
    }

    #[test]
    fn api_url_alone_is_not_a_clone_url() {
        let body = PUSH.replace(r#", "html_url": "https://github.com/o/r""#, "");
        assert_eq!(
            parse(
                &headers(&[("x-github-event", "push"), ("x-github-delivery", "d1")]),
                body.as_bytes()
            ),
            Err(HookError::Malformed(
                "missing required field `repository.clone_url`".into()
            ))
        );
    }

    #[test]
    fn form_encoded_deliveries_carry_the_json_in_payload() {
        let mut encoded = String::from("payload=");
        for byte in PUSH.bytes() {
            match byte {
                b' ' => encoded.push('+'),
                b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'_' => {
                    encoded.push(byte as char)
                }
                other => encoded.push_str(&format!("%{other:02X}")),
            }
        }
        let Delivery::Push { changes, .. } = parse(
            &headers(&[
                ("x-github-event", "push"),
                ("x-github-delivery", "d1"),
                ("content-type", "application/x-www-form-urlencoded"),
            ]),
            encoded.as_bytes(),
        )
        .unwrap() else {
            panic!("not a push")
        };
        assert_eq!(changes[0].message.as_deref(), Some("m & m = 100%"));
    }

    #[test]
    fn ping_and_other_events() {
        let h = |event: &str| headers(&[("x-github-event", event), ("x-github-delivery", "d2")]);
        assert_eq!(
            parse(&h("ping"), b"{}"),
            Ok(Delivery::Ping {
                delivery_id: "d2".into()
            })
        );
        assert_eq!(
            parse(&h("pull_request"), b"{}"),
            Ok(Delivery::Ignored {
                delivery_id: "d2".into(),
                event_type: "pull_request".into()
            })
        );
        assert_eq!(
            parse(&headers(&[("x-github-event", "push")]), b"{}"),
            Err(HookError::MissingDeliveryId("X-GitHub-Delivery"))
        );
        assert_eq!(
            parse(&headers(&[("x-github-delivery", "d")]), b"{}"),
            Err(HookError::MissingEventType("X-GitHub-Event"))
        );
    }
}
