//! The terminal UI: a live board an operator can watch and triage by keyboard.
//!
//! Keys, the mouse, the pool's events, the file watcher and the outcomes of reads and writes all
//! become `Action`s that go through one `Model::update_at`, a pure function that asks for what it
//! needs done as `Effect`s; `App` carries those out off the loop. A frame is drawn from the state
//! alone.

pub mod action;
pub mod app;
pub mod board_view;
pub mod command;
pub mod demo;
pub mod effects;
pub mod event_log;
pub mod freshness;
pub mod keymap;
pub mod layout;
pub mod line_edit;
pub mod model;
pub mod picker;
pub mod race;
pub mod state;
pub mod theme;
pub mod tree;
pub mod view;
pub mod widgets;

use std::panic::{self, AssertUnwindSafe};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr, eyre};
use crossterm::event::{DisableMouseCapture, EnableMouseCapture};
use tokio::sync::mpsc;

use crate::core::{Board, OpenOptions, Origin, now_epoch};
use crate::pool::PoolConfig;
use crate::pool::stop_signals::StopSignals;
use crate::watch::BoardWatch;
use action::Action;
use app::App;
use state::{BoardView, State};
use theme::Theme;

/// Workers a gateboard-made board starts with: the pool's default.
pub use crate::pool::DEFAULT_WORKERS;
/// How often clocks and rates refresh without other input.
const TICK: Duration = Duration::from_millis(250);

/// How to open the TUI.
#[derive(Clone, Debug)]
pub struct TuiOptions {
    /// The keys, as the person's keys.toml sets them.
    pub keymap: keymap::Keymap,
    /// The board file.
    pub path: PathBuf,
    /// What the status bar calls the board, so a person sees whose board it is.
    pub label: String,
    /// Whether it is the per-user default board (an empty one gets the demo DAG).
    pub default_board: bool,
    /// Workers to start; None decides by who owns the board.
    pub workers: Option<usize>,
    /// How to open the file.
    pub open: OpenOptions,
    /// How the pool works tasks (commands, or simulated work); its size comes from `workers`.
    pub pool: PoolConfig,
    /// The pause between a race demo's children: human-paced ([`race::PACE`]) unless a test
    /// asks for speed.
    pub race_pace: Duration,
}

/// How many workers to start: as asked, else 4 on gateboard's own boards and none on a board
/// another program owns (it is watched, not worked).
pub fn workers_to_start(asked: Option<usize>, origin: Origin) -> usize {
    asked.unwrap_or(match origin {
        Origin::Gateboard => DEFAULT_WORKERS,
        Origin::Foreign => 0,
    })
}

/// Opens the board and runs the TUI until the user quits. Whichever way it ends (quit, error
/// or panic), the terminal is restored and the pool stops, releasing every claim it holds.
pub fn run(options: TuiOptions) -> Result<()> {
    let mut board = Board::open(&options.path, &options.open)?;
    if options.default_board && !board.read(|r| r.has_tasks())? {
        demo::load(&mut board)?;
    }
    let workers = workers_to_start(options.workers, board.origin()?);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .wrap_err("cannot start the async runtime")?;
    let state = State::new(
        options.label.clone(),
        BoardView::default(),
        Theme::from_env(),
        now_epoch(),
    );
    let mut app = App::load(board, state, options.pool.clone(), options.open.clone())?;
    app.model.state.keymap = options.keymap.clone();
    app.set_race_pace(options.race_pace);
    let outcome = panic::catch_unwind(AssertUnwindSafe(|| {
        runtime.block_on(session(&mut app, workers, &options.path))
    }));
    runtime.block_on(app.shutdown());
    match outcome {
        Ok(outcome) => outcome,
        Err(panicked) => panic::resume_unwind(panicked),
    }
}

/// Takes the terminal, then starts the workers, then runs until the user quits; the terminal is
/// restored when this returns.
async fn session(app: &mut App, workers: usize, path: &Path) -> Result<()> {
    // The terminal first: a TUI that cannot show the board must not start claiming tasks.
    let terminal = TerminalGuard::enter()?;
    let (inputs, actions) = mpsc::unbounded_channel();
    app.set_inputs(inputs.clone());
    app.write_off_the_loop()?;
    app.read_off_the_loop()?;
    if workers > 0 {
        app.start_pool(workers)?;
    }
    event_loop(app, terminal, inputs, actions, path).await
}

