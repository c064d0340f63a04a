//! The query history of each source as the UI holds it (read from the registry, newest
//! first), stepping through it from the editor like a shell's Up arrow, and the search
//! popup that finds an old query by any part of it.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use crate::core::history::HistoryEntry;
use crate::tui::action::Motion;
use crate::tui::fuzzy::{self, Rank};

use super::line_input::LineInput;
use super::move_in_list;

/// Histories by source id, newest run first.
#[derive(Debug, Default)]
pub struct HistoryPane {
    by_source: HashMap<String, Vec<HistoryEntry>>,
}

impl HistoryPane {
    pub fn set(&mut self, source_id: &str, entries: Vec<HistoryEntry>) {
        self.by_source.insert(source_id.to_string(), entries);
    }

    pub fn get(&self, source_id: &str) -> &[HistoryEntry] {
        self.by_source.get(source_id).map_or(&[], Vec::as_slice)
    }

    pub fn is_loaded(&self, source_id: &str) -> bool {
        self.by_source.contains_key(source_id)
    }

    pub fn forget(&mut self, source_id: &str) {
        self.by_source.remove(source_id);
    }
}

/// Where stepping through a source's history stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recall {
    pub source_id: String,
    /// The distinct query shown now (0 = the newest).
    pub index: usize,
    /// What the editor held before stepping began, given back when stepping past the newest.
    pub stash: String,
}

/// Each query once, newest run first: stepping and searching skip repeats.
pub fn distinct(entries: &[HistoryEntry]) -> Vec<&HistoryEntry> {
    let mut out: Vec<&HistoryEntry> = Vec::new();
    for e in entries {
        if !out.iter().any(|o| o.sql == e.sql) {
            out.push(e);
        }
    }
    out
}

/// One step older (`older`) or newer through `entries` from `recall`; returns where
/// stepping stands now and the text the editor should hold (`None`: nothing to change).
pub fn step(
    entries: &[HistoryEntry],
    source_id: &str,
    current: &str,
    recall: Option<Recall>,
    older: bool,
) -> (Option<Recall>, Option<String>) {
    let queries: Vec<&str> = distinct(entries).iter().map(|e| e.sql.as_str()).collect();
    let recall = recall.filter(|r| r.source_id == source_id);
    match (recall, older) {
        (None, true) => {
            // The newest query, unless it is what the editor holds already.
            let index = usize::from(queries.first() == Some(&current));
            match queries.get(index) {
                Some(q) => (
                    Some(Recall {
                        source_id: source_id.to_string(),
                        index,
                        stash: current.to_string(),
                    }),
                    Some((*q).to_string()),
                ),
                None => (None, None),
            }
        }
        (None, false) => (None, None),
        (Some(r), true) => match queries.get(r.index + 1) {
            Some(q) => (
                Some(Recall {
                    index: r.index + 1,
                    ..r
                }),
                Some((*q).to_string()),
            ),
            None => (Some(r), None),
        },
        (Some(r), false) if r.index == 0 => (None, Some(r.stash)),
        (Some(r), false) => {
            let index = r.index - 1;
            let text = queries.get(index).map(|q| (*q).to_string());
            (Some(Recall { index, ..r }), text)
        }
    }
}

/// The search popup over one source's history.
#[derive(Debug)]
pub struct HistorySearch {
    pub source_id: String,
    pub query: LineInput,
    /// Indices into the source's history of the distinct queries that match, best first.
    pub matches: Vec<usize>,
    pub selected: usize,
    /// The clock ages are shown against, read when the popup opened.
    pub opened_at: DateTime<Utc>,
}

impl HistorySearch {
    pub fn new(source_id: &str, opened_at: DateTime<Utc>) -> HistorySearch {
        let mut query = LineInput::new("");
        query.set_placeholder("type to search this source's queries");
        query.set_focused(true);
        HistorySearch {
            source_id: source_id.to_string(),
            query,
            matches: Vec::new(),
            selected: 0,
            opened_at,
        }
    }

