//! The PostgreSQL connector.
//!
//! Safety does not rest on the SQL guard alone: every statement runs in a `READ ONLY`
//! transaction that is always rolled back, through the extended protocol (one statement, no
//! `;`-chained extras), with server-side timeouts, and only `limit + 1` rows are ever fetched
//! from a portal, however many the query would produce.

mod decode;
mod kind;
mod pgpass;
mod policy;
mod tls;
mod wire;

use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use deadpool_postgres::{
    Connect, Manager, ManagerConfig, Object, Pool, PoolError, RecyclingMethod, Runtime,
};
use futures_util::TryStreamExt;
use secrecy::{ExposeSecret, SecretString};
use tokio::task::JoinHandle;
use tokio_postgres::config::Host;
use tokio_postgres::error::{DbError, ErrorPosition, Severity, SqlState};
use tokio_postgres::tls::MakeTlsConnect;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::{CancelToken, Client, IsolationLevel, Row, Transaction};
use tokio_postgres_rustls::MakeRustlsConnect;
use tokio_util::sync::CancellationToken;

use self::decode::Raw;
use self::wire::{Guarded as GuardedStream, GuardedTls, Policy, Socket, WireError};
use super::net::shell_word;
use super::ssh::{Forward, Tunnel};
use super::{BoxFuture, Connector, Hold, RowSink, TestReport, TunnelTiming};
use crate::core::guard::{Guarded, TableName};
use crate::core::kind::{GuardPolicy, KindRules};
use crate::core::progress::ProgressFn;
use crate::core::schema::{ColumnInfo, SchemaInfo, TableInfo};
use crate::core::secret::StoredSecret;
use crate::core::source::SourceRecord;
use crate::core::splice::{LineColumn, PositionMap};
pub use kind::{KIND, PgConnection, Postgres, SslMode};
use crate::core::value::{Column, ResultBudget, ResultSet, Value};
use crate::core::{Error, Result};

/// One person runs one query at a time; a few spare connections let the schema browser and a
/// cancelled query's replacement proceed without waiting.
const POOL_SIZE: usize = 4;

/// Shows in `pg_stat_activity`, so a DBA can tell tdb's sessions apart.
const APPLICATION_NAME: &str = "tdb";

/// Timeouts are bound parameters (`set_config`), not text spliced into `SET`.
/// `standard_conforming_strings` is forced on because the guard parses `'a\'` the standard
/// way; a server with it off would read the rest of such a literal as code.
const SET_TIMEOUTS: &str = "SELECT pg_catalog.set_config('statement_timeout', $1, true), \
     pg_catalog.set_config('lock_timeout', $1, true), \
     pg_catalog.set_config('idle_in_transaction_session_timeout', $1, true), \
     pg_catalog.set_config('standard_conforming_strings', 'on', true)";

/// How long a streamed statement's transaction may stay idle between two batches, bound.
const SET_IDLE: &str =
    "SELECT pg_catalog.set_config('idle_in_transaction_session_timeout', $1, true)";

/// A column's spelling as psql's `\d` shows it (`format_type` with the modifier, a domain by
/// its name) and its keys and comment; only columns the user may read.
macro_rules! column_fields {
    () => {
        "a.attname::text,
       pg_catalog.format_type(a.atttypid, a.atttypmod),
       a.attnotnull,
       EXISTS (SELECT 1 FROM pg_catalog.pg_constraint k
               WHERE k.conrelid = c.oid AND k.contype = 'p' AND a.attnum = ANY (k.conkey)),
       (SELECT pg_catalog.format('%I.%I(%I)', fn.nspname, fc.relname, fa.attname)
          FROM pg_catalog.pg_constraint k
          JOIN pg_catalog.pg_class fc ON fc.oid = k.confrelid
          JOIN pg_catalog.pg_namespace fn ON fn.oid = fc.relnamespace
          JOIN pg_catalog.pg_attribute fa
            ON fa.attrelid = k.confrelid
           AND fa.attnum = k.confkey[pg_catalog.array_position(k.conkey, a.attnum)]
         WHERE k.conrelid = c.oid AND k.contype = 'f' AND a.attnum = ANY (k.conkey)
         ORDER BY k.conname LIMIT 1),
       pg_catalog.col_description(c.oid, a.attnum)"
    };
}

const TABLE_COLUMNS_SQL: &str = concat!(
    "SELECT ",
    column_fields!(),
    "
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
JOIN pg_catalog.pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE n.nspname = $1 AND c.relname = $2
  AND pg_catalog.has_column_privilege(c.oid, a.attnum, 'SELECT')
ORDER BY a.attnum"
);

/// pg_catalog rather than information_schema so materialized views show too; only relations
/// the user may read, and not the partitions behind a partitioned table. A relation without
/// readable columns still shows (its column fields are NULL).
const ALL_TABLES_SQL: &str = concat!(
    "SELECT n.nspname::text, c.relname::text, c.relkind::text, ",
    column_fields!(),
    "
FROM pg_catalog.pg_class c
JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_catalog.pg_attribute a
       ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
WHERE c.relkind IN ('r', 'p', 'v', 'm', 'f')
  AND NOT c.relispartition
  AND n.nspname <> 'information_schema'
  AND n.nspname NOT LIKE 'pg\\_%'
  AND pg_catalog.has_schema_privilege(n.oid, 'USAGE')
  AND (pg_catalog.has_table_privilege(c.oid, 'SELECT')
       OR pg_catalog.has_any_column_privilege(c.oid, 'SELECT'))
ORDER BY n.nspname, c.relname, a.attnum"
);

pub struct PgConnector {
    source_name: String,
    spec: PgConnection,
    secret: StoredSecret,
    budget: ResultBudget,
    /// Built on first use, so the password (`password_env`, `~/.pgpass`) is read at connect
    /// time and a source that is never queried costs nothing.
    shared: tokio::sync::OnceCell<Shared>,
    /// A connection [`Connector::prepare`] checked out and readied (its settings statement
    /// prepared) while the audit line was written, for the query that follows it.
    warm: std::sync::Mutex<Option<Object>>,
    /// The SSH tunnel every connection goes through, when the source has `ssh`.
    tunnel: Option<Arc<Tunnel>>,
}

struct Shared {
    pool: Pool,
    /// Cancel requests open their own connection and need the same address and TLS settings.
    tls: MakeRustlsConnect,
    config: tokio_postgres::Config,
    policy: Arc<Policy>,
    tunnel: Option<Arc<Tunnel>>,
}

