//! `~/.pgpass`, read the way libpq reads it, so a bastion already set up for `psql` works.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// `$PGPASSFILE`, else `~/.pgpass`.
pub(super) fn default_path() -> Option<PathBuf> {
    match std::env::var_os("PGPASSFILE").filter(|v| !v.is_empty()) {
        Some(p) => Some(PathBuf::from(p)),
        None => dirs::home_dir().map(|h| h.join(".pgpass")),
    }
}

/// The password of the first matching line, if the file may be trusted. Like libpq, a file
/// that group or others can read or write is ignored: somebody else may have planted it, and
/// a readable one has already leaked.
pub(super) fn lookup(
    path: &Path,
    host: &str,
    port: u16,
    dbname: &str,
    user: &str,
) -> Option<SecretString> {
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        return None;
    }
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(
            path = %path.display(),
            "password file has group or world access; ignoring it (chmod 0600 it)"
        );
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    find(&text, host, port, dbname, user).map(SecretString::from)
}

fn find(text: &str, host: &str, port: u16, dbname: &str, user: &str) -> Option<String> {
    let port = port.to_string();
    // libpq looks up socket connections under `localhost`.
    let host_alias = host.starts_with('/').then_some("localhost");
    text.lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .find_map(|line| {
            let fields = split_fields(line);
            let [h, p, d, u, pw, ..] = fields.as_slice() else {
                return None;
            };
            let host_ok = field_matches(h, host) || host_alias.is_some_and(|a| field_matches(h, a));
            (host_ok
                && field_matches(p, &port)
                && field_matches(d, dbname)
                && field_matches(u, user))
            .then(|| pw.value.clone())
        })
}

/// A field and whether it was a bare `*` (an escaped `\*` is a literal star).
struct Field {
    value: String,
    wildcard: bool,
}

fn field_matches(f: &Field, actual: &str) -> bool {
    f.wildcard || f.value == actual
}

fn split_fields(line: &str) -> Vec<Field> {
    let mut fields = Vec::new();
    let mut cur = String::new();
    let mut raw = String::new();
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(n) => {
                    cur.push(n);
                    raw.push('\\');
                    raw.push(n);
                }
                None => {
                    cur.push('\\');
                    raw.push('\\');
                }
            },
            ':' => {
                fields.push(Field {
                    wildcard: raw == "*",
                    value: std::mem::take(&mut cur),
                });
                raw.clear();
            }
            c => {
                cur.push(c);
                raw.push(c);
            }
        }
    }
    fields.push(Field {
        wildcard: raw == "*",
        value: cur,
    });
    fields
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_matching_line_wins() {
        let text = "# comment\n\
                    db.internal:5432:prod:alice:first\n\
                    *:*:*:alice:second\n";
        assert_eq!(
            find(text, "db.internal", 5432, "prod", "alice").as_deref(),
            Some("first")
        );
        assert_eq!(
            find(text, "other", 6000, "x", "alice").as_deref(),
            Some("second")
        );
        assert_eq!(find(text, "other", 6000, "x", "bob"), None);
    }

    #[test]
    fn escapes_and_literal_stars() {
        let text = "h:5432:d:u\\:x:pa\\:ss\\\\word\n\\*:5432:d:u:star\n";
        assert_eq!(
            find(text, "h", 5432, "d", "u:x").as_deref(),
            Some("pa:ss\\word")
        );
        assert_eq!(find(text, "*", 5432, "d", "u").as_deref(), Some("star"));
        assert_eq!(find(text, "h", 5432, "d", "u"), None);
    }

    #[test]
    fn short_lines_are_skipped_and_sockets_match_localhost() {
        let text = "h:5432:d\nlocalhost:5432:d:u:sock\r\n";
        assert_eq!(
            find(text, "/var/run/postgresql", 5432, "d", "u").as_deref(),
            Some("sock")
        );
    }

    #[test]
    fn loose_modes_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pgpass");
        std::fs::write(&path, "*:*:*:*:pw\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert!(lookup(&path, "h", 1, "d", "u").is_none());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert!(lookup(&path, "h", 1, "d", "u").is_some());
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o400)).unwrap();
        assert!(lookup(&path, "h", 1, "d", "u").is_some());
    }
}
