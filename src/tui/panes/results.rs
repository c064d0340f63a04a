//! The results pane: what the last query produced (a grid, an error, a spinner while it
//! runs) and the cell cursor.

use std::time::{Duration, Instant};

use crate::backend::protocol::RequestId;
use crate::core::Error;
use crate::core::progress::Progress;
use crate::core::sanitize::{for_terminal, for_terminal_multiline};
use ratatui_textarea::Input;

use super::line_input::LineInput;

use super::grid::{Grid, SortDir};
use crate::tui::action::Motion;

#[derive(Debug, Default)]
pub enum ResultsView {
    /// Nothing has run yet.
    #[default]
    Idle,
    Running {
        id: RequestId,
        /// The source's label (already safe for the terminal).
        source: String,
        limit: usize,
        started: Instant,
        progress: Option<Progress>,
    },
    Done(Box<GridView>),
    Failed {
        source: String,
        heading: &'static str,
        /// The message, safe for the terminal, line breaks kept.
        message: String,
    },
    Cancelled {
        source: String,
    },
}

/// A result on screen with its cursor and scroll position.
#[derive(Debug)]
pub struct GridView {
    pub grid: Grid,
    pub source: String,
    pub limit: usize,
    pub duration: Duration,
    pub row: usize,
    pub col: usize,
    pub row_offset: usize,
    pub col_offset: usize,
    /// `/`: the rows shown are those holding a text.
    pub filter: Option<RowFilter>,
    /// Whether more rows can be fetched (`None`: every row is here, or the result cannot
    /// say; `grid.result.truncated` tells those apart).
    pub paging: Option<Paging>,
    /// Rows were fetched past the first page.
    pub fetched_more: bool,
    /// The source and SQL the result came from, to run again for an export of every row.
    pub origin: Option<(String, String)>,
}

/// Where the rows past the last fetched one stand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Paging {
    /// The backend holds the statement of query `query` open: moving past the last row
    /// fetches the next page.
    Held { query: RequestId },
    /// The next page (request `fetch`) is on its way; `then` is the motion to make once it
    /// is here.
    Fetching {
        query: RequestId,
        fetch: RequestId,
        then: Motion,
    },
    /// More rows exist, but the statement is closed: why (idle, the session cap, …).
    Closed { why: String },
}

/// A filter over a result's rows, applied as it is typed.
#[derive(Debug)]
pub struct RowFilter {
    pub input: LineInput,
    /// Keys go into the filter (until Enter keeps it or Esc clears it).
    pub typing: bool,
    /// Every row, as before the filter, to filter again from.
    full: Grid,
}

/// How many rows and terminal columns of cells the pane shows.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Viewport {
    pub rows: usize,
    pub width: usize,
}

impl GridView {
    /// A new result: the cursor on its first cell.
    pub fn new(grid: Grid, source: String, limit: usize, duration: Duration) -> GridView {
        GridView {
            grid,
            source,
            limit,
            duration,
            row: 0,
            col: 0,
            row_offset: 0,
            col_offset: 0,
            filter: None,
            paging: None,
            fetched_more: false,
            origin: None,
        }
    }

    /// The query whose statement is held for this result, if it is.
    pub fn held_query(&self) -> Option<RequestId> {
        match &self.paging {
            Some(Paging::Held { query } | Paging::Fetching { query, .. }) => Some(*query),
            _ => None,
        }
    }

    /// The next page came: its rows go at the end, and the motion that asked for them is
    /// made.
    pub fn append_page(
        &mut self,
        rows: Vec<Vec<crate::core::value::Value>>,
        more: bool,
        view: Viewport,
    ) {
        let then = match self.paging.take() {
            Some(Paging::Fetching { query, then, .. }) => {
                if more {
                    self.paging = Some(Paging::Held { query });
                }
                Some(then)
            }
            other => {
                self.paging = other;
                None
            }
        };
        self.grid.append(rows);
        self.grid.result.truncated = more;
        self.fetched_more = true;
        if let Some(motion) = then {
            self.move_cursor(motion, view);
        }
    }

    /// `/`: keys type a filter over the rows from now on.
    pub fn start_filter(&mut self) {
        match &mut self.filter {
            Some(f) => f.typing = true,
            None => {
                let mut input = LineInput::new("");
                input.set_focused(true);
                self.filter = Some(RowFilter {
                    input,
                    typing: true,
                    full: self.grid.clone(),
                });
            }
        }
    }

