//! The SQL editor with the row limit beside its title.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;

use super::layout::inner;
use super::pane;
use crate::tui::app::AppState;
use crate::tui::panes::Focus;

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
    f.render_widget(app.editor.area(app.selected_id()), inner(area));
}
