//! Copying text to the clipboard of the person at the keyboard, who on a bastion host over
//! SSH (often inside tmux) is not on the machine tdb runs on, where a clipboard library alone
//! silently does nothing. [`Clipboard::copy`] tries, in order, and says which way worked:
//!
//! 1. **Native** ([`Via::Native`]): the system clipboard through arboard, when there is a
//!    display server (`DISPLAY` or `WAYLAND_DISPLAY` set; on macOS always). Under Wayland
//!    without XWayland arboard has no way in (its Wayland support is an optional feature
//!    tdb leaves out) and the chain goes on.
//! 2. **tmux** ([`Via::Tmux`]): inside tmux (`TMUX` set), `tmux load-buffer -w -` with the
//!    text on stdin: the tmux buffer gets it, and with `-w` tmux also hands it to the outer
//!    terminal's clipboard by OSC 52 (its default `set-clipboard external` allows that for
//!    terminals tmux knows can take it). tmux before 3.2 has no `-w`: the load is retried
//!    without it and a warning says only the tmux buffer has the text.
//! 3. **OSC 52** ([`Via::Osc52`]): the terminal escape that sets the clipboard of the
//!    terminal emulator on the laptop, whatever SSH hops lie between. Wrapped for GNU
//!    screen when inside it; when tmux is there but `load-buffer` failed, sent both plain
//!    (tmux takes it with `set-clipboard on`) and in tmux's passthrough form (`allow-
//!    passthrough on`). tdb does not write it itself: the terminal belongs to the UI, so the
//!    bytes come back in [`Copied::terminal_write`].
//! 4. **File** ([`Via::File`]): `<home>/clipboard.txt` (mode 0600), with its path reported,
//!    when nothing above can carry the text: the terminal cannot take OSC 52 (`TERM=dumb`,
//!    the Linux console) or the text is too large for it.
//!
//! # Size
//!
//! Terminals cap OSC 52: hterm and many others drop sequences over 100,000 bytes, some
//! truncate, none say so. tdb sends at most [`OSC52_MAX_BASE64`] bytes of base64 (about
//! 55 KB of text), leaving room for the passthrough wrappers. A larger text goes to the file
//! with a warning saying why, instead of an OSC 52 the terminal might drop in silence. The
//! tmux buffer takes any size; the warning there says the outer terminal may not get it.
//!
//! # Sanitizing
//!
//! [`Clipboard::copy`] passes every text through
//! [`for_clipboard`](crate::core::sanitize::for_clipboard) first, whatever its source (a
//! rendered result, the editor's SQL): this is the one place it happens. So no ESC or other
//! control character except tab and newline reaches a clipboard, and a value holding
//! `ESC [ 201 ~` cannot end a shell's bracketed paste. [`osc52`] itself encodes what it is
//! given.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Mutex;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;

use crate::core::export::format_size;
use crate::core::sanitize::for_clipboard;
use crate::core::{Error, Result};
use crate::home::Home;

/// The most base64 tdb puts in one OSC 52 sequence: three quarters of the 100,000-byte cap
/// common to terminals (hterm's `OSC_52_MAX_SEQUENCE`), so the screen and tmux wrappers
/// still fit and terminals with smaller caps get through more often. 74,994 bytes of base64
/// carry 56,244 bytes of text.
pub const OSC52_MAX_BASE64: usize = 74_994;

/// GNU screen keeps at most 768 bytes of a string sequence (since 4.2.1); each piece of an
/// OSC 52 sent through it stays 4 under that, as hterm's osc52.sh does.
pub const SCREEN_CHUNK: usize = 764;

/// How long a copy waits for the native clipboard or tmux before going on down the chain,
/// so a dead X forwarding or a hung tmux server cannot freeze the UI.
const NATIVE_TIMEOUT: Duration = Duration::from_secs(2);
const TMUX_TIMEOUT: Duration = Duration::from_secs(3);

/// Which way the text went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Via {
    Native,
    Tmux,
    Osc52,
    File(PathBuf),
}

impl Via {
    /// For the status bar: `native clipboard`, `tmux buffer`, `OSC 52`,
    /// `file ~/.local/share/tdb/clipboard.txt`.
    pub fn label(&self) -> String {
        match self {
            Via::Native => "native clipboard".into(),
            Via::Tmux => "tmux buffer".into(),
            Via::Osc52 => "OSC 52".into(),
            Via::File(p) => format!("file {}", tildify(p)),
        }
    }
}

