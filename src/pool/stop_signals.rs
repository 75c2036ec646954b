//! The signals that stop a pool in order (its claims released, its commands stopped): Ctrl-C,
//! and what service managers and terminals send, so `work`, `run` and the TUI treat them alike.

use tokio::signal::unix::{Signal, SignalKind, signal};

/// Ctrl-C, SIGTERM, SIGHUP and SIGQUIT: each stops a pool the same orderly way, releasing its
/// claims and stopping its commands, since a service manager stops with SIGTERM, not Ctrl-C.
pub struct StopSignals {
    interrupt: Signal,
    terminate: Signal,
    hangup: Signal,
    quit: Signal,
}

impl StopSignals {
    /// Starts listening; must run inside the runtime.
    pub fn listen() -> std::io::Result<StopSignals> {
        Ok(StopSignals {
            interrupt: signal(SignalKind::interrupt())?,
            terminate: signal(SignalKind::terminate())?,
            hangup: signal(SignalKind::hangup())?,
            quit: signal(SignalKind::quit())?,
        })
    }

    /// Resolves when any of the signals arrives.
    pub async fn received(&mut self) {
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
            _ = self.hangup.recv() => {}
            _ = self.quit.recv() => {}
        }
    }
}
