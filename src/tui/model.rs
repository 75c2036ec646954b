//! The TUI's state machine, a pure function of its input: every `Action` goes through
//! `update`, which changes the state and asks for the board reads and writes, pool commands and
//! race steps a key needs, as `Effect`s. It holds no connection, pool or thread: `App` carries
//! the effects out and sends their outcomes back as actions, and a test can answer them by hand.

use std::collections::HashSet;
use std::time::{Duration, Instant};

use ratatui::layout::Rect;

mod reads;

use super::action::{self, Action};
use super::board_view::BoardView;
use super::command::{self, Command};
use super::effects::read::Read;
use super::effects::{Write, Written};
use super::event_log;
use super::freshness::Freshness;
use super::layout;
use super::line_edit::LineEdit;
use super::race::{self, RaceRun};
use super::state::{ClaimRate, Mode, Pane, Prompt, PromptKind, RaceSummary, State};
use crate::core::{Event, Status, now_epoch};
use crate::pool::racer::{RaceConfig, RaceMode, RaceReport};

/// Rows a page key moves.
const PAGE: isize = 10;
/// A move past any end: the first or last row.
const FAR: isize = isize::MAX / 2;
/// How long a message stays in the status bar: long enough to read, short enough that an old
/// outcome is not taken for the last key's.
pub const MESSAGE_SHOWN: Duration = Duration::from_secs(5);

/// Something the update needs done outside itself; its outcome, if any, comes back as an action.
#[derive(Clone, Debug, PartialEq)]
pub enum Effect {
    /// A board read; answered by `Action::Fetched`.
    Read(Read),
    /// The filter a long column's count is wanted for now, so a count under way for an older
    /// one stops.
    WantFilter {
        /// The column.
        status: Status,
        /// The filter (lowercase).
        filter: String,
    },
    /// A board write; answered by `Action::Wrote`.
    Write(Write),
    /// A command to the pool; the pool's state comes back as `Action::PoolChanged`.
    Pool(PoolCommand),
    /// A step of the race demo's writer; answered by `Action::RaceWritten`.
    Race(RaceCommand),
}

/// What the update asks of the pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolCommand {
    /// Start a pool of this many workers.
    Start(usize),
    /// Stop claiming; tasks under way finish.
    Pause,
    /// Claim again.
    Resume,
    /// Grow or shrink to this many workers.
    Resize(usize),
}

/// What the update asks of the race demo's writer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RaceCommand {
    /// Start writing a race.
    Start(RaceConfig),
    /// Stop writing, releasing its parents.
    Stop,
}

/// What the board held when the TUI opened: the first frame's view, the newest event's id, and
/// the newest page of events.
pub struct Loaded {
    /// The columns.
    pub view: BoardView,
    /// The event cursor the live view follows from.
    pub last_event: i64,
    /// The events pane's first page.
    pub history: Vec<Event>,
}

/// The TUI's state and the bookkeeping its updates need; no connection, pool or thread.
pub struct Model {
    /// What the next frame draws.
    pub state: State,
    /// The race on screen, as its events tell it.
    race: Option<RaceRun>,
    /// The pause between a race's children.
    race_pace: Duration,
    /// The pool works only some of the board's tasks (one file's), so a race would race nothing.
    pool_scoped: bool,
    cursor: i64,
    rate: ClaimRate,
    /// Something was committed (the watcher or the pool said so): read the new events.
    dirty: bool,
    freshness: Freshness,
    /// The terminal's size, once told.
    screen: Option<Rect>,
    /// Looks at the new events asked for so far; the last one may still be on its way.
    looks: u64,
    /// A look at the new events is on its way: the next waits for it.
    refreshing: bool,
    /// When the look on its way was asked for by the freshness schedule, and whether the
    /// watcher woke it.
    looking: Option<(Instant, bool)>,
    /// A change the person made landed: what to show once a look asked for after it arrives.
    answer_after: Option<(u64, Answered)>,
    /// Long columns whose next window is on its way.
    paging: HashSet<Status>,
    /// Views the person asked for (detail, tree, picker) or closed: a read answering an older
    /// request is not shown.
    views: u64,
    /// A read of the open detail view's live log tails is on its way.
    tailing: bool,
    /// Rows of an events-pane move still to make once the page it went into lands.
    log_move_left: isize,
    /// An ended race, summed up but for the full audit on its way.
    race_ending: Option<RaceSummary>,
    /// When the status bar's message was set, so it can expire.
    message_since: Instant,
    /// What the last updates asked for, in order, until the app takes it.
    effects: Vec<Effect>,
    quit: bool,
}

