//! The pool's one writer: a thread that owns the board connection and commits the requests of
//! every waiting worker in one transaction (group commit), each request under its own savepoint.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{PoolEvent, Shared};
use crate::core::attempt::{Attempt, AttemptEnd, AttemptOutcome};
use crate::core::ops::{Claim, ClaimScope, Claimer};
use crate::core::{Board, BoardError};

/// The most requests one transaction carries.
const MAX_BATCH: usize = 256;
/// How long the writer holds a batch open for workers it expects back at once.
const LINGER: Duration = Duration::from_micros(700);
/// How often the writer looks for ready tasks another writer left with an unfinished parent:
/// such a row is demoted within about this long of its commit, whatever the workers are doing.
const GATE_SWEEP_EVERY: Duration = Duration::from_secs(1);

/// A failure a worker hears about: its own request's error, or the whole batch's.
pub(crate) type Failure = Arc<BoardError>;

/// What the writer answers to a step.
#[derive(Debug)]
pub(crate) struct StepReply {
    /// What the board did with each attempt handed in, in order.
    pub completed: Vec<Result<AttemptOutcome, Failure>>,
    /// The claims granted, at most as many as asked for.
    pub claims: Vec<Claim>,
}

/// A worker's request.
pub(crate) enum Request {
    /// End the attempts finished since the last step, then claim up to `want` more: a worker's
    /// bookkeeping in one request, so one commit serves all of it (and other workers' too).
    Step {
        worker: usize,
        claimer: Claimer,
        finished: Vec<Attempt>,
        scope: ClaimScope,
        want: usize,
        reply: oneshot::Sender<Result<StepReply, Failure>>,
    },
    /// Extend a claim.
    Heartbeat {
        task: String,
        claimer: Claimer,
        reply: oneshot::Sender<Result<i64, Failure>>,
    },
    /// Give a claim back because the pool stops: the run closes as interrupted.
    Interrupt {
        worker: usize,
        task: String,
        run_id: i64,
        claimer: Claimer,
        reply: oneshot::Sender<Result<(), Failure>>,
    },
}

/// The writer thread and the door to it.
pub(crate) struct Writer {
    requests: mpsc::Sender<Request>,
    thread: thread::JoinHandle<()>,
}

impl Writer {
    /// Starts the writer thread; fails only if the machine refuses a thread.
    pub(crate) fn start(
        board: Board,
        shared: Arc<Shared>,
        ttl: Duration,
    ) -> Result<Writer, BoardError> {
        let (requests, inbox) = mpsc::channel();
        // Sweep often enough that an expired claim waits at most half a TTL (and at least 1 s,
        // the board's clock resolution).
        let sweep_every = (ttl / 2).max(Duration::from_secs(1));
        let path = board.path().to_path_buf();
        let thread = thread::Builder::new()
            .name("gateboard-writer".into())
            .spawn(move || serve(board, inbox, shared, ttl, sweep_every))
            .map_err(|source| BoardError::Io { path, source })?;
        Ok(Writer { requests, thread })
    }

    pub(crate) fn requests(&self) -> mpsc::Sender<Request> {
        self.requests.clone()
    }

    /// Waits for queued requests to be served and the connection to close.
    pub(crate) fn close(self) {
        drop(self.requests);
        // The writer thread holds only the board; a panic there has already been reported.
        let _ = self.thread.join();
    }
}

/// What a sweep returned to the queue.
#[derive(Default)]
struct Swept {
    /// Expired claims given back.
    reclaimed: Vec<String>,
    /// `todo` tasks whose parents another writer finished.
    promoted: Vec<String>,
    /// `ready` tasks with an unfinished parent, demoted by the gate.
    rejected: Vec<String>,
}

/// One request's outcome, held until the batch commits.
enum Outcome {
    Step(Result<StepReply, BoardError>, Vec<String>),
    Heartbeat(Result<i64, BoardError>),
    Interrupt(Result<(), BoardError>),
}

