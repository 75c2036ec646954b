//! Running a task's command: how a process lives and dies. The pool decides what runs and
//! when; this module starts it through the pool's supervisor (`supervisor`), stops it, and
//! reads how it ended; the core records the outcome.

pub mod backoff;
pub mod output;
pub mod supervisor;

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use nix::sys::signal::{Signal, killpg};
use nix::unistd::Pid;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{ChildStdin, Command};
use tokio::sync::mpsc;

pub use supervisor::Job;

/// The hidden verb that runs a pool's supervisor: `gateboard __supervise --grace-ms N`.
pub const SUPERVISE_VERB: &str = "__supervise";

/// How a command ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// A signal ended it.
    Signal(i32),
    /// It never started, for this reason.
    NotStarted(String),
    /// The supervisor died first, killing it: not the command's doing.
    Orphaned,
}

/// What the supervisor says about one command.
#[derive(Debug)]
enum Report {
    Started(u32),
    Ended(Exit),
}

/// The supervisor process of a pool, and the door to it.
pub struct Supervisor {
    program: PathBuf,
    grace: Duration,
    next_id: AtomicU64,
    link: tokio::sync::Mutex<Option<Link>>,
}

/// A live supervisor: its stdin, and who waits for which command.
struct Link {
    stdin: ChildStdin,
    waiting: Arc<Mutex<Waiting>>,
}

/// Per command id, where its reports go; and the pids known, for the case the supervisor dies.
#[derive(Default)]
struct Waiting {
    reports: HashMap<u64, mpsc::UnboundedSender<Report>>,
    pids: HashMap<u64, u32>,
    gone: bool,
}

fn lock(waiting: &Mutex<Waiting>) -> MutexGuard<'_, Waiting> {
    waiting.lock().unwrap_or_else(|p| p.into_inner())
}

impl Supervisor {
    /// A supervisor run as `program __supervise`, started on first use (and again should it
    /// die), stopping commands with SIGTERM and SIGKILL `grace` later.
    pub fn new(program: PathBuf, grace: Duration) -> Supervisor {
        Supervisor {
            program,
            grace,
            next_id: AtomicU64::new(1),
            link: tokio::sync::Mutex::new(None),
        }
    }

    /// Starts a command and waits until it runs (or could not start).
    pub async fn start(self: &Arc<Self>, job: &Job) -> io::Result<Execution> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (reports, mut heard) = mpsc::unbounded_channel();
        let line = format!(
            "run {id} {}\n",
            serde_json::to_string(job).map_err(io::Error::other)?
        );
        self.send(id, Some(reports), &line).await?;
        let started = Instant::now();
        let (pid, ended) = match heard.recv().await {
            Some(Report::Started(pid)) => (Some(pid), None),
            Some(Report::Ended(exit)) => (None, Some(exit)),
            None => (None, Some(gone())),
        };
        Ok(Execution {
            id,
            supervisor: self.clone(),
            heard,
            pid,
            started,
            ended,
            stopped: false,
        })
    }

    /// Writes one line to the supervisor, starting it if need be; `reports` registers `id`.
    async fn send(
        &self,
        id: u64,
        reports: Option<mpsc::UnboundedSender<Report>>,
        line: &str,
    ) -> io::Result<()> {
        let mut link = self.link.lock().await;
        let alive = link.as_ref().is_some_and(|l| !lock(&l.waiting).gone);
        if !alive {
            *link = Some(self.launch()?);
        }
        let Some(live) = link.as_mut() else {
            return Err(io::Error::other("the supervisor did not start"));
        };
        if let Some(reports) = reports {
            lock(&live.waiting).reports.insert(id, reports);
        }
        live.stdin.write_all(line.as_bytes()).await?;
        live.stdin.flush().await
    }

    /// Starts the supervisor process and the task that reads what it says.
    fn launch(&self) -> io::Result<Link> {
        let mut child = Command::new(&self.program)
            .arg(SUPERVISE_VERB)
            .arg("--grace-ms")
            .arg(self.grace.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            // Out of the terminal's foreground group: Ctrl-C reaches the pool, which stops its
            // commands in order, not each command at once.
            .process_group(0)
            .kill_on_drop(false)
            .spawn()?;
        let stdin = child
            .stdin
            .take()
            .ok_or_else(|| io::Error::other("the supervisor has no stdin"))?;
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| io::Error::other("the supervisor has no stdout"))?;
        let waiting = Arc::new(Mutex::new(Waiting::default()));
        let heard = waiting.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                route(&heard, &line);
            }
            // The supervisor died: nobody kills its groups now but us, and nobody will report.
            abandon(&heard);
            let _ = child.wait().await;
        });
        Ok(Link { stdin, waiting })
    }
}

