//! The `:` command line, as in vim or k9s: what a typed line means, parsed apart from doing it,
//! so every spelling and every mistake is tested without a board.

use thiserror::Error;

/// One command typed after `:`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    /// Select this task on the board, in whichever column it is.
    Goto(String),
    /// Block this task for this reason.
    Block {
        /// The task.
        id: String,
        /// Why, in the person's words.
        reason: String,
    },
    /// Return this blocked task to the queue.
    Unblock(String),
    /// Leave, as `q` does.
    Quit,
}

/// The commands there are, as an unknown one's refusal lists them.
pub const KNOWN: &str = "goto ID, block ID REASON, unblock ID, q";

/// Why a command line means nothing: shown in the prompt, which stays open for a fix.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
pub enum CommandError {
    /// The first word names no command.
    #[error("unknown command \"{0}\"; known: {KNOWN}")]
    Unknown(String),
    /// A command that acts on a task was given none.
    #[error("{0} needs a task id: {1}")]
    NoId(&'static str, &'static str),
    /// Words after a command that takes none (or only an id).
    #[error("too many words for {0}: {1}")]
    TooMany(&'static str, &'static str),
    /// `block` with an id but no reason.
    #[error("a block needs a reason: block ID REASON")]
    NoReason,
}

/// Parses a command line; an empty one is no command (Enter on it just closes the prompt).
pub fn parse(line: &str) -> Result<Option<Command>, CommandError> {
    let line = line.trim();
    let (word, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim();
    let one_id = |name: &'static str, usage: &'static str| match rest.split_whitespace().count() {
        0 => Err(CommandError::NoId(name, usage)),
        1 => Ok(rest.to_owned()),
        _ => Err(CommandError::TooMany(name, usage)),
    };
    let command = match word {
        "" => return Ok(None),
        "goto" => Command::Goto(one_id("goto", "goto ID")?),
        "unblock" => Command::Unblock(one_id("unblock", "unblock ID")?),
        "block" => {
            let (id, reason) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
            if id.is_empty() {
                return Err(CommandError::NoId("block", "block ID REASON"));
            }
            let reason = reason.trim();
            if reason.is_empty() {
                return Err(CommandError::NoReason);
            }
            Command::Block {
                id: id.to_owned(),
                reason: reason.to_owned(),
            }
        }
        "q" | "quit" if rest.is_empty() => Command::Quit,
        "q" | "quit" => return Err(CommandError::TooMany("q", "q")),
        other => return Err(CommandError::Unknown(other.to_owned())),
    };
    Ok(Some(command))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn goto_and_unblock_take_one_id() {
        assert_eq!(
            parse("goto t_0000abcd"),
            Ok(Some(Command::Goto("t_0000abcd".into())))
        );
        assert_eq!(
            parse("  unblock   t_1  "),
            Ok(Some(Command::Unblock("t_1".into())))
        );
        assert_eq!(parse("goto"), Err(CommandError::NoId("goto", "goto ID")));
        assert_eq!(
            parse("unblock t_1 t_2"),
            Err(CommandError::TooMany("unblock", "unblock ID"))
        );
    }

    #[test]
    fn block_keeps_every_word_of_its_reason() {
        assert_eq!(
            parse("block t_1 waiting on  legal review"),
            Ok(Some(Command::Block {
                id: "t_1".into(),
                reason: "waiting on  legal review".into(),
            }))
        );
    }

    #[test]
    fn block_refuses_a_missing_id_or_reason() {
        assert_eq!(
            parse("block"),
            Err(CommandError::NoId("block", "block ID REASON"))
        );
        assert_eq!(parse("block t_1  "), Err(CommandError::NoReason));
    }

    #[test]
    fn q_and_quit_leave_and_take_no_words() {
        assert_eq!(parse("q"), Ok(Some(Command::Quit)));
        assert_eq!(parse("quit"), Ok(Some(Command::Quit)));
        assert_eq!(parse("q now"), Err(CommandError::TooMany("q", "q")));
    }

    #[test]
    fn an_empty_line_is_no_command() {
        assert_eq!(parse("   "), Ok(None));
    }

    #[test]
    fn an_unknown_command_is_named_with_the_known_ones() {
        let error = parse("delete t_1").unwrap_err();
        assert_eq!(
            error.to_string(),
            "unknown command \"delete\"; known: goto ID, block ID REASON, unblock ID, q"
        );
    }
}
