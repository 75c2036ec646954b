//! The supervisor: gateboard re-executed once per pool, the parent of every command the pool
//! runs, each in a process group of its own.
//!
//! Why a process of its own: a parent-death signal reaches only the direct child, and fires
//! when the *thread* that spawned it exits, so it cannot promise that `sleep 1000 &` inside a
//! command dies with the pool. The supervisor's stdin is a pipe whose only writer is the pool:
//! when the pool dies by any means (`kill -9` included) the pipe reads end-of-file, and the
//! supervisor stops every group it started (SIGTERM, then SIGKILL after the grace) and exits.
//! SIGTERM, SIGINT and SIGHUP sent to the supervisor do the same. One supervisor serves a whole
//! pool, so an attempt costs one `sh` process, not a second program start as well.
//!
//! Protocol, one line each way. The pool writes `run ID JSON` (a [`Job`]) and `stop ID`; the
//! supervisor answers `started ID PID` once a command runs, and `ended ID exited CODE`,
//! `ended ID signal NUMBER` or `ended ID failed MESSAGE` once it has ended and its group is gone.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::Duration;

use nix::sys::signal::{Signal, killpg};
use nix::sys::wait::{Id, WaitPidFlag, waitid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};
use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM};
use signal_hook::iterator::Signals;

/// One command to run, as the pool sends it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Job {
    /// The shell command, run as `sh -c COMMAND`.
    pub command: String,
    /// Its working folder.
    pub cwd: PathBuf,
    /// Variables added to the supervisor's environment (which is the pool's).
    pub env: Vec<(String, String)>,
    /// Where stdout and stderr go, interleaved in order.
    pub log: PathBuf,
}

/// What the main loop hears.
enum Heard {
    /// A line from the pool.
    Line(String),
    /// The pool is gone (end of stdin) or a signal asked to stop.
    Gone,
}

/// The commands under way, by the pool's id for them.
struct Running {
    groups: HashMap<u64, Pid>,
}

/// Everything the supervisor's threads share.
struct Shared {
    running: Mutex<Running>,
    out: Mutex<io::Stdout>,
    grace: Duration,
}

impl Shared {
    fn running(&self) -> MutexGuard<'_, Running> {
        self.running.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes one line to the pool; a pool that stopped listening has nothing left to learn.
    fn say(&self, line: &str) {
        let mut out = self.out.lock().unwrap_or_else(|p| p.into_inner());
        let _ = writeln!(out, "{line}").and_then(|()| out.flush());
    }

    /// SIGTERM to a group now and SIGKILL after the grace, unless it ended meanwhile.
    fn stop(self: &Arc<Self>, id: u64) {
        let Some(group) = self.running().groups.get(&id).copied() else {
            return;
        };
        let _ = killpg(group, Signal::SIGTERM);
        let shared = self.clone();
        thread::spawn(move || {
            thread::sleep(shared.grace);
            // Under the lock: a group still listed is not reaped, so its id is still its own.
            if let Some(group) = shared.running().groups.get(&id) {
                let _ = killpg(*group, Signal::SIGKILL);
            }
        });
    }
}

