//! The board's keys: one table of commands, their default keys and what they do, from which
//! the key handling, the help overlay and the hint bar are all built, so none of them can drift
//! from what the keys do. A person may rebind any command in `keys.toml` in their config folder.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::action::Action;
use super::state::Pane;
use crate::pool::racer::RaceMode;

/// What the table says of one command: the action its keys send.
struct Entry {
    /// What the keys do.
    action: Action,
    /// Its name in `keys.toml`.
    name: &'static str,
    /// Its keys unless rebound.
    keys: &'static [&'static str],
    /// What it does, short enough for a help column at 80x24.
    help: &'static str,
    /// Its word in the hint bar.
    hint: &'static str,
    /// The panes whose hint bar names it; empty: only the help overlay does.
    hint_in: &'static [Pane],
}

const BOARD: &[Pane] = &[Pane::Board];
const EVERY: &[Pane] = &[Pane::Board, Pane::Log, Pane::Workers];
const LISTS: &[Pane] = &[Pane::Log, Pane::Workers];
const LOG: &[Pane] = &[Pane::Log];

/// The keymap's one table, in the order help lists it.
const TABLE: &[Entry] = &[
    Entry {
        action: Action::Left,
        name: "left",
        keys: &["h", "Left"],
        help: "column left",
        hint: "left",
        hint_in: &[],
    },
    Entry {
        action: Action::Right,
        name: "right",
        keys: &["l", "Right"],
        help: "column right",
        hint: "right",
        hint_in: &[],
    },
    Entry {
        action: Action::Up,
        name: "up",
        keys: &["k", "Up"],
        help: "row up",
        hint: "up",
        hint_in: &[],
    },
    Entry {
        action: Action::Down,
        name: "down",
        keys: &["j", "Down"],
        help: "row down",
        hint: "down",
        hint_in: &[],
    },
    Entry {
        action: Action::PageUp,
        name: "page_up",
        keys: &["PageUp"],
        help: "a page up",
        hint: "page up",
        hint_in: &[],
    },
    Entry {
        action: Action::PageDown,
        name: "page_down",
        keys: &["PageDown"],
        help: "a page down",
        hint: "page down",
        hint_in: &[],
    },
    Entry {
        action: Action::Top,
        name: "top",
        keys: &["g", "Home"],
        help: "first row",
        hint: "first",
        hint_in: &[],
    },
    Entry {
        action: Action::Bottom,
        name: "bottom",
        keys: &["G", "End"],
        help: "last row; events: follow",
        hint: "last/follow",
        hint_in: LISTS,
    },
    Entry {
        action: Action::NextPane,
        name: "next_pane",
        keys: &["Tab"],
        help: "board, events, workers",
        hint: "pane",
        hint_in: EVERY,
    },
    Entry {
        action: Action::Open,
        name: "open",
        keys: &["Enter"],
        help: "open the task",
        hint: "open",
        hint_in: EVERY,
    },
    Entry {
        action: Action::Back,
        name: "back",
        keys: &["Esc"],
        help: "close, clear filter",
        hint: "close",
        hint_in: &[],
    },
    Entry {
        action: Action::Unblock,
        name: "unblock",
        keys: &["u"],
        help: "unblock / unarchive",
        hint: "unblock",
        hint_in: BOARD,
    },
    Entry {
        action: Action::Block,
        name: "block",
        keys: &["b"],
        help: "block (asks why)",
        hint: "block",
        hint_in: BOARD,
    },
    Entry {
        action: Action::Complete,
        name: "complete",
        keys: &["c"],
        help: "complete (asks y/n)",
        hint: "complete",
        hint_in: BOARD,
    },
    Entry {
        action: Action::Archive,
        name: "archive",
        keys: &["a"],
        help: "archive (asks y/n)",
        hint: "archive",
        hint_in: BOARD,
    },
    Entry {
        action: Action::Cancel,
        name: "cancel",
        keys: &["x"],
        help: "cancel running (y/n)",
        hint: "cancel",
        hint_in: EVERY,
    },
    Entry {
        action: Action::New,
        name: "new",
        keys: &["n"],
        help: "new task",
        hint: "new",
        hint_in: BOARD,
    },
    Entry {
        action: Action::NewChild,
        name: "new_child",
        keys: &["N"],
        help: "new child of the task",
        hint: "new child",
        hint_in: &[],
    },
    Entry {
        action: Action::Link,
        name: "link",
        keys: &["L"],
        help: "link to a parent (picker)",
        hint: "link",
        hint_in: &[],
    },
    Entry {
        action: Action::Unlink,
        name: "unlink",
        keys: &["U"],
        help: "unlink from a parent",
        hint: "unlink",
        hint_in: &[],
    },
    Entry {
        action: Action::Command,
        name: "command",
        keys: &[":"],
        help: ":goto :block :unblock :q",
        hint: "command",
        hint_in: BOARD,
    },
    Entry {
        action: Action::Tree,
        name: "tree",
        keys: &["t"],
        help: "dependency tree",
        hint: "tree",
        hint_in: BOARD,
    },
    Entry {
        action: Action::ToggleFold,
        name: "fold",
        keys: &["Space"],
        help: "tree: fold a line",
        hint: "fold",
        hint_in: &[],
    },
    Entry {
        action: Action::ToggleRace(RaceMode::CreateThenLink),
        name: "race",
        keys: &["r"],
        help: "race demo on/off",
        hint: "race",
        hint_in: &[],
    },
    Entry {
        action: Action::ToggleRace(RaceMode::BuggyWriter),
        name: "buggy_race",
        keys: &["R"],
        help: "buggy race: gate fires",
        hint: "buggy race",
        hint_in: &[],
    },
    Entry {
        action: Action::TogglePause,
        name: "pause",
        keys: &["p"],
        help: "pause / resume pool",
        hint: "pause",
        hint_in: &[],
    },
    Entry {
        action: Action::MoreWorkers,
        name: "more_workers",
        keys: &["+", "="],
        help: "one more worker",
        hint: "more",
        hint_in: &[],
    },
    Entry {
        action: Action::FewerWorkers,
        name: "fewer_workers",
        keys: &["-"],
        help: "one worker fewer",
        hint: "fewer",
        hint_in: &[],
    },
    Entry {
        action: Action::Comment,
        name: "comment",
        keys: &["m"],
        help: "comment on the task",
        hint: "comment",
        hint_in: BOARD,
    },
    Entry {
        action: Action::CycleLogFilter,
        name: "log_filter",
        keys: &["f"],
        help: "events: kind filter",
        hint: "kind filter",
        hint_in: LOG,
    },
    Entry {
        action: Action::Filter,
        name: "filter",
        keys: &["/"],
        help: "filter cards",
        hint: "filter",
        hint_in: BOARD,
    },
    Entry {
        action: Action::ToggleOtherStatuses,
        name: "other_statuses",
        keys: &["o"],
        help: "more status columns",
        hint: "statuses",
        hint_in: &[],
    },
    Entry {
        action: Action::Help,
        name: "help",
        keys: &["?"],
        help: "this help",
        hint: "help",
        hint_in: EVERY,
    },
    Entry {
        action: Action::Quit,
        name: "quit",
        keys: &["q"],
        help: "quit (claims released)",
        hint: "quit",
        hint_in: EVERY,
    },
];

