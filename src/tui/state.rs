//! Everything a frame is drawn from: plain data, changed only by `Model::update_at`.

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use crate::core::{Event, Keyed, Status, Task, TaskDetail};
use crate::pool::racer::RaceMode;
use crate::pool::{WorkerState, WorkerStatus};

pub use super::board_view::BoardView;
use super::board_view::{Page, PageAt, matches};
use super::event_log::EventLog;
use super::keymap::Keymap;
use super::line_edit::LineEdit;
use super::picker::Picker;
use super::theme::Theme;
use super::tree::TreeView;

/// Rows a long column's cursor keeps from the edges of its window: nearer, the next window
/// is read.
const PAGE_MARGIN: usize = 50;

/// Where the cursor sits in one column: on a task, so it stays with that task while cards
/// above it come and go.
#[derive(Clone, Debug)]
struct ColumnCursor {
    /// The selected task; None while the column is empty.
    task: Option<String>,
    /// The card just below it when last placed or followed: where the cursor goes when the
    /// task leaves, as a list's cursor does when its line is deleted.
    below: Option<String>,
    /// The card just above it, for when the task and the card below both left.
    above: Option<String>,
    /// Its row when last placed or followed, for when all three left.
    row: usize,
    /// The task left this column by itself (a worker claimed it, another process moved it):
    /// keys still act on it, wherever it went, until the person moves the cursor, so a key
    /// pressed as it left never lands on the card that took its row.
    departed: bool,
    /// The person put it on its task (a move, a click, a jump): only such a cursor holds on to
    /// a task the board moves away. One left where the board put it (the top card at start, a
    /// neighbour that took a row) just follows the cards.
    placed_by_person: bool,
}

impl ColumnCursor {
    /// The cursor on row `row` of `cards` (clamped).
    fn at(cards: &[&Task], row: usize) -> ColumnCursor {
        let row = row.min(cards.len().saturating_sub(1));
        let id = |at: Option<usize>| at.and_then(|at| cards.get(at)).map(|t| t.id.clone());
        ColumnCursor {
            task: id(Some(row)),
            below: id(row.checked_add(1)),
            above: id(row.checked_sub(1)),
            row,
            departed: false,
            placed_by_person: false,
        }
    }

    /// The same cursor, marked as put there by the person.
    fn placed(self) -> ColumnCursor {
        ColumnCursor {
            placed_by_person: true,
            ..self
        }
    }

    /// `row_in` for a column's ids, unfiltered: its last row is checked first, so drawing a
    /// column whose cursor has not moved costs no search, however long the column.
    fn row_in_ids(&self, ids: &[String]) -> usize {
        if let (Some(task), Some(at)) = (self.task.as_deref(), ids.get(self.row))
            && at == task
        {
            return self.row;
        }
        let find = |id: &Option<String>| {
            id.as_deref()
                .and_then(|id| ids.iter().position(|t| t == id))
        };
        find(&self.task)
            .or_else(|| find(&self.below))
            .or_else(|| find(&self.above))
            .unwrap_or(self.row)
            .min(ids.len().saturating_sub(1))
    }

    /// The row the cursor shows in `cards`: its task's, else the nearest neighbour it had.
    fn row_in(&self, cards: &[&Task]) -> usize {
        let find = |id: &Option<String>| {
            id.as_deref()
                .and_then(|id| cards.iter().position(|t| t.id == id))
        };
        find(&self.task)
            .or_else(|| find(&self.below))
            .or_else(|| find(&self.above))
            .unwrap_or(self.row)
            .min(cards.len().saturating_sub(1))
    }
}

/// One column as a frame draws it.
#[derive(Debug)]
pub struct ColumnFrame<'a> {
    /// Cards in the column (after the filter).
    pub len: usize,
    /// The row of the cursor, unless its chosen task is elsewhere.
    pub highlight: Option<usize>,
    /// The row of the first card shown.
    pub first: usize,
    /// The cards shown, from `first`.
    pub cards: Vec<&'a Task>,
}

