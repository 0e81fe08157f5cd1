//! conversation-gateway: one normalized HTTP API over several conversation vendors.

pub mod sandbox;
