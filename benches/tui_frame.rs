//! Frame time of a 10,000- and a 100,000-task board, the real TUI's resident memory with
//! 100,000 ready tasks open (needs tmux), and a long-lived board of 100,000 done tasks and a
//! million events (with `-- 1m` also 1,000,000 and ten million): opening it, a key and another
//! process's change, in-process and in the real TUI in tmux.
//! `cargo bench --bench tui_frame [-- 1m]`.
// A benchmark may unwrap, expect and panic: it measures, and a failed step ends it.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use gateboard::core::history::{History, write_history};
use gateboard::core::ops::GraphNode;
use gateboard::core::{Board, NewTask, OpenOptions, Status, Task};
use gateboard::pool::PoolConfig;
use gateboard::tui::action::Action;
use gateboard::tui::app::App;
use gateboard::tui::board_view::PageAt;
use gateboard::tui::effects::read::{Fetched, Read};
use gateboard::tui::state::{BoardView, State};
use gateboard::tui::theme::Theme;
use gateboard::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const FRAME_TASKS: [usize; 2] = [10_000, 100_000];
const FRAMES: usize = 200;
const MEMORY_TASKS: usize = 100_000;
/// Tasks still queued on a long-lived board.
const ACTIVE: usize = 300;
/// Events of each finished task: a million tasks make ten million events.
const EVENTS_PER_TASK: usize = 10;
/// Changes by another connection timed in-process.
const CHANGES: usize = 50;
/// Keys and changes timed in the real TUI.
const KEYS_IN_TMUX: usize = 30;

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
    // `cargo bench --bench tui_frame -- 1m` adds the board of a million tasks: building it
    // takes minutes and a gigabyte and a half of disk.
    let million = std::env::args().any(|a| a == "1m");
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
    match tui_resident_mib(&path, "ready (100000)") {
        Some(mib) => println!(
            "{MEMORY_TASKS} ready tasks open in the real TUI (gateboard tui, in tmux): resident {mib:.1} MiB"
        ),
        None => println!("memory: could not run the TUI in tmux to measure it"),
    }
    let mut sizes = vec![100_000];
    if million {
        sizes.push(1_000_000);
    }
    for finished in sizes {
        long_lived(dir.path(), finished);
    }
}

/// A board that has lived for months: `finished` done tasks with ten events each, and a
/// few hundred still queued. Opened in-process and in the real TUI, each step timed.
fn long_lived(dir: &Path, finished: usize) {
    let path = dir.join(format!("history-{finished}.db"));
    let mut board = Board::open(
        &path,
        &OpenOptions {
            create: true,
            durability: gateboard::core::Durability::Normal,
            ..OpenOptions::default()
        },
    )
    .expect("board");
    let start = Instant::now();
    let history = History {
        finished,
        active: ACTIVE,
        events_per_task: EVENTS_PER_TASK,
        since: 1_790_000_000,
    };
    write_history(&mut board, &history).expect("history");
    let (events, rejected) = board
        .read(|r| {
            Ok((
                r.last_event_id()?,
                r.event_count(&gateboard::core::EventKind::ClaimRejected)?,
            ))
        })
        .expect("events");
    println!(
        "board of {finished} done + {ACTIVE} queued tasks, {events} events: built in {:.1} s",
        start.elapsed().as_secs_f64()
    );
    drop(board);
    in_process(&path, finished);
    in_tmux(&path, finished, rejected);
}

