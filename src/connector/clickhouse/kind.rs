//! What a ClickHouse source is: its connection fields, their rules, and how it shows.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::ClickHouseConnector;
use crate::connector::net::{self, Endpoint, UrlParts};
use crate::connector::ssh::{self, SshSpec};
use crate::connector::{Connector, SourceKind, StoredSecret};
use crate::core::Result;
use crate::core::guard::{CLICKHOUSE_DENIED, Dialect};
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, Kind, KindRules, Shape, Validated,
};
use crate::core::source::{Connection, SourceRecord};
use crate::home::Home;

/// The `clickhouse` kind.
pub static KIND: ClickHouse = ClickHouse;

pub struct ClickHouse;

impl ClickHouse {
    /// A stored connection of this kind, for tests and tools that build one.
    pub fn connection(&'static self, spec: &ClickHouseConnection) -> Result<Connection> {
        Connection::from_spec(Kind(self), spec)
    }
}

/// A ClickHouse connection without its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClickHouseConnection {
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
    /// HTTPS, with the server's certificate checked against the system's roots.
    #[serde(default)]
    pub secure: bool,
    pub connect_timeout_s: u64,
    pub statement_timeout_s: u64,
    /// Reach the server through this SSH host; `host`/`port` are as it sees them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<SshSpec>,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text(
        "url",
        "url",
        "http(s)://user[:password]@host[:port]/dbname, instead of the separate fields",
    )
    .placeholder("https://user@host:8443/default"),
    FieldSpec::text("host", "host", "server host name or IP address")
        .placeholder("ch.example.com")
        .required(),
    FieldSpec::text("port", "port", "HTTP port (8123, or 8443 with secure)")
        .input(Input::Number { min: 1, max: 65535 })
        .placeholder("8123"),
    FieldSpec::text("dbname", "database", "database name")
        .placeholder("default")
        .default("default"),
    FieldSpec::text("user", "user", "user to connect as")
        .placeholder("default")
        .default("default"),
    net::fields::PASSWORD,
    net::fields::PASSWORD_ENV,
    net::fields::TABLE,
    FieldSpec::text("secure", "secure", "HTTPS instead of HTTP")
        .input(Input::Bool)
        .default("false"),
    net::fields::CONNECT_TIMEOUT_S,
    net::fields::STATEMENT_TIMEOUT_S,
    ssh::FIELD,
];

impl KindRules for ClickHouse {
    fn name(&self) -> &'static str {
        "clickhouse"
    }

    fn about(&self) -> &'static str {
        "a ClickHouse database (HTTP interface), or one table of it"
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
        let secure = f.boolean("secure");
        let from_url = at.url(&mut f, parse_url);
        let secure = net::from_url_or_field(&mut f, "secure", secure, from_url);
        // Only the host is required: ClickHouse names a default database and user.
        at.host = f.check_text("host", at.host.take(), from_url.is_none());
        let dbname = f.check_text("dbname", at.dbname.take(), false);
        let user = f.check_text("user", at.user.take(), false);
        let connect_timeout_s = f.number("connect_timeout_s", 1, 3600);
        let (password_env, secret) = net::credentials(&mut f, at.password.take());
        let table = f.text("table");
        let statement_timeout_s = f.number("statement_timeout_s", 1, 86_400);
        let secure = secure.unwrap_or(false);
        let default_port = if secure { 8443 } else { 8123 };
        let ssh = ssh::read(&mut f, input, cx);
        f.finish(
            || {
                serde_json::to_value(ClickHouseConnection {
                    host: at.host.clone().unwrap_or_default(),
                    port: at
                        .port
                        .and_then(|p| u16::try_from(p).ok())
                        .unwrap_or(default_port),
                    dbname: dbname.unwrap_or_else(|| "default".into()),
                    user: user.unwrap_or_else(|| "default".into()),
                    password_env,
                    table,
                    secure,
                    connect_timeout_s: connect_timeout_s.unwrap_or(10),
                    statement_timeout_s: statement_timeout_s.unwrap_or(30),
                    ssh,
                })
                .unwrap_or(Json::Null)
            },
            secret,
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        net::summary(stored, 8123)
    }

    fn policy(&self) -> GuardPolicy {
        GuardPolicy {
            dialect: Dialect::ClickHouse,
            denied: CLICKHOUSE_DENIED,
        }
    }

    fn shape(&self, stored: &Map<String, Json>) -> Shape {
        net::shape(stored, "dbname")
    }

    fn starter_sql(&self, stored: &Map<String, Json>, label: &str) -> String {
        net::starter_sql(
            stored,
            label,
                "SELECT name, engine, sorting_key\n\
                 FROM system.tables\n\
                 WHERE database = currentDatabase()\n\
                 ORDER BY name",
        )
    }

    fn merge(&self, stored: &Map<String, Json>, patch: &Map<String, Json>) -> Map<String, Json> {
        net::merge(stored, patch)
    }
}

