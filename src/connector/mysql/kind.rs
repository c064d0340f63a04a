//! What a MySQL or MariaDB source is: its connection fields, their rules, and how it shows.
//! One connector serves both names; which server answers is found out when it connects.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::MySqlConnector;
use crate::connector::net::{self, Endpoint, UrlParts};
use crate::connector::ssh::{self, SshSpec};
use crate::connector::{Connector, SourceKind, StoredSecret};
use crate::core::Result;
use crate::core::guard::{Dialect, MYSQL_DENIED};
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, Kind, KindRules, Shape, Validated,
};
use crate::core::source::{Connection, SourceRecord};
use crate::home::Home;

/// The `mysql` kind.
pub static MYSQL: MySql = MySql {
    name: "mysql",
    about: "a MySQL database (or any server speaking its protocol), or one table of it",
};

/// The `mariadb` kind: the same connector under MariaDB's name.
pub static MARIADB: MySql = MySql {
    name: "mariadb",
    about: "a MariaDB database, or one table of it",
};

pub struct MySql {
    name: &'static str,
    about: &'static str,
}

impl MySql {
    /// A stored connection of this kind, for tests and tools that build one.
    pub fn connection(&'static self, spec: &MySqlConnection) -> Result<Connection> {
        Connection::from_spec(Kind(self), spec)
    }
}

/// `ssl_mode`, as MySQL's client names its modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SslMode {
    /// Plain text.
    Disabled,
    /// TLS when the server offers it, without checking who answers; else plain text.
    #[default]
    Preferred,
    /// TLS, without checking who answers.
    Required,
    /// TLS with the server's certificate checked against the trusted roots.
    VerifyCa,
    /// [`SslMode::VerifyCa`], and the certificate must name the host.
    VerifyIdentity,
}

const SSL_MODES: [&str; 5] = [
    "disabled",
    "preferred",
    "required",
    "verify_ca",
    "verify_identity",
];

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disabled => "disabled",
            SslMode::Preferred => "preferred",
            SslMode::Required => "required",
            SslMode::VerifyCa => "verify_ca",
            SslMode::VerifyIdentity => "verify_identity",
        }
    }

    /// `verify_ca`, also as MySQL's URLs and option files spell it (`VERIFY-CA`, `VERIFY_CA`).
    fn parse(s: &str) -> Option<Self> {
        let s = s.to_ascii_lowercase().replace('-', "_");
        [
            SslMode::Disabled,
            SslMode::Preferred,
            SslMode::Required,
            SslMode::VerifyCa,
            SslMode::VerifyIdentity,
        ]
        .into_iter()
        .find(|m| m.as_str() == s)
    }
}

/// A MySQL/MariaDB connection without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MySqlConnection {
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
    #[serde(default)]
    pub ssl_mode: SslMode,
    /// The CA certificates (PEM) the verifying modes trust instead of the built-in roots.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_ca: Option<String>,
    pub connect_timeout_s: u64,
    pub statement_timeout_s: u64,
    /// Stored or loadable functions that queries may call (`name`, `db.name`).
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
        "mysql://user[:password]@host[:port]/dbname[?ssl-mode=…], instead of the separate fields",
    )
    .placeholder("mysql://user@host/db"),
    FieldSpec::text("host", "host", "server host name or IP address")
        .placeholder("db.example.com")
        .required(),
    FieldSpec::text("port", "port", "server port")
        .input(Input::Number { min: 1, max: 65535 })
        .placeholder("3306")
        .default("3306"),
    net::fields::DBNAME,
    FieldSpec::text("user", "user", "user to connect as")
        .placeholder("who connects")
        .required(),
    net::fields::PASSWORD,
    net::fields::PASSWORD_ENV,
    net::fields::TABLE,
    FieldSpec::text(
        "ssl_mode",
        "ssl mode",
        "TLS: disabled, preferred, required, verify_ca or verify_identity",
    )
    .input(Input::Choice(&SSL_MODES))
    .default("preferred"),
    FieldSpec::text(
        "ssl_ca",
        "ssl ca",
        "CA certificates (PEM file) verify_ca and verify_identity trust instead of the built-in roots",
    )
    .placeholder("/etc/ssl/db-ca.pem (optional)"),
    net::fields::CONNECT_TIMEOUT_S,
    net::fields::STATEMENT_TIMEOUT_S,
    FieldSpec::text(
        "allow_functions",
        "allow functions",
        "stored or loadable functions queries may call (repeatable)",
    )
    .input(Input::List)
    .placeholder("shop.fmt_price"),
    ssh::FIELD,
];

