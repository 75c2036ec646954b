//! The invariant checks `gateboard audit` runs over a whole file.

use std::collections::{HashMap, HashSet};
use std::fmt;

use rusqlite::Connection;
use serde::Serialize;

use super::error::Result;
use super::gate::finished_statuses;
use super::query::Reader;

/// One broken rule, with the ids a person needs to look at it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Violation {
    /// A task runs while a parent is not finished.
    RunningBeforeParents {
        /// The running task.
        task: String,
        /// The unfinished parent.
        parent: String,
        /// Its status.
        parent_status: String,
    },
    /// A `claimed` event has no earlier `completed` (or `archived`) event of a parent.
    ClaimBeforeParentFinished {
        /// The claimed task.
        task: String,
        /// The id of its `claimed` event.
        claim_event: i64,
        /// The parent that had not finished first.
        parent: String,
    },
    /// The seed's timestamp audit: a parent completed after (or never before) the claim.
    ClaimBeforeParentCompletedAt {
        /// The claimed task.
        task: String,
        /// Epoch seconds of the claim.
        claimed_at: i64,
        /// The parent.
        parent: String,
        /// Its `completed_at`, if any.
        parent_completed_at: Option<i64>,
    },
    /// The links form a cycle, so these tasks (and every task behind them) can never run.
    Cycle {
        /// The tasks on the cycle, each reachable from every other by links.
        tasks: Vec<String>,
    },
    /// A link names a task that does not exist.
    DanglingLink {
        /// The link's parent.
        parent: String,
        /// The link's child.
        child: String,
    },
    /// `claim_lock` must be set exactly while a task runs.
    ClaimLockMismatch {
        /// The task.
        task: String,
        /// Its status.
        status: String,
        /// Its claim lock.
        claim_lock: Option<String>,
    },
    /// A running task with no `claim_expires`: no claim ever lapses for it, so only the sweep's
    /// no-sign-of-life rule returns it to the queue, a TTL after its last heartbeat.
    RunningWithoutExpiry {
        /// The task.
        task: String,
        /// Who holds it, if anybody.
        claim_lock: Option<String>,
    },
    /// `current_run_id` disagrees with `task_runs`.
    RunMismatch {
        /// The task.
        task: String,
        /// What disagrees.
        detail: String,
    },
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Violation::RunningBeforeParents {
                task,
                parent,
                parent_status,
            } => write!(
                f,
                "{task} is running while parent {parent} is {parent_status}"
            ),
            Violation::ClaimBeforeParentFinished {
                task,
                claim_event,
                parent,
            } => write!(
                f,
                "{task} was claimed (event {claim_event}) before parent {parent} completed"
            ),
            Violation::ClaimBeforeParentCompletedAt {
                task,
                claimed_at,
                parent,
                parent_completed_at,
            } => match parent_completed_at {
                Some(at) => write!(
                    f,
                    "{task} was claimed at {claimed_at}, before parent {parent} completed at {at}"
                ),
                None => write!(
                    f,
                    "{task} was claimed at {claimed_at}, but parent {parent} has never completed"
                ),
            },
            Violation::Cycle { tasks } => write!(f, "cycle among {}", tasks.join(", ")),
            Violation::DanglingLink { parent, child } => {
                write!(f, "link {parent} -> {child} names a missing task")
            }
            Violation::ClaimLockMismatch {
                task,
                status,
                claim_lock,
            } => match claim_lock {
                Some(lock) => write!(f, "{task} is {status} but still holds claim {lock}"),
                None => write!(f, "{task} is {status} without a claim lock"),
            },
            Violation::RunningWithoutExpiry { task, claim_lock } => write!(
                f,
                "{task} is running (claimed by {}) with no claim expiry, so its claim never lapses",
                claim_lock.as_deref().unwrap_or("nobody")
            ),
            Violation::RunMismatch { task, detail } => write!(f, "{task}: {detail}"),
        }
    }
}

/// A link added after a claim cannot have gated it; both event audits skip such pairs.
pub(super) const LINK_AFTER_CLAIM: &str = "EXISTS (SELECT 1 FROM task_events le WHERE le.task_id = c.task_id \
     AND le.kind = 'linked' AND le.id > c.id AND json_valid(le.payload) \
     AND json_extract(le.payload, '$.parent') = l.parent_id)";

/// Runs every check over the whole board.
pub fn audit(reader: &Reader<'_>) -> Result<Vec<Violation>> {
    let conn = reader.conn();
    let mut found = running_before_parents(conn)?;
    found.extend(claims_before_parent_events(reader)?);
    found.extend(claims_before_parent_timestamps(reader)?);
    found.extend(cycles(reader)?);
    found.extend(dangling_links(conn)?);
    found.extend(claim_lock_mismatches(conn)?);
    found.extend(running_without_expiry(conn)?);
    found.extend(run_mismatches(conn)?);
    Ok(found)
}

