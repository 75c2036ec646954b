//! Graph files end to end: `gateboard import FILE.toml` creates a whole graph in one transaction
//! (or refuses it with the file position and writes nothing), and `gateboard run FILE.toml`
//! works the file's tasks, and only those, to the end like `make -k`, resuming on a second run.
// Tests may unwrap, expect and panic: clippy.toml covers #[test] functions, not their helpers.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use common::cli_run::{self, HANG_GUARD, run_to_end, stdout_of_success};

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value as Json;

/// A board in a temporary folder, and a project folder beside it holding the graph file; the
/// file's commands run there by default and leave their markers there.
struct Fixture {
    board: common::TempBoard,
    project: PathBuf,
}

impl Fixture {
    fn new() -> Fixture {
        let board = common::TempBoard::new();
        let project = board.dir.path().join("project");
        fs::create_dir(&project).expect("project folder");
        Fixture { board, project }
    }

    fn db(&self) -> &Path {
        &self.board.path
    }

    fn file(&self, name: &str) -> PathBuf {
        self.project.join(name)
    }

    /// Writes the graph file `graph.toml`; returns its path.
    fn graph(&self, toml: &str) -> PathBuf {
        let path = self.file("graph.toml");
        fs::write(&path, toml).expect("write the graph file");
        path
    }

    /// `gateboard --db BOARD`, run from `/` so that nothing depends on the test's own folder.
    fn gateboard(&self) -> Command {
        cli_run::gateboard(self.db(), Path::new("/"))
    }

    fn run(&self, args: &[&str]) -> Output {
        let mut cmd = self.gateboard();
        cmd.args(args);
        run_to_end(cmd, &format!("gateboard {args:?}"))
    }

    fn ok(&self, args: &[&str]) -> String {
        stdout_of_success(self.run(args), args)
    }

    /// `gateboard run FILE` with short retry delays; returns the exit code and stdout.
    fn run_file(&self, file: &Path) -> (i32, String) {
        let out = self.run(&[
            "run",
            file.to_str().expect("utf-8 path"),
            "--workers",
            "2",
            "--retry-delay",
            "0.05",
        ]);
        let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
        let code = out
            .status
            .code()
            .unwrap_or_else(|| panic!("run was killed: {}", String::from_utf8_lossy(&out.stderr)));
        (code, stdout)
    }

    /// `name id` lines of `import FILE`, in the order printed.
    fn import(&self, file: &Path) -> Vec<(String, String)> {
        self.ok(&["import", file.to_str().expect("utf-8 path")])
            .lines()
            .map(|line| {
                let (name, id) = line.split_once(' ').expect("`name id`");
                (name.to_owned(), id.to_owned())
            })
            .collect()
    }

    fn ls(&self) -> Vec<Json> {
        serde_json::from_str::<Json>(&self.ok(&["ls", "--json"]))
            .expect("ls --json is JSON")
            .as_array()
            .expect("a list")
            .clone()
    }

    /// Task ids by title (a file's task is titled by its name unless it says otherwise).
    fn ids_by_title(&self) -> HashMap<String, String> {
        self.ls()
            .iter()
            .map(|t| {
                (
                    t["title"].as_str().expect("title").to_owned(),
                    t["id"].as_str().expect("id").to_owned(),
                )
            })
            .collect()
    }

    fn show(&self, id: &str) -> Json {
        serde_json::from_str(&self.ok(&["show", id, "--json"])).expect("show --json is JSON")
    }

    fn status(&self, id: &str) -> String {
        self.show(id)["task"]["status"]
            .as_str()
            .expect("a status")
            .to_owned()
    }

    fn outcomes(&self, id: &str) -> Vec<String> {
        self.show(id)["runs"]
            .as_array()
            .expect("runs")
            .iter()
            .map(|r| r["outcome"].as_str().unwrap_or("(open)").to_owned())
            .collect()
    }

