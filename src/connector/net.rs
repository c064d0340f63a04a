//! What the kinds that reach a server over the network share: the `url` field's parts, the
//! password and `password_env` rules, `allow_functions`, how an edit's URL replaces the
//! separate fields, and where the password comes from at connect time.

use secrecy::SecretString;
use serde_json::{Map, Value as Json};

use crate::core::kind::{Fields, SecretChange, Shape, merge_patch};
use crate::core::secret::StoredSecret;
use crate::core::{Error, Result};

/// The connection fields every network kind spells the same way, for their field lists.
pub mod fields {
    use crate::core::kind::{FieldSpec, Input};

    pub const DBNAME: FieldSpec = FieldSpec::text("dbname", "database", "database name")
        .placeholder("the database")
        .required();
    pub const PASSWORD: FieldSpec =
        FieldSpec::text("password", "password", "password (stored encrypted)")
            .input(Input::Secret)
            .placeholder("never shown (optional)");
    pub const PASSWORD_ENV: FieldSpec = FieldSpec::text(
        "password_env",
        "password env",
        "read the password from this environment variable",
    )
    .placeholder("or a variable holding it");
    pub const TABLE: FieldSpec = FieldSpec::text(
        "table",
        "table",
        "the table behind `data` (default: none, the whole database)",
    )
    .placeholder("behind `data` (optional)");
    pub const CONNECT_TIMEOUT_S: FieldSpec = FieldSpec::text(
        "connect_timeout_s",
        "connect timeout",
        "seconds to wait for a connection",
    )
    .input(Input::Number { min: 1, max: 3600 })
    .placeholder("10 (seconds)")
    .default("10");
    pub const STATEMENT_TIMEOUT_S: FieldSpec = FieldSpec::text(
        "statement_timeout_s",
        "query timeout",
        "seconds a query may run",
    )
    .input(Input::Number {
        min: 1,
        max: 86_400,
    })
    .placeholder("30 (seconds)")
    .default("30");
}

/// The fields a `url` stands for, so they may not be given beside it.
pub const URL_FIELDS: [&str; 5] = ["host", "port", "dbname", "user", "password"];

/// At most this many entries in `allow_functions`, each at most 200 characters.
const MAX_ALLOWED_FUNCTIONS: usize = 200;

/// The parts of `scheme://user:password@host:port/dbname?k=v&…`; parameters are the kind's
/// to read.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct UrlParts {
    pub host: Option<String>,
    pub port: Option<u16>,
    pub dbname: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    /// `k=v` pairs, `%`-decoded, in the order given.
    pub params: Vec<(String, String)>,
}

impl UrlParts {
    /// The URL may hold a password: errors describe the problem, never echo the text.
    pub fn parse(url: &str, schemes: &[&str]) -> Result<UrlParts, String> {
        let bad = |why: &str| why.to_string();
        let rest = schemes
            .iter()
            .find_map(|s| url.strip_prefix(s).and_then(|r| r.strip_prefix("://")))
            .ok_or_else(|| {
                let list: Vec<String> = schemes.iter().map(|s| format!("{s}://")).collect();
                format!("must start with {}", list.join(" or "))
            })?;
        if url.chars().any(char::is_control) || url.contains(' ') {
            return Err(bad("must not contain spaces or control characters"));
        }
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let (authority, path) = match before_query.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (before_query, None),
        };
        let mut out = UrlParts::default();
        let hostport = match authority.rsplit_once('@') {
            Some((userinfo, hp)) => {
                let (u, p) = match userinfo.split_once(':') {
                    Some((u, p)) => (u, Some(p)),
                    None => (userinfo, None),
                };
                if !u.is_empty() {
                    out.user = Some(percent_decode(u).ok_or_else(|| bad("bad %-escape in user"))?);
                }
                if let Some(p) = p {
                    out.password =
                        Some(percent_decode(p).ok_or_else(|| bad("bad %-escape in password"))?);
                }
                hp
            }
            None => authority,
        };
        if hostport.contains(',') {
            return Err(bad("several hosts are not supported; give one host"));
        }
        let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
            let (h, after) = v6
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in an IPv6 host"))?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(|| bad("bad text after ]"))?),
            };
            (h.to_string(), port)
        } else {
            match hostport.rsplit_once(':') {
                Some((h, p)) => (h.to_string(), Some(p)),
                None => (hostport.to_string(), None),
            }
        };
        if !host.is_empty() {
            out.host = Some(percent_decode(&host).ok_or_else(|| bad("bad %-escape in host"))?);
        }
        if let Some(p) = port.filter(|p| !p.is_empty()) {
            out.port = Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|p| *p > 0)
                    .ok_or_else(|| bad("port must be a number from 1 to 65535"))?,
            );
        }
        if let Some(db) = path.filter(|p| !p.is_empty()) {
            out.dbname = Some(percent_decode(db).ok_or_else(|| bad("bad %-escape in dbname"))?);
        }
        for pair in query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter(|p| !p.is_empty())
        {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let v = percent_decode(v).ok_or_else(|| bad("bad %-escape in a parameter"))?;
            out.params.push((k.to_string(), v));
        }
        Ok(out)
    }
}

