//! The cell detail overlay: a whole value, wrapped and scrollable.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use crate::tui::action::Action;
use crate::tui::app::{AppState, Detail};
use crate::tui::keymap::Scope;
use crate::tui::layout::{inner, overlay};
use crate::tui::wrap::hard_wrap;

pub fn draw(app: &AppState, f: &mut Frame, d: &Detail) {
    let area = overlay(f.area());
    super::clear_popup(f, area);
    let close = app
        .keymap
        .hint(Scope::Detail, &Action::CloseOverlay)
        .unwrap_or_else(|| "Esc".into());
    let body = inner(area);
    let lines: Vec<Line> = match &d.text {
        Some(text) => hard_wrap(text, body.width as usize)
            .into_iter()
            .skip(d.scroll as usize)
            .take(body.height as usize)
            .map(Line::raw)
            .collect(),
        None => vec![Line::styled("NULL", app.theme.null)],
    };
    let block = Block::bordered()
        .border_style(app.theme.border_focused)
        .title(Line::styled(format!(" {} ", d.title), app.theme.title))
        .title_bottom(
            Line::styled(format!(" ↑↓ scroll · {close} close "), app.theme.dim).right_aligned(),
        );
    f.render_widget(Paragraph::new(lines).block(block), area);
}
