//! The SQL editor with the row limit beside its title. ratatui-textarea draws the text and
//! the cursor; the syntax colours are painted over the cells it drew, so editing, scrolling
//! and the cursor stay the textarea's own.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui_textarea::TextArea;
use unicode_width::UnicodeWidthChar;

use super::pane;
use crate::tui::app::AppState;
use crate::tui::highlight::{self, Kind};
use crate::tui::layout::inner;
use crate::tui::panes::Focus;
use crate::tui::theme::Theme;

pub fn draw(app: &AppState, f: &mut Frame, area: Rect) {
    let title = match app.sources.selected() {
        Some(s) => format!(" SQL · {} ", s.label),
        None => " SQL ".to_string(),
    };
    let limit = Line::from(format!(" limit {} ", app.editor.limit)).right_aligned();
    f.render_widget(
        pane(app, title, Focus::Editor).title_top(limit.style(app.theme.dim)),
        area,
    );
    let body = inner(area);
    let text = app.editor.area(app.selected_id());
    f.render_widget(text, body);
    paint_syntax(&app.theme, f.buffer_mut(), body, text);
    if let Some(mark) = app.editor.error_mark(app.selected_id()) {
        paint_mark(&app.theme, f.buffer_mut(), body, text, mark);
    }
}

/// Underlines the cell where the engine placed the error, in the error colour, when it is
/// scrolled into view.
fn paint_mark(
    theme: &Theme,
    buf: &mut Buffer,
    body: Rect,
    text: &TextArea<'_>,
    mark: (usize, usize),
) {
    let (row, col) = mark;
    let (top, left) = text.scroll_offset();
    let (top, left) = (top as usize, left as usize);
    let Some(line) = text.lines().get(row) else {
        return;
    };
    let cols = columns(line, text.tab_length() as usize);
    let Some(&x) = cols.get(col) else {
        return;
    };
    if row < top || row - top >= body.height as usize || x < left || x - left >= body.width as usize
    {
        return;
    }
    let cell = &mut buf[(body.x + (x - left) as u16, body.y + (row - top) as u16)];
    cell.set_style(
        theme
            .error
            .add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
    );
}

fn style(theme: &Theme, kind: Kind) -> Style {
    match kind {
        Kind::Keyword => theme.sql_keyword,
        Kind::String => theme.sql_string,
        Kind::Number => theme.sql_number,
        Kind::Comment => theme.sql_comment,
        Kind::Identifier => theme.sql_identifier,
        Kind::QuotedIdentifier => theme.sql_quoted,
    }
}

/// The terminal column each character of `line` starts at (tabs to the textarea's stops),
/// and one more entry for where the line ends.
pub fn columns(line: &str, tab: usize) -> Vec<usize> {
    let mut out = Vec::with_capacity(line.len() + 1);
    let mut col = 0;
    for c in line.chars() {
        out.push(col);
        col += match c {
            '\t' if tab > 0 => tab - col % tab,
            c => c.width().unwrap_or(0),
        };
    }
    out.push(col);
    out
}

/// Colours the visible cells by token, from the scroll position the textarea drew with.
fn paint_syntax(theme: &Theme, buf: &mut Buffer, body: Rect, text: &TextArea<'_>) {
    let lines = text.lines();
    let (top, left) = text.scroll_offset();
    let (top, left) = (top as usize, left as usize);
    let tokens = highlight::tokens(lines);
    let tab = text.tab_length() as usize;
    for y in 0..body.height {
        let row = top + y as usize;
        let (Some(line), Some(toks)) = (lines.get(row), tokens.get(row)) else {
            break;
        };
        if toks.is_empty() {
            continue;
        }
        let cols = columns(line, tab);
        for t in toks {
            let s = style(theme, t.kind);
            let (from, to) = (cols[t.start], cols[t.end]);
            for col in from.max(left)..to.min(left + body.width as usize) {
                let x = body.x + (col - left) as u16;
                buf[(x, body.y + y)].set_style(s);
            }
        }
    }
}