    /// Waits until no process is left that a command of this board started: each inherits
    /// `GATEBOARD_DB` naming this board, and nothing else here carries it.
    fn assert_no_command_left(&self) {
        let mut marker = b"GATEBOARD_DB=".to_vec();
        marker.extend_from_slice(self.db().as_os_str().as_encoded_bytes());
        marker.push(0);
        let start = Instant::now();
        while !processes_with_env(&marker).is_empty() {
            assert!(
                start.elapsed() < HANG_GUARD,
                "a command of this board outlived its run"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// `import` of `toml` must exit 4 with one stderr line `FILE:LINE:COL: ...` holding
    /// `words`, and write nothing.
    fn assert_refused(&self, toml: &str, line: usize, column: usize, words: &[&str]) {
        let file = self.graph(toml);
        let out = self.run(&["import", file.to_str().unwrap()]);
        let stderr = String::from_utf8(out.stderr).expect("utf-8 stderr");
        assert_eq!(out.status.code(), Some(4), "{stderr}");
        assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
        let at = format!("{}:{line}:{column}: ", file.display());
        let message = stderr
            .trim_end()
            .strip_prefix("gateboard: ")
            .and_then(|s| s.strip_prefix(&at))
            .unwrap_or_else(|| panic!("not `gateboard: {at}...`: {stderr}"));
        for word in words {
            assert!(message.contains(word), "{word:?} not in {message:?}");
        }
        assert!(out.stdout.is_empty());
        assert_eq!(
            self.ls(),
            Vec::<Json>::new(),
            "a refused import wrote tasks"
        );
        assert_eq!(self.ok(&["events"]), "", "a refused import wrote events");
    }
}

/// Live processes (zombies excluded) whose environment holds `entry` (`NAME=VALUE` and NUL).
fn processes_with_env(entry: &[u8]) -> Vec<i32> {
    let Ok(dir) = fs::read_dir("/proc") else {
        return Vec::new();
    };
    dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<i32>().ok())
        .filter(|&pid| {
            let live = fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
                stat.rsplit_once(')')
                    .and_then(|(_, rest)| rest.split_whitespace().next())
                    .is_some_and(|state| !matches!(state, "Z" | "X"))
            });
            live && fs::read(format!("/proc/{pid}/environ"))
                .is_ok_and(|env| env.windows(entry.len()).any(|w| w == entry))
        })
        .collect()
}

#[test]
fn import_prints_name_id_lines_in_file_order_and_links_the_needs() {
    let fx = Fixture::new();
    let file = fx.graph(
        r#"
[tasks.compile]
cmd = "true"
[tasks.assets]
cmd = "true"
[tasks.bundle]
cmd = "true"
needs = ["assets", "compile"]
"#,
    );
    let printed = fx.import(&file);
    let names: Vec<&str> = printed.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names, ["compile", "assets", "bundle"]);
    let ids: HashMap<&str, &str> = printed
        .iter()
        .map(|(name, id)| (name.as_str(), id.as_str()))
        .collect();
    assert_eq!(fx.ls().len(), 3);
    let bundle = fx.show(ids["bundle"]);
    let mut parents: Vec<&str> = bundle["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .map(|p| p["id"].as_str().expect("id"))
        .collect();
    parents.sort_unstable();
    let mut wanted = vec![ids["assets"], ids["compile"]];
    wanted.sort_unstable();
    assert_eq!(parents, wanted);
    assert_eq!(bundle["task"]["status"], "todo");
    assert_eq!(bundle["task"]["title"], "bundle");
    assert_eq!(fx.status(ids["compile"]), "ready");
    assert_eq!(fx.status(ids["assets"]), "ready");
}

#[test]
fn import_json_prints_one_object_of_name_to_id() {
    let fx = Fixture::new();
    let file = fx.graph(
        r#"
[tasks.fetch]
cmd = "true"
[tasks.train]
cmd = "true"
needs = ["fetch"]
"#,
    );
    let printed: Json = serde_json::from_str(&fx.ok(&["import", file.to_str().unwrap(), "--json"]))
        .expect("import --json is JSON");
    let object = printed.as_object().expect("an object");
    let mut names: Vec<&str> = object.keys().map(String::as_str).collect();
    names.sort_unstable();
    assert_eq!(names, ["fetch", "train"]);
    let on_board = fx.ids_by_title();
    for (name, id) in object {
        assert_eq!(id.as_str(), Some(on_board[name].as_str()), "{name}");
    }
}

#[test]
fn import_refuses_an_unknown_key_with_its_position_and_writes_nothing() {
    Fixture::new().assert_refused(
        "[tasks.a]\ncmd = \"true\"\ncolour = \"red\"\n",
        3,
        1,
        &["unknown key", "colour"],
    );
}

#[test]
fn import_refuses_an_unknown_need_with_its_position_and_writes_nothing() {
    Fixture::new().assert_refused(
        "[tasks.a]\ncmd = \"true\"\n[tasks.b]\ncmd = \"true\"\nneeds = [\"a\", \"ghost\"]\n",
        5,
        15,
        &["ghost"],
    );
}

#[test]
fn import_refuses_a_cycle_with_its_position_and_writes_nothing() {
    Fixture::new().assert_refused(
        "[tasks.a]\nneeds = [\"b\"]\n[tasks.b]\nneeds = [\"a\"]\n",
        1,
        8,
        &["cycle"],
    );
}