fn serve(
    mut board: Board,
    inbox: mpsc::Receiver<Request>,
    shared: Arc<Shared>,
    ttl: Duration,
    sweep_every: Duration,
) {
    // The first batch sweeps at once, so a board left with stranded or expired tasks moves
    // from the start instead of after a whole sweep interval.
    let mut last_sweep = Instant::now()
        .checked_sub(sweep_every)
        .unwrap_or_else(Instant::now);
    // Workers granted a claim last time come straight back when their work is short; holding
    // the batch open a moment for them is what lets one commit serve many tasks.
    let mut expected = 0;
    let mut last_gate_sweep = last_sweep;
    loop {
        let mut batch = Vec::new();
        match inbox.recv_timeout(sweep_every.min(GATE_SWEEP_EVERY)) {
            Ok(first) => batch.push(first),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return,
        }
        let linger_until = Instant::now() + LINGER;
        while batch.len() < MAX_BATCH {
            match inbox.try_recv() {
                Ok(more) => batch.push(more),
                Err(mpsc::TryRecvError::Empty) if batch.len() < expected => {
                    match inbox.recv_timeout(linger_until.saturating_duration_since(Instant::now()))
                    {
                        Ok(more) => batch.push(more),
                        Err(_) => break,
                    }
                }
                Err(_) => break,
            }
        }
        let sweep = last_sweep.elapsed() >= sweep_every;
        if sweep {
            last_sweep = Instant::now();
        }
        // A read first: an idle pool does not commit every second for nothing.
        let gate_due = last_gate_sweep.elapsed() >= GATE_SWEEP_EVERY;
        if gate_due {
            last_gate_sweep = Instant::now();
        }
        let gate_sweep = gate_due && board.read(|r| r.has_gated_ready()).unwrap_or(true);
        if batch.is_empty() && !sweep && !gate_sweep {
            continue;
        }
        let committed = board.write(|txn| {
            let outcomes: Vec<Outcome> = batch
                .iter()
                .map(|request| match request {
                    Request::Step {
                        claimer,
                        finished,
                        scope,
                        want,
                        ..
                    } => {
                        let mut rejected = Vec::new();
                        let reply = txn.isolated(|t| {
                            let completed = finished
                                .iter()
                                .map(|attempt| {
                                    t.isolated(|t| t.finish_attempt(attempt, claimer))
                                        .map_err(Arc::new)
                                })
                                .collect();
                            let mut claims = Vec::with_capacity(*want);
                            while claims.len() < *want {
                                let next = t.claim_next_in(claimer, scope)?;
                                rejected.extend(next.rejected);
                                match next.claim {
                                    Some(claim) => claims.push(claim),
                                    None => break,
                                }
                            }
                            Ok(StepReply { completed, claims })
                        });
                        Outcome::Step(reply, rejected)
                    }
                    Request::Heartbeat { task, claimer, .. } => {
                        Outcome::Heartbeat(txn.isolated(|t| t.heartbeat(task, claimer)))
                    }
                    Request::Interrupt {
                        task,
                        run_id,
                        claimer,
                        ..
                    } => Outcome::Interrupt(txn.isolated(|t| t.interrupt(task, *run_id, claimer))),
                })
                .collect();
            let mut swept = Swept::default();
            if sweep {
                swept.reclaimed = txn.reclaim_expired(ttl)?;
                swept.promoted = txn.promote_stranded()?;
            }
            if gate_sweep {
                swept.rejected = txn.demote_gated_ready()?;
            }
            Ok((outcomes, swept))
        });
        match committed {
            Ok((outcomes, swept)) => {
                shared.commits.fetch_add(1, Ordering::Relaxed);
                shared.write_succeeded();
                shared.committed.notify_waiters();
                expected = outcomes
                    .iter()
                    .filter(|o| matches!(o, Outcome::Step(Ok(step), _) if !step.claims.is_empty()))
                    .count();
                for task in swept.reclaimed {
                    shared.reclaimed.fetch_add(1, Ordering::Relaxed);
                    shared.publish(PoolEvent::Reclaimed { task });
                    shared.work_available.notify_waiters();
                }
                for task in swept.promoted {
                    shared.publish(PoolEvent::Promoted { task });
                    shared.work_available.notify_waiters();
                }
                for task in swept.rejected {
                    shared.rejected.fetch_add(1, Ordering::Relaxed);
                    shared.publish(PoolEvent::ClaimRejected { task });
                }
                for (request, outcome) in batch.into_iter().zip(outcomes) {
                    answer(&shared, request, outcome);
                }
            }
            Err(e) => {
                let e = Arc::new(e);
                shared.write_failed(e.to_string());
                shared.publish(PoolEvent::Trouble {
                    message: e.to_string(),
                });
                for request in batch {
                    fail(request, e.clone());
                }
            }
        }
    }
}

