//! The help overlay: every key of every scope, read from the keymap so it always tells the
//! truth (config overrides included).

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use crate::tui::action::{Action, Motion};
use crate::tui::app::AppState;
use crate::tui::keymap::{EDITOR_OWN_KEYS, Scope};
use crate::tui::layout::overlay;
use crate::tui::panes::Focus;

/// The help text, one line per binding.
pub fn lines(app: &AppState) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut out = Vec::new();
    for (scope, bindings) in app.keymap.help() {
        if !out.is_empty() {
            out.push(Line::raw(""));
        }
        out.push(Line::styled(scope.title(), t.title));
        for (keys, action) in bindings {
            let keys: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
            let keys = keys.join(" ");
            out.push(Line::from(vec![
                Span::styled(format!("  {keys:<18}"), t.key),
                Span::raw(format!(" {}", describe(scope, &action))),
            ]));
        }
        if scope == Scope::Pane(Focus::Editor) {
            for (keys, what) in EDITOR_OWN_KEYS {
                out.push(Line::from(vec![
                    Span::styled(format!("  {keys:<18}"), t.key),
                    Span::raw(format!(" {what}")),
                ]));
            }
        }
    }
    out
}

/// What an action does in a scope: in the results Home and End go to the first and last
/// column, g and G to the first and last row; everywhere else they go to the top and the
/// bottom.
fn describe(scope: Scope, action: &Action) -> &'static str {
    match (scope, action) {
        // Past the last row of a result with more, the next page comes.
        (
            Scope::Pane(Focus::Results),
            Action::Move {
                motion: Motion::Down,
            },
        ) => "down; past the last row, fetch the next page",
        (
            Scope::Pane(Focus::Results),
            Action::Move {
                motion: Motion::Bottom,
            },
        ) => "to the last row; there, fetch the next page",
        (Scope::Pane(Focus::Results), _) => action.describe(),
        (Scope::Pane(Focus::Schema), Action::ClearFilter) => "clear the search",
        (
            _,
            Action::Move {
                motion: Motion::Home | Motion::Top,
            },
        ) => "to the top",
        (
            _,
            Action::Move {
                motion: Motion::End | Motion::Bottom,
            },
        ) => "to the bottom",
        _ => action.describe(),
    }
}

pub fn draw(app: &AppState, f: &mut Frame, scroll: u16) {
    let area = overlay(f.area());
    super::clear_popup(f, area);
    let close = app
        .keymap
        .hint(Scope::Help, &Action::CloseOverlay)
        .unwrap_or_else(|| "Esc".into());
    let block = Block::bordered()
        .border_style(app.theme.border_focused)
        .title(Line::styled(" Help · keys ", app.theme.title))
        .title_bottom(
            Line::styled(format!(" ↑↓ scroll · {close} close "), app.theme.dim).right_aligned(),
        );
    let text = lines(app);
    let max = text.len().saturating_sub(1) as u16;
    f.render_widget(
        Paragraph::new(text)
            .block(block)
            .scroll((scroll.min(max), 0)),
        area,
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tui::keymap::Keymap;
    use ratatui::layout::Rect;

    /// The app stops scrolling the help at the row count the keymap gives.
    #[test]
    fn the_keymap_counts_the_rows_drawn() {
        let keymap = Keymap::defaults().unwrap();
        let (app, _) = AppState::new(keymap, Rect::new(0, 0, 100, 30), std::time::Instant::now());
        assert_eq!(lines(&app).len(), app.keymap.help_rows());
        assert!(app.keymap.help_rows() > 20);
    }
}
