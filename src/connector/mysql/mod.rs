//! The MySQL / MariaDB connector, for both kind names.
//!
//! Safety does not rest on the SQL guard alone: every statement runs inside `START
//! TRANSACTION READ ONLY` that is always rolled back, with the server's own statement timeout
//! (`max_statement_time` on MariaDB, `MAX_EXECUTION_TIME` on MySQL) and a client-side ceiling;
//! the statement is first prepared, which the server refuses for more than one statement, and
//! only then run through the text protocol, which keeps every value as the server wrote it.
//! A cancelled query is stopped on the server with `KILL QUERY` from a second connection.

mod decode;
mod kind;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mysql_async::prelude::Queryable;
use mysql_async::{
    Conn, DriverError, IoError, Opts, OptsBuilder, Pool, PoolConstraints, PoolOpts, Row,
    SslOpts,
};
use secrecy::{ExposeSecret, SecretString};
use tokio_util::sync::CancellationToken;

use super::net::{self, shell_word};
use super::ssh::{Forward, Tunnel};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport, TunnelTiming};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::progress::ProgressFn;
use crate::core::schema::{ColumnInfo, SchemaInfo, TableInfo};
use crate::core::secret::StoredSecret;
use crate::core::source::SourceRecord;
use crate::core::value::{Column, ResultBudget, ResultSet};
use crate::core::{Error, Result};
pub use kind::{MARIADB, MYSQL, MySql, MySqlConnection, SslMode};

/// One person runs one query at a time; spare connections let the schema browser and a
/// cancel request proceed without waiting.
const POOL_SIZE: usize = 4;

/// MariaDB's error for `max_statement_time`, MySQL's for `MAX_EXECUTION_TIME`.
const ER_STATEMENT_TIMEOUT: u16 = 1969;
const ER_QUERY_TIMEOUT: u16 = 3024;
/// The statement kind cannot be prepared (some `SHOW` forms on older servers).
const ER_UNSUPPORTED_PS: u16 = 1295;
const ER_ACCESS_DENIED: u16 = 1045;

/// Session settings made before every statement, in the round trip that opens its
/// transaction. The time zone is pinned to the server's current UTC offset when it is a
/// named zone, so each TIMESTAMP is shown with the one offset it was converted to; quoting
/// is made the guard's (`"…"` a string, `\` an escape) whatever the server's sql_mode says,
/// so the server reads the statement as the guard did.
const SESSION_SETUP: &str = "\
SET SESSION time_zone = IF(@@session.time_zone LIKE '+%' OR @@session.time_zone LIKE '-%', \
    @@session.time_zone, \
    CONCAT(IF(UTC_TIMESTAMP() > NOW(), '-', '+'), \
           TIME_FORMAT(TIMEDIFF(GREATEST(NOW(), UTC_TIMESTAMP()), LEAST(NOW(), UTC_TIMESTAMP())), '%H:%i')));
SET SESSION sql_mode = TRIM(BOTH ',' FROM REPLACE(REPLACE(REPLACE(CONCAT(',', @@session.sql_mode, ','), \
    ',ANSI_QUOTES,', ','), ',NO_BACKSLASH_ESCAPES,', ','), ',,', ','))";

/// Which server answers: they name the statement timeout differently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flavor {
    MariaDb,
    MySql,
}

pub struct MySqlConnector {
    source_name: String,
    /// `MySQL` or `MariaDB`, as the source's kind names it, for messages.
    product: &'static str,
    spec: MySqlConnection,
    secret: StoredSecret,
    budget: ResultBudget,
    shared: tokio::sync::OnceCell<Pool>,
    /// A connection [`Connector::prepare`] made ready while the audit line was written.
    /// Its read-only transaction is already open when the session is there.
    warm: std::sync::Mutex<Option<(Conn, Option<Session>)>>,
    /// The SSH tunnel every connection goes through, when the source has `ssh`.
    tunnel: Option<Arc<Tunnel>>,
}

/// How a query's run ended.
enum Outcome<T> {
    Done(Result<T>),
    Cancelled,
    TimedOut,
}

/// What the first round trip of a statement learned.
struct Session {
    offset: String,
    connection_id: u32,
}

