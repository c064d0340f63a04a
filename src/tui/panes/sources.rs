//! The sources pane: every registered source, one selected. The selection decides which
//! schema the schema pane shows, which SQL the editor holds and where F5 runs.

use crate::core::sanitize::for_terminal;
use crate::core::source::{Connection, SourceRecord, SourceType, Status};
use crate::tui::fuzzy;

use super::line_input::LineInput;

/// A source as the UI shows it: every name and tag already made safe for the terminal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SourceItem {
    pub id: String,
    /// The name as stored, for titles of results and messages (shown via [`Self::label`]).
    pub name: String,
    pub label: String,
    pub source_type: SourceType,
    pub status: Status,
    pub tags: Vec<String>,
    /// A PostgreSQL source without a `table`: `data` names nothing, the schema lists tables.
    pub whole_database: bool,
    /// The schema unqualified names resolve in (PostgreSQL), so the schema browser can
    /// insert `orders` rather than `public.orders`.
    pub default_schema: Option<String>,
}

impl SourceItem {
    pub fn from_record(rec: &SourceRecord) -> SourceItem {
        let (whole_database, default_schema) = match &rec.connection {
            Connection::Postgres(pg) => (pg.table.is_none(), Some(pg.schema.clone())),
            Connection::Csv(_) => (false, None),
        };
        SourceItem {
            id: rec.id.clone(),
            name: rec.name.clone(),
            label: for_terminal(&rec.name).into_owned(),
            source_type: rec.source_type(),
            status: rec.status,
            tags: rec
                .tags
                .iter()
                .map(|t| for_terminal(t).into_owned())
                .collect(),
            whole_database,
            default_schema,
        }
    }

    /// The SQL a new editor for this source starts with: something that runs and shows
    /// data at once (the row limit beside the editor applies), or for a whole database,
    /// how to find a table.
    pub fn starter_sql(&self) -> String {
        if self.whole_database {
            format!(
                "-- {} is a whole database: its tables are in the schema pane\n\
                 -- (Enter there inserts a name here). Its tables:\n\
                 SELECT table_schema, table_name, table_type\n\
                 FROM information_schema.tables\n\
                 WHERE table_schema NOT IN ('pg_catalog', 'information_schema')\n\
                 ORDER BY 1, 2",
                self.label
            )
        } else {
            "SELECT * FROM data".to_string()
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
                        .chain(std::iter::once(s.source_type.as_str()))
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
