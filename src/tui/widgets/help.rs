//! The key list, in two columns so it fits the smallest screen the board is drawn on (80x24).

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::tui::state::State;

/// Each key and what it does; the first half fills the left column, the rest the right. A
/// description longer than 26 characters does not fit a column at 80 wide.
pub const KEYS: &[(&str, &str)] = &[
    ("hjkl ←↓↑→", "move the cursor"),
    ("Tab", "board → events → workers"),
    ("Enter", "open the task (any pane)"),
    ("Esc", "close; events: follow"),
    ("u", "unblock"),
    ("b", "block (asks for a reason)"),
    ("c", "complete"),
    ("a", "archive"),
    ("x", "cancel running task (y/n)"),
    ("n", "new task (asks a title)"),
    ("L", "link to a parent (asks id)"),
    ("m", "comment on the task"),
    ("/", "filter cards by text"),
    ("o", "show the other statuses"),
    ("jk PgUp/Dn", "events: scroll and freeze"),
    ("G End", "events: follow the newest"),
    ("g Home", "events: oldest loaded"),
    ("f", "events: cycle kind filter"),
    ("r", "start / stop race demo"),
    ("p", "pause / resume workers"),
    ("+ -", "more / fewer workers"),
    ("mouse", "click a card, scroll"),
    ("?", "this help"),
    ("q", "quit (claims released)"),
    ("", ""),
    ("status bar", "claims/s, claim_rejected"),
    ("", "total (this session),"),
    ("", "violations: must read 0,"),
    ("", "pool, board file"),
];

/// Width of the key column.
const KEY_WIDTH: usize = 10;

/// Draws the key list over the board.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    let (left, right) = KEYS.split_at(KEYS.len() / 2);
    let tallest = left.len().max(right.len());
    let rows = u16::try_from(tallest).unwrap_or(u16::MAX).saturating_add(2);
    let [row] = Layout::vertical([Constraint::Length(rows)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(80)])
        .flex(Flex::Center)
        .areas(row);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(" keys — Esc closes ");
    let inner = block.inner(popup);
    let columns: [Rect; 2] = Layout::horizontal([Constraint::Ratio(1, 2); 2])
        .spacing(2)
        .areas(inner);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    for (keys, column) in [left, right].into_iter().zip(columns) {
        let lines: Vec<Line<'_>> = keys
            .iter()
            .map(|(key, what)| {
                Line::from(vec![
                    Span::styled(format!("{key:>KEY_WIDTH$} "), theme.heading()),
                    Span::raw(*what),
                ])
            })
            .collect();
        frame.render_widget(Paragraph::new(lines), column);
    }
}