/// `/home/alice/x` as `~/x`, which is shorter in a status bar and says the same.
pub fn tildify(p: &Path) -> String {
    if let Some(home) = dirs::home_dir()
        && let Ok(rest) = p.strip_prefix(&home)
    {
        return format!("~/{}", rest.display());
    }
    p.display().to_string()
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Copied {
    pub via: Via,
    /// Bytes of (sanitized) text copied.
    pub bytes: usize,
    /// Something the user should know: a path down the chain failed, the text may be too
    /// large for the terminal, only the tmux buffer has it.
    pub warning: Option<String>,
    /// Bytes the caller must write to the terminal itself (OSC 52), between frames.
    ///
    /// The terminal UI writes them through its own terminal writer after a draw and flushes;
    /// the command line and other callers write them to `/dev/tty` ([`write_to_tty`]) or to
    /// stdout when that is the terminal. Nothing has been copied until they are written.
    pub terminal_write: Option<Vec<u8>>,
}

/// `copied 20 rows · 1.2 KB · via OSC 52`, then the warning if there is one. `what` is the
/// caller's word for the part copied (e.g. `Scope::describe`); a terminal caller sanitizes
/// the whole line, since `what` and the warning may quote data.
pub fn status_line(what: &str, copied: &Copied) -> String {
    let mut s = format!(
        "copied {what} · {} · via {}",
        format_size(copied.bytes),
        copied.via.label()
    );
    if let Some(w) = &copied.warning {
        s.push_str(" · ");
        s.push_str(w);
    }
    s
}

/// How an OSC 52 sequence is wrapped for a multiplexer between tdb and the terminal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wrap {
    /// Straight to the terminal.
    None,
    /// tmux passthrough: `ESC P tmux ; <sequence with every ESC doubled> ESC \`. tmux 3.3+
    /// forwards it only with `allow-passthrough on`.
    Tmux,
    /// GNU screen: the sequence cut into [`SCREEN_CHUNK`]-byte pieces, each in its own
    /// `ESC P … ESC \`, which screen passes on as they are.
    Screen,
}

/// The OSC 52 sequence that sets the clipboard (`c`) to `text`:
/// `ESC ] 52 ; c ; <base64> BEL`, wrapped as `wrap` says. BEL ends it rather than ST
/// (`ESC \`) because ST would end the screen and tmux wrappers early, and every terminal
/// that reads OSC 52 takes BEL.
///
/// `text` is encoded as it is; [`Clipboard::copy`] sanitizes before it gets here.
pub fn osc52(text: &str, wrap: Wrap) -> Vec<u8> {
    let mut seq = Vec::with_capacity(text.len() * 4 / 3 + 16);
    seq.extend_from_slice(b"\x1b]52;c;");
    seq.extend_from_slice(
        base64::engine::general_purpose::STANDARD
            .encode(text.as_bytes())
            .as_bytes(),
    );
    seq.push(0x07);
    match wrap {
        Wrap::None => seq,
        Wrap::Tmux => {
            let mut out = Vec::with_capacity(seq.len() + 16);
            out.extend_from_slice(b"\x1bPtmux;");
            for &b in &seq {
                if b == 0x1b {
                    out.push(0x1b);
                }
                out.push(b);
            }
            out.extend_from_slice(b"\x1b\\");
            out
        }
        Wrap::Screen => {
            let mut out = Vec::with_capacity(seq.len() + seq.len() / SCREEN_CHUNK * 4 + 4);
            for chunk in seq.chunks(SCREEN_CHUNK) {
                out.extend_from_slice(b"\x1bP");
                out.extend_from_slice(chunk);
                out.extend_from_slice(b"\x1b\\");
            }
            out
        }
    }
}

/// Writes bytes (an OSC 52 sequence) to the controlling terminal, for callers that do not
/// own one through a UI library, such as the command line.
pub fn write_to_tty(bytes: &[u8]) -> std::io::Result<()> {
    let mut tty = std::fs::OpenOptions::new().write(true).open("/dev/tty")?;
    tty.write_all(bytes)?;
    tty.flush()
}

