//! What a PostgreSQL source is: its connection fields, their rules, and how it shows.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::PgConnector;
use crate::core::guard::POSTGRES_DENIED;
use crate::connector::{Connector, SourceKind, StoredSecret};
use crate::core::Result;
use crate::core::guard::Dialect;
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, Kind, KindRules, SecretChange,
    Shape, Validated, merge_patch,
};
use crate::core::source::{Connection, SourceRecord};
use crate::home::Home;

/// The PostgreSQL kind, as the registration list names it.
pub static KIND: Postgres = Postgres;

pub struct Postgres;

impl Postgres {
    /// A stored connection of this kind, for tests and tools that build one.
    pub fn connection(spec: &PgConnection) -> Result<Connection> {
        Connection::from_spec(Kind(&KIND), spec)
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

const SSL_MODES: [&str; 5] = ["disable", "prefer", "require", "verify-ca", "verify-full"];

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [
            SslMode::Disable,
            SslMode::Prefer,
            SslMode::Require,
            SslMode::VerifyCa,
            SslMode::VerifyFull,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
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

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text(
        "url",
        "url",
        "postgres://user[:password]@host[:port]/dbname[?sslmode=…], instead of the separate fields",
    )
    .placeholder("postgres://user@host/db"),
    FieldSpec::text("host", "host", "server host name, IP address or socket directory")
        .placeholder("db.example.com")
        .required(),
    FieldSpec::text("port", "port", "server port")
        .input(Input::Number { min: 1, max: 65535 })
        .placeholder("5432")
        .default("5432"),
    FieldSpec::text("dbname", "database", "database name")
        .placeholder("the database")
        .required(),
    FieldSpec::text("user", "user", "role to connect as")
        .placeholder("who connects")
        .required(),
    FieldSpec::text("password", "password", "password (stored encrypted)")
        .input(Input::Secret)
        .placeholder("never shown (optional)"),
    FieldSpec::text(
        "password_env",
        "password env",
        "read the password from this environment variable",
    )
    .placeholder("or a variable holding it"),
    FieldSpec::text("table", "table", "the table behind `data` (default: none, the whole database)")
        .placeholder("behind `data` (optional)"),
    FieldSpec::text("schema", "schema", "schema unqualified names resolve in")
        .placeholder("public")
        .default("public"),
    FieldSpec::text("sslmode", "sslmode", "TLS: disable, prefer, require, verify-ca or verify-full")
        .input(Input::Choice(&SSL_MODES))
        .default("prefer"),
    FieldSpec::text("connect_timeout_s", "connect timeout", "seconds to wait for a connection")
        .input(Input::Number { min: 1, max: 3600 })
        .placeholder("10 (seconds)")
        .default("10"),
    FieldSpec::text("statement_timeout_s", "query timeout", "seconds a query may run")
        .input(Input::Number { min: 1, max: 86_400 })
        .placeholder("30 (seconds)")
        .default("30"),
    FieldSpec::text(
        "allow_functions",
        "allow functions",
        "functions or extensions beyond the built-in ones queries may call (repeatable)",
    )
    .input(Input::List)
    .placeholder("postgis, public.my_fn"),
];

/// Fields a `url` already expresses, so they may not be given beside it.
const URL_FIELDS: [&str; 5] = ["host", "port", "dbname", "user", "password"];

/// At most this many entries in `allow_functions`, each at most 200 characters.
const MAX_ALLOWED_FUNCTIONS: usize = 200;

impl KindRules for Postgres {
    fn name(&self) -> &'static str {
        "postgres"
    }

    fn aliases(&self) -> &'static [&'static str] {
        &["postgresql"]
    }

