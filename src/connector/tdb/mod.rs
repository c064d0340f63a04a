//! The `tdb` connector: a source on another tdb's `tdb serve`, so the terminal UI and the
//! command line on a laptop work on a team's sources as on local ones, with a key instead
//! of the database's password. Queries go to `POST /v1/query`, the schema to
//! `GET /v1/sources/{source}/schema`; the server guards, runs and audits each one (this
//! side guards and audits it too). A cancelled query drops its connection, which the
//! server takes as a cancel of the query on its source.

mod kind;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value as Json;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::{BoxFuture, Connector, Hold, RowSink, TestReport};
use crate::core::guard::{Guarded, MAX_LIMIT, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::progress::ProgressFn;
use crate::core::schema::{ColumnInfo, SchemaInfo, TableAbout, TableInfo};
use crate::core::secret::StoredSecret;
use crate::core::source::SourceRecord;
use crate::core::value::{Column, ResultSet, Value};
use crate::core::{Error, Result};
pub use kind::{KIND, Tdb, TdbConnection};

/// A server's answer bodies are at most a thousand rows; far past that is not a tdb.
const MAX_ANSWER_BYTES: usize = 256 << 20;

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// Where a server listens, from the source's `url`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Endpoint {
    secure: bool,
    host: String,
    port: u16,
}

impl Endpoint {
    fn parse(url: &str) -> std::result::Result<Endpoint, String> {
        let (secure, rest) = if let Some(r) = url.strip_prefix("https://") {
            (true, r)
        } else if let Some(r) = url.strip_prefix("http://") {
            (false, r)
        } else {
            return Err("must start with http:// or https://".into());
        };
        let authority = rest.trim_end_matches('/');
        if authority.is_empty() || authority.contains(['/', '?', '#', '@']) {
            return Err("must be http(s)://host[:port], with no path or user".into());
        }
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || authority.starts_with('[') => match p.parse() {
                Ok(p) => (h, p),
                Err(_) => return Err(format!("\"{p}\" is not a port")),
            },
            _ => (authority, if secure { 443 } else { 80 }),
        };
        Ok(Endpoint {
            secure,
            host: host.trim_start_matches('[').trim_end_matches(']').to_string(),
            port,
        })
    }
}

pub struct TdbConnector {
    source_name: String,
    spec: TdbConnection,
    endpoint: Endpoint,
    secret: StoredSecret,
}