impl Model {
    /// The state machine over what the board held at `loaded`; `pool_scoped` says the pool
    /// works only one file's tasks. Nothing is asked for yet: `ask_totals` starts the totals.
    pub fn new(mut state: State, loaded: Loaded, pool_scoped: bool) -> Model {
        state.replace_view(loaded.view);
        let older = loaded.history.len() == event_log::PAGE;
        state.log.restart(loaded.history, older);
        Model {
            state,
            race: None,
            race_pace: race::PACE,
            pool_scoped,
            cursor: loaded.last_event,
            rate: ClaimRate::default(),
            dirty: false,
            freshness: Freshness::new(Instant::now()),
            screen: None,
            looks: 0,
            refreshing: false,
            looking: None,
            answer_after: None,
            paging: HashSet::new(),
            views: 0,
            tailing: false,
            log_move_left: 0,
            race_ending: None,
            message_since: Instant::now(),
            effects: Vec::new(),
            quit: false,
        }
    }

    /// Asks for the status bar's totals as of the cursor; later events add to them live.
    pub fn ask_totals(&mut self) {
        self.state.counting_totals = true;
        self.read(Read::Totals { upto: self.cursor });
    }

    /// What the updates since the last call asked for, in the order asked.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// Sets the pause between a race's children: a test races fast, a person watches the
    /// default.
    pub fn set_race_pace(&mut self, pace: Duration) {
        self.race_pace = pace;
    }

    /// Whether the user asked to leave.
    pub fn should_quit(&self) -> bool {
        self.quit
    }

    /// Children the race on screen has written, as far as its writer has reported them.
    pub fn race_children(&self) -> Option<usize> {
        self.race.as_ref().map(RaceRun::children)
    }

    /// Applies one action as of `now`: a message older than `MESSAGE_SHOWN` leaves the status bar, on
    /// the caller's clock, so a test can step past it without waiting.
    pub fn update_at(&mut self, action: Action, now: Instant) {
        let shown = self.state.message.take();
        self.apply(action);
        self.read_pages();
        self.keep_or_expire(shown, now);
    }

    /// After an action: a message it set is new as of `now`; else the one shown before stays
    /// until it has been shown `MESSAGE_SHOWN`.
    fn keep_or_expire(&mut self, shown: Option<String>, now: Instant) {
        if self.state.message.is_some() {
            self.message_since = now;
        } else if now.saturating_duration_since(self.message_since) < MESSAGE_SHOWN {
            self.state.message = shown;
        }
    }

    /// Reads what changed since the last look, and reloads when a change wrote no events;
    /// the main loop calls it after each batch of actions and at `next_wake`.
    pub fn catch_up(&mut self) {
        self.catch_up_at(Instant::now());
    }

    /// `catch_up` as of `now`: the schedule of second looks and reloads runs on the caller's
    /// clock, so a test can step through it without waiting for the wall clock.
    pub fn catch_up_at(&mut self, now: Instant) {
        let shown = self.state.message.take();
        self.look(now);
        self.read_pages();
        self.keep_or_expire(shown, now);
    }

    /// When `catch_up` has something to do without further input: at once while events are
    /// left to read, else at the next second look or reload.
    pub fn next_wake(&self) -> Option<Instant> {
        if self.refreshing {
            // The look on its way wakes the loop when it lands.
            None
        } else if self.dirty {
            Some(Instant::now())
        } else {
            self.freshness.next_due()
        }
    }

    fn look(&mut self, now: Instant) {
        if self.refreshing {
            return;
        }
        let woke = std::mem::take(&mut self.dirty);
        if woke || self.freshness.recheck_due(now) || self.freshness.reload_due(now) {
            self.look_now(Some((now, woke)));
        }
    }

    /// Whether the terminal is too small to draw the board, so only a note shows.
    fn too_small(&self) -> bool {
        self.screen.is_some_and(|screen| !layout::fits(screen))
    }

