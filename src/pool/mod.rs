//! The background worker pool: workers claim ready tasks through the core's claim-next, run
//! them and complete them, while one writer folds all their writes into shared transactions.
//!
//! Group commit is what lifts the pool past the disk's fsync rate: with `synchronous=FULL`
//! every commit costs one fsync, so the writer commits the requests of every waiting worker
//! at once, each still gated task by task inside the transaction and each writing its events.

pub mod bench;
pub mod racer;
mod worker;
mod writer;

use std::collections::VecDeque;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use crate::core::{Board, BoardError, OpenOptions};
use crate::watch::BoardWatch;

/// How a pool runs.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Workers at start.
    pub workers: usize,
    /// Each simulated task takes a random time in this range (inclusive).
    pub work_time: (Duration, Duration),
    /// How long a claim lives without a heartbeat; expired claims are swept back to ready.
    pub claim_ttl: Duration,
    /// How the writer opens the board.
    pub open: OpenOptions,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            workers: DEFAULT_WORKERS,
            work_time: (Duration::ZERO, Duration::ZERO),
            claim_ttl: DEFAULT_CLAIM_TTL,
            open: OpenOptions::default(),
        }
    }
}

/// What the pool did, as a front-end hears it; published only after the write committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PoolEvent {
    /// A worker claimed a task.
    Claimed {
        /// Worker number.
        worker: usize,
        /// The task.
        task: String,
    },
    /// The gate refused a ready task and demoted it.
    ClaimRejected {
        /// The task.
        task: String,
    },
    /// A worker completed a task.
    Completed {
        /// Worker number.
        worker: usize,
        /// The task.
        task: String,
    },
    /// A child became ready: its last parent was completed, or the sweep found it stranded.
    Promoted {
        /// The child.
        task: String,
    },
    /// The sweep returned an expired claim to the queue.
    Reclaimed {
        /// The task.
        task: String,
    },
    /// A stopping worker gave its claim back.
    Released {
        /// Worker number.
        worker: usize,
        /// The task.
        task: String,
    },
    /// A worker lost a claim it held (somebody blocked the task, or the claim expired).
    LostClaim {
        /// Worker number.
        worker: usize,
        /// The task.
        task: String,
        /// What the board said.
        reason: String,
    },
    /// A worker changed state.
    Worker {
        /// Worker number.
        worker: usize,
        /// Its new state.
        state: WorkerState,
    },
    /// A write failed as a whole (e.g. the board stayed locked); the pool keeps trying.
    Trouble {
        /// What went wrong.
        message: String,
    },
}

/// What a worker is doing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WorkerState {
    /// Waiting for a ready task.
    Idle,
    /// Running a task.
    Working {
        /// The task.
        task: String,
    },
    /// Held by pause.
    Paused,
    /// Gone: the pool shrank or stopped.
    Retired,
}

/// One worker as the panel shows it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerStatus {
    /// Its state.
    pub state: WorkerState,
    /// When it entered that state.
    pub since: Instant,
    /// Tasks it completed.
    pub done: u64,
}

/// Counters since the pool started.
#[derive(Clone, Debug, PartialEq)]
pub struct PoolStats {
    /// Claims granted.
    pub claimed: u64,
    /// Claims the gate refused.
    pub rejected: u64,
    /// Tasks completed.
    pub completed: u64,
    /// Expired claims swept back.
    pub reclaimed: u64,
    /// Write transactions committed.
    pub commits: u64,
    /// Time since start.
    pub elapsed: Duration,
}

/// What every worker and the writer share.
pub(crate) struct Shared {
    claimed: AtomicU64,
    rejected: AtomicU64,
    completed: AtomicU64,
    reclaimed: AtomicU64,
    commits: AtomicU64,
    started: Instant,
    workers: Mutex<Vec<WorkerStatus>>,
    latencies: Mutex<VecDeque<Duration>>,
    /// Rung when a task may have become claimable, so idle workers stop waiting.
    work_available: Notify,
    events: broadcast::Sender<PoolEvent>,
}

const LATENCY_SAMPLES: usize = 1 << 16;

impl Shared {
    fn publish(&self, event: PoolEvent) {
        // No subscriber is fine: a headless pool publishes to nobody.
        let _ = self.events.send(event);
    }

    fn workers(&self) -> MutexGuard<'_, Vec<WorkerStatus>> {
        self.workers.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn set_state(&self, worker: usize, state: WorkerState) {
        {
            let mut workers = self.workers();
            if workers.len() <= worker {
                workers.resize(
                    worker + 1,
                    WorkerStatus {
                        state: WorkerState::Retired,
                        since: Instant::now(),
                        done: 0,
                    },
                );
            }
            if workers[worker].state == state {
                return;
            }
            workers[worker].state = state.clone();
            workers[worker].since = Instant::now();
        }
        self.publish(PoolEvent::Worker { worker, state });
    }

    fn stats(&self) -> PoolStats {
        PoolStats {
            claimed: self.claimed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            reclaimed: self.reclaimed.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
        }
    }

    fn record_latency(&self, latency: Duration) {
        let mut samples = self.latencies.lock().unwrap_or_else(|p| p.into_inner());
        if samples.len() == LATENCY_SAMPLES {
            samples.pop_front();
        }
        samples.push_back(latency);
    }
}

