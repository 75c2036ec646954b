//! Every transition of a task and every refusal, through the core API: the statuses each
//! operation leaves, the events it writes with their payloads, the runs it opens and closes,
//! the claim it sets or clears, the exact error of each refusal, and that a refusal writes nothing.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::fmt::Debug;
use std::time::Duration;

use gateboard::core::audit::audit;
use gateboard::core::error::StartedChild;
use gateboard::core::model::Comment;
use gateboard::core::ops::{
    Claim, ClaimNext, ClaimOutcome, ClaimScope, Claimer, Completion, GraphNode, Unarchived,
};
use gateboard::core::{
    Board, BoardError, Event, EventKind, NewTask, Result, Run, Status, Task, Txn,
};
use rusqlite::types::Value;
use serde_json::json;

/// The clock every operation runs at unless a test moves it.
const NOW: i64 = 1_700_000_000;
/// How long a claim lives without a heartbeat.
const TTL: i64 = 60;
/// The same, as the claimer and the sweep take it.
const SWEEP_TTL: Duration = Duration::from_secs(TTL as u64);

const TABLES: [&str; 5] = [
    "tasks",
    "task_links",
    "task_events",
    "task_runs",
    "task_comments",
];

/// One board, a gateboard connection to it, and a raw connection standing in for other writers.
struct Fixture {
    _file: common::TempBoard,
    board: Board,
    raw: rusqlite::Connection,
}

impl Fixture {
    fn new() -> Fixture {
        let file = common::TempBoard::new();
        let board = common::open_fast(&file.path);
        let raw = rusqlite::Connection::open(&file.path).expect("raw connection");
        raw.busy_timeout(Duration::from_secs(10))
            .expect("busy timeout");
        Fixture {
            _file: file,
            board,
            raw,
        }
    }

    /// Runs one write at `now`; it must succeed.
    fn at<T>(&mut self, now: i64, f: impl FnOnce(&Txn<'_>) -> Result<T>) -> T {
        self.board.write_at(now, f).expect("operation succeeds")
    }

    fn ok<T>(&mut self, f: impl FnOnce(&Txn<'_>) -> Result<T>) -> T {
        self.at(NOW, f)
    }

    /// Runs one write that must be refused, and checks that it left every table as it was.
    fn refuse<T: Debug>(&mut self, f: impl FnOnce(&Txn<'_>) -> Result<T>) -> BoardError {
        let before = self.dump();
        let err = self
            .board
            .write_at(NOW, f)
            .expect_err("operation is refused");
        assert_eq!(self.dump(), before, "a refused operation wrote something");
        err
    }

    /// Every row of every board table.
    fn dump(&self) -> Vec<Vec<Vec<Value>>> {
        TABLES
            .iter()
            .map(|table| {
                let mut stmt = self
                    .raw
                    .prepare(&format!("SELECT * FROM {table} ORDER BY rowid"))
                    .expect("prepare dump");
                let width = stmt.column_count();
                stmt.query_map([], |row| {
                    (0..width)
                        .map(|i| row.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                })
                .expect("dump")
                .collect::<rusqlite::Result<Vec<_>>>()
                .expect("dump rows")
            })
            .collect()
    }

    fn add(&mut self, title: &str, parents: &[&str]) -> String {
        self.ok(|t| t.create(&new_task(title, parents)))
    }

    fn task(&self, id: &str) -> Task {
        self.board.read(|r| r.task(id)).expect("task")
    }

    fn status(&self, id: &str) -> Status {
        self.task(id).status
    }

    fn events(&self, id: &str) -> Vec<Event> {
        self.board
            .read(|r| r.events_after(0, usize::MAX, Some(id)))
            .expect("events")
    }

    fn kinds(&self, id: &str) -> Vec<EventKind> {
        self.events(id).into_iter().map(|e| e.kind).collect()
    }

    fn last_event(&self, id: &str) -> Event {
        self.events(id).pop().expect("an event")
    }

    fn runs(&self, id: &str) -> Vec<Run> {
        self.board.read(|r| r.detail(id)).expect("detail").runs
    }

    fn links(&self) -> Vec<(String, String)> {
        self.board.read(|r| r.links()).expect("links")
    }

    /// Claims `id` for `who` at `now`; the gate must grant it.
    fn claim_at(&mut self, now: i64, id: &str, who: &str) -> Claim {
        match self.at(now, |t| t.claim(id, &claimer(who))) {
            ClaimOutcome::Claimed(claim) => claim,
            rejected => panic!("claim of {id} was rejected: {rejected:?}"),
        }
    }

    fn claim(&mut self, id: &str, who: &str) -> Claim {
        self.claim_at(NOW, id, who)
    }

    /// Claims and completes `id`, as a worker would.
    fn finish(&mut self, id: &str) -> Completion {
        self.claim(id, "finisher");
        self.ok(|t| t.complete(id, Some("finisher"), Some("ok")))
    }

    /// What a writer without the gate does: marks a task ready whatever its parents.
    fn raw_status(&self, id: &str, status: &str) {
        let n = self
            .raw
            .execute(
                "UPDATE tasks SET status = ?2 WHERE id = ?1",
                rusqlite::params![id, status],
            )
            .expect("raw update");
        assert_eq!(n, 1);
    }

    fn raw_link(&self, parent: &str, child: &str) {
        self.raw
            .execute(
                "INSERT INTO task_links (parent_id, child_id) VALUES (?1, ?2)",
                rusqlite::params![parent, child],
            )
            .expect("raw link");
    }

    fn run_claim_expires(&self, run: i64) -> Option<i64> {
        self.raw
            .query_row(
                "SELECT claim_expires FROM task_runs WHERE id = ?1",
                [run],
                |r| r.get(0),
            )
            .expect("run row")
    }
}

fn new_task(title: &str, parents: &[&str]) -> NewTask {
    NewTask {
        title: title.into(),
        parents: parents.iter().map(|p| p.to_string()).collect(),
        ..NewTask::default()
    }
}

fn claimer(lock: &str) -> Claimer {
    Claimer {
        lock: lock.into(),
        ttl: SWEEP_TTL,
    }
}

fn node(key: &str, parents: &[&str]) -> GraphNode {
    GraphNode {
        key: key.into(),
        task: new_task(key, parents),
    }
}

use gateboard::core::task_ids::is_task_id;

/// The number an id of the Hermes shape spells.
fn id_number(id: &str) -> u32 {
    assert!(is_task_id(id), "{id} is not t_ and 8 lowercase hex");
    u32::from_str_radix(&id[2..], 16).expect("hex")
}

/// A task another program wrote, with an id of its choosing.
fn raw_task(fx: &Fixture, id: &str) {
    fx.raw
        .execute(
            "INSERT INTO tasks (id, title, status, created_at) VALUES (?1, 'foreign', 'todo', 1)",
            [id],
        )
        .expect("raw task");
}

// ---- task ids ----

#[test]
fn tasks_made_one_after_another_take_consecutive_ids() {
    let mut fx = Fixture::new();
    let ids: Vec<u32> = (0..4)
        .map(|i| id_number(&fx.add(&format!("task {i}"), &[])))
        .collect();
    assert!(
        ids[0] >= 0x1000_0000,
        "the first id looks like an id: {:x}",
        ids[0]
    );
    for pair in ids.windows(2) {
        assert_eq!(pair[1], pair[0] + 1, "{ids:x?}");
    }
}

#[test]
fn ids_continue_after_the_highest_another_program_used() {
    let mut fx = Fixture::new();
    fx.add("first", &[]);
    raw_task(&fx, "t_9abc0000");
    assert_eq!(fx.add("next", &[]), "t_9abc0001");
}

#[test]
fn ids_of_another_shape_are_passed_over() {
    let mut fx = Fixture::new();
    let first = id_number(&fx.add("first", &[]));
    // Sorts above every id of the Hermes shape below t_ffffffe0, but is not of that shape.
    raw_task(&fx, "t_ffffffeX");
    assert_eq!(id_number(&fx.add("next", &[])), first + 1);
}

#[test]
fn a_deleted_tasks_id_is_not_handed_out_again_while_its_events_remain() {
    let mut fx = Fixture::new();
    let gone = fx.add("deleted by another program", &[]);
    fx.raw
        .execute("DELETE FROM tasks WHERE id = ?1", [&gone])
        .expect("raw delete");
    assert_eq!(id_number(&fx.add("next", &[])), id_number(&gone) + 1);
}

#[test]
fn an_id_any_row_still_names_is_not_handed_out() {
    // What another program left of a task it deleted: a link, a comment, a run or a command.
    let foreign = "t_9abc0000";
    for row in [
        format!("INSERT INTO task_links VALUES ('t_00000001', '{foreign}')"),
        format!("INSERT INTO task_links VALUES ('{foreign}', 't_00000001')"),
        format!(
            "INSERT INTO task_comments (task_id, author, body, created_at) VALUES ('{foreign}', 'a', 'b', 1)"
        ),
        format!(
            "INSERT INTO task_runs (task_id, status, started_at) VALUES ('{foreign}', 'done', 1)"
        ),
        format!(
            "INSERT INTO gateboard_commands (task_id, command) VALUES ('{foreign}', 'echo hi')"
        ),
    ] {
        let mut fx = Fixture::new();
        fx.add("first", &[]);
        fx.raw.execute_batch(&row).expect("what is left of it");
        assert_eq!(fx.add("next", &[]), "t_9abc0001", "after {row}");
    }
}

#[test]
fn an_id_is_not_handed_out_again_when_nothing_names_it_any_more() {
    let mut fx = Fixture::new();
    let gone = fx.add("deleted with every trace", &[]);
    fx.raw
        .execute_batch(&format!(
            "DELETE FROM tasks WHERE id = '{gone}'; DELETE FROM task_events WHERE task_id = '{gone}';"
        ))
        .expect("raw delete");
    assert_eq!(id_number(&fx.add("next", &[])), id_number(&gone) + 1);
}

#[test]
fn past_the_last_id_new_ones_are_random_and_unused() {
    let mut fx = Fixture::new();
    raw_task(&fx, "t_ffffffff");
    let ids: Vec<String> = (0..3).map(|i| fx.add(&format!("task {i}"), &[])).collect();
    for id in &ids {
        id_number(id);
        assert_ne!(id, "t_ffffffff");
    }
}

// ---- create ----

#[test]
fn create_without_parents_starts_ready_and_records_created() {
    let mut fx = Fixture::new();
    let id = fx.add("fetch data", &[]);
    assert!(is_task_id(&id), "{id} is not t_ and 8 lowercase hex");
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Ready);
    assert_eq!(task.title, "fetch data");
    assert_eq!(task.created_at, NOW);
    assert_eq!(task.claim_lock, None);
    assert_eq!(task.current_run_id, None);
    let events = fx.events(&id);
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].kind, EventKind::Created);
    assert_eq!(events[0].run_id, None);
    assert_eq!(events[0].created_at, NOW);
    assert_eq!(
        events[0].payload,
        Some(json!({"status": "ready", "parents": [], "assignee": null}))
    );
}

#[test]
fn create_keeps_body_assignee_priority_and_creator() {
    let mut fx = Fixture::new();
    let id = fx.ok(|t| {
        t.create(&NewTask {
            title: "  train  ".into(),
            body: Some("on the big set".into()),
            assignee: Some("gpu-box".into()),
            priority: 7,
            created_by: Some("ana".into()),
            parents: Vec::new(),
            ..NewTask::default()
        })
    });
    let task = fx.task(&id);
    assert_eq!(task.title, "train");
    assert_eq!(task.body.as_deref(), Some("on the big set"));
    assert_eq!(task.assignee.as_deref(), Some("gpu-box"));
    assert_eq!(task.priority, Some(7));
    assert_eq!(task.created_by.as_deref(), Some("ana"));
}

#[test]
fn create_under_an_unfinished_parent_starts_todo_linked_to_it() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(fx.links(), vec![(parent.clone(), child.clone())]);
    assert_eq!(
        fx.last_event(&child).payload,
        Some(json!({"status": "todo", "parents": [parent], "assignee": null}))
    );
}

