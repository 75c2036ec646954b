//! The `gateboard` binary end to end, each test on its own board file: every scripting verb,
//! the documented exit codes, one line on stderr for every error, and a refused command
//! changing nothing.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use assert_cmd::Command;
use predicates::prelude::*;
use rusqlite::types::Value;
use serde_json::Value as Json;
use tempfile::TempDir;

/// A temporary folder with one board file made by `gateboard init`.
struct Board {
    _dir: TempDir,
    path: PathBuf,
}

impl Board {
    fn new() -> Board {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("board.db");
        ok(&path, &["init"]);
        Board { _dir: dir, path }
    }

    fn db(&self) -> &Path {
        &self.path
    }
}

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

fn gateboard(db: &Path) -> Command {
    let mut cmd = Command::cargo_bin("gateboard").expect("the gateboard binary");
    cmd.env_remove("GATEBOARD_DB")
        .env_remove("GATEBOARD_CLAIMER")
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .timeout(Duration::from_secs(60))
        .arg("--db")
        .arg(db);
    cmd
}

fn run(db: &Path, args: &[&str]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = gateboard(db).args(args).output().expect("run gateboard");
    let run = Run {
        code: status.code().expect("exited, not killed"),
        stdout: String::from_utf8(stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(stderr).expect("utf-8 stderr"),
    };
    assert!(
        !run.stdout.contains("panicked") && !run.stderr.contains("panicked"),
        "{args:?} panicked: {}",
        run.stderr
    );
    run
}

/// Runs a command that must succeed; returns its stdout.
fn ok(db: &Path, args: &[&str]) -> String {
    let run = run(db, args);
    assert_eq!(run.code, 0, "{args:?} failed: {}", run.stderr);
    run.stdout
}

/// Runs a command that must fail with `code` and exactly one line on stderr; returns that line.
fn fails(db: &Path, args: &[&str], code: i32) -> String {
    let run = run(db, args);
    assert_eq!(
        run.code, code,
        "{args:?}: exit {} (stderr {:?})",
        run.code, run.stderr
    );
    assert_one_error_line(&run.stderr);
    run.stderr
}

fn assert_one_error_line(stderr: &str) {
    assert!(
        stderr.starts_with("gateboard: ") && stderr.ends_with('\n') && stderr.lines().count() == 1,
        "stderr is not one line starting with 'gateboard:': {stderr:?}"
    );
}

/// Runs a command that must be refused with `code`, and checks that the board did not change.
fn refused(db: &Path, args: &[&str], code: i32) -> String {
    let before = state(db);
    let line = fails(db, args, code);
    assert_eq!(
        state(db),
        before,
        "{args:?} was refused but changed the board"
    );
    line
}

/// What a refused command must leave alone: the task list as scripts see it, and every row.
fn state(db: &Path) -> (String, Vec<Vec<Vec<Value>>>) {
    let ls = ok(db, &["ls", "--json"]);
    let conn = rusqlite::Connection::open(db).expect("raw connection");
    let rows = [
        "tasks",
        "task_links",
        "task_events",
        "task_runs",
        "task_comments",
    ]
    .iter()
    .map(|table| {
        let mut stmt = conn
            .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
            .expect("prepare");
        let width = stmt.column_count();
        stmt.query_map([], |row| {
            (0..width)
                .map(|i| row.get::<_, Value>(i))
                .collect::<rusqlite::Result<Vec<_>>>()
        })
        .expect("query")
        .collect::<rusqlite::Result<Vec<_>>>()
        .expect("rows")
    })
    .collect();
    (ls, rows)
}

fn json(text: &str) -> Json {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Adds a task and returns its id.
fn add(db: &Path, args: &[&str]) -> String {
    let mut words = vec!["add"];
    words.extend_from_slice(args);
    ok(db, &words).trim_end().to_owned()
}

fn show(db: &Path, id: &str) -> Json {
    json(&ok(db, &["show", id, "--json"]))
}

fn status(db: &Path, id: &str) -> String {
    show(db, id)["task"]["status"]
        .as_str()
        .expect("status")
        .to_owned()
}

fn events(db: &Path, args: &[&str]) -> Vec<Json> {
    let mut words = vec!["events", "--json"];
    words.extend_from_slice(args);
    ok(db, &words).lines().map(json).collect()
}

/// What a writer without the gate does: marks a task ready whatever its parents.
fn raw_ready(db: &Path, id: &str) {
    let conn = rusqlite::Connection::open(db).expect("raw connection");
    let n = conn
        .execute("UPDATE tasks SET status = 'ready' WHERE id = ?1", [id])
        .expect("raw update");
    assert_eq!(n, 1);
}

// ---- init, add ----

#[test]
fn init_creates_a_board_file_and_prints_its_path() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("new.db");
    let out = ok(&db, &["init"]);
    assert_eq!(out.trim_end(), db.display().to_string());
    assert!(db.is_file());
    ok(&db, &["init"]);
    assert_eq!(json(&ok(&db, &["ls", "--json"])), Json::Array(Vec::new()));
}

#[test]
fn the_hint_of_a_missing_board_works_even_when_its_folder_is_missing_too() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("not").join("yet").join("board.db");
    let missing = run(&db, &["ls"]);
    assert_eq!(missing.code, 5);
    assert!(
        missing
            .stderr
            .contains(&format!("gateboard --db {} init", db.display())),
        "{}",
        missing.stderr
    );
    ok(&db, &["init"]);
    assert!(db.is_file(), "init made the folders and the board");
    assert_eq!(json(&ok(&db, &["ls", "--json"])), Json::Array(Vec::new()));
}

#[test]
fn add_prints_only_the_new_id() {
    let board = Board::new();
    let run = run(board.db(), &["add", "fetch data"]);
    assert_eq!(run.code, 0);
    assert!(
        predicates::str::is_match("^t_[0-9a-f]{8}\n$")
            .unwrap()
            .eval(&run.stdout),
        "{:?}",
        run.stdout
    );
    assert_eq!(run.stderr, "");
    let id = run.stdout.trim_end();
    let tasks = json(&ok(board.db(), &["ls", "--json"]));
    assert_eq!(tasks.as_array().unwrap().len(), 1);
    assert_eq!(tasks[0]["id"], id);
    assert_eq!(tasks[0]["title"], "fetch data");
    assert_eq!(tasks[0]["status"], "ready");
}

