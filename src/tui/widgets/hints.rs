//! One line of the keys that act where the person is, lazygit style: a reminder, drawn from
//! the keymap, so it names the keys as they are bound.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::action::Action;
use crate::tui::keymap::Keymap;
use crate::tui::state::{Mode, State};

/// Draws the hint line for the focused pane, or for the overlay on top.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let keymap = &state.keymap;
    let named = |list: &[Action]| -> Vec<(String, &'static str)> {
        list.iter()
            .map(|a| (keymap.keys_of(a), Keymap::hint_of(a)))
            .filter(|(keys, _)| !keys.is_empty())
            .collect()
    };
    let hints = match &state.mode {
        Mode::Tree(_) => named(&[
            Action::Up,
            Action::Down,
            Action::ToggleFold,
            Action::Open,
            Action::Back,
        ]),
        Mode::Detail(_) => named(&[Action::Tree, Action::Back]),
        Mode::Help => named(&[Action::Back]),
        Mode::Prompt(_) => Vec::new(),
        Mode::Normal => keymap.hints(state.pane),
    };
    let theme = &state.theme;
    let mut spans = Vec::new();
    let mut used = 0;
    for (keys, what) in hints {
        let width = keys.chars().count() + what.chars().count() + 3;
        if used + width > usize::from(area.width) {
            break;
        }
        used += width;
        spans.push(Span::styled(format!(" {keys}"), theme.heading()));
        spans.push(Span::styled(format!(" {what} "), theme.dim()));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
