//! Key handling on the app state, against a real board.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use gateboard::core::{Board, EventKind, NewTask, OpenOptions, Status};
use gateboard::pool::PoolConfig;
use gateboard::pool::racer::{self, RaceConfig, RaceMode};
use gateboard::tui::action::Action;
use gateboard::tui::app::App;
use gateboard::tui::race;
use gateboard::tui::state::{BoardView, Mode, Pane, RaceSummary, State};
use gateboard::tui::theme::Theme;

fn key(c: char) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn code(code: KeyCode) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(c));
    }
}

struct Fixture {
    board: common::TempBoard,
    app: App,
    ids: Vec<String>,
}

/// A board with a done parent, a ready child, and a blocked task.
fn fixture() -> Fixture {
    let board = common::TempBoard::new();
    let mut conn = board.open();
    let ids = conn
        .write(|t| {
            let parent = t.create(&NewTask {
                title: "parent".into(),
                ..NewTask::default()
            })?;
            let child = t.create(&NewTask {
                title: "child".into(),
                parents: vec![parent.clone()],
                ..NewTask::default()
            })?;
            t.complete(&parent, None, Some("done by the fixture"))?;
            let stuck = t.create(&NewTask {
                title: "stuck".into(),
                ..NewTask::default()
            })?;
            t.block(&stuck, "needs a person")?;
            Ok(vec![parent, child, stuck])
        })
        .expect("seed");
    let app = open_app(&board);
    Fixture { board, app, ids }
}

fn status(board: &Board, id: &str) -> Status {
    board.read(|r| r.task(id)).expect("task").status
}

#[test]
fn vim_keys_and_arrows_move_the_same_way() {
    let mut f = fixture();
    f.app.update(key('l'));
    assert_eq!(f.app.model.state.column, 1);
    f.app.update(code(KeyCode::Right));
    assert_eq!(f.app.model.state.column, 2);
    f.app.update(code(KeyCode::Left));
    f.app.update(key('h'));
    f.app.update(key('h'));
    assert_eq!(
        f.app.model.state.column, 0,
        "the cursor stops at the first column"
    );
    f.app.update(code(KeyCode::Tab));
    assert_eq!(f.app.model.state.pane, Pane::Log);
}

#[test]
fn u_unblocks_the_selected_blocked_task() {
    let mut f = fixture();
    for _ in 0..3 {
        f.app.update(key('l'));
    }
    assert_eq!(f.app.model.state.selected_status(), Status::Blocked);
    f.app.update(key('u'));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
    assert_eq!(f.app.model.state.view.column(&Status::Ready).len(), 2);
}

#[test]
fn b_asks_for_a_reason_then_blocks() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('b'));
    assert!(matches!(f.app.model.state.mode, Mode::Prompt(_)));
    typed(&mut f.app, "waiting on legal");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    let task = f.board.open().read(|r| r.task(&f.ids[1])).expect("task");
    assert_eq!(task.status, Status::Blocked);
    assert_eq!(task.block_reason.as_deref(), Some("waiting on legal"));
}

#[test]
fn escape_cancels_a_prompt_without_writing() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('b'));
    typed(&mut f.app, "never mind");
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

#[test]
fn c_completes_and_a_archives_the_selected_task_once_confirmed() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('c'));
    assert_eq!(
        status(&f.board.open(), &f.ids[1]),
        Status::Ready,
        "asked first"
    );
    f.app.update(key('y'));
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Done);
    for _ in 0..3 {
        f.app.update(key('l'));
    }
    f.app.update(key('a'));
    f.app.update(key('y'));
    let archived = f
        .board
        .open()
        .read(|r| r.tasks(Some(&Status::Archived)))
        .expect("tasks");
    assert_eq!(archived.len(), 1);
}

#[test]
fn refusals_show_as_a_message_and_change_nothing() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('u'));
    let message = f.app.model.state.message.clone().unwrap_or_default();
    assert!(
        message.contains("needs a task that is blocked"),
        "{message}"
    );
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

#[test]
fn n_creates_a_task_and_selects_it() {
    let mut f = fixture();
    f.app.update(key('n'));
    typed(&mut f.app, "write the changelog");
    f.app.update(code(KeyCode::Enter));
    let selected = f.app.model.state.selected_task().map(|t| t.title.clone());
    assert_eq!(selected.as_deref(), Some("write the changelog"));
}

#[test]
fn enter_opens_the_detail_view_and_esc_closes_it() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(code(KeyCode::Enter));
    match &f.app.model.state.mode {
        Mode::Detail(detail) => {
            assert_eq!(detail.task.id, f.ids[1]);
            assert_eq!(detail.parents.len(), 1);
        }
        other => panic!("expected the detail view, got {other:?}"),
    }
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
}

#[test]
fn o_toggles_the_other_statuses() {
    let mut f = fixture();
    assert_eq!(f.app.model.state.statuses().len(), 5);
    f.app.update(key('o'));
    assert_eq!(f.app.model.state.statuses().len(), 9);
}

#[test]
fn question_mark_toggles_help_and_q_quits() {
    let mut f = fixture();
    f.app.update(key('?'));
    assert_eq!(f.app.model.state.mode, Mode::Help);
    f.app.update(key('?'));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert!(!f.app.should_quit());
    f.app.update(key('q'));
    assert!(f.app.should_quit());
}

#[test]
fn a_click_selects_the_card_under_the_mouse() {
    let mut f = fixture();
    f.app.update(Action::Resize {
        width: 100,
        height: 30,
    });
    // Columns are 20 wide at 100 columns; the blocked column is the fourth.
    f.app.update(Action::Click { x: 65, y: 1 });
    assert_eq!(f.app.model.state.selected_status(), Status::Blocked);
    assert_eq!(
        f.app.model.state.selected_task().map(|t| t.id.clone()),
        Some(f.ids[2].clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plus_minus_and_p_drive_the_pool() {
    let mut f = fixture();
    f.app.update(key('+'));
    assert!(f.app.model.state.pool.running);
    assert_eq!(f.app.model.state.pool.size, 1);
    f.app.update(key('+'));
    assert_eq!(f.app.model.state.pool.size, 2);
    f.app.update(key('-'));
    assert_eq!(f.app.model.state.pool.size, 1);
    f.app.update(key('p'));
    assert!(f.app.model.state.pool.paused);
    f.app.update(key('p'));
    assert!(!f.app.model.state.pool.paused);
    f.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn changes_by_another_connection_arrive_on_refresh() {
    let mut f = fixture();
    let mut other = f.board.open();
    other
        .write(|t| t.unblock(&f.ids[2]))
        .expect("another writer");
    f.app.update(Action::BoardChanged);
    f.app.catch_up();
    assert_eq!(f.app.model.state.view.column(&Status::Blocked).len(), 0);
    assert!(f.app.model.state.log.iter().any(|e| e.task_id == f.ids[2]));
    tokio::time::sleep(Duration::from_millis(1)).await;
}

fn ctrl(c: char) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::CONTROL,
    )))
}

fn alt(c: char) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::ALT,
    )))
}

fn open_app(board: &common::TempBoard) -> App {
    App::new(
        board.open(),
        State::new("board".into(), BoardView::default(), Theme::new(false), 0),
        PoolConfig::default(),
        OpenOptions::default(),
    )
    .expect("app")
}

/// Creates tasks of these titles and priorities, in this order, all in one second.
fn create(board: &common::TempBoard, tasks: &[(&str, i64)]) -> Vec<String> {
    board
        .open()
        .write_at(1_795_000_000, |t| {
            tasks
                .iter()
                .map(|(title, priority)| {
                    t.create(&NewTask {
                        title: (*title).into(),
                        priority: *priority,
                        ..NewTask::default()
                    })
                })
                .collect()
        })
        .expect("create tasks")
}

fn selected_id(app: &App) -> Option<String> {
    app.model.state.selected_task().map(|t| t.id.clone())
}

/// What the watcher does when another process commits, and what the main loop does next.
fn another_process_committed(app: &mut App) {
    app.update(Action::BoardChanged);
    app.catch_up();
}

fn pending_prompt_input(app: &App) -> String {
    match &app.model.state.mode {
        Mode::Prompt(prompt) => prompt.input.value().to_owned(),
        other => panic!("expected a prompt, got {other:?}"),
    }
}

