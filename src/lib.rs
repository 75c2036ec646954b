//! gateboard: a terminal kanban board for dependency-gated task queues on SQLite.
//!
//! Data flows one way: [`core`] owns the board file and the gate; the front-ends ([`cli`])
//! only call it.

pub mod cli;
pub mod core;
pub mod locate;
pub mod pool;
pub mod watch;
