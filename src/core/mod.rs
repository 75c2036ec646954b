//! The board store: the only door to SQL. Everything else in gateboard calls through here.

pub mod attempt;
pub mod audit;
pub mod baseline;
mod candidate;
pub mod error;
pub mod gate;
mod held;
pub mod history;
pub mod import;
pub mod interrupt;
pub mod lineage;
pub mod model;
pub mod ops;
pub mod query;
pub mod schema;
pub mod task_ids;

use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags};

pub use error::{BoardError, Result};
pub use model::{Event, EventKind, NewTask, Run, Status, Task, TaskDetail};
pub use ops::Txn;
pub use query::{Keyed, Needle, Reader};
pub use schema::Origin;

/// How hard a commit tries to survive power loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Durability {
    /// `synchronous=FULL`: a committed claim survives power loss. Hermes's setting, and ours.
    #[default]
    Full,
    /// `synchronous=NORMAL`: survives a crash of the process but not of the machine.
    Normal,
}

/// How long a board waits for another writer unless told otherwise (`--lock-timeout`).
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(120);

/// The longest `lock_timeout` a board accepts: SQLite keeps its busy timeout as an `i32` of
/// milliseconds (about 24.8 days), and a longer wait would not fit.
pub const MAX_LOCK_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

/// How to open a board file.
#[derive(Clone, Debug)]
pub struct OpenOptions {
    /// Create the file (and run the first migration) when it does not exist.
    pub create: bool,
    /// How long to wait for another writer before giving up with `Locked`; at most
    /// [`MAX_LOCK_TIMEOUT`].
    pub lock_timeout: Duration,
    /// The fsync policy of commits.
    pub durability: Durability,
}

impl Default for OpenOptions {
    fn default() -> Self {
        OpenOptions {
            create: false,
            lock_timeout: DEFAULT_LOCK_TIMEOUT,
            durability: Durability::Full,
        }
    }
}

/// How often a rollback is tried again when an interrupt stops the ROLLBACK statement itself.
const ROLLBACK_TRIES: usize = 100;

/// One connection to one board file.
pub struct Board {
    conn: Connection,
    path: PathBuf,
    lock_timeout: Duration,
    /// The schema version the trigger setting was chosen for (see `choose_triggers`).
    triggers_chosen_for: Option<i64>,
}

