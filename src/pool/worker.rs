//! One worker's loop: ask the writer for a claim, run the task (its command, or simulated work),
//! and hand the attempt back with the next request, so one commit serves both.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::{Notify, oneshot, watch};
use tokio::time::sleep;

use super::exec::output::{last_line, log_path};
use super::exec::{Exit, Job, Supervisor, prepare_log};
use super::writer::{Failure, Request, StepReply};
use super::{Control, PoolEvent, Shared, Work, WorkerState};
use crate::core::BoardError;
use crate::core::attempt::{Attempt, AttemptEnd, FailureKind};
use crate::core::model::TaskCommand;
use crate::core::ops::{Claim, ClaimScope, Claimer};

/// How long an idle worker waits before looking again when nobody rang.
const IDLE_RECHECK: Duration = Duration::from_millis(250);
/// How long a worker waits after a failed write before trying again.
const TROUBLE_BACKOFF: Duration = Duration::from_millis(500);
/// EX_TEMPFAIL: the command asks to be tried again later, which is not a failure.
const EXIT_TRY_LATER: i32 = 75;

/// Everything one worker needs.
pub(crate) struct Context {
    pub id: usize,
    pub lock: String,
    pub shared: Arc<Shared>,
    pub control: watch::Receiver<Control>,
    pub requests: mpsc::Sender<Request>,
    pub work: Work,
    pub scope: ClaimScope,
    pub claim_ttl: Duration,
    pub board: PathBuf,
    pub supervisor: Option<Arc<Supervisor>>,
}

/// How a claimed task's turn ended.
enum Turn {
    /// It ran to an end the board must record.
    Ended(Attempt),
    /// The pool is stopping: give the claim back.
    Stopped,
    /// The claim was lost while working (cancelled, blocked by a person, or expired).
    Lost(String),
}

/// Why a worker stopped a command before it ended by itself.
enum Stop {
    Timeout(u64),
    PoolStopping,
    Lost(String),
}

/// The most claims a worker holds beyond the running one: enough that one commit carries many
/// tasks.
const MAX_AHEAD: usize = 128;
/// How long the last task claimed ahead may wait before it starts: a worker claims ahead only
/// as many tasks as its recent tasks would finish in this long, so a claimed task never waits
/// long unstarted, and a worker whose tasks are slow claims only when it is free (no task
/// waits behind a long one while another worker is idle).
const AHEAD_WAIT: Duration = Duration::from_millis(20);

/// How often a running task is checked against its worker's pace: once it has run this long,
/// the claims queued behind it (a pace set by fast tasks promised them a start within
/// `AHEAD_WAIT`) go back to the board for idle workers instead of waiting the task out.
const OVERRUN: Duration = Duration::from_millis(60);
/// What a run given back for that says.
const OVERRUN_RELEASE: &str = "given back unstarted: the task before it on its worker ran long";

/// Tasks at least this long overlap their next step's commit with the work still queued.
const OVERLAP_FROM: Duration = Duration::from_millis(1);

/// How many claims to hold beyond the running one, for tasks that took `typical` lately.
fn claims_ahead(typical: Duration) -> usize {
    let fits = AHEAD_WAIT.as_nanos() / typical.as_nanos().max(1);
    usize::try_from(fits).map_or(MAX_AHEAD, |n| n.min(MAX_AHEAD))
}

/// A running average of a worker's task times, weighted to the last few tasks.
#[derive(Default)]
struct Pace {
    typical: Option<Duration>,
}

impl Pace {
    fn record(&mut self, took: Duration) {
        self.typical = Some(match self.typical {
            None => took,
            Some(typical) => (typical * 7 + took) / 8,
        });
    }

