//! The live event log; `claim_rejected` stands out from everything else.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::core::EventKind;
use crate::terminal_text::{Escaped, escape};
use crate::tui::state::{Pane, State};
use crate::tui::theme::Theme;

/// Draws the log's window: the newest events, newest at the bottom, while it follows; the same
/// rows, held still, once a person scrolls.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    let log = &state.log;
    let focused = state.pane == Pane::Log;
    let title = match log.filter().label() {
        Some(label) => format!(" events: {label} only (f) "),
        None => " events ".to_owned(),
    };
    let mut block = Block::new()
        .borders(Borders::ALL)
        .border_style(if focused {
            theme.focus()
        } else {
            theme.frame()
        })
        .title(Span::styled(title, theme.heading()));
    if !log.is_following() {
        let marker = format!(" frozen — {} new, G to follow ", log.new_since_frozen());
        block = block.title_bottom(Span::styled(marker, theme.busy()));
    }
    let lines: Vec<Line<'_>> = log
        .visible()
        .map(|(e, selected)| {
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
            let line = Line::from(spans);
            if focused && selected {
                line.style(theme.selected())
            } else {
                line
            }
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
