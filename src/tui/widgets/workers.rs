//! The worker panel: each worker's state, its task, and how many it finished.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph};

use crate::pool::{WorkerState, WorkerStatus};
use crate::terminal_text::Escaped;
use crate::tui::layout;
use crate::tui::state::{Pane, State};

/// Characters of a command a worker's line keeps before it gives up showing its counters.
const COMMAND_AT_LEAST: usize = 16;

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
    let width = usize::from(layout::inner(area).width);
    let first = layout::first_visible(state.worker_row, height);
    let label_of = |w: &WorkerStatus| match &w.state {
        WorkerState::Working { task } => format!("working {}", Escaped(task)),
        WorkerState::Idle => "idle".to_owned(),
        WorkerState::Paused => "paused".to_owned(),
        WorkerState::Retired => "retired".to_owned(),
    };
    // Labels padded to the longest shown, so the commands line up without wasting the room
    // a narrow pane needs for them.
    let label_width = pool
        .workers
        .iter()
        .map(|w| label_of(w).chars().count())
        .max()
        .unwrap_or(0);
    let lines: Vec<Line<'_>> = pool
        .workers
        .iter()
        .enumerate()
        .filter(|(_, w)| w.state != WorkerState::Retired)
        .skip(first)
        .take(height)
        .map(|(i, w)| {
            let style = match &w.state {
                WorkerState::Working { .. } => theme.busy(),
                _ => theme.dim(),
            };
            let (worker, label) = (format!("w{i:<3}"), format!("{:<label_width$}", label_of(w)));
            let command = w
                .command
                .as_ref()
                .map(|c| format!(" $ {}", Escaped(c)))
                .unwrap_or_default();
            // The command follows the task and the counters trail; where the pane is too narrow
            // for all of it, the pid goes first, then the done count, then the command is cut
            // short, so no counter ever reads as part of it.
            let room_beside = |counters: &str| {
                let taken = [&worker, &label].map(|s| s.chars().count());
                width.saturating_sub(taken.iter().sum::<usize>() + counters.chars().count())
            };
            let done = format!("  done {}", w.done);
            let with_pid = w.pid.map(|pid| format!("{done}  pid {pid}"));
            let counters = [with_pid, Some(done)]
                .into_iter()
                .flatten()
                .find(|c| command.is_empty() || room_beside(c) >= COMMAND_AT_LEAST)
                .unwrap_or_default();
            let room = room_beside(&counters);
            let spans = vec![
                Span::raw(worker),
                Span::styled(label, style),
                Span::raw(cut_to(&command, room)),
                Span::styled(counters, theme.dim()),
            ];
            let mut line = Line::from(spans);
            if state.pane == Pane::Workers && i == state.worker_row {
                line = line.style(theme.selected());
            }
            line
        })
        .collect();
    frame.render_widget(Paragraph::new(lines).block(block), area);
}

/// `text` in at most `room` characters, its end replaced by `…` when it does not fit.
fn cut_to(text: &str, room: usize) -> String {
    if text.chars().count() <= room {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(room.saturating_sub(1)).collect();
    if room > 0 {
        cut.push('…');
    }
    cut
}
