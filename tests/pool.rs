//! The worker pool: draining, resizing, pausing, shutdown, crash recovery, and the race demo.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use gateboard::core::audit::audit;
use gateboard::core::ops::GraphNode;
use gateboard::core::{Board, EventKind, NewTask, Status};
use gateboard::pool::bench::Workload;
use gateboard::pool::{Pool, PoolConfig, Work, WorkerState};

fn seed(board: &mut Board, graph: &[GraphNode]) {
    board.write(|t| t.create_graph(graph)).expect("seed graph");
}

fn flat(n: usize) -> Vec<GraphNode> {
    Workload::Flat.graph(n)
}

fn count(board: &Board, status: Status) -> usize {
    board.read(|r| r.tasks(Some(&status))).expect("tasks").len()
}

async fn until(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

fn config(workers: usize, work_ms: (u64, u64)) -> PoolConfig {
    PoolConfig {
        workers,
        work: Work::Simulated(
            Duration::from_millis(work_ms.0),
            Duration::from_millis(work_ms.1),
        ),
        ..PoolConfig::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_drains_a_two_thousand_task_dag_with_a_clean_audit() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    seed(&mut conn, &Workload::Dag.graph(2000));
    let pool = Pool::start(&board.path, config(4, (0, 0))).expect("start");
    until("the DAG to drain", Duration::from_secs(120), || {
        pool.stats().completed == 2000
    })
    .await;
    let stats = pool.stop().await;
    assert_eq!(stats.claimed, 2000);
    assert_eq!(stats.rejected, 0);
    assert_eq!(count(&conn, Status::Done), 2000);
    // Folding many workers' writes into one commit must not lose or repeat any of them: each
    // task was claimed once and completed once, each with its own event.
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events");
    let mut claims = std::collections::HashMap::<&str, (usize, usize)>::new();
    for e in &events {
        let entry = claims.entry(e.task_id.as_str()).or_default();
        match e.kind {
            EventKind::Claimed => entry.0 += 1,
            EventKind::Completed => entry.1 += 1,
            _ => {}
        }
    }
    assert_eq!(claims.len(), 2000);
    assert!(
        claims.values().all(|&counts| counts == (1, 1)),
        "a task claimed or completed other than once"
    );
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pool_grows_shrinks_and_pauses_while_running() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    seed(&mut conn, &flat(400));
    let mut pool = Pool::start(&board.path, config(2, (5, 15))).expect("start");
    let active = |pool: &Pool| {
        pool.workers()
            .iter()
            .filter(|w| w.state != WorkerState::Retired)
            .count()
    };
    until("some progress", Duration::from_secs(20), || {
        pool.stats().completed > 5
    })
    .await;

    pool.resize(6);
    assert_eq!(active(&pool), 6);
    until("six workers at work", Duration::from_secs(20), || {
        pool.workers()
            .iter()
            .filter(|w| matches!(w.state, WorkerState::Working { .. }))
            .count()
            > 2
    })
    .await;

    pool.pause();
    until("every worker to park", Duration::from_secs(20), || {
        pool.workers()
            .iter()
            .all(|w| matches!(w.state, WorkerState::Paused | WorkerState::Retired))
    })
    .await;
    let paused_at = pool.stats().claimed;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(
        pool.stats().claimed,
        paused_at,
        "a paused pool claims nothing"
    );
    assert_eq!(
        count(&conn, Status::Running),
        0,
        "paused workers hold no claim"
    );

    pool.resume();
    pool.resize(1);
    until("the pool to shrink", Duration::from_secs(20), || {
        active(&pool) == 1
    })
    .await;
    until("the queue to drain", Duration::from_secs(60), || {
        pool.stats().completed == 400
    })
    .await;
    pool.stop().await;
    assert_eq!(count(&conn, Status::Done), 400);
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_releases_every_claim_it_holds() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    seed(&mut conn, &flat(20));
    let pool = Pool::start(&board.path, config(4, (60_000, 60_000))).expect("start");
    until("four running tasks", Duration::from_secs(20), || {
        count(&conn, Status::Running) == 4
    })
    .await;
    let stats = pool.stop().await;
    assert_eq!(stats.completed, 0);
    assert_eq!(count(&conn, Status::Running), 0);
    assert_eq!(count(&conn, Status::Ready), 20);
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events");
    let released = events
        .iter()
        .filter(|e| e.kind == EventKind::Reclaimed)
        .count();
    assert_eq!(released, 4);
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_blocking_a_running_task_takes_it_from_its_worker() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let id = add_task(&mut conn, "long");
    let pool = Pool::start(
        &board.path,
        PoolConfig {
            claim_ttl: Duration::from_secs(1),
            ..config(1, (1500, 1500))
        },
    )
    .expect("start");
    until("the claim", Duration::from_secs(10), || {
        count(&conn, Status::Running) == 1
    })
    .await;
    conn.write(|t| t.block(&id, "needs a person"))
        .expect("block");
    tokio::time::sleep(Duration::from_millis(2000)).await;
    let stats = pool.stop().await;
    assert_eq!(
        stats.completed, 0,
        "the worker must not complete a task it lost"
    );
    assert_eq!(
        conn.read(|r| r.task(&id)).expect("task").status,
        Status::Blocked
    );
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

fn gateboard(board: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gateboard"));
    cmd.arg("--db").arg(board);
    cmd
}

#[test]
fn killed_worker_process_loses_no_task_once_its_claims_expire() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    seed(&mut conn, &Workload::Dag.graph(300));
    let mut victim = work_until_idle(&board.path, "4", "20..40")
        .args(["--ttl", "2"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start work");
    let start = Instant::now();
    while count(&conn, Status::Done) < 20 {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "the victim made no progress"
        );
        thread::sleep(Duration::from_millis(20));
    }
    victim.kill().expect("kill -9");
    victim.wait().expect("reap");
    assert!(
        count(&conn, Status::Running) > 0,
        "the kill should leave claims behind"
    );

    let rescue = work_until_idle(&board.path, "4", "0")
        .args(["--ttl", "2"])
        .output()
        .expect("run rescue");
    assert!(rescue.status.success());
    assert_eq!(count(&conn, Status::Done), 300, "every task ends done");
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events");
    assert!(events.iter().any(|e| e.kind == EventKind::Reclaimed));
}

#[test]
fn pools_in_separate_processes_share_a_board_without_double_claims() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    seed(&mut conn, &Workload::Dag.graph(600));
    let pools: Vec<_> = (0..2)
        .map(|_| {
            work_until_idle(&board.path, "3", "0..2")
                .stdout(Stdio::null())
                .spawn()
                .expect("start work")
        })
        .collect();
    for mut pool in pools {
        assert!(pool.wait().expect("wait").success());
    }
    assert_eq!(count(&conn, Status::Done), 600);
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events");
    let claims = events
        .iter()
        .filter(|e| e.kind == EventKind::Claimed)
        .count();
    assert_eq!(claims, 600, "each task claimed exactly once");
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

fn race(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_gateboard"))
        .arg("race")
        .args(args)
        .output()
        .expect("run race");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "race {args:?} failed:\n{text}");
    text
}

fn field(report: &str, name: &str) -> usize {
    report
        .lines()
        .find_map(|l| l.strip_prefix(name))
        .and_then(|rest| rest.trim_start_matches(':').split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in:\n{report}"))
}

#[test]
fn race_demo_holds_the_invariant_in_both_modes() {
    let honest = race(&["--rounds", "100"]);
    assert_eq!(field(&honest, "violations"), 0);
    assert_eq!(field(&honest, "children created"), 100);
    let buggy = race(&["--rounds", "100", "--buggy"]);
    assert_eq!(field(&buggy, "violations"), 0);
    assert!(
        field(&buggy, "claim_rejected") > 0,
        "the gate should fire:\n{buggy}"
    );
}

#[test]
fn a_paced_race_waits_a_pace_between_children_and_stops_in_the_middle_of_one() {
    use gateboard::core::OpenOptions;
    use gateboard::pool::racer::{RaceConfig, Racer};

    let board = common::TempBoard::new();
    let racer = Racer::start(
        &board.path,
        RaceConfig {
            rounds: 3,
            pace: Duration::from_secs(3600),
            ..RaceConfig::default()
        },
        &OpenOptions::default(),
    )
    .expect("start the race");
    let start = Instant::now();
    while racer.children() == 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the first child is written at once"
        );
        thread::sleep(Duration::from_millis(10));
    }
    let (sender, stopped) = std::sync::mpsc::channel();
    thread::spawn(move || sender.send(racer.stop()));
    let report = stopped
        .recv_timeout(Duration::from_secs(60))
        .expect("stopping ends the pause at once, not after the pace")
        .expect("the race");
    assert_eq!(report.children, 1, "the second child waits a whole pace");
    assert_eq!(
        count(&board.open(), Status::Blocked),
        0,
        "the parents are released"
    );
}

/// `work --workers WORKERS --work-ms WORK_MS --exit-when-idle` on `board`: a pool of simulated
/// work that drains the board and exits.
fn work_until_idle(board: &Path, workers: &str, work_ms: &str) -> Command {
    let mut work = gateboard(board);
    work.args([
        "work",
        "--workers",
        workers,
        "--work-ms",
        work_ms,
        "--exit-when-idle",
    ]);
    work
}

/// A ready task with nothing but a title.
fn add_task(conn: &mut Board, title: &str) -> String {
    conn.write(|t| {
        t.create(&NewTask {
            title: title.into(),
            ..NewTask::default()
        })
    })
    .expect("create")
}

/// A child left stranded: its parent finished by a writer that does not promote children, as
/// Hermes Agent does when its process dies between its completion and its promotion.
fn stranded_child(board: &common::TempBoard, conn: &mut Board) -> String {
    let (parent, child) = conn
        .write(|t| {
            let parent = t.create(&NewTask {
                title: "finished elsewhere".into(),
                ..NewTask::default()
            })?;
            let child = t.create(&NewTask {
                title: "stranded child".into(),
                parents: vec![parent.clone()],
                ..NewTask::default()
            })?;
            Ok((parent, child))
        })
        .expect("seeded");
    let raw = rusqlite::Connection::open(&board.path).expect("raw connection");
    raw.execute(
        "UPDATE tasks SET status = 'done', completed_at = 0 WHERE id = ?1",
        [&parent],
    )
    .expect("finish by hand");
    child
}

#[test]
fn work_promotes_a_child_whose_parent_another_writer_finished() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let child = stranded_child(&board, &mut conn);
    assert_eq!(count(&conn, Status::Todo), 1);
    assert!(
        !conn.read(|r| r.is_idle()).expect("idle"),
        "a stranded child is work left to do"
    );

    let out = work_until_idle(&board.path, "1", "0")
        .output()
        .expect("run work");
    assert!(out.status.success());
    let task = conn.read(|r| r.task(&child)).expect("child");
    assert_eq!(task.status, Status::Done);
    let kinds: Vec<EventKind> = conn
        .read(|r| r.events_after(0, usize::MAX, Some(&child)))
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert_eq!(
        kinds,
        [
            EventKind::Created,
            EventKind::Promoted,
            EventKind::Claimed,
            EventKind::Completed
        ]
    );
}

