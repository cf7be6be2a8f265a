//! GitLab deliveries: `Push Hook` and `Tag Push Hook`, with and without a delivery id header
//! (without one the id is the body's digest), with the input as body.
#![no_main]

use conveyor_api::hooks::{self, Provider, gitlab};
use conveyor_fuzz::{check_delivery, headers, verify_with_first_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    verify_with_first_line(Provider::GitLab, "X-Gitlab-Token", body);
    for event in ["Push Hook", "Tag Push Hook"] {
        let keyed = headers(&[("X-Gitlab-Event", event), ("Idempotency-Key", "a1b2c3")]);
        check_delivery(
            hooks::parse(Provider::GitLab, &keyed, body),
            Some("a1b2c3"),
            gitlab::SOURCE,
        );
        let bare = headers(&[("X-Gitlab-Event", event)]);
        check_delivery(
            hooks::parse(Provider::GitLab, &bare, body),
            None,
            gitlab::SOURCE,
        );
    }
});
