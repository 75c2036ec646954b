//! Each verb: open the board, call the core once, print the outcome, choose the exit code.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use super::failure::{self, Failure};
use super::print;
use super::{AddArgs, BenchArgs, Cli, RaceArgs, RunArgs, RunFileArgs, Verb, graph, headless, logs};
use crate::core::audit::audit;
use crate::core::model::TaskCommand;
use crate::core::ops::{ClaimOutcome, Claimer};
use crate::core::{Board, BoardError, NewTask, OpenOptions, Status};
use crate::locate;
use crate::pool::exec::supervisor;
use crate::terminal_text::{Escaped as E, escape};
use crate::tui::TuiOptions;
use crate::tui::keymap::Keymap;
use crate::watch::BoardWatch;

/// Runs the parsed command line and returns the documented exit code.
pub fn run(cli: Cli) -> ExitCode {
    // The supervisor writes from a thread per command: it must not find stdout locked here.
    if let Some(Verb::Supervise(args)) = &cli.verb {
        return ExitCode::from(supervisor::run(Duration::from_millis(args.grace_ms)));
    }
    let stdout = io::stdout();
    let mut out = stdout.lock();
    let outcome = execute(&cli, &mut out).and_then(|code| {
        out.flush()?;
        Ok(code)
    });
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(failure) => failure.report(),
    }
}

fn execute(cli: &Cli, out: &mut dyn Write) -> Result<u8, Failure> {
    let verb = cli.verb.as_ref();
    match verb {
        None => return tui(cli, None, &RunArgs::default(), None, None),
        Some(Verb::Tui {
            workers,
            run,
            race_pace_ms,
        }) => return tui(cli, *workers, run, None, *race_pace_ms),
        Some(Verb::Race(args)) => return race(cli, args, out),
        Some(Verb::Bench(args)) => return bench(args, out).map(|()| failure::OK),
        _ => {}
    }
    let mut board = open_board(cli)?;
    let claimer = |ttl: u64| Claimer {
        lock: claimer_name(cli),
        ttl: Duration::from_secs(ttl),
    };
    match verb {
        Some(Verb::Init) => writeln!(out, "{}", E(&board.path().display().to_string()))?,
        Some(Verb::Add(args)) => {
            let new = new_task(args, cli)?;
            let id = board.write(|txn| txn.create(&new))?;
            writeln!(out, "{id}")?;
        }
        Some(Verb::Link { parent, child }) => {
            if !board.write(|txn| txn.link(parent, child))? {
                writeln!(
                    io::stderr(),
                    "gateboard: {} was already a parent of {}",
                    E(parent),
                    E(child)
                )?;
            }
        }
        Some(Verb::Unlink { parent, child }) => board.write(|txn| txn.unlink(parent, child))?,
        Some(Verb::Claim { id, ttl, json }) => {
            return claim(&mut board, id.as_deref(), &claimer(*ttl), *json, out);
        }
        Some(Verb::Heartbeat { id, ttl, json }) => {
            let expires = board.write(|txn| txn.heartbeat(id, &claimer(*ttl)))?;
            if *json {
                print::json_line(out, &serde_json::json!({ "id": id, "expires": expires }))?;
            } else {
                writeln!(out, "{id} held until {}", print::time(expires))?;
            }
        }
        Some(Verb::Complete { id, result, json }) => {
            let lock = claimer_name(cli);
            let done = board.write(|txn| txn.complete(id, Some(&lock), result.as_deref()))?;
            finished(out, id, &done, *json)?;
        }
        Some(Verb::Block { id, reason }) => board.write(|txn| txn.block(id, reason))?,
        Some(Verb::Unblock { id }) => {
            let status = board.write(|txn| txn.unblock(id))?;
            writeln!(out, "{status}")?;
        }
        Some(Verb::Archive { id, json }) => {
            let done = board.write(|txn| txn.archive(id))?;
            finished(out, id, &done, *json)?;
        }
        Some(Verb::Unarchive { id, json }) => {
            let back = board.write(|txn| txn.unarchive(id))?;
            if *json {
                print::json(
                    out,
                    &serde_json::json!({
                        "task_id": id,
                        "status": back.status,
                        "demoted": back.demoted,
                    }),
                )?;
            } else {
                writeln!(out, "{}", back.status)?;
                for child in back.demoted {
                    writeln!(out, "demoted {}", E(&child))?;
                }
            }
        }
        Some(Verb::Comment { id, text, author }) => {
            let author = author.clone().unwrap_or_else(|| claimer_name(cli));
            board.write(|txn| txn.comment(id, &author, text))?;
        }
        Some(Verb::Ls { status, json }) => {
            let status = match status {
                Some(word) => Some(status_filter(&board, word)?),
                None => None,
            };
            let tasks = board.read(|r| r.tasks(status.as_ref()))?;
            if *json {
                print::json(out, &tasks)?;
            } else {
                print::task_list(out, &tasks)?;
            }
        }
        Some(Verb::Show { id, json }) => {
            let detail = board.read(|r| r.detail(id))?;
            if *json {
                print::json(out, &detail)?;
            } else {
                print::detail(out, &detail)?;
            }
        }
        Some(Verb::Events {
            task,
            since,
            follow,
            json,
        }) => events(&board, task.as_deref(), *since, *follow, *json, out)?,
        Some(Verb::Audit { json }) => {
            let found = board.read(audit)?;
            if *json {
                print::json(out, &found)?;
            } else if found.is_empty() {
                writeln!(out, "clean: every invariant holds")?;
            } else {
                for violation in &found {
                    writeln!(out, "{}", E(&violation.to_string()))?;
                }
                writeln!(out, "{} violation(s)", found.len())?;
            }
            return Ok(if found.is_empty() {
                failure::OK
            } else {
                failure::AUDIT_VIOLATIONS
            });
        }
        Some(Verb::Work(args)) => headless::work(&board, args, &open_options(cli, false), out)?,
        Some(Verb::Import { file, json }) => {
            let parsed = graph::read(file)?;
            let imported = graph::import(&mut board, &parsed, &claimer_name(cli))?;
            graph::print_imported(out, &imported, *json)?;
        }
        Some(Verb::Run(args)) => return run_file(cli, &mut board, args, out),
        Some(Verb::Cancel { id }) => {
            let by = claimer_name(cli);
            board.write(|txn| txn.cancel(id, &by))?;
        }
        Some(Verb::Logs { id, run, follow }) => logs::print(&board, id, *run, *follow, out)?,
        None | Some(Verb::Tui { .. } | Verb::Race(_) | Verb::Bench(_) | Verb::Supervise(_)) => {}
        Some(Verb::Harden) => {
            if board.harden()? {
                writeln!(out, "installed the guard triggers")?;
            } else {
                writeln!(out, "the guard triggers were already installed")?;
            }
        }
    }
    Ok(failure::OK)
}

