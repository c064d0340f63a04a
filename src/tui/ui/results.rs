//! The results pane: the grid (only the visible cells are laid out), a spinner while a
//! query runs, an error, or a welcome when there is nothing to query.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{fit, pane, progress_text, spinner};
use crate::core::sanitize::{display_width, truncate_to_width};
use crate::tui::app::AppState;
use crate::tui::keymap::Scope;
use crate::tui::layout::{grid_cells, inner};
use crate::tui::panes::Focus;
use crate::tui::panes::grid::CellKind;
use crate::tui::panes::results::{GridView, ResultsView, format_duration};

/// The result tabs on the pane's bottom edge, once there is more than one (or one is
/// pinned): `1 SELECT * FROM data · 100 · 12 ms` each, the active one highlighted, a pin
/// mark on pinned ones; as many as fit on the edge, around the active one.
fn with_tabs<'a>(app: &AppState, block: Block<'a>, width: u16) -> Block<'a> {
    let tabs = &app.tabs;
    if tabs.list.len() < 2 && !tabs.list.iter().any(|t| t.pinned) {
        return block;
    }
    let t = &app.theme;
    let mut spans = Vec::new();
    for (i, tab) in tabs.list.iter().enumerate() {
        let active = i == tabs.active;
        let view = tab.view(active.then_some(&app.results));
        let what = match view {
            ResultsView::Done(g) => {
                format!(" · {} · {}", g.grid.rows(), format_duration(g.duration))
            }
            ResultsView::Running { .. } => format!(" · {}", spinner(app)),
            ResultsView::Failed { .. } => " · ✗".to_string(),
            ResultsView::Cancelled { .. } => " · cancelled".to_string(),
            ResultsView::Idle => String::new(),
        };
        let pin = if tab.pinned { "⚲ " } else { "" };
        let text = format!(" {pin}{} {}{what} ", i + 1, tab.title);
        spans.push(Span::styled(text, if active { t.selected } else { t.dim }));
    }
    let room = (width as usize).saturating_sub(4);
    // Drop tabs from the far side of the active one until the rest fit.
    let mut first = 0;
    let mut last = spans.len();
    let w = |a: usize, b: usize| {
        spans[a..b]
            .iter()
            .map(|s| display_width(&s.content))
            .sum::<usize>()
    };
    while w(first, last) > room && last - first > 1 {
        if tabs.active - first >= last - 1 - tabs.active {
            first += 1;
        } else {
            last -= 1;
        }
    }
    let kept: Vec<Span> = spans.drain(first..last).collect();
    block.title_bottom(fit(kept, room))
}

pub fn draw(app: &AppState, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let body = inner(area);
    match &app.results {
        ResultsView::Done(g) => {
            let avail = area.width.saturating_sub(2) as usize;
            let title = fit(vec![Span::raw(format!(" {} ", g.summary()))], avail);
            let pos = format!(
                " row {}/{} · col {}/{} ",
                (g.row + 1).min(g.grid.rows()),
                g.grid.rows(),
                (g.col + 1).min(g.grid.columns.len()),
                g.grid.columns.len()
            );
            let mut block = with_tabs(app, pane(app, title.clone(), Focus::Results), area.width);
            // The position moves to the bottom edge when the summary (the truncation notice)
            // needs the room at the top: it is always somewhere.
            let mut bottom_right = String::new();
            if title.width() + display_width(&pos) < avail {
                block = block.title_top(Line::from(pos).right_aligned().style(t.dim));
            } else {
                bottom_right.push_str(&pos);
            }
            if app.copying.format != crate::core::export::Format::Tsv {
                bottom_right.push_str(&format!(" copies {} ", app.copying.format.label()));
            }
            // The sort is client side: the bottom edge says so while it is on, in the room
            // the position and the copy format leave.
            if let Some(note) = g.sort_note() {
                let room = avail.saturating_sub(display_width(&bottom_right) + 1);
                block =
                    block.title_bottom(fit(vec![Span::styled(format!(" {note} "), t.key)], room));
            }
            if !bottom_right.is_empty() {
                let line = fit(vec![Span::styled(bottom_right, t.dim)], avail);
                block = block.title_bottom(line.right_aligned());
            }
            f.render_widget(block, area);
            draw_grid(app, g, f.buffer_mut(), area);
        }
        ResultsView::Running {
            source,
            started,
            progress,
            ..
        } => {
            f.render_widget(
                with_tabs(app, pane(app, " Results ", Focus::Results), area.width),
                area,
            );
            let elapsed = format_duration(app.now.saturating_duration_since(*started));
            let cancel = app
                .keymap
                .hint(Scope::Running, &crate::tui::action::Action::CancelQuery)
                .unwrap_or_else(|| "Esc".into());
            let mut lines = vec![Line::from(vec![
                Span::styled(format!("{} ", spinner(app)), t.key),
                Span::raw(format!("running on {source} · {elapsed} · ")),
                Span::styled(cancel, t.key),
                Span::raw(" cancels"),
            ])];
            if let Some(p) = progress.filter(|p| !p.done) {
                lines.push(Line::styled(progress_text(&p), t.dim));
            }
            f.render_widget(Paragraph::new(lines), body);
        }
        ResultsView::Failed {
            source,
            heading,
            message,
        } => {
            let title = Line::from(format!(" {heading} · {source} ")).style(t.error);
            f.render_widget(
                with_tabs(app, pane(app, title, Focus::Results), area.width),
                area,
            );
            f.render_widget(
                Paragraph::new(message.as_str())
                    .style(t.error)
                    .wrap(Wrap { trim: false }),
                body,
            );
        }
        ResultsView::Cancelled { source } => {
            f.render_widget(
                with_tabs(app, pane(app, " Results ", Focus::Results), area.width),
                area,
            );
            f.render_widget(
                Paragraph::new(format!("Query on {source} cancelled.")).style(t.dim),
                body,
            );
        }
        ResultsView::Idle => {
            f.render_widget(
                with_tabs(app, pane(app, " Results ", Focus::Results), area.width),
                area,
            );
            let text = if app.sources.loaded && app.sources.items.is_empty() {
                welcome(app)
            } else {
                let run = app
                    .keymap
                    .hint(Scope::Global, &crate::tui::action::Action::RunQuery)
                    .unwrap_or_else(|| "F5".into());
                vec![Line::styled(format!("Press {run} to run the SQL."), t.dim)]
            };
            f.render_widget(Paragraph::new(text).wrap(Wrap { trim: false }), body);
        }
    }
}