#[test]
fn import_refuses_a_duplicate_name_with_its_position_and_writes_nothing() {
    Fixture::new().assert_refused(
        "[tasks.a]\ncmd = \"true\"\n[tasks.a]\ncmd = \"false\"\n",
        3,
        8,
        &["duplicate", "a"],
    );
}

#[test]
fn import_refuses_a_value_of_the_wrong_type_with_its_position_and_writes_nothing() {
    Fixture::new().assert_refused(
        "[tasks.a]\ncmd = \"true\"\ntimeout = \"soon\"\n",
        3,
        11,
        &["timeout", "string"],
    );
}

#[test]
fn a_relative_cwd_is_relative_to_the_file_and_the_default_is_the_file_s_folder() {
    let fx = Fixture::new();
    fs::create_dir(fx.file("sub")).unwrap();
    let out = fx.file("out");
    fs::create_dir(&out).unwrap();
    let out = out.to_str().unwrap();
    assert!(!out.contains(['"', '\\']), "{out} must fit a TOML string");
    let file = fx.graph(&format!(
        r#"
[tasks.here]
cmd = "pwd -P > {out}/here"
[tasks.there]
cmd = "pwd -P > {out}/there"
cwd = "sub"
"#
    ));
    // `gateboard` runs from `/` (see Fixture::gateboard): no folder here comes from it.
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 0, "{stdout}");
    let read = |name: &str| {
        fs::read_to_string(Path::new(out).join(name))
            .unwrap()
            .trim_end()
            .to_owned()
    };
    let project = fx.project.canonicalize().unwrap();
    assert_eq!(read("here"), project.to_str().unwrap());
    assert_eq!(read("there"), project.join("sub").to_str().unwrap());
    fx.assert_no_command_left();
}

#[test]
fn run_exits_0_when_every_task_of_the_file_ends_done() {
    let fx = Fixture::new();
    let file = fx.graph(
        r#"
[tasks.first]
cmd = "echo one > first.out"
[tasks.second]
cmd = "cat first.out > second.out"
needs = ["first"]
"#,
    );
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "2 done, 0 blocked, 0 never ran\n");
    assert_eq!(fs::read_to_string(fx.file("second.out")).unwrap(), "one\n");
    fx.assert_no_command_left();
}

#[test]
fn run_exits_9_naming_each_blocked_task_and_each_that_never_ran() {
    let fx = Fixture::new();
    let file = fx.graph(
        r#"
[tasks.fine]
cmd = "true"
[tasks.broken]
cmd = "echo no compiler; exit 3"
[tasks.link]
cmd = "touch link.ran"
needs = ["broken", "fine"]
[tasks.ship]
cmd = "touch ship.ran"
needs = ["link"]
"#,
    );
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 9, "{stdout}");
    let mut lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.pop(), Some("1 done, 1 blocked, 2 never ran"));
    lines.sort_unstable();
    assert_eq!(
        lines,
        [
            "broken: blocked: exit 3 after 1 attempt: no compiler",
            "link: never ran: waited on broken",
            "ship: never ran: waited on broken",
        ]
    );
    assert!(!fx.file("link.ran").exists() && !fx.file("ship.ran").exists());
    fx.assert_no_command_left();
}

#[test]
fn run_shows_a_status_another_program_wrote_escaped() {
    let fx = Fixture::new();
    let file = fx.graph("[tasks.held]\ncmd = \"true\"\n");
    let ids: HashMap<String, String> = fx.import(&file).into_iter().collect();
    rusqlite::Connection::open(fx.db())
        .unwrap()
        .execute(
            "UPDATE tasks SET status = 'hold\u{1b}[2J' WHERE id = ?1",
            [&ids["held"]],
        )
        .unwrap();
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 9, "{stdout}");
    assert_eq!(
        stdout,
        "held: never ran: it is hold\\e[2J\n0 done, 0 blocked, 1 never ran\n"
    );
}

#[test]
fn run_works_only_the_file_s_tasks() {
    let fx = Fixture::new();
    let loose = fx
        .ok(&[
            "add",
            "not in the file",
            "--cmd",
            "touch loose.ran",
            "--cwd",
            fx.project.to_str().unwrap(),
        ])
        .trim()
        .to_owned();
    let file = fx.graph("[tasks.only]\ncmd = \"touch only.ran\"\n");
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "1 done, 0 blocked, 0 never ran\n");
    assert!(fx.file("only.ran").exists());
    assert_eq!(fx.status(&loose), "ready");
    assert!(!fx.file("loose.ran").exists());
    assert_eq!(fx.outcomes(&loose), Vec::<String>::new());
    fx.assert_no_command_left();
}