/// The status `ls --status WORD` lists: one of the board format's nine, or one another program
/// wrote on this board. Any other word is a typo that would list nothing and exit 0.
fn status_filter(board: &Board, word: &str) -> Result<Status, Failure> {
    let status = Status::parse(word);
    if !matches!(status, Status::Other(_)) {
        return Ok(status);
    }
    let present = board.read(|r| r.counts())?;
    if present.iter().any(|(on_board, _)| *on_board == status) {
        return Ok(status);
    }
    let known: Vec<&str> = Status::KNOWN.iter().map(Status::as_str).collect();
    let foreign: Vec<&str> = present
        .iter()
        .filter(|(s, _)| matches!(s, Status::Other(_)))
        .map(|(s, _)| s.as_str())
        .collect();
    let also = if foreign.is_empty() {
        String::new()
    } else {
        format!(", or one on this board: {}", foreign.join(", "))
    };
    Err(Failure::Usage(format!(
        "--status {word} is no status; use one of {}{also}",
        known.join(", ")
    )))
}

/// Which board a command line names, and what gateboard may do with it.
struct BoardChoice {
    path: PathBuf,
    /// The per-user default board: an empty one gets the demo DAG.
    default_board: bool,
    /// A board found with `--hermes`: Hermes owns it, so gateboard never creates it and the TUI
    /// starts no workers unless asked.
    hermes: bool,
}

