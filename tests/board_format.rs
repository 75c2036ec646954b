//! The board file's promises: Hermes-shaped foreign writes work, foreign and older files are
//! upgraded in place keeping every row and column, the guard triggers make SQLite itself refuse
//! the two writes that break the invariant, and the audit reports every kind of violation.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use gateboard::core::audit::{Violation, audit};
use gateboard::core::ops::{ClaimOutcome, Claimer};
use gateboard::core::schema::LATEST_VERSION;
use gateboard::core::{Board, BoardError, EventKind, NewTask, OpenOptions, Origin, Status};
use rusqlite::types::Value;
use serde_json::json;
use tempfile::TempDir;

const NOW: i64 = 1_700_000_000;

/// Every row of a table, each as its column values.
type Rows = Vec<Vec<Value>>;
/// A table's column names and rows.
type Dump = (Vec<String>, Rows);

/// Hermes Agent's tables as the board format lists them, with Hermes's indexes.
const HERMES_SCHEMA: &str = "
CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT, assignee TEXT,
  status TEXT NOT NULL, priority INTEGER DEFAULT 0, created_by TEXT, created_at INTEGER NOT NULL,
  started_at INTEGER, completed_at INTEGER, workspace_kind TEXT NOT NULL DEFAULT 'scratch',
  workspace_path TEXT, branch_name TEXT, project_id TEXT, claim_lock TEXT, claim_expires INTEGER,
  tenant TEXT, result TEXT, idempotency_key TEXT, consecutive_failures INTEGER NOT NULL DEFAULT 0,
  worker_pid INTEGER, last_failure_error TEXT, max_runtime_seconds INTEGER,
  last_heartbeat_at INTEGER, current_run_id INTEGER, workflow_template_id TEXT,
  current_step_key TEXT, skills TEXT, model_override TEXT, max_retries INTEGER,
  goal_mode INTEGER NOT NULL DEFAULT 0, goal_max_turns INTEGER, session_id TEXT,
  block_kind TEXT, block_recurrences INTEGER NOT NULL DEFAULT 0);
CREATE TABLE task_links (parent_id TEXT NOT NULL, child_id TEXT NOT NULL,
  PRIMARY KEY (parent_id, child_id));
CREATE TABLE task_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL,
  run_id INTEGER, kind TEXT NOT NULL, payload TEXT, created_at INTEGER NOT NULL);
CREATE TABLE task_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL,
  profile TEXT, step_key TEXT, status TEXT NOT NULL, claim_lock TEXT, claim_expires INTEGER,
  worker_pid INTEGER, max_runtime_seconds INTEGER, last_heartbeat_at INTEGER,
  started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT, summary TEXT, metadata TEXT,
  error TEXT);
CREATE TABLE task_comments (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL,
  author TEXT NOT NULL, body TEXT NOT NULL, created_at INTEGER NOT NULL);
CREATE INDEX idx_tasks_assignee_status ON tasks(assignee, status);
CREATE INDEX idx_tasks_status ON tasks(status);
CREATE INDEX idx_links_child ON task_links(child_id);
CREATE INDEX idx_links_parent ON task_links(parent_id);
CREATE INDEX idx_events_task ON task_events(task_id, created_at);
CREATE INDEX idx_runs_task ON task_runs(task_id, started_at);
CREATE INDEX idx_runs_status ON task_runs(status);
CREATE INDEX idx_comments_task ON task_comments(task_id, created_at);
";

/// An older Hermes file: no `session_id`, `block_kind`, `block_recurrences`, no
/// `task_runs.error`, no comments table; plus a column and a table of its own.
const OLDER_HERMES_SCHEMA: &str = "
CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, body TEXT, assignee TEXT,
  status TEXT NOT NULL, priority INTEGER DEFAULT 0, created_by TEXT, created_at INTEGER NOT NULL,
  started_at INTEGER, completed_at INTEGER, workspace_kind TEXT NOT NULL DEFAULT 'scratch',
  workspace_path TEXT, branch_name TEXT, project_id TEXT, claim_lock TEXT, claim_expires INTEGER,
  tenant TEXT, result TEXT, idempotency_key TEXT, consecutive_failures INTEGER NOT NULL DEFAULT 0,
  worker_pid INTEGER, last_failure_error TEXT, max_runtime_seconds INTEGER,
  last_heartbeat_at INTEGER, current_run_id INTEGER, workflow_template_id TEXT,
  current_step_key TEXT, skills TEXT, model_override TEXT, max_retries INTEGER,
  goal_mode INTEGER NOT NULL DEFAULT 0, goal_max_turns INTEGER, lane TEXT DEFAULT 'main');
CREATE TABLE task_links (parent_id TEXT NOT NULL, child_id TEXT NOT NULL,
  PRIMARY KEY (parent_id, child_id));
CREATE TABLE task_events (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL,
  run_id INTEGER, kind TEXT NOT NULL, payload TEXT, created_at INTEGER NOT NULL);
CREATE TABLE task_runs (id INTEGER PRIMARY KEY AUTOINCREMENT, task_id TEXT NOT NULL,
  profile TEXT, step_key TEXT, status TEXT NOT NULL, claim_lock TEXT, claim_expires INTEGER,
  worker_pid INTEGER, max_runtime_seconds INTEGER, last_heartbeat_at INTEGER,
  started_at INTEGER NOT NULL, ended_at INTEGER, outcome TEXT, summary TEXT, metadata TEXT);
CREATE TABLE kanban_notify_subs (id INTEGER PRIMARY KEY, task_id TEXT NOT NULL, channel TEXT);
CREATE INDEX idx_tasks_status ON tasks(status);
";

