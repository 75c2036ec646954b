//! Where each pane sits; shared by drawing and by mouse hit-testing so they never disagree.

use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest terminal the board is drawn in.
pub const MIN_WIDTH: u16 = 80;
/// The smallest terminal the board is drawn in.
pub const MIN_HEIGHT: u16 = 24;
/// Lines one card takes.
pub const CARD_HEIGHT: u16 = 2;
const BOTTOM_HEIGHT: u16 = 9;
/// Rows of events the log pane shows: its height inside the border, the same on every screen
/// the board is drawn on, so the log's cursor can keep its rows on screen without a frame.
pub const LOG_ROWS: usize = BOTTOM_HEIGHT as usize - 2;

/// The rectangles of one frame.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Areas {
    /// One per shown status, left to right (borders included).
    pub columns: Vec<Rect>,
    /// The event log.
    pub log: Rect,
    /// The worker panel.
    pub workers: Rect,
    /// The keys that act where the person is (one line).
    pub hints: Rect,
    /// The status bar (one line).
    pub status: Rect,
}

/// Whether the terminal is big enough to draw the board.
pub fn fits(area: Rect) -> bool {
    area.width >= MIN_WIDTH && area.height >= MIN_HEIGHT
}

/// Splits the screen for `columns` status columns.
pub fn areas(area: Rect, columns: usize) -> Areas {
    let [board, bottom, hints, status] = Layout::vertical([
        Constraint::Min(6),
        Constraint::Length(BOTTOM_HEIGHT),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    let [log, workers] =
        Layout::horizontal([Constraint::Percentage(62), Constraint::Percentage(38)]).areas(bottom);
    let columns = Layout::horizontal(vec![
        Constraint::Ratio(1, columns.max(1) as u32);
        columns.max(1)
    ])
    .split(board)
    .to_vec();
    Areas {
        columns,
        log,
        workers,
        hints,
        status,
    }
}

/// The inside of a bordered pane.
pub fn inner(area: Rect) -> Rect {
    Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    }
}

/// How many cards fit in a column.
pub fn cards_per_column(column: Rect) -> usize {
    usize::from(inner(column).height / CARD_HEIGHT).max(1)
}

/// The first card shown so the selected one is visible: the list scrolls just enough.
pub fn first_visible(selected: usize, visible: usize) -> usize {
    (selected + 1).saturating_sub(visible.max(1))
}