/// The board: `--hermes`, else `--db`, else `$GATEBOARD_DB`, else the per-user default (whose
/// folder is made when `create`).
fn board_path(cli: &Cli, create: bool) -> Result<BoardChoice, Failure> {
    if let Some(board) = &cli.hermes {
        let path = locate::hermes_board(board.as_deref(), &locate::ProcessEnv)?;
        if std::fs::metadata(&path).is_err() {
            return Err(Failure::Unusable(format!(
                "no Hermes board at {} yet; Hermes creates it on first use (`hermes kanban init`)",
                path.display()
            )));
        }
        return Ok(BoardChoice {
            path,
            default_board: false,
            hermes: true,
        });
    }
    if let Some(path) = cli.db.clone().or_else(|| {
        std::env::var_os(locate::DB_ENV)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    }) {
        return Ok(BoardChoice {
            path,
            default_board: false,
            hermes: false,
        });
    }
    let path = locate::default_board().ok_or_else(|| {
        Failure::Usage(format!(
            "no home folder to keep a default board in; pass --db PATH or set {}",
            locate::DB_ENV
        ))
    })?;
    if let (true, Some(folder)) = (create, path.parent()) {
        make_folder(folder, &path)?;
    }
    Ok(BoardChoice {
        path,
        default_board: true,
        hermes: false,
    })
}

/// What a completion or an archive set in motion: the children it promoted, one line each,
/// or one JSON object.
fn finished(
    out: &mut dyn Write,
    id: &str,
    done: &crate::core::ops::Completion,
    json: bool,
) -> Result<(), Failure> {
    if json {
        print::json(
            out,
            &serde_json::json!({
                "task_id": id,
                "run_id": done.run_id,
                "promoted": done.promoted,
            }),
        )?;
    } else {
        for child in &done.promoted {
            writeln!(out, "promoted {}", E(child))?;
        }
    }
    Ok(())
}

/// Makes the folder a board at `board` will live in; a file standing where one of its folders
/// should be is said in those words, not as "File exists".
fn make_folder(folder: &Path, board: &Path) -> Result<(), Failure> {
    std::fs::create_dir_all(folder).map_err(|source| {
        match folder.ancestors().find(|a| a.is_file()) {
            Some(file) => Failure::Unusable(format!(
                "cannot make a board at {}: {} is a file, not a folder",
                board.display(),
                file.display()
            )),
            None => BoardError::Io {
                path: folder.to_path_buf(),
                source,
            }
            .into(),
        }
    })
}

/// Opens the board a verb works on. `init` makes any board; `add` makes only the per-user
/// default board, so a mistyped `--db` path is an error rather than a new, empty board.
fn open_board(cli: &Cli) -> Result<Board, Failure> {
    let init = matches!(cli.verb, Some(Verb::Init));
    let adds = matches!(
        cli.verb,
        Some(Verb::Add(_) | Verb::Import { .. } | Verb::Run(_))
    );
    let choice = board_path(cli, init || adds)?;
    let create = !choice.hermes && (init || (adds && choice.default_board));
    // `init` makes the board's folder too, as `git init` does, so the hint a missing board
    // gives (`gateboard --db PATH init`) always works.
    if init
        && !choice.hermes
        && let Some(folder) = choice.path.parent().filter(|f| !f.as_os_str().is_empty())
    {
        make_folder(folder, &choice.path)?;
    }
    Ok(Board::open(choice.path, &open_options(cli, create))?)
}

/// The TUI reports through color-eyre; a board error still gets its documented exit code.
/// `scope` limits the pool to one graph file's tasks (`run --tui`); such a TUI loads no demo.
/// `race_pace_ms` overrides the race demo's human pace.
fn tui(
    cli: &Cli,
    workers: Option<usize>,
    run: &RunArgs,
    scope: Option<String>,
    race_pace_ms: Option<u64>,
) -> Result<u8, Failure> {
    let choice = board_path(cli, true)?;
    let open = open_options(cli, choice.default_board);
    let mut pool = headless::pool_config(run, 0, &open)?;
    // A mistyped keys.toml is refused before anything opens, as any other bad argument is.
    let keymap = Keymap::load().map_err(|e| Failure::Usage(e.to_string()))?;
    let default_board = choice.default_board && scope.is_none();
    pool.key_prefix = scope;
    let label = if choice.hermes {
        format!("Hermes board {}", choice.path.display())
    } else {
        choice.path.display().to_string()
    };
    let options = TuiOptions {
        keymap,
        label,
        path: choice.path,
        default_board,
        // A Hermes board is watched and triaged; Hermes's dispatcher works it unless asked.
        workers: if choice.hermes {
            Some(workers.unwrap_or(0))
        } else {
            workers
        },
        // Only the per-user default board is made on first run; a mistyped --db is an error.
        open,
        pool,
        race_pace: race_pace_ms.map_or(crate::tui::race::PACE, Duration::from_millis),
    };
    match crate::tui::run(options) {
        Ok(()) => Ok(failure::OK),
        Err(report) => match report.downcast::<BoardError>() {
            Ok(e) => Err(Failure::Board(e)),
            Err(report) => {
                let _ = writeln!(
                    io::stderr(),
                    "gateboard: {}",
                    escape(&format!("{report:#}"))
                );
                Ok(failure::UNEXPECTED)
            }
        },
    }
}

