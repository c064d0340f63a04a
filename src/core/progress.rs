//! How far a long preparation (a CSV import) has got. It lives in `core` because the one who
//! reports it (a connector) and the ones who show it (the terminal UI's panes, the command
//! line's progress bar) must not depend on each other.

use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Rows so far; while an import runs, an estimate from the bytes read (exact once
    /// `done`).
    pub rows: u64,
    pub bytes: u64,
    pub total_bytes: u64,
    pub done: bool,
}

/// Called from whatever thread does the work, so it must be `Send + Sync`.
pub type ProgressFn = Arc<dyn Fn(Progress) + Send + Sync>;