/// The app on the board with no threads (every read here and now): opening it, a key, and
/// another connection's change, each up to a drawn frame.
fn in_process(path: &Path, finished: usize) {
    let open = OpenOptions::default();
    let start = Instant::now();
    let mut app = App::load(
        Board::open(path, &open).expect("open"),
        State::new("board".into(), BoardView::default(), Theme::new(true), 0),
        PoolConfig::default(),
        open.clone(),
    )
    .expect("app");
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("terminal");
    let mut draw = |app: &App| {
        terminal
            .draw(|frame| view::draw(frame, &app.model.state))
            .expect("draw");
    };
    draw(&app);
    let opened = start.elapsed();
    app.update(Action::Resize {
        width: 200,
        height: 60,
    });
    for _ in 0..4 {
        app.update(Action::Right);
    }
    let mut keys: Vec<Duration> = (0..FRAMES)
        .map(|i| {
            let start = Instant::now();
            // Down the done column, a page at a time, so windows are read as it goes.
            app.update(if i % 50 == 49 {
                Action::Top
            } else {
                Action::PageDown
            });
            draw(&app);
            start.elapsed()
        })
        .collect();
    let mut writer = Board::open(path, &open).expect("writer");
    let mut changes: Vec<Duration> = (0..CHANGES)
        .map(|i| {
            writer
                .write(|t| {
                    t.create(&NewTask {
                        title: format!("another process's task {i}"),
                        ..NewTask::default()
                    })
                })
                .expect("change");
            let start = Instant::now();
            app.update(Action::BoardChanged);
            app.catch_up();
            draw(&app);
            start.elapsed()
        })
        .collect();
    println!(
        "{finished} done, in-process (reads on the UI thread, a frame drawn): open {:.0} ms; key {}; another connection's change {}",
        opened.as_secs_f64() * 1e3,
        spread(&mut keys),
        spread(&mut changes),
    );
    let start = Instant::now();
    let totals = Read::Totals { upto: i64::MAX }.perform(&Board::open(path, &open).expect("open"));
    assert!(matches!(totals, Fetched::Totals { .. }), "{totals:?}");
    println!(
        "{finished} done: the status bar's totals over every event (read off the UI loop, once): {:.0} ms",
        start.elapsed().as_secs_f64() * 1e3
    );
    let reader = Board::open(path, &open).expect("open");
    let ms = |read: Read| {
        let start = Instant::now();
        let fetched = read.perform(&reader);
        assert!(!matches!(fetched, Fetched::Failed { .. }), "{fetched:?}");
        start.elapsed().as_secs_f64() * 1e3
    };
    let deep = finished * 9 / 10;
    println!(
        "{finished} done, other reads off the UI loop: a / filter's page and count over done {:.0} ms; :goto a task 90% down done {:.0} ms; a full reload {:.0} ms; the parent picker's finished tasks {:.1} ms",
        ms(Read::Page {
            status: Status::Done,
            filter: format!("task {deep}:"),
            at: PageAt::Row(0),
            known: None,
        }),
        ms(Read::Goto(format!("h_{deep:08}"))),
        ms(Read::Reload {
            windows: Vec::new()
        }),
        ms(Read::Finished {
            task: String::new(),
            view: 0
        }),
    );
}

/// Mean, p50 and p99 of some durations, in ms.
fn spread(times: &mut [Duration]) -> String {
    times.sort();
    let mean = times.iter().sum::<Duration>() / times.len() as u32;
    format!(
        "mean {:.2} ms, p50 {:.2} ms, p99 {:.2} ms",
        mean.as_secs_f64() * 1e3,
        times[times.len() / 2].as_secs_f64() * 1e3,
        times[times.len() * 99 / 100].as_secs_f64() * 1e3
    )
}

