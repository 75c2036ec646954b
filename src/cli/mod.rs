//! The command line: clap types for verbs and flags (here), the verbs (`verbs`), printing (`print`).
//!
//! Exit codes, for scripts:
//! 0 success; 1 audit found violations, an unexpected SQLite error, or an internal failure;
//! 2 usage error; 3 no such task; 4 refused (cycle, wrong status, not the claim holder, bad
//! input); 5 the board file is missing, not a regular file, not a board, or too new; 6 the board stayed locked
//! past `--lock-timeout`; 7 the gate rejected the claim (parents not done; the task was demoted);
//! 8 nothing was claimable; 9 `run` ended with a task of its file not done; 130 `run` was
//! stopped by a signal before its tasks ended.

mod failure;
mod graph;
mod graphfile;
mod headless;
mod logs;
mod print;
mod verbs;

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, CommandFactory, Parser, Subcommand};

use crate::core::{DEFAULT_LOCK_TIMEOUT, MAX_LOCK_TIMEOUT};
use crate::pool::racer::DEFAULT_ROUNDS;
use crate::pool::{DEFAULT_CLAIM_TTL, DEFAULT_WORKERS, MAX_WORKERS};

/// Seconds a claim made from the command line (`claim`, `heartbeat`) lives without a
/// heartbeat unless told otherwise: long, since a person or script holds it, not a worker.
const DEFAULT_CLAIM_TTL_SECS: u64 = 900;

pub use verbs::run;

/// gateboard: a kanban board for dependency-gated task queues on SQLite.
#[derive(Debug, Parser)]
#[command(name = "gateboard", version, about, long_about = None, after_help = EXIT_CODES)]
pub struct Cli {
    /// The board file [default: $GATEBOARD_DB, else the per-user data folder's board.db]
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Use a Hermes Agent board, found as Hermes finds it: the current board, or BOARD by name
    /// (`--hermes BOARD` before the verb, `--hermes=BOARD` anywhere)
    #[arg(
        long,
        global = true,
        value_name = "BOARD",
        num_args = 0..=1,
        require_equals = true,
        conflicts_with = "db"
    )]
    pub hermes: Option<Option<String>>,
    /// Seconds to wait for another writer before giving up
    #[arg(long, global = true, value_name = "SECS", default_value_t = DEFAULT_LOCK_TIMEOUT.as_secs(), value_parser = parse_lock_timeout)]
    pub lock_timeout: u64,
    /// Who claims and completes tasks from this command line [default: cli:$USER]
    #[arg(long, global = true, env = "GATEBOARD_CLAIMER", value_name = "NAME")]
    pub claimer: Option<String>,
    /// What to do; without one, open the board in the TUI
    #[command(subcommand)]
    pub verb: Option<Verb>,
}

impl Cli {
    /// Parses the command line, reading `--hermes BOARD` as the issue and README write it.
    ///
    /// clap alone cannot tell `--hermes cookai` (a board) from `--hermes ls` (the current board,
    /// then a verb), so before the verb a word after `--hermes` that is not a verb becomes its
    /// value; after the verb, and for a board named like a verb, `--hermes=BOARD` says it.
    ///
    /// A usage error is one line on stderr and exit 2, like every other error; `--help` and
    /// `--version` print and exit 0. Either way the exit code comes back instead of a `Cli`.
    pub fn parse_args(args: impl IntoIterator<Item = OsString>) -> Result<Cli, ExitCode> {
        Cli::try_parse_from(join_hermes_board(args.into_iter().collect())).map_err(|e| {
            use clap::error::ErrorKind;
            match e.kind() {
                ErrorKind::DisplayHelp
                | ErrorKind::DisplayVersion
                | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => {
                    // Nothing sensible is left to do if printing help fails.
                    let _ = e.print();
                    ExitCode::from(if e.use_stderr() {
                        failure::USAGE
                    } else {
                        failure::OK
                    })
                }
                _ => {
                    // clap echoes the words it refused, as typed.
                    eprintln!(
                        "gateboard: {} (see gateboard --help)",
                        crate::terminal_text::escape(&one_line(&e))
                    );
                    ExitCode::from(failure::USAGE)
                }
            }
        })
    }
}

