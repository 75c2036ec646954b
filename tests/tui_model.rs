//! The TUI's state machine on its own: actions go in, and what it asks of the board, the pool
//! and the race comes out as effects, answered here by hand. No board file, no thread, no pool.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use gateboard::core::model::Neighbour;
use gateboard::core::{Event, EventKind, Keyed, Status, Task};
use gateboard::pool::racer::{RaceMode, RaceReport};
use gateboard::tui::action::Action;
use gateboard::tui::effects::read::{Fetched, Read};
use gateboard::tui::effects::{Write, Written};
use gateboard::tui::model::{Effect, Loaded, Model, PoolCommand, RaceCommand};
use gateboard::tui::state::{BoardView, Mode, PoolView, PromptKind, State};
use gateboard::tui::theme::Theme;

const NOW: i64 = 1_795_000_000;
/// The newest event when the model opens.
const LAST_EVENT: i64 = 10;

fn task(id: &str, title: &str, status: Status, priority: i64) -> Task {
    common::cards::task(id, title, status, priority, NOW)
}

/// A model over two todo tasks, `t_first` selected (the higher priority).
fn model() -> Model {
    let tasks = vec![
        task("t_first", "first", Status::Todo, 2),
        task("t_second", "second", Status::Todo, 1),
    ];
    let state = State::new("board".into(), BoardView::default(), Theme::new(false), NOW);
    Model::new(
        state,
        Loaded {
            view: BoardView::load(tasks),
            last_event: LAST_EVENT,
            history: Vec::new(),
        },
        false,
    )
}

/// Applies `action` and returns what it asked for.
fn step(model: &mut Model, action: Action) -> Vec<Effect> {
    model.update_at(action, Instant::now());
    model.take_effects()
}

fn key(c: char) -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn enter() -> Action {
    Action::Terminal(TermEvent::Key(KeyEvent::new(
        KeyCode::Enter,
        KeyModifiers::NONE,
    )))
}

fn typed(model: &mut Model, text: &str) {
    for c in text.chars() {
        assert_eq!(step(model, key(c)), Vec::new(), "typing asks for nothing");
    }
}

fn writes(effects: &[Effect]) -> Vec<&Write> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Write(w) => Some(w),
            _ => None,
        })
        .collect()
}

fn pool(running: bool, paused: bool) -> Action {
    Action::PoolChanged(Box::new(PoolView {
        running,
        size: usize::from(running),
        paused,
        ..PoolView::default()
    }))
}

/// The board says `id` was claimed: its card moves to running.
fn claimed_elsewhere(id: &str) -> Action {
    let mut moved = task(id, "first", Status::Running, 2);
    moved.claim_lock = Some("gateboard:1:ab:w0".into());
    Action::Fetched(Box::new(Fetched::Since {
        after: LAST_EVENT,
        look: 1,
        events: vec![Event {
            id: LAST_EVENT + 1,
            task_id: id.into(),
            run_id: Some(1),
            kind: EventKind::Claimed,
            payload: None,
            created_at: NOW,
        }],
        tasks: vec![Keyed {
            rowid: 1,
            task: moved,
        }],
        violations: 0,
    }))
}

#[test]
fn a_refused_confirmation_asks_for_nothing_and_changes_nothing() {
    let mut m = model();
    assert_eq!(step(&mut m, Action::Complete), Vec::new());
    assert!(
        matches!(&m.state.mode, Mode::Prompt(p) if p.kind == PromptKind::ConfirmComplete
            && p.task.as_deref() == Some("t_first")),
        "c asks first, naming the task"
    );
    assert_eq!(step(&mut m, key('n')), Vec::new(), "no write, no read");
    assert_eq!(m.state.mode, Mode::Normal);
    assert_eq!(m.state.view.task("t_first").unwrap().status, Status::Todo);
}

#[test]
fn a_confirmed_complete_asks_for_that_one_write_and_shows_its_outcome_once_read_back() {
    let mut m = model();
    step(&mut m, Action::Complete);
    let effects = step(&mut m, key('y'));
    assert_eq!(
        effects,
        vec![Effect::Write(Write::Complete("t_first".into()))]
    );
    assert_eq!(m.state.message.as_deref(), Some("completing t_first…"));
    let effects = step(
        &mut m,
        Action::Wrote(Ok(Written {
            message: "t_first done; promoted 0".into(),
            select: None,
        })),
    );
    assert!(
        effects.iter().any(|e| matches!(
            e,
            Effect::Read(Read::Since {
                after: LAST_EVENT,
                ..
            })
        )),
        "the change is read back: {effects:?}"
    );
}

