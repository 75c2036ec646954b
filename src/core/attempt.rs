//! A task's command and the end of each attempt at running it: completion, failure with its
//! retries and backoff, a deferral (exit 75), an interruption, a cancel.
//!
//! What Hermes Agent already has a column for lives in that column, meaning what Hermes means
//! by it (`max_runtime_seconds`, `workspace_path`, `max_retries` counting the failures that block,
//! `consecutive_failures`, `last_failure_error`, the run's `outcome`, `error`, `metadata`); the
//! command itself, its environment and the retry time live in `gateboard_commands`.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{OptionalExtension, params};
use serde::Serialize;
use serde_json::json;

use super::error::{BoardError, Result};
use super::gate;
use super::model::{EventKind, Status, TaskCommand, int, text};
use super::ops::{Claimer, Completion, Holder, Txn, check_claim};
use super::query::Reader;

/// The most characters of an error or a result line kept in a row, as Hermes bounds them.
pub const ERROR_CHARS: usize = 500;

/// Why an attempt failed, in Hermes's words.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// It exited non-zero or died of a signal.
    Crashed,
    /// It ran past its timeout and its process group was killed.
    TimedOut,
    /// Its command could not be started (missing folder, missing program).
    SpawnFailed,
}

impl FailureKind {
    /// The word stored as the run's outcome and as the event's kind.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Crashed => "crashed",
            FailureKind::TimedOut => "timed_out",
            FailureKind::SpawnFailed => "spawn_failed",
        }
    }

    fn event(self) -> EventKind {
        match self {
            FailureKind::Crashed => EventKind::Crashed,
            FailureKind::TimedOut => EventKind::TimedOut,
            FailureKind::SpawnFailed => EventKind::SpawnFailed,
        }
    }
}

/// How one attempt ended, as the pool saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptEnd {
    /// Exit 0: the task is done, with this result.
    Succeeded {
        /// The last line of output, bounded.
        result: Option<String>,
    },
    /// Exit 75 (EX_TEMPFAIL): try again after `retry_delay`, without counting a failure.
    Deferred,
    /// Anything else: counted; retried after `retry_delay` while retries remain, else blocked.
    Failed {
        /// Which kind of failure.
        kind: FailureKind,
        /// What a person reads first: "exit 3", "timed out after 5s", "killed by signal 9".
        cause: String,
        /// The last line of output, if there was any.
        last_line: Option<String>,
    },
}

/// One finished attempt, handed to the board by the worker that ran it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attempt {
    /// The task.
    pub task_id: String,
    /// The run its claim opened; only that run may end the task.
    pub run_id: i64,
    /// How it ended.
    pub end: AttemptEnd,
    /// The command's exit code, if it exited.
    pub exit_code: Option<i32>,
    /// The signal that ended it, if one did.
    pub signal: Option<i32>,
    /// How long it ran.
    pub duration: Duration,
    /// Where its output is.
    pub log: Option<String>,
    /// The pid of the command's process group leader.
    pub command_pid: Option<u32>,
    /// How long to hold the task back before the next try (failures and deferrals).
    pub retry_delay: Duration,
}

/// What the board did with an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// The task is done; children it gated were promoted.
    Completed(Completion),
    /// The task waits until `at_ms` (epoch ms) and then runs again.
    Retrying {
        /// Epoch milliseconds of the next try.
        at_ms: i64,
        /// Failed attempts so far (0 for a deferral).
        failures: i64,
    },
    /// The retries are spent: the task is blocked with this reason.
    Blocked {
        /// What the blocked column shows.
        reason: String,
    },
}

/// What ending an attempt needs to know of the run it ends.
struct HeldRun {
    /// Failures in a row before this attempt.
    failures: i64,
}