/// A key as `keys.toml` and help write it: a character (`u`, `L`, `+`) or a name (`Enter`,
/// `Esc`, `Tab`, `Space`, `Up`, `Down`, `Left`, `Right`, `Home`, `End`, `PageUp`,
/// `PageDown`, `Backspace`, `Delete`, `F1`…`F12`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key(KeyCode);

impl Key {
    /// The key `word` names, if it names one.
    pub fn parse(word: &str) -> Option<Key> {
        let mut chars = word.chars();
        if let (Some(c), None) = (chars.next(), chars.next()) {
            return (!c.is_control() && c != ' ').then_some(Key(KeyCode::Char(c)));
        }
        let code = match word {
            "Enter" => KeyCode::Enter,
            "Esc" => KeyCode::Esc,
            "Tab" => KeyCode::Tab,
            "Space" => KeyCode::Char(' '),
            "Up" => KeyCode::Up,
            "Down" => KeyCode::Down,
            "Left" => KeyCode::Left,
            "Right" => KeyCode::Right,
            "Home" => KeyCode::Home,
            "End" => KeyCode::End,
            "PageUp" => KeyCode::PageUp,
            "PageDown" => KeyCode::PageDown,
            "Backspace" => KeyCode::Backspace,
            "Delete" => KeyCode::Delete,
            f if f.starts_with('F') => {
                KeyCode::F(f[1..].parse().ok().filter(|n| (1..=12).contains(n))?)
            }
            _ => return None,
        };
        Some(Key(code))
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            KeyCode::Char(' ') => f.write_str("Space"),
            KeyCode::Char(c) => write!(f, "{c}"),
            KeyCode::Enter => f.write_str("Enter"),
            KeyCode::Esc => f.write_str("Esc"),
            KeyCode::Tab => f.write_str("Tab"),
            KeyCode::Up => f.write_str("↑"),
            KeyCode::Down => f.write_str("↓"),
            KeyCode::Left => f.write_str("←"),
            KeyCode::Right => f.write_str("→"),
            KeyCode::Home => f.write_str("Home"),
            KeyCode::End => f.write_str("End"),
            KeyCode::PageUp => f.write_str("PgUp"),
            KeyCode::PageDown => f.write_str("PgDn"),
            KeyCode::Backspace => f.write_str("Backspace"),
            KeyCode::Delete => f.write_str("Delete"),
            KeyCode::F(n) => write!(f, "F{n}"),
            _ => f.write_str("?"),
        }
    }
}