    /// Matches the typed text against every distinct query; with nothing typed, newest first.
    pub fn refilter(&mut self, entries: &[HistoryEntry]) {
        let needle = self.query.text().trim().to_string();
        let mut ranked: Vec<(Rank, usize)> = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            if entries[..i].iter().any(|o| o.sql == e.sql) {
                continue;
            }
            if needle.is_empty() {
                ranked.push((Rank::Prefix, i));
            } else if let Some(r) = fuzzy::rank(&needle, &e.sql) {
                ranked.push((r, i));
            }
        }
        ranked.sort_by(fuzzy::by_rank);
        self.matches = ranked.into_iter().map(|(_, i)| i).collect();
        self.selected = self.selected.min(self.matches.len().saturating_sub(1));
    }

    pub fn move_cursor(&mut self, motion: Motion, page: usize) {
        self.selected = move_in_list(self.selected, self.matches.len(), motion, page);
    }

    pub fn selected_entry<'a>(&self, entries: &'a [HistoryEntry]) -> Option<&'a HistoryEntry> {
        entries.get(*self.matches.get(self.selected)?)
    }
}

/// How long ago `started_at` (RFC 3339) was: `12s`, `3m`, `5h`, `2d`.
pub fn age(started_at: &str, now: DateTime<Utc>) -> String {
    let Ok(then) = DateTime::parse_from_rfc3339(started_at) else {
        return "?".into();
    };
    let secs = (now - then.with_timezone(&Utc)).num_seconds().max(0);
    match secs {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::history::Outcome;

    fn e(sql: &str) -> HistoryEntry {
        HistoryEntry {
            source_id: "s".into(),
            sql: sql.into(),
            started_at: "2026-05-22T09:00:00Z".into(),
            duration_ms: 1,
            rows: Some(1),
            truncated: false,
            outcome: Outcome::Ok,
            error: None,
        }
    }

    #[test]
    fn stepping_goes_back_and_returns_what_was_typed() {
        let h = [e("SELECT 3"), e("SELECT 2"), e("SELECT 3"), e("SELECT 1")];
        let (r, t) = step(&h, "s", "typing", None, true);
        assert_eq!(t.as_deref(), Some("SELECT 3"));
        let (r, t) = step(&h, "s", "SELECT 3", r, true);
        assert_eq!(t.as_deref(), Some("SELECT 2"));
        let (r, t) = step(&h, "s", "SELECT 2", r, true);
        assert_eq!(t.as_deref(), Some("SELECT 1"), "repeats are skipped");
        let (r, t) = step(&h, "s", "SELECT 1", r, true);
        assert_eq!(t, None, "the oldest stays");
        let (r, _) = step(&h, "s", "SELECT 1", r, false);
        let (r, t) = step(&h, "s", "SELECT 2", r, false);
        assert_eq!(t.as_deref(), Some("SELECT 3"));
        let (r, t) = step(&h, "s", "SELECT 3", r, false);
        assert_eq!((r, t.as_deref()), (None, Some("typing")));
        // Stepping back from the newest query skips it.
        let (_, t) = step(&h, "s", "SELECT 3", None, true);
        assert_eq!(t.as_deref(), Some("SELECT 2"));
        assert_eq!(step(&[], "s", "x", None, true), (None, None));
    }

    #[test]
    fn search_ranks_and_skips_repeats() {
        let h = [
            e("SELECT name FROM data"),
            e("SELECT count(*) FROM data"),
            e("SELECT name FROM data"),
            e("SELECT id, name FROM data WHERE id > 3"),
        ];
        let mut s = HistorySearch::new("s", Utc::now());
        s.refilter(&h);
        assert_eq!(s.matches, [0, 1, 3]);
        s.query.set_text("name");
        s.refilter(&h);
        assert_eq!(s.matches, [0, 3]);
        s.query.set_text("cnt");
        s.refilter(&h);
        assert_eq!(s.matches[0], 1, "count(*) has the letters closest together");
    }

    #[test]
    fn ages_read_short() {
        let now = DateTime::parse_from_rfc3339("2026-05-22T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(age("2026-05-22T11:59:30Z", now), "30s");
        assert_eq!(age("2026-05-22T11:57:00.123Z", now), "2m");
        assert_eq!(age("2026-05-22T07:00:00Z", now), "5h");
        assert_eq!(age("2026-05-19T12:00:00Z", now), "3d");
        assert_eq!(age("yesterday", now), "?");
    }
}