#[test]
fn create_under_done_and_archived_parents_starts_ready() {
    let mut fx = Fixture::new();
    let done = fx.add("done parent", &[]);
    fx.finish(&done);
    let archived = fx.add("archived parent", &[]);
    fx.ok(|t| t.archive(&archived));
    let child = fx.add("child", &[&done, &archived]);
    assert_eq!(fx.status(&child), Status::Ready);
    assert_eq!(fx.board.read(|r| r.parents(&child)).unwrap().len(), 2);
}

#[test]
fn create_under_one_unfinished_parent_among_finished_ones_starts_todo() {
    let mut fx = Fixture::new();
    let done = fx.add("done parent", &[]);
    fx.finish(&done);
    let open = fx.add("open parent", &[]);
    let child = fx.add("child", &[&done, &open]);
    assert_eq!(fx.status(&child), Status::Todo);
}

#[test]
fn create_with_a_parent_named_twice_links_it_once() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent, &parent]);
    assert_eq!(fx.links(), vec![(parent, child)]);
}

#[test]
fn create_refuses_an_unknown_parent_and_writes_nothing() {
    let mut fx = Fixture::new();
    let err = fx.refuse(|t| t.create(&new_task("orphan", &["t_00000000"])));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_00000000"),
        "{err:?}"
    );
}

#[test]
fn create_refuses_a_blank_title_and_writes_nothing() {
    let mut fx = Fixture::new();
    let err = fx.refuse(|t| t.create(&new_task("   ", &[])));
    assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
}

// ---- create_graph ----

#[test]
fn create_graph_creates_every_task_and_edge_gated_by_its_parents() {
    let mut fx = Fixture::new();
    let done = fx.add("existing, done", &[]);
    fx.finish(&done);
    let nodes = [
        node("fetch", &[]),
        node("clean", &["fetch"]),
        node("features", &["fetch", &done]),
        node("train", &["clean", "features"]),
        node("report", &[&done]),
    ];
    let ids = fx.ok(|t| t.create_graph(&nodes));
    assert_eq!(ids.len(), 5);
    assert!(ids.iter().all(|id| is_task_id(id)));
    let [fetch, clean, features, train, report] = [0, 1, 2, 3, 4].map(|i| ids[i].clone());
    for (id, title) in ids
        .iter()
        .zip(["fetch", "clean", "features", "train", "report"])
    {
        assert_eq!(fx.task(id).title, title);
        assert_eq!(fx.kinds(id), vec![EventKind::Created]);
    }
    assert_eq!(fx.status(&fetch), Status::Ready);
    assert_eq!(fx.status(&clean), Status::Todo);
    assert_eq!(fx.status(&features), Status::Todo);
    assert_eq!(fx.status(&train), Status::Todo);
    assert_eq!(fx.status(&report), Status::Ready);
    let mut expected = vec![
        (fetch.clone(), clean.clone()),
        (fetch.clone(), features.clone()),
        (done.clone(), features.clone()),
        (clean.clone(), train.clone()),
        (features.clone(), train.clone()),
        (done.clone(), report.clone()),
    ];
    expected.sort();
    assert_eq!(fx.links(), expected);
}

#[test]
fn create_graph_with_an_unknown_parent_leaves_nothing() {
    let mut fx = Fixture::new();
    fx.add("bystander", &[]);
    // "a" and "b" are created before "c" fails: the whole graph must still vanish.
    let nodes = [
        node("a", &[]),
        node("b", &["a"]),
        node("c", &["b", "t_0badf00d"]),
    ];
    let err = fx.refuse(|t| t.create_graph(&nodes));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0badf00d"),
        "{err:?}"
    );
}

#[test]
fn create_graph_with_a_blank_title_leaves_nothing() {
    let mut fx = Fixture::new();
    let mut blank = node("b", &["a"]);
    blank.task.title = " ".into();
    let nodes = [node("a", &[]), blank];
    let err = fx.refuse(|t| t.create_graph(&nodes));
    assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
}

#[test]
fn create_graph_refuses_a_cycle_and_leaves_nothing() {
    let mut fx = Fixture::new();
    let nodes = [
        node("root", &[]),
        node("a", &["root", "b"]),
        node("b", &["a"]),
    ];
    let err = fx.refuse(|t| t.create_graph(&nodes));
    assert!(
        matches!(&err, BoardError::Invalid(msg) if msg.contains("cycle")),
        "{err:?}"
    );
}

#[test]
fn create_graph_refuses_a_key_named_twice_and_leaves_nothing() {
    let mut fx = Fixture::new();
    let nodes = [node("a", &[]), node("a", &[])];
    let err = fx.refuse(|t| t.create_graph(&nodes));
    assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
}

// ---- link ----

#[test]
fn link_refuses_a_self_link() {
    let mut fx = Fixture::new();
    let a = fx.add("a", &[]);
    let err = fx.refuse(|t| t.link(&a, &a));
    assert!(
        matches!(&err, BoardError::SelfLink(id) if *id == a),
        "{err:?}"
    );
}

