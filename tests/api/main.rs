//! End-to-end tests: the real gateway over real HTTP, in front of the built-in vendor
//! simulators (or wiremock where a test needs an upstream to misbehave exactly).
#![allow(clippy::unwrap_used)]

mod cli;
mod client;
mod conversations;
mod disconnect;
mod docs;
mod edge;
mod errors;
mod helpers;
mod messages;
mod node;
mod openapi;
mod ops;
mod paging;
mod quotas;
mod secrets;
mod sources;
mod telemetry;
mod upstream_limits;
