//! The executor end to end: the pool runs each task's command under a supervisor that owns its
//! process group, records how every attempt ended (completed, crashed, timed out, could not
//! start, deferred, interrupted, cancelled), retries with a backoff, keeps the output as bytes,
//! and leaves no process of a command alive behind it, however the pool or the attempt ends.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli_run::{self, HANG_GUARD, run_to_end, stdout_of_success};

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use gateboard::core::attempt::{Attempt, AttemptEnd, FailureKind};
use gateboard::core::model::TaskCommand;
use gateboard::core::ops::{ClaimScope, Claimer};
use gateboard::core::{BoardError, NewTask, Status, now_epoch};
use nix::sys::signal::{Signal, kill};
use nix::unistd::Pid;
use serde_json::Value as Json;

/// A board in a temporary folder, and a folder beside it where commands run and leave markers.
struct Fixture {
    board: common::TempBoard,
    /// The current folder of every `gateboard` started here, so the default `--cwd` of `add`.
    files: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let board = common::TempBoard::new();
        let files = board.dir.path().join("files");
        fs::create_dir(&files).expect("files folder");
        Fixture { board, files }
    }

    fn db(&self) -> &Path {
        &self.board.path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.files.join(name)
    }

    /// `gateboard --db BOARD`, run in the files folder, never on a user's own board.
    fn gateboard(&self) -> Command {
        cli_run::gateboard(self.db(), &self.files)
    }

    /// Runs a verb to its end (bounded by the hang guard).
    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.gateboard();
        cmd.args(args);
        run_to_end(cmd, &format!("gateboard {args:?}"))
    }

    /// Runs a verb that must succeed; returns its stdout.
    fn ok(&self, args: &[&str]) -> String {
        stdout_of_success(self.run(args), args)
    }

    /// Adds a task running `cmd`; returns its id.
    fn add(&self, title: &str, cmd: &str, extra: &[&str]) -> String {
        let mut args = vec!["add", title, "--cmd", cmd];
        args.extend_from_slice(extra);
        self.ok(&args).trim().to_owned()
    }

    /// Drains the board with command-running workers (one unless `extra` says) and short
    /// retry delays.
    fn work(&self, extra: &[&str]) -> String {
        let mut args = vec!["work", "--exit-when-idle", "--retry-delay", "0.05"];
        if !extra.contains(&"--workers") {
            args.extend(["--workers", "1"]);
        }
        args.extend_from_slice(extra);
        self.ok(&args)
    }

    /// Starts `work --workers N --retry-delay 0.05 EXTRA` in the background.
    fn spawn_work(&self, workers: &str, extra: &[&str]) -> Worker {
        let child = self
            .gateboard()
            .args(["work", "--workers", workers, "--retry-delay", "0.05"])
            .args(extra)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start work");
        Worker(Some(child))
    }

    fn show(&self, id: &str) -> Json {
        serde_json::from_str(&self.ok(&["show", id, "--json"])).expect("show --json is JSON")
    }

    fn status(&self, id: &str) -> String {
        self.show(id)["task"]["status"]
            .as_str()
            .expect("a status")
            .to_owned()
    }

    fn runs(&self, id: &str) -> Vec<Json> {
        self.show(id)["runs"].as_array().expect("runs").clone()
    }

    fn outcomes(&self, id: &str) -> Vec<String> {
        self.runs(id)
            .iter()
            .map(|r| r["outcome"].as_str().unwrap_or("(open)").to_owned())
            .collect()
    }

    fn event_kinds(&self, id: &str) -> Vec<String> {
        self.show(id)["events"]
            .as_array()
            .expect("events")
            .iter()
            .map(|e| e["kind"].as_str().expect("a kind").to_owned())
            .collect()
    }

    /// The pid a command wrote to `name` (`echo $$ > name`), once it is there.
    fn pid_in(&self, name: &str) -> i32 {
        let path = self.file(name);
        let mut pid = None;
        wait_for(&format!("a pid in {name}"), || {
            pid = fs::read_to_string(&path)
                .ok()
                .filter(|text| text.ends_with('\n'))
                .and_then(|text| text.trim().parse().ok());
            pid.is_some()
        });
        pid.expect("a pid")
    }

    /// Waits until no process is left that a command of this board started: each inherits
    /// `GATEBOARD_DB` naming this board, and nothing else here carries it.
    fn assert_no_command_left(&self) {
        let mut marker = b"GATEBOARD_DB=".to_vec();
        marker.extend_from_slice(self.db().as_os_str().as_encoded_bytes());
        marker.push(0);
        let mut left = Vec::new();
        wait_for("every process of this board's commands to end", || {
            left = processes_with_env(&marker);
            left.is_empty()
        });
    }
}