const OLDER_HERMES_ROWS: &str = "
INSERT INTO tasks (id, title, status, created_at, lane) VALUES ('t_aaaa0001', 'sort me', 'triage', 1000, 'side');
INSERT INTO tasks (id, title, status, created_at, completed_at, result, assignee)
  VALUES ('t_aaaa0002', 'fetch', 'done', 1001, 1100, 'ok', 'coder');
INSERT INTO tasks (id, title, body, status, priority, created_at, workspace_kind, workspace_path, skills, goal_mode)
  VALUES ('t_aaaa0003', 'train', 'on the big set', 'ready', 3, 1002, 'worktree', '/tmp/w', '[\"py\"]', 1);
INSERT INTO tasks (id, title, status, created_at) VALUES ('t_aaaa0004', 'check it', 'in_qa', 1003);
INSERT INTO tasks (id, title, status, created_at, priority) VALUES ('t_aaaa0005', 'look at it', 'review', 1004, NULL);
INSERT INTO tasks (id, title, status, created_at, started_at, claim_lock, claim_expires, worker_pid, current_run_id)
  VALUES ('t_aaaa0006', 'busy', 'running', 1005, 1200, 'hermes:w1', 99999999999, 4242, 1);
INSERT INTO task_links (parent_id, child_id) VALUES ('t_aaaa0002', 't_aaaa0003');
INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES ('t_aaaa0001', NULL, 'created', NULL, 1000);
INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES ('t_aaaa0002', NULL, 'completed', '{\"summary\":\"ok\"}', 1100);
INSERT INTO task_events (task_id, run_id, kind, payload, created_at) VALUES ('t_aaaa0006', 1, 'spawned', 'not json', 1200);
INSERT INTO task_runs (task_id, profile, status, claim_lock, claim_expires, worker_pid, started_at)
  VALUES ('t_aaaa0006', 'default', 'running', 'hermes:w1', 99999999999, 4242, 1200);
INSERT INTO kanban_notify_subs (task_id, channel) VALUES ('t_aaaa0003', 'telegram');
";

fn raw(path: &Path) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open(path).expect("raw connection");
    conn.busy_timeout(Duration::from_secs(10))
        .expect("busy timeout");
    conn
}

/// A file another program made with plain SQLite, never touched by gateboard.
fn foreign_file(schema: &str, rows: &str) -> (TempDir, PathBuf) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("kanban.db");
    let conn = raw(&path);
    conn.execute_batch(schema).expect("foreign schema");
    conn.execute_batch(rows).expect("foreign rows");
    drop(conn);
    (dir, path)
}

/// A board gateboard joined but did not create: no guard triggers, so raw SQL can damage it.
struct Foreign {
    _dir: TempDir,
    board: Board,
    raw: rusqlite::Connection,
}

impl Foreign {
    fn new() -> Foreign {
        let (dir, path) = foreign_file(HERMES_SCHEMA, "");
        let board = common::open_fast(&path);
        assert_eq!(board.origin().unwrap(), Origin::Foreign);
        assert!(!board.is_hardened().unwrap());
        let raw = raw(&path);
        Foreign {
            _dir: dir,
            board,
            raw,
        }
    }

    fn add(&mut self, title: &str, parents: &[&str]) -> String {
        add(&mut self.board, title, parents)
    }

    fn audit(&self) -> Vec<Violation> {
        self.board.read(audit).expect("audit")
    }

    fn sql(&self, sql: &str, params: impl rusqlite::Params) {
        self.raw.execute(sql, params).expect("raw write");
    }

    fn last_event_id(&self, task: &str) -> i64 {
        self.raw
            .query_row(
                "SELECT max(id) FROM task_events WHERE task_id = ?1",
                [task],
                |r| r.get(0),
            )
            .expect("event id")
    }
}

fn add(board: &mut Board, title: &str, parents: &[&str]) -> String {
    board
        .write_at(NOW, |t| {
            t.create(&NewTask {
                title: title.into(),
                parents: parents.iter().map(|p| p.to_string()).collect(),
                ..NewTask::default()
            })
        })
        .expect("create")
}

fn claimer(lock: &str) -> Claimer {
    Claimer {
        lock: lock.into(),
        ttl: Duration::from_secs(600),
    }
}

fn claim(board: &mut Board, id: &str, lock: &str) -> i64 {
    match board
        .write_at(NOW, |t| t.claim(id, &claimer(lock)))
        .expect("claim")
    {
        ClaimOutcome::Claimed(claim) => claim.run_id,
        rejected => panic!("claim of {id} rejected: {rejected:?}"),
    }
}

