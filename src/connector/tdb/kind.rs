//! What a `tdb` source is: a source on a `tdb serve` elsewhere, reached with an API key.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value as Json};

use super::TdbConnector;
use crate::connector::{Connector, SourceKind, StoredSecret};
use crate::core::Result;
use crate::core::guard::{
    CLICKHOUSE_DENIED, DUCKDB_DENIED, DeniedFamily, Dialect, MYSQL_DENIED, POSTGRES_DENIED, SQLITE_DENIED,
};
use crate::core::kind::{
    Context, FieldError, FieldSpec, Fields, GuardPolicy, Input, KindRules, SecretChange, Shape,
    Validated,
};
use crate::core::source::SourceRecord;
use crate::home::Home;

/// Every engine's denied functions, so a remote source of any kind is covered.
static ANY_ENGINE_DENIED: std::sync::LazyLock<Vec<DeniedFamily>> = std::sync::LazyLock::new(|| {
    [POSTGRES_DENIED, SQLITE_DENIED, MYSQL_DENIED, CLICKHOUSE_DENIED, DUCKDB_DENIED].concat()
});

/// The `tdb` kind.
pub static KIND: Tdb = Tdb;

pub struct Tdb;

/// A remote source, without its key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TdbConnection {
    /// `http://host:port` or `https://host:port` of the server, without a path.
    pub url: String,
    /// The source's name or id on that server.
    pub source: String,
    pub connect_timeout_s: u64,
    /// CA certificates (a PEM file) trusted for an `https` server instead of the system's
    /// roots: a team's own CA on a bastion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssl_ca: Option<String>,
}

const FIELDS: &[FieldSpec] = &[
    FieldSpec::text("url", "url", "the tdb serve address, http(s)://host:port")
        .placeholder("https://bastion:8000")
        .required(),
    FieldSpec::text("api_key", "api key", "a tdbk_… key of that server (stored encrypted)")
        .input(Input::Secret)
        .placeholder("never shown"),
    FieldSpec::text("source", "source", "the source's name or id on that server")
        .placeholder("orders")
        .required(),
    FieldSpec::text("connect_timeout_s", "connect timeout", "seconds to wait for the server")
        .input(Input::Number { min: 1, max: 3600 })
        .default("10"),
    FieldSpec::text(
        "ssl_ca",
        "ssl ca",
        "CA certificates (PEM file) an https server is checked against instead of the system's roots",
    )
    .placeholder("/etc/ssl/team-ca.pem (optional)"),
];

impl KindRules for Tdb {
    fn name(&self) -> &'static str {
        "tdb"
    }

    fn about(&self) -> &'static str {
        "a source on another tdb, through its HTTP API (`tdb serve`) and an API key"
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
        let url = f.required_text("url");
        if let Some(u) = &url
            && let Err(why) = super::Endpoint::parse(u)
        {
            f.error("url", why);
        }
        let source = f.required_text("source");
        let connect_timeout_s = f.number("connect_timeout_s", 1, 3600);
        let ssl_ca = f
            .text("ssl_ca")
            .map(|p| cx.resolve(&p).to_string_lossy().into_owned());
        let secret = match f.string("api_key") {
            Some(k) if k.starts_with("tdbk_") => SecretChange::Set(k.into()),
            Some(_) => {
                f.error("api_key", "must be a tdbk_… key made by `tdb key create`");
                SecretChange::Keep
            }
            None => SecretChange::Keep,
        };
        f.finish(
            || {
                serde_json::to_value(TdbConnection {
                    url: url.clone().unwrap_or_default().trim_end_matches('/').to_string(),
                    source: source.clone().unwrap_or_default(),
                    connect_timeout_s: connect_timeout_s.unwrap_or(10),
                    ssl_ca: ssl_ca.clone(),
                })
                .unwrap_or(Json::Null)
            },
            secret,
        )
    }

    fn target(&self, stored: &Map<String, Json>) -> String {
        let text = |k: &str| stored.get(k).and_then(Json::as_str).unwrap_or_default();
        format!("{} on {}", text("source"), text("url"))
    }

    /// The server guards every statement for its own source's engine, which this side does
    /// not know; it refuses before anything is sent (and audits the refusal) what is not a
    /// read, or calls a function any engine's policy denies.
    fn policy(&self) -> GuardPolicy {
        GuardPolicy {
            dialect: Dialect::Postgres,
            denied: &ANY_ENGINE_DENIED,
        }
    }

    fn shape(&self, _stored: &Map<String, Json>) -> Shape {
        Shape {
            whole_database: false,
            default_schema: None,
        }
    }
}

impl SourceKind for Tdb {
    fn open(
        &self,
        record: &SourceRecord,
        secret: StoredSecret,
        _home: &Home,
    ) -> Result<Box<dyn Connector>> {
        let spec: TdbConnection = record.connection.spec()?;
        Ok(Box::new(TdbConnector::new(record, spec, secret)?))
    }
}
