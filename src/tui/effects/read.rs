//! The board reads the TUI needs, as data, and the thread that carries them out: a read that
//! takes long on a big board (a column's count, the totals over millions of events) then
//! delays only what it fills in, never the keys and redraws.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::thread;

use crate::core::audit::{Violation, audit, claims_before_parent_events_after};
use crate::core::interrupt::Interrupter;
use crate::core::lineage::Lineage;
use crate::core::model::Neighbour;
use crate::core::{
    Board, BoardError, Event, EventKind, Keyed, Needle, OpenOptions, Reader, Status, TaskDetail,
};
use crate::pool::exec::output;
use crate::tui::board_view::{BoardView, PAGED, Page, PageAt, Paging, matches};
use crate::tui::event_log::{self, LogFilter};
use crate::tui::state::RunTail;

/// Events read per look at the log; a larger backlog is read in several looks.
pub const EVENT_PAGE: usize = 5000;
/// Cards a long column holds around its cursor.
pub const WINDOW: usize = 200;
/// Cards an unfinished column (todo, ready…) is held whole up to; a longer one is paged like
/// done, so a queue of millions costs no more memory than a history of millions.
pub const HOLD_AT_MOST: usize = 10_000;
/// Finished tasks a parent picker offers beside the unfinished ones.
pub const FINISHED_CHOICES: usize = 2000;
/// Lines of output shown for the running attempt, and for each finished one.
const LIVE_TAIL_LINES: usize = 12;
const ENDED_TAIL_LINES: usize = 3;
/// Finished runs whose output the detail view shows, newest first.
const ENDED_RUNS_SHOWN: usize = 3;

/// One look at the board the TUI asked for.
#[derive(Clone, Debug, PartialEq)]
pub enum Read {
    /// The events after the cursor `after`, the tasks they name, and the live audit of their
    /// claims.
    Since {
        /// The cursor.
        after: i64,
        /// Which look this is, so the app knows what it covers.
        look: u64,
    },
    /// Every short column whole, and each long column's window read again where it sits.
    Reload {
        /// Each long column's window as the view holds it.
        windows: Vec<(Status, Paging)>,
    },
    /// A window of a long column.
    Page {
        /// The column.
        status: Status,
        /// Only its cards containing this (lowercase).
        filter: String,
        /// Around which row.
        at: PageAt,
        /// Its length and its length without the filter, if the view knows them.
        known: Option<(usize, usize)>,
    },
    /// Where a task is, for `:goto`: the window of its column around it, if that is long.
    Goto(String),
    /// A task's detail view, for the view request `view`.
    Detail {
        /// The task.
        id: String,
        /// The view request it answers.
        view: u64,
    },
    /// A task's ancestors and descendants, for the view request `view`.
    Lineage {
        /// The task.
        id: String,
        /// The view request it answers.
        view: u64,
    },
    /// The parents of `task` a person may unlink.
    Parents {
        /// The child.
        task: String,
        /// The view request it answers.
        view: u64,
    },
    /// The newest finished tasks, offered as parents of `task` beside the unfinished ones.
    Finished {
        /// The child.
        task: String,
        /// The view request it answers.
        view: u64,
    },
    /// The events pane's next page: older than `first`, or newer than `last`, or (with
    /// neither) the newest. The app keeps only those its looks have read up to.
    Events {
        /// Read older than this id.
        first: Option<i64>,
        /// Read newer than this id.
        last: Option<i64>,
        /// The pane's filter.
        filter: LogFilter,
    },
    /// The status bar's totals over the events up to `upto`: `claim_rejected` events and
    /// claims made before a parent finished.
    Totals {
        /// The cursor the live view follows from.
        upto: i64,
    },
    /// The full audit, once a race has ended.
    Audit,
    /// The end of the output of the open detail view's runs, read again while one runs.
    Tails {
        /// The task whose runs they are.
        detail: Box<TaskDetail>,
        /// The view request it answers.
        view: u64,
    },
}