/// A `gateboard` verb in the background (`work`, `logs --follow`); killed if a test leaves
/// it running.
struct Worker(Option<Child>);

impl Worker {
    fn pid(&self) -> Pid {
        let child = self.0.as_ref().expect("running");
        Pid::from_raw(i32::try_from(child.id()).expect("pid"))
    }

    /// Sends `signal` and waits for the process to exit; returns how it exited and its output.
    fn stop(&mut self, signal: Signal) -> (ExitStatus, String) {
        kill(self.pid(), signal).expect("signal work");
        self.wait()
    }

    /// Waits for the process to exit by itself (bounded by the hang guard).
    fn wait(&mut self) -> (ExitStatus, String) {
        let mut child = self.0.take().expect("running");
        let start = Instant::now();
        while child.try_wait().expect("poll work").is_none() {
            if start.elapsed() > HANG_GUARD {
                let _ = child.kill();
                let _ = child.wait();
                panic!("the background gateboard did not exit");
            }
            thread::sleep(Duration::from_millis(20));
        }
        let out = child.wait_with_output().expect("work output");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status, text)
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `done` until it holds; panics only if the hang guard runs out.
fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < HANG_GUARD, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

/// Whether `pid` is a live process: a zombie (dead, not yet reaped) counts as gone.
fn is_alive(pid: i32) -> bool {
    let Ok(stat) = fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return false;
    };
    // The state follows the command name, which is in parentheses and may hold spaces.
    let state = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or("X");
    !matches!(state, "Z" | "X")
}

fn assert_dies(pid: i32, what: &str) {
    wait_for(&format!("{what} (pid {pid}) to die"), || !is_alive(pid));
}

/// Live processes whose environment holds `entry` (`NAME=VALUE` and its NUL).
fn processes_with_env(entry: &[u8]) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(entry.len()).any(|w| w == entry))
                && is_alive(pid)
        })
        .collect()
}

/// A command that records its shell's pid and a grandchild's, then waits on the grandchild.
const SLEEPER: &str = "echo $$ > sh.pid; sleep 1000 & echo $! > child.pid; wait";

#[test]
fn exit_0_completes_the_task_with_the_last_line_and_logs_both_streams_in_order() {
    let fx = Fixture::new();
    let id = fx.add("greet", "echo a; echo b >&2; echo c", &[]);
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "done");
    assert_eq!(shown["task"]["result"], "c");
    let runs = shown["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0]["outcome"], "completed");
    assert_eq!(runs[0]["exit_code"], 0);
    assert!(runs[0]["duration_ms"].is_i64(), "{}", runs[0]);
    let log = PathBuf::from(runs[0]["log"].as_str().expect("a log path"));
    let run_id = runs[0]["id"].as_i64().expect("run id");
    let mut logs = fx.db().as_os_str().to_owned();
    logs.push(".logs");
    assert_eq!(
        log,
        PathBuf::from(logs).join(&id).join(format!("{run_id}.log"))
    );
    assert_eq!(fs::read(&log).expect("log"), b"a\nb\nc\n");
    assert_eq!(fx.run(&["logs", &id]).stdout, b"a\nb\nc\n");
    fx.assert_no_command_left();
}

#[test]
fn a_failure_without_retries_blocks_at_once_with_the_exit_code_and_last_line() {
    let fx = Fixture::new();
    let id = fx.add("fails", "echo working; echo oops; exit 3", &[]);
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    assert_eq!(
        shown["task"]["block_reason"],
        "exit 3 after 1 attempt: oops"
    );
    let runs = shown["runs"].as_array().expect("runs");
    assert_eq!(runs.len(), 1, "no retry without --retries");
    assert_eq!(runs[0]["outcome"], "gave_up");
    assert_eq!(runs[0]["exit_code"], 3);
    assert!(fx.event_kinds(&id).contains(&"crashed".to_owned()));
    // For a person too: how the run ended, what went wrong, and where its output is.
    let plain = fx.ok(&["show", &id]);
    assert!(plain.contains("  #1 gave_up run by "), "said once: {plain}");
    assert!(plain.contains("      exit 3, "), "{plain}");
    assert!(plain.contains("      error: exit 3: oops"), "{plain}");
    let log = runs[0]["log"].as_str().expect("a log path");
    assert!(plain.contains(&format!("      log: {log}")), "{plain}");
    fx.assert_no_command_left();
}

