//! The TUI on a board that has lived long: a done column far longer than the window of cards
//! it holds, read a page at a time, and reads that run off the UI loop.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use gateboard::core::history::{History, write_history};
use gateboard::core::{EventKind, NewTask, OpenOptions, Status};
use gateboard::pool::PoolConfig;
use gateboard::tui::action::Action;
use gateboard::tui::app::App;
use gateboard::tui::effects::read::WINDOW;
use gateboard::tui::state::{BoardView, Mode, State};
use gateboard::tui::theme::Theme;
use gateboard::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

/// Done tasks on the board: five windows' worth.
const DONE: usize = 1000;
/// Rows the columns of a 200x60 screen show: what the frames below are drawn for.
const VISIBLE: usize = 20;

/// A board of `DONE` done tasks (`h_00000000` first, in claim order) and three queued ones.
fn long_board() -> common::TempBoard {
    let board = common::TempBoard::new();
    write_history(
        &mut board.open(),
        &History {
            finished: DONE,
            active: 3,
            events_per_task: 5,
            since: 1_790_000_000,
        },
    )
    .expect("history");
    board
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

/// An app on `board` whose reads run on their reader thread, and the actions they come back as.
fn app_reading_off_the_loop(
    board: &common::TempBoard,
) -> (App, tokio::sync::mpsc::UnboundedReceiver<Action>) {
    let mut app = App::load(
        board.open(),
        State::new("board".into(), BoardView::default(), Theme::new(false), 0),
        PoolConfig::default(),
        OpenOptions::default(),
    )
    .expect("app");
    let (inputs, actions) = tokio::sync::mpsc::unbounded_channel();
    app.set_inputs(inputs);
    app.read_off_the_loop().expect("reader");
    (app, actions)
}

fn key(c: char) -> Action {
    code(KeyCode::Char(c))
}

fn code(code: KeyCode) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

fn typed(app: &mut App, text: &str) {
    for c in text.chars() {
        app.update(key(c));
    }
}

fn history_id(n: usize) -> String {
    format!("h_{n:08}")
}

fn selected_id(app: &App) -> Option<String> {
    app.model.state.selected_task().map(|t| t.id.clone())
}

/// The app with the cursor in the done column.
fn in_done(board: &common::TempBoard) -> App {
    let mut app = open_app(board);
    while app.model.state.selected_status() != Status::Done {
        app.update(Action::Right);
    }
    app
}

/// The status bar's line of a 100x30 frame.
fn status_bar(app: &App) -> String {
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).expect("terminal");
    terminal
        .draw(|frame| view::draw(frame, &app.model.state))
        .expect("draw");
    let buffer = terminal.backend().buffer();
    (0..100)
        .map(|x| buffer[(x, 29)].symbol().to_owned())
        .collect()
}

fn done_len(app: &App) -> usize {
    app.model.state.column_frame(&Status::Done, VISIBLE).len
}

#[test]
fn a_long_done_column_holds_a_window_of_cards_but_counts_them_all() {
    let board = long_board();
    let app = open_app(&board);
    assert_eq!(app.model.state.view.column(&Status::Done).len(), WINDOW);
    assert_eq!(done_len(&app), DONE);
    assert_eq!(app.model.state.view.column_len(&Status::Done), DONE);
}

#[test]
fn the_bottom_of_a_long_done_column_is_its_last_card_in_claim_order() {
    let board = long_board();
    let mut app = in_done(&board);
    app.update(code(KeyCode::End));
    assert_eq!(selected_id(&app), Some(history_id(DONE - 1)));
    let frame = app.model.state.column_frame(&Status::Done, VISIBLE);
    assert_eq!(frame.highlight, Some(DONE - 1));
    assert_eq!(
        frame.cards.last().map(|t| t.id.clone()),
        Some(history_id(DONE - 1))
    );
    app.update(code(KeyCode::Home));
    assert_eq!(selected_id(&app), Some(history_id(0)));
}

#[test]
fn paging_down_a_long_done_column_meets_every_row_in_the_board_s_order() {
    let board = long_board();
    let mut app = in_done(&board);
    for step in 1..DONE / 10 {
        app.update(code(KeyCode::PageDown));
        assert_eq!(
            selected_id(&app),
            Some(history_id(step * 10)),
            "step {step}"
        );
    }
    for step in (0..DONE / 10 - 1).rev() {
        app.update(code(KeyCode::PageUp));
        assert_eq!(
            selected_id(&app),
            Some(history_id(step * 10)),
            "back, step {step}"
        );
    }
    assert!(app.model.state.view.column(&Status::Done).len() <= WINDOW);
}

