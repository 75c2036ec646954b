//! A board that has lived for months, written in bulk: what benchmarks and tests of a large
//! board start from. A million tasks made one transaction at a time would take hours; here a
//! transaction carries a batch of tens of thousands.

use rusqlite::params;

use super::{Board, Result};

/// Tasks written per transaction.
const BATCH: usize = 20_000;
/// One finished task in this many had a claim refused by the gate on its way.
const REJECTED_EVERY: usize = 1000;

/// What a long-lived board holds.
#[derive(Clone, Copy, Debug)]
pub struct History {
    /// Tasks done long ago: most of an old board.
    pub finished: usize,
    /// Tasks still in the queue, spread over todo, ready and blocked.
    pub active: usize,
    /// Events each finished task has (created, promoted, claimed, heartbeats, completed); at
    /// least 4.
    pub events_per_task: usize,
    /// Epoch seconds of the first task's creation; each next task is a second younger.
    pub since: i64,
}

/// Appends `history` to the board, in transactions of `BATCH` tasks. Ids are `h_` and a
/// number, so they cannot meet ids the board makes.
pub fn write_history(board: &mut Board, history: &History) -> Result<()> {
    let total = history.finished + history.active;
    let mut start = 0;
    while start < total {
        let end = (start + BATCH).min(total);
        board.write(|txn| {
            let conn = txn.conn();
            let mut task = conn.prepare_cached(
                "INSERT INTO tasks (id, title, status, priority, created_by, created_at, \
                 started_at, completed_at, result) VALUES (?1, ?2, ?3, 0, 'history', ?4, ?5, ?6, ?7)",
            )?;
            let mut event = conn.prepare_cached(
                "INSERT INTO task_events (task_id, kind, payload, created_at) VALUES (?1, ?2, ?3, ?4)",
            )?;
            for i in start..end {
                let id = format!("h_{i:08}");
                let title = format!("history task {i}: a title of ordinary length");
                let at = history.since + i as i64;
                if i < history.finished {
                    task.execute(params![id, title, "done", at, at, at + 1, "ok"])?;
                    event.execute(params![id, "created", None::<String>, at])?;
                    event.execute(params![id, "promoted", None::<String>, at])?;
                    event.execute(params![id, "claimed", None::<String>, at])?;
                    for beat in 4..history.events_per_task.max(4) {
                        let kind = if beat == 4 && i % REJECTED_EVERY == 0 {
                            "claim_rejected"
                        } else {
                            "heartbeat"
                        };
                        event.execute(params![id, kind, None::<String>, at])?;
                    }
                    event.execute(params![id, "completed", None::<String>, at + 1])?;
                } else {
                    let status = ["todo", "ready", "blocked"][i % 3];
                    task.execute(params![
                        id,
                        title,
                        status,
                        at,
                        None::<i64>,
                        None::<i64>,
                        None::<String>
                    ])?;
                    event.execute(params![id, "created", None::<String>, at])?;
                    if status == "blocked" {
                        event.execute(params![
                            id,
                            "blocked",
                            r#"{"reason":"waiting for a person"}"#,
                            at
                        ])?;
                    }
                }
            }
            Ok(())
        })?;
        start = end;
    }
    Ok(())
}