    fn apply(&mut self, action: Action) {
        let in_prompt = matches!(self.state.mode, Mode::Prompt(_));
        if self.too_small() && action.needs_the_board() {
            return;
        }
        match action {
            Action::Terminal(event) => {
                let action = if self.too_small() {
                    action::from_terminal_too_small(event)
                } else {
                    action::from_terminal(event, &self.state.mode, &self.state.keymap)
                };
                if let Some(action) = action {
                    self.apply(action);
                }
            }
            Action::Quit => self.quit = true,
            Action::Back if in_prompt => self.close_prompt(),
            Action::Back => self.back(),
            Action::Help => {
                self.views += 1;
                self.state.mode = match self.state.mode {
                    Mode::Help => Mode::Normal,
                    _ => Mode::Help,
                }
            }
            Action::Edit(edit) if in_prompt => self.edit_prompt(|line| line.apply(edit)),
            Action::DeleteWordBack if in_prompt => self.edit_prompt(LineEdit::delete_word_back),
            Action::Up if in_prompt => self.move_pick(-1),
            Action::Down if in_prompt => self.move_pick(1),
            Action::PageUp if in_prompt => self.move_pick(-PAGE),
            Action::PageDown if in_prompt => self.move_pick(PAGE),
            Action::Submit | Action::Confirm if in_prompt => self.submit(),
            Action::BoardChanged => self.dirty = true,
            Action::Wrote(done) => self.wrote(done),
            Action::Fetched(fetched) => self.fetched(*fetched),
            Action::Pool(_) => self.dirty = true,
            Action::PoolChanged(view) => self.state.pool = *view,
            Action::RaceWritten(report) => self.race_written(report),
            Action::Failed(why) => self.state.message = Some(why),
            Action::Tick => self.tick(),
            Action::Resize { width, height } => {
                self.screen = Some(Rect::new(0, 0, width, height));
            }
            Action::Tree => self.open_tree(),
            _ if matches!(self.state.mode, Mode::Tree(_)) => self.in_tree(&action),
            Action::Up
            | Action::Down
            | Action::PageUp
            | Action::PageDown
            | Action::Top
            | Action::Bottom
                if matches!(self.state.mode, Mode::Detail(_)) =>
            {
                self.state.detail_scroll = match action {
                    Action::Top => 0,
                    Action::Bottom => usize::MAX / 2,
                    Action::Up => self.state.detail_scroll.saturating_sub(1),
                    Action::PageUp => self.state.detail_scroll.saturating_sub(PAGE.unsigned_abs()),
                    Action::Down => self.state.detail_scroll.saturating_add(1),
                    _ => self.state.detail_scroll.saturating_add(PAGE.unsigned_abs()),
                };
            }
            _ if !self.acts_in_mode(&action) => {}
            Action::Left => self.state.move_column(-1),
            Action::Right => self.state.move_column(1),
            Action::Up => self.move_row(-1),
            Action::Down => self.move_row(1),
            Action::PageUp => self.move_row(-PAGE),
            Action::PageDown => self.move_row(PAGE),
            // In the events pane the ends are the oldest event loaded and following the newest.
            Action::Top if self.state.pane == Pane::Log => self.state.log.oldest(),
            Action::Bottom if self.state.pane == Pane::Log => self.follow_log(),
            Action::Top => self.state.move_row(-FAR),
            Action::Bottom => self.state.move_row(FAR),
            Action::CycleLogFilter => {
                let next = self.state.log.filter().next();
                self.state.log.set_filter(next);
                self.restart_log();
            }
            Action::NextPane => {
                self.state.pane = match self.state.pane {
                    Pane::Board => Pane::Log,
                    Pane::Log => Pane::Workers,
                    Pane::Workers => Pane::Board,
                }
            }
            Action::Open => {
                let id = match self.state.pane {
                    Pane::Board => self.target_id(),
                    Pane::Log => self.state.log.selected().map(|e| e.task_id.clone()),
                    Pane::Workers => self.state.selected_worker_task().map(str::to_owned),
                };
                match id {
                    Some(id) => self.open_detail(&id),
                    None if self.state.pane == Pane::Workers => {
                        self.state.message = Some(if self.state.pool.workers.is_empty() {
                            "no workers run here; + starts one".into()
                        } else {
                            "this worker has no task now".into()
                        });
                    }
                    None => {}
                }
            }
            Action::Cancel => match self.target_task() {
                Some(task) if task.status == Status::Running => {
                    self.ask(PromptKind::ConfirmCancel, true);
                }
                Some(task) => {
                    self.state.message = Some(format!(
                        "{} is {}; only a running task can be cancelled",
                        task.id, task.status
                    ));
                }
                None => self.state.message = Some(self.no_target()),
            },
            Action::Unblock => match self.target_task() {
                Some(task) if task.status == Status::Archived => {
                    self.write(Write::Unarchive(task.id.clone()));
                }
                Some(task) => self.write(Write::Unblock(task.id.clone())),
                None => self.state.message = Some(self.no_target()),
            },
            Action::Complete => match self.target_task() {
                Some(task) if task.status == Status::Running => {
                    self.state.message = Some(format!(
                        "{} is running under {}; x cancels it first",
                        task.id,
                        task.claim_lock.as_deref().unwrap_or("nobody")
                    ));
                }
                _ => self.ask(PromptKind::ConfirmComplete, true),
            },
            Action::Archive => match self.target_task() {
                Some(task) if task.status == Status::Running => {
                    self.state.message = Some(format!(
                        "{} is running; x cancels it first, then a archives it",
                        task.id
                    ));
                }
                _ => self.ask(PromptKind::ConfirmArchive, true),
            },
            Action::Block => self.ask(PromptKind::BlockReason, true),
            Action::Link => self.pick(PromptKind::LinkParent),
            Action::Unlink => self.pick(PromptKind::UnlinkParent),
            Action::Comment => self.ask(PromptKind::Comment, true),
            Action::New => self.ask(PromptKind::NewTitle, false),
            Action::NewChild => self.ask(PromptKind::NewChildTitle, true),
            Action::Command => self.ask(PromptKind::Command, false),
            Action::Filter => {
                // The prompt starts empty and the filter follows it, so the board shows all.
                self.state.set_filter(String::new());
                self.ask(PromptKind::Filter, false);
            }
            Action::ToggleOtherStatuses => self.state.toggle_other_statuses(),
            Action::TogglePause => match &self.state.pool {
                pool if !pool.running => {
                    self.state.message = Some("no workers run here; + starts one".into());
                }
                pool if pool.paused => {
                    self.effects.push(Effect::Pool(PoolCommand::Resume));
                    self.state.message = Some("pool resumed".into());
                }
                _ => {
                    self.effects.push(Effect::Pool(PoolCommand::Pause));
                    self.state.message = Some(if self.race.is_some() {
                        "pool paused: the race waits for its workers; p resumes".into()
                    } else {
                        "pool paused: running tasks finish, no task is claimed; p resumes".into()
                    });
                }
            },
            Action::MoreWorkers => {
                let pool = &self.state.pool;
                let (command, workers) = if pool.running {
                    (PoolCommand::Resize(pool.size + 1), pool.size + 1)
                } else {
                    (PoolCommand::Start(1), 1)
                };
                self.effects.push(Effect::Pool(command));
                self.state.message = Some(format!("workers: {workers}"));
            }
            Action::FewerWorkers => {
                let pool = &self.state.pool;
                self.state.message = Some(if pool.running && pool.size > 0 {
                    let fewer = pool.size - 1;
                    self.effects.push(Effect::Pool(PoolCommand::Resize(fewer)));
                    format!("workers: {fewer}; one leaving finishes its task first")
                } else {
                    "no workers run here; + starts one".into()
                });
            }
            Action::ToggleRace(mode) => self.toggle_race(mode),
            Action::Click { x, y } => self.click(x, y),
            Action::Edit(_)
            | Action::DeleteWordBack
            | Action::Submit
            | Action::Confirm
            | Action::ToggleFold => {}
        }
    }