#[test]
fn add_stores_priority_assignee_and_body() {
    let board = Board::new();
    let id = add(
        board.db(),
        &[
            "train",
            "--priority",
            "-3",
            "--assignee",
            "gpu",
            "--body",
            "big set",
        ],
    );
    let task = &show(board.db(), &id)["task"];
    assert_eq!(task["priority"], -3);
    assert_eq!(task["assignee"], "gpu");
    assert_eq!(task["body"], "big set");
    assert_eq!(task["created_by"], "cli:tester");
}

#[test]
fn add_with_a_parent_waits_for_it() {
    let board = Board::new();
    let parent = add(board.db(), &["fetch"]);
    let child = add(board.db(), &["train", "--parent", &parent]);
    let detail = show(board.db(), &child);
    assert_eq!(detail["task"]["status"], "todo");
    assert_eq!(detail["parents"][0]["id"], parent.as_str());
    assert_eq!(detail["parents"][0]["status"], "ready");
    assert!(
        detail["not_ready_because"]
            .as_str()
            .unwrap()
            .contains(&parent)
    );
    assert_eq!(
        show(board.db(), &parent)["children"][0]["id"],
        child.as_str()
    );
}

#[test]
fn add_with_an_unknown_parent_is_refused_with_exit_3() {
    let board = Board::new();
    let line = refused(board.db(), &["add", "orphan", "--parent", "t_00000000"], 3);
    assert!(line.contains("t_00000000"), "{line}");
}

#[test]
fn add_with_a_blank_title_is_refused_with_exit_4() {
    let board = Board::new();
    refused(board.db(), &["add", "   "], 4);
}

// ---- link, unlink ----

#[test]
fn link_makes_the_child_wait_and_unlink_releases_it() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    let b = add(board.db(), &["b"]);
    ok(board.db(), &["link", &a, &b]);
    assert_eq!(status(board.db(), &b), "todo");
    assert_eq!(show(board.db(), &b)["parents"][0]["id"], a.as_str());
    ok(board.db(), &["unlink", &a, &b]);
    assert_eq!(status(board.db(), &b), "ready");
    assert_eq!(show(board.db(), &b)["parents"], Json::Array(Vec::new()));
}

#[test]
fn link_refuses_a_cycle_with_exit_4() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    let b = add(board.db(), &["b", "--parent", &a]);
    let c = add(board.db(), &["c", "--parent", &b]);
    let line = refused(board.db(), &["link", &c, &a], 4);
    assert!(line.contains("cycle"), "{line}");
}

#[test]
fn link_refuses_a_self_link_with_exit_4() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    refused(board.db(), &["link", &a, &a], 4);
}

#[test]
fn link_refuses_a_running_child_with_exit_4() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child"]);
    ok(board.db(), &["claim", &child]);
    refused(board.db(), &["link", &parent, &child], 4);
}

#[test]
fn link_and_unlink_refuse_unknown_ids_with_exit_3() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    refused(board.db(), &["link", "t_0000beef", &a], 3);
    refused(board.db(), &["link", &a, "t_0000beef"], 3);
    refused(board.db(), &["unlink", "t_0000beef", &a], 3);
}

#[test]
fn unlink_of_a_link_that_does_not_exist_is_refused_with_exit_4() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    let b = add(board.db(), &["b"]);
    refused(board.db(), &["unlink", &a, &b], 4);
}

#[test]
fn unlink_removes_a_link_to_a_parent_another_program_deleted_and_promotes_the_child() {
    let board = Board::new();
    let parent = add(board.db(), &["deleted elsewhere"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    rusqlite::Connection::open(board.db())
        .expect("raw connection")
        .execute("DELETE FROM tasks WHERE id = ?1", [&parent])
        .expect("raw delete");
    assert_eq!(run(board.db(), &["audit"]).code, 1, "a dangling link");
    ok(board.db(), &["unlink", &parent, &child]);
    assert_eq!(status(board.db(), &child), "ready");
    let kinds: Vec<Json> = events(board.db(), &["--task", &child])
        .iter()
        .map(|e| e["kind"].clone())
        .collect();
    assert_eq!(kinds, ["created", "unlinked", "promoted"]);
    ok(board.db(), &["audit"]);
    // Neither the link nor the parent exists any more: no such task.
    refused(board.db(), &["unlink", &parent, &child], 3);
}

// ---- claim ----

#[test]
fn claim_without_an_id_takes_the_highest_priority_then_the_oldest() {
    let board = Board::new();
    let low = add(board.db(), &["low", "--priority", "1"]);
    let high = add(board.db(), &["high", "--priority", "5"]);
    let blocked = add(
        board.db(),
        &["held back", "--priority", "9", "--parent", &low],
    );
    assert_eq!(ok(board.db(), &["claim"]).trim_end(), high);
    assert_eq!(ok(board.db(), &["claim"]).trim_end(), low);
    assert_eq!(status(board.db(), &blocked), "todo");
    fails(board.db(), &["claim"], 8);
}

#[test]
fn claim_with_an_id_runs_that_task_for_the_claimer() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    let out = ok(board.db(), &["--claimer", "alice", "claim", &id]);
    assert_eq!(out, format!("{id}\n"));
    let detail = show(board.db(), &id);
    assert_eq!(detail["task"]["status"], "running");
    assert_eq!(detail["task"]["claim_lock"], "alice");
    assert_eq!(
        detail["task"]["current_run_id"],
        detail["runs"][0]["id"].clone()
    );
    assert_eq!(detail["runs"].as_array().unwrap().len(), 1);
    assert_eq!(detail["runs"][0]["status"], "running");
}

#[test]
fn claim_without_a_claimer_belongs_to_cli_user() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    ok(board.db(), &["claim", &id]);
    assert_eq!(show(board.db(), &id)["task"]["claim_lock"], "cli:tester");
}

