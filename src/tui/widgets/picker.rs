//! The list a task is picked from: what was typed at the top, the matching tasks below.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{centered, clip};
use crate::terminal_text::Escaped;
use crate::tui::layout;
use crate::tui::picker::Picker;
use crate::tui::state::{Prompt, PromptKind, State};

/// Draws the picker over the board.
pub fn draw(frame: &mut Frame<'_>, state: &State, prompt: &Prompt, picker: &Picker, area: Rect) {
    let theme = &state.theme;
    let popup = centered(area, 80, 70);
    let task = Escaped(prompt.task.as_deref().unwrap_or("the task"));
    let title = match prompt.kind {
        PromptKind::UnlinkParent => {
            format!(" Stop {task} waiting for (Enter unlinks, ↑↓ move, Esc closes) ")
        }
        _ => format!(" Parent for {task} (type to match, Enter links, ↑↓ move, Esc closes) "),
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(title);
    let inner = block.inner(popup);
    frame.render_widget(Clear, popup);
    frame.render_widget(block, popup);
    if inner.height < 3 || inner.width < 3 {
        return;
    }
    let count = format!("{}/{}", picker.match_count(), picker.len());
    let count_width = u16::try_from(count.chars().count()).unwrap_or(0);
    let query_width = inner.width.saturating_sub(count_width + 3);
    let query = Rect {
        x: inner.x + 2,
        width: query_width,
        height: 1,
        ..inner
    };
    frame.render_widget(Paragraph::new(Span::styled("> ", theme.heading())), inner);
    frame.render_widget(
        Paragraph::new(Span::styled(count, theme.dim())),
        Rect {
            x: inner.right().saturating_sub(count_width),
            width: count_width,
            height: 1,
            ..inner
        },
    );
    // A refusal goes right under the query, where the person is looking, above the list.
    let mut list = Rect {
        y: inner.y + 1,
        height: inner.height - 1,
        ..inner
    };
    if let Some(refusal) = &prompt.refusal {
        let text = clip(&Escaped(refusal).to_string(), usize::from(inner.width));
        frame.render_widget(
            Paragraph::new(Span::styled(text, theme.alarm())),
            Rect { height: 1, ..list },
        );
        list.y += 1;
        list.height -= 1;
    }
    let visible = usize::from(list.height);
    let first = layout::first_visible(picker.row(), visible);
    let width = usize::from(list.width);
    let lines: Vec<Line<'_>> = picker
        .matches_from(first)
        .take(visible)
        .enumerate()
        .map(|(slot, choice)| {
            let text = format!(
                "{:<12} {:<9} {}",
                Escaped(&choice.id),
                Escaped(choice.status.as_str()),
                Escaped(&choice.title)
            );
            let text = clip(&text, width);
            if first + slot == picker.row() {
                Line::from(Span::styled(format!("{text:<width$}"), theme.selected()))
            } else {
                Line::from(text)
            }
        })
        .collect();
    frame.render_widget(Paragraph::new(lines), list);
    // Last, so the terminal's cursor is the query's.
    super::prompt::draw_line(frame, &prompt.input, query);
}
