//! The completion popup, under the word being completed (above it when the screen ends).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::editor::columns;
use super::fit;
use crate::core::sanitize::display_width;
use crate::tui::app::AppState;
use crate::tui::layout::inner;
use crate::tui::panes::Focus;

/// Rows of candidates shown at once.
const ROWS: usize = 8;

pub fn draw(app: &AppState, f: &mut Frame, editor: Rect) {
    let Some(c) = &app.completion else { return };
    if app.focus != Focus::Editor || app.modal.is_some() {
        return;
    }
    let text = app.editor.area(app.selected_id());
    let body = inner(editor);
    let (top, left) = text.scroll_offset();
    let Some(line) = text.lines().get(c.row) else {
        return;
    };
    let cols = columns(line, text.tab_length() as usize);
    let word_col = cols.get(c.start).copied().unwrap_or(0);
    let screen = f.area();
    let label_w = c
        .items
        .iter()
        .map(|i| display_width(&i.label))
        .max()
        .unwrap_or(0);
    let detail_w = c
        .items
        .iter()
        .map(|i| display_width(&i.detail).max(i.kind.label().len()))
        .max()
        .unwrap_or(0);
    let width = (label_w + detail_w + 5)
        .clamp(16, 60)
        .min(screen.width as usize) as u16;
    let rows = c.items.len().min(ROWS);
    let height = rows as u16 + 2;
    let cursor_y = body.y + (c.row as u16).saturating_sub(top);
    let below = cursor_y + 1;
    let y = if below + height <= screen.bottom() {
        below
    } else {
        cursor_y.saturating_sub(height)
    };
    let x = (body.x + (word_col as u16).saturating_sub(left))
        .saturating_sub(1)
        .min(screen.right().saturating_sub(width));
    let area = Rect::new(x, y, width, height.min(screen.height));
    let first = (c.selected + 1).saturating_sub(rows);
    let inner_w = width.saturating_sub(2) as usize;
    let t = &app.theme;
    let lines: Vec<Line> = c
        .items
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(i, item)| {
            let detail = if item.detail.is_empty() {
                item.kind.label()
            } else {
                item.detail.as_str()
            };
            let gap = inner_w.saturating_sub(display_width(&item.label) + display_width(detail));
            let line = fit(
                vec![
                    Span::raw(item.label.as_str()),
                    Span::raw(" ".repeat(gap.max(1))),
                    Span::styled(detail, t.dim),
                ],
                inner_w,
            );
            if i == c.selected {
                line.patch_style(t.selected)
            } else {
                line
            }
        })
        .collect();
    super::clear_popup(f, area);
    let block = Block::bordered().border_style(t.border_focused).title(
        Line::styled(format!(" {}/{} ", c.selected + 1, c.items.len()), t.dim).right_aligned(),
    );
    f.render_widget(Paragraph::new(lines).block(block), area);
}