    /// Whether to hand in and claim again with `queued` of `ahead` claims still to run. Tasks
    /// that take real time refill at half, so the rest keep the worker busy while the step
    /// commits. Tasks that take next to nothing refill only when the queue is empty: their cost
    /// is the commit itself, so the fewer and fuller the steps, the faster (measured with 5,000
    /// tasks of zero-length work: 119 tasks a commit instead of 62, and 1.4x the rate).
    fn refill_at(&self, ahead: usize, queued: usize) -> bool {
        queued == 0 || (self.typical.is_some_and(|t| t >= OVERLAP_FROM) && queued <= ahead / 2)
    }

    /// Claims to hold beyond the running one; none before the first task has been timed.
    fn ahead(&self) -> usize {
        self.typical.map_or(0, claims_ahead)
    }
}

/// A step sent to the writer whose answer has not been read yet.
struct InFlight {
    answer: oneshot::Receiver<Result<StepReply, Failure>>,
    /// The attempts it hands in, kept to hand in again should the whole write fail.
    attempts: Vec<Attempt>,
    asked: Instant,
}

pub(crate) async fn run(mut ctx: Context) {
    let claimer = Claimer {
        lock: ctx.lock.clone(),
        ttl: ctx.claim_ttl,
    };
    let mut queued: VecDeque<Claim> = VecDeque::new();
    let mut finished: Vec<Attempt> = Vec::new();
    let mut in_flight: Option<InFlight> = None;
    let mut pace = Pace::default();
    let giver = Giver::of(&ctx);
    loop {
        if ctx.shared.is_broken() {
            // A pool that cannot write records nothing more; what it holds lapses to the sweep.
            ctx.shared.set_state(ctx.id, WorkerState::Retired);
            return;
        }
        let control = *ctx.control.borrow_and_update();
        let retiring = control.stopping || ctx.id >= control.target;
        let claiming = !retiring && !control.paused;
        if !claiming && !queued.is_empty() {
            // Claimed ahead but not started: give them back for others (or a later resume).
            giver
                .give_back(
                    &claimer,
                    queued.drain(..),
                    "given back unstarted: the pool paused or stopped",
                )
                .await;
        }
        if in_flight.is_none() {
            let ahead = pace.ahead();
            let want = match (claiming, ahead) {
                (false, _) => 0,
                (true, 0) => usize::from(queued.is_empty()),
                (true, ahead) => ahead.saturating_sub(queued.len()),
            };
            let refill = ahead == 0 || !claiming || pace.refill_at(ahead, queued.len());
            if refill && (!finished.is_empty() || want > 0) {
                in_flight = send_step(&giver, &claimer, std::mem::take(&mut finished), want);
                if in_flight.is_none() {
                    // The writer is gone: nothing can be recorded any more.
                    ctx.shared.set_state(ctx.id, WorkerState::Retired);
                    return;
                }
            }
        }
        if let Some(claim) = queued.pop_front() {
            let started = Instant::now();
            let ended = {
                let work = work_on(&mut ctx, &giver, &claimer, claim);
                tokio::pin!(work);
                let mut overrun = tokio::time::interval_at((started + OVERRUN).into(), OVERRUN);
                loop {
                    tokio::select! {
                        ended = &mut work => break ended,
                        _ = overrun.tick(), if !queued.is_empty() || in_flight.is_some() || !finished.is_empty() => {
                            // Slower than the pace promised: claims already granted come off the
                            // step on its way, and every claim waiting here goes back.
                            take_answer_if_come(&giver, &mut in_flight, &mut queued, &mut finished).await;
                            giver.give_back(&claimer, queued.drain(..), OVERRUN_RELEASE).await;
                            // And the tasks it finished before this one are recorded now, so
                            // their children need not wait this one out either.
                            if in_flight.is_none() && !finished.is_empty() {
                                in_flight =
                                    send_step(&giver, &claimer, finished.clone(), 0);
                                if in_flight.is_some() {
                                    finished.clear();
                                }
                            }
                        }
                    }
                }
            };
            finished.extend(ended);
            pace.record(started.elapsed());
            take_answer_if_come(&giver, &mut in_flight, &mut queued, &mut finished).await;
            continue;
        }
        match in_flight.take() {
            Some(mut flight) => {
                let answer = (&mut flight.answer)
                    .await
                    .unwrap_or_else(|_| Err(writer_gone()));
                take_answer(&giver, Some(flight), answer, &mut queued, &mut finished).await;
                if !queued.is_empty() || !finished.is_empty() {
                    continue;
                }
            }
            None if !claiming => {
                if retiring {
                    ctx.shared.set_state(ctx.id, WorkerState::Retired);
                    return;
                }
                ctx.shared.set_state(ctx.id, WorkerState::Paused);
                if ctx.control.changed().await.is_err() {
                    return;
                }
                continue;
            }
            None => {}
        }
        if claiming && queued.is_empty() {
            ctx.shared.set_state(ctx.id, WorkerState::Idle);
            let wake = ctx.shared.work_available.notified();
            tokio::select! {
                () = wake => {}
                () = sleep(IDLE_RECHECK) => {}
                _ = ctx.control.changed() => {}
            }
        }
    }
}