fn running_before_parents(conn: &Connection) -> Result<Vec<Violation>> {
    collect(
        conn,
        concat!(
            "SELECT t.id, l.parent_id, COALESCE(p.status, 'missing') FROM tasks t ",
            "JOIN task_links l ON l.child_id = t.id LEFT JOIN tasks p ON p.id = l.parent_id ",
            "WHERE t.status = 'running' AND (p.id IS NULL OR p.status NOT IN ",
            finished_statuses!(),
            ") ORDER BY t.id, l.parent_id"
        ),
        |r| {
            Ok(Violation::RunningBeforeParents {
                task: r.get(0)?,
                parent: r.get(1)?,
                parent_status: r.get(2)?,
            })
        },
    )
}

/// The strict audit: by event id, every parent's `completed` precedes the child's `claimed`.
pub fn claims_before_parent_events(reader: &Reader<'_>) -> Result<Vec<Violation>> {
    claims_before_parent_events_after(reader, 0)
}

/// The strict audit over `claimed` events after the cursor `after` only: what a live view
/// runs on each batch of new events instead of re-auditing the whole file.
pub fn claims_before_parent_events_after(
    reader: &Reader<'_>,
    after: i64,
) -> Result<Vec<Violation>> {
    collect_with(
        reader.conn(),
        &format!(
            // Each parent's finish is looked up by its own events (the task index), so a live
            // view's look at a few new claims costs a few lookups, not a pass over the log.
            "SELECT c.task_id, c.id, l.parent_id FROM task_events c \
             JOIN task_links l ON l.child_id = c.task_id \
             WHERE c.kind = 'claimed' AND c.id > ?1 \
             AND NOT EXISTS (SELECT 1 FROM task_events f WHERE f.task_id = l.parent_id \
               AND f.kind IN ('completed', 'archived') AND f.id < c.id) \
             AND NOT {LINK_AFTER_CLAIM} ORDER BY c.id, l.parent_id"
        ),
        rusqlite::params![after],
        |r| {
            Ok(Violation::ClaimBeforeParentFinished {
                task: r.get(0)?,
                claim_event: r.get(1)?,
                parent: r.get(2)?,
            })
        },
    )
}

/// The seed's own audit: claims joined with links and the parents' `completed_at`.
pub fn claims_before_parent_timestamps(reader: &Reader<'_>) -> Result<Vec<Violation>> {
    collect(
        reader.conn(),
        &format!(
            "SELECT c.task_id, c.created_at, l.parent_id, p.completed_at FROM task_events c \
             JOIN task_links l ON l.child_id = c.task_id \
             JOIN tasks p ON p.id = l.parent_id \
             WHERE c.kind = 'claimed' AND (p.completed_at IS NULL OR p.completed_at > c.created_at) \
             AND NOT {LINK_AFTER_CLAIM} ORDER BY c.id, l.parent_id"
        ),
        |r| {
            Ok(Violation::ClaimBeforeParentCompletedAt {
                task: r.get(0)?,
                claimed_at: r.get(1)?,
                parent: r.get(2)?,
                parent_completed_at: r.get(3)?,
            })
        },
    )
}

/// One violation per cycle of links: the tasks on it, not the ones merely waiting behind it.
fn cycles(reader: &Reader<'_>) -> Result<Vec<Violation>> {
    let links = reader.links()?;
    let mut children: HashMap<&str, Vec<&str>> = HashMap::new();
    let mut parents: HashMap<&str, Vec<&str>> = HashMap::new();
    for (parent, child) in &links {
        children.entry(parent).or_default().push(child);
        parents.entry(child).or_default().push(parent);
    }
    let mut nodes: Vec<&str> = children.keys().chain(parents.keys()).copied().collect();
    nodes.sort_unstable();
    nodes.dedup();
    let mut cycles: Vec<Vec<&str>> = strongly_connected(&nodes, &children, &parents)
        .into_iter()
        .filter(|group| {
            group.len() > 1
                || children
                    .get(group[0])
                    .is_some_and(|c| c.contains(&group[0]))
        })
        .collect();
    for group in &mut cycles {
        group.sort_unstable();
    }
    cycles.sort_unstable();
    Ok(cycles
        .into_iter()
        .map(|group| Violation::Cycle {
            tasks: group.into_iter().map(str::to_owned).collect(),
        })
        .collect())
}

