//! The schema browser: each source's tables and columns as a tree, read once per source on
//! first need and kept until refreshed.

use std::collections::HashMap;

use crate::backend::protocol::RequestId;
use crate::core::ident::{qualified_in, quote_ident_in};
use crate::core::progress::Progress;
use crate::core::sanitize::{display_width, for_terminal};
use crate::core::schema::{ColumnInfo, SchemaInfo};

use super::line_input::LineInput;
use super::sources::SourceItem;
use crate::tui::layout;

/// Terminal columns one press of a width or sideways-scroll key moves.
pub const STEP: u16 = 4;

/// A column: what the tree shows and what Enter inserts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ColumnNode {
    pub label: String,
    pub type_label: String,
    /// `PK`, `not null`, `→ schema.table(column)`, as the source reports them.
    pub marks: String,
    /// The column's comment, on one line.
    pub comment: Option<String>,
    pub sql: String,
}

/// A table (or the `data` of a one-table source) with its columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableNode {
    pub label: String,
    /// `table`, `view`, …, or empty when the source does not say.
    pub kind: String,
    pub sql: String,
    pub columns: Vec<ColumnNode>,
    pub expanded: bool,
}

/// One visible line of the tree; ordered as the tree lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Row {
    pub table: usize,
    pub column: Option<usize>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SchemaTree {
    pub tables: Vec<TableNode>,
    /// Index into [`Self::rows`].
    pub cursor: usize,
    /// First visible line, kept by [`Self::scroll_to_cursor`].
    pub offset: usize,
}

/// The kind a table line names (`view`, …); a plain table names none.
pub fn table_kind(t: &TableNode) -> Option<&str> {
    (!t.kind.is_empty() && t.kind != "table").then_some(t.kind.as_str())
}

/// The keys and constraints of a column in a few characters.
fn column_marks(c: &ColumnInfo) -> String {
    let mut marks = Vec::new();
    if c.primary_key {
        marks.push("PK".to_string());
    } else if c.not_null {
        marks.push("not null".to_string());
    }
    if let Some(target) = &c.references {
        marks.push(format!("→ {}", for_terminal(target)));
    }
    marks.join(" ")
}

impl SchemaTree {
    /// Builds the tree of a source. A source with a `data` table shows it as `data` (what
    /// SQL calls it), expanded; a whole database lists its tables collapsed.
    pub fn build(info: &SchemaInfo, source: &SourceItem) -> SchemaTree {
        let columns = |cols: &[ColumnInfo]| {
            cols.iter()
                .map(|c| ColumnNode {
                    label: for_terminal(&c.name).into_owned(),
                    type_label: for_terminal(&c.type_name).into_owned(),
                    marks: column_marks(c),
                    comment: c
                        .comment
                        .as_deref()
                        .map(|text| for_terminal(text).into_owned()),
                    sql: quote_ident_in(&c.name, source.dialect).into_owned(),
                })
                .collect::<Vec<_>>()
        };
        let tables = match &info.tables {
            Some(tables) if source.whole_database => tables
                .iter()
                .map(|t| {
                    let unqualified = source.default_schema.as_deref() == Some(t.schema.as_str());
                    let (label, sql) = if unqualified {
                        (
                            t.name.clone(),
                            quote_ident_in(&t.name, source.dialect).into_owned(),
                        )
                    } else {
                        (
                            format!("{}.{}", t.schema, t.name),
                            qualified_in(&t.schema, &t.name, source.dialect),
                        )
                    };
                    TableNode {
                        label: for_terminal(&label).into_owned(),
                        kind: for_terminal(&t.about.summary().unwrap_or_else(|| t.kind.clone()))
                            .into_owned(),
                        sql,
                        columns: columns(&t.columns),
                        expanded: false,
                    }
                })
                .collect(),
            _ => vec![TableNode {
                label: "data".into(),
                kind: info
                    .about
                    .summary()
                    .map(|a| for_terminal(&a).into_owned())
                    .unwrap_or_default(),
                sql: "data".into(),
                columns: columns(&info.columns),
                expanded: true,
            }],
        };
        SchemaTree {
            tables,
            cursor: 0,
            offset: 0,
        }
    }

    /// The visible lines: every table, and the columns of expanded ones.
    pub fn rows(&self) -> Vec<Row> {
        let mut rows = Vec::new();
        for (ti, t) in self.tables.iter().enumerate() {
            rows.push(Row {
                table: ti,
                column: None,
            });
            if t.expanded {
                rows.extend((0..t.columns.len()).map(|ci| Row {
                    table: ti,
                    column: Some(ci),
                }));
            }
        }
        rows
    }