/// Hands in `attempts` and asks for `want` claims without waiting for the answer.
fn send_step(
    ctx: &Giver,
    claimer: &Claimer,
    attempts: Vec<Attempt>,
    want: usize,
) -> Option<InFlight> {
    let (reply, answer) = oneshot::channel();
    let request = Request::Step {
        worker: ctx.id,
        claimer: claimer.clone(),
        finished: attempts.clone(),
        scope: ctx.scope.clone(),
        want,
        reply,
    };
    ctx.requests.send(request).ok()?;
    Some(InFlight {
        answer,
        attempts,
        asked: Instant::now(),
    })
}

/// Takes the answer of the step on its way if it has come, without waiting for it.
async fn take_answer_if_come(
    giver: &Giver,
    in_flight: &mut Option<InFlight>,
    queued: &mut VecDeque<Claim>,
    finished: &mut Vec<Attempt>,
) {
    if let Some(flight) = in_flight.as_mut()
        && let Ok(answer) = flight.answer.try_recv()
    {
        let flight = in_flight.take();
        take_answer(giver, flight, answer, queued, finished).await;
    }
}

/// Reads a step's answer: claims join the queue; a whole write that failed gives its attempts
/// back to be handed in again after a pause.
async fn take_answer(
    ctx: &Giver,
    flight: Option<InFlight>,
    answer: Result<StepReply, Failure>,
    queued: &mut VecDeque<Claim>,
    finished: &mut Vec<Attempt>,
) {
    let Some(flight) = flight else { return };
    match answer {
        Ok(StepReply { completed, claims }) => {
            for (attempt, outcome) in flight.attempts.into_iter().zip(completed) {
                if let Err(e) = outcome {
                    ctx.shared.publish(PoolEvent::LostClaim {
                        worker: ctx.id,
                        task: attempt.task_id,
                        reason: e.to_string(),
                    });
                }
            }
            for _ in &claims {
                ctx.shared.record_latency(flight.asked.elapsed());
            }
            queued.extend(claims);
        }
        Err(_) => {
            // Already published by the writer; keep the attempts and try again shortly.
            finished.extend(flight.attempts);
            sleep(TROUBLE_BACKOFF).await;
        }
    }
}

/// What a worker's steps and give-backs need of its context, held apart from it so claims can
/// go back and finished attempts go in while the worker's task still runs (and holds the
/// context).
struct Giver {
    id: usize,
    requests: mpsc::Sender<Request>,
    shared: Arc<Shared>,
    scope: ClaimScope,
}

impl Giver {
    fn of(ctx: &Context) -> Giver {
        Giver {
            id: ctx.id,
            requests: ctx.requests.clone(),
            shared: ctx.shared.clone(),
            scope: ctx.scope.clone(),
        }
    }

