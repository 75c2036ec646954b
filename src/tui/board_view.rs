//! The board's tasks as the columns hold them: short columns whole, long ones (done and
//! archived always, which on an old board hold almost every task) as a counted column with a
//! window of cards read a page at a time.

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::core::{Keyed, Status, Task};

/// The statuses a view read from the board always pages instead of holding: on a board that
/// has lived for months, almost every task is one of these, and nobody scrolls through a
/// million of them.
pub const PAGED: [Status; 2] = [Status::Done, Status::Archived];

/// The board's tasks, grouped into columns in claim order; updated task by task as events arrive.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct BoardView {
    tasks: HashMap<String, Card>,
    /// Each column's ids in claim order: a whole column, or the window held of a paged one.
    columns: HashMap<Status, Vec<String>>,
    /// The columns held a window at a time.
    paged: HashMap<Status, Paging>,
}

/// A task and its place in claim order's last tie-break.
#[derive(Clone, Debug, PartialEq)]
struct Card {
    task: Task,
    /// SQLite's rowid (or, for tasks given without one, their position in the claim order
    /// they came in): the tie-break priority and age leave.
    rowid: i64,
}

/// Claim order, as `claim_next` takes tasks: priority first (NULL last, as SQLite sorts it
/// under DESC), then age, then insertion order.
fn order(card: &Card) -> (Reverse<Option<i64>>, i64, i64) {
    (
        Reverse(card.task.priority),
        card.task.created_at,
        card.rowid,
    )
}

/// Where a long column's held window sits in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Paging {
    /// Cards of the column that contain `filter`.
    pub len: usize,
    /// Cards of the column, whatever the filter.
    pub all: usize,
    /// The row of the window's first card.
    pub first: usize,
    /// The filter the window and `len` were read for.
    pub filter: String,
}

/// Where a long column's next window is to be read around.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PageAt {
    /// A row of the column.
    Row(usize),
    /// A task's row, or the top if the column (under the filter) does not have it.
    Task(String),
}

/// One window of a long column, as the board gave it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The column.
    pub status: Status,
    /// Where the window sits, and what it was read for.
    pub paging: Paging,
    /// Its cards in claim order, from row `paging.first`.
    pub cards: Vec<Keyed>,
}

/// Whether `task` contains `filter` (lowercase) in its id or title.
pub fn matches(task: &Task, filter: &str) -> bool {
    filter.is_empty()
        || task.title.to_lowercase().contains(filter)
        || task.id.to_lowercase().contains(filter)
}

impl BoardView {
    /// A view holding these tasks whole, given in the board's claim order (as `Reader::tasks`
    /// returns them): their position breaks the ties priority and age leave.
    pub fn load(tasks: Vec<Task>) -> BoardView {
        let keyed = tasks
            .into_iter()
            .zip(0..)
            .map(|(task, rowid)| Keyed { rowid, task });
        BoardView::from_board(keyed.collect(), Vec::new())
    }

    /// A view holding `whole` (every task of the short columns) and a window of each long
    /// column.
    pub fn from_board(whole: Vec<Keyed>, pages: Vec<Page>) -> BoardView {
        let mut view = BoardView::default();
        for keyed in whole {
            view.columns
                .entry(keyed.task.status.clone())
                .or_default()
                .push(keyed.task.id.clone());
            view.insert(keyed);
        }
        let cards = &view.tasks;
        for ids in view.columns.values_mut() {
            ids.sort_by_key(|id| cards.get(id).map(order));
        }
        for page in pages {
            view.columns.insert(
                page.status.clone(),
                page.cards.iter().map(|k| k.task.id.clone()).collect(),
            );
            view.paged.insert(page.status, page.paging);
            for keyed in page.cards {
                view.insert(keyed);
            }
        }
        view
    }

    fn insert(&mut self, keyed: Keyed) {
        let card = Card {
            rowid: keyed.rowid,
            task: keyed.task,
        };
        self.tasks.insert(card.task.id.clone(), card);
    }

    /// Puts a fresh copy of one task in place, moving it between columns if its status changed.
    /// A task that joins a long column outside its window is counted, not held, unless `keep`.
    /// Returns whether the view held the task before.
    pub fn upsert(&mut self, keyed: Keyed, keep: bool) -> bool {
        let old = self.tasks.remove(&keyed.task.id);
        let known = old.is_some();
        if let Some(old) = &old {
            let mut above_the_window = false;
            if let Some(ids) = self.columns.get_mut(&old.task.status) {
                match ids.iter().position(|id| *id == old.task.id) {
                    Some(at) => {
                        ids.remove(at);
                    }
                    // Held outside the window (a cursor chose it): it may have sat above it.
                    None => {
                        above_the_window = ids
                            .first()
                            .and_then(|id| self.tasks.get(id))
                            .is_some_and(|first| order(old) < order(first));
                    }
                }
            }
            if let Some(paging) = self.paged.get_mut(&old.task.status) {
                if matches(&old.task, &paging.filter) {
                    paging.len = paging.len.saturating_sub(1);
                    if above_the_window {
                        paging.first = paging.first.saturating_sub(1);
                    }
                }
                paging.all = paging.all.saturating_sub(1);
            }
        }
        let card = Card {
            rowid: keyed.rowid,
            task: keyed.task,
        };
        let status = card.task.status.clone();
        let ids = self.columns.entry(status.clone()).or_default();
        let cards = &self.tasks;
        let at = ids
            .binary_search_by(|id| cards.get(id).map(order).cmp(&Some(order(&card))))
            .unwrap_or_else(|at| at);
        let held = match self.paged.get_mut(&status) {
            None => true,
            Some(paging) => {
                paging.all += 1;
                if matches(&card.task, &paging.filter) {
                    paging.len += 1;
                    let end = paging.first + ids.len();
                    if at == 0 && paging.first > 0 {
                        // Before the window: the window's rows move down one.
                        paging.first += 1;
                        false
                    } else {
                        // Past the window's last card, it is held only if the window reaches
                        // the column's end.
                        at < ids.len() || end + 1 >= paging.len
                    }
                } else {
                    false
                }
            }
        };
        if held {
            ids.insert(at, card.task.id.clone());
        }
        if held || keep {
            self.tasks.insert(card.task.id.clone(), card);
        }
        known
    }

