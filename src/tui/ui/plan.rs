//! The plan view: the statement explained, then its plan as a tree, each step with its
//! figures dimmed beside it; the engine's notes (planning time) at the end.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{fit, spinner};
use crate::core::sanitize::for_terminal;
use crate::tui::action::Action;
use crate::tui::app::AppState;
use crate::tui::keymap::Scope;
use crate::tui::layout::{inner, overlay};
use crate::tui::panes::plan::{PlanState, PlanView, tree_prefixes};
use crate::tui::panes::results::format_duration;

pub fn draw(app: &AppState, f: &mut Frame, view: &PlanView) {
    let t = &app.theme;
    let area = overlay(f.area());
    super::clear_popup(f, area);
    let hint = |action: &Action, default: &str| {
        app.keymap
            .hint(Scope::Plan, action)
            .unwrap_or_else(|| default.into())
    };
    let what = if view.analyze {
        "EXPLAIN ANALYZE"
    } else {
        "EXPLAIN"
    };
    let other = if view.analyze { "estimates" } else { "analyze" };
    let bottom = format!(
        " {} {other} · ↑↓ scroll · {} close ",
        hint(&Action::ToggleAnalyze, "a"),
        hint(&Action::CloseOverlay, "Esc")
    );
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(
            format!(" Plan · {what} · {} ", view.source),
            t.title,
        ))
        .title_bottom(Line::styled(bottom, t.dim).right_aligned());
    let body = inner(area);
    f.render_widget(block, area);
    let width = body.width as usize;
    // The statement on one line, cut to the width.
    let statement = for_terminal(
        &view
            .statement
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
    .into_owned();
    let mut lines = vec![
        fit(vec![Span::styled(statement, t.dim)], width),
        Line::raw(""),
    ];
    match &view.state {
        PlanState::Running { started, .. } => {
            let took = app.now.saturating_duration_since(*started);
            lines.push(Line::styled(
                format!("{} explaining… {}", spinner(app), format_duration(took)),
                t.dim,
            ));
        }
        PlanState::Failed(why) => {
            let head = Paragraph::new(lines);
            f.render_widget(head, body);
            let rest = ratatui::layout::Rect {
                y: body.y.saturating_add(2),
                height: body.height.saturating_sub(2),
                ..body
            };
            f.render_widget(
                Paragraph::new(why.as_str())
                    .style(t.error)
                    .wrap(Wrap { trim: false }),
                rest,
            );
            return;
        }
        PlanState::Done(plan) => {
            let depths: Vec<usize> = plan.lines.iter().map(|l| l.depth).collect();
            let steps = plan
                .lines
                .iter()
                .zip(tree_prefixes(&depths))
                .map(|(l, prefix)| {
                    let mut spans = vec![Span::styled(prefix, t.dim), Span::raw(l.text.as_str())];
                    if !l.detail.is_empty() {
                        spans.push(Span::styled(format!("  {}", l.detail), t.dim));
                    }
                    fit(spans, width)
                });
            let notes = plan.notes.iter().map(|n| Line::styled(n.as_str(), t.dim));
            lines.extend(steps.chain(notes).skip(view.scroll as usize));
        }
    }
    f.render_widget(Paragraph::new(lines), body);
}
