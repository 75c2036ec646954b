//! The events pane as a k9s log: it follows the newest event until a person scrolls, then holds
//! still while events arrive, and pages older (or newer) events in from the board on demand.
//!
//! It holds a window of the board's events, contiguous by id among those its filter shows, and
//! never more than `WINDOW` of them. Reading pages is the app's job (it holds the board); this
//! says when a page is wanted and where it goes.

use std::collections::VecDeque;

use crate::core::{Event, EventKind};

/// Events the pane holds at most: a window of the board's log, refilled from the board.
pub const WINDOW: usize = 1000;
/// Events read from the board at a time, when scrolling past the window or (re)starting it.
pub const PAGE: usize = 200;

/// Which kinds the pane shows; `f` steps through them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum LogFilter {
    /// Every event.
    #[default]
    All,
    /// Only the gate's refusals, which a race writes among thousands of other events.
    Rejected,
    /// What needs a person: blocks, failed attempts, spent retries.
    Trouble,
}

const REJECTED: &[EventKind] = &[EventKind::ClaimRejected];
const TROUBLE: &[EventKind] = &[
    EventKind::Blocked,
    EventKind::GaveUp,
    EventKind::Crashed,
    EventKind::TimedOut,
    EventKind::SpawnFailed,
];

impl LogFilter {
    /// The kinds shown; empty means all.
    pub fn kinds(self) -> &'static [EventKind] {
        match self {
            LogFilter::All => &[],
            LogFilter::Rejected => REJECTED,
            LogFilter::Trouble => TROUBLE,
        }
    }

    /// The next filter `f` gives.
    pub fn next(self) -> LogFilter {
        match self {
            LogFilter::All => LogFilter::Rejected,
            LogFilter::Rejected => LogFilter::Trouble,
            LogFilter::Trouble => LogFilter::All,
        }
    }

    /// What the pane's title calls it; None for all.
    pub fn label(self) -> Option<&'static str> {
        match self {
            LogFilter::All => None,
            LogFilter::Rejected => Some("claim_rejected"),
            LogFilter::Trouble => Some("blocked, failed, gave_up"),
        }
    }

    /// Whether the pane shows this event.
    pub fn shows(self, event: &Event) -> bool {
        let kinds = self.kinds();
        kinds.is_empty() || kinds.contains(&event.kind)
    }
}

/// Where the pane's rows stand.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Scroll {
    /// Newest at the bottom; new events scroll the rows up.
    Following,
    /// Held still: `top` is the first row on screen, `cursor` the selected one (indexes into
    /// the window), `new` counts events arrived since.
    Frozen {
        top: usize,
        cursor: usize,
        new: usize,
    },
}

/// The events pane's window of the board's log, its cursor and its filter.
#[derive(Clone, Debug)]
pub struct EventLog {
    events: VecDeque<Event>,
    scroll: Scroll,
    filter: LogFilter,
    /// Rows the pane shows.
    rows: usize,
    /// Whether the board may hold shown events older than the window's first.
    older: bool,
    /// Whether the window ends at the newest event the app has read; while frozen and full it
    /// stops taking arrivals, and scrolling down reads them from the board.
    at_newest: bool,
}

impl Default for EventLog {
    fn default() -> EventLog {
        EventLog::new(crate::tui::layout::LOG_ROWS)
    }
}

impl EventLog {
    /// An empty log drawn in `rows` rows.
    pub fn new(rows: usize) -> EventLog {
        EventLog {
            events: VecDeque::new(),
            scroll: Scroll::Following,
            filter: LogFilter::All,
            rows: rows.max(1),
            older: false,
            at_newest: true,
        }
    }

    /// Starts over from the newest events the board holds (`tail`, oldest first, read with
    /// this filter), following; `older` says whether the board holds earlier ones.
    pub fn restart(&mut self, tail: Vec<Event>, older: bool) {
        self.events = tail.into();
        self.scroll = Scroll::Following;
        self.older = older;
        self.at_newest = true;
        self.trim_front();
    }

    /// Empties the log.
    pub fn clear(&mut self) {
        self.restart(Vec::new(), false);
    }

