//! The clipboard chain with made-up environments (so the machine's own DISPLAY or TMUX do
//! not matter), fake native clipboards and tmux programs, and a real private tmux server.

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use tdb::clipboard::{
    Clipboard, ClipboardEnv, Copied, NativeClipboard, OSC52_MAX_BASE64, Via, Wrap, osc52,
};
use tdb::core::export::{Format, Scope, render};
use tdb::core::value::{Column, ResultSet, Value};

const PASTE_END: &str = "value\u{1b}[201~; echo pwned";

fn clipboard(env: ClipboardEnv, dir: &Path) -> Clipboard {
    Clipboard::with_native(
        env,
        dir.join("home/clipboard.txt"),
        Box::new(|| Err("no native clipboard in this test".to_string())),
    )
}

/// The text an OSC 52 sequence (plain, as the terminal sees it) carries.
fn osc52_text(seq: &[u8]) -> String {
    let body = seq
        .strip_prefix(b"\x1b]52;c;")
        .and_then(|s| s.strip_suffix(b"\x07"))
        .expect("a plain OSC 52 sequence");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap();
    String::from_utf8(bytes).unwrap()
}

fn terminal_text(c: &Copied) -> String {
    osc52_text(c.terminal_write.as_deref().expect("bytes for the terminal"))
}

/// A stand-in for tmux: records its arguments, its TMUX variable and its stdin, and fails
/// as `behaviour` says.
fn fake_tmux(dir: &Path, behaviour: &str) -> PathBuf {
    let script = match behaviour {
        "ok" => {
            "printf '%s ' \"$@\" > \"$D/args\"; printf '%s' \"$TMUX\" > \"$D/env\"; cat > \"$D/stdin\""
        }
        "old" => {
            "if [ \"$2\" = -w ]; then echo 'command load-buffer: unknown flag -w' >&2; exit 1; fi; \
             printf '%s ' \"$@\" > \"$D/args\"; cat > \"$D/stdin\""
        }
        "dead" => "echo 'no server running on /tmp/tmux-0/default' >&2; exit 1",
        other => panic!("{other}"),
    };
    let path = dir.join(format!("tmux-{behaviour}"));
    fs::write(
        &path,
        format!("#!/bin/sh\nD='{}'\n{script}\n", dir.display()),
    )
    .unwrap();
    fs::set_permissions(&path, fs::Permissions::from_mode(0o755)).unwrap();
    path
}

fn in_tmux(program: PathBuf) -> ClipboardEnv {
    ClipboardEnv {
        tmux: Some("/tmp/tmux-1000/default,4242,0".into()),
        term: Some("tmux-256color".into()),
        tmux_program: program,
        ..ClipboardEnv::default()
    }
}

#[test]
fn nothing_detected_means_osc52() {
    let t = tempfile::tempdir().unwrap();
    let c = clipboard(ClipboardEnv::default(), t.path())
        .copy("a\tb\n1\t2\n")
        .unwrap();
    assert_eq!(c.via, Via::Osc52);
    assert_eq!(c.bytes, 8);
    assert_eq!(c.warning, None);
    assert_eq!(
        c.terminal_write.as_deref(),
        Some(&b"\x1b]52;c;YQliCjEJMgo=\x07"[..])
    );
}

#[test]
fn empty_text_is_refused_everywhere() {
    let t = tempfile::tempdir().unwrap();
    for env in [ClipboardEnv::default(), in_tmux(fake_tmux(t.path(), "ok"))] {
        let cb = clipboard(env, t.path());
        for text in ["", "\u{1b}", "\u{7}\u{202E}"] {
            let err = cb.copy(text).unwrap_err();
            assert!(err.to_string().contains("nothing to copy"), "{err}");
        }
    }
    assert!(!t.path().join("stdin").exists());
}

#[test]
fn screen_gets_the_screen_wrap() {
    let t = tempfile::tempdir().unwrap();
    for env in [
        ClipboardEnv {
            sty: Some("1234.pts-0.host".into()),
            ..ClipboardEnv::default()
        },
        ClipboardEnv {
            term: Some("screen.xterm-256color".into()),
            ..ClipboardEnv::default()
        },
    ] {
        let c = clipboard(env, t.path()).copy("hi").unwrap();
        assert_eq!(c.via, Via::Osc52);
        assert_eq!(
            c.terminal_write.as_deref(),
            Some(&osc52("hi", Wrap::Screen)[..])
        );
    }
}

