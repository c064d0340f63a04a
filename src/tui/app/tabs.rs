//! Result tabs: each run opens or replaces one; a pinned tab is kept and the next run opens
//! a new one. The active tab's result lives in `AppState::results` (where every pane reads
//! it); the others wait here. At most [`MAX_TABS`] are held, each at most the row limit
//! (1,000), so memory stays bounded.

use std::collections::VecDeque;

use crate::backend::protocol::Request;
use crate::core::guard::MAX_LIMIT;
use crate::core::splice::LineColumn;

use super::AppState;
use crate::tui::panes::results::ResultsView;

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
}

impl Tabs {
    /// Whether a tab in the background waits for its query (its mark spins).
    pub fn any_running(&self) -> bool {
        self.list
            .iter()
            .any(|t| matches!(t.view, ResultsView::Running { .. }))
    }

    /// `up to 8 tabs of 1,000 rows`, as the status bar names the cap.
    pub fn cap_note() -> String {
        format!("up to {MAX_TABS} tabs of {MAX_LIMIT} rows")
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
    pub(super) fn tab_for_run(&mut self, sql: &str, fresh: bool) -> bool {
        let title = crate::core::sanitize::for_terminal(&title_of(sql)).into_owned();
        let replace =
            !self.tabs.list.is_empty() && !fresh && !self.tabs.list[self.tabs.active].pinned;
        if replace {
            self.tabs.list[self.tabs.active].title = title;
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
            self.tabs.list.remove(oldest);
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
