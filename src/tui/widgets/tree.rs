//! The dependency tree of one task: what it needs above it, what needs it below, each line
//! with its status; the critical path and the tasks that hold it back stand out.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};

use super::{centered, clip};
use crate::terminal_text::escape;
use crate::tui::layout;
use crate::tui::state::State;
use crate::tui::tree::{Side, TreeView};

/// Draws the tree over the board.
pub fn draw(frame: &mut Frame<'_>, state: &State, tree: &TreeView, area: Rect) {
    let theme = &state.theme;
    let popup = centered(area, 86, 90);
    let root = &tree.lineage.root;
    let title = tree
        .lineage
        .nodes
        .get(root)
        .map(|n| n.title.as_str())
        .unwrap_or_default();
    let block = Block::new()
        .borders(Borders::ALL)
        .border_style(theme.focus())
        .title(format!(
            " dependencies of {} \"{}\" — Enter opens, Space folds, Esc closes ",
            escape(root),
            escape(title)
        ));
    let inner = layout::inner(popup);
    let width = usize::from(inner.width);
    let mut lines = vec![Line::from(Span::styled(
        clip(&summary(tree), width),
        theme.heading(),
    ))];
    let rows = tree.rows();
    // The summary line and the two headings take rows too.
    let room = usize::from(inner.height).saturating_sub(3);
    let first = layout::first_visible(tree.cursor, room.max(1));
    let mut last_side = None;
    for (index, row) in rows.iter().enumerate().skip(first).take(room) {
        let node = tree.lineage.nodes.get(&row.id);
        let status = node.map_or("?", |n| n.status.as_str());
        let fold = match (row.has_more, row.folded, row.repeat) {
            (_, _, true) => "↺ ",
            (true, true, _) => "▸ ",
            (true, false, _) => "▾ ",
            (false, _, _) => "  ",
        };
        let marks = match (tree.holds_back(&row.id), tree.on_critical_path(&row.id)) {
            (true, _) => "  ← holds it back",
            (false, true) => "  ★ critical path",
            _ => "",
        };
        let lead = match row.side {
            Side::Root => "● ".to_owned(),
            _ => format!("{}{fold}", "  ".repeat(row.depth + 1)),
        };
        let text = format!(
            "{lead}{}  {}  [{}]{}{marks}",
            escape(&row.id),
            escape(node.map_or("", |n| n.title.as_str())),
            escape(status),
            if row.repeat { "  (shown above)" } else { "" },
        );
        let mut style = match row.side {
            Side::Root => theme.heading(),
            _ if tree.holds_back(&row.id) => theme.alarm(),
            _ if tree.on_critical_path(&row.id) => theme.busy(),
            _ if node.is_some_and(|n| n.status.is_finished()) => theme.dim(),
            _ => ratatui::style::Style::default(),
        };
        if index == tree.cursor {
            style = theme.selected();
        }
        let heading = match row.side {
            Side::Needs => "needs (it waits for these)",
            Side::NeededBy => "needed by (these wait for it)",
            Side::Root => "",
        };
        if last_side != Some(row.side) && !heading.is_empty() {
            lines.push(Line::from(Span::styled(heading, theme.dim())));
        }
        last_side = Some(row.side);
        lines.push(Line::from(Span::styled(clip(&text, width), style)));
    }
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(lines).block(block), popup);
}

/// The line above the tree: what the task waits for, in a few words.
fn summary(tree: &TreeView) -> String {
    let ancestors = tree.lineage.ancestors().len();
    let descendants = tree.lineage.descendants().len();
    let waits = match (tree.critical.len(), tree.holding_back.as_slice()) {
        (0, _) => "nothing unfinished above it".to_owned(),
        (n, [one]) => format!("waits on {} (critical path {n} long)", escape(one)),
        (n, many) => format!(
            "waits on {} tasks first (critical path {n} long)",
            many.len()
        ),
    };
    let cut = if tree.cut {
        "; cut, the graph is larger"
    } else {
        ""
    };
    format!("needs {ancestors}, needed by {descendants}: {waits}{cut}")
}
