//! The pool's one writer: a thread that owns the board connection and commits the requests of
//! every waiting worker in one transaction (group commit).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use tokio::sync::oneshot;

use super::{PoolEvent, Shared};
use crate::core::attempt::{Attempt, AttemptEnd, AttemptOutcome};
use crate::core::ops::{Claim, ClaimBatch, ClaimScope, Claimer, Txn};
use crate::core::{Board, BoardError};

/// The most requests one transaction carries.
const MAX_BATCH: usize = 256;
/// How long the writer holds a batch open for workers it expects back at once.
const LINGER: Duration = Duration::from_micros(700);
/// When a pool first looks for stranded tasks, at the latest: a pool with work in hand need not
/// read every waiting task before its first claims, and a stranded task waits no longer than this.
const FIRST_STRANDED_LOOK: Duration = Duration::from_secs(1);
/// The least time between two looks for stranded tasks made because a worker went without,
/// and how many times the last look's own time it is at least: a board of a million waiting
/// tasks is not read again and again for idle workers.
const STRANDED_LOOK_AT_MOST_EVERY: Duration = Duration::from_secs(1);
const STRANDED_LOOK_SPACING: u32 = 20;
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
    /// Give a claim back (the pool stops, or the task waited behind a slow one): the run
    /// closes as interrupted, saying `why`.
    Interrupt {
        worker: usize,
        task: String,
        run_id: i64,
        claimer: Claimer,
        why: &'static str,
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

/// Which sweeps a transaction runs after its requests.
#[derive(Clone, Copy, Default)]
struct Sweeps {
    /// Claims past their expiry go back to the queue.
    expired: bool,
    /// `todo` tasks whose parents another writer finished are promoted.
    stranded: Stranded,
    /// `ready` tasks with an unfinished parent are demoted by the gate.
    gated: bool,
    /// The claims the pool held before the batch.
    held: usize,
}

/// When a batch looks for `todo` tasks whose parents another writer finished. The look is a
/// pass over every waiting task, which a pool with work in hand need not pay before its next
/// claims: a pool starting on a big graph starts working at once.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
enum Stranded {
    /// Not in this batch.
    #[default]
    No,
    /// After its requests, if the pool then holds no claim at all.
    IfIdle,
    /// After its requests, if the pool then holds no claim or a worker asked and got none.
    IfStarved,
    /// In this batch, whatever the claims.
    Now,
}

/// What a sweep returned to the queue.
#[derive(Default)]
struct Swept {
    /// The claims the pool holds after the batch.
    held: usize,
    /// How long the batch's look for stranded tasks took, if it looked.
    stranded_look: Option<Duration>,
    /// Expired claims given back.
    reclaimed: Vec<String>,
    /// `todo` tasks whose parents another writer finished.
    promoted: Vec<String>,
    /// `ready` tasks with an unfinished parent, demoted by the gate.
    rejected: Vec<String>,
}

/// One request's outcome, held until the batch commits.
enum Outcome {
    /// What the board did with each attempt handed in, and the claims made (or why none were).
    Step {
        completed: Vec<Result<AttemptOutcome, Failure>>,
        claimed: Result<ClaimBatch, BoardError>,
    },
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
    // The first batch sweeps expired claims at once, and stranded tasks are first looked for
    // as soon as the pool holds no claim or a second has passed, so a board left with either
    // moves from the start instead of after a whole sweep interval.
    let mut last_sweep = Instant::now()
        .checked_sub(sweep_every)
        .unwrap_or_else(Instant::now);
    let started = Instant::now();
    let mut last_stranded_look: Option<Instant> = None;
    let mut last_stranded_look_took = Duration::ZERO;
    // The claims granted and not yet handed back, counted from the requests themselves.
    let mut held_claims = 0;
    // Workers granted a claim last time come straight back when their work is short; holding
    // the batch open a moment for them is what lets one commit serve many tasks.
    let mut expected = 0;
    let mut last_gate_sweep = last_sweep;
    // The other writers' version each sweep last ran at; None until it first runs.
    let mut stranded_seen = None;
    let mut gate_seen = None;
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
        // Stranded todo tasks and gated ready ones are what other writers leave (this pool
        // promotes and gates its own), so both are looked for only after another connection
        // committed; a board of a million waiting tasks is not scanned every second for nothing.
        let others = board.others_version().ok();
        // An unreadable version counts as a change: better a needless look than a missed one.
        let changed_since = |seen: Option<i64>| others.is_none() || others != seen;
        let stranded = match last_stranded_look {
            _ if !changed_since(stranded_seen) => Stranded::No,
            None if started.elapsed() >= FIRST_STRANDED_LOOK => Stranded::Now,
            None => Stranded::IfIdle,
            Some(at) if at.elapsed() >= sweep_every => Stranded::Now,
            Some(at)
                if at.elapsed()
                    >= STRANDED_LOOK_AT_MOST_EVERY
                        .max(last_stranded_look_took * STRANDED_LOOK_SPACING) =>
            {
                Stranded::IfStarved
            }
            Some(_) => Stranded::No,
        };
        // A read first: an idle pool does not commit every second for nothing.
        let gate_due = last_gate_sweep.elapsed() >= GATE_SWEEP_EVERY && changed_since(gate_seen);
        if gate_due {
            last_gate_sweep = Instant::now();
            gate_seen = others;
        }
        let gate_sweep = gate_due && board.read(|r| r.has_gated_ready()).unwrap_or(true);
        // With no request, a pool holding claims cannot turn idle in this batch.
        let look_may_run = match stranded {
            Stranded::No => false,
            Stranded::Now => true,
            Stranded::IfIdle | Stranded::IfStarved => held_claims == 0,
        };
        if batch.is_empty() && !sweep && !gate_sweep && !look_may_run {
            continue;
        }
        let sweeps = Sweeps {
            expired: sweep,
            stranded,
            gated: gate_sweep,
            held: held_claims,
        };
        let changes_before = board.total_changes();
        let committed = commit_batch(&mut board, &batch, ttl, sweeps);
        match committed {
            Ok((outcomes, swept)) => {
                held_claims = swept.held;
                if let Some(took) = swept.stranded_look {
                    stranded_seen = others;
                    last_stranded_look = Some(Instant::now());
                    last_stranded_look_took = took;
                }
                // A transaction that found nothing to claim and wrote nothing is no commit:
                // SQLite writes and syncs nothing for it.
                if board.total_changes() != changes_before {
                    shared.commits.fetch_add(1, Ordering::Relaxed);
                }
                shared.write_succeeded();
                shared.committed.notify_waiters();
                expected = outcomes
                    .iter()
                    .filter(|o| matches!(o, Outcome::Step { claimed: Ok(batch), .. } if !batch.claims.is_empty()))
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
                if promoted_left_unclaimed(&outcomes) {
                    shared.work_available.notify_waiters();
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

/// Commits one batch. Optimistic first, without savepoints: a savepoint held open across many
/// statements makes SQLite walk its whole statement journal at each statement's end (measured:
/// a third of a claim's time with 64 tasks a step). Only when a request fails is the batch done
/// again, each request under a savepoint of its own, so one failure costs no other its commit.
fn commit_batch(
    board: &mut Board,
    batch: &[Request],
    ttl: Duration,
    sweeps: Sweeps,
) -> Result<(Vec<Outcome>, Swept), BoardError> {
    let mut request_failed = false;
    let optimistic = board.write(|txn| {
        serve_batch(
            txn,
            batch,
            Isolation::None,
            &mut request_failed,
            ttl,
            sweeps,
        )
    });
    if optimistic.is_ok() || !request_failed {
        return optimistic;
    }
    board.write(|txn| {
        serve_batch(
            txn,
            batch,
            Isolation::Savepoints,
            &mut request_failed,
            ttl,
            sweeps,
        )
    })
}

/// How the requests of one batch are kept apart.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Isolation {
    /// All or nothing: the first request that fails fails the transaction.
    None,
    /// Each request, and each attempt it hands in, under a savepoint of its own.
    Savepoints,
}

/// Runs `f`, under a savepoint when `isolation` asks for one; a failure without one marks
/// `failed`, so the caller knows the whole batch must be done again, isolated.
fn guarded<'c, T>(
    txn: &Txn<'c>,
    isolation: Isolation,
    failed: &mut bool,
    f: impl FnOnce(&Txn<'c>) -> Result<T, BoardError>,
) -> Result<Result<T, BoardError>, BoardError> {
    match isolation {
        Isolation::Savepoints => Ok(txn.isolated(f)),
        Isolation::None => match f(txn) {
            Ok(value) => Ok(Ok(value)),
            Err(e) => {
                *failed = true;
                Err(e)
            }
        },
    }
}

/// One transaction's work: every request of the batch, then the sweeps that are due. Every
/// attempt handed in is ended before any claim is made, so the children that any request's
/// completions promote are claimable by every request of the batch: a layer of a graph moves
/// in one commit instead of two.
fn serve_batch(
    txn: &Txn<'_>,
    batch: &[Request],
    isolation: Isolation,
    failed: &mut bool,
    ttl: Duration,
    sweeps: Sweeps,
) -> Result<(Vec<Outcome>, Swept), BoardError> {
    // The children the batch's completions free are claimed by its steps straight from
    // `todo`; those left over are written `ready` before the sweeps look at the board.
    txn.defer_promotions();
    let mut outcomes = Vec::with_capacity(batch.len());
    for request in batch {
        outcomes.push(match request {
            Request::Step {
                claimer, finished, ..
            } => {
                let mut completed = Vec::with_capacity(finished.len());
                for attempt in finished {
                    let outcome = guarded(txn, isolation, failed, |t| {
                        t.finish_attempt(attempt, claimer)
                    })?;
                    completed.push(outcome.map_err(Arc::new));
                }
                Outcome::Step {
                    completed,
                    claimed: Ok(ClaimBatch::default()),
                }
            }
            Request::Heartbeat { task, claimer, .. } => {
                Outcome::Heartbeat(guarded(txn, isolation, failed, |t| {
                    t.heartbeat(task, claimer)
                })?)
            }
            Request::Interrupt {
                task,
                run_id,
                claimer,
                why,
                ..
            } => Outcome::Interrupt(guarded(txn, isolation, failed, |t| {
                t.interrupt(task, *run_id, claimer, why)
            })?),
        });
    }
    for (request, outcome) in batch.iter().zip(&mut outcomes) {
        if let (
            Request::Step {
                claimer,
                scope,
                want,
                ..
            },
            Outcome::Step { claimed, .. },
        ) = (request, outcome)
            && *want > 0
        {
            *claimed = guarded(txn, isolation, failed, |t| {
                t.claim_up_to(claimer, scope, *want)
            })?;
        }
    }
    txn.settle_promotions()?;
    let mut swept = Swept {
        held: claims_held_after(sweeps.held, batch, &outcomes),
        ..Swept::default()
    };
    if sweeps.expired {
        swept.reclaimed = txn.reclaim_expired(ttl)?;
    }
    let look = match sweeps.stranded {
        Stranded::No => false,
        Stranded::Now => true,
        Stranded::IfIdle => swept.held == 0,
        Stranded::IfStarved => swept.held == 0 || went_without(batch, &outcomes),
    };
    if look {
        let looking = Instant::now();
        swept.promoted = txn.promote_stranded()?;
        swept.stranded_look = Some(looking.elapsed());
    }
    if sweeps.gated {
        swept.rejected = txn.demote_gated_ready()?;
    }
    Ok((outcomes, swept))
}

/// Whether a step of the batch asked for claims and was granted none: a worker is idle.
fn went_without(batch: &[Request], outcomes: &[Outcome]) -> bool {
    batch.iter().zip(outcomes).any(|pair| {
        matches!(pair, (Request::Step { want, .. }, Outcome::Step { claimed: Ok(b), .. })
            if *want > 0 && b.claims.is_empty())
    })
}

/// How many claims the pool holds after a batch, from `held` before it: what its steps were
/// granted, less what its steps handed in and its interrupts gave back.
fn claims_held_after(held: usize, batch: &[Request], outcomes: &[Outcome]) -> usize {
    batch
        .iter()
        .zip(outcomes)
        .fold(held, |held, pair| match pair {
            (Request::Step { finished, .. }, Outcome::Step { claimed, .. }) => {
                let granted = claimed.as_ref().map_or(0, |b| b.claims.len());
                (held + granted).saturating_sub(finished.len())
            }
            (Request::Interrupt { .. }, _) => held.saturating_sub(1),
            _ => held,
        })
}

/// Whether a completion of the batch promoted a child that no request of it claimed: only
/// then is there new work for idle workers. Children are claimed in the batch that freed
/// them (see `serve_batch`), so waking every idle worker at each promotion would only have
/// them commit empty steps.
fn promoted_left_unclaimed(outcomes: &[Outcome]) -> bool {
    let mut promoted = std::collections::HashSet::new();
    let mut claimed = std::collections::HashSet::new();
    for outcome in outcomes {
        if let Outcome::Step {
            completed,
            claimed: claims,
        } = outcome
        {
            for done in completed {
                if let Ok(AttemptOutcome::Completed(done)) = done {
                    promoted.extend(done.promoted.iter().map(String::as_str));
                }
            }
            if let Ok(batch) = claims {
                claimed.extend(batch.claims.iter().map(|c| c.task_id.as_str()));
            }
        }
    }
    promoted.iter().any(|task| !claimed.contains(task))
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
            Outcome::Step { completed, claimed },
        ) => {
            for (attempt, outcome) in finished.iter().zip(&completed) {
                if let Ok(outcome) = outcome {
                    publish_attempt(shared, worker, attempt, outcome);
                }
            }
            let claims = match claimed {
                Ok(batch) => {
                    for task in batch.rejected {
                        shared.rejected.fetch_add(1, Ordering::Relaxed);
                        shared.publish(PoolEvent::ClaimRejected { task });
                    }
                    for claim in &batch.claims {
                        shared.claimed.fetch_add(1, Ordering::Relaxed);
                        shared.publish(PoolEvent::Claimed {
                            worker,
                            task: claim.task_id.clone(),
                        });
                    }
                    batch.claims
                }
                Err(e) => {
                    // Its attempts are recorded all the same; the worker asks again next step.
                    shared.publish(PoolEvent::Trouble {
                        message: e.to_string(),
                    });
                    Vec::new()
                }
            };
            let _ = reply.send(Ok(StepReply { completed, claims }));
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
                shared.released.fetch_add(1, Ordering::Relaxed);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::NewTask;
    use crate::core::model::Status;

    /// An instant attempt of `task` under run `run_id` that exited 0.
    fn succeeded(task_id: String, run_id: i64) -> Attempt {
        Attempt {
            task_id,
            run_id,
            end: AttemptEnd::Succeeded { result: None },
            exit_code: Some(0),
            signal: None,
            duration: Duration::ZERO,
            log: None,
            command_pid: None,
            retry_delay: Duration::ZERO,
        }
    }

    fn step(finished: Vec<Attempt>, want: usize) -> Request {
        let (reply, _) = oneshot::channel();
        Request::Step {
            worker: 0,
            claimer: Claimer {
                lock: "test:w0".into(),
                ttl: Duration::from_secs(60),
            },
            finished,
            scope: ClaimScope::default(),
            want,
            reply,
        }
    }

    fn stepped(promoted: &[&str], claimed: &[&str]) -> Outcome {
        use crate::core::ops::Completion;
        Outcome::Step {
            completed: vec![Ok(AttemptOutcome::Completed(Completion {
                run_id: Some(1),
                promoted: promoted.iter().map(|t| t.to_string()).collect(),
            }))],
            claimed: Ok(ClaimBatch {
                claims: claimed
                    .iter()
                    .map(|t| Claim {
                        task_id: t.to_string(),
                        run_id: 2,
                        expires: 0,
                        command: None,
                        failures: 0,
                    })
                    .collect(),
                rejected: Vec::new(),
            }),
        }
    }

    #[test]
    fn idle_workers_are_woken_only_for_promoted_children_the_batch_left_unclaimed() {
        // One request frees two children and another request of the batch claims both.
        let all_taken = [stepped(&["c1", "c2"], &[]), stepped(&[], &["c2", "c1"])];
        assert!(!promoted_left_unclaimed(&all_taken));
        let one_left = [stepped(&["c1", "c2"], &["c1"])];
        assert!(promoted_left_unclaimed(&one_left));
        assert!(!promoted_left_unclaimed(&[stepped(&[], &[])]));
    }

    #[test]
    fn the_claims_a_pool_holds_are_its_grants_less_what_it_handed_back() {
        let (reply, _) = oneshot::channel();
        let interrupt = Request::Interrupt {
            worker: 0,
            task: "t0".into(),
            run_id: 1,
            claimer: Claimer {
                lock: "test:w0".into(),
                ttl: Duration::from_secs(60),
            },
            why: "test",
            reply,
        };
        let batch = [
            step(Vec::new(), 2),
            step(vec![succeeded("t1".into(), 1)], 0),
            interrupt,
        ];
        let outcomes = [
            stepped(&[], &["t1", "t2"]),
            stepped(&[], &[]),
            Outcome::Interrupt(Ok(())),
        ];
        assert_eq!(claims_held_after(0, &batch[..1], &outcomes[..1]), 2);
        assert_eq!(claims_held_after(0, &batch, &outcomes), 0);
        assert_eq!(claims_held_after(3, &batch, &outcomes), 3);
    }

    #[test]
    fn a_child_promoted_in_a_batch_is_claimable_by_an_earlier_request_of_it() {
        let (_dir, mut board) = crate::core::scratch_board();
        let claimer = Claimer {
            lock: "test:w0".into(),
            ttl: Duration::from_secs(60),
        };
        let (parent, child, run_id) = board
            .write(|t| {
                let parent = t.create(&NewTask {
                    title: "parent".into(),
                    ..NewTask::default()
                })?;
                let child = t.create(&NewTask {
                    title: "child".into(),
                    parents: vec![parent.clone()],
                    ..NewTask::default()
                })?;
                let claim = t
                    .claim_next(&claimer)?
                    .claim
                    .expect("the parent is claimable");
                Ok((parent, child, claim.run_id))
            })
            .expect("seeded");
        let done = succeeded(parent, run_id);
        // The first request asks before the second hands in the child's last parent.
        let batch = vec![step(Vec::new(), 1), step(vec![done], 0)];
        let (outcomes, _) = commit_batch(
            &mut board,
            &batch,
            Duration::from_secs(60),
            Sweeps::default(),
        )
        .expect("the batch commits");
        let first: Vec<String> = match &outcomes[0] {
            Outcome::Step {
                claimed: Ok(batch), ..
            } => batch.claims.iter().map(|c| c.task_id.clone()).collect(),
            _ => panic!("the first request's claim failed"),
        };
        assert_eq!(
            first,
            vec![child],
            "the promoted child went to the first request"
        );
    }

    #[test]
    fn a_failed_request_costs_no_other_request_of_its_batch() {
        let (_dir, mut board) = crate::core::scratch_board();
        let ids: Vec<String> = board
            .write(|t| {
                (0..3)
                    .map(|i| {
                        t.create(&NewTask {
                            title: format!("task {i}"),
                            ..NewTask::default()
                        })
                    })
                    .collect()
            })
            .expect("tasks");
        // The first request hands in an attempt on a run nobody holds: it must fail alone.
        let bogus = succeeded(ids[0].clone(), 999);
        let batch = vec![step(vec![bogus], 1), step(Vec::new(), 2)];
        let (outcomes, _) = commit_batch(
            &mut board,
            &batch,
            Duration::from_secs(60),
            Sweeps::default(),
        )
        .expect("the batch commits");
        let claimed: Vec<usize> = outcomes
            .iter()
            .map(|o| match o {
                Outcome::Step {
                    claimed: Ok(batch), ..
                } => batch.claims.len(),
                _ => usize::MAX,
            })
            .collect();
        assert_eq!(claimed, vec![1, 2], "both requests got their claims");
        match &outcomes[0] {
            Outcome::Step { completed, .. } => assert!(completed[0].is_err()),
            _ => panic!("the first request was not a step"),
        }
        let running = board
            .read(|r| {
                ids.iter()
                    .map(|id| r.task(id).map(|t| t.status))
                    .collect::<Result<Vec<_>, _>>()
            })
            .expect("read");
        assert_eq!(
            running,
            vec![Status::Running; 3],
            "every claim was committed"
        );
    }
}
