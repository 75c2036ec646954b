//! Reading a column too long to hold: a page of it, its length and a task's row, all in the
//! claim order the whole column is listed in; and a long-lived board written in bulk.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use gateboard::core::audit::audit;
use gateboard::core::history::{History, write_history};
use gateboard::core::{EventKind, Needle, NewTask, Status};

/// Thirty done tasks of three priorities, made in one second (so rowid breaks the ties),
/// finished in another order than they were made, and three still ready.
fn board() -> common::TempBoard {
    let board = common::TempBoard::new();
    board
        .open()
        .write_at(1_795_000_000, |t| {
            let ids: Vec<String> = (0..33)
                .map(|i| {
                    t.create(&NewTask {
                        title: format!("Task {i}"),
                        priority: i % 3,
                        ..NewTask::default()
                    })
                })
                .collect::<Result<_, _>>()?;
            for id in ids.iter().take(30).rev() {
                t.complete(id, None, None)?;
            }
            Ok(())
        })
        .expect("seed");
    board
}

/// A board of ready tasks with these titles.
fn ready_titled(titles: &[&str]) -> common::TempBoard {
    let board = common::TempBoard::new();
    board
        .open()
        .write(|t| {
            for title in titles {
                t.create(&NewTask {
                    title: (*title).into(),
                    ..NewTask::default()
                })?;
            }
            Ok(())
        })
        .expect("seed");
    board
}

fn ids_of(board: &common::TempBoard, status: &Status) -> Vec<String> {
    board
        .open()
        .read(|r| r.tasks(Some(status)))
        .expect("tasks")
        .into_iter()
        .map(|t| t.id)
        .collect()
}

#[test]
fn pages_of_a_column_put_together_are_the_column_in_claim_order() {
    let board = board();
    let whole = ids_of(&board, &Status::Done);
    let paged: Vec<String> = (0..5)
        .flat_map(|page| {
            board
                .open()
                .read(|r| r.column_page(&Status::Done, &Needle::ALL, page * 7, 7))
                .expect("page")
        })
        .map(|k| k.task.id)
        .collect();
    assert_eq!(paged, whole);
}

#[test]
fn a_task_s_row_is_its_place_in_the_column() {
    let board = board();
    let whole = ids_of(&board, &Status::Done);
    let conn = board.open();
    for (row, id) in whole.iter().enumerate() {
        let keyed = conn
            .read(|r| r.keyed_tasks_by_ids(std::slice::from_ref(id)))
            .expect("task")
            .pop()
            .expect("it exists");
        assert_eq!(
            conn.read(|r| r.column_row(&keyed, &Needle::ALL))
                .expect("row"),
            row
        );
    }
}

#[test]
fn a_filtered_column_counts_and_pages_only_its_matching_tasks_ignoring_case() {
    let board = board();
    let conn = board.open();
    // "Task 1", "Task 10".."Task 19": eleven titles.
    assert_eq!(
        conn.read(|r| r.column_len(&Status::Done, &Needle::new("task 1")))
            .expect("len"),
        11
    );
    assert_eq!(
        conn.read(|r| r.column_len(&Status::Done, &Needle::ALL))
            .expect("len"),
        30
    );
    let page = conn
        .read(|r| r.column_page(&Status::Done, &Needle::new("task 1"), 0, 100))
        .expect("page");
    assert_eq!(page.len(), 11);
    assert!(page.iter().all(|k| k.task.title.starts_with("Task 1")));
}

#[test]
fn the_newest_finished_tasks_come_newest_first() {
    let board = board();
    let newest = board.open().read(|r| r.newest_finished(3)).expect("newest");
    let titles: Vec<&str> = newest.iter().map(|n| n.title.as_str()).collect();
    assert_eq!(titles, ["Task 29", "Task 28", "Task 27"]);
}