#[test]
fn link_refuses_an_unknown_parent() {
    let mut fx = Fixture::new();
    let child = fx.add("child", &[]);
    let err = fx.refuse(|t| t.link("t_0000beef", &child));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

#[test]
fn link_refuses_an_unknown_child() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let err = fx.refuse(|t| t.link(&parent, "t_0000beef"));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

#[test]
fn link_refuses_a_direct_cycle() {
    let mut fx = Fixture::new();
    let a = fx.add("a", &[]);
    let b = fx.add("b", &[&a]);
    let err = fx.refuse(|t| t.link(&b, &a));
    assert!(
        matches!(&err, BoardError::Cycle { parent, child } if *parent == b && *child == a),
        "{err:?}"
    );
}

#[test]
fn link_refuses_a_cycle_through_several_tasks() {
    let mut fx = Fixture::new();
    let a = fx.add("a", &[]);
    let b = fx.add("b", &[&a]);
    let c = fx.add("c", &[&b]);
    let err = fx.refuse(|t| t.link(&c, &a));
    assert!(
        matches!(&err, BoardError::Cycle { parent, child } if *parent == c && *child == a),
        "{err:?}"
    );
}

#[test]
fn link_refuses_a_running_child() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[]);
    fx.claim(&child, "w1");
    let err = fx.refuse(|t| t.link(&parent, &child));
    assert!(
        matches!(&err, BoardError::ChildStarted { child: c, status: Status::Running } if *c == child),
        "{err:?}"
    );
}

#[test]
fn link_refuses_a_done_child() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[]);
    fx.finish(&child);
    let err = fx.refuse(|t| t.link(&parent, &child));
    assert!(
        matches!(&err, BoardError::ChildStarted { child: c, status: Status::Done } if *c == child),
        "{err:?}"
    );
}

#[test]
fn link_refuses_an_archived_child() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[]);
    fx.ok(|t| t.archive(&child));
    let err = fx.refuse(|t| t.link(&parent, &child));
    assert!(
        matches!(&err, BoardError::ChildStarted { child: c, status: Status::Archived } if *c == child),
        "{err:?}"
    );
}

#[test]
fn link_demotes_a_ready_child_of_an_unfinished_parent() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[]);
    assert_eq!(fx.status(&child), Status::Ready);
    assert!(fx.ok(|t| t.link(&parent, &child)));
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(fx.links(), vec![(parent.clone(), child.clone())]);
    let linked = fx.last_event(&child);
    assert_eq!(linked.kind, EventKind::Linked);
    assert_eq!(
        linked.payload,
        Some(json!({"parent": parent, "child": child, "demoted": true}))
    );
}

#[test]
fn link_to_a_finished_parent_leaves_the_child_ready() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    fx.finish(&parent);
    let child = fx.add("child", &[]);
    assert!(fx.ok(|t| t.link(&parent, &child)));
    assert_eq!(fx.status(&child), Status::Ready);
    assert_eq!(
        fx.last_event(&child).payload,
        Some(json!({"parent": parent, "child": child, "demoted": false}))
    );
}

#[test]
fn link_that_already_exists_returns_false_and_writes_nothing() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    let before = fx.dump();
    assert!(!fx.ok(|t| t.link(&parent, &child)));
    assert_eq!(fx.dump(), before);
}

// ---- unlink ----

#[test]
fn unlink_promotes_a_child_whose_last_unfinished_parent_it_removes() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.ok(|t| t.unlink(&parent, &child));
    assert_eq!(fx.status(&child), Status::Ready);
    assert!(fx.links().is_empty());
    let events = fx.events(&child);
    let tail: Vec<_> = events[events.len() - 2..]
        .iter()
        .map(|e| (e.kind.clone(), e.payload.clone()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                EventKind::Unlinked,
                Some(json!({"parent": parent, "child": child}))
            ),
            (EventKind::Promoted, None),
        ]
    );
}

#[test]
fn unlink_leaves_a_child_todo_while_another_parent_is_unfinished() {
    let mut fx = Fixture::new();
    let first = fx.add("first", &[]);
    let second = fx.add("second", &[]);
    let child = fx.add("child", &[&first, &second]);
    fx.ok(|t| t.unlink(&first, &child));
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(
        fx.kinds(&child),
        vec![EventKind::Created, EventKind::Unlinked]
    );
}

#[test]
fn unlink_refuses_a_link_that_does_not_exist() {
    let mut fx = Fixture::new();
    let a = fx.add("a", &[]);
    let b = fx.add("b", &[]);
    let err = fx.refuse(|t| t.unlink(&a, &b));
    assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
}

#[test]
fn unlink_removes_a_link_whose_parent_row_is_gone_and_promotes_the_child() {
    let mut fx = Fixture::new();
    let kept = fx.add("kept", &[]);
    let child = fx.add("child", &[&kept]);
    fx.raw_link("t_0000dead", &child);
    fx.ok(|t| t.complete(&kept, None, None));
    assert_eq!(
        fx.status(&child),
        Status::Todo,
        "the missing parent holds it back"
    );
    fx.ok(|t| t.unlink("t_0000dead", &child));
    assert_eq!(fx.links(), vec![(kept.clone(), child.clone())]);
    assert_eq!(fx.status(&child), Status::Ready);
    let events = fx.events(&child);
    let tail: Vec<_> = events[events.len() - 2..]
        .iter()
        .map(|e| (e.kind.clone(), e.payload.clone()))
        .collect();
    assert_eq!(
        tail,
        vec![
            (
                EventKind::Unlinked,
                Some(json!({"parent": "t_0000dead", "child": child, "parent_missing": true}))
            ),
            (EventKind::Promoted, None),
        ]
    );
}

#[test]
fn unlink_of_a_dangling_link_leaves_a_child_another_parent_holds_in_todo() {
    let mut fx = Fixture::new();
    let waiting_on = fx.add("unfinished", &[]);
    let child = fx.add("child", &[&waiting_on]);
    fx.raw_link("t_0000dead", &child);
    fx.ok(|t| t.unlink("t_0000dead", &child));
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(fx.links(), vec![(waiting_on, child)]);
}

#[test]
fn unlink_of_a_link_between_two_missing_tasks_names_the_missing_child() {
    let mut fx = Fixture::new();
    fx.add("bystander", &[]);
    fx.raw_link("t_0000dead", "t_0000beef");
    let err = fx.refuse(|t| t.unlink("t_0000dead", "t_0000beef"));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

#[test]
fn unlink_refuses_an_unknown_task() {
    let mut fx = Fixture::new();
    let a = fx.add("a", &[]);
    let err = fx.refuse(|t| t.unlink("t_0000beef", &a));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

// ---- claim ----

#[test]
fn claim_runs_a_ready_task_under_a_claim_lock_with_an_open_run() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let claim = fx.claim(&id, "w1");
    assert_eq!(claim.task_id, id);
    assert_eq!(claim.expires, NOW + TTL);
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Running);
    assert_eq!(task.claim_lock.as_deref(), Some("w1"));
    assert_eq!(task.claim_expires, Some(NOW + TTL));
    assert_eq!(task.started_at, Some(NOW));
    assert_eq!(task.current_run_id, Some(claim.run_id));
    let runs = fx.runs(&id);
    assert_eq!(runs.len(), 1);
    let run = &runs[0];
    assert_eq!(run.id, claim.run_id);
    assert_eq!(run.task_id, id);
    assert_eq!(run.status, "running");
    assert_eq!(run.claim_lock.as_deref(), Some("w1"));
    assert_eq!(run.started_at, NOW);
    assert_eq!(run.ended_at, None);
    assert_eq!(run.outcome, None);
    assert_eq!(fx.run_claim_expires(claim.run_id), Some(NOW + TTL));
    let claimed = fx.last_event(&id);
    assert_eq!(claimed.kind, EventKind::Claimed);
    assert_eq!(claimed.run_id, Some(claim.run_id));
    assert_eq!(
        claimed.payload,
        Some(json!({"lock": "w1", "expires": NOW + TTL, "run_id": claim.run_id}))
    );
}

#[test]
fn claim_refuses_ready_child_of_unfinished_parent() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.raw_status(&child, "ready");
    let outcome = fx.ok(|t| t.claim(&child, &claimer("w1")));
    assert_eq!(
        outcome,
        ClaimOutcome::Rejected {
            unfinished: vec![(parent.clone(), Status::Ready)]
        }
    );
    let task = fx.task(&child);
    assert_eq!(task.status, Status::Todo);
    assert_eq!(task.claim_lock, None);
    assert_eq!(task.current_run_id, None);
    assert_eq!(task.started_at, None);
    assert!(fx.runs(&child).is_empty());
    let rejected = fx.last_event(&child);
    assert_eq!(rejected.kind, EventKind::ClaimRejected);
    assert_eq!(rejected.run_id, None);
    assert_eq!(
        rejected.payload,
        Some(json!({"reason": "parents_not_done"}))
    );
}