/// Who changed what a column shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Moved {
    /// The board: a worker, another process, a refresh.
    ByTheBoard,
    /// The person, through the view (a filter, more columns).
    ByThePerson,
}

/// Which part of the screen keys act on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// The columns.
    Board,
    /// The event log.
    Log,
    /// The worker panel.
    Workers,
}

/// What a prompt asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PromptKind {
    /// Why the selected task is blocked.
    BlockReason,
    /// The title of a new task.
    NewTitle,
    /// The title of a new task that waits for the prompt's task.
    NewChildTitle,
    /// A parent for the prompt's task, picked from the board's tasks.
    LinkParent,
    /// A parent of the prompt's task to stop waiting for, picked from its parents.
    UnlinkParent,
    /// Text to filter cards by, applied as it is typed.
    Filter,
    /// A `:` command line.
    Command,
    /// Whether to cancel the running task (y/n): its command is killed and the task blocked.
    ConfirmCancel,
    /// Whether to mark the task done by hand (y/n): its children may then start.
    ConfirmComplete,
    /// Whether to archive the task (y/n): it leaves the board, and counts as finished.
    ConfirmArchive,
    /// A comment on the task.
    Comment,
}

impl PromptKind {
    /// Whether this is a y/n question, answered with one key.
    pub fn is_question(self) -> bool {
        matches!(
            self,
            PromptKind::ConfirmCancel | PromptKind::ConfirmComplete | PromptKind::ConfirmArchive
        )
    }
}

/// A one-line question at the bottom of the screen, or a list to pick a task from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prompt {
    /// What is asked.
    pub kind: PromptKind,
    /// What has been typed, and where the cursor is.
    pub input: LineEdit,
    /// The task it is about, if any: fixed when asked, so the answer lands on that task
    /// wherever the selection goes meanwhile.
    pub task: Option<String>,
    /// Whether it was asked over that task's detail view, which comes back when it closes.
    pub back_to_detail: bool,
    /// Why the last answer was refused; the prompt stays open to fix it.
    pub refusal: Option<String>,
    /// Its answer went to the board's writer; the prompt closes when the board takes it.
    pub waiting: bool,
    /// The tasks to choose from, for a prompt answered by picking one.
    pub picker: Option<Box<Picker>>,
}

impl Prompt {
    /// An empty prompt about `task`.
    pub fn new(kind: PromptKind, task: Option<String>) -> Prompt {
        Prompt {
            kind,
            input: LineEdit::default(),
            task,
            back_to_detail: false,
            refusal: None,
            waiting: false,
            picker: None,
        }
    }
}

/// The last lines of one run's output.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RunTail {
    /// The run.
    pub run_id: i64,
    /// Whether the run is still going, so the view says "live".
    pub live: bool,
    /// Its last lines, oldest first, already escaped for the terminal.
    pub lines: Vec<String>,
}

/// What covers the board, if anything.
#[derive(Clone, Debug, PartialEq)]
pub enum Mode {
    /// Just the board.
    Normal,
    /// One task in full.
    Detail(Box<TaskDetail>),
    /// One task's ancestors and descendants.
    Tree(Box<TreeView>),
    /// The key list.
    Help,
    /// A question.
    Prompt(Prompt),
}

/// The pool as the worker panel and status bar show it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct PoolView {
    /// Whether this TUI runs a pool at all.
    pub running: bool,
    /// Workers it is meant to have.
    pub size: usize,
    /// Whether it is paused.
    pub paused: bool,
    /// Each worker.
    pub workers: Vec<WorkerStatus>,
    /// Tasks the pool completed.
    pub completed: u64,
    /// Whether the race demo runs, and how many children it made.
    pub race: Option<usize>,
    /// What keeps the pool from writing, while it does (a full disk, a read-only file).
    pub trouble: Option<String>,
}

