//! Opening the TUI where it cannot run: the real binary, with no terminal to take over.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};

use common::cli_run;
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

/// Whether `dir` holds nothing: no board file, no `-wal`/`-shm`, no logs folder.
fn is_empty(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .expect("read the folder")
        .next()
        .is_none()
}

#[test]
fn a_tui_on_a_db_path_with_no_board_exits_5_before_the_terminal_and_creates_nothing() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("folder");
    let db = dir.path().join("mistyped.db");
    for args in [vec![], vec!["tui"], vec!["tui", "--workers", "2"]] {
        let mut cmd = cli_run::gateboard_without_terminal(home.path(), dir.path());
        cmd.arg("--db").arg(&db).args(&args);
        let out = cli_run::run_to_end(cmd, &format!("gateboard --db {args:?}"));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{args:?}: {stderr}");
        assert_eq!(
            stderr,
            format!(
                "gateboard: no board at {path}; create one with `gateboard --db {path} init`\n",
                path = db.display()
            ),
            "{args:?}"
        );
        assert!(!db.exists(), "{args:?} left a board file behind");
        assert!(is_empty(dir.path()), "{args:?} left files behind");
    }
}

#[test]
fn a_tui_on_a_gateboard_db_with_no_board_exits_5_and_creates_nothing() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("folder");
    let db = dir.path().join("absent.db");
    let mut cmd = cli_run::gateboard_without_terminal(home.path(), dir.path());
    cmd.env("GATEBOARD_DB", &db);
    let out = cli_run::run_to_end(cmd, "gateboard with GATEBOARD_DB");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(5), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("gateboard: no board at "), "{stderr}");
    assert!(is_empty(dir.path()), "a board was made at GATEBOARD_DB");
    assert!(is_empty(home.path()), "the default board was made instead");
}

#[test]
fn only_the_per_user_default_board_is_made_on_first_run() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("folder");
    let cmd = cli_run::gateboard_without_terminal(home.path(), dir.path());
    let out = cli_run::run_to_end(cmd, "gateboard with no board named");
    let stderr = String::from_utf8_lossy(&out.stderr);
    // It gets as far as the terminal, which is not there.
    assert!(
        stderr.starts_with("gateboard: cannot take over the terminal"),
        "{stderr}"
    );
    let board = home.path().join("data/gateboard/board.db");
    assert!(board.is_file(), "no default board at {}", board.display());
    assert!(is_empty(dir.path()));
}

#[test]
fn a_mistyped_keys_file_is_refused_in_one_line_before_the_terminal() {
    let home = tempfile::tempdir().expect("home");
    let dir = tempfile::tempdir().expect("folder");
    let config = home.path().join("config");
    std::fs::create_dir_all(config.join("gateboard")).expect("config folder");
    let keys = config.join("gateboard").join("keys.toml");
    std::fs::write(&keys, "[keys]\nblock = \"u\"\n").expect("keys.toml");
    let db = dir.path().join("board.db");
    let init = cli_run::gateboard_without_terminal(home.path(), dir.path());
    let mut init = init;
    init.arg("--db").arg(&db).arg("init");
    assert!(cli_run::run_to_end(init, "init").status.success());
    let mut cmd = cli_run::gateboard_without_terminal(home.path(), dir.path());
    cmd.env("XDG_CONFIG_HOME", &config)
        .arg("--db")
        .arg(&db)
        .arg("tui");
    let out = cli_run::run_to_end(cmd, "gateboard tui");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert_eq!(
        stderr,
        format!(
            "gateboard: {}: u is bound to both unblock and block\n",
            keys.display()
        )
    );
}
