//! Authentication of webhook deliveries over the raw body, before any parsing.
//!
//! | Provider | Header | Check |
//! |---|---|---|
//! | Bitbucket Cloud and Data Center | `X-Hub-Signature: sha256=<hex>` | HMAC-SHA256 of the body |
//! | GitHub | `X-Hub-Signature-256: sha256=<hex>` | HMAC-SHA256 of the body |
//! | GitLab | `X-Gitlab-Token: <secret>` | equality with the secret |
//!
//! A configured secret makes the header mandatory. Without one (`None`, or an empty secret,
//! which no host signs with) nothing is required and any signature header is ignored: the
//! integration has chosen not to authenticate its host. GitHub's legacy SHA-1
//! `X-Hub-Signature` is not accepted. Bitbucket Data Center's alternative, HTTP Basic
//! authentication, and GitLab's Standard-Webhooks `webhook-signature` (behind a feature flag)
//! are not supported.
//!
//! Every comparison is constant time: HMACs through `hmac`'s `verify_slice`, and the GitLab token
//! by comparing HMACs of both tokens, which also hides the secret's length. Refusals name the
//! header and what was wrong with it, never the secret or the expected value.

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{Headers, HookError, Provider, header_value};

type HmacSha256 = Hmac<Sha256>;

/// Checks that a delivery comes from the host holding `secret`.
pub fn verify<H: Headers + ?Sized>(
    provider: Provider,
    headers: &H,
    body: &[u8],
    secret: Option<&str>,
) -> Result<(), HookError> {
    let Some(secret) = secret.filter(|secret| !secret.is_empty()) else {
        return Ok(());
    };
    match provider {
        Provider::Bitbucket => verify_hub_signature(headers, "X-Hub-Signature", body, secret),
        Provider::GitHub => verify_hub_signature(headers, "X-Hub-Signature-256", body, secret),
        Provider::GitLab => verify_gitlab_token(headers, secret),
    }
}

/// `sha256=<hex>` HMAC-SHA256 of `body` under `secret` in the header `name`.
fn verify_hub_signature<H: Headers + ?Sized>(
    headers: &H,
    name: &str,
    body: &[u8],
    secret: &str,
) -> Result<(), HookError> {
    let value = header_value(headers, name).ok_or_else(|| {
        HookError::Unauthorized(format!(
            "the {name} header is missing; this integration has a secret, so deliveries must be signed"
        ))
    })?;
    // The prefix names the algorithm (Bitbucket Data Center documents it so).
    let (algorithm, hex_digest) = value.split_once('=').ok_or_else(|| {
        HookError::Unauthorized(format!("the {name} header is not of the form sha256=<hex>"))
    })?;
    if !algorithm.trim().eq_ignore_ascii_case("sha256") {
        return Err(HookError::Unauthorized(format!(
            "the {name} header uses an unsupported algorithm; only sha256 is accepted"
        )));
    }
    let digest = hex::decode(hex_digest.trim()).map_err(|_| {
        HookError::Unauthorized(format!("the {name} header is not of the form sha256=<hex>"))
    })?;
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(body);
    mac.verify_slice(&digest).map_err(|_| {
        HookError::Unauthorized(format!(
            "the {name} signature does not match the body and the configured secret"
        ))
    })
}

/// `X-Gitlab-Token` equal to the secret. GitLab sends the token with line breaks removed
/// (`Gitlab::Utils.remove_line_breaks`), so they are removed from the secret too.
fn verify_gitlab_token<H: Headers + ?Sized>(headers: &H, secret: &str) -> Result<(), HookError> {
    let token = headers.header("x-gitlab-token").ok_or_else(|| {
        HookError::Unauthorized(
            "the X-Gitlab-Token header is missing; this integration has a secret token".to_owned(),
        )
    })?;
    let secret = secret.replace(['\r', '\n'], "");
    // Comparing fixed-size MACs of both values, in constant time, leaks neither the secret's
    // bytes nor its length through timing.
    const KEY: &[u8] = b"conveyor: compare X-Gitlab-Token";
    let mut expected = hmac_sha256(KEY);
    expected.update(secret.as_bytes());
    let expected = expected.finalize().into_bytes();
    let mut presented = hmac_sha256(KEY);
    presented.update(token.as_bytes());
    presented.verify_slice(&expected).map_err(|_| {
        HookError::Unauthorized(
            "the X-Gitlab-Token header does not match the configured secret token".to_owned(),
        )
    })
}

