//! Key handling on the app state, against a real board.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use gateboard::core::{Board, NewTask, OpenOptions, Status};
use gateboard::pool::PoolConfig;
use gateboard::tui::action::Action;
use gateboard::tui::app::App;
use gateboard::tui::state::{BoardView, Mode, Pane, State};
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
    assert_eq!(f.app.state.column, 1);
    f.app.update(code(KeyCode::Right));
    assert_eq!(f.app.state.column, 2);
    f.app.update(code(KeyCode::Left));
    f.app.update(key('h'));
    f.app.update(key('h'));
    assert_eq!(
        f.app.state.column, 0,
        "the cursor stops at the first column"
    );
    f.app.update(code(KeyCode::Tab));
    assert_eq!(f.app.state.pane, Pane::Log);
}

#[test]
fn u_unblocks_the_selected_blocked_task() {
    let mut f = fixture();
    for _ in 0..3 {
        f.app.update(key('l'));
    }
    assert_eq!(f.app.state.selected_status(), Status::Blocked);
    f.app.update(key('u'));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
    assert_eq!(f.app.state.view.column(&Status::Ready).len(), 2);
}

#[test]
fn b_asks_for_a_reason_then_blocks() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('b'));
    assert!(matches!(f.app.state.mode, Mode::Prompt(_)));
    typed(&mut f.app, "waiting on legal");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.state.mode, Mode::Normal);
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
    assert_eq!(f.app.state.mode, Mode::Normal);
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
}

#[test]
fn c_completes_and_a_archives_the_selected_task() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('c'));
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Done);
    for _ in 0..3 {
        f.app.update(key('l'));
    }
    f.app.update(key('a'));
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
    let message = f.app.state.message.clone().unwrap_or_default();
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
    let selected = f.app.state.selected_task().map(|t| t.title.clone());
    assert_eq!(selected.as_deref(), Some("write the changelog"));
}

#[test]
fn capital_l_links_the_selected_task_to_a_parent() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('L'));
    let parent = f.ids[2].clone();
    typed(&mut f.app, &parent);
    f.app.update(code(KeyCode::Enter));
    assert_eq!(
        status(&f.board.open(), &f.ids[1]),
        Status::Todo,
        "the child now waits"
    );
}

#[test]
fn enter_opens_the_detail_view_and_esc_closes_it() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(code(KeyCode::Enter));
    match &f.app.state.mode {
        Mode::Detail(detail) => {
            assert_eq!(detail.task.id, f.ids[1]);
            assert_eq!(detail.parents.len(), 1);
        }
        other => panic!("expected the detail view, got {other:?}"),
    }
    f.app.update(code(KeyCode::Esc));
    assert_eq!(f.app.state.mode, Mode::Normal);
}

#[test]
fn slash_filters_cards_and_an_empty_filter_clears() {
    let mut f = fixture();
    f.app.update(key('/'));
    typed(&mut f.app, "stu");
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.state.cards(&Status::Ready).len(), 0);
    assert_eq!(f.app.state.cards(&Status::Blocked).len(), 1);
    f.app.update(key('/'));
    for _ in 0..3 {
        f.app.update(code(KeyCode::Backspace));
    }
    f.app.update(code(KeyCode::Enter));
    assert_eq!(f.app.state.cards(&Status::Ready).len(), 1);
}

#[test]
fn o_toggles_the_other_statuses() {
    let mut f = fixture();
    assert_eq!(f.app.state.statuses().len(), 5);
    f.app.update(key('o'));
    assert_eq!(f.app.state.statuses().len(), 9);
}