/// clap's error as one line: its message and tips, without the usage block that follows.
fn one_line(e: &clap::Error) -> String {
    let rendered = e.render().to_string();
    rendered
        .split("\n\n")
        .take_while(|part| !part.starts_with("Usage:") && !part.starts_with("For more"))
        .map(|part| part.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|part| !part.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
        .trim_start_matches("error: ")
        .to_owned()
}

fn join_hermes_board(args: Vec<OsString>) -> Vec<OsString> {
    let command = Cli::command();
    let verbs: Vec<&str> = command
        .get_subcommands()
        .flat_map(|verb| std::iter::once(verb.get_name()).chain(verb.get_all_aliases()))
        .chain(["help"])
        .collect();
    let mut joined = Vec::with_capacity(args.len());
    let mut rest = args.into_iter().peekable();
    // The program's own name is never a verb.
    joined.extend(rest.next());
    while let Some(arg) = rest.next() {
        let word = arg.to_str().unwrap_or_default();
        if word == "--" || verbs.contains(&word) {
            joined.push(arg);
            joined.extend(rest);
            break;
        }
        let board = rest
            .peek()
            .and_then(|next| next.to_str())
            .filter(|next| !next.starts_with('-') && !verbs.contains(next))
            .map(str::to_owned);
        match board {
            Some(board) if word == "--hermes" => {
                rest.next();
                joined.push(format!("--hermes={board}").into());
            }
            _ => joined.push(arg),
        }
    }
    joined
}

const EXIT_CODES: &str = "Exit codes: 0 ok, 1 audit violations or unexpected error, 2 usage, \
3 no such task, 4 refused, 5 unusable board file, 6 board locked, 7 claim rejected by the gate, \
8 nothing claimable, 9 run left a task not done, 130 run stopped by a signal";

/// The verbs.
#[derive(Debug, Subcommand)]
pub enum Verb {
    /// Open the board in the terminal UI (the default verb)
    Tui {
        /// Workers to start [default: 4 on gateboard's own boards, none on another program's]
        #[arg(long, value_parser = parse_workers)]
        workers: Option<usize>,
        /// How its pool works tasks
        #[command(flatten)]
        run: RunArgs,
        /// Milliseconds between a race demo's children; hidden, for tests that cannot wait for
        /// the human pace
        #[arg(long, hide = true, value_name = "MS")]
        race_pace_ms: Option<u64>,
    },
    /// Create the board file (idempotent)
    Init,
    /// Add a task; prints only its id
    Add(AddArgs),
    /// Make PARENT a parent of CHILD (CHILD waits for PARENT)
    Link {
        /// The task to wait for
        parent: String,
        /// The task that waits
        child: String,
    },
    /// Remove a link; CHILD is promoted if nothing else holds it back
    Unlink {
        /// The parent of the link
        parent: String,
        /// The child of the link
        child: String,
    },
    /// Claim a ready task (without ID: the highest-priority, oldest one); prints its id
    Claim {
        /// The task to claim
        id: Option<String>,
        /// Seconds the claim lives without a heartbeat
        #[arg(long, value_name = "SECS", default_value_t = DEFAULT_CLAIM_TTL_SECS)]
        ttl: u64,
        /// Print the claim as JSON
        #[arg(long)]
        json: bool,
    },
    /// Extend a claim you hold; prints until when it holds
    Heartbeat {
        /// The running task
        id: String,
        /// Seconds from now the claim lives
        #[arg(long, value_name = "SECS", default_value_t = DEFAULT_CLAIM_TTL_SECS)]
        ttl: u64,
        /// Print {"id", "expires"} (epoch seconds) instead
        #[arg(long)]
        json: bool,
    },
    /// Finish a task (a running one only by its claim holder); promotes its children
    Complete {
        /// The task
        id: String,
        /// What it produced
        #[arg(long)]
        result: Option<String>,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Stop a task until somebody unblocks it
    Block {
        /// The task
        id: String,
        /// Why, for the person who will unblock it
        #[arg(long)]
        reason: String,
    },
    /// Return a blocked task to the queue (ready only if its parents are done)
    Unblock {
        /// The task
        id: String,
    },
    /// Put a task away; it counts as finished for its children
    Archive {
        /// The task
        id: String,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Take a task out of the archive: ready if its parents are done, else todo; its ready
    /// children wait for it again (refused if a child already started)
    Unarchive {
        /// The archived task
        id: String,
        /// Print the outcome as JSON
        #[arg(long)]
        json: bool,
    },
    /// Comment on a task
    Comment {
        /// The task
        id: String,
        /// The comment
        text: String,
        /// Who writes it [default: the claimer name]
        #[arg(long)]
        author: Option<String>,
    },
    /// List tasks
    Ls {
        /// Only tasks of this status: triage, todo, scheduled, ready, running, blocked, review,
        /// done, archived, or another status present on the board
        #[arg(long)]
        status: Option<String>,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Show one task: parents, children, runs, events, and why it is not ready
    Show {
        /// The task
        id: String,
        /// Print JSON
        #[arg(long)]
        json: bool,
    },
    /// Print the event log
    Events {
        /// Only this task's events
        #[arg(long)]
        task: Option<String>,
        /// Only events after this event id
        #[arg(
            long,
            value_name = "ID",
            default_value_t = 0,
            allow_negative_numbers = true
        )]
        since: i64,
        /// Keep printing new events as they are committed (Ctrl-C stops)
        #[arg(long)]
        follow: bool,
        /// One JSON object per line
        #[arg(long)]
        json: bool,
    },
    /// Check every invariant; exit 1 and list violations if any
    Audit {
        /// Print violations as JSON
        #[arg(long)]
        json: bool,
    },
    /// Install the guard triggers on a board another program created
    Harden,
    /// Run the worker pool on the board and print a summary (Ctrl-C stops, releasing claims)
    Work(WorkArgs),
    /// Create a task graph from a TOML file in one transaction (again: resume it); prints `name id` lines
    Import {
        /// The graph file
        file: PathBuf,
        /// Print one JSON object of name to id
        #[arg(long)]
        json: bool,
    },
    /// Import a TOML graph file and work its tasks to the end, like `make -k`; exit 9 if any did not end done
    Run(RunFileArgs),
    /// Stop a running task from any process: its command is killed and the task blocked
    Cancel {
        /// The running task
        id: String,
    },
    /// Print the output of a task's run (the latest unless --run)
    Logs {
        /// The task
        id: String,
        /// The run's id (see `show`)
        #[arg(long, value_name = "N")]
        run: Option<i64>,
        /// Keep printing while the run goes on
        #[arg(long)]
        follow: bool,
    },
    /// Runs a pool's commands, each in its own process group (started by the pool itself)
    #[command(name = "__supervise", hide = true)]
    Supervise(SuperviseArgs),
    /// Race a create-then-link writer against workers on a scratch board (or --db); exit 1 on any violation
    Race(RaceArgs),
    /// Measure pool throughput on two workloads beside the bare durable-commit loop
    Bench(BenchArgs),
}

/// Arguments of `work`.
#[derive(Debug, Args)]
pub struct WorkArgs {
    /// Workers in the pool
    #[arg(long, default_value_t = DEFAULT_WORKERS, value_parser = parse_pool_size)]
    pub workers: usize,
    /// Stop after this many seconds
    #[arg(
        long,
        value_name = "SECS",
        conflicts_with = "exit_when_idle",
        allow_negative_numbers = true,
        value_parser = parse_seconds
    )]
    pub duration: Option<Duration>,
    /// Stop once nothing on the board is ready or running
    #[arg(long)]
    pub exit_when_idle: bool,
    /// How the pool works tasks
    #[command(flatten)]
    pub run: RunArgs,
}

