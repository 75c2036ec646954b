//! The yardstick for speed: a bare loop of committed single-row updates under the board's own
//! PRAGMAs. Its rate is the disk's durable-commit ceiling that gateboard's numbers are read against.

use std::path::Path;
use std::time::{Duration, Instant};

use rusqlite::params;

use super::{Board, OpenOptions, Result};

/// Runs `commits` single-row UPDATE transactions on a fresh board file at `path` and returns
/// how long they took. The file gets one scratch table, so use a file of its own.
pub fn bare_commits(path: &Path, commits: usize, options: &OpenOptions) -> Result<Duration> {
    let mut board = Board::open(
        path,
        &OpenOptions {
            create: true,
            ..options.clone()
        },
    )?;
    board.write(|txn| {
        txn.conn().execute_batch(
            "CREATE TABLE IF NOT EXISTS baseline_counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL); \
             INSERT OR IGNORE INTO baseline_counter (id, n) VALUES (1, 0);",
        )?;
        Ok(())
    })?;
    let start = Instant::now();
    for i in 0..commits {
        board.write(|txn| {
            txn.conn()
                .prepare_cached("UPDATE baseline_counter SET n = ?1 WHERE id = 1")?
                .execute(params![i as i64])?;
            Ok(())
        })?;
    }
    Ok(start.elapsed())
}