impl TdbConnector {
    fn new(record: &SourceRecord, spec: TdbConnection, secret: StoredSecret) -> Result<Self> {
        let endpoint = Endpoint::parse(&spec.url)
            .map_err(|e| Error::Invalid(format!("url: {e}")))?;
        Ok(TdbConnector {
            source_name: record.name.clone(),
            spec,
            endpoint,
            secret,
        })
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> Error {
        Error::Unreachable(format!("cannot reach tdb serve at {}: {why}", self.spec.url))
    }

    fn key(&self) -> Result<SecretString> {
        match &self.secret {
            StoredSecret::Present(k) => Ok(k.clone()),
            StoredSecret::Undecryptable => Err(Error::Unreachable(format!(
                "the stored API key of source \"{}\" cannot be decrypted with this machine's \
                 key; store it again with `tdb source set-password {}`",
                self.source_name, self.source_name
            ))),
            StoredSecret::None => Err(Error::Unreachable(format!(
                "source \"{}\" has no API key; store one with `tdb source set-password {}`",
                self.source_name, self.source_name
            ))),
        }
    }

    async fn stream(&self) -> Result<Box<dyn Io>> {
        let tcp = tokio::net::TcpStream::connect((self.endpoint.host.as_str(), self.endpoint.port))
            .await
            .map_err(|e| self.unreachable(e))?;
        let _ = tcp.set_nodelay(true);
        if !self.endpoint.secure {
            return Ok(Box::new(tcp));
        }
        let mut roots = rustls::RootCertStore::empty();
        match &self.spec.ssl_ca {
            Some(ca) => {
                use rustls::pki_types::pem::PemObject;
                let unreadable =
                    |e: &dyn std::fmt::Display| self.unreachable(format!("cannot read the CA certificates {ca} (ssl_ca): {e}"));
                let certs = rustls::pki_types::CertificateDer::pem_file_iter(ca).map_err(|e| unreadable(&e))?;
                for cert in certs {
                    let cert = cert.map_err(|e| unreadable(&e))?;
                    roots.add(cert).map_err(|e| unreadable(&e))?;
                }
                if roots.is_empty() {
                    return Err(unreadable(&"the file holds no certificate"));
                }
            }
            None => {
                for cert in rustls_native_certs::load_native_certs().certs {
                    let _ = roots.add(cert);
                }
            }
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| self.unreachable(format!("TLS setup failed ({e})")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(self.endpoint.host.clone())
            .map_err(|e| self.unreachable(format!("not a TLS server name ({e})")))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| self.unreachable(format!("TLS failed ({e})")))?;
        Ok(Box::new(tls))
    }

    /// One request on a fresh connection: the status and the JSON body.
    async fn call(&self, method: hyper::Method, path: &str, body: Option<Json>) -> Result<(u16, Json)> {
        let key = self.key()?;
        let connect = async {
            let io = self.stream().await?;
            hyper::client::conn::http1::handshake::<_, Full<Bytes>>(TokioIo::new(io))
                .await
                .map_err(|e| self.unreachable(e))
        };
        let timeout = Duration::from_secs(self.spec.connect_timeout_s.max(1));
        let (mut sender, conn) = tokio::time::timeout(timeout, connect)
            .await
            .map_err(|_| {
                self.unreachable(format!(
                    "no answer within {} s (connect_timeout_s)",
                    self.spec.connect_timeout_s
                ))
            })??;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!("tdb serve connection ended: {e}");
            }
        });
        let mut auth = hyper::header::HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
            .map_err(|_| self.unreachable("the API key cannot be sent in a header"))?;
        auth.set_sensitive(true);
        let host = format!("{}:{}", self.endpoint.host, self.endpoint.port);
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        let request = hyper::Request::builder()
            .method(method)
            .uri(path)
            .header(hyper::header::HOST, host)
            .header(hyper::header::AUTHORIZATION, auth)
            .header(hyper::header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(bytes)))
            .map_err(|e| Error::Internal(format!("building a request to tdb serve: {e}")))?;
        let response = sender.send_request(request).await.map_err(|e| {
            Error::QueryFailed(format!(
                "lost the connection to tdb serve at {} ({e})",
                self.spec.url
            ))
        })?;
        let status = response.status().as_u16();
        let body = http_body_util::Limited::new(response.into_body(), MAX_ANSWER_BYTES)
            .collect()
            .await
            .map_err(|e| Error::QueryFailed(format!("cannot read the answer of {}: {e}", self.spec.url)))?
            .to_bytes();
        let json: Json = serde_json::from_slice(&body).map_err(|_| {
            self.unreachable(format!("the answer (status {status}) is not tdb serve's JSON"))
        })?;
        Ok((status, json))
    }

    /// The server's error, as the same kind of error here.
    fn remote_error(&self, status: u16, body: &Json) -> Error {
        let detail = body["detail"].as_str().unwrap_or("no detail given").to_string();
        let on = format!("tdb serve at {}", self.spec.url);
        match status {
            400 => match detail.strip_prefix("SQL validation failed: ") {
                Some(why) => Error::rejected(why),
                None => Error::Invalid(format!("{on}: {detail}")),
            },
            401 => Error::Unreachable(format!(
                "{on} refused the API key of source \"{}\" ({detail}); it may be revoked: \
                 store a new one with `tdb source set-password {}`",
                self.source_name, self.source_name
            )),
            403 | 404 => Error::Unreachable(format!(
                "{on} has no source \"{}\" this key may use ({detail})",
                self.spec.source
            )),
            429 => Error::QueryFailed(format!("{on}: {detail}")),
            503 => Error::Unreachable(format!("{on}: {detail}")),
            _ => Error::QueryFailed(format!("{on}: {detail}")),
        }
    }

    fn source_path(&self, rest: &str) -> String {
        format!("/v1/sources/{}{rest}", percent_encode(&self.spec.source))
    }

    async fn run_query(&self, guarded: &Guarded, cancel: CancellationToken) -> Result<ResultSet> {
        let body = serde_json::json!({
            "source_id": self.spec.source,
            "sql": guarded.executed_sql,
            "limit": guarded.limit,
        });
        let (status, answer) = tokio::select! {
            r = self.call(hyper::Method::POST, "/v1/query", Some(body)) => r?,
            () = cancel.cancelled() => return Err(Error::Cancelled),
        };
        if status != 200 {
            return Err(self.remote_error(status, &answer));
        }
        result_set(&answer).ok_or_else(|| {
            Error::QueryFailed(format!("tdb serve at {} answered a query result tdb cannot read", self.spec.url))
        })
    }

    async fn run_schema(&self) -> Result<SchemaInfo> {
        let (status, answer) = self.call(hyper::Method::GET, &self.source_path("/schema"), None).await?;
        if status != 200 {
            return Err(self.remote_error(status, &answer));
        }
        let columns: Vec<ColumnInfo> = serde_json::from_value(answer["columns"].clone())
            .map_err(|e| self.unreachable(format!("its schema cannot be read ({e})")))?;
        let tables: Option<Vec<TableInfo>> = match answer.get("tables") {
            Some(t) => Some(
                serde_json::from_value(t.clone())
                    .map_err(|e| self.unreachable(format!("its schema cannot be read ({e})")))?,
            ),
            None => None,
        };
        // A one-table source's engine details, when the server's kind says any.
        let about: TableAbout = match answer.get("table") {
            Some(t) => serde_json::from_value(t.clone())
                .map_err(|e| self.unreachable(format!("its schema cannot be read ({e})")))?,
            None => TableAbout::default(),
        };
        Ok(SchemaInfo {
            columns,
            about,
            tables,
        })
    }

    async fn run_test(&self) -> Result<TestReport> {
        let (status, answer) = self.call(hyper::Method::POST, &self.source_path("/test"), None).await?;
        if status != 200 {
            return Err(self.remote_error(status, &answer));
        }
        if answer["ok"] != Json::Bool(true) {
            return Err(Error::Unreachable(format!(
                "tdb serve at {} cannot reach source \"{}\": {}",
                self.spec.url,
                self.spec.source,
                answer["detail"].as_str().unwrap_or("no detail given")
            )));
        }
        let warnings = answer["warnings"]
            .as_array()
            .map(|w| w.iter().filter_map(|x| x.as_str().map(String::from)).collect())
            .unwrap_or_default();
        Ok(TestReport {
            warnings,
            tunnel: None,
        })
    }
}