/// What the clipboard chain looks at, read once from the process environment
/// ([`ClipboardEnv::from_process`]) or made up by a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClipboardEnv {
    /// `DISPLAY`: an X server.
    pub display: Option<String>,
    /// `WAYLAND_DISPLAY`: a Wayland compositor.
    pub wayland_display: Option<String>,
    /// `TMUX`: the tmux server's socket, pid and session; passed on to the tmux command.
    pub tmux: Option<String>,
    /// `STY`: the GNU screen session.
    pub sty: Option<String>,
    /// `TERM`: `screen*` means GNU screen outside tmux; `dumb` and `linux` cannot take OSC 52.
    pub term: Option<String>,
    /// macOS has a pasteboard without any display variable.
    pub macos: bool,
    /// The tmux program to run.
    pub tmux_program: PathBuf,
}

impl Default for ClipboardEnv {
    /// Nothing detected: no display, no tmux, no screen, a terminal that takes OSC 52.
    fn default() -> Self {
        ClipboardEnv {
            display: None,
            wayland_display: None,
            tmux: None,
            sty: None,
            term: None,
            macos: false,
            tmux_program: PathBuf::from("tmux"),
        }
    }
}

impl ClipboardEnv {
    /// Reads `DISPLAY`, `WAYLAND_DISPLAY`, `TMUX`, `STY` and `TERM`; empty counts as unset.
    pub fn from_process() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        ClipboardEnv {
            display: var("DISPLAY"),
            wayland_display: var("WAYLAND_DISPLAY"),
            tmux: var("TMUX"),
            sty: var("STY"),
            term: var("TERM"),
            macos: cfg!(target_os = "macos"),
            tmux_program: PathBuf::from("tmux"),
        }
    }

    fn has_display(&self) -> bool {
        self.macos || set(&self.display) || set(&self.wayland_display)
    }

    fn tmux(&self) -> Option<&str> {
        self.tmux.as_deref().filter(|v| !v.is_empty())
    }

    /// tmux sets TERM to `screen*` too, so screen counts only outside tmux.
    fn in_screen(&self) -> bool {
        self.tmux().is_none()
            && (set(&self.sty)
                || self
                    .term
                    .as_deref()
                    .is_some_and(|t| t.starts_with("screen")))
    }

    /// The terminal can take OSC 52; unknown terminals are assumed to (most modern ones
    /// do, and those that do not ignore it).
    fn takes_osc52(&self) -> bool {
        !matches!(self.term.as_deref(), Some("dumb" | "linux"))
    }
}

fn set(v: &Option<String>) -> bool {
    v.as_deref().is_some_and(|v| !v.is_empty())
}

/// Something that can set the native clipboard; arboard in tdb, a fake in tests.
pub trait NativeClipboard {
    fn set_text(&mut self, text: &str) -> std::result::Result<(), String>;
}

impl NativeClipboard for arboard::Clipboard {
    fn set_text(&mut self, text: &str) -> std::result::Result<(), String> {
        arboard::Clipboard::set_text(self, text).map_err(|e| e.to_string())
    }
}

/// Opens the native clipboard, on the worker thread that then keeps it.
pub type NativeOpener =
    Box<dyn FnOnce() -> std::result::Result<Box<dyn NativeClipboard>, String> + Send>;

fn open_arboard() -> std::result::Result<Box<dyn NativeClipboard>, String> {
    arboard::Clipboard::new()
        .map(|c| Box::new(c) as Box<dyn NativeClipboard>)
        .map_err(|e| e.to_string())
}

/// The clipboard chain of the module doc. Keep one for the life of the program: on X11 the
/// copied text lives only as long as the process that owns it answers for it, so the native
/// clipboard is held by a worker thread owned by this value, and dropping it hands the text
/// to a clipboard manager if one runs.
pub struct Clipboard {
    env: ClipboardEnv,
    file: PathBuf,
    native: Mutex<NativeState>,
}

enum NativeState {
    NotStarted(NativeOpener),
    Running(mpsc::Sender<Job>),
    /// It failed once; later copies skip it instead of waiting for it again.
    Broken,
}

enum Job {
    Set(String, mpsc::Sender<std::result::Result<(), String>>),
    Quit(mpsc::Sender<()>),
}

impl Clipboard {
    /// The chain for this process: environment read now, file fallback in the home.
    pub fn from_env(home: &Home) -> Self {
        Clipboard::new(
            ClipboardEnv::from_process(),
            home.root().join("clipboard.txt"),
        )
    }

    /// A chain for a given environment; `file` is the last resort.
    pub fn new(env: ClipboardEnv, file: PathBuf) -> Self {
        Clipboard::with_native(env, file, Box::new(open_arboard))
    }

