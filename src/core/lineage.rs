//! A task's place in the graph: its ancestors and descendants, which unfinished ancestors hold
//! it back, and the critical path above it. What an operator asks of a gated task: "what is it
//! waiting for, and what is the longest chain of work still between it and its turn?"

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};

use rusqlite::params;

use super::error::Result;
use super::model::{Status, text};
use super::query::Reader;

/// The most tasks a lineage reads on each side; a graph past that is marked `truncated`, so a
/// huge board never stalls the view that asked.
pub const LINEAGE_LIMIT: usize = 2_000;

/// One task of a lineage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LineageNode {
    /// The task's title.
    pub title: String,
    /// Its status.
    pub status: Status,
}

/// Every ancestor and descendant of one task, with the links among them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Lineage {
    /// The task the lineage is of.
    pub root: String,
    /// Every task in it, the root included.
    pub nodes: HashMap<String, LineageNode>,
    /// Each task's parents within the lineage, sorted by id.
    pub parents: BTreeMap<String, Vec<String>>,
    /// Each task's children within the lineage, sorted by id.
    pub children: BTreeMap<String, Vec<String>>,
    /// Whether a side had more than `LINEAGE_LIMIT` tasks and was cut there.
    pub truncated: bool,
}

impl Lineage {
    fn add_link(&mut self, parent: &str, child: &str) {
        if !self.nodes.contains_key(parent) || !self.nodes.contains_key(child) {
            return;
        }
        self.parents
            .entry(child.to_owned())
            .or_default()
            .push(parent.to_owned());
        self.children
            .entry(parent.to_owned())
            .or_default()
            .push(child.to_owned());
    }

    fn unfinished(&self, id: &str) -> bool {
        self.nodes.get(id).is_some_and(|n| !n.status.is_finished())
    }

    /// Unfinished ancestors whose own parents are all finished: the work that has to move
    /// first for the root to get its turn, sorted by id.
    pub fn holding_back(&self) -> Vec<String> {
        self.ancestors()
            .into_iter()
            .filter(|id| self.unfinished(id))
            .filter(|id| {
                self.parents
                    .get(id)
                    .is_none_or(|ps| ps.iter().all(|p| !self.unfinished(p)))
            })
            .collect()
    }

    /// The longest chain of unfinished ancestors above the root, nearest first: the work that
    /// decides how long the root still waits, one task after another.
    pub fn critical_path(&self) -> Vec<String> {
        let mut depth: HashMap<&str, usize> = HashMap::new();
        let mut path = Vec::new();
        let mut at = self.root.as_str();
        loop {
            let next = self
                .parents
                .get(at)
                .into_iter()
                .flatten()
                .filter(|p| self.unfinished(p))
                .max_by_key(|p| (self.chain_depth(p, &mut depth), std::cmp::Reverse(*p)));
            match next {
                Some(parent) if !path.contains(parent) => {
                    path.push(parent.clone());
                    at = parent;
                }
                _ => return path,
            }
        }
    }

    /// The length of the longest unfinished chain ending at `id` (itself included).
    fn chain_depth<'a>(&'a self, id: &'a str, memo: &mut HashMap<&'a str, usize>) -> usize {
        // Iterative, so a deep chain cannot overflow the stack; a cycle (a corrupt board)
        // counts each task once.
        let mut stack = vec![(id, false)];
        let mut open = HashSet::new();
        while let Some((at, expanded)) = stack.pop() {
            if memo.contains_key(at) {
                continue;
            }
            let parents = self.parents.get(at).map(Vec::as_slice).unwrap_or_default();
            if expanded {
                let deepest = parents
                    .iter()
                    .filter(|p| self.unfinished(p))
                    .filter_map(|p| memo.get(p.as_str()))
                    .max()
                    .copied()
                    .unwrap_or(0);
                memo.insert(at, deepest + 1);
                continue;
            }
            if !open.insert(at) {
                continue;
            }
            stack.push((at, true));
            for p in parents.iter().filter(|p| self.unfinished(p)) {
                if !memo.contains_key(p.as_str()) && !open.contains(p.as_str()) {
                    stack.push((p, false));
                }
            }
        }
        memo.get(id).copied().unwrap_or(1)
    }

    /// Every ancestor of the root.
    pub fn ancestors(&self) -> Vec<String> {
        self.reach(&self.parents)
    }

    /// Every descendant of the root.
    pub fn descendants(&self) -> Vec<String> {
        self.reach(&self.children)
    }

    fn reach(&self, edges: &BTreeMap<String, Vec<String>>) -> Vec<String> {
        let mut seen = HashSet::new();
        let mut todo = vec![self.root.clone()];
        let mut found = Vec::new();
        while let Some(at) = todo.pop() {
            for next in edges.get(&at).into_iter().flatten() {
                if next != &self.root && seen.insert(next.clone()) {
                    found.push(next.clone());
                    todo.push(next.clone());
                }
            }
        }
        found.sort();
        found
    }
}