#[test]
fn the_selection_stays_on_its_task_when_cards_above_it_leave() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("a", 0), ("b", 0), ("c", 0), ("d", 0)]);
    let mut app = open_app(&board);
    app.update(key('l'));
    app.update(key('j'));
    app.update(key('j'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[2]));

    board
        .open()
        .write(|t| t.block(&ids[0], "taken elsewhere"))
        .expect("another writer");
    another_process_committed(&mut app);
    assert_eq!(
        selected_id(&app).as_ref(),
        Some(&ids[2]),
        "the cursor stays on c, now one row up"
    );

    app.update(key('c'));
    app.update(key('y'));
    let reader = board.open();
    assert_eq!(status(&reader, &ids[2]), Status::Done, "c acts on c");
    assert_eq!(status(&reader, &ids[3]), Status::Ready, "not on d");
}

#[test]
fn when_the_selected_task_leaves_the_cursor_takes_the_card_that_was_below_it() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("parent", 5), ("next in line", 1)]);
    let child = board
        .open()
        .write(|t| {
            t.create(&NewTask {
                title: "child".into(),
                priority: 3,
                parents: vec![ids[0].clone()],
                ..NewTask::default()
            })
        })
        .expect("child");
    let mut app = open_app(&board);
    app.update(key('l'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[0]));

    // Archiving the parent promotes the child into the parent's row of the ready column.
    app.update(key('a'));
    app.update(key('y'));
    assert_eq!(app.model.state.view.column(&Status::Ready)[0], child);
    assert_eq!(
        selected_id(&app).as_ref(),
        Some(&ids[1]),
        "the cursor goes to the card that was below, not to the newcomer"
    );

    app.update(key('c'));
    app.update(key('y'));
    let reader = board.open();
    assert_eq!(status(&reader, &ids[1]), Status::Done);
    assert_eq!(status(&reader, &child), Status::Ready);
}

#[test]
fn a_change_that_writes_no_events_shows_within_the_reload_throttle() {
    use gateboard::tui::freshness::{RECHECK_AFTER, RELOAD_AT_MOST_EVERY};
    use std::time::Instant;

    let f = fixture();
    let mut app = f.app;
    let id = f.ids[1].clone();
    let sql = rusqlite::Connection::open(&f.board.path).expect("raw connection");
    let rename = |title: &str| {
        sql.execute(
            "UPDATE tasks SET title = ?1 WHERE id = ?2",
            rusqlite::params![title, id],
        )
        .expect("raw update")
    };
    let title = |app: &App| app.model.state.view.task(&id).map(|t| t.title.clone());
    // The app's schedule runs on this clock, stepped to each moment it asks to wake at, so
    // how long the machine takes to run the test does not matter.
    let mut now = Instant::now();
    let committed_elsewhere = |app: &mut App, now: Instant| {
        app.update(Action::BoardChanged);
        app.catch_up_at(now);
    };
    let wait_for = |app: &mut App, now: &mut Instant, wanted: &str| {
        let start = *now;
        // Only a guard against a loop; a handful of looks is all the schedule takes.
        for _ in 0..100 {
            if title(app).as_deref() == Some(wanted) {
                return;
            }
            let wake = app
                .next_wake()
                .expect("a look is due: the change is not shown yet");
            *now = wake.max(*now);
            assert!(
                *now - start <= RELOAD_AT_MOST_EVERY + RECHECK_AFTER,
                "{wanted:?} did not show within the throttle; the card still reads {:?}",
                title(app)
            );
            app.catch_up_at(*now);
        }
        panic!(
            "{wanted:?} never showed; the card still reads {:?}",
            title(app)
        );
    };

    // The watcher fires on the WAL write, before the commit is visible: that look finds nothing.
    committed_elsewhere(&mut app, now);
    rename("renamed raw");
    wait_for(&mut app, &mut now, "renamed raw");

    // Again at once, while a reload has just been done: it is throttled, not dropped.
    rename("renamed again");
    committed_elsewhere(&mut app, now);
    wait_for(&mut app, &mut now, "renamed again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_only_quit_while_the_terminal_is_too_small() {
    let mut f = fixture();
    f.app.update(Action::Resize {
        width: 60,
        height: 15,
    });
    for c in ['l', 'c', '+', 'p', 'b', '/', '?'] {
        f.app.update(key(c));
    }
    f.app.update(Action::Complete);
    assert_eq!(f.app.model.state.column, 0, "the cursor did not move");
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert!(!f.app.model.state.pool.running, "no workers were started");
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);

    f.app.update(Action::Resize {
        width: 100,
        height: 30,
    });
    f.app.update(key('l'));
    assert_eq!(
        f.app.model.state.column, 1,
        "keys act again once the board shows"
    );
    f.app.update(key('n'));
    f.app.update(Action::Resize {
        width: 60,
        height: 15,
    });
    f.app.update(key('q'));
    assert!(
        f.app.should_quit(),
        "q quits, as the note says, even from a prompt"
    );
    f.app.shutdown().await;
}

#[test]
fn ctrl_and_alt_letters_are_not_typed_into_a_prompt() {
    let mut f = fixture();
    f.app.update(key('n'));
    typed(&mut f.app, "abc");
    f.app.update(ctrl('u'));
    assert_eq!(pending_prompt_input(&f.app), "", "Ctrl-U clears the line");
    typed(&mut f.app, "x");
    f.app.update(ctrl('a'));
    f.app.update(alt('y'));
    assert_eq!(pending_prompt_input(&f.app), "x");
    f.app.update(ctrl('c'));
    assert!(f.app.should_quit(), "Ctrl-C still quits");
}

#[test]
fn ctrl_and_alt_letters_are_not_board_commands() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(ctrl('a'));
    f.app.update(alt('c'));
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

#[test]
fn each_column_lists_tasks_in_the_order_workers_claim_them() {
    use gateboard::core::ops::Claimer;

    let board = common::TempBoard::new();
    let names: Vec<String> = (0..12).map(|i| format!("task {i}")).collect();
    let first: Vec<(&str, i64)> = names[..6].iter().map(|n| (n.as_str(), 1)).collect();
    create(&board, &first);
    let mut app = open_app(&board);
    // More equals (same priority, same second) arriving live, and one that outranks them all.
    let mut later: Vec<(&str, i64)> = names[6..].iter().map(|n| (n.as_str(), 1)).collect();
    later.push(("urgent", 9));
    create(&board, &later);
    another_process_committed(&mut app);
    let shown = app.model.state.view.column(&Status::Ready).to_vec();
    assert_eq!(shown.len(), 13);

    let mut worker = board.open();
    let claimer = Claimer {
        lock: "test:w0".into(),
        ttl: Duration::from_secs(60),
    };
    let claimed: Vec<String> = std::iter::from_fn(|| {
        worker
            .write(|t| t.claim_next(&claimer))
            .expect("claim")
            .claim
            .map(|c| c.task_id)
    })
    .collect();
    assert_eq!(shown, claimed);
}

/// Claims the fixture's ready child by hand, so the running column holds it, and reloads.
fn claim_child(f: &mut Fixture) -> String {
    let child = f.ids[1].clone();
    f.board
        .open()
        .write(|t| {
            t.claim(
                &child,
                &gateboard::core::ops::Claimer {
                    lock: "gateboard:1:abcd:w0".into(),
                    ttl: Duration::from_secs(60),
                },
            )
        })
        .expect("claim");
    another_process_committed(&mut f.app);
    for _ in 0..2 {
        f.app.update(key('l'));
    }
    assert_eq!(f.app.model.state.selected_status(), Status::Running);
    child
}

#[test]
fn x_asks_naming_the_task_and_y_cancels_it() {
    let mut f = fixture();
    let child = claim_child(&mut f);
    f.app.update(key('x'));
    let Mode::Prompt(prompt) = &f.app.model.state.mode else {
        panic!("x asks first, got {:?}", f.app.model.state.mode);
    };
    assert_eq!(prompt.task.as_deref(), Some(child.as_str()));
    assert_eq!(status(&f.board.open(), &child), Status::Running);
    f.app.update(key('y'));
    let task = f.board.open().read(|r| r.task(&child)).expect("task");
    assert_eq!(task.status, Status::Blocked);
    assert_eq!(
        task.block_reason.as_deref(),
        Some("cancelled by gateboard tui")
    );
    let runs = f.board.open().read(|r| r.runs(&child)).expect("runs");
    assert_eq!(
        runs.last().and_then(|r| r.outcome.as_deref()),
        Some("cancelled")
    );
}

#[test]
fn any_key_but_y_keeps_the_task_running() {
    let mut f = fixture();
    let child = claim_child(&mut f);
    for answer in [key('n'), code(KeyCode::Esc), key('c'), code(KeyCode::Enter)] {
        f.app.update(key('x'));
        assert!(matches!(f.app.model.state.mode, Mode::Prompt(_)));
        f.app.update(answer);
        assert_eq!(f.app.model.state.mode, Mode::Normal);
        assert_eq!(status(&f.board.open(), &child), Status::Running);
    }
}

