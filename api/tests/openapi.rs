//! The committed `openapi/openapi.json` must equal the document generated from the code.

use std::path::PathBuf;

#[test]
fn committed_openapi_document_is_current() {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../openapi/openapi.json");
    let generated = conveyor_api::openapi::document_json();
    if std::env::var_os("UPDATE_OPENAPI").is_some() {
        std::fs::write(&path, &generated).expect("writing openapi/openapi.json");
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale; regenerate it with:\n    UPDATE_OPENAPI=1 cargo test -p conveyor-api --test openapi"
    );
}

#[test]
fn every_operation_declares_its_security_and_problem_answers() {
    let document: serde_json::Value =
        serde_json::from_str(&conveyor_api::openapi::document_json()).unwrap();
    assert!(document["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = document["paths"].as_object().unwrap();
    for (path, operations) in paths {
        for (verb, operation) in operations.as_object().unwrap() {
            if !path.starts_with("/api/v1/") {
                continue;
            }
            let security = operation["security"].as_array();
            assert!(
                security.is_some_and(|s| !s.is_empty()),
                "{verb} {path} declares no security requirement"
            );
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.contains_key("401"),
                "{verb} {path} documents no 401"
            );
            assert!(
                responses.contains_key("403"),
                "{verb} {path} documents no 403"
            );
        }
    }
}
