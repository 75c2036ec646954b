//! Shared set-up for integration tests: fresh boards in temporary folders.
#![allow(dead_code)] // each test binary uses its own subset

pub mod cards;
pub mod cli_run;
pub mod tmux;

use std::path::{Path, PathBuf};

use gateboard::core::{Board, Durability, OpenOptions};
use tempfile::TempDir;

/// A temporary folder holding one board file, removed when dropped.
pub struct TempBoard {
    pub dir: TempDir,
    pub path: PathBuf,
}

impl TempBoard {
    /// Creates a fresh gateboard-made board.
    pub fn new() -> TempBoard {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("board.db");
        Board::open(&path, &create()).expect("create board");
        TempBoard { dir, path }
    }

    /// Another connection to the same file.
    pub fn open(&self) -> Board {
        open(&self.path)
    }
}

/// Options that create the file if needed.
pub fn create() -> OpenOptions {
    OpenOptions {
        create: true,
        ..OpenOptions::default()
    }
}

/// A connection with relaxed fsync, for tests whose subject is not durability.
pub fn open_fast(path: &Path) -> Board {
    Board::open(
        path,
        &OpenOptions {
            durability: Durability::Normal,
            ..OpenOptions::default()
        },
    )
    .expect("open board")
}

/// A connection with default options.
pub fn open(path: &Path) -> Board {
    Board::open(path, &OpenOptions::default()).expect("open board")
}
