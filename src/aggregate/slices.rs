//! Time slices of a source's window, sized from what the vendor says (its totals) and
//! what was read, so a page costs about a vendor page rather than the whole window.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::vendors::{ConversationQuery, Slicing};

/// Vendor pages the first slice of a walk aims at: the first page should cost one call.
const FIRST_SLICE_PAGES: usize = 1;
/// Vendor pages later slices aim at: each slice keeps a margin below its pages' capacity,
/// and wider slices waste less of it (about 12% at three pages, 20% at one).
const WALK_SLICE_PAGES: usize = 3;
/// Vendor pages a first read of a source (nothing known of its density) may take before
/// it is split instead: at most the calls a first page should cost.
const PROBE_PAGES: usize = 3;
/// How full (of its pages' capacity) a slice may be expected to be when it takes in the
/// rest of the window.
const TAIL_FILL: f64 = 0.9;
/// Most vendor pages a walk's slice that takes in the rest of the window aims at.
const MAX_TAIL_PAGES: usize = 5;
/// Vendors filter by whole seconds: no slice is narrower.
const MIN_WIDTH_MS: i64 = 1_000;
/// Each new estimate of a source's density is at most this many times the last one, so one
/// odd slice cannot send the next one far off.
const MAX_DENSITY_CHANGE: f64 = 4.0;
/// How many times what was read a too-full slice is guessed to hold when the vendor gives
/// no believable total.
const UNKNOWN_TOTAL_FACTOR: usize = 4;
/// A slice cut from the sample holding this many times more or fewer conversations than
/// it should shows the sample misleads (a true sample rarely misses by so much).
const MISLEADING: f64 = 4.0;
/// Slices read at once for one page, when the page needs more than one.
const MAX_PARALLEL_SLICES: usize = 3;
/// Slices one plan remembers; beyond it the plan starts over (its slices stay cached).
const MAX_PLANNED_SLICES: usize = 4_096;

/// A half-open time range `[since, until)` in epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(super) struct Span {
    pub(super) since: i64,
    pub(super) until: i64,
}

impl Span {
    /// The window of a query.
    pub(super) fn of(query: &ConversationQuery) -> Self {
        Self {
            since: query.since.timestamp_millis(),
            until: query.until.timestamp_millis(),
        }
    }

    fn width(self) -> i64 {
        self.until - self.since
    }

    /// Whether reading it in two halves is possible at the vendors' resolution.
    pub(super) fn splittable(self) -> bool {
        self.width() > MIN_WIDTH_MS
    }

    /// `query` narrowed to this span.
    pub(super) fn query(self, query: &ConversationQuery) -> ConversationQuery {
        let at = |ms| DateTime::<Utc>::from_timestamp_millis(ms).unwrap_or(query.since);
        ConversationQuery {
            since: at(self.since),
            until: at(self.until),
            ..query.clone()
        }
    }
}

/// A slice to read, and how many vendor pages it may take before it is split instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Planned {
    pub(super) span: Span,
    /// Most vendor pages to read; a vendor total saying more splits it after the first.
    pub(super) max_pages: usize,
    /// Nothing is known of the source yet: without a vendor total, a full first page
    /// splits it at once.
    pub(super) probe: bool,
}

/// What is known of how many conversations a source holds per unit of time, under one set
/// of filters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Density {
    per_ms: f64,
}

impl Density {
    /// What reading `span` whole taught: it held `items`.
    pub(super) fn after_complete(last: Option<Self>, span: Span, items: usize) -> Self {
        // An empty span says little more than "sparse": count it as one item.
        let seen = items.max(1) as f64 / span.width().max(1) as f64;
        Self::blend(last, seen)
    }

    /// What a span too full to read taught: the vendor says it holds `total`, or at least
    /// `read` were seen before giving up.
    pub(super) fn after_too_full(
        last: Option<Self>,
        span: Span,
        total: Option<u64>,
        read: usize,
        capacity: usize,
    ) -> Self {
        // A total below what was read is wrong. Without a believable one, guess well past
        // what was read: a slice that turns out sparse costs less than another split.
        let at_least = read + capacity;
        let items = match total {
            Some(total) if total >= at_least as u64 => total as f64,
            _ => (at_least * UNKNOWN_TOTAL_FACTOR) as f64,
        };
        let seen = items / span.width().max(1) as f64;
        // Too full is sure: never let the estimate fall below what made it too full.
        let blended = Self::blend(last, seen);
        Self {
            per_ms: blended.per_ms.max(seen),
        }
    }

