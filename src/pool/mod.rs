//! The background worker pool: workers claim ready tasks through the core's claim-next, run
//! them and complete them, while one writer folds all their writes into shared transactions.
//!
//! Group commit is what lifts the pool past the disk's fsync rate: with `synchronous=FULL`
//! every commit costs one fsync, so the writer commits the requests of every waiting worker
//! at once, each still gated task by task inside the transaction and each writing its events.

pub mod bench;
mod claim_watch;
pub mod exec;
pub mod racer;
pub mod stop_signals;
mod worker;
mod writer;

use std::collections::{HashMap, VecDeque};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::{Notify, broadcast, watch};
use tokio::task::JoinHandle;

use crate::core::ops::ClaimScope;
use crate::core::{Board, BoardError, OpenOptions};
use crate::watch::BoardWatch;
use exec::backoff::Backoff;

/// How long the board watch waits after a change before it looks for the next: a commit's
/// burst of WAL writes then wakes it about once, not once a frame (see `Pool::start`).
const WATCH_SETTLE: Duration = Duration::from_millis(1);

/// What a worker does with a claimed task.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Work {
    /// Sleep a random time in this range (inclusive), then complete: every task is claimed,
    /// command or not. For benchmarks, demos and watching boards nobody runs commands on.
    Simulated(Duration, Duration),
    /// Run each task's command; only tasks with a command are claimed.
    Commands(Exec),
}

impl Default for Work {
    fn default() -> Self {
        Work::Simulated(Duration::ZERO, Duration::ZERO)
    }
}

/// How commands are run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Exec {
    /// The supervisor program: gateboard itself (see [`exec::supervisor`]).
    pub supervisor: PathBuf,
    /// How long a failed task waits before its next try.
    pub backoff: Backoff,
    /// How long a stopped command's group has between SIGTERM and SIGKILL.
    pub grace: Duration,
}

impl Exec {
    /// Commands supervised by `supervisor` with the default backoff and grace.
    pub fn new(supervisor: PathBuf) -> Exec {
        Exec {
            supervisor,
            backoff: Backoff::default(),
            grace: DEFAULT_GRACE,
        }
    }
}

/// Between SIGTERM and SIGKILL: enough for a command to clean up, short enough for Ctrl-C.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(3);