/// Which keys name which commands: each command's keys, in the table's order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keymap {
    keys: Vec<Vec<Key>>,
    lookup: HashMap<Key, usize>,
}

impl Default for Keymap {
    fn default() -> Keymap {
        Keymap::from_keys(
            TABLE
                .iter()
                .map(|e| e.keys.iter().filter_map(|k| Key::parse(k)).collect())
                .collect(),
        )
    }
}

/// Why a `keys.toml` was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeysFileError(pub String);

impl fmt::Display for KeysFileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for KeysFileError {}

impl Keymap {
    fn from_keys(keys: Vec<Vec<Key>>) -> Keymap {
        let lookup = keys
            .iter()
            .enumerate()
            .flat_map(|(at, keys)| keys.iter().map(move |k| (*k, at)))
            .collect();
        Keymap { keys, lookup }
    }

    /// What a key does, if it names a command; keys with Ctrl, Alt or the like name none.
    pub fn action(&self, key: &KeyEvent) -> Option<Action> {
        let plain = !key.modifiers.intersects(
            KeyModifiers::CONTROL
                | KeyModifiers::ALT
                | KeyModifiers::SUPER
                | KeyModifiers::HYPER
                | KeyModifiers::META,
        );
        if !plain {
            return None;
        }
        let at = *self.lookup.get(&Key(key.code))?;
        TABLE.get(at).map(|e| e.action.clone())
    }

    /// The hint word of the command that does `action`.
    pub fn hint_of(action: &Action) -> &'static str {
        TABLE
            .iter()
            .find(|e| e.action == *action)
            .map_or("", |e| e.hint)
    }

    /// The keys of the command that does `action`, as help writes them.
    pub fn keys_of(&self, action: &Action) -> String {
        TABLE
            .iter()
            .position(|e| e.action == *action)
            .map(|at| self.keys_at(at))
            .unwrap_or_default()
    }

    fn keys_at(&self, at: usize) -> String {
        self.keys
            .get(at)
            .map(|keys| {
                keys.iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(" ")
            })
            .unwrap_or_default()
    }

    /// Every command with its keys and what it does, in help's order.
    pub fn help(&self) -> Vec<(String, &'static str)> {
        TABLE
            .iter()
            .enumerate()
            .map(|(at, e)| (self.keys_at(at), e.help))
            .collect()
    }

    /// The commands the hint bar names for `pane`, with their keys and hint words.
    pub fn hints(&self, pane: Pane) -> Vec<(String, &'static str)> {
        TABLE
            .iter()
            .enumerate()
            .filter(|(_, e)| e.hint_in.contains(&pane))
            .map(|(at, e)| (self.keys_at(at), e.hint))
            .filter(|(keys, _)| !keys.is_empty())
            .collect()
    }

    /// The defaults with the rebinding in `text` (a `keys.toml`): `[keys]` maps a command's
    /// name to a key or a list of keys, which replace its defaults. A key bound twice, an
    /// unknown command or key, or anything else in the file is refused, naming it.
    pub fn with_file(text: &str, path: &Path) -> Result<Keymap, KeysFileError> {
        let refuse = |what: String| KeysFileError(format!("{}: {what}", path.display()));
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| refuse(e.message().to_owned()))?;
        let mut keys = Keymap::default().keys;
        for (section, value) in &table {
            if section != "keys" {
                return Err(refuse(format!(
                    "unknown table [{section}]; only [keys] is read"
                )));
            }
            let Some(rebound) = value.as_table() else {
                return Err(refuse("keys must be a table: [keys]".into()));
            };
            for (name, value) in rebound {
                let Some(at) = TABLE.iter().position(|e| e.name == name) else {
                    let names: Vec<&str> = TABLE.iter().map(|e| e.name).collect();
                    return Err(refuse(format!(
                        "no command {name}; the commands are {}",
                        names.join(", ")
                    )));
                };
                let words: Vec<&str> = match value {
                    toml::Value::String(word) => vec![word.as_str()],
                    toml::Value::Array(list) => list
                        .iter()
                        .map(|v| {
                            v.as_str().ok_or_else(|| {
                                refuse(format!("{name}: keys are strings, like \"u\" or \"Enter\""))
                            })
                        })
                        .collect::<Result<_, _>>()?,
                    _ => {
                        return Err(refuse(format!(
                            "{name}: a key is a string, like \"u\" or \"Enter\", or a list of them"
                        )));
                    }
                };
                let parsed = words
                    .iter()
                    .map(|w| Key::parse(w).ok_or_else(|| refuse(format!("{name}: no key {w:?}"))))
                    .collect::<Result<Vec<_>, _>>()?;
                if let Some(slot) = keys.get_mut(at) {
                    *slot = parsed;
                }
            }
        }
        let mut seen: HashMap<Key, usize> = HashMap::new();
        for (at, list) in keys.iter().enumerate() {
            for key in list {
                if let Some(other) = seen.insert(*key, at) {
                    let name = |at: usize| TABLE.get(at).map_or("?", |e| e.name);
                    return Err(refuse(format!(
                        "{key} is bound to both {} and {}",
                        name(other),
                        name(at)
                    )));
                }
            }
        }
        Ok(Keymap::from_keys(keys))
    }

    /// The keymap a person set up: `keys.toml` in their config folder if there is one, else
    /// the defaults.
    pub fn load() -> Result<Keymap, KeysFileError> {
        let Some(path) = keys_file() else {
            return Ok(Keymap::default());
        };
        match std::fs::read_to_string(&path) {
            Ok(text) => Keymap::with_file(&text, &path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Keymap::default()),
            Err(e) => Err(KeysFileError(format!("{}: {e}", path.display()))),
        }
    }
}

