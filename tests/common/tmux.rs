//! A tmux server of a test's own, to run the real `tdb` binary in a real terminal: default
//! tmux settings (`-f /dev/null`), its own socket, a clean environment without a display.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Long enough for a loaded CI machine; only a failure waits this long.
pub const PATIENCE: Duration = Duration::from_secs(60);

static SERVERS: AtomicUsize = AtomicUsize::new(0);

/// A tmux server of our own (its own socket, no config) with one 120×40 pane running `sh`.
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(cwd: &Path) -> Tmux {
        Tmux::start_with(cwd, "")
    }

    /// Like [`Tmux::start`], with extra `NAME=value` words in the shell's environment.
    pub fn start_with(cwd: &Path, env: &str) -> Tmux {
        let socket = format!(
            "tdb-e2e-{}-{}",
            std::process::id(),
            SERVERS.fetch_add(1, Ordering::Relaxed)
        );
        let t = Tmux { socket };
        let path = std::env::var("PATH").unwrap_or_default();
        let out = t
            .cmd()
            .args(["new-session", "-d", "-x", "120", "-y", "40", "-c"])
            .arg(cwd)
            .arg(format!(
                "env -i PATH='{path}' HOME='{}' TERM=xterm-256color LANG=C.UTF-8 PS1='e2e$ ' {env} sh",
                cwd.display()
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "tmux: {}", text(&out.stderr));
        t
    }

    pub fn cmd(&self) -> Command {
        let mut c = Command::new("tmux");
        c.args(["-L", &self.socket, "-f", "/dev/null"])
            .env("LANG", "C.UTF-8")
            .stdin(Stdio::null());
        c
    }

    /// Keys by tmux name (`F5`, `Escape`, `C-q`, `Enter`).
    pub fn keys(&self, keys: &[&str]) {
        let out = self.cmd().arg("send-keys").args(keys).output().unwrap();
        assert!(out.status.success(), "send-keys: {}", text(&out.stderr));
    }

    /// Text typed literally.
    pub fn type_text(&self, s: &str) {
        let out = self.cmd().args(["send-keys", "-l", s]).output().unwrap();
        assert!(out.status.success(), "send-keys -l: {}", text(&out.stderr));
    }

    pub fn resize(&self, width: u16, height: u16) {
        let out = self
            .cmd()
            .args([
                "resize-window",
                "-x",
                &width.to_string(),
                "-y",
                &height.to_string(),
            ])
            .output()
            .unwrap();
        assert!(out.status.success(), "resize-window: {}", text(&out.stderr));
    }

    pub fn screen(&self) -> String {
        let out = self.cmd().args(["capture-pane", "-p"]).output().unwrap();
        text(&out.stdout)
    }

    /// The screen with its colours and attributes as escape sequences.
    pub fn screen_styled(&self) -> String {
        let out = self
            .cmd()
            .args(["capture-pane", "-p", "-e"])
            .output()
            .unwrap();
        text(&out.stdout)
    }

    pub fn format(&self, f: &str) -> String {
        let out = self
            .cmd()
            .args(["display-message", "-p", f])
            .output()
            .unwrap();
        text(&out.stdout).trim().to_string()
    }

    /// The newest tmux paste buffer, byte for byte; `None` while there is none.
    pub fn show_buffer(&self) -> Option<Vec<u8>> {
        let out = self.cmd().arg("show-buffer").output().unwrap();
        out.status.success().then_some(out.stdout)
    }

    /// Polls the newest paste buffer until it is `want`; fails with what it held after
    /// [`PATIENCE`].
    pub fn wait_for_buffer(&self, what: &str, want: &str) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let got = self.show_buffer();
            if got.as_deref() == Some(want.as_bytes()) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what} in the tmux buffer: {:?}; the screen:\n{}",
                got.map(|b| text(&b)),
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }

    /// Polls the screen until `pred` holds; fails with the last screen after [`PATIENCE`].
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "gave up waiting for {what}; the screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(25));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.cmd().arg("kill-server").output();
    }
}

pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}
