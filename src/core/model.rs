//! Plain data of a board: tasks, statuses, events, runs. No SQL beyond column conversions.

use std::fmt;

use rusqlite::types::{FromSql, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use serde::Serialize;

/// Where a task stands. Statuses other programs write are kept verbatim in `Other`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Status {
    /// Waiting for a person to sort it.
    Triage,
    /// Waiting on parents.
    Todo,
    /// Waiting for a time.
    Scheduled,
    /// Claimable: every parent is finished.
    Ready,
    /// Claimed by a worker.
    Running,
    /// Stopped until a person unblocks it.
    Blocked,
    /// Waiting for review after a run.
    Review,
    /// Finished with a result.
    Done,
    /// Put away; counts as finished for its children.
    Archived,
    /// A status another program wrote that gateboard does not model.
    Other(String),
}

impl Status {
    /// Every status the board format names, in board order.
    pub const KNOWN: [Status; 9] = [
        Status::Triage,
        Status::Todo,
        Status::Scheduled,
        Status::Ready,
        Status::Running,
        Status::Blocked,
        Status::Review,
        Status::Done,
        Status::Archived,
    ];

    /// The five columns a board shows by default.
    pub const COLUMNS: [Status; 5] = [
        Status::Todo,
        Status::Ready,
        Status::Running,
        Status::Blocked,
        Status::Done,
    ];

    /// The word stored in the file.
    pub fn as_str(&self) -> &str {
        match self {
            Status::Triage => "triage",
            Status::Todo => "todo",
            Status::Scheduled => "scheduled",
            Status::Ready => "ready",
            Status::Running => "running",
            Status::Blocked => "blocked",
            Status::Review => "review",
            Status::Done => "done",
            Status::Archived => "archived",
            Status::Other(s) => s,
        }
    }

    /// Reads a stored word; unknown words survive as `Other` so nothing is mangled.
    pub fn parse(word: &str) -> Status {
        Status::KNOWN
            .iter()
            .find(|s| s.as_str() == word)
            .cloned()
            .unwrap_or_else(|| Status::Other(word.to_owned()))
    }

    /// The one "parent finished" predicate: done or archived.
    pub fn is_finished(&self) -> bool {
        matches!(self, Status::Done | Status::Archived)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for Status {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl ToSql for Status {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Text(
            self.as_str().as_bytes(),
        )))
    }
}

impl FromSql for Status {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str().map(Status::parse)
    }
}

/// One task row, as much of it as gateboard reads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Task {
    /// `t_` and 8 hex characters for tasks gateboard makes; any text for others.
    pub id: String,
    /// One line a person reads on the card.
    pub title: String,
    /// Free text.
    pub body: Option<String>,
    /// Who the task is for.
    pub assignee: Option<String>,
    /// Where it stands.
    pub status: Status,
    /// Higher runs first; NULL sorts below every number.
    pub priority: Option<i64>,
    /// Who made it.
    pub created_by: Option<String>,
    /// Epoch seconds.
    pub created_at: i64,
    /// Epoch seconds of the first claim.
    pub started_at: Option<i64>,
    /// Epoch seconds of completion (or archiving).
    pub completed_at: Option<i64>,
    /// Who holds the claim while running.
    pub claim_lock: Option<String>,
    /// Epoch seconds when an unrenewed claim lapses.
    pub claim_expires: Option<i64>,
    /// What the run produced.
    pub result: Option<String>,
    /// The open run, if any.
    pub current_run_id: Option<i64>,
    /// Why it is blocked: the reason of its latest `blocked` (or Hermes's `gave_up`) event.
    pub block_reason: Option<String>,
    /// The shell command a worker runs for it; None for a task no gateboard pool can run.
    pub command: Option<String>,
    /// Seconds one attempt may run (Hermes's `max_runtime_seconds`).
    pub timeout_secs: Option<i64>,
    /// Failed attempts in a row (Hermes's `consecutive_failures`).
    pub failures: i64,
    /// Epoch milliseconds before which a failed task is not retried.
    pub retry_at_ms: Option<i64>,
    /// Epoch seconds when the open run began (`started_at` keeps the first claim's time).
    pub run_started_at: Option<i64>,
    /// Marked ready while a parent is unfinished (by another writer): the gate will refuse it.
    pub gated: bool,
}

