//! Every state change of a board, each run inside the caller's write transaction and each
//! writing its event rows, so an operation and its record commit together or not at all.

use std::cell::RefCell;
use std::ops::Deref;
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::json;

use super::audit::LINK_AFTER_CLAIM;
use super::candidate::{
    Candidate, ClaimOrder, FREED_CANDIDATES, Freed, ScopeFacts, candidate_columns,
};
use super::error::{BoardError, Result, StartedChild};
use super::gate;
use super::model::{EventKind, NewTask, Status, Task, TaskCommand};
use super::query::{Keyed, Reader};
use super::task_ids;

/// A write transaction in progress; reads see its own writes.
pub struct Txn<'c> {
    reader: Reader<'c>,
    now_ms: i64,
    /// Children freed in this transaction and not yet written `ready`, once a caller asked
    /// for that (`defer_promotions`): a claim of the same transaction takes them straight
    /// from `todo`, and the rest are written `ready` before it commits.
    freed: RefCell<Option<Vec<Freed>>>,
}

impl<'c> Deref for Txn<'c> {
    type Target = Reader<'c>;
    fn deref(&self) -> &Reader<'c> {
        &self.reader
    }
}

/// Who claims a task, and how long the claim lasts without a heartbeat.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claimer {
    /// Stored in `claim_lock`; only its holder may complete or renew the claim.
    pub lock: String,
    /// How long a claim lives without a heartbeat.
    pub ttl: Duration,
}

/// The claim a write is conditional on: its lock, and the run it opened.
pub(super) struct Holder<'a> {
    pub lock: &'a str,
    pub run_id: i64,
}

/// A claim that was granted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    /// The claimed task.
    pub task_id: String,
    /// The run opened for this attempt.
    pub run_id: i64,
    /// Epoch seconds when the claim lapses unless renewed.
    pub expires: i64,
    /// What to run, read in the claiming transaction; None for a task without a command.
    pub command: Option<TaskCommand>,
    /// Failed attempts in a row before this one, so the pool can size the next backoff.
    pub failures: i64,
}

/// Which ready tasks a claimer may take.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimScope {
    /// Only tasks with a command: a pool that runs commands must not claim cards it cannot run.
    pub commands_only: bool,
    /// Only tasks whose `idempotency_key` starts with this (the tasks of one graph file).
    pub key_prefix: Option<String>,
    /// Recorded as `worker_pid` on the task and its run, so a watcher can tell a live worker.
    pub worker_pid: Option<u32>,
    /// The folder of the board's logs, when the claimer runs commands: the run records where
    /// its output goes from the start, so any process can follow it while it runs.
    pub logs: Option<std::path::PathBuf>,
}

/// What the gate decided about one claim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ClaimOutcome {
    /// The task is now running under the claim.
    Claimed(Claim),
    /// A parent was unfinished: the task went back to `todo` and `claim_rejected` was written.
    Rejected {
        /// The parents that closed the gate.
        unfinished: Vec<(String, Status)>,
    },
}

/// What one claim-next did: at most one claim, after any number of rejections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimNext {
    /// The granted claim, or None when nothing claimable was left.
    pub claim: Option<Claim>,
    /// Ready tasks the gate refused and demoted on the way.
    pub rejected: Vec<String>,
}

/// What one look at the queue claimed, after any number of rejections.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClaimBatch {
    /// The granted claims, in claim order.
    pub claims: Vec<Claim>,
    /// Ready tasks the gate refused and demoted on the way.
    pub rejected: Vec<String>,
}

/// What a completion (or an archive) set in motion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The run it closed, if one was open.
    pub run_id: Option<i64>,
    /// Children that became ready because this was their last unfinished parent.
    pub promoted: Vec<String>,
}

/// What an unarchive did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unarchived {
    /// Where the task went back to: `ready` if every parent is finished, else `todo`.
    pub status: Status,
    /// Ready children sent back to `todo`, since their parent is unfinished again.
    pub demoted: Vec<String>,
}

/// Whether a task in `status` under `claim_lock` is running under `lock`: the check before
/// anything only the claim holder may do.
pub(super) fn check_claim(
    id: &str,
    status: &Status,
    claim_lock: Option<&str>,
    lock: &str,
    operation: &'static str,
) -> Result<()> {
    if *status != Status::Running {
        return Err(BoardError::WrongStatus {
            id: id.to_owned(),
            status: status.clone(),
            operation,
            expected: "running",
        });
    }
    match claim_lock {
        Some(holder) if holder == lock => Ok(()),
        holder => Err(BoardError::NotClaimHolder {
            id: id.to_owned(),
            holder: holder.unwrap_or("nobody").to_owned(),
            claimer: lock.to_owned(),
        }),
    }
}

/// One task of a graph created at once; parents name other keys of the graph or existing ids.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphNode {
    /// A name unique within the graph.
    pub key: String,
    /// The task; its `parents` are keys of this graph or ids already on the board.
    pub task: NewTask,
}

impl<'c> Txn<'c> {
    pub(in crate::core) fn new(conn: &'c Connection, now_ms: i64) -> Self {
        Txn {
            reader: Reader::new(conn),
            now_ms,
            freed: RefCell::new(None),
        }
    }

