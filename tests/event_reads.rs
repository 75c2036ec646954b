//! Reading the event log a page at a time by event id, as a scrolling view does.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use gateboard::core::{Event, EventKind, NewTask};

/// A board whose events are, by id: 1-10 `created`, 11 `blocked`, 12-21 `created`.
fn board() -> common::TempBoard {
    let board = common::TempBoard::new();
    board
        .open()
        .write(|t| {
            let mut ids = Vec::new();
            for i in 0..20 {
                ids.push(t.create(&NewTask {
                    title: format!("task {i}"),
                    ..NewTask::default()
                })?);
                if i == 9 {
                    t.block(&ids[0], "held")?;
                }
            }
            Ok(())
        })
        .expect("seed");
    board
}

fn ids(events: &[Event]) -> Vec<i64> {
    events.iter().map(|e| e.id).collect()
}

#[test]
fn events_before_is_the_newest_page_below_an_id_oldest_first() {
    let board = board();
    let page = board
        .open()
        .read(|r| r.events_before(15, 4, &[]))
        .expect("read");
    assert_eq!(ids(&page), [11, 12, 13, 14]);
    let all = board
        .open()
        .read(|r| r.events_before(i64::MAX, 100, &[]))
        .expect("read");
    assert_eq!(ids(&all), (1..=21).collect::<Vec<_>>());
}

#[test]
fn events_between_is_the_oldest_page_of_a_range() {
    let board = board();
    let page = board
        .open()
        .read(|r| r.events_between(5, 21, 4, &[]))
        .expect("read");
    assert_eq!(ids(&page), [6, 7, 8, 9]);
    let rest = board
        .open()
        .read(|r| r.events_between(18, 21, 100, &[]))
        .expect("read");
    assert_eq!(ids(&rest), [19, 20], "the upper bound is left out");
}

#[test]
fn a_page_can_hold_only_some_kinds() {
    let board = board();
    let reader = board.open();
    let blocked = reader
        .read(|r| r.events_before(i64::MAX, 100, &[EventKind::Blocked]))
        .expect("read");
    assert_eq!(ids(&blocked), [11]);
    let both = reader
        .read(|r| r.events_between(9, 13, 100, &[EventKind::Blocked, EventKind::Created]))
        .expect("read");
    assert_eq!(ids(&both), [10, 11, 12]);
}

#[test]
fn event_count_counts_the_events_of_one_kind() {
    let board = board();
    let reader = board.open();
    assert_eq!(
        reader
            .read(|r| r.event_count(&EventKind::Created))
            .expect("count"),
        20
    );
    assert_eq!(
        reader
            .read(|r| r.event_count(&EventKind::Blocked))
            .expect("count"),
        1
    );
    assert_eq!(
        reader
            .read(|r| r.event_count(&EventKind::ClaimRejected))
            .expect("count"),
        0
    );
}
