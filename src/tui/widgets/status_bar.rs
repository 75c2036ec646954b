//! The status bar: rates, rejections, the live audit, the board, the pool.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use super::clip;
use crate::terminal_text::escape;
use crate::tui::state::State;

/// Draws the one-line summary, or the last action's message when there is one.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    // Until the claims made before the TUI opened are audited, none found is not yet 0.
    let violations = if state.violations == 0 && state.counting_totals {
        Span::styled(" violations … ", theme.dim())
    } else if state.violations == 0 {
        Span::styled(" violations 0 ", theme.good())
    } else {
        Span::styled(format!(" VIOLATIONS {} ", state.violations), theme.alarm())
    };
    let pool = match (&state.pool, state.pool.race) {
        (p, _) if !p.running => "pool off".to_owned(),
        (p, race) => format!(
            "pool {}{}{}",
            p.size,
            if p.paused { " paused" } else { "" },
            race.map(|n| format!(" · race {n}")).unwrap_or_default()
        ),
    };
    // The board's refusals, and this session's beside them once they differ.
    let total = state.rejections_before + state.rejections;
    let rejected = if state.counting_totals {
        match state.rejections {
            0 => "…".to_owned(),
            now => format!("… ({now} now)"),
        }
    } else if state.rejections_before > 0 && state.rejections > 0 {
        format!("{total} ({} now)", state.rejections)
    } else {
        total.to_string()
    };
    let mut spans = vec![
        Span::raw(format!(" claims/s {:.1} │ rejected ", state.claims_per_sec)),
        Span::styled(
            rejected,
            if total > 0 {
                theme.alarm()
            } else {
                theme.dim()
            },
        ),
        Span::raw(" │"),
        violations,
        Span::raw(format!("│ {pool} │ ")),
    ];
    if let Some(trouble) = &state.pool.trouble {
        spans.push(Span::styled(
            format!("pool cannot write: {}", clip(&escape(trouble), 50)),
            theme.alarm(),
        ));
        spans.push(Span::raw(" │ "));
    }
    if !state.filter.is_empty() {
        spans.push(Span::styled(
            format!("filter \"{}\"", clip(&state.filter, 20)),
            theme.info().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(" │ "));
    }
    let used: usize = spans.iter().map(|s| s.content.chars().count()).sum();
    let room = usize::from(area.width).saturating_sub(used + 9);
    match &state.message {
        // A message may echo an id as typed, or a board's words.
        Some(message) => spans.push(Span::styled(clip(&escape(message), room), theme.busy())),
        None => spans.push(Span::styled(
            clip(&escape(&state.board_label), room),
            theme.dim(),
        )),
    }
    spans.push(Span::styled(" │ ? help", theme.dim()));
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}