#[test]
fn claim_refuses_a_ready_task_whose_parent_is_missing() {
    let mut fx = Fixture::new();
    let child = fx.add("child", &[]);
    fx.raw_link("t_0000dead", &child);
    let outcome = fx.ok(|t| t.claim(&child, &claimer("w1")));
    assert!(
        matches!(&outcome, ClaimOutcome::Rejected { unfinished } if unfinished.len() == 1 && unfinished[0].0 == "t_0000dead"),
        "{outcome:?}"
    );
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(fx.last_event(&child).kind, EventKind::ClaimRejected);
}

#[test]
fn claim_refuses_a_todo_task_and_writes_nothing() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    let err = fx.refuse(|t| t.claim(&child, &claimer("w1")));
    assert!(
        matches!(&err, BoardError::WrongStatus { id, status: Status::Todo, operation: "claim", .. } if *id == child),
        "{err:?}"
    );
}

#[test]
fn claim_refuses_a_running_task_and_writes_nothing() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    let err = fx.refuse(|t| t.claim(&id, &claimer("w2")));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Running,
                operation: "claim",
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(fx.task(&id).claim_lock.as_deref(), Some("w1"));
}

#[test]
fn claim_refuses_a_ready_task_that_still_carries_a_claim_lock() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.raw
        .execute("UPDATE tasks SET claim_lock = 'ghost' WHERE id = ?1", [&id])
        .unwrap();
    let err = fx.refuse(|t| t.claim(&id, &claimer("w1")));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Ready,
                operation: "claim",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn claim_refuses_an_unknown_task() {
    let mut fx = Fixture::new();
    let err = fx.refuse(|t| t.claim("t_0000beef", &claimer("w1")));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

// ---- claim_next ----

#[test]
fn claim_next_picks_the_highest_priority_first() {
    let mut fx = Fixture::new();
    let low = fx.ok(|t| {
        t.create(&NewTask {
            priority: 1,
            ..new_task("low, older", &[])
        })
    });
    let high = fx.at(NOW + 5, |t| {
        t.create(&NewTask {
            priority: 5,
            ..new_task("high, newer", &[])
        })
    });
    let next = fx.ok(|t| t.claim_next(&claimer("w1")));
    assert_eq!(next.claim.expect("a claim").task_id, high);
    assert!(next.rejected.is_empty());
    assert_eq!(fx.status(&high), Status::Running);
    assert_eq!(fx.status(&low), Status::Ready);
}

#[test]
fn claim_next_picks_the_oldest_among_equal_priorities() {
    let mut fx = Fixture::new();
    // Made first but dated later: age is created_at, not insertion order.
    let newer = fx.at(NOW + 10, |t| t.create(&new_task("newer", &[])));
    let older = fx.at(NOW, |t| t.create(&new_task("older", &[])));
    let next = fx.at(NOW + 20, |t| t.claim_next(&claimer("w1")));
    assert_eq!(next.claim.expect("a claim").task_id, older);
    assert_eq!(fx.status(&newer), Status::Ready);
}

#[test]
fn claim_next_claims_the_task_it_picks_under_a_run() {
    let mut fx = Fixture::new();
    let id = fx.add("only", &[]);
    let claim = fx
        .ok(|t| t.claim_next(&claimer("w1")))
        .claim
        .expect("a claim");
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Running);
    assert_eq!(task.claim_lock.as_deref(), Some("w1"));
    assert_eq!(task.current_run_id, Some(claim.run_id));
    assert_eq!(fx.runs(&id).len(), 1);
    assert_eq!(fx.last_event(&id).kind, EventKind::Claimed);
}

#[test]
fn claim_next_with_nothing_ready_claims_nothing_and_writes_nothing() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    fx.add("child", &[&parent]);
    fx.claim(&parent, "w1");
    let before = fx.dump();
    let next = fx.ok(|t| t.claim_next(&claimer("w2")));
    assert_eq!(next, ClaimNext::default());
    assert_eq!(fx.dump(), before);
}

#[test]
fn claim_next_demotes_gated_ready_tasks_and_claims_the_next_claimable() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let gated = fx.ok(|t| {
        t.create(&NewTask {
            priority: 9,
            ..new_task("gated", &[&parent])
        })
    });
    fx.raw_status(&gated, "ready");
    let next = fx.ok(|t| t.claim_next(&claimer("w1")));
    assert_eq!(next.rejected, vec![gated.clone()]);
    assert_eq!(next.claim.expect("a claim").task_id, parent);
    assert_eq!(fx.status(&gated), Status::Todo);
    let rejected = fx.last_event(&gated);
    assert_eq!(rejected.kind, EventKind::ClaimRejected);
    assert_eq!(
        rejected.payload,
        Some(json!({"reason": "parents_not_done"}))
    );
}

#[test]
fn claim_next_on_only_gated_ready_tasks_rejects_them_and_claims_nothing() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.claim(&parent, "holder");
    fx.raw_status(&child, "ready");
    let next = fx.ok(|t| t.claim_next(&claimer("w1")));
    assert_eq!(next.claim, None);
    assert_eq!(next.rejected, vec![child.clone()]);
    assert_eq!(fx.status(&child), Status::Todo);
    assert!(fx.runs(&child).is_empty());
}

#[test]
fn claim_up_to_claims_in_claim_order_and_gates_each_candidate() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let gated = fx.ok(|t| {
        t.create(&NewTask {
            priority: 9,
            ..new_task("gated", &[&parent])
        })
    });
    fx.raw_status(&gated, "ready");
    let high = fx.ok(|t| {
        t.create(&NewTask {
            priority: 5,
            ..new_task("high", &[])
        })
    });
    let last = fx.at(NOW + 5, |t| t.create(&new_task("newest", &[])));
    let batch = fx.ok(|t| t.claim_up_to(&claimer("w1"), &ClaimScope::default(), 2));
    let claimed: Vec<&str> = batch.claims.iter().map(|c| c.task_id.as_str()).collect();
    assert_eq!(claimed, vec![high.as_str(), parent.as_str()]);
    assert_eq!(batch.rejected, vec![gated.clone()]);
    assert_eq!(fx.status(&gated), Status::Todo);
    assert_eq!(fx.status(&last), Status::Ready, "only as many as asked for");
    for claim in &batch.claims {
        let task = fx.task(&claim.task_id);
        assert_eq!(task.status, Status::Running);
        assert_eq!(task.current_run_id, Some(claim.run_id));
        assert_eq!(fx.last_event(&claim.task_id).kind, EventKind::Claimed);
    }
}

// ---- a pool's batch: children freed and claimed in one transaction ----

/// Logs every status change of a task into `transitions`, as a foreign program's trigger
/// would: the only way to see from outside what a transaction wrote on its way.
fn log_transitions(fx: &Fixture) {
    fx.raw
        .execute_batch(
            "CREATE TABLE transitions (task TEXT, old TEXT, new TEXT);
             CREATE TRIGGER log_transitions AFTER UPDATE OF status ON tasks
             WHEN OLD.status IS NOT NEW.status
             BEGIN INSERT INTO transitions VALUES (NEW.id, OLD.status, NEW.status); END;",
        )
        .expect("transition log");
}

fn transitions(fx: &Fixture, id: &str) -> Vec<(String, String)> {
    let mut stmt = fx
        .raw
        .prepare("SELECT old, new FROM transitions WHERE task = ?1 ORDER BY rowid")
        .expect("prepare");
    stmt.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("transitions")
        .collect::<rusqlite::Result<_>>()
        .expect("rows")
}

/// Completes `parent` (claimed by "w1") and claims up to `want` in `scope`, in one
/// transaction with promotions deferred, as a pool's writer does.
fn complete_and_claim(
    fx: &mut Fixture,
    parent: &str,
    scope: &ClaimScope,
    want: usize,
) -> Vec<String> {
    let batch = fx.ok(|t| {
        t.defer_promotions();
        t.complete(parent, Some("w1"), Some("ok"))?;
        t.claim_up_to(&claimer("w2"), scope, want)
    });
    batch.claims.into_iter().map(|c| c.task_id).collect()
}

#[test]
fn a_child_freed_and_claimed_in_one_batch_goes_from_todo_to_running() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.claim(&parent, "w1");
    log_transitions(&fx);
    let claimed = complete_and_claim(&mut fx, &parent, &ClaimScope::default(), 5);
    assert_eq!(claimed, vec![child.clone()]);
    assert_eq!(
        transitions(&fx, &child),
        vec![("todo".to_owned(), "running".to_owned())],
        "no ready row written only to be claimed in the same transaction"
    );
    let task = fx.task(&child);
    assert_eq!(task.status, Status::Running);
    assert_eq!(task.claim_lock.as_deref(), Some("w2"));
    assert_eq!(
        fx.kinds(&child),
        vec![EventKind::Created, EventKind::Promoted, EventKind::Claimed]
    );
    let completed = fx.last_event(&parent);
    assert_eq!(completed.kind, EventKind::Completed);
    assert!(
        fx.events(&child)[1].id > completed.id,
        "promoted after its parent's completion"
    );
    assert!(audit_is_clean(&fx));
}

