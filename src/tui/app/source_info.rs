//! `i` in the sources: the selected source's detail view. Its history comes from the
//! registry (read once, then kept fresh after each run), its cache size from the backend.

use super::{AppState, Overlay};
use crate::backend::protocol::{Request, RequestId};
use crate::tui::action::Motion;
use crate::tui::layout;
use crate::tui::panes::source_info::{InfoLine, SourceInfo, TestRun, info_lines};

/// Tests of one source the session remembers for its detail view.
const KEEP_TESTS: usize = 100;

impl AppState {
    pub(super) fn open_source_info(&mut self, out: &mut Vec<Request>) {
        let Some(source_id) = self.selected_id().map(String::from) else {
            self.error("no source selected");
            return;
        };
        if !self.history.is_loaded(&source_id) {
            self.request_history(&source_id, out);
        }
        let id = self.next_id();
        out.push(Request::CacheSize {
            id,
            source_id: source_id.clone(),
        });
        self.overlay = Some(Overlay::Source(Box::new(SourceInfo {
            source_id,
            scroll: 0,
            cache: None,
            cache_request: id,
        })));
    }

    pub(super) fn cache_size(&mut self, id: RequestId, bytes: u64) {
        if let Some(Overlay::Source(info)) = &mut self.overlay
            && info.cache_request == id
        {
            info.cache = Some(bytes);
        }
    }

    /// A test ended: remembered for the detail view.
    pub(super) fn remember_test(
        &mut self,
        source_id: &str,
        result: Result<std::time::Duration, String>,
    ) {
        let runs = self.sources.tests.entry(source_id.to_string()).or_default();
        runs.push(TestRun {
            at: self.now,
            result,
        });
        if runs.len() > KEEP_TESTS {
            runs.remove(0);
        }
    }

    /// The lines of the open source detail view, as drawn.
    pub fn source_info_lines(&self, info: &SourceInfo) -> Vec<InfoLine> {
        let Some(rec) = self.sources.record(&info.source_id) else {
            return vec![InfoLine::Heading("this source is gone".into())];
        };
        let tests = self
            .sources
            .tests
            .get(&info.source_id)
            .map_or(&[][..], Vec::as_slice);
        info_lines(
            rec,
            self.status_of(&rec.id, rec.status),
            tests,
            self.history.get(&info.source_id),
            info.cache,
            self.now,
        )
    }

    /// Scrolls the source detail view, stopping where its last line is at the bottom.
    pub(super) fn scroll_source_info(&mut self, motion: Motion) -> bool {
        let page = layout::inner(layout::overlay(self.size)).height.max(1) as usize;
        let rows = match &self.overlay {
            Some(Overlay::Source(info)) => self.source_info_lines(info).len(),
            _ => return false,
        };
        let Some(Overlay::Source(info)) = &mut self.overlay else {
            return false;
        };
        let max = rows.saturating_sub(page);
        let at = info.scroll as usize;
        let next = match motion {
            Motion::Up => at.saturating_sub(1),
            Motion::Down => at + 1,
            Motion::PageUp => at.saturating_sub(page),
            Motion::PageDown => at + page,
            Motion::Home | Motion::Top => 0,
            Motion::End | Motion::Bottom => max,
            Motion::Left | Motion::Right => at,
        };
        info.scroll = next.min(max).try_into().unwrap_or(u16::MAX);
        true
    }
}
