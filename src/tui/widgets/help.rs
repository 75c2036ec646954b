//! The key list.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::centered;
use crate::tui::state::State;

const KEYS: [(&str, &str); 25] = [
    ("h j k l / arrows", "move"),
    ("Tab", "next pane: board, events, workers"),
    ("Enter", "open the selected task"),
    ("Esc", "close, cancel"),
    ("u", "unblock; on an archived card, unarchive"),
    ("b", "block (asks for a reason)"),
    ("c", "complete by hand (asks y/n)"),
    ("a", "archive (asks y/n)"),
    ("x", "cancel a running task (asks y/n)"),
    ("n / N", "new task / new task waiting for the selected one"),
    ("L / U", "link / unlink a parent, picked from a fuzzy list"),
    ("t", "dependency tree: Space/h/l fold, Enter opens a line"),
    ("r", "start / stop the race demo (create, link late)"),
    ("R", "start / stop the buggy-writer race: gate fires"),
    ("p", "pause / resume the workers"),
    ("+ -", "more / fewer workers"),
    ("/", "filter as you type; Enter keeps it, Esc clears it"),
    (":", "command: goto ID, block ID REASON, unblock ID, q"),
    (
        "in a prompt",
        "← → Home End ^A ^E ^W Alt-⌫ Del ^U edit; ↑↓ pick",
    ),
    ("o", "show / hide triage, scheduled, review, archived"),
    ("mouse", "click a card to select it"),
    ("?", "this help"),
    ("q", "quit (workers release their claims)"),
    (
        "status bar",
        "claims/s, claim_rejected seen, live audit violations",
    ),
    ("", "(violations must read 0), pool, board file"),
];

/// Draws the key list over the board.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    let popup = centered(area, 70, 90);
    let lines: Vec<Line<'_>> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!("{key:>18}  "), theme.heading()),
                Span::raw(*what),
            ])
        })
        .collect();
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(" keys — Esc closes ");
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
