//! Running the real binary on a test board: a `gateboard --db BOARD` that never touches a
//! user's own board, run to its end under a guard that only catches hangs.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;

/// The longest any wait lasts. Only a guard against a hang: no test asserts a duration.
pub const HANG_GUARD: Duration = Duration::from_secs(60);

/// `gateboard --db BOARD`, run in `cwd`, with the user's own board and claimer left out.
pub fn gateboard(db: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateboard"));
    isolate(&mut cmd, cwd);
    cmd.arg("--db").arg(db);
    cmd
}

/// `gateboard` with no board on its command line, run in `cwd` under `setsid`, so it has no
/// controlling terminal a TUI could take over; `HOME` and `XDG_DATA_HOME` point into `home`,
/// so a per-user default board it makes is the test's own.
pub fn gateboard_without_terminal(home: &Path, cwd: &Path) -> Command {
    let mut cmd = Command::new("setsid");
    cmd.arg("--wait").arg(env!("CARGO_BIN_EXE_gateboard"));
    isolate(&mut cmd, cwd);
    cmd.env("HOME", home)
        .env("XDG_DATA_HOME", home.join("data"));
    cmd
}

fn isolate(cmd: &mut Command, cwd: &Path) {
    cmd.env_remove("GATEBOARD_DB")
        .env_remove("GATEBOARD_CLAIMER")
        .env("USER", "tester")
        .env("NO_COLOR", "1")
        .current_dir(cwd);
}

/// Runs `cmd` with no stdin to its end, killing it should it outlast the hang guard.
pub fn run_to_end(mut cmd: Command, what: &str) -> Output {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let pid = Pid::from_raw(i32::try_from(child.id()).expect("pid"));
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(HANG_GUARD) {
        Ok(out) => out.unwrap_or_else(|e| panic!("{what}: {e}")),
        Err(_) => {
            let _ = kill(pid, Signal::SIGKILL);
            panic!("{what} hung");
        }
    }
}

/// The stdout of a verb that must succeed.
pub fn stdout_of_success(out: Output, args: &[&str]) -> String {
    assert!(
        out.status.success(),
        "gateboard {args:?} failed ({:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 stdout")
}
