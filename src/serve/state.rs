//! What every handler shares: the engine (registry, audit log, connector pools) behind a
//! lock, a registry connection of its own for keys (so a request's key check never waits
//! for a slow plan), the limits, and the counters.

use std::sync::{Arc, Mutex, MutexGuard};

use tokio_util::sync::CancellationToken;

use super::limits::Limits;
use super::stats::{Health, Metrics};
use crate::backend::engine::Engine;
use crate::cli::serve::ServeOptions;
use crate::core::source::SourceRecord;
use crate::core::{Error, Result};
use crate::home::Home;
use crate::registry::Registry;
use crate::registry::keys::ApiKey;

pub struct State {
    engine: Arc<Mutex<Engine>>,
    keys: Mutex<Registry>,
    pub limits: Limits,
    pub metrics: Metrics,
    pub health: Health,
    /// Cancelled when the grace period after a signal is over: every query still running
    /// is cancelled on its server.
    pub stopping: CancellationToken,
}

fn poisoned() -> Error {
    Error::Internal("an earlier request failed inside the server; restart tdb serve".into())
}

impl State {
    pub fn open(home: &Home, opts: &ServeOptions) -> Result<State> {
        Ok(State {
            engine: Arc::new(Mutex::new(Engine::open(home)?)),
            keys: Mutex::new(Registry::open(home)?),
            limits: Limits::new(opts.max_per_source, opts.queue_timeout),
            metrics: Metrics::new(),
            health: Health::default(),
            stopping: CancellationToken::new(),
        })
    }

    /// Runs `f` on the engine on the blocking pool: registry writes wait on SQLite's lock
    /// and audit lines on `fsync`, neither of which may hold up a worker.
    pub async fn engine<T, F>(&self, f: F) -> Result<T>
    where
        F: FnOnce(&mut Engine) -> Result<T> + Send + 'static,
        T: Send + 'static,
    {
        let engine = self.engine.clone();
        tokio::task::spawn_blocking(move || {
            let mut guard = engine.lock().map_err(|_| poisoned())?;
            f(&mut guard)
        })
        .await
        .map_err(|e| Error::internal("a server task failed", e))?
    }

    /// The key registry, for the quick lookups of authentication.
    pub fn keys(&self) -> Result<MutexGuard<'_, Registry>> {
        self.keys.lock().map_err(|_| poisoned())
    }

    /// The source `reference` names (id or name) if `key` may see it; one outside its scope
    /// is not found, exactly like one that does not exist.
    pub async fn visible(&self, key: &ApiKey, reference: &str) -> Result<SourceRecord> {
        let reference = reference.to_string();
        let scope = key.scope.clone();
        self.engine(move |e| {
            let rec = e.registry().get(&reference)?;
            if scope.allows(&rec) {
                Ok(rec)
            } else {
                Err(Error::NotFound(format!("source not found: {reference}")))
            }
        })
        .await
    }
}
