//! The sources pane: a status mark, the name, the type and the tags of each source.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{fit, pane};
use crate::core::source::Status;
use crate::tui::app::AppState;
use crate::tui::layout::inner;
use crate::tui::panes::Focus;

pub fn draw(app: &AppState, f: &mut Frame, area: Rect) {
    let n = app.sources.items.len();
    let visible = app.sources.visible();
    let title = if visible.len() < n {
        format!(" Sources ({}/{n}) ", visible.len())
    } else if n > 0 {
        format!(" Sources ({n}) ")
    } else {
        " Sources ".to_string()
    };
    f.render_widget(pane(app, title, Focus::Sources), area);
    let mut body = inner(area);
    let filter = app.sources.filter.text();
    if (app.sources.filtering || !filter.is_empty()) && body.height > 1 {
        // The filter takes the pane's last line.
        body.height -= 1;
        let line = Rect::new(body.x, body.bottom(), body.width, 1);
        f.render_widget(Paragraph::new(Line::styled("/", app.theme.key)), line);
        let field = Rect::new(line.x + 1, line.y, line.width.saturating_sub(1), 1);
        if app.sources.filtering {
            super::input::draw(&app.theme, f, &app.sources.filter, field);
        } else {
            f.render_widget(Paragraph::new(filter), field);
        }
    }
    let t = &app.theme;
    if let Some(err) = &app.sources.error {
        let p = Paragraph::new(err.as_str())
            .style(t.error)
            .wrap(Wrap { trim: false });
        f.render_widget(p, body);
        return;
    }
    if !app.sources.loaded {
        f.render_widget(Paragraph::new("loading…").style(t.dim), body);
        return;
    }
    if n == 0 {
        f.render_widget(Paragraph::new("no sources yet").style(t.dim), body);
        return;
    }
    if visible.is_empty() {
        f.render_widget(Paragraph::new("no source matches").style(t.dim), body);
        return;
    }
    let height = body.height as usize;
    let at = visible
        .iter()
        .position(|i| *i == app.sources.selected)
        .unwrap_or(0);
    let offset = (at + 1).saturating_sub(height.max(1));
    let focused = app.focus == Focus::Sources && app.overlay.is_none();
    let width = body.width as usize;
    let lines: Vec<Line> = visible
        .iter()
        .filter_map(|i| Some((*i, app.sources.items.get(*i)?)))
        .skip(offset)
        .take(height)
        .map(|(i, s)| {
            let status = app.status_of(&s.id, s.status);
            let mark_style = match status {
                Status::Active => t.active,
                Status::Failed => t.failed,
                Status::Testing => t.testing,
            };
            let mark = match status {
                Status::Active => "● ",
                Status::Failed => "✗ ",
                Status::Testing => "◌ ",
            };
            let mut spans = vec![
                Span::styled(mark, mark_style),
                Span::raw(s.label.as_str()),
                Span::styled(format!(" {}", s.source_type), t.dim),
            ];
            for tag in &s.tags {
                spans.push(Span::styled(format!(" #{tag}"), t.dim));
            }
            let line = fit(spans, width);
            if i == app.sources.selected {
                let style = if focused {
                    t.selected
                } else {
                    Style::new().add_modifier(ratatui::style::Modifier::BOLD)
                };
                line.patch_style(style)
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}