    /// Opens the dependency tree of the task in the detail view, else of the selected task.
    fn open_tree(&mut self) {
        let id = match &self.state.mode {
            Mode::Detail(detail) => Some(detail.task.id.clone()),
            Mode::Normal => self.target_id(),
            _ => return,
        };
        let Some(id) = id else {
            self.state.message = Some(self.no_target());
            return;
        };
        self.views += 1;
        self.read(Read::Lineage {
            id,
            view: self.views,
        });
    }

    /// Keys in the tree: move, fold, and Enter to jump to a line's task.
    fn in_tree(&mut self, action: &Action) {
        let Mode::Tree(tree) = &mut self.state.mode else {
            return;
        };
        match action {
            Action::Up => tree.move_cursor(-1),
            Action::Down => tree.move_cursor(1),
            Action::PageUp => tree.move_cursor(-PAGE),
            Action::PageDown => tree.move_cursor(PAGE),
            Action::Top => tree.move_cursor(-FAR),
            Action::Bottom => tree.move_cursor(FAR),
            Action::ToggleFold => tree.toggle_fold(),
            Action::Left => tree.fold(true),
            Action::Right => tree.fold(false),
            Action::Open => {
                if let Some(id) = tree.selected().map(str::to_owned) {
                    if !self.state.select_task(&id) {
                        // Down a long column, outside its window: found on the board.
                        self.read(Read::Goto(id.clone()));
                    }
                    self.open_detail(&id);
                }
            }
            _ => {}
        }
    }

    /// Whether `action` acts in the current mode: everything on the bare board, a task's own
    /// commands over its detail view (on that task), nothing under help or a prompt.
    fn acts_in_mode(&self, action: &Action) -> bool {
        match self.state.mode {
            Mode::Normal => true,
            Mode::Detail(_) => matches!(
                action,
                Action::Unblock
                    | Action::Block
                    | Action::Complete
                    | Action::Archive
                    | Action::Cancel
                    | Action::Link
                    | Action::Comment
            ),
            Mode::Help | Mode::Prompt(_) | Mode::Tree(_) => false,
        }
    }

    /// The task a command acts on: the open detail view's, else the row under the cursor of
    /// the focused pane (a card, an event's task, a worker's task), so a key never acts on a
    /// card the person is not looking at.
    fn target_task(&self) -> Option<&crate::core::Task> {
        match &self.state.mode {
            Mode::Detail(detail) => Some(&detail.task),
            _ => match self.state.pane {
                Pane::Board => self.state.selected_task(),
                Pane::Log => self
                    .state
                    .log
                    .selected()
                    .and_then(|e| self.state.view.task(&e.task_id)),
                Pane::Workers => self
                    .state
                    .selected_worker_task()
                    .and_then(|id| self.state.view.task(id)),
            },
        }
    }

