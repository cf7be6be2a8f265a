//! Event ids and stream names.
//!
//! Reactions of the process manager derive their event ids from the event that caused them,
//! so that replaying the log re-appends the same ids and the store writes nothing twice.

use sha2::{Digest, Sha256};
use uuid::Uuid;

/// A fresh UUID v7 (time-ordered).
pub fn new_event_id() -> Uuid {
    Uuid::now_v7()
}

/// A UUID v7 derived deterministically from a cause and a label: the cause's timestamp bits
/// (so ids still sort by time) and the rest from SHA-256 of cause and label.
pub fn derived_id(cause: Uuid, label: &str) -> Uuid {
    let digest = Sha256::new()
        .chain_update(cause.as_bytes())
        .chain_update(label.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    // Keep the cause's 48-bit millisecond timestamp when it is a v7, else use the digest.
    if cause.get_version_num() == 7 {
        bytes[..6].copy_from_slice(&cause.as_bytes()[..6]);
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x70; // version 7
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    Uuid::from_bytes(bytes)
}

/// A name-based UUID (version 8, from SHA-256 of `name`) for an entity whose identity is a
/// name, such as a release (project and version): no timestamp, so it claims none.
pub fn name_id(name: &str) -> Uuid {
    let digest = Sha256::digest(name.as_bytes());
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest[..16]);
    Uuid::new_v8(bytes)
}

/// Stream of one project.
pub fn project_stream(name: &str) -> String {
    format!("project-{name}")
}

/// Stream of one integration.
pub fn integration_stream(name: &str) -> String {
    format!("integration-{name}")
}

/// Stream of one lifecycle.
pub fn lifecycle_stream(name: &str) -> String {
    format!("lifecycle-{name}")
}

/// Stream of one environment.
pub fn environment_stream(name: &str) -> String {
    format!("environment-{name}")
}

/// Stream of one push.
pub fn push_stream(id: Uuid) -> String {
    format!("push-{id}")
}

/// Stream of one build.
pub fn build_stream(id: Uuid) -> String {
    format!("build-{id}")
}

/// Stream of one release.
pub fn release_stream(id: Uuid) -> String {
    format!("release-{id}")
}

/// Stream of one deployment.
pub fn deployment_stream(id: Uuid) -> String {
    format!("deployment-{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_v7_and_distinct_per_label() {
        let cause = new_event_id();
        let a = derived_id(cause, "build");
        assert_eq!(a, derived_id(cause, "build"));
        assert_ne!(a, derived_id(cause, "release"));
        assert_eq!(a.get_version_num(), 7);
        assert_eq!(a.as_bytes()[..6], cause.as_bytes()[..6]);
    }
}
