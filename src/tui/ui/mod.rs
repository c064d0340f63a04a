//! Drawing: a pure function of [`AppState`]. Nothing here waits, reads a file or touches
//! the backend; every string from outside was made safe before it reached the state.

mod completion;
mod copy;
mod detail;
mod editor;
mod help;
mod input;
mod plan;
mod results;
mod schema;
mod source_form;
mod source_info;
mod sources;
mod status;
mod windows;

use ratatui::Frame;
use ratatui::layout::{Alignment, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::app::{AppState, Overlay};
use super::layout;
use super::panes::Focus;
use unicode_segmentation::UnicodeSegmentation;

use crate::core::sanitize::display_width;

pub fn render(app: &AppState, f: &mut Frame) {
    let area = f.area();
    let Some(areas) = layout::areas(area, app.sources.lines(), app.schema.width) else {
        too_small(f, area);
        return;
    };
    sources::draw(app, f, areas.sources);
    schema::draw(app, f, areas.schema);
    editor::draw(app, f, areas.editor);
    results::draw(app, f, areas.results);
    status::draw(app, f, areas.status);
    completion::draw(app, f, areas.editor);
    windows::draw(app, f);
    match &app.overlay {
        Some(Overlay::Help { scroll }) => help::draw(app, f, *scroll),
        Some(Overlay::Detail(d)) => detail::draw(app, f, d),
        Some(Overlay::CopyMenu(m)) => copy::draw_menu(app, f, m),
        Some(Overlay::Export(p)) => copy::draw_export(app, f, p),
        Some(Overlay::Plan(p)) => plan::draw(app, f, p),
        Some(Overlay::Source(s)) => source_info::draw(app, f, s),
        None => {}
    }
}

fn too_small(f: &mut Frame, area: Rect) {
    let text = vec![
        Line::from("Terminal too small"),
        Line::from(format!("{}×{}", area.width, area.height)),
        Line::from(format!(
            "tdb needs {}×{}",
            layout::MIN_WIDTH,
            layout::MIN_HEIGHT
        )),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let r = Rect::new(area.x, area.y + top, area.width, area.height - top);
    f.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true }),
        r,
    );
}

/// A pane's frame, highlighted when it has the focus.
fn pane<'a>(app: &AppState, title: impl Into<Line<'a>>, focus: Focus) -> Block<'a> {
    let focused = app.focus == focus && app.overlay.is_none();
    Block::bordered()
        .border_style(if focused {
            app.theme.border_focused
        } else {
            app.theme.border
        })
        .title(title.into().style(app.theme.title))
}

/// Empties the cells a popup covers. A wide character just left of it would be cut by the
/// popup's left edge, and a terminal draws it whole over the border: it is blanked instead.
fn clear_popup(f: &mut Frame, area: Rect) {
    f.render_widget(Clear, area);
    let Some(left) = area.x.checked_sub(1) else {
        return;
    };
    let buf = f.buffer_mut();
    for y in area.top()..area.bottom() {
        if let Some(cell) = buf.cell_mut((left, y))
            && display_width(cell.symbol()) > 1
        {
            cell.set_symbol(" ");
        }
    }
}

/// The frame of a spinner, following the clock.
fn spinner(app: &AppState) -> &'static str {
    const FRAMES: [&str; 10] = ["⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"];
    let tenths = app.now.saturating_duration_since(app.started).as_millis() / 100;
    FRAMES[(tenths % FRAMES.len() as u128) as usize]
}