    /// Why a key that acts on a task found none: nothing under the cursor, or an event's
    /// task down a long column that the view does not hold (its detail view can act on it).
    fn no_target(&self) -> String {
        match (&self.state.mode, self.state.pane, self.state.log.selected()) {
            (Mode::Normal, Pane::Log, Some(event)) => format!(
                "{} is not among the cards loaded here; Enter opens it, and keys act on it there",
                event.task_id
            ),
            _ => "no task selected".into(),
        }
    }

    fn target_id(&self) -> Option<String> {
        self.target_task().map(|t| t.id.clone())
    }

    /// Asks for a task's detail view, which replaces what is on screen when it arrives.
    fn open_detail(&mut self, id: &str) {
        self.views += 1;
        self.read(Read::Detail {
            id: id.to_owned(),
            view: self.views,
        });
    }

    /// Esc: closes what covers the board (a prompt asked over a detail view goes back to it);
    /// on the bare board with the events pane focused, the pane follows again, as in k9s.
    fn back(&mut self) {
        self.views += 1;
        match std::mem::replace(&mut self.state.mode, Mode::Normal) {
            Mode::Normal if self.state.pane == Pane::Log => self.follow_log(),
            // As in k9s: Esc on the board takes back a filter kept from `/`.
            Mode::Normal if !self.state.filter.is_empty() => {
                self.state.set_filter(String::new());
                self.state.message = Some("filter cleared".into());
            }
            _ => {}
        }
    }

    /// Moves the focused pane's cursor; the events pane first reads the page it moves into
    /// when that page is on the board but not held.
    fn move_row(&mut self, delta: isize) {
        if self.state.pane != Pane::Log {
            self.state.move_row(delta);
            return;
        }
        let before = self.state.log.cursor();
        let paging = self.page_log_for(delta);
        self.state.move_row(delta);
        if paging {
            // The rest of the move waits for the page: it is made when the page lands.
            let moved = signed(self.state.log.cursor()) - signed(before);
            self.log_move_left = self.log_move_left.saturating_add(delta - moved);
        }
    }

    /// Asks for the page of events a move by `delta` goes into, if the pane does not hold it;
    /// returns whether it asked.
    fn page_log_for(&mut self, delta: isize) -> bool {
        let log = &self.state.log;
        let filter = log.filter();
        let (first, last) = if log.wants_older(delta) {
            (log.first_id(), None)
        } else if log.wants_newer(delta) {
            (None, log.last_id())
        } else {
            return false;
        };
        if first.is_none() && last.is_none() {
            return false;
        }
        self.read(Read::Events {
            first,
            last,
            filter,
        });
        true
    }

    /// G: the events pane follows the newest event, reading the tail afresh if the pane no
    /// longer holds it.
    fn follow_log(&mut self) {
        if !self.state.log.follow() {
            self.restart_log();
        }
    }

    /// Reads the newest events the pane's filter shows, up to what `refresh` has read.
    fn restart_log(&mut self) {
        self.read(Read::Events {
            first: None,
            last: None,
            filter: self.state.log.filter(),
        });
    }

    /// Asks for a write, saying so on the status line until its outcome comes back as
    /// `Action::Wrote`.
    fn write(&mut self, write: Write) {
        self.state.message = Some(write.pending());
        self.effects.push(Effect::Write(write));
    }

    /// A write's outcome: the board is read again, and the status line says what happened.
    fn wrote(&mut self, done: Result<Written, String>) {
        // A prompt waiting on this write closes, or shows the refusal to be fixed.
        if matches!(&self.state.mode, Mode::Prompt(p) if p.waiting)
            && let Mode::Prompt(prompt) = std::mem::replace(&mut self.state.mode, Mode::Normal)
        {
            return match done {
                Ok(written) => self.close_answered(&prompt, Answered::from(written)),
                Err(why) => self.refused(prompt, why),
            };
        }
        match done {
            Ok(written) => self.landed(Answered::from(written)),
            Err(why) => {
                self.state.message = Some(why);
            }
        }
    }

    /// A change the person made is on the board: read it, and put the cursor where it belongs.
    fn landed(&mut self, answered: Answered) {
        // Shown once a look asked for after the change arrives: the next one.
        self.answer_after = Some((self.looks + 1, answered));
        self.look_now(None);
    }

    /// The person's change is read back: the cursor goes where it belongs, the status line
    /// says what happened.
    fn show_answer(&mut self, answered: Answered) {
        match &answered.select {
            Some(id) => {
                if !self.state.select_task(id) {
                    // Down a long column, outside its window: found on the board.
                    self.read(Read::Goto(id.clone()));
                }
            }
            None => self.state.settle_after_own_change(),
        }
        if answered.message.is_some() {
            self.state.message = answered.message;
        }
    }