/// Workers a pool starts with unless told otherwise (`work`, `race`, the TUI on its own boards).
pub const DEFAULT_WORKERS: usize = 4;
/// How long a pool's claim lives without a heartbeat unless told otherwise (`work --ttl`).
pub const DEFAULT_CLAIM_TTL: Duration = Duration::from_secs(60);

/// The most workers a pool runs. One writer serves them all, so past a few dozen more workers
/// only wait longer; the cap keeps a typo (`--workers 99999999`) from exhausting memory.
pub const MAX_WORKERS: usize = 256;

/// What the workers are told to do; they watch it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Control {
    target: usize,
    paused: bool,
    stopping: bool,
}

/// A running pool. Dropping it without `stop` aborts the workers; their claims then lapse and
/// are swept back by the next pool, so prefer `stop`.
pub struct Pool {
    shared: Arc<Shared>,
    control: watch::Sender<Control>,
    writer: writer::Writer,
    workers: Vec<JoinHandle<()>>,
    config: PoolConfig,
    name: String,
    /// Wakes idle workers when another connection commits; None if the folder cannot be watched,
    /// in which case idle workers still look every quarter second.
    _watch: Option<BoardWatch>,
}

impl Pool {
    /// Opens the board for the writer and starts `config.workers` workers (at most
    /// [`MAX_WORKERS`]) on the current tokio runtime.
    pub fn start(path: &Path, mut config: PoolConfig) -> Result<Pool, BoardError> {
        config.workers = config.workers.min(MAX_WORKERS);
        let board = Board::open(path, &config.open)?;
        let (events, _) = broadcast::channel(4096);
        let shared = Arc::new(Shared {
            claimed: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            completed: AtomicU64::new(0),
            reclaimed: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            started: Instant::now(),
            workers: Mutex::new(Vec::new()),
            latencies: Mutex::new(VecDeque::new()),
            work_available: Notify::new(),
            events,
        });
        let writer = writer::Writer::start(board, shared.clone(), config.claim_ttl)?;
        let waker = shared.clone();
        let watch = BoardWatch::start(path, move || waker.work_available.notify_waiters()).ok();
        let (control, _) = watch::channel(Control {
            target: config.workers,
            paused: false,
            stopping: false,
        });
        let name = format!("gateboard:{}:{:04x}", std::process::id(), fastrand::u16(..));
        let mut pool = Pool {
            shared,
            control,
            writer,
            workers: Vec::new(),
            config,
            name,
            _watch: watch,
        };
        pool.spawn_up_to(pool.config.workers);
        Ok(pool)
    }

    fn spawn_up_to(&mut self, n: usize) {
        self.workers.retain(|h| !h.is_finished());
        let running = self.shared.workers();
        let alive: Vec<usize> = running
            .iter()
            .enumerate()
            .filter(|(_, w)| w.state != WorkerState::Retired)
            .map(|(i, _)| i)
            .collect();
        drop(running);
        for id in 0..n {
            if alive.contains(&id) {
                continue;
            }
            self.shared.set_state(id, WorkerState::Idle);
            let ctx = worker::Context {
                id,
                lock: format!("{}:w{id}", self.name),
                shared: self.shared.clone(),
                control: self.control.subscribe(),
                requests: self.writer.requests(),
                work_time: self.config.work_time,
                claim_ttl: self.config.claim_ttl,
            };
            self.workers.push(tokio::spawn(worker::run(ctx)));
        }
    }

    /// Hears every event from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<PoolEvent> {
        self.shared.events.subscribe()
    }

    /// Changes the number of workers (at most [`MAX_WORKERS`]) while running; shrinking lets
    /// workers finish their task first.
    pub fn resize(&mut self, workers: usize) {
        let workers = workers.min(MAX_WORKERS);
        self.control.send_modify(|c| c.target = workers);
        self.config.workers = workers;
        self.spawn_up_to(workers);
    }

    /// How many workers the pool is meant to have.
    pub fn size(&self) -> usize {
        self.config.workers
    }

    /// Stops claiming; running tasks finish.
    pub fn pause(&self) {
        self.control.send_modify(|c| c.paused = true);
    }

    /// Claims again after a pause.
    pub fn resume(&self) {
        self.control.send_modify(|c| c.paused = false);
    }

    /// Whether the pool is paused.
    pub fn is_paused(&self) -> bool {
        self.control.borrow().paused
    }

    /// Counters since start.
    pub fn stats(&self) -> PoolStats {
        self.shared.stats()
    }

    /// Every worker's state, by worker number.
    pub fn workers(&self) -> Vec<WorkerStatus> {
        self.shared.workers().clone()
    }

    /// Claim latencies (request to granted claim) of the most recent claims.
    pub fn claim_latencies(&self) -> Vec<Duration> {
        self.shared
            .latencies
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .iter()
            .copied()
            .collect()
    }

    /// Stops every worker, releasing the claims they hold, then closes the writer.
    pub async fn stop(self) -> PoolStats {
        self.control.send_modify(|c| c.stopping = true);
        self.shared.work_available.notify_waiters();
        for handle in self.workers {
            // A worker that panicked has nothing left to release; its claim lapses to the sweep.
            let _ = handle.await;
        }
        let stats = self.shared.stats();
        let writer = self.writer;
        // Closing the writer joins a thread; do it off the async workers.
        let _ = tokio::task::spawn_blocking(move || writer.close()).await;
        stats
    }
}