#[test]
fn a_pool_with_work_in_hand_looks_for_stranded_tasks_once_it_runs_dry() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let busy = add_task(&mut conn, "work in hand");
    let child = stranded_child(&board, &mut conn);
    let out = work_until_idle(&board.path, "1", "200")
        .output()
        .expect("run work");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        conn.read(|r| r.task(&child)).expect("child").status,
        Status::Done
    );
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events");
    let id_of = |task: &str, kind: EventKind| {
        events
            .iter()
            .find(|e| e.task_id == task && e.kind == kind)
            .map(|e| e.id)
            .expect("the event")
    };
    assert!(
        id_of(&child, EventKind::Promoted) > id_of(&busy, EventKind::Completed),
        "the look over waiting tasks waited until the task in hand was done"
    );
}

#[test]
fn work_reclaims_a_running_row_no_claim_would_ever_lapse_and_exits_when_idle() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let long_ago = gateboard::core::now_epoch() - 3600;
    let (stuck, child) = conn
        .write_at(long_ago, |t| {
            let stuck = t.create(&NewTask {
                title: "set running elsewhere".into(),
                ..NewTask::default()
            })?;
            let child = t.create(&NewTask {
                title: "waits on it".into(),
                parents: vec![stuck.clone()],
                ..NewTask::default()
            })?;
            Ok((stuck, child))
        })
        .expect("tasks");
    // Another program set it running an hour ago with no claim expiry, then went away.
    rusqlite::Connection::open(&board.path)
        .expect("raw connection")
        .execute(
            "UPDATE tasks SET status = 'running', claim_lock = 'gone', claim_expires = NULL, \
             started_at = ?2, last_heartbeat_at = ?2 WHERE id = ?1",
            rusqlite::params![stuck, long_ago],
        )
        .expect("raw running row");

    let mut work = work_until_idle(&board.path, "1", "0")
        .args(["--ttl", "60"])
        .stdout(Stdio::null())
        .spawn()
        .expect("start work");
    // Only a guard against a hang: without the rule, work would never become idle.
    let start = Instant::now();
    let status = loop {
        if let Some(status) = work.try_wait().expect("wait") {
            break status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = work.kill();
            panic!("work never became idle: the running row was never reclaimed");
        }
        thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    for id in [&stuck, &child] {
        assert_eq!(
            conn.read(|r| r.task(id)).expect("task").status,
            Status::Done
        );
    }
    let kinds: Vec<EventKind> = conn
        .read(|r| r.events_after(0, usize::MAX, Some(&stuck)))
        .expect("events")
        .into_iter()
        .map(|e| e.kind)
        .collect();
    assert!(kinds.contains(&EventKind::Reclaimed), "{kinds:?}");
    assert_eq!(conn.read(audit).expect("audit"), Vec::new());
}

