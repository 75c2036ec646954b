//! Reads: what a list, a detail view or a live event cursor asks of a board.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::{BoardError, Result};
use super::gate;
use super::held::{Held, HeldStatements};
use super::model::{
    Comment, EVENT_COLUMNS, Event, EventKind, Neighbour, RUN_COLUMNS, Run, Status, TASK_COLUMNS,
    TASK_FROM, Task, TaskDetail,
};

/// Read access to a board inside one snapshot.
pub struct Reader<'c> {
    conn: &'c Connection,
    held: HeldStatements<'c>,
}

impl<'c> Reader<'c> {
    pub(in crate::core) fn new(conn: &'c Connection) -> Self {
        Reader {
            conn,
            held: HeldStatements::default(),
        }
    }

    /// The statement of `sql`, kept at hand for the rest of this transaction: for the
    /// statements every task of a pool batch runs (see `held`).
    pub(in crate::core) fn statement(&self, sql: &'static str) -> Result<Held<'_, 'c>> {
        self.held.get(self.conn, sql)
    }

    /// The connection itself: only the core may run SQL, and the compiler holds it to that.
    pub(in crate::core) fn conn(&self) -> &'c Connection {
        self.conn
    }

    /// The task, or `UnknownTask`.
    pub fn task(&self, id: &str) -> Result<Task> {
        self.find_task(id)?
            .ok_or_else(|| BoardError::UnknownTask(id.to_owned()))
    }

    /// The task, if it exists.
    pub fn find_task(&self, id: &str) -> Result<Option<Task>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.id = ?1"
        ))?;
        Ok(stmt.query_row(params![id], Task::from_row).optional()?)
    }

    /// The tasks with these ids that exist, in no particular order: what a live view re-reads
    /// after events name them.
    pub fn tasks_by_ids(&self, ids: &[String]) -> Result<Vec<Task>> {
        Ok(self
            .keyed_tasks_by_ids(ids)?
            .into_iter()
            .map(|keyed| keyed.task)
            .collect())
    }

    /// Tasks, optionally of one status, in claim order: priority first, then age.
    pub fn tasks(&self, status: Option<&Status>) -> Result<Vec<Task>> {
        let order = "ORDER BY t.priority DESC, t.created_at, t.rowid";
        let tasks = match status {
            Some(status) => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {TASK_COLUMNS} FROM {TASK_FROM} WHERE t.status = ?1 {order}"
                ))?;
                stmt.query_map(params![status], Task::from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
            None => {
                let mut stmt = self
                    .conn
                    .prepare_cached(&format!("SELECT {TASK_COLUMNS} FROM {TASK_FROM} {order}"))?;
                stmt.query_map([], Task::from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        Ok(tasks)
    }

    /// How many tasks each status holds, every status present in the file included.
    pub fn counts(&self) -> Result<Vec<(Status, i64)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT status, count(*) FROM tasks GROUP BY status ORDER BY status")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The parents of a task, each with its status.
    pub fn parents(&self, id: &str) -> Result<Vec<Neighbour>> {
        self.neighbours(
            "SELECT l.parent_id, COALESCE(p.title, '(missing task)'), COALESCE(p.status, 'missing') \
             FROM task_links l LEFT JOIN tasks p ON p.id = l.parent_id \
             WHERE l.child_id = ?1 ORDER BY l.parent_id",
            id,
        )
    }

    /// The children of a task, each with its status.
    pub fn children(&self, id: &str) -> Result<Vec<Neighbour>> {
        self.neighbours(
            "SELECT l.child_id, COALESCE(c.title, '(missing task)'), COALESCE(c.status, 'missing') \
             FROM task_links l LEFT JOIN tasks c ON c.id = l.child_id \
             WHERE l.parent_id = ?1 ORDER BY l.child_id",
            id,
        )
    }

    fn neighbours(&self, sql: &str, id: &str) -> Result<Vec<Neighbour>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let rows = stmt.query_map(params![id], Neighbour::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every parent of `id` that is not finished, with its status: what closes the gate.
    pub fn unfinished_parents(&self, id: &str) -> Result<Vec<(String, Status)>> {
        gate::unfinished_parents(self, id)
    }

    /// Every link as (parent, child).
    pub fn links(&self) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT parent_id, child_id FROM task_links ORDER BY parent_id, child_id",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every attempt at a task, oldest first.
    pub fn runs(&self, id: &str) -> Result<Vec<Run>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {RUN_COLUMNS} FROM task_runs WHERE task_id = ?1 ORDER BY id"
        ))?;
        let runs = stmt
            .query_map(params![id], Run::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(runs)
    }

    /// Everything a detail view shows about one task, including why it cannot run yet.
    pub fn detail(&self, id: &str) -> Result<TaskDetail> {
        let task = self.task(id)?;
        let runs = self.runs(id)?;
        let mut comments_stmt = self.conn.prepare_cached(
            "SELECT id, author, body, created_at FROM task_comments WHERE task_id = ?1 ORDER BY id",
        )?;
        let comments = comments_stmt
            .query_map(params![id], |r| {
                Ok(Comment {
                    id: r.get(0)?,
                    author: r.get(1)?,
                    body: r.get(2)?,
                    created_at: r.get(3)?,
                })
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let not_ready_because = self.not_ready_because(&task)?;
        Ok(TaskDetail {
            parents: self.parents(id)?,
            children: self.children(id)?,
            events: self.events_after(0, usize::MAX, Some(id))?,
            runs,
            comments,
            not_ready_because,
            command: self.command(id)?,
            task,
        })
    }

    /// A sentence on why a task is not claimable, or None when it is.
    fn not_ready_because(&self, task: &Task) -> Result<Option<String>> {
        let unfinished = gate::unfinished_parents(self, &task.id)?;
        let waiting = || {
            unfinished
                .iter()
                .map(|(id, status)| format!("{id} ({status})"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        Ok(match &task.status {
            Status::Ready if unfinished.is_empty() => None,
            Status::Ready => Some(format!(
                "marked ready, but the gate will refuse it: waiting on {}",
                waiting()
            )),
            Status::Todo if unfinished.is_empty() => {
                Some("every parent is finished, but it was never promoted; a pool promotes it when it next looks (within about a second while a worker is free)".into())
            }
            Status::Todo => Some(format!("waiting on {}", waiting())),
            Status::Running => Some(format!(
                "running, claimed by {}",
                task.claim_lock.as_deref().unwrap_or("nobody")
            )),
            Status::Blocked => Some(format!(
                "blocked: {}",
                task.block_reason.as_deref().unwrap_or("no reason given")
            )),
            Status::Done | Status::Archived => Some(format!("already {}", task.status)),
            other => Some(format!("{other} tasks are not claimed by workers")),
        })
    }

    /// Events after the cursor `after`, oldest first, at most `limit`, optionally for one task.
    pub fn events_after(&self, after: i64, limit: usize, task: Option<&str>) -> Result<Vec<Event>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let events = match task {
            Some(task) => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM task_events WHERE id > ?1 AND task_id = ?2 ORDER BY id LIMIT ?3"
                ))?;
                stmt.query_map(params![after, task, limit], Event::from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
            None => {
                let mut stmt = self.conn.prepare_cached(&format!(
                    "SELECT {EVENT_COLUMNS} FROM task_events WHERE id > ?1 ORDER BY id LIMIT ?2"
                ))?;
                stmt.query_map(params![after, limit], Event::from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?
            }
        };
        Ok(events)
    }

    /// The newest `limit` events with an id below `before`, oldest first, of these kinds (every
    /// kind when empty): the page a scrolling log reads when a person scrolls up past what it
    /// holds, and the tail it starts from.
    pub fn events_before(
        &self,
        before: i64,
        limit: usize,
        kinds: &[EventKind],
    ) -> Result<Vec<Event>> {
        let mut events = self.event_page(i64::MIN, before, "id DESC", limit, kinds)?;
        events.reverse();
        Ok(events)
    }

    /// The oldest `limit` events with `after < id < before`, oldest first, of these kinds (every
    /// kind when empty): the page a scrolled-up log reads when a person scrolls down again.
    pub fn events_between(
        &self,
        after: i64,
        before: i64,
        limit: usize,
        kinds: &[EventKind],
    ) -> Result<Vec<Event>> {
        self.event_page(after, before, "id", limit, kinds)
    }

    /// Events with `after < id < before` of these kinds, taken from one end by `order`.
    fn event_page(
        &self,
        after: i64,
        before: i64,
        order: &str,
        limit: usize,
        kinds: &[EventKind],
    ) -> Result<Vec<Event>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        // ?1 and ?2 bound the ids, ?3 is the limit, the kinds follow.
        let kind_filter = if kinds.is_empty() {
            String::new()
        } else {
            let slots: Vec<String> = (0..kinds.len()).map(|i| format!("?{}", i + 4)).collect();
            format!(" AND kind IN ({})", slots.join(", "))
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM task_events WHERE id > ?1 AND id < ?2{kind_filter} \
             ORDER BY {order} LIMIT ?3"
        ))?;
        let mut values: Vec<rusqlite::types::Value> =
            vec![after.into(), before.into(), limit.into()];
        values.extend(kinds.iter().map(|k| k.as_str().to_owned().into()));
        let events = stmt
            .query_map(rusqlite::params_from_iter(values), Event::from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(events)
    }

    /// How many events of one kind the board holds: what the status bar's totals start from.
    pub fn event_count(&self, kind: &EventKind) -> Result<u64> {
        let count: i64 = self.conn.query_row(
            "SELECT count(*) FROM task_events WHERE kind = ?1",
            params![kind.as_str()],
            |r| r.get(0),
        )?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Whether some ready task has an unfinished parent, so the gate's sweep has work.
    pub fn has_gated_ready(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(concat!("SELECT EXISTS (", gate::gated_ready!(), ")"))?
            .query_row([], |r| r.get(0))?)
    }

    /// SQLite's own check of the file: "ok", or what it found broken.
    pub fn integrity_check(&self) -> Result<String> {
        let mut stmt = self.conn.prepare("PRAGMA integrity_check")?;
        let found = stmt
            .query_map([], |r| r.get::<_, String>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(found.join("; "))
    }

    /// The newest event id, the cursor a live view starts from.
    pub fn last_event_id(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("SELECT COALESCE(max(id), 0) FROM task_events", [], |r| {
                r.get(0)
            })?)
    }

    /// The running tasks, with their open run, whose claim lock starts with `prefix`: what a
    /// pool checks to learn that a claim it works under was cancelled or taken over.
    pub fn open_runs_of(&self, prefix: &str) -> Result<Vec<(String, i64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, current_run_id FROM tasks WHERE status = 'running' \
             AND substr(claim_lock, 1, length(?1)) = ?1 AND current_run_id IS NOT NULL",
        )?;
        let rows = stmt.query_map(params![prefix], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether nothing is ready, running, or stranded in `todo` with its parents finished (the
    /// pool's sweep promotes those): the point where a drain-and-exit worker stops.
    pub fn is_idle(&self) -> Result<bool> {
        self.is_idle_for(false, None)
    }

    /// `is_idle` among the tasks a pool can run: with `commands_only`, only tasks with a
    /// command count; with `key_prefix`, only the tasks of one graph file. A task waiting out a
    /// retry backoff is ready, so it counts.
    pub fn is_idle_for(&self, commands_only: bool, key_prefix: Option<&str>) -> Result<bool> {
        let busy: bool = self
            .conn
            .prepare_cached(concat!(
                "SELECT EXISTS (SELECT 1 FROM tasks t WHERE t.status IN ('ready', 'running') ",
                "AND (?1 = 0 OR EXISTS (SELECT 1 FROM gateboard_commands c WHERE c.task_id = t.id)) ",
                "AND (?2 IS NULL OR substr(t.idempotency_key, 1, length(?2)) = ?2)) ",
                "OR EXISTS (",
                gate::stranded_todo!(),
                " AND (?1 = 0 OR EXISTS (SELECT 1 FROM gateboard_commands c WHERE c.task_id = t.id)) ",
                "AND (?2 IS NULL OR substr(t.idempotency_key, 1, length(?2)) = ?2))"
            ))?
            .query_row(params![commands_only, key_prefix], |r| r.get(0))?;
        Ok(!busy)
    }

    /// Every task of one status in claim order, each with its rowid: a column a view holds
    /// whole, ready to take newcomers in their place.
    pub fn keyed_tasks(&self, status: &Status) -> Result<Vec<Keyed>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS}, t.rowid FROM {TASK_FROM} WHERE t.status = ?1 \
             ORDER BY t.priority DESC, t.created_at, t.rowid"
        ))?;
        let rows = stmt.query_map(params![status], Keyed::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The tasks with these ids that exist, each with its rowid, in no particular order: what
    /// a live view re-reads after events name them.
    pub fn keyed_tasks_by_ids(&self, ids: &[String]) -> Result<Vec<Keyed>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS}, t.rowid FROM {TASK_FROM} WHERE t.id = ?1"
        ))?;
        let mut tasks = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(task) = stmt.query_row(params![id], Keyed::from_row).optional()? {
                tasks.push(task);
            }
        }
        Ok(tasks)
    }

    /// Rows `offset..offset + limit` of one status in claim order, of the tasks `needle`
    /// matches: one page of a column too long to hold. The page's rowids come from the
    /// claim-order index alone (or one pass over the table, when `needle` scans), so only the
    /// page's own rows are read in full.
    pub fn column_page(
        &self,
        status: &Status,
        needle: &Needle<'_>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Keyed>> {
        let offset = i64::try_from(offset).unwrap_or(i64::MAX);
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS}, t.rowid FROM {TASK_FROM} WHERE t.rowid IN \
             (SELECT rowid FROM {} WHERE status = ?1 AND {} \
              ORDER BY priority DESC, created_at, rowid LIMIT ?3 OFFSET ?4) \
             ORDER BY t.priority DESC, t.created_at, t.rowid",
            needle.table(),
            needle.clause()
        ))?;
        let rows = stmt.query_map(
            params![status, needle.pattern(), limit, offset],
            Keyed::from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The first `limit` tasks `needle` matches among the first `probe` of one status in claim
    /// order: where matches are common, a column's first page without a pass over the table
    /// (fewer than `limit` says they are not, or not that early).
    pub fn column_page_probe(
        &self,
        status: &Status,
        needle: &Needle<'_>,
        limit: usize,
        probe: usize,
    ) -> Result<Vec<Keyed>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let probe = i64::try_from(probe).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {TASK_COLUMNS}, t.rowid FROM {TASK_FROM} WHERE t.rowid IN \
             (SELECT rowid FROM (SELECT rowid, priority, created_at, title, id FROM tasks \
              WHERE status = ?1 ORDER BY priority DESC, created_at, rowid LIMIT ?4) \
              WHERE {} ORDER BY priority DESC, created_at, rowid LIMIT ?3) \
             ORDER BY t.priority DESC, t.created_at, t.rowid",
            needle.clause()
        ))?;
        let rows = stmt.query_map(
            params![status, needle.pattern(), limit, probe],
            Keyed::from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many tasks of one status `needle` matches (as `column_page` matches them): a long
    /// column's length, counted without reading it.
    pub fn column_len(&self, status: &Status, needle: &Needle<'_>) -> Result<usize> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT count(*) FROM {} WHERE status = ?1 AND {}",
            needle.table(),
            needle.clause()
        ))?;
        let count: i64 = if needle.text.is_empty() {
            stmt.query_row(params![status], |r| r.get(0))?
        } else {
            stmt.query_row(params![status, needle.pattern()], |r| r.get(0))?
        };
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// Whether a column of `len` tasks is most of the table (by the rows it has had, which
    /// SQLite knows at once): then a filter reads it in one pass over the table.
    pub fn most_of_the_table(&self, len: usize) -> Result<bool> {
        let rows: Option<i64> = self
            .conn
            .prepare_cached("SELECT max(rowid) FROM tasks")?
            .query_row([], |r| r.get(0))?;
        let rows = usize::try_from(rows.unwrap_or(0)).unwrap_or(0);
        Ok(len > 0 && len.saturating_mul(2) >= rows)
    }

    /// The row `task` has among the tasks of its status `needle` matches, in claim order
    /// (priority first, NULL last; then age; then rowid): where `:goto` finds a task of a
    /// column too long to hold.
    pub fn column_row(&self, task: &Keyed, needle: &Needle<'_>) -> Result<usize> {
        let count: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM {} WHERE status = ?1 AND {} AND ( \
                 (?3 IS NULL AND priority IS NOT NULL) OR priority > ?3 \
                 OR (priority IS ?3 AND (created_at < ?4 OR (created_at = ?4 AND rowid < ?5))))",
                needle.table(),
                needle.clause()
            ))?
            .query_row(
                params![
                    task.task.status,
                    needle.pattern(),
                    task.task.priority,
                    task.task.created_at,
                    task.rowid
                ],
                |r| r.get(0),
            )?;
        Ok(usize::try_from(count).unwrap_or(0))
    }

    /// The newest `limit` finished tasks (done or archived), newest first, as (id, title,
    /// status): what a parent picker offers beside the unfinished tasks a view holds.
    pub fn newest_finished(&self, limit: usize) -> Result<Vec<Neighbour>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut stmt = self.conn.prepare_cached(
            // `+status`: not the status index, which would sort every finished task first; the
            // newest rows are found by walking the table back from its end.
            "SELECT id, title, status FROM tasks WHERE +status IN ('done', 'archived') \
             ORDER BY rowid DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map(params![limit], Neighbour::from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many events of one kind have an id up to `upto`: a status bar's total as of the
    /// cursor it then follows from, so no event is counted twice.
    pub fn event_count_upto(&self, kind: &EventKind, upto: i64) -> Result<u64> {
        let count: i64 = self
            .conn
            .prepare_cached("SELECT count(*) FROM task_events WHERE id <= ?2 AND kind = ?1")?
            .query_row(params![kind.as_str(), upto], |r| r.get(0))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Whether the board holds any task, answered without counting them.
    pub fn has_tasks(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM tasks)")?
            .query_row([], |r| r.get(0))?)
    }
}