#[test]
fn the_filter_finds_done_tasks_beyond_the_window() {
    let board = long_board();
    let mut app = in_done(&board);
    app.update(key('/'));
    typed(&mut app, "task 987:");
    let frame = app.model.state.column_frame(&Status::Done, VISIBLE);
    assert_eq!(frame.len, 1);
    assert_eq!(frame.cards[0].id, history_id(987));
    app.update(code(KeyCode::Esc));
    assert_eq!(done_len(&app), DONE, "Esc clears the filter");
}

#[test]
fn colon_goto_selects_a_done_task_beyond_the_window() {
    let board = long_board();
    let mut app = open_app(&board);
    app.update(key(':'));
    typed(&mut app, &format!("goto {}", history_id(750)));
    app.update(code(KeyCode::Enter));
    assert_eq!(app.model.state.mode, Mode::Normal);
    assert_eq!(app.model.state.selected_status(), Status::Done);
    assert_eq!(selected_id(&app), Some(history_id(750)));
    assert_eq!(
        app.model
            .state
            .column_frame(&Status::Done, VISIBLE)
            .highlight,
        Some(750)
    );
}

#[test]
fn a_done_task_beyond_the_window_archived_elsewhere_moves_between_the_counts() {
    let board = long_board();
    let mut app = open_app(&board);
    board
        .open()
        .write(|t| t.archive(&history_id(900)))
        .expect("archive");
    app.update(Action::BoardChanged);
    app.catch_up();
    assert_eq!(app.model.state.view.column_len(&Status::Done), DONE - 1);
    assert_eq!(app.model.state.view.column_len(&Status::Archived), 1);
}

#[test]
fn a_task_finished_elsewhere_joins_the_done_count() {
    let board = long_board();
    let mut app = open_app(&board);
    let ready = app.model.state.view.column(&Status::Ready)[0].clone();
    board
        .open()
        .write(|t| t.complete(&ready, None, Some("finished elsewhere")))
        .expect("complete");
    app.update(Action::BoardChanged);
    app.catch_up();
    assert_eq!(app.model.state.view.column_len(&Status::Done), DONE + 1);
    assert!(app.model.state.view.column(&Status::Ready).is_empty());
}

#[test]
fn the_parent_picker_offers_finished_tasks_beyond_the_window() {
    let board = long_board();
    let mut app = open_app(&board);
    app.update(Action::Right);
    assert_eq!(app.model.state.selected_status(), Status::Ready);
    app.update(key('L'));
    typed(&mut app, "'task 950:");
    let Mode::Prompt(prompt) = &app.model.state.mode else {
        panic!("expected the picker, got {:?}", app.model.state.mode);
    };
    let picked = prompt.picker.as_ref().and_then(|p| p.selected());
    assert_eq!(picked.map(|c| c.id.clone()), Some(history_id(950)));
}

#[test]
fn with_a_reader_thread_reads_land_later_as_actions() {
    let board = long_board();
    let (mut app, mut actions) = app_reading_off_the_loop(&board);
    assert_eq!(
        app.model.state.rejections_before, 0,
        "the totals are still on their way"
    );
    let bar = status_bar(&app);
    assert!(
        bar.contains("rejected … │ violations … │"),
        "counting shows as such: {bar}"
    );
    let totals = actions.blocking_recv().expect("totals");
    app.update(totals);
    assert!(status_bar(&app).contains(" violations 0 "));
    let rejected = board
        .open()
        .read(|r| r.event_count(&EventKind::ClaimRejected))
        .expect("count");
    assert!(rejected > 0);
    assert_eq!(app.model.state.rejections_before, rejected);
    app.update(Action::Right);
    app.update(code(KeyCode::Enter));
    assert_eq!(
        app.model.state.mode,
        Mode::Normal,
        "the key only asked for the read"
    );
    let detail = actions.blocking_recv().expect("detail");
    app.update(detail);
    assert!(matches!(&app.model.state.mode, Mode::Detail(d) if d.task.status == Status::Ready));
}