impl KindRules for MySql {
    fn name(&self) -> &'static str {
        self.name
    }

    fn about(&self) -> &'static str {
        self.about
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
        let ssl_mode = f.choice("ssl_mode", &SSL_MODES).and_then(SslMode::parse);
        let connect_timeout_s = f.number("connect_timeout_s", 1, 3600);
        let own = at.url(&mut f, MySqlUrl::parse).unwrap_or_default();
        let ssl_mode = net::from_url_or_field(&mut f, "ssl_mode", ssl_mode, own.ssl_mode);
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
        let ssl_ca = f
            .text("ssl_ca")
            .map(|p| cx.resolve(&p).to_string_lossy().into_owned());
        let statement_timeout_s = f.number("statement_timeout_s", 1, 86_400);
        let allow_functions = net::allow_functions(&mut f, input);
        let ssh = ssh::read(&mut f, input, cx);
        f.finish(
            || {
                serde_json::to_value(MySqlConnection {
                    host: host.unwrap_or_default(),
                    port: port.and_then(|p| u16::try_from(p).ok()).unwrap_or(3306),
                    dbname: dbname.unwrap_or_default(),
                    user: user.unwrap_or_default(),
                    password_env,
                    table,
                    ssl_mode: ssl_mode.unwrap_or_default(),
                    ssl_ca,
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
        net::summary(stored, 3306)
    }

    fn policy(&self) -> GuardPolicy {
        GuardPolicy {
            dialect: Dialect::MySql,
            denied: MYSQL_DENIED,
        }
    }

    fn shape(&self, stored: &Map<String, Json>) -> Shape {
        net::shape(stored, "dbname")
    }

    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        net::starter_sql(
            stored,
            label,
                "SELECT table_name, table_type, table_rows, table_comment\n\
                 FROM information_schema.tables\n\
                 WHERE table_schema = DATABASE()\n\
                 ORDER BY table_name",
        )
    }

    fn merge(&self, stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
        net::merge(stored, patch)
    }
}

impl SourceKind for MySql {
    fn open(
        &self,
        record: &SourceRecord,
        secret: StoredSecret,
        _home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: MySqlConnection = record.connection.spec()?;
        Ok(Box::new(MySqlConnector::new(record, spec, secret)?))
    }
}

/// What a `mysql://` or `mariadb://` URL says.
#[derive(Debug, Default, PartialEq, Eq)]
struct MySqlUrl {
    ssl_mode: Option<SslMode>,
    connect_timeout_s: Option<u64>,
}

impl MySqlUrl {
    fn parse(url: &str) -> Result<(UrlParts, Self), String> {
        let mut parts = UrlParts::parse(url, &["mysql", "mariadb"])?;
        let mut out = MySqlUrl::default();
        for (k, v) in std::mem::take(&mut parts.params) {
            match k.to_ascii_lowercase().replace('-', "_").as_str() {
                "ssl_mode" | "sslmode" => {
                    out.ssl_mode = Some(SslMode::parse(&v).ok_or_else(|| {
                        format!(
                            "invalid ssl-mode \"{}\" (use disabled, preferred, required, \
                             verify_ca or verify_identity)",
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
                _ => {
                    return Err(format!(
                        "unsupported parameter \"{}\" (supported: ssl-mode, connect_timeout)",
                        k.escape_debug()
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
            cwd: Path::new("/home/ana"),
            user_home: None,
        }
    }

    fn my(v: Json) -> Result<(MySqlConnection, SecretChange), Vec<FieldError>> {
        let Json::Object(m) = v else {
            panic!("not an object")
        };
        let valid = MARIADB.validate(&m, &cx())?;
        let spec = serde_json::from_value(Json::Object(valid.stored)).unwrap();
        Ok((spec, valid.secret))
    }

    #[test]
    fn defaults_and_secret() {
        let (c, s) = my(json!({"host":"db","dbname":"shop","user":"r","password":"pw"})).unwrap();
        assert_eq!(c.port, 3306);
        assert_eq!(c.ssl_mode, SslMode::Preferred);
        assert_eq!((c.connect_timeout_s, c.statement_timeout_s), (10, 30));
        match s {
            SecretChange::Set(p) => assert_eq!(p.expose_secret(), "pw"),
            _ => panic!("password not taken"),
        }
        let conn = MARIADB.connection(&c).unwrap();
        assert!(!conn.to_stored_json().to_string().contains("pw"));
        assert_eq!(
            conn.to_public_json(true).to_string(),
            json!({"host":"db","port":3306,"dbname":"shop","user":"r","password":"********",
                   "table":null,"ssl_mode":"preferred","connect_timeout_s":10,
                   "statement_timeout_s":30})
            .to_string()
        );
        assert_eq!(conn.display_target(), "r@db:3306/shop");
    }

    #[test]
    fn url_is_split_into_fields() {
        let (c, s) = my(json!({
            "url": "mariadb://shop%40ro:p%40ss@db.internal:3307/shop?ssl-mode=VERIFY_IDENTITY&connect_timeout=3",
            "table": "orders", "ssl_ca": "certs/ca.pem"
        }))
        .unwrap();
        assert_eq!(
            (c.user.as_str(), c.host.as_str(), c.port, c.dbname.as_str()),
            ("shop@ro", "db.internal", 3307, "shop")
        );
        assert_eq!(c.ssl_mode, SslMode::VerifyIdentity);
        assert_eq!(c.connect_timeout_s, 3);
        assert_eq!(c.ssl_ca.as_deref(), Some("/home/ana/certs/ca.pem"));
        assert!(matches!(s, SecretChange::Set(p) if p.expose_secret() == "p@ss"));
        let (c, _) = my(json!({"url": "mysql://u@h/d?sslmode=verify-ca"})).unwrap();
        assert_eq!(c.ssl_mode, SslMode::VerifyCa);
    }

    #[test]
    fn fields_are_checked_by_name() {
        let cases = [
            (json!({"dbname":"d","user":"u"}), "connection.host"),
            (
                json!({"host":"h","dbname":"d","user":"u","port":70000}),
                "connection.port",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","ssl_mode":"on"}),
                "connection.ssl_mode",
            ),
            (
                json!({"host":"h","dbname":"d","user":"u","sslmode":"require"}),
                "connection.sslmode",
            ),
            (json!({"url":"postgres://u@h/d"}), "connection.url"),
            (json!({"url":"mysql://u@h/d?ssl-mode=maybe"}), "connection.url"),
            (json!({"url":"mysql://u@h/d","user":"x"}), "connection.url"),
            (
                json!({"host":"h","dbname":"d","user":"u","password":"p","password_env":"P"}),
                "connection.password_env",
            ),
        ];
        for (input, field) in cases {
            let e = my(input.clone()).unwrap_err();
            let first = e.first().map(ToString::to_string).unwrap_or_default();
            assert!(first.starts_with(field), "{input}: {first}");
        }
    }

    #[test]
    fn both_names_share_the_rules() {
        assert_eq!((MYSQL.name(), MARIADB.name()), ("mysql", "mariadb"));
        assert_eq!(MYSQL.fields().len(), MARIADB.fields().len());
        assert_eq!(MYSQL.policy().dialect, Dialect::MySql);
        let stored = json!({"table": null});
        let sql = MYSQL.starter_sql(stored.as_object().unwrap(), "shop");
        assert!(sql.contains("DATABASE()"), "{sql}");
    }
}