#[test]
fn tmux_comes_before_osc52() {
    let t = tempfile::tempdir().unwrap();
    let env = in_tmux(fake_tmux(t.path(), "ok"));
    let c = clipboard(env, t.path()).copy(PASTE_END).unwrap();
    assert_eq!(c.via, Via::Tmux);
    assert_eq!(c.warning, None);
    assert_eq!(c.terminal_write, None);
    let read = |f: &str| fs::read_to_string(t.path().join(f)).unwrap();
    assert_eq!(read("args"), "load-buffer -w - ");
    assert_eq!(read("env"), "/tmp/tmux-1000/default,4242,0");
    assert_eq!(read("stdin"), "value[201~; echo pwned");
}

#[test]
fn old_tmux_without_w_still_gets_the_buffer() {
    let t = tempfile::tempdir().unwrap();
    let env = in_tmux(fake_tmux(t.path(), "old"));
    let c = clipboard(env, t.path()).copy("x").unwrap();
    assert_eq!(c.via, Via::Tmux);
    assert!(c.warning.as_deref().unwrap().contains("older than 3.2"));
    assert_eq!(
        fs::read_to_string(t.path().join("args")).unwrap(),
        "load-buffer - "
    );
    assert_eq!(fs::read_to_string(t.path().join("stdin")).unwrap(), "x");
}

#[test]
fn failed_tmux_falls_back_to_osc52_plain_and_passthrough() {
    let t = tempfile::tempdir().unwrap();
    for program in [fake_tmux(t.path(), "dead"), t.path().join("no-such-tmux")] {
        let c = clipboard(in_tmux(program), t.path()).copy("hi").unwrap();
        assert_eq!(c.via, Via::Osc52);
        let mut expected = osc52("hi", Wrap::None);
        expected.extend(osc52("hi", Wrap::Tmux));
        assert_eq!(c.terminal_write.as_deref(), Some(&expected[..]));
        let w = c.warning.unwrap();
        assert!(w.contains("tmux load-buffer failed"), "{w}");
        assert!(w.contains("allow-passthrough"), "{w}");
    }
    let c = clipboard(in_tmux(fake_tmux(t.path(), "dead")), t.path())
        .copy("hi")
        .unwrap();
    assert!(c.warning.unwrap().contains("no server running"));
}

/// The largest text that still fits the OSC 52 limit, and one byte more.
fn limit_texts() -> (String, String) {
    let fits = OSC52_MAX_BASE64 / 4 * 3;
    ("a".repeat(fits), "a".repeat(fits + 1))
}

#[test]
fn oversize_goes_to_the_file_with_a_warning() {
    let t = tempfile::tempdir().unwrap();
    let cb = clipboard(ClipboardEnv::default(), t.path());
    let (fits, too_big) = limit_texts();
    let c = cb.copy(&fits).unwrap();
    assert_eq!(c.via, Via::Osc52);
    assert!(c.terminal_write.unwrap().len() <= OSC52_MAX_BASE64 + 8);

    let c = cb.copy(&format!("{too_big}\u{1b}")).unwrap();
    let file = t.path().join("home/clipboard.txt");
    assert_eq!(c.via, Via::File(file.clone()));
    assert_eq!(c.terminal_write, None);
    assert!(c.warning.unwrap().contains("too large for OSC 52"));
    assert_eq!(fs::read_to_string(&file).unwrap(), too_big);
    let mode = fs::metadata(&file).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    // A second copy replaces the file.
    cb.copy(&format!("{too_big}b")).unwrap();
    assert_eq!(fs::read_to_string(&file).unwrap(), format!("{too_big}b"));
}

#[test]
fn oversize_in_tmux_warns_but_the_buffer_has_it() {
    let t = tempfile::tempdir().unwrap();
    let (_, too_big) = limit_texts();
    let c = clipboard(in_tmux(fake_tmux(t.path(), "ok")), t.path())
        .copy(&too_big)
        .unwrap();
    assert_eq!(c.via, Via::Tmux);
    assert!(c.warning.unwrap().contains("may be too large"));
    assert_eq!(fs::read_to_string(t.path().join("stdin")).unwrap(), too_big);
}

