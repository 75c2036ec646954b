//! Creating a keyed graph, or resuming it: what `gateboard import` and `run` do with a graph
//! file, in one transaction. Each task carries a key (Hermes's `idempotency_key`: the file and
//! the task's name), so importing the same file again finds its tasks instead of duplicating
//! them, as `make` picks up after a fix: done tasks stay done, blocked ones get a fresh try with
//! the file's (perhaps fixed) command, new names are added, and needs follow the file.

use std::collections::{HashMap, VecDeque};

use rusqlite::{OptionalExtension, params};

use super::error::{BoardError, Result};
use super::model::Status;
use super::ops::{GraphNode, Txn};

/// What an import did with one task of the graph.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Imported {
    /// It was new: created.
    Created,
    /// It was there and waiting: its definition now follows the file.
    Updated,
    /// It was blocked: updated and unblocked, with a fresh set of retries.
    Retried,
    /// It was running or finished: left as it is.
    Kept,
}

/// One task of an imported graph.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct ImportedTask {
    /// Its name in the graph.
    pub key: String,
    /// Its id on the board.
    pub id: String,
    /// What the import did.
    pub action: Imported,
    /// Parents the file gives a kept (running or finished) task that it does not have: a
    /// started task takes no new parent, so these needs were left out.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub needs_left_out: Vec<String>,
}

impl<'c> Txn<'c> {
    /// Creates the graph's new tasks and resumes its known ones (matched by `task.key`), in
    /// graph order; parents name keys of the graph. Refuses duplicate keys and cycles.
    pub fn import_graph(&self, nodes: &[GraphNode]) -> Result<Vec<ImportedTask>> {
        let order = graph_order(nodes)?;
        let mut ids: HashMap<&str, String> = HashMap::with_capacity(nodes.len());
        let mut done = Vec::with_capacity(nodes.len());
        for i in order {
            let node = &nodes[i];
            let mut task = node.task.clone();
            for parent in &mut task.parents {
                if let Some(id) = ids.get(parent.as_str()) {
                    parent.clone_from(id);
                }
            }
            let existing = match &task.key {
                Some(key) => self.task_with_key(key)?,
                None => None,
            };
            let (id, (action, needs_left_out)) = match existing {
                None => (self.create(&task)?, (Imported::Created, Vec::new())),
                Some(id) => {
                    let resumed = self.resume(&id, &task)?;
                    (id, resumed)
                }
            };
            ids.insert(node.key.as_str(), id.clone());
            done.push((
                i,
                ImportedTask {
                    key: node.key.clone(),
                    id,
                    action,
                    needs_left_out,
                },
            ));
        }
        done.sort_by_key(|(i, _)| *i);
        Ok(done.into_iter().map(|(_, t)| t).collect())
    }

    /// The id of the task carrying `key`, if one does.
    fn task_with_key(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached(
                "SELECT id FROM tasks WHERE idempotency_key = ?1 ORDER BY rowid LIMIT 1",
            )?
            .query_row(params![key], |r| r.get(0))
            .optional()?)
    }

    /// Brings a known task in line with its definition, unless it is running or finished;
    /// returns what it did, and the parents the file wants that a kept task was left without.
    fn resume(&self, id: &str, task: &super::model::NewTask) -> Result<(Imported, Vec<String>)> {
        let current = self.task(id)?;
        if matches!(
            current.status,
            Status::Running | Status::Done | Status::Archived
        ) {
            let has: Vec<String> = self.parents(id)?.into_iter().map(|p| p.id).collect();
            let left_out = task
                .parents
                .iter()
                .filter(|p| !has.contains(p))
                .cloned()
                .collect();
            return Ok((Imported::Kept, left_out));
        }
        self.conn()
            .prepare_cached(
                "UPDATE tasks SET title = ?2, body = ?3, assignee = ?4, priority = ?5 WHERE id = ?1",
            )?
            .execute(params![
                id,
                task.title.trim(),
                task.body,
                task.assignee,
                task.priority
            ])?;
        if let Some(command) = &task.command {
            self.redefine_command(id, command)?;
        }
        let wanted: Vec<&str> = task.parents.iter().map(String::as_str).collect();
        // The graph's own prefix: only needs the graph owns are dropped; links another writer
        // made to other tasks stay.
        let graph = task
            .key
            .as_deref()
            .and_then(|k| k.rsplit_once('#'))
            .map(|(file, _)| format!("{file}#"));
        for parent in self.parents(id)? {
            let owned = match &graph {
                Some(graph) => self
                    .key_of(&parent.id)?
                    .is_some_and(|k| k.starts_with(graph)),
                None => false,
            };
            if owned && !wanted.contains(&parent.id.as_str()) {
                self.unlink(&parent.id, id)?;
            }
        }
        for parent in &wanted {
            self.link(parent, id)?;
        }
        if current.status == Status::Blocked {
            self.unblock(id)?;
            return Ok((Imported::Retried, Vec::new()));
        }
        Ok((Imported::Updated, Vec::new()))
    }

    fn key_of(&self, id: &str) -> Result<Option<String>> {
        Ok(self
            .conn()
            .prepare_cached("SELECT idempotency_key FROM tasks WHERE id = ?1")?
            .query_row(params![id], |r| r.get(0))
            .optional()?
            .flatten())
    }
}

/// The nodes in an order where every parent inside the graph comes first (Kahn's algorithm),
/// refusing duplicate keys and cycles.
fn graph_order(nodes: &[GraphNode]) -> Result<Vec<usize>> {
    let mut index: HashMap<&str, usize> = HashMap::with_capacity(nodes.len());
    for (i, node) in nodes.iter().enumerate() {
        if index.insert(node.key.as_str(), i).is_some() {
            return Err(BoardError::Invalid(format!(
                "the graph names {} twice",
                node.key
            )));
        }
    }
    let mut waiting = vec![0usize; nodes.len()];
    let mut children: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for parent in &node.task.parents {
            if let Some(&p) = index.get(parent.as_str()) {
                waiting[i] += 1;
                children[p].push(i);
            }
        }
    }
    let mut queue: VecDeque<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = queue.pop_front() {
        order.push(i);
        for &c in &children[i] {
            waiting[c] -= 1;
            if waiting[c] == 0 {
                queue.push_back(c);
            }
        }
    }
    if order.len() < nodes.len() {
        let stuck: Vec<&str> = (0..nodes.len())
            .filter(|&i| waiting[i] > 0)
            .map(|i| nodes[i].key.as_str())
            .collect();
        return Err(BoardError::Invalid(format!(
            "the graph has a cycle through {}",
            stuck.join(", ")
        )));
    }
    Ok(order)
}
