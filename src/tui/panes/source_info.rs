//! A source's detail view (`i` in the sources): its record as `tdb source show` prints it
//! (secrets masked), its health (the last test, the tests of this session and the kept
//! history of queries: response times and the share that reached the source), and for a
//! file kind how much its cache takes.

use std::time::{Duration, Instant};

use serde_json::Value as Json;

use crate::backend::protocol::RequestId;
use crate::core::export::format_size;
use crate::core::history::{HistoryEntry, Outcome};
use crate::core::sanitize::for_terminal;
use crate::core::source::{SourceRecord, Status};

use super::results::format_duration;

/// How many of the newest runs the view lists one by one.
const RECENT: usize = 10;

/// One test of a source in this session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRun {
    pub at: Instant,
    /// The round trip, or why the source could not be reached.
    pub result: Result<Duration, String>,
}

/// The open view.
#[derive(Debug)]
pub struct SourceInfo {
    pub source_id: String,
    pub scroll: u16,
    /// The bytes of the source's caches, once the backend said (`None`: asked, not known).
    pub cache: Option<u64>,
    pub cache_request: RequestId,
}

/// One line of the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InfoLine {
    Heading(String),
    Field(String, String),
    /// A run of the history: whether it went well, and what it says.
    Run(bool, String),
    Blank,
}

/// What the view shows, from what the app knows now; every text safe for the terminal.
pub fn info_lines(
    rec: &SourceRecord,
    status: Status,
    tests: &[TestRun],
    history: &[HistoryEntry],
    cache: Option<u64>,
    now: Instant,
) -> Vec<InfoLine> {
    let field = |k: &str, v: &str| InfoLine::Field(k.to_string(), for_terminal(v).into_owned());
    let mut out = vec![
        InfoLine::Heading("Record".into()),
        field("name", &rec.name),
        field("id", &rec.id),
        field("type", &rec.source_type().to_string()),
        field("status", status.as_str()),
        field("description", &rec.description),
        field("tags", &rec.tags.join(", ")),
        field("registered by", &rec.registered_by),
        field("registered at", &rec.registered_at),
    ];
    let conn = rec.connection.to_public_json(rec.has_password);
    let mut file_kind = false;
    if let Json::Object(m) = &conn {
        for (k, v) in m {
            file_kind |= k == "path";
            let text = match v {
                Json::String(s) => s.clone(),
                Json::Null => "-".into(),
                other => other.to_string(),
            };
            out.push(field(&format!("connection.{k}"), &text));
        }
    }
    out.push(InfoLine::Blank);
    out.push(InfoLine::Heading("Health".into()));
    out.push(field("last test", &last_test(tests.last(), now)));
    let reached = tests.iter().filter(|t| t.result.is_ok()).count();
    if !tests.is_empty() {
        out.push(field(
            "tests",
            &format!(
                "{} this session: {reached} reached it, {} did not",
                tests.len(),
                tests.len() - reached
            ),
        ));
    }
    let ok = history.iter().filter(|h| h.outcome == Outcome::Ok).count();
    let failed = history
        .iter()
        .filter(|h| h.outcome == Outcome::Failed)
        .count();
    let rejected = history.len() - ok - failed;
    out.push(field(
        "queries",
        &format!(
            "{} kept: {ok} ran, {failed} failed, {rejected} refused by the guard",
            history.len()
        ),
    ));
    // Uptime: of the tests and the queries that reached out (a refused one never did),
    // the share that got an answer.
    let up = ok + reached;
    let tried = ok + failed + tests.len();
    if tried > 0 {
        out.push(field(
            "uptime",
            &format!(
                "{:.1}% of {tried} tests and queries answered",
                up as f64 * 100.0 / tried as f64
            ),
        ));
    }
    let mut times: Vec<u64> = history
        .iter()
        .filter(|h| h.outcome == Outcome::Ok)
        .map(|h| h.duration_ms)
        .collect();
    times.sort_unstable();
    if let (Some(first), Some(last)) = (times.first(), times.last()) {
        let pick = |q: usize| times[(times.len() - 1) * q / 100];
        out.push(field(
            "response",
            &format!(
                "median {} ms · 95% under {} ms · {first}–{last} ms",
                pick(50),
                pick(95)
            ),
        ));
    }
    if let Some(e) = history
        .iter()
        .find(|h| h.outcome != Outcome::Ok)
        .and_then(|h| h.error.as_deref())
    {
        out.push(field("last error", e));
    }
    if file_kind {
        out.push(InfoLine::Blank);
        out.push(InfoLine::Heading("Cache".into()));
        let size = match cache {
            None => "reading…".to_string(),
            Some(0) => "none (not imported yet, or read in place)".to_string(),
            Some(b) => format!(
                "{} (a copy of the file queried through SQLite; safe to delete)",
                format_size(usize::try_from(b).unwrap_or(usize::MAX))
            ),
        };
        out.push(field("size", &size));
    }
    if !history.is_empty() {
        out.push(InfoLine::Blank);
        out.push(InfoLine::Heading(format!(
            "Recent queries ({} of {})",
            history.len().min(RECENT),
            history.len()
        )));
        for h in history.iter().take(RECENT) {
            let sql: String = h.sql.split_whitespace().collect::<Vec<_>>().join(" ");
            let what = match (h.outcome, h.rows) {
                (Outcome::Ok, Some(rows)) => format!("{rows} rows"),
                (Outcome::Ok, None) => "ok".into(),
                (Outcome::Rejected, _) => "refused".into(),
                (Outcome::Failed, _) => "failed".into(),
            };
            let text = format!("{} · {} ms · {what} · {sql}", h.started_at, h.duration_ms);
            out.push(InfoLine::Run(
                h.outcome == Outcome::Ok,
                for_terminal(&text).into_owned(),
            ));
        }
    }
    out
}

fn last_test(test: Option<&TestRun>, now: Instant) -> String {
    let Some(t) = test else {
        return "not tested in this session (t tests it)".into();
    };
    let secs = now.saturating_duration_since(t.at).as_secs();
    let ago = match secs {
        0 => "just now".to_string(),
        1..60 => format!("{secs} s ago"),
        60..3600 => format!("{} min ago", secs / 60),
        _ => format!("{} h ago", secs / 3600),
    };
    match &t.result {
        Ok(latency) => format!("reachable · {} · {ago}", format_duration(*latency)),
        Err(e) => format!("unreachable · {e} · {ago}"),
    }
}