/// How a query's run ended, decided before the connection is given back or dropped; the
/// flag says the connection ended clean (rolled back).
enum Outcome<T> {
    Done(Result<(T, bool)>),
    Cancelled,
    TimedOut,
}

/// A statement prepared in its transaction, ready to bind.
struct Opened {
    exec: tokio_postgres::Statement,
    types: Vec<Type>,
    as_text: Vec<bool>,
    wrapped: Wrapped,
    columns: Vec<Column>,
}

impl PgConnector {
    pub fn new(record: &SourceRecord, spec: PgConnection, secret: StoredSecret) -> Result<Self> {
        let tunnel = spec.ssh.clone().map(|ssh| {
            let forward = if spec.host.starts_with('/') {
                Forward::Socket(Path::new(&spec.host).join(format!(".s.PGSQL.{}", spec.port)))
            } else {
                Forward::Tcp {
                    host: spec.host.clone(),
                    port: spec.port,
                }
            };
            let timeout = Duration::from_secs(spec.connect_timeout_s.max(1));
            Arc::new(Tunnel::new(ssh, forward, timeout))
        });
        Ok(PgConnector {
            tunnel,
            source_name: record.name.clone(),
            spec,
            secret,
            budget: ResultBudget::from_env()?,
            shared: tokio::sync::OnceCell::new(),
            warm: std::sync::Mutex::new(None),
        })
    }

    /// The same connector with another result budget than the process's.
    pub fn with_result_budget(mut self, budget: ResultBudget) -> Self {
        self.budget = budget;
        self
    }

    /// `host:port` for messages (never anything secret).
    fn target(&self) -> String {
        super::net::target(&self.spec.host, self.spec.port)
    }

    fn connect_timeout(&self) -> Duration {
        Duration::from_secs(self.spec.connect_timeout_s.max(1))
    }

    /// A client-side ceiling for a whole query, for when the network, not the server, stalls:
    /// the server's own statement_timeout normally fires long before.
    fn query_ceiling(&self) -> Duration {
        Duration::from_secs(
            self.spec
                .statement_timeout_s
                .saturating_mul(2)
                .saturating_add(self.spec.connect_timeout_s)
                .saturating_add(5),
        )
    }

    /// The stored secret, else `password_env`, else `~/.pgpass`, else none.
    fn password(&self) -> Result<Option<SecretString>> {
        if let Some(p) = super::net::password(
            &self.secret,
            self.spec.password_env.as_deref(),
            &self.source_name,
        )? {
            return Ok(Some(p));
        }
        Ok(pgpass::default_path().and_then(|path| {
            pgpass::lookup(
                &path,
                &self.spec.host,
                self.spec.port,
                &self.spec.dbname,
                &self.spec.user,
            )
        }))
    }

