//! Tables, indexes, triggers and numbered migrations (PRAGMA user_version).
//!
//! The tables are Hermes Agent's kanban tables, column for column, so either program opens the
//! other's boards. Hermes keeps no `user_version`, so the number is ours alone.

use rusqlite::{Connection, OptionalExtension, params};

use super::error::Result;
use super::gate::finished_statuses;

/// A column as the board format declares it.
struct Column {
    name: &'static str,
    decl: &'static str,
}

/// A table as the board format declares it; its columns are the single source for both
/// `CREATE TABLE` and the upgrade that adds columns an older file lacks.
struct Table {
    name: &'static str,
    columns: &'static [Column],
    constraint: Option<&'static str>,
}

macro_rules! columns {
    ($($name:literal $decl:literal),* $(,)?) => {
        &[$(Column { name: $name, decl: $decl }),*]
    };
}

const TABLES: &[Table] = &[
    Table {
        name: "tasks",
        columns: columns![
            "id" "TEXT PRIMARY KEY",
            "title" "TEXT NOT NULL",
            "body" "TEXT",
            "assignee" "TEXT",
            "status" "TEXT NOT NULL",
            "priority" "INTEGER DEFAULT 0",
            "created_by" "TEXT",
            "created_at" "INTEGER NOT NULL",
            "started_at" "INTEGER",
            "completed_at" "INTEGER",
            "workspace_kind" "TEXT NOT NULL DEFAULT 'scratch'",
            "workspace_path" "TEXT",
            "branch_name" "TEXT",
            "project_id" "TEXT",
            "claim_lock" "TEXT",
            "claim_expires" "INTEGER",
            "tenant" "TEXT",
            "result" "TEXT",
            "idempotency_key" "TEXT",
            "consecutive_failures" "INTEGER NOT NULL DEFAULT 0",
            "worker_pid" "INTEGER",
            "last_failure_error" "TEXT",
            "max_runtime_seconds" "INTEGER",
            "last_heartbeat_at" "INTEGER",
            "current_run_id" "INTEGER",
            "workflow_template_id" "TEXT",
            "current_step_key" "TEXT",
            "skills" "TEXT",
            "model_override" "TEXT",
            "max_retries" "INTEGER",
            "goal_mode" "INTEGER NOT NULL DEFAULT 0",
            "goal_max_turns" "INTEGER",
            "session_id" "TEXT",
            "block_kind" "TEXT",
            "block_recurrences" "INTEGER NOT NULL DEFAULT 0",
        ],
        constraint: None,
    },
    Table {
        name: "task_links",
        columns: columns!["parent_id" "TEXT NOT NULL", "child_id" "TEXT NOT NULL"],
        constraint: Some("PRIMARY KEY (parent_id, child_id)"),
    },
    Table {
        name: "task_comments",
        columns: columns![
            "id" "INTEGER PRIMARY KEY AUTOINCREMENT",
            "task_id" "TEXT NOT NULL",
            "author" "TEXT NOT NULL",
            "body" "TEXT NOT NULL",
            "created_at" "INTEGER NOT NULL",
        ],
        constraint: None,
    },
    Table {
        name: "task_events",
        columns: columns![
            "id" "INTEGER PRIMARY KEY AUTOINCREMENT",
            "task_id" "TEXT NOT NULL",
            "run_id" "INTEGER",
            "kind" "TEXT NOT NULL",
            "payload" "TEXT",
            "created_at" "INTEGER NOT NULL",
        ],
        constraint: None,
    },
    Table {
        name: "task_runs",
        columns: columns![
            "id" "INTEGER PRIMARY KEY AUTOINCREMENT",
            "task_id" "TEXT NOT NULL",
            "profile" "TEXT",
            "step_key" "TEXT",
            "status" "TEXT NOT NULL",
            "claim_lock" "TEXT",
            "claim_expires" "INTEGER",
            "worker_pid" "INTEGER",
            "max_runtime_seconds" "INTEGER",
            "last_heartbeat_at" "INTEGER",
            "started_at" "INTEGER NOT NULL",
            "ended_at" "INTEGER",
            "outcome" "TEXT",
            "summary" "TEXT",
            "metadata" "TEXT",
            "error" "TEXT",
        ],
        constraint: None,
    },
];

