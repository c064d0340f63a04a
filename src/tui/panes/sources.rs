//! The sources pane: every registered source, one selected. The selection decides which
//! schema the schema pane shows, which SQL the editor holds and where F5 runs.

use std::collections::HashMap;

use super::source_info::TestRun;
use crate::core::guard::Dialect;
use crate::core::kind::Kind;
use crate::core::sanitize::for_terminal;
use crate::core::source::{SourceRecord, Status};
use crate::tui::fuzzy;

use super::line_input::LineInput;

/// A source as the UI shows it: every name and tag already made safe for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceItem {
    pub id: String,
    /// The name as stored, for titles of results and messages (shown via [`Self::label`]).
    pub name: String,
    pub label: String,
    pub source_type: Kind,
    pub status: Status,
    pub tags: Vec<String>,
    /// A database source without a `table`: `data` names nothing, the schema lists tables.
    pub whole_database: bool,
    /// The SQL a new editor for this source starts with: something that runs and shows
    /// data at once (the row limit beside the editor applies), or for a whole database,
    /// how to find a table.
    pub starter_sql: String,
    /// The schema unqualified names resolve in (PostgreSQL's `public`), so the schema browser can
    /// insert `orders` rather than `public.orders`.
    pub default_schema: Option<String>,
    /// How the source's SQL quotes names, for the names the schema browser inserts.
    pub dialect: Dialect,
}

impl SourceItem {
    pub fn from_record(rec: &SourceRecord) -> SourceItem {
        let kind = rec.connection.kind();
        let shape = kind.shape(rec.connection.stored());
        let label = for_terminal(&rec.name).into_owned();
        SourceItem {
            id: rec.id.clone(),
            name: rec.name.clone(),
            starter_sql: kind.starter_sql(rec.connection.stored(), &label),
            label,
            source_type: kind,
            status: rec.status,
            tags: rec
                .tags
                .iter()
                .map(|t| for_terminal(t).into_owned())
                .collect(),
            whole_database: shape.whole_database,
            default_schema: shape.default_schema,
            dialect: kind.policy().dialect,
        }
    }
}

/// The list and its selection.
#[derive(Debug, Default)]
pub struct SourcesPane {
    pub items: Vec<SourceItem>,
    pub selected: usize,
    /// The first list has arrived (until then the pane says it is loading).
    pub loaded: bool,
    /// Why the registry could not be read, if it could not.
    pub error: Option<String>,
    /// Narrows the list to sources whose name, type or a tag matches (typed after `/`).
    pub filter: LineInput,
    /// The filter has the keyboard.
    pub filtering: bool,
    /// The records behind the items, which the edit form starts from.
    records: Vec<SourceRecord>,
    /// Each source's tests of this session, oldest first (its detail view shows them).
    pub tests: HashMap<String, Vec<TestRun>>,
}

impl SourcesPane {
    pub fn selected(&self) -> Option<&SourceItem> {
        self.items.get(self.selected)
    }

    /// Replaces the list, keeping the same source selected when it still exists.
    pub fn set(&mut self, records: &[SourceRecord]) {
        let keep = self.selected().map(|s| s.id.clone());
        self.items = records.iter().map(SourceItem::from_record).collect();
        self.records = records.to_vec();
        self.selected = keep
            .and_then(|id| self.items.iter().position(|s| s.id == id))
            .unwrap_or(0);
        self.loaded = true;
        self.error = None;
    }

    /// Updates one source in place (its status changed).
    pub fn update(&mut self, rec: &SourceRecord) {
        if let Some(item) = self.items.iter_mut().find(|s| s.id == rec.id) {
            *item = SourceItem::from_record(rec);
        }
        if let Some(r) = self.records.iter_mut().find(|r| r.id == rec.id) {
            *r = rec.clone();
        }
    }

    /// The lines the pane wants: a source each, and the filter's while it shows.
    pub fn lines(&self) -> usize {
        self.items.len() + usize::from(self.filtering || !self.filter.text().is_empty())
    }

    pub fn record(&self, id: &str) -> Option<&SourceRecord> {
        self.records.iter().find(|r| r.id == id)
    }

    /// The indices of the items the filter lets through, in list order.
    pub fn visible(&self) -> Vec<usize> {
        let needle = self.filter.text().trim();
        self.items
            .iter()
            .enumerate()
            .filter(|(_, s)| {
                needle.is_empty()
                    || std::iter::once(s.name.as_str())
                        .chain(std::iter::once(s.source_type.name()))
                        .chain(s.tags.iter().map(String::as_str))
                        .any(|t| fuzzy::rank(needle, t).is_some())
            })
            .map(|(i, _)| i)
            .collect()
    }

    pub fn find(&self, id: &str) -> Option<&SourceItem> {
        self.items.iter().find(|s| s.id == id)
    }
}