/// After the supervisor's death: kill the groups it left, and end every wait.
fn abandon(waiting: &Mutex<Waiting>) {
    let mut waiting = lock(waiting);
    waiting.gone = true;
    for pid in waiting.pids.values() {
        if let Ok(pid) = i32::try_from(*pid) {
            let _ = killpg(Pid::from_raw(pid), Signal::SIGKILL);
        }
    }
    waiting.pids.clear();
    for (_, reports) in waiting.reports.drain() {
        let _ = reports.send(Report::Ended(gone()));
    }
}

fn gone() -> Exit {
    Exit::Orphaned
}

/// Hands one line of the supervisor's to the command it is about.
fn route(waiting: &Mutex<Waiting>, line: &str) {
    let mut words = line.splitn(3, ' ');
    let (Some(kind), Some(id), rest) = (words.next(), words.next(), words.next()) else {
        return;
    };
    let Ok(id) = id.parse::<u64>() else { return };
    let rest = rest.unwrap_or("");
    let mut waiting = lock(waiting);
    let report = match kind {
        "started" => match rest.trim().parse::<u32>() {
            Ok(pid) => {
                waiting.pids.insert(id, pid);
                Report::Started(pid)
            }
            Err(_) => return,
        },
        "ended" => {
            waiting.pids.remove(&id);
            let (how, value) = rest.split_once(' ').unwrap_or((rest, ""));
            Report::Ended(match (how, value.trim().parse::<i32>()) {
                ("exited", Ok(code)) => Exit::Code(code),
                ("signal", Ok(signal)) => Exit::Signal(signal),
                ("failed", _) => Exit::NotStarted(value.to_owned()),
                _ => Exit::NotStarted(format!("the supervisor said {line:?}")),
            })
        }
        _ => return,
    };
    let ended = matches!(report, Report::Ended(_));
    if let Some(reports) = waiting.reports.get(&id) {
        let _ = reports.send(report);
    }
    if ended {
        waiting.reports.remove(&id);
    }
}

/// A command under way.
pub struct Execution {
    id: u64,
    supervisor: Arc<Supervisor>,
    heard: mpsc::UnboundedReceiver<Report>,
    /// The command's pid, which is also its process group's id.
    pub pid: Option<u32>,
    /// When it was started.
    pub started: Instant,
    ended: Option<Exit>,
    stopped: bool,
}

impl Execution {
    /// Asks the supervisor to stop the command: SIGTERM to its group, SIGKILL after the grace.
    pub async fn stop(&mut self) {
        if self.stopped || self.ended.is_some() {
            return;
        }
        self.stopped = true;
        let line = format!("stop {}\n", self.id);
        // A supervisor that cannot be told has died, and its death kills the group.
        let _ = self.supervisor.send(self.id, None, &line).await;
    }

    /// Waits for the command to end. Cancel-safe: select on it and call it again.
    pub async fn wait(&mut self) -> Exit {
        if let Some(exit) = &self.ended {
            return exit.clone();
        }
        let exit = loop {
            match self.heard.recv().await {
                Some(Report::Ended(exit)) => break exit,
                Some(Report::Started(_)) => {}
                None => break gone(),
            }
        };
        self.ended = Some(exit.clone());
        exit
    }
}

/// The supervisor to run: this very program.
pub fn this_program() -> io::Result<PathBuf> {
    std::env::current_exe()
}

/// The folder a job's log lives in exists, so the supervisor can open the log.
pub fn prepare_log(log: &Path) -> io::Result<()> {
    match log.parent() {
        Some(folder) => std::fs::create_dir_all(folder),
        None => Ok(()),
    }
}
