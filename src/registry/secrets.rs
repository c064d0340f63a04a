//! Passwords at rest: XChaCha20-Poly1305 under a 256-bit key, with the source id as
//! associated data so a ciphertext cannot be moved to another source's row.
//!
//! The key is `$TDB_MASTER_KEY` when set, else `<home>/master.key` (64 hex digits, made on
//! first need). `$TDB_MASTER_KEY` is either a key (64 hex digits, or base64 of 32 bytes) or
//! a passphrase of at least [`MIN_PASSPHRASE_CHARS`] characters, stretched with Argon2id
//! under a random salt kept in `<home>/master.kdf` with the cost parameters, so the same
//! passphrase gives the same key in every process on that home. An empty or short value is
//! refused rather than used: a short passphrase is guessed in moments once the registry
//! leaks.
//!
//! Earlier tdb took any other text as a passphrase and used its plain SHA-256 as the key.
//! Secrets sealed that way still open (the SHA-256 of the same setting is tried after the
//! real key) and are sealed again under the real key when read, so nothing is lost and the
//! weak form disappears with use. A secret sealed under a passphrase now too short to be
//! accepted opens when that passphrase is given once as `$TDB_MASTER_KEY_OLD`, beside a
//! new `$TDB_MASTER_KEY`; the same variable moves secrets from any earlier setting.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::core::{Error, Result};
use crate::home::create_exclusive;

/// Stored blobs start with this byte so the format can change later.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

pub const KEY_ENV: &str = "TDB_MASTER_KEY";
/// A previous `$TDB_MASTER_KEY` whose secrets should move to the current key.
pub const OLD_KEY_ENV: &str = "TDB_MASTER_KEY_OLD";
/// Below this a passphrase is refused: Argon2id slows guessing, it cannot save a short one.
pub const MIN_PASSPHRASE_CHARS: usize = 12;

/// Argon2id costs for a new `master.kdf` (the crate's defaults, OWASP's first choice:
/// 19 MiB, 2 passes, 1 lane). Existing files keep the costs they were made with.
const NEW_M_COST_KIB: u32 = argon2::Params::DEFAULT_M_COST;
const NEW_T_COST: u32 = argon2::Params::DEFAULT_T_COST;
const NEW_P_COST: u32 = argon2::Params::DEFAULT_P_COST;
const SALT_LEN: usize = 16;
/// A `master.kdf` asking for more than this is damaged, not careful: 1 GiB, 64 passes.
const MAX_M_COST_KIB: u32 = 1 << 20;
const MAX_T_COST: u32 = 64;
const MAX_P_COST: u32 = 16;

type RawKey = Zeroizing<[u8; 32]>;

/// The key secrets are sealed with, and the older keys they may still be sealed under.
#[derive(Clone)]
pub struct MasterKey {
    key: RawKey,
    older: Vec<RawKey>,
}

/// A secret that opened, and whether it should be sealed again under the current key.
pub struct Opened {
    pub secret: SecretString,
    /// Opened with an older key (a legacy derivation or `$TDB_MASTER_KEY_OLD`).
    pub stale: bool,
}

/// Where the key comes from, and whether it exists yet.
pub struct KeySource {
    path: PathBuf,
    kdf_path: PathBuf,
    /// Deriving from a passphrase costs tens of milliseconds: once per process.
    cached: OnceLock<MasterKey>,
}

/// What `$TDB_MASTER_KEY` says, checked but not yet stretched.
enum Setting {
    Key { key: RawKey, older: Vec<RawKey> },
    Passphrase(Zeroizing<String>),
}

/// `master.kdf`: how a passphrase becomes the key on this home.
#[derive(Serialize, Deserialize)]
struct KdfFile {
    kdf: String,
    version: u32,
    m_cost_kib: u32,
    t_cost: u32,
    p_cost: u32,
    salt: String,
}

