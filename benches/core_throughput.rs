//! Claim+complete throughput of the core, on one connection and on 4 threads, beside the bare
//! durable-commit loop measured in the same run. `cargo bench --bench core_throughput`.
// A benchmark may unwrap, expect and panic: it measures, and a failed step ends it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::thread;
use std::time::{Duration, Instant};

use gateboard::core::baseline::bare_commits;
use gateboard::core::ops::Claimer;
use gateboard::core::{Board, NewTask, OpenOptions};

const TASKS: usize = 2000;
const BARE_COMMITS: usize = 4000;

fn board_with_tasks(path: &Path) -> Board {
    let mut board = Board::open(
        path,
        &OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )
    .expect("create board");
    board
        .write(|t| {
            for i in 0..TASKS {
                t.create(&NewTask {
                    title: format!("task {i}"),
                    ..NewTask::default()
                })?;
            }
            Ok(())
        })
        .expect("seed tasks");
    board
}

/// Claims and completes until the board is empty; returns tasks finished.
fn drain(board: &mut Board, name: &str) -> usize {
    let claimer = Claimer {
        lock: name.to_owned(),
        ttl: Duration::from_secs(600),
    };
    let mut finished = 0;
    loop {
        let next = board.write(|t| t.claim_next(&claimer)).expect("claim");
        let Some(claim) = next.claim else {
            return finished;
        };
        board
            .write(|t| t.complete(&claim.task_id, Some(&claimer.lock), None))
            .expect("complete");
        finished += 1;
    }
}

fn rate(n: usize, took: Duration) -> f64 {
    n as f64 / took.as_secs_f64()
}

fn main() {
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let bare = bare_commits(
        &dir.path().join("bare.db"),
        BARE_COMMITS,
        &OpenOptions::default(),
    )
    .expect("bare loop");
    let bare_rate = rate(BARE_COMMITS, bare);

    let mut one = board_with_tasks(&dir.path().join("one.db"));
    let start = Instant::now();
    let finished = drain(&mut one, "solo");
    let one_rate = rate(finished, start.elapsed());

    let four_path = dir.path().join("four.db");
    drop(board_with_tasks(&four_path));
    let start = Instant::now();
    let finished: usize = (0..4)
        .map(|w| {
            let path = four_path.clone();
            thread::spawn(move || {
                let mut board = Board::open(&path, &OpenOptions::default()).expect("open");
                drain(&mut board, &format!("w{w}"))
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|h| h.join().expect("worker"))
        .sum();
    let four_rate = rate(finished, start.elapsed());

    println!("| loop | rate | commits/s | vs bare commits/s |");
    println!("|---|---|---|---|");
    println!(
        "| bare single-row UPDATE commits | {bare_rate:.0} commits/s | {bare_rate:.0} | 1.00 |"
    );
    for (label, tasks_per_s) in [
        ("claim+complete, 1 connection", one_rate),
        ("claim+complete, 4 threads", four_rate),
    ] {
        let commits = tasks_per_s * 2.0;
        println!(
            "| {label} | {tasks_per_s:.0} tasks/s | {commits:.0} | {:.2} |",
            commits / bare_rate
        );
    }
}
