//! A walk across pages: the position its page token carries, the sources that failed
//! earlier in it and the window of theirs it did not deliver, and the verdict when every
//! asked source failed. Handlers only seal, open and map what this decides.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{ConversationsPage, SourceOutcome, SourceReport};
use crate::domain::{Conversation, SortKey, SourceName, VendorKind};
use crate::vendors::{FailureKind, VendorAdapter, VendorError};

/// Where the next page of a walk starts, carried signed in its page token: positions only,
/// never data or secrets.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Position {
    /// Fingerprint of the filters.
    q: String,
    /// Window start, ms.
    s: i64,
    /// Window end, ms.
    u: i64,
    /// Sort time of the last item returned, ms (absent: it had none).
    t: Option<i64>,
    /// Id of the last item returned.
    i: String,
    /// Sources that failed earlier in this walk, left out of the rest of it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    x: Vec<DroppedSource>,
}

/// A source that failed during a walk.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DroppedSource {
    /// Source name.
    n: String,
    /// The code it failed with.
    c: String,
    /// Sort time (ms) of the boundary it failed after; absent: nothing of it was delivered
    /// by time (first page, or the untimed tail).
    t: Option<i64>,
}

/// Why a page token cannot continue a walk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResumeError {
    /// It was issued for other filters.
    Foreign,
    /// Its window is not a time.
    Invalid,
}

/// A window of one source that a walk did not deliver.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MissingWindow {
    /// Start (inclusive).
    pub since: DateTime<Utc>,
    /// End (exclusive).
    pub until: DateTime<Utc>,
}

/// How one source fared on a page of a walk.
#[derive(Debug, Clone)]
pub enum SourceStatus {
    /// It answered.
    Ok,
    /// It was not asked, for this reason (a filter it cannot apply exactly, say).
    Skipped(String),
    /// It failed on this page; `missing` is what the walk will not deliver from it.
    Failed {
        error: VendorError,
        missing: Option<MissingWindow>,
    },
    /// It failed on an earlier page (with this code) and was left out since.
    FailedEarlier {
        code: String,
        missing: MissingWindow,
    },
}

/// One source's status, named.
#[derive(Debug, Clone)]
pub struct SourceState {
    /// The source.
    pub source: SourceName,
    /// Its vendor.
    pub vendor: VendorKind,
    /// How it fared.
    pub status: SourceStatus,
}

/// A page of a walk, ready to answer with.
#[derive(Debug)]
pub struct WalkPage {
    /// The page's conversations, in list order.
    pub items: Vec<Arc<Conversation>>,
    /// Where the next page starts (`None`: this was the last one).
    pub next: Option<Position>,
    /// Every source of the walk, by name.
    pub sources: Vec<SourceState>,
}

/// Why no asked source answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// All were rate limited; the soonest may be retried after this long.
    RateLimited { retry_after: Duration },
    /// All timed out.
    TimedOut,
    /// All were held back by the gateway's own limits (reads at once, answer memory).
    Busy,
    /// All failed, for mixed or other reasons.
    Failed,
}

/// Every asked source failed: the page has nothing to serve.
#[derive(Debug)]
pub struct AllFailed {
    /// Why.
    pub verdict: Verdict,
    /// Every asked source, as it fared.
    pub sources: Vec<SourceState>,
}

/// A walk over the merged list: started fresh or resumed from a page token's position.
#[derive(Debug)]
pub struct Walk {
    binding: String,
    window: (DateTime<Utc>, DateTime<Utc>),
    after: Option<SortKey>,
    dropped: Vec<DroppedSource>,
}

impl Walk {
    /// A first page over `window`, for the filters `binding` fingerprints.
    pub fn start(binding: String, window: (DateTime<Utc>, DateTime<Utc>)) -> Self {
        Self {
            binding,
            window,
            after: None,
            dropped: Vec::new(),
        }
    }

    /// The page after `position`, which must have been issued for the same filters.
    pub fn resume(position: Position, binding: &str) -> Result<Self, ResumeError> {
        if position.q != binding {
            return Err(ResumeError::Foreign);
        }
        let at = |ms| DateTime::from_timestamp_millis(ms).ok_or(ResumeError::Invalid);
        Ok(Self {
            window: (at(position.s)?, at(position.u)?),
            after: Some(SortKey {
                time_ms: position.t,
                id: position.i,
            }),
            dropped: position.x,
            binding: position.q,
        })
    }

    /// The walk's window.
    pub fn window(&self) -> (DateTime<Utc>, DateTime<Utc>) {
        self.window
    }

    /// The last item served (`None` on the first page).
    pub fn after(&self) -> Option<&SortKey> {
        self.after.as_ref()
    }

