//! The SQL editor: one text per source (switching sources keeps what was typed for each),
//! and the row limit queries run with.

use std::collections::HashMap;

use ratatui::style::{Modifier, Style};
use ratatui_textarea::{Input, TextArea};

use crate::core::guard::Dialect;
use crate::core::guard::{DEFAULT_LIMIT, MAX_LIMIT};
use crate::core::sanitize::for_clipboard;
use crate::core::splice::LineColumn;
use crate::core::statements;

use super::sources::SourceItem;

#[derive(Debug)]
pub struct EditorPane {
    texts: HashMap<String, TextArea<'static>>,
    /// What the editor holds while no source is selected (an empty registry).
    scratch: TextArea<'static>,
    /// Rows a query may return, 1–1000 (CONTRACT.md), shown beside the editor.
    pub limit: usize,
    focused: bool,
    /// Where the engine placed the last query's error: shown until that text is edited.
    mark: Option<ErrorMark>,
}

/// A cell of one source's text, as (line, character) from 0.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ErrorMark {
    source_id: Option<String>,
    row: usize,
    col: usize,
}

impl Default for EditorPane {
    fn default() -> Self {
        let mut pane = EditorPane {
            texts: HashMap::new(),
            scratch: TextArea::default(),
            limit: DEFAULT_LIMIT,
            focused: true,
            mark: None,
        };
        style(&mut pane.scratch, true);
        pane
    }
}

/// The byte offset in the joined text (lines with `\n`) of a (line, character) place.
fn byte_of(lines: &[String], (row, col): (usize, usize)) -> usize {
    let before: usize = lines.iter().take(row).map(|l| l.len() + 1).sum();
    let line = lines.get(row).map_or("", String::as_str);
    before + line.char_indices().nth(col).map_or(line.len(), |(i, _)| i)
}

/// No underline on the cursor's line; the cursor itself only shows while focused.
fn style(area: &mut TextArea<'static>, focused: bool) {
    area.set_cursor_line_style(Style::default());
    // Reversed like every selection tdb draws: no colour of its own (NO_COLOR holds).
    area.set_selection_style(Style::default().add_modifier(Modifier::REVERSED));
    area.set_cursor_style(if focused {
        Style::default().add_modifier(Modifier::REVERSED)
    } else {
        Style::default()
    });
}

/// The row limits the limit keys step through.
const LIMIT_STEPS: [usize; 7] = [1, 10, 50, 100, 200, 500, MAX_LIMIT];

impl EditorPane {
    /// The next larger limit step (the largest stays).
    pub fn raise_limit(&mut self) {
        self.limit = LIMIT_STEPS
            .into_iter()
            .find(|s| *s > self.limit)
            .unwrap_or(MAX_LIMIT);
    }

    /// The next smaller limit step (the smallest stays).
    pub fn lower_limit(&mut self) {
        self.limit = LIMIT_STEPS
            .into_iter()
            .rev()
            .find(|s| *s < self.limit)
            .unwrap_or(1);
    }

    /// Makes sure a source has its editor, starting with [`SourceItem::starter_sql`].
    pub fn ensure(&mut self, source: &SourceItem) {
        if !self.texts.contains_key(&source.id) {
            let lines = source
                .starter_sql
                .clone()
                .lines()
                .map(String::from)
                .collect();
            let mut area = TextArea::new(lines);
            // A suggestion (CONTRACT.md): selected, so the first character typed replaces
            // it, while F5 still runs it as it is.
            area.select_all();
            style(&mut area, self.focused);
            self.texts.insert(source.id.clone(), area);
        }
    }

