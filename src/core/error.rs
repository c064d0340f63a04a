//! The error kinds a user can meet, each with the exit code and HTTP-like status of
//! CONTRACT.md, so the command line and the terminal UI report them the same way.

use super::splice::LineColumn;

/// What went wrong, with a message a user can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Bad field, unknown source type, a limit out of range (exit 10, status 400).
    #[error("{0}")]
    Invalid(String),
    /// SQL the guard or the source's own policy refused before it ran (exit 10, status 400,
    /// like any invalid input; audited as `query_rejected`).
    #[error("{0}")]
    Rejected(Refusal),
    /// No such source (exit 11, status 404).
    #[error("{0}")]
    NotFound(String),
    /// A source with this name already exists (exit 12, status 409).
    #[error("{0}")]
    Conflict(String),
    /// The source cannot be reached: connect failed, file missing (exit 13, status 503).
    #[error("{0}")]
    Unreachable(String),
    /// The query failed or timed out while executing (exit 14, status 500).
    #[error("{0}")]
    QueryFailed(String),
    /// [`Error::QueryFailed`] where the engine named a place in the statement, already taken
    /// back to the text the user wrote, so an editor can put its cursor there without reading
    /// the message.
    #[error("{detail}")]
    QueryFailedAt { detail: String, at: LineColumn },
    /// The query was stopped on purpose while executing (Esc, Ctrl-C, a signal): a failed
    /// query to a script (exit 14, status 500), but one nobody needs to be told about.
    #[error("{CANCELLED}")]
    Cancelled,
    /// tdb's own files or state are broken (exit 1, status 500).
    #[error("{0}")]
    Internal(String),
    /// The audit log cannot be written, so nothing was run (exit 15, status 500): a query
    /// nobody could account for must not reach a source.
    #[error("{0}")]
    AuditUnwritable(String),
    /// A signal (SIGINT, SIGTERM, SIGHUP) ended tdb after it cancelled and audited what was
    /// running. The exit code is the shell's 128 + the signal's number, so a script or a
    /// supervisor sees the same status as if the signal had killed tdb.
    #[error("{detail}")]
    Interrupted { signal: i32, detail: String },
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The seed's API words every refusal so; scripts and the HTTP API match on it.
const REFUSAL_PREFIX: &str = "SQL validation failed: ";

const CANCELLED: &str = "query cancelled";

/// Why SQL was refused, worded as the seed's API words it (`SQL validation failed: …`).
/// Made only by [`Error::rejected`], so the prefix is never forgotten or doubled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal(String);

impl Refusal {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl Error {
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Invalid(_) | Error::Rejected(_) => 10,
            Error::NotFound(_) => 11,
            Error::Conflict(_) => 12,
            Error::Unreachable(_) => 13,
            Error::QueryFailed(_) | Error::QueryFailedAt { .. } | Error::Cancelled => 14,
            Error::Internal(_) => 1,
            Error::AuditUnwritable(_) => 15,
            Error::Interrupted { signal, .. } => 128 + signal,
        }
    }

    /// The status code the seeds' HTTP API would answer with.
    pub fn status(&self) -> u16 {
        match self {
            Error::Invalid(_) | Error::Rejected(_) => 400,
            Error::NotFound(_) => 404,
            Error::Conflict(_) => 409,
            Error::Unreachable(_) => 503,
            Error::QueryFailed(_)
            | Error::QueryFailedAt { .. }
            | Error::Cancelled
            | Error::Internal(_)
            | Error::AuditUnwritable(_)
            | Error::Interrupted { .. } => 500,
        }
    }

    pub fn detail(&self) -> &str {
        match self {
            Error::Invalid(m)
            | Error::NotFound(m)
            | Error::Conflict(m)
            | Error::Unreachable(m)
            | Error::QueryFailed(m)
            | Error::Internal(m)
            | Error::AuditUnwritable(m)
            | Error::Interrupted { detail: m, .. }
            | Error::QueryFailedAt { detail: m, .. } => m,
            Error::Rejected(r) => r.as_str(),
            Error::Cancelled => CANCELLED,
        }
    }

    /// Where in the user's text the engine placed the error, when it did.
    pub fn position(&self) -> Option<LineColumn> {
        match self {
            Error::QueryFailedAt { at, .. } => Some(*at),
            _ => None,
        }
    }

    /// `{"error":{"status":404,"detail":"…"}}`, the one-line JSON form of CONTRACT.md.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": {"status": self.status(), "detail": self.detail()}})
    }

    /// The guard or a source's policy refuses SQL; `why` finishes the sentence
    /// `SQL validation failed: …`.
    pub fn rejected(why: impl std::fmt::Display) -> Self {
        Error::Rejected(Refusal(format!("{REFUSAL_PREFIX}{why}")))
    }

    /// tdb is stopping because of `signal`; `what` says what became of the work in hand.
    pub fn interrupted(signal: i32, what: &str) -> Self {
        let name = match signal {
            libc::SIGINT => "interrupted (SIGINT)",
            libc::SIGTERM => "terminated (SIGTERM)",
            libc::SIGHUP => "hung up (SIGHUP)",
            _ => "stopped by a signal",
        };
        Error::Interrupted {
            signal,
            detail: format!("{name}: {what}"),
        }
    }

    pub fn internal(context: &str, err: impl std::fmt::Display) -> Self {
        Error::Internal(format!("{context}: {err}"))
    }
}

impl From<std::io::Error> for Error {
    fn from(e: std::io::Error) -> Self {
        Error::Internal(e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_follow_the_contract() {
        let cases = [
            (Error::Invalid("x".into()), 10, 400),
            (Error::rejected("x"), 10, 400),
            (Error::NotFound("x".into()), 11, 404),
            (Error::Conflict("x".into()), 12, 409),
            (Error::Unreachable("x".into()), 13, 503),
            (Error::QueryFailed("x".into()), 14, 500),
            (Error::Cancelled, 14, 500),
            (Error::AuditUnwritable("x".into()), 15, 500),
            (Error::Internal("x".into()), 1, 500),
            (
                Error::Interrupted {
                    signal: libc::SIGTERM,
                    detail: "x".into(),
                },
                143,
                500,
            ),
            (
                Error::Interrupted {
                    signal: libc::SIGHUP,
                    detail: "x".into(),
                },
                129,
                500,
            ),
        ];
        for (e, code, status) in cases {
            assert_eq!(e.exit_code(), code);
            assert_eq!(e.status(), status);
        }
    }

    /// Scripts and the seed's HTTP API read these messages: they stay exactly so.
    #[test]
    fn refusals_and_cancels_keep_their_wording() {
        let e = Error::rejected("Only SELECT statements are allowed");
        assert_eq!(
            e.detail(),
            "SQL validation failed: Only SELECT statements are allowed"
        );
        assert_eq!(e.to_string(), e.detail());
        assert_eq!(
            e.to_json().to_string(),
            r#"{"error":{"status":400,"detail":"SQL validation failed: Only SELECT statements are allowed"}}"#
        );
        assert_eq!(Error::Cancelled.detail(), "query cancelled");
        assert_eq!(Error::Cancelled.to_string(), "query cancelled");
        assert_eq!(
            Error::Cancelled.to_json().to_string(),
            r#"{"error":{"status":500,"detail":"query cancelled"}}"#
        );
    }

    #[test]
    fn json_shape() {
        let e = Error::NotFound("source not found: orders".into());
        assert_eq!(
            e.to_json().to_string(),
            r#"{"error":{"status":404,"detail":"source not found: orders"}}"#
        );
    }
}