fn audit_is_clean(fx: &Fixture) -> bool {
    fx.board.read(audit).expect("audit").is_empty()
}

#[test]
fn a_freed_child_no_claim_takes_is_ready_when_the_batch_commits() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.claim(&parent, "w1");
    let claimed = complete_and_claim(&mut fx, &parent, &ClaimScope::default(), 0);
    assert!(claimed.is_empty());
    assert_eq!(fx.status(&child), Status::Ready);
    assert_eq!(
        fx.kinds(&child),
        vec![EventKind::Created, EventKind::Promoted]
    );
}

#[test]
fn a_held_child_takes_its_place_in_claim_order_among_ready_tasks() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let old = fx.add("old, priority 0", &[]);
    let child = fx.ok(|t| {
        t.create(&NewTask {
            priority: 3,
            ..new_task("child, priority 3", &[&parent])
        })
    });
    let high = fx.ok(|t| {
        t.create(&NewTask {
            priority: 5,
            ..new_task("priority 5", &[])
        })
    });
    fx.claim(&parent, "w1");
    let claimed = complete_and_claim(&mut fx, &parent, &ClaimScope::default(), 2);
    assert_eq!(claimed, vec![high, child]);
    assert_eq!(fx.status(&old), Status::Ready, "only as many as asked for");
}

#[test]
fn a_held_child_without_a_command_is_left_ready_for_a_pool_that_runs_commands() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let card = fx.add("a card, no command", &[&parent]);
    fx.claim(&parent, "w1");
    let scope = ClaimScope {
        commands_only: true,
        ..ClaimScope::default()
    };
    assert!(complete_and_claim(&mut fx, &parent, &scope, 5).is_empty());
    assert_eq!(fx.status(&card), Status::Ready);
}

#[test]
fn a_held_child_in_another_graph_is_not_claimed_by_this_graphs_pool() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let mine = fx.ok(|t| {
        t.create(&NewTask {
            key: Some("this-graph/step".into()),
            ..new_task("this graph's", &[&parent])
        })
    });
    let theirs = fx.ok(|t| {
        t.create(&NewTask {
            key: Some("other-graph/step".into()),
            ..new_task("another graph's", &[&parent])
        })
    });
    fx.claim(&parent, "w1");
    let scope = ClaimScope {
        key_prefix: Some("this-graph/".into()),
        ..ClaimScope::default()
    };
    assert_eq!(complete_and_claim(&mut fx, &parent, &scope, 5), vec![mine]);
    assert_eq!(fx.status(&theirs), Status::Ready);
}

#[test]
fn a_rolled_back_operation_takes_the_children_it_freed_with_it() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.claim(&parent, "w1");
    let batch = fx.ok(|t| {
        t.defer_promotions();
        let refused = t.isolated(|t| {
            t.complete(&parent, Some("w1"), Some("ok"))?;
            Err::<(), _>(BoardError::Invalid("refused after the completion".into()))
        });
        assert!(refused.is_err());
        t.claim_up_to(&claimer("w2"), &ClaimScope::default(), 5)
    });
    assert!(batch.claims.is_empty(), "claimed {:?}", batch.claims);
    assert_eq!(fx.status(&parent), Status::Running);
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(fx.kinds(&child), vec![EventKind::Created]);
}

// ---- heartbeat ----

#[test]
fn heartbeat_by_the_holder_extends_the_claim() {
    let mut fx = Fixture::new();
    let id = fx.add("long job", &[]);
    let claim = fx.claim(&id, "w1");
    let expires = fx.at(NOW + 30, |t| t.heartbeat(&id, &claimer("w1")));
    assert_eq!(expires, NOW + 30 + TTL);
    assert_eq!(fx.task(&id).claim_expires, Some(NOW + 30 + TTL));
    assert_eq!(fx.run_claim_expires(claim.run_id), Some(NOW + 30 + TTL));
    let beat = fx.last_event(&id);
    assert_eq!(beat.kind, EventKind::Heartbeat);
    assert_eq!(beat.run_id, Some(claim.run_id));
    assert_eq!(beat.payload, Some(json!({"expires": NOW + 30 + TTL})));
}

#[test]
fn heartbeat_by_a_non_holder_is_refused_and_writes_nothing() {
    let mut fx = Fixture::new();
    let id = fx.add("long job", &[]);
    fx.claim(&id, "w1");
    let err = fx.refuse(|t| t.heartbeat(&id, &claimer("w2")));
    assert!(
        matches!(&err, BoardError::NotClaimHolder { id: i, holder, claimer } if *i == id && holder == "w1" && claimer == "w2"),
        "{err:?}"
    );
}

#[test]
fn heartbeat_of_a_task_that_is_not_running_is_refused() {
    let mut fx = Fixture::new();
    let id = fx.add("idle", &[]);
    let err = fx.refuse(|t| t.heartbeat(&id, &claimer("w1")));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Ready,
                operation: "heartbeat",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- complete ----

#[test]
fn complete_by_the_claim_holder_finishes_the_task_and_closes_its_run() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let claim = fx.claim(&id, "w1");
    let done = fx.at(NOW + 5, |t| {
        t.complete(&id, Some("w1"), Some("ok\nsecond line"))
    });
    assert_eq!(
        done,
        Completion {
            run_id: Some(claim.run_id),
            promoted: Vec::new()
        }
    );
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Done);
    assert_eq!(task.result.as_deref(), Some("ok\nsecond line"));
    assert_eq!(task.completed_at, Some(NOW + 5));
    assert_eq!(task.claim_lock, None);
    assert_eq!(task.claim_expires, None);
    assert_eq!(task.current_run_id, None);
    let runs = fx.runs(&id);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "done");
    assert_eq!(runs[0].outcome.as_deref(), Some("completed"));
    assert_eq!(runs[0].ended_at, Some(NOW + 5));
    assert_eq!(runs[0].summary.as_deref(), Some("ok\nsecond line"));
    assert_eq!(fx.run_claim_expires(claim.run_id), None);
    let completed = fx.last_event(&id);
    assert_eq!(completed.kind, EventKind::Completed);
    assert_eq!(completed.run_id, Some(claim.run_id));
    assert_eq!(
        completed.payload,
        Some(json!({"result_len": 14, "summary": "ok"}))
    );
}

#[test]
fn complete_by_another_claimer_is_refused_and_writes_nothing() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    let err = fx.refuse(|t| t.complete(&id, Some("w2"), Some("stolen")));
    assert!(
        matches!(&err, BoardError::StillRunning { id: i, holder: Some(h), claimer: Some(c), operation: "complete" } if *i == id && h == "w1" && c == "w2"),
        "{err:?}"
    );
    assert_eq!(fx.status(&id), Status::Running);
}

#[test]
fn complete_of_a_running_task_without_a_claimer_is_refused() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    let err = fx.refuse(|t| t.complete(&id, None, None));
    assert!(
        matches!(&err, BoardError::StillRunning { holder: Some(h), claimer: None, .. } if h == "w1"),
        "{err:?}"
    );
}

#[test]
fn complete_refused_on_a_running_task_says_how_to_finish_it_instead() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "gateboard:11529:5947:w5");
    let anonymous = fx.refuse(|t| t.complete(&id, None, None)).to_string();
    assert_eq!(
        anonymous,
        format!(
            "{id} is running under gateboard:11529:5947:w5, and only the claim holder may complete it \
             (`gateboard --claimer gateboard:11529:5947:w5 complete {id}`); otherwise cancel it first \
             (`gateboard cancel {id}` stops its command and blocks the task), then complete it"
        )
    );
    let other = fx
        .refuse(|t| t.complete(&id, Some("cli:ana"), None))
        .to_string();
    assert!(
        other.starts_with(&format!(
            "{id} is running under gateboard:11529:5947:w5, not cli:ana, "
        )),
        "{other}"
    );
}

#[test]
fn the_way_out_a_refused_complete_names_works() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.claim(&parent, "w1");
    fx.refuse(|t| t.complete(&parent, None, None));
    fx.ok(|t| t.cancel(&parent, "cli:ana"));
    let done = fx.ok(|t| t.complete(&parent, None, Some("by hand")));
    assert_eq!(done.promoted, vec![child]);
    assert_eq!(fx.status(&parent), Status::Done);
}

