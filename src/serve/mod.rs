//! `tdb serve`: the seeds' HTTP API (000 Sources, 002 Query, 001's lifecycle operations)
//! over the same engine the command line uses, so a query through the API is guarded,
//! audited (with the key's prefix and the client's address) and recorded exactly as one
//! from `tdb query`.
//!
//! The accept loop is our own over hyper-util rather than `axum::serve`: one path serves
//! plain HTTP and rustls, knows each connection's peer address, and drains connections on
//! SIGTERM/SIGINT. On a signal the listener closes, running requests get the grace period,
//! then every query still running is cancelled on its server and ends with its
//! `query_failed` line.

mod api;
mod auth;
mod limits;
mod openapi;
mod query;
mod sources;
mod state;
mod stats;
mod tls;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::routing::{get, post};
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::signal::unix::{SignalKind, signal};

use crate::cli::serve::ServeOptions;
use crate::core::{Error, Result};
use crate::home::Home;
use state::State;

/// Bodies larger than this are refused (413): a query's SQL is at most 10,000 characters
/// and a source's record a few hundred bytes.
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// How long a client has to finish its TLS handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// After the grace period has run out and the queries were cancelled, how long their
/// handlers get to write their closing audit lines and answer.
const CANCEL_WAIT: Duration = Duration::from_secs(5);

/// The peer of the connection a request came on, for the audit line and the log.
#[derive(Debug, Clone, Copy)]
pub struct ClientAddr(pub SocketAddr);

/// Runs the server until SIGTERM or SIGINT.
pub fn run(home: &Home, opts: ServeOptions) -> Result<()> {
    // glibc gives every thread that allocates under contention an arena of its own (up to
    // 8 per core), which a busy server's blocking pool fills with freed but kept memory:
    // two arenas hold 64 connections' results as well (the memory goal is under 40 MiB).
    #[cfg(target_env = "gnu")]
    // SAFETY: mallopt only sets a tunable of the allocator, before the runtime's threads
    // exist.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
    // Two workers: the engine's registry work is serialized anyway.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("tdb-serve")
        .enable_all()
        .build()
        .map_err(|e| Error::internal("cannot start the async runtime", e))?;
    rt.block_on(serve(home, opts))
}

/// The routes, with their state; `/healthz` and `/openapi.json` alone need no key.
pub fn router(state: Arc<State>) -> Router {
    Router::new()
        .route("/healthz", get(api::healthz))
        .route("/openapi.json", get(openapi::openapi_json))
        .route("/v1/sources", post(sources::register).get(sources::list))
        .route(
            "/v1/sources/{id}",
            get(sources::show)
                .delete(sources::delete)
                .patch(sources::update),
        )
        .route(
            "/v1/sources/{id}/credentials",
            axum::routing::patch(sources::credentials),
        )
        .route("/v1/sources/{id}/schema", get(sources::schema))
        .route("/v1/sources/{id}/test", post(sources::test))
        .route("/v1/sources/{id}/health", get(sources::health))
        .route("/v1/metrics", get(stats::metrics))
        .route("/v1/query", post(query::run))
        .fallback(api::no_route)
        .method_not_allowed_fallback(api::no_method)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            stats::count_requests,
        ))
        .with_state(state)
}

async fn serve(home: &Home, opts: ServeOptions) -> Result<()> {
    let tls = match &opts.tls {
        Some((cert, key)) => Some(tls::acceptor(cert, key)?),
        None => None,
    };
    let state = Arc::new(State::open(home, &opts)?);
    let app = router(state.clone());
    let listener = TcpListener::bind(opts.listen)
        .await
        .map_err(|e| Error::Invalid(format!("listen: cannot listen on {}: {e}", opts.listen)))?;
    let local = listener
        .local_addr()
        .map_err(|e| Error::internal("cannot read the listening address", e))?;
    let scheme = if tls.is_some() { "https" } else { "http" };
    // The one line a supervisor (or a test) reads to learn the port.
    println!("tdb serve: listening on {scheme}://{local}");
    tracing::info!(%local, scheme, "listening");
    let on = |kind| signal(kind).map_err(|e| Error::internal("cannot listen for signals", e));
    let mut term = on(SignalKind::terminate())?;
    let mut int = on(SignalKind::interrupt())?;
    let graceful = GracefulShutdown::new();
    let signal_name = loop {
        let (tcp, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors and the like: wait a moment, go on serving.
                    tracing::warn!("cannot accept a connection: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = term.recv() => break "SIGTERM",
            _ = int.recv() => break "SIGINT",
        };
        let _ = tcp.set_nodelay(true);
        let service = per_connection(app.clone(), peer);
        let watcher = graceful.watcher();
        match tls.clone() {
            None => {
                let conn = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(tcp), service);
                tokio::spawn(async move {
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                });
            }
            Some(acceptor) => {
                tokio::spawn(async move {
                    let stream =
                        match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp)).await {
                            Ok(Ok(s)) => s,
                            Ok(Err(e)) => {
                                tracing::info!(%peer, "TLS handshake failed: {e}");
                                return;
                            }
                            Err(_) => {
                                tracing::info!(%peer, "TLS handshake timed out");
                                return;
                            }
                        };
                    let conn = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), service);
                    if let Err(e) = watcher.watch(conn).await {
                        tracing::debug!(%peer, "connection ended: {e}");
                    }
                });
            }
        }
    };
    drop(listener);
    let running = state.limits.running();
    eprintln!(
        "tdb serve: {signal_name}: stopped accepting; {running} queries running, waiting up to {} s",
        opts.grace.as_secs()
    );
    tracing::warn!(signal = signal_name, running, "shutting down");
    let drained = graceful.shutdown();
    tokio::pin!(drained);
    if tokio::time::timeout(opts.grace, &mut drained)
        .await
        .is_err()
    {
        let left = state.limits.running();
        tracing::warn!(
            left,
            "grace period over: cancelling the queries still running"
        );
        eprintln!("tdb serve: grace period over: cancelling {left} queries on their servers");
        state.stopping.cancel();
        let _ = tokio::time::timeout(CANCEL_WAIT, &mut drained).await;
    }
    eprintln!("tdb serve: stopped");
    Ok(())
}

/// The router as a hyper service that tells each request which peer it came from.
fn per_connection(
    app: Router,
    peer: SocketAddr,
) -> impl hyper::service::Service<
    hyper::Request<hyper::body::Incoming>,
    Response = axum::response::Response,
    Error = std::convert::Infallible,
    Future = impl Send,
> + Clone {
    hyper::service::service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        req.extensions_mut().insert(ClientAddr(peer));
        let mut app = app.clone();
        async move {
            use tower_service::Service;
            app.call(req.map(axum::body::Body::new)).await
        }
    })
}