#[test]
fn a_prompt_keeps_its_task_when_the_card_moves_away_meanwhile() {
    let mut m = model();
    step(&mut m, Action::Block);
    typed(&mut m, "disk");
    step(&mut m, claimed_elsewhere("t_first"));
    assert_eq!(
        m.state.view.task("t_first").unwrap().status,
        Status::Running
    );
    let effects = step(&mut m, enter());
    assert_eq!(
        writes(&effects),
        vec![&Write::Block {
            task: "t_first".into(),
            reason: "disk".into()
        }],
        "the task the prompt was opened for, not the card now in its row"
    );
}

#[test]
fn a_refused_write_keeps_its_prompt_open_saying_why() {
    let mut m = model();
    step(&mut m, Action::Block);
    typed(&mut m, "disk");
    step(&mut m, enter());
    step(
        &mut m,
        Action::Wrote(Err(
            "t_first is done; only a waiting task can be blocked".into()
        )),
    );
    match &m.state.mode {
        Mode::Prompt(prompt) => {
            assert_eq!(prompt.kind, PromptKind::BlockReason);
            assert_eq!(prompt.input.value(), "disk", "the answer stays to be fixed");
            assert!(!prompt.waiting);
            assert!(prompt.refusal.as_deref().unwrap().contains("is done"));
        }
        other => panic!("the prompt stays open, got {other:?}"),
    }
}

#[test]
fn an_empty_block_reason_is_refused_without_asking_the_board() {
    let mut m = model();
    step(&mut m, Action::Block);
    assert_eq!(step(&mut m, enter()), Vec::new());
    assert!(
        matches!(&m.state.mode, Mode::Prompt(p) if p.refusal.as_deref() == Some("a block needs a reason"))
    );
}

#[test]
fn pool_keys_ask_the_pool_only_for_what_it_can_do() {
    let mut m = model();
    assert_eq!(step(&mut m, Action::TogglePause), Vec::new());
    assert_eq!(
        m.state.message.as_deref(),
        Some("no workers run here; + starts one")
    );
    assert_eq!(
        step(&mut m, Action::MoreWorkers),
        vec![Effect::Pool(PoolCommand::Start(1))]
    );
    step(&mut m, pool(true, false));
    assert_eq!(
        step(&mut m, Action::TogglePause),
        vec![Effect::Pool(PoolCommand::Pause)]
    );
    assert!(
        m.state
            .message
            .as_deref()
            .unwrap()
            .starts_with("pool paused")
    );
    step(&mut m, pool(true, true));
    assert_eq!(
        step(&mut m, Action::TogglePause),
        vec![Effect::Pool(PoolCommand::Resume)]
    );
    assert_eq!(m.state.message.as_deref(), Some("pool resumed"));
    assert_eq!(
        step(&mut m, Action::MoreWorkers),
        vec![Effect::Pool(PoolCommand::Resize(2))]
    );
    assert_eq!(m.state.message.as_deref(), Some("workers: 2"));
    assert_eq!(
        step(&mut m, Action::FewerWorkers),
        vec![Effect::Pool(PoolCommand::Resize(0))]
    );
    assert!(
        m.state
            .message
            .as_deref()
            .unwrap()
            .starts_with("workers: 0")
    );
}

#[test]
fn a_race_is_refused_without_workers_to_race_and_summed_up_after_its_audit() {
    let mut m = model();
    assert_eq!(
        step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter)),
        Vec::new()
    );
    assert_eq!(
        m.state.message.as_deref(),
        Some("race needs workers: press + to start one")
    );
    step(&mut m, pool(true, true));
    assert_eq!(
        step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter)),
        Vec::new()
    );
    assert!(m.state.message.as_deref().unwrap().contains("paused"));

    step(&mut m, pool(true, false));
    let effects = step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter));
    match effects.as_slice() {
        [Effect::Race(RaceCommand::Start(config))] => {
            assert_eq!(config.mode, RaceMode::BuggyWriter);
        }
        other => panic!("the race's writer starts, got {other:?}"),
    }
    assert_eq!(
        step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter)),
        vec![Effect::Race(RaceCommand::Stop)],
        "the same key stops it"
    );
    let report = RaceReport {
        children: 3,
        links_refused: 1,
        parents: vec!["t_p".into()],
    };
    assert_eq!(
        step(&mut m, Action::RaceWritten(Ok(report.clone()))),
        Vec::new(),
        "with workers running, what it wrote is worked to the end first"
    );
    assert!(
        m.state
            .message
            .as_deref()
            .unwrap()
            .contains("workers finish them")
    );
    assert_eq!(m.state.race_summary, None);

    // Stopped with the pool paused: it waits for the workers to resume, and says so.
    let mut m = model();
    step(&mut m, pool(true, false));
    step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter));
    step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter));
    step(&mut m, pool(true, true));
    assert_eq!(
        step(&mut m, Action::RaceWritten(Ok(report.clone()))),
        Vec::new()
    );
    assert!(m.state.message.as_deref().unwrap().contains("p resumes"));

    // With the workers gone, nothing would finish it: it is summed up at once.
    let mut m = model();
    step(&mut m, pool(true, false));
    step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter));
    step(&mut m, Action::ToggleRace(RaceMode::BuggyWriter));
    step(&mut m, pool(false, false));
    let effects = step(&mut m, Action::RaceWritten(Ok(report)));
    assert_eq!(effects, vec![Effect::Read(Read::Audit)]);
    assert_eq!(m.state.race_summary, None, "not before the audit");
    step(&mut m, Action::Fetched(Box::new(Fetched::Audited(0))));
    let summary = m.state.race_summary.clone().expect("the summary");
    assert_eq!((summary.children, summary.links_refused), (3, 1));
    assert!(!summary.finished, "stopped by the person");
}