#[test]
fn complete_of_a_running_task_nobody_holds_names_no_holder() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.raw
        .execute(
            "UPDATE tasks SET status = 'running', claim_lock = NULL WHERE id = ?1",
            [&id],
        )
        .expect("a running row without a claim");
    let err = fx.refuse(|t| t.complete(&id, Some("w1"), None));
    assert!(
        matches!(&err, BoardError::StillRunning { holder: None, .. }),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{id} is running with no claim holder; cancel it first \
             (`gateboard cancel {id}` stops its command and blocks the task), then complete it"
        )
    );
}

#[test]
fn complete_promotes_every_child_whose_parents_are_now_all_finished() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let other = fx.add("other parent", &[]);
    let only_child = fx.add("waits on parent", &[&parent]);
    let shared_child = fx.add("waits on both", &[&parent, &other]);
    fx.claim(&parent, "w1");
    let done = fx.ok(|t| t.complete(&parent, Some("w1"), None));
    assert_eq!(done.promoted, vec![only_child.clone()]);
    assert_eq!(fx.status(&only_child), Status::Ready);
    let promoted = fx.last_event(&only_child);
    assert_eq!(promoted.kind, EventKind::Promoted);
    assert_eq!(promoted.created_at, NOW);
    assert_eq!(fx.status(&shared_child), Status::Todo);
    assert!(!fx.kinds(&shared_child).contains(&EventKind::Promoted));
}

#[test]
fn complete_of_the_last_unfinished_parent_promotes_the_child() {
    let mut fx = Fixture::new();
    let first = fx.add("first", &[]);
    let second = fx.add("second", &[]);
    let child = fx.add("child", &[&first, &second]);
    fx.finish(&first);
    assert_eq!(fx.status(&child), Status::Todo);
    let done = fx.finish(&second);
    assert_eq!(done.promoted, vec![child.clone()]);
    assert_eq!(fx.status(&child), Status::Ready);
    assert_eq!(fx.last_event(&child).kind, EventKind::Promoted);
}

#[test]
fn complete_of_a_ready_task_needs_no_claim_and_opens_no_run() {
    let mut fx = Fixture::new();
    let id = fx.add("trivial", &[]);
    let done = fx.ok(|t| t.complete(&id, None, Some("done by hand")));
    assert_eq!(done.run_id, None);
    assert_eq!(fx.status(&id), Status::Done);
    assert!(fx.runs(&id).is_empty());
    assert_eq!(fx.last_event(&id).run_id, None);
}

#[test]
fn complete_of_a_ready_task_with_an_unfinished_parent_is_refused() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.raw_status(&child, "ready");
    let err = fx.refuse(|t| t.complete(&child, None, None));
    assert!(
        matches!(&err, BoardError::ParentsUnfinished { id, parents } if *id == child && *parents == vec![(parent.clone(), Status::Ready)]),
        "{err:?}"
    );
}

#[test]
fn complete_of_a_todo_task_is_refused() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    let err = fx.refuse(|t| t.complete(&child, None, None));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Todo,
                operation: "complete",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn complete_of_a_done_task_is_refused() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.finish(&id);
    let err = fx.refuse(|t| t.complete(&id, Some("finisher"), None));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Done,
                operation: "complete",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn complete_refuses_an_unknown_task() {
    let mut fx = Fixture::new();
    let err = fx.refuse(|t| t.complete("t_0000beef", Some("w1"), None));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

// ---- archive ----

#[test]
fn archive_puts_a_task_away_and_records_it() {
    let mut fx = Fixture::new();
    let id = fx.add("stale", &[]);
    let done = fx.at(NOW + 3, |t| t.archive(&id));
    assert_eq!(done, Completion::default());
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Archived);
    assert_eq!(task.completed_at, Some(NOW + 3));
    let archived = fx.last_event(&id);
    assert_eq!(archived.kind, EventKind::Archived);
    assert_eq!(archived.payload, None);
}

#[test]
fn archived_parents_count_as_finished_for_their_children() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    let done = fx.ok(|t| t.archive(&parent));
    assert_eq!(done.promoted, vec![child.clone()]);
    assert_eq!(fx.status(&child), Status::Ready);
    assert_eq!(fx.last_event(&child).kind, EventKind::Promoted);
    let claim = fx.claim(&child, "w1");
    assert_eq!(claim.task_id, child);
    assert_eq!(fx.status(&child), Status::Running);
}

#[test]
fn archive_refuses_a_running_task_and_says_to_cancel_it_first() {
    let mut fx = Fixture::new();
    let id = fx.add("busy", &[]);
    fx.claim(&id, "w1");
    let err = fx.refuse(|t| t.archive(&id));
    assert!(
        matches!(
            &err,
            BoardError::StillRunning {
                holder: Some(h),
                operation: "archive",
                ..
            } if h == "w1"
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "{id} is running under w1; cancel it first \
             (`gateboard cancel {id}` stops its command and blocks the task), then archive it"
        )
    );
    fx.ok(|t| t.cancel(&id, "cli:ana"));
    fx.ok(|t| t.archive(&id));
    assert_eq!(fx.status(&id), Status::Archived);
}

#[test]
fn archive_refuses_an_archived_task() {
    let mut fx = Fixture::new();
    let id = fx.add("stale", &[]);
    fx.ok(|t| t.archive(&id));
    let err = fx.refuse(|t| t.archive(&id));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Archived,
                operation: "archive",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- unarchive ----

/// The audit of the whole board, which must stay clean through an unarchive and a re-run.
fn assert_audit_clean(fx: &Fixture) {
    let found = fx.board.read(audit).expect("audit");
    assert!(found.is_empty(), "{found:?}");
}

#[test]
fn unarchive_returns_a_task_whose_parents_are_finished_to_ready_and_records_it() {
    let mut fx = Fixture::new();
    let id = fx.add("stale", &[]);
    fx.at(NOW + 3, |t| t.archive(&id));
    let back = fx.at(NOW + 5, |t| t.unarchive(&id));
    assert_eq!(
        back,
        Unarchived {
            status: Status::Ready,
            demoted: Vec::new()
        }
    );
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Ready);
    assert_eq!(task.completed_at, None, "it is unfinished again");
    let event = fx.last_event(&id);
    assert_eq!(event.kind, EventKind::Unarchived);
    assert_eq!(event.created_at, NOW + 5);
    assert_eq!(
        event.payload,
        Some(json!({"status": "ready", "demoted": []}))
    );
    assert_eq!(fx.claim(&id, "w1").task_id, id);
}

#[test]
fn unarchive_of_a_task_with_an_unfinished_parent_returns_it_to_todo() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let id = fx.add("child", &[&parent]);
    fx.ok(|t| t.archive(&id));
    assert_eq!(fx.ok(|t| t.unarchive(&id)).status, Status::Todo);
    assert_eq!(fx.status(&id), Status::Todo);
    assert_eq!(
        fx.last_event(&id).payload,
        Some(json!({"status": "todo", "demoted": []}))
    );
}

#[test]
fn unarchive_demotes_its_ready_children_to_todo_until_it_finishes_again() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let ready = fx.add("ready child", &[&parent]);
    let other = fx.add("other parent", &[]);
    let waiting = fx.add("child of both", &[&parent, &other]);
    fx.ok(|t| t.archive(&parent));
    assert_eq!(fx.status(&ready), Status::Ready);
    let back = fx.ok(|t| t.unarchive(&parent));
    assert_eq!(back.demoted, vec![ready.clone()]);
    assert_eq!(fx.status(&ready), Status::Todo);
    assert_eq!(fx.status(&waiting), Status::Todo);
    let demoted = fx.last_event(&ready);
    assert_eq!(demoted.kind, EventKind::Demoted);
    assert_eq!(
        demoted.payload,
        Some(json!({"parent": parent, "reason": "parent_unarchived"}))
    );
    assert_eq!(
        fx.last_event(&parent).payload,
        Some(json!({"status": "ready", "demoted": [ready]}))
    );
    assert_eq!(fx.kinds(&waiting).last(), Some(&EventKind::Created));
    assert_audit_clean(&fx);
    // The gate holds the child back until its parent finishes again, then promotes it.
    let next = fx.ok(|t| t.claim_next(&claimer("w1")));
    assert_eq!(next.claim.map(|c| c.task_id).as_ref(), Some(&parent));
    let done = fx.ok(|t| t.complete(&parent, Some("w1"), Some("again")));
    assert_eq!(done.promoted, vec![ready.clone()]);
    fx.claim(&ready, "w2");
    assert_audit_clean(&fx);
}

#[test]
fn unarchive_refuses_a_running_child_naming_it_and_writes_nothing() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.ok(|t| t.archive(&parent));
    fx.claim(&child, "w1");
    let err = fx.refuse(|t| t.unarchive(&parent));
    assert!(
        matches!(&err, BoardError::ChildrenStarted { id, children }
            if *id == parent && children == &[StartedChild { id: child.clone(), status: Status::Running, claimed: true }]),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        format!(
            "cannot unarchive {parent}: child {child} (running) started while it counted as \
             finished, and a started task cannot wait on an unfinished parent again; unlink first \
             (`gateboard unlink {parent} {child}`)"
        )
    );
    assert_eq!(fx.status(&parent), Status::Archived);
}

