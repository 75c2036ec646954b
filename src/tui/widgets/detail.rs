//! One task in full: body, parents and children with their status, why it is not ready, runs, events.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};

use super::{centered, moment, moment_ago};
use crate::core::TaskDetail;
use crate::core::model::{Comment, Neighbour, Run};
use crate::terminal_text::{self, Escaped, escape};
use crate::tui::state::State;
use crate::tui::theme::Theme;

/// How many of a task's newest events the view lists.
const EVENTS_SHOWN: usize = 8;

/// Draws the detail view over the board.
pub fn draw(frame: &mut Frame<'_>, state: &State, detail: &TaskDetail, area: Rect) {
    let theme = &state.theme;
    let t = &detail.task;
    let popup = centered(area, 86, 90);
    let mut lines = vec![
        Line::from(vec![
            Span::styled(escape(&t.title).into_owned(), theme.heading()),
            Span::styled(format!("  {}", Escaped(&t.id)), theme.dim()),
        ]),
        Line::from(format!(
            "status {}   priority {}   assignee {}",
            Escaped(t.status.as_str()),
            t.priority.map_or_else(|| "-".to_owned(), |p| p.to_string()),
            Escaped(t.assignee.as_deref().unwrap_or("-"))
        )),
    ];
    match &detail.not_ready_because {
        Some(why) => lines.push(Line::from(vec![
            Span::styled("not ready: ", theme.heading()),
            Span::raw(escape(why).into_owned()),
        ])),
        None => lines.push(Line::from(Span::styled("ready to claim", theme.good()))),
    }
    let mut times = vec![format!("created {}", moment_ago(t.created_at, state.now))];
    if let Some(started) = t.started_at {
        times.push(format!("started {}", moment_ago(started, state.now)));
    }
    if let Some(completed) = t.completed_at {
        times.push(format!("completed {}", moment_ago(completed, state.now)));
    }
    lines.push(Line::from(Span::styled(times.join("   "), theme.dim())));
    if let Some(command) = &detail.command {
        lines.push(Line::from(vec![
            Span::styled("command: ", theme.heading()),
            Span::raw(escape(&command.command).into_owned()),
        ]));
        let mut how = vec![format!("in {}", Escaped(&command.cwd))];
        if let Some(secs) = command.timeout_secs {
            how.push(format!("timeout {secs}s"));
        }
        how.push(format!("retries {}", command.retries));
        if !command.env.is_empty() {
            let names: Vec<String> = command
                .env
                .iter()
                .map(|(k, _)| Escaped(k).to_string())
                .collect();
            how.push(format!("env {}", names.join(" ")));
        }
        lines.push(Line::from(Span::styled(
            format!("  {}", how.join("   ")),
            theme.dim(),
        )));
    }
    if let Some(body) = &t.body {
        lines.push(Line::from(""));
        lines.extend(body.lines().map(|l| Line::from(escape(l).into_owned())));
    }
    if let Some(result) = &t.result {
        lines.push(Line::from(format!("result: {}", Escaped(result))));
    }
    neighbours(&mut lines, theme, "parents", &detail.parents);
    neighbours(&mut lines, theme, "children", &detail.children);
    comments(&mut lines, theme, &detail.comments, state.now);
    if !detail.runs.is_empty() {
        lines.push(Line::from(Span::styled("runs", theme.heading())));
        for run in &detail.runs {
            let outcome = run
                .outcome_beyond_status()
                .map(|o| format!(" {}", Escaped(o)))
                .unwrap_or_default();
            lines.push(Line::from(format!(
                "  #{} {} {}{}{} run by {}",
                run.id,
                moment(run.started_at),
                Escaped(&run.status),
                outcome,
                how_it_ended(run),
                Escaped(run.runner())
            )));
            if let Some(why) = run.why() {
                lines.push(Line::from(Span::styled(
                    format!("      why: {}", Escaped(why)),
                    theme.dim(),
                )));
            }
            if let Some(error) = &run.error {
                lines.push(Line::from(Span::styled(
                    format!("      error: {}", Escaped(error)),
                    theme.alarm(),
                )));
            }
        }
    }
    for tail in &state.log_tails {
        let label = if tail.live {
            format!("output of run #{} (live)", tail.run_id)
        } else {
            format!("end of run #{}", tail.run_id)
        };
        lines.push(Line::from(Span::styled(label, theme.heading())));
        if tail.lines.is_empty() {
            let none = if tail.live {
                "  (no output yet)"
            } else {
                "  (no output)"
            };
            lines.push(Line::from(Span::styled(none, theme.dim())));
        }
        for line in &tail.lines {
            lines.push(Line::from(Span::styled(format!("  {line}"), theme.dim())));
        }
    }
    lines.push(Line::from(Span::styled("latest events", theme.heading())));
    let skip = detail.events.len().saturating_sub(EVENTS_SHOWN);
    for e in detail.events.iter().skip(skip) {
        let payload = e
            .payload
            .as_ref()
            .map(terminal_text::json)
            .unwrap_or_default();
        lines.push(Line::from(vec![
            Span::styled(
                format!("  {:>6} {} ", e.id, moment(e.created_at)),
                theme.dim(),
            ),
            Span::raw(format!("{} ", Escaped(e.kind.as_str()))),
            Span::styled(payload, theme.dim()),
        ]));
    }
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(" task — j/k scroll, m comments, Esc closes ");
    // Scrolled no further than its last line stays on screen; a long line wraps onto more
    // rows, counted as the paragraph will wrap it.
    let height = usize::from(popup.height.saturating_sub(2));
    let width = usize::from(popup.width.saturating_sub(2)).max(1);
    let rows: usize = lines.iter().map(|l| l.width().div_ceil(width).max(1)).sum();
    let scroll = state.detail_scroll.min(rows.saturating_sub(height.max(1)));
    let block = if scroll + height < rows {
        block.title_bottom(Line::from(Span::styled(" ↓ more ", theme.dim())).right_aligned())
    } else {
        block
    };
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .scroll((u16::try_from(scroll).unwrap_or(u16::MAX), 0)),
        popup,
    );
}