    /// From here on, a child this transaction frees is held for its claims instead of being
    /// written `ready` at once (its `promoted` event is written at once all the same). For a
    /// pool's batch, whose completions free the children its claims take next. Until
    /// `settle_promotions`, a held child reads as `todo` to everything but a claim.
    pub fn defer_promotions(&self) {
        let mut freed = self.freed.borrow_mut();
        if freed.is_none() {
            *freed = Some(Vec::new());
        }
    }

    /// Writes `ready` every child held since `defer_promotions` that no claim took, and
    /// promotes at once again; the transaction settles itself so before it commits.
    pub fn settle_promotions(&self) -> Result<()> {
        let Some(freed) = self.freed.borrow_mut().take() else {
            return Ok(());
        };
        for child in freed {
            self.mark_ready(child.candidate.rowid)?;
        }
        Ok(())
    }

    /// Runs `f` under a savepoint: if it fails, its writes are undone and the rest of the
    /// transaction goes on. Lets one commit carry many independent operations (group commit).
    pub fn isolated<T>(&self, f: impl FnOnce(&Txn<'c>) -> Result<T>) -> Result<T> {
        let run = |sql: &str| -> Result<()> {
            self.conn().prepare_cached(sql)?.execute([])?;
            Ok(())
        };
        run("SAVEPOINT gateboard_op")?;
        // The held children are part of what a rollback undoes.
        let freed = self.freed.borrow().clone();
        match f(self) {
            Ok(value) => {
                run("RELEASE gateboard_op")?;
                Ok(value)
            }
            Err(e) => {
                *self.freed.borrow_mut() = freed;
                run("ROLLBACK TO gateboard_op")?;
                run("RELEASE gateboard_op")?;
                Err(e)
            }
        }
    }

    /// Writes what a writer without the gate would: the task marked `ready` whatever its
    /// parents. Only the race demo's buggy mode calls this, so the claim gate can be seen firing.
    pub fn mark_ready_ignoring_parents(&self, id: &str) -> Result<bool> {
        self.set_status(id, &Status::Todo, &Status::Ready)
    }

    /// The transaction's clock, epoch seconds.
    pub fn now(&self) -> i64 {
        self.now_ms.div_euclid(1000)
    }

    /// The transaction's clock, epoch milliseconds: for backoffs shorter than a second.
    pub fn now_ms(&self) -> i64 {
        self.now_ms
    }

    /// Appends one event row and returns its id, the cursor live views follow.
    pub(super) fn event(
        &self,
        task: &str,
        run_id: Option<i64>,
        kind: EventKind,
        payload: Option<serde_json::Value>,
    ) -> Result<()> {
        self.event_json(task, run_id, kind, payload.map(|p| p.to_string()))
    }

    /// `event`, with a payload serialized straight from a typed value: the events every task
    /// writes (claimed, completed) skip building a JSON tree first, a tenth of the pool's time.
    pub(super) fn event_with(
        &self,
        task: &str,
        run_id: Option<i64>,
        kind: EventKind,
        payload: &impl serde::Serialize,
    ) -> Result<()> {
        let payload = serde_json::to_string(payload)
            .map_err(|e| BoardError::Internal(format!("cannot write an event's payload: {e}")))?;
        self.event_json(task, run_id, kind, Some(payload))
    }

    fn event_json(
        &self,
        task: &str,
        run_id: Option<i64>,
        kind: EventKind,
        payload: Option<String>,
    ) -> Result<()> {
        self.statement(
            "INSERT INTO task_events (task_id, run_id, kind, payload, created_at) \
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![task, run_id, kind.as_str(), payload, self.now()])?;
        Ok(())
    }

    /// Creates a task and its parent links; it starts `ready` only if every parent is finished.
    pub fn create(&self, new: &NewTask) -> Result<String> {
        let title = new.title.trim();
        if title.is_empty() {
            return Err(BoardError::Invalid("a task needs a non-blank title".into()));
        }
        let mut parents: Vec<&str> = Vec::with_capacity(new.parents.len());
        for parent in &new.parents {
            if !parents.contains(&parent.as_str()) {
                parents.push(parent);
            }
        }
        let mut all_finished = true;
        for parent in &parents {
            all_finished &= self.task(parent)?.status.is_finished();
        }
        let status = if all_finished {
            Status::Ready
        } else {
            Status::Todo
        };
        let id = task_ids::next_task_id(self)?;
        self.conn()
            .prepare_cached(
                "INSERT INTO tasks (id, title, body, assignee, status, priority, created_by, created_at, \
                 idempotency_key) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(params![
                id,
                title,
                new.body,
                new.assignee,
                status,
                new.priority,
                new.created_by,
                self.now(),
                new.key,
            ])?;
        if let Some(command) = &new.command {
            self.set_command(&id, command)?;
        }
        let mut link = self
            .conn()
            .prepare_cached("INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2)")?;
        for parent in &parents {
            link.execute(params![parent, id])?;
        }
        self.event(
            &id,
            None,
            EventKind::Created,
            Some(json!({ "status": status, "parents": parents, "assignee": new.assignee })),
        )?;
        Ok(id)
    }

    /// Creates a whole graph of tasks and edges at once; returns the new ids in the order given.
    pub fn create_graph(&self, nodes: &[GraphNode]) -> Result<Vec<String>> {
        let imported = self.import_graph(nodes)?;
        Ok(imported.into_iter().map(|t| t.id).collect())
    }

    /// Adds `parent` as a parent of `child`; returns false when the link already existed.
    ///
    /// Refusing a running or finished child closes the create-then-link race: either the link
    /// lands first and the child waits, or the claim lands first and the link is refused.
    pub fn link(&self, parent: &str, child: &str) -> Result<bool> {
        if parent == child {
            return Err(BoardError::SelfLink(parent.to_owned()));
        }
        let parent_task = self.task(parent)?;
        let child_task = self.task(child)?;
        if self.is_linked(parent, child)? {
            return Ok(false);
        }
        if matches!(
            child_task.status,
            Status::Running | Status::Done | Status::Archived
        ) {
            return Err(BoardError::ChildStarted {
                child: child.to_owned(),
                status: child_task.status,
            });
        }
        if self.descends_from(parent, child)? {
            return Err(BoardError::Cycle {
                parent: parent.to_owned(),
                child: child.to_owned(),
            });
        }
        self.conn()
            .prepare_cached("INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2)")?
            .execute(params![parent, child])?;
        let demoted = !parent_task.status.is_finished() && child_task.status == Status::Ready;
        if demoted {
            self.set_status(child, &Status::Ready, &Status::Todo)?;
        }
        self.event(
            child,
            None,
            EventKind::Linked,
            Some(json!({ "parent": parent, "child": child, "demoted": demoted })),
        )?;
        Ok(true)
    }

    fn is_linked(&self, parent: &str, child: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("SELECT 1 FROM task_links WHERE parent_id = ?1 AND child_id = ?2")?
            .query_row(params![parent, child], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Whether `node` is reachable downwards from `ancestor`.
    fn descends_from(&self, node: &str, ancestor: &str) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached(
                "WITH RECURSIVE below(id) AS ( \
                   SELECT child_id FROM task_links WHERE parent_id = ?1 \
                   UNION SELECT l.child_id FROM task_links l JOIN below b ON l.parent_id = b.id) \
                 SELECT 1 FROM below WHERE id = ?2 LIMIT 1",
            )?
            .query_row(params![ancestor, node], |_| Ok(()))
            .optional()?
            .is_some())
    }

    /// Removes a link and re-gates the child, which may now be ready.
    ///
    /// The parent row may be gone (another program deleted it): the gate counts a missing
    /// parent as unfinished, so such a dangling link would hold its child back for good, and
    /// unlinking is the way to release it. Only when neither the link nor the parent exists
    /// is the parent an unknown task.
    pub fn unlink(&self, parent: &str, child: &str) -> Result<()> {
        let parent_missing = self.find_task(parent)?.is_none();
        if parent_missing && !self.is_linked(parent, child)? {
            return Err(BoardError::UnknownTask(parent.to_owned()));
        }
        self.task(child)?;
        let removed = self
            .conn()
            .prepare_cached("DELETE FROM task_links WHERE parent_id = ?1 AND child_id = ?2")?
            .execute(params![parent, child])?;
        if removed == 0 {
            return Err(BoardError::Invalid(format!(
                "{parent} is not a parent of {child}"
            )));
        }
        let mut payload = json!({ "parent": parent, "child": child });
        if parent_missing {
            payload["parent_missing"] = json!(true);
        }
        self.event(child, None, EventKind::Unlinked, Some(payload))?;
        self.promote_if_ready(child)?;
        Ok(())
    }

    /// Moves a `todo` task to `ready` when its parents are all finished; returns whether it moved.
    fn promote_if_ready(&self, id: &str) -> Result<bool> {
        if !gate::parents_finished(self, id)? {
            return Ok(false);
        }
        let moved = self.set_status(id, &Status::Todo, &Status::Ready)?;
        if moved {
            self.event(id, None, EventKind::Promoted, None)?;
        }
        Ok(moved)
    }

    /// Promotes every waiting child of `parent` whose last unfinished parent it was. While
    /// promotions are deferred, each is held for the transaction's claims instead of being
    /// written `ready`; its `promoted` event is written now all the same, so the events keep
    /// their order (the parent's completion, the child's promotion, its claim).
    fn promote_children(&self, parent: &str) -> Result<Vec<String>> {
        let freed: Vec<Freed> = self
            .statement(FREED_CANDIDATES)?
            .query_map(params![parent], Freed::from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let mut promoted = Vec::with_capacity(freed.len());
        for child in freed {
            let deferred = self.freed.borrow().is_some();
            if !deferred && !self.mark_ready(child.candidate.rowid)? {
                continue;
            }
            self.event(&child.candidate.id, None, EventKind::Promoted, None)?;
            promoted.push(child.candidate.id.clone());
            if let Some(held) = self.freed.borrow_mut().as_mut() {
                held.push(child);
            }
        }
        Ok(promoted)
    }

    /// Moves a freed `todo` child to `ready` by the rowid the freeing query read, not by id:
    /// every DAG completion passes here. (One update returning the ids cost more: SQLite keeps
    /// returned rows in a temporary table, a fifth more instructions for the whole pool.)
    fn mark_ready(&self, rowid: i64) -> Result<bool> {
        Ok(self
            .statement("UPDATE tasks SET status = 'ready' WHERE rowid = ?1 AND status = 'todo'")?
            .execute(params![rowid])?
            == 1)
    }

    /// Compare-and-set of a status; returns whether the task was in `from`.
    fn set_status(&self, id: &str, from: &Status, to: &Status) -> Result<bool> {
        Ok(self
            .conn()
            .prepare_cached("UPDATE tasks SET status = ?3 WHERE id = ?1 AND status = ?2")?
            .execute(params![id, from, to])?
            == 1)
    }

    /// The gate: claims a ready task only if every parent is finished, re-checked right here
    /// inside the claim's own transaction; otherwise demotes it and records `claim_rejected`.
    pub fn claim(&self, id: &str, claimer: &Claimer) -> Result<ClaimOutcome> {
        let Some(Keyed { rowid, task }) = self.keyed_tasks_by_ids(&[id.to_owned()])?.pop() else {
            return Err(BoardError::UnknownTask(id.to_owned()));
        };
        if task.status != Status::Ready || task.claim_lock.is_some() {
            return Err(BoardError::WrongStatus {
                id: id.to_owned(),
                status: task.status,
                operation: "claim",
                expected: "ready and unclaimed",
            });
        }
        let candidate = Candidate {
            command: self.command(id)?,
            order: ClaimOrder::new(task.priority, Some(task.created_at), rowid),
            id: task.id,
            rowid,
            current_run_id: task.current_run_id,
            assignee: task.assignee,
            timeout_secs: task.timeout_secs,
            failures: task.failures,
        };
        self.gate_and_claim(&candidate, claimer, &ClaimScope::default())
    }

    /// The gate itself, for a task just read as ready and unclaimed in this transaction.
    fn gate_and_claim(
        &self,
        task: &Candidate,
        claimer: &Claimer,
        scope: &ClaimScope,
    ) -> Result<ClaimOutcome> {
        let unfinished = gate::unfinished_parents(self, &task.id)?;
        if !unfinished.is_empty() {
            self.reject_claim(&task.id)?;
            return Ok(ClaimOutcome::Rejected { unfinished });
        }
        self.grant_claim(task, &Status::Ready, claimer, scope)
            .map(ClaimOutcome::Claimed)
    }

    /// Demotes every ready task whose parents are not all finished, each with its
    /// `claim_rejected` event, as the gate would at its claim: the pool calls this about every
    /// second, so such a row never sits in the ready column while workers are busy elsewhere.
    pub fn demote_gated_ready(&self) -> Result<Vec<String>> {
        let gated: Vec<String> = self
            .conn()
            .prepare_cached(concat!(gate::gated_ready!(), " ORDER BY t.id"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for id in &gated {
            self.reject_claim(id)?;
        }
        Ok(gated)
    }

    fn reject_claim(&self, id: &str) -> Result<()> {
        self.set_status(id, &Status::Ready, &Status::Todo)?;
        self.event(
            id,
            None,
            EventKind::ClaimRejected,
            Some(json!({ "reason": "parents_not_done" })),
        )?;
        Ok(())
    }

    /// Writes the claim of `task`, found in `from` (`ready`, or `todo` for a child this
    /// transaction freed and held) and unclaimed, and gated by the caller.
    fn grant_claim(
        &self,
        task: &Candidate,
        from: &Status,
        claimer: &Claimer,
        scope: &ClaimScope,
    ) -> Result<Claim> {
        let ttl = i64::try_from(claimer.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let expires = self.now().saturating_add(ttl);
        if let Some(stale) = task.current_run_id {
            self.end_run(
                stale,
                "reclaimed",
                "reclaimed",
                Some("left open before a new claim"),
            )?;
        }
        self.statement(
            "INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, \
             last_heartbeat_at, started_at, worker_pid, max_runtime_seconds) \
             VALUES (?1, ?2, 'running', ?3, ?4, ?5, ?5, ?6, ?7)",
        )?
        .execute(params![
            task.id,
            task.assignee,
            claimer.lock,
            expires,
            self.now(),
            scope.worker_pid,
            task.timeout_secs,
        ])?;
        let run_id = self.conn().last_insert_rowid();
        if let Some(folder) = &scope.logs {
            let log = super::attempt::log_path(folder, &task.id, run_id);
            self.conn()
                .prepare_cached("UPDATE task_runs SET metadata = ?2 WHERE id = ?1")?
                .execute(params![
                    run_id,
                    json!({ "log": log.to_string_lossy() }).to_string()
                ])?;
        }
        // The run first, so the task takes its claim and its run in one update; should the
        // swap fail, the caller's savepoint or transaction takes the run back too.
        let swapped = self
            .statement(
                "UPDATE tasks SET status = 'running', claim_lock = ?2, claim_expires = ?3, \
                 started_at = COALESCE(started_at, ?4), last_heartbeat_at = ?4, worker_pid = ?5, \
                 current_run_id = ?6 WHERE rowid = ?1 AND status = ?7 AND claim_lock IS NULL",
            )?
            .execute(params![
                task.rowid,
                claimer.lock,
                expires,
                self.now(),
                scope.worker_pid,
                run_id,
                from
            ])?;
        if swapped != 1 {
            return Err(BoardError::WrongStatus {
                id: task.id.clone(),
                status: self.task(&task.id)?.status,
                operation: "claim",
                expected: "ready and unclaimed",
            });
        }
        /// Keys in the order a JSON object of them has always been written: sorted.
        #[derive(serde::Serialize)]
        struct Claimed<'a> {
            expires: i64,
            lock: &'a str,
            run_id: i64,
        }
        self.event_with(
            &task.id,
            Some(run_id),
            EventKind::Claimed,
            &Claimed {
                expires,
                lock: &claimer.lock,
                run_id,
            },
        )?;
        Ok(Claim {
            task_id: task.id.clone(),
            run_id,
            expires,
            command: task.command.clone(),
            failures: task.failures,
        })
    }

    /// Claims the highest-priority, oldest claimable task, gating each candidate in turn.
    pub fn claim_next(&self, claimer: &Claimer) -> Result<ClaimNext> {
        self.claim_next_in(claimer, &ClaimScope::default())
    }

    /// `claim_next` among the tasks of `scope` only. A task waiting out a retry backoff is
    /// not claimable until it has passed.
    pub fn claim_next_in(&self, claimer: &Claimer, scope: &ClaimScope) -> Result<ClaimNext> {
        let mut batch = self.claim_up_to(claimer, scope, 1)?;
        Ok(ClaimNext {
            claim: batch.claims.pop(),
            rejected: batch.rejected,
        })
    }

    /// Up to `want` claims among the tasks of `scope`, in claim order, each gated on its own:
    /// a worker that claims ahead gets its tasks from one look at the queue.
    pub fn claim_up_to(
        &self,
        claimer: &Claimer,
        scope: &ClaimScope,
        want: usize,
    ) -> Result<ClaimBatch> {
        let mut batch = ClaimBatch::default();
        let commands = if scope.commands_only {
            "AND c.task_id IS NOT NULL"
        } else {
            ""
        };
        let keyed = if scope.key_prefix.is_some() {
            "AND substr(t.idempotency_key, 1, length(?3)) = ?3"
        } else {
            ""
        };
        let sql = format!(
            concat!(
                "SELECT ",
                candidate_columns!(),
                " FROM tasks t LEFT JOIN gateboard_commands c ON c.task_id = t.id \
                 WHERE t.status = 'ready' AND t.claim_lock IS NULL \
                 AND (c.retry_at_ms IS NULL OR c.retry_at_ms <= ?1) {commands} {keyed} \
                 ORDER BY t.priority DESC, t.created_at, t.rowid LIMIT ?2"
            ),
            commands = commands,
            keyed = keyed
        );
        while batch.claims.len() < want {
            let need = i64::try_from(want - batch.claims.len()).unwrap_or(i64::MAX);
            let mut stmt = self.conn().prepare_cached(&sql)?;
            let rows = match &scope.key_prefix {
                Some(prefix) => {
                    stmt.query_map(params![self.now_ms, need, prefix], Candidate::from_row)?
                }
                None => stmt.query_map(params![self.now_ms, need], Candidate::from_row)?,
            };
            let ready: Vec<Candidate> = rows.collect::<rusqlite::Result<_>>()?;
            drop(stmt);
            let chosen = self.with_held_children(ready, scope, want - batch.claims.len());
            if chosen.is_empty() {
                break;
            }
            for (candidate, held) in chosen {
                if held {
                    // Freed in this transaction by the query that found every parent
                    // finished: that was its gate, and nothing since can unfinish a parent.
                    batch.claims.push(self.grant_claim(
                        &candidate,
                        &Status::Todo,
                        claimer,
                        scope,
                    )?);
                    continue;
                }
                match self.gate_and_claim(&candidate, claimer, scope)? {
                    ClaimOutcome::Claimed(claim) => batch.claims.push(claim),
                    ClaimOutcome::Rejected { .. } => batch.rejected.push(candidate.id),
                }
            }
        }
        Ok(batch)
    }

    /// The first `need` in claim order of the `ready` rows read and the held children that
    /// `scope` may claim, each marked whether it is held; the held ones chosen are no longer
    /// held.
    fn with_held_children(
        &self,
        ready: Vec<Candidate>,
        scope: &ClaimScope,
        need: usize,
    ) -> Vec<(Candidate, bool)> {
        let mut held = self.freed.borrow_mut();
        let Some(held) = held.as_mut().filter(|h| !h.is_empty()) else {
            return ready.into_iter().map(|c| (c, false)).collect();
        };
        let (claimable, mut kept): (Vec<Freed>, Vec<Freed>) = held
            .drain(..)
            .partition(|child| child.facts.claimable_in(scope, self.now_ms));
        // A held child keeps what it was held with, so one passed over goes back whole.
        let mut all: Vec<(Candidate, Option<ScopeFacts>)> =
            ready.into_iter().map(|c| (c, None)).collect();
        all.extend(
            claimable
                .into_iter()
                .map(|child| (child.candidate, Some(child.facts))),
        );
        all.sort_by(|a, b| a.0.order.cmp(&b.0.order));
        let passed_over = all.split_off(need.min(all.len()));
        kept.extend(
            passed_over
                .into_iter()
                .filter_map(|(candidate, facts)| facts.map(|facts| Freed { candidate, facts })),
        );
        *held = kept;
        all.into_iter()
            .map(|(c, facts)| (c, facts.is_some()))
            .collect()
    }

    /// The running task `id`, if `lock` holds its claim.
    pub(super) fn held(&self, id: &str, lock: &str, operation: &'static str) -> Result<Task> {
        self.check_holder(self.task(id)?, lock, operation)
    }

    /// `task` itself, if it is running under `lock`.
    fn check_holder(&self, task: Task, lock: &str, operation: &'static str) -> Result<Task> {
        check_claim(
            &task.id,
            &task.status,
            task.claim_lock.as_deref(),
            lock,
            operation,
        )?;
        Ok(task)
    }

    /// Extends a claim its holder still holds; returns the new expiry.
    pub fn heartbeat(&self, id: &str, claimer: &Claimer) -> Result<i64> {
        let task = self.held(id, &claimer.lock, "heartbeat")?;
        let ttl = i64::try_from(claimer.ttl.as_secs()).unwrap_or(i64::MAX / 2);
        let expires = self.now().saturating_add(ttl);
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET claim_expires = ?2, last_heartbeat_at = ?3 WHERE id = ?1",
            )?
            .execute(params![id, expires, self.now()])?;
        if let Some(run) = task.current_run_id {
            self.conn()
                .prepare_cached(
                    "UPDATE task_runs SET claim_expires = ?2, last_heartbeat_at = ?3 WHERE id = ?1",
                )?
                .execute(params![run, expires, self.now()])?;
        }
        self.event(
            id,
            task.current_run_id,
            EventKind::Heartbeat,
            Some(json!({ "expires": expires })),
        )?;
        Ok(expires)
    }

    /// Finishes a task and promotes, in the same transaction, every child it was the last gate of.
    ///
    /// A running task may be completed only by its claim holder (`claimer`); a ready or blocked
    /// one by anybody, provided its parents are finished.
    pub fn complete(
        &self,
        id: &str,
        claimer: Option<&str>,
        result: Option<&str>,
    ) -> Result<Completion> {
        let task = self.task(id)?;
        let task = match task.status {
            Status::Running if claimer.is_none() || task.claim_lock.as_deref() != claimer => {
                return Err(BoardError::StillRunning {
                    id: id.to_owned(),
                    holder: task.claim_lock,
                    claimer: claimer.map(str::to_owned),
                    operation: "complete",
                });
            }
            Status::Running => task,
            Status::Ready | Status::Blocked => {
                let parents = gate::unfinished_parents(self, id)?;
                if !parents.is_empty() {
                    return Err(BoardError::ParentsUnfinished {
                        id: id.to_owned(),
                        parents,
                    });
                }
                task
            }
            status => {
                return Err(BoardError::WrongStatus {
                    id: id.to_owned(),
                    status,
                    operation: "complete",
                    expected: "running, ready or blocked",
                });
            }
        };
        self.mark_done(id, task.current_run_id, result, None, None)?
            .ok_or_else(|| BoardError::Internal(format!("{id} could not be marked done")))
    }

    /// Marks a task done, closes `run_id` with `metadata` added to the run's, and promotes the
    /// children it was the last unfinished parent of. With a `holder`, only while it holds the
    /// task (None, writing nothing, otherwise); without, the caller checked the claim.
    pub(super) fn mark_done(
        &self,
        id: &str,
        run_id: Option<i64>,
        result: Option<&str>,
        metadata: Option<&str>,
        holder: Option<Holder<'_>>,
    ) -> Result<Option<Completion>> {
        let marked = self
            .statement(
                "UPDATE tasks SET status = 'done', result = ?2, completed_at = ?3, \
                 claim_lock = NULL, claim_expires = NULL, worker_pid = NULL, current_run_id = NULL, \
                 block_kind = NULL, block_recurrences = 0, consecutive_failures = 0 WHERE id = ?1 \
                 AND (?4 IS NULL OR (status = 'running' AND claim_lock = ?4 AND current_run_id = ?5))",
            )?
            .execute(params![
                id,
                result,
                self.now(),
                holder.as_ref().map(|h| h.lock),
                holder.as_ref().map(|h| h.run_id)
            ])?;
        if marked == 0 && holder.is_some() {
            return Ok(None);
        }
        if let Some(run) = run_id {
            self.end_run_with(run, "done", "completed", result, metadata)?;
        }
        #[derive(serde::Serialize)]
        struct Completed<'a> {
            result_len: usize,
            summary: Option<&'a str>,
        }
        self.event_with(
            id,
            run_id,
            EventKind::Completed,
            &Completed {
                result_len: result.map_or(0, str::len),
                summary: result.and_then(|r| r.lines().next()),
            },
        )?;
        Ok(Some(Completion {
            run_id,
            promoted: self.promote_children(id)?,
        }))
    }

    pub(super) fn end_run(
        &self,
        run: i64,
        status: &str,
        outcome: &str,
        summary: Option<&str>,
    ) -> Result<()> {
        self.end_run_with(run, status, outcome, summary, None)
    }

    /// `end_run`, also adding `metadata`'s keys to the run's (keeping what the claim recorded,
    /// the log's path): one statement, since every attempt's end passes through here.
    pub(super) fn end_run_with(
        &self,
        run: i64,
        status: &str,
        outcome: &str,
        summary: Option<&str>,
        metadata: Option<&str>,
    ) -> Result<()> {
        self.statement(
            "UPDATE task_runs SET status = ?2, outcome = ?3, summary = COALESCE(?4, summary), \
             ended_at = ?5, claim_expires = NULL, metadata = CASE WHEN ?6 IS NULL THEN metadata \
             WHEN json_valid(metadata) THEN json_patch(metadata, ?6) ELSE ?6 END \
             WHERE id = ?1 AND ended_at IS NULL",
        )?
        .execute(params![run, status, outcome, summary, self.now(), metadata])?;
        Ok(())
    }

    /// Takes a task out of the queue until a person unblocks it; a running claim is closed.
    pub fn block(&self, id: &str, reason: &str) -> Result<()> {
        let reason = reason.trim();
        if reason.is_empty() {
            return Err(BoardError::Invalid(
                "a block needs a reason a person can act on".into(),
            ));
        }
        let task = self.task(id)?;
        if !matches!(
            task.status,
            Status::Todo | Status::Ready | Status::Running | Status::Triage | Status::Scheduled
        ) {
            return Err(BoardError::WrongStatus {
                id: id.to_owned(),
                status: task.status,
                operation: "block",
                expected: "todo, ready, running, triage or scheduled",
            });
        }
        self.leave_running(id, &Status::Blocked)?;
        if let Some(run) = task.current_run_id {
            self.end_run(run, "blocked", "blocked", Some(reason))?;
        }
        self.event(
            id,
            task.current_run_id,
            EventKind::Blocked,
            Some(json!({ "reason": reason })),
        )?;
        Ok(())
    }

    /// Returns a blocked task to the queue, re-gated: `ready` only if every parent is finished.
    pub fn unblock(&self, id: &str) -> Result<Status> {
        let task = self.task(id)?;
        if task.status != Status::Blocked {
            return Err(BoardError::WrongStatus {
                id: id.to_owned(),
                status: task.status,
                operation: "unblock",
                expected: "blocked",
            });
        }
        let next = gate::waiting_status(self, id)?;
        self.set_status(id, &Status::Blocked, &next)?;
        // A person looked at the failure: the task gets a fresh set of retries, at once.
        self.conn()
            .prepare_cached("UPDATE tasks SET consecutive_failures = 0 WHERE id = ?1")?
            .execute(params![id])?;
        self.clear_retry(id)?;
        self.event(
            id,
            None,
            EventKind::Unblocked,
            Some(json!({ "status": next })),
        )?;
        Ok(next)
    }

    /// Returns every running task whose claim lapsed to the queue; their runs close as `reclaimed`.
    ///
    /// A claim lapses at its `claim_expires`. A running row with no `claim_expires` (another
    /// program set it running without one) would otherwise never lapse, its children waiting
    /// for good; it counts as lapsed once its newest sign of life is older than `ttl`. The
    /// newest, not the first found: a sign is its last heartbeat, its start, its latest event or
    /// its creation, and `started_at` keeps the first claim's time, so only the newest of them
    /// never reclaims a row somebody is still visibly working.
    pub fn reclaim_expired(&self, ttl: Duration) -> Result<Vec<String>> {
        let ttl = i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX);
        let silent_since = self.now().saturating_sub(ttl);
        let expired: Vec<(String, bool)> = self
            .conn()
            .prepare_cached(
                "SELECT t.id, t.claim_expires IS NULL FROM tasks t WHERE t.status = 'running' \
                 AND ((t.claim_expires IS NOT NULL AND t.claim_expires < ?1) \
                   OR (t.claim_expires IS NULL AND max(t.created_at, \
                         COALESCE(t.last_heartbeat_at, 0), COALESCE(t.started_at, 0), \
                         COALESCE((SELECT max(e.created_at) FROM task_events e \
                                   WHERE e.task_id = t.id), 0)) < ?2)) \
                 ORDER BY t.id",
            )?
            .query_map(params![self.now(), silent_since], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })?
            .collect::<rusqlite::Result<_>>()?;
        for (id, no_expiry) in &expired {
            let why = if *no_expiry {
                "running with no claim expiry and no sign of life for the TTL"
            } else {
                "claim expired"
            };
            self.requeue(id, why)?;
        }
        Ok(expired.into_iter().map(|(id, _)| id).collect())
    }

