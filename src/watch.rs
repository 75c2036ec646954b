//! Wakes a follower when another process commits to a board.
//!
//! inotify (through notify) watches the board's folder and holds no descriptor of the board
//! file itself, so SQLite's POSIX locks are never dropped by watching.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::mpsc;

use notify::{RecommendedWatcher, RecursiveMode, Watcher};

/// A live watch on one board file, its `-wal` and its `-shm`; dropping it stops watching.
pub struct BoardWatch {
    _watcher: RecommendedWatcher,
}

impl BoardWatch {
    /// Calls `on_change` (from notify's thread) whenever the board or its WAL changes.
    pub fn start(
        board: &Path,
        on_change: impl Fn() + Send + 'static,
    ) -> notify::Result<BoardWatch> {
        let folder = board
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        let name: OsString = board.file_name().map(OsString::from).unwrap_or_default();
        let mut watcher =
            notify::recommended_watcher(move |res: notify::Result<notify::Event>| {
                if let Ok(event) = res
                    && event.paths.iter().any(|p| touches(p, &name))
                {
                    on_change();
                }
            })?;
        watcher.watch(&folder, RecursiveMode::NonRecursive)?;
        Ok(BoardWatch { _watcher: watcher })
    }

    /// A watch that sends `()` on a channel, for followers that block on a receiver.
    pub fn channel(board: &Path) -> notify::Result<(BoardWatch, mpsc::Receiver<()>)> {
        let (tx, rx) = mpsc::channel();
        let watch = BoardWatch::start(board, move || {
            let _ = tx.send(());
        })?;
        Ok((watch, rx))
    }
}

/// Whether a changed path is the board, its `-wal` or its `-shm`.
fn touches(changed: &Path, board_name: &OsString) -> bool {
    let Some(changed) = changed.file_name() else {
        return false;
    };
    let changed = changed.as_encoded_bytes();
    let board = board_name.as_encoded_bytes();
    changed == board
        || [b"-wal".as_slice(), b"-shm".as_slice()]
            .iter()
            .any(|suffix| {
                changed.len() == board.len() + 4
                    && changed.starts_with(board)
                    && changed.ends_with(suffix)
            })
}