    /// Events just committed, oldest first: shown at once while following; while frozen,
    /// counted, and kept only where they do not move the rows on screen.
    pub fn arrived(&mut self, events: impl IntoIterator<Item = Event>) {
        for event in events {
            if !self.filter.shows(&event) {
                continue;
            }
            if let Scroll::Frozen { new, .. } = &mut self.scroll {
                *new += 1;
            }
            if !self.at_newest {
                continue;
            }
            if self.events.len() == WINDOW && !self.drop_oldest() {
                // The oldest held event is on screen: keep the screen, read this one later.
                self.at_newest = false;
                continue;
            }
            self.events.push_back(event);
        }
    }

    /// Drops the oldest held event unless it is on screen; returns whether it did.
    fn drop_oldest(&mut self) -> bool {
        match &mut self.scroll {
            Scroll::Following => {}
            Scroll::Frozen { top: 0, .. } => return false,
            Scroll::Frozen { top, cursor, .. } => {
                *top -= 1;
                *cursor -= 1;
            }
        }
        self.events.pop_front();
        self.older = true;
        true
    }

    fn trim_front(&mut self) {
        while self.events.len() > WINDOW && self.drop_oldest() {}
    }

    /// A page of events just older than the window (oldest first); `more` says whether the
    /// board holds still older ones. The rows on screen stay; the newest held may be dropped.
    pub fn prepend(&mut self, page: Vec<Event>, more: bool) {
        self.older = more;
        let added = page.len();
        for event in page.into_iter().rev() {
            self.events.push_front(event);
        }
        if let Scroll::Frozen { top, cursor, .. } = &mut self.scroll {
            *top += added;
            *cursor += added;
        }
        if self.events.len() > WINDOW {
            self.events.truncate(WINDOW);
            self.at_newest = false;
        }
    }

    /// A page of events just newer than the window (oldest first); `last` says whether it
    /// reaches the newest event the app has read.
    pub fn append(&mut self, page: Vec<Event>, last: bool) {
        self.events.extend(page);
        self.at_newest = last;
        self.trim_front();
    }

    /// Whether moving the cursor by `delta` rows goes above the oldest held event while the
    /// board holds older ones: read a page first.
    pub fn wants_older(&self, delta: isize) -> bool {
        delta < 0 && self.older && self.cursor() < delta.unsigned_abs()
    }

    /// Whether moving the cursor by `delta` rows goes below the newest held event while newer
    /// ones were left on the board: read a page first.
    pub fn wants_newer(&self, delta: isize) -> bool {
        delta > 0 && !self.at_newest && self.cursor() + delta.unsigned_abs() >= self.events.len()
    }

    /// Moves the cursor, freezing the pane; clamped to the held events, so it never shows
    /// blank rows past the end.
    pub fn move_cursor(&mut self, delta: isize) {
        if self.events.is_empty() {
            return;
        }
        let last = self.events.len() - 1;
        let (top, cursor, new) = match self.scroll {
            Scroll::Following => (self.top(), last, 0),
            Scroll::Frozen { top, cursor, new } => (top, cursor, new),
        };
        let cursor = cursor.saturating_add_signed(delta).min(last);
        let top = top.min(cursor).max((cursor + 1).saturating_sub(self.rows));
        self.scroll = Scroll::Frozen { top, cursor, new };
    }

    /// Holds the pane on the oldest held event.
    pub fn oldest(&mut self) {
        let new = self.new_since_frozen();
        self.scroll = Scroll::Frozen {
            top: 0,
            cursor: 0,
            new,
        };
    }

    /// Follows the newest event again, if the window still reaches it; returns whether it
    /// does (else the app reads the tail afresh with `restart`).
    pub fn follow(&mut self) -> bool {
        if self.at_newest {
            self.scroll = Scroll::Following;
        }
        self.at_newest
    }

    /// Shows only these kinds from now on; the app then reads the tail with `restart`.
    pub fn set_filter(&mut self, filter: LogFilter) {
        self.filter = filter;
    }

    /// The kinds shown.
    pub fn filter(&self) -> LogFilter {
        self.filter
    }

    /// Whether the pane follows the newest event.
    pub fn is_following(&self) -> bool {
        self.scroll == Scroll::Following
    }