#[test]
fn question_mark_toggles_help_and_q_quits() {
    let mut f = fixture();
    f.app.update(key('?'));
    assert_eq!(f.app.state.mode, Mode::Help);
    f.app.update(key('?'));
    assert_eq!(f.app.state.mode, Mode::Normal);
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
    assert_eq!(f.app.state.selected_status(), Status::Blocked);
    assert_eq!(
        f.app.state.selected_task().map(|t| t.id.clone()),
        Some(f.ids[2].clone())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plus_minus_and_p_drive_the_pool() {
    let mut f = fixture();
    f.app.update(key('+'));
    assert!(f.app.state.pool.running);
    assert_eq!(f.app.state.pool.size, 1);
    f.app.update(key('+'));
    assert_eq!(f.app.state.pool.size, 2);
    f.app.update(key('-'));
    assert_eq!(f.app.state.pool.size, 1);
    f.app.update(key('p'));
    assert!(f.app.state.pool.paused);
    f.app.update(key('p'));
    assert!(!f.app.state.pool.paused);
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
    assert_eq!(f.app.state.view.column(&Status::Blocked).len(), 0);
    assert!(f.app.state.log.iter().any(|e| e.task_id == f.ids[2]));
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
    app.state.selected_task().map(|t| t.id.clone())
}

/// What the watcher does when another process commits, and what the main loop does next.
fn another_process_committed(app: &mut App) {
    app.update(Action::BoardChanged);
    app.catch_up();
}

fn pending_prompt_input(app: &App) -> String {
    match &app.state.mode {
        Mode::Prompt(prompt) => prompt.input.clone(),
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
    assert_eq!(app.state.view.column(&Status::Ready)[0], child);
    assert_eq!(
        selected_id(&app).as_ref(),
        Some(&ids[1]),
        "the cursor goes to the card that was below, not to the newcomer"
    );

    app.update(key('c'));
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
    let title = |app: &App| app.state.view.task(&id).map(|t| t.title.clone());
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
    assert_eq!(f.app.state.column, 0, "the cursor did not move");
    assert_eq!(f.app.state.mode, Mode::Normal);
    assert!(!f.app.state.pool.running, "no workers were started");
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);

    f.app.update(Action::Resize {
        width: 100,
        height: 30,
    });
    f.app.update(key('l'));
    assert_eq!(f.app.state.column, 1, "keys act again once the board shows");
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
    let shown = app.state.view.column(&Status::Ready).to_vec();
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
    assert_eq!(f.app.state.selected_status(), Status::Running);
    child
}

#[test]
fn x_asks_naming_the_task_and_y_cancels_it() {
    let mut f = fixture();
    let child = claim_child(&mut f);
    f.app.update(key('x'));
    let Mode::Prompt(prompt) = &f.app.state.mode else {
        panic!("x asks first, got {:?}", f.app.state.mode);
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
        assert!(matches!(f.app.state.mode, Mode::Prompt(_)));
        f.app.update(answer);
        assert_eq!(f.app.state.mode, Mode::Normal);
        assert_eq!(status(&f.board.open(), &child), Status::Running);
    }
}

#[test]
fn x_on_a_task_that_is_not_running_says_so_and_asks_nothing() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(key('x'));
    assert_eq!(f.app.state.mode, Mode::Normal);
    let message = f.app.state.message.clone().unwrap_or_default();
    assert!(
        message.contains("only a running task can be cancelled"),
        "{message}"
    );
    assert_eq!(status(&f.board.open(), &f.ids[1]), Status::Ready);
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
    app.state.log.visible().map(|(e, _)| e.id).collect()
}

fn selected_event(app: &App) -> i64 {
    app.state.log.selected().expect("an event is selected").id
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
    assert!(app.state.log.is_following());
    for _ in 0..3 {
        app.update(key('k'));
    }
    assert!(!app.state.log.is_following(), "scrolling up freezes");
    let before = visible_ids(&app);
    let selected = selected_event(&app);

    many_tasks(&board, 12);
    another_process_committed(&mut app);
    assert_eq!(visible_ids(&app), before, "the rows on screen did not move");
    assert_eq!(selected_event(&app), selected, "nor did the cursor");
    assert_eq!(app.state.log.new_since_frozen(), 12);
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
        assert!(!app.state.log.is_following());
        app.update(follow.clone());
        assert!(app.state.log.is_following(), "{follow:?} follows");
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
    let event = f.app.state.log.selected().expect("an event").clone();
    assert_eq!(event.task_id, f.ids[1], "{event:?}");
    f.app.update(code(KeyCode::Enter));
    match &f.app.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, f.ids[1]),
        other => panic!("expected the detail view, got {other:?}"),
    }
}

