//! The source record of seed 000 and the rules a registration must pass.
//!
//! Connection details arrive as free JSON (a request body, `--connection`, flags); they are
//! validated here into typed specs, field by field, with messages that name the field. The
//! secret never lives in a spec: it travels beside it as a [`SecretString`] and is stored
//! encrypted by the registry.

use std::fmt;
use std::path::{Path, PathBuf};

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json, json};

use super::error::{Error, Result};

/// What output shows in place of any secret.
pub const MASK: &str = "********";

pub const NAME_MAX_CHARS: usize = 100;
pub const DESCRIPTION_MAX_CHARS: usize = 500;
pub const TAG_MAX_CHARS: usize = 100;
pub const TAGS_MAX: usize = 50;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SourceType {
    Postgres,
    Csv,
}

impl SourceType {
    /// Every connector this build has, in the order help text lists them.
    pub const ALL: [SourceType; 2] = [SourceType::Postgres, SourceType::Csv];

    pub fn as_str(self) -> &'static str {
        match self {
            SourceType::Postgres => "postgres",
            SourceType::Csv => "csv",
        }
    }

    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let known: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                Error::Invalid(format!(
                    "invalid source_type \"{}\": this build has {}",
                    s.escape_debug(),
                    known.join(", ")
                ))
            })
    }
}

impl fmt::Display for SourceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Active,
    Failed,
    Testing,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Failed => "failed",
            Status::Testing => "testing",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Status::Active, Status::Failed, Status::Testing]
            .into_iter()
            .find(|t| t.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SslMode {
    Disable,
    #[default]
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    const ALL: [SslMode; 5] = [
        SslMode::Disable,
        SslMode::Prefer,
        SslMode::Require,
        SslMode::VerifyCa,
        SslMode::VerifyFull,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(field: &str, s: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|m| m.as_str() == s)
            .ok_or_else(|| {
                Error::Invalid(format!(
                    "{field}: invalid sslmode \"{}\" (use disable, prefer, require, verify-ca or verify-full)",
                    s.escape_debug()
                ))
            })
    }
}

/// A PostgreSQL connection without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PgConnection {
    pub host: String,
    pub port: u16,
    pub dbname: String,
    pub user: String,
    /// Read the password from this environment variable at connect time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_env: Option<String>,
    /// The table behind the `data` alias, when the source is one table.
    #[serde(default)]
    pub table: Option<String>,
    pub schema: String,
    #[serde(default)]
    pub sslmode: SslMode,
    pub connect_timeout_s: u64,
    pub statement_timeout_s: u64,
    /// Functions beyond the built-in ones that queries may call: `name`, `schema.name`, an
    /// extension's name (all of its functions), each with an optional trailing `*`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_functions: Vec<String>,
}

/// A CSV file; the path is absolute.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvConnection {
    pub path: PathBuf,
    pub delimiter: char,
    pub has_header: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Connection {
    Postgres(PgConnection),
    Csv(CsvConnection),
}

impl Connection {
    pub fn source_type(&self) -> SourceType {
        match self {
            Connection::Postgres(_) => SourceType::Postgres,
            Connection::Csv(_) => SourceType::Csv,
        }
    }

    /// The form stored in the registry: no secret, every default spelled out.
    pub fn to_stored_json(&self) -> Json {
        let v = match self {
            Connection::Postgres(c) => serde_json::to_value(c),
            Connection::Csv(c) => serde_json::to_value(c),
        };
        v.unwrap_or(Json::Null)
    }

    pub fn from_stored_json(source_type: SourceType, text: &str) -> Result<Self> {
        let bad =
            |e: serde_json::Error| Error::internal("registry holds an unreadable connection", e);
        Ok(match source_type {
            SourceType::Postgres => Connection::Postgres(serde_json::from_str(text).map_err(bad)?),
            SourceType::Csv => Connection::Csv(serde_json::from_str(text).map_err(bad)?),
        })
    }

