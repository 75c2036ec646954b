//! Interop with the real Hermes Agent (`hermes-agent` 0.19.0 from PyPI): either program opens,
//! works and reads back the other's boards, and Hermes's own create-then-link writer races
//! gateboard's workers without breaking the invariant.
//!
//! The package is installed with pip into the target folder on first use; if that fails, these
//! tests fail and say why. Hermes's side of each step is `tests/hermes/hermes_side.py`.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::OnceLock;
use std::thread;
use std::time::{Duration, Instant};

use common::tmux::Session;
use serde_json::Value;
use tempfile::TempDir;

const HERMES: &str = "hermes-agent==0.19.0";

/// The folder holding the installed package, installed once per target folder.
fn hermes_site() -> &'static Path {
    static SITE: OnceLock<PathBuf> = OnceLock::new();
    SITE.get_or_init(|| {
        let site = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hermes-agent-0.19.0");
        if site.join("hermes_cli").join("kanban_db.py").exists() {
            return site;
        }
        // Install beside the final folder and move it in whole, so an interrupted install is
        // never mistaken for a finished one.
        let staging = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("staging folder");
        let out = Command::new("python3")
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(["--no-input", "--target"])
            .arg(staging.path())
            .arg(HERMES)
            .output()
            .unwrap_or_else(|e| panic!("the Hermes interop tests need python3 with pip: {e}"));
        assert!(
            out.status.success(),
            "the Hermes interop tests need the real {HERMES} from PyPI, and pip could not \
             install it:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        match std::fs::rename(staging.keep(), &site) {
            Ok(()) => site,
            // Another test binary finished the same install first.
            Err(_) if site.join("hermes_cli").join("kanban_db.py").exists() => site,
            Err(e) => panic!(
                "cannot move the Hermes install into {}: {e}",
                site.display()
            ),
        }
    })
}

/// A scratch home in which Hermes keeps its boards (`$HERMES_HOME`), for both programs.
struct Home {
    dir: TempDir,
}

impl Home {
    fn new() -> Home {
        Home {
            dir: tempfile::tempdir().expect("home"),
        }
    }

    fn hermes_home(&self) -> PathBuf {
        self.dir.path().join(".hermes")
    }

