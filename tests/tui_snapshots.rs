//! Whole frames as a person sees them, drawn from fixed states with ratatui's TestBackend.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::time::Instant;

use gateboard::core::model::{Comment, Neighbour};
use gateboard::core::{Event, EventKind, Run, Status, Task, TaskDetail};
use gateboard::pool::racer::RaceMode;
use gateboard::pool::{WorkerState, WorkerStatus};
use gateboard::tui::event_log::LogFilter;
use gateboard::tui::picker::Picker;
use gateboard::tui::state::{
    BoardView, Mode, Pane, PoolView, Prompt, PromptKind, RaceSummary, State,
};
use gateboard::tui::theme::Theme;
use gateboard::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_input::InputRequest;

const NOW: i64 = 1_795_000_000;

fn task(id: &str, title: &str, status: Status, priority: i64) -> Task {
    common::cards::task(id, title, status, priority, NOW)
}

fn running(id: &str, title: &str, worker: usize, secs: i64) -> Task {
    Task {
        claim_lock: Some(format!("gateboard:42:abcd:w{worker}")),
        started_at: Some(NOW - secs),
        current_run_id: Some(1),
        ..task(id, title, Status::Running, 0)
    }
}

fn event(id: i64, task: &str, kind: EventKind, payload: Option<serde_json::Value>) -> Event {
    Event {
        id,
        task_id: task.into(),
        run_id: None,
        kind,
        payload,
        created_at: NOW - 60 + id,
    }
}

fn demo_tasks() -> Vec<Task> {
    vec![
        task("t_00000001", "Write the release spec", Status::Done, 5),
        task("t_00000002", "Collect test fixtures", Status::Done, 1),
        running("t_00000003", "Design the schema migration", 0, 3),
        running("t_00000004", "Sketch the public API", 1, 1),
        task("t_00000005", "Implement the migration", Status::Todo, 3),
        task("t_00000006", "Serve the new endpoints", Status::Todo, 3),
        task("t_00000007", "Update the client library", Status::Ready, 2),
        Task {
            block_reason: Some("waiting for a GPU quota".into()),
            ..task("t_00000008", "Load-test the server", Status::Blocked, 2)
        },
        task("t_00000009", "Triage old bug reports", Status::Triage, 0),
    ]
}

fn workers(states: &[WorkerState]) -> Vec<WorkerStatus> {
    states
        .iter()
        .map(|state| WorkerStatus {
            command: None,
            pid: None,
            state: state.clone(),
            since: Instant::now(),
            done: 2,
        })
        .collect()
}

fn demo_state() -> State {
    let mut state = State::new(
        "/home/ops/.local/share/gateboard/board.db".into(),
        BoardView::load(demo_tasks()),
        Theme::new(false),
        NOW,
    );
    state.pool = PoolView {
        running: true,
        size: 3,
        paused: false,
        workers: workers(&[
            WorkerState::Working {
                task: "t_00000003".into(),
            },
            WorkerState::Working {
                task: "t_00000004".into(),
            },
            WorkerState::Idle,
        ]),
        completed: 2,
        race: None,
        trouble: None,
    };
    state.push_events(vec![
        event(
            1,
            "t_00000001",
            EventKind::Claimed,
            Some(serde_json::json!({"lock": "gateboard:42:abcd:w0"})),
        ),
        event(2, "t_00000001", EventKind::Completed, None),
        event(3, "t_00000003", EventKind::Promoted, None),
        event(
            4,
            "t_00000003",
            EventKind::Claimed,
            Some(serde_json::json!({"lock": "gateboard:42:abcd:w0"})),
        ),
    ]);
    state.claims_per_sec = 0.4;
    state
}

fn render(state: &State, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("terminal");
    terminal
        .draw(|frame| view::draw(frame, state))
        .expect("draw");
    terminal
}

