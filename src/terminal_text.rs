//! Text from a board made safe to show on a terminal.
//!
//! Titles, bodies, claimers and every other string on a board may come from another program
//! (Hermes, raw SQL), so they may carry what a terminal obeys rather than shows: ESC starting a
//! CSI or OSC sequence (clear the screen, set the window title, write the clipboard), CR and BS
//! rewriting what is on the line, a newline faking a second `ls` row, C1 codes some terminals
//! read as ESC, and bidi overrides that reorder what a person reads. Every human-readable output
//! (the CLI and the TUI) passes such text through [`escape`]; `--json` prints it exactly.
//!
//! The escapes are Rust's: `\n`, `\r`, `\t`, `\e`, `\x07`, `\u{9b}`, and `\\` for a backslash,
//! so an escaped text never reads like another text.

use std::borrow::Cow;
use std::fmt;

/// `text` with every control character, bidi override and backslash written as a visible
/// escape; borrowed unchanged when it has none, which is nearly always.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_escaped(&mut out, c);
    }
    Cow::Owned(out)
}

/// A JSON value as one line of text, its strings' control characters escaped.
///
/// JSON already writes C0 controls, quotes and backslashes as escapes, so only what it leaves
/// raw (DEL, C1 controls, bidi overrides, line separators) is escaped here; a backslash in
/// JSON text always starts an escape, so it is not doubled.
pub fn json(value: &serde_json::Value) -> String {
    let text = value.to_string();
    if !text.chars().any(|c| c != '\\' && needs_escape(c)) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push(c),
            c => push_escaped(&mut out, c),
        }
    }
    out
}

/// Shows a text escaped inside `format!`/`write!`, honouring width and alignment (`{:<12}`).
#[derive(Clone, Copy, Debug)]
pub struct Escaped<'a>(pub &'a str);

impl fmt::Display for Escaped<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&escape(self.0))
    }
}

/// Whether a terminal could obey `c` instead of showing it, or (for `\`) an escape could be
/// mistaken for it.
fn needs_escape(c: char) -> bool {
    c == '\\' || c.is_control() || is_bidi_control(c) || is_line_separator(c)
}

/// The explicit bidi embeddings, overrides and isolates (the "Trojan Source" characters).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Unicode's own line and paragraph separators, which some readers split lines on.
fn is_line_separator(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}')
}

fn push_escaped(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\\' => out.push_str("\\\\"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{1b}' => out.push_str("\\e"),
        // Writing into a String cannot fail.
        c if u32::from(c) < 0x80 && needs_escape(c) => {
            let _ = write!(out, "\\x{:02x}", u32::from(c));
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed_unchanged() {
        let text = "train the model — 10 ✓ épreuve";
        assert!(matches!(escape(text), Cow::Borrowed(t) if t == text));
    }

    #[test]
    fn c0_controls_and_del_become_visible_escapes() {
        assert_eq!(escape("a\nb\rc\td\u{1b}[2J"), "a\\nb\\rc\\td\\e[2J");
        assert_eq!(
            escape("bell\u{7} bs\u{8} nul\0 del\u{7f}"),
            "bell\\x07 bs\\x08 nul\\x00 del\\x7f"
        );
    }

    #[test]
    fn an_osc_52_clipboard_write_is_shown_not_obeyed() {
        assert_eq!(
            escape("\u{1b}]52;c;cm0gLXJmIH4=\u{7}"),
            "\\e]52;c;cm0gLXJmIH4=\\x07"
        );
    }

    #[test]
    fn c1_controls_bidi_overrides_and_line_separators_are_escaped() {
        assert_eq!(escape("\u{9b}2J\u{85}"), "\\u{9b}2J\\u{85}");
        assert_eq!(escape("abc\u{202e}fed\u{2066}"), "abc\\u{202e}fed\\u{2066}");
        assert_eq!(escape("one\u{2028}two"), "one\\u{2028}two");
    }

    #[test]
    fn a_backslash_is_doubled_so_no_escape_is_ambiguous() {
        assert_eq!(escape("a\\nb"), "a\\\\nb");
        assert_ne!(escape("a\\nb"), escape("a\nb"));
    }

    #[test]
    fn json_text_escapes_what_json_leaves_raw_without_doubling_its_escapes() {
        let value = serde_json::json!({ "reason": "a\nb\u{1b}[2J\u{9b}\u{202e}\\" });
        assert_eq!(
            json(&value),
            r#"{"reason":"a\nb\u001b[2J\u{9b}\u{202e}\\"}"#
        );
    }

    #[test]
    fn escaped_pads_the_visible_text() {
        assert_eq!(format!("[{:<6}]", Escaped("a\tb")), "[a\\tb  ]");
    }
}
