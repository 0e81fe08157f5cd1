//! Deterministic dataset behind the simulators: compact headers at start, messages on request.
//!
//! Each conversation draws from its own generators, keyed by the seed, the vendor, its generation
//! index and a purpose (header, shape, text, order), so any part of it comes out the same alone,
//! again, or in any order. At start only the header draws run, plus, where a list item summarises
//! the messages (Megaview, Udesk), the shape draws that summary needs, which allocate no text;
//! the text draws run only when a request needs them. Wire structs are built per answer.

//!
//! This module holds what every vendor's dataset shares: the generator keys and streams, the
//! history window and the small drawing functions. Each vendor's records and generator live in
//! `<vendor>/data.rs`.

use chrono::{DateTime, TimeDelta, Utc};
use chrono_tz::Tz;
use rand::seq::IndexedRandom;
use rand::{Rng, RngCore};
use serde::{Serialize, Serializer};

use crate::gptbots::data::{GptbotsData, gptbots};
use crate::jijyun::data::{JijyunData, jijyun};
use crate::megaview::data::{MegaviewData, megaview};
use crate::udesk::data::{UdeskData, udesk};
use crate::{RecordSummary, SandboxConfig, SimVendor};

/// Every vendor's conversations.
pub(super) struct Dataset {
    pub(super) megaview: MegaviewData,
    pub(super) gptbots: GptbotsData,
    pub(super) udesk: UdeskData,
    pub(super) jijyun: JijyunData,
}

impl Dataset {
    pub(super) fn generate(config: &SandboxConfig) -> Self {
        let window = Window::new(config);
        // Indexes are u32 to keep headers small; far beyond any supported size.
        let n = u32::try_from(config.conversations_per_vendor).unwrap_or(u32::MAX);
        let window = &window;
        // The vendors share nothing, so they are generated side by side.
        std::thread::scope(|scope| {
            let megaview = scope.spawn(move || megaview(config, window, n));
            let gptbots = scope.spawn(move || gptbots(config, window, n));
            let udesk = scope.spawn(move || udesk(config, window, n));
            let jijyun = jijyun(config, window, n);
            Self {
                megaview: joined(megaview.join()),
                gptbots: joined(gptbots.join()),
                udesk: joined(udesk.join()),
                jijyun,
            }
        })
    }

    pub(super) fn records(&self, vendor: SimVendor) -> Vec<RecordSummary> {
        match vendor {
            SimVendor::Megaview => self.megaview.records(),
            SimVendor::Gptbots => self.gptbots.records(),
            SimVendor::Udesk => self.udesk.records(),
            SimVendor::Jijyun => self.jijyun.records(),
        }
    }
}

/// A CRM customer id every simulated vendor knows (synced across systems), so one
/// `customer_id` filter finds conversations from all four.
pub const SHARED_CUSTOMER_ID: i64 = 88_001_234;

/// The value of a finished generator thread; its panic, if any, goes on in this thread.
fn joined<T>(result: std::thread::Result<T>) -> T {
    result.unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

// ---------------------------------------------------------------------------------------------
// Generators

/// What a generator of one conversation is for; each purpose is an independent stream.
#[derive(Clone, Copy)]
pub(super) enum Purpose {
    /// Vendor-wide values (customers, bot id), drawn once.
    Vendor = 1,
    /// Everything a list filters, sorts or shows without the messages.
    Head = 2,
    /// What a list item's message summary is computed from: kinds, speakers, timings (for
    /// Megaview the whole transcript, whose text is borrowed from the pools).
    Shape = 3,
    /// The messages' text, ids and attachments.
    Text = 4,
    /// The key of the arbitrary list order.
    Order = 5,
}

/// One vendor's generator keys: everything a stream needs besides the index and purpose.
#[derive(Clone, Copy, Debug)]
pub(super) struct Keys {
    base: u64,
}

impl Keys {
    pub(super) fn new(seed: u64, vendor_salt: u64) -> Self {
        Self {
            base: mix(mix(seed) ^ vendor_salt),
        }
    }

    pub(super) fn stream(self, index: u32, purpose: Purpose) -> Stream {
        Stream(mix(mix(self.base ^ u64::from(index)) ^ purpose as u64))
    }

    /// The key conversation `index` sorts by when lists are in arbitrary order.
    pub(super) fn order(self, index: u32) -> u64 {
        self.stream(index, Purpose::Order).next_u64()
    }
}

/// SplitMix64: small, fast even unoptimised, and well mixed enough for made-up data.
#[derive(Debug)]
pub(super) struct Stream(u64);

impl RngCore for Stream {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        for chunk in dst.chunks_mut(8) {
            let bytes = self.next_u64().to_le_bytes();
            chunk.copy_from_slice(&bytes[..chunk.len()]);
        }
    }
}