/// The real binary on the board in tmux: how long until the board shows, its resident set,
/// how long a key takes to show, and how long another process's change takes to show.
fn in_tmux(path: &Path, finished: usize, rejected: u64) {
    let Some(tui) = Tmux::start(path) else {
        println!("tmux: could not run the TUI to measure it");
        return;
    };
    let done_title = format!("done ({finished})");
    let Some(opened) = tui.wait_for(&done_title, Duration::from_secs(60)) else {
        println!("tmux: the board did not show");
        return;
    };
    let mut writer = Board::open(path, &OpenOptions::default()).expect("writer");
    let mut change = |title: &str| {
        let start = Instant::now();
        writer
            .write(|t| {
                t.create(&NewTask {
                    title: title.to_owned(),
                    priority: 100,
                    ..NewTask::default()
                })
            })
            .expect("change");
        tui.wait_for(title, Duration::from_secs(10))
            .map(|_| start.elapsed())
    };
    // The totals over every event are counted off the UI loop meanwhile: a change shows.
    let early = change("a change while the totals are counted");
    let totals = tui.wait_for(&format!("rejected {rejected}"), Duration::from_secs(120));
    std::thread::sleep(Duration::from_millis(500));
    let resident = resident_mib(&format!("/proc/{}/status", tui.pid)).unwrap_or(f64::NAN);
    for _ in 0..4 {
        tui.keys("l");
    }
    tui.wait_for(&format!("done 1/{finished}"), Duration::from_secs(10));
    let mut keys = Vec::new();
    for row in 2..=KEYS_IN_TMUX + 1 {
        let start = Instant::now();
        tui.keys("j");
        if tui
            .wait_for(&format!("done {row}/{finished}"), Duration::from_secs(10))
            .is_some()
        {
            keys.push(start.elapsed());
        }
    }
    let mut changes: Vec<Duration> = (0..KEYS_IN_TMUX)
        .filter_map(|i| change(&format!("change {i} by another process")))
        .collect();
    // A filter over the done column is a count over every title, off the UI loop: a change
    // that matches it shows meanwhile.
    let deep = finished * 9 / 10;
    let needle = format!("task {deep}:");
    let start = Instant::now();
    tui.keys("/");
    tui.literal(&needle);
    let filtering = change(&format!("{needle} change"));
    let filtered = tui
        .wait_for(&format!("done (1/{finished})"), Duration::from_secs(60))
        .map(|_| start.elapsed());
    drop(tui);
    if keys.is_empty() || changes.is_empty() {
        println!("tmux: keys or changes did not show");
        return;
    }
    println!(
        "{finished} done, the real TUI in tmux (screen polled every ms): on screen in {:.2} s, its totals {:.2} s later (a change meanwhile on screen in {:.0} ms), resident {resident:.1} MiB; key to screen {}; another process's commit to screen {}; a / filter over done on screen in {:.2} s (a change meanwhile in {:.0} ms)",
        opened.as_secs_f64(),
        totals.map_or(f64::NAN, |t| t.as_secs_f64()),
        early.map_or(f64::NAN, |t| t.as_secs_f64() * 1e3),
        spread(&mut keys),
        spread(&mut changes),
        filtered.map_or(f64::NAN, |t| t.as_secs_f64()),
        filtering.map_or(f64::NAN, |t| t.as_secs_f64() * 1e3),
    );
}

/// The real TUI in a tmux session, killed when dropped.
struct Tmux {
    session: String,
    pid: String,
}

impl Tmux {
    fn start(board: &Path) -> Option<Tmux> {
        let session = format!(
            "gateboard-bench-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        );
        let command = format!(
            "{} --db {} tui --workers 0",
            env!("CARGO_BIN_EXE_gateboard"),
            board.display()
        );
        let started = Command::new("tmux")
            .args(["new-session", "-d", "-s", &session, "-x", "200", "-y", "60"])
            .arg(&command)
            .status()
            .ok()?;
        if !started.success() {
            return None;
        }
        let pid = Command::new("tmux")
            .args(["display", "-p", "-t", &session, "#{pane_pid}"])
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())?;
        Some(Tmux { session, pid })
    }

    fn keys(&self, keys: &str) {
        let _ = Command::new("tmux")
            .args(["send-keys", "-t", &self.session, keys])
            .status();
    }

    fn literal(&self, text: &str) {
        let _ = Command::new("tmux")
            .args(["send-keys", "-t", &self.session, "-l", text])
            .status();
    }

    /// How long until the screen shows `text`, polled every millisecond.
    fn wait_for(&self, text: &str, within: Duration) -> Option<Duration> {
        let start = Instant::now();
        while start.elapsed() < within {
            let screen = Command::new("tmux")
                .args(["capture-pane", "-p", "-t", &self.session])
                .output()
                .ok()?;
            if String::from_utf8_lossy(&screen.stdout).contains(text) {
                return Some(start.elapsed());
            }
            std::thread::sleep(Duration::from_millis(1));
        }
        None
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.session])
            .status();
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
fn tui_resident_mib(board: &Path, shown: &str) -> Option<f64> {
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
        if screen.contains(shown) {
            std::thread::sleep(Duration::from_millis(500));
            resident = resident_mib(&format!("/proc/{pid}/status"));
            break;
        }
    }
    tmux(&["kill-session", "-t", &session]);
    resident
}
