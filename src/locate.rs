//! Where a board file lives when the user does not say.

use std::path::PathBuf;

/// The environment variable that names the board file.
pub const DB_ENV: &str = "GATEBOARD_DB";

/// The per-user default board: `$XDG_DATA_HOME/gateboard/board.db` (or the platform's equivalent).
pub fn default_board() -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "gateboard").map(|dirs| dirs.data_dir().join("board.db"))
}