/// The columns `Task` is read from, in order; `block_reason` is computed.
pub(crate) const TASK_COLUMNS: &str = concat!(
    "t.id, t.title, t.body, t.assignee, t.status, t.priority, \
     t.created_by, t.created_at, t.started_at, t.completed_at, t.claim_lock, t.claim_expires, \
     t.result, t.current_run_id, \
     CASE WHEN t.status = 'blocked' THEN (SELECT COALESCE(json_extract(e.payload, '$.reason'), \
        json_extract(e.payload, '$.error')) \
        FROM task_events e WHERE e.task_id = t.id AND e.kind IN ('blocked', 'gave_up') \
        AND json_valid(e.payload) ORDER BY e.id DESC LIMIT 1) END, \
     (SELECT c.command FROM gateboard_commands c WHERE c.task_id = t.id), \
     t.max_runtime_seconds, t.consecutive_failures, \
     (SELECT c.retry_at_ms FROM gateboard_commands c WHERE c.task_id = t.id), \
     (SELECT r.started_at FROM task_runs r WHERE r.id = t.current_run_id), \
     t.status = 'ready' AND EXISTS (SELECT 1 FROM task_links l LEFT JOIN tasks p \
        ON p.id = l.parent_id WHERE l.child_id = t.id \
        AND (p.id IS NULL OR p.status NOT IN ",
    crate::core::gate::finished_statuses!(),
    "))"
);

/// The table `TASK_COLUMNS` reads. The command comes from correlated subqueries, not a join:
/// a join lets SQLite propagate a bound id into the join term, and it then re-prepares the
/// statement every time a new id is bound (measured: 40% of a claim's time).
pub(crate) const TASK_FROM: &str = "tasks t";

impl Task {
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Task> {
        Ok(Task {
            id: text(row, 0)?.unwrap_or_default(),
            title: text(row, 1)?.unwrap_or_default(),
            body: text(row, 2)?,
            assignee: text(row, 3)?,
            status: Status::parse(&text(row, 4)?.unwrap_or_default()),
            priority: int(row, 5)?,
            created_by: text(row, 6)?,
            created_at: int(row, 7)?.unwrap_or(0),
            started_at: int(row, 8)?,
            completed_at: int(row, 9)?,
            claim_lock: text(row, 10)?,
            claim_expires: int(row, 11)?,
            result: text(row, 12)?,
            current_run_id: int(row, 13)?,
            block_reason: text(row, 14)?,
            command: text(row, 15)?,
            timeout_secs: int(row, 16)?,
            failures: int(row, 17)?.unwrap_or(0),
            retry_at_ms: int(row, 18)?,
            run_started_at: int(row, 19)?,
            gated: int(row, 20)?.unwrap_or(0) != 0,
        })
    }
}

