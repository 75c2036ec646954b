//! One worker's loop: ask the writer for a claim, run the task, hand it back completed.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use tokio::sync::{oneshot, watch};
use tokio::time::sleep;

use super::writer::{Failure, Request, StepReply};
use super::{Control, PoolEvent, Shared, WorkerState};
use crate::core::BoardError;
use crate::core::ops::{Claim, Claimer};

/// How long an idle worker waits before looking again when nobody rang.
const IDLE_RECHECK: Duration = Duration::from_millis(250);
/// How long a worker waits after a failed write before trying again.
const TROUBLE_BACKOFF: Duration = Duration::from_millis(500);

/// Everything one worker needs.
pub(crate) struct Context {
    pub id: usize,
    pub lock: String,
    pub shared: Arc<Shared>,
    pub control: watch::Receiver<Control>,
    pub requests: mpsc::Sender<Request>,
    pub work_time: (Duration, Duration),
    pub claim_ttl: Duration,
}

/// How a simulated task ended.
enum Work {
    Finished,
    /// The pool is stopping: give the claim back.
    Stopped,
    /// The claim was lost while working (blocked by a person, or expired).
    Lost(String),
}

pub(crate) async fn run(mut ctx: Context) {
    let claimer = Claimer {
        lock: ctx.lock.clone(),
        ttl: ctx.claim_ttl,
    };
    let mut finished: Option<String> = None;
    loop {
        let control = *ctx.control.borrow_and_update();
        let retiring = control.stopping || ctx.id >= control.target;
        let claim_next = !retiring && !control.paused;
        if finished.is_none() && !claim_next {
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
        let asked = Instant::now();
        let step = ask(&ctx, |reply| Request::Step {
            worker: ctx.id,
            claimer: claimer.clone(),
            finished: finished.clone(),
            claim_next,
            reply,
        })
        .await;
        let StepReply { completed, claim } = match step {
            Ok(step) => step,
            Err(_) => {
                // The whole write failed (already published); keep the finished task and retry.
                sleep(TROUBLE_BACKOFF).await;
                continue;
            }
        };
        if let (Some(task), Some(Err(e))) = (finished.take(), completed) {
            ctx.shared.publish(PoolEvent::LostClaim {
                worker: ctx.id,
                task,
                reason: e.to_string(),
            });
        }
        match claim {
            Some(claim) => {
                ctx.shared.record_latency(asked.elapsed());
                finished = work_on(&mut ctx, &claimer, claim).await;
            }
            None if claim_next => {
                ctx.shared.set_state(ctx.id, WorkerState::Idle);
                let wake = ctx.shared.work_available.notified();
                tokio::select! {
                    _ = wake => {}
                    _ = sleep(IDLE_RECHECK) => {}
                    _ = ctx.control.changed() => {}
                }
            }
            None => {}
        }
    }
}

/// Runs one claimed task; returns its id if it should be completed on the next step.
async fn work_on(ctx: &mut Context, claimer: &Claimer, claim: Claim) -> Option<String> {
    let task = claim.task_id;
    ctx.shared
        .set_state(ctx.id, WorkerState::Working { task: task.clone() });
    match simulate(ctx, claimer, &task).await {
        Work::Finished => Some(task),
        Work::Stopped => {
            let released = ask(ctx, |reply| Request::Release {
                worker: ctx.id,
                task: task.clone(),
                claimer: claimer.clone(),
                reply,
            })
            .await;
            if let Err(e) = released {
                ctx.shared.publish(PoolEvent::LostClaim {
                    worker: ctx.id,
                    task,
                    reason: format!("could not release: {e}"),
                });
            }
            None
        }
        Work::Lost(reason) => {
            ctx.shared.publish(PoolEvent::LostClaim {
                worker: ctx.id,
                task,
                reason,
            });
            None
        }
    }
}

/// Sleeps the simulated work time, renewing the claim every third of its TTL, and stops early
/// only when the pool stops (a pause or a shrink lets the task finish).
async fn simulate(ctx: &mut Context, claimer: &Claimer, task: &str) -> Work {
    let (low, high) = ctx.work_time;
    let span = high.saturating_sub(low).as_micros() as u64;
    let work = low
        + Duration::from_micros(if span == 0 {
            0
        } else {
            fastrand::u64(0..=span)
        });
    if work.is_zero() {
        return Work::Finished;
    }
    let deadline = tokio::time::Instant::now() + work;
    let renew_every = (ctx.claim_ttl / 3).max(Duration::from_millis(200));
    let mut renew_at = tokio::time::Instant::now() + renew_every;
    loop {
        if ctx.control.borrow().stopping {
            return Work::Stopped;
        }
        let wake_at = deadline.min(renew_at);
        tokio::select! {
            _ = tokio::time::sleep_until(wake_at) => {
                if tokio::time::Instant::now() >= deadline {
                    return Work::Finished;
                }
                renew_at += renew_every;
                let renewed = ask(ctx, |reply| Request::Heartbeat {
                    task: task.to_owned(),
                    claimer: claimer.clone(),
                    reply,
                })
                .await;
                // A locked board is passing trouble; any refusal means the claim is gone.
                if let Err(e) = renewed
                    && !matches!(*e, BoardError::Locked { .. } | BoardError::Sqlite(_))
                {
                    return Work::Lost(e.to_string());
                }
            }
            changed = ctx.control.changed() => {
                if changed.is_err() {
                    return Work::Stopped;
                }
            }
        }
    }
}

/// Sends one request to the writer and waits for its answer.
async fn ask<T>(
    ctx: &Context,
    request: impl FnOnce(oneshot::Sender<Result<T, Failure>>) -> Request,
) -> Result<T, Failure> {
    let (reply, answer) = oneshot::channel();
    let gone = || Arc::new(BoardError::Internal("the pool's writer has stopped".into()));
    ctx.requests.send(request(reply)).map_err(|_| gone())?;
    answer.await.map_err(|_| gone())?
}
