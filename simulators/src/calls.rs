//! The call log: every request that reached a simulator route, in arrival order, with the
//! status it was answered with. It records; it decides nothing.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::time::Instant;

use crate::{SimVendor, lock};

/// One request that reached a simulator route.
#[derive(Clone, Debug)]
pub struct RecordedCall {
    /// The vendor whose simulator got it.
    pub vendor: SimVendor,
    /// Short stable label of the route, e.g. `"list"`, `"asr_file"`, `"logs"`.
    pub endpoint: &'static str,
    /// Arrival time.
    pub at: Instant,
    /// HTTP status answered; 0 while unanswered or when the client went away first.
    pub status: u16,
    /// The W3C `traceparent` header the caller sent, if any.
    pub traceparent: Option<String>,
}

/// The calls recorded since the last reset.
#[derive(Default)]
pub(crate) struct CallLog {
    calls: Mutex<Vec<Slot>>,
    call_seq: AtomicU64,
}

impl CallLog {
    /// Records a new call; returns its sequence number and arrival time.
    pub(crate) fn record_arrival(
        &self,
        vendor: SimVendor,
        endpoint: &'static str,
        traceparent: Option<String>,
    ) -> (u64, Instant) {
        // The clock is read under the lock so the list order and `at` never disagree.
        let mut calls = lock(&self.calls);
        let at = Instant::now();
        let seq = self.call_seq.fetch_add(1, Ordering::Relaxed);
        calls.push(Slot {
            seq,
            call: RecordedCall {
                vendor,
                endpoint,
                at,
                status: 0,
                traceparent,
            },
        });
        (seq, at)
    }

    pub(crate) fn record_status(&self, seq: u64, status: u16) {
        let mut calls = lock(&self.calls);
        // The answered call is almost always among the last few.
        if let Some(slot) = calls.iter_mut().rev().find(|slot| slot.seq == seq) {
            slot.call.status = status;
        }
    }

    /// Every recorded call, in arrival order.
    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        lock(&self.calls)
            .iter()
            .map(|slot| slot.call.clone())
            .collect()
    }

    /// Forgets the recorded calls.
    pub(crate) fn clear(&self) {
        lock(&self.calls).clear();
    }
}

struct Slot {
    seq: u64,
    call: RecordedCall,
}