/// How the last race demo went: pinned under the event log until the next race starts, so the
/// outcome stays on screen while later events scroll past.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceSummary {
    /// Which writer raced.
    pub mode: RaceMode,
    /// Whether it ran to the end (every child written, every task of the race finished), or a
    /// person stopped it first.
    pub finished: bool,
    /// Children the writer created.
    pub children: usize,
    /// Links refused because a worker had claimed the child first.
    pub links_refused: usize,
    /// `claimed` events of the race's tasks (parents and children).
    pub claims: u64,
    /// `claim_rejected` events of the race's tasks: the gate firing.
    pub rejections: u64,
    /// What the live audit (the status bar's count) had found by the end; must be 0.
    pub live_violations: usize,
    /// What the full `gateboard audit` of the board found at the end; must be 0.
    pub audit_violations: usize,
}

impl RaceSummary {
    /// The two lines the event pane shows: what the race did, then what the audits found.
    pub fn lines(&self) -> [String; 2] {
        let mode = match self.mode {
            RaceMode::CreateThenLink => "create-then-link",
            RaceMode::BuggyWriter => "buggy-writer",
        };
        let end = if self.finished { "done" } else { "stopped" };
        [
            format!(
                "{mode} race {end}: {} children, {} links refused",
                self.children, self.links_refused
            ),
            format!(
                "{} claims, {} claim_rejected, violations: live {}, audit {}",
                self.claims, self.rejections, self.live_violations, self.audit_violations
            ),
        ]
    }

    /// Whether both audits found nothing: the invariant held through the race.
    pub fn held(&self) -> bool {
        self.live_violations == 0 && self.audit_violations == 0
    }
}

/// The whole state of the screen.
#[derive(Clone, Debug)]
pub struct State {
    /// The board file, as shown in the status bar.
    pub board_label: String,
    /// Tasks by column.
    pub view: BoardView,
    /// Show triage, scheduled, review, archived and foreign statuses as columns too.
    pub show_other: bool,
    /// Selected column (index into `statuses()`).
    pub column: usize,
    /// The cursor of each column, kept on its task by `follow_cards`.
    cursors: HashMap<Status, ColumnCursor>,
    /// Rows of long columns the cursor was sent to outside their held windows: taken when
    /// the page arrives.
    wanted: HashMap<Status, usize>,
    /// Where keys act.
    pub pane: Pane,
    /// What covers the board.
    pub mode: Mode,
    /// Cards shown must contain this text (case-insensitive).
    pub filter: String,
    /// The events pane: a window of the board's log, following or frozen.
    pub log: EventLog,
    /// Selected worker row.
    pub worker_row: usize,
    /// Lines the open detail view is scrolled down by.
    pub detail_scroll: usize,
    /// The end of each run's output, for the open detail view.
    pub log_tails: Vec<RunTail>,
    /// The pool.
    pub pool: PoolView,
    /// Claims per second over the last few seconds.
    pub claims_per_sec: f64,
    /// `claim_rejected` events seen since the board was opened.
    pub rejections: u64,
    /// `claim_rejected` events the board held when it was opened, so the status bar counts
    /// the board's refusals, not only this session's.
    pub rejections_before: u64,
    /// Event-order violations found by the live audit: must read 0.
    pub violations: usize,
    /// The board's totals (its `claim_rejected` events, the audit of the claims made before
    /// the TUI opened) are still being counted, off the UI loop.
    pub counting_totals: bool,
    /// The outcome of the last action, for the status line.
    pub message: Option<String>,
    /// How the last race demo went, once it ended.
    pub race_summary: Option<RaceSummary>,
    /// Epoch seconds now, for running cards' elapsed time.
    pub now: i64,
    /// Colours, or none under NO_COLOR.
    pub theme: Theme,
    /// Which keys name which commands: help and the hint bar are drawn from it.
    pub keymap: Keymap,
}

