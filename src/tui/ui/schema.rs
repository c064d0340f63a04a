//! The schema pane: tables and their columns as a tree.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{fit, pane, progress_text, spinner};
use crate::tui::app::AppState;
use crate::tui::layout::inner;
use crate::tui::panes::Focus;
use crate::tui::panes::schema::SchemaTree;

pub fn draw(app: &AppState, f: &mut Frame, area: Rect) {
    let t = &app.theme;
    let source = app.sources.selected();
    let entry = source.and_then(|s| app.schema.get(&s.id));
    let mut title = vec![Span::raw(" Schema ")];
    // A CSV file is queried through SQLite: its SQL, not PostgreSQL's.
    if let Some(note) = source.and_then(|s| s.source_type.sql_note()) {
        title.push(Span::styled(format!("· {note} "), t.dim));
    }
    if let Some(e) = entry
        && e.pending.is_some()
    {
        title.push(Span::styled(format!("{} ", spinner(app)), t.dim));
    }
    f.render_widget(pane(app, Line::from(title), Focus::Schema), area);
    let body = inner(area);
    let Some(entry) = entry else {
        return;
    };
    if let Some(tree) = &entry.tree {
        draw_tree(app, f, body, tree);
        return;
    }
    if let Some(err) = &entry.error {
        let p = Paragraph::new(err.as_str())
            .style(t.error)
            .wrap(Wrap { trim: false });
        f.render_widget(p, body);
        return;
    }
    if let Some((_, progress)) = &entry.pending {
        let text = match progress {
            Some(p) if !p.done => progress_text(p),
            _ => "reading the schema…".to_string(),
        };
        f.render_widget(
            Paragraph::new(text).style(t.dim).wrap(Wrap { trim: false }),
            body,
        );
    }
}

fn draw_tree(app: &AppState, f: &mut Frame, body: Rect, tree: &SchemaTree) {
    let t = &app.theme;
    let focused = app.focus == Focus::Schema && app.overlay.is_none();
    let width = body.width as usize;
    let height = body.height as usize;
    let rows = tree.rows();
    // The stored offset follows the cursor; clamp it here too in case the pane shrank.
    let offset = tree
        .offset
        .min(tree.cursor)
        .max((tree.cursor + 1).saturating_sub(height.max(1)));
    let lines: Vec<Line> = rows
        .iter()
        .enumerate()
        .skip(offset)
        .take(height)
        .map(|(i, row)| {
            let table = &tree.tables[row.table];
            let spans = match row.column {
                None => {
                    let arrow = if table.expanded { "▾ " } else { "▸ " };
                    let mut s = vec![Span::raw(arrow), Span::raw(table.label.as_str())];
                    if !table.kind.is_empty() && table.kind != "table" {
                        s.push(Span::styled(format!(" {}", table.kind), t.dim));
                    }
                    s
                }
                Some(ci) => {
                    let c = &table.columns[ci];
                    let mut s = vec![
                        Span::raw("   "),
                        Span::raw(c.label.as_str()),
                        Span::styled(format!(" {}", c.type_label), t.dim),
                    ];
                    if !c.marks.is_empty() {
                        s.push(Span::raw(format!(" {}", c.marks)));
                    }
                    if let Some(comment) = &c.comment {
                        s.push(Span::styled(format!(" — {comment}"), t.dim));
                    }
                    s
                }
            };
            let line = fit(spans, width);
            if i == tree.cursor && focused {
                line.patch_style(t.selected)
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}
