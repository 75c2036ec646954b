//! Random sequences of operations from several connections: every invariant of the audit
//! holds after every step, and gateboard's own checks always fire before the guard triggers.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use gateboard::core::audit::audit;
use gateboard::core::ops::Claimer;
use gateboard::core::{Board, BoardError, NewTask, now_epoch};
use proptest::prelude::*;

const CONNECTIONS: usize = 3;

/// One step; task numbers index the tasks created so far (modulo their count).
#[derive(Clone, Debug)]
enum Step {
    Create {
        parents: Vec<usize>,
    },
    Link {
        parent: usize,
        child: usize,
    },
    Unlink {
        parent: usize,
        child: usize,
    },
    Claim {
        task: usize,
    },
    ClaimNext,
    Complete {
        task: usize,
        as_holder: bool,
    },
    Heartbeat {
        task: usize,
    },
    Block {
        task: usize,
    },
    Unblock {
        task: usize,
    },
    Archive {
        task: usize,
    },
    Unarchive {
        task: usize,
    },
    ReclaimLater,
    Release {
        task: usize,
    },
    /// A writer without the gate marks a task ready whatever its parents.
    ForeignMarkReady {
        task: usize,
    },
}

fn step() -> impl Strategy<Value = (usize, Step)> {
    let n = 0usize..64;
    let op = prop_oneof![
        3 => prop::collection::vec(n.clone(), 0..3).prop_map(|parents| Step::Create { parents }),
        2 => (n.clone(), n.clone()).prop_map(|(parent, child)| Step::Link { parent, child }),
        1 => (n.clone(), n.clone()).prop_map(|(parent, child)| Step::Unlink { parent, child }),
        2 => n.clone().prop_map(|task| Step::Claim { task }),
        2 => Just(Step::ClaimNext),
        3 => (n.clone(), any::<bool>()).prop_map(|(task, as_holder)| Step::Complete { task, as_holder }),
        1 => n.clone().prop_map(|task| Step::Heartbeat { task }),
        1 => n.clone().prop_map(|task| Step::Block { task }),
        1 => n.clone().prop_map(|task| Step::Unblock { task }),
        1 => n.clone().prop_map(|task| Step::Archive { task }),
        1 => n.clone().prop_map(|task| Step::Unarchive { task }),
        1 => Just(Step::ReclaimLater),
        1 => n.clone().prop_map(|task| Step::Release { task }),
        1 => n.prop_map(|task| Step::ForeignMarkReady { task }),
    ];
    (0..CONNECTIONS, op)
}

fn claimer(conn: usize) -> Claimer {
    Claimer {
        lock: format!("conn-{conn}"),
        ttl: Duration::from_secs(60),
    }
}

/// Applies one step; refusals are expected, but never an SQLite error or a trigger firing.
fn apply(
    board: &mut Board,
    raw: &rusqlite::Connection,
    conn: usize,
    step: &Step,
    ids: &mut Vec<String>,
) -> Result<(), TestCaseError> {
    let pick = |i: usize| ids.get(i % ids.len().max(1)).cloned().unwrap_or_default();
    let me = claimer(conn);
    let outcome: Result<(), BoardError> = match step {
        Step::Create { parents } => {
            let parents = if ids.is_empty() {
                Vec::new()
            } else {
                parents.iter().map(|&p| pick(p)).collect()
            };
            board
                .write(|t| {
                    t.create(&NewTask {
                        title: format!("task {}", ids.len()),
                        parents,
                        ..NewTask::default()
                    })
                })
                .map(|id| ids.push(id))
        }
        _ if ids.is_empty() => Ok(()),
        Step::Link { parent, child } => board
            .write(|t| t.link(&pick(*parent), &pick(*child)))
            .map(drop),
        Step::Unlink { parent, child } => board.write(|t| t.unlink(&pick(*parent), &pick(*child))),
        Step::Claim { task } => board.write(|t| t.claim(&pick(*task), &me)).map(drop),
        Step::ClaimNext => board.write(|t| t.claim_next(&me)).map(drop),
        Step::Complete { task, as_holder } => {
            let id = pick(*task);
            let holder = board
                .read(|r| r.task(&id))
                .map(|t| t.claim_lock)
                .unwrap_or_default();
            let who = if *as_holder {
                holder
            } else {
                Some(me.lock.clone())
            };
            board
                .write(|t| t.complete(&id, who.as_deref(), Some("ok")))
                .map(drop)
        }
        Step::Heartbeat { task } => board.write(|t| t.heartbeat(&pick(*task), &me)).map(drop),
        Step::Block { task } => board.write(|t| t.block(&pick(*task), "needs a person")),
        Step::Unblock { task } => board.write(|t| t.unblock(&pick(*task))).map(drop),
        Step::Archive { task } => board.write(|t| t.archive(&pick(*task))).map(drop),
        Step::Unarchive { task } => board.write(|t| t.unarchive(&pick(*task))).map(drop),
        Step::ReclaimLater => board
            .write_at(now_epoch() + 3600, |t| {
                t.reclaim_expired(Duration::from_secs(60))
            })
            .map(drop),
        Step::Release { task } => board.write(|t| t.release(&pick(*task), &me)),
        Step::ForeignMarkReady { task } => {
            raw.execute(
                "UPDATE tasks SET status = 'ready' WHERE id = ?1 AND status IN ('todo', 'blocked')",
                [pick(*task)],
            )
            .map_err(|e| TestCaseError::fail(format!("foreign write failed: {e}")))?;
            Ok(())
        }
    };
    match outcome {
        Ok(()) => Ok(()),
        Err(
            e @ (BoardError::Sqlite(_) | BoardError::RuleViolation(_) | BoardError::Locked { .. }),
        ) => Err(TestCaseError::fail(format!(
            "{step:?} failed inside SQLite: {e}"
        ))),
        Err(_refused) => Ok(()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 96, ..ProptestConfig::default() })]

    #[test]
    fn every_invariant_holds_after_every_step(steps in prop::collection::vec(step(), 1..48)) {
        let board = common::TempBoard::new();
        let mut boards: Vec<Board> = (0..CONNECTIONS).map(|_| common::open_fast(&board.path)).collect();
        let raw = rusqlite::Connection::open(&board.path).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let mut ids = Vec::new();
        for (conn, step) in &steps {
            apply(&mut boards[*conn], &raw, *conn, step, &mut ids)?;
            let found = boards[0].read(audit).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert!(found.is_empty(), "after {:?}: {:?}", step, found);
        }
    }
}