/// The strongly connected groups of the link graph (Kosaraju: finish order along the links,
/// then groups along them backwards), by iteration so that a long chain cannot overflow the
/// stack.
fn strongly_connected<'a>(
    nodes: &[&'a str],
    children: &HashMap<&'a str, Vec<&'a str>>,
    parents: &HashMap<&'a str, Vec<&'a str>>,
) -> Vec<Vec<&'a str>> {
    fn next<'m, 'a>(
        map: &'m HashMap<&'a str, Vec<&'a str>>,
        node: &str,
    ) -> std::iter::Copied<std::slice::Iter<'m, &'a str>> {
        map.get(node).map_or(&[][..], Vec::as_slice).iter().copied()
    }
    let mut finished = Vec::with_capacity(nodes.len());
    let mut seen = HashSet::new();
    for &start in nodes {
        if !seen.insert(start) {
            continue;
        }
        let mut stack = vec![(start, next(children, start))];
        while let Some((node, pending)) = stack.last_mut() {
            match pending.next() {
                Some(child) => {
                    if seen.insert(child) {
                        stack.push((child, next(children, child)));
                    }
                }
                None => {
                    finished.push(*node);
                    stack.pop();
                }
            }
        }
    }
    let mut grouped = HashSet::new();
    let mut groups = Vec::new();
    for &start in finished.iter().rev() {
        if !grouped.insert(start) {
            continue;
        }
        let mut group = vec![start];
        let mut stack = vec![start];
        while let Some(node) = stack.pop() {
            for parent in next(parents, node) {
                if grouped.insert(parent) {
                    group.push(parent);
                    stack.push(parent);
                }
            }
        }
        groups.push(group);
    }
    groups
}

fn dangling_links(conn: &Connection) -> Result<Vec<Violation>> {
    collect(
        conn,
        "SELECT parent_id, child_id FROM task_links l \
         WHERE NOT EXISTS (SELECT 1 FROM tasks WHERE id = l.parent_id) \
            OR NOT EXISTS (SELECT 1 FROM tasks WHERE id = l.child_id) \
         ORDER BY parent_id, child_id",
        |r| {
            Ok(Violation::DanglingLink {
                parent: r.get(0)?,
                child: r.get(1)?,
            })
        },
    )
}

fn claim_lock_mismatches(conn: &Connection) -> Result<Vec<Violation>> {
    collect(
        conn,
        "SELECT id, status, claim_lock FROM tasks \
         WHERE (status = 'running') <> (claim_lock IS NOT NULL) ORDER BY id",
        |r| {
            Ok(Violation::ClaimLockMismatch {
                task: r.get(0)?,
                status: r.get(1)?,
                claim_lock: r.get(2)?,
            })
        },
    )
}

fn running_without_expiry(conn: &Connection) -> Result<Vec<Violation>> {
    collect(
        conn,
        "SELECT id, claim_lock FROM tasks WHERE status = 'running' AND claim_expires IS NULL \
         ORDER BY id",
        |r| {
            Ok(Violation::RunningWithoutExpiry {
                task: r.get(0)?,
                claim_lock: r.get(1)?,
            })
        },
    )
}

fn run_mismatches(conn: &Connection) -> Result<Vec<Violation>> {
    let mismatch = |r: &rusqlite::Row<'_>| {
        Ok(Violation::RunMismatch {
            task: r.get(0)?,
            detail: r.get(1)?,
        })
    };
    let mut found = collect(
        conn,
        "SELECT id, 'running without an open run (current_run_id is NULL)' FROM tasks \
         WHERE status = 'running' AND current_run_id IS NULL ORDER BY id",
        mismatch,
    )?;
    found.extend(collect(
        conn,
        "SELECT t.id, CASE \
            WHEN r.id IS NULL THEN 'current_run_id ' || t.current_run_id || ' names no run' \
            WHEN r.task_id <> t.id THEN 'current_run_id ' || r.id || ' is a run of ' || r.task_id \
            ELSE 'current_run_id ' || r.id || ' names a run that already ended' END \
         FROM tasks t LEFT JOIN task_runs r ON r.id = t.current_run_id \
         WHERE t.current_run_id IS NOT NULL \
           AND (r.id IS NULL OR r.task_id <> t.id OR r.ended_at IS NOT NULL) ORDER BY t.id",
        mismatch,
    )?);
    found.extend(collect(
        conn,
        "SELECT r.task_id, 'run ' || r.id || ' is open but its task does not point at it' \
         FROM task_runs r LEFT JOIN tasks t ON t.id = r.task_id \
         WHERE r.ended_at IS NULL AND (t.current_run_id IS NULL OR t.current_run_id <> r.id) \
         ORDER BY r.id",
        mismatch,
    )?);
    Ok(found)
}

fn collect(
    conn: &Connection,
    sql: &str,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Violation>,
) -> Result<Vec<Violation>> {
    collect_with(conn, sql, [], row)
}

fn collect_with(
    conn: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    row: impl FnMut(&rusqlite::Row<'_>) -> rusqlite::Result<Violation>,
) -> Result<Vec<Violation>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let found = stmt.query_map(params, row)?;
    Ok(found.collect::<rusqlite::Result<_>>()?)
}
