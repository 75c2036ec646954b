//! When to look at the board again after the watcher woke the TUI but the look found nothing.
//!
//! Most changes write events, and reading the events after the cursor is all a live view needs.
//! Two cases escape that: the watcher fires when the WAL is written, which is before the commit
//! is visible to a reader, so the look can come too early; and a change made without events
//! (hand-written SQL, another program) shows only in a full reload. So a look that finds no new
//! events is repeated shortly after, and if that finds none either, the tasks are reloaded: at
//! once if the last reload is older than the throttle, else as soon as the throttle allows (never
//! dropped), and once more a throttle later in case the change was still not visible.

use std::time::{Duration, Instant};

/// How long after an empty look the events are read again: the commit that woke the watcher
/// has long become visible by then.
pub const RECHECK_AFTER: Duration = Duration::from_millis(50);
/// Full reloads happen at most this often, so a busy board is never reloaded per event.
pub const RELOAD_AT_MOST_EVERY: Duration = Duration::from_secs(2);
/// A reload this long after an unexplained change surely saw it; an earlier one is repeated.
const SURELY_VISIBLE_AFTER: Duration = Duration::from_secs(1);

/// The schedule of second looks and full reloads.
#[derive(Debug)]
pub struct Freshness {
    last_reload: Instant,
    recheck_at: Option<Instant>,
    /// When a recheck last found no events: a change the events do not explain.
    unexplained: Option<Instant>,
}

impl Freshness {
    /// A schedule for a view fully loaded at `loaded`.
    pub fn new(loaded: Instant) -> Freshness {
        Freshness {
            last_reload: loaded,
            recheck_at: None,
            unexplained: None,
        }
    }

    /// Whether the events should be read again now.
    pub fn recheck_due(&self, now: Instant) -> bool {
        self.recheck_at.is_some_and(|at| at <= now)
    }

    /// Notes a look at the events: `woke` if the watcher (or the pool) asked for it, and whether
    /// it found any.
    pub fn looked(&mut self, now: Instant, woke: bool, found_events: bool) {
        if self.recheck_due(now) {
            self.recheck_at = None;
            if !found_events {
                // The first empty recheck dates the unexplained change the reloads are
                // scheduled from.
                let since = *self.unexplained.get_or_insert(now);
                // A commit whose fsync outlasts the recheck (a busy disk) becomes visible later
                // still, with nothing more to wake the watcher: look again as often (a look
                // that finds nothing costs one index probe) until a reload would surely see it.
                if now + RECHECK_AFTER < since + SURELY_VISIBLE_AFTER {
                    self.recheck_at = Some(now + RECHECK_AFTER);
                }
            }
        }
        if woke && !found_events {
            self.recheck_at = Some(now + RECHECK_AFTER);
        }
    }

    /// When the next full reload is due, if one is.
    fn reload_at(&self) -> Option<Instant> {
        let change = self.unexplained?;
        (self.last_reload < change + SURELY_VISIBLE_AFTER)
            .then(|| change.max(self.last_reload + RELOAD_AT_MOST_EVERY))
    }

    /// Whether every task should be read afresh now.
    pub fn reload_due(&self, now: Instant) -> bool {
        self.reload_at().is_some_and(|at| at <= now)
    }

    /// Notes a full reload read at `now`.
    pub fn reloaded(&mut self, now: Instant) {
        self.last_reload = now;
        if self.reload_at().is_none() {
            self.unexplained = None;
        }
    }

    /// The next moment something is due, for the main loop to wake at.
    pub fn next_due(&self) -> Option<Instant> {
        match (self.recheck_at, self.reload_at()) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_recheck_looks_again_as_often_until_a_reload_would_see_the_change() {
        let start = Instant::now();
        let mut freshness = Freshness::new(start);
        freshness.looked(start, true, false);
        let mut at = start;
        let mut gaps = Vec::new();
        while let Some(next) = freshness.recheck_at {
            gaps.push(next - at);
            at = next;
            freshness.looked(at, false, false);
        }
        assert!(gaps.iter().all(|gap| *gap == RECHECK_AFTER), "{gaps:?}");
        assert_eq!(
            gaps.len(),
            20,
            "one woken look's recheck, then 19 more within a second"
        );
        assert_eq!(freshness.unexplained, Some(start + RECHECK_AFTER));
    }

    #[test]
    fn a_recheck_that_finds_the_events_looks_no_more() {
        let start = Instant::now();
        let mut freshness = Freshness::new(start);
        freshness.looked(start, true, false);
        freshness.looked(start + RECHECK_AFTER, false, true);
        assert_eq!(freshness.recheck_at, None);
        assert_eq!(freshness.unexplained, None);
    }
}