#[test]
fn with_a_reader_thread_a_change_elsewhere_lands_after_its_look() {
    let board = long_board();
    let (mut app, mut actions) = app_reading_off_the_loop(&board);
    let totals = actions.blocking_recv().expect("totals");
    app.update(totals);
    let id = board
        .open()
        .write(|t| {
            t.create(&NewTask {
                title: "made elsewhere".into(),
                ..NewTask::default()
            })
        })
        .expect("create");
    app.update(Action::BoardChanged);
    app.catch_up();
    assert!(
        app.model.state.view.task(&id).is_none(),
        "the look is on its way"
    );
    let look = actions.blocking_recv().expect("look");
    app.update(look);
    assert!(app.model.state.view.task(&id).is_some());
}

#[test]
fn enter_on_a_done_parent_beyond_the_window_in_the_tree_selects_it_on_the_board() {
    let board = long_board();
    let parent = history_id(900);
    let child = board
        .open()
        .write(|t| {
            t.create(&NewTask {
                title: "waits on an old task".into(),
                parents: vec![parent.clone()],
                priority: 9,
                ..NewTask::default()
            })
        })
        .expect("child");
    let mut app = open_app(&board);
    app.update(Action::Right);
    assert_eq!(selected_id(&app), Some(child));
    app.update(key('t'));
    assert!(matches!(app.model.state.mode, Mode::Tree(_)));
    app.update(Action::Up);
    app.update(code(KeyCode::Enter));
    assert!(matches!(&app.model.state.mode, Mode::Detail(d) if d.task.id == parent));
    app.update(code(KeyCode::Esc));
    assert_eq!(app.model.state.selected_status(), Status::Done);
    assert_eq!(selected_id(&app), Some(parent));
}

#[test]
fn a_window_past_a_column_that_shrank_elsewhere_is_read_again_from_its_new_end() {
    let board = long_board();
    let mut app = in_done(&board);
    app.update(code(KeyCode::End));
    board
        .open()
        .write(|t| {
            for n in 500..DONE {
                t.archive(&history_id(n))?;
            }
            Ok(())
        })
        .expect("archive");
    app.update(Action::BoardChanged);
    app.catch_up();
    app.update(code(KeyCode::End));
    assert_eq!(done_len(&app), 500);
    assert_eq!(selected_id(&app), Some(history_id(499)));
}

/// A queue longer than the TUI holds whole: over 10,000 tasks in each of todo, ready and
/// blocked (`h_00000000` ready, then every third).
fn long_queue() -> common::TempBoard {
    let board = common::TempBoard::new();
    write_history(
        &mut board.open(),
        &History {
            finished: 0,
            active: 30_300,
            events_per_task: 4,
            since: 1_790_000_000,
        },
    )
    .expect("queue");
    board
}

#[test]
fn an_unfinished_column_past_the_hold_limit_is_paged_like_done() {
    let board = long_queue();
    let mut app = open_app(&board);
    let ready = app.model.state.view.column_len(&Status::Ready);
    assert_eq!(ready, 10_100);
    assert_eq!(app.model.state.view.column(&Status::Ready).len(), WINDOW);
    app.update(Action::Right);
    app.update(code(KeyCode::End));
    assert_eq!(
        selected_id(&app),
        Some(history_id(30_298)),
        "the last ready"
    );
    // One task leaves from inside the window, one from far above it.
    board
        .open()
        .write(|t| {
            t.complete(&history_id(30_295), None, None)?;
            t.complete(&history_id(1), None, None)
        })
        .expect("complete");
    app.update(Action::BoardChanged);
    app.catch_up();
    assert_eq!(app.model.state.view.column_len(&Status::Ready), ready - 2);
    assert_eq!(app.model.state.view.column_len(&Status::Done), 2);
    assert_eq!(selected_id(&app), Some(history_id(30_298)));
    assert_eq!(
        app.model
            .state
            .column_frame(&Status::Ready, VISIBLE)
            .highlight,
        Some(ready - 3)
    );
}