impl KeySource {
    pub fn new(path: PathBuf) -> Self {
        let kdf_path = path.with_file_name("master.kdf");
        KeySource {
            path,
            kdf_path,
            cached: OnceLock::new(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Checks `$TDB_MASTER_KEY` without deriving anything, so a bad value is reported by
    /// every command, not only by the first one that needs a secret.
    pub fn check_env(&self) -> Result<()> {
        env_setting().map(drop)
    }

    /// The key if one exists; never creates `master.key` (reading needs no new key). A
    /// passphrase gets its `master.kdf` on first use: without a salt it has no key at all.
    pub fn existing(&self) -> Result<Option<MasterKey>> {
        if let Some(k) = self.cached.get() {
            return Ok(Some(k.clone()));
        }
        let key = match env_setting()? {
            Some(setting) => self.key_for(setting)?,
            None => match read_regular(&self.path)? {
                Some(bytes) => MasterKey {
                    key: parse_key_file(&self.path, &bytes)?,
                    older: self.old_keys()?,
                },
                None => return Ok(None),
            },
        };
        Ok(Some(self.cached.get_or_init(|| key).clone()))
    }

    /// The key, creating `master.key` (0600, exclusively) on first need.
    pub fn get_or_create(&self) -> Result<MasterKey> {
        if let Some(k) = self.existing()? {
            return Ok(k);
        }
        let mut raw = Zeroizing::new([0u8; 32]);
        getrandom::fill(raw.as_mut())
            .map_err(|e| Error::internal("cannot get random bytes for a key", e))?;
        let text = Zeroizing::new(format!("{}\n", hex::encode(raw.as_ref())));
        if create_exclusive(&self.path, text.as_bytes())? {
            let key = MasterKey {
                key: raw,
                older: self.old_keys()?,
            };
            return Ok(self.cached.get_or_init(|| key).clone());
        }
        // Another process created it first: use theirs.
        self.existing()?
            .ok_or_else(|| Error::Internal(format!("the key {} vanished", self.path.display())))
    }

    fn key_for(&self, setting: Setting) -> Result<MasterKey> {
        let mut key = match setting {
            Setting::Key { key, older } => MasterKey { key, older },
            Setting::Passphrase(phrase) => MasterKey {
                key: self.stretch(&phrase)?,
                older: vec![legacy_digest(&phrase)],
            },
        };
        key.older.extend(self.old_keys()?);
        Ok(key)
    }

    /// Every key `$TDB_MASTER_KEY_OLD` may have meant, under today's rules and the old.
    fn old_keys(&self) -> Result<Vec<RawKey>> {
        let Some(v) = std::env::var_os(OLD_KEY_ENV) else {
            return Ok(Vec::new());
        };
        let v = Zeroizing::new(v.to_string_lossy().into_owned());
        let text = v.trim();
        if text.is_empty() {
            return Ok(Vec::new());
        }
        let mut keys = Vec::new();
        if let Some(k) = parse_raw_key(text) {
            keys.push(k);
        }
        keys.push(legacy_digest(text));
        if text.chars().count() >= MIN_PASSPHRASE_CHARS && self.kdf_path.exists() {
            keys.push(self.stretch(text)?);
        }
        Ok(keys)
    }

    /// Argon2id of the passphrase under this home's salt, making `master.kdf` if needed.
    fn stretch(&self, phrase: &str) -> Result<RawKey> {
        let kdf = self.kdf_params()?;
        let damaged = |why: &str| self.kdf_damaged(why);
        if kdf.kdf != "argon2id" || kdf.version != 0x13 {
            return Err(damaged("unknown algorithm"));
        }
        if kdf.m_cost_kib > MAX_M_COST_KIB || kdf.t_cost > MAX_T_COST || kdf.p_cost > MAX_P_COST {
            return Err(damaged("cost parameters out of range"));
        }
        let salt = Zeroizing::new(hex::decode(&kdf.salt).map_err(|_| damaged("bad salt"))?);
        let params = argon2::Params::new(kdf.m_cost_kib, kdf.t_cost, kdf.p_cost, Some(32))
            .map_err(|_| damaged("cost parameters out of range"))?;
        let argon =
            argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let mut key = Zeroizing::new([0u8; 32]);
        argon
            .hash_password_into(phrase.as_bytes(), &salt, key.as_mut())
            .map_err(|_| damaged("bad salt"))?;
        Ok(key)
    }

    fn kdf_params(&self) -> Result<KdfFile> {
        match read_regular(&self.kdf_path)? {
            Some(bytes) => serde_json::from_slice(&bytes).map_err(|_| self.kdf_damaged("not JSON")),
            None => {
                let mut salt = [0u8; SALT_LEN];
                getrandom::fill(&mut salt)
                    .map_err(|e| Error::internal("cannot get random bytes for a salt", e))?;
                let new = KdfFile {
                    kdf: "argon2id".into(),
                    version: 0x13,
                    m_cost_kib: NEW_M_COST_KIB,
                    t_cost: NEW_T_COST,
                    p_cost: NEW_P_COST,
                    salt: hex::encode(salt),
                };
                let text = serde_json::to_string(&new).map_err(|e| Error::internal("salt", e))?;
                if create_exclusive(&self.kdf_path, format!("{text}\n").as_bytes())? {
                    Ok(new)
                } else {
                    // Another process made it first: both must use the same salt.
                    self.kdf_params()
                }
            }
        }
    }

    fn kdf_damaged(&self, why: &str) -> Error {
        Error::Internal(format!(
            "the key-derivation file {} is damaged ({why}); restore it from a backup (without \
             it the passphrase in {KEY_ENV} gives another key), or remove it and set every \
             password again with `tdb source set-password`",
            self.kdf_path.display()
        ))
    }
}

/// The contents of one of tdb's key files, `None` when it does not exist. Never blocks: a
/// FIFO put in its place would otherwise hang every command that needs a secret.
fn read_regular(path: &Path) -> Result<Option<Vec<u8>>> {
    use crate::core::regular_file::{OpenError, open_regular};
    use std::io::Read;
    let failed = |why: String| {
        Error::Internal(format!(
            "cannot read {}: {why}; it must be the file tdb made, readable by this user \
             (restore it from a backup, or set {KEY_ENV})",
            path.display()
        ))
    };
    let (mut file, _) = match open_regular(path) {
        Ok(opened) => opened,
        Err(OpenError::Io(e)) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(OpenError::Io(e)) => return Err(failed(e.to_string())),
        Err(OpenError::NotRegular(kind)) => return Err(failed(format!("it is {kind}"))),
    };
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| failed(e.to_string()))?;
    Ok(Some(bytes))
}

/// Reads and checks `$TDB_MASTER_KEY`; `None` when it is not set.
fn env_setting() -> Result<Option<Setting>> {
    let Some(v) = std::env::var_os(KEY_ENV) else {
        return Ok(None);
    };
    let v = Zeroizing::new(v.to_string_lossy().into_owned());
    let text = v.trim();
    if text.is_empty() {
        return Err(Error::Internal(format!(
            "{KEY_ENV} is set but empty; unset it to use the key file in the home, or set it \
             to a key (64 hex digits, e.g. from `openssl rand -hex 32`) or a passphrase of at \
             least {MIN_PASSPHRASE_CHARS} characters"
        )));
    }
    if let Some(key) = parse_raw_key(text) {
        // A base64 key was a passphrase to earlier tdb: its secrets are under the digest.
        let older = if is_hex_key(text) {
            Vec::new()
        } else {
            vec![legacy_digest(text)]
        };
        return Ok(Some(Setting::Key { key, older }));
    }
    let chars = text.chars().count();
    if chars < MIN_PASSPHRASE_CHARS {
        return Err(Error::Internal(format!(
            "{KEY_ENV} is too short for a passphrase ({chars} characters, at least \
             {MIN_PASSPHRASE_CHARS}): use a longer passphrase, or a key of 64 hex digits (e.g. \
             from `openssl rand -hex 32`). Secrets an earlier tdb stored under the short one \
             stay readable: give it once as {OLD_KEY_ENV} beside the new {KEY_ENV}"
        )));
    }
    Ok(Some(Setting::Passphrase(Zeroizing::new(text.to_string()))))
}

fn is_hex_key(text: &str) -> bool {
    text.len() == 64 && text.bytes().all(|b| b.is_ascii_hexdigit())
}

/// 64 hex digits, or base64 (standard or URL-safe, padded or not) of exactly 32 bytes.
fn parse_raw_key(text: &str) -> Option<RawKey> {
    let mut key = Zeroizing::new([0u8; 32]);
    if is_hex_key(text) {
        hex::decode_to_slice(text, key.as_mut()).ok()?;
        return Some(key);
    }
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    for engine in [STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD] {
        if let Ok(bytes) = engine.decode(text) {
            let bytes = Zeroizing::new(bytes);
            if bytes.len() == 32 {
                key.copy_from_slice(&bytes);
                return Some(key);
            }
        }
    }
    None
}

/// What earlier tdb made of a passphrase: its plain SHA-256. Only ever used to open.
fn legacy_digest(text: &str) -> RawKey {
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&Sha256::digest(text.as_bytes()));
    key
}

fn parse_key_file(path: &Path, bytes: &[u8]) -> Result<RawKey> {
    let text = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), key.as_mut()).map_err(|_| {
        Error::Internal(format!(
            "the key {} is damaged (expected 64 hex digits); restore it from a backup, or \
             remove it and set every password again with `tdb source set-password`",
            path.display()
        ))
    })?;
    Ok(key)
}

