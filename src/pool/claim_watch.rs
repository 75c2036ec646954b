//! Tells a worker when the claim it works under is gone: another process cancelled or blocked
//! the task, or the claim lapsed and was taken over. The worker then stops its command at
//! once instead of at its next heartbeat, so two copies of one task never run side by side
//! for long.
//!
//! One thread with its own read connection looks whenever the board changes (and at least
//! every second), comparing the claims workers hold with the claims the board still grants.

use std::collections::HashSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::Notify;

use super::Shared;
use crate::core::{Board, BoardError, OpenOptions};

/// The longest a lost claim goes unnoticed when no change notification arrives.
const LOOK_EVERY: Duration = Duration::from_secs(1);
/// The shortest time between two looks, so a busy board is not read after every commit.
const LOOK_AT_MOST_EVERY: Duration = Duration::from_millis(150);

/// A claim a worker works under.
pub(crate) struct Watched {
    task: String,
    run_id: i64,
    generation: u64,
    gone: Arc<Notify>,
}

impl Shared {
    /// Registers the claim a worker now works under; the returned notify fires if it is lost.
    pub(crate) fn watch_claim(&self, worker: usize, task: &str, run_id: i64) -> Arc<Notify> {
        let gone = Arc::new(Notify::new());
        let generation = self.watch_generation.fetch_add(1, Ordering::SeqCst) + 1;
        self.watched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(
                worker,
                Watched {
                    task: task.to_owned(),
                    run_id,
                    generation,
                    gone: gone.clone(),
                },
            );
        gone
    }

    /// Forgets a worker's claim once its turn is over.
    pub(crate) fn unwatch_claim(&self, worker: usize) {
        self.watched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&worker);
    }
}

/// The watching thread.
pub(crate) struct ClaimWatch {
    looks: mpsc::Sender<Ask>,
    thread: thread::JoinHandle<()>,
}

/// What the watch is asked.
enum Ask {
    /// Look at the board soon.
    Look,
    /// Stop watching (the board watcher may still hold a looker, so the channel stays open).
    Stop,
}

/// A handle that asks the watch to look now.
#[derive(Clone)]
pub(crate) struct Looker(mpsc::Sender<Ask>);

impl Looker {
    /// Asks for a look soon; never blocks.
    pub(crate) fn look(&self) {
        let _ = self.0.send(Ask::Look);
    }
}

impl ClaimWatch {
    /// Opens a read connection and starts watching the claims of locks starting with `prefix`.
    pub(crate) fn start(
        path: &Path,
        open: &OpenOptions,
        prefix: &str,
        shared: Arc<Shared>,
    ) -> Result<ClaimWatch, BoardError> {
        let board = Board::open(path, open)?;
        let (looks, asked) = mpsc::channel();
        let prefix = format!("{prefix}:");
        let path = path.to_path_buf();
        let thread = thread::Builder::new()
            .name("gateboard-claim-watch".into())
            .spawn(move || watch(&board, &asked, &prefix, &shared))
            .map_err(|source| BoardError::Io { path, source })?;
        Ok(ClaimWatch { looks, thread })
    }

    /// A handle for the board watcher to ring.
    pub(crate) fn looker(&self) -> Looker {
        Looker(self.looks.clone())
    }

    /// Stops the thread and waits for it.
    pub(crate) fn close(self) {
        let _ = self.looks.send(Ask::Stop);
        let _ = self.thread.join();
    }
}

fn watch(board: &Board, asked: &mpsc::Receiver<Ask>, prefix: &str, shared: &Shared) {
    let mut last_look = Instant::now();
    loop {
        match asked.recv_timeout(LOOK_EVERY) {
            Ok(Ask::Look) | Err(mpsc::RecvTimeoutError::Timeout) => {}
            Ok(Ask::Stop) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let since = last_look.elapsed();
        if since < LOOK_AT_MOST_EVERY {
            thread::sleep(LOOK_AT_MOST_EVERY - since);
        }
        loop {
            match asked.try_recv() {
                Ok(Ask::Look) => {}
                Ok(Ask::Stop) => return,
                Err(_) => break,
            }
        }
        last_look = Instant::now();
        let nothing_watched = shared
            .watched
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_empty();
        if nothing_watched {
            continue;
        }
        // Only claims registered before this read began can be judged by it.
        let generation = shared.watch_generation.load(Ordering::SeqCst);
        let Ok(held) = board.read(|r| r.open_runs_of(prefix)) else {
            // A locked or failing read is passing trouble; heartbeats still catch a lost claim.
            continue;
        };
        let held: HashSet<(String, i64)> = held.into_iter().collect();
        let watched = shared.watched.lock().unwrap_or_else(|p| p.into_inner());
        for claim in watched.values() {
            if claim.generation <= generation && !held.contains(&(claim.task.clone(), claim.run_id))
            {
                claim.gone.notify_one();
            }
        }
    }
}
