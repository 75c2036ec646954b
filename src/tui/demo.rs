//! The demo board shipped in `assets/`, loaded into an empty default board so a newcomer sees
//! claims at once. Its tasks run real (harmless) commands, one of them flaky, so the first run
//! shows output, a retry and a dependency graph being worked.

use serde::Deserialize;

use crate::core::model::TaskCommand;
use crate::core::ops::GraphNode;
use crate::core::{Board, BoardError, NewTask};

const DEMO: &str = include_str!("../../assets/demo.json");

#[derive(Deserialize)]
struct DemoTask {
    key: String,
    title: String,
    #[serde(default)]
    body: Option<String>,
    #[serde(default)]
    parents: Vec<String>,
    #[serde(default)]
    priority: i64,
    cmd: String,
    #[serde(default)]
    retries: u32,
}

/// The demo DAG as graph nodes, its commands running in `cwd`.
pub fn graph(cwd: &str) -> Result<Vec<GraphNode>, BoardError> {
    let tasks: Vec<DemoTask> = serde_json::from_str(DEMO)
        .map_err(|e| BoardError::Internal(format!("the shipped demo board is malformed: {e}")))?;
    Ok(tasks
        .into_iter()
        .map(|t| GraphNode {
            key: t.key,
            task: NewTask {
                title: t.title,
                body: t.body,
                priority: t.priority,
                created_by: Some("gateboard demo".into()),
                parents: t.parents,
                command: Some(TaskCommand {
                    command: t.cmd,
                    cwd: cwd.to_owned(),
                    env: Vec::new(),
                    timeout_secs: Some(60),
                    retries: t.retries,
                }),
                ..NewTask::default()
            },
        })
        .collect())
}

/// Creates the demo DAG in one transaction; returns how many tasks it made.
pub fn load(board: &mut Board) -> Result<usize, BoardError> {
    // The board's own folder: it exists, and it is the user's.
    let folder = std::path::absolute(board.path())
        .ok()
        .and_then(|p| p.parent().map(|f| f.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "/".into());
    let graph = graph(&folder)?;
    board.write(|t| t.create_graph(&graph)).map(|ids| ids.len())
}
