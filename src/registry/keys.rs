//! API keys of `tdb serve` (CONTRACT.md "HTTP API"): `tdbk_` and 43 characters of
//! base64url (256 random bits). A key is shown once, when it is made; the registry keeps
//! only its SHA-256 (a key that random needs no slow KDF) and its first characters, which
//! find the row and name the key in the audit log. Hashes are compared in constant time.

use base64::Engine as _;
use rusqlite::{OptionalExtension, params};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{Registry, db_err, is_unique_violation};
use crate::core::source::{SourceRecord, validate_name};
use crate::core::{Error, Result};

/// What every key starts with.
pub const KEY_MARK: &str = "tdbk_";
/// base64url of 32 bytes, unpadded.
const KEY_BODY_CHARS: usize = 43;
/// The mark and this many characters of the body name a key in lists and audit lines.
const PREFIX_BODY_CHARS: usize = 8;

/// Which sources a key sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyScope {
    /// Every source.
    All,
    /// The sources with these ids (named when the key was made).
    Sources(Vec<String>),
    /// The sources carrying this tag at the time of each request.
    Tag(String),
}

impl KeyScope {
    pub fn allows(&self, rec: &SourceRecord) -> bool {
        match self {
            KeyScope::All => true,
            KeyScope::Sources(ids) => ids.contains(&rec.id),
            KeyScope::Tag(t) => rec.tags.iter().any(|x| x == t),
        }
    }

    /// How `tdb key list` shows it.
    pub fn describe(&self) -> String {
        match self {
            KeyScope::All => "all sources".into(),
            KeyScope::Sources(ids) => format!("sources {}", ids.join(",")),
            KeyScope::Tag(t) => format!("tag {t}"),
        }
    }
}

/// A key as asked for by `tdb key create`; sources are names or ids, resolved on creation.
#[derive(Debug, Clone)]
pub struct NewKey {
    pub name: String,
    pub sources: Option<Vec<String>>,
    pub tag: Option<String>,
    pub admin: bool,
    pub rate_per_min: Option<u32>,
}

/// A stored key, without its secret (the registry does not have it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKey {
    pub id: String,
    pub name: String,
    pub prefix: String,
    pub scope: KeyScope,
    pub admin: bool,
    pub rate_per_min: Option<u32>,
    pub created_at: String,
    pub last_used_at: Option<String>,
}

impl ApiKey {
    /// `{"name","prefix","scope","admin","rate_per_min","created_at","last_used_at"}`.
    pub fn to_json(&self) -> serde_json::Value {
        let scope = match &self.scope {
            KeyScope::All => serde_json::json!({"all": true}),
            KeyScope::Sources(ids) => serde_json::json!({"sources": ids}),
            KeyScope::Tag(t) => serde_json::json!({"tag": t}),
        };
        serde_json::json!({
            "name": self.name,
            "prefix": self.prefix,
            "scope": scope,
            "admin": self.admin,
            "rate_per_min": self.rate_per_min,
            "created_at": self.created_at,
            "last_used_at": self.last_used_at,
        })
    }
}

/// A key just made: the only time its secret exists outside the caller's hands.
pub struct CreatedKey {
    pub key: ApiKey,
    pub secret: SecretString,
}

const KEY_COLUMNS: &str =
    "id, name, prefix, sources, tag, admin, rate_per_min, created_at, last_used_at";

fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

/// The part of a token that names it, or `None` when it cannot be a key of ours.
fn prefix_of(token: &str) -> Option<&str> {
    let body = token.strip_prefix(KEY_MARK)?;
    let well_formed = body.len() == KEY_BODY_CHARS
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    well_formed.then(|| &token[..KEY_MARK.len() + PREFIX_BODY_CHARS])
}

fn row_to_key(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    let sources: Option<String> = r.get(3)?;
    let tag: Option<String> = r.get(4)?;
    let scope = match (sources, tag) {
        (Some(s), _) => KeyScope::Sources(serde_json::from_str(&s).unwrap_or_default()),
        (None, Some(t)) => KeyScope::Tag(t),
        (None, None) => KeyScope::All,
    };
    let rate: Option<i64> = r.get(6)?;
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        prefix: r.get(2)?,
        scope,
        admin: r.get(5)?,
        rate_per_min: rate.and_then(|n| u32::try_from(n).ok()),
        created_at: r.get(7)?,
        last_used_at: r.get(8)?,
    })
}

fn key_not_found(name: &str) -> Error {
    Error::NotFound(format!("key not found: {name}"))
}