/// What a long column's reads match: tasks whose id or title contains `text`, ignoring case
/// (with SQL's `LIKE` for ASCII text, which unlike `lower()` copies nothing per row: a third of
/// the time at a million done tasks); empty matches every task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Needle<'a> {
    text: &'a str,
    scan: bool,
}

impl<'a> Needle<'a> {
    /// Every task of the column: the claim-order index alone answers.
    pub const ALL: Needle<'static> = Needle {
        text: "",
        scan: false,
    };

    /// Tasks containing `text` in their id or title.
    pub fn new(text: &'a str) -> Needle<'a> {
        Needle { text, scan: false }
    }

    /// Reads by one pass over the table instead of the status index, when `scan` (the column
    /// is most of the table): a lookup per indexed row costs three times a plain pass there.
    /// Without text there is nothing to test, and the index stays the fastest way.
    pub fn scanning(self, scan: bool) -> Needle<'a> {
        Needle {
            scan: scan && !self.text.is_empty(),
            ..self
        }
    }

    /// Whether its reads pass over the table rather than the status index.
    pub fn scans(&self) -> bool {
        self.scan
    }

    fn table(&self) -> &'static str {
        if self.scan {
            "tasks NOT INDEXED"
        } else {
            "tasks"
        }
    }

    /// The test, with ?2 the pattern; left out with no text. `LIKE` ignores only ASCII case,
    /// so text with other letters is matched by `contains_folded`, as the TUI matches the
    /// cards it holds.
    fn clause(&self) -> &'static str {
        if self.text.is_empty() {
            "1"
        } else if self.text.is_ascii() {
            "(title LIKE ?2 ESCAPE '\\' OR id LIKE ?2 ESCAPE '\\')"
        } else {
            "(contains_folded(title, ?2) OR contains_folded(id, ?2))"
        }
    }

    /// The `LIKE` pattern: the text anywhere, its own `%`, `_` and `\` taken literally (or,
    /// for `contains_folded`, the text itself, lowercased).
    fn pattern(&self) -> String {
        if !self.text.is_ascii() {
            return self.text.to_lowercase();
        }
        let mut pattern = String::with_capacity(self.text.len() + 2);
        pattern.push('%');
        for c in self.text.chars() {
            if matches!(c, '%' | '_' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('%');
        pattern
    }
}

/// A task with its rowid, claim order's last tie-break: what a view holding only part of a
/// column compares a newcomer with to find its place.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyed {
    /// SQLite's rowid of the task.
    pub rowid: i64,
    /// The task.
    pub task: Task,
}

impl Keyed {
    fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Keyed> {
        // The rowid comes after the task's own columns.
        Ok(Keyed {
            rowid: row.get(row.as_ref().column_count() - 1)?,
            task: Task::from_row(row)?,
        })
    }
}

/// Registers `contains_folded(text, needle)` on a connection: whether `text`, lowercased as
/// Rust lowercases (every script, not ASCII alone), contains `needle`. What a long column's
/// filter matches with when its text is not ASCII.
pub(crate) fn register_contains(conn: &rusqlite::Connection) -> Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "contains_folded",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let text: Option<String> = ctx.get(0)?;
            let needle: String = ctx.get(1)?;
            Ok(text.is_some_and(|t| t.to_lowercase().contains(&needle)))
        },
    )?;
    Ok(())
}
