//! The demo board shipped in `assets/`, loaded into an empty default board so a newcomer sees
//! claims at once.

use serde::Deserialize;

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
}

/// The demo DAG as graph nodes.
pub fn graph() -> Result<Vec<GraphNode>, BoardError> {
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
                ..NewTask::default()
            },
        })
        .collect())
}

/// Creates the demo DAG in one transaction; returns how many tasks it made.
pub fn load(board: &mut Board) -> Result<usize, BoardError> {
    let graph = graph()?;
    board.write(|t| t.create_graph(&graph)).map(|ids| ids.len())
}
