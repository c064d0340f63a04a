//! The server's limits: a token bucket per key (`--rate N/min`, governor), and a line per
//! source in front of a fixed number of running queries (`--max-per-source`), left with
//! 503 once `--queue-timeout-s` has passed.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::registry::keys::ApiKey;

/// A key's last use is written at most this often (a registry write per request would
/// serialize every request on SQLite's lock for nothing anyone reads that precisely).
const TOUCH_EVERY: Duration = Duration::from_secs(60);

pub struct Limits {
    per_source: u32,
    queue_timeout: Duration,
    /// By key id: a key's rate never changes (a key made again has a new id).
    buckets: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
    clock: DefaultClock,
    sources: Mutex<HashMap<String, Arc<SourceLine>>>,
    touched: Mutex<HashMap<String, Instant>>,
    running: Arc<AtomicUsize>,
}

/// One source's running queries and its line.
pub struct SourceLine {
    pub slots: Arc<Semaphore>,
    pub waiting: AtomicUsize,
    pub queue_timeouts: AtomicU64,
}

/// A running query's place: its source slot, and the server's count of running queries.
pub struct Slot {
    _permit: OwnedSemaphorePermit,
    running: Arc<AtomicUsize>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.running.fetch_sub(1, Ordering::Relaxed);
    }
}

/// What `/v1/metrics` says of one source's line.
pub struct LineUse {
    pub capacity: u32,
    pub in_use: u32,
    pub waiting: usize,
    pub queue_timeouts: u64,
}

impl Limits {
    pub fn new(per_source: u32, queue_timeout: Duration) -> Limits {
        Limits {
            per_source,
            queue_timeout,
            buckets: Mutex::new(HashMap::new()),
            clock: DefaultClock::default(),
            sources: Mutex::new(HashMap::new()),
            touched: Mutex::new(HashMap::new()),
            running: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Takes one token from the key's bucket; `Err` holds the seconds until the next one.
    pub fn admit(&self, key: &ApiKey) -> Result<(), u64> {
        let Some(rate) = key.rate_per_min.and_then(NonZeroU32::new) else {
            return Ok(());
        };
        let bucket = {
            let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
            buckets
                .entry(key.id.clone())
                .or_insert_with(|| Arc::new(RateLimiter::direct(Quota::per_minute(rate))))
                .clone()
        };
        bucket.check().map_err(|not_until| {
            let wait = not_until.wait_time_from(self.clock.now());
            // Whole seconds, rounded up: a client that waits that long gets in.
            wait.as_secs() + u64::from(wait.subsec_nanos() > 0)
        })
    }

    /// Whether the key's last use should be written now.
    pub fn due_for_touch(&self, key_id: &str) -> bool {
        let mut touched = self.touched.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        match touched.get(key_id) {
            Some(at) if now.duration_since(*at) < TOUCH_EVERY => false,
            _ => {
                touched.insert(key_id.to_string(), now);
                true
            }
        }
    }

    fn line(&self, source_id: &str) -> Arc<SourceLine> {
        let mut sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        sources
            .entry(source_id.to_string())
            .or_insert_with(|| {
                Arc::new(SourceLine {
                    slots: Arc::new(Semaphore::new(self.per_source as usize)),
                    waiting: AtomicUsize::new(0),
                    queue_timeouts: AtomicU64::new(0),
                })
            })
            .clone()
    }

    /// Waits for a slot on the source, at most the queue timeout; `Err` is the message of
    /// the 503.
    pub async fn slot(&self, source_id: &str, name: &str) -> Result<Slot, String> {
        let line = self.line(source_id);
        line.waiting.fetch_add(1, Ordering::Relaxed);
        let got =
            tokio::time::timeout(self.queue_timeout, line.slots.clone().acquire_owned()).await;
        line.waiting.fetch_sub(1, Ordering::Relaxed);
        match got {
            Ok(Ok(permit)) => {
                self.running.fetch_add(1, Ordering::Relaxed);
                Ok(Slot {
                    _permit: permit,
                    running: self.running.clone(),
                })
            }
            Ok(Err(_)) | Err(_) => {
                line.queue_timeouts.fetch_add(1, Ordering::Relaxed);
                Err(format!(
                    "source \"{name}\" is busy: {} queries running and none finished within {} s; try again later",
                    self.per_source,
                    self.queue_timeout.as_secs()
                ))
            }
        }
    }

    /// Queries running now, on every source.
    pub fn running(&self) -> usize {
        self.running.load(Ordering::Relaxed)
    }

    /// Each source's line that has been used, by source id.
    pub fn lines(&self) -> Vec<(String, LineUse)> {
        let sources = self.sources.lock().unwrap_or_else(|p| p.into_inner());
        let mut out: Vec<_> = sources
            .iter()
            .map(|(id, l)| {
                let free = u32::try_from(l.slots.available_permits()).unwrap_or(0);
                (
                    id.clone(),
                    LineUse {
                        capacity: self.per_source,
                        in_use: self.per_source.saturating_sub(free),
                        waiting: l.waiting.load(Ordering::Relaxed),
                        queue_timeouts: l.queue_timeouts.load(Ordering::Relaxed),
                    },
                )
            })
            .collect();
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }
}