    pub fn current(&self) -> Option<Row> {
        self.rows().get(self.cursor).copied()
    }

    /// What Enter inserts for the line under the cursor.
    pub fn current_sql(&self) -> Option<&str> {
        let row = self.current()?;
        let table = self.tables.get(row.table)?;
        Some(match row.column {
            Some(ci) => &table.columns.get(ci)?.sql,
            None => &table.sql,
        })
    }

    /// Expands (`Some(true)`), collapses (`Some(false)`) or toggles (`None`) the table under
    /// the cursor; collapsing from a column collapses its table and moves onto it.
    pub fn set_expanded(&mut self, expand: Option<bool>) {
        let Some(row) = self.current() else { return };
        let Some(table) = self.tables.get_mut(row.table) else {
            return;
        };
        let want = expand.unwrap_or(!table.expanded);
        table.expanded = want;
        if !want {
            self.cursor = self
                .rows()
                .iter()
                .position(|r| r.table == row.table && r.column.is_none())
                .unwrap_or(0);
        }
    }

    /// The tables and columns whose name holds `needle` (any case), in tree order,
    /// columns of collapsed tables included.
    pub fn matches(&self, needle: &str) -> Vec<Row> {
        if needle.is_empty() {
            return Vec::new();
        }
        let needle = needle.to_lowercase();
        let hit = |label: &str| label.to_lowercase().contains(&needle);
        let mut out = Vec::new();
        for (ti, t) in self.tables.iter().enumerate() {
            if hit(&t.label) {
                out.push(Row {
                    table: ti,
                    column: None,
                });
            }
            out.extend(
                t.columns
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| hit(&c.label))
                    .map(|(ci, _)| Row {
                        table: ti,
                        column: Some(ci),
                    }),
            );
        }
        out
    }

    /// Moves the cursor to the next match of `needle` after it (`forward`) or before it,
    /// wrapping around; `here` lets the line under the cursor count (as typing narrows).
    /// A column's table is expanded to show it. False when nothing matches.
    pub fn step_to_match(
        &mut self,
        needle: &str,
        forward: bool,
        here: bool,
        height: usize,
    ) -> bool {
        let matches = self.matches(needle);
        let Some(at) = self.current() else {
            return false;
        };
        let next = if forward {
            matches
                .iter()
                .find(|m| **m > at || (here && **m == at))
                .or(matches.first())
        } else {
            matches.iter().rev().find(|m| **m < at).or(matches.last())
        };
        let Some(&row) = next else {
            return false;
        };
        if row.column.is_some()
            && let Some(t) = self.tables.get_mut(row.table)
        {
            t.expanded = true;
        }
        if let Some(i) = self.rows().iter().position(|r| *r == row) {
            self.cursor = i;
            self.scroll_to_cursor(height);
        }
        true
    }

    /// The terminal columns the widest visible line takes, as the pane draws it.
    pub fn widest_line(&self) -> u16 {
        let w = |s: &str| display_width(s);
        let width = |row: &Row| {
            let table = &self.tables[row.table];
            match row.column.and_then(|ci| table.columns.get(ci)) {
                None => {
                    let kind = table_kind(table).map_or(0, |k| 1 + w(k));
                    2 + w(&table.label) + kind
                }
                Some(c) => {
                    let marks = if c.marks.is_empty() {
                        0
                    } else {
                        1 + w(&c.marks)
                    };
                    let comment = c.comment.as_deref().map_or(0, |t| 3 + w(t));
                    3 + w(&c.label) + 1 + w(&c.type_label) + marks + comment
                }
            }
        };
        let widest = self.rows().iter().map(width).max().unwrap_or(0);
        widest.try_into().unwrap_or(u16::MAX)
    }

    /// Keeps the cursor within `height` visible lines.
    pub fn scroll_to_cursor(&mut self, height: usize) {
        let height = height.max(1);
        if self.cursor < self.offset {
            self.offset = self.cursor;
        } else if self.cursor >= self.offset + height {
            self.offset = self.cursor + 1 - height;
        }
    }
}

/// What is known of one source's schema.
#[derive(Debug, Clone, Default)]
pub struct SchemaEntry {
    pub tree: Option<SchemaTree>,
    /// A read under way, and how far its import has got.
    pub pending: Option<(RequestId, Option<Progress>)>,
    pub error: Option<String>,
}