const HERMES_INDEXES: &str = "
CREATE INDEX IF NOT EXISTS idx_tasks_assignee_status ON tasks(assignee, status);
CREATE INDEX IF NOT EXISTS idx_tasks_status          ON tasks(status);
CREATE INDEX IF NOT EXISTS idx_links_child           ON task_links(child_id);
CREATE INDEX IF NOT EXISTS idx_links_parent          ON task_links(parent_id);
CREATE INDEX IF NOT EXISTS idx_comments_task         ON task_comments(task_id, created_at);
CREATE INDEX IF NOT EXISTS idx_events_task           ON task_events(task_id, created_at);
CREATE INDEX IF NOT EXISTS idx_runs_task             ON task_runs(task_id, started_at);
CREATE INDEX IF NOT EXISTS idx_runs_status           ON task_runs(status);
";

/// Our own additions: the origin record, and the index that makes claim-next one seek.
const GATEBOARD_ADDITIONS: &str = "
CREATE TABLE IF NOT EXISTS gateboard_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS idx_tasks_claim_order ON tasks(status, priority DESC, created_at);
";

/// A task's command lives in a table of our own: Hermes has no column for it, and a table
/// Hermes never rebuilds keeps it safe. `env` is a JSON array of [key, value] pairs;
/// `retry_at_ms` holds a failed task back until its backoff has passed.
const COMMANDS: &str = "
CREATE TABLE IF NOT EXISTS gateboard_commands (
    task_id TEXT PRIMARY KEY,
    command TEXT NOT NULL,
    env TEXT NOT NULL DEFAULT '[]',
    retry_at_ms INTEGER
);
";

/// The triggers that make SQLite itself refuse the two writes that break the invariant,
/// whoever the writer is. gateboard's own code checks first; these are the backstop.
const GUARDS: &str = concat!(
    "CREATE TRIGGER IF NOT EXISTS gateboard_guard_link_onto_started_child ",
    "BEFORE INSERT ON task_links ",
    "WHEN (SELECT status FROM tasks WHERE id = NEW.child_id) IN ('running', 'done', 'archived') ",
    "BEGIN SELECT RAISE(ABORT, 'gateboard guard: cannot link a parent onto a running or finished task'); END;\n",
    "CREATE TRIGGER IF NOT EXISTS gateboard_guard_run_before_parents ",
    "BEFORE UPDATE OF status ON tasks ",
    "WHEN NEW.status = 'running' AND OLD.status IS NOT 'running' AND EXISTS (",
    "SELECT 1 FROM task_links l LEFT JOIN tasks p ON p.id = l.parent_id ",
    "WHERE l.child_id = NEW.id AND (p.id IS NULL OR p.status NOT IN ",
    finished_statuses!(),
    ")) BEGIN SELECT RAISE(ABORT, 'gateboard guard: cannot set a task running while a parent is unfinished'); END;\n",
    "CREATE TRIGGER IF NOT EXISTS gateboard_guard_insert_running_before_parents ",
    "BEFORE INSERT ON tasks ",
    "WHEN NEW.status = 'running' AND EXISTS (",
    "SELECT 1 FROM task_links l LEFT JOIN tasks p ON p.id = l.parent_id ",
    "WHERE l.child_id = NEW.id AND (p.id IS NULL OR p.status NOT IN ",
    finished_statuses!(),
    ")) BEGIN SELECT RAISE(ABORT, 'gateboard guard: cannot insert a running task while a parent is unfinished'); END;\n",
);

const GUARD_NAMES: [&str; 3] = [
    "gateboard_guard_link_onto_started_child",
    "gateboard_guard_run_before_parents",
    "gateboard_guard_insert_running_before_parents",
];

/// The newest schema version this build writes.
pub const LATEST_VERSION: i64 = 3;

/// Who made a board file: it decides whether workers start on their own and whether guards are installed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// gateboard created the file.
    Gateboard,
    /// Another program (Hermes Agent, a script) created it; gateboard only joined.
    Foreign,
}

/// What the file looked like before any migration ran.
pub(crate) struct FileShape {
    pub version: i64,
    pub has_tasks: bool,
    pub other_objects: bool,
}

pub(crate) fn inspect(conn: &Connection) -> Result<FileShape> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    let has_tasks = conn
        .query_row(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'tasks'",
            [],
            |_| Ok(()),
        )
        .optional()?
        .is_some();
    let other_objects: i64 = conn.query_row(
        "SELECT count(*) FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'",
        [],
        |r| r.get(0),
    )?;
    Ok(FileShape {
        version,
        has_tasks,
        other_objects: other_objects > 0,
    })
}

