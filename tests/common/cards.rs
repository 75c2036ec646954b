//! Task rows built in memory, for the TUI's tests that need no board file.

use gateboard::core::{Status, Task};

/// A task of this id, title, status and priority, made ten minutes before `now`, with
/// every other field empty.
pub fn task(id: &str, title: &str, status: Status, priority: i64, now: i64) -> Task {
    Task {
        id: id.into(),
        title: title.into(),
        body: None,
        assignee: None,
        status,
        priority: Some(priority),
        created_by: None,
        created_at: now - 600,
        started_at: None,
        completed_at: None,
        claim_lock: None,
        claim_expires: None,
        result: None,
        current_run_id: None,
        block_reason: None,
        command: None,
        timeout_secs: None,
        failures: 0,
        retry_at_ms: None,
        run_started_at: None,
        gated: false,
    }
}