    fn blend(last: Option<Self>, seen: f64) -> Self {
        let per_ms = match last {
            Some(last) => seen.clamp(
                last.per_ms / MAX_DENSITY_CHANGE,
                last.per_ms * MAX_DENSITY_CHANGE,
            ),
            None => seen,
        };
        Self { per_ms }
    }
}

/// Where the conversations of a too-full span lie: the times of those read from it, each
/// standing for an equal share of the vendor's total. Real sources are far from uniform
/// (nights, weekends), and this finds the busy hours where one density would not.
#[derive(Debug, Clone)]
struct Sample {
    span: Span,
    /// Conversations each sampled time stands for.
    per_point: f64,
    /// Sampled times inside the span, newest first.
    times: Vec<i64>,
}

impl Sample {
    /// Where a slice ending at `frontier` should start to hold about `target`
    /// conversations, and how many it is then expected to hold (more than `target` when
    /// one sampled time stands for more), or `None` when the sample cannot say.
    fn since_for(&self, frontier: i64, target: f64) -> Option<(i64, f64)> {
        if !(self.span.since < frontier && frontier <= self.span.until) {
            return None;
        }
        let below: Vec<i64> = self
            .times
            .iter()
            .copied()
            .filter(|t| *t < frontier)
            .collect();
        // Up to a sampled time, never between two: the conversations between sampled
        // times may all sit at one end (a night, then a busy morning).
        let points = (target / self.per_point).ceil().max(1.0) as usize;
        // Too few sampled times left to say: the density decides (and the sample never
        // proposes its whole span again).
        below
            .get(points - 1)
            .copied()
            .filter(|since| *since > self.span.since)
            .map(|since| (since, points as f64 * self.per_point))
    }
}

/// The slices a walk over one window has settled on: disjoint spans, kept so every page
/// of the walk reads the same (cached) slices.
#[derive(Debug, Default)]
pub(super) struct Plan {
    /// `since -> until` of every planned slice.
    slices: BTreeMap<i64, i64>,
    /// Where the conversations of the last too-full span lie.
    sample: Option<Sample>,
    /// Slices cut from the sample, by start: how many conversations each should hold.
    proposed: BTreeMap<i64, f64>,
    /// Widest slice each end (`until`) may still have: half of one that proved too full,
    /// so splitting always narrows, whatever the vendor's totals and pages say.
    narrower: BTreeMap<i64, i64>,
    /// A sample proved misleading (the vendor answers in time order, so its first page is
    /// one end of the span, not a sample of it): only the density is used from then on.
    unsampled: bool,
}

impl Plan {
    /// The planned slice holding the instant just before `frontier`.
    fn holding(&self, frontier: i64) -> Option<Span> {
        let (&since, &until) = self.slices.range(..frontier).next_back()?;
        (until >= frontier).then_some(Span { since, until })
    }

    /// The end of the nearest planned slice below `frontier`: new slices stop there.
    fn floor(&self, frontier: i64) -> Option<i64> {
        self.slices
            .range(..frontier)
            .next_back()
            .map(|(_, &until)| until)
    }

    /// Keeps where the conversations read from a too-full `span` lie, if they look like a
    /// sample of all of it: a vendor that answers in time order hands back one end of the
    /// span, which says nothing about the rest (the density serves then).
    pub(super) fn learn_sample(&mut self, span: Span, total: u64, times: &[i64]) {
        // An older sample proposed this span: never let it propose it again.
        self.sample = None;
        if let Some(expected) = self.proposed.remove(&span.since)
            && total as f64 > MISLEADING * expected
        {
            // A slice cut from the sample overflowed far past what it should hold.
            self.unsampled = true;
        }
        let mut times: Vec<i64> = times
            .iter()
            .copied()
            .filter(|t| span.since <= *t && *t < span.until)
            .collect();
        if self.unsampled || total <= times.len() as u64 {
            return;
        }
        times.sort_unstable_by(|a, b| b.cmp(a));
        self.sample = Some(Sample {
            span,
            per_point: total as f64 / (times.len() + 1) as f64,
            times,
        });
    }