#[test]
fn a_terminal_without_osc52_gets_the_file() {
    let t = tempfile::tempdir().unwrap();
    for term in ["dumb", "linux"] {
        let env = ClipboardEnv {
            term: Some(term.into()),
            ..ClipboardEnv::default()
        };
        let c = clipboard(env, t.path()).copy(PASTE_END).unwrap();
        assert!(matches!(c.via, Via::File(_)), "{term}");
        assert!(c.warning.unwrap().contains("cannot take OSC 52"));
        let text = fs::read_to_string(t.path().join("home/clipboard.txt")).unwrap();
        assert_eq!(text, "value[201~; echo pwned");
    }
}

#[test]
fn when_even_the_file_fails_the_error_says_what_was_tried() {
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("home"), "a file where the home should be").unwrap();
    let env = ClipboardEnv {
        term: Some("dumb".into()),
        ..ClipboardEnv::default()
    };
    let err = clipboard(env, t.path()).copy("x").unwrap_err();
    assert!(err.to_string().contains("cannot take OSC 52"), "{err}");
}

struct FakeNative {
    calls: Arc<AtomicUsize>,
    got: Arc<Mutex<Vec<String>>>,
    fail: bool,
}

impl NativeClipboard for FakeNative {
    fn set_text(&mut self, text: &str) -> Result<(), String> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if self.fail {
            return Err("X connection broken".into());
        }
        self.got.lock().unwrap().push(text.to_string());
        Ok(())
    }
}

fn with_fake_native(env: ClipboardEnv, dir: &Path, fail: bool) -> (Clipboard, FakeState) {
    let calls = Arc::new(AtomicUsize::new(0));
    let got = Arc::new(Mutex::new(Vec::new()));
    let native = FakeNative {
        calls: calls.clone(),
        got: got.clone(),
        fail,
    };
    let cb = Clipboard::with_native(
        env,
        dir.join("clipboard.txt"),
        Box::new(move || Ok(Box::new(native) as Box<dyn NativeClipboard>)),
    );
    (cb, FakeState { calls, got })
}

struct FakeState {
    calls: Arc<AtomicUsize>,
    got: Arc<Mutex<Vec<String>>>,
}

#[test]
fn a_display_means_native_first() {
    let t = tempfile::tempdir().unwrap();
    let env = ClipboardEnv {
        display: Some(":0".into()),
        ..in_tmux(fake_tmux(t.path(), "ok"))
    };
    let (cb, state) = with_fake_native(env, t.path(), false);
    let c = cb.copy(PASTE_END).unwrap();
    assert_eq!(c.via, Via::Native);
    assert_eq!(c.warning, None);
    cb.copy("second").unwrap();
    assert_eq!(
        *state.got.lock().unwrap(),
        vec!["value[201~; echo pwned".to_string(), "second".into()]
    );
    assert!(!t.path().join("stdin").exists(), "tmux was not needed");
    drop(cb);
}

#[test]
fn without_a_display_native_is_not_tried() {
    let t = tempfile::tempdir().unwrap();
    let (cb, state) = with_fake_native(ClipboardEnv::default(), t.path(), false);
    assert_eq!(cb.copy("x").unwrap().via, Via::Osc52);
    assert_eq!(state.calls.load(Ordering::SeqCst), 0);
}

#[test]
fn a_failing_native_clipboard_is_reported_once_then_skipped() {
    let t = tempfile::tempdir().unwrap();
    let env = ClipboardEnv {
        wayland_display: Some("wayland-0".into()),
        ..ClipboardEnv::default()
    };
    let (cb, state) = with_fake_native(env, t.path(), true);
    let c = cb.copy("x").unwrap();
    assert_eq!(c.via, Via::Osc52);
    let w = c.warning.unwrap();
    assert!(
        w.contains("native clipboard failed: X connection broken"),
        "{w}"
    );
    let c = cb.copy("y").unwrap();
    assert_eq!(c.via, Via::Osc52);
    assert_eq!(c.warning, None);
    assert_eq!(state.calls.load(Ordering::SeqCst), 1);

    // Failing to open at all is the same.
    let env = ClipboardEnv {
        display: Some(":0".into()),
        ..ClipboardEnv::default()
    };
    let c = clipboard(env, t.path()).copy("x").unwrap();
    assert_eq!(c.via, Via::Osc52);
    assert!(
        c.warning
            .unwrap()
            .contains("no native clipboard in this test")
    );
}