    fn pg_config(&self, password: Option<&SecretString>) -> tokio_postgres::Config {
        let mut c = tokio_postgres::Config::new();
        c.host(&self.spec.host)
            .port(self.spec.port)
            .dbname(&self.spec.dbname)
            .user(&self.spec.user)
            .application_name(APPLICATION_NAME)
            .connect_timeout(self.connect_timeout())
            .keepalives_idle(Duration::from_secs(60));
        let mode = match self.spec.sslmode {
            // libpq ignores sslmode on Unix sockets; there is no wire to protect.
            _ if self.spec.host.starts_with('/') => tokio_postgres::config::SslMode::Disable,
            SslMode::Disable => tokio_postgres::config::SslMode::Disable,
            SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
            SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
                tokio_postgres::config::SslMode::Require
            }
        };
        c.ssl_mode(mode);
        if let Some(p) = password {
            c.password(p.expose_secret());
        }
        c
    }

    async fn shared(&self) -> Result<&Shared> {
        self.shared
            .get_or_try_init(|| async {
                let password = self.password()?;
                let tls = tls::make_connector(self.spec.sslmode).map_err(|e| {
                    Error::Unreachable(format!("cannot connect to {}: {e}", self.target()))
                })?;
                // libpq's require_auth spirit: cleartext only where the source asked for no
                // TLS at all, or on a Unix socket, which has no wire to listen on.
                let policy = Arc::new(Policy::new(
                    self.budget,
                    self.spec.sslmode == SslMode::Disable || self.spec.host.starts_with('/'),
                    self.target(),
                ));
                let connect = PgConnect {
                    tls: tls.clone(),
                    retry_without_tls: self.spec.sslmode == SslMode::Prefer,
                    policy: Arc::clone(&policy),
                    tunnel: self.tunnel.clone(),
                };
                let config = self.pg_config(password.as_ref());
                let manager = Manager::from_connect(
                    config.clone(),
                    connect,
                    ManagerConfig {
                        // One round trip that both proves the connection alive (a restarted
                        // server leaves dead ones in the pool) and undoes session state a
                        // query could leave behind (advisory locks, LISTEN, SET ROLE).
                        recycling_method: RecyclingMethod::Clean,
                    },
                );
                let pool = Pool::builder(manager)
                    .max_size(POOL_SIZE)
                    .runtime(Runtime::Tokio1)
                    .create_timeout(Some(self.connect_timeout()))
                    .recycle_timeout(Some(self.connect_timeout()))
                    .build()
                    .map_err(|e| Error::internal("cannot set up the connection pool", e))?;
                Ok(Shared {
                    pool,
                    tls,
                    config,
                    policy,
                    tunnel: self.tunnel.clone(),
                })
            })
            .await
    }

    /// A connection: the one [`Self::warm_up`] readied, else one from the pool.
    async fn checkout(&self) -> Result<(&Shared, Object)> {
        let shared = self.shared().await?;
        if let Some(obj) = self.take_warm() {
            return Ok((shared, obj));
        }
        // The tunnel first, so its own errors and timeout are the ones reported.
        if let Some(t) = &self.tunnel {
            t.addr().await?;
        }
        let obj = shared.pool.get().await.map_err(|e| self.connect_error(e))?;
        Ok((shared, obj))
    }

    fn connect_error(&self, e: PoolError) -> Error {
        let target = self.target();
        let user = &self.spec.user;
        match e {
            PoolError::Timeout(_) => Error::Unreachable(format!(
                "cannot reach PostgreSQL at {target}: no answer within {} s (connect_timeout_s)",
                self.spec.connect_timeout_s
            )),
            PoolError::Backend(e) => {
                if let Some(w) = wire::find(&e) {
                    return Error::Unreachable(w.to_string());
                }
                let mut cause = pg_error_text(&e);
                let hint = match e.code() {
                    Some(c) if *c == SqlState::INVALID_PASSWORD => format!(
                        "; check the password (`tdb source set-password {}`)",
                        shell_word(&self.source_name)
                    ),
                    _ if cause.contains("password missing") => {
                        cause = "the server asks for a password and none is configured".into();
                        format!(
                            ": store one with `tdb source set-password {}`, name a variable \
                             with password_env, or add it to ~/.pgpass (mode 0600)",
                            shell_word(&self.source_name)
                        )
                    }
                    _ => String::new(),
                };
                Error::Unreachable(format!(
                    "cannot connect to PostgreSQL at {target} as user \"{user}\": {cause}{hint}"
                ))
            }
            other => {
                Error::Unreachable(format!("cannot connect to PostgreSQL at {target}: {other}"))
            }
        }
    }

    /// A failure after the connection was made: the server's own words when it sent some.
    fn query_error(&self, e: &tokio_postgres::Error) -> Error {
        self.query_error_in(e, None)
    }

    /// [`Self::query_error`] for the user's statement: `positions` takes the server's error
    /// position in the executed SQL back to the text the user wrote.
    fn query_error_in(&self, e: &tokio_postgres::Error, positions: Option<&PositionMap>) -> Error {
        let wire_failure = || self.shared.get().and_then(|s| s.policy.take_failure());
        if e.is_closed()
            && let Some(w) = wire_failure()
        {
            return Error::QueryFailed(w.to_string());
        }
        if let Some(db) = e.as_db_error() {
            let text = db_error_text(db, positions);
            let at = written_position(db, positions);
            let fatal = matches!(
                db.parsed_severity(),
                Some(Severity::Fatal | Severity::Panic)
            );
            if fatal
                || *db.code() == SqlState::ADMIN_SHUTDOWN
                || *db.code() == SqlState::CRASH_SHUTDOWN
            {
                return Error::QueryFailed(format!(
                    "the server at {} ended the connection while the query ran: {text}",
                    self.target()
                ));
            }
            return match at {
                Some(at) => Error::QueryFailedAt { detail: text, at },
                None => Error::QueryFailed(text),
            };
        }
        let cause = pg_error_text(e);
        if e.is_closed() || cause.starts_with("error communicating with the server") {
            if let Some(ended) = self.tunnel.as_ref().and_then(|t| t.ended()) {
                return Error::QueryFailed(format!(
                    "lost the connection to the server at {} while the query ran: {ended}; \
                     the next query starts it again",
                    self.target()
                ));
            }
            return Error::QueryFailed(format!(
                "lost the connection to the server at {} while the query ran ({cause}); the \
                 server may have stopped or restarted",
                self.target()
            ));
        }
        Error::QueryFailed(format!("query failed: {cause}"))
    }

    async fn cancel_on_server(&self, token: &CancelToken, shared: &Shared) {
        // Clients made by `connect_raw` know no address, so the socket is ours to open.
        let send = async {
            let socket = match &shared.tunnel {
                Some(t) => Socket::Tcp(t.connect().await.map_err(|e| e.detail().to_string())?.0),
                None => wire::open(&shared.config)
                    .await
                    .map_err(|e| e.to_string())?,
            };
            let tls = MakeTlsConnect::<Socket>::make_tls_connect(
                &mut shared.tls.clone(),
                &tls_host(&shared.config),
            )
            .unwrap_or_else(|never| match never {});
            token
                .cancel_query_raw(socket, tls)
                .await
                .map_err(|e| pg_error_text(&e))
        };
        match tokio::time::timeout(self.connect_timeout(), send).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(target = %self.target(), "cancel request failed: {e}"),
            Err(_) => tracing::warn!(target = %self.target(), "cancel request timed out"),
        }
    }

    /// Connects (or takes a pooled connection) and prepares the settings statement, without
    /// sending anything of the user's: what may happen before the `query_started` line is
    /// on disk.
    async fn warm_up(&self, cancel: CancellationToken) -> Result<()> {
        let (_, obj) = tokio::select! {
            r = self.checkout() => r?,
            () = cancel.cancelled() => return Err(Error::Cancelled),
        };
        obj.prepare_typed_cached(policy::SET_TIMEOUTS_AND_PROBE, &policy::PARAM_TYPES)
            .await
            .map_err(|e| self.query_error(&e))?;
        if let Ok(mut warm) = self.warm.lock() {
            // A connection readied for a query that never came goes back to the pool.
            *warm = Some(obj);
        }
        Ok(())
    }

    /// The connection [`Self::warm_up`] readied, unless the server has closed it since.
    fn take_warm(&self) -> Option<Object> {
        let obj = self.warm.lock().ok()?.take()?;
        (!obj.is_closed()).then_some(obj)
    }

    async fn run_query(&self, guarded: &Guarded, cancel: CancellationToken) -> Result<ResultSet> {
        let (shared, mut obj) = tokio::select! {
            r = self.checkout() => r?,
            () = cancel.cancelled() => return Err(Error::Cancelled),
        };
        let token = obj.cancel_token();
        let timeout_ms = self.timeout_ms();
        let check =
            policy::CheckParams::new(timeout_ms, &guarded.calls, &self.spec.allow_functions);
        let outcome = {
            let work = async {
                // A round trip the first time per connection, then the cached statement.
                let check_stmt = obj
                    .prepare_typed_cached(policy::SET_TIMEOUTS_AND_PROBE, &policy::PARAM_TYPES)
                    .await
                    .map_err(|e| self.query_error(&e))?;
                let client: &mut Client = &mut obj;
                self.execute(
                    client,
                    &guarded.executed_sql,
                    guarded.limit,
                    &check_stmt,
                    &check,
                    &guarded.positions,
                )
                .await
            };
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
            Outcome::Done(Ok((rs, clean))) => {
                if !clean {
                    drop(Object::take(obj));
                }
                Ok(rs)
            }
            // A policy refusal rolled back cleanly before anything ran.
            Outcome::Done(Err(e @ Error::Rejected(_))) => Err(e),
            Outcome::Done(Err(e)) => {
                drop(Object::take(obj));
                Err(e)
            }
            Outcome::Cancelled => {
                self.cancel_on_server(&token, shared).await;
                drop(Object::take(obj));
                Err(Error::Cancelled)
            }
            Outcome::TimedOut => {
                self.cancel_on_server(&token, shared).await;
                drop(Object::take(obj));
                Err(Error::QueryFailed(format!(
                    "no answer from the server at {} within {} s; the query was cancelled",
                    self.target(),
                    self.query_ceiling().as_secs()
                )))
            }
        }
    }

    fn timeout_ms(&self) -> String {
        self.spec
            .statement_timeout_s
            .saturating_mul(1000)
            .to_string()
    }

    /// Begins the statement's read-only transaction with the source's settings, checks what
    /// it calls against the policy, and prepares it (through the text wrapper its column
    /// types need): all but binding and fetching.
    async fn open_statement<'c>(
        &self,
        client: &'c mut Client,
        sql: &str,
        check_stmt: &tokio_postgres::Statement,
        check: &policy::CheckParams,
        positions: &PositionMap,
    ) -> Result<(Transaction<'c>, Opened)> {
        let err = |e: tokio_postgres::Error| self.query_error(&e);
        let mut tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(err)?;
        // One round trip for both: requests are sent in the order first polled, and the server
        // handles them in order, so the settings (standard_conforming_strings among them) are
        // in force before the user's SQL is parsed. The same statement resolves what the SQL
        // calls; nothing is bound or executed until it has said every call is allowed (a
        // Parse runs no function).
        let params = check.as_params();
        let (set, stmt) = tokio::join!(tx.query(check_stmt, &params), tx.prepare(sql));
        let settings = set.map_err(err)?;
        let first = settings.first();
        let worth_a_look: bool = first
            .map(|row| row.try_get(5))
            .transpose()
            .map_err(err)?
            .unwrap_or(true);
        let time_zone: Option<String> = first.map(|row| row.try_get(6)).transpose().map_err(err)?;
        let offenders: Vec<String> = if worth_a_look {
            let typed: Vec<(&(dyn ToSql + Sync), Type)> = params
                .iter()
                .copied()
                .zip(policy::PARAM_TYPES.iter().cloned())
                .collect();
            tx.query_typed(policy::CHECK, &typed)
                .await
                .map_err(err)?
                .first()
                .map(|row| row.try_get(0))
                .transpose()
                .map_err(err)?
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        if !offenders.is_empty() {
            let clean = tx.rollback().await.is_ok();
            if !clean {
                tracing::debug!("rollback after a policy refusal failed");
            }
            return Err(policy::refusal(&offenders));
        }
        let stmt = stmt.map_err(|e| self.query_error_in(&e, Some(positions)))?;
        if !stmt.params().is_empty() {
            return Err(Error::QueryFailed(format!(
                "the query has {} parameter placeholder(s) ($1, …) and tdb has no values to \
                 bind; write the values into the SQL",
                stmt.params().len()
            )));
        }
        let types: Vec<Type> = stmt.columns().iter().map(|c| c.type_().clone()).collect();
        let columns: Vec<Column> = stmt
            .columns()
            .iter()
            .map(|c| Column {
                name: c.name().to_string(),
                type_name: decode::type_label(c.type_()),
            })
            .collect();
        // A timestamptz's binary form is UTC; outside UTC its text in the session's zone is
        // what psql shows, so the server writes it.
        let zoned = !time_zone.as_deref().is_some_and(decode::is_utc);
        let as_text: Vec<bool> = types
            .iter()
            .map(|t| !decode::binary_supported(t) || (zoned && decode::has_timestamptz(t)))
            .collect();

        // Columns whose binary format we do not decode are fetched through a wrapper that
        // casts them to text on the server: as one-element arrays first (an array's text is
        // always the type's output function), then with a plain cast for types that have no
        // array type (pg_node_tree, anyarray). A savepoint keeps the transaction usable should
        // a wrapper not parse; with neither, the statement is used as is.
        let mut exec = None;
        if as_text.contains(&true) {
            for cast in [Wrapped::ArrayText, Wrapped::PlainText] {
                let wrapped_sql = text_wrapper(sql, &types, &as_text, cast);
                let sp = tx.savepoint("tdb_text_cast").await.map_err(err)?;
                match sp.prepare(&wrapped_sql).await {
                    Ok(w) => {
                        sp.commit().await.map_err(err)?;
                        exec = Some((w, cast));
                        break;
                    }
                    Err(e) => {
                        tracing::debug!("text cast wrapper refused ({e})");
                        sp.rollback().await.map_err(err)?;
                    }
                }
            }
        }
        let (exec, wrapped) = exec.unwrap_or((stmt, Wrapped::Raw));
        Ok((
            tx,
            Opened {
                exec,
                types,
                as_text,
                wrapped,
                columns,
            },
        ))
    }

    /// Runs one guarded statement; the flag says the connection ended clean (rolled back).
    async fn execute(
        &self,
        client: &mut Client,
        sql: &str,
        limit: usize,
        check_stmt: &tokio_postgres::Statement,
        check: &policy::CheckParams,
        positions: &PositionMap,
    ) -> Result<(ResultSet, bool)> {
        let err = |e: tokio_postgres::Error| self.query_error(&e);
        let (tx, Opened { exec, types, as_text, wrapped, columns }) =
            self.open_statement(client, sql, check_stmt, check, positions).await?;
        let portal = tx.bind(&exec, &[]).await.map_err(err)?;
        let max_rows = i32::try_from(limit.saturating_add(1)).unwrap_or(i32::MAX);
        // Row by row, so the rows held stay within the byte budget; the first row that would
        // pass it ends the fetch as a row past the limit does (`truncated`: more rows exist).
        let (rows, over_budget) = {
            let mut stream =
                std::pin::pin!(tx.query_portal_raw(&portal, max_rows).await.map_err(err)?);
            let mut rows = Vec::new();
            let mut held = 0u64;
            let mut over_budget = false;
            while let Some(row) = stream.try_next().await.map_err(err)? {
                held += row_bytes(&row);
                if held > self.budget.bytes() {
                    over_budget = true;
                    break;
                }
                rows.push(row);
            }
            (rows, over_budget)
        };
        let truncated = over_budget || rows.len() > limit;
        drop(portal);
        // The rows are all here: the ROLLBACK goes out first and its round trip overlaps the
        // decoding (the yield lets the connection task write it before the CPU work starts).
        let decode = async {
            tokio::task::yield_now().await;
            let mut out = Vec::with_capacity(rows.len().min(limit));
            for row in rows.iter().take(limit) {
                out.push(decode_row(row, &types, &as_text, wrapped)?);
            }
            Ok::<_, Error>(out)
        };
        // Past the budget the server is still sending rows: the connection is dropped rather
        // than drained (the ROLLBACK would wait behind every one of them).
        let (clean, out) = if over_budget {
            (false, decode.await)
        } else {
            let (rolled_back, out) = tokio::join!(tx.rollback(), decode);
            (rolled_back.is_ok(), out)
        };
        let out = out?;
        Ok((
            ResultSet {
                columns,
                rows: out,
                truncated,
            },
            clean,
        ))
    }

    /// [`Connector::stream`]: the statement's portal is held in its read-only transaction
    /// between batches. The server ends the transaction if it is left idle longer than
    /// `hold` and the statement timeout together; each batch has the query's time limits.
    async fn run_stream(
        &self,
        guarded: &Guarded,
        sink: &mut dyn RowSink,
        hold: Hold,
        cancel: CancellationToken,
    ) -> Result<u64> {
        let (shared, mut obj) = tokio::select! {
            r = self.checkout() => r?,
            () = cancel.cancelled() => return Err(Error::Cancelled),
        };
        let token = obj.cancel_token();
        let timeout_ms = self.timeout_ms();
        let check =
            policy::CheckParams::new(timeout_ms, &guarded.calls, &self.spec.allow_functions);
        let outcome = {
            let work = async {
                let check_stmt = match obj
                    .prepare_typed_cached(policy::SET_TIMEOUTS_AND_PROBE, &policy::PARAM_TYPES)
                    .await
                {
                    Ok(s) => s,
                    Err(e) => return Outcome::Done(Err(self.query_error(&e))),
                };
                let client: &mut Client = &mut obj;
                self.stream_rows(client, guarded, &check_stmt, &check, sink, hold)
                    .await
            };
            tokio::select! {
                biased;
                () = cancel.cancelled() => Outcome::Cancelled,
                outcome = work => outcome,
            }
        };
        match outcome {
            Outcome::Done(Ok((n, clean))) => {
                if !clean {
                    drop(Object::take(obj));
                }
                Ok(n)
            }
            Outcome::Done(Err(e @ Error::Rejected(_))) => Err(e),
            Outcome::Done(Err(e)) => {
                drop(Object::take(obj));
                Err(e)
            }
            Outcome::Cancelled => {
                self.cancel_on_server(&token, shared).await;
                drop(Object::take(obj));
                Err(Error::Cancelled)
            }
            Outcome::TimedOut => {
                self.cancel_on_server(&token, shared).await;
                drop(Object::take(obj));
                Err(Error::QueryFailed(format!(
                    "no answer from the server at {} within {} s; the query was cancelled",
                    self.target(),
                    self.query_ceiling().as_secs()
                )))
            }
        }
    }

    /// Reads the portal a batch at a time as the sink asks, one row ahead so each batch
    /// can say whether more follow.
    async fn stream_rows(
        &self,
        client: &mut Client,
        guarded: &Guarded,
        check_stmt: &tokio_postgres::Statement,
        check: &policy::CheckParams,
        sink: &mut dyn RowSink,
        hold: Hold,
    ) -> Outcome<u64> {
        let err = |e: tokio_postgres::Error| self.query_error(&e);
        let sql = &guarded.executed_sql;
        let opened = self
            .open_statement(client, sql, check_stmt, check, &guarded.positions)
            .await;
        let (tx, opened) = match opened {
            Ok(o) => o,
            Err(e) => return Outcome::Done(Err(e)),
        };
        let Opened {
            exec,
            types,
            as_text,
            wrapped,
            columns,
        } = opened;
        let idle_ms = u64::try_from(hold.0.as_millis())
            .unwrap_or(u64::MAX)
            .saturating_add(self.spec.statement_timeout_s.saturating_mul(1000))
            .to_string();
        let setup = async {
            let param: &(dyn ToSql + Sync) = &idle_ms;
            tx.query_typed(SET_IDLE, &[(param, Type::TEXT)])
                .await
                .map_err(err)?;
            let portal = tx.bind(&exec, &[]).await.map_err(err)?;
            sink.columns(&columns)?;
            Ok::<_, Error>(portal)
        };
        let portal = match setup.await {
            Ok(p) => p,
            Err(e) => return Outcome::Done(Err(e)),
        };
        let mut ahead: Option<Row> = None;
        let mut delivered = 0u64;
        loop {
            let Some(want) = sink.wanted().await else {
                break;
            };
            let want = want.max(1);
            let ask = want + usize::from(ahead.is_none());
            let max_rows = i32::try_from(ask).unwrap_or(i32::MAX);
            let fetch = async {
                let mut stream =
                    std::pin::pin!(tx.query_portal_raw(&portal, max_rows).await.map_err(err)?);
                let mut rows: Vec<Row> = Vec::with_capacity(want + 1);
                rows.extend(ahead.take());
                while let Some(row) = stream.try_next().await.map_err(err)? {
                    rows.push(row);
                }
                Ok::<_, Error>(rows)
            };
            let mut rows = match tokio::time::timeout(self.query_ceiling(), fetch).await {
                Ok(Ok(rows)) => rows,
                Ok(Err(e)) => return Outcome::Done(Err(e)),
                Err(_) => return Outcome::TimedOut,
            };
            let more = rows.len() > want;
            if more {
                ahead = rows.pop();
            }
            let mut batch = Vec::with_capacity(rows.len());
            for row in &rows {
                match decode_row(row, &types, &as_text, wrapped) {
                    Ok(cells) => batch.push(cells),
                    Err(e) => return Outcome::Done(Err(e)),
                }
            }
            drop(rows);
            delivered += batch.len() as u64;
            if let Err(e) = sink.rows(batch, more) {
                return Outcome::Done(Err(e));
            }
            if !more {
                break;
            }
        }
        drop(portal);
        let clean = tx.rollback().await.is_ok();
        Outcome::Done(Ok((delivered, clean)))
    }

    async fn run_schema(&self) -> Result<SchemaInfo> {
        let (_, mut obj) = self.checkout().await?;
        let timeout_ms = self.timeout_ms();
        let result = {
            let client: &mut Client = &mut obj;
            match tokio::time::timeout(self.query_ceiling(), self.schema_tx(client, &timeout_ms))
                .await
            {
                Ok(r) => r,
                Err(_) => Err(Error::QueryFailed(format!(
                    "no answer from the server at {} within {} s",
                    self.target(),
                    self.query_ceiling().as_secs()
                ))),
            }
        };
        match result {
            Ok((info, true)) => Ok(info),
            Ok((info, false)) => {
                drop(Object::take(obj));
                Ok(info)
            }
            Err(e) => {
                drop(Object::take(obj));
                Err(e)
            }
        }
    }

    async fn schema_tx(&self, client: &mut Client, timeout_ms: &str) -> Result<(SchemaInfo, bool)> {
        let err = |e: tokio_postgres::Error| self.query_error(&e);
        let tx = begin(client, timeout_ms).await.map_err(err)?;
        let info = match &self.spec.table {
            Some(table) => {
                let rows = tx
                    .query(TABLE_COLUMNS_SQL, &[&self.spec.schema, table])
                    .await
                    .map_err(err)?;
                let columns = rows
                    .iter()
                    .map(|r| column_info(r, 0))
                    .collect::<Result<Vec<_>>>()?
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>();
                if columns.is_empty() {
                    return Err(Error::QueryFailed(format!(
                        "table \"{}\".\"{}\" was not found in database \"{}\", or user \"{}\" \
                         may not read any of its columns",
                        self.spec.schema, table, self.spec.dbname, self.spec.user
                    )));
                }
                SchemaInfo {
                    about: Default::default(),
                    columns,
                    tables: None,
                }
            }
            None => {
                let rows = tx.query(ALL_TABLES_SQL, &[]).await.map_err(err)?;
                let mut tables: Vec<TableInfo> = Vec::new();
                for r in &rows {
                    let schema = text_cell(r, 0)?;
                    let name = text_cell(r, 1)?;
                    let same = tables
                        .last()
                        .is_some_and(|t| t.schema == schema && t.name == name);
                    if !same {
                        tables.push(TableInfo {
                            about: Default::default(),
                            schema,
                            name,
                            kind: relkind_name(&text_cell(r, 2)?).to_string(),
                            columns: Vec::new(),
                        });
                    }
                    if let (Some(col), Some(t)) = (column_info(r, 3)?, tables.last_mut()) {
                        t.columns.push(col);
                    }
                }
                SchemaInfo {
                    about: Default::default(),
                    columns: Vec::new(),
                    tables: Some(tables),
                }
            }
        };
        let clean = tx.rollback().await.is_ok();
        Ok((info, clean))
    }

    async fn run_test(&self) -> Result<TestReport> {
        let (_, obj) = self.checkout().await?;
        let table = self
            .spec
            .table
            .as_ref()
            .map(|t| format!("{}.{}", quote_ident(&self.spec.schema), quote_ident(t)))
            .unwrap_or_default();
        let r = tokio::time::timeout(
            self.query_ceiling(),
            obj.query_one(ROLE_POWERS_SQL, &[&table]),
        )
        .await;
        match r {
            Ok(Ok(row)) => Ok(TestReport {
                warnings: role_warnings(&row, &self.spec.user, self.spec.table.as_deref())
                    .map_err(|e| self.query_error(&e))?,
                tunnel: self.tunnel.as_deref().map(TunnelTiming::of),
            }),
            Ok(Err(e)) => {
                let e = self.query_error(&e);
                drop(Object::take(obj));
                Err(e)
            }
            Err(_) => {
                drop(Object::take(obj));
                Err(Error::Unreachable(format!(
                    "no answer from the server at {} to SELECT 1",
                    self.target()
                )))
            }
        }
    }
}

