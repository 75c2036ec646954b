//! Why a verb stopped early, and the documented exit code of each way; the one place both the
//! verbs and the headless runs take their exit codes from.

use std::io::{self, Write};
use std::process::ExitCode;

use crate::core::BoardError;
use crate::locate;
use crate::terminal_text::escape;

/// Success.
pub(super) const OK: u8 = 0;
/// The audit (or the race's audit) found violations.
pub(super) const AUDIT_VIOLATIONS: u8 = 1;
/// Something failed that is neither the user's doing nor the board's: SQLite, the machine,
/// gateboard itself.
pub(super) const UNEXPECTED: u8 = 1;
/// The command line was wrong.
pub(super) const USAGE: u8 = 2;
/// An id names no task.
pub(super) const NO_SUCH_TASK: u8 = 3;
/// The board refused: a cycle, a wrong status, not the claim holder, bad input.
pub(super) const REFUSED: u8 = 4;
/// The board file is missing, not a regular file, not a board, or too new.
pub(super) const UNUSABLE_BOARD: u8 = 5;
/// The board stayed locked past `--lock-timeout`.
pub(super) const LOCKED: u8 = 6;
/// The gate rejected the claim and demoted the task.
pub(super) const REJECTED: u8 = 7;
/// Nothing was claimable.
pub(super) const NOTHING_CLAIMABLE: u8 = 8;
/// `run`: some task of the file did not end done (blocked, or never ran).
pub(super) const NOT_ALL_DONE: u8 = 9;
/// `run`: a signal stopped it before every task of the file ended (128 + SIGINT, as shells say).
pub(super) const STOPPED: u8 = 130;

/// Why a verb stopped early.
pub(super) enum Failure {
    Board(BoardError),
    Output(io::Error),
    Usage(String),
    /// The machine refused something the verb needs (threads, a temporary folder).
    System(String),
    /// The board asked for cannot be used (exit 5), said in the words of where it was looked for.
    Unusable(String),
}

impl Failure {
    /// Says what failed in one line on stderr and returns its exit code.
    pub(super) fn report(self) -> ExitCode {
        match self {
            // A reader that went away (`gateboard events --follow | head`) is not an error.
            Failure::Output(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
            Failure::Output(e) => fail(UNEXPECTED, &format!("cannot write output: {e}")),
            Failure::Usage(msg) => fail(USAGE, &msg),
            Failure::System(msg) => fail(UNEXPECTED, &msg),
            Failure::Unusable(msg) => fail(UNUSABLE_BOARD, &msg),
            Failure::Board(e) => fail(exit_code(&e), &e.to_string()),
        }
    }
}

impl From<locate::HermesError> for Failure {
    fn from(e: locate::HermesError) -> Self {
        match e {
            locate::HermesError::NoSuchBoard { .. } => Failure::Unusable(e.to_string()),
            locate::HermesError::NoRoot | locate::HermesError::BadSlug(_) => {
                Failure::Usage(e.to_string())
            }
        }
    }
}

impl From<BoardError> for Failure {
    fn from(e: BoardError) -> Self {
        Failure::Board(e)
    }
}

impl From<io::Error> for Failure {
    fn from(e: io::Error) -> Self {
        Failure::Output(e)
    }
}

fn fail(code: u8, message: &str) -> ExitCode {
    // Messages echo ids and paths as given, and those may hold control characters.
    let _ = writeln!(io::stderr(), "gateboard: {}", escape(message));
    ExitCode::from(code)
}

/// The documented exit code of each failure.
pub(super) fn exit_code(e: &BoardError) -> u8 {
    match e {
        BoardError::UnknownTask(_) => NO_SUCH_TASK,
        BoardError::SelfLink(_)
        | BoardError::Cycle { .. }
        | BoardError::ChildStarted { .. }
        | BoardError::WrongStatus { .. }
        | BoardError::ParentsUnfinished { .. }
        | BoardError::NotClaimHolder { .. }
        | BoardError::StillRunning { .. }
        | BoardError::ChildrenStarted { .. }
        | BoardError::Invalid(_)
        | BoardError::RuleViolation(_) => REFUSED,
        BoardError::Missing(_)
        | BoardError::IsDirectory(_)
        | BoardError::NotAFile(_)
        | BoardError::NotABoard { .. }
        | BoardError::TooNew { .. }
        | BoardError::Io { .. } => UNUSABLE_BOARD,
        BoardError::Locked { .. } => LOCKED,
        BoardError::Sqlite(_) | BoardError::Internal(_) => UNEXPECTED,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_failures_exit_1_and_refused_input_exits_4() {
        assert_eq!(
            exit_code(&BoardError::Internal("the writer has stopped".into())),
            UNEXPECTED
        );
        assert_eq!(UNEXPECTED, 1);
        assert_eq!(
            exit_code(&BoardError::Invalid("a blank title".into())),
            REFUSED
        );
        assert_eq!(REFUSED, 4);
    }

    #[test]
    fn a_path_that_is_no_regular_file_is_an_unusable_board() {
        assert_eq!(
            exit_code(&BoardError::NotAFile("/dev/null".into())),
            UNUSABLE_BOARD
        );
        assert_eq!(UNUSABLE_BOARD, 5);
    }
}
