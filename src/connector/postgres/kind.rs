//! What a PostgreSQL source is: its connection fields, their rules, and how it shows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::PgConnector;
use crate::core::guard::POSTGRES_DENIED;
use crate::connector::net::{self, Endpoint, UrlParts};
use crate::connector::ssh::{self, SshSpec};
use crate::connector::{Connector, SourceKind, StoredSecret};
use crate::core::Result;
use crate::core::guard::Dialect;
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, Kind, KindRules, Shape,
    Validated,
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
    /// Reach the server through this SSH host; `host`/`port` are as it sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSpec>,
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
    net::fields::DBNAME,
    FieldSpec::text("user", "user", "role to connect as")
        .placeholder("who connects")
        .required(),
    net::fields::PASSWORD,
    net::fields::PASSWORD_ENV,
    net::fields::TABLE,
    FieldSpec::text("schema", "schema", "schema unqualified names resolve in")
        .placeholder("public")
        .default("public"),
    FieldSpec::text("sslmode", "sslmode", "TLS: disable, prefer, require, verify-ca or verify-full")
        .input(Input::Choice(&SSL_MODES))
        .default("prefer"),
    net::fields::CONNECT_TIMEOUT_S,
    net::fields::STATEMENT_TIMEOUT_S,
    FieldSpec::text(
        "allow_functions",
        "allow functions",
        "functions or extensions beyond the built-in ones queries may call (repeatable)",
    )
    .input(Input::List)
    .placeholder("postgis, public.my_fn"),
    ssh::FIELD,
];

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
        cx: &Context<'_>,
    ) -> Result<Validated, Vec<FieldError>> {
        let mut f = Fields::new(input, self.name(), FIELDS);
        let mut at = Endpoint::read(&mut f);
        let sslmode = f.choice("sslmode", &SSL_MODES).and_then(SslMode::parse);
        let connect_timeout_s = f.number("connect_timeout_s", 1, 3600);
        let own = at.url(&mut f, PgUrl::parse).unwrap_or_default();
        let sslmode = net::from_url_or_field(&mut f, "sslmode", sslmode, own.sslmode);
        let connect_timeout_s = own.connect_timeout_s.or(connect_timeout_s);
        at.check(&mut f);
        let Endpoint {
            host,
            port,
            dbname,
            user,
            password,
            ..
        } = at;

        let (password_env, secret) = net::credentials(&mut f, password);
        let table = f.text("table");
        let schema = f.text("schema");
        let statement_timeout_s = f.number("statement_timeout_s", 1, 86_400);
        let allow_functions = net::allow_functions(&mut f, input);
        let ssh = ssh::read(&mut f, input, cx);
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
                    ssh,
                })
                .unwrap_or(Json::Null)
            },
            secret,
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        net::summary(stored, 5432)
    }

    fn policy(&self) -> GuardPolicy {
        GuardPolicy {
            dialect: Dialect::Postgres,
            denied: POSTGRES_DENIED,
        }
    }

    fn shape(&self, stored: &Map<String, Json>) -> Shape {
        net::shape(stored, "schema")
    }

    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        net::starter_sql(
            stored,
            label,
                "SELECT table_schema, table_name, table_type\n\
                 FROM information_schema.tables\n\
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')\n\
                 ORDER BY 1, 2",
        )
    }

    /// A URL stands for host, port, dbname and user; a password and `password_env`
    /// exclude each other, so giving one drops the other.
    fn merge(&self, stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
        net::merge(stored, patch)
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

/// The parts of a `postgres://user:password@host:port/dbname?sslmode=…` URL.
#[derive(Debug, Default, PartialEq, Eq)]
struct PgUrl {
    sslmode: Option<SslMode>,
    connect_timeout_s: Option<u64>,
}

impl PgUrl {
    /// The URL may hold a password: errors describe the problem, never echo the text.
    fn parse(url: &str) -> Result<(UrlParts, Self), String> {
        let mut parts = UrlParts::parse(url, &["postgres", "postgresql"])?;
        let mut out = PgUrl::default();
        for (k, v) in std::mem::take(&mut parts.params) {
            match k.as_str() {
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
                            .ok_or("connect_timeout must be 1 to 3600 seconds")?,
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
        Ok((parts, out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::kind::SecretChange;
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
    fn ssh_goes_beside_a_url_and_stays_through_an_edit_of_it() {
        let (c, _) = pg(json!({"url": "postgres://u@db.internal/d", "ssh": "bastion"})).unwrap();
        assert_eq!(c.ssh, Some(SshSpec::Destination("bastion".into())));
        assert_eq!(c.host, "db.internal");
        let stored = Postgres::connection(&c).unwrap().stored().clone();
        let Json::Object(patch) = json!({"url": "postgres://v@other/x"}) else {
            panic!()
        };
        let merged = KIND.merge(&stored, &patch);
        assert_eq!(merged.get("ssh"), Some(&json!("bastion")));
        assert_eq!(
            Postgres::connection(&c).unwrap().display_target(),
            "u@db.internal:5432/d via bastion"
        );
        let e = first(pg(json!({"url": "postgres://u@h/d", "ssh": "-oProxyCommand=x"})).unwrap_err());
        assert!(e.starts_with("connection.ssh"), "{e}");
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
