//! The TUI's effects carried out: `App` holds the `Model` and everything it must not (the
//! board connection, the pool, the race's writer, the reader and writer threads), performs each
//! effect an update asks for, and hands the outcome back to the model as an action.

use std::time::Instant;

use tokio::sync::mpsc;

use super::action::Action;
use super::effects::read::{BoardReader, Fetched, load_view};
use super::effects::{BoardWriter, Write};
use super::event_log;
use super::model::{Effect, Loaded, Model, PoolCommand, RaceCommand};
use super::state::{PoolView, State};
use crate::core::{Board, BoardError, OpenOptions};
use crate::pool::racer::Racer;
use crate::pool::{Pool, PoolConfig};

/// The running TUI: its model, and what carries out the model's effects.
pub struct App {
    /// The state machine; `model.state` is what the next frame draws.
    pub model: Model,
    /// The board, for the first view and, until the threads start (and in tests), for reads
    /// and writes carried out at once.
    board: Board,
    pool: Option<Pool>,
    racer: Option<Racer>,
    pool_config: PoolConfig,
    open: OpenOptions,
    inputs: Option<mpsc::UnboundedSender<Action>>,
    /// Where writes go once the loop runs, so a locked board never freezes the keys.
    writer: Option<BoardWriter>,
    /// Where reads go once the loop runs, so a long read never freezes the keys.
    reader: Option<BoardReader>,
}

impl App {
    /// Loads the board into a fresh state, the status bar's totals included: everything here
    /// and now, as tests and tools want it.
    pub fn new(
        board: Board,
        state: State,
        pool_config: PoolConfig,
        open: OpenOptions,
    ) -> Result<App, BoardError> {
        let mut app = App::load(board, state, pool_config, open)?;
        app.model.ask_totals();
        app.perform(Instant::now());
        Ok(app)
    }

    /// Loads the board into a fresh state but for the totals over the whole event log, which
    /// `read_off_the_loop` then reads: on a board of millions of events they take seconds.
    pub fn load(
        board: Board,
        state: State,
        pool_config: PoolConfig,
        open: OpenOptions,
    ) -> Result<App, BoardError> {
        // One snapshot, so the cursor starts exactly where the loaded tasks stand.
        let loaded = board.read(|r| {
            let last_event = r.last_event_id()?;
            let history = r.events_before(last_event.saturating_add(1), event_log::PAGE, &[])?;
            Ok(Loaded {
                view: load_view(r, &[])?,
                last_event,
                history,
            })
        })?;
        let model = Model::new(state, loaded, pool_config.key_prefix.is_some());
        Ok(App {
            model,
            board,
            pool: None,
            racer: None,
            pool_config,
            open,
            inputs: None,
            writer: None,
            reader: None,
        })
    }

    /// Where the app sends the pool's events and the threads' outcomes so they wake the loop.
    pub fn set_inputs(&mut self, inputs: mpsc::UnboundedSender<Action>) {
        self.inputs = Some(inputs);
    }

    /// From now on, carries writes out on a thread of their own, each outcome coming back as
    /// `Action::Wrote` through the inputs (set those first): another writer holding the
    /// board's lock then delays the write, not the keys and redraws.
    pub fn write_off_the_loop(&mut self) -> Result<(), BoardError> {
        let inputs = self.inputs_for("writes")?;
        self.writer = Some(BoardWriter::start(
            self.board.path(),
            &self.open,
            move |done| {
                // A closed loop has quit: nobody is left to tell.
                let _ = inputs.send(Action::Wrote(done));
            },
        )?);
        Ok(())
    }

    /// From now on, carries reads out on a thread of their own, each outcome coming back as
    /// `Action::Fetched` through the inputs (set those first), and asks for the totals.
    pub fn read_off_the_loop(&mut self) -> Result<(), BoardError> {
        let inputs = self.inputs_for("reads")?;
        self.reader = Some(BoardReader::start(
            self.board.path(),
            &self.open,
            move |fetched| {
                // A closed loop has quit: nobody is left to tell.
                let _ = inputs.send(Action::Fetched(Box::new(fetched)));
            },
        )?);
        self.model.ask_totals();
        self.perform(Instant::now());
        Ok(())
    }

    fn inputs_for(&self, what: &str) -> Result<mpsc::UnboundedSender<Action>, BoardError> {
        self.inputs
            .clone()
            .ok_or_else(|| BoardError::Internal(format!("the TUI's {what} need its inputs first")))
    }

    /// Sets the pause between a race's children: a test races fast, a person watches the
    /// default.
    pub fn set_race_pace(&mut self, pace: std::time::Duration) {
        self.model.set_race_pace(pace);
    }

    /// Whether the user asked to leave.
    pub fn should_quit(&self) -> bool {
        self.model.should_quit()
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
        self.show_pool(Instant::now());
        Ok(())
    }

    /// Stops the race and the pool, releasing every claim; call before leaving.
    pub async fn shutdown(mut self) {
        if let Some(writer) = self.writer.take() {
            let _ = tokio::task::spawn_blocking(move || writer.close()).await;
        }
        if let Some(reader) = self.reader.take() {
            let _ = tokio::task::spawn_blocking(move || reader.close()).await;
        }
        if let Some(racer) = self.racer.take() {
            let _ = tokio::task::spawn_blocking(move || racer.stop()).await;
        }
        if let Some(pool) = self.pool.take() {
            pool.stop().await;
        }
    }

