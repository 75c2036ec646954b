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
    let detail = tui.wait_for("m comments, Esc closes");
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
        !tui.screen().contains("m comments, Esc closes")
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

/// The pid of the TUI started on `board`.
fn tui_pid(board: &Path) -> String {
    let pgrep = Command::new("pgrep")
        .args([
            "-f",
            "--",
            &format!(
                "^{} --db {} tui",
                env!("CARGO_BIN_EXE_gateboard"),
                board.display()
            ),
        ])
        .output()
        .expect("pgrep");
    String::from_utf8_lossy(&pgrep.stdout)
        .lines()
        .next()
        .expect("the TUI's pid")
        .to_owned()
}

/// Every process below `pid` (its supervisor and the commands it runs).
fn descendants(pid: &str) -> Vec<String> {
    let pgrep = Command::new("pgrep")
        .args(["-P", pid])
        .output()
        .expect("pgrep");
    let children: Vec<String> = String::from_utf8_lossy(&pgrep.stdout)
        .lines()
        .map(str::to_owned)
        .collect();
    let mut all = children.clone();
    for child in &children {
        all.extend(descendants(child));
    }
    all
}

fn alive(pid: &str) -> bool {
    // A zombie is dead for our purposes: it runs nothing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split_whitespace().nth(2).is_none_or(|s| s != "Z"))
}

/// Starts a TUI working one long command, stops it with `stop`, and checks that the command
/// died and its claim went back to the queue as an interruption, not a failure.
fn stopping_the_tui_stops_its_commands_and_releases_their_claims(
    stop: impl FnOnce(&Session, &str),
) {
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
    let tui_pid = tui_pid(&board.path);
    stop(&tui, &tui_pid);
    until("the TUI to exit", || !alive(&tui_pid));
    until("the command to die", || !alive(&child));
    let check = board.open();
    let task = check.read(|r| r.task(&id)).expect("task");
    assert_eq!(
        task.status,
        Status::Ready,
        "the claim was left to lapse instead of released"
    );
    assert_eq!(task.failures, 0, "an interruption is no failure");
    let runs = check.read(|r| r.runs(&id)).expect("runs");
    assert_eq!(
        runs.last().and_then(|r| r.outcome.as_deref()),
        Some("interrupted")
    );
}

#[test]
fn sigterm_to_the_tui_stops_its_commands_and_releases_their_claims() {
    stopping_the_tui_stops_its_commands_and_releases_their_claims(|_, pid| {
        let killed = Command::new("kill")
            .args(["-TERM", pid])
            .status()
            .expect("kill");
        assert!(killed.success());
    });
}

#[test]
fn closing_the_tui_s_terminal_stops_its_commands_and_releases_their_claims() {
    stopping_the_tui_stops_its_commands_and_releases_their_claims(|tui, _| tui.close());
}

#[test]
fn capital_r_fires_the_gate_on_screen_and_sums_up_with_no_violations() {
    let board = common::TempBoard::new();
    // A tenth of the human pace, so the test takes seconds; the race is the same.
    let tui = Session::start(&format!(
        "{} --db {} tui --workers 2 --race-pace-ms 100",
        env!("CARGO_BIN_EXE_gateboard"),
        board.path.display()
    ));
    tui.wait_for("workers: 2");
    let pid = tui_pid(&board.path);
    tui.keys(&["R"]);
    // The event pane's claim_rejected line carries the reason; the summary does not.
    tui.wait_for("parents_not_done");
    let screen = tui.wait_for("buggy-writer race done: 30 children");
    assert!(
        screen.contains("claim_rejected, violations: live 0, audit 0"),
        "{screen}"
    );
    assert!(
        !screen.contains(" 0 claim_rejected"),
        "the gate fired: {screen}"
    );
    let below = descendants(&pid);

    tui.keys(&["q"]);
    until("the TUI to exit", || !tui.alive());
    for process in std::iter::once(&pid).chain(&below) {
        until(&format!("process {process} to end"), || !alive(process));
    }
    cli(&board.path, &["audit"]);
}

#[test]
fn a_person_jumps_from_a_task_to_its_parent_through_the_tree() {
    let board = common::TempBoard::new();
    let parent = cli(&board.path, &["add", "fetch the data"]);
    cli(
        &board.path,
        &["add", "train the model", "--parent", &parent],
    );
    let tui = Session::start(&tui_command(&board.path));
    tui.wait_for("train the model");
    // The child waits in todo, the first column: open its tree.
    tui.keys(&["t"]);
    tui.wait_for("dependencies of");
    tui.wait_for("holds it back");
    // Up to the parent, then Enter opens it.
    tui.keys(&["k", "Enter"]);
    tui.wait_for("ready to claim");
    let screen = tui.screen();
    assert!(
        screen.contains(&parent) && screen.contains("fetch the data"),
        "the parent's detail view is open:\n{screen}"
    );
    tui.keys(&["q"]);
    until("q quits", || !tui.alive());
}

#[test]
fn a_person_cancels_a_running_command_with_x() {
    let board = common::TempBoard::new();
    let id = cli(&board.path, &["add", "endless", "--cmd", "sleep 1000"]);
    let tui = Session::start(&format!(
        "{} --db {} tui --workers 1",
        env!("CARGO_BIN_EXE_gateboard"),
        board.path.display()
    ));
    tui.wait_for("running (1)");
    let pid = tui_pid(&board.path);
    until("the command starts", || {
        descendants(&pid).iter().any(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.contains("sleep"))
        })
    });
    tui.keys(&["l", "l", "x"]);
    tui.wait_for("Cancel");
    tui.keys(&["y"]);
    let check = board.open();
    until("x blocks the task", || {
        check.read(|r| r.task(&id)).expect("task").status == Status::Blocked
    });
    until("its command is gone", || {
        !descendants(&pid).iter().any(|p| {
            std::fs::read_to_string(format!("/proc/{p}/cmdline")).is_ok_and(|c| c.contains("sleep"))
        })
    });
    tui.wait_for("blocked (1)");
    tui.keys(&["q"]);
    until("q quits", || !tui.alive());
}

#[test]
fn a_person_reaches_the_end_of_a_long_done_column_and_filters_it() {
    let board = common::TempBoard::new();
    gateboard::core::history::write_history(
        &mut board.open(),
        &gateboard::core::history::History {
            finished: 1000,
            active: 0,
            events_per_task: 4,
            since: 1_790_000_000,
        },
    )
    .expect("history");
    let tui = Session::start(&tui_command(&board.path));
    tui.wait_for("done (1000)");
    tui.keys(&["l", "l", "l", "l", "G"]);
    tui.wait_for("done 1000/1000");
    tui.wait_for("history task 999:");
    tui.keys(&["/"]);
    tui.keys(&["-l", "task 12:"]);
    tui.wait_for("done (1/1000)");
    tui.wait_for("history task 12:");
    // The filter put the cursor on the one card it showed; without it, the cursor stays there.
    tui.keys(&["Escape"]);
    tui.wait_for("done 13/1000");
}
