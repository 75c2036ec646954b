//! One file per widget; each draws from the state alone.

pub mod columns;
pub mod detail;
pub mod help;
pub mod hints;
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

/// An epoch second as a person reads it: UTC, as `gateboard show` prints times.
pub fn moment(epoch: i64) -> String {
    jiff::Timestamp::from_second(epoch)
        .map(|t| t.strftime("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|_| epoch.to_string())
}

/// `moment` with how long before `now` it was: "2026-12-01 12:03:07Z (3m ago)".
pub fn moment_ago(epoch: i64, now: i64) -> String {
    let secs = now.saturating_sub(epoch);
    let ago = match secs {
        ..0 => "ahead of this clock".to_owned(),
        0..60 => format!("{secs}s ago"),
        60..3600 => format!("{}m ago", secs / 60),
        3600..86400 => format!("{}h ago", secs / 3600),
        _ => format!("{}d ago", secs / 86400),
    };
    format!("{} ({ago})", moment(epoch))
}
