//! The dependency view of one task: its ancestors above it, its descendants below, each row
//! with its status, the critical path and what holds the task back marked, folds a person can
//! open and close, and a cursor to jump from. Plain data, so it is tested without a terminal.

use std::collections::HashSet;

use crate::core::lineage::Lineage;

/// The most rows the view lays out: a graph shown as a tree repeats shared tasks, so a wide
/// graph is cut here (and says so) rather than drawn without end.
pub const MAX_ROWS: usize = 5_000;

/// Which side of the task a row is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Side {
    /// An ancestor: the task waits for it.
    Needs,
    /// The task itself.
    Root,
    /// A descendant: it waits for the task.
    NeededBy,
}

/// One line of the tree.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeRow {
    /// The task on this line.
    pub id: String,
    /// Its side of the root.
    pub side: Side,
    /// How far from the root, 0 for the root and its section headings' first level.
    pub depth: usize,
    /// Whether it has rows under it, shown or folded.
    pub has_more: bool,
    /// Whether those rows are folded away.
    pub folded: bool,
    /// Shown in full on an earlier line: this one does not repeat what is under it.
    pub repeat: bool,
}

/// The open dependency view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeView {
    /// What it shows.
    pub lineage: Lineage,
    /// The critical path above the root, nearest first.
    pub critical: Vec<String>,
    /// The unfinished ancestors that have to move first.
    pub holding_back: Vec<String>,
    /// Tasks folded by the person, by side.
    folded: HashSet<(Side, String)>,
    /// The line the cursor is on.
    pub cursor: usize,
    rows: Vec<TreeRow>,
    /// Whether the rows were cut at `MAX_ROWS`.
    pub cut: bool,
}

impl TreeView {
    /// The view of `lineage`, everything unfolded, the cursor on the root.
    pub fn new(lineage: Lineage) -> TreeView {
        let mut view = TreeView {
            critical: lineage.critical_path(),
            holding_back: lineage.holding_back(),
            lineage,
            folded: HashSet::new(),
            cursor: 0,
            rows: Vec::new(),
            cut: false,
        };
        view.lay_out();
        view.cursor = view
            .rows
            .iter()
            .position(|r| r.side == Side::Root)
            .unwrap_or(0);
        view
    }

    /// The lines, top to bottom: ancestors (nearest first, each under the task it holds
    /// back), the root, then descendants.
    pub fn rows(&self) -> &[TreeRow] {
        &self.rows
    }

    /// The task under the cursor.
    pub fn selected(&self) -> Option<&str> {
        self.rows.get(self.cursor).map(|r| r.id.as_str())
    }

    /// Moves the cursor, clamped to the lines.
    pub fn move_cursor(&mut self, delta: isize) {
        let last = self.rows.len().saturating_sub(1);
        self.cursor = self.cursor.saturating_add_signed(delta).min(last);
    }

    /// Folds or unfolds the line under the cursor; the cursor stays on it.
    pub fn toggle_fold(&mut self) {
        self.set_fold(None);
    }

    /// Folds the line under the cursor (`true`) or unfolds it (`false`).
    pub fn fold(&mut self, folded: bool) {
        self.set_fold(Some(folded));
    }

    fn set_fold(&mut self, to: Option<bool>) {
        let Some(row) = self.rows.get(self.cursor) else {
            return;
        };
        if !row.has_more || row.side == Side::Root {
            return;
        }
        let key = (row.side, row.id.clone());
        let fold = to.unwrap_or(!self.folded.contains(&key));
        if fold {
            self.folded.insert(key.clone());
        } else {
            self.folded.remove(&key);
        }
        let at = self.cursor;
        self.lay_out();
        self.cursor = at.min(self.rows.len().saturating_sub(1));
    }

    /// Whether `id` is on the critical path above the root.
    pub fn on_critical_path(&self, id: &str) -> bool {
        self.critical.iter().any(|c| c == id)
    }

    /// Whether `id` is one of the unfinished ancestors that have to move first.
    pub fn holds_back(&self, id: &str) -> bool {
        self.holding_back.iter().any(|h| h == id)
    }