/// Where a network source lives and who connects: the separate fields, or a `url` that
/// stands for them.
#[derive(Debug, Default)]
pub struct Endpoint {
    pub host: Option<String>,
    pub port: Option<u64>,
    pub dbname: Option<String>,
    pub user: Option<String>,
    pub password: Option<String>,
    url: Option<String>,
}

impl Endpoint {
    /// The separate fields as given (a wrong one is named now, in field order).
    pub fn read(f: &mut Fields<'_>) -> Endpoint {
        Endpoint {
            host: f.string("host"),
            port: f.number("port", 1, 65535),
            dbname: f.string("dbname"),
            user: f.string("user"),
            password: f.string("password"),
            url: None,
        }
    }

    /// A `url`, if given, in place of the separate fields: `parse` splits it into the shared
    /// parts and what the kind's own parameters say, which it returns.
    pub fn url<X>(
        &mut self,
        f: &mut Fields<'_>,
        parse: impl FnOnce(&str) -> Result<(UrlParts, X), String>,
    ) -> Option<X> {
        let url = f.string("url")?;
        self.url = Some(url.clone());
        if let Some(k) = URL_FIELDS.iter().find(|k| f.given(k)) {
            f.error(
                "url",
                format!("give either url or {k} (and the other separate fields), not both"),
            );
            return None;
        }
        match parse(&url) {
            Err(why) => {
                f.error("url", why);
                None
            }
            Ok((parts, own)) => {
                self.host = parts.host;
                self.port = parts.port.map(u64::from);
                self.dbname = parts.dbname;
                self.user = parts.user;
                self.password = parts.password;
                Some(own)
            }
        }
    }

    /// Host, database and user must be there, unless a URL stood for them (its own error,
    /// if it failed, says it all).
    pub fn check(&mut self, f: &mut Fields<'_>) {
        let required = self.url.is_none();
        self.host = f.check_text("host", self.host.take(), required);
        self.dbname = f.check_text("dbname", self.dbname.take(), required);
        self.user = f.check_text("user", self.user.take(), required);
    }
}

