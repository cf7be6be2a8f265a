//! Conveyor's HTTP API: routes, wire types, JWT authorisation, problem+json errors, OpenAPI.
//!
//! Only this crate knows HTTP, the JSON shapes of the wire and JWT; it converts to and from
//! the engine's types by hand.

pub mod agent;
pub mod auth;
pub mod blobs;
pub mod cli;
pub mod config;
pub mod console;
pub mod error;
pub mod hooks;
pub mod idempotency;
pub mod logs;
pub mod metrics;
pub mod openapi;
pub mod retention;
pub mod routes;
pub mod secrets;
pub mod server;
pub mod status_out;
pub mod subscriptions;
pub mod wire;
