//! "Parent finished" and the claim gate, in one place, so every path asks the same question.

use rusqlite::params;

use super::error::Result;
use super::model::Status;
use super::query::Reader;

/// The SQL list of statuses that count as finished; every query and trigger splices this in.
macro_rules! finished_statuses {
    () => {
        "('done', 'archived')"
    };
}
pub(crate) use finished_statuses;

/// Parents of `?1` that are not finished, a missing parent counting as unfinished.
const UNFINISHED_PARENTS: &str = concat!(
    "SELECT l.parent_id, COALESCE(p.status, 'missing') FROM task_links l ",
    "LEFT JOIN tasks p ON p.id = l.parent_id ",
    "WHERE l.child_id = ?1 AND (p.id IS NULL OR p.status NOT IN ",
    finished_statuses!(),
    ") ORDER BY l.parent_id"
);

/// SQL true when the task whose id is `$child` has a parent that is not finished (a missing
/// parent counts as unfinished): the gate's question, spliced into the queries that ask it of
/// many tasks at once, so one read answers it for each. With `besides`, the parent `$parent`
/// is not looked up: only for a parent the caller finished in this same transaction.
macro_rules! has_unfinished_parent {
    ($child:literal) => {
        $crate::core::gate::has_unfinished_parent!($child, "")
    };
    ($child:literal, besides $parent:literal) => {
        $crate::core::gate::has_unfinished_parent!($child, concat!(" AND o.parent_id <> ", $parent))
    };
    ($child:literal, $also:expr) => {
        concat!(
            "EXISTS (SELECT 1 FROM task_links o LEFT JOIN tasks p ON p.id = o.parent_id ",
            "WHERE o.child_id = ",
            $child,
            $also,
            " AND (p.id IS NULL OR p.status NOT IN ",
            $crate::core::gate::finished_statuses!(),
            "))"
        )
    };
}
pub(crate) use has_unfinished_parent;

/// The query of `todo` tasks whose parents are all finished: left behind by a writer that
/// finished a parent without promoting its children. A macro, like `finished_statuses!`, so
/// callers splice it into their own literal SQL and prepare it once.
macro_rules! stranded_todo {
    () => {
        concat!(
            "SELECT t.id FROM tasks t WHERE t.status = 'todo' AND NOT ",
            $crate::core::gate::has_unfinished_parent!("t.id")
        )
    };
}
pub(crate) use stranded_todo;

/// The query of `ready`, unclaimed tasks with an unfinished parent: what a racy writer, raw
/// SQL or another program left marked ready, which the gate will refuse. A macro for the same
/// reason as `stranded_todo!`.
macro_rules! gated_ready {
    () => {
        concat!(
            "SELECT t.id FROM tasks t WHERE t.status = 'ready' AND t.claim_lock IS NULL AND ",
            $crate::core::gate::has_unfinished_parent!("t.id")
        )
    };
}
pub(crate) use gated_ready;

/// Every parent of `child` that is not finished, with its status, so a refusal can say why.
pub fn unfinished_parents(reader: &Reader<'_>, child: &str) -> Result<Vec<(String, Status)>> {
    let mut stmt = reader.statement(UNFINISHED_PARENTS)?;
    let rows = stmt.query_map(params![child], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether every parent of `child` is finished: the condition for `ready` and for a claim.
pub fn parents_finished(reader: &Reader<'_>, child: &str) -> Result<bool> {
    let mut stmt = reader.statement(concat!("SELECT NOT ", has_unfinished_parent!("?1")))?;
    Ok(stmt.query_row(params![child], |r| r.get(0))?)
}

/// The status a task waiting to run should have: `ready` when its parents are finished, else `todo`.
pub fn waiting_status(reader: &Reader<'_>, task: &str) -> Result<Status> {
    Ok(if parents_finished(reader, task)? {
        Status::Ready
    } else {
        Status::Todo
    })
}