#[test]
fn retries_run_a_failing_command_again_until_it_succeeds() {
    let fx = Fixture::new();
    let id = fx.add(
        "flaky",
        "n=$(cat count 2>/dev/null || echo 0); n=$((n+1)); echo $n > count; \
         [ $n -ge 3 ] || { echo try $n failed; exit 1; }; echo ok",
        &["--retries", "2"],
    );
    fx.work(&[]);
    assert_eq!(fx.status(&id), "done");
    assert_eq!(fx.outcomes(&id), ["crashed", "crashed", "completed"]);
    assert_eq!(fs::read_to_string(fx.file("count")).unwrap(), "3\n");
    let runs = fx.runs(&id);
    assert_eq!(runs[0]["exit_code"], 1);
    assert_eq!(runs[0]["error"], "exit 1: try 1 failed");
    fx.assert_no_command_left();
}

#[test]
fn spent_retries_block_the_task_and_its_child_never_runs() {
    let fx = Fixture::new();
    let parent = fx.add(
        "always fails",
        "echo x >> attempts; echo nope; exit 2",
        &["--retries", "1"],
    );
    let child = fx.add("after", "touch child-ran", &["--parent", &parent]);
    fx.work(&[]);
    let shown = fx.show(&parent);
    assert_eq!(shown["task"]["status"], "blocked");
    assert_eq!(
        shown["task"]["block_reason"],
        "exit 2 after 2 attempts: nope"
    );
    assert_eq!(fx.outcomes(&parent), ["crashed", "gave_up"]);
    assert_eq!(fs::read_to_string(fx.file("attempts")).unwrap(), "x\nx\n");
    assert_eq!(fx.status(&child), "todo");
    assert!(fx.runs(&child).is_empty());
    assert!(!fx.file("child-ran").exists());
    fx.assert_no_command_left();
}

#[test]
fn exit_75_requeues_the_task_without_counting_a_failure() {
    let fx = Fixture::new();
    // No --retries: one counted failure would block the task for good.
    let id = fx.add(
        "later",
        "if [ -e asked ]; then echo done now; else touch asked; exit 75; fi",
        &[],
    );
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "done");
    assert_eq!(shown["task"]["result"], "done now");
    assert_eq!(shown["task"]["failures"], 0);
    assert_eq!(fx.outcomes(&id), ["deferred", "completed"]);
    assert_eq!(fx.runs(&id)[0]["exit_code"], 75);
    let kinds = fx.event_kinds(&id);
    for failure in ["crashed", "timed_out", "spawn_failed", "gave_up"] {
        assert!(!kinds.contains(&failure.to_owned()), "{failure}: {kinds:?}");
    }
    fx.assert_no_command_left();
}

#[test]
fn a_timeout_kills_the_whole_process_group_including_a_grandchild() {
    let fx = Fixture::new();
    let id = fx.add("hangs", SLEEPER, &["--timeout", "1"]);
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    let reason = shown["task"]["block_reason"].as_str().expect("a reason");
    assert!(
        reason.starts_with("timed out") && reason.contains("1s") && reason.contains("1 attempt"),
        "{reason}"
    );
    assert_eq!(fx.outcomes(&id), ["gave_up"]);
    assert!(fx.event_kinds(&id).contains(&"timed_out".to_owned()));
    assert_dies(fx.pid_in("child.pid"), "the grandchild `sleep 1000 &`");
    assert_dies(fx.pid_in("sh.pid"), "the command's shell");
    fx.assert_no_command_left();
}

#[test]
fn a_timeout_kills_a_command_that_ignores_sigterm_once_the_grace_is_over() {
    let fx = Fixture::new();
    // Ignored signals stay ignored across exec, so the grandchild ignores SIGTERM too.
    let id = fx.add(
        "stubborn",
        "trap '' TERM; echo $$ > sh.pid; sleep 1000 & echo $! > child.pid; wait; sleep 1000",
        &["--timeout", "1"],
    );
    fx.work(&[]);
    assert_eq!(fx.status(&id), "blocked");
    assert!(fx.event_kinds(&id).contains(&"timed_out".to_owned()));
    assert_dies(fx.pid_in("child.pid"), "the grandchild ignoring SIGTERM");
    assert_dies(fx.pid_in("sh.pid"), "the shell ignoring SIGTERM");
    fx.assert_no_command_left();
}

#[test]
fn a_command_killed_by_a_signal_crashes_and_records_the_signal() {
    let fx = Fixture::new();
    let id = fx.add("dies", "echo dying; kill -9 $$", &["--retries", "1"]);
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    let reason = shown["task"]["block_reason"].as_str().expect("a reason");
    assert!(
        reason.contains("signal") && reason.contains('9') && reason.ends_with(": dying"),
        "{reason}"
    );
    assert_eq!(fx.outcomes(&id), ["crashed", "gave_up"]);
    for run in fx.runs(&id) {
        assert_eq!(run["signal"], 9, "{run}");
        assert_eq!(run["exit_code"], Json::Null, "{run}");
    }
    fx.assert_no_command_left();
}

