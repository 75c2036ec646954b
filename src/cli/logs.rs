//! `gateboard logs`: a run's output, from any process, as it is written.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Seek, SeekFrom, Write};
use std::path::Path;
use std::time::Duration;

use super::failure::Failure;
use crate::core::model::Run;
use crate::core::{Board, BoardError};

/// How often `--follow` looks for more output and for the run's end.
const FOLLOW_EVERY: Duration = Duration::from_millis(100);

/// Prints the output of `run` (the latest by default) of task `id`; with `follow`, keeps
/// printing until the run has ended and every byte of it is out.
pub(super) fn print(
    board: &Board,
    id: &str,
    run: Option<i64>,
    follow: bool,
    out: &mut dyn Write,
) -> Result<(), Failure> {
    let chosen = pick(board, id, run)?;
    let log = chosen.log.clone().ok_or_else(|| {
        BoardError::Invalid(format!(
            "run {} of {id} kept no log: no gateboard pool ran a command for it",
            chosen.id
        ))
    })?;
    let log = Path::new(&log);
    if chosen.ended_at.is_some() && !log.exists() {
        return Err(BoardError::Invalid(format!(
            "run {} of {id} wrote no output: it ended before its command started{}",
            chosen.id,
            chosen
                .why()
                .map(|why| format!(" ({why})"))
                .unwrap_or_default()
        ))
        .into());
    }
    // A terminal gets control characters escaped, so output cannot drive the terminal; a pipe
    // or a file gets the bytes exactly as the command wrote them.
    let escape = io::stdout().is_terminal();
    let mut offset = 0u64;
    loop {
        let ended = !follow || run_ended(board, id, chosen.id)?;
        offset += copy_from(log, offset, escape, out)?;
        if ended {
            // One last read: bytes written just before the run closed.
            copy_from(log, offset, escape, out)?;
            return Ok(());
        }
        out.flush()?;
        std::thread::sleep(FOLLOW_EVERY);
    }
}

fn pick(board: &Board, id: &str, run: Option<i64>) -> Result<Run, Failure> {
    let runs = board.read(|r| {
        r.task(id)?;
        r.runs(id)
    })?;
    let found = match run {
        Some(n) => runs.into_iter().find(|r| r.id == n),
        None => runs.into_iter().last(),
    };
    found.ok_or_else(|| {
        Failure::Board(BoardError::Invalid(match run {
            Some(n) => format!("{id} has no run {n}; `gateboard show {id}` lists its runs"),
            None => format!("{id} has not run yet"),
        }))
    })
}

fn run_ended(board: &Board, id: &str, run: i64) -> Result<bool, Failure> {
    let runs = board.read(|r| r.runs(id))?;
    Ok(runs
        .iter()
        .find(|r| r.id == run)
        .is_none_or(|r| r.ended_at.is_some()))
}

/// Writes the log's bytes from `offset` on; returns how many it read. A log not made yet (the
/// command is starting) reads as empty.
fn copy_from(log: &Path, offset: u64, escape: bool, out: &mut dyn Write) -> Result<u64, Failure> {
    let mut file = match File::open(log) {
        Ok(file) => file,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(0),
        Err(e) => {
            return Err(Failure::System(format!(
                "cannot read the log {}: {e}",
                log.display()
            )));
        }
    };
    file.seek(SeekFrom::Start(offset))
        .map_err(|e| Failure::System(format!("cannot read the log {}: {e}", log.display())))?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| Failure::System(format!("cannot read the log {}: {e}", log.display())))?;
    if escape {
        out.write_all(escape_output(&bytes).as_bytes())?;
    } else {
        out.write_all(&bytes)?;
    }
    Ok(bytes.len() as u64)
}

/// A command's output made safe for a terminal: text and line breaks pass, every other control
/// character and every byte that is not UTF-8 is shown as an escape.
pub(crate) fn escape_output(bytes: &[u8]) -> String {
    let mut shown = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' | '\t' => shown.push(c),
                c if c.is_control() => shown.extend(c.escape_default()),
                c => shown.push(c),
            }
        }
        for byte in chunk.invalid() {
            shown.push_str(&format!("\\x{byte:02x}"));
        }
    }
    shown
}

#[cfg(test)]
mod tests {
    use super::escape_output;

    #[test]
    fn terminal_output_keeps_lines_and_escapes_controls_and_bad_bytes() {
        let shown = escape_output(b"ok\n\x1b[2Jred\r\xff\tend");
        assert_eq!(shown, "ok\n\\u{1b}[2Jred\\r\\xff\tend");
    }
}