impl Board {
    /// Opens (or with `create`, makes) a board, upgrading its schema in place.
    pub fn open(path: impl AsRef<Path>, options: &OpenOptions) -> Result<Board> {
        let path = path.as_ref().to_path_buf();
        // Before anything touches the file: SQLite cannot wait longer, and would panic if asked.
        if options.lock_timeout > MAX_LOCK_TIMEOUT {
            return Err(BoardError::Invalid(format!(
                "a lock timeout of {}s is longer than SQLite can wait (at most {}s)",
                options.lock_timeout.as_secs(),
                MAX_LOCK_TIMEOUT.as_secs()
            )));
        }
        // Metadata only: opening the file itself outside SQLite would drop SQLite's locks later.
        match std::fs::metadata(&path) {
            Ok(meta) if meta.is_dir() => return Err(BoardError::IsDirectory(path)),
            // SQLite would open a device or FIFO, fail with an I/O error, and leave a journal
            // beside it; a board is a regular file.
            Ok(meta) if !meta.is_file() => return Err(BoardError::NotAFile(path)),
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if !options.create {
                    return Err(BoardError::Missing(path));
                }
            }
            Err(source) => return Err(BoardError::Io { path, source }),
        }
        let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
            | OpenFlags::SQLITE_OPEN_URI;
        if options.create {
            flags |= OpenFlags::SQLITE_OPEN_CREATE;
        }
        let conn = Connection::open_with_flags(&path, flags).map_err(|e| open_error(&path, e))?;
        let mut board = Board {
            conn,
            path,
            lock_timeout: options.lock_timeout,
            triggers_chosen_for: None,
        };
        board.conn.busy_timeout(board.lock_timeout)?;
        // Look before touching: switching to WAL rewrites the header, and a refused file must
        // be left exactly as it was.
        let shape = schema::inspect(&board.conn).map_err(|e| board.explain(e))?;
        refuse_foreign(&board.conn, &board.path, &shape).map_err(|e| board.explain(e))?;
        // An empty file (0 bytes, or SQLite with nothing in it) is no board yet: only a verb
        // that creates boards may make it one.
        if !options.create && !shape.has_tasks && !shape.other_objects {
            return Err(BoardError::Missing(board.path));
        }
        board.configure(options).map_err(|e| board.explain(e))?;
        board.upgrade(&shape).map_err(|e| board.explain(e))?;
        Ok(board)
    }

    fn configure(&self, options: &OpenOptions) -> Result<()> {
        self.conn.set_prepared_statement_cache_capacity(64);
        // Without the query planner stability guarantee, SQLite marks a statement whose plan
        // could depend on a bound value as stale at every bind and compiles it again at its next
        // step: measured, that was a quarter of the pool's CPU. A board carries no ANALYZE
        // statistics, so the plan never depends on the values anyway.
        self.conn
            .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        let mode: String = self
            .conn
            .query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
        if !mode.eq_ignore_ascii_case("wal") {
            return Err(BoardError::NotABoard {
                path: self.path.clone(),
                reason: format!("SQLite could not switch it to WAL (journal mode is {mode})"),
            });
        }
        let sync = match options.durability {
            Durability::Full => "FULL",
            Durability::Normal => "NORMAL",
        };
        self.conn.pragma_update(None, "synchronous", sync)?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        self.conn.pragma_update(None, "wal_autocheckpoint", 8000)?;
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        query::register_contains(&self.conn)?;
        Ok(())
    }

    /// Brings the schema to `LATEST_VERSION`, taking the write lock only when the file, as
    /// `seen` when it was opened, needs work.
    fn upgrade(&mut self, seen: &schema::FileShape) -> Result<()> {
        if seen.version == schema::LATEST_VERSION {
            return Ok(());
        }
        let path = self.path.clone();
        self.write(|txn| {
            // Re-read under the lock: another process may have changed the file meanwhile.
            let shape = schema::inspect(txn.conn())?;
            if shape.version == schema::LATEST_VERSION {
                return Ok(());
            }
            refuse_foreign(txn.conn(), &path, &shape)?;
            schema::migrate(txn.conn(), shape.version, !shape.has_tasks)
        })
    }

    /// Turns SQLite's words for a foreign file into ours.
    fn explain(&self, e: BoardError) -> BoardError {
        match e {
            BoardError::Sqlite(ref inner) => {
                if inner.sqlite_error_code() == Some(rusqlite::ErrorCode::NotADatabase) {
                    BoardError::NotABoard {
                        path: self.path.clone(),
                        reason: "it is not an SQLite database".into(),
                    }
                } else if error::sqlite_busy(inner) {
                    BoardError::Locked {
                        path: self.path.clone(),
                        waited: self.lock_timeout,
                    }
                } else {
                    e
                }
            }
            other => other,
        }
    }

    /// The file this board lives in.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// A number that changes whenever another connection (another process, or another board
    /// of this one) commits to the file, and never for this connection's own commits: a
    /// sweep for what other writers may have left needs to run only when it moved.
    pub fn others_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("PRAGMA data_version")?
            .query_row([], |r| r.get(0))?)
    }

    /// Rows this connection has changed since it opened: a write that leaves it unchanged
    /// wrote nothing, and SQLite commits nothing for it.
    pub fn total_changes(&self) -> u64 {
        self.conn.total_changes()
    }

    /// Who created the file.
    pub fn origin(&self) -> Result<Origin> {
        schema::origin(&self.conn)
    }

    /// Whether SQLite itself enforces the invariant on this file (the guard triggers).
    pub fn is_hardened(&self) -> Result<bool> {
        schema::has_guards(&self.conn)
    }

    /// Installs the guard triggers on a file another program created; returns whether any were missing.
    pub fn harden(&mut self) -> Result<bool> {
        self.write(|txn| {
            let had = schema::has_guards(txn.conn())?;
            schema::install_guards(txn.conn())?;
            Ok(!had)
        })
    }

    /// Runs `f` as one `BEGIN IMMEDIATE` transaction: all of it commits, or none of it.
    pub fn write<T>(&mut self, f: impl FnOnce(&Txn<'_>) -> Result<T>) -> Result<T> {
        self.write_clocked(now_epoch_ms, f)
    }

    /// `write`, with the transaction's clock set to `now` (epoch seconds): for expiry and replay.
    pub fn write_at<T>(&mut self, now: i64, f: impl FnOnce(&Txn<'_>) -> Result<T>) -> Result<T> {
        self.write_clocked(|| now.saturating_mul(1000), f)
    }

    /// Reads the clock only once the write lock is held. Transactions commit one at a time, so
    /// their timestamps then follow commit order across processes: a clock read before waiting
    /// for the lock could stamp a child's claim earlier than the parent completion it waited for.
    fn write_clocked<T>(
        &mut self,
        clock_ms: impl FnOnce() -> i64,
        f: impl FnOnce(&Txn<'_>) -> Result<T>,
    ) -> Result<T> {
        // A deadline past what the clock can count means waiting as long as it takes.
        let deadline = Instant::now().checked_add(self.lock_timeout);
        self.retry_busy("BEGIN IMMEDIATE", deadline)?;
        if let Err(e) = self.choose_triggers() {
            self.rollback();
            return Err(e);
        }
        let txn = Txn::new(&self.conn, clock_ms());
        let value = match f(&txn).and_then(|value| txn.settle_promotions().map(|()| value)) {
            Ok(value) => value,
            Err(e) => {
                self.rollback();
                return Err(classify(e));
            }
        };
        if let Err(e) = self.retry_busy("COMMIT", deadline) {
            self.rollback();
            return Err(e);
        }
        Ok(value)
    }

    /// Runs `f` on one consistent snapshot of the board.
    pub fn read<T>(&self, f: impl FnOnce(&Reader<'_>) -> Result<T>) -> Result<T> {
        if !self.conn.is_autocommit() {
            // An earlier read's rollback was itself stopped every time it was tried (another
            // thread interrupting without pause): finished now, or this read is stopped too,
            // rather than refused for being inside a transaction.
            self.rollback();
            if !self.conn.is_autocommit() {
                return Err(rusqlite::Error::SqliteFailure(
                    rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_INTERRUPT),
                    Some("interrupted before it began".into()),
                )
                .into());
            }
        }
        if let Err(e) = self.conn.execute_batch("BEGIN DEFERRED") {
            // Stopped by an interrupt, BEGIN may have opened the transaction all the same.
            self.rollback();
            return Err(e.into());
        }
        let out = f(&Reader::new(&self.conn));
        if out.is_ok()
            && let Err(e) = self.conn.execute_batch("COMMIT")
        {
            // An interrupt that lands on the COMMIT itself fails it with the transaction still
            // open: rolled back here, or every later read on this connection would be refused.
            self.rollback();
            return Err(e.into());
        }
        if out.is_err() {
            self.rollback();
        }
        out
    }

    /// Lets SQLite skip triggers on this connection while the only ones on the board are
    /// gateboard's guards, and fire them all as soon as another program adds one of its own.
    /// The guards refuse what gateboard's own checks refuse before they write, so skipping
    /// them changes nothing, while their mere presence made every update of a task's status
    /// copy its pages into a statement journal: a quarter of the pool's instructions (measured
    /// with callgrind). Other programs' connections fire the guards as always. Asked once per
    /// schema version, inside the write, so a trigger created a moment ago is seen.
    fn choose_triggers(&mut self) -> Result<()> {
        let version: i64 = self
            .conn
            .prepare_cached("PRAGMA schema_version")?
            .query_row([], |r| r.get(0))?;
        if self.triggers_chosen_for != Some(version) {
            let foreign = schema::has_foreign_triggers(&self.conn)?;
            self.conn
                .set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER, foreign)?;
            self.triggers_chosen_for = Some(version);
        }
        Ok(())
    }

    /// Retries a BEGIN or COMMIT while SQLite says busy, until the deadline.
    fn retry_busy(&self, sql: &str, deadline: Option<Instant>) -> Result<()> {
        let mut pause = Duration::from_millis(1);
        loop {
            match self
                .conn
                .prepare_cached(sql)
                .and_then(|mut s| s.execute([]))
            {
                Ok(_) => return Ok(()),
                Err(e) if error::sqlite_busy(&e) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Err(BoardError::Locked {
                            path: self.path.clone(),
                            waited: self.lock_timeout,
                        });
                    }
                    thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(e) => return Err(e.into()),
            }
        }
    }

    fn rollback(&self) {
        // A ROLLBACK that fails has rolled back already, unless another thread's interrupt
        // stopped the ROLLBACK statement itself: then it is run again.
        for _ in 0..ROLLBACK_TRIES {
            if self.conn.is_autocommit() {
                return;
            }
            let _ = self.conn.execute_batch("ROLLBACK");
        }
    }
}

