//! conversation-gateway: one normalized HTTP API over the conversation records of several
//! vendors (Megaview, GPTBots, Udesk KM, Jijyun).
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod config;
pub mod domain;
pub mod ratelimit;
pub mod vendors;