impl Reader<'_> {
    /// The lineage of `id`: up to `LINEAGE_LIMIT` ancestors and as many descendants.
    pub fn lineage(&self, id: &str) -> Result<Lineage> {
        self.lineage_within(id, LINEAGE_LIMIT)
    }

    fn lineage_within(&self, id: &str, side_limit: usize) -> Result<Lineage> {
        let root = self.task(id)?;
        let mut lineage = Lineage {
            root: root.id.clone(),
            ..Lineage::default()
        };
        lineage.nodes.insert(
            root.id.clone(),
            LineageNode {
                title: root.title,
                status: root.status,
            },
        );
        // Breadth first from the root each way, so a cut keeps the nearest tasks; a task seen
        // twice (a diamond, or a cycle on a corrupt board) is walked once.
        for upward in [true, false] {
            let sql = if upward {
                "SELECT l.parent_id, t.title, t.status FROM task_links l \
                 LEFT JOIN tasks t ON t.id = l.parent_id WHERE l.child_id = ?1"
            } else {
                "SELECT l.child_id, t.title, t.status FROM task_links l \
                 LEFT JOIN tasks t ON t.id = l.child_id WHERE l.parent_id = ?1"
            };
            let mut stmt = self.conn().prepare_cached(sql)?;
            let mut found = 0usize;
            let mut walk = VecDeque::from([lineage.root.clone()]);
            while let Some(at) = walk.pop_front() {
                let rows = stmt
                    .query_map(params![at], |r| {
                        Ok((text(r, 0)?.unwrap_or_default(), text(r, 1)?, text(r, 2)?))
                    })?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for (far, title, status) in rows {
                    if !lineage.nodes.contains_key(&far) {
                        if found == side_limit {
                            lineage.truncated = true;
                            continue;
                        }
                        found += 1;
                        // A link to a task that does not exist is shown as such, not dropped.
                        lineage.nodes.insert(
                            far.clone(),
                            LineageNode {
                                title: title.unwrap_or_else(|| "(no such task)".into()),
                                status: status
                                    .map_or(Status::Other("missing".into()), |s| Status::parse(&s)),
                            },
                        );
                        walk.push_back(far.clone());
                    }
                    if upward {
                        lineage.add_link(&far, &at);
                    } else {
                        lineage.add_link(&at, &far);
                    }
                }
            }
        }
        for ids in lineage
            .parents
            .values_mut()
            .chain(lineage.children.values_mut())
        {
            ids.sort();
            ids.dedup();
        }
        Ok(lineage)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::error::BoardError;
    use crate::core::{Board, NewTask};

    fn board() -> (tempfile::TempDir, Board) {
        crate::core::scratch_board()
    }

    fn add(board: &mut Board, title: &str, parents: &[&str]) -> String {
        board
            .write(|t| {
                t.create(&NewTask {
                    title: title.into(),
                    parents: parents.iter().map(|p| (*p).to_owned()).collect(),
                    ..NewTask::default()
                })
            })
            .expect("create")
    }

    #[test]
    fn a_lineage_names_what_holds_a_task_back_and_its_critical_path() {
        let (_dir, mut board) = board();
        let a = add(&mut board, "a", &[]);
        let b = add(&mut board, "b", &[&a]);
        let x = add(&mut board, "x", &[]);
        board.write(|t| t.complete(&x, None, None)).expect("x done");
        let c = add(&mut board, "c", &[&b, &x]);
        let short = add(&mut board, "short", &[]);
        let root = add(&mut board, "root", &[&c, &short]);
        let d = add(&mut board, "d", &[&root]);
        let e = add(&mut board, "e", &[&d]);
        let lineage = board.read(|r| r.lineage(&root)).expect("lineage");
        let mut ancestors = vec![a.clone(), b.clone(), c.clone(), x.clone(), short.clone()];
        ancestors.sort();
        assert_eq!(lineage.ancestors(), ancestors);
        let mut descendants = vec![d.clone(), e.clone()];
        descendants.sort();
        assert_eq!(lineage.descendants(), descendants);
        assert_eq!(
            lineage.critical_path(),
            vec![c.clone(), b.clone(), a.clone()]
        );
        let mut frontier = vec![a.clone(), short.clone()];
        frontier.sort();
        assert_eq!(
            lineage.holding_back(),
            frontier,
            "x is done, so it holds nothing back"
        );
        assert_eq!(lineage.nodes[&x].status, Status::Done);
        assert!(!lineage.truncated);
    }

    #[test]
    fn a_task_with_finished_ancestors_has_no_critical_path() {
        let (_dir, mut board) = board();
        let a = add(&mut board, "a", &[]);
        board.write(|t| t.complete(&a, None, None)).expect("a done");
        let root = add(&mut board, "root", &[&a]);
        let lineage = board.read(|r| r.lineage(&root)).expect("lineage");
        assert!(lineage.critical_path().is_empty());
        assert!(lineage.holding_back().is_empty());
    }

    #[test]
    fn a_long_chain_is_cut_at_the_limit_and_says_so() {
        let (_dir, mut board) = board();
        let mut last = add(&mut board, "first", &[]);
        for i in 0..10 {
            last = add(&mut board, &format!("step {i}"), &[&last]);
        }
        let lineage = board.read(|r| r.lineage_within(&last, 4)).expect("lineage");
        assert!(lineage.truncated);
        assert_eq!(lineage.ancestors().len(), 4);
    }

    #[test]
    fn a_lineage_of_no_task_is_an_unknown_task() {
        let (_dir, board) = board();
        let err = board
            .read(|r| r.lineage("t_0000beef"))
            .expect_err("no task");
        assert!(matches!(err, BoardError::UnknownTask(_)), "{err:?}");
    }
}