    /// Opens a prompt about the task keys act on (if it needs one).
    fn ask(&mut self, kind: PromptKind, needs_task: bool) {
        let task = self.target_id();
        if needs_task && task.is_none() {
            self.state.message = Some(self.no_target());
            return;
        }
        let back_to_detail = matches!(self.state.mode, Mode::Detail(_));
        self.views += 1;
        self.state.mode = Mode::Prompt(Prompt {
            back_to_detail,
            ..Prompt::new(kind, task)
        });
    }

    /// Opens a picker about the selected task: every other task to link as its parent, or its
    /// parents to unlink.
    fn pick(&mut self, kind: PromptKind) {
        let Some(task) = self.target_id() else {
            self.state.message = Some(self.no_target());
            return;
        };
        self.views += 1;
        let view = self.views;
        self.read(match kind {
            PromptKind::UnlinkParent => Read::Parents { task, view },
            _ => Read::Finished { task, view },
        });
    }

    /// Applies an edit to the open prompt; when its text changed, the refusal shown goes, the
    /// picker matches again and a filter prompt filters the board.
    fn edit_prompt(&mut self, edit: impl FnOnce(&mut LineEdit) -> bool) {
        let Mode::Prompt(prompt) = &mut self.state.mode else {
            return;
        };
        if !edit(&mut prompt.input) {
            return;
        }
        prompt.refusal = None;
        if let Some(picker) = &mut prompt.picker {
            picker.refilter(prompt.input.value());
        }
        if prompt.kind == PromptKind::Filter {
            let filter = prompt.input.value().trim().to_owned();
            self.state.set_filter(filter);
        }
    }

    /// Moves a picker's cursor.
    fn move_pick(&mut self, delta: isize) {
        if let Mode::Prompt(Prompt {
            picker: Some(picker),
            ..
        }) = &mut self.state.mode
        {
            picker.move_cursor(delta);
        }
    }

    /// Esc on a prompt: nothing more is written (a write already sent still lands), a filter
    /// typed into it is taken back, and a prompt opened over a detail view goes back to it.
    /// A question asked over a detail view goes back to it.
    fn close_prompt(&mut self) {
        let Mode::Prompt(prompt) = std::mem::replace(&mut self.state.mode, Mode::Normal) else {
            return;
        };
        self.views += 1;
        if prompt.kind == PromptKind::Filter {
            self.state.set_filter(String::new());
        }
        self.back_from(&prompt);
    }

    /// A prompt opened over a detail view goes back to it when it closes.
    fn back_from(&mut self, prompt: &Prompt) {
        if let (true, Some(task)) = (prompt.back_to_detail, &prompt.task) {
            self.open_detail(task);
        }
    }

    /// Enter on a prompt (or y on a question). A refused answer keeps the prompt open, saying
    /// why, so the person fixes it instead of starting over; a question's refusal goes to the
    /// status line, since its one key is spent.
    fn submit(&mut self) {
        let Mode::Prompt(mut prompt) = std::mem::replace(&mut self.state.mode, Mode::Normal) else {
            return;
        };
        let step = match self.answer(&prompt) {
            Ok(step) => step,
            Err(refusal) => return self.refused(prompt, refusal),
        };
        let answered = match step {
            Step::Done(answered) => answered,
            Step::Goto(id) => {
                // The prompt waits for the board to say where the task is, as for a write.
                prompt.waiting = true;
                self.state.mode = Mode::Prompt(prompt);
                self.read(Read::Goto(id));
                return;
            }
            Step::Write(write) => {
                self.write(write);
                // A question's one key is spent; a prompt stays open until the board takes
                // its answer, so a refusal lands in it to be fixed.
                if prompt.kind.is_question() {
                    return self.back_from(&prompt);
                }
                prompt.waiting = true;
                self.state.mode = Mode::Prompt(prompt);
                return;
            }
        };
        self.close_answered(&prompt, answered);
    }

    /// A refused answer: a question's refusal goes to the status line, since its one key is
    /// spent; any other prompt stays open, saying why, to be fixed rather than started over.
    fn refused(&mut self, mut prompt: Prompt, refusal: String) {
        prompt.waiting = false;
        if prompt.kind.is_question() {
            self.state.message = Some(refusal);
            self.back_from(&prompt);
        } else {
            // The status line says it too, instead of the "…ing" it showed while waiting.
            self.state.message = Some(refusal.clone());
            prompt.refusal = Some(refusal);
            self.state.mode = Mode::Prompt(prompt);
        }
    }

    /// The board took the answer: what fails from here on is the status line's, never the
    /// prompt's, so Enter pressed again cannot write twice.
    fn close_answered(&mut self, prompt: &Prompt, answered: Answered) {
        self.landed(answered);
        self.back_from(prompt);
    }