#[test]
fn claim_json_prints_the_claim() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    let claim = json(&ok(
        board.db(),
        &["--claimer", "bot", "claim", "--json", "--ttl", "30"],
    ));
    assert_eq!(claim["task_id"], id.as_str());
    assert_eq!(claim["lock"], "bot");
    assert!(claim["run_id"].as_i64().is_some());
    let expires = claim["expires"].as_i64().unwrap();
    assert_eq!(
        Some(expires),
        show(board.db(), &id)["task"]["claim_expires"].as_i64()
    );
}

#[test]
fn claim_exits_7_when_the_gate_rejects_and_demotes_the_task() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    raw_ready(board.db(), &child);
    let line = fails(board.db(), &["claim", &child], 7);
    assert!(line.contains(&child) && line.contains(&parent), "{line}");
    let detail = show(board.db(), &child);
    assert_eq!(detail["task"]["status"], "todo");
    assert_eq!(detail["task"]["claim_lock"], Json::Null);
    assert_eq!(detail["runs"], Json::Array(Vec::new()));
    let last = events(board.db(), &["--task", &child]).pop().unwrap();
    assert_eq!(last["kind"], "claim_rejected");
    assert_eq!(
        last["payload"],
        serde_json::json!({"reason": "parents_not_done"})
    );
}

#[test]
fn claim_without_an_id_skips_a_gated_ready_task_and_claims_the_next() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(
        board.db(),
        &["child", "--priority", "9", "--parent", &parent],
    );
    raw_ready(board.db(), &child);
    assert_eq!(ok(board.db(), &["claim"]).trim_end(), parent);
    assert_eq!(status(board.db(), &child), "todo");
    let last = events(board.db(), &["--task", &child]).pop().unwrap();
    assert_eq!(last["kind"], "claim_rejected");
}

#[test]
fn claim_without_an_id_that_meets_only_gated_tasks_fails_with_one_line() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["claim", &parent]);
    raw_ready(board.db(), &child);
    let out = run(board.db(), &["claim"]);
    // The README allows either reading: the gate rejected (7), or nothing was claimable (8).
    assert!(
        [7, 8].contains(&out.code),
        "exit {}: {}",
        out.code,
        out.stderr
    );
    assert_one_error_line(&out.stderr);
    assert_eq!(status(board.db(), &child), "todo");
}

#[test]
fn claim_exits_8_when_nothing_is_claimable() {
    let board = Board::new();
    let line = refused(board.db(), &["claim"], 8);
    assert!(line.contains("nothing"), "{line}");
    let parent = add(board.db(), &["parent"]);
    add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["claim", &parent]);
    refused(board.db(), &["claim"], 8);
}

#[test]
fn claim_of_a_task_that_is_not_ready_is_refused_with_exit_4() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    refused(board.db(), &["claim", &child], 4);
    ok(board.db(), &["claim", &parent]);
    refused(board.db(), &["claim", &parent], 4);
}

// ---- heartbeat, complete ----

#[test]
fn heartbeat_by_the_holder_extends_the_claim_and_by_another_is_refused() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    ok(
        board.db(),
        &["--claimer", "alice", "claim", &id, "--ttl", "10"],
    );
    let said: serde_json::Value = serde_json::from_str(&ok(
        board.db(),
        &[
            "--claimer",
            "alice",
            "heartbeat",
            &id,
            "--ttl",
            "5000",
            "--json",
        ],
    ))
    .expect("json");
    let expires = said["expires"].as_i64().expect("the new expiry");
    assert_eq!(
        show(board.db(), &id)["task"]["claim_expires"].as_i64(),
        Some(expires)
    );
    let line = ok(board.db(), &["--claimer", "alice", "heartbeat", &id]);
    assert!(
        line.starts_with(&format!("{id} held until 20")) && line.trim_end().ends_with('Z'),
        "a time a person reads: {line}"
    );
    refused(board.db(), &["--claimer", "bob", "heartbeat", &id], 4);
}

#[test]
fn complete_by_a_different_claimer_is_refused_with_exit_4() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    ok(board.db(), &["--claimer", "alice", "claim", &id]);
    let line = refused(board.db(), &["--claimer", "bob", "complete", &id], 4);
    assert!(line.contains("alice") && line.contains("bob"), "{line}");
    assert_eq!(status(board.db(), &id), "running");
}

#[test]
fn complete_refused_on_a_running_task_names_the_verbs_that_work_and_they_do() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    ok(
        board.db(),
        &["--claimer", "gateboard:11529:5947:w5", "claim", &id],
    );
    let line = refused(board.db(), &["complete", &id], 4);
    assert_eq!(
        line,
        format!(
            "gateboard: {id} is running under gateboard:11529:5947:w5, not cli:tester, and only \
             the claim holder may complete it (`gateboard --claimer gateboard:11529:5947:w5 \
             complete {id}`); otherwise cancel it first (`gateboard cancel {id}` stops its command \
             and blocks the task), then complete it\n"
        )
    );
    ok(board.db(), &["cancel", &id]);
    ok(board.db(), &["complete", &id, "--result", "by hand"]);
    assert_eq!(status(board.db(), &id), "done");
}

#[test]
fn complete_by_the_holder_finishes_the_task_and_prints_promoted_children() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["--claimer", "alice", "claim", &parent]);
    let out = ok(
        board.db(),
        &["--claimer", "alice", "complete", &parent, "--result", "ok"],
    );
    assert_eq!(out, format!("promoted {child}\n"));
    let detail = show(board.db(), &parent);
    assert_eq!(detail["task"]["status"], "done");
    assert_eq!(detail["task"]["result"], "ok");
    assert_eq!(detail["task"]["claim_lock"], Json::Null);
    assert_eq!(detail["runs"][0]["outcome"], "completed");
    assert_eq!(status(board.db(), &child), "ready");
}

#[test]
fn complete_of_a_todo_task_is_refused_with_exit_4() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    refused(board.db(), &["complete", &child], 4);
}

// ---- block, unblock, archive, comment ----

