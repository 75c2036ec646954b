//! The real binary in tmux, driven as a person would: keys in, screen text out.

use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

/// A tmux session running gateboard; killed when dropped.
pub struct Session {
    name: String,
}

impl Session {
    /// Starts `command` (a shell command line) in a detached 100x30 session.
    pub fn start(command: &str) -> Session {
        let version = Command::new("tmux").arg("-V").output();
        assert!(
            version.is_ok_and(|o| o.status.success()),
            "the end-to-end TUI test needs tmux on PATH (apt-get install tmux)"
        );
        let name = format!(
            "gateboard-test-{}-{}",
            std::process::id(),
            fastrand::u32(..)
        );
        // Another test closing the last session stops the tmux server; a session started at
        // that moment fails, and the next attempt starts a server of its own.
        let start = || {
            Command::new("tmux")
                .args([
                    "new-session",
                    "-d",
                    "-s",
                    &name,
                    "-x",
                    "100",
                    "-y",
                    "30",
                    command,
                ])
                .env_remove("NO_COLOR")
                .status()
                .expect("start tmux")
                .success()
        };
        let started = (0..3).any(|attempt| {
            if attempt > 0 {
                thread::sleep(Duration::from_millis(200));
            }
            start()
        });
        assert!(started, "tmux new-session failed");
        Session { name }
    }

    /// Types keys, in tmux send-keys words.
    pub fn keys(&self, keys: &[&str]) {
        let status = Command::new("tmux")
            .args(["send-keys", "-t", &self.name])
            .args(keys)
            .status()
            .expect("send keys");
        assert!(status.success());
    }

    /// The screen as text.
    pub fn screen(&self) -> String {
        let out = Command::new("tmux")
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .expect("capture pane");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Waits up to 15 s for `text` to appear, returning the screen that shows it.
    pub fn wait_for(&self, text: &str) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if screen.contains(text) {
                return screen;
            }
            assert!(
                start.elapsed() < Duration::from_secs(15),
                "{text:?} never appeared; the screen was:\n{screen}"
            );
            thread::sleep(Duration::from_millis(50));
        }
    }

    /// Closes the terminal under the program, as closing its window or losing ssh does.
    pub fn close(&self) {
        let status = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status()
            .expect("kill the session");
        assert!(status.success());
    }

    /// Whether the program still runs.
    pub fn alive(&self) -> bool {
        Command::new("tmux")
            .args(["has-session", "-t", &self.name])
            .status()
            .is_ok_and(|s| s.success())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .args(["kill-session", "-t", &self.name])
            .status();
    }
}
