//! The `gateboard` binary: parse the command line and run one verb; the work is in the library.

use std::process::ExitCode;

use gateboard::cli::{Cli, run};

fn main() -> ExitCode {
    // Only the TUI reports through color-eyre; a failed install leaves plain panics, which is fine.
    let _ = color_eyre::install();
    match Cli::parse_args(std::env::args_os()) {
        Ok(cli) => run(cli),
        Err(code) => code,
    }
}