#[test]
fn n_selects_the_new_task_at_the_end_of_a_long_ready_column() {
    let board = long_queue();
    let mut app = open_app(&board);
    app.update(key('n'));
    typed(&mut app, "one more");
    app.update(code(KeyCode::Enter));
    let selected = app
        .model
        .state
        .selected_task()
        .cloned()
        .expect("a task selected");
    assert_eq!(selected.title, "one more");
    assert_eq!(app.model.state.selected_status(), Status::Ready);
    let ready = app.model.state.view.column_len(&Status::Ready);
    assert_eq!(ready, 10_101);
    assert_eq!(
        app.model
            .state
            .column_frame(&Status::Ready, VISIBLE)
            .highlight,
        Some(ready - 1)
    );
}

#[test]
fn a_page_for_a_filter_typed_further_is_dropped_unread() {
    use gateboard::tui::board_view::PageAt;
    use gateboard::tui::effects::read::{BoardReader, Fetched, Read};
    let board = common::TempBoard::new();
    write_history(
        &mut board.open(),
        &History {
            finished: 20_000,
            active: 0,
            events_per_task: 10,
            since: 1_790_000_000,
        },
    )
    .expect("history");
    let (outcomes, heard) = std::sync::mpsc::channel();
    let reader = BoardReader::start(&board.path, &OpenOptions::default(), move |fetched| {
        let _ = outcomes.send(fetched);
    })
    .expect("reader");
    // The totals over 200,000 events hold the counting thread while the filter moves on.
    assert!(reader.send(Read::Totals { upto: i64::MAX }).is_ok());
    let page = |filter: &str| Read::Page {
        status: Status::Done,
        filter: filter.into(),
        at: PageAt::Row(0),
        known: None,
    };
    reader.want_filter(&Status::Done, "task 1");
    assert!(reader.send(page("task 1")).is_ok());
    reader.want_filter(&Status::Done, "task 12");
    assert!(matches!(
        heard.recv().expect("totals"),
        Fetched::Totals { .. }
    ));
    assert_eq!(
        heard.recv().expect("page"),
        Fetched::Superseded(Box::new(page("task 1")))
    );
    reader.close();
}

#[test]
fn a_key_on_an_event_of_a_task_beyond_the_window_says_how_to_reach_it() {
    let board = long_board();
    let mut app = open_app(&board);
    app.update(code(KeyCode::Tab));
    let mut moves = 0;
    while app
        .model
        .state
        .log
        .selected()
        .is_none_or(|e| app.model.state.view.task(&e.task_id).is_some())
    {
        assert!(moves < 1000, "no event of a task outside the window");
        app.update(key('k'));
        moves += 1;
    }
    let task = app
        .model
        .state
        .log
        .selected()
        .expect("an event")
        .task_id
        .clone();
    app.update(key('a'));
    assert_eq!(app.model.state.mode, Mode::Normal, "nothing was asked");
    let message = app.model.state.message.clone().unwrap_or_default();
    assert!(
        message.contains(&task) && message.contains("Enter opens it"),
        "{message}"
    );
}

#[test]
fn a_filter_s_first_page_of_a_long_column_holds_its_first_matches_and_their_count() {
    use gateboard::tui::board_view::{PageAt, matches};
    use gateboard::tui::effects::read::{Fetched, Read};

    let board = long_board();
    let conn = board.open();
    let done = conn.read(|r| r.tasks(Some(&Status::Done))).expect("done");
    // Common (every title: the page fills from the start of the claim order), rare (eleven
    // titles: a pass finds them all), and none.
    for filter in ["history", "task 10", "history task 5", "no such title"] {
        let matching: Vec<&str> = done
            .iter()
            .filter(|t| matches(t, filter))
            .map(|t| t.id.as_str())
            .collect();
        for at in [PageAt::Row(0), PageAt::Task("not a task".into())] {
            let read = Read::Page {
                status: Status::Done,
                filter: filter.into(),
                at,
                known: None,
            };
            let Fetched::Page(page) = read.perform(&conn) else {
                panic!("no page for {filter:?}");
            };
            let ids: Vec<&str> = page.cards.iter().map(|k| k.task.id.as_str()).collect();
            let expected: Vec<&str> = matching.iter().copied().take(WINDOW).collect();
            assert_eq!(ids, expected, "{filter:?}");
            assert_eq!(page.paging.len, matching.len(), "{filter:?}");
            assert_eq!(page.paging.all, DONE, "{filter:?}");
            assert_eq!(page.paging.first, 0);
        }
    }
}
