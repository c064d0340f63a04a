//! The mouse: a click focuses the pane under the pointer and selects what it points at (a
//! source, a schema line, a grid cell; a column header also sorts by that column); the
//! wheel scrolls the pane under the pointer without moving the focus; the border right of
//! the sources and schema can be dragged to make them wider or narrower. Hits are computed
//! with the same layout and offsets the drawing uses, so what is clicked is what is seen.

use ratatui::layout::{Position, Rect};
use ratatui_textarea::{Input, Key};

use super::{AppState, Overlay};
use crate::backend::protocol::Request;
use crate::tui::action::Motion;
use crate::tui::layout::{self, grid_cells, inner};
use crate::tui::panes::Focus;
use crate::tui::panes::grid::SEPARATOR_WIDTH;
use crate::tui::panes::results::ResultsView;

/// Lines one notch of the wheel scrolls.
const WHEEL_LINES: usize = 3;

/// The line of a list body at screen row `y`, given the list's first visible line.
fn line_at(body: Rect, y: u16, offset: usize) -> Option<usize> {
    (y >= body.y && y < body.y + body.height).then(|| offset + (y - body.y) as usize)
}

impl AppState {
    pub(super) fn click(&mut self, x: u16, y: u16, out: &mut Vec<Request>) {
        // An open overlay or window has the keys; a click elsewhere must not act behind it.
        if self.overlay.is_some() || self.modal.is_some() {
            return;
        }
        let Some(a) = self.areas() else { return };
        if self.grab_border(x, y) {
            return;
        }
        let at = Position { x, y };
        if a.sources.contains(at) {
            self.set_focus(Focus::Sources);
            let mut body = inner(a.sources);
            // The list shows what the filter lets through; the filter's line is not a source.
            if self.sources.lines() > self.sources.items.len() {
                body.height = body.height.saturating_sub(1);
            }
            let visible = self.sources.visible();
            let at = visible
                .iter()
                .position(|i| *i == self.sources.selected)
                .unwrap_or(0);
            let offset = (at + 1).saturating_sub(body.height.max(1) as usize);
            if let Some(i) = line_at(body, y, offset).and_then(|l| visible.get(l).copied())
                && i != self.sources.selected
            {
                self.sources.selected = i;
                self.on_selection(out);
            }
        } else if a.schema.contains(at) {
            self.set_focus(Focus::Schema);
            let body = inner(a.schema);
            let height = body.height.max(1) as usize;
            if let Some(id) = self.selected_id().map(String::from)
                && let Some(tree) = self.schema.tree_mut(&id)
            {
                let offset = tree
                    .offset
                    .min(tree.cursor)
                    .max((tree.cursor + 1).saturating_sub(height));
                if let Some(i) = line_at(body, y, offset).filter(|i| *i < tree.rows().len()) {
                    tree.offset = offset;
                    tree.cursor = i;
                    tree.scroll_to_cursor(height);
                }
            }
        } else if a.editor.contains(at) {
            self.set_focus(Focus::Editor);
        } else if a.results.contains(at) {
            self.set_focus(Focus::Results);
            self.click_grid(a.results, at);
        }
    }

    /// Puts the cell cursor on the clicked cell; a click on a header sorts by its column.
    fn click_grid(&mut self, results: Rect, at: Position) {
        let view = self.grid_viewport();
        let ResultsView::Done(g) = &mut self.results else {
            return;
        };
        let cells = grid_cells(results);
        let height = cells.height.max(1) as usize;
        let width = cells.width as usize;
        let row_offset = g
            .row_offset
            .min(g.row)
            .max((g.row + 1).saturating_sub(height));
        let col_offset = g
            .grid
            .first_column_showing(g.col_offset.min(g.col), g.col, width);
        let column = g
            .grid
            .layout_columns(col_offset, width)
            .into_iter()
            .find(|&(_, cx, w)| {
                let left = cells.x + cx as u16;
                at.x >= left && (at.x as usize) < left as usize + w + SEPARATOR_WIDTH
            })
            .map(|(ci, _, _)| ci);
        let Some(col) = column else { return };
        g.row_offset = row_offset;
        g.col_offset = col_offset;
        if at.y + 1 == cells.y {
            g.col = col;
            g.toggle_sort(view);
            return;
        }
        if let Some(row) = line_at(cells, at.y, row_offset).filter(|r| *r < g.grid.rows()) {
            g.row = row;
            g.col = col;
            g.scroll_to_cursor(view);
        }
    }

    pub(super) fn wheel(&mut self, x: u16, y: u16, down: bool, out: &mut Vec<Request>) {
        let motion = if down { Motion::Down } else { Motion::Up };
        match &self.overlay {
            Some(Overlay::Help { .. } | Overlay::Detail(_)) => {
                for _ in 0..WHEEL_LINES {
                    self.scroll_overlay(motion);
                }
                return;
            }
            Some(Overlay::Plan(_) | Overlay::Source(_)) => {
                for _ in 0..WHEEL_LINES {
                    self.scroll_plan(motion);
                    self.scroll_source_info(motion);
                }
                return;
            }
            Some(Overlay::CopyMenu(_)) => return self.move_in_menu(motion),
            Some(Overlay::Export(_)) => return,
            None => {}
        }
        if self.modal.is_some() {
            self.move_in_window(motion);
            return;
        }
        let Some(a) = self.areas() else { return };
        let at = Position { x, y };
        let delta = if down {
            WHEEL_LINES as isize
        } else {
            -(WHEEL_LINES as isize)
        };
        if a.sources.contains(at) {
            let visible = self.sources.visible();
            let at = visible
                .iter()
                .position(|i| *i == self.sources.selected)
                .unwrap_or(0);
            let next = crate::tui::panes::move_in_list(at, visible.len(), motion, 1);
            if let Some(&i) = visible.get(next)
                && i != self.sources.selected
            {
                self.sources.selected = i;
                self.on_selection(out);
            }
        } else if a.schema.contains(at) {
            let height = inner(a.schema).height.max(1) as usize;
            if let Some(id) = self.selected_id().map(String::from)
                && let Some(tree) = self.schema.tree_mut(&id)
            {
                let rows = tree.rows().len();
                let max = rows.saturating_sub(height);
                tree.offset = tree.offset.saturating_add_signed(delta).min(max);
                let last = (tree.offset + height).min(rows).saturating_sub(1);
                tree.cursor = tree.cursor.clamp(tree.offset, last.max(tree.offset));
            }
        } else if a.editor.contains(at) {
            let key = if down {
                Key::MouseScrollDown
            } else {
                Key::MouseScrollUp
            };
            let id = self.selected_id().map(String::from);
            for _ in 0..WHEEL_LINES {
                self.editor.input(
                    id.as_deref(),
                    Input {
                        key,
                        ..Input::default()
                    },
                );
            }
        } else if a.results.contains(at) {
            let view = layout::grid_viewport(a.results);
            if let ResultsView::Done(g) = &mut self.results {
                g.scroll_rows(delta, view);
            }
        }
    }
}