impl Registry {
    /// Makes a key. Named sources must exist now; the key follows them by id through renames.
    pub fn create_key(&mut self, new: NewKey) -> Result<CreatedKey> {
        let name = validate_name(&new.name)?;
        if new.sources.is_some() && new.tag.is_some() {
            return Err(Error::Invalid(
                "scope: give --sources or --tag, not both".into(),
            ));
        }
        if new.rate_per_min == Some(0) {
            return Err(Error::Invalid(
                "rate: must be at least 1 request a minute".into(),
            ));
        }
        let sources = match &new.sources {
            Some(refs) if refs.is_empty() => {
                return Err(Error::Invalid("sources: name at least one source".into()));
            }
            Some(refs) => {
                let mut ids = Vec::with_capacity(refs.len());
                for r in refs {
                    ids.push(self.get(r)?.id);
                }
                Some(serde_json::to_string(&ids).unwrap_or_else(|_| "[]".into()))
            }
            None => None,
        };
        let mut random = [0u8; 32];
        getrandom::fill(&mut random)
            .map_err(|e| Error::Internal(format!("cannot draw a random key: {e}")))?;
        let token = format!(
            "{KEY_MARK}{}",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(random)
        );
        zeroize::Zeroize::zeroize(&mut random);
        let prefix = prefix_of(&token)
            .ok_or_else(|| Error::Internal("a new key is not well formed".into()))?
            .to_string();
        let id = uuid::Uuid::new_v4().to_string();
        let created_at = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let inserted = self.db.execute(
            "INSERT INTO api_keys (id, name, prefix, hash, sources, tag, admin, rate_per_min, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                name,
                prefix,
                hash(&token).to_vec(),
                sources,
                new.tag,
                new.admin,
                new.rate_per_min,
                created_at
            ],
        );
        match inserted {
            Ok(_) => {}
            Err(e) if is_unique_violation(&e) => {
                return Err(Error::Conflict(format!(
                    "a key named \"{name}\" already exists"
                )));
            }
            Err(e) => return Err(db_err("insert key")(e)),
        }
        let key = self.key_by_id(&id)?.ok_or_else(|| key_not_found(&name))?;
        Ok(CreatedKey {
            key,
            secret: SecretString::from(token),
        })
    }

    fn key_by_id(&self, id: &str) -> Result<Option<ApiKey>> {
        let sql = format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE id = ?1");
        self.db
            .query_row(&sql, [id], row_to_key)
            .optional()
            .map_err(db_err("key"))
    }

    /// Keys not revoked, oldest first.
    pub fn list_keys(&self) -> Result<Vec<ApiKey>> {
        let sql =
            format!("SELECT {KEY_COLUMNS} FROM api_keys WHERE revoked_at IS NULL ORDER BY rowid");
        let mut stmt = self.db.prepare_cached(&sql).map_err(db_err("keys"))?;
        let rows = stmt.query_map([], row_to_key).map_err(db_err("keys"))?;
        rows.collect::<rusqlite::Result<Vec<_>>>()
            .map_err(db_err("keys"))
    }

    /// Revokes a key by name: from now on it is refused like a wrong one.
    pub fn revoke_key(&mut self, name: &str) -> Result<ApiKey> {
        let sql = format!(
            "UPDATE api_keys SET revoked_at = ?2 WHERE name = ?1 AND revoked_at IS NULL
             RETURNING {KEY_COLUMNS}"
        );
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        self.db
            .query_row(&sql, params![name, now], row_to_key)
            .optional()
            .map_err(db_err("revoke key"))?
            .ok_or_else(|| key_not_found(name))
    }

    /// The live key `token` is, if any. Every row with the token's prefix is compared in
    /// constant time, so timing tells nothing of how much of a guess was right.
    pub fn authenticate(&self, token: &SecretString) -> Result<Option<ApiKey>> {
        let token = token.expose_secret();
        let Some(prefix) = prefix_of(token) else {
            return Ok(None);
        };
        let wanted = hash(token);
        let sql = format!(
            "SELECT {KEY_COLUMNS}, hash FROM api_keys WHERE prefix = ?1 AND revoked_at IS NULL"
        );
        let mut stmt = self.db.prepare_cached(&sql).map_err(db_err("key"))?;
        let rows = stmt
            .query_map([prefix], |r| Ok((row_to_key(r)?, r.get::<_, Vec<u8>>(9)?)))
            .map_err(db_err("key"))?;
        let mut found = None;
        for row in rows {
            let (key, stored) = row.map_err(db_err("key"))?;
            if bool::from(stored.as_slice().ct_eq(&wanted)) {
                found = Some(key);
            }
        }
        Ok(found)
    }

    /// Records that a key was used now.
    pub fn touch_key(&self, id: &str) -> Result<()> {
        let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
        self.db
            .execute(
                "UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1",
                params![id, now],
            )
            .map_err(db_err("key use"))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_well_formed_tokens_have_a_prefix() {
        let good = format!("{KEY_MARK}{}", "A".repeat(KEY_BODY_CHARS));
        assert_eq!(prefix_of(&good), Some("tdbk_AAAAAAAA"));
        assert_eq!(prefix_of("tdbk_short"), None);
        assert_eq!(prefix_of(&good.replace("tdbk_", "tdbx_")), None);
        let odd = format!("{KEY_MARK}{}é", "A".repeat(KEY_BODY_CHARS - 2));
        assert_eq!(prefix_of(&odd), None);
    }
}