    /// Events arrived since the pane froze; 0 while following.
    pub fn new_since_frozen(&self) -> usize {
        match self.scroll {
            Scroll::Following => 0,
            Scroll::Frozen { new, .. } => new,
        }
    }

    /// The index of the first row on screen.
    pub fn top(&self) -> usize {
        match self.scroll {
            Scroll::Following => self.events.len().saturating_sub(self.rows),
            Scroll::Frozen { top, .. } => top,
        }
    }

    /// The index of the selected event: the newest while following.
    pub fn cursor(&self) -> usize {
        match self.scroll {
            Scroll::Following => self.events.len().saturating_sub(1),
            Scroll::Frozen { cursor, .. } => cursor,
        }
    }

    /// The selected event, whose task Enter opens.
    pub fn selected(&self) -> Option<&Event> {
        self.events.get(self.cursor())
    }

    /// The events on screen, top first, with whether each is the selected one.
    pub fn visible(&self) -> impl Iterator<Item = (&Event, bool)> {
        let cursor = self.cursor();
        self.events
            .iter()
            .enumerate()
            .skip(self.top())
            .take(self.rows)
            .map(move |(at, event)| (event, at == cursor))
    }

    /// Every held event, oldest first.
    pub fn iter(&self) -> impl Iterator<Item = &Event> {
        self.events.iter()
    }

    /// How many events are held.
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Whether none are.
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// The id of the oldest held event.
    pub fn first_id(&self) -> Option<i64> {
        self.events.front().map(|e| e.id)
    }

    /// The id of the newest held event.
    pub fn last_id(&self) -> Option<i64> {
        self.events.back().map(|e| e.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: i64) -> Event {
        Event {
            id,
            task_id: format!("t_{id:08x}"),
            run_id: None,
            kind: EventKind::Created,
            payload: None,
            created_at: 0,
        }
    }

    fn events(ids: std::ops::RangeInclusive<i64>) -> Vec<Event> {
        ids.map(event).collect()
    }

    fn shown(log: &EventLog) -> Vec<i64> {
        log.visible().map(|(e, _)| e.id).collect()
    }

    #[test]
    fn following_keeps_only_the_newest_window() {
        let mut log = EventLog::new(5);
        log.arrived(events(1..=WINDOW as i64 + 10));
        assert_eq!(log.len(), WINDOW);
        assert_eq!(log.first_id(), Some(11));
        assert!(
            log.wants_older(-(WINDOW as isize)),
            "the dropped ones can be read back"
        );
    }

    #[test]
    fn a_full_window_frozen_on_its_oldest_rows_leaves_arrivals_on_the_board() {
        let mut log = EventLog::new(5);
        log.restart(events(1..=WINDOW as i64), false);
        log.oldest();
        log.arrived(events(WINDOW as i64 + 1..=WINDOW as i64 + 3));
        assert_eq!(shown(&log), [1, 2, 3, 4, 5], "the screen holds");
        assert_eq!(log.new_since_frozen(), 3);
        assert_eq!(log.last_id(), Some(WINDOW as i64));
        assert!(!log.follow(), "following needs the tail read afresh");
        assert!(log.wants_newer(WINDOW as isize));
    }

    #[test]
    fn a_frozen_window_lets_go_of_rows_above_the_screen_to_take_arrivals() {
        let mut log = EventLog::new(5);
        log.restart(events(1..=WINDOW as i64), false);
        log.move_cursor(-2);
        let before = shown(&log);
        log.arrived(events(WINDOW as i64 + 1..=WINDOW as i64 + 3));
        assert_eq!(shown(&log), before);
        assert_eq!(log.len(), WINDOW);
        assert_eq!(log.last_id(), Some(WINDOW as i64 + 3));
    }

    #[test]
    fn the_cursor_is_clamped_to_the_held_events() {
        let mut log = EventLog::new(5);
        log.restart(events(1..=3), false);
        log.move_cursor(-10);
        assert_eq!(log.selected().map(|e| e.id), Some(1));
        log.move_cursor(10);
        assert_eq!(log.selected().map(|e| e.id), Some(3));
        assert_eq!(shown(&log), [1, 2, 3]);
    }
}
