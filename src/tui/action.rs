//! Everything that can happen to the UI's state, as one enum. Keys become actions through
//! the keymap, so tests drive the app with the same values a person's keys produce.

use std::time::Instant;

use ratatui_textarea::Input;

/// A cursor or selection move inside the focused pane or overlay.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Motion {
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    /// First column (results) or top (lists).
    Home,
    /// Last column (results) or bottom (lists).
    End,
}

/// What a copy takes from the result (CONTRACT.md: `y`, `Y`, `Ctrl-Y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyTarget {
    Cell,
    Row,
    All,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave tdb, restoring the terminal.
    Quit,
    /// Run the editor's SQL on the selected source with the current row limit.
    RunQuery,
    /// Cancel the running query on the server.
    CancelQuery,
    /// Focus the next pane: sources, schema, editor, results.
    FocusNext,
    /// Focus the previous pane.
    FocusPrev,
    /// Raise the row limit to the next step (1, 10, 50, 100, 200, 500, 1000).
    LimitUp,
    /// Lower the row limit to the previous step.
    LimitDown,
    /// Open the help overlay listing every key.
    OpenHelp,
    /// Close the overlay on top (help or cell detail).
    CloseOverlay,
    /// Move the cursor of the focused pane or overlay.
    Move { motion: Motion },
    /// Sources: put the focus in the editor of the selected source.
    EditSql,
    /// Sources: check that the selected source can be reached.
    TestSource,
    /// Sources: read the list of sources again from the registry.
    ReloadSources,
    /// Schema: expand the table under the cursor.
    Expand,
    /// Schema: collapse the table under the cursor (or the one holding the column).
    Collapse,
    /// Schema: expand or collapse the table under the cursor.
    Toggle,
    /// Schema: insert the table or column name at the editor's cursor, quoted if needed.
    InsertName,
    /// Schema: read the selected source's schema again.
    RefreshSchema,
    /// Results: show the whole value of the cell under the cursor.
    OpenCell,
    /// Results: copy the cell, the row or the whole result to the clipboard as TSV.
    Copy { target: CopyTarget },
    /// A key the editor handles itself (typing, moving, deleting).
    EditorInput { input: Input },
    /// Text pasted into the terminal (bracketed paste), for the editor.
    Paste { text: String },
    /// The terminal has a new size.
    Resize { width: u16, height: u16 },
    /// Time passed; spinners and elapsed times move on.
    Tick { now: Instant },
    /// Sources: open the form that adds a source.
    AddSource,
    /// Sources: open the form that edits the selected source.
    EditSource,
    /// Sources: ask to delete the selected source.
    DeleteSource,
    /// Sources: type to narrow the list.
    FilterSources,
    /// Filter: empty it and stop typing.
    ClearFilter,
    /// Filter: keep it and go back to the list.
    KeepFilter,
    /// Form: the next field or button.
    NextField,
    /// Form: the previous field or button.
    PrevField,
    /// Form: the next field, or press the button under the cursor.
    FormEnter,
    /// Form: save the source.
    SaveForm,
    /// Form: test the connection with the values typed.
    TestForm,
    /// Confirmation, completion, history search, limit prompt: take what is highlighted.
    Accept,
    /// Editor: undo the last change.
    Undo,
    /// Editor: redo what was undone.
    Redo,
    /// Editor: complete the word before the cursor.
    Complete,
    /// Editor: the previous (older) query of this source's history.
    HistoryPrev,
    /// Editor: the next (newer) query, and at the end what was typed.
    HistoryNext,
    /// Editor: search this source's history.
    SearchHistory,
    /// Editor: type the row limit.
    SetLimit,
}