/// Publishes what a committed request did and hands the worker its answer.
fn answer(shared: &Shared, request: Request, outcome: Outcome) {
    match (request, outcome) {
        (
            Request::Step {
                worker,
                finished,
                reply,
                ..
            },
            Outcome::Step(result, rejected),
        ) => {
            for task in rejected {
                shared.rejected.fetch_add(1, Ordering::Relaxed);
                shared.publish(PoolEvent::ClaimRejected { task });
            }
            if let Ok(step) = &result {
                for (attempt, outcome) in finished.iter().zip(&step.completed) {
                    if let Ok(outcome) = outcome {
                        publish_attempt(shared, worker, attempt, outcome);
                    }
                }
                for claim in &step.claims {
                    shared.claimed.fetch_add(1, Ordering::Relaxed);
                    shared.publish(PoolEvent::Claimed {
                        worker,
                        task: claim.task_id.clone(),
                    });
                }
            }
            let _ = reply.send(result.map_err(Arc::new));
        }
        (Request::Heartbeat { reply, .. }, Outcome::Heartbeat(result)) => {
            let _ = reply.send(result.map_err(Arc::new));
        }
        (
            Request::Interrupt {
                worker,
                task,
                reply,
                ..
            },
            Outcome::Interrupt(result),
        ) => {
            if result.is_ok() {
                shared.publish(PoolEvent::Released { worker, task });
                shared.work_available.notify_waiters();
            }
            let _ = reply.send(result.map_err(Arc::new));
        }
        (request, _) => fail(
            request,
            Arc::new(BoardError::Internal(
                "the pool's writer mixed up its answers".into(),
            )),
        ),
    }
}

fn fail(request: Request, e: Failure) {
    // A worker that stopped listening has nothing left to learn.
    match request {
        Request::Step { reply, .. } => drop(reply.send(Err(e))),
        Request::Heartbeat { reply, .. } => drop(reply.send(Err(e))),
        Request::Interrupt { reply, .. } => drop(reply.send(Err(e))),
    }
}

/// Publishes what the board did with one worker's attempt.
fn publish_attempt(shared: &Shared, worker: usize, attempt: &Attempt, outcome: &AttemptOutcome) {
    let task = attempt.task_id.clone();
    if matches!(attempt.end, AttemptEnd::Failed { .. }) {
        shared.failed.fetch_add(1, Ordering::Relaxed);
    }
    match outcome {
        AttemptOutcome::Completed(done) => {
            shared.completed.fetch_add(1, Ordering::Relaxed);
            if let Some(w) = shared.workers().get_mut(worker) {
                w.done += 1;
            }
            shared.publish(PoolEvent::Completed { worker, task });
            for child in &done.promoted {
                shared.publish(PoolEvent::Promoted {
                    task: child.clone(),
                });
            }
            if !done.promoted.is_empty() {
                shared.work_available.notify_waiters();
            }
        }
        AttemptOutcome::Retrying { at_ms, .. } => {
            shared.publish(PoolEvent::Retrying {
                worker,
                task,
                at_ms: *at_ms,
            });
        }
        AttemptOutcome::Blocked { reason } => {
            shared.publish(PoolEvent::GaveUp {
                worker,
                task,
                reason: reason.clone(),
            });
        }
    }
}
