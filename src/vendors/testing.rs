//! What every adapter's tests share: a source at a test vendor, a one-attempt upstream and
//! a call context.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::time::Duration;

use super::resilience::ResiliencePolicy;
use super::{BodyLimits, CallContext, SourceConfig, Transport, Upstream, VendorSettings};
use crate::ratelimit::{RateLimit, SourceLimiter};

/// Source `name` of `vendor` at `base_url`, waiting `timeout` per call, its quota out of
/// the way.
pub(crate) fn source(
    name: &str,
    base_url: &str,
    timeout: Duration,
    vendor: VendorSettings,
) -> SourceConfig {
    SourceConfig {
        name: name.parse().unwrap(),
        base_url: base_url.parse().unwrap(),
        timeout,
        timezone: chrono_tz::Asia::Shanghai,
        rate_limit: RateLimit {
            per_second: 1000.try_into().unwrap(),
            burst: 1000.try_into().unwrap(),
        },
        max_concurrent_reads: crate::vendors::reads::DEFAULT_MAX_CONCURRENT_READS,
        max_items_per_read: crate::vendors::reads::DEFAULT_MAX_ITEMS_PER_READ,
        vendor,
    }
}

/// How `source` reaches its vendor, one attempt per call, so each test sees each answer.
pub(crate) fn upstream(source: &SourceConfig) -> Upstream {
    Upstream::new(
        source.name.clone(),
        &Transport::new(BodyLimits::default()).unwrap(),
        Arc::new(SourceLimiter::new(source.rate_limit)),
        source.timeout,
    )
    .with_policy(&ResiliencePolicy::single_attempt())
}

/// A request's context with a budget far past any test's.
pub(crate) fn ctx() -> CallContext {
    CallContext::with_budget(Duration::from_secs(10))
}