#[test]
fn a_long_lived_board_written_in_bulk_holds_what_was_asked_and_audits_clean() {
    let board = common::TempBoard::new();
    let history = History {
        finished: 2500,
        active: 9,
        events_per_task: 10,
        since: 1_790_000_000,
    };
    write_history(&mut board.open(), &history).expect("history");
    let conn = board.open();
    let counts = conn.read(|r| r.counts()).expect("counts");
    let count = |status: Status| {
        counts
            .iter()
            .find(|(s, _)| *s == status)
            .map_or(0, |(_, n)| *n)
    };
    assert_eq!(count(Status::Done), 2500);
    assert_eq!(
        count(Status::Todo) + count(Status::Ready) + count(Status::Blocked),
        9
    );
    let events = conn.read(|r| r.last_event_id()).expect("events");
    assert_eq!(
        events,
        2500 * 10 + 9 + 3,
        "ten per finished task, one per queued, a block each"
    );
    assert_eq!(
        conn.read(|r| r.event_count(&EventKind::ClaimRejected))
            .expect("rejected"),
        3
    );
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

#[test]
fn a_filter_read_by_a_pass_over_the_table_answers_as_the_index_does() {
    let board = board();
    let conn = board.open();
    for text in ["task 1", "TASK 2", "t_", "9"] {
        for status in [Status::Done, Status::Ready] {
            let (indexed, scanned) = (Needle::new(text), Needle::new(text).scanning(true));
            let read = |needle: Needle<'_>| {
                conn.read(|r| {
                    let len = r.column_len(&status, &needle)?;
                    let page = r.column_page(&status, &needle, 2, 5)?;
                    let rows = page
                        .iter()
                        .map(|k| r.column_row(k, &needle))
                        .collect::<Result<Vec<_>, _>>()?;
                    Ok((len, page, rows))
                })
                .expect("read")
            };
            let (len, page, rows) = read(scanned);
            assert_eq!((len, page.clone(), rows.clone()), read(indexed), "{text:?}");
            assert_eq!(rows, (2..2 + page.len()).collect::<Vec<_>>());
        }
    }
}

#[test]
fn a_filter_takes_like_s_wildcards_literally() {
    let board = ready_titled(&["100% done", "100 done", "a_b", "axb", r"back\slash"]);
    let conn = board.open();
    let count = |text: &str| {
        conn.read(|r| r.column_len(&Status::Ready, &Needle::new(text).scanning(true)))
            .expect("len")
    };
    assert_eq!(count("0%"), 1, "% is a percent sign");
    assert_eq!(count("a_b"), 1, "_ is an underscore");
    assert_eq!(count(r"k\s"), 1, "a backslash is itself");
}

#[test]
fn a_column_is_read_by_a_pass_only_when_it_is_most_of_the_table() {
    let board = board();
    let conn = board.open();
    // 33 tasks: 30 done, 3 ready.
    assert!(conn.read(|r| r.most_of_the_table(30)).expect("done"));
    assert!(!conn.read(|r| r.most_of_the_table(3)).expect("ready"));
    assert!(!conn.read(|r| r.most_of_the_table(0)).expect("empty"));
}

#[test]
fn a_read_stopped_at_any_moment_leaves_its_connection_usable() {
    let board = board();
    let conn = board.open();
    let interrupter = conn.interrupter();
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let hammer = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                interrupter.interrupt();
            }
        })
    };
    // Some of these are stopped, at their statements or at their COMMIT; none may leave the
    // connection inside a transaction, where every later read would be refused.
    let mut stopped = 0;
    for _ in 0..5_000 {
        match conn.read(|r| r.column_len(&Status::Done, &Needle::ALL)) {
            Ok(len) => assert_eq!(len, 30),
            Err(e) => {
                assert!(
                    !e.to_string().contains("within a transaction"),
                    "left inside a transaction: {e}"
                );
                stopped += 1;
            }
        }
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    hammer.join().expect("hammer");
    assert!(stopped > 0, "the interrupts reached some reads");
    assert_eq!(
        conn.read(|r| r.column_len(&Status::Done, &Needle::ALL))
            .expect("a read after them all"),
        30
    );
}

#[test]
fn a_filter_of_other_scripts_ignores_their_case_as_the_cards_held_in_memory_do() {
    let board = ready_titled(&["Ärger ready", "ÄRGER loud", "arger", "Ωmega"]);
    let conn = board.open();
    for scan in [false, true] {
        let count = |text: &str| {
            conn.read(|r| r.column_len(&Status::Ready, &Needle::new(text).scanning(scan)))
                .expect("len")
        };
        assert_eq!(count("ärger"), 2, "scan {scan}");
        assert_eq!(count("ÄrGeR"), 2, "scan {scan}");
        assert_eq!(count("ωme"), 1, "scan {scan}");
    }
    let page = conn
        .read(|r| r.column_page(&Status::Ready, &Needle::new("ärger"), 0, 10))
        .expect("page");
    assert!(
        page.iter()
            .all(|k| gateboard::tui::board_view::matches(&k.task, "ärger")),
        "the page holds what the TUI's own matcher takes"
    );
    assert_eq!(page.len(), 2);
}
