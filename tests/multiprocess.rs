//! Separate processes of the built binary share one board file: several claim and complete
//! while another races create-then-link, and the invariant holds across them.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use gateboard::core::audit::audit;
use gateboard::core::{NewTask, Status};

const CLAIMERS: usize = 3;
const LAYERS: usize = 4;
const WIDTH: usize = 6;
const RACED_CHILDREN: usize = 15;

fn gateboard(board: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateboard"));
    cmd.arg("--db").arg(board).arg("--lock-timeout").arg("30");
    cmd
}

/// Only a guard against a hang: the claimers stop on a condition, never on a clock.
const HANG: Duration = Duration::from_secs(300);

/// Claims and completes until the writer has finished and nothing is left to claim or
/// waiting on a claim: no pause of the writer, however long, can end it early.
fn claim_loop(board: &Path, name: &str, writer_done: &AtomicBool) -> usize {
    let reader = common::open(board);
    let start = Instant::now();
    let mut done = 0;
    loop {
        assert!(start.elapsed() < HANG, "{name} never saw the board drain");
        let out = gateboard(board)
            .args(["--claimer", name, "claim"])
            .output()
            .expect("run claim");
        match out.status.code() {
            Some(0) => {
                let id = String::from_utf8_lossy(&out.stdout).trim().to_owned();
                let status = gateboard(board)
                    .args(["--claimer", name, "complete", &id])
                    .status()
                    .expect("run complete");
                assert!(
                    status.success(),
                    "{name} could not complete its own claim {id}"
                );
                done += 1;
            }
            Some(8) => {
                // Read the flag first: once it is set, the writer adds nothing more, so an
                // idle board then stays idle.
                if writer_done.load(Ordering::SeqCst) && reader.read(|r| r.is_idle()).expect("idle")
                {
                    return done;
                }
                thread::sleep(Duration::from_millis(20));
            }
            other => panic!(
                "claim exited {other:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            ),
        }
    }
}

#[test]
fn processes_sharing_a_file_never_claim_past_the_gate() {
    let board = common::TempBoard::new();
    let mut setup = board.open();
    // A layered DAG: each task waits on two tasks of the layer before.
    let mut previous: Vec<String> = Vec::new();
    for layer in 0..LAYERS {
        let current: Vec<String> = (0..WIDTH)
            .map(|i| {
                let parents = if previous.is_empty() {
                    Vec::new()
                } else {
                    vec![previous[i].clone(), previous[(i + 1) % WIDTH].clone()]
                };
                setup
                    .write(|t| {
                        t.create(&NewTask {
                            title: format!("layer {layer} task {i}"),
                            parents,
                            ..NewTask::default()
                        })
                    })
                    .expect("create")
            })
            .collect();
        previous = current;
    }
    let last_layer = previous;

    let writer_done = Arc::new(AtomicBool::new(false));
    let claimers: Vec<_> = (0..CLAIMERS)
        .map(|i| {
            let path = board.path.clone();
            let writer_done = writer_done.clone();
            thread::spawn(move || claim_loop(&path, &format!("proc-{i}"), &writer_done))
        })
        .collect();
    // The writer process: create a child with no parents, link it a moment later.
    for i in 0..RACED_CHILDREN {
        let out = gateboard(&board.path)
            .args(["add", &format!("raced child {i}")])
            .output()
            .expect("run add");
        assert!(out.status.success());
        let child = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        thread::sleep(Duration::from_millis(fastrand::u64(0..30)));
        let link = gateboard(&board.path)
            .args(["link", &last_layer[i % WIDTH], &child])
            .output()
            .expect("run link");
        // Refused (exit 4) exactly when a claimer got the child first.
        assert!(
            matches!(link.status.code(), Some(0) | Some(4)),
            "link: {}",
            String::from_utf8_lossy(&link.stderr)
        );
    }
    writer_done.store(true, Ordering::SeqCst);
    let completed: usize = claimers
        .into_iter()
        .map(|c| c.join().expect("claimer"))
        .sum();

    let check = board.open();
    assert_eq!(check.read(audit).expect("audit"), Vec::new());
    let tasks = check.read(|r| r.tasks(None)).expect("tasks");
    assert_eq!(tasks.len(), LAYERS * WIDTH + RACED_CHILDREN);
    assert!(
        tasks.iter().all(|t| t.status == Status::Done),
        "every task ends done: {:?}",
        tasks
            .iter()
            .filter(|t| t.status != Status::Done)
            .collect::<Vec<_>>()
    );
    assert_eq!(completed, tasks.len(), "each task completed exactly once");
}