/// Column names and every row of a table, in rowid order.
fn table(conn: &rusqlite::Connection, name: &str) -> Dump {
    let mut stmt = conn
        .prepare(&format!("SELECT * FROM {name} ORDER BY rowid"))
        .expect("prepare");
    let columns: Vec<String> = stmt.column_names().map(str::to_owned).collect();
    let rows = stmt
        .query_map([], |row| {
            (0..columns.len())
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .expect("query")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows");
    (columns, rows)
}

/// The given columns of a table, in rowid order.
fn columns_of(conn: &rusqlite::Connection, name: &str, columns: &[String]) -> Rows {
    let list = columns
        .iter()
        .map(|c| format!("\"{c}\""))
        .collect::<Vec<_>>()
        .join(", ");
    let mut stmt = conn
        .prepare(&format!("SELECT {list} FROM {name} ORDER BY rowid"))
        .expect("prepare");
    stmt.query_map([], |row| {
        (0..columns.len())
            .map(|i| row.get::<_, Value>(i))
            .collect::<rusqlite::Result<Vec<_>>>()
    })
    .expect("query")
    .collect::<rusqlite::Result<Vec<_>>>()
    .expect("rows")
}

fn all_tables(conn: &rusqlite::Connection) -> Vec<Dump> {
    [
        "tasks",
        "task_links",
        "task_events",
        "task_runs",
        "task_comments",
    ]
    .iter()
    .map(|t| table(conn, t))
    .collect()
}

/// Checks that SQLite refused a write through one of gateboard's guard triggers.
fn assert_guard_refused(result: rusqlite::Result<usize>, rule: &str) {
    match result {
        Err(rusqlite::Error::SqliteFailure(code, Some(message))) => {
            assert_eq!(code.code, rusqlite::ErrorCode::ConstraintViolation);
            assert_eq!(code.extended_code, rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER);
            assert!(message.contains("gateboard guard"), "{message}");
            assert!(message.contains(rule), "{message} does not mention {rule}");
        }
        other => panic!("expected a guard trigger to refuse the write, got {other:?}"),
    }
}

// ---- foreign writes ----

#[test]
fn a_hermes_shaped_insert_of_id_title_status_created_at_succeeds() {
    let file = common::TempBoard::new();
    let conn = raw(&file.path);
    conn.execute(
        "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000abcd', 'from hermes', 'ready', ?1)",
        [NOW],
    )
    .expect("foreign insert");
    let defaults: (String, i64, i64, i64, Option<i64>) = conn
        .query_row(
            "SELECT workspace_kind, consecutive_failures, goal_mode, block_recurrences, priority \
             FROM tasks WHERE id = 't_0000abcd'",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
        )
        .unwrap();
    assert_eq!(defaults, ("scratch".into(), 0, 0, 0, Some(0)));
    let mut board = file.open();
    let task = board
        .read(|r| r.task("t_0000abcd"))
        .expect("gateboard reads it");
    assert_eq!(task.title, "from hermes");
    assert_eq!(task.status, Status::Ready);
    assert_eq!(task.created_at, NOW);
    assert_eq!(task.claim_lock, None);
    claim(&mut board, "t_0000abcd", "w1");
    assert_eq!(
        board.read(|r| r.task("t_0000abcd")).unwrap().status,
        Status::Running
    );
}

#[test]
fn hermes_shaped_inserts_into_the_other_tables_succeed() {
    let file = common::TempBoard::new();
    let conn = raw(&file.path);
    conn.execute_batch(
        "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000aaaa', 'parent', 'done', 10);
         INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000bbbb', 'child', 'ready', 11);
         INSERT INTO task_links (parent_id, child_id) VALUES ('t_0000aaaa', 't_0000bbbb');
         INSERT INTO task_events (task_id, kind, created_at) VALUES ('t_0000bbbb', 'created', 11);
         INSERT INTO task_runs (task_id, status, started_at) VALUES ('t_0000aaaa', 'done', 10);
         INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('t_0000bbbb', 'hermes', 'hi', 12);",
    )
    .expect("foreign inserts");
    let board = file.open();
    let child = board.read(|r| r.detail("t_0000bbbb")).unwrap();
    assert_eq!(child.parents.len(), 1);
    assert_eq!(child.parents[0].status, Status::Done);
    assert_eq!(child.events.len(), 1);
    assert_eq!(child.events[0].kind, EventKind::Created);
    assert_eq!(child.events[0].payload, None);
    assert_eq!(child.comments[0].body, "hi");
    assert_eq!(child.not_ready_because, None);
    let parent = board.read(|r| r.detail("t_0000aaaa")).unwrap();
    assert_eq!(parent.runs.len(), 1);
}

#[test]
fn a_ready_row_with_an_unfinished_parent_written_by_raw_sql_is_refused_at_claim() {
    let file = common::TempBoard::new();
    let conn = raw(&file.path);
    conn.execute_batch(
        "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000aaaa', 'parent', 'todo', 10);
         INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000bbbb', 'child', 'ready', 11);
         INSERT INTO task_links (parent_id, child_id) VALUES ('t_0000aaaa', 't_0000bbbb');",
    )
    .expect("raw rows");
    let mut board = file.open();
    let outcome = board
        .write(|t| t.claim("t_0000bbbb", &claimer("w1")))
        .expect("claim");
    assert_eq!(
        outcome,
        ClaimOutcome::Rejected {
            unfinished: vec![("t_0000aaaa".into(), Status::Todo)]
        }
    );
    let detail = board.read(|r| r.detail("t_0000bbbb")).unwrap();
    assert_eq!(detail.task.status, Status::Todo);
    assert_eq!(detail.task.claim_lock, None);
    assert!(detail.runs.is_empty());
    let rejected = detail.events.last().expect("an event");
    assert_eq!(rejected.kind, EventKind::ClaimRejected);
    assert_eq!(
        rejected.payload,
        Some(json!({"reason": "parents_not_done"}))
    );
    let stored: String = conn
        .query_row(
            "SELECT payload FROM task_events WHERE kind = 'claim_rejected'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&stored).unwrap(),
        json!({"reason": "parents_not_done"})
    );
}

#[test]
fn claim_next_refuses_a_raw_ready_row_with_an_unfinished_parent() {
    let file = common::TempBoard::new();
    raw(&file.path)
        .execute_batch(
            "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000aaaa', 'parent', 'blocked', 10);
             INSERT INTO tasks (id, title, status, priority, created_at) VALUES ('t_0000bbbb', 'child', 'ready', 5, 11);
             INSERT INTO task_links (parent_id, child_id) VALUES ('t_0000aaaa', 't_0000bbbb');",
        )
        .expect("raw rows");
    let mut board = file.open();
    let next = board
        .write(|t| t.claim_next(&claimer("w1")))
        .expect("claim next");
    assert_eq!(next.claim, None);
    assert_eq!(next.rejected, vec!["t_0000bbbb".to_string()]);
    assert_eq!(
        board.read(|r| r.task("t_0000bbbb")).unwrap().status,
        Status::Todo
    );
}

#[test]
fn claim_next_ranks_a_foreign_null_priority_below_every_number() {
    let file = common::TempBoard::new();
    raw(&file.path)
        .execute_batch(
            "INSERT INTO tasks (id, title, status, priority, created_at) VALUES ('t_0000aaaa', 'no priority', 'ready', NULL, 10);
             INSERT INTO tasks (id, title, status, priority, created_at) VALUES ('t_0000bbbb', 'negative', 'ready', -5, 20);",
        )
        .expect("raw rows");
    let mut board = file.open();
    let first = board.write(|t| t.claim_next(&claimer("w1"))).unwrap();
    assert_eq!(first.claim.unwrap().task_id, "t_0000bbbb");
    let second = board.write(|t| t.claim_next(&claimer("w1"))).unwrap();
    assert_eq!(second.claim.unwrap().task_id, "t_0000aaaa");
}

#[test]
fn a_foreign_row_with_mistyped_columns_does_not_break_the_board() {
    let file = common::TempBoard::new();
    raw(&file.path)
        .execute_batch(
            "INSERT INTO tasks (id, title, status, priority, created_at) VALUES ('t_0000cccc', 'typed by hand', 'ready', 'high', 'yesterday');
             INSERT INTO tasks (id, title, status, priority, created_at) VALUES ('t_0000dddd', 42, 'ready', '7', 30);",
        )
        .expect("raw rows");
    let mut board = file.open();
    let tasks = board
        .read(|r| r.tasks(None))
        .expect("the board still lists");
    assert_eq!(tasks.len(), 2);
    let mistyped = tasks.iter().find(|t| t.id == "t_0000cccc").expect("row");
    assert_eq!((mistyped.priority, mistyped.created_at), (None, 0));
    let numeric = tasks.iter().find(|t| t.id == "t_0000dddd").expect("row");
    assert_eq!((numeric.title.as_str(), numeric.priority), ("42", Some(7)));
    let first = board
        .write(|t| t.claim_next(&claimer("w1")))
        .expect("claim");
    assert!(
        first.claim.is_some(),
        "the mistyped row does not stop claims"
    );
}

// ---- upgrades ----

#[test]
fn an_older_foreign_file_is_upgraded_in_place_keeping_every_row_and_column() {
    let (_dir, path) = foreign_file(OLDER_HERMES_SCHEMA, OLDER_HERMES_ROWS);
    let conn = raw(&path);
    let before: Vec<(String, Dump)> = [
        "tasks",
        "task_links",
        "task_events",
        "task_runs",
        "kanban_notify_subs",
    ]
    .iter()
    .map(|t| (t.to_string(), table(&conn, t)))
    .collect();

    let board = Board::open(&path, &OpenOptions::default()).expect("gateboard opens it");

    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST_VERSION);
    for (name, (columns, rows)) in &before {
        let (now_columns, _) = table(&conn, name);
        assert_eq!(
            &now_columns[..columns.len()],
            &columns[..],
            "{name} lost or reordered a column"
        );
        assert_eq!(
            &columns_of(&conn, name, columns),
            rows,
            "{name} changed a value"
        );
    }
    let (task_columns, _) = table(&conn, "tasks");
    for added in ["session_id", "block_kind", "block_recurrences"] {
        assert!(
            task_columns.iter().any(|c| c == added),
            "tasks lacks {added}"
        );
    }
    let recurrences: Vec<i64> = conn
        .prepare("SELECT block_recurrences FROM tasks ORDER BY rowid")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert_eq!(recurrences, vec![0; 6]);
    assert!(table(&conn, "task_runs").0.iter().any(|c| c == "error"));
    assert_eq!(table(&conn, "task_comments").1.len(), 0);

    let statuses: Vec<(String, Status)> = board
        .read(|r| r.tasks(None))
        .unwrap()
        .into_iter()
        .map(|t| (t.id, t.status))
        .collect();
    for expected in [
        ("t_aaaa0001", Status::Triage),
        ("t_aaaa0003", Status::Ready),
        ("t_aaaa0004", Status::Other("in_qa".into())),
        ("t_aaaa0005", Status::Review),
        ("t_aaaa0006", Status::Running),
    ] {
        assert!(
            statuses.contains(&(expected.0.to_string(), expected.1.clone())),
            "{expected:?} not in {statuses:?}"
        );
    }
    let events = board.read(|r| r.events_after(0, 100, None)).unwrap();
    assert_eq!(events[2].kind, EventKind::Other("spawned".into()));
    assert_eq!(events[2].payload, Some(json!("not json")));
}

#[test]
fn opening_an_upgraded_file_again_changes_nothing() {
    let (_dir, path) = foreign_file(OLDER_HERMES_SCHEMA, OLDER_HERMES_ROWS);
    drop(Board::open(&path, &OpenOptions::default()).expect("first open"));
    let conn = raw(&path);
    let schema = |conn: &rusqlite::Connection| -> Vec<(String, Option<String>)> {
        conn.prepare("SELECT name, sql FROM sqlite_master ORDER BY name")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let (objects, rows) = (schema(&conn), all_tables(&conn));
    drop(Board::open(&path, &OpenOptions::default()).expect("second open"));
    assert_eq!(schema(&conn), objects);
    assert_eq!(all_tables(&conn), rows);
}

#[test]
fn a_foreign_file_is_foreign_and_unguarded_until_harden() {
    let (_dir, path) = foreign_file(OLDER_HERMES_SCHEMA, OLDER_HERMES_ROWS);
    let board = Board::open(&path, &OpenOptions::default()).expect("open");
    assert_eq!(board.origin().unwrap(), Origin::Foreign);
    assert!(!board.is_hardened().unwrap());
    let conn = raw(&path);
    conn.execute(
        "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000cccc', 'gated', 'todo', 1)",
        [],
    )
    .unwrap();
    conn.execute(
        "INSERT INTO task_links (parent_id, child_id) VALUES ('t_aaaa0001', 't_0000cccc')",
        [],
    )
    .unwrap();
    let run_gated = "UPDATE tasks SET status = 'running' WHERE id = 't_0000cccc'";
    assert_eq!(conn.execute(run_gated, []).expect("no guard yet"), 1);
    conn.execute(
        "UPDATE tasks SET status = 'todo' WHERE id = 't_0000cccc'",
        [],
    )
    .unwrap();
    drop(board);
    let mut board = Board::open(&path, &OpenOptions::default()).expect("reopen");
    assert!(
        !board.is_hardened().unwrap(),
        "opening again must not harden"
    );

    assert!(board.harden().expect("harden"), "guards were missing");
    assert!(board.is_hardened().unwrap());
    assert_eq!(board.origin().unwrap(), Origin::Foreign);
    assert_guard_refused(conn.execute(run_gated, []), "running");
    assert!(!board.harden().expect("harden again"), "already hardened");
}

#[test]
fn a_lock_timeout_sqlite_cannot_hold_is_refused_before_the_file_is_touched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("board.db");
    for lock_timeout in [
        gateboard::core::MAX_LOCK_TIMEOUT + Duration::from_millis(1),
        Duration::MAX,
    ] {
        let options = OpenOptions {
            create: true,
            lock_timeout,
            ..OpenOptions::default()
        };
        let err = Board::open(&path, &options).err().expect("refused");
        assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
        assert!(!path.exists(), "a refused open created the file");
    }
    let longest = OpenOptions {
        create: true,
        lock_timeout: gateboard::core::MAX_LOCK_TIMEOUT,
        ..OpenOptions::default()
    };
    let mut board = Board::open(&path, &longest).expect("the longest wait SQLite holds");
    board
        .write(|t| {
            t.create(&NewTask {
                title: "fits".into(),
                ..NewTask::default()
            })
        })
        .expect("a write with the longest wait");
}

#[test]
fn a_board_gateboard_creates_is_its_own_and_guarded() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    assert_eq!(board.origin().unwrap(), Origin::Gateboard);
    assert!(board.is_hardened().unwrap());
    assert!(!board.harden().unwrap(), "nothing was missing");
    let version: i64 = raw(&file.path)
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, LATEST_VERSION);
}