    /// What F5 runs: the selection if there is one, or else the statement under the cursor
    /// (split as the source's dialect reads it), with where it starts in the text, so an
    /// error's place in it can be found in the editor.
    pub fn statement(
        &self,
        source_id: Option<&str>,
        dialect: Dialect,
    ) -> Option<(String, LineColumn)> {
        let area = self.area(source_id);
        let text = area.lines().join("\n");
        let (start, end) = match area.selection_range() {
            Some((from, to)) if from != to => {
                (byte_of(area.lines(), from), byte_of(area.lines(), to))
            }
            _ => {
                let ratatui_textarea::DataCursor(row, col) = area.cursor();
                let piece = statements::at(&text, dialect, byte_of(area.lines(), (row, col)))?;
                (piece.text.start, piece.text.end)
            }
        };
        let sql = text.get(start..end)?;
        let trimmed = sql.trim_start();
        let start = start + (sql.len() - trimmed.len());
        let sql = trimmed.trim_end();
        (!sql.is_empty()).then(|| (sql.to_string(), statements::line_column(&text, start)))
    }

    /// Every statement of the text in order, each with where it starts.
    pub fn statements(
        &self,
        source_id: Option<&str>,
        dialect: Dialect,
    ) -> Vec<(String, LineColumn)> {
        let text = self.text(source_id);
        statements::split(&text, dialect)
            .into_iter()
            .map(|p| {
                (
                    text[p.text.clone()].to_string(),
                    statements::line_column(&text, p.text.start),
                )
            })
            .collect()
    }

    /// Selects the whole text (what is typed next replaces it).
    pub fn select_all(&mut self, source_id: Option<&str>) {
        self.area_mut(source_id).select_all();
    }

    /// Empties the text; undo brings it back.
    pub fn clear(&mut self, source_id: Option<&str>) {
        self.replace(source_id, "");
    }

