//! The real binary in tmux, driven as a person would: keys in, screen text out.

mod common;

use std::path::Path;
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use gateboard::core::Status;

/// A tmux session running gateboard; killed when dropped.
struct Session {
    name: String,
}

impl Session {
    fn start(board: &Path) -> Session {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "the end-to-end TUI test needs tmux on PATH (apt-get install tmux)"
        );
        let name = format!(
            "gateboard-test-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        );
        let command = format!(
            "{} --db {} tui --workers 0",
            env!("CARGO_BIN_EXE_gateboard"),
            board.display()
        );
        let status = Command::new("tmux")
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "100",
                "-y",
                "30",
                &command,
            ])
            .env_remove("NO_COLOR")
            .status()
            .expect("start tmux");
        assert!(status.success(), "tmux new-session failed");
        Session { name }
    }

    fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("send keys");
        assert!(status.success());
    }

    fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("capture pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{text:?} never appeared; the screen was:\n{screen}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
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

    let tui = Session::start(&board.path);
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
fn another_process_s_commit_appears_on_screen() {
    let board = common::TempBoard::new();
    cli(&board.path, &["add", "first card"]);
    let tui = Session::start(&board.path);
    tui.wait_for("first card");
    let id = cli(&board.path, &["add", "from elsewhere"]);
    tui.wait_for("from elsewhere");
    tui.wait_for(&id);
    tui.keys(&["q"]);
}