/// ", exit 3, 1.2s": how a run's command ended and how long it took, when it ran one.
fn how_it_ended(run: &Run) -> String {
    let parts = run.how_it_ended();
    if parts.is_empty() {
        String::new()
    } else {
        format!(", {}", parts.join(", "))
    }
}

/// Every comment, oldest first, its text in full (escaped: another program may have written it).
fn comments(lines: &mut Vec<Line<'static>>, theme: &Theme, comments: &[Comment], now: i64) {
    if comments.is_empty() {
        lines.push(Line::from(vec![
            Span::styled("comments ", theme.heading()),
            Span::styled("none (m adds one)", theme.dim()),
        ]));
        return;
    }
    lines.push(Line::from(Span::styled("comments", theme.heading())));
    for c in comments {
        lines.push(Line::from(vec![
            Span::styled(format!("  {} ", moment_ago(c.created_at, now)), theme.dim()),
            Span::styled(format!("{}:", Escaped(&c.author)), theme.info()),
        ]));
        for text in c.body.lines() {
            lines.push(Line::from(format!("    {}", Escaped(text))));
        }
    }
}

fn neighbours(lines: &mut Vec<Line<'static>>, theme: &Theme, label: &str, list: &[Neighbour]) {
    if list.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(format!("{label} "), theme.heading()),
            Span::styled("none", theme.dim()),
        ]));
        return;
    }
    lines.push(Line::from(Span::styled(label.to_owned(), theme.heading())));
    for n in list {
        let style = if n.status.is_finished() {
            theme.good()
        } else {
            theme.busy()
        };
        lines.push(Line::from(vec![
            Span::raw(format!("  {} ", Escaped(&n.id))),
            Span::styled(format!("{:<9}", Escaped(n.status.as_str())), style),
            Span::raw(format!(" {}", Escaped(&n.title))),
        ]));
    }
}
