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
    Deserializer, Serialize,
    de::{
        DeserializeOwned, DeserializeSeed, MapAccess, Visitor,
        value::{BorrowedStrDeserializer, MapDeserializer},
    },
    forward_to_deserialize_any,
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

/// [`decode`] straight from the payload's stored JSON text: replaying the log decodes every
/// record, and this skips building a `serde_json::Value` for each.
pub fn decode_text<E: DeserializeOwned>(event_type: &str, payload_json: &str) -> Option<E> {
    E::deserialize(TaggedText {
        event_type,
        payload_json,
    })
    .ok()
}

/// The adjacently tagged object `{"type": event_type, "payload": <payload_json>}`, as a
/// deserializer, without writing it out: the tag is given, the payload is parsed in place.
struct TaggedText<'a> {
    event_type: &'a str,
    payload_json: &'a str,
}

impl<'de> Deserializer<'de> for TaggedText<'de> {
    type Error = serde_json::Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Self::Error> {
        visitor.visit_map(TaggedFields {
            text: self,
            next: 0,
        })
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct enum
        identifier ignored_any
    }
}

/// The two entries of [`TaggedText`], tag first (so the payload is decoded as its variant
/// directly, never buffered).
struct TaggedFields<'a> {
    text: TaggedText<'a>,
    next: u8,
}

impl<'a> MapAccess<'a> for TaggedFields<'a> {
    type Error = serde_json::Error;

    fn next_key_seed<K: DeserializeSeed<'a>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Self::Error> {
        let key = match self.next {
            0 => "type",
            1 => "payload",
            _ => return Ok(None),
        };
        seed.deserialize(BorrowedStrDeserializer::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'a>>(
        &mut self,
        seed: V,
    ) -> Result<V::Value, Self::Error> {
        self.next += 1;
        if self.next == 1 {
            return seed.deserialize(BorrowedStrDeserializer::new(self.text.event_type));
        }
        let mut payload = serde_json::Deserializer::from_str(self.text.payload_json);
        let value = seed.deserialize(&mut payload)?;
        payload.end()?;
        Ok(value)
    }

    fn size_hint(&self) -> Option<usize> {
        Some(2usize.saturating_sub(self.next.into()))
    }
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
