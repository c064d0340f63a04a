//! The cell detail overlay: a whole value, wrapped and scrollable.

use ratatui::Frame;
use ratatui::style::{Modifier, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};

use crate::core::sanitize::for_terminal;
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
    let find = if d.search.is_empty() {
        String::new()
    } else {
        let next = app
            .keymap
            .hint(Scope::Detail, &Action::NextMatch)
            .unwrap_or_else(|| "n".into());
        format!("{next} next \"{}\" · ", for_terminal(&d.search))
    };
    let wrapped = d
        .text
        .as_deref()
        .map(|text| hard_wrap(text, body.width as usize))
        .unwrap_or_default();
    let mark = app.theme.key.add_modifier(Modifier::UNDERLINED);
    let lines: Vec<Line> = match &d.text {
        Some(_) => wrapped
            .iter()
            .skip(d.scroll as usize)
            .take(body.height as usize)
            .map(|l| Line::from(super::marked(l, &d.search, Style::default(), mark)))
            .collect(),
        None => vec![Line::styled("NULL", app.theme.null)],
    };
    let block = Block::bordered()
        .border_style(app.theme.border_focused)
        .title(Line::styled(format!(" {} ", d.title), app.theme.title))
        .title_bottom(
            Line::styled(format!(" {find}↑↓ scroll · {close} close "), app.theme.dim)
                .right_aligned(),
        );
    f.render_widget(Paragraph::new(lines).block(block), area);
}