    /// Notes that `span` held `items`: a slice cut from the sample that holds far fewer
    /// than it should means the sample is one end of its span, not a sample of it.
    pub(super) fn complete(&mut self, span: Span, items: usize) {
        if let Some(expected) = self.proposed.remove(&span.since)
            && (items as f64) * MISLEADING < expected
        {
            self.unsampled = true;
            self.sample = None;
        }
    }

    /// Drops a slice that proved too full to read whole.
    pub(super) fn forget(&mut self, span: Span) {
        if self.slices.get(&span.since) == Some(&span.until) {
            self.slices.remove(&span.since);
        }
        if self.narrower.len() >= MAX_PLANNED_SLICES {
            self.narrower.clear();
        }
        self.narrower.insert(span.until, span.width());
    }

    /// The next slices to read, newest first, from `frontier` down: the planned one holding
    /// it, or new ones sized to hold about `wanted` conversations in all.
    pub(super) fn next(
        &mut self,
        window: Span,
        slicing: Slicing,
        density: Option<Density>,
        frontier: i64,
        wanted: usize,
    ) -> Vec<Planned> {
        if frontier <= window.since {
            return Vec::new();
        }
        if let Some(span) = self.holding(frontier) {
            // Already planned (and likely read): its reading rule no longer matters much.
            return vec![Planned {
                span,
                max_pages: WALK_SLICE_PAGES + 1,
                probe: density.is_none(),
            }];
        }
        if self.slices.len() >= MAX_PLANNED_SLICES {
            self.slices.clear();
        }
        let max_width = slicing
            .max_window
            .map_or(i64::MAX, |w| w.num_milliseconds().max(MIN_WIDTH_MS));
        let floor = self
            .floor(frontier)
            .unwrap_or(window.since)
            .max(window.since);
        let Some(density) = density else {
            // Nothing known yet: one slice as wide as allowed. If it is too full, the
            // vendor's answer tells how dense the source is.
            let span = Span {
                since: floor.max(frontier.saturating_sub(max_width)),
                until: frontier,
            };
            self.slices.insert(span.since, span.until);
            return vec![Planned {
                span,
                max_pages: PROBE_PAGES,
                probe: true,
            }];
        };
        let first = frontier == window.until;
        let pages = if first {
            FIRST_SLICE_PAGES
        } else {
            WALK_SLICE_PAGES
        };
        // The first page takes in a short rest only while it stays within its calls.
        let tail_pages = if first { pages + 1 } else { MAX_TAIL_PAGES };
        let target = target_items(pages, slicing.page_capacity);
        let width = ((target / density.per_ms.max(f64::MIN_POSITIVE)) as i64)
            .clamp(MIN_WIDTH_MS, max_width);
        let mut spans = Vec::new();
        let mut until = frontier;
        let mut expected = 0.0;
        while until > floor && spans.len() < MAX_PARALLEL_SLICES {
            let sampled = self
                .sample
                .as_ref()
                .filter(|_| !self.unsampled)
                .and_then(|sample| sample.since_for(until, target));
            let width = sampled.map_or(width, |(since, _)| {
                (until - since).clamp(MIN_WIDTH_MS, max_width)
            });
            let since = ceil_to_second(until.saturating_sub(width)).max(floor);
            let since = if since >= until { floor } else { since };
            // A short rest of the window joins this slice rather than costing a slice of
            // its own (a walk's last slice would otherwise often be a sliver).
            let rest = (until - floor) as f64 * density.per_ms;
            let tail = until - floor <= max_width
                && rest <= TAIL_FILL * (tail_pages * slicing.page_capacity) as f64;
            let since = if tail { floor } else { since };
            // A slice with the end of one that proved too full is narrower: half as wide,
            // or (cut from that slice's own sample, which knows where its items lie) at
            // least a second narrower.
            let since = match self.narrower.get(&until) {
                Some(&too_full) => {
                    let widest = if sampled.is_some() {
                        too_full - MIN_WIDTH_MS
                    } else {
                        too_full / 2
                    }
                    .max(MIN_WIDTH_MS);
                    if until - since > widest {
                        ceil_to_second(until - widest)
                    } else {
                        since
                    }
                }
                None => since,
            }
            .clamp(floor, until - 1);
            let span = Span { since, until };
            self.slices.insert(span.since, span.until);
            // A slice is judged against what its sample points stand for: with a sample
            // much sparser than a page (a huge window), even one point stands for more
            // than the target, and the slice's own too-full answer is the finer sample.
            let sampled_expected = sampled.map(|(_, expected)| expected.max(target));
            if let Some(expected) = sampled_expected.filter(|_| !tail)
                && self.proposed.len() < MAX_PLANNED_SLICES
            {
                self.proposed.insert(span.since, expected);
            }
            // One page more than aimed at is read rather than split.
            spans.push(Planned {
                span,
                max_pages: if tail { tail_pages } else { pages } + 1,
                probe: false,
            });
            expected += match sampled_expected {
                Some(sampled) if !tail => sampled,
                _ => span.width() as f64 * density.per_ms,
            };
            if expected >= wanted as f64 {
                break;
            }
            until = since;
        }
        spans
    }
}

