//! The key list, built from the keymap itself so it cannot drift from what the keys do, in two
//! columns so it fits the smallest supported terminal (80x24).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::clip;
use crate::tui::state::State;

/// What the status bar's parts mean, after the keys.
const STATUS_BAR: [&str; 2] = [
    "Status bar: claims/s, claim_rejected, live audit violations (must be 0).",
    "Prompts edit like a shell line (Ctrl-W, Ctrl-U, Home, End). Keys: keys.toml",
];

/// Draws the key list over the board.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    let popup = Rect {
        x: area.x + 1,
        y: area.y + 1,
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    let inner_width = usize::from(popup.width.saturating_sub(2));
    let half = inner_width / 2;
    let keys = state.keymap.help();
    let key_width = keys
        .iter()
        .map(|(k, _)| k.chars().count())
        .max()
        .unwrap_or(0)
        .min(12);
    let rows = keys.len().div_ceil(2);
    let cell = |(keys, what): &(String, &str)| -> Vec<Span<'static>> {
        let what_width = half.saturating_sub(key_width + 3);
        vec![
            Span::styled(
                format!("{:>key_width$}  ", clip(keys, key_width)),
                theme.heading(),
            ),
            Span::raw(format!("{:<what_width$} ", clip(what, what_width))),
        ]
    };
    let mut lines: Vec<Line<'_>> = (0..rows)
        .map(|row| {
            let mut spans = cell(&keys[row]);
            if let Some(right) = keys.get(row + rows) {
                spans.extend(cell(right));
            }
            Line::from(spans)
        })
        .collect();
    for text in STATUS_BAR {
        lines.push(Line::from(Span::styled(
            clip(text, inner_width),
            theme.dim(),
        )));
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(" keys — Esc closes ");
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}