#[test]
fn running_the_same_file_again_resumes_it_without_duplicating_tasks() {
    let fx = Fixture::new();
    let file = fx.graph(
        r#"
[tasks.once]
cmd = "echo ran >> once.count"
[tasks.fixme]
cmd = "echo broken; exit 3"
needs = ["once"]
"#,
    );
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 9, "{stdout}");
    let before = fx.ids_by_title();
    assert_eq!(before.len(), 2);
    assert_eq!(fx.status(&before["fixme"]), "blocked");

    // The fix, and a new step after it.
    fx.graph(
        r#"
[tasks.once]
cmd = "echo ran >> once.count"
[tasks.fixme]
cmd = "echo fixed"
needs = ["once"]
[tasks.extra]
cmd = "echo extra > extra.out"
needs = ["fixme"]
"#,
    );
    let (code, stdout) = fx.run_file(&file);
    assert_eq!(code, 0, "{stdout}");
    assert_eq!(stdout, "3 done, 0 blocked, 0 never ran\n");
    let after = fx.ids_by_title();
    assert_eq!(fx.ls().len(), 3, "no task was duplicated");
    assert_eq!(after["once"], before["once"]);
    assert_eq!(after["fixme"], before["fixme"]);
    // Done stayed done: not run again.
    assert_eq!(fs::read_to_string(fx.file("once.count")).unwrap(), "ran\n");
    assert_eq!(fx.outcomes(&after["once"]), ["completed"]);
    // Blocked got a fresh try with the fixed command.
    let fixme = fx.show(&after["fixme"]);
    assert_eq!(fixme["task"]["status"], "done");
    assert_eq!(fixme["task"]["result"], "fixed");
    assert_eq!(fx.outcomes(&after["fixme"]), ["gave_up", "completed"]);
    // The new name was created and ran.
    assert_eq!(fx.status(&after["extra"]), "done");
    assert_eq!(fs::read_to_string(fx.file("extra.out")).unwrap(), "extra\n");
    fx.assert_no_command_left();
}

#[test]
fn run_stopped_by_ctrl_c_lists_what_it_interrupted_and_exits_130() {
    let fx = Fixture::new();
    let file = fx.graph(
        r#"
[tasks.quick]
cmd = "true"
[tasks.long]
cmd = "touch long.started; sleep 1000"
[tasks.after]
cmd = "true"
needs = ["long"]
"#,
    );
    let mut cmd = fx.gateboard();
    cmd.args(["run", file.to_str().unwrap(), "--workers", "2"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let child = cmd.spawn().expect("start run");
    let start = Instant::now();
    while !fx.file("long.started").exists() {
        assert!(start.elapsed() < HANG_GUARD, "the long task never started");
        thread::sleep(Duration::from_millis(20));
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill");
    assert!(interrupted.success());
    let out = child.wait_with_output().expect("run ends");
    let stdout = String::from_utf8(out.stdout).expect("utf-8 stdout");
    assert_eq!(out.status.code(), Some(130), "{stdout}");
    let mut lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines.pop(),
        Some("1 done, 0 blocked, 1 interrupted, 1 never ran (stopped by a signal)")
    );
    assert_eq!(
        lines,
        [
            "long: interrupted: the run was stopped while it ran",
            "after: never ran: waited on long",
        ]
    );
    let ids = fx.ids_by_title();
    assert_eq!(fx.status(&ids["long"]), "ready", "its claim went back");
    fx.assert_no_command_left();
}

#[test]
fn a_new_need_of_a_task_already_done_is_left_out_with_a_note() {
    let fx = Fixture::new();
    let first = r#"
[tasks.a]
cmd = "true"
[tasks.b]
cmd = "true"
[tasks.c]
cmd = "true"
needs = ["a"]
"#;
    let file = fx.graph(first);
    assert_eq!(fx.run_file(&file).0, 0);
    fx.graph(&first.replace(r#"needs = ["a"]"#, r#"needs = ["a", "b"]"#));
    let out = fx.run(&["import", file.to_str().unwrap()]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim(),
        "gateboard: c has already started, so its new needs (b) were left out"
    );
    let ids = fx.ids_by_title();
    let parents: Vec<String> = fx.show(&ids["c"])["parents"]
        .as_array()
        .expect("parents")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(
        parents,
        vec![ids["a"].clone()],
        "a done task took no new parent"
    );
}
