//! Where each pane goes for a terminal size. It sits beside the app and the drawing rather
//! than in either: the app needs it to know how many rows a page of results is and what a
//! click hit, the drawing to put each pane there, and both must agree.

use ratatui::layout::Rect;

use crate::tui::panes::results::Viewport;

/// Below this the panes cannot show anything useful; the UI says so instead.
pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub sources: Rect,
    pub schema: Rect,
    pub editor: Rect,
    pub results: Rect,
    pub status: Rect,
}

/// The narrowest the left column (sources over schema) can be made.
pub const LEFT_MIN: u16 = 16;
/// Columns a widened left column leaves to the editor and the results.
pub const RIGHT_MIN: u16 = 30;

/// The left column's width in a terminal `total` wide: the one `chosen` (keys, a drag),
/// else a quarter of it, within limits that leave both sides usable.
pub fn left_width(total: u16, chosen: Option<u16>) -> u16 {
    let max = total.saturating_sub(RIGHT_MIN).max(LEFT_MIN);
    chosen
        .unwrap_or((total / 4).clamp(24, 36))
        .clamp(LEFT_MIN, max)
}

/// The panes for a terminal of `area`, with `sources` sources to list and the left column
/// as wide as `left` (see [`left_width`]); `None` when the terminal is too small.
pub fn areas(area: Rect, sources: usize, left: Option<u16>) -> Option<Areas> {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return None;
    }
    let main_h = area.height - 1;
    let left_w = left_width(area.width, left);
    let sources_h = (sources.max(1) as u16 + 2).clamp(3, main_h * 2 / 5);
    let editor_h = (main_h / 3).clamp(5, 12);
    let right_x = area.x + left_w;
    let right_w = area.width - left_w;
    Some(Areas {
        sources: Rect::new(area.x, area.y, left_w, sources_h),
        schema: Rect::new(area.x, area.y + sources_h, left_w, main_h - sources_h),
        editor: Rect::new(right_x, area.y, right_w, editor_h),
        results: Rect::new(right_x, area.y + editor_h, right_w, main_h - editor_h),
        status: Rect::new(area.x, area.y + main_h, area.width, 1),
    })
}

/// Inside a bordered block.
pub fn inner(r: Rect) -> Rect {
    Rect::new(
        r.x.saturating_add(1),
        r.y.saturating_add(1),
        r.width.saturating_sub(2),
        r.height.saturating_sub(2),
    )
}

/// The cells of the result grid: inside the border, below the header line, one column of
/// margin on the left.
pub fn grid_cells(results: Rect) -> Rect {
    let i = inner(results);
    Rect::new(
        i.x.saturating_add(1),
        i.y.saturating_add(1),
        i.width.saturating_sub(1),
        i.height.saturating_sub(1),
    )
}

pub fn grid_viewport(results: Rect) -> Viewport {
    let cells = grid_cells(results);
    Viewport {
        rows: cells.height as usize,
        width: cells.width as usize,
    }
}

/// A centred box for an overlay: most of the screen, leaving the panes' edges visible.
pub fn overlay(area: Rect) -> Rect {
    let w = (area.width * 4 / 5).max(area.width.min(40));
    let h = (area.height * 4 / 5).max(area.height.min(10));
    centred(area, w, h)
}

/// A box of `width`×`height` in the middle of `area`, as large as fits.
pub fn centred(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}