/// What a read found.
#[derive(Clone, Debug, PartialEq)]
pub enum Fetched {
    /// Events after `after`, the tasks they name, and how many of their claims came before a
    /// parent finished.
    Since {
        /// The cursor they follow.
        after: i64,
        /// The look they answer.
        look: u64,
        /// The events, oldest first.
        events: Vec<Event>,
        /// The tasks they name.
        tasks: Vec<Keyed>,
        /// Claims among them made before a parent finished.
        violations: usize,
    },
    /// The board read afresh.
    Reloaded(Box<BoardView>),
    /// A window of a long column.
    Page(Page),
    /// A task `:goto` looked for, if it exists, and its column's window if that is long.
    Goto {
        /// The id asked for.
        id: String,
        /// The task.
        found: Option<Box<Keyed>>,
        /// The window around it.
        page: Option<Page>,
    },
    /// A task's detail view and the end of its runs' output.
    Detail {
        /// The view request it answers.
        view: u64,
        /// The detail.
        detail: Box<TaskDetail>,
        /// The end of its runs' output.
        tails: Vec<RunTail>,
    },
    /// A task's lineage.
    Lineage {
        /// The view request it answers.
        view: u64,
        /// The lineage.
        lineage: Box<Lineage>,
    },
    /// Tasks to offer in a picker about `task`.
    Choices {
        /// The view request it answers.
        view: u64,
        /// The task the picker is about.
        task: String,
        /// Whether these are its parents (to unlink) rather than finished tasks (to link).
        parents: bool,
        /// The tasks.
        offered: Vec<Neighbour>,
    },
    /// The events pane's page.
    Events {
        /// What was asked.
        read: Box<Read>,
        /// The events, oldest first.
        events: Vec<Event>,
    },
    /// The status bar's totals.
    Totals {
        /// `claim_rejected` events up to the cursor.
        rejected: u64,
        /// Claims up to the cursor made before a parent finished.
        violations: usize,
    },
    /// The full audit's findings.
    Audited(usize),
    /// The end of the open detail view's runs' output.
    Tails {
        /// The view request it answers.
        view: u64,
        /// The end of its runs' output.
        tails: Vec<RunTail>,
    },
    /// A read dropped or stopped because nobody wants it any more (a page for a filter since
    /// typed further).
    Superseded(Box<Read>),
    /// A read that failed, and why.
    Failed {
        /// What was asked.
        read: Box<Read>,
        /// One line saying why.
        why: String,
    },
}

impl Read {
    /// Carries the read out on `board`, in one snapshot.
    pub fn perform(self, board: &Board) -> Fetched {
        match board.read(|r| self.perform_in(r)) {
            Ok(fetched) => fetched,
            Err(e) => Fetched::Failed {
                read: Box::new(self),
                why: e.to_string(),
            },
        }
    }

    fn perform_in(&self, r: &Reader<'_>) -> Result<Fetched, BoardError> {
        Ok(match self {
            Read::Since { after, look } => {
                let events = r.events_after(*after, EVENT_PAGE, None)?;
                let mut named = HashSet::new();
                let ids: Vec<String> = events
                    .iter()
                    .filter(|e| named.insert(e.task_id.as_str()))
                    .map(|e| e.task_id.clone())
                    .collect();
                let tasks = r.keyed_tasks_by_ids(&ids)?;
                let claimed = events.iter().any(|e| e.kind == EventKind::Claimed);
                let violations = if claimed {
                    claims_before_parent_events_after(r, *after)?.len()
                } else {
                    0
                };
                Fetched::Since {
                    after: *after,
                    look: *look,
                    events,
                    tasks,
                    violations,
                }
            }
            Read::Reload { windows } => Fetched::Reloaded(Box::new(load_view(r, windows)?)),
            Read::Page {
                status,
                filter,
                at,
                known,
            } => Fetched::Page(read_page(r, status, filter, at, *known)?),
            Read::Goto(id) => {
                let found = r.keyed_tasks_by_ids(std::slice::from_ref(id))?.pop();
                let page = match &found {
                    Some(keyed)
                        if PAGED.contains(&keyed.task.status)
                            || r.column_len(&keyed.task.status, &Needle::ALL)? > HOLD_AT_MOST =>
                    {
                        Some(read_page(
                            r,
                            &keyed.task.status,
                            "",
                            &PageAt::Task(id.clone()),
                            None,
                        )?)
                    }
                    _ => None,
                };
                Fetched::Goto {
                    id: id.clone(),
                    found: found.map(Box::new),
                    page,
                }
            }
            Read::Detail { id, view } => {
                let detail = r.detail(id)?;
                let tails = log_tails(&detail);
                Fetched::Detail {
                    view: *view,
                    detail: Box::new(detail),
                    tails,
                }
            }
            Read::Lineage { id, view } => Fetched::Lineage {
                view: *view,
                lineage: Box::new(r.lineage(id)?),
            },
            Read::Parents { task, view } => Fetched::Choices {
                view: *view,
                task: task.clone(),
                parents: true,
                offered: r.parents(task)?,
            },
            Read::Finished { task, view } => Fetched::Choices {
                view: *view,
                task: task.clone(),
                parents: false,
                offered: r.newest_finished(FINISHED_CHOICES)?,
            },
            Read::Events {
                first,
                last,
                filter,
            } => {
                let kinds = filter.kinds();
                let events = match (first, last) {
                    (Some(first), _) => r.events_before(*first, event_log::PAGE, kinds)?,
                    (None, Some(last)) => {
                        r.events_between(*last, i64::MAX, event_log::PAGE, kinds)?
                    }
                    (None, None) => r.events_before(i64::MAX, event_log::PAGE, kinds)?,
                };
                Fetched::Events {
                    read: Box::new(self.clone()),
                    events,
                }
            }
            Read::Totals { upto } => Fetched::Totals {
                rejected: r.event_count_upto(&EventKind::ClaimRejected, *upto)?,
                // Claims after the cursor are the live audit's: counted once, there.
                violations: claims_before_parent_events_after(r, 0)?
                    .iter()
                    .filter(|v| {
                        matches!(v, Violation::ClaimBeforeParentFinished { claim_event, .. }
                            if claim_event <= upto)
                    })
                    .count(),
            },
            Read::Audit => Fetched::Audited(audit(r)?.len()),
            Read::Tails { detail, view } => Fetched::Tails {
                view: *view,
                tails: log_tails(detail),
            },
        })
    }
}