    /// The sources still in the walk: those that did not fail on an earlier page.
    pub fn active(&self, sources: &[Arc<dyn VendorAdapter>]) -> Vec<Arc<dyn VendorAdapter>> {
        sources
            .iter()
            .filter(|adapter| !self.is_dropped(adapter.source()))
            .cloned()
            .collect()
    }

    /// What a page read from the active sources means for the walk: the page, every
    /// source's status and where the next page starts; or, when no asked source answered
    /// and at least one failed, the verdict.
    pub fn advance(
        mut self,
        sources: &[Arc<dyn VendorAdapter>],
        page: ConversationsPage,
    ) -> Result<WalkPage, AllFailed> {
        if let Some(verdict) = verdict(&page.reports) {
            return Err(AllFailed {
                verdict,
                sources: page
                    .reports
                    .iter()
                    .map(|report| state(report, None))
                    .collect(),
            });
        }
        let boundary = self.after.as_ref().and_then(|after| after.time_ms);
        let mut states = Vec::with_capacity(sources.len());
        for report in &page.reports {
            let missing = match &report.outcome {
                SourceOutcome::Failed(err) => {
                    let gone = DroppedSource {
                        n: report.source.to_string(),
                        c: err.code().as_str().to_owned(),
                        t: boundary,
                    };
                    let missing = gone.missing(self.window);
                    self.dropped.push(gone);
                    Some(missing)
                }
                _ => None,
            };
            states.push(state(report, missing));
        }
        for adapter in sources {
            if states.iter().any(|s| s.source == *adapter.source()) {
                continue;
            }
            if let Some(gone) = self
                .dropped
                .iter()
                .find(|d| d.n == adapter.source().as_str())
            {
                states.push(SourceState {
                    source: adapter.source().clone(),
                    vendor: adapter.vendor(),
                    status: SourceStatus::FailedEarlier {
                        code: gone.c.clone(),
                        missing: gone.missing(self.window),
                    },
                });
            }
        }
        states.sort_by(|a, b| a.source.cmp(&b.source));

        let next = page
            .has_more
            .then(|| page.items.last())
            .flatten()
            .map(|last| {
                let key = last.sort_key();
                Position {
                    q: self.binding.clone(),
                    s: self.window.0.timestamp_millis(),
                    u: self.window.1.timestamp_millis(),
                    t: key.time_ms,
                    i: key.id,
                    x: self.dropped.clone(),
                }
            });
        Ok(WalkPage {
            items: page.items,
            next,
            sources: states,
        })
    }

    fn is_dropped(&self, source: &SourceName) -> bool {
        self.dropped.iter().any(|d| d.n == source.as_str())
    }
}

impl DroppedSource {
    /// The window of this source the walk did not deliver.
    fn missing(&self, window: (DateTime<Utc>, DateTime<Utc>)) -> MissingWindow {
        let until = self
            .t
            .and_then(|t| DateTime::from_timestamp_millis(t.saturating_add(1)))
            .map_or(window.1, |after| after.min(window.1));
        MissingWindow {
            since: window.0,
            until,
        }
    }
}

fn state(report: &SourceReport, missing: Option<MissingWindow>) -> SourceState {
    SourceState {
        source: report.source.clone(),
        vendor: report.vendor,
        status: match &report.outcome {
            SourceOutcome::Ok => SourceStatus::Ok,
            SourceOutcome::Skipped(reason) => SourceStatus::Skipped(reason.clone()),
            SourceOutcome::Failed(error) => SourceStatus::Failed {
                error: error.clone(),
                missing,
            },
        },
    }
}

/// The verdict when no asked source answered and at least one failed.
fn verdict(reports: &[SourceReport]) -> Option<Verdict> {
    if reports
        .iter()
        .any(|r| matches!(r.outcome, SourceOutcome::Ok))
    {
        return None;
    }
    let failures: Vec<&VendorError> = reports
        .iter()
        .filter_map(|r| match &r.outcome {
            SourceOutcome::Failed(err) => Some(err),
            _ => None,
        })
        .collect();
    if failures.is_empty() {
        return None;
    }
    Some(if failures.iter().all(|err| err.is_rate_limit()) {
        let soonest = failures.iter().filter_map(|err| err.retry_after()).min();
        Verdict::RateLimited {
            retry_after: soonest.unwrap_or(Duration::from_secs(1)),
        }
    } else if failures
        .iter()
        .all(|err| err.kind() == FailureKind::TimedOut)
    {
        Verdict::TimedOut
    } else if failures.iter().all(|err| err.kind() == FailureKind::Busy) {
        Verdict::Busy
    } else {
        Verdict::Failed
    })
}
