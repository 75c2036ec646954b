//! Frame time of a 10,000- and a 100,000-task board, and the real TUI's resident memory with
//! 100,000 tasks open (needs tmux).
//! `cargo bench --bench tui_frame`.
// A benchmark may unwrap, expect and panic: it measures, and a failed step ends it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::process::Command;
use std::time::{Duration, Instant};

use gateboard::core::ops::GraphNode;
use gateboard::core::{Board, NewTask, OpenOptions, Status, Task};
use gateboard::tui::state::{BoardView, State};
use gateboard::tui::theme::Theme;
use gateboard::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FRAME_TASKS: [usize; 2] = [10_000, 100_000];
const FRAMES: usize = 200;
const MEMORY_TASKS: usize = 100_000;

fn synthetic(n: usize) -> Vec<Task> {
    let statuses = [
        Status::Todo,
        Status::Ready,
        Status::Running,
        Status::Blocked,
        Status::Done,
    ];
    (0..n)
        .map(|i| Task {
            id: format!("t_{i:08x}"),
            title: format!("task number {i} with a title of ordinary length"),
            body: None,
            assignee: None,
            status: statuses[i % statuses.len()].clone(),
            priority: Some((i % 7) as i64),
            created_by: None,
            created_at: 1_795_000_000 + i as i64,
            started_at: Some(1_795_000_000),
            completed_at: None,
            claim_lock: Some(format!("gateboard:1:aaaa:w{}", i % 8)),
            claim_expires: None,
            result: None,
            current_run_id: None,
            block_reason: Some("waiting".into()),
            command: None,
            timeout_secs: None,
            failures: 0,
            retry_at_ms: None,
            run_started_at: None,
            gated: false,
        })
        .collect()
}

fn resident_mib(status_file: &str) -> Option<f64> {
    let status = std::fs::read_to_string(status_file).ok()?;
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024.0)
}

fn main() {
    for tasks in FRAME_TASKS {
        frames(tasks);
    }
    let dir = tempfile::tempdir_in(env!("CARGO_TARGET_TMPDIR")).expect("temp dir");
    let path = dir.path().join("big.db");
    let mut board = Board::open(
        &path,
        &OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )
    .expect("board");
    let graph: Vec<GraphNode> = (0..MEMORY_TASKS)
        .map(|i| GraphNode {
            key: format!("n{i}"),
            task: NewTask {
                title: format!("task number {i} with a title of ordinary length"),
                ..NewTask::default()
            },
        })
        .collect();
    board.write(|t| t.create_graph(&graph)).expect("seed");
    drop(graph);
    drop(board);
    match tui_resident_mib(&path) {
        Some(mib) => println!(
            "{MEMORY_TASKS} tasks open in the real TUI (gateboard tui, in tmux): resident {mib:.1} MiB"
        ),
        None => println!("memory: could not run the TUI in tmux to measure it"),
    }
}

/// Draws `FRAMES` frames of a board of `tasks` tasks at 200x60 and prints their times.
fn frames(tasks: usize) {
    let state = State::new(
        "board.db".into(),
        BoardView::load(synthetic(tasks)),
        Theme::new(true),
        1_795_000_100,
    );
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    let mut times: Vec<Duration> = (0..FRAMES)
        .map(|_| {
            let start = Instant::now();
            terminal
                .draw(|frame| view::draw(frame, &state))
                .expect("draw");
            start.elapsed()
        })
        .collect();
    times.sort();
    let mean = times.iter().sum::<Duration>() / FRAMES as u32;
    println!(
        "frame of a {tasks}-task board at 200x60: mean {:.3} ms, p50 {:.3} ms, p99 {:.3} ms ({FRAMES} frames)",
        mean.as_secs_f64() * 1e3,
        times[FRAMES / 2].as_secs_f64() * 1e3,
        times[FRAMES * 99 / 100].as_secs_f64() * 1e3
    );
}

/// Runs the real binary on the board in a tmux pane, waits for it to load, reads its VmRSS.
fn tui_resident_mib(board: &std::path::Path) -> Option<f64> {
    let session = format!("gateboard-bench-{}", std::process::id());
    let command = format!(
        "{} --db {} tui --workers 0",
        env!("CARGO_BIN_EXE_gateboard"),
        board.display()
    );
    let tmux = |args: &[&str]| Command::new("tmux").args(args).output().ok();
    tmux(&[
        "new-session",
        "-d",
        "-s",
        &session,
        "-x",
        "200",
        "-y",
        "60",
        &command,
    ])?;
    let pid = tmux(&["display", "-p", "-t", &session, "#{pane_pid}"])
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())?;
    let mut resident = None;
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(100));
        let screen = tmux(&["capture-pane", "-p", "-t", &session])
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())?;
        if screen.contains("ready (100000)") {
            std::thread::sleep(Duration::from_millis(500));
            resident = resident_mib(&format!("/proc/{pid}/status"));
            break;
        }
    }
    tmux(&["kill-session", "-t", &session]);
    resident
}