    fn about(&self) -> &'static str {
        "a PostgreSQL database, or one table of it"
    }

    fn fields(&self) -> &'static [FieldSpec] {
        FIELDS
    }

    fn validate(
        &self,
        input: &Map<String, Json>,
        _cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>> {
        let mut f = Fields::new(input, self.name(), FIELDS);
        let mut host = f.string("host");
        let mut port = f.number("port", 1, 65535);
        let mut dbname = f.string("dbname");
        let mut user = f.string("user");
        let mut password = f.string("password");
        let mut sslmode = f.choice("sslmode", &SSL_MODES).and_then(SslMode::parse);
        let mut connect_timeout_s = f.number("connect_timeout_s", 1, 3600);
        let url = f.string("url");
        if let Some(url) = &url {
            if let Some(k) = URL_FIELDS.iter().find(|k| f.given(k)) {
                f.error(
                    "url",
                    format!("give either url or {k} (and the other separate fields), not both"),
                );
            } else {
                match PgUrl::parse(url) {
                    Err(why) => f.error("url", why),
                    Ok(parts) => {
                        host = parts.host;
                        port = parts.port.map(u64::from);
                        dbname = parts.dbname;
                        user = parts.user;
                        password = parts.password;
                        if parts.sslmode.is_some() {
                            if f.given("sslmode") {
                                f.error("sslmode", "given both in url and as a field");
                            }
                            sslmode = parts.sslmode;
                        }
                        if parts.connect_timeout_s.is_some() {
                            connect_timeout_s = parts.connect_timeout_s;
                        }
                    }
                }
            }
        }
        // With a URL that failed, its fields are not missing: the URL's error says it all.
        let from_url = url.is_some();
        let host = f.check_text("host", host, !from_url);
        let dbname = f.check_text("dbname", dbname, !from_url);
        let user = f.check_text("user", user, !from_url);

        let password_env = f.text("password_env");
        if let Some(var) = &password_env {
            let valid = var.chars().enumerate().all(|(i, c)| {
                c == '_' || c.is_ascii_alphabetic() || (i > 0 && c.is_ascii_digit())
            });
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
        let table = f.text("table");
        let schema = f.text("schema");
        let statement_timeout_s = f.number("statement_timeout_s", 1, 86_400);
        let allow_functions = allow_functions(&mut f, input);
        f.finish(
            || {
                serde_json::to_value(PgConnection {
                    host: host.unwrap_or_default(),
                    port: port.and_then(|p| u16::try_from(p).ok()).unwrap_or(5432),
                    dbname: dbname.unwrap_or_default(),
                    user: user.unwrap_or_default(),
                    password_env,
                    table,
                    schema: schema.unwrap_or_else(|| "public".into()),
                    sslmode: sslmode.unwrap_or_default(),
                    connect_timeout_s: connect_timeout_s.unwrap_or(10),
                    statement_timeout_s: statement_timeout_s.unwrap_or(30),
                    allow_functions,
                })
                .unwrap_or(Json::Null)
            },
            secret,
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        let s = |k: &str| stored.get(k).and_then(Json::as_str).unwrap_or("");
        let port = stored.get("port").and_then(Json::as_u64).unwrap_or(5432);
        let table = match stored.get("table").and_then(Json::as_str) {
            Some(t) => format!(" ({t})"),
            None => String::new(),
        };
        format!(
            "{}@{}:{port}/{}{table}",
            s("user"),
            s("host"),
            s("dbname")
        )
    }

    fn policy(&self) -> GuardPolicy {
        GuardPolicy {
            dialect: Dialect::Postgres,
            denied: POSTGRES_DENIED,
        }
    }

    fn shape(&self, stored: &Map<String, Json>) -> Shape {
        Shape {
            whole_database: stored.get("table").is_none_or(Json::is_null),
            default_schema: stored
                .get("schema")
                .and_then(Json::as_str)
                .map(String::from),
        }
    }

    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        if self.shape(stored).whole_database {
            format!(
                "-- {label} is a whole database: its tables are in the schema pane\n\
                 -- (Enter there inserts a name here). Its tables:\n\
                 SELECT table_schema, table_name, table_type\n\
                 FROM information_schema.tables\n\
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')\n\
                 ORDER BY 1, 2"
            )
        } else {
            "SELECT * FROM data".to_string()
        }
    }

    /// A URL stands for host, port, dbname and user; a password and `password_env`
    /// exclude each other, so giving one drops the other.
    fn merge(&self, stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
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
}

impl SourceKind for Postgres {
    fn open(
        &self,
        record: &SourceRecord,
        secret: StoredSecret,
        _home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: PgConnection = record.connection.spec()?;
        Ok(Box::new(PgConnector::new(record, spec, secret)?))
    }
}

/// `allow_functions`: a list of names (`fn`, `schema.fn`, `extension`, optionally ending in
/// `*`), kept in the order given without repeats.
fn allow_functions(f: &mut Fields<'_>, input: &Map<String, Json>) -> Vec<String> {
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
    /// The URL may hold a password: errors describe the problem, never echo the text.
    fn parse(url: &str) -> Result<Self, String> {
        let bad = |why: &str| why.to_string();
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
                "sslmode" => {
                    out.sslmode = Some(SslMode::parse(&v).ok_or_else(|| {
                        format!(
                            "invalid sslmode \"{}\" (use disable, prefer, require, verify-ca or verify-full)",
                            v.escape_debug()
                        )
                    })?)
                }
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
                    return Err(format!(
                        "unsupported parameter \"{}\" (supported: sslmode, connect_timeout, application_name)",
                        other.escape_debug()
                    ));
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

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;
    use serde_json::json;
    use std::path::Path;

    fn cx() -> Context<'static> {
        Context {
            cwd: Path::new("/"),
            user_home: None,
        }
    }

    fn pg(v: Json) -> Result<(PgConnection, SecretChange), Vec<FieldError>> {
        let Json::Object(m) = v else {
            panic!("not an object")
        };
        let valid = KIND.validate(&m, &cx())?;
        let spec = serde_json::from_value(Json::Object(valid.stored)).unwrap();
        Ok((spec, valid.secret))
    }

    fn first(e: Vec<FieldError>) -> String {
        e.first().map(ToString::to_string).unwrap_or_default()
    }

    #[test]
    fn defaults_and_secret() {
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
        let stored = Postgres::connection(&c).unwrap().to_stored_json().to_string();
        assert!(!stored.contains("pw"));
    }

    #[test]
    fn fields_are_checked_by_name() {
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
                "connection.sslmode: invalid sslmode \"on\"",
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
            let e = first(pg(input.clone()).unwrap_err());
            assert!(e.starts_with(field), "{input}: {e}");
        }
    }

    #[test]
    fn every_wrong_field_is_named() {
        let e = pg(json!({"host": "db", "port": "99999", "sslmode": "on", "connect_timeout_s": "x"}))
            .unwrap_err();
        let fields: Vec<&str> = e.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["port", "sslmode", "connect_timeout_s", "dbname", "user"]
        );
    }

    #[test]
    fn url_is_split_into_fields() {
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
        let e = first(pg(json!({"url":"postgres://u:hunter2@h:notaport/d"})).unwrap_err());
        assert!(!e.contains("hunter2"), "{e}");
    }

    #[test]
    fn public_json_masks_the_password_in_contract_order() {
        let (c, _) = pg(json!({"host":"h","dbname":"d","user":"u","table":"orders"})).unwrap();
        let conn = Postgres::connection(&c).unwrap();
        assert_eq!(
            conn.to_public_json(true).to_string(),
            json!({"host":"h","port":5432,"dbname":"d","user":"u","password":"********",
                   "table":"orders","schema":"public","sslmode":"prefer",
                   "connect_timeout_s":10,"statement_timeout_s":30})
            .to_string()
        );
        assert!(conn.to_public_json(false).get("password").is_none());
        assert_eq!(conn.display_target(), "u@h:5432/d (orders)");
    }

    #[test]
    fn an_edit_with_a_url_drops_what_it_replaces() {
        let (c, _) = pg(json!({"host":"h","port":6000,"dbname":"d","user":"u","password_env":"P"}))
            .unwrap();
        let stored = Postgres::connection(&c).unwrap().stored().clone();
        let Json::Object(patch) = json!({"url": "postgres://v@w/x"}) else {
            panic!()
        };
        let merged = KIND.merge(&stored, &patch);
        assert!(merged.get("host").is_none() && merged.get("password_env").is_none());
        assert!(KIND.validate(&merged, &cx()).is_ok());
    }
}