#[test]
fn a_read_answering_a_view_since_closed_is_not_shown() {
    let mut m = model();
    let asked = step(&mut m, Action::Link);
    let view = match asked.as_slice() {
        [Effect::Read(Read::Finished { task, view })] if task == "t_first" => *view,
        other => panic!("the picker's choices are read first, got {other:?}"),
    };
    let choices = || {
        Action::Fetched(Box::new(Fetched::Choices {
            view,
            task: "t_first".into(),
            parents: false,
            offered: vec![Neighbour {
                id: "t_old".into(),
                title: "old".into(),
                status: Status::Done,
            }],
        }))
    };
    step(&mut m, Action::Back);
    step(&mut m, choices());
    assert_eq!(m.state.mode, Mode::Normal, "Esc came first");

    let asked = step(&mut m, Action::Link);
    let Some(Effect::Read(Read::Finished { view, .. })) = asked.first() else {
        panic!("asked again");
    };
    let view = *view;
    step(
        &mut m,
        Action::Fetched(Box::new(Fetched::Choices {
            view,
            task: "t_first".into(),
            parents: false,
            offered: Vec::new(),
        })),
    );
    assert!(
        matches!(&m.state.mode, Mode::Prompt(p) if p.kind == PromptKind::LinkParent),
        "the answer to the open request opens the picker"
    );
}

#[test]
fn ctrl_w_in_a_prompt_deletes_a_hyphenated_word_whole() {
    let mut m = model();
    step(&mut m, Action::Block);
    typed(&mut m, "waits on build-and-test");
    step(
        &mut m,
        Action::Terminal(TermEvent::Key(KeyEvent::new(
            KeyCode::Char('w'),
            KeyModifiers::CONTROL,
        ))),
    );
    match &m.state.mode {
        Mode::Prompt(prompt) => assert_eq!(prompt.input.value(), "waits on "),
        other => panic!("the prompt stays open, got {other:?}"),
    }
}

fn selected(m: &Model) -> Option<String> {
    m.state.selected_task().map(|t| t.id.clone())
}

#[test]
fn a_card_the_person_never_chose_gives_way_when_the_board_moves_it() {
    let mut m = model();
    step(&mut m, claimed_elsewhere("t_first"));
    assert_eq!(selected(&m).as_deref(), Some("t_second"));
    assert_eq!(m.state.message, None, "nothing to warn about");
}

#[test]
fn a_chosen_card_the_board_moves_is_held_until_the_person_leaves_the_column() {
    let mut m = model();
    step(&mut m, Action::Down);
    step(&mut m, Action::Up);
    step(&mut m, claimed_elsewhere("t_first"));
    assert_eq!(
        selected(&m).as_deref(),
        Some("t_first"),
        "keys still act on it"
    );
    assert!(
        m.state
            .message
            .as_deref()
            .unwrap()
            .contains("moved to running")
    );
    step(&mut m, Action::Right);
    step(&mut m, Action::Left);
    assert_eq!(
        selected(&m).as_deref(),
        Some("t_second"),
        "back in the column, the cursor is on the card that took the row"
    );
    let cards = m.state.cards(&Status::Todo);
    assert_eq!(m.state.highlighted_row(&Status::Todo, &cards), Some(0));
}

#[test]
fn a_chosen_card_that_leaves_another_column_is_not_held_there() {
    let mut m = model();
    step(&mut m, Action::Down);
    step(&mut m, Action::Up);
    step(&mut m, Action::Right);
    step(&mut m, claimed_elsewhere("t_first"));
    assert_eq!(m.state.message, None, "the person is not in that column");
    step(&mut m, Action::Left);
    assert_eq!(selected(&m).as_deref(), Some("t_second"));
}