#[test]
fn block_and_unblock_regate_the_task() {
    let board = Board::new();
    let id = add(board.db(), &["train"]);
    ok(board.db(), &["block", &id, "--reason", "needs a GPU"]);
    let tasks = json(&ok(board.db(), &["ls", "--status", "blocked", "--json"]));
    assert_eq!(tasks[0]["id"], id.as_str());
    assert_eq!(tasks[0]["block_reason"], "needs a GPU");
    fails(board.db(), &["claim"], 8);
    assert_eq!(ok(board.db(), &["unblock", &id]), "ready\n");
    assert_eq!(status(board.db(), &id), "ready");
    refused(board.db(), &["unblock", &id], 4);
}

#[test]
fn unblock_of_a_task_with_an_unfinished_parent_returns_it_to_todo() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["block", &child, "--reason", "ask ana"]);
    assert_eq!(ok(board.db(), &["unblock", &child]), "todo\n");
}

#[test]
fn block_with_a_blank_reason_is_refused_with_exit_4() {
    let board = Board::new();
    let id = add(board.db(), &["train"]);
    refused(board.db(), &["block", &id, "--reason", " "], 4);
}

#[test]
fn archive_puts_a_task_away_and_promotes_its_children() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    assert_eq!(
        ok(board.db(), &["archive", &parent]),
        format!("promoted {child}\n")
    );
    assert_eq!(status(board.db(), &parent), "archived");
    assert_eq!(status(board.db(), &child), "ready");
    assert_eq!(ok(board.db(), &["claim"]).trim_end(), child);
}

#[test]
fn archive_of_a_running_task_is_refused_with_exit_4_and_says_to_cancel_it_first() {
    let board = Board::new();
    let id = add(board.db(), &["busy"]);
    ok(board.db(), &["claim", &id]);
    let line = refused(board.db(), &["archive", &id], 4);
    assert_eq!(
        line,
        format!(
            "gateboard: {id} is running under cli:tester; cancel it first (`gateboard cancel \
             {id}` stops its command and blocks the task), then archive it\n"
        )
    );
    ok(board.db(), &["cancel", &id]);
    ok(board.db(), &["archive", &id]);
    assert_eq!(status(board.db(), &id), "archived");
}

#[test]
fn unarchive_returns_a_task_to_ready_and_sends_its_ready_children_back_to_todo() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["archive", &parent]);
    assert_eq!(status(board.db(), &child), "ready");
    assert_eq!(
        ok(board.db(), &["unarchive", &parent]),
        format!("ready\ndemoted {child}\n")
    );
    assert_eq!(status(board.db(), &parent), "ready");
    assert_eq!(status(board.db(), &child), "todo");
    let kinds = |id: &str| -> Vec<Json> {
        events(board.db(), &["--task", id])
            .into_iter()
            .map(|e| e["kind"].clone())
            .collect()
    };
    assert_eq!(kinds(&parent).last(), Some(&Json::from("unarchived")));
    assert_eq!(kinds(&child).last(), Some(&Json::from("demoted")));
    assert_eq!(ok(board.db(), &["claim"]).trim_end(), parent);
    fails(board.db(), &["claim"], 8);
    ok(board.db(), &["complete", &parent]);
    assert_eq!(status(board.db(), &child), "ready");
    assert_eq!(ok(board.db(), &["audit"]), "clean: every invariant holds\n");
}

#[test]
fn unarchive_json_prints_the_new_status_and_the_demoted_children() {
    let board = Board::new();
    let grandparent = add(board.db(), &["grandparent"]);
    let parent = add(board.db(), &["parent", "--parent", &grandparent]);
    ok(board.db(), &["archive", &parent]);
    let back = json(&ok(board.db(), &["unarchive", &parent, "--json"]));
    assert_eq!(
        back,
        serde_json::json!({"task_id": parent, "status": "todo", "demoted": []})
    );
}

#[test]
fn unarchive_with_a_child_that_started_is_refused_with_exit_4_naming_it() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["archive", &parent]);
    ok(board.db(), &["claim", &child]);
    let line = refused(board.db(), &["unarchive", &parent], 4);
    assert!(
        line.contains(&format!("child {child} (running)"))
            && line.contains(&format!("`gateboard unlink {parent} {child}`")),
        "{line}"
    );
    assert_eq!(status(board.db(), &parent), "archived");
}

#[test]
fn unarchive_of_a_task_that_is_not_archived_is_refused_with_exit_4() {
    let board = Board::new();
    let id = add(board.db(), &["live"]);
    let line = refused(board.db(), &["unarchive", &id, "--json"], 4);
    assert!(
        line.contains("unarchive needs a task that is archived"),
        "{line}"
    );
}

#[test]
fn comment_is_kept_with_the_task() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    ok(
        board.db(),
        &["comment", &id, "looks good", "--author", "ana"],
    );
    ok(board.db(), &["comment", &id, "second"]);
    let comments = show(board.db(), &id)["comments"].clone();
    assert_eq!(comments[0]["author"], "ana");
    assert_eq!(comments[0]["body"], "looks good");
    assert_eq!(comments[1]["author"], "cli:tester");
    assert_eq!(
        events(board.db(), &["--task", &id])
            .iter()
            .filter(|e| e["kind"] == "commented")
            .count(),
        2
    );
    refused(board.db(), &["comment", &id, "  "], 4);
}

// ---- ls, show, events ----