    /// A key for the filter; the rows shown follow the text.
    pub fn filter_input(&mut self, input: Input, view: Viewport) {
        if let Some(f) = &mut self.filter
            && f.input.input(input)
        {
            self.refilter(view);
        }
    }

    pub fn filter_paste(&mut self, text: &str, view: Viewport) {
        if let Some(f) = &mut self.filter {
            f.input.paste(text);
            self.refilter(view);
        }
    }

    /// Enter: the filter stays, keys move the cursor again.
    pub fn keep_filter(&mut self) {
        if let Some(f) = &mut self.filter {
            f.typing = false;
            f.input.set_focused(false);
        }
    }

    /// Esc: every row shows again (in the sort chosen meanwhile).
    pub fn clear_filter(&mut self, view: Viewport) {
        if let Some(f) = self.filter.take() {
            let sort = self.grid.sort;
            self.grid = f.full;
            self.grid.sort(sort);
            self.row = 0;
            self.row_offset = 0;
            self.scroll_to_cursor(view);
        }
    }

    fn refilter(&mut self, view: Viewport) {
        let Some(f) = &self.filter else { return };
        let mut grid = f.full.clone();
        let text = f.input.text();
        if !text.is_empty() {
            let rows = grid.matching(text);
            grid.keep(&rows);
        }
        grid.sort(self.grid.sort);
        self.grid = grid;
        self.row = 0;
        self.row_offset = 0;
        self.scroll_to_cursor(view);
    }

    /// Whether keys go into the filter.
    pub fn filtering(&self) -> bool {
        self.filter.as_ref().is_some_and(|f| f.typing)
    }

    /// `100 rows · more exist · limit 100 · 12 ms · orders`: what matters most first, as a
    /// narrow pane cuts from the end.
    pub fn summary(&self) -> String {
        let n = self.grid.rows();
        let mut rows = if n == 1 {
            "1 row".to_string()
        } else {
            format!("{n} rows")
        };
        if let Some(f) = &self.filter {
            let cursor = if f.typing { "▏" } else { "" };
            rows = format!(
                "/{}{cursor} · {n} of {}",
                for_terminal(f.input.text()),
                f.full.rows()
            );
        }
        if self.filter.is_none() && self.fetched_more {
            rows.push_str(" loaded");
        }
        let more = match &self.paging {
            Some(Paging::Held { .. }) => " · more exist (↓)".into(),
            Some(Paging::Fetching { .. }) => " · fetching more…".into(),
            Some(Paging::Closed { why }) => format!(" · more exist · {why}"),
            None if self.grid.result.truncated => {
                format!(" · more exist · limit {}", self.limit)
            }
            None if self.fetched_more => " · all".into(),
            None => String::new(),
        };
        format!(
            "{rows}{more} · {} · {}",
            format_duration(self.duration),
            self.source
        )
    }

    pub fn move_cursor(&mut self, motion: Motion, view: Viewport) {
        let rows = self.grid.rows();
        let cols = self.grid.columns.len();
        if rows == 0 || cols == 0 {
            return;
        }
        let page = view.rows.max(1);
        match motion {
            Motion::Up => self.row = self.row.saturating_sub(1),
            Motion::Down => self.row = (self.row + 1).min(rows - 1),
            Motion::PageUp => self.row = self.row.saturating_sub(page),
            Motion::PageDown => self.row = (self.row + page).min(rows - 1),
            Motion::Left => self.col = self.col.saturating_sub(1),
            Motion::Right => self.col = (self.col + 1).min(cols - 1),
            Motion::Home => self.col = 0,
            Motion::End => self.col = cols - 1,
            Motion::Top => self.row = 0,
            Motion::Bottom => self.row = rows - 1,
        }
        self.scroll_to_cursor(view);
    }