#[test]
fn cancel_from_another_process_kills_the_command_and_blocks_the_task() {
    let fx = Fixture::new();
    let id = fx.add("sleeps", SLEEPER, &[]);
    let mut work = fx.spawn_work("1", &[]);
    let grandchild = fx.pid_in("child.pid");
    let shell = fx.pid_in("sh.pid");
    assert_eq!(fx.status(&id), "running");

    let cancel = fx.run(&["cancel", &id]);
    assert!(
        cancel.status.success(),
        "{}",
        String::from_utf8_lossy(&cancel.stderr)
    );
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    assert_eq!(shown["task"]["block_reason"], "cancelled by cli:tester");
    assert_eq!(fx.outcomes(&id), ["cancelled"]);
    assert_dies(grandchild, "the grandchild `sleep 1000 &`");
    assert_dies(shell, "the command's shell");

    let (status, output) = work.stop(Signal::SIGINT);
    assert!(status.success(), "work after Ctrl-C: {status:?}\n{output}");
    // The pool neither ran it again nor wrote over the cancel.
    assert_eq!(fx.status(&id), "blocked");
    assert_eq!(fx.outcomes(&id), ["cancelled"]);
    fx.assert_no_command_left();
}

/// Runs a command that prints a line and sleeps, ends its run with `end` while it runs, checks
/// that the run still names its log, and returns what `gateboard logs` prints of it afterwards.
fn log_after_the_run_is_ended(end: impl FnOnce(&Fixture, &str, &mut Worker)) -> Output {
    let fx = Fixture::new();
    let id = fx.add(
        "talks then sleeps",
        "echo said before the end; sleep 1000 & echo $! > child.pid; wait",
        &[],
    );
    let mut work = fx.spawn_work("1", &[]);
    let grandchild = fx.pid_in("child.pid");
    end(&fx, &id, &mut work);
    assert_dies(grandchild, "the grandchild");
    drop(work);
    fx.assert_no_command_left();
    let runs = fx.runs(&id);
    assert_eq!(runs.len(), 1);
    assert!(
        runs[0]["log"].is_string(),
        "show --json lost the log path of the {} run: {}",
        runs[0]["outcome"],
        runs[0]
    );
    fx.run(&["logs", &id])
}

#[test]
fn a_cancelled_run_keeps_its_log() {
    let logs = log_after_the_run_is_ended(|fx, id, _| {
        assert!(fx.run(&["cancel", id]).status.success());
    });
    assert!(
        logs.status.success(),
        "{}",
        String::from_utf8_lossy(&logs.stderr)
    );
    assert_eq!(logs.stdout, b"said before the end\n");
}

#[test]
fn an_interrupted_run_keeps_its_log() {
    let logs = log_after_the_run_is_ended(|_, _, work| {
        let (status, output) = work.stop(Signal::SIGTERM);
        assert!(status.success(), "{output}");
    });
    assert!(
        logs.status.success(),
        "{}",
        String::from_utf8_lossy(&logs.stderr)
    );
    assert_eq!(logs.stdout, b"said before the end\n");
}

#[test]
fn cancel_of_a_task_that_is_not_running_exits_4_and_changes_nothing() {
    let fx = Fixture::new();
    let id = fx.add("waiting", "true", &[]);
    let cancel = fx.run(&["cancel", &id]);
    assert_eq!(cancel.status.code(), Some(4));
    let stderr = String::from_utf8_lossy(&cancel.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert_eq!(fx.status(&id), "ready");
    assert!(!fx.event_kinds(&id).contains(&"blocked".to_owned()));
}

#[test]
fn kill_9_of_a_work_process_leaves_no_command_alive() {
    let fx = Fixture::new();
    // Two commands at once, so the pool's every command is shown to go, not just one.
    for task in ["first", "second"] {
        fx.add(
            task,
            &format!("echo $$ > {task}.sh.pid; sleep 1000 & echo $! > {task}.child.pid; wait"),
            &[],
        );
    }
    let mut work = fx.spawn_work("2", &[]);
    let mut pids = Vec::new();
    for task in ["first", "second"] {
        pids.push((
            fx.pid_in(&format!("{task}.child.pid")),
            "a grandchild `sleep 1000 &`",
        ));
        pids.push((fx.pid_in(&format!("{task}.sh.pid")), "a command's shell"));
    }
    // The check below must be able to see a command of this board when there is one.
    let mut marker = b"GATEBOARD_DB=".to_vec();
    marker.extend_from_slice(fx.db().as_os_str().as_encoded_bytes());
    marker.push(0);
    let seen = processes_with_env(&marker);
    assert!(
        pids.iter().all(|(pid, _)| seen.contains(pid)),
        "{seen:?} misses some of {pids:?}"
    );

    let (status, _) = work.stop(Signal::SIGKILL);
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(9)
    );
    for (pid, what) in pids {
        assert_dies(pid, what);
    }
    fx.assert_no_command_left();
}