/// Serves the pool until its pipe closes and every command has ended; returns the exit code.
pub fn run(grace: Duration) -> u8 {
    let (heard, hear) = mpsc::channel();
    // Without signal handling the pipe still ends the supervisor with the pool.
    if let Ok(mut signals) = Signals::new([SIGTERM, SIGINT, SIGHUP]) {
        let on_signal = heard.clone();
        thread::spawn(move || {
            if signals.forever().next().is_some() {
                let _ = on_signal.send(Heard::Gone);
            }
        });
    }
    thread::spawn(move || {
        for line in io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if heard.send(Heard::Line(line)).is_err() {
                return;
            }
        }
        let _ = heard.send(Heard::Gone);
    });
    let shared = Arc::new(Shared {
        running: Mutex::new(Running {
            groups: HashMap::new(),
        }),
        out: Mutex::new(io::stdout()),
        grace,
    });
    let mut waiters = Vec::new();
    while let Ok(Heard::Line(line)) = hear.recv() {
        match line.split_once(' ') {
            Some(("run", rest)) => {
                let Some((id, job)) = rest.split_once(' ') else {
                    continue;
                };
                let Ok(id) = id.parse::<u64>() else { continue };
                match serde_json::from_str::<Job>(job) {
                    Ok(job) => waiters.extend(start(&shared, id, &job)),
                    Err(e) => shared.say(&format!("ended {id} failed cannot read the job: {e}")),
                }
            }
            Some(("stop", id)) => {
                if let Ok(id) = id.trim().parse() {
                    shared.stop(id);
                }
            }
            _ => {}
        }
        waiters.retain(|w: &thread::JoinHandle<()>| !w.is_finished());
    }
    // The pool is gone: stop everything, then wait until every group is reaped.
    let ids: Vec<u64> = shared.running().groups.keys().copied().collect();
    for id in ids {
        shared.stop(id);
    }
    for waiter in waiters {
        let _ = waiter.join();
    }
    0
}

/// Starts one command and the thread that reports its end; None when it could not start (its
/// end is reported at once).
fn start(shared: &Arc<Shared>, id: u64, job: &Job) -> Option<thread::JoinHandle<()>> {
    let child = match spawn(job) {
        Ok(child) => child,
        Err(message) => {
            // The log says it too, so `gateboard logs` shows why nothing ran.
            if let Ok(mut log) = open_log(&job.log) {
                let _ = writeln!(log, "gateboard: {message}");
            }
            shared.say(&format!("ended {id} failed {}", message.replace('\n', " ")));
            return None;
        }
    };
    let pid = child.id();
    let Ok(raw) = i32::try_from(pid) else {
        shared.say(&format!("ended {id} failed pid {pid} out of range"));
        return None;
    };
    let group = Pid::from_raw(raw);
    shared.running().groups.insert(id, group);
    shared.say(&format!("started {id} {pid}"));
    let shared = shared.clone();
    Some(thread::spawn(move || wait(&shared, id, group, child)))
}

fn spawn(job: &Job) -> Result<Child, String> {
    if !job.cwd.is_dir() {
        return Err(format!(
            "cannot start: the folder {} does not exist",
            job.cwd.display()
        ));
    }
    let log = open_log(&job.log)
        .map_err(|e| format!("cannot open the log {}: {e}", job.log.display()))?;
    let log_err = log
        .try_clone()
        .map_err(|e| format!("cannot share the log: {e}"))?;
    Command::new("/bin/sh")
        .arg("-c")
        .arg(&job.command)
        .current_dir(&job.cwd)
        .envs(job.env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log_err)
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start /bin/sh: {e}"))
}

/// Waits for a command's main process, kills what it left in its group, reaps it, reports.
fn wait(shared: &Shared, id: u64, group: Pid, mut child: Child) {
    // WNOWAIT leaves the main process a zombie, so its pid (the group's id) cannot be reused
    // by an unrelated group before the group is signalled below.
    let _ = waitid(Id::Pid(group), WaitPidFlag::WEXITED | WaitPidFlag::WNOWAIT);
    let status = {
        let mut running = shared.running();
        // Whatever the command left behind in its group goes with it.
        let _ = killpg(group, Signal::SIGKILL);
        let status = child.wait();
        running.groups.remove(&id);
        status
    };
    shared.say(&match status {
        Ok(status) => format!("ended {id} {}", ended(status)),
        Err(e) => format!("ended {id} failed cannot reap the command: {e}"),
    });
}

fn ended(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited {code}"),
        (None, Some(signal)) => format!("signal {signal}"),
        (None, None) => "exited -1".to_owned(),
    }
}

fn open_log(path: &Path) -> io::Result<File> {
    OpenOptions::new().create(true).append(true).open(path)
}