/// The board as a view holds it: every short column whole, and a window of each long one
/// (done and archived always, any other past `HOLD_AT_MOST` cards) where `windows` says, else
/// at its top.
pub fn load_view(r: &Reader<'_>, windows: &[(Status, Paging)]) -> Result<BoardView, BoardError> {
    let counts: Vec<(Status, usize)> = r
        .counts()?
        .into_iter()
        .map(|(status, n)| (status, usize::try_from(n).unwrap_or(0)))
        .collect();
    let mut whole = Vec::new();
    let mut paged: Vec<(Status, usize)> = PAGED
        .iter()
        .map(|status| {
            let all = counts.iter().find(|(s, _)| s == status).map_or(0, |c| c.1);
            (status.clone(), all)
        })
        .collect();
    for (status, all) in &counts {
        if PAGED.contains(status) {
            continue;
        }
        if *all > HOLD_AT_MOST {
            paged.push((status.clone(), *all));
        } else {
            whole.extend(r.keyed_tasks(status)?);
        }
    }
    let mut pages = Vec::new();
    for (status, all) in paged {
        let (at, filter) = match windows.iter().find(|(s, _)| *s == status) {
            Some((_, paging)) => (paging.first + WINDOW / 2, paging.filter.clone()),
            None => (0, String::new()),
        };
        let known = filter.is_empty().then_some((all, all));
        pages.push(read_page(r, &status, &filter, &PageAt::Row(at), known)?);
    }
    Ok(BoardView::from_board(whole, pages))
}

/// The window of a long column around `at`, under `filter`.
/// How a long column of `all` tasks is filtered by `filter`: in one pass over the table when
/// the column is most of it.
fn matching<'f>(r: &Reader<'_>, filter: &'f str, all: usize) -> Result<Needle<'f>, BoardError> {
    Ok(Needle::new(filter).scanning(!filter.is_empty() && r.most_of_the_table(all)?))
}

/// Rows of a long column's claim order a filter's first page looks along before it takes a
/// pass over the table: a few milliseconds of index, where a pass over a million rows takes
/// a third of a second.
const PROBE: usize = 20 * WINDOW;

/// A filter's first page of a column of `all` tasks that `needle` reads in passes over the
/// table, read with fewer passes than a count and a page would take: common matches fill the
/// page from the start of the claim order (then one pass counts them); rare ones take one pass
/// for the page, and a page short of a window is their count.
fn first_filtered_page(
    r: &Reader<'_>,
    status: &Status,
    filter: &str,
    all: usize,
    needle: &Needle<'_>,
) -> Result<Page, BoardError> {
    let probed = r.column_page_probe(status, &Needle::new(filter), WINDOW, PROBE)?;
    let (cards, len) = if probed.len() == WINDOW {
        let len = r.column_len(status, needle)?;
        (probed, len)
    } else {
        let cards = r.column_page(status, needle, 0, WINDOW)?;
        let len = if cards.len() < WINDOW {
            cards.len()
        } else {
            r.column_len(status, needle)?
        };
        (cards, len)
    };
    Ok(Page {
        status: status.clone(),
        cards,
        paging: Paging {
            len,
            all,
            first: 0,
            filter: filter.to_owned(),
        },
    })
}