#[test]
fn ls_json_lists_every_task_with_its_fields_and_filters_by_status() {
    let board = Board::new();
    let parent = add(board.db(), &["parent", "--priority", "2"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    let all = json(&ok(board.db(), &["ls", "--json"]));
    let all = all.as_array().unwrap();
    assert_eq!(all.len(), 2);
    assert_eq!(all[0]["id"], parent.as_str(), "claim order: priority first");
    for task in all {
        for field in [
            "id",
            "title",
            "status",
            "priority",
            "created_at",
            "claim_lock",
            "current_run_id",
        ] {
            assert!(task.get(field).is_some(), "ls --json lacks {field}: {task}");
        }
    }
    let todo = json(&ok(board.db(), &["ls", "--status", "todo", "--json"]));
    assert_eq!(todo.as_array().unwrap().len(), 1);
    assert_eq!(todo[0]["id"], child.as_str());
    let text = ok(board.db(), &["ls"]);
    assert_eq!(text.lines().count(), 2);
    assert!(text.contains(&parent) && text.contains(&child));
}

#[test]
fn ls_status_of_a_word_that_is_no_status_is_a_usage_error_naming_the_valid_ones() {
    let board = Board::new();
    add(board.db(), &["bystander"]);
    for args in [
        vec!["ls", "--status", "bogus"],
        vec!["ls", "--status", "bogus", "--json"],
        vec!["ls", "--status", "Ready"],
    ] {
        let line = refused(board.db(), &args, 2);
        assert_eq!(
            line,
            format!(
                "gateboard: --status {} is no status; use one of triage, todo, scheduled, \
                 ready, running, blocked, review, done, archived\n",
                args[2]
            )
        );
    }
}

#[test]
fn ls_status_takes_every_board_format_status_and_one_another_program_wrote() {
    let board = Board::new();
    let id = add(board.db(), &["held by hermes"]);
    for word in [
        "triage",
        "todo",
        "scheduled",
        "ready",
        "running",
        "blocked",
        "review",
        "done",
        "archived",
    ] {
        let listed = json(&ok(board.db(), &["ls", "--status", word, "--json"]));
        let expected = usize::from(word == "ready");
        assert_eq!(
            listed.as_array().unwrap().len(),
            expected,
            "{word}: {listed}"
        );
    }
    rusqlite::Connection::open(board.db())
        .unwrap()
        .execute(
            "UPDATE tasks SET status = 'waiting_on_hermes' WHERE id = ?1",
            [&id],
        )
        .unwrap();
    let listed = json(&ok(
        board.db(),
        &["ls", "--status", "waiting_on_hermes", "--json"],
    ));
    assert_eq!(listed[0]["id"], id.as_str());
    let line = fails(board.db(), &["ls", "--status", "bogus"], 2);
    assert!(
        line.ends_with(", archived, or one on this board: waiting_on_hermes\n"),
        "{line}"
    );
}

#[test]
fn show_json_has_the_task_its_neighbours_runs_events_comments_and_why() {
    let board = Board::new();
    let parent = add(board.db(), &["parent"]);
    let child = add(board.db(), &["child", "--parent", &parent]);
    ok(board.db(), &["claim", &parent]);
    let detail = show(board.db(), &parent);
    for field in [
        "task",
        "parents",
        "children",
        "runs",
        "events",
        "comments",
        "not_ready_because",
    ] {
        assert!(detail.get(field).is_some(), "show --json lacks {field}");
    }
    assert_eq!(detail["task"]["id"], parent.as_str());
    assert_eq!(detail["children"][0]["id"], child.as_str());
    assert_eq!(detail["children"][0]["status"], "todo");
    assert_eq!(detail["runs"].as_array().unwrap().len(), 1);
    let kinds: Vec<&str> = detail["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["created", "claimed"]);
    assert!(ok(board.db(), &["show", &child]).contains(&parent));
    refused(board.db(), &["show", "t_0000beef"], 3);
}

#[test]
fn events_json_prints_one_object_per_line_in_order() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    let b = add(board.db(), &["b", "--parent", &a]);
    ok(board.db(), &["claim", &a]);
    ok(board.db(), &["complete", &a]);
    let all = events(board.db(), &[]);
    let seen: Vec<(&str, &str)> = all
        .iter()
        .map(|e| (e["task_id"].as_str().unwrap(), e["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        seen,
        [
            (a.as_str(), "created"),
            (b.as_str(), "created"),
            (a.as_str(), "claimed"),
            (a.as_str(), "completed"),
            (b.as_str(), "promoted"),
        ]
    );
    let ids: Vec<i64> = all.iter().map(|e| e["id"].as_i64().unwrap()).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    for e in &all {
        for field in ["id", "task_id", "run_id", "kind", "payload", "created_at"] {
            assert!(e.get(field).is_some(), "event lacks {field}: {e}");
        }
    }
    assert!(all[2]["run_id"].as_i64().is_some());
    let only_b = events(board.db(), &["--task", &b]);
    assert_eq!(only_b.len(), 2);
    let since = ids[2].to_string();
    let later = events(board.db(), &["--since", &since]);
    assert_eq!(later.len(), 2);
    assert_eq!(later[0]["kind"], "completed");
}

// ---- text from the board cannot drive the terminal ----

/// A title carrying a newline, an OSC 52 clipboard write, a CSI clear-screen, a carriage
/// return, a C1 CSI and a bidi override.
const HOSTILE: &str =
    "evil\nfake-row\u{1b}]52;c;cm0gLXJmIH4=\u{7}\u{1b}[2J\rover\u{9b}31m\u{202e}end";
/// How it shows on a terminal.
const HOSTILE_SHOWN: &str =
    r"evil\nfake-row\e]52;c;cm0gLXJmIH4=\x07\e[2J\rover\u{9b}31m\u{202e}end";

/// Whether a terminal would obey something in `text` rather than show it; line ends excepted.
fn has_raw_controls(text: &str) -> bool {
    text.chars()
        .any(|c| (c.is_control() && c != '\n') || ('\u{202a}'..='\u{202e}').contains(&c))
}

#[test]
fn ls_shows_a_hostile_title_escaped_on_exactly_one_line() {
    let board = Board::new();
    let id = add(board.db(), &[HOSTILE]);
    let listed = ok(board.db(), &["ls"]);
    assert_eq!(listed.lines().count(), 1, "{listed:?}");
    assert!(listed.starts_with(&id), "{listed:?}");
    assert!(listed.contains(HOSTILE_SHOWN), "{listed:?}");
    assert!(!has_raw_controls(&listed), "{listed:?}");
}

#[test]
fn a_title_with_a_newline_a_tab_and_a_colour_escape_stays_one_visible_line_and_exact_in_json() {
    let board = Board::new();
    let title = "first\nsecond\tcol\u{1b}[31mred";
    let id = add(board.db(), &[title]);
    let listed = ok(board.db(), &["ls"]);
    assert_eq!(
        listed,
        format!("{id:<12} ready        0  first\\nsecond\\tcol\\e[31mred\n")
    );
    let shown = ok(board.db(), &["show", &id]);
    assert_eq!(
        shown.lines().next(),
        Some(format!(r"{id}  first\nsecond\tcol\e[31mred").as_str())
    );
    assert!(!has_raw_controls(&shown), "{shown:?}");
    assert_eq!(json(&ok(board.db(), &["ls", "--json"]))[0]["title"], title);
    assert_eq!(show(board.db(), &id)["task"]["title"], title);
}

#[test]
fn show_escapes_every_field_another_writer_could_fill() {
    let board = Board::new();
    let parent = add(board.db(), &[HOSTILE]);
    let id = add(
        board.db(),
        &[
            HOSTILE,
            "--parent",
            &parent,
            "--assignee",
            "bob\u{1b}[2J",
            "--body",
            "line one\nline\rtwo\u{9b}",
        ],
    );
    ok(
        board.db(),
        &["--claimer", "eve\u{1b}]0;pwned\u{7}", "claim", &parent],
    );
    ok(
        board.db(),
        &[
            "--claimer",
            "eve\u{1b}]0;pwned\u{7}",
            "complete",
            &parent,
            "--result",
            "ok\u{1b}[2J",
        ],
    );
    ok(
        board.db(),
        &["comment", &id, "see \u{1b}[31mred", "--author", "mal\rlory"],
    );
    ok(board.db(), &["block", &id, "--reason", "why\u{1b}[2J\nnot"]);
    for task in [&parent, &id] {
        let shown = ok(board.db(), &["show", task]);
        assert!(!has_raw_controls(&shown), "{shown:?}");
        assert!(
            shown
                .lines()
                .next()
                .unwrap_or_default()
                .contains(HOSTILE_SHOWN),
            "{shown:?}"
        );
    }
    let shown = ok(board.db(), &["show", &id]);
    for escaped in [
        r"bob\e[2J",
        r"see \e[31mred",
        r"mal\rlory",
        r"why\e[2J\nnot",
        r"  line\rtwo\u{9b}",
        "  line one\n",
    ] {
        assert!(shown.contains(escaped), "{escaped:?} not in {shown:?}");
    }
    let done = ok(board.db(), &["show", &parent]);
    assert!(done.contains(r"ok\e[2J"), "{done:?}");
    assert!(done.contains(r"eve\e]0;pwned\x07"), "{done:?}");
    let blocked = ok(board.db(), &["ls", "--status", "blocked"]);
    assert_eq!(blocked.lines().count(), 1, "{blocked:?}");
    assert!(blocked.contains(r"[blocked: why\e[2J\nnot]"), "{blocked:?}");
}

#[test]
fn events_escape_payload_text_and_what_a_foreign_writer_put_in_the_log() {
    let board = Board::new();
    let id = add(board.db(), &["plain", "--assignee", "ann\u{9b}2J"]);
    ok(
        board.db(),
        &["block", &id, "--reason", "halt\u{202e}\u{1b}[2J"],
    );
    let conn = rusqlite::Connection::open(board.db()).expect("raw connection");
    conn.execute(
        "INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?1, ?2, ?3, 0)",
        [&id, "note\u{1b}[2J", "not json \u{9b}\u{7f}"],
    )
    .expect("a foreign event");
    let printed = ok(board.db(), &["events"]);
    assert_eq!(printed.lines().count(), 3, "{printed:?}");
    assert!(!has_raw_controls(&printed), "{printed:?}");
    for escaped in [
        r"ann\u{9b}2J",
        r"halt\u{202e}\u001b[2J",
        r"note\e[2J",
        r"not json \u{9b}\x7f",
    ] {
        assert!(printed.contains(escaped), "{escaped:?} not in {printed:?}");
    }
}

#[test]
fn json_output_keeps_hostile_text_exactly() {
    let board = Board::new();
    let id = add(board.db(), &[HOSTILE, "--body", "b\r\u{9b}"]);
    ok(board.db(), &["block", &id, "--reason", HOSTILE]);
    let listed = json(&ok(board.db(), &["ls", "--json"]));
    assert_eq!(listed[0]["title"], HOSTILE);
    assert_eq!(listed[0]["block_reason"], HOSTILE);
    let shown = show(board.db(), &id);
    assert_eq!(shown["task"]["title"], HOSTILE);
    assert_eq!(shown["task"]["body"], "b\r\u{9b}");
    let blocked = events(board.db(), &["--task", &id]);
    assert_eq!(
        blocked.last().expect("an event")["payload"]["reason"],
        HOSTILE
    );
}

#[test]
fn an_error_echoing_a_hostile_id_shows_it_escaped_on_one_line() {
    let board = Board::new();
    let line = refused(board.db(), &["show", "t_\u{1b}[2J\nbad"], 3);
    assert!(line.contains(r"t_\e[2J\nbad"), "{line:?}");
    assert!(!has_raw_controls(&line), "{line:?}");
    let usage = fails(board.db(), &["frobnicate\u{1b}[2J"], 2);
    assert!(!has_raw_controls(&usage), "{usage:?}");
}

// ---- audit ----

#[test]
fn audit_exits_0_on_a_clean_board() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    add(board.db(), &["b", "--parent", &a]);
    ok(board.db(), &["claim", &a]);
    ok(board.db(), &["complete", &a]);
    let out = ok(board.db(), &["audit"]);
    assert!(out.contains("clean"), "{out}");
    assert_eq!(
        json(&ok(board.db(), &["audit", "--json"])),
        Json::Array(Vec::new())
    );
}

#[test]
fn audit_exits_1_listing_the_violations_of_a_damaged_board() {
    let board = Board::new();
    let id = add(board.db(), &["idle"]);
    rusqlite::Connection::open(board.db())
        .unwrap()
        .execute("UPDATE tasks SET claim_lock = 'ghost' WHERE id = ?1", [&id])
        .unwrap();
    let text = run(board.db(), &["audit"]);
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout.contains(&id) && text.stdout.contains("ghost"),
        "{}",
        text.stdout
    );
    let listed = run(board.db(), &["audit", "--json"]);
    assert_eq!(listed.code, 1);
    let found = json(&listed.stdout);
    assert_eq!(found[0]["rule"], "claim_lock_mismatch");
    assert_eq!(found[0]["task"], id.as_str());
}

// ---- exit codes of refusals and unusable files ----

#[test]
fn every_verb_naming_an_unknown_task_exits_3() {
    let board = Board::new();
    add(board.db(), &["bystander"]);
    let unknown = "t_0000beef";
    for args in [
        vec!["show", unknown],
        vec!["claim", unknown],
        vec!["heartbeat", unknown],
        vec!["complete", unknown],
        vec!["block", unknown, "--reason", "why"],
        vec!["unblock", unknown],
        vec!["archive", unknown],
        vec!["unarchive", unknown],
        vec!["comment", unknown, "hello"],
    ] {
        let line = refused(board.db(), &args, 3);
        assert!(line.contains(unknown), "{args:?}: {line}");
    }
}

#[test]
fn events_of_an_unknown_task_exit_3_but_a_deleted_task_keeps_its_history() {
    let board = Board::new();
    let id = add(board.db(), &["short-lived"]);
    let line = refused(board.db(), &["events", "--task", "t_deadbeef"], 3);
    assert!(line.contains("t_deadbeef"), "{line}");
    fails(board.db(), &["events", "--task", "t_deadbeef", "--json"], 3);
    rusqlite::Connection::open(board.db())
        .expect("raw connection")
        .execute("DELETE FROM tasks WHERE id = ?1", [&id])
        .expect("raw delete");
    let history = events(board.db(), &["--task", &id]);
    assert_eq!(history.len(), 1, "{history:?}");
    assert_eq!(history[0]["kind"], "created");
}

/// Every file in `dir` whose name starts with `stem`, besides `stem` itself.
fn companions(dir: &Path, stem: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("read dir")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.starts_with(stem) && name != stem)
        .collect()
}

#[test]
fn a_character_device_is_no_board_exit_5_and_nothing_is_written_beside_it() {
    let dev_null = Path::new("/dev/null");
    let before = companions(Path::new("/dev"), "null");
    for args in [vec!["init"], vec!["ls"], vec!["add", "x"], vec!["audit"]] {
        let line = fails(dev_null, &args, 5);
        assert!(line.contains("not a regular file"), "{args:?}: {line}");
    }
    assert_eq!(
        companions(Path::new("/dev"), "null"),
        before,
        "a -journal or -wal appeared"
    );
}

#[test]
fn a_fifo_is_no_board_exit_5_and_nothing_is_written_beside_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("board.db");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("run mkfifo");
    assert!(made.success(), "mkfifo failed");
    for args in [vec!["init"], vec!["ls"], vec!["add", "x"]] {
        let line = fails(&fifo, &args, 5);
        assert!(line.contains("not a regular file"), "{args:?}: {line}");
    }
    assert_eq!(companions(dir.path(), "board.db"), Vec::<String>::new());
}