/// What the source's role could do beyond reading, in the round trip that proves the source
/// reachable. `$1` is the quoted `data` table, or '' for a whole-database source.
const ROLE_POWERS_SQL: &str = "\
SELECT r.rolsuper,
       pg_catalog.pg_has_role(r.oid, 'pg_write_server_files', 'MEMBER'),
       pg_catalog.pg_has_role(r.oid, 'pg_execute_server_program', 'MEMBER'),
       CASE WHEN pg_catalog.to_regclass(NULLIF($1, '')) IS NULL THEN NULL
            ELSE pg_catalog.has_table_privilege(pg_catalog.to_regclass(NULLIF($1, '')),
                 'INSERT, UPDATE, DELETE, TRUNCATE') END
FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

/// Why a least-privilege role is safer, said once after the findings.
const LEAST_PRIVILEGE: &str = "tdb only reads, but a role that cannot write protects the data \
     even from what tdb cannot see (functions inside views, triggers): connect as a role with \
     only pg_read_all_data or SELECT grants";

/// The sentences `tdb source test` and the UI show for what the role can do.
fn role_warnings(
    row: &Row,
    user: &str,
    table: Option<&str>,
) -> std::result::Result<Vec<String>, tokio_postgres::Error> {
    let superuser: bool = row.try_get(0)?;
    let write_files: bool = row.try_get(1)?;
    let run_programs: bool = row.try_get(2)?;
    let write_table: Option<bool> = row.try_get(3)?;
    let mut found = Vec::new();
    if superuser {
        found.push(format!("role \"{user}\" is a superuser"));
    } else {
        if write_files {
            found.push(format!(
                "role \"{user}\" may write server files (member of pg_write_server_files)"
            ));
        }
        if run_programs {
            found.push(format!(
                "role \"{user}\" may run server programs (member of pg_execute_server_program)"
            ));
        }
        if let (Some(true), Some(t)) = (write_table, table) {
            found.push(format!(
                "role \"{user}\" may change table \"{t}\" (INSERT, UPDATE, DELETE or TRUNCATE granted)"
            ));
        }
    }
    if let Some(last) = found.last_mut() {
        last.push_str(&format!("; {LEAST_PRIVILEGE}"));
    }
    Ok(found)
}

