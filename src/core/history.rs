//! One run of a query as the history keeps it: what was asked, when, how long it took and
//! how it ended. Never a secret: the SQL as typed (the audit log keeps it too), and for a
//! failure only a short message.

use serde::{Deserialize, Serialize};

/// How many runs the history keeps per source; older ones are dropped as new ones come.
pub const KEEP_PER_SOURCE: usize = 1000;

/// A failure message is cut to this many characters: enough to recognise it in a list.
pub const ERROR_MAX_CHARS: usize = 300;

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It returned rows.
    Ok,
    /// The guard refused the SQL; nothing reached the source.
    Rejected,
    /// It reached the source and failed, timed out or was cancelled.
    Failed,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::Ok => "ok",
            Outcome::Rejected => "rejected",
            Outcome::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<Outcome> {
        [Outcome::Ok, Outcome::Rejected, Outcome::Failed]
            .into_iter()
            .find(|o| o.as_str() == s)
    }
}

/// One run, as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryEntry {
    pub source_id: String,
    pub sql: String,
    /// RFC 3339, UTC.
    pub started_at: String,
    pub duration_ms: u64,
    /// Rows returned, for a run that returned any.
    pub rows: Option<u64>,
    pub truncated: bool,
    pub outcome: Outcome,
    /// The first [`ERROR_MAX_CHARS`] characters of the message the user saw.
    pub error: Option<String>,
}

/// A message cut to [`ERROR_MAX_CHARS`] characters, `…` marking the cut.
pub fn short_error(detail: &str) -> String {
    if detail.chars().count() <= ERROR_MAX_CHARS {
        return detail.to_string();
    }
    let mut out: String = detail.chars().take(ERROR_MAX_CHARS - 1).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outcomes_round_trip() {
        for o in [Outcome::Ok, Outcome::Rejected, Outcome::Failed] {
            assert_eq!(Outcome::parse(o.as_str()), Some(o));
        }
        assert_eq!(Outcome::parse("maybe"), None);
    }

    #[test]
    fn long_errors_are_cut_on_a_character() {
        assert_eq!(short_error("boom"), "boom");
        let long = "é".repeat(ERROR_MAX_CHARS + 10);
        let cut = short_error(&long);
        assert_eq!(cut.chars().count(), ERROR_MAX_CHARS);
        assert!(cut.ends_with('…'));
    }
}
