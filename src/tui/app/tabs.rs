//! Result tabs: each run opens or replaces one; a pinned tab is kept and the next run opens
//! a new one. The active tab's result lives in `AppState::results` (where every pane reads
//! it); the others wait here. At most [`MAX_TABS`] are held.
//!
//! A result with more rows than the limit keeps its statement open in the backend: moving
//! past its last row fetches the next page ([`Request::FetchMore`]). The rows of all tabs
//! together stay under the session cap ([`RowLimits::row_cap`]), so memory stays bounded;
//! a tab closed or replaced lets go of its statement ([`Request::Release`]).

use std::collections::VecDeque;

use std::time::Duration;

use crate::backend::protocol::{Request, RequestId};
use crate::core::Result;
use crate::core::sanitize::for_terminal;
use crate::core::splice::LineColumn;
use crate::core::value::Value;

use super::AppState;
use crate::tui::action::Motion;
use crate::tui::panes::results::{Paging, ResultsView};

/// The most tabs held; opening one more drops the oldest unpinned.
pub const MAX_TABS: usize = 8;
/// How many characters of the SQL a tab's name keeps.
const TITLE_CHARS: usize = 18;

#[derive(Debug, Default)]
pub struct Tab {
    /// The first words of its SQL, on one line.
    pub title: String,
    pub pinned: bool,
    /// The tab's result while another is active (the active one's is `AppState::results`).
    view: ResultsView,
}

impl Tab {
    /// The tab's result: `active` is what `AppState::results` holds for the active tab.
    pub fn view<'a>(&'a self, active: Option<&'a ResultsView>) -> &'a ResultsView {
        active.unwrap_or(&self.view)
    }
}

#[derive(Debug, Default)]
pub struct Tabs {
    pub list: Vec<Tab>,
    pub active: usize,
    /// Statements of a "run all" still to run, each into a tab of its own: the source's
    /// id, the SQL, where it starts in the editor.
    pub(super) queued: VecDeque<(String, String, LineColumn)>,
    pub limits: RowLimits,
}

/// How far results grow past their first page (`[results]` in the config file).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RowLimits {
    /// Rows fetched each time the cursor moves past the last one.
    pub page_rows: usize,
    /// The most rows all tabs hold together.
    pub row_cap: usize,
    /// How long a result's statement stays open with no page asked for.
    pub idle: Duration,
}

impl Default for RowLimits {
    fn default() -> Self {
        RowLimits {
            page_rows: 1000,
            row_cap: 100_000,
            idle: crate::backend::DEFAULT_IDLE,
        }
    }
}

impl Tabs {
    /// Whether a tab in the background waits for its query (its mark spins).
    pub fn any_running(&self) -> bool {
        self.list
            .iter()
            .any(|t| matches!(t.view, ResultsView::Running { .. }))
    }

    /// `up to 8 tabs, 100000 rows in all`, as the status bar names the caps.
    pub fn cap_note(&self) -> String {
        format!("up to {MAX_TABS} tabs, {} rows in all", self.limits.row_cap)
    }

    /// Rows held by the tabs in the background (the active one's are `AppState::results`).
    fn background_rows(&self) -> usize {
        self.list
            .iter()
            .map(|t| match &t.view {
                ResultsView::Done(g) => g.grid.rows(),
                _ => 0,
            })
            .sum()
    }
}

/// A tab's name: the SQL's first words on one line, cut with `…`.
pub fn title_of(sql: &str) -> String {
    let words: Vec<&str> = sql.split_whitespace().collect();
    let one = words.join(" ");
    if one.chars().count() <= TITLE_CHARS {
        one
    } else {
        let mut t: String = one.chars().take(TITLE_CHARS - 1).collect();
        t.push('…');
        t
    }
}

