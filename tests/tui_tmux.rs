//! The real binary in tmux, driven as a person would: keys in, screen text out.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use common::tmux::Session;
use gateboard::core::Status;

fn tui_command(board: &Path) -> String {
    format!(
        "{} --db {} tui --workers 0",
        env!("CARGO_BIN_EXE_gateboard"),
        board.display()
    )
}

fn cli(board: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gateboard"))
        .arg("--db")
        .arg(board)
        .args(args)
        .output()
        .expect("run gateboard");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

#[test]
fn a_person_unblocks_a_task_by_keyboard() {
    let board = common::TempBoard::new();
    let id = cli(&board.path, &["add", "stuck on a decision"]);
    cli(&board.path, &["block", &id, "--reason", "needs a person"]);

    let tui = Session::start(&tui_command(&board.path));
    tui.wait_for("blocked (1)");
    tui.wait_for("needs a person");
    tui.keys(&["l", "l", "l", "u"]);

    let check = board.open();
    let start = Instant::now();
    while check.read(|r| r.task(&id)).expect("task").status == Status::Blocked {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "u never unblocked:\n{}",
            tui.screen()
        );
        thread::sleep(Duration::from_millis(50));
    }
    assert_eq!(
        check.read(|r| r.task(&id)).expect("task").status,
        Status::Ready
    );
    tui.wait_for("ready (1)");
    tui.wait_for("blocked (0)");

    tui.keys(&["q"]);
    let start = Instant::now();
    while tui.alive() {
        assert!(start.elapsed() < Duration::from_secs(10), "q did not quit");
        thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_person_opens_a_blocked_task_from_its_event_and_unblocks_it() {
    let board = common::TempBoard::new();
    let id = cli(&board.path, &["add", "stuck on a decision"]);
    cli(&board.path, &["block", &id, "--reason", "needs a person"]);
    cli(&board.path, &["add", "a later card"]);

    let tui = Session::start(&tui_command(&board.path));
    tui.wait_for("blocked (1)");
    // The events pane, then up from the newest event (the later card's) to the block.
    tui.keys(&["Tab", "k"]);
    tui.wait_for("frozen — 0 new, G to follow");
    tui.keys(&["Enter"]);
    let detail = tui.wait_for("task — m comments, Esc closes");
    assert!(detail.contains("stuck on a decision"), "{detail}");
    assert!(detail.contains("blocked: needs a person"), "{detail}");
    tui.keys(&["u"]);

    let check = board.open();
    until("u to unblock the task", || {
        check.read(|r| r.task(&id)).expect("task").status == Status::Ready
    });
    let screen = tui.wait_for("ready to claim");
    assert!(screen.contains("stuck on a decision"), "{screen}");
    // Sent apart: a terminal reads Esc and a key close behind it as Alt and that key.
    tui.keys(&["Escape"]);
    until("Esc to close the detail view", || {
        !tui.screen().contains("task — m comments")
    });
    tui.keys(&["q"]);
    until("q to quit", || !tui.alive());
}

#[test]
fn another_process_s_commit_appears_on_screen() {
    let board = common::TempBoard::new();
    cli(&board.path, &["add", "first card"]);
    let tui = Session::start(&tui_command(&board.path));
    tui.wait_for("first card");
    let id = cli(&board.path, &["add", "from elsewhere"]);
    tui.wait_for("from elsewhere");
    tui.wait_for(&id);
    tui.keys(&["q"]);
}

/// Polls until `done`, failing with `what` after a limit that only guards against a hang.
fn until(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "timed out: {what}"
        );
        thread::sleep(Duration::from_millis(50));
    }
}

fn alive(pid: &str) -> bool {
    // A zombie is dead for our purposes: it runs nothing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split_whitespace().nth(2).is_none_or(|s| s != "Z"))
}

#[test]
fn sigterm_to_the_tui_stops_its_commands_and_releases_their_claims() {
    let board = common::TempBoard::new();
    let folder = board.path.parent().expect("folder").to_path_buf();
    let id = cli(
        &board.path,
        &[
            "add",
            "long job",
            "--cmd",
            "sleep 1000 & echo $! > child.pid; wait",
            "--cwd",
            &folder.to_string_lossy(),
        ],
    );
    let tui = Session::start(&format!(
        "{} --db {} tui --workers 1",
        env!("CARGO_BIN_EXE_gateboard"),
        board.path.display()
    ));
    let child_pid = folder.join("child.pid");
    until("the command to run", || {
        std::fs::read_to_string(&child_pid).is_ok_and(|p| !p.trim().is_empty())
    });
    let child = std::fs::read_to_string(&child_pid)
        .expect("pid")
        .trim()
        .to_owned();
    let pgrep = Command::new("pgrep")
        .args([
            "-f",
            "--",
            &format!(
                "^{} --db {} tui",
                env!("CARGO_BIN_EXE_gateboard"),
                board.path.display()
            ),
        ])
        .output()
        .expect("pgrep");
    let tui_pid = String::from_utf8_lossy(&pgrep.stdout)
        .lines()
        .next()
        .expect("the TUI's pid")
        .to_owned();
    let killed = Command::new("kill")
        .args(["-TERM", &tui_pid])
        .status()
        .expect("kill");
    assert!(killed.success());
    until("the TUI to exit", || !tui.alive());
    until("the command to die", || !alive(&child));
    let check = board.open();
    until("the claim to be released", || {
        check.read(|r| r.task(&id)).expect("task").status == Status::Ready
    });
    let task = check.read(|r| r.task(&id)).expect("task");
    assert_eq!(task.failures, 0, "an interruption is no failure");
    let runs = check.read(|r| r.runs(&id)).expect("runs");
    assert_eq!(
        runs.last().and_then(|r| r.outcome.as_deref()),
        Some("interrupted")
    );
}