    /// Gives `claims` back to the board; `why` goes on each run.
    async fn give_back(
        &self,
        claimer: &Claimer,
        claims: impl IntoIterator<Item = Claim>,
        why: &'static str,
    ) {
        // Every request first, then the answers: the writer gives them all back in one
        // commit, instead of one commit per claim while the running task waits to be watched.
        let asked: Vec<(Claim, Result<Answer<()>, Failure>)> = claims
            .into_iter()
            .map(|claim| {
                let (reply, answer) = oneshot::channel();
                let sent = self
                    .requests
                    .send(Request::Interrupt {
                        worker: self.id,
                        task: claim.task_id.clone(),
                        run_id: claim.run_id,
                        claimer: claimer.clone(),
                        why,
                        reply,
                    })
                    .map(|()| answer)
                    .map_err(|_| writer_gone());
                (claim, sent)
            })
            .collect();
        for (claim, sent) in asked {
            let released = match sent {
                Ok(answer) => answer.await.unwrap_or_else(|_| Err(writer_gone())),
                Err(e) => Err(e),
            };
            if let Err(e) = released {
                self.shared.publish(PoolEvent::LostClaim {
                    worker: self.id,
                    task: claim.task_id,
                    reason: format!("could not release: {e}"),
                });
            }
        }
    }
}

/// Where the writer's answer to one request arrives.
type Answer<T> = oneshot::Receiver<Result<T, Failure>>;

fn writer_gone() -> Failure {
    Arc::new(BoardError::Internal("the pool's writer has stopped".into()))
}

/// Runs one claimed task; returns the attempt to hand in with the next step, if any.
async fn work_on(
    ctx: &mut Context,
    giver: &Giver,
    claimer: &Claimer,
    claim: Claim,
) -> Option<Attempt> {
    let task = claim.task_id.clone();
    let run_id = claim.run_id;
    ctx.shared.set_working(ctx.id, &task, None, None);
    let gone = ctx.shared.watch_claim(ctx.id, &task, run_id);
    let turn = match (ctx.work.clone(), claim.command.clone()) {
        (Work::Simulated(low, high), _) => simulate(ctx, claimer, &claim, low, high, &gone).await,
        (Work::Commands(exec), Some(command)) => {
            execute(ctx, claimer, &claim, &command, &exec, &gone).await
        }
        (Work::Commands(_), None) => Turn::Ended(attempt(
            &claim,
            AttemptEnd::Failed {
                kind: FailureKind::SpawnFailed,
                cause: "the task has no command".into(),
                last_line: None,
            },
            Duration::ZERO,
        )),
    };
    ctx.shared.unwatch_claim(ctx.id);
    match turn {
        Turn::Ended(attempt) => Some(attempt),
        Turn::Stopped => {
            giver.give_back(claimer, [claim], "the pool stopped").await;
            None
        }
        Turn::Lost(reason) => {
            ctx.shared.publish(PoolEvent::LostClaim {
                worker: ctx.id,
                task,
                reason,
            });
            None
        }
    }
}

/// An attempt with no process behind it.
fn attempt(claim: &Claim, end: AttemptEnd, duration: Duration) -> Attempt {
    Attempt {
        task_id: claim.task_id.clone(),
        run_id: claim.run_id,
        end,
        exit_code: None,
        signal: None,
        duration,
        log: None,
        command_pid: None,
        retry_delay: Duration::ZERO,
    }
}

/// Renews a claim every third of its TTL.
struct Renewal {
    every: Duration,
    next: tokio::time::Instant,
}

impl Renewal {
    fn new(ttl: Duration) -> Renewal {
        let every = (ttl / 3).max(Duration::from_millis(200));
        Renewal {
            every,
            next: tokio::time::Instant::now() + every,
        }
    }

    /// Renews the claim; an error means the claim is gone (a locked board is passing trouble).
    async fn renew(&mut self, ctx: &Context, claimer: &Claimer, task: &str) -> Result<(), String> {
        self.next += self.every;
        let renewed = ask(&ctx.requests, |reply| Request::Heartbeat {
            task: task.to_owned(),
            claimer: claimer.clone(),
            reply,
        })
        .await;
        match renewed {
            Err(e) if !matches!(*e, BoardError::Locked { .. } | BoardError::Sqlite(_)) => {
                Err(e.to_string())
            }
            _ => Ok(()),
        }
    }
}

