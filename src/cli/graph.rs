//! `gateboard import FILE.toml` and `gateboard run FILE.toml`: a graph file onto the board in
//! one transaction, and worked to the end like `make -k`.

use std::collections::{HashMap, HashSet};
use std::io::{self, Write};
use std::path::Path;

use super::failure::Failure;
use super::graphfile::{self, GraphFile};
use crate::core::import::ImportedTask;
use crate::core::model::TaskCommand;
use crate::core::ops::GraphNode;
use crate::core::{Board, BoardError, NewTask, Status, Task};
use crate::terminal_text::Escaped;

/// Reads and checks a graph file; nothing is written when it is refused.
pub(super) fn read(path: &Path) -> Result<GraphFile, Failure> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Failure::Usage(format!("cannot read {}: {e}", path.display())))?;
    let here = std::env::current_dir()
        .map_err(|e| Failure::System(format!("cannot read the current folder: {e}")))?;
    graphfile::parse(path, &here, &text).map_err(|e| Failure::Board(BoardError::Invalid(e)))
}

/// The key prefix of a file's tasks: its absolute path and `#`.
pub(super) fn key_prefix(file: &GraphFile) -> String {
    format!("{}#", file.path.display())
}

/// Creates the file's new tasks and resumes its known ones, in one transaction.
pub(super) fn import(
    board: &mut Board,
    file: &GraphFile,
    created_by: &str,
) -> Result<Vec<ImportedTask>, Failure> {
    let prefix = key_prefix(file);
    let mut nodes = Vec::with_capacity(file.tasks.len());
    for task in &file.tasks {
        let command = match &task.cmd {
            Some(cmd) => Some(TaskCommand {
                command: cmd.clone(),
                cwd: task
                    .cwd
                    .to_str()
                    .ok_or_else(|| {
                        Failure::Usage(format!("the folder of {} is not UTF-8", task.name))
                    })?
                    .to_owned(),
                env: task.env.clone(),
                timeout_secs: task.timeout_secs,
                retries: task.retries.unwrap_or(0),
            }),
            None => None,
        };
        nodes.push(GraphNode {
            key: task.name.clone(),
            task: NewTask {
                title: task.title.clone(),
                body: task.body.clone(),
                assignee: task.assignee.clone(),
                priority: task.priority,
                created_by: Some(created_by.to_owned()),
                parents: task.needs.clone(),
                command,
                key: Some(format!("{prefix}{}", task.name)),
            },
        });
    }
    let imported = board.write(|txn| txn.import_graph(&nodes))?;
    let names: HashMap<&str, &str> = imported
        .iter()
        .map(|t| (t.id.as_str(), t.key.as_str()))
        .collect();
    for task in imported.iter().filter(|t| !t.needs_left_out.is_empty()) {
        let needs: Vec<String> = task
            .needs_left_out
            .iter()
            .map(|id| Escaped(names.get(id.as_str()).copied().unwrap_or(id)).to_string())
            .collect();
        // A note, not a failure: the rest of the file was imported.
        let _ = writeln!(
            io::stderr(),
            "gateboard: {} has already started, so its new needs ({}) were left out",
            Escaped(&task.key),
            needs.join(", ")
        );
    }
    Ok(imported)
}

/// Prints what an import did: `name id` lines, or one JSON object of name to id.
pub(super) fn print_imported(
    out: &mut dyn Write,
    imported: &[ImportedTask],
    json: bool,
) -> Result<(), Failure> {
    if json {
        let map: serde_json::Map<String, serde_json::Value> = imported
            .iter()
            .map(|t| (t.key.clone(), serde_json::Value::String(t.id.clone())))
            .collect();
        super::print::json(out, &map)?;
    } else {
        for t in imported {
            writeln!(out, "{} {}", Escaped(&t.key), t.id)?;
        }
    }
    Ok(())
}

/// How a file's tasks ended, `make -k` style: one line per task that did not end done.
pub(super) struct Outcome {
    /// Lines for people, one per task not done.
    pub lines: Vec<String>,
    /// Tasks done.
    pub done: usize,
    /// Tasks blocked.
    pub blocked: usize,
    /// Tasks running when a signal stopped the run, given back unfinished.
    pub interrupted: usize,
    /// Tasks that never ran.
    pub never_ran: usize,
    /// Whether a signal stopped the run before its tasks could end.
    pub stopped: bool,
}

impl Outcome {
    /// Whether every task of the file ended done.
    pub fn all_done(&self) -> bool {
        self.blocked == 0 && self.interrupted == 0 && self.never_ran == 0
    }

