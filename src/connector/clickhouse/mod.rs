//! The ClickHouse connector, over the HTTP interface every ClickHouse version speaks.
//!
//! Safety does not rest on the SQL guard alone: every request carries `readonly=1` (which a
//! query cannot lift: the server refuses `SET` and `SETTINGS` under it) and
//! `max_execution_time` from the statement timeout. The credentials travel in the
//! `X-ClickHouse-User`/`X-ClickHouse-Key` headers, never in the URL. Results are read as
//! `TabSeparatedWithNamesAndTypes`, line by line as they arrive: after `limit + 1` rows the
//! connection is dropped (and the query killed), so a huge result costs nothing. A cancelled
//! query is stopped with `KILL QUERY WHERE query_id = …` on a second connection.

mod decode;
mod kind;

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use secrecy::{ExposeSecret, SecretString};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_util::sync::CancellationToken;

use super::net::{self, shell_word};
use super::ssh::{Forward, Tunnel};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport, TunnelTiming};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::progress::ProgressFn;
use crate::core::schema::{ColumnInfo, SchemaInfo, TableAbout, TableInfo};
use crate::core::secret::StoredSecret;
use crate::core::source::SourceRecord;
use crate::core::value::{Column, ResultBudget, ResultSet, Value};
use crate::core::{Error, Result};
pub use kind::{ClickHouse, ClickHouseConnection, KIND};

/// The format every statement is read in: typed, line-oriented, every value exact.
const FORMAT: &str = "TabSeparatedWithNamesAndTypes";

/// ClickHouse's error codes worth their own words.
const TIMEOUT_EXCEEDED: &str = "Code: 159";
const AUTHENTICATION_FAILED: [&str; 3] = ["Code: 193", "Code: 192", "Code: 516"];

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

type Sender = SendRequest<Full<Bytes>>;

/// A streamed response sent nothing for the query's time limit.
struct Stall;

pub struct ClickHouseConnector {
    source_name: String,
    spec: ClickHouseConnection,
    secret: StoredSecret,
    budget: ResultBudget,
    /// An open connection whose last response was read to the end, for the next request.
    idle: std::sync::Mutex<Option<Sender>>,
    /// The SSH tunnel every connection goes through, when the source has `ssh`.
    tunnel: Option<Tunnel>,
}

/// A response whose status and body are still to be read.
struct Response {
    status: hyper::StatusCode,
    body: Incoming,
}

impl ClickHouseConnector {
    pub fn new(
        record: &SourceRecord,
        spec: ClickHouseConnection,
        secret: StoredSecret,
    ) -> Result<Self> {
        let tunnel = spec.ssh.clone().map(|ssh| {
            let forward = Forward::Tcp {
                host: spec.host.clone(),
                port: spec.port,
            };
            Tunnel::new(ssh, forward, Duration::from_secs(spec.connect_timeout_s.max(1)))
        });
        Ok(ClickHouseConnector {
            tunnel,
            source_name: record.name.clone(),
            spec,
            secret,
            budget: ResultBudget::from_env()?,
            idle: std::sync::Mutex::new(None),
        })
    }

    fn target(&self) -> String {
        net::target(&self.spec.host, self.spec.port)
    }

    fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.spec.connect_timeout_s.max(1))
    }

    /// For when the network, not the server, stalls: the server's own timeout fires first.
    fn query_ceiling(&self) -> Duration {
        Duration::from_secs(
            self.spec
                .statement_timeout_s
                .saturating_mul(2)
                .saturating_add(self.spec.connect_timeout_s)
                .saturating_add(5),
        )
    }

    fn unreachable(&self, why: impl std::fmt::Display) -> Error {
        Error::Unreachable(format!(
            "cannot reach ClickHouse at {}: {why}",
            self.target()
        ))
    }

    /// The one place a byte stream to the server is made (host, port → stream), so a
    /// tunnel can be put in front of it.
    async fn stream(&self, host: &str, port: u16) -> Result<Box<dyn Io>> {
        let tcp = match &self.tunnel {
            // TLS, if any, still runs to the server and checks its name.
            Some(t) => t.connect().await?.0,
            None => tokio::net::TcpStream::connect((host, port))
                .await
                .map_err(|e| self.unreachable(e))?,
        };
        let _ = tcp.set_nodelay(true);
        if !self.spec.secure {
            return Ok(Box::new(tcp));
        }
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| self.unreachable(format!("TLS setup failed ({e})")))?
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = rustls::pki_types::ServerName::try_from(host.to_string())
            .map_err(|e| self.unreachable(format!("not a TLS server name ({e})")))?;
        let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect(name, tcp)
            .await
            .map_err(|e| self.unreachable(format!("TLS failed ({e}); secure is true")))?;
        Ok(Box::new(tls))
    }

    /// A new HTTP connection within the connect timeout.
    async fn open(&self) -> Result<Sender> {
        // The tunnel first, so its own errors and timeout are the ones reported.
        if let Some(t) = &self.tunnel {
            t.addr().await?;
        }
        let made = async {
            let io = self.stream(&self.spec.host, self.spec.port).await?;
            let (sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
                .await
                .map_err(|e| self.unreachable(e))?;
            tokio::spawn(async move {
                if let Err(e) = conn.await {
                    tracing::debug!("ClickHouse connection ended: {e}");
                }
            });
            Ok(sender)
        };
        match tokio::time::timeout(self.connect_timeout(), made).await {
            Ok(r) => r,
            Err(_) => Err(self.unreachable(format!(
                "no answer within {} s (connect_timeout_s)",
                self.spec.connect_timeout_s
            ))),
        }
    }

    /// The kept connection when it is still open (and whether it was the kept one), else a
    /// new one.
    async fn sender(&self) -> Result<(Sender, bool)> {
        let kept = self.idle.lock().ok().and_then(|mut i| i.take());
        if let Some(mut s) = kept
            && s.ready().await.is_ok()
        {
            return Ok((s, true));
        }
        Ok((self.open().await?, false))
    }

    fn keep(&self, sender: Sender) {
        if let Ok(mut idle) = self.idle.lock() {
            *idle = Some(sender);
        }
    }

    fn password(&self) -> Result<Option<SecretString>> {
        net::password(&self.secret, self.spec.password_env.as_deref(), &self.source_name)
    }

    /// Sends one statement with tdb's settings; the body is the caller's to read.
    async fn send(&self, sql: &str, query_id: &str) -> Result<(Sender, Response)> {
        let mut settings = url_form(&[
            ("database", self.spec.dbname.as_str()),
            ("query_id", query_id),
            ("max_execution_time", &self.spec.statement_timeout_s.to_string()),
        ]);
        // Last, so nothing before it is refused as a change under readonly.
        settings.push_str("&readonly=1");
        let host = match self.spec.port {
            8123 if !self.spec.secure => self.spec.host.clone(),
            8443 if self.spec.secure => self.spec.host.clone(),
            port => net::target(&self.spec.host, port),
        };
        let key = match self.password()? {
            Some(p) => {
                let mut key = hyper::header::HeaderValue::from_str(p.expose_secret())
                    .map_err(|_| self.unreachable("the password cannot be sent in a header"))?;
                key.set_sensitive(true);
                Some(key)
            }
            None => None,
        };
        let uri = format!("/?{settings}");
        let build = |body: Bytes| {
            let mut request = hyper::Request::post(uri.as_str())
                .header(hyper::header::HOST, host.as_str())
                .header("X-ClickHouse-User", self.spec.user.as_str())
                .header(hyper::header::CONTENT_TYPE, "text/plain; charset=utf-8");
            if let Some(key) = &key {
                request = request.header("X-ClickHouse-Key", key.clone());
            }
            request
                .body(Full::new(body))
                .map_err(|e| Error::Internal(format!("building a ClickHouse request: {e}")))
        };
        let body = Bytes::from(sql.to_string());
        let (mut sender, kept) = self.sender().await?;
        let response = match sender.try_send_request(build(body.clone())?).await {
            Ok(r) => r,
            // The server closes a kept connection after its keep-alive time; when that
            // crosses the request, the server read none of it: send it once more, on a new
            // connection. If none can be opened, the server went away: the query was lost.
            Err(e) if kept => {
                tracing::debug!(target = %self.target(), "kept connection closed: {}", e.error());
                sender = self.open().await.map_err(|_| self.lost(e.error()))?;
                sender
                    .send_request(build(body)?)
                    .await
                    .map_err(|e| self.lost(&e))?
            }
            Err(e) => return Err(self.lost(e.error())),
        };
        let status = response.status();
        Ok((
            sender,
            Response {
                status,
                body: response.into_body(),
            },
        ))
    }

    fn lost(&self, e: &dyn std::fmt::Display) -> Error {
        Error::QueryFailed(format!(
            "lost the connection to the server at {} while the query ran ({e}); the server \
             may have stopped or restarted",
            self.target()
        ))
    }

    /// The server's words for a failed statement.
    fn server_error(&self, text: &str) -> Error {
        let text = text.trim();
        if text.is_empty() {
            return Error::QueryFailed(format!(
                "the server at {} failed the query without saying why",
                self.target()
            ));
        }
        if text.starts_with(TIMEOUT_EXCEEDED) {
            return Error::QueryFailed(format!(
                "the query ran longer than statement_timeout_s ({} s) and the server stopped \
                 it",
                self.spec.statement_timeout_s
            ));
        }
        if AUTHENTICATION_FAILED.iter().any(|c| text.starts_with(c)) {
            return Error::Unreachable(format!(
                "cannot connect to ClickHouse at {} as user \"{}\": {text}; check the password \
                 (`tdb source set-password {}`, or password_env)",
                self.target(),
                self.spec.user,
                shell_word(&self.source_name)
            ));
        }
        Error::QueryFailed(text.to_string())
    }

    /// Stops the statement `query_id` on the server, from another connection.
    async fn kill(&self, query_id: &str) {
        let sql = format!("KILL QUERY WHERE query_id = '{query_id}' ASYNC");
        let send = async {
            let (sender, mut r) = self.send_fresh(&sql).await?;
            drop(sender);
            let _ = read_all(&mut r.body).await;
            Ok::<_, Error>(())
        };
        match tokio::time::timeout(self.connect_timeout(), send).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(target = %self.target(), "KILL QUERY failed: {e}"),
            Err(_) => tracing::warn!(target = %self.target(), "KILL QUERY timed out"),
        }
    }

    /// [`Self::send`] on a connection of its own, so a running query's is left alone.
    async fn send_fresh(&self, sql: &str) -> Result<(Sender, Response)> {
        let kept = self.idle.lock().ok().and_then(|mut i| i.take());
        drop(kept);
        self.send(sql, &uuid::Uuid::new_v4().to_string()).await
    }

    /// Runs tdb's own statement and reads its whole result.
    async fn fetch(&self, sql: &str) -> Result<(Vec<Column>, Vec<Vec<Value>>)> {
        let run = async {
            let query_id = uuid::Uuid::new_v4().to_string();
            let (sender, mut r) = self.send(&format!("{sql}\nFORMAT {FORMAT}"), &query_id).await?;
            let body = read_all(&mut r.body).await.map_err(|e| self.lost(&e))?;
            if !r.status.is_success() {
                return Err(self.server_error(&String::from_utf8_lossy(&body)));
            }
            self.keep(sender);
            let mut lines = body.split(|&b| b == b'\n').filter(|l| !l.is_empty());
            let (columns, cells) = header(&mut lines)?;
            let rows = lines
                .map(|l| row(l, &cells))
                .collect::<std::result::Result<Vec<_>, _>>()
                .map_err(|e| self.server_error(&e))?;
            Ok((columns, rows))
        };
        match tokio::time::timeout(self.query_ceiling(), run).await {
            Ok(r) => r,
            Err(_) => Err(Error::QueryFailed(format!(
                "no answer from the server at {} within {} s",
                self.target(),
                self.query_ceiling().as_secs()
            ))),
        }
    }

    async fn run_query(&self, guarded: &Guarded, cancel: CancellationToken) -> Result<ResultSet> {
        let query_id = uuid::Uuid::new_v4().to_string();
        let sql = format!("{}\nFORMAT {FORMAT}", guarded.executed_sql);
        let work = self.stream_rows(&sql, &query_id, guarded.limit);
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            r = tokio::time::timeout(self.query_ceiling(), work) => Some(r),
        };
        self.settle(&query_id, outcome).await
    }

    /// Reads rows as they arrive, at most `limit + 1`; says whether the body was read to
    /// its end (else the connection was dropped).
    async fn stream_rows(
        &self,
        sql: &str,
        query_id: &str,
        limit: usize,
    ) -> Result<(ResultSet, bool)> {
        let (sender, mut r) = self.send(sql, query_id).await?;
        if !r.status.is_success() {
            let body = read_all(&mut r.body).await.map_err(|e| self.lost(&e))?;
            self.keep(sender);
            return Err(self.server_error(&String::from_utf8_lossy(&body)));
        }
        let mut pending: Vec<u8> = Vec::new();
        let mut head: Vec<Vec<u8>> = Vec::new();
        let mut shape: Option<(Vec<Column>, Vec<decode::Cell>)> = None;
        let mut rows: Vec<Vec<Value>> = Vec::with_capacity(limit.min(1024));
        let mut held = 0u64;
        let mut truncated = false;
        let mut ended = false;
        'read: loop {
            let frame = match r.body.frame().await {
                None => {
                    ended = true;
                    break;
                }
                Some(f) => f.map_err(|e| self.lost(&e))?,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            pending.extend_from_slice(&data);
            held += data.len() as u64;
            let mut start = 0;
            while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
                let line = &pending[start..start + nl];
                start += nl + 1;
                match &shape {
                    None => {
                        head.push(line.to_vec());
                        if head.len() == 2 {
                            let mut lines = head.iter().map(Vec::as_slice);
                            shape = Some(header(&mut lines)?);
                        }
                    }
                    // The blank line before `WITH TOTALS`' totals row.
                    Some(_) if line.is_empty() => {}
                    Some((_, cells)) => {
                        if rows.len() == limit {
                            truncated = true;
                            break 'read;
                        }
                        rows.push(row(line, cells).map_err(|e| self.server_error(&e))?);
                    }
                }
            }
            pending.drain(..start);
            if held > self.budget.bytes() {
                truncated = true;
                break;
            }
        }
        if ended {
            if !pending.is_empty() {
                // Text after the last full line: the server's error, sent mid-stream.
                return Err(self.server_error(&String::from_utf8_lossy(&pending)));
            }
            self.keep(sender);
        }
        let columns = shape.map(|(c, _)| c).unwrap_or_default();
        Ok((
            ResultSet {
                columns,
                rows,
                truncated,
            },
            ended,
        ))
    }

    /// [`Connector::stream`]: the response is read as the sink asks for rows; between
    /// batches the server waits with the rest unsent (until its own send_timeout, 300 s by
    /// default: `readonly=1` lets tdb raise no setting, so a longer `hold` is not kept).
    async fn run_stream(
        &self,
        guarded: &Guarded,
        sink: &mut dyn RowSink,
        cancel: CancellationToken,
    ) -> Result<u64> {
        let query_id = uuid::Uuid::new_v4().to_string();
        let sql = format!("{}\nFORMAT {FORMAT}", guarded.executed_sql);
        let work = self.stream_body(&sql, &query_id, sink);
        let outcome = tokio::select! {
            biased;
            () = cancel.cancelled() => None,
            r = work => Some(r),
        };
        self.settle(&query_id, outcome).await
    }

    /// What a run of statement `query_id` comes to: cancelled (`None`) or stalled past the
    /// query's time limit, it is killed on the server; read only in part (the rest not
    /// wanted), it is killed too, so the server stops producing it.
    async fn settle<T, Late>(
        &self,
        query_id: &str,
        outcome: Option<std::result::Result<Result<(T, bool)>, Late>>,
    ) -> Result<T> {
        match outcome {
            None => {
                self.kill(query_id).await;
                Err(Error::Cancelled)
            }
            Some(Err(_)) => {
                self.kill(query_id).await;
                Err(Error::QueryFailed(format!(
                    "no answer from the server at {} within {} s; the query was stopped",
                    self.target(),
                    self.query_ceiling().as_secs()
                )))
            }
            Some(Ok(Ok((value, complete)))) => {
                if !complete {
                    self.kill(query_id).await;
                }
                Ok(value)
            }
            Some(Ok(Err(e))) => Err(e),
        }
    }

    /// The rows of the response, a batch at a time, one row ahead; says whether the body
    /// was read to its end. [`Stall`]: no data for the query's time limit.
    async fn stream_body(
        &self,
        sql: &str,
        query_id: &str,
        sink: &mut dyn RowSink,
    ) -> std::result::Result<Result<(u64, bool)>, Stall> {
        let sent = tokio::time::timeout(self.query_ceiling(), self.send(sql, query_id))
            .await
            .map_err(|_| Stall)?;
        let (sender, mut r) = match sent {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        if !r.status.is_success() {
            let body = match read_all(&mut r.body).await {
                Ok(b) => b,
                Err(e) => return Ok(Err(self.lost(&e))),
            };
            self.keep(sender);
            return Ok(Err(self.server_error(&String::from_utf8_lossy(&body))));
        }
        let mut pending: Vec<u8> = Vec::new();
        let mut head: Vec<Vec<u8>> = Vec::new();
        let mut shape: Option<(Vec<Column>, Vec<decode::Cell>)> = None;
        let mut want = 0usize;
        let mut batch: Vec<Vec<Value>> = Vec::new();
        let mut delivered = 0u64;
        loop {
            let frame = match tokio::time::timeout(self.query_ceiling(), r.body.frame()).await {
                Err(_) => return Err(Stall),
                Ok(None) => break,
                Ok(Some(Err(e))) => return Ok(Err(self.lost(&e))),
                Ok(Some(Ok(f))) => f,
            };
            let Ok(data) = frame.into_data() else {
                continue;
            };
            pending.extend_from_slice(&data);
            let mut start = 0;
            while let Some(nl) = pending[start..].iter().position(|&b| b == b'\n') {
                let line = &pending[start..start + nl];
                start += nl + 1;
                match &shape {
                    None => {
                        head.push(line.to_vec());
                        if head.len() == 2 {
                            let mut lines = head.iter().map(Vec::as_slice);
                            let (columns, cells) = match header(&mut lines) {
                                Ok(h) => h,
                                Err(e) => return Ok(Err(e)),
                            };
                            if let Err(e) = sink.columns(&columns) {
                                return Ok(Err(e));
                            }
                            shape = Some((columns, cells));
                            match sink.wanted().await {
                                Some(n) => want = n.max(1),
                                None => return Ok(Ok((0, false))),
                            }
                        }
                    }
                    Some(_) if line.is_empty() => {}
                    Some((_, cells)) => {
                        match row(line, cells) {
                            Ok(cells) => batch.push(cells),
                            Err(e) => return Ok(Err(self.server_error(&e))),
                        }
                        if batch.len() > want {
                            let ahead = batch.pop();
                            delivered += batch.len() as u64;
                            if let Err(e) = sink.rows(std::mem::take(&mut batch), true) {
                                return Ok(Err(e));
                            }
                            batch.extend(ahead);
                            match sink.wanted().await {
                                Some(n) => want = n.max(1),
                                None => return Ok(Ok((delivered, false))),
                            }
                        }
                    }
                }
            }
            pending.drain(..start);
        }
        if !pending.is_empty() {
            // Text after the last full line: the server's error, sent mid-stream.
            return Ok(Err(self.server_error(&String::from_utf8_lossy(&pending))));
        }
        self.keep(sender);
        if shape.is_some() {
            delivered += batch.len() as u64;
            if let Err(e) = sink.rows(batch, false) {
                return Ok(Err(e));
            }
        }
        Ok(Ok((delivered, true)))
    }

    async fn run_schema(&self) -> Result<SchemaInfo> {
        let db = quote(&self.spec.dbname);
        let only = |column: &str| match &self.spec.table {
            Some(t) => format!(" AND {column} = {}", quote(t)),
            None => String::new(),
        };
        // What system.tables says varies by version (18.16 has the keys but no comment):
        // ask which of the wanted columns this server has.
        let (_, present) = self
            .fetch(
                "SELECT name FROM system.columns WHERE database = 'system' AND table = 'tables'",
            )
            .await?;
        let present: Vec<String> = present
            .iter()
            .filter_map(|r| r.first().and_then(Value::to_text))
            .collect();
        let wanted: Vec<&str> = ABOUT_COLUMNS
            .iter()
            .copied()
            .filter(|c| present.iter().any(|p| p == c))
            .collect();
        let mut select = String::from("name, engine");
        for c in &wanted {
            select.push_str(", ");
            select.push_str(c);
        }
        // Two reads, not a join: system.columns lists each table's columns in their order,
        // which 18.16's hash joins do not keep (and it has no position column).
        let (_, listed) = self
            .fetch(&format!(
                "SELECT {select} FROM system.tables WHERE database = {db}{} ORDER BY name",
                only("name")
            ))
            .await?;
        let (_, columns) = self
            .fetch(&format!(
                "SELECT table, name, type, is_in_primary_key, comment FROM system.columns \
                 WHERE database = {db}{}",
                only("table")
            ))
            .await?;
        let text = |v: &Value| v.to_text().unwrap_or_default();
        let mut tables: Vec<TableInfo> = listed
            .iter()
            .filter_map(|r| {
                let [name, engine, rest @ ..] = r.as_slice() else {
                    return None;
                };
                let engine = text(engine);
                let said = |column: &str| {
                    wanted
                        .iter()
                        .position(|c| *c == column)
                        .and_then(|i| rest.get(i))
                        .map(text)
                        .filter(|t| !t.is_empty())
                };
                Some(TableInfo {
                    schema: self.spec.dbname.clone(),
                    name: text(name),
                    kind: if engine.ends_with("View") {
                        "view".into()
                    } else {
                        "table".into()
                    },
                    columns: Vec::new(),
                    about: TableAbout {
                        sorting_key: said("sorting_key"),
                        partition_key: said("partition_key"),
                        comment: said("comment"),
                        engine: Some(engine).filter(|e| !e.is_empty()),
                        rows: None,
                    },
                })
            })
            .collect();
        for r in &columns {
            let [table, name, type_name, primary, comment] = r.as_slice() else {
                continue;
            };
            let table = text(table);
            if let Some(t) = tables.iter_mut().find(|t| t.name == table) {
                let type_name = text(type_name);
                t.columns.push(ColumnInfo {
                    name: text(name),
                    not_null: !type_name.starts_with("Nullable("),
                    type_name,
                    primary_key: text(primary) == "1",
                    references: None,
                    comment: Some(text(comment)).filter(|c| !c.is_empty()),
                });
            }
        }
        match &self.spec.table {
            Some(table) => {
                let (columns, about) = tables
                    .pop()
                    .map(|t| (t.columns, t.about))
                    .unwrap_or_default();
                if columns.is_empty() {
                    return Err(Error::QueryFailed(format!(
                        "table `{table}` was not found in database `{}`, or user \"{}\" may not \
                         read it",
                        self.spec.dbname, self.spec.user
                    )));
                }
                Ok(SchemaInfo {
                    about,
                    columns,
                    tables: None,
                })
            }
            None => Ok(SchemaInfo {
                about: Default::default(),
                columns: Vec::new(),
                tables: Some(tables),
            }),
        }
    }

    async fn run_test(&self) -> Result<TestReport> {
        let (_, rows) = self
            .fetch("SELECT name, value FROM system.settings WHERE name = 'readonly'")
            .await
            .map_err(|e| match e {
                Error::QueryFailed(m) => self.unreachable(m),
                other => other,
            })?;
        let _ = rows;
        Ok(TestReport {
            warnings: Vec::new(),
            tunnel: self.tunnel.as_ref().map(TunnelTiming::of),
        })
    }
}