impl Reader<'_> {
    /// The command of a task, if it has one: what it runs, where, with what environment,
    /// for how long and how many times.
    pub fn command(&self, id: &str) -> Result<Option<TaskCommand>> {
        let row = self
            .conn()
            .prepare_cached(
                "SELECT c.command, c.env, t.workspace_path, t.max_runtime_seconds, t.max_retries \
                 FROM gateboard_commands c JOIN tasks t ON t.id = c.task_id WHERE c.task_id = ?1",
            )?
            .query_row(params![id], |r| command_from_row(r, 0))
            .optional()?;
        Ok(row.flatten())
    }
}

impl<'c> Txn<'c> {
    /// Stores a task's command, folder, environment, timeout and retries.
    pub(super) fn set_command(&self, id: &str, command: &TaskCommand) -> Result<()> {
        if command.command.trim().is_empty() {
            return Err(BoardError::Invalid("a command cannot be blank".into()));
        }
        if !command.cwd.starts_with('/') {
            return Err(BoardError::Invalid(format!(
                "a command's folder must be absolute, not {}",
                command.cwd
            )));
        }
        let timeout = command
            .timeout_secs
            .map(|t| i64::try_from(t).map_err(|_| BoardError::Invalid("timeout too large".into())))
            .transpose()?;
        let env = serde_json::to_string(&command.env)
            .map_err(|e| BoardError::Invalid(format!("cannot store the environment: {e}")))?;
        self.conn()
            .prepare_cached(
                "INSERT INTO gateboard_commands (task_id, command, env) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (task_id) DO UPDATE SET command = excluded.command, env = excluded.env",
            )?
            .execute(params![id, command.command, env])?;
        // Hermes's max_retries counts the failures that block: N retries block on failure N+1.
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET workspace_kind = 'dir', workspace_path = ?2, \
                 max_runtime_seconds = ?3, max_retries = ?4 WHERE id = ?1",
            )?
            .execute(params![
                id,
                command.cwd,
                timeout,
                i64::from(command.retries) + 1
            ])?;
        Ok(())
    }

    /// Changes the command of a task that is not running, finished or archived (a graph file
    /// imported again after a fix).
    pub fn redefine_command(&self, id: &str, command: &TaskCommand) -> Result<()> {
        let task = self.task(id)?;
        if matches!(
            task.status,
            Status::Running | Status::Done | Status::Archived
        ) {
            return Err(BoardError::WrongStatus {
                id: id.to_owned(),
                status: task.status,
                operation: "change the command of",
                expected: "not running and not finished",
            });
        }
        self.set_command(id, command)
    }

    /// The running task `id`, if `claimer` holds its claim and `run_id` is its open run: a
    /// worker whose claim lapsed and was taken over holds the lock name but not the run.
    fn held_run(
        &self,
        id: &str,
        run_id: i64,
        claimer: &Claimer,
        operation: &'static str,
    ) -> Result<HeldRun> {
        // Only what the check and the attempt's end need: the whole task row (its block reason,
        // its command) is not needed for that.
        let row = self
            .conn()
            .prepare_cached(
                "SELECT t.status, t.claim_lock, t.current_run_id, t.consecutive_failures \
                 FROM tasks t WHERE t.id = ?1",
            )?
            // Read leniently, as a task row is: a mistyped column must not stop a completion.
            .query_row(params![id], |r| {
                Ok((
                    Status::parse(&text(r, 0)?.unwrap_or_default()),
                    text(r, 1)?,
                    int(r, 2)?,
                    int(r, 3)?,
                ))
            })
            .optional()?;
        let Some((status, lock, current_run, failures)) = row else {
            return Err(BoardError::UnknownTask(id.to_owned()));
        };
        check_claim(id, &status, lock.as_deref(), &claimer.lock, operation)?;
        if current_run != Some(run_id) {
            return Err(BoardError::NotClaimHolder {
                id: id.to_owned(),
                holder: format!(
                    "run {}",
                    current_run.map_or_else(|| "none".to_owned(), |r| r.to_string())
                ),
                claimer: format!("run {run_id} of {}", claimer.lock),
            });
        }
        Ok(HeldRun {
            failures: failures.unwrap_or(0),
        })
    }

    /// Forgets a pending retry time; writes nothing when there is none.
    pub(super) fn clear_retry(&self, id: &str) -> Result<()> {
        self.statement(
            "UPDATE gateboard_commands SET retry_at_ms = NULL \
             WHERE task_id = ?1 AND retry_at_ms IS NOT NULL",
        )?
        .execute(params![id])?;
        Ok(())
    }

    /// Ends an attempt the way it went: done, retried after a backoff, or blocked with a
    /// reason a person can act on. Only the run the claim opened may end the task, so a worker
    /// whose claim lapsed and was taken over cannot complete or fail what another run holds.
    pub fn finish_attempt(&self, attempt: &Attempt, claimer: &Claimer) -> Result<AttemptOutcome> {
        // Read first only by the ends that need the row's failures: a success, every fast
        // task's end, checks its claim in the update that marks it done.
        let held = || self.held_run(&attempt.task_id, attempt.run_id, claimer, "finish");
        let id = attempt.task_id.as_str();
        let duration_ms = i64::try_from(attempt.duration.as_millis()).unwrap_or(i64::MAX);
        /// How the attempt ended, as its run records it; keys sorted, as a JSON object of
        /// them has always been written.
        #[derive(serde::Serialize)]
        struct Ended<'a> {
            command_pid: Option<u32>,
            duration_ms: i64,
            exit_code: Option<i32>,
            log: Option<&'a str>,
            signal: Option<i32>,
        }
        let ended = Ended {
            command_pid: attempt.command_pid,
            duration_ms,
            exit_code: attempt.exit_code,
            log: attempt.log.as_deref(),
            signal: attempt.signal,
        };
        // Straight from the struct when nothing is added: every completion writes this.
        let metadata = |extra: serde_json::Value| match extra.as_object() {
            Some(extra) if !extra.is_empty() => {
                let mut meta = serde_json::to_value(&ended).unwrap_or_default();
                if let Some(meta) = meta.as_object_mut() {
                    meta.extend(extra.clone());
                }
                meta.to_string()
            }
            _ => serde_json::to_string(&ended).unwrap_or_default(),
        };
        match &attempt.end {
            AttemptEnd::Succeeded { result } => {
                let result = result.as_deref().map(|r| bounded(r, ERROR_CHARS));
                let metadata = metadata(json!({}));
                let mark = |holder| {
                    let run = Some(attempt.run_id);
                    self.mark_done(id, run, result.as_deref(), Some(&metadata), holder)
                };
                let holder = Holder {
                    lock: &claimer.lock,
                    run_id: attempt.run_id,
                };
                let done = match mark(Some(holder))? {
                    Some(done) => done,
                    // Refused, nothing written: the row says why, or, read leniently (a column
                    // of another type), that the claim is held after all.
                    None => {
                        held()?;
                        mark(None)?.ok_or_else(|| {
                            BoardError::Internal(format!("{id} could not be marked done"))
                        })?
                    }
                };
                self.clear_retry(id)?;
                Ok(AttemptOutcome::Completed(done))
            }
            AttemptEnd::Deferred => {
                let task = held()?;
                let at_ms = self.retry_at(attempt.retry_delay);
                self.close_run(
                    attempt.run_id,
                    "deferred",
                    "deferred",
                    Some("exit 75: asked to be tried again later"),
                    &metadata(json!({})),
                )?;
                self.hold_back(id, at_ms)?;
                self.event(
                    id,
                    Some(attempt.run_id),
                    EventKind::Other("deferred".into()),
                    Some(json!({ "exit_code": attempt.exit_code, "retry_at_ms": at_ms })),
                )?;
                Ok(AttemptOutcome::Retrying {
                    at_ms,
                    failures: task.failures,
                })
            }
            AttemptEnd::Failed {
                kind,
                cause,
                last_line,
            } => {
                let task = held()?;
                let failures = task.failures.saturating_add(1);
                let limit = self.failure_limit(id)?;
                let error = bounded(
                    &match last_line {
                        Some(line) => format!("{cause}: {line}"),
                        None => cause.clone(),
                    },
                    ERROR_CHARS,
                );
                self.conn()
                    .prepare_cached(
                        "UPDATE tasks SET consecutive_failures = ?2, last_failure_error = ?3 \
                         WHERE id = ?1",
                    )?
                    .execute(params![id, failures, error])?;
                let payload = json!({
                    "error": error,
                    "failures": failures,
                    "exit_code": attempt.exit_code,
                    "signal": attempt.signal,
                    "log": attempt.log,
                });
                if failures >= limit {
                    let attempts = if failures == 1 {
                        "1 attempt".to_owned()
                    } else {
                        format!("{failures} attempts")
                    };
                    let reason = bounded(
                        &match last_line {
                            Some(line) => format!("{cause} after {attempts}: {line}"),
                            None => format!("{cause} after {attempts}"),
                        },
                        ERROR_CHARS,
                    );
                    self.close_run(
                        attempt.run_id,
                        "gave_up",
                        "gave_up",
                        Some(&error),
                        &metadata(
                            json!({ "trigger_outcome": kind.as_str(), "failures": failures }),
                        ),
                    )?;
                    self.set_error(attempt.run_id, &error)?;
                    self.leave_running(id, &Status::Blocked)?;
                    self.clear_retry(id)?;
                    self.event(id, Some(attempt.run_id), kind.event(), Some(payload))?;
                    self.event(
                        id,
                        Some(attempt.run_id),
                        EventKind::GaveUp,
                        Some(json!({
                            "reason": reason,
                            "error": error,
                            "failures": failures,
                            "effective_limit": limit,
                            "trigger_outcome": kind.as_str(),
                        })),
                    )?;
                    Ok(AttemptOutcome::Blocked { reason })
                } else {
                    let at_ms = self.retry_at(attempt.retry_delay);
                    self.close_run(
                        attempt.run_id,
                        kind.as_str(),
                        kind.as_str(),
                        Some(&error),
                        &metadata(json!({ "failures": failures })),
                    )?;
                    self.set_error(attempt.run_id, &error)?;
                    self.hold_back(id, at_ms)?;
                    let mut payload = payload;
                    if let Some(p) = payload.as_object_mut() {
                        p.insert("retry_at_ms".into(), json!(at_ms));
                    }
                    self.event(id, Some(attempt.run_id), kind.event(), Some(payload))?;
                    Ok(AttemptOutcome::Retrying { at_ms, failures })
                }
            }
        }
    }

    /// Gives a claim back (the pool is stopping, or the task waited behind a slow one): the
    /// run closes as interrupted saying `why`, and the task returns to the queue without
    /// counting a failure.
    pub fn interrupt(&self, id: &str, run_id: i64, claimer: &Claimer, why: &str) -> Result<()> {
        self.held_run(id, run_id, claimer, "release")?;
        self.close_run(
            run_id,
            "released",
            "interrupted",
            Some(why),
            &json!({}).to_string(),
        )?;
        let next = self.leave_running(id, &gate::waiting_status(self, id)?)?;
        self.event(
            id,
            Some(run_id),
            EventKind::Reclaimed,
            Some(json!({ "lock": claimer.lock, "reason": "interrupted", "status": next })),
        )?;
        Ok(())
    }

    /// Stops a running task from any process: its run closes `cancelled`, the task is blocked
    /// with "cancelled by <by>", and the pool running it kills its command when it notices.
    pub fn cancel(&self, id: &str, by: &str) -> Result<()> {
        let task = self.task(id)?;
        if task.status != Status::Running {
            return Err(BoardError::WrongStatus {
                id: id.to_owned(),
                status: task.status,
                operation: "cancel",
                expected: "running",
            });
        }
        let reason = format!("cancelled by {by}");
        if let Some(run) = task.current_run_id {
            self.close_run(run, "cancelled", "cancelled", Some(&reason), "{}")?;
        }
        self.leave_running(id, &Status::Blocked)?;
        self.clear_retry(id)?;
        self.event(
            id,
            task.current_run_id,
            EventKind::Blocked,
            Some(json!({ "reason": reason, "cancelled_by": by })),
        )?;
        Ok(())
    }

    /// Failures that block the task: Hermes's `max_retries`, else one (no retries).
    fn failure_limit(&self, id: &str) -> Result<i64> {
        let limit: Option<i64> = self
            .conn()
            .prepare_cached("SELECT max_retries FROM tasks WHERE id = ?1")?
            .query_row(params![id], |r| r.get(0))?;
        Ok(limit.unwrap_or(1).max(1))
    }

    fn retry_at(&self, delay: Duration) -> i64 {
        self.now_ms()
            .saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX))
    }

    /// Back to the queue, re-gated, not claimable before `at_ms`.
    fn hold_back(&self, id: &str, at_ms: i64) -> Result<()> {
        self.leave_running(id, &gate::waiting_status(self, id)?)?;
        self.conn()
            .prepare_cached("UPDATE gateboard_commands SET retry_at_ms = ?2 WHERE task_id = ?1")?
            .execute(params![id, at_ms])?;
        Ok(())
    }

    /// Clears the claim of a task and gives it `status`: every way out of running.
    pub(super) fn leave_running(&self, id: &str, status: &Status) -> Result<Status> {
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET status = ?2, claim_lock = NULL, claim_expires = NULL, \
                 worker_pid = NULL, current_run_id = NULL WHERE id = ?1",
            )?
            .execute(params![id, status])?;
        Ok(status.clone())
    }

    fn close_run(
        &self,
        run: i64,
        status: &str,
        outcome: &str,
        summary: Option<&str>,
        metadata: &str,
    ) -> Result<()> {
        self.end_run_with(run, status, outcome, summary, Some(metadata))
    }

    fn set_error(&self, run: i64, error: &str) -> Result<()> {
        self.conn()
            .prepare_cached("UPDATE task_runs SET error = ?2 WHERE id = ?1")?
            .execute(params![run, error])?;
        Ok(())
    }
}