/// Spans cut to `width` columns, the cut marked with `…`.
fn fit(spans: Vec<Span<'_>>, width: usize) -> Line<'_> {
    let total: usize = spans.iter().map(|s| display_width(&s.content)).sum();
    if total <= width {
        return Line::from(spans);
    }
    if width == 0 {
        return Line::default();
    }
    let mut budget = width - 1;
    let mut out = Vec::with_capacity(spans.len() + 1);
    let mut style = ratatui::style::Style::default();
    for span in spans {
        style = span.style;
        let w = display_width(&span.content);
        if w <= budget {
            budget -= w;
            out.push(span);
            continue;
        }
        let mut kept = String::new();
        for g in span.content.graphemes(true) {
            let gw = display_width(g);
            if gw > budget {
                break;
            }
            budget -= gw;
            kept.push_str(g);
        }
        out.push(Span::styled(kept, span.style));
        break;
    }
    out.push(Span::styled("…", style));
    Line::from(out)
}

/// Spans with their first `skip` terminal columns dropped (a line scrolled sideways); a
/// wide character cut in two becomes a space.
fn skip_columns(spans: Vec<Span<'_>>, skip: usize) -> Vec<Span<'_>> {
    let mut left = skip;
    let mut out = Vec::with_capacity(spans.len());
    for span in spans {
        if left == 0 {
            out.push(span);
            continue;
        }
        let mut kept = String::new();
        for g in span.content.graphemes(true) {
            let gw = display_width(g);
            if left == 0 {
                kept.push_str(g);
            } else if gw > left {
                kept.push_str(&" ".repeat(gw - left));
                left = 0;
            } else {
                left -= gw;
            }
        }
        if !kept.is_empty() {
            out.push(Span::styled(kept, span.style));
        }
    }
    out
}

/// `text` split in spans, the parts holding `needle` (any case) in `mark`.
fn marked<'a>(
    text: &'a str,
    needle: &str,
    style: ratatui::style::Style,
    mark: ratatui::style::Style,
) -> Vec<Span<'a>> {
    if needle.is_empty() {
        return vec![Span::styled(text, style)];
    }
    let lower = text.to_lowercase();
    let needle = needle.to_lowercase();
    // Lower-casing can change lengths (a few scripts): then the text is drawn unmarked.
    if lower.len() != text.len() {
        return vec![Span::styled(text, style)];
    }
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = lower[at..].find(&needle).map(|i| i + at) {
        let end = i + needle.len();
        if !text.is_char_boundary(i) || !text.is_char_boundary(end) {
            break;
        }
        if i > at {
            out.push(Span::styled(&text[at..i], style));
        }
        out.push(Span::styled(&text[i..end], mark));
        at = end;
    }
    if at < text.len() {
        out.push(Span::styled(&text[at..], style));
    }
    out
}

/// `importing 45% · ~2,300 rows` for a CSV import under way (the rows estimated).
fn progress_text(p: &crate::core::progress::Progress) -> String {
    let pct = p
        .bytes
        .saturating_mul(100)
        .checked_div(p.total_bytes)
        .unwrap_or(0);
    format!(
        "importing {pct}% · ~{} rows",
        crate::core::value::thousands(p.rows)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_marks_the_cut() {
        let line = fit(vec![Span::raw("orders "), Span::raw("csv #demo")], 10);
        assert_eq!(line.to_string(), "orders cs…");
        let line = fit(vec![Span::raw("abc"), Span::raw("def")], 3);
        assert_eq!(line.to_string(), "ab…");
        let line = fit(vec![Span::raw("abc")], 5);
        assert_eq!(line.to_string(), "abc");
    }

    #[test]
    fn skip_columns_scrolls_and_blanks_a_cut_wide_character() {
        let line = Line::from(skip_columns(vec![Span::raw("ab"), Span::raw("cd")], 3));
        assert_eq!(line.to_string(), "d");
        let line = Line::from(skip_columns(vec![Span::raw("山田x")], 1));
        assert_eq!(line.to_string(), " 田x");
        let line = Line::from(skip_columns(vec![Span::raw("abc")], 0));
        assert_eq!(line.to_string(), "abc");
    }

    #[test]
    fn marked_splits_at_each_match_in_any_case() {
        let plain = ratatui::style::Style::default();
        let mark = plain.add_modifier(ratatui::style::Modifier::BOLD);
        let spans = marked("Order_orders", "ORD", plain, mark);
        let parts: Vec<(&str, bool)> = spans
            .iter()
            .map(|s| (s.content.as_ref(), s.style == mark))
            .collect();
        assert_eq!(
            parts,
            [("Ord", true), ("er_", false), ("ord", true), ("ers", false)]
        );
        assert_eq!(marked("abc", "", plain, mark).len(), 1);
    }

    #[test]
    fn thousands_group() {
        assert_eq!(crate::core::value::thousands(0), "0");
        assert_eq!(crate::core::value::thousands(999), "999");
        assert_eq!(crate::core::value::thousands(1200), "1,200");
        assert_eq!(crate::core::value::thousands(1234567), "1,234,567");
    }
}
