//! Where a board file lives when the user does not name it: gateboard's own default, or a
//! Hermes Agent board found by Hermes's own conventions.

use std::path::{Path, PathBuf};

/// The environment variable that names the board file.
pub const DB_ENV: &str = "GATEBOARD_DB";

/// The per-user default board: `$XDG_DATA_HOME/gateboard/board.db` (or the platform's equivalent).
pub fn default_board() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "gateboard").map(|dirs| dirs.data_dir().join("board.db"))
}

/// Why a Hermes board could not be found.
#[derive(Debug, thiserror::Error)]
pub enum HermesError {
    /// No home folder and no HERMES_* variable to start from.
    #[error("cannot find the Hermes root: set HERMES_HOME or HERMES_KANBAN_HOME")]
    NoRoot,
    /// The slug breaks Hermes's naming rule.
    #[error(
        "{0:?} is not a Hermes board name (1-64 of a-z, 0-9, - and _, not starting with - or _)"
    )]
    BadSlug(String),
    /// The named board does not exist under the root.
    #[error("no Hermes board named {slug} under {} (boards there: {known})", root.display())]
    NoSuchBoard {
        /// The name asked for.
        slug: String,
        /// The Hermes root searched.
        root: PathBuf,
        /// The boards that do exist.
        known: String,
    },
}

/// Hermes's default board name; its file is `<root>/kanban.db`, not under `kanban/boards/`.
pub const HERMES_DEFAULT_BOARD: &str = "default";

/// The environment a Hermes board is found from (a seam so tests need not touch the process env).
pub trait Env {
    /// A variable's value, if set and not blank.
    fn var(&self, name: &str) -> Option<String>;
    /// The user's home folder.
    fn home(&self) -> Option<PathBuf>;
}

/// The real process environment.
pub struct ProcessEnv;

impl Env for ProcessEnv {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok().filter(|v| !v.trim().is_empty())
    }
    fn home(&self) -> Option<PathBuf> {
        directories::BaseDirs::new().map(|d| d.home_dir().to_path_buf())
    }
}

fn expand(path: &str, env: &dyn Env) -> PathBuf {
    match (path.strip_prefix("~/"), env.home()) {
        (Some(rest), Some(home)) => home.join(rest),
        _ if path == "~" => env.home().unwrap_or_else(|| PathBuf::from(path)),
        _ => PathBuf::from(path),
    }
}

/// The Hermes root: `HERMES_KANBAN_HOME`, else the root `HERMES_HOME` implies (a profile folder
/// `<root>/profiles/<name>` means `<root>`; anything under `~/.hermes` means `~/.hermes`), else
/// `~/.hermes`.
pub fn hermes_root(env: &dyn Env) -> Result<PathBuf, HermesError> {
    if let Some(root) = env.var("HERMES_KANBAN_HOME") {
        return Ok(expand(root.trim(), env));
    }
    let native = env.home().map(|h| h.join(".hermes"));
    let Some(hermes_home) = env.var("HERMES_HOME") else {
        return native.ok_or(HermesError::NoRoot);
    };
    let hermes_home = expand(hermes_home.trim(), env);
    if let Some(native) = native
        && hermes_home.starts_with(&native)
    {
        return Ok(native);
    }
    match hermes_home.parent() {
        Some(parent) if parent.file_name().is_some_and(|n| n == "profiles") => Ok(parent
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or(hermes_home.clone())),
        _ => Ok(hermes_home),
    }
}