    pub fn area(&self, source_id: Option<&str>) -> &TextArea<'static> {
        source_id
            .and_then(|id| self.texts.get(id))
            .unwrap_or(&self.scratch)
    }

    fn area_mut(&mut self, source_id: Option<&str>) -> &mut TextArea<'static> {
        match source_id.and_then(|id| self.texts.get_mut(id)) {
            Some(a) => a,
            None => &mut self.scratch,
        }
    }

    /// The SQL of a source's editor.
    pub fn text(&self, source_id: Option<&str>) -> String {
        self.area(source_id).lines().join("\n")
    }

    pub fn set_focused(&mut self, focused: bool) {
        self.focused = focused;
        for area in self
            .texts
            .values_mut()
            .chain(std::iter::once(&mut self.scratch))
        {
            style(area, focused);
        }
    }

    /// Applies a key; says whether the text changed.
    pub fn input(&mut self, source_id: Option<&str>, input: Input) -> bool {
        let changed = self.area_mut(source_id).input(input);
        if changed {
            self.edited(source_id);
        }
        changed
    }

    /// Puts the cursor where the engine placed an error in the text that ran (a 1-based line
    /// and column of characters, as [`LineColumn`] counts them) and marks that cell until
    /// the text changes. A place past the text (the text changed meanwhile) is clamped.
    pub fn mark_error(&mut self, source_id: Option<&str>, at: LineColumn) {
        let area = self.area_mut(source_id);
        let lines = area.lines();
        let row = at.line.saturating_sub(1).min(lines.len().saturating_sub(1));
        let len = lines.get(row).map_or(0, |l| l.chars().count());
        let col = at.column.saturating_sub(1).min(len);
        area.cancel_selection();
        area.move_cursor(ratatui_textarea::CursorMove::Jump(
            u16::try_from(row).unwrap_or(u16::MAX),
            u16::try_from(col).unwrap_or(u16::MAX),
        ));
        self.mark = Some(ErrorMark {
            source_id: source_id.map(String::from),
            row,
            col,
        });
    }

    /// The marked error cell of a source's text, as (line, character) from 0.
    pub fn error_mark(&self, source_id: Option<&str>) -> Option<(usize, usize)> {
        self.mark
            .as_ref()
            .filter(|m| m.source_id.as_deref() == source_id)
            .map(|m| (m.row, m.col))
    }

    /// A source's text changed: a mark in it no longer points at what the engine saw.
    fn edited(&mut self, source_id: Option<&str>) {
        if self
            .mark
            .as_ref()
            .is_some_and(|m| m.source_id.as_deref() == source_id)
        {
            self.mark = None;
        }
    }

    /// Whether a source has its editor.
    pub fn has(&self, source_id: &str) -> bool {
        self.texts.contains_key(source_id)
    }

    /// Inserts text at the cursor. Pasted text is data from elsewhere: control characters
    /// other than tab and newline are dropped (the same rule as the clipboard's).
    pub fn insert(&mut self, source_id: Option<&str>, text: &str) {
        let clean = for_clipboard(text);
        self.area_mut(source_id).insert_str(clean);
        self.edited(source_id);
    }

    /// Replaces a source's text, cursor at the end, so that undo can take it back (a query
    /// recalled from the history).
    pub fn replace(&mut self, source_id: Option<&str>, text: &str) {
        let area = self.area_mut(source_id);
        area.select_all();
        if text.is_empty() {
            area.cut();
        } else {
            area.insert_str(for_clipboard(text));
        }
        self.edited(source_id);
    }

    /// Starts a source's editor over with saved text (no undo back to the starter SQL).
    pub fn load(&mut self, source_id: &str, text: &str) {
        let lines = for_clipboard(text).lines().map(String::from).collect();
        let mut area = TextArea::new(lines);
        area.move_cursor(ratatui_textarea::CursorMove::Bottom);
        area.move_cursor(ratatui_textarea::CursorMove::End);
        style(&mut area, self.focused);
        self.texts.insert(source_id.to_string(), area);
        self.edited(Some(source_id));
    }

    /// Forgets a deleted source's text.
    pub fn forget(&mut self, source_id: &str) {
        self.texts.remove(source_id);
        self.edited(Some(source_id));
    }

    /// Whether the text is what [`EditorPane::ensure`] started it with: nobody typed yet.
    pub fn untouched(&self, source: &SourceItem) -> bool {
        self.texts
            .get(&source.id)
            .is_some_and(|a| a.lines().join("\n") == source.starter_sql)
    }

    pub fn undo(&mut self, source_id: Option<&str>) -> bool {
        let changed = self.area_mut(source_id).undo();
        if changed {
            self.edited(source_id);
        }
        changed
    }

    pub fn redo(&mut self, source_id: Option<&str>) -> bool {
        let changed = self.area_mut(source_id).redo();
        if changed {
            self.edited(source_id);
        }
        changed
    }

    /// The cursor as (line, character).
    pub fn cursor(&self, source_id: Option<&str>) -> (usize, usize) {
        let ratatui_textarea::DataCursor(row, col) = self.area(source_id).cursor();
        (row, col)
    }

    /// Replaces characters `start..end` of line `row` by `text` (a completion).
    pub fn replace_in_line(
        &mut self,
        source_id: Option<&str>,
        row: usize,
        (start, end): (usize, usize),
        text: &str,
    ) {
        let area = self.area_mut(source_id);
        let to = |c: usize| {
            ratatui_textarea::CursorMove::Jump(
                u16::try_from(row).unwrap_or(u16::MAX),
                u16::try_from(c).unwrap_or(u16::MAX),
            )
        };
        area.cancel_selection();
        area.move_cursor(to(start));
        if end > start {
            area.start_selection();
            area.move_cursor(to(end));
        }
        area.insert_str(text);
        self.edited(source_id);
    }

    /// Inserts a name from the schema at the cursor, with a space first when it would
    /// otherwise run into the word before it.
    pub fn insert_name(&mut self, source_id: Option<&str>, name: &str) {
        let area = self.area_mut(source_id);
        // A name goes beside what is there, even over a selected suggestion.
        area.cancel_selection();
        let ratatui_textarea::DataCursor(row, col) = area.cursor();
        let before = col
            .checked_sub(1)
            .and_then(|c| area.lines().get(row)?.chars().nth(c));
        if before.is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '"' | '`' | ')')) {
            area.insert_char(' ');
        }
        area.insert_str(name);
        self.edited(source_id);
    }
}