/// Refuses a file gateboard must not change: another program's SQLite database, a tasks
/// table too unlike the board format to complete, or a schema newer than this build.
fn refuse_foreign(conn: &Connection, path: &Path, shape: &schema::FileShape) -> Result<()> {
    if shape.version > schema::LATEST_VERSION {
        return Err(BoardError::TooNew {
            path: path.to_path_buf(),
            found: shape.version,
            known: schema::LATEST_VERSION,
        });
    }
    if !shape.has_tasks && shape.other_objects {
        return Err(BoardError::NotABoard {
            path: path.to_path_buf(),
            reason: "it is an SQLite database without a tasks table".into(),
        });
    }
    if shape.has_tasks {
        let missing = schema::missing_required_columns(conn)?;
        if !missing.is_empty() {
            return Err(BoardError::NotABoard {
                path: path.to_path_buf(),
                reason: format!("its tasks table lacks {}", missing.join(", ")),
            });
        }
    }
    Ok(())
}

/// Names a guard trigger's refusal as such, so a person sees the rule, not an SQLite code.
fn classify(e: BoardError) -> BoardError {
    if let BoardError::Sqlite(rusqlite::Error::SqliteFailure(code, Some(msg))) = &e
        && code.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_TRIGGER
    {
        return BoardError::RuleViolation(msg.clone());
    }
    e
}