#[test]
fn x_on_a_task_that_is_not_running_says_so_and_asks_nothing() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('x'));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    let message = f.app.model.state.message.clone().unwrap_or_default();
    assert!(
        message.contains("only a running task can be cancelled"),
        "{message}"
    );
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

/// Drives the app as its main loop does (ticks, and a look after each commit) until the race
/// it runs is summed up; the deadline only guards against a hang.
async fn until_race_summary(app: &mut App) -> RaceSummary {
    let start = std::time::Instant::now();
    loop {
        app.update(Action::Tick);
        another_process_committed(app);
        if let Some(summary) = &app.model.state.race_summary {
            return summary.clone();
        }
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the race was never summed up; the status line reads {:?}",
            app.model.state.message
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// How many events of `kind` the board holds for the race's own tasks.
fn race_events(board: &common::TempBoard, kind: &EventKind) -> u64 {
    board
        .open()
        .read(|r| {
            let race: HashSet<String> = r
                .tasks(None)?
                .into_iter()
                .filter(|t| t.created_by.as_deref() == Some(racer::CREATED_BY))
                .map(|t| t.id)
                .collect();
            let events = r.events_after(0, 1_000_000, None)?;
            Ok(events
                .iter()
                .filter(|e| e.kind == *kind && race.contains(&e.task_id))
                .count() as u64)
        })
        .expect("read the board")
}

/// A task no race made, created by another program while the race runs: its claim is no
/// claim of the race's.
fn meanwhile_another_task(board: &common::TempBoard) {
    board
        .open()
        .write(|t| {
            t.create(&NewTask {
                title: "not the race's".into(),
                ..NewTask::default()
            })
        })
        .expect("another writer");
}

fn message(app: &App) -> String {
    app.model.state.message.clone().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capital_r_races_a_buggy_writer_and_the_gate_fires_on_screen() {
    let mut f = fixture();
    f.app.set_race_pace(Duration::ZERO);
    f.app.update(key('+'));
    f.app.update(key('+'));
    f.app.update(key('R'));
    assert!(f.app.model.state.pool.race.is_some(), "{}", message(&f.app));
    meanwhile_another_task(&f.board);
    let summary = until_race_summary(&mut f.app).await;

    assert!(
        f.app
            .model
            .state
            .log
            .iter()
            .any(|e| e.kind == EventKind::ClaimRejected),
        "claim_rejected shows in the event log"
    );
    assert_eq!(summary.mode, RaceMode::BuggyWriter);
    assert!(summary.finished);
    assert_eq!(summary.children, race::ROUNDS);
    assert!(summary.rejections > 0, "the gate fired: {summary:?}");
    assert_eq!(
        summary.rejections,
        race_events(&f.board, &EventKind::ClaimRejected)
    );
    assert_eq!(summary.claims, race_events(&f.board, &EventKind::Claimed));
    assert_eq!(
        (summary.live_violations, summary.audit_violations),
        (0, 0),
        "{summary:?}"
    );
    assert_eq!(f.app.model.state.pool.race, None, "the race is over");
    assert!(message(&f.app).contains("race done: 0 violations"));
    f.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn r_races_create_then_link_and_the_gate_never_needs_to_fire() {
    let mut f = fixture();
    f.app.set_race_pace(Duration::ZERO);
    f.app.update(key('+'));
    f.app.update(key('+'));
    f.app.update(key('r'));
    assert!(f.app.model.state.pool.race.is_some(), "{}", message(&f.app));
    meanwhile_another_task(&f.board);
    let summary = until_race_summary(&mut f.app).await;

    assert_eq!(summary.mode, RaceMode::CreateThenLink);
    assert!(summary.finished);
    assert_eq!(summary.children, race::ROUNDS);
    assert_eq!(
        summary.rejections, 0,
        "either the link or the claim came first"
    );
    assert_eq!(summary.claims, race_events(&f.board, &EventKind::Claimed));
    let race_tasks = race::ROUNDS + RaceConfig::default().parents;
    assert!(
        summary.claims >= race_tasks as u64,
        "every task of the race ran: {summary:?}"
    );
    assert_eq!(
        (summary.live_violations, summary.audit_violations),
        (0, 0),
        "{summary:?}"
    );
    f.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_needs_running_workers_and_names_the_key_that_gives_them() {
    let mut f = fixture();
    let tasks = |f: &Fixture| f.board.open().read(|r| r.tasks(None)).expect("tasks").len();
    let before = tasks(&f);
    for race_key in ['r', 'R'] {
        f.app.update(key(race_key));
        assert_eq!(message(&f.app), "race needs workers: press + to start one");
    }
    f.app.update(key('+'));
    f.app.update(key('p'));
    f.app.update(key('R'));
    assert_eq!(
        message(&f.app),
        "race needs workers: the pool is paused, press p to resume"
    );
    f.app.update(key('p'));
    f.app.update(key('-'));
    f.app.update(key('R'));
    assert_eq!(message(&f.app), "race needs workers: press + to start one");
    assert_eq!(f.app.model.state.pool.race, None, "no race started");
    assert_eq!(f.app.model.state.race_summary, None);
    assert_eq!(tasks(&f), before, "the race wrote nothing");
    f.app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_race_is_refused_by_a_pool_that_works_only_one_file_s_tasks() {
    let board = common::TempBoard::new();
    let mut app = App::new(
        board.open(),
        State::new("board".into(), BoardView::default(), Theme::new(false), 0),
        PoolConfig {
            key_prefix: Some("/work/pipeline.toml#".into()),
            ..PoolConfig::default()
        },
        OpenOptions::default(),
    )
    .expect("app");
    app.update(key('+'));
    app.update(key('R'));
    assert!(
        message(&app).contains("only one file's tasks"),
        "{}",
        message(&app)
    );
    assert_eq!(app.model.state.pool.race, None);
    app.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn either_race_key_stops_a_running_race_and_sums_it_up_as_stopped() {
    let mut f = fixture();
    // A pace no test waits out: the race is still writing when it is stopped.
    f.app.set_race_pace(Duration::from_secs(3600));
    f.app.update(key('+'));
    f.app.update(key('R'));
    assert!(f.app.model.state.pool.race.is_some(), "{}", message(&f.app));
    f.app.update(key('r'));
    assert!(
        message(&f.app).contains("the workers finish them"),
        "{}",
        message(&f.app)
    );

    // What it wrote is worked to the end and counted, then summed up.
    let summary = until_race_summary(&mut f.app).await;
    assert_eq!(summary.mode, RaceMode::BuggyWriter);
    assert!(
        summary.claims > 0,
        "its tasks ran and were counted: {summary:?}"
    );
    assert!(!summary.finished);
    assert!(summary.children <= 1, "{summary:?}");
    assert_eq!(summary.audit_violations, 0);
    assert_eq!(f.app.model.state.pool.race, None);
    assert!(message(&f.app).starts_with("race stopped"));
    let held = f
        .board
        .open()
        .read(|r| r.tasks(Some(&Status::Blocked)))
        .expect("tasks")
        .into_iter()
        .filter(|t| t.created_by.as_deref() == Some(racer::CREATED_BY))
        .count();
    assert_eq!(held, 0, "the race's parents are released when it stops");
    f.app.shutdown().await;
}

#[test]
fn a_task_a_worker_takes_stays_the_one_keys_act_on_until_the_person_moves() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("chosen", 5), ("next in line", 1)]);
    let mut app = open_app(&board);
    app.update(key('l'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[0]));

    // Another process claims the chosen task: it leaves the ready column by itself.
    board
        .open()
        .write(|t| {
            t.claim(
                &ids[0],
                &gateboard::core::ops::Claimer {
                    lock: "elsewhere:w1".into(),
                    ttl: Duration::from_secs(60),
                },
            )
        })
        .expect("another worker");
    another_process_committed(&mut app);
    assert_eq!(
        app.model.state.column, 1,
        "the focused column never changes by itself"
    );
    assert_eq!(
        selected_id(&app).as_ref(),
        Some(&ids[0]),
        "keys still act on the chosen task, not on the card that took its row"
    );
    let cards = app.model.state.cards(&Status::Ready);
    assert_eq!(
        app.model.state.highlighted_row(&Status::Ready, &cards),
        None
    );
    let message = app.model.state.message.clone().unwrap_or_default();
    assert!(
        message.contains(&ids[0]) && message.contains("running"),
        "the status line says where it went: {message}"
    );

    // A key already on its way opens a prompt bound to the chosen task.
    app.update(key('b'));
    match &app.model.state.mode {
        Mode::Prompt(prompt) => assert_eq!(prompt.task.as_ref(), Some(&ids[0])),
        other => panic!("no block prompt: {other:?}"),
    }
    app.update(code(KeyCode::Esc));

    // Moving picks a card again: the first step down lands on the one that took the row.
    app.update(key('j'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[1]));
    let cards = app.model.state.cards(&Status::Ready);
    assert_eq!(
        app.model.state.highlighted_row(&Status::Ready, &cards),
        Some(0)
    );
}

#[test]
fn a_refused_confirmation_changes_nothing() {
    let mut f = fixture();
    f.app.update(key('l'));
    let before = f.board.open().read(|r| r.tasks(None)).expect("tasks");
    for (ask, answer) in [('c', 'n'), ('a', 'q')] {
        f.app.update(key(ask));
        match &f.app.model.state.mode {
            Mode::Prompt(prompt) => {
                assert!(prompt.kind.is_question());
                assert_eq!(prompt.task.as_ref(), Some(&f.ids[1]));
            }
            other => panic!("{ask} did not ask: {other:?}"),
        }
        f.app.update(key(answer));
        assert_eq!(f.app.model.state.mode, Mode::Normal);
        assert!(!f.app.should_quit(), "the answer is only an answer");
    }
    f.app.update(code(KeyCode::Enter));
    f.app.update(code(KeyCode::Esc));
    let after = f.board.open().read(|r| r.tasks(None)).expect("tasks");
    assert_eq!(before, after);
}

#[test]
fn c_on_a_running_card_says_to_cancel_it_first_and_writes_nothing() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("busy", 0)]);
    board
        .open()
        .write(|t| {
            t.claim(
                &ids[0],
                &gateboard::core::ops::Claimer {
                    lock: "elsewhere:w1".into(),
                    ttl: Duration::from_secs(60),
                },
            )
        })
        .expect("claim");
    let mut app = open_app(&board);
    app.update(key('l'));
    app.update(key('l'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[0]));
    app.update(key('c'));
    assert_eq!(app.model.state.mode, Mode::Normal);
    let message = app.model.state.message.clone().unwrap_or_default();
    assert!(message.contains("x cancels it first"), "{message}");
    assert_eq!(status(&board.open(), &ids[0]), Status::Running);
}

#[test]
fn u_on_an_archived_card_unarchives_it() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("old", 0)]);
    board.open().write(|t| t.archive(&ids[0])).expect("archive");
    let mut app = open_app(&board);
    app.update(key('o'));
    app.model.state.select_task(&ids[0]);
    app.update(key('u'));
    assert_eq!(status(&board.open(), &ids[0]), Status::Ready);
    let message = app.model.state.message.clone().unwrap_or_default();
    assert!(message.contains("unarchived"), "{message}");
}

