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
    /// First column (results) or top (lists and overlays).
    Home,
    /// Last column (results) or bottom (lists).
    End,
    /// First row (results) or top (lists and overlays).
    Top,
    /// Last row (results) or bottom (lists and overlays).
    Bottom,
}

/// What a copy takes from the result (CONTRACT.md: `y`, `Y`, `Ctrl-Y`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CopyTarget {
    Cell,
    Row,
    All,
    /// The cursor's column, every shown row.
    Column,
    /// The SQL in the editor of the selected source.
    Sql,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// Leave tdb, restoring the terminal.
    Quit,
    /// Run the statement under the editor's cursor (or the selection) on the selected source
    /// with the current row limit.
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
    /// Copy a part of the result (in the session's copy format, TSV at first) or the SQL.
    Copy { target: CopyTarget },
    /// Results: open the menu that picks the copy format for the session.
    CopyMenu,
    /// Results: open the prompt that exports the whole result to a file.
    Export,
    /// Menus, prompts, popups and confirmations: take the highlighted item or the typed
    /// answer.
    Confirm,
    /// Export prompt: the next file format (CSV, JSON, JSON lines).
    NextFormat,
    /// Export prompt: write every row of the result (the query runs again, in the
    /// background), or only the rows fetched.
    EveryRow,
    /// Results: sort the shown rows by the cursor's column: ascending, descending, off.
    Sort,
    /// A mouse button pressed at a terminal cell (0-based column and row).
    Click { x: u16, y: u16 },
    /// The mouse wheel over a terminal cell; `down` scrolls toward the end.
    Wheel { x: u16, y: u16, down: bool },
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
    /// Editor: select the whole text (what is typed next replaces it).
    SelectAll,
    /// Editor: empty the text (undo brings it back).
    ClearEditor,
    /// Run every statement of the editor in order, each into its own result tab.
    RunAll,
    /// Results: show the next result tab.
    NextTab,
    /// Results: show the previous result tab.
    PrevTab,
    /// Results: pin the tab (the next run opens a new one), or unpin it.
    PinTab,
    /// Results: close the tab.
    CloseTab,
    /// Results: type to filter the rows shown (`column:text` for one column).
    FilterRows,
    /// Sources: the selected source's detail view (record, health, history, cache).
    ShowSource,
    /// The plan of the statement under the editor's cursor (EXPLAIN), in a view.
    Explain,
    /// Plan view: run the statement with EXPLAIN ANALYZE (its real times and rows), or back.
    ToggleAnalyze,
    /// Schema: type a name to find (tables and columns); the cursor follows as typed.
    SearchNames,
    /// Schema search, cell detail: the next match.
    NextMatch,
    /// Schema search, cell detail: the previous match.
    PrevMatch,
    /// Sources and schema: make the left column wider or narrower.
    PaneWidth { wider: bool },
    /// Schema: scroll its lines sideways, so long names can be read whole.
    ScrollSideways { right: bool },
    /// The mouse moved with its button held (a border being dragged).
    Drag { x: u16, y: u16 },
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
        (
            "copy-column",
            Action::Copy {
                target: CopyTarget::Column,
            },
        ),
        (
            "copy-sql",
            Action::Copy {
                target: CopyTarget::Sql,
            },
        ),
        ("copy-menu", Action::CopyMenu),
        ("export", Action::Export),
        ("confirm", Action::Confirm),
        ("next-format", Action::NextFormat),
        ("every-row", Action::EveryRow),
        ("sort", Action::Sort),
        (
            "top",
            Action::Move {
                motion: Motion::Top,
            },
        ),
        (
            "bottom",
            Action::Move {
                motion: Motion::Bottom,
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
        ("undo", Action::Undo),
        ("redo", Action::Redo),
        ("complete", Action::Complete),
        ("history-prev", Action::HistoryPrev),
        ("history-next", Action::HistoryNext),
        ("search-history", Action::SearchHistory),
        ("set-limit", Action::SetLimit),
        ("select-all", Action::SelectAll),
        ("clear-editor", Action::ClearEditor),
        ("run-all", Action::RunAll),
        ("next-tab", Action::NextTab),
        ("prev-tab", Action::PrevTab),
        ("pin-tab", Action::PinTab),
        ("close-tab", Action::CloseTab),
        ("filter-rows", Action::FilterRows),
        ("source-info", Action::ShowSource),
        ("explain", Action::Explain),
        ("toggle-analyze", Action::ToggleAnalyze),
        ("search-names", Action::SearchNames),
        ("next-match", Action::NextMatch),
        ("prev-match", Action::PrevMatch),
        ("wider", Action::PaneWidth { wider: true }),
        ("narrower", Action::PaneWidth { wider: false }),
        ("scroll-right", Action::ScrollSideways { right: true }),
        ("scroll-left", Action::ScrollSideways { right: false }),
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
            Action::RunQuery => "run the statement under the cursor (or the selection)",
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
                Motion::Home => "to the first column",
                Motion::End => "to the last column",
                Motion::Top => "to the first row",
                Motion::Bottom => "to the last row",
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
                CopyTarget::Row => "copy the row (with its header)",
                CopyTarget::All => "copy the whole result (with its header)",
                CopyTarget::Column => "copy the column (with its name)",
                CopyTarget::Sql => "copy the editor's SQL",
            },
            Action::CopyMenu => "choose the copy format (TSV at first)",
            Action::Export => "export the result to a file (CSV, JSON, JSON lines)",
            Action::Confirm => "take it: choose, export, delete, insert, use, set",
            Action::NextFormat => "next file format",
            Action::EveryRow => "every row of the result, or the rows fetched",
            Action::Sort => "sort by the column: ↑, ↓, off (shown rows only)",
            Action::Click { .. } => "click",
            Action::Wheel { .. } => "scroll",
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
            Action::Undo => "undo",
            Action::Redo => "redo",
            Action::Complete => "complete: keywords, tables, columns",
            Action::HistoryPrev => "older query from this source's history",
            Action::HistoryNext => "newer query (then back to what was typed)",
            Action::SearchHistory => "search this source's history",
            Action::SetLimit => "type the row limit (typing replaces the old one)",
            Action::SelectAll => "select all the text",
            Action::ClearEditor => "clear the text (undo brings it back)",
            Action::RunAll => "run every statement in order, each into its own tab",
            Action::NextTab => "next result tab",
            Action::PrevTab => "previous result tab",
            Action::PinTab => "pin the tab (the next run opens a new one) or unpin it",
            Action::CloseTab => "close the result tab",
            Action::FilterRows => "filter the rows as you type (column:text for one column)",
            Action::ShowSource => "the source's record, health, history and cache",
            Action::Explain => "show the plan of the statement under the cursor (EXPLAIN)",
            Action::ToggleAnalyze => "EXPLAIN ANALYZE: run it for real times and rows, or back",
            Action::SearchNames => "find a table or column by name as you type",
            Action::NextMatch => "next match",
            Action::PrevMatch => "previous match",
            Action::PaneWidth { wider: true } => "widen the sources and schema",
            Action::PaneWidth { wider: false } => "narrow the sources and schema",
            Action::ScrollSideways { right: true } => "scroll right (long names)",
            Action::ScrollSideways { right: false } => "scroll left",
            Action::Drag { .. } => "drag",
        }
    }
}