/// The log of one run inside a board's logs folder: `<folder>/<task>/<run>.log`.
pub fn log_path(folder: &Path, task: &str, run: i64) -> PathBuf {
    folder.join(task).join(format!("{run}.log"))
}

/// `text` cut to at most `max` characters, marked when cut.
pub fn bounded(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// The command read from five columns starting at `first`: `command`, `env`, `workspace_path`,
/// `max_runtime_seconds`, `max_retries`; None when `command` is NULL (a task without one).
pub(super) fn command_from_row(
    row: &rusqlite::Row<'_>,
    first: usize,
) -> rusqlite::Result<Option<TaskCommand>> {
    // Read leniently: a column another program filled with the wrong type must not stop claims.
    let Some(command) = text(row, first)? else {
        return Ok(None);
    };
    let env = text(row, first + 1)?;
    let cwd = text(row, first + 2)?;
    let timeout = int(row, first + 3)?;
    let max_retries = int(row, first + 4)?;
    Ok(Some(TaskCommand {
        command,
        // Stored by us as a JSON list of pairs; anything else another program wrote is no env.
        env: env
            .and_then(|e| serde_json::from_str(&e).ok())
            .unwrap_or_default(),
        cwd: cwd.unwrap_or_else(|| "/".into()),
        timeout_secs: timeout
            .and_then(|t| u64::try_from(t).ok())
            .filter(|&t| t > 0),
        retries: max_retries
            .and_then(|m| u32::try_from(m.saturating_sub(1)).ok())
            .unwrap_or(0),
    }))
}
