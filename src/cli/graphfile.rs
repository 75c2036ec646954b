//! Graph files: `gateboard import FILE.toml` creates a whole task graph from one TOML file.
//!
//! A graph file holds only `[tasks.NAME]` tables; this module turns its text into validated
//! [`FileTask`]s in file order, with every `cwd` made absolute, so the caller can write them to
//! the board without looking at the file again. The file is checked whole before anything is
//! written: every refusal is one line that starts `FILE:LINE:COL: `, as compilers write it, so a
//! terminal or an editor can jump to the offending key or value.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt::Display;
use std::ops::Range;
use std::path::{Component, Path, PathBuf};

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::core::model::{MAX_RETRIES, MAX_TIMEOUT_SECS};

/// One task of a graph file, validated, with paths absolute.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FileTask {
    /// The task's key under `[tasks]`: unique in its file, it names the task in `needs`.
    pub name: String,
    /// What the board shows; the name unless the file gives one.
    pub title: String,
    /// The shell command a worker runs; a task without one is done by hand.
    pub cmd: Option<String>,
    /// Where `cmd` runs, absolute: relative ones are resolved against the file's folder.
    pub cwd: PathBuf,
    /// Variables set for `cmd`, in file order.
    pub env: Vec<(String, String)>,
    /// Seconds `cmd` may run before it is stopped.
    pub timeout_secs: Option<u64>,
    /// How often a failed `cmd` is run again.
    pub retries: Option<u32>,
    /// Higher runs first among claimable tasks.
    pub priority: i64,
    /// Who the task is for.
    pub assignee: Option<String>,
    /// Longer text shown with the task.
    pub body: Option<String>,
    /// Names of tasks of this file that must be done first, deduplicated, in the order given.
    pub needs: Vec<String>,
}

/// A parsed graph file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GraphFile {
    /// The file's absolute, normalised path: with a task's name it keys the task on the board.
    pub path: PathBuf,
    /// Tasks in file order.
    pub tasks: Vec<FileTask>,
}

/// The keys a task may hold, in the order refusals list them.
const TASK_KEYS: [&str; 10] = [
    "title", "cmd", "cwd", "env", "timeout", "retries", "priority", "assignee", "body", "needs",
];

/// Parses `text`, read from `path` (as the user gave it; made absolute against `cwd`, the current directory).
///
/// # Errors
///
/// One line, `FILE:LINE:COL: what is wrong`, with `FILE` as given and the position of the
/// offending key or value: invalid TOML, keys other than `tasks` and the task keys, values of the
/// wrong type or range, `needs` naming no task of the file or the task itself, cycles, blank
/// names or titles, env keys that are empty or hold `=`, NUL in any string, and a file without
/// tasks.
pub fn parse(path: &Path, cwd: &Path, text: &str) -> Result<GraphFile, String> {
    let src = Source { file: path, text };
    let path = normalise(&cwd.join(path));
    let folder = path.parent().unwrap_or(&path);
    let root = DeTable::parse(text).map_err(|error| src.syntax(&error))?;
    let entries = in_file_order(tasks_table(&src, root.get_ref())?);
    let names: HashSet<&str> = entries
        .iter()
        .map(|(name, _)| name.get_ref().as_ref())
        .collect();
    let tasks = entries
        .iter()
        .map(|(name, value)| task(&src, folder, &names, name, value))
        .collect::<Result<Vec<_>, _>>()?;
    if let Some(cycle) = find_cycle(&tasks) {
        let around: Vec<String> = cycle
            .iter()
            .chain(cycle.first())
            .map(|&index| shown_bare(&tasks[index].name))
            .collect();
        return Err(src.at(
            entries[cycle[0]].0.span(),
            format_args!(
                "tasks need each other in a cycle: {} (each needs the next)",
                around.join(" -> ")
            ),
        ));
    }
    Ok(GraphFile { path, tasks })
}

/// The text being parsed and the path to name in refusals.
struct Source<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Source<'_> {
    /// A refusal at the byte offset where `span` starts.
    fn at(&self, span: Range<usize>, message: impl Display) -> String {
        let (line, column) = self.position(span.start);
        format!("{}:{line}:{column}: {message}", self.file.display())
    }

    /// toml's own refusal, squashed into one line; a duplicate key is named.
    fn syntax(&self, error: &toml::de::Error) -> String {
        let span = error.span().unwrap_or(0..0);
        let mut message = error
            .message()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if message == "duplicate key" {
            let key = self.text.get(span.clone()).unwrap_or_default();
            message = format!(
                "duplicate key {} (a task name may be used once)",
                shown(key)
            );
        }
        self.at(span, format_args!("invalid TOML: {message}"))
    }

    /// The 1-based line and column (in characters) of a byte offset.
    fn position(&self, offset: usize) -> (usize, usize) {
        let mut line = 1;
        let mut column = 1;
        for (index, character) in self.text.char_indices() {
            if index >= offset {
                break;
            }
            if character == '\n' {
                line += 1;
                column = 1;
            } else {
                column += 1;
            }
        }
        (line, column)
    }
}