    /// Promotes every `todo` task whose parents are all finished, with `promoted` events.
    ///
    /// gateboard promotes children in the transaction that finishes their last parent, but
    /// another writer may not: Hermes Agent promotes in a second transaction after a completion
    /// (lost if its process dies in between), and a script may finish a parent by hand. The
    /// pool's sweep calls this so such tasks are not stranded in `todo`.
    pub fn promote_stranded(&self) -> Result<Vec<String>> {
        let stranded: Vec<String> = self
            .conn()
            .prepare_cached(concat!(gate::stranded_todo!(), " ORDER BY t.id"))?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        let mut promoted = Vec::with_capacity(stranded.len());
        for id in stranded {
            if self.promote_if_ready(&id)? {
                promoted.push(id);
            }
        }
        Ok(promoted)
    }

    /// Gives back a claim its holder will not finish (a worker shutting down).
    pub fn release(&self, id: &str, claimer: &Claimer) -> Result<()> {
        self.held(id, &claimer.lock, "release")?;
        self.requeue(id, "released by its worker")
    }

    /// Running -> ready (or todo, should a parent be unfinished), closing the run as reclaimed.
    fn requeue(&self, id: &str, why: &str) -> Result<()> {
        let task = self.task(id)?;
        let next = self.leave_running(id, &gate::waiting_status(self, id)?)?;
        if let Some(run) = task.current_run_id {
            self.end_run(run, "reclaimed", "reclaimed", Some(why))?;
        }
        self.event(
            id,
            task.current_run_id,
            EventKind::Reclaimed,
            Some(json!({ "lock": task.claim_lock, "reason": why, "status": next })),
        )?;
        Ok(())
    }

