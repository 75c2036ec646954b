//! The live event log; `claim_rejected` stands out from everything else.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::core::EventKind;
use crate::terminal_text::{Escaped, escape};
use crate::tui::layout;
use crate::tui::state::{Pane, State};
use crate::tui::theme::Theme;

/// Draws the newest events that fit, newest at the bottom.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    let title = if state.log_scroll > 0 {
        format!(" events (scrolled {}) ", state.log_scroll)
    } else {
        " events ".to_owned()
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if state.pane == Pane::Log {
            theme.focus()
        } else {
            theme.frame()
        })
        .title(Span::styled(title, theme.heading()));
    let height = usize::from(layout::inner(area).height);
    let end = state.log.len().saturating_sub(state.log_scroll);
    let start = end.saturating_sub(height);
    let lines: Vec<Line<'_>> = state
        .log
        .range(start..end)
        .map(|e| {
            let time = jiff::Timestamp::from_second(e.created_at)
                .map(|t| t.strftime("%H:%M:%S").to_string())
                .unwrap_or_default();
            let mut spans = vec![
                Span::styled(format!("{:>6} {time} ", e.id), theme.dim()),
                Span::styled(
                    format!("{:<14}", Escaped(e.kind.as_str())),
                    kind_style(theme, &e.kind),
                ),
                Span::raw(format!(" {}", Escaped(&e.task_id))),
            ];
            if let Some(note) = note(e) {
                spans.push(Span::styled(format!(" {}", escape(&note)), theme.dim()));
            }
            Line::from(spans)
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

fn kind_style(theme: &Theme, kind: &EventKind) -> Style {
    match kind {
        EventKind::ClaimRejected => theme.alarm(),
        EventKind::Claimed => theme.busy(),
        EventKind::Completed => theme.good(),
        EventKind::Promoted | EventKind::Unblocked => theme.info(),
        EventKind::Blocked => theme.blocked(),
        _ => Style::new(),
    }
}

/// The part of the payload worth a glance.
fn note(event: &crate::core::Event) -> Option<String> {
    match event.kind {
        EventKind::ClaimRejected => event.payload_str("reason").map(str::to_owned),
        EventKind::Claimed => event
            .payload_str("lock")
            .map(|lock| lock.rsplit(':').next().unwrap_or(lock).to_owned()),
        EventKind::Linked | EventKind::Unlinked => {
            event.payload_str("parent").map(|p| format!("parent {p}"))
        }
        EventKind::Blocked => event.payload_str("reason").map(str::to_owned),
        _ => None,
    }
}
