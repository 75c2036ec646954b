//! Running a task's command: how a process lives and dies. The pool decides what runs and
//! when; this module starts it under a supervisor (`supervisor`), stops it, and reads how it
//! ended; the core records the outcome.

pub mod backoff;
pub mod output;
pub mod supervisor;

use std::ffi::OsString;
use std::io;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The hidden verb that runs a supervisor: `gateboard __supervise --log L --cwd D -- COMMAND`.
pub const SUPERVISE_VERB: &str = "__supervise";

/// Everything one attempt needs to start.
#[derive(Clone, Debug)]
pub struct Launch {
    /// The program to run as the supervisor: gateboard itself.
    pub supervisor: PathBuf,
    /// The shell command.
    pub command: String,
    /// Its folder.
    pub cwd: PathBuf,
    /// Variables added to the pool's environment.
    pub env: Vec<(OsString, OsString)>,
    /// The log file of this run.
    pub log: PathBuf,
    /// SIGTERM to SIGKILL.
    pub grace: Duration,
}

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It never started, for this reason.
    NotStarted(String),
}

/// A command under way.
pub struct Execution {
    child: Child,
    stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    /// The command's pid, which is also its process group's id.
    pub pid: Option<u32>,
    /// When it was started.
    pub started: Instant,
    ended: Option<Exit>,
}

impl Execution {
    /// Starts the supervisor and waits until the command runs (or could not start).
    pub async fn start(launch: &Launch) -> io::Result<Execution> {
        let mut command = Command::new(&launch.supervisor);
        command
            .arg(SUPERVISE_VERB)
            .arg("--log")
            .arg(&launch.log)
            .arg("--cwd")
            .arg(&launch.cwd)
            .arg("--grace-ms")
            .arg(launch.grace.as_millis().to_string())
            .arg("--")
            .arg(&launch.command)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Out of the terminal's foreground group: Ctrl-C reaches the pool, which stops its
            // commands in order, not each command at once.
            .process_group(0)
            .kill_on_drop(false);
        let mut child = command.spawn()?;
        let stdin = child.stdin.take();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("the supervisor has no stdout"))?;
        let mut execution = Execution {
            child,
            stdin,
            lines: BufReader::new(stdout).lines(),
            pid: None,
            started: Instant::now(),
            ended: None,
        };
        match execution.read_report().await {
            Report::Started(pid) => execution.pid = Some(pid),
            Report::Ended(exit) => execution.ended = Some(exit),
        }
        Ok(execution)
    }

    /// Asks the supervisor to stop the command: SIGTERM to its group, SIGKILL after the grace.
    pub fn stop(&mut self) {
        self.stdin = None;
    }

    /// Waits for the command to end. Cancel-safe: select on it and call it again.
    pub async fn wait(&mut self) -> Exit {
        if let Some(exit) = &self.ended {
            return exit.clone();
        }
        let exit = match self.read_report().await {
            Report::Ended(exit) => exit,
            Report::Started(_) => Exit::NotStarted("the supervisor spoke out of turn".into()),
        };
        self.ended = Some(exit.clone());
        exit
    }

    /// Reads the supervisor's next line. A supervisor gone without a word (killed itself) leaves
    /// the group to us: kill it, so nothing outlives the attempt.
    async fn read_report(&mut self) -> Report {
        match self.lines.next_line().await {
            Ok(Some(line)) => parse_report(&line),
            Ok(None) | Err(_) => {
                if let Some(pid) = self.pid.and_then(|p| i32::try_from(p).ok()) {
                    let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
                }
                let _ = self.child.wait().await;
                Report::Ended(Exit::NotStarted(
                    "the supervisor died before reporting".into(),
                ))
            }
        }
    }

    /// Reaps the supervisor once it has reported.
    pub async fn reap(mut self) {
        self.stdin = None;
        let _ = self.child.wait().await;
    }
}

enum Report {
    Started(u32),
    Ended(Exit),
}

fn parse_report(line: &str) -> Report {
    let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
    match (word, rest.trim().parse::<i64>()) {
        ("started", Ok(pid)) => u32::try_from(pid).map_or_else(
            |_| Report::Ended(Exit::NotStarted(format!("bad pid {pid}"))),
            Report::Started,
        ),
        ("exited", Ok(code)) => Report::Ended(Exit::Code(i32::try_from(code).unwrap_or(-1))),
        ("signal", Ok(signal)) => Report::Ended(Exit::Signal(i32::try_from(signal).unwrap_or(0))),
        ("failed", _) => Report::Ended(Exit::NotStarted(rest.to_owned())),
        _ => Report::Ended(Exit::NotStarted(format!("the supervisor said {line:?}"))),
    }
}

/// The supervisor to run: this very program.
pub fn this_program() -> io::Result<PathBuf> {
    std::env::current_exe()
}