impl State {
    /// A state showing `view`.
    pub fn new(board_label: String, view: BoardView, theme: Theme, now: i64) -> State {
        State {
            board_label,
            view,
            show_other: false,
            column: 0,
            cursors: HashMap::new(),
            wanted: HashMap::new(),
            pane: Pane::Board,
            mode: Mode::Normal,
            filter: String::new(),
            log: EventLog::default(),
            worker_row: 0,
            detail_scroll: 0,
            log_tails: Vec::new(),
            pool: PoolView::default(),
            claims_per_sec: 0.0,
            rejections: 0,
            rejections_before: 0,
            violations: 0,
            counting_totals: false,
            message: None,
            race_summary: None,
            now,
            theme,
            keymap: Keymap::default(),
        }
    }

    /// The statuses shown as columns, left to right.
    pub fn statuses(&self) -> Vec<Status> {
        let mut statuses = Status::COLUMNS.to_vec();
        if self.show_other {
            for extra in [
                Status::Triage,
                Status::Scheduled,
                Status::Review,
                Status::Archived,
            ] {
                statuses.push(extra);
            }
            for other in self.view.other_statuses() {
                if !statuses.contains(&other) {
                    statuses.push(other);
                }
            }
        }
        statuses
    }

    /// The cards of one column after the filter: a long column's held window of them.
    pub fn cards(&self, status: &Status) -> Vec<&Task> {
        let needle = self.filter.to_lowercase();
        // A window read for this filter is shown as the board matched it.
        let read_for_it = self
            .view
            .paging(status)
            .is_some_and(|paging| paging.filter == needle);
        self.view
            .column(status)
            .iter()
            .filter_map(|id| self.view.task(id))
            .filter(|t| read_for_it || matches(t, &needle))
            .collect()
    }

    /// The row of the first card `cards` holds: a long column's window starts down the column.
    fn offset(&self, status: &Status) -> usize {
        self.view.paging(status).map_or(0, |paging| paging.first)
    }

    /// How many cards a column shows under the filter, of which `cards` holds `held`.
    fn shown_len(&self, status: &Status, held: usize) -> usize {
        self.view.paging(status).map_or(held, |paging| paging.len)
    }

    /// The selected column's status.
    pub fn selected_status(&self) -> Status {
        let statuses = self.statuses();
        statuses[self.column.min(statuses.len() - 1)].clone()
    }

    /// The selected row of a column among its held `cards`: where its task is now.
    pub fn row(&self, status: &Status, cards: &[&Task]) -> usize {
        self.cursors
            .get(status)
            .map_or(0, |cursor| cursor.row_in(cards))
    }

    /// The task keys act on: the one under the cursor, or the one the person chose if it has
    /// left the column since (until they move the cursor).
    pub fn selected_task(&self) -> Option<&Task> {
        let status = self.selected_status();
        if let Some(cursor) = self.cursors.get(&status)
            && cursor.departed
        {
            return cursor.task.as_deref().and_then(|id| self.view.task(id));
        }
        if self.wanted.contains_key(&status) {
            return None;
        }
        let cards = self.cards(&status);
        let row = self.row(&status, &cards);
        cards.get(row).copied()
    }