impl AppState {
    /// Where the next run goes: the active tab unless it is pinned (or `fresh` is asked),
    /// else a new tab. False when every tab is pinned and no more may open.
    pub(super) fn tab_for_run(&mut self, sql: &str, fresh: bool, out: &mut Vec<Request>) -> bool {
        let title = crate::core::sanitize::for_terminal(&title_of(sql)).into_owned();
        let replace =
            !self.tabs.list.is_empty() && !fresh && !self.tabs.list[self.tabs.active].pinned;
        if replace {
            self.tabs.list[self.tabs.active].title = title;
            release(&self.results, out);
            return true;
        }
        if self.tabs.list.len() >= MAX_TABS {
            let Some(oldest) = self
                .tabs
                .list
                .iter()
                .enumerate()
                .position(|(i, t)| !t.pinned && i != self.tabs.active)
            else {
                self.error(format!(
                    "{MAX_TABS} tabs held and pinned: unpin or close one first"
                ));
                return false;
            };
            let gone = self.tabs.list.remove(oldest);
            release(&gone.view, out);
            if oldest < self.tabs.active {
                self.tabs.active -= 1;
            }
        }
        if let Some(cur) = self.tabs.list.get_mut(self.tabs.active) {
            cur.view = std::mem::take(&mut self.results);
        }
        self.tabs.list.push(Tab {
            title,
            pinned: false,
            view: ResultsView::Idle,
        });
        self.tabs.active = self.tabs.list.len() - 1;
        true
    }

    /// Shows the next (`forward`) or previous tab.
    pub(super) fn step_tab(&mut self, forward: bool) {
        let n = self.tabs.list.len();
        if n < 2 {
            return;
        }
        let next = if forward {
            (self.tabs.active + 1) % n
        } else {
            (self.tabs.active + n - 1) % n
        };
        self.show_tab(next);
    }

    fn show_tab(&mut self, index: usize) {
        let old = self.tabs.active;
        self.tabs.list[old].view = std::mem::take(&mut self.results);
        self.results = std::mem::take(&mut self.tabs.list[index].view);
        self.tabs.active = index;
        let view = self.grid_viewport();
        if let ResultsView::Done(g) = &mut self.results {
            g.fit(view);
        }
    }

    pub(super) fn toggle_pin(&mut self) {
        if let Some(t) = self.tabs.list.get_mut(self.tabs.active) {
            t.pinned = !t.pinned;
            let note = if t.pinned {
                "tab pinned: the next run opens a new one"
            } else {
                "tab unpinned"
            };
            self.info(note);
        }
    }

    /// Closes the active tab (cancelling its query, if it runs).
    pub(super) fn close_tab(&mut self, out: &mut Vec<Request>) {
        if self.tabs.list.is_empty() {
            return;
        }
        if let ResultsView::Running { id, .. } = &self.results {
            out.push(Request::Cancel { id: *id });
        }
        release(&self.results, out);
        self.tabs.list.remove(self.tabs.active);
        self.results = ResultsView::Idle;
        if self.tabs.list.is_empty() {
            self.tabs.active = 0;
            return;
        }
        let index = self.tabs.active.min(self.tabs.list.len() - 1);
        self.results = std::mem::take(&mut self.tabs.list[index].view);
        self.tabs.active = index;
    }

    /// The index of a background tab whose query is `id`.
    pub(super) fn background_tab_running(
        &self,
        id: crate::backend::protocol::RequestId,
    ) -> Option<usize> {
        self.tabs.list.iter().enumerate().position(|(i, t)| {
            i != self.tabs.active && matches!(t.view, ResultsView::Running { id: r, .. } if r == id)
        })
    }

    /// Swaps a background tab's result with the active one (and back, called again), so an
    /// answer for it is handled as for the active tab without showing it.
    pub(super) fn swap_with(&mut self, index: usize) {
        std::mem::swap(&mut self.results, &mut self.tabs.list[index].view);
    }

    /// The cursor moved past the last row with `motion`: asks for the next page of a
    /// result whose statement is held, as much as the session cap leaves room for.
    pub(super) fn fetch_more(&mut self, motion: Motion, out: &mut Vec<Request>) {
        let held = self.tabs.background_rows();
        let limits = self.tabs.limits;
        let fetch = self.next_id();
        let ResultsView::Done(g) = &mut self.results else {
            return;
        };
        let Some(Paging::Held { query }) = g.paging.clone() else {
            return;
        };
        // Filtered or sorted, the last row shown is not the last one fetched.
        if g.filter.is_some() {
            return;
        }
        let room = limits.row_cap.saturating_sub(held + g.grid.rows());
        if room == 0 {
            g.paging = Some(Paging::Closed {
                why: format!("the session cap of {} rows is reached", limits.row_cap),
            });
            out.push(Request::Release { query });
            self.error(format!(
                "{} rows are held in all (the session cap): close a tab to read more",
                limits.row_cap
            ));
            return;
        }
        g.paging = Some(Paging::Fetching {
            query,
            fetch,
            then: motion,
        });
        out.push(Request::FetchMore {
            id: fetch,
            query,
            rows: limits.page_rows.min(room),
        });
    }