    /// Sorts by the cursor's column: ascending, then descending, then as the rows came.
    /// The cursor stays on the same row of data, wherever the sort puts it.
    pub fn toggle_sort(&mut self, view: Viewport) {
        if self.col >= self.grid.columns.len() {
            return;
        }
        let next = match self.grid.sort {
            Some((c, SortDir::Asc)) if c == self.col => Some((c, SortDir::Desc)),
            Some((c, SortDir::Desc)) if c == self.col => None,
            _ => Some((self.col, SortDir::Asc)),
        };
        let at = self.grid.arrival_of(self.row);
        self.grid.sort(next);
        if let Some(row) = at.and_then(|a| self.grid.shown_position(a)) {
            self.row = row;
        }
        self.scroll_to_cursor(view);
    }

    /// `sorted by total ↓ (shown rows only)`, while a sort is on.
    pub fn sort_note(&self) -> Option<String> {
        let (col, dir) = self.grid.sort?;
        let name = &self.grid.columns.get(col)?.header;
        Some(format!(
            "sorted by {name} {} (shown rows only)",
            dir.arrow()
        ))
    }

    /// Scrolls the rows by `delta` without moving the cursor, unless it would leave the
    /// view (the mouse wheel).
    pub fn scroll_rows(&mut self, delta: isize, view: Viewport) {
        let h = view.rows.max(1);
        let max = self.grid.rows().saturating_sub(h);
        self.row_offset = self.row_offset.saturating_add_signed(delta).min(max);
        let last = (self.row_offset + h)
            .min(self.grid.rows())
            .saturating_sub(1);
        self.row = self.row.clamp(self.row_offset, last.max(self.row_offset));
    }

    /// The pane changed size: no scroll position may leave rows or columns empty that the
    /// result could fill (a terminal grown after scrolling right or down), then the cursor
    /// is kept in view.
    pub fn fit(&mut self, view: Viewport) {
        let h = view.rows.max(1);
        self.row_offset = self.row_offset.min(self.grid.rows().saturating_sub(h));
        self.col_offset = self.grid.fill_from(self.col_offset, view.width);
        self.scroll_to_cursor(view);
    }

    /// Moves the view as little as needed to show the cursor's cell.
    pub fn scroll_to_cursor(&mut self, view: Viewport) {
        let h = view.rows.max(1);
        if self.row < self.row_offset {
            self.row_offset = self.row;
        } else if self.row >= self.row_offset + h {
            self.row_offset = self.row + 1 - h;
        }
        self.col_offset = self
            .grid
            .first_column_showing(self.col_offset, self.col, view.width);
    }
}

/// `850 µs`, `12 ms`, `3.4 s`.
pub fn format_duration(d: Duration) -> String {
    let us = d.as_micros();
    if us < 1000 {
        format!("{us} µs")
    } else if us < 10_000_000 {
        let ms = d.as_millis();
        if ms < 1000 {
            format!("{ms} ms")
        } else {
            format!("{:.1} s", d.as_secs_f64())
        }
    } else {
        format!("{} s", d.as_secs())
    }
}

/// A heading and the message a person reads for a failed request.
pub fn describe_error(e: &Error) -> (&'static str, String) {
    let heading = match e {
        Error::Rejected(_) => "SQL rejected",
        Error::Invalid(_) => "Invalid request",
        Error::NotFound(_) => "Source not found",
        Error::Conflict(_) => "Conflict",
        Error::Unreachable(_) => "Source unreachable",
        Error::QueryFailed(_) | Error::QueryFailedAt { .. } | Error::Cancelled => "Query failed",
        Error::Internal(_) => "tdb failed",
        Error::AuditUnwritable(_) => "Audit log unavailable",
        Error::Interrupted { .. } => "Interrupted",
    };
    (heading, for_terminal_multiline(e.detail()).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(Duration::from_micros(850)), "850 µs");
        assert_eq!(format_duration(Duration::from_millis(12)), "12 ms");
        assert_eq!(format_duration(Duration::from_millis(3400)), "3.4 s");
        assert_eq!(format_duration(Duration::from_secs(75)), "75 s");
    }

    #[test]
    fn errors_get_a_heading_and_safe_text() {
        let (h, m) = describe_error(&Error::rejected("Only SELECT statements are allowed"));
        assert_eq!(h, "SQL rejected");
        assert!(m.contains("Only SELECT"));
        let (h, m) = describe_error(&Error::QueryFailed("bad \u{1b}[2J\nline".into()));
        assert_eq!(h, "Query failed");
        assert_eq!(m, "bad ␛[2J\nline");
    }
}
