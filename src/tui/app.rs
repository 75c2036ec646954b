//! The TUI's state machine: every `Action` goes through `update`, which changes the state and
//! performs the board writes and pool commands a key asks for.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use ratatui::layout::Rect;
use tokio::sync::mpsc;

use tui_input::InputRequest;

use super::action::{self, Action};
use super::command::{self, Command};
use super::freshness::Freshness;
use super::layout;
use super::picker::{Choice, Picker};
use super::race::{self, RaceRun};
use super::state::{
    BoardView, ClaimRate, Mode, Pane, PoolView, Prompt, PromptKind, RunTail, State,
};
use super::tree::TreeView;
use crate::core::audit::{audit, claims_before_parent_events, claims_before_parent_events_after};
use crate::core::{
    Board, BoardError, EventKind, NewTask, OpenOptions, Status, TaskDetail, Txn, now_epoch,
};
use crate::pool::exec::output;
use crate::pool::racer::{RaceConfig, RaceMode, Racer};
use crate::pool::{Pool, PoolConfig};

/// Who the TUI says cancelled a task.
const CANCELLED_BY: &str = "gateboard tui";
/// Lines of output shown for the running attempt, and for each finished one.
const LIVE_TAIL_LINES: usize = 12;
const ENDED_TAIL_LINES: usize = 3;
/// Finished runs whose output the detail view shows, newest first.
const ENDED_RUNS_SHOWN: usize = 3;

/// Events read per look at the log; a larger backlog is read in several looks.
const EVENT_PAGE: usize = 5000;
/// Events shown in the log when the board opens.
const HISTORY: usize = 200;
/// Rows a page key moves.
const PAGE: isize = 10;

/// The running TUI: its state, its connection, its pool.
pub struct App {
    /// What the next frame draws.
    pub state: State,
    board: Board,
    pool: Option<Pool>,
    race: Option<RaceRun>,
    /// The pause between a race's children.
    race_pace: Duration,
    pool_config: PoolConfig,
    open: OpenOptions,
    cursor: i64,
    rate: ClaimRate,
    inputs: Option<mpsc::UnboundedSender<Action>>,
    /// Something was committed (the watcher or the pool said so): read the new events.
    dirty: bool,
    freshness: Freshness,
    /// The terminal's size, once told.
    screen: Option<Rect>,
    quit: bool,
}

impl App {
    /// Loads the board into a fresh state.
    pub fn new(
        board: Board,
        state: State,
        pool_config: PoolConfig,
        open: OpenOptions,
    ) -> Result<App, BoardError> {
        // One snapshot, so the cursor starts exactly where the loaded tasks stand.
        let (tasks, history, violations) = board.read(|r| {
            let last = r.last_event_id()?;
            let history = r.events_after((last - HISTORY as i64).max(0), HISTORY, None)?;
            Ok((
                r.tasks(None)?,
                history,
                claims_before_parent_events(r)?.len(),
            ))
        })?;
        let mut app = App {
            state,
            board,
            pool: None,
            race: None,
            race_pace: race::PACE,
            pool_config,
            open,
            cursor: history.last().map_or(0, |e| e.id),
            rate: ClaimRate::default(),
            inputs: None,
            dirty: false,
            freshness: Freshness::new(Instant::now()),
            screen: None,
            quit: false,
        };
        app.state.replace_view(BoardView::load(tasks));
        app.state.violations = violations;
        app.state.push_events(history);
        Ok(app)
    }

