//! The smaller windows: the delete confirmation, the history search and the limit prompt.
//! (The source form has a file of its own.)

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{fit, source_form, spinner};
use crate::core::history::Outcome;
use crate::core::sanitize::{display_width, for_terminal};
use crate::tui::action::Action;
use crate::tui::app::AppState;
use crate::tui::keymap::Scope;
use crate::tui::layout::{centred, inner, overlay};
use crate::tui::panes::history::{HistorySearch, age};
use crate::tui::panes::modal::{ConfirmDelete, LimitPrompt, Modal};
use crate::tui::panes::results::format_duration;

pub fn draw(app: &AppState, f: &mut Frame) {
    match &app.modal {
        Some(Modal::Form(form)) => source_form::draw(app, f, form),
        Some(Modal::Confirm(c)) => confirm(app, f, c),
        Some(Modal::History(h)) => history(app, f, h),
        Some(Modal::Limit(p)) => limit(app, f, p),
        None => {}
    }
}

fn key(app: &AppState, scope: Scope, action: Action) -> String {
    app.keymap.hint(scope, &action).unwrap_or_default()
}

/// Every key of an action, letters first (`y/Enter`): a confirmation shows them all.
fn keys(app: &AppState, scope: Scope, action: Action) -> String {
    let mut keys = app.keymap.keys_for(scope, &action);
    keys.sort_by_key(|k| !matches!(k.code, crossterm::event::KeyCode::Char(_)));
    let names: Vec<String> = keys.iter().map(ToString::to_string).collect();
    names.join("/")
}

fn confirm(app: &AppState, f: &mut Frame, c: &ConfirmDelete) {
    let t = &app.theme;
    let area = centred(f.area(), 64, 8);
    super::clear_popup(f, area);
    let last = if c.pending.is_some() {
        Line::styled(format!("{} deleting…", spinner(app)), t.dim)
    } else {
        Line::from(vec![
            Span::styled(keys(app, Scope::Confirm, Action::Confirm), t.key),
            Span::raw(" delete · "),
            Span::styled(keys(app, Scope::Confirm, Action::CloseOverlay), t.key),
            Span::raw(" keep it"),
        ])
    };
    let text = vec![
        Line::from(vec![
            Span::raw("Delete the source "),
            Span::styled(c.label.as_str(), t.title),
            Span::raw("?"),
        ]),
        Line::styled(c.target.as_str(), t.dim),
        Line::raw(
            "Its stored password, caches and history go now; the data it points to is never touched.",
        ),
        Line::raw(""),
        last,
    ];
    let block = Block::bordered()
        .border_style(t.failed)
        .title(Line::styled(" Delete source ", t.title));
    f.render_widget(
        Paragraph::new(text).block(block).wrap(Wrap { trim: false }),
        area,
    );
}

fn history(app: &AppState, f: &mut Frame, h: &HistorySearch) {
    let t = &app.theme;
    let area = overlay(f.area());
    super::clear_popup(f, area);
    let entries = app.history.get(&h.source_id);
    let name = app
        .sources
        .find(&h.source_id)
        .map(|s| s.label.as_str())
        .unwrap_or("");
    let hints = format!(
        " ↑↓ choose · {} put in the editor · {} close ",
        key(app, Scope::History, Action::Confirm),
        key(app, Scope::History, Action::CloseOverlay)
    );
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(
            format!(
                " History · {name} · {} of {} ",
                h.matches.len(),
                entries.len()
            ),
            t.title,
        ))
        .title_bottom(Line::styled(hints, t.dim).right_aligned());
    f.render_widget(block, area);
    let body = inner(area);
    if body.height < 4 {
        return;
    }
    f.render_widget(
        Paragraph::new(Line::styled("› ", t.key)),
        Rect::new(body.x, body.y, 2, 1),
    );
    super::input::draw(
        t,
        f,
        &h.query,
        Rect::new(body.x + 2, body.y, body.width.saturating_sub(2), 1),
    );
    // The list, then two lines about the query under the cursor.
    let list = Rect::new(body.x, body.y + 1, body.width, body.height - 3);
    let rows = list.height as usize;
    let first = (h.selected + 1).saturating_sub(rows);
    let width = body.width as usize;
    let mut lines: Vec<Line> = Vec::new();
    for (n, i) in h.matches.iter().enumerate().skip(first).take(rows) {
        let Some(e) = entries.get(*i) else { continue };
        let (mark, mark_style, what) = match e.outcome {
            Outcome::Ok => (
                "✓",
                t.active,
                match e.rows {
                    Some(1) => "1 row".to_string(),
                    Some(r) => format!("{r} rows"),
                    None => String::new(),
                },
            ),
            Outcome::Rejected => ("✗", t.failed, "rejected".to_string()),
            Outcome::Failed => ("✗", t.failed, "failed".to_string()),
        };
        let when = age(&e.started_at, h.opened_at);
        let line = fit(
            vec![
                Span::styled(format!("{mark} "), mark_style),
                Span::styled(format!("{what:>9} {when:>4}  "), t.dim),
                Span::raw(for_terminal(&e.sql).into_owned()),
            ],
            width,
        );
        lines.push(if n == h.selected {
            line.patch_style(t.selected)
        } else {
            line
        });
    }
    if lines.is_empty() {
        let empty = if entries.is_empty() {
            "no query has run on this source yet"
        } else {
            "no query matches"
        };
        lines.push(Line::styled(empty, t.dim));
    }
    f.render_widget(Paragraph::new(lines), list);
    if let Some(e) = h.selected_entry(entries) {
        let mut about = format!(
            "ran {} ago for {}",
            age(&e.started_at, h.opened_at),
            format_duration(std::time::Duration::from_millis(e.duration_ms))
        );
        if e.truncated {
            about.push_str(" · more rows existed");
        }
        let mut spans = vec![Span::styled(about, t.dim)];
        if let Some(err) = &e.error {
            spans.push(Span::raw(" · "));
            spans.push(Span::styled(for_terminal(err).into_owned(), t.error));
        }
        f.render_widget(
            Paragraph::new(Line::from(spans)).wrap(Wrap { trim: false }),
            Rect::new(body.x, body.bottom() - 2, body.width, 2),
        );
    }
}

fn limit(app: &AppState, f: &mut Frame, p: &LimitPrompt) {
    let t = &app.theme;
    let area = centred(f.area(), 44, 5);
    super::clear_popup(f, area);
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(" Row limit ", t.title))
        .title_bottom(
            Line::styled(
                format!(
                    " {} set · {} cancel ",
                    key(app, Scope::Prompt, Action::Confirm),
                    key(app, Scope::Prompt, Action::CloseOverlay)
                ),
                t.dim,
            )
            .right_aligned(),
        );
    f.render_widget(block, area);
    let body = inner(area);
    let label = "rows at most: ";
    let lw = display_width(label) as u16;
    f.render_widget(Paragraph::new(label), Rect::new(body.x, body.y, lw, 1));
    let field = Rect::new(body.x + lw, body.y, 8.min(body.width.saturating_sub(lw)), 1);
    f.render_widget(Paragraph::new("").style(t.input), field);
    super::input::draw(t, f, &p.input, field);
    let note = match &p.error {
        Some(e) => Line::styled(e.as_str(), t.error),
        None => Line::styled(
            format!(
                "now {}; {} and {} step it",
                app.editor.limit,
                key(app, Scope::Global, Action::LimitUp),
                key(app, Scope::Global, Action::LimitDown)
            ),
            t.dim,
        ),
    };
    f.render_widget(
        Paragraph::new(note),
        Rect::new(body.x, body.y + 2, body.width, 1),
    );
}
