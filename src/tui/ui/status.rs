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
    // The caps that keep memory bounded, once there is something they bound: tabs, or a
    // result grown past its first page.
    let paged = matches!(&app.results, crate::tui::panes::results::ResultsView::Done(g)
        if g.fetched_more);
    if app.tabs.list.len() > 1 {
        left.push(Span::styled(
            format!(
                " · tab {}/{} ({})",
                app.tabs.active + 1,
                app.tabs.list.len(),
                app.tabs.cap_note()
            ),
            t.dim,
        ));
    } else if paged {
        left.push(Span::styled(
            format!(" · session cap {} rows", app.tabs.limits.row_cap),
            t.dim,
        ));
    }
    if let Some(m) = &app.message {
        left.push(Span::raw(" │ "));
        let style = match m.kind {
            MessageKind::Info => t.title,
            MessageKind::Error => t.error,
            MessageKind::Warning => t.warning,
        };
        left.push(Span::styled(m.text.as_str(), style));
    }
    let width = area.width as usize;
    let left_w: usize = left.iter().map(|s| display_width(&s.content)).sum();
    let hints = hints(app, width.saturating_sub(left_w + 2));
    let hints_w: usize = hints.iter().map(|s| display_width(&s.content)).sum();
    let mut spans = left;
    if hints_w > 1 && left_w + hints_w + 2 <= width {
        spans.push(Span::raw(" ".repeat(width - left_w - hints_w)));
        spans.extend(hints);
    }
    f.render_widget(Paragraph::new(fit(spans, width)).style(t.status_bar), area);
}

/// `F5 run · Tab pane · F1 help · Ctrl-Q quit`, from the keymap: as many as fit in
/// `room`, the least needed dropped first.
fn hints(app: &AppState, room: usize) -> Vec<Span<'static>> {
    let pane = Scope::Pane(app.focus);
    // (priority: lower is kept longer, scope, action, label), in display order.
    let mut wanted: Vec<(u8, Scope, Action, &str)> = Vec::new();
    if app.running_query().is_some() || app.fetching() {
        wanted.push((0, Scope::Running, Action::CancelQuery, "cancel"));
    }
    match app.focus {
        Focus::Sources => {
            wanted.push((4, pane, Action::EditSql, "edit"));
            wanted.push((5, pane, Action::TestSource, "test"));
            wanted.push((6, pane, Action::AddSource, "add"));
            wanted.push((7, pane, Action::FilterSources, "filter"));
        }
        Focus::Schema => {
            wanted.push((4, pane, Action::InsertName, "insert"));
            wanted.push((5, pane, Action::Toggle, "expand"));
            wanted.push((6, pane, Action::RefreshSchema, "refresh"));
        }
        Focus::Results => {
            wanted.push((4, pane, Action::OpenCell, "cell"));
            let copy = Action::Copy {
                target: crate::tui::action::CopyTarget::Cell,
            };
            wanted.push((5, pane, copy, "copy"));
            wanted.push((6, pane, Action::Sort, "sort"));
            wanted.push((7, pane, Action::Export, "export"));
        }
        Focus::Editor => {
            wanted.push((5, pane, Action::Complete, "complete"));
            wanted.push((6, pane, Action::SearchHistory, "history"));
        }
    }
    wanted.push((2, Scope::Global, Action::RunQuery, "run"));
    wanted.push((3, Scope::Global, Action::FocusNext, "pane"));
    let help_scope = if app.focus == Focus::Editor {
        Scope::Global
    } else {
        pane
    };
    wanted.push((1, help_scope, Action::OpenHelp, "help"));
    wanted.push((1, Scope::Global, Action::Quit, "quit"));
    let mut items: Vec<(u8, String, String)> = wanted
        .into_iter()
        .filter_map(|(prio, scope, action, label)| {
            let key = app.keymap.hint(scope, &action)?;
            Some((prio, key, label.to_string()))
        })
        .collect();
    let width = |items: &[(u8, String, String)]| -> usize {
        items
            .iter()
            .map(|(_, k, l)| display_width(k) + 1 + l.len() + 3)
            .sum::<usize>()
    };
    while !items.is_empty() && width(&items) > room {
        let worst = items.iter().map(|(p, _, _)| *p).max().unwrap_or(0);
        if let Some(i) = items.iter().rposition(|(p, _, _)| *p == worst) {
            items.remove(i);
        }
    }
    let mut spans = Vec::new();
    for (_, key, label) in items {
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", app.theme.dim));
        }
        spans.push(Span::styled(key, app.theme.key));
        spans.push(Span::raw(format!(" {label}")));
    }
    spans.push(Span::raw(" "));
    spans
}
