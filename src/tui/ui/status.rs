//! The status bar: the selected source and its state, what just happened, and the keys
//! that matter in the focused pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Span;
use ratatui::widgets::Paragraph;

use super::fit;
use crate::core::sanitize::display_width;
use crate::core::source::Status;
use crate::tui::action::Action;
use crate::tui::app::{AppState, MessageKind};
use crate::tui::keymap::Scope;
use crate::tui::panes::Focus;

pub fn draw(app: &AppState, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let mut left: Vec<Span> = Vec::new();
    if let Some(s) = app.sources.selected() {
        let status = app.status_of(&s.id, s.status);
        let style = match status {
            Status::Active => t.active,
            Status::Failed => t.failed,
            Status::Testing => t.testing,
        };
        left.push(Span::styled(" ● ", style));
        left.push(Span::raw(format!("{} · {} · ", s.label, s.source_type)));
        left.push(Span::styled(status.as_str(), style));
    }
    if let Some(m) = &app.message {
        left.push(Span::raw(" │ "));
        let style = match m.kind {
            MessageKind::Info => t.title,
            MessageKind::Error => t.error,
        };
        left.push(Span::styled(m.text.as_str(), style));
    }
    let width = area.width as usize;
    let left_w: usize = left.iter().map(|s| display_width(&s.content)).sum();
    let hints = hints(app);
    let hints_w: usize = hints.iter().map(|s| display_width(&s.content)).sum();
    let mut spans = left;
    if left_w + hints_w + 2 <= width {
        spans.push(Span::raw(" ".repeat(width - left_w - hints_w)));
        spans.extend(hints);
    }
    f.render_widget(Paragraph::new(fit(spans, width)).style(t.status_bar), area);
}

/// `F5 run · Tab pane · F1 help · Ctrl-Q quit`, from the keymap.
fn hints(app: &AppState) -> Vec<Span<'static>> {
    let pane = Scope::Pane(app.focus);
    let mut wanted: Vec<(Scope, Action, &str)> = Vec::new();
    if app.running_query().is_some() {
        wanted.push((Scope::Running, Action::CancelQuery, "cancel"));
    }
    match app.focus {
        Focus::Sources => {
            wanted.push((pane, Action::EditSql, "edit"));
            wanted.push((pane, Action::TestSource, "test"));
        }
        Focus::Schema => {
            wanted.push((pane, Action::InsertName, "insert"));
            wanted.push((pane, Action::Toggle, "expand"));
            wanted.push((pane, Action::RefreshSchema, "refresh"));
        }
        Focus::Results => wanted.push((pane, Action::OpenCell, "cell")),
        Focus::Editor => {}
    }
    wanted.push((Scope::Global, Action::RunQuery, "run"));
    wanted.push((Scope::Global, Action::FocusNext, "pane"));
    wanted.push((Scope::Global, Action::OpenHelp, "help"));
    wanted.push((Scope::Global, Action::Quit, "quit"));
    let mut spans = Vec::new();
    for (scope, action, label) in wanted {
        if let Some(key) = app.keymap.hint(scope, &action) {
            if !spans.is_empty() {
                spans.push(Span::styled(" · ", app.theme.dim));
            }
            spans.push(Span::styled(key, app.theme.key));
            spans.push(Span::raw(format!(" {label}")));
        }
    }
    spans.push(Span::raw(" "));
    spans
}