/// The columns of `system.tables` that describe a table, read where the server has them.
const ABOUT_COLUMNS: &[&str] = &["sorting_key", "partition_key", "comment"];

/// A string literal in ClickHouse's syntax.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

/// `k=v&…`, each value `%`-encoded.
fn url_form(pairs: &[(&str, &str)]) -> String {
    let mut out = String::new();
    for (k, v) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        out.push_str(k);
        out.push('=');
        for b in v.bytes() {
            if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// The names and types lines: the columns and how their cells read.
fn header<'a>(
    lines: &mut impl Iterator<Item = &'a [u8]>,
) -> Result<(Vec<Column>, Vec<decode::Cell>)> {
    let bad = || Error::QueryFailed("the server's answer has no column header".into());
    let names = lines.next().ok_or_else(bad)?;
    let types = lines.next().ok_or_else(bad)?;
    let text = |f: &[u8]| String::from_utf8_lossy(&decode::unescape(f)).into_owned();
    let names: Vec<String> = decode::fields(names).map(text).collect();
    let types: Vec<String> = decode::fields(types).map(text).collect();
    if names.len() != types.len() {
        return Err(bad());
    }
    let cells = types.iter().map(|t| decode::cell_of(t)).collect();
    let columns = names
        .into_iter()
        .zip(types)
        .map(|(name, type_name)| Column { name, type_name })
        .collect();
    Ok((columns, cells))
}

/// One data line; a line that is not one (the server's error after the rows began) is
/// given back as text.
fn row(line: &[u8], cells: &[decode::Cell]) -> std::result::Result<Vec<Value>, String> {
    let fields: Vec<&[u8]> = decode::fields(line).collect();
    if fields.len() != cells.len() {
        return Err(String::from_utf8_lossy(line).into_owned());
    }
    Ok(fields
        .into_iter()
        .zip(cells)
        .map(|(f, c)| decode::cell(f, *c))
        .collect())
}

async fn read_all(body: &mut Incoming) -> std::result::Result<Vec<u8>, hyper::Error> {
    let mut out = Vec::new();
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame?.into_data() {
            out.extend_from_slice(&data);
        }
    }
    Ok(out)
}