    /// Like [`Clipboard::new`] with another native clipboard (tests).
    pub fn with_native(env: ClipboardEnv, file: PathBuf, native: NativeOpener) -> Self {
        Clipboard {
            env,
            file,
            native: Mutex::new(NativeState::NotStarted(native)),
        }
    }

    pub fn env(&self) -> &ClipboardEnv {
        &self.env
    }

    /// Copies `text` (sanitized first) down the chain of the module doc. With
    /// [`Via::Osc52`] the caller still has to write [`Copied::terminal_write`] to the
    /// terminal.
    ///
    /// Errors when even the file cannot be written, and for an empty text: tmux ignores an
    /// empty load (the old buffer would stay and be pasted), so rather than each path doing
    /// something different, nothing is copied and the caller says so.
    pub fn copy(&self, text: &str) -> Result<Copied> {
        let text = for_clipboard(text);
        let text: &str = &text;
        if text.is_empty() {
            return Err(Error::Invalid(
                "nothing to copy: the selection is empty".into(),
            ));
        }
        let bytes = text.len();
        let copied = |via, warning: Option<String>, terminal_write| Copied {
            via,
            bytes,
            warning,
            terminal_write,
        };
        let mut notes: Vec<String> = Vec::new();

        if self.env.has_display() {
            match self.native_set(text) {
                Ok(()) => return Ok(copied(Via::Native, None, None)),
                Err(Some(why)) => notes.push(format!("native clipboard failed: {why}")),
                Err(None) => {}
            }
        }

        let base64_len = base64::encoded_len(bytes, true).unwrap_or(usize::MAX);
        let fits_osc52 = base64_len <= OSC52_MAX_BASE64;
        let mut tmux_failed = false;
        if let Some(tmux) = self.env.tmux() {
            match tmux_load_buffer(&self.env.tmux_program, tmux, text) {
                Ok(to_terminal) => {
                    if !to_terminal {
                        notes.push(
                            "tmux is older than 3.2: the tmux buffer has it (prefix ] pastes), \
                             the terminal's clipboard does not"
                                .into(),
                        );
                    } else if !fits_osc52 {
                        notes.push(format!(
                            "{} may be too large for the terminal's clipboard; the tmux buffer \
                             has it all (prefix ] pastes)",
                            format_size(bytes)
                        ));
                    }
                    return Ok(copied(Via::Tmux, join(notes), None));
                }
                Err(why) => {
                    notes.push(format!("tmux load-buffer failed: {why}"));
                    tmux_failed = true;
                }
            }
        }

        if !self.env.takes_osc52() {
            notes.push(format!(
                "the terminal (TERM={}) cannot take OSC 52",
                self.env.term.as_deref().unwrap_or("")
            ));
        } else if !fits_osc52 {
            notes.push(format!(
                "{} is too large for OSC 52 (at most {})",
                format_size(bytes),
                format_size(OSC52_MAX_BASE64 / 4 * 3)
            ));
        } else {
            let seq = if tmux_failed {
                notes.push(
                    "sent OSC 52 through tmux, which passes it on only with \
                     `set -g set-clipboard on` or `set -g allow-passthrough on`"
                        .into(),
                );
                let mut seq = osc52(text, Wrap::None);
                seq.extend(osc52(text, Wrap::Tmux));
                seq
            } else if self.env.in_screen() {
                osc52(text, Wrap::Screen)
            } else {
                osc52(text, Wrap::None)
            };
            return Ok(copied(Via::Osc52, join(notes), Some(seq)));
        }

        self.write_file(text).map_err(|e| {
            notes.push(e.to_string());
            Error::Internal(format!("could not copy: {}", notes.join("; ")))
        })?;
        Ok(copied(Via::File(self.file.clone()), join(notes), None))
    }

    fn write_file(&self, text: &str) -> Result<()> {
        if let Some(dir) = self.file.parent().filter(|d| !d.as_os_str().is_empty()) {
            crate::home::create_private_dir(dir)?;
        }
        crate::file_export::write_atomic(&self.file, true, |w| w.write_all(text.as_bytes()))?;
        Ok(())
    }