/// A whole number from a column another program may have filled with any type (SQLite lets
/// every column hold every type): an integer, a real, or numeric text; anything else is None.
/// One mistyped row must not make a whole board unreadable.
pub(super) fn int(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Option<i64>> {
    Ok(match row.get_ref(column)? {
        ValueRef::Integer(n) => Some(n),
        ValueRef::Real(f) if f.is_finite() => Some(f as i64),
        ValueRef::Text(t) => std::str::from_utf8(t)
            .ok()
            .and_then(|t| t.trim().parse().ok()),
        _ => None,
    })
}

/// Text from a column of any type, for the same reason as [`int`].
pub(super) fn text(row: &rusqlite::Row<'_>, column: usize) -> rusqlite::Result<Option<String>> {
    Ok(match row.get_ref(column)? {
        ValueRef::Null => None,
        ValueRef::Integer(n) => Some(n.to_string()),
        ValueRef::Real(f) => Some(f.to_string()),
        ValueRef::Text(t) | ValueRef::Blob(t) => Some(String::from_utf8_lossy(t).into_owned()),
    })
}

/// What happened to a task; kinds other programs write survive as `Other`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum EventKind {
    /// The task was made.
    Created,
    /// A parent was added.
    Linked,
    /// A parent was removed.
    Unlinked,
    /// Its parents all finished, so it became ready.
    Promoted,
    /// A worker took it.
    Claimed,
    /// The gate refused a claim because a parent was not finished.
    ClaimRejected,
    /// It finished.
    Completed,
    /// A person or worker stopped it.
    Blocked,
    /// A person let it go on.
    Unblocked,
    /// Its claim lapsed and it went back to ready.
    Reclaimed,
    /// Its worker renewed the claim.
    Heartbeat,
    /// It was put away.
    Archived,
    /// It was taken out of the archive and re-gated.
    Unarchived,
    /// A parent became unfinished again (it was unarchived), so it went back from ready to todo.
    Demoted,
    /// Someone commented on it.
    Commented,
    /// An attempt exited non-zero or died of a signal (Hermes's word).
    Crashed,
    /// An attempt ran past its timeout and was killed.
    TimedOut,
    /// An attempt's command could not be started.
    SpawnFailed,
    /// The retries were spent, so the task was blocked (Hermes's word).
    GaveUp,
    /// A kind gateboard does not write.
    Other(String),
}

impl EventKind {
    const NAMED: [EventKind; 19] = [
        EventKind::Created,
        EventKind::Linked,
        EventKind::Unlinked,
        EventKind::Promoted,
        EventKind::Claimed,
        EventKind::ClaimRejected,
        EventKind::Completed,
        EventKind::Blocked,
        EventKind::Unblocked,
        EventKind::Reclaimed,
        EventKind::Heartbeat,
        EventKind::Archived,
        EventKind::Unarchived,
        EventKind::Demoted,
        EventKind::Commented,
        EventKind::Crashed,
        EventKind::TimedOut,
        EventKind::SpawnFailed,
        EventKind::GaveUp,
    ];

    /// The word stored in the file.
    pub fn as_str(&self) -> &str {
        match self {
            EventKind::Created => "created",
            EventKind::Linked => "linked",
            EventKind::Unlinked => "unlinked",
            EventKind::Promoted => "promoted",
            EventKind::Claimed => "claimed",
            EventKind::ClaimRejected => "claim_rejected",
            EventKind::Completed => "completed",
            EventKind::Blocked => "blocked",
            EventKind::Unblocked => "unblocked",
            EventKind::Reclaimed => "reclaimed",
            EventKind::Heartbeat => "heartbeat",
            EventKind::Archived => "archived",
            EventKind::Unarchived => "unarchived",
            EventKind::Demoted => "demoted",
            EventKind::Commented => "commented",
            EventKind::Crashed => "crashed",
            EventKind::TimedOut => "timed_out",
            EventKind::SpawnFailed => "spawn_failed",
            EventKind::GaveUp => "gave_up",
            EventKind::Other(s) => s,
        }
    }

    /// Reads a stored word, keeping unknown ones.
    pub fn parse(word: &str) -> EventKind {
        EventKind::NAMED
            .iter()
            .find(|k| k.as_str() == word)
            .cloned()
            .unwrap_or_else(|| EventKind::Other(word.to_owned()))
    }
}

impl fmt::Display for EventKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl Serialize for EventKind {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl FromSql for EventKind {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        value.as_str().map(EventKind::parse)
    }
}

/// One row of the append-only event log; its id is the cursor live views follow.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Event {
    /// Monotonic cursor.
    pub id: i64,
    /// The task it is about.
    pub task_id: String,
    /// The run it belongs to, if any.
    pub run_id: Option<i64>,
    /// What happened.
    pub kind: EventKind,
    /// Details as JSON; text that is not JSON is kept as a string.
    pub payload: Option<serde_json::Value>,
    /// Epoch seconds.
    pub created_at: i64,
}

pub(crate) const EVENT_COLUMNS: &str = "id, task_id, run_id, kind, payload, created_at";

