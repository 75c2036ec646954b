//! The status columns and their cards.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::clip;
use crate::core::{Status, Task};
use crate::terminal_text::{Escaped, escape};
use crate::tui::layout::{self, CARD_HEIGHT};
use crate::tui::state::{Pane, State};

/// Draws every shown column into its area.
pub fn draw(frame: &mut Frame<'_>, state: &State, areas: &[Rect]) {
    let statuses = state.statuses();
    for (index, (status, area)) in statuses.iter().zip(areas).enumerate() {
        draw_column(
            frame,
            state,
            status,
            *area,
            index == state.column.min(statuses.len() - 1),
        );
    }
}

fn draw_column(frame: &mut Frame<'_>, state: &State, status: &Status, area: Rect, selected: bool) {
    let theme = &state.theme;
    let focused = selected && state.pane == Pane::Board;
    let visible = layout::cards_per_column(area);
    let column = state.column_frame(status, visible);
    let (row, first, total) = (column.highlight, column.first, column.len);
    // A filter hides cards; the count says how many of the column's cards are shown. A long
    // column's selected card says where it is in it instead.
    let count = match row {
        Some(row) if selected && total > visible => format!("{}/{}", row + 1, total),
        _ if state.filter.is_empty() => format!("({total})"),
        _ => format!("({total}/{})", state.view.column_len(status)),
    };
    let title = format!(" {} {count} ", Escaped(status.as_str()));
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.focus()
        } else {
            theme.frame()
        })
        .title(Span::styled(title, theme.heading()));
    // A long column says where the cursor is in it, and how many cards sit out of sight.
    if total > visible {
        let below = total.saturating_sub(first + visible);
        let more = match (first, below) {
            (0, below) => format!(" ↓ {below} more "),
            (above, 0) => format!(" ↑ {above} more "),
            (above, below) => format!(" ↑ {above} ↓ {below} more "),
        };
        block = block.title_bottom(Line::from(Span::styled(more, theme.dim())).right_aligned());
    }
    let inner = layout::inner(area);
    frame.render_widget(block, area);
    let width = usize::from(inner.width);
    for (slot, (index, task)) in column
        .cards
        .iter()
        .enumerate()
        .map(|(at, task)| (first + at, task))
        .enumerate()
    {
        let y = inner.y + slot as u16 * CARD_HEIGHT;
        let card = Rect {
            x: inner.x,
            y,
            width: inner.width,
            height: CARD_HEIGHT.min(inner.y + inner.height - y),
        };
        let mut lines = vec![
            Line::from(clip(&escape(&task.title), width)),
            Line::from(Span::styled(
                clip(&detail(task, state.now), width),
                theme.dim(),
            )),
        ];
        if task.status == Status::Blocked {
            lines[1] = Line::from(Span::styled(
                clip(&detail(task, state.now), width),
                theme.blocked(),
            ));
        }
        if task.gated {
            lines[1] = Line::from(Span::styled(
                clip(&detail(task, state.now), width),
                theme.alarm(),
            ));
        }
        let mut paragraph = Paragraph::new(lines);
        if selected && Some(index) == row {
            paragraph = paragraph.style(theme.selected());
        }
        frame.render_widget(paragraph, card);
    }
}

/// The second line of a card: who runs it and for how long, why it is blocked, or its id;
/// escaped, since every part of it may come from another program.
fn detail(task: &Task, now: i64) -> String {
    escape(&unescaped_detail(task, now)).into_owned()
}

fn unescaped_detail(task: &Task, now: i64) -> String {
    match task.status {
        Status::Running => {
            let worker = task
                .claim_lock
                .as_deref()
                .map(|lock| lock.rsplit(':').next().unwrap_or(lock))
                .unwrap_or("?");
            let elapsed = task
                .run_started_at
                .or(task.started_at)
                .map_or(0, |s| (now - s).max(0));
            match task.timeout_secs {
                Some(limit) => format!("{worker} {elapsed}s/{limit}s {}", task.id),
                None => format!("{worker} {elapsed}s {}", task.id),
            }
        }
        Status::Blocked => format!(
            "⊘ {}",
            task.block_reason.as_deref().unwrap_or("no reason given")
        ),
        // Marked ready by another writer while a parent is unfinished: the gate will refuse it.
        Status::Ready if task.gated => format!("⚠ gated: a parent is not done {}", task.id),
        // Failed, and waiting out its backoff before the next try.
        Status::Ready
            if task
                .retry_at_ms
                .is_some_and(|at| at > now.saturating_mul(1000)) =>
        {
            let failures = match task.failures {
                0 => String::new(),
                1 => " after 1 failure".to_owned(),
                n => format!(" after {n} failures"),
            };
            format!("↻ retry soon{failures} {}", task.id)
        }
        _ => match task.priority {
            Some(p) if p != 0 => format!("{} p{p}", task.id),
            _ => task.id.clone(),
        },
    }
}