    /// Applies one action and carries out what it asks for.
    pub fn update(&mut self, action: Action) {
        self.update_at(action, Instant::now());
    }

    /// `update` as of `now`: a message older than the model's `MESSAGE_SHOWN` leaves the
    /// status bar, on the caller's clock, so a test can step past it without waiting.
    pub fn update_at(&mut self, action: Action, now: Instant) {
        if action == Action::Tick {
            self.collect_racer(now);
        }
        self.model.update_at(action, now);
        self.perform(now);
        self.show_pool(now);
    }

    /// Reads what changed since the last look, and reloads when a change wrote no events;
    /// the main loop calls it after each batch of actions and at `next_wake`.
    pub fn catch_up(&mut self) {
        self.catch_up_at(Instant::now());
    }

    /// `catch_up` as of `now`: the schedule of second looks and reloads runs on the caller's
    /// clock, so a test can step through it without waiting for the wall clock.
    pub fn catch_up_at(&mut self, now: Instant) {
        self.model.catch_up_at(now);
        self.perform(now);
    }

    /// When `catch_up` has something to do without further input.
    pub fn next_wake(&self) -> Option<Instant> {
        self.model.next_wake()
    }

    /// Carries out every effect asked for, and what their outcomes ask for in turn.
    fn perform(&mut self, now: Instant) {
        loop {
            let effects = self.model.take_effects();
            if effects.is_empty() {
                return;
            }
            for effect in effects {
                if let Some(outcome) = self.carry_out(effect) {
                    self.model.update_at(outcome, now);
                }
            }
        }
    }

    /// One effect; the outcome the model hears at once, if it is not left to a thread.
    fn carry_out(&mut self, effect: Effect) -> Option<Action> {
        match effect {
            Effect::Read(read) => match &self.reader {
                Some(reader) => reader.send(read).err().map(|read| {
                    Action::Fetched(Box::new(Fetched::Failed {
                        read: Box::new(read),
                        why: "the TUI's board reader stopped".into(),
                    }))
                }),
                None => Some(Action::Fetched(Box::new(read.perform(&self.board)))),
            },
            Effect::WantFilter { status, filter } => {
                if let Some(reader) = &self.reader {
                    reader.want_filter(&status, &filter);
                }
                None
            }
            Effect::Write(write) => self.write(write),
            Effect::Pool(command) => self.command_pool(command),
            Effect::Race(RaceCommand::Start(config)) => {
                match Racer::start(self.board.path(), config, &self.open) {
                    Ok(racer) => {
                        self.racer = Some(racer);
                        None
                    }
                    Err(e) => Some(Action::RaceWritten(Err(e.to_string()))),
                }
            }
            Effect::Race(RaceCommand::Stop) => self
                .racer
                .take()
                .map(|racer| Action::RaceWritten(racer.stop().map_err(|e| e.to_string()))),
        }
    }

    fn write(&mut self, write: Write) -> Option<Action> {
        match &self.writer {
            Some(writer) => (!writer.send(write))
                .then(|| Action::Wrote(Err("the TUI's board writer stopped".into()))),
            None => Some(Action::Wrote(
                write.perform(&mut self.board).map_err(|e| e.to_string()),
            )),
        }
    }

    fn command_pool(&mut self, command: PoolCommand) -> Option<Action> {
        match (command, &mut self.pool) {
            (PoolCommand::Start(workers), None) => self
                .start_pool(workers)
                .err()
                .map(|e| Action::Failed(e.to_string())),
            (PoolCommand::Start(workers) | PoolCommand::Resize(workers), Some(pool)) => {
                pool.resize(workers);
                None
            }
            (PoolCommand::Pause, Some(pool)) => {
                pool.pause();
                None
            }
            (PoolCommand::Resume, Some(pool)) => {
                pool.resume();
                None
            }
            (PoolCommand::Pause | PoolCommand::Resume | PoolCommand::Resize(_), None) => {
                Some(Action::Failed("no workers run here; + starts one".into()))
            }
        }
    }

    /// The race's writer, once it has written every round: its report goes to the model.
    fn collect_racer(&mut self, now: Instant) {
        if self.racer.as_ref().is_some_and(Racer::is_finished)
            && let Some(racer) = self.racer.take()
        {
            let report = racer.wait().map_err(|e| e.to_string());
            self.model.update_at(Action::RaceWritten(report), now);
            self.perform(now);
        }
    }

    /// Tells the model how the pool stands, when that changed.
    fn show_pool(&mut self, now: Instant) {
        let race = self
            .racer
            .as_ref()
            .map(Racer::children)
            .or_else(|| self.model.race_children());
        let view = match &self.pool {
            Some(pool) => PoolView {
                running: true,
                size: pool.size(),
                paused: pool.is_paused(),
                workers: pool.workers(),
                completed: pool.stats().completed,
                race,
                trouble: pool.failure().or_else(|| pool.trouble()),
            },
            None => PoolView {
                race,
                ..PoolView::default()
            },
        };
        if view != self.model.state.pool {
            self.model
                .update_at(Action::PoolChanged(Box::new(view)), now);
            self.perform(now);
        }
    }
}