    /// Sets the native clipboard through the worker thread, waiting at most
    /// [`NATIVE_TIMEOUT`]. `Err(Some(why))` the first time it fails, `Err(None)` after.
    fn native_set(&self, text: &str) -> std::result::Result<(), Option<String>> {
        let mut state = self.native.lock().unwrap_or_else(|p| p.into_inner());
        if let NativeState::NotStarted(_) = &*state {
            let NativeState::NotStarted(opener) =
                std::mem::replace(&mut *state, NativeState::Broken)
            else {
                return Err(None);
            };
            match start_worker(opener) {
                Ok(tx) => *state = NativeState::Running(tx),
                Err(why) => return Err(Some(why)),
            }
        }
        let NativeState::Running(tx) = &*state else {
            return Err(None);
        };
        let (reply_tx, reply_rx) = mpsc::channel();
        let outcome = match tx.send(Job::Set(text.to_string(), reply_tx)) {
            Err(_) => Err("its thread has stopped".to_string()),
            Ok(()) => match reply_rx.recv_timeout(NATIVE_TIMEOUT) {
                Ok(r) => r,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    Err(format!("no answer within {} s", NATIVE_TIMEOUT.as_secs()))
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    Err("its thread has stopped".to_string())
                }
            },
        };
        outcome.map_err(|why| {
            *state = NativeState::Broken;
            Some(why)
        })
    }
}

impl Drop for Clipboard {
    /// Lets the worker drop the native clipboard, which on X11 hands the text to a clipboard
    /// manager; waits a moment for that, never long.
    fn drop(&mut self) {
        let state = self.native.get_mut().unwrap_or_else(|p| p.into_inner());
        if let NativeState::Running(tx) = state {
            let (done_tx, done_rx) = mpsc::channel();
            if tx.send(Job::Quit(done_tx)).is_ok() {
                let _ = done_rx.recv_timeout(Duration::from_secs(1));
            }
        }
    }
}

/// The thread that owns the native clipboard for the life of the [`Clipboard`]. Opening it
/// happens there too, so a slow display server delays no caller past [`NATIVE_TIMEOUT`].
fn start_worker(opener: NativeOpener) -> std::result::Result<mpsc::Sender<Job>, String> {
    let (tx, rx) = mpsc::channel::<Job>();
    thread::Builder::new()
        .name("tdb-clipboard".into())
        .spawn(move || {
            let mut native = opener();
            for job in rx {
                match job {
                    Job::Set(text, reply) => {
                        let r = match native.as_mut() {
                            Ok(c) => c.set_text(&text),
                            Err(why) => Err(why.clone()),
                        };
                        let _ = reply.send(r);
                    }
                    Job::Quit(done) => {
                        drop(native);
                        let _ = done.send(());
                        return;
                    }
                }
            }
        })
        .map_err(|e| format!("cannot start its thread: {e}"))?;
    Ok(tx)
}

/// `tmux load-buffer -w -`, then without `-w` if this tmux does not know it. Ok(true) when
/// tmux was asked to pass the text on to the terminal's clipboard too.
fn tmux_load_buffer(
    program: &Path,
    tmux_env: &str,
    text: &str,
) -> std::result::Result<bool, String> {
    match run_tmux(program, tmux_env, text, true) {
        Ok(()) => Ok(true),
        Err(why) if why.contains("unknown flag") || why.contains("usage:") => {
            run_tmux(program, tmux_env, text, false).map(|()| false)
        }
        Err(why) => Err(why),
    }
}

fn run_tmux(
    program: &Path,
    tmux_env: &str,
    text: &str,
    to_terminal: bool,
) -> std::result::Result<(), String> {
    let mut cmd = Command::new(program);
    cmd.arg("load-buffer");
    if to_terminal {
        cmd.arg("-w");
    }
    cmd.arg("-")
        // The server to talk to; set explicitly so an injected environment is the one used.
        .env("TMUX", tmux_env)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .map_err(|e| format!("cannot run {}: {e}", program.display()))?;
    // Written from a thread: tmux may stop reading (a usage error) and a large text must
    // not block this one.
    let stdin = child.stdin.take();
    let data = text.as_bytes().to_vec();
    let writer = thread::spawn(move || {
        if let Some(mut stdin) = stdin {
            let _ = stdin.write_all(&data);
        }
    });
    let deadline = Instant::now() + TMUX_TIMEOUT;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => thread::sleep(Duration::from_millis(2)),
            Ok(None) => {
                let _ = child.kill();
                let _ = child.wait();
                let _ = writer.join();
                return Err(format!("no answer within {} s", TMUX_TIMEOUT.as_secs()));
            }
            Err(e) => return Err(e.to_string()),
        }
    };
    let _ = writer.join();
    if status.success() {
        return Ok(());
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    let stderr = stderr.trim();
    Err(if stderr.is_empty() {
        status.to_string()
    } else {
        stderr.lines().collect::<Vec<_>>().join(" ")
    })
}

