//! conversation-gateway: one normalized HTTP API over the conversation records of several
//! vendors (Megaview, GPTBots, Udesk KM, Jijyun).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod aggregate;
pub mod api;
pub mod app;
pub mod auth;
pub mod cli;
pub mod config;
pub mod cursor;
pub mod demo;
pub mod domain;
pub mod guard;
pub mod metrics;
pub mod ratelimit;
/// The vendor simulators (their own crate, which shares no code with `vendors`), under the
/// name the command line, demo mode, tests and benchmarks use.
pub use conversation_gateway_simulators as sandbox;
pub mod server;
pub mod state;
pub mod telemetry;
pub mod vendors;

#[cfg(test)]
mod layering;