/// Sleeps the simulated work time, renewing the claim, and stops early only when the pool
/// stops or the claim is taken away (a pause or a shrink lets the task finish).
async fn simulate(
    ctx: &mut Context,
    claimer: &Claimer,
    claim: &Claim,
    low: Duration,
    high: Duration,
    gone: &Notify,
) -> Turn {
    let span = u64::try_from(high.saturating_sub(low).as_micros()).unwrap_or(u64::MAX);
    let work = low
        + Duration::from_micros(if span == 0 {
            0
        } else {
            fastrand::u64(0..=span)
        });
    let started = Instant::now();
    let done = || Turn::Ended(attempt(claim, AttemptEnd::Succeeded { result: None }, work));
    if work.is_zero() {
        return done();
    }
    let deadline = tokio::time::Instant::now() + work;
    let mut renewal = Renewal::new(ctx.claim_ttl);
    loop {
        if ctx.control.borrow().stopping {
            return Turn::Stopped;
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return done(),
            () = tokio::time::sleep_until(renewal.next) => {
                if let Err(reason) = renewal.renew(ctx, claimer, &claim.task_id).await {
                    return Turn::Lost(reason);
                }
            }
            () = gone.notified() => {
                return Turn::Lost(format!("the claim was taken away after {:.1}s", started.elapsed().as_secs_f64()));
            }
            changed = ctx.control.changed() => {
                if changed.is_err() {
                    return Turn::Stopped;
                }
            }
        }
    }
}