#[test]
fn keys_over_a_detail_view_act_on_its_task() {
    let mut f = fixture();
    f.app.update(code(KeyCode::Tab));
    f.app.update(code(KeyCode::Enter));
    match &f.app.state.mode {
        Mode::Detail(detail) => assert_eq!(detail.task.id, f.ids[2], "the newest event's"),
        other => panic!("expected the detail view, got {other:?}"),
    }
    f.app.update(key('u'));
    assert_eq!(status(&f.board.open(), &f.ids[2]), Status::Ready);
    match &f.app.state.mode {
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
        app.state.log.first_id() > Some(1),
        "only the tail is loaded"
    );
    app.update(code(KeyCode::Tab));
    for _ in 0..=(WINDOW + 300) / 10 {
        app.update(code(KeyCode::PageUp));
        assert!(app.state.log.len() <= WINDOW, "memory stays bounded");
    }
    assert_eq!(
        selected_event(&app),
        1,
        "the board's first event is reached"
    );
    assert!(
        app.state.log.last_id() < Some(newest),
        "the newest were let go"
    );

    // Scrolling back down reads them again.
    for _ in 0..=(WINDOW + 300) / 10 {
        app.update(code(KeyCode::PageDown));
        assert!(app.state.log.len() <= WINDOW);
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
        !app.state
            .log
            .iter()
            .any(|e| e.kind == gateboard::core::EventKind::ClaimRejected),
        "the rejections are older than the tail"
    );
    app.update(key('f'));
    assert_eq!(
        app.state.log.filter(),
        gateboard::tui::event_log::LogFilter::Rejected
    );
    let kinds: Vec<_> = app.state.log.iter().map(|e| e.kind.clone()).collect();
    assert_eq!(kinds, vec![gateboard::core::EventKind::ClaimRejected; 3]);

    rejections(&board, 1);
    another_process_committed(&mut app);
    assert_eq!(app.state.log.len(), 4, "live ones of the kind arrive");
    assert!(
        app.state
            .log
            .iter()
            .all(|e| e.kind == gateboard::core::EventKind::ClaimRejected),
        "and only those"
    );
    app.update(key('f'));
    app.update(key('f'));
    assert_eq!(
        app.state.log.filter(),
        gateboard::tui::event_log::LogFilter::All
    );
    assert_eq!(selected_event(&app), last_event_id(&board));
}

#[test]
fn the_rejected_count_starts_from_the_board_s_claim_rejected_events() {
    let board = common::TempBoard::new();
    rejections(&board, 105);
    let mut app = open_app(&board);
    assert_eq!(app.state.rejections_before, 105);
    assert_eq!(app.state.rejections, 0);
    rejections(&board, 3);
    another_process_committed(&mut app);
    assert_eq!(app.state.rejections_before + app.state.rejections, 108);
    assert_eq!(app.state.rejections, 3, "this session's");
}

#[test]
fn a_message_leaves_the_status_bar_after_a_few_seconds() {
    use gateboard::tui::app::MESSAGE_SHOWN;
    use std::time::Instant;

    let mut f = fixture();
    let start = Instant::now();
    f.app.update_at(key('l'), start);
    f.app.update_at(key('u'), start);
    assert!(f.app.state.message.is_some(), "the refusal shows");
    f.app
        .update_at(Action::Tick, start + MESSAGE_SHOWN - Duration::from_secs(1));
    assert!(f.app.state.message.is_some(), "for a while");
    f.app.update_at(Action::Tick, start + MESSAGE_SHOWN);
    assert_eq!(f.app.state.message, None, "then it goes");

    // A new message starts its own time, even when it reads the same.
    let later = start + MESSAGE_SHOWN * 2;
    f.app.update_at(key('u'), later);
    f.app
        .update_at(Action::Tick, later + MESSAGE_SHOWN - Duration::from_secs(1));
    assert!(f.app.state.message.is_some());
}

#[test]
fn m_adds_a_comment_and_the_detail_view_shows_it() {
    let mut f = fixture();
    f.app.update(key('l'));
    f.app.update(code(KeyCode::Enter));
    f.app.update(key('m'));
    assert!(matches!(f.app.state.mode, Mode::Prompt(_)));
    typed(&mut f.app, "try shard 3 first");
    f.app.update(code(KeyCode::Enter));
    match &f.app.state.mode {
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
    let message = f.app.state.message.clone().unwrap_or_default();
    assert!(message.contains("a comment needs some text"), "{message}");
    let stored = f
        .board
        .open()
        .read(|r| r.detail(&f.ids[1]))
        .expect("detail");
    assert!(stored.comments.is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn enter_on_a_worker_opens_the_task_it_works_on() {
    let f = fixture();
    let mut app = App::new(
        f.board.open(),
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
    .expect("app");
    app.update(key('+'));
    app.update(code(KeyCode::Tab));
    app.update(code(KeyCode::Tab));
    let start = std::time::Instant::now();
    while app.state.selected_worker_task().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "no worker took the task"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
        app.update(Action::Tick);
    }
    app.update(code(KeyCode::Enter));
    match &app.state.mode {
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
    assert!(matches!(f.app.state.mode, Mode::Prompt(_)));
    f.app.update(code(KeyCode::Esc));
    match &f.app.state.mode {
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
    assert_eq!(f.app.state.mode, Mode::Normal);
    assert_eq!(
        f.app.state.message.as_deref(),
        Some("no workers run here; + starts one")
    );
}
