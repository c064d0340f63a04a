//! Passwords at rest: XChaCha20-Poly1305 under a 256-bit key from `$TDB_MASTER_KEY` or
//! `<home>/master.key`, with the source id as associated data so a ciphertext cannot be
//! moved to another source's row.

use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::core::{Error, Result};
use crate::home::create_exclusive;

/// Stored blobs start with this byte so the format can change later.
const FORMAT_V1: u8 = 1;
const NONCE_LEN: usize = 24;

pub const KEY_ENV: &str = "TDB_MASTER_KEY";

/// The key secrets are sealed with.
pub struct MasterKey {
    key: Zeroizing<[u8; 32]>,
}

/// Where the key comes from, and whether it exists yet.
pub struct KeySource {
    path: PathBuf,
}

impl KeySource {
    pub fn new(path: PathBuf) -> Self {
        KeySource { path }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The key if one exists; never creates a key file (reading needs no new key).
    pub fn existing(&self) -> Result<Option<MasterKey>> {
        if let Some(k) = env_key()? {
            return Ok(Some(k));
        }
        match std::fs::read(&self.path) {
            Ok(bytes) => parse_key_file(&self.path, &bytes).map(Some),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::Internal(format!(
                "cannot read the key {}: {e}",
                self.path.display()
            ))),
        }
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
            return Ok(MasterKey { key: raw });
        }
        // Another process created it first: use theirs.
        self.existing()?
            .ok_or_else(|| Error::Internal(format!("the key {} vanished", self.path.display())))
    }
}

/// `$TDB_MASTER_KEY`: 64 hex digits are the key itself; any other text is a passphrase
/// whose SHA-256 is the key.
fn env_key() -> Result<Option<MasterKey>> {
    let Some(v) = std::env::var_os(KEY_ENV).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    let v = Zeroizing::new(v.to_string_lossy().into_owned());
    let trimmed = v.trim();
    let mut key = Zeroizing::new([0u8; 32]);
    if trimmed.len() == 64 && hex::decode_to_slice(trimmed, key.as_mut()).is_ok() {
        return Ok(Some(MasterKey { key }));
    }
    key.copy_from_slice(&Sha256::digest(trimmed.as_bytes()));
    Ok(Some(MasterKey { key }))
}

fn parse_key_file(path: &Path, bytes: &[u8]) -> Result<MasterKey> {
    let text = Zeroizing::new(String::from_utf8_lossy(bytes).into_owned());
    let mut key = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text.trim(), key.as_mut()).map_err(|_| {
        Error::Internal(format!(
            "the key {} is damaged (expected 64 hex digits); restore it, or remove it and set every password again",
            path.display()
        ))
    })?;
    Ok(MasterKey { key })
}

impl MasterKey {
    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(&(*self.key).into())
    }

    pub fn seal(&self, source_id: &str, secret: &SecretString) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce)
            .map_err(|e| Error::internal("cannot get random bytes for a nonce", e))?;
        let sealed = self
            .cipher()
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

    /// `None` when this key did not seal the blob (another machine's registry) or the blob
    /// belongs to another source.
    pub fn open(&self, source_id: &str, blob: &[u8]) -> Option<SecretString> {
        let (&version, rest) = blob.split_first()?;
        if version != FORMAT_V1 || rest.len() < NONCE_LEN {
            return None;
        }
        let (nonce, sealed) = rest.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().ok()?;
        let plain = Zeroizing::new(
            self.cipher()
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
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_and_open_are_bound_to_the_source() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeySource::new(dir.path().join("master.key"));
        assert!(keys.existing().unwrap().is_none() || std::env::var_os(KEY_ENV).is_some());
        let key = keys.get_or_create().unwrap();
        let secret = SecretString::from("s3cret");
        let blob = key.seal("id-1", &secret).unwrap();
        assert!(!blob.windows(6).any(|w| w == b"s3cret"));
        assert_eq!(key.open("id-1", &blob).unwrap().expose_secret(), "s3cret");
        assert!(key.open("id-2", &blob).is_none());
        let other = MasterKey {
            key: Zeroizing::new([7u8; 32]),
        };
        assert!(other.open("id-1", &blob).is_none());
        assert!(key.open("id-1", &blob[..10]).is_none());
    }

    #[test]
    fn key_file_is_reused() {
        let dir = tempfile::tempdir().unwrap();
        let keys = KeySource::new(dir.path().join("master.key"));
        let a = keys.get_or_create().unwrap();
        let blob = a.seal("x", &SecretString::from("pw")).unwrap();
        let b = keys.get_or_create().unwrap();
        assert!(b.open("x", &blob).is_some());
    }
}