#[test]
fn a_file_whose_tasks_table_lacks_a_required_column_is_refused_untouched() {
    let (_dir, path) = foreign_file(
        "CREATE TABLE tasks (id TEXT PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL);",
        "INSERT INTO tasks VALUES ('x', 'y', 'todo');",
    );
    let err = Board::open(&path, &OpenOptions::default())
        .err()
        .expect("refused");
    assert!(
        matches!(&err, BoardError::NotABoard { reason, .. } if reason.contains("created_at")),
        "{err:?}"
    );
    let conn = raw(&path);
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))
        .unwrap();
    assert_eq!(objects, 2, "only the table and its primary key index");
    assert_eq!(table(&conn, "tasks").1.len(), 1);
}

// ---- the guard triggers ----

#[test]
fn guards_refuse_raw_sql_linking_onto_a_running_child() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let parent = add(&mut board, "parent", &[]);
    let child = add(&mut board, "child", &[]);
    claim(&mut board, &child, "w1");
    let conn = raw(&file.path);
    assert_guard_refused(
        conn.execute(
            "INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2)",
            [&parent, &child],
        ),
        "link",
    );
    assert!(board.read(|r| r.links()).unwrap().is_empty());
}

#[test]
fn guards_refuse_raw_sql_linking_onto_a_finished_child() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let parent = add(&mut board, "parent", &[]);
    let done = add(&mut board, "done", &[]);
    board.write(|t| t.complete(&done, None, None)).unwrap();
    let archived = add(&mut board, "archived", &[]);
    board.write(|t| t.archive(&archived)).unwrap();
    let conn = raw(&file.path);
    for child in [&done, &archived] {
        assert_guard_refused(
            conn.execute(
                "INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2)",
                [&parent, child],
            ),
            "link",
        );
    }
    assert!(board.read(|r| r.links()).unwrap().is_empty());
}