#[test]
fn t_shows_the_dependency_tree_and_enter_jumps_to_a_parent() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("fetch", 0)]);
    let child = board
        .open()
        .write(|t| {
            t.create(&NewTask {
                title: "train".into(),
                parents: vec![ids[0].clone()],
                ..NewTask::default()
            })
        })
        .expect("child");
    let mut app = open_app(&board);
    app.model.state.select_task(&child);
    app.update(key('t'));
    let Mode::Tree(tree) = &app.model.state.mode else {
        panic!("no tree: {:?}", app.model.state.mode);
    };
    assert_eq!(
        tree.selected(),
        Some(child.as_str()),
        "the cursor starts on the task"
    );
    assert_eq!(tree.holding_back, vec![ids[0].clone()]);
    assert_eq!(tree.critical, vec![ids[0].clone()]);
    app.update(key('k'));
    app.update(code(KeyCode::Enter));
    match &app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, ids[0]),
        other => panic!("Enter did not open the parent: {other:?}"),
    }
    assert_eq!(
        selected_id(&app).as_ref(),
        Some(&ids[0]),
        "the board follows"
    );
    // From the detail view, t opens that task's own tree: the child is below it.
    app.update(key('t'));
    let Mode::Tree(tree) = &app.model.state.mode else {
        panic!("no tree from the detail view");
    };
    assert_eq!(tree.lineage.descendants(), vec![child.clone()]);
    app.update(code(KeyCode::Esc));
    assert_eq!(app.model.state.mode, Mode::Normal);
}

#[test]
fn g_and_capital_g_go_to_the_first_and_last_card_and_home_end_too() {
    let board = common::TempBoard::new();
    let ids = create(&board, &[("a", 0), ("b", 0), ("c", 0), ("d", 0)]);
    let mut app = open_app(&board);
    app.update(key('l'));
    app.update(key('G'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[3]));
    app.update(key('g'));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[0]));
    app.update(code(KeyCode::End));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[3]));
    app.update(code(KeyCode::Home));
    assert_eq!(selected_id(&app).as_ref(), Some(&ids[0]));
}

#[test]
fn a_rebound_key_acts_and_its_old_key_does_not() {
    use gateboard::tui::keymap::Keymap;
    let mut f = fixture();
    f.app.model.state.keymap = Keymap::with_file(
        "[keys]\nunblock = \"F3\"\n",
        std::path::Path::new("keys.toml"),
    )
    .expect("keys");
    for _ in 0..3 {
        f.app.update(key('l'));
    }
    f.app.update(key('u'));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Blocked);
    f.app.update(code(KeyCode::F(3)));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
}

/// Creates `n` tasks in one transaction: `n` `created` events.
fn many_tasks(board: &common::TempBoard, n: usize) -> Vec<String> {
    board
        .open()
        .write(|t| {
            (0..n)
                .map(|i| {
                    t.create(&NewTask {
                        title: format!("task {i}"),
                        ..NewTask::default()
                    })
                })
                .collect()
        })
        .expect("create tasks")
}

/// Has the gate refuse `n` claims of one child whose parent is not done, as a racy writer
/// would provoke: `n` `claim_rejected` events.
fn rejections(board: &common::TempBoard, n: usize) {
    board
        .open()
        .write(|t| {
            let parent = t.create(&NewTask {
                title: "unfinished parent".into(),
                ..NewTask::default()
            })?;
            let child = t.create(&NewTask {
                title: "gated child".into(),
                parents: vec![parent],
                ..NewTask::default()
            })?;
            let claimer = gateboard::core::ops::Claimer {
                lock: "test:w0".into(),
                ttl: Duration::from_secs(60),
            };
            for _ in 0..n {
                t.mark_ready_ignoring_parents(&child)?;
                t.claim(&child, &claimer)?;
            }
            Ok(())
        })
        .expect("rejections");
}

fn visible_ids(app: &App) -> Vec<i64> {
    app.model.state.log.visible().map(|(e, _)| e.id).collect()
}

fn selected_event(app: &App) -> i64 {
    app.model
        .state
        .log
        .selected()
        .expect("an event is selected")
        .id
}

fn last_event_id(board: &common::TempBoard) -> i64 {
    board.open().read(|r| r.last_event_id()).expect("last id")
}

#[test]
fn a_frozen_events_pane_holds_its_rows_while_events_arrive() {
    let board = common::TempBoard::new();
    many_tasks(&board, 30);
    let mut app = open_app(&board);
    app.update(code(KeyCode::Tab));
    assert!(app.model.state.log.is_following());
    for _ in 0..3 {
        app.update(key('k'));
    }
    assert!(!app.model.state.log.is_following(), "scrolling up freezes");
    let before = visible_ids(&app);
    let selected = selected_event(&app);

    many_tasks(&board, 12);
    another_process_committed(&mut app);
    assert_eq!(visible_ids(&app), before, "the rows on screen did not move");
    assert_eq!(selected_event(&app), selected, "nor did the cursor");
    assert_eq!(app.model.state.log.new_since_frozen(), 12);
}

#[test]
fn capital_g_end_and_esc_follow_the_newest_event_again() {
    let board = common::TempBoard::new();
    many_tasks(&board, 30);
    let mut app = open_app(&board);
    app.update(code(KeyCode::Tab));
    for follow in [key('G'), code(KeyCode::End), code(KeyCode::Esc)] {
        app.update(code(KeyCode::PageUp));
        many_tasks(&board, 2);
        another_process_committed(&mut app);
        assert!(!app.model.state.log.is_following());
        app.update(follow.clone());
        assert!(app.model.state.log.is_following(), "{follow:?} follows");
        assert_eq!(selected_event(&app), last_event_id(&board));
        assert_eq!(
            visible_ids(&app).last(),
            Some(&last_event_id(&board)),
            "the newest is at the bottom"
        );
        many_tasks(&board, 1);
        another_process_committed(&mut app);
        assert_eq!(selected_event(&app), last_event_id(&board), "and stays so");
    }
}

