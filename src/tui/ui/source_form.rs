//! The add / edit source form: a label, the field and its problem on each line, then the
//! buttons and what the last test or save said.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

use super::{fit, spinner};
use crate::tui::action::Action;
use crate::tui::app::AppState;
use crate::tui::keymap::Scope;
use crate::tui::layout::{inner, overlay};
use crate::tui::panes::results::format_duration;
use crate::tui::panes::source_form::{Button, Check, Mode, Row, SourceForm, Value};
use crate::tui::wrap::word_wrap;

/// Labels are right-aligned in this many columns.
const LABEL_W: u16 = 16;
/// Lines under the fields: a blank, the buttons, two for what the test or save said.
const FOOTER: u16 = 4;

pub fn draw(app: &AppState, f: &mut Frame, form: &SourceForm) {
    let rows = form.rows();
    // As tall as the fields need (a blank line above them), at most the overlay's height.
    let most = overlay(f.area());
    let fields: Vec<_> = rows
        .iter()
        .filter_map(|r| match r {
            Row::Field(k) => Some(*k),
            Row::Button(_) => None,
        })
        .collect();
    // Inside the border: the label, the input, then the field's problem to the right edge.
    let body_w = most.width.saturating_sub(2);
    let input_w = (body_w.saturating_sub(LABEL_W + 1) * 2 / 5).clamp(12, 40);
    let message_w = body_w.saturating_sub(LABEL_W + 1 + input_w + 1) as usize;
    // A problem wraps under its field's line, so a field takes as many lines as it says.
    let problems: Vec<Vec<String>> = fields
        .iter()
        .map(|k| match form.problem(*k) {
            Some(p) if message_w > 0 => word_wrap(p, message_w),
            _ => Vec::new(),
        })
        .collect();
    let field_lines: usize = problems.iter().map(|p| p.len().max(1)).sum();
    let want = u16::try_from(field_lines)
        .unwrap_or(u16::MAX)
        .saturating_add(FOOTER + 3);
    let height = want.min(most.height);
    let area = Rect::new(
        most.x,
        most.y + (most.height - height) / 2,
        most.width,
        height,
    );
    super::clear_popup(f, area);
    let t = &app.theme;
    let title = match &form.mode {
        Mode::Add => " Add a source ".to_string(),
        Mode::Edit { label, .. } => format!(" Edit {} source · {label} ", form.source_type()),
    };
    let key = |a: Action| app.keymap.hint(Scope::Form, &a).unwrap_or_default();
    let hints = format!(
        " {} next · {} test · {} save · {} cancel ",
        key(Action::NextField),
        key(Action::TestForm),
        key(Action::SaveForm),
        key(Action::CloseOverlay),
    );
    let block = Block::bordered()
        .border_style(t.border_focused)
        .title(Line::styled(title, t.title))
        .title_bottom(Line::styled(hints, t.dim).right_aligned());
    f.render_widget(block, area);
    let mut body = inner(area);
    if body.height > FOOTER + 1 && height == want {
        body.y += 1;
        body.height -= 1;
    }
    if body.height <= FOOTER || body.width <= LABEL_W + 4 {
        return;
    }
    let room = (body.height - FOOTER) as usize;
    let message_x = body.x + LABEL_W + 1 + input_w + 1;
    let lines = |i: usize| problems[i].len().clamp(1, room);
    // Keep the field under the cursor in view when the fields do not all fit.
    let target = form.cursor.min(fields.len().saturating_sub(1));
    let mut offset = 0;
    while offset < target && (offset..=target).map(lines).sum::<usize>() > room {
        offset += 1;
    }
    let mut y = body.y;
    for (i, key) in fields.iter().enumerate().skip(offset) {
        let left = (body.y + room as u16).saturating_sub(y);
        if left == 0 {
            break;
        }
        let focused = form.current() == Some(Row::Field(*key));
        let label_style = if focused { t.key } else { t.dim };
        let label = format!("{:>w$} ", form.label(*key), w = (LABEL_W - 1) as usize);
        f.render_widget(
            Paragraph::new(Line::styled(label, label_style)),
            Rect::new(body.x, y, LABEL_W, 1),
        );
        let field = Rect::new(body.x + LABEL_W, y, input_w, 1);
        f.render_widget(Paragraph::new("").style(t.input), field);
        match form.value(*key) {
            Some(Value::Text(input)) => super::input::draw(t, f, input, field),
            Some(Value::Choice { options, index }) => {
                let choice = options.get(*index).copied().unwrap_or("");
                let style = if focused { t.selected } else { t.input };
                let line = Line::from(vec![
                    Span::styled("◂ ", t.dim),
                    Span::styled(choice, style),
                    Span::styled(" ▸", t.dim),
                ]);
                f.render_widget(Paragraph::new(line), field);
            }
            None => {}
        }
        let shown = lines(i).min(left as usize);
        for (n, row) in problems[i].iter().take(shown).enumerate() {
            f.render_widget(
                Paragraph::new(Line::styled(row.as_str(), t.error)),
                Rect::new(message_x, y + n as u16, message_w as u16, 1),
            );
        }
        y += shown as u16;
    }
    let buttons_y = body.bottom() - FOOTER + 1;
    let mut spans = vec![Span::raw(" ".repeat(LABEL_W as usize))];
    for b in Button::ALL {
        let style = if form.current() == Some(Row::Button(b)) {
            t.selected
        } else {
            t.key
        };
        spans.push(Span::styled(format!("[ {} ]", b.label()), style));
        spans.push(Span::raw("  "));
    }
    f.render_widget(
        Paragraph::new(fit(spans, body.width as usize)),
        Rect::new(body.x, buttons_y, body.width, 1),
    );
    let says = if form.discard_asked {
        Some(Line::styled(
            format!(
                "Throw away what was typed? {} again discards it; any other key goes on.",
                key(Action::CloseOverlay)
            ),
            t.warning,
        ))
    } else if form.saving.is_some() {
        Some(Line::styled(format!("{} saving…", spinner(app)), t.dim))
    } else if let Some(why) = &form.failure {
        Some(Line::styled(format!("✗ {why}"), t.error))
    } else {
        match &form.check {
            Check::Idle => None,
            Check::Running { since, .. } => Some(Line::styled(
                format!(
                    "{} testing the connection… {}",
                    spinner(app),
                    format_duration(app.now.saturating_duration_since(*since))
                ),
                t.testing,
            )),
            Check::Reachable(latency) => Some(Line::styled(
                format!("✓ reachable · {}", format_duration(*latency)),
                t.active,
            )),
            Check::Failed(why) => Some(Line::styled(format!("✗ {why}"), t.error)),
        }
    };
    if let Some(line) = says {
        f.render_widget(
            Paragraph::new(line).wrap(Wrap { trim: false }),
            Rect::new(
                body.x + LABEL_W,
                buttons_y + 1,
                body.width - LABEL_W,
                FOOTER - 2,
            ),
        );
    }
}