/// An identifier quoted for PostgreSQL (`"My ""Table"""`), for to_regclass's text input.
fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// `BEGIN READ ONLY` with this source's timeouts. Repeatable read gives the statement (and
/// the catalog queries tokio-postgres may add for unknown types) one snapshot.
async fn begin<'c>(
    client: &'c mut Client,
    timeout_ms: &str,
) -> std::result::Result<Transaction<'c>, tokio_postgres::Error> {
    let tx = client
        .build_transaction()
        .isolation_level(IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .await?;
    let param: &(dyn ToSql + Sync) = &timeout_ms;
    tx.query_typed(SET_TIMEOUTS, &[(param, Type::TEXT)]).await?;
    Ok(tx)
}

/// `SELECT c1, ARRAY[c2]::text, … FROM (<sql>) AS tdb_q(c1, c2, …)`: the alias list
/// renames columns by position, so duplicate or unnamed columns are no obstacle.
///
/// A plain `::text` is not always the type's output function (`inet::text` adds the netmask
/// psql does not show), but an array's text form always is, and keeps NULL apart from
/// `'NULL'`; so a scalar goes out as a one-element array and an array as itself.
/// How the columns read as text reached tdb.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Wrapped {
    /// `ARRAY[c]::text`: the output function's text inside array quoting.
    ArrayText,
    /// `c::text`.
    PlainText,
    /// No wrapper: the statement as written.
    Raw,
}