    /// The form output shows: a stored password appears as [`MASK`], never its value.
    pub fn to_public_json(&self, has_password: bool) -> Json {
        match self {
            Connection::Postgres(c) => {
                let mut m = Map::new();
                m.insert("host".into(), json!(c.host));
                m.insert("port".into(), json!(c.port));
                m.insert("dbname".into(), json!(c.dbname));
                m.insert("user".into(), json!(c.user));
                if has_password {
                    m.insert("password".into(), json!(MASK));
                }
                if let Some(var) = &c.password_env {
                    m.insert("password_env".into(), json!(var));
                }
                m.insert("table".into(), json!(c.table));
                m.insert("schema".into(), json!(c.schema));
                m.insert("sslmode".into(), json!(c.sslmode.as_str()));
                m.insert("connect_timeout_s".into(), json!(c.connect_timeout_s));
                m.insert("statement_timeout_s".into(), json!(c.statement_timeout_s));
                if !c.allow_functions.is_empty() {
                    m.insert("allow_functions".into(), json!(c.allow_functions));
                }
                Json::Object(m)
            }
            Connection::Csv(c) => json!({
                "path": c.path.to_string_lossy(),
                "delimiter": c.delimiter.to_string(),
                "has_header": c.has_header,
            }),
        }
    }

    /// A one-line, credential-free summary such as `tdb_reader@db.internal:5432/production`.
    pub fn display_target(&self) -> String {
        match self {
            Connection::Postgres(c) => {
                let table = c
                    .table
                    .as_deref()
                    .map(|t| format!(" ({t})"))
                    .unwrap_or_default();
                format!("{}@{}:{}/{}{}", c.user, c.host, c.port, c.dbname, table)
            }
            Connection::Csv(c) => c.path.to_string_lossy().into_owned(),
        }
    }
}

/// What the secret of a connection is, as validated from input.
#[derive(Debug)]
pub enum SecretChange {
    /// The input said nothing about a password.
    Keep,
    /// A new password to store.
    Set(SecretString),
    /// Drop any stored password (e.g. `password_env` now names where it comes from).
    Clear,
}

/// A registration, validated: seed 000's request body.
#[derive(Debug)]
pub struct NewSource {
    pub name: String,
    pub connection: Connection,
    pub secret: Option<SecretString>,
    pub description: String,
    pub tags: Vec<String>,
}

/// The seed's request body as it arrives, before validation.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub name: Json,
    pub source_type: Json,
    pub connection: Json,
    #[serde(default)]
    pub description: Option<Json>,
    #[serde(default)]
    pub tags: Option<Json>,
}

impl RegisterRequest {
    /// Reads a request body; every problem names the field it is about.
    pub fn from_json_text(text: &str) -> Result<Self> {
        let value: Json = serde_json::from_str(text)
            .map_err(|e| Error::Invalid(format!("request body is not valid JSON: {e}")))?;
        let Json::Object(obj) = &value else {
            return Err(Error::Invalid("request body must be a JSON object".into()));
        };
        for required in ["name", "source_type", "connection"] {
            if !obj.contains_key(required) {
                return Err(Error::Invalid(format!("{required}: field is required")));
            }
        }
        serde_json::from_value(value).map_err(|e| Error::Invalid(format!("request body: {e}")))
    }

    pub fn validate(self, cwd: &Path) -> Result<NewSource> {
        let name = validate_name(&expect_string("name", &self.name)?)?;
        let source_type = SourceType::parse(&expect_string("source_type", &self.source_type)?)?;
        let description = match &self.description {
            None | Some(Json::Null) => String::new(),
            Some(d) => validate_description(&expect_string("description", d)?)?,
        };
        let tags = match &self.tags {
            None | Some(Json::Null) => Vec::new(),
            Some(Json::Array(items)) => {
                let mut tags = Vec::with_capacity(items.len());
                for (i, t) in items.iter().enumerate() {
                    tags.push(expect_string(&format!("tags[{i}]"), t)?);
                }
                validate_tags(tags)?
            }
            Some(_) => return Err(Error::Invalid("tags: must be an array of strings".into())),
        };
        let Json::Object(conn) = self.connection else {
            return Err(Error::Invalid("connection: must be a JSON object".into()));
        };
        let (connection, secret) = parse_connection(source_type, &conn, cwd)?;
        let secret = match secret {
            SecretChange::Set(s) => Some(s),
            SecretChange::Keep | SecretChange::Clear => None,
        };
        Ok(NewSource {
            name,
            connection,
            secret,
            description,
            tags,
        })
    }
}