/// Conversations a slice of `pages` vendor pages should hold: full pages less two standard
/// deviations of a Poisson count, so few slices overflow into an extra page.
fn target_items(pages: usize, capacity: usize) -> f64 {
    let full = (pages * capacity.max(1)) as f64;
    (full - 2.0 * full.sqrt()).max(1.0)
}

fn ceil_to_second(ms: i64) -> i64 {
    ms.div_euclid(1_000)
        .saturating_add(i64::from(ms.rem_euclid(1_000) != 0))
        * 1_000
}

#[cfg(test)]
mod tests {
    use super::*;

    const SLICING: Slicing = Slicing {
        max_window: None,
        page_capacity: 100,
    };

    fn window() -> Span {
        Span {
            since: 0,
            until: 1_000_000_000,
        }
    }

    #[test]
    fn without_a_density_one_slice_spans_what_the_vendor_allows() {
        let mut plan = Plan::default();
        let spans = plan.next(window(), SLICING, None, window().until, 21);
        assert_eq!(spans.len(), 1);
        assert!(spans[0].probe);
        assert_eq!(spans[0].span, window());
        let seven_days = Slicing {
            max_window: Some(chrono::Duration::milliseconds(100_000_000)),
            ..SLICING
        };
        let mut plan = Plan::default();
        let spans = plan.next(window(), seven_days, None, window().until, 21);
        assert_eq!(
            spans[0].span,
            Span {
                since: 900_000_000,
                until: 1_000_000_000
            }
        );
    }

    #[test]
    fn the_first_slice_aims_at_one_vendor_page_and_later_ones_at_a_few() {
        // One conversation per 10 s.
        let density = Density { per_ms: 1e-4 };
        let mut plan = Plan::default();
        let first = plan.next(window(), SLICING, Some(density), window().until, 21);
        assert_eq!(first.len(), 1);
        let held = first[0].span.width() as f64 * density.per_ms;
        assert!((75.0..=100.0).contains(&held), "{held}");
        assert_eq!(first[0].max_pages, 2);

        let later = plan.next(window(), SLICING, Some(density), first[0].span.since, 101);
        assert_eq!(later.len(), 1);
        let held = later[0].span.width() as f64 * density.per_ms;
        assert!((250.0..=300.0).contains(&held), "{held}");
        assert_eq!(later[0].span.until, first[0].span.since, "adjacent");
    }

    #[test]
    fn a_page_wanting_more_than_one_slice_holds_gets_several_at_once() {
        let density = Density { per_ms: 1e-4 };
        let mut plan = Plan::default();
        let spans = plan.next(window(), SLICING, Some(density), window().until, 101);
        assert_eq!(spans.len(), 2);
        assert_eq!(spans[0].span.since, spans[1].span.until);
    }

    #[test]
    fn a_planned_slice_is_found_again_from_any_instant_inside_it() {
        let density = Density { per_ms: 1e-4 };
        let mut plan = Plan::default();
        let first = plan.next(window(), SLICING, Some(density), window().until, 21)[0].span;
        let inside = first.since + 5;
        assert_eq!(
            plan.next(window(), SLICING, Some(density), inside, 21)[0].span,
            first
        );
    }

