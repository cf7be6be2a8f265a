//! Bitbucket Data Center deliveries: `repo:refs_changed`, with the input as body.
#![no_main]

use conveyor_api::hooks::{self, Provider, bitbucket};
use conveyor_fuzz::{check_delivery, headers, verify_with_first_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    verify_with_first_line(Provider::Bitbucket, "X-Hub-Signature", body);
    let headers = headers(&[
        ("X-Event-Key", "repo:refs_changed"),
        ("X-Request-Id", "d5b8e0c4-3f5e-4f8a-9d0c-1b2a3c4d5e6f"),
    ]);
    check_delivery(
        hooks::parse(Provider::Bitbucket, &headers, body),
        Some("d5b8e0c4-3f5e-4f8a-9d0c-1b2a3c4d5e6f"),
        bitbucket::SOURCE_SERVER,
    );
});