fn open_error(path: &Path, e: rusqlite::Error) -> BoardError {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::CannotOpen) => BoardError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::other("SQLite cannot open the file (does its folder exist?)"),
        },
        _ => BoardError::Sqlite(e),
    }
}

/// Epoch seconds, the board format's unit of time.
pub fn now_epoch() -> i64 {
    now_epoch_ms().div_euclid(1000)
}

/// Epoch milliseconds: the clock of retry backoffs, which are shorter than a second in tests.
pub fn now_epoch_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// A fresh board in a temporary folder (kept as long as the folder is), for unit tests.
#[cfg(test)]
pub(crate) fn scratch_board() -> (tempfile::TempDir, Board) {
    let dir = tempfile::tempdir().expect("temp dir");
    let board = Board::open(
        dir.path().join("board.db"),
        &OpenOptions {
            create: true,
            ..OpenOptions::default()
        },
    )
    .expect("board");
    (dir, board)
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    /// Whether another connection could take the write lock right now.
    fn lock_is_free(path: &Path) -> bool {
        let other = Connection::open(path).expect("a second connection");
        other.busy_timeout(Duration::ZERO).expect("no waiting");
        match other.execute_batch("BEGIN IMMEDIATE") {
            Ok(()) => {
                other.execute_batch("ROLLBACK").expect("give it back");
                true
            }
            Err(e) if error::sqlite_busy(&e) => false,
            Err(e) => panic!("BEGIN IMMEDIATE failed otherwise: {e}"),
        }
    }

    #[test]
    fn a_read_finds_its_connection_left_inside_a_transaction_and_rolls_it_back() {
        // What an earlier read leaves when every try of its rollback was interrupted.
        let (_dir, board) = scratch_board();
        board.conn.execute_batch("BEGIN").expect("begin");
        assert!(!board.conn.is_autocommit());
        let read = board.read(|r| r.column_len(&Status::Done, &Needle::ALL));
        assert_eq!(read.expect("the read goes on"), 0);
        assert!(board.conn.is_autocommit(), "and leaves no transaction open");
    }

    #[test]
    fn a_write_reads_its_clock_after_it_wins_the_lock() {
        let (_dir, mut board) = scratch_board();
        let path = board.path().to_path_buf();
        assert!(
            lock_is_free(&path),
            "nobody holds the lock before the write"
        );
        // The clock is the one the transaction is stamped with: when it is read, the write
        // lock must already be ours, so stamps follow commit order across processes.
        let read_while_locked = Cell::new(None);
        let stamped = board
            .write_clocked(
                || {
                    read_while_locked.set(Some(!lock_is_free(&path)));
                    42_000
                },
                |txn| Ok(txn.now()),
            )
            .expect("write");
        assert_eq!(stamped, 42);
        assert_eq!(
            read_while_locked.get(),
            Some(true),
            "the clock was read before the lock was won"
        );
    }

    #[test]
    fn writes_skip_only_the_guards_and_fire_a_trigger_another_program_adds() {
        let (_dir, mut board) = scratch_board();
        let path = board.path().to_path_buf();
        let add = |board: &mut Board| {
            board
                .write(|t| {
                    t.create(&NewTask {
                        title: "t".into(),
                        ..NewTask::default()
                    })
                })
                .expect("create")
        };
        let fires = |board: &Board| {
            board
                .conn
                .db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_TRIGGER)
                .expect("config")
        };
        add(&mut board);
        assert!(
            !fires(&board),
            "only the guards: this connection skips them"
        );
        let other = Connection::open(&path).expect("another program");
        other
            .execute_batch(
                "CREATE TABLE audit_log (task_id TEXT); \
                 CREATE TRIGGER foreign_log AFTER INSERT ON tasks \
                 BEGIN INSERT INTO audit_log VALUES (NEW.id); END;",
            )
            .expect("a foreign trigger");
        let logged = add(&mut board);
        let seen: Vec<String> = other
            .prepare("SELECT task_id FROM audit_log")
            .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
            .expect("read the log");
        assert_eq!(seen, vec![logged], "the other program's trigger fired");
        other
            .execute_batch("DROP TRIGGER foreign_log")
            .expect("drop it");
        add(&mut board);
        assert!(!fires(&board), "the guards alone again");
    }

    #[test]
    fn a_write_that_finds_nothing_to_do_changes_nothing() {
        let (_dir, mut board) = scratch_board();
        let claimer = ops::Claimer {
            lock: "w".into(),
            ttl: Duration::from_secs(60),
        };
        let before = board.total_changes();
        let nothing = board.write(|t| t.claim_next(&claimer)).expect("claim");
        assert_eq!(nothing.claim, None);
        assert_eq!(
            board.total_changes(),
            before,
            "an empty claim wrote nothing"
        );
        board
            .write(|t| {
                t.create(&NewTask {
                    title: "t".into(),
                    ..NewTask::default()
                })
            })
            .expect("create");
        assert!(board.total_changes() > before);
    }
}
