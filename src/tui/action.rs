//! Everything that can happen to the TUI, as one enum: keys, the mouse, the pool, the file.

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEventKind,
};

use tui_input::InputRequest;
use tui_input::backend::crossterm::to_input_request;

use super::effects::Written;
use super::effects::read::Fetched;
use super::keymap::Keymap;
use super::state::{Mode, PoolView};
use crate::pool::PoolEvent;
use crate::pool::racer::{RaceMode, RaceReport};

/// One thing `Model::update_at` reacts to.
#[derive(Clone, Debug, PartialEq)]
pub enum Action {
    /// Cursor left a column.
    Left,
    /// Cursor right a column.
    Right,
    /// Cursor up a row.
    Up,
    /// Cursor down a row.
    Down,
    /// Cursor up a page.
    PageUp,
    /// Cursor down a page.
    PageDown,
    /// Cursor to the first row.
    Top,
    /// Cursor to the last row.
    Bottom,
    /// Focus the next pane.
    NextPane,
    /// The events pane shows the next kind of event (all, claim_rejected, trouble).
    CycleLogFilter,
    /// Open the selected task's detail view.
    Open,
    /// Close an overlay or cancel a prompt.
    Back,
    /// Unblock the selected task.
    Unblock,
    /// Ask for a reason, then block the selected task.
    Block,
    /// Complete the selected task.
    Complete,
    /// Archive the selected task.
    Archive,
    /// Ask, then cancel the selected running task (its command is killed).
    Cancel,
    /// Yes to a y/n question.
    Confirm,
    /// Ask for a title, then create a task.
    New,
    /// Ask for a title, then create a task that waits for the selected one.
    NewChild,
    /// Pick a parent from the board's tasks, then link it to the selected task.
    Link,
    /// Pick one of the selected task's parents, then remove that link.
    Unlink,
    /// Open the `:` command line.
    Command,
    /// Open the dependency tree of the selected task (or of the task in the detail view).
    Tree,
    /// Fold or unfold the tree line under the cursor.
    ToggleFold,
    /// Ask for a comment, then add it to the selected task.
    Comment,
    /// Start the race demo with this writer, or stop the one running.
    ToggleRace(RaceMode),
    /// Pause or resume the pool.
    TogglePause,
    /// One more worker.
    MoreWorkers,
    /// One worker fewer.
    FewerWorkers,
    /// Ask for filter text.
    Filter,
    /// Show or hide the key list.
    Help,
    /// Show or hide the statuses beyond the five columns.
    ToggleOtherStatuses,
    /// Leave.
    Quit,
    /// An edit of a prompt's line: a character typed, a cursor move, a deletion.
    Edit(InputRequest),
    /// Ctrl-W in a prompt: deletes back to the previous space, as a shell does, so a
    /// hyphenated word or a path goes at once (Alt-Backspace stops at punctuation).
    DeleteWordBack,
    /// Submit a prompt.
    Submit,
    /// A click at a cell of the terminal.
    Click {
        /// Column.
        x: u16,
        /// Row.
        y: u16,
    },
    /// The terminal changed size.
    Resize {
        /// Columns.
        width: u16,
        /// Rows.
        height: u16,
    },
    /// Another process (or our own pool) committed to the board.
    BoardChanged,
    /// A write handed to the writer thread ended: what it did, or why it was refused.
    Wrote(Result<Written, String>),
    /// A read handed to the reader thread ended: what it found.
    Fetched(Box<Fetched>),
    /// The pool reported something.
    Pool(PoolEvent),
    /// The pool's state as the status bar and worker pane show it, after it changed.
    PoolChanged(Box<PoolView>),
    /// The race demo's writer is done: what it wrote, or why it failed.
    RaceWritten(Result<RaceReport, String>),
    /// Something asked of the pool could not be done: why, for the status line.
    Failed(String),
    /// Time passed: refresh clocks and rates.
    Tick,
    /// A raw terminal event, translated by `from_terminal` against what is on screen.
    Terminal(TermEvent),
}