#[test]
fn unarchive_refuses_finished_children_listing_each() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let done = fx.add("done child", &[&parent]);
    let archived = fx.add("archived child", &[&parent]);
    let waiting = fx.add("waiting child", &[&parent]);
    fx.ok(|t| t.archive(&parent));
    fx.finish(&done);
    fx.ok(|t| t.archive(&archived));
    let err = fx.refuse(|t| t.unarchive(&parent));
    let BoardError::ChildrenStarted { children, .. } = &err else {
        panic!("{err:?}");
    };
    let mut expected = vec![
        StartedChild {
            id: done.clone(),
            status: Status::Done,
            claimed: true,
        },
        StartedChild {
            id: archived.clone(),
            status: Status::Archived,
            claimed: false,
        },
    ];
    expected.sort_by(|a, b| a.id.cmp(&b.id));
    assert_eq!(children, &expected);
    let message = err.to_string();
    assert!(message.contains(&format!("{done} (done)")), "{message}");
    assert!(
        message.contains(&format!("{archived} (archived)")),
        "{message}"
    );
    assert!(!message.contains(&waiting), "{message}");
}

#[test]
fn unarchive_refuses_a_child_that_was_claimed_meanwhile_even_if_it_is_ready_again() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.ok(|t| t.archive(&parent));
    fx.claim(&child, "w1");
    fx.ok(|t| t.release(&child, &claimer("w1")));
    assert_eq!(fx.status(&child), Status::Ready);
    // It ran while its parent counted as finished: an unfinished parent now would put that
    // claim before its parent's completion, which the audits report.
    let err = fx.refuse(|t| t.unarchive(&parent));
    assert!(
        matches!(&err, BoardError::ChildrenStarted { children, .. }
            if children == &[StartedChild { id: child.clone(), status: Status::Ready, claimed: true }]),
        "{err:?}"
    );
    assert!(
        err.to_string()
            .contains(&format!("{child} (ready, claimed before)")),
        "{err}"
    );
}

#[test]
fn unarchive_counts_no_claim_made_before_the_link_existed() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    fx.ok(|t| t.archive(&parent));
    let child = fx.add("child", &[]);
    fx.claim(&child, "w1");
    fx.ok(|t| t.release(&child, &claimer("w1")));
    assert!(fx.ok(|t| t.link(&parent, &child)));
    let back = fx.ok(|t| t.unarchive(&parent));
    assert_eq!(back.demoted, vec![child.clone()]);
    assert_eq!(fx.status(&child), Status::Todo);
    assert_audit_clean(&fx);
}

#[test]
fn unarchive_refuses_a_task_that_is_not_archived() {
    let mut fx = Fixture::new();
    let id = fx.add("live", &[]);
    let err = fx.refuse(|t| t.unarchive(&id));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Ready,
                operation: "unarchive",
                expected: "archived",
                ..
            }
        ),
        "{err:?}"
    );
    let err = fx.refuse(|t| t.unarchive("t_00000000"));
    assert!(matches!(err, BoardError::UnknownTask(_)), "{err:?}");
}

// ---- block / unblock ----

#[test]
fn block_takes_a_ready_task_out_of_the_queue_with_its_reason() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    fx.ok(|t| t.block(&id, "needs a GPU"));
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Blocked);
    assert_eq!(task.block_reason.as_deref(), Some("needs a GPU"));
    let blocked = fx.last_event(&id);
    assert_eq!(blocked.kind, EventKind::Blocked);
    assert_eq!(blocked.payload, Some(json!({"reason": "needs a GPU"})));
    assert_eq!(
        fx.ok(|t| t.claim_next(&claimer("w1"))),
        ClaimNext::default()
    );
}

#[test]
fn block_of_a_running_task_closes_its_run_and_drops_the_claim() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    let claim = fx.claim(&id, "w1");
    fx.at(NOW + 1, |t| t.block(&id, "out of memory"));
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Blocked);
    assert_eq!(task.claim_lock, None);
    assert_eq!(task.claim_expires, None);
    assert_eq!(task.current_run_id, None);
    let runs = fx.runs(&id);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "blocked");
    assert_eq!(runs[0].outcome.as_deref(), Some("blocked"));
    assert_eq!(runs[0].ended_at, Some(NOW + 1));
    assert_eq!(runs[0].summary.as_deref(), Some("out of memory"));
    assert_eq!(fx.last_event(&id).run_id, Some(claim.run_id));
}

#[test]
fn block_refuses_a_blank_reason() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    let err = fx.refuse(|t| t.block(&id, "  "));
    assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
}

#[test]
fn block_refuses_a_done_task() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    fx.finish(&id);
    let err = fx.refuse(|t| t.block(&id, "too late"));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Done,
                operation: "block",
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn unblock_returns_a_task_with_finished_parents_to_ready() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    fx.ok(|t| t.block(&id, "needs a GPU"));
    assert_eq!(fx.ok(|t| t.unblock(&id)), Status::Ready);
    assert_eq!(fx.status(&id), Status::Ready);
    let unblocked = fx.last_event(&id);
    assert_eq!(unblocked.kind, EventKind::Unblocked);
    assert_eq!(unblocked.payload, Some(json!({"status": "ready"})));
}

#[test]
fn unblock_returns_a_task_with_an_unfinished_parent_to_todo() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    fx.ok(|t| t.block(&id, "needs a GPU"));
    let parent = fx.add("buy a GPU", &[]);
    fx.ok(|t| t.link(&parent, &id));
    assert_eq!(fx.status(&id), Status::Blocked);
    assert_eq!(fx.ok(|t| t.unblock(&id)), Status::Todo);
    assert_eq!(fx.status(&id), Status::Todo);
    assert_eq!(fx.last_event(&id).payload, Some(json!({"status": "todo"})));
}

#[test]
fn a_blocked_child_stays_blocked_when_its_parent_completes_and_unblocks_to_ready() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[&parent]);
    fx.ok(|t| t.block(&child, "wait for a person"));
    let done = fx.finish(&parent);
    assert!(done.promoted.is_empty());
    assert_eq!(fx.status(&child), Status::Blocked);
    assert_eq!(fx.ok(|t| t.unblock(&child)), Status::Ready);
}

#[test]
fn unblock_refuses_a_task_that_is_not_blocked() {
    let mut fx = Fixture::new();
    let id = fx.add("train", &[]);
    let err = fx.refuse(|t| t.unblock(&id));
    assert!(
        matches!(
            err,
            BoardError::WrongStatus {
                status: Status::Ready,
                operation: "unblock",
                ..
            }
        ),
        "{err:?}"
    );
}

// ---- reclaim / release ----

#[test]
fn reclaim_expired_returns_a_lapsed_claim_to_ready_and_closes_its_run() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let claim = fx.claim(&id, "w1");
    let reclaimed = fx.at(NOW + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL));
    assert_eq!(reclaimed, vec![id.clone()]);
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Ready);
    assert_eq!(task.claim_lock, None);
    assert_eq!(task.claim_expires, None);
    assert_eq!(task.current_run_id, None);
    let runs = fx.runs(&id);
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].status, "reclaimed");
    assert_eq!(runs[0].outcome.as_deref(), Some("reclaimed"));
    assert_eq!(runs[0].ended_at, Some(NOW + TTL + 1));
    let event = fx.last_event(&id);
    assert_eq!(event.kind, EventKind::Reclaimed);
    assert_eq!(event.run_id, Some(claim.run_id));
    assert_eq!(
        event.payload,
        Some(json!({"lock": "w1", "reason": "claim expired", "status": "ready"}))
    );
}

#[test]
fn reclaim_expired_leaves_live_claims_alone_and_writes_nothing() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    let before = fx.dump();
    assert!(
        fx.at(NOW + TTL - 1, |t| t.reclaim_expired(SWEEP_TTL))
            .is_empty()
    );
    assert_eq!(fx.dump(), before);
    assert_eq!(fx.status(&id), Status::Running);
}

#[test]
fn reclaim_expired_honours_heartbeats() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    fx.at(NOW + 50, |t| t.heartbeat(&id, &claimer("w1")));
    assert!(
        fx.at(NOW + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL))
            .is_empty()
    );
    assert_eq!(
        fx.at(NOW + 50 + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL)),
        vec![id.clone()]
    );
}