fn hmac_sha256(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length")
}

/// `sha256=<lowercase hex>` of `body` under `secret`, as GitHub and Bitbucket send it; for tests
/// and for tools that sign test deliveries.
pub fn hub_signature_sha256(secret: &str, body: &[u8]) -> String {
    let mut mac = hmac_sha256(secret.as_bytes());
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
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

    /// GitHub's documented test vector ("Validating webhook deliveries").
    #[test]
    fn github_documented_test_vector() {
        let secret = "It's a Secret to Everybody";
        let signature = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        assert_eq!(hub_signature_sha256(secret, b"Hello, World!"), signature);
        let h = headers(&[("x-hub-signature-256", signature)]);
        assert_eq!(
            verify(Provider::GitHub, &h, b"Hello, World!", Some(secret)),
            Ok(())
        );
        assert!(verify(Provider::GitHub, &h, b"Hello, World?", Some(secret)).is_err());
    }

    #[test]
    fn no_secret_requires_nothing() {
        for provider in Provider::ALL {
            assert_eq!(verify(provider, &headers(&[]), b"{}", None), Ok(()));
            assert_eq!(verify(provider, &headers(&[]), b"{}", Some("")), Ok(()));
        }
    }

    #[test]
    fn refusals_never_echo_the_secret_or_the_expected_signature() {
        let secret = "s3cr3t-value";
        let body = b"{\"a\":1}";
        let expected = hub_signature_sha256(secret, body);
        let cases = [
            (Provider::GitHub, headers(&[])),
            (
                Provider::GitHub,
                headers(&[("x-hub-signature-256", "sha256=00")]),
            ),
            (
                Provider::GitHub,
                headers(&[("x-hub-signature", "sha1=abcd")]),
            ),
            (
                Provider::Bitbucket,
                headers(&[("x-hub-signature", "sha1=abcd")]),
            ),
            (
                Provider::Bitbucket,
                headers(&[("x-hub-signature", "nonsense")]),
            ),
            (
                Provider::Bitbucket,
                headers(&[("x-hub-signature", "sha256=zz")]),
            ),
            (Provider::GitLab, headers(&[])),
            (Provider::GitLab, headers(&[("x-gitlab-token", "s3cr3t")])),
        ];
        for (provider, h) in cases {
            let Err(HookError::Unauthorized(reason)) = verify(provider, &h, body, Some(secret))
            else {
                panic!("{provider} {h:?} was accepted")
            };
            assert!(!reason.contains(secret), "{reason}");
            assert!(!reason.contains(&expected[7..]), "{reason}");
        }
    }

    #[test]
    fn gitlab_token_must_match_exactly() {
        let ok = headers(&[("X-Gitlab-Token", "token")]);
        assert_eq!(verify(Provider::GitLab, &ok, b"", Some("token")), Ok(()));
        assert_eq!(
            verify(Provider::GitLab, &ok, b"", Some("tok\r\nen")),
            Ok(())
        );
        for wrong in ["tokeN", "token ", "tok", "tokens", ""] {
            let h = headers(&[("x-gitlab-token", wrong)]);
            assert!(
                verify(Provider::GitLab, &h, b"", Some("token")).is_err(),
                "{wrong:?}"
            );
        }
    }

    #[test]
    fn the_algorithm_prefix_is_case_insensitive_and_the_hex_too() {
        let body = b"payload";
        let signature = hub_signature_sha256("k", body).to_uppercase();
        let h = headers(&[("x-hub-signature", signature.as_str())]);
        assert_eq!(verify(Provider::Bitbucket, &h, body, Some("k")), Ok(()));
    }
}