#[test]
fn the_events_cursor_stops_at_the_newest_event_without_blank_rows() {
    let board = common::TempBoard::new();
    many_tasks(&board, 30);
    let mut app = open_app(&board);
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::PageUp));
    for _ in 0..5 {
        app.update(code(KeyCode::PageDown));
    }
    assert_eq!(selected_event(&app), last_event_id(&board));
    assert_eq!(
        visible_ids(&app).len(),
        gateboard::tui::layout::LOG_ROWS,
        "every row shows an event"
    );
}

#[test]
fn g_and_home_go_to_the_oldest_loaded_event() {
    let board = common::TempBoard::new();
    many_tasks(&board, 30);
    let mut app = open_app(&board);
    app.update(code(KeyCode::Tab));
    for oldest in [key('g'), code(KeyCode::Home)] {
        app.update(key('G'));
        app.update(oldest);
        assert_eq!(selected_event(&app), 1);
        assert_eq!(visible_ids(&app).first(), Some(&1));
    }
}

#[test]
fn enter_on_an_event_opens_its_task() {
    let mut f = fixture();
    f.app.update(code(KeyCode::Tab));
    // The fixture's newest events are the stuck task's: created, then blocked.
    f.app.update(key('k'));
    f.app.update(key('k'));
    let event = f.app.model.state.log.selected().expect("an event").clone();
    assert_eq!(event.task_id, f.ids[1], "{event:?}");
    f.app.update(code(KeyCode::Enter));
    match &f.app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, f.ids[1]),
        other => panic!("expected the detail view, got {other:?}"),
    }
}

#[test]
fn keys_over_a_detail_view_act_on_its_task() {
    let mut f = fixture();
    f.app.update(code(KeyCode::Tab));
    f.app.update(code(KeyCode::Enter));
    match &f.app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, f.ids[2], "the newest event's"),
        other => panic!("expected the detail view, got {other:?}"),
    }
    f.app.update(key('u'));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
    match &f.app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.status, Status::Ready, "it shows"),
        other => panic!("the detail view stays open, got {other:?}"),
    }
}

#[test]
fn scrolling_up_past_the_oldest_loaded_event_reads_older_ones_from_the_board() {
    use gateboard::tui::event_log::WINDOW;

    let board = common::TempBoard::new();
    many_tasks(&board, WINDOW + 300);
    let newest = last_event_id(&board);
    let mut app = open_app(&board);
    assert!(
        app.model.state.log.first_id() > Some(1),
        "only the tail is loaded"
    );
    app.update(code(KeyCode::Tab));
    for _ in 0..=(WINDOW + 300) / 10 {
        app.update(code(KeyCode::PageUp));
        assert!(app.model.state.log.len() <= WINDOW, "memory stays bounded");
    }
    assert_eq!(
        selected_event(&app),
        1,
        "the board's first event is reached"
    );
    assert!(
        app.model.state.log.last_id() < Some(newest),
        "the newest were let go"
    );

    // Scrolling back down reads them again.
    for _ in 0..=(WINDOW + 300) / 10 {
        app.update(code(KeyCode::PageDown));
        assert!(app.model.state.log.len() <= WINDOW);
    }
    assert_eq!(selected_event(&app), newest);
    many_tasks(&board, 1);
    another_process_committed(&mut app);
    app.update(key('G'));
    assert_eq!(selected_event(&app), newest + 1);
}

#[test]
fn f_shows_only_claim_rejected_events_older_ones_included() {
    let board = common::TempBoard::new();
    rejections(&board, 3);
    many_tasks(&board, 500);
    let mut app = open_app(&board);
    assert!(
        !app.model
            .state
            .log
            .iter()
            .any(|e| e.kind == gateboard::core::EventKind::ClaimRejected),
        "the rejections are older than the tail"
    );
    app.update(key('f'));
    assert_eq!(
        app.model.state.log.filter(),
        gateboard::tui::event_log::LogFilter::Rejected
    );
    let kinds: Vec<_> = app.model.state.log.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, vec![gateboard::core::EventKind::ClaimRejected; 3]);

    rejections(&board, 1);
    another_process_committed(&mut app);
    assert_eq!(app.model.state.log.len(), 4, "live ones of the kind arrive");
    assert!(
        app.model
            .state
            .log
            .iter()
            .all(|e| e.kind == gateboard::core::EventKind::ClaimRejected),
        "and only those"
    );
    app.update(key('f'));
    app.update(key('f'));
    assert_eq!(
        app.model.state.log.filter(),
        gateboard::tui::event_log::LogFilter::All
    );
    assert_eq!(selected_event(&app), last_event_id(&board));
}

#[test]
fn the_rejected_count_starts_from_the_board_s_claim_rejected_events() {
    let board = common::TempBoard::new();
    rejections(&board, 105);
    let mut app = open_app(&board);
    assert_eq!(app.model.state.rejections_before, 105);
    assert_eq!(app.model.state.rejections, 0);
    rejections(&board, 3);
    another_process_committed(&mut app);
    assert_eq!(
        app.model.state.rejections_before + app.model.state.rejections,
        108
    );
    assert_eq!(app.model.state.rejections, 3, "this session's");
}

#[test]
fn a_message_leaves_the_status_bar_after_a_few_seconds() {
    use gateboard::tui::model::MESSAGE_SHOWN;
    use std::time::Instant;

    let mut f = fixture();
    let start = Instant::now();
    f.app.update_at(key('l'), start);
    f.app.update_at(key('u'), start);
    assert!(f.app.model.state.message.is_some(), "the refusal shows");
    f.app
        .update_at(Action::Tick, start + MESSAGE_SHOWN - Duration::from_secs(1));
    assert!(f.app.model.state.message.is_some(), "for a while");
    f.app.update_at(Action::Tick, start + MESSAGE_SHOWN);
    assert_eq!(f.app.model.state.message, None, "then it goes");

    // A new message starts its own time, even when it reads the same.
    let later = start + MESSAGE_SHOWN * 2;
    f.app.update_at(key('u'), later);
    f.app
        .update_at(Action::Tick, later + MESSAGE_SHOWN - Duration::from_secs(1));
    assert!(f.app.model.state.message.is_some());
}

#[test]
fn m_adds_a_comment_and_the_detail_view_shows_it() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(code(KeyCode::Enter));
    f.app.update(key('m'));
    assert!(matches!(f.app.model.state.mode, Mode::Prompt(_)));
    typed(&mut f.app, "try shard 3 first");
    f.app.update(code(KeyCode::Enter));
    match &f.app.model.state.mode {
        Mode::Detail(detail) => {
            assert_eq!(detail.task.id, f.ids[1]);
            let bodies: Vec<&str> = detail.comments.iter().map(|c| c.body.as_str()).collect();
            assert_eq!(bodies, ["try shard 3 first"]);
        }
        other => panic!("back to the detail view, got {other:?}"),
    }
    let stored = f
        .board
        .open()
        .read(|r| r.detail(&f.ids[1]))
        .expect("detail");
    assert_eq!(stored.comments.len(), 1);
}

#[test]
fn an_empty_comment_is_refused_with_a_word() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('m'));
    typed(&mut f.app, "   ");
    f.app.update(code(KeyCode::Enter));
    // Refused in the prompt, which stays open to be fixed.
    assert_eq!(
        prompt_refusal(&f.app).as_deref(),
        Some("a comment needs some text")
    );
    let stored = f
        .board
        .open()
        .read(|r| r.detail(&f.ids[1]))
        .expect("detail");
    assert!(stored.comments.is_empty());
}

/// An app on `board` whose pool, once started, holds each task it claims for a minute.
fn app_whose_pool_takes_a_minute_a_task(board: &common::TempBoard) -> App {
    App::new(
        board.open(),
        State::new("board".into(), BoardView::default(), Theme::new(false), 0),
        PoolConfig {
            work: gateboard::pool::Work::Simulated(
                Duration::from_secs(60),
                Duration::from_secs(60),
            ),
            ..PoolConfig::default()
        },
        OpenOptions::default(),
    )
    .expect("app")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_a_worker_opens_the_task_it_works_on() {
    let f = fixture();
    let mut app = app_whose_pool_takes_a_minute_a_task(&f.board);
    app.update(key('+'));
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Tab));
    let start = std::time::Instant::now();
    while app.model.state.selected_worker_task().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker took the task"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.update(Action::Tick);
    }
    app.update(code(KeyCode::Enter));
    match &app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, f.ids[1], "the only ready task"),
        other => panic!("expected the detail view, got {other:?}"),
    }
    app.shutdown().await;
}

