//! The one-line question at the bottom of the screen.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use crate::terminal_text::Escaped;
use crate::tui::state::{Prompt, PromptKind, State};

/// Draws the prompt over the bottom panes.
pub fn draw(frame: &mut Frame<'_>, state: &State, prompt: &Prompt, area: Rect) {
    let question = match prompt.kind {
        PromptKind::BlockReason => format!(
            "Why is {} blocked?",
            prompt.task.as_deref().unwrap_or("the task")
        ),
        PromptKind::NewTitle => "Title of the new task:".to_owned(),
        PromptKind::LinkParent => format!(
            "Id of a parent for {}:",
            prompt.task.as_deref().unwrap_or("the task")
        ),
        PromptKind::Filter => "Show cards containing:".to_owned(),
        PromptKind::Comment => format!(
            "Comment on {}:",
            prompt.task.as_deref().unwrap_or("the task")
        ),
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
        PromptKind::ConfirmCancel => "y cancels it, any other key keeps it running",
        PromptKind::ConfirmComplete | PromptKind::ConfirmArchive => {
            "y does it, any other key leaves it"
        }
        _ => "Enter accepts, Esc cancels",
    };
    let box_area = Rect {
        x: area.x,
        y: area.bottom().saturating_sub(4),
        width: area.width,
        height: 3.min(area.height),
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(state.theme.focus())
        .title(format!(" {question} ({hint}) "));
    let line = Line::from(vec![
        Span::raw(prompt.input.as_str()),
        Span::styled("█", state.theme.dim()),
    ]);
    frame.render_widget(Clear, box_area);
    frame.render_widget(Paragraph::new(line).block(block), box_area);
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
