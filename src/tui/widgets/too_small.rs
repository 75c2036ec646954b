//! What a terminal smaller than 80x24 shows instead of the board.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::widgets::{Paragraph, Wrap};

use crate::tui::layout::{MIN_HEIGHT, MIN_WIDTH};

/// A short note asking for a bigger terminal.
pub fn draw(frame: &mut Frame<'_>, area: Rect) {
    let text = format!(
        "gateboard needs {MIN_WIDTH}x{MIN_HEIGHT}; this terminal is {}x{}. Enlarge it, or press q.",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}