fn expect_string(field: &str, v: &Json) -> Result<String> {
    match v {
        Json::String(s) => Ok(s.clone()),
        _ => Err(Error::Invalid(format!("{field}: must be a string"))),
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(char::is_control)
}

pub fn validate_name(name: &str) -> Result<String> {
    let n = name.chars().count();
    if n == 0 || name.trim().is_empty() {
        return Err(Error::Invalid("name: must not be empty".into()));
    }
    if n > NAME_MAX_CHARS {
        return Err(Error::Invalid(format!(
            "name: at most {NAME_MAX_CHARS} characters allowed, got {n}"
        )));
    }
    if has_control(name) {
        return Err(Error::Invalid(
            "name: control characters are not allowed".into(),
        ));
    }
    if name.trim() != name {
        return Err(Error::Invalid(
            "name: must not start or end with whitespace".into(),
        ));
    }
    Ok(name.to_string())
}

pub fn validate_description(d: &str) -> Result<String> {
    let n = d.chars().count();
    if n > DESCRIPTION_MAX_CHARS {
        return Err(Error::Invalid(format!(
            "description: at most {DESCRIPTION_MAX_CHARS} characters allowed, got {n}"
        )));
    }
    if d.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
        return Err(Error::Invalid(
            "description: control characters are not allowed".into(),
        ));
    }
    Ok(d.to_string())
}

