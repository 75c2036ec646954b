//! The supervisor: gateboard re-executed once per attempt, owning the command's process group.
//!
//! Why a process of its own: a parent-death signal reaches only the direct child, and fires when
//! the *thread* that spawned it exits, so it cannot promise that `sleep 1000 &` inside a command
//! dies with the pool. The supervisor's stdin is a pipe whose only writer is the pool: when the
//! pool stops it, or dies by any means (`kill -9` included), the pipe reads end-of-file and the
//! supervisor kills the whole group. SIGTERM, SIGINT and SIGHUP sent to the supervisor do the same.
//!
//! Protocol on stdout, one line each: `started PID` once the command runs, then exactly one of
//! `exited CODE`, `signal NUMBER` or `failed MESSAGE` when it has ended and its group is gone.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::Path;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// What one attempt runs, as the pool hands it to its supervisor.
#[derive(Clone, Debug)]
pub struct Supervised<'a> {
    /// The shell command, run as `sh -c COMMAND`.
    pub command: &'a str,
    /// Its working folder.
    pub cwd: &'a Path,
    /// Where stdout and stderr go, interleaved in order.
    pub log: &'a Path,
    /// How long the group has between SIGTERM and SIGKILL when stopped.
    pub grace: Duration,
}

/// Something that ends the wait.
enum Wake {
    /// The command's main process exited (it is a zombie until reaped).
    Exited,
    /// Stop: the pool said so, went away, or a signal asked.
    Stop,
}

/// Runs one attempt to its end and reports it on stdout; the exit code is 0 unless the
/// report itself could not be written.
pub fn run(job: &Supervised<'_>) -> u8 {
    let mut out = io::stdout().lock();
    let report = supervise(job, &mut out);
    let line = match report {
        Ok(Ended::Exited(code)) => format!("exited {code}"),
        Ok(Ended::Signal(signal)) => format!("signal {signal}"),
        Err(message) => {
            // The log says it too, so `gateboard logs` shows why nothing ran.
            if let Ok(mut log) = open_log(job.log) {
                let _ = writeln!(log, "gateboard: {message}");
            }
            format!("failed {}", message.replace('\n', " "))
        }
    };
    match writeln!(out, "{line}").and_then(|()| out.flush()) {
        Ok(()) => 0,
        Err(_) => 1,
    }
}

/// How the command ended.
enum Ended {
    Exited(i32),
    Signal(i32),
}

fn supervise(job: &Supervised<'_>, out: &mut impl Write) -> Result<Ended, String> {
    // Listen first: a stop that arrives while the command starts must not be lost.
    let (wake, woken) = mpsc::channel();
    let mut signals = Signals::new([SIGTERM, SIGINT, SIGHUP])
        .map_err(|e| format!("cannot listen for signals: {e}"))?;
    let on_signal = wake.clone();
    thread::spawn(move || {
        if signals.forever().next().is_some() {
            let _ = on_signal.send(Wake::Stop);
        }
    });
    let on_eof = wake.clone();
    thread::spawn(move || {
        // Any line or the end of the pipe means stop; the pool writes nothing else.
        let mut line = String::new();
        let _ = io::stdin().lock().read_line(&mut line);
        let _ = on_eof.send(Wake::Stop);
    });

    if !job.cwd.is_dir() {
        return Err(format!(
            "cannot start: the folder {} does not exist",
            job.cwd.display()
        ));
    }
    let log =
        open_log(job.log).map_err(|e| format!("cannot open the log {}: {e}", job.log.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot share the log: {e}"))?;
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(job.command)
        .current_dir(job.cwd)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start /bin/sh: {e}"))?;
    let pid = child.id();
    let group = Pid::from_raw(i32::try_from(pid).map_err(|_| "pid out of range".to_owned())?);
    // The pool learns the pid before anything else can go wrong.
    let _ = writeln!(out, "started {pid}").and_then(|()| out.flush());

    let on_exit = wake;
    thread::spawn(move || {
        // WNOWAIT leaves the main process a zombie, so its pid (the group's id) cannot be
        // reused by an unrelated group before we have signalled this one.
        let _ = waitid(Id::Pid(group), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT);
        let _ = on_exit.send(Wake::Exited);
    });

    match woken.recv() {
        Ok(Wake::Exited) | Err(_) => {}
        Ok(Wake::Stop) => {
            let _ = killpg(group, Signal::SIGTERM);
            if !wait_for_exit(&woken, job.grace) {
                let _ = killpg(group, Signal::SIGKILL);
                wait_for_exit(&woken, Duration::MAX);
            }
        }
    }
    // Whatever the command left behind in its group goes with it.
    let _ = killpg(group, Signal::SIGKILL);
    let status = child
        .wait()
        .map_err(|e| format!("cannot reap the command: {e}"))?;
    Ok(ended(status))
}

/// Waits until the main process has exited or `limit` passes; true if it exited.
fn wait_for_exit(woken: &mpsc::Receiver<Wake>, limit: Duration) -> bool {
    let deadline = std::time::Instant::now().checked_add(limit);
    loop {
        let left = deadline.map_or(Duration::from_secs(3600), |d| {
            d.saturating_duration_since(std::time::Instant::now())
        });
        match woken.recv_timeout(left) {
            Ok(Wake::Exited) => return true,
            // Further stop requests change nothing.
            Ok(Wake::Stop) => {}
            Err(mpsc::RecvTimeoutError::Timeout) if deadline.is_some() => return false,
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => return true,
        }
    }
}

fn ended(status: ExitStatus) -> Ended {
    match (status.code(), status.signal()) {
        (Some(code), _) => Ended::Exited(code),
        (None, Some(signal)) => Ended::Signal(signal),
        (None, None) => Ended::Exited(-1),
    }
}

fn open_log(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}