/// Sets `id` running as a program without claim expiries would: no `claim_expires`, and the
/// given heartbeat and start.
fn raw_running_without_expiry(
    fx: &Fixture,
    id: &str,
    heartbeat: Option<i64>,
    started: Option<i64>,
) {
    fx.raw
        .execute(
            "UPDATE tasks SET status = 'running', claim_lock = 'elsewhere', claim_expires = NULL, \
             last_heartbeat_at = ?2, started_at = ?3 WHERE id = ?1",
            rusqlite::params![id, heartbeat, started],
        )
        .expect("raw running row");
}

#[test]
fn reclaim_expired_returns_a_running_row_without_expiry_once_its_heartbeat_is_a_ttl_old() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    raw_running_without_expiry(&fx, &id, Some(NOW + 100), Some(NOW + 5));
    assert!(
        fx.at(NOW + 100 + TTL, |t| t.reclaim_expired(SWEEP_TTL))
            .is_empty()
    );
    assert_eq!(fx.status(&id), Status::Running);
    assert_eq!(
        fx.at(NOW + 100 + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL)),
        vec![id.clone()]
    );
    assert_eq!(fx.status(&id), Status::Ready);
    let event = fx.last_event(&id);
    assert_eq!(event.kind, EventKind::Reclaimed);
    assert_eq!(
        event.payload,
        Some(json!({
            "lock": "elsewhere",
            "reason": "running with no claim expiry and no sign of life for the TTL",
            "status": "ready"
        }))
    );
}

#[test]
fn a_running_row_without_expiry_or_heartbeat_is_timed_from_its_start() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    raw_running_without_expiry(&fx, &id, None, Some(NOW + 200));
    assert!(
        fx.at(NOW + 200 + TTL, |t| t.reclaim_expired(SWEEP_TTL))
            .is_empty()
    );
    assert_eq!(
        fx.at(NOW + 200 + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL)),
        vec![id]
    );
}

#[test]
fn a_running_row_without_expiry_is_timed_from_its_newest_sign_of_life() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    // An old start and an old heartbeat, but a comment written later: it is still alive.
    raw_running_without_expiry(&fx, &id, Some(NOW + 1), Some(NOW + 1));
    fx.at(NOW + 300, |t| t.comment(&id, "worker", "still going"));
    assert!(
        fx.at(NOW + 300 + TTL, |t| t.reclaim_expired(SWEEP_TTL))
            .is_empty()
    );
    assert_eq!(
        fx.at(NOW + 300 + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL)),
        vec![id]
    );
}

#[test]
fn a_running_row_without_any_sign_of_life_but_its_creation_is_timed_from_that() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.raw
        .execute("DELETE FROM task_events WHERE task_id = ?1", [&id])
        .expect("forget the events");
    raw_running_without_expiry(&fx, &id, None, None);
    assert!(
        fx.at(NOW + TTL, |t| t.reclaim_expired(SWEEP_TTL))
            .is_empty()
    );
    assert_eq!(
        fx.at(NOW + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL)),
        vec![id]
    );
}

#[test]
fn a_reclaimed_task_is_claimed_again_under_a_new_run() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let first = fx.claim(&id, "w1");
    fx.at(NOW + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL));
    let second = fx.claim_at(NOW + TTL + 2, &id, "w2");
    assert_ne!(first.run_id, second.run_id);
    assert_eq!(fx.task(&id).current_run_id, Some(second.run_id));
    let runs = fx.runs(&id);
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].status, "reclaimed");
    assert_eq!(runs[1].status, "running");
    assert_eq!(runs[1].claim_lock.as_deref(), Some("w2"));
}

#[test]
fn the_former_holder_of_a_reclaimed_claim_cannot_complete_the_new_claim() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    fx.at(NOW + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL));
    fx.claim_at(NOW + TTL + 2, &id, "w2");
    let err = fx.refuse(|t| t.complete(&id, Some("w1"), Some("late")));
    assert!(
        matches!(&err, BoardError::StillRunning { holder: Some(h), claimer: Some(c), .. } if h == "w2" && c == "w1"),
        "{err:?}"
    );
    let err = fx.refuse(|t| t.heartbeat(&id, &claimer("w1")));
    assert!(matches!(err, BoardError::NotClaimHolder { .. }), "{err:?}");
}

#[test]
fn reclaim_of_a_task_whose_parent_became_unfinished_returns_it_to_todo() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let child = fx.add("child", &[]);
    fx.claim(&child, "w1");
    // A writer on a file without the guards links the running child; the requeue still gates it.
    fx.raw
        .execute_batch(
            "DROP TRIGGER gateboard_guard_link_onto_started_child; \
             DROP TRIGGER gateboard_guard_run_before_parents; \
             DROP TRIGGER gateboard_guard_insert_running_before_parents;",
        )
        .expect("drop guards");
    fx.raw_link(&parent, &child);
    assert_eq!(
        fx.at(NOW + TTL + 1, |t| t.reclaim_expired(SWEEP_TTL)),
        vec![child.clone()]
    );
    assert_eq!(fx.status(&child), Status::Todo);
    assert_eq!(
        fx.last_event(&child).payload,
        Some(json!({"lock": "w1", "reason": "claim expired", "status": "todo"}))
    );
}

#[test]
fn release_by_the_holder_returns_the_task_to_ready() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let claim = fx.claim(&id, "w1");
    fx.ok(|t| t.release(&id, &claimer("w1")));
    let task = fx.task(&id);
    assert_eq!(task.status, Status::Ready);
    assert_eq!(task.claim_lock, None);
    assert_eq!(task.current_run_id, None);
    assert_eq!(fx.runs(&id)[0].status, "reclaimed");
    let event = fx.last_event(&id);
    assert_eq!(event.kind, EventKind::Reclaimed);
    assert_eq!(event.run_id, Some(claim.run_id));
    assert_eq!(
        event.payload,
        Some(json!({"lock": "w1", "reason": "released by its worker", "status": "ready"}))
    );
}

#[test]
fn release_by_a_non_holder_is_refused() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    fx.claim(&id, "w1");
    let err = fx.refuse(|t| t.release(&id, &claimer("w2")));
    assert!(
        matches!(&err, BoardError::NotClaimHolder { holder, claimer, .. } if holder == "w1" && claimer == "w2"),
        "{err:?}"
    );
}

#[test]
fn promote_stranded_readies_a_todo_task_whose_parents_another_writer_finished() {
    let mut fx = Fixture::new();
    let parent = fx.add("parent", &[]);
    let stranded = fx.add("stranded", &[&parent]);
    let other = fx.add("other parent", &[]);
    let waiting = fx.add("still waiting", &[&other]);
    fx.raw_status(&parent, "done");
    assert_eq!(fx.ok(|t| t.promote_stranded()), vec![stranded.clone()]);
    assert_eq!(fx.status(&stranded), Status::Ready);
    assert_eq!(fx.last_event(&stranded).kind, EventKind::Promoted);
    assert_eq!(fx.status(&waiting), Status::Todo);
    let before = fx.dump();
    assert!(fx.ok(|t| t.promote_stranded()).is_empty());
    assert_eq!(fx.dump(), before);
}

// ---- comment ----

#[test]
fn comment_adds_a_comment_and_records_it() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let comment = fx.ok(|t| t.comment(&id, "ana", "looks good"));
    let detail = fx.board.read(|r| r.detail(&id)).unwrap();
    assert_eq!(
        detail.comments,
        vec![Comment {
            id: comment,
            author: "ana".into(),
            body: "looks good".into(),
            created_at: NOW,
        }]
    );
    let event = fx.last_event(&id);
    assert_eq!(event.kind, EventKind::Commented);
    assert_eq!(event.payload, Some(json!({"author": "ana", "len": 10})));
    assert_eq!(fx.status(&id), Status::Ready);
}

#[test]
fn comment_refuses_blank_text() {
    let mut fx = Fixture::new();
    let id = fx.add("work", &[]);
    let err = fx.refuse(|t| t.comment(&id, "ana", " \n"));
    assert!(matches!(err, BoardError::Invalid(_)), "{err:?}");
}

#[test]
fn comment_refuses_an_unknown_task() {
    let mut fx = Fixture::new();
    let err = fx.refuse(|t| t.comment("t_0000beef", "ana", "hello"));
    assert!(
        matches!(&err, BoardError::UnknownTask(id) if id == "t_0000beef"),
        "{err:?}"
    );
}

// ---- transactions ----

#[test]
fn a_write_refused_part_way_leaves_nothing_of_its_earlier_steps() {
    let mut fx = Fixture::new();
    fx.add("bystander", &[]);
    let err = fx.refuse(|t| {
        let id = t.create(&new_task("made, then undone", &[]))?;
        t.comment(&id, "ana", "also undone")?;
        t.link(&id, &id)
    });
    assert!(matches!(err, BoardError::SelfLink(_)), "{err:?}");
}