/// The entries of a table in the order they appear in the file, whatever order toml keeps.
fn in_file_order<'t, 'i>(
    table: &'t DeTable<'i>,
) -> Vec<(&'t Spanned<Cow<'i, str>>, &'t Spanned<DeValue<'i>>)> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// The `tasks` table, after refusing any other top-level key and a file without tasks.
fn tasks_table<'t, 'i>(src: &Source<'_>, root: &'t DeTable<'i>) -> Result<&'t DeTable<'i>, String> {
    let mut tasks = None;
    for (key, value) in in_file_order(root) {
        if key.get_ref() != "tasks" {
            return Err(src.at(
                key.span(),
                format_args!(
                    "unknown top-level key {}; valid keys: tasks",
                    shown(key.get_ref())
                ),
            ));
        }
        tasks = Some((key, value));
    }
    let Some((key, value)) = tasks else {
        return Err(src.at(0..0, "no tasks in the file; add one as [tasks.NAME]"));
    };
    let DeValue::Table(table) = value.get_ref() else {
        return Err(src.at(
            value.span(),
            format_args!(
                "`tasks` must be a table of tasks, each as [tasks.NAME], not {}",
                a_type(value.get_ref())
            ),
        ));
    };
    if table.is_empty() {
        return Err(src.at(key.span(), "no tasks in `tasks`; add one as [tasks.NAME]"));
    }
    Ok(table)
}

/// One task from its name and table, checked against the names of all tasks of the file.
fn task(
    src: &Source<'_>,
    folder: &Path,
    names: &HashSet<&str>,
    key: &Spanned<Cow<'_, str>>,
    value: &Spanned<DeValue<'_>>,
) -> Result<FileTask, String> {
    let name = key.get_ref().as_ref();
    if name.trim().is_empty() {
        return Err(src.at(key.span(), "a task name must not be blank"));
    }
    if name.contains('\0') {
        return Err(src.at(
            key.span(),
            format_args!("task name {} must not contain NUL", shown(name)),
        ));
    }
    let DeValue::Table(fields) = value.get_ref() else {
        return Err(src.at(
            value.span(),
            format_args!(
                "task {} must be a table of keys ({}), not {}",
                shown(name),
                TASK_KEYS.join(", "),
                a_type(value.get_ref())
            ),
        ));
    };
    let mut task = FileTask {
        name: name.to_owned(),
        title: name.to_owned(),
        cmd: None,
        cwd: folder.to_path_buf(),
        env: Vec::new(),
        timeout_secs: None,
        retries: None,
        priority: 0,
        assignee: None,
        body: None,
        needs: Vec::new(),
    };
    for (field_key, value) in in_file_order(fields) {
        let field = Field {
            src,
            task: name,
            key: field_key.get_ref(),
            value,
        };
        match field.key {
            "title" => task.title = field.not_blank("")?,
            "cmd" => task.cmd = Some(field.not_blank(" (leave it out for a task done by hand)")?),
            "cwd" => task.cwd = field.cwd(folder)?,
            "env" => task.env = field.env()?,
            "timeout" => task.timeout_secs = Some(field.timeout()?),
            "retries" => task.retries = Some(field.retries()?),
            "priority" => task.priority = field.priority()?,
            "assignee" => task.assignee = Some(field.not_blank("")?),
            "body" => task.body = Some(field.string()?),
            "needs" => task.needs = field.needs(names)?,
            other => {
                return Err(src.at(
                    field_key.span(),
                    format_args!(
                        "unknown key {} in task {}; valid keys: {}",
                        shown(other),
                        shown(name),
                        TASK_KEYS.join(", ")
                    ),
                ));
            }
        }
    }
    Ok(task)
}

/// One key of a task with its value, to read the value as that key wants it.
struct Field<'a, 'i> {
    src: &'a Source<'a>,
    task: &'a str,
    key: &'a str,
    value: &'a Spanned<DeValue<'i>>,
}

impl Field<'_, '_> {
    /// A refusal of this value: `what` says what the key must be.
    fn refuse(&self, what: impl Display) -> String {
        self.src.at(
            self.value.span(),
            format_args!("`{}` of task {} {what}", self.key, shown(self.task)),
        )
    }