/// How a pool works its tasks: shared by `work`, `run` and `tui`.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// Simulate work instead of running commands: every task is claimed, takes A..B
    /// milliseconds and completes (for benchmarks and demos)
    #[arg(long, value_name = "A..B", value_parser = parse_work_ms)]
    pub work_ms: Option<WorkMs>,
    /// Seconds a claim lives without a heartbeat before others may reclaim it
    #[arg(long, value_name = "SECS", default_value_t = DEFAULT_CLAIM_TTL.as_secs())]
    pub ttl: u64,
    /// Seconds a failed task waits before its first retry (doubling, at most 30 s, with jitter)
    #[arg(long, value_name = "SECS", default_value = "1", value_parser = parse_seconds)]
    pub retry_delay: Duration,
}

impl Default for RunArgs {
    /// What the flags default to, for the TUI opened without a verb.
    fn default() -> Self {
        RunArgs {
            work_ms: None,
            ttl: DEFAULT_CLAIM_TTL.as_secs(),
            retry_delay: Duration::from_secs(1),
        }
    }
}

/// Arguments of `run`.
#[derive(Debug, Args)]
pub struct RunFileArgs {
    /// The graph file
    pub file: PathBuf,
    /// Workers in the pool
    #[arg(long, default_value_t = DEFAULT_WORKERS, value_parser = parse_pool_size)]
    pub workers: usize,
    /// Watch it in the TUI while it runs; the summary prints when you quit
    #[arg(long)]
    pub tui: bool,
    /// How the pool works tasks
    #[command(flatten)]
    pub run: RunArgs,
}

/// Arguments of the supervisor a pool starts to run its commands.
#[derive(Debug, Args)]
pub struct SuperviseArgs {
    /// Milliseconds between SIGTERM and SIGKILL when a command is stopped
    #[arg(long, default_value_t = 3000)]
    pub grace_ms: u64,
}