impl Event {
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
        Ok(Event {
            id: row.get(0)?,
            task_id: text(row, 1)?.unwrap_or_default(),
            run_id: int(row, 2)?,
            kind: EventKind::parse(&text(row, 3)?.unwrap_or_default()),
            payload: text(row, 4)?
                .map(|text| serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text))),
            created_at: int(row, 5)?.unwrap_or(0),
        })
    }

    /// A string field of the payload, e.g. a block's `reason`.
    pub fn payload_str(&self, key: &str) -> Option<&str> {
        self.payload.as_ref()?.get(key)?.as_str()
    }
}

/// One attempt at a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Run {
    /// Row id; `tasks.current_run_id` points here while open.
    pub id: i64,
    /// The task.
    pub task_id: String,
    /// running, done, blocked, reclaimed, ...
    pub status: String,
    /// Who claimed it.
    pub claim_lock: Option<String>,
    /// Epoch seconds.
    pub started_at: i64,
    /// Epoch seconds; NULL while open.
    pub ended_at: Option<i64>,
    /// completed, blocked, reclaimed, ...
    pub outcome: Option<String>,
    /// A line about how it went.
    pub summary: Option<String>,
    /// The assignee profile Hermes Agent runs it as; Hermes clears `claim_lock` when a run ends.
    pub profile: Option<String>,
    /// What went wrong, for a failed attempt.
    pub error: Option<String>,
    /// The command's exit code, when it exited.
    pub exit_code: Option<i64>,
    /// The signal that ended the command, when one did.
    pub signal: Option<i64>,
    /// How long the attempt ran, in milliseconds, once it ended.
    pub duration_ms: Option<i64>,
    /// The file holding the attempt's output (stdout and stderr, interleaved).
    pub log: Option<String>,
    /// The pid of the process that ran the attempt (Hermes's `worker_pid`).
    pub worker_pid: Option<i64>,
}

pub(crate) const RUN_COLUMNS: &str = "id, task_id, status, claim_lock, started_at, ended_at, \
     outcome, summary, profile, error, metadata, worker_pid";

impl Run {
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Run> {
        // Metadata is JSON another program may have written any way; unreadable means empty.
        let metadata: Option<serde_json::Value> =
            text(row, 10)?.and_then(|m| serde_json::from_str(&m).ok());
        Ok(Run {
            id: row.get(0)?,
            task_id: text(row, 1)?.unwrap_or_default(),
            status: text(row, 2)?.unwrap_or_default(),
            claim_lock: text(row, 3)?,
            started_at: int(row, 4)?.unwrap_or(0),
            ended_at: int(row, 5)?,
            outcome: text(row, 6)?,
            summary: text(row, 7)?,
            profile: text(row, 8)?,
            error: text(row, 9)?,
            exit_code: meta_int(&metadata, "exit_code"),
            signal: meta_int(&metadata, "signal"),
            duration_ms: meta_int(&metadata, "duration_ms"),
            log: metadata
                .as_ref()
                .and_then(|m| m.get("log"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned),
            worker_pid: int(row, 11)?,
        })
    }

    /// How its command ended and how long it took ("exit 3", "signal 9", "1.2s"), for people;
    /// empty for a run no command was recorded for.
    pub fn how_it_ended(&self) -> Vec<String> {
        let mut parts = Vec::new();
        if let Some(code) = self.exit_code {
            parts.push(format!("exit {code}"));
        }
        if let Some(signal) = self.signal {
            parts.push(format!("signal {signal}"));
        }
        if let Some(ms) = self.duration_ms {
            parts.push(format!("{:.1}s", ms as f64 / 1000.0));
        }
        parts
    }

    /// Why a run that did not end done ended as it did (given back unstarted, the pool
    /// stopped, reclaimed…), as its summary says, unless its error says so already; a done
    /// run's summary is its result.
    pub fn why(&self) -> Option<&str> {
        self.summary.as_deref().filter(|why| {
            self.status != "done" && self.ended_at.is_some() && self.error.as_deref() != Some(why)
        })
    }

    /// Its outcome where that says more than its status (`done` and `completed`, not
    /// `gave_up` twice), `open` while it runs, for a person's one-line summary of it.
    pub fn outcome_beyond_status(&self) -> Option<&str> {
        match self.outcome.as_deref() {
            Some(outcome) if outcome == self.status => None,
            outcome => Some(outcome.unwrap_or("open")),
        }
    }

    /// Who ran it, as far as the board knows: the claim holder, else Hermes's profile.
    pub fn runner(&self) -> &str {
        self.claim_lock
            .as_deref()
            .or(self.profile.as_deref())
            .unwrap_or("an unnamed worker")
    }
}

fn meta_int(metadata: &Option<serde_json::Value>, key: &str) -> Option<i64> {
    metadata.as_ref()?.get(key)?.as_i64()
}

/// A comment on a task.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Comment {
    /// Row id.
    pub id: i64,
    /// Who wrote it.
    pub author: String,
    /// What they wrote.
    pub body: String,
    /// Epoch seconds.
    pub created_at: i64,
}