/// Restores the terminal when dropped, whichever way the loop ends.
struct TerminalGuard {
    /// Always there until the guard drops.
    terminal: Option<ratatui::DefaultTerminal>,
}

impl TerminalGuard {
    fn enter() -> Result<TerminalGuard> {
        // One sentence, the hint last: this is what a person sees when there is no terminal.
        let terminal = ratatui::try_init()
            .map_err(|e| eyre!("cannot take over the terminal: {e} (is stdin a terminal?)"))?;
        // Guarded from here on, so a failure below still restores the terminal.
        let guard = TerminalGuard {
            terminal: Some(terminal),
        };
        crossterm::execute!(std::io::stdout(), EnableMouseCapture)
            .wrap_err("cannot turn on the mouse in the terminal")?;
        Ok(guard)
    }

    fn terminal(&mut self) -> Result<&mut ratatui::DefaultTerminal> {
        self.terminal
            .as_mut()
            .ok_or_else(|| eyre!("the terminal was already given back"))
    }

    fn draw(&mut self, state: &state::State) -> Result<()> {
        self.terminal()?
            .draw(|frame| view::draw(frame, state))
            .wrap_err("cannot draw to the terminal")?;
        Ok(())
    }

    fn size(&mut self) -> Result<ratatui::layout::Size> {
        self.terminal()?
            .size()
            .wrap_err("cannot read the terminal's size")
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        if let Some(mut terminal) = self.terminal.take()
            && terminal.show_cursor().is_err()
        {
            // The terminal is gone (a hang-up). ratatui's own drop would say so on stderr, that
            // same dead terminal, and printing there panics: the TUI would die before its pool
            // gives back its claims. Nothing is left to restore, so the terminal is let go.
            std::mem::forget(terminal);
            return;
        }
        let _ = crossterm::execute!(std::io::stdout(), DisableMouseCapture);
        let _ = ratatui::try_restore();
    }
}

async fn event_loop(
    app: &mut App,
    mut terminal: TerminalGuard,
    inputs: mpsc::UnboundedSender<Action>,
    mut actions: mpsc::UnboundedReceiver<Action>,
    path: &Path,
) -> Result<()> {
    let stop_keys = Arc::new(AtomicBool::new(false));
    let keys = spawn_terminal_reader(inputs.clone(), stop_keys.clone());
    let watcher_inputs = inputs.clone();
    // Without a watch (the system's inotify watches used up) the TUI still works, but changes by
    // other processes show only when its own writes or its pool's make it look.
    let _watch = BoardWatch::start(path, move || {
        let _ = watcher_inputs.send(Action::BoardChanged);
    })
    .ok();
    let size = terminal.size()?;
    app.update(Action::Resize {
        width: size.width,
        height: size.height,
    });
    let mut tick = tokio::time::interval(TICK);
    // SIGTERM, SIGHUP (the terminal closed) and SIGQUIT end the TUI as `q` does, so its pool
    // releases its claims and stops its commands instead of leaving them for the TTL.
    let mut stop = StopSignals::listen().wrap_err("cannot listen for signals")?;
    let outcome = loop {
        if let Err(e) = terminal.draw(&app.model.state) {
            break Err(e);
        }
        let wake = app.next_wake();
        let first = tokio::select! {
            action = actions.recv() => match action {
                Some(action) => Some(action),
                None => break Ok(()),
            },
            _ = tick.tick() => Some(Action::Tick),
            () = stop.received() => break Ok(()),
            () = sleep_until(wake) => None,
        };
        if let Some(first) = first {
            app.update(first);
        }
        while let Ok(more) = actions.try_recv() {
            app.update(more);
        }
        app.catch_up();
        if app.should_quit() {
            break Ok(());
        }
    };
    stop_keys.store(true, Ordering::Relaxed);
    // Not joined: after a hang-up its read of the terminal may never return, and the pool must
    // still stop. It ends by itself within a poll interval, or with the process.
    drop(keys);
    outcome
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<std::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at.into()).await,
        None => std::future::pending().await,
    }
}

/// Reads keys, mouse and resizes on a thread of its own and sends them as actions.
fn spawn_terminal_reader(
    inputs: mpsc::UnboundedSender<Action>,
    stop: Arc<AtomicBool>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            match crossterm::event::poll(Duration::from_millis(100)) {
                Ok(true) => {}
                Ok(false) => continue,
                Err(_) => return,
            }
            let Ok(event) = crossterm::event::read() else {
                return;
            };
            if inputs.send(Action::Terminal(event)).is_err() {
                return;
            }
        }
    })
}