/// The rows of a query result, in the server's column order.
fn result_set(answer: &Json) -> Option<ResultSet> {
    let names: Vec<String> = answer["columns"]
        .as_array()?
        .iter()
        .map(|c| c.as_str().map(String::from))
        .collect::<Option<_>>()?;
    let rows = answer["rows"]
        .as_array()?
        .iter()
        .map(|row| {
            let row = row.as_object()?;
            Some(names.iter().map(|n| value(row.get(n).unwrap_or(&Json::Null))).collect())
        })
        .collect::<Option<Vec<Vec<Value>>>>()?;
    Some(ResultSet {
        columns: names
            .into_iter()
            .map(|name| Column {
                name,
                type_name: String::new(),
            })
            .collect(),
        rows,
        truncated: answer["truncated"].as_bool()?,
    })
}

/// A cell as the server wrote it: numbers keep their digits, JSON stays JSON text.
fn value(v: &Json) -> Value {
    match v {
        Json::Null => Value::Null,
        Json::Bool(b) => Value::Bool(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => Value::Int(i),
            None => Value::Number(n.to_string()),
        },
        Json::String(s) => Value::Text(s.clone()),
        other => Value::Json(other.to_string()),
    }
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

impl Connector for TdbConnector {
    fn policy(&self) -> GuardPolicy {
        KIND.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        None
    }

    fn prepare(&self, _progress: Option<ProgressFn>, _cancel: CancellationToken) -> BoxFuture<'_, Result<()>> {
        Box::pin(async { Ok(()) })
    }

    fn query<'a>(&'a self, guarded: &'a Guarded, cancel: CancellationToken) -> BoxFuture<'a, Result<ResultSet>> {
        Box::pin(self.run_query(guarded, cancel))
    }

    /// The API answers at most [`MAX_LIMIT`] rows of a query: those are handed over as the
    /// sink asks; a result with more fails when the sink wants the rows past them, rather
    /// than ending as if it were whole.
    fn stream<'a>(
        &'a self,
        guarded: &'a Guarded,
        sink: &'a mut dyn RowSink,
        _hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(async move {
            let whole = Guarded {
                limit: MAX_LIMIT,
                ..guarded.clone()
            };
            let rs = self.run_query(&whole, cancel).await?;
            sink.columns(&rs.columns)?;
            let mut rows = rs.rows.into_iter();
            let mut sent = 0u64;
            loop {
                let Some(wanted) = sink.wanted().await else {
                    return Ok(sent);
                };
                let batch: Vec<Vec<Value>> = rows.by_ref().take(wanted).collect();
                if batch.is_empty() && rs.truncated {
                    return Err(Error::QueryFailed(format!(
                        "tdb serve at {} answers at most {MAX_LIMIT} rows of a query; this one \
                         has more (add a LIMIT, or query the source where it lives)",
                        self.spec.url
                    )));
                }
                sent += batch.len() as u64;
                let more = rows.len() > 0 || rs.truncated;
                sink.rows(batch, more)?;
                if !more {
                    return Ok(sent);
                }
            }
        })
    }

    fn schema(&self) -> BoxFuture<'_, Result<SchemaInfo>> {
        Box::pin(self.run_schema())
    }

    fn test(&self) -> BoxFuture<'_, Result<TestReport>> {
        Box::pin(self.run_test())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_a_server_and_nothing_else() {
        let e = Endpoint::parse("https://bastion:8443").unwrap();
        assert_eq!((e.secure, e.host.as_str(), e.port), (true, "bastion", 8443));
        let e = Endpoint::parse("http://127.0.0.1:8000/").unwrap();
        assert_eq!((e.secure, e.port), (false, 8000));
        assert_eq!(Endpoint::parse("http://h").unwrap().port, 80);
        assert_eq!(Endpoint::parse("http://[::1]:9").unwrap().host, "::1");
        for bad in ["ftp://h", "http://", "http://h/v1", "http://u@h", "http://h:x"] {
            assert!(Endpoint::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn cells_keep_what_the_server_wrote() {
        let answer = serde_json::json!({"columns": ["a", "b", "c"], "rows": [{"a": 1, "b": 18446744073709551615u64, "c": {"k": [1]}}], "truncated": true});
        let rs = result_set(&answer).unwrap();
        assert_eq!(
            rs.rows[0],
            [Value::Int(1), Value::Number("18446744073709551615".into()), Value::Json(r#"{"k":[1]}"#.into())]
        );
        assert!(rs.truncated);
        assert_eq!(percent_encode("<ID> x"), "%3CID%3E%20x");
    }
}
