//! The copy-format menu and the export prompt, small boxes over the panes.

use ratatui::Frame;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

use super::fit;
use crate::core::sanitize::{display_width, for_terminal};
use crate::tui::action::{Action, CopyTarget};
use crate::tui::app::AppState;
use crate::tui::keymap::Scope;
use crate::tui::layout::centred;
use crate::tui::panes::copy::{COPY_FORMATS, CopyMenu, EXPORT_FORMATS, ExportPrompt, ExportStage};

/// `key label` pairs from the keymap, as spans joined with ` · `; actions without a key
/// are left out.
fn hints(app: &AppState, items: &[(Scope, Action, &str)]) -> Vec<Span<'static>> {
    let mut spans = Vec::new();
    for (scope, action, label) in items {
        let Some(key) = app.keymap.hint(*scope, action) else {
            continue;
        };
        if !spans.is_empty() {
            spans.push(Span::styled(" · ", app.theme.dim));
        }
        spans.push(Span::styled(key, app.theme.key));
        spans.push(Span::raw(format!(" {label}")));
    }
    spans
}

pub fn draw_menu(app: &AppState, f: &mut Frame, menu: &CopyMenu) {
    let t = &app.theme;
    let area = centred(f.area(), 48, COPY_FORMATS.len() as u16 + 6);
    super::clear_popup(f, area);
    let body = crate::tui::layout::inner(area);
    let width = body.width as usize;
    let results = Scope::Pane(crate::tui::panes::Focus::Results);
    let copy = |target| Action::Copy { target };
    let mut lines: Vec<Line> = COPY_FORMATS
        .iter()
        .enumerate()
        .map(|(i, format)| {
            let mark = if i == menu.selected { "▸ " } else { "  " };
            let current = if *format == app.copying.format {
                " (now)"
            } else {
                ""
            };
            let line = Line::from(vec![
                Span::raw(format!("{mark}{}", format.label())),
                Span::styled(current, t.dim),
            ]);
            if i == menu.selected {
                line.patch_style(t.selected)
            } else {
                line
            }
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(fit(
        hints(
            app,
            &[
                (results, copy(CopyTarget::Cell), "cell"),
                (results, copy(CopyTarget::Row), "row"),
                (results, copy(CopyTarget::Column), "column"),
            ],
        ),
        width,
    ));
    lines.push(fit(
        hints(
            app,
            &[
                (results, copy(CopyTarget::All), "all"),
                (Scope::Global, copy(CopyTarget::Sql), "the SQL"),
            ],
        ),
        width,
    ));
    let bottom = hints(
        app,
        &[
            (Scope::CopyMenu, Action::Confirm, "choose"),
            (Scope::CopyMenu, Action::CloseOverlay, "close"),
        ],
    );
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(" Copy as ", t.title))
        .title_bottom(Line::from(pad(bottom)).right_aligned());
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// Spans with a space either side, for a title in a border.
fn pad(mut spans: Vec<Span<'static>>) -> Vec<Span<'static>> {
    if !spans.is_empty() {
        spans.insert(0, Span::raw(" "));
        spans.push(Span::raw(" "));
    }
    spans
}

pub fn draw_export(app: &AppState, f: &mut Frame, p: &ExportPrompt) {
    let t = &app.theme;
    let area = centred(f.area(), 72, 6);
    super::clear_popup(f, area);
    let body = crate::tui::layout::inner(area);
    let width = body.width as usize;
    let rows = match p.rows {
        _ if p.every_row => "every row".to_string(),
        1 => "1 row".to_string(),
        n => format!("{n} rows"),
    };
    let lines = match &p.stage {
        ExportStage::Editing => {
            let mut formats = vec![Span::styled("Format ", t.dim)];
            for (i, format) in EXPORT_FORMATS.iter().enumerate() {
                if i > 0 {
                    formats.push(Span::styled(" · ", t.dim));
                }
                let style = if *format == p.format {
                    t.selected
                } else {
                    ratatui::style::Style::new()
                };
                formats.push(Span::styled(format!(" {} ", format.label()), style));
            }
            // Past the rows fetched, the choice of every row (the query runs again).
            let rows_line = match (p.more, p.every_row) {
                (false, _) => Line::raw(""),
                (true, false) => fit(
                    vec![Span::styled(
                        format!("only the {rows} fetched; more exist"),
                        t.dim,
                    )],
                    width,
                ),
                (true, true) => fit(
                    vec![Span::styled(
                        "every row: the query runs again in the background",
                        t.dim,
                    )],
                    width,
                ),
            };
            let mut keys = vec![
                (Scope::Export, Action::Confirm, "export"),
                (Scope::Export, Action::NextFormat, "format"),
            ];
            if p.more {
                let label = if p.every_row {
                    "fetched rows"
                } else {
                    "every row"
                };
                keys.push((Scope::Export, Action::EveryRow, label));
            }
            keys.push((Scope::Export, Action::CloseOverlay, "cancel"));
            vec![
                field(app, p, width),
                fit(formats, width),
                rows_line,
                fit(hints(app, &keys), width),
            ]
        }
        ExportStage::ConfirmOverwrite { shown } => vec![
            fit(
                vec![Span::styled(shown.clone(), t.title), Span::raw(" exists.")],
                width,
            ),
            Line::raw("Replace it?"),
            Line::raw(""),
            fit(
                vec![
                    Span::styled("y", t.key),
                    Span::raw(" replace · "),
                    Span::styled("n", t.key),
                    Span::raw(" change the name · "),
                    Span::styled(
                        app.keymap
                            .hint(Scope::Export, &Action::CloseOverlay)
                            .unwrap_or_else(|| "Esc".into()),
                        t.key,
                    ),
                    Span::raw(" cancel"),
                ],
                width,
            ),
        ],
    };
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(format!(" Export {rows} to a file "), t.title));
    f.render_widget(Paragraph::new(lines).block(block), area);
}

/// `File  orders.csv█`: the name with the cursor, its start cut with `…` when it is longer
/// than the box, so the cursor always shows.
fn field<'a>(app: &AppState, p: &'a ExportPrompt, width: usize) -> Line<'a> {
    let t = &app.theme;
    let label = "File   ";
    let text = p.input.text();
    let split = text
        .char_indices()
        .nth(p.input.cursor())
        .map_or(text.len(), |(i, _)| i);
    let before = for_terminal(&text[..split]).into_owned();
    let mut rest = text[split..].chars();
    let at = rest.next().map_or(" ".to_string(), |c| {
        for_terminal(c.encode_utf8(&mut [0; 4])).into_owned()
    });
    let after = for_terminal(rest.as_str()).into_owned();
    let room = width.saturating_sub(label.len() + display_width(&at));
    let before = if display_width(&before) > room {
        let mut kept: Vec<char> = Vec::new();
        let mut used = 1; // the `…`
        for c in before.chars().rev() {
            let w = display_width(c.encode_utf8(&mut [0; 4]));
            if used + w > room {
                break;
            }
            used += w;
            kept.push(c);
        }
        format!("…{}", kept.into_iter().rev().collect::<String>())
    } else {
        before
    };
    fit(
        vec![
            Span::styled(label, t.dim),
            Span::raw(before),
            Span::styled(at, t.cursor),
            Span::raw(after),
        ],
        width,
    )
}