/// `/` in the schema pane: a name to find, the cursor jumping to it as it is typed.
#[derive(Debug, Default)]
pub struct NameSearch {
    pub input: LineInput,
    /// Keys go into the search (until Enter keeps it or Esc clears it).
    pub typing: bool,
}

/// Schemas by source id, and how the pane shows them.
#[derive(Debug, Default)]
pub struct SchemaPane {
    pub entries: HashMap<String, SchemaEntry>,
    pub search: Option<NameSearch>,
    /// The left column's width as the user set it (keys or a drag); `None`: the layout's.
    pub width: Option<u16>,
    /// Terminal columns the tree's lines are scrolled to the left, so long names show.
    pub hscroll: u16,
    /// A drag of the pane's right border is under way.
    pub resizing: bool,
}

impl SchemaPane {
    /// `/`: keys type the search from now on (a kept one is typed on).
    pub fn start_search(&mut self) {
        let search = self.search.get_or_insert_with(NameSearch::default);
        search.typing = true;
        search.input.set_focused(true);
    }

    /// Enter: the search stays (for `n`/`N`), keys move the cursor again.
    pub fn keep_search(&mut self) {
        if let Some(s) = &mut self.search {
            s.typing = false;
            s.input.set_focused(false);
        }
    }

    /// Whether keys go into the search.
    pub fn searching(&self) -> bool {
        self.search.as_ref().is_some_and(|s| s.typing)
    }

    /// The text searched for; empty when there is no search.
    pub fn needle(&self) -> &str {
        self.search.as_ref().map_or("", |s| s.input.text())
    }

    /// Sets the left column's width, within what a terminal `total` wide allows.
    pub fn set_width(&mut self, width: u16, total: u16) {
        self.width = Some(layout::left_width(total, Some(width)));
    }

    pub fn get(&self, source_id: &str) -> Option<&SchemaEntry> {
        self.entries.get(source_id)
    }

    pub fn tree_mut(&mut self, source_id: &str) -> Option<&mut SchemaTree> {
        self.entries.get_mut(source_id)?.tree.as_mut()
    }

    /// Whether the schema of a source has to be read (never read, not under way).
    pub fn needs_load(&self, source_id: &str) -> bool {
        self.entries
            .get(source_id)
            .is_none_or(|e| e.tree.is_none() && e.pending.is_none() && e.error.is_none())
    }

    /// Marks a read as under way; a tree already shown stays until the new one arrives.
    pub fn start(&mut self, source_id: &str, id: RequestId) {
        let entry = self.entries.entry(source_id.to_string()).or_default();
        entry.pending = Some((id, None));
    }

    /// Stops the read under way for a source (an import Esc cancelled): the pane says so
    /// and does not start another until asked. Returns the read's id.
    pub fn cancel(&mut self, source_id: &str) -> Option<RequestId> {
        let entry = self.entries.get_mut(source_id)?;
        let (id, _) = entry.pending.take()?;
        if entry.tree.is_none() {
            entry.error = Some("import cancelled; refresh the schema to read it again".into());
        }
        Some(id)
    }

    /// Progress of an import, if `id` is a schema read under way.
    pub fn progress(&mut self, id: RequestId, progress: Progress) -> bool {
        for entry in self.entries.values_mut() {
            if let Some((pid, p)) = &mut entry.pending
                && *pid == id
            {
                *p = Some(progress);
                return true;
            }
        }
        false
    }

    /// Stores the answer of read `id`, unless a newer read replaced it.
    pub fn finish(&mut self, source_id: &str, id: RequestId, result: Result<SchemaTree, String>) {
        let Some(entry) = self.entries.get_mut(source_id) else {
            return;
        };
        if entry.pending.map(|(p, _)| p) != Some(id) {
            return;
        }
        entry.pending = None;
        match result {
            Ok(mut tree) => {
                // A refresh keeps the place: same expanded tables, cursor on the same line.
                if let Some(old) = &entry.tree {
                    for t in &mut tree.tables {
                        if let Some(o) = old.tables.iter().find(|o| o.label == t.label) {
                            t.expanded = o.expanded;
                        }
                    }
                    tree.cursor = old.cursor.min(tree.rows().len().saturating_sub(1));
                    tree.offset = old.offset;
                }
                entry.tree = Some(tree);
                entry.error = None;
            }
            Err(e) => entry.error = Some(e),
        }
    }
}