#[test]
fn a_question_asked_over_a_detail_view_goes_back_to_it() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(code(KeyCode::Enter));
    f.app.update(key('b'));
    assert!(matches!(f.app.model.state.mode, Mode::Prompt(_)));
    f.app.update(code(KeyCode::Esc));
    match &f.app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, f.ids[1]),
        other => panic!("back to the detail view, got {other:?}"),
    }
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

#[test]
fn enter_on_the_worker_panel_without_workers_says_so() {
    let mut f = fixture();
    f.app.update(code(KeyCode::Tab));
    f.app.update(code(KeyCode::Tab));
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(
        f.app.model.state.message.as_deref(),
        Some("no workers run here; + starts one")
    );
}

#[test]
fn a_write_waits_for_a_locked_board_on_its_own_thread_while_keys_go_on() {
    let f = fixture();
    let short = OpenOptions {
        lock_timeout: Duration::from_secs(3),
        ..OpenOptions::default()
    };
    let mut app = App::new(
        Board::open(&f.board.path, &short).expect("board"),
        State::new("board".into(), BoardView::default(), Theme::new(false), 0),
        PoolConfig::default(),
        short,
    )
    .expect("app");
    let (inputs, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
    app.set_inputs(inputs);
    app.write_off_the_loop().expect("writer");
    for _ in 0..3 {
        app.update(key('l'));
    }
    assert_eq!(selected_id(&app).as_ref(), Some(&f.ids[2]));

    // Another writer holds the board's lock, as a long import or a Hermes process would.
    let other = rusqlite::Connection::open(&f.board.path).expect("another connection");
    other.execute_batch("BEGIN IMMEDIATE").expect("the lock");
    app.update(key('u'));
    let waiting = app.model.state.message.clone().unwrap_or_default();
    assert!(
        waiting.contains("unblocking"),
        "the key came back at once: {waiting}"
    );
    // Keys still act while the write waits.
    app.update(key('h'));
    assert_eq!(app.model.state.column, 2);
    app.update(key('l'));
    other.execute_batch("ROLLBACK").expect("give the lock back");

    let done = loop {
        match outcomes.blocking_recv().expect("the writer reports") {
            Action::Wrote(done) => break done,
            _ => continue,
        }
    };
    app.update(Action::Wrote(done));
    let message = app.model.state.message.clone().unwrap_or_default();
    assert!(message.contains("unblocked"), "{message}");
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(app.shutdown());
}

#[test]
fn capital_l_picks_a_parent_by_fuzzy_match_and_links_it() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('L'));
    typed(&mut f.app, "stk");
    assert_eq!(
        picked(&f.app).as_ref(),
        Some(&f.ids[2]),
        "\"stuck\" matches"
    );
    assert_eq!(picker(&f.app).match_count(), 1);
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    let mut both = vec![f.ids[0].clone(), f.ids[2].clone()];
    both.sort();
    assert_eq!(
        parents_of(&f.board, &f.ids[1]),
        both,
        "parents list in id order"
    );
    assert_eq!(
        status(&f.board.open(), &f.ids[1]),
        Status::Todo,
        "the child now waits"
    );
    assert_eq!(
        f.app
            .model
            .state
            .view
            .task(&f.ids[1])
            .map(|t| t.status.clone()),
        Some(Status::Todo)
    );
}

#[test]
fn slash_filters_the_cards_as_each_key_is_typed() {
    let mut f = fixture();
    f.app.update(key('/'));
    f.app.update(key('s'));
    assert_eq!(f.app.model.state.filter, "s");
    assert_eq!(
        f.app.model.state.cards(&Status::Done).len(),
        0,
        "\"parent\" has no s"
    );
    assert_eq!(f.app.model.state.cards(&Status::Blocked).len(), 1);
    typed(&mut f.app, "tu");
    assert_eq!(
        f.app.model.state.cards(&Status::Ready).len(),
        0,
        "before any Enter"
    );
    f.app.update(code(KeyCode::Backspace));
    f.app.update(code(KeyCode::Backspace));
    assert_eq!(f.app.model.state.filter, "s");
}

#[test]
fn enter_keeps_the_filter_and_slash_starts_empty_again() {
    let mut f = fixture();
    f.app.update(key('/'));
    typed(&mut f.app, "stu");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(f.app.model.state.cards(&Status::Ready).len(), 0);
    assert_eq!(f.app.model.state.cards(&Status::Blocked).len(), 1);
    f.app.update(key('/'));
    assert_eq!(pending_prompt_input(&f.app), "", "the prompt starts empty");
    assert_eq!(
        f.app.model.state.cards(&Status::Ready).len(),
        1,
        "and so does the filter"
    );
    typed(&mut f.app, "chi");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.filter, "chi");
}

#[test]
fn esc_in_the_filter_prompt_clears_the_filter_and_restores_the_board() {
    let mut f = fixture();
    f.app.update(key('/'));
    typed(&mut f.app, "stu");
    assert_eq!(f.app.model.state.cards(&Status::Ready).len(), 0);
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(f.app.model.state.filter, "");
    assert_eq!(f.app.model.state.cards(&Status::Ready).len(), 1);
    assert_eq!(f.app.model.state.cards(&Status::Done).len(), 1);
}

fn ctrl_code(code: KeyCode) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(code, KeyModifiers::CONTROL)))
}

fn alt_code(code: KeyCode) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(code, KeyModifiers::ALT)))
}

fn open_prompt(app: &App) -> &gateboard::tui::state::Prompt {
    match &app.model.state.mode {
        Mode::Prompt(prompt) => prompt,
        other => panic!("expected a prompt, got {other:?}"),
    }
}

fn prompt_refusal(app: &App) -> Option<String> {
    open_prompt(app).refusal.clone()
}

fn picker(app: &App) -> &gateboard::tui::picker::Picker {
    open_prompt(app)
        .picker
        .as_deref()
        .expect("the prompt is a picker")
}

fn picked(app: &App) -> Option<String> {
    picker(app).selected().map(|c| c.id.clone())
}

fn parents_of(board: &common::TempBoard, id: &str) -> Vec<String> {
    board
        .open()
        .read(|r| r.parents(id))
        .expect("parents")
        .into_iter()
        .map(|n| n.id)
        .collect()
}

#[test]
fn a_prompt_keeps_its_task_when_the_selection_moves_meanwhile() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('b'));
    // Whatever moves the selection while the prompt is open (a click, the board), the answer
    // lands on the task the question named.
    f.app.model.state.select_task(&f.ids[0]);
    typed(&mut f.app, "waiting on legal");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Blocked);
    assert_eq!(status(&f.board.open(), &f.ids[0]), Status::Done);
}

#[test]
fn left_moves_the_cursor_and_typing_inserts_there() {
    let mut f = fixture();
    f.app.update(key('n'));
    typed(&mut f.app, "helo");
    f.app.update(code(KeyCode::Left));
    f.app.update(code(KeyCode::Left));
    typed(&mut f.app, "l");
    assert_eq!(pending_prompt_input(&f.app), "hello");
    assert_eq!(open_prompt(&f.app).input.cursor(), 3);
    f.app.update(code(KeyCode::Right));
    f.app.update(code(KeyCode::Delete));
    assert_eq!(
        pending_prompt_input(&f.app),
        "hell",
        "Delete takes the character under it"
    );
}

#[test]
fn home_end_and_ctrl_a_ctrl_e_jump_to_either_end() {
    let mut f = fixture();
    f.app.update(key('n'));
    typed(&mut f.app, "middle");
    f.app.update(code(KeyCode::Home));
    typed(&mut f.app, "<");
    f.app.update(code(KeyCode::End));
    typed(&mut f.app, ">");
    f.app.update(ctrl('a'));
    typed(&mut f.app, "[");
    f.app.update(ctrl('e'));
    typed(&mut f.app, "]");
    assert_eq!(pending_prompt_input(&f.app), "[<middle>]");
}

#[test]
fn ctrl_w_and_alt_backspace_delete_the_word_before_the_cursor() {
    let mut f = fixture();
    f.app.update(key('n'));
    typed(&mut f.app, "ship the release");
    f.app.update(ctrl('w'));
    assert_eq!(pending_prompt_input(&f.app), "ship the ");
    f.app.update(alt_code(KeyCode::Backspace));
    assert_eq!(pending_prompt_input(&f.app), "ship ");
    f.app.update(ctrl('u'));
    assert_eq!(pending_prompt_input(&f.app), "");
}