    fn lay_out(&mut self) {
        let mut rows = Vec::new();
        let mut cut = false;
        for side in [Side::Needs, Side::NeededBy] {
            let edges = match side {
                Side::Needs => &self.lineage.parents,
                _ => &self.lineage.children,
            };
            let mut shown = HashSet::new();
            // Depth first, children in id order, each shared task in full only once.
            let mut stack: Vec<(String, usize)> = edges
                .get(&self.lineage.root)
                .into_iter()
                .flatten()
                .rev()
                .map(|id| (id.clone(), 0))
                .collect();
            let mut side_rows = Vec::new();
            while let Some((id, depth)) = stack.pop() {
                if rows.len() + side_rows.len() >= MAX_ROWS {
                    cut = true;
                    break;
                }
                let under: &[String] = edges.get(&id).map(Vec::as_slice).unwrap_or_default();
                let repeat = !shown.insert(id.clone());
                let folded = self.folded.contains(&(side, id.clone()));
                if !repeat && !folded {
                    for next in under.iter().rev() {
                        stack.push((next.clone(), depth + 1));
                    }
                }
                side_rows.push(TreeRow {
                    id,
                    side,
                    depth,
                    has_more: !under.is_empty(),
                    folded,
                    repeat,
                });
            }
            if side == Side::NeededBy {
                rows.push(TreeRow {
                    id: self.lineage.root.clone(),
                    side: Side::Root,
                    depth: 0,
                    has_more: false,
                    folded: false,
                    repeat: false,
                });
            }
            rows.extend(side_rows);
        }
        self.rows = rows;
        self.cut = cut || self.lineage.truncated;
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap};

    use super::*;
    use crate::core::Status;
    use crate::core::lineage::LineageNode;

    /// a <- b <- root -> c -> d, and a <- root directly too (a diamond above).
    fn lineage() -> Lineage {
        let node = |status: Status| LineageNode {
            title: "t".into(),
            status,
        };
        let nodes: HashMap<String, LineageNode> = [
            ("a", Status::Ready),
            ("b", Status::Todo),
            ("root", Status::Todo),
            ("c", Status::Todo),
            ("d", Status::Todo),
        ]
        .into_iter()
        .map(|(id, s)| (id.to_owned(), node(s)))
        .collect();
        let list = |ids: &[&str]| ids.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let parents: BTreeMap<String, Vec<String>> = [
            ("root".to_owned(), list(&["a", "b"])),
            ("b".to_owned(), list(&["a"])),
            ("d".to_owned(), list(&["c"])),
            ("c".to_owned(), list(&["root"])),
        ]
        .into_iter()
        .collect();
        let children: BTreeMap<String, Vec<String>> = [
            ("a".to_owned(), list(&["b", "root"])),
            ("b".to_owned(), list(&["root"])),
            ("root".to_owned(), list(&["c"])),
            ("c".to_owned(), list(&["d"])),
        ]
        .into_iter()
        .collect();
        Lineage {
            root: "root".into(),
            nodes,
            parents,
            children,
            truncated: false,
        }
    }

    fn shape(view: &TreeView) -> Vec<String> {
        view.rows()
            .iter()
            .map(|r| {
                format!(
                    "{}{}{}{}",
                    "  ".repeat(r.depth),
                    r.id,
                    if r.repeat { " (again)" } else { "" },
                    if r.folded { " +" } else { "" }
                )
            })
            .collect()
    }

    #[test]
    fn ancestors_come_above_the_task_and_descendants_below_with_shared_ones_once() {
        let view = TreeView::new(lineage());
        assert_eq!(
            shape(&view),
            vec!["a", "b", "  a (again)", "root", "c", "  d"]
        );
        assert_eq!(
            view.selected(),
            Some("root"),
            "the cursor starts on the task"
        );
        assert_eq!(view.critical, vec!["b", "a"]);
        assert!(view.holds_back("a") && !view.holds_back("b"));
    }

    #[test]
    fn folding_hides_what_is_under_a_line_and_unfolding_brings_it_back() {
        let mut view = TreeView::new(lineage());
        view.move_cursor(1);
        assert_eq!(view.selected(), Some("c"));
        view.toggle_fold();
        assert_eq!(shape(&view), vec!["a", "b", "  a (again)", "root", "c +"]);
        assert_eq!(
            view.selected(),
            Some("c"),
            "the cursor stays on the folded line"
        );
        view.fold(false);
        assert_eq!(shape(&view).len(), 6);
    }

    #[test]
    fn the_cursor_stays_within_the_lines() {
        let mut view = TreeView::new(lineage());
        view.move_cursor(-100);
        assert_eq!(view.selected(), Some("a"));
        view.move_cursor(100);
        assert_eq!(view.selected(), Some("d"));
    }
}
