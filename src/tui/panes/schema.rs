//! The schema browser: each source's tables and columns as a tree, read once per source on
//! first need and kept until refreshed.

use std::collections::HashMap;

use crate::backend::protocol::RequestId;
use crate::core::ident::{qualified_in, quote_ident_in};
use crate::core::progress::Progress;
use crate::core::sanitize::for_terminal;
use crate::core::schema::{ColumnInfo, SchemaInfo};

use super::sources::SourceItem;

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

/// One visible line of the tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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

/// Schemas by source id.
#[derive(Debug, Default)]
pub struct SchemaPane {
    pub entries: HashMap<String, SchemaEntry>,
}

impl SchemaPane {
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