    /// Puts a task away; it counts as finished, so children it gated are promoted.
    pub fn archive(&self, id: &str) -> Result<Completion> {
        let task = self.task(id)?;
        match task.status {
            Status::Running => {
                return Err(BoardError::StillRunning {
                    id: id.to_owned(),
                    holder: task.claim_lock,
                    claimer: None,
                    operation: "archive",
                });
            }
            Status::Archived => {
                return Err(BoardError::WrongStatus {
                    id: id.to_owned(),
                    status: task.status,
                    operation: "archive",
                    expected: "not running and not archived",
                });
            }
            _ => {}
        }
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET status = 'archived', completed_at = COALESCE(completed_at, ?2), \
                 claim_lock = NULL, claim_expires = NULL, worker_pid = NULL WHERE id = ?1",
            )?
            .execute(params![id, self.now()])?;
        self.event(id, None, EventKind::Archived, None)?;
        Ok(Completion {
            run_id: None,
            promoted: self.promote_children(id)?,
        })
    }

    /// Takes a task out of the archive, re-gated as `unblock` does: `ready` only if every
    /// parent is finished. Archived counted as finished, so its children may have moved on
    /// meanwhile: a ready child goes back to `todo` (its parent is unfinished again), and a
    /// child that started (running, finished, or claimed through this link at all) refuses the
    /// whole unarchive, since it would then have run before its parent.
    pub fn unarchive(&self, id: &str) -> Result<Unarchived> {
        let task = self.task(id)?;
        if task.status != Status::Archived {
            return Err(BoardError::WrongStatus {
                id: id.to_owned(),
                status: task.status,
                operation: "unarchive",
                expected: "archived",
            });
        }
        let started = self.started_children(id)?;
        if !started.is_empty() {
            return Err(BoardError::ChildrenStarted {
                id: id.to_owned(),
                children: started,
            });
        }
        let status = gate::waiting_status(self, id)?;
        let demoted: Vec<String> = self
            .conn()
            .prepare_cached(
                "SELECT l.child_id FROM task_links l JOIN tasks c ON c.id = l.child_id \
                 WHERE l.parent_id = ?1 AND c.status = 'ready' ORDER BY l.child_id",
            )?
            .query_map(params![id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        // Unfinished again, so no completion time: the seed's audit reads `completed_at` as
        // "finished at", and the next completion sets it anew.
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET status = ?2, completed_at = NULL WHERE id = ?1 AND status = 'archived'",
            )?
            .execute(params![id, status])?;
        self.event(
            id,
            None,
            EventKind::Unarchived,
            Some(json!({ "status": status, "demoted": demoted })),
        )?;
        for child in &demoted {
            self.set_status(child, &Status::Ready, &Status::Todo)?;
            self.event(
                child,
                None,
                EventKind::Demoted,
                Some(json!({ "parent": id, "reason": "parent_unarchived" })),
            )?;
        }
        Ok(Unarchived { status, demoted })
    }

    /// The children of `parent` that ran, or run, on the strength of it being finished:
    /// running or finished now, or claimed while this link gated them. A claim made before the
    /// link existed was not gated by it, as the audits count it.
    fn started_children(&self, parent: &str) -> Result<Vec<StartedChild>> {
        let sql = format!(
            "SELECT l.child_id, t.status, EXISTS (SELECT 1 FROM task_events c \
               WHERE c.task_id = l.child_id AND c.kind = 'claimed' AND NOT {LINK_AFTER_CLAIM}) \
             FROM task_links l JOIN tasks t ON t.id = l.child_id WHERE l.parent_id = ?1 \
             ORDER BY l.child_id"
        );
        let children: Vec<StartedChild> = self
            .conn()
            .prepare_cached(&sql)?
            .query_map(params![parent], |r| {
                Ok(StartedChild {
                    id: r.get(0)?,
                    status: r.get(1)?,
                    claimed: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(children
            .into_iter()
            .filter(|c| c.claimed || c.status == Status::Running || c.status.is_finished())
            .collect())
    }

    /// Adds a comment; returns its id.
    pub fn comment(&self, id: &str, author: &str, body: &str) -> Result<i64> {
        if body.trim().is_empty() {
            return Err(BoardError::Invalid("a comment needs some text".into()));
        }
        self.task(id)?;
        self.conn()
            .prepare_cached(
                "INSERT INTO task_comments (task_id, author, body, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(params![id, author, body, self.now()])?;
        let comment = self.conn().last_insert_rowid();
        self.event(
            id,
            None,
            EventKind::Commented,
            Some(json!({ "author": author, "len": body.len() })),
        )?;
        Ok(comment)
    }
}
