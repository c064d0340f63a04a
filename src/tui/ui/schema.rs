//! The schema pane: tables and their columns as a tree.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Paragraph, Wrap};

use super::{fit, marked, pane, progress_text, skip_columns, spinner};
use crate::core::sanitize::for_terminal;
use crate::tui::app::AppState;
use crate::tui::layout::inner;
use crate::tui::panes::Focus;
use crate::tui::panes::schema::{SchemaTree, table_kind};

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
    let needle = app.schema.needle();
    let tree = entry.and_then(|e| e.tree.as_ref());
    if let Some(tree) = tree
        && !needle.is_empty()
    {
        // Which match the cursor is on: `2/5`, or `-/5` between them.
        let matches = tree.matches(needle);
        let at = tree
            .current()
            .and_then(|c| matches.iter().position(|m| *m == c))
            .map_or("-".to_string(), |i| (i + 1).to_string());
        title.push(Span::styled(format!("· {at}/{} ", matches.len()), t.dim));
    }
    f.render_widget(pane(app, Line::from(title), Focus::Schema), area);
    let mut body = inner(area);
    if let Some(search) = &app.schema.search
        && body.height > 1
    {
        // The search takes the pane's last line, as the sources' filter does.
        body.height -= 1;
        let line = Rect::new(body.x, body.bottom(), body.width, 1);
        f.render_widget(Paragraph::new(Line::styled("/", t.key)), line);
        let field = Rect::new(line.x + 1, line.y, line.width.saturating_sub(1), 1);
        if search.typing {
            super::input::draw(t, f, &search.input, field);
        } else {
            f.render_widget(Paragraph::new(for_terminal(needle).into_owned()), field);
        }
    }
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
    let needle = app.schema.needle();
    let mark = t.key.add_modifier(Modifier::UNDERLINED);
    // Never scrolled past the widest line (the tree may have changed since).
    let hscroll = app
        .schema
        .hscroll
        .min(tree.widest_line().saturating_sub(body.width)) as usize;
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
                    let mut s = vec![Span::raw(arrow)];
                    s.extend(marked(&table.label, needle, Style::default(), mark));
                    if let Some(kind) = table_kind(table) {
                        s.push(Span::styled(format!(" {kind}"), t.dim));
                    }
                    s
                }
                Some(ci) => {
                    let c = &table.columns[ci];
                    let mut s = vec![Span::raw("   ")];
                    s.extend(marked(&c.label, needle, Style::default(), mark));
                    s.push(Span::styled(format!(" {}", c.type_label), t.dim));
                    if !c.marks.is_empty() {
                        s.push(Span::raw(format!(" {}", c.marks)));
                    }
                    if let Some(comment) = &c.comment {
                        s.push(Span::styled(format!(" — {comment}"), t.dim));
                    }
                    s
                }
            };
            let line = fit(skip_columns(spans, hscroll), width);
            if i == tree.cursor && focused {
                line.patch_style(t.selected)
            } else {
                line
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), body);
}