fn text_wrapper(sql: &str, types: &[Type], as_text: &[bool], cast: Wrapped) -> String {
    // A trailing `;` is fine for a statement but not inside parentheses.
    let inner = &sql[..statement_end(sql)];
    let mut select = String::new();
    let mut names = String::new();
    for (i, (ty, text)) in types.iter().zip(as_text).enumerate() {
        if i > 0 {
            select.push_str(", ");
            names.push_str(", ");
        }
        let n = i + 1;
        let _ = write!(names, "c{n}");
        let _ = match (text, decode::is_array(ty) || cast != Wrapped::ArrayText) {
            (false, _) => write!(select, "c{n}"),
            (true, true) => write!(select, "c{n}::text"),
            (true, false) => write!(select, "ARRAY[c{n}]::text"),
        };
    }
    format!("SELECT {select} FROM (\n{inner}\n) AS tdb_q({names})")
}

/// Where the statement's text ends: after its last character that is neither a `;`, nor
/// whitespace, nor inside a comment. Strings, quoted identifiers and dollar quotes are
/// skipped whole so a `;` or `--` inside them counts as text.
fn statement_end(sql: &str) -> usize {
    let b = sql.as_bytes();
    let ident = |c: u8| c.is_ascii_alphanumeric() || c == b'_' || c == b'$' || c >= 0x80;
    let mut end = 0;
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'-' if b.get(i + 1) == Some(&b'-') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
                continue;
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let mut depth = 0usize;
                while i < b.len() {
                    if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
                        depth += 1;
                        i += 2;
                    } else if b[i] == b'*' && b.get(i + 1) == Some(&b'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                continue;
            }
            q @ (b'\'' | b'"') => {
                let escapes = q == b'\''
                    && i > 0
                    && matches!(b[i - 1], b'e' | b'E')
                    && (i < 2 || !ident(b[i - 2]));
                i += 1;
                while i < b.len() {
                    if escapes && b[i] == b'\\' {
                        i += 2;
                    } else if b[i] == q {
                        if b.get(i + 1) == Some(&q) {
                            i += 2;
                        } else {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
                i += 1;
                end = i.min(b.len());
                continue;
            }
            b'$' if i == 0 || !ident(b[i - 1]) => {
                let tag_len = b[i + 1..]
                    .iter()
                    .position(|c| !(c.is_ascii_alphanumeric() || *c == b'_' || *c >= 0x80));
                let starts_tag = tag_len.is_some_and(|n| {
                    b[i + 1 + n] == b'$' && !b.get(i + 1).is_some_and(u8::is_ascii_digit)
                });
                if let (true, Some(n)) = (starts_tag, tag_len) {
                    let tag = &sql[i..i + n + 2];
                    let body = i + n + 2;
                    i = sql[body..]
                        .find(tag)
                        .map_or(b.len(), |p| body + p + tag.len());
                    end = i;
                    continue;
                }
                i += 1;
                end = i;
            }
            b';' => i += 1,
            c if c.is_ascii_whitespace() => i += 1,
            _ => {
                i += 1;
                end = i;
            }
        }
    }
    // Never cut a multi-byte character (ends are always after ASCII or whole tokens).
    while !sql.is_char_boundary(end) {
        end += 1;
    }
    end
}

fn decode_row(row: &Row, types: &[Type], as_text: &[bool], wrapped: Wrapped) -> Result<Vec<Value>> {
    let mut cells = Vec::with_capacity(types.len());
    for (i, ty) in types.iter().enumerate() {
        let Raw(raw) = row
            .try_get::<_, Raw>(i)
            .map_err(|e| Error::QueryFailed(format!("cannot read column {}: {e}", i + 1)))?;
        cells.push(match (as_text[i], wrapped) {
            (false, _) => decode::decode_binary(ty, raw),
            (true, Wrapped::ArrayText) => decode::decode_text(ty, raw),
            (true, Wrapped::PlainText) if decode::is_array(ty) => decode::decode_text(ty, raw),
            (true, Wrapped::PlainText) => raw.map_or(Value::Null, |b| {
                Value::Text(String::from_utf8_lossy(b).into_owned())
            }),
            // The wrapper was refused: show what came, as text when it is text.
            (true, Wrapped::Raw) => match raw {
                None => Value::Null,
                Some(b) => match std::str::from_utf8(b) {
                    Ok(s) if !s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') => {
                        Value::Text(s.to_string())
                    }
                    _ => Value::Bytes(b.to_vec()),
                },
            },
        });
    }
    Ok(cells)
}