#[test]
fn an_empty_block_reason_is_refused_in_the_prompt_which_stays_open() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('b'));
    typed(&mut f.app, "   ");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(
        prompt_refusal(&f.app).as_deref(),
        Some("a block needs a reason")
    );
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
    typed(&mut f.app, "x");
    assert_eq!(prompt_refusal(&f.app), None, "typing clears the refusal");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Blocked);
}

#[test]
fn an_empty_title_is_refused_in_the_prompt_which_stays_open() {
    let mut f = fixture();
    let before = f.board.open().read(|r| r.tasks(None)).expect("tasks").len();
    f.app.update(key('n'));
    f.app.update(code(KeyCode::Enter));
    assert_eq!(
        prompt_refusal(&f.app).as_deref(),
        Some("a task needs a title")
    );
    let after = f.board.open().read(|r| r.tasks(None)).expect("tasks").len();
    assert_eq!(before, after);
}

#[test]
fn a_board_refusal_keeps_the_prompt_open_with_its_reason() {
    let mut f = fixture();
    // The done parent cannot be blocked.
    f.app.update(key('l'));
    f.app.update(key('l'));
    f.app.update(key('l'));
    f.app.update(key('l'));
    assert_eq!(selected_id(&f.app).as_ref(), Some(&f.ids[0]));
    f.app.update(key('b'));
    typed(&mut f.app, "too late");
    f.app.update(code(KeyCode::Enter));
    let refusal = prompt_refusal(&f.app).unwrap_or_default();
    assert!(refusal.contains("block"), "{refusal}");
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
}

#[test]
fn capital_l_offers_every_task_but_the_selected_one_and_arrows_move() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('L'));
    let offered: Vec<String> = picker(&f.app)
        .matches_from(0)
        .map(|c| c.id.clone())
        .collect();
    assert_eq!(
        offered,
        vec![f.ids[2].clone(), f.ids[0].clone()],
        "blocked, then done"
    );
    f.app.update(code(KeyCode::Down));
    assert_eq!(picked(&f.app).as_ref(), Some(&f.ids[0]));
    f.app.update(ctrl('p'));
    assert_eq!(picked(&f.app).as_ref(), Some(&f.ids[2]));
    f.app.update(ctrl('n'));
    assert_eq!(picked(&f.app).as_ref(), Some(&f.ids[0]));
    typed(&mut f.app, "j");
    assert_eq!(
        pending_prompt_input(&f.app),
        "j",
        "plain letters type into the query"
    );
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(
        parents_of(&f.board, &f.ids[1]),
        vec![f.ids[0].clone()],
        "Esc links nothing"
    );
}

#[test]
fn a_link_that_would_make_a_cycle_is_refused_in_one_line_in_the_picker() {
    let mut f = fixture();
    // "stuck" already waits for "child": "child" waiting for "stuck" would close a loop.
    f.board
        .open()
        .write(|t| t.link(&f.ids[1], &f.ids[2]))
        .expect("link");
    another_process_committed(&mut f.app);
    f.app.model.state.select_task(&f.ids[1]);
    f.app.update(key('L'));
    typed(&mut f.app, "stuck");
    assert_eq!(picked(&f.app).as_ref(), Some(&f.ids[2]));
    f.app.update(code(KeyCode::Enter));
    let refusal = prompt_refusal(&f.app).unwrap_or_default();
    assert!(refusal.contains("cycle"), "{refusal}");
    assert!(!refusal.contains('\n'), "one line: {refusal}");
    assert_eq!(parents_of(&f.board, &f.ids[1]), vec![f.ids[0].clone()]);
}

#[test]
fn nothing_matching_links_nothing() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('L'));
    typed(&mut f.app, "zzzz");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(
        prompt_refusal(&f.app).as_deref(),
        Some("no task matches; Esc closes")
    );
    assert_eq!(parents_of(&f.board, &f.ids[1]), vec![f.ids[0].clone()]);
}

#[test]
fn capital_u_unlinks_a_picked_parent_and_the_child_becomes_ready() {
    let mut f = fixture();
    f.board
        .open()
        .write(|t| t.link(&f.ids[2], &f.ids[1]))
        .expect("link");
    another_process_committed(&mut f.app);
    f.app.model.state.select_task(&f.ids[1]);
    assert_eq!(f.app.model.state.selected_status(), Status::Todo);
    f.app.update(key('U'));
    let offered: Vec<String> = picker(&f.app)
        .matches_from(0)
        .map(|c| c.id.clone())
        .collect();
    let mut parents = vec![f.ids[0].clone(), f.ids[2].clone()];
    parents.sort();
    assert_eq!(offered, parents, "only its parents are offered");
    typed(&mut f.app, "stuck");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(parents_of(&f.board, &f.ids[1]), vec![f.ids[0].clone()]);
    assert_eq!(
        status(&f.board.open(), &f.ids[1]),
        Status::Ready,
        "its only parent left is done"
    );
    assert_eq!(
        f.app
            .model
            .state
            .view
            .task(&f.ids[1])
            .map(|t| t.status.clone()),
        Some(Status::Ready),
        "the board shows it"
    );
}

#[test]
fn capital_u_on_a_task_without_parents_says_so() {
    let mut f = fixture();
    f.app.model.state.select_task(&f.ids[2]);
    f.app.update(key('U'));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(message(&f.app), format!("{} waits for no parent", f.ids[2]));
}

#[test]
fn capital_n_creates_a_child_of_the_selected_task() {
    let mut f = fixture();
    f.app.model.state.select_task(&f.ids[2]);
    f.app.update(key('N'));
    assert_eq!(open_prompt(&f.app).task.as_ref(), Some(&f.ids[2]));
    typed(&mut f.app, "after the decision");
    f.app.update(code(KeyCode::Enter));
    let child = selected_id(&f.app).expect("the new task is selected");
    assert_eq!(
        f.app
            .model
            .state
            .view
            .task(&child)
            .map(|t| (t.title.clone(), t.status.clone())),
        Some(("after the decision".to_owned(), Status::Todo)),
        "it waits for its blocked parent"
    );
    assert_eq!(parents_of(&f.board, &child), vec![f.ids[2].clone()]);
}

#[test]
fn lowercase_n_still_makes_an_independent_task() {
    let mut f = fixture();
    f.app.model.state.select_task(&f.ids[2]);
    f.app.update(key('n'));
    typed(&mut f.app, "on its own");
    f.app.update(code(KeyCode::Enter));
    let id = selected_id(&f.app).expect("selected");
    assert!(parents_of(&f.board, &id).is_empty());
    assert_eq!(status(&f.board.open(), &id), Status::Ready);
}

fn command(app: &mut App, line: &str) {
    app.update(key(':'));
    typed(app, line);
    app.update(code(KeyCode::Enter));
}

#[test]
fn colon_goto_selects_the_task_in_its_column() {
    let mut f = fixture();
    command(&mut f.app, &format!("goto {}", f.ids[2]));
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    assert_eq!(f.app.model.state.selected_status(), Status::Blocked);
    assert_eq!(selected_id(&f.app).as_ref(), Some(&f.ids[2]));
}

#[test]
fn colon_goto_clears_a_filter_that_hides_the_task() {
    let mut f = fixture();
    f.app.update(key('/'));
    typed(&mut f.app, "child");
    f.app.update(code(KeyCode::Enter));
    command(&mut f.app, &format!("goto {}", f.ids[0]));
    assert_eq!(f.app.model.state.filter, "");
    assert_eq!(selected_id(&f.app).as_ref(), Some(&f.ids[0]));
}

#[test]
fn colon_goto_of_an_unknown_id_is_refused_in_the_prompt() {
    let mut f = fixture();
    command(&mut f.app, "goto t_0000beef");
    assert_eq!(
        prompt_refusal(&f.app).as_deref(),
        Some("no task t_0000beef on this board")
    );
}

#[test]
fn colon_block_and_unblock_act_on_the_named_task() {
    let mut f = fixture();
    command(
        &mut f.app,
        &format!("block {} waits on legal review", f.ids[1]),
    );
    assert_eq!(f.app.model.state.mode, Mode::Normal);
    let task = f.board.open().read(|r| r.task(&f.ids[1])).expect("task");
    assert_eq!(task.status, Status::Blocked);
    assert_eq!(task.block_reason.as_deref(), Some("waits on legal review"));
    command(&mut f.app, &format!("unblock {}", f.ids[2]));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
    assert_eq!(
        message(&f.app),
        format!("{} unblocked: now ready", f.ids[2])
    );
}