#[test]
fn empty_board() {
    let state = State::new(
        "board.db".into(),
        BoardView::default(),
        Theme::new(false),
        NOW,
    );
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn demo_board() {
    insta::assert_snapshot!(render(&demo_state(), 100, 30).backend());
}

#[test]
fn other_statuses_shown_on_demand() {
    let mut state = demo_state();
    state.show_other = true;
    insta::assert_snapshot!(render(&state, 120, 30).backend());
}

#[test]
fn detail_view() {
    let mut state = demo_state();
    let tasks = demo_tasks();
    state.mode = Mode::Detail(Box::new(TaskDetail {
        task: Task {
            body: Some("Apply the new schema to every shard.".into()),
            ..tasks[4].clone()
        },
        parents: vec![Neighbour {
            id: "t_00000003".into(),
            title: "Design the schema migration".into(),
            status: Status::Running,
        }],
        children: vec![Neighbour {
            id: "t_00000006".into(),
            title: "Serve the new endpoints".into(),
            status: Status::Todo,
        }],
        runs: vec![Run {
            id: 7,
            task_id: "t_00000005".into(),
            status: "reclaimed".into(),
            claim_lock: Some("gateboard:41:ffff:w2".into()),
            started_at: NOW - 900,
            ended_at: Some(NOW - 800),
            outcome: Some("reclaimed".into()),
            summary: None,
            profile: None,
            error: Some("its worker stopped heartbeating".into()),
            exit_code: None,
            signal: None,
            duration_ms: None,
            log: None,
            worker_pid: None,
        }],
        events: vec![event(5, "t_00000005", EventKind::Created, None)],
        comments: vec![Comment {
            id: 1,
            author: "tui:ops".into(),
            body: "shard 3 first\nit is the smallest".into(),
            created_at: NOW - 180,
        }],
        not_ready_because: Some("waiting on t_00000003 (running)".into()),
        command: Some(gateboard::core::model::TaskCommand {
            command: "cargo run --release -- serve".into(),
            cwd: "/srv/api".into(),
            env: vec![("RUST_LOG".into(), "info".into())],
            timeout_secs: Some(600),
            retries: 2,
        }),
    }));
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn dependency_tree() {
    use gateboard::core::lineage::{Lineage, LineageNode};
    use gateboard::tui::tree::TreeView;
    let node = |title: &str, status: Status| LineageNode {
        title: title.into(),
        status,
    };
    let ids = |list: &[&str]| list.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
    let lineage = Lineage {
        root: "t_00000006".into(),
        nodes: [
            ("t_00000001", node("Write the release notes", Status::Done)),
            (
                "t_00000003",
                node("Design the schema migration", Status::Running),
            ),
            ("t_00000005", node("Implement the migration", Status::Todo)),
            ("t_00000006", node("Serve the new endpoints", Status::Todo)),
            ("t_00000007", node("Announce the endpoints", Status::Todo)),
        ]
        .into_iter()
        .map(|(id, n)| (id.to_owned(), n))
        .collect(),
        parents: [
            ("t_00000006".to_owned(), ids(&["t_00000001", "t_00000005"])),
            ("t_00000005".to_owned(), ids(&["t_00000003"])),
            ("t_00000007".to_owned(), ids(&["t_00000006"])),
        ]
        .into_iter()
        .collect(),
        children: [
            ("t_00000001".to_owned(), ids(&["t_00000006"])),
            ("t_00000005".to_owned(), ids(&["t_00000006"])),
            ("t_00000003".to_owned(), ids(&["t_00000005"])),
            ("t_00000006".to_owned(), ids(&["t_00000007"])),
        ]
        .into_iter()
        .collect(),
        truncated: false,
    };
    let mut state = demo_state();
    state.mode = Mode::Tree(Box::new(TreeView::new(lineage)));
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn help() {
    let mut state = demo_state();
    state.mode = Mode::Help;
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn a_long_column_shows_the_cursor_s_place_and_what_is_out_of_sight() {
    let tasks: Vec<Task> = (0..1800)
        .map(|i| task(&format!("t_{i:08x}"), &format!("job {i}"), Status::Ready, 0))
        .collect();
    let mut state = State::new(
        "/home/ops/.local/share/gateboard/board.db".into(),
        BoardView::load(tasks),
        Theme::new(false),
        NOW,
    );
    state.move_column(1);
    state.move_row(56);
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn tiny_terminal() {
    insta::assert_snapshot!(render(&demo_state(), 40, 10).backend());
}

#[test]
fn race_running() {
    let mut state = demo_state();
    state.pool.race = Some(57);
    state.rejections = 3;
    state.claims_per_sec = 12.6;
    let reason = Some(serde_json::json!({"reason": "parents_not_done"}));
    state.log.clear();
    state.push_events(vec![
        event(10, "t_000000a1", EventKind::Created, None),
        event(
            11,
            "t_000000a1",
            EventKind::Claimed,
            Some(serde_json::json!({"lock": "gateboard:42:abcd:w2"})),
        ),
        event(12, "t_000000a2", EventKind::Created, None),
        event(
            13,
            "t_000000a2",
            EventKind::Linked,
            Some(serde_json::json!({"parent": "t_000000p1"})),
        ),
        event(14, "t_000000a2", EventKind::ClaimRejected, reason.clone()),
        event(15, "t_000000a3", EventKind::ClaimRejected, reason),
        event(16, "t_000000a1", EventKind::Completed, None),
    ]);
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

/// The style of the first cell of the first occurrence of `text` on screen.
fn style_of(terminal: &Terminal<TestBackend>, text: &str) -> ratatui::style::Style {
    let buffer = terminal.backend().buffer();
    let width = buffer.area.width as usize;
    let cells: Vec<&str> = buffer.content.iter().map(|c| c.symbol()).collect();
    let screen: String = cells.concat();
    let at = screen.find(text).expect("text on screen");
    let index = screen[..at].chars().count();
    let (x, y) = ((index % width) as u16, (index / width) as u16);
    buffer[(x, y)].style()
}

#[test]
fn claim_rejected_stands_out_in_colour_and_without() {
    use ratatui::style::{Color, Modifier};
    let mut state = demo_state();
    state.push_events(vec![event(
        20,
        "t_000000a9",
        EventKind::ClaimRejected,
        Some(serde_json::json!({"reason": "parents_not_done"})),
    )]);
    state.theme = Theme::new(true);
    let coloured = style_of(&render(&state, 100, 30), "claim_rejected");
    assert_eq!(coloured.bg, Some(Color::Red));
    let claimed = style_of(&render(&state, 100, 30), "claimed ");
    assert_ne!(claimed.bg, Some(Color::Red));

    state.theme = Theme::new(false);
    let plain = style_of(&render(&state, 100, 30), "claim_rejected");
    // A cell with no colour of its own reads back as the terminal's default, `Reset`.
    let uncoloured = |c: Option<Color>| matches!(c, None | Some(Color::Reset));
    assert!(uncoloured(plain.fg), "NO_COLOR: no colours at all");
    assert!(uncoloured(plain.bg), "NO_COLOR: no colours at all");
    assert!(plain.add_modifier.contains(Modifier::REVERSED));
}

#[test]
fn an_active_filter_shows_in_the_status_bar_and_the_column_counts() {
    let mut state = demo_state();
    state.set_filter("migration".into());
    let terminal = render(&state, 100, 30);
    let screen = format!("{}", terminal.backend());
    assert!(screen.contains(r#"filter "migration""#), "{screen}");
    assert!(screen.contains(" todo (1/2) "), "{screen}");
    assert!(screen.contains(" running (1/2) "), "{screen}");
    insta::assert_snapshot!(terminal.backend());
}

/// Text another program wrote, carrying a clear-screen, a carriage return, a C1 CSI and a
/// bidi override.
const HOSTILE: &str = "x\u{1b}[2J\ry\u{9b}z\u{202e}";
/// How the screen shows it.
const HOSTILE_SHOWN: &str = r"x\e[2J\ry\u{9b}z\u{202e}";

fn screen(terminal: &Terminal<TestBackend>) -> String {
    let buffer = terminal.backend().buffer();
    buffer.content.iter().map(|c| c.symbol()).collect()
}

#[test]
fn hostile_text_shows_escaped_on_cards_in_the_detail_view_and_in_the_log() {
    let mut tasks = demo_tasks();
    tasks.push(task("t_0000000a", HOSTILE, Status::Ready, 9));
    tasks.push(Task {
        block_reason: Some(HOSTILE.into()),
        ..task("t_0000000b", "held", Status::Blocked, 9)
    });
    let mut state = State::new(
        "board.db".into(),
        BoardView::load(tasks),
        Theme::new(false),
        NOW,
    );
    state.push_events(vec![event(
        30,
        "t_0000000b",
        EventKind::Blocked,
        Some(serde_json::json!({ "reason": HOSTILE })),
    )]);
    let board = screen(&render(&state, 160, 30));
    assert!(board.contains(HOSTILE_SHOWN), "card title: {board}");
    assert!(
        board.contains(&format!("⊘ {HOSTILE_SHOWN}")),
        "card reason: {board}"
    );
    assert!(
        board.contains(&format!("t_0000000b {HOSTILE_SHOWN}")),
        "log: {board}"
    );

    state.mode = Mode::Detail(Box::new(TaskDetail {
        task: Task {
            body: Some(format!("first\n{HOSTILE}")),
            assignee: Some(HOSTILE.into()),
            ..task("t_0000000a", HOSTILE, Status::Ready, 9)
        },
        parents: vec![],
        children: vec![],
        runs: vec![],
        events: vec![event(
            31,
            "t_0000000a",
            EventKind::Other(HOSTILE.into()),
            Some(serde_json::json!({ "note": HOSTILE })),
        )],
        comments: vec![],
        not_ready_because: Some(HOSTILE.into()),
        command: None,
    }));
    let detail = screen(&render(&state, 160, 40));
    for shown in [
        format!("{HOSTILE_SHOWN}  t_0000000a"),
        format!("assignee {HOSTILE_SHOWN}"),
        format!("not ready: {HOSTILE_SHOWN}"),
        format!("{HOSTILE_SHOWN} {{\"note\":\"x\\u001b[2J\\ry\\u{{9b}}z\\u{{202e}}\"}}"),
    ] {
        assert!(
            detail.contains(&shown),
            "{shown:?} not in the detail view: {detail}"
        );
    }
    let body_line = detail.find("first").expect("the body's first line");
    assert!(
        detail[body_line..].contains(HOSTILE_SHOWN),
        "body: {detail}"
    );
    assert!(
        !detail.chars().any(|c| c == '\u{202e}' || c.is_control()),
        "nothing on screen is a control character"
    );
}

#[test]
fn a_pool_that_cannot_write_says_so_in_the_status_bar_until_it_clears() {
    let mut state = demo_state();
    state.pool.trouble = Some("SQLite: database or disk is full".into());
    let shown = screen(&render(&state, 160, 30));
    assert!(
        shown.contains("pool cannot write: SQLite: database or disk is full"),
        "{shown}"
    );
    state.pool.trouble = None;
    assert!(!screen(&render(&state, 160, 30)).contains("cannot write"));
}

#[test]
fn a_ready_card_with_an_unfinished_parent_is_marked_gated() {
    let mut tasks = demo_tasks();
    tasks.push(Task {
        gated: true,
        ..task(
            "t_0000000c",
            "marked ready by another program",
            Status::Ready,
            9,
        )
    });
    let state = State::new(
        "board.db".into(),
        BoardView::load(tasks),
        Theme::new(false),
        NOW,
    );
    let shown = screen(&render(&state, 160, 30));
    assert!(shown.contains("⚠ gated: a parent is not done"), "{shown}");
}

#[test]
fn a_ready_card_waiting_out_its_retry_backoff_says_so() {
    let mut tasks = demo_tasks();
    tasks.push(Task {
        failures: 1,
        retry_at_ms: Some((NOW + 5) * 1000),
        ..task("t_0000000d", "flaky check", Status::Ready, 9)
    });
    let state = State::new(
        "board.db".into(),
        BoardView::load(tasks),
        Theme::new(false),
        NOW,
    );
    let shown = screen(&render(&state, 160, 30));
    assert!(shown.contains("↻ retry soon after 1 failure"), "{shown}");
}

fn buggy_race_done() -> RaceSummary {
    RaceSummary {
        mode: RaceMode::BuggyWriter,
        finished: true,
        children: 30,
        links_refused: 0,
        claims: 40,
        rejections: 30,
        live_violations: 0,
        audit_violations: 0,
    }
}

#[test]
fn race_summary_pinned_under_the_events() {
    let mut state = demo_state();
    state.rejections = 30;
    state.race_summary = Some(buggy_race_done());
    state.message = Some("race done: 0 violations".into());
    insta::assert_snapshot!(render(&state, 100, 30).backend());
}

#[test]
fn a_race_summary_alarms_when_an_audit_found_a_violation() {
    use ratatui::style::Color;
    let mut state = demo_state();
    state.theme = Theme::new(true);
    state.race_summary = Some(buggy_race_done());
    let clean = style_of(&render(&state, 100, 30), "30 claim_rejected");
    assert_ne!(clean.bg, Some(Color::Red), "a clean race does not alarm");
    state.race_summary = Some(RaceSummary {
        audit_violations: 1,
        ..buggy_race_done()
    });
    let broken = style_of(&render(&state, 100, 30), "30 claim_rejected");
    assert_eq!(broken.bg, Some(Color::Red));
}

/// The demo board with the events pane focused and `n` events in it, the newest last.
fn log_state(n: i64) -> State {
    let mut state = demo_state();
    state.pane = Pane::Log;
    state.log.clear();
    state.push_events((1..=n).map(|id| {
        let kind = if id % 5 == 0 {
            EventKind::Completed
        } else {
            EventKind::Created
        };
        event(id, &format!("t_{id:08x}"), kind, None)
    }));
    state
}

fn log_rows(terminal: &Terminal<TestBackend>) -> Vec<String> {
    let buffer = terminal.backend().buffer();
    let width = usize::from(buffer.area.width);
    let cells: Vec<&str> = buffer.content.iter().map(|c| c.symbol()).collect();
    cells
        .chunks(width)
        // Below 19 rows of columns and the events pane's top border.
        .skip(20)
        .take(gateboard::tui::layout::LOG_ROWS)
        .map(|row| row[..60].concat())
        .collect()
}

#[test]
fn events_pane_following() {
    let state = log_state(40);
    let terminal = render(&state, 100, 30);
    assert!(
        log_rows(&terminal)[6].contains("    40 "),
        "the newest is at the bottom"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn events_pane_frozen() {
    let mut state = log_state(40);
    state.move_row(-10);
    let before = log_rows(&render(&state, 100, 30));
    state.push_events((41..=45).map(|id| event(id, "t_000000ff", EventKind::Claimed, None)));
    let terminal = render(&state, 100, 30);
    assert_eq!(log_rows(&terminal), before, "the rows held still");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn events_pane_filtered_to_claim_rejected() {
    let mut state = log_state(0);
    state.log.set_filter(LogFilter::Rejected);
    let reason = Some(serde_json::json!({"reason": "parents_not_done"}));
    state.log.restart(
        (0..4)
            .map(|i| {
                event(
                    100 + i * 7,
                    "t_000000a2",
                    EventKind::ClaimRejected,
                    reason.clone(),
                )
            })
            .collect(),
        false,
    );
    state.push_events(vec![
        event(130, "t_000000a2", EventKind::Claimed, None),
        event(131, "t_000000a3", EventKind::ClaimRejected, reason),
    ]);
    state.rejections_before = 102;
    state.rejections = 3;
    let terminal = render(&state, 100, 30);
    let shown = screen(&terminal);
    assert!(
        shown.contains(" events: claim_rejected only (f) "),
        "{shown}"
    );
    assert!(shown.contains("rejected 105 (3 now)"), "{shown}");
    assert!(!shown.contains("claimed "), "other kinds are not shown");
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn help_fits_the_smallest_screen() {
    let mut state = demo_state();
    state.mode = Mode::Help;
    let terminal = render(&state, 80, 24);
    let shown = format!("{}", terminal.backend());
    for (key, what) in state.keymap.help() {
        assert!(
            shown.contains(&format!("{key}  {what}")),
            "{key:?} {what:?} is not shown in full:\n{shown}"
        );
    }
    insta::assert_snapshot!(terminal.backend());
}

/// A prompt with `text` typed into it and the cursor moved `left` characters back.
fn typed_prompt(kind: PromptKind, task: &str, text: &str, left: usize) -> Prompt {
    let mut prompt = Prompt::new(kind, Some(task.into()));
    for c in text.chars() {
        prompt.input.apply(InputRequest::InsertChar(c));
    }
    for _ in 0..left {
        prompt.input.apply(InputRequest::GoToPrevChar);
    }
    prompt
}

#[test]
fn a_prompt_with_the_cursor_mid_text() {
    let mut state = demo_state();
    let prompt = typed_prompt(
        PromptKind::BlockReason,
        "t_00000007",
        "waiting on the GPU quota",
        "GPU quota".len(),
    );
    state.mode = Mode::Prompt(prompt);
    let mut terminal = render(&state, 100, 30);
    // The box's text row is the third from the bottom; "waiting on the " is 15 wide.
    terminal.backend_mut().assert_cursor_position((1 + 15, 27));
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_refused_answer_shows_in_the_prompt() {
    let mut state = demo_state();
    let mut prompt = typed_prompt(PromptKind::BlockReason, "t_00000007", "", 0);
    prompt.refusal = Some("a block needs a reason".into());
    state.mode = Mode::Prompt(prompt);
    let shown = screen(&render(&state, 100, 30));
    assert!(shown.contains(" a block needs a reason "), "{shown}");
}

#[test]
fn a_long_line_scrolls_so_the_cursor_stays_in_the_box() {
    let mut state = demo_state();
    let text: String = (0..30).map(|i| format!("word{i} ")).collect();
    state.mode = Mode::Prompt(typed_prompt(PromptKind::NewTitle, "t_1", &text, 0));
    let mut terminal = render(&state, 100, 30);
    terminal.backend_mut().assert_cursor_position((1 + 97, 27));
    let shown = screen(&terminal);
    assert!(shown.contains("word29 "), "the end shows: {shown}");
    assert!(
        !shown.contains("word0 "),
        "the start scrolled away: {shown}"
    );
}

/// The picker `L` opens on "Serve the new endpoints", with "mig" typed and the cursor moved
/// to the second match.
fn link_picker(state: &State) -> Prompt {
    let mut prompt = typed_prompt(PromptKind::LinkParent, "t_00000006", "mig", 0);
    let mut picker = Picker::board_except(&state.view, "t_00000006");
    picker.refilter(prompt.input.value());
    picker.move_cursor(1);
    prompt.picker = Some(Box::new(picker));
    prompt
}

#[test]
fn picker_of_a_parent_narrowed_by_fuzzy_match() {
    let mut state = demo_state();
    state.mode = Mode::Prompt(link_picker(&state));
    let mut terminal = render(&state, 100, 30);
    let shown = screen(&terminal);
    assert!(
        shown.contains("2/8"),
        "two of the eight other tasks match: {shown}"
    );
    let offered = Picker::board_except(&state.view, "t_00000006");
    assert!(
        offered.matches_from(0).all(|c| c.id != "t_00000006"),
        "the task itself is not offered"
    );
    insta::assert_snapshot!(terminal.backend());
    // The query's cursor, after "> mig": the popup is 80 wide from column 10 and 21 tall
    // from row 5, the query on its first inner row.
    terminal
        .backend_mut()
        .assert_cursor_position((10 + 1 + 2 + 3, 5 + 1));
}

#[test]
fn a_refused_link_shows_under_the_query_where_the_person_looks() {
    let mut state = demo_state();
    let mut prompt = link_picker(&state);
    prompt.refusal = Some("linking t_00000002 -> t_00000006 would create a cycle".into());
    state.mode = Mode::Prompt(prompt);
    let terminal = render(&state, 100, 30);
    let shown = screen(&terminal);
    let at = |text: &str| {
        shown
            .find(text)
            .unwrap_or_else(|| panic!("no {text:?}: {shown}"))
    };
    assert!(
        at("> mig") < at("would create a cycle")
            && at("would create a cycle") < at("Implement the migration"),
        "the refusal is between the query and the list: {shown}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn hostile_text_shows_escaped_in_prompts_and_the_picker() {
    let mut tasks = demo_tasks();
    tasks.push(task("t_0000000a", HOSTILE, Status::Ready, 9));
    let mut state = State::new(
        "board.db".into(),
        BoardView::load(tasks),
        Theme::new(false),
        NOW,
    );
    let mut prompt = typed_prompt(PromptKind::LinkParent, "t_00000006", "", 0);
    prompt.picker = Some(Box::new(Picker::board_except(&state.view, "t_00000006")));
    prompt.refusal = Some(format!("refused: {HOSTILE}"));
    state.mode = Mode::Prompt(prompt);
    let picker = screen(&render(&state, 160, 40));
    assert!(
        picker.contains(&format!("t_0000000a   ready     {HOSTILE_SHOWN}")),
        "{picker}"
    );
    assert!(
        picker.contains(&format!("refused: {HOSTILE_SHOWN}")),
        "{picker}"
    );

    state.mode = Mode::Prompt(typed_prompt(PromptKind::NewTitle, "t_1", HOSTILE, 2));
    let mut terminal = render(&state, 160, 40);
    let shown = screen(&terminal);
    assert!(shown.contains(HOSTILE_SHOWN), "typed text: {shown}");
    // Two characters back from the end is before "z\u{202e}", shown as `z\u{202e}`.
    let before = r"x\e[2J\ry\u{9b}";
    terminal
        .backend_mut()
        .assert_cursor_position((1 + before.len() as u16, 37));
    for text in [picker, shown] {
        assert!(
            !text.chars().any(|c| c == '\u{202e}' || c.is_control()),
            "nothing on screen is a control character"
        );
    }
}

#[test]
fn a_confirmation_names_the_task_it_acts_on() {
    let mut state = demo_state();
    state.mode = Mode::Prompt(Prompt::new(
        PromptKind::ConfirmArchive,
        Some("t_00000007".into()),
    ));
    let terminal = render(&state, 100, 30);
    let shown = format!("{}", terminal.backend());
    assert!(
        shown.contains("Archive t_00000007 \"Update the client"),
        "the question names the task's id and title:\n{shown}"
    );
    insta::assert_snapshot!(terminal.backend());
}

#[test]
fn a_long_detail_view_scrolls_and_says_more_is_below() {
    let mut state = demo_state();
    let tasks = demo_tasks();
    state.mode = Mode::Detail(Box::new(TaskDetail {
        task: Task {
            body: Some((0..40).map(|i| format!("line {i} of the body\n")).collect()),
            ..tasks[4].clone()
        },
        parents: vec![],
        children: vec![],
        runs: vec![],
        events: vec![],
        comments: vec![],
        not_ready_because: None,
        command: None,
    }));
    state.detail_scroll = 5;
    let shown = format!("{}", render(&state, 100, 30).backend());
    assert!(
        !shown.contains("priority 3") && shown.contains("line 3 of the body"),
        "the top lines scrolled away:\n{shown}"
    );
    assert!(shown.contains("↓ more"), "{shown}");
    state.detail_scroll = 1_000;
    let shown = format!("{}", render(&state, 100, 30).backend());
    assert!(
        shown.contains("line 39 of the body"),
        "the end stays on screen:\n{shown}"
    );
    assert!(!shown.contains("↓ more"));
}

#[test]
fn a_narrow_workers_pane_still_shows_what_each_worker_runs() {
    let mut state = demo_state();
    if let Some(worker) = state.pool.workers.first_mut() {
        worker.command = Some("cargo test --workspace".into());
        worker.pid = Some(4242);
    }
    let terminal = render(&state, 120, 36);
    let shown = screen(&terminal);
    assert!(
        shown.contains("working t_00000003 $ cargo test --works…│"),
        "the command follows the task; the counters give way to it, cut short: {shown}"
    );
}

#[test]
fn the_workers_title_counts_workers_shrunk_away_that_still_finish_their_task() {
    let mut state = demo_state();
    state.pool.size = 1;
    state.pool.paused = true;
    let terminal = render(&state, 100, 30);
    let screen: String = terminal
        .backend()
        .buffer()
        .content()
        .iter()
        .map(|cell| cell.symbol())
        .collect();
    assert!(
        screen.contains(" workers: 1 (+2 finishing) paused "),
        "three rows under a pool of one: {screen}"
    );
}