/// The column whose fields start at `at` in a row of [`column_fields!`]; `None` for a
/// relation without readable columns.
fn column_info(row: &Row, at: usize) -> Result<Option<ColumnInfo>> {
    let bad =
        |e: tokio_postgres::Error| Error::QueryFailed(format!("unexpected catalog answer: {e}"));
    let Some(name) = row.try_get::<_, Option<String>>(at).map_err(bad)? else {
        return Ok(None);
    };
    Ok(Some(ColumnInfo {
        name,
        type_name: row
            .try_get::<_, Option<String>>(at + 1)
            .map_err(bad)?
            .unwrap_or_default(),
        not_null: row
            .try_get::<_, Option<bool>>(at + 2)
            .map_err(bad)?
            .unwrap_or(false),
        primary_key: row
            .try_get::<_, Option<bool>>(at + 3)
            .map_err(bad)?
            .unwrap_or(false),
        references: row.try_get(at + 4).map_err(bad)?,
        comment: row.try_get(at + 5).map_err(bad)?,
    }))
}

/// The bytes of cell data a row holds (its DataRow, less the framing).
fn row_bytes(row: &Row) -> u64 {
    (0..row.len())
        .map(|i| match row.try_get::<_, Raw>(i) {
            Ok(Raw(Some(b))) => b.len() as u64,
            _ => 0,
        })
        .sum()
}

fn text_cell(row: &Row, idx: usize) -> Result<String> {
    row.try_get::<_, Option<String>>(idx)
        .map(Option::unwrap_or_default)
        .map_err(|e| Error::QueryFailed(format!("unexpected catalog answer: {e}")))
}

fn relkind_name(kind: &str) -> &'static str {
    match kind {
        "r" => "table",
        "p" => "partitioned table",
        "v" => "view",
        "m" => "materialized view",
        "f" => "foreign table",
        _ => "relation",
    }
}

/// `message (SQLSTATE xxxxx)` plus the position, detail and hint when the server gave them.
/// The position is shown as a line and column of what the user wrote when `positions` can
/// place it there, as the server's character count otherwise.
fn db_error_text(db: &DbError, positions: Option<&PositionMap>) -> String {
    let mut s = format!("{} (SQLSTATE {}", db.message(), db.code().code());
    if let Some(ErrorPosition::Original(p)) = db.position() {
        let _ = match written_position(db, positions) {
            Some(at) => write!(s, ", at line {}, column {}", at.line, at.column),
            None => write!(s, ", at character {p}"),
        };
    }
    s.push(')');
    if let Some(d) = db.detail() {
        let _ = write!(s, "\nDETAIL: {d}");
    }
    if let Some(h) = db.hint() {
        let _ = write!(s, "\nHINT: {h}");
    }
    s
}