    /// Does what a prompt's answer asks, or says which write does it; Err is the refusal, in
    /// one line.
    fn answer(&mut self, prompt: &Prompt) -> Result<Step, String> {
        let input = prompt.input.value().trim();
        let task = prompt.task.clone().unwrap_or_default();
        let picked = || {
            prompt
                .picker
                .as_ref()
                .and_then(|p| p.selected())
                .map(|choice| choice.id.clone())
                .ok_or_else(|| "no task matches; Esc closes".to_owned())
        };
        Ok(Step::Write(match prompt.kind {
            PromptKind::Filter => return Ok(Step::Done(Answered::default())),
            PromptKind::ConfirmCancel => Write::Cancel(task),
            PromptKind::ConfirmComplete => Write::Complete(task),
            PromptKind::ConfirmArchive => Write::Archive(task),
            PromptKind::BlockReason => block(&task, input)?,
            PromptKind::LinkParent => Write::Link {
                parent: picked()?,
                child: task,
            },
            PromptKind::UnlinkParent => Write::Unlink {
                parent: picked()?,
                child: task,
            },
            PromptKind::Comment => {
                if input.is_empty() {
                    return Err("a comment needs some text".into());
                }
                Write::Comment {
                    task,
                    author: comment_author(),
                    text: prompt.input.value().to_owned(),
                }
            }
            PromptKind::NewTitle | PromptKind::NewChildTitle => {
                if input.is_empty() {
                    return Err("a task needs a title".into());
                }
                Write::Create {
                    title: input.to_owned(),
                    parent: (prompt.kind == PromptKind::NewChildTitle).then_some(task),
                }
            }
            PromptKind::Command => return self.run_command(input),
        }))
    }

    /// Runs a `:` command line.
    fn run_command(&mut self, line: &str) -> Result<Step, String> {
        Ok(match command::parse(line).map_err(|e| e.to_string())? {
            None => Step::Done(Answered::default()),
            Some(Command::Quit) => {
                self.quit = true;
                Step::Done(Answered::default())
            }
            Some(Command::Goto(id)) => self.goto(&id),
            Some(Command::Block { id, reason }) => Step::Write(block(&id, &reason)?),
            Some(Command::Unblock(id)) => Step::Write(Write::Unblock(id)),
        })
    }

    /// Makes a task selectable where it is: its status shown as a column, no filter hiding it.
    /// A task the view does not hold (a finished one down a long column) is looked up on
    /// the board first.
    fn goto(&mut self, id: &str) -> Step {
        let Some(status) = self.state.view.task(id).map(|t| t.status.clone()) else {
            return Step::Goto(id.to_owned());
        };
        if !self.state.statuses().contains(&status) {
            self.state.toggle_other_statuses();
        }
        if !self.state.cards(&status).iter().any(|t| t.id == id) {
            self.state.set_filter(String::new());
        }
        Step::Done(Answered {
            message: None,
            select: Some(id.to_owned()),
        })
    }

    /// Stops the race on screen, or starts one in `mode` if the pool can work it.
    fn toggle_race(&mut self, mode: RaceMode) {
        if let Some(race) = &mut self.race {
            if race.written() {
                // Its writer is done: only the workers' part is left, and that is not waited for.
                if let Some(race) = self.race.take() {
                    self.end_race(&race, false);
                }
            } else if race.stop() {
                self.effects.push(Effect::Race(RaceCommand::Stop));
            }
            return;
        }
        if let Some(refusal) = self.race_refusal() {
            self.state.message = Some(refusal.into());
            return;
        }
        // The race's tasks are those its writer creates after the cursor: earlier events not
        // read yet are of other tasks.
        self.race = Some(RaceRun::new(mode, self.cursor));
        self.effects
            .push(Effect::Race(RaceCommand::Start(RaceConfig {
                rounds: race::ROUNDS,
                mode,
                pace: self.race_pace,
                ..RaceConfig::default()
            })));
        self.state.race_summary = None;
        self.state.message = Some(
            match mode {
                RaceMode::CreateThenLink => "race started: creating children, linking them late",
                RaceMode::BuggyWriter => {
                    "buggy race started: children marked ready while their parents are held"
                }
            }
            .into(),
        );
    }