#[test]
fn guards_refuse_raw_sql_setting_a_task_running_while_a_parent_is_unfinished() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let parent = add(&mut board, "parent", &[]);
    let child = add(&mut board, "child", &[&parent]);
    let conn = raw(&file.path);
    assert_guard_refused(
        conn.execute(
            "UPDATE tasks SET status = 'running', claim_lock = 'rogue' WHERE id = ?1",
            [&child],
        ),
        "running",
    );
    let task = board.read(|r| r.task(&child)).unwrap();
    assert_eq!(task.status, Status::Todo);
    assert_eq!(task.claim_lock, None);
    // A raw `ready` is allowed (the claim gate handles it); only `running` is the guard's.
    conn.execute("UPDATE tasks SET status = 'ready' WHERE id = ?1", [&child])
        .expect("ready is not guarded");
}

#[test]
fn guards_refuse_raw_sql_inserting_a_running_task_under_an_unfinished_parent() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let parent = add(&mut board, "parent", &[]);
    let conn = raw(&file.path);
    conn.execute(
        "INSERT INTO task_links (parent_id, child_id) VALUES (?1, 't_0000c0de')",
        [&parent],
    )
    .unwrap();
    assert_guard_refused(
        conn.execute(
            "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000c0de', 'x', 'running', 1)",
            [],
        ),
        "running",
    );
    assert_eq!(board.read(|r| r.find_task("t_0000c0de")).unwrap(), None);
}