/// Arguments of `race`.
#[derive(Debug, Args)]
pub struct RaceArgs {
    /// Children the racing writer creates
    #[arg(long, default_value_t = DEFAULT_ROUNDS)]
    pub rounds: usize,
    /// Workers claiming meanwhile
    #[arg(long, default_value_t = DEFAULT_WORKERS, value_parser = parse_pool_size)]
    pub workers: usize,
    /// Seconds the workers run at most
    #[arg(
        long,
        value_name = "SECS",
        default_value = "8",
        allow_negative_numbers = true,
        value_parser = parse_seconds
    )]
    pub duration: Duration,
    /// Write like a buggy writer: mark linked children ready whatever their parents
    #[arg(long)]
    pub buggy: bool,
}

/// Arguments of `bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Tasks per workload
    #[arg(long, default_value_t = 5000)]
    pub tasks: usize,
    /// Pool sizes to measure, comma-separated
    #[arg(long, value_delimiter = ',', default_value = "1,4,8", value_parser = parse_pool_size)]
    pub workers: Vec<usize>,
    /// Folder for the scratch boards [default: a temporary folder]
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

/// A number of workers from 0 to the pool's cap.
fn parse_workers(text: &str) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of workers"))?;
    if n > MAX_WORKERS {
        return Err(format!(
            "{n} is more than the {MAX_WORKERS} workers a pool runs"
        ));
    }
    Ok(n)
}

/// A pool that must do something: 1 worker up to the cap (0 would wait forever).
fn parse_pool_size(text: &str) -> Result<usize, String> {
    match parse_workers(text)? {
        0 => Err("a pool needs at least one worker".into()),
        n => Ok(n),
    }
}

/// A length of time in seconds, fractions allowed; refuses what no clock can wait.
fn parse_seconds(text: &str) -> Result<Duration, String> {
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if secs.is_sign_negative() {
        return Err(format!("{text} seconds is in the past"));
    }
    Duration::try_from_secs_f64(secs)
        .map_err(|_| format!("{text} is not a usable number of seconds"))
}

/// Whole seconds to wait for a lock, no longer than SQLite can wait.
fn parse_lock_timeout(text: &str) -> Result<u64, String> {
    let secs: u64 = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number of seconds"))?;
    if Duration::from_secs(secs) > MAX_LOCK_TIMEOUT {
        return Err(format!(
            "{secs} seconds is longer than SQLite can wait for a lock (at most {})",
            MAX_LOCK_TIMEOUT.as_secs()
        ));
    }
    Ok(secs)
}

/// A range of simulated work times in milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WorkMs {
    /// Shortest.
    pub min: u64,
    /// Longest.
    pub max: u64,
}

fn parse_work_ms(text: &str) -> Result<WorkMs, String> {
    let number = |s: &str| {
        s.trim()
            .parse::<u64>()
            .map_err(|_| format!("{s:?} is not a whole number of milliseconds"))
    };
    let (min, max) = match text.split_once("..") {
        Some((a, b)) => (number(a)?, number(b)?),
        None => (number(text)?, number(text)?),
    };
    if min > max {
        return Err(format!("{min}..{max} runs backwards"));
    }
    Ok(WorkMs { min, max })
}

/// Arguments of `add`.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// The card's title
    pub title: String,
    /// A task it waits for (repeatable)
    #[arg(long = "parent", value_name = "ID")]
    pub parents: Vec<String>,
    /// Higher runs first
    #[arg(long, default_value_t = 0, allow_negative_numbers = true)]
    pub priority: i64,
    /// Who it is for
    #[arg(long)]
    pub assignee: Option<String>,
    /// Longer description
    #[arg(long)]
    pub body: Option<String>,
    /// The shell command a worker runs for it (under `sh -c`)
    #[arg(long, value_name = "SHELL COMMAND")]
    pub cmd: Option<String>,
    /// The folder the command runs in [default: the current folder]
    #[arg(long, value_name = "DIR", requires = "cmd")]
    pub cwd: Option<PathBuf>,
    /// A variable added to the command's environment (repeatable)
    #[arg(long = "env", value_name = "KEY=VALUE", requires = "cmd", value_parser = parse_env)]
    pub env: Vec<(String, String)>,
    /// Seconds one attempt may run before its whole process group is killed
    #[arg(long, value_name = "SECS", requires = "cmd", value_parser = parse_timeout)]
    pub timeout: Option<u64>,
    /// Retries after the first failure (at most N+1 attempts); without it a failure blocks
    #[arg(long, value_name = "N", requires = "cmd", value_parser = clap::value_parser!(u32).range(0..=crate::core::model::MAX_RETRIES as i64))]
    pub retries: Option<u32>,
}