    /// Why a race started now would race nothing: no worker would claim its children, so
    /// neither a claim nor the gate would show. Names the key that fixes it.
    fn race_refusal(&self) -> Option<&'static str> {
        let pool = &self.state.pool;
        if !pool.running || pool.size == 0 {
            return Some("race needs workers: press + to start one");
        }
        if pool.paused {
            return Some("race needs workers: the pool is paused, press p to resume");
        }
        if self.pool_scoped {
            return Some(
                "race needs workers for the whole board; these work only one file's tasks",
            );
        }
        None
    }

    /// The race's writer is done (every round written, or stopped), or failed.
    fn race_written(&mut self, report: Result<RaceReport, String>) {
        let Some(race) = &mut self.race else {
            return;
        };
        match report {
            Ok(report) => {
                let children = report.children;
                if race.written_by(report) {
                    // Stopped by the person: what it wrote is worked to the end and counted (once
                    // a paused pool resumes), unless there is no worker; then it is summed up now.
                    let pool = &self.state.pool;
                    if pool.running && pool.size > 0 {
                        self.state.message = Some(if pool.paused {
                            format!(
                                "race stopped after {children} children; p resumes the workers to finish them, then the summary"
                            )
                        } else {
                            format!(
                                "race stopped after {children} children; the workers finish them, then the summary"
                            )
                        });
                        self.follow_race();
                    } else if let Some(race) = self.race.take() {
                        self.end_race(&race, false);
                    }
                } else {
                    self.state.message = Some(format!(
                        "race written: {children} children; parents released, workers finish the rest"
                    ));
                    self.follow_race();
                }
            }
            Err(why) => {
                self.race = None;
                self.state.message = Some(format!("race failed: {why}"));
            }
        }
    }

    /// Sums the race up once its writer is done and every task it made is finished.
    fn follow_race(&mut self) {
        if self.race.as_ref().is_some_and(RaceRun::drained)
            && let Some(race) = self.race.take()
        {
            self.end_race(&race, !race.stopped());
        }
    }

    /// Audits the whole board and shows the race's summary.
    fn end_race(&mut self, race: &RaceRun, finished: bool) {
        self.race_ending = Some(race.summary(finished, self.state.violations, 0));
        self.read(Read::Audit);
    }

    fn click(&mut self, x: u16, y: u16) {
        let Some(area) = self.screen.filter(|screen| layout::fits(*screen)) else {
            return;
        };
        let statuses = self.state.statuses();
        let areas = layout::areas(area, statuses.len());
        let hit = |r: Rect| x >= r.x && x < r.right() && y >= r.y && y < r.bottom();
        if hit(areas.log) {
            self.state.pane = Pane::Log;
            // A click on an event puts the cursor there (the pane holds still, as scrolling
            // does), so Enter opens its task.
            let inner = layout::inner(areas.log);
            if y >= inner.y && y < inner.bottom() {
                let log = &mut self.state.log;
                let at = log.top() + usize::from(y - inner.y);
                if at < log.len() {
                    let delta = isize::try_from(at).unwrap_or(isize::MAX)
                        - isize::try_from(log.cursor()).unwrap_or(isize::MAX);
                    log.move_cursor(delta);
                }
            }
            return;
        } else if hit(areas.workers) {
            self.state.pane = Pane::Workers;
        }
        let Some(column) = areas.columns.iter().position(|r| hit(*r)) else {
            return;
        };
        self.state.pane = Pane::Board;
        self.state.column = column;
        let status = statuses[column].clone();
        let inner = layout::inner(areas.columns[column]);
        if y < inner.y || y >= inner.bottom() {
            return;
        }
        let frame = self
            .state
            .column_frame(&status, layout::cards_per_column(areas.columns[column]));
        let slot = usize::from((y - inner.y) / layout::CARD_HEIGHT);
        if slot < frame.cards.len() {
            let row = frame.first + slot;
            self.state.select_row(&status, row);
        }
    }

    fn tick(&mut self) {
        self.state.now = now_epoch();
        // A running task's output grows without events: follow it while its view is open.
        if !self.tailing
            && let Mode::Detail(detail) = &self.state.mode
            && self.state.log_tails.iter().any(|t| t.live)
        {
            self.tailing = true;
            self.read(Read::Tails {
                detail: detail.clone(),
                view: self.views,
            });
        }
        self.state.claims_per_sec = self.rate.per_second(Instant::now());
        self.follow_race();
    }
}

/// A row count as a signed move.
fn signed(rows: usize) -> isize {
    isize::try_from(rows).unwrap_or(isize::MAX)
}

/// Who the TUI says wrote a comment: the person at the terminal, as the CLI names its claimer.
fn comment_author() -> String {
    match std::env::var("USER") {
        Ok(user) if !user.is_empty() => format!("tui:{user}"),
        _ => "gateboard tui".to_owned(),
    }
}

/// What an accepted prompt leaves on screen.
#[derive(Default)]
struct Answered {
    /// The status line.
    message: Option<String>,
    /// A task to put the cursor on (one just made, or gone to), instead of settling it.
    select: Option<String>,
}

impl From<Written> for Answered {
    fn from(written: Written) -> Answered {
        Answered {
            message: Some(written.message),
            select: written.select,
        }
    }
}

/// What a prompt's answer comes to.
enum Step {
    /// Done already, on screen only (a filter, `:goto` a task the view holds).
    Done(Answered),
    /// `:goto` a task the view does not hold: where it is must be read first.
    Goto(String),
    /// A write to the board.
    Write(Write),
}

/// A block, refused before the board is asked when it has no reason.
fn block(id: &str, reason: &str) -> Result<Write, String> {
    if reason.is_empty() {
        return Err("a block needs a reason".into());
    }
    Ok(Write::Block {
        task: id.to_owned(),
        reason: reason.to_owned(),
    })
}