#[test]
fn sigterm_to_work_stops_the_command_and_requeues_the_task_without_a_failure() {
    let fx = Fixture::new();
    let id = fx.add("sleeps", SLEEPER, &["--retries", "0"]);
    let mut work = fx.spawn_work("1", &["--exit-when-idle"]);
    let grandchild = fx.pid_in("child.pid");
    let (status, output) = work.stop(Signal::SIGTERM);
    assert!(status.success(), "work after SIGTERM: {status:?}\n{output}");
    assert!(
        output.contains("released unfinished: 1"),
        "the summary says what it gave back: {output}"
    );
    assert_dies(grandchild, "the grandchild `sleep 1000 &`");
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "ready");
    assert_eq!(shown["task"]["failures"], 0);
    assert_eq!(shown["task"]["claim_lock"], Json::Null);
    assert_eq!(fx.outcomes(&id), ["interrupted"]);
    let kinds = fx.event_kinds(&id);
    for failure in ["crashed", "timed_out", "spawn_failed", "gave_up"] {
        assert!(!kinds.contains(&failure.to_owned()), "{failure}: {kinds:?}");
    }
    fx.assert_no_command_left();
}

#[test]
fn commands_running_side_by_side_each_keep_their_own_log_and_result() {
    let fx = Fixture::new();
    let ids: Vec<(usize, String)> = (0..6)
        .map(|i| {
            let cmd = format!("echo start {i}; sleep 0.2; echo middle {i} >&2; echo end {i}");
            (i, fx.add(&format!("task {i}"), &cmd, &[]))
        })
        .collect();
    fx.work(&["--workers", "3"]);
    for (i, id) in &ids {
        let shown = fx.show(id);
        assert_eq!(shown["task"]["status"], "done", "{shown}");
        assert_eq!(shown["task"]["result"], format!("end {i}"));
        let log = fs::read_to_string(shown["runs"][0]["log"].as_str().expect("a log")).unwrap();
        assert_eq!(log, format!("start {i}\nmiddle {i}\nend {i}\n"));
    }
    fx.assert_no_command_left();
}

#[test]
fn ten_megabytes_of_output_complete_and_are_logged_whole() {
    let fx = Fixture::new();
    let id = fx.add(
        "loud",
        "head -c 10000000 /dev/zero | tr '\\0' x; echo; echo end",
        &[],
    );
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "done");
    assert_eq!(shown["task"]["result"], "end");
    let log = PathBuf::from(shown["runs"][0]["log"].as_str().expect("a log"));
    let bytes = fs::read(&log).expect("log");
    assert_eq!(bytes.len(), 10_000_000 + "\nend\n".len());
    assert!(bytes[..10_000_000].iter().all(|&b| b == b'x'));
    assert!(bytes.ends_with(b"x\nend\n"));
    fx.assert_no_command_left();
}

#[test]
fn invalid_utf8_output_is_kept_as_bytes() {
    let fx = Fixture::new();
    let id = fx.add("binary", "printf '\\377\\376ok\\n'", &[]);
    fx.work(&[]);
    assert_eq!(fx.status(&id), "done");
    let out = fx.run(&["logs", &id]);
    assert!(out.status.success());
    assert_eq!(out.stdout, b"\xff\xfeok\n");
    fx.assert_no_command_left();
}

#[test]
fn a_missing_program_is_a_spawn_failure_that_blocks_with_exit_127_not_found() {
    let fx = Fixture::new();
    let id = fx.add("typo", "no-such-program-xyz", &[]);
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    let reason = shown["task"]["block_reason"].as_str().expect("a reason");
    assert!(
        reason.contains("exit 127") && reason.contains("not found"),
        "{reason}"
    );
    assert!(reason.contains("no-such-program-xyz"), "{reason}");
    assert_eq!(fx.runs(&id)[0]["exit_code"], 127);
    assert!(fx.event_kinds(&id).contains(&"spawn_failed".to_owned()));
    fx.assert_no_command_left();
}

