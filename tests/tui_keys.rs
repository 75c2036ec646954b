//! Key handling on the app state, against a real board.

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
    let app = App::new(
        board.open(),
        State::new("board".into(), BoardView::default(), Theme::new(false), 0),
        PoolConfig::default(),
        OpenOptions::default(),
    )
    .expect("app");
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
    f.app.refresh_if_dirty();
    assert_eq!(f.app.state.view.column(&Status::Blocked).len(), 0);
    assert!(f.app.state.log.iter().any(|e| e.task_id == f.ids[2]));
    tokio::time::sleep(Duration::from_millis(1)).await;
}