/// Runs the task's command under a supervisor until it ends, times out, loses its claim, or
/// the pool stops; whichever way, the command's whole process group is gone afterwards.
async fn execute(
    ctx: &mut Context,
    claimer: &Claimer,
    claim: &Claim,
    command: &TaskCommand,
    exec: &super::Exec,
    gone: &Notify,
) -> Turn {
    let log = log_path(&ctx.board, &claim.task_id, claim.run_id);
    let log_text = log.to_string_lossy().into_owned();
    let failed = |kind, cause: String, duration| {
        Turn::Ended(Attempt {
            log: Some(log_text.clone()),
            retry_delay: exec.backoff.delay(claim.failures + 1, fastrand::f64()),
            ..attempt(
                claim,
                AttemptEnd::Failed {
                    kind,
                    cause,
                    last_line: None,
                },
                duration,
            )
        })
    };
    if let Err(e) = prepare_log(&log) {
        return failed(
            FailureKind::SpawnFailed,
            format!("cannot make the log folder of {}: {e}", log.display()),
            Duration::ZERO,
        );
    }
    let Some(supervisor) = ctx.supervisor.clone() else {
        return failed(
            FailureKind::SpawnFailed,
            "this pool runs no commands".into(),
            Duration::ZERO,
        );
    };
    let mut env = command.env.clone();
    env.push(("GATEBOARD_TASK_ID".into(), claim.task_id.clone()));
    env.push(("GATEBOARD_RUN_ID".into(), claim.run_id.to_string()));
    env.push((
        "GATEBOARD_DB".into(),
        ctx.board.to_string_lossy().into_owned(),
    ));
    let job = Job {
        command: command.command.clone(),
        cwd: PathBuf::from(&command.cwd),
        env,
        log: log.clone(),
    };
    let started = Instant::now();
    let mut execution = match supervisor.start(&job).await {
        Ok(execution) => execution,
        Err(e) => {
            return failed(
                FailureKind::SpawnFailed,
                format!(
                    "cannot start the supervisor {}: {e}",
                    exec.supervisor.display()
                ),
                started.elapsed(),
            );
        }
    };
    ctx.shared.set_working(
        ctx.id,
        &claim.task_id,
        Some(command.command.clone()),
        execution.pid,
    );
    let timeout = command.timeout_secs;
    let deadline =
        timeout.and_then(|t| tokio::time::Instant::now().checked_add(Duration::from_secs(t)));
    let mut renewal = Renewal::new(ctx.claim_ttl);
    let mut stop: Option<Stop> = None;
    let exit = loop {
        if stop.is_none() && ctx.control.borrow().stopping {
            execution.stop().await;
            stop = Some(Stop::PoolStopping);
        }
        let running = stop.is_none();
        tokio::select! {
            exit = execution.wait() => break exit,
            () = sleep_until(deadline), if running => {
                execution.stop().await;
                stop = Some(Stop::Timeout(timeout.unwrap_or(0)));
            }
            () = tokio::time::sleep_until(renewal.next), if running => {
                if let Err(reason) = renewal.renew(ctx, claimer, &claim.task_id).await {
                    execution.stop().await;
                    stop = Some(Stop::Lost(reason));
                }
            }
            () = gone.notified(), if running => {
                execution.stop().await;
                stop = Some(Stop::Lost("the claim was taken away (cancelled, blocked or reclaimed)".into()));
            }
            changed = ctx.control.changed(), if running => {
                if changed.is_err() {
                    execution.stop().await;
                    stop = Some(Stop::PoolStopping);
                }
            }
        }
    };
    let pid = execution.pid;
    let duration = started.elapsed();
    if stop.is_none() && stopped_with_the_pool(ctx, &exit).await {
        // A service manager stops a whole group at once: the command may die of the pool's own
        // SIGTERM a moment before the pool hears it. That is an interruption, not a failure.
        stop = Some(Stop::PoolStopping);
    }
    let (end, exit_code, signal) = match (stop, &exit) {
        (Some(Stop::PoolStopping), _) | (None, Exit::Orphaned) => return Turn::Stopped,
        (Some(Stop::Lost(reason)), _) => return Turn::Lost(reason),
        (Some(Stop::Timeout(secs)), exit) => (
            AttemptEnd::Failed {
                kind: FailureKind::TimedOut,
                cause: format!("timed out at {secs}s"),
                last_line: None,
            },
            match exit {
                Exit::Code(code) => Some(*code),
                _ => None,
            },
            match exit {
                Exit::Signal(signal) => Some(*signal),
                _ => None,
            },
        ),
        (None, Exit::Code(0)) => (
            AttemptEnd::Succeeded {
                result: last_line(&log).ok().flatten(),
            },
            Some(0),
            None,
        ),
        (None, Exit::Code(EXIT_TRY_LATER)) => (AttemptEnd::Deferred, Some(EXIT_TRY_LATER), None),
        (None, Exit::Code(code)) => (
            AttemptEnd::Failed {
                // sh's own codes for a program it could not find or execute.
                kind: if matches!(code, 126 | 127) {
                    FailureKind::SpawnFailed
                } else {
                    FailureKind::Crashed
                },
                cause: format!("exit {code}"),
                last_line: None,
            },
            Some(*code),
            None,
        ),
        (None, Exit::Signal(signal)) => (
            AttemptEnd::Failed {
                kind: FailureKind::Crashed,
                cause: format!("killed by signal {}", signal_name(*signal)),
                last_line: None,
            },
            None,
            Some(*signal),
        ),
        (None, Exit::NotStarted(why)) => (
            AttemptEnd::Failed {
                kind: FailureKind::SpawnFailed,
                cause: why.clone(),
                last_line: None,
            },
            None,
            None,
        ),
    };
    // The command's last words explain a failure; a command that never started has none (its
    // log holds only gateboard's own line, which the cause already says).
    let end = match end {
        AttemptEnd::Failed { kind, cause, .. } if !matches!(exit, Exit::NotStarted(_)) => {
            AttemptEnd::Failed {
                kind,
                cause,
                last_line: last_line(&log).ok().flatten(),
            }
        }
        other => other,
    };
    let retry_delay = match &end {
        AttemptEnd::Deferred => exec.backoff.base,
        _ => exec.backoff.delay(claim.failures + 1, fastrand::f64()),
    };
    Turn::Ended(Attempt {
        task_id: claim.task_id.clone(),
        run_id: claim.run_id,
        end,
        exit_code,
        signal,
        duration,
        log: Some(log_text),
        command_pid: pid,
        retry_delay,
    })
}