impl MySqlConnector {
    pub fn new(record: &SourceRecord, spec: MySqlConnection, secret: StoredSecret) -> Result<Self> {
        warm_driver();
        let product = match record.connection.kind().name() {
            "mariadb" => "MariaDB",
            _ => "MySQL",
        };
        let tunnel = spec.ssh.clone().map(|ssh| {
            let forward = Forward::Tcp {
                host: spec.host.clone(),
                port: spec.port,
            };
            let timeout = Duration::from_secs(spec.connect_timeout_s.max(1));
            Arc::new(Tunnel::new(ssh, forward, timeout))
        });
        Ok(MySqlConnector {
            tunnel,
            source_name: record.name.clone(),
            product,
            spec,
            secret,
            budget: ResultBudget::from_env()?,
            shared: tokio::sync::OnceCell::new(),
            warm: std::sync::Mutex::new(None),
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

    fn ssl_opts(&self, mode: SslMode) -> Option<SslOpts> {
        let opts = SslOpts::default();
        // Through a tunnel the socket is a loopback one; the certificate names the server.
        let opts = match &self.tunnel {
            Some(_) => opts.with_danger_tls_hostname_override(Some(self.spec.host.clone())),
            None => opts,
        };
        let opts = match &self.spec.ssl_ca {
            Some(ca) => opts
                .with_root_certs(vec![std::path::PathBuf::from(ca).into()])
                .with_disable_built_in_roots(true),
            None => opts,
        };
        match mode {
            SslMode::Disabled => None,
            // Encryption against listeners, not impersonation: what MySQL's client does.
            SslMode::Preferred | SslMode::Required => Some(
                opts.with_danger_accept_invalid_certs(true)
                    .with_danger_skip_domain_validation(true),
            ),
            SslMode::VerifyCa => Some(opts.with_danger_skip_domain_validation(true)),
            SslMode::VerifyIdentity => Some(opts),
        }
    }

    /// `local`: the tunnel's loopback end, when the source goes through one.
    fn opts(
        &self,
        password: Option<&SecretString>,
        ssl: Option<SslOpts>,
        local: Option<SocketAddr>,
    ) -> Opts {
        let pool = PoolOpts::default()
            .with_constraints(PoolConstraints::new(0, POOL_SIZE).unwrap_or_default())
            .with_inactive_connection_ttl(Duration::from_secs(60))
            .with_reset_connection(true);
        let (host, port) = match local {
            Some(a) => (a.ip().to_string(), a.port()),
            None => (self.spec.host.clone(), self.spec.port),
        };
        OptsBuilder::default()
            .ip_or_hostname(host)
            .tcp_port(port)
            .user(Some(self.spec.user.clone()))
            .pass(password.map(|p| p.expose_secret().to_string()))
            .db_name(Some(self.spec.dbname.clone()))
            .prefer_socket(false)
            .tcp_nodelay(true)
            .tcp_keepalive(Some(Duration::from_secs(60)))
            .stmt_cache_size(0)
            // Given, so a new connection need not ask the server for them; a packet past the
            // result budget is refused as it is read, before it is buffered.
            .max_allowed_packet(Some(
                usize::try_from(self.budget.bytes())
                    .unwrap_or(usize::MAX)
                    .clamp(1 << 20, 1 << 30),
            ))
            .wait_timeout(Some(28_800))
            .ssl_opts(ssl)
            .connect_attribute("program_name", "tdb")
            .pool_opts(pool)
            .into()
    }

    /// The pool, made on first use, so the password is read at connect time. With
    /// `preferred`, a server that offers no TLS is spoken to in plain text.
    async fn pool(&self) -> Result<&Pool> {
        self.shared
            .get_or_try_init(|| async {
                let password = net::password(
                    &self.secret,
                    self.spec.password_env.as_deref(),
                    &self.source_name,
                )?;
                if let Some(ca) = &self.spec.ssl_ca
                    && self.spec.ssl_mode != SslMode::Disabled
                    && let Err(e) = std::fs::metadata(ca)
                {
                    return Err(Error::Unreachable(format!(
                        "cannot read the CA certificates {ca} (ssl_ca): {e}"
                    )));
                }
                let local = match &self.tunnel {
                    Some(t) => Some(t.addr().await?),
                    None => None,
                };
                let pool = Pool::new(self.opts(
                    password.as_ref(),
                    self.ssl_opts(self.spec.ssl_mode),
                    local,
                ));
                if self.spec.ssl_mode != SslMode::Preferred {
                    return Ok(pool);
                }
                match self.connect(&pool).await {
                    Ok(conn) => {
                        self.keep_warm(conn, None);
                        Ok(pool)
                    }
                    Err(Attempt::NoTls) => {
                        Ok(Pool::new(self.opts(password.as_ref(), None, local)))
                    }
                    Err(Attempt::Failed(e)) => Err(e),
                }
            })
            .await
    }

    /// A new or pooled connection within the connect timeout.
    async fn connect(&self, pool: &Pool) -> std::result::Result<Conn, Attempt> {
        // A tunnel found dead is started again (on the port the pool knows) first.
        let mark = match &self.tunnel {
            Some(t) => {
                t.addr().await.map_err(Attempt::Failed)?;
                Some(t.mark())
            }
            None => None,
        };
        let mut r = tokio::time::timeout(self.connect_timeout(), pool.get_conn()).await;
        // The tunnel's loopback end refused: its ssh went away between our look and the
        // driver's connection. Start it again (same port, so the pool's address holds), once.
        if let (Some(t), Ok(Err(mysql_async::Error::Io(IoError::Io(e))))) = (&self.tunnel, &r)
            && e.kind() == std::io::ErrorKind::ConnectionRefused
        {
            tracing::debug!("the tunnel's port refused ({e}); starting the tunnel again");
            t.mark_dead().await;
            t.addr().await.map_err(Attempt::Failed)?;
            r = tokio::time::timeout(self.connect_timeout(), pool.get_conn()).await;
        }
        if let (Some(t), Some(mark), Ok(Err(e))) = (&self.tunnel, mark, &r)
            && !matches!(e, mysql_async::Error::Server(_))
            && let Some(why) = t.refusal(mark).await
        {
            return Err(Attempt::Failed(Error::Unreachable(why)));
        }
        match r {
            Ok(Ok(conn)) => Ok(conn),
            Ok(Err(mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer)))
                if self.spec.ssl_mode == SslMode::Preferred =>
            {
                Err(Attempt::NoTls)
            }
            Ok(Err(e)) => Err(Attempt::Failed(self.connect_error(&e))),
            Err(_) => Err(Attempt::Failed(Error::Unreachable(format!(
                "cannot reach {} at {}: no answer within {} s (connect_timeout_s)",
                self.product,
                self.target(),
                self.spec.connect_timeout_s
            )))),
        }
    }

    fn keep_warm(&self, conn: Conn, session: Option<Session>) {
        if let Ok(mut warm) = self.warm.lock() {
            *warm = Some((conn, session));
        }
    }

    /// The connection [`Self::keep_warm`] kept, else one from the pool.
    async fn checkout(&self) -> Result<(Pool, Conn, Option<Session>)> {
        let pool = self.pool().await?.clone();
        let warm = self.warm.lock().ok().and_then(|mut w| w.take());
        if let Some((conn, session)) = warm {
            return Ok((pool, conn, session));
        }
        match self.connect(&pool).await {
            Ok(conn) => Ok((pool, conn, None)),
            Err(Attempt::NoTls) => Err(Error::Unreachable(format!(
                "cannot connect to {} at {}: the server does not offer TLS",
                self.product,
                self.target()
            ))),
            Err(Attempt::Failed(e)) => Err(e),
        }
    }

    fn connect_error(&self, e: &mysql_async::Error) -> Error {
        let target = self.target();
        let user = &self.spec.user;
        let product = self.product;
        match e {
            mysql_async::Error::Server(s) if s.code == ER_ACCESS_DENIED => {
                Error::Unreachable(format!(
                    "cannot connect to {product} at {target} as user \"{user}\": {}; check the \
                     password (`tdb source set-password {}`, or password_env)",
                    s.message,
                    shell_word(&self.source_name)
                ))
            }
            mysql_async::Error::Server(s) => Error::Unreachable(format!(
                "cannot connect to {product} at {target} as user \"{user}\": {}",
                s.message
            )),
            mysql_async::Error::Driver(DriverError::NoClientSslFlagFromServer) => {
                Error::Unreachable(format!(
                    "cannot connect to {product} at {target}: the server does not offer TLS and \
                     ssl_mode is {}",
                    self.spec.ssl_mode.as_str()
                ))
            }
            mysql_async::Error::Io(IoError::Tls(t)) => Error::Unreachable(format!(
                "cannot connect to {product} at {target}: TLS failed ({t}); ssl_mode is {}",
                self.spec.ssl_mode.as_str()
            )),
            other if tls_cause(other).is_some() => Error::Unreachable(format!(
                "cannot connect to {product} at {target}: TLS failed ({}); ssl_mode is {}{}",
                tls_cause(other).unwrap_or_default(),
                self.spec.ssl_mode.as_str(),
                if self.spec.ssl_ca.is_some() {
                    " with the CA certificates in ssl_ca"
                } else {
                    ""
                }
            )),
            other => Error::Unreachable(format!(
                "cannot connect to {product} at {target}: {}",
                error_text(other)
            )),
        }
    }

    /// A failure after the connection was made: the server's own words when it sent some.
    fn query_error(&self, e: &mysql_async::Error) -> Error {
        match e {
            mysql_async::Error::Server(s)
                if s.code == ER_STATEMENT_TIMEOUT || s.code == ER_QUERY_TIMEOUT =>
            {
                Error::QueryFailed(format!(
                    "the query ran longer than statement_timeout_s ({} s) and the server \
                     stopped it",
                    self.spec.statement_timeout_s
                ))
            }
            mysql_async::Error::Server(s) => Error::QueryFailed(s.to_string()),
            other if error_text(other).contains("larger than max_allowed_packet") => {
                Error::QueryFailed(format!(
                    "a row exceeds the result budget of {}; select fewer or smaller columns \
                     (e.g. LEFT(col, 1000)), or raise {}",
                    self.budget,
                    ResultBudget::ENV
                ))
            }
            other if lost(other) => match self.tunnel.as_ref().and_then(|t| t.ended()) {
                Some(ended) => Error::QueryFailed(format!(
                    "lost the connection to the server at {} while the query ran: {ended}; \
                     the next query starts it again",
                    self.target()
                )),
                None => Error::QueryFailed(format!(
                    "lost the connection to the server at {} while the query ran ({}); the \
                     server may have stopped or restarted",
                    self.target(),
                    error_text(other)
                )),
            },
            other => Error::QueryFailed(format!("query failed: {}", error_text(other))),
        }
    }

    /// Opens the statement's read-only transaction with this source's settings, on a
    /// connection that answers: pooled connections a restarted server left dead are dropped
    /// and replaced, so the query after a crash works.
    async fn begin(&self) -> Result<(Pool, Conn, Session)> {
        let mut tries = 0;
        loop {
            let (pool, mut conn, session) = self.checkout().await?;
            if let Some(session) = session {
                return Ok((pool, conn, session));
            }
            match self.start(&mut conn).await {
                Ok(session) => return Ok((pool, conn, session)),
                Err(e) if lost(&e) && tries < POOL_SIZE => {
                    tries += 1;
                    tracing::debug!("dropping a dead pooled connection ({e})");
                    drop(conn);
                }
                Err(e) => return Err(self.query_error(&e)),
            }
        }
    }

    async fn start(&self, conn: &mut Conn) -> std::result::Result<Session, mysql_async::Error> {
        let flavor = if conn.server_version().0 >= 10 {
            Flavor::MariaDb
        } else {
            Flavor::MySql
        };
        let timeout = match flavor {
            Flavor::MariaDb => format!(
                "SET SESSION max_statement_time = {}",
                self.spec.statement_timeout_s
            ),
            Flavor::MySql => format!(
                "SET SESSION MAX_EXECUTION_TIME = {}",
                self.spec.statement_timeout_s.saturating_mul(1000)
            ),
        };
        let sql = format!(
            "{SESSION_SETUP};\n{timeout};\nSTART TRANSACTION READ ONLY;\n\
             SELECT @@session.time_zone, CONNECTION_ID()"
        );
        let mut result = conn.query_iter(sql).await?;
        let mut last: Vec<Row> = Vec::new();
        while !result.is_empty() {
            let rows: Vec<Row> = result.collect().await?;
            if !rows.is_empty() {
                last = rows;
            }
        }
        drop(result);
        let row = last.into_iter().next();
        let zone: Option<String> = row.as_ref().and_then(|r| r.get(0));
        let id: Option<u32> = row.as_ref().and_then(|r| r.get(1));
        Ok(Session {
            offset: decode::iso_offset(zone.as_deref().unwrap_or("")),
            connection_id: id.unwrap_or_else(|| conn.id()),
        })
    }

    /// Stops the statement running on connection `id`, from another connection.
    async fn kill_query(&self, pool: &Pool, id: u32) {
        let send = async {
            let mut conn = pool.get_conn().await?;
            conn.query_drop(format!("KILL QUERY {id}")).await
        };
        match tokio::time::timeout(self.connect_timeout(), send).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(target = %self.target(), "KILL QUERY failed: {e}"),
            Err(_) => tracing::warn!(target = %self.target(), "KILL QUERY timed out"),
        }
    }

    async fn run_query(&self, guarded: &Guarded, cancel: CancellationToken) -> Result<ResultSet> {
        let (pool, mut conn, session) = tokio::select! {
            r = self.begin() => r?,
            () = cancel.cancelled() => return Err(Error::Cancelled),
        };
        let outcome = {
            let work = self.execute(&mut conn, guarded, &session);
            tokio::select! {
                biased;
                () = cancel.cancelled() => Outcome::Cancelled,
                r = tokio::time::timeout(self.query_ceiling(), work) => match r {
                    Ok(r) => Outcome::Done(r),
                    Err(_) => Outcome::TimedOut,
                },
            }
        };
        match outcome {
            Outcome::Done(Ok((rs, stopped))) => {
                if stopped {
                    // Past the byte budget the server is still sending: stop it rather than
                    // read every row to reach the end.
                    self.kill_query(&pool, session.connection_id).await;
                }
                self.rollback(conn).await;
                Ok(rs)
            }
            Outcome::Done(Err(e)) => {
                self.rollback(conn).await;
                Err(e)
            }
            Outcome::Cancelled => {
                self.kill_query(&pool, session.connection_id).await;
                self.rollback(conn).await;
                Err(Error::Cancelled)
            }
            Outcome::TimedOut => {
                self.kill_query(&pool, session.connection_id).await;
                self.rollback(conn).await;
                Err(Error::QueryFailed(format!(
                    "no answer from the server at {} within {} s; the query was stopped",
                    self.target(),
                    self.query_ceiling().as_secs()
                )))
            }
        }
    }

    /// Ends the statement's transaction; a connection that cannot is not given back.
    async fn rollback(&self, mut conn: Conn) {
        let r = tokio::time::timeout(self.connect_timeout(), conn.query_drop("ROLLBACK")).await;
        if !matches!(r, Ok(Ok(()))) {
            tracing::debug!("rollback failed; the connection is closed");
            let _ = tokio::time::timeout(self.connect_timeout(), conn.disconnect()).await;
        }
    }

    /// Runs one guarded statement; the flag says it was stopped early (the byte budget).
    async fn execute(
        &self,
        conn: &mut Conn,
        guarded: &Guarded,
        session: &Session,
    ) -> Result<(ResultSet, bool)> {
        let err = |e: mysql_async::Error| self.query_error(&e);
        self.check_functions(conn, guarded).await?;
        let sql = guarded.executed_sql.as_str();
        // The server's parser says it is one statement (it refuses to prepare more) before
        // the text protocol, which would run several, is given it.
        match conn.prep(sql).await {
            Ok(stmt) => {
                let params = stmt.num_params();
                if params > 0 {
                    let _ = conn.close(stmt).await;
                    return Err(Error::QueryFailed(format!(
                        "the query has {params} parameter placeholder(s) (?) and tdb has no \
                         values to bind; write the values into the SQL"
                    )));
                }
                conn.close(stmt).await.map_err(err)?;
            }
            Err(mysql_async::Error::Server(s)) if s.code == ER_UNSUPPORTED_PS => {}
            Err(e) => return Err(err(e)),
        }
        let limit = guarded.limit;
        let mut result = conn.query_iter(sql).await.map_err(err)?;
        let cells: Vec<(decode::Cell, String)> =
            result.columns_ref().iter().map(decode::column).collect();
        let columns: Vec<Column> = result
            .columns_ref()
            .iter()
            .zip(&cells)
            .map(|(c, (_, label))| Column {
                name: c.name_str().into_owned(),
                type_name: label.clone(),
            })
            .collect();
        let mut rows = Vec::with_capacity(limit.min(1024));
        let mut held = 0u64;
        let mut truncated = false;
        let mut stopped = false;
        while let Some(row) = result.next().await.map_err(err)? {
            if rows.len() == limit {
                truncated = true;
                break;
            }
            let wire = row.unwrap();
            held += wire.iter().map(decode::wire_len).sum::<u64>();
            if held > self.budget.bytes() {
                truncated = true;
                stopped = true;
                break;
            }
            rows.push(
                wire.into_iter()
                    .zip(&cells)
                    .map(|(v, (cell, _))| decode::cell(v, *cell, &session.offset))
                    .collect(),
            );
        }
        drop(result);
        Ok((
            ResultSet {
                columns,
                rows,
                truncated,
            },
            stopped,
        ))
    }

    /// [`Connector::stream`]: the result is read from the socket as the sink asks for it;
    /// between batches the server waits to send more (up to `hold`: its net_write_timeout
    /// for the session is raised to it), in the statement's read-only transaction.
    async fn run_stream(
        &self,
        guarded: &Guarded,
        sink: &mut dyn RowSink,
        hold: Hold,
        cancel: CancellationToken,
    ) -> Result<u64> {
        let (pool, mut conn, session) = tokio::select! {
            r = self.begin() => r?,
            () = cancel.cancelled() => return Err(Error::Cancelled),
        };
        let outcome = {
            let work = self.stream_exec(&mut conn, guarded, &session, sink, hold);
            tokio::select! {
                biased;
                () = cancel.cancelled() => Outcome::Cancelled,
                r = work => r,
            }
        };
        match outcome {
            Outcome::Done(Ok((n, stopped))) => {
                if stopped {
                    self.kill_query(&pool, session.connection_id).await;
                }
                self.rollback(conn).await;
                Ok(n)
            }
            Outcome::Done(Err(e)) => {
                self.rollback(conn).await;
                Err(e)
            }
            Outcome::Cancelled => {
                self.kill_query(&pool, session.connection_id).await;
                self.rollback(conn).await;
                Err(Error::Cancelled)
            }
            Outcome::TimedOut => {
                self.kill_query(&pool, session.connection_id).await;
                self.rollback(conn).await;
                Err(Error::QueryFailed(format!(
                    "no answer from the server at {} within {} s; the query was stopped",
                    self.target(),
                    self.query_ceiling().as_secs()
                )))
            }
        }
    }

    /// Reads the statement's rows a batch at a time, one row ahead; the flag says the read
    /// stopped before the end (the sink wanted no more), so the server is still sending.
    async fn stream_exec(
        &self,
        conn: &mut Conn,
        guarded: &Guarded,
        session: &Session,
        sink: &mut dyn RowSink,
        hold: Hold,
    ) -> Outcome<(u64, bool)> {
        let err = |e: mysql_async::Error| self.query_error(&e);
        let setup = async {
            self.check_functions(conn, guarded).await?;
            let sql = guarded.executed_sql.as_str();
            match conn.prep(sql).await {
                Ok(stmt) => {
                    let params = stmt.num_params();
                    if params > 0 {
                        let _ = conn.close(stmt).await;
                        return Err(Error::QueryFailed(format!(
                            "the query has {params} parameter placeholder(s) (?) and tdb has \
                             no values to bind; write the values into the SQL"
                        )));
                    }
                    conn.close(stmt).await.map_err(err)?;
                }
                Err(mysql_async::Error::Server(s)) if s.code == ER_UNSUPPORTED_PS => {}
                Err(e) => return Err(err(e)),
            }
            let wait = hold.0.as_secs().saturating_add(self.spec.statement_timeout_s);
            conn.query_drop(format!("SET SESSION net_write_timeout = {wait}"))
                .await
                .map_err(err)?;
            Ok(())
        };
        if let Err(e) = setup.await {
            return Outcome::Done(Err(e));
        }
        let mut result = match conn.query_iter(guarded.executed_sql.as_str()).await {
            Ok(r) => r,
            Err(e) => return Outcome::Done(Err(err(e))),
        };
        let cells: Vec<(decode::Cell, String)> =
            result.columns_ref().iter().map(decode::column).collect();
        let columns: Vec<Column> = result
            .columns_ref()
            .iter()
            .zip(&cells)
            .map(|(c, (_, label))| Column {
                name: c.name_str().into_owned(),
                type_name: label.clone(),
            })
            .collect();
        if let Err(e) = sink.columns(&columns) {
            return Outcome::Done(Err(e));
        }
        let decode_row = |row: Row| -> Vec<crate::core::value::Value> {
            row.unwrap()
                .into_iter()
                .zip(&cells)
                .map(|(v, (cell, _))| decode::cell(v, *cell, &session.offset))
                .collect()
        };
        let mut ahead: Option<Vec<crate::core::value::Value>> = None;
        let mut delivered = 0u64;
        loop {
            let Some(want) = sink.wanted().await else {
                return Outcome::Done(Ok((delivered, true)));
            };
            let want = want.max(1);
            let mut batch = Vec::with_capacity(want.min(4096) + 1);
            batch.extend(ahead.take());
            let mut ended = false;
            while batch.len() <= want {
                match tokio::time::timeout(self.query_ceiling(), result.next()).await {
                    Err(_) => return Outcome::TimedOut,
                    Ok(Err(e)) => return Outcome::Done(Err(err(e))),
                    Ok(Ok(Some(row))) => batch.push(decode_row(row)),
                    Ok(Ok(None)) => {
                        ended = true;
                        break;
                    }
                }
            }
            let more = batch.len() > want;
            if more {
                ahead = batch.pop();
            }
            delivered += batch.len() as u64;
            if let Err(e) = sink.rows(batch, more) {
                return Outcome::Done(Err(e));
            }
            if ended || !more {
                return Outcome::Done(Ok((delivered, false)));
            }
        }
    }

    /// Stored and loadable functions run code the guard cannot see: refused unless
    /// `allow_functions` names them. Which names are such functions only the server knows.
    async fn check_functions(&self, conn: &mut Conn, guarded: &Guarded) -> Result<()> {
        let calls: Vec<&crate::core::guard::FunctionCall> = guarded.calls.functions.iter().collect();
        if calls.is_empty() {
            return Ok(());
        }
        let names: Vec<String> = calls.iter().map(|c| c.name.to_ascii_lowercase()).collect();
        let list = names
            .iter()
            .map(|n| format!("CONVERT(X'{}' USING utf8mb4)", hex::encode(n)))
            .collect::<Vec<_>>()
            .join(", ");
        let stored_sql = format!(
            "SELECT LOWER(ROUTINE_SCHEMA), LOWER(ROUTINE_NAME) FROM information_schema.ROUTINES \
             WHERE ROUTINE_TYPE = 'FUNCTION' AND LOWER(ROUTINE_NAME) IN ({list})"
        );
        let stored: Vec<(String, String)> =
            conn.query(stored_sql).await.map_err(|e| self.query_error(&e))?;
        // Loadable functions (UDFs) live in mysql.func, which only privileged users may read;
        // a user who cannot read it could not have installed one either.
        let loadable: Vec<String> = conn
            .query(format!("SELECT LOWER(name) FROM mysql.func WHERE LOWER(name) IN ({list})"))
            .await
            .unwrap_or_default();
        let db = self.spec.dbname.to_ascii_lowercase();
        let mut offenders = Vec::new();
        for call in &calls {
            let name = call.name.to_ascii_lowercase();
            let schema = call.schema.as_deref().map(str::to_ascii_lowercase);
            let is_loadable = schema.is_none() && loadable.contains(&name);
            let is_stored = stored.iter().any(|(s, n)| {
                *n == name && schema.as_deref().map_or(*s == db, |want| want == s)
            });
            // A qualified call can only be a stored function (built-ins take no schema).
            let qualified = schema.is_some();
            if !(is_loadable || is_stored || qualified) {
                continue;
            }
            let full = match &schema {
                Some(s) => format!("{s}.{name}"),
                None if is_stored => format!("{db}.{name}"),
                None => name.clone(),
            };
            if !self.allowed(&full, &name) {
                offenders.push(full);
            }
        }
        if offenders.is_empty() {
            return Ok(());
        }
        offenders.sort();
        offenders.dedup();
        Err(Error::rejected(format!(
            "the query calls {} — a stored or loadable function, which may do more than read; \
             name it in the source's allow_functions to let queries call it",
            offenders.join(", ")
        )))
    }

    fn allowed(&self, full: &str, name: &str) -> bool {
        self.spec.allow_functions.iter().any(|a| {
            let a = a.to_ascii_lowercase();
            match a.strip_suffix('*') {
                Some(prefix) => full.starts_with(prefix) || name.starts_with(prefix),
                None => a == full || a == name,
            }
        })
    }

    async fn run_schema(&self) -> Result<SchemaInfo> {
        let (_pool, mut conn, _) = self.begin().await?;
        let r = tokio::time::timeout(self.query_ceiling(), self.read_schema(&mut conn)).await;
        self.rollback(conn).await;
        match r {
            Ok(r) => r,
            Err(_) => Err(Error::QueryFailed(format!(
                "no answer from the server at {} within {} s",
                self.target(),
                self.query_ceiling().as_secs()
            ))),
        }
    }

    async fn read_schema(&self, conn: &mut Conn) -> Result<SchemaInfo> {
        let err = |e: mysql_async::Error| self.query_error(&e);
        let rows: Vec<Row> = match &self.spec.table {
            Some(table) => conn
                .exec(COLUMNS_SQL, (self.spec.dbname.as_str(), table.as_str()))
                .await
                .map_err(err)?,
            None => conn
                .exec(ALL_TABLES_SQL, (self.spec.dbname.as_str(),))
                .await
                .map_err(err)?,
        };
        let mut tables: Vec<TableInfo> = Vec::new();
        for r in &rows {
            let text = |i: usize| -> Option<String> { r.get::<Option<String>, _>(i).flatten() };
            let name = text(0).unwrap_or_default();
            if tables.last().is_none_or(|t| t.name != name) {
                tables.push(TableInfo {
                    about: Default::default(),
                    schema: self.spec.dbname.clone(),
                    name,
                    kind: match text(1).as_deref() {
                        Some("VIEW" | "SYSTEM VIEW") => "view".into(),
                        _ => "table".into(),
                    },
                    columns: Vec::new(),
                });
            }
            if let (Some(column), Some(t)) = (text(2), tables.last_mut()) {
                t.columns.push(ColumnInfo {
                    name: column,
                    type_name: text(3).unwrap_or_default(),
                    not_null: text(4).as_deref() == Some("NO"),
                    primary_key: text(5).as_deref() == Some("PRI"),
                    references: text(7),
                    comment: text(6).filter(|c| !c.is_empty()),
                });
            }
        }
        match &self.spec.table {
            Some(table) => {
                let columns = tables.pop().map(|t| t.columns).unwrap_or_default();
                if columns.is_empty() {
                    return Err(Error::QueryFailed(format!(
                        "table `{table}` was not found in database `{}`, or user \"{}\" may not \
                         read it",
                        self.spec.dbname, self.spec.user
                    )));
                }
                Ok(SchemaInfo {
                    about: Default::default(),
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
        let (_pool, mut conn, _) = self.begin().await?;
        let r = tokio::time::timeout(self.query_ceiling(), conn.query::<Row, _>(PRIVILEGES_SQL))
            .await;
        self.rollback(conn).await;
        let rows = match r {
            Ok(Ok(rows)) => rows,
            Ok(Err(e)) => return Err(self.query_error(&e)),
            Err(_) => {
                return Err(Error::Unreachable(format!(
                    "no answer from the server at {} to a privilege check",
                    self.target()
                )));
            }
        };
        let privileges: Vec<String> = rows
            .iter()
            .filter_map(|r| r.get::<Option<String>, _>(0).flatten())
            .collect();
        Ok(TestReport {
            warnings: privilege_warnings(&privileges, &self.spec.user),
            tunnel: self.tunnel.as_deref().map(TunnelTiming::of),
        })
    }
}

/// The driver compiles two regular expressions the first time it reads a server's greeting
/// (0.4–0.6 ms, 8% of a `tdb query`'s CPU): done once on a spare thread as the connector is
/// made, while the registry and the guard work, the handshake finds them ready.
fn warm_driver() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let spawned = std::thread::Builder::new()
            .name("tdb-mysql-warm".into())
            .spawn(|| {
                let greeting = mysql_common::packets::HandshakePacket::new(
                    10,
                    &b"5.5.5-10.11.0-MariaDB"[..],
                    0,
                    [0; 8],
                    None::<&[u8]>,
                    mysql_common::constants::CapabilityFlags::empty(),
                    0,
                    mysql_common::constants::StatusFlags::empty(),
                    None::<&[u8]>,
                );
                let _ = greeting.maria_db_server_version_parsed();
                let _ = greeting.server_version_parsed();
            });
        if let Err(e) = spawned {
            tracing::debug!("no thread to warm the driver on ({e})");
        }
    });
}

/// Why a connection attempt did not give a connection.
enum Attempt {
    /// `preferred` met a server without TLS.
    NoTls,
    Failed(Error),
}

/// Whether the connection itself is gone (the server stopped, the network dropped).
fn lost(e: &mysql_async::Error) -> bool {
    match e {
        mysql_async::Error::Io(_) => true,
        mysql_async::Error::Driver(DriverError::ConnectionClosed) => true,
        // "Server has gone away" / "Lost connection" / shutdown in progress.
        mysql_async::Error::Server(s) => matches!(s.code, 2006 | 2013 | 1053 | 1927),
        _ => false,
    }
}

/// What went wrong, in the words of the innermost cause (`Connection refused (os error
/// 111)`), which the driver's wrappers only repeat with prefixes.
fn error_text(e: &(dyn std::error::Error + 'static)) -> String {
    let mut last = e;
    while let Some(cause) = last.source() {
        last = cause;
    }
    last.to_string()
}

/// The TLS library's error somewhere in the chain (`invalid peer certificate: UnknownIssuer`).
fn tls_cause(e: &(dyn std::error::Error + 'static)) -> Option<String> {
    let mut cur = Some(e);
    while let Some(c) = cur {
        if let Some(r) = c.downcast_ref::<rustls::Error>() {
            return Some(r.to_string());
        }
        if let Some(r) = c
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            return Some(r.to_string());
        }
        cur = c.source();
    }
    None
}

/// The sentences `tdb source test` shows for what the user may do beyond reading.
fn privilege_warnings(privileges: &[String], user: &str) -> Vec<String> {
    let has = |p: &str| privileges.iter().any(|x| x.eq_ignore_ascii_case(p));
    let mut found = Vec::new();
    if has("SUPER") {
        found.push(format!("user \"{user}\" has the SUPER privilege"));
    }
    if has("FILE") {
        found.push(format!(
            "user \"{user}\" may read and write server files (FILE privilege)"
        ));
    }
    let writes: Vec<&str> = ["INSERT", "UPDATE", "DELETE", "DROP", "ALTER", "CREATE"]
        .into_iter()
        .filter(|p| has(p))
        .collect();
    if !writes.is_empty() {
        found.push(format!(
            "user \"{user}\" may change data ({} granted)",
            writes.join(", ")
        ));
    }
    if let Some(last) = found.last_mut() {
        last.push_str(
            "; tdb only reads, but a user that cannot write protects the data even from what \
             tdb cannot see (triggers, functions inside views): connect as a user with only \
             SELECT (and SHOW VIEW) grants",
        );
    }
    found
}

/// The current user's privileges, global and on the source's database.
const PRIVILEGES_SQL: &str = "\
SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES \
 WHERE GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
                        SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''') \
UNION \
SELECT PRIVILEGE_TYPE FROM information_schema.SCHEMA_PRIVILEGES \
 WHERE TABLE_SCHEMA = DATABASE() \
   AND GRANTEE = CONCAT('''', SUBSTRING_INDEX(CURRENT_USER(), '@', 1), '''@''', \
                        SUBSTRING_INDEX(CURRENT_USER(), '@', -1), '''')";

/// Each column with its table: name, table type, column, `COLUMN_TYPE` as the server
/// spells it, nullability, key, comment, and the column a foreign key points at.
macro_rules! columns_of {
    ($where:literal) => {
        concat!(
            "SELECT t.TABLE_NAME, t.TABLE_TYPE, c.COLUMN_NAME, c.COLUMN_TYPE, c.IS_NULLABLE, \
                    c.COLUMN_KEY, c.COLUMN_COMMENT,
                    (SELECT CONCAT(k.REFERENCED_TABLE_NAME, '(', k.REFERENCED_COLUMN_NAME, ')')
                       FROM information_schema.KEY_COLUMN_USAGE k
                      WHERE k.TABLE_SCHEMA = c.TABLE_SCHEMA AND k.TABLE_NAME = c.TABLE_NAME
                        AND k.COLUMN_NAME = c.COLUMN_NAME AND k.REFERENCED_TABLE_NAME IS NOT NULL
                      ORDER BY k.CONSTRAINT_NAME LIMIT 1)
               FROM information_schema.TABLES t
               LEFT JOIN information_schema.COLUMNS c
                      ON c.TABLE_SCHEMA = t.TABLE_SCHEMA AND c.TABLE_NAME = t.TABLE_NAME
              WHERE t.TABLE_SCHEMA = ? ",
            $where,
            " ORDER BY t.TABLE_NAME, c.ORDINAL_POSITION"
        )
    };
}

const COLUMNS_SQL: &str = columns_of!("AND t.TABLE_NAME = ?");
const ALL_TABLES_SQL: &str = columns_of!("");

impl Connector for MySqlConnector {
    fn policy(&self) -> GuardPolicy {
        kind::MYSQL.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        self.spec.table.as_ref().map(|t| TableName {
            schema: None,
            name: t.clone(),
        })
    }

    /// Connects and opens the read-only transaction (tdb's own statements, none of the
    /// user's) while the audit line is written, so the query does not wait for either.
    fn prepare(
        &self,
        _progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            let started = Instant::now();
            let (_, mut conn, session) = tokio::select! {
                r = self.checkout() => r?,
                () = cancel.cancelled() => return Err(Error::Cancelled),
            };
            let session = match session {
                Some(s) => Some(s),
                // A connection that fails here is dropped; the query gets another.
                None => match self.start(&mut conn).await {
                    Ok(s) => Some(s),
                    Err(e) => {
                        tracing::debug!("a warm connection failed its setup ({e})");
                        return Ok(());
                    }
                },
            };
            self.keep_warm(conn, session);
            tracing::debug!(elapsed = ?started.elapsed(), "connection ready");
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
        hold: Hold,
        cancel: CancellationToken,
    ) -> BoxFuture<'a, Result<u64>> {
        Box::pin(self.run_stream(guarded, sink, hold, cancel))
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
    fn privileges_worth_a_warning() {
        let p = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(privilege_warnings(&p(&["SELECT", "SHOW VIEW"]), "ro").is_empty());
        let w = privilege_warnings(&p(&["SELECT", "FILE", "INSERT", "DELETE"]), "app");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("FILE"), "{w:?}");
        assert!(w[1].contains("INSERT, DELETE") && w[1].contains("only SELECT"), "{w:?}");
    }

    #[test]
    fn lost_connections_are_told_from_query_errors() {
        let server = |code| {
            mysql_async::Error::Server(mysql_async::ServerError {
                code,
                message: String::new(),
                state: String::new(),
            })
        };
        assert!(lost(&server(2013)));
        assert!(!lost(&server(1146)));
        assert!(lost(&mysql_async::Error::Driver(
            DriverError::ConnectionClosed
        )));
    }
}