fn join(notes: Vec<String>) -> Option<String> {
    (!notes.is_empty()).then(|| notes.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(b64: &[u8]) -> String {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        String::from_utf8(bytes).unwrap()
    }

    #[test]
    fn osc52_plain_exact_bytes() {
        let seq = osc52("a\tb\n1\t2\n", Wrap::None);
        assert_eq!(seq, b"\x1b]52;c;YQliCjEJMgo=\x07");
        assert_eq!(decode(&seq[7..seq.len() - 1]), "a\tb\n1\t2\n");
        assert_eq!(osc52("", Wrap::None), b"\x1b]52;c;\x07");
    }

    #[test]
    fn osc52_tmux_doubles_escapes() {
        let seq = osc52("hi", Wrap::Tmux);
        assert_eq!(seq, b"\x1bPtmux;\x1b\x1b]52;c;aGk=\x07\x1b\\");
    }

    #[test]
    fn osc52_screen_chunks() {
        let short = osc52("hi", Wrap::Screen);
        assert_eq!(short, b"\x1bP\x1b]52;c;aGk=\x07\x1b\\");

        // 1,200 bytes of text: 1,600 of base64, 1,608 with the OSC frame: three pieces.
        let text = "x".repeat(1200);
        let seq = osc52(&text, Wrap::Screen);
        let plain = osc52(&text, Wrap::None);
        assert_eq!(plain.len(), 1608);
        let mut expected = Vec::new();
        for chunk in plain.chunks(SCREEN_CHUNK) {
            expected.extend_from_slice(b"\x1bP");
            expected.extend_from_slice(chunk);
            expected.extend_from_slice(b"\x1b\\");
        }
        assert_eq!(seq, expected);
        assert_eq!(seq.len(), 1608 + 3 * 4);
        // The pieces put back together are the plain sequence, and each fits screen's
        // 768-byte string buffer, wrapper included.
        let mut rebuilt = Vec::new();
        let mut rest = &seq[..];
        while !rest.is_empty() {
            assert!(rest.starts_with(b"\x1bP"));
            let body = &rest[2..];
            let n = SCREEN_CHUNK.min(body.len() - 2);
            assert!(body[n..].starts_with(b"\x1b\\"));
            assert!(n + 4 <= 768);
            rebuilt.extend_from_slice(&body[..n]);
            rest = &body[n + 2..];
        }
        assert_eq!(rebuilt, plain);
    }

    #[test]
    fn a_clipboard_can_live_in_another_thread() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<Clipboard>();
        send_sync::<Copied>();
    }

    #[test]
    fn env_rules() {
        let mut env = ClipboardEnv::default();
        assert!(!env.has_display() && !env.in_screen() && env.takes_osc52());
        env.term = Some("screen-256color".into());
        assert!(env.in_screen());
        env.tmux = Some("/tmp/tmux-1/default,1,0".into());
        assert!(!env.in_screen(), "tmux also says TERM=screen");
        env.term = Some("dumb".into());
        assert!(!env.takes_osc52());
        env.wayland_display = Some("wayland-0".into());
        assert!(env.has_display());
        let env = ClipboardEnv {
            display: Some(String::new()),
            ..ClipboardEnv::default()
        };
        assert!(!env.has_display(), "empty DISPLAY is no display");
    }

    #[test]
    fn status_line_reads_well() {
        let c = Copied {
            via: Via::Osc52,
            bytes: 1229,
            warning: None,
            terminal_write: None,
        };
        assert_eq!(
            status_line("20 rows", &c),
            "copied 20 rows · 1.2 KB · via OSC 52"
        );
        let c = Copied {
            via: Via::Tmux,
            bytes: 3,
            warning: Some("tmux is old".into()),
            terminal_write: None,
        };
        assert_eq!(
            status_line("cell", &c),
            "copied cell · 3 B · via tmux buffer · tmux is old"
        );
        let home = dirs::home_dir().unwrap();
        let via = Via::File(home.join(".local/share/tdb/clipboard.txt"));
        assert_eq!(via.label(), "file ~/.local/share/tdb/clipboard.txt");
        assert_eq!(
            Via::File(PathBuf::from("/srv/x.txt")).label(),
            "file /srv/x.txt"
        );
    }
}
