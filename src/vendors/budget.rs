//! The bytes of vendor answers the gateway holds: a size limit per answer, and one
//! byte-weighted semaphore every source shares, so concurrent answers never add up past it.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};
use tokio::time::Instant;

use crate::metrics;

/// Default largest vendor API answer read (one JSON page).
pub const DEFAULT_MAX_VENDOR_BODY_BYTES: usize = 8 * 1024 * 1024;
/// Default largest file a vendor points to that is downloaded (a Megaview transcript).
pub const DEFAULT_MAX_TRANSCRIPT_BYTES: usize = 32 * 1024 * 1024;
/// Default bytes of vendor answers and files held at once, across every source.
pub const DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT: usize = 64 * 1024 * 1024;

/// Bytes reserved at first for an answer that does not declare its length; it grows by
/// doubling as the body streams in, up to the answer's limit.
const UNSIZED_FIRST_RESERVATION: usize = 256 * 1024;

/// How large vendor answers may be, one by one and all together. Cheap to clone; clones
/// share the in-flight budget.
#[derive(Debug, Clone)]
pub struct BodyLimits {
    /// Largest answer of a vendor's API read.
    pub max_answer: usize,
    /// Largest file a vendor points to that is downloaded (a Megaview transcript).
    pub max_file: usize,
    /// The bytes of every answer and file held at once.
    pub budget: BodyBudget,
}

impl BodyLimits {
    /// These limits (`[server]`'s `max_vendor_body_bytes`, `max_transcript_bytes` and
    /// `max_vendor_bytes_in_flight`), with a fresh budget.
    pub fn new(max_answer: usize, max_file: usize, max_in_flight: usize) -> Self {
        Self {
            max_answer,
            max_file,
            budget: BodyBudget::new(max_in_flight),
        }
    }
}

impl Default for BodyLimits {
    fn default() -> Self {
        Self::new(
            DEFAULT_MAX_VENDOR_BODY_BYTES,
            DEFAULT_MAX_TRANSCRIPT_BYTES,
            DEFAULT_MAX_VENDOR_BYTES_IN_FLIGHT,
        )
    }
}

/// A byte-weighted semaphore over the bytes of vendor answers in flight: one permit is one
/// byte of a body read or being read and not yet dropped.
#[derive(Debug, Clone)]
pub struct BodyBudget {
    inner: Arc<BudgetInner>,
}

#[derive(Debug)]
struct BudgetInner {
    semaphore: Arc<Semaphore>,
    total: usize,
    peak: AtomicUsize,
    waits: AtomicU64,
}

/// The budget had no room within the call's time.
#[derive(Debug)]
pub(crate) struct Exhausted;

impl BodyBudget {
    /// A budget of `total` bytes.
    pub fn new(total: usize) -> Self {
        let total = total.min(Semaphore::MAX_PERMITS);
        Self {
            inner: Arc::new(BudgetInner {
                semaphore: Arc::new(Semaphore::new(total)),
                total,
                peak: AtomicUsize::new(0),
                waits: AtomicU64::new(0),
            }),
        }
    }

    /// The whole budget in bytes.
    pub fn total(&self) -> usize {
        self.inner.total
    }

    /// Bytes reserved now (including bytes set aside for a reservation still waiting).
    pub fn in_use(&self) -> usize {
        self.inner.total - self.inner.semaphore.available_permits()
    }

    /// The most bytes ever reserved at once.
    pub fn peak(&self) -> usize {
        self.inner.peak.load(Ordering::Relaxed)
    }

    /// How many reservations found no room at once and had to wait.
    pub fn waits(&self) -> u64 {
        self.inner.waits.load(Ordering::Relaxed)
    }

    fn note_use(&self) {
        let in_use = self.in_use();
        self.inner.peak.fetch_max(in_use, Ordering::Relaxed);
        metrics::vendor_bytes_in_flight(in_use);
    }

