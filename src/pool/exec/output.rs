//! Where a run's output goes and what a person reads of it: one log file per run, in a folder
//! beside the board (never inside the board file, which only SQLite may open).

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use crate::core::attempt::{ERROR_CHARS, bounded};

/// How much of a log's end is read for its last line.
const TAIL_BYTES: u64 = 8 * 1024;

/// The folder of a board's logs: `<board file>.logs/`.
pub fn logs_folder(board: &Path) -> PathBuf {
    let mut name = board
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".logs");
    board.with_file_name(name)
}

/// The log of one run: `<board>.logs/<task>/<run>.log`.
pub fn log_path(board: &Path, task: &str, run: i64) -> PathBuf {
    crate::core::attempt::log_path(&logs_folder(board), task, run)
}

/// The last non-blank line of a log, bounded and read leniently (output may be any bytes).
pub fn last_line(log: &Path) -> io::Result<Option<String>> {
    let tail = tail_bytes(log, TAIL_BYTES)?;
    let text = String::from_utf8_lossy(&tail);
    Ok(text
        .lines()
        .rev()
        .map(str::trim)
        .find(|line| !line.is_empty())
        .map(|line| bounded(line, ERROR_CHARS)))
}

/// The last `n` lines of a log, escaped for a terminal (output may hold any bytes).
pub fn tail_lines(log: &Path, n: usize) -> io::Result<Vec<String>> {
    let tail = tail_bytes(log, TAIL_BYTES)?;
    let text = String::from_utf8_lossy(&tail);
    let lines: Vec<&str> = text.lines().collect();
    let skip = lines.len().saturating_sub(n);
    Ok(lines[skip..]
        .iter()
        .map(|l| crate::terminal_text::escape(l).into_owned())
        .collect())
}

/// The last `n` bytes of a file (all of it when shorter).
pub fn tail_bytes(path: &Path, n: u64) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let len = file.metadata()?.len();
    file.seek(SeekFrom::Start(len.saturating_sub(n)))?;
    let mut bytes = Vec::new();
    file.take(n).read_to_end(&mut bytes)?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logs_live_in_a_folder_beside_the_board() {
        let board = Path::new("/data/boards/work.db");
        assert_eq!(logs_folder(board), Path::new("/data/boards/work.db.logs"));
        assert_eq!(
            log_path(board, "t_0000abcd", 7),
            Path::new("/data/boards/work.db.logs/t_0000abcd/7.log")
        );
    }

    #[test]
    fn the_last_line_skips_trailing_blank_lines_and_survives_invalid_utf8() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("1.log");
        std::fs::write(&log, b"first\n\xff\xfe broken\n  \n").unwrap();
        assert_eq!(
            last_line(&log).unwrap().as_deref(),
            Some("\u{fffd}\u{fffd} broken")
        );
    }
}
