//! tdb's local files and output against hostile or broken surroundings, through the real
//! binary in a temp home: a FIFO where a CSV file should be, control characters in `--json`
//! output, the rules for `TDB_MASTER_KEY`, the modes of the files tdb creates, and a damaged
//! registry.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// A command that has not ended by then is hung: the test fails instead of hanging the run.
/// Far above any honest run (a FIFO used to block forever).
const HUNG: Duration = Duration::from_secs(120);

struct Env {
    dir: tempfile::TempDir,
    vars: Vec<(String, String)>,
}

impl Env {
    fn new() -> Self {
        Env {
            dir: tempfile::tempdir().unwrap(),
            vars: Vec::new(),
        }
    }

    fn with_key(mut self, key: &str) -> Self {
        self.vars.push(("TDB_MASTER_KEY".into(), key.into()));
        self
    }

    fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::write(&p, contents).unwrap();
        p
    }

    fn tdb(&self, args: &[&str]) -> Output {
        self.tdb_in(&self.home(), args)
    }

    fn tdb_in(&self, home: &Path, args: &[&str]) -> Output {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_tdb"));
        cmd.arg("--home")
            .arg(home)
            .args(args)
            .env_remove("TDB_MASTER_KEY")
            .env_remove("TDB_MASTER_KEY_OLD")
            .env_remove("TDB_AUDIT_LOG")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in &self.vars {
            cmd.env(k, v);
        }
        let mut child = cmd.spawn().unwrap();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > HUNG {
                child.kill().unwrap();
                panic!("tdb {args:?} hung");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        child.wait_with_output().unwrap()
    }

    fn ok(&self, args: &[&str]) -> Output {
        let out = self.tdb(args);
        assert!(
            out.status.success(),
            "tdb {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        out
    }

    fn add_csv(&self, name: &str, path: &Path) {
        self.ok(&[
            "source",
            "add",
            name,
            "--type",
            "csv",
            "--path",
            path.to_str().unwrap(),
        ]);
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
}

// ---- FIFOs and other non-regular files as a CSV path ----

#[test]
fn fifo_at_source_add_is_invalid_input_naming_the_path() {
    let env = Env::new();
    let fifo = env.dir.path().join("pipe.csv");
    mkfifo(&fifo);
    let out = env.tdb(&[
        "source",
        "add",
        "p",
        "--type",
        "csv",
        "--path",
        fifo.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("named pipe"), "{err}");
    assert!(err.contains(fifo.to_str().unwrap()), "{err}");

    let out = env.tdb(&["source", "add", "d", "--type", "csv", "--path", "/dev/zero"]);
    assert_eq!(out.status.code(), Some(10), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("character device"),
        "{}",
        stderr(&out)
    );
}

/// The file is swapped for a FIFO after registration, before and after a cache exists:
/// query, test and schema each end at once, "unreachable", naming the path.
#[test]
fn fifo_swapped_in_after_add_is_unreachable_for_every_command() {
    for cached in [false, true] {
        let env = Env::new();
        let csv = env.file("people.csv", "id,name\n1,ann\n");
        env.add_csv("people", &csv);
        if cached {
            env.ok(&["query", "--source", "people", "--sql", "SELECT * FROM data"]);
        }
        std::fs::remove_file(&csv).unwrap();
        mkfifo(&csv);
        let commands: [&[&str]; 3] = [
            &["query", "--source", "people", "--sql", "SELECT * FROM data"],
            &["source", "test", "people"],
            &["source", "schema", "people"],
        ];
        for args in commands {
            let out = env.tdb(args);
            assert_eq!(out.status.code(), Some(13), "{args:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("named pipe"), "{args:?}: {err}");
            assert!(err.contains(csv.to_str().unwrap()), "{args:?}: {err}");
        }
    }
}

// ---- `--json` escapes C1 and bidi controls ----

/// Characters that must never leave `--json` raw: CSI, OSC, NEL (C1) and RIGHT-TO-LEFT
/// OVERRIDE.
const HOSTILE: [char; 4] = ['\u{9B}', '\u{9D}', '\u{85}', '\u{202E}'];

fn assert_escaped(what: &str, bytes: &[u8]) {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    for c in HOSTILE {
        assert!(
            !text.contains(c),
            "{what}: raw U+{:04X} in {text:?}",
            c as u32
        );
    }
    assert!(
        text.contains("\\u009b") || text.contains("\\u202e"),
        "{what}: {text:?}"
    );
}

#[test]
fn json_output_escapes_c1_and_bidi_controls() {
    let env = Env::new();
    let csv = env.file(
        "evil.csv",
        "id,na\u{9B}me\n1,x\u{9D}y\u{85}\u{202E}txt.exe\u{9B}2J\n",
    );
    env.add_csv("evil", &csv);

    // A value and a column name of a query result, and the SQL echoed back.
    let out = env.ok(&[
        "--json",
        "query",
        "--source",
        "evil",
        "--sql",
        "SELECT *, '\u{9B}31m' AS lit FROM data",
    ]);
    assert_escaped("query", &out.stdout);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["columns"][1], "na\u{9B}me");
    assert_eq!(
        v["rows"][0]["na\u{9B}me"],
        "x\u{9D}y\u{85}\u{202E}txt.exe\u{9B}2J"
    );

    // An error line on stderr.
    let out = env.tdb(&["--json", "source", "show", "no\u{202E}such\u{9B}"]);
    assert_eq!(out.status.code(), Some(11));
    assert_escaped("error line", &out.stderr);
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert_eq!(
        v["error"]["detail"],
        "source not found: no\u{202E}such\u{9B}"
    );

    // The audit log as `tdb --json audit` and `audit --tail` print it.
    for args in [
        &["--json", "audit"][..],
        &["--json", "audit", "--tail", "1"],
    ] {
        let out = env.ok(args);
        assert_escaped("audit", &out.stdout);
        let last: Value = serde_json::from_slice(
            out.stdout
                .trim_ascii_end()
                .rsplit(|b| *b == b'\n')
                .next()
                .unwrap(),
        )
        .unwrap();
        assert_eq!(last["sql"], "SELECT *, '\u{9B}31m' AS lit FROM data");
    }
}

// ---- TDB_MASTER_KEY ----

const PASSPHRASE: &str = "correct horse battery staple";

fn add_pg_with_password(env: &Env) -> String {
    let out = env.ok(&[
        "--json",
        "source",
        "add",
        "pg",
        "--type",
        "postgres",
        "--url",
        "postgres://reader:s3cret-pw@127.0.0.1:1/db",
    ]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["id"].as_str().unwrap().to_string()
}

/// Whether `source show` could decrypt the stored password (it warns when it cannot).
fn password_readable(env: &Env) -> bool {
    let out = env.ok(&["source", "show", "pg"]);
    let err = stderr(&out);
    !err.contains("cannot be decrypted")
}

fn stored_blob(env: &Env, id: &str) -> Vec<u8> {
    let db = rusqlite::Connection::open(env.home().join("registry.db")).unwrap();
    db.query_row("SELECT secret FROM sources WHERE id = ?1", [id], |r| {
        r.get(0)
    })
    .unwrap()
}

fn store_blob(env: &Env, id: &str, blob: &[u8]) {
    let db = rusqlite::Connection::open(env.home().join("registry.db")).unwrap();
    let n = db
        .execute(
            "UPDATE sources SET secret = ?2 WHERE id = ?1",
            rusqlite::params![id, blob],
        )
        .unwrap();
    assert_eq!(n, 1);
}

/// The blob format of tdb's registry: version byte, 24-byte nonce, XChaCha20-Poly1305 with
/// the source id as associated data.
fn seal(key: &[u8; 32], id: &str, secret: &str) -> Vec<u8> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let nonce = [5u8; 24];
    let sealed = chacha20poly1305::XChaCha20Poly1305::new(&(*key).into())
        .encrypt(
            &chacha20poly1305::XNonce::from(nonce),
            Payload {
                msg: secret.as_bytes(),
                aad: id.as_bytes(),
            },
        )
        .unwrap();
    let mut out = vec![1u8];
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    out
}

fn unseal(key: &[u8; 32], id: &str, blob: &[u8]) -> Option<String> {
    use chacha20poly1305::aead::{Aead, KeyInit, Payload};
    let nonce: [u8; 24] = blob[1..25].try_into().unwrap();
    let plain = chacha20poly1305::XChaCha20Poly1305::new(&(*key).into())
        .decrypt(
            &chacha20poly1305::XNonce::from(nonce),
            Payload {
                msg: &blob[25..],
                aad: id.as_bytes(),
            },
        )
        .ok()?;
    String::from_utf8(plain).ok()
}

/// The key earlier tdb made of a passphrase: its plain SHA-256.
fn legacy_key(phrase: &str) -> [u8; 32] {
    use sha2::Digest;
    sha2::Sha256::digest(phrase.as_bytes()).into()
}

/// The key tdb derives now, from the salt and costs in `<home>/master.kdf`.
fn argon_key(env: &Env, phrase: &str) -> [u8; 32] {
    let kdf: Value =
        serde_json::from_slice(&std::fs::read(env.home().join("master.kdf")).unwrap()).unwrap();
    assert_eq!(kdf["kdf"], "argon2id");
    let params = argon2::Params::new(
        kdf["m_cost_kib"].as_u64().unwrap() as u32,
        kdf["t_cost"].as_u64().unwrap() as u32,
        kdf["p_cost"].as_u64().unwrap() as u32,
        Some(32),
    )
    .unwrap();
    let salt = hex::decode(kdf["salt"].as_str().unwrap()).unwrap();
    let mut key = [0u8; 32];
    argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params)
        .hash_password_into(phrase.as_bytes(), &salt, &mut key)
        .unwrap();
    key
}

#[test]
fn a_hex_or_base64_key_is_the_key_itself() {
    use base64::Engine as _;
    let raw = [0x5Au8; 32];
    for text in [
        hex::encode(raw),
        base64::engine::general_purpose::STANDARD.encode(raw),
    ] {
        let env = Env::new().with_key(&text);
        let id = add_pg_with_password(&env);
        let blob = stored_blob(&env, &id);
        assert_eq!(
            unseal(&raw, &id, &blob).as_deref(),
            Some("s3cret-pw"),
            "{text}"
        );
        assert!(password_readable(&env));
        assert!(!env.home().join("master.key").exists());
        assert!(!env.home().join("master.kdf").exists());
    }
}

#[test]
fn a_passphrase_is_stretched_with_a_salt_and_works_across_processes() {
    let env = Env::new().with_key(PASSPHRASE);
    let id = add_pg_with_password(&env);
    // Another process, same passphrase: the salt in master.kdf gives it the same key.
    assert!(password_readable(&env));
    let blob = stored_blob(&env, &id);
    assert_eq!(
        unseal(&argon_key(&env, PASSPHRASE), &id, &blob).as_deref(),
        Some("s3cret-pw")
    );
    assert!(unseal(&legacy_key(PASSPHRASE), &id, &blob).is_none());
    assert!(!env.home().join("master.key").exists());

    let other = Env {
        dir: tempfile::tempdir().unwrap(),
        vars: vec![(
            "TDB_MASTER_KEY".into(),
            "another passphrase entirely".into(),
        )],
    };
    let out = other.tdb_in(&env.home(), &["source", "show", "pg"]);
    assert!(
        stderr(&out).contains("cannot be decrypted"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn empty_and_short_values_are_refused_with_what_to_use() {
    for (value, says) in [("", "empty"), ("   ", "empty"), ("short", "too short")] {
        let env = Env::new().with_key(value);
        for args in [&["source", "list"][..], &["--json", "source", "list"]] {
            let out = env.tdb(args);
            assert_eq!(out.status.code(), Some(1), "{value:?}: {}", stderr(&out));
            let err = stderr(&out);
            assert!(err.contains("TDB_MASTER_KEY"), "{err}");
            assert!(err.contains(says), "{err}");
            assert!(err.contains("64 hex digits"), "{err}");
        }
        // Nothing was created on the strength of a refused key.
        assert!(!env.home().join("master.key").exists());
        assert!(!env.home().join("master.kdf").exists());
    }
    // The refused value is not echoed back.
    let env = Env::new().with_key("hunter2hunt");
    let out = env.tdb(&["source", "list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(!stderr(&out).contains("hunter2hunt"), "{}", stderr(&out));
}

/// A password sealed by earlier tdb under the SHA-256 of the same passphrase still opens,
/// and is sealed again under the Argon2id key as it is read.
#[test]
fn legacy_secrets_still_open_and_are_reencrypted() {
    let env = Env::new().with_key(PASSPHRASE);
    let id = add_pg_with_password(&env);
    let legacy = seal(&legacy_key(PASSPHRASE), &id, "old-pw");
    store_blob(&env, &id, &legacy);

    assert!(password_readable(&env));
    let blob = stored_blob(&env, &id);
    assert_ne!(blob, legacy, "re-encrypted on read");
    assert_eq!(
        unseal(&argon_key(&env, PASSPHRASE), &id, &blob).as_deref(),
        Some("old-pw")
    );
    assert!(password_readable(&env));

    // A blob no key of this setting sealed is reported, not silently dropped.
    store_blob(&env, &id, &seal(&[9u8; 32], &id, "x"));
    assert!(!password_readable(&env));
}

/// Secrets sealed under a passphrase that is now too short move with TDB_MASTER_KEY_OLD.
#[test]
fn secrets_under_a_short_passphrase_move_with_the_old_key_variable() {
    let env = Env::new().with_key(PASSPHRASE);
    let id = add_pg_with_password(&env);
    let legacy = seal(&legacy_key("short"), &id, "old-pw");
    store_blob(&env, &id, &legacy);
    assert!(!password_readable(&env));

    let mut moving = Env {
        dir: tempfile::tempdir().unwrap(),
        vars: env.vars.clone(),
    };
    moving
        .vars
        .push(("TDB_MASTER_KEY_OLD".into(), "short".into()));
    let out = moving.tdb_in(&env.home(), &["source", "show", "pg"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        !stderr(&out).contains("cannot be decrypted"),
        "{}",
        stderr(&out)
    );
    let blob = stored_blob(&env, &id);
    assert_eq!(
        unseal(&argon_key(&env, PASSPHRASE), &id, &blob).as_deref(),
        Some("old-pw")
    );
    // From now on the old key is not needed.
    assert!(password_readable(&env));
}

// ---- modes of the files tdb creates ----

fn modes_under(root: &Path, out: &mut Vec<(PathBuf, u32, bool)>) {
    use std::os::unix::fs::PermissionsExt;
    for entry in std::fs::read_dir(root).unwrap().flatten() {
        let meta = std::fs::symlink_metadata(entry.path()).unwrap();
        out.push((
            entry.path(),
            meta.permissions().mode() & 0o777,
            meta.is_dir(),
        ));
        if meta.is_dir() {
            modes_under(&entry.path(), out);
        }
    }
}

#[test]
fn every_file_tdb_creates_in_the_home_is_private() {
    // SAFETY: umask only sets the process's file-mode mask; 022 is the usual default, set
    // here so SQLite's 0644 would show if tdb did not make its files itself.
    unsafe { libc::umask(0o022) };
    let mut env = Env::new().with_key(PASSPHRASE);
    env.vars.push(("TDB_LOG".into(), "debug".into()));
    let csv = env.file("people.csv", "id,name\n1,ann\n2,bob\n");
    env.add_csv("people", &csv);
    env.ok(&["query", "--source", "people", "--sql", "SELECT * FROM data"]);
    env.ok(&["source", "schema", "people"]);
    add_pg_with_password(&env);
    // The key file, when no TDB_MASTER_KEY is set, in a second home.
    let mut plain = Env::new();
    plain.vars.push(("TDB_LOG".into(), "debug".into()));
    add_pg_with_password(&plain);
    plain.add_csv("people", &csv);
    plain.ok(&["query", "--source", "people", "--sql", "SELECT 1"]);

    for home in [env.home(), plain.home()] {
        let mut found = Vec::new();
        modes_under(&home, &mut found);
        let names: Vec<String> = found
            .iter()
            .map(|(p, _, _)| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        for (path, mode, is_dir) in &found {
            let want = if *is_dir { 0o700 } else { 0o600 };
            assert_eq!(*mode, want, "{} is {mode:o}", path.display());
        }
        assert!(names.iter().any(|n| n.ends_with(".parquet")), "{names:?}");
        assert!(names.iter().any(|n| n.ends_with(".lock")), "{names:?}");
        assert!(names.iter().any(|n| n == "registry.db"), "{names:?}");
        assert!(names.iter().any(|n| n == "tdb.log"), "{names:?}");
    }
    assert!(env.home().join("master.kdf").exists());
    assert!(plain.home().join("master.key").exists());
}

// ---- tdb's own files damaged: exit 1, naming the file, never written over ----

fn assert_names_damage(out: &Output, file: &Path, says: &str) {
    assert_eq!(out.status.code(), Some(1), "{}", stderr(out));
    let err = stderr(out);
    assert!(err.contains(file.to_str().unwrap()), "{err}");
    assert!(err.contains(says), "{err}");
}

#[test]
fn a_truncated_registry_in_a_used_home_is_reported_not_replaced() {
    let env = Env::new();
    let csv = env.file("people.csv", "id\n1\n");
    env.add_csv("people", &csv);
    env.ok(&["query", "--source", "people", "--sql", "SELECT * FROM data"]);
    let reg = env.home().join("registry.db");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(env.home().join(format!("registry.db{side}")));
    }
    std::fs::write(&reg, b"").unwrap();
    for args in [
        &["source", "list"][..],
        &["query", "--source", "people", "--sql", "SELECT 1"],
    ] {
        let out = env.tdb(args);
        assert_names_damage(&out, &reg, "empty");
        assert!(stderr(&out).contains("backup"), "{}", stderr(&out));
    }
    let out = env.tdb(&["--json", "source", "list"]);
    assert_eq!(out.status.code(), Some(1));
    let v: Value = serde_json::from_slice(&out.stderr).unwrap();
    assert!(
        v["error"]["detail"]
            .as_str()
            .unwrap()
            .contains("registry.db")
    );
    assert_eq!(std::fs::metadata(&reg).unwrap().len(), 0, "left as it was");

    // In a home that never held anything, an empty file is simply a new registry.
    let fresh = Env::new();
    std::fs::create_dir_all(fresh.home()).unwrap();
    std::fs::write(fresh.home().join("registry.db"), b"").unwrap();
    fresh.ok(&["source", "list"]);
}

#[test]
fn a_registry_that_is_not_one_is_reported_not_replaced() {
    let env = Env::new();
    env.ok(&["source", "list"]);
    let reg = env.home().join("registry.db");
    for side in ["-wal", "-shm"] {
        let _ = std::fs::remove_file(env.home().join(format!("registry.db{side}")));
    }

    // Not SQLite at all.
    std::fs::write(&reg, b"name,path\norders,/tmp/x\n").unwrap();
    assert_names_damage(&env.tdb(&["source", "list"]), &reg, "not a SQLite database");
    assert_eq!(std::fs::read(&reg).unwrap(), b"name,path\norders,/tmp/x\n");

    // SQLite's header, then garbage.
    let mut bytes = b"SQLite format 3\0".to_vec();
    bytes.extend(std::iter::repeat_n(0xA5u8, 8192));
    std::fs::write(&reg, &bytes).unwrap();
    assert_names_damage(&env.tdb(&["source", "list"]), &reg, "damaged");
    assert_eq!(std::fs::read(&reg).unwrap(), bytes);

    // Another program's SQLite database.
    std::fs::remove_file(&reg).unwrap();
    {
        let db = rusqlite::Connection::open(&reg).unwrap();
        db.execute_batch("CREATE TABLE invoices (id INTEGER); INSERT INTO invoices VALUES (1);")
            .unwrap();
    }
    let before = std::fs::read(&reg).unwrap();
    assert_names_damage(&env.tdb(&["source", "list"]), &reg, "not a tdb registry");
    assert_eq!(std::fs::read(&reg).unwrap(), before);
}

#[test]
fn a_file_as_the_home_and_a_damaged_key_are_named() {
    let env = Env::new();
    let file = env.file("passwd", "root:x:0:0:root:/root:/bin/sh\n");
    for args in [
        &["source", "list"][..],
        &["audit"],
        &["--json", "audit", "--tail", "1"],
    ] {
        let out = env.tdb_in(&file, args);
        assert_names_damage(&out, &file, "not a folder");
    }
    assert_eq!(
        std::fs::read_to_string(&file).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );

    add_pg_with_password(&env);
    let key = env.home().join("master.key");
    std::fs::write(&key, "not a key\n").unwrap();
    let out = env.tdb(&["source", "show", "pg"]);
    assert_names_damage(&out, &key, "damaged");
    assert!(stderr(&out).contains("set-password"), "{}", stderr(&out));
}

/// tdb's own files replaced by FIFOs: every command still ends at once, with the file named
/// where it matters (a key) and quietly where it does not (the log).
#[test]
fn fifos_in_place_of_tdbs_own_files_do_not_hang() {
    let mut env = Env::new();
    env.vars.push(("TDB_LOG".into(), "debug".into()));
    let csv = env.file("people.csv", "id\n1\n");
    env.add_csv("people", &csv);
    let log = env.home().join("tdb.log");
    let _ = std::fs::remove_file(&log);
    mkfifo(&log);
    let out = env.ok(&["query", "--source", "people", "--sql", "SELECT * FROM data"]);
    assert!(!stderr(&out).contains("tracing"), "{}", stderr(&out));

    add_pg_with_password(&env);
    let key = env.home().join("master.key");
    std::fs::remove_file(&key).unwrap();
    mkfifo(&key);
    let out = env.tdb(&["source", "show", "pg"]);
    assert_names_damage(&out, &key, "named pipe");

    let kdf_env = Env::new().with_key(PASSPHRASE);
    std::fs::create_dir_all(kdf_env.home()).unwrap();
    let kdf = kdf_env.home().join("master.kdf");
    mkfifo(&kdf);
    let out = kdf_env.tdb(&[
        "source",
        "add",
        "pg",
        "--type",
        "postgres",
        "--url",
        "postgres://reader:pw@127.0.0.1:1/db",
    ]);
    assert_names_damage(&out, &kdf, "named pipe");

    let reg_env = Env::new();
    std::fs::create_dir_all(reg_env.home()).unwrap();
    let reg = reg_env.home().join("registry.db");
    mkfifo(&reg);
    assert_names_damage(&reg_env.tdb(&["source", "list"]), &reg, "named pipe");
}
