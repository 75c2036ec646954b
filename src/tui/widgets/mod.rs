//! One file per widget; each draws from the state alone.

pub mod columns;
pub mod detail;
pub mod help;
pub mod log;
pub mod picker;
pub mod prompt;
pub mod status_bar;
pub mod too_small;
pub mod tree;
pub mod workers;

use ratatui::layout::{Constraint, Flex, Layout, Rect};

/// A rectangle of `percent_x` by `percent_y` of `area`, centred: where overlays go.
pub fn centered(area: Rect, percent_x: u16, percent_y: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Percentage(percent_y)])
        .flex(Flex::Center)
        .areas(area);
    let [cell] = Layout::horizontal([Constraint::Percentage(percent_x)])
        .flex(Flex::Center)
        .areas(row);
    cell
}

/// Cuts text to `width` characters, marking the cut with an ellipsis.
pub fn clip(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    out
}