/// A related task as a detail view lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Neighbour {
    /// Its id.
    pub id: String,
    /// Its title.
    pub title: String,
    /// Its status.
    pub status: Status,
}

impl Neighbour {
    /// From a row of id, title, status, the shape every neighbour query selects.
    pub(crate) fn from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<Neighbour> {
        Ok(Neighbour {
            id: row.get(0)?,
            title: row.get(1)?,
            status: row.get(2)?,
        })
    }
}

/// Everything a person asks about one task.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct TaskDetail {
    /// The task itself.
    pub task: Task,
    /// Its parents, each with status.
    pub parents: Vec<Neighbour>,
    /// Its children, each with status.
    pub children: Vec<Neighbour>,
    /// Every attempt, oldest first.
    pub runs: Vec<Run>,
    /// Its events, oldest first.
    pub events: Vec<Event>,
    /// Its comments, oldest first.
    pub comments: Vec<Comment>,
    /// Why it is not claimable now, or None when it is.
    pub not_ready_because: Option<String>,
    /// What it runs, and how, when it has a gateboard command.
    pub command: Option<TaskCommand>,
}

/// What a new task is made of.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NewTask {
    /// Required, non-blank.
    pub title: String,
    /// Free text.
    pub body: Option<String>,
    /// Who it is for.
    pub assignee: Option<String>,
    /// Higher runs first.
    pub priority: i64,
    /// Who made it.
    pub created_by: Option<String>,
    /// Ids of existing tasks it waits on.
    pub parents: Vec<String>,
    /// What a worker runs for it; None for a card no pool runs.
    pub command: Option<TaskCommand>,
    /// Names the task so creating it again finds it instead (Hermes's `idempotency_key`).
    pub key: Option<String>,
}

/// The longest timeout a task's command may have, a year: longer than any command is meant to
/// run, and far from any clock's overflow. One rule for every way a task is defined.
pub const MAX_TIMEOUT_SECS: u64 = 366 * 24 * 3600;

/// The most retries a task's command may have, so a broken command cannot loop for long.
pub const MAX_RETRIES: u32 = 100;

/// A task's shell command and how to run it: core data, so every pool reads it alike.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct TaskCommand {
    /// Run under `sh -c`.
    pub command: String,
    /// The absolute folder it runs in (Hermes's `workspace_path`, kind `dir`).
    pub cwd: String,
    /// Added to the pool's environment, in order.
    pub env: Vec<(String, String)>,
    /// Seconds one attempt may run before its process group is killed.
    pub timeout_secs: Option<u64>,
    /// Retries after the first failure: at most `retries + 1` attempts.
    pub retries: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_status_words_survive_a_round_trip() {
        let s = Status::parse("in_qa");
        assert_eq!(s, Status::Other("in_qa".into()));
        assert_eq!(s.as_str(), "in_qa");
    }

    #[test]
    fn only_done_and_archived_count_as_finished() {
        let finished: Vec<_> = Status::KNOWN.iter().filter(|s| s.is_finished()).collect();
        assert_eq!(finished, [&Status::Done, &Status::Archived]);
    }
}
