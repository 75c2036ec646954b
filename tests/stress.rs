//! The seed's stress scenario, ported: a racy creator inserts children as ready and links
//! them a moment later, while four claimers on their own connections hammer the gate.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use gateboard::core::audit::{audit, claims_before_parent_events, claims_before_parent_timestamps};
use gateboard::core::ops::{ClaimOutcome, Claimer};
use gateboard::core::{Board, BoardError, EventKind, NewTask, Status};

const PARENTS: usize = 10;
const ROUNDS: usize = 200;
const CLAIMERS: usize = 4;
const WORKERS_MAX: Duration = Duration::from_secs(20);

struct Outcome {
    children: usize,
    claims: usize,
    violations: Vec<String>,
}

/// Runs the race; `buggy` makes the creator force children back to ready after linking,
/// as a writer without the gate would, so the claim gate has to fire.
fn race(buggy: bool) -> (common::TempBoard, Outcome) {
    let board = common::TempBoard::new();
    let mut setup = board.open();
    let parents: Vec<String> = (0..PARENTS)
        .map(|i| {
            setup
                .write(|t| {
                    t.create(&NewTask {
                        title: format!("parent-{i}"),
                        assignee: Some("a".into()),
                        ..NewTask::default()
                    })
                })
                .expect("create parent")
        })
        .collect();
    // The parents stay unfinished for the whole run: a holder claims them and never completes,
    // so every child linked to one must stay unclaimable.
    let holder = Claimer {
        lock: "parent-holder".into(),
        ttl: Duration::from_secs(3600),
    };
    for parent in &parents {
        let claimed = setup
            .write(|t| t.claim(parent, &holder))
            .expect("hold parent");
        assert!(matches!(claimed, ClaimOutcome::Claimed(_)));
    }
    // A raw connection stands in for the buggy writer; gateboard itself never writes this.
    let raw = buggy.then(|| rusqlite::Connection::open(&board.path).expect("raw connection"));
    if let Some(raw) = &raw {
        raw.busy_timeout(Duration::from_secs(30)).expect("timeout");
    }

    let stop = Arc::new(AtomicBool::new(false));
    let claims = Arc::new(AtomicUsize::new(0));
    let violations = Arc::new(Mutex::new(Vec::new()));
    let workers: Vec<_> = (0..CLAIMERS)
        .map(|w| {
            let path = board.path.clone();
            let (stop, claims, violations) = (stop.clone(), claims.clone(), violations.clone());
            thread::spawn(move || {
                let mut conn = common::open(&path);
                let claimer = Claimer {
                    lock: format!("w{w}"),
                    ttl: Duration::from_secs(60),
                };
                let end = Instant::now() + WORKERS_MAX;
                while Instant::now() < end && !stop.load(Ordering::Relaxed) {
                    claim_one(&mut conn, &claimer, &claims, &violations);
                }
            })
        })
        .collect();

    let mut creator = board.open();
    let mut children = 0;
    for _ in 0..ROUNDS {
        let child = creator
            .write(|t| {
                t.create(&NewTask {
                    title: "child".into(),
                    assignee: Some("a".into()),
                    ..NewTask::default()
                })
            })
            .expect("create child");
        thread::sleep(Duration::from_micros(fastrand::u64(100..2000)));
        let a = fastrand::usize(0..PARENTS);
        let b = (a + 1 + fastrand::usize(0..PARENTS - 1)) % PARENTS;
        for parent in [&parents[a], &parents[b]] {
            match creator.write(|t| t.link(parent, &child)) {
                Ok(_) | Err(BoardError::ChildStarted { .. }) => {}
                Err(e) => panic!("unexpected link failure: {e}"),
            }
        }
        if let Some(raw) = &raw {
            raw.execute(
                "UPDATE tasks SET status = 'ready' WHERE id = ?1 AND status = 'todo'",
                [&child],
            )
            .expect("buggy write");
        }
        children += 1;
    }
    thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.join().expect("claimer thread");
    }
    let violations = violations.lock().map(|v| v.clone()).unwrap_or_default();
    (
        board,
        Outcome {
            children,
            claims: claims.load(Ordering::Relaxed),
            violations,
        },
    )
}

/// One pass of the seed's worker loop: pick a random ready task, claim it, check, complete.
fn claim_one(
    conn: &mut Board,
    claimer: &Claimer,
    claims: &AtomicUsize,
    violations: &Mutex<Vec<String>>,
) {
    let ready = conn
        .read(|r| r.tasks(Some(&Status::Ready)))
        .expect("read ready");
    if ready.is_empty() {
        thread::sleep(Duration::from_millis(2));
        return;
    }
    let id = ready[fastrand::usize(0..ready.len())].id.clone();
    let outcome = match conn.write(|t| t.claim(&id, claimer)) {
        Ok(outcome) => outcome,
        Err(BoardError::WrongStatus { .. }) => return, // another claimer or a link got there first
        Err(e) => panic!("unexpected claim failure: {e}"),
    };
    let ClaimOutcome::Claimed(_) = outcome else {
        return;
    };
    claims.fetch_add(1, Ordering::Relaxed);
    let undone = conn
        .read(|r| r.unfinished_parents(&id))
        .expect("read parents");
    if !undone.is_empty()
        && let Ok(mut v) = violations.lock()
    {
        v.push(format!("claimed {id} while parents not done: {undone:?}"));
    }
    conn.write(|t| t.complete(&id, Some(&claimer.lock), Some("stress-ok")))
        .expect("complete own claim");
}

fn count_events(board: &Board, kind: EventKind) -> usize {
    board
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events")
        .iter()
        .filter(|e| e.kind == kind)
        .count()
}

#[test]
fn parent_gate_holds_under_the_create_then_link_race() {
    let (board, outcome) = race(false);
    let conn = board.open();
    assert_eq!(outcome.children, ROUNDS);
    assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
    let by_order = conn
        .read(claims_before_parent_events)
        .expect("event-order audit");
    let by_time = conn
        .read(claims_before_parent_timestamps)
        .expect("seed audit");
    assert!(by_order.is_empty(), "{by_order:?}");
    assert!(by_time.is_empty(), "{by_time:?}");
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
    // The parents never finish, so every claim was of a child that won the race against its
    // link, and every such child's link was then refused.
    let done = conn.read(|r| r.tasks(Some(&Status::Done))).expect("done");
    assert_eq!(done.len(), outcome.claims);
    for task in done {
        assert!(
            conn.read(|r| r.parents(&task.id))
                .expect("parents")
                .is_empty()
        );
    }
}

#[test]
fn gate_rejects_children_a_buggy_writer_marks_ready() {
    let (board, outcome) = race(true);
    let conn = board.open();
    assert!(outcome.violations.is_empty(), "{:?}", outcome.violations);
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
    assert!(
        count_events(&conn, EventKind::ClaimRejected) > 0,
        "the buggy writer should have made the gate fire"
    );
}