#[test]
fn guards_let_raw_sql_run_a_task_whose_parents_are_all_finished() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let parent = add(&mut board, "parent", &[]);
    board.write(|t| t.archive(&parent)).unwrap();
    let child = add(&mut board, "child", &[&parent]);
    let conn = raw(&file.path);
    assert_eq!(
        conn.execute(
            "UPDATE tasks SET status = 'running' WHERE id = ?1",
            [&child]
        )
        .expect("allowed"),
        1
    );
}

// gateboard's own checks refuse these writes before SQLite sees them, so a guard can fire
// inside a gateboard write only when another writer acts within it: here, another program's
// trigger. The refusal must surface as RuleViolation and roll the whole write back.

#[test]
fn a_guard_firing_inside_a_gateboard_claim_is_a_rule_violation() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let review = add(&mut board, "review", &[]);
    let work = add(&mut board, "work", &[]);
    let conn = raw(&file.path);
    // Another program's rule: every task that starts gets a review parent.
    conn.execute_batch(&format!(
        "CREATE TRIGGER foreign_review_on_start AFTER UPDATE OF status ON tasks \
         WHEN NEW.status = 'running' AND NEW.id <> '{review}' \
         BEGIN INSERT INTO task_links (parent_id, child_id) VALUES ('{review}', NEW.id); END;"
    ))
    .unwrap();
    let before = all_tables(&conn);
    let err = board
        .write(|t| t.claim(&work, &claimer("w1")))
        .expect_err("the guard refuses");
    assert!(
        matches!(&err, BoardError::RuleViolation(msg) if msg.contains("gateboard guard") && msg.contains("link")),
        "{err:?}"
    );
    assert_eq!(
        all_tables(&conn),
        before,
        "the refused claim wrote something"
    );
}

#[test]
fn a_guard_firing_inside_a_gateboard_create_is_a_rule_violation() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let parent = add(&mut board, "parent", &[]);
    let conn = raw(&file.path);
    // Another program's rule: a task starts as soon as it is linked.
    conn.execute_batch(
        "CREATE TRIGGER foreign_autostart AFTER INSERT ON task_links \
         BEGIN UPDATE tasks SET status = 'running' WHERE id = NEW.child_id; END;",
    )
    .unwrap();
    let before = all_tables(&conn);
    let err = board
        .write(|t| {
            t.create(&NewTask {
                title: "child".into(),
                parents: vec![parent.clone()],
                ..NewTask::default()
            })
        })
        .expect_err("the guard refuses");
    assert!(
        matches!(&err, BoardError::RuleViolation(msg) if msg.contains("gateboard guard") && msg.contains("running")),
        "{err:?}"
    );
    assert_eq!(
        all_tables(&conn),
        before,
        "the refused create wrote something"
    );
}

