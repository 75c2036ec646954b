//! The line a prompt is typed into, with the editing keys people know from a shell.
//!
//! The editing itself is `tui-input`'s (cursor moves, Home/End, Ctrl-A/Ctrl-E, Alt-Backspace,
//! Delete, Ctrl-U, Ctrl-K): well-trodden code for graphemes and word bounds that the TUI need
//! not keep. Ctrl-W is a shell's, back to the previous space, which tui-input does not offer. This type adds what the state needs of it: equality, so a frame's
//! state can be compared in tests, and the split at the cursor the prompt draws from.

use tui_input::{Input, InputRequest};

/// What has been typed into a prompt, and where the cursor stands in it.
#[derive(Clone, Debug, Default)]
pub struct LineEdit {
    input: Input,
}

impl LineEdit {
    /// The text typed so far.
    pub fn value(&self) -> &str {
        self.input.value()
    }

    /// How many characters stand before the cursor.
    pub fn cursor(&self) -> usize {
        self.input.cursor()
    }

    /// Applies one edit; returns whether the text changed, so what follows the text (a live
    /// filter, a picker's matches) is worked out again only then, not on a cursor move.
    pub fn apply(&mut self, edit: InputRequest) -> bool {
        self.input.handle(edit).is_some_and(|changed| changed.value)
    }

    /// Deletes back from the cursor over spaces, then to the previous space: a shell's
    /// Ctrl-W, which takes `build-and-test` or a path whole. Returns whether the text changed.
    pub fn delete_word_back(&mut self) -> bool {
        let (before, after) = self.split();
        let kept = before
            .trim_end_matches(char::is_whitespace)
            .trim_end_matches(|c: char| !c.is_whitespace());
        if kept.len() == before.len() {
            return false;
        }
        let cursor = kept.chars().count();
        let value = format!("{kept}{after}");
        self.input = Input::new(value).with_cursor(cursor);
        true
    }

    /// The text before the cursor and the text from it on: what the prompt draws either side
    /// of the terminal's cursor.
    pub fn split(&self) -> (&str, &str) {
        let value = self.input.value();
        let at = value
            .char_indices()
            .nth(self.input.cursor())
            .map_or(value.len(), |(at, _)| at);
        value.split_at(at)
    }
}

impl PartialEq for LineEdit {
    fn eq(&self, other: &LineEdit) -> bool {
        self.value() == other.value() && self.cursor() == other.cursor()
    }
}

impl Eq for LineEdit {}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(text: &str) -> LineEdit {
        let mut line = LineEdit::default();
        for c in text.chars() {
            line.apply(InputRequest::InsertChar(c));
        }
        line
    }

    #[test]
    fn the_split_is_at_the_cursor_counted_in_characters() {
        let mut line = typed("día 2");
        line.apply(InputRequest::GoToPrevChar);
        line.apply(InputRequest::GoToPrevChar);
        line.apply(InputRequest::GoToPrevChar);
        assert_eq!(line.split(), ("dí", "a 2"));
    }

    #[test]
    fn ctrl_w_deletes_back_to_the_previous_space_as_a_shell_does() {
        let mut line = typed("run build-and-test  ");
        assert!(line.delete_word_back());
        assert_eq!((line.value(), line.cursor()), ("run ", 4));
        assert!(line.delete_word_back());
        assert_eq!(line.value(), "");
        assert!(!line.delete_word_back(), "nothing left to delete");
    }

    #[test]
    fn ctrl_w_keeps_what_follows_the_cursor() {
        let mut line = typed("a/b/c d");
        line.apply(InputRequest::GoToPrevChar);
        line.apply(InputRequest::GoToPrevChar);
        assert!(line.delete_word_back());
        assert_eq!((line.value(), line.cursor()), (" d", 0));
    }

    #[test]
    fn a_cursor_move_is_no_change_of_text() {
        let mut line = typed("ab");
        assert!(!line.apply(InputRequest::GoToStart));
        assert!(line.apply(InputRequest::DeleteNextChar));
        assert_eq!(line.value(), "b");
    }
}