    /// Takes a new window of a long column in place of the old one; the old window's cards
    /// leave memory, but for those in `keep`. A card the view holds in another column is left
    /// there: a page read while the looks went on may be older than what they brought.
    pub fn replace_page(&mut self, mut page: Page, keep: &[&str]) {
        let tasks = &self.tasks;
        page.cards.retain(|k| {
            tasks
                .get(&k.task.id)
                .is_none_or(|held| held.task.status == page.status)
        });
        let ids: Vec<String> = page.cards.iter().map(|k| k.task.id.clone()).collect();
        if let Some(old) = self.columns.insert(page.status.clone(), ids) {
            for id in old {
                if !keep.contains(&id.as_str()) {
                    self.tasks.remove(&id);
                }
            }
        }
        self.paged.insert(page.status, page.paging);
        for keyed in page.cards {
            self.insert(keyed);
        }
    }

    /// The ids of one column in claim order: all of them, or a long column's window.
    pub fn column(&self, status: &Status) -> &[String] {
        self.columns.get(status).map_or(&[], Vec::as_slice)
    }

    /// Where a long column's window sits; None for a column held whole.
    pub fn paging(&self, status: &Status) -> Option<&Paging> {
        self.paged.get(status)
    }

    /// How many tasks a column has, whatever the filter.
    pub fn column_len(&self, status: &Status) -> usize {
        match self.paged.get(status) {
            Some(paging) => paging.all,
            None => self.column(status).len(),
        }
    }

    /// The long columns, with where their windows sit.
    pub fn pagings(&self) -> impl Iterator<Item = (&Status, &Paging)> {
        self.paged.iter()
    }

    /// A task by id, if the view holds it.
    pub fn task(&self, id: &str) -> Option<&Task> {
        self.tasks.get(id).map(|card| &card.task)
    }

    /// How many tasks the board has, held or counted.
    pub fn len(&self) -> usize {
        self.columns
            .keys()
            .chain(self.paged.keys())
            .collect::<std::collections::HashSet<_>>()
            .into_iter()
            .map(|status| self.column_len(status))
            .sum()
    }

    /// Whether the board is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Statuses present that are not among the five columns.
    pub fn other_statuses(&self) -> Vec<Status> {
        let mut others: Vec<Status> = self
            .columns
            .keys()
            .chain(self.paged.keys())
            .filter(|s| self.column_len(s) > 0 && !Status::COLUMNS.contains(s))
            .cloned()
            .collect();
        others.sort();
        others.dedup();
        others
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyed(id: &str, status: Status, rowid: i64) -> Keyed {
        Keyed {
            rowid,
            task: Task {
                id: id.into(),
                title: id.into(),
                body: None,
                assignee: None,
                status,
                priority: Some(0),
                created_by: None,
                created_at: 0,
                started_at: None,
                completed_at: None,
                claim_lock: None,
                claim_expires: None,
                result: None,
                current_run_id: None,
                block_reason: None,
                command: None,
                timeout_secs: None,
                failures: 0,
                retry_at_ms: None,
                run_started_at: None,
                gated: false,
            },
        }
    }

    fn page(status: Status, first: usize, len: usize, cards: Vec<Keyed>) -> Page {
        Page {
            status,
            paging: Paging {
                len,
                all: len,
                first,
                filter: String::new(),
            },
            cards,
        }
    }

    #[test]
    fn a_page_leaves_a_task_the_view_holds_in_another_column_where_it_is() {
        let mut view = BoardView::from_board(
            vec![keyed("a", Status::Ready, 1)],
            vec![page(Status::Done, 0, 0, Vec::new())],
        );
        view.replace_page(
            page(
                Status::Done,
                0,
                2,
                vec![keyed("a", Status::Done, 1), keyed("b", Status::Done, 2)],
            ),
            &[],
        );
        assert_eq!(view.column(&Status::Ready), ["a"]);
        assert_eq!(view.column(&Status::Done), ["b"]);
    }

    #[test]
    fn a_task_joining_a_long_column_above_its_window_moves_the_window_down() {
        let mut view = BoardView::from_board(
            Vec::new(),
            vec![page(
                Status::Done,
                5,
                10,
                vec![keyed("f", Status::Done, 60), keyed("g", Status::Done, 70)],
            )],
        );
        view.upsert(keyed("early", Status::Done, 1), false);
        let paging = view.paging(&Status::Done).cloned().unwrap_or_default();
        assert_eq!((paging.first, paging.len), (6, 11));
        assert!(view.task("early").is_none(), "counted, not held");
        view.upsert(keyed("between", Status::Done, 65), false);
        assert_eq!(view.column(&Status::Done), ["f", "between", "g"]);
    }
}