/// Fault injection: the `work` process may not grow any file past a few dozen kilobytes
/// (`ulimit -f`, with SIGXFSZ ignored so writes fail with EFBIG instead of killing it), so its
/// commits start failing once the WAL reaches the limit, as on a full disk.
#[test]
fn a_pool_whose_writes_keep_failing_says_why_exits_non_zero_and_leaves_the_board_intact() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    seed(&mut conn, &flat(300));
    drop(conn);
    let script = format!(
        "trap '' XFSZ; ulimit -f 100; exec timeout 60 {} --db {} work --workers 4 --work-ms 0 --exit-when-idle",
        env!("CARGO_BIN_EXE_gateboard"),
        board.path.display()
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("run the starved pool");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "stderr: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    assert!(
        stderr.contains("cannot write to the board"),
        "says what failed: {stderr}"
    );
    let conn = board.open();
    let check: String = conn.read(|r| r.integrity_check()).expect("integrity check");
    assert_eq!(check, "ok");
    assert_eq!(conn.read(audit).expect("audit"), []);
    let tasks = conn.read(|r| r.tasks(None)).expect("tasks");
    assert_eq!(tasks.len(), 300, "no task lost");
    // Nothing finished twice: one `completed` event at most per task.
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, None))
        .expect("events");
    let mut completed: Vec<&str> = events
        .iter()
        .filter(|e| e.kind == EventKind::Completed)
        .map(|e| e.task_id.as_str())
        .collect();
    let all = completed.len();
    completed.sort_unstable();
    completed.dedup();
    assert_eq!(completed.len(), all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_foreign_wrongly_ready_row_is_demoted_while_every_worker_is_busy() {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let long = conn
        .write(|t| {
            t.create(&NewTask {
                title: "long".into(),
                ..NewTask::default()
            })
        })
        .expect("create");
    let pool = Pool::start(&board.path, config(1, (60_000, 60_000))).expect("start");
    until(
        "the only worker to be busy",
        Duration::from_secs(10),
        || count(&conn, Status::Running) == 1,
    )
    .await;
    // Another program: a parent still todo, and a child it marks ready anyway.
    let raw = rusqlite::Connection::open(&board.path).expect("raw connection");
    raw.execute_batch(
        "INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000aaaa', 'parent', 'todo', 1);
         INSERT INTO tasks (id, title, status, created_at) VALUES ('t_0000bbbb', 'child', 'ready', 1);
         INSERT INTO task_links (parent_id, child_id) VALUES ('t_0000aaaa', 't_0000bbbb');",
    )
    .expect("foreign insert");
    drop(raw);
    until(
        "the gate to demote the child",
        Duration::from_secs(30),
        || conn.read(|r| r.task("t_0000bbbb")).expect("task").status == Status::Todo,
    )
    .await;
    let events = conn
        .read(|r| r.events_after(0, usize::MAX, Some("t_0000bbbb")))
        .expect("events");
    let rejected: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::ClaimRejected)
        .collect();
    assert_eq!(rejected.len(), 1);
    assert_eq!(rejected[0].payload_str("reason"), Some("parents_not_done"));
    assert_eq!(
        conn.read(|r| r.task(&long)).expect("task").status,
        Status::Running,
        "the worker was busy the whole time"
    );
    pool.stop().await;
}