    /// Sets the environment both programs read, and nothing of the developer's own.
    fn env<'c>(&self, cmd: &'c mut Command) -> &'c mut Command {
        cmd.env("HOME", self.dir.path())
            .env("HERMES_HOME", self.hermes_home())
            .env_remove("HERMES_KANBAN_HOME")
            .env_remove("HERMES_KANBAN_DB")
            .env_remove("HERMES_KANBAN_BOARD")
            .env_remove("GATEBOARD_DB")
    }

    /// Runs one step of Hermes's side and returns what it printed.
    fn hermes(&self, args: &[&str]) -> Value {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hermes/hermes_side.py");
        let out = self
            .env(Command::new("python3").arg(script).args(args))
            .env("PYTHONPATH", hermes_site())
            .output()
            .expect("run python3");
        assert!(
            out.status.success(),
            "Hermes step {args:?} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).expect("Hermes step prints JSON")
    }

    fn gateboard(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateboard"));
        self.env(&mut cmd).args(args);
        cmd
    }

    /// Runs gateboard, expecting success, and returns its standard output.
    fn ok(&self, args: &[&str]) -> String {
        let out = self.gateboard(args).output().expect("run gateboard");
        assert!(
            out.status.success(),
            "gateboard {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn json(&self, args: &[&str]) -> Value {
        serde_json::from_str(&self.ok(args)).expect("gateboard prints JSON")
    }
}

/// Status by id, from a JSON list of tasks with `id` and `status`.
fn statuses(tasks: &Value) -> Vec<(String, String)> {
    let mut pairs: Vec<(String, String)> = tasks
        .as_array()
        .expect("a list of tasks")
        .iter()
        .map(|t| (text(&t["id"]), text(&t["status"])))
        .collect();
    pairs.sort();
    pairs
}

fn text(value: &Value) -> String {
    value.as_str().expect("a string").to_owned()
}

fn status_of(tasks: &Value, id: &str) -> String {
    statuses(tasks)
        .into_iter()
        .find(|(t, _)| t == id)
        .map(|(_, s)| s)
        .unwrap_or_else(|| panic!("{id} is not on the board"))
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().expect("a list").iter().map(text).collect()
}

fn assert_intact(read: &Value) {
    assert_eq!(read["integrity"], "ok", "SQLite finds the file damaged");
}

#[test]
fn a_hermes_board_is_listed_audited_and_worked_by_gateboard() {
    let home = Home::new();
    let made = home.hermes(&["make-dag"]);
    assert_eq!(
        PathBuf::from(text(&made["path"])),
        home.hermes_home().join("kanban.db"),
        "Hermes made its default board"
    );

    let listed = home.json(&["--hermes", "ls", "--json"]);
    assert_eq!(statuses(&listed), statuses(&made["tasks"]));
    assert!(
        home.gateboard(&["--hermes", "audit"])
            .status()
            .expect("audit")
            .success()
    );

    let summary = home.ok(&[
        "--hermes",
        "work",
        "--workers",
        "2",
        "--work-ms",
        "0",
        "--exit-when-idle",
    ]);
    assert!(summary.contains("tasks done: 4"), "{summary}");

    let back = home.hermes(&["read"]);
    assert_intact(&back);
    for id in ids(&made["claimable"]) {
        assert_eq!(
            status_of(&back["tasks"], &id),
            "done",
            "Hermes reads {id} done"
        );
    }
    assert_eq!(
        status_of(&back["tasks"], &text(&made["blocked"])),
        "blocked"
    );
    assert_eq!(
        status_of(&back["tasks"], &text(&made["behind_blocked"])),
        "todo"
    );
    assert!(
        home.gateboard(&["--hermes", "audit"])
            .status()
            .expect("audit")
            .success()
    );
}

#[test]
fn hermes_named_boards_are_found_by_hermes_s_own_rules() {
    let home = Home::new();
    let default = home.hermes(&["make-dag"]);
    let named = home.hermes(&["make-dag", "--board", "cookai"]);
    assert_eq!(
        PathBuf::from(text(&named["path"])),
        home.hermes_home().join("kanban/boards/cookai/kanban.db")
    );
    let by_word = home.json(&["--hermes", "cookai", "ls", "--json"]);
    let by_equals = home.json(&["ls", "--json", "--hermes=cookai"]);
    assert_eq!(statuses(&by_word), statuses(&named["tasks"]));
    assert_eq!(statuses(&by_equals), statuses(&named["tasks"]));
    assert_eq!(
        statuses(&home.json(&["--hermes", "ls", "--json"])),
        statuses(&default["tasks"]),
        "with no name, Hermes's current board: default"
    );

    // `hermes kanban boards switch cookai` writes this pointer; gateboard follows it too.
    std::fs::write(home.hermes_home().join("kanban/current"), "cookai\n").expect("switch");
    assert_eq!(
        statuses(&home.json(&["--hermes", "ls", "--json"])),
        statuses(&named["tasks"])
    );

    let missing = home
        .gateboard(&["--hermes", "nope", "ls"])
        .output()
        .expect("run");
    assert_eq!(missing.status.code(), Some(5));
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("no Hermes board named nope") && stderr.contains("cookai"),
        "{stderr}"
    );
}

#[test]
fn a_gateboard_board_is_opened_claimed_and_completed_by_hermes() {
    let home = Home::new();
    let board = home.dir.path().join("board.db");
    let db = board.to_str().expect("utf-8 path");
    home.ok(&["--db", db, "init"]);
    let first = home.ok(&["--db", db, "add", "first"]).trim().to_owned();
    let second = home
        .ok(&["--db", db, "add", "second", "--parent", &first])
        .trim()
        .to_owned();

    let hermes = home.hermes(&["claim-and-complete", "--db", db]);
    assert_eq!(status_of(&hermes["before"], &first), "ready");
    assert_eq!(status_of(&hermes["before"], &second), "todo");
    assert_eq!(text(&hermes["completed"]), first);

    let shown = home.json(&["--db", db, "show", &first, "--json"]);
    assert_eq!(shown["task"]["status"], "done", "{shown}");
    assert_eq!(shown["task"]["result"], "done by hermes");
    assert_eq!(
        status_of(&home.json(&["--db", db, "ls", "--json"]), &second),
        "ready",
        "Hermes promoted the child"
    );
    assert!(
        home.gateboard(&["--db", db, "audit"])
            .status()
            .expect("audit")
            .success()
    );

    let summary = home.ok(&["--db", db, "work", "--work-ms", "0", "--exit-when-idle"]);
    assert!(summary.contains("tasks done: 1"), "{summary}");
    let back = home.hermes(&["read", "--db", db]);
    assert_intact(&back);
    assert_eq!(status_of(&back["tasks"], &second), "done");
}

/// Stops a `gateboard work` the way Ctrl-C does, so it releases its claims and exits.
fn interrupt(mut work: Child) -> Output {
    let status = Command::new("kill")
        .args(["-INT", &work.id().to_string()])
        .status()
        .expect("kill -INT");
    assert!(status.success());
    let start = Instant::now();
    while work.try_wait().expect("poll work").is_none() {
        if start.elapsed() > Duration::from_secs(30) {
            let _ = work.kill();
            panic!("work did not stop on Ctrl-C");
        }
        thread::sleep(Duration::from_millis(20));
    }
    work.wait_with_output().expect("work output")
}