    /// What drawing one column needs, reading only the cards that fit: the column's length,
    /// the row to highlight, and the `visible` cards from the first one shown.
    pub fn column_frame(&self, status: &Status, visible: usize) -> ColumnFrame<'_> {
        let offset = self.offset(status);
        let needle = self.filter.to_lowercase();
        let every_held_card_shows = self
            .view
            .paging(status)
            .map_or(needle.is_empty(), |paging| paging.filter == needle);
        if !every_held_card_shows {
            let cards = self.cards(status);
            let row = offset + self.row(status, &cards);
            let first = crate::tui::layout::first_visible(row, visible).max(offset);
            return ColumnFrame {
                len: self.shown_len(status, cards.len()),
                highlight: self.highlighted_row(status, &cards).map(|row| offset + row),
                first,
                cards: cards
                    .into_iter()
                    .skip(first - offset)
                    .take(visible)
                    .collect(),
            };
        }
        let ids = self.view.column(status);
        let cursor = self.cursors.get(status);
        let row = offset
            + self.wanted.get(status).map_or_else(
                || cursor.map_or(0, |c| c.row_in_ids(ids)),
                |wanted| wanted.saturating_sub(offset),
            );
        let first = crate::tui::layout::first_visible(row, visible).max(offset);
        ColumnFrame {
            len: self.shown_len(status, ids.len()),
            highlight: match cursor {
                Some(c) if c.departed => None,
                _ => Some(row),
            },
            first,
            cards: ids
                .iter()
                .skip(first - offset)
                .take(visible)
                .filter_map(|id| self.view.task(id))
                .collect(),
        }
    }

    /// The row to highlight in a column of `cards`; none while its chosen task is elsewhere.
    pub fn highlighted_row(&self, status: &Status, cards: &[&Task]) -> Option<usize> {
        match self.cursors.get(status) {
            Some(cursor) if cursor.departed => None,
            _ => Some(self.row(status, cards)),
        }
    }

    /// Moves the cursor by columns.
    pub fn move_column(&mut self, delta: isize) {
        // Moving on is moving the cursor: a task that left the column stops being the one
        // keys act on, and coming back finds the cursor on the card that took its row.
        let left = self.selected_status();
        if self.cursors.get(&left).is_some_and(|c| c.departed) {
            let cards = self.cards(&left);
            let cursor = ColumnCursor::at(&cards, self.row(&left, &cards));
            self.cursors.insert(left, cursor);
        }
        let last = self.statuses().len() - 1;
        self.column = self.column.min(last).saturating_add_signed(delta).min(last);
        // The card the person arrives on is the one they now look at and act on.
        let arrived = self.selected_status();
        let cards = self.cards(&arrived);
        let cursor = ColumnCursor::at(&cards, self.row(&arrived, &cards)).placed();
        self.cursors.insert(arrived, cursor);
    }

    /// Moves the cursor within the selected column (or the log, or the workers). In a long
    /// column, a row outside the held window is noted as wanted until its page is read.
    pub fn move_row(&mut self, delta: isize) {
        match self.pane {
            Pane::Board => {
                let status = self.selected_status();
                let cards = self.cards(&status);
                let offset = self.offset(&status);
                let at = match self.wanted.get(&status) {
                    Some(&wanted) => wanted,
                    None => offset + self.row(&status, &cards),
                };
                // From a task that left, the first step down lands on the card that took its
                // row, the first step up on the one above it.
                let departed = self.cursors.get(&status).is_some_and(|c| c.departed);
                let step = if departed && delta > 0 {
                    delta - 1
                } else {
                    delta
                };
                let last = self.shown_len(&status, cards.len()).saturating_sub(1);
                let next = at.saturating_add_signed(step).min(last);
                if next >= offset && next - offset < cards.len().max(1) {
                    let cursor = ColumnCursor::at(&cards, next - offset).placed();
                    self.cursors.insert(status.clone(), cursor);
                    self.wanted.remove(&status);
                } else {
                    self.wanted.insert(status, next);
                }
            }
            Pane::Log => self.log.move_cursor(delta),
            Pane::Workers => {
                let most = self.pool.workers.len().saturating_sub(1);
                self.worker_row = self.worker_row.saturating_add_signed(delta).min(most);
            }
        }
    }

    /// Puts the cursor of a column on the card at `row` of the column (clamped to the cards
    /// held).
    pub fn select_row(&mut self, status: &Status, row: usize) {
        let offset = self.offset(status);
        let cursor = ColumnCursor::at(&self.cards(status), row.saturating_sub(offset)).placed();
        self.cursors.insert(status.clone(), cursor);
        self.wanted.remove(status);
    }

    /// Puts the cursor on a task, wherever it is among the cards held; returns whether it
    /// was there (a card down a long column, outside its window, is not).
    pub fn select_task(&mut self, id: &str) -> bool {
        let Some(status) = self.view.task(id).map(|t| t.status.clone()) else {
            return false;
        };
        let Some(column) = self.statuses().iter().position(|s| *s == status) else {
            return false;
        };
        self.column = column;
        let Some(row) = self.cards(&status).iter().position(|t| t.id == id) else {
            return false;
        };
        let offset = self.offset(&status);
        self.select_row(&status, offset + row);
        // The person asked for this card (`:goto`, a tree line, a task just made): the keys
        // that follow act on it, so the board pane takes the focus.
        self.pane = Pane::Board;
        true
    }

    /// The tasks the cursors have chosen, which stay in memory wherever they go.
    fn chosen(&self) -> HashSet<String> {
        self.cursors
            .values()
            .filter_map(|c| c.task.clone())
            .collect()
    }

    /// Fresh copies of tasks, moved to their columns; each cursor stays on its task. Returns
    /// the ids of those the view did not hold before (new, or from outside a long column's
    /// window).
    pub fn apply_tasks(&mut self, tasks: impl IntoIterator<Item = Keyed>) -> Vec<String> {
        let chosen = self.chosen();
        let mut unknown = Vec::new();
        for keyed in tasks {
            let id = keyed.task.id.clone();
            let keep = chosen.contains(&id);
            if !self.view.upsert(keyed, keep) {
                unknown.push(id);
            }
        }
        self.follow_cards(Moved::ByTheBoard);
        unknown
    }

    /// A whole new view of the board; each cursor stays on its task.
    pub fn replace_view(&mut self, view: BoardView) {
        self.view = view;
        self.follow_cards(Moved::ByTheBoard);
    }

    /// A new window of a long column: the cursor stays on its task if the window holds it,
    /// else on its row; a row the cursor was sent to outside the old window is taken now.
    pub fn apply_page(&mut self, page: Page) {
        let status = page.status.clone();
        let old_offset = self.offset(&status);
        let chosen = self.chosen();
        let keep: Vec<&str> = chosen.iter().map(String::as_str).collect();
        self.view.replace_page(page, &keep);
        let offset = self.offset(&status);
        if let Some(cursor) = self.cursors.get_mut(&status) {
            cursor.row = (cursor.row + old_offset).saturating_sub(offset);
            // A task the board took out of the column stays the one keys act on.
            if cursor.departed {
                return;
            }
        }
        let cards = self.cards(&status);
        let held = offset..offset + cards.len();
        if let Some(wanted) = self.wanted.get(&status).copied()
            && held.contains(&wanted)
        {
            let cursor = ColumnCursor::at(&cards, wanted - offset).placed();
            self.cursors.insert(status.clone(), cursor);
            self.wanted.remove(&status);
            return;
        }
        let placed = self
            .cursors
            .get(&status)
            .is_some_and(|c| c.placed_by_person);
        let cursor = ColumnCursor {
            placed_by_person: placed,
            ..ColumnCursor::at(&cards, self.row(&status, &cards))
        };
        self.cursors.insert(status, cursor);
    }

    /// Where a long column's next window should be read, if it needs one: the filter
    /// changed, the cursor was sent outside the window, or it came near an edge of it.
    pub fn page_needed(&self, status: &Status) -> Option<PageAt> {
        let paging = self.view.paging(status)?;
        if paging.filter != self.filter.to_lowercase() {
            let chosen = self.cursors.get(status).and_then(|c| c.task.clone());
            return Some(chosen.map_or(PageAt::Row(0), PageAt::Task));
        }
        if let Some(&wanted) = self.wanted.get(status) {
            return Some(PageAt::Row(wanted));
        }
        let cards = self.cards(status);
        if cards.is_empty() {
            return (paging.len > 0).then(|| PageAt::Row(paging.first.min(paging.len - 1)));
        }
        let row = paging.first + self.row(status, &cards);
        let end = paging.first + cards.len();
        let near_top = paging.first > 0 && row < paging.first + PAGE_MARGIN;
        let near_end = end < paging.len && row + PAGE_MARGIN >= end;
        (near_top || near_end).then_some(PageAt::Row(row))
    }

    /// Shows only the cards containing `filter` (case-insensitive; empty shows all).
    pub fn set_filter(&mut self, filter: String) {
        self.filter = filter;
        self.follow_cards(Moved::ByThePerson);
    }

    /// Shows or hides the statuses beyond the five columns.
    pub fn toggle_other_statuses(&mut self) {
        self.show_other = !self.show_other;
        self.move_column(0);
        self.follow_cards(Moved::ByThePerson);
    }

    /// Re-anchors every shown column's cursor after its cards changed: on the same task while
    /// it stays in the column, so the cursor never lands on an unrelated card just because rows
    /// above it moved. A task the board took out of its column stays chosen (the status line
    /// says where it went); one the person's own view hid (a filter) gives way to its
    /// neighbour.
    fn follow_cards(&mut self, moved: Moved) {
        let selected = self.selected_status();
        let mut left = None;
        let mut cursors = HashMap::new();
        for status in self.statuses() {
            let cards = self.cards(&status);
            let old = self.cursors.get(&status);
            let chosen = old.and_then(|c| c.task.as_deref());
            let still_here = chosen.is_some_and(|id| cards.iter().any(|t| t.id == id));
            let elsewhere = chosen
                .and_then(|id| self.view.task(id))
                .filter(|task| task.status != status);
            let cursor = match (old, elsewhere) {
                // Only in the column the person is in, on a task they chose: elsewhere the
                // cursor just gives way, since no key is on its way to it.
                (Some(old), Some(task))
                    if !still_here
                        && moved == Moved::ByTheBoard
                        && old.placed_by_person
                        && status == selected =>
                {
                    if !old.departed {
                        left = Some(format!(
                            "{} \"{}\" moved to {}; keys still act on it until you move",
                            task.id, task.title, task.status
                        ));
                    }
                    ColumnCursor {
                        departed: true,
                        row: old.row_in(&cards),
                        ..old.clone()
                    }
                }
                _ => ColumnCursor {
                    // The person's choice stands while its task stays, or when their own view
                    // (a filter) moved the cursor to a neighbour.
                    placed_by_person: old.is_some_and(|c| c.placed_by_person)
                        && (still_here || moved == Moved::ByThePerson),
                    ..ColumnCursor::at(&cards, self.row(&status, &cards))
                },
            };
            cursors.insert(status, cursor);
        }
        self.cursors.extend(cursors);
        if left.is_some() {
            self.message = left;
        }
    }

    /// After the person's own change to the selected task (archive, complete, block…): if it
    /// left its column, the cursor takes the card that was below it, as a list's cursor does
    /// when its line is deleted. Only a move the person did not make keeps the task chosen.
    pub fn settle_after_own_change(&mut self) {
        let status = self.selected_status();
        if self.cursors.get(&status).is_some_and(|c| c.departed) {
            let cards = self.cards(&status);
            let cursor = ColumnCursor::at(&cards, self.row(&status, &cards)).placed();
            self.cursors.insert(status, cursor);
        }
    }

    /// Adds events just committed to the log.
    pub fn push_events(&mut self, events: impl IntoIterator<Item = Event>) {
        self.log.arrived(events);
    }

    /// The task the selected worker works on, for Enter in the worker panel.
    pub fn selected_worker_task(&self) -> Option<&str> {
        match &self.pool.workers.get(self.worker_row)?.state {
            WorkerState::Working { task } => Some(task),
            _ => None,
        }
    }
}

/// When each recent claim was seen, for the claims-per-second figure.
#[derive(Debug, Default)]
pub struct ClaimRate {
    seen: VecDeque<Instant>,
}

impl ClaimRate {
    const WINDOW_SECS: f64 = 5.0;

    /// Notes one claim seen now.
    pub fn record(&mut self, at: Instant) {
        self.seen.push_back(at);
    }

    /// Claims per second over the window ending now.
    pub fn per_second(&mut self, now: Instant) -> f64 {
        while self
            .seen
            .front()
            .is_some_and(|t| now.duration_since(*t).as_secs_f64() > Self::WINDOW_SECS)
        {
            self.seen.pop_front();
        }
        self.seen.len() as f64 / Self::WINDOW_SECS
    }
}
