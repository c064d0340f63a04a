//! The source detail view: the record, its health, its cache and its recent queries.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::fit;
use crate::tui::action::Action;
use crate::tui::app::AppState;
use crate::tui::keymap::Scope;
use crate::tui::layout::{inner, overlay};
use crate::tui::panes::source_info::{InfoLine, SourceInfo};

/// Field names are padded to this width, so the values line up.
const KEY_WIDTH: usize = 22;

pub fn draw(app: &AppState, f: &mut Frame, info: &SourceInfo) {
    let t = &app.theme;
    let area = overlay(f.area());
    super::clear_popup(f, area);
    let close = app
        .keymap
        .hint(Scope::Detail, &Action::CloseOverlay)
        .unwrap_or_else(|| "Esc".into());
    let name = app
        .sources
        .find(&info.source_id)
        .map_or("", |s| s.label.as_str());
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(format!(" Source · {name} "), t.title))
        .title_bottom(Line::styled(format!(" ↑↓ scroll · {close} close "), t.dim).right_aligned());
    let body = inner(area);
    let width = body.width as usize;
    let lines: Vec<Line> = app
        .source_info_lines(info)
        .into_iter()
        .skip(info.scroll as usize)
        .take(body.height as usize)
        .map(|l| match l {
            InfoLine::Heading(h) => Line::styled(h, t.title),
            InfoLine::Field(k, v) => fit(
                vec![
                    Span::styled(format!("  {k:<KEY_WIDTH$} "), t.dim),
                    Span::raw(v),
                ],
                width,
            ),
            InfoLine::Run(ok, text) => fit(
                vec![
                    if ok {
                        Span::styled("  ✓ ", t.active)
                    } else {
                        Span::styled("  ✗ ", t.failed)
                    },
                    Span::raw(text),
                ],
                width,
            ),
            InfoLine::Blank => Line::raw(""),
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(block), area);
}