/// `KEY=VALUE`, with a key a shell could export.
fn parse_env(text: &str) -> Result<(String, String), String> {
    let (key, value) = text
        .split_once('=')
        .ok_or_else(|| format!("{text:?} is not KEY=VALUE"))?;
    if key.is_empty() || key.contains('\0') || value.contains('\0') {
        return Err(format!("{text:?} is not KEY=VALUE with a non-empty key"));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// A whole, positive number of seconds, at most a year.
fn parse_timeout(text: &str) -> Result<u64, String> {
    use crate::core::model::MAX_TIMEOUT_SECS;
    match text.trim().parse::<u64>() {
        Ok(0) => Err("a timeout of 0 seconds would kill every attempt at once".into()),
        Ok(secs) if secs <= MAX_TIMEOUT_SECS => Ok(secs),
        Ok(_) => Err(format!(
            "a timeout is at most {MAX_TIMEOUT_SECS} seconds (a year)"
        )),
        Err(_) => Err(format!("{text:?} is not a whole number of seconds")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(words: &str) -> Cli {
        Cli::parse_args(words.split_whitespace().map(OsString::from)).expect("parses")
    }

    #[test]
    fn hermes_takes_a_following_board_name_before_the_verb() {
        let cli = parse("gateboard --hermes cookai ls");
        assert_eq!(cli.hermes, Some(Some("cookai".into())));
        assert!(matches!(cli.verb, Some(Verb::Ls { .. })));
    }

    #[test]
    fn hermes_followed_by_a_verb_means_the_current_board() {
        let cli = parse("gateboard --hermes ls --json");
        assert_eq!(cli.hermes, Some(None));
        assert!(matches!(cli.verb, Some(Verb::Ls { json: true, .. })));
        assert_eq!(parse("gateboard --hermes").hermes, Some(None));
        assert!(parse("gateboard --hermes").verb.is_none());
    }

    #[test]
    fn after_the_verb_a_following_word_stays_the_verb_s() {
        let cli = parse("gateboard show --hermes t_0000abcd");
        assert_eq!(cli.hermes, Some(None));
        assert!(matches!(cli.verb, Some(Verb::Show { ref id, .. }) if id == "t_0000abcd"));
        let cli = parse("gateboard show t_0000abcd --hermes=cookai");
        assert_eq!(cli.hermes, Some(Some("cookai".into())));
    }

    #[test]
    fn flag_defaults_are_the_library_defaults() {
        let Some(Verb::Work(work)) = parse("gateboard work").verb else {
            panic!("work parses as work");
        };
        let pool = crate::pool::PoolConfig::default();
        assert_eq!(work.workers, pool.workers);
        assert_eq!(Duration::from_secs(work.run.ttl), pool.claim_ttl);
        let Some(Verb::Race(race)) = parse("gateboard race").verb else {
            panic!("race parses as race");
        };
        assert_eq!(
            race.rounds,
            crate::pool::racer::RaceConfig::default().rounds
        );
        assert_eq!(race.workers, pool.workers);
        assert_eq!(
            Duration::from_secs(parse("gateboard ls").lock_timeout),
            crate::core::OpenOptions::default().lock_timeout
        );
    }

    #[test]
    fn the_race_pace_is_a_hidden_tui_flag_and_the_cli_race_stays_unpaced() {
        let Some(Verb::Tui { race_pace_ms, .. }) = parse("gateboard tui --race-pace-ms 20").verb
        else {
            panic!("tui parses as tui");
        };
        assert_eq!(race_pace_ms, Some(20));
        let Some(Verb::Tui { race_pace_ms, .. }) = parse("gateboard tui").verb else {
            panic!("tui parses as tui");
        };
        assert_eq!(race_pace_ms, None, "a person gets the human pace");
        let help = Cli::command()
            .find_subcommand_mut("tui")
            .map(|tui| tui.render_help().to_string())
            .unwrap_or_default();
        assert!(help.contains("--workers"), "{help}");
        assert!(!help.contains("race-pace"), "{help}");
        assert_eq!(
            crate::pool::racer::RaceConfig::default().pace,
            Duration::ZERO,
            "the stress test races flat out"
        );
    }

    #[test]
    fn hermes_and_db_do_not_mix() {
        let words = ["gateboard", "--hermes", "--db", "x.db", "ls"].map(OsString::from);
        assert!(Cli::try_parse_from(join_hermes_board(words.to_vec())).is_err());
    }
}