impl Connector for ClickHouseConnector {
    fn policy(&self) -> GuardPolicy {
        KIND.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        self.spec.table.as_ref().map(|t| TableName {
            schema: None,
            name: t.clone(),
        })
    }

    /// Opens the connection while the audit line is written, so the query does not wait.
    fn prepare(
        &self,
        _progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let (sender, _) = tokio::select! {
                r = self.sender() => r?,
                () = cancel.cancelled() => return Err(Error::Cancelled),
            };
            self.keep(sender);
            Ok(())
        })
    }

    fn query<'a>(
        &'a self,
        guarded: &'a Guarded,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<ResultSet>> {
        Box::pin(self.run_query(guarded, cancel))
    }

    fn stream<'a>(
        &'a self,
        guarded: &'a Guarded,
        sink: &'a mut dyn RowSink,
        _hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.run_stream(guarded, sink, cancel))
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
    fn settings_are_url_encoded() {
        assert_eq!(
            url_form(&[("database", "my db&x"), ("query_id", "a-1")]),
            "database=my%20db%26x&query_id=a-1"
        );
        assert_eq!(quote("it's\\"), "'it\\'s\\\\'");
    }

    #[test]
    fn rows_follow_the_header() {
        let mut lines = [&b"n\ts"[..], &b"UInt64\tNullable(String)"[..]].into_iter();
        let (columns, cells) = header(&mut lines).unwrap();
        assert_eq!(columns[1].type_name, "Nullable(String)");
        assert_eq!(
            row(b"18446744073709551615\t\\N", &cells).unwrap(),
            [Value::Number("18446744073709551615".into()), Value::Null]
        );
        let e = row(b"Code: 241, e.displayText() = DB::Exception: Memory limit", &cells);
        assert!(e.unwrap_err().starts_with("Code: 241"));
    }
}
