//! Finding and reading names: the schema pane's `/` search and its `n`/`N`, the same keys
//! in the cell detail, the left column's width (keys and a drag of its border) and the
//! schema's sideways scroll for names longer than the pane.

use ratatui_textarea::Input;

use super::{AppState, Overlay};
use crate::tui::layout;
use crate::tui::panes::Focus;
use crate::tui::panes::schema::STEP;
use crate::tui::wrap::hard_wrap;

impl AppState {
    /// Lines the schema pane shows.
    fn schema_height(&self) -> usize {
        self.areas()
            .map(|a| layout::inner(a.schema).height.max(1) as usize)
            .unwrap_or(1)
    }

    pub(super) fn start_name_search(&mut self) {
        self.schema.start_search();
    }

    /// A key typed into the schema search: the cursor goes to the first match from where it
    /// is, so typing on narrows to the same name.
    pub(super) fn name_search_input(&mut self, input: Input) {
        let Some(search) = &mut self.schema.search else {
            return;
        };
        if !search.input.input(input) {
            return;
        }
        self.find_name(true, true);
    }

    pub(super) fn name_search_paste(&mut self, text: &str) {
        if let Some(search) = &mut self.schema.search {
            search.input.paste(text);
            self.find_name(true, true);
        }
    }

    /// `n`/`N`: the next or previous match, in the schema pane or in the cell detail.
    pub(super) fn step_match(&mut self, forward: bool) {
        if let Some(Overlay::Detail(_)) = &self.overlay {
            self.step_detail_match(forward);
            return;
        }
        if self.focus != Focus::Schema {
            return;
        }
        if self.schema.needle().is_empty() {
            self.info("nothing to find: type / and a name first");
            return;
        }
        self.find_name(forward, false);
    }

    fn find_name(&mut self, forward: bool, here: bool) {
        let needle = self.schema.needle().to_string();
        if needle.is_empty() {
            return;
        }
        let height = self.schema_height();
        let found = self
            .selected_id()
            .map(String::from)
            .and_then(|id| self.schema.tree_mut(&id))
            .is_some_and(|tree| tree.step_to_match(&needle, forward, here, height));
        if !found {
            self.error(format!(
                "no table or column name holds \"{}\"",
                crate::core::sanitize::for_terminal(&needle)
            ));
        }
    }

    /// The cell detail goes to the next (or previous) line holding its search: on top, or
    /// as near it as scrolling goes.
    fn step_detail_match(&mut self, forward: bool) {
        let body = layout::inner(layout::overlay(self.size));
        let Some(Overlay::Detail(d)) = &mut self.overlay else {
            return;
        };
        let (Some(text), false) = (&d.text, d.search.is_empty()) else {
            return;
        };
        let needle = d.search.to_lowercase();
        let wrapped = hard_wrap(text, body.width as usize);
        let lines: Vec<usize> = wrapped
            .iter()
            .enumerate()
            .filter(|(_, l)| l.to_lowercase().contains(&needle))
            .map(|(i, _)| i)
            .collect();
        let next = match (d.found, forward) {
            (None, true) => lines.iter().find(|l| **l >= d.scroll as usize),
            (Some(at), true) => lines.iter().find(|l| **l > at),
            (None, false) => lines.iter().rev().find(|l| **l < d.scroll as usize),
            (Some(at), false) => lines.iter().rev().find(|l| **l < at),
        };
        let wrap_around = if forward { lines.first() } else { lines.last() };
        let Some(&line) = next.or(wrap_around) else {
            return;
        };
        let max = wrapped.len().saturating_sub(body.height.max(1) as usize);
        d.found = Some(line);
        d.scroll = line.min(max).try_into().unwrap_or(u16::MAX);
    }

    /// `<` / `>`: the left column narrower or wider by a few columns.
    pub(super) fn step_width(&mut self, wider: bool) {
        let now = layout::left_width(self.size.width, self.schema.width);
        let next = if wider {
            now.saturating_add(STEP)
        } else {
            now.saturating_sub(STEP)
        };
        self.schema.set_width(next, self.size.width);
    }

    /// Shift-← / Shift-→: the schema's lines scrolled sideways, never past the longest.
    pub(super) fn scroll_sideways(&mut self, right: bool) {
        let width = self
            .areas()
            .map(|a| layout::inner(a.schema).width)
            .unwrap_or(0);
        let longest = self
            .selected_id()
            .and_then(|id| self.schema.get(id))
            .and_then(|e| e.tree.as_ref())
            .map_or(0, |t| t.widest_line());
        let max = longest.saturating_sub(width);
        self.schema.hscroll = if right {
            self.schema.hscroll.saturating_add(STEP).min(max)
        } else {
            self.schema.hscroll.saturating_sub(STEP)
        };
    }

    /// A press on the border between the left column and the rest (above the status bar)
    /// starts a drag.
    pub(super) fn grab_border(&mut self, x: u16, y: u16) -> bool {
        let left = layout::left_width(self.size.width, self.schema.width);
        self.schema.resizing = (x + 1 == left || x == left) && y + 1 < self.size.height;
        self.schema.resizing
    }

    /// The border follows the pointer while the button is held.
    pub(super) fn drag(&mut self, x: u16) {
        if self.schema.resizing {
            self.schema.set_width(x.saturating_add(1), self.size.width);
        }
    }
}