#[test]
fn a_missing_board_file_exits_5_and_is_not_created() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("absent.db");
    for args in [vec!["ls"], vec!["claim"], vec!["audit"]] {
        fails(&db, &args, 5);
        assert!(!db.exists(), "{args:?} created the file");
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_directory_exits_5() {
    let dir = tempfile::tempdir().unwrap();
    for args in [vec!["ls"], vec!["init"], vec!["add", "x"]] {
        fails(dir.path(), &args, 5);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn a_file_that_is_not_sqlite_exits_5_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("notes.txt");
    let text = "these are my notes, not a database\n".repeat(200);
    std::fs::write(&db, &text).unwrap();
    for args in [vec!["ls"], vec!["init"], vec!["add", "x"], vec!["audit"]] {
        let line = fails(&db, &args, 5);
        assert!(line.contains("not"), "{line}");
        assert_eq!(std::fs::read_to_string(&db).unwrap(), text);
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn an_sqlite_file_that_is_not_a_board_exits_5_and_is_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("other-app.sqlite");
    let conn = rusqlite::Connection::open(&db).unwrap();
    conn.execute_batch("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine');")
        .unwrap();
    drop(conn);
    let bytes = std::fs::read(&db).unwrap();
    for args in [vec!["ls"], vec!["init"], vec!["add", "x"]] {
        let line = fails(&db, &args, 5);
        assert!(line.contains("not a board"), "{line}");
        assert!(
            std::fs::read(&db).unwrap() == bytes,
            "{args:?} changed the file it refused"
        );
    }
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_board_from_a_newer_gateboard_exits_5() {
    let board = Board::new();
    rusqlite::Connection::open(board.db())
        .unwrap()
        .pragma_update(None, "user_version", 999)
        .unwrap();
    let line = fails(board.db(), &["ls"], 5);
    assert!(line.contains("999"), "{line}");
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    for args in [
        vec!["frobnicate"],
        vec!["add"],
        vec!["claim", "--ttl", "soon"],
        vec!["block", id.as_str()],
        vec!["ls", "--no-such-flag"],
    ] {
        let before = state(board.db());
        fails(board.db(), &args, 2);
        assert_eq!(state(board.db()), before);
    }
}

#[test]
fn a_board_locked_past_the_lock_timeout_exits_6_and_writes_nothing() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    let before = state(board.db());
    let holder = rusqlite::Connection::open(board.db()).unwrap();
    holder.execute_batch("BEGIN IMMEDIATE").unwrap();
    for args in [vec!["add", "blocked out"], vec!["claim", id.as_str()]] {
        let mut words = vec!["--lock-timeout", "1"];
        words.extend(args);
        let line = fails(board.db(), &words, 6);
        assert!(line.contains("locked"), "{line}");
    }
    holder.execute_batch("ROLLBACK").unwrap();
    drop(holder);
    assert_eq!(state(board.db()), before);
    ok(board.db(), &["--lock-timeout", "1", "claim", &id]);
}

#[test]
fn a_refused_command_leaves_ls_json_unchanged() {
    let board = Board::new();
    let a = add(board.db(), &["a"]);
    let b = add(board.db(), &["b", "--parent", &a]);
    ok(board.db(), &["--claimer", "alice", "claim", &a]);
    let before = ok(board.db(), &["ls", "--json"]);
    for (args, code) in [
        (vec!["link", b.as_str(), a.as_str()], 4),
        (vec!["--claimer", "bob", "complete", a.as_str()], 4),
        (vec!["claim", b.as_str()], 4),
        (vec!["archive", a.as_str()], 4),
        (vec!["claim"], 8),
    ] {
        fails(board.db(), &args, code);
        assert_eq!(ok(board.db(), &["ls", "--json"]), before, "{args:?}");
    }
    assert!(predicate::str::contains(a.as_str()).eval(&before));
}

#[test]
fn add_on_a_path_with_no_board_is_refused_and_creates_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let typo = dir.path().join("bord.db");
    let line = fails(&typo, &["add", "lost"], 5);
    assert!(line.contains("gateboard --db"), "{line}");
    assert_eq!(std::fs::read_dir(dir.path()).expect("dir").count(), 0);
}

#[test]
fn an_empty_file_is_no_board_for_a_reading_verb_and_stays_empty() {
    let dir = tempfile::tempdir().expect("temp dir");
    let empty = dir.path().join("empty.db");
    std::fs::write(&empty, b"").expect("empty file");
    fails(&empty, &["ls"], 5);
    assert_eq!(std::fs::metadata(&empty).expect("file").len(), 0);
    ok(&empty, &["init"]);
    ok(&empty, &["ls"]);
}

#[test]
fn impossible_durations_and_pool_sizes_are_usage_errors() {
    let board = Board::new();
    for args in [
        vec!["work", "--duration", "inf"],
        vec!["work", "--duration", "-3"],
        vec!["work", "--duration", "nan"],
        vec!["work", "--workers", "0", "--exit-when-idle"],
        vec!["work", "--workers", "3000000"],
        vec!["race", "--duration", "1e30"],
        vec!["tui", "--workers", "99999999999999"],
        vec!["bench", "--workers", "1,0"],
    ] {
        let line = fails(board.db(), &args, 2);
        assert!(line.contains("--"), "{args:?}: {line}");
    }
}

#[test]
fn a_lock_timeout_longer_than_sqlite_can_wait_is_a_usage_error_on_every_verb() {
    let board = Board::new();
    let id = add(board.db(), &["work"]);
    // SQLite's busy timeout is an i32 of milliseconds: 2147483 s fits, 2147484 s does not.
    for timeout in ["2147484", "18446744073709551615", "1e9", "soon"] {
        for verb in [
            vec!["ls"],
            vec!["init"],
            vec!["add", "more"],
            vec!["claim", id.as_str()],
            vec!["show", id.as_str()],
            vec!["audit"],
            vec!["work", "--exit-when-idle"],
        ] {
            let mut args = vec!["--lock-timeout", timeout];
            args.extend(verb);
            let line = refused(board.db(), &args, 2);
            assert!(line.contains("--lock-timeout"), "{args:?}: {line}");
        }
    }
    ok(board.db(), &["--lock-timeout", "2147483", "ls"]);
    ok(board.db(), &["ls", "--lock-timeout", "0"]);
}

#[test]
fn show_aligns_empty_parents_and_children() {
    let board = Board::new();
    let id = add(board.db(), &["alone"]);
    let shown = ok(board.db(), &["show", &id]);
    let column = |label: &str| {
        let line = shown
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("no {label} line in {shown}"));
        line.find("none").expect("none")
    };
    let status_value = shown
        .lines()
        .find(|l| l.starts_with("status:"))
        .and_then(|l| l.find("ready"))
        .expect("status line");
    assert_eq!(column("parents:"), status_value);
    assert_eq!(column("children:"), status_value);
}

#[test]
fn show_says_what_a_task_runs_where_with_what_and_how_often() {
    let board = Board::new();
    let id = add(
        board.db(),
        &[
            "build",
            "--cmd",
            "make test",
            "--cwd",
            "/tmp",
            "--env",
            "A=1",
            "--env",
            "B=two words",
            "--timeout",
            "60",
            "--retries",
            "2",
        ],
    );
    let shown = ok(board.db(), &["show", &id]);
    for line in [
        "command:   make test",
        "  in:      /tmp",
        "  env:     A=1 B=\"two words\"",
        "  timeout: 60s",
        "  retries: 2",
    ] {
        assert!(
            shown.lines().any(|l| l == line),
            "{line:?} not in:\n{shown}"
        );
    }
    let detail = json(&ok(board.db(), &["show", &id, "--json"]));
    assert_eq!(
        detail["command"],
        serde_json::json!({
            "command": "make test",
            "cwd": "/tmp",
            "env": [["A", "1"], ["B", "two words"]],
            "timeout_secs": 60,
            "retries": 2,
        })
    );
}

#[test]
fn init_under_a_file_says_the_file_is_not_a_folder() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("notes.txt");
    std::fs::write(&file, "hello").unwrap();
    let refused = run(&file.join("board.db"), &["init"]);
    assert_eq!(refused.code, 5, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .contains(&format!("{} is a file, not a folder", file.display())),
        "{}",
        refused.stderr
    );
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "hello");
}

#[test]
fn complete_and_archive_json_print_the_children_they_promoted() {
    let board = Board::new();
    let first = add(board.db(), &["first"]);
    let second = add(board.db(), &["second"]);
    let child = add(board.db(), &["child", "--parent", &first]);
    let other = add(board.db(), &["other child", "--parent", &second]);
    assert_eq!(
        json(&ok(board.db(), &["complete", &first, "--json"])),
        serde_json::json!({ "task_id": first, "run_id": null, "promoted": [child] })
    );
    assert_eq!(
        json(&ok(board.db(), &["archive", &second, "--json"])),
        serde_json::json!({ "task_id": second, "run_id": null, "promoted": [other] })
    );
    assert_eq!(
        ok(board.db(), &["complete", &child]),
        "",
        "without --json, a line per promoted child: none here"
    );
}