    /// Takes `bytes` permits, waiting for them until `until` at the latest.
    async fn acquire(
        &self,
        bytes: usize,
        until: Instant,
    ) -> Result<OwnedSemaphorePermit, Exhausted> {
        // More than the whole budget could never be granted: refuse rather than wait.
        if bytes > self.inner.total {
            return Err(Exhausted);
        }
        let count = u32::try_from(bytes).map_err(|_| Exhausted)?;
        let semaphore = Arc::clone(&self.inner.semaphore);
        let permit = match Arc::clone(&semaphore).try_acquire_many_owned(count) {
            Ok(permit) => permit,
            Err(TryAcquireError::NoPermits) => {
                self.inner.waits.fetch_add(1, Ordering::Relaxed);
                tokio::time::timeout_at(until, semaphore.acquire_many_owned(count))
                    .await
                    .map_err(|_| Exhausted)?
                    .map_err(|_| Exhausted)?
            }
            Err(TryAcquireError::Closed) => return Err(Exhausted),
        };
        self.note_use();
        Ok(permit)
    }

    /// Reserves `bytes`, waiting until `until` at the latest.
    pub(crate) async fn reserve(
        &self,
        bytes: usize,
        until: Instant,
    ) -> Result<Reservation, Exhausted> {
        let permit = self.acquire(bytes, until).await?;
        Ok(Reservation {
            permit: Some(permit),
            budget: self.clone(),
        })
    }
}

/// Bytes of the in-flight budget held for one answer; given back when dropped.
#[derive(Debug)]
pub struct Reservation {
    permit: Option<OwnedSemaphorePermit>,
    budget: BodyBudget,
}

impl Reservation {
    /// How many bytes this holds.
    pub fn bytes(&self) -> usize {
        self.permit
            .as_ref()
            .map_or(0, OwnedSemaphorePermit::num_permits)
    }

    async fn grow(&mut self, more: usize, until: Instant) -> Result<(), Exhausted> {
        let extra = self.budget.acquire(more, until).await?;
        match &mut self.permit {
            Some(permit) => permit.merge(extra),
            None => self.permit = Some(extra),
        }
        Ok(())
    }

    fn shrink_to(&mut self, bytes: usize) {
        let surplus = self.bytes().saturating_sub(bytes);
        if surplus > 0 {
            drop(
                self.permit
                    .as_mut()
                    .and_then(|permit| permit.split(surplus)),
            );
            metrics::vendor_bytes_in_flight(self.budget.in_use());
        }
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            drop(permit);
            metrics::vendor_bytes_in_flight(self.budget.in_use());
        }
    }
}

/// Why a body was not read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// It is larger than its limit (declared so, or found so while streaming).
    TooLarge,
    /// The in-flight budget had no room for it within the call's time.
    Exhausted,
    /// Reading failed.
    Read(reqwest::Error),
}

/// Reads `response`'s body whole, at most `limit` bytes, holding its bytes in `budget`:
/// a declared length is reserved before reading, an undeclared one grows the reservation
/// as it streams. Waits for room only until `until`. The reservation is returned with the
/// body and frees its bytes when dropped.
pub(crate) async fn read_body(
    response: &mut reqwest::Response,
    limit: usize,
    budget: &BodyBudget,
    until: Instant,
) -> Result<(Bytes, Reservation), BodyError> {
    let declared = response.content_length();
    let first = match declared {
        Some(length) => usize::try_from(length)
            .ok()
            .filter(|length| *length <= limit)
            .ok_or(BodyError::TooLarge)?,
        None => UNSIZED_FIRST_RESERVATION.min(limit),
    };
    let mut reservation = budget
        .reserve(first, until)
        .await
        .map_err(|Exhausted| BodyError::Exhausted)?;
    // The buffer never holds more than is reserved, so the budget is the memory.
    let mut body = Vec::with_capacity(first);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Read)? {
        let needed = body.len() + chunk.len();
        if needed > limit {
            return Err(BodyError::TooLarge);
        }
        if needed > reservation.bytes() {
            let target = needed.max(reservation.bytes().saturating_mul(2)).min(limit);
            reservation
                .grow(target - reservation.bytes(), until)
                .await
                .map_err(|Exhausted| BodyError::Exhausted)?;
            body.reserve_exact(target - body.len());
        }
        body.extend_from_slice(&chunk);
    }
    body.shrink_to_fit();
    reservation.shrink_to(body.len());
    Ok((Bytes::from(body), reservation))
}
