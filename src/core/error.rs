//! The one error type of the core, with messages a person can act on.

use std::path::PathBuf;
use std::time::Duration;

use super::model::Status;

/// Every way a board operation can fail; each variant names what to do next.
#[derive(Debug, thiserror::Error)]
pub enum BoardError {
    /// The id names no task on this board.
    #[error("no task {0} on this board")]
    UnknownTask(String),
    /// A task may not be its own parent.
    #[error("a task cannot depend on itself ({0})")]
    SelfLink(String),
    /// The link would make the graph cyclic, so neither task could ever run.
    #[error("linking {parent} -> {child} would create a cycle")]
    Cycle {
        /// The would-be parent.
        parent: String,
        /// The would-be child.
        child: String,
    },
    /// New parents cannot gate a task that already started or finished.
    #[error(
        "cannot add a parent to {child}: it is {status}, and a started or finished task takes no new parents"
    )]
    ChildStarted {
        /// The child that refused the link.
        child: String,
        /// Its status at the time.
        status: Status,
    },
    /// The task is not in a status the operation starts from.
    #[error("{id} is {status}; {operation} needs a task that is {expected}")]
    WrongStatus {
        /// The task.
        id: String,
        /// Its actual status.
        status: Status,
        /// The operation that was refused.
        operation: &'static str,
        /// What the operation needed.
        expected: &'static str,
    },
    /// The task waits on parents that are not finished.
    #[error("{id} waits on unfinished parents: {}", list_parents(.parents))]
    ParentsUnfinished {
        /// The gated task.
        id: String,
        /// Each unfinished parent and its status.
        parents: Vec<(String, Status)>,
    },
    /// Only the holder of a claim may act on the running task.
    #[error("{id} is claimed by {holder}, not by {claimer}")]
    NotClaimHolder {
        /// The task.
        id: String,
        /// Who holds the claim.
        holder: String,
        /// Who tried.
        claimer: String,
    },
    /// A person asked to complete or archive a task a claim still runs: the claim has to end
    /// first, so the message names the verbs that end it.
    #[error("{}", still_running(.id, .holder.as_deref(), .claimer.as_deref(), .operation))]
    StillRunning {
        /// The running task.
        id: String,
        /// Who holds its claim; None when another program set it running without one.
        holder: Option<String>,
        /// Who asked, if anybody claims to be someone.
        claimer: Option<String>,
        /// What was asked: `complete` or `archive`.
        operation: &'static str,
    },
    /// Unarchiving would make a task unfinished again under children that already started
    /// while it counted as finished: they would have run before their parent.
    #[error("{}", children_started(.id, .children))]
    ChildrenStarted {
        /// The archived task.
        id: String,
        /// Each child that started, in id order.
        children: Vec<StartedChild>,
    },
    /// Input that cannot become a task or an edge.
    #[error("{0}")]
    Invalid(String),
    /// The board's own SQL rules (triggers) refused a write.
    #[error("the board refused the write: {0}")]
    RuleViolation(String),
    /// No file at the path, and the operation does not create one.
    #[error("no board at {path}; create one with `gateboard --db {path} init`", path = .0.display())]
    Missing(PathBuf),
    /// The path is a directory.
    #[error("{path} is a directory, not a board file", path = .0.display())]
    IsDirectory(PathBuf),
    /// The path names a device, FIFO or socket: SQLite would fail on it, or write a journal
    /// beside it, so only a regular file can be a board.
    #[error("{path} is not a regular file, so it cannot be a board", path = .0.display())]
    NotAFile(PathBuf),
    /// The file exists but is not a board gateboard can use.
    #[error("{} is not a board: {reason}", path.display())]
    NotABoard {
        /// The file.
        path: PathBuf,
        /// Why it was refused.
        reason: String,
    },
    /// The file was written by a newer gateboard, whose schema this build cannot safely change.
    #[error("{} has schema version {found}, newer than this gateboard knows ({known}); upgrade gateboard", path.display())]
    TooNew {
        /// The file.
        path: PathBuf,
        /// The version in the file.
        found: i64,
        /// The newest version this build knows.
        known: i64,
    },
    /// Another writer kept the board locked past the busy timeout.
    #[error("{} stayed locked by another writer for {}s; try again, or raise --lock-timeout", path.display(), waited.as_secs())]
    Locked {
        /// The file.
        path: PathBuf,
        /// How long we waited.
        waited: Duration,
    },
    /// The board directory or file could not be read or created.
    #[error("cannot use {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// gateboard itself failed (a thread it needs is gone, a shipped asset is malformed, ids
    /// ran out): not the user's doing, and not a refusal of their input.
    #[error("internal failure: {0}")]
    Internal(String),
    /// Any other SQLite failure, passed through with SQLite's own words.
    #[error("SQLite: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// A child that ran, or runs, on the strength of its parent being finished.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StartedChild {
    /// The child.
    pub id: String,
    /// Its status now.
    pub status: Status,
    /// Whether it was claimed while the parent gated it, whatever its status now (a claim
    /// released or failed leaves it ready or blocked, but it ran).
    pub claimed: bool,
}

fn still_running(id: &str, holder: Option<&str>, claimer: Option<&str>, operation: &str) -> String {
    let cancel = format!(
        "cancel it first (`gateboard cancel {id}` stops its command and blocks the task), then {operation} it"
    );
    match (holder, operation) {
        (None, _) => format!("{id} is running with no claim holder; {cancel}"),
        (Some(holder), "complete") => {
            let not_you = claimer.map(|c| format!(", not {c}")).unwrap_or_default();
            format!(
                "{id} is running under {holder}{not_you}, and only the claim holder may complete it \
                 (`gateboard --claimer {holder} complete {id}`); otherwise {cancel}"
            )
        }
        (Some(holder), _) => format!("{id} is running under {holder}; {cancel}"),
    }
}

fn children_started(id: &str, children: &[StartedChild]) -> String {
    let listed = children
        .iter()
        .map(|c| match c.status {
            Status::Running | Status::Done | Status::Archived => format!("{} ({})", c.id, c.status),
            _ if c.claimed => format!("{} ({}, claimed before)", c.id, c.status),
            _ => format!("{} ({})", c.id, c.status),
        })
        .collect::<Vec<_>>()
        .join(", ");
    let (noun, first) = match children {
        [only] => ("child", only.id.as_str()),
        [first, ..] => ("children", first.id.as_str()),
        [] => ("children", "CHILD"),
    };
    format!(
        "cannot unarchive {id}: {noun} {listed} started while it counted as finished, and a \
         started task cannot wait on an unfinished parent again; unlink first \
         (`gateboard unlink {id} {first}`)"
    )
}

fn list_parents(parents: &[(String, Status)]) -> String {
    parents
        .iter()
        .map(|(id, status)| format!("{id} ({status})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether a rusqlite error is SQLITE_BUSY or SQLITE_LOCKED.
pub(crate) fn sqlite_busy(e: &rusqlite::Error) -> bool {
    matches!(
        e.sqlite_error_code(),
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
    )
}

/// The core's result type.
pub type Result<T, E = BoardError> = std::result::Result<T, E>;