impl Action {
    /// Whether this is a person's command on the board on screen; such commands are ignored
    /// while the terminal is too small to show the board, so nothing acts unseen.
    pub fn needs_the_board(&self) -> bool {
        !matches!(
            self,
            Action::Quit
                | Action::Resize { .. }
                | Action::BoardChanged
                | Action::Pool(_)
                | Action::PoolChanged(_)
                | Action::RaceWritten(_)
                | Action::Failed(_)
                | Action::Wrote(_)
                | Action::Fetched(_)
                | Action::Tick
                | Action::Terminal(_)
        )
    }
}

/// Translates a terminal event, given what is on screen (a prompt takes typing).
pub fn from_terminal(event: TermEvent, mode: &Mode, keymap: &Keymap) -> Option<Action> {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => from_key(key, mode, keymap),
        TermEvent::Mouse(mouse) => match mouse.kind {
            MouseEventKind::Down(MouseButton::Left) => Some(Action::Click {
                x: mouse.column,
                y: mouse.row,
            }),
            MouseEventKind::ScrollDown => Some(Action::Down),
            MouseEventKind::ScrollUp => Some(Action::Up),
            _ => None,
        },
        TermEvent::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

/// Translates a terminal event while the terminal is too small to draw the board: the note
/// shown then offers only quitting, so only quitting and resizing act.
pub fn from_terminal_too_small(event: TermEvent) -> Option<Action> {
    match event {
        TermEvent::Key(key) if key.kind != KeyEventKind::Release => {
            let quits = is_ctrl_c(&key) || (key.code == KeyCode::Char('q') && is_plain(&key));
            quits.then_some(Action::Quit)
        }
        TermEvent::Resize(width, height) => Some(Action::Resize { width, height }),
        _ => None,
    }
}

fn is_ctrl_c(key: &KeyEvent) -> bool {
    key.modifiers.contains(KeyModifiers::CONTROL) && key.code == KeyCode::Char('c')
}

/// Whether a key carries no modifier but Shift: only such keys type text or name commands, so
/// Ctrl-U or Alt-A neither type a letter nor archive a task.
fn is_plain(key: &KeyEvent) -> bool {
    !key.modifiers.intersects(
        KeyModifiers::CONTROL
            | KeyModifiers::ALT
            | KeyModifiers::SUPER
            | KeyModifiers::HYPER
            | KeyModifiers::META,
    )
}

/// What a key does on screen: prompts and questions take their keys first, then `keymap`.
pub fn from_key(key: KeyEvent, mode: &Mode, keymap: &Keymap) -> Option<Action> {
    if is_ctrl_c(&key) {
        return Some(Action::Quit);
    }
    if let Mode::Prompt(prompt) = mode
        && prompt.kind.is_question()
    {
        // A question answered with one key; anything but y leaves everything as it was.
        return match key.code {
            KeyCode::Char('y' | 'Y') if is_plain(&key) => Some(Action::Confirm),
            KeyCode::Char(_) | KeyCode::Esc | KeyCode::Enter => Some(Action::Back),
            _ => None,
        };
    }
    if let Mode::Prompt(prompt) = mode {
        // In a picker the arrows (and Ctrl-N/P, Ctrl-J/K) move through the list; plain letters
        // type, since the text matched is made of them.
        let ctrl = key.modifiers == KeyModifiers::CONTROL;
        if prompt.picker.is_some() {
            match key.code {
                KeyCode::Up => return Some(Action::Up),
                KeyCode::Down => return Some(Action::Down),
                KeyCode::PageUp => return Some(Action::PageUp),
                KeyCode::PageDown => return Some(Action::PageDown),
                KeyCode::Char('p' | 'k') if ctrl => return Some(Action::Up),
                KeyCode::Char('n' | 'j') if ctrl => return Some(Action::Down),
                _ => {}
            }
        }
        return match key.code {
            KeyCode::Enter => Some(Action::Submit),
            KeyCode::Esc => Some(Action::Back),
            KeyCode::Char('w') if ctrl => Some(Action::DeleteWordBack),
            // The line editor's keys are tui-input's, a shell's: only plain keys type text.
            _ => match to_input_request(&TermEvent::Key(key))? {
                InputRequest::InsertChar(_) if !is_plain(&key) => None,
                edit => Some(Action::Edit(edit)),
            },
        };
    }
    keymap.action(&key)
}
