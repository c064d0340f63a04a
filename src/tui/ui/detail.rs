//! The cell detail overlay: a whole value, wrapped and scrollable.

use ratatui::Frame;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

use super::layout::overlay;
use crate::tui::app::{AppState, Detail};
use crate::tui::keymap::Scope;

pub fn draw(app: &AppState, f: &mut Frame, d: &Detail) {
    let area = overlay(f.area());
    f.render_widget(Clear, area);
    let close = app
        .keymap
        .hint(Scope::Detail, &crate::tui::action::Action::CloseOverlay)
        .unwrap_or_else(|| "Esc".into());
    let block = Block::bordered()
        .border_style(app.theme.border_focused)
        .title(Line::styled(format!(" {} ", d.title), app.theme.title))
        .title_bottom(
            Line::styled(format!(" ↑↓ scroll · {close} close "), app.theme.dim).right_aligned(),
        );
    let p = match &d.text {
        Some(text) => Paragraph::new(text.as_str()),
        None => Paragraph::new("NULL").style(app.theme.null),
    };
    f.render_widget(
        p.block(block)
            .wrap(Wrap { trim: false })
            .scroll((d.scroll, 0)),
        area,
    );
}