impl MasterKey {
    pub fn seal(&self, source_id: &str, secret: &SecretString) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::internal("cannot get random bytes for a nonce", e))?;
        let sealed = cipher(&self.key)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret.expose_secret().as_bytes(),
                    aad: source_id.as_bytes(),
                },
            )
            .map_err(|_| Error::Internal("cannot encrypt the password".into()))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// `None` when no key of this setting sealed the blob (another machine's registry) or
    /// the blob belongs to another source.
    pub fn open(&self, source_id: &str, blob: &[u8]) -> Option<Opened> {
        if let Some(secret) = open_with(&self.key, source_id, blob) {
            return Some(Opened {
                secret,
                stale: false,
            });
        }
        self.older
            .iter()
            .find_map(|k| open_with(k, source_id, blob))
            .map(|secret| Opened {
                secret,
                stale: true,
            })
    }
}

fn cipher(key: &RawKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(&(**key).into())
}

fn open_with(key: &RawKey, source_id: &str, blob: &[u8]) -> Option<SecretString> {
    let (&version, rest) = blob.split_first()?;
    if version != FORMAT_V1 || rest.len() < NONCE_LEN {
        return None;
    }
    let (nonce, sealed) = rest.split_at(NONCE_LEN);
    let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
    let plain = Zeroizing::new(
        cipher(key)
            .decrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: sealed,
                    aad: source_id.as_bytes(),
                },
            )
            .ok()?,
    );
    let text = std::str::from_utf8(&plain).ok()?;
    Some(SecretString::from(text))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(b: u8) -> RawKey {
        Zeroizing::new([b; 32])
    }

    #[test]
    fn seal_and_open_are_bound_to_the_source() {
        let key = MasterKey {
            key: raw(1),
            older: Vec::new(),
        };
        let secret = SecretString::from("s3cret");
        let blob = key.seal("id-1", &secret).unwrap();
        assert!(!blob.windows(6).any(|w| w == b"s3cret"));
        let opened = key.open("id-1", &blob).unwrap();
        assert_eq!(opened.secret.expose_secret(), "s3cret");
        assert!(!opened.stale);
        assert!(key.open("id-2", &blob).is_none());
        let other = MasterKey {
            key: raw(7),
            older: Vec::new(),
        };
        assert!(other.open("id-1", &blob).is_none());
        assert!(key.open("id-1", &blob[..10]).is_none());
    }

    #[test]
    fn an_older_key_opens_and_marks_the_secret_stale() {
        let old = MasterKey {
            key: legacy_digest("a passphrase of old"),
            older: Vec::new(),
        };
        let blob = old.seal("id", &SecretString::from("pw")).unwrap();
        let new = MasterKey {
            key: raw(3),
            older: vec![legacy_digest("a passphrase of old")],
        };
        let opened = new.open("id", &blob).unwrap();
        assert_eq!(opened.secret.expose_secret(), "pw");
        assert!(opened.stale);
    }

    #[test]
    fn raw_keys_are_hex_or_base64_of_32_bytes() {
        let bytes: Vec<u8> = (0u8..32).collect();
        let hex_text = hex::encode(&bytes);
        assert_eq!(parse_raw_key(&hex_text).unwrap().as_ref(), &bytes[..]);
        use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
        let b64 = STANDARD.encode(&bytes);
        assert_eq!(parse_raw_key(&b64).unwrap().as_ref(), &bytes[..]);
        let b64 = URL_SAFE_NO_PAD.encode([0xFBu8; 32]);
        assert_eq!(parse_raw_key(&b64).unwrap().as_ref(), &[0xFBu8; 32]);
        assert!(parse_raw_key(&STANDARD.encode([1u8; 31])).is_none());
        assert!(parse_raw_key(&hex_text[..62]).is_none());
        assert!(parse_raw_key("correct horse battery staple").is_none());
    }

    #[test]
    fn a_passphrase_gives_one_key_per_home_salt() {
        let dir = tempfile::tempdir().unwrap();
        let a = KeySource::new(dir.path().join("master.key"));
        let k1 = a.stretch("correct horse battery").unwrap();
        let kdf = dir.path().join("master.kdf");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&kdf).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let b = KeySource::new(dir.path().join("master.key"));
        assert_eq!(*b.stretch("correct horse battery").unwrap(), *k1);
        assert_ne!(*b.stretch("correct horse batterY").unwrap(), *k1);
        assert_ne!(*k1, *legacy_digest("correct horse battery"));

        let other = tempfile::tempdir().unwrap();
        let c = KeySource::new(other.path().join("master.key"));
        assert_ne!(*c.stretch("correct horse battery").unwrap(), *k1);
    }

    #[test]
    fn a_damaged_kdf_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let kdf = dir.path().join("master.kdf");
        let keys = KeySource::new(dir.path().join("master.key"));
        for text in [
            "garbage",
            r#"{"kdf":"argon2id","version":19,"m_cost_kib":4294967295,"t_cost":2,"p_cost":1,"salt":"00112233445566778899aabbccddeeff"}"#,
            r#"{"kdf":"argon2id","version":19,"m_cost_kib":19456,"t_cost":2,"p_cost":1,"salt":"zz"}"#,
        ] {
            std::fs::write(&kdf, text).unwrap();
            let err = keys.stretch("correct horse battery").unwrap_err();
            assert_eq!(err.exit_code(), 1);
            assert!(err.detail().contains(kdf.to_str().unwrap()), "{err}");
            assert!(err.detail().contains("damaged"), "{err}");
        }
    }

    #[test]
    fn key_file_is_64_hex_digits() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("master.key");
        let a = MasterKey {
            key: parse_key_file(&path, format!("{}\n", hex::encode([9u8; 32])).as_bytes()).unwrap(),
            older: Vec::new(),
        };
        let blob = a.seal("x", &SecretString::from("pw")).unwrap();
        assert_eq!(*a.key, [9u8; 32]);
        assert!(a.open("x", &blob).is_some());
        let err = parse_key_file(&path, b"not hex").err().unwrap();
        assert!(err.detail().contains(path.to_str().unwrap()));
    }
}
