//! The one-line question at the bottom of the screen.

use ratatui::Frame;
use ratatui::layout::{Position, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

use crate::terminal_text::{Escaped, escape};
use crate::tui::command;
use crate::tui::line_edit::LineEdit;
use crate::tui::state::{Prompt, PromptKind, State};

/// Draws the prompt over the bottom panes (a picker over the board).
pub fn draw(frame: &mut Frame<'_>, state: &State, prompt: &Prompt, area: Rect) {
    if let Some(picker) = &prompt.picker {
        super::picker::draw(frame, state, prompt, picker, area);
        return;
    }
    let question = match prompt.kind {
        PromptKind::BlockReason => format!("Why is {} blocked?", named(state, prompt)),
        PromptKind::NewTitle => "Title of the new task:".to_owned(),
        PromptKind::NewChildTitle => {
            format!("Title of a new task waiting for {}:", named(state, prompt))
        }
        PromptKind::LinkParent | PromptKind::UnlinkParent => format!(
            "Parent of {}:",
            Escaped(prompt.task.as_deref().unwrap_or("the task"))
        ),
        PromptKind::Filter => "Show cards containing:".to_owned(),
        PromptKind::Comment => format!("Comment on {}:", named(state, prompt)),
        PromptKind::Command => ":".to_owned(),
        PromptKind::ConfirmCancel => format!(
            "Cancel {}? Its command is killed and the task blocked",
            named(state, prompt)
        ),
        PromptKind::ConfirmComplete => format!(
            "Mark {} done by hand? Its children may start",
            named(state, prompt)
        ),
        PromptKind::ConfirmArchive => format!(
            "Archive {}? It leaves the board and counts as finished",
            named(state, prompt)
        ),
    };
    let hint = match prompt.kind {
        PromptKind::ConfirmCancel => "y cancels it, any other key keeps it running".to_owned(),
        PromptKind::ConfirmComplete | PromptKind::ConfirmArchive => {
            "y does it, any other key leaves it".to_owned()
        }
        PromptKind::Filter => "filters as you type; Enter keeps it, Esc clears it".to_owned(),
        PromptKind::Command => format!("{}; Esc cancels", command::KNOWN),
        _ => "Enter accepts, Esc cancels".to_owned(),
    };
    let box_area = Rect {
        x: area.x,
        y: area.bottom().saturating_sub(4),
        width: area.width,
        height: 3.min(area.height),
    };
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(state.theme.focus())
        .title(format!(" {question} ({hint}) "));
    if let Some(refusal) = &prompt.refusal {
        block = block.title_bottom(Span::styled(
            format!(" {} ", Escaped(refusal)),
            state.theme.alarm(),
        ));
    }
    let inner = block.inner(box_area);
    frame.render_widget(Clear, box_area);
    frame.render_widget(block, box_area);
    if !prompt.kind.is_question() {
        draw_line(frame, &prompt.input, inner);
    }
}

/// Draws what was typed, escaped, scrolled so the cursor shows, and puts the terminal's
/// cursor where the line editor's is.
pub(super) fn draw_line(frame: &mut Frame<'_>, input: &LineEdit, area: Rect) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    let (before, after) = input.split();
    let (before, after) = (escape(before), escape(after));
    // One column stays free for the cursor after the last character.
    let room = usize::from(area.width) - 1;
    let mut shown = before.as_ref();
    let mut width = shown.width();
    while width > room
        && let Some(first) = shown.chars().next()
    {
        shown = &shown[first.len_utf8()..];
        width = width.saturating_sub(first.width().unwrap_or(0));
    }
    let line = Line::from(vec![Span::raw(shown), Span::raw(after.as_ref())]);
    frame.render_widget(Paragraph::new(line), area);
    // `width` fits in `room`, itself under the area's width.
    let column = u16::try_from(width).unwrap_or(area.width - 1);
    frame.set_cursor_position(Position::new(area.x + column, area.y));
}

/// The prompt's task as a question names it: its id and title, escaped.
fn named(state: &State, prompt: &Prompt) -> String {
    let id = prompt.task.as_deref().unwrap_or("the task");
    let title = state
        .view
        .task(id)
        .map(|t| format!(" \"{}\"", Escaped(&t.title)))
        .unwrap_or_default();
    format!("{}{title}", Escaped(id))
}
