//! Bitbucket Cloud deliveries: `repo:push`, with the input as body.
#![no_main]

use conveyor_api::hooks::{self, Provider, bitbucket};
use conveyor_fuzz::{check_delivery, headers, verify_with_first_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    verify_with_first_line(Provider::Bitbucket, "X-Hub-Signature", body);
    let headers = headers(&[
        ("X-Event-Key", "repo:push"),
        ("X-Request-UUID", "fe2b5ce6-a1a8-4d8b-9a53-3c8c1a0b5d7e"),
    ]);
    check_delivery(
        hooks::parse(Provider::Bitbucket, &headers, body),
        Some("fe2b5ce6-a1a8-4d8b-9a53-3c8c1a0b5d7e"),
        bitbucket::SOURCE_CLOUD,
    );
});
