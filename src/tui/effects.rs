//! The board writes a key asks for, as data, and the thread that carries them out: another
//! writer holding the board's lock (an import, a Hermes process, a busy pool) then delays only
//! the write, never the keys and redraws around it. The reads, likewise, are in `read`.

use std::path::Path;
use std::sync::mpsc;
use std::thread;

/// The board reads the TUI asks for, and the threads that carry them out.
pub mod read;

use crate::core::{Board, BoardError, NewTask, OpenOptions, Status};

/// Who a cancel from the TUI is recorded as.
const CANCELLED_BY: &str = "gateboard tui";

/// One change to the board a person asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Write {
    /// Back to the queue, re-gated.
    Unblock(String),
    /// An archived task back to the queue, re-gated.
    Unarchive(String),
    /// Stop a running task's command; the task is blocked.
    Cancel(String),
    /// Done by hand.
    Complete(String),
    /// Off the board, counted as finished.
    Archive(String),
    /// Out of the queue until a person unblocks it.
    Block {
        /// The task.
        task: String,
        /// Why, in the person's words.
        reason: String,
    },
    /// `child` waits for `parent`.
    Link {
        /// The task waited for.
        parent: String,
        /// The task that waits.
        child: String,
    },
    /// `child` no longer waits for `parent`.
    Unlink {
        /// The task waited for.
        parent: String,
        /// The task that waited.
        child: String,
    },
    /// A comment on a task.
    Comment {
        /// The task.
        task: String,
        /// Who wrote it.
        author: String,
        /// What it says.
        text: String,
    },
    /// A new task.
    Create {
        /// Its title.
        title: String,
        /// The task it waits for, if any.
        parent: Option<String>,
    },
}

/// What a write did, for the status line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Written {
    /// One line saying so.
    pub message: String,
    /// A task to put the cursor on (the one just created).
    pub select: Option<String>,
}

impl Write {
    /// What the status line says while the write waits for the board.
    pub fn pending(&self) -> String {
        match self {
            Write::Unblock(id) => format!("unblocking {id}…"),
            Write::Unarchive(id) => format!("unarchiving {id}…"),
            Write::Cancel(id) => format!("cancelling {id}…"),
            Write::Complete(id) => format!("completing {id}…"),
            Write::Archive(id) => format!("archiving {id}…"),
            Write::Block { task, .. } => format!("blocking {task}…"),
            Write::Link { child, .. } => format!("linking {child}…"),
            Write::Unlink { child, .. } => format!("unlinking {child}…"),
            Write::Comment { task, .. } => format!("commenting on {task}…"),
            Write::Create { .. } => "creating the task…".to_owned(),
        }
    }

    /// Carries the write out on `board`.
    pub fn perform(&self, board: &mut Board) -> Result<Written, BoardError> {
        let said = |message: String| Written {
            message,
            select: None,
        };
        Ok(match self {
            Write::Unblock(id) => {
                let status = board.write(|t| t.unblock(id))?;
                said(format!("{id} unblocked: now {status}"))
            }
            Write::Unarchive(id) => {
                let back = board.write(|t| t.unarchive(id))?;
                said(match back.demoted.len() {
                    0 => format!("{id} unarchived: now {}", back.status),
                    n => format!(
                        "{id} unarchived: now {}; {n} waiting children back to todo",
                        back.status
                    ),
                })
            }
            Write::Cancel(id) => {
                board.write(|t| t.cancel(id, CANCELLED_BY))?;
                said(format!(
                    "{id} cancelled: its command is being stopped; u puts it back in the queue"
                ))
            }
            Write::Complete(id) => {
                let done = board.write(|t| t.complete(id, None, Some("completed by hand")))?;
                said(format!("{id} done; promoted {}", done.promoted.len()))
            }
            Write::Archive(id) => {
                let done = board.write(|t| t.archive(id))?;
                said(format!("{id} archived; promoted {}", done.promoted.len()))
            }
            Write::Block { task, reason } => {
                board.write(|t| t.block(task, reason))?;
                said(format!("{task} blocked"))
            }
            Write::Link { parent, child } => {
                let linked = board.write(|t| t.link(parent, child))?;
                said(if linked {
                    format!("{child} now waits for {parent}")
                } else {
                    format!("{child} already waits for {parent}")
                })
            }
            Write::Unlink { parent, child } => {
                board.write(|t| t.unlink(parent, child))?;
                said(format!("{child} no longer waits for {parent}"))
            }
            Write::Comment { task, author, text } => {
                board.write(|t| t.comment(task, author, text))?;
                said(format!("comment added to {task}"))
            }
            Write::Create { title, parent } => {
                let (id, status) = board.write(|t| {
                    let id = t.create(&NewTask {
                        title: title.clone(),
                        parents: parent.iter().cloned().collect(),
                        created_by: Some("gateboard tui".into()),
                        ..NewTask::default()
                    })?;
                    let status = t.task(&id)?.status;
                    Ok((id, status))
                })?;
                Written {
                    message: match parent {
                        // A finished parent holds nothing back: the child is ready at once.
                        Some(parent) if status == Status::Ready => {
                            format!("created {id}, ready: its parent {parent} is finished")
                        }
                        Some(parent) => format!("created {id}, waiting for {parent}"),
                        None => format!("created {id}"),
                    },
                    select: Some(id),
                }
            }
        })
    }
}

/// A thread with a connection of its own that carries out writes one after another and
/// reports each outcome.
pub struct BoardWriter {
    jobs: mpsc::Sender<Write>,
    thread: thread::JoinHandle<()>,
}

impl BoardWriter {
    /// Opens a connection to the board and starts the thread; `done` hears every outcome.
    pub fn start(
        path: &Path,
        open: &OpenOptions,
        done: impl Fn(Result<Written, String>) + Send + 'static,
    ) -> Result<BoardWriter, BoardError> {
        let mut board = Board::open(path, open)?;
        let (jobs, inbox) = mpsc::channel::<Write>();
        let thread = thread::Builder::new()
            .name("gateboard-tui-writer".into())
            .spawn(move || {
                for job in inbox {
                    done(job.perform(&mut board).map_err(|e| e.to_string()));
                }
            })
            .map_err(|source| BoardError::Io {
                path: path.to_path_buf(),
                source,
            })?;
        Ok(BoardWriter { jobs, thread })
    }

    /// Queues a write; false if the thread is gone.
    pub fn send(&self, write: Write) -> bool {
        self.jobs.send(write).is_ok()
    }

    /// Waits for the queued writes and closes the connection.
    pub fn close(self) {
        drop(self.jobs);
        // The thread holds only its connection; a panic there has been reported already.
        let _ = self.thread.join();
    }
}