/// `gateboard run FILE`: import, work the file's tasks until none can move, report like
/// `make -k`: a line per task not done, a summary, exit 0 only if every task ended done.
fn run_file(
    cli: &Cli,
    board: &mut Board,
    args: &RunFileArgs,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let parsed = graph::read(&args.file)?;
    let imported = graph::import(board, &parsed, &claimer_name(cli))?;
    let prefix = graph::key_prefix(&parsed);
    let stopped = if args.tui {
        let code = tui(cli, Some(args.workers), &args.run, Some(prefix), None)?;
        if code != failure::OK {
            return Ok(code);
        }
        false
    } else {
        let mut config = headless::pool_config(&args.run, args.workers, &open_options(cli, false))?;
        config.key_prefix = Some(prefix);
        headless::drive(board, config, None, true)?.stopped
    };
    let outcome = graph::outcome(board, &imported, stopped)?;
    for line in &outcome.lines {
        writeln!(out, "{line}")?;
    }
    writeln!(out, "{}", outcome.summary())?;
    Ok(if outcome.all_done() {
        failure::OK
    } else if outcome.stopped {
        failure::STOPPED
    } else {
        failure::NOT_ALL_DONE
    })
}

fn open_options(cli: &Cli, create: bool) -> OpenOptions {
    OpenOptions {
        create,
        lock_timeout: Duration::from_secs(cli.lock_timeout),
        ..OpenOptions::default()
    }
}

/// `race` runs on `--db` when given, else on a scratch board removed afterwards.
fn race(cli: &Cli, args: &RaceArgs, out: &mut dyn Write) -> Result<u8, Failure> {
    if cli.hermes.is_some() {
        return Err(Failure::Usage(
            "race writes hundreds of demo tasks, so it runs on a scratch board or --db, never on a Hermes board".into(),
        ));
    }
    let (path, _scratch) = match &cli.db {
        Some(path) => (path.clone(), None),
        None => {
            let dir = tempfile::tempdir().map_err(|e| {
                Failure::System(format!("cannot make a scratch folder for the race: {e}"))
            })?;
            (dir.path().join("race.db"), Some(dir))
        }
    };
    let options = open_options(cli, true);
    Board::open(&path, &options)?;
    let held = headless::race(&path, args, &options, out)?;
    Ok(if held {
        failure::OK
    } else {
        failure::AUDIT_VIOLATIONS
    })
}

fn bench(args: &BenchArgs, out: &mut dyn Write) -> Result<(), Failure> {
    // Fresh boards every run, inside --dir when given, so a second run never drains a done board.
    let scratch = match &args.dir {
        Some(dir) => tempfile::tempdir_in(dir),
        None => tempfile::tempdir(),
    }
    .map_err(|e| {
        Failure::System(format!(
            "cannot make a scratch folder for the benchmark: {e}"
        ))
    })?;
    headless::bench(scratch.path(), args, out)
}

/// The claim holder name of this command line: `--claimer`, else `cli:$USER`.
fn claimer_name(cli: &Cli) -> String {
    cli.claimer.clone().unwrap_or_else(|| {
        let user = std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "unknown".into());
        format!("cli:{user}")
    })
}

fn new_task(args: &AddArgs, cli: &Cli) -> Result<NewTask, Failure> {
    let command = match &args.cmd {
        Some(command) => Some(TaskCommand {
            command: command.clone(),
            cwd: absolute_folder(args.cwd.as_deref())?,
            env: args.env.clone(),
            timeout_secs: args.timeout,
            retries: args.retries.unwrap_or(0),
        }),
        None => None,
    };
    Ok(NewTask {
        title: args.title.clone(),
        body: args.body.clone(),
        assignee: args.assignee.clone(),
        priority: args.priority,
        created_by: Some(claimer_name(cli)),
        parents: args.parents.clone(),
        command,
        key: None,
    })
}