#[test]
fn a_missing_cwd_is_a_spawn_failure_that_names_the_folder() {
    let fx = Fixture::new();
    let missing = fx.file("no-such-folder");
    let id = fx.add(
        "nowhere",
        "touch ran",
        &["--cwd", missing.to_str().expect("utf-8")],
    );
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    let reason = shown["task"]["block_reason"].as_str().expect("a reason");
    assert!(reason.contains(missing.to_str().unwrap()), "{reason}");
    assert!(fx.event_kinds(&id).contains(&"spawn_failed".to_owned()));
    assert!(!missing.exists() && !fx.file("ran").exists());
}

#[test]
fn the_command_gets_its_env_the_board_variables_an_absolute_cwd_and_dev_null_stdin() {
    let fx = Fixture::new();
    let sub = fx.file("sub");
    fs::create_dir(&sub).unwrap();
    // Relative to the folder `add` runs in (the files folder), stored absolute: `work` runs
    // from `/` below, where a relative `sub` would name another folder.
    let id = fx.add(
        "env",
        "printf '%s\\n' \"$FOO\" \"$GATEBOARD_TASK_ID\" \"$GATEBOARD_RUN_ID\" \"$GATEBOARD_DB\" \
         > ../env.out; pwd -P > ../cwd.out; readlink /proc/$$/fd/0 > ../stdin.out; \
         cat; echo after cat",
        &["--cwd", "sub", "--env", "FOO=bar", "--timeout", "30"],
    );
    let mut work = fx.gateboard();
    work.current_dir("/").args([
        "work",
        "--workers",
        "1",
        "--exit-when-idle",
        "--retry-delay",
        "0.05",
    ]);
    assert!(run_to_end(work, "work from /").status.success());
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "done", "{shown}");
    assert_eq!(shown["task"]["result"], "after cat");
    let run_id = shown["runs"][0]["id"].as_i64().expect("run id");
    let env = fs::read_to_string(fx.file("env.out")).unwrap();
    let env: Vec<&str> = env.lines().collect();
    assert_eq!(
        env,
        [
            "bar",
            id.as_str(),
            run_id.to_string().as_str(),
            fx.db().to_str().unwrap()
        ]
    );
    assert_eq!(
        fs::read_to_string(fx.file("cwd.out")).unwrap().trim_end(),
        sub.canonicalize().unwrap().to_str().unwrap()
    );
    assert_eq!(
        fs::read_to_string(fx.file("stdin.out")).unwrap().trim_end(),
        "/dev/null"
    );
    fx.assert_no_command_left();
}

#[test]
fn a_reclaimed_run_cannot_end_the_task_another_claim_now_holds() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let id = conn
        .write(|t| {
            t.create(&NewTask {
                title: "slow".into(),
                command: Some(TaskCommand {
                    command: "sleep 1".into(),
                    cwd: board.dir.path().to_str().unwrap().to_owned(),
                    env: Vec::new(),
                    timeout_secs: None,
                    retries: 3,
                }),
                ..NewTask::default()
            })
        })
        .expect("create");
    let scope = ClaimScope {
        commands_only: true,
        ..ClaimScope::default()
    };
    let stalled = Claimer {
        lock: "pool-a".into(),
        ttl: Duration::from_secs(1),
    };
    let fresh = Claimer {
        lock: "pool-b".into(),
        ttl: Duration::from_secs(600),
    };
    let now = now_epoch();
    let first = conn
        .write_at(now, |t| t.claim_next_in(&stalled, &scope))
        .expect("first claim")
        .claim
        .expect("claimed");
    let later = now + 10;
    let reclaimed = conn
        .write_at(later, |t| t.reclaim_expired(stalled.ttl))
        .expect("reclaim");
    assert_eq!(reclaimed, std::slice::from_ref(&id));
    let second = conn
        .write_at(later, |t| t.claim_next_in(&fresh, &scope))
        .expect("second claim")
        .claim
        .expect("claimed again");
    assert_ne!(second.run_id, first.run_id);

    let ends = [
        AttemptEnd::Succeeded {
            result: Some("stale result".into()),
        },
        AttemptEnd::Failed {
            kind: FailureKind::Crashed,
            cause: "exit 1".into(),
            last_line: None,
        },
        AttemptEnd::Deferred,
    ];
    for end in ends {
        let stale = Attempt {
            task_id: id.clone(),
            run_id: first.run_id,
            end: end.clone(),
            exit_code: Some(0),
            signal: None,
            duration: Duration::from_millis(5),
            log: None,
            command_pid: None,
            retry_delay: Duration::ZERO,
        };
        // Neither as the claimer it was nor under the name of the claim that replaced it.
        for claimer in [&stalled, &fresh] {
            let refused = conn.write_at(later + 1, |t| t.finish_attempt(&stale, claimer));
            assert!(
                matches!(refused, Err(BoardError::NotClaimHolder { .. })),
                "{end:?} by {}: {refused:?}",
                claimer.lock
            );
        }
    }
    let task = conn.read(|r| r.task(&id)).expect("task");
    assert_eq!(task.status, Status::Running);
    assert_eq!(task.claim_lock.as_deref(), Some("pool-b"));
    assert_eq!(task.current_run_id, Some(second.run_id));
    assert_eq!(task.failures, 0);
    let runs = conn.read(|r| r.runs(&id)).expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].outcome.as_deref(), Some("reclaimed"));
    assert_eq!(runs[1].ended_at, None);
}