#[test]
fn claimed_and_completed_payloads_are_written_as_they_always_were() {
    let file = common::TempBoard::new();
    let mut board = file.open();
    let id = add(&mut board, "t", &[]);
    let run = claim(&mut board, &id, "w1");
    board
        .write_at(NOW, |t| t.complete(&id, Some("w1"), Some("ok\nmore")))
        .expect("complete");
    let conn = raw(&file.path);
    let payload = |kind: &str| -> String {
        conn.query_row(
            "SELECT payload FROM task_events WHERE task_id = ?1 AND kind = ?2",
            [&id, kind],
            |r| r.get(0),
        )
        .expect(kind)
    };
    // Keys sorted, no spaces: the bytes other programs have always read.
    assert_eq!(
        payload("claimed"),
        format!(r#"{{"expires":{},"lock":"w1","run_id":{run}}}"#, NOW + 600)
    );
    assert_eq!(payload("completed"), r#"{"result_len":7,"summary":"ok"}"#);
}

// ---- the audit ----

#[test]
fn audit_is_empty_on_a_healthy_board() {
    let file = common::TempBoard::new();
    let mut b = file.open();
    let fetch = add(&mut b, "fetch", &[]);
    let clean = add(&mut b, "clean", &[&fetch]);
    let train = add(&mut b, "train", &[&clean]);
    let side = add(&mut b, "side", &[]);
    let old = add(&mut b, "old", &[]);
    b.write(|t| t.link(&side, &train)).unwrap();
    b.write(|t| t.unlink(&side, &train)).unwrap();
    b.write(|t| t.comment(&fetch, "ana", "go")).unwrap();
    claim(&mut b, &fetch, "w1");
    b.write_at(NOW + 1, |t| t.heartbeat(&fetch, &claimer("w1")))
        .unwrap();
    b.write_at(NOW + 2, |t| t.complete(&fetch, Some("w1"), Some("ok")))
        .unwrap();
    // A raw `ready` the gate then rejects leaves the board clean.
    raw(&file.path)
        .execute("UPDATE tasks SET status = 'ready' WHERE id = ?1", [&train])
        .unwrap();
    b.write_at(NOW + 3, |t| t.claim(&train, &claimer("w1")))
        .unwrap();
    // A claim that lapses, then is taken again and blocked, then gains a parent.
    claim(&mut b, &side, "w2");
    b.write_at(NOW + 10_000, |t| {
        t.reclaim_expired(Duration::from_secs(600))
    })
    .unwrap();
    b.write_at(NOW + 10_001, |t| t.claim(&side, &claimer("w3")))
        .unwrap();
    b.write_at(NOW + 10_002, |t| t.block(&side, "needs a person"))
        .unwrap();
    b.write_at(NOW + 10_003, |t| t.link(&clean, &side)).unwrap();
    b.write_at(NOW + 10_004, |t| t.unblock(&side)).unwrap();
    b.write_at(NOW + 10_005, |t| t.archive(&old)).unwrap();
    b.write_at(NOW + 10_006, |t| t.claim(&clean, &claimer("w1")))
        .unwrap();
    b.write_at(NOW + 10_007, |t| t.release(&clean, &claimer("w1")))
        .unwrap();
    let found = b.read(audit).unwrap();
    assert_eq!(found, Vec::<Violation>::new());
}

#[test]
fn audit_reports_a_running_task_with_an_unfinished_parent() {
    let mut fx = Foreign::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[]);
    claim(&mut fx.board, &child, "w1");
    let claim_event = fx.last_event_id(&child);
    fx.sql(
        "INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2)",
        [&parent, &child],
    );
    assert_eq!(
        fx.audit(),
        vec![
            Violation::RunningBeforeParents {
                task: child.clone(),
                parent: parent.clone(),
                parent_status: "ready".into(),
            },
            Violation::ClaimBeforeParentFinished {
                task: child.clone(),
                claim_event,
                parent: parent.clone(),
            },
            Violation::ClaimBeforeParentCompletedAt {
                task: child,
                claimed_at: NOW,
                parent,
                parent_completed_at: None,
            },
        ]
    );
}

#[test]
fn audit_reports_a_claim_event_that_precedes_a_parents_completed_event() {
    let mut fx = Foreign::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.sql(
        "INSERT INTO task_events (task_id, kind, created_at) VALUES (?1, 'claimed', ?2)",
        rusqlite::params![child, NOW],
    );
    let claim_event = fx.last_event_id(&child);
    // Completed in the same second: the timestamp audit cannot see it, the event order can.
    fx.board
        .write_at(NOW, |t| t.complete(&parent, None, None))
        .unwrap();
    assert_eq!(
        fx.audit(),
        vec![Violation::ClaimBeforeParentFinished {
            task: child,
            claim_event,
            parent,
        }]
    );
}

#[test]
fn audit_reports_a_claim_timestamped_before_its_parent_completed() {
    let mut fx = Foreign::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.sql(
        "INSERT INTO task_events (task_id, kind, created_at) VALUES (?1, 'claimed', ?2)",
        rusqlite::params![child, NOW],
    );
    let claim_event = fx.last_event_id(&child);
    fx.board
        .write_at(NOW + 5, |t| t.complete(&parent, None, None))
        .unwrap();
    assert_eq!(
        fx.audit(),
        vec![
            Violation::ClaimBeforeParentFinished {
                task: child.clone(),
                claim_event,
                parent: parent.clone(),
            },
            Violation::ClaimBeforeParentCompletedAt {
                task: child,
                claimed_at: NOW,
                parent,
                parent_completed_at: Some(NOW + 5),
            },
        ]
    );
}

#[test]
fn audit_reports_a_cycle() {
    let mut fx = Foreign::new();
    let a = fx.add("a", &[]);
    let b = fx.add("b", &[]);
    let outside = fx.add("outside", &[]);
    fx.sql(
        "INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2), (?2, ?1), (?3, ?1)",
        [&a, &b, &outside],
    );
    let mut tasks = vec![a, b];
    tasks.sort();
    assert_eq!(fx.audit(), vec![Violation::Cycle { tasks }]);
}

#[test]
fn audit_names_each_cycle_by_its_own_tasks_not_those_waiting_behind_it() {
    let mut fx = Foreign::new();
    let [a, b, c, behind, x, y] = ["a", "b", "c", "behind", "x", "y"].map(|t| fx.add(t, &[]));
    // a -> b -> c -> a, with `behind` a child of a; and a second cycle x <-> y below c.
    fx.sql(
        "INSERT INTO task_links (parent_id, child_id) VALUES \
         (?1, ?2), (?2, ?3), (?3, ?1), (?1, ?4), (?3, ?5), (?5, ?6), (?6, ?5)",
        [&a, &b, &c, &behind, &x, &y],
    );
    let mut first = vec![a, b, c];
    first.sort();
    let mut second = vec![x, y];
    second.sort();
    let mut expected = vec![
        Violation::Cycle { tasks: first },
        Violation::Cycle { tasks: second },
    ];
    expected.sort_by(|p, q| format!("{p:?}").cmp(&format!("{q:?}")));
    let mut found = fx.audit();
    found.sort_by(|p, q| format!("{p:?}").cmp(&format!("{q:?}")));
    assert_eq!(found, expected);
}

#[test]
fn audit_reports_a_link_to_a_missing_task() {
    let mut fx = Foreign::new();
    let child = fx.add("child", &[]);
    fx.sql(
        "INSERT INTO task_links (parent_id, child_id) VALUES ('t_0000dead', ?1), (?1, 't_0000beef')",
        [&child],
    );
    assert_eq!(
        fx.audit(),
        vec![
            Violation::DanglingLink {
                parent: "t_0000dead".into(),
                child: child.clone(),
            },
            Violation::DanglingLink {
                parent: child,
                child: "t_0000beef".into(),
            },
        ]
    );
}

#[test]
fn audit_reports_a_running_task_with_no_claim_expiry() {
    let file = common::TempBoard::new();
    let mut b = file.open();
    let id = add(&mut b, "forever", &[]);
    claim(&mut b, &id, "w1");
    assert_eq!(b.read(audit).unwrap(), Vec::new());
    raw(&file.path)
        .execute("UPDATE tasks SET claim_expires = NULL WHERE id = ?1", [&id])
        .unwrap();
    assert_eq!(
        b.read(audit).unwrap(),
        vec![Violation::RunningWithoutExpiry {
            task: id,
            claim_lock: Some("w1".into()),
        }]
    );
}

#[test]
fn audit_reports_a_claim_lock_on_a_task_that_is_not_running() {
    let mut fx = Foreign::new();
    let id = fx.add("idle", &[]);
    fx.sql("UPDATE tasks SET claim_lock = 'ghost' WHERE id = ?1", [&id]);
    assert_eq!(
        fx.audit(),
        vec![Violation::ClaimLockMismatch {
            task: id,
            status: "ready".into(),
            claim_lock: Some("ghost".into()),
        }]
    );
}

#[test]
fn audit_reports_a_running_task_without_a_claim_lock() {
    let mut fx = Foreign::new();
    let id = fx.add("busy", &[]);
    claim(&mut fx.board, &id, "w1");
    fx.sql("UPDATE tasks SET claim_lock = NULL WHERE id = ?1", [&id]);
    assert_eq!(
        fx.audit(),
        vec![Violation::ClaimLockMismatch {
            task: id,
            status: "running".into(),
            claim_lock: None,
        }]
    );
}

/// The run mismatches found, as (task, detail).
fn run_mismatches(found: &[Violation]) -> Vec<(String, String)> {
    found
        .iter()
        .map(|v| match v {
            Violation::RunMismatch { task, detail } => (task.clone(), detail.clone()),
            other => panic!("expected only run mismatches, got {other:?}"),
        })
        .collect()
}

#[test]
fn audit_reports_a_current_run_id_that_names_no_run() {
    let mut fx = Foreign::new();
    let id = fx.add("busy", &[]);
    let run = claim(&mut fx.board, &id, "w1");
    fx.sql("UPDATE tasks SET current_run_id = 999 WHERE id = ?1", [&id]);
    let found = run_mismatches(&fx.audit());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|(task, _)| *task == id));
    assert!(found[0].1.contains("999"), "{found:?}");
    assert!(found[1].1.contains(&format!("run {run}")), "{found:?}");
}

