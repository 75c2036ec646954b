//! Opening the TUI where it cannot run: the real binary, with no terminal to take over.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::process::{Command, Stdio};

use gateboard::core::{NewTask, Status};

#[test]
fn a_tui_without_a_terminal_says_so_in_one_line_and_leaves_no_claim_behind() {
    let board = common::TempBoard::new();
    board
        .open()
        .write(|t| {
            for i in 0..20 {
                t.create(&NewTask {
                    title: format!("ready {i}"),
                    ..NewTask::default()
                })?;
            }
            Ok(())
        })
        .expect("seed ready tasks");

    // setsid: no controlling terminal either, so /dev/tty cannot stand in for stdin.
    let out = Command::new("setsid")
        .arg("--wait")
        .arg(env!("CARGO_BIN_EXE_gateboard"))
        .arg("--db")
        .arg(&board.path)
        .args(["tui", "--workers", "2"])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .output()
        .expect("run gateboard under setsid (util-linux)");

    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "it must fail; stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line, got:\n{stderr}");
    assert!(
        stderr.starts_with("gateboard: cannot take over the terminal"),
        "{stderr}"
    );
    let running = board
        .open()
        .read(|r| r.tasks(Some(&Status::Running)))
        .expect("read the board");
    assert!(running.is_empty(), "claims left behind: {running:?}");
}
