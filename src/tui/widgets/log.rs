//! The live event log; `claim_rejected` stands out from everything else. The last race's
//! summary, once there is one, is pinned under the events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use super::clip;
use crate::core::EventKind;
use crate::terminal_text::{Escaped, escape};
use crate::tui::layout;
use crate::tui::state::{Pane, RaceSummary, State};
use crate::tui::theme::Theme;

/// Draws the log's window: the newest events, newest at the bottom, while it follows; the same
/// rows, held still, once a person scrolls. The last race's summary is pinned under them.
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
    let inner = layout::inner(area);
    let summary = state.race_summary.as_ref().map(|s| summary_lines(theme, s));
    let pinned = summary
        .as_ref()
        .map_or(0, |lines| lines.len().min(usize::from(inner.height)));
    let mut lines: Vec<Line<'_>> = log
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
    // The summary covers the bottom rows: the rows above it keep the newest of what is shown.
    let room = usize::from(inner.height).saturating_sub(pinned);
    if lines.len() > room {
        lines.drain(..lines.len() - room);
    }
    frame.render_widget(Paragraph::new(lines).block(block), area);
    if let Some(summary) = summary {
        let rows = pinned as u16;
        let at = Rect {
            y: inner.bottom() - rows,
            height: rows,
            ..inner
        };
        let width = usize::from(inner.width);
        let lines: Vec<Line<'_>> = summary
            .into_iter()
            .map(|(text, style)| Line::from(Span::styled(clip(&text, width), style)))
            .collect();
        frame.render_widget(Paragraph::new(lines), at);
    }
}

/// The summary's lines and how each stands out: alarming if either audit found anything.
fn summary_lines(theme: &Theme, summary: &RaceSummary) -> Vec<(String, Style)> {
    let verdict = if summary.held() {
        theme.good()
    } else {
        theme.alarm()
    };
    let [did, audits] = summary.lines();
    vec![(did, theme.heading()), (audits, verdict)]
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
