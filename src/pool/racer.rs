//! The seed's create-then-link race as a component: a separate writer that keeps making
//! children while workers claim, so a person can watch the gate hold.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender, TryRecvError};
use std::thread;
use std::time::Duration;

use crate::core::model::TaskCommand;
use crate::core::{Board, BoardError, NewTask, OpenOptions};

/// What the racing writer writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RaceMode {
    /// Create a child with no parents, link it a moment later: the race the link refusal closes.
    CreateThenLink,
    /// Also mark each linked child ready whatever its parents, as a writer without the gate
    /// would, so the claim gate visibly fires (`claim_rejected`).
    BuggyWriter,
}

/// How long a race runs and how it writes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaceConfig {
    /// Children to create.
    pub rounds: usize,
    /// Parents to link them to; they stay blocked (unfinished) until the race ends.
    pub parents: usize,
    /// Honest or buggy writer.
    pub mode: RaceMode,
    /// The pause between one child and the next: zero races flat out (the stress test), a
    /// fraction of a second lets a person follow each child on screen.
    pub pace: Duration,
}

/// Children a race creates unless told otherwise (`race --rounds`).
pub const DEFAULT_ROUNDS: usize = 200;

impl Default for RaceConfig {
    fn default() -> Self {
        RaceConfig {
            rounds: DEFAULT_ROUNDS,
            parents: 10,
            mode: RaceMode::CreateThenLink,
            pace: Duration::ZERO,
        }
    }
}

/// Who the race's tasks say created them: how a live view tells the race's tasks from the
/// board's own.
pub const CREATED_BY: &str = "race demo";

/// What a finished race wrote.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaceReport {
    /// Children created.
    pub children: usize,
    /// Links refused because a worker claimed the child first.
    pub links_refused: usize,
    /// The parents, released (unblocked) when the race ended.
    pub parents: Vec<String>,
}

/// A race in progress on its own thread and its own connection.
pub struct Racer {
    /// Told (or dropped) to stop; a channel rather than a flag, so a pause between paced
    /// rounds ends at once instead of after the pace.
    stop: Sender<()>,
    children: Arc<AtomicUsize>,
    thread: thread::JoinHandle<Result<RaceReport, BoardError>>,
}

const HOLD_REASON: &str = "held unfinished by the race demo until it ends";

impl Racer {
    /// Opens its own connection (a separate writer, like another program) and starts racing.
    pub fn start(path: &Path, config: RaceConfig, open: &OpenOptions) -> Result<Racer, BoardError> {
        let board = Board::open(path, open)?;
        let (stop, stopped) = mpsc::channel();
        let children = Arc::new(AtomicUsize::new(0));
        let counter = children.clone();
        let thread = thread::Builder::new()
            .name("gateboard-racer".into())
            .spawn(move || race(board, &config, &stopped, &counter))
            .map_err(|source| BoardError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(Racer {
            stop,
            children,
            thread,
        })
    }

    /// Children created so far.
    pub fn children(&self) -> usize {
        self.children.load(Ordering::Relaxed)
    }

    /// Whether every round has been written.
    pub fn is_finished(&self) -> bool {
        self.thread.is_finished()
    }

    /// Stops early (or waits, if already done), releases the parents, and reports.
    pub fn stop(self) -> Result<RaceReport, BoardError> {
        // Fails only when the thread has already ended, which is what stopping asks for.
        let _ = self.stop.send(());
        join(self.thread)
    }

    /// Waits for every round, releases the parents, and reports.
    pub fn wait(self) -> Result<RaceReport, BoardError> {
        // The sender lives until the thread ends, so waiting never reads as being told to stop.
        let Racer { stop, thread, .. } = self;
        let report = join(thread);
        drop(stop);
        report
    }
}

fn join(
    thread: thread::JoinHandle<Result<RaceReport, BoardError>>,
) -> Result<RaceReport, BoardError> {
    thread
        .join()
        .unwrap_or_else(|_| Err(BoardError::Internal("the race thread panicked".into())))
}

fn race(
    mut board: Board,
    config: &RaceConfig,
    stop: &Receiver<()>,
    children: &AtomicUsize,
) -> Result<RaceReport, BoardError> {
    let parents: Vec<String> = board.write(|t| {
        (0..config.parents.max(2))
            .map(|i| {
                let id = t.create(&NewTask {
                    title: format!("race parent {i}"),
                    created_by: Some(CREATED_BY.into()),
                    command: Some(race_command()),
                    ..NewTask::default()
                })?;
                t.block(&id, HOLD_REASON)?;
                Ok(id)
            })
            .collect()
    })?;
    let mut report = RaceReport {
        parents: parents.clone(),
        ..RaceReport::default()
    };
    let raced = run_rounds(&mut board, config, stop, children, &parents, &mut report);
    // Release the parents even when a round failed, so nothing stays held by a dead demo.
    let released = board.write(|t| {
        for parent in &parents {
            t.unblock(parent)?;
        }
        Ok(())
    });
    raced.and(released).map(|()| report)
}

fn run_rounds(
    board: &mut Board,
    config: &RaceConfig,
    stop: &Receiver<()>,
    children: &AtomicUsize,
    parents: &[String],
    report: &mut RaceReport,
) -> Result<(), BoardError> {
    for round in 0..config.rounds {
        let pace = if round == 0 {
            Duration::ZERO
        } else {
            config.pace
        };
        if !keep_going(stop, pace) {
            break;
        }
        let child = board.write(|t| {
            t.create(&NewTask {
                title: format!("race child {round}"),
                created_by: Some(CREATED_BY.into()),
                command: Some(race_command()),
                ..NewTask::default()
            })
        })?;
        report.children += 1;
        children.fetch_add(1, Ordering::Relaxed);
        // The gap in which a worker may claim the child before its links land.
        thread::sleep(Duration::from_micros(fastrand::u64(100..2000)));
        let first = fastrand::usize(0..parents.len());
        let second = (first + 1 + fastrand::usize(0..parents.len() - 1)) % parents.len();
        for parent in [&parents[first], &parents[second]] {
            match board.write(|t| t.link(parent, &child)) {
                Ok(_) => {}
                Err(BoardError::ChildStarted { .. }) => report.links_refused += 1,
                Err(e) => return Err(e),
            }
        }
        if config.mode == RaceMode::BuggyWriter {
            board.write(|t| t.mark_ready_ignoring_parents(&child))?;
        }
    }
    Ok(())
}

/// Waits out `pace` before the next round; false once the race is told to stop (or its
/// `Racer` is gone).
fn keep_going(stop: &Receiver<()>, pace: Duration) -> bool {
    if pace.is_zero() {
        matches!(stop.try_recv(), Err(TryRecvError::Empty))
    } else {
        matches!(stop.recv_timeout(pace), Err(RecvTimeoutError::Timeout))
    }
}

/// What a race task runs: nothing worth waiting for, so a pool running commands races too.
fn race_command() -> TaskCommand {
    TaskCommand {
        command: "true".into(),
        cwd: "/".into(),
        env: Vec::new(),
        timeout_secs: None,
        retries: 0,
    }
}