    #[test]
    fn a_short_rest_of_the_window_joins_the_slice_before_it() {
        let density = Density { per_ms: 1e-4 };
        // 440 conversations expected below the frontier: one walk slice.
        let window = Span {
            since: 0,
            until: 4_400_001,
        };
        let mut plan = Plan::default();
        let spans = plan.next(window, SLICING, Some(density), 4_400_000, 101);
        assert_eq!(spans.len(), 1);
        assert_eq!(spans[0].span.since, 0);
        assert_eq!(spans[0].max_pages, MAX_TAIL_PAGES + 1);
        // A first page takes in at most two pages' worth.
        let mut plan = Plan::default();
        let spans = plan.next(window, SLICING, Some(density), window.until, 21);
        assert!(spans[0].span.since > 0);
    }

    #[test]
    fn new_slices_never_overlap_planned_ones() {
        let density = Density { per_ms: 1e-4 };
        let mut plan = Plan::default();
        let first = plan.next(window(), SLICING, Some(density), window().until, 21)[0].span;
        let second = plan.next(window(), SLICING, Some(density), first.since, 21)[0].span;
        // The first proves too full and is forgotten; re-planning from the top stops at the
        // second, even with a density that would reach further, and splits the first in
        // narrower slices (whatever the density says).
        plan.forget(first);
        let sparse = Density { per_ms: 1e-7 };
        let again = plan.next(window(), SLICING, Some(sparse), window().until, 21);
        assert!(again[0].span.width() <= first.width() / 2);
        assert!(again.iter().all(|p| p.span.since >= second.until));
        assert_eq!(again.last().unwrap().span.since, second.until);
    }

    #[test]
    fn boundaries_fall_on_whole_seconds_inside_the_window() {
        let window = Span {
            since: 1_234,
            until: 987_654_321,
        };
        let density = Density { per_ms: 1e-4 };
        let mut plan = Plan::default();
        let mut frontier = window.until;
        let mut pieces = 0;
        while frontier > window.since {
            for Planned { span, .. } in plan.next(window, SLICING, Some(density), frontier, 21) {
                assert!(span.since == window.since || span.since % 1_000 == 0);
                assert!(span.since < span.until && span.until == frontier);
                frontier = span.since;
                pieces += 1;
            }
        }
        assert!(pieces > 10);
    }

    #[test]
    fn a_sample_far_sparser_than_a_page_hands_over_to_the_finer_sample_of_its_slice() {
        // 100,000 conversations, spread evenly below a quiet last tenth of the window; the
        // probe's 100 items each stand for about 1,000 of them.
        let window = window();
        let busy_until = 900_000_000;
        let probe: Vec<i64> = (0..100).map(|i| i * (busy_until / 100)).collect();
        let density = Density::after_too_full(None, window, Some(100_000), 100, 100);
        let mut plan = Plan::default();
        plan.forget(window);
        plan.learn_sample(window, 100_000, &probe);
        let first = plan.next(window, SLICING, Some(density), window.until, 21);
        assert_eq!(first.len(), 1, "one slice is expected to hold the page");
        let first = first[0].span;
        assert_eq!(first.since, probe[99]);
        // It holds about what one point stands for: too full, and its own first page is
        // a sample a hundred times finer, which must not be thrown away as misleading.
        let slice_total = 1_010;
        let finer: Vec<i64> = (0..100)
            .map(|i| first.since + i * ((busy_until - first.since) / 100))
            .collect();
        plan.forget(first);
        plan.learn_sample(first, slice_total, &finer);
        let density = Density::after_too_full(Some(density), first, Some(slice_total), 100, 100);
        let second = plan.next(window, SLICING, Some(density), window.until, 21)[0].span;
        assert_eq!(second.until, window.until);
        let held = finer.iter().filter(|t| second.since <= **t).count() as f64 * slice_total as f64
            / 101.0;
        assert!(
            (60.0..=200.0).contains(&held),
            "{held} conversations expected"
        );
    }

    #[test]
    fn density_learns_from_totals_and_counts_within_bounds() {
        let span = Span {
            since: 0,
            until: 1_000,
        };
        let too_full = Density::after_too_full(None, span, Some(5_000), 100, 100);
        assert_eq!(too_full.per_ms, 5.0);
        // A lying total below what was read counts as a guess well past what was read.
        let lied = Density::after_too_full(None, span, Some(3), 400, 100);
        assert_eq!(lied.per_ms, 2.0);
        // One empty slice widens the next by at most the bound.
        let sparse = Density::after_complete(Some(too_full), span, 0);
        assert_eq!(sparse.per_ms, 5.0 / MAX_DENSITY_CHANGE);
    }
}