    /// The value as a string without NUL.
    fn string(&self) -> Result<String, String> {
        match self.value.get_ref() {
            DeValue::String(text) if text.contains('\0') => {
                Err(self.refuse("must not contain NUL"))
            }
            DeValue::String(text) => Ok(text.to_string()),
            other => Err(self.refuse(format_args!("must be a string, not {}", a_type(other)))),
        }
    }

    /// The value as a string that is not blank; `hint` follows the refusal of a blank one.
    fn not_blank(&self, hint: &str) -> Result<String, String> {
        let text = self.string()?;
        if text.trim().is_empty() {
            return Err(self.refuse(format_args!("must not be blank{hint}")));
        }
        Ok(text)
    }

    /// `cwd`: a folder, relative to the file's folder unless absolute.
    fn cwd(&self, folder: &Path) -> Result<PathBuf, String> {
        let cwd = self.not_blank(" (leave it out for the file's folder)")?;
        Ok(normalise(&folder.join(cwd)))
    }

    /// The value as an integer; `wanted` says what the key takes, for the refusal.
    fn integer(&self, wanted: &str) -> Result<i128, String> {
        let DeValue::Integer(number) = self.value.get_ref() else {
            return Err(self.refuse(format_args!(
                "must be {wanted}, not {}",
                a_type(self.value.get_ref())
            )));
        };
        i128::from_str_radix(number.as_str(), number.radix()).map_err(|_| {
            let written = self.src.text.get(self.value.span()).unwrap_or_default();
            self.refuse(format_args!("must be {wanted}, not {written}"))
        })
    }

    /// `timeout`: a positive number of seconds, at most [`MAX_TIMEOUT_SECS`] (as `add`'s).
    fn timeout(&self) -> Result<u64, String> {
        let wanted = format!("a whole number of seconds from 1 to {MAX_TIMEOUT_SECS} (a year)");
        let number = self.integer(&wanted)?;
        u64::try_from(number)
            .ok()
            .filter(|&seconds| (1..=MAX_TIMEOUT_SECS).contains(&seconds))
            .ok_or_else(|| self.refuse(format_args!("must be {wanted}, not {number}")))
    }

    /// `retries`: from 0 to [`MAX_RETRIES`].
    fn retries(&self) -> Result<u32, String> {
        let wanted = format!("a whole number from 0 to {MAX_RETRIES}");
        let number = self.integer(&wanted)?;
        u32::try_from(number)
            .ok()
            .filter(|&retries| retries <= MAX_RETRIES)
            .ok_or_else(|| self.refuse(format_args!("must be {wanted}, not {number}")))
    }

    /// `priority`: any 64-bit integer.
    fn priority(&self) -> Result<i64, String> {
        let wanted = format!("an integer from {} to {}", i64::MIN, i64::MAX);
        let number = self.integer(&wanted)?;
        i64::try_from(number)
            .map_err(|_| self.refuse(format_args!("must be {wanted}, not {number}")))
    }

    /// `env`: a table of strings, keyed by names a process environment can hold.
    fn env(&self) -> Result<Vec<(String, String)>, String> {
        let DeValue::Table(table) = self.value.get_ref() else {
            return Err(self.refuse(format_args!(
                "must be a table of strings, like env = {{ NAME = \"value\" }}, not {}",
                a_type(self.value.get_ref())
            )));
        };
        let task = shown(self.task);
        let mut env = Vec::new();
        for (key, value) in in_file_order(table) {
            let name = key.get_ref().as_ref();
            let refuse_key = |what: &str| {
                self.src.at(
                    key.span(),
                    format_args!("env name {} of task {task} {what}", shown(name)),
                )
            };
            if name.is_empty() {
                return Err(refuse_key("must not be empty"));
            }
            if name.contains('=') {
                return Err(refuse_key("must not contain `=`"));
            }
            if name.contains('\0') {
                return Err(refuse_key("must not contain NUL"));
            }
            let refuse_value = |what: &dyn Display| {
                self.src.at(
                    value.span(),
                    format_args!("env {} of task {task} {what}", shown(name)),
                )
            };
            match value.get_ref() {
                DeValue::String(text) if text.contains('\0') => {
                    return Err(refuse_value(&"must not contain NUL"));
                }
                DeValue::String(text) => env.push((name.to_owned(), text.to_string())),
                other => {
                    return Err(refuse_value(&format_args!(
                        "must be a string, not {}",
                        a_type(other)
                    )));
                }
            }
        }
        Ok(env)
    }