/// SplitMix64's finaliser.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A time the vendor sends as naive text in the configured zone; formatted only when serialised.
#[derive(Clone, Copy, Debug)]
pub(super) struct Local {
    at: DateTime<Utc>,
    tz: Tz,
    format: &'static str,
}

impl Local {
    pub(super) fn new(tz: Tz, at: DateTime<Utc>, format: &'static str) -> Self {
        Self { at, tz, format }
    }
}

impl Serialize for Local {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(&self.at.with_timezone(&self.tz).format(self.format))
    }
}

pub(super) const SECONDS: &str = "%Y-%m-%d %H:%M:%S";

// ---------------------------------------------------------------------------------------------
// Shared generation helpers

/// The history window `[anchor - history_days, anchor)`.
pub(super) struct Window {
    start: DateTime<Utc>,
    span_ms: i64,
}

impl Window {
    fn new(config: &SandboxConfig) -> Self {
        // A century is more history than any test needs and keeps the arithmetic in range.
        let span = TimeDelta::days(i64::from(config.history_days.min(36_500)));
        Self {
            start: config.anchor - span,
            span_ms: span.num_milliseconds(),
        }
    }

    /// A whole second in `[start, anchor - margin)`, so records that last up to `margin` still
    /// end before the anchor.
    pub(super) fn instant(&self, rng: &mut Stream, margin: TimeDelta) -> DateTime<Utc> {
        let usable_s = ((self.span_ms - margin.num_milliseconds()) / 1000).max(1);
        self.start + TimeDelta::seconds(rng.random_range(0..usable_s))
    }

    /// Milliseconds since the epoch in `[start, anchor)`.
    pub(super) fn instant_ms(&self, rng: &mut Stream) -> i64 {
        self.start.timestamp_millis() + rng.random_range(0..self.span_ms.max(1))
    }
}

/// Messages of conversation `index`: mostly short, some long, every 25th over 100.
pub(super) fn message_count(rng: &mut Stream, index: u32) -> usize {
    if index % 25 == 3 {
        return rng.random_range(101..=150);
    }
    match rng.random_range(0..100) {
        0..=5 => 1,
        6..=55 => rng.random_range(2..=12),
        _ => rng.random_range(13..=60),
    }
}

/// A position in a constant table of at most 256 entries.
pub(super) fn small_index(rng: &mut Stream, len: usize) -> u8 {
    rng.random_range(0..len.clamp(1, 256)) as u8
}

fn pick<'a, T>(rng: &mut Stream, items: &'a [T]) -> &'a T {
    // Every pool is a non-empty constant or a non-empty generated list.
    items.choose(rng).unwrap_or(&items[0])
}

pub(super) fn line(rng: &mut Stream, items: &[&'static str]) -> &'static str {
    pick::<&'static str>(rng, items)
}

pub(super) fn weighted(rng: &mut Stream, items: &[(&'static str, u32)]) -> &'static str {
    let total: u32 = items.iter().map(|(_, w)| w).sum();
    let mut roll = rng.random_range(0..total.max(1));
    for (item, weight) in items {
        if roll < *weight {
            return item;
        }
        roll -= weight;
    }
    items[0].0
}

pub(super) fn hex_id(rng: &mut Stream, bytes: usize) -> String {
    let raw: Vec<u8> = (0..bytes).map(|_| rng.random()).collect();
    hex::encode(raw)
}

pub(super) fn base62_id(rng: &mut Stream, len: usize) -> String {
    const ALPHABET: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    (0..len)
        .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
        .collect()
}

pub(super) fn uuid_from(rng: &mut Stream) -> uuid::Uuid {
    uuid::Builder::from_random_bytes(rng.random()).into_uuid()
}

pub(super) fn round2(value: f64) -> f64 {
    (value * 100.0).round() / 100.0
}

pub(super) fn round3(value: f64) -> f64 {
    (value * 1000.0).round() / 1000.0
}
