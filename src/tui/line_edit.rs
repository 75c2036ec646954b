//! The line a prompt is typed into, with the editing keys people know from a shell.
//!
//! The editing itself is `tui-input`'s (cursor moves, Home/End, Ctrl-A/Ctrl-E, Ctrl-W and
//! Alt-Backspace, Delete, Ctrl-U, Ctrl-K): well-trodden code for graphemes and word bounds that
//! the TUI need not keep. This type adds what the state needs of it: equality, so a frame's
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
    fn a_cursor_move_is_no_change_of_text() {
        let mut line = typed("ab");
        assert!(!line.apply(InputRequest::GoToStart));
        assert!(line.apply(InputRequest::DeleteNextChar));
        assert_eq!(line.value(), "b");
    }
}
