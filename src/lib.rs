//! gateboard: a terminal kanban board for dependency-gated task queues on SQLite.
//!
//! Data flows one way: [`core`] owns the board file and the gate; [`pool`] (the workers) and
//! [`tui`] (the screen) call it; [`cli`] wires verbs to them. Nothing outside `core` runs SQL.
//! Text from a board reaches a person's terminal only through [`terminal_text`].

pub mod cli;
pub mod core;
pub mod locate;
pub mod pool;
pub mod terminal_text;
pub mod tui;
pub mod watch;
