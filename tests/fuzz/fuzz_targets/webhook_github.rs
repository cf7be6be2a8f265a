//! GitHub deliveries: `push` as JSON and as a form field, and `ping`, with the input as body.
#![no_main]

use conveyor_api::hooks::{self, Provider, github};
use conveyor_fuzz::{check_delivery, headers, verify_with_first_line};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    verify_with_first_line(Provider::GitHub, "X-Hub-Signature-256", body);
    for content_type in ["application/json", "application/x-www-form-urlencoded"] {
        let headers = headers(&[
            ("X-GitHub-Event", "push"),
            ("X-GitHub-Delivery", "72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            ("Content-Type", content_type),
        ]);
        check_delivery(
            hooks::parse(Provider::GitHub, &headers, body),
            Some("72d3162e-cc78-11e3-81ab-4c9367dc0958"),
            github::SOURCE,
        );
    }
});