#[test]
fn audit_reports_a_running_task_without_an_open_run() {
    let mut fx = Foreign::new();
    let id = fx.add("busy", &[]);
    let run = claim(&mut fx.board, &id, "w1");
    fx.sql(
        "UPDATE tasks SET current_run_id = NULL WHERE id = ?1",
        [&id],
    );
    let found = run_mismatches(&fx.audit());
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found.iter().all(|(task, _)| *task == id));
    assert!(found[0].1.contains("current_run_id is NULL"), "{found:?}");
    assert!(found[1].1.contains(&format!("run {run}")), "{found:?}");
}

#[test]
fn audit_reports_a_current_run_id_naming_a_run_that_ended() {
    let mut fx = Foreign::new();
    let id = fx.add("finished", &[]);
    let run = claim(&mut fx.board, &id, "w1");
    fx.board
        .write_at(NOW, |t| t.complete(&id, Some("w1"), None))
        .unwrap();
    fx.sql(
        "UPDATE tasks SET current_run_id = ?2 WHERE id = ?1",
        rusqlite::params![id, run],
    );
    let found = run_mismatches(&fx.audit());
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].0, id);
    assert!(found[0].1.contains("ended"), "{found:?}");
}

#[test]
fn audit_reports_a_current_run_id_naming_another_tasks_run() {
    let mut fx = Foreign::new();
    let a = fx.add("a", &[]);
    let b = fx.add("b", &[]);
    let run_a = claim(&mut fx.board, &a, "w1");
    let run_b = claim(&mut fx.board, &b, "w1");
    fx.sql(
        "UPDATE tasks SET current_run_id = ?2 WHERE id = ?1",
        rusqlite::params![b, run_a],
    );
    let found = run_mismatches(&fx.audit());
    assert!(
        found
            .iter()
            .any(|(task, detail)| *task == b && detail.contains(&a)),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|(task, detail)| *task == b && detail.contains(&format!("run {run_b}"))),
        "{found:?}"
    );
}

#[test]
fn an_attempt_ends_on_a_row_another_program_mistyped() {
    use gateboard::core::attempt::{Attempt, AttemptEnd, AttemptOutcome};
    let mut f = Foreign::new();
    let id = f.add("typed by hand", &[]);
    let claimer = Claimer {
        lock: "w1".into(),
        ttl: Duration::from_secs(60),
    };
    let claim = f
        .board
        .write_at(NOW, |t| t.claim_next(&claimer))
        .expect("claim")
        .claim
        .expect("a claim");
    // Text where Hermes keeps a number: read leniently, it must not stop the completion.
    f.sql(
        "UPDATE tasks SET consecutive_failures = 'none' WHERE id = ?1",
        [&id],
    );
    let attempt = Attempt {
        task_id: id.clone(),
        run_id: claim.run_id,
        end: AttemptEnd::Succeeded { result: None },
        exit_code: Some(0),
        signal: None,
        duration: Duration::ZERO,
        log: None,
        command_pid: None,
        retry_delay: Duration::ZERO,
    };
    let outcome = f
        .board
        .write_at(NOW + 1, |t| t.finish_attempt(&attempt, &claimer))
        .expect("the attempt ends");
    assert!(
        matches!(outcome, AttemptOutcome::Completed(_)),
        "{outcome:?}"
    );
}