fn sample() -> ResultSet {
    let col = |name: &str| Column {
        name: name.into(),
        type_name: "text".into(),
    };
    ResultSet {
        columns: vec![col("id"), col("note")],
        rows: vec![
            vec![Value::Int(1), Value::Text("tab\there".into())],
            vec![Value::Int(2), Value::Text(PASTE_END.into())],
            vec![Value::Null, Value::Text("日本語 ✓".into())],
        ],
        truncated: false,
    }
}

#[test]
fn bracketed_paste_end_never_reaches_any_clipboard() {
    let t = tempfile::tempdir().unwrap();
    let rs = sample();
    let scopes = [
        Scope::Cell { row: 1, col: 1 },
        Scope::Row(1),
        Scope::Column(1),
        Scope::All,
    ];
    let osc = clipboard(ClipboardEnv::default(), t.path());
    for format in Format::ALL {
        for scope in scopes {
            let text = render(&rs, scope, format);
            let c = osc.copy(&text).unwrap();
            let got = terminal_text(&c);
            assert!(!got.contains('\u{1b}'), "{format:?} {scope:?}: {got:?}");
            assert!(got.contains("[201~"), "{format:?} {scope:?}: {got:?}");
        }
    }
    // The cell arrives as its value minus the ESC.
    let c = osc
        .copy(&render(&rs, Scope::Cell { row: 1, col: 1 }, Format::Tsv))
        .unwrap();
    assert_eq!(terminal_text(&c), "value[201~; echo pwned");
}

/// A private tmux server for one test, killed when the test ends however it ends.
struct TmuxServer {
    socket: String,
    /// The socket file, which tmux leaves behind after kill-server.
    path: Option<PathBuf>,
}

impl TmuxServer {
    fn start() -> TmuxServer {
        static N: AtomicUsize = AtomicUsize::new(0);
        let socket = format!(
            "tdb-test-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut server = TmuxServer { socket, path: None };
        let ok = server
            .cmd(&["-f", "/dev/null", "new-session", "-d"])
            .status()
            .unwrap()
            .success();
        assert!(ok, "tmux new-session failed");
        let var = server.tmux_var();
        server.path = var.split(',').next().map(PathBuf::from);
        server
    }

    fn cmd(&self, args: &[&str]) -> Command {
        let mut c = Command::new("tmux");
        c.arg("-L").arg(&self.socket).args(args).env_remove("TMUX");
        c
    }

    /// What `TMUX` holds inside this server's session.
    fn tmux_var(&self) -> String {
        let out = self
            .cmd(&["display-message", "-p", "#{socket_path},#{pid},0"])
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    }

    fn buffer(&self) -> String {
        let out = self.cmd(&["show-buffer"]).output().unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    }
}

impl Drop for TmuxServer {
    fn drop(&mut self) {
        let _ = self.cmd(&["kill-server"]).status();
        if let Some(p) = &self.path {
            let _ = fs::remove_file(p);
        }
    }
}

#[test]
fn real_tmux_buffer_gets_cell_row_and_result() {
    let t = tempfile::tempdir().unwrap();
    let server = TmuxServer::start();
    let env = ClipboardEnv {
        tmux: Some(server.tmux_var()),
        term: Some("screen".into()),
        ..ClipboardEnv::default()
    };
    let cb = clipboard(env, t.path());
    let rs = sample();

    let c = cb
        .copy(&render(&rs, Scope::Cell { row: 1, col: 1 }, Format::Tsv))
        .unwrap();
    assert_eq!(c.via, Via::Tmux);
    assert_eq!(c.terminal_write, None);
    assert_eq!(c.warning, None);
    assert_eq!(server.buffer(), "value[201~; echo pwned");

    cb.copy(&render(&rs, Scope::Row(0), Format::Tsv)).unwrap();
    assert_eq!(server.buffer(), "id\tnote\n1\ttab\\there\n");

    let c = cb.copy(&render(&rs, Scope::All, Format::Tsv)).unwrap();
    assert_eq!(
        server.buffer(),
        "id\tnote\n1\ttab\\there\n2\tvalue[201~; echo pwned\n\t日本語 ✓\n"
    );
    assert_eq!(c.bytes, server.buffer().len());
}