/// `--cwd` (or the current folder) made absolute, as the board stores it. The folder need not
/// exist yet: a task may wait for a parent that makes it.
fn absolute_folder(cwd: Option<&Path>) -> Result<String, Failure> {
    let here = std::env::current_dir()
        .map_err(|e| Failure::System(format!("cannot read the current folder: {e}")))?;
    let folder = match cwd {
        Some(dir) => std::path::absolute(here.join(dir))
            .map_err(|e| Failure::Usage(format!("--cwd {}: {e}", dir.display())))?,
        None => here,
    };
    folder
        .to_str()
        .map(str::to_owned)
        .ok_or_else(|| Failure::Usage(format!("--cwd {} is not UTF-8", folder.display())))
}

fn claim(
    board: &mut Board,
    id: Option<&str>,
    claimer: &Claimer,
    json: bool,
    out: &mut dyn Write,
) -> Result<u8, Failure> {
    let (claim, rejected) = match id {
        Some(id) => match board.write(|txn| txn.claim(id, claimer))? {
            ClaimOutcome::Claimed(claim) => (Some(claim), Vec::new()),
            ClaimOutcome::Rejected { unfinished } => {
                let e = BoardError::ParentsUnfinished {
                    id: id.to_owned(),
                    parents: unfinished,
                };
                writeln!(
                    io::stderr(),
                    "gateboard: claim rejected, task demoted to todo: {}",
                    E(&e.to_string())
                )?;
                return Ok(failure::REJECTED);
            }
        },
        None => {
            let next = board.write(|txn| txn.claim_next(claimer))?;
            (next.claim, next.rejected)
        }
    };
    // One line on stderr whatever happened: the gate's demotions are part of the outcome.
    let demoted = (!rejected.is_empty()).then(|| {
        format!(
            "the gate demoted {} to todo (ready, but a parent is not done)",
            E(&rejected.join(", "))
        )
    });
    let Some(claim) = claim else {
        let why = demoted.map(|d| format!("; {d}")).unwrap_or_default();
        writeln!(io::stderr(), "gateboard: nothing is ready to claim{why}")?;
        return Ok(failure::NOTHING_CLAIMABLE);
    };
    if let Some(demoted) = demoted {
        writeln!(io::stderr(), "gateboard: {demoted}")?;
    }
    if json {
        print::json(
            out,
            &serde_json::json!({
                "task_id": claim.task_id,
                "run_id": claim.run_id,
                "lock": claimer.lock,
                "expires": claim.expires,
            }),
        )?;
    } else {
        writeln!(out, "{}", E(&claim.task_id))?;
    }
    Ok(0)
}

fn events(
    board: &Board,
    task: Option<&str>,
    since: i64,
    follow: bool,
    json: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    const PAGE: usize = 1000;
    // A task is known by its row or, once another program deleted the row, by its history.
    if let Some(id) = task
        && !board.read(|r| {
            Ok(r.find_task(id)?.is_some() || !r.events_after(0, 1, Some(id))?.is_empty())
        })?
    {
        return Err(BoardError::UnknownTask(id.to_owned()).into());
    }
    // Start watching before the first read, so no commit slips between the read and the watch.
    let watch = if follow {
        match BoardWatch::channel(board.path()) {
            Ok(pair) => Some(pair),
            Err(e) => {
                writeln!(
                    io::stderr(),
                    "gateboard: cannot watch {} ({e}); polling every second",
                    E(&board.path().display().to_string())
                )?;
                None
            }
        }
    } else {
        None
    };
    let mut cursor = since;
    loop {
        let page = board.read(|r| r.events_after(cursor, PAGE, task))?;
        for event in &page {
            if json {
                print::json_line(out, event)?;
            } else {
                print::event(out, event)?;
            }
            cursor = event.id;
        }
        if page.len() == PAGE {
            continue;
        }
        if !follow {
            return Ok(());
        }
        out.flush()?;
        match &watch {
            Some((_, changes)) => {
                // A timeout also re-reads: a missed notification costs at most one second.
                let _ = changes.recv_timeout(Duration::from_secs(1));
                while changes.try_recv().is_ok() {}
            }
            None => std::thread::sleep(Duration::from_secs(1)),
        }
    }
}