/// Tags keep their order; repeats are dropped.
pub fn validate_tags(tags: Vec<String>) -> Result<Vec<String>> {
    if tags.len() > TAGS_MAX {
        return Err(Error::Invalid(format!(
            "tags: at most {TAGS_MAX} tags allowed, got {}",
            tags.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(tags.len());
    for t in tags {
        let n = t.chars().count();
        if n == 0 || t.trim().is_empty() {
            return Err(Error::Invalid("tags: a tag must not be empty".into()));
        }
        if n > TAG_MAX_CHARS {
            return Err(Error::Invalid(format!(
                "tags: a tag has at most {TAG_MAX_CHARS} characters, got {n}"
            )));
        }
        if has_control(&t) {
            return Err(Error::Invalid(
                "tags: control characters are not allowed".into(),
            ));
        }
        if !out.contains(&t) {
            out.push(t);
        }
    }
    Ok(out)
}

const PG_FIELDS: [&str; 13] = [
    "host",
    "port",
    "dbname",
    "user",
    "password",
    "password_env",
    "table",
    "schema",
    "sslmode",
    "connect_timeout_s",
    "statement_timeout_s",
    "allow_functions",
    "url",
];
/// Fields a `url` already expresses, so they may not be given beside it.
const PG_URL_FIELDS: [&str; 5] = ["host", "port", "dbname", "user", "password"];
const CSV_FIELDS: [&str; 3] = ["path", "delimiter", "has_header"];

/// Validates a connection object for `source_type`. Relative CSV paths resolve against `cwd`.
pub fn parse_connection(
    source_type: SourceType,
    conn: &Map<String, Json>,
    cwd: &Path,
) -> Result<(Connection, SecretChange)> {
    let allowed: &[&str] = match source_type {
        SourceType::Postgres => &PG_FIELDS,
        SourceType::Csv => &CSV_FIELDS,
    };
    if let Some(k) = conn.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(Error::Invalid(format!(
            "connection.{}: unknown field for a {} source (fields: {})",
            k.escape_debug(),
            source_type,
            allowed.join(", ")
        )));
    }
    match source_type {
        SourceType::Postgres => parse_pg(conn),
        SourceType::Csv => Ok((Connection::Csv(parse_csv(conn, cwd)?), SecretChange::Keep)),
    }
}

fn opt_str(conn: &Map<String, Json>, field: &str) -> Result<Option<String>> {
    match conn.get(field) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(Error::Invalid(format!(
            "connection.{field}: must be a string"
        ))),
    }
}

fn opt_uint(conn: &Map<String, Json>, field: &str, min: u64, max: u64) -> Result<Option<u64>> {
    let n = match conn.get(field) {
        None | Some(Json::Null) => return Ok(None),
        Some(Json::Number(n)) => n.as_u64(),
        Some(Json::String(s)) => s.trim().parse::<u64>().ok(),
        Some(_) => None,
    };
    match n {
        Some(n) if (min..=max).contains(&n) => Ok(Some(n)),
        _ => Err(Error::Invalid(format!(
            "connection.{field}: must be a whole number from {min} to {max}"
        ))),
    }
}

fn required_text(field: &str, value: Option<String>) -> Result<String> {
    match value {
        Some(v) if !v.trim().is_empty() => {
            if has_control(&v) {
                Err(Error::Invalid(format!(
                    "connection.{field}: control characters are not allowed"
                )))
            } else {
                Ok(v)
            }
        }
        Some(_) => Err(Error::Invalid(format!(
            "connection.{field}: must not be empty"
        ))),
        None => Err(Error::Invalid(format!(
            "connection.{field}: field is required"
        ))),
    }
}

fn optional_text(field: &str, value: Option<String>) -> Result<Option<String>> {
    match value {
        None => Ok(None),
        Some(v) => required_text(field, Some(v)).map(Some),
    }
}

fn parse_pg(conn: &Map<String, Json>) -> Result<(Connection, SecretChange)> {
    let mut host = opt_str(conn, "host")?;
    let mut port = opt_uint(conn, "port", 1, 65535)?;
    let mut dbname = opt_str(conn, "dbname")?;
    let mut user = opt_str(conn, "user")?;
    let mut password = opt_str(conn, "password")?;
    let mut sslmode = match opt_str(conn, "sslmode")? {
        Some(s) => Some(SslMode::parse("connection.sslmode", &s)?),
        None => None,
    };
    let mut connect_timeout_s = opt_uint(conn, "connect_timeout_s", 1, 3600)?;

    if let Some(url) = opt_str(conn, "url")? {
        if let Some(k) = PG_URL_FIELDS
            .iter()
            .find(|k| conn.get(**k).is_some_and(|v| !v.is_null()))
        {
            return Err(Error::Invalid(format!(
                "connection.url: give either url or {k} (and the other separate fields), not both"
            )));
        }
        let parts = PgUrl::parse(&url)?;
        host = parts.host;
        port = parts.port.map(u64::from);
        dbname = parts.dbname;
        user = parts.user;
        password = parts.password;
        if parts.sslmode.is_some() {
            if sslmode.is_some() {
                return Err(Error::Invalid(
                    "connection.sslmode: given both in url and as a field".into(),
                ));
            }
            sslmode = parts.sslmode;
        }
        if parts.connect_timeout_s.is_some() {
            connect_timeout_s = parts.connect_timeout_s;
        }
    }

    let password_env = optional_text("password_env", opt_str(conn, "password_env")?)?;
    if let Some(var) = &password_env {
        let valid = var
            .chars()
            .enumerate()
            .all(|(i, c)| c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit()));
        if !valid {
            return Err(Error::Invalid(format!(
                "connection.password_env: \"{}\" is not an environment variable name",
                var.escape_debug()
            )));
        }
        if password.is_some() {
            return Err(Error::Invalid(
                "connection.password_env: give either password or password_env, not both".into(),
            ));
        }
    }
    let secret = match (password, &password_env) {
        (Some(p), _) => {
            if p.is_empty() {
                return Err(Error::Invalid(
                    "connection.password: must not be empty".into(),
                ));
            }
            SecretChange::Set(SecretString::from(p))
        }
        (None, Some(_)) => SecretChange::Clear,
        (None, None) if conn.get("password").is_some_and(Json::is_null) => SecretChange::Clear,
        (None, None) => SecretChange::Keep,
    };

    let spec = PgConnection {
        host: required_text("host", host)?,
        port: u16::try_from(port.unwrap_or(5432)).unwrap_or(5432),
        dbname: required_text("dbname", dbname)?,
        user: required_text("user", user)?,
        password_env,
        table: optional_text("table", opt_str(conn, "table")?)?,
        schema: optional_text("schema", opt_str(conn, "schema")?)?
            .unwrap_or_else(|| "public".into()),
        sslmode: sslmode.unwrap_or_default(),
        connect_timeout_s: connect_timeout_s.unwrap_or(10),
        statement_timeout_s: opt_uint(conn, "statement_timeout_s", 1, 86_400)?.unwrap_or(30),
        allow_functions: allow_functions(conn)?,
    };
    Ok((Connection::Postgres(spec), secret))
}

/// At most this many entries in `allow_functions`, each at most 200 characters.
const MAX_ALLOWED_FUNCTIONS: usize = 200;

/// `allow_functions`: a list of names (`fn`, `schema.fn`, `extension`, optionally ending in
/// `*`), kept in the order given without repeats.
fn allow_functions(conn: &Map<String, Json>) -> Result<Vec<String>> {
    let field = "connection.allow_functions";
    let items = match conn.get("allow_functions") {
        None | Some(Json::Null) => return Ok(Vec::new()),
        Some(Json::Array(items)) => items,
        Some(_) => {
            return Err(Error::Invalid(format!(
                "{field}: must be a list of function or extension names, e.g. [\"postgis\", \"public.my_fn\"]"
            )));
        }
    };
    if items.len() > MAX_ALLOWED_FUNCTIONS {
        return Err(Error::Invalid(format!(
            "{field}: at most {MAX_ALLOWED_FUNCTIONS} entries, got {}",
            items.len()
        )));
    }
    let mut out: Vec<String> = Vec::with_capacity(items.len());
    for item in items {
        let Some(name) = item.as_str().map(str::trim) else {
            return Err(Error::Invalid(format!(
                "{field}: every entry must be a string"
            )));
        };
        let star = name.find('*');
        let valid = !name.is_empty()
            && name.chars().count() <= 200
            && !has_control(name)
            && star.is_none_or(|i| i == name.len() - 1)
            && name.split('.').count() <= 2
            && name.split('.').all(|part| !part.is_empty());
        if !valid {
            return Err(Error::Invalid(format!(
                "{field}: \"{}\" is not a function or extension name (name, schema.name or \
                 extension, with an optional * at the end)",
                name.escape_debug()
            )));
        }
        if !out.iter().any(|o| o == name) {
            out.push(name.to_string());
        }
    }
    Ok(out)
}

fn parse_csv(conn: &Map<String, Json>, cwd: &Path) -> Result<CsvConnection> {
    let raw = required_text("path", opt_str(conn, "path")?)?;
    let path = cwd.join(expand_tilde(&raw));
    let meta = std::fs::metadata(&path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ => e.to_string(),
        };
        Error::Invalid(format!("connection.path: {why}: {}", path.display()))
    })?;
    if meta.is_dir() {
        return Err(Error::Invalid(format!(
            "connection.path: is a directory, not a file: {}",
            path.display()
        )));
    }
    if let Err(e) = std::fs::File::open(&path) {
        return Err(Error::Invalid(format!(
            "connection.path: cannot be read ({e}): {}",
            path.display()
        )));
    }
    let path = std::fs::canonicalize(&path).unwrap_or(path);
    let delimiter = match opt_str(conn, "delimiter")? {
        None => ',',
        Some(d) => parse_delimiter(&d)?,
    };
    let has_header = match conn.get("has_header") {
        None | Some(Json::Null) => true,
        Some(Json::Bool(b)) => *b,
        Some(Json::String(s)) if s == "true" || s == "false" => s == "true",
        Some(_) => {
            return Err(Error::Invalid(
                "connection.has_header: must be true or false".into(),
            ));
        }
    };
    Ok(CsvConnection {
        path,
        delimiter,
        has_header,
    })
}