/// The board-format columns the file's `tasks` table lacks that cannot be added later.
pub(crate) fn missing_required_columns(conn: &Connection) -> Result<Vec<&'static str>> {
    let present = table_columns(conn, "tasks")?;
    Ok(TABLES[0]
        .columns
        .iter()
        .filter(|c| !can_add(c) && !present.iter().any(|p| p == c.name))
        .map(|c| c.name)
        .collect())
}

/// Runs every migration after `from`, inside the caller's write transaction.
pub(crate) fn migrate(conn: &Connection, from: i64, fresh: bool) -> Result<()> {
    if from < 1 {
        create_or_complete_tables(conn)?;
    }
    if from < 2 {
        conn.execute_batch(GATEBOARD_ADDITIONS)?;
        let origin = if fresh { "gateboard" } else { "foreign" };
        conn.execute(
            "INSERT OR IGNORE INTO gateboard_meta (key, value) VALUES ('origin', ?1)",
            params![origin],
        )?;
        if fresh {
            install_guards(conn)?;
        }
    }
    if from < 3 {
        conn.execute_batch(COMMANDS)?;
        conn.execute_batch(
            "CREATE INDEX IF NOT EXISTS idx_tasks_idempotency_key ON tasks(idempotency_key);",
        )?;
    }
    conn.pragma_update(None, "user_version", LATEST_VERSION)?;
    Ok(())
}

/// Creates missing tables, then adds any column an older file lacks, keeping every row.
fn create_or_complete_tables(conn: &Connection) -> Result<()> {
    for table in TABLES {
        let mut defs: Vec<String> = table
            .columns
            .iter()
            .map(|c| format!("{} {}", c.name, c.decl))
            .collect();
        defs.extend(table.constraint.map(str::to_owned));
        conn.execute_batch(&format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            table.name,
            defs.join(", ")
        ))?;
        let present = table_columns(conn, table.name)?;
        for column in table.columns.iter().filter(|c| can_add(c)) {
            if !present.iter().any(|p| p == column.name) {
                conn.execute_batch(&format!(
                    "ALTER TABLE {} ADD COLUMN {} {}",
                    table.name, column.name, column.decl
                ))?;
            }
        }
    }
    conn.execute_batch(HERMES_INDEXES)?;
    Ok(())
}

/// SQLite can add a column later unless it is a key or a NOT NULL without a default.
fn can_add(column: &Column) -> bool {
    !column.decl.contains("PRIMARY KEY")
        && (!column.decl.contains("NOT NULL") || column.decl.contains("DEFAULT"))
}

fn table_columns(conn: &Connection, table: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare(&format!("PRAGMA table_info({table})"))?;
    let names = stmt.query_map([], |r| r.get::<_, String>(1))?;
    Ok(names.collect::<rusqlite::Result<_>>()?)
}

/// Installs the guard triggers; idempotent.
pub(crate) fn install_guards(conn: &Connection) -> Result<()> {
    conn.execute_batch(GUARDS)?;
    Ok(())
}

/// Whether every guard trigger is present.
pub(crate) fn has_guards(conn: &Connection) -> Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name = ?1",
    )?;
    for name in GUARD_NAMES {
        let n: i64 = stmt.query_row(params![name], |r| r.get(0))?;
        if n == 0 {
            return Ok(false);
        }
    }
    Ok(true)
}

/// Whether the board has a trigger that is not one of gateboard's guards: another program's
/// rule, which gateboard's writes must fire.
pub(crate) fn has_foreign_triggers(conn: &Connection) -> Result<bool> {
    let names: Vec<String> = conn
        .prepare_cached("SELECT name FROM sqlite_master WHERE type = 'trigger'")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(names
        .iter()
        .any(|name| !GUARD_NAMES.contains(&name.as_str())))
}

/// Who created the file, from the record the first migration wrote.
pub(crate) fn origin(conn: &Connection) -> Result<Origin> {
    let value: Option<String> = conn
        .query_row(
            "SELECT value FROM gateboard_meta WHERE key = 'origin'",
            [],
            |r| r.get(0),
        )
        .optional()?;
    Ok(match value.as_deref() {
        Some("gateboard") => Origin::Gateboard,
        _ => Origin::Foreign,
    })
}