impl Action {
    /// The actions a key can be bound to, by the names the keymap file uses.
    pub const BINDABLE: &[(&'static str, Action)] = &[
        ("quit", Action::Quit),
        ("run-query", Action::RunQuery),
        ("cancel-query", Action::CancelQuery),
        ("focus-next", Action::FocusNext),
        ("focus-prev", Action::FocusPrev),
        ("limit-up", Action::LimitUp),
        ("limit-down", Action::LimitDown),
        ("help", Action::OpenHelp),
        ("close", Action::CloseOverlay),
        ("up", Action::Move { motion: Motion::Up }),
        (
            "down",
            Action::Move {
                motion: Motion::Down,
            },
        ),
        (
            "left",
            Action::Move {
                motion: Motion::Left,
            },
        ),
        (
            "right",
            Action::Move {
                motion: Motion::Right,
            },
        ),
        (
            "page-up",
            Action::Move {
                motion: Motion::PageUp,
            },
        ),
        (
            "page-down",
            Action::Move {
                motion: Motion::PageDown,
            },
        ),
        (
            "home",
            Action::Move {
                motion: Motion::Home,
            },
        ),
        (
            "end",
            Action::Move {
                motion: Motion::End,
            },
        ),
        ("edit-sql", Action::EditSql),
        ("test-source", Action::TestSource),
        ("reload-sources", Action::ReloadSources),
        ("expand", Action::Expand),
        ("collapse", Action::Collapse),
        ("toggle", Action::Toggle),
        ("insert-name", Action::InsertName),
        ("refresh-schema", Action::RefreshSchema),
        ("open-cell", Action::OpenCell),
        (
            "copy-cell",
            Action::Copy {
                target: CopyTarget::Cell,
            },
        ),
        (
            "copy-row",
            Action::Copy {
                target: CopyTarget::Row,
            },
        ),
        (
            "copy-all",
            Action::Copy {
                target: CopyTarget::All,
            },
        ),
        ("add-source", Action::AddSource),
        ("edit-source", Action::EditSource),
        ("delete-source", Action::DeleteSource),
        ("filter-sources", Action::FilterSources),
        ("clear-filter", Action::ClearFilter),
        ("keep-filter", Action::KeepFilter),
        ("next-field", Action::NextField),
        ("prev-field", Action::PrevField),
        ("form-enter", Action::FormEnter),
        ("save-form", Action::SaveForm),
        ("test-form", Action::TestForm),
        ("accept", Action::Accept),
        ("undo", Action::Undo),
        ("redo", Action::Redo),
        ("complete", Action::Complete),
        ("history-prev", Action::HistoryPrev),
        ("history-next", Action::HistoryNext),
        ("search-history", Action::SearchHistory),
        ("set-limit", Action::SetLimit),
    ];

    /// The bindable action named `name` in a keymap file.
    pub fn from_name(name: &str) -> Option<Action> {
        Self::BINDABLE
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, a)| a.clone())
    }

    /// What the help overlay says the action does.
    pub fn describe(&self) -> &'static str {
        match self {
            Action::Quit => "quit, restoring the terminal",
            Action::RunQuery => "run the editor's SQL on the selected source",
            Action::CancelQuery => "cancel the running query on the server",
            Action::FocusNext => "next pane: sources, schema, editor, results",
            Action::FocusPrev => "previous pane",
            Action::LimitUp => "raise the row limit",
            Action::LimitDown => "lower the row limit",
            Action::OpenHelp => "this help",
            Action::CloseOverlay => "close",
            Action::Move { motion } => match motion {
                Motion::Up => "up",
                Motion::Down => "down",
                Motion::Left => "left",
                Motion::Right => "right",
                Motion::PageUp => "page up",
                Motion::PageDown => "page down",
                Motion::Home => "to the first (column)",
                Motion::End => "to the last (column)",
            },
            Action::EditSql => "edit SQL for the selected source",
            Action::TestSource => "test the connection (updates the status)",
            Action::ReloadSources => "reload the source list",
            Action::Expand => "expand the table",
            Action::Collapse => "collapse the table",
            Action::Toggle => "expand or collapse the table",
            Action::InsertName => "insert the name at the editor's cursor",
            Action::RefreshSchema => "read the schema again",
            Action::OpenCell => "show the whole value of the cell",
            Action::Copy { target } => match target {
                CopyTarget::Cell => "copy the cell to the clipboard",
                CopyTarget::Row => "copy the row (TSV, with header)",
                CopyTarget::All => "copy the whole result (TSV, with header)",
            },
            Action::EditorInput { .. } => "edit the SQL",
            Action::Paste { .. } => "paste into the editor",
            Action::Resize { .. } => "resize",
            Action::Tick { .. } => "tick",
            Action::AddSource => "add a source (a form)",
            Action::EditSource => "edit the selected source",
            Action::DeleteSource => "delete the selected source (asks first)",
            Action::FilterSources => "filter the list as you type",
            Action::ClearFilter => "clear the filter",
            Action::KeepFilter => "keep the filter, back to the list",
            Action::NextField => "next field",
            Action::PrevField => "previous field",
            Action::FormEnter => "next field, or press the button",
            Action::SaveForm => "save the source",
            Action::TestForm => "test the connection with these values",
            Action::Accept => "take it (yes, insert, use, set)",
            Action::Undo => "undo",
            Action::Redo => "redo",
            Action::Complete => "complete: keywords, tables, columns",
            Action::HistoryPrev => "older query from this source's history",
            Action::HistoryNext => "newer query (then back to what was typed)",
            Action::SearchHistory => "search this source's history",
            Action::SetLimit => "type the row limit",
        }
    }
}