    /// `needs`: names of other tasks of the file, kept once each in the order given.
    fn needs(&self, names: &HashSet<&str>) -> Result<Vec<String>, String> {
        let DeValue::Array(items) = self.value.get_ref() else {
            return Err(self.refuse(format_args!(
                "must be an array of task names, like needs = [\"fetch\"], not {}",
                a_type(self.value.get_ref())
            )));
        };
        let task = shown(self.task);
        let mut needs: Vec<String> = Vec::new();
        for item in items {
            let refuse = |what: &dyn Display| self.src.at(item.span(), what);
            let DeValue::String(need) = item.get_ref() else {
                return Err(refuse(&format_args!(
                    "`needs` of task {task} must hold task names, not {}",
                    a_type(item.get_ref())
                )));
            };
            if need == self.task {
                return Err(refuse(&format_args!("task {task} needs itself")));
            }
            if !names.contains(need.as_ref()) {
                return Err(refuse(&format_args!(
                    "task {task} needs {}, which names no task in this file",
                    shown(need)
                )));
            }
            if !needs.iter().any(|known| known == need) {
                needs.push(need.to_string());
            }
        }
        Ok(needs)
    }
}

/// Where a task stands in the search for cycles.
#[derive(Clone, Copy)]
enum Visit {
    New,
    /// On the path being followed, at this depth.
    Open(usize),
    Done,
}

/// Indexes of tasks that need each other around a cycle, starting from the one first in the file.
fn find_cycle(tasks: &[FileTask]) -> Option<Vec<usize>> {
    let index: HashMap<&str, usize> = tasks
        .iter()
        .enumerate()
        .map(|(at, task)| (task.name.as_str(), at))
        .collect();
    let needs: Vec<Vec<usize>> = tasks
        .iter()
        .map(|task| {
            task.needs
                .iter()
                .filter_map(|need| index.get(need.as_str()).copied())
                .collect()
        })
        .collect();
    let mut visits = vec![Visit::New; tasks.len()];
    for start in 0..tasks.len() {
        if !matches!(visits[start], Visit::New) {
            continue;
        }
        visits[start] = Visit::Open(0);
        // Each entry: a task on the path, and how many of its needs were followed.
        let mut path = vec![(start, 0)];
        while let Some((task, followed)) = path.last_mut() {
            let Some(&need) = needs[*task].get(*followed) else {
                visits[*task] = Visit::Done;
                path.pop();
                continue;
            };
            *followed += 1;
            match visits[need] {
                Visit::New => {
                    visits[need] = Visit::Open(path.len());
                    path.push((need, 0));
                }
                Visit::Open(depth) => {
                    let mut cycle: Vec<usize> = path[depth..].iter().map(|&(at, _)| at).collect();
                    let first = (0..cycle.len()).min_by_key(|&at| cycle[at]).unwrap_or(0);
                    cycle.rotate_left(first);
                    return Some(cycle);
                }
                Visit::Done => {}
            }
        }
    }
    None
}

/// `path` with `.` and `..` resolved by its text alone, as the user most likely meant it.
fn normalise(path: &Path) -> PathBuf {
    let mut normal = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => match normal.components().next_back() {
                Some(Component::Normal(_)) => {
                    normal.pop();
                }
                Some(Component::RootDir | Component::Prefix(_)) => {}
                _ => normal.push(".."),
            },
            other => normal.push(other),
        }
    }
    normal
}

/// A name or key for a refusal, in backticks, with control characters escaped to keep one line.
fn shown(text: &str) -> String {
    format!("`{}`", shown_bare(text))
}

/// A name for a refusal, with control characters escaped to keep one line.
fn shown_bare(text: &str) -> String {
    if text.chars().any(char::is_control) {
        text.escape_debug().to_string()
    } else {
        text.to_owned()
    }
}