/// Where a person's key bindings live: `keys.toml` in gateboard's config folder
/// (`$XDG_CONFIG_HOME/gateboard/`, usually `~/.config/gateboard/`).
pub fn keys_file() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "gateboard").map(|d| d.config_dir().join("keys.toml"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn press(map: &Keymap, code: KeyCode) -> Option<Action> {
        map.action(&KeyEvent::new(code, KeyModifiers::NONE))
    }

    #[test]
    fn every_default_key_names_one_command() {
        let map = Keymap::default();
        let bound: usize = TABLE.iter().map(|e| e.keys.len()).sum();
        assert_eq!(
            map.lookup.len(),
            bound,
            "a default key is bound twice or does not parse"
        );
        assert_eq!(press(&map, KeyCode::Char('u')), Some(Action::Unblock));
        assert_eq!(press(&map, KeyCode::End), Some(Action::Bottom));
    }

    #[test]
    fn a_keys_file_rebinds_a_command_and_frees_its_old_key() {
        let map = Keymap::with_file(
            "[keys]\nunblock = [\"F3\", \"F5\"]\n",
            Path::new("keys.toml"),
        )
        .expect("valid");
        assert_eq!(press(&map, KeyCode::F(3)), Some(Action::Unblock));
        assert_eq!(press(&map, KeyCode::F(5)), Some(Action::Unblock));
        assert_eq!(press(&map, KeyCode::Char('u')), None);
        assert!(
            map.help()
                .iter()
                .any(|(keys, what)| keys == "F3 F5" && *what == "unblock / unarchive")
        );
    }

    #[test]
    fn a_keys_file_is_refused_with_a_line_naming_what_is_wrong() {
        let refuse = |text: &str| {
            Keymap::with_file(text, Path::new("/home/ana/.config/gateboard/keys.toml"))
                .expect_err("refused")
                .0
        };
        assert!(refuse("[keys]\nunblok = \"u\"\n").contains("no command unblok; the commands are"));
        assert!(refuse("[keys]\nblock = \"u\"\n").contains("u is bound to both unblock and block"));
        assert!(refuse("[keys]\nblock = \"Ctrl-b\"\n").contains("block: no key \"Ctrl-b\""));
        assert!(refuse("[keys]\nblock = 3\n").contains("block: a key is a string"));
        assert!(refuse("[colours]\n").contains("unknown table [colours]"));
        assert!(refuse("[keys\n").starts_with("/home/ana/.config/gateboard/keys.toml: "));
        for message in [refuse("[keys]\nblock = 3\n"), refuse("[keys\n")] {
            assert!(!message.contains('\n'), "one line: {message}");
        }
    }

    #[test]
    fn help_and_hints_come_from_the_table() {
        let map = Keymap::default();
        assert_eq!(map.help().len(), TABLE.len());
        assert!(
            map.help().iter().any(|(keys, _)| keys == "PgUp"),
            "PageUp is listed"
        );
        let board: Vec<String> = map.hints(Pane::Board).into_iter().map(|(k, _)| k).collect();
        assert!(board.contains(&"t".to_owned()) && board.contains(&"x".to_owned()));
        let workers = map.hints(Pane::Workers);
        assert!(
            workers.contains(&("x".to_owned(), "cancel")),
            "x cancels a worker's task: {workers:?}"
        );
    }
}
