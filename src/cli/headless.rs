//! The verbs that run the worker pool without a screen: work, race, bench.

use std::io::{self, Write};
use std::path::Path;
use std::time::{Duration, Instant};

use super::failure::Failure;
use super::{BenchArgs, RaceArgs, RunArgs, WorkArgs};
use crate::core::audit::{audit, claims_before_parent_events, claims_before_parent_timestamps};
use crate::core::{Board, BoardError, OpenOptions};
use crate::pool::bench::{self, Workload};
use crate::pool::exec::backoff::Backoff;
use crate::pool::racer::{RaceConfig, RaceMode, Racer};
use crate::pool::stop_signals::StopSignals;
use crate::pool::{Exec, Pool, PoolConfig, PoolStats, Work};
use crate::terminal_text::Escaped;

/// How often a headless run looks at the board for `--exit-when-idle`.
const IDLE_POLL: Duration = Duration::from_millis(100);

fn runtime() -> Result<tokio::runtime::Runtime, Failure> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Failure::System(format!("cannot start the async runtime: {e}")))
}

/// `gateboard work`: runs the pool until Ctrl-C, the duration, or idleness.
pub fn work(
    board: &Board,
    args: &WorkArgs,
    open: &OpenOptions,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let config = pool_config(&args.run, args.workers, open)?;
    let stats = drive(board, config, args.duration, args.exit_when_idle)?.stats;
    let secs = stats.elapsed.as_secs_f64();
    writeln!(
        out,
        "tasks done: {}\nfailed attempts: {}\nclaim_rejected: {}\nreclaimed: {}\nreleased unfinished: {}\ncommits: {}\nelapsed: {:.2}s\ntasks/s: {:.0}",
        stats.completed,
        stats.failed,
        stats.rejected,
        stats.reclaimed,
        stats.released,
        stats.commits,
        secs,
        stats.completed as f64 / secs.max(1e-9)
    )?;
    Ok(())
}

/// How a driven pool ended.
pub(super) struct Drove {
    /// What the pool did.
    pub stats: PoolStats,
    /// Whether a signal (Ctrl-C, SIGTERM, a hang-up) stopped it rather than the board's work
    /// running out or the duration passing.
    pub stopped: bool,
}

/// Runs a pool on the board until a stop signal, the duration, or (with `until_idle`) nothing
/// is left that this pool could run, counting tasks waiting for a retry; then stops it.
pub(super) fn drive(
    board: &Board,
    config: PoolConfig,
    duration: Option<Duration>,
    until_idle: bool,
) -> Result<Drove, Failure> {
    let commands_only = matches!(config.work, Work::Commands(_));
    let prefix = config.key_prefix.clone();
    let rt = runtime()?;
    rt.block_on(async {
        let mut stop = StopSignals::listen()
            .map_err(|e| Failure::System(format!("cannot listen for signals: {e}")))?;
        let pool = Pool::start(board.path(), config)?;
        // A duration past what the clock can count means no deadline at all.
        let deadline = duration.and_then(|d| Instant::now().checked_add(d));
        let mut stopped = false;
        // Idleness is checked before the first wait and after every commit: a run on an empty
        // board ends at once, a drain as soon as its last commit leaves nothing to do.
        loop {
            if pool.failure().is_some() || deadline.is_some_and(|d| Instant::now() >= d) {
                break;
            }
            if until_idle && board.read(|r| r.is_idle_for(commands_only, prefix.as_deref()))? {
                break;
            }
            tokio::select! {
                () = stop.received() => {
                    stopped = true;
                    break;
                }
                () = pool.committed() => {}
                () = tokio::time::sleep(IDLE_POLL) => {}
            }
        }
        let failure = pool.failure();
        let trouble = pool.trouble();
        let stats = pool.stop().await;
        match (failure, trouble) {
            (Some(why), _) => Err(Failure::System(format!(
                "{why}; {} tasks done before that, and the claims it held return to the queue \
                 once their TTL passes",
                stats.completed
            ))),
            // Stopped while writes were failing: not a clean run, whatever the count says.
            (None, Some(trouble)) => Err(Failure::System(format!(
                "the pool's last writes to the board failed ({trouble}); {} tasks done",
                stats.completed
            ))),
            (None, None) => Ok(Drove { stats, stopped }),
        }
    })
}

/// The pool a `work`, `run` or `tui` command line asks for: real commands unless `--work-ms`.
pub(super) fn pool_config(
    run: &RunArgs,
    workers: usize,
    open: &OpenOptions,
) -> Result<PoolConfig, Failure> {
    let work = match run.work_ms {
        Some(ms) => Work::Simulated(Duration::from_millis(ms.min), Duration::from_millis(ms.max)),
        None => {
            let supervisor = crate::pool::exec::this_program().map_err(|e| {
                Failure::System(format!(
                    "cannot find gateboard's own program to run commands: {e}"
                ))
            })?;
            Work::Commands(Exec {
                backoff: Backoff {
                    base: run.retry_delay,
                    ..Backoff::default()
                },
                ..Exec::new(supervisor)
            })
        }
    };
    Ok(PoolConfig {
        workers,
        work,
        key_prefix: None,
        claim_ttl: Duration::from_secs(run.ttl.max(1)),
        open: open.clone(),
    })
}