    /// The view (the active one, or a background tab's) whose result waits for page
    /// `fetch`, or holds query `query`'s statement.
    fn paged_view(
        &mut self,
        fetch: Option<RequestId>,
        query: RequestId,
    ) -> Option<&mut ResultsView> {
        let matches = |v: &ResultsView| match v {
            ResultsView::Done(g) => match &g.paging {
                Some(Paging::Fetching { fetch: f, .. }) if fetch.is_some() => Some(*f) == fetch,
                Some(Paging::Held { query: q } | Paging::Fetching { query: q, .. }) => {
                    fetch.is_none() && *q == query
                }
                _ => false,
            },
            _ => false,
        };
        if matches(&self.results) {
            return Some(&mut self.results);
        }
        self.tabs
            .list
            .iter_mut()
            .map(|t| &mut t.view)
            .find(|v| matches(v))
    }

    /// The answer to a page asked for: its rows added, or why not.
    pub(super) fn on_fetched(
        &mut self,
        fetch: RequestId,
        query: RequestId,
        result: Result<(Vec<Vec<Value>>, bool)>,
    ) {
        let view = self.grid_viewport();
        let active = matches!(&self.results, ResultsView::Done(g)
            if matches!(g.paging, Some(Paging::Fetching { fetch: f, .. }) if f == fetch));
        let Some(ResultsView::Done(g)) = self.paged_view(Some(fetch), query) else {
            return; // released or replaced meanwhile
        };
        match result {
            Ok((rows, more)) => {
                let n = rows.len();
                g.append_page(rows, more, view);
                if active {
                    self.info(format!("{n} more rows loaded"));
                }
            }
            Err(e) => {
                let why = if matches!(e, crate::core::Error::Cancelled) {
                    "fetching them was cancelled".to_string()
                } else {
                    "the statement is closed".to_string()
                };
                g.paging = Some(Paging::Closed { why });
                self.error(format!(
                    "cannot load more rows: {}",
                    for_terminal(e.detail())
                ));
            }
        }
    }

    /// The backend closed a held statement on its own.
    pub(super) fn on_released(&mut self, query: RequestId, why: &str) {
        if let Some(ResultsView::Done(g)) = self.paged_view(None, query) {
            g.paging = Some(Paging::Closed {
                why: for_terminal(why).into_owned(),
            });
        }
    }

    /// Esc while a page is on its way: stops it (and so the statement).
    pub(super) fn cancel_fetch(&mut self, out: &mut Vec<Request>) -> bool {
        let ResultsView::Done(g) = &mut self.results else {
            return false;
        };
        let Some(Paging::Fetching { query, .. }) = g.paging else {
            return false;
        };
        out.push(Request::Cancel { id: query });
        g.paging = Some(Paging::Closed {
            why: "fetching them was cancelled".into(),
        });
        self.info("fetch cancelled");
        true
    }

    /// Whether the active result waits for a page.
    pub fn fetching(&self) -> bool {
        matches!(&self.results, ResultsView::Done(g)
            if matches!(g.paging, Some(Paging::Fetching { .. })))
    }
}

/// Lets go of the statement a view's result holds, if it does.
fn release(view: &ResultsView, out: &mut Vec<Request>) {
    if let ResultsView::Done(g) = view
        && let Some(query) = g.held_query()
    {
        out.push(Request::Release { query });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_keep_the_first_words_on_one_line() {
        assert_eq!(title_of("SELECT *\n  FROM data"), "SELECT * FROM data");
        assert_eq!(
            title_of("SELECT id, name, total FROM orders WHERE x"),
            "SELECT id, name, …"
        );
    }
}
