//! What a claim reads about a task it may take: a ready row of the queue, or a child freed
//! earlier in the same transaction and held there until a claim takes it or the transaction
//! settles it as `ready`.
//!
//! A pool's batch completes a layer of a graph and claims the next in one transaction. Writing
//! each freed child `ready`, only to read it back as a candidate and write it `running` a
//! moment later, changed the row and its three status indexes once more than the board ever
//! shows: a sixth of a graph task's instructions (callgrind).

use std::cmp::Reverse;

use super::gate;
use super::model::{TaskCommand, int, text};
use super::ops::ClaimScope;

/// The columns a candidate is read from, in `Candidate::from_row`'s order; the claim query
/// and the freed-children query both start with these.
macro_rules! candidate_columns {
    () => {
        "t.id, t.current_run_id, t.assignee, t.max_runtime_seconds, t.consecutive_failures, \
         c.command, c.env, t.workspace_path, t.max_runtime_seconds, t.max_retries, t.rowid, \
         t.priority, t.created_at"
    };
}
pub(super) use candidate_columns;

/// The `todo` children of `?1`, just finished by the caller, whose every other parent is
/// finished too: what finishing `?1` frees, in one query rather than a parent check per
/// waiting child (every DAG completion asks this), and only the children's other parents are
/// read. Each is read as a candidate, with its rowid (moving it needs no second look-up by
/// id) and what a claim scope filters on after it: whether a command is stored, its retry
/// time, the idempotency key.
pub(super) const FREED_CANDIDATES: &str = concat!(
    "SELECT ",
    candidate_columns!(),
    ", c.task_id IS NOT NULL, c.retry_at_ms, t.idempotency_key ",
    "FROM task_links l JOIN tasks t ON t.id = l.child_id ",
    "LEFT JOIN gateboard_commands c ON c.task_id = t.id ",
    "WHERE l.parent_id = ?1 AND t.status = 'todo' AND NOT ",
    gate::has_unfinished_parent!("l.child_id", besides "?1"),
    " ORDER BY l.child_id"
);

/// A task's place in claim order: the highest priority first, then the oldest, then the first
/// row, as the claim query's `ORDER BY t.priority DESC, t.created_at, t.rowid` sorts
/// (SQLite's NULL is below every number, so a task without a priority comes last).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(super) struct ClaimOrder(Reverse<Option<i64>>, Option<i64>, i64);

impl ClaimOrder {
    pub fn new(priority: Option<i64>, created_at: Option<i64>, rowid: i64) -> ClaimOrder {
        ClaimOrder(Reverse(priority), created_at, rowid)
    }
}

/// A task a claim may take, as read inside the claiming transaction.
#[derive(Clone, Debug)]
pub(super) struct Candidate {
    pub id: String,
    /// Where the row is, valid within the claiming transaction: the grant updates it by rowid,
    /// skipping a second look-up by id.
    pub rowid: i64,
    pub current_run_id: Option<i64>,
    pub assignee: Option<String>,
    pub timeout_secs: Option<i64>,
    pub failures: i64,
    pub command: Option<TaskCommand>,
    pub order: ClaimOrder,
}

impl Candidate {
    /// Reads the columns of `candidate_columns!`.
    pub fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Candidate> {
        let rowid = row.get(10)?;
        Ok(Candidate {
            id: text(row, 0)?.unwrap_or_default(),
            rowid,
            current_run_id: int(row, 1)?,
            assignee: text(row, 2)?,
            timeout_secs: int(row, 3)?,
            failures: int(row, 4)?.unwrap_or(0),
            command: super::attempt::command_from_row(row, 5)?,
            order: ClaimOrder::new(int(row, 11)?, int(row, 12)?, rowid),
        })
    }
}

/// A child freed in this transaction and not yet written `ready`: its promotion event is
/// written, and it is claimable by any claim of the transaction whose scope it is in.
#[derive(Clone, Debug)]
pub(super) struct Freed {
    pub candidate: Candidate,
    pub facts: ScopeFacts,
}

/// What a claim scope asks of a task beyond being ready: whether a command is stored, its
/// retry time, the idempotency key.
#[derive(Clone, Debug)]
pub(super) struct ScopeFacts {
    has_command: bool,
    retry_at_ms: Option<i64>,
    key: Option<String>,
}

impl Freed {
    /// Reads a row of `FREED_CANDIDATES`.
    pub fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Freed> {
        Ok(Freed {
            candidate: Candidate::from_row(row)?,
            facts: ScopeFacts {
                has_command: row.get(13)?,
                retry_at_ms: int(row, 14)?,
                key: text(row, 15)?,
            },
        })
    }
}

impl ScopeFacts {
    /// Whether a claim in `scope` at `now_ms` may take the task: what the claim query asks of
    /// a ready row.
    pub fn claimable_in(&self, scope: &ClaimScope, now_ms: i64) -> bool {
        (!scope.commands_only || self.has_command)
            && self.retry_at_ms.is_none_or(|at| at <= now_ms)
            && scope.key_prefix.as_deref().is_none_or(|prefix| {
                self.key
                    .as_deref()
                    .is_some_and(|key| key.starts_with(prefix))
            })
    }
}