fn valid_slug(slug: &str) -> bool {
    let mut chars = slug.chars();
    slug.len() <= 64
        && chars
            .next()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// Where Hermes keeps its named boards (and the default board's metadata).
fn boards_root(root: &Path) -> PathBuf {
    root.join("kanban").join("boards")
}

fn board_file(root: &Path, slug: &str) -> PathBuf {
    if slug == HERMES_DEFAULT_BOARD {
        root.join("kanban.db")
    } else {
        boards_root(root).join(slug).join("kanban.db")
    }
}

fn board_exists(root: &Path, slug: &str) -> bool {
    let dir = boards_root(root).join(slug);
    slug == HERMES_DEFAULT_BOARD
        || std::fs::metadata(dir.join("board.json")).is_ok()
        || std::fs::metadata(dir.join("kanban.db")).is_ok()
}

/// The file of a Hermes board, resolved as Hermes resolves it: `HERMES_KANBAN_DB` pins the
/// file; else the named board, else `HERMES_KANBAN_BOARD`, else the slug in `kanban/current`
/// (when that board exists), else `default`.
pub fn hermes_board(board: Option<&str>, env: &dyn Env) -> Result<PathBuf, HermesError> {
    if let Some(pinned) = env.var("HERMES_KANBAN_DB") {
        return Ok(expand(pinned.trim(), env));
    }
    let root = hermes_root(env)?;
    if let Some(asked) = board {
        let slug = asked.trim().to_lowercase();
        if !valid_slug(&slug) {
            return Err(HermesError::BadSlug(asked.to_owned()));
        }
        if !board_exists(&root, &slug) {
            return Err(HermesError::NoSuchBoard {
                known: match known_boards(&root) {
                    known if known.is_empty() => "none yet".to_owned(),
                    known => known.join(", "),
                },
                slug,
                root,
            });
        }
        return Ok(board_file(&root, &slug));
    }
    let pointer = std::fs::read_to_string(root.join("kanban").join("current")).ok();
    let slug = [env.var("HERMES_KANBAN_BOARD"), pointer]
        .into_iter()
        .flatten()
        .map(|s| s.trim().to_lowercase())
        .find(|s| valid_slug(s) && board_exists(&root, s))
        .unwrap_or_else(|| HERMES_DEFAULT_BOARD.to_owned());
    Ok(board_file(&root, &slug))
}

/// The boards under a Hermes root, `default` first when its file is there.
pub fn known_boards(root: &Path) -> Vec<String> {
    let mut named: Vec<String> = std::fs::read_dir(boards_root(root))
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.file_name().into_string().ok())
                .filter(|slug| {
                    valid_slug(slug) && slug != HERMES_DEFAULT_BOARD && board_exists(root, slug)
                })
                .collect()
        })
        .unwrap_or_default();
    named.sort();
    if std::fs::metadata(board_file(root, HERMES_DEFAULT_BOARD)).is_ok() {
        named.insert(0, HERMES_DEFAULT_BOARD.to_owned());
    }
    named
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    struct FakeEnv {
        vars: HashMap<&'static str, String>,
        home: PathBuf,
    }

    impl Env for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn home(&self) -> Option<PathBuf> {
            Some(self.home.clone())
        }
    }

    fn env(home: &Path, vars: &[(&'static str, String)]) -> FakeEnv {
        FakeEnv {
            vars: vars.iter().cloned().collect(),
            home: home.to_path_buf(),
        }
    }

    #[test]
    fn default_board_lives_at_the_root_of_dot_hermes() {
        let home = tempfile::tempdir().expect("dir");
        let found = hermes_board(None, &env(home.path(), &[])).expect("board");
        assert_eq!(found, home.path().join(".hermes/kanban.db"));
    }

    #[test]
    fn hermes_kanban_db_pins_the_file() {
        let home = tempfile::tempdir().expect("dir");
        let e = env(home.path(), &[("HERMES_KANBAN_DB", "~/x/board.db".into())]);
        assert_eq!(
            hermes_board(Some("ignored"), &e).expect("board"),
            home.path().join("x/board.db")
        );
    }

    #[test]
    fn a_profile_home_means_its_grandparent_root() {
        let home = tempfile::tempdir().expect("dir");
        let e = env(
            home.path(),
            &[("HERMES_HOME", "/opt/data/profiles/coder".into())],
        );
        assert_eq!(hermes_root(&e).expect("root"), PathBuf::from("/opt/data"));
        let e = env(home.path(), &[("HERMES_HOME", "/opt/data".into())]);
        assert_eq!(hermes_root(&e).expect("root"), PathBuf::from("/opt/data"));
        let e = env(home.path(), &[("HERMES_KANBAN_HOME", "/srv/kanban".into())]);
        assert_eq!(hermes_root(&e).expect("root"), PathBuf::from("/srv/kanban"));
    }

    #[test]
    fn named_boards_and_the_current_pointer() {
        let root = tempfile::tempdir().expect("dir");
        let e = env(
            root.path(),
            &[("HERMES_KANBAN_HOME", root.path().display().to_string())],
        );
        let boards = root.path().join("kanban/boards");
        std::fs::create_dir_all(boards.join("cookai")).expect("mkdir");
        std::fs::write(boards.join("cookai/board.json"), "{}").expect("write");
        assert_eq!(
            hermes_board(Some("cookai"), &e).expect("board"),
            boards.join("cookai/kanban.db")
        );
        assert!(matches!(
            hermes_board(Some("nope"), &e),
            Err(HermesError::NoSuchBoard { .. })
        ));
        assert!(matches!(
            hermes_board(Some("../x"), &e),
            Err(HermesError::BadSlug(_))
        ));
        std::fs::write(root.path().join("kanban/current"), "cookai\n").expect("write");
        assert_eq!(
            hermes_board(None, &e).expect("board"),
            boards.join("cookai/kanban.db")
        );
        std::fs::write(root.path().join("kanban/current"), "gone\n").expect("write");
        assert_eq!(
            hermes_board(None, &e).expect("board"),
            root.path().join("kanban.db")
        );
        assert_eq!(
            known_boards(root.path()),
            ["cookai"],
            "no default board file, so none is listed"
        );
        std::fs::write(root.path().join("kanban.db"), "").expect("a default board");
        assert_eq!(known_boards(root.path()), ["default", "cookai"]);
    }
}
