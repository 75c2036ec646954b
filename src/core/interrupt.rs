//! Stopping a connection's statement from another thread: a long read nobody wants any more
//! (a count for a filter since typed further) ends early instead of holding up the next.

use super::Board;

/// A handle that stops the statement one board connection runs now, if any; the read it ran
/// in fails.
pub struct Interrupter(rusqlite::InterruptHandle);

impl Interrupter {
    /// Stops the statement running now on the connection; a later statement runs as usual.
    pub fn interrupt(&self) {
        self.0.interrupt();
    }
}

impl Board {
    /// A handle another thread can stop this connection's running statement with.
    pub fn interrupter(&self) -> Interrupter {
        Interrupter(self.conn.get_interrupt_handle())
    }
}