    /// Where the app sends the pool's events so they wake the main loop.
    pub fn set_inputs(&mut self, inputs: mpsc::UnboundedSender<Action>) {
        self.inputs = Some(inputs);
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

    /// Reads every task afresh, after a change that wrote no events. The event cursor stays:
    /// events not read yet still reach the log, the rates and the live audit.
    fn reload(&mut self) -> Result<(), BoardError> {
        let tasks = self.board.read(|r| r.tasks(None))?;
        self.state.replace_view(BoardView::load(tasks));
        Ok(())
    }

    /// Starts a pool of `workers` on the board and forwards its events to the main loop.
    pub fn start_pool(&mut self, workers: usize) -> Result<(), BoardError> {
        let pool = Pool::start(
            self.board.path(),
            PoolConfig {
                workers,
                ..self.pool_config.clone()
            },
        )?;
        if let Some(inputs) = &self.inputs {
            let mut events = pool.subscribe();
            let inputs = inputs.clone();
            tokio::spawn(async move {
                loop {
                    let action = match events.recv().await {
                        Ok(event) => Action::Pool(event),
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => {
                            Action::BoardChanged
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
                    };
                    if inputs.send(action).is_err() {
                        return;
                    }
                }
            });
        }
        self.pool = Some(pool);
        self.sync_pool_view();
        Ok(())
    }

    /// Stops the race and the pool, releasing every claim; call before leaving.
    pub async fn shutdown(mut self) {
        if let Some(mut race) = self.race.take() {
            let _ = tokio::task::spawn_blocking(move || race.stop()).await;
        }
        if let Some(pool) = self.pool.take() {
            pool.stop().await;
        }
    }

    /// Applies one action.
    pub fn update(&mut self, action: Action) {
        if let Err(e) = self.apply(action) {
            self.state.message = Some(e.to_string());
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
        if let Err(e) = self.look(now) {
            self.state.message = Some(e.to_string());
        }
    }

    /// When `catch_up` has something to do without further input: at once while events are
    /// left to read, else at the next second look or reload.
    pub fn next_wake(&self) -> Option<Instant> {
        if self.dirty {
            Some(Instant::now())
        } else {
            self.freshness.next_due()
        }
    }

    fn look(&mut self, now: Instant) -> Result<(), BoardError> {
        let woke = std::mem::take(&mut self.dirty);
        if woke || self.freshness.recheck_due(now) || self.freshness.reload_due(now) {
            let found = self.refresh()?;
            self.freshness.looked(now, woke, found);
        }
        if self.freshness.reload_due(now) {
            self.reload()?;
            self.freshness.reloaded(now);
        }
        Ok(())
    }

    /// Whether the terminal is too small to draw the board, so only a note shows.
    fn too_small(&self) -> bool {
        self.screen.is_some_and(|screen| !layout::fits(screen))
    }

    fn apply(&mut self, action: Action) -> Result<(), BoardError> {
        let in_prompt = matches!(self.state.mode, Mode::Prompt(_));
        if self.too_small() && action.needs_the_board() {
            return Ok(());
        }
        match action {
            Action::Terminal(event) => {
                let action = if self.too_small() {
                    action::from_terminal_too_small(event)
                } else {
                    action::from_terminal(event, &self.state.mode)
                };
                if let Some(action) = action {
                    return self.apply(action);
                }
            }
            Action::Quit => self.quit = true,
            Action::Back if in_prompt => self.close_prompt(),
            Action::Back => self.state.mode = Mode::Normal,
            Action::Help => {
                self.state.mode = match self.state.mode {
                    Mode::Help => Mode::Normal,
                    _ => Mode::Help,
                }
            }
            Action::Edit(edit) if in_prompt => self.edit_prompt(edit),
            Action::Up if in_prompt => self.move_pick(-1),
            Action::Down if in_prompt => self.move_pick(1),
            Action::PageUp if in_prompt => self.move_pick(-PAGE),
            Action::PageDown if in_prompt => self.move_pick(PAGE),
            Action::Submit | Action::Confirm if in_prompt => self.submit()?,
            Action::BoardChanged => self.dirty = true,
            Action::Pool(_) => {
                self.dirty = true;
                self.sync_pool_view();
            }
            Action::Tick => self.tick(),
            Action::Resize { width, height } => {
                self.screen = Some(Rect::new(0, 0, width, height));
            }
            Action::Tree => self.open_tree()?,
            _ if matches!(self.state.mode, Mode::Tree(_)) => self.in_tree(&action)?,
            _ if self.state.mode != Mode::Normal => {}
            Action::Left => self.state.move_column(-1),
            Action::Right => self.state.move_column(1),
            Action::Up => self.state.move_row(-1),
            Action::Down => self.state.move_row(1),
            Action::PageUp => self.state.move_row(-PAGE),
            Action::PageDown => self.state.move_row(PAGE),
            Action::NextPane => {
                self.state.pane = match self.state.pane {
                    Pane::Board => Pane::Log,
                    Pane::Log => Pane::Workers,
                    Pane::Workers => Pane::Board,
                }
            }
            Action::Open => {
                if let Some(id) = self.selected_id() {
                    let detail = self.board.read(|r| r.detail(&id))?;
                    self.state.log_tails = log_tails(&detail);
                    self.state.mode = Mode::Detail(Box::new(detail));
                }
            }
            Action::Cancel => match self.state.selected_task() {
                Some(task) if task.status == Status::Running => {
                    self.ask(PromptKind::ConfirmCancel, true);
                }
                Some(task) => {
                    self.state.message = Some(format!(
                        "{} is {}; only a running task can be cancelled",
                        task.id, task.status
                    ));
                }
                None => self.state.message = Some("no task selected".into()),
            },
            Action::Unblock => match self.state.selected_task() {
                Some(task) if task.status == Status::Archived => {
                    self.on_selected(|board, id| {
                        let back = board.write(|t| t.unarchive(id))?;
                        Ok(match back.demoted.len() {
                            0 => format!("{id} unarchived: now {}", back.status),
                            n => format!(
                                "{id} unarchived: now {}; {n} waiting children back to todo",
                                back.status
                            ),
                        })
                    })?;
                }
                _ => self.on_selected(|board, id| {
                    let status = board.write(|t| t.unblock(id))?;
                    Ok(format!("{id} unblocked: now {status}"))
                })?,
            },
            Action::Complete => match self.state.selected_task() {
                Some(task) if task.status == Status::Running => {
                    self.state.message = Some(format!(
                        "{} is running under {}; x cancels it first",
                        task.id,
                        task.claim_lock.as_deref().unwrap_or("nobody")
                    ));
                }
                _ => self.ask(PromptKind::ConfirmComplete, true),
            },
            Action::Archive => match self.state.selected_task() {
                Some(task) if task.status == Status::Running => {
                    self.state.message = Some(format!(
                        "{} is running; x cancels it first, then a archives it",
                        task.id
                    ));
                }
                _ => self.ask(PromptKind::ConfirmArchive, true),
            },
            Action::Block => self.ask(PromptKind::BlockReason, true),
            Action::Link => self.pick(PromptKind::LinkParent)?,
            Action::Unlink => self.pick(PromptKind::UnlinkParent)?,
            Action::New => self.ask(PromptKind::NewTitle, false),
            Action::NewChild => self.ask(PromptKind::NewChildTitle, true),
            Action::Command => self.ask(PromptKind::Command, false),
            Action::Filter => {
                // The prompt starts empty and the filter follows it, so the board shows all.
                self.state.set_filter(String::new());
                self.ask(PromptKind::Filter, false);
            }
            Action::ToggleOtherStatuses => self.state.toggle_other_statuses(),
            Action::TogglePause => match &self.pool {
                Some(pool) if pool.is_paused() => pool.resume(),
                Some(pool) => pool.pause(),
                None => self.state.message = Some("no workers run here; + starts one".into()),
            },
            Action::MoreWorkers => match &mut self.pool {
                Some(pool) => pool.resize(pool.size() + 1),
                None => self.start_pool(1)?,
            },
            Action::FewerWorkers => {
                if let Some(pool) = &mut self.pool {
                    pool.resize(pool.size().saturating_sub(1));
                }
            }
            Action::ToggleRace(mode) => self.toggle_race(mode)?,
            Action::Click { x, y } => self.click(x, y),
            Action::Edit(_) | Action::Submit | Action::Confirm | Action::ToggleFold => {}
        }
        self.sync_pool_view();
        Ok(())
    }

    /// Opens the dependency tree of the task in the detail view, else of the selected task.
    fn open_tree(&mut self) -> Result<(), BoardError> {
        let id = match &self.state.mode {
            Mode::Detail(detail) => Some(detail.task.id.clone()),
            Mode::Normal => self.selected_id(),
            _ => return Ok(()),
        };
        let Some(id) = id else {
            self.state.message = Some("no task selected".into());
            return Ok(());
        };
        let lineage = self.board.read(|r| r.lineage(&id))?;
        self.state.mode = Mode::Tree(Box::new(TreeView::new(lineage)));
        Ok(())
    }

    /// Keys in the tree: move, fold, and Enter to jump to a line's task.
    fn in_tree(&mut self, action: &Action) -> Result<(), BoardError> {
        let Mode::Tree(tree) = &mut self.state.mode else {
            return Ok(());
        };
        match action {
            Action::Up => tree.move_cursor(-1),
            Action::Down => tree.move_cursor(1),
            Action::PageUp => tree.move_cursor(-PAGE),
            Action::PageDown => tree.move_cursor(PAGE),
            Action::ToggleFold => tree.toggle_fold(),
            Action::Left => tree.fold(true),
            Action::Right => tree.fold(false),
            Action::Open => {
                if let Some(id) = tree.selected().map(str::to_owned) {
                    self.state.select_task(&id);
                    let detail = self.board.read(|r| r.detail(&id))?;
                    self.state.log_tails = log_tails(&detail);
                    self.state.mode = Mode::Detail(Box::new(detail));
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn selected_id(&self) -> Option<String> {
        self.state.selected_task().map(|t| t.id.clone())
    }

    /// Runs a board write on the selected task and reports its outcome.
    fn on_selected(
        &mut self,
        write: impl FnOnce(&mut Board, &str) -> Result<String, BoardError>,
    ) -> Result<(), BoardError> {
        let Some(id) = self.selected_id() else {
            self.state.message = Some("no task selected".into());
            return Ok(());
        };
        let message = write(&mut self.board, &id)?;
        self.refresh()?;
        self.state.settle_after_own_change();
        self.state.message = Some(message);
        Ok(())
    }

    /// Opens a prompt about the selected task (if it needs one).
    fn ask(&mut self, kind: PromptKind, needs_task: bool) {
        let task = self.selected_id();
        if needs_task && task.is_none() {
            self.state.message = Some("no task selected".into());
            return;
        }
        self.state.mode = Mode::Prompt(Prompt::new(kind, task));
    }

    /// Opens a picker about the selected task: every other task to link as its parent, or its
    /// parents to unlink.
    fn pick(&mut self, kind: PromptKind) -> Result<(), BoardError> {
        let Some(task) = self.selected_id() else {
            self.state.message = Some("no task selected".into());
            return Ok(());
        };
        let picker = match kind {
            PromptKind::UnlinkParent => {
                let parents = self.board.read(|r| r.parents(&task))?;
                Picker::new(parents.into_iter().map(Choice::from).collect())
            }
            _ => Picker::board_except(&self.state.view, &task),
        };
        if picker.is_empty() {
            self.state.message = Some(match kind {
                PromptKind::UnlinkParent => format!("{task} waits for no parent"),
                _ => "no other task to link to".into(),
            });
            return Ok(());
        }
        self.state.mode = Mode::Prompt(Prompt {
            picker: Some(Box::new(picker)),
            ..Prompt::new(kind, Some(task))
        });
        Ok(())
    }

    /// Applies an edit to the open prompt; when its text changed, the refusal shown goes, the
    /// picker matches again and a filter prompt filters the board.
    fn edit_prompt(&mut self, edit: InputRequest) {
        let Mode::Prompt(prompt) = &mut self.state.mode else {
            return;
        };
        if !prompt.input.apply(edit) {
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

    /// Esc on a prompt: nothing is written, and a filter typed into it is taken back.
    fn close_prompt(&mut self) {
        if let Mode::Prompt(prompt) = std::mem::replace(&mut self.state.mode, Mode::Normal)
            && prompt.kind == PromptKind::Filter
        {
            self.state.set_filter(String::new());
        }
    }

    /// Enter on a prompt (or y on a question). A refused answer keeps the prompt open, saying
    /// why, so the person fixes it instead of starting over; a question's refusal goes to the
    /// status line, since its one key is spent.
    fn submit(&mut self) -> Result<(), BoardError> {
        let Mode::Prompt(mut prompt) = std::mem::replace(&mut self.state.mode, Mode::Normal) else {
            return Ok(());
        };
        let answered = match self.answer(&prompt) {
            Ok(answered) => answered,
            Err(refusal) if prompt.kind.is_question() => {
                self.state.message = Some(refusal);
                return Ok(());
            }
            Err(refusal) => {
                prompt.refusal = Some(refusal);
                self.state.mode = Mode::Prompt(prompt);
                return Ok(());
            }
        };
        // The write is in: what fails from here on is the status line's, never the prompt's,
        // so Enter pressed again cannot write twice.
        self.refresh()?;
        match &answered.select {
            Some(id) => self.state.select_task(id),
            None => self.state.settle_after_own_change(),
        }
        self.state.message = answered.message;
        Ok(())
    }

    /// Does what a prompt's answer asks; Err is the refusal, in one line.
    fn answer(&mut self, prompt: &Prompt) -> Result<Answered, String> {
        let input = prompt.input.value().trim();
        let task = prompt.task.clone().unwrap_or_default();
        let done = |message: String| -> Result<Answered, String> { Ok(Answered::saying(message)) };
        let picked = || {
            prompt
                .picker
                .as_ref()
                .and_then(|p| p.selected())
                .map(|choice| choice.id.clone())
                .ok_or_else(|| "no task matches; Esc closes".to_owned())
        };
        match prompt.kind {
            PromptKind::Filter => Ok(Answered::default()),
            PromptKind::ConfirmCancel => {
                self.write(|t| t.cancel(&task, CANCELLED_BY))?;
                done(format!(
                    "{task} cancelled: its command is being stopped; u puts it back in the queue"
                ))
            }
            PromptKind::ConfirmComplete => {
                let completed =
                    self.write(|t| t.complete(&task, None, Some("completed by hand")))?;
                done(format!(
                    "{task} done; promoted {}",
                    completed.promoted.len()
                ))
            }
            PromptKind::ConfirmArchive => {
                let archived = self.write(|t| t.archive(&task))?;
                done(format!(
                    "{task} archived; promoted {}",
                    archived.promoted.len()
                ))
            }
            PromptKind::BlockReason => self.block(&task, input),
            PromptKind::LinkParent => {
                let parent = picked()?;
                let linked = self.write(|t| t.link(&parent, &task))?;
                done(if linked {
                    format!("{task} now waits for {parent}")
                } else {
                    format!("{task} already waits for {parent}")
                })
            }
            PromptKind::UnlinkParent => {
                let parent = picked()?;
                self.write(|t| t.unlink(&parent, &task))?;
                done(format!("{task} no longer waits for {parent}"))
            }
            PromptKind::NewTitle | PromptKind::NewChildTitle => {
                if input.is_empty() {
                    return Err("a task needs a title".into());
                }
                let parents = match prompt.kind {
                    PromptKind::NewChildTitle => vec![task.clone()],
                    _ => Vec::new(),
                };
                let id = self.write(|t| {
                    t.create(&NewTask {
                        title: input.to_owned(),
                        parents,
                        created_by: Some("gateboard tui".into()),
                        ..NewTask::default()
                    })
                })?;
                let message = match prompt.kind {
                    PromptKind::NewChildTitle => format!("created {id}, waiting for {task}"),
                    _ => format!("created {id}"),
                };
                Ok(Answered {
                    message: Some(message),
                    select: Some(id),
                })
            }
            PromptKind::Command => self.run_command(input),
        }
    }

    /// Runs a `:` command line.
    fn run_command(&mut self, line: &str) -> Result<Answered, String> {
        match command::parse(line).map_err(|e| e.to_string())? {
            None => Ok(Answered::default()),
            Some(Command::Quit) => {
                self.quit = true;
                Ok(Answered::default())
            }
            Some(Command::Goto(id)) => self.goto(&id),
            Some(Command::Block { id, reason }) => self.block(&id, &reason),
            Some(Command::Unblock(id)) => {
                let status = self.write(|t| t.unblock(&id))?;
                Ok(Answered::saying(format!("{id} unblocked: now {status}")))
            }
        }
    }

    /// Blocks a task for a reason; an empty reason is refused before the board is asked.
    fn block(&mut self, id: &str, reason: &str) -> Result<Answered, String> {
        if reason.is_empty() {
            return Err("a block needs a reason".into());
        }
        self.write(|t| t.block(id, reason))?;
        Ok(Answered::saying(format!("{id} blocked")))
    }

    /// Makes a task selectable where it is: its status shown as a column, no filter hiding it.
    fn goto(&mut self, id: &str) -> Result<Answered, String> {
        let Some(status) = self.state.view.task(id).map(|t| t.status.clone()) else {
            return Err(format!("no task {id} on this board"));
        };
        if !self.state.statuses().contains(&status) {
            self.state.toggle_other_statuses();
        }
        if !self.state.cards(&status).iter().any(|t| t.id == id) {
            self.state.set_filter(String::new());
        }
        Ok(Answered {
            message: None,
            select: Some(id.to_owned()),
        })
    }

    /// One board write, its refusal as the line a prompt shows.
    fn write<T>(
        &mut self,
        write: impl FnOnce(&Txn<'_>) -> Result<T, BoardError>,
    ) -> Result<T, String> {
        self.board.write(write).map_err(|e| e.to_string())
    }

    /// Stops the race on screen, or starts one in `mode` if the pool can work it.
    fn toggle_race(&mut self, mode: RaceMode) -> Result<(), BoardError> {
        if let Some(mut race) = self.race.take() {
            race.stop()?;
            return self.end_race(&race, false);
        }
        if let Some(refusal) = self.race_refusal() {
            self.state.message = Some(refusal.into());
            return Ok(());
        }
        // Every event so far is read first, so the race's tasks are exactly those created
        // after the cursor.
        self.refresh()?;
        let config = RaceConfig {
            rounds: race::ROUNDS,
            mode,
            pace: self.race_pace,
            ..RaceConfig::default()
        };
        let writer = Racer::start(self.board.path(), config, &self.open)?;
        self.race = Some(RaceRun::new(mode, writer, self.cursor));
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
        Ok(())
    }

    /// Why a race started now would race nothing: no worker would claim its children, so
    /// neither a claim nor the gate would show. Names the key that fixes it.
    fn race_refusal(&self) -> Option<&'static str> {
        let Some(pool) = self.pool.as_ref().filter(|pool| pool.size() > 0) else {
            return Some("race needs workers: press + to start one");
        };
        if pool.is_paused() {
            return Some("race needs workers: the pool is paused, press p to resume");
        }
        if self.pool_config.key_prefix.is_some() {
            return Some(
                "race needs workers for the whole board; these work only one file's tasks",
            );
        }
        None
    }

    /// Moves the race on: collects the writer once it has written every round, and sums the
    /// race up once every task it made is finished.
    fn follow_race(&mut self) -> Result<(), BoardError> {
        let Some(race) = &mut self.race else {
            return Ok(());
        };
        match race.collect_writer() {
            Ok(true) => {
                self.state.message = Some(format!(
                    "race written: {} children; parents released, workers finish the rest",
                    race.children()
                ));
            }
            Ok(false) => {}
            Err(e) => {
                self.race = None;
                self.state.message = Some(format!("race failed: {e}"));
                return Ok(());
            }
        }
        if race.drained(&self.state.view)
            && let Some(race) = self.race.take()
        {
            self.end_race(&race, true)?;
        }
        Ok(())
    }

    /// Audits the whole board and shows the race's summary.
    fn end_race(&mut self, race: &RaceRun, finished: bool) -> Result<(), BoardError> {
        let audit_violations = self.board.read(audit)?.len();
        let summary = race.summary(finished, self.state.violations, audit_violations);
        self.state.message = Some(format!(
            "race {}: {} violations",
            if finished { "done" } else { "stopped" },
            summary.live_violations.max(summary.audit_violations)
        ));
        self.state.race_summary = Some(summary);
        Ok(())
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
        let cards = self.state.cards(&status);
        let first = layout::first_visible(
            self.state.row(&status, &cards),
            layout::cards_per_column(areas.columns[column]),
        );
        let row = first + usize::from((y - inner.y) / layout::CARD_HEIGHT);
        if row < cards.len() {
            self.state.select_row(&status, row);
        }
    }

    fn tick(&mut self) {
        self.state.now = now_epoch();
        // A running task's output grows without events: follow it while its view is open.
        if let Mode::Detail(detail) = &self.state.mode
            && self.state.log_tails.iter().any(|t| t.live)
        {
            self.state.log_tails = log_tails(detail);
        }
        self.state.claims_per_sec = self.rate.per_second(Instant::now());
        if let Err(e) = self.follow_race() {
            self.state.message = Some(e.to_string());
        }
    }

    fn sync_pool_view(&mut self) {
        self.state.pool = match &self.pool {
            Some(pool) => PoolView {
                running: true,
                size: pool.size(),
                paused: pool.is_paused(),
                workers: pool.workers(),
                completed: pool.stats().completed,
                race: self.race.as_ref().map(RaceRun::children),
                trouble: pool.failure().or_else(|| pool.trouble()),
            },
            None => PoolView {
                race: self.race.as_ref().map(RaceRun::children),
                ..PoolView::default()
            },
        };
    }

    /// Reads only what is new: events after the cursor, and the tasks they name. Returns
    /// whether there were any.
    fn refresh(&mut self) -> Result<bool, BoardError> {
        let before = self.cursor;
        let (events, mut tasks, violations) = self.board.read(|r| {
            let events = r.events_after(before, EVENT_PAGE, None)?;
            let mut named = HashSet::new();
            let ids: Vec<String> = events
                .iter()
                .filter(|e| named.insert(e.task_id.as_str()))
                .map(|e| e.task_id.clone())
                .collect();
            let tasks = r.tasks_by_ids(&ids)?;
            let claimed = events.iter().any(|e| e.kind == EventKind::Claimed);
            let violations = if claimed {
                claims_before_parent_events_after(r, before)?.len()
            } else {
                0
            };
            Ok((events, tasks, violations))
        })?;
        if events.is_empty() {
            return Ok(false);
        }
        let now = Instant::now();
        for event in &events {
            match event.kind {
                EventKind::Claimed => self.rate.record(now),
                EventKind::ClaimRejected => self.state.rejections += 1,
                _ => {}
            }
        }
        self.state.violations += violations;
        self.cursor = events.last().map_or(before, |e| e.id);
        let full_page = events.len() == EVENT_PAGE;
        // Tasks new to the view take their place among equals in the order they were created,
        // which is the order of their first events.
        let first_event: HashMap<&str, i64> = events
            .iter()
            .rev()
            .map(|e| (e.task_id.as_str(), e.id))
            .collect();
        tasks.sort_by_key(|t| first_event.get(t.id.as_str()).copied());
        self.state.apply_tasks(tasks);
        if let Some(race) = &mut self.race {
            race.note(&events, &self.state.view);
        }
        if let Mode::Detail(detail) = &self.state.mode
            && events.iter().any(|e| e.task_id == detail.task.id)
        {
            let id = detail.task.id.clone();
            let detail = self.board.read(|r| r.detail(&id))?;
            self.state.log_tails = log_tails(&detail);
            self.state.mode = Mode::Detail(Box::new(detail));
        }
        self.state.push_events(events);
        if full_page {
            self.dirty = true;
        }
        Ok(true)
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

impl Answered {
    fn saying(message: String) -> Answered {
        Answered {
            message: Some(message),
            select: None,
        }
    }
}

/// The end of the output of a task's runs: the open run's live, the newest finished ones'
/// last lines. Logs are files beside the board, read here without touching the board file.
fn log_tails(detail: &TaskDetail) -> Vec<RunTail> {
    let mut tails = Vec::new();
    let mut ended = 0;
    for run in detail.runs.iter().rev() {
        let Some(log) = &run.log else { continue };
        let live = run.ended_at.is_none();
        if !live {
            if ended == ENDED_RUNS_SHOWN {
                break;
            }
            ended += 1;
        }
        let keep = if live {
            LIVE_TAIL_LINES
        } else {
            ENDED_TAIL_LINES
        };
        let lines = output::tail_lines(std::path::Path::new(log), keep).unwrap_or_default();
        tails.push(RunTail {
            run_id: run.id,
            live,
            lines,
        });
    }
    tails
}
