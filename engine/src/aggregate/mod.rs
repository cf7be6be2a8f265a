//! Aggregates: each has a state, a pure `decide` that turns a command into events (all the
//! business rules live there), and an `evolve` that only applies facts.

pub mod build;
pub mod deployment;
pub mod environment;
pub mod freeze;
pub mod integration;
pub mod job;
pub mod lifecycle;
pub mod project;
pub mod push;
pub mod release;
pub mod subscription;

use serde::{
    Serialize,
    de::{DeserializeOwned, value::MapDeserializer},
};

use crate::error::DomainError;

/// A state rebuilt by folding its stream's events.
pub trait Aggregate: Default + Clone {
    /// The events of this aggregate's streams.
    type Event: Serialize + DeserializeOwned + Clone + std::fmt::Debug;

    /// Applies one fact; never refuses.
    fn evolve(self, event: &Self::Event) -> Self;
}

/// Encodes a domain event as the log's (type, payload) pair.
///
/// Event enums are adjacently tagged (`{"type": ..., "payload": ...}`), so the variant name is
/// the past-tense type stored in the log.
pub fn encode<E: Serialize>(event: &E) -> (String, serde_json::Value) {
    let mut value = serde_json::to_value(event).unwrap_or_default();
    let payload = value
        .get_mut("payload")
        .map(serde_json::Value::take)
        .unwrap_or_default();
    let event_type = value
        .get("type")
        .and_then(|t| t.as_str())
        .unwrap_or_default()
        .to_owned();
    (event_type, payload)
}

/// Decodes the log's (type, payload) pair into a domain event; `None` for a foreign type.
pub fn decode<E: DeserializeOwned>(event_type: &str, payload: &serde_json::Value) -> Option<E> {
    // The payload is read where it lies, not copied into a tagged object first: replaying the
    // log decodes every record.
    let tag = serde_json::Value::String(event_type.to_owned());
    let fields = [("type", &tag), ("payload", payload)];
    E::deserialize(MapDeserializer::<_, serde_json::Error>::new(
        fields.into_iter(),
    ))
    .ok()
}

/// Folds events into a state.
pub fn fold<A: Aggregate>(events: &[A::Event]) -> A {
    events
        .iter()
        .fold(A::default(), |state, event| state.evolve(event))
}

/// Shorthand for a refusal.
pub(crate) fn refuse<T>(code: &'static str, reason: impl Into<String>) -> Result<T, DomainError> {
    Err(DomainError::new(code, reason))
}