    /// The closing line.
    pub fn summary(&self) -> String {
        let mut line = format!("{} done, {} blocked", self.done, self.blocked);
        if self.interrupted > 0 {
            line.push_str(&format!(", {} interrupted", self.interrupted));
        }
        line.push_str(&format!(", {} never ran", self.never_ran));
        if self.stopped {
            line.push_str(" (stopped by a signal)");
        }
        line
    }
}

/// Reads how each of the file's tasks ended; a task that never ran names the blocked (or
/// otherwise stuck) task it waited on, or says the run was `stopped` first.
pub(super) fn outcome(
    board: &Board,
    imported: &[ImportedTask],
    stopped: bool,
) -> Result<Outcome, Failure> {
    let names: HashMap<&str, &str> = imported
        .iter()
        .map(|t| (t.id.as_str(), t.key.as_str()))
        .collect();
    let ids: Vec<String> = imported.iter().map(|t| t.id.clone()).collect();
    let (tasks, parents, interrupted) = board.read(|r| {
        let tasks = r.tasks_by_ids(&ids)?;
        let mut parents: HashMap<String, Vec<String>> = HashMap::new();
        let mut interrupted = HashSet::new();
        for task in &tasks {
            parents.insert(
                task.id.clone(),
                r.parents(&task.id)?.into_iter().map(|p| p.id).collect(),
            );
            let waiting = matches!(task.status, Status::Ready | Status::Todo);
            if stopped
                && waiting
                && r.runs(&task.id)?
                    .last()
                    .is_some_and(|run| run.outcome.as_deref() == Some("interrupted"))
            {
                interrupted.insert(task.id.clone());
            }
        }
        Ok((tasks, parents, interrupted))
    })?;
    let by_id: HashMap<&str, &Task> = tasks.iter().map(|t| (t.id.as_str(), t)).collect();
    let name = |id: &str| {
        names
            .get(id)
            .map_or_else(|| id.to_owned(), |n| (*n).to_owned())
    };
    let mut outcome = Outcome {
        lines: Vec::new(),
        done: 0,
        blocked: 0,
        interrupted: 0,
        never_ran: 0,
        stopped,
    };
    for t in imported {
        let Some(task) = by_id.get(t.id.as_str()) else {
            continue;
        };
        match &task.status {
            Status::Done | Status::Archived => outcome.done += 1,
            Status::Blocked => {
                outcome.blocked += 1;
                outcome.lines.push(format!(
                    "{}: blocked: {}",
                    Escaped(&t.key),
                    Escaped(task.block_reason.as_deref().unwrap_or("no reason given"))
                ));
            }
            _ if interrupted.contains(&t.id) => {
                outcome.interrupted += 1;
                outcome.lines.push(format!(
                    "{}: interrupted: the run was stopped while it ran",
                    Escaped(&t.key)
                ));
            }
            status => {
                outcome.never_ran += 1;
                let why = match stuck_ancestor(&t.id, &by_id, &parents) {
                    Some(id) => format!("waited on {}", Escaped(&name(&id))),
                    None if stopped => "the run was stopped first".to_owned(),
                    None if task.command.is_none() => "it has no command".to_owned(),
                    None => format!("it is {}", Escaped(status.as_str())),
                };
                outcome
                    .lines
                    .push(format!("{}: never ran: {why}", Escaped(&t.key)));
            }
        }
    }
    Ok(outcome)
}

/// The nearest ancestor that is blocked (or not done and not waiting on anything of its own):
/// what holds a task back for good.
fn stuck_ancestor(
    id: &str,
    tasks: &HashMap<&str, &Task>,
    parents: &HashMap<String, Vec<String>>,
) -> Option<String> {
    let mut seen = HashSet::new();
    let mut queue: std::collections::VecDeque<&str> = parents
        .get(id)
        .into_iter()
        .flatten()
        .map(String::as_str)
        .collect();
    let mut fallback = None;
    while let Some(p) = queue.pop_front() {
        if !seen.insert(p) {
            continue;
        }
        match tasks.get(p).map(|t| &t.status) {
            Some(Status::Done | Status::Archived) => {}
            Some(Status::Blocked) | None => return Some(p.to_owned()),
            Some(_) => {
                fallback.get_or_insert_with(|| p.to_owned());
                queue.extend(parents.get(p).into_iter().flatten().map(String::as_str));
            }
        }
    }
    fallback
}