/// How long a command killed by a stop signal waits for the pool to hear the same signal.
const STOP_SIGNAL_WINDOW: Duration = Duration::from_millis(300);

/// Whether a command that died of SIGTERM, SIGINT or SIGHUP did so because the pool is being
/// stopped: the pool's own stop arrives within a moment of the command's death.
async fn stopped_with_the_pool(ctx: &mut Context, exit: &Exit) -> bool {
    use nix::sys::signal::Signal;
    let stop_signals = [Signal::SIGTERM, Signal::SIGINT, Signal::SIGHUP].map(|s| s as i32);
    if !matches!(exit, Exit::Signal(s) if stop_signals.contains(s)) {
        return false;
    }
    let deadline = tokio::time::Instant::now() + STOP_SIGNAL_WINDOW;
    loop {
        if ctx.control.borrow().stopping {
            return true;
        }
        tokio::select! {
            () = tokio::time::sleep_until(deadline) => return ctx.control.borrow().stopping,
            changed = ctx.control.changed() => {
                if changed.is_err() {
                    return true;
                }
            }
        }
    }
}

/// A signal's name as a person knows it, with its number.
fn signal_name(signal: i32) -> String {
    match nix::sys::signal::Signal::try_from(signal) {
        Ok(s) => format!("{s} ({signal})"),
        Err(_) => signal.to_string(),
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// Sends one request to the writer and waits for its answer.
async fn ask<T>(
    requests: &mpsc::Sender<Request>,
    request: impl FnOnce(oneshot::Sender<Result<T, Failure>>) -> Request,
) -> Result<T, Failure> {
    let (reply, answer) = oneshot::channel();
    requests.send(request(reply)).map_err(|_| writer_gone())?;
    answer.await.map_err(|_| writer_gone())?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_tasks_are_claimed_ahead_only_as_far_as_they_finish_soon() {
        assert_eq!(claims_ahead(Duration::ZERO), MAX_AHEAD);
        assert_eq!(claims_ahead(Duration::from_micros(50)), MAX_AHEAD);
        assert_eq!(claims_ahead(Duration::from_millis(1)), 20);
        assert_eq!(claims_ahead(Duration::from_millis(10)), 2);
        assert_eq!(claims_ahead(Duration::from_millis(20)), 1);
        assert_eq!(claims_ahead(Duration::from_millis(21)), 0);
        assert_eq!(claims_ahead(Duration::from_secs(30)), 0);
    }

    #[test]
    fn a_worker_claims_ahead_only_once_it_has_timed_a_task() {
        let mut pace = Pace::default();
        assert_eq!(pace.ahead(), 0, "nothing timed yet: claim one at a time");
        pace.record(Duration::ZERO);
        assert_eq!(pace.ahead(), MAX_AHEAD);
        // One long task among fast ones pulls the pace down at once, not after many.
        pace.record(Duration::from_secs(1));
        assert_eq!(pace.ahead(), 0);
    }

    #[test]
    fn instant_tasks_refill_when_the_queue_is_empty_and_real_ones_at_half() {
        let mut instant = Pace::default();
        instant.record(Duration::ZERO);
        assert!(!instant.refill_at(128, 64));
        assert!(instant.refill_at(128, 0));
        let mut real = Pace::default();
        real.record(Duration::from_millis(2));
        assert!(!real.refill_at(10, 6));
        assert!(real.refill_at(10, 5));
    }
}