#[test]
fn colon_block_without_a_reason_is_refused() {
    let mut f = fixture();
    command(&mut f.app, &format!("block {}", f.ids[1]));
    assert_eq!(
        prompt_refusal(&f.app).as_deref(),
        Some("a block needs a reason: block ID REASON")
    );
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

#[test]
fn an_unknown_command_is_refused_naming_the_known_ones() {
    let mut f = fixture();
    command(&mut f.app, "frobnicate");
    let refusal = prompt_refusal(&f.app).unwrap_or_default();
    assert_eq!(
        refusal,
        "unknown command \"frobnicate\"; known: goto ID, block ID REASON, unblock ID, q"
    );
    assert_eq!(pending_prompt_input(&f.app), "frobnicate", "kept for a fix");
}

#[test]
fn colon_q_quits() {
    let mut f = fixture();
    command(&mut f.app, "q");
    assert!(f.app.should_quit());
}

#[test]
fn ctrl_alt_letters_do_not_type_and_ctrl_arrows_move_by_word() {
    let mut f = fixture();
    f.app.update(key('n'));
    typed(&mut f.app, "one two");
    f.app.update(Action::Terminal(TermEvent::Key(KeyEvent::new(
        KeyCode::Char('x'),
        KeyModifiers::CONTROL | KeyModifiers::ALT,
    ))));
    assert_eq!(pending_prompt_input(&f.app), "one two");
    f.app.update(ctrl_code(KeyCode::Left));
    typed(&mut f.app, "+");
    assert_eq!(pending_prompt_input(&f.app), "one +two");
}

#[test]
fn a_prompt_answered_while_the_board_is_locked_closes_when_the_write_lands() {
    let f = fixture();
    let mut app = open_app(&f.board);
    let (inputs, mut outcomes) = tokio::sync::mpsc::unbounded_channel();
    app.set_inputs(inputs);
    app.write_off_the_loop().expect("writer");
    app.update(key('l'));
    assert_eq!(selected_id(&app).as_ref(), Some(&f.ids[1]));
    let other = rusqlite::Connection::open(&f.board.path).expect("another connection");
    other.execute_batch("BEGIN IMMEDIATE").expect("the lock");
    app.update(key('b'));
    typed(&mut app, "waits for a person");
    app.update(code(KeyCode::Enter));
    match &app.model.state.mode {
        Mode::Prompt(prompt) => assert!(prompt.waiting, "the prompt waits for the board"),
        other => panic!("the prompt closed before the board took it: {other:?}"),
    }
    other.execute_batch("ROLLBACK").expect("give the lock back");
    let done = loop {
        if let Action::Wrote(done) = outcomes.blocking_recv().expect("the writer reports") {
            break done;
        }
    };
    app.update(Action::Wrote(done));
    assert_eq!(app.model.state.mode, Mode::Normal);
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Blocked);
    tokio::runtime::Runtime::new()
        .expect("runtime")
        .block_on(app.shutdown());
}

#[test]
fn j_and_k_scroll_a_long_detail_view_and_another_task_starts_at_the_top() {
    let f = fixture();
    f.board
        .open()
        .write(|t| {
            for i in 0..60 {
                t.comment(&f.ids[1], "ana", &format!("note {i}"))?;
            }
            Ok(())
        })
        .expect("comments");
    let mut app = open_app(&f.board);
    app.update(Action::Resize {
        width: 100,
        height: 30,
    });
    app.update(key('l'));
    app.update(code(KeyCode::Enter));
    app.update(key('j'));
    app.update(key('j'));
    assert_eq!(app.model.state.detail_scroll, 2);
    app.update(key('k'));
    assert_eq!(app.model.state.detail_scroll, 1);
    app.update(key('G'));
    assert!(app.model.state.detail_scroll > 60, "G goes to the end");
    app.update(key('g'));
    assert_eq!(app.model.state.detail_scroll, 0);
    app.update(key('j'));
    app.update(code(KeyCode::Esc));
    app.update(key('l'));
    app.update(key('l'));
    app.update(code(KeyCode::Enter));
    assert_eq!(
        app.model.state.detail_scroll, 0,
        "another task starts at the top"
    );
}

#[test]
fn a_click_on_an_event_selects_it_and_enter_opens_its_task() {
    let mut f = fixture();
    f.app.update(Action::Resize {
        width: 100,
        height: 30,
    });
    // The events pane's rows start below 19 rows of columns and its top border.
    let rows: Vec<String> = f
        .app
        .model
        .state
        .log
        .visible()
        .map(|(e, _)| e.task_id.clone())
        .collect();
    assert!(rows.len() >= 2, "the fixture wrote events");
    f.app.update(Action::Click { x: 10, y: 20 });
    assert_eq!(f.app.model.state.pane, Pane::Log);
    assert_eq!(
        f.app.model.state.log.selected().map(|e| e.task_id.clone()),
        Some(rows[0].clone())
    );
    f.app.update(code(KeyCode::Enter));
    match &f.app.model.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, rows[0]),
        other => panic!("Enter did not open the clicked event's task: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn x_in_the_workers_pane_asks_about_the_worker_s_task_not_the_card_under_the_board_cursor() {
    let f = fixture();
    let mut app = app_whose_pool_takes_a_minute_a_task(&f.board);
    app.update(key('+'));
    let start = std::time::Instant::now();
    while app
        .model
        .state
        .pool
        .workers
        .iter()
        .all(|w| !matches!(w.state, gateboard::pool::WorkerState::Working { .. }))
    {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker took the task"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.update(Action::Tick);
    }
    while app.model.state.view.task(&f.ids[1]).map(|t| &t.status) != Some(&Status::Running) {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "the claim never showed"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        another_process_committed(&mut app);
    }
    // The board's cursor goes to the blocked task; the worker runs the child.
    for _ in 0..3 {
        app.update(key('l'));
    }
    assert_eq!(selected_id(&app).as_deref(), Some(f.ids[2].as_str()));
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Tab));
    app.update(key('x'));
    match &app.model.state.mode {
        Mode::Prompt(prompt) => assert_eq!(prompt.task.as_deref(), Some(f.ids[1].as_str())),
        other => panic!("x asks about the worker's task, got {other:?}"),
    }
    app.update(key('n'));
    app.shutdown().await;
}

#[test]
fn keys_in_the_events_pane_act_on_the_selected_event_s_task() {
    let mut f = fixture();
    // The board's cursor on the blocked task, the events pane's on an event of the child.
    for _ in 0..3 {
        f.app.update(key('l'));
    }
    assert_eq!(selected_id(&f.app).as_deref(), Some(f.ids[2].as_str()));
    f.app.update(code(KeyCode::Tab));
    let start = std::time::Instant::now();
    while f
        .app
        .model
        .state
        .log
        .selected()
        .is_none_or(|e| e.task_id != f.ids[1])
    {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "no event of the child to select"
        );
        f.app.update(key('k'));
    }
    f.app.update(key('b'));
    match &f.app.model.state.mode {
        Mode::Prompt(prompt) => assert_eq!(prompt.task.as_deref(), Some(f.ids[1].as_str())),
        other => panic!("b asks about the event's task, got {other:?}"),
    }
}

#[test]
fn goto_puts_the_focus_on_the_board_so_the_next_keys_act_on_that_card() {
    let mut f = fixture();
    f.app.update(code(KeyCode::Tab));
    assert_eq!(f.app.model.state.pane, Pane::Log);
    f.app.update(key(':'));
    typed(&mut f.app, &format!("goto {}", f.ids[2]));
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.pane, Pane::Board);
    assert_eq!(selected_id(&f.app).as_deref(), Some(f.ids[2].as_str()));
}

#[test]
fn capital_n_on_a_finished_task_says_its_child_is_ready_at_once() {
    let mut f = fixture();
    f.app.model.state.select_task(&f.ids[0]);
    f.app.update(key('N'));
    typed(&mut f.app, "follow-up");
    f.app.update(code(KeyCode::Enter));
    let child = selected_id(&f.app).expect("the new task is selected");
    assert_eq!(
        f.app
            .model
            .state
            .view
            .task(&child)
            .map(|t| t.status.clone()),
        Some(Status::Ready)
    );
    assert_eq!(
        message(&f.app),
        format!(
            "created {child}, ready: its parent {} is finished",
            f.ids[0]
        )
    );
}

#[test]
fn esc_on_the_board_takes_back_a_kept_filter() {
    let mut f = fixture();
    f.app.update(key('/'));
    typed(&mut f.app, "stuck");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.model.state.filter, "stuck", "Enter keeps the filter");
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.model.state.filter, "");
    assert_eq!(message(&f.app), "filter cleared");
}