/// The kind of a TOML value, with its article, for refusals.
fn a_type(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a datetime",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CWD: &str = "/home/ana/proj";

    fn parsed(text: &str) -> GraphFile {
        parse(Path::new("graph.toml"), Path::new(CWD), text).expect("parses")
    }

    fn refusal(text: &str) -> String {
        parse(Path::new("graph.toml"), Path::new(CWD), text).expect_err("is refused")
    }

    fn only_task(text: &str) -> FileTask {
        let mut tasks = parsed(text).tasks;
        assert_eq!(tasks.len(), 1);
        tasks.remove(0)
    }

    fn names(graph: &GraphFile) -> Vec<&str> {
        graph.tasks.iter().map(|task| task.name.as_str()).collect()
    }

    #[test]
    fn a_task_with_only_a_name_gets_the_defaults() {
        assert_eq!(
            only_task("[tasks.fetch]\n"),
            FileTask {
                name: "fetch".into(),
                title: "fetch".into(),
                cmd: None,
                cwd: PathBuf::from(CWD),
                env: Vec::new(),
                timeout_secs: None,
                retries: None,
                priority: 0,
                assignee: None,
                body: None,
                needs: Vec::new(),
            }
        );
    }

    #[test]
    fn every_key_of_a_task_is_read() {
        let graph = parsed(
            r#"
[tasks.fetch]
cmd = "curl -fsSo data.csv https://example.org/data.csv"
[tasks.train]
cmd = "python train.py"
needs = ["fetch"]
timeout = 3600
retries = 2
cwd = "sub/dir"
env = { FOO = "bar" }
priority = 5
assignee = "ana"
body = "longer text"
title = "Train the model"
"#,
        );
        assert_eq!(
            graph.tasks[1],
            FileTask {
                name: "train".into(),
                title: "Train the model".into(),
                cmd: Some("python train.py".into()),
                cwd: PathBuf::from("/home/ana/proj/sub/dir"),
                env: vec![("FOO".into(), "bar".into())],
                timeout_secs: Some(3600),
                retries: Some(2),
                priority: 5,
                assignee: Some("ana".into()),
                body: Some("longer text".into()),
                needs: vec!["fetch".into()],
            }
        );
    }

    #[test]
    fn tasks_keep_file_order_not_alphabetical_order() {
        let graph = parsed("[tasks.zeta]\n[tasks.alpha]\n[tasks.mid]\n");
        assert_eq!(names(&graph), ["zeta", "alpha", "mid"]);
    }

    #[test]
    fn tasks_written_inline_or_with_dotted_keys_keep_file_order() {
        let graph = parsed(
            "tasks.zeta.cmd = \"z\"\ntasks.alpha = { cmd = \"a\" }\n[tasks.beta]\ncmd = \"b\"\n",
        );
        assert_eq!(names(&graph), ["zeta", "alpha", "beta"]);
        assert_eq!(graph.tasks[0].cmd.as_deref(), Some("z"));
    }

    #[test]
    fn env_keeps_file_order() {
        let task = only_task("[tasks.t]\nenv = { ZED = \"1\", ALPHA = \"2\", MID = \"3\" }\n");
        assert_eq!(
            task.env,
            [("ZED", "1"), ("ALPHA", "2"), ("MID", "3")]
                .map(|(key, value)| (key.to_owned(), value.to_owned()))
        );
    }

    #[test]
    fn env_may_be_written_as_a_subtable() {
        let task = only_task("[tasks.t]\ncmd = \"x\"\n[tasks.t.env]\nB = \"2\"\nA = \"1\"\n");
        assert_eq!(
            task.env,
            [("B", "2"), ("A", "1")].map(|(key, value)| (key.to_owned(), value.to_owned()))
        );
    }

    #[test]
    fn a_relative_cwd_is_resolved_against_the_files_folder_and_normalised() {
        let graph = parse(
            Path::new("plans/graph.toml"),
            Path::new(CWD),
            "[tasks.t]\ncwd = \"./a/../b/./c\"\n[tasks.u]\ncwd = \"../..\"\n",
        )
        .expect("parses");
        assert_eq!(
            graph.tasks[0].cwd,
            PathBuf::from("/home/ana/proj/plans/b/c")
        );
        assert_eq!(graph.tasks[1].cwd, PathBuf::from("/home/ana"));
    }

    #[test]
    fn an_absolute_cwd_is_kept_and_normalised() {
        let task = only_task("[tasks.t]\ncwd = \"/srv//data/./x/..\"\n");
        assert_eq!(task.cwd, PathBuf::from("/srv/data"));
    }

    #[test]
    fn a_cwd_cannot_climb_above_the_root() {
        let task = only_task("[tasks.t]\ncwd = \"/../../tmp\"\n");
        assert_eq!(task.cwd, PathBuf::from("/tmp"));
    }

    #[test]
    fn the_file_path_is_made_absolute_against_the_current_directory_and_normalised() {
        let graph = parse(
            Path::new("./x/../plans/graph.toml"),
            Path::new(CWD),
            "[tasks.t]\n",
        )
        .expect("parses");
        assert_eq!(graph.path, PathBuf::from("/home/ana/proj/plans/graph.toml"));
        assert_eq!(graph.tasks[0].cwd, PathBuf::from("/home/ana/proj/plans"));
    }

    #[test]
    fn an_absolute_file_path_ignores_the_current_directory() {
        let graph =
            parse(Path::new("/srv/graph.toml"), Path::new(CWD), "[tasks.t]\n").expect("parses");
        assert_eq!(graph.path, PathBuf::from("/srv/graph.toml"));
        assert_eq!(graph.tasks[0].cwd, PathBuf::from("/srv"));
    }

    #[test]
    fn repeated_needs_are_kept_once_in_the_order_given() {
        let graph = parsed("[tasks.a]\n[tasks.b]\n[tasks.c]\nneeds = [\"b\", \"a\", \"b\"]\n");
        assert_eq!(graph.tasks[2].needs, ["b", "a"]);
    }

    #[test]
    fn needs_may_point_to_tasks_later_in_the_file() {
        let graph = parsed("[tasks.train]\nneeds = [\"fetch\"]\n[tasks.fetch]\n");
        assert_eq!(graph.tasks[0].needs, ["fetch"]);
    }

    #[test]
    fn a_diamond_of_needs_is_no_cycle() {
        let graph = parsed(
            "[tasks.a]\n[tasks.b]\nneeds = [\"a\"]\n[tasks.c]\nneeds = [\"a\"]\n[tasks.d]\nneeds = [\"b\", \"c\"]\n",
        );
        assert_eq!(graph.tasks.len(), 4);
    }

    #[test]
    fn integers_may_be_written_in_any_toml_radix() {
        let task = only_task("[tasks.t]\ntimeout = 0x10\nretries = 0b11\npriority = -1_000\n");
        assert_eq!(
            (task.timeout_secs, task.retries, task.priority),
            (Some(16), Some(3), -1000)
        );
    }

    #[test]
    fn retries_from_0_to_100_are_accepted() {
        assert_eq!(only_task("[tasks.t]\nretries = 0\n").retries, Some(0));
        assert_eq!(only_task("[tasks.t]\nretries = 100\n").retries, Some(100));
    }

    #[test]
    fn an_unknown_top_level_key_is_refused_with_its_position_and_the_valid_keys() {
        assert_eq!(
            refusal("[tasks.t]\n\n[settings]\nx = 1\n"),
            "graph.toml:3:2: unknown top-level key `settings`; valid keys: tasks"
        );
    }

    #[test]
    fn an_unknown_task_key_is_refused_with_its_position_and_the_valid_keys() {
        assert_eq!(
            refusal("[tasks.t]\ncmd = \"x\"\n  command = \"y\"\n"),
            "graph.toml:3:3: unknown key `command` in task `t`; valid keys: \
             title, cmd, cwd, env, timeout, retries, priority, assignee, body, needs"
        );
    }

    #[test]
    fn the_first_error_in_the_file_is_the_one_reported() {
        assert_eq!(
            refusal("[tasks.b]\nzzz = 1\n[tasks.a]\naaa = 1\n"),
            "graph.toml:2:1: unknown key `zzz` in task `b`; valid keys: \
             title, cmd, cwd, env, timeout, retries, priority, assignee, body, needs"
        );
    }

    #[test]
    fn tasks_that_is_not_a_table_is_refused() {
        assert_eq!(
            refusal("tasks = 3\n"),
            "graph.toml:1:9: `tasks` must be a table of tasks, each as [tasks.NAME], not an integer"
        );
    }

    #[test]
    fn an_array_of_tasks_is_refused() {
        assert_eq!(
            refusal("[[tasks]]\ncmd = \"x\"\n"),
            "graph.toml:1:1: `tasks` must be a table of tasks, each as [tasks.NAME], not an array"
        );
    }

    #[test]
    fn a_task_that_is_not_a_table_is_refused() {
        assert_eq!(
            refusal("[tasks]\nfetch = \"curl\"\n"),
            "graph.toml:2:9: task `fetch` must be a table of keys \
             (title, cmd, cwd, env, timeout, retries, priority, assignee, body, needs), not a string"
        );
    }

    #[test]
    fn a_string_timeout_is_refused_with_its_position() {
        assert_eq!(
            refusal("[tasks.t]\ntimeout = \"x\"\n"),
            "graph.toml:2:11: `timeout` of task `t` must be a whole number of seconds from 1 to 31622400 (a year), not a string"
        );
    }

    #[test]
    fn a_zero_timeout_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ntimeout = 0\n"),
            "graph.toml:2:11: `timeout` of task `t` must be a whole number of seconds from 1 to 31622400 (a year), not 0"
        );
    }

    #[test]
    fn a_timeout_longer_than_add_accepts_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ntimeout = 31622401\n"),
            "graph.toml:2:11: `timeout` of task `t` must be a whole number of seconds from 1 to \
             31622400 (a year), not 31622401"
        );
    }

    #[test]
    fn a_fractional_timeout_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ntimeout = 1.5\n"),
            "graph.toml:2:11: `timeout` of task `t` must be a whole number of seconds from 1 to 31622400 (a year), not a float"
        );
    }

    #[test]
    fn negative_retries_are_refused() {
        assert_eq!(
            refusal("[tasks.t]\nretries = -1\n"),
            "graph.toml:2:11: `retries` of task `t` must be a whole number from 0 to 100, not -1"
        );
    }

    #[test]
    fn more_than_100_retries_are_refused() {
        assert_eq!(
            refusal("[tasks.t]\nretries = 101\n"),
            "graph.toml:2:11: `retries` of task `t` must be a whole number from 0 to 100, not 101"
        );
    }

    #[test]
    fn a_priority_that_is_no_integer_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\npriority = true\n"),
            "graph.toml:2:12: `priority` of task `t` must be an integer from \
             -9223372036854775808 to 9223372036854775807, not a boolean"
        );
    }

    #[test]
    fn a_priority_beyond_64_bits_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\npriority = 9_223_372_036_854_775_808\n"),
            "graph.toml:2:12: `priority` of task `t` must be an integer from \
             -9223372036854775808 to 9223372036854775807, not 9223372036854775808"
        );
    }

    #[test]
    fn an_integer_too_large_for_any_key_is_refused_as_written() {
        assert_eq!(
            refusal("[tasks.t]\ntimeout = 999999999999999999999999999999999999999999\n"),
            "graph.toml:2:11: `timeout` of task `t` must be a whole number of seconds from 1 to 31622400 (a year), \
             not 999999999999999999999999999999999999999999"
        );
    }

    #[test]
    fn a_string_key_holding_another_type_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ncmd = [\"make\"]\n"),
            "graph.toml:2:7: `cmd` of task `t` must be a string, not an array"
        );
    }

    #[test]
    fn a_blank_title_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ntitle = \"  \"\n"),
            "graph.toml:2:9: `title` of task `t` must not be blank"
        );
    }

    #[test]
    fn a_blank_task_name_is_refused() {
        assert_eq!(
            refusal("[tasks.a]\n[tasks.\" \"]\n"),
            "graph.toml:2:8: a task name must not be blank"
        );
    }

    #[test]
    fn a_blank_cmd_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ncmd = \"\"\n"),
            "graph.toml:2:7: `cmd` of task `t` must not be blank (leave it out for a task done by hand)"
        );
    }

    #[test]
    fn an_empty_cwd_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\ncwd = \"\"\n"),
            "graph.toml:2:7: `cwd` of task `t` must not be blank (leave it out for the file's folder)"
        );
    }

    #[test]
    fn a_blank_assignee_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nassignee = \" \"\n"),
            "graph.toml:2:12: `assignee` of task `t` must not be blank"
        );
    }

    #[test]
    fn needs_that_is_not_an_array_is_refused() {
        assert_eq!(
            refusal("[tasks.a]\n[tasks.b]\nneeds = \"a\"\n"),
            "graph.toml:3:9: `needs` of task `b` must be an array of task names, \
             like needs = [\"fetch\"], not a string"
        );
    }

    #[test]
    fn a_need_that_is_not_a_name_is_refused_with_its_position() {
        assert_eq!(
            refusal("[tasks.a]\n[tasks.b]\nneeds = [\"a\", 7]\n"),
            "graph.toml:3:15: `needs` of task `b` must hold task names, not an integer"
        );
    }

    #[test]
    fn a_need_naming_no_task_is_refused_with_its_position() {
        assert_eq!(
            refusal("[tasks.fetch]\n[tasks.train]\nneeds = [\"fetch\", \"fetsh\"]\n"),
            "graph.toml:3:19: task `train` needs `fetsh`, which names no task in this file"
        );
    }

    #[test]
    fn a_task_needing_itself_is_refused() {
        assert_eq!(
            refusal("[tasks.a]\nneeds = [\"a\"]\n"),
            "graph.toml:2:10: task `a` needs itself"
        );
    }

    #[test]
    fn a_cycle_is_refused_naming_the_tasks_around_it() {
        assert_eq!(
            refusal("[tasks.a]\nneeds = [\"b\"]\n[tasks.b]\nneeds = [\"a\"]\n"),
            "graph.toml:1:8: tasks need each other in a cycle: a -> b -> a (each needs the next)"
        );
    }

    #[test]
    fn a_cycle_is_named_from_its_task_first_in_the_file() {
        assert_eq!(
            refusal(
                "[tasks.start]\nneeds = [\"y\"]\n[tasks.x]\nneeds = [\"z\"]\n\
                 [tasks.y]\nneeds = [\"x\"]\n[tasks.z]\nneeds = [\"y\"]\n"
            ),
            "graph.toml:3:8: tasks need each other in a cycle: x -> z -> y -> x (each needs the next)"
        );
    }

    #[test]
    fn a_duplicate_task_name_is_refused_on_one_line_with_its_position() {
        assert_eq!(
            refusal("[tasks.a]\ncmd = \"x\"\n[tasks.a]\ncmd = \"y\"\n"),
            "graph.toml:3:8: invalid TOML: duplicate key `a` (a task name may be used once)"
        );
    }

    #[test]
    fn a_task_defined_inline_and_as_a_table_is_refused_as_a_duplicate() {
        let message = refusal("[tasks]\na = { cmd = \"x\" }\n[tasks.a]\n");
        assert!(
            message.starts_with("graph.toml:3:8: invalid TOML: duplicate key `a`"),
            "{message}"
        );
    }

    #[test]
    fn an_empty_file_is_refused_as_having_no_tasks() {
        assert_eq!(
            refusal("# nothing yet\n"),
            "graph.toml:1:1: no tasks in the file; add one as [tasks.NAME]"
        );
    }

    #[test]
    fn an_empty_tasks_table_is_refused_as_having_no_tasks() {
        assert_eq!(
            refusal("\n[tasks]\n"),
            "graph.toml:2:2: no tasks in `tasks`; add one as [tasks.NAME]"
        );
    }

    #[test]
    fn invalid_toml_is_refused_on_one_line_with_its_position() {
        assert_eq!(
            refusal("[tasks.t]\ncmd = \"unclosed\n"),
            "graph.toml:2:16: invalid TOML: invalid basic string, expected `\"`"
        );
    }

    #[test]
    fn the_file_is_named_as_the_user_gave_it() {
        let message = parse(
            Path::new("../x/g.toml"),
            Path::new(CWD),
            "[tasks.t]\nnope = 1\n",
        )
        .expect_err("is refused");
        assert!(
            message.starts_with("../x/g.toml:2:1: unknown key `nope`"),
            "{message}"
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        assert_eq!(
            refusal("[tasks.\"é\"]\ntitle = \"ü\"\nx = 1\n"),
            "graph.toml:3:1: unknown key `x` in task `é`; valid keys: \
             title, cmd, cwd, env, timeout, retries, priority, assignee, body, needs"
        );
        assert_eq!(
            refusal("tasks.\"ü\".timeout = 0\n"),
            "graph.toml:1:21: `timeout` of task `ü` must be a whole number of seconds from 1 to 31622400 (a year), not 0"
        );
    }

    #[test]
    fn env_that_is_not_a_table_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nenv = [\"A=1\"]\n"),
            "graph.toml:2:7: `env` of task `t` must be a table of strings, \
             like env = { NAME = \"value\" }, not an array"
        );
    }

    #[test]
    fn an_empty_env_name_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nenv = { \"\" = \"1\" }\n"),
            "graph.toml:2:9: env name `` of task `t` must not be empty"
        );
    }

    #[test]
    fn an_env_name_holding_equals_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nenv = { \"A=B\" = \"1\" }\n"),
            "graph.toml:2:9: env name `A=B` of task `t` must not contain `=`"
        );
    }

    #[test]
    fn an_env_name_holding_nul_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nenv = { \"A\\u0000\" = \"1\" }\n"),
            "graph.toml:2:9: env name `A\\0` of task `t` must not contain NUL"
        );
    }

    #[test]
    fn an_env_value_that_is_no_string_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nenv = { PORT = 8080 }\n"),
            "graph.toml:2:16: env `PORT` of task `t` must be a string, not an integer"
        );
    }

    #[test]
    fn an_env_value_holding_nul_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nenv = { A = \"x\\u0000\" }\n"),
            "graph.toml:2:13: env `A` of task `t` must not contain NUL"
        );
    }

    #[test]
    fn nul_in_a_string_is_refused() {
        assert_eq!(
            refusal("[tasks.t]\nbody = \"a\\u0000b\"\n"),
            "graph.toml:2:8: `body` of task `t` must not contain NUL"
        );
    }

    #[test]
    fn nul_in_a_task_name_is_refused() {
        assert_eq!(
            refusal("[tasks.\"a\\u0000\"]\n"),
            "graph.toml:1:8: task name `a\\0` must not contain NUL"
        );
    }

    #[test]
    fn control_characters_in_names_are_escaped_to_keep_one_line() {
        assert_eq!(
            refusal("[tasks.\"a\\nb\"]\nx = 1\n"),
            "graph.toml:2:1: unknown key `x` in task `a\\nb`; valid keys: \
             title, cmd, cwd, env, timeout, retries, priority, assignee, body, needs"
        );
    }
}