fn welcome(app: &AppState) -> Vec<Line<'static>> {
    let k = app.theme.key;
    vec![
        Line::styled("Welcome to tdb.", app.theme.title),
        Line::raw(""),
        Line::raw("No sources are registered yet. Add one from a shell:"),
        Line::raw(""),
        Line::styled("  tdb source add people --type csv --path people.csv", k),
        Line::styled(
            "  tdb source add shop --type postgres --url postgres://reader@db:5432/shop",
            k,
        ),
        Line::raw(""),
        Line::raw("or look around the bundled sample data first:"),
        Line::raw(""),
        Line::styled("  tdb demo", k),
        Line::raw(""),
        Line::raw("F1 lists every key; Ctrl-Q quits."),
    ]
}

/// Draws the visible cells straight into the buffer: a frame costs the cells on screen,
/// whatever the size of the result.
fn draw_grid(app: &AppState, g: &GridView, buf: &mut Buffer, area: Rect) {
    let t = &app.theme;
    let cells = grid_cells(area);
    if cells.width == 0 || inner(area).height == 0 {
        return;
    }
    let focused = app.focus == Focus::Results && app.overlay.is_none();
    let cursor_style = if focused {
        t.cursor
    } else {
        Style::new().add_modifier(ratatui::style::Modifier::UNDERLINED)
    };
    let height = cells.height as usize;
    let width = cells.width as usize;
    // The app keeps the offsets right for the pane's size; a frame of another size (a
    // resize not yet seen) still shows the cursor.
    let row_offset = g
        .row_offset
        .min(g.row)
        .max((g.row + 1).saturating_sub(height.max(1)));
    let col_offset = g
        .grid
        .first_column_showing(g.col_offset.min(g.col), g.col, width);
    let columns = g.grid.layout_columns(col_offset, width);
    let header_y = cells.y - 1;
    for &(ci, x, w) in &columns {
        let col = &g.grid.columns[ci];
        let slot = Rect::new(cells.x + x as u16, header_y, w as u16, 1);
        match g.grid.sort {
            // The sorted column's name carries the arrow, its end cut if the column is narrow.
            Some((sorted, dir)) if sorted == ci => {
                let text = if col.header_width as usize + 2 <= w {
                    format!("{} {}", col.header, dir.arrow())
                } else {
                    // Too narrow for both: the arrow takes the last column of the name.
                    let mut name = String::new();
                    let mut used = 0;
                    for c in col.header.chars() {
                        let cw = display_width(c.encode_utf8(&mut [0; 4]));
                        if used + cw + 1 > w {
                            break;
                        }
                        used += cw;
                        name.push(c);
                    }
                    format!("{name}{}", dir.arrow())
                };
                put(
                    buf,
                    slot,
                    &text,
                    display_width(&text),
                    col.numeric,
                    t.header,
                );
            }
            _ => put(
                buf,
                slot,
                &col.header,
                col.header_width as usize,
                col.numeric,
                t.header,
            ),
        }
        if ci + 1 < g.grid.columns.len() {
            separator(buf, cells, x + w, header_y, t.dim);
        }
    }
    if g.grid.rows() == 0 {
        buf.set_stringn(cells.x, cells.y, "(no rows)", width, t.dim);
        return;
    }
    let last = (row_offset + height).min(g.grid.rows());
    for (r, y) in (row_offset..last).zip(cells.y..) {
        for &(ci, x, w) in &columns {
            let Some(cell) = g.grid.cell(r, ci) else {
                continue;
            };
            let right = cell.kind == CellKind::Number;
            let mut style = if cell.kind == CellKind::Null {
                t.null
            } else {
                Style::new()
            };
            let slot = Rect::new(cells.x + x as u16, y, w as u16, 1);
            if r == g.row && ci == g.col {
                style = style.patch(cursor_style);
                buf.set_style(slot, cursor_style);
            }
            put(buf, slot, cell.text, cell.width as usize, right, style);
            if ci + 1 < g.grid.columns.len() {
                separator(buf, cells, x + w, y, t.dim);
            }
        }
    }
}

/// One cell's text in `slot`, right-aligned if asked; cut with `…` when the slot is
/// narrower than the text (the pane's right edge).
fn put(buf: &mut Buffer, slot: Rect, text: &str, text_width: usize, right: bool, style: Style) {
    let w = slot.width as usize;
    if text_width > w {
        let cut = truncate_to_width(text, w);
        buf.set_stringn(slot.x, slot.y, &cut, w, style);
        return;
    }
    let pad = if right { w - text_width } else { 0 };
    buf.set_stringn(slot.x + pad as u16, slot.y, text, w - pad, style);
}

/// The `│` after a column that ends at `end` (relative to the cells), if it fits.
fn separator(buf: &mut Buffer, cells: Rect, end: usize, y: u16, style: Style) {
    if end + 1 < cells.width as usize {
        buf.set_stringn(cells.x + end as u16 + 1, y, "│", 1, style);
    }
}