#[test]
fn a_claim_taken_over_stops_its_command_so_two_copies_never_run_on() {
    let fx = Fixture::new();
    let id = fx.add(
        "sleeps",
        "sleep 1000 & echo $! >> children; wait",
        &["--retries", "0"],
    );
    // Two workers: the one whose claim is taken may see the other claim the task anew.
    let mut work = fx.spawn_work("2", &[]);
    let children = || -> Vec<i32> {
        fs::read_to_string(fx.file("children"))
            .unwrap_or_default()
            .lines()
            .filter_map(|l| l.trim().parse().ok())
            .collect()
    };
    wait_for("the first attempt to start", || children().len() == 1);
    let first = children()[0];
    // The pool stalled past its TTL as far as the board can tell: the claim is swept back.
    let mut conn = fx.board.open();
    let swept = conn
        .write_at(now_epoch() + 3600, |t| {
            t.reclaim_expired(Duration::from_secs(1))
        })
        .expect("sweep");
    assert_eq!(swept, std::slice::from_ref(&id));

    assert_dies(first, "the command of the run whose claim was taken");
    wait_for("the task to run again under a new claim", || {
        children().len() == 2 && fx.status(&id) == "running"
    });
    assert_eq!(fx.outcomes(&id), ["reclaimed", "(open)"]);
    let second = children()[1];
    assert!(is_alive(second), "the current run's command runs on");

    let (status, output) = work.stop(Signal::SIGINT);
    assert!(status.success(), "{output}");
    assert_dies(second, "the current run's command after Ctrl-C");
    assert_eq!(fx.outcomes(&id), ["reclaimed", "interrupted"]);
    assert_eq!(fx.show(&id)["task"]["failures"], 0);
    fx.assert_no_command_left();
}

#[test]
fn work_without_work_ms_does_not_wait_for_a_task_without_a_command() {
    let fx = Fixture::new();
    let card = fx.ok(&["add", "by hand"]).trim().to_owned();
    fx.work(&[]);
    assert_eq!(fx.status(&card), "ready");
    assert!(fx.runs(&card).is_empty(), "a command pool never claims it");
    fx.work(&["--work-ms", "0"]);
    assert_eq!(fx.status(&card), "done");
}

#[test]
fn unblocking_a_failed_task_gives_it_a_fresh_set_of_retries() {
    let fx = Fixture::new();
    let id = fx.add(
        "broken",
        "echo x >> attempts; echo no; exit 1",
        &["--retries", "1"],
    );
    fx.work(&[]);
    assert_eq!(fx.status(&id), "blocked");
    assert_eq!(fs::read_to_string(fx.file("attempts")).unwrap(), "x\nx\n");

    assert_eq!(fx.ok(&["unblock", &id]).trim(), "ready");
    assert_eq!(fx.show(&id)["task"]["failures"], 0);
    fx.work(&[]);
    let shown = fx.show(&id);
    assert_eq!(shown["task"]["status"], "blocked");
    assert_eq!(shown["task"]["block_reason"], "exit 1 after 2 attempts: no");
    assert_eq!(
        fs::read_to_string(fx.file("attempts")).unwrap(),
        "x\nx\nx\nx\n",
        "two more attempts, not one"
    );
    fx.assert_no_command_left();
}

