//! The worker panel: each worker's state, its task, and how many it finished.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::pool::WorkerState;
use crate::terminal_text::Escaped;
use crate::tui::layout;
use crate::tui::state::{Pane, State};

/// Draws one line per worker, or why there are none.
pub fn draw(frame: &mut Frame<'_>, state: &State, area: Rect) {
    let theme = &state.theme;
    let pool = &state.pool;
    // Workers shrunk away still finish their task: the title counts them too, so it says
    // why there are more rows than workers asked for.
    let rows = pool
        .workers
        .iter()
        .filter(|w| w.state != WorkerState::Retired)
        .count();
    let finishing = match rows.saturating_sub(pool.size) {
        0 => String::new(),
        n => format!(" (+{n} finishing)"),
    };
    let title = if !pool.running {
        " workers: off ".to_owned()
    } else if pool.paused {
        format!(" workers: {}{finishing} paused ", pool.size)
    } else {
        format!(" workers: {}{finishing} ", pool.size)
    };
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(if state.pane == Pane::Workers {
            theme.focus()
        } else {
            theme.frame()
        })
        .title(Span::styled(title, theme.heading()));
    if !pool.running {
        let text = vec![
            Line::from("No workers run on this board."),
            Line::from(Span::styled("Press + to start one.", theme.dim())),
        ];
        frame.render_widget(Paragraph::new(text).block(block), area);
        return;
    }
    let height = usize::from(layout::inner(area).height);
    let first = layout::first_visible(state.worker_row, height);
    let lines: Vec<Line<'_>> = pool
        .workers
        .iter()
        .enumerate()
        .filter(|(_, w)| w.state != WorkerState::Retired)
        .skip(first)
        .take(height)
        .map(|(i, w)| {
            let (label, style) = match &w.state {
                WorkerState::Working { task } => {
                    (format!("working {}", Escaped(task)), theme.busy())
                }
                WorkerState::Idle => ("idle".to_owned(), theme.dim()),
                WorkerState::Paused => ("paused".to_owned(), theme.dim()),
                WorkerState::Retired => ("retired".to_owned(), theme.dim()),
            };
            let mut spans = vec![
                Span::raw(format!("w{i:<3}")),
                Span::styled(format!("{label:<22}"), style),
            ];
            // The command right after the task, so a narrow pane still shows what runs; the
            // counters trail.
            if let Some(command) = &w.command {
                spans.push(Span::raw(format!(" $ {}", Escaped(command))));
            }
            spans.push(Span::styled(format!(" done {}", w.done), theme.dim()));
            if let Some(pid) = w.pid {
                spans.push(Span::styled(format!("  pid {pid}"), theme.dim()));
            }
            let mut line = Line::from(spans);
            if state.pane == Pane::Workers && i == state.worker_row {
                line = line.style(theme.selected());
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}