/// The server's error position as a line and column of the text the user wrote.
fn written_position(db: &DbError, positions: Option<&PositionMap>) -> Option<LineColumn> {
    match db.position() {
        Some(ErrorPosition::Original(p)) => positions?.written_location(usize::try_from(*p).ok()?),
        _ => None,
    }
}

/// tokio-postgres's message with its causes (`error connecting to server: Connection refused
/// (os error 111)`); its errors never carry the password.
fn pg_error_text(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return db_error_text(db, None);
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let _ = write!(s, ": {cause}");
        source = cause.source();
    }
    s
}

/// Connects with the source's TLS settings and, for `prefer`, retries in plain text when
/// the TLS handshake itself fails (as libpq does); a server that declines TLS is already
/// handled by tokio-postgres. The socket is opened here so that what the server sends is
/// read through [`GuardedStream`] (see `wire.rs`).
struct PgConnect {
    tls: MakeRustlsConnect,
    retry_without_tls: bool,
    policy: Arc<Policy>,
    tunnel: Option<Arc<Tunnel>>,
}

impl Connect for PgConnect {
    fn connect(
        &self,
        config: &tokio_postgres::Config,
    ) -> BoxFuture<'_, std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error>> {
        let config = config.clone();
        Box::pin(async move {
            let tunnel = self.tunnel.as_deref();
            match connect_once(&config, &self.tls, &self.policy, tunnel).await {
                Err(e) if self.retry_without_tls && is_tls_failure(&e) => {
                    let mut plain = config.clone();
                    plain.ssl_mode(tokio_postgres::config::SslMode::Disable);
                    connect_once(&plain, &self.tls, &self.policy, tunnel).await
                }
                other => other,
            }
        })
    }
}

async fn connect_once(
    config: &tokio_postgres::Config,
    tls: &MakeRustlsConnect,
    policy: &Arc<Policy>,
    tunnel: Option<&Tunnel>,
) -> std::result::Result<(Client, JoinHandle<()>), tokio_postgres::Error> {
    let (socket, mark) = match tunnel {
        Some(t) => match t.connect().await {
            Ok((s, mark)) => (Socket::Tcp(s), Some(mark)),
            Err(e) => {
                let why = e.detail().to_string();
                return Err(wire::into_pg_error(WireError::Tunnel(why)).await);
            }
        },
        None => match wire::open(config).await {
            Ok(s) => (s, None),
            Err(e) => {
                let target = policy.target.clone();
                let cause = e.to_string();
                return Err(wire::into_pg_error(WireError::Socket { target, cause }).await);
            }
        },
    };
    let ssl_request = config.get_ssl_mode() != tokio_postgres::config::SslMode::Disable;
    let stream = GuardedStream::socket(socket, Arc::clone(policy), ssl_request);
    let rustls = MakeTlsConnect::<GuardedStream<Socket>>::make_tls_connect(
        &mut tls.clone(),
        &tls_host(config),
    )
    .unwrap_or_else(|never| match never {});
    let (client, connection) = match config
        .connect_raw(stream, GuardedTls::new(rustls, Arc::clone(policy)))
        .await
    {
        Ok(c) => c,
        Err(e) => {
            // Through a tunnel, a closed connection most often means the bastion could not
            // reach the server: say so, naming the hop.
            if let (Some(t), Some(mark)) = (tunnel, mark)
                && e.as_db_error().is_none()
                && let Some(why) = t.refusal(mark).await
            {
                return Err(wire::into_pg_error(WireError::Tunnel(why)).await);
            }
            return Err(e);
        }
    };
    let task = tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::debug!("postgres connection ended: {e}");
        }
    });
    Ok((client, task))
}

/// The name TLS checks the certificate against (and sends as SNI).
fn tls_host(config: &tokio_postgres::Config) -> String {
    match config.get_hosts().first() {
        Some(Host::Tcp(h)) => h.clone(),
        _ => String::new(),
    }
}

fn is_tls_failure(e: &tokio_postgres::Error) -> bool {
    e.as_db_error().is_none() && e.to_string().starts_with("error performing TLS handshake")
}

impl Connector for PgConnector {
    fn policy(&self) -> GuardPolicy {
        KIND.policy()
    }

    fn data_table(&self) -> Option<TableName> {
        self.spec.table.as_ref().map(|t| TableName {
            schema: Some(self.spec.schema.clone()),
            name: t.clone(),
        })
    }

    fn prepare(
        &self,
        _progress: Option<ProgressFn>,
        cancel: CancellationToken,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(self.warm_up(cancel))
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
    fn wrapper_renames_by_position_and_drops_the_semicolon() {
        assert_eq!(
            text_wrapper(
                "SELECT 1, '1 day'::interval, '{}'::interval[];  ",
                &[Type::INT4, Type::INTERVAL, Type::INTERVAL_ARRAY],
                &[false, true, true],
                Wrapped::ArrayText
            ),
            "SELECT c1, ARRAY[c2]::text, c3::text FROM (\nSELECT 1, '1 day'::interval, \
             '{}'::interval[]\n) AS tdb_q(c1, c2, c3)"
        );
    }

    #[test]
    fn statement_end_skips_trailing_semicolons_and_comments() {
        let cases = [
            ("SELECT 1", "SELECT 1"),
            ("SELECT 1;  ", "SELECT 1"),
            ("SELECT 1; -- done", "SELECT 1"),
            ("SELECT 1 /* a; /* nested */ b */ ;", "SELECT 1"),
            ("SELECT ';' ;", "SELECT ';'"),
            ("SELECT 'it''s;'", "SELECT 'it''s;'"),
            ("SELECT E'\\';'", "SELECT E'\\';'"),
            ("SELECT $$ -- ; $$;", "SELECT $$ -- ; $$"),
            ("SELECT $q$ $$ ; $q$ -- x", "SELECT $q$ $$ ; $q$"),
            ("SELECT \"a;\" FROM t;;", "SELECT \"a;\" FROM t"),
            ("SELECT a$b FROM t; ", "SELECT a$b FROM t"),
            ("SELECT 'é';", "SELECT 'é'"),
        ];
        for (sql, want) in cases {
            assert_eq!(&sql[..statement_end(sql)], want, "{sql}");
        }
    }
}