fn read_page(
    r: &Reader<'_>,
    status: &Status,
    filter: &str,
    at: &PageAt,
    known: Option<(usize, usize)>,
) -> Result<Page, BoardError> {
    let mut all = match known {
        Some((_, all)) => all,
        None => r.column_len(status, &Needle::ALL)?,
    };
    let needle = matching(r, filter, all)?;
    // The task the page is read around, if the column under the filter holds it; else a row.
    let (around, row) = match at {
        PageAt::Row(row) => (None, *row),
        PageAt::Task(id) => {
            let found = r.keyed_tasks_by_ids(std::slice::from_ref(id))?.pop();
            (
                found.filter(|k| k.task.status == *status && matches(&k.task, filter)),
                0,
            )
        }
    };
    if known.is_none() && needle.scans() && around.is_none() && row <= WINDOW / 2 {
        return first_filtered_page(r, status, filter, all, &needle);
    }
    let mut len = match known {
        Some((len, _)) => len,
        None if filter.is_empty() => all,
        None => r.column_len(status, &needle)?,
    };
    let row = match &around {
        Some(keyed) => r.column_row(keyed, &needle)?,
        None => row,
    };
    let mut first = row
        .saturating_sub(WINDOW / 2)
        .min(len.saturating_sub(WINDOW));
    // Where matches are common, walking the claim-order index reaches the page long before a
    // pass over the table would end: about (first + WINDOW) * all / len rows, under a quarter
    // of the column.
    let page_needle = if (first + WINDOW).saturating_mul(4) < len {
        Needle::new(filter)
    } else {
        needle
    };
    let mut cards = r.column_page(status, &page_needle, first, WINDOW)?;
    if cards.is_empty() && first > 0 {
        // The column shrank past the window since it was counted: count it again.
        all = r.column_len(status, &Needle::ALL)?;
        len = if filter.is_empty() {
            all
        } else {
            r.column_len(status, &needle)?
        };
        first = len.saturating_sub(WINDOW);
        cards = r.column_page(status, &needle, first, WINDOW)?;
    }
    if cards.len() < WINDOW {
        // A short page ends the column: its length is known exactly.
        let end = first + cards.len();
        if filter.is_empty() {
            all = end;
        }
        len = end;
    }
    Ok(Page {
        status: status.clone(),
        cards,
        paging: Paging {
            len,
            all,
            first,
            filter: filter.to_owned(),
        },
    })
}

/// The end of the output of a task's runs: the open run's live, the newest finished ones'
/// last lines. Logs are files beside the board, read here without touching the board file.
pub fn log_tails(detail: &TaskDetail) -> Vec<RunTail> {
    let mut tails = Vec::new();
    let mut ended = 0;
    for run in detail.runs.iter().rev() {
        let Some(log) = &run.log else { continue };
        let live = run.ended_at.is_none();
        if !live {
            if ended == ENDED_RUNS_SHOWN {
                break;
            }
            ended += 1;
        }
        let keep = if live {
            LIVE_TAIL_LINES
        } else {
            ENDED_TAIL_LINES
        };
        let lines = output::tail_lines(Path::new(log), keep).unwrap_or_default();
        tails.push(RunTail {
            run_id: run.id,
            live,
            lines,
        });
    }
    tails
}

/// Two threads, each with a connection of its own, that carry out reads in the order asked
/// and report each outcome: one for the quick reads a screen waits on, one for the reads over
/// the whole board (the totals, the audit, a filter over a long column), so seconds of
/// counting never hold up a key or another process's change.
pub struct BoardReader {
    quick: mpsc::Sender<Read>,
    whole_board: mpsc::Sender<Read>,
    thread: thread::JoinHandle<()>,
    /// What the whole-board thread runs now, and how to stop it.
    running: Arc<Running>,
}

/// The read a thread runs now, the filter each long column wants now, and how to stop the
/// read: a filter typed further makes the count for the one before it worthless.
struct Running {
    read: Mutex<Option<Read>>,
    filters: Mutex<HashMap<Status, String>>,
    /// Set when the running read was stopped on purpose.
    stopped: AtomicBool,
    interrupter: Interrupter,
}

impl Running {
    /// Whether `read` is a page for a filter its column no longer wants.
    fn unwanted(&self, read: &Read) -> bool {
        let Read::Page { status, filter, .. } = read else {
            return false;
        };
        self.filters
            .lock()
            .is_ok_and(|filters| filters.get(status).is_some_and(|wanted| wanted != filter))
    }
}