/// `gateboard race`: the seed's race against the pool; returns whether the invariant held.
pub fn race(
    path: &Path,
    args: &RaceArgs,
    open: &OpenOptions,
    out: &mut dyn Write,
) -> Result<bool, Failure> {
    let config = RaceConfig {
        rounds: args.rounds,
        mode: if args.buggy {
            RaceMode::BuggyWriter
        } else {
            RaceMode::CreateThenLink
        },
        ..RaceConfig::default()
    };
    let rt = runtime()?;
    let check = Board::open(path, open)?;
    let (report, stats) = rt.block_on(async {
        let pool = Pool::start(
            path,
            PoolConfig {
                workers: args.workers,
                open: open.clone(),
                ..PoolConfig::default()
            },
        )?;
        let racer = Racer::start(path, config, open)?;
        // A duration past what the clock can count means no deadline at all.
        let deadline = Instant::now().checked_add(args.duration);
        let before_deadline = || deadline.is_none_or(|d| Instant::now() < d);
        while !racer.is_finished() && before_deadline() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let report = tokio::task::spawn_blocking(move || racer.stop())
            .await
            .map_err(|e| BoardError::Internal(format!("the race thread failed: {e}")))??;
        // Let the workers drain what the released parents unlocked.
        while before_deadline() && !check.read(|r| r.is_idle())? {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        Ok::<_, BoardError>((report, pool.stop().await))
    })?;
    let violations = check.read(audit)?;
    let seed_audit = check.read(claims_before_parent_timestamps)?;
    let order_audit = check.read(claims_before_parent_events)?;
    let write = |out: &mut dyn Write| -> io::Result<()> {
        writeln!(
            out,
            "mode: {}",
            if args.buggy {
                "buggy writer"
            } else {
                "create-then-link"
            }
        )?;
        writeln!(out, "children created: {}", report.children)?;
        writeln!(
            out,
            "links refused (child already claimed): {}",
            report.links_refused
        )?;
        writeln!(out, "successful claims: {}", stats.claimed)?;
        writeln!(out, "claim_rejected: {}", stats.rejected)?;
        writeln!(out, "violations: {}", violations.len())?;
        writeln!(
            out,
            "event-log audit (seed, timestamps): {} bad",
            seed_audit.len()
        )?;
        writeln!(
            out,
            "event-order audit (event ids): {} bad",
            order_audit.len()
        )?;
        for v in violations.iter().take(10) {
            writeln!(out, "  VIOLATION: {}", Escaped(&v.to_string()))?;
        }
        Ok(())
    };
    write(out)?;
    let held = violations.is_empty() && seed_audit.is_empty() && order_audit.is_empty();
    writeln!(
        out,
        "{}",
        if held {
            "PARENT-GATE INVARIANT HELD UNDER RACE"
        } else {
            "PARENT-GATE INVARIANT BROKEN"
        }
    )?;
    Ok(held)
}

/// `gateboard bench`: both workloads at each pool size, each beside a bare loop measured right
/// before it, so every ratio compares two numbers taken moments apart on a noisy machine.
pub fn bench(dir: &Path, args: &BenchArgs, out: &mut dyn Write) -> Result<(), Failure> {
    let rt = runtime()?;
    // The disk's speed swings from one second to the next, so the bare loop brackets each
    // drain, just before and just after it, in runs about as long as the drain itself.
    let bare_commits = (2 * args.tasks / 5).clamp(400, 2000);
    writeln!(
        out,
        "| workload | workers | tasks/s | bare loop tasks/s | x bare | p50 claim | p99 claim | tasks/commit |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for workload in [Workload::Flat, Workload::Dag] {
        for &workers in &args.workers {
            let before = bench::bare_tasks_per_second(dir, bare_commits)?;
            let row = rt.block_on(bench::drain(dir, workload, args.tasks, workers.max(1)))?;
            let after = bench::bare_tasks_per_second(dir, bare_commits)?;
            let bare = (before * after).sqrt();
            writeln!(
                out,
                "| {} | {} | {:.0} | {:.0} | {:.2} | {:.2} ms | {:.2} ms | {:.1} |",
                row.workload.name(),
                row.workers,
                row.rate(),
                bare,
                row.rate() / bare,
                row.p50.as_secs_f64() * 1e3,
                row.p99.as_secs_f64() * 1e3,
                row.tasks as f64 / row.commits.max(1) as f64
            )?;
            out.flush()?;
        }
    }
    Ok(())
}