#[test]
fn hermes_s_create_then_link_writer_races_gateboard_workers() {
    const ROUNDS: usize = 120;
    let home = Home::new();
    let board = home.dir.path().join("board.db");
    let db = board.to_str().expect("utf-8 path");
    home.ok(&["--db", db, "init"]);
    // Parents held blocked while the writer races, so every late link meets an unfinished
    // parent: the link either lands first (the child waits) or finds the child started (refused).
    let parents: Vec<String> = (0..10)
        .map(|i| {
            let id = home.ok(&["--db", db, "add", &format!("parent {i}")]);
            let id = id.trim().to_owned();
            home.ok(&["--db", db, "block", &id, "--reason", "held for the race"]);
            id
        })
        .collect();

    // gateboard keeps its connections open for the whole race: Hermes re-opens the board file
    // after each commit (dropping its own POSIX locks; see docs/board-format.md), so the file
    // stays safe only while another process holds it until Hermes has closed.
    let work = home
        .gateboard(&["--db", db, "work", "--workers", "4", "--work-ms", "0..5"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start work");
    let raced = home.hermes(&[
        "race",
        "--db",
        db,
        "--parents",
        &parents.join(","),
        "--rounds",
        &ROUNDS.to_string(),
    ]);
    let children = ids(&raced["children"]);
    assert_eq!(children.len(), ROUNDS);
    let linked = raced["linked"].as_u64().expect("linked");
    let refused = raced["refused"].as_u64().expect("refused");
    assert_eq!(
        linked + refused,
        2 * ROUNDS as u64,
        "every link landed or was refused"
    );
    for refusal in ids(&raced["refusals"]) {
        assert!(
            refusal.contains("cannot link a parent onto a running or finished task"),
            "a link failed for another reason: {refusal}"
        );
    }

    for parent in &parents {
        home.ok(&["--db", db, "unblock", parent]);
    }
    let start = Instant::now();
    loop {
        let tasks = home.json(&["--db", db, "ls", "--json"]);
        if statuses(&tasks).iter().all(|(_, s)| s == "done") {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the board never drained: {tasks}"
        );
        thread::sleep(Duration::from_millis(50));
    }
    let stopped = interrupt(work);
    assert!(
        stopped.status.success(),
        "{}",
        String::from_utf8_lossy(&stopped.stderr)
    );

    let audit = home
        .gateboard(&["--db", db, "audit"])
        .output()
        .expect("audit");
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    let back = home.hermes(&["read", "--db", db]);
    assert_intact(&back);
    assert_eq!(back["tasks"].as_array().expect("tasks").len(), ROUNDS + 10);
    assert!(statuses(&back["tasks"]).iter().all(|(_, s)| s == "done"));
}

#[test]
fn a_person_triages_a_hermes_board_in_the_tui_without_working_it() {
    let home = Home::new();
    let made = home.hermes(&["make-dag"]);
    let blocked = text(&made["blocked"]);
    let command = format!(
        "env -u HERMES_KANBAN_HOME -u HERMES_KANBAN_DB -u HERMES_KANBAN_BOARD HOME={} HERMES_HOME={} {} --hermes",
        home.dir.path().display(),
        home.hermes_home().display(),
        env!("CARGO_BIN_EXE_gateboard")
    );
    let tui = Session::start(&command);
    tui.wait_for("waiting for legal");
    tui.wait_for("No workers run on this board.");
    tui.wait_for("Hermes board");
    tui.keys(&["l", "l", "l", "u"]);
    tui.wait_for("blocked (0)");
    tui.keys(&["q"]);
    let start = Instant::now();
    while tui.alive() {
        assert!(start.elapsed() < Duration::from_secs(10), "q did not quit");
        thread::sleep(Duration::from_millis(50));
    }

    let back = home.hermes(&["read"]);
    assert_intact(&back);
    assert_eq!(status_of(&back["tasks"], &blocked), "ready");
    let claimable = ids(&made["claimable"]);
    assert_eq!(
        status_of(&back["tasks"], &claimable[0]),
        "ready",
        "no worker ran on the Hermes board"
    );
    let kinds: Vec<String> = back["events"]
        .as_array()
        .expect("events")
        .iter()
        .filter(|e| e["task_id"] == blocked.as_str())
        .map(|e| text(&e["kind"]))
        .collect();
    assert_eq!(kinds, ["created", "blocked", "unblocked"]);
}