impl Read {
    /// Whether the read goes over the whole board, or a whole long column (a filter's count
    /// looks at every title), however long it is.
    fn is_whole_board(&self) -> bool {
        matches!(
            self,
            Read::Totals { .. } | Read::Audit | Read::Goto(_) | Read::Page { known: None, .. }
        )
    }
}

impl BoardReader {
    /// Opens two connections to the board and starts the threads; `done` hears every outcome.
    pub fn start(
        path: &Path,
        open: &OpenOptions,
        done: impl Fn(Fetched) + Send + Sync + 'static,
    ) -> Result<BoardReader, BoardError> {
        let done = Arc::new(done);
        let quick_board = Board::open(path, open)?;
        let (quick, thread) = lane(path, "gateboard-tui-reader", done.clone(), move |read| {
            read.perform(&quick_board)
        })?;
        let board = Board::open(path, open)?;
        let running = Arc::new(Running {
            read: Mutex::new(None),
            filters: Mutex::new(HashMap::new()),
            stopped: AtomicBool::new(false),
            interrupter: board.interrupter(),
        });
        let watched = running.clone();
        // Not joined on close: a count over millions of events may still run, and it has
        // nothing to finish; the process's exit ends it.
        let (whole_board, _) = lane(path, "gateboard-tui-counter", done, move |read| {
            if watched.unwanted(&read) {
                return Fetched::Superseded(Box::new(read));
            }
            if let Ok(mut running) = watched.read.lock() {
                *running = Some(read.clone());
            }
            let fetched = read.clone().perform(&board);
            if let Ok(mut running) = watched.read.lock() {
                *running = None;
            }
            match fetched {
                Fetched::Failed { .. } if watched.stopped.swap(false, Ordering::SeqCst) => {
                    Fetched::Superseded(Box::new(read))
                }
                fetched => {
                    watched.stopped.store(false, Ordering::SeqCst);
                    fetched
                }
            }
        })?;
        Ok(BoardReader {
            quick,
            whole_board,
            thread,
            running,
        })
    }

    /// Queues a read; gives it back if its thread is gone.
    pub fn send(&self, read: Read) -> Result<(), Read> {
        let lane = if read.is_whole_board() {
            &self.whole_board
        } else {
            &self.quick
        };
        lane.send(read).map_err(|unsent| unsent.0)
    }

    /// Says which filter a long column wants now: a page read for another, queued or
    /// running, is dropped or stopped and comes back as `Fetched::Superseded`.
    pub fn want_filter(&self, status: &Status, filter: &str) {
        if let Ok(mut filters) = self.running.filters.lock() {
            filters.insert(status.clone(), filter.to_owned());
        }
        // Held while stopping, so the thread cannot move on to another read meanwhile.
        if let Ok(running) = self.running.read.lock()
            && running
                .as_ref()
                .is_some_and(|read| self.running.unwanted(read))
        {
            self.running.stopped.store(true, Ordering::SeqCst);
            self.running.interrupter.interrupt();
        }
    }

    /// Drops the reads not started and closes the quick reads' connection once the current
    /// one ends.
    pub fn close(self) {
        drop(self.quick);
        drop(self.whole_board);
        let _ = self.thread.join();
    }
}

/// One thread carrying out reads with `perform`, one after another.
fn lane(
    path: &Path,
    name: &str,
    done: Arc<impl Fn(Fetched) + Send + Sync + 'static>,
    perform: impl Fn(Read) -> Fetched + Send + 'static,
) -> Result<(mpsc::Sender<Read>, thread::JoinHandle<()>), BoardError> {
    let (jobs, inbox) = mpsc::channel::<Read>();
    let thread = thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            for job in inbox {
                done(perform(job));
            }
        })
        .map_err(|source| BoardError::Io {
            path: path.to_path_buf(),
            source,
        })?;
    Ok((jobs, thread))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(known: Option<(usize, usize)>) -> Read {
        Read::Page {
            status: Status::Done,
            filter: "x".into(),
            at: PageAt::Row(0),
            known,
        }
    }

    #[test]
    fn reads_that_count_a_whole_column_or_board_go_to_their_own_thread() {
        assert!(page(None).is_whole_board(), "a filter's count");
        assert!(Read::Totals { upto: 1 }.is_whole_board());
        assert!(Read::Goto("t_1".into()).is_whole_board(), "a task's row");
        assert!(
            !page(Some((1, 1))).is_whole_board(),
            "the next page, counted already"
        );
        assert!(!Read::Since { after: 0, look: 1 }.is_whole_board());
    }
}
