//! Subscription: an external endpoint that receives the log's events as signed webhooks, in
//! log order, at least once.

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Aggregate, refuse};
use crate::error::DomainError;

/// Everything a subscription is defined by. The secret is sealed by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SubscriptionSpec {
    /// Its id.
    pub id: Uuid,
    /// Where events are POSTed.
    pub url: String,
    /// Only these event types (any of them); empty means every type.
    pub event_types: Vec<String>,
    /// The HMAC-SHA256 signing secret (sealed).
    pub secret: String,
}

impl SubscriptionSpec {
    /// Whether an event of `event_type` goes to this subscription.
    pub fn wants(&self, event_type: &str) -> bool {
        self.event_types.is_empty() || self.event_types.iter().any(|t| t == event_type)
    }
}

/// Events of `subscription-<uuid>`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SubscriptionEvent {
    /// The subscription was created; the events after this one are delivered.
    SubscriptionCreated {
        /// Its definition.
        spec: SubscriptionSpec,
    },
    /// Someone asked to deliver history again from a position.
    SubscriptionReplayRequested {
        /// The first position delivered again.
        from: u64,
    },
}

/// A subscription as its stream says.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SubscriptionState {
    /// None until created.
    pub spec: Option<SubscriptionSpec>,
}

impl Aggregate for SubscriptionState {
    type Event = SubscriptionEvent;

    fn evolve(mut self, event: &SubscriptionEvent) -> Self {
        match event {
            SubscriptionEvent::SubscriptionCreated { spec } => self.spec = Some(spec.clone()),
            SubscriptionEvent::SubscriptionReplayRequested { .. } => {}
        }
        self
    }
}

impl SubscriptionState {
    /// Creates the subscription.
    pub fn decide_create(
        &self,
        spec: SubscriptionSpec,
    ) -> Result<Vec<SubscriptionEvent>, DomainError> {
        if self.spec.is_some() {
            return refuse("subscription-exists", "the subscription already exists");
        }
        if !(spec.url.starts_with("http://") || spec.url.starts_with("https://")) {
            return refuse("invalid-subscription", "url must be an http(s) URL");
        }
        Ok(vec![SubscriptionEvent::SubscriptionCreated { spec }])
    }

    /// Asks for history to be delivered again from `from`.
    pub fn decide_replay(&self, from: u64) -> Result<Vec<SubscriptionEvent>, DomainError> {
        if self.spec.is_none() {
            return refuse("subscription-missing", "the subscription does not exist");
        }
        if from == 0 {
            return refuse("invalid-subscription", "from is a position, 1 or more");
        }
        Ok(vec![SubscriptionEvent::SubscriptionReplayRequested {
            from,
        }])
    }
}