impl SourceKind for ClickHouse {
    fn open(
        &self,
        record: &SourceRecord,
        secret: StoredSecret,
        _home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: ClickHouseConnection = record.connection.spec()?;
        Ok(Box::new(ClickHouseConnector::new(record, spec, secret)?))
    }
}

/// An `http://` or `https://` URL; the scheme says `secure`. No parameters: settings are
/// tdb's to send, and a password has no place in a URL that is sent.
fn parse_url(url: &str) -> Result<(UrlParts, bool), String> {
    let parts = UrlParts::parse(url, &["http", "https"])?;
    if let Some((k, _)) = parts.params.first() {
        return Err(format!(
            "unsupported parameter \"{}\" (a ClickHouse URL takes none)",
            k.escape_debug()
        ));
    }
    Ok((parts, url.starts_with("https://")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::kind::SecretChange;
    use secrecy::ExposeSecret;
    use serde_json::json;
    use std::path::Path;

    fn ch(v: Json) -> Result<(ClickHouseConnection, SecretChange), Vec<FieldError>> {
        let Json::Object(m) = v else {
            panic!("not an object")
        };
        let cx = Context {
            cwd: Path::new("/"),
            user_home: None,
        };
        let valid = KIND.validate(&m, &cx)?;
        let spec = serde_json::from_value(Json::Object(valid.stored)).unwrap();
        Ok((spec, valid.secret))
    }

    #[test]
    fn defaults_follow_the_contract() {
        let (c, s) = ch(json!({"host":"ch"})).unwrap();
        assert_eq!(
            (c.port, c.dbname.as_str(), c.user.as_str(), c.secure),
            (8123, "default", "default", false)
        );
        assert_eq!((c.connect_timeout_s, c.statement_timeout_s), (10, 30));
        assert!(matches!(s, SecretChange::Keep));
        let (c, _) = ch(json!({"host":"ch","secure":true})).unwrap();
        assert_eq!(c.port, 8443);
        let conn = KIND.connection(&c).unwrap();
        assert_eq!(conn.display_target(), "default@ch:8443/default");
    }

    #[test]
    fn url_is_split_and_its_password_kept_secret() {
        let (c, s) = ch(json!({"url":"https://ro:p%40ss@ch.internal/logs","table":"hits"})).unwrap();
        assert_eq!(
            (c.user.as_str(), c.host.as_str(), c.port, c.dbname.as_str(), c.secure),
            ("ro", "ch.internal", 8443, "logs", true)
        );
        assert!(matches!(s, SecretChange::Set(p) if p.expose_secret() == "p@ss"));
        let conn = KIND.connection(&c).unwrap();
        assert!(!conn.to_stored_json().to_string().contains("p@ss"));
    }

    #[test]
    fn fields_are_checked_by_name() {
        for (input, field) in [
            (json!({"user":"u"}), "connection.host"),
            (json!({"host":"h","port":0}), "connection.port"),
            (json!({"host":"h","secure":"yes"}), "connection.secure"),
            (json!({"url":"mysql://u@h/d"}), "connection.url"),
            (json!({"url":"http://h/d?readonly=0"}), "connection.url"),
            (json!({"url":"http://h/d","secure":true}), "connection.secure"),
        ] {
            let e = ch(input.clone()).unwrap_err();
            let first = e.first().map(ToString::to_string).unwrap_or_default();
            assert!(first.starts_with(field), "{input}: {first}");
        }
    }
}