fn parse_delimiter(d: &str) -> Result<char> {
    let c = match d {
        "\\t" | "tab" | "TAB" => '\t',
        _ => {
            let mut chars = d.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => c,
                _ => {
                    return Err(Error::Invalid(format!(
                        "connection.delimiter: must be one character, got \"{}\"",
                        d.escape_debug()
                    )));
                }
            }
        }
    };
    if !c.is_ascii() || c == '"' || c == '\n' || c == '\r' {
        return Err(Error::Invalid(format!(
            "connection.delimiter: \"{}\" cannot separate fields (use one ASCII character other than a quote or newline)",
            c.escape_debug()
        )));
    }
    Ok(c)
}

fn expand_tilde(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

/// The parts of a `postgres://user:password@host:port/dbname?sslmode=…` URL.
#[derive(Debug, Default, PartialEq, Eq)]
struct PgUrl {
    host: Option<String>,
    port: Option<u16>,
    dbname: Option<String>,
    user: Option<String>,
    password: Option<String>,
    sslmode: Option<SslMode>,
    connect_timeout_s: Option<u64>,
}

impl PgUrl {
    fn parse(url: &str) -> Result<Self> {
        // The URL may hold a password: errors describe the problem, never echo the text.
        let bad = |why: &str| Error::Invalid(format!("connection.url: {why}"));
        let rest = url
            .strip_prefix("postgres://")
            .or_else(|| url.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("must start with postgres:// or postgresql://"))?;
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
        let mut out = PgUrl::default();
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
            match k {
                "sslmode" => out.sslmode = Some(SslMode::parse("connection.url", &v)?),
                "connect_timeout" => {
                    out.connect_timeout_s = Some(
                        v.parse::<u64>()
                            .ok()
                            .filter(|n| (1..=3600).contains(n))
                            .ok_or_else(|| bad("connect_timeout must be 1 to 3600 seconds"))?,
                    )
                }
                "application_name" => {}
                other => {
                    return Err(Error::Invalid(format!(
                        "connection.url: unsupported parameter \"{}\" (supported: sslmode, connect_timeout, application_name)",
                        other.escape_debug()
                    )));
                }
            }
        }
        Ok(out)
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

/// A full source record (seed 000's SourceRecord), secrets excluded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceRecord {
    pub id: String,
    pub name: String,
    pub connection: Connection,
    /// A password is stored (encrypted) for this source.
    pub has_password: bool,
    pub description: String,
    pub tags: Vec<String>,
    pub registered_by: String,
    pub registered_at: String,
    pub status: Status,
}

impl SourceRecord {
    pub fn source_type(&self) -> SourceType {
        self.connection.source_type()
    }

    /// The full record as `source add/show --json` print it.
    pub fn to_json(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "source_type": self.source_type().as_str(),
            "connection": self.connection.to_public_json(self.has_password),
            "description": self.description,
            "tags": self.tags,
            "registered_by": self.registered_by,
            "registered_at": self.registered_at,
            "status": self.status.as_str(),
        })
    }

    /// The summary `source list --json` prints: no connection details.
    pub fn to_summary_json(&self) -> Json {
        json!({
            "id": self.id,
            "name": self.name,
            "source_type": self.source_type().as_str(),
            "description": self.description,
            "tags": self.tags,
            "registered_at": self.registered_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    fn obj(v: Json) -> Map<String, Json> {
        match v {
            Json::Object(m) => m,
            _ => panic!("not an object"),
        }
    }

    fn pg(v: Json) -> Result<(PgConnection, SecretChange)> {
        let (c, s) = parse_connection(SourceType::Postgres, &obj(v), Path::new("/"))?;
        match c {
            Connection::Postgres(p) => Ok((p, s)),
            Connection::Csv(_) => panic!("wrong type"),
        }
    }

    #[test]
    fn unknown_type_lists_the_known_ones() {
        let e = SourceType::parse("mysql").unwrap_err();
        assert_eq!(e.exit_code(), 10);
        assert!(e.detail().contains("source_type"), "{e}");
        assert!(e.detail().contains("postgres, csv"), "{e}");
    }

    #[test]
    fn names_are_bounded() {
        assert!(validate_name(&"a".repeat(100)).is_ok());
        let e = validate_name(&"a".repeat(101)).unwrap_err();
        assert!(e.detail().starts_with("name:"), "{e}");
        assert!(validate_name("").is_err());
        assert!(validate_name("a\u{1b}[2J").is_err());
        // Multi-byte characters count as one each.
        assert!(validate_name(&"é".repeat(100)).is_ok());
    }

    #[test]
    fn descriptions_and_tags_are_bounded() {
        assert!(validate_description(&"d".repeat(500)).is_ok());
        let e = validate_description(&"d".repeat(501)).unwrap_err();
        assert!(e.detail().starts_with("description:"), "{e}");
        let tags = validate_tags(vec!["a".into(), "b".into(), "a".into()]).unwrap();
        assert_eq!(tags, vec!["a", "b"]);
        assert!(validate_tags(vec!["".into()]).is_err());
    }

    #[test]
    fn pg_defaults_and_secret() {
        let (c, s) = pg(json!({"host":"db","dbname":"prod","user":"r","password":"pw"})).unwrap();
        assert_eq!(c.port, 5432);
        assert_eq!(c.schema, "public");
        assert_eq!(c.sslmode, SslMode::Prefer);
        assert_eq!(c.connect_timeout_s, 10);
        assert_eq!(c.statement_timeout_s, 30);
        match s {
            SecretChange::Set(p) => assert_eq!(p.expose_secret(), "pw"),
            _ => panic!("password not taken"),
        }
        let stored = Connection::Postgres(c).to_stored_json().to_string();
        assert!(!stored.contains("pw"));
    }

    #[test]
    fn pg_fields_are_checked_by_name() {
        let cases = [
            (json!({"dbname":"d","user":"u"}), "connection.host"),
            (
                json!({"host":"h","dbname":"d","user":"u","port":0}),
                "connection.port",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","port":"x"}),
                "connection.port",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","sslmode":"on"}),
                "connection.sslmode",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","passwd":"x"}),
                "connection.passwd",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","password":"p","password_env":"X"}),
                "connection.password_env",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","password_env":"1X"}),
                "connection.password_env",
            ),
            (json!({"url":"mysql://x"}), "connection.url"),
            (json!({"url":"postgres://h:99999/d"}), "connection.url"),
            (
                json!({"url":"postgres://u@h/d","host":"x"}),
                "connection.url",
            ),
        ];
        for (input, field) in cases {
            let e = pg(input.clone()).unwrap_err();
            assert_eq!(e.exit_code(), 10, "{input}");
            assert!(e.detail().starts_with(field), "{input}: {e}");
        }
    }

    #[test]
    fn pg_url_is_split_into_fields() {
        let (c, s) = pg(json!({
            "url": "postgresql://tdb%40reader:p%40ss@db.internal:6543/prod?sslmode=verify-full&connect_timeout=3",
            "table": "orders"
        }))
        .unwrap();
        assert_eq!(c.user, "tdb@reader");
        assert_eq!(c.host, "db.internal");
        assert_eq!(c.port, 6543);
        assert_eq!(c.dbname, "prod");
        assert_eq!(c.sslmode, SslMode::VerifyFull);
        assert_eq!(c.connect_timeout_s, 3);
        assert_eq!(c.table.as_deref(), Some("orders"));
        match s {
            SecretChange::Set(p) => assert_eq!(p.expose_secret(), "p@ss"),
            _ => panic!("password not taken"),
        }
        let (c, _) = pg(json!({"url": "postgres://u@[::1]:5433/d"})).unwrap();
        assert_eq!((c.host.as_str(), c.port), ("::1", 5433));
    }

    #[test]
    fn url_errors_never_echo_the_password() {
        let e = pg(json!({"url":"postgres://u:hunter2@h:notaport/d"})).unwrap_err();
        assert!(!e.detail().contains("hunter2"), "{e}");
    }

    #[test]
    fn public_json_masks_the_password() {
        let (c, _) = pg(json!({"host":"h","dbname":"d","user":"u"})).unwrap();
        let conn = Connection::Postgres(c);
        assert_eq!(conn.to_public_json(true)["password"], json!(MASK));
        assert!(conn.to_public_json(false).get("password").is_none());
    }

    #[test]
    fn csv_path_must_exist() {
        let dir = tempfile::tempdir().unwrap();
        let e = parse_connection(
            SourceType::Csv,
            &obj(json!({"path":"missing.csv"})),
            dir.path(),
        )
        .unwrap_err();
        assert!(
            e.detail().starts_with("connection.path: no such file"),
            "{e}"
        );
        std::fs::write(dir.path().join("a.csv"), "x\n1\n").unwrap();
        let (c, _) = parse_connection(
            SourceType::Csv,
            &obj(json!({"path":"a.csv","delimiter":"\\t","has_header":false})),
            dir.path(),
        )
        .unwrap();
        match c {
            Connection::Csv(c) => {
                assert!(c.path.is_absolute());
                assert_eq!(c.delimiter, '\t');
                assert!(!c.has_header);
            }
            Connection::Postgres(_) => panic!("wrong type"),
        }
        let e = parse_connection(
            SourceType::Csv,
            &obj(json!({"path":"a.csv","delimiter":";;"})),
            dir.path(),
        )
        .unwrap_err();
        assert!(e.detail().starts_with("connection.delimiter"), "{e}");
    }

    #[test]
    fn register_request_requires_fields() {
        let e = RegisterRequest::from_json_text(r#"{"source_type":"csv","connection":{}}"#)
            .unwrap_err();
        assert_eq!(e.detail(), "name: field is required");
        let e = RegisterRequest::from_json_text("[1]").unwrap_err();
        assert_eq!(e.exit_code(), 10);
    }
}