/// How a pool runs.
#[derive(Clone, Debug)]
pub struct PoolConfig {
    /// Workers at start.
    pub workers: usize,
    /// Run commands, or simulate work.
    pub work: Work,
    /// Only tasks whose key starts with this (the tasks of one graph file); None for all.
    pub key_prefix: Option<String>,
    /// How long a claim lives without a heartbeat; expired claims are swept back to ready.
    pub claim_ttl: Duration,
    /// How the writer opens the board.
    pub open: OpenOptions,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            workers: DEFAULT_WORKERS,
            work: Work::default(),
            key_prefix: None,
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
    /// An attempt failed (or asked to be tried later); the task waits for its next try.
    Retrying {
        /// Worker number.
        worker: usize,
        /// The task.
        task: String,
        /// Epoch milliseconds of the next try.
        at_ms: i64,
    },
    /// The retries were spent: the task is blocked.
    GaveUp {
        /// Worker number.
        worker: usize,
        /// The task.
        task: String,
        /// What the blocked column shows.
        reason: String,
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
    /// The command it runs, while it runs one.
    pub command: Option<String>,
    /// The command's pid (its process group), while it runs.
    pub pid: Option<u32>,
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
    /// Attempts that failed (each retried or blocked).
    pub failed: u64,
    /// Expired claims swept back.
    pub reclaimed: u64,
    /// Claims given back unfinished because the pool stopped (their commands stopped too).
    pub released: u64,
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
    failed: AtomicU64,
    reclaimed: AtomicU64,
    released: AtomicU64,
    commits: AtomicU64,
    started: Instant,
    workers: Mutex<Vec<WorkerStatus>>,
    latencies: Mutex<VecDeque<Duration>>,
    /// Rung when a task may have become claimable, so idle workers stop waiting.
    work_available: Notify,
    /// Rung after every commit, so a drain-and-exit run checks for idleness at once.
    committed: Notify,
    events: broadcast::Sender<PoolEvent>,
    /// The claims workers are working on, so the claim watch can tell them when one is gone.
    watched: Mutex<HashMap<usize, claim_watch::Watched>>,
    /// Counts registrations, so a look at the board judges only claims made before it.
    watch_generation: AtomicU64,
    /// Writes failing in a row, and since when; cleared by the next commit.
    trouble: Mutex<Option<Trouble>>,
    /// Set once writes failed for [`GIVE_UP_AFTER`]: the pool stops, and says why.
    broken: Mutex<Option<String>>,
}

/// Writes failing in a row.
#[derive(Clone, Debug)]
struct Trouble {
    since: Instant,
    message: String,
}

/// How long writes may fail in a row before the pool gives up: long enough to ride out a
/// passing fault (a full disk someone is clearing), short enough that nobody waits in silence.
pub const GIVE_UP_AFTER: Duration = Duration::from_secs(5);

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
                        command: None,
                        pid: None,
                    },
                );
            }
            if workers[worker].state == state {
                return;
            }
            workers[worker].state = state.clone();
            workers[worker].since = Instant::now();
            workers[worker].command = None;
            workers[worker].pid = None;
        }
        self.publish(PoolEvent::Worker { worker, state });
    }

    /// Marks a worker busy with `task`, and with the command and pid once they are known.
    fn set_working(&self, worker: usize, task: &str, command: Option<String>, pid: Option<u32>) {
        self.set_state(
            worker,
            WorkerState::Working {
                task: task.to_owned(),
            },
        );
        let known = command.is_some();
        if let Some(w) = self.workers().get_mut(worker) {
            w.command = command;
            w.pid = pid;
        }
        if known {
            // Tell the panel: the state is unchanged, but now it has a command and a pid.
            self.publish(PoolEvent::Worker {
                worker,
                state: WorkerState::Working {
                    task: task.to_owned(),
                },
            });
        }
    }

    fn stats(&self) -> PoolStats {
        PoolStats {
            claimed: self.claimed.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
            completed: self.completed.load(Ordering::Relaxed),
            failed: self.failed.load(Ordering::Relaxed),
            reclaimed: self.reclaimed.load(Ordering::Relaxed),
            released: self.released.load(Ordering::Relaxed),
            commits: self.commits.load(Ordering::Relaxed),
            elapsed: self.started.elapsed(),
        }
    }

    /// Notes a write that failed as a whole; past [`GIVE_UP_AFTER`] the pool is broken.
    fn write_failed(&self, message: String) {
        let mut trouble = self.trouble.lock().unwrap_or_else(|p| p.into_inner());
        let since = trouble.as_ref().map_or_else(Instant::now, |t| t.since);
        if since.elapsed() >= GIVE_UP_AFTER {
            let mut broken = self.broken.lock().unwrap_or_else(|p| p.into_inner());
            broken.get_or_insert_with(|| {
                format!(
                    "the pool cannot write to the board ({message}); it kept failing for {}s, so it stopped",
                    since.elapsed().as_secs()
                )
            });
            self.work_available.notify_waiters();
        }
        *trouble = Some(Trouble { since, message });
    }

    /// Notes a commit: whatever failed before has cleared.
    fn write_succeeded(&self) {
        *self.trouble.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Whether the pool gave up writing.
    fn is_broken(&self) -> bool {
        self.broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .is_some()
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
    claim_watch: claim_watch::ClaimWatch,
    workers: Vec<JoinHandle<()>>,
    config: PoolConfig,
    name: String,
    board_path: PathBuf,
    /// The parent of every command the pool runs; None for simulated work.
    supervisor: Option<Arc<exec::Supervisor>>,
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
            failed: AtomicU64::new(0),
            reclaimed: AtomicU64::new(0),
            released: AtomicU64::new(0),
            commits: AtomicU64::new(0),
            started: Instant::now(),
            workers: Mutex::new(Vec::new()),
            latencies: Mutex::new(VecDeque::new()),
            work_available: Notify::new(),
            committed: Notify::new(),
            events,
            watched: Mutex::new(HashMap::new()),
            watch_generation: AtomicU64::new(0),
            trouble: Mutex::new(None),
            broken: Mutex::new(None),
        });
        let writer = writer::Writer::start(board, shared.clone(), config.claim_ttl)?;
        let name = format!("gateboard:{}:{:04x}", std::process::id(), fastrand::u16(..));
        let claim_watch =
            claim_watch::ClaimWatch::start(path, &config.open, &name, shared.clone())?;
        let waker = shared.clone();
        let looker = claim_watch.looker();
        let watch = BoardWatch::start(path, move || {
            waker.work_available.notify_waiters();
            looker.look();
            // A commit writes its WAL a frame at a time, each write an inotify event. Pausing
            // this (notify's) thread before it reads the next lets the kernel fold the rest of
            // the burst into the one event it still holds, instead of waking this thread, from
            // inside the writer's every write, for each frame.
            std::thread::sleep(WATCH_SETTLE);
        })
        .ok();
        let (control, _) = watch::channel(Control {
            target: config.workers,
            paused: false,
            stopping: false,
        });
        let supervisor = match &config.work {
            Work::Commands(exec) => Some(Arc::new(exec::Supervisor::new(
                exec.supervisor.clone(),
                exec.grace,
            ))),
            Work::Simulated(..) => None,
        };
        let mut pool = Pool {
            shared,
            control,
            writer,
            claim_watch,
            workers: Vec::new(),
            config,
            name,
            // Commands run in other folders and read GATEBOARD_DB: give them a path that works there.
            board_path: std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()),
            supervisor,
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
                work: self.config.work.clone(),
                scope: ClaimScope {
                    commands_only: matches!(self.config.work, Work::Commands(_)),
                    key_prefix: self.config.key_prefix.clone(),
                    worker_pid: Some(std::process::id()),
                    logs: matches!(self.config.work, Work::Commands(_))
                        .then(|| exec::output::logs_folder(&self.board_path)),
                },
                claim_ttl: self.config.claim_ttl,
                board: self.board_path.clone(),
                supervisor: self.supervisor.clone(),
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

    /// Resolves after the pool's next commit.
    pub async fn committed(&self) {
        self.shared.committed.notified().await;
    }

    /// What is failing now, while the pool's writes fail (a full disk, a read-only file).
    pub fn trouble(&self) -> Option<String> {
        self.shared
            .trouble
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|t| t.message.clone())
    }

    /// Why the pool gave up, once its writes kept failing for [`GIVE_UP_AFTER`]; it then claims
    /// nothing more and should be stopped.
    pub fn failure(&self) -> Option<String> {
        self.shared
            .broken
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
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
        let claim_watch = self.claim_watch;
        // Closing the writer joins a thread; do it off the async workers.
        let _ = tokio::task::spawn_blocking(move || {
            claim_watch.close();
            writer.close();
        })
        .await;
        stats
    }
}