/// A setting a URL parameter and a field may both give: the URL's wins, and both at once is
/// an error on the field.
pub fn from_url_or_field<T>(
    f: &mut Fields<'_>,
    field: &str,
    from_field: Option<T>,
    from_url: Option<T>,
) -> Option<T> {
    match from_url {
        Some(v) => {
            if f.given(field) {
                f.error(field, "given both in url and as a field");
            }
            Some(v)
        }
        None => from_field,
    }
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `password_env` checked, and what the edit does to the stored password: `password` (from
/// the field or the URL) sets it, `password_env` or a null `password` clears it.
pub fn credentials(f: &mut Fields<'_>, password: Option<String>) -> (Option<String>, SecretChange) {
    let password_env = f.text("password_env");
    if let Some(var) = &password_env {
        let valid = var
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if !valid {
            f.error(
                "password_env",
                format!(
                    "\"{}\" is not an environment variable name",
                    var.escape_debug()
                ),
            );
        } else if password.is_some() {
            f.error(
                "password_env",
                "give either password or password_env, not both",
            );
        }
    }
    let secret = match (password, &password_env) {
        (Some(p), _) if p.is_empty() => {
            f.error("password", "must not be empty");
            SecretChange::Keep
        }
        (Some(p), _) => SecretChange::Set(SecretString::from(p)),
        (None, Some(_)) => SecretChange::Clear,
        (None, None) if f.is_null("password") => SecretChange::Clear,
        (None, None) => SecretChange::Keep,
    };
    (password_env, secret)
}

/// An edit of a network source: a URL stands for host, port, dbname and user; a password
/// and `password_env` exclude each other, so giving one drops the other.
pub fn merge(stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
    let mut merged = merge_patch(stored, patch);
    if patch.contains_key("url") {
        for k in ["host", "port", "dbname", "user"] {
            if !patch.contains_key(k) {
                merged.remove(k);
            }
        }
    }
    if patch.contains_key("password") || patch.contains_key("url") {
        merged.remove("password_env");
    }
    if patch.contains_key("password_env") {
        merged.remove("password");
    }
    merged
}

/// `allow_functions`: a list of names (`fn`, `schema.fn`, `extension`, optionally ending in
/// `*`), kept in the order given without repeats.
pub fn allow_functions(f: &mut Fields<'_>, input: &Map<String, Json>) -> Vec<String> {
    let field = "allow_functions";
    let items = match input.get(field) {
        None | Some(Json::Null) => return Vec::new(),
        Some(Json::Array(items)) => items,
        Some(_) => {
            f.error(
                field,
                "must be a list of function or extension names, e.g. [\"postgis\", \"public.my_fn\"]",
            );
            return Vec::new();
        }
    };
    if items.len() > MAX_ALLOWED_FUNCTIONS {
        f.error(
            field,
            format!(
                "at most {MAX_ALLOWED_FUNCTIONS} entries, got {}",
                items.len()
            ),
        );
        return Vec::new();
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Some(name) = item.as_str().map(str::trim) else {
            f.error(field, "every entry must be a string");
            return Vec::new();
        };
        let star = name.find('*');
        let valid = !name.is_empty()
            && name.chars().count() <= 200
            && !name.chars().any(char::is_control)
            && star.is_none_or(|i| i == name.len() - 1)
            && name.split('.').count() <= 2
            && name.split('.').all(|part| !part.is_empty());
        if !valid {
            f.error(
                field,
                format!(
                    "\"{}\" is not a function or extension name (name, schema.name or \
                     extension, with an optional * at the end)",
                    name.escape_debug()
                ),
            );
            return Vec::new();
        }
        if !out.iter().any(|o| o == name) {
            out.push(name.to_string());
        }
    }
    out
}

/// The password for a connection: the stored secret, else the variable `password_env`
/// names; `None` when neither is configured (the kind may look elsewhere).
pub fn password(
    secret: &StoredSecret,
    password_env: Option<&str>,
    source_name: &str,
) -> Result<Option<SecretString>> {
    match secret {
        StoredSecret::Present(s) => return Ok(Some(s.clone())),
        StoredSecret::Undecryptable => {
            return Err(Error::Unreachable(format!(
                "the stored password of source \"{source_name}\" cannot be decrypted with \
                 this machine's key; store it again with `tdb source set-password {}`",
                shell_word(source_name)
            )));
        }
        StoredSecret::None => {}
    }
    let Some(var) = password_env else {
        return Ok(None);
    };
    let problem = match std::env::var(var) {
        Ok(v) if !v.is_empty() => return Ok(Some(SecretString::from(v))),
        Ok(_) => "is empty",
        Err(std::env::VarError::NotPresent) => "is not set",
        Err(std::env::VarError::NotUnicode(_)) => "is not valid UTF-8",
    };
    Err(Error::Unreachable(format!(
        "environment variable {var} {problem}; it should hold the password of source \
         \"{source_name}\" (password_env)"
    )))
}

/// A word as a POSIX shell reads it back: as is when plain, else single-quoted.
pub fn shell_word(s: &str) -> String {
    let plain = !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-.@/:".contains(c));
    if plain {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// A network source's one-line summary: `user@host:port/dbname (table) via bastion`.
pub fn summary(stored: &Map<String, Json>, default_port: u64) -> String {
    let s = |k: &str| stored.get(k).and_then(Json::as_str).unwrap_or("");
    let port = stored
        .get("port")
        .and_then(Json::as_u64)
        .unwrap_or(default_port);
    let table = match stored.get("table").and_then(Json::as_str) {
        Some(t) => format!(" ({t})"),
        None => String::new(),
    };
    let via = match stored
        .get("ssh")
        .and_then(|v| serde_json::from_value::<super::ssh::SshSpec>(v.clone()).ok())
    {
        Some(ssh) => format!(" via {}", ssh.label()),
        None => String::new(),
    };
    format!(
        "{}@{}:{port}/{}{table}{via}",
        s("user"),
        s("host"),
        s("dbname")
    )
}

/// A network source's shape: the whole database when it has no `table`; unqualified names
/// resolve in the stored `schema_key` (`schema` for PostgreSQL, `dbname` where the database
/// is the namespace).
pub fn shape(stored: &Map<String, Json>, schema_key: &str) -> Shape {
    Shape {
        whole_database: stored.get("table").is_none_or(Json::is_null),
        default_schema: stored
            .get(schema_key)
            .and_then(Json::as_str)
            .map(String::from),
    }
}

/// What a new editor starts with: `SELECT * FROM data` for one table; for a whole database,
/// where its tables are and `query` listing them.
pub fn starter_sql(stored: &Map<String, Json>, label: &str, query: &str) -> String {
    if shape(stored, "").whole_database {
        format!(
            "-- {label} is a whole database: its tables are in the schema pane\n\
             -- (Enter there inserts a name here). Its tables:\n{query}"
        )
    } else {
        "SELECT * FROM data".to_string()
    }
}

/// `host:port` for messages (an IPv6 address in brackets).
pub fn target(host: &str, port: u16) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_split_into_parts() {
        let p = UrlParts::parse(
            "mysql://r%40x:p%40ss@[::1]:3307/shop?ssl-mode=REQUIRED&a",
            &["mysql", "mariadb"],
        )
        .unwrap();
        assert_eq!(p.user.as_deref(), Some("r@x"));
        assert_eq!(p.password.as_deref(), Some("p@ss"));
        assert_eq!((p.host.as_deref(), p.port), (Some("::1"), Some(3307)));
        assert_eq!(p.dbname.as_deref(), Some("shop"));
        assert_eq!(
            p.params,
            [
                ("ssl-mode".to_string(), "REQUIRED".to_string()),
                ("a".to_string(), String::new())
            ]
        );
        let e = UrlParts::parse("postgres://x", &["mysql", "mariadb"]).unwrap_err();
        assert_eq!(e, "must start with mysql:// or mariadb://");
        let e = UrlParts::parse("mysql://u:hunter2@h:0/d", &["mysql"]).unwrap_err();
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn shell_words_are_quoted_when_needed() {
        assert_eq!(shell_word("orders"), "orders");
        assert_eq!(shell_word("my source"), "'my source'");
        assert_eq!(shell_word("it's"), r"'it'\''s'");
    }
}