#[test]
fn logs_follow_streams_output_while_the_command_runs_and_exits_when_it_ends() {
    let fx = Fixture::new();
    // The command cannot go past line1 until the test says so: what `logs --follow` prints
    // before then was streamed from a running command, whatever the machine's speed.
    let id = fx.add(
        "chatty",
        "echo line1; while [ ! -e go ]; do sleep 0.05; done; echo line2; sleep 0.3; echo line3",
        &[],
    );
    let mut work = fx.spawn_work("1", &["--exit-when-idle"]);
    wait_for("the task to run", || fx.status(&id) == "running");
    let mut follow = Worker(Some(
        fx.gateboard()
            .args(["logs", &id, "--follow"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start logs --follow"),
    ));
    let stdout = follow
        .0
        .as_mut()
        .and_then(|child| child.stdout.take())
        .expect("stdout");
    let (tx, lines) = mpsc::channel();
    thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            if tx.send(line.expect("a line")).is_err() {
                return;
            }
        }
    });
    let next = || lines.recv_timeout(HANG_GUARD);
    assert_eq!(next().expect("line1 while running"), "line1");
    assert_eq!(fx.status(&id), "running");
    fs::write(fx.file("go"), "").unwrap();
    assert_eq!(next().expect("line2"), "line2");
    assert_eq!(next().expect("line3"), "line3");
    assert!(
        matches!(next(), Err(mpsc::RecvTimeoutError::Disconnected)),
        "logs --follow printed more, or never ended"
    );
    let (status, stderr) = follow.wait();
    assert!(status.success(), "logs --follow: {status:?} {stderr}");
    let (status, output) = work.wait();
    assert!(status.success(), "{output}");
    assert_eq!(fx.status(&id), "done");
    fx.assert_no_command_left();
}

#[test]
fn a_claim_taken_ahead_goes_back_to_the_board_when_the_task_before_it_runs_long() {
    let fx = Fixture::new();
    // Quick tasks first: the worker learns a fast pace and claims ahead.
    for i in 0..40 {
        fx.add(&format!("quick {i}"), "true", &["--priority", "9"]);
    }
    let long = fx.add("long", "sleep 30", &["--priority", "5"]);
    let next = fx.add("next", "true", &["--priority", "1"]);
    let mut worker = fx.spawn_work("1", &[]);
    wait_for("the task behind the long one to be given back", || {
        fx.outcomes(&next) == ["interrupted"]
    });
    assert_eq!(
        fx.status(&long),
        "running",
        "given back while the long task runs"
    );
    assert_eq!(fx.status(&next), "ready", "claimable by any idle worker");
    assert!(
        fx.runs(&next)[0]["summary"]
            .as_str()
            .is_some_and(|s| s.contains("ran long")),
        "{:?}",
        fx.runs(&next)
    );
    let shown = fx.ok(&["show", &next]);
    assert!(
        shown.contains("why: given back unstarted") && !shown.contains("log:"),
        "show says why, and names no log the run never wrote: {shown}"
    );
    let logs = fx.run(&["logs", &next]);
    let said = String::from_utf8_lossy(&logs.stderr);
    assert!(
        !logs.status.success() && said.contains("before its command started"),
        "logs says the run wrote nothing, not an empty success: {said}"
    );
    worker.stop(Signal::SIGTERM);
    fx.assert_no_command_left();
}

#[test]
fn a_task_finished_just_before_a_long_one_is_recorded_while_the_long_one_runs() {
    let fx = Fixture::new();
    for i in 0..40 {
        fx.add(&format!("quick {i}"), "true", &["--priority", "9"]);
    }
    let before = fx.add("just before", "true", &["--priority", "5"]);
    let long = fx.add("long", "sleep 30", &["--priority", "4"]);
    // Quick ones after it too, so the worker's queue is not empty when the long one starts.
    for i in 0..20 {
        fx.add(&format!("after {i}"), "true", &["--priority", "3"]);
    }
    let mut worker = fx.spawn_work("1", &[]);
    wait_for("the task before the long one to be recorded done", || {
        fx.status(&before) == "done"
    });
    assert_eq!(
        fx.status(&long),
        "running",
        "recorded while the long task runs"
    );
    worker.stop(Signal::SIGTERM);
    fx.assert_no_command_left();
}

#[test]
fn a_task_another_writer_strands_runs_on_an_idle_worker_while_a_long_one_runs_on() {
    let fx = Fixture::new();
    let long = fx.add("long", "sleep 6", &[]);
    // A card with no command: this pool never runs it, another writer finishes it.
    let parent = fx.ok(&["add", "finished elsewhere"]).trim().to_owned();
    let child = fx.add("stranded child", "true", &["--parent", &parent]);
    let mut work = fx.spawn_work("2", &["--exit-when-idle"]);
    wait_for("the long task to start", || fx.status(&long) == "running");
    let raw = rusqlite::Connection::open(fx.db()).expect("raw connection");
    raw.execute(
        "UPDATE tasks SET status = 'done', completed_at = ?2 WHERE id = ?1",
        rusqlite::params![parent, now_epoch()],
    )
    .expect("finish by hand");
    wait_for("the stranded child to run", || fx.status(&child) == "done");
    assert_eq!(
        fx.status(&long),
        "running",
        "the idle worker ran the stranded child without waiting for the next sweep"
    );
    let (status, _) = work.stop(Signal::SIGTERM);
    assert!(status.code().is_some(), "work exits on SIGTERM");
}
